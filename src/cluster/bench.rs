//! How fast a realtime cluster serves clients: `raftlab bench`.
//!
//! A bench starts a realtime cluster at normal speed on a network with no delay and no
//! faults, waits for a leader, and then keeps `clients` clients busy for a while: each
//! client has one `put` outstanding at all times and issues the next as soon as the last
//! is answered (a *closed loop*). Every operation takes the normal client path: the
//! scheduler hands it to the leader, the leader's LogSynchronizer drains it from the
//! LogBuffer into one proposal with whatever else is waiting, Raft replicates and commits
//! it, each node applies it to its key-value map, and the leader answers. Each client
//! writes its own few keys, so the last value it saw acknowledged for each key is what
//! every node must hold at the end.
//!
//! Two ways of running the clients, for comparison ([`LoadDriver`]):
//!
//! - **Loop** (the default): the clients live inside the driver thread. One job runs the
//!   cluster's realtime loop itself (what falls due by the wall clock), and after every
//!   hand-off it answers finished operations and submits the next. Operations that arrive
//!   while a round of replication is under way wait in the scheduler and reach the leader
//!   together, so one proposal, one AppendEntries per follower and one apply carry many.
//! - **Threads**: one OS thread per client, each submitting through a driver job and
//!   waiting on a channel for its answer, as a program using [`Cluster`] would. Every
//!   operation costs a job on the driver and two thread wake-ups, and the driver serves
//!   one job between rounds, so operations seldom share a round. The threads are all
//!   started before the window opens, and there are at most [`MOST_CLIENT_THREADS`].
//!
//! Latency is wall time from submitting to seeing the answer. Messages, AppendEntries and
//! the entries they carry are counted from the cluster's events over the measured window.
//! The loop reads back nothing else, so its cluster logs only the messages sent
//! ([`LogScope::MessagesSent`]) and records no history of operations: every event is still
//! counted and the run is the same, but the others are not kept (and the clients' events
//! not even built); everywhere else (the REPL, scenarios, `check`) every event is logged.
//! After the window, the bench stops issuing, lets every outstanding operation finish,
//! waits (bounded) until every node has applied everything, and compares the nodes' maps
//! with each other and with what the clients saw acknowledged.
//!
//! In realtime the nodes run in parallel: the scheduler hands every idle node its due
//! work and processes each report as it comes, so a leader can commit on its first
//! answers while the other followers still work. The scheduler itself is one thread, and
//! it starts, routes, checks and ends every operation, which bounds the throughput (see
//! README's Performance section). Memory stays flat however long the window (see
//! [`LONGEST_BENCH`]).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::raft::{Index, Message, NodeId, RaftConfig};

use super::event::{ClientOutcome, ClusterEvent, EventKind};
use super::kv::{ClientId, KvOp};
use super::{
    ClockMode, Cluster, ClusterConfig, ClusterError, ClusterView, Completion, LogScope,
    NetworkConfig, NodePicture, NodeState, Scheduler, ViewLimits,
};

/// How long the bench waits for the first leader, in wall time.
const LEADER_WAIT: Duration = Duration::from_secs(5);
/// How long the bench waits, after the window, for the operations still outstanding.
const DRAIN_WAIT: Duration = Duration::from_secs(10);
/// How long the bench waits, after the last answer, for every node to apply everything.
const SETTLE_WAIT: Duration = Duration::from_secs(3);
/// The most hand-offs the loop runs before it looks at the wall clock again.
const PUMP_BATCH: u32 = 32;
/// How often the threads driver counts the events it subscribed to and lets the history go.
const THREADS_TIDY_EVERY: Duration = Duration::from_millis(100);
/// The most clients of the threads driver: each is an OS thread, and an OS runs out of
/// threads (or memory maps) not far above this; 10,000 start in about a second.
pub const MOST_CLIENT_THREADS: u64 = 10_000;
/// The stack of a client thread of the threads driver: it only submits and waits, and
/// thousands of them should not each reserve the default 2 MiB.
const CLIENT_STACK_BYTES: usize = 256 * 1024;
/// How many keys each client writes in turn.
const KEYS_PER_CLIENT: u64 = 8;
/// The longest measured window: a bound on the run, not on its memory, which stays flat
/// (each node compacts its log every [`SNAPSHOT_EVERY`] entries, the checker lets go of
/// what every node compacted, and the clients' history keeps only operations in progress,
/// or none in the loop).
pub const LONGEST_BENCH: Duration = Duration::from_secs(24 * 60 * 60);
/// How many entries each node applies between two snapshots of its state machine (the
/// bench's map is small: a few keys per client).
pub const SNAPSHOT_EVERY: u64 = 16_384;

/// How the clients are run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadDriver {
    /// All clients in a closed loop inside the driver thread.
    Loop,
    /// One OS thread per client, each through a driver job per operation.
    Threads,
}

impl LoadDriver {
    pub fn name(self) -> &'static str {
        match self {
            LoadDriver::Loop => "loop",
            LoadDriver::Threads => "threads",
        }
    }
}

/// What to run.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchConfig {
    pub nodes: u64,
    pub clients: u64,
    /// The measured window, in wall time.
    pub duration: Duration,
    pub seed: u64,
    pub driver: LoadDriver,
}

impl Default for BenchConfig {
    fn default() -> Self {
        BenchConfig {
            nodes: 3,
            clients: 64,
            duration: Duration::from_secs(3),
            seed: 1,
            driver: LoadDriver::Loop,
        }
    }
}

/// What can stop a bench.
#[derive(Debug, Error)]
pub enum BenchError {
    #[error("a bench needs at least one client")]
    NoClients,
    #[error("a bench needs a duration above 0, such as 3s or 500ms")]
    NoDuration,
    #[error("a bench runs for at most {}h", LONGEST_BENCH.as_secs() / 3600)]
    TooLong,
    #[error("no leader was elected within {}s", LEADER_WAIT.as_secs())]
    NoLeader,
    #[error(
        "the threads driver runs at most {MOST_CLIENT_THREADS} clients (one OS thread each); \
         --driver loop runs any number"
    )]
    TooManyThreads,
    #[error("could not start a client thread: {0}")]
    Spawn(String),
    #[error("the bench fell {0} events behind the event log and lost count")]
    EventsMissed(u64),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

/// Latency percentiles (nearest rank), in microseconds of wall time.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LatencySummary {
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    pub mean_us: f64,
}

impl LatencySummary {
    /// The summary of `latencies_us` (sorted here); all zero when empty.
    pub fn of(latencies_us: &mut [u64]) -> LatencySummary {
        if latencies_us.is_empty() {
            return LatencySummary::default();
        }
        latencies_us.sort_unstable();
        let total: u128 = latencies_us.iter().map(|&l| u128::from(l)).sum();
        LatencySummary {
            p50_us: percentile(latencies_us, 50.0),
            p90_us: percentile(latencies_us, 90.0),
            p99_us: percentile(latencies_us, 99.0),
            max_us: latencies_us[latencies_us.len() - 1],
            mean_us: total as f64 / latencies_us.len() as f64,
        }
    }
}

/// Latencies counted in buckets, so that a long bench keeps a few kilobytes rather than
/// every operation's latency: exact below [`Latencies::EXACT_US`] µs, and within 1/64
/// (1.6%) above, where each power of two is cut into 64 buckets and a bucket stands for
/// its lowest value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Latencies {
    counts: Vec<u64>,
    total_us: u128,
    count: u64,
    max_us: u64,
}

impl Latencies {
    pub const EXACT_US: u64 = 128;
    const PER_POWER: u64 = 64;

    fn bucket(latency_us: u64) -> usize {
        if latency_us < Self::EXACT_US {
            return latency_us as usize;
        }
        let power = u64::from(63 - latency_us.leading_zeros());
        let shift = power - Self::PER_POWER.trailing_zeros() as u64;
        let within = (latency_us >> shift) - Self::PER_POWER;
        (Self::EXACT_US + (power - 7) * Self::PER_POWER + within) as usize
    }

    fn lowest(bucket: usize) -> u64 {
        let bucket = bucket as u64;
        if bucket < Self::EXACT_US {
            return bucket;
        }
        let power = (bucket - Self::EXACT_US) / Self::PER_POWER + 7;
        let within = (bucket - Self::EXACT_US) % Self::PER_POWER;
        (Self::PER_POWER + within) << (power - Self::PER_POWER.trailing_zeros() as u64)
    }

    pub fn record(&mut self, latency_us: u64) {
        let bucket = Self::bucket(latency_us);
        if bucket >= self.counts.len() {
            self.counts.resize(bucket + 1, 0);
        }
        self.counts[bucket] += 1;
        self.total_us += u128::from(latency_us);
        self.count += 1;
        self.max_us = self.max_us.max(latency_us);
    }

    pub fn merge(&mut self, other: &Latencies) {
        if other.counts.len() > self.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total_us += other.total_us;
        self.count += other.count;
        self.max_us = self.max_us.max(other.max_us);
    }

    /// The nearest-rank percentile `p` (0..=100), to within a bucket.
    fn percentile(&self, p: f64) -> u64 {
        let rank = ((p / 100.0) * self.count as f64).ceil() as u64;
        let rank = rank.clamp(1, self.count.max(1));
        let mut seen = 0;
        for (bucket, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Self::lowest(bucket).min(self.max_us);
            }
        }
        self.max_us
    }

    /// The summary; all zero when nothing was recorded.
    pub fn summary(&self) -> LatencySummary {
        if self.count == 0 {
            return LatencySummary::default();
        }
        LatencySummary {
            p50_us: self.percentile(50.0),
            p90_us: self.percentile(90.0),
            p99_us: self.percentile(99.0),
            max_us: self.max_us,
            mean_us: self.total_us as f64 / self.count as f64,
        }
    }
}

/// The nearest-rank percentile `p` (0..=100) of a sorted, non-empty slice.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Messages sent during the window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Every message, of every type.
    pub messages: u64,
    /// AppendEntries, heartbeats included.
    pub append_entries: u64,
    /// Entries carried by those AppendEntries.
    pub entries: u64,
}

impl Traffic {
    fn count(&mut self, event: &ClusterEvent) {
        if let EventKind::Sent { info, .. } = &event.kind {
            self.messages += 1;
            if let Some(Message::AppendEntries { entries, .. }) = info.message() {
                self.append_entries += 1;
                self.entries += entries.len() as u64;
            }
        }
    }

    /// Entries per AppendEntries, heartbeats included.
    pub fn entries_per_append(&self) -> f64 {
        self.entries as f64 / self.append_entries.max(1) as f64
    }
}

/// Whether the nodes ended with the same writes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Agreement {
    /// Every node applied every entry of the leader's log within the wait.
    pub settled: bool,
    /// Each node's applied index at the end.
    pub applied: Vec<(NodeId, Index)>,
    /// Every node holds the same key-value map.
    pub nodes_agree: bool,
    /// The map holds, for each key, the last value a client saw acknowledged; `None` when
    /// some operation failed, so that its effect is unknown.
    pub matches_clients: Option<bool>,
}

impl Agreement {
    /// Whether the check passed.
    pub fn holds(&self) -> bool {
        self.settled && self.nodes_agree && self.matches_clients != Some(false)
    }
}

/// What a bench measured.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchReport {
    pub nodes: u64,
    pub clients: u64,
    pub driver: LoadDriver,
    /// The measured window, in wall time.
    pub elapsed: Duration,
    /// Operations answered `Done` within the window.
    pub ops: u64,
    /// Operations refused or timed out within the window.
    pub failed: u64,
    pub latency: LatencySummary,
    pub traffic: Traffic,
    /// Scheduler hand-offs within the window.
    pub handoffs: u64,
    pub agreement: Agreement,
}

impl BenchReport {
    pub fn ops_per_sec(&self) -> f64 {
        self.rate(self.ops)
    }

    /// `count` per second of the window.
    pub fn rate(&self, count: u64) -> f64 {
        count as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs a bench on a fresh realtime cluster.
pub fn run(config: &BenchConfig) -> Result<BenchReport, BenchError> {
    if config.clients == 0 {
        return Err(BenchError::NoClients);
    }
    if config.duration.is_zero() {
        return Err(BenchError::NoDuration);
    }
    if config.duration > LONGEST_BENCH {
        return Err(BenchError::TooLong);
    }
    if config.driver == LoadDriver::Threads && config.clients > MOST_CLIENT_THREADS {
        return Err(BenchError::TooManyThreads);
    }
    let cluster = Cluster::start(cluster_config(config))?;
    let within_us = LEADER_WAIT.as_micros() as u64;
    let has_leader = Arc::new(|view: &ClusterView| view.leader.is_some());
    if !cluster.wait_until(within_us, ViewLimits::least(), has_leader)? {
        return Err(BenchError::NoLeader);
    }
    match config.driver {
        LoadDriver::Loop => {
            let config = config.clone();
            cluster.with_clock(move |sim, clock| run_loop(sim, clock, &config))?
        }
        LoadDriver::Threads => run_threads(&cluster, config),
    }
}

/// A realtime cluster at normal speed on a network without delay or faults.
pub fn cluster_config(config: &BenchConfig) -> ClusterConfig {
    ClusterConfig {
        nodes: config.nodes,
        seed: config.seed,
        clock: ClockMode::Realtime,
        speed: 1.0,
        network: NetworkConfig {
            delay_min_us: 0,
            delay_max_us: 0,
            drop: 0.0,
            duplicate: 0.0,
            reorder: false,
        },
        raft: RaftConfig {
            snapshot_every: SNAPSHOT_EVERY,
            ..RaftConfig::default()
        },
        ..Default::default()
    }
}

/// The `seq`-th operation of client number `client`: a put of one of its keys.
fn client_op(client: u64, seq: u64) -> KvOp {
    KvOp::Put {
        key: client_key(client, seq % KEYS_PER_CLIENT),
        value: seq.to_string(),
    }
}

/// Key number `key` of client number `client`.
fn client_key(client: u64, key: u64) -> String {
    format!("k{client}.{key}")
}

/// The map every node must hold once client number `c` has had its operations
/// 1..=`last_done[c]` acknowledged: each of its keys holds the last value put there.
fn expected_map(last_done: &[u64]) -> Vec<(String, String)> {
    let mut map = BTreeMap::new();
    for (client, &last) in (0..).zip(last_done) {
        let first = last.saturating_sub(KEYS_PER_CLIENT - 1).max(1);
        for seq in first..=last {
            if let KvOp::Put { key, value } = client_op(client, seq) {
                map.insert(key, value);
            }
        }
    }
    map.into_iter().collect()
}

/// What the clients saw, whichever way they ran.
#[derive(Default)]
struct Tally {
    latencies: Latencies,
    ops: u64,
    failed: u64,
    /// Failed at any time, the window or the drain after it.
    failed_ever: u64,
    /// Each client's last acknowledged operation (a client's operations run one at a time,
    /// in order).
    /// By client number; 0 for one with none acknowledged.
    last_done: Vec<u64>,
}

impl Tally {
    /// Counts an operation that ended: applied if `done`, else refused or timed out.
    fn record(&mut self, client: u64, seq: u64, done: bool, latency_us: u64, in_window: bool) {
        if done {
            let client = client as usize;
            if client >= self.last_done.len() {
                self.last_done.resize(client + 1, 0);
            }
            self.last_done[client] = self.last_done[client].max(seq);
        } else {
            self.failed_ever += 1;
        }
        if in_window {
            self.latencies.record(latency_us);
            if done {
                self.ops += 1;
            } else {
                self.failed += 1;
            }
        }
    }

    fn merge(&mut self, other: Tally) {
        self.latencies.merge(&other.latencies);
        self.ops += other.ops;
        self.failed += other.failed;
        self.failed_ever += other.failed_ever;
        if other.last_done.len() > self.last_done.len() {
            self.last_done.resize(other.last_done.len(), 0);
        }
        for (mine, theirs) in self.last_done.iter_mut().zip(other.last_done) {
            *mine = (*mine).max(theirs);
        }
    }
}

// ---- the closed loop inside the driver ---------------------------------------------------

/// One client of the loop.
struct LoopClient {
    id: ClientId,
    seq: u64,
    /// Its keys, written once rather than formatted for every operation.
    keys: Vec<String>,
    /// When its operation in progress was submitted; `None` while it is idle.
    sent: Option<Instant>,
}

impl LoopClient {
    /// The client's next operation: [`client_op`] for its next sequence number.
    fn next_op(&mut self) -> (u64, KvOp) {
        self.seq += 1;
        let key = self.keys[(self.seq % KEYS_PER_CLIENT) as usize].clone();
        let value = self.seq.to_string();
        (self.seq, KvOp::Put { key, value })
    }
}

/// The clients of the loop and what they saw.
struct ClosedLoop {
    /// The clients, whose ids run from `first_id` on in this order.
    clients: Vec<LoopClient>,
    first_id: ClientId,
    idle: Vec<usize>,
    /// How many clients have an operation in progress.
    outstanding: usize,
    issuing: bool,
    measuring: bool,
    tally: Tally,
    traffic: Traffic,
    /// How many of the cluster's events have been read.
    seen: u64,
    /// The operations that ended, as the scheduler lists them: kept between calls.
    completions: Vec<Completion>,
}

impl ClosedLoop {
    fn new(sim: &mut Scheduler, clients: u64) -> ClosedLoop {
        let clients: Vec<LoopClient> = (0..clients)
            .map(|index| LoopClient {
                id: sim.new_client(),
                seq: 0,
                keys: (0..KEYS_PER_CLIENT)
                    .map(|key| client_key(index, key))
                    .collect(),
                sent: None,
            })
            .collect();
        sim.keep_completions(true);
        ClosedLoop {
            idle: (0..clients.len()).rev().collect(),
            first_id: clients.first().map_or(0, |c| c.id),
            clients,
            outstanding: 0,
            issuing: true,
            measuring: true,
            tally: Tally::default(),
            traffic: Traffic::default(),
            seen: sim.observers().events_logged(),
            completions: Vec::new(),
        }
    }

    /// Gives every idle client its next operation, all submitted as one unit.
    fn issue(&mut self, sim: &mut Scheduler) {
        if !self.issuing || self.idle.is_empty() {
            return;
        }
        let sent = Instant::now();
        self.outstanding += self.idle.len();
        let clients = &mut self.clients;
        // Last idle first, as popping them one by one would.
        let requests = self.idle.drain(..).rev().map(|index| {
            let client = &mut clients[index];
            let (seq, op) = client.next_op();
            client.sent = Some(sent);
            ((client.id, seq), op)
        });
        sim.submit_batch(requests);
    }

    /// Takes in what happened since the last call: finishes the operations that ended,
    /// and, while measuring, counts the messages sent.
    fn absorb(&mut self, sim: &mut Scheduler) -> Result<(), BenchError> {
        if self.measuring {
            let (missed, events) = sim.observers().events_since(self.seen);
            if missed > 0 {
                return Err(BenchError::EventsMissed(missed));
            }
            for event in events {
                self.traffic.count(event);
            }
        }
        self.seen = sim.observers().events_logged();
        sim.take_completions(&mut self.completions);
        if self.completions.is_empty() {
            return Ok(());
        }
        // One reading of the clock for every operation that ended in this hand-off: they
        // are all seen to end now.
        let now = Instant::now();
        for completion in self.completions.drain(..) {
            let Some(index) = completion.client.checked_sub(self.first_id) else {
                continue;
            };
            let Some(client) = self.clients.get_mut(index as usize) else {
                continue;
            };
            let Some(sent) = client.sent.take() else {
                continue;
            };
            let latency_us = now.saturating_duration_since(sent).as_micros() as u64;
            self.tally.record(
                index,
                completion.seq,
                completion.done,
                latency_us,
                self.measuring,
            );
            self.outstanding -= 1;
            self.idle.push(index as usize);
        }
        Ok(())
    }
}

/// How many of the latest events the loop bench keeps: only the messages sent are logged
/// ([`LogScope::MessagesSent`]), and it reads them after every hand-off, which processes
/// one node's report. A report holds a step for each message delivered (at most
/// `max_inflight_appends` (8) from each peer) and for a tick and a proposal, and each step
/// sends at most one message to each peer: under 16 x nodes^2 messages, kept four times
/// over. No more: a message sent stays in memory while its event is kept, and an
/// AppendEntries at 256 clients carries some 250 entries. Had any been let go before they
/// were read, the bench would stop with [`BenchError::EventsMissed`] rather than count
/// wrong.
fn events_kept(nodes: u64) -> usize {
    let nodes = usize::try_from(nodes).unwrap_or(usize::MAX);
    nodes
        .saturating_mul(nodes)
        .saturating_mul(64)
        .clamp(256, 100_000)
}

/// The bench with the clients in a closed loop inside the driver thread.
fn run_loop(
    sim: &mut Scheduler,
    clock: &dyn Fn() -> u64,
    config: &BenchConfig,
) -> Result<BenchReport, BenchError> {
    // The loop reads back only the messages sent (to count them) and its list of ended
    // operations: the other events and the history need not be kept.
    sim.observers_mut().log_only(LogScope::MessagesSent);
    sim.record_history(false);
    let mut load = ClosedLoop::new(sim, config.clients);
    sim.observers_mut().keep_events(events_kept(config.nodes));
    let handoffs_before = sim.handoffs();
    let start = Instant::now();
    let end = start + config.duration;
    load.issue(sim);
    while Instant::now() < end {
        pump(sim, clock, &mut load)?;
    }
    let elapsed = start.elapsed();
    let handoffs = sim.handoffs() - handoffs_before;
    load.issuing = false;
    load.measuring = false;
    let drain_end = Instant::now() + DRAIN_WAIT;
    while load.outstanding > 0 && Instant::now() < drain_end {
        pump(sim, clock, &mut load)?;
    }
    let settle_end = Instant::now() + SETTLE_WAIT;
    while !all_applied(sim.world().status().iter()) && Instant::now() < settle_end {
        pump(sim, clock, &mut load)?;
    }
    sim.keep_completions(false);
    sim.observers_mut().log_only(LogScope::Every);
    sim.record_history(true);
    let agreement = agreement(sim, &load.tally)?;
    Ok(BenchReport {
        nodes: config.nodes,
        clients: config.clients,
        driver: LoadDriver::Loop,
        elapsed,
        ops: load.tally.ops,
        failed: load.tally.failed,
        latency: load.tally.latencies.summary(),
        traffic: load.traffic,
        handoffs,
        agreement,
    })
}

/// Runs what the wall clock has made due, answering and reissuing after every hand-off;
/// sleeps briefly when nothing is due.
fn pump(
    sim: &mut Scheduler,
    clock: &dyn Fn() -> u64,
    load: &mut ClosedLoop,
) -> Result<(), BenchError> {
    let now_us = clock();
    let mut worked = false;
    for _ in 0..PUMP_BATCH {
        if !sim.advance_quietly(now_us)? {
            break;
        }
        worked = true;
        load.absorb(sim)?;
        load.issue(sim);
    }
    sim.set_now(now_us);
    sim.forget_finished_history();
    if !worked {
        let wait_us = sim
            .next_event_us()
            .map_or(1_000, |t| t.saturating_sub(clock()));
        std::thread::sleep(Duration::from_micros(wait_us.min(1_000)));
    }
    Ok(())
}

// ---- one thread per client -------------------------------------------------------------

/// The bench with one OS thread per client. Every client is registered and its thread
/// started before the window: the threads wait at a gate, and the window's clock starts
/// when the last one runs and the gate opens, so that starting thousands of threads (and
/// registering a client is a driver job, slow once others submit) is not measured.
fn run_threads(cluster: &Cluster, config: &BenchConfig) -> Result<BenchReport, BenchError> {
    let ids = (0..config.clients)
        .map(|_| cluster.new_client())
        .collect::<Result<Vec<ClientId>, ClusterError>>()?;
    let stop = AtomicBool::new(false);
    // The window's end, set before the gate opens; unset if starting the threads failed.
    let window_end = OnceLock::new();
    let mut tally = Tally::default();
    let mut elapsed = config.duration;
    let mut handoffs = 0;
    let (mut start_us, mut end_us) = (0, u64::MAX);
    let mut traffic = Traffic::default();
    let mut events = None;
    std::thread::scope(|scope| -> Result<(), BenchError> {
        // Dropping the sender opens the gate: every thread's `recv` then returns.
        let (gate, gate_rx) = crossbeam_channel::bounded::<()>(0);
        let mut workers = Vec::new();
        for (index, id) in (0..).zip(ids) {
            let (stop, cluster, window_end) = (&stop, cluster, &window_end);
            let gate_rx = gate_rx.clone();
            let worker = std::thread::Builder::new()
                .name(format!("client {index}"))
                .stack_size(CLIENT_STACK_BYTES)
                .spawn_scoped(scope, move || {
                    let _ = gate_rx.recv();
                    match window_end.get() {
                        Some(&end) => thread_client(cluster, index, id, end, stop),
                        None => Ok(Tally::default()),
                    }
                });
            match worker {
                Ok(worker) => workers.push(worker),
                // Returning drops the gate with the window unset: the threads started end.
                Err(error) => return Err(BenchError::Spawn(error.to_string())),
            }
        }
        let subscription = events.insert(cluster.subscribe()?);
        let handoffs_before = cluster.view(ViewLimits::least())?.handoffs;
        start_us = cluster.now_us()?;
        let start = Instant::now();
        let end = start + config.duration;
        let _ = window_end.set(end);
        drop(gate);
        // Counts the traffic and lets the history go as the window runs, so that neither
        // the subscription nor the history grows with it.
        while Instant::now() < end {
            let left = end.saturating_duration_since(Instant::now());
            std::thread::sleep(left.min(THREADS_TIDY_EVERY));
            cluster.with_clock(|sim, _| sim.forget_finished_history())?;
            for event in subscription.try_iter() {
                traffic.count(&event);
            }
        }
        stop.store(true, Ordering::Relaxed);
        elapsed = start.elapsed();
        handoffs = cluster.view(ViewLimits::least())?.handoffs - handoffs_before;
        end_us = cluster.now_us()?;
        for worker in workers {
            let client = worker
                .join()
                .map_err(|_| ClusterError::Internal("a client thread panicked".into()))?;
            tally.merge(client?);
        }
        Ok(())
    })?;
    for event in events.iter().flat_map(|events| events.try_iter()) {
        if (start_us..end_us).contains(&event.time_us) {
            traffic.count(&event);
        }
    }
    let settle_us = SETTLE_WAIT.as_micros() as u64;
    let settled = Arc::new(|view: &ClusterView| all_applied(view.nodes.iter()));
    cluster.wait_until(settle_us, ViewLimits::least(), settled)?;
    let expected = Tally {
        last_done: tally.last_done.clone(),
        failed_ever: tally.failed_ever,
        ..Tally::default()
    };
    let agreement = cluster.with_clock(move |sim, _| agreement(sim, &expected))??;
    Ok(BenchReport {
        nodes: config.nodes,
        clients: config.clients,
        driver: LoadDriver::Threads,
        elapsed,
        ops: tally.ops,
        failed: tally.failed,
        latency: tally.latencies.summary(),
        traffic,
        handoffs,
        agreement,
    })
}

/// One client thread: operations back to back until `stop`; those answered after `end`
/// count for the final check but not for the window.
fn thread_client(
    cluster: &Cluster,
    index: u64,
    id: ClientId,
    end: Instant,
    stop: &AtomicBool,
) -> Result<Tally, ClusterError> {
    let mut tally = Tally::default();
    let wait = Duration::from_micros(cluster.config().client_deadline_us) + LEADER_WAIT;
    let mut seq = 0;
    while !stop.load(Ordering::Relaxed) {
        seq += 1;
        let op = client_op(index, seq);
        let (waiter, answer) = crossbeam_channel::bounded(1);
        let sent = Instant::now();
        cluster.submit_as(op, (id, seq), waiter)?;
        let result = answer
            .recv_timeout(wait)
            .map_err(|_| ClusterError::ClientLost)?;
        let answered = Instant::now();
        let latency_us = answered.duration_since(sent).as_micros() as u64;
        let done = matches!(result.outcome, ClientOutcome::Done { .. });
        tally.record(index, seq, done, latency_us, answered <= end);
    }
    Ok(tally)
}

// ---- the final check -------------------------------------------------------------------

/// Whether every node is up and has applied every entry of the longest log.
fn all_applied<'a>(mut status: impl Iterator<Item = &'a NodePicture> + Clone) -> bool {
    let last = status.clone().map(|n| n.last_index).max().unwrap_or(0);
    status.all(|n| n.state == NodeState::Up && n.applied == last)
}

/// Compares the nodes' maps with each other and with what the clients saw acknowledged.
fn agreement(sim: &Scheduler, tally: &Tally) -> Result<Agreement, ClusterError> {
    let settled = all_applied(sim.world().status().iter());
    let applied = sim
        .world()
        .status()
        .iter()
        .map(|n| (n.id, n.applied))
        .collect();
    let maps = (1..=sim.world().config().nodes)
        .map(|node| sim.world().kv_of(node))
        .collect::<Result<Vec<_>, _>>()?;
    let nodes_agree = maps.windows(2).all(|pair| pair[0] == pair[1]);
    let matches_clients = (tally.failed_ever == 0).then(|| {
        let expected = expected_map(&tally.last_done);
        maps.first().is_some_and(|map| *map == expected)
    });
    Ok(Agreement {
        settled,
        applied,
        nodes_agree,
        matches_clients,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bench_of_no_time_or_longer_than_the_limit_is_refused_before_it_starts() {
        let config = BenchConfig {
            duration: LONGEST_BENCH + Duration::from_millis(1),
            ..BenchConfig::default()
        };
        assert!(matches!(run(&config), Err(BenchError::TooLong)));
        let config = BenchConfig {
            duration: Duration::ZERO,
            ..BenchConfig::default()
        };
        assert!(matches!(run(&config), Err(BenchError::NoDuration)));
    }

    /// What [`closed_loop_run`] saw: every event logged, how many were emitted, every
    /// operation that ended, and how many operations the history holds.
    type LoopRun = (Vec<ClusterEvent>, u64, Vec<Completion>, usize);

    /// A virtual cluster with four clients in a closed loop for 40 rounds of 20 ms of
    /// cluster time, run as the bench runs it (`as_bench`: the event log keeps only the
    /// messages sent, and the history is not recorded) or as everything else does.
    fn closed_loop_run(as_bench: bool) -> LoopRun {
        let config = ClusterConfig {
            nodes: 3,
            seed: 11,
            clock: ClockMode::Virtual,
            ..Default::default()
        };
        let cluster = Cluster::start(config).expect("the cluster starts");
        let run = cluster.with_clock(move |sim, _| -> Result<_, ClusterError> {
            if as_bench {
                sim.observers_mut().log_only(LogScope::MessagesSent);
                sim.record_history(false);
            }
            sim.run_until_time(2_000_000)?;
            sim.keep_completions(true);
            let clients: Vec<ClientId> = (0..4).map(|_| sim.new_client()).collect();
            let mut ended = Vec::new();
            for seq in 1..=40 {
                let requests = (0..)
                    .zip(&clients)
                    .map(|(index, &client)| ((client, seq), client_op(index, seq)));
                sim.submit_batch(requests);
                sim.run_until_time(2_000_000 + seq * 20_000)?;
                sim.take_completions(&mut ended);
            }
            let events = sim.observers().events_since(0).1.cloned().collect();
            let emitted = sim.observers().events_emitted();
            Ok((events, emitted, ended, sim.history().len()))
        });
        run.expect("the driver runs the job").expect("the run")
    }

    #[test]
    fn the_bench_keeps_fewer_events_and_no_history_but_the_run_is_the_same() {
        let (bench_events, bench_emitted, bench_ended, bench_history) = closed_loop_run(true);
        let (events, emitted, ended, history) = closed_loop_run(false);
        assert_eq!(
            (bench_history, history),
            (0, 160),
            "no history in the bench"
        );
        assert_eq!(bench_emitted, emitted, "every event is still counted");
        assert_eq!(bench_ended, ended);
        assert!(ended.len() > 100, "{} operations ended", ended.len());
        let sent: Vec<ClusterEvent> = events
            .into_iter()
            .filter(|e| matches!(e.kind, EventKind::Sent { .. }))
            .collect();
        assert!(!sent.is_empty());
        assert_eq!(bench_events, sent, "the same messages, and only those");
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let sorted: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&sorted, 50.0), 50);
        assert_eq!(percentile(&sorted, 99.0), 99);
        assert_eq!(percentile(&sorted, 100.0), 100);
        assert_eq!(percentile(&[7], 50.0), 7);
        assert_eq!(percentile(&[1, 2], 0.0), 1);
    }

    #[test]
    fn an_empty_latency_list_summarises_to_zero() {
        assert_eq!(LatencySummary::of(&mut []), LatencySummary::default());
        assert_eq!(Latencies::default().summary(), LatencySummary::default());
    }

    #[test]
    fn bucketed_latencies_are_exact_when_small_and_within_a_bucket_above() {
        let mut latencies = Latencies::default();
        let mut all: Vec<u64> = (1..=100).chain((1..=900).map(|i| i * 37)).collect();
        for &latency in &all {
            latencies.record(latency);
        }
        let summary = latencies.summary();
        let exact = LatencySummary::of(&mut all);
        assert_eq!(summary.max_us, exact.max_us);
        assert_eq!(summary.mean_us, exact.mean_us);
        for (bucketed, exact) in [
            (summary.p50_us, exact.p50_us),
            (summary.p90_us, exact.p90_us),
            (summary.p99_us, exact.p99_us),
        ] {
            assert!(
                bucketed <= exact && exact - bucketed <= exact / 64,
                "{bucketed} {exact}"
            );
        }
        let mut small = Latencies::default();
        for latency in 1..=100 {
            small.record(latency);
        }
        assert_eq!(small.summary().p50_us, 50);
        for latency in [127, 128, 129, 1_000, 65_535, 1 << 40] {
            let bucket = Latencies::bucket(latency);
            assert!(Latencies::lowest(bucket) <= latency, "{latency}");
            assert!(Latencies::lowest(bucket + 1) > latency, "{latency}");
        }
    }

    #[test]
    fn a_loop_client_issues_the_operations_of_client_op() {
        let mut client = LoopClient {
            id: 1,
            seq: 0,
            keys: (0..KEYS_PER_CLIENT).map(|key| client_key(3, key)).collect(),
            sent: None,
        };
        for seq in 1..=2 * KEYS_PER_CLIENT {
            assert_eq!(client.next_op(), (seq, client_op(3, seq)));
        }
    }

    #[test]
    fn each_client_cycles_through_its_own_keys() {
        assert_eq!(client_op(3, 1).key(), "k3.1");
        assert_eq!(client_op(3, 9).key(), "k3.1");
        assert_ne!(client_op(3, 1).key(), client_op(4, 1).key());
    }

    #[test]
    fn a_failed_operation_is_counted_and_not_acknowledged() {
        let mut tally = Tally::default();
        tally.record(0, 1, false, 5, true);
        assert_eq!((tally.failed, tally.failed_ever, tally.ops), (1, 1, 0));
        assert!(tally.last_done.iter().all(|&seq| seq == 0));
    }

    #[test]
    fn the_expected_map_holds_each_keys_last_put() {
        let expected = expected_map(&[10, 2]);
        let pairs = [
            ("k0.0", "8"),
            ("k0.1", "9"),
            ("k0.2", "10"),
            ("k0.3", "3"),
            ("k1.1", "1"),
        ];
        for (key, value) in pairs {
            assert!(
                expected.contains(&(key.into(), value.into())),
                "{key}: {expected:?}"
            );
        }
        assert_eq!(expected.len(), KEYS_PER_CLIENT as usize + 2);
    }
}
