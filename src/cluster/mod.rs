//! The cluster: N Raft nodes, each on its own thread, behind a simulated network, with a
//! clock that runs in real time, slowly, paused, or in virtual time.
//!
//! The parts, as in the design: every node runs an `EventDispatcher` (it takes in the
//! node's inputs from its crossbeam inbox, hands them to the [`crate::raft::RaftProcessor`]
//! and publishes what comes out) and a `LogSynchronizer` (it drains the node's
//! `LogBuffer` of client commands into one proposal per batch, and applies committed
//! entries in order to the node's key-value state machine); both are in `node.rs`.
//!
//! Around them, three rooms, each a type of its own:
//!
//! - the [`Scheduler`] (`scheduler/`), the one authority on time: it finds the work due,
//!   hands each node its due inputs one batch at a time and waits for the node's report,
//!   so that a paused or virtual run is deterministic; it carries out the user's commands
//!   (faults, a message or timer by hand, membership) and the clients' operations;
//! - the [`World`] (`world.rs`) it drives: the nodes' slots (durable storage, and for a
//!   node that is up its dispatcher, timer, view and state machine), the [`Network`] with
//!   its links, faults and messages in flight, and the membership;
//! - the [`Observers`] (`observers.rs`) it feeds: the event log and its subscribers, the
//!   [`Checker`], the storm watch and the crashes.
//!
//! [`Cluster`] is the one way in for the REPL, scenario files and front-ends: a driver
//! thread owns the scheduler; the handle sends it commands and reads the cluster back as
//! one data picture, a [`ClusterView`], or as the stream of [`ClusterEvent`]s. `check`,
//! the experiment and the bench's closed loop, which run inside one thread, drive a
//! [`Scheduler`] directly. The cluster never prints: it returns data and events, and the
//! REPL renders them.

pub mod bench;
pub mod checker;
mod client_table;
mod config;
mod digest;
pub mod event;
pub mod experiment;
mod handle;
pub mod kv;
pub mod linearizability;
mod network;
mod node;
mod observers;
mod scheduler;
pub mod seed;
pub mod settle;
pub mod storm;
pub mod view;
mod world;

use thiserror::Error;

use crate::raft::{ConfigError, MAX_GIVEN_TERM, NodeId, Term};

pub use checker::{Checker, Rule, Violation};
pub use client_table::{ClientRecord, ClientResult, Completion};
pub use config::{
    ClockMode, ClusterConfig, Hosting, MAX_NODES, NetworkConfig, REPL_SNAPSHOT_EVERY,
};
pub use event::{ClientOutcome, ClusterEvent, EventKind, MsgId, MsgInfo, NetworkChange, OpId};
pub use handle::{Cluster, NetworkView};
pub use network::{InFlight, Network};
pub use observers::{LogScope, Observers};
pub use scheduler::{HANDOFFS_PER_RUN_LIMIT, RunPosition, Scheduler, StepReport};
pub use view::{ClusterView, NodePicture, ViewLimits};
pub use world::{NodeState, World, describe_node_ids, id_runs};

/// What can go wrong when driving a cluster. Each leaves the cluster as it was.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum ClusterError {
    /// `nodes` names the nodes the cluster hosts (`nodes 1..3, 6`).
    #[error("node {node} does not exist (the cluster has {nodes})")]
    NoSuchNode { node: NodeId, nodes: String },
    /// `add` of an id above [`MAX_NODES`]; `nodes` as for `NoSuchNode`.
    #[error(
        "node ids go up to {MAX_NODES}, so node {node} cannot be added (the cluster has {nodes})"
    )]
    NodeIdTooLarge { node: NodeId, nodes: String },
    #[error("n{0} is up")]
    NodeIsUp(NodeId),
    #[error("n{0} is down")]
    NodeIsDown(NodeId),
    #[error("there is no leader (to hand its leadership over, or to change the membership)")]
    NoLeader,
    #[error("n{0} already leads")]
    AlreadyLeads(NodeId),
    #[error("n{0} is named twice")]
    NamedTwice(NodeId),
    #[error("a link needs two different nodes (n{0} twice)")]
    SelfLink(NodeId),
    #[error("there is no message #{0} in flight")]
    NoSuchMessage(MsgId),
    #[error("{name} must be a probability between 0 and 1, not {value}")]
    Probability { name: &'static str, value: f64 },
    #[error("the delay range {min_us}us..{max_us}us is empty (lo > hi)")]
    DelayRange { min_us: u64, max_us: u64 },
    #[error("speed must be a positive number, not {0}")]
    Speed(f64),
    #[error("a cluster has 1 to {max} nodes, not {nodes}")]
    NodeCount { nodes: u64, max: u64 },
    #[error("client retry and deadline must be above 0")]
    ClientTimeouts,
    #[error("log terms must not decrease")]
    TermsDecrease,
    #[error("term {0} is too large: log terms go up to {MAX_GIVEN_TERM}")]
    TermTooLarge(Term),
    #[error("{0}")]
    Raft(#[from] ConfigError),
    #[error("`{0}` needs a stopped clock: type `pause` first")]
    ClockRunning(&'static str),
    #[error("the clock is paused: the command completes when time advances (`run`, `step`)")]
    ClockPaused,
    #[error("the client's answer did not arrive")]
    ClientLost,
    #[error("the clock is stuck at {time_us}us of cluster time with work always due: a livelock")]
    Livelock { time_us: u64 },
    /// A run or wait stopped at the bound on hand-offs one call may take: the clock has
    /// moved on to `time_us` (unlike most errors, this one changed the cluster).
    #[error(
        "stopped after {handoffs} hand-offs, the most one run may take, at {time_us}us of \
         cluster time (the clock moved on to there)"
    )]
    RunTooLong { handoffs: u64, time_us: u64 },
    #[error("could not start a thread: {0}")]
    Spawn(String),
    #[error("internal error in the cluster driver: {0}")]
    Internal(String),
    #[error("the cluster has stopped")]
    Stopped,
    #[error("interrupted at {time_us}us of cluster time")]
    Interrupted { time_us: u64 },
}
