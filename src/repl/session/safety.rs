//! Safety during a session: the checker's violations, judged as the module documentation
//! of [`super`] says; `check`, and `expect safe` / `expect violation [RULE]`, which also
//! check the clients' history for linearizability.

use std::fmt::Write;

use super::scripts::mark;
use super::{ExecError, Outcome, Session};
use crate::cluster::ViewLimits;
use crate::cluster::checker::operations;
use crate::cluster::linearizability::{SearchBudget, Verdict, WINDOW_OPS, WindowedHistory};
use crate::repl::command::{Command, Condition, SafetyRule};
use crate::repl::condition;

impl Session {
    /// The violations no `expect violation` has claimed: a run that ends with any fails
    /// (see the module documentation).
    pub fn violations_unexpected(&self) -> Result<u64, ExecError> {
        let count = self.violation_count()?;
        Ok(count.saturating_sub(self.claimed) + u64::from(self.linearizability_broken))
    }

    pub(super) fn violation_count(&self) -> Result<u64, ExecError> {
        Ok(self.cluster.view(ViewLimits::least())?.violation_count())
    }

    pub(super) fn bugs_on(&self) -> bool {
        !self.config.raft.bugs.is_empty()
    }

    /// Fails the outcome of a command during which a violation appeared, unless a
    /// teaching bug is on.
    pub(super) fn judge_violations(
        &self,
        before: u64,
        mut outcome: Outcome,
    ) -> Result<Outcome, ExecError> {
        let new = self.violation_count()?.saturating_sub(before);
        if new > 0 && !self.bugs_on() {
            outcome.passed = false;
            if !outcome.text.is_empty() && !outcome.text.ends_with('\n') {
                outcome.text.push('\n');
            }
            let _ = write!(
                outcome.text,
                "✗ {new} safety violation(s) during this command (see `check`)"
            );
        }
        Ok(outcome)
    }

    /// Checks the clients' history so far (the windows already taken out of the cluster,
    /// then what the cluster still holds); a violation found is the session's until an
    /// `expect violation` claims it.
    pub(super) fn linearizability(&mut self) -> Result<Verdict, ExecError> {
        let rest = operations(&self.cluster.history()?);
        let verdict = self.history.verdict(&rest);
        if matches!(verdict, Verdict::Violation(_)) {
            self.linearizability_broken = true;
        }
        Ok(verdict)
    }

    /// Starts the clients' history afresh, for a rebuilt cluster (`back`).
    pub(super) fn forget_history(&mut self) {
        self.history = WindowedHistory::new(SearchBudget::default(), WINDOW_OPS);
        (self.history_taken, self.history_taken_at) = (0, 0);
    }

    /// `check`: the checker's findings, then the linearizability of the history.
    pub(super) fn check(&mut self) -> Result<Outcome, ExecError> {
        let view = self.cluster.view(ViewLimits::least())?;
        let count = view.violation_count();
        let mut text = match count {
            0 => format!(
                "safety: every rule held over {} node steps\n",
                view.steps_checked
            ),
            n => format!("safety: {n} violation(s)\n"),
        };
        for violation in &view.violations {
            let time = crate::repl::words::fmt_ms(violation.time_us);
            let _ = writeln!(text, "{time:>10}  {violation}");
        }
        let operations = self.history_taken + self.cluster.history()?.len();
        let verdict = self.linearizability()?;
        match &verdict {
            Verdict::Linearizable => {
                let operations = crate::repl::view::count(operations, "operation", "operations");
                let _ = writeln!(text, "linearizability: held over {operations}");
            }
            Verdict::Violation(violation) => {
                let _ = writeln!(text, "linearizability violated: {violation}");
            }
            Verdict::Unknown { key, steps } => {
                let _ = writeln!(
                    text,
                    "linearizability: undecided (the search of key {key} stopped after \
                     {steps} steps)"
                );
            }
        }
        let broken = count > 0 || matches!(verdict, Verdict::Violation(_));
        Ok(if broken && !self.bugs_on() {
            Outcome::failed(text)
        } else {
            Outcome::text(text)
        })
    }

    /// `expect safe` and `expect violation [RULE]`: the checker's findings, and for
    /// `safe`, `violation` and `violation linearizability` the history's linearizability.
    pub(super) fn expect_safety(&mut self, condition: &Condition) -> Result<Outcome, ExecError> {
        let line = Command::Expect {
            condition: condition.clone(),
        }
        .to_string();
        let view = self.cluster.view(condition::limits(condition))?;
        let (held, mut actual) = (
            condition::holds(&view, condition),
            condition::actual(&view, condition),
        );
        let rule = match condition {
            Condition::Violation { rule } => *rule,
            _ => None,
        };
        let history_matters = match condition {
            Condition::Safe => held,
            Condition::Violation { rule: None } => !held,
            _ => rule == Some(SafetyRule::Linearizability),
        };
        let mut held = held;
        if history_matters {
            let verdict = self.linearizability()?;
            let broken = matches!(verdict, Verdict::Violation(_));
            held = if condition == &Condition::Safe {
                !broken
            } else {
                broken
            };
            actual = match verdict {
                Verdict::Violation(violation) => format!("linearizability violated: {violation}"),
                _ => "the history is linearizable (or undecided)".to_string(),
            };
        }
        if held && matches!(condition, Condition::Violation { .. }) {
            self.claimed = self.violation_count()?;
            self.linearizability_broken = false;
        }
        Ok(mark(held, &line, &actual))
    }
}
