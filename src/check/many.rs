//! Many seeds, on worker threads.
//!
//! No worker holds back the report: each seed's run is bounded by its budget, a seed over
//! it is set aside and reported as such while the others go on, and once a seed fails
//! (with `stop_at_first`) the runs of later seeds still going are called off rather than
//! awaited, while those of earlier seeds finish: one of them may fail too, and it is the
//! first failure in seed order that stops the check.
//!
//! What a check reports does not depend on how the workers' runs interleave: runs are
//! told of ([`run_seeds`]'s `on_done`) and counted in seed order, as if one worker ran
//! them one after another, and with `stop_at_first` exactly the seeds up to the first
//! failing one count.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
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
/// results do not depend on the order). With `stop_at_first`, the check stops at the first
/// failing seed in seed order: no later seed is started, later seeds still running are
/// called off, earlier ones finish (a seed over its budget is not a failure that stops the
/// others). `on_done` hears of every run that counts, in seed order (not of those called
/// off or past the first failure).
pub fn run_seeds(
    seeds: &[u64],
    options: &CheckOptions,
    workers: usize,
    stop_at_first: bool,
    on_done: &(dyn Fn(&RunReport) + Sync),
) -> Summary {
    let started = Instant::now();
    let workers = workers.max(1);
    let next = AtomicUsize::new(0);
    // The position of the first failing seed found so far (none: past the end).
    let limit = AtomicUsize::new(usize::MAX);
    // Each worker's seed (its position) and the flag that calls its run off.
    let running: Vec<(AtomicUsize, AtomicBool)> = (0..workers)
        .map(|_| (AtomicUsize::new(usize::MAX), AtomicBool::new(false)))
        .collect();
    let order = Mutex::new(InOrder::default());
    std::thread::scope(|scope| {
        for (current, cancel) in &running {
            let (next, limit, running, order) = (&next, &limit, &running, &order);
            scope.spawn(move || {
                loop {
                    let position = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&seed) = seeds.get(position) else {
                        return;
                    };
                    cancel.store(false, Ordering::SeqCst);
                    current.store(position, Ordering::SeqCst);
                    if position > limit.load(Ordering::SeqCst) {
                        return;
                    }
                    let report = explore_unless(&setup(seed, options), cancel);
                    if report.cancelled {
                        continue;
                    }
                    let fails = matches!(
                        report.failure,
                        Some(ref failure) if !matches!(failure, Failure::OverBudget(_))
                    );
                    if fails && stop_at_first {
                        limit.fetch_min(position, Ordering::SeqCst);
                        for (other, other_cancel) in running {
                            if other.load(Ordering::SeqCst) > limit.load(Ordering::SeqCst) {
                                other_cancel.store(true, Ordering::SeqCst);
                            }
                        }
                    }
                    lock(order).arrive(position, report, limit, on_done);
                }
            });
        }
    });
    let bound = limit.load(Ordering::SeqCst);
    let order = order.into_inner().unwrap_or_else(|p| p.into_inner());
    assert!(
        order.waiting.keys().all(|&position| position > bound),
        "every run up to the first failure was told of"
    );
    order.tally.into_summary(started.elapsed())
}

/// The runs that ended out of seed order, held until every earlier one has ended.
#[derive(Default)]
struct InOrder {
    /// The position of the next run to tell of.
    next: usize,
    waiting: BTreeMap<usize, RunReport>,
    /// What the runs told of so far found.
    tally: Tally,
}

impl InOrder {
    /// Takes in the run at `position`, then tells of and counts every run now next in
    /// order, up to the first failure's position. That is read here, under the lock: a
    /// failure lowers it before its own run arrives, so no run after it is told of.
    fn arrive(
        &mut self,
        position: usize,
        report: RunReport,
        limit: &AtomicUsize,
        on_done: &(dyn Fn(&RunReport) + Sync),
    ) {
        self.waiting.insert(position, report);
        let bound = limit.load(Ordering::SeqCst);
        while self.next <= bound
            && let Some(report) = self.waiting.remove(&self.next)
        {
            on_done(&report);
            self.tally.add(report);
            self.next += 1;
        }
    }
}

/// What the runs told of found.
#[derive(Default)]
struct Tally {
    /// Seeds run, hand-offs, events, operations, steps checked, undecided runs.
    counters: [u64; 6],
    /// The most messages in flight, the most events in a second.
    peaks: [u64; 2],
    failures: Vec<RunReport>,
    over_budget: Vec<RunReport>,
}

impl Tally {
    /// Counts a run that ended, and keeps it if it failed or went over its budget.
    fn add(&mut self, mut report: RunReport) {
        let totals = [
            1,
            report.handoffs,
            report.events,
            report.operations as u64,
            report.steps_checked,
            u64::from(report.undecided_key.is_some()),
        ];
        for (counter, value) in self.counters.iter_mut().zip(totals) {
            *counter += value;
        }
        let highs = [report.peak_in_flight as u64, report.peak_events_per_second];
        for (peak, value) in self.peaks.iter_mut().zip(highs) {
            *peak = (*peak).max(value);
        }
        match &report.failure {
            Some(Failure::OverBudget(_)) => {
                report.schedule = Vec::new();
                self.over_budget.push(report);
            }
            Some(_) => self.failures.push(report),
            None => {}
        }
    }

    fn into_summary(self, wall: Duration) -> Summary {
        let (mut failures, mut over_budget) = (self.failures, self.over_budget);
        failures.sort_by_key(|report| report.setup.seed);
        over_budget.sort_by_key(|report| report.setup.seed);
        let [
            seeds_run,
            handoffs,
            events,
            operations,
            steps_checked,
            undecided,
        ] = self.counters;
        let [peak_in_flight, peak_events_per_second] = self.peaks;
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
