//! The clients' side: operations in progress, their retries, and the history of every
//! operation (invoke time, response time, result or unknown) that the checker reads.

use std::collections::VecDeque;
use std::sync::Arc;

use crossbeam_channel::Sender;

use crate::raft::{NodeId, NodeMap};

use super::event::{ClientOutcome, OpId};
use super::kv::{ClientId, KvOp};

/// One client operation as the history records it.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientRecord {
    pub op: OpId,
    pub client: ClientId,
    /// Shared with the operation in progress and its event: recording it copies nothing.
    pub request: Arc<KvOp>,
    pub invoke_us: u64,
    /// `None` while the operation is in progress.
    pub outcome: Option<ClientOutcome>,
    pub response_us: Option<u64>,
    /// Whether some attempt may have put the operation into a node's log: it was sent
    /// and not every attempt was answered "not the leader". An operation refused without
    /// this never took effect; one refused with it (its `via` node lost leadership or
    /// went down after taking it) may still take effect, like one that timed out.
    pub may_be_in_log: bool,
}

/// The end of an operation, as a caller waiting for it receives it.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientResult {
    pub op: OpId,
    pub request: KvOp,
    pub outcome: ClientOutcome,
    /// Cluster time from invoke to response.
    pub latency_us: u64,
}

/// Where an operation in progress stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    /// To be sent to `target` at `at_us`.
    ToSend { target: NodeId, at_us: u64 },
    /// Sent; tried again if no answer comes by `until_us`.
    Waiting { target: NodeId, until_us: u64 },
}

pub(crate) struct PendingOp {
    pub client: ClientId,
    /// The client's sequence number, which every attempt keeps.
    pub seq: u64,
    pub request: Arc<KvOp>,
    /// The node the operation must go to, refused if that node is not the leader.
    pub via: Option<NodeId>,
    pub invoke_us: u64,
    pub deadline_us: u64,
    /// Private: the table's indexes follow it, so only [`ClientTable::set_stage`]
    /// changes it.
    stage: Stage,
    /// How many times the operation was handed to a node.
    pub attempts: u32,
    /// How many of those attempts were answered "not the leader" (and so never reached a
    /// log).
    pub not_leader_replies: u32,
    /// When the operation was last sent on at once to the leader a node named.
    pub redirected_us: Option<u64>,
    /// Whoever waits for the result outside the driver.
    pub waiter: Option<Sender<ClientResult>>,
}

impl PendingOp {
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// When the operation next needs attention.
    pub fn wake_us(&self) -> u64 {
        let stage_us = match self.stage {
            Stage::ToSend { at_us, .. } => at_us,
            Stage::Waiting { until_us, .. } => until_us,
        };
        stage_us.min(self.deadline_us)
    }
}

/// An operation that ended, as [`ClientTable::take_completions`] lists it: for a load
/// inside the driver that reads its answers without scanning every event.
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    pub op: OpId,
    pub client: ClientId,
    pub seq: u64,
    /// Whether it was applied (`Done`); otherwise refused or timed out.
    pub done: bool,
}

/// The history of client operations, oldest first: every operation, or, once told to
/// [`History::forget_finished`], those from the oldest still in progress on (a bench,
/// which checks only that the nodes agree, keeps no more), or, after
/// [`History::take_finished`], those the taker has not taken; none while not recorded
/// ([`ClientTable::record_history`]).
///
/// Invariant: `records[i].op == first_op + i` (operation ids are handed out in order,
/// one record each).
#[derive(Debug)]
pub struct History {
    records: Vec<ClientRecord>,
    first_op: OpId,
    /// Whether operations are recorded (by default they are).
    recording: bool,
}

impl Default for History {
    fn default() -> Self {
        History {
            records: Vec::new(),
            first_op: 1,
            recording: true,
        }
    }
}

impl std::ops::Deref for History {
    type Target = [ClientRecord];

    fn deref(&self) -> &[ClientRecord] {
        &self.records
    }
}

impl History {
    /// Records an operation that begins (while recording).
    fn push(&mut self, record: ClientRecord) {
        debug_assert!(self.recording);
        debug_assert_eq!(record.op, self.first_op + self.records.len() as OpId);
        self.records.push(record);
    }

    /// Passes over an operation that begins while not recording: the next record kept,
    /// once recording again, is of a later operation.
    fn skip(&mut self, op: OpId) {
        debug_assert!(!self.recording && self.records.is_empty());
        self.first_op = op + 1;
    }

    fn get_mut(&mut self, op: OpId) -> Option<&mut ClientRecord> {
        let position = op.checked_sub(self.first_op)?;
        self.records.get_mut(position as usize)
    }

    /// Starts or stops recording operations; stopping forgets every record, and
    /// operations that begin while stopped are never recorded.
    fn set_recording(&mut self, on: bool, next_op: OpId) {
        if !on && self.recording {
            self.records = Vec::new();
            self.first_op = next_op;
        }
        self.recording = on;
    }

    /// Lets go of the finished records before the oldest operation still in progress,
    /// once there are enough of them to be worth moving the rest.
    pub fn forget_finished(&mut self) {
        let finished = self.finished_front();
        if finished < 4096.max(self.records.len() / 2) {
            return;
        }
        self.records.drain(..finished);
        self.first_op += finished as OpId;
    }

    /// How many records at the front are finished: those before the oldest operation
    /// still in progress.
    fn finished_front(&self) -> usize {
        self.records
            .iter()
            .position(|r| r.outcome.is_none())
            .unwrap_or(self.records.len())
    }

    /// Hands over the finished records before the oldest operation still in progress, for
    /// a caller that checks the history as it grows (the REPL's
    /// [`WindowedHistory`](super::linearizability::WindowedHistory)).
    pub fn take_finished(&mut self) -> Vec<ClientRecord> {
        let finished = self.finished_front();
        self.first_op += finished as OpId;
        self.records.drain(..finished).collect()
    }
}

/// The operations in progress, by id. Operation ids are handed out in order and most
/// operations end soon, roughly in the order they began, so they are found through a ring
/// of slot numbers by id rather than hashed. The operations themselves sit in a slab of
/// as many slots as are in progress at once: one operation that stays in progress long
/// (its client waiting out a leader change) while thousands start and end after it keeps
/// four bytes for each of those, not a whole operation.
///
/// Invariant: `ring[i]` is the slab slot of operation `first + i`, [`ENDED`] once it
/// ended; the front is never [`ENDED`] (ended operations at the front are let go at once).
#[derive(Default)]
struct PendingOps {
    ring: VecDeque<u32>,
    first: OpId,
    slab: Vec<Option<PendingOp>>,
    /// The slab's empty slots.
    free: Vec<u32>,
}

/// A ring entry for an operation that ended.
const ENDED: u32 = u32::MAX;

impl PendingOps {
    /// Adds operation `id`, the highest so far.
    fn insert(&mut self, id: OpId, op: PendingOp) {
        if self.ring.is_empty() {
            self.first = id;
        }
        debug_assert_eq!(id, self.first + self.ring.len() as OpId, "ids out of order");
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slab[slot as usize] = Some(op);
                slot
            }
            None => {
                self.slab.push(Some(op));
                let slot = u32::try_from(self.slab.len() - 1)
                    .expect("fewer than 2^32 operations in progress");
                assert_ne!(slot, ENDED, "too many operations in progress");
                slot
            }
        };
        self.ring.push_back(slot);
    }

    /// The slab slot of operation `id`, if it is in progress.
    fn slot(&self, id: OpId) -> Option<usize> {
        let position = usize::try_from(id.checked_sub(self.first)?).ok()?;
        let slot = *self.ring.get(position)?;
        (slot != ENDED).then_some(slot as usize)
    }

    fn get(&self, id: OpId) -> Option<&PendingOp> {
        self.slab[self.slot(id)?].as_ref()
    }

    fn get_mut(&mut self, id: OpId) -> Option<&mut PendingOp> {
        let slot = self.slot(id)?;
        self.slab[slot].as_mut()
    }

    fn remove(&mut self, id: OpId) -> Option<PendingOp> {
        let slot = self.slot(id)?;
        let op = self.slab[slot].take()?;
        self.free.push(slot as u32);
        self.ring[(id - self.first) as usize] = ENDED;
        while self.ring.front() == Some(&ENDED) {
            self.ring.pop_front();
            self.first += 1;
        }
        Some(op)
    }

    /// The ids of the operations in progress, in order.
    fn ids(&self) -> impl Iterator<Item = OpId> + '_ {
        (self.first..)
            .zip(&self.ring)
            .filter(|&(_, &slot)| slot != ENDED)
            .map(|(id, _)| id)
    }
}

/// Every client operation: those in progress and the history of all.
///
/// The operations in progress are kept by id, with two indexes that follow each one's
/// stage, so that nothing the scheduler does per hand-off visits every operation: when
/// each next needs attention (for the next wake-up and housekeeping), and, per target
/// node, which are to be sent and from when. Whatever the indexes yield in a batch is
/// put in id order first, the order the scheduler has always handled operations in.
#[derive(Default)]
pub(crate) struct ClientTable {
    pending: PendingOps,
    indexes: Indexes,
    /// The operations ended since the last [`ClientTable::take_completions`], when kept.
    completions: Option<Vec<Completion>>,
    pub history: History,
    next_op: OpId,
    next_client: ClientId,
    /// When the latest operation ended, if one has.
    last_end_us: Option<u64>,
}

impl ClientTable {
    pub fn new_client(&mut self) -> ClientId {
        self.next_client += 1;
        self.next_client
    }

    /// When the latest operation ended, if one has.
    pub fn last_end_us(&self) -> Option<u64> {
        self.last_end_us
    }

    /// Starts an operation and records its invocation.
    pub fn start(
        &mut self,
        client: ClientId,
        seq: u64,
        request: Arc<KvOp>,
        op: PendingStart,
    ) -> OpId {
        self.next_op += 1;
        let id = self.next_op;
        if self.history.recording {
            self.history.push(ClientRecord {
                op: id,
                client,
                request: request.clone(),
                invoke_us: op.now_us,
                outcome: None,
                response_us: None,
                may_be_in_log: false,
            });
        } else {
            self.history.skip(id);
        }
        let pending = PendingOp {
            client,
            seq,
            request,
            via: op.via,
            invoke_us: op.now_us,
            deadline_us: op.now_us + op.deadline_us,
            stage: Stage::ToSend {
                target: op.target,
                at_us: op.now_us,
            },
            attempts: 0,
            not_leader_replies: 0,
            redirected_us: None,
            waiter: op.waiter,
        };
        self.indexes.add(id, &pending);
        self.pending.insert(id, pending);
        id
    }

    /// Moves an operation in progress to `stage`. Returns whether it is in progress.
    pub fn set_stage(&mut self, id: OpId, stage: Stage) -> bool {
        let Some(op) = self.pending.get_mut(id) else {
            return false;
        };
        self.indexes.remove(id, op);
        op.stage = stage;
        self.indexes.add(id, op);
        true
    }

    /// When the next operation needs attention.
    pub fn next_wake_us(&self) -> Option<u64> {
        self.indexes.wakes.first().map(|(wake_us, _)| wake_us)
    }

    /// The operations that need attention at `now_us` (their wake-up is due), in id order,
    /// into `due` (cleared first).
    pub fn due(&self, now_us: u64, due: &mut Vec<OpId>) {
        due.clear();
        // Usually nothing is due: the earliest wake-up says so without a scan.
        if self.next_wake_us().is_none_or(|wake_us| wake_us > now_us) {
            return;
        }
        self.indexes.wakes.ids_up_to(now_us, due);
        due.sort_unstable();
    }

    /// The operations to be sent to `node` by `now_us`, in id order, into `due` (cleared
    /// first).
    pub fn sendable(&self, node: NodeId, now_us: u64, due: &mut Vec<OpId>) {
        due.clear();
        // Usually none is due: the earliest says so without a scan.
        if let Some(sends) = self.indexes.to_send.get(&node)
            && sends.first().is_some_and(|(at_us, _)| at_us <= now_us)
        {
            sends.ids_up_to(now_us, due);
            due.sort_unstable();
        }
    }

    /// Every node that operations are to be sent to by `now_us`, in node order.
    pub fn send_targets(&self, now_us: u64) -> impl Iterator<Item = NodeId> + '_ {
        self.indexes
            .to_send
            .iter()
            .filter(move |(_, sends)| sends.first().is_some_and(|(at_us, _)| at_us <= now_us))
            .map(|(&node, _)| node)
    }

    pub fn get(&self, op: OpId) -> Option<&PendingOp> {
        self.pending.get(op)
    }

    /// An operation in progress, to change anything but its stage.
    pub fn get_mut(&mut self, op: OpId) -> Option<&mut PendingOp> {
        self.pending.get_mut(op)
    }

    /// The operations in progress, in id order.
    pub fn pending_ops(&self) -> Vec<OpId> {
        self.pending.ids().collect()
    }

    /// Starts or stops keeping the list of ended operations (see
    /// [`ClientTable::take_completions`]); stopping forgets it.
    pub fn keep_completions(&mut self, on: bool) {
        self.completions = on.then(Vec::new);
    }

    /// Starts or stops recording operations in the history (by default they are), for a
    /// load that never reads it (a bench); stopping forgets the history, and operations
    /// that begin while stopped are never in it.
    pub fn record_history(&mut self, on: bool) {
        self.history.set_recording(on, self.next_op + 1);
    }

    /// Moves the operations ended since the last call, in the order they ended, into
    /// `into`; nothing unless kept ([`ClientTable::keep_completions`]).
    pub fn take_completions(&mut self, into: &mut Vec<Completion>) {
        if let Some(completions) = self.completions.as_mut() {
            into.append(completions);
        }
    }

    /// Ends an operation: records the outcome and tells whoever waits. Returns the
    /// operation's latency and request, for its event.
    pub fn finish(
        &mut self,
        op: OpId,
        outcome: &ClientOutcome,
        now_us: u64,
    ) -> Option<(u64, Arc<KvOp>)> {
        let pending = self.pending.remove(op)?;
        self.indexes.remove(op, &pending);
        self.last_end_us = Some(now_us);
        let latency_us = now_us - pending.invoke_us;
        if let Some(record) = self.history.get_mut(op) {
            assert_eq!(
                record.op, op,
                "the history is out of step with operation ids"
            );
            record.outcome = Some(outcome.clone());
            record.response_us = Some(now_us);
            record.may_be_in_log = pending.attempts > pending.not_leader_replies;
        }
        if let Some(completions) = self.completions.as_mut() {
            completions.push(Completion {
                op,
                client: pending.client,
                seq: pending.seq,
                done: matches!(outcome, ClientOutcome::Done { .. }),
            });
        }
        if let Some(waiter) = pending.waiter {
            let result = ClientResult {
                op,
                request: KvOp::clone(&pending.request),
                outcome: outcome.clone(),
                latency_us,
            };
            // The waiter may have given up; nothing to do then.
            let _ = waiter.send(result);
        }
        Some((latency_us, pending.request))
    }

    pub fn is_pending(&self, op: OpId) -> bool {
        self.pending.get(op).is_some()
    }
}

/// The indexes of the operations in progress.
///
/// Invariant: they hold exactly the operations in `ClientTable::pending`, each by its
/// current stage: every one in `wakes`, those to be sent in `to_send` too.
#[derive(Default)]
struct Indexes {
    /// Every operation in progress as (its [`PendingOp::wake_us`], id).
    wakes: TimeIndex,
    /// The operations to be sent, per target node, as (when, id) (the scheduler looks
    /// through them on every round).
    to_send: NodeMap<TimeIndex>,
}

impl Indexes {
    /// Adds an operation, by its stage.
    fn add(&mut self, id: OpId, op: &PendingOp) {
        self.wakes.insert((op.wake_us(), id));
        if let Stage::ToSend { target, at_us } = op.stage {
            (self.to_send.get_or_insert_with(target, TimeIndex::default)).insert((at_us, id));
        }
    }

    /// Takes an operation out, by its stage.
    fn remove(&mut self, id: OpId, op: &PendingOp) {
        let indexed = self.wakes.remove((op.wake_us(), id));
        debug_assert!(indexed, "operation {id} was not indexed");
        if let Stage::ToSend { target, at_us } = op.stage
            && let Some(sends) = self.to_send.get_mut(&target)
        {
            sends.remove((at_us, id));
        }
    }
}

/// How many sorted lanes a [`TimeIndex`] keeps before it inserts in the middle of one.
const LANES: usize = 4;

/// A set of (time, id) pairs, for operations that are mostly added in order of time (each
/// stage's time is the current time, or the current time plus a fixed wait) and taken out
/// near the earliest: a few lanes, each sorted, with a pair added at the end of the lane
/// that ends just before it. Adding is then a push and taking out a search and a removal
/// near the front, where a B-tree would allocate and rebalance.
///
/// Invariant: every lane is sorted, without repeats; no pair is in two lanes; there are at
/// most [`LANES`] lanes; `earliest` is the least pair of all lanes (`None` when empty).
#[derive(Default)]
struct TimeIndex {
    lanes: Vec<VecDeque<(u64, OpId)>>,
    /// The earliest pair, kept as pairs come and go: the scheduler asks for it on every
    /// round, and it changes far less often.
    earliest: Option<(u64, OpId)>,
}

impl TimeIndex {
    /// Adds `key` (not already in the set).
    fn insert(&mut self, key: (u64, OpId)) {
        self.earliest = Some(self.earliest.map_or(key, |earliest| earliest.min(key)));
        let fitting = self
            .lanes
            .iter_mut()
            .filter(|lane| lane.back().is_some_and(|&last| last < key))
            .max_by_key(|lane| lane.back().copied());
        if let Some(lane) = fitting {
            lane.push_back(key);
        } else if let Some(lane) = self.lanes.iter_mut().find(|lane| lane.is_empty()) {
            lane.push_back(key);
        } else if self.lanes.len() < LANES {
            self.lanes.push(VecDeque::from([key]));
        } else {
            let lane = &mut self.lanes[0];
            let position = lane.partition_point(|&pair| pair < key);
            debug_assert_ne!(lane.get(position), Some(&key), "{key:?} added twice");
            lane.insert(position, key);
        }
    }

    /// Takes `key` out; returns whether it was in. Looks at each lane's front first: the
    /// earliest pairs are the ones usually taken out.
    fn remove(&mut self, key: (u64, OpId)) -> bool {
        let found = self
            .lanes
            .iter()
            .position(|lane| lane.front() == Some(&key))
            .map(|number| (number, 0))
            .or_else(|| {
                self.lanes.iter().enumerate().find_map(|(number, lane)| {
                    let within = lane.front().is_some_and(|&first| first < key)
                        && lane.back().is_some_and(|&last| key <= last);
                    let position = within.then(|| lane.binary_search(&key).ok())??;
                    Some((number, position))
                })
            });
        let Some((number, position)) = found else {
            return false;
        };
        // An emptied lane is kept for the next pair that fits no other: an index that
        // empties and fills again (one client) then allocates nothing.
        let lane = &mut self.lanes[number];
        match position {
            0 => lane.pop_front(),
            _ => lane.remove(position),
        };
        if self.earliest == Some(key) {
            self.earliest = (self.lanes.iter())
                .filter_map(|lane| lane.front().copied())
                .min();
        }
        true
    }

    /// The earliest pair.
    fn first(&self) -> Option<(u64, OpId)> {
        self.earliest
    }

    /// Adds to `into` the ids of the pairs whose time is at most `time`, in no particular
    /// order. A plain loop per lane: a flattened iterator cost several times more.
    fn ids_up_to(&self, time: u64, into: &mut Vec<OpId>) {
        for lane in &self.lanes {
            for &(t, id) in lane {
                if t > time {
                    break;
                }
                into.push(id);
            }
        }
    }
}

/// What starting an operation needs besides the request.
pub(crate) struct PendingStart {
    pub now_us: u64,
    pub via: Option<NodeId>,
    pub target: NodeId,
    pub deadline_us: u64,
    pub waiter: Option<Sender<ClientResult>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(table: &mut ClientTable, now_us: u64, target: NodeId) -> OpId {
        let request = Arc::new(KvOp::Put {
            key: "k".into(),
            value: "v".into(),
        });
        let start = PendingStart {
            now_us,
            via: None,
            target,
            deadline_us: 1_000,
            waiter: None,
        };
        table.start(1, 1, request, start)
    }

    /// What the indexes must answer, worked out by visiting every operation in id order.
    fn scanned(table: &ClientTable, node: NodeId, now_us: u64) -> (Vec<OpId>, Vec<OpId>) {
        let ops = table.pending_ops();
        let due = ops
            .iter()
            .copied()
            .filter(|&op| table.get(op).is_some_and(|p| p.wake_us() <= now_us))
            .collect();
        let sendable = ops
            .iter()
            .copied()
            .filter(|&op| {
                table.get(op).is_some_and(|p| {
                    matches!(p.stage(), Stage::ToSend { target, at_us }
                        if target == node && at_us <= now_us)
                })
            })
            .collect();
        (due, sendable)
    }

    #[test]
    fn the_indexes_answer_as_a_scan_of_every_operation_in_id_order_would() {
        let mut table = ClientTable::default();
        let ops: Vec<OpId> = (0..12)
            .map(|i| start(&mut table, i * 10, 1 + i % 3))
            .collect();
        // Later operations wake earlier: the indexes must still yield them in id order.
        for (i, &op) in ops.iter().enumerate().skip(6) {
            let at_us = 200 - i as u64 * 10;
            table.set_stage(op, Stage::ToSend { target: 2, at_us });
        }
        table.set_stage(
            ops[0],
            Stage::Waiting {
                target: 1,
                until_us: 50,
            },
        );
        table.finish(ops[3], &ClientOutcome::TimedOut, 100);
        assert!(!table.set_stage(
            ops[3],
            Stage::Waiting {
                target: 1,
                until_us: 9
            }
        ));
        let mut got = Vec::new();
        for now_us in [0, 40, 95, 150, 2_000] {
            for node in 1..=3 {
                let (due, sendable) = scanned(&table, node, now_us);
                table.due(now_us, &mut got);
                assert_eq!(got, due, "due at {now_us}");
                table.sendable(node, now_us, &mut got);
                assert_eq!(got, sendable, "sendable to n{node} at {now_us}");
                let targets: Vec<NodeId> = table.send_targets(now_us).collect();
                assert_eq!(targets.contains(&node), !sendable.is_empty(), "at {now_us}");
            }
        }
        let wakes = ops
            .iter()
            .filter_map(|&op| table.get(op))
            .map(|p| p.wake_us());
        assert_eq!(table.next_wake_us(), wakes.min());
    }

    /// A small deterministic generator for the tests (xorshift).
    struct Draws(u64);

    impl Draws {
        fn below(&mut self, bound: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % bound
        }
    }

    #[test]
    fn a_time_index_holds_and_yields_what_a_sorted_set_would() {
        let mut draws = Draws(0x2545_f491_4f6c_dd1d);
        let mut index = TimeIndex::default();
        let mut model = std::collections::BTreeSet::new();
        let mut now = 0;
        for id in 0..5_000 {
            now += draws.below(3);
            // Mostly in time order (now, or now plus a wait); now and then anywhere.
            let time = match draws.below(10) {
                0 => draws.below(now + 100),
                1..=4 => now + 50,
                _ => now,
            };
            index.insert((time, id));
            model.insert((time, id));
            // Take out the earliest, a recent one, or one anywhere.
            for _ in 0..draws.below(3) {
                let chosen = match draws.below(4) {
                    0 => model
                        .iter()
                        .nth(draws.below(model.len() as u64 + 1) as usize),
                    1 => model.iter().next_back(),
                    _ => model.iter().next(),
                };
                if let Some(&key) = chosen {
                    assert!(index.remove(key), "{key:?} was in");
                    model.remove(&key);
                }
            }
            assert!(!index.remove((now + 1_000, id)), "never added");
            assert_eq!(index.first(), model.first().copied());
            let bound = now.saturating_sub(draws.below(20));
            let mut got = Vec::new();
            index.ids_up_to(bound, &mut got);
            got.sort_unstable();
            let expected = model.range(..=(bound, OpId::MAX)).map(|&(_, id)| id);
            let mut expected: Vec<OpId> = expected.collect();
            expected.sort_unstable();
            assert_eq!(got, expected, "up to {bound}");
            assert!(index.lanes.len() <= LANES);
        }
    }

    #[test]
    fn operations_that_end_out_of_order_are_found_by_id_until_they_end() {
        let mut table = ClientTable::default();
        let ops: Vec<OpId> = (0..6).map(|i| start(&mut table, i, 1)).collect();
        for &op in [&ops[2], &ops[0], &ops[5]] {
            assert!(table.finish(op, &ClientOutcome::TimedOut, 10).is_some());
            assert!(table.finish(op, &ClientOutcome::TimedOut, 10).is_none());
        }
        assert_eq!(table.pending_ops(), [ops[1], ops[3], ops[4]]);
        assert!(!table.is_pending(ops[0]) && table.is_pending(ops[1]));
        assert!(table.get(ops[5] + 1).is_none() && table.get(0).is_none());
        for &op in [&ops[1], &ops[3], &ops[4]] {
            table.finish(op, &ClientOutcome::TimedOut, 10);
        }
        assert!(table.pending_ops().is_empty());
        let next = start(&mut table, 20, 2);
        assert_eq!(table.pending_ops(), [next]);
        assert_eq!(table.next_wake_us(), Some(20));
    }

    #[test]
    fn a_history_not_recorded_is_empty_and_takes_up_again_with_the_next_operation() {
        let mut table = ClientTable::default();
        let first = start(&mut table, 0, 1);
        table.record_history(false);
        assert!(table.history.is_empty(), "stopping forgets");
        let second = start(&mut table, 0, 1);
        table.finish(first, &ClientOutcome::TimedOut, 5);
        table.finish(second, &ClientOutcome::TimedOut, 5);
        assert!(table.history.is_empty());
        table.record_history(true);
        let third = start(&mut table, 6, 1);
        table.finish(third, &ClientOutcome::TimedOut, 9);
        let recorded: Vec<(OpId, Option<u64>)> = table
            .history
            .iter()
            .map(|r| (r.op, r.response_us))
            .collect();
        assert_eq!(recorded, [(third, Some(9))]);
    }

    #[test]
    fn completions_are_listed_only_while_kept() {
        let mut table = ClientTable::default();
        let first = start(&mut table, 0, 1);
        table.finish(first, &ClientOutcome::TimedOut, 5);
        let mut got = Vec::new();
        table.take_completions(&mut got);
        assert!(got.is_empty());
        table.keep_completions(true);
        let second = start(&mut table, 0, 1);
        table.finish(second, &ClientOutcome::TimedOut, 5);
        table.take_completions(&mut got);
        let expected = Completion {
            op: second,
            client: 1,
            seq: 1,
            done: false,
        };
        assert_eq!(got, vec![expected]);
        table.take_completions(&mut got);
        assert_eq!(got.len(), 1, "taken once");
    }
}
