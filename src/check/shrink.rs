//! Shrinking a failing run: drop actions while the run still fails the same way, within
//! a budget of replays and wall time (no replay outlasts what is left of it). A liveness
//! failure is replayed whole, not shrunk (see [`shrink`]).

use std::time::{Duration, Instant};

use super::run::replay;
use super::{Failure, RunReport};

/// How much shrinking may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShrinkBudget {
    /// The most replays.
    pub replays: u32,
    /// The most wall time.
    pub wall: Duration,
}

impl Default for ShrinkBudget {
    fn default() -> Self {
        ShrinkBudget {
            replays: 400,
            wall: Duration::from_secs(120),
        }
    }
}

/// What shrinking found.
#[derive(Clone, Debug, PartialEq)]
pub struct Shrunk {
    /// The smallest failing run found: a replay, so its schedule holds only actions that
    /// applied, up to where it failed.
    pub report: RunReport,
    /// Whether the replay of the whole schedule failed the same way (it must: the
    /// scheduler is deterministic). When not, `report` is the original run.
    pub reproduced: bool,
    pub replays: u32,
    pub original_actions: usize,
}

/// Shrinks the failing run `original`: first a replay of its whole schedule, then
/// passes that drop chunks of actions (halves, quarters, ... single actions, the last size
/// repeated while it still drops something), keeping each drop after which the replay
/// fails the same way ([`super::Failure::same_as`]). `progress` hears of every replay, with the
/// number of actions left.
pub fn shrink(
    original: &RunReport,
    budget: ShrinkBudget,
    progress: &mut dyn FnMut(u32, usize),
) -> Shrunk {
    let started = Instant::now();
    let original_actions = original.schedule.len();
    let Some(target) = original.failure.clone() else {
        return not_reproduced(original, 0);
    };
    let fails = |report: &RunReport| report.failure.as_ref().is_some_and(|f| f.same_as(&target));
    let mut best = replay(&original.setup, &original.schedule);
    let mut replays = 1;
    progress(replays, best.schedule.len());
    if !fails(&best) {
        return not_reproduced(original, replays);
    }
    // A cluster that does not settle is not shrunk: dropping actions drops restarts and
    // heals too, and a run left partitioned for good fails the same way for no reason
    // worth showing.
    if matches!(target, Failure::Liveness(_)) {
        return done(best, replays, original_actions);
    }
    let mut chunk = best.schedule.len().div_ceil(2).max(1);
    loop {
        let mut start = 0;
        let mut dropped = false;
        while start < best.schedule.len() {
            if replays >= budget.replays || started.elapsed() >= budget.wall {
                return done(best, replays, original_actions);
            }
            let candidate = without(&best.schedule, start, chunk);
            // No replay outlasts the shrinking's budget: one that would is over budget,
            // which is not the failure sought, and the loop ends at the next look.
            let mut setup = original.setup.clone();
            let left = budget.wall.saturating_sub(started.elapsed());
            setup.seed_budget.wall = setup.seed_budget.wall.min(left);
            let attempt = replay(&setup, &candidate);
            replays += 1;
            if fails(&attempt) {
                best = attempt;
                best.setup.seed_budget = original.setup.seed_budget;
                dropped = true;
            } else {
                start += chunk;
            }
            progress(replays, best.schedule.len());
        }
        if chunk == 1 && !dropped {
            return done(best, replays, original_actions);
        }
        chunk = (chunk / 2).max(1);
    }
}

fn without<T: Clone>(items: &[T], start: usize, count: usize) -> Vec<T> {
    let end = (start + count).min(items.len());
    items[..start]
        .iter()
        .chain(&items[end..])
        .cloned()
        .collect()
}

fn done(report: RunReport, replays: u32, original_actions: usize) -> Shrunk {
    Shrunk {
        report,
        reproduced: true,
        replays,
        original_actions,
    }
}

fn not_reproduced(original: &RunReport, replays: u32) -> Shrunk {
    Shrunk {
        report: original.clone(),
        reproduced: false,
        replays,
        original_actions: original.schedule.len(),
    }
}
