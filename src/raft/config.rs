//! The settings of one node's Raft.

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
}

impl Default for RaftConfig {
    fn default() -> Self {
        RaftConfig {
            election_timeout_min_us: 150_000,
            election_timeout_max_us: 300_000,
            heartbeat_us: 50_000,
            max_append_entries: 256,
            max_inflight_appends: 8,
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
}

impl RaftConfig {
    /// Checks that the settings can work: a non-empty timeout range, and heartbeats that
    /// come more often than the shortest election timeout.
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
        Ok(())
    }
}
