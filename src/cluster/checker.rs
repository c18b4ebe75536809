//! The checker: the Raft safety properties, held over the whole life of a cluster.
//!
//! The scheduler feeds the checker after every hand-off with what each step of the node's
//! Raft changed ([`StepTrace`]: the durable writes, the entries applied, the events and the
//! node's state after the step), and tells it when a node goes down, comes back, or has
//! its log replaced by `set-log`. From that alone, without reading any node's storage,
//! the checker keeps a mirror of every node's durable log, as one hash per entry that also
//! covers every entry before it (a hash chain), and checks, at the moment each change
//! happens:
//!
//! - **Election Safety**: at most one node becomes leader in a term, over the whole run.
//! - **Leader Append-Only**: a leader never truncates its log while it leads its term.
//! - **Log Matching**: two entries with the same index and term, on any nodes at any
//!   times, have the same hash chain: the same entry and the same entries before it.
//!   (The same entry can only be created once, by the one leader of its term, so this
//!   holds across time, not only between logs at one instant.)
//! - **Leader Completeness**: a node that becomes leader of term T holds every entry seen
//!   committed in a term before T. An entry counts as committed in the term of the node
//!   that was seen advancing its commit index over it (the leader that committed it, or
//!   a follower it told, in the same term), which is never earlier than when it really
//!   committed: the check cannot raise a false alarm.
//! - **State Machine Safety**: no two nodes apply different entries at one index.
//!
//! and, for membership changes (thesis chapter 4), with majorities counted in the
//! configuration in force:
//!
//! - **Commit Quorum**: when a leader advances its commit index to C, its entry at C (and,
//!   by the hash chain, every entry before it) is stored on a majority of the voters of
//!   the leader's configuration in force: the latest configuration entry in its log at
//!   that moment, committed or not, else the configuration its snapshot recorded, else the
//!   initial voters. That is the configuration a single-server leader counts with (thesis
//!   section 4.1), and the one to check: the configuration in force *at index C* would be
//!   wrong here, since a majority of five voters just grown from four need not hold a
//!   majority of the four (any two majorities of consecutive configurations still meet,
//!   which is what makes the change safe).
//! - **One Config Change**: a leader appends a configuration entry only when every earlier
//!   configuration entry in its log is committed (by its own commit index): at most one
//!   change is in flight. (A new leader may inherit two uncommitted ones from a leader
//!   that had committed the first; it adds none of its own until both commit.)
//!
//! and, per node: its term never decreases, across restarts too (it is durable); it votes
//! at most once per term, across restarts too; within one incarnation its commit and
//! applied indexes never decrease, and applied never passes commit.
//!
//! A broken rule becomes a [`Violation`], kept (up to [`KEPT_PER_RULE`] per rule; the rest
//! are counted) and published by the scheduler as a [`super::EventKind::Violation`].
//! Linearizability of the clients' history is the other half of checking a run; it needs
//! the whole history, so it runs on demand ([`operations`] turns the history into what
//! [`super::linearizability::check`] reads).
//!
//! Every observation costs time in proportion to what changed (entries appended or
//! applied, events), so the checker runs in every mode, always.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::Hash;

use super::digest::{chain, entry_digest as digest};
use super::storm::Storm;
use digests::DigestCache;
use mirror::EntriesSeen;
use window::IndexWindow;

use crate::raft::{
    DurableWrite, Entry, Index, NodeId, NodeMap, NodeView, Payload, RaftEvent, Role, Storage, Term,
};

use super::client_table::ClientRecord;
use super::event::ClientOutcome;
use super::linearizability::{Operation, Outcome};

mod breach;
pub use breach::{Breach, FirstDifference};

/// How many violations of one rule are kept and published; later ones are only counted.
pub const KEPT_PER_RULE: usize = 5;

/// A property the checker holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    ElectionSafety,
    LeaderAppendOnly,
    LogMatching,
    LeaderCompleteness,
    StateMachineSafety,
    /// Checked on the clients' history, on demand.
    Linearizability,
    TermMonotonic,
    VoteOnce,
    CommitMonotonic,
    AppliedMonotonic,
    AppliedWithinCommit,
    CommitQuorum,
    OneConfigChange,
    /// Not a rule of Raft's but of the tool's: the network's load crossed a bound
    /// ([`super::storm`]), a sign of a node answering messages with more messages forever.
    MessageStorm,
}

impl Rule {
    pub const ALL: &'static [Rule] = &[
        Rule::ElectionSafety,
        Rule::LeaderAppendOnly,
        Rule::LogMatching,
        Rule::LeaderCompleteness,
        Rule::StateMachineSafety,
        Rule::Linearizability,
        Rule::TermMonotonic,
        Rule::VoteOnce,
        Rule::CommitMonotonic,
        Rule::AppliedMonotonic,
        Rule::AppliedWithinCommit,
        Rule::CommitQuorum,
        Rule::OneConfigChange,
        Rule::MessageStorm,
    ];

    /// The rule's name, as `expect violation RULE` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Rule::ElectionSafety => "election-safety",
            Rule::LeaderAppendOnly => "leader-append-only",
            Rule::LogMatching => "log-matching",
            Rule::LeaderCompleteness => "leader-completeness",
            Rule::StateMachineSafety => "state-machine-safety",
            Rule::Linearizability => "linearizability",
            Rule::TermMonotonic => "term-monotonic",
            Rule::VoteOnce => "vote-once",
            Rule::CommitMonotonic => "commit-monotonic",
            Rule::AppliedMonotonic => "applied-monotonic",
            Rule::AppliedWithinCommit => "applied-within-commit",
            Rule::CommitQuorum => "commit-quorum",
            Rule::OneConfigChange => "one-config-change",
            Rule::MessageStorm => "message-storm",
        }
    }

    pub fn from_name(name: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|rule| rule.name() == name)
    }
}

/// A broken rule: which, when, the nodes, index and terms involved, and what happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub rule: Rule,
    pub time_us: u64,
    pub nodes: Vec<NodeId>,
    pub index: Option<Index>,
    pub terms: Vec<Term>,
    /// What happened.
    pub detail: Breach,
}

/// What one step of a node's Raft changed: the durable writes (already applied to its
/// storage), the entries handed to its state machine, its events, and its state after.
#[derive(Clone, Debug, PartialEq)]
pub struct StepTrace {
    pub writes: Vec<DurableWrite>,
    pub applied: Vec<Entry>,
    pub events: Vec<RaftEvent>,
    /// The node's state after the step, as far as the rules read it: a node's full
    /// [`NodeView`] is taken once per hand-off, not once per step.
    pub after: Volatile,
}

/// One entry of a node's mirrored log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Mirrored {
    term: Term,
    /// The hash of the entry and of every entry before it.
    chain: u64,
}

/// A configuration entry of a node's mirrored log.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ConfigEntry {
    index: Index,
    voters: Vec<NodeId>,
    learners: Vec<NodeId>,
}

/// What the checker knows of one node.
#[derive(Clone, Debug, Default)]
struct NodeTrack {
    log: IndexWindow<Mirrored>,
    /// The last index of the node's latest snapshot: it appends, applies and commits only
    /// after it.
    snapshot_index: Index,
    /// The configuration entries of `log`, by increasing index.
    configs: Vec<ConfigEntry>,
    /// The highest term the node has made durable.
    durable_term: Term,
    /// The node's state after its last step, while it is up.
    last: Option<Volatile>,
}

/// What the rules read of a node's state after a step: a copy of four fields of its
/// [`NodeView`], kept without the view's shared lists (no reference counts to move).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Volatile {
    pub role: Role,
    pub term: Term,
    pub commit: Index,
    pub applied: Index,
}

impl Volatile {
    pub fn of(view: &NodeView) -> Volatile {
        Volatile {
            role: view.role,
            term: view.term,
            commit: view.commit,
            applied: view.applied,
        }
    }
}

/// An entry seen committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Committed {
    /// The digest of the entry and every entry before it, in the log of the node seen
    /// committing it.
    pub chain: u64,
    pub term: Term,
    pub node: NodeId,
    /// The term of the node seen committing it.
    pub in_term: Term,
}

/// Leader Completeness, as this checker and `raftlab explore` both hold it: a node that
/// became leader of `term` must hold every entry committed in an earlier term. Entries
/// committed are a prefix, so the check is of the last of them: `commit_terms` gives the
/// highest index seen committed in each term, `committed_at` the entry seen committed at
/// an index (`None` where nothing can be said of it), `held` the chain digest the new
/// leader's log has at an index. When the rule is broken: the index, the entry committed
/// there, and what broke.
pub fn leader_completeness(
    node: NodeId,
    term: Term,
    commit_terms: impl Iterator<Item = (Term, Index)>,
    committed_at: impl Fn(Index) -> Option<Committed>,
    held: impl Fn(Index) -> Option<u64>,
) -> Option<(Index, Committed, Breach)> {
    let index = commit_terms
        .filter(|&(t, i)| t < term && i > 0)
        .map(|(_, i)| i)
        .max()?;
    let committed = committed_at(index)?;
    let held = held(index);
    if held == Some(committed.chain) {
        return None;
    }
    let breach = Breach::LeaderLacksCommitted {
        node,
        term,
        index,
        holds_other: held.is_some(),
        entry_term: committed.term,
        committed_by: committed.node,
        in_term: committed.in_term,
    };
    Some((index, committed, breach))
}

/// An entry seen applied, with the first node that applied it.
#[derive(Clone, Copy, Debug)]
struct Applied {
    digest: u64,
    term: Term,
    node: NodeId,
}

/// The checker's state. See the module documentation.
#[derive(Clone, Debug, Default)]
pub struct Checker {
    /// The voters of the initial configuration, in force where a log holds no
    /// configuration entry (empty: unknown, and Commit Quorum is not checked there).
    initial_voters: Vec<NodeId>,
    /// What the checker knows of each node (looked up several times on every step).
    nodes: NodeMap<NodeTrack>,
    leaders: BTreeMap<Term, NodeId>,
    votes: BTreeMap<(NodeId, Term), NodeId>,
    /// The hash chain of each (index, term) ever appended, and a node that held it.
    entries: EntriesSeen,
    /// The voters and learners of each configuration entry ever appended, by index and
    /// term, to rebuild a node's configurations when a snapshot replaces its log.
    configs_seen: BTreeMap<(Index, Term), (Vec<NodeId>, Vec<NodeId>)>,
    /// Entries seen committed, by index.
    committed: IndexWindow<Committed>,
    /// The configuration entries among them, by increasing index (kept whole: they are
    /// few, and a snapshot's configuration is the last of them before it).
    committed_configs: Vec<ConfigEntry>,
    /// For each term, the highest index seen committed by a node in that term, by
    /// increasing term (nearly every commit is seen in the latest term: updated in place).
    commit_terms: Vec<(Term, Index)>,
    /// Entries seen applied, by index.
    applied: IndexWindow<Applied>,
    /// The digests of the entries seen lately, each computed once for every node.
    digests: DigestCache,
    /// Counts the changes to any node's configuration entries (`NodeTrack::configs`):
    /// equal counts mean every node's configurations are as they were.
    config_changes: u64,
    violations: Vec<Violation>,
    counts: BTreeMap<Rule, u64>,
    published: usize,
    steps: u64,
    time_us: u64,
}

impl Checker {
    pub fn new() -> Checker {
        Checker::default()
    }

    /// A checker of a cluster started with `voters`: the configuration in force until a
    /// configuration entry replaces it.
    pub fn with_voters(voters: &[NodeId]) -> Checker {
        Checker {
            initial_voters: voters.to_vec(),
            ..Checker::default()
        }
    }

    /// The index, voters and learners of `node`'s latest configuration, from the checker's
    /// mirror of its log: index 0 and the initial voters when its log holds none.
    pub fn configuration_of(&self, node: NodeId) -> (Index, Vec<NodeId>, Vec<NodeId>) {
        match self.nodes.get(&node).and_then(|t| t.configs.last()) {
            Some(config) => (config.index, config.voters.clone(), config.learners.clone()),
            None => (0, self.initial_voters.clone(), Vec::new()),
        }
    }

    /// Every configuration of `node`'s log, from the checker's mirror: the initial one
    /// (index 0), then each configuration entry, as index, voters and learners.
    pub fn configurations_of(&self, node: NodeId) -> Vec<(Index, Vec<NodeId>, Vec<NodeId>)> {
        let initial = (0, self.initial_voters.clone(), Vec::new());
        let entries = self.nodes.get(&node).map_or(&[][..], |t| &t.configs[..]);
        std::iter::once(initial)
            .chain(
                entries
                    .iter()
                    .map(|c| (c.index, c.voters.clone(), c.learners.clone())),
            )
            .collect()
    }

    /// Like [`Checker::configurations_of`], borrowed: no copy of the member lists.
    pub fn configurations_iter(
        &self,
        node: NodeId,
    ) -> impl Iterator<Item = (Index, &[NodeId], &[NodeId])> {
        let entries = self.nodes.get(&node).map_or(&[][..], |t| &t.configs[..]);
        std::iter::once((0, &self.initial_voters[..], &[][..])).chain(
            entries
                .iter()
                .map(|c| (c.index, &c.voters[..], &c.learners[..])),
        )
    }

    /// How many of `node`'s configurations ([`Checker::configurations_iter`]: the initial
    /// one, then each configuration entry of its log) are at or before `index`.
    pub fn configuration_count_to(&self, node: NodeId, index: Index) -> usize {
        let entries = self.nodes.get(&node).map_or(&[][..], |t| &t.configs[..]);
        1 + entries.partition_point(|c| c.index <= index)
    }

    /// A number that changes whenever any node's configurations do (the answers of
    /// [`Checker::configurations_iter`]): while it stays the same, so do they.
    pub fn configurations_version(&self) -> u64 {
        self.config_changes
    }

    /// The voters in force for `node`: those of the latest configuration entry in its
    /// log, else the initial voters.
    fn voters_in_force(&self, node: NodeId) -> &[NodeId] {
        match self.nodes.get(&node).and_then(|t| t.configs.last()) {
            Some(config) => &config.voters,
            None => &self.initial_voters,
        }
    }

    /// Every violation kept so far, in the order found.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// How many violations were found in all, kept or only counted.
    pub fn violation_count(&self) -> u64 {
        self.counts.values().sum()
    }

    /// How many violations of each rule were found.
    pub fn counts(&self) -> &BTreeMap<Rule, u64> {
        &self.counts
    }

    /// How many node steps the checker has checked.
    pub fn steps_checked(&self) -> u64 {
        self.steps
    }

    /// Whether violations were kept since the last [`Checker::take_new`].
    pub fn has_new(&self) -> bool {
        self.published < self.violations.len()
    }

    /// The violations kept since the last call, to publish.
    pub fn take_new(&mut self) -> Vec<Violation> {
        let new = self.violations[self.published..].to_vec();
        self.published = self.violations.len();
        new
    }

    /// Reports a message storm found by the scheduler at `time_us` ([`super::storm`]).
    pub fn report_storm(&mut self, time_us: u64, nodes: Vec<NodeId>, storm: Storm) {
        self.time_us = self.time_us.max(time_us);
        let detail = Breach::Storm(storm);
        self.report(Rule::MessageStorm, nodes, (None, Vec::new()), detail);
    }

    fn report(
        &mut self,
        rule: Rule,
        nodes: Vec<NodeId>,
        at: (Option<Index>, Vec<Term>),
        detail: Breach,
    ) {
        let count = self.counts.entry(rule).or_default();
        *count += 1;
        if *count > KEPT_PER_RULE as u64 {
            return;
        }
        let (index, terms) = at;
        self.violations.push(Violation {
            rule,
            time_us: self.time_us,
            nodes,
            index,
            terms,
            detail,
        });
    }

    fn track(&mut self, node: NodeId) -> &mut NodeTrack {
        self.nodes.get_or_insert_with(node, NodeTrack::default)
    }

    // ---- nodes up and down --------------------------------------------------------------

    /// Node `node` started (or restarted) from its durable storage, in state `view`.
    pub fn node_up(&mut self, time_us: u64, node: NodeId, view: &NodeView) {
        self.time_us = time_us;
        let durable = self.track(node).durable_term;
        if view.term < durable {
            let detail = Breach::RestartedInLowerTerm {
                node,
                term: view.term,
                durable,
            };
            self.report(
                Rule::TermMonotonic,
                vec![node],
                (None, vec![durable, view.term]),
                detail,
            );
        }
        let track = self.track(node);
        track.durable_term = track.durable_term.max(view.term);
        track.last = Some(Volatile::of(view));
    }

    /// Node `node` is no longer hosted at all (an `add` that was refused): it never ran.
    pub fn forget(&mut self, node: NodeId) {
        self.nodes.remove(&node);
        self.config_changes += 1;
    }

    /// Node `node` went down (killed or crashed): its volatile state is gone.
    pub fn node_down(&mut self, node: NodeId) {
        self.track(node).last = None;
    }

    /// Node `node`'s durable state was replaced by hand (`set-log`). Its entries enter the
    /// mirror but not the table of entries seen, since they were never created by a leader.
    pub fn log_replaced(&mut self, node: NodeId, storage: &Storage) {
        let track = self.track(node);
        track.log = IndexWindow::starting_at(storage.log.first_index(), None);
        track.snapshot_index = storage.log.snapshot_index();
        track.configs.clear();
        self.config_changes += 1;
        let track = self.track(node);
        let mut previous = 0;
        for entry in storage.log.entries() {
            previous = chain(previous, digest(entry));
            track.log.push(Mirrored {
                term: entry.term,
                chain: previous,
            });
            if let Payload::Config(members) = &entry.payload {
                track.configs.push(ConfigEntry {
                    index: entry.index,
                    voters: members.voters.clone(),
                    learners: members.learners.clone(),
                });
            }
        }
        track.durable_term = track.durable_term.max(storage.term);
    }

    // ---- steps --------------------------------------------------------------------------

    /// Checks the steps one hand-off made on `node`, at `time_us`.
    pub fn observe(&mut self, time_us: u64, node: NodeId, steps: &[StepTrace]) {
        self.time_us = time_us;
        if steps.is_empty() {
            return;
        }
        let mut before = self.track(node).last;
        let mut changed = false;
        for step in steps {
            self.steps += 1;
            let after = &step.after;
            // Most steps of a busy cluster change nothing the rules read (a heartbeat
            // answered, a message that only moves a leader's progress): with no writes,
            // entries applied or events, and the state as it was, no rule can break, as
            // long as the state was not already one that breaks a rule by itself
            // (applied past commit, reported on every step).
            let unchanged = before.as_ref() == Some(after) && after.applied <= after.commit;
            if unchanged
                && step.writes.is_empty()
                && step.applied.is_empty()
                && step.events.is_empty()
            {
                continue;
            }
            for write in &step.writes {
                self.write(node, before.as_ref(), after, write);
            }
            for entry in &step.applied {
                self.applied_entry(node, entry);
            }
            if let Some(before) = &before {
                self.volatile(node, before, after);
            }
            self.commits(node, before.as_ref(), after);
            for event in &step.events {
                self.event(node, event);
            }
            before = Some(*after);
            changed = true;
        }
        // A hand-off whose every step changed nothing leaves the node's state as it was.
        if changed {
            self.track(node).last = before;
        }
    }

    fn write(
        &mut self,
        node: NodeId,
        before: Option<&Volatile>,
        after: &Volatile,
        write: &DurableWrite,
    ) {
        match write {
            DurableWrite::HardState { term, .. } => {
                let track = self.track(node);
                let durable = track.durable_term;
                track.durable_term = durable.max(*term);
                if *term < durable {
                    let detail = Breach::WroteLowerTerm {
                        node,
                        term: *term,
                        durable,
                    };
                    self.report(
                        Rule::TermMonotonic,
                        vec![node],
                        (None, vec![durable, *term]),
                        detail,
                    );
                }
            }
            DurableWrite::Truncate { from } => {
                let leading = before.filter(|b| b.role == Role::Leader && b.term == after.term);
                if let Some(leader) = leading {
                    let detail = Breach::LeaderTruncated {
                        node,
                        term: leader.term,
                        from: *from,
                    };
                    self.report(
                        Rule::LeaderAppendOnly,
                        vec![node],
                        (Some(*from), vec![leader.term]),
                        detail,
                    );
                }
                let track = self.track(node);
                track.log.truncate_from(*from);
                let configs = track.configs.len();
                track.configs.retain(|c| c.index < *from);
                if track.configs.len() != configs {
                    self.config_changes += 1;
                }
            }
            DurableWrite::Append { entries } => {
                for entry in entries {
                    if let Payload::Config(members) = &entry.payload {
                        self.one_config_change(node, after, entry.index, entry.term);
                        self.config_appended(node, entry, &members.voters, &members.learners);
                    }
                    self.append(node, entry);
                }
            }
            DurableWrite::Snapshot(snapshot) => self.snapshot(node, snapshot.index, snapshot.term),
        }
    }

    /// Mirrors a configuration entry `node` appended.
    fn config_appended(
        &mut self,
        node: NodeId,
        entry: &Entry,
        voters: &[NodeId],
        learners: &[NodeId],
    ) {
        self.configs_seen
            .entry((entry.index, entry.term))
            .or_insert_with(|| (voters.to_vec(), learners.to_vec()));
        self.config_changes += 1;
        let track = self.track(node);
        track.configs.retain(|c| c.index < entry.index);
        track.configs.push(ConfigEntry {
            index: entry.index,
            voters: voters.to_vec(),
            learners: learners.to_vec(),
        });
    }

    /// Holds One Config Change for a configuration entry at `index`@`term` that `node`
    /// appends: if it is the leader of `term` adding its own entry, every configuration
    /// entry before it must be committed.
    fn one_config_change(&mut self, node: NodeId, after: &Volatile, index: Index, term: Term) {
        if after.role != Role::Leader || after.term != term {
            return;
        }
        let Some(pending) = self.nodes.get(&node).and_then(|t| {
            t.configs
                .iter()
                .rev()
                .find(|c| c.index < index)
                .map(|c| c.index)
        }) else {
            return;
        };
        if pending <= after.commit {
            return;
        }
        let detail = Breach::ConfigChangeBeforeCommit {
            node,
            term,
            index,
            pending,
            commit: after.commit,
        };
        self.report(
            Rule::OneConfigChange,
            vec![node],
            (Some(index), vec![term]),
            detail,
        );
    }

    /// Holds State Machine Safety for an entry `node` applied.
    fn applied_entry(&mut self, node: NodeId, entry: &Entry) {
        let digest = self.digests.digest(entry);
        match self.applied.get(entry.index) {
            Some(first) if first.digest == digest => {}
            Some(first) => {
                let detail = Breach::AppliedDiffer {
                    node,
                    term: entry.term,
                    index: entry.index,
                    first: first.node,
                    first_term: first.term,
                };
                let at = (Some(entry.index), vec![first.term, entry.term]);
                self.report(Rule::StateMachineSafety, vec![first.node, node], at, detail);
            }
            None if entry.index == self.applied.end() => self.applied.push(Applied {
                digest,
                term: entry.term,
                node,
            }),
            // An index beyond what any node applied so far, with a gap before it: only a
            // node whose commit ran past its log can get there. Left unrecorded, as is one
            // every node has compacted (let go).
            None => {}
        }
    }

    /// The per-node rules on volatile state, within one incarnation.
    fn volatile(&mut self, node: NodeId, before: &Volatile, after: &Volatile) {
        if after.term < before.term {
            let detail = Breach::TermWentBack {
                node,
                from: before.term,
                to: after.term,
            };
            self.report(
                Rule::TermMonotonic,
                vec![node],
                (None, vec![before.term, after.term]),
                detail,
            );
        }
        if after.commit < before.commit {
            let detail = Breach::CommitWentBack {
                node,
                from: before.commit,
                to: after.commit,
            };
            self.report(
                Rule::CommitMonotonic,
                vec![node],
                (Some(after.commit), vec![after.term]),
                detail,
            );
        }
        if after.applied < before.applied {
            let detail = Breach::AppliedWentBack {
                node,
                from: before.applied,
                to: after.applied,
            };
            self.report(
                Rule::AppliedMonotonic,
                vec![node],
                (Some(after.applied), vec![after.term]),
                detail,
            );
        }
        if after.applied > after.commit {
            let detail = Breach::AppliedPastCommit {
                node,
                applied: after.applied,
                commit: after.commit,
            };
            self.report(
                Rule::AppliedWithinCommit,
                vec![node],
                (Some(after.applied), vec![after.term]),
                detail,
            );
        }
    }

    /// Records the entries `node` was seen committing, and in which term.
    fn commits(&mut self, node: NodeId, before: Option<&Volatile>, after: &Volatile) {
        let from = before.map_or(0, |b| b.commit);
        if after.commit <= from {
            return;
        }
        if after.role == Role::Leader {
            self.commit_quorum(node, after);
        }
        self.seen_committed_in(after.term, after.commit);
        // Usually another node was seen committing these entries first.
        if self.committed.end() > after.commit {
            return;
        }
        let track = &self.nodes[&node];
        for index in self.committed.end()..=after.commit {
            let Some(mirrored) = track.log.get(index) else {
                break;
            };
            self.committed.push(Committed {
                chain: mirrored.chain,
                term: mirrored.term,
                node,
                in_term: after.term,
            });
            if let Some((voters, learners)) = self.configs_seen.get(&(index, mirrored.term)) {
                self.committed_configs.push(ConfigEntry {
                    index,
                    voters: voters.clone(),
                    learners: learners.clone(),
                });
            }
        }
    }

    /// Records that a node in `term` was seen committing up to `commit`.
    fn seen_committed_in(&mut self, term: Term, commit: Index) {
        let terms = &mut self.commit_terms;
        let position = match terms.last() {
            Some(&(last, _)) if last == term => Ok(terms.len() - 1),
            _ => terms.binary_search_by_key(&term, |&(t, _)| t),
        };
        match position {
            Ok(position) => terms[position].1 = terms[position].1.max(commit),
            Err(position) => terms.insert(position, (term, commit)),
        }
    }

    /// Holds Commit Quorum for leader `node`, which has just advanced its commit index.
    fn commit_quorum(&mut self, node: NodeId, after: &Volatile) {
        let index = after.commit;
        let Some(own) = self.nodes[&node].log.get(index).map(|m| m.chain) else {
            return;
        };
        let voters = self.voters_in_force(node);
        if voters.is_empty() {
            return;
        }
        let holds = |voter: &NodeId| {
            self.nodes
                .get(voter)
                .and_then(|t| t.log.get(index))
                .is_some_and(|m| m.chain == own)
        };
        // Checked on every commit: the holders are only listed for a report.
        if voters.iter().filter(|v| holds(v)).count() * 2 > voters.len() {
            return;
        }
        let holders: Vec<NodeId> = voters.iter().copied().filter(holds).collect();
        let voters = voters.to_vec();
        let mut nodes = vec![node];
        nodes.extend(holders.iter().copied());
        let detail = Breach::CommitWithoutMajority {
            node,
            term: after.term,
            index,
            holders,
            voters,
        };
        self.report(
            Rule::CommitQuorum,
            nodes,
            (Some(index), vec![after.term]),
            detail,
        );
    }

    fn event(&mut self, node: NodeId, event: &RaftEvent) {
        match *event {
            RaftEvent::BecameLeader { term } => {
                self.election_safety(node, term);
                self.leader_completeness(node, term);
            }
            RaftEvent::Voted { term, candidate } => self.vote_once(node, term, candidate),
            _ => {}
        }
    }

    fn election_safety(&mut self, node: NodeId, term: Term) {
        match self.leaders.get(&term) {
            Some(&other) if other != node => {
                let detail = Breach::TwoLeaders {
                    first: other,
                    second: node,
                    term,
                };
                self.report(
                    Rule::ElectionSafety,
                    vec![other, node],
                    (None, vec![term]),
                    detail,
                );
            }
            Some(_) => {}
            None => {
                self.leaders.insert(term, node);
            }
        }
    }

    fn vote_once(&mut self, node: NodeId, term: Term, candidate: NodeId) {
        match self.votes.get(&(node, term)) {
            Some(&first) if first != candidate => {
                let detail = Breach::VotedTwice {
                    node,
                    first,
                    second: candidate,
                    term,
                };
                self.report(
                    Rule::VoteOnce,
                    vec![node, first, candidate],
                    (None, vec![term]),
                    detail,
                );
            }
            Some(_) => {}
            None => {
                self.votes.insert((node, term), candidate);
            }
        }
    }

    /// A new leader of `term` must hold every entry committed in an earlier term. Entries
    /// committed are a prefix, so the check is of the last of them, by its hash chain.
    fn leader_completeness(&mut self, node: NodeId, term: Term) {
        let log = &self.nodes[&node].log;
        let committed = &self.committed;
        let committed_at = |index: Index| {
            if index < committed.first() {
                // Let go, as every node compacted past it: equal chains at a later index
                // cover it.
                let at = log.first().max(committed.first()) - 1;
                let chain = committed.at(at).map(|c| c.chain);
                if chain.is_some() && log.at(at).map(|m| m.chain) == chain {
                    return None;
                }
            }
            committed.get(index)
        };
        let found = leader_completeness(
            node,
            term,
            self.commit_terms[..self.commit_terms.partition_point(|&(t, _)| t < term)]
                .iter()
                .copied(),
            committed_at,
            |index| log.get(index).map(|m| m.chain),
        );
        let Some((index, committed, detail)) = found else {
            return;
        };
        let at = (Some(index), vec![term, committed.term]);
        self.report(
            Rule::LeaderCompleteness,
            vec![node, committed.node],
            at,
            detail,
        );
    }

    /// The nodes that have been seen at all.
    pub fn nodes_seen(&self) -> BTreeSet<NodeId> {
        self.nodes.keys().copied().collect()
    }
}

/// The clients' history as the linearizability checker reads it:
///
/// - an operation that returned (`Done`) is `Returned` with its output, at its response time;
/// - one that timed out, or is still in progress, is `Unknown`: it may have taken effect
///   at any time after its invoke, or never;
/// - one refused (sent `via` a node that is not the leader, or is down) is left out when
///   no attempt can have reached a log (every attempt was answered "not the leader", or
///   none was sent): it never took effect. A refusal after an attempt that may have been
///   appended (the `via` node took it as leader, then lost its leadership or went down)
///   is `Unknown` instead, since a later leader may still commit that entry.
pub fn operations(history: &[ClientRecord]) -> Vec<Operation> {
    history
        .iter()
        .filter_map(|record| {
            let outcome = match (&record.outcome, record.response_us) {
                (Some(ClientOutcome::Done { output, .. }), Some(response_us)) => {
                    Outcome::Returned {
                        output: output.clone(),
                        response_us,
                    }
                }
                (Some(ClientOutcome::Refused { .. }), _) if !record.may_be_in_log => return None,
                _ => Outcome::Unknown,
            };
            Some(Operation {
                client: record.client,
                op: (*record.request).clone(),
                invoke_us: record.invoke_us,
                outcome,
            })
        })
        .collect()
}

mod digests;
mod mirror;
#[cfg(test)]
mod tests;
mod window;
