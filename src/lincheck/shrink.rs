//! Shrinking a failing partition to a small set of operations that cannot be ordered.
//!
//! First the prefix up to where the search gets stuck: the search is run once more,
//! keeping the longest order it linearized, and the history is cut at the earliest answer
//! of the ops that order leaves out (as in step 1), if that prefix still fails. At the cost
//! of about two searches, a long history with an early violation becomes a short one. Then
//! three steps, each checked by the same search, all within one budget of their own:
//!
//! 0. The latest failing *cut* (step 2) on the whole history first: a violation late in
//!    a long history is then found from short, cheap candidates.
//! 1. The shortest failing *prefix*, by bisection over response times: the ops answered
//!    after the cut count as unanswered, the ops invoked after it are left out. Every
//!    prefix of a linearizable history is linearizable, so a failing prefix is a real
//!    violation.
//! 2. The latest failing *cut* from the left, by bisection: the ops answered before the cut
//!    are dropped, except changes that a later op may have seen ([`Model::may_be_seen`]),
//!    and, to a fixpoint, the changes those kept changes may have seen. Dropping a write
//!    that a read saw would turn a stale read into a read of a value never written and
//!    hide the write; keeping it lets the next step judge it. This step is a cautious
//!    guess, the one step that is not a relaxation.
//! 3. Ops are *relaxed* one at a time while the history still fails: an effect-free op (a
//!    read, a failed cas) is dropped, and a change that answered becomes an op with an
//!    unknown outcome, which may take effect at any time after its invoke, or never. Every
//!    relaxation only allows more orders, so the result still shows a real violation; and
//!    since an op with an unknown outcome can always go last, the ops that remain answered
//!    cannot be ordered on their own either: they are the set reported. It is *1-minimal*
//!    under these rules: relaxing any one of them makes the history linearizable (unless
//!    the budget ran out first, which the violation says).
//!
//! Under a time budget, judging one relaxation may take at most [`CANDIDATE_STEPS`] steps;
//! one that needs more is left undone, and the set is then not claimed minimal.
//!
//! Relaxing writes, not dropping them, is what keeps the explanation honest: a stale read
//! is shown with the write it saw and a later write that it missed, and two `cas` that
//! both succeeded from one value are shown as the two `cas`.

use std::collections::HashSet;
use std::time::Instant;

use super::search::{Call, Limit, search};
use super::{Model, SearchResult};

/// Shrinks failing `calls` with at most `max_steps` search steps in all and, if given,
/// until `deadline`. Returns the history indices kept, and whether shrinking finished.
pub fn shrink<M: Model>(
    model: &M,
    calls: Vec<Call<M>>,
    max_steps: u64,
    deadline: Option<Instant>,
) -> (Vec<usize>, bool) {
    let mut shrinker = Shrinker {
        model,
        steps_left: max_steps,
        deadline,
        out_of_budget: false,
        gave_up: false,
        grace: if deadline.is_some() { GRACE_STEPS } else { 0 },
    };
    // A cut from the left first: its candidates near the end are short and cheap, and a
    // violation late in a long history is then found without searching long prefixes.
    let calls = shrinker.stuck_prefix(calls);
    let cut = shrinker.latest_failing_cut(calls);
    let prefix = shrinker.shortest_failing_prefix(cut);
    let mut kept = shrinker.latest_failing_cut(prefix);
    let minimal = shrinker.relax_one_at_a_time(&mut kept) && !shrinker.gave_up;
    // The changes made unknown need not be shown: if the rest cannot be ordered even with
    // their help, it cannot be ordered without them.
    let constrained = kept.iter().filter(|call| call.returned.is_some());
    let mut indices: Vec<usize> = constrained.map(|call| call.index).collect();
    indices.sort_unstable();
    (indices, minimal)
}

/// The most steps one relaxation may take to judge under a time budget.
const CANDIDATE_STEPS: u64 = 100_000;

/// Under a time budget, the first steps of shrinking do not look at the clock: a few
/// microseconds' work, which shrinks a small violation in full whatever the machine's load,
/// so that its set is reported minimal on any machine.
const GRACE_STEPS: u64 = 4_000;

struct Shrinker<'m, M> {
    model: &'m M,
    steps_left: u64,
    deadline: Option<Instant>,
    out_of_budget: bool,
    /// Whether a relaxation was left undone for taking more than [`CANDIDATE_STEPS`].
    gave_up: bool,
    /// Steps left that may be taken whatever the clock says ([`GRACE_STEPS`]).
    grace: u64,
}

impl<M: Model> Shrinker<'_, M> {
    /// Whether `calls` is shown not linearizable within the budget left.
    fn fails(&mut self, calls: &[Call<M>]) -> bool {
        self.fails_within(calls, u64::MAX)
    }

    /// Whether `calls` is shown not linearizable in at most `cap` steps; a search cut
    /// short by the cap (not by the budget) gives up on this candidate only.
    fn fails_within(&mut self, calls: &[Call<M>], cap: u64) -> bool {
        if let Some(fails) = self.fails_in_grace(calls, cap) {
            return fails;
        }
        let max_steps = self.steps_left.min(cap);
        let limit = Limit {
            max_steps,
            deadline: self.deadline,
            stop: None,
        };
        let searched = search(self.model, calls, &limit, false);
        self.steps_left = self.steps_left.saturating_sub(searched.steps);
        if searched.result == SearchResult::OutOfBudget {
            let capped = cap < self.steps_left && searched.steps >= cap;
            let late = self.deadline.is_some_and(|at| Instant::now() >= at);
            if capped && !late {
                self.gave_up = true;
            } else {
                self.out_of_budget = true;
            }
        }
        searched.result == SearchResult::NotLinearizable
    }

    /// Whether `calls` fails, if the steps of grace left tell (the clock is not read).
    fn fails_in_grace(&mut self, calls: &[Call<M>], cap: u64) -> Option<bool> {
        if self.grace == 0 {
            return None;
        }
        let limit = Limit {
            max_steps: self.grace.min(cap).min(self.steps_left),
            deadline: None,
            stop: None,
        };
        let searched = search(self.model, calls, &limit, false);
        self.grace = self.grace.saturating_sub(searched.steps);
        self.steps_left = self.steps_left.saturating_sub(searched.steps);
        // Out of grace: searched again under the clock, from the start.
        (searched.result != SearchResult::OutOfBudget)
            .then_some(searched.result == SearchResult::NotLinearizable)
    }

    /// Failing `calls` up to where the search gets stuck: cut at the earliest answer of the
    /// calls left out of the longest order it linearized, if that prefix still fails.
    /// One search with a short history after it; usually most of a long history goes.
    fn stuck_prefix<'a>(&mut self, calls: Vec<Call<'a, M>>) -> Vec<Call<'a, M>> {
        let limit = Limit {
            max_steps: self.steps_left,
            deadline: self.deadline,
            stop: None,
        };
        let searched = search(self.model, &calls, &limit, true);
        self.steps_left = self.steps_left.saturating_sub(searched.steps);
        // Out of time: the steps of grace may still shrink a small history.
        if searched.result != SearchResult::NotLinearizable {
            return calls;
        }
        let ordered: HashSet<usize> = searched.longest.into_iter().collect();
        let stuck = (0..calls.len())
            .filter(|n| !ordered.contains(n))
            .filter_map(|n| calls[n].returned.map(|r| r.1))
            .min();
        let Some(cut) = stuck else {
            return calls;
        };
        let candidate = prefix(self.model, &calls, cut);
        if candidate.len() < calls.len() && self.fails(&candidate) {
            candidate
        } else {
            calls
        }
    }

    /// The shortest failing prefix of failing `calls`, cut at a response time. Prefixes fail
    /// from some cut on (a prefix of a linearizable history is linearizable), so bisect.
    fn shortest_failing_prefix<'a>(&mut self, calls: Vec<Call<'a, M>>) -> Vec<Call<'a, M>> {
        let cuts = response_times(&calls);
        // Invariant: the prefix at cuts[high] fails (the last one is the whole history, as
        // ops invoked after every response have none and can go last); those below `low`
        // were not shown to fail.
        let (mut low, Some(mut high)) = (0, cuts.len().checked_sub(1)) else {
            return calls;
        };
        // Short prefixes first (at 0, 1, 3, 7, ...): they are cheap to search, and a
        // failing search costs more the longer the history, so no search is much longer
        // than the shortest failing prefix.
        let mut probe = 0;
        while probe < high && !self.out_of_budget {
            if self.fails(&prefix(self.model, &calls, cuts[probe])) {
                high = probe;
                break;
            }
            low = probe + 1;
            probe = 2 * probe + 1;
        }
        while low < high && !self.out_of_budget {
            let middle = low + (high - low) / 2;
            if self.fails(&prefix(self.model, &calls, cuts[middle])) {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        prefix(self.model, &calls, cuts[high])
    }

    /// Failing `calls` cut at the latest response time that keeps them failing (see
    /// [`cut_before`]), found by bisection. Dropping ops, unlike relaxing them, keeps the
    /// search cheap, so this goes first on a long history.
    fn latest_failing_cut<'a>(&mut self, calls: Vec<Call<'a, M>>) -> Vec<Call<'a, M>> {
        let cuts = response_times(&calls);
        // Invariant: the cut at cuts[low] fails (or low is 0: no cut); none at or after
        // cuts[high] was shown to fail.
        let (mut low, mut high) = (0, cuts.len());
        let mut best = None;
        // Late cuts first (1, 2, 4, ... from the end): they leave short histories, cheap
        // to search.
        let mut back = 1;
        while back < high && !self.out_of_budget {
            let probe = high - back;
            let candidate = cut_before(self.model, &calls, cuts[probe]);
            if self.fails(&candidate) {
                low = probe;
                best = Some(candidate);
                break;
            }
            high = probe;
            back *= 2;
        }
        while low + 1 < high && !self.out_of_budget {
            let middle = low + (high - low) / 2;
            let candidate = cut_before(self.model, &calls, cuts[middle]);
            if self.fails(&candidate) {
                low = middle;
                best = Some(candidate);
            } else {
                high = middle;
            }
        }
        best.unwrap_or(calls)
    }

    /// Relaxes calls of failing `kept` while it still fails, until no single one can be
    /// relaxed. Returns false if the budget ran out first. Each pass but the last relaxes
    /// a call, and a call is relaxed at most once, so there are at most `kept.len() + 1`.
    fn relax_one_at_a_time(&mut self, kept: &mut Vec<Call<M>>) -> bool {
        // Dropping reads first is cheap and leaves fewer changes to relax, and a change
        // made unknown makes every later search larger.
        self.drop_reads_in_chunks(kept);
        loop {
            let mut changed = false;
            let mut i = 0;
            while i < kept.len() {
                if self.out_of_budget {
                    return false;
                }
                let (changed_here, next) = self.relax_at(kept, i);
                changed |= changed_here;
                i = next;
            }
            if !changed {
                return !self.out_of_budget;
            }
        }
    }

    /// Drops effect-free calls of failing `kept` while it still fails, many at a time
    /// first (halves, quarters, ... as in delta debugging): most reads of a long history
    /// are beside the point, and one search may then drop many.
    fn drop_reads_in_chunks(&mut self, kept: &mut Vec<Call<M>>) {
        let model = self.model;
        let mut reads: Vec<usize> = kept
            .iter()
            .filter(|c| c.is_effect_free(model))
            .map(|c| c.index)
            .collect();
        let mut chunk = reads.len().div_ceil(2);
        while chunk > 0 && !self.out_of_budget {
            let mut start = 0;
            while start < reads.len() && !self.out_of_budget {
                let end = (start + chunk).min(reads.len());
                let gone: HashSet<usize> = reads[start..end].iter().copied().collect();
                let candidate: Vec<Call<M>> = kept
                    .iter()
                    .filter(|c| !gone.contains(&c.index))
                    .copied()
                    .collect();
                if self.fails(&candidate) {
                    *kept = candidate;
                    reads.drain(start..end);
                } else {
                    start = end;
                }
            }
            chunk /= 2;
        }
    }

    /// Relaxes call `i` of `kept` if the history still fails without it; returns whether
    /// it did, and the next position to try.
    fn relax_at(&mut self, kept: &mut Vec<Call<M>>, i: usize) -> (bool, usize) {
        // Under a time budget one candidate may not take the rest of it: a relaxation
        // that is slow to judge is left undone (and the set not claimed minimal).
        let cap = if self.deadline.is_some() {
            CANDIDATE_STEPS
        } else {
            u64::MAX
        };
        match relaxed(self.model, kept, i) {
            Some(candidate) if self.fails_within(&candidate, cap) => {
                let before = kept.len();
                *kept = candidate;
                // A drop moves the next call to `i`; so may dropping late unknown calls.
                let next = if kept.len() < before { i } else { i + 1 };
                (true, next)
            }
            _ => (false, i + 1),
        }
    }
}

fn response_times<M: Model>(calls: &[Call<M>]) -> Vec<u64> {
    let mut cuts: Vec<u64> = calls
        .iter()
        .filter_map(|c| c.returned)
        .map(|r| r.1)
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

/// `kept` with its `i`th call relaxed: a call that changes nothing is dropped, a change
/// that answered gets an unknown outcome; `None` for one whose outcome is already unknown.
fn relaxed<'a, M: Model>(model: &M, kept: &[Call<'a, M>], i: usize) -> Option<Vec<Call<'a, M>>> {
    let call = kept.get(i)?;
    let mut candidate = kept.to_vec();
    if call.is_effect_free(model) {
        candidate.remove(i);
    } else {
        call.returned?;
        candidate[i].returned = None;
        // An unknown call invoked after every answer can go last, which is the same as
        // never: leaving it out changes nothing and keeps the searches small.
        let last = candidate
            .iter()
            .filter_map(|c| c.returned)
            .map(|r| r.1)
            .max();
        let matters = |c: &Call<M>| c.returned.is_some() || last.is_some_and(|at| c.invoke < at);
        candidate.retain(matters);
    }
    Some(candidate)
}

/// `calls` without the ones answered before `cut`, except changes whose effect a later
/// call, or a change kept for that reason, may have seen ([`Model::may_be_seen`]): a `cas`
/// kept because a late read saw what it wrote keeps the write it found in turn.
fn cut_before<'a, M: Model>(model: &M, calls: &[Call<'a, M>], cut: u64) -> Vec<Call<'a, M>> {
    let is_late = |call: &Call<M>| match call.returned {
        Some((_, response)) => response >= cut,
        None => call.invoke >= cut,
    };
    let view = |call: &Call<'a, M>| (call.input, call.output());
    let mut observers: Vec<_> = calls.iter().filter(|c| is_late(c)).map(view).collect();
    let early: Vec<&Call<M>> = calls
        .iter()
        .filter(|c| !is_late(c) && !c.is_effect_free(model))
        .collect();
    let early_views: Vec<_> = early.iter().map(|c| view(c)).collect();
    // Each round keeps at least one more change, or ends.
    let mut kept = vec![false; early.len()];
    loop {
        let seen = model.may_be_seen(&early_views, &observers);
        let mut grew = false;
        for (i, seen) in seen.into_iter().enumerate() {
            if seen && !kept[i] {
                kept[i] = true;
                observers.push(early_views[i]);
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    let kept_early: HashSet<usize> = early
        .iter()
        .zip(kept)
        .filter(|(_, kept)| *kept)
        .map(|(call, _)| call.index)
        .collect();
    let keep = |call: &Call<M>| is_late(call) || kept_early.contains(&call.index);
    calls.iter().filter(|call| keep(call)).copied().collect()
}

/// The calls as a client would have seen them at `cut`: those invoked later are left
/// out, and those answered later have no answer yet.
fn prefix<'a, M: Model>(model: &M, calls: &[Call<'a, M>], cut: u64) -> Vec<Call<'a, M>> {
    let cut_call = |call: &Call<'a, M>| {
        let mut call = *call;
        if call.returned.is_some_and(|(_, response)| response > cut) {
            call.returned = None;
        }
        call
    };
    calls
        .iter()
        .filter(|call| call.invoke <= cut)
        .map(cut_call)
        .filter(|call| !call.is_irrelevant(model))
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::cluster::kv::{KvOp, KvOutput};
    use crate::lincheck::check::Verdict;
    use crate::lincheck::kv::{KvModel, KvReply};
    use crate::lincheck::{Budget, Operation, Outcome, check};

    type KvOperation = Operation<KvOp, KvReply>;

    fn op(client: u64, input: KvOp, output: KvOutput, invoke: u64) -> KvOperation {
        let outcome = Outcome::Returned {
            output: KvReply::Output(output),
            response: invoke + 1,
        };
        Operation {
            client,
            input,
            invoke,
            outcome,
        }
    }

    fn put(client: u64, value: u64, at: u64) -> KvOperation {
        let (key, value) = ("x".to_string(), value.to_string());
        op(client, KvOp::Put { key, value }, KvOutput::Ok, at)
    }

    fn get(client: u64, value: u64, at: u64) -> KvOperation {
        let output = KvOutput::Value(Some(value.to_string()));
        op(client, KvOp::Get { key: "x".into() }, output, at)
    }

    /// Twenty writes, each read back by another client, then a read of the third write:
    /// the violation is the third write, the write after it and the stale read.
    fn stale_read_at_the_end() -> Vec<KvOperation> {
        let mut history = Vec::new();
        for value in 0..20 {
            history.push(put(value % 3, value, 4 * value));
            history.push(get(3, value, 4 * value + 2));
        }
        history.push(get(4, 2, 100));
        history
    }

    /// With the default time budget, a small violation is still shrunk in full (the first
    /// steps of shrinking do not look at the clock), and the set reported really cannot be
    /// ordered: checked again on its own.
    #[test]
    fn a_small_violation_is_shrunk_to_a_few_operations_that_really_fail() {
        let history = stale_read_at_the_end();
        let model = KvModel::default();
        let report = check(&model, &history, Budget::default());
        let Verdict::Violation(violation) = report.verdict else {
            panic!("not a violation: {:?}", report.verdict);
        };
        assert!(violation.minimal, "{violation:?}");
        assert!(violation.ops.len() <= 4, "{violation:?}");
        assert!(violation.ops.contains(&40), "the stale read: {violation:?}");
        let alone: Vec<KvOperation> = violation.ops.iter().map(|&i| history[i].clone()).collect();
        let again = check(&model, &alone, Budget::Steps(10_000)).verdict;
        assert!(matches!(again, Verdict::Violation(_)), "{again:?}");
    }
}
