//! The command language: the words a user types, and nothing that runs them.
//!
//! One command language serves the interactive REPL, piped stdin and the steps of scenario
//! files. A line is read in two steps, as ripgrep turns `LowArgs` into `HiArgs`:
//! [`parse::parse`] checks the syntax alone and gives a typed [`command::Command`] (or
//! `None` for a blank line or a `# comment`); [`command::Command::check_nodes`] then checks
//! the node ids it names against the cluster. Neither runs anything: executing a command is
//! the session's job ([`super::session`]), on top of `cluster`.
//!
//! [`table::COMMANDS`] is the one table of commands: parsing dispatches through it, and
//! `help` ([`table::help_overview`], [`table::help_command`]) and completion
//! ([`crate::repl::complete::complete`], [`crate::repl::complete::usage_hint`]) are made
//! from it, so they cannot drift apart. `Display` on a command writes its canonical line,
//! and parsing that line gives the same command back (a property test holds this), which
//! is how a session is saved as a scenario file.
//!
//! Choices where the design is silent:
//!
//! - Words: keys, values and file names are one word, or a double-quoted string with `\"`
//!   and `\\` as its only escapes (`put greeting "hello world"`). A quoted word is never a
//!   keyword. `say` takes the rest of the line as written, quotes included.
//! - Comments: only whole lines (`# ...`); a `#` later in a line is an ordinary character.
//! - Nodes: `3`, `n3` or `leader`; ids start at 1 (`n0` is a syntax error). Canonical form
//!   and completion use plain numbers. `add` needs an id (not `leader`) that is not yet in
//!   the cluster; conditions also take `all`.
//! - Durations: `us` (or `µs`), `ms`, `s`, a bare number is ms; the decimal is read exactly
//!   into whole microseconds, so anything finer than 1us, negative, or above `u64::MAX` us
//!   is an error. Printed in the largest exact unit (`1.5s` prints as `1500ms`).
//! - Numbers: `speed` and probabilities are plain decimals (no sign, exponent, `inf` or
//!   `NaN`); speed > 0, probability in 0..=1.
//! - `partition` needs two or more non-empty groups; nodes are separated by commas and/or
//!   spaces, and a node (including `leader`) may appear once. `cut`/`link` accept `A->B`
//!   with or without spaces and refuse the same node on both ends.
//! - `set-log NODE -` (or `none`) sets an empty log; terms are 1..=2^32-1 and
//!   non-decreasing.
//! - `net delay D..D` and `export FILE FROM..TO` are one word (no spaces around `..`).
//! - `step`/`back` take a count >= 1 (default 1); `events` an optional count.
//! - `help net` / `help wait` show every `net ...` / `wait ...` command.
//! - `try try ...` is refused (and so never recurses deeply).
//! - Flags: `status --json`, `log -v --json` (in any order among the nodes); canonical form
//!   writes `-v` then `--json` before the nodes.
//! - `status` takes nodes as `log` does, and both take `all`: above
//!   [`crate::repl::view::SUMMARY_ABOVE_NODES`] nodes, `status` and `log` with no node
//!   named summarise (`status --json` never does), and `all` asks for every row however
//!   many; `all` and named nodes together are a syntax error.
//! - `export FILE` picks what to write by FILE's extension (`.svg`, `.json`, `.jsonl`; any
//!   other is a syntax error, so a scenario fails before it runs); `export log FILE.svg
//!   [NODE...]` is a command of its own. A file called `log` cannot be exported to, so
//!   `export log ...` is never ambiguous.
//!
//! Rooms: `table.rs` and `table/entries.rs` (the one table of commands and conditions),
//! `token.rs` (words and quoting), `parse.rs` and `parse_net_client_script.rs` (a parse
//! function per command), `command.rs` (the typed commands, and their canonical lines),
//! `resolve.rs` (node ids checked against the cluster), `error.rs` (the two kinds of
//! error: syntax, and nodes that do not exist).

pub mod command;
mod error;
pub mod parse;
mod parse_net_client_script;
mod resolve;
pub mod table;
pub mod token;
