//! The commands of time: the clock's mode and speed, `run`, `step`, and the messages
//! handled by hand (`deliver`, `drop`, `dup`); and `back`, which rebuilds the cluster and
//! replays the journal.

use super::{ExecError, Journalled, NOTHING_SCHEDULED, Session, fmt_now};
use crate::cluster::{ClockMode, Cluster, ClusterConfig, ClusterError};
use crate::repl::command::TraceLevel;
use crate::repl::view;

impl Session {
    pub(super) fn set_trace_level(&mut self, level: TraceLevel) -> String {
        self.trace = level;
        format!("trace {level}")
    }

    pub(super) fn pause(&mut self) -> Result<String, ExecError> {
        if self.config.clock != ClockMode::Paused {
            self.first_paused_at.get_or_insert(self.journal.len());
        }
        self.cluster.set_mode(ClockMode::Paused)?;
        Ok(format!("paused at t={}", fmt_now(&self.cluster)?))
    }

    pub(super) fn resume(&self) -> Result<String, ExecError> {
        self.cluster.set_mode(ClockMode::Realtime)?;
        Ok(format!(
            "running in real time from t={}",
            fmt_now(&self.cluster)?
        ))
    }

    pub(super) fn speed(&self, factor: f64) -> Result<String, ExecError> {
        self.cluster.set_speed(factor)?;
        Ok(format!("speed {factor}"))
    }

    pub(super) fn run_for(&self, duration_us: u64) -> Result<String, ExecError> {
        self.cluster.run_for(duration_us)?;
        Ok(format!("t={}", fmt_now(&self.cluster)?))
    }

    pub(super) fn drop_message(&self, msg: u64) -> Result<String, ExecError> {
        self.cluster.drop_message(msg)?;
        Ok(format!("#{msg} dropped"))
    }

    pub(super) fn duplicate(&self, msg: u64) -> Result<String, ExecError> {
        let copy = self.cluster.duplicate(msg)?;
        Ok(format!("#{msg} duplicated as #{copy}"))
    }

    pub(super) fn step(&mut self, count: u64) -> Result<String, ExecError> {
        let mut text = String::new();
        for _ in 0..count {
            match self.cluster.step()? {
                Some(report) => text.push_str(&self.report_text(&report)),
                None => {
                    text.push_str(NOTHING_SCHEDULED);
                    break;
                }
            }
        }
        Ok(text)
    }

    /// Rebuilds the cluster and replays all but the last `count` journalled commands.
    pub(super) fn back(&mut self, count: u64) -> Result<String, ExecError> {
        let mode = self.cluster.mode()?;
        if mode == ClockMode::Realtime {
            return Err(ClusterError::ClockRunning("back").into());
        }
        let keep = self.journal.len().saturating_sub(count as usize);
        // The clock stays as it is now (paused or virtual): if it was first paused in what
        // is undone, the commands from here on still run paused.
        self.first_paused_at = self.first_paused_at.map(|at| at.min(keep));
        let final_point = self
            .journal
            .iter()
            .nth(keep)
            .map(|j| (j.time_us, j.handoffs));
        let config = ClusterConfig {
            clock: ClockMode::Paused,
            ..self.config.clone()
        };
        let mut rebuilt = Cluster::start(config)?;
        rebuilt.set_interrupt(self.interrupt.clone())?;
        rebuilt.set_run_position(self.progress.position.clone())?;
        let old = std::mem::replace(&mut self.cluster, rebuilt);
        let journal = std::mem::take(&mut self.journal);
        self.forget_history();
        (self.claimed, self.linearizability_broken) = (0, false);
        let replayed = self.replay(journal.iter().take(keep), final_point);
        // Whoever watched the old cluster's events (the REPL's live printer, piped
        // input) goes on with the new one's, from here on: the replay is not shown again.
        old.hand_subscribers_to(&self.cluster)?;
        drop(old);
        replayed?;
        self.cluster.set_mode(mode)?;
        let replayed = view::count(self.journal.len(), "command", "commands");
        Ok(format!(
            "back to t={} ({replayed} replayed)",
            fmt_now(&self.cluster)?
        ))
    }

    /// Replays journal entries on a rebuilt cluster, each after as many hand-offs as it
    /// came after, then runs to the point `back` returns to.
    pub(super) fn replay(
        &mut self,
        entries: impl Iterator<Item = Journalled>,
        final_point: Option<(u64, u64)>,
    ) -> Result<(), ExecError> {
        for entry in entries {
            self.replay_to(entry.handoffs, entry.time_us)?;
            let _ = self.execute(&entry.command);
        }
        if let Some((time_us, handoffs)) = final_point {
            self.replay_to(handoffs, time_us)?;
        }
        Ok(())
    }

    /// Runs the scheduler until it has made `handoffs` hand-offs, then sets the clock.
    pub(super) fn replay_to(&self, handoffs: u64, time_us: u64) -> Result<(), ExecError> {
        Ok(self.cluster.replay_to(handoffs, time_us)?)
    }
}
