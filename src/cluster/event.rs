//! What the cluster reports: one event for every send, delivery, drop, timer, role or
//! term change, commit, client reply and fault, each stamped with cluster time.

use std::sync::Arc;

use crate::raft::{Envelope, Index, Message, NodeId, RaftEvent, Term};

use super::checker::Violation;
use super::config::NetworkConfig;
use super::kv::{ClientId, KvOp, KvOutput};

/// A message's id in the network: unique and increasing over a cluster's life.
pub type MsgId = u64;
/// A client operation's id: unique and increasing over a cluster's life.
pub type OpId = u64;

/// One thing that happened, at `time_us` of cluster time.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterEvent {
    pub time_us: u64,
    pub kind: EventKind,
}

/// A message as the cluster reports it: the core's own envelope, shared (not copied) by the
/// network's queue and every event and view that names it; or a hosted program's message,
/// which raftlab does not read as Raft's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MsgInfo {
    Raft(Arc<Envelope>),
    Hosted(Arc<HostedMsg>),
}

/// A hosted program's message: its `type` (and `rpc`, where it has one), the term it
/// carries (0 when none) and its other fields, as the program sent them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostedMsg {
    pub from: NodeId,
    pub to: NodeId,
    pub term: Term,
    pub kind: String,
    pub fields: Vec<(String, serde_json::Value)>,
}

impl MsgInfo {
    /// The message of an envelope on the wire: the envelope itself, shared.
    pub fn of(envelope: &Arc<Envelope>) -> MsgInfo {
        MsgInfo::Raft(Arc::clone(envelope))
    }

    /// The sender.
    pub fn from(&self) -> NodeId {
        match self {
            MsgInfo::Raft(envelope) => envelope.from,
            MsgInfo::Hosted(hosted) => hosted.from,
        }
    }

    /// The receiver.
    pub fn to(&self) -> NodeId {
        match self {
            MsgInfo::Raft(envelope) => envelope.to,
            MsgInfo::Hosted(hosted) => hosted.to,
        }
    }

    /// The term the message carries.
    pub fn term(&self) -> Term {
        match self {
            MsgInfo::Raft(envelope) => envelope.term,
            MsgInfo::Hosted(hosted) => hosted.term,
        }
    }

    /// The Raft message, unless it is a hosted program's.
    pub fn message(&self) -> Option<&Message> {
        match self {
            MsgInfo::Raft(envelope) => Some(&envelope.message),
            MsgInfo::Hosted(_) => None,
        }
    }

    /// The message type's name.
    pub fn kind(&self) -> &str {
        match self {
            MsgInfo::Raft(envelope) => envelope.message.kind(),
            MsgInfo::Hosted(hosted) => &hosted.kind,
        }
    }
}

/// Why a message did not arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// The network's loss probability.
    Loss,
    /// The link was cut.
    Cut,
    /// The receiver was down.
    NodeDown,
    /// Dropped by hand (`drop MSG`).
    User,
    /// The network was past twice a load bound (a message storm, see `cluster::storm`).
    Overload,
}

/// Why a node's thread is gone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Crash {
    /// Its Raft code panicked, with this message (the panic's own).
    Panicked { message: String },
    /// It did not answer within `limit_s` seconds: hung.
    Silent { limit_s: u64 },
    /// Its thread had ended before a batch could be sent to it.
    ThreadEnded,
    /// A hosted node's process ended by itself, with the exit status the system gave.
    Exited { status: String },
}

/// Why a client operation sent `via` a node was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The node it was sent via is down.
    NodeDown { node: NodeId },
    /// The node it was sent via is not the leader; `leader` is the one it knows, if any.
    NotLeader {
        node: NodeId,
        leader: Option<NodeId>,
    },
}

/// How a client operation ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientOutcome {
    /// Applied at `index` in `term`, with this result.
    Done {
        output: KvOutput,
        index: Index,
        term: Term,
    },
    /// Refused, and not retried: sent `via` a node that is not the leader.
    Refused { reason: Refusal },
    /// No answer before the client deadline: it may or may not have taken effect.
    TimedOut,
}

/// What changed in the network, as values.
#[derive(Clone, Debug, PartialEq)]
pub enum NetworkChange {
    /// The cluster was split into these groups; nodes named in none form one more.
    Partition(Vec<Vec<NodeId>>),
    /// Every link to and from the node was cut.
    Isolate(NodeId),
    /// The link from `a` to `b`, and from `b` to `a` unless `one_way`, was restored
    /// (`up`) or cut.
    Link {
        a: NodeId,
        b: NodeId,
        one_way: bool,
        up: bool,
    },
    /// Every link was restored.
    Heal,
    /// The fault settings (loss, duplication, delay, reordering) became these.
    Faults(NetworkConfig),
}

/// What happened.
#[derive(Clone, Debug, PartialEq)]
pub enum EventKind {
    /// A node sent a message; it is in flight until `deliver_us`.
    Sent {
        id: MsgId,
        info: MsgInfo,
        deliver_us: u64,
    },
    /// The network will deliver a copy of a message twice.
    Duplicated { id: MsgId, copy: MsgId },
    /// A message reached its receiver.
    Delivered { id: MsgId, info: MsgInfo },
    /// A message was lost.
    Dropped {
        id: MsgId,
        info: MsgInfo,
        reason: DropReason,
    },
    /// A node's timer fired.
    Timer { node: NodeId },
    /// Something inside a node's Raft.
    Raft { node: NodeId, event: RaftEvent },
    /// A client operation began.
    ClientInvoked {
        op: OpId,
        client: ClientId,
        request: Arc<KvOp>,
        target: NodeId,
    },
    /// A client operation was sent again, to `target`.
    ClientRetried { op: OpId, target: NodeId },
    /// A client operation ended.
    ClientFinished {
        op: OpId,
        request: Arc<KvOp>,
        outcome: ClientOutcome,
        latency_us: u64,
    },
    /// A node was killed: its volatile state is gone.
    NodeKilled { node: NodeId },
    /// A node was rebuilt from its durable storage.
    NodeRestarted { node: NodeId },
    /// A node's thread panicked.
    NodeCrashed { node: NodeId, crash: Crash },
    /// The links or the network's fault settings changed.
    NetworkChanged { change: NetworkChange },
    /// The checker found a safety rule broken. Boxed: a violation is rare and large, and
    /// every event is as large as the largest kind (the event log moves hundreds of
    /// thousands a second).
    Violation(Box<Violation>),
    /// A line from outside raftlab's own nodes: what a hosted node wrote on its stderr
    /// (`node` set), or what the host saw (a client's answer, a fault, a problem).
    Note { node: Option<NodeId>, text: String },
}

impl EventKind {
    /// Whether the event is a change of a node or of the cluster (rather than a message
    /// or a timer): what `trace changes` shows.
    pub fn is_change(&self) -> bool {
        !matches!(
            self,
            EventKind::Sent { .. }
                | EventKind::Duplicated { .. }
                | EventKind::Delivered { .. }
                | EventKind::Dropped { .. }
                | EventKind::Timer { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_stays_small_enough_to_log_by_the_hundred_thousand() {
        // The event log moves every event in and drops the oldest; a rare variant that
        // grows past this should be boxed.
        assert!(
            std::mem::size_of::<ClusterEvent>() <= 96,
            "{} bytes",
            std::mem::size_of::<ClusterEvent>()
        );
    }
}
