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
//! A failing key's history is shrunk to a small set of operations that cannot be ordered.
//! First the shortest failing *prefix* is found by bisection over response times (the ops
//! answered after the cut count as unanswered, the ops invoked after it are left out; every
//! prefix of a linearizable history is linearizable, so a failing prefix is a real
//! violation). Then operations are taken out one at a time while the rest still fails. A
//! read is simply dropped. A write is dropped only if the rest fails both without it and
//! with it turned into an unknown outcome: dropping a write alone would make every read of
//! its value look like a read of a value never written, and the set would shrink to that
//! read instead of the ops that really conflict. The result is minimal under these rules
//! (no single op can be taken out), unless the budget ran out first.
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
    let mut kept = shrinker.shortest_failing_prefix(calls);
    let minimal = shrinker.take_out_one_at_a_time(&mut kept);
    let mut indices: Vec<usize> = kept.iter().map(|call| call.index).collect();
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

    /// Takes calls out of failing `kept` while it still fails, until no single one can go.
    /// Returns false if the steps ran out first. Each pass but the last removes a call, so
    /// there are at most `kept.len() + 1` passes.
    fn take_out_one_at_a_time(&mut self, kept: &mut Vec<Call>) -> bool {
        loop {
            let mut changed = false;
            let mut i = 0;
            while i < kept.len() {
                if self.out_of_steps {
                    return false;
                }
                if self.can_take_out(kept, i) {
                    kept.remove(i);
                    changed = true;
                } else {
                    i += 1;
                }
            }
            if !changed {
                return !self.out_of_steps;
            }
        }
    }

    /// Whether `kept` still fails without its `i`th call, and, for a write that answered,
    /// also with that write's outcome made unknown.
    fn can_take_out(&mut self, kept: &[Call], i: usize) -> bool {
        let Some(call) = kept.get(i) else {
            return false;
        };
        let mut without = kept.to_vec();
        without.remove(i);
        if !self.fails(&without) {
            return false;
        }
        if call.is_effect_free() || call.returned.is_none() {
            return true;
        }
        let mut relaxed = kept.to_vec();
        relaxed[i].returned = None;
        self.fails(&relaxed)
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
