//! Things said in words on a slide: a client operation and how it ended
//! (`put x=1 ✓ @2`), a log entry's command as the paper writes it (`x←3`), and the short
//! forms of both for where the whole does not fit.

use crate::cluster::kv::{KvOp, KvRequest};
use crate::raft::{Entry, Payload};
use crate::repl::export::timeline::ClientSpan;

/// A client operation in words, then shorter forms: `put x=1 ✓ @2`, `put x=1 ✓`, `✓`.
pub fn client_texts(client: &ClientSpan) -> Vec<String> {
    let op = request_words(&client.request);
    let (mark, detail) = outcome_words(client.outcome.as_deref());
    let mut texts = Vec::new();
    if !detail.is_empty() {
        texts.push(format!("{op} {mark} {detail}"));
    }
    texts.push(format!("{op} {mark}"));
    texts.push(mark);
    texts
}

/// Whether the operation ended well (green), badly (red) or not yet (grey).
pub fn client_colour(client: &ClientSpan) -> &'static str {
    match client.outcome.as_deref() {
        None => "#777777",
        Some("refused" | "timed out") => "#c62828",
        Some(o) if o.starts_with("cas failed") => "#c62828",
        Some(_) => "#2e7d32",
    }
}

/// `put x 1` as `put x=1`, `append x a` as `append x+=a`, `cas k a b` as `cas k a→b`.
fn request_words(request: &str) -> String {
    let words: Vec<&str> = request.split(' ').collect();
    match words.as_slice() {
        ["put", key, value] => format!("put {key}={value}"),
        ["append", key, value] => format!("append {key}+={value}"),
        ["cas", key, old, new] => format!("cas {key} {old}→{new}"),
        _ => request.to_string(),
    }
}

/// The mark and the rest of an outcome as the timeline puts it (`ok @4`, `1 @6`,
/// `refused`, `timed out`): (`✓`, `@4`), (`→ 1`, `@6`), (`✗`, `refused`).
fn outcome_words(outcome: Option<&str>) -> (String, String) {
    let Some(outcome) = outcome else {
        return ("…".to_string(), "waiting".to_string());
    };
    match outcome {
        "refused" | "timed out" => ("✗".to_string(), outcome.to_string()),
        _ => {
            let (what, at) = outcome.rsplit_once(" @").unwrap_or((outcome, ""));
            let at = if at.is_empty() {
                String::new()
            } else {
                format!("@{at}")
            };
            match what {
                "ok" => ("✓".to_string(), at),
                w if w.starts_with("cas failed") => ("✗".to_string(), format!("{w} {at}")),
                "(none)" => ("→ none".to_string(), at),
                value => (format!("→ {value}"), at),
            }
        }
    }
}

/// A log entry's command as the paper writes it: `x←3`, `x+=a`, `del x`, `get x`,
/// `x:a→b`; empty for a new leader's empty entry, `config` for a membership change.
pub fn entry_command(entry: &Entry) -> String {
    match &entry.payload {
        Payload::Noop => String::new(),
        Payload::Config(_) => "config".to_string(),
        Payload::Command(bytes) => match KvRequest::decode(bytes) {
            Ok(request) => op_short(&request.op),
            Err(_) => String::new(),
        },
    }
}

fn op_short(op: &KvOp) -> String {
    match op {
        KvOp::Put { key, value } => format!("{key}←{value}"),
        KvOp::Append { key, value } => format!("{key}+={value}"),
        KvOp::Get { key } => format!("get {key}"),
        KvOp::Del { key } => format!("del {key}"),
        KvOp::Cas { key, old, new } => format!("{key}:{old}→{new}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(request: &str, outcome: Option<&str>) -> ClientSpan {
        ClientSpan {
            op: 1,
            request: request.to_string(),
            target: 1,
            start_us: 0,
            end_us: outcome.map(|_| 10),
            outcome: outcome.map(str::to_string),
        }
    }

    #[test]
    fn client_operations_read_as_words() {
        assert_eq!(
            client_texts(&op("put x 1", Some("ok @2"))),
            ["put x=1 ✓ @2", "put x=1 ✓", "✓"]
        );
        assert_eq!(client_texts(&op("get x", Some("1 @6")))[0], "get x → 1 @6");
        assert_eq!(
            client_texts(&op("append k a", Some("timed out")))[0],
            "append k+=a ✗ timed out"
        );
        assert_eq!(client_texts(&op("del y", None))[0], "del y … waiting");
        assert_eq!(client_colour(&op("put x 1", Some("refused"))), "#c62828");
    }

    #[test]
    fn entries_show_their_commands() {
        let put = KvRequest {
            client: 1,
            seq: 1,
            op: KvOp::Put {
                key: "x".into(),
                value: "3".into(),
            },
        };
        let entry = |payload| Entry {
            index: 1,
            term: 1,
            payload,
        };
        assert_eq!(
            entry_command(&entry(Payload::Command(put.encode().into()))),
            "x←3"
        );
        assert_eq!(entry_command(&entry(Payload::Noop)), "");
        assert_eq!(
            entry_command(&entry(Payload::Command(vec![1u8].into()))),
            ""
        );
    }
}
