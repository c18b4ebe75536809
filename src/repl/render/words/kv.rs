//! Client operations and their results in words: `put x 1`, `cas failed: is 3`. Keys and
//! values are written as the command language reads them back: quoted when empty or
//! holding spaces (`put "x y" "1 2"`), so that no two operations read alike.

use std::fmt;

use crate::cluster::kv::{KvOp, KvOutput};
use crate::repl::token::quote;

impl fmt::Display for KvOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let q = |word: &str| quote(word);
        match self {
            KvOp::Put { key, value } => write!(f, "put {} {}", q(key), q(value)),
            KvOp::Append { key, value } => write!(f, "append {} {}", q(key), q(value)),
            KvOp::Get { key } => write!(f, "get {}", q(key)),
            KvOp::Del { key } => write!(f, "del {}", q(key)),
            KvOp::Cas { key, old, new } => write!(f, "cas {} {} {}", q(key), q(old), q(new)),
        }
    }
}

impl fmt::Display for KvOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvOutput::Ok => write!(f, "ok"),
            KvOutput::Value(Some(value)) => write!(f, "{}", quote(value)),
            KvOutput::Value(None) => write!(f, "(none)"),
            KvOutput::CasFailed {
                current: Some(value),
            } => write!(f, "cas failed: is {}", quote(value)),
            KvOutput::CasFailed { current: None } => write!(f, "cas failed: no such key"),
        }
    }
}
