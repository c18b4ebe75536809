//! The Raft core: one node's Raft as a pure, deterministic state machine.
//!
//! A [`RaftProcessor`] is driven from outside, one input at a time:
//! `processor.step(now_us, input)` returns the [`Outputs`] that input caused
//! (`step_in_place` leaves them in the processor, whose lists keep their room). Like a
//! sans-IO protocol library, the core has no threads, no channels, no clock and no I/O.
//! Time is an argument (`now_us`, microseconds of cluster time), timers are data
//! ([`Outputs::next_deadline_us`]: call `step(.., Input::Tick)` once that time has come),
//! and randomness comes from a ChaCha RNG seeded at construction. The same seed and the
//! same inputs therefore give the same outputs, on any machine.
//!
//! The caller owns everything else: it persists [`DurableWrite`]s into a [`Storage`]
//! *before* it sends the messages of the same `Outputs` (a vote or an appended entry must
//! be durable before anyone hears of it), delivers messages, fires timers and applies
//! committed entries to its state machine. A node that crashes keeps only its `Storage`;
//! [`RaftProcessor::new`] rebuilds a node from it.
//!
//! What is here is Figure 2 of the Raft paper (Ongaro and Ousterhout, 2014): the three
//! roles, randomized election timeouts, RequestVote with the up-to-date check, one vote per
//! term, AppendEntries with the consistency check and truncation of conflicting entries
//! only, the commit rule of section 5.4.2 (Figure 8: only entries of the leader's own term
//! are committed by counting replicas), and a no-op entry on election. On top of the paper:
//! a fast back-up of `next_index` after a rejection (the follower names the conflicting
//! term and its first index, section 5.3's optimisation) and bounded, pipelined
//! AppendEntries.
//!
//! Teaching bugs ([`Bug`], in [`RaftConfig::bugs`]) turn single rules off on purpose, so
//! that a lesson or `raftlab check` can show what breaks. With a bug on that can break
//! the log's safety, the asserts guarding exactly that are relaxed (each says so), so the
//! node goes on and the cluster's checker reports the violation.
//!
//! Options from Ongaro's thesis, off by default (`processor/election.rs`): PreVote
//! ([`RaftConfig::prevote`], section 9.6), CheckQuorum with leader stickiness
//! ([`RaftConfig::check_quorum`], section 6.2), and leadership transfer
//! ([`Input::TransferLeader`], section 3.10: the leader brings the target up to date,
//! refuses proposals, sends it TimeoutNow, and gives up after an election timeout).
//!
//! ReadIndex reads ([`crate::raft::ReadMode::ReadIndex`], [`Input::Read`], thesis section
//! 6.4; `processor/read.rs`) answer a `get` without a log entry; lease reads
//! ([`crate::raft::ReadMode::Lease`], section 6.4.1, same file) answer it without a message
//! round while the leader holds a lease that leader stickiness guarantees. They rest on a
//! clock assumption, stated in `processor/read.rs`: the nodes' clocks advance at the same
//! rate, within [`LEASE_CLOCK_DRIFT_PERCENT`]. In this simulator every node reads the
//! scheduler's one virtual clock, so it holds by construction.
//!
//! Snapshots and log compaction (section 7) are in `processor/snapshot.rs`: a node compacts
//! its log up to a snapshot of its state machine (whose bytes the caller produces), and a
//! leader sends InstallSnapshot to a follower that needs entries it no longer holds.
//!
//! Single-server membership changes (thesis chapter 4; `processor/membership.rs`):
//! [`Input::AddNode`] and [`Input::RemoveNode`] append a [`Payload::Config`] entry; a
//! new node is a learner until it catches up. A snapshot records the configuration its
//! compacted log held. A voter that an uncommitted change removes may still campaign, so
//! that a leader that removed itself and lost its leadership cannot wedge the cluster;
//! the module doc of `processor/membership.rs` gives the rule ("Who campaigns").
//!
//! Deliberately left out here: joint consensus.

mod config;
mod log;
mod message;
mod node_map;
mod processor;
mod storage;

pub use config::{
    Bug, ConfigError, LEASE_CLOCK_DRIFT_PERCENT, LEASE_NEEDS_CHECK_QUORUM, RaftConfig, ReadMode,
    UnknownBug,
};
pub use log::RaftLog;
pub use message::{Envelope, Message};
pub use node_map::{NodeMap, find_node};
pub use processor::{
    DurableWrite, FollowerProgress, Input, NoLease, NodeView, Outputs, ProposeError, Proposed,
    RaftEvent, RaftProcessor, ReadId, ReadState, Role, StepDownCause,
};
pub use storage::{Snapshot, Storage};

/// A node's identity: nodes are numbered from 1.
pub type NodeId = u64;
/// A Raft term. Term 0 is the term before any election.
pub type Term = u64;
/// The largest term a node's durable state may be given from outside the protocol (`set-log`
/// builds a log of given terms): 2^32 - 1. From there a term grows one election at a time,
/// so it never comes near `Term::MAX`, and `term + 1` (a campaign, a pre-vote) cannot
/// overflow. The edges that take a term refuse one above this.
pub const MAX_GIVEN_TERM: Term = (1 << 32) - 1;
/// A position in the log. Entries are numbered from 1; index 0 is "before the first entry".
pub type Index = u64;
/// The bytes of a client command. Cloning one shares the bytes (`Vec<u8>` and `&[u8]`
/// convert with `into()`).
pub type Command = std::sync::Arc<[u8]>;

/// One entry of the replicated log.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Entry {
    /// The entry's position in the log, from 1.
    pub index: Index,
    /// The term of the leader that created the entry.
    pub term: Term,
    /// What the entry carries.
    pub payload: Payload,
}

impl Entry {
    /// Whether the entry carries a configuration.
    pub fn is_config(&self) -> bool {
        matches!(self.payload, Payload::Config(_))
    }
}

/// What a log entry carries.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Payload {
    /// The empty entry a new leader appends to commit entries of earlier terms (section 8).
    Noop,
    /// A client command, opaque to Raft. Shared, not copied: the same bytes sit in the
    /// log, the storage, every AppendEntries that carries them and the committed list.
    Command(Command),
    /// A cluster configuration (thesis chapter 4): in force from the moment it is in a
    /// node's log, committed or not. Boxed: configurations are rare, and two lists held
    /// inline would make every entry half as large again, in every log, message and copy.
    Config(Box<Members>),
}

/// The members a configuration entry names.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Members {
    /// The nodes that vote and count for a majority.
    pub voters: Vec<NodeId>,
    /// The nodes that receive entries and do neither.
    pub learners: Vec<NodeId>,
}

impl Payload {
    /// A configuration entry's payload naming `voters` and `learners`.
    pub fn config(voters: Vec<NodeId>, learners: Vec<NodeId>) -> Payload {
        Payload::Config(Box::new(Members { voters, learners }))
    }
}

/// Written as the payload was before its configuration was boxed
/// (`Config { voters: [..], learners: [..] }`), so that traces read the same.
impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Payload::Noop => f.write_str("Noop"),
            Payload::Command(command) => f.debug_tuple("Command").field(command).finish(),
            Payload::Config(members) => f
                .debug_struct("Config")
                .field("voters", &members.voters)
                .field("learners", &members.learners)
                .finish(),
        }
    }
}
