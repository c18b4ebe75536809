//! The renderers: the cluster's data as text and pictures.
//!
//! Everything here reads data the cluster hands out (its status, logs, events, the
//! [`crate::cluster::ClusterView`], the reports of `check`, `bench` and `experiment`) and
//! returns text or a picture; nothing here changes the cluster or runs a command.
//!
//! - [`words`]: the cluster's events, outcomes, violations and times in words: the one
//!   place where the cluster's data becomes wording (`src/cluster` returns values).
//! - [`view`]: the text views of the REPL (`status`, `log`, `net`, `msgs`, `timers`, ...).
//! - [`export`]: the pictures and traces (`export`: SVG sequence diagrams and slides,
//!   Chrome traces, JSON Lines; `status --json` and `log --json`).
//! - [`check_output`]: `raftlab check`'s options, progress bar and report.
//! - [`bench_output`]: what `raftlab bench` and `raftlab experiment` print.

pub mod bench_output;
pub mod check_output;
pub mod export;
pub mod view;
pub mod words;
