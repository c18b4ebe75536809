//! Checking a whole history: its partitions searched on all cores at once, the first
//! violation stopping the rest, then the violation shrunk.
//!
//! Every partition's search waits in one queue, largest first (most operations, then by
//! key); each thread takes the first, searches it for a turn of a fixed number of steps,
//! and puts it back at the end unless it is answered. So all partitions progress together:
//! the cheap ones are answered in their first turn, and a violation in a small key is found
//! even while a large key's search would take the whole budget. With a step budget the
//! answer does not depend on timing: each search counts its own steps, a violation in the
//! partition at position `k` stops only the partitions after `k`, the ones before it run
//! to their end, and the violation reported is the earliest in the order. With a time
//! budget, the first violation found stops every search at once.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use super::search::{Call, Limit, Searcher, search};
use super::shrink::shrink;
use super::{Budget, Model, Operation, SearchResult};

/// The answer of [`check`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Linearizable,
    Violation(Violation),
    /// No partition has a violation, but the search of `undecided` partitions ran out of
    /// budget; `key` is the first of them (in the order partitions are searched), after
    /// `steps` steps.
    Undecided {
        key: String,
        steps: u64,
        undecided: usize,
    },
}

/// A partition whose operations cannot be ordered, with a small set of them that shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub key: String,
    /// Indices into the history, in increasing order, of the operations that cannot be
    /// ordered.
    pub ops: Vec<usize>,
    /// Whether shrinking finished: no single op of `ops` can be taken out (see
    /// [`super::shrink`]). False when its budget ran out first; `ops` still cannot be
    /// ordered.
    pub minimal: bool,
    /// Indices into the history of every operation of the partition.
    pub partition: Vec<usize>,
}

/// [`check`]'s answer, with how it went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub verdict: Verdict,
    pub partitions: usize,
    /// Wall-clock time of the search, and of shrinking the violation.
    pub search_time: Duration,
    pub shrink_time: Duration,
}

/// Checks a whole history (see the module docs).
pub fn check<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    budget: Budget,
) -> Report {
    let start = Instant::now();
    let parts = partitions(model, history);
    let results = search_all(model, history, &parts, budget, start);
    let search_time = start.elapsed();
    let failing = results
        .iter()
        .position(|r| matches!(r, Some((SearchResult::NotLinearizable, _))));
    let verdict = match failing {
        Some(position) => {
            let (key, indices) = &parts[position];
            let calls = Call::of(model, history, indices);
            let (max_steps, deadline) = shrink_budget(budget, search_time);
            let (ops, minimal) = shrink(model, calls, max_steps, deadline);
            let partition = indices.clone();
            let key = key.to_string();
            Verdict::Violation(Violation {
                key,
                ops,
                minimal,
                partition,
            })
        }
        None => undecided(&parts, &results),
    };
    Report {
        verdict,
        partitions: parts.len(),
        search_time,
        shrink_time: start.elapsed() - search_time,
    }
}

/// The longest sequence of `partition`'s operations (indices into the history) that the
/// search can linearize, found within `limit`: where a failing history gets stuck.
pub fn longest_order<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    partition: &[usize],
    limit: &Limit,
) -> Vec<usize> {
    let calls = Call::of(model, history, partition);
    let searched = search(model, &calls, limit, true);
    searched.longest.iter().map(|&n| calls[n].index).collect()
}

/// The history's partitions with their operations' indices, most operations first.
fn partitions<'h, M: Model>(
    model: &M,
    history: &'h [Operation<M::Input, M::Output>],
) -> Vec<(&'h str, Vec<usize>)> {
    let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (index, operation) in history.iter().enumerate() {
        let key = model.partition(&operation.input);
        by_key.entry(key).or_default().push(index);
    }
    let mut parts: Vec<_> = by_key.into_iter().collect();
    // Stable: equal sizes stay in key order.
    parts.sort_by_key(|(_, indices)| std::cmp::Reverse(indices.len()));
    parts
}

/// The smallest history searched on more than one thread.
const PARALLEL_FROM_OPS: usize = 256;

type Results = Vec<Option<(SearchResult, u64)>>;

/// Searches the partitions on all cores, taking turns; `None` for one never answered.
fn search_all<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    parts: &[(&str, Vec<usize>)],
    budget: Budget,
    start: Instant,
) -> Results {
    let (max_steps, deadline) = match budget {
        Budget::Steps(steps) => (steps, None),
        Budget::Time(timeout) => (u64::MAX, Some(start + timeout)),
    };
    let calls: Vec<Vec<Call<M>>> = parts
        .iter()
        .map(|(_, indices)| Call::of(model, history, indices))
        .collect();
    let waiting = calls
        .iter()
        .enumerate()
        .map(|(position, calls)| (position, Searcher::new(model, calls, false)))
        .collect();
    let turns = Turns {
        waiting: Mutex::new(waiting),
        results: Mutex::new(vec![None; parts.len()]),
        first_failure: AtomicUsize::new(usize::MAX),
        stop: AtomicBool::new(false),
        max_steps,
        deadline,
    };
    // Threads pay only on a history big enough: starting one costs more than searching a
    // small history, and a busy machine may start it late.
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    let helpers = if history.len() >= PARALLEL_FROM_OPS {
        cores.min(parts.len()).saturating_sub(1)
    } else {
        0
    };
    thread::scope(|scope| {
        for _ in 0..helpers {
            scope.spawn(|| turns.work());
        }
        turns.work();
    });
    turns
        .results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
}

/// The searches of a check, taking turns of [`TURN_STEPS`] steps on every thread, so that
/// all partitions make progress at once: a small partition is answered early, and a
/// violation anywhere is found without waiting for a long search elsewhere to end.
struct Turns<'a, 'm, M: Model> {
    /// The searches waiting for a turn, with their positions in the partition order.
    waiting: Mutex<VecDeque<(usize, Searcher<'a, 'm, M>)>>,
    results: Mutex<Results>,
    /// The position of the first partition found not linearizable.
    first_failure: AtomicUsize,
    /// Set by a violation under a time budget: every search stops.
    stop: AtomicBool,
    max_steps: u64,
    deadline: Option<Instant>,
}

/// The steps of one turn: long enough that taking turns costs nothing, short enough (a
/// millisecond or so) that the clock and a violation elsewhere are seen soon.
const TURN_STEPS: u64 = 16 * 1024;

impl<M: Model> Turns<'_, '_, M> {
    fn work(&self) {
        loop {
            let Some((position, mut searcher)) = lock(&self.waiting).pop_front() else {
                return;
            };
            match self.turn(position, &mut searcher) {
                Some(result) => {
                    let steps = searcher.steps();
                    if result == SearchResult::NotLinearizable {
                        self.first_failure.fetch_min(position, Ordering::Relaxed);
                        self.stop.store(self.deadline.is_some(), Ordering::Relaxed);
                    }
                    lock(&self.results)[position] = Some((result, steps));
                }
                None => lock(&self.waiting).push_back((position, searcher)),
            }
        }
    }

    /// One turn of a search: its answer, or `None` if it is to go on later. With a step
    /// budget, partitions before the first failure run to their end whatever the timing;
    /// with a time budget, a failure stops all.
    fn turn(&self, position: usize, searcher: &mut Searcher<M>) -> Option<SearchResult> {
        let after_failure = self.first_failure.load(Ordering::Relaxed) < position;
        if after_failure || self.stop.load(Ordering::Relaxed) {
            return Some(SearchResult::Stopped);
        }
        let limit = Limit {
            max_steps: self.max_steps,
            deadline: self.deadline,
            stop: None,
        };
        if let Some(result) = limit.reached(searcher.steps()) {
            return Some(result);
        }
        searcher.run((searcher.steps() + TURN_STEPS).min(self.max_steps))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The verdict when no partition failed.
fn undecided(parts: &[(&str, Vec<usize>)], results: &Results) -> Verdict {
    let out = |r: &Option<(SearchResult, u64)>| {
        matches!(
            r,
            Some((SearchResult::OutOfBudget | SearchResult::Stopped, _)) | None
        )
    };
    let undecided = results.iter().filter(|r| out(r)).count();
    match results.iter().position(out) {
        None => Verdict::Linearizable,
        Some(position) => Verdict::Undecided {
            key: parts[position].0.to_string(),
            steps: results[position].map_or(0, |(_, steps)| steps),
            undecided,
        },
    }
}

/// Shrinking's steps and deadline: as many steps as the search had; or a quarter as long as
/// search took, at least [`SHRINK_FLOOR`] and at most a tenth of the timeout. Shrinking is a
/// courtesy: it should not cost much more than the answer, so a verdict with its
/// counterexample comes in about one and a quarter times the search's time.
fn shrink_budget(budget: Budget, search_time: Duration) -> (u64, Option<Instant>) {
    match budget {
        Budget::Steps(steps) => (steps, None),
        Budget::Time(timeout) => {
            let time = (search_time / 4).max(SHRINK_FLOOR).min(timeout / 10);
            (u64::MAX, Some(Instant::now() + time))
        }
    }
}

/// The least time shrinking gets under a time budget: a small violation is shrunk in full
/// well within it.
const SHRINK_FLOOR: Duration = Duration::from_micros(250);
