//! The linearizability checker for client histories of the key-value store.
//!
//! A history is what the clients saw: each operation with the time it was invoked, and
//! either its output and the time the answer came back, or nothing (the client gave up).
//! The history is *linearizable* if every operation can be given a single instant between
//! its invoke and its response such that applying the operations one by one, in the order
//! of those instants, to an empty [`KvMap`] yields exactly the outputs the clients saw.
//!
//! # The search
//!
//! The checker is Wing and Gong's search with Lowe's improvements, the algorithm Porcupine
//! uses. The history becomes a doubly linked list of call and return entries in time order
//! (a call before a return at the same instant: operations that touch only at an instant
//! are concurrent). Walking the list from the front, the search tries each call it meets
//! before the first return: if the model gives the output the client saw, the operation
//! is *linearized* next: its call and return are lifted out of the list, the model state
//! advances, and the walk starts again from the front. Meeting a return means the operation
//! it closes should have been linearized by now, so the search backtracks: it undoes the
//! last choice, puts its entries back, and tries the next call after it. The history is
//! linearizable when every operation with a response is linearized, and it is not when
//! the search must backtrack past the first choice.
//!
//! Lowe's improvement is a cache of the configurations already explored: the set of
//! linearized operations (a bitset) with the model state. The rest of the search depends
//! only on that pair, so a pair seen before is not explored again; this turns the usual
//! histories, where few operations overlap, from exponential into nearly linear work.
//!
//! # Partitioning by key
//!
//! Every operation touches one key, and operations on different keys commute, so a history
//! is linearizable exactly when each key's sub-history is (linearizability is *local*,
//! Herlihy and Wing's theorem 1). The checker therefore searches each key alone, with
//! `Option<String>` (the key's value) as the model state; the rules of each operation are
//! those of [`KvMap::apply`], the same the nodes' state machines use.
//!
//! # Unknown outcomes
//!
//! A client that times out does not know whether its operation took effect: it may have
//! taken effect at any instant after its invoke, or never, and its output is unknown. Such
//! an operation is read as one whose response comes at infinity with any output. It never
//! blocks the search, since it can always be linearized after everything else, which is the
//! same as never happening; the search is done when all operations *with* a response are
//! linearized. A read with an unknown outcome constrains nothing and is left out. Each such
//! operation stays pending for the rest of the key's history, so many of them on one key
//! make the search grow quickly: the [`SearchBudget`] keeps it bounded.
//!
//! # Explaining a violation
//!
//! A failing key's history is shrunk to a small set of operations that cannot be ordered,
//! in three steps, each checked by the same search with a bounded share of the budget.
//!
//! 1. The shortest failing *prefix*, by bisection over response times: the ops answered
//!    after the cut count as unanswered, the ops invoked after it are left out. Every
//!    prefix of a linearizable history is linearizable, so a failing prefix is a real
//!    violation.
//! 2. The latest failing *cut* from the left, by bisection: the ops answered before the cut
//!    are dropped, except writes whose value a later op may have seen (a cautious textual
//!    test). Dropping a write that a read saw would turn a stale read into a read of a value
//!    never written and hide the write; keeping it lets the next step judge it.
//! 3. Ops are *relaxed* one at a time while the history still fails: a read (or a cas seen
//!    to fail) is dropped, and a write that answered becomes an op with an unknown outcome,
//!    which may take effect at any time after its invoke, or never. Every relaxation only
//!    allows more orders, so the result still shows a real violation; and since an op with
//!    an unknown outcome can always go last, the ops that remain answered cannot be ordered
//!    on their own either: they are the set reported. It is *1-minimal* under these rules:
//!    relaxing any one of them makes the history linearizable (unless the budget ran out
//!    first, which the violation says).
//!
//! Relaxing writes, not dropping them, is what keeps the explanation honest: a stale read
//! is shown with the write it saw and a later write that it missed, and two `cas` that
//! both succeeded from one value are shown as the two `cas`.
//!
//! Deliberately left out: models other than the key-value map, and a visual explanation
//! of partial linearizations like Porcupine's. Every loop is bounded by the budget.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use super::kv::{ClientId, KvMap, KvOp, KvOutput};

/// One client operation as the client saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    pub client: ClientId,
    pub op: KvOp,
    /// When the client sent the operation, in microseconds of cluster time.
    pub invoke_us: u64,
    pub outcome: Outcome,
}

/// How an operation ended, for the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The client got `output` at `response_us`. A response before the invoke (bad input)
    /// is read as a response at the invoke.
    Returned { output: KvOutput, response_us: u64 },
    /// The client gave up: the operation may have taken effect at any time after its
    /// invoke, or never, and its output is unknown.
    Unknown,
}

/// How much work a check may do, counted in search steps (deterministic, unlike time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SearchBudget {
    /// The most steps spent on one key's history; shrinking a violation may spend as many
    /// again, in total.
    pub steps: u64,
}

impl Default for SearchBudget {
    fn default() -> Self {
        SearchBudget { steps: 1_000_000 }
    }
}

/// The answer of [`check`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Linearizable,
    Violation(Violation),
    /// The search of `key`'s history ran out of budget after `steps` steps, and no other
    /// key has a violation.
    Unknown {
        key: String,
        steps: u64,
    },
}

/// A key whose operations cannot be ordered, with a small set of them that shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub key: String,
    /// Indices into the checked history, in increasing order, with the operations.
    pub ops: Vec<(usize, Operation)>,
    /// Whether shrinking finished: no single op of `ops` can be taken out (see the module
    /// docs). False when the budget ran out first; `ops` still cannot be ordered.
    pub minimal: bool,
}

/// The result of searching one key's history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchResult {
    Linearizable,
    NotLinearizable,
    /// The budget ran out before the search could tell.
    OutOfSteps,
}

/// [`check_key`]'s answer: the result and the steps spent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyCheck {
    pub result: SearchResult,
    pub steps: u64,
}

/// Checks a whole history, key by key (in key order), and explains the first key that
/// fails. A violation wins over a key whose search ran out of budget.
pub fn check(history: &[Operation], budget: SearchBudget) -> Verdict {
    let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (index, operation) in history.iter().enumerate() {
        by_key.entry(operation.op.key()).or_default().push(index);
    }
    let mut out_of_steps = None;
    for (key, indices) in by_key {
        let calls = calls_of(history, &indices);
        let (result, steps) = search(&calls, budget.steps);
        match result {
            SearchResult::Linearizable => {}
            SearchResult::OutOfSteps => {
                out_of_steps.get_or_insert((key, steps));
            }
            SearchResult::NotLinearizable => {
                let (kept, minimal) = shrink(calls, budget.steps);
                let ops = kept.into_iter().map(|i| (i, history[i].clone())).collect();
                let key = key.to_string();
                return Verdict::Violation(Violation { key, ops, minimal });
            }
        }
    }
    match out_of_steps {
        Some((key, steps)) => Verdict::Unknown {
            key: key.to_string(),
            steps,
        },
        None => Verdict::Linearizable,
    }
}

/// Checks the sub-history of `history` on `key` alone.
pub fn check_key(history: &[Operation], key: &str, budget: SearchBudget) -> KeyCheck {
    let indices: Vec<usize> = (0..history.len())
        .filter(|&i| history[i].op.key() == key)
        .collect();
    let (result, steps) = search(&calls_of(history, &indices), budget.steps);
    KeyCheck { result, steps }
}

/// An operation as the search sees it: `index` into the history, and the response (time
/// and output) if the output is constrained.
#[derive(Clone, Copy, Debug)]
struct Call<'a> {
    index: usize,
    op: &'a KvOp,
    invoke_us: u64,
    returned: Option<(&'a KvOutput, u64)>,
}

impl Call<'_> {
    /// Whether the operation's output constrains nothing and it changes nothing either.
    fn is_irrelevant(&self) -> bool {
        self.returned.is_none() && self.op.is_read()
    }

    /// Whether it cannot change the key: a read, or a `cas` seen to fail.
    fn is_effect_free(&self) -> bool {
        let failed_cas = matches!(self.returned, Some((KvOutput::CasFailed { .. }, _)));
        self.op.is_read() || failed_cas
    }
}

fn calls_of<'a>(history: &'a [Operation], indices: &[usize]) -> Vec<Call<'a>> {
    let to_call = |index: usize| {
        let operation = history.get(index)?;
        let returned = match &operation.outcome {
            Outcome::Returned {
                output,
                response_us,
            } => Some((output, (*response_us).max(operation.invoke_us))),
            Outcome::Unknown => None,
        };
        let call = Call {
            index,
            op: &operation.op,
            invoke_us: operation.invoke_us,
            returned,
        };
        (!call.is_irrelevant()).then_some(call)
    };
    indices.iter().filter_map(|&i| to_call(i)).collect()
}

/// The key's value after `op`, and `op`'s output, by the rules of [`KvMap::apply`].
fn apply(value: &Option<String>, op: &KvOp) -> (Option<String>, KvOutput) {
    let key = op.key();
    let mut map = KvMap::default();
    if let Some(value) = value {
        map.apply(&KvOp::Put {
            key: key.to_string(),
            value: value.clone(),
        });
    }
    let output = map.apply(op);
    (map.get(key).map(str::to_string), output)
}

/// The call and return entries of one key's operations in time order, as a doubly linked
/// list from which an operation's entries can be lifted and put back (dancing links).
/// Slot 0 is the head sentinel and the last slot the tail sentinel.
struct EntryList {
    /// For each slot, the call it belongs to (`usize::MAX` for the sentinels).
    call_of: Vec<usize>,
    is_return: Vec<bool>,
    next: Vec<usize>,
    prev: Vec<usize>,
    /// For each call, the slots of its call entry and of its return entry, if any.
    slots_of_call: Vec<(usize, Option<usize>)>,
}

impl EntryList {
    fn new(calls: &[Call]) -> EntryList {
        // (time, return after call at the same time, call)
        let mut events: Vec<(u64, bool, usize)> = Vec::with_capacity(calls.len() * 2);
        for (i, call) in calls.iter().enumerate() {
            events.push((call.invoke_us, false, i));
            if let Some((_, response_us)) = call.returned {
                events.push((response_us, true, i));
            }
        }
        events.sort_unstable();
        let slots = events.len() + 2;
        let mut list = EntryList {
            call_of: vec![usize::MAX; slots],
            is_return: vec![false; slots],
            next: (1..=slots).collect(),
            prev: (0..slots).map(|s| s.saturating_sub(1)).collect(),
            slots_of_call: vec![(0, None); calls.len()],
        };
        for (position, &(_, is_return, call)) in events.iter().enumerate() {
            let slot = position + 1;
            list.call_of[slot] = call;
            list.is_return[slot] = is_return;
            let slots_of = &mut list.slots_of_call[call];
            if is_return {
                slots_of.1 = Some(slot);
            } else {
                slots_of.0 = slot;
            }
        }
        list
    }

    fn first(&self) -> usize {
        self.next[0]
    }

    fn is_tail(&self, slot: usize) -> bool {
        slot + 1 == self.next.len()
    }

    fn unlink(&mut self, slot: usize) {
        let (prev, next) = (self.prev[slot], self.next[slot]);
        self.next[prev] = next;
        self.prev[next] = prev;
    }

    fn relink(&mut self, slot: usize) {
        let (prev, next) = (self.prev[slot], self.next[slot]);
        self.next[prev] = slot;
        self.prev[next] = slot;
    }

    /// Takes a call's entries out of the list.
    fn lift(&mut self, call: usize) {
        let (call_slot, return_slot) = self.slots_of_call[call];
        self.unlink(call_slot);
        if let Some(slot) = return_slot {
            self.unlink(slot);
        }
    }

    /// Puts back the entries of the call lifted last (in the reverse order of `lift`).
    fn unlift(&mut self, call: usize) {
        let (call_slot, return_slot) = self.slots_of_call[call];
        if let Some(slot) = return_slot {
            self.relink(slot);
        }
        self.relink(call_slot);
    }
}

/// A set of call numbers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Bitset(Vec<u64>);

impl Bitset {
    fn new(len: usize) -> Bitset {
        Bitset(vec![0; len.div_ceil(64)])
    }

    fn flip(&mut self, i: usize) {
        if let Some(word) = self.0.get_mut(i / 64) {
            *word ^= 1 << (i % 64);
        }
    }
}

/// Searches one key's calls for a linearization, in at most `max_steps` steps. Returns the
/// result and the steps taken.
fn search(calls: &[Call], max_steps: u64) -> (SearchResult, u64) {
    let mut list = EntryList::new(calls);
    let mut linearized = Bitset::new(calls.len());
    let mut seen: HashSet<(Bitset, Option<String>)> = HashSet::new();
    // The calls linearized so far, each with the value before it.
    let mut stack: Vec<(usize, Option<String>)> = Vec::new();
    let mut value: Option<String> = None;
    let mut unanswered = calls.iter().filter(|c| c.returned.is_some()).count();
    let mut slot = list.first();
    let mut steps = 0;
    while unanswered > 0 {
        if steps == max_steps {
            return (SearchResult::OutOfSteps, steps);
        }
        steps += 1;
        if !list.is_tail(slot) && !list.is_return[slot] {
            let call_number = list.call_of[slot];
            let call = &calls[call_number];
            let (next_value, output) = apply(&value, call.op);
            if call.returned.is_none_or(|(seen, _)| *seen == output) {
                linearized.flip(call_number);
                if seen.insert((linearized.clone(), next_value.clone())) {
                    stack.push((call_number, std::mem::replace(&mut value, next_value)));
                    list.lift(call_number);
                    unanswered -= usize::from(call.returned.is_some());
                    slot = list.first();
                    continue;
                }
                linearized.flip(call_number);
            }
            slot = list.next[slot];
        } else {
            // A return (or the end): the last choice was wrong; undo it, try the next.
            let Some((call_number, previous)) = stack.pop() else {
                return (SearchResult::NotLinearizable, steps);
            };
            value = previous;
            linearized.flip(call_number);
            list.unlift(call_number);
            unanswered += usize::from(calls[call_number].returned.is_some());
            slot = list.next[list.slots_of_call[call_number].0];
        }
    }
    (SearchResult::Linearizable, steps)
}

/// Shrinks a failing key's calls (see the module docs) with at most `max_steps` search
/// steps in all. Returns the history indices kept, and whether shrinking finished.
fn shrink(calls: Vec<Call>, max_steps: u64) -> (Vec<usize>, bool) {
    let mut shrinker = Shrinker {
        steps_left: max_steps,
        out_of_steps: false,
    };
    let prefix = shrinker.shortest_failing_prefix(calls);
    let mut kept = shrinker.latest_failing_cut(prefix);
    let minimal = shrinker.relax_one_at_a_time(&mut kept);
    // The writes made unknown need not be shown: if the rest cannot be ordered even with
    // their help, it cannot be ordered without them.
    let constrained = kept.iter().filter(|call| call.returned.is_some());
    let mut indices: Vec<usize> = constrained.map(|call| call.index).collect();
    indices.sort_unstable();
    (indices, minimal)
}

struct Shrinker {
    steps_left: u64,
    out_of_steps: bool,
}

impl Shrinker {
    /// Whether `calls` is shown not linearizable with the steps left.
    fn fails(&mut self, calls: &[Call]) -> bool {
        let (result, steps) = search(calls, self.steps_left);
        self.steps_left = self.steps_left.saturating_sub(steps);
        self.out_of_steps |= result == SearchResult::OutOfSteps;
        result == SearchResult::NotLinearizable
    }

    /// The shortest failing prefix of failing `calls`, cut at a response time. Prefixes fail
    /// from some cut on (a prefix of a linearizable history is linearizable), so bisect.
    fn shortest_failing_prefix<'a>(&mut self, calls: Vec<Call<'a>>) -> Vec<Call<'a>> {
        let mut cuts: Vec<u64> = calls
            .iter()
            .filter_map(|c| c.returned)
            .map(|r| r.1)
            .collect();
        cuts.sort_unstable();
        cuts.dedup();
        // Invariant: the prefix at cuts[high] fails (the last one is the whole history, as
        // ops invoked after every response have none and can go last); those below `low`
        // were not shown to fail.
        let (mut low, Some(mut high)) = (0, cuts.len().checked_sub(1)) else {
            return calls;
        };
        while low < high && !self.out_of_steps {
            let middle = low + (high - low) / 2;
            if self.fails(&prefix(&calls, cuts[middle])) {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        prefix(&calls, cuts[high])
    }

    /// Failing `calls` cut at the latest response time that keeps them failing (see
    /// [`cut_before`]), found by bisection. Dropping ops, unlike relaxing them, keeps the
    /// search cheap, so this goes first on a long history.
    fn latest_failing_cut<'a>(&mut self, calls: Vec<Call<'a>>) -> Vec<Call<'a>> {
        let mut cuts: Vec<u64> = calls
            .iter()
            .filter_map(|c| c.returned)
            .map(|r| r.1)
            .collect();
        cuts.sort_unstable();
        cuts.dedup();
        // Invariant: the cut at cuts[low] fails (or low is 0: no cut); none at or after
        // cuts[high] was shown to fail.
        let (mut low, mut high) = (0, cuts.len());
        let mut best = None;
        while low + 1 < high && !self.out_of_steps {
            let middle = low + (high - low) / 2;
            let candidate = cut_before(&calls, cuts[middle]);
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
    /// relaxed. Returns false if the steps ran out first. Each pass but the last relaxes a
    /// call, and a call is relaxed at most once, so there are at most `kept.len() + 1`.
    fn relax_one_at_a_time(&mut self, kept: &mut Vec<Call>) -> bool {
        loop {
            let mut changed = false;
            let mut i = 0;
            while i < kept.len() {
                if self.out_of_steps {
                    return false;
                }
                match relaxed(kept, i) {
                    Some(candidate) if self.fails(&candidate) => {
                        let dropped = candidate.len() < kept.len();
                        *kept = candidate;
                        changed = true;
                        i += usize::from(!dropped);
                    }
                    _ => i += 1,
                }
            }
            if !changed {
                return !self.out_of_steps;
            }
        }
    }
}

/// `kept` with its `i`th call relaxed: a call that changes nothing is dropped, a write that
/// answered gets an unknown outcome; `None` for a write whose outcome is already unknown.
fn relaxed<'a>(kept: &[Call<'a>], i: usize) -> Option<Vec<Call<'a>>> {
    let call = kept.get(i)?;
    let mut candidate = kept.to_vec();
    if call.is_effect_free() {
        candidate.remove(i);
    } else {
        call.returned?;
        candidate[i].returned = None;
    }
    Some(candidate)
}

/// `calls` without the ones answered before `cut_us`, except writes whose effect a later
/// call may have seen ([`observes_effect_of`]): dropping a write that a later read saw
/// would turn a stale read into a read of a value never written, and hide the write.
fn cut_before<'a>(calls: &[Call<'a>], cut_us: u64) -> Vec<Call<'a>> {
    let is_late = |call: &Call| match call.returned {
        Some((_, response_us)) => response_us >= cut_us,
        None => call.invoke_us >= cut_us,
    };
    let late: Vec<Call> = calls.iter().filter(|call| is_late(call)).copied().collect();
    let seen: Vec<Option<&str>> = late.iter().filter_map(observed).collect();
    let appends = late
        .iter()
        .any(|call| matches!(call.op, KvOp::Append { .. }));
    let keep = |call: &Call| is_late(call) || observes_effect_of(call, &seen, appends);
    calls.iter().filter(|call| keep(call)).copied().collect()
}

/// Whether values `seen` may show the effect of `call`: a string containing the value it
/// wrote, or an absent key (or appends to one, when `appends`) after a `del`. A cautious
/// guess: a false yes only keeps an op that the next step can still relax.
fn observes_effect_of(call: &Call, seen: &[Option<&str>], appends: bool) -> bool {
    if call.is_effect_free() {
        return false;
    }
    match call.op {
        KvOp::Put { value, .. } | KvOp::Append { value, .. } | KvOp::Cas { new: value, .. } => {
            seen.iter().flatten().any(|s| s.contains(value.as_str()))
        }
        KvOp::Del { .. } => appends || seen.contains(&None),
        KvOp::Get { .. } => false,
    }
}

/// The value of the key a call saw, if it saw one.
fn observed<'a>(call: &Call<'a>) -> Option<Option<&'a str>> {
    match (call.op, call.returned?.0) {
        (_, KvOutput::Value(value)) | (_, KvOutput::CasFailed { current: value }) => {
            Some(value.as_deref())
        }
        (KvOp::Cas { old, .. }, KvOutput::Ok) => Some(Some(old.as_str())),
        _ => None,
    }
}

/// The calls as a client would have seen them at `cut_us`: those invoked later are left
/// out, and those answered later have no answer yet.
fn prefix<'a>(calls: &[Call<'a>], cut_us: u64) -> Vec<Call<'a>> {
    let cut = |call: &Call<'a>| {
        let mut call = *call;
        if call
            .returned
            .is_some_and(|(_, response_us)| response_us > cut_us)
        {
            call.returned = None;
        }
        call
    };
    calls
        .iter()
        .filter(|call| call.invoke_us <= cut_us)
        .map(cut)
        .filter(|call| !call.is_irrelevant())
        .collect()
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.ops.len();
        write!(
            f,
            "key {:?}: these {count} operations cannot be ordered",
            self.key
        )?;
        if !self.minimal {
            write!(
                f,
                " (search budget ran out while shrinking; the set may not be minimal)"
            )?;
        }
        writeln!(f, ":")?;
        for (index, operation) in &self.ops {
            writeln!(f, "  #{index:<5} {operation}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Operation {
    /// One line: client, operation, invoke..response and output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let invoke = millis(self.invoke_us);
        let op = self.op.to_string();
        match &self.outcome {
            Outcome::Returned {
                output,
                response_us,
            } => {
                let response = millis(*response_us);
                let span = format!("{invoke}..{response}");
                write!(
                    f,
                    "client {:<3} {op:<24} {span:<24} -> {output}",
                    self.client
                )
            }
            Outcome::Unknown => {
                let span = format!("{invoke}..?");
                write!(
                    f,
                    "client {:<3} {op:<24} {span:<24} -> unknown",
                    self.client
                )
            }
        }
    }
}

/// Microseconds as milliseconds, without trailing zeros: `152.3ms`, `10ms`, `0.005ms`.
fn millis(us: u64) -> String {
    let fraction = format!("{:03}", us % 1000);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{}ms", us / 1000)
    } else {
        format!("{}.{fraction}ms", us / 1000)
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn put(key: &str, value: &str) -> KvOp {
        KvOp::Put {
            key: key.into(),
            value: value.into(),
        }
    }

    fn append(key: &str, value: &str) -> KvOp {
        KvOp::Append {
            key: key.into(),
            value: value.into(),
        }
    }

    fn get(key: &str) -> KvOp {
        KvOp::Get { key: key.into() }
    }

    fn del(key: &str) -> KvOp {
        KvOp::Del { key: key.into() }
    }

    fn cas(key: &str, old: &str, new: &str) -> KvOp {
        KvOp::Cas {
            key: key.into(),
            old: old.into(),
            new: new.into(),
        }
    }

    fn value(value: &str) -> KvOutput {
        KvOutput::Value(Some(value.into()))
    }

    /// An operation answered with `output`, times in milliseconds.
    fn done(client: ClientId, op: KvOp, span_ms: (u64, u64), output: KvOutput) -> Operation {
        Operation {
            client,
            op,
            invoke_us: span_ms.0 * 1000,
            outcome: Outcome::Returned {
                output,
                response_us: span_ms.1 * 1000,
            },
        }
    }

    fn timed_out(client: ClientId, op: KvOp, invoke_ms: u64) -> Operation {
        Operation {
            client,
            op,
            invoke_us: invoke_ms * 1000,
            outcome: Outcome::Unknown,
        }
    }

    fn verdict(history: &[Operation]) -> Verdict {
        check(history, SearchBudget::default())
    }

    fn violation(history: &[Operation]) -> Violation {
        match verdict(history) {
            Verdict::Violation(violation) => violation,
            other => panic!("expected a violation, got {other:?}"),
        }
    }

    fn violating_indices(history: &[Operation]) -> Vec<usize> {
        let violation = violation(history);
        assert!(violation.minimal, "{violation}");
        violation.ops.iter().map(|(index, _)| *index).collect()
    }

    #[test]
    fn an_empty_history_is_linearizable() {
        assert_eq!(verdict(&[]), Verdict::Linearizable);
    }

    #[test]
    fn a_sequential_history_that_follows_the_rules_is_linearizable() {
        let history = [
            done(1, get("x"), (0, 1), KvOutput::Value(None)),
            done(1, put("x", "a"), (2, 3), KvOutput::Ok),
            done(2, append("x", "b"), (4, 5), KvOutput::Ok),
            done(1, get("x"), (6, 7), value("ab")),
            done(2, cas("x", "ab", "c"), (8, 9), KvOutput::Ok),
            done(
                3,
                cas("x", "ab", "d"),
                (10, 11),
                KvOutput::CasFailed {
                    current: Some("c".into()),
                },
            ),
            done(1, del("x"), (12, 13), KvOutput::Ok),
            done(3, get("x"), (14, 15), KvOutput::Value(None)),
            done(2, append("x", "e"), (16, 17), KvOutput::Ok),
            done(2, get("x"), (18, 19), value("e")),
        ];
        assert_eq!(verdict(&history), Verdict::Linearizable);
    }

    #[test]
    fn a_sequential_history_with_a_wrong_output_is_a_violation() {
        let history = [
            done(1, put("x", "a"), (0, 1), KvOutput::Ok),
            done(1, cas("x", "b", "c"), (2, 3), KvOutput::Ok),
        ];
        // The cas alone cannot succeed: nothing ever wrote b.
        assert_eq!(violating_indices(&history), [1]);
    }

    #[test]
    fn a_write_invoked_first_may_take_effect_last() {
        // put 2 must come before put 1, though put 1 was invoked first.
        let history = [
            done(1, put("x", "1"), (0, 100), KvOutput::Ok),
            done(2, put("x", "2"), (10, 50), KvOutput::Ok),
            done(3, get("x"), (60, 70), value("1")),
            done(3, get("x"), (110, 120), value("1")),
        ];
        assert_eq!(verdict(&history), Verdict::Linearizable);
    }

    #[test]
    fn overlapping_appends_and_cas_chain_in_the_only_possible_order() {
        // Everything overlaps; only a -> c -> b -> cas(acb, z) -> get explains the outputs.
        let history = [
            done(1, append("x", "b"), (0, 100), KvOutput::Ok),
            done(2, append("x", "a"), (5, 100), KvOutput::Ok),
            done(3, get("x"), (10, 100), value("ac")),
            done(4, append("x", "c"), (15, 100), KvOutput::Ok),
            done(5, cas("x", "acb", "z"), (20, 100), KvOutput::Ok),
            done(6, get("x"), (25, 100), value("z")),
            done(3, get("x"), (101, 102), value("z")),
        ];
        assert_eq!(verdict(&history), Verdict::Linearizable);
    }

    #[test]
    fn a_stale_read_after_a_completed_write_is_a_violation() {
        let history = [
            done(1, put("x", "1"), (0, 10), KvOutput::Ok),
            done(2, put("x", "2"), (20, 30), KvOutput::Ok),
            done(3, get("x"), (40, 50), value("1")),
        ];
        assert_eq!(violating_indices(&history), [0, 1, 2]);
    }

    #[test]
    fn a_write_seen_and_then_not_seen_is_a_violation() {
        let history = [
            done(1, put("x", "1"), (0, 100), KvOutput::Ok),
            done(2, get("x"), (10, 20), value("1")),
            done(3, get("x"), (30, 40), KvOutput::Value(None)),
        ];
        // The two reads alone cannot be ordered: nothing deletes the key between them.
        assert_eq!(violating_indices(&history), [1, 2]);
    }

    #[test]
    fn a_cas_that_succeeds_twice_from_the_same_value_is_a_violation() {
        let history = [
            done(1, put("x", "a"), (0, 10), KvOutput::Ok),
            done(2, cas("x", "a", "b"), (20, 40), KvOutput::Ok),
            done(3, cas("x", "a", "c"), (25, 35), KvOutput::Ok),
        ];
        // Even if the put took effect at any time, only one cas could find a.
        assert_eq!(violating_indices(&history), [1, 2]);
    }

    #[test]
    fn appends_in_an_order_contradicting_real_time_are_a_violation() {
        let history = [
            done(1, append("x", "a"), (0, 10), KvOutput::Ok),
            done(2, append("x", "b"), (20, 30), KvOutput::Ok),
            done(3, get("x"), (40, 50), value("ba")),
        ];
        // Even if append b took effect at any time, a was appended first, by 10ms.
        assert_eq!(violating_indices(&history), [0, 2]);
    }

    #[test]
    fn a_timed_out_write_observed_later_is_linearizable() {
        let history = [
            done(1, put("x", "1"), (0, 10), KvOutput::Ok),
            timed_out(2, put("x", "2"), 20),
            done(3, get("x"), (30, 40), value("1")),
            done(3, get("x"), (500, 510), value("2")),
            done(1, get("x"), (600, 610), value("2")),
        ];
        assert_eq!(verdict(&history), Verdict::Linearizable);
    }

    #[test]
    fn a_timed_out_write_never_observed_is_linearizable() {
        let history = [
            timed_out(2, put("x", "2"), 0),
            timed_out(2, append("x", "3"), 1),
            timed_out(4, get("x"), 2),
            done(3, get("x"), (30, 40), KvOutput::Value(None)),
            done(1, put("x", "1"), (50, 60), KvOutput::Ok),
            done(3, get("x"), (500, 510), value("1")),
        ];
        assert_eq!(verdict(&history), Verdict::Linearizable);
    }

    #[test]
    fn a_timed_out_write_cannot_be_seen_before_its_invoke() {
        let history = [
            done(1, get("x"), (0, 10), value("2")),
            timed_out(2, put("x", "2"), 20),
        ];
        // Ops with unknown outcomes constrain nothing, so the set shows only the read.
        assert_eq!(violating_indices(&history), [0]);
    }

    #[test]
    fn a_timed_out_write_takes_effect_at_most_once() {
        let history = [
            timed_out(1, append("x", "a"), 0),
            done(2, get("x"), (10, 20), value("aa")),
        ];
        assert_eq!(violating_indices(&history), [1]);
    }

    #[test]
    fn reading_a_value_never_written_is_a_violation() {
        let history = [
            done(1, put("x", "1"), (0, 10), KvOutput::Ok),
            done(2, get("x"), (5, 15), value("7")),
            done(3, put("x", "2"), (20, 30), KvOutput::Ok),
        ];
        assert_eq!(violating_indices(&history), [1]);
    }

    #[test]
    fn shrinking_keeps_exactly_the_conflicting_operations() {
        let mut history = vec![
            done(1, put("x", "0"), (0, 10), KvOutput::Ok),
            done(2, put("y", "0"), (0, 10), KvOutput::Ok),
            done(2, get("x"), (12, 14), value("0")),
            done(1, put("x", "1"), (20, 30), KvOutput::Ok), // 3
            done(3, get("y"), (25, 35), value("0")),
            done(2, append("x", "+"), (40, 50), KvOutput::Ok), // 5
            done(3, get("y"), (45, 55), value("0")),
            done(1, get("x"), (60, 70), value("1")), // 7: stale
        ];
        // Later operations, fine on their own, that the prefix cut removes.
        for i in 0..20 {
            let start = 100 + 10 * i;
            history.push(done(4, put("x", "9"), (start, start + 5), KvOutput::Ok));
            history.push(done(5, get("x"), (start + 6, start + 8), value("9")));
        }
        assert_eq!(violating_indices(&history), [3, 5, 7]);
    }

    #[test]
    fn shrinking_a_long_history_keeps_the_write_a_stale_read_saw() {
        let mut history = Vec::new();
        for i in 0..200 {
            let start = 10 * i;
            let v = format!("v{i}");
            history.push(done(1, put("x", &v), (start, start + 4), KvOutput::Ok));
            history.push(done(2, get("x"), (start + 3, start + 9), value(&v)));
        }
        let old = history.len();
        history.push(done(1, put("x", "old"), (2000, 2010), KvOutput::Ok));
        history.push(done(2, get("x"), (2020, 2030), value("old")));
        for i in 0..100 {
            let start = 2100 + 10 * i;
            history.push(done(3, append("x", "+"), (start, start + 4), KvOutput::Ok));
        }
        let stale = history.len();
        history.push(done(4, get("x"), (3500, 3510), value("old")));
        // The write seen, one append that came after it for sure, and the read.
        assert_eq!(violating_indices(&history), [old, stale - 1, stale]);
    }

    #[test]
    fn each_key_is_checked_on_its_own() {
        let history = [
            done(1, put("a", "1"), (0, 10), KvOutput::Ok),
            done(2, put("b", "1"), (0, 10), KvOutput::Ok),
            done(1, get("b"), (20, 30), KvOutput::Value(None)),
            done(2, get("a"), (20, 30), value("1")),
        ];
        let violation = violation(&history);
        assert_eq!(violation.key, "b");
        assert_eq!(violating_indices(&history), [1, 2]);
        let only_a = check_key(&history, "a", SearchBudget::default());
        assert_eq!(only_a.result, SearchResult::Linearizable);
        let only_b = check_key(&history, "b", SearchBudget::default());
        assert_eq!(only_b.result, SearchResult::NotLinearizable);
    }

    #[test]
    fn running_out_of_budget_gives_unknown() {
        let history: Vec<Operation> = (0..30)
            .map(|i| done(i, append("k", &i.to_string()), (0, 100), KvOutput::Ok))
            .chain([done(99, get("k"), (200, 210), value("nope"))])
            .collect();
        let verdict = check(&history, SearchBudget { steps: 1000 });
        assert_eq!(
            verdict,
            Verdict::Unknown {
                key: "k".into(),
                steps: 1000
            }
        );
    }

    #[test]
    fn a_response_before_its_invoke_is_read_as_one_at_the_invoke() {
        let history = [
            done(1, put("x", "1"), (10, 5), KvOutput::Ok),
            done(2, get("x"), (10, 20), value("1")),
        ];
        assert_eq!(verdict(&history), Verdict::Linearizable);
    }

    #[test]
    fn a_violation_prints_one_operation_a_line() {
        let history = [
            done(1, put("x", "1"), (0, 10), KvOutput::Ok),
            done(2, put("x", "2"), (20, 30), KvOutput::Ok),
            timed_out(4, put("x", "3"), 35),
            Operation {
                invoke_us: 40_500,
                ..done(3, get("x"), (0, 50), value("1"))
            },
        ];
        let expected = "\
key \"x\": these 3 operations cannot be ordered:
  #0     client 1   put x 1                  0ms..10ms                -> ok
  #1     client 2   put x 2                  20ms..30ms               -> ok
  #3     client 3   get x                    40.5ms..50ms             -> 1
";
        assert_eq!(violation(&history).to_string(), expected);
        assert_eq!(
            history[2].to_string(),
            "client 4   put x 3                  35ms..?                  -> unknown"
        );
    }

    /// A history produced by running `count` random operations one after another on
    /// `keys` keys, then widening each into an interval around its instant so that it
    /// overlaps its neighbours. Client `i % clients` runs op `i`, so a client's operations
    /// never overlap each other.
    fn generated_history(seed: u64, count: usize, keys: usize, clients: u64) -> Vec<Operation> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut map = KvMap::default();
        let spacing_us = 10;
        let jitter_us = spacing_us * clients / 2 - 1;
        (0..count)
            .map(|i| {
                let op = random_op(&mut rng, &map, i, keys);
                let output = map.apply(&op);
                let at_us = 1000 + spacing_us * i as u64;
                let invoke_us = at_us - rng.random_range(0..=jitter_us);
                let response_us = at_us + rng.random_range(0..=jitter_us);
                let outcome = Outcome::Returned {
                    output,
                    response_us,
                };
                let client = i as u64 % clients;
                Operation {
                    client,
                    op,
                    invoke_us,
                    outcome,
                }
            })
            .collect()
    }

    fn random_op(rng: &mut ChaCha8Rng, map: &KvMap, i: usize, keys: usize) -> KvOp {
        let key = &format!("k{}", rng.random_range(0..keys));
        match rng.random_range(0..20) {
            0..=7 => get(key),
            8..=11 => put(key, &format!("p{i}")),
            12..=15 => append(key, &format!("{i},")),
            16..=18 => {
                let old = match map.get(key) {
                    Some(current) if rng.random_bool(0.7) => current.to_string(),
                    _ => "never".to_string(),
                };
                cas(key, &old, &format!("c{i}"))
            }
            _ => del(key),
        }
    }

    #[test]
    fn a_generated_history_of_2000_operations_is_linearizable() {
        for seed in 0..3 {
            let history = generated_history(seed, 2000, 10, 8);
            let verdict = check(&history, SearchBudget { steps: 100_000 });
            assert_eq!(verdict, Verdict::Linearizable, "seed {seed}");
        }
    }

    #[test]
    fn a_generated_history_with_one_corrupted_read_shrinks_to_a_few_operations() {
        let mut history = generated_history(1, 2000, 10, 8);
        let read = (1000..history.len()).find(|&i| {
            let Outcome::Returned { output, .. } = &history[i].outcome else {
                return false;
            };
            history[i].op.is_read() && matches!(output, KvOutput::Value(Some(_)))
        });
        let Some(read) = read else {
            panic!("no read of a present key");
        };
        if let Outcome::Returned { output, .. } = &mut history[read].outcome {
            *output = value("corrupted");
        }
        let violation = violation(&history);
        assert!(violation.minimal, "{violation}");
        assert_eq!(violation.ops.len(), 1, "{violation}");
        assert_eq!(violation.ops[0].0, read);
    }

    /// Run by hand: `cargo test --release -- --ignored ten_thousand`.
    #[test]
    #[ignore]
    fn a_generated_history_of_ten_thousand_operations_is_linearizable() {
        let history = generated_history(42, 10_000, 10, 10);
        assert_eq!(
            check(&history, SearchBudget::default()),
            Verdict::Linearizable
        );
    }
}
