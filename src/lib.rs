//! raftlab: a Raft cluster playground and REPL.
//!
//! Dependencies point one way: [`repl`] drives [`cluster`], which drives [`raft`].
//! [`raft`] is the pure Raft state machine; [`cluster`] runs nodes on threads behind a
//! simulated network and a controllable clock, and returns data and events; [`repl`]
//! parses the command language and renders what the cluster returns. [`check`] runs
//! randomized fault-injection checks on [`cluster`] and writes failing runs as scenarios;
//! [`explore`] model-checks the [`raft`] core within bounds, every interleaving.

pub mod check;
pub mod cluster;
pub mod digest;
pub mod explore;
pub mod host;
pub mod lincheck;
pub mod raft;
pub mod repl;
