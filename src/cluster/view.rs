//! One data picture of the whole cluster at an instant: [`ClusterView`].
//!
//! A front-end that wants to show the cluster (the live view above all, which redraws it
//! thirty times a second) asks for one `ClusterView` and reads everything from it: every
//! node's role, term, vote, votes, log tail, commit and applied index, snapshot, timer and,
//! for a leader, each follower's `nextIndex` and `matchIndex`; the links and the network's
//! settings; the messages in flight with when they were sent and are due; the messages
//! recently lost; the configuration; the clock; the checker's verdict; the last events;
//! and, when asked for, each node's key-value pairs and whether the logs match. The REPL's
//! views, its conditions (`expect`, `wait until`), the exports and the live view all read
//! the cluster through it; [`super::Cluster`] offers the commands.
//!
//! It is data only, built in one job on the driver thread so that every part of it is of
//! the same instant. Taking it reads the cluster and changes nothing: a run is the same,
//! hand-off for hand-off, whether or not anyone looks.

use std::collections::BTreeMap;

use crate::raft::{Entry, FollowerProgress, Index, NodeId, Role, Term};

use super::ClockMode;
use super::checker::{Rule, Violation};
use super::event::{ClusterEvent, Crash, DropReason, EventKind, MsgId, MsgInfo, OpId};
use super::handle::NetworkView;
use super::scheduler::Scheduler;
use super::world::NodeState;

/// How many of the latest events are searched for lost messages.
const DROPS_LOOKED_AT: usize = 200;

/// How much of the cluster's history a [`ClusterView`] carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ViewLimits {
    /// The most log entries kept per node (the last ones).
    pub log_entries: usize,
    /// How many of the latest events to keep.
    pub events: usize,
    /// Keep only the events after the first this many the cluster emitted (a front-end
    /// that has seen those asks only for the new ones).
    pub events_after: u64,
    /// Whether to carry the messages in flight and those recently lost.
    pub messages: bool,
    /// Whether to carry each up node's key-value pairs ([`NodePicture::kv`]).
    pub kv: bool,
    /// Whether to compare the nodes' whole logs ([`ClusterView::logs_match`]).
    pub logs_match: bool,
    /// Whether to tell if the cluster has settled ([`ClusterView::settled`]).
    pub settled: bool,
}

impl ViewLimits {
    /// The least picture: the nodes' states, the network, the checker; no log entries,
    /// events, messages, key-value pairs or log comparison. Cheap enough to take after
    /// every hand-off (a `wait until`).
    pub fn least() -> ViewLimits {
        ViewLimits {
            log_entries: 0,
            events: 0,
            events_after: 0,
            messages: false,
            kv: false,
            logs_match: false,
            settled: false,
        }
    }
}

impl Default for ViewLimits {
    fn default() -> ViewLimits {
        ViewLimits {
            log_entries: 64,
            events: 2_000,
            events_after: 0,
            messages: true,
            kv: false,
            logs_match: false,
            settled: false,
        }
    }
}

/// Which timer a node is waiting on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerKind {
    /// A follower's or candidate's election timeout.
    Election,
    /// A leader's next heartbeat.
    Heartbeat,
}

/// A running node's timer: it fires at `deadline_us`; it was set at `set_us`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerView {
    pub kind: TimerKind,
    pub deadline_us: u64,
    pub set_us: u64,
}

impl TimerView {
    /// The share of the timeout still to run at `now_us`, from 1.0 (just set) to 0.0 (due).
    pub fn remaining(&self, now_us: u64) -> f64 {
        let whole = self.deadline_us.saturating_sub(self.set_us);
        if whole == 0 {
            return 0.0;
        }
        self.deadline_us.saturating_sub(now_us) as f64 / whole as f64
    }
}

/// One node at the instant of the view: for a node that is up, what its processor's own
/// view ([`crate::raft::NodeView`]) says; for one that is down, what its durable storage
/// holds. The REPL's `status`, `log` and step reports, its conditions, the exports and
/// the live view all show a node from this.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodePicture {
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
    /// The node's timer, if it is up.
    pub timer: Option<TimerView>,
    /// The last entries of the durable log (at most [`ViewLimits::log_entries`]).
    pub log: Vec<Entry>,
    /// Where the durable log starts: the snapshot's last index and term ((0, 0): none).
    pub snapshot: (Index, Term),
    /// The key-value pairs of the node's state machine, if it is up and they were asked
    /// for ([`ViewLimits::kv`]).
    pub kv: Option<BTreeMap<String, String>>,
    /// Messages the node sent and received, where they are counted (a hosted node's).
    pub counts: Option<(u64, u64)>,
}

/// A message on the wire.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageView {
    pub id: MsgId,
    pub info: MsgInfo,
    pub sent_us: u64,
    pub deliver_us: u64,
}

impl MessageView {
    /// How far along its delay the message is at `now_us`, from 0.0 (sent) to 1.0 (due).
    pub fn progress(&self, now_us: u64) -> f64 {
        let whole = self.deliver_us.saturating_sub(self.sent_us);
        if whole == 0 {
            return 1.0;
        }
        let passed = now_us.saturating_sub(self.sent_us).min(whole);
        passed as f64 / whole as f64
    }
}

/// A message that was lost, and when.
#[derive(Clone, Debug, PartialEq)]
pub struct DroppedView {
    pub id: MsgId,
    pub info: MsgInfo,
    pub reason: DropReason,
    pub time_us: u64,
    /// Whether it was lost on the way (it had been put on the wire), rather than as it
    /// was sent.
    pub on_the_way: bool,
}

/// The whole cluster at one instant.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterView {
    pub now_us: u64,
    pub mode: ClockMode,
    pub speed: f64,
    pub seed: u64,
    /// The nodes the cluster started with: n1 to this.
    pub initial_nodes: u64,
    pub leader: Option<NodeId>,
    pub nodes: Vec<NodePicture>,
    pub network: NetworkView,
    /// Messages in flight, in delivery order.
    pub in_flight: Vec<MessageView>,
    /// Messages lost among the latest events.
    pub dropped: Vec<DroppedView>,
    /// The configuration the leader (or else the first node up) holds: voters, learners.
    pub voters: Vec<NodeId>,
    pub learners: Vec<NodeId>,
    /// The safety violations the checker keeps (a few per rule); empty while the run is
    /// safe.
    pub violations: Vec<Violation>,
    /// How many violations of each rule the checker found, kept or only counted.
    pub violation_counts: BTreeMap<Rule, u64>,
    /// How many node steps the checker has checked.
    pub steps_checked: u64,
    /// Every node crash of the run so far, in order (the first hundred).
    pub crashes: Vec<(NodeId, Crash)>,
    /// Whether every two nodes' durable logs agree where both hold entries (Log
    /// Matching); `None` unless asked for ([`ViewLimits::logs_match`]).
    pub logs_match: Option<bool>,
    /// Whether the cluster has settled ([`crate::cluster::settle`]): `Ok` if so, else what
    /// keeps it from settling; `None` unless asked for ([`ViewLimits::settled`]) or where
    /// it cannot be told (a hosted program's cluster).
    pub settled: Option<Result<(), super::settle::SettleGap>>,
    /// When the next message, timer or client is due, if anything is.
    pub next_event_us: Option<u64>,
    /// How many hand-offs the scheduler has made: a position in the run that replays.
    pub handoffs: u64,
    /// The client operations still waiting for their outcome, in id order.
    pub pending_ops: Vec<OpId>,
    /// The latest events (those after [`ViewLimits::events_after`]), oldest first.
    pub events: Vec<ClusterEvent>,
    /// How many events the cluster has emitted: a view with the same count and time as
    /// another shows the same cluster.
    pub events_emitted: u64,
}

impl ClusterView {
    /// The node with id `id`.
    pub fn node(&self, id: NodeId) -> Option<&NodePicture> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// The leader's voters and learners, once they differ from the initial cluster's.
    pub fn changed_members(&self) -> Option<(Vec<NodeId>, Vec<NodeId>)> {
        self.leader?;
        let initial: Vec<NodeId> = (1..=self.initial_nodes).collect();
        (self.voters != initial || !self.learners.is_empty())
            .then(|| (self.voters.clone(), self.learners.clone()))
    }

    /// How many violations the checker found in all, kept or only counted.
    pub fn violation_count(&self) -> u64 {
        self.violation_counts.values().sum()
    }

    /// The node's value for `key`: `None` for a node that is down (or whose pairs were not
    /// asked for), `Some(None)` for a key it does not hold.
    pub fn kv_get(&self, id: NodeId, key: &str) -> Option<Option<&str>> {
        let kv = self.node(id)?.kv.as_ref()?;
        Some(kv.get(key).map(String::as_str))
    }

    /// The highest term any node has.
    pub fn term(&self) -> Term {
        self.nodes.iter().map(|n| n.term).max().unwrap_or(0)
    }

    /// Builds the picture from the scheduler's state. Reads only.
    pub(super) fn capture(
        sim: &Scheduler,
        mode: ClockMode,
        speed: f64,
        limits: ViewLimits,
    ) -> Self {
        let nodes = sim.world().pictures(&limits);
        let (voters, learners) = configuration(sim);
        let last = sim
            .observers()
            .events_emitted()
            .saturating_sub(limits.events as u64);
        let (_, new) = sim.observers().events_since(limits.events_after.max(last));
        let events: Vec<ClusterEvent> = new.cloned().collect();
        ClusterView {
            now_us: sim.now_us(),
            mode,
            speed,
            seed: sim.world().config().seed,
            initial_nodes: sim.world().config().nodes,
            leader: sim.world().current_leader(),
            nodes,
            network: network_view(sim),
            in_flight: match limits.messages {
                true => in_flight(sim),
                false => Vec::new(),
            },
            dropped: match limits.messages {
                true => dropped(&sim.observers().recent_events(DROPS_LOOKED_AT)),
                false => Vec::new(),
            },
            voters,
            learners,
            violations: sim.observers().violations().to_vec(),
            violation_counts: sim.observers().checker().counts().clone(),
            steps_checked: sim.observers().checker().steps_checked(),
            crashes: sim.observers().crash_log().to_vec(),
            logs_match: limits.logs_match.then(|| sim.world().logs_match()),
            settled: (limits.settled).then(|| super::settle::unsettled(sim).map_or(Ok(()), Err)),
            next_event_us: sim.next_event_us(),
            handoffs: sim.handoffs(),
            pending_ops: sim.pending_ops().collect(),
            events,
            events_emitted: sim.observers().events_emitted(),
        }
    }
}

fn configuration(sim: &Scheduler) -> (Vec<NodeId>, Vec<NodeId>) {
    let holder = sim.world().leader().or_else(|| {
        sim.world()
            .hosted()
            .into_iter()
            .find(|&n| sim.world().is_up(n))
    });
    match holder.and_then(|n| sim.world().members_of(n)) {
        Some(members) => members,
        None => ((1..=sim.world().config().nodes).collect(), Vec::new()),
    }
}

fn network_view(sim: &Scheduler) -> NetworkView {
    NetworkView {
        nodes: sim.world().hosted(),
        config: sim.world().network().config().clone(),
        cut: sim.world().network().cut_links().collect(),
        groups: sim.world().network().groups().to_vec(),
    }
}

fn in_flight(sim: &Scheduler) -> Vec<MessageView> {
    sim.world()
        .network()
        .in_flight()
        .into_iter()
        .map(|m| MessageView {
            id: m.id,
            info: MsgInfo::of(&m.envelope),
            sent_us: m.sent_us,
            deliver_us: m.deliver_us,
        })
        .collect()
}

fn dropped(events: &[ClusterEvent]) -> Vec<DroppedView> {
    let sent: std::collections::HashSet<MsgId> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Sent { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Dropped { id, info, reason } => Some(DroppedView {
                id: *id,
                info: info.clone(),
                reason: *reason,
                time_us: e.time_us,
                on_the_way: sent.contains(id),
            }),
            _ => None,
        })
        .collect()
}
