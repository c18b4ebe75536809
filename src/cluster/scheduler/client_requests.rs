//! The clients' side of the scheduler: starting an operation, sending it to a node,
//! following redirects, retrying on silence, and ending it with an outcome.

use std::sync::Arc;

use crossbeam_channel::Sender;

use crate::cluster::ClusterError;
use crate::cluster::client_table::{ClientResult, Completion, PendingStart, Stage};
use crate::cluster::event::{ClientOutcome, EventKind, OpId, Refusal};
use crate::cluster::kv::{ClientId, KvOp};
use crate::cluster::node::{ClientRequest, NodeInput, ReplyResult};
use crate::raft::NodeId;

use super::{CLIENT_BACKOFF_US, Scheduler};

impl Scheduler {
    /// Starts a client operation at the current time. `via` sends it to that node only.
    pub fn submit(
        &mut self,
        request: KvOp,
        via: Option<NodeId>,
        client: Option<(ClientId, u64)>,
        waiter: Option<Sender<ClientResult>>,
    ) -> Result<OpId, ClusterError> {
        if let Some(node) = via {
            self.world.check_node(node)?;
        }
        let (client, seq) = client.unwrap_or_else(|| (self.clients.new_client(), 1));
        let target = via.unwrap_or_else(|| self.guess_leader(0));
        let start = PendingStart {
            now_us: self.now_us,
            via,
            target,
            deadline_us: self.world.config().client_deadline_us,
            waiter,
        };
        let request = Arc::new(request);
        let op = self.clients.start(client, seq, Arc::clone(&request), start);
        self.emit_unsent(|| EventKind::ClientInvoked {
            op,
            client,
            request,
            target,
        });
        Ok(op)
    }

    /// Starts or stops keeping the list of ended operations that
    /// [`Scheduler::take_completions`] hands out; stopping forgets it.
    pub fn keep_completions(&mut self, on: bool) {
        self.clients.keep_completions(on);
    }

    /// Starts or stops recording client operations in the history
    /// ([`Scheduler::history`]; by default they are), for a load that never reads it (a
    /// bench, which checks that the nodes agree): stopping forgets the history, and
    /// operations that begin while stopped are never in it. Nothing else changes.
    pub fn record_history(&mut self, on: bool) {
        self.clients.record_history(on);
    }

    /// Moves the operations ended since the last call, in the order they ended, into
    /// `into`: for a load inside the driver, which then need not scan every event for
    /// its answers. Nothing unless kept ([`Scheduler::keep_completions`]).
    pub fn take_completions(&mut self, into: &mut Vec<Completion>) {
        self.clients.take_completions(into);
    }

    /// Starts client operations that arrive together, at the current time, as one unit:
    /// each is what [`Scheduler::submit`] with no `via` and no waiter would start, and they
    /// are started (and their events emitted) in the order given, but the node they go
    /// to and their deadline are worked out once. Returns their ids.
    pub fn submit_batch(
        &mut self,
        requests: impl IntoIterator<Item = ((ClientId, u64), KvOp)>,
    ) -> std::ops::Range<OpId> {
        let target = self.guess_leader(0);
        let deadline_us = self.world.config().client_deadline_us;
        let mut ops = OpId::MAX..OpId::MAX;
        for ((client, seq), request) in requests {
            let start = PendingStart {
                now_us: self.now_us,
                via: None,
                target,
                deadline_us,
                waiter: None,
            };
            let request = Arc::new(request);
            let op = self.clients.start(client, seq, Arc::clone(&request), start);
            ops = ops.start.min(op)..op + 1;
            self.emit_unsent(|| EventKind::ClientInvoked {
                op,
                client,
                request,
                target,
            });
        }
        ops
    }

    /// A new client id, for callers that run clients of their own.
    pub fn new_client(&mut self) -> ClientId {
        self.clients.new_client()
    }

    pub fn is_pending(&self, op: OpId) -> bool {
        self.clients.is_pending(op)
    }

    /// Whether a client operation ended at this very instant.
    pub fn an_operation_ended_now(&self) -> bool {
        self.clients.last_end_us() == Some(self.now_us)
    }

    /// The operations still waiting for their outcome, in id order.
    pub fn pending_ops(&self) -> impl Iterator<Item = OpId> + '_ {
        self.clients.pending_ops().into_iter()
    }

    /// The node a client should try: the leader if one is known, else a node that is up,
    /// chosen by `attempt` so that retries go round the cluster.
    fn guess_leader(&self, attempt: u64) -> NodeId {
        if let Some(leader) = self.world.leader() {
            return leader;
        }
        let up = || (self.world.slots().iter()).filter(|s| s.running.is_some());
        match up().count() {
            0 => 1,
            count => up()
                .nth((attempt as usize) % count)
                .map_or(1, |slot| slot.id),
        }
    }

    /// Times out operations past their deadline and retries unanswered ones. Inlined
    /// into its round, as this runs on every one: usually nothing is due, and the
    /// earliest wake-up says so.
    #[inline(always)]
    pub(super) fn client_housekeeping(&mut self) {
        if (self.clients.next_wake_us()).is_some_and(|wake_us| wake_us <= self.now_us) {
            self.client_housekeeping_now();
        }
    }

    /// [`Scheduler::client_housekeeping`] once some operation's wake-up is due.
    fn client_housekeeping_now(&mut self) {
        let now = self.now_us;
        let mut due = std::mem::take(&mut self.ops_scratch);
        self.clients.due(now, &mut due);
        for &op in &due {
            let Some(pending) = self.clients.get(op) else {
                continue;
            };
            match pending.stage() {
                _ if pending.deadline_us <= now => self.finish_client(op, ClientOutcome::TimedOut),
                Stage::Waiting { .. } => self.retry_client(op, None, now),
                Stage::ToSend { target, .. } if !self.world.is_up(target) => match pending.via {
                    Some(via) => {
                        let reason = Refusal::NodeDown { node: via };
                        self.finish_client(op, ClientOutcome::Refused { reason })
                    }
                    None if self.world.any_up() => self.retry_client(op, None, now),
                    None => self.retry_client(op, None, now + CLIENT_BACKOFF_US),
                },
                Stage::ToSend { .. } => {}
            }
        }
        self.ops_scratch = due;
    }

    fn retry_client(&mut self, op: OpId, hint: Option<NodeId>, at_us: u64) {
        let target = hint.unwrap_or_else(|| self.guess_leader(op + self.now_us / 1000));
        let Some(pending) = self.clients.get(op) else {
            return;
        };
        let target = pending.via.unwrap_or(target);
        self.clients.set_stage(op, Stage::ToSend { target, at_us });
        self.emit_unsent(|| EventKind::ClientRetried { op, target });
    }

    /// Adds the client requests due now for `node` to `inputs`, in id order, marking them
    /// sent.
    pub(super) fn take_client_requests(&mut self, node: NodeId, inputs: &mut Vec<NodeInput>) {
        let now = self.now_us;
        let until_us = now + self.world.config().client_retry_us;
        let mut due = std::mem::take(&mut self.ops_scratch);
        self.clients.sendable(node, now, &mut due);
        inputs.reserve(due.len());
        for &op in &due {
            self.clients.set_stage(
                op,
                Stage::Waiting {
                    target: node,
                    until_us,
                },
            );
            let Some(pending) = self.clients.get_mut(op) else {
                continue;
            };
            pending.attempts += 1;
            let request = ClientRequest {
                op,
                client: pending.client,
                seq: pending.seq,
                request: pending.request.clone(),
            };
            inputs.push(NodeInput::Client(request));
        }
        self.ops_scratch = due;
    }

    pub(super) fn client_reply(&mut self, node: NodeId, op: OpId, result: ReplyResult) {
        let now = self.now_us;
        let hint_up =
            matches!(result, ReplyResult::NotLeader { leader: Some(l) } if self.world.is_up(l));
        let Some(pending) = self.clients.get_mut(op) else {
            return;
        };
        if matches!(result, ReplyResult::NotLeader { .. }) {
            pending.not_leader_replies += 1;
        }
        let via = pending.via;
        // A redirect is followed at once only to a node that is up, and once an instant:
        // two nodes that name each other (or a leader that is down) would otherwise send
        // the client back and forth forever without the clock moving.
        let redirect_now = hint_up && pending.redirected_us != Some(now);
        if redirect_now {
            pending.redirected_us = Some(now);
        }
        match result {
            ReplyResult::Applied {
                output,
                index,
                term,
            } => self.finish_client(
                op,
                ClientOutcome::Done {
                    output,
                    index,
                    term,
                },
            ),
            ReplyResult::NotLeader { leader } if via.is_some() => {
                let reason = Refusal::NotLeader { node, leader };
                self.finish_client(op, ClientOutcome::Refused { reason })
            }
            ReplyResult::NotLeader {
                leader: Some(leader),
            } if leader != node && redirect_now => self.retry_client(op, Some(leader), now),
            ReplyResult::NotLeader {
                leader: Some(leader),
            } if leader != node => self.retry_client(op, Some(leader), now + CLIENT_BACKOFF_US),
            ReplyResult::NotLeader { .. } | ReplyResult::Lost => {
                self.retry_client(op, None, now + CLIENT_BACKOFF_US)
            }
        }
    }

    fn finish_client(&mut self, op: OpId, outcome: ClientOutcome) {
        let now = self.now_us;
        if let Some((latency_us, request)) = self.clients.finish(op, &outcome, now) {
            self.emit_unsent(|| EventKind::ClientFinished {
                op,
                request,
                outcome,
                latency_us,
            });
        }
    }

    /// Emits an event other than a message sent, built only if someone would see it (see
    /// [`Observers::log_only`](crate::cluster::Observers::log_only)); otherwise only
    /// counts it, as emitting it would.
    #[inline]
    pub(super) fn emit_unsent(&mut self, event: impl FnOnce() -> EventKind) {
        self.observers.emit_unsent(self.now_us, event);
    }
}
