//! Integration tests of the cluster layer, one file per behaviour, each test named after
//! the rule it checks. Every test but `realtime` runs in virtual time: no sleeps, and the
//! same seed gives the same run.

mod support;

mod bad_input;
mod crash;
mod determinism;
mod digest;
mod election;
mod failover;
mod lossy;
mod membership;
mod one_way;
mod partition;
mod realtime;
mod restart;
