//! The key-value state machine each node applies committed entries to, and the client
//! requests that travel through the log.
//!
//! A request carries its client id and sequence number: a node that applies a request it
//! has already applied (a client retried after a timeout, and both copies reached the log)
//! answers with the first result and changes nothing, so a retried write happens once.

use std::collections::{HashMap, VecDeque};

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
/// at every level. Keys and values are [`Text`]: a short one sits in the map's own slot,
/// so a write to a key reads and writes that slot only, not two buffers elsewhere. What
/// shows the map in order ([`KvMap::iter`], a snapshot's bytes) sorts the keys then.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KvMap {
    values: HashMap<Text, Text, BuildDigest>,
}

impl KvMap {
    /// Applies `op` and returns its result.
    pub fn apply(&mut self, op: &KvOp) -> KvOutput {
        self.apply_in_place(OpRef::of(op))
    }

    /// Applies an operation whose strings are borrowed (from a log entry, say).
    fn apply_in_place(&mut self, op: OpRef<'_>) -> KvOutput {
        match op {
            OpRef::Put { key, value } => self.put(key, value),
            OpRef::Append { key, value } => {
                match self.values.get_mut(key.as_bytes()) {
                    Some(current) => current.push_str(value),
                    None => {
                        self.values.insert(Text::from(key), Text::from(value));
                    }
                }
                KvOutput::Ok
            }
            OpRef::Get { key } => KvOutput::Value(self.get(key).map(str::to_string)),
            OpRef::Del { key } => {
                self.values.remove(key.as_bytes());
                KvOutput::Ok
            }
            OpRef::Cas { key, old, new } => match self.get(key) {
                Some(current) if current == old => self.put(key, new),
                current => KvOutput::CasFailed {
                    current: current.map(str::to_string),
                },
            },
        }
    }

    /// Sets `key` to `value`, in place when the key exists: a node puts every write, and
    /// then allocates nothing.
    fn put(&mut self, key: &str, value: &str) -> KvOutput {
        self.put_utf8(key.as_bytes(), value.as_bytes())
    }

    /// [`KvMap::put`] of a key and a value known to be UTF-8 (read from a log entry and
    /// checked there), kept as the bytes they are.
    fn put_utf8(&mut self, key: &[u8], value: &[u8]) -> KvOutput {
        match self.values.get_mut(key) {
            Some(current) => current.set(value),
            None => {
                self.values
                    .insert(Text::from_utf8(key), Text::from_utf8(value));
            }
        }
        KvOutput::Ok
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key.as_bytes()).map(Text::as_str)
    }

    /// Every key and value, in key order (sorted on each call).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.sorted_pairs().into_iter()
    }

    /// Every key and value, in key order.
    fn sorted_pairs(&self) -> Vec<(&str, &str)> {
        let mut pairs: Vec<(&str, &str)> = (self.values.iter())
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        // Keys are unique: an unstable sort gives the one order.
        pairs.sort_unstable_by_key(|&(key, _)| key);
        pairs
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// The longest text a [`Text`] holds in place: with its length, it fits in the bytes of
/// the `String` that holds a longer one, so a `Text` is no larger than a `String`.
const INLINE: usize = 15;

/// A key or a value of a [`KvMap`]: in place when it is [`INLINE`] bytes or shorter (the
/// bench's keys and values are, and the checks' keys), in a `String` when longer (a
/// value that appends made long).
///
/// Compared, hashed and borrowed as its bytes, whichever way it is held: the map is
/// searched with a `&str`'s bytes.
#[derive(Clone)]
enum Text {
    /// Invariant: `bytes[..len]` is UTF-8 (made from `&str`s or bytes checked to be
    /// UTF-8) and `len <= INLINE`.
    Inline { len: u8, bytes: [u8; INLINE] },
    /// Invariant: longer than [`INLINE`].
    Heap(String),
}

impl Text {
    fn as_bytes(&self) -> &[u8] {
        match self {
            Text::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Text::Heap(text) => text.as_bytes(),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            Text::Inline { len, bytes } => std::str::from_utf8(&bytes[..usize::from(*len)])
                .expect("an inline text holds whole UTF-8: it was copied from strs"),
            Text::Heap(text) => text,
        }
    }

    /// Replaces the text with `text` (UTF-8), over the old one when both are short or
    /// both are long.
    fn set(&mut self, text: &[u8]) {
        match self {
            Text::Inline { len, bytes } if text.len() <= INLINE => {
                bytes[..text.len()].copy_from_slice(text);
                *len = text.len() as u8;
            }
            Text::Heap(current) if text.len() > INLINE => {
                current.clear();
                current.push_str(&String::from_utf8_lossy(text));
            }
            _ => *self = Text::from_utf8(text),
        }
    }

    /// The text of `text`, bytes known to be UTF-8. (A long one is copied lossily, which
    /// changes nothing in UTF-8 and keeps a `Text` from ever holding anything else.)
    fn from_utf8(text: &[u8]) -> Text {
        if text.len() > INLINE {
            return Text::Heap(String::from_utf8_lossy(text).into_owned());
        }
        let mut bytes = [0; INLINE];
        bytes[..text.len()].copy_from_slice(text);
        Text::Inline {
            len: text.len() as u8,
            bytes,
        }
    }

    /// Appends `more`, moving to the heap when the text outgrows [`INLINE`].
    fn push_str(&mut self, more: &str) {
        match self {
            Text::Inline { len, bytes } if usize::from(*len) + more.len() <= INLINE => {
                let start = usize::from(*len);
                bytes[start..start + more.len()].copy_from_slice(more.as_bytes());
                *len += more.len() as u8;
            }
            Text::Inline { .. } => *self = Text::Heap(format!("{}{more}", self.as_str())),
            Text::Heap(text) => text.push_str(more),
        }
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Text {
        Text::from_utf8(text.as_bytes())
    }
}

impl std::borrow::Borrow<[u8]> for Text {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Text {}

/// As its bytes, as `Borrow<[u8]>` requires.
impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

/// As the string it holds.
impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_str().fmt(f)
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
        let (client, seq, op) = decode_in_place(bytes)?;
        Ok(KvRequest {
            client,
            seq,
            op: op.to_op(),
        })
    }
}

/// A [`KvOp`] whose strings are borrowed: read in place from a log entry, a request is
/// applied without strings of its own.
#[derive(Clone, Copy, Debug)]
enum OpRef<'a> {
    Put {
        key: &'a str,
        value: &'a str,
    },
    Append {
        key: &'a str,
        value: &'a str,
    },
    Get {
        key: &'a str,
    },
    Del {
        key: &'a str,
    },
    Cas {
        key: &'a str,
        old: &'a str,
        new: &'a str,
    },
}

impl<'a> OpRef<'a> {
    fn of(op: &'a KvOp) -> OpRef<'a> {
        match op {
            KvOp::Put { key, value } => OpRef::Put { key, value },
            KvOp::Append { key, value } => OpRef::Append { key, value },
            KvOp::Get { key } => OpRef::Get { key },
            KvOp::Del { key } => OpRef::Del { key },
            KvOp::Cas { key, old, new } => OpRef::Cas { key, old, new },
        }
    }

    fn to_op(self) -> KvOp {
        match self {
            OpRef::Put { key, value } => KvOp::Put {
                key: key.into(),
                value: value.into(),
            },
            OpRef::Append { key, value } => KvOp::Append {
                key: key.into(),
                value: value.into(),
            },
            OpRef::Get { key } => KvOp::Get { key: key.into() },
            OpRef::Del { key } => KvOp::Del { key: key.into() },
            OpRef::Cas { key, old, new } => KvOp::Cas {
                key: key.into(),
                old: old.into(),
                new: new.into(),
            },
        }
    }
}

/// A request read in place from the bytes of a log entry: client, sequence number and
/// operation (what [`KvRequest::encode_parts_into`] wrote).
fn decode_in_place(bytes: &[u8]) -> Result<(ClientId, u64, OpRef<'_>), DecodeError> {
    let mut reader = Reader { bytes };
    let client = reader.u64()?;
    let seq = reader.u64()?;
    // Fields in the order they were written: arguments are evaluated left to right.
    let op = match reader.take(1)?[0] {
        b'p' => OpRef::Put {
            key: reader.str()?,
            value: reader.str()?,
        },
        b'a' => OpRef::Append {
            key: reader.str()?,
            value: reader.str()?,
        },
        b'g' => OpRef::Get { key: reader.str()? },
        b'd' => OpRef::Del { key: reader.str()? },
        b'c' => OpRef::Cas {
            key: reader.str()?,
            old: reader.str()?,
            new: reader.str()?,
        },
        _ => return Err(DecodeError),
    };
    if !reader.bytes.is_empty() {
        return Err(DecodeError);
    }
    Ok((client, seq, op))
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
        std::str::from_utf8(self.field()?).map_err(|_| DecodeError)
    }

    /// A string field's bytes, checked to be UTF-8 but not converted: ASCII (what keys and
    /// values usually are) is checked a word at a time, in fewer instructions than
    /// `from_utf8` takes.
    fn utf8(&mut self) -> Result<&'a [u8], DecodeError> {
        let bytes = self.field()?;
        if bytes.is_ascii() || std::str::from_utf8(bytes).is_ok() {
            Ok(bytes)
        } else {
            Err(DecodeError)
        }
    }

    /// A string field's bytes, after their length.
    fn field(&mut self) -> Result<&'a [u8], DecodeError> {
        let len_bytes = self.take(4)?;
        let len = u32::from_le_bytes(len_bytes.try_into().map_err(|_| DecodeError)?) as usize;
        self.take(len)
    }
}

/// A `put` request read in place: client, sequence number, key and value. `None` for
/// anything else (another operation, or bytes that do not decode). What
/// [`decode_in_place`] reads of a put, in fewer instructions: a node applies every put.
fn decode_put(bytes: &[u8]) -> Option<(ClientId, u64, &[u8], &[u8])> {
    let mut reader = Reader { bytes };
    let (client, seq) = (reader.u64().ok()?, reader.u64().ok()?);
    if reader.take(1).ok()? != b"p" {
        return None;
    }
    let (key, value) = (reader.utf8().ok()?, reader.utf8().ok()?);
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
    sessions: Sessions,
    /// The sessions' part of the last snapshot, reused by the next.
    encoded_sessions: EncodedSessions,
}

/// A client's last applied request and its result.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Session {
    client: ClientId,
    seq: u64,
    output: KvOutput,
}

/// The clients a state machine remembers, in client id order.
///
/// A deque sorted by id rather than a tree: ids are handed out in order, so a new client
/// goes at or near the back and the one forgotten is at the front, a lookup is a binary
/// search, and a snapshot (every few entries in `raftlab check`'s swarm) and its decoding
/// walk contiguous memory in order.
///
/// Invariant: ids strictly increase from front to back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Sessions {
    by_client: VecDeque<Session>,
}

impl Sessions {
    fn len(&self) -> usize {
        self.by_client.len()
    }

    /// Where `client`'s session is (`Ok`), or where it would go (`Err`).
    fn find(&self, client: ClientId) -> Result<usize, usize> {
        // The newest client, the usual one in a check, without a search.
        match self.by_client.back() {
            Some(last) if last.client == client => Ok(self.by_client.len() - 1),
            Some(last) if last.client < client => Err(self.by_client.len()),
            _ => self
                .dense_guess(client)
                .map_or_else(|| self.search(client), Ok),
        }
    }

    /// Where `client`'s session is if the ids from the front on have no gaps up to it (a
    /// load of many clients started together, applied in any order): as far from the
    /// front as its id is from the front's.
    fn dense_guess(&self, client: ClientId) -> Option<usize> {
        let offset = client.checked_sub(self.by_client.front()?.client)?;
        let at = usize::try_from(offset).ok()?;
        (self.by_client.get(at)?.client == client).then_some(at)
    }

    fn search(&self, client: ClientId) -> Result<usize, usize> {
        self.by_client
            .binary_search_by_key(&client, |session| session.client)
    }
}

/// The snapshot records of the first sessions, kept from one snapshot to the next.
/// Between two snapshots few sessions change (in a check, each operation is a client of
/// its own and comes at the back), so a snapshot encodes the sessions from the first one
/// that changed on, and copies the records before it.
///
/// Invariant: `bytes` holds the records of the first `ends.len()` sessions as they are
/// now, one after the other; the record of session `i` ends at `ends[i]`.
#[derive(Clone, Debug, Default)]
struct EncodedSessions {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl EncodedSessions {
    /// Forgets the records of the sessions from position `at` on: one of them changed,
    /// or they moved.
    fn forget_from(&mut self, at: usize) {
        if at < self.ends.len() {
            self.ends.truncate(at);
            self.bytes.truncate(self.ends.last().copied().unwrap_or(0));
        }
    }

    /// The records of every session in `sessions`, encoding those not kept.
    fn update(&mut self, sessions: &Sessions) -> &[u8] {
        for session in sessions.by_client.range(self.ends.len()..) {
            put_session(&mut self.bytes, session);
            self.ends.push(self.bytes.len());
        }
        &self.bytes
    }
}

impl KvStateMachine {
    /// Applies a request, or returns the remembered result of a request already applied.
    pub fn apply(&mut self, request: KvRequest) -> KvOutput {
        self.apply_once(request.client, request.seq, |map| map.apply(&request.op))
    }

    /// Applies a request as it is in the log, or returns `None` if the bytes are not a
    /// request. The request is read in place rather than decoded into strings of its own;
    /// a `put`, the common case, by a reader of its own that only reads a put.
    pub fn apply_encoded(&mut self, bytes: &[u8]) -> Option<KvOutput> {
        if let Some((client, seq, key, value)) = decode_put(bytes) {
            return Some(self.apply_once(client, seq, |map| map.put_utf8(key, value)));
        }
        let (client, seq, op) = decode_in_place(bytes).ok()?;
        Some(self.apply_once(client, seq, |map| map.apply_in_place(op)))
    }

    /// Runs `apply` for the `seq`-th request of `client` unless that request (or a later
    /// one) was applied already, in which case its remembered result is returned.
    fn apply_once(
        &mut self,
        client: ClientId,
        seq: u64,
        apply: impl FnOnce(&mut KvMap) -> KvOutput,
    ) -> KvOutput {
        let found = self.sessions.find(client);
        let sessions = &mut self.sessions.by_client;
        match found {
            Ok(at) => {
                let last = &mut sessions[at];
                if last.seq >= seq {
                    return last.output.clone();
                }
                let output = apply(&mut self.map);
                last.seq = seq;
                last.output = output.clone();
                self.encoded_sessions.forget_from(at);
                output
            }
            Err(at) => {
                let output = apply(&mut self.map);
                let session = Session {
                    client,
                    seq,
                    output: output.clone(),
                };
                sessions.insert(at, session);
                self.encoded_sessions.forget_from(at);
                if sessions.len() > CLIENTS_REMEMBERED {
                    sessions.pop_front();
                    self.encoded_sessions.forget_from(0);
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
    /// Mutable for the sessions' records it keeps for the next snapshot.
    pub fn encode(&mut self) -> Vec<u8> {
        let pairs = self.map.sorted_pairs();
        let records = self.encoded_sessions.update(&self.sessions);
        // Sized up front: a snapshot of a large map would otherwise be copied as it grows.
        let map_len: usize = (pairs.iter())
            .map(|(key, value)| 8 + key.len() + value.len())
            .sum();
        let mut bytes = Vec::with_capacity(16 + map_len + records.len());
        bytes.extend_from_slice(&(pairs.len() as u64).to_le_bytes());
        for (key, value) in pairs {
            put_string(&mut bytes, key);
            put_string(&mut bytes, value);
        }
        bytes.extend_from_slice(&(self.sessions.len() as u64).to_le_bytes());
        bytes.extend_from_slice(records);
        bytes
    }

    /// The state machine held in snapshot bytes made by [`KvStateMachine::encode`].
    pub fn decode(bytes: &[u8]) -> Result<KvStateMachine, DecodeError> {
        let mut reader = Reader { bytes };
        let mut state = KvStateMachine::default();
        // Sized by the count the bytes give, bounded by what they can hold (8 bytes or
        // more a pair, 18 or more a client): bad bytes cannot ask for a huge table.
        let pairs = reader.u64()?;
        state
            .map
            .values
            .reserve(bounded_count(pairs, reader.bytes, 8));
        for _ in 0..pairs {
            let key = Text::from(reader.str()?);
            state.map.values.insert(key, Text::from(reader.str()?));
        }
        let clients = reader.u64()?;
        let sessions = &mut state.sessions.by_client;
        sessions.reserve(bounded_count(clients, reader.bytes, 18));
        for _ in 0..clients {
            let (client, seq) = (reader.u64()?, reader.u64()?);
            let tag = reader.take(1)?[0];
            let value = reader.optional()?;
            let output = match (tag, value) {
                (b'o', None) => KvOutput::Ok,
                (b'v', value) => KvOutput::Value(value),
                (b'c', current) => KvOutput::CasFailed { current },
                _ => return Err(DecodeError),
            };
            // Snapshots list clients in id order, each once.
            if sessions.back().is_some_and(|last| last.client >= client) {
                return Err(DecodeError);
            }
            sessions.push_back(Session {
                client,
                seq,
                output,
            });
        }
        if !reader.bytes.is_empty() {
            return Err(DecodeError);
        }
        Ok(state)
    }
}

/// `count` items said to follow in `rest`, each `min_len` bytes or more, bounded by how
/// many `rest` can hold.
fn bounded_count(count: u64, rest: &[u8], min_len: usize) -> usize {
    usize::try_from(count).map_or(usize::MAX, |count| count.min(rest.len() / min_len))
}

/// Writes a session's snapshot record: client id, sequence number, the output's tag,
/// whether a text follows, and the text.
fn put_session(bytes: &mut Vec<u8>, session: &Session) {
    let (tag, text) = match &session.output {
        KvOutput::Ok => (b'o', None),
        KvOutput::Value(value) => (b'v', value.as_deref()),
        KvOutput::CasFailed { current } => (b'c', current.as_deref()),
    };
    // The fixed part written at once.
    let mut head = [0; 18];
    head[..8].copy_from_slice(&session.client.to_le_bytes());
    head[8..16].copy_from_slice(&session.seq.to_le_bytes());
    head[16] = tag;
    head[17] = u8::from(text.is_some());
    bytes.extend_from_slice(&head);
    if let Some(text) = text {
        put_string(bytes, text);
    }
}

fn put_string(bytes: &mut Vec<u8>, text: &str) {
    bytes.extend_from_slice(&(text.len() as u32).to_le_bytes());
    bytes.extend_from_slice(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn a_session_is_found_where_a_search_finds_it_with_or_without_gaps_in_the_ids() {
        let session = |client| Session {
            client,
            seq: 1,
            output: KvOutput::Ok,
        };
        let sessions = Sessions {
            by_client: [3, 4, 5, 7, 8, 20].into_iter().map(session).collect(),
        };
        for client in 0..25 {
            assert_eq!(
                sessions.find(client),
                sessions.search(client),
                "client {client}"
            );
        }
        assert_eq!(sessions.find(5), Ok(2));
        assert_eq!(sessions.find(8), Ok(4));
        assert_eq!(sessions.find(6), Err(3));
    }

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
        let mut restored = KvStateMachine::decode(&sm.encode()).expect("decodes");
        assert_eq!(restored.encode(), sm.encode());
        assert_eq!(restored.map().get("x"), Some("1"));
        assert_eq!(restored.sessions, sm.sessions);
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
        assert_eq!(sm.sessions.len(), CLIENTS_REMEMBERED);
        // The newest is still remembered: its retry takes effect once ...
        sm.apply(append(CLIENTS_REMEMBERED as u64 + 1));
        assert_eq!(
            sm.map().get("k").map(str::len),
            Some(CLIENTS_REMEMBERED + 1)
        );
        // ... and the oldest is not.
        assert!(sm.sessions.find(1).is_err());
    }

    #[test]
    fn clients_applied_out_of_id_order_are_remembered_and_snapshotted_in_id_order() {
        let put = |client, seq| KvRequest {
            client,
            seq,
            op: KvOp::Put {
                key: format!("k{client}"),
                value: seq.to_string(),
            },
        };
        let mut sm = KvStateMachine::default();
        for client in [5, 2, 9, 7, 1] {
            sm.apply(put(client, 3));
        }
        let ids: Vec<ClientId> = sm
            .sessions
            .by_client
            .iter()
            .map(|session| session.client)
            .collect();
        assert_eq!(ids, [1, 2, 5, 7, 9]);
        // A retry of each is answered from memory and changes nothing ...
        for client in [9, 1, 5] {
            sm.apply(put(client, 2));
        }
        assert_eq!(sm.map().get("k9"), Some("3"));
        // ... and a later request of each takes effect.
        sm.apply(put(7, 4));
        assert_eq!(sm.map().get("k7"), Some("4"));
        let restored = KvStateMachine::decode(&sm.encode()).expect("decodes");
        assert_eq!(restored.sessions, sm.sessions);
    }

    /// `sm`'s snapshot encoded from nothing kept.
    fn encoded_afresh(sm: &KvStateMachine) -> Vec<u8> {
        let mut fresh = KvStateMachine {
            map: sm.map.clone(),
            sessions: sm.sessions.clone(),
            encoded_sessions: EncodedSessions::default(),
        };
        fresh.encode()
    }

    #[test]
    fn a_snapshot_reusing_the_last_ones_records_is_the_snapshot_encoded_afresh() {
        let request = |client, seq| KvRequest {
            client,
            seq,
            op: match seq % 3 {
                0 => KvOp::Get { key: "k".into() },
                1 => KvOp::Append {
                    key: "k".into(),
                    value: format!("{client}.{seq}"),
                },
                _ => KvOp::Cas {
                    key: "k".into(),
                    old: "no".into(),
                    new: "yes".into(),
                },
            },
        };
        let mut sm = KvStateMachine::default();
        // New clients at the back, a client in the middle, later requests of clients
        // before the last, retries, each followed by a snapshot.
        let steps = [
            (10, 1),
            (20, 1),
            (30, 1),
            (15, 1),
            (20, 2),
            (20, 2),
            (40, 3),
        ];
        for (client, seq) in steps.into_iter().chain((50..60).map(|c| (c, c))) {
            sm.apply(request(client, seq));
            assert_eq!(sm.encode(), encoded_afresh(&sm), "after {client}/{seq}");
        }
        sm.apply(request(10, 5));
        sm.apply(request(5, 1));
        assert_eq!(sm.encode(), encoded_afresh(&sm));
        let mut restored = KvStateMachine::decode(&sm.encode()).expect("decodes");
        restored.apply(request(30, 4));
        sm.apply(request(30, 4));
        assert_eq!(restored.encode(), sm.encode());
    }

    #[test]
    fn a_snapshot_after_a_client_is_forgotten_is_the_snapshot_encoded_afresh() {
        let mut sm = KvStateMachine::default();
        let get = |client| KvRequest {
            client,
            seq: 1,
            op: KvOp::Get { key: "k".into() },
        };
        for client in 1..=CLIENTS_REMEMBERED as u64 {
            sm.apply(get(client));
        }
        sm.encode();
        sm.apply(get(CLIENTS_REMEMBERED as u64 + 1));
        assert!(sm.sessions.find(1).is_err());
        assert_eq!(sm.encode(), encoded_afresh(&sm));
    }

    #[test]
    fn a_snapshot_that_lists_clients_out_of_order_does_not_decode() {
        let mut sm = KvStateMachine::default();
        for client in [1, 2] {
            sm.apply(KvRequest {
                client,
                seq: 1,
                op: KvOp::Get { key: "k".into() },
            });
        }
        let mut bytes = sm.encode();
        // No keys (8 bytes), 2 clients (8 bytes), then two 18-byte records.
        assert_eq!(bytes.len(), 16 + 2 * 18);
        let (first, second) = bytes[16..].split_at_mut(18);
        first.swap_with_slice(second);
        assert_eq!(KvStateMachine::decode(&bytes).err(), Some(DecodeError));
        // A count no bytes back is refused, not allocated.
        let mut huge = 0u64.to_le_bytes().to_vec();
        huge.extend_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(KvStateMachine::decode(&huge).err(), Some(DecodeError));
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
        // Every other operation, each of a client of its own.
        let others = [
            KvOp::Get { key: "k".into() },
            KvOp::Cas {
                key: "k".into(),
                old: "no".into(),
                new: "x".into(),
            },
            KvOp::Cas {
                key: "k".into(),
                old: "bbbbbbbb+".into(),
                new: "c".into(),
            },
            KvOp::Del { key: "k".into() },
            KvOp::Get { key: "k".into() },
        ];
        for (client, op) in (6..).zip(others) {
            let request = KvRequest { client, seq: 1, op };
            let bytes = request.encode();
            assert_eq!(encoded.apply_encoded(&bytes), Some(decoded.apply(request)));
        }
        assert_eq!(encoded.encode(), decoded.encode());
        assert_eq!(encoded.map().get("k"), None);
        assert_eq!(encoded.apply_encoded(b"not a request"), None);
        let mut trailing = put(9, "y").encode();
        trailing.push(0);
        assert_eq!(encoded.apply_encoded(&trailing), None);
        let mut bad_utf8 = put(3, "x").encode();
        *bad_utf8.last_mut().expect("a value byte") = 0xff;
        assert_eq!(encoded.apply_encoded(&bad_utf8), None);
        // UTF-8 beyond ASCII is applied: short over long, then shorter over short.
        for (seq, value) in [(10, "ééééééééé"), (11, "üü"), (12, "a")] {
            assert_eq!(
                encoded.apply_encoded(&put(seq, value).encode()),
                Some(KvOutput::Ok)
            );
            assert_eq!(encoded.map().get("k"), Some(value));
        }
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

    /// The rules of [`KvMap::apply`] over plain strings in a tree.
    fn reference_apply(map: &mut BTreeMap<String, String>, op: &KvOp) -> KvOutput {
        match op {
            KvOp::Put { key, value } => {
                map.insert(key.clone(), value.clone());
                KvOutput::Ok
            }
            KvOp::Append { key, value } => {
                map.entry(key.clone()).or_default().push_str(value);
                KvOutput::Ok
            }
            KvOp::Get { key } => KvOutput::Value(map.get(key).cloned()),
            KvOp::Del { key } => {
                map.remove(key);
                KvOutput::Ok
            }
            KvOp::Cas { key, old, new } => match map.get(key) {
                Some(current) if current == old => {
                    map.insert(key.clone(), new.clone());
                    KvOutput::Ok
                }
                current => KvOutput::CasFailed {
                    current: current.cloned(),
                },
            },
        }
    }

    #[test]
    fn short_and_long_keys_and_values_follow_the_same_rules() {
        // Lengths on both sides of what is held in place, and text of several bytes a
        // character.
        let texts: Vec<String> = [0, 1, 7, INLINE - 1, INLINE, INLINE + 1, 40]
            .iter()
            .flat_map(|&len| ["a".repeat(len), "é".repeat(len / 2)])
            .collect();
        let keys = [
            &texts[2], &texts[6], &texts[8], &texts[10], &texts[11], &texts[12],
        ];
        let (mut map, mut reference) = (KvMap::default(), BTreeMap::new());
        let mut step = 0usize;
        for round in 0..6 {
            for (k, key) in keys.iter().enumerate() {
                for (v, value) in texts.iter().enumerate() {
                    step += 1;
                    let (key, value) = (key.to_string(), value.to_string());
                    let op = match (round + k + v) % 5 {
                        0 => KvOp::Put { key, value },
                        1 => KvOp::Append { key, value },
                        2 => KvOp::Get { key },
                        3 if step.is_multiple_of(3) => KvOp::Del { key },
                        _ => KvOp::Cas {
                            old: reference.get(&key).cloned().unwrap_or_default(),
                            key,
                            new: value,
                        },
                    };
                    assert_eq!(
                        map.apply(&op),
                        reference_apply(&mut reference, &op),
                        "{op:?}"
                    );
                }
            }
            let shown: Vec<(&str, &str)> = map.iter().collect();
            let expected: Vec<(&str, &str)> = (reference.iter())
                .map(|(key, value)| (key.as_str(), value.as_str()))
                .collect();
            assert_eq!(shown, expected);
        }
        // Held in place or not, equal maps are equal and print as strings do.
        let mut rebuilt = KvMap::default();
        for (key, value) in map.iter() {
            rebuilt.put(key, value);
        }
        assert_eq!(rebuilt, map);
        assert_eq!(format!("{:?}", Text::from("é\"")), format!("{:?}", "é\""));
        assert_eq!(Text::from("x".repeat(30).as_str()), {
            let mut grown = Text::from("x".repeat(10).as_str());
            grown.push_str(&"x".repeat(20));
            grown
        });
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
