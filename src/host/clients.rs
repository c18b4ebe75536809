//! The clients `c1..cK` and the history they record. A client has at most one operation
//! outstanding; it sends it to one node and, on error 11 (the node cannot serve it now,
//! and it did not happen), tries the next node until the operation's deadline, as
//! Maelstrom's clients retry. Every operation's invocation and end is recorded in
//! microseconds since the run began.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value as Json, json};

use super::protocol::{Body, KvRequest, KvResponse, code};
use crate::cluster::kv::{KvOp, KvOutput};
use crate::lincheck::kv::KvReply;
use crate::lincheck::{Operation, Outcome};

/// What the clients ask.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    /// read, write and cas on a few keys, checked for linearizability.
    LinKv,
    /// echo: each reply must carry back what was sent.
    Echo,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::LinKv => "lin-kv",
            Workload::Echo => "echo",
        }
    }
}

/// How an operation ended for its client.
#[derive(Clone, Debug, PartialEq)]
pub enum End {
    /// The node answered.
    Ok(KvReply),
    /// A definite error: it did not happen.
    Failed(u64),
    /// No answer in time, or an indefinite error: it may or may not have happened.
    Unknown(String),
    /// No answer in time, and no attempt of it ever reached a node (each found its node
    /// down, or raftlab dropped it with the node's stdin queue full): it did not happen.
    NotSent,
}

/// Why an operation ended [`End::NotSent`], in words.
pub const NOT_SENT: &str = "never sent: no node could take it (down, or its stdin queue full)";

/// One operation of the history.
#[derive(Clone, Debug)]
pub struct Record {
    pub client: usize,
    pub request: Json,
    pub op: Option<KvOp>,
    pub invoke_us: u64,
    pub end: Option<(End, u64)>,
    /// How many nodes it was sent to.
    pub attempts: u32,
}

/// The operation a client waits on.
#[derive(Clone, Debug)]
pub struct Call {
    pub record: usize,
    pub body: Body,
    pub msg_id: u64,
    pub deadline_us: u64,
    /// When to try the next node, after error 11.
    pub retry_at_us: Option<u64>,
    /// How many nodes refused it (error 11).
    pub refusals: usize,
    /// Sent to one chosen node: error 11 ends it as failed instead of moving on.
    pub pinned: bool,
    /// Whether an attempt was handed to a node's stdin (rather than dropped by raftlab,
    /// the queue full): only then may it have happened.
    pub reached: bool,
}

impl Call {
    /// How the call ends when its deadline passes with no answer: unknown if an attempt
    /// reached a node (it may have happened), else never sent (it did not).
    pub fn end_unanswered(&self) -> End {
        match self.reached {
            true => End::Unknown("no answer in time".to_string()),
            false => End::NotSent,
        }
    }
}

/// One client.
#[derive(Clone, Debug)]
pub struct Client {
    pub name: String,
    /// The node it talks to (index from 0).
    pub node: usize,
    /// The node each of its operations starts at.
    pub home: usize,
    pub next_at_us: u64,
    pub call: Option<Call>,
}

/// A JSON value as the checker's text: a string as itself, anything else as JSON.
pub fn text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A random operation of `workload` on `keys` keys.
pub fn random_body(workload: Workload, keys: u64, rng: &mut ChaCha8Rng, n: u64) -> Body {
    match workload {
        Workload::Echo => Body::new("echo").with("echo", format!("hello {n}")),
        Workload::LinKv => {
            let key = Json::from(rng.random_range(0..keys.max(1)));
            let kind = rng.random_range(0..3);
            let mut value = || Json::from(rng.random_range(0..5u64));
            let request = match kind {
                0 => KvRequest::Read { key },
                1 => KvRequest::Write {
                    key,
                    value: value(),
                },
                _ => KvRequest::Cas {
                    key,
                    from: value(),
                    to: value(),
                },
            };
            request.body()
        }
    }
}

/// The checker's operation for a lin-kv request.
pub fn kv_op(body: &Body) -> Option<KvOp> {
    Some(match KvRequest::of(body)? {
        KvRequest::Read { key } => KvOp::Get { key: text(&key) },
        KvRequest::Write { key, value } => KvOp::Put {
            key: text(&key),
            value: text(&value),
        },
        KvRequest::Cas { key, from, to } => KvOp::Cas {
            key: text(&key),
            old: text(&from),
            new: text(&to),
        },
    })
}

/// Why `reply` cannot answer `request` by its type, in words (`read with bogus`), or
/// `None` when its type is one the request can get: `<request>_ok`, or an `error` with a
/// code.
pub fn misfit(workload: Workload, request: &Body, reply: &Body) -> Option<String> {
    let fits = match workload {
        Workload::Echo => reply.kind == "echo_ok",
        Workload::LinKv => match KvResponse::of(reply) {
            Some(KvResponse::ReadOk { .. }) => request.kind == "read",
            Some(KvResponse::WriteOk) => request.kind == "write",
            Some(KvResponse::CasOk) => request.kind == "cas",
            Some(KvResponse::Error { .. }) => true,
            None => false,
        },
    };
    let kind = match reply.kind.as_str() {
        "error" => "an error without a code",
        kind => kind,
    };
    (!fits).then(|| format!("{} with {kind}", request.kind))
}

/// What a reply means for the operation: an end, or `None` to try the next node.
pub fn judge(workload: Workload, request: &Body, reply: &Body) -> Option<End> {
    if let Some(words) = misfit(workload, request, reply) {
        return Some(End::Unknown(format!("a reply of the wrong type: {words}")));
    }
    if workload == Workload::Echo {
        let same =
            reply.kind == "echo_ok" && reply.fields.get("echo") == request.fields.get("echo");
        return Some(if same {
            End::Ok(KvReply::Output(KvOutput::Ok))
        } else {
            End::Unknown(format!("an echo reply that does not match: {}", reply.kind))
        });
    }
    let is = |kind: &str| request.kind == kind;
    Some(match KvResponse::of(reply) {
        Some(KvResponse::ReadOk { value }) if is("read") => {
            End::Ok(KvReply::Output(KvOutput::Value(Some(text(&value)))))
        }
        Some(KvResponse::WriteOk) if is("write") => End::Ok(KvReply::Output(KvOutput::Ok)),
        Some(KvResponse::CasOk) if is("cas") => End::Ok(KvReply::Output(KvOutput::Ok)),
        Some(KvResponse::Error { code, .. }) => match code {
            code::TEMPORARILY_UNAVAILABLE => return None,
            code::KEY_DOES_NOT_EXIST if is("read") => {
                End::Ok(KvReply::Output(KvOutput::Value(None)))
            }
            code::KEY_DOES_NOT_EXIST if is("cas") => {
                End::Ok(KvReply::Output(KvOutput::CasFailed { current: None }))
            }
            code::PRECONDITION_FAILED if is("cas") => End::Ok(KvReply::CasFailed),
            code if code::is_definite(code) => End::Failed(code),
            code => End::Unknown(format!("error {code}")),
        },
        // Every other reply is a misfit, ended above.
        _ => End::Unknown(format!("a reply of the wrong type: {}", reply.kind)),
    })
}

/// The history as the checker's operations: definite failures left out (they did not
/// happen), unknown ends and unfinished operations as unknown outcomes.
pub fn operations(records: &[Record]) -> (Vec<Operation<KvOp, KvReply>>, Vec<usize>) {
    let mut ops = Vec::new();
    let mut index = Vec::new();
    for (i, record) in records.iter().enumerate() {
        let Some(input) = record.op.clone() else {
            continue;
        };
        let outcome = match &record.end {
            Some((End::Failed(_) | End::NotSent, _)) => continue,
            Some((End::Ok(output), at)) => Outcome::Returned {
                output: output.clone(),
                response: *at,
            },
            _ => Outcome::Unknown,
        };
        ops.push(Operation {
            client: record.client as u64,
            input,
            invoke: record.invoke_us,
            outcome,
        });
        index.push(i);
    }
    (ops, index)
}

/// The history as JSON lines that `raftlab lincheck` reads, in time order.
pub fn history_lines(records: &[Record]) -> String {
    let mut events: Vec<(u64, usize, Json)> = Vec::new();
    for (id, record) in records.iter().enumerate() {
        let Some(op) = &record.op else { continue };
        let request = match op {
            KvOp::Get { key } => json!({"op": "get", "key": key}),
            KvOp::Put { key, value } => json!({"op": "put", "key": key, "value": value}),
            KvOp::Cas { key, old, new } => json!({"op": "cas", "key": key, "old": old, "new": new}),
            other => json!({"op": other.to_string()}),
        };
        events.push((
            record.invoke_us,
            0,
            json!({"event": "client_invoked", "op": id,
            "client": record.client, "time_us": record.invoke_us, "request": request}),
        ));
        let Some((end, at)) = &record.end else {
            continue;
        };
        let (outcome, output) = match end {
            End::Ok(KvReply::Output(output)) => ("done", output.to_string()),
            End::Ok(KvReply::CasFailed) => ("done", "cas failed".to_string()),
            End::Failed(code) => ("failed", format!("error {code}")),
            End::NotSent => ("failed", NOT_SENT.to_string()),
            End::Unknown(why) => ("unknown", why.clone()),
        };
        events.push((
            *at,
            1,
            json!({"event": "client_finished", "op": id, "time_us": at,
            "outcome": outcome, "output": output}),
        ));
    }
    events.sort_by_key(|(at, order, _)| (*at, *order));
    let mut text = String::new();
    for (_, _, event) in events {
        text.push_str(&event.to_string());
        text.push('\n');
    }
    text
}

/// An operation's end in words, for the story: `c1 put 1 5: ok`.
pub fn answer_words(client: &str, record: &Record, end: &End) -> String {
    let op = match &record.op {
        Some(op) => op.to_string(),
        None => record.request.get("type").map_or("?".to_string(), text),
    };
    format!("{client} {op}: {}", end_words(end))
}

/// An operation's end in words: `3`, `failed, error 20 (it did not happen)`, ...
pub fn end_words(end: &End) -> String {
    match end {
        End::Ok(KvReply::Output(output)) => output.to_string(),
        End::Ok(KvReply::CasFailed) => "cas failed (error 22)".to_string(),
        End::Failed(code) => format!("failed, error {code} (it did not happen)"),
        End::NotSent => format!("failed, {NOT_SENT} (it did not happen)"),
        End::Unknown(why) => format!("unknown ({why})"),
    }
}
