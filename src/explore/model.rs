//! What a state of the explored cluster is, and what may happen to it.
//!
//! A [`State`] holds every node's [`RaftProcessor`] (the real one, as the REPL runs it) or,
//! for a node that is down, nothing but its durable [`Storage`]; the messages in flight, as a
//! multiset (each with the id the cluster would give it, so a path replays); and the
//! [`Ghost`] history the safety rules need. There is no clock that matters: the state keeps
//! a `now_us` only because the core wants one, and a timer firing is an [`Action`] of its
//! own. [`Model::actions`] lists what may happen in a state within the [`Bounds`];
//! [`Model::next`] does it, checking the rules on the way ([`super::rules`]).

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::str::FromStr;
use std::sync::Arc;

use crate::cluster::{ClusterConfig, MsgId, MsgInfo, NetworkConfig};
use crate::raft::{
    Bug, Command, Envelope, Index, Input, Message, NodeId, RaftConfig, RaftProcessor, Role,
    Storage, Term,
};

use super::fingerprint::message_digest;
use super::rules::{Finding, Ghost, Read, holds_write, read_command, write_command};

/// The most nodes `explore` takes: beyond five the state space is out of reach anyway.
pub const MAX_NODES: u64 = 5;

/// The kinds of action, each of which `--actions` can leave out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ActionKind {
    Deliver,
    Drop,
    Duplicate,
    Timeout,
    Heartbeat,
    Crash,
    Restart,
    Write,
    Read,
    Add,
    Remove,
}

impl ActionKind {
    pub const ALL: &'static [ActionKind] = &[
        ActionKind::Deliver,
        ActionKind::Drop,
        ActionKind::Duplicate,
        ActionKind::Timeout,
        ActionKind::Heartbeat,
        ActionKind::Crash,
        ActionKind::Restart,
        ActionKind::Write,
        ActionKind::Read,
        ActionKind::Add,
        ActionKind::Remove,
    ];

    /// The kind's name, as `--actions` takes it.
    pub fn name(self) -> &'static str {
        match self {
            ActionKind::Deliver => "deliver",
            ActionKind::Drop => "drop",
            ActionKind::Duplicate => "dup",
            ActionKind::Timeout => "timeout",
            ActionKind::Heartbeat => "heartbeat",
            ActionKind::Crash => "crash",
            ActionKind::Restart => "restart",
            ActionKind::Write => "write",
            ActionKind::Read => "read",
            ActionKind::Add => "add",
            ActionKind::Remove => "remove",
        }
    }
}

impl FromStr for ActionKind {
    type Err = String;

    fn from_str(text: &str) -> Result<ActionKind, String> {
        ActionKind::ALL
            .iter()
            .copied()
            .find(|kind| kind.name() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = ActionKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown action '{text}': expected {}", names.join(", "))
            })
    }
}

/// How far the search goes. A state beyond a bound is never reached: the actions that
/// would cross one are not taken (a step that would leave more than `max_msgs` messages in
/// flight is taken and checked, but its state is not explored further).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bounds {
    pub nodes: u64,
    /// No node campaigns into a term above this.
    pub max_term: Term,
    /// No log grows beyond this many entries: a leader takes no write, and a node does not
    /// campaign, when its log is this long (a new leader appends an entry).
    pub max_log: Index,
    /// The most messages in flight.
    pub max_msgs: usize,
    /// The most crashes in one path.
    pub max_crashes: u32,
    /// The most client writes in one path.
    pub max_writes: u32,
    /// The most client reads in one path (of the keys written so far).
    pub max_reads: u32,
    /// The most membership changes (`add` and `remove`) in one path. With any, one node
    /// more than `nodes` may be added (as a learner, promoted once caught up).
    pub max_changes: u32,
    /// The most actions in one path.
    pub max_depth: u32,
    /// The kinds of action taken.
    pub actions: Vec<ActionKind>,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            nodes: 3,
            max_term: 4,
            max_log: 3,
            max_msgs: 6,
            max_crashes: 1,
            max_writes: 1,
            max_reads: 1,
            max_changes: 0,
            max_depth: 40,
            actions: ActionKind::ALL.to_vec(),
        }
    }
}

/// A message in flight.
#[derive(Clone, Debug)]
pub struct Flight {
    /// The id the cluster gives it when the path is replayed.
    pub id: MsgId,
    /// The message, shared with the states that branch from this one.
    pub envelope: Arc<Envelope>,
    /// The message's digest without its clock readings: equal for identical messages.
    pub digest: u64,
}

/// One node: running, or down with only its storage.
#[derive(Clone, Debug)]
pub struct Node {
    pub processor: Option<RaftProcessor>,
    pub storage: Storage,
    /// How many times it was started, for its RNG's seed.
    pub incarnation: u64,
}

/// A state of the whole cluster. See the module documentation.
///
/// Nodes and messages are shared between a state and the states that follow it: an action
/// changes one node and a few messages, and copies only those.
#[derive(Clone, Debug)]
pub struct State {
    pub nodes: Vec<Arc<Node>>,
    /// In the order they were sent.
    pub flights: Vec<Arc<Flight>>,
    /// The time handed to the core: it only moves when a leader's heartbeat timer is fired.
    pub now_us: u64,
    /// The id the next message sent gets.
    pub next_msg: MsgId,
    pub crashes: u32,
    pub writes: u32,
    pub reads: u32,
    /// Membership changes asked for.
    pub changes: u32,
    /// Nodes hosted beyond the initial ones (added by a change): the last of `nodes`.
    pub added: u32,
    pub ghost: Ghost,
}

impl State {
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize - 1]
    }

    fn flight(&self, msg: MsgId) -> Option<&Flight> {
        self.flights.iter().find(|f| f.id == msg).map(|f| &**f)
    }
}

/// One thing that may happen. Messages are named by the id they have in the state the
/// action is taken in (and in the cluster that replays the path).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Deliver {
        msg: MsgId,
    },
    Drop {
        msg: MsgId,
    },
    Duplicate {
        msg: MsgId,
    },
    /// The node's election timer fires: it campaigns in the next term.
    Timeout {
        node: NodeId,
    },
    /// The leader's heartbeat timer fires.
    Heartbeat {
        node: NodeId,
    },
    /// The node goes down, losing everything but its storage; messages to and from it are
    /// lost.
    Crash {
        node: NodeId,
    },
    /// The node starts again from its storage.
    Restart {
        node: NodeId,
    },
    /// A client writes at the node, a leader.
    Write {
        node: NodeId,
    },
    /// A client reads the key of the write `wK` at the node, a leader.
    Read {
        node: NodeId,
        key: u32,
    },
    /// The leader (the cluster's: of the highest term) is asked to add `new`.
    Add {
        leader: NodeId,
        new: NodeId,
    },
    /// The leader is asked to remove `target`.
    Remove {
        leader: NodeId,
        target: NodeId,
    },
}

impl Action {
    /// The kind of the action.
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Deliver { .. } => ActionKind::Deliver,
            Action::Drop { .. } => ActionKind::Drop,
            Action::Duplicate { .. } => ActionKind::Duplicate,
            Action::Timeout { .. } => ActionKind::Timeout,
            Action::Heartbeat { .. } => ActionKind::Heartbeat,
            Action::Crash { .. } => ActionKind::Crash,
            Action::Restart { .. } => ActionKind::Restart,
            Action::Write { .. } => ActionKind::Write,
            Action::Read { .. } => ActionKind::Read,
            Action::Add { .. } => ActionKind::Add,
            Action::Remove { .. } => ActionKind::Remove,
        }
    }

    /// The action in words, in the state it is taken in.
    pub fn describe(&self, before: &State) -> String {
        match *self {
            Action::Deliver { msg } => match before.flight(msg) {
                Some(f) => format!("n{} receives #{msg} {}", f.envelope.to, info(f)),
                None => format!("#{msg} is delivered"),
            },
            Action::Drop { msg } => match before.flight(msg) {
                Some(f) => format!("#{msg} {} is lost", info(f)),
                None => format!("#{msg} is lost"),
            },
            Action::Duplicate { msg } => match before.flight(msg) {
                Some(f) => format!("#{msg} {} is duplicated as #{}", info(f), before.next_msg),
                None => format!("#{msg} is duplicated"),
            },
            Action::Timeout { node } => {
                let term = term_of(before, node) + 1;
                format!("n{node} times out and asks for votes in term {term}")
            }
            Action::Heartbeat { node } => {
                let term = term_of(before, node);
                format!("n{node}, leader of term {term}, sends heartbeats")
            }
            Action::Crash { node } => format!("n{node} crashes"),
            Action::Restart { node } => {
                let storage = &before.node(node).storage;
                format!(
                    "n{node} restarts (term {}, {} entries)",
                    storage.term,
                    storage.log.last_index()
                )
            }
            Action::Write { node } => {
                let term = term_of(before, node);
                let value = before.writes + 1;
                format!("a client writes w{value} at n{node}, leader of term {term}")
            }
            Action::Read { node, key } => {
                let term = term_of(before, node);
                format!("a client reads w{key} at n{node}, leader of term {term}")
            }
            Action::Add { leader, new } => {
                let term = term_of(before, leader);
                format!("n{leader}, leader of term {term}, is asked to add n{new}")
            }
            Action::Remove { leader, target } => {
                let term = term_of(before, leader);
                format!("n{leader}, leader of term {term}, is asked to remove n{target}")
            }
        }
    }

    /// The command lines that do the action in a cluster on a paused clock, in which
    /// nothing else happens on its own (see [`Model::cluster_config`]).
    pub fn steps(&self, before: &State) -> Vec<String> {
        match *self {
            Action::Deliver { msg } => vec![format!("deliver {msg}")],
            Action::Drop { msg } => vec![format!("drop {msg}")],
            Action::Duplicate { msg } => vec![format!("dup {msg}")],
            Action::Timeout { node } => vec![format!("campaign {node}")],
            Action::Heartbeat { node } => vec![format!("tick {node}")],
            Action::Crash { node } => vec![format!("kill {node}")],
            Action::Restart { node } => vec![format!("restart {node}")],
            // A client request reaches its node at the next hand-off: nothing else is due.
            Action::Write { node } => {
                let value = before.writes + 1;
                vec![
                    format!("put w{value} {value} via {node}"),
                    "step".to_string(),
                ]
            }
            // The clients' history is checked on times: the read begins a microsecond
            // after what came before it (no timer is due so soon), as in the model.
            Action::Read { node, key } => vec![
                "run 1us".to_string(),
                format!("get w{key} via {node}"),
                "step".to_string(),
            ],
            // `add` and `remove` go to the cluster's leader, the model's `leader`.
            Action::Add { new, .. } => vec![format!("add {new}")],
            Action::Remove { target, .. } => vec![format!("remove {target}")],
        }
    }
}

/// The action in words without its state: "deliver #5", "n1 crashes".
impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Deliver { msg } => write!(f, "deliver #{msg}"),
            Action::Drop { msg } => write!(f, "#{msg} is lost"),
            Action::Duplicate { msg } => write!(f, "#{msg} is duplicated"),
            Action::Timeout { node } => write!(f, "n{node} times out and asks for votes"),
            Action::Heartbeat { node } => write!(f, "n{node} sends heartbeats"),
            Action::Crash { node } => write!(f, "n{node} crashes"),
            Action::Restart { node } => write!(f, "n{node} restarts"),
            Action::Write { node } => write!(f, "a client writes at n{node}"),
            Action::Read { node, key } => write!(f, "a client reads w{key} at n{node}"),
            Action::Add { new, .. } => write!(f, "n{new} is added"),
            Action::Remove { target, .. } => write!(f, "n{target} is removed"),
        }
    }
}

fn info(flight: &Flight) -> String {
    let envelope = &flight.envelope;
    // Worded once, for a counterexample: a copy is cheap here.
    let info = MsgInfo::of(envelope);
    format!("n{} -> n{} {info}", envelope.from, envelope.to)
}

fn term_of(state: &State, node: NodeId) -> Term {
    state
        .node(node)
        .processor
        .as_ref()
        .map_or(state.node(node).storage.term, |p| p.term())
}

/// What happened when an action was taken.
pub enum Outcome {
    /// The next state, within the bounds or not.
    Next { state: State, within: bool },
    /// A safety rule broke (or the core panicked) on the way.
    Broken(Finding),
}

/// The model: the cluster's Raft configuration and the bounds.
#[derive(Clone, Debug)]
pub struct Model {
    pub bounds: Bounds,
    pub raft: RaftConfig,
}

impl Model {
    /// A model of `bounds.nodes` nodes with the teaching `bugs` on, whose AppendEntries
    /// carry at most `max_append_entries` entries.
    pub fn new(bounds: Bounds, bugs: &[Bug], max_append_entries: usize) -> Model {
        let raft = RaftConfig {
            // Timers never fire on their own in the replay: they are actions here, and
            // `campaign` and `tick` steps there.
            election_timeout_min_us: 100_000_000,
            election_timeout_max_us: 200_000_000,
            heartbeat_us: 1_000,
            max_append_entries,
            bugs: bugs.iter().copied().collect(),
            ..RaftConfig::default()
        };
        Model { bounds, raft }
    }

    /// The cluster a counterexample replays on: the model's Raft, a paused clock, and a
    /// network so slow that no message is ever due by itself (each is delivered, dropped
    /// or duplicated by a step).
    pub fn cluster_config(&self) -> ClusterConfig {
        ClusterConfig {
            nodes: self.bounds.nodes,
            raft: self.raft.clone(),
            network: NetworkConfig {
                delay_min_us: 1_000_000_000,
                delay_max_us: 1_000_000_000,
                ..NetworkConfig::default()
            },
            ..ClusterConfig::default()
        }
    }

    fn voters(&self) -> Vec<NodeId> {
        (1..=self.bounds.nodes).collect()
    }

    /// Every node up, as a follower in term 0 with an empty log; nothing in flight.
    pub fn init(&self) -> State {
        let nodes = (1..=self.bounds.nodes)
            .map(|id| {
                Arc::new(Node {
                    processor: Some(self.start(id, &Storage::default(), 0, 0)),
                    storage: Storage::default(),
                    incarnation: 0,
                })
            })
            .collect();
        State {
            nodes,
            flights: Vec::new(),
            now_us: 0,
            next_msg: 1,
            crashes: 0,
            writes: 0,
            reads: 0,
            changes: 0,
            added: 0,
            ghost: Ghost::default(),
        }
    }

    fn start(&self, id: NodeId, storage: &Storage, incarnation: u64, now_us: u64) -> RaftProcessor {
        let seed = id * 1_000 + incarnation;
        RaftProcessor::new(id, &self.voters(), self.raft.clone(), storage, seed, now_us)
    }

    fn allows(&self, kind: ActionKind) -> bool {
        self.bounds.actions.contains(&kind)
    }

    /// The actions that may be taken in `state`, within the bounds, into `actions`. Of
    /// identical messages in flight only the first is offered: the others lead to the
    /// same states.
    pub fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        actions.clear();
        self.message_actions(state, actions);
        for (position, node) in state.nodes.iter().enumerate() {
            let id = position as NodeId + 1;
            match &node.processor {
                Some(processor) => self.node_actions(state, id, processor, actions),
                None if self.allows(ActionKind::Restart) => {
                    actions.push(Action::Restart { node: id })
                }
                None => {}
            }
        }
        self.membership_actions(state, actions);
    }

    /// `add` and `remove` at the cluster's leader (the leader of the highest term that is
    /// up, as `add` and `remove` find it): add a node of no configuration, the initial
    /// ones or one more; remove a member.
    fn membership_actions(&self, state: &State, actions: &mut Vec<Action>) {
        if state.changes >= self.bounds.max_changes {
            return;
        }
        let leaders = (state.nodes.iter()).filter_map(|node| node.processor.as_ref());
        let Some(processor) = leaders
            .filter(|p| p.role() == Role::Leader)
            .max_by_key(|p| p.term())
        else {
            return;
        };
        if processor.log().last_index() >= self.bounds.max_log {
            return;
        }
        let leader = processor.id();
        let member =
            |n: &NodeId| processor.voters().contains(n) || processor.learners().contains(n);
        for node in 1..=self.bounds.nodes + 1 {
            match member(&node) {
                false if self.allows(ActionKind::Add) => {
                    actions.push(Action::Add { leader, new: node })
                }
                true if self.allows(ActionKind::Remove) => actions.push(Action::Remove {
                    leader,
                    target: node,
                }),
                _ => {}
            }
        }
    }

    fn message_actions(&self, state: &State, actions: &mut Vec<Action>) {
        let room = state.flights.len() < self.bounds.max_msgs;
        for (position, flight) in state.flights.iter().enumerate() {
            let seen = state.flights[..position]
                .iter()
                .any(|f| f.digest == flight.digest);
            if seen {
                continue;
            }
            let msg = flight.id;
            let up = state.node(flight.envelope.to).processor.is_some();
            if up && self.allows(ActionKind::Deliver) {
                actions.push(Action::Deliver { msg });
            }
            if self.allows(ActionKind::Drop) {
                actions.push(Action::Drop { msg });
            }
            if room && up && self.allows(ActionKind::Duplicate) {
                actions.push(Action::Duplicate { msg });
            }
        }
    }

    fn node_actions(
        &self,
        state: &State,
        node: NodeId,
        processor: &RaftProcessor,
        actions: &mut Vec<Action>,
    ) {
        let bounds = &self.bounds;
        let log_room = processor.log().last_index() < bounds.max_log;
        let leader = processor.role() == Role::Leader;
        if leader {
            if self.allows(ActionKind::Heartbeat) {
                actions.push(Action::Heartbeat { node });
            }
            if log_room && state.writes < bounds.max_writes && self.allows(ActionKind::Write) {
                actions.push(Action::Write { node });
            }
            // A read goes through the log (an entry), but for `leader-local-reads`.
            let room = log_room || self.raft.has_bug(Bug::LeaderLocalReads);
            if room && state.reads < bounds.max_reads && self.allows(ActionKind::Read) {
                for key in 1..=state.writes {
                    actions.push(Action::Read { node, key });
                }
            }
        } else if log_room && processor.term() < bounds.max_term && self.allows(ActionKind::Timeout)
        {
            actions.push(Action::Timeout { node });
        }
        if state.crashes < bounds.max_crashes && self.allows(ActionKind::Crash) {
            actions.push(Action::Crash { node });
        }
    }

    /// Takes `action` in `state`.
    pub fn next(&self, state: &State, action: Action) -> Outcome {
        let mut next = state.clone();
        let result = match action {
            Action::Deliver { msg } => match take(&mut next, msg) {
                Some(flight) => {
                    let to = flight.envelope.to;
                    self.step_node(&mut next, to, Input::Message(flight.envelope))
                }
                None => Ok(()),
            },
            Action::Drop { msg } => {
                take(&mut next, msg);
                Ok(())
            }
            Action::Duplicate { msg } => {
                if let Some(flight) = next.flight(msg).cloned() {
                    let id = next.next_msg;
                    next.next_msg += 1;
                    next.flights.push(Arc::new(Flight { id, ..flight }));
                }
                Ok(())
            }
            Action::Timeout { node } => self.step_node(&mut next, node, Input::Campaign),
            Action::Heartbeat { node } => self.heartbeat(&mut next, node),
            Action::Crash { node } => {
                crash(&mut next, node);
                next.ghost.crashed(node);
                Ok(())
            }
            Action::Restart { node } => {
                self.restart(&mut next, node);
                Ok(())
            }
            Action::Write { node } => {
                next.writes += 1;
                next.ghost.wrote(node);
                let command: Command = write_command(next.writes).into();
                self.step_node(&mut next, node, Input::Propose(vec![command]))
            }
            Action::Read { node, key } => self.read(&mut next, node, key),
            Action::Add { leader, new } => self.add(&mut next, leader, new),
            Action::Remove { leader, target } => {
                next.changes += 1;
                self.step_node(&mut next, leader, Input::RemoveNode(target))
            }
        };
        forget_dead_messages(&mut next);
        let result = result.and_then(|()| next.ghost.log_matching(&next.nodes));
        match result {
            Ok(()) => {
                let within = next.flights.len() <= self.bounds.max_msgs;
                Outcome::Next {
                    state: next,
                    within,
                }
            }
            Err(finding) => Outcome::Broken(finding),
        }
    }

    /// A client reads `wK` at `node`: through the log (the read's own entry, answered when
    /// the node applies it), or, with `leader-local-reads`, at once from what the leader
    /// applied.
    fn read(&self, state: &mut State, node: NodeId, key: u32) -> Result<(), Finding> {
        state.reads += 1;
        state.now_us += 1;
        let must_see = state.ghost.acknowledged(key);
        let Some(processor) = &state.node(node).processor else {
            return Ok(());
        };
        if self.raft.has_bug(Bug::LeaderLocalReads) && processor.role() == Role::Leader {
            let seen = holds_write(processor.log(), key, processor.applied());
            return state.ghost.read_answered(node, key, must_see, seen);
        }
        state.ghost.reads.push(Read {
            number: state.reads,
            node,
            key,
            must_see,
        });
        let command: Command = read_command(state.reads).into();
        self.step_node(state, node, Input::Propose(vec![command]))
    }

    /// The leader is asked to add `new`, which is first started with empty storage if it
    /// was never hosted (as `add` does); if the leader refuses, it goes again.
    fn add(&self, state: &mut State, leader: NodeId, new: NodeId) -> Result<(), Finding> {
        state.changes += 1;
        let hosted = (new as usize) <= state.nodes.len();
        if !hosted {
            let processor = self.start(new, &Storage::default(), 0, state.now_us);
            state.nodes.push(Arc::new(Node {
                processor: Some(processor),
                storage: Storage::default(),
                incarnation: 0,
            }));
            state.added += 1;
        }
        self.step_node(state, leader, Input::AddNode(new))?;
        let taken = (state.node(leader).processor.as_ref())
            .is_some_and(|p| p.voters().contains(&new) || p.learners().contains(&new));
        if !hosted && !taken {
            state.nodes.pop();
            state.added -= 1;
        }
        Ok(())
    }

    /// The leader's heartbeat timer fires: the clock moves on to its deadline.
    fn heartbeat(&self, state: &mut State, node: NodeId) -> Result<(), Finding> {
        if let Some(processor) = &state.nodes[node as usize - 1].processor {
            state.now_us = state.now_us.max(processor.next_deadline_us());
        }
        self.step_node(state, node, Input::Tick)
    }

    fn restart(&self, state: &mut State, node: NodeId) {
        let now_us = state.now_us;
        let slot = Arc::make_mut(&mut state.nodes[node as usize - 1]);
        slot.incarnation += 1;
        slot.processor = Some(self.start(node, &slot.storage, slot.incarnation, now_us));
    }

    /// Hands `input` to `node`, applies its durable writes, checks what it did, and puts
    /// its messages in flight.
    fn step_node(&self, state: &mut State, node: NodeId, input: Input) -> Result<(), Finding> {
        let now_us = state.now_us;
        if state.nodes[node as usize - 1].processor.is_none() {
            return Ok(());
        }
        let slot = Arc::make_mut(&mut state.nodes[node as usize - 1]);
        let Some(processor) = slot.processor.as_mut() else {
            return Ok(());
        };
        let before = processor.view();
        let incoming = match &input {
            Input::Message(envelope) => Some((envelope.term, envelope.message.kind())),
            _ => None,
        };
        let stepped = catch_unwind(AssertUnwindSafe(|| {
            let outputs = processor.step(now_us, input);
            for write in &outputs.writes {
                slot.storage.apply(write);
            }
            outputs
        }));
        let outputs = stepped.map_err(|panic| Finding::panic(node, &*panic))?;
        let after = processor.view();
        if let Some((higher, kind)) = incoming.filter(|&(term, _)| term > after.term) {
            let what = format!("a {kind}");
            return Err(Finding::kept_lower_term(node, after.term, &what, higher));
        }
        let ghost = &mut state.ghost;
        ghost.writes(node, &before, &after, &outputs.writes)?;
        ghost.applied(node, &outputs.committed)?;
        ghost.answers(node, &outputs.committed, &slot.storage.log)?;
        ghost.commits(node, &before, &after, &slot.storage.log);
        ghost.events(node, &outputs.events, &slot.storage.log)?;
        for envelope in outputs.messages {
            let id = state.next_msg;
            state.next_msg += 1;
            let digest = message_digest(&envelope, &|n| n);
            state.flights.push(Arc::new(Flight {
                id,
                envelope: Arc::new(envelope),
                digest,
            }));
        }
        Ok(())
    }
}

/// Removes the messages in flight whose delivery can change nothing, now or later. Such
/// a message is no part of the state (delivering it is the same as losing it); in a
/// replay it stays in flight, never delivered. Terms never go back, so once dead a message
/// stays dead:
///
/// - a response of an older term than its receiver's is ignored;
/// - a vote in the receiver's term is ignored unless it is a candidate, and an
///   AppendEntries answer unless it leads or campaigns (a node never campaigns in a term
///   it is in, so a follower, a leader or a node that is down never counts votes of its
///   term again, and a follower or a node that is down never leads it).
///
/// (A request of an older term is not dead: its refusal carries the receiver's term at
/// the time it is delivered, which may be later than any its sender knows.)
fn forget_dead_messages(state: &mut State) {
    let nodes = &state.nodes;
    state.flights.retain(|flight| {
        let envelope = &flight.envelope;
        let receiver = &nodes[envelope.to as usize - 1];
        let term = receiver.storage.term;
        let role = receiver.processor.as_ref().map(|p| p.role());
        if envelope.term > term || !envelope.message.is_response() {
            return true;
        }
        match &envelope.message {
            _ if envelope.term < term => false,
            Message::VoteResponse { .. } => role == Some(Role::Candidate),
            Message::AppendResponse { .. } => matches!(role, Some(Role::Leader | Role::Candidate)),
            _ => true,
        }
    });
}

fn take(state: &mut State, msg: MsgId) -> Option<Flight> {
    let position = state.flights.iter().position(|f| f.id == msg)?;
    let flight = state.flights.remove(position);
    Some(Arc::unwrap_or_clone(flight))
}

fn crash(state: &mut State, node: NodeId) {
    state.crashes += 1;
    Arc::make_mut(&mut state.nodes[node as usize - 1]).processor = None;
    state
        .flights
        .retain(|f| f.envelope.from != node && f.envelope.to != node);
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
