//! The cluster's data in words: the trace line of each [`ClusterEvent`], a message's
//! type and key fields, Raft events, network changes, client outcomes, and the times and
//! durations every view prints. `src/cluster` returns only data; this room words it.

use std::fmt;

use crate::cluster::event::{
    ClientOutcome, ClusterEvent, Crash, DropReason, EventKind, HostedMsg, MsgInfo, NetworkChange,
    Refusal,
};
use crate::cluster::kv::{KvOp, KvOutput};
use crate::raft::{Message, NoLease, RaftEvent, StepDownCause};

mod kv;
pub mod safety;

/// A hosted message's fields in brief: `name=value` each, a value cut at 40 characters.
pub fn hosted_fields(hosted: &HostedMsg) -> String {
    let shown = hosted.fields.iter().map(|(name, value)| {
        let value: String = value.to_string().chars().take(40).collect();
        format!("{name}={value}")
    });
    shown.collect::<Vec<_>>().join(" ")
}

/// `RequestVote term=2 last=5@1`: the message type and its key fields.
impl fmt::Display for MsgInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let envelope = match self {
            MsgInfo::Raft(envelope) => envelope,
            MsgInfo::Hosted(hosted) => {
                let HostedMsg { kind, .. } = &**hosted;
                let fields = hosted_fields(hosted);
                return match hosted.term {
                    0 => write!(f, "{kind} {fields}"),
                    term => write!(f, "{kind} term={term} {fields}"),
                };
            }
        };
        write!(f, "{} term={}", self.kind(), envelope.term)?;
        match &envelope.message {
            Message::RequestVote {
                last_log_index,
                last_log_term,
                ..
            }
            | Message::PreVote {
                last_log_index,
                last_log_term,
            } => {
                write!(f, " last={last_log_index}@{last_log_term}")
            }
            Message::VoteResponse { granted } | Message::PreVoteResponse { granted } => {
                write!(f, " granted={granted}")
            }
            Message::TimeoutNow => Ok(()),
            Message::LeaderCheck { round } | Message::LeaderCheckResponse { round } => {
                write!(f, " round={round}")
            }
            Message::AppendEntries {
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
                ..
            } => {
                let entries = entries.len();
                write!(
                    f,
                    " prev={prev_log_index}@{prev_log_term} entries={entries} commit={leader_commit}"
                )
            }
            Message::AppendResponse {
                success,
                index,
                conflict_term,
                conflict_index,
                ..
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
            Message::InstallSnapshot { snapshot } => {
                let (index, term, bytes) = (snapshot.index, snapshot.term, snapshot.data.len());
                write!(f, " last={index}@{term} bytes={bytes}")
            }
            Message::SnapshotResponse {
                snapshot_index,
                last_index,
            } => {
                write!(f, " index={snapshot_index} last={last_index}")
            }
        }
    }
}

/// `partition 1,2 | 3`, `cut n1 -> n2`, `heal: every link restored`, `drop=0.1 ...`.
impl fmt::Display for NetworkChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetworkChange::Partition(groups) => {
                let text: Vec<String> = groups
                    .iter()
                    .map(|g| {
                        g.iter()
                            .map(|n| n.to_string())
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .collect();
                write!(f, "partition {}", text.join(" | "))
            }
            NetworkChange::Isolate(node) => write!(f, "isolate n{node}"),
            NetworkChange::Link { a, b, one_way, up } => {
                let verb = if *up { "link" } else { "cut" };
                let arrow = if *one_way { "->" } else { "<->" };
                write!(f, "{verb} n{a} {arrow} n{b}")
            }
            NetworkChange::Heal => write!(f, "heal: every link restored"),
            NetworkChange::Faults(config) => write!(
                f,
                "drop={} duplicate={} delay={}us..{}us reorder={}",
                config.drop,
                config.duplicate,
                config.delay_min_us,
                config.delay_max_us,
                if config.reorder { "on" } else { "off" }
            ),
        }
    }
}

pub use crate::repl::command::format_duration;

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
                info.from(),
                info.to(),
                fmt_ms(*deliver_us)
            ),
            EventKind::Duplicated { id, copy } => write!(f, "#{id} duplicated as #{copy}"),
            EventKind::Delivered { id, info } => {
                write!(
                    f,
                    "n{} => n{}  {info}  #{id} delivered",
                    info.from(),
                    info.to()
                )
            }
            EventKind::Dropped { id, info, reason } => write!(
                f,
                "n{} -x n{}  {info}  #{id} {}",
                info.from(),
                info.to(),
                drop_reason(*reason)
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
            EventKind::NodeCrashed { node, crash } => write!(f, "n{node}  crashed: {crash}"),
            EventKind::NetworkChanged { change } => write!(f, "net  {change}"),
            EventKind::Violation(violation) => write!(f, "SAFETY  {violation}"),
            EventKind::Note {
                node: Some(node),
                text,
            } => write!(f, "n{node}  {text}"),
            EventKind::Note { node: None, text } => write!(f, "host  {text}"),
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
    let q = |word: &str| crate::repl::token::quote(word);
    let what = match (request, output) {
        (KvOp::Get { key }, KvOutput::Value(Some(value))) => {
            format!("get {} = {}", q(key), q(value))
        }
        (KvOp::Get { key }, KvOutput::Value(None)) => format!("get {}: no such key", q(key)),
        (
            request,
            KvOutput::CasFailed {
                current: Some(value),
            },
        ) => {
            format!("{request}: failed, {} is {}", q(request.key()), q(value))
        }
        (request, KvOutput::CasFailed { current: None }) => {
            format!("{request}: failed, no such key")
        }
        (request, output) => format!("{request}: {output}"),
    };
    format!("{what} (index {index}@{term})")
}

/// Why a message did not arrive, in words.
pub fn drop_reason(reason: DropReason) -> &'static str {
    match reason {
        DropReason::Loss => "lost",
        DropReason::Cut => "link cut",
        DropReason::NodeDown => "node down",
        DropReason::User => "dropped by hand",
        DropReason::Overload => "network overloaded",
    }
}

/// `panicked: MESSAGE`, `did not answer within 10s`.
impl fmt::Display for Crash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Crash::Panicked { message } => write!(f, "panicked: {message}"),
            Crash::Silent { limit_s } => write!(f, "did not answer within {limit_s}s"),
            Crash::ThreadEnded => write!(f, "the node's thread has ended"),
            Crash::Exited { status } => write!(f, "{status}"),
        }
    }
}

/// `n2 is not the leader (leader: n1)`, `n3 is down`.
impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NodeDown { node } => write!(f, "n{node} is down"),
            Refusal::NotLeader {
                node,
                leader: Some(leader),
            } => write!(f, "n{node} is not the leader (leader: n{leader})"),
            Refusal::NotLeader { node, leader: None } => {
                write!(f, "n{node} is not the leader (leader: unknown)")
            }
        }
    }
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
