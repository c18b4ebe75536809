//! The scheduler: the one authority on cluster time. It owns the [`World`] (the nodes and
//! the network) and the [`Observers`] (event log, checker), keeps every node's timer and
//! the clients' pending operations, and decides what happens next: it finds the earliest
//! due instant, hands the lowest-numbered node with work at that instant all of that work
//! (messages in id order, then its timer, then client requests) and waits for the node's
//! report before it goes on. One hand-off at a time, in a fixed order, is what makes a
//! paused or virtual run the same on every machine.
//!
//! In realtime the nodes run in parallel ([`Scheduler::set_parallel`]): every idle node
//! with work due is handed it, and each report is processed as it comes while the others
//! work on. The checker still sees one valid order of steps: a node's step depends only
//! on its own state and the inputs it was handed, so it may be taken to happen when its
//! report is processed, and what it sends moves on only then.
//!
//! The rooms: this file holds the clock and the hand-offs (serial and parallel, `run`,
//! waits); [`commands`] what a user does to the cluster (kill, restart, the links,
//! deliver or drop a message, fire a timer, membership); [`client_requests`] the clients'
//! side (send, redirect, retry, finish).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use crate::raft::NodeId;

use super::client_table::ClientTable;
use super::event::{ClusterEvent, Crash, EventKind, MsgInfo};
use super::network::Network;
use super::node::{self, FromNode, NodeInput, NodeReport, ToNode};
use super::observers::Observers;
use super::storm::StormLimits;
use super::view::NodePicture;
use super::world::{Host, Running, World};
use super::{ClusterConfig, ClusterError, Hosting, seed};

mod client_requests;
mod commands;
mod timers;

use timers::Timers;

/// How long the scheduler waits for a node's report before it declares the node hung.
const NODE_ANSWER_LIMIT: Duration = Duration::from_secs(10);
/// The most rounds `advance` may spend at one instant without handing anything off or
/// emitting an event: a wake-up time that never clears would otherwise spin forever.
const IDLE_ROUNDS_PER_INSTANT_LIMIT: u32 = 1_000_000;
/// The most hand-offs one `run` or wait may take, so that a command like `run 1000000s`
/// stops with a clear error instead of running for hours.
pub const HANDOFFS_PER_RUN_LIMIT: u64 = 1_000_000;
/// The most due hand-offs one instant of cluster time may take. Every hand-off that is due
/// now (rather than later) is caused by another at the same instant, so a long chain of
/// them is a livelock (such as a client sent back and forth between two nodes).
const DUE_HANDOFFS_PER_INSTANT_LIMIT: u32 = 100_000;
/// How long a client waits before trying again when no node knows the leader.
const CLIENT_BACKOFF_US: u64 = 10_000;

/// Where the cluster has got to: its time and hand-offs, written by the scheduler as a
/// run or a wait goes on (every round) and by a realtime clock as it catches up, so that a
/// front-end can say how far a long command is while the command holds its thread.
#[derive(Debug, Default)]
pub struct RunPosition {
    now_us: AtomicU64,
    handoffs: AtomicU64,
}

impl RunPosition {
    /// The cluster time last written.
    pub fn now_us(&self) -> u64 {
        self.now_us.load(Ordering::Relaxed)
    }

    /// The hand-offs made by then.
    pub fn handoffs(&self) -> u64 {
        self.handoffs.load(Ordering::Relaxed)
    }
}

/// What one hand-off did, for `step`.
#[derive(Clone, Debug, PartialEq)]
pub struct StepReport {
    pub time_us: u64,
    /// The node that was handed work, if any (a hand-off may only drop messages).
    pub node: Option<NodeId>,
    pub before: Option<NodePicture>,
    pub after: Option<NodePicture>,
    pub events: Vec<ClusterEvent>,
}

/// What one round of [`Scheduler::advance`] did, when something was due by its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Round {
    /// A node was handed its due work, and its report processed.
    HandedTo(NodeId),
    /// Something else: messages dropped only, or (in parallel) a report taken in.
    Other,
}

impl Round {
    /// The node handed work, if any.
    fn node(self) -> Option<NodeId> {
        match self {
            Round::HandedTo(node) => Some(node),
            Round::Other => None,
        }
    }
}

/// The clock and the hand-offs, over the world it drives and the observers it feeds.
pub struct Scheduler {
    world: World,
    observers: Observers,
    now_us: u64,
    reports_tx: Sender<FromNode>,
    reports: Receiver<FromNode>,
    clients: ClientTable,
    /// Every running node's timer, the earliest first.
    timers: Timers,
    /// Whether nodes are handed work while others are still working (realtime only).
    parallel: bool,
    /// The nodes handed a batch whose report has not been processed yet (parallel only).
    busy: Vec<NodeId>,
    handoffs: u64,
    /// The instant of the last due hand-off, and how many there were at it.
    instant: (u64, u32),
    /// The client operations being handled (due for housekeeping, or being sent).
    ops_scratch: Vec<super::OpId>,
    /// The list of the batch being handed to a node, and the reports processed, for the
    /// nodes to fill again: kept between hand-offs so as not to allocate on each. Every
    /// report taken from `spare_reports` comes back to it once processed (unless its node
    /// crashed), so it holds at most one report per node working at once.
    inputs_scratch: Vec<NodeInput>,
    // Boxed on purpose: a report goes to a node and back by value, as a pointer.
    #[allow(clippy::vec_box)]
    spare_reports: Vec<Box<NodeReport>>,
    /// The picture of the node handed work by the last hand-off, before it, when
    /// hand-offs are reported: for its [`StepReport`].
    picture_before: Option<NodePicture>,
    /// Set from outside (Ctrl-C at the REPL) to stop a long run between two hand-offs.
    interrupt: Arc<AtomicBool>,
    /// Where the run has got to, for whoever watches a long one ([`RunPosition`]).
    position: Arc<RunPosition>,
    /// How many violations the checker kept when they were last published.
    violations_kept: usize,
    /// How many nodes the network had ever sent a message to when each of them was last
    /// found hosted (0 once a node is no longer hosted): while that is still how many
    /// there are, every message is to a hosted node ([`Scheduler::every_receiver_up`]).
    receivers_hosted: usize,
}

impl Scheduler {
    /// Builds the cluster and starts every node at time 0.
    pub fn start(config: ClusterConfig) -> Result<Scheduler, ClusterError> {
        config.validate()?;
        let (reports_tx, reports) = crossbeam_channel::unbounded();
        let mut network = Network::new(
            config.network.clone(),
            seed::derive(config.seed, seed::NETWORK, 0),
        );
        let storm_limits = StormLimits::for_nodes(config.nodes);
        network.set_limits(storm_limits);
        let voters: Vec<NodeId> = (1..=config.nodes).collect();
        let mut scheduler = Scheduler {
            observers: Observers::new(&voters, storm_limits),
            world: World::new(config, network),
            now_us: 0,
            reports_tx,
            reports,
            clients: ClientTable::default(),
            timers: Timers::default(),
            parallel: false,
            busy: Vec::new(),
            handoffs: 0,
            instant: (0, 0),
            ops_scratch: Vec::new(),
            inputs_scratch: Vec::new(),
            spare_reports: Vec::new(),
            picture_before: None,
            interrupt: Arc::new(AtomicBool::new(false)),
            position: Arc::default(),
            violations_kept: 0,
            receivers_hosted: 0,
        };
        for id in voters {
            scheduler.launch(id)?;
        }
        Ok(scheduler)
    }

    /// The nodes and the network, to read.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The event log, the checker and the other records of the run, to read.
    pub fn observers(&self) -> &Observers {
        &self.observers
    }

    /// The records of the run, to subscribe to or hand over their subscribers.
    pub fn observers_mut(&mut self) -> &mut Observers {
        &mut self.observers
    }

    pub fn now_us(&self) -> u64 {
        self.now_us
    }

    pub fn handoffs(&self) -> u64 {
        self.handoffs
    }

    /// Every client operation so far, or since the front let go by
    /// [`Scheduler::forget_finished_history`] or taken by
    /// [`Scheduler::take_finished_history`].
    pub fn history(&self) -> &[super::ClientRecord] {
        &self.clients.history
    }

    /// Lets go of the finished operations at the front of the history: for a run that
    /// checks no linearizability (a bench checks that the nodes agree), so that its
    /// memory stays flat.
    pub fn forget_finished_history(&mut self) {
        self.clients.history.forget_finished();
    }

    /// Hands over the finished operations at the front of the history (the REPL checks
    /// them in windows as they come).
    pub fn take_finished_history(&mut self) -> Vec<super::ClientRecord> {
        self.clients.history.take_finished()
    }

    /// Sets the bounds on the network's load (by default, [`StormLimits::for_nodes`]).
    pub fn set_storm_limits(&mut self, limits: StormLimits) {
        self.observers.set_storm_limits(limits);
        self.world.network_mut().set_limits(limits);
    }

    /// Lets the nodes run in parallel: every node that is idle and has work due is handed
    /// it at once, and each report is processed as it comes, while the other nodes work
    /// on; otherwise one node at a time, each report awaited. Only for a realtime clock,
    /// and only with nodes on threads: the order of reports depends on the wall clock
    /// there anyway, while a paused or virtual run must stay the same on every machine.
    /// Turning it off waits for the nodes still working and processes their reports, so
    /// that nothing is in flight outside a parallel stretch.
    pub fn set_parallel(&mut self, on: bool) {
        self.parallel = on && self.world.config().hosting == Hosting::Threads;
        if !self.parallel {
            self.finish_busy();
        }
    }

    /// Uses `flag` to interrupt long runs: once it is set, [`Scheduler::run_until_time`]
    /// and [`Scheduler::run_while`] stop before their next hand-off with
    /// [`ClusterError::Interrupted`]. Whoever sets it clears it.
    pub fn set_interrupt(&mut self, flag: Arc<AtomicBool>) {
        self.interrupt = flag;
    }

    /// Writes where the run has got to into `position` from now on (see [`RunPosition`]).
    pub fn set_run_position(&mut self, position: Arc<RunPosition>) {
        self.position = position;
        self.publish_position();
    }

    /// Writes the clock and the hand-offs into the [`RunPosition`].
    pub fn publish_position(&self) {
        self.position.now_us.store(self.now_us, Ordering::Relaxed);
        (self.position.handoffs).store(self.handoffs, Ordering::Relaxed);
    }

    /// Records an event at the current time.
    fn emit(&mut self, kind: EventKind) {
        self.observers.emit(self.now_us, kind);
    }

    /// Emits the violations the checker found since the last call. Usually there are
    /// none: the checker keeps each violation once and never lets one go, so unless it
    /// keeps more than when they were last published, there is nothing to ask it for.
    fn publish_violations(&mut self) {
        let kept = self.observers.checker().violations().len();
        if kept != self.violations_kept {
            self.violations_kept = kept;
            self.observers.publish_violations(self.now_us);
        }
    }

    // ---- time -----------------------------------------------------------------------

    /// Moves the clock forward to `time_us` without events (the realtime clock, `run`).
    pub fn set_now(&mut self, time_us: u64) {
        self.now_us = self.now_us.max(time_us);
    }

    /// When the next thing is due: a message, a timer or a client.
    pub fn next_event_us(&self) -> Option<u64> {
        let message = self.world.network().next_due_us();
        let timer = self.timers.first_us();
        let client = self.clients.next_wake_us();
        // Spelt out: it runs once a round, and an iterator over the three cost more.
        least(least(message, timer), client)
    }

    /// Runs what is due up to `limit_us`, as [`Scheduler::advance`] does, but without
    /// building a step report. Returns whether anything was due.
    pub fn advance_quietly(&mut self, limit_us: u64) -> Result<bool, ClusterError> {
        self.quietly(|scheduler| scheduler.advance_round(limit_us))
            .map(|round| round.is_some())
    }

    /// Runs `work` without building step reports: a run of many hand-offs skips the copies
    /// a report needs.
    fn quietly<R>(&mut self, work: impl FnOnce(&mut Scheduler) -> R) -> R {
        let reporting = self.observers.set_reporting(false);
        let result = work(self);
        self.observers.set_reporting(reporting);
        result
    }

    /// Runs every event due up to `until_us`, then sets the clock to `until_us`.
    pub fn run_until_time(&mut self, until_us: u64) -> Result<(), ClusterError> {
        self.quietly(|scheduler| {
            let budget_end = scheduler.handoffs + HANDOFFS_PER_RUN_LIMIT;
            while scheduler.advance_round(until_us)?.is_some() {
                scheduler.check_budget(budget_end)?;
            }
            Ok::<(), ClusterError>(())
        })?;
        self.set_now(until_us);
        Ok(())
    }

    /// Between two rounds of a run or a wait: stops it if interrupted or over its
    /// hand-offs, and says where it has got to.
    fn check_budget(&self, budget_end: u64) -> Result<(), ClusterError> {
        self.publish_position();
        if self.interrupt.load(Ordering::Relaxed) {
            return Err(ClusterError::Interrupted {
                time_us: self.now_us,
            });
        }
        if self.handoffs >= budget_end {
            let (handoffs, time_us) = (HANDOFFS_PER_RUN_LIMIT, self.now_us);
            return Err(ClusterError::RunTooLong { handoffs, time_us });
        }
        Ok(())
    }

    /// Runs until `done` holds (checked before each hand-off and at the end) or the clock
    /// reaches `until_us`. Returns whether `done` held.
    pub fn run_while<F>(&mut self, until_us: u64, mut done: F) -> Result<bool, ClusterError>
    where
        F: FnMut(&Scheduler) -> bool,
    {
        self.quietly(|scheduler| {
            let budget_end = scheduler.handoffs + HANDOFFS_PER_RUN_LIMIT;
            loop {
                if done(scheduler) {
                    return Ok(true);
                }
                scheduler.check_budget(budget_end)?;
                if scheduler.advance_round(until_us)?.is_none() {
                    scheduler.set_now(until_us);
                    return Ok(done(scheduler));
                }
            }
        })
    }

    /// Processes the next hand-off due at or before `limit_us`: the clock moves to its
    /// time. `None` when nothing is due by then.
    pub fn advance(&mut self, limit_us: u64) -> Result<Option<StepReport>, ClusterError> {
        let Some(round) = self.advance_round(limit_us)? else {
            return Ok(None);
        };
        let before = self.picture_before.take();
        Ok(Some(self.step_report(round.node(), before)))
    }

    /// [`Scheduler::advance`] without its report, which a run of many hand-offs does not
    /// want (nor the copies of it moved back up): `None` when nothing was due by
    /// `limit_us`.
    fn advance_round(&mut self, limit_us: u64) -> Result<Option<Round>, ClusterError> {
        if self.parallel {
            return self.advance_parallel(limit_us);
        }
        let mut idle_rounds = 0;
        loop {
            let Some(time_us) = self.next_event_us() else {
                return Ok(None);
            };
            if time_us > limit_us {
                return Ok(None);
            }
            self.now_us = self.now_us.max(time_us);
            self.observers.clear_step_events();
            let events_before = self.observers.events_emitted();
            self.client_housekeeping();
            self.drop_undeliverable();
            if let Some(node) = self.due_node() {
                self.count_instant()?;
                let inputs = self.due_inputs(node)?;
                self.hand_off_batch(node, inputs)?;
                return Ok(Some(Round::HandedTo(node)));
            }
            if self.observers.events_emitted() != events_before {
                return Ok(Some(Round::Other));
            }
            idle_rounds += 1;
            if idle_rounds > IDLE_ROUNDS_PER_INSTANT_LIMIT {
                return Err(ClusterError::Livelock {
                    time_us: self.now_us,
                });
            }
        }
    }

    /// Counts a due hand-off at the current instant; too many is a livelock.
    fn count_instant(&mut self) -> Result<(), ClusterError> {
        if self.instant.0 != self.now_us {
            self.instant = (self.now_us, 0);
        }
        self.instant.1 += 1;
        if self.instant.1 > DUE_HANDOFFS_PER_INSTANT_LIMIT {
            return Err(ClusterError::Livelock {
                time_us: self.now_us,
            });
        }
        Ok(())
    }

    /// The nodes whose timers are due at `now`, earliest first.
    fn due_timers(&self, now: u64) -> impl Iterator<Item = NodeId> + '_ {
        self.timers.due(now)
    }

    /// Every up node with a message, timer or client request due now, perhaps more than
    /// once, in no order.
    fn due_work(&self) -> impl Iterator<Item = NodeId> + '_ {
        let now = self.now_us;
        let messages = self.world.network().due_receivers(now);
        let clients = self.clients.send_targets(now);
        messages
            .chain(self.due_timers(now))
            .chain(clients)
            .filter(|&n| self.world.is_up(n))
    }

    /// The lowest-numbered up node with a message, timer or client request due now: what
    /// `self.due_work().min()` gives, found with less work, as this runs on every round.
    /// The receivers of messages and the targets of clients come in id order, so the
    /// first up one of each is its least; the due timers come in time order.
    fn due_node(&self) -> Option<NodeId> {
        let now = self.now_us;
        let up = |&node: &NodeId| self.world.is_up(node);
        let message = self.world.network().due_receivers(now).find(up);
        let timer = self.due_timers(now).filter(up).min();
        let client = self.clients.send_targets(now).find(up);
        least(least(message, timer), client)
    }

    /// Every up node with a message, timer or client request due now, in id order.
    fn due_nodes(&self) -> Vec<NodeId> {
        let due: BTreeSet<NodeId> = self.due_work().collect();
        due.into_iter().collect()
    }

    /// Everything due for `node` now: messages in delivery order, its timer, client
    /// requests.
    /// The list is one a node handed back, if there is one ([`Scheduler::take_report`]).
    fn due_inputs(&mut self, node: NodeId) -> Result<Vec<NodeInput>, ClusterError> {
        let now = self.now_us;
        let mut inputs = std::mem::take(&mut self.inputs_scratch);
        // The messages go straight from the network into the batch.
        let (network, observers) = (self.world.network_mut(), &mut self.observers);
        network.take_due_for(node, now, |message| {
            observers.emit_unsent(now, || EventKind::Delivered {
                id: message.id,
                info: MsgInfo::of(&message.envelope),
            });
            inputs.push(NodeInput::Deliver(message.envelope));
        });
        if self
            .world
            .slot(node)?
            .running
            .as_ref()
            .is_some_and(|r| r.timer_us <= now)
        {
            self.emit_unsent(|| EventKind::Timer { node });
            inputs.push(NodeInput::Tick);
        }
        self.take_client_requests(node, &mut inputs);
        Ok(inputs)
    }

    /// Drops the messages due now that cannot arrive: receiver down or link cut. Inlined
    /// into its round, as this runs on every one: usually no link is cut and every node
    /// is up, and there is nothing to look for.
    #[inline(always)]
    fn drop_undeliverable(&mut self) {
        if !self.world.network().any_cut() && self.every_receiver_up() {
            return;
        }
        self.drop_undeliverable_now();
    }

    /// [`Scheduler::drop_undeliverable`] once a link is cut or some node is down.
    fn drop_undeliverable_now(&mut self) {
        let now = self.now_us;
        let network = self.world.network();
        let is_down = |&to: &NodeId| !self.world.is_up(to);
        if !network.any_cut() && !network.due_receivers(now).any(|to| is_down(&to)) {
            return;
        }
        let down: Vec<NodeId> = network.due_receivers(now).filter(is_down).collect();
        let undeliverable = self.world.network_mut().take_undeliverable(now, &down);
        for (message, reason) in undeliverable {
            let (id, info) = (message.id, MsgInfo::of(&message.envelope));
            self.emit(EventKind::Dropped { id, info, reason });
        }
    }

    /// Whether every node that was ever sent a message is up: every node hosted is up,
    /// and every one sent a message is hosted (checked again only when the network has
    /// a new receiver, or a node is no longer hosted).
    #[inline(always)]
    fn every_receiver_up(&mut self) -> bool {
        self.world.all_up()
            && (self.world.network().receivers().len() == self.receivers_hosted
                || self.receivers_all_hosted())
    }

    /// Whether every node the network ever sent a message to is hosted; if so, notes how
    /// many there are.
    fn receivers_all_hosted(&mut self) -> bool {
        let mut receivers = self.world.network().receivers();
        let count = receivers.len();
        if !receivers.all(|to| self.world.slot(to).is_ok()) {
            return false;
        }
        self.receivers_hosted = count;
        true
    }

    // ---- hand-offs ------------------------------------------------------------------

    /// [`Scheduler::advance`] with nodes in parallel: moves the clock to the earliest work
    /// due by `limit_us`, hands every idle node with work due its batch, then processes
    /// the next report that comes from a node still working. A node with work due while
    /// it works gets it once its report is in. `None` when nothing is due and no node
    /// works.
    fn advance_parallel(&mut self, limit_us: u64) -> Result<Option<Round>, ClusterError> {
        self.observers.clear_step_events();
        let events_before = self.observers.events_emitted();
        let mut started = false;
        if let Some(time_us) = self.next_event_us().filter(|&t| t <= limit_us) {
            self.now_us = self.now_us.max(time_us);
            self.client_housekeeping();
            self.drop_undeliverable();
            for node in self.due_nodes() {
                if self.busy.contains(&node) {
                    continue;
                }
                self.count_instant()?;
                let inputs = self.due_inputs(node)?;
                self.handoffs += 1;
                let report = self.spare_reports.pop().unwrap_or_default();
                match self.send_batch(node, inputs, report) {
                    Ok(()) => self.busy.push(node),
                    Err(crash) => self.mark_crashed(node, crash),
                }
                started = true;
            }
        }
        if !self.busy.is_empty() {
            self.finish_one_busy();
        } else if !started && self.observers.events_emitted() == events_before {
            return Ok(None);
        }
        Ok(Some(Round::Other))
    }

    /// Waits for the next report of a node that is working and processes it. A node that
    /// does not answer within the limit is marked crashed, as are the others still
    /// working then (the wait is for any of them).
    fn finish_one_busy(&mut self) {
        match self.next_report() {
            Ok(FromNode::Report(report)) => {
                if let Some(position) = self.busy.iter().position(|&n| n == report.node) {
                    self.busy.swap_remove(position);
                    self.take_report(report);
                }
            }
            Ok(FromNode::Crashed { node, message }) => {
                if let Some(position) = self.busy.iter().position(|&n| n == node) {
                    self.busy.swap_remove(position);
                    self.mark_crashed(node, Crash::Panicked { message });
                }
            }
            Err(_) => {
                for node in std::mem::take(&mut self.busy) {
                    self.mark_crashed(node, unanswered());
                }
            }
        }
    }

    /// Waits for every node still working and processes their reports.
    fn finish_busy(&mut self) {
        while !self.busy.is_empty() {
            self.finish_one_busy();
        }
    }

    /// Sends `node`'s thread a batch of inputs due now, and a report to fill.
    fn send_batch(
        &self,
        node: NodeId,
        inputs: Vec<NodeInput>,
        report: Box<NodeReport>,
    ) -> Result<(), Crash> {
        let batch = ToNode::Batch {
            now_us: self.now_us,
            inputs,
            report,
            parallel: self.parallel,
        };
        match self.world.running(node) {
            Some(Running {
                host: Host::Thread { inbox, .. },
                ..
            }) if inbox.send(batch).is_ok() => Ok(()),
            _ => Err(Crash::ThreadEnded),
        }
    }

    /// Hands a node a batch of inputs at the current time and processes its report.
    fn hand_off(
        &mut self,
        node: NodeId,
        inputs: Vec<NodeInput>,
    ) -> Result<StepReport, ClusterError> {
        self.hand_off_batch(node, inputs)?;
        let before = self.picture_before.take();
        Ok(self.step_report(Some(node), before))
    }

    /// Hands a node a batch of inputs at the current time and processes its report,
    /// without building a [`StepReport`]: when hand-offs are reported, the node's picture
    /// before is left in `picture_before` for one.
    fn hand_off_batch(&mut self, node: NodeId, inputs: Vec<NodeInput>) -> Result<(), ClusterError> {
        // A node still working on a batch of its own answers that one first.
        self.finish_busy();
        let before = match self.observers.reporting() {
            true => self.world.status_of(node).ok(),
            false => None,
        };
        self.handoffs += 1;
        let now_us = self.now_us;
        let report = self.spare_reports.pop().unwrap_or_default();
        let running = self
            .world
            .slot_mut(node)?
            .running
            .as_mut()
            .ok_or(ClusterError::NodeIsDown(node))?;
        let outcome = match &mut running.host {
            Host::Thread { .. } => self.send_batch(node, inputs, report).map(|()| None),
            Host::Inline(dispatcher) => (dispatcher.handle_caught(now_us, inputs, report))
                .map(Some)
                .map_err(|message| Crash::Panicked { message }),
        };
        match outcome {
            // On its thread: its report is awaited as any working node's is.
            Ok(None) => {
                self.busy.push(node);
                self.finish_busy();
            }
            Ok(Some(report)) => self.take_report(report),
            Err(crash) => self.mark_crashed(node, crash),
        }
        // Written only when there is a picture: unless hand-offs are reported there is
        // none, and `picture_before` is already empty (every reported hand-off's picture
        // is taken by its step report), so the large value is not moved on each hand-off.
        if before.is_some() || self.picture_before.is_some() {
            self.picture_before = before;
        }
        Ok(())
    }

    /// The next word from a node thread, waited for up to [`NODE_ANSWER_LIMIT`]
    /// ([`node::receive`]).
    fn next_report(&self) -> Result<FromNode, RecvTimeoutError> {
        node::receive(&self.reports, Some(NODE_ANSWER_LIMIT), self.parallel)
    }

    fn step_report(&mut self, node: Option<NodeId>, before: Option<NodePicture>) -> StepReport {
        let after = node
            .filter(|_| self.observers.reporting())
            .and_then(|n| self.world.status_of(n).ok());
        StepReport {
            time_us: self.now_us,
            node,
            before,
            after,
            events: self.observers.take_step_events(),
        }
    }

    /// Processes a node's report, then keeps its lists (and its batch's), emptied, for
    /// the next hand-offs.
    fn take_report(&mut self, mut report: Box<NodeReport>) {
        self.process_report(&mut report);
        let mut inputs = std::mem::take(&mut report.inputs);
        if self.inputs_scratch.capacity() < inputs.capacity() {
            inputs.clear();
            self.inputs_scratch = inputs;
        }
        self.spare_reports.push(report);
    }

    /// Takes in what a node did with its batch: its new timer and view, its steps for the
    /// checker, its events, the messages it sent, its replies to clients. The report's
    /// lists are left empty, their room kept.
    fn process_report(&mut self, report: &mut NodeReport) {
        let (node, now_us) = (report.node, self.now_us);
        if let Ok(slot) = self.world.slot_mut(node)
            && let Some(running) = slot.running.as_mut()
        {
            let old_us = std::mem::replace(&mut running.timer_us, report.next_deadline_us);
            running.update_view(&mut report.view);
            // A running node's timer is in `timers` under its `timer_us`: moved only when
            // the deadline moved.
            if old_us != report.next_deadline_us {
                running.timer_set_us = now_us;
                self.timers.reset(node, old_us, report.next_deadline_us);
            }
        }
        self.observers
            .checker_mut()
            .observe(now_us, node, &report.steps);
        // The events are read in place (each a few words, copied): the steps, emptied,
        // are kept with their lists' room for the node's next steps.
        for step in report.steps.iter() {
            for event in &step.events {
                let event = || EventKind::Raft {
                    node,
                    event: event.clone(),
                };
                self.emit_unsent(event);
            }
        }
        report.steps.clear();
        self.publish_violations();
        let (network, observers) = (self.world.network_mut(), &mut self.observers);
        for envelope in report.messages.drain(..) {
            network.send_into(now_us, envelope, |kind| observers.emit_inline(now_us, kind));
        }
        // Usually none: a node answers a client as its entry applies, once an operation.
        if !report.replies.is_empty() {
            for reply in report.replies.drain(..) {
                self.client_reply(node, reply.op, reply.result);
            }
        }
        self.observers.watch_storm(now_us, self.world.network_mut());
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The lesser of two values, either of which may be missing.
fn least<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Why a node thread that did not report within [`NODE_ANSWER_LIMIT`] is marked crashed.
fn unanswered() -> Crash {
    let limit_s = NODE_ANSWER_LIMIT.as_secs();
    Crash::Silent { limit_s }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::ClockMode;
    use crate::cluster::kv::KvOp;

    fn scheduler(hosting: Hosting) -> Scheduler {
        let config = ClusterConfig {
            nodes: 3,
            seed: 5,
            clock: ClockMode::Virtual,
            hosting,
            ..Default::default()
        };
        let mut scheduler = Scheduler::start(config).expect("the cluster starts");
        scheduler.observers_mut().set_reporting(true);
        scheduler
    }

    /// A node hosted inline sends no view in its reports; the one the world builds when
    /// asked is, after every hand-off, the one a node on a thread reports: the same
    /// pictures before and after each step, the same leader, the same views.
    #[test]
    fn an_inline_nodes_view_read_when_asked_is_the_view_a_thread_reports() {
        let mut threads = scheduler(Hosting::Threads);
        let mut inline = scheduler(Hosting::Inline);
        let mut led = 0;
        for step in 0..600 {
            if step % 20 == 0 {
                for scheduler in [&mut threads, &mut inline] {
                    let put = KvOp::Put {
                        key: format!("k{step}"),
                        value: "v".to_string(),
                    };
                    scheduler
                        .submit(put, None, None, None)
                        .expect("a put starts");
                }
            }
            let expected = threads.advance(u64::MAX).expect("a step");
            assert_eq!(inline.advance(u64::MAX).expect("a step"), expected);
            let leader = threads.world().leader();
            assert_eq!(inline.world().leader(), leader, "step {step}");
            led += usize::from(leader.is_some());
            for node in 1..=3 {
                let view = threads.world().view_of(node);
                assert_eq!(inline.world().view_of(node), view, "step {step}, n{node}");
            }
        }
        assert!(led > 300, "a leader for only {led} steps");
        let committed = |s: &Scheduler| s.world().view_of(1).map(|view| view.commit);
        assert!(committed(&inline) > Some(10), "{:?}", committed(&inline));
    }
}
