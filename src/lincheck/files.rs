//! Reading histories from files: Porcupine's key-value format, Jepsen's register histories,
//! and raftlab's own JSON lines.
//!
//! - **porcupine**: one EDN map a line, `{:process 0, :type :invoke, :f :get, :key "6",
//!   :value nil}`, `:f` one of `:get`, `:put`, `:append`, `:type` `:invoke` or `:ok`; read
//!   with the key-value model, an absent key reading as `""` as in Porcupine's store.
//! - **jepsen**: a register's history, either as EDN maps (`{:process 0, :type :invoke,
//!   :f :cas, :value [1 2]}`) or as Jepsen's log lines (`INFO jepsen.util - 0 :invoke
//!   :read nil`), `:f` one of `:read`, `:write`, `:cas`; a completion is `:ok`, `:fail`
//!   (it did not happen; a failed `cas` found some other value) or `:info` (unknown).
//! - **jsonl**: raftlab's event stream (`export FILE.jsonl`); its `client_invoked` and
//!   `client_finished` records are the operations, the rest is skipped. A refused
//!   operation counts as unknown: the stream does not say whether an attempt reached a log.
//!
//! An invocation pairs with the next completion of the same process; one never completed
//! has an unknown outcome. A completion must name the call it completes (the same `:f`,
//! `:key`, and for a write the same value, or none; an `:info` may give a reason such as
//! `:timed-out` instead), a jsonl op id is invoked once, and an outcome is one the stream
//! writes: anything else is bad input, refused with its line. Times are line numbers: the
//! order of the lines is the order of the events. The format is told by the first line that is not blank, unless named.

use std::collections::HashMap;

use serde_json::Value as Json;
use thiserror::Error;

use super::kv::{KvModel, KvReply};
use super::register::{RegisterModel, RegisterOp, RegisterReply};
use super::{Operation, Outcome};
use crate::cluster::kv::{KvOp, KvOutput};

/// A format of history file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Porcupine,
    Jepsen,
    Jsonl,
}

/// A history read from a file, with the model it is checked against.
pub enum History {
    Kv {
        model: KvModel,
        ops: Vec<Operation<KvOp, KvReply>>,
    },
    Register {
        model: RegisterModel,
        ops: Vec<Operation<RegisterOp, RegisterReply>>,
    },
}

/// A line that could not be read.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("line {line}: expected {expected}, found {found:?}")]
pub struct HistoryError {
    pub line: usize,
    pub expected: String,
    pub found: String,
}

fn error(line: usize, expected: &str, found: &str) -> HistoryError {
    let mut found = found.trim().to_string();
    if found.len() > 80 {
        let mut end = 77;
        while !found.is_char_boundary(end) {
            end -= 1;
        }
        found.truncate(end);
        found.push_str("...");
    }
    HistoryError {
        line,
        expected: expected.to_string(),
        found,
    }
}

/// The format of `text`, from its first line that is not blank.
pub fn detect(text: &str) -> Result<Format, HistoryError> {
    let Some((number, line)) = lines(text).next() else {
        return Err(error(1, "a history (the file is empty)", ""));
    };
    if line.starts_with("{\"") {
        Ok(Format::Jsonl)
    } else if line.starts_with("{:") && line.contains(":key") {
        Ok(Format::Porcupine)
    } else if line.starts_with("{:") || line.contains("jepsen.util") {
        Ok(Format::Jepsen)
    } else {
        let expected = "a porcupine, jepsen or jsonl history line";
        Err(error(number, expected, line))
    }
}

/// Reads `text` in `format`.
pub fn read(text: &str, format: Format) -> Result<History, HistoryError> {
    match format {
        Format::Porcupine => read_porcupine(text),
        Format::Jepsen => read_jepsen(text),
        Format::Jsonl => read_jsonl(text),
    }
}

/// The lines that are not blank, numbered from 1.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty())
}

/// Pairs invocations with completions, process by process.
struct Pairing<I, O> {
    ops: Vec<Operation<I, O>>,
    pending: HashMap<String, usize>,
}

impl<I, O> Pairing<I, O> {
    fn new() -> Self {
        Pairing {
            ops: Vec::new(),
            pending: HashMap::new(),
        }
    }

    fn invoke(&mut self, line: usize, process: &str, input: I) -> Result<(), HistoryError> {
        if self.pending.contains_key(process) {
            let expected = "a completion before the process's next invocation";
            return Err(error(
                line,
                expected,
                &format!("process {process} invokes again"),
            ));
        }
        self.pending.insert(process.to_string(), self.ops.len());
        self.ops.push(Operation {
            client: process.parse().unwrap_or(self.pending.len() as u64),
            input,
            invoke: line as u64,
            outcome: Outcome::Unknown,
        });
        Ok(())
    }

    /// Completes the process's operation: with `Some(output)`, or unknown with `None`,
    /// or removes it (it did not happen) with `drop`. Returns the operation's input.
    fn complete(&mut self, line: usize, process: &str) -> Result<usize, HistoryError> {
        match self.pending.remove(process) {
            Some(index) => Ok(index),
            None => {
                let found = format!("a completion for process {process}");
                Err(error(line, "an invocation before its completion", &found))
            }
        }
    }

    fn answer(&mut self, index: usize, line: usize, output: O) {
        self.ops[index].outcome = Outcome::Returned {
            output,
            response: line as u64,
        };
    }

    /// The operations, without those marked as never having happened.
    fn finish(self, dropped: &[usize]) -> Vec<Operation<I, O>> {
        let mut dropped = dropped.to_vec();
        dropped.sort_unstable();
        let kept = |(i, _): &(usize, Operation<I, O>)| dropped.binary_search(i).is_err();
        self.ops
            .into_iter()
            .enumerate()
            .filter(kept)
            .map(|(_, op)| op)
            .collect()
    }
}

/// An EDN value as far as histories use them.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Edn {
    Keyword(String),
    Str(String),
    /// A number, symbol, `true` or `false`, as written.
    Word(String),
    Nil,
    Vector(Vec<Edn>),
}

impl Edn {
    /// The value's name as a register or key-value value: a string's text, a word as written.
    fn name(&self) -> Option<String> {
        match self {
            Edn::Str(text) | Edn::Word(text) => Some(text.clone()),
            _ => None,
        }
    }
}

/// Reads one EDN value from the front of `text`; returns it and the rest.
fn edn_value(text: &str) -> Option<(Edn, &str)> {
    let text = text.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
    let first = text.chars().next()?;
    match first {
        '"' => {
            let mut value = String::new();
            let mut chars = text[1..].char_indices();
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' => return Some((Edn::Str(value), &text[i + 2..])),
                    '\\' => value.push(chars.next()?.1),
                    c => value.push(c),
                }
            }
            None
        }
        '[' => {
            let mut items = Vec::new();
            let mut rest = &text[1..];
            loop {
                let trimmed = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
                if let Some(after) = trimmed.strip_prefix(']') {
                    return Some((Edn::Vector(items), after));
                }
                let (item, after) = edn_value(trimmed)?;
                items.push(item);
                rest = after;
            }
        }
        '{' | '}' | ']' => None,
        _ => {
            let end = text
                .find(|c: char| c.is_whitespace() || ",{}[]\"".contains(c))
                .unwrap_or(text.len());
            let word = &text[..end];
            let value = match word.strip_prefix(':') {
                Some(keyword) => Edn::Keyword(keyword.to_string()),
                None if word == "nil" => Edn::Nil,
                None => Edn::Word(word.to_string()),
            };
            Some((value, &text[end..]))
        }
    }
}

/// Why a line is not a one-line EDN map of keyword keys.
enum MapError {
    Malformed,
    /// A key given twice (which one holds would be a guess).
    Repeated(String),
}

/// Reads a one-line EDN map of keyword keys, each once.
fn edn_map(text: &str) -> Result<HashMap<String, Edn>, MapError> {
    let malformed = || MapError::Malformed;
    let inner = text
        .trim()
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'));
    let mut rest = inner.ok_or_else(malformed)?;
    let mut map = HashMap::new();
    loop {
        let trimmed = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        if trimmed.is_empty() {
            return Ok(map);
        }
        let Some((Edn::Keyword(key), after)) = edn_value(trimmed) else {
            return Err(malformed());
        };
        let (value, after) = edn_value(after).ok_or_else(malformed)?;
        if map.contains_key(&key) {
            return Err(MapError::Repeated(key));
        }
        map.insert(key, value);
        rest = after;
    }
}

/// One event of an EDN or log-line history: process, type, function, value.
struct Event {
    process: String,
    kind: String,
    f: String,
    key: Option<String>,
    value: Edn,
}

const EDN_EXPECTED: &str = "an EDN map with :process, :type, :f and :value";

fn edn_event(number: usize, line: &str) -> Result<Event, HistoryError> {
    let bad = || error(number, EDN_EXPECTED, line);
    let map = edn_map(line).map_err(|e| match e {
        MapError::Malformed => bad(),
        MapError::Repeated(key) => error(
            number,
            "an EDN map with each key once",
            &format!(":{key} twice"),
        ),
    })?;
    let keyword = |name: &str| match map.get(name) {
        Some(Edn::Keyword(k)) => Some(k.clone()),
        _ => None,
    };
    let process = map.get("process").and_then(Edn::name).ok_or_else(bad)?;
    Ok(Event {
        process,
        kind: keyword("type").ok_or_else(bad)?,
        f: keyword("f").ok_or_else(bad)?,
        key: map.get("key").and_then(Edn::name),
        value: map.get("value").cloned().unwrap_or(Edn::Nil),
    })
}

const LOG_EXPECTED: &str = "a log line `INFO jepsen.util - PROCESS :TYPE :F VALUE`";

fn log_event(number: usize, line: &str) -> Result<Event, HistoryError> {
    let bad = || error(number, LOG_EXPECTED, line);
    let (_, fields) = line.split_once("jepsen.util - ").ok_or_else(bad)?;
    let mut words = fields.split_whitespace();
    let process = words.next().ok_or_else(bad)?.to_string();
    let kind = words
        .next()
        .and_then(|w| w.strip_prefix(':'))
        .ok_or_else(bad)?;
    let f = words
        .next()
        .and_then(|w| w.strip_prefix(':'))
        .ok_or_else(bad)?;
    let rest: Vec<&str> = words.collect();
    let (value, _) = edn_value(&rest.join(" ")).unwrap_or((Edn::Nil, ""));
    Ok(Event {
        process,
        kind: kind.to_string(),
        f: f.to_string(),
        key: None,
        value,
    })
}

/// What a key-value completion repeats of its invocation.
const KV_FIELDS: &str = ":f, :key and :value";

fn read_porcupine(text: &str) -> Result<History, HistoryError> {
    let mut pairing = Pairing::new();
    for (number, line) in lines(text) {
        let event = edn_event(number, line)?;
        let bad = |expected| error(number, expected, line);
        let key = event.key.clone().ok_or_else(|| bad("a :key"))?;
        match event.kind.as_str() {
            "invoke" => {
                let value = || event.value.name().ok_or_else(|| bad("a string :value"));
                let input = match event.f.as_str() {
                    "get" => KvOp::Get { key },
                    "put" => KvOp::Put {
                        key,
                        value: value()?,
                    },
                    "append" => KvOp::Append {
                        key,
                        value: value()?,
                    },
                    _ => return Err(bad(":f :get, :put or :append")),
                };
                pairing.invoke(number, &event.process, input)?;
            }
            kind @ ("ok" | "info") => {
                let index = pairing.complete(number, &event.process)?;
                let invoked = &pairing.ops[index];
                if !completes_kv(&invoked.input, &event) {
                    return Err(not_its_call(
                        (number, line),
                        KV_FIELDS,
                        &event,
                        invoked.invoke,
                    ));
                }
                // An :info leaves the call's outcome unknown.
                if kind == "ok" {
                    let output = match invoked.input {
                        KvOp::Get { .. } => KvOutput::Value(event.value.name()),
                        _ => KvOutput::Ok,
                    };
                    pairing.answer(index, number, KvReply::Output(output));
                }
            }
            _ => return Err(bad(":type :invoke, :ok or :info")),
        }
    }
    Ok(History::Kv {
        model: KvModel {
            absent_reads_empty: true,
        },
        ops: pairing.finish(&[]),
    })
}

/// The error of a completion that does not name the call it completes (`fields`: what it
/// must repeat, as the format names them).
fn not_its_call(
    (number, line): (usize, &str),
    fields: &str,
    event: &Event,
    invoked_on: u64,
) -> HistoryError {
    let expected = format!(
        "the {fields} of process {}'s invocation on line {invoked_on}",
        event.process
    );
    error(number, &expected, line)
}

/// Whether a completion names the key-value call it completes: the same function and key,
/// and for a write the same value or none (a read's value is what it read; an `:info`
/// may give a reason instead of a value).
fn completes_kv(input: &KvOp, event: &Event) -> bool {
    let (f, key, written) = match input {
        KvOp::Get { key } => ("get", key, None),
        KvOp::Put { key, value } => ("put", key, Some(value)),
        KvOp::Append { key, value } => ("append", key, Some(value)),
        KvOp::Del { key } => ("del", key, None),
        KvOp::Cas { key, .. } => ("cas", key, None),
    };
    let value_fits = match (written, &event.value) {
        _ if event.kind == "info" => true,
        (None, _) | (Some(_), Edn::Nil) => true,
        (Some(written), value) => value.name().as_ref() == Some(written),
    };
    event.f == f && event.key.as_ref() == Some(key) && value_fits
}

/// Whether a completion names the register call it completes: the same function, and for
/// a write or cas the same value or none (an `:info` may give a reason instead).
fn completes_register(model: &mut RegisterModel, input: RegisterOp, event: &Event) -> bool {
    let any_value = event.kind == "info" || event.value == Edn::Nil;
    match (input, event.f.as_str()) {
        (RegisterOp::Read, "read") => true,
        (RegisterOp::Write(_), "write") | (RegisterOp::Cas(..), "cas") => {
            any_value || register_input(model, event) == Some(input)
        }
        _ => false,
    }
}

fn read_jepsen(text: &str) -> Result<History, HistoryError> {
    let mut model = RegisterModel::default();
    let mut pairing = Pairing::new();
    let mut dropped = Vec::new();
    for (number, line) in lines(text) {
        let event = if line.starts_with('{') {
            edn_event(number, line)?
        } else {
            log_event(number, line)?
        };
        let bad = |expected| error(number, expected, line);
        let kind = event.kind.as_str();
        if kind == "invoke" {
            let input = register_input(&mut model, &event)
                .ok_or_else(|| bad(":read, :write VALUE or :cas [FROM TO]"))?;
            pairing.invoke(number, &event.process, input)?;
            continue;
        }
        if !matches!(kind, "ok" | "fail" | "info") {
            return Err(bad(":type :invoke, :ok, :fail or :info"));
        }
        let index = pairing.complete(number, &event.process)?;
        let invoked = &pairing.ops[index];
        if !completes_register(&mut model, invoked.input, &event) {
            let fields = ":f and :value";
            return Err(not_its_call((number, line), fields, &event, invoked.invoke));
        }
        match kind {
            "ok" => {
                let output = match pairing.ops[index].input {
                    RegisterOp::Read => match &event.value {
                        Edn::Nil => RegisterReply::Read(None),
                        value => {
                            let name = value.name().ok_or_else(|| bad("a value read or nil"))?;
                            RegisterReply::Read(Some(model.value(&name)))
                        }
                    },
                    _ => RegisterReply::Ok,
                };
                pairing.answer(index, number, output);
            }
            "fail" => match pairing.ops[index].input {
                RegisterOp::Cas(..) => pairing.answer(index, number, RegisterReply::Fail),
                _ => dropped.push(index),
            },
            // "info": the outcome stays unknown.
            _ => {}
        }
    }
    let ops = pairing.finish(&dropped);
    Ok(History::Register { model, ops })
}

fn register_input(model: &mut RegisterModel, event: &Event) -> Option<RegisterOp> {
    match (event.f.as_str(), &event.value) {
        ("read", _) => Some(RegisterOp::Read),
        ("write", value) => Some(RegisterOp::Write(model.value(&value.name()?))),
        ("cas", Edn::Vector(pair)) if pair.len() == 2 => {
            let from = model.value(&pair[0].name()?);
            let to = model.value(&pair[1].name()?);
            Some(RegisterOp::Cas(from, to))
        }
        _ => None,
    }
}

/// The outcomes of a `client_finished` record: the cluster's (`done`, `refused`,
/// `timed_out`) and a hosted run's (`failed`, `unknown`). Only `done` has an output.
const OUTCOMES: [&str; 5] = ["done", "refused", "timed_out", "failed", "unknown"];
const OUTCOMES_EXPECTED: &str = "an outcome done, refused, timed_out, failed or unknown";

fn read_jsonl(text: &str) -> Result<History, HistoryError> {
    let mut ops: Vec<Operation<KvOp, KvReply>> = Vec::new();
    let mut by_id: HashMap<u64, usize> = HashMap::new();
    // Every op id invoked, with its line: an id names one operation.
    let mut invoked_on: HashMap<u64, usize> = HashMap::new();
    for (number, line) in lines(text) {
        let bad = |expected| error(number, expected, line);
        let json: Json = serde_json::from_str(line).map_err(|_| bad("a JSON object"))?;
        let field = |name: &str| json.get(name).and_then(Json::as_u64);
        let id = field("op");
        match json.get("event").and_then(Json::as_str) {
            Some("client_invoked") => {
                let (Some(id), Some(client)) = (id, field("client")) else {
                    return Err(bad("a client_invoked record with op and client"));
                };
                let request = json.get("request").and_then(request_op);
                let input = request.ok_or_else(|| bad("a request {op, key, ...}"))?;
                if let Some(first) = invoked_on.insert(id, number) {
                    let expected = format!("a new op id (op {id} was invoked on line {first})");
                    return Err(bad(&expected));
                }
                by_id.insert(id, ops.len());
                ops.push(Operation {
                    client,
                    input,
                    invoke: number as u64,
                    outcome: Outcome::Unknown,
                });
            }
            Some("client_finished") => {
                let index = id.and_then(|id| by_id.remove(&id));
                let index = index.ok_or_else(|| bad("a client_invoked record before this"))?;
                let outcome = json.get("outcome").and_then(Json::as_str);
                if !outcome.is_some_and(|o| OUTCOMES.contains(&o)) {
                    return Err(bad(OUTCOMES_EXPECTED));
                }
                if outcome == Some("done") {
                    let text = json.get("output").and_then(Json::as_str).unwrap_or("");
                    // `cas failed` without the value found: a hosted program's error 22.
                    let failed_cas =
                        matches!(ops[index].input, KvOp::Cas { .. }) && text == "cas failed";
                    let output = match failed_cas {
                        true => KvReply::CasFailed,
                        false => kv_output(&ops[index].input, text)
                            .map(KvReply::Output)
                            .ok_or_else(|| bad("an output that fits the request"))?,
                    };
                    ops[index].outcome = Outcome::Returned {
                        output,
                        response: number as u64,
                    };
                }
            }
            Some(_) => {}
            None => return Err(bad("an object with an \"event\"")),
        }
    }
    Ok(History::Kv {
        model: KvModel::default(),
        ops,
    })
}

/// A `request` object of the event stream as an operation.
fn request_op(request: &Json) -> Option<KvOp> {
    let text = |name: &str| request.get(name).and_then(Json::as_str).map(str::to_string);
    let key = text("key")?;
    Some(match request.get("op")?.as_str()? {
        "put" => KvOp::Put {
            key,
            value: text("value")?,
        },
        "append" => KvOp::Append {
            key,
            value: text("value")?,
        },
        "get" => KvOp::Get { key },
        "del" => KvOp::Del { key },
        "cas" => KvOp::Cas {
            key,
            old: text("old")?,
            new: text("new")?,
        },
        _ => return None,
    })
}

/// An output as the event stream writes it (its `Display`), read back for `op`.
fn kv_output(op: &KvOp, text: &str) -> Option<KvOutput> {
    match op {
        KvOp::Get { .. } if text == "(none)" => Some(KvOutput::Value(None)),
        KvOp::Get { .. } => Some(KvOutput::Value(Some(text.to_string()))),
        KvOp::Cas { .. } => match text {
            "ok" => Some(KvOutput::Ok),
            "cas failed: no such key" => Some(KvOutput::CasFailed { current: None }),
            _ => {
                let current = text.strip_prefix("cas failed: is ")?;
                Some(KvOutput::CasFailed {
                    current: Some(current.to_string()),
                })
            }
        },
        _ => (text == "ok").then_some(KvOutput::Ok),
    }
}
