//! The messages nodes send each other, after Figure 2 of the Raft paper.

use super::{Entry, Index, NodeId, Snapshot, Term};

/// A message on its way from one node to another. Every message carries the sender's
/// term: the receiver applies the term rules to it before looking at the message itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// The sender.
    pub from: NodeId,
    /// The receiver.
    pub to: NodeId,
    /// The sender's current term when it sent the message.
    pub term: Term,
    /// The message.
    pub message: Message,
}

/// The Raft RPCs and their responses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A candidate asks for a vote (section 5.2).
    RequestVote {
        /// The index of the candidate's last log entry.
        last_log_index: Index,
        /// The term of the candidate's last log entry.
        last_log_term: Term,
        /// The candidate campaigns because the leader told it to (TimeoutNow, a leadership
        /// transfer): leader stickiness (CheckQuorum) does not apply.
        leadership_transfer: bool,
    },
    /// PreVote (thesis section 9.6): could the sender win an election at the envelope's
    /// term? The envelope carries the sender's term + 1, which the sender has not taken and
    /// the receiver does not take either.
    PreVote {
        /// The index of the sender's last log entry.
        last_log_index: Index,
        /// The term of the sender's last log entry.
        last_log_term: Term,
    },
    /// The answer to a PreVote. Its envelope carries the voter's own current term.
    PreVoteResponse {
        /// Whether the voter would vote for the sender.
        granted: bool,
    },
    /// A leader handing its leadership over tells the target, whose log it has brought up
    /// to date, to start an election now, without a pre-vote round (thesis section 3.10).
    TimeoutNow,
    /// ReadIndex: a leader with reads to answer asks every follower to confirm that it
    /// still leads its term (a heartbeat round, numbered).
    LeaderCheck {
        /// The round, counted up by the leader; an answer confirms this round and every
        /// earlier one.
        round: u64,
    },
    /// The answer to a LeaderCheck, in the leader's term.
    LeaderCheckResponse {
        /// The round answered.
        round: u64,
    },
    /// The answer to a RequestVote.
    VoteResponse {
        /// Whether the vote was granted.
        granted: bool,
    },
    /// A leader replicates entries, or only asserts its leadership (section 5.3).
    AppendEntries {
        /// The index of the entry just before the new ones.
        prev_log_index: Index,
        /// The term of the entry at `prev_log_index` (0 when that index is 0).
        prev_log_term: Term,
        /// The entries to append, from `prev_log_index + 1`; empty for a heartbeat.
        entries: Vec<Entry>,
        /// The leader's commit index.
        leader_commit: Index,
        /// When the leader sent it, by the leader's own clock. The follower only echoes it
        /// back (it never compares it with its own clock): an answer tells the leader that
        /// the follower heard from it at or after that time, which extends its lease.
        sent_us: u64,
    },
    /// The answer to an AppendEntries.
    AppendResponse {
        /// Whether the follower's log matched at `prev_log_index`.
        success: bool,
        /// On success, the last index the follower now knows matches the leader's log
        /// (`prev_log_index + entries.len()`); on rejection, the `prev_log_index` that
        /// did not match.
        index: Index,
        /// On rejection, the term of the follower's entry at the rejected index, if it has
        /// one: the leader skips back past all its entries of that term.
        conflict_term: Option<Term>,
        /// On rejection, the first index of `conflict_term` in the follower's log, or the
        /// follower's last index + 1 when its log is too short.
        conflict_index: Index,
        /// The `sent_us` of the AppendEntries answered.
        sent_us: u64,
    },
    /// A leader sends its snapshot to a follower that needs entries the leader's log no
    /// longer holds (section 7).
    InstallSnapshot {
        /// The snapshot: last included index and term, and the state machine's data.
        snapshot: Snapshot,
    },
    /// The answer to an InstallSnapshot.
    SnapshotResponse {
        /// The snapshot's last included index: the follower's log now matches the
        /// leader's up to there (it holds the snapshot, or had committed past it).
        snapshot_index: Index,
        /// The follower's last index after handling the snapshot: where the leader can
        /// probe next.
        last_index: Index,
    },
}

impl Message {
    /// The message's name, as shown in traces.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::RequestVote { .. } => "RequestVote",
            Message::VoteResponse { .. } => "VoteResponse",
            Message::PreVote { .. } => "PreVote",
            Message::TimeoutNow => "TimeoutNow",
            Message::LeaderCheck { .. } => "LeaderCheck",
            Message::LeaderCheckResponse { .. } => "LeaderCheckResponse",
            Message::PreVoteResponse { .. } => "PreVoteResponse",
            Message::AppendEntries { .. } => "AppendEntries",
            Message::AppendResponse { .. } => "AppendResponse",
            Message::InstallSnapshot { .. } => "InstallSnapshot",
            Message::SnapshotResponse { .. } => "SnapshotResponse",
        }
    }

    /// Whether the message is a response, which a stale sender may not use to move a
    /// receiver into its term.
    pub fn is_response(&self) -> bool {
        matches!(
            self,
            Message::VoteResponse { .. }
                | Message::PreVoteResponse { .. }
                | Message::LeaderCheckResponse { .. }
                | Message::AppendResponse { .. }
                | Message::SnapshotResponse { .. }
        )
    }
}
