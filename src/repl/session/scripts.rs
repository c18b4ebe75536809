//! The commands of scripts: `wait ...`, `expect`, `try` and `save` (the journal as a
//! scenario file).

use std::sync::Arc;

use super::{DEFAULT_WAIT_US, ExecError, Outcome, Session, fmt_now};
use crate::cluster::kv::{KvOp, KvOutput};
use crate::cluster::{ClientOutcome, ClockMode, ClusterView, ViewLimits};
use crate::repl::command::{Command, Condition, SafetyRule, format_duration};
use crate::repl::condition;
use crate::repl::scenario::{Header, scenario_yaml};
use crate::repl::view;
use crate::repl::words::describe_outcome;

impl Session {
    pub(super) fn wait_leader(&mut self, within_us: Option<u64>) -> Result<Outcome, ExecError> {
        self.wait(Condition::Leader { node: None }, within_us, "wait leader")
    }

    pub(super) fn wait_commit(
        &mut self,
        index: u64,
        within_us: Option<u64>,
    ) -> Result<Outcome, ExecError> {
        let what = format!("wait commit {index}");
        let committed = Arc::new(move |view: &ClusterView| {
            view.leader
                .and_then(|l| view.node(l))
                .is_some_and(|n| n.commit >= index)
        });
        let within = within_us.unwrap_or(DEFAULT_WAIT_US);
        let held = self
            .cluster
            .wait_until(within, ViewLimits::least(), committed)?;
        self.report_wait(held, &what, within, &Condition::Leader { node: None })
    }

    pub(super) fn wait_until(
        &mut self,
        condition: &Condition,
        within_us: Option<u64>,
    ) -> Result<Outcome, ExecError> {
        self.wait(condition.clone(), within_us, "wait until")
    }

    fn wait(
        &mut self,
        condition: Condition,
        within_us: Option<u64>,
        what: &str,
    ) -> Result<Outcome, ExecError> {
        if condition
            == (Condition::Violation {
                rule: Some(SafetyRule::Linearizability),
            })
        {
            return Err(ExecError::NotBuilt(
                "waiting for a linearizability violation (use `check` or `expect`)",
            ));
        }
        let within = within_us.unwrap_or(DEFAULT_WAIT_US);
        let (test, limits) = (condition.clone(), condition::limits(&condition));
        let held = self.cluster.wait_until(
            within,
            limits,
            Arc::new(move |view| condition::holds(view, &test)),
        )?;
        self.report_wait(held, what, within, &condition)
    }

    pub(super) fn report_wait(
        &self,
        held: bool,
        what: &str,
        within: u64,
        condition: &Condition,
    ) -> Result<Outcome, ExecError> {
        let now = fmt_now(&self.cluster)?;
        let view = self.cluster.view(condition::limits(condition))?;
        let actual = condition::actual(&view, condition);
        if held {
            return Ok(Outcome::text(format!("{what}: held at t={now} ({actual})")));
        }
        let within = format_duration(within);
        Ok(Outcome::failed(format!(
            "{what}: not within {within} (t={now}; {actual})"
        )))
    }

    pub(super) fn expect(&mut self, condition: &Condition) -> Result<Outcome, ExecError> {
        if matches!(condition, Condition::Safe | Condition::Violation { .. }) {
            return self.expect_safety(condition);
        }
        if let Condition::Get { key, value } = condition {
            return self.expect_get(key, value);
        }
        let view = self.cluster.view(condition::limits(condition))?;
        let (held, actual) = (
            condition::holds(&view, condition),
            condition::actual(&view, condition),
        );
        let line = Command::Expect {
            condition: condition.clone(),
        }
        .to_string();
        Ok(mark(held, &line, &actual))
    }

    /// `expect get K == V`: a linearizable read through the log.
    pub(super) fn expect_get(&mut self, key: &str, value: &str) -> Result<Outcome, ExecError> {
        let line = format!(
            "expect {}",
            Condition::Get {
                key: key.to_string(),
                value: value.to_string()
            }
        );
        if self.cluster.mode()? == ClockMode::Paused {
            return self.expect_get_paused(key, value, &line);
        }
        let result = self.cluster.request(
            KvOp::Get {
                key: key.to_string(),
            },
            None,
        )?;
        let (held, actual) = match &result.outcome {
            ClientOutcome::Done {
                output: KvOutput::Value(v),
                ..
            } => (
                v.as_deref() == Some(value),
                format!("{key} is {}", v.as_deref().unwrap_or("absent")),
            ),
            other => (false, describe_outcome(other)),
        };
        Ok(mark(held, &line, &actual))
    }

    /// A paused clock cannot run a read to its end. The read is still sent (so the log is
    /// the same as where the expectation came from, such as a saved session), and the
    /// value is judged from the leader's state machine now.
    pub(super) fn expect_get_paused(
        &mut self,
        key: &str,
        value: &str,
        line: &str,
    ) -> Result<Outcome, ExecError> {
        self.cluster.submit(
            KvOp::Get {
                key: key.to_string(),
            },
            None,
        )?;
        let condition = Condition::Get {
            key: key.to_string(),
            value: value.to_string(),
        };
        let view = self.cluster.view(condition::limits(&condition))?;
        let (held, actual) = (
            condition::holds(&view, &condition),
            condition::actual(&view, &condition),
        );
        let line = format!("{line} (paused: judged by the leader's state machine)");
        Ok(mark(held, &line, &actual))
    }

    pub(super) fn attempt(&mut self, command: &Command) -> Outcome {
        match self.dispatch(command) {
            Ok(outcome) if outcome.passed => outcome,
            Ok(outcome) => Outcome::text(format!("{} (failure accepted by try)", outcome.text)),
            Err(error) => Outcome::text(format!("error: {error} (accepted by try)")),
        }
    }

    /// `save FILE`: the session as a scenario file (see [`Session::scenario_text`]).
    pub(super) fn save(&self, file: &str) -> Result<Outcome, ExecError> {
        let (steps, runs) = self.scenario_steps();
        let text = self.scenario_text();
        std::fs::write(file, text)
            .map_err(|e| ExecError::Io(format!("cannot write {file}: {e}")))?;
        let steps = view::count(steps.len(), "step", "steps");
        let commands = view::count(self.journal.len(), "command", "commands");
        let runs = view::count(runs, "run step", "run steps");
        let paused = match self.first_paused_at {
            Some(at) if at < self.journal.len() => " and a `pause` where the session paused",
            _ => "",
        };
        Ok(Outcome::text(format!(
            "saved {steps} to {file}: {commands}, with {runs} for the time between them{paused}"
        )))
    }

    /// The journal as a scenario file, with `run` steps for the time between commands.
    /// It is on a virtual clock, where client commands and waits run the clock in the
    /// replay as they did in the session (in real time or virtual), with a `pause` step
    /// where the session first paused; on a paused clock if the session began paused.
    pub fn scenario_text(&self) -> String {
        let (steps, _) = self.scenario_steps();
        let clock = match self.config.clock {
            ClockMode::Paused => ClockMode::Paused,
            ClockMode::Virtual | ClockMode::Realtime => ClockMode::Virtual,
        };
        let header = Header {
            name: "saved-session".to_string(),
            description: "A REPL session saved with `save`.".to_string(),
            clock,
        };
        scenario_yaml(&header, &self.config, &steps)
    }

    /// The journal as scenario steps, with `run` steps for the time between commands and
    /// a `pause` step where the session was first paused; and how many `run` steps it
    /// added.
    fn scenario_steps(&self) -> (Vec<String>, usize) {
        let mut steps = Vec::new();
        let mut runs = 0;
        let mut clock_us = 0;
        for (position, entry) in self.journal.iter().enumerate() {
            if self.first_paused_at == Some(position) {
                steps.push("pause".to_string());
            }
            if entry.time_us > clock_us {
                steps.push(format!("run {}", format_duration(entry.time_us - clock_us)));
                runs += 1;
            }
            steps.push(entry.command.to_string());
            clock_us = entry.end_us;
        }
        (steps, runs)
    }
}

pub(super) fn mark(held: bool, line: &str, actual: &str) -> Outcome {
    if held {
        Outcome::text(format!("✓ {line}"))
    } else {
        Outcome::failed(format!("✗ {line}: {actual}"))
    }
}
