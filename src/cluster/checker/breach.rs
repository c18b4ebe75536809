//! What broke a rule, as values: the nodes, terms and indexes each rule's breach is
//! about. The REPL words them (`crate::repl::words`); the checker only records them.

use crate::cluster::storm::Storm;
use crate::raft::{Index, NodeId, Term};

/// What happened when a rule broke.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Breach {
    /// Term Monotonic: `node` restarted in `term`, below the `durable` term it reached.
    RestartedInLowerTerm {
        node: NodeId,
        term: Term,
        durable: Term,
    },
    /// Term Monotonic: `node` wrote `term` to its storage after `durable`.
    WroteLowerTerm {
        node: NodeId,
        term: Term,
        durable: Term,
    },
    /// Term Monotonic: `node`'s term went from `from` back to `to` while it ran.
    TermWentBack { node: NodeId, from: Term, to: Term },
    /// Leader Append-Only: `node`, leader of `term`, removed its entries from `from`.
    LeaderTruncated {
        node: NodeId,
        term: Term,
        from: Index,
    },
    /// One Config Change: `node`, leader of `term`, appended a configuration entry at
    /// `index` while the one at `pending` was not committed (its commit was `commit`).
    ConfigChangeBeforeCommit {
        node: NodeId,
        term: Term,
        index: Index,
        pending: Index,
        commit: Index,
    },
    /// Log Matching: `first` and `second` hold entries of `term` at `index` that differ,
    /// or whose earlier entries differ.
    LogsDiffer {
        first: NodeId,
        second: NodeId,
        term: Term,
        index: Index,
        /// Where the two logs first differ, where both still hold it.
        difference: Option<FirstDifference>,
    },
    /// State Machine Safety: `node` applied an entry of `term` at `index` where `first`
    /// applied one of `first_term` (of the same term: another command).
    AppliedDiffer {
        node: NodeId,
        term: Term,
        index: Index,
        first: NodeId,
        first_term: Term,
    },
    /// Commit Monotonic: `node`'s commit went from `from` back to `to`.
    CommitWentBack {
        node: NodeId,
        from: Index,
        to: Index,
    },
    /// Applied Monotonic: `node`'s applied index went from `from` back to `to`.
    AppliedWentBack {
        node: NodeId,
        from: Index,
        to: Index,
    },
    /// Applied Within Commit: `node` applied up to `applied` with commit `commit`.
    AppliedPastCommit {
        node: NodeId,
        applied: Index,
        commit: Index,
    },
    /// Commit Quorum: `node`, leader of `term`, committed `index`, which only `holders`
    /// of the `voters` hold.
    CommitWithoutMajority {
        node: NodeId,
        term: Term,
        index: Index,
        holders: Vec<NodeId>,
        voters: Vec<NodeId>,
    },
    /// Election Safety: `first` and `second` both became leader of `term`.
    TwoLeaders {
        first: NodeId,
        second: NodeId,
        term: Term,
    },
    /// Vote Once: `node` voted for `first` and for `second` in `term`.
    VotedTwice {
        node: NodeId,
        first: NodeId,
        second: NodeId,
        term: Term,
    },
    /// Leader Completeness: `node` became leader of `term` without the entry at `index`
    /// (`holds_other`: it holds another entry, or another prefix, there), committed with
    /// `entry_term` by `committed_by` in `in_term`.
    LeaderLacksCommitted {
        node: NodeId,
        term: Term,
        index: Index,
        holds_other: bool,
        entry_term: Term,
        committed_by: NodeId,
        in_term: Term,
    },
    /// Message Storm: the network's load crossed a bound.
    Storm(Storm),
}

/// Where two nodes' logs first differ (found by bisection over their hash chains).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FirstDifference {
    /// The first index at which the two logs differ.
    pub index: Index,
    /// Whether entries before it were compacted, so that the difference may start earlier.
    pub earlier_compacted: bool,
    /// The terms of the two entries there, in the order of the breach's two nodes.
    pub terms: (Term, Term),
}
