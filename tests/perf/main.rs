//! Tests of the performance commands: the election experiment's trials in virtual time
//! (deterministic, so exact), and `raftlab bench` and `raftlab experiment` through the
//! binary, asserting only the shape of what they print, never a speed.

mod cli;
mod election;
