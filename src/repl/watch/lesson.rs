//! A lesson (a scenario file) played as slides.
//!
//! The steps run one at a time through the session, exactly as `raftlab run` runs them,
//! so the cluster goes through the same hand-offs and its trace is the same. Between two
//! steps the view holds the picture for as long as the step's cluster time takes at the
//! chosen speed (bounded, so that a class neither waits long nor misses a step); a
//! `say:` or `pause:` is shown in the story pane and held until a key is pressed. An
//! `expect` or `wait` is shown with ✓ or ✗. Going back a step plays the lesson again from
//! its start on a new cluster up to the step before, which a virtual clock makes exact.

use std::time::Duration;

use crate::repl::scenario::{Scenario, StepKind};
use crate::repl::session::{ExecError, Session};

/// The shortest and longest a played step is held before the next one, in wall time.
const HOLD_MIN: Duration = Duration::from_millis(600);
const HOLD_MAX: Duration = Duration::from_secs(6);
/// How many played lines the story pane keeps.
const PLAYED_KEPT: usize = 200;

/// One line of what the lesson has played: a command and its outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Played {
    pub line: String,
    /// `None` for a command that checks nothing; else whether its check held.
    pub check: Option<bool>,
    /// The command's answer, if it printed one.
    pub text: String,
}

/// A lesson being played.
#[derive(Clone, Debug)]
pub struct Lesson {
    pub scenario: Scenario,
    /// The next step to play.
    pub next: usize,
    /// The narration on screen, held until a key while `held`.
    pub narration: Option<String>,
    pub held: bool,
    /// What the steps played so far printed, oldest first.
    pub played: Vec<Played>,
    /// How long the current step is held before the next plays by itself.
    pub hold: Duration,
    /// Whether steps play by themselves (space stops and starts them).
    pub auto: bool,
}

impl Lesson {
    pub fn new(scenario: Scenario) -> Lesson {
        Lesson {
            scenario,
            next: 0,
            narration: None,
            held: false,
            played: Vec::new(),
            hold: HOLD_MIN,
            auto: true,
        }
    }

    /// Whether every step has been played.
    pub fn done(&self) -> bool {
        self.next >= self.scenario.steps.len()
    }

    /// Plays the next step against `session`, at `speed` for its hold.
    pub fn play_next(&mut self, session: &mut Session, speed: f64) -> Result<(), ExecError> {
        let Some(step) = self.scenario.steps.get(self.next) else {
            return Ok(());
        };
        self.next += 1;
        let command = match &step.kind {
            StepKind::Say(text) | StepKind::Pause(text) => {
                self.narration = Some(text.clone());
                self.held = true;
                return Ok(());
            }
            StepKind::Command(command) => command.clone(),
        };
        self.held = false;
        let before_us = session.cluster().now_us()?;
        let result = session.execute(&command);
        let after_us = session.cluster().now_us()?;
        let line = step.line.clone();
        let checks = is_check(&line);
        let played = match result {
            Ok(outcome) => Played {
                check: checks.then_some(outcome.passed),
                text: outcome.text.trim_end().to_string(),
                line,
            },
            Err(error) => Played {
                check: Some(false),
                text: format!("error: {error}"),
                line,
            },
        };
        self.push(played);
        let wall = (after_us - before_us) as f64 / 1e6 / speed.max(1e-6);
        self.hold = Duration::from_secs_f64(wall.min(HOLD_MAX.as_secs_f64())).max(HOLD_MIN);
        Ok(())
    }

    fn push(&mut self, played: Played) {
        if self.played.len() == PLAYED_KEPT {
            self.played.remove(0);
        }
        self.played.push(played);
    }

    /// Goes back one step: a new cluster, and every step before the last one played again.
    pub fn back(&mut self, session: &mut Session) -> Result<(), ExecError> {
        let target = self.next.saturating_sub(1);
        *session = Session::new(self.scenario.config.clone())?;
        let mut again = Lesson::new(self.scenario.clone());
        while again.next < target {
            again.play_next(session, 1.0)?;
        }
        again.held = again.narration.is_some() && target > 0;
        *self = again;
        Ok(())
    }
}

/// Whether a step's line checks something (its ✓ or ✗ is shown).
fn is_check(line: &str) -> bool {
    let word = line.split_whitespace().next().unwrap_or_default();
    matches!(word, "expect" | "wait" | "check")
}
