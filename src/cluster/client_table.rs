//! The clients' side: operations in progress, their retries, and the history of every
//! operation (invoke time, response time, result or unknown) that the checker reads.

use std::collections::BTreeMap;
use std::sync::Arc;

use crossbeam_channel::Sender;

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
    pub stage: Stage,
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
    /// When the operation next needs attention.
    pub fn wake_us(&self) -> u64 {
        let stage_us = match self.stage {
            Stage::ToSend { at_us, .. } => at_us,
            Stage::Waiting { until_us, .. } => until_us,
        };
        stage_us.min(self.deadline_us)
    }
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
        let finished = self
            .records
            .iter()
            .position(|r| r.outcome.is_none())
            .unwrap_or(self.records.len());
        if finished < 4096.max(self.records.len() / 2) {
            return;
        }
        self.records.drain(..finished);
        self.first_op += finished as OpId;
    }

    /// Hands over the finished records before the oldest operation still in progress, for
    /// a caller that checks the history as it grows (the REPL's
    /// [`WindowedHistory`](super::linearizability::WindowedHistory)).
    pub fn take_finished(&mut self) -> Vec<ClientRecord> {
        let finished = self
            .records
            .iter()
            .position(|r| r.outcome.is_none())
            .unwrap_or(self.records.len());
        self.first_op += finished as OpId;
        self.records.drain(..finished).collect()
    }
}

/// Every client operation: those in progress and the history of all.
#[derive(Default)]
pub(crate) struct ClientTable {
    /// Boxed: the tree's nodes stay small enough for the allocator's fast path (a bench
    /// starts and ends hundreds of thousands a second).
    pub pending: BTreeMap<OpId, Box<PendingOp>>,
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
        self.pending.insert(id, Box::new(pending));
        id
    }

    /// When the next operation needs attention.
    pub fn next_wake_us(&self) -> Option<u64> {
        self.pending.values().map(|op| op.wake_us()).min()
    }

    /// Ends an operation: records the outcome and tells whoever waits.
    pub fn finish(
        &mut self,
        op: OpId,
        outcome: ClientOutcome,
        now_us: u64,
    ) -> Option<(u64, Arc<KvOp>)> {
        let pending = *self.pending.remove(&op)?;
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

/// What starting an operation needs besides the request.
pub(crate) struct PendingStart {
    pub now_us: u64,
    pub via: Option<NodeId>,
    pub target: NodeId,
    pub deadline_us: u64,
    pub waiter: Option<Sender<ClientResult>>,
}
