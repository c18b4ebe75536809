//! Many seeds, on worker threads.
//!
//! No worker holds back the report: each seed's run is bounded by its budget, a seed over
//! it is set aside and reported as such while the others go on, and once a seed fails
//! (with `stop_at_first`) the runs still going are called off rather than awaited.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::run::explore_unless;
use super::{CheckOptions, Failure, RunReport, setup};

/// What a batch of seeds did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    pub seeds_run: u64,
    /// The failing runs, by seed.
    pub failures: Vec<RunReport>,
    /// The runs stopped for spending their seed's budget, by seed.
    pub over_budget: Vec<RunReport>,
    pub handoffs: u64,
    pub events: u64,
    pub operations: u64,
    pub steps_checked: u64,
    /// Runs whose history the linearizability checker could not decide in its budget.
    pub undecided: u64,
    /// The most messages in flight at once in any run (see `cluster::storm`).
    pub peak_in_flight: u64,
    /// The most events in one second of cluster time in any run.
    pub peak_events_per_second: u64,
    pub wall: Duration,
}

/// Runs `seeds` on `workers` threads (each seed is independent and deterministic, so the
/// results do not depend on the order). With `stop_at_first`, no seed is started after a
/// failure, and the seeds still running are called off (a seed over its budget is not a
/// failure that stops the others). `on_done` hears of every run that ends (not of those
/// called off).
pub fn run_seeds(
    seeds: &[u64],
    options: &CheckOptions,
    workers: usize,
    stop_at_first: bool,
    on_done: &(dyn Fn(&RunReport) + Sync),
) -> Summary {
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let tally = Tally::default();
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let Some(&seed) = seeds.get(next.fetch_add(1, Ordering::Relaxed)) else {
                        return;
                    };
                    let report = explore_unless(&setup(seed, options), &stop);
                    if report.cancelled {
                        return;
                    }
                    on_done(&report);
                    if tally.add(report) {
                        stop.fetch_or(stop_at_first, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    tally.into_summary(started.elapsed())
}

/// What the workers found so far.
#[derive(Default)]
struct Tally {
    /// Seeds run, hand-offs, events, operations, steps checked, undecided runs.
    counters: [AtomicU64; 6],
    /// The most messages in flight, the most events in a second.
    peaks: [AtomicU64; 2],
    failures: Mutex<Vec<RunReport>>,
    over_budget: Mutex<Vec<RunReport>>,
}

impl Tally {
    /// Counts a run that ended, and keeps it if it failed. Returns whether it failed (a
    /// run over its budget did not).
    fn add(&self, mut report: RunReport) -> bool {
        let totals = [
            1,
            report.handoffs,
            report.events,
            report.operations as u64,
            report.steps_checked,
            u64::from(report.undecided_key.is_some()),
        ];
        for (counter, value) in self.counters.iter().zip(totals) {
            counter.fetch_add(value, Ordering::Relaxed);
        }
        let highs = [report.peak_in_flight as u64, report.peak_events_per_second];
        for (peak, value) in self.peaks.iter().zip(highs) {
            peak.fetch_max(value, Ordering::Relaxed);
        }
        match &report.failure {
            Some(Failure::OverBudget(_)) => {
                report.schedule = Vec::new();
                lock(&self.over_budget).push(report);
                false
            }
            Some(_) => {
                lock(&self.failures).push(report);
                true
            }
            None => false,
        }
    }

    fn into_summary(self, wall: Duration) -> Summary {
        let [mut failures, mut over_budget] = [self.failures, self.over_budget]
            .map(|list| list.into_inner().unwrap_or_else(|p| p.into_inner()));
        failures.sort_by_key(|report| report.setup.seed);
        over_budget.sort_by_key(|report| report.setup.seed);
        let [
            seeds_run,
            handoffs,
            events,
            operations,
            steps_checked,
            undecided,
        ] = self.counters.map(|c| c.into_inner());
        let [peak_in_flight, peak_events_per_second] = self.peaks.map(|p| p.into_inner());
        Summary {
            seeds_run,
            failures,
            over_budget,
            handoffs,
            events,
            operations,
            steps_checked,
            undecided,
            peak_in_flight,
            peak_events_per_second,
            wall,
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
