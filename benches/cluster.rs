//! How fast the cluster runs: virtual-time speed (simulated seconds per wall second) under
//! client load and idle, and realtime throughput and latency with many concurrent clients.
//!
//! Plain `Instant` timing, one run each: `cargo bench --bench cluster`, or only the rows
//! whose name holds a word: `cargo bench --bench cluster -- inline`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use raftlab::cluster::checker::operations;
use raftlab::cluster::kv::KvOp;
use raftlab::cluster::linearizability::{SearchBudget, Verdict, WINDOW_OPS, WindowedHistory};
use raftlab::cluster::{
    ClientOutcome, ClockMode, Cluster, ClusterConfig, Hosting, OpId, REPL_SNAPSHOT_EVERY,
    ViewLimits,
};
use raftlab::raft::RaftConfig;

/// The allocator the `raftlab` binary uses, so that these rows measure the cluster as it
/// runs there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SECOND_US: u64 = 1_000_000;
/// The row run only when named: `cargo bench --bench cluster -- "REPL cluster"`.
const REPL_TEN_MINUTES: &str = "REPL cluster, 1000 ops/s, 10 min";

fn cluster(nodes: u64, clock: ClockMode, hosting: Hosting) -> Cluster {
    let config = ClusterConfig {
        nodes,
        seed: 42,
        clock,
        hosting,
        ..Default::default()
    };
    started(config)
}

/// A started cluster with a leader.
fn started(config: ClusterConfig) -> Cluster {
    let cluster = Cluster::start(config).expect("the cluster starts");
    let elected = cluster
        .wait_until(
            5 * SECOND_US,
            ViewLimits::least(),
            Arc::new(|view| view.leader.is_some()),
        )
        .expect("the cluster runs");
    assert!(elected, "no leader");
    cluster
}

fn put(i: u64) -> KvOp {
    KvOp::Put {
        key: format!("k{}", i % 100),
        value: i.to_string(),
    }
}

/// Prints one result line: virtual seconds run, wall time, and their ratio.
fn report_virtual(name: &str, ops: u64, virtual_us: u64, wall: Duration) {
    let virtual_s = virtual_us as f64 / 1e6;
    let wall_s = wall.as_secs_f64();
    println!(
        "{name:<34} {ops:>7} ops  {virtual_s:>6.1}s virtual in {wall_s:>6.3}s wall  \
         = {:>7.1}x realtime  ({:.0} ops/wall s)",
        virtual_s / wall_s,
        ops as f64 / wall_s
    );
}

/// One client issuing `request`s back to back for `duration_us` of virtual time.
fn virtual_one_client(duration_us: u64, hosting: Hosting) {
    let cluster = cluster(5, ClockMode::Virtual, hosting);
    let start_us = cluster.now_us().unwrap();
    let wall = Instant::now();
    let mut ops = 0;
    while cluster.now_us().unwrap() < start_us + duration_us {
        let result = cluster.request(put(ops), None).unwrap();
        assert!(matches!(result.outcome, ClientOutcome::Done { .. }));
        ops += 1;
    }
    let ran_us = cluster.now_us().unwrap() - start_us;
    let name = format!("virtual {}, 5 nodes, 1 client", hosting.name());
    report_virtual(&name, ops, ran_us, wall.elapsed());
}

/// `clients` clients, each with one operation outstanding at all times (a closed loop run
/// inside the driver), for `duration_us` of virtual time.
fn virtual_many_clients(clients: usize, duration_us: u64, hosting: Hosting) {
    let cluster = cluster(5, ClockMode::Virtual, hosting);
    let wall = Instant::now();
    let (ops, ran_us) = cluster
        .with_clock(move |sim, _| {
            let start_us = sim.now_us();
            let end_us = start_us + duration_us;
            let mut issued = 0;
            let mut done = 0;
            let mut outstanding: Vec<OpId> = Vec::with_capacity(clients);
            loop {
                for slot in outstanding.iter_mut() {
                    if !sim.is_pending(*slot) {
                        done += 1;
                        *slot = sim.submit(put(issued), None, None, None).unwrap();
                        issued += 1;
                    }
                }
                while outstanding.len() < clients {
                    outstanding.push(sim.submit(put(issued), None, None, None).unwrap());
                    issued += 1;
                }
                if sim.advance(end_us).unwrap().is_none() {
                    break;
                }
            }
            (done, sim.now_us() - start_us)
        })
        .unwrap();
    let name = format!("virtual {}, 5 nodes, {clients} clients", hosting.name());
    report_virtual(&name, ops, ran_us, wall.elapsed());
}

/// An open-loop load of `rate` puts per simulated second (one every `1 / rate` seconds
/// whatever the cluster does), from 100 clients in turn, for `duration_us`.
fn virtual_open_loop(rate: u64, duration_us: u64, hosting: Hosting) {
    let cluster = cluster(5, ClockMode::Virtual, hosting);
    let name = format!("virtual {}, 5 nodes, {rate} ops/s", hosting.name());
    open_loop(&cluster, &name, rate, duration_us);
}

/// The REPL's own cluster (5 nodes on threads, a snapshot every
/// [`REPL_SNAPSHOT_EVERY`] entries) on a virtual clock, under 1,000 puts per simulated
/// second for ten simulated minutes, its history taken out every 1,024 operations and
/// checked in windows as the REPL's session does, and checked whole at the end: run it
/// under `/usr/bin/time -v` for its peak memory.
fn repl_cluster_ten_minutes() {
    let config = ClusterConfig {
        nodes: 5,
        seed: 42,
        clock: ClockMode::Virtual,
        raft: RaftConfig {
            snapshot_every: REPL_SNAPSHOT_EVERY,
            ..RaftConfig::default()
        },
        ..Default::default()
    };
    let cluster = started(config);
    let rate = 1_000;
    let duration_us = 600 * SECOND_US;
    let wall = Instant::now();
    let (ops, ran_us, kept) = cluster
        .with_clock(move |sim, _| {
            let mut history = WindowedHistory::new(SearchBudget::default(), WINDOW_OPS);
            let mut kept = 0;
            let start_us = sim.now_us();
            let gap_us = SECOND_US / rate;
            let mut issued = 0;
            while sim.now_us() < start_us + duration_us {
                let client = (1_000_000 + issued % 100, 1 + issued / 100);
                sim.submit(put(issued), None, Some(client), None).unwrap();
                issued += 1;
                sim.run_until_time(start_us + issued * gap_us).unwrap();
                if issued % 1024 == 0 {
                    history.push(operations(&sim.take_finished_history()));
                    kept = history.kept().max(kept);
                }
            }
            let verdict = history.verdict(&operations(sim.history()));
            assert_eq!(verdict, Verdict::Linearizable);
            let done = issued - sim.pending_ops().count() as u64;
            (done, sim.now_us() - start_us, kept)
        })
        .unwrap();
    report_virtual(REPL_TEN_MINUTES, ops, ran_us, wall.elapsed());
    println!(
        "{:<34} linearizable; at most {kept} operations kept by the windows",
        ""
    );
}

/// Drives `cluster` with `rate` puts per simulated second for `duration_us`.
fn open_loop(cluster: &Cluster, name: &str, rate: u64, duration_us: u64) {
    let wall = Instant::now();
    let (ops, ran_us) = cluster
        .with_clock(move |sim, _| {
            let start_us = sim.now_us();
            let gap_us = SECOND_US / rate;
            let mut issued = 0;
            let mut ids = Vec::new();
            while sim.now_us() < start_us + duration_us {
                let client = (1_000_000 + issued % 100, 1 + issued / 100);
                ids.push(sim.submit(put(issued), None, Some(client), None).unwrap());
                issued += 1;
                sim.run_until_time(start_us + issued * gap_us).unwrap();
            }
            let done = ids.iter().filter(|&&op| !sim.is_pending(op)).count() as u64;
            (done, sim.now_us() - start_us)
        })
        .unwrap();
    report_virtual(name, ops, ran_us, wall.elapsed());
}

/// No clients: heartbeats only, for `duration_us` of virtual time.
fn virtual_idle(duration_us: u64, hosting: Hosting) {
    let cluster = cluster(5, ClockMode::Virtual, hosting);
    let handoffs_before = cluster.position().unwrap().1;
    let wall = Instant::now();
    cluster.run_for(duration_us).unwrap();
    let elapsed = wall.elapsed();
    let handoffs = cluster.position().unwrap().1 - handoffs_before;
    let name = format!("virtual {}, 5 nodes, idle", hosting.name());
    report_virtual(&name, 0, duration_us, elapsed);
    println!(
        "{:<34} {handoffs} hand-offs, {:.0} hand-offs/wall s",
        "",
        handoffs as f64 / elapsed.as_secs_f64()
    );
}

/// `clients` threads, each doing `request` in a loop for `duration` of wall time, against
/// a realtime cluster at normal speed.
fn realtime_throughput(nodes: u64, clients: u64, duration: Duration) {
    let cluster = cluster(nodes, ClockMode::Realtime, Hosting::Threads);
    let stop = AtomicBool::new(false);
    let wall = Instant::now();
    let per_client: Vec<(u64, u64, Duration)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..clients)
            .map(|c| {
                let (cluster, stop) = (&cluster, &stop);
                scope.spawn(move || {
                    let (mut ok, mut failed, mut latency) = (0, 0, Duration::ZERO);
                    let mut i = c * 1_000_000;
                    while !stop.load(Ordering::Relaxed) {
                        let sent = Instant::now();
                        let result = cluster.request(put(i), None).unwrap();
                        latency += sent.elapsed();
                        match result.outcome {
                            ClientOutcome::Done { .. } => ok += 1,
                            _ => failed += 1,
                        }
                        i += 1;
                    }
                    (ok, failed, latency)
                })
            })
            .collect();
        std::thread::sleep(duration);
        stop.store(true, Ordering::Relaxed);
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let elapsed = wall.elapsed().as_secs_f64();
    let ok: u64 = per_client.iter().map(|r| r.0).sum();
    let failed: u64 = per_client.iter().map(|r| r.1).sum();
    let latency: Duration = per_client.iter().map(|r| r.2).sum();
    let mean_ms = latency.as_secs_f64() * 1e3 / (ok + failed).max(1) as f64;
    println!(
        "realtime, {nodes} nodes, {clients} clients: {ok} ops ({failed} failed) in {elapsed:.2}s \
         = {:.0} ops/s, mean latency {mean_ms:.2}ms",
        ok as f64 / elapsed
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would run this too, briefly.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = !args.iter().any(|a| a == "--bench");
    // Any other argument picks the rows whose name holds it: `-- inline` or `-- "ops/s"`.
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let wanted =
        |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()));
    let scale = if quick { 10 } else { 1 };
    for hosting in [Hosting::Threads, Hosting::Inline] {
        let row = |what: &str| format!("virtual {}, 5 nodes, {what}", hosting.name());
        if wanted(&row("1 client")) {
            virtual_one_client(10 * SECOND_US / scale, hosting);
        }
        if wanted(&row("32 clients")) {
            virtual_many_clients(32, 10 * SECOND_US / scale, hosting);
        }
        if wanted(&row("1000 ops/s")) {
            virtual_open_loop(1_000, 10 * SECOND_US / scale, hosting);
        }
        if wanted(&row("idle")) {
            virtual_idle(60 * SECOND_US / scale, hosting);
        }
    }
    if filters
        .iter()
        .any(|f| f.contains("REPL") && REPL_TEN_MINUTES.contains(f.as_str()))
    {
        repl_cluster_ten_minutes();
    }
    if wanted("realtime, 3 nodes, 64 clients") {
        realtime_throughput(3, 64, Duration::from_millis(3_000 / scale));
    }
}
