//! `raftlab check`: randomized fault-injection runs in virtual time, each checked for
//! every safety rule and for linearizability, and a failing run shrunk to a scenario.
//!
//! # One seed
//!
//! A seed fixes everything about a run ([`setup`]). By default it draws the run's *shape*
//! as well as its faults: swarm testing ([`swarm`]), which picks the fault kinds in play,
//! the flow control, the timeouts, the clients, snapshots, PreVote and CheckQuorum, and
//! the cluster size (3, 5 or 7) per seed. Swarm is the default, and `--no-swarm` the
//! opt-out, because what a user asks of `raftlab check` is "find my bug": a thousand
//! seeds of one shape miss the bugs that need another (with every seed in one shape,
//! `--bug commit-previous-term` went unfound in 1,000 seeds; with swarm it is found at
//! 3 nodes and at 5), and the seed alone still fixes the run, so nothing is lost in
//! reproducing one. The fixed shape (`--no-swarm`) is kept for comparing runs across
//! versions and for tests that know a seed: the cluster (3 or 5 nodes, in turn, or
//! `--nodes`), its Raft flow control (half the seeds send one to three entries per
//! AppendEntries with a short pipeline, which opens windows the default batch of 256
//! closes), the clients (3 to 5, each sending one operation at a time, with unique written
//! values, over three keys), the tempo of the faults (one every 100-800 ms, 30-300 ms or
//! 10-100 ms) and the faults (`generate.rs`): kills and restarts (several
//! nodes, often the leader, a quick reboot or a long one), partitions of every shape (one
//! node alone, two sides, three groups, two sides joined by a bridge node), one-way and
//! two-way cut links, loss, delay, duplication, reordering with long delays, membership
//! changes and snapshots. After `--time` of faults, everything is healed and every node
//! restarted (but those removed from the cluster), and the cluster must settle: within
//! [`LIVENESS_US`] (longer for a swarm shape with a small replication window) some node
//! leads, every member of its configuration (voters and learners) has committed an entry
//! of that leader's term, and every voter but the leader is a follower that names it
//! (a candidate that stays a candidate beside a leader of its own term fails this); a
//! learner still catching up at the end counts while its commit index gains over the
//! window's second half. Then the clients' history is checked for linearizability.
//!
//! # Bounded whatever the code does
//!
//! A check is a tool for broken Raft code, so broken code must not break it. The network's
//! load is bounded ([`crate::cluster::storm`]): crossing a bound of messages in flight
//! (in all, on one link) or of events in a second of cluster time is a failure of its own,
//! the `message-storm` rule, reported, replayed and shrunk like a safety violation. Every
//! seed has a budget of events and wall time ([`SeedBudget`]); a seed over it is set aside
//! and reported as such while the others go on, and once a seed fails, the runs still
//! going are called off rather than awaited, so that no worker holds back the report.
//! Shrinking has its own budget of replays and wall time. A node whose core panics is a
//! failure (`Crash`), its message reported once: panics inside a node are caught without
//! the default hook's printing, which would otherwise repeat on every replay.
//!
//! # Membership and snapshot faults
//!
//! Both are on by default, like every other fault: a user who runs `raftlab check` with
//! no `--faults` expects everything the cluster can do to be exercised, and `--faults`
//! picks a subset (`--faults kill,partition` for the faults of a fixed cluster).
//! `membership` adds a node under a new id (it joins as a learner and is promoted once
//! caught up), removes a voter (the leader, three times in ten), or replaces one (adds,
//! then removes the old one once the new one is in), one change at a time, keeping 3 to
//! [`MAX_VOTERS`] voters (a cluster that started with fewer than 3 never shrinks below its
//! size). A node that a committed configuration removed is stopped with `kill N`, as an
//! operator would, and stays down: no fault picks it again, healing leaves it down, and
//! liveness asks nothing of it. (Left running, a removed node that never learnt of its
//! removal would time out and disrupt the cluster forever without PreVote; thesis
//! section 4.2.3.) `snapshot` makes a node that is up take a snapshot now, on top of
//! `--snapshot-every`. Each is recorded as its command (`add N`, `remove N`, `snapshot N`),
//! so a run replays and shrinks like any other; an action that no longer applies in a
//! shrunk replay (removing a node never added) is skipped.
//!
//! The checker of the cluster ([`crate::cluster::checker`]) holds every safety rule after
//! every hand-off; the run stops at the first violation, or at a node that crashed (a
//! failed assert in the Raft core is a bug too).
//!
//! The run drives the scheduler itself, in steps of 1 ms of cluster time ([`TICK_US`]):
//! run what is due up to the next millisecond, look, act. What it does is recorded as a
//! schedule of [`Action`]s, each one command of the command language at one time.
//!
//! # A failing seed
//!
//! A failing run is replayed from its schedule alone ([`replay`]; the scheduler is
//! deterministic, so the replay is the same run), and shrunk ([`shrink`]): actions are
//! dropped, in halves, then quarters, ... then one at a time, while the run still fails
//! the same way (the same rule). The result is written as a scenario file (DESIGN.md,
//! "Scenario files") on a paused clock, with `run D` steps between the actions, ending
//! with `expect violation RULE`; [`reproduce_command`] is the `raftlab check` line that
//! runs the seed again.
//!
//! Client operations are sent the way the REPL sends `put K V` on a paused clock: each one
//! a client of its own, to the leader (or `via` a node, sometimes), without waiting. That
//! is what lets the scenario replay the run exactly; the run keeps each of its clients
//! sequential by not sending the next operation before the last one ended.

mod generate;
mod many;
mod run;
mod schedule;
mod shrink;
pub mod swarm;

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use thiserror::Error;

use crate::cluster::linearizability::SearchBudget;
use crate::cluster::{ClockMode, ClusterConfig, Hosting, Rule, Violation, linearizability, seed};
use crate::raft::{Bug, NodeId, RaftConfig, ReadMode};

pub use generate::{MAX_ADDED, MAX_VOTERS};
pub use many::{Summary, run_seeds};
pub use run::{explore, explore_unless, replay};
pub use schedule::{Action, Ending, Timed, duration, steps};
pub use shrink::{ShrinkBudget, Shrunk, shrink};
pub use swarm::Shape;

/// A millisecond, in microseconds.
pub const MS: u64 = 1_000;
/// How far the run moves the clock between two looks at the cluster.
pub const TICK_US: u64 = MS;
/// How long a healed cluster has to elect a leader and commit on every node.
pub const LIVENESS_US: u64 = 5_000 * MS;

/// A kind of fault; `--faults` picks among them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// Kill nodes and restart them later.
    Kill,
    /// Partitions: one node alone, two sides, three groups, a bridge.
    Partition,
    /// Cut links, mostly one way.
    Cut,
    /// Message loss.
    Loss,
    /// Long delays.
    Delay,
    /// Duplicated messages.
    Dup,
    /// Reordering, with long extra delays.
    Reorder,
    /// Membership changes: add a new node, remove one (the leader, sometimes), replace one.
    Membership,
    /// `snapshot N` on a node that is up, at a random moment.
    Snapshot,
}

impl FaultKind {
    pub const ALL: &'static [FaultKind] = &[
        FaultKind::Kill,
        FaultKind::Partition,
        FaultKind::Cut,
        FaultKind::Loss,
        FaultKind::Delay,
        FaultKind::Dup,
        FaultKind::Reorder,
        FaultKind::Membership,
        FaultKind::Snapshot,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Kill => "kill",
            FaultKind::Partition => "partition",
            FaultKind::Cut => "cut",
            FaultKind::Loss => "loss",
            FaultKind::Delay => "delay",
            FaultKind::Dup => "dup",
            FaultKind::Reorder => "reorder",
            FaultKind::Membership => "membership",
            FaultKind::Snapshot => "snapshot",
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A fault name that is not one of [`FaultKind::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error(
    "unknown fault '{0}': expected one of kill, partition, cut, loss, delay, dup, reorder, \
     membership, snapshot"
)]
pub struct UnknownFault(pub String);

impl FromStr for FaultKind {
    type Err = UnknownFault;

    fn from_str(name: &str) -> Result<FaultKind, UnknownFault> {
        FaultKind::ALL
            .iter()
            .copied()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| UnknownFault(name.to_string()))
    }
}

/// What every seed of a check shares.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckOptions {
    /// The cluster size; `None`: 3 nodes for even seeds, 5 for odd ones.
    pub nodes: Option<u64>,
    /// How long faults are injected, in cluster time.
    pub time_us: u64,
    pub faults: BTreeSet<FaultKind>,
    pub bugs: BTreeSet<Bug>,
    /// Run with PreVote on.
    pub prevote: bool,
    /// Run with CheckQuorum on.
    pub check_quorum: bool,
    /// How reads are served; `None`: drawn per seed by the swarm ([`swarm`]), the log's
    /// way with a fixed shape.
    pub reads: Option<ReadMode>,
    /// Each node takes a snapshot every this many applied entries; 0: never.
    pub snapshot_every: u64,
    /// How many clients; `None`: 3 to 5, by seed.
    pub clients: Option<usize>,
    /// The linearizability checker's budget.
    pub budget: SearchBudget,
    /// Swarm testing: each seed draws the shape of its run ([`swarm`]); off, every seed
    /// has the fixed shape described above.
    pub swarm: bool,
    /// What one seed may spend.
    pub seed_budget: SeedBudget,
}

/// What one seed's run may spend before it is stopped and reported as over budget: a
/// runaway run (a message storm below the network's bounds, a cluster that never
/// settles and churns) must not hold back the report of a whole check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedBudget {
    /// The most events the cluster may emit (messages sent, delivered, dropped, ...).
    pub events: u64,
    /// The most wall time.
    pub wall: Duration,
}

impl Default for SeedBudget {
    /// A seed of a correct 7-node cluster under every fault emits well under a million
    /// events and takes well under a second of a release build.
    fn default() -> Self {
        SeedBudget {
            events: 10_000_000,
            wall: Duration::from_secs(60),
        }
    }
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            nodes: None,
            time_us: 10_000 * MS,
            faults: FaultKind::ALL.iter().copied().collect(),
            bugs: BTreeSet::new(),
            prevote: false,
            check_quorum: false,
            reads: None,
            snapshot_every: 0,
            clients: None,
            budget: SearchBudget::default(),
            swarm: true,
            seed_budget: SeedBudget::default(),
        }
    }
}

/// Everything a seed fixes before its run starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Setup {
    pub seed: u64,
    pub config: ClusterConfig,
    pub clients: usize,
    pub keys: usize,
    /// How long faults are injected; healing follows.
    pub chaos_us: u64,
    /// How long the healed cluster has to make progress.
    pub liveness_us: u64,
    /// The shortest and longest pause between two faults, in ms: the run's tempo.
    pub fault_gap_ms: (u64, u64),
    pub faults: BTreeSet<FaultKind>,
    pub budget: SearchBudget,
    /// The longest pause of a client between two of its operations, in ms.
    pub client_pause_ms: u64,
    /// The shape swarm testing drew, in words; `None` for the fixed shape.
    pub shape: Option<String>,
    pub seed_budget: SeedBudget,
}

/// The setup of seed `seed`: its swarm shape ([`swarm`]), or the fixed one.
pub fn setup(seed: u64, options: &CheckOptions) -> Setup {
    if !options.swarm {
        return fixed_setup(seed, options);
    }
    let shape = swarm::draw(seed, options);
    let config = ClusterConfig {
        nodes: shape.nodes,
        seed,
        clock: ClockMode::Virtual,
        hosting: Hosting::Inline,
        raft: shape.raft.clone(),
        network: shape.network.clone(),
        ..ClusterConfig::default()
    };
    Setup {
        seed,
        config,
        clients: shape.clients,
        keys: 3,
        chaos_us: options.time_us,
        // A follower that slept through the faults catches up at a few entries a round
        // trip under a small window: give it as long again as the faults lasted.
        liveness_us: match shape.raft.max_append_entries * shape.raft.max_inflight_appends as usize
        {
            0..4 => LIVENESS_US + options.time_us,
            _ => LIVENESS_US,
        },
        fault_gap_ms: shape.fault_gap_ms,
        faults: shape.faults.clone(),
        budget: options.budget,
        client_pause_ms: shape.client_pause_ms,
        shape: Some(shape.describe()),
        seed_budget: options.seed_budget,
    }
}

/// The fixed shape of seed `seed` (`--no-swarm`), as the module doc describes it.
fn fixed_setup(seed: u64, options: &CheckOptions) -> Setup {
    let mut rng = ChaCha8Rng::seed_from_u64(seed::derive(seed, seed::CHECK_SETUP, 0));
    let nodes = options
        .nodes
        .unwrap_or(if seed.is_multiple_of(2) { 3 } else { 5 });
    let mut raft = RaftConfig {
        bugs: options.bugs.clone(),
        prevote: options.prevote,
        check_quorum: options.check_quorum,
        reads: options.reads.unwrap_or(ReadMode::Log),
        snapshot_every: options.snapshot_every,
        ..RaftConfig::default()
    };
    if rng.random_bool(0.5) {
        raft.max_append_entries = rng.random_range(1..=3);
        raft.max_inflight_appends = [1, 2, 4][rng.random_range(0..3)];
    }
    let clients = options.clients.unwrap_or(rng.random_range(3..=5));
    let fault_gap_ms = [(100, 800), (100, 800), (30, 300), (10, 100)][rng.random_range(0..4)];
    let config = ClusterConfig {
        nodes,
        seed,
        clock: ClockMode::Virtual,
        hosting: Hosting::Inline,
        raft,
        ..ClusterConfig::default()
    };
    Setup {
        seed,
        config,
        clients,
        keys: 3,
        chaos_us: options.time_us,
        liveness_us: LIVENESS_US,
        fault_gap_ms,
        faults: options.faults.clone(),
        budget: options.budget,
        client_pause_ms: 40,
        shape: None,
        seed_budget: options.seed_budget,
    }
}

/// How a run failed.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// A safety rule, found by the cluster's checker.
    Violation(Violation),
    /// The clients' history is not linearizable.
    Linearizability(linearizability::Violation),
    /// A node's thread panicked: an assert of the Raft core, or a bug of the cluster.
    Crash { node: NodeId, message: String },
    /// The healed cluster did not settle in time: what was still missing.
    Liveness(String),
    /// The seed spent its budget ([`SeedBudget`]) before it ended: what ran out.
    OverBudget(String),
    /// The cluster could not run (a livelock, a node that stopped answering).
    Error(String),
}

impl Failure {
    /// The rule broken, for `expect violation RULE`.
    pub fn rule(&self) -> Option<Rule> {
        match self {
            Failure::Violation(violation) => Some(violation.rule),
            Failure::Linearizability(_) => Some(Rule::Linearizability),
            _ => None,
        }
    }

    /// Whether `other` is the same failure, for shrinking: the same rule, or the same kind.
    pub fn same_as(&self, other: &Failure) -> bool {
        match (self, other) {
            (Failure::Violation(a), Failure::Violation(b)) => a.rule == b.rule,
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }

    /// Which checker found it, in a word.
    pub fn checker(&self) -> String {
        match self {
            Failure::Violation(violation) => violation.rule.to_string(),
            Failure::Linearizability(_) => "linearizability".to_string(),
            Failure::Crash { .. } => "crash".to_string(),
            Failure::Liveness(_) => "liveness".to_string(),
            Failure::OverBudget(_) => "budget".to_string(),
            Failure::Error(_) => "error".to_string(),
        }
    }

    /// How a scenario of the run ends.
    pub fn ending(&self) -> Ending {
        let told = format!("This run failed here: {self}");
        match (self.rule(), self) {
            (Some(rule), _) => Ending::Violation(rule),
            (None, Failure::Liveness(_)) => Ending::Unsettled(told),
            (None, _) => Ending::Say(told),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Violation(violation) => write!(
                f,
                "{violation} (at {})",
                crate::repl::words::fmt_ms(violation.time_us)
            ),
            Failure::Linearizability(violation) => {
                write!(f, "linearizability violated: {violation}")
            }
            Failure::Crash { node, message } => write!(f, "n{node} crashed: {message}"),
            Failure::Liveness(missing) => write!(f, "the healed cluster did not settle {missing}"),
            Failure::OverBudget(what) => write!(f, "over budget: {what}"),
            Failure::Error(error) => write!(f, "{error}"),
        }
    }
}

/// What one run did.
#[derive(Clone, Debug, PartialEq)]
pub struct RunReport {
    pub setup: Setup,
    /// The actions that applied, in order.
    pub schedule: Vec<Timed>,
    pub failure: Option<Failure>,
    /// When the run stopped: at the failure, once the healed cluster made progress, or at
    /// the end of the liveness bound.
    pub end_us: u64,
    pub handoffs: u64,
    /// The cluster's events (messages sent, delivered and dropped, timers, changes, ...).
    pub events: u64,
    pub operations: usize,
    pub steps_checked: u64,
    /// The key whose history the linearizability checker could not decide in its budget.
    pub undecided_key: Option<String>,
    /// The run was called off (another seed failed first): it counts for nothing.
    pub cancelled: bool,
    /// The most messages in flight at once, looked at every tick.
    pub peak_in_flight: usize,
    /// The most events in one second of cluster time.
    pub peak_events_per_second: u64,
}

impl RunReport {
    /// The steps of a scenario that replays this run.
    pub fn scenario_steps(&self) -> Vec<String> {
        let ending = match &self.failure {
            Some(failure) => failure.ending(),
            None => Ending::Say("This run held.".to_string()),
        };
        steps(&self.schedule, self.end_us, &ending)
    }
}

/// The `raftlab check` line that runs seed `seed` of `options` again.
pub fn reproduce_command(setup: &Setup, options: &CheckOptions) -> String {
    let mut line = format!(
        "raftlab check --seed {} --nodes {} --time {}",
        setup.seed,
        setup.config.nodes,
        duration(options.time_us)
    );
    if !options.swarm {
        line.push_str(" --no-swarm");
    }
    if options.faults.len() != FaultKind::ALL.len() {
        let names: Vec<&str> = options.faults.iter().map(|k| k.name()).collect();
        line.push_str(&format!(" --faults {}", names.join(",")));
    }
    for bug in &options.bugs {
        line.push_str(&format!(" --bug {bug}"));
    }
    if options.prevote {
        line.push_str(" --prevote");
    }
    if options.check_quorum {
        line.push_str(" --check-quorum");
    }
    if let Some(reads) = options.reads {
        line.push_str(&format!(" --reads {}", reads.name()));
    }
    if options.snapshot_every > 0 {
        line.push_str(&format!(" --snapshot-every {}", options.snapshot_every));
    }
    if let Some(clients) = options.clients {
        line.push_str(&format!(" --clients {clients}"));
    }
    // A seed over its budget is over it again only under the same budget.
    let (budget, default) = (options.seed_budget, SeedBudget::default());
    if budget.events != default.events {
        line.push_str(&format!(" --seed-events {}", budget.events));
    }
    if budget.wall != default.wall {
        let wall_us = u64::try_from(budget.wall.as_micros()).unwrap_or(u64::MAX);
        line.push_str(&format!(" --seed-time {}", duration(wall_us)));
    }
    line
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_robust;
