//! Wing and Gong's search with Lowe's improvements, over one partition's operations.
//!
//! The history becomes a doubly linked list of call and return entries in time order (a
//! call before a return at the same instant: operations that touch only at an instant are
//! concurrent). Walking the list from the front, the search tries each call it meets
//! before the first return: if the model accepts the output the client saw, the operation
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

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::hash::{BuildFastHasher, FastHasher};
use super::{Model, Operation, SearchResult};

/// An operation as the search sees it: `index` into the history, and the response (output
/// and time) if the output is known.
pub struct Call<'a, M: Model> {
    pub index: usize,
    pub input: &'a M::Input,
    pub invoke: u64,
    pub returned: Option<(&'a M::Output, u64)>,
}

// Derived Clone and Copy would ask M to be Clone and Copy.
impl<M: Model> Clone for Call<'_, M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M: Model> Copy for Call<'_, M> {}

impl<'a, M: Model> Call<'a, M> {
    /// The calls of `indices` into `history`, without those that constrain and change
    /// nothing (an effect-free operation with an unknown outcome).
    pub fn of(
        model: &M,
        history: &'a [Operation<M::Input, M::Output>],
        indices: &[usize],
    ) -> Vec<Call<'a, M>> {
        let to_call = |index: usize| {
            let operation = history.get(index)?;
            let call = Call {
                index,
                input: &operation.input,
                invoke: operation.invoke,
                returned: operation.returned(),
            };
            (!call.is_irrelevant(model)).then_some(call)
        };
        indices.iter().filter_map(|&i| to_call(i)).collect()
    }

    pub fn output(&self) -> Option<&'a M::Output> {
        self.returned.map(|(output, _)| output)
    }

    pub fn is_irrelevant(&self, model: &M) -> bool {
        self.returned.is_none() && model.is_effect_free(self.input, None)
    }

    pub fn is_effect_free(&self, model: &M) -> bool {
        model.is_effect_free(self.input, self.output())
    }
}

/// What stops a search besides its answer: steps, a deadline, another partition's
/// violation. Time and the stop flag are looked at every [`Limit::CHECK_EVERY`] steps.
pub struct Limit<'a> {
    pub max_steps: u64,
    pub deadline: Option<Instant>,
    pub stop: Option<&'a AtomicBool>,
}

impl Limit<'_> {
    pub const CHECK_EVERY: u64 = 1024;

    /// The result that ends the search at `steps`, if one does (the stop flag and the
    /// clock are read whenever this is asked).
    pub fn reached(&self, steps: u64) -> Option<SearchResult> {
        if steps >= self.max_steps {
            return Some(SearchResult::OutOfBudget);
        }
        if self.stop.is_some_and(|stop| stop.load(Ordering::Relaxed)) {
            return Some(SearchResult::Stopped);
        }
        let late = self.deadline.is_some_and(|at| Instant::now() >= at);
        late.then_some(SearchResult::OutOfBudget)
    }
}

/// A search's answer.
pub struct Searched {
    pub result: SearchResult,
    pub steps: u64,
    /// When asked for: the longest sequence of calls (positions in the calls searched)
    /// that the search linearized, in order.
    pub longest: Vec<usize>,
}

/// Searches `calls` for a linearization within `limit`; `track_longest` records the
/// longest linearized sequence (it costs a copy each time the sequence grows).
pub fn search<M: Model>(
    model: &M,
    calls: &[Call<M>],
    limit: &Limit,
    track_longest: bool,
) -> Searched {
    let mut searcher = Searcher::new(model, calls, track_longest);
    let result = loop {
        if let Some(result) = limit.reached(searcher.steps) {
            break result;
        }
        let until = (searcher.steps + Limit::CHECK_EVERY).min(limit.max_steps);
        if let Some(result) = searcher.run(until) {
            break result;
        }
    };
    searcher.answer(result)
}

/// A search that can be paused and resumed, so that one thread can take turns between the
/// searches of several partitions.
pub struct Searcher<'a, 'm, M: Model> {
    model: &'m M,
    calls: &'a [Call<'a, M>],
    list: EntryList,
    linearized: Bitset,
    seen: Cache<M::State>,
    /// The calls linearized so far, each with the state before it.
    stack: Vec<(usize, M::State)>,
    state: M::State,
    /// How many answered calls are not linearized yet.
    unanswered: usize,
    slot: usize,
    steps: u64,
    track_longest: bool,
    longest: Vec<usize>,
}

impl<'a, 'm, M: Model> Searcher<'a, 'm, M> {
    pub fn new(model: &'m M, calls: &'a [Call<'a, M>], track_longest: bool) -> Self {
        let list = EntryList::new(calls);
        let slot = list.first();
        Searcher {
            model,
            calls,
            list,
            linearized: Bitset::new(calls.len()),
            seen: Cache::default(),
            stack: Vec::new(),
            state: model.init(),
            unanswered: calls.iter().filter(|c| c.returned.is_some()).count(),
            slot,
            steps: 0,
            track_longest,
            longest: Vec::new(),
        }
    }

    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The search's answer, given its result.
    pub fn answer(mut self, result: SearchResult) -> Searched {
        if result == SearchResult::Linearizable && self.track_longest {
            self.longest = self.stack.iter().map(|(n, _)| *n).collect();
        }
        Searched {
            result,
            steps: self.steps,
            longest: self.longest,
        }
    }

    /// Searches until the answer (returned) or until `until` steps in all (`None`).
    pub fn run(&mut self, until: u64) -> Option<SearchResult> {
        while self.unanswered > 0 {
            if self.steps >= until {
                return None;
            }
            self.steps += 1;
            let slot = self.slot;
            if !self.list.is_tail(slot) && !self.list.is_return[slot] {
                self.try_call(slot);
            } else if !self.backtrack() {
                return Some(SearchResult::NotLinearizable);
            }
        }
        Some(SearchResult::Linearizable)
    }

    /// Tries to linearize the call at `slot` next; moves on to the next slot if it cannot
    /// go, or if the configuration it leads to was explored already.
    fn try_call(&mut self, slot: usize) {
        let number = self.list.call_of[slot];
        let call = &self.calls[number];
        if let Some(next) = self.model.step(&self.state, call.input, call.output()) {
            self.linearized.flip(number);
            if self.seen.insert(&self.linearized, &next) {
                let before = std::mem::replace(&mut self.state, next);
                self.stack.push((number, before));
                self.list.lift(number);
                self.unanswered -= usize::from(call.returned.is_some());
                if self.track_longest && self.stack.len() > self.longest.len() {
                    self.longest = self.stack.iter().map(|(n, _)| *n).collect();
                }
                self.slot = self.list.first();
                return;
            }
            self.linearized.flip(number);
        }
        self.slot = self.list.next[slot];
    }

    /// At a return (or the end), the last choice was wrong: undoes it and moves to the
    /// call after it. False when there is no choice left to undo.
    fn backtrack(&mut self) -> bool {
        let Some((number, previous)) = self.stack.pop() else {
            return false;
        };
        self.state = previous;
        self.linearized.flip(number);
        self.list.unlift(number);
        self.unanswered += usize::from(self.calls[number].returned.is_some());
        self.slot = self.list.next[self.list.slots_of_call[number].0];
        true
    }
}

/// The call and return entries of one partition's operations in time order, as a doubly
/// linked list from which an operation's entries can be lifted and put back (dancing
/// links). Slot 0 is the head sentinel and the last slot the tail sentinel.
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
    fn new<M: Model>(calls: &[Call<M>]) -> EntryList {
        // (time, return after call at the same time, call)
        let mut events: Vec<(u64, bool, usize)> = Vec::with_capacity(calls.len() * 2);
        for (i, call) in calls.iter().enumerate() {
            events.push((call.invoke, false, i));
            if let Some((_, response)) = call.returned {
                events.push((response, true, i));
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

/// The configurations seen: (linearized set, state) pairs, in buckets by a hash of both, so
/// a configuration seen before is found without copying it (most steps find one).
struct Cache<S> {
    buckets: HashMap<u64, Vec<(Bitset, S)>, BuildFastHasher>,
}

impl<S> Default for Cache<S> {
    fn default() -> Self {
        Cache {
            buckets: HashMap::default(),
        }
    }
}

impl<S: Clone + Eq + Hash> Cache<S> {
    /// Adds the configuration; false if it was there already.
    fn insert(&mut self, linearized: &Bitset, state: &S) -> bool {
        let mut hasher = FastHasher::default();
        for word in &linearized.0 {
            hasher.write_u64(*word);
        }
        state.hash(&mut hasher);
        let bucket = self.buckets.entry(hasher.finish()).or_default();
        if bucket.iter().any(|(l, s)| l == linearized && s == state) {
            return false;
        }
        bucket.push((linearized.clone(), state.clone()));
        true
    }
}
