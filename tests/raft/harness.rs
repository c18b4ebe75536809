//! A deterministic, single-threaded harness for several `RaftProcessor`s.
//!
//! The harness owns each node's processor and durable [`Storage`], a queue of in-flight
//! messages and a virtual clock. Time only moves when the harness is asked to run, and it
//! jumps straight to the next due message or timer. The network loses, duplicates and
//! delays (and so reorders) messages with a ChaCha RNG seeded from the one cluster seed,
//! so a seed names a whole run. A crash drops the processor and keeps its `Storage`; a
//! restart rebuilds the processor from that storage. A partition is a set of cut links.
//!
//! Every step goes through [`Cluster::step`], which applies the step's durable writes to
//! storage before any message enters the network, checks that storage and processor agree,
//! and hands everything to the [`Checker`], which panics on the first broken Raft safety
//! property.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use raftlab::cluster::seed;
use raftlab::raft::{
    DurableWrite, Entry, Envelope, Index, Input, Message, NodeId, Outputs, Payload, RaftConfig,
    RaftEvent, RaftProcessor, Role, Storage, Term,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One millisecond, in the microseconds the processors count in.
pub const MS: u64 = 1_000;

/// The most events one `run_until` may process: a bound, so a livelock fails loudly.
const MAX_EVENTS_PER_RUN: usize = 2_000_000;

/// How the network treats every message.
#[derive(Clone, Debug, PartialEq)]
pub struct Net {
    /// Probability that a message is lost.
    pub loss: f64,
    /// Probability that a message is delivered twice.
    pub dup: f64,
    /// Each copy is delivered after a delay drawn from `delay_min_us..=delay_max_us`;
    /// a range wider than zero reorders messages.
    pub delay_min_us: u64,
    pub delay_max_us: u64,
}

impl Net {
    /// A network that loses nothing and delivers in order after 1 ms.
    pub fn reliable() -> Net {
        Net {
            loss: 0.0,
            dup: 0.0,
            delay_min_us: MS,
            delay_max_us: MS,
        }
    }
}

/// A message on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InFlight {
    /// The message's number, in the order messages entered the network.
    pub id: u64,
    /// When it is due.
    pub at_us: u64,
    pub envelope: Envelope,
}

/// A one-line description of a message, for traces and assertion messages.
pub fn describe(envelope: &Envelope) -> String {
    let Envelope {
        from,
        to,
        term,
        message,
    } = envelope;
    let body = match message {
        Message::RequestVote {
            last_log_index,
            last_log_term,
            leadership_transfer,
        } => format!(
            "RequestVote last={last_log_index}@{last_log_term} transfer={leadership_transfer}"
        ),
        Message::TimeoutNow => "TimeoutNow".to_string(),
        Message::LeaderCheck { round } => format!("LeaderCheck round={round}"),
        Message::LeaderCheckResponse { round } => format!("LeaderCheckResponse round={round}"),
        Message::VoteResponse { granted } => format!("VoteResponse granted={granted}"),
        Message::PreVote {
            last_log_index,
            last_log_term,
        } => format!("PreVote last={last_log_index}@{last_log_term}"),
        Message::PreVoteResponse { granted } => format!("PreVoteResponse granted={granted}"),
        Message::AppendEntries {
            prev_log_index,
            prev_log_term,
            entries,
            leader_commit,
            ..
        } => {
            let terms: Vec<String> = entries.iter().map(|e| e.term.to_string()).collect();
            format!(
                "AppendEntries prev={prev_log_index}@{prev_log_term} entries=[{}] commit={leader_commit}",
                terms.join(",")
            )
        }
        Message::AppendResponse {
            success,
            index,
            conflict_term,
            conflict_index,
            ..
        } => format!(
            "AppendResponse success={success} index={index} conflict={conflict_term:?}@{conflict_index}"
        ),
        Message::InstallSnapshot { snapshot } => format!(
            "InstallSnapshot last={}@{} bytes={}",
            snapshot.index,
            snapshot.term,
            snapshot.data.len()
        ),
        Message::SnapshotResponse {
            snapshot_index,
            last_index,
        } => format!("SnapshotResponse index={snapshot_index} last={last_index}"),
    };
    format!("n{from} -> n{to} term={term} {body}")
}

/// Log entries with the given terms, numbered from 1, carrying their index as payload.
pub fn entries_with_terms(terms: &[Term]) -> Vec<Entry> {
    terms
        .iter()
        .enumerate()
        .map(|(position, &term)| Entry {
            index: position as Index + 1,
            term,
            payload: Payload::Command(format!("{term}.{}", position + 1).into_bytes().into()),
        })
        .collect()
}

/// The terms of a log's entries, in order.
pub fn terms_of(entries: &[Entry]) -> Vec<Term> {
    entries.iter().map(|entry| entry.term).collect()
}

/// A seed for the `incarnation`th processor of node `id`, derived from the cluster seed.
/// The cluster's own derivation, so a node's numbers here are those it draws in the cluster.
fn node_seed(cluster_seed: u64, id: NodeId, incarnation: u64) -> u64 {
    seed::derive(cluster_seed, seed::NODE, (id << 20) | incarnation)
}

/// The Raft safety properties, checked against everything every node does.
#[derive(Debug, Default)]
pub struct Checker {
    /// Election Safety: the one leader of each term.
    pub leaders: BTreeMap<Term, NodeId>,
    /// One vote per term, across restarts: (voter, term) -> candidate.
    votes: BTreeMap<(NodeId, Term), NodeId>,
    /// Log Matching: every (index, term) ever in a log names one payload and one term of
    /// the entry before it. By induction on the index, two logs holding the same
    /// (index, term) are then identical up to that index.
    entries: HashMap<(Index, Term), (Payload, Term)>,
    /// State Machine Safety: the entry committed at each index, as first seen.
    pub committed: BTreeMap<Index, Entry>,
    /// The last index each node's current incarnation has been handed as committed.
    applied: BTreeMap<NodeId, Index>,
    /// The commit index of each node's current incarnation.
    commit: BTreeMap<NodeId, Index>,
    /// How many steps were checked.
    pub steps_checked: u64,
}

impl Checker {
    /// Forgets a node's volatile state: it crashed.
    pub fn crashed(&mut self, id: NodeId) {
        self.applied.remove(&id);
        self.commit.remove(&id);
    }

    /// Checks one step of node `id`, after its writes reached `storage`.
    pub fn check_step(
        &mut self,
        node: &RaftProcessor,
        storage: &Storage,
        outputs: &Outputs,
        context: &str,
    ) {
        let id = node.id();
        self.steps_checked += 1;
        for event in &outputs.events {
            match event {
                RaftEvent::BecameLeader { term } => self.check_new_leader(node, *term, context),
                RaftEvent::LogTruncated { .. } => assert!(
                    node.role() != Role::Leader,
                    "Leader Append-Only: leader n{id} truncated its log ({context})"
                ),
                _ => {}
            }
        }
        if node.role() == Role::Leader {
            let term = node.term();
            let leader = *self.leaders.entry(term).or_insert(id);
            assert_eq!(
                leader, id,
                "Election Safety: n{leader} and n{id} both lead term {term} ({context})"
            );
        }
        for write in &outputs.writes {
            match write {
                DurableWrite::HardState {
                    term,
                    vote: Some(candidate),
                } => {
                    let cast = *self.votes.entry((id, *term)).or_insert(*candidate);
                    assert_eq!(
                        cast, *candidate,
                        "n{id} voted for n{cast} and n{candidate} in term {term} ({context})"
                    );
                }
                DurableWrite::Append { entries } => {
                    for entry in entries {
                        self.check_log_matching(storage, entry, context);
                    }
                }
                _ => {}
            }
        }
        self.check_committed(node, outputs, context);
    }

    fn check_new_leader(&self, node: &RaftProcessor, term: Term, context: &str) {
        // Leader Completeness: every entry committed so far was committed in an earlier
        // term (a term has one leader, and this is its start), so the new leader has it.
        for (index, entry) in &self.committed {
            // Entries compacted into the snapshot are known by its last index and term.
            if *index <= node.log().snapshot_index() {
                continue;
            }
            assert_eq!(
                node.log().get(*index),
                Some(entry),
                "Leader Completeness: n{} leads term {term} without committed entry {index} ({context})",
                node.id()
            );
        }
    }

    fn check_log_matching(&mut self, storage: &Storage, entry: &Entry, context: &str) {
        let prev_term = storage
            .log
            .term_at(entry.index - 1)
            .expect("appended in order");
        let key = (entry.index, entry.term);
        let seen = self
            .entries
            .entry(key)
            .or_insert((entry.payload.clone(), prev_term));
        assert_eq!(
            (&seen.0, seen.1),
            (&entry.payload, prev_term),
            "Log Matching: two different entries at {}@{} ({context})",
            entry.index,
            entry.term
        );
    }

    fn check_committed(&mut self, node: &RaftProcessor, outputs: &Outputs, context: &str) {
        let id = node.id();
        let commit = self.commit.entry(id).or_insert(0);
        assert!(
            node.commit() >= *commit,
            "n{id}'s commit went from {commit} down to {} ({context})",
            node.commit()
        );
        *commit = node.commit();
        // A new incarnation starts with what its snapshot covers applied (unless this
        // very step replaced that snapshot).
        let started = outputs
            .restore
            .as_ref()
            .map_or(node.snapshot().index, |_| 0);
        let applied = self.applied.entry(id).or_insert(started);
        if let Some(snapshot) = &outputs.restore {
            assert!(
                snapshot.index > *applied,
                "n{id} restored an older snapshot"
            );
            *applied = snapshot.index;
        }
        for entry in &outputs.committed {
            assert_eq!(
                entry.index,
                *applied + 1,
                "n{id} was handed committed entries out of order ({context})"
            );
            *applied = entry.index;
            let first = self.committed.entry(entry.index).or_insert(entry.clone());
            assert_eq!(
                first, entry,
                "State Machine Safety: two different entries committed at index {} ({context})",
                entry.index
            );
        }
        assert_eq!(
            *applied,
            node.commit(),
            "n{id} committed without delivering"
        );
    }
}

/// A set of nodes, their storages, a network and a virtual clock.
pub struct Cluster {
    pub ids: Vec<NodeId>,
    /// How many nodes the cluster started with (1..=initial are the initial voters).
    pub initial: NodeId,
    pub config: RaftConfig,
    pub seed: u64,
    pub now_us: u64,
    /// `None` while the node is down.
    nodes: BTreeMap<NodeId, Option<RaftProcessor>>,
    pub storages: BTreeMap<NodeId, Storage>,
    /// When each node wants its next `Tick`.
    deadlines: BTreeMap<NodeId, u64>,
    incarnations: BTreeMap<NodeId, u64>,
    queue: Vec<InFlight>,
    next_message_id: u64,
    pub net: Net,
    /// Cut links, as (from, to).
    pub cut: BTreeSet<(NodeId, NodeId)>,
    /// Whether running the clock fires node timers. Off, only messages move.
    pub timers: bool,
    rng: ChaCha8Rng,
    pub checker: Checker,
    /// Everything that happened, when tracing is on: for determinism checks.
    pub trace: Option<Vec<String>>,
    /// Every message delivered to a live node, in order.
    pub delivered: Vec<Envelope>,
    /// Whether `delivered` is kept.
    pub record_delivered: bool,
    /// The committed entries handed to each node's current incarnation, in order.
    pub applied: BTreeMap<NodeId, Vec<Entry>>,
    /// Compare every storage's whole log with its processor's after every step (else
    /// only the last entry, term and vote are compared, and whole logs at crashes).
    pub full_storage_check: bool,
}

impl Cluster {
    /// `n` empty nodes numbered 1..=n with the default config.
    pub fn new(n: u64, seed: u64) -> Cluster {
        Cluster::with_config(n, RaftConfig::default(), seed)
    }

    pub fn with_config(n: u64, config: RaftConfig, seed: u64) -> Cluster {
        let storages = (1..=n).map(|_| Storage::default()).collect();
        Cluster::from_storages(storages, config, seed)
    }

    /// `n` nodes with `config`, run until a leader every node accepts is elected (at most
    /// 3s) and then 200ms more, so that its no-op is committed everywhere. Returns the
    /// cluster and the leader.
    pub fn with_leader(n: u64, config: RaftConfig, seed: u64) -> (Cluster, NodeId) {
        let mut cluster = Cluster::with_config(n, config, seed);
        let leader = cluster.run_until_leader(3_000 * MS).expect("a leader");
        cluster.run_for(200 * MS);
        (cluster, leader)
    }

    /// Nodes 1..=storages.len() started from the given storages.
    pub fn from_storages(storages: Vec<Storage>, config: RaftConfig, seed: u64) -> Cluster {
        config.validate().expect("a valid config");
        let ids: Vec<NodeId> = (1..=storages.len() as NodeId).collect();
        let mut cluster = Cluster {
            initial: ids.len() as NodeId,
            ids: ids.clone(),
            config,
            seed,
            now_us: 0,
            nodes: BTreeMap::new(),
            storages: ids.iter().copied().zip(storages).collect(),
            deadlines: BTreeMap::new(),
            incarnations: BTreeMap::new(),
            queue: Vec::new(),
            next_message_id: 0,
            net: Net::reliable(),
            cut: BTreeSet::new(),
            timers: true,
            rng: ChaCha8Rng::seed_from_u64(node_seed(seed, 0, 0)),
            checker: Checker::default(),
            trace: None,
            delivered: Vec::new(),
            record_delivered: true,
            applied: BTreeMap::new(),
            full_storage_check: true,
        };
        for id in ids {
            cluster.start(id);
        }
        cluster
    }

    /// Hosts a new node `id` with empty storage, built knowing only the initial voters:
    /// it takes part once a configuration entry that names it reaches its log.
    pub fn add_node(&mut self, id: NodeId) {
        assert!(!self.ids.contains(&id), "n{id} is already hosted");
        self.ids.push(id);
        self.storages.insert(id, Storage::default());
        self.start(id);
    }

    fn start(&mut self, id: NodeId) {
        let incarnation = self.incarnations.entry(id).or_insert(0);
        *incarnation += 1;
        let seed = node_seed(self.seed, id, *incarnation);
        // The initial voters: nodes hosted later are added through the log.
        let voters: Vec<NodeId> = self
            .ids
            .iter()
            .copied()
            .filter(|&n| n <= self.initial)
            .collect();
        let node = RaftProcessor::new(
            id,
            &voters,
            self.config.clone(),
            &self.storages[&id],
            seed,
            self.now_us,
        );
        self.deadlines.insert(id, node.next_deadline_us());
        self.nodes.insert(id, Some(node));
        self.note(|| format!("start n{id}"));
    }

    fn note(&mut self, line: impl FnOnce() -> String) {
        if let Some(trace) = &mut self.trace {
            let line = line();
            trace.push(format!("{:>10} {line}", self.now_us));
        }
    }

    pub fn is_up(&self, id: NodeId) -> bool {
        matches!(self.nodes.get(&id), Some(Some(_)))
    }

    /// The processor of a live node.
    pub fn node(&self, id: NodeId) -> &RaftProcessor {
        self.nodes[&id].as_ref().expect("the node is up")
    }

    /// The live nodes, in id order.
    pub fn up(&self) -> Vec<NodeId> {
        self.ids
            .iter()
            .copied()
            .filter(|&id| self.is_up(id))
            .collect()
    }

    /// The live leader of the highest term, if any.
    pub fn leader(&self) -> Option<NodeId> {
        self.up()
            .into_iter()
            .filter(|&id| self.node(id).role() == Role::Leader)
            .max_by_key(|&id| self.node(id).term())
    }

    /// Hands `input` to node `id` now, applies the writes, checks, and sends the messages.
    pub fn step(&mut self, id: NodeId, input: Input) -> Outputs {
        let input_text = match &input {
            Input::Message(envelope) => describe(envelope),
            other => format!("n{id} {other:?}"),
        };
        let now_us = self.now_us;
        let node = self.nodes.get_mut(&id).and_then(Option::as_mut);
        let node = node.expect("stepping a node that is down");
        let view_before = node.view();
        let outputs = node.step(now_us, input);
        // `view_is_current` must say what comparing a new view would, after every step.
        let changed = view_before != node.view();
        assert_eq!(
            node.view_is_current(&view_before),
            !changed,
            "view_is_current after {input_text}"
        );
        let storage = self.storages.get_mut(&id).expect("every node has storage");
        for write in &outputs.writes {
            storage.apply(write);
        }
        let context = format!("seed {} at {now_us}us, n{id} after {input_text}", self.seed);
        check_storage(node, storage, self.full_storage_check, &context);
        self.checker.check_step(node, storage, &outputs, &context);
        let line = self.trace.is_some().then(|| {
            format!(
                "{input_text} => role={:?} term={} commit={} writes={:?} events={:?} next={}",
                node.role(),
                node.term(),
                node.commit(),
                outputs.writes,
                outputs.events,
                outputs.next_deadline_us
            )
        });
        self.deadlines.insert(id, outputs.next_deadline_us);
        let applied = self.applied.entry(id).or_default();
        applied.extend(outputs.committed.iter().cloned());
        if let Some(line) = line {
            self.note(|| line);
        }
        for envelope in outputs.messages.clone() {
            self.send(envelope);
        }
        outputs
    }

    /// Puts a message on the wire, through the link table, loss, duplication and delay.
    pub fn send(&mut self, envelope: Envelope) {
        let link_cut = self.cut.contains(&(envelope.from, envelope.to));
        let lost = self.net.loss > 0.0 && self.rng.random_bool(self.net.loss);
        if link_cut || lost {
            self.note(|| format!("drop {}", describe(&envelope)));
            return;
        }
        let copies = if self.net.dup > 0.0 && self.rng.random_bool(self.net.dup) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let delay_us = self
                .rng
                .random_range(self.net.delay_min_us..=self.net.delay_max_us);
            let id = self.next_message_id;
            self.next_message_id += 1;
            self.note(|| format!("send #{id} +{delay_us}us {}", describe(&envelope)));
            self.queue.push(InFlight {
                id,
                at_us: self.now_us + delay_us,
                envelope: envelope.clone(),
            });
        }
    }

    /// Delivers one message now, if its receiver is up; it is lost otherwise.
    pub fn deliver(&mut self, envelope: Envelope) -> Option<Outputs> {
        if self.cut.contains(&(envelope.from, envelope.to)) {
            self.note(|| format!("drop (cut) {}", describe(&envelope)));
            return None;
        }
        if !self.is_up(envelope.to) {
            self.note(|| format!("lost (down) {}", describe(&envelope)));
            return None;
        }
        if self.record_delivered {
            self.delivered.push(envelope.clone());
        }
        Some(self.step(envelope.to, Input::message(envelope)))
    }

    /// Removes every message from the wire and returns them, in the order they were sent.
    pub fn take_in_flight(&mut self) -> Vec<Envelope> {
        let mut queue = std::mem::take(&mut self.queue);
        queue.sort_by_key(|m| m.id);
        queue.into_iter().map(|m| m.envelope).collect()
    }

    /// Delivers every message now on the wire, in send order, without moving the clock;
    /// what they cause waits for the next round. Returns how many were delivered.
    pub fn deliver_round(&mut self) -> usize {
        let messages = self.take_in_flight();
        let count = messages.len();
        for envelope in messages {
            self.deliver(envelope);
        }
        count
    }

    /// Delivers rounds until the wire is empty; returns the number of rounds. Bounded.
    pub fn settle(&mut self) -> usize {
        let mut rounds = 0;
        while self.deliver_round() > 0 {
            rounds += 1;
            assert!(
                rounds < 10_000,
                "messages never stopped (seed {})",
                self.seed
            );
        }
        rounds
    }

    /// The next event due: the earliest message, else the earliest timer of a live node
    /// (when timers are on). Ties go to messages by send order, then timers by node id.
    fn next_event(&self) -> Option<(u64, Option<usize>, NodeId)> {
        let message = self
            .queue
            .iter()
            .enumerate()
            .min_by_key(|(_, m)| (m.at_us, m.id))
            .map(|(position, m)| (m.at_us, Some(position), m.envelope.to));
        let timer = if self.timers {
            self.deadlines
                .iter()
                .filter(|(id, _)| self.is_up(**id))
                .min_by_key(|(id, at)| (**at, **id))
                .map(|(id, at)| (*at, None, *id))
        } else {
            None
        };
        match (message, timer) {
            (Some(m), Some(t)) => Some(if t.0 < m.0 { t } else { m }),
            (m, t) => m.or(t),
        }
    }

    /// Runs the clock to `until_us`, handling every message and timer due by then.
    pub fn run_until(&mut self, until_us: u64) {
        self.run_until_or(until_us, |_| false);
    }

    /// Runs like `run_until`, but stops early (returning true) once `done` holds.
    pub fn run_until_or(&mut self, until_us: u64, mut done: impl FnMut(&Cluster) -> bool) -> bool {
        for _ in 0..MAX_EVENTS_PER_RUN {
            if done(self) {
                return true;
            }
            match self.next_event() {
                Some((at_us, what, id)) if at_us <= until_us => {
                    self.now_us = self.now_us.max(at_us);
                    match what {
                        Some(position) => {
                            let message = self.queue.swap_remove(position);
                            self.deliver(message.envelope);
                        }
                        None => {
                            self.step(id, Input::Tick);
                        }
                    }
                }
                _ => {
                    self.now_us = self.now_us.max(until_us);
                    return done(self);
                }
            }
        }
        panic!("more than {MAX_EVENTS_PER_RUN} events (seed {})", self.seed);
    }

    pub fn run_for(&mut self, duration_us: u64) {
        self.run_until(self.now_us + duration_us);
    }

    /// Runs until a single live leader is known to every live node, at most `within_us`.
    pub fn run_until_leader(&mut self, within_us: u64) -> Option<NodeId> {
        let until = self.now_us + within_us;
        self.run_until_or(until, |c| c.stable_leader().is_some());
        self.stable_leader()
    }

    /// A live leader whose term and leadership every live node has accepted.
    pub fn stable_leader(&self) -> Option<NodeId> {
        let leader = self.leader()?;
        let term = self.node(leader).term();
        self.up()
            .into_iter()
            .all(|id| self.node(id).term() == term && self.node(id).leader() == Some(leader))
            .then_some(leader)
    }

    /// Proposes `commands` at node `id`.
    pub fn propose(&mut self, id: NodeId, commands: Vec<Vec<u8>>) -> Outputs {
        let commands = commands.into_iter().map(Into::into).collect();
        self.step(id, Input::Propose(commands))
    }

    /// Drops node `id`'s processor; its storage stays.
    pub fn crash(&mut self, id: NodeId) {
        if let Some(Some(node)) = self.nodes.get(&id) {
            check_storage(node, &self.storages[&id], true, "at crash");
        }
        self.nodes.insert(id, None);
        self.applied.remove(&id);
        self.checker.crashed(id);
        self.note(|| format!("crash n{id}"));
    }

    /// Rebuilds node `id` from its storage.
    pub fn restart(&mut self, id: NodeId) {
        assert!(!self.is_up(id), "restarting a live node");
        self.start(id);
    }

    /// Cuts every link between nodes of different groups; nodes in no group are cut from
    /// everyone.
    pub fn partition(&mut self, groups: &[&[NodeId]]) {
        self.heal();
        let group_of = |id: NodeId| groups.iter().position(|g| g.contains(&id));
        for &a in &self.ids {
            for &b in &self.ids {
                if a != b && (group_of(a).is_none() || group_of(a) != group_of(b)) {
                    self.cut.insert((a, b));
                }
            }
        }
        self.note(|| format!("partition {groups:?}"));
    }

    /// Cuts both directions between `id` and every other node.
    pub fn isolate(&mut self, id: NodeId) {
        for &other in &self.ids {
            if other != id {
                self.cut.insert((id, other));
                self.cut.insert((other, id));
            }
        }
    }

    pub fn heal(&mut self) {
        self.cut.clear();
        self.note(|| "heal".to_string());
    }

    /// The random source of the harness, for tests that draw their faults from the seed.
    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.rng
    }
}

/// Storage must equal what the processor holds: term, vote and log.
fn check_storage(node: &RaftProcessor, storage: &Storage, full: bool, context: &str) {
    let view = node.view();
    assert_eq!(
        (storage.term, storage.vote),
        (view.term, view.vote),
        "storage term/vote differ from the processor's ({context})"
    );
    assert_eq!(
        (storage.log.last_index(), storage.log.last_term()),
        (view.last_index, view.last_term),
        "storage log end differs from the processor's ({context})"
    );
    if full {
        assert_eq!(
            &storage.log,
            node.log(),
            "storage log differs from the processor's ({context})"
        );
    }
}

/// An envelope, for tests that hand-craft messages.
pub fn envelope(from: NodeId, to: NodeId, term: Term, message: Message) -> Envelope {
    Envelope {
        from,
        to,
        term,
        message,
    }
}

/// The messages of `outputs` of one kind.
pub fn messages_of_kind<'a>(outputs: &'a Outputs, kind: &str) -> Vec<&'a Envelope> {
    outputs
        .messages
        .iter()
        .filter(|e| e.message.kind() == kind)
        .collect()
}

/// The node after `leader` in a cluster of three, round: a node other than the leader.
pub fn another(leader: NodeId) -> NodeId {
    if leader == 3 { 1 } else { leader + 1 }
}

/// The default configuration with PreVote and CheckQuorum on or off.
pub fn config_with(prevote: bool, check_quorum: bool) -> RaftConfig {
    RaftConfig {
        prevote,
        check_quorum,
        ..RaftConfig::default()
    }
}

/// A three-node cluster with a leader (see [`Cluster::with_leader`]): the cluster, the
/// leader and its term.
pub fn three_with_leader(config: RaftConfig, seed: u64) -> (Cluster, NodeId, Term) {
    let (cluster, leader) = Cluster::with_leader(3, config, seed);
    let term = cluster.node(leader).term();
    (cluster, leader, term)
}
