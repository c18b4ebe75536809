//! How a cluster is set up.

use crate::raft::RaftConfig;

use super::ClusterError;

/// How cluster time moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockMode {
    /// Cluster time follows the wall clock times the speed.
    Realtime,
    /// Nothing happens until asked: `run`, `step`, `deliver`. Client commands wait for
    /// time to be advanced.
    Paused,
    /// Time jumps to the next due event; client commands run the clock until they finish.
    Virtual,
}

impl ClockMode {
    pub fn name(self) -> &'static str {
        match self {
            ClockMode::Realtime => "realtime",
            ClockMode::Paused => "paused",
            ClockMode::Virtual => "virtual",
        }
    }
}

/// Where a node's EventDispatcher runs.
///
/// Hosting does not change what happens: the scheduler hands one node its work at a time
/// and waits for its report either way, so a seed gives the same trace, byte for byte,
/// with either. It changes what a hand-off costs: a thread hand-off is two crossbeam sends
/// and two thread wake-ups (about 10-15 µs), an inline one is a function call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Hosting {
    /// Each node on a thread of its own, fed through its crossbeam inbox (the REPL, so
    /// that a cluster in realtime runs on real threads).
    #[default]
    Threads,
    /// Each node's dispatcher called directly by the scheduler, on the scheduler's thread
    /// (`raftlab run`, `raftlab check`, the election experiment: virtual time as fast as
    /// the machine allows). A node that panics is still caught and reported as crashed; a
    /// node that hangs hangs the run, where a thread would have been given up on.
    Inline,
}

impl Hosting {
    pub fn name(self) -> &'static str {
        match self {
            Hosting::Threads => "threads",
            Hosting::Inline => "inline",
        }
    }
}

/// The faults of the simulated network, applied to every message.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkConfig {
    /// The shortest delivery delay.
    pub delay_min_us: u64,
    /// The longest delivery delay; each delay is drawn uniformly from min..=max.
    pub delay_max_us: u64,
    /// The probability that a message is lost, 0..=1.
    pub drop: f64,
    /// The probability that a message is delivered twice, 0..=1.
    pub duplicate: f64,
    /// Whether messages on one link may overtake each other (otherwise a link is FIFO).
    pub reorder: bool,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            delay_min_us: 1_000,
            delay_max_us: 5_000,
            drop: 0.0,
            duplicate: 0.0,
            reorder: false,
        }
    }
}

impl NetworkConfig {
    pub fn validate(&self) -> Result<(), ClusterError> {
        for (name, value) in [("drop", self.drop), ("duplicate", self.duplicate)] {
            if !(0.0..=1.0).contains(&value) {
                return Err(ClusterError::Probability { name, value });
            }
        }
        if self.delay_min_us > self.delay_max_us {
            return Err(ClusterError::DelayRange {
                min_us: self.delay_min_us,
                max_us: self.delay_max_us,
            });
        }
        Ok(())
    }
}

/// Everything that sets up a cluster. The same configuration and seed, with the same
/// commands, give the same run in paused and virtual time.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterConfig {
    /// How many nodes, numbered 1..=nodes.
    pub nodes: u64,
    /// The one seed every random choice is derived from.
    pub seed: u64,
    pub clock: ClockMode,
    /// Cluster time per wall time in realtime mode (0.1 = ten times slower).
    pub speed: f64,
    pub raft: RaftConfig,
    pub network: NetworkConfig,
    /// How long a client waits for one attempt before it tries again.
    pub client_retry_us: u64,
    /// How long a client command may take in all before it is reported as timed out.
    pub client_deadline_us: u64,
    /// Where the nodes run: threads of their own, or inline in the scheduler.
    pub hosting: Hosting,
}

/// How many entries a node of the REPL's own cluster (`raftlab`, `raftlab watch`) applies
/// between two snapshots, so that a cluster left running holds its memory flat. Scenario
/// files and checks choose their own (`raft.snapshot_every`, 0 by default).
pub const REPL_SNAPSHOT_EVERY: u64 = 10_000;

/// The most nodes a cluster may have.
pub const MAX_NODES: u64 = 2001;

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            nodes: 5,
            seed: 1,
            clock: ClockMode::Realtime,
            speed: 1.0,
            raft: RaftConfig::default(),
            network: NetworkConfig::default(),
            client_retry_us: 400_000,
            client_deadline_us: 5_000_000,
            hosting: Hosting::Threads,
        }
    }
}

impl ClusterConfig {
    /// Checks the configuration before anything starts.
    pub fn validate(&self) -> Result<(), ClusterError> {
        if self.nodes == 0 || self.nodes > MAX_NODES {
            return Err(ClusterError::NodeCount {
                nodes: self.nodes,
                max: MAX_NODES,
            });
        }
        if !(self.speed.is_finite() && self.speed > 0.0) {
            return Err(ClusterError::Speed(self.speed));
        }
        self.raft.validate()?;
        self.network.validate()?;
        if self.client_retry_us == 0 || self.client_deadline_us == 0 {
            return Err(ClusterError::ClientTimeouts);
        }
        Ok(())
    }
}
