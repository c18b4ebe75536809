//! Tests of the command language: golden parses, error messages, help, completion, a fuzz
//! run and the Display round trip; and the session's safety checks.

mod completion;
mod errors;
mod fuzz;
mod golden;
mod handoff_bound;
mod help;
mod round_trip;
mod safety;

use super::command::{Command, parse};

/// Parses a line that must be a command.
fn cmd(line: &str) -> Command {
    match parse(line) {
        Ok(Some(c)) => c,
        other => panic!("{line:?} gave {other:?}"),
    }
}

/// The message of a line that must fail to parse.
fn err(line: &str) -> String {
    match parse(line) {
        Err(e) => e.to_string(),
        other => panic!("{line:?} should fail, gave {other:?}"),
    }
}
