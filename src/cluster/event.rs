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

/// A message in brief: who, to whom, what, and its key fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MsgInfo {
    pub from: NodeId,
    pub to: NodeId,
    pub term: Term,
    pub detail: MsgDetail,
}

/// The key fields of each message type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MsgDetail {
    RequestVote {
        last_index: Index,
        last_term: Term,
    },
    VoteResponse {
        granted: bool,
    },
    PreVote {
        last_index: Index,
        last_term: Term,
    },
    PreVoteResponse {
        granted: bool,
    },
    TimeoutNow,
    LeaderCheck {
        round: u64,
    },
    LeaderCheckResponse {
        round: u64,
    },
    AppendEntries {
        prev_index: Index,
        prev_term: Term,
        entries: u64,
        commit: Index,
    },
    AppendResponse {
        success: bool,
        index: Index,
        /// On rejection, the follower's hint: the term of its entry at `index` (none when
        /// its log is shorter) and the first index of that term (or its last index + 1).
        conflict_term: Option<Term>,
        conflict_index: Index,
    },
    InstallSnapshot {
        index: Index,
        term: Term,
        bytes: u64,
    },
    SnapshotResponse {
        index: Index,
        last_index: Index,
    },
    /// A hosted program's message, which raftlab does not read as Raft's: its `type` (and
    /// `rpc`, where it has one) and its other fields in words.
    Hosted {
        kind: String,
        fields: String,
    },
}

impl MsgInfo {
    pub fn of(envelope: &Envelope) -> MsgInfo {
        let detail = match &envelope.message {
            Message::RequestVote {
                last_log_index,
                last_log_term,
                ..
            } => MsgDetail::RequestVote {
                last_index: *last_log_index,
                last_term: *last_log_term,
            },
            Message::VoteResponse { granted } => MsgDetail::VoteResponse { granted: *granted },
            Message::PreVote {
                last_log_index,
                last_log_term,
            } => MsgDetail::PreVote {
                last_index: *last_log_index,
                last_term: *last_log_term,
            },
            Message::PreVoteResponse { granted } => {
                MsgDetail::PreVoteResponse { granted: *granted }
            }
            Message::TimeoutNow => MsgDetail::TimeoutNow,
            Message::LeaderCheck { round } => MsgDetail::LeaderCheck { round: *round },
            Message::LeaderCheckResponse { round } => {
                MsgDetail::LeaderCheckResponse { round: *round }
            }
            Message::AppendEntries {
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
                ..
            } => MsgDetail::AppendEntries {
                prev_index: *prev_log_index,
                prev_term: *prev_log_term,
                entries: entries.len() as u64,
                commit: *leader_commit,
            },
            Message::AppendResponse {
                success,
                index,
                conflict_term,
                conflict_index,
                ..
            } => MsgDetail::AppendResponse {
                success: *success,
                index: *index,
                conflict_term: *conflict_term,
                conflict_index: *conflict_index,
            },
            Message::InstallSnapshot { snapshot } => MsgDetail::InstallSnapshot {
                index: snapshot.index,
                term: snapshot.term,
                bytes: snapshot.data.len() as u64,
            },
            Message::SnapshotResponse {
                snapshot_index,
                last_index,
            } => MsgDetail::SnapshotResponse {
                index: *snapshot_index,
                last_index: *last_index,
            },
        };
        MsgInfo {
            from: envelope.from,
            to: envelope.to,
            term: envelope.term,
            detail,
        }
    }

    /// The message type's name.
    pub fn kind(&self) -> &str {
        match &self.detail {
            MsgDetail::RequestVote { .. } => "RequestVote",
            MsgDetail::VoteResponse { .. } => "VoteResponse",
            MsgDetail::PreVote { .. } => "PreVote",
            MsgDetail::PreVoteResponse { .. } => "PreVoteResponse",
            MsgDetail::TimeoutNow => "TimeoutNow",
            MsgDetail::LeaderCheck { .. } => "LeaderCheck",
            MsgDetail::LeaderCheckResponse { .. } => "LeaderCheckResponse",
            MsgDetail::AppendEntries { .. } => "AppendEntries",
            MsgDetail::AppendResponse { .. } => "AppendResponse",
            MsgDetail::InstallSnapshot { .. } => "InstallSnapshot",
            MsgDetail::SnapshotResponse { .. } => "SnapshotResponse",
            MsgDetail::Hosted { kind, .. } => kind,
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
    /// The checker found a safety rule broken.
    Violation(Violation),
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
