//! `raftlab node`: a Maelstrom lin-kv service built on raftlab's own [`RaftProcessor`],
//! reading messages from stdin and writing them to stdout, one JSON object a line.
//!
//! The pure core runs here across a process boundary: this file is its whole driver. Time
//! is the process's monotonic clock in microseconds; the processor's timer deadline
//! bounds each wait for the next line. A client's `read`, `write` or `cas` becomes one log
//! entry (reads too, so that they are linearizable without a lease); the node remembers
//! which index and term it proposed it at, and answers when that index commits: with the
//! result when the committed entry is its own, with error 11 when another entry took the
//! index. A node that is not the leader answers error 11 at once. Raft messages travel as
//! bodies of type `raft` ([`super::wire`]).
//!
//! State is kept in memory only: a killed node restarts empty, as a Maelstrom program
//! that does not write to disk does. Each time its role, term or commit index changes the
//! node writes one state line on stderr (`raftlab-state {...}`), the optional convention
//! raftlab's host shows.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};
use std::time::{Duration, Instant};

use crossbeam_channel::{RecvTimeoutError, bounded};
use serde_json::{Value as Json, json};

use super::protocol::{Body, KvRequest, KvResponse, Message, code, parse_line, to_line};
use super::wire;
use crate::raft::{
    Bug, Entry, Index, Input, NodeId, Outputs, Payload, RaftConfig, RaftProcessor, Role, Storage,
    Term,
};

/// The options of `raftlab node`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct NodeArgs {
    /// Turn on a teaching bug (repeatable).
    #[arg(long = "bug", value_name = "NAME")]
    pub bugs: Vec<Bug>,
    /// The seed of the node's election timeouts (the node's number is added).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// A client request waiting for its log entry to commit.
struct Pending {
    term: Term,
    client: String,
    msg_id: Option<u64>,
}

struct KvNode {
    id: NodeId,
    names: Vec<String>,
    processor: RaftProcessor,
    storage: Storage,
    kv: BTreeMap<String, Json>,
    pending: BTreeMap<Index, Pending>,
    local_reads: bool,
    next_msg_id: u64,
    start: Instant,
    shown: (Role, Term, Index),
}

/// Runs the node until stdin closes; returns the exit status.
pub fn run(args: &NodeArgs) -> u8 {
    let (lines_tx, lines_rx) = bounded::<String>(4096);
    std::thread::spawn(move || {
        for line in io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let start = Instant::now();
    let mut node: Option<KvNode> = None;
    loop {
        let now_us = start.elapsed().as_micros() as u64;
        let wait = node.as_ref().map_or(Duration::from_secs(3600), |n| {
            Duration::from_micros(n.processor.next_deadline_us().saturating_sub(now_us))
        });
        match lines_rx.recv_timeout(wait) {
            Ok(line) => match parse_line(&line) {
                Ok(message) => match node.as_mut() {
                    Some(node) => node.receive(message),
                    None => node = init(args, message, start),
                },
                Err(error) => eprintln!("raftlab node: cannot read a line: {error}"),
            },
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return 0,
        }
        if let Some(node) = node.as_mut() {
            node.tick();
        }
    }
}

/// Starts the node from an `init` message; anything else before it is answered with an
/// error and ignored.
fn init(args: &NodeArgs, message: Message, start: Instant) -> Option<KvNode> {
    let body = &message.body;
    let id_of = |v: &Json| v.as_str().map(str::to_string);
    let name = body.fields.get("node_id").and_then(id_of);
    let names: Option<Vec<String>> = body
        .fields
        .get("node_ids")
        .and_then(Json::as_array)
        .and_then(|ids| ids.iter().map(id_of).collect());
    let (Some(name), Some(names), "init") = (name, names, body.kind.as_str()) else {
        eprintln!("raftlab node: expected init first, got {}", body.kind);
        return None;
    };
    let position = names.iter().position(|n| *n == name)?;
    let id = position as NodeId + 1;
    let voters: Vec<NodeId> = (1..=names.len() as NodeId).collect();
    let config = RaftConfig {
        bugs: args.bugs.iter().copied().collect(),
        ..RaftConfig::default()
    };
    let storage = Storage::default();
    let now_us = start.elapsed().as_micros() as u64;
    let seed = args.seed.wrapping_mul(1_000_003).wrapping_add(id);
    let processor = RaftProcessor::new(id, &voters, config, &storage, seed, now_us);
    let mut node = KvNode {
        id,
        names,
        processor,
        storage,
        kv: BTreeMap::new(),
        pending: BTreeMap::new(),
        local_reads: args.bugs.contains(&Bug::LeaderLocalReads),
        next_msg_id: 1,
        start,
        shown: (Role::Follower, u64::MAX, 0),
    };
    node.reply(&message, Body::new("init_ok"));
    node.show_state();
    Some(node)
}

impl KvNode {
    fn now_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    fn name(&self) -> &str {
        &self.names[self.id as usize - 1]
    }

    fn send(&mut self, dest: &str, mut body: Body) {
        body.msg_id = Some(self.next_msg_id);
        self.next_msg_id += 1;
        let message = Message {
            src: self.name().to_string(),
            dest: dest.to_string(),
            body,
        };
        let mut out = io::stdout().lock();
        // A closed stdout means the host is gone; the node ends when stdin closes.
        let _ = writeln!(out, "{}", to_line(&message));
        let _ = out.flush();
    }

    fn reply(&mut self, to: &Message, mut body: Body) {
        body.in_reply_to = to.body.msg_id;
        let dest = to.src.clone();
        self.send(&dest, body);
    }

    fn receive(&mut self, message: Message) {
        if message.body.kind == "raft" {
            let from = self.names.iter().position(|n| *n == message.src);
            let envelope =
                from.and_then(|f| wire::from_body(f as NodeId + 1, self.id, &message.body));
            match envelope {
                Some(envelope) => self.step(Input::message(envelope)),
                None => eprintln!(
                    "raftlab node: a raft message it cannot read from {}",
                    message.src
                ),
            }
            return;
        }
        if message.body.kind == "echo" {
            let mut body = message.body.clone();
            body.kind = "echo_ok".to_string();
            body.msg_id = None;
            return self.reply(&message, body);
        }
        match KvRequest::of(&message.body) {
            Some(request) => self.request(&message, &request),
            None => {
                let text = format!("raftlab node does not serve {:?}", message.body.kind);
                let error = KvResponse::Error { code: 10, text };
                self.reply(&message, error.body());
            }
        }
    }

    fn request(&mut self, message: &Message, request: &KvRequest) {
        let is_leader = self.processor.role() == Role::Leader;
        if let (KvRequest::Read { key }, true, true) = (request, self.local_reads, is_leader) {
            // The teaching bug: a leader answers from its own state, without the log.
            let answer = self.apply(&json!({"op": "read", "key": key}));
            return self.reply(message, answer.body());
        }
        let command = match request {
            KvRequest::Read { key } => json!({"op": "read", "key": key}),
            KvRequest::Write { key, value } => json!({"op": "write", "key": key, "value": value}),
            KvRequest::Cas { key, from, to } => {
                json!({"op": "cas", "key": key, "from": from, "to": to})
            }
        };
        let now_us = self.now_us();
        let bytes = command.to_string().into_bytes();
        let outputs = self
            .processor
            .step(now_us, Input::Propose(vec![bytes.into()]));
        match &outputs.proposal {
            Some(Ok(proposed)) => {
                let pending = Pending {
                    term: proposed.term,
                    client: message.src.clone(),
                    msg_id: message.body.msg_id,
                };
                self.pending.insert(proposed.first_index, pending);
            }
            Some(Err(error)) => {
                let text = error.to_string();
                let code = code::TEMPORARILY_UNAVAILABLE;
                self.reply(message, KvResponse::Error { code, text }.body());
            }
            None => {}
        }
        self.handle(outputs);
    }

    fn tick(&mut self) {
        let now_us = self.now_us();
        if now_us >= self.processor.next_deadline_us() {
            self.step(Input::Tick);
        }
    }

    fn step(&mut self, input: Input) {
        let now_us = self.now_us();
        let outputs = self.processor.step(now_us, input);
        self.handle(outputs);
    }

    /// Durable writes first, then messages, then committed entries (the core's contract).
    fn handle(&mut self, outputs: Outputs) {
        for write in &outputs.writes {
            self.storage.apply(write);
        }
        for envelope in &outputs.messages {
            let dest = self.names[envelope.to as usize - 1].clone();
            self.send(&dest, wire::to_body(envelope));
        }
        for entry in &outputs.committed {
            self.commit(entry);
        }
        self.show_state();
    }

    fn commit(&mut self, entry: &Entry) {
        let answer = match &entry.payload {
            Payload::Command(bytes) => serde_json::from_slice::<Json>(bytes)
                .ok()
                .map(|command| self.apply(&command)),
            _ => None,
        };
        let Some(pending) = self.pending.remove(&entry.index) else {
            return;
        };
        let body = match answer {
            Some(answer) if pending.term == entry.term => answer.body(),
            _ => KvResponse::Error {
                code: code::TEMPORARILY_UNAVAILABLE,
                text: "another leader's entry took its place in the log".to_string(),
            }
            .body(),
        };
        let mut body = body;
        body.in_reply_to = pending.msg_id;
        self.send(&pending.client, body);
    }

    /// Applies one committed command to the store.
    fn apply(&mut self, command: &Json) -> KvResponse {
        let key = command.get("key").map(Json::to_string).unwrap_or_default();
        let missing = || KvResponse::Error {
            code: code::KEY_DOES_NOT_EXIST,
            text: format!("key {key} does not exist"),
        };
        match command.get("op").and_then(Json::as_str) {
            Some("read") => match self.kv.get(&key) {
                Some(value) => KvResponse::ReadOk {
                    value: value.clone(),
                },
                None => missing(),
            },
            Some("write") => {
                let value = command.get("value").cloned().unwrap_or(Json::Null);
                self.kv.insert(key, value);
                KvResponse::WriteOk
            }
            Some("cas") => {
                let from = command.get("from").cloned().unwrap_or(Json::Null);
                match self.kv.get(&key) {
                    None => missing(),
                    Some(current) if *current != from => KvResponse::Error {
                        code: code::PRECONDITION_FAILED,
                        text: format!("expected {from}, found {current}"),
                    },
                    Some(_) => {
                        let to = command.get("to").cloned().unwrap_or(Json::Null);
                        self.kv.insert(key, to);
                        KvResponse::CasOk
                    }
                }
            }
            _ => KvResponse::Error {
                code: 12,
                text: "malformed command in the log".to_string(),
            },
        }
    }

    /// Writes the state line of the optional convention when role, term or commit moved.
    fn show_state(&mut self) {
        let now = (
            self.processor.role(),
            self.processor.term(),
            self.processor.commit(),
        );
        if now == self.shown {
            return;
        }
        self.shown = now;
        let state = json!({
            "role": now.0.name(),
            "term": now.1,
            "commit": now.2,
            "last_index": self.processor.log().last_index(),
            "leader": self.processor.leader().map(|l| self.names[l as usize - 1].clone()),
        });
        eprintln!("{} {state}", super::STATE_MARKER);
    }
}
