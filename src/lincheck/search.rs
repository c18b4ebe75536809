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
//!
//! The cache keeps each set in a compact form, so that its memory grows with the history
//! and not with the square of it: the bits are the list's entries in time order (an
//! operation linearized is its entries lifted), and a set is kept as the number of leading
//! words that are all ones (the linearized past) followed by the rest up to its last one
//! bit, run-length encoded. An entry of a history where few operations overlap is then a
//! few words, whatever its length, where a plain bitset of a 100,000-operation key would be
//! 12.5 KB.

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
    /// The entries lifted out of the list (the calls linearized), by position in time.
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
        let linearized = Bitset::new(list.entries());
        Searcher {
            model,
            calls,
            list,
            linearized,
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
            self.flip(number);
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
            self.flip(number);
        }
        self.slot = self.list.next[slot];
    }

    /// Adds a call to the linearized set, or takes it out: the bits of its entries.
    fn flip(&mut self, number: usize) {
        let (call_slot, return_slot) = self.list.slots_of_call[number];
        self.linearized.flip(call_slot - 1);
        if let Some(slot) = return_slot {
            self.linearized.flip(slot - 1);
        }
    }

    /// At a return (or the end), the last choice was wrong: undoes it and moves to the
    /// call after it. False when there is no choice left to undo.
    fn backtrack(&mut self) -> bool {
        let Some((number, previous)) = self.stack.pop() else {
            return false;
        };
        self.state = previous;
        self.flip(number);
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

    /// How many call and return entries there are (slots 1 to this one).
    fn entries(&self) -> usize {
        self.next.len() - 2
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

/// A set of entry positions, with what its compact form needs kept up to date.
struct Bitset {
    words: Vec<u64>,
    /// How many words from the first are all ones.
    full: usize,
    /// No word from this one on has a bit set (it can be more than the last such word,
    /// never less).
    high: usize,
}

impl Bitset {
    fn new(len: usize) -> Bitset {
        Bitset {
            words: vec![0; len.div_ceil(64)],
            full: 0,
            high: 0,
        }
    }

    fn flip(&mut self, i: usize) {
        let at = i / 64;
        let Some(word) = self.words.get_mut(at) else {
            return;
        };
        *word ^= 1 << (i % 64);
        let word = *word;
        if word == u64::MAX && at == self.full {
            while self.words.get(self.full) == Some(&u64::MAX) {
                self.full += 1;
            }
        } else if word != u64::MAX && at < self.full {
            self.full = at;
        }
        if word != 0 {
            self.high = self.high.max(at + 1);
        }
    }

    /// Writes the set's compact form into `out`: the number of full words, then the words
    /// after them up to the last one that is not zero as runs, each a word and how many
    /// times it repeats. Equal sets, and only they, have equal compact forms.
    fn compact(&self, out: &mut Vec<u64>) {
        out.clear();
        out.push(self.full as u64);
        let rest = &self.words[self.full..self.high.max(self.full)];
        let end = rest
            .iter()
            .rposition(|&w| w != 0)
            .map_or(0, |last| last + 1);
        for run in rest[..end].chunk_by(|a, b| a == b) {
            out.push(run[0]);
            out.push(run.len() as u64);
        }
    }
}

/// A linearized set in its compact form, with the model's state.
type Configuration<S> = (Box<[u64]>, S);

/// The configurations seen: (linearized set, state) pairs, in buckets by a hash of both, so
/// a configuration seen before is found without copying it (most steps find one). A set is
/// kept in its compact form ([`Bitset::compact`]).
struct Cache<S> {
    buckets: HashMap<u64, Vec<Configuration<S>>, BuildFastHasher>,
    /// The compact form of the set being looked up, reused from step to step.
    scratch: Vec<u64>,
}

impl<S> Default for Cache<S> {
    fn default() -> Self {
        Cache {
            buckets: HashMap::default(),
            scratch: Vec::new(),
        }
    }
}

impl<S> Cache<S> {
    /// How many configurations are kept, and how many words their sets take in all.
    #[cfg(test)]
    fn size(&self) -> (usize, usize) {
        let sets = self.buckets.values().flatten();
        let words = sets.clone().map(|(set, _)| set.len()).sum();
        (sets.count(), words)
    }
}

impl<S: Clone + Eq + Hash> Cache<S> {
    /// Adds the configuration; false if it was there already.
    fn insert(&mut self, linearized: &Bitset, state: &S) -> bool {
        linearized.compact(&mut self.scratch);
        let mut hasher = FastHasher::default();
        for word in &self.scratch {
            hasher.write_u64(*word);
        }
        state.hash(&mut hasher);
        let bucket = self.buckets.entry(hasher.finish()).or_default();
        let key = &self.scratch[..];
        if bucket.iter().any(|(l, s)| &l[..] == key && s == state) {
            return false;
        }
        bucket.push((key.into(), state.clone()));
        true
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::{Bitset, Call, Searcher};
    use crate::cluster::kv::{KvOp, KvOutput};
    use crate::lincheck::kv::{KvModel, KvReply};
    use crate::lincheck::{Operation, Outcome, SearchResult};

    /// The set a compact form stands for.
    fn decoded(compact: &[u64]) -> BTreeSet<usize> {
        let mut set: BTreeSet<usize> = (0..compact[0] as usize * 64).collect();
        let mut at = compact[0] as usize;
        for run in compact[1..].chunks(2) {
            for _ in 0..run[1] {
                set.extend(
                    (0..64)
                        .filter(|b| run[0] & (1 << b) != 0)
                        .map(|b| at * 64 + b),
                );
                at += 1;
            }
        }
        set
    }

    /// Whatever the order of the flips, the compact form is the set's: equal sets have
    /// equal forms, and the form gives the set back.
    #[test]
    fn a_sets_compact_form_stands_for_exactly_that_set() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut compact = Vec::new();
        for _ in 0..100 {
            let len = rng.random_range(1..300);
            let mut bits = Bitset::new(len);
            let mut set = BTreeSet::new();
            for _ in 0..rng.random_range(0..3 * len) {
                // Mostly a growing prefix with holes, as a search makes it.
                let i = match rng.random_bool(0.7) {
                    true => set.len().min(len - 1),
                    false => rng.random_range(0..len),
                };
                bits.flip(i);
                if !set.remove(&i) {
                    set.insert(i);
                }
                bits.compact(&mut compact);
                assert_eq!(decoded(&compact), set);
                let mut fresh = Bitset::new(len);
                set.iter().rev().for_each(|&i| fresh.flip(i));
                let mut again = Vec::new();
                fresh.compact(&mut again);
                assert_eq!(compact, again, "{set:?}");
            }
        }
    }

    /// A linearized past with a hole at its start (an operation that can still be placed
    /// later) is a few words, not one bit per entry.
    #[test]
    fn a_long_past_with_a_hole_is_a_few_words() {
        let mut bits = Bitset::new(100_000);
        (1..90_000).for_each(|i| bits.flip(i));
        let mut compact = Vec::new();
        bits.compact(&mut compact);
        assert!(compact.len() <= 7, "{compact:?}");
    }

    fn sequential(ops: u64) -> Vec<Operation<KvOp, KvReply>> {
        let key = || "x".to_string();
        (0..ops)
            .map(|i| {
                let (input, output) = match i % 2 {
                    0 => (
                        KvOp::Put {
                            key: key(),
                            value: i.to_string(),
                        },
                        KvOutput::Ok,
                    ),
                    _ => (
                        KvOp::Get { key: key() },
                        KvOutput::Value(Some((i - 1).to_string())),
                    ),
                };
                let outcome = Outcome::Returned {
                    output: KvReply::Output(output),
                    response: 2 * i + 1,
                };
                Operation {
                    client: i % 5,
                    input,
                    invoke: 2 * i,
                    outcome,
                }
            })
            .collect()
    }

    /// Lowe's cache must not grow with the square of a key's history: each configuration it
    /// keeps of a long sequential history is a few words (a plain bitset of these 20,000
    /// operations would be 313 words each).
    #[test]
    fn the_cache_of_a_long_history_keeps_each_configuration_in_a_few_words() {
        let history = sequential(20_000);
        let model = KvModel::default();
        let indices: Vec<usize> = (0..history.len()).collect();
        let calls = Call::of(&model, &history, &indices);
        let mut searcher = Searcher::new(&model, &calls, false);
        assert_eq!(searcher.run(u64::MAX), Some(SearchResult::Linearizable));
        let (kept, words) = searcher.seen.size();
        assert!(kept >= 20_000, "{kept}");
        assert!(words <= 4 * kept, "{words} words for {kept} configurations");
    }
}
