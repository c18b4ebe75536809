//! The key-value state machine each node applies committed entries to, and the client
//! requests that travel through the log.
//!
//! A request carries its client id and sequence number: a node that applies a request it
//! has already applied (a client retried after a timeout, and both copies reached the log)
//! answers with the first result and changes nothing, so a retried write happens once.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap};

use thiserror::Error;

use crate::digest::BuildDigest;

/// A client's identity.
pub type ClientId = u64;

/// One key-value operation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvOp {
    /// Sets `key` to `value`.
    Put { key: String, value: String },
    /// Appends `value` to `key`'s value (an absent key counts as empty).
    Append { key: String, value: String },
    /// Reads `key`.
    Get { key: String },
    /// Removes `key`.
    Del { key: String },
    /// Sets `key` to `new` if its value is `old`.
    Cas {
        key: String,
        old: String,
        new: String,
    },
}

impl KvOp {
    /// The key the operation touches.
    pub fn key(&self) -> &str {
        match self {
            KvOp::Put { key, .. }
            | KvOp::Append { key, .. }
            | KvOp::Get { key }
            | KvOp::Del { key }
            | KvOp::Cas { key, .. } => key,
        }
    }

    /// Whether the operation only reads.
    pub fn is_read(&self) -> bool {
        matches!(self, KvOp::Get { .. })
    }
}

/// The result of applying a [`KvOp`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvOutput {
    /// A write took effect.
    Ok,
    /// The value read (`None`: no such key).
    Value(Option<String>),
    /// A `cas` found another value (`None`: no such key) and changed nothing.
    CasFailed { current: Option<String> },
}

/// A map of keys to values, with the rules of each operation. The linearizability checker
/// uses the same rules as the nodes' state machines.
///
/// A hash map (with raftlab's one hasher, [`crate::digest`]): a node applies every write
/// to it, and a lookup by hash costs one pass over the key where a tree compares strings
/// at every level. What shows the map in order ([`KvMap::iter`], a snapshot's bytes) sorts
/// the keys then.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KvMap {
    values: HashMap<String, String, BuildDigest>,
}

impl KvMap {
    /// Applies `op` and returns its result.
    pub fn apply(&mut self, op: &KvOp) -> KvOutput {
        match op {
            KvOp::Put { key, value } => self.put(key, value),
            KvOp::Append { key, value } => {
                self.values.entry(key.clone()).or_default().push_str(value);
                KvOutput::Ok
            }
            KvOp::Get { key } => KvOutput::Value(self.values.get(key).cloned()),
            KvOp::Del { key } => {
                self.values.remove(key);
                KvOutput::Ok
            }
            KvOp::Cas { key, old, new } => match self.values.get(key) {
                Some(current) if current == old => self.put(key, new),
                current => KvOutput::CasFailed {
                    current: current.cloned(),
                },
            },
        }
    }

    /// Sets `key` to `value`, over the old value's buffer when the key exists: a node puts
    /// every write, and then allocates nothing.
    fn put(&mut self, key: &str, value: &str) -> KvOutput {
        match self.values.get_mut(key) {
            Some(current) => {
                current.clear();
                current.push_str(value);
            }
            None => {
                self.values.insert(key.to_string(), value.to_string());
            }
        }
        KvOutput::Ok
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// Every key and value, in key order (sorted on each call).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let mut pairs: Vec<(&str, &str)> = (self.values.iter())
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        // Keys are unique: an unstable sort gives the one order.
        pairs.sort_unstable_by_key(|&(key, _)| key);
        pairs.into_iter()
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// A client's request as it travels through the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KvRequest {
    pub client: ClientId,
    /// The client's sequence number; a retry of a request keeps it.
    pub seq: u64,
    pub op: KvOp,
}

/// Bytes in the log that are not a request.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("log entry is not a key-value request")]
pub struct DecodeError;

impl KvRequest {
    /// The request as the bytes of a log entry.
    pub fn encode(&self) -> Vec<u8> {
        KvRequest::encode_parts(self.client, self.seq, &self.op)
    }

    /// The bytes of a log entry for `op`, the `seq`-th request of `client`.
    pub fn encode_parts(client: ClientId, seq: u64, op: &KvOp) -> Vec<u8> {
        let mut bytes = Vec::new();
        KvRequest::encode_parts_into(client, seq, op, &mut bytes);
        bytes
    }

    /// Writes the bytes of [`KvRequest::encode_parts`] at the end of `bytes`: a caller
    /// that encodes many requests reuses one buffer.
    pub fn encode_parts_into(client: ClientId, seq: u64, op: &KvOp, bytes: &mut Vec<u8>) {
        let (tag, fields): (u8, &[&String]) = match op {
            KvOp::Put { key, value } => (b'p', &[key, value]),
            KvOp::Append { key, value } => (b'a', &[key, value]),
            KvOp::Get { key } => (b'g', &[key]),
            KvOp::Del { key } => (b'd', &[key]),
            KvOp::Cas { key, old, new } => (b'c', &[key, old, new]),
        };
        bytes.reserve(17 + fields.iter().map(|f| f.len() + 4).sum::<usize>());
        bytes.extend_from_slice(&client.to_le_bytes());
        bytes.extend_from_slice(&seq.to_le_bytes());
        bytes.push(tag);
        for field in fields {
            bytes.extend_from_slice(&(field.len() as u32).to_le_bytes());
            bytes.extend_from_slice(field.as_bytes());
        }
    }

    /// The request held in the bytes of a log entry.
    pub fn decode(bytes: &[u8]) -> Result<KvRequest, DecodeError> {
        let mut reader = Reader { bytes };
        let client = reader.u64()?;
        let seq = reader.u64()?;
        let tag = reader.take(1)?[0];
        let op = match tag {
            b'p' => KvOp::Put {
                key: reader.string()?,
                value: reader.string()?,
            },
            b'a' => KvOp::Append {
                key: reader.string()?,
                value: reader.string()?,
            },
            b'g' => KvOp::Get {
                key: reader.string()?,
            },
            b'd' => KvOp::Del {
                key: reader.string()?,
            },
            b'c' => KvOp::Cas {
                key: reader.string()?,
                old: reader.string()?,
                new: reader.string()?,
            },
            _ => return Err(DecodeError),
        };
        if !reader.bytes.is_empty() {
            return Err(DecodeError);
        }
        Ok(KvRequest { client, seq, op })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, count: usize) -> Result<&'a [u8], DecodeError> {
        if self.bytes.len() < count {
            return Err(DecodeError);
        }
        let (head, rest) = self.bytes.split_at(count);
        self.bytes = rest;
        Ok(head)
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        let bytes = self.take(8)?;
        Ok(u64::from_le_bytes(
            bytes.try_into().map_err(|_| DecodeError)?,
        ))
    }

    fn optional(&mut self) -> Result<Option<String>, DecodeError> {
        match self.take(1)?[0] {
            0 => Ok(None),
            1 => self.string().map(Some),
            _ => Err(DecodeError),
        }
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        self.str().map(str::to_string)
    }

    fn str(&mut self) -> Result<&'a str, DecodeError> {
        let len_bytes = self.take(4)?;
        let len = u32::from_le_bytes(len_bytes.try_into().map_err(|_| DecodeError)?) as usize;
        std::str::from_utf8(self.take(len)?).map_err(|_| DecodeError)
    }
}

/// A `put` request read in place: client, sequence number, key and value. `None` for
/// anything else (another operation, or bytes that do not decode).
fn decode_put(bytes: &[u8]) -> Option<(ClientId, u64, &str, &str)> {
    let mut reader = Reader { bytes };
    let (client, seq) = (reader.u64().ok()?, reader.u64().ok()?);
    if reader.take(1).ok()? != b"p" {
        return None;
    }
    let (key, value) = (reader.str().ok()?, reader.str().ok()?);
    reader.bytes.is_empty().then_some((client, seq, key, value))
}

/// How many clients' last requests a state machine remembers. Beyond it, the client with
/// the lowest id is forgotten (ids are handed out in order, so the oldest client): every
/// node applies the same requests and so forgets the same clients, as the Raft thesis
/// (section 6.3) asks of expiring client sessions. A REPL command or a check's operation
/// is a client of its own, so without this bound a long run would remember one client per
/// operation, on every node and in every snapshot; a retry comes within the client
/// deadline, many thousands of clients sooner.
pub const CLIENTS_REMEMBERED: usize = 16_384;

/// A node's state machine: the map, and each client's last applied request with its
/// result, so that a request applied twice takes effect once (for the last
/// [`CLIENTS_REMEMBERED`] clients).
#[derive(Clone, Debug, Default)]
pub struct KvStateMachine {
    map: KvMap,
    last_by_client: BTreeMap<ClientId, (u64, KvOutput)>,
}

impl KvStateMachine {
    /// Applies a request, or returns the remembered result of a request already applied.
    pub fn apply(&mut self, request: KvRequest) -> KvOutput {
        self.apply_once(request.client, request.seq, |map| map.apply(&request.op))
    }

    /// Applies a request as it is in the log, or returns `None` if the bytes are not a
    /// request. A `put`, the common case, is read in place rather than decoded into
    /// strings of its own.
    pub fn apply_encoded(&mut self, bytes: &[u8]) -> Option<KvOutput> {
        match decode_put(bytes) {
            Some((client, seq, key, value)) => {
                Some(self.apply_once(client, seq, |map| map.put(key, value)))
            }
            None => KvRequest::decode(bytes)
                .ok()
                .map(|request| self.apply(request)),
        }
    }

    /// Runs `apply` for the `seq`-th request of `client` unless that request (or a later
    /// one) was applied already, in which case its remembered result is returned.
    fn apply_once(
        &mut self,
        client: ClientId,
        seq: u64,
        apply: impl FnOnce(&mut KvMap) -> KvOutput,
    ) -> KvOutput {
        // One search of the tree for a client it knows (the common case), not two.
        match self.last_by_client.entry(client) {
            Entry::Occupied(mut last) => {
                if last.get().0 >= seq {
                    return last.get().1.clone();
                }
                let output = apply(&mut self.map);
                last.insert((seq, output.clone()));
                output
            }
            Entry::Vacant(slot) => {
                let output = apply(&mut self.map);
                slot.insert((seq, output.clone()));
                if self.last_by_client.len() > CLIENTS_REMEMBERED {
                    self.last_by_client.pop_first();
                }
                output
            }
        }
    }

    pub fn map(&self) -> &KvMap {
        &self.map
    }

    /// The state machine as snapshot bytes: the map, then each client's last request and
    /// its result (so that a request retried after the snapshot still takes effect once).
    pub fn encode(&self) -> Vec<u8> {
        // Sized up front: a snapshot of a large map would otherwise be copied as it grows.
        let map_len: usize = (self.map.values.iter())
            .map(|(key, value)| 8 + key.len() + value.len())
            .sum();
        let clients_len: usize = (self.last_by_client.values())
            .map(|(_, output)| 17 + optional_len(output))
            .sum();
        let mut bytes = Vec::with_capacity(16 + map_len + clients_len);
        bytes.extend_from_slice(&(self.map.values.len() as u64).to_le_bytes());
        for (key, value) in self.map.iter() {
            put_string(&mut bytes, key);
            put_string(&mut bytes, value);
        }
        bytes.extend_from_slice(&(self.last_by_client.len() as u64).to_le_bytes());
        for (client, (seq, output)) in &self.last_by_client {
            bytes.extend_from_slice(&client.to_le_bytes());
            bytes.extend_from_slice(&seq.to_le_bytes());
            let (tag, value) = match output {
                KvOutput::Ok => (b'o', None),
                KvOutput::Value(value) => (b'v', value.as_deref()),
                KvOutput::CasFailed { current } => (b'c', current.as_deref()),
            };
            bytes.push(tag);
            put_optional(&mut bytes, value);
        }
        bytes
    }

    /// The state machine held in snapshot bytes made by [`KvStateMachine::encode`].
    pub fn decode(bytes: &[u8]) -> Result<KvStateMachine, DecodeError> {
        let mut reader = Reader { bytes };
        let mut state = KvStateMachine::default();
        for _ in 0..reader.u64()? {
            let key = reader.string()?;
            state.map.values.insert(key, reader.string()?);
        }
        for _ in 0..reader.u64()? {
            let (client, seq) = (reader.u64()?, reader.u64()?);
            let tag = reader.take(1)?[0];
            let value = reader.optional()?;
            let output = match (tag, value) {
                (b'o', None) => KvOutput::Ok,
                (b'v', value) => KvOutput::Value(value),
                (b'c', current) => KvOutput::CasFailed { current },
                _ => return Err(DecodeError),
            };
            state.last_by_client.insert(client, (seq, output));
        }
        if !reader.bytes.is_empty() {
            return Err(DecodeError);
        }
        Ok(state)
    }
}

/// The bytes [`put_optional`] writes for an output's text.
fn optional_len(output: &KvOutput) -> usize {
    let text = match output {
        KvOutput::Ok => None,
        KvOutput::Value(value) | KvOutput::CasFailed { current: value } => value.as_deref(),
    };
    1 + text.map_or(0, |text| 4 + text.len())
}

fn put_string(bytes: &mut Vec<u8>, text: &str) {
    bytes.extend_from_slice(&(text.len() as u32).to_le_bytes());
    bytes.extend_from_slice(text.as_bytes());
}

fn put_optional(bytes: &mut Vec<u8>, text: Option<&str>) {
    match text {
        None => bytes.push(0),
        Some(text) => {
            bytes.push(1);
            put_string(bytes, text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_survive_encoding() {
        let ops = [
            KvOp::Put {
                key: "x".into(),
                value: "1".into(),
            },
            KvOp::Append {
                key: "".into(),
                value: "é".into(),
            },
            KvOp::Get { key: "k".into() },
            KvOp::Del { key: "k".into() },
            KvOp::Cas {
                key: "k".into(),
                old: "a".into(),
                new: "b".into(),
            },
        ];
        for (seq, op) in ops.into_iter().enumerate() {
            let request = KvRequest {
                client: 7,
                seq: seq as u64,
                op,
            };
            assert_eq!(KvRequest::decode(&request.encode()), Ok(request));
        }
        assert_eq!(KvRequest::decode(b"short"), Err(DecodeError));
    }

    #[test]
    fn the_state_machine_survives_a_snapshot() {
        let mut sm = KvStateMachine::default();
        let ops = [
            KvOp::Put {
                key: "x".into(),
                value: "1".into(),
            },
            KvOp::Get { key: "y".into() },
            KvOp::Cas {
                key: "x".into(),
                old: "0".into(),
                new: "2".into(),
            },
        ];
        for (client, op) in (1..).zip(ops) {
            sm.apply(KvRequest { client, seq: 3, op });
        }
        let restored = KvStateMachine::decode(&sm.encode()).expect("decodes");
        assert_eq!(restored.encode(), sm.encode());
        assert_eq!(restored.map().get("x"), Some("1"));
        assert_eq!(restored.last_by_client, sm.last_by_client);
        assert!(KvStateMachine::decode(b"bad").is_err());
    }

    #[test]
    fn a_retried_request_is_applied_once() {
        let mut sm = KvStateMachine::default();
        let append = KvRequest {
            client: 1,
            seq: 1,
            op: KvOp::Append {
                key: "k".into(),
                value: "a".into(),
            },
        };
        assert_eq!(sm.apply(append.clone()), KvOutput::Ok);
        assert_eq!(sm.apply(append), KvOutput::Ok);
        assert_eq!(sm.map().get("k"), Some("a"));
    }

    #[test]
    fn the_oldest_clients_are_forgotten_beyond_the_bound() {
        let mut sm = KvStateMachine::default();
        let append = |client| KvRequest {
            client,
            seq: 1,
            op: KvOp::Append {
                key: "k".into(),
                value: "a".into(),
            },
        };
        for client in 1..=CLIENTS_REMEMBERED as u64 + 1 {
            sm.apply(append(client));
        }
        assert_eq!(sm.last_by_client.len(), CLIENTS_REMEMBERED);
        // The newest is still remembered: its retry takes effect once ...
        sm.apply(append(CLIENTS_REMEMBERED as u64 + 1));
        assert_eq!(
            sm.map().get("k").map(str::len),
            Some(CLIENTS_REMEMBERED + 1)
        );
        // ... and the oldest is not.
        assert!(!sm.last_by_client.contains_key(&1));
    }

    #[test]
    fn an_encoded_request_applies_as_the_decoded_one() {
        let put = |seq, value: &str| KvRequest {
            client: 4,
            seq,
            op: KvOp::Put {
                key: "k".into(),
                value: value.into(),
            },
        };
        let append = KvRequest {
            client: 5,
            seq: 1,
            op: KvOp::Append {
                key: "k".into(),
                value: "+".into(),
            },
        };
        let (mut encoded, mut decoded) = (KvStateMachine::default(), KvStateMachine::default());
        // A longer value over a shorter one, a retry of an older put, and an append.
        for request in [put(1, "a"), put(2, "bbbbbbbb"), put(1, "c"), append] {
            let bytes = request.encode();
            assert_eq!(encoded.apply_encoded(&bytes), Some(decoded.apply(request)));
        }
        assert_eq!(encoded.encode(), decoded.encode());
        assert_eq!(encoded.map().get("k"), Some("bbbbbbbb+"));
        assert_eq!(encoded.apply_encoded(b"not a request"), None);
        let mut bad_utf8 = put(3, "x").encode();
        *bad_utf8.last_mut().expect("a value byte") = 0xff;
        assert_eq!(encoded.apply_encoded(&bad_utf8), None);
    }

    #[test]
    fn the_map_shows_and_snapshots_in_key_order_whatever_the_order_of_writes() {
        let put = |client, key: &str| KvRequest {
            client,
            seq: 1,
            op: KvOp::Put {
                key: key.into(),
                value: key.to_uppercase(),
            },
        };
        let keys = ["k2", "a", "k10", "b", "k1"];
        let (mut forward, mut backward) = (KvStateMachine::default(), KvStateMachine::default());
        for (client, key) in (1..).zip(keys) {
            forward.apply(put(client, key));
        }
        for (client, key) in (1..).zip(keys.iter().rev()) {
            backward.apply(put(client, key));
        }
        let shown: Vec<&str> = forward.map().iter().map(|(key, _)| key).collect();
        assert_eq!(shown, ["a", "b", "k1", "k10", "k2"]);
        assert_eq!(forward.encode(), backward.encode());
        let restored = KvStateMachine::decode(&backward.encode()).expect("decodes");
        assert_eq!(restored.map(), forward.map());
    }

    #[test]
    fn cas_changes_only_a_matching_value() {
        let mut map = KvMap::default();
        let cas = KvOp::Cas {
            key: "k".into(),
            old: "a".into(),
            new: "b".into(),
        };
        assert_eq!(map.apply(&cas), KvOutput::CasFailed { current: None });
        map.apply(&KvOp::Put {
            key: "k".into(),
            value: "a".into(),
        });
        assert_eq!(map.apply(&cas), KvOutput::Ok);
        assert_eq!(map.get("k"), Some("b"));
    }
}
