//! Durable storage: what a node keeps across a crash.

use super::{DurableWrite, Entry, Index, NodeId, RaftLog, Term};

/// A snapshot of a node's state machine: everything the log held up to `index`, applied.
/// The data is opaque to Raft: the state machine produces it and restores from it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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
                    self.snapshot = Some(snapshot.clone());
                }
            }
        }
    }
}
