//! The scheduler: the one authority on cluster time. It owns the network, every node's
//! timer and the clients, and decides what happens next: it finds the earliest due
//! instant, hands the lowest-numbered node with work at that instant all of that work
//! (messages in id order, then its timer, then client requests) and waits for the node's
//! report before it goes on. One hand-off at a time, in a fixed order, is what makes a
//! paused or virtual run the same on every machine.
//!
//! In realtime the nodes run in parallel ([`Sim::set_parallel`]): every idle node with
//! work due is handed it, and each report is processed as it comes while the others
//! work on. The checker still sees one valid order of steps: a node's step depends only
//! on its own state and the inputs it was handed, so it may be taken to happen when its
//! report is processed, and what it sends moves on only then.

use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use crate::raft::{
    Entry, FollowerProgress, Index, NodeId, NodeView, Payload, RaftLog, Role, Storage, Term,
};

use super::checker::{Checker, Violation};
use super::client_table::{ClientTable, Stage};
use super::event::{ClusterEvent, Crash, DropReason, EventKind, MsgInfo, NetworkChange};
use super::kv::KvStateMachine;
use super::network::Network;
use super::node::{self, EventDispatcher, FromNode, NodeInput, NodeReport, ToNode, lock};
use super::storm::{self, StormLimits};
use super::{ClusterConfig, ClusterError, Hosting, NetworkConfig, seed};

mod client_requests;

/// How long the scheduler waits for a node's report before it declares the node hung.
const NODE_ANSWER_LIMIT: Duration = Duration::from_secs(10);
/// How many events the scheduler keeps for `events`.
const EVENT_LOG_CAPACITY: usize = 100_000;
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
/// How many crashes the scheduler remembers for [`Sim::crash_log`].
pub const CRASHES_KEPT: usize = 100;
/// How long a client waits before trying again when no node knows the leader.
const CLIENT_BACKOFF_US: u64 = 10_000;

/// Whether a node is running.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeState {
    Up,
    Down,
    /// The node's thread panicked (or stopped answering).
    Crashed(Crash),
}

/// A node as the views show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeStatus {
    pub id: NodeId,
    pub state: NodeState,
    /// The role, for a node that is up.
    pub role: Option<Role>,
    pub term: Term,
    pub vote: Option<NodeId>,
    pub leader: Option<NodeId>,
    pub last_index: Index,
    pub last_term: Term,
    /// Commit and applied are volatile: 0 for a node that is down.
    pub commit: Index,
    pub applied: Index,
    /// The node's partition group (0-based), if the network is partitioned.
    pub group: Option<usize>,
    /// A candidate's votes: (granted so far, its own included; voters in all). A majority
    /// of the voters wins.
    pub votes: Option<(u32, u32)>,
    /// A leader's `nextIndex` and `matchIndex` for each follower, in id order.
    pub progress: Vec<FollowerProgress>,
}

/// Where a running node's dispatcher lives.
enum Host {
    /// On a thread of its own, fed through its inbox.
    Thread {
        inbox: Sender<ToNode>,
        thread: JoinHandle<()>,
    },
    /// Here, called directly.
    Inline(Box<EventDispatcher>),
}

/// A running node: where it runs and what the scheduler knows of it.
struct Running {
    host: Host,
    timer_us: u64,
    /// When `timer_us` was last set to a new deadline, for views that draw how much of
    /// the timeout has passed.
    timer_set_us: u64,
    view: NodeView,
    state_machine: Arc<Mutex<KvStateMachine>>,
}

struct NodeSlot {
    id: NodeId,
    storage: Arc<Mutex<Storage>>,
    running: Option<Running>,
    crashed: Option<Crash>,
    incarnation: u64,
}

/// The events kept for `events`, and the subscribers that see each one as it happens.
#[derive(Default)]
struct EventLog {
    recent: VecDeque<ClusterEvent>,
    subscribers: Vec<Sender<ClusterEvent>>,
}

impl EventLog {
    fn push(&mut self, event: ClusterEvent) {
        self.subscribers.retain(|s| s.send(event.clone()).is_ok());
        if self.recent.len() == EVENT_LOG_CAPACITY {
            self.recent.pop_front();
        }
        self.recent.push_back(event);
    }
}

/// What one hand-off did, for `step`.
#[derive(Clone, Debug, PartialEq)]
pub struct StepReport {
    pub time_us: u64,
    /// The node that was handed work, if any (a hand-off may only drop messages).
    pub node: Option<NodeId>,
    pub before: Option<NodeStatus>,
    pub after: Option<NodeStatus>,
    pub events: Vec<ClusterEvent>,
}

/// The cluster's whole state, owned by the scheduler.
pub struct Sim {
    config: ClusterConfig,
    now_us: u64,
    nodes: Vec<NodeSlot>,
    network: Network,
    reports_tx: Sender<FromNode>,
    reports: Receiver<FromNode>,
    clients: ClientTable,
    log: EventLog,
    /// Events since the last `take_step_events`, for `step` reports.
    step_events: Vec<ClusterEvent>,
    /// Whether hand-offs report what they did (`step`, `deliver`, ...). A run of many
    /// hand-offs (`run`, waits) does not: it skips the copies a report needs.
    reporting: bool,
    /// Every running node's timer, as (due time, node): the earliest first.
    timers: BTreeSet<(u64, NodeId)>,
    /// Whether nodes are handed work while others are still working (realtime only).
    parallel: bool,
    /// The nodes handed a batch whose report has not been processed yet (parallel only).
    busy: Vec<NodeId>,
    handoffs: u64,
    /// The instant of the last due hand-off, and how many there were at it.
    instant: (u64, u32),
    /// How many events the cluster has emitted.
    events: u64,
    checker: Checker,
    /// The messages being handed to a node, and the events of those a node sends: kept
    /// between hand-offs so as not to allocate on each.
    due_scratch: Vec<super::network::InFlight>,
    sent_scratch: Vec<EventKind>,
    /// Set from outside (Ctrl-C at the REPL) to stop a long run between two hand-offs.
    interrupt: Arc<AtomicBool>,
    /// The bounds on the network's load ([`super::storm`]).
    storm_limits: StormLimits,
    /// The second of cluster time being counted, and its events so far.
    rate: (u64, u64),
    /// The most events of one second of cluster time so far (the current one included).
    peak_rate: u64,
    /// Whether a storm was reported (once per run).
    storm_reported: bool,
    /// Every crash of the run, in order (the first [`CRASHES_KEPT`]).
    crash_log: Vec<(NodeId, Crash)>,
}

impl Sim {
    /// Builds the cluster and starts every node at time 0.
    pub fn start(config: ClusterConfig) -> Result<Sim, ClusterError> {
        config.validate()?;
        let (reports_tx, reports) = crossbeam_channel::unbounded();
        let mut network = Network::new(
            config.network.clone(),
            seed::derive(config.seed, seed::NETWORK, 0),
        );
        let storm_limits = StormLimits::for_nodes(config.nodes);
        network.set_limits(storm_limits);
        let nodes = (1..=config.nodes)
            .map(|id| NodeSlot {
                id,
                storage: Arc::new(Mutex::new(Storage::default())),
                running: None,
                crashed: None,
                incarnation: 0,
            })
            .collect();
        let voters: Vec<NodeId> = (1..=config.nodes).collect();
        let mut sim = Sim {
            config,
            now_us: 0,
            nodes,
            network,
            reports_tx,
            reports,
            clients: ClientTable::default(),
            // The whole ring at once: growing it by doubling copies every event kept.
            // Its pages are only touched as events arrive.
            log: EventLog {
                recent: VecDeque::with_capacity(EVENT_LOG_CAPACITY),
                subscribers: Vec::new(),
            },
            step_events: Vec::new(),
            reporting: true,
            timers: BTreeSet::new(),
            parallel: false,
            busy: Vec::new(),
            handoffs: 0,
            instant: (0, 0),
            events: 0,
            checker: Checker::with_voters(&voters),
            due_scratch: Vec::new(),
            sent_scratch: Vec::new(),
            interrupt: Arc::new(AtomicBool::new(false)),
            storm_limits,
            rate: (0, 0),
            peak_rate: 0,
            storm_reported: false,
            crash_log: Vec::new(),
        };
        for id in 1..=sim.config.nodes {
            sim.launch(id)?;
        }
        Ok(sim)
    }

    pub fn config(&self) -> &ClusterConfig {
        &self.config
    }

    pub fn now_us(&self) -> u64 {
        self.now_us
    }

    pub fn handoffs(&self) -> u64 {
        self.handoffs
    }

    /// The most events the cluster emitted in one second of cluster time so far.
    pub fn peak_events_per_second(&self) -> u64 {
        self.peak_rate
    }

    /// Sets the bounds on the network's load (by default, [`StormLimits::for_nodes`]).
    pub fn set_storm_limits(&mut self, limits: StormLimits) {
        self.storm_limits = limits;
        self.network.set_limits(limits);
    }

    /// Reports a message storm to the checker, once: the network past a bound of messages
    /// in flight, or too many events in one second of cluster time.
    fn watch_storm(&mut self) {
        let found = self.network.take_storm().or_else(|| {
            let (second, events) = self.rate;
            (events > self.storm_limits.events_per_second).then(|| {
                let load = storm::Load::EventsInSecond { events, second };
                let messages = self.network.in_flight().into_iter();
                storm::summarise(load, messages.map(|m| storm::kind_and_link(&m)))
            })
        });
        if let Some((detail, nodes)) = found
            && !self.storm_reported
        {
            self.storm_reported = true;
            self.checker.report_storm(self.now_us, nodes, detail);
            self.publish_violations();
        }
    }

    /// Lets the nodes run in parallel: every node that is idle and has work due is handed
    /// it at once, and each report is processed as it comes, while the other nodes work
    /// on; otherwise one node at a time, each report awaited. Only for a realtime clock,
    /// and only with nodes on threads: the order of reports depends on the wall clock
    /// there anyway, while a paused or virtual run must stay the same on every machine.
    /// Turning it off waits for the nodes still working and processes their reports, so
    /// that nothing is in flight outside a parallel stretch.
    pub fn set_parallel(&mut self, on: bool) {
        self.parallel = on && self.config.hosting == Hosting::Threads;
        if !self.parallel {
            self.finish_busy();
        }
    }

    /// Runs what is due up to `limit_us`, as [`Sim::advance`] does, but without building
    /// a step report. Returns whether anything was due.
    pub fn advance_quietly(&mut self, limit_us: u64) -> Result<bool, ClusterError> {
        self.quietly(|sim| sim.advance(limit_us))
            .map(|report| report.is_some())
    }

    /// Runs `work` without building step reports: a run of many hand-offs skips the copies
    /// a report needs.
    fn quietly<R>(&mut self, work: impl FnOnce(&mut Sim) -> R) -> R {
        let reporting = std::mem::replace(&mut self.reporting, false);
        let result = work(self);
        self.reporting = reporting;
        result
    }

    /// Moves the clock forward to `time_us` without events (the realtime clock, `run`).
    pub fn set_now(&mut self, time_us: u64) {
        self.now_us = self.now_us.max(time_us);
    }

    /// The voters a node is built with: the initial cluster. The configuration entries
    /// in its log, if any, take over from these.
    fn voters(&self) -> Vec<NodeId> {
        (1..=self.config.nodes).collect()
    }

    /// Every node the cluster hosts, the initial ones and those added since, in order.
    pub fn hosted(&self) -> Vec<NodeId> {
        self.nodes.iter().map(|slot| slot.id).collect()
    }

    fn slot(&self, id: NodeId) -> Result<&NodeSlot, ClusterError> {
        // Slots are kept sorted by id.
        match self.nodes.binary_search_by_key(&id, |slot| slot.id) {
            Ok(position) => Ok(&self.nodes[position]),
            Err(_) => Err(self.no_such_node(id)),
        }
    }

    fn slot_mut(&mut self, id: NodeId) -> Result<&mut NodeSlot, ClusterError> {
        match self.nodes.binary_search_by_key(&id, |slot| slot.id) {
            Ok(position) => Ok(&mut self.nodes[position]),
            Err(_) => Err(self.no_such_node(id)),
        }
    }

    fn no_such_node(&self, node: NodeId) -> ClusterError {
        ClusterError::NoSuchNode {
            node,
            nodes: self.config.nodes,
        }
    }

    /// Checks that `node` exists.
    pub fn check_node(&self, node: NodeId) -> Result<(), ClusterError> {
        self.slot(node).map(|_| ())
    }

    /// The first node that crashed (its thread panicked or hung), with the message.
    pub fn crashed(&self) -> Option<(NodeId, Crash)> {
        self.nodes
            .iter()
            .find_map(|slot| slot.crashed.clone().map(|message| (slot.id, message)))
    }

    /// Every node crash of the run so far, in order, with its message (a restarted node's
    /// too): the first hundred (`CRASHES_KEPT`).
    pub fn crash_log(&self) -> &[(NodeId, Crash)] {
        &self.crash_log
    }

    pub fn is_up(&self, node: NodeId) -> bool {
        self.slot(node).is_ok_and(|slot| slot.running.is_some())
    }

    /// The checker, with every violation found so far.
    pub fn checker(&self) -> &Checker {
        &self.checker
    }

    /// Every violation kept so far (see [`Checker::violations`]).
    pub fn violations(&self) -> &[Violation] {
        self.checker.violations()
    }

    /// Publishes the violations the checker found since the last call.
    fn publish_violations(&mut self) {
        for violation in self.checker.take_new() {
            self.emit(EventKind::Violation(violation));
        }
    }

    /// How many events the cluster has emitted since it started.
    pub fn events_emitted(&self) -> u64 {
        self.events
    }

    /// The events emitted after the first `seen`, oldest first, without copying them: for
    /// a caller inside the driver that reads every event as it goes (a closed-loop load),
    /// where a subscription would copy each one through a channel. Events older than the
    /// event log keeps are gone; the count of those missed comes first.
    pub fn events_since(&self, seen: u64) -> (u64, impl Iterator<Item = &ClusterEvent>) {
        let kept_from = self.events - self.log.recent.len() as u64;
        let missed = kept_from.saturating_sub(seen);
        let skip = seen.saturating_sub(kept_from) as usize;
        (
            missed,
            self.log.recent.range(skip.min(self.log.recent.len())..),
        )
    }

    fn emit(&mut self, kind: EventKind) {
        self.events += 1;
        let second = self.now_us / 1_000_000;
        if self.rate.0 != second {
            self.rate = (second, 0);
        }
        self.rate.1 += 1;
        self.peak_rate = self.peak_rate.max(self.rate.1);
        let event = ClusterEvent {
            time_us: self.now_us,
            kind,
        };
        if self.reporting {
            self.step_events.push(event.clone());
        }
        self.log.push(event);
    }

    // ---- nodes up and down ----------------------------------------------------------

    /// Builds node `id` from its durable storage and starts its thread.
    fn launch(&mut self, id: NodeId) -> Result<(), ClusterError> {
        let voters = self.voters();
        let (raft, cluster_seed, now_us) =
            (self.config.raft.clone(), self.config.seed, self.now_us);
        let reports = self.reports_tx.clone();
        let slot = self.slot_mut(id)?;
        slot.incarnation += 1;
        let node_seed = seed::derive(cluster_seed, seed::NODE, (id << 20) | slot.incarnation);
        let state_machine = Arc::new(Mutex::new(KvStateMachine::default()));
        let dispatcher = EventDispatcher::new(
            id,
            &voters,
            raft,
            slot.storage.clone(),
            state_machine.clone(),
            node_seed,
            now_us,
        );
        let (timer_us, view) = (dispatcher.next_deadline_us(), dispatcher.view());
        self.checker.node_up(now_us, id, &view);
        let host = match self.config.hosting {
            Hosting::Threads => {
                let (inbox, inbox_rx) = crossbeam_channel::unbounded();
                let thread = node::spawn(id, dispatcher, inbox_rx, reports)
                    .map_err(|e| ClusterError::Spawn(e.to_string()))?;
                Host::Thread { inbox, thread }
            }
            Hosting::Inline => Host::Inline(Box::new(dispatcher)),
        };
        self.timers.insert((timer_us, id));
        let slot = self.slot_mut(id)?;
        slot.running = Some(Running {
            host,
            timer_us,
            timer_set_us: now_us,
            view,
            state_machine,
        });
        slot.crashed = None;
        Ok(())
    }

    /// Ends node `id`'s thread; its volatile state is lost, its storage kept.
    pub fn kill(&mut self, id: NodeId) -> Result<(), ClusterError> {
        self.finish_busy();
        let slot = self.slot_mut(id)?;
        let running = slot.running.take().ok_or(ClusterError::NodeIsDown(id))?;
        self.timers.remove(&(running.timer_us, id));
        stop_thread(running);
        self.checker.node_down(id);
        let drops = self.network.drop_node_traffic(id);
        self.emit(EventKind::NodeKilled { node: id });
        for kind in drops {
            self.emit(kind);
        }
        Ok(())
    }

    /// Rebuilds node `id` from its durable storage.
    pub fn restart(&mut self, id: NodeId) -> Result<(), ClusterError> {
        self.finish_busy();
        if self.slot(id)?.running.is_some() {
            return Err(ClusterError::NodeIsUp(id));
        }
        self.launch(id)?;
        self.emit(EventKind::NodeRestarted { node: id });
        self.publish_violations();
        Ok(())
    }

    /// Records that node `id` crashed: its thread is gone or hung.
    fn mark_crashed(&mut self, id: NodeId, crash: Crash) {
        if let Ok(slot) = self.slot_mut(id) {
            // A hung thread is left to itself; a panicked one has already ended.
            let running = slot.running.take();
            slot.crashed = Some(crash.clone());
            if let Some(running) = running {
                self.timers.remove(&(running.timer_us, id));
            }
        }
        if self.crash_log.len() < CRASHES_KEPT {
            self.crash_log.push((id, crash.clone()));
        }
        self.checker.node_down(id);
        for kind in self.network.drop_node_traffic(id) {
            self.emit(kind);
        }
        self.emit(EventKind::NodeCrashed { node: id, crash });
    }

    /// Replaces a down node's durable log with entries of the given terms (to build the
    /// paper's figures). Its term becomes at least the last entry's term.
    pub fn set_log(&mut self, id: NodeId, terms: &[Term]) -> Result<(), ClusterError> {
        let slot = self.slot(id)?;
        if slot.running.is_some() {
            return Err(ClusterError::NodeIsUp(id));
        }
        if terms.windows(2).any(|pair| pair[0] > pair[1]) {
            return Err(ClusterError::TermsDecrease);
        }
        let entries: Vec<Entry> = (1..)
            .zip(terms)
            .map(|(index, &term)| Entry {
                index,
                term,
                payload: Payload::Noop,
            })
            .collect();
        let mut storage = lock(&slot.storage);
        let old = storage.clone();
        *storage = Storage::with_log(entries, old.term);
        if storage.term == old.term {
            storage.vote = old.vote;
        }
        let replaced = storage.clone();
        drop(storage);
        self.checker.log_replaced(id, &replaced);
        Ok(())
    }

    /// Stops every node thread and waits for each to end.
    pub fn shutdown(&mut self) {
        self.finish_busy();
        for slot in &mut self.nodes {
            if let Some(running) = slot.running.take() {
                stop_thread(running);
            }
        }
        self.timers.clear();
    }

    // ---- views ----------------------------------------------------------------------

    /// Every node's status, in id order.
    pub fn status(&self) -> Vec<NodeStatus> {
        self.nodes
            .iter()
            .map(|slot| self.node_status(slot))
            .collect()
    }

    fn node_status(&self, slot: &NodeSlot) -> NodeStatus {
        let group = self
            .network
            .groups()
            .iter()
            .position(|g| g.contains(&slot.id));
        if let Some(running) = &slot.running {
            let view = &running.view;
            return NodeStatus {
                id: slot.id,
                state: NodeState::Up,
                role: Some(view.role),
                term: view.term,
                vote: view.vote,
                leader: view.leader,
                last_index: view.last_index,
                last_term: view.last_term,
                commit: view.commit,
                applied: view.applied,
                group,
                votes: (view.role == Role::Candidate)
                    .then(|| (view.votes_granted, view.voters.len() as u32)),
                progress: view
                    .progress
                    .as_deref()
                    .map(<[_]>::to_vec)
                    .unwrap_or_default(),
            };
        }
        let storage = lock(&slot.storage);
        NodeStatus {
            id: slot.id,
            state: slot
                .crashed
                .clone()
                .map_or(NodeState::Down, NodeState::Crashed),
            role: None,
            term: storage.term,
            vote: storage.vote,
            leader: None,
            last_index: storage.log.last_index(),
            last_term: storage.log.last_term(),
            commit: 0,
            applied: 0,
            group,
            votes: None,
            progress: Vec::new(),
        }
    }

    /// A running node's timer: when it fires next, and when that deadline was set.
    pub fn timer_of(&self, id: NodeId) -> Option<(u64, u64)> {
        let running = self.slot(id).ok()?.running.as_ref()?;
        Some((running.timer_us, running.timer_set_us))
    }

    /// The leader: the node that is up, leads, and has the highest term among leaders.
    pub fn leader(&self) -> Option<NodeId> {
        self.nodes
            .iter()
            .filter_map(|slot| slot.running.as_ref().map(|r| &r.view))
            .filter(|view| view.role == Role::Leader)
            .max_by_key(|view| view.term)
            .map(|view| view.id)
    }

    /// A node's durable log: the entries after its snapshot, if it has one.
    pub fn log_of(&self, id: NodeId) -> Result<Vec<Entry>, ClusterError> {
        Ok(lock(&self.slot(id)?.storage).log.entries().to_vec())
    }

    /// The last `count` entries of a node's durable log.
    pub fn log_tail_of(&self, id: NodeId, count: usize) -> Result<Vec<Entry>, ClusterError> {
        let storage = lock(&self.slot(id)?.storage);
        let entries = storage.log.entries();
        Ok(entries[entries.len().saturating_sub(count)..].to_vec())
    }

    /// Where a node's durable log starts: the last index and term of its snapshot, (0, 0)
    /// for a log never compacted.
    pub fn snapshot_of(&self, id: NodeId) -> Result<(Index, Term), ClusterError> {
        let storage = lock(&self.slot(id)?.storage);
        Ok((storage.log.snapshot_index(), storage.log.snapshot_term()))
    }

    /// A node's key-value contents; an error for a node that is down.
    pub fn kv_of(&self, id: NodeId) -> Result<Vec<(String, String)>, ClusterError> {
        let running = self
            .slot(id)?
            .running
            .as_ref()
            .ok_or(ClusterError::NodeIsDown(id))?;
        let state_machine = lock(&running.state_machine);
        Ok(state_machine
            .map()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }

    /// A node's value for `key`, if the node is up.
    pub fn kv_get(&self, id: NodeId, key: &str) -> Result<Option<String>, ClusterError> {
        let running = self
            .slot(id)?
            .running
            .as_ref()
            .ok_or(ClusterError::NodeIsDown(id))?;
        Ok(lock(&running.state_machine)
            .map()
            .get(key)
            .map(str::to_string))
    }

    pub fn network(&self) -> &Network {
        &self.network
    }

    pub fn network_mut(&mut self) -> &mut Network {
        &mut self.network
    }

    /// Records a change of the network, as an event.
    pub fn network_changed(&mut self, change: NetworkChange) {
        self.emit(EventKind::NetworkChanged { change });
    }

    /// Splits the cluster into `groups`; nodes named in none form one more group.
    pub fn partition(&mut self, groups: Vec<Vec<NodeId>>) -> Result<(), ClusterError> {
        let mut seen = std::collections::BTreeSet::new();
        for &node in groups.iter().flatten() {
            self.check_node(node)?;
            if !seen.insert(node) {
                return Err(ClusterError::NamedTwice(node));
            }
        }
        let nodes = self.hosted();
        self.network.partition(&nodes, groups.clone());
        self.network_changed(NetworkChange::Partition(groups));
        Ok(())
    }

    /// Cuts every link to and from `node`, leaving the other links as they are: isolating
    /// several nodes one after another leaves them all cut off.
    pub fn isolate(&mut self, node: NodeId) -> Result<(), ClusterError> {
        self.check_node(node)?;
        let nodes = self.hosted();
        for &other in nodes.iter().filter(|&&other| other != node) {
            self.network.cut(node, other);
            self.network.cut(other, node);
        }
        self.network.refresh_groups(&nodes);
        self.network_changed(NetworkChange::Isolate(node));
        Ok(())
    }

    /// Cuts (`up` false) or restores the link from `a` to `b`, and from `b` to `a` unless
    /// `one_way`.
    pub fn set_link(
        &mut self,
        a: NodeId,
        b: NodeId,
        one_way: bool,
        up: bool,
    ) -> Result<(), ClusterError> {
        self.check_node(a)?;
        self.check_node(b)?;
        if a == b {
            return Err(ClusterError::SelfLink(a));
        }
        let pairs = if one_way {
            vec![(a, b)]
        } else {
            vec![(a, b), (b, a)]
        };
        for (from, to) in pairs {
            if up {
                self.network.link(from, to)
            } else {
                self.network.cut(from, to)
            }
        }
        self.network.refresh_groups(&self.hosted());
        self.network_changed(NetworkChange::Link { a, b, one_way, up });
        Ok(())
    }

    /// Restores every link.
    pub fn heal(&mut self) {
        self.network.heal();
        self.network_changed(NetworkChange::Heal);
    }

    /// Changes the network's faults (loss, delay, duplication, reordering).
    pub fn set_network(&mut self, config: NetworkConfig) -> Result<(), ClusterError> {
        config.validate()?;
        self.network.set_config(config.clone());
        self.network_changed(NetworkChange::Faults(config));
        Ok(())
    }

    /// The term of node `id`'s durable entry at `index` (`Some(0)` for index 0).
    pub fn term_at(&self, id: NodeId, index: Index) -> Option<Term> {
        lock(&self.slot(id).ok()?.storage).log.term_at(index)
    }

    pub fn history(&self) -> &[super::ClientRecord] {
        &self.clients.history
    }

    /// The last `count` events, oldest first.
    pub fn recent_events(&self, count: usize) -> Vec<ClusterEvent> {
        let skip = self.log.recent.len().saturating_sub(count);
        self.log.recent.range(skip..).cloned().collect()
    }

    /// A channel that receives every event from now on.
    pub fn subscribe(&mut self) -> Receiver<ClusterEvent> {
        let (tx, rx) = crossbeam_channel::unbounded();
        self.log.subscribers.push(tx);
        rx
    }

    /// Hands this cluster's subscribers over, so that a cluster rebuilt in its place
    /// (`back`) goes on feeding the same channels.
    pub fn take_subscribers(&mut self) -> Vec<Sender<ClusterEvent>> {
        std::mem::take(&mut self.log.subscribers)
    }

    /// Takes over subscribers from a cluster this one replaces.
    pub fn add_subscribers(&mut self, subscribers: Vec<Sender<ClusterEvent>>) {
        self.log.subscribers.extend(subscribers);
    }

    /// Uses `flag` to interrupt long runs: once it is set, [`Sim::run_until_time`] and
    /// [`Sim::run_while`] stop before their next hand-off with
    /// [`ClusterError::Interrupted`]. Whoever sets it clears it.
    pub fn set_interrupt(&mut self, flag: Arc<AtomicBool>) {
        self.interrupt = flag;
    }

    /// Whether every up node's applied state matches: the same log prefix applied.
    /// Entries compacted into a snapshot are known only by the snapshot's last index and
    /// term, so two logs are compared over the indexes both still hold (and at a snapshot's
    /// last entry, by its term).
    pub fn logs_match(&self) -> bool {
        let logs: Vec<RaftLog> = self
            .nodes
            .iter()
            .map(|slot| lock(&slot.storage).log.clone())
            .collect();
        for a in &logs {
            for b in &logs {
                if !logs_agree(a, b) {
                    return false;
                }
            }
        }
        true
    }

    // ---- time -----------------------------------------------------------------------

    /// When the next thing is due: a message, a timer or a client.
    pub fn next_event_us(&self) -> Option<u64> {
        [
            self.network.next_due_us(),
            self.timers.first().map(|&(time_us, _)| time_us),
            self.clients.next_wake_us(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Runs every event due up to `until_us`, then sets the clock to `until_us`.
    pub fn run_until_time(&mut self, until_us: u64) -> Result<(), ClusterError> {
        self.quietly(|sim| {
            let budget_end = sim.handoffs + HANDOFFS_PER_RUN_LIMIT;
            while sim.advance(until_us)?.is_some() {
                sim.check_budget(budget_end)?;
            }
            Ok::<(), ClusterError>(())
        })?;
        self.set_now(until_us);
        Ok(())
    }

    fn check_budget(&self, budget_end: u64) -> Result<(), ClusterError> {
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
        F: FnMut(&Sim) -> bool,
    {
        self.quietly(|sim| {
            let budget_end = sim.handoffs + HANDOFFS_PER_RUN_LIMIT;
            loop {
                if done(sim) {
                    return Ok(true);
                }
                sim.check_budget(budget_end)?;
                if sim.advance(until_us)?.is_none() {
                    sim.set_now(until_us);
                    return Ok(done(sim));
                }
            }
        })
    }

    /// Processes the next hand-off due at or before `limit_us`: the clock moves to its
    /// time. `None` when nothing is due by then.
    pub fn advance(&mut self, limit_us: u64) -> Result<Option<StepReport>, ClusterError> {
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
            self.step_events.clear();
            let events_before = self.events;
            self.client_housekeeping();
            self.drop_undeliverable();
            if let Some(node) = self.due_node() {
                self.count_instant()?;
                return self.hand_off_due(node).map(Some);
            }
            if self.events != events_before {
                return Ok(Some(self.step_report(None, None)));
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
        self.timers.range(..=(now, NodeId::MAX)).map(|&(_, id)| id)
    }

    /// Every up node with a message, timer or client request due now, perhaps more than
    /// once, in no order.
    fn due_work(&self) -> impl Iterator<Item = NodeId> + '_ {
        let now = self.now_us;
        let messages = self.network.due_links(now).map(|(_, _, to)| to);
        let clients = self
            .clients
            .pending
            .values()
            .filter_map(move |op| match op.stage {
                Stage::ToSend { target, at_us } if at_us <= now => Some(target),
                _ => None,
            });
        messages
            .chain(self.due_timers(now))
            .chain(clients)
            .filter(|&n| self.is_up(n))
    }

    /// The lowest-numbered up node with a message, timer or client request due now.
    fn due_node(&self) -> Option<NodeId> {
        self.due_work().min()
    }

    /// Hands `node` everything due for it now.
    fn hand_off_due(&mut self, node: NodeId) -> Result<StepReport, ClusterError> {
        let inputs = self.due_inputs(node)?;
        self.hand_off(node, inputs)
    }

    /// Everything due for `node` now: messages in id order, its timer, client requests.
    fn due_inputs(&mut self, node: NodeId) -> Result<Vec<NodeInput>, ClusterError> {
        let now = self.now_us;
        let mut due = std::mem::take(&mut self.due_scratch);
        self.network.take_due_for(node, now, &mut due);
        // The messages, a tick and a client request or so.
        let mut inputs = Vec::with_capacity(due.len() + 2);
        for message in due.drain(..) {
            let info = MsgInfo::of(&message.envelope);
            self.emit(EventKind::Delivered {
                id: message.id,
                info,
            });
            inputs.push(NodeInput::Deliver(message.envelope));
        }
        self.due_scratch = due;
        if self
            .slot(node)?
            .running
            .as_ref()
            .is_some_and(|r| r.timer_us <= now)
        {
            self.emit(EventKind::Timer { node });
            inputs.push(NodeInput::Tick);
        }
        inputs.extend(self.take_client_requests(node));
        Ok(inputs)
    }

    /// [`Sim::advance`] with nodes in parallel: moves the clock to the earliest work due by
    /// `limit_us`, hands every idle node with work due its batch, then processes the next
    /// report that comes from a node still working. A node with work due while it works
    /// gets it once its report is in. `None` when nothing is due and no node works.
    fn advance_parallel(&mut self, limit_us: u64) -> Result<Option<StepReport>, ClusterError> {
        self.step_events.clear();
        let events_before = self.events;
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
                match self.send_batch(node, inputs) {
                    Ok(()) => self.busy.push(node),
                    Err(crash) => self.mark_crashed(node, crash),
                }
                started = true;
            }
        }
        if !self.busy.is_empty() {
            self.finish_one_busy();
        } else if !started && self.events == events_before {
            return Ok(None);
        }
        Ok(Some(self.step_report(None, None)))
    }

    /// Waits for the next report of a node that is working and processes it. A node that
    /// does not answer within the limit is marked crashed, as are the others still
    /// working then (the wait is for any of them).
    fn finish_one_busy(&mut self) {
        match self.next_report() {
            Ok(FromNode::Report(report)) => {
                if let Some(position) = self.busy.iter().position(|&n| n == report.node) {
                    self.busy.swap_remove(position);
                    self.process_report(report);
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

    /// Sends `node`'s thread a batch of inputs due now.
    fn send_batch(&self, node: NodeId, inputs: Vec<NodeInput>) -> Result<(), Crash> {
        let batch = ToNode::Batch {
            now_us: self.now_us,
            inputs,
        };
        match self.slot(node).ok().and_then(|slot| slot.running.as_ref()) {
            Some(Running {
                host: Host::Thread { inbox, .. },
                ..
            }) if inbox.send(batch).is_ok() => Ok(()),
            _ => Err(Crash::ThreadEnded),
        }
    }

    /// Every up node with a message, timer or client request due now, in id order.
    fn due_nodes(&self) -> Vec<NodeId> {
        let due: BTreeSet<NodeId> = self.due_work().collect();
        due.into_iter().collect()
    }

    /// Hands a node a batch of inputs at the current time and processes its report.
    fn hand_off(
        &mut self,
        node: NodeId,
        inputs: Vec<NodeInput>,
    ) -> Result<StepReport, ClusterError> {
        // A node still working on a batch of its own answers that one first.
        self.finish_busy();
        let before = match self.reporting {
            true => self.slot(node).map(|slot| self.node_status(slot)).ok(),
            false => None,
        };
        self.handoffs += 1;
        let now_us = self.now_us;
        let running = self
            .slot_mut(node)?
            .running
            .as_mut()
            .ok_or(ClusterError::NodeIsDown(node))?;
        let outcome = match &mut running.host {
            Host::Thread { .. } => self.send_batch(node, inputs).map(|()| None),
            Host::Inline(dispatcher) => node::catch_quietly(|| dispatcher.handle(now_us, inputs))
                .map(Some)
                .map_err(|panic| Crash::Panicked {
                    message: node::panic_message(&*panic),
                }),
        };
        match outcome {
            // On its thread: its report is awaited as any working node's is.
            Ok(None) => {
                self.busy.push(node);
                self.finish_busy();
            }
            Ok(Some(report)) => self.process_report(report),
            Err(crash) => self.mark_crashed(node, crash),
        }
        Ok(self.step_report(Some(node), before))
    }

    /// The next word from a node thread: polled for briefly ([`node::poll`]), then
    /// waited for up to [`NODE_ANSWER_LIMIT`].
    fn next_report(&self) -> Result<FromNode, RecvTimeoutError> {
        match node::poll(&self.reports) {
            Ok(Some(word)) => Ok(word),
            Ok(None) => self.reports.recv_timeout(NODE_ANSWER_LIMIT),
            Err(_) => Err(RecvTimeoutError::Disconnected),
        }
    }

    fn step_report(&mut self, node: Option<NodeId>, before: Option<NodeStatus>) -> StepReport {
        let after = node
            .filter(|_| self.reporting)
            .and_then(|n| self.slot(n).ok())
            .map(|slot| self.node_status(slot));
        StepReport {
            time_us: self.now_us,
            node,
            before,
            after,
            events: std::mem::take(&mut self.step_events),
        }
    }

    fn process_report(&mut self, report: NodeReport) {
        let (node, now_us) = (report.node, self.now_us);
        if let Ok(slot) = self.slot_mut(node)
            && let Some(running) = slot.running.as_mut()
        {
            let old_us = std::mem::replace(&mut running.timer_us, report.next_deadline_us);
            if old_us != report.next_deadline_us {
                running.timer_set_us = now_us;
            }
            running.view = report.view;
            self.timers.remove(&(old_us, node));
            self.timers.insert((report.next_deadline_us, node));
        }
        self.checker.observe(self.now_us, node, &report.steps);
        for step in report.steps {
            for event in step.events {
                self.emit(EventKind::Raft { node, event });
            }
        }
        self.publish_violations();
        let (now, mut sent) = (self.now_us, std::mem::take(&mut self.sent_scratch));
        for envelope in report.messages {
            self.network.send_into(now, envelope, &mut sent);
        }
        for kind in sent.drain(..) {
            self.emit(kind);
        }
        self.sent_scratch = sent;
        for reply in report.replies {
            self.client_reply(node, reply.op, reply.result);
        }
        if !self.storm_reported {
            self.watch_storm();
        }
    }

    /// Drops the messages due now that cannot arrive: receiver down or link cut.
    fn drop_undeliverable(&mut self) {
        // Usually none: the list is then empty, and allocates nothing.
        let undeliverable: Vec<_> = self
            .network
            .due_links(self.now_us)
            .filter_map(|(id, from, to)| {
                if !self.is_up(to) {
                    Some((id, DropReason::NodeDown))
                } else if !self.network.is_connected(from, to) {
                    Some((id, DropReason::Cut))
                } else {
                    None
                }
            })
            .collect();
        for (id, reason) in undeliverable {
            if let Some(message) = self.network.take(id) {
                let info = MsgInfo::of(&message.envelope);
                self.emit(EventKind::Dropped { id, info, reason });
            }
        }
    }

    /// Delivers message `id` now, whatever its due time (`deliver MSG`).
    pub fn deliver(&mut self, id: super::MsgId) -> Result<StepReport, ClusterError> {
        let message = self
            .network
            .take(id)
            .ok_or(ClusterError::NoSuchMessage(id))?;
        self.step_events.clear();
        let envelope = message.envelope;
        let info = MsgInfo::of(&envelope);
        let to = envelope.to;
        if !self.is_up(to) {
            self.emit(EventKind::Dropped {
                id,
                info,
                reason: DropReason::NodeDown,
            });
            return Ok(self.step_report(None, None));
        }
        self.emit(EventKind::Delivered { id, info });
        self.hand_off(to, vec![NodeInput::Deliver(envelope)])
    }

    /// Drops message `id` (`drop MSG`).
    pub fn drop_message(&mut self, id: super::MsgId) -> Result<(), ClusterError> {
        let message = self
            .network
            .take(id)
            .ok_or(ClusterError::NoSuchMessage(id))?;
        let info = MsgInfo::of(&message.envelope);
        self.emit(EventKind::Dropped {
            id,
            info,
            reason: DropReason::User,
        });
        Ok(())
    }

    /// Puts a second copy of message `id` on the wire (`dup MSG`). Returns the copy's id.
    pub fn duplicate(&mut self, id: super::MsgId) -> Result<super::MsgId, ClusterError> {
        let copy = self
            .network
            .duplicate(id)
            .ok_or(ClusterError::NoSuchMessage(id))?;
        self.emit(EventKind::Duplicated { id, copy });
        Ok(copy)
    }

    /// Fires `node`'s timer now (`tick NODE`): the clock moves on to the timer's deadline
    /// if that is later, and the node alone is handed its tick, whatever else is due. A
    /// leader sends heartbeats; a follower or candidate starts an election. A model
    /// checker's counterexample, in which a timer firing is an action, replays with it.
    pub fn fire_timer(&mut self, node: NodeId) -> Result<StepReport, ClusterError> {
        if !self.is_up(node) {
            self.check_node(node)?;
            return Err(ClusterError::NodeIsDown(node));
        }
        let due_us = self.slot(node)?.running.as_ref().map_or(0, |r| r.timer_us);
        self.now_us = self.now_us.max(due_us);
        self.step_events.clear();
        self.emit(EventKind::Timer { node });
        self.hand_off(node, vec![NodeInput::Tick])
    }

    /// Makes `node`'s thread panic with `message`: a fault to show (and test) that a
    /// crashing node is contained and reported.
    pub fn inject_panic(&mut self, node: NodeId, message: String) -> Result<(), ClusterError> {
        if !self.is_up(node) {
            self.check_node(node)?;
            return Err(ClusterError::NodeIsDown(node));
        }
        self.step_events.clear();
        self.hand_off(node, vec![NodeInput::Panic(message)])
            .map(|_| ())
    }

    /// Makes `node` take a snapshot of its state machine now and compact its log.
    pub fn snapshot(&mut self, node: NodeId) -> Result<StepReport, ClusterError> {
        if !self.is_up(node) {
            self.check_node(node)?;
            return Err(ClusterError::NodeIsDown(node));
        }
        self.step_events.clear();
        self.hand_off(node, vec![NodeInput::Snapshot])
    }

    /// Makes `node` start an election now.
    pub fn campaign(&mut self, node: NodeId) -> Result<StepReport, ClusterError> {
        if !self.is_up(node) {
            self.check_node(node)?;
            return Err(ClusterError::NodeIsDown(node));
        }
        self.step_events.clear();
        self.hand_off(node, vec![NodeInput::Campaign])
    }

    /// Makes the leader hand its leadership to `target`. A target that is down fails at
    /// once; one that does not catch up or take over within an election timeout makes the
    /// leader give up, with a `TransferFailed` event.
    pub fn transfer(&mut self, target: NodeId) -> Result<StepReport, ClusterError> {
        self.check_node(target)?;
        if !self.is_up(target) {
            return Err(ClusterError::NodeIsDown(target));
        }
        let leader = self.leader().ok_or(ClusterError::NoLeader)?;
        if leader == target {
            return Err(ClusterError::AlreadyLeads(target));
        }
        self.step_events.clear();
        self.hand_off(leader, vec![NodeInput::TransferLeader(target)])
    }

    // ---- membership -----------------------------------------------------------------

    /// Asks the leader to add `node`, first starting it, with empty storage, if the
    /// cluster does not host it yet. It joins as a learner and is promoted once caught up.
    pub fn add(&mut self, node: NodeId) -> Result<StepReport, ClusterError> {
        if node == 0 || node > super::config::MAX_NODES {
            return Err(self.no_such_node(node));
        }
        let leader = self.leader().ok_or(ClusterError::NoLeader)?;
        let new = self.slot(node).is_err();
        if new {
            self.nodes.push(NodeSlot {
                id: node,
                storage: Arc::new(Mutex::new(Storage::default())),
                running: None,
                crashed: None,
                incarnation: 0,
            });
            self.nodes.sort_by_key(|slot| slot.id);
            if let Err(error) = self.launch(node) {
                self.unhost(node);
                return Err(error);
            }
        }
        self.step_events.clear();
        let report = self.hand_off(leader, vec![NodeInput::AddNode(node)])?;
        let refused = report.events.iter().any(|event| {
            matches!(
                event.kind,
                EventKind::Raft {
                    event: crate::raft::RaftEvent::ChangeRefused { .. },
                    ..
                }
            )
        });
        if new && refused {
            // A refused command changes nothing: the node started for it goes again.
            self.unhost(node);
        }
        Ok(report)
    }

    /// Stops and forgets a node that was started for an `add` the leader refused. No time
    /// has passed since it started, so it has sent nothing and nobody knows of it.
    fn unhost(&mut self, node: NodeId) {
        let Ok(position) = self.nodes.binary_search_by_key(&node, |slot| slot.id) else {
            return;
        };
        let slot = self.nodes.remove(position);
        if let Some(running) = slot.running {
            self.timers.remove(&(running.timer_us, node));
            stop_thread(running);
        }
        let _ = self.network.drop_node_traffic(node);
        self.checker.forget(node);
    }

    /// Asks the leader to remove `node` from the cluster. The node keeps running (`stop`
    /// it once the change committed); a removed leader steps down once it commits.
    pub fn remove(&mut self, node: NodeId) -> Result<StepReport, ClusterError> {
        self.check_node(node)?;
        let leader = self.leader().ok_or(ClusterError::NoLeader)?;
        self.step_events.clear();
        self.hand_off(leader, vec![NodeInput::RemoveNode(node)])
    }

    /// The voters and learners of `node`'s latest configuration, if it is up.
    pub fn members_of(&self, node: NodeId) -> Option<(Vec<NodeId>, Vec<NodeId>)> {
        let running = self.slot(node).ok()?.running.as_ref()?;
        Some((running.view.voters.to_vec(), running.view.learners.to_vec()))
    }

    /// The leader's voters and learners, if they differ from the initial cluster.
    pub fn changed_members(&self) -> Option<(Vec<NodeId>, Vec<NodeId>)> {
        let members = self.members_of(self.leader()?)?;
        (members != (self.voters(), Vec::new())).then_some(members)
    }
}

/// Stops a running node: its thread ends (and is waited for), or its dispatcher is
/// dropped.
fn stop_thread(running: Running) {
    if let Host::Thread { inbox, thread } = running.host {
        // The thread ends when it reads Stop, or when the inbox closes.
        let _ = inbox.send(ToNode::Stop);
        drop(inbox);
        let _ = thread.join();
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Log Matching between two logs, over the indexes both hold: where they hold an entry of
/// the same term at the same index, they agree on every entry before it that both hold.
fn logs_agree(a: &RaftLog, b: &RaftLog) -> bool {
    let first = a.snapshot_index().max(b.snapshot_index());
    let last = a.last_index().min(b.last_index());
    let last_same = (first..=last)
        .rev()
        .find(|&index| a.term_at(index).is_some() && a.term_at(index) == b.term_at(index));
    let Some(last_same) = last_same else {
        return true;
    };
    (first + 1..=last_same).all(|index| a.get(index) == b.get(index))
}

/// Why a node thread that did not report within [`NODE_ANSWER_LIMIT`] is marked crashed.
fn unanswered() -> Crash {
    let limit_s = NODE_ANSWER_LIMIT.as_secs();
    Crash::Silent { limit_s }
}
