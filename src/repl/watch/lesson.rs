//! A lesson (a scenario file) played as slides.
//!
//! The steps run one at a time through the session, exactly as `raftlab run` runs them,
//! so the cluster goes through the same hand-offs and its trace is the same. Between two
//! steps the view holds the picture for as long as the step's cluster time takes at the
//! chosen speed (bounded, so that a class neither waits long nor misses a step); a
//! `say:` or `pause:` is shown in the story pane and held until a key is pressed. An
//! `expect` or `wait` is shown with ✓ or ✗. Going back a step plays the lesson again from
//! its start on a new cluster up to the step before, which a virtual clock makes exact.
//!
//! A step that only lets time pass (`run`, `wait ...`) is shown as it happens: the clock
//! is run a frame's worth of cluster time at a time (the wall time of a frame times the
//! speed), with the wait's own condition checked after every hand-off, so the run stops
//! at the very hand-off a single `wait` would stop at. The step itself then runs (a wait
//! that already holds takes no time), and the trace is the one `raftlab run` makes.

use std::sync::Arc;
use std::time::Duration;

use crate::cluster::{ClockMode, ClusterView, ViewLimits};
use crate::repl::command::{Command, Condition};
use crate::repl::condition;
use crate::repl::scenario::{Scenario, StepKind};
use crate::repl::session::{ExecError, Outcome, Session};
use crate::repl::words::fmt_ms;

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

/// A condition a wait stops at, checked after every hand-off, with how much of the
/// cluster's picture it reads.
type Test = (ViewLimits, Arc<dyn Fn(&ClusterView) -> bool + Send + Sync>);

/// A `run` or `wait` step being shown as its time passes.
#[derive(Clone)]
pub struct Pending {
    command: Command,
    line: String,
    until_us: u64,
    test: Test,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pending({} until {}us)", self.line, self.until_us)
    }
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
    /// The `run` or `wait` step whose time is passing, if any.
    pub pending: Option<Pending>,
    /// The speed the lesson is shown at (cluster time to wall time).
    pub speed: f64,
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
            pending: None,
            speed: 1.0,
        }
    }

    /// Whether every step has been played.
    pub fn done(&self) -> bool {
        self.next >= self.scenario.steps.len()
    }

    /// Plays the next step against `session`, at `speed` for its hold. With `animate`, a
    /// step that lets time pass only starts: [`Lesson::advance`] moves it on.
    pub fn play_next(
        &mut self,
        session: &mut Session,
        speed: f64,
        animate: bool,
    ) -> Result<(), ExecError> {
        if self.pending.is_some() {
            return self.advance(session, Duration::from_secs(3600), f64::MAX);
        }
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
        let line = step.line.clone();
        let before_us = session.cluster().now_us()?;
        if animate
            && session.cluster().mode()? != ClockMode::Realtime
            && let Some((within_us, test)) = time_passing(&command)
        {
            let until_us = before_us.saturating_add(within_us);
            self.pending = Some(Pending {
                command,
                line,
                until_us,
                test,
            });
            return Ok(());
        }
        let result = session.execute(&command);
        self.finish(session, line, result, before_us, speed)
    }

    /// Moves a `run` or `wait` step on by `wall` of wall time at `speed`; at its end (the
    /// condition holds or the time is up), runs the step itself.
    pub fn advance(
        &mut self,
        session: &mut Session,
        wall: Duration,
        speed: f64,
    ) -> Result<(), ExecError> {
        let Some(pending) = self.pending.clone() else {
            return Ok(());
        };
        let now_us = session.cluster().now_us()?;
        let chunk_us = ((wall.as_secs_f64() * speed * 1e6) as u64).max(1);
        let chunk_us = chunk_us.min(pending.until_us.saturating_sub(now_us));
        let (limits, test) = pending.test.clone();
        let held = session.cluster().wait_until(chunk_us, limits, test)?;
        let now_us = session.cluster().now_us()?;
        if !held && now_us < pending.until_us {
            return Ok(());
        }
        self.pending = None;
        let result = match (&pending.command, held) {
            (Command::Run { .. }, _) => Ok(Outcome {
                text: format!("ran until t={}", fmt_ms(now_us)),
                passed: true,
                quit: false,
            }),
            (_, true) => session.execute(&pending.command),
            (_, false) => Ok(Outcome {
                text: format!("{}: did not hold by t={}", pending.line, fmt_ms(now_us)),
                passed: false,
                quit: false,
            }),
        };
        self.hold = HOLD_MIN;
        self.finish(session, pending.line, result, now_us, speed)
    }

    fn finish(
        &mut self,
        session: &mut Session,
        line: String,
        result: Result<Outcome, ExecError>,
        before_us: u64,
        speed: f64,
    ) -> Result<(), ExecError> {
        let after_us = session.cluster().now_us()?;
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
        again.speed = self.speed;
        while again.next < target {
            again.play_next(session, 1.0, false)?;
        }
        again.held = again.narration.is_some() && target > 0;
        *self = again;
        Ok(())
    }
}

/// For a step that only lets time pass: how long at most, and when it stops early.
fn time_passing(command: &Command) -> Option<(u64, Test)> {
    const DEFAULT_WAIT_US: u64 = 5_000_000;
    let holds = |condition: Condition| -> Test {
        let limits = condition::limits(&condition);
        (
            limits,
            Arc::new(move |view| condition::holds(view, &condition)),
        )
    };
    match command {
        Command::Run { duration_us } => Some((
            *duration_us,
            (ViewLimits::least(), Arc::new(|_: &ClusterView| false)),
        )),
        Command::WaitLeader { within_us } => Some((
            within_us.unwrap_or(DEFAULT_WAIT_US),
            holds(Condition::Leader { node: None }),
        )),
        Command::WaitUntil {
            condition,
            within_us,
        } if !matches!(condition, Condition::Violation { .. }) => Some((
            within_us.unwrap_or(DEFAULT_WAIT_US),
            holds(condition.clone()),
        )),
        _ => None,
    }
}

/// Whether a step's line checks something (its ✓ or ✗ is shown).
fn is_check(line: &str) -> bool {
    let word = line.split_whitespace().next().unwrap_or_default();
    matches!(word, "expect" | "wait" | "check")
}
