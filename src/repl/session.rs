//! A session: a cluster and the commands run against it, from the REPL, piped input or
//! a scenario file. Every command goes through [`Session::run_line`] or
//! [`Session::execute`]; the result is text to show, and whether it passed.
//!
//! The session keeps a journal of the commands that change the cluster, each with the
//! cluster time it ran at and the scheduler's hand-off count before it. `save` writes the
//! journal as a scenario file on a paused clock, with `run` steps for the time that
//! passed between commands, so that even a session that began in real time replays.
//! `back N` rebuilds the cluster and replays the journal but its last N entries, exactly:
//! it runs the same number of hand-offs before each command.
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
use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use thiserror::Error;

use crate::cluster::checker::operations;
use crate::cluster::kv::KvOp;
use crate::cluster::linearizability::{self, SearchBudget, Verdict};
use crate::cluster::{
    ClientOutcome, ClockMode, Cluster, ClusterConfig, ClusterError, ClusterView, EventKind,
    NodeState, ViewLimits,
};
use crate::raft::{NodeId, RaftEvent};
use crate::repl::words::{describe_outcome, describe_result};

use super::command::{
    ClientOp, Command, Condition, NodeRef, NodeSet, ParseError, ResolveError, Rows, SafetyRule,
    TraceLevel, format_duration, parse,
};
use super::scenario::{Header, scenario_yaml};
use super::{condition, export, table, view};

mod exporting;
mod slides;

/// How long `wait` waits when the command does not say.
const DEFAULT_WAIT_US: u64 = 5_000_000;
/// The most steps one `step N` takes.
const STEPS_PER_COMMAND_LIMIT: u64 = 100_000;
/// What `step` says when there is nothing left to do.
const NOTHING_SCHEDULED: &str = "nothing is scheduled\n";
/// How many events `events` shows when the command does not say.
const DEFAULT_EVENTS: u64 = 20;

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

impl Outcome {
    fn text(text: impl Into<String>) -> Outcome {
        Outcome {
            text: text.into(),
            passed: true,
            quit: false,
        }
    }

    fn failed(text: impl Into<String>) -> Outcome {
        Outcome {
            text: text.into(),
            passed: false,
            quit: false,
        }
    }
}

/// One journalled command: when it ran, after how many hand-offs, and what it was.
#[derive(Clone, Debug)]
struct Journalled {
    time_us: u64,
    end_us: u64,
    handoffs: u64,
    command: Command,
}

/// A cluster and the session's state around it.
pub struct Session {
    cluster: Cluster,
    config: ClusterConfig,
    trace: TraceLevel,
    journal: Vec<Journalled>,
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
}

impl Session {
    pub fn new(config: ClusterConfig) -> Result<Session, ClusterError> {
        let cluster = Cluster::start(config.clone())?;
        let journal = Vec::new();
        let trace = TraceLevel::Changes;
        let interrupt = cluster.interrupt_flag();
        Ok(Session {
            cluster,
            config,
            trace,
            journal,
            keys: BTreeSet::new(),
            claimed: 0,
            linearizability_broken: false,
            interrupt,
            live_events: false,
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
    fn report_text(&self, report: &crate::cluster::StepReport) -> String {
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

    /// Checks a command's nodes against the cluster, then runs it.
    pub fn execute(&mut self, command: &Command) -> Result<Outcome, ExecError> {
        let nodes: Vec<NodeId> = self.cluster.hosted()?;
        command.check_nodes(&nodes)?;
        if let Command::Step { count } = command
            && *count > STEPS_PER_COMMAND_LIMIT
        {
            return Err(ExecError::TooManySteps(*count));
        }
        if let Command::Step { count } = command
            && *count > 1
        {
            // One journal entry per step, so that `back N` rewinds N steps.
            let mut text = String::new();
            for done in 0..*count {
                if self.interrupt.load(Ordering::Relaxed) {
                    let now_us = self.cluster.now_us()?;
                    let progress = format!(" after {done} of {count} steps");
                    text.push_str(&self.interrupted(now_us, command, &progress)?.text);
                    return Ok(Outcome::failed(text));
                }
                let outcome = self.execute(&Command::Step { count: 1 })?;
                text.push_str(&outcome.text);
                if self
                    .cluster
                    .view(ViewLimits::least())?
                    .next_event_us
                    .is_none()
                {
                    break;
                }
            }
            return Ok(Outcome::text(text));
        }
        let (time_us, handoffs) = self.cluster.position()?;
        let violations_before = self.violation_count()?;
        let outcome = match self.dispatch(command) {
            Err(ExecError::Cluster(ClusterError::Interrupted { time_us: now_us })) => {
                // A client operation was sent before the interrupt and stays in flight:
                // the journal keeps it, so that `save` and `back` replay it. A run or a
                // wait is not kept: the time it ran is the next command's start.
                let outcome = self.interrupted(now_us, command, "")?;
                if !matches!(command, Command::Client { .. }) {
                    return Ok(outcome);
                }
                outcome
            }
            other => other?,
        };
        let outcome = self.judge_violations(violations_before, outcome)?;
        if is_journalled(command) {
            let end_us = self.cluster.now_us()?;
            let command = command.clone();
            self.journal.push(Journalled {
                time_us,
                end_us,
                handoffs,
                command,
            });
        }
        Ok(outcome)
    }

    fn dispatch(&mut self, command: &Command) -> Result<Outcome, ExecError> {
        match command {
            command if is_look(command) => self.look(command),
            Command::Trace { level } => {
                self.trace = *level;
                Ok(Outcome::text(format!("trace {level}")))
            }
            Command::Pause
            | Command::Resume
            | Command::Speed { .. }
            | Command::Run { .. }
            | Command::Step { .. }
            | Command::Back { .. }
            | Command::Deliver { .. }
            | Command::Drop { .. }
            | Command::Dup { .. }
            | Command::Tick { .. } => self.time(command),
            Command::Client { op, via } => self.client(op, *via),
            Command::WaitLeader { .. }
            | Command::WaitCommit { .. }
            | Command::WaitUntil { .. }
            | Command::Expect { .. } => self.script_check(command),
            Command::Try { command } => Ok(self.attempt(command)),
            Command::Say { text } => Ok(Outcome::text(text.clone())),
            Command::Save { file } => self.save(file),
            Command::Quit => Ok(Outcome {
                text: String::new(),
                passed: true,
                quit: true,
            }),
            Command::Transfer { node } => self.transfer(*node),
            Command::Add { node } => self.change_members(*node, true),
            Command::Remove { node } => {
                let node = self.node(*node)?;
                self.change_members(node, false)
            }
            Command::Export { file, window_us } => self.export(file, *window_us),
            Command::ExportLog { file, nodes } => self.export_log(file, nodes),
            Command::ExportSlides {
                file,
                window_us,
                heartbeats,
            } => self.export_slides(file, *window_us, *heartbeats),
            Command::ExportLogSlide { file, nodes } => self.export_log_slide(file, nodes),
            Command::Check => self.check(),
            Command::Watch => Err(ExecError::Io(
                "`watch` runs in the interactive REPL (or `raftlab watch`)".to_string(),
            )),
            _ => self.fault(command),
        }
    }

    /// What an interrupted command says: that it stopped, when, and the cluster then.
    fn interrupted(
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
        Ok(id)
    }

    /// Resolves a node reference now: `leader` is the current leader.
    fn node(&self, node: NodeRef) -> Result<NodeId, ExecError> {
        match node {
            NodeRef::Id(id) => Ok(id),
            NodeRef::Leader => self.cluster.leader()?.ok_or(ExecError::NoLeader),
        }
    }

    fn nodes(&self, nodes: &[NodeRef]) -> Result<Vec<NodeId>, ExecError> {
        nodes.iter().map(|&n| self.node(n)).collect()
    }

    // ---- look -----------------------------------------------------------------------

    fn look(&mut self, command: &Command) -> Result<Outcome, ExecError> {
        let text = match command {
            Command::Status {
                verbose,
                json,
                rows,
            } => self.status_view(*json, rows)? + &verbose_status(*verbose && !*json, self)?,
            Command::Log {
                verbose,
                json,
                rows,
            } => self.log_view(*verbose, *json, rows)?,
            Command::Kv { node } => self.kv_view(*node)?,
            Command::Net => view::network(&self.cluster.network()?),
            Command::Msgs => view::messages(&self.cluster.in_flight()?),
            Command::Timers => view::timers(&self.cluster.view(Default::default())?),
            Command::Events { count } => {
                let count = count.unwrap_or(DEFAULT_EVENTS) as usize;
                let events = self.cluster.events(count)?;
                events.iter().map(|e| view::event(e) + "\n").collect()
            }
            Command::Help { topic: None } => table::help_overview(),
            Command::Help { topic: Some(topic) } => table::help_command(topic)
                .ok_or_else(|| ExecError::Io(format!("no help on '{topic}'")))?,
            _ => unreachable!("look() is called for look commands only"),
        };
        Ok(Outcome::text(text))
    }

    /// `status`: every row, the named rows, or above [`view::SUMMARY_ABOVE_NODES`] nodes
    /// a summary. `--json` is every node (or the named ones), never a summary.
    fn status_view(&self, json: bool, rows: &Rows) -> Result<String, ExecError> {
        let mut status = self.cluster.status()?;
        let named = self.nodes(rows.named())?;
        if json {
            if !named.is_empty() {
                status.nodes.retain(|n| named.contains(&n.id));
            }
            return Ok(export::json::status(&status));
        }
        Ok(match rows {
            Rows::Nodes(_) => view::status_rows(&status, &named),
            Rows::Default if status.nodes.len() > view::SUMMARY_ABOVE_NODES => {
                view::status_summary(&status, self.config.nodes)
            }
            Rows::Default | Rows::All => view::status(&status),
        })
    }

    /// `log`: the logs side by side (or entry by entry with `-v`), grouped by identical
    /// log above [`view::SUMMARY_ABOVE_NODES`] nodes when none is named.
    fn log_view(&self, verbose: bool, json: bool, rows: &Rows) -> Result<String, ExecError> {
        let nodes = self.nodes(rows.named())?;
        let logs = self.cluster.logs(nodes.clone())?;
        let status = self.cluster.status()?;
        if json {
            return Ok(export::json::logs(&logs, &status.nodes));
        }
        let summarise = *rows == Rows::Default && logs.len() > view::SUMMARY_ABOVE_NODES;
        if verbose && !summarise {
            return Ok(view::logs_verbose(&logs, &status.nodes));
        }
        let snapshots = self.cluster.snapshots(nodes)?;
        if summarise {
            let leader = status.leader;
            return Ok(view::logs_summary(
                &logs,
                &snapshots,
                &status.nodes,
                leader,
                verbose,
            ));
        }
        Ok(view::logs(&logs, &snapshots, &status.nodes))
    }

    fn kv_view(&self, node: Option<NodeRef>) -> Result<String, ExecError> {
        if let Some(node) = node {
            let id = self.node(node)?;
            return Ok(view::kv(id, &self.cluster.kv(id)?));
        }
        let mut text = String::new();
        for id in self.cluster.hosted()? {
            match self.cluster.kv(id) {
                Ok(pairs) => text.push_str(&view::kv(id, &pairs)),
                Err(ClusterError::NodeIsDown(_)) => {
                    let _ = writeln!(text, "n{id}: down");
                }
                Err(error) => return Err(error.into()),
            }
        }
        Ok(text)
    }

    // ---- time -----------------------------------------------------------------------

    fn time(&mut self, command: &Command) -> Result<Outcome, ExecError> {
        let cluster = &self.cluster;
        let text = match command {
            Command::Pause => {
                cluster.set_mode(ClockMode::Paused)?;
                format!("paused at t={}", fmt_now(cluster)?)
            }
            Command::Resume => {
                cluster.set_mode(ClockMode::Realtime)?;
                format!("running in real time from t={}", fmt_now(cluster)?)
            }
            Command::Speed { factor } => {
                cluster.set_speed(*factor)?;
                format!("speed {factor}")
            }
            Command::Run { duration_us } => {
                cluster.run_for(*duration_us)?;
                format!("t={}", fmt_now(cluster)?)
            }
            Command::Step { count } => self.step(*count)?,
            Command::Back { count } => self.back(*count)?,
            Command::Deliver { msg } => self.report_text(&cluster.deliver(*msg)?),
            Command::Drop { msg } => {
                cluster.drop_message(*msg)?;
                format!("#{msg} dropped")
            }
            Command::Dup { msg } => format!("#{msg} duplicated as #{}", cluster.duplicate(*msg)?),
            Command::Tick { node } => view::step(&cluster.fire_timer(self.node(*node)?)?),
            _ => unreachable!("time() is called for time commands only"),
        };
        Ok(Outcome::text(text))
    }

    fn step(&mut self, count: u64) -> Result<String, ExecError> {
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
    fn back(&mut self, count: u64) -> Result<String, ExecError> {
        let mode = self.cluster.mode()?;
        if mode == ClockMode::Realtime {
            return Err(ClusterError::ClockRunning("back").into());
        }
        let keep = self.journal.len().saturating_sub(count as usize);
        let replay: Vec<Journalled> = self.journal[..keep].to_vec();
        let final_point = self.journal.get(keep).map(|j| (j.time_us, j.handoffs));
        let config = ClusterConfig {
            clock: ClockMode::Paused,
            ..self.config.clone()
        };
        let mut rebuilt = Cluster::start(config)?;
        rebuilt.set_interrupt(self.interrupt.clone())?;
        let old = std::mem::replace(&mut self.cluster, rebuilt);
        self.journal.clear();
        (self.claimed, self.linearizability_broken) = (0, false);
        let replayed = self.replay(replay, final_point);
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
    fn replay(
        &mut self,
        entries: Vec<Journalled>,
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
    fn replay_to(&self, handoffs: u64, time_us: u64) -> Result<(), ExecError> {
        Ok(self.cluster.replay_to(handoffs, time_us)?)
    }

    // ---- faults and raft ------------------------------------------------------------

    fn fault(&mut self, command: &Command) -> Result<Outcome, ExecError> {
        let cluster = &self.cluster;
        let text = match command {
            Command::Kill { nodes } => self.kill_or_restart(nodes, true)?,
            Command::Restart { nodes } => self.kill_or_restart(nodes, false)?,
            Command::Partition { .. }
            | Command::Isolate { .. }
            | Command::Cut { .. }
            | Command::Link { .. }
            | Command::Heal => self.links(command)?,
            Command::NetDrop { .. }
            | Command::NetDelay { .. }
            | Command::NetDup { .. }
            | Command::NetReorder { .. } => self.net_settings(command)?,
            Command::Campaign { node } => self.report_text(&cluster.campaign(self.node(*node)?)?),
            Command::Snapshot { node } => self.report_text(&cluster.snapshot(self.node(*node)?)?),
            Command::SetLog { node, terms } => {
                let id = self.node(*node)?;
                cluster.set_log(id, terms.clone())?;
                let entries = view::count(terms.len(), "entry", "entries");
                format!("n{id}'s durable log set to {entries}")
            }
            other => unreachable!("not a fault command: {other:?}"),
        };
        Ok(Outcome::text(text))
    }

    /// `kill NODES` (`kill` true) or `restart NODES`: every node named must be up (down),
    /// or nothing happens; `all` is every node that is up (down).
    fn kill_or_restart(&mut self, nodes: &NodeSet, kill: bool) -> Result<String, ExecError> {
        let status = self.cluster.status()?;
        let is_up = |id: NodeId| {
            status
                .nodes
                .iter()
                .any(|n| n.id == id && n.state == NodeState::Up)
        };
        let ids: Vec<NodeId> = match nodes {
            NodeSet::All => status
                .nodes
                .iter()
                .map(|n| n.id)
                .filter(|&id| is_up(id) == kill)
                .collect(),
            NodeSet::Nodes(named) => self.nodes(named)?,
        };
        if ids.is_empty() {
            let state = if kill { "up" } else { "down" };
            return Err(ExecError::Io(format!("no node is {state}")));
        }
        for &id in &ids {
            match (kill, is_up(id)) {
                (true, false) => return Err(ClusterError::NodeIsDown(id).into()),
                (false, true) => return Err(ClusterError::NodeIsUp(id).into()),
                _ => {}
            }
        }
        for &id in &ids {
            if kill {
                self.cluster.kill(id)?;
            } else {
                self.cluster.restart(id)?;
            }
        }
        let names = view::node_list(&ids);
        Ok(if kill {
            format!("{names} killed")
        } else {
            format!("{names} restarted from durable state")
        })
    }

    /// `partition`, `isolate`, `cut`, `link` and `heal`: changes the links, then says
    /// which links it cut and which it restored.
    fn links(&mut self, command: &Command) -> Result<String, ExecError> {
        let before = self.cluster.network()?.cut;
        let cluster = &self.cluster;
        match command {
            Command::Partition { groups } => {
                let groups: Vec<Vec<NodeId>> = groups
                    .iter()
                    .map(|g| self.nodes(g))
                    .collect::<Result<_, _>>()?;
                cluster.partition(groups)?;
            }
            Command::Isolate { node } => cluster.isolate(self.node(*node)?)?,
            Command::Cut { from, to, one_way } => {
                cluster.cut(self.node(*from)?, self.node(*to)?, *one_way)?
            }
            Command::Link { from, to, one_way } => {
                cluster.link(self.node(*from)?, self.node(*to)?, *one_way)?
            }
            Command::Heal => cluster.heal()?,
            other => unreachable!("not a link command: {other:?}"),
        }
        let after = cluster.network()?;
        Ok(view::link_changes(&before, &after))
    }

    /// `transfer NODE`: the leader starts handing its leadership over. The outcome comes
    /// later, as events: the target's election, or the leader's `transfer ... FAILED`.
    /// `add NODE` / `remove NODE`: the leader appends a configuration entry, unless it
    /// refuses (the report's events say why).
    fn change_members(&mut self, node: NodeId, add: bool) -> Result<Outcome, ExecError> {
        let report = if add {
            self.cluster.add(node)?
        } else {
            self.cluster.remove(node)?
        };
        let leader = report
            .node
            .map_or("the leader".to_string(), |n| format!("n{n}"));
        let refusal = report.events.iter().find_map(|event| match &event.kind {
            EventKind::Raft {
                event: RaftEvent::ChangeRefused { reason },
                ..
            } => Some(reason.to_string()),
            _ => None,
        });
        let what = match refusal {
            Some(reason) => format!("{leader} refuses: {reason}"),
            None if add => {
                format!("{leader} adds n{node}: a learner until it catches up, then a voter")
            }
            None => format!("{leader} removes n{node}"),
        };
        let mut text = format!("{what}\n");
        if self.trace == TraceLevel::Off {
            text.push_str(&view::step(&report));
        }
        Ok(Outcome::text(text.trim_end().to_string()))
    }

    fn transfer(&mut self, node: NodeRef) -> Result<Outcome, ExecError> {
        let target = self.node(node)?;
        let report = self.cluster.transfer(target)?;
        let leader = report
            .node
            .map_or("the leader".to_string(), |n| format!("n{n}"));
        let mut text = format!(
            "{leader} hands its leadership to n{target}: it refuses proposals until n{target} \
             takes over or an election timeout passes\n"
        );
        // With a trace on, the trace already shows the report's events.
        if self.trace == TraceLevel::Off {
            text.push_str(&view::step(&report));
        }
        Ok(Outcome::text(text.trim_end().to_string()))
    }

    fn net_settings(&self, command: &Command) -> Result<String, ExecError> {
        let mut config = self.cluster.network()?.config;
        match command {
            Command::NetDrop { probability } => config.drop = *probability,
            Command::NetDup { probability } => config.duplicate = *probability,
            Command::NetDelay { min_us, max_us } => {
                config.delay_min_us = *min_us;
                config.delay_max_us = *max_us;
            }
            Command::NetReorder { on } => config.reorder = *on,
            _ => unreachable!("not a network setting"),
        }
        self.cluster.set_network(config)?;
        Ok(view::network(&self.cluster.network()?)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string())
    }

    // ---- clients --------------------------------------------------------------------

    fn client(&mut self, op: &ClientOp, via: Option<NodeRef>) -> Result<Outcome, ExecError> {
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
        let latency = format!(" in {}", crate::repl::words::fmt_ms(result.latency_us));
        match result.outcome {
            ClientOutcome::Done { .. } => Ok(Outcome::text(text + &latency)),
            _ => Ok(Outcome::failed(text)),
        }
    }

    // ---- scripts --------------------------------------------------------------------

    fn script_check(&mut self, command: &Command) -> Result<Outcome, ExecError> {
        match command {
            Command::WaitLeader { within_us } => {
                self.wait(Condition::Leader { node: None }, *within_us, "wait leader")
            }
            Command::WaitCommit { index, within_us } => {
                let what = format!("wait commit {index}");
                let index = *index;
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
            Command::WaitUntil {
                condition,
                within_us,
            } => self.wait(condition.clone(), *within_us, "wait until"),
            Command::Expect { condition } => self.expect(condition),
            _ => unreachable!("not a script check"),
        }
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

    fn report_wait(
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

    fn expect(&mut self, condition: &Condition) -> Result<Outcome, ExecError> {
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
    fn expect_get(&mut self, key: &str, value: &str) -> Result<Outcome, ExecError> {
        let line = format!("expect get {key} == {value}");
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
                output: crate::cluster::kv::KvOutput::Value(v),
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
    fn expect_get_paused(
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

    fn attempt(&mut self, command: &Command) -> Outcome {
        match self.dispatch(command) {
            Ok(outcome) if outcome.passed => outcome,
            Ok(outcome) => Outcome::text(format!("{} (failure accepted by try)", outcome.text)),
            Err(error) => Outcome::text(format!("error: {error} (accepted by try)")),
        }
    }

    /// `save FILE`: the session as a scenario file on a paused clock.
    fn save(&self, file: &str) -> Result<Outcome, ExecError> {
        let steps = self.scenario_steps();
        let runs = steps.len() - self.journal.len();
        let text = self.scenario_text();
        std::fs::write(file, text)
            .map_err(|e| ExecError::Io(format!("cannot write {file}: {e}")))?;
        let steps = view::count(steps.len(), "step", "steps");
        let commands = view::count(self.journal.len(), "command", "commands");
        let runs = view::count(runs, "run step", "run steps");
        Ok(Outcome::text(format!(
            "saved {steps} to {file}: {commands}, with {runs} for the time between them"
        )))
    }

    /// The journal as a scenario file, with `run` steps for the time between commands.
    pub fn scenario_text(&self) -> String {
        let steps = self.scenario_steps();
        let header = Header {
            name: "saved-session".to_string(),
            description: "A REPL session saved with `save`.".to_string(),
        };
        scenario_yaml(&header, &self.config, &steps)
    }

    /// The journal as scenario steps, with `run` steps for the time between commands.
    fn scenario_steps(&self) -> Vec<String> {
        let mut steps = Vec::new();
        let mut clock_us = 0;
        for entry in &self.journal {
            if entry.time_us > clock_us {
                steps.push(format!("run {}", format_duration(entry.time_us - clock_us)));
            }
            steps.push(entry.command.to_string());
            clock_us = entry.end_us;
        }
        steps
    }
}

// ---- safety ---------------------------------------------------------------------------

impl Session {
    /// The violations no `expect violation` has claimed: a run that ends with any fails
    /// (see the module documentation).
    pub fn violations_unexpected(&self) -> Result<u64, ExecError> {
        let count = self.violation_count()?;
        Ok(count.saturating_sub(self.claimed) + u64::from(self.linearizability_broken))
    }

    fn violation_count(&self) -> Result<u64, ExecError> {
        Ok(self.cluster.view(ViewLimits::least())?.violation_count())
    }

    fn bugs_on(&self) -> bool {
        !self.config.raft.bugs.is_empty()
    }

    /// Fails the outcome of a command during which a violation appeared, unless a
    /// teaching bug is on.
    fn judge_violations(&self, before: u64, mut outcome: Outcome) -> Result<Outcome, ExecError> {
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

    /// Checks the clients' history so far; a violation found is the session's until an
    /// `expect violation` claims it.
    fn linearizability(&mut self) -> Result<Verdict, ExecError> {
        let history = self.cluster.history()?;
        let verdict = linearizability::check(&operations(&history), SearchBudget::default());
        if matches!(verdict, Verdict::Violation(_)) {
            self.linearizability_broken = true;
        }
        Ok(verdict)
    }

    /// `check`: the checker's findings, then the linearizability of the history.
    fn check(&mut self) -> Result<Outcome, ExecError> {
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
        let operations = self.cluster.history()?.len();
        let verdict = self.linearizability()?;
        match &verdict {
            Verdict::Linearizable => {
                let _ = writeln!(text, "linearizability: held over {operations} operations");
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
    fn expect_safety(&mut self, condition: &Condition) -> Result<Outcome, ExecError> {
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

/// Whether a command only looks at the cluster (`status`, `log`, ...).
fn is_look(command: &Command) -> bool {
    matches!(
        command,
        Command::Status { .. }
            | Command::Log { .. }
            | Command::Kv { .. }
            | Command::Net
            | Command::Msgs
            | Command::Timers
            | Command::Events { .. }
            | Command::Help { .. }
    )
}

/// Whether a command changes the cluster (and so is saved and replayed).
fn is_journalled(command: &Command) -> bool {
    !is_look(command)
        && !matches!(
            command,
            Command::Trace { .. }
                | Command::Pause
                | Command::Resume
                | Command::Speed { .. }
                | Command::Back { .. }
                | Command::Save { .. }
                | Command::Export { .. }
                | Command::ExportLog { .. }
                | Command::ExportSlides { .. }
                | Command::ExportLogSlide { .. }
                | Command::Quit
                | Command::Watch
        )
}

/// `status -v`: below the rows, each follower's `nextIndex` and `matchIndex` at the leader.
fn verbose_status(verbose: bool, session: &Session) -> Result<String, ExecError> {
    if !verbose {
        return Ok(String::new());
    }
    Ok(view::followers(&session.cluster.status()?))
}

fn mark(held: bool, line: &str, actual: &str) -> Outcome {
    if held {
        Outcome::text(format!("✓ {line}"))
    } else {
        Outcome::failed(format!("✗ {line}: {actual}"))
    }
}

fn fmt_now(cluster: &Cluster) -> Result<String, ExecError> {
    Ok(crate::repl::words::fmt_ms(cluster.now_us()?))
}
