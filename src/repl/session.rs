//! A session: a cluster and the commands run against it, from the REPL, piped input or
//! a scenario file. Every command goes through [`Session::run_line`] or
//! [`Session::execute`]; the result is text to show, and whether it passed.
//!
//! This file holds the session, the journal and `dispatch`, which hands each command to
//! its handler. The handlers live by concern: `look` (`status`, `log`, `kv`, `events`,
//! `help`), `time` (the clock, `step`, `back`), `faults` (nodes, links, the network's
//! settings, and the Raft commands), `clients`, `scripts` (`wait`, `expect`, `try`,
//! `save`), `safety` (violations, `check`), `exporting` and `slides`.
//!
//! The session keeps a journal of the commands that change the cluster, each with the
//! cluster time it ran at and the scheduler's hand-off count before it. `save` writes the
//! journal as a scenario file on a virtual clock, where client commands and waits run the
//! clock as they did in the session, with `run` steps for the time that passed between
//! commands, so that even a session that began in real time replays; from the session's
//! first `pause` on (or from the start, for one that began paused), on a paused clock.
//! `back N` rebuilds the cluster and replays the journal but its last N entries, exactly:
//! it runs the same number of hand-offs before each command.
//! The journal keeps each command as its line and a few bytes of numbers (`journal.rs`),
//! so that a session of millions of commands stays small.
//!
//! The clients' history is not kept whole either: every so many commands the session takes
//! the finished operations out of the cluster into a [`WindowedHistory`], which checks them
//! key by key in windows and keeps only what the rest of the check needs; `check` and
//! `expect safe` ask it for the verdict on everything so far.
//!
//! # Safety violations
//!
//! The cluster's checker holds the Raft safety rules after every hand-off; `check`,
//! `expect safe` and `expect violation linearizability` also check the clients' history
//! for linearizability. The rule for a run with a violation:
//!
//! - Without a teaching bug, a violation is a bug in raftlab: the command during which it
//!   appeared fails (as does a `check` that finds one), and so the run fails.
//! - With a teaching bug on, the lesson means to break something: no command fails for
//!   it, but every violation must be expected. An `expect violation [RULE]` that holds
//!   claims every violation found so far (a bug's first violation usually brings others
//!   with it); [`Session::violations_unexpected`] counts those not claimed, and a run that
//!   ends with any fails (the piped REPL and the scenario runner ask it at the end).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use thiserror::Error;

use crate::cluster::{Cluster, ClusterConfig, ClusterError, NodeState, ViewLimits};
use crate::raft::NodeId;

use super::command::{Command, Condition, NodeRef, ParseError, ResolveError, TraceLevel, parse};
use super::view;
use crate::cluster::checker::operations;
use crate::cluster::linearizability::{SearchBudget, WINDOW_OPS, WindowedHistory};
use journal::{Journal, Journalled};
use look::help;

mod clients;
pub mod condition;
mod exporting;
mod faults;
mod journal;
mod look;
mod progress;
mod safety;
mod scripts;
mod slides;
mod time;

/// How long `wait` waits when the command does not say.
const DEFAULT_WAIT_US: u64 = 5_000_000;
/// The most steps one `step N` takes.
const STEPS_PER_COMMAND_LIMIT: u64 = 100_000;
/// What `step` says when there is nothing left to do.
const NOTHING_SCHEDULED: &str = "nothing is scheduled\n";
/// How many events `events` shows when the command does not say.
const DEFAULT_EVENTS: u64 = 20;
/// How many journalled commands go by between two takings of the clients' finished
/// operations out of the cluster, into the windows of the session's history.
const TAKE_HISTORY_EVERY: usize = 1024;
/// What `watch` says where it cannot run.
const WATCH_ELSEWHERE: &str = "`watch` runs in the interactive REPL (or `raftlab watch`)";

/// A command that could not run. The cluster is as it was before it.
#[derive(Debug, Error)]
pub enum ExecError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error("there is no leader now")]
    NoLeader,
    #[error("`{0}` is not built yet")]
    NotBuilt(&'static str),
    #[error("{0}")]
    Io(String),
    /// A command the node or the cluster turned down, having changed nothing: why.
    #[error("{0}")]
    Refused(String),
    #[error("step takes at most {STEPS_PER_COMMAND_LIMIT} steps at a time, not {0}")]
    TooManySteps(u64),
}

/// What a command printed, and whether it held (an `expect` or `wait` can fail).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub text: String,
    pub passed: bool,
    pub quit: bool,
}

/// How a command ran: to its end, or stopped by Ctrl-C before it (a run or a wait, which
/// is then not journalled).
enum Ran {
    Done(Outcome),
    Interrupted(Outcome),
}

impl Outcome {
    pub(super) fn text(text: impl Into<String>) -> Outcome {
        Outcome {
            text: text.into(),
            passed: true,
            quit: false,
        }
    }

    fn quit() -> Outcome {
        Outcome {
            text: String::new(),
            passed: true,
            quit: true,
        }
    }

    pub(super) fn failed(text: impl Into<String>) -> Outcome {
        Outcome {
            text: text.into(),
            passed: false,
            quit: false,
        }
    }
}

/// A cluster and the session's state around it.
pub struct Session {
    cluster: Cluster,
    config: ClusterConfig,
    trace: TraceLevel,
    journal: Journal,
    /// The clients' history taken out of the cluster so far, checked in windows.
    history: WindowedHistory,
    /// How many history records were taken out of the cluster (refused ones included).
    history_taken: usize,
    /// The journal's length when the history was last taken.
    history_taken_at: usize,
    keys: BTreeSet<String>,
    /// How many of the checker's violations an `expect violation` has claimed.
    claimed: u64,
    /// A linearizability violation was found and not yet claimed.
    linearizability_broken: bool,
    /// Set by Ctrl-C at the REPL: the running command stops at its next hand-off (the
    /// flag outlives the cluster, which `back` rebuilds).
    interrupt: Arc<AtomicBool>,
    /// Whether the front-end prints the events the trace shows as they happen (the REPL,
    /// piped input): then `step` and the like leave those out of their own output.
    live_events: bool,
    /// How many commands the journal held when a clock that began running (virtual or
    /// real time) was first paused, if it has been: `save` writes a `pause` step there.
    first_paused_at: Option<usize>,
    /// Where a long command has got to, for its progress lines ([`progress`]).
    progress: Arc<progress::Progress>,
}

impl Session {
    pub fn new(config: ClusterConfig) -> Result<Session, ClusterError> {
        let cluster = Cluster::start(config.clone())?;
        let journal = Journal::default();
        let trace = TraceLevel::Changes;
        let interrupt = cluster.interrupt_flag();
        let progress = Arc::new(progress::Progress::default());
        cluster.set_run_position(progress.position.clone())?;
        Ok(Session {
            cluster,
            config,
            trace,
            journal,
            history: WindowedHistory::new(SearchBudget::default(), WINDOW_OPS),
            history_taken: 0,
            history_taken_at: 0,
            keys: BTreeSet::new(),
            claimed: 0,
            linearizability_broken: false,
            interrupt,
            live_events: false,
            first_paused_at: None,
            progress,
        })
    }

    /// The flag that interrupts the command running now (Ctrl-C): a wait, a run, a client
    /// command or a `step N` stops at its next hand-off, and says so.
    pub fn interrupt_flag(&self) -> Arc<AtomicBool> {
        self.interrupt.clone()
    }

    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    pub fn config(&self) -> &ClusterConfig {
        &self.config
    }

    /// Says whether the front-end prints the trace's events as they happen (see
    /// [`Session::report_text`]).
    pub fn set_live_events(&mut self, on: bool) {
        self.live_events = on;
    }

    /// What one hand-off did (`step`, `deliver`, `campaign`, ...), in time order, less the
    /// events the front-end already printed live at the trace level: nothing twice.
    pub(super) fn report_text(&self, report: &crate::cluster::StepReport) -> String {
        if self.live_events {
            view::step_unshown(report, self.trace)
        } else {
            view::step(report)
        }
    }

    pub fn trace(&self) -> TraceLevel {
        self.trace
    }

    pub fn set_trace(&mut self, level: TraceLevel) {
        self.trace = level;
    }

    /// The keys written or read so far, for completion.
    pub fn keys(&self) -> Vec<String> {
        self.keys.iter().cloned().collect()
    }

    /// Parses, checks and runs one line. A blank line or a comment does nothing.
    pub fn run_line(&mut self, line: &str) -> Result<Outcome, ExecError> {
        let Some(command) = parse(line)? else {
            return Ok(Outcome::text(""));
        };
        self.execute(&command)
    }

    /// Checks a command's nodes against the cluster, then runs it. The safety violations
    /// that appeared while it ran are judged once, at its end (for `step N`, after all N).
    pub fn execute(&mut self, command: &Command) -> Result<Outcome, ExecError> {
        let nodes: Vec<NodeId> = self.cluster.hosted()?;
        command.check_nodes(&nodes)?;
        if let Command::Step { count } = command
            && *count > STEPS_PER_COMMAND_LIMIT
        {
            return Err(ExecError::TooManySteps(*count));
        }
        let violations_before = self.violation_count()?;
        let progress = Arc::clone(&self.progress);
        let _running = progress.start();
        let outcome = match command {
            Command::Step { count } if *count > 1 => self.steps(command, *count)?,
            _ => match self.run_journalled(command)? {
                Ran::Done(outcome) => outcome,
                // Not judged, as it is not journalled: what it left is the next command's.
                Ran::Interrupted(outcome) => return Ok(outcome),
            },
        };
        self.judge_violations(violations_before, outcome)
    }

    /// `step N`: one journal entry per step, so that `back N` rewinds N steps.
    fn steps(&mut self, command: &Command, count: u64) -> Result<Outcome, ExecError> {
        let mut outcome = Outcome::text("");
        for done in 0..count {
            if self.interrupt.load(Ordering::Relaxed) {
                let now_us = self.cluster.now_us()?;
                let progress = format!(" after {done} of {count} steps");
                let interrupted = self.interrupted(now_us, command, &progress)?;
                outcome.text.push_str(&interrupted.text);
                outcome.passed = false;
                return Ok(outcome);
            }
            let (Ran::Done(step) | Ran::Interrupted(step)) =
                self.run_journalled(&Command::Step { count: 1 })?;
            outcome.text.push_str(&step.text);
            outcome.passed &= step.passed;
            if self
                .cluster
                .view(ViewLimits::least())?
                .next_event_us
                .is_none()
            {
                break;
            }
        }
        Ok(outcome)
    }

    /// Runs a command and journals it if it is part of the run; its violations are for
    /// the caller to judge.
    fn run_journalled(&mut self, command: &Command) -> Result<Ran, ExecError> {
        let (time_us, handoffs) = self.cluster.position()?;
        let outcome = match self.dispatch(command) {
            Err(ExecError::Cluster(ClusterError::Interrupted { time_us: now_us })) => {
                // A client operation was sent before the interrupt and stays in flight:
                // the journal keeps it, so that `save` and `back` replay it. A run or a
                // wait is not kept: the time it ran is the next command's start.
                let outcome = self.interrupted(now_us, command, "")?;
                if !matches!(command, Command::Client { .. }) {
                    return Ok(Ran::Interrupted(outcome));
                }
                outcome
            }
            Err(ExecError::Cluster(ClusterError::RunTooLong { handoffs, time_us })) => {
                // The same: the clock moved on to where the bound stopped it.
                let outcome = self.stopped_by_bound(handoffs, time_us, command)?;
                if !matches!(command, Command::Client { .. }) {
                    return Ok(Ran::Interrupted(outcome));
                }
                outcome
            }
            other => other?,
        };
        if command.effect().journalled() {
            let end_us = self.cluster.now_us()?;
            let command = command.clone();
            self.journal.push(Journalled {
                time_us,
                end_us,
                handoffs,
                command,
            });
            self.take_history_now_and_then()?;
        }
        Ok(Ran::Done(outcome))
    }

    /// Every [`TAKE_HISTORY_EVERY`] journalled commands, takes the clients' finished
    /// operations out of the cluster into the session's history, which checks them in
    /// windows and keeps only what the rest of the check needs: memory stays flat however
    /// long the session. (On the journal's count, so that `back` takes at the same points.)
    fn take_history_now_and_then(&mut self) -> Result<(), ExecError> {
        if self.journal.len() < self.history_taken_at + TAKE_HISTORY_EVERY {
            return Ok(());
        }
        self.history_taken_at = self.journal.len();
        let records = self.cluster.take_finished_history()?;
        self.history_taken += records.len();
        self.history.push(operations(&records));
        Ok(())
    }

    /// Runs a command with its handler: one arm per command, no catch-all, so that a new
    /// command cannot go without one. What a command does to the session besides (whether
    /// it is journalled) is its table entry's [`Effect`](crate::repl::table::Effect). The match is a
    /// table, a few lines over the 70 a function should stay within: split by group, it
    /// would need the catch-all arms this shape exists to avoid.
    fn dispatch(&mut self, command: &Command) -> Result<Outcome, ExecError> {
        use Command as C;
        let text = match command {
            C::Status {
                verbose,
                json,
                rows,
            } => self.status(*verbose, *json, rows)?,
            C::Log {
                verbose,
                json,
                rows,
            } => self.log_view(*verbose, *json, rows)?,
            C::Kv { node } => self.kv_view(*node)?,
            C::Net => view::network(&self.cluster.network()?),
            C::Msgs => view::messages(&self.cluster.in_flight()?),
            C::Timers => view::timers(&self.cluster.view(Default::default())?),
            C::Events { count } => self.events(*count)?,
            C::Help { topic } => help(topic.as_deref())?,
            C::Watch => return Err(ExecError::Io(WATCH_ELSEWHERE.to_string())),
            C::Trace { level } => self.set_trace_level(*level),
            C::Pause => self.pause()?,
            C::Resume => self.resume()?,
            C::Speed { factor } => self.speed(*factor)?,
            C::Run { duration_us } => self.run_for(*duration_us)?,
            C::Step { count } => self.step(*count)?,
            C::Back { count } => self.back(*count)?,
            C::Deliver { msg } => self.report_text(&self.cluster.deliver(*msg)?),
            C::Drop { msg } => self.drop_message(*msg)?,
            C::Dup { msg } => self.duplicate(*msg)?,
            C::Tick { node } => view::step(&self.cluster.fire_timer(self.node(*node)?)?),
            C::Kill { nodes } => self.kill_or_restart(nodes, true)?,
            C::Restart { nodes } => self.kill_or_restart(nodes, false)?,
            C::Partition { groups } => self.partition(groups)?,
            C::Isolate { node } => self.isolate(*node)?,
            C::Cut { from, to, one_way } => self.cut_or_link(*from, *to, *one_way, true)?,
            C::Link { from, to, one_way } => self.cut_or_link(*from, *to, *one_way, false)?,
            C::Heal => self.change_links(|cluster| cluster.heal())?,
            C::NetDrop { probability } => self.net_setting(|c| c.drop = *probability)?,
            C::NetDup { probability } => self.net_setting(|c| c.duplicate = *probability)?,
            C::NetDelay { min_us, max_us } => self.net_setting(|c| {
                c.delay_min_us = *min_us;
                c.delay_max_us = *max_us;
            })?,
            C::NetReorder { on } => self.net_setting(|c| c.reorder = *on)?,
            C::Client { op, via } => return self.client(op, *via),
            C::Campaign { node } => self.campaign(*node)?,
            C::Snapshot { node } => self.snapshot(*node)?,
            C::SetLog { node, terms } => self.set_log(*node, terms)?,
            C::Transfer { node } => return self.transfer(*node),
            C::Add { node } => return self.change_members(*node, true),
            C::Remove { node } => return self.remove(*node),
            C::WaitLeader { within_us } => return self.wait_leader(*within_us),
            C::WaitCommit { index, within_us } => return self.wait_commit(*index, *within_us),
            C::WaitUntil {
                condition,
                within_us,
            } => return self.wait_until(condition, *within_us),
            C::Expect { condition } => return self.expect(condition),
            C::Try { command } => return Ok(self.attempt(command)),
            C::Check => return self.check(),
            C::Say { text } => text.clone(),
            C::Save { file } => return self.save(file),
            C::Export { file, window_us } => return self.export(file, *window_us),
            C::ExportLog { file, nodes } => return self.export_log(file, nodes),
            C::ExportSlides {
                file,
                window_us,
                heartbeats,
            } => return self.export_slides(file, *window_us, *heartbeats),
            C::ExportLogSlide { file, nodes } => return self.export_log_slide(file, nodes),
            C::Quit => return Ok(Outcome::quit()),
        };
        Ok(Outcome::text(text))
    }

    /// What an interrupted command says: that it stopped, when, and the cluster then.
    pub(super) fn interrupted(
        &self,
        now_us: u64,
        command: &Command,
        progress: &str,
    ) -> Result<Outcome, ExecError> {
        let status = self.cluster.status()?;
        let leader = match status.leader {
            Some(leader) => format!("n{leader} leads"),
            None => "no leader".to_string(),
        };
        let term = status.nodes.iter().map(|n| n.term).max().unwrap_or(0);
        let up = status
            .nodes
            .iter()
            .filter(|n| n.state == NodeState::Up)
            .count();
        let name = command.to_string();
        let name = name.split_whitespace().next().unwrap_or("command");
        Ok(Outcome::failed(format!(
            "interrupted: `{name}` stopped{progress} at t={}; {leader}, term {term}, {up} of {} \
             nodes up",
            crate::repl::words::fmt_ms(now_us),
            status.nodes.len()
        )))
    }

    /// What a command says when it stopped at the bound on hand-offs one command may run
    /// ([`HANDOFFS_PER_RUN_LIMIT`](crate::cluster::HANDOFFS_PER_RUN_LIMIT)): not an error, as the cluster's time did move on to
    /// `time_us`, but a failure that says where it stopped and what was not done.
    fn stopped_by_bound(
        &self,
        handoffs: u64,
        time_us: u64,
        command: &Command,
    ) -> Result<Outcome, ExecError> {
        let now = crate::repl::words::fmt_ms(time_us);
        let bound = format!("{handoffs} hand-offs, the most one command runs");
        let wait = |what: &str, condition: &Condition| -> Result<Outcome, ExecError> {
            let view = self.cluster.view(condition::limits(condition))?;
            let actual = condition::actual(&view, condition);
            Ok(Outcome::failed(format!(
                "{what}: not met by t={now}, where it stopped after {bound} ({actual})"
            )))
        };
        let leader = Condition::Leader { node: None };
        match command {
            Command::Run { .. } => Ok(Outcome::failed(format!(
                "run: stopped at t={now} after {bound}; type `run` again to go on"
            ))),
            Command::WaitLeader { .. } => wait("wait leader", &leader),
            Command::WaitCommit { index, .. } => wait(&format!("wait commit {index}"), &leader),
            Command::WaitUntil { condition, .. } => wait("wait until", condition),
            _ => Ok(Outcome::failed(format!(
                "{}: stopped at t={now} after {bound}, before it was done",
                command.name()
            ))),
        }
    }

    /// Resolves a node reference now: `leader` is the current leader.
    pub(super) fn node(&self, node: NodeRef) -> Result<NodeId, ExecError> {
        match node {
            NodeRef::Id(id) => Ok(id),
            NodeRef::Leader => self.cluster.leader()?.ok_or(ExecError::NoLeader),
        }
    }

    pub(super) fn nodes(&self, nodes: &[NodeRef]) -> Result<Vec<NodeId>, ExecError> {
        nodes.iter().map(|&n| self.node(n)).collect()
    }
}

pub(super) fn fmt_now(cluster: &Cluster) -> Result<String, ExecError> {
    Ok(crate::repl::words::fmt_ms(cluster.now_us()?))
}
