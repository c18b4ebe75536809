//! What a front-end drives: a cluster that runs command lines and shows its picture.
//! The REPL's [`Session`] is one (the built-in cluster); a hosted cluster is another
//! ([`crate::host::session::HostSession`]). The live view drives either through this
//! trait, so that it draws a hosted cluster with the same code and its keys run the same
//! command lines.

use std::fmt::Display;
use std::time::Duration;

use crate::cluster::{ClusterView, OpId};
use crate::repl::command::TraceLevel;
use crate::repl::session::{ExecError, Outcome, Session};

/// A cluster driven by command lines.
pub trait Driven {
    type Error: Display;

    /// Runs one line of the command language.
    fn run_line(&mut self, line: &str) -> Result<Outcome, Self::Error>;

    /// The cluster's picture now, with the events after the first `events_after`.
    fn capture(&self, events_after: u64) -> Result<ClusterView, Self::Error>;

    /// Which events the story tells.
    fn trace(&self) -> TraceLevel;

    /// Sends a client command without waiting for its answer (which comes as an event);
    /// the operation's id.
    fn send_client(&mut self, line: &str) -> Result<OpId, Self::Error>;

    /// The front-end is about to wait up to `wait` for its user: a cluster that runs only
    /// while it is driven runs meanwhile. How long the front-end should still wait.
    fn idle(&mut self, wait: Duration) -> Duration {
        wait
    }

    /// The REPL's session, for what only it has (lessons).
    fn session(&mut self) -> Option<&mut Session> {
        None
    }
}

impl Driven for Session {
    type Error = ExecError;

    fn run_line(&mut self, line: &str) -> Result<Outcome, ExecError> {
        Session::run_line(self, line)
    }

    fn capture(&self, events_after: u64) -> Result<ClusterView, ExecError> {
        super::capture(self, events_after)
    }

    fn trace(&self) -> TraceLevel {
        Session::trace(self)
    }

    fn send_client(&mut self, line: &str) -> Result<OpId, ExecError> {
        Session::send_client(self, line)
    }

    fn session(&mut self) -> Option<&mut Session> {
        Some(self)
    }
}
