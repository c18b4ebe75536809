//! The settings of one node's Raft, and the teaching bugs it can be told to have.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// The settings of one node's Raft. Times are microseconds of cluster time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaftConfig {
    /// The shortest election timeout.
    pub election_timeout_min_us: u64,
    /// The longest election timeout; each timeout is drawn uniformly from min..=max.
    pub election_timeout_max_us: u64,
    /// How often a leader sends AppendEntries to every follower, entries or not.
    pub heartbeat_us: u64,
    /// The most entries one AppendEntries carries.
    pub max_append_entries: usize,
    /// The most AppendEntries with entries a leader has in flight to one follower.
    pub max_inflight_appends: u32,
    /// PreVote (thesis section 9.6): a node whose election timer fires first asks whether
    /// it could win at `term + 1`, without raising its term, and starts a real election
    /// only if a majority says yes. A node cut off from the cluster then cannot raise its
    /// term and depose the leader when it comes back.
    pub prevote: bool,
    /// CheckQuorum (thesis section 6.2): a leader that has not heard from a majority within
    /// an election timeout steps down, and a node that heard from a leader within the
    /// shortest election timeout ignores RequestVote (leader stickiness).
    pub check_quorum: bool,
    /// How a leader answers reads: through the log, by ReadIndex, or under a lease (which
    /// needs `check_quorum`).
    pub reads: ReadMode,
    /// Take a snapshot and compact the log whenever this many entries were applied since
    /// the last snapshot; 0 never does (snapshots are then only taken on request).
    pub snapshot_every: u64,
    /// Deliberate mistakes, for lessons that show what the checker catches. Empty in any
    /// real use.
    pub bugs: BTreeSet<Bug>,
}

impl Default for RaftConfig {
    fn default() -> Self {
        RaftConfig {
            election_timeout_min_us: 150_000,
            election_timeout_max_us: 300_000,
            heartbeat_us: 50_000,
            max_append_entries: 256,
            max_inflight_appends: 8,
            prevote: false,
            check_quorum: false,
            reads: ReadMode::Log,
            snapshot_every: 0,
            bugs: BTreeSet::new(),
        }
    }
}

/// How reads are served.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReadMode {
    /// A read is a log entry like a write, answered when applied.
    #[default]
    Log,
    /// ReadIndex (thesis section 6.4): the leader notes its commit index, confirms with a
    /// round of LeaderCheck messages that it still leads, and answers from its state
    /// machine once that index is applied. No log entry.
    ReadIndex,
    /// Lease reads (thesis section 6.4.1): a leader whose heartbeat sent at time `t` was
    /// acknowledged by a majority holds a lease until `t` + [`RaftConfig::lease_us`], and
    /// answers reads at once while it holds it, without a message round; otherwise as
    /// ReadIndex. Needs `check_quorum` (leader stickiness keeps the followers that
    /// acknowledged from electing anyone else before the lease ends), and assumes that
    /// the nodes' clocks run at the same rate, within [`LEASE_CLOCK_DRIFT_PERCENT`].
    Lease,
}

/// How far apart, in percent, the rates of two nodes' clocks may be for lease reads to be
/// safe: a leader's lease is shortened by this share of the shortest election timeout
/// ([`RaftConfig::lease_us`]). A follower measures its stickiness window on its own clock;
/// if that clock runs fast by more than this, the follower may vote for a new leader while
/// the old one still believes its lease holds.
pub const LEASE_CLOCK_DRIFT_PERCENT: u64 = 10;

impl ReadMode {
    /// The mode's name, as in `reads: read-index`.
    pub fn name(self) -> &'static str {
        match self {
            ReadMode::Log => "log",
            ReadMode::ReadIndex => "read-index",
            ReadMode::Lease => "lease",
        }
    }
}

impl FromStr for ReadMode {
    type Err = String;

    fn from_str(text: &str) -> Result<ReadMode, String> {
        match text {
            "log" => Ok(ReadMode::Log),
            "read-index" => Ok(ReadMode::ReadIndex),
            "lease" => Ok(ReadMode::Lease),
            _ => Err(format!(
                "unknown read mode '{text}': expected log, read-index or lease"
            )),
        }
    }
}

/// A setting that cannot work.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error("election timeout range {min_us}us..{max_us}us is empty or starts at 0")]
    ElectionTimeout { min_us: u64, max_us: u64 },
    #[error("heartbeat must be above 0 and below the shortest election timeout")]
    Heartbeat,
    #[error("max_append_entries and max_inflight_appends must be at least 1")]
    Flow,
    #[error("lease reads need check_quorum: true ({LEASE_NEEDS_CHECK_QUORUM})")]
    LeaseWithoutCheckQuorum,
}

/// Why lease reads need CheckQuorum, for the messages that refuse one without the other.
pub const LEASE_NEEDS_CHECK_QUORUM: &str = "the lease rests on leader stickiness: followers that heard from the leader refuse to \
     vote for a while";

impl RaftConfig {
    /// Whether the teaching bug `bug` is on.
    pub fn has_bug(&self, bug: Bug) -> bool {
        self.bugs.contains(&bug)
    }

    /// Whether a bug is on that can break the safety of the log (every bug but those that
    /// only answer reads wrongly). The core's asserts that guard the log's safety are
    /// relaxed then, so that the broken run goes on and the checker, not a crashed node,
    /// reports what the bug did.
    pub fn log_safety_bugs(&self) -> bool {
        self.bugs.iter().any(|&bug| !bug.only_breaks_reads())
    }

    /// How long a leader's lease runs from the time it sent the heartbeat a majority
    /// acknowledged: the shortest election timeout less [`LEASE_CLOCK_DRIFT_PERCENT`] of
    /// it.
    pub fn lease_us(&self) -> u64 {
        let timeout_us = self.election_timeout_min_us;
        timeout_us - timeout_us * LEASE_CLOCK_DRIFT_PERCENT / 100
    }

    /// Checks that the settings can work: a non-empty timeout range, heartbeats that
    /// come more often than the shortest election timeout, and CheckQuorum under lease
    /// reads.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let (min_us, max_us) = (self.election_timeout_min_us, self.election_timeout_max_us);
        if min_us == 0 || min_us > max_us {
            return Err(ConfigError::ElectionTimeout { min_us, max_us });
        }
        if self.heartbeat_us == 0 || self.heartbeat_us >= min_us {
            return Err(ConfigError::Heartbeat);
        }
        if self.max_append_entries == 0 || self.max_inflight_appends == 0 {
            return Err(ConfigError::Flow);
        }
        if self.reads == ReadMode::Lease && !self.check_quorum {
            return Err(ConfigError::LeaseWithoutCheckQuorum);
        }
        Ok(())
    }
}

/// A deliberate mistake in the Raft core or the cluster around it: a teaching bug, turned
/// on with `--bug NAME` (or `raft: { bugs: [NAME] }` in a scenario) to show what breaks
/// and that the checker catches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bug {
    /// A leader commits an entry of an earlier term by counting its replicas (the
    /// mistake of the Raft paper's Figure 8).
    CommitPreviousTerm,
    /// A node grants its vote without the up-to-date check of section 5.4.1.
    VoteWithoutLogCheck,
    /// The vote is not made durable: the HardState write omits it, so a node that
    /// restarts may vote again in the same term.
    ForgetVote,
    /// A follower accepts AppendEntries without checking the term of the entry at
    /// `prev_log_index` (only that it has an entry there).
    SkipPrevCheck,
    /// A leader answers `get` from its own state machine without going through the log,
    /// so a deposed leader that does not know it yet serves stale reads.
    LeaderLocalReads,
    /// A follower sets its commit index to the leader's without bounding it by the last
    /// entry the AppendEntries matched, committing stale entries beyond it.
    CommitBeyondMatch,
    /// A leader counts its learners (nodes added and still catching up) toward the
    /// majority that commits an entry, as though they were voters.
    LearnersCount,
    /// A node handles a *response* (to its votes, appends, snapshots or leader checks)
    /// that carries a higher term as though it were of its own term, instead of taking
    /// the term and stepping down (Figure 2: "If RPC request or response contains term
    /// T > currentTerm: set currentTerm = T, convert to follower"). A deposed leader then
    /// never learns it was deposed, and answers every rejection with another
    /// AppendEntries at once: a message storm.
    IgnoreHigherTermResponse,
}

impl Bug {
    /// Whether the bug only makes reads answer wrongly, leaving the log safe.
    pub fn only_breaks_reads(self) -> bool {
        matches!(self, Bug::LeaderLocalReads)
    }

    /// Every bug, in the order of the declaration.
    pub const ALL: &'static [Bug] = &[
        Bug::CommitPreviousTerm,
        Bug::VoteWithoutLogCheck,
        Bug::ForgetVote,
        Bug::SkipPrevCheck,
        Bug::LeaderLocalReads,
        Bug::CommitBeyondMatch,
        Bug::LearnersCount,
        Bug::IgnoreHigherTermResponse,
    ];

    /// The bug's name, as typed after `--bug`.
    pub fn name(self) -> &'static str {
        match self {
            Bug::CommitPreviousTerm => "commit-previous-term",
            Bug::VoteWithoutLogCheck => "vote-without-log-check",
            Bug::ForgetVote => "forget-vote",
            Bug::SkipPrevCheck => "skip-prev-check",
            Bug::LeaderLocalReads => "leader-local-reads",
            Bug::CommitBeyondMatch => "commit-beyond-match",
            Bug::LearnersCount => "learners-count",
            Bug::IgnoreHigherTermResponse => "ignore-higher-term-response",
        }
    }
}

impl fmt::Display for Bug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A bug name that is not one of [`Bug::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("unknown bug '{0}': expected one of {names}", names = bug_names())]
pub struct UnknownBug(pub String);

fn bug_names() -> String {
    let names: Vec<&str> = Bug::ALL.iter().map(|bug| bug.name()).collect();
    names.join(", ")
}

impl FromStr for Bug {
    type Err = UnknownBug;

    fn from_str(name: &str) -> Result<Bug, UnknownBug> {
        Bug::ALL
            .iter()
            .copied()
            .find(|bug| bug.name() == name)
            .ok_or_else(|| UnknownBug(name.to_string()))
    }
}

#[cfg(test)]
mod tests;
