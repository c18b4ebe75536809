//! The command language, the REPL and scenario files.
//!
//! [`command`] holds the typed [`Command`](command::Command) and its canonical text;
//! [`parse`] turns a line into one; [`table`] is the one table of commands that parsing,
//! `help` and completion ([`complete`]) are made from.

pub mod command;
pub mod complete;
mod error;
pub mod parse;
mod parse_more;
mod resolve;
pub mod table;
pub mod token;

#[cfg(test)]
mod tests;
