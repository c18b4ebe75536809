//! A [`Timeline`] in the Chrome Trace Event format, to open in Perfetto
//! (<https://ui.perfetto.dev>) or `chrome://tracing`.
//!
//! The cluster is one process (pid 1); each node is a thread (tid = the node's id, named
//! `n1`, `n2`, ... by `thread_name` metadata and sorted by id), and client operations have
//! a thread of their own (tid 0, `clients`). Timestamps are cluster time in microseconds,
//! the format's own unit.
//!
//! - Each role is a complete slice (`ph: "X"`) on the node's track: `follower t2`,
//!   `candidate t3`, `leader t3`, `down`.
//! - Each message is a flow arrow (`ph: "s"` at the send, `ph: "f"` with `bp: "e"` at the
//!   delivery or drop, `id` = the message id). A flow must be bound to slices, so every
//!   instant at which a node sends or receives gets a slice of 1us inside its role slice,
//!   named after what happens then (`recv AppendEntries, send AppendResponse`), with each
//!   message in its `args`. A message still in flight when the trace ends has its send
//!   slice but no flow.
//! - Kills, crashes, restarts, commits and truncations are instant events (`ph: "i"`,
//!   thread scope) on the node's track; network changes are global instants.
//! - Client operations are async slices (`ph: "b"`/`"e"`, `id` = the op) on the clients'
//!   track, ending with their outcome.
//!
//! Events are written in time order (metadata first), so timestamps never decrease along
//! a track; at one instant a longer slice comes before the shorter ones it contains.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::raft::NodeId;
use crate::repl::words::fmt_ms;

use super::timeline::{Arrow, Fate, MarkKind, SpanRole, Timeline};

const PID: u64 = 1;
/// The clients' track.
const CLIENTS_TID: u64 = 0;

/// The trace of `timeline` as a JSON document.
pub fn trace(timeline: &Timeline, title: &str) -> String {
    let mut events = Vec::new();
    roles(timeline, &mut events);
    messages(&timeline.arrows, &mut events);
    marks(timeline, &mut events);
    clients(timeline, &mut events);
    events.sort_by(|a, b| {
        let key = |e: &Value| {
            let ts = e.get("ts").and_then(Value::as_u64).unwrap_or(0);
            let dur = e.get("dur").and_then(Value::as_u64).unwrap_or(0);
            (ts, std::cmp::Reverse(dur))
        };
        key(a).cmp(&key(b))
    });
    let mut all = metadata(timeline, title);
    all.extend(events);
    json!({
        "traceEvents": all,
        "displayTimeUnit": "ms",
        "otherData": {
            "tool": "raftlab",
            "title": title,
            "nodes": timeline.nodes,
            "from_us": timeline.from_us,
            "to_us": timeline.to_us,
        },
    })
    .to_string()
}

fn metadata(timeline: &Timeline, title: &str) -> Vec<Value> {
    let meta = |name: &str, tid: u64, args: Value| json!({"ph": "M", "name": name, "pid": PID, "tid": tid, "ts": 0, "args": args});
    let mut out = vec![meta("process_name", 0, json!({ "name": title }))];
    let mut tracks: Vec<(u64, String)> =
        (1..=timeline.nodes).map(|n| (n, format!("n{n}"))).collect();
    if !timeline.clients.is_empty() {
        tracks.insert(0, (CLIENTS_TID, "clients".to_string()));
    }
    for (tid, name) in tracks {
        out.push(meta("thread_name", tid, json!({ "name": name })));
        out.push(meta("thread_sort_index", tid, json!({ "sort_index": tid })));
    }
    out
}

fn roles(timeline: &Timeline, out: &mut Vec<Value>) {
    for span in &timeline.spans {
        let name = match span.role {
            SpanRole::Down => "down".to_string(),
            role => format!("{} t{}", role.name(), span.term),
        };
        out.push(json!({
            "ph": "X", "name": name, "cat": "role", "pid": PID, "tid": span.node,
            "ts": span.start_us, "dur": span.end_us - span.start_us,
            "args": {"role": span.role.name(), "term": span.term},
        }));
    }
}

/// What one node does with messages at one instant: the slice the flows bind to.
#[derive(Default)]
struct Instant {
    parts: Vec<String>,
    messages: Vec<String>,
}

impl Instant {
    fn add(&mut self, verb: &str, arrow: &Arrow) {
        let part = format!("{verb} {}", arrow.info.kind());
        if !self.parts.contains(&part) {
            self.parts.push(part);
        }
        self.messages.push(format!(
            "{verb} #{} n{} -> n{} {}",
            arrow.id,
            arrow.info.from(),
            arrow.info.to(),
            arrow.info
        ));
    }
}

fn messages(arrows: &[Arrow], out: &mut Vec<Value>) {
    let mut instants: BTreeMap<(NodeId, u64), Instant> = BTreeMap::new();
    for arrow in arrows {
        let (from, to) = (arrow.info.from(), arrow.info.to());
        instants
            .entry((from, arrow.sent_us))
            .or_default()
            .add("send", arrow);
        let verb = match arrow.fate {
            Fate::InFlight => continue,
            Fate::Delivered => "recv",
            Fate::Dropped(_) => "lost",
        };
        instants
            .entry((to, arrow.end_us))
            .or_default()
            .add(verb, arrow);
        let name = arrow.info.kind();
        let flow = |ph: &str, tid: NodeId, ts: u64| {
            json!({"ph": ph, "name": name, "cat": "msg", "id": arrow.id, "pid": PID,
                   "tid": tid, "ts": ts})
        };
        out.push(flow("s", from, arrow.sent_us));
        let mut finish = flow("f", to, arrow.end_us);
        if let Some(object) = finish.as_object_mut() {
            object.insert("bp".into(), json!("e"));
        }
        out.push(finish);
    }
    for ((node, ts), instant) in instants {
        out.push(json!({
            "ph": "X", "name": instant.parts.join(", "), "cat": "msg", "pid": PID,
            "tid": node, "ts": ts, "dur": 1, "args": {"messages": instant.messages},
        }));
    }
}

fn marks(timeline: &Timeline, out: &mut Vec<Value>) {
    for mark in &timeline.marks {
        let (name, args) = match &mark.kind {
            MarkKind::Killed => ("killed".to_string(), json!({})),
            MarkKind::Restarted => ("restarted".to_string(), json!({})),
            MarkKind::Crashed(message) => ("crashed".to_string(), json!({ "message": message })),
            MarkKind::Commit(index) => (format!("commit {index}"), json!({ "index": index })),
            MarkKind::Truncated { from, removed } => (
                format!("log truncated from {from}"),
                json!({"from": from, "removed": removed}),
            ),
            MarkKind::Network(change) => (change.clone(), json!({})),
            MarkKind::Violation(detail) => {
                ("safety violation".to_string(), json!({ "detail": detail }))
            }
        };
        let (tid, scope) = match mark.node {
            Some(node) => (node, "t"),
            None => (CLIENTS_TID, "g"),
        };
        let cat = match mark.kind {
            MarkKind::Commit(_) | MarkKind::Truncated { .. } => "log",
            _ => "fault",
        };
        out.push(json!({
            "ph": "i", "s": scope, "name": name, "cat": cat, "pid": PID, "tid": tid,
            "ts": mark.time_us, "args": args,
        }));
    }
}

fn clients(timeline: &Timeline, out: &mut Vec<Value>) {
    for client in &timeline.clients {
        let end_us = client.end_us.unwrap_or(timeline.to_us).max(client.start_us);
        let outcome = client
            .outcome
            .clone()
            .unwrap_or_else(|| "running".to_string());
        let event = |ph: &str, ts: u64, args: Value| {
            json!({"ph": ph, "name": client.request, "cat": "client", "id": client.op,
                   "pid": PID, "tid": CLIENTS_TID, "ts": ts, "args": args})
        };
        out.push(event(
            "b",
            client.start_us,
            json!({"op": client.op, "target": client.target}),
        ));
        out.push(event(
            "e",
            end_us,
            json!({"outcome": outcome, "latency": fmt_ms(end_us - client.start_us)}),
        ));
    }
}
