//! The checker's mirror of each node's log, as hash chains, and the rule that reads it
//! most: Log Matching, one hash comparison per entry appended, with the entries compared
//! one by one (by bisection over the chains) only to explain a violation.

use std::collections::{HashMap, hash_map};
use std::hash::BuildHasherDefault;

use crate::raft::{Entry, Index, NodeId, Term};

use super::window::IndexWindow;
use super::{Breach, Checker, Committed, FirstDifference, Mirrored, NodeTrack, Rule};
use crate::cluster::digest::Digest;

/// The hash chain of each (index, term) ever appended, and a node that held it. Nearly
/// every index only ever holds entries of one term: those are kept by index, in a vector
/// that grows without rehashing every entry seen (a long bench sees millions); the terms
/// that came later at an index, after a conflict, in a map.
#[derive(Clone, Debug, Default)]
pub(super) struct EntriesSeen {
    /// By index: the first term seen there (0 for none yet), its hash chain and the node.
    pub(super) first: IndexWindow<(Term, u64, NodeId)>,
    /// Any other term seen at an index.
    pub(super) later: HashMap<(Index, Term), (u64, NodeId), BuildHasherDefault<Digest>>,
}

impl EntriesSeen {
    /// What was first seen at `index`@`term`, or `None` after recording `seen` there.
    pub(super) fn seen_or_record(
        &mut self,
        index: Index,
        term: Term,
        seen: (u64, NodeId),
    ) -> Option<(u64, NodeId)> {
        if index == self.first.end() {
            // The common case: the next index, seen for the first time.
            self.first.push((term, seen.0, seen.1));
            return None;
        }
        self.first.extend_to(index, (0, 0, 0));
        // An index already let go: every node has compacted past it.
        let slot = self.first.get_mut(index)?;
        if slot.0 == 0 {
            *slot = (term, seen.0, seen.1);
            return None;
        }
        if slot.0 == term {
            return Some((slot.1, slot.2));
        }
        match self.later.entry((index, term)) {
            hash_map::Entry::Occupied(first) => Some(*first.get()),
            hash_map::Entry::Vacant(slot) => {
                slot.insert(seen);
                None
            }
        }
    }
}

impl Checker {
    /// Mirrors a snapshot written by `node` up to `index`@`term`. The mirror keeps every
    /// entry, compacted or not, so the rules read a compacted log as they read a whole one.
    /// A node that held the snapshot's last entry keeps its entries (they are the same by
    /// Log Matching); one that did not now holds what the snapshot stands for: the entries
    /// seen committed up to `index` (a snapshot holds committed entries only).
    pub(super) fn snapshot(&mut self, node: NodeId, index: Index, term: Term) {
        let track = self.track(node);
        let compacted_before = index <= track.snapshot_index;
        track.snapshot_index = track.snapshot_index.max(index);
        let held = track.log.get(index).map(|m| m.term);
        if held != Some(term) && !compacted_before {
            self.mirror_committed(node, index);
        }
        self.forget_compacted();
    }

    /// Makes `node`'s mirror what a snapshot up to `index` stands for: the entries seen
    /// committed up to there.
    pub(super) fn mirror_committed(&mut self, node: NodeId, index: Index) {
        let prefix = self.committed.prefix_to(index);
        let mirror = |c: Committed| Mirrored {
            term: c.term,
            chain: c.chain,
        };
        let mut committed = IndexWindow::starting_at(prefix.first(), prefix.before().map(mirror));
        for (_, entry) in prefix.iter() {
            committed.push(mirror(entry));
        }
        let configs = self
            .committed_configs
            .iter()
            .take_while(|c| c.index <= index)
            .cloned()
            .collect();
        self.config_changes += 1;
        let track = self.track(node);
        track.log = committed;
        track.configs = configs;
    }

    /// Lets go of what no rule can read again: the values at indexes that every node seen
    /// has compacted into a snapshot. No node appends, commits or applies there again (a
    /// node added later starts from a leader's snapshot or entries, which follow it);
    /// Leader Completeness below them compares the hash chains just before what is kept,
    /// which stand for every entry before. A node that never compacts (snapshots off, or
    /// down) keeps everything.
    pub(super) fn forget_compacted(&mut self) {
        let Some(floor) = self.nodes.values().map(|t| t.snapshot_index).min() else {
            return;
        };
        let floor = floor + 1;
        for track in self.nodes.values_mut() {
            track.log.forget_before(floor);
        }
        if self.entries.first.forget_before(floor) {
            self.entries.later.retain(|&(index, _), _| index >= floor);
        }
        self.committed.forget_before(floor);
        self.applied.forget_before(floor);
    }

    /// Mirrors one appended entry and holds Log Matching for it.
    pub(super) fn append(&mut self, node: NodeId, entry: &Entry) {
        let log = &mut self.nodes.get_or_insert_with(node, NodeTrack::default).log;
        let previous = log.last().map_or(0, |m| m.chain);
        let hash = self.digests.chain(previous, entry);
        log.push(Mirrored {
            term: entry.term,
            chain: hash,
        });
        match self
            .entries
            .seen_or_record(entry.index, entry.term, (hash, node))
        {
            None => {}
            Some((seen, _)) if seen == hash => {}
            Some((_, other)) => {
                let detail = Breach::LogsDiffer {
                    first: other,
                    second: node,
                    term: entry.term,
                    index: entry.index,
                    difference: self.first_difference(other, node, entry.index),
                };
                self.report(
                    Rule::LogMatching,
                    vec![other, node],
                    (Some(entry.index), vec![entry.term]),
                    detail,
                );
            }
        }
    }

    /// Where the mirrors of `a` and `b` first differ, up to `index`: found by
    /// bisection, since equal hash chains at an index mean equal entries up to there, and
    /// a difference at an index runs on to every later one. `None` when one of them no
    /// longer holds what differed (the entry at `index` was seen on `a` earlier, and its
    /// log has changed since).
    pub(super) fn first_difference(
        &self,
        a: NodeId,
        b: NodeId,
        index: Index,
    ) -> Option<FirstDifference> {
        let (log_a, log_b) = (&self.nodes.get(&a)?.log, &self.nodes.get(&b)?.log);
        let differs = |i: Index| match (log_a.at(i), log_b.at(i)) {
            (Some(x), Some(y)) => Some(x.chain != y.chain),
            _ => None,
        };
        if differs(index) != Some(true) {
            return None;
        }
        // Invariant: the chains differ at `high`; at `low` they are equal or not held.
        let (mut low, mut high) = (log_a.first().max(log_b.first()) - 1, index);
        while high - low > 1 {
            let middle = low + (high - low) / 2;
            if differs(middle) == Some(true) {
                high = middle;
            } else {
                low = middle;
            }
        }
        let (x, y) = (log_a.get(high)?, log_b.get(high)?);
        Some(FirstDifference {
            index: high,
            earlier_compacted: !(differs(low) == Some(false) || low == 0),
            terms: (x.term, y.term),
        })
    }
}
