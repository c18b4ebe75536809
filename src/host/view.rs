//! A hosted cluster as the live view sees it: one [`ClusterView`], the same data picture
//! the built-in cluster gives, built from the host's state. What a hosted node does not
//! tell raftlab is left unknown: a node's role, term and commit come only from its
//! optional state line (see [`super::STATE_MARKER`]); it has no timer raftlab can see.
//! A message of the project's own node reads as the Raft message it carries; any other
//! is shown by its `type` and fields.

use std::sync::Arc;

use serde_json::Value as Json;

use super::protocol::Message;
use super::run::{Host, Slot};
use super::wire;
use crate::cluster::event::{Crash, HostedMsg};
use crate::cluster::view::{MessageView, NodePicture};
use crate::cluster::{ClockMode, ClusterView, MsgInfo, NetworkView, NodeState};
use crate::raft::{NodeId, Role};

impl Host {
    /// The cluster's picture now, with the notes after the first `events_after`.
    pub fn picture(&self, events_after: u64) -> ClusterView {
        let ids: Vec<NodeId> = (1..=self.slots.len() as NodeId).collect();
        let groups = self.net.groups().to_vec();
        let nodes = self
            .slots
            .iter()
            .zip(&ids)
            .map(|(slot, &id)| node_picture(slot, id, &groups))
            .collect();
        let in_flight = self
            .in_flight_timed()
            .into_iter()
            .map(|(id, from, to, message, sent_us, deliver_us)| MessageView {
                id,
                info: info(from as NodeId + 1, to as NodeId + 1, &message),
                sent_us,
                deliver_us,
            })
            .collect();
        let skip = events_after.max(self.notes_taken - self.notes.len() as u64);
        let first = (skip - (self.notes_taken - self.notes.len() as u64)) as usize;
        ClusterView {
            now_us: self.now_us(),
            mode: if self.held {
                ClockMode::Paused
            } else {
                ClockMode::Realtime
            },
            speed: 1.0,
            seed: self.args.seed,
            initial_nodes: ids.len() as u64,
            leader: self.reported_leader().map(|n| n as NodeId + 1),
            nodes,
            network: NetworkView {
                nodes: ids.clone(),
                config: self.net.config().clone(),
                cut: self.net.cut_links().collect(),
                groups,
            },
            in_flight,
            dropped: Vec::new(),
            voters: ids,
            learners: Vec::new(),
            violations: Vec::new(),
            violation_counts: Default::default(),
            steps_checked: 0,
            crashes: Vec::new(),
            logs_match: None,
            settled: None,
            next_event_us: None,
            handoffs: 0,
            pending_ops: Vec::new(),
            events: self.notes.iter().skip(first).cloned().collect(),
            events_emitted: self.notes_taken,
        }
    }
}

/// A message in brief: the Raft message the project's node carries, or the body's type
/// and fields.
pub fn info(from: NodeId, to: NodeId, message: &Message) -> MsgInfo {
    if let Some(envelope) = wire::from_body(from, to, &message.body) {
        return MsgInfo::Raft(Arc::new(envelope));
    }
    let body = &message.body;
    let mut kind = body.kind.clone();
    if let Some(rpc) = body.fields.get("rpc").and_then(Json::as_str) {
        kind = format!("{kind} {rpc}");
    }
    let fields = body
        .fields
        .iter()
        .filter(|(name, _)| *name != "rpc" && *name != "term")
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    MsgInfo::Hosted(Arc::new(HostedMsg {
        from,
        to,
        term: body.term().unwrap_or(0),
        kind,
        fields,
    }))
}

/// What the host knows of a node: up or down, its message counts, and what its latest
/// state line said. It has no timer, log or snapshot raftlab can see.
fn node_picture(slot: &Slot, id: NodeId, groups: &[Vec<NodeId>]) -> NodePicture {
    let state = match (&slot.child, &slot.exit) {
        (None, _) => NodeState::Down,
        (Some(_), Some(exit)) => NodeState::Crashed(Crash::Exited {
            status: exit.clone(),
        }),
        (Some(_), None) => NodeState::Up,
    };
    let reported = |name: &str| {
        slot.state
            .as_ref()
            .and_then(|s| s.get(name))
            .and_then(Json::as_u64)
    };
    let role = match slot.state.as_ref().and_then(|s| s.get("role")?.as_str()) {
        _ if state != NodeState::Up => None,
        Some("leader") => Some(Role::Leader),
        Some("candidate") => Some(Role::Candidate),
        Some("follower") => Some(Role::Follower),
        _ => None,
    };
    let log = slot.state.as_ref().and_then(|s| s.get("log")?.as_array());
    let last_term = log
        .and_then(|l| l.last()?.as_u64())
        .or_else(|| reported("last_term"))
        .unwrap_or(0);
    let last_index = log
        .map(|l| l.len() as u64)
        .or_else(|| reported("last_index"))
        .unwrap_or(0);
    let commit = reported("commit").unwrap_or(0);
    NodePicture {
        id,
        state,
        role,
        term: reported("term").unwrap_or(0),
        vote: reported("vote"),
        leader: slot.state.as_ref().and_then(|s| node_id(s.get("leader")?)),
        last_index,
        last_term,
        commit,
        applied: reported("applied").unwrap_or(commit),
        group: groups.iter().position(|g| g.contains(&id)),
        votes: None,
        progress: Vec::new(),
        timer: None,
        log: Vec::new(),
        snapshot: (0, 0),
        kv: None,
        counts: Some((slot.sent, slot.received)),
    }
}

/// A node named in a state line: `2` or `"n2"`.
fn node_id(value: &Json) -> Option<NodeId> {
    value
        .as_u64()
        .or_else(|| value.as_str()?.trim_start_matches('n').parse().ok())
}
