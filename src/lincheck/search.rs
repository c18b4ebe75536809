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
    const CHECK_EVERY: u64 = 1024;

    /// The result that ends the search at `steps`, if one does.
    fn reached(&self, steps: u64) -> Option<SearchResult> {
        if steps >= self.max_steps {
            return Some(SearchResult::OutOfBudget);
        }
        if steps % Self::CHECK_EVERY != 0 {
            return None;
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
    let mut list = EntryList::new(calls);
    let mut linearized = Bitset::new(calls.len());
    let mut seen: Cache<M::State> = Cache::default();
    // The calls linearized so far, each with the state before it.
    let mut stack: Vec<(usize, M::State)> = Vec::new();
    let mut longest = Vec::new();
    let mut state = model.init();
    let mut unanswered = calls.iter().filter(|c| c.returned.is_some()).count();
    let mut slot = list.first();
    let mut steps = 0;
    let done = |result, steps, longest| Searched {
        result,
        steps,
        longest,
    };
    while unanswered > 0 {
        if let Some(result) = limit.reached(steps) {
            return done(result, steps, longest);
        }
        steps += 1;
        if !list.is_tail(slot) && !list.is_return[slot] {
            let number = list.call_of[slot];
            let call = &calls[number];
            if let Some(next) = model.step(&state, call.input, call.output()) {
                linearized.flip(number);
                if seen.insert(&linearized, &next) {
                    stack.push((number, std::mem::replace(&mut state, next)));
                    list.lift(number);
                    unanswered -= usize::from(call.returned.is_some());
                    if track_longest && stack.len() > longest.len() {
                        longest = stack.iter().map(|(n, _)| *n).collect();
                    }
                    slot = list.first();
                    continue;
                }
                linearized.flip(number);
            }
            slot = list.next[slot];
        } else {
            // A return (or the end): the last choice was wrong; undo it, try the next.
            let Some((number, previous)) = stack.pop() else {
                return done(SearchResult::NotLinearizable, steps, longest);
            };
            state = previous;
            linearized.flip(number);
            list.unlift(number);
            unanswered += usize::from(calls[number].returned.is_some());
            slot = list.next[list.slots_of_call[number].0];
        }
    }
    if track_longest {
        longest = stack.iter().map(|(n, _)| *n).collect();
    }
    done(SearchResult::Linearizable, steps, longest)
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
