//! The cluster handle: a driver thread owns the [`Scheduler`] and its clock; the handle sends it
//! jobs over a channel and waits for the answers.
//!
//! In realtime mode the driver runs due events as the wall clock (times the speed)
//! reaches them and serves jobs in between; paused and virtual clocks move only inside
//! jobs (`run`, `step`, client commands in virtual time), which keeps them deterministic.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, select};

use crate::raft::{Entry, Index, NodeId, Term};

use super::event::{ClusterEvent, MsgId, OpId};
use super::kv::{ClientId, KvOp};
use super::network::InFlight;
use super::scheduler::{Scheduler, StepReport};
use super::view::{ClusterView, ViewLimits};
use super::{
    ClientRecord, ClientResult, ClockMode, ClusterConfig, ClusterError, NetworkConfig, Rule,
};

type Job = Box<dyn FnOnce(&mut Driver) + Send>;

/// The most hand-offs the realtime loop runs before it serves jobs again.
const REALTIME_BATCH: u32 = 10_000;
/// The most jobs already waiting that the driver serves back to back before time runs on.
const QUEUED_JOBS_BATCH: u32 = 1_024;
/// How often a realtime wait checks its condition, in wall time.
const REALTIME_POLL: Duration = Duration::from_millis(2);
/// How often a realtime client command looks for an interrupt while it waits.
const INTERRUPT_POLL: Duration = Duration::from_millis(20);

/// The clock: which mode, how fast, and where realtime counts from.
struct Clock {
    mode: ClockMode,
    speed: f64,
    anchor_wall: Instant,
    anchor_us: u64,
}

impl Clock {
    /// Cluster time now, by the wall clock.
    fn realtime_us(&self) -> u64 {
        let elapsed_us = self.anchor_wall.elapsed().as_secs_f64() * 1e6 * self.speed;
        self.anchor_us + elapsed_us as u64
    }

    /// The wall time until cluster time `time_us`.
    fn wall_until(&self, time_us: u64) -> Duration {
        let now = self.realtime_us();
        let cluster_us = time_us.saturating_sub(now) as f64;
        Duration::from_secs_f64((cluster_us / self.speed / 1e6).min(3600.0))
    }
}

/// The driver thread's state.
pub struct Driver {
    sim: Scheduler,
    clock: Clock,
    stopping: bool,
}

impl Driver {
    fn run(mut self, jobs: Receiver<Job>) {
        while !self.stopping {
            let job = if self.clock.mode == ClockMode::Realtime {
                self.catch_up();
                let wait = self.sim.next_event_us().map(|t| self.clock.wall_until(t));
                let wait = wait
                    .unwrap_or(Duration::from_millis(100))
                    .min(Duration::from_millis(100));
                select! {
                    recv(jobs) -> job => job,
                    default(wait) => continue,
                }
            } else {
                jobs.recv()
            };
            let Ok(job) = job else { break };
            if self.clock.mode == ClockMode::Realtime {
                self.catch_up();
            }
            job(&mut self);
            // Serve every job already waiting before time runs on: client operations
            // submitted together then reach the leader together, as one proposal.
            for _ in 0..QUEUED_JOBS_BATCH {
                if self.stopping {
                    break;
                }
                let Ok(job) = jobs.try_recv() else { break };
                job(&mut self);
            }
        }
        self.sim.shutdown();
    }

    /// Runs what is due by the wall clock. A node error here has already been recorded
    /// as an event (a crashed node); the loop goes on.
    fn catch_up(&mut self) {
        let now = self.clock.realtime_us();
        self.sim.set_parallel(true);
        for _ in 0..REALTIME_BATCH {
            match self.sim.advance_quietly(now) {
                Ok(true) => {}
                Ok(false) => {
                    self.sim.set_now(now);
                    break;
                }
                Err(_) => break,
            }
        }
        self.sim.set_parallel(false);
        self.sim.publish_position();
    }

    fn set_mode(&mut self, mode: ClockMode) {
        if mode == ClockMode::Realtime {
            self.clock.anchor_wall = Instant::now();
            self.clock.anchor_us = self.sim.now_us();
        }
        self.clock.mode = mode;
    }
}

/// The links and the fault settings.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkView {
    /// Every node the cluster hosts, added ones included.
    pub nodes: Vec<NodeId>,
    pub config: NetworkConfig,
    /// Cut links, one direction each.
    pub cut: Vec<(NodeId, NodeId)>,
    pub groups: Vec<Vec<NodeId>>,
}

/// A running cluster. Dropping it stops every node thread and the driver.
pub struct Cluster {
    jobs: Option<Sender<Job>>,
    driver: Option<JoinHandle<()>>,
    config: ClusterConfig,
    interrupt: Arc<AtomicBool>,
}

impl Cluster {
    /// Starts `config.nodes` nodes, each on its own thread, at cluster time 0.
    pub fn start(config: ClusterConfig) -> Result<Cluster, ClusterError> {
        config.validate()?;
        let (jobs, jobs_rx) = crossbeam_channel::unbounded::<Job>();
        let (ready_tx, ready_rx) = crossbeam_channel::bounded(1);
        let driver_config = config.clone();
        let driver = thread::Builder::new()
            .name("driver".to_string())
            .spawn(move || match Scheduler::start(driver_config.clone()) {
                Ok(sim) => {
                    let _ = ready_tx.send(Ok(()));
                    let clock = Clock {
                        mode: driver_config.clock,
                        speed: driver_config.speed,
                        anchor_wall: Instant::now(),
                        anchor_us: 0,
                    };
                    Driver {
                        sim,
                        clock,
                        stopping: false,
                    }
                    .run(jobs_rx);
                }
                Err(error) => {
                    let _ = ready_tx.send(Err(error));
                }
            })
            .map_err(|e| ClusterError::Spawn(e.to_string()))?;
        ready_rx.recv().map_err(|_| ClusterError::Stopped)??;
        let mut cluster = Cluster {
            jobs: Some(jobs),
            driver: Some(driver),
            config,
            interrupt: Arc::new(AtomicBool::new(false)),
        };
        cluster.set_interrupt(Arc::new(AtomicBool::new(false)))?;
        Ok(cluster)
    }

    /// The configuration the cluster started with.
    pub fn config(&self) -> &ClusterConfig {
        &self.config
    }

    /// Runs `job` on the driver thread with the scheduler and returns its result: the
    /// one way the commands below reach the cluster.
    fn with<R, F>(&self, job: F) -> Result<R, ClusterError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Scheduler) -> R + Send + 'static,
    {
        self.with_driver(move |driver| job(&mut driver.sim))
    }

    /// Runs `job` on the driver thread with the cluster's state and a reading of its clock,
    /// for work that drives a realtime cluster from inside the driver (a closed-loop load):
    /// while the job runs, the driver's own loop waits, so the job must run what falls due.
    /// In realtime the reading is the wall clock times the speed; a paused or virtual clock
    /// does not move by itself, and reads the cluster time at the job's start.
    pub fn with_clock<R, F>(&self, job: F) -> Result<R, ClusterError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Scheduler, &dyn Fn() -> u64) -> R + Send + 'static,
    {
        self.with_driver(move |driver| {
            let Driver { sim, clock, .. } = driver;
            if clock.mode == ClockMode::Realtime {
                sim.set_parallel(true);
                let result = job(sim, &|| clock.realtime_us());
                sim.set_parallel(false);
                result
            } else {
                let now_us = sim.now_us();
                job(sim, &move || now_us)
            }
        })
    }

    /// Runs `job`, a command of a paused or virtual clock (`what`), with the scheduler:
    /// refused while the clock runs by itself.
    fn with_stopped_clock<R, F>(&self, what: &'static str, job: F) -> Result<R, ClusterError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Scheduler) -> Result<R, ClusterError> + Send + 'static,
    {
        self.with_driver(move |driver| {
            driver.require_stopped_clock(what)?;
            job(&mut driver.sim)
        })?
    }

    fn with_driver<R, F>(&self, job: F) -> Result<R, ClusterError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Driver) -> R + Send + 'static,
    {
        let (reply, answer) = crossbeam_channel::bounded(1);
        let job: Job =
            Box::new(
                move |driver| match catch_unwind(AssertUnwindSafe(|| job(driver))) {
                    Ok(result) => {
                        let _ = reply.send(Ok(result));
                    }
                    Err(panic) => {
                        let message = panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default();
                        let _ = reply.send(Err(ClusterError::Internal(message)));
                    }
                },
            );
        let jobs = self.jobs.as_ref().ok_or(ClusterError::Stopped)?;
        jobs.send(job).map_err(|_| ClusterError::Stopped)?;
        answer.recv().map_err(|_| ClusterError::Stopped)?
    }

    // ---- views ----------------------------------------------------------------------

    /// The cluster now, as `status` shows it: the view with the nodes, the network and the
    /// messages in flight, but no log entries or events ([`ClusterView`]).
    pub fn status(&self) -> Result<ClusterView, ClusterError> {
        self.view(ViewLimits {
            messages: true,
            ..ViewLimits::least()
        })
    }

    /// The whole cluster at this instant, as data (see [`ClusterView`]). Reads only.
    pub fn view(&self, limits: ViewLimits) -> Result<ClusterView, ClusterError> {
        self.with_driver(move |driver| {
            ClusterView::capture(&driver.sim, driver.clock.mode, driver.clock.speed, limits)
        })
    }

    /// Where the run is: the cluster time and how many hand-offs the scheduler has made
    /// (a position [`Cluster::replay_to`] returns to).
    pub fn position(&self) -> Result<(u64, u64), ClusterError> {
        self.with(|sim| (sim.now_us(), sim.handoffs()))
    }

    pub fn now_us(&self) -> Result<u64, ClusterError> {
        self.with(|sim| sim.now_us())
    }

    pub fn leader(&self) -> Result<Option<NodeId>, ClusterError> {
        self.with(|sim| sim.world().current_leader())
    }

    /// The durable logs of `nodes` (every node when empty).
    pub fn logs(&self, nodes: Vec<NodeId>) -> Result<Vec<(NodeId, Vec<Entry>)>, ClusterError> {
        self.with(move |sim| {
            let nodes = if nodes.is_empty() {
                sim.world().hosted()
            } else {
                nodes
            };
            nodes
                .into_iter()
                .map(|n| Ok((n, sim.world().log_of(n)?)))
                .collect()
        })?
    }

    pub fn kv(&self, node: NodeId) -> Result<Vec<(String, String)>, ClusterError> {
        self.with(move |sim| sim.world().kv_of(node))?
    }

    pub fn network(&self) -> Result<NetworkView, ClusterError> {
        self.with(|sim| NetworkView {
            nodes: sim.world().hosted(),
            config: sim.world().network().config().clone(),
            cut: sim.world().network().cut_links().collect(),
            groups: sim.world().network().groups().to_vec(),
        })
    }

    pub fn in_flight(&self) -> Result<Vec<InFlight>, ClusterError> {
        self.with(|sim| sim.world().network().in_flight())
    }

    /// The last `count` events.
    pub fn events(&self, count: usize) -> Result<Vec<ClusterEvent>, ClusterError> {
        self.with(move |sim| sim.observers().recent_events(count))
    }

    /// Every event from now on, as it happens.
    pub fn subscribe(&self) -> Result<Receiver<ClusterEvent>, ClusterError> {
        self.with(|sim| sim.observers_mut().subscribe())
    }

    /// Every client operation so far (since those [`Cluster::take_finished_history`] took).
    pub fn history(&self) -> Result<Vec<ClientRecord>, ClusterError> {
        self.with(|sim| sim.history().to_vec())
    }

    /// Takes the finished operations at the front of the history out of the cluster, for
    /// a caller that checks them as they come: [`Cluster::history`] then starts after them.
    pub fn take_finished_history(&self) -> Result<Vec<ClientRecord>, ClusterError> {
        self.with(|sim| sim.take_finished_history())
    }

    // ---- time -----------------------------------------------------------------------

    pub fn mode(&self) -> Result<ClockMode, ClusterError> {
        self.with_driver(|driver| driver.clock.mode)
    }

    /// Switches the clock between realtime, paused and virtual.
    pub fn set_mode(&self, mode: ClockMode) -> Result<(), ClusterError> {
        self.with_driver(move |driver| driver.set_mode(mode))
    }

    /// Sets realtime speed (0.1 = ten times slower).
    pub fn set_speed(&self, speed: f64) -> Result<(), ClusterError> {
        if !(speed.is_finite() && speed > 0.0) {
            return Err(ClusterError::Speed(speed));
        }
        self.with_driver(move |driver| {
            driver.clock.anchor_us = driver.clock.realtime_us().max(driver.sim.now_us());
            driver.clock.anchor_wall = Instant::now();
            driver.clock.speed = speed;
        })
    }

    /// Advances a paused or virtual clock by `duration_us`, running what falls due.
    pub fn run_for(&self, duration_us: u64) -> Result<(), ClusterError> {
        self.with_stopped_clock("run", move |sim| {
            let until = sim.now_us().saturating_add(duration_us);
            sim.run_until_time(until)
        })
    }

    /// Advances a paused or virtual clock by `duration_us`, or only until the checker has
    /// found `rule` broken, whichever comes first: it stops right after the hand-off that
    /// broke it. Returns whether `rule` is broken.
    pub fn run_until_broken(&self, rule: Rule, duration_us: u64) -> Result<bool, ClusterError> {
        self.with_stopped_clock("run", move |sim| {
            let until = sim.now_us().saturating_add(duration_us);
            let broken = move |sim: &Scheduler| {
                let violations = sim.observers().violations();
                violations.iter().any(|v| v.rule == rule)
            };
            sim.run_while(until, broken)
        })
    }

    /// Processes the next hand-off of a paused or virtual clock. `None` when nothing is
    /// scheduled at all.
    pub fn step(&self) -> Result<Option<StepReport>, ClusterError> {
        self.with_stopped_clock("step", |sim| sim.advance(u64::MAX))
    }

    /// Delivers message `id` now.
    pub fn deliver(&self, id: MsgId) -> Result<StepReport, ClusterError> {
        self.with_stopped_clock("deliver", move |sim| sim.deliver(id))
    }

    /// Puts a second copy of message `id` on the wire; returns the copy's id.
    pub fn duplicate(&self, id: MsgId) -> Result<MsgId, ClusterError> {
        self.with_stopped_clock("dup", move |sim| sim.duplicate(id))
    }

    /// Fires `node`'s timer now, moving the clock to its deadline.
    pub fn fire_timer(&self, node: NodeId) -> Result<StepReport, ClusterError> {
        self.with_stopped_clock("tick", move |sim| sim.fire_timer(node))
    }

    /// Drops message `id`.
    pub fn drop_message(&self, id: MsgId) -> Result<(), ClusterError> {
        self.with(move |sim| sim.drop_message(id))?
    }

    /// Runs until `condition` holds or `within_us` of cluster time pass. The condition
    /// reads a [`ClusterView`] taken with `limits` before each hand-off (ask for only what
    /// it reads: one is taken after every hand-off). In realtime the wait is in wall time
    /// (scaled by the speed). Returns whether the condition held.
    pub fn wait_until(
        &self,
        within_us: u64,
        limits: ViewLimits,
        condition: Arc<dyn Fn(&ClusterView) -> bool + Send + Sync>,
    ) -> Result<bool, ClusterError> {
        if self.mode()? == ClockMode::Realtime {
            return self.wait_realtime(within_us, limits, condition);
        }
        self.with_driver(move |driver| {
            let (mode, speed) = (driver.clock.mode, driver.clock.speed);
            let until = driver.sim.now_us().saturating_add(within_us);
            driver.sim.run_while(until, |sim| {
                condition(&ClusterView::capture(sim, mode, speed, limits))
            })
        })?
    }

    fn wait_realtime(
        &self,
        within_us: u64,
        limits: ViewLimits,
        condition: Arc<dyn Fn(&ClusterView) -> bool + Send + Sync>,
    ) -> Result<bool, ClusterError> {
        let until = self.now_us()?.saturating_add(within_us);
        loop {
            let view = self.view(limits)?;
            let (held, now) = (condition(&view), view.now_us);
            if held || now >= until {
                return Ok(held);
            }
            self.check_interrupt(now)?;
            thread::sleep(REALTIME_POLL);
        }
    }

    /// Runs a paused or virtual clock until the scheduler has made `handoffs` hand-offs
    /// (or nothing is left to do), then sets the clock to `time_us`: replays a run to a
    /// position recorded with [`ClusterView::handoffs`] (`back`).
    pub fn replay_to(&self, handoffs: u64, time_us: u64) -> Result<(), ClusterError> {
        self.with(move |sim| {
            while sim.handoffs() < handoffs {
                if sim.advance(u64::MAX)?.is_none() {
                    break;
                }
            }
            sim.set_now(time_us);
            Ok(())
        })?
    }

    /// Hands nodes their work in parallel (see [`Scheduler::set_parallel`]), also in
    /// virtual time: for tests of the parallel scheduler.
    pub fn set_parallel(&self, on: bool) -> Result<(), ClusterError> {
        self.with(move |sim| sim.set_parallel(on))
    }

    // ---- faults ---------------------------------------------------------------------

    pub fn kill(&self, node: NodeId) -> Result<(), ClusterError> {
        self.with(move |sim| sim.kill(node))?
    }

    pub fn restart(&self, node: NodeId) -> Result<(), ClusterError> {
        self.with(move |sim| sim.restart(node))?
    }

    /// Makes `node`'s thread panic with `message` (see [`Scheduler::inject_panic`]).
    pub fn inject_panic(&self, node: NodeId, message: String) -> Result<(), ClusterError> {
        self.with(move |sim| sim.inject_panic(node, message))?
    }

    /// Splits the cluster into `groups`; nodes named in none form one more group.
    pub fn partition(&self, groups: Vec<Vec<NodeId>>) -> Result<(), ClusterError> {
        self.with(move |sim| sim.partition(groups))?
    }

    /// Cuts every link to and from `node`, leaving the other links as they are.
    pub fn isolate(&self, node: NodeId) -> Result<(), ClusterError> {
        self.with(move |sim| sim.isolate(node))?
    }

    /// Cuts the link from `a` to `b`, and from `b` to `a` unless `one_way`.
    pub fn cut(&self, a: NodeId, b: NodeId, one_way: bool) -> Result<(), ClusterError> {
        self.set_link(a, b, one_way, false)
    }

    /// Restores the link from `a` to `b`, and from `b` to `a` unless `one_way`.
    pub fn link(&self, a: NodeId, b: NodeId, one_way: bool) -> Result<(), ClusterError> {
        self.set_link(a, b, one_way, true)
    }

    fn set_link(&self, a: NodeId, b: NodeId, one_way: bool, up: bool) -> Result<(), ClusterError> {
        self.with(move |sim| sim.set_link(a, b, one_way, up))?
    }

    /// Restores every link.
    pub fn heal(&self) -> Result<(), ClusterError> {
        self.with(|sim| sim.heal())
    }

    /// Changes the network's faults (loss, delay, duplication, reordering).
    pub fn set_network(&self, config: NetworkConfig) -> Result<(), ClusterError> {
        self.with(move |sim| sim.set_network(config))?
    }

    // ---- raft -----------------------------------------------------------------------

    /// Makes `node` take a snapshot of its state machine now and compact its log.
    pub fn snapshot(&self, node: NodeId) -> Result<StepReport, ClusterError> {
        self.with(move |sim| sim.snapshot(node))?
    }

    /// Where the durable logs of `nodes` (every node when empty) start: each one's
    /// snapshot index and term.
    pub fn snapshots(&self, nodes: Vec<NodeId>) -> Result<Vec<(Index, Term)>, ClusterError> {
        self.with(move |sim| {
            let nodes = if nodes.is_empty() {
                sim.world().hosted()
            } else {
                nodes
            };
            nodes
                .into_iter()
                .map(|n| sim.world().snapshot_of(n))
                .collect()
        })?
    }

    /// Makes `node` start an election now.
    pub fn campaign(&self, node: NodeId) -> Result<StepReport, ClusterError> {
        self.with(move |sim| sim.campaign(node))?
    }

    /// Makes the leader hand its leadership to `target` (see [`Scheduler::transfer`]).
    pub fn transfer(&self, target: NodeId) -> Result<StepReport, ClusterError> {
        self.with(move |sim| sim.transfer(target))?
    }

    /// Every node the cluster hosts, the added ones included.
    pub fn hosted(&self) -> Result<Vec<NodeId>, ClusterError> {
        self.with(|sim| sim.world().hosted())
    }

    /// Asks the leader to add `node` (see [`Scheduler::add`]).
    pub fn add(&self, node: NodeId) -> Result<StepReport, ClusterError> {
        self.with(move |sim| sim.add(node))?
    }

    /// Asks the leader to remove `node` (see [`Scheduler::remove`]).
    pub fn remove(&self, node: NodeId) -> Result<StepReport, ClusterError> {
        self.with(move |sim| sim.remove(node))?
    }

    /// Replaces a down node's durable log with entries of these terms.
    pub fn set_log(&self, node: NodeId, terms: Vec<Term>) -> Result<(), ClusterError> {
        self.with(move |sim| sim.set_log(node, &terms))?
    }

    // ---- clients --------------------------------------------------------------------

    /// Starts a client operation and returns at once; it completes as time advances.
    pub fn submit(&self, request: KvOp, via: Option<NodeId>) -> Result<OpId, ClusterError> {
        self.with(move |sim| sim.submit(request, via, None, None))?
    }

    /// A new client id, for callers that run clients of their own.
    pub fn new_client(&self) -> Result<ClientId, ClusterError> {
        self.with(|sim| sim.new_client())
    }

    /// Starts operation `seq` of `client` (its own id, from [`Cluster::new_client`]) and
    /// returns at once; `waiter` receives the result.
    pub fn submit_as(
        &self,
        request: KvOp,
        (client, seq): (ClientId, u64),
        waiter: Sender<ClientResult>,
    ) -> Result<OpId, ClusterError> {
        self.with(move |sim| sim.submit(request, None, Some((client, seq)), Some(waiter)))?
    }

    /// Whether client operation `op` is still waiting for its outcome.
    pub fn is_pending(&self, op: OpId) -> Result<bool, ClusterError> {
        self.with(move |sim| sim.is_pending(op))
    }

    /// Runs a client operation to its end: in virtual time by running the clock, in
    /// realtime by waiting. A paused clock does not move: use `submit` there.
    pub fn request(
        &self,
        request: KvOp,
        via: Option<NodeId>,
    ) -> Result<ClientResult, ClusterError> {
        let deadline_us = self.config.client_deadline_us;
        let (waiter, result) = crossbeam_channel::bounded(1);
        let mode = self.with_driver(move |driver| {
            let mode = driver.clock.mode;
            if mode == ClockMode::Paused {
                return Err(ClusterError::ClockPaused);
            }
            if let Some(node) = via {
                // Before the clock moves: a request that fails changes nothing.
                driver.sim.world().check_node(node)?;
            }
            if mode == ClockMode::Virtual && driver.sim.an_operation_ended_now() {
                // A request made once another's answer is in (the REPL's next command)
                // starts a microsecond later: at the same instant, the history would
                // show the two as concurrent, and a read that misses the write before it
                // would pass the linearizability check.
                let next_us = driver.sim.now_us() + 1;
                driver.sim.run_until_time(next_us)?;
            }
            let op = driver.sim.submit(request, via, None, Some(waiter))?;
            if mode == ClockMode::Virtual {
                let until = driver.sim.now_us() + deadline_us + 1;
                driver.sim.run_while(until, |sim| !sim.is_pending(op))?;
            }
            Ok(mode)
        })??;
        let wall_limit = match mode {
            ClockMode::Realtime => {
                let speed = self.with_driver(|driver| driver.clock.speed)?;
                Duration::from_secs_f64(deadline_us as f64 / 1e6 / speed) + Duration::from_secs(2)
            }
            _ => Duration::from_secs(1),
        };
        let give_up = Instant::now() + wall_limit;
        loop {
            let slice = give_up
                .saturating_duration_since(Instant::now())
                .min(INTERRUPT_POLL);
            match result.recv_timeout(slice) {
                Ok(answer) => return Ok(answer),
                Err(RecvTimeoutError::Disconnected) => return Err(ClusterError::ClientLost),
                Err(RecvTimeoutError::Timeout) if Instant::now() >= give_up => {
                    return Err(ClusterError::ClientLost);
                }
                Err(RecvTimeoutError::Timeout) => self.check_interrupt(self.now_us()?)?,
            }
        }
    }

    /// Uses `flag` to interrupt long commands (Ctrl-C at the REPL): a wait, a run or a
    /// client command that sees it set stops with [`ClusterError::Interrupted`].
    pub fn set_interrupt(&mut self, flag: Arc<AtomicBool>) -> Result<(), ClusterError> {
        self.interrupt = flag.clone();
        self.with(move |sim| sim.set_interrupt(flag))
    }

    /// Writes where the cluster has got to into `position` from now on, as a run or a wait
    /// goes on (see [`super::RunPosition`]).
    pub fn set_run_position(&self, position: Arc<super::RunPosition>) -> Result<(), ClusterError> {
        self.with(move |sim| sim.set_run_position(position))
    }

    /// The flag that interrupts this cluster's long commands.
    pub fn interrupt_flag(&self) -> Arc<AtomicBool> {
        self.interrupt.clone()
    }

    fn check_interrupt(&self, time_us: u64) -> Result<(), ClusterError> {
        if self.interrupt.load(Ordering::Relaxed) {
            return Err(ClusterError::Interrupted { time_us });
        }
        Ok(())
    }

    /// Hands the subscribers of this cluster's events to `other`, which replaces it.
    pub fn hand_subscribers_to(&self, other: &Cluster) -> Result<(), ClusterError> {
        let subscribers = self.with(|sim| sim.observers_mut().take_subscribers())?;
        other.with(move |sim| sim.observers_mut().add_subscribers(subscribers))
    }
}

impl Driver {
    fn require_stopped_clock(&self, what: &'static str) -> Result<(), ClusterError> {
        if self.clock.mode == ClockMode::Realtime {
            return Err(ClusterError::ClockRunning(what));
        }
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(jobs) = self.jobs.take() {
            let _ = jobs.send(Box::new(|driver: &mut Driver| driver.stopping = true));
        }
        if let Some(driver) = self.driver.take() {
            let _ = driver.join();
        }
    }
}
