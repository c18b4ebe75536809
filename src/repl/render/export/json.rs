//! JSON for tools: `status --json`, `log --json`, and the event stream as JSON Lines
//! (`export FILE.jsonl`, `raftlab run --json`).
//!
//! Keys come in a fixed order (the order below), times are whole microseconds of cluster
//! time, nodes are numbers from 1, and a field that has no value is `null`.
//!
//! # `status --json`
//!
//! `{"now_us", "clock", "speed", "leader", "in_flight", "nodes": [{"id", "state", "role",
//! "term", "vote", "leader", "last_index", "last_term", "commit", "applied", "group",
//! "crash"}]}` where `clock` is `realtime`, `paused` or `virtual`; `state` is `up`, `down`
//! or `crashed`; `role` is `follower`, `candidate`, `leader` or `null` (not up); `commit`
//! and `applied` are `null` for a node that is not up (they are volatile); `group` is the
//! node's partition group from 1, or `null`; `crash` the panic message of a crashed node.
//!
//! # `log --json`
//!
//! `{"nodes": [{"id", "state", "role", "commit", "entries": [{"index", "term",
//! "command"}]}]}`: every entry of each log asked for, `command` in words (`noop`,
//! `put x 1  (client 1 #1)`).
//!
//! # Events, one JSON object a line
//!
//! Every object has `time_us` and `event`, then the event's fields:
//!
//! | `event` | fields |
//! |---|---|
//! | `sent` | `id`, `from`, `to`, `msg`, `deliver_us` |
//! | `duplicated` | `id`, `copy` (the copy's id) |
//! | `delivered` | `id`, `from`, `to`, `msg` |
//! | `dropped` | `id`, `from`, `to`, `msg`, `reason`: `loss`, `cut`, `node_down` or `user` |
//! | `timer` | `node` |
//! | `term_changed` | `node`, `from`, `to` |
//! | `became_follower` | `node`, `term`, `leader` (or `null`) |
//! | `became_candidate`, `became_leader` | `node`, `term` |
//! | `leader_known` | `node`, `term`, `leader` |
//! | `voted` | `node`, `term`, `candidate` |
//! | `commit_advanced` | `node`, `from`, `to` |
//! | `log_truncated` | `node`, `from`, `removed` |
//! | `client_invoked` | `op`, `client`, `request`, `target` |
//! | `client_retried` | `op`, `target` |
//! | `client_finished` | `op`, `latency_us`, `outcome`: `done`, `refused` or `timed_out`; for `done`, `output`, `index`, `term`; for `refused`, `reason` |
//! | `node_killed`, `node_restarted` | `node` |
//! | `node_crashed` | `node`, `message` |
//! | `network_changed` | `change` (in words, as `net` would say it) |
//!
//! `msg` is the message in brief: `{"type", "term", ...}` with `type` one of
//! `request_vote` (`last_index`, `last_term`), `vote_response` (`granted`),
//! `append_entries` (`prev_index`, `prev_term`, `entries`: how many, `commit`) and
//! `append_response` (`success`, `index`). `request` is
//! `{"op": "put"|"append"|"get"|"del"|"cas", "key", "value"?, "old"?, "new"?}`.

use serde_json::{Map, Value, json};

use crate::cluster::event::{ClientOutcome, DropReason};
use crate::cluster::kv::KvOp;
use crate::cluster::{ClusterEvent, ClusterView, EventKind, MsgInfo, NodePicture, NodeState};
use crate::raft::{Entry, Message, NodeId, RaftEvent, StepDownCause};
use crate::repl::render::words;
use crate::repl::view::describe_entry;

/// `status --json`: the cluster's state as one JSON object, on one line.
pub fn status(status: &ClusterView) -> String {
    let nodes: Vec<Value> = status.nodes.iter().map(node_status).collect();
    json!({
        "now_us": status.now_us,
        "clock": status.mode.name(),
        "speed": status.speed,
        "leader": status.leader,
        "in_flight": status.in_flight.len(),
        "nodes": nodes,
    })
    .to_string()
}

fn node_status(node: &NodePicture) -> Value {
    let up = node.state == NodeState::Up;
    let crash = match &node.state {
        NodeState::Crashed(crash) => Some(crash.to_string()),
        _ => None,
    };
    json!({
        "id": node.id,
        "state": state_name(&node.state),
        "role": node.role.filter(|_| up).map(|r| r.name()),
        "term": node.term,
        "vote": node.vote,
        "leader": node.leader,
        "last_index": node.last_index,
        "last_term": node.last_term,
        "commit": up.then_some(node.commit),
        "applied": up.then_some(node.applied),
        "group": node.group.map(|g| g + 1),
        "crash": crash,
        "votes": node.votes.map(|(granted, voters)| json!({"granted": granted, "voters": voters})),
        "followers": node.progress.iter().map(|f| json!({
            "node": f.node,
            "next_index": f.next_index,
            "match_index": f.match_index,
        })).collect::<Vec<_>>(),
    })
}

fn state_name(state: &NodeState) -> &'static str {
    match state {
        NodeState::Up => "up",
        NodeState::Down => "down",
        NodeState::Crashed(_) => "crashed",
    }
}

/// `log --json`: every entry of the logs asked for, as one JSON object on one line.
pub fn logs(logs: &[(NodeId, Vec<Entry>)], nodes: &[NodePicture]) -> String {
    let rows: Vec<Value> = logs
        .iter()
        .map(|(id, log)| {
            let status = nodes.iter().find(|s| s.id == *id);
            let up = status.is_some_and(|s| s.state == NodeState::Up);
            let entries: Vec<Value> = log
                .iter()
                .map(|e| json!({"index": e.index, "term": e.term, "command": describe_entry(e)}))
                .collect();
            json!({
                "id": id,
                "state": status.map(|s| state_name(&s.state)),
                "role": status.and_then(|s| s.role).filter(|_| up).map(|r| r.name()),
                "commit": status.filter(|_| up).map(|s| s.commit),
                "entries": entries,
            })
        })
        .collect();
    json!({ "nodes": rows }).to_string()
}

/// One event as one line of JSON (without the newline), in the schema of the module docs.
pub fn event_jsonl(event: &ClusterEvent) -> String {
    let mut object = Map::new();
    object.insert("time_us".into(), json!(event.time_us));
    let (name, fields) = event_fields(&event.kind);
    object.insert("event".into(), json!(name));
    if let Value::Object(fields) = fields {
        object.extend(fields);
    }
    Value::Object(object).to_string()
}

/// The event's name and its fields.
fn event_fields(kind: &EventKind) -> (&'static str, Value) {
    match kind {
        EventKind::Sent {
            id,
            info,
            deliver_us,
        } => (
            "sent",
            json!({"id": id, "from": info.from(), "to": info.to(), "msg": msg(info),
                   "deliver_us": deliver_us}),
        ),
        EventKind::Duplicated { id, copy } => ("duplicated", json!({"id": id, "copy": copy})),
        EventKind::Delivered { id, info } => (
            "delivered",
            json!({"id": id, "from": info.from(), "to": info.to(), "msg": msg(info)}),
        ),
        EventKind::Dropped { id, info, reason } => (
            "dropped",
            json!({"id": id, "from": info.from(), "to": info.to(), "msg": msg(info),
                   "reason": reason_name(*reason)}),
        ),
        EventKind::Timer { node } => ("timer", json!({ "node": node })),
        EventKind::Raft { node, event } => raft_fields(*node, event),
        EventKind::ClientInvoked {
            op,
            client,
            request,
            target,
        } => (
            "client_invoked",
            json!({"op": op, "client": client, "request": request_json(request),
                   "target": target}),
        ),
        EventKind::ClientRetried { op, target } => {
            ("client_retried", json!({"op": op, "target": target}))
        }
        EventKind::ClientFinished {
            op,
            outcome,
            latency_us,
            ..
        } => ("client_finished", finished(*op, outcome, *latency_us)),
        EventKind::NodeKilled { node } => ("node_killed", json!({ "node": node })),
        EventKind::NodeRestarted { node } => ("node_restarted", json!({ "node": node })),
        EventKind::NodeCrashed { node, crash } => (
            "node_crashed",
            json!({"node": node, "message": crash.to_string()}),
        ),
        EventKind::NetworkChanged { change } => {
            ("network_changed", json!({ "change": change.to_string() }))
        }
        EventKind::Violation(violation) => (
            "violation",
            json!({"rule": violation.rule.to_string(), "nodes": violation.nodes,
                   "index": violation.index, "terms": violation.terms,
                   "detail": violation.detail.to_string()}),
        ),
        EventKind::Note { node, text } => ("note", json!({"node": node, "text": text})),
    }
}

fn raft_fields(node: NodeId, event: &RaftEvent) -> (&'static str, Value) {
    match *event {
        RaftEvent::TermChanged { from, to } => (
            "term_changed",
            json!({"node": node, "from": from, "to": to}),
        ),
        RaftEvent::BecameFollower { term, leader } => (
            "became_follower",
            json!({"node": node, "term": term, "leader": leader}),
        ),
        RaftEvent::PreVoteStarted { term } => {
            ("prevote_started", json!({"node": node, "term": term}))
        }
        RaftEvent::LostQuorum { term } => ("lost_quorum", json!({"node": node, "term": term})),
        RaftEvent::TransferStarted { term, target } => (
            "transfer_started",
            json!({"node": node, "term": term, "target": target}),
        ),
        RaftEvent::TimeoutNowSent { term, target } => (
            "timeout_now_sent",
            json!({"node": node, "term": term, "target": target}),
        ),
        RaftEvent::TransferFailed {
            term,
            target,
            reason,
        } => (
            "transfer_failed",
            json!({"node": node, "term": term, "target": target, "reason": reason}),
        ),
        RaftEvent::BecameCandidate { term } => {
            ("became_candidate", json!({"node": node, "term": term}))
        }
        RaftEvent::BecameLeader { term } => ("became_leader", json!({"node": node, "term": term})),
        RaftEvent::SteppedDown { was, term, cause } => {
            let (cause, by) = match cause {
                StepDownCause::HigherTerm { from } => ("higher_term", from),
                StepDownCause::LeaderOfTerm { leader } => ("leader_of_term", leader),
            };
            let was = was.name();
            (
                "stepped_down",
                json!({"node": node, "was": was, "term": term, "cause": cause, "by": by}),
            )
        }
        RaftEvent::LeaderKnown { term, leader } => (
            "leader_known",
            json!({"node": node, "term": term, "leader": leader}),
        ),
        RaftEvent::Voted { term, candidate } => (
            "voted",
            json!({"node": node, "term": term, "candidate": candidate}),
        ),
        RaftEvent::CommitAdvanced { from, to } => (
            "commit_advanced",
            json!({"node": node, "from": from, "to": to}),
        ),
        RaftEvent::LogTruncated { from, removed } => (
            "log_truncated",
            json!({"node": node, "from": from, "removed": removed}),
        ),
        RaftEvent::SnapshotTaken { index, term } => (
            "snapshot_taken",
            json!({"node": node, "index": index, "term": term}),
        ),
        RaftEvent::SnapshotInstalled { index, term } => (
            "snapshot_installed",
            json!({"node": node, "index": index, "term": term}),
        ),
        RaftEvent::ConfigChanged {
            index,
            ref voters,
            ref learners,
        } => (
            "config_changed",
            json!({"node": node, "index": index, "voters": voters, "learners": learners}),
        ),
        RaftEvent::ChangeRefused { ref reason } => (
            "change_refused",
            json!({"node": node, "reason": reason.to_string()}),
        ),
        RaftEvent::LeaseRead {
            term,
            reads,
            index,
            lease_until_us,
        } => (
            "lease_read",
            json!({"node": node, "term": term, "reads": reads, "index": index,
                   "lease_until_us": lease_until_us}),
        ),
        RaftEvent::ReadWithoutLease { term, reads, why } => (
            "read_without_lease",
            json!({"node": node, "term": term, "reads": reads, "why": why.to_string()}),
        ),
        RaftEvent::CampaignIgnored { term, until_us } => (
            "campaign_ignored",
            json!({"node": node, "term": term, "until_us": until_us}),
        ),
    }
}

/// A message in brief, as the `msg` field.
pub fn msg(info: &MsgInfo) -> Value {
    let envelope = match info {
        MsgInfo::Raft(envelope) => envelope,
        MsgInfo::Hosted(hosted) => {
            return json!({"type": hosted.kind, "term": hosted.term, "fields": words::hosted_fields(hosted)});
        }
    };
    let term = envelope.term;
    match &envelope.message {
        Message::RequestVote {
            last_log_index,
            last_log_term,
            ..
        } => json!({"type": "request_vote", "term": term, "last_index": last_log_index,
                    "last_term": last_log_term}),
        Message::VoteResponse { granted } => {
            json!({"type": "vote_response", "term": term, "granted": granted})
        }
        Message::PreVote {
            last_log_index,
            last_log_term,
        } => json!({"type": "prevote", "term": term, "last_index": last_log_index,
                    "last_term": last_log_term}),
        Message::PreVoteResponse { granted } => {
            json!({"type": "prevote_response", "term": term, "granted": granted})
        }
        Message::TimeoutNow => json!({"type": "timeout_now", "term": term}),
        Message::LeaderCheck { round } => {
            json!({"type": "leader_check", "term": term, "round": round})
        }
        Message::LeaderCheckResponse { round } => {
            json!({"type": "leader_check_response", "term": term, "round": round})
        }
        Message::AppendEntries {
            prev_log_index,
            prev_log_term,
            entries,
            leader_commit,
            ..
        } => json!({"type": "append_entries", "term": term, "prev_index": prev_log_index,
                    "prev_term": prev_log_term, "entries": entries.len(),
                    "commit": leader_commit}),
        Message::AppendResponse {
            success,
            index,
            conflict_term,
            conflict_index,
            ..
        } => {
            json!({"type": "append_response", "term": term, "success": success,
                   "index": index, "conflict_term": conflict_term,
                   "conflict_index": conflict_index})
        }
        Message::InstallSnapshot { snapshot } => {
            json!({"type": "install_snapshot", "term": term, "last_index": snapshot.index,
                   "last_term": snapshot.term, "bytes": snapshot.data.len()})
        }
        Message::SnapshotResponse {
            snapshot_index,
            last_index,
        } => {
            json!({"type": "snapshot_response", "term": term, "index": snapshot_index,
                   "last_index": last_index})
        }
    }
}

fn reason_name(reason: DropReason) -> &'static str {
    match reason {
        DropReason::Loss => "loss",
        DropReason::Cut => "cut",
        DropReason::NodeDown => "node_down",
        DropReason::User => "user",
        DropReason::Overload => "overload",
    }
}

fn request_json(request: &KvOp) -> Value {
    match request {
        KvOp::Put { key, value } => json!({"op": "put", "key": key, "value": value}),
        KvOp::Append { key, value } => json!({"op": "append", "key": key, "value": value}),
        KvOp::Get { key } => json!({"op": "get", "key": key}),
        KvOp::Del { key } => json!({"op": "del", "key": key}),
        KvOp::Cas { key, old, new } => json!({"op": "cas", "key": key, "old": old, "new": new}),
    }
}

fn finished(op: u64, outcome: &ClientOutcome, latency_us: u64) -> Value {
    match outcome {
        ClientOutcome::Done {
            output,
            index,
            term,
        } => json!({"op": op, "latency_us": latency_us, "outcome": "done",
                    "output": output.to_string(), "index": index, "term": term}),
        ClientOutcome::Refused { reason } => json!({"op": op, "latency_us": latency_us,
                    "outcome": "refused", "reason": reason.to_string()}),
        ClientOutcome::TimedOut => {
            json!({"op": op, "latency_us": latency_us, "outcome": "timed_out"})
        }
    }
}
