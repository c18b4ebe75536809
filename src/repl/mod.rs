//! The command language, the REPL and scenario files: raftlab's front half, on top of
//! [`crate::cluster`].
//!
//! The rooms show the flow. A line of text goes through the **language**
//! ([`language`]: the one command table, the tokenizer, the parser, the node check, the
//! typed [`command::Command`]) into the **session** ([`session`]), which executes it
//! against the cluster and keeps the journal `save` and `back` need. The **renderers**
//! ([`render`]: the text views, the cluster's events and outcomes in words, the SVG, JSON
//! and trace exports, what `check`, `bench` and `experiment` print) read the data the
//! cluster hands out and return text; they never change anything. The **front-ends**
//! ([`front`]: the rustyline shell and its completion, piped input, the live view
//! `watch/`, the scenario files and their runner) drive a session and show what the
//! renderers make.
//!
//! The arrows point one way: a front-end uses the session and the renderers; the session
//! uses the language, the renderers and the cluster; the renderers use the language's
//! types; the language uses none of the others. One arrow goes against the flow: `save`
//! (the session) writes its journal in the scenario format (`front/scenario/write.rs`).
//! The modules are also re-exported here under their old names (`repl::command`,
//! `repl::view`, ...), so that paths outside `src/repl` did not change with the move.

pub mod front;
pub mod language;
pub mod render;
pub mod session;
#[cfg(test)]
mod tests;

pub use front::{complete, editor, scenario, shell, watch};
pub use language::{command, parse, table, token};
pub use render::{bench_output, check_output, export, view, words};
pub use session::condition;
