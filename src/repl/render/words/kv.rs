//! Client operations and their results in words: `put x 1`, `cas failed: is 3`.

use std::fmt;

use crate::cluster::kv::{KvOp, KvOutput};

impl fmt::Display for KvOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvOp::Put { key, value } => write!(f, "put {key} {value}"),
            KvOp::Append { key, value } => write!(f, "append {key} {value}"),
            KvOp::Get { key } => write!(f, "get {key}"),
            KvOp::Del { key } => write!(f, "del {key}"),
            KvOp::Cas { key, old, new } => write!(f, "cas {key} {old} {new}"),
        }
    }
}

impl fmt::Display for KvOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvOutput::Ok => write!(f, "ok"),
            KvOutput::Value(Some(value)) => write!(f, "{value}"),
            KvOutput::Value(None) => write!(f, "(none)"),
            KvOutput::CasFailed {
                current: Some(value),
            } => write!(f, "cas failed: is {value}"),
            KvOutput::CasFailed { current: None } => write!(f, "cas failed: no such key"),
        }
    }
}
