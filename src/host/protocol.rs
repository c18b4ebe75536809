//! Maelstrom's protocol as typed values: one JSON object a line, `{src, dest, body}`, the
//! body a `type` with an optional `msg_id` and `in_reply_to` and whatever fields the type
//! has. Lines that are not such an object are errors of their own kind, never a panic.
//!
//! The workload types raftlab's clients speak (`read`, `write`, `cas` of lin-kv, and
//! `echo`) are typed here too, with the error codes of Maelstrom's `doc/protocol.md`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use thiserror::Error;

/// The longest line raftlab reads from a program; longer ones are errors.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Maelstrom's error codes that raftlab's clients act on.
pub mod code {
    /// The request timed out (indefinite).
    pub const TIMEOUT: u64 = 0;
    /// The node cannot serve this now; it did not happen (definite).
    pub const TEMPORARILY_UNAVAILABLE: u64 = 11;
    /// The node crashed while handling it (indefinite).
    pub const CRASH: u64 = 13;
    /// The key does not exist (definite).
    pub const KEY_DOES_NOT_EXIST: u64 = 20;
    /// A `cas` found another value (definite).
    pub const PRECONDITION_FAILED: u64 = 22;

    /// Whether an error with this code means the operation did not take effect (the
    /// definite codes of Maelstrom's table; a program's own codes count as indefinite).
    pub fn is_definite(code: u64) -> bool {
        matches!(code, 10 | 11 | 12 | 14 | 20 | 21 | 22)
    }
}

/// One message between two participants (`n1`, `c3`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub src: String,
    pub dest: String,
    pub body: Body,
}

/// A message's body: its type, its ids, and the type's own fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Body {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub msg_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub in_reply_to: Option<u64>,
    #[serde(flatten)]
    pub fields: Map<String, Json>,
}

impl Body {
    pub fn new(kind: &str) -> Body {
        Body {
            kind: kind.to_string(),
            msg_id: None,
            in_reply_to: None,
            fields: Map::new(),
        }
    }

    /// The body with one more field.
    pub fn with(mut self, name: &str, value: impl Into<Json>) -> Body {
        self.fields.insert(name.to_string(), value.into());
        self
    }

    /// The `term` field, where the body has one (shown in views).
    pub fn term(&self) -> Option<u64> {
        self.fields.get("term").and_then(Json::as_u64)
    }

    /// The error code, when the body is an `error`.
    pub fn error_code(&self) -> Option<u64> {
        (self.kind == "error").then(|| self.fields.get("code").and_then(Json::as_u64))?
    }
}

/// A line that is not a message.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum LineError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("not a message {{src, dest, body: {{type, ...}}}}: {0}")]
    NotMessage(String),
    #[error("a line longer than {MAX_LINE_BYTES} bytes")]
    TooLong,
    #[error("not UTF-8")]
    NotUtf8,
}

/// Reads one line as a message.
pub fn parse_line(line: &str) -> Result<Message, LineError> {
    if line.len() > MAX_LINE_BYTES {
        return Err(LineError::TooLong);
    }
    let json: Json = serde_json::from_str(line).map_err(|e| LineError::NotJson(e.to_string()))?;
    if let Some(problem) = shape_problem(&json) {
        return Err(LineError::NotMessage(problem));
    }
    serde_json::from_value(json).map_err(|e| LineError::NotMessage(e.to_string()))
}

/// What is wrong with the shape of a JSON line that should be a message, in the
/// protocol's words (the field, what it must be, what it is); `None` if the shape is
/// right as far as these fields go.
fn shape_problem(json: &Json) -> Option<String> {
    let Json::Object(fields) = json else {
        return Some(format!("the line is {}, not an object", kind(json)));
    };
    for name in ["src", "dest"] {
        match fields.get(name) {
            Some(Json::String(_)) => {}
            Some(other) => return Some(format!("\"{name}\" is {}, not a name", kind(other))),
            None => return Some(format!("\"{name}\" is missing")),
        }
    }
    let body = match fields.get("body") {
        Some(Json::Object(body)) => body,
        Some(other) => return Some(format!("\"body\" is {}, not an object", kind(other))),
        None => return Some("\"body\" is missing".to_string()),
    };
    match body.get("type") {
        Some(Json::String(_)) => {}
        Some(other) => return Some(format!("\"body.type\" is {}, not a string", kind(other))),
        None => return Some("\"body.type\" is missing".to_string()),
    }
    for name in ["msg_id", "in_reply_to"] {
        match body.get(name) {
            None | Some(Json::Null) => {}
            Some(id) if id.as_u64().is_some() => {}
            Some(other) => {
                let what = kind(other);
                return Some(format!("\"body.{name}\" is {what}, not a whole number"));
            }
        }
    }
    None
}

/// A JSON value's kind, with its value when short: `the number -1`, `an array`.
fn kind(json: &Json) -> String {
    match json {
        Json::Null => "null".to_string(),
        Json::Bool(b) => format!("the boolean {b}"),
        Json::Number(n) => format!("the number {n}"),
        Json::String(s) if s.chars().count() <= 20 => format!("the string {s:?}"),
        Json::String(_) => "a string".to_string(),
        Json::Array(_) => "an array".to_string(),
        Json::Object(_) => "an object".to_string(),
    }
}

/// Writes a message as one line, without the newline.
pub fn to_line(message: &Message) -> String {
    // A message of strings, numbers and JSON values always serializes.
    serde_json::to_string(message).unwrap_or_default()
}

/// The `init` message that starts node `id` of `ids`.
pub fn init(id: &str, ids: &[String], msg_id: u64) -> Message {
    let mut body = Body::new("init")
        .with("node_id", id)
        .with("node_ids", ids.to_vec());
    body.msg_id = Some(msg_id);
    Message {
        src: "c0".to_string(),
        dest: id.to_string(),
        body,
    }
}

/// A lin-kv operation as a client sends it.
#[derive(Clone, Debug, PartialEq)]
pub enum KvRequest {
    Read { key: Json },
    Write { key: Json, value: Json },
    Cas { key: Json, from: Json, to: Json },
}

impl KvRequest {
    pub fn body(&self) -> Body {
        match self {
            KvRequest::Read { key } => Body::new("read").with("key", key.clone()),
            KvRequest::Write { key, value } => Body::new("write")
                .with("key", key.clone())
                .with("value", value.clone()),
            KvRequest::Cas { key, from, to } => Body::new("cas")
                .with("key", key.clone())
                .with("from", from.clone())
                .with("to", to.clone()),
        }
    }

    /// Reads a lin-kv request from a body (what a node does).
    pub fn of(body: &Body) -> Option<KvRequest> {
        let field = |name: &str| body.fields.get(name).cloned();
        let key = field("key")?;
        Some(match body.kind.as_str() {
            "read" => KvRequest::Read { key },
            "write" => KvRequest::Write {
                key,
                value: field("value")?,
            },
            "cas" => KvRequest::Cas {
                key,
                from: field("from")?,
                to: field("to")?,
            },
            _ => return None,
        })
    }
}

/// What a lin-kv reply says.
#[derive(Clone, Debug, PartialEq)]
pub enum KvResponse {
    ReadOk { value: Json },
    WriteOk,
    CasOk,
    Error { code: u64, text: String },
}

impl KvResponse {
    /// Reads a reply body; `None` when it is no lin-kv reply.
    pub fn of(body: &Body) -> Option<KvResponse> {
        Some(match body.kind.as_str() {
            "read_ok" => KvResponse::ReadOk {
                value: body.fields.get("value").cloned().unwrap_or(Json::Null),
            },
            "write_ok" => KvResponse::WriteOk,
            "cas_ok" => KvResponse::CasOk,
            "error" => KvResponse::Error {
                code: body.error_code()?,
                text: body
                    .fields
                    .get("text")
                    .and_then(Json::as_str)
                    .unwrap_or("")
                    .to_string(),
            },
            _ => return None,
        })
    }

    pub fn body(&self) -> Body {
        match self {
            KvResponse::ReadOk { value } => Body::new("read_ok").with("value", value.clone()),
            KvResponse::WriteOk => Body::new("write_ok"),
            KvResponse::CasOk => Body::new("cas_ok"),
            KvResponse::Error { code, text } => Body::new("error")
                .with("code", *code)
                .with("text", text.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_reads_back_what_was_written() {
        let mut body = KvRequest::Cas {
            key: 1.into(),
            from: 2.into(),
            to: 3.into(),
        }
        .body();
        body.msg_id = Some(7);
        let message = Message {
            src: "c1".into(),
            dest: "n2".into(),
            body,
        };
        let line = to_line(&message);
        assert!(line.contains("\"type\":\"cas\"") && line.contains("\"msg_id\":7"));
        assert_eq!(parse_line(&line), Ok(message));
    }

    /// A line of the wrong shape says which field is wrong and what it holds, in the
    /// protocol's words (serde's said "invalid type: integer `1`, expected a string").
    #[test]
    fn lines_that_are_not_messages_name_the_field_that_is_wrong() {
        assert!(matches!(parse_line("hello"), Err(LineError::NotJson(_))));
        let said = |line: &str| match parse_line(line) {
            Err(LineError::NotMessage(problem)) => problem,
            other => panic!("{line}: {other:?}"),
        };
        assert_eq!(said("[1,2]"), "the line is an array, not an object");
        assert_eq!(
            said(r#"{"src":1,"dest":"c1","body":{}}"#),
            "\"src\" is the number 1, not a name"
        );
        assert_eq!(said(r#"{"src":"n1","body":{}}"#), "\"dest\" is missing");
        assert_eq!(
            said(r#"{"src":"n1","dest":"c1","body":{"msg_id":1}}"#),
            "\"body.type\" is missing"
        );
        assert_eq!(
            said(r#"{"src":"n1","dest":"c1","body":{"type":"x","msg_id":"a"}}"#),
            "\"body.msg_id\" is the string \"a\", not a whole number"
        );
        assert_eq!(
            said(r#"{"src":"n1","dest":"c1","body":{"type":"x","in_reply_to":-1}}"#),
            "\"body.in_reply_to\" is the number -1, not a whole number"
        );
        let fine = r#"{"src":"n1","dest":"c1","body":{"type":"x","in_reply_to":null}}"#;
        assert!(parse_line(fine).is_ok());
    }

    #[test]
    fn error_codes_say_whether_the_operation_happened() {
        assert!(code::is_definite(code::TEMPORARILY_UNAVAILABLE));
        assert!(code::is_definite(code::PRECONDITION_FAILED));
        assert!(!code::is_definite(code::TIMEOUT));
        assert!(!code::is_definite(code::CRASH));
        let reply = KvResponse::Error {
            code: 20,
            text: "no key".into(),
        };
        assert_eq!(KvResponse::of(&reply.body()), Some(reply));
    }
}
