//! Durable storage: what a node keeps across a crash.

use super::{DurableWrite, Entry, Index, NodeId, RaftLog, Term};

/// A snapshot of a node's state machine: everything the log held up to `index`, applied.
/// The data is opaque to Raft: the state machine produces it and restores from it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// The last log index the snapshot covers.
    pub index: Index,
    /// The term of the entry at `index`.
    pub term: Term,
    /// The state machine's state after applying the entries up to `index`.
    pub data: Vec<u8>,
    /// The voters of the configuration in force at `index`, which the compacted log no
    /// longer holds (empty: none recorded, the node keeps the voters it was built with).
    pub voters: Vec<NodeId>,
    /// The learners of that configuration.
    pub learners: Vec<NodeId>,
}

impl Clone for Snapshot {
    fn clone(&self) -> Snapshot {
        Snapshot {
            index: self.index,
            term: self.term,
            data: self.data.clone(),
            voters: self.voters.clone(),
            learners: self.learners.clone(),
        }
    }

    /// Copies `source` into `self`'s buffers, which a snapshot's data may fit in.
    fn clone_from(&mut self, source: &Snapshot) {
        self.index = source.index;
        self.term = source.term;
        self.data.clone_from(&source.data);
        self.voters.clone_from(&source.voters);
        self.learners.clone_from(&source.learners);
    }
}

/// The durable state of one node (Figure 2's "persistent state on all servers"): the
/// current term, the vote cast in it, and the log. It outlives the node: after a crash,
/// [`super::RaftProcessor::new`] rebuilds the node from it.
///
/// It is kept in memory; the caller applies the [`DurableWrite`]s of each step to it
/// before sending that step's messages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Storage {
    /// The latest term the node has seen.
    pub term: Term,
    /// The candidate the node voted for in `term`, if any.
    pub vote: Option<NodeId>,
    /// The latest snapshot, if the node has taken or received one. Invariant: the log
    /// starts right after it (`log.snapshot_index() == snapshot.index`).
    pub snapshot: Option<Snapshot>,
    /// The log.
    pub log: RaftLog,
}

impl Storage {
    /// Storage holding `entries` (numbered from 1, terms non-decreasing) with the term set
    /// to at least the last entry's term and no vote: how the paper's figures are built.
    pub fn with_log(entries: Vec<Entry>, term: Term) -> Storage {
        let log = RaftLog::from_entries(entries);
        let term = term.max(log.last_term());
        Storage {
            term,
            vote: None,
            snapshot: None,
            log,
        }
    }

    /// Applies one write.
    pub fn apply(&mut self, write: &DurableWrite) {
        match write {
            DurableWrite::HardState { term, vote } => {
                assert!(*term >= self.term, "the durable term must never decrease");
                self.term = *term;
                self.vote = *vote;
            }
            DurableWrite::Truncate { from } => self.log.truncate_from(*from),
            DurableWrite::Append { entries } => self.log.extend_from_slice(entries),
            DurableWrite::Snapshot(snapshot) => {
                if snapshot.index > self.log.snapshot_index() {
                    self.log.compact(snapshot.index, snapshot.term);
                    // Copied into the buffers of the snapshot it replaces.
                    match &mut self.snapshot {
                        Some(kept) => kept.clone_from(snapshot),
                        None => self.snapshot = Some(snapshot.clone()),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(index: Index, data: &[u8], voters: &[NodeId]) -> Snapshot {
        Snapshot {
            index,
            term: 1,
            data: data.to_vec(),
            voters: voters.to_vec(),
            learners: Vec::new(),
        }
    }

    #[test]
    fn a_later_snapshot_replaces_the_kept_one_whole_and_an_earlier_one_changes_nothing() {
        let mut storage = Storage::with_log(Vec::new(), 1);
        let (first, second) = (snapshot(4, &[7; 64], &[1, 2, 3]), snapshot(9, b"kv", &[1]));
        for taken in [&first, &second, &first] {
            storage.apply(&DurableWrite::Snapshot(taken.clone()));
        }
        assert_eq!(storage.snapshot, Some(second));
        assert_eq!(storage.log.snapshot_index(), 9);
    }
}
