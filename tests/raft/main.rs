//! Tests of the Raft core, `raftlab::raft`, one file per behaviour.
//!
//! Each test is named after the rule it checks and cites the section of the Raft paper
//! (Ongaro and Ousterhout, "In Search of an Understandable Consensus Algorithm", 2014)
//! where the rule comes from, in the manner of etcd's `raft_paper_test.go`. Every test
//! runs on the deterministic [`harness`]: no threads, no sleeps, no wall clock.

mod harness;

mod election;
mod figure7;
mod figure8;
mod lease_read;
mod membership;
mod prevote;
mod read_index;
mod replication;
mod restart;
mod safety_random;
mod snapshot;
mod transfer;
