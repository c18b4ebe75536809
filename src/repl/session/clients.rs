//! The clients' commands (`put`, `append`, `get`, `del`, `cas`): on a running clock they
//! wait for the answer; on a paused one they are sent and answered as time advances.

use super::{ExecError, Journalled, Outcome, Session};
use crate::cluster::{ClientOutcome, ClockMode};
use crate::repl::command::{ClientOp, Command, NodeRef, parse};
use crate::repl::words::{describe_result, fmt_ms};

impl Session {
    pub(super) fn client(
        &mut self,
        op: &ClientOp,
        via: Option<NodeRef>,
    ) -> Result<Outcome, ExecError> {
        let request = op.clone();
        self.keys.insert(request.key().to_string());
        let via = via.map(|n| self.node(n)).transpose()?;
        if self.cluster.mode()? == ClockMode::Paused {
            let op = self.cluster.submit(request, via)?;
            return Ok(Outcome::text(format!(
                "op {op} sent; it completes as time advances"
            )));
        }
        let result = self.cluster.request(request.clone(), via)?;
        let text = describe_result(&request, &result.outcome);
        let latency = format!(" in {}", fmt_ms(result.latency_us));
        match result.outcome {
            ClientOutcome::Done { .. } => Ok(Outcome::text(text + &latency)),
            _ => Ok(Outcome::failed(text)),
        }
    }

    /// Sends a client command without waiting for its answer, which comes as time runs
    /// (the live view's `w` on a running clock, where waiting would stop the picture).
    /// It is journalled as the REPL's own would be, so that `save` and `back` keep it.
    pub fn send_client(&mut self, line: &str) -> Result<crate::cluster::OpId, ExecError> {
        let command = match parse(line)? {
            Some(command @ Command::Client { .. }) => command,
            _ => return Err(ExecError::Io(format!("'{line}' is not a client command"))),
        };
        command.check_nodes(&self.cluster.hosted()?)?;
        let Command::Client { op, via } = &command else {
            return Err(ExecError::Io(format!("'{line}' is not a client command")));
        };
        let via = via.map(|n| self.node(n)).transpose()?;
        self.keys.insert(op.key().to_string());
        let (time_us, handoffs) = self.cluster.position()?;
        let id = self.cluster.submit(op.clone(), via)?;
        self.journal.push(Journalled {
            time_us,
            end_us: time_us,
            handoffs,
            command,
        });
        self.take_history_now_and_then()?;
        Ok(id)
    }
}
