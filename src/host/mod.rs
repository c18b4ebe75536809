//! Hosting other programs: `raftlab host` runs N copies of anyone's node, speaking
//! Maelstrom's protocol, behind raftlab's network model, with clients whose history the
//! linearizability checker reads; `raftlab node` is the project's own such node.
//!
//! The room holds:
//!
//! - [`protocol`]: JSON lines to typed messages and back (`{src, dest, body}`, `init`,
//!   `msg_id`/`in_reply_to`, the error codes); a line it cannot read is an error value.
//! - [`child`]: a process owned by a guard that kills it on drop, with reader threads for
//!   its stdout and stderr and a writer thread for its stdin, all on bounded channels.
//! - [`run`]: the one scheduler loop, in real time: it reads every child's lines, routes
//!   node-to-node messages through [`crate::cluster::network::Network`] (delay, loss,
//!   duplication, reordering, partitions, one-way cuts), runs the clients and the nemesis,
//!   and ends with the summary ([`summary`]).
//! - [`clients`]: the lin-kv and echo workloads, and the history they record.
//! - [`node`] and [`wire`]: the project's node, [`crate::raft::RaftProcessor`] driven by
//!   stdin, stdout and the process clock, and Raft's messages as Maelstrom bodies.
//!
//! - [`control`]: driving a hosted cluster by hand: hold messages and deliver or drop one,
//!   cut links, kill, restart, stop and continue processes, one client operation at a
//!   chosen node.
//! - [`session`]: the project's command language on a hosted cluster (the REPL's parser
//!   and table; what only the built-in cluster can do answers one line that says why).
//! - [`shell`]: the front-ends: the REPL's editor (`--interactive`), piped lines, and the
//!   live view (`--watch`, `watch`), which draws [`view`]'s picture of the host.
//!
//! The programs run in real time on real processes: a program's own clock goes on while
//! raftlab holds its messages, so holding messages is not stopping time.

pub mod child;
pub mod clients;
pub mod control;
pub mod node;
pub mod protocol;
pub mod run;
pub mod scenario;
pub mod session;
pub mod shell;
pub mod summary;
pub mod view;
pub mod wire;

use std::io::Write;

use thiserror::Error;

pub use node::NodeArgs;
pub use run::HostArgs;

/// The marker of the optional state line a node may write on stderr: the marker, a
/// space, and a JSON object such as `{"role":"leader","term":3,"commit":17}`.
pub const STATE_MARKER: &str = "raftlab-state";

/// Writes one line on stderr and lets a failed write go. A hosted run ignores SIGPIPE (a
/// dead child's pipe must not end raftlab), so `eprintln!` would panic on a closed stderr
/// (`raftlab host ... 2>&1 | head -1`); a live line that cannot be shown must not cost the
/// run its summary and its exit status.
pub fn tell(line: std::fmt::Arguments) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Writes on stdout and lets a failed write go, for the same reason as [`tell`]: the run
/// goes on, stops its children and keeps its exit status.
pub fn say(text: std::fmt::Arguments) {
    let _ = write!(std::io::stdout(), "{text}");
}

/// What stops a hosted run before it starts.
#[derive(Debug, Error)]
pub enum HostError {
    #[error("cannot start {program}: {error}")]
    Spawn { program: String, error: String },
    #[error("no program to host: give one after `--`, e.g. `raftlab host -- raftlab node`")]
    NoProgram,
    #[error("bad option: {0}")]
    Option(String),
    #[error("cannot write {path}: {error}")]
    Write { path: String, error: String },
}
