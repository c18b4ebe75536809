//! The front-ends: what reads a user's input, drives a [`Session`](super::session::Session)
//! and shows what the renderers make.
//!
//! - [`shell`]: the REPL loops, interactive on a terminal (with the live trace printer)
//!   and line by line when stdin is piped.
//! - [`editor`] and [`complete`]: the rustyline glue, and completion and hints made from
//!   the command table.
//! - [`watch`]: the live view, full-screen in the terminal.
//! - [`scenario`]: scenario files, their format, loading and checking, and the runner
//!   that plays them (`raftlab run`).

pub mod complete;
pub mod editor;
pub mod scenario;
pub mod shell;
pub mod watch;
