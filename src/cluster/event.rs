//! What the cluster reports: one event for every send, delivery, drop, timer, role or
//! term change, commit, client reply and fault, each stamped with cluster time.

use std::fmt;
use std::sync::Arc;

use crate::raft::{Envelope, Index, Message, NoLease, NodeId, RaftEvent, StepDownCause, Term};

use super::checker::Violation;
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
    pub fn kind(&self) -> &'static str {
        match self.detail {
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
        }
    }
}

/// `RequestVote term=2 last=5@1`: the message type and its key fields.
impl fmt::Display for MsgInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} term={}", self.kind(), self.term)?;
        match self.detail {
            MsgDetail::RequestVote {
                last_index,
                last_term,
            }
            | MsgDetail::PreVote {
                last_index,
                last_term,
            } => {
                write!(f, " last={last_index}@{last_term}")
            }
            MsgDetail::VoteResponse { granted } | MsgDetail::PreVoteResponse { granted } => {
                write!(f, " granted={granted}")
            }
            MsgDetail::TimeoutNow => Ok(()),
            MsgDetail::LeaderCheck { round } | MsgDetail::LeaderCheckResponse { round } => {
                write!(f, " round={round}")
            }
            MsgDetail::AppendEntries {
                prev_index,
                prev_term,
                entries,
                commit,
            } => {
                write!(
                    f,
                    " prev={prev_index}@{prev_term} entries={entries} commit={commit}"
                )
            }
            MsgDetail::AppendResponse {
                success,
                index,
                conflict_term,
                conflict_index,
            } => {
                write!(f, " success={success} index={index}")?;
                match (success, conflict_term) {
                    (true, _) => Ok(()),
                    // The follower's entries of term T start at index I: `hint=I@T`.
                    (false, Some(term)) => write!(f, " hint={conflict_index}@{term}"),
                    // The follower's log ends before `index`: its next free slot.
                    (false, None) => write!(f, " hint=end {conflict_index}"),
                }
            }
            MsgDetail::InstallSnapshot { index, term, bytes } => {
                write!(f, " last={index}@{term} bytes={bytes}")
            }
            MsgDetail::SnapshotResponse { index, last_index } => {
                write!(f, " index={index} last={last_index}")
            }
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

impl DropReason {
    pub fn name(self) -> &'static str {
        match self {
            DropReason::Loss => "lost",
            DropReason::Cut => "link cut",
            DropReason::NodeDown => "node down",
            DropReason::User => "dropped by hand",
            DropReason::Overload => "network overloaded",
        }
    }
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
    Refused { reason: String },
    /// No answer before the client deadline: it may or may not have taken effect.
    TimedOut,
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
    NodeCrashed { node: NodeId, message: String },
    /// The links or the network's fault settings changed.
    NetworkChanged { change: String },
    /// The checker found a safety rule broken.
    Violation(Violation),
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

/// Writes a duration in microseconds in the largest unit that is exact.
pub fn format_duration(us: u64) -> String {
    if us != 0 && us.is_multiple_of(1_000_000) {
        format!("{}s", us / 1_000_000)
    } else if us.is_multiple_of(1000) {
        format!("{}ms", us / 1000)
    } else {
        format!("{us}us")
    }
}

/// A time in milliseconds with one decimal, as every view shows it: `152.3ms`.
pub fn fmt_ms(time_us: u64) -> String {
    format!("{}.{}ms", time_us / 1000, (time_us % 1000) / 100)
}

impl fmt::Display for ClusterEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>10}  ", fmt_ms(self.time_us))?;
        match &self.kind {
            EventKind::Sent {
                id,
                info,
                deliver_us,
            } => write!(
                f,
                "n{} -> n{}  {info}  #{id} due {}",
                info.from,
                info.to,
                fmt_ms(*deliver_us)
            ),
            EventKind::Duplicated { id, copy } => write!(f, "#{id} duplicated as #{copy}"),
            EventKind::Delivered { id, info } => {
                write!(f, "n{} => n{}  {info}  #{id} delivered", info.from, info.to)
            }
            EventKind::Dropped { id, info, reason } => write!(
                f,
                "n{} -x n{}  {info}  #{id} {}",
                info.from,
                info.to,
                reason.name()
            ),
            EventKind::Timer { node } => write!(f, "n{node}  timer fired"),
            EventKind::Raft { node, event } => write!(f, "n{node}  {}", describe_raft(event)),
            EventKind::ClientInvoked {
                op,
                client,
                request,
                target,
            } => {
                write!(f, "client {client}  op {op}: {request} -> n{target}")
            }
            EventKind::ClientRetried { op, target } => write!(f, "op {op} retried -> n{target}"),
            EventKind::ClientFinished {
                op,
                request,
                outcome,
                latency_us,
            } => {
                write!(
                    f,
                    "op {op} {} in {}",
                    describe_result(request, outcome),
                    fmt_ms(*latency_us)
                )
            }
            EventKind::NodeKilled { node } => write!(f, "n{node}  killed"),
            EventKind::NodeRestarted { node } => write!(f, "n{node}  restarted"),
            EventKind::NodeCrashed { node, message } => write!(f, "n{node}  crashed: {message}"),
            EventKind::NetworkChanged { change } => write!(f, "net  {change}"),
            EventKind::Violation(violation) => write!(f, "SAFETY  {violation}"),
        }
    }
}

/// A Raft event in words.
pub fn describe_raft(event: &RaftEvent) -> String {
    match event {
        RaftEvent::TermChanged { from, to } => format!("term {from} -> {to}"),
        RaftEvent::BecameFollower {
            term,
            leader: Some(leader),
        } => {
            format!("follower in term {term} (leader n{leader})")
        }
        RaftEvent::BecameFollower { term, leader: None } => format!("follower in term {term}"),
        RaftEvent::PreVoteStarted { term } => format!("pre-vote for term {term}"),
        RaftEvent::BecameCandidate { term } => format!("candidate in term {term}"),
        RaftEvent::LostQuorum { term } => {
            format!("steps down: no majority heard within an election timeout (term {term})")
        }
        RaftEvent::BecameLeader { term } => format!("LEADER in term {term}"),
        RaftEvent::SteppedDown {
            was,
            term,
            cause: StepDownCause::HigherTerm { from },
        } => format!("{} -> follower (saw term {term} from n{from})", was.name()),
        RaftEvent::SteppedDown {
            was,
            term,
            cause: StepDownCause::LeaderOfTerm { leader },
        } => format!("{} -> follower (n{leader} leads term {term})", was.name()),
        RaftEvent::LeaderKnown { term, leader } => format!("knows leader n{leader} of term {term}"),
        RaftEvent::Voted { term, candidate } => format!("votes for n{candidate} in term {term}"),
        RaftEvent::TransferStarted { term, target } => {
            format!("hands its leadership of term {term} to n{target}: proposals refused")
        }
        RaftEvent::TimeoutNowSent { target, .. } => {
            format!("n{target} is up to date: TimeoutNow sent")
        }
        RaftEvent::TransferFailed { target, reason, .. } => {
            format!("transfer to n{target} FAILED: {reason}")
        }
        RaftEvent::CommitAdvanced { from, to } => format!("commit {from} -> {to}"),
        RaftEvent::LogTruncated { from, removed } => {
            format!("log truncated: {removed} entries from index {from} removed")
        }
        RaftEvent::SnapshotTaken { index, term } => {
            format!("snapshot taken: log compacted up to {index}@{term}")
        }
        RaftEvent::SnapshotInstalled { index, term } => {
            format!("snapshot installed from the leader: up to {index}@{term}")
        }
        RaftEvent::ConfigChanged {
            index,
            voters,
            learners,
        } => format!(
            "configuration (index {index}): {}",
            describe_members(voters, learners)
        ),
        RaftEvent::ChangeRefused { reason } => format!("membership change refused: {reason}"),
        RaftEvent::LeaseRead {
            reads,
            index,
            lease_until_us,
            ..
        } => format!(
            "{} at index {index} under its lease (until {}): no round",
            count_reads(*reads),
            fmt_ms(*lease_until_us)
        ),
        RaftEvent::ReadWithoutLease { reads, why, .. } => format!(
            "no lease ({}): {} by a ReadIndex round",
            describe_no_lease(why),
            count_reads(*reads)
        ),
        RaftEvent::CampaignIgnored { until_us, .. } => format!(
            "campaign ignored: withholds its vote until {} (a leader's lease may count on it)",
            fmt_ms(*until_us)
        ),
    }
}

/// `1 read` or `3 reads`.
fn count_reads(reads: usize) -> String {
    if reads == 1 {
        "1 read".to_string()
    } else {
        format!("{reads} reads")
    }
}

/// Why a leader had no lease, in words.
fn describe_no_lease(why: &NoLease) -> String {
    match why {
        NoLease::Expired { until_us } => format!("it ended at {}", fmt_ms(*until_us)),
        other => other.to_string(),
    }
}

/// A configuration in words: `voters n1,n2,n3 learners n4`.
pub fn describe_members(
    voters: &[crate::raft::NodeId],
    learners: &[crate::raft::NodeId],
) -> String {
    let names = |nodes: &[crate::raft::NodeId]| {
        let names: Vec<String> = nodes.iter().map(|n| format!("n{n}")).collect();
        if names.is_empty() {
            "-".to_string()
        } else {
            names.join(",")
        }
    };
    format!("voters {} learners {}", names(voters), names(learners))
}

/// A finished client operation in words: `get x = 1 (index 3@1)`, `put x 1: ok (index
/// 2@1)`, `cas x 1 2: failed, x is 3 (index 5@1)`.
pub fn describe_result(request: &KvOp, outcome: &ClientOutcome) -> String {
    let ClientOutcome::Done {
        output,
        index,
        term,
    } = outcome
    else {
        return format!("{request}: {}", describe_outcome(outcome));
    };
    let what = match (request, output) {
        (KvOp::Get { key }, KvOutput::Value(Some(value))) => format!("get {key} = {value}"),
        (KvOp::Get { key }, KvOutput::Value(None)) => format!("get {key}: no such key"),
        (
            request,
            KvOutput::CasFailed {
                current: Some(value),
            },
        ) => {
            format!("{request}: failed, {} is {value}", request.key())
        }
        (request, KvOutput::CasFailed { current: None }) => {
            format!("{request}: failed, no such key")
        }
        (request, output) => format!("{request}: {output}"),
    };
    format!("{what} (index {index}@{term})")
}

/// A client outcome in words.
pub fn describe_outcome(outcome: &ClientOutcome) -> String {
    match outcome {
        ClientOutcome::Done {
            output,
            index,
            term,
        } => format!("{output} (index {index}@{term})"),
        ClientOutcome::Refused { reason } => format!("refused: {reason}"),
        ClientOutcome::TimedOut => "timed out (may or may not have happened)".to_string(),
    }
}
