//! The clients' side: operations in progress, their retries, and the history of every
//! operation (invoke time, response time, result or unknown) that the checker reads.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crossbeam_channel::Sender;

use crate::digest::BuildDigest;
use crate::raft::NodeId;

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
/// [`History::take_finished`], those the taker has not taken.
///
/// Invariant: `records[i].op == first_op + i` (operation ids are handed out in order,
/// one record each).
#[derive(Debug)]
pub struct History {
    records: Vec<ClientRecord>,
    first_op: OpId,
}

impl Default for History {
    fn default() -> Self {
        History {
            records: Vec::new(),
            first_op: 1,
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
    fn push(&mut self, record: ClientRecord) {
        debug_assert_eq!(record.op, self.first_op + self.records.len() as OpId);
        self.records.push(record);
    }

    fn get_mut(&mut self, op: OpId) -> Option<&mut ClientRecord> {
        let position = op.checked_sub(self.first_op)?;
        self.records.get_mut(position as usize)
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

/// Every client operation: those in progress and the history of all.
///
/// The operations in progress are kept by id, with two indexes that follow each one's
/// stage, so that nothing the scheduler does per hand-off visits every operation: when
/// each next needs attention (for the next wake-up and housekeeping), and, per target
/// node, which are to be sent and from when. Whatever the indexes yield in a batch is
/// put in id order first, the order the scheduler has always handled operations in.
#[derive(Default)]
pub(crate) struct ClientTable {
    pending: HashMap<OpId, PendingOp, BuildDigest>,
    indexes: Indexes,
    /// The operations ended since the last [`ClientTable::take_completions`], when kept.
    completions: Option<Vec<Completion>>,
    pub history: History,
    next_op: OpId,
    next_client: ClientId,
}

impl ClientTable {
    pub fn new_client(&mut self) -> ClientId {
        self.next_client += 1;
        self.next_client
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
        self.history.push(ClientRecord {
            op: id,
            client,
            request: request.clone(),
            invoke_us: op.now_us,
            outcome: None,
            response_us: None,
            may_be_in_log: false,
        });
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
        let Some(op) = self.pending.get_mut(&id) else {
            return false;
        };
        self.indexes.remove(id, op);
        op.stage = stage;
        self.indexes.add(id, op);
        true
    }

    /// When the next operation needs attention.
    pub fn next_wake_us(&self) -> Option<u64> {
        self.indexes.wakes.first().map(|&(wake_us, _)| wake_us)
    }

    /// The operations that need attention at `now_us` (their wake-up is due), in id order,
    /// into `due` (cleared first).
    pub fn due(&self, now_us: u64, due: &mut Vec<OpId>) {
        due.clear();
        due.extend(
            self.indexes
                .wakes
                .range(..=(now_us, OpId::MAX))
                .map(|&(_, id)| id),
        );
        due.sort_unstable();
    }

    /// The operations to be sent to `node` by `now_us`, in id order, into `due` (cleared
    /// first).
    pub fn sendable(&self, node: NodeId, now_us: u64, due: &mut Vec<OpId>) {
        due.clear();
        if let Some(sends) = self.indexes.to_send.get(&node) {
            due.extend(sends.range(..=(now_us, OpId::MAX)).map(|&(_, id)| id));
            due.sort_unstable();
        }
    }

    /// Every node that operations are to be sent to by `now_us`, in node order.
    pub fn send_targets(&self, now_us: u64) -> impl Iterator<Item = NodeId> + '_ {
        self.indexes
            .to_send
            .iter()
            .filter(move |(_, sends)| sends.first().is_some_and(|&(at_us, _)| at_us <= now_us))
            .map(|(&node, _)| node)
    }

    pub fn get(&self, op: OpId) -> Option<&PendingOp> {
        self.pending.get(&op)
    }

    /// An operation in progress, to change anything but its stage.
    pub fn get_mut(&mut self, op: OpId) -> Option<&mut PendingOp> {
        self.pending.get_mut(&op)
    }

    /// The operations in progress, in id order.
    pub fn pending_ops(&self) -> Vec<OpId> {
        let mut ops: Vec<OpId> = self.pending.keys().copied().collect();
        ops.sort_unstable();
        ops
    }

    /// Starts or stops keeping the list of ended operations (see
    /// [`ClientTable::take_completions`]); stopping forgets it.
    pub fn keep_completions(&mut self, on: bool) {
        self.completions = on.then(Vec::new);
    }

    /// Moves the operations ended since the last call, in the order they ended, into
    /// `into`; nothing unless kept ([`ClientTable::keep_completions`]).
    pub fn take_completions(&mut self, into: &mut Vec<Completion>) {
        if let Some(completions) = self.completions.as_mut() {
            into.append(completions);
        }
    }

    /// Ends an operation: records the outcome and tells whoever waits.
    pub fn finish(
        &mut self,
        op: OpId,
        outcome: ClientOutcome,
        now_us: u64,
    ) -> Option<(u64, Arc<KvOp>)> {
        let pending = self.pending.remove(&op)?;
        self.indexes.remove(op, &pending);
        let request = pending.request.clone();
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
                request: Arc::unwrap_or_clone(pending.request),
                outcome,
                latency_us,
            };
            // The waiter may have given up; nothing to do then.
            let _ = waiter.send(result);
        }
        Some((latency_us, request))
    }

    pub fn is_pending(&self, op: OpId) -> bool {
        self.pending.contains_key(&op)
    }
}

/// The indexes of the operations in progress.
///
/// Invariant: they hold exactly the operations in `ClientTable::pending`, each by its
/// current stage: every one in `wakes`, those to be sent in `to_send` too.
#[derive(Default)]
struct Indexes {
    /// Every operation in progress as (its [`PendingOp::wake_us`], id).
    wakes: BTreeSet<(u64, OpId)>,
    /// The operations to be sent, per target node, as (when, id).
    to_send: BTreeMap<NodeId, BTreeSet<(u64, OpId)>>,
}

impl Indexes {
    /// Adds an operation, by its stage.
    fn add(&mut self, id: OpId, op: &PendingOp) {
        self.wakes.insert((op.wake_us(), id));
        if let Stage::ToSend { target, at_us } = op.stage {
            self.to_send.entry(target).or_default().insert((at_us, id));
        }
    }

    /// Takes an operation out, by its stage.
    fn remove(&mut self, id: OpId, op: &PendingOp) {
        let indexed = self.wakes.remove(&(op.wake_us(), id));
        debug_assert!(indexed, "operation {id} was not indexed");
        if let Stage::ToSend { target, at_us } = op.stage
            && let Some(sends) = self.to_send.get_mut(&target)
        {
            sends.remove(&(at_us, id));
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
        table.finish(ops[3], ClientOutcome::TimedOut, 100);
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

    #[test]
    fn completions_are_listed_only_while_kept() {
        let mut table = ClientTable::default();
        let first = start(&mut table, 0, 1);
        table.finish(first, ClientOutcome::TimedOut, 5);
        let mut got = Vec::new();
        table.take_completions(&mut got);
        assert!(got.is_empty());
        table.keep_completions(true);
        let second = start(&mut table, 0, 1);
        table.finish(second, ClientOutcome::TimedOut, 5);
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
