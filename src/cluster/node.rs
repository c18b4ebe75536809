//! One node: its EventDispatcher and LogSynchronizer, on a thread of its own.
//!
//! The driver hands a node a batch of inputs due at one instant through the node's
//! crossbeam inbox and waits for its [`NodeReport`]. The [`EventDispatcher`] feeds each
//! input to the [`RaftProcessor`], writes what must be durable to the node's [`Storage`]
//! before any message leaves, and gathers the messages, events and client replies. The
//! [`LogSynchronizer`] collects client commands in the node's [`LogBuffer`], drains it
//! into one proposal per batch, and applies committed entries in order to the key-value
//! state machine, answering the clients that wait for them. With `reads: read-index` (or
//! `lease`), a `get` skips the log: the LogSynchronizer hands the buffered reads to Raft as one
//! `Input::Read` and answers each from the state machine when Raft says it is ready
//! (confirmed leader, read index applied), or refuses it.

use std::collections::{BTreeMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvError, RecvTimeoutError, Sender, TryRecvError};

use crate::raft::{
    Bug, Command, Entry, Envelope, Index, Input, NodeId, NodeView, Payload, ProposeError,
    RaftConfig, RaftProcessor, ReadId, ReadMode, ReadState, Role, Snapshot, Storage, Term,
};

use super::checker::{StepTrace, Volatile};
use super::event::OpId;
use super::kv::{ClientId, KvOp, KvOutput, KvRequest, KvStateMachine};

/// Locks a mutex shared with a node thread. A node that panicked while holding the lock
/// leaves the data as it was at the panic, which observers may still read.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A client request addressed to a node.
#[derive(Clone, Debug)]
pub(crate) struct ClientRequest {
    pub op: OpId,
    pub client: ClientId,
    /// The client's sequence number, which every attempt keeps.
    pub seq: u64,
    /// Shared with the client table: handing a request to a node copies nothing.
    pub request: Arc<KvOp>,
}

impl ClientRequest {
    /// The request as the shared bytes of a log entry: encoded in `scratch` (a buffer
    /// reused for every request), then copied once into bytes of exactly their length.
    fn command(&self, scratch: &mut Vec<u8>) -> Command {
        scratch.clear();
        KvRequest::encode_parts_into(self.client, self.seq, &self.request, scratch);
        Command::from(&scratch[..])
    }
}

/// What a node tells a waiting client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ReplyResult {
    /// The request was applied at `index` in `term`.
    Applied {
        output: KvOutput,
        index: Index,
        term: Term,
    },
    /// The node is not the leader.
    NotLeader { leader: Option<NodeId> },
    /// The request's entry was replaced by another leader's entry before it committed.
    Lost,
}

#[derive(Clone, Debug)]
pub(crate) struct ClientReply {
    pub op: OpId,
    pub result: ReplyResult,
}

/// One input to a node.
#[derive(Clone, Debug)]
pub(crate) enum NodeInput {
    /// A message, shared with the events that name it: taken out of the share as the
    /// node receives it (copied only if an event is still kept).
    Deliver(Arc<Envelope>),
    Tick,
    Client(ClientRequest),
    Campaign,
    /// Hand the leadership (of a leader) to this node.
    TransferLeader(NodeId),
    /// Take a snapshot of the state machine now and compact the log (`snapshot NODE`).
    Snapshot,
    /// Panic on purpose (fault injection).
    Panic(String),
    /// Add this node to the cluster (at the leader).
    AddNode(NodeId),
    /// Remove this node from the cluster (at the leader).
    RemoveNode(NodeId),
}

/// What the driver sends a node thread.
pub(crate) enum ToNode {
    /// Inputs due at `now_us`, and the report to fill with what they cause: one the
    /// driver has processed before, its lists emptied and their room kept (boxed, so
    /// that a report moves as a pointer).
    Batch {
        now_us: u64,
        inputs: Vec<NodeInput>,
        report: Box<NodeReport>,
        /// Whether the nodes run in parallel (`Scheduler::set_parallel`): the node then
        /// waits for its next batch as [`receive`] adapts.
        parallel: bool,
    },
    Stop,
}

/// What one batch caused on a node. Reports go round between the driver and the nodes
/// ([`ToNode::Batch`]): once processed, a report's lists, emptied, hold the next batch's
/// outputs without allocating again.
#[derive(Clone, Debug, Default)]
pub(crate) struct NodeReport {
    pub node: NodeId,
    pub messages: Vec<Envelope>,
    /// Each step of the batch, in order.
    pub steps: Steps,
    pub replies: Vec<ClientReply>,
    pub next_deadline_us: u64,
    /// The node's view once the batch is done, if it changed since the node last showed
    /// one (in a report, or when it started); `None` if it did not, and always `None`
    /// from a node hosted inline (see [`EventDispatcher::read_views_inline`]).
    pub view: Option<NodeView>,
    /// The batch's list of inputs, emptied: handed back, so that its room carries the
    /// next batch.
    pub inputs: Vec<NodeInput>,
}

/// The steps of a batch, in order, as the checker reads them. The traces outlive the
/// batch: cleared, each keeps its lists and their room, which the next batch's steps
/// trade with the processor's emptied ones ([`EventDispatcher::publish`]), so that a
/// step in a steady run allocates nothing on either side.
#[derive(Clone, Debug, Default)]
pub(crate) struct Steps {
    /// Invariant: the first `len` are the batch's steps; the rest have empty lists.
    traces: Vec<StepTrace>,
    len: usize,
}

/// The most elements a cleared list of a step keeps room for: one that grew larger (a
/// node catching up applies thousands of entries in one step) lets its room go.
const STEP_ROOM_KEPT: usize = 1024;

impl Steps {
    /// Empties the steps, keeping them and their lists' room for the next batch.
    #[inline]
    pub fn clear(&mut self) {
        for step in &mut self.traces[..self.len] {
            clear_keeping_room(&mut step.writes);
            clear_keeping_room(&mut step.applied);
            clear_keeping_room(&mut step.events);
        }
        self.len = 0;
    }

    /// A step after the last one, that left the node in state `after`, its lists empty
    /// for the caller to fill.
    fn push(&mut self, after: Volatile) -> &mut StepTrace {
        if self.len == self.traces.len() {
            self.traces.push(StepTrace {
                writes: Vec::new(),
                applied: Vec::new(),
                events: Vec::new(),
                after,
            });
        }
        let step = &mut self.traces[self.len];
        self.len += 1;
        step.after = after;
        step
    }
}

/// Empties `list`, keeping its room unless it has grown past [`STEP_ROOM_KEPT`].
#[inline]
fn clear_keeping_room<T>(list: &mut Vec<T>) {
    // Most steps leave one list or two empty: those have nothing to let go.
    if !list.is_empty() {
        list.clear();
    }
    if list.capacity() > STEP_ROOM_KEPT {
        list.shrink_to(STEP_ROOM_KEPT);
    }
}

impl std::ops::Deref for Steps {
    type Target = [StepTrace];

    fn deref(&self) -> &[StepTrace] {
        &self.traces[..self.len]
    }
}

/// What a node thread sends the driver.
pub(crate) enum FromNode {
    Report(Box<NodeReport>),
    Crashed { node: NodeId, message: String },
}

/// Client commands waiting to be proposed.
#[derive(Debug, Default)]
pub(crate) struct LogBuffer {
    requests: Vec<ClientRequest>,
}

/// A client waiting for the entry at an index.
#[derive(Clone, Copy, Debug)]
struct Waiter {
    op: OpId,
    term: Term,
}

/// The clients waiting for entries, by index. A leader proposes at the end of its log and
/// applies from the front, so a queue in index order serves both ends without a search; an
/// index out of that order (a node that leads again before it applied what it proposed
/// before) is placed by a binary search.
#[derive(Debug, Default)]
struct Waiters {
    /// Invariant: sorted by index, each index at most once.
    queue: VecDeque<(Index, Waiter)>,
}

impl Waiters {
    /// Sets the waiter of `index`, replacing the one there if any.
    fn insert(&mut self, index: Index, waiter: Waiter) {
        match self.queue.back() {
            Some(&(last, _)) if last >= index => {
                match self.queue.binary_search_by_key(&index, |&(at, _)| at) {
                    Ok(position) => self.queue[position].1 = waiter,
                    Err(position) => self.queue.insert(position, (index, waiter)),
                }
            }
            _ => self.queue.push_back((index, waiter)),
        }
    }

    /// Takes the waiter of `index`, if there is one.
    fn remove(&mut self, index: Index) -> Option<Waiter> {
        let &(first, _) = self.queue.front()?;
        if first == index {
            return self.queue.pop_front().map(|(_, waiter)| waiter);
        }
        if first > index {
            return None;
        }
        let position = (self.queue)
            .binary_search_by_key(&index, |&(at, _)| at)
            .ok()?;
        self.queue.remove(position).map(|(_, waiter)| waiter)
    }

    /// Takes every waiter of an index up to `index`, in index order.
    fn take_through(&mut self, index: Index) -> Vec<Waiter> {
        let count = self.queue.partition_point(|&(at, _)| at <= index);
        self.queue
            .drain(..count)
            .map(|(_, waiter)| waiter)
            .collect()
    }
}

/// Moves client commands from the LogBuffer into the Raft log and applies committed
/// entries to the state machine.
pub(crate) struct LogSynchronizer {
    buffer: LogBuffer,
    waiting: Waiters,
    state_machine: Arc<Mutex<KvStateMachine>>,
    /// ReadIndex reads not yet handed to Raft.
    reads_buffer: Vec<ClientRequest>,
    /// ReadIndex reads handed to Raft, by the id Raft knows them by.
    reads_waiting: BTreeMap<ReadId, ClientRequest>,
    next_read_id: ReadId,
}

impl LogSynchronizer {
    fn new(state_machine: Arc<Mutex<KvStateMachine>>) -> LogSynchronizer {
        LogSynchronizer {
            reads_buffer: Vec::new(),
            reads_waiting: BTreeMap::new(),
            next_read_id: 0,
            buffer: LogBuffer::default(),
            waiting: Waiters::default(),
            state_machine,
        }
    }

    fn push(&mut self, request: ClientRequest) {
        self.buffer.requests.push(request);
    }

    /// Teaching bug `leader-local-reads`: a leader answers a read from its own state
    /// machine at once, without a log entry that would show it still leads. Returns the
    /// request back when it is not such a read.
    fn read_locally(
        &mut self,
        request: ClientRequest,
        at: (Index, Term),
        replies: &mut Vec<ClientReply>,
    ) -> Option<ClientRequest> {
        let KvOp::Get { key } = &*request.request else {
            return Some(request);
        };
        let value = lock(&self.state_machine).map().get(key).map(str::to_string);
        let (index, term) = at;
        replies.push(ClientReply {
            op: request.op,
            result: ReplyResult::Applied {
                output: KvOutput::Value(value),
                index,
                term,
            },
        });
        None
    }

    /// Takes every buffered ReadIndex read, named for Raft.
    fn drain_reads(&mut self) -> Vec<ReadId> {
        let mut ids = Vec::new();
        // Usually none. Drained in place otherwise: the buffer keeps its room.
        if self.reads_buffer.is_empty() {
            return ids;
        }
        for request in self.reads_buffer.drain(..) {
            let id = self.next_read_id;
            self.next_read_id += 1;
            self.reads_waiting.insert(id, request);
            ids.push(id);
        }
        ids
    }

    /// Answers the reads Raft released: from the state machine, which has applied their
    /// index (entries are applied before this is called), or with a refusal.
    fn answer_reads(&mut self, reads: &[ReadState], term: Term, replies: &mut Vec<ClientReply>) {
        for read in reads {
            let (ReadState::Ready { id, .. } | ReadState::Refused { id, .. }) = read;
            let Some(request) = self.reads_waiting.remove(id) else {
                continue;
            };
            let result = match (read, &*request.request) {
                (ReadState::Ready { index, .. }, KvOp::Get { key }) => {
                    let value = lock(&self.state_machine).map().get(key).map(str::to_string);
                    ReplyResult::Applied {
                        output: KvOutput::Value(value),
                        index: *index,
                        term,
                    }
                }
                (ReadState::Refused { leader, .. }, _) => {
                    ReplyResult::NotLeader { leader: *leader }
                }
                (ReadState::Ready { .. }, _) => unreachable!("only gets are read by ReadIndex"),
            };
            replies.push(ClientReply {
                op: request.op,
                result,
            });
        }
    }

    /// Takes every buffered command, as the one batch to propose, if there is any. The
    /// batch's list comes back, emptied, in [`LogSynchronizer::proposed`]; with none, the
    /// buffer keeps its list and its room.
    fn drain(&mut self) -> Option<Vec<ClientRequest>> {
        if self.buffer.requests.is_empty() {
            return None;
        }
        Some(std::mem::take(&mut self.buffer.requests))
    }

    /// Records where a proposal's commands went, or refuses them all. The batch's list,
    /// emptied, becomes the buffer again (empty since [`LogSynchronizer::drain`]), so that
    /// its room carries the next batch.
    fn proposed(
        &mut self,
        mut batch: Vec<ClientRequest>,
        result: Option<Result<crate::raft::Proposed, ProposeError>>,
        replies: &mut Vec<ClientReply>,
    ) {
        match result {
            Some(Ok(proposed)) => {
                for (index, request) in (proposed.first_index..).zip(batch.drain(..)) {
                    let waiter = Waiter {
                        op: request.op,
                        term: proposed.term,
                    };
                    self.waiting.insert(index, waiter);
                }
            }
            Some(Err(error)) => {
                // A leader handing over its leadership points the client at the target.
                let leader = match error {
                    ProposeError::NotLeader { leader } => leader,
                    ProposeError::Transferring { target } => Some(target),
                    _ => None,
                };
                for request in batch.drain(..) {
                    let result = ReplyResult::NotLeader { leader };
                    replies.push(ClientReply {
                        op: request.op,
                        result,
                    });
                }
            }
            None => unreachable!("a proposal always has a result"),
        }
        self.buffer.requests = batch;
    }

    /// The state machine as snapshot bytes.
    fn snapshot_data(&self) -> Vec<u8> {
        lock(&self.state_machine).encode()
    }

    /// Replaces the state machine with a snapshot's. Clients waiting for an entry the
    /// snapshot covers cannot learn what became of it here: their entries are lost to them.
    fn restore(&mut self, snapshot: &Snapshot, replies: &mut Vec<ClientReply>) {
        let state = KvStateMachine::decode(&snapshot.data)
            .unwrap_or_else(|_| panic!("snapshot {} does not decode", snapshot.index));
        *lock(&self.state_machine) = state;
        for waiter in self.waiting.take_through(snapshot.index) {
            let result = ReplyResult::Lost;
            replies.push(ClientReply {
                op: waiter.op,
                result,
            });
        }
    }

    /// Applies committed entries in order and answers the clients waiting for them.
    fn apply(&mut self, committed: &[Entry], replies: &mut Vec<ClientReply>) {
        // Most steps commit nothing: they need not take the lock.
        if committed.is_empty() {
            return;
        }
        let mut state_machine = lock(&self.state_machine);
        for entry in committed {
            let output = match &entry.payload {
                Payload::Command(bytes) => state_machine.apply_encoded(bytes),
                Payload::Noop | Payload::Config(_) => None,
            };
            let Some(waiter) = self.waiting.remove(entry.index) else {
                continue;
            };
            let result = match output {
                Some(output) if waiter.term == entry.term => ReplyResult::Applied {
                    output,
                    index: entry.index,
                    term: entry.term,
                },
                _ => ReplyResult::Lost,
            };
            replies.push(ClientReply {
                op: waiter.op,
                result,
            });
        }
    }
}

/// Takes in a node's inputs, hands them to Raft, and publishes what Raft emits.
pub(crate) struct EventDispatcher {
    processor: RaftProcessor,
    storage: Arc<Mutex<Storage>>,
    sync: LogSynchronizer,
    /// Teaching bug `leader-local-reads` is on.
    local_reads: bool,
    /// `get`s are served by ReadIndex or under a lease, not through the log.
    read_index: bool,
    /// Take a snapshot once this many entries were applied since the last; 0 never.
    snapshot_every: u64,
    /// Where each client request is encoded before its bytes are shared.
    encode_buffer: Vec<u8>,
    /// The view the node last showed the scheduler: a report sends a new one only when
    /// the node's state moved from it.
    shown: NodeView,
    /// Whether a report carries the view when it changed (on a thread); otherwise (inline)
    /// `shown` is not kept, and [`EventDispatcher::view`] builds the view when asked.
    reports_views: bool,
}

impl EventDispatcher {
    /// A node rebuilt from its durable storage at `now_us`.
    pub fn new(
        id: NodeId,
        voters: &[NodeId],
        config: RaftConfig,
        storage: Arc<Mutex<Storage>>,
        state_machine: Arc<Mutex<KvStateMachine>>,
        seed: u64,
        now_us: u64,
    ) -> EventDispatcher {
        let local_reads = config.has_bug(Bug::LeaderLocalReads);
        let read_index = config.reads != ReadMode::Log;
        let snapshot_every = config.snapshot_every;
        let processor = RaftProcessor::new(id, voters, config, &lock(&storage), seed, now_us);
        let mut sync = LogSynchronizer::new(state_machine);
        // The processor starts with what the snapshot covers applied: so must the state
        // machine.
        if let Some(snapshot) = &lock(&storage).snapshot {
            sync.restore(snapshot, &mut Vec::new());
        }
        EventDispatcher {
            shown: processor.view(),
            processor,
            storage,
            sync,
            local_reads,
            read_index,
            snapshot_every,
            encode_buffer: Vec::new(),
            reports_views: true,
        }
    }

    /// The node's view, as it shows it: up to date between batches.
    pub fn view(&self) -> NodeView {
        match self.reports_views {
            true => self.shown.clone(),
            false => self.processor.view(),
        }
    }

    /// The node's role and term (as its view shows them), without building the view.
    pub fn role_and_term(&self) -> (Role, Term) {
        (self.processor.role(), self.processor.term())
    }

    /// The voters of the node's latest configuration, sorted, without building the view.
    pub fn voters(&self) -> &[NodeId] {
        self.processor.voters()
    }

    /// Stops sending the view in reports, for a node hosted inline: the scheduler reads
    /// it from the node ([`EventDispatcher::view`]) when it needs one, rather than have
    /// the node build one after almost every batch.
    pub fn read_views_inline(&mut self) {
        self.reports_views = false;
    }

    pub fn next_deadline_us(&self) -> u64 {
        self.processor.next_deadline_us()
    }

    /// Handles a batch of inputs due at `now_us`, then proposes what the clients sent.
    /// What they caused goes into `report`, emptied first (its lists keep their room);
    /// `inputs` is left empty, and `report.inputs` is not touched.
    pub fn handle(&mut self, now_us: u64, inputs: &mut Vec<NodeInput>, report: &mut NodeReport) {
        report.node = self.processor.id();
        report.messages.clear();
        report.steps.clear();
        report.replies.clear();
        report.view = None;
        // Each input is taken out in place, a tick left behind, and the list emptied after.
        for slot in inputs.iter_mut() {
            let raft_input = match std::mem::replace(slot, NodeInput::Tick) {
                NodeInput::Deliver(envelope) => Input::Message(envelope),
                NodeInput::Tick => Input::Tick,
                NodeInput::Campaign => Input::Campaign,
                NodeInput::TransferLeader(target) => Input::TransferLeader(target),
                NodeInput::Snapshot => self.snapshot_input(),
                NodeInput::AddNode(node) => Input::AddNode(node),
                NodeInput::RemoveNode(node) => Input::RemoveNode(node),
                NodeInput::Panic(message) => panic!("{message}"),
                NodeInput::Client(request) => {
                    self.take_client(request, &mut report.replies);
                    continue;
                }
            };
            self.step(now_us, raft_input, report);
            self.maybe_snapshot(now_us, report);
        }
        inputs.clear();
        let reads = self.sync.drain_reads();
        if !reads.is_empty() {
            self.step(now_us, Input::Read(reads), report);
        }
        if let Some(batch) = self.sync.drain() {
            let scratch = &mut self.encode_buffer;
            let commands = batch.iter().map(|r| r.command(scratch)).collect();
            let input = Input::Propose(commands);
            self.processor.step_in_place(now_us, input);
            let result = self.processor.outputs_mut().proposal.take();
            self.sync.proposed(batch, result, &mut report.replies);
            self.publish(report);
            self.maybe_snapshot(now_us, report);
        }
        report.next_deadline_us = self.processor.next_deadline_us();
        if !self.reports_views {
            // Hosted inline: the scheduler reads the view when it needs one.
            return;
        }
        // The whole view at most once per batch (its steps carry only what the checker
        // reads), and only when it changed.
        if !self.processor.view_is_current(&self.shown) {
            self.shown = self.processor.view();
            report.view = Some(self.shown.clone());
        }
    }

    /// Handles a batch as [`EventDispatcher::handle`] does, on a node's thread or inline,
    /// catching a panic (an assert of the Raft core) as the node's crash: its message. The
    /// batch's list, emptied, goes back with the report, for the next batch.
    pub fn handle_caught(
        &mut self,
        now_us: u64,
        mut inputs: Vec<NodeInput>,
        mut report: Box<NodeReport>,
    ) -> Result<Box<NodeReport>, String> {
        match catch_quietly(|| self.handle(now_us, &mut inputs, &mut report)) {
            Ok(()) => {
                report.inputs = inputs;
                Ok(report)
            }
            Err(panic) => Err(panic_message(&*panic)),
        }
    }

    /// A snapshot of the state machine at the applied index, for the processor.
    fn snapshot_input(&self) -> Input {
        Input::Snapshot {
            index: self.processor.applied(),
            data: self.sync.snapshot_data(),
        }
    }

    /// Takes a snapshot once `snapshot_every` entries were applied since the last one.
    fn maybe_snapshot(&mut self, now_us: u64, report: &mut NodeReport) {
        if self.snapshot_every == 0 {
            return;
        }
        let since = self.processor.applied() - self.processor.snapshot().index;
        if since < self.snapshot_every {
            return;
        }
        self.step(now_us, self.snapshot_input(), report);
    }

    /// Buffers a client request to propose, or answers it at once (a teaching bug).
    fn take_client(&mut self, request: ClientRequest, replies: &mut Vec<ClientReply>) {
        let request = if self.local_reads && self.processor.role() == Role::Leader {
            let at = (self.processor.commit(), self.processor.term());
            self.sync.read_locally(request, at, replies)
        } else {
            Some(request)
        };
        match request {
            Some(request) if self.read_index && matches!(*request.request, KvOp::Get { .. }) => {
                self.sync.reads_buffer.push(request)
            }
            Some(request) => self.sync.push(request),
            None => {}
        }
    }

    /// Hands `input` to Raft and publishes what it caused.
    fn step(&mut self, now_us: u64, input: Input, report: &mut NodeReport) {
        self.processor.step_in_place(now_us, input);
        self.publish(report);
    }

    /// Durable writes first, then the rest of the last step's outputs, which stay in the
    /// processor: the lists that go on in the report are swapped for the report's empty
    /// ones, and the rest keep their room for the next step.
    fn publish(&mut self, report: &mut NodeReport) {
        let term = self.processor.term();
        let after = Volatile {
            role: self.processor.role(),
            term,
            commit: self.processor.commit(),
            applied: self.processor.applied(),
        };
        let outputs = self.processor.outputs_mut();
        if !outputs.writes.is_empty() {
            let mut storage = lock(&self.storage);
            for write in &outputs.writes {
                storage.apply(write);
            }
        }
        if let Some(snapshot) = outputs.restore.take() {
            self.sync.restore(&snapshot, &mut report.replies);
        }
        self.sync.apply(&outputs.committed, &mut report.replies);
        self.sync
            .answer_reads(&outputs.reads, term, &mut report.replies);
        if report.messages.is_empty() {
            // Usually one step of a batch sends: its vector is swapped in whole, not
            // copied, and the report's empty one holds the next step's messages.
            std::mem::swap(&mut report.messages, &mut outputs.messages);
        } else {
            report.messages.append(&mut outputs.messages);
        }
        // Most steps leave one list or two empty: those need no swap.
        let step = report.steps.push(after);
        swap_if_any(&mut step.writes, &mut outputs.writes);
        swap_if_any(&mut step.applied, &mut outputs.committed);
        swap_if_any(&mut step.events, &mut outputs.events);
    }
}

/// Swaps the empty list `into` for `from` if `from` holds anything; both keep their room.
#[inline]
fn swap_if_any<T>(into: &mut Vec<T>, from: &mut Vec<T>) {
    debug_assert!(into.is_empty());
    if !from.is_empty() {
        std::mem::swap(into, from);
    }
}

/// Runs a node's dispatcher on a thread of its own until told to stop. A panic inside
/// the node is caught and reported as a crash; the thread then ends.
pub(crate) fn spawn(
    id: NodeId,
    mut dispatcher: EventDispatcher,
    inbox: Receiver<ToNode>,
    reports: Sender<FromNode>,
) -> std::io::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name(format!("n{id}"))
        .spawn(move || {
            let mut parallel = false;
            while let Ok(ToNode::Batch {
                now_us,
                inputs,
                report,
                parallel: batch_parallel,
            }) = receive(&inbox, None, parallel)
            {
                parallel = batch_parallel;
                let message = match dispatcher.handle_caught(now_us, inputs, report) {
                    Ok(report) => FromNode::Report(report),
                    Err(message) => FromNode::Crashed { node: id, message },
                };
                let crashed = matches!(message, FromNode::Crashed { .. });
                if reports.send(message).is_err() || crashed {
                    return;
                }
            }
        })
}

/// How long a thread on either side of a hand-off polls for the other's word before it
/// sleeps until the word comes. Under load the word often follows within microseconds,
/// sooner than sleeping and being woken again takes.
pub(crate) const HANDOFF_POLL: Duration = Duration::from_micros(50);

/// How often, lately, a thread's word came within [`HANDOFF_POLL`]: a score out of
/// [`SCORE_FULL`] that each wait moves an eighth of the way towards full (the word came in
/// time) or empty (it came later).
const SCORE_FULL: u32 = 1 << 10;

thread_local! {
    /// This thread's [`SCORE_FULL`]-based score. Each thread waits on one channel (a node
    /// thread on its inbox, the scheduler on the reports), so the score is that channel's.
    static PROMPT_SCORE: std::cell::Cell<u32> = const { std::cell::Cell::new(SCORE_FULL) };
}

/// Waits for the next word on `channel`, for at most `limit` (forever if `None`).
///
/// The thread polls for [`HANDOFF_POLL`] first, yielding the processor to whoever needs
/// it, then sleeps. With `adaptive` (the nodes run in parallel), a thread whose words
/// mostly came later than that (a follower between rounds of replication) sleeps at once,
/// since polling would only burn the time another thread could use. Not when the nodes
/// run one at a time: there every hand-off waits for this word, and a thread that sleeps
/// makes the next wait longer still (woken, it answers later), so its score would only
/// fall. Either way the word is the same: this decides only how the thread waits, never
/// what it receives.
pub(crate) fn receive<T>(
    channel: &Receiver<T>,
    limit: Option<Duration>,
    adaptive: bool,
) -> Result<T, RecvTimeoutError> {
    let started = Instant::now();
    let score = PROMPT_SCORE.with(|score| score.get());
    let patient = !adaptive || score >= SCORE_FULL / 2;
    let word = match poll(channel, started, patient) {
        Ok(Some(word)) => Ok(word),
        Ok(None) => match limit {
            Some(limit) => channel.recv_timeout(limit.saturating_sub(started.elapsed())),
            None => channel.recv().map_err(|_| RecvTimeoutError::Disconnected),
        },
        Err(RecvError) => Err(RecvTimeoutError::Disconnected),
    };
    if adaptive {
        let prompt = started.elapsed() <= HANDOFF_POLL;
        let score = score - score / 8 + if prompt { SCORE_FULL / 8 } else { 0 };
        PROMPT_SCORE.with(|cell| cell.set(score));
    }
    word
}

/// Takes the word on `channel` if there is one; with `patient`, polls for it until
/// [`HANDOFF_POLL`] after `started`. `None` if none came.
fn poll<T>(channel: &Receiver<T>, started: Instant, patient: bool) -> Result<Option<T>, RecvError> {
    let poll_until = started + HANDOFF_POLL;
    loop {
        match channel.try_recv() {
            Ok(word) => return Ok(Some(word)),
            Err(TryRecvError::Disconnected) => return Err(RecvError),
            Err(TryRecvError::Empty) if patient && Instant::now() < poll_until => {
                thread::yield_now()
            }
            Err(TryRecvError::Empty) => return Ok(None),
        }
    }
}

thread_local! {
    /// Whether this thread is inside [`catch_quietly`].
    static CATCHING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs a node's step, catching a panic (an assert of the Raft core) as the node's crash.
/// The panic is not printed where it happens: the cluster reports the crash once, with
/// its message, where it is shown (the node's status, a check's failure, a scenario's
/// end). Without this, the default hook would print the panic and a backtrace note on
/// every replay of a failing run while it is shrunk. Panics anywhere else are printed as
/// before: the quiet hook hands them to the hook it replaced.
pub(crate) fn catch_quietly<R>(work: impl FnOnce() -> R) -> std::thread::Result<R> {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CATCHING.with(|catching| catching.get()) {
                previous(info);
            }
        }));
    });
    let was = CATCHING.with(|catching| catching.replace(true));
    let outcome = catch_unwind(AssertUnwindSafe(work));
    CATCHING.with(|catching| catching.set(was));
    outcome
}

pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        text.to_string()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "panic with a non-text payload".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::RaftEvent;

    fn waiter(op: OpId) -> Waiter {
        Waiter { op, term: 1 }
    }

    fn ops(waiters: &Waiters) -> Vec<(Index, OpId)> {
        waiters
            .queue
            .iter()
            .map(|&(index, w)| (index, w.op))
            .collect()
    }

    #[test]
    fn a_word_is_received_however_the_thread_waits() {
        let (tx, rx) = crossbeam_channel::unbounded();
        // A thread whose words came late sleeps at once when it adapts; one whose words
        // came in time, or one that does not adapt, polls first. Either way it gets the
        // word waiting for it, in order.
        for (score, adaptive) in [(0, true), (SCORE_FULL, true), (0, false)] {
            PROMPT_SCORE.with(|cell| cell.set(score));
            tx.send(1).unwrap();
            tx.send(2).unwrap();
            assert_eq!(receive(&rx, None, adaptive), Ok(1));
            assert_eq!(receive(&rx, Some(Duration::from_secs(1)), adaptive), Ok(2));
        }
        // A word that was waiting counts as prompt, when the thread adapts; otherwise
        // the score is left alone.
        PROMPT_SCORE.with(|cell| cell.set(0));
        tx.send(3).unwrap();
        assert_eq!(receive(&rx, None, false), Ok(3));
        assert_eq!(PROMPT_SCORE.with(|cell| cell.get()), 0);
        tx.send(4).unwrap();
        assert_eq!(receive(&rx, None, true), Ok(4));
        assert_eq!(PROMPT_SCORE.with(|cell| cell.get()), SCORE_FULL / 8);
        // Nothing comes: the limit ends the wait; a closed channel ends it at once.
        assert_eq!(
            receive(&rx, Some(Duration::ZERO), true),
            Err(RecvTimeoutError::Timeout)
        );
        drop(tx);
        assert_eq!(
            receive(&rx, None, false),
            Err(RecvTimeoutError::Disconnected)
        );
    }

    #[test]
    fn cleared_steps_are_empty_and_keep_their_room_up_to_a_bound() {
        let after = Volatile {
            role: Role::Follower,
            term: 2,
            commit: 5,
            applied: 5,
        };
        let event = RaftEvent::LeaderKnown { term: 2, leader: 1 };
        let entry = Entry {
            index: 5,
            term: 2,
            payload: Payload::Noop,
        };
        let mut steps = Steps::default();
        steps
            .push(after)
            .events
            .extend([event.clone(), event.clone()]);
        let large = steps.push(after);
        large.applied.reserve_exact(4 * STEP_ROOM_KEPT);
        large.applied.push(entry.clone());
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0].events, [event.clone(), event]);
        assert_eq!(steps[1].applied, [entry]);

        steps.clear();
        assert!(steps.is_empty());
        let first = steps.push(Volatile { term: 3, ..after });
        assert!(first.events.is_empty());
        assert!(first.events.capacity() >= 2);
        assert_eq!(first.after.term, 3);
        let second = steps.push(after);
        assert!(second.applied.is_empty());
        assert!(second.applied.capacity() <= STEP_ROOM_KEPT);
        assert_eq!(steps.len(), 2);
    }

    #[test]
    fn waiters_keep_index_order_and_one_waiter_per_index() {
        let mut waiters = Waiters::default();
        for (index, op) in [(5, 50), (6, 60), (9, 90), (7, 70), (6, 61)] {
            waiters.insert(index, waiter(op));
        }
        assert_eq!(ops(&waiters), [(5, 50), (6, 61), (7, 70), (9, 90)]);
        // Applied in order: the front answers; an index nobody waits for takes nothing.
        assert_eq!(waiters.remove(4).map(|w| w.op), None);
        assert_eq!(waiters.remove(5).map(|w| w.op), Some(50));
        assert_eq!(waiters.remove(8).map(|w| w.op), None);
        // Out of order: found by search.
        assert_eq!(waiters.remove(7).map(|w| w.op), Some(70));
        assert_eq!(ops(&waiters), [(6, 61), (9, 90)]);
        let taken: Vec<OpId> = waiters.take_through(8).iter().map(|w| w.op).collect();
        assert_eq!(taken, [61]);
        assert_eq!(ops(&waiters), [(9, 90)]);
    }
}
