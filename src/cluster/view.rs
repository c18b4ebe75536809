//! One data picture of the whole cluster at an instant: [`ClusterView`].
//!
//! A front-end that wants to show the cluster (the live view above all, which redraws it
//! thirty times a second) asks for one `ClusterView` and reads everything from it: every
//! node's role, term, vote, votes, log tail, commit and applied index, snapshot, timer and,
//! for a leader, each follower's `nextIndex` and `matchIndex`; the links and the network's
//! settings; the messages in flight with when they were sent and are due; the messages
//! recently lost; the configuration; the clock; the checker's verdict; the last events.
//!
//! It is data only, built in one job on the driver thread so that every part of it is of
//! the same instant. Taking it reads the cluster and changes nothing: a run is the same,
//! hand-off for hand-off, whether or not anyone looks.

use crate::raft::{Entry, Index, NodeId, Role, Term};

use super::ClockMode;
use super::checker::Violation;
use super::event::{ClusterEvent, DropReason, EventKind, MsgId, MsgInfo};
use super::handle::NetworkView;
use super::scheduler::Scheduler;
use super::world::NodeStatus;

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
}

impl Default for ViewLimits {
    fn default() -> ViewLimits {
        ViewLimits {
            log_entries: 64,
            events: 2_000,
            events_after: 0,
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

/// One node at the instant of the view.
#[derive(Clone, Debug, PartialEq)]
pub struct NodePicture {
    /// Id, up or down, role, term, vote, leader, last entry, commit, applied, group, a
    /// candidate's votes, a leader's `nextIndex` and `matchIndex` for each follower.
    pub status: NodeStatus,
    /// The node's timer, if it is up.
    pub timer: Option<TimerView>,
    /// The last entries of the durable log (at most [`ViewLimits::log_entries`]).
    pub log: Vec<Entry>,
    /// Where the durable log starts: the snapshot's last index and term ((0, 0): none).
    pub snapshot: (Index, Term),
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
    /// Every safety violation the checker has found; empty while the run is safe.
    pub violations: Vec<Violation>,
    /// The latest events (those after [`ViewLimits::events_after`]), oldest first.
    pub events: Vec<ClusterEvent>,
    /// How many events the cluster has emitted: a view with the same count and time as
    /// another shows the same cluster.
    pub events_emitted: u64,
}

impl ClusterView {
    /// The node with id `id`.
    pub fn node(&self, id: NodeId) -> Option<&NodePicture> {
        self.nodes.iter().find(|n| n.status.id == id)
    }

    /// The highest term any node has.
    pub fn term(&self) -> Term {
        self.nodes.iter().map(|n| n.status.term).max().unwrap_or(0)
    }

    /// Builds the picture from the scheduler's state. Reads only.
    pub(super) fn capture(
        sim: &Scheduler,
        mode: ClockMode,
        speed: f64,
        limits: ViewLimits,
    ) -> Self {
        let nodes = sim
            .world()
            .status()
            .into_iter()
            .map(|status| node_picture(sim, status, limits.log_entries))
            .collect();
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
            leader: sim.world().leader(),
            nodes,
            network: network_view(sim),
            in_flight: in_flight(sim),
            dropped: dropped(&sim.observers().recent_events(DROPS_LOOKED_AT)),
            voters,
            learners,
            violations: sim.observers().violations().to_vec(),
            events,
            events_emitted: sim.observers().events_emitted(),
        }
    }
}

fn node_picture(sim: &Scheduler, status: NodeStatus, log_entries: usize) -> NodePicture {
    let id = status.id;
    let timer = sim
        .world()
        .timer_of(id)
        .map(|(deadline_us, set_us)| TimerView {
            kind: match status.role {
                Some(Role::Leader) => TimerKind::Heartbeat,
                _ => TimerKind::Election,
            },
            deadline_us,
            set_us,
        });
    let log = sim.world().log_tail_of(id, log_entries).unwrap_or_default();
    NodePicture {
        timer,
        log,
        snapshot: sim.world().snapshot_of(id).unwrap_or((0, 0)),
        status,
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
