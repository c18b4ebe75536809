//! Raft's messages as Maelstrom bodies, for the project's own node: a body of type `raft`
//! with the sender's `term`, the message's name in `rpc`, and its fields. Entries carry
//! their payload as `noop`, a command's text, or a configuration.

use serde_json::{Value as Json, json};

use super::protocol::Body;
use crate::raft::{Entry, Envelope, Message, NodeId, Payload, Snapshot};

/// The body that carries `envelope`.
pub fn to_body(envelope: &Envelope) -> Body {
    let mut body = Body::new("raft")
        .with("term", envelope.term)
        .with("rpc", envelope.message.kind());
    if let Json::Object(fields) = message_fields(&envelope.message) {
        body.fields.extend(fields);
    }
    body
}

fn message_fields(message: &Message) -> Json {
    match message {
        Message::RequestVote {
            last_log_index,
            last_log_term,
            leadership_transfer,
        } => json!({"last_log_index": last_log_index, "last_log_term": last_log_term,
            "leadership_transfer": leadership_transfer}),
        Message::PreVote {
            last_log_index,
            last_log_term,
        } => json!({"last_log_index": last_log_index, "last_log_term": last_log_term}),
        Message::PreVoteResponse { granted } | Message::VoteResponse { granted } => {
            json!({ "granted": granted })
        }
        Message::TimeoutNow => json!({}),
        Message::LeaderCheck { round } | Message::LeaderCheckResponse { round } => {
            json!({ "round": round })
        }
        Message::AppendEntries {
            prev_log_index,
            prev_log_term,
            entries,
            leader_commit,
            sent_us,
        } => json!({"prev_log_index": prev_log_index, "prev_log_term": prev_log_term,
            "entries": entries.iter().map(entry_json).collect::<Vec<_>>(),
            "leader_commit": leader_commit, "sent_us": sent_us}),
        Message::AppendResponse {
            success,
            index,
            conflict_term,
            conflict_index,
            sent_us,
        } => json!({"success": success, "index": index, "conflict_term": conflict_term,
            "conflict_index": conflict_index, "sent_us": sent_us}),
        Message::InstallSnapshot { snapshot } => json!({"snapshot": {
            "index": snapshot.index, "term": snapshot.term, "data": snapshot.data,
            "voters": snapshot.voters, "learners": snapshot.learners}}),
        Message::SnapshotResponse {
            snapshot_index,
            last_index,
        } => json!({"snapshot_index": snapshot_index, "last_index": last_index}),
    }
}

fn entry_json(entry: &Entry) -> Json {
    let payload = match &entry.payload {
        Payload::Noop => json!("noop"),
        Payload::Command(bytes) => json!({ "command": String::from_utf8_lossy(bytes) }),
        Payload::Config(members) => {
            json!({"voters": members.voters, "learners": members.learners})
        }
    };
    json!({"index": entry.index, "term": entry.term, "payload": payload})
}

/// The envelope a `raft` body carries from `from` to `to`; `None` when the body is not one.
pub fn from_body(from: NodeId, to: NodeId, body: &Body) -> Option<Envelope> {
    let get = |name: &str| body.fields.get(name);
    let num = |name: &str| get(name).and_then(Json::as_u64);
    let flag = |name: &str| get(name).and_then(Json::as_bool);
    let message = match get("rpc")?.as_str()? {
        "RequestVote" => Message::RequestVote {
            last_log_index: num("last_log_index")?,
            last_log_term: num("last_log_term")?,
            leadership_transfer: flag("leadership_transfer")?,
        },
        "PreVote" => Message::PreVote {
            last_log_index: num("last_log_index")?,
            last_log_term: num("last_log_term")?,
        },
        "PreVoteResponse" => Message::PreVoteResponse {
            granted: flag("granted")?,
        },
        "VoteResponse" => Message::VoteResponse {
            granted: flag("granted")?,
        },
        "TimeoutNow" => Message::TimeoutNow,
        "LeaderCheck" => Message::LeaderCheck {
            round: num("round")?,
        },
        "LeaderCheckResponse" => Message::LeaderCheckResponse {
            round: num("round")?,
        },
        "AppendEntries" => Message::AppendEntries {
            prev_log_index: num("prev_log_index")?,
            prev_log_term: num("prev_log_term")?,
            entries: entries(get("entries")?)?,
            leader_commit: num("leader_commit")?,
            sent_us: num("sent_us")?,
        },
        "AppendResponse" => Message::AppendResponse {
            success: flag("success")?,
            index: num("index")?,
            conflict_term: num("conflict_term"),
            conflict_index: num("conflict_index")?,
            sent_us: num("sent_us")?,
        },
        "InstallSnapshot" => Message::InstallSnapshot {
            snapshot: snapshot(get("snapshot")?)?,
        },
        "SnapshotResponse" => Message::SnapshotResponse {
            snapshot_index: num("snapshot_index")?,
            last_index: num("last_index")?,
        },
        _ => return None,
    };
    Some(Envelope {
        from,
        to,
        term: body.term()?,
        message,
    })
}

fn ids(json: &Json) -> Option<Vec<NodeId>> {
    json.as_array()?.iter().map(Json::as_u64).collect()
}

fn entries(json: &Json) -> Option<Vec<Entry>> {
    json.as_array()?.iter().map(entry).collect()
}

fn entry(json: &Json) -> Option<Entry> {
    let payload = match json.get("payload")? {
        Json::String(noop) if noop == "noop" => Payload::Noop,
        object => match object.get("command") {
            Some(text) => Payload::Command(text.as_str()?.as_bytes().into()),
            None => Payload::config(ids(object.get("voters")?)?, ids(object.get("learners")?)?),
        },
    };
    Some(Entry {
        index: json.get("index")?.as_u64()?,
        term: json.get("term")?.as_u64()?,
        payload,
    })
}

fn snapshot(json: &Json) -> Option<Snapshot> {
    let data = json.get("data")?.as_array()?;
    let data: Option<Vec<u8>> = data
        .iter()
        .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
        .collect();
    Some(Snapshot {
        index: json.get("index")?.as_u64()?,
        term: json.get("term")?.as_u64()?,
        data: data?,
        voters: ids(json.get("voters")?)?,
        learners: ids(json.get("learners")?)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_raft_message_crosses_the_process_boundary_unchanged() {
        let entries = vec![
            Entry {
                index: 1,
                term: 1,
                payload: Payload::Noop,
            },
            Entry {
                index: 2,
                term: 1,
                payload: Payload::Command(b"{\"op\":1}".to_vec().into()),
            },
            Entry {
                index: 3,
                term: 2,
                payload: Payload::config(vec![1, 2], vec![3]),
            },
        ];
        let messages = vec![
            Message::AppendEntries {
                prev_log_index: 0,
                prev_log_term: 0,
                entries,
                leader_commit: 1,
                sent_us: 5,
            },
            Message::AppendResponse {
                success: false,
                index: 4,
                conflict_term: Some(2),
                conflict_index: 3,
                sent_us: 9,
            },
            Message::RequestVote {
                last_log_index: 3,
                last_log_term: 2,
                leadership_transfer: true,
            },
            Message::InstallSnapshot {
                snapshot: Snapshot {
                    index: 3,
                    term: 2,
                    data: vec![1, 255],
                    voters: vec![1],
                    learners: vec![],
                },
            },
            Message::TimeoutNow,
        ];
        for message in messages {
            let envelope = Envelope {
                from: 1,
                to: 2,
                term: 7,
                message,
            };
            let body = to_body(&envelope);
            assert_eq!(body.term(), Some(7));
            assert_eq!(from_body(1, 2, &body), Some(envelope));
        }
    }
}
