//! The linearizability of the cluster's client histories: the cluster's operations read by
//! the checker of [`crate::lincheck`] with the key-value model ([`KvModel`]).
//!
//! A history is what the clients saw: each operation with the time it was invoked, and
//! either its output and the time the answer came back, or nothing (the client gave up).
//! The history is *linearizable* if every operation can be given a single instant between
//! its invoke and its response such that applying the operations one by one, in the order
//! of those instants, to an empty [`KvMap`](super::kv::KvMap) yields exactly the outputs
//! the clients saw. How the search works, what an unknown outcome means and how a violation
//! is shrunk to a few operations are told in [`crate::lincheck`] and its modules.
//!
//! The cluster's checks are seeded and must give the same answer on any machine, so they
//! count their budget in search steps ([`SearchBudget`]), never in time.
//!
//! # In windows
//!
//! A cluster that runs for an hour cannot keep every operation for one check at the end.
//! [`WindowedHistory`] takes the history as it grows and checks it key by key in windows
//! (as Jepsen's independent-key checks and Porcupine's partitions do): a key's window ends
//! at a *cut*, an instant before which all its operations were invoked and after which all
//! later ones are, and of the window only what the rest needs is kept: every
//! configuration the key may be in at the cut ([`crate::lincheck::window`]), each a value
//! with the operations still in progress across the cut that it has applied. The verdict is
//! the one the whole history gets: the next window starts from all those configurations.
//! To name the operations of a violation, each key keeps its last closed window too, and
//! the violation is shrunk from that window and the failing one; what came before is
//! summarised as the values the key may have held ([`Violation::held_before`]).

use std::collections::{BTreeMap, BTreeSet};

use super::kv::{ClientId, KvOp, KvOutput};
use crate::lincheck::kv::{KvModel, KvReply};
use crate::lincheck::search::{Call, Limit, search};
use crate::lincheck::window::{Config, Frontier, frontier};
use crate::lincheck::{self, Budget, Model, check::Verdict as LinVerdict};

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
    /// Whether shrinking finished: no single op of `ops` can be taken out (see
    /// [`crate::lincheck::shrink`]). False when the budget ran out first; `ops` still
    /// cannot be ordered.
    pub minimal: bool,
    /// Empty, unless the history was checked in windows and the operations before `ops`
    /// are summarised: then the values (`None`: absent) the key may have held before
    /// them, which the set needs to be a violation.
    pub held_before: Vec<Option<String>>,
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

/// The history as the checker's key-value model reads it.
pub fn model_history(history: &[Operation]) -> Vec<lincheck::Operation<KvOp, KvReply>> {
    let convert = |operation: &Operation| lincheck::Operation {
        client: operation.client,
        input: operation.op.clone(),
        invoke: operation.invoke_us,
        outcome: match &operation.outcome {
            Outcome::Returned {
                output,
                response_us,
            } => lincheck::Outcome::Returned {
                output: KvReply::Output(output.clone()),
                response: *response_us,
            },
            Outcome::Unknown => lincheck::Outcome::Unknown,
        },
    };
    history.iter().map(convert).collect()
}

/// Checks a whole history, key by key, and explains the first key that fails (keys are
/// searched largest first; the answer does not depend on timing). A violation wins over a
/// key whose search ran out of budget.
pub fn check(history: &[Operation], budget: SearchBudget) -> Verdict {
    let model = KvModel::default();
    let report = lincheck::check(&model, &model_history(history), Budget::Steps(budget.steps));
    match report.verdict {
        LinVerdict::Linearizable => Verdict::Linearizable,
        LinVerdict::Undecided { key, steps, .. } => Verdict::Unknown { key, steps },
        LinVerdict::Violation(violation) => Verdict::Violation(Violation {
            key: violation.key,
            ops: violation
                .ops
                .into_iter()
                .map(|i| (i, history[i].clone()))
                .collect(),
            minimal: violation.minimal,
            held_before: Vec::new(),
        }),
    }
}

/// Checks the sub-history of `history` on `key` alone.
pub fn check_key(history: &[Operation], key: &str, budget: SearchBudget) -> KeyCheck {
    let model = KvModel::default();
    let converted = model_history(history);
    let indices: Vec<usize> = (0..history.len())
        .filter(|&i| history[i].op.key() == key)
        .collect();
    let calls = Call::of(&model, &converted, &indices);
    let limit = Limit {
        max_steps: budget.steps,
        deadline: None,
        stop: None,
    };
    let searched = search(&model, &calls, &limit, false);
    let result = match searched.result {
        lincheck::SearchResult::Linearizable => SearchResult::Linearizable,
        lincheck::SearchResult::NotLinearizable => SearchResult::NotLinearizable,
        lincheck::SearchResult::OutOfBudget | lincheck::SearchResult::Stopped => {
            SearchResult::OutOfSteps
        }
    };
    KeyCheck {
        result,
        steps: searched.steps,
    }
}

/// A picture of `violation` ([`crate::lincheck::svg`]): its operations on a time line, a
/// row per client, with the longest order of them that can be linearized.
pub fn violation_svg(violation: &Violation) -> String {
    let ops: Vec<Operation> = violation.ops.iter().map(|(_, op)| op.clone()).collect();
    let history = model_history(&ops);
    let model = KvModel::default();
    let all: Vec<usize> = (0..ops.len()).collect();
    let shown = lincheck::Violation {
        key: violation.key.clone(),
        ops: all.clone(),
        minimal: violation.minimal,
        partition: all.clone(),
    };
    let limit = Limit {
        max_steps: SearchBudget::default().steps,
        deadline: None,
        stop: None,
    };
    let longest = lincheck::check::longest_order(&model, &history, &all, &limit);
    lincheck::svg::violation(&model, &history, &shown, &longest)
}

/// Operations with their indices in the whole history.
type Indexed = Vec<(usize, Operation)>;

/// The state of one key as the key-value model keeps it.
type KeyState = <KvModel as Model>::State;

/// How many new operations a key gathers before its window is closed.
pub const WINDOW_OPS: usize = 128;

/// A history checked in windows as it grows (see the module docs): push finished
/// operations in the order they were invoked, ask for the [`verdict`](Self::verdict) at any
/// time. Memory holds per key the operations since its last cut, those carried across
/// it, the configurations at it, and the last closed window (to explain a violation).
///
/// The one way its answer can differ from [`check`]'s: the budget counts per window, not per
/// key, so a long key that the whole check would give up on (`Unknown`) may be decided
/// here; and a violation found in a closed window is the one reported, whatever later
/// keys show.
#[derive(Debug)]
pub struct WindowedHistory {
    budget: SearchBudget,
    window_ops: usize,
    keys: BTreeMap<String, KeyWindows>,
    /// How many operations were pushed: the next one's index in the whole history.
    pushed: usize,
    /// When the last one pushed was invoked.
    last_invoke_us: u64,
    /// Whether a window was closed. Until then the history is whole, and the verdict is
    /// [`check`]'s on it, word for word.
    windowed: bool,
    /// The first violation a closed window showed: it stands whatever comes after.
    violation: Option<Violation>,
    /// The first key whose window search ran out of budget, with the steps it took.
    undecided: Option<(String, u64)>,
}

/// One key's part of a [`WindowedHistory`].
#[derive(Debug)]
struct KeyWindows {
    /// The operations carried across the last cut (the first `carried`), then those
    /// invoked after it, each with its index in the whole history.
    ops: Vec<(usize, Operation)>,
    carried: usize,
    /// Every configuration the key may be in at the last cut; `done` covers the carried
    /// operations.
    configs: Vec<Config<KeyState>>,
    /// The last closed window's operations, and the values the key may have held before
    /// it (empty: nothing was summarised, the window starts the key's history).
    context: Vec<(usize, Operation)>,
    context_values: Vec<KeyState>,
    /// How many operations the key had in all: keys are searched largest first.
    total: usize,
    /// A window of the key was not linearizable or ran out of budget: the verdict is
    /// known, and its operations are no longer kept.
    settled: bool,
}

impl Default for KeyWindows {
    fn default() -> Self {
        KeyWindows {
            ops: Vec::new(),
            carried: 0,
            configs: vec![Config {
                state: KvModel::default().init(),
                done: Vec::new(),
            }],
            context: Vec::new(),
            context_values: Vec::new(),
            total: 0,
            settled: false,
        }
    }
}

impl WindowedHistory {
    /// A history whose keys close a window every `window_ops` new operations.
    pub fn new(budget: SearchBudget, window_ops: usize) -> WindowedHistory {
        WindowedHistory {
            budget,
            window_ops: window_ops.max(1),
            keys: BTreeMap::new(),
            pushed: 0,
            last_invoke_us: 0,
            windowed: false,
            violation: None,
            undecided: None,
        }
    }

    /// How many operations were pushed.
    pub fn len(&self) -> usize {
        self.pushed
    }

    pub fn is_empty(&self) -> bool {
        self.pushed == 0
    }

    /// Whether a window was closed (until then every operation is kept).
    pub fn windowed(&self) -> bool {
        self.windowed
    }

    /// How many operations are kept now, carried and context included.
    pub fn kept(&self) -> usize {
        let key = |k: &KeyWindows| k.ops.len() + k.context.len();
        self.keys.values().map(key).sum()
    }

    /// Adds finished operations, invoked no earlier than those pushed before, and closes
    /// the windows of keys with enough new operations.
    pub fn push(&mut self, operations: impl IntoIterator<Item = Operation>) {
        for operation in operations {
            debug_assert!(
                operation.invoke_us >= self.last_invoke_us,
                "operations are pushed in the order they were invoked"
            );
            self.last_invoke_us = operation.invoke_us;
            let index = self.pushed;
            self.pushed += 1;
            let key = self.keys.entry(operation.op.key().to_string()).or_default();
            key.total += 1;
            if !key.settled {
                key.ops.push((index, operation));
            }
        }
        let model = KvModel::default();
        for (name, key) in &mut self.keys {
            if key.settled || key.ops.len() - key.carried < self.window_ops {
                continue;
            }
            let Some(split) = key.split() else {
                continue;
            };
            self.windowed = true;
            match key.close(&model, split, self.budget) {
                SearchResult::Linearizable => {}
                SearchResult::NotLinearizable => {
                    let failing = std::mem::take(&mut key.ops);
                    let violation = key.explain(name, &failing, self.budget);
                    self.violation.get_or_insert(violation);
                    key.settle();
                }
                SearchResult::OutOfSteps => {
                    self.undecided
                        .get_or_insert((name.clone(), self.budget.steps));
                    key.settle();
                }
            }
        }
    }

    /// The verdict on the operations pushed and then `rest` (not pushed: still in
    /// progress, or newer), as [`check`] gives it on the whole history. The operations of
    /// `rest` are numbered after those pushed.
    pub fn verdict(&self, rest: &[Operation]) -> Verdict {
        if !self.windowed {
            return check(&self.whole(rest), self.budget);
        }
        if let Some(violation) = &self.violation {
            return Verdict::Violation(violation.clone());
        }
        let mut rest_by_key: BTreeMap<&str, Vec<(usize, Operation)>> = BTreeMap::new();
        for (offset, operation) in rest.iter().enumerate() {
            let entry = rest_by_key.entry(operation.op.key()).or_default();
            entry.push((self.pushed + offset, operation.clone()));
        }
        let empty = KeyWindows::default();
        let names: BTreeSet<&str> = self
            .keys
            .keys()
            .map(String::as_str)
            .chain(rest_by_key.keys().copied())
            .collect();
        let mut order: Vec<(&str, &KeyWindows, Indexed)> = names
            .into_iter()
            .map(|name| {
                let key = self.keys.get(name).unwrap_or(&empty);
                (name, key, rest_by_key.remove(name).unwrap_or_default())
            })
            .collect();
        order.sort_by_key(|(_, key, rest)| std::cmp::Reverse(key.total + rest.len()));
        let mut undecided = self.undecided.clone();
        let model = KvModel::default();
        for (name, key, rest) in order {
            if key.settled {
                continue;
            }
            let mut ops = key.ops.clone();
            ops.extend(rest);
            match key.search(&model, &ops, None, self.budget).frontier {
                Frontier::Ends(_) => {}
                Frontier::NotLinearizable => {
                    return Verdict::Violation(key.explain(name, &ops, self.budget));
                }
                Frontier::OutOfBudget => {
                    undecided.get_or_insert((name.to_string(), self.budget.steps));
                }
            }
        }
        match undecided {
            Some((key, steps)) => Verdict::Unknown { key, steps },
            None => Verdict::Linearizable,
        }
    }

    /// Before any window closed: the whole history, in its order.
    fn whole(&self, rest: &[Operation]) -> Vec<Operation> {
        let mut indexed: Vec<&(usize, Operation)> =
            self.keys.values().flat_map(|key| &key.ops).collect();
        indexed.sort_unstable_by_key(|(index, _)| *index);
        let pushed = indexed.into_iter().map(|(_, operation)| operation.clone());
        pushed.chain(rest.iter().cloned()).collect()
    }
}

impl KeyWindows {
    /// Where to close the window: the latest new operation invoked after the one before
    /// it (the cut is its invoke), leaving it and those after it to the next window.
    fn split(&self) -> Option<usize> {
        let first_new = self.carried + 1;
        (first_new..self.ops.len())
            .rev()
            .find(|&i| self.ops[i].1.invoke_us > self.ops[i - 1].1.invoke_us)
    }

    /// Searches `ops` (the carried operations first) from the configurations at the last
    /// cut, up to `cut`.
    fn search(
        &self,
        model: &KvModel,
        ops: &[(usize, Operation)],
        cut: Option<u64>,
        budget: SearchBudget,
    ) -> lincheck::window::Searched<KeyState> {
        let plain: Vec<Operation> = ops.iter().map(|(_, op)| op.clone()).collect();
        let history = model_history(&plain);
        let starts = self
            .configs
            .iter()
            .map(|config| {
                let mut done = config.done.clone();
                done.resize(ops.len(), false);
                Config {
                    state: config.state.clone(),
                    done,
                }
            })
            .collect();
        frontier(model, &history, starts, cut, budget.steps)
    }

    /// Closes the window of the operations before `split`, at the invoke of the one at
    /// `split`: keeps the configurations at the cut and the operations carried across it.
    fn close(&mut self, model: &KvModel, split: usize, budget: SearchBudget) -> SearchResult {
        let cut = self.ops[split].1.invoke_us;
        let searched = self.search(model, &self.ops[..split], Some(cut), budget);
        let ends = match searched.frontier {
            Frontier::Ends(ends) => ends,
            Frontier::NotLinearizable => return SearchResult::NotLinearizable,
            Frontier::OutOfBudget => return SearchResult::OutOfSteps,
        };
        // Carried: what some configuration has not applied, unless it can change nothing.
        let carried: Vec<usize> = (0..split)
            .filter(|&i| ends.iter().any(|end| !end.done[i]))
            .filter(|&i| !is_irrelevant(&self.ops[i].1))
            .collect();
        let mut configs: Vec<Config<KeyState>> = Vec::new();
        for end in ends {
            let config = Config {
                done: carried.iter().map(|&i| end.done[i]).collect(),
                state: end.state,
            };
            if !configs.contains(&config) {
                configs.push(config);
            }
        }
        let mut values: Vec<KeyState> = Vec::new();
        for config in &self.configs {
            if !values.contains(&config.state) {
                values.push(config.state.clone());
            }
        }
        // A key absent is a key at its start: nothing to stand in for.
        self.context_values = if values == [model.init()] {
            Vec::new()
        } else {
            values
        };
        let rest = self.ops.split_off(split);
        let window = std::mem::take(&mut self.ops);
        self.ops = carried.iter().map(|&i| window[i].clone()).collect();
        self.ops.extend(rest);
        self.carried = carried.len();
        self.configs = configs;
        self.context = window;
        SearchResult::Linearizable
    }

    /// Lets go of the key's operations once its verdict is known.
    fn settle(&mut self) {
        self.settled = true;
        self.ops = Vec::new();
        self.context = Vec::new();
        self.configs = Vec::new();
        self.carried = 0;
    }

    /// A violation in `failing` (a window that no configuration at its start can order),
    /// shrunk from the last closed window and `failing`, with the values before them.
    fn explain(
        &self,
        key: &str,
        failing: &[(usize, Operation)],
        budget: SearchBudget,
    ) -> Violation {
        let mut by_index: BTreeMap<usize, &Operation> = BTreeMap::new();
        for (index, operation) in self.context.iter().chain(failing) {
            by_index.insert(*index, operation);
        }
        // The values before the context, as writes that all end at the start.
        let stand_ins: Vec<Operation> = self
            .context_values
            .iter()
            .map(|value| stand_in(key, value.as_deref()))
            .collect();
        let mut history: Vec<Operation> = stand_ins.clone();
        let mut indices: Vec<Option<usize>> = vec![None; stand_ins.len()];
        for (index, operation) in by_index {
            history.push(operation.clone());
            indices.push(Some(index));
        }
        let held_before = |values: &[KeyState]| -> Vec<Option<String>> {
            values
                .iter()
                .map(|value| value.as_deref().map(str::to_string))
                .collect()
        };
        if let Verdict::Violation(shrunk) = check(&history, budget) {
            // The set was judged after the values before it, which stay in the report
            // even when the set fails without them: the writes it may have seen are gone.
            let ops = shrunk
                .ops
                .into_iter()
                .filter_map(|(i, operation)| indices[i].map(|index| (index, operation)))
                .collect();
            return Violation {
                key: key.to_string(),
                ops,
                minimal: shrunk.minimal,
                held_before: held_before(&self.context_values),
            };
        }
        // The summary lost what made the window fail (which operations in progress across
        // a cut each value had applied): show the failing window whole.
        let answered = failing
            .iter()
            .filter(|(_, operation)| matches!(operation.outcome, Outcome::Returned { .. }));
        Violation {
            key: key.to_string(),
            ops: answered.cloned().collect(),
            minimal: false,
            held_before: held_before(
                &self
                    .configs
                    .iter()
                    .map(|config| config.state.clone())
                    .collect::<Vec<_>>(),
            ),
        }
    }
}

/// An operation that constrains and changes nothing: a read with an unknown outcome.
fn is_irrelevant(operation: &Operation) -> bool {
    operation.op.is_read() && operation.outcome == Outcome::Unknown
}

/// A write that leaves `key` at `value`, at the very start: what an explanation puts in
/// place of the summarised operations.
fn stand_in(key: &str, value: Option<&str>) -> Operation {
    let op = match value {
        Some(value) => KvOp::Put {
            key: key.to_string(),
            value: value.to_string(),
        },
        None => KvOp::Del {
            key: key.to_string(),
        },
    };
    Operation {
        client: 0,
        op,
        invoke_us: 0,
        outcome: Outcome::Returned {
            output: KvOutput::Ok,
            response_us: 0,
        },
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::cluster::kv::KvMap;

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
    fn a_violation_is_drawn_with_its_operations_highlighted() {
        let history = [
            done(1, put("x", "1"), (0, 10), KvOutput::Ok),
            done(2, put("x", "2"), (20, 30), KvOutput::Ok),
            done(3, get("x"), (40, 50), value("1")),
        ];
        let svg = violation_svg(&violation(&history));
        let document = roxmltree::Document::parse(&svg).expect("the picture is XML");
        let red = document
            .descendants()
            .filter(|n| n.has_tag_name("rect") && n.attribute("fill") == Some("#f4a3a8"))
            .count();
        assert_eq!(red, 3, "{svg}");
        for label in [
            "put x 1 -&gt; ok",
            "put x 2 -&gt; ok",
            "get x -&gt; 1",
            "client 3",
        ] {
            assert!(svg.contains(label), "{label} missing: {svg}");
        }
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

    /// `history` in the order a cluster records it: by invoke time.
    fn in_invoke_order(mut history: Vec<Operation>) -> Vec<Operation> {
        history.sort_by_key(|operation| operation.invoke_us);
        history
    }

    /// The verdict of `history` pushed `batch` operations at a time into windows of
    /// `window_ops`, the last `open` operations left unpushed (as if still in progress).
    fn windowed(
        history: &[Operation],
        window_ops: usize,
        batch: usize,
        open: usize,
    ) -> (Verdict, bool) {
        let mut windows = WindowedHistory::new(SearchBudget::default(), window_ops);
        let pushed = history.len() - open.min(history.len());
        for chunk in history[..pushed].chunks(batch.max(1)) {
            windows.push(chunk.iter().cloned());
        }
        (windows.verdict(&history[pushed..]), windows.windowed())
    }

    fn kind(verdict: &Verdict) -> &'static str {
        match verdict {
            Verdict::Linearizable => "linearizable",
            Verdict::Violation(_) => "violation",
            Verdict::Unknown { .. } => "unknown",
        }
    }

    #[test]
    fn a_history_never_windowed_gets_the_whole_check_word_for_word() {
        let mut history = in_invoke_order(generated_history(3, 300, 4, 6));
        if let Outcome::Returned { output, .. } = &mut history[200].outcome {
            *output = value("corrupted");
        }
        let (verdict, was_windowed) = windowed(&history, 1000, 7, 5);
        assert!(!was_windowed);
        assert_eq!(verdict, check(&history, SearchBudget::default()));
    }

    #[test]
    fn windowed_and_whole_agree_on_linearizable_histories() {
        for seed in 0..6 {
            let history = in_invoke_order(generated_history(seed, 1500, 5, 8));
            for (window_ops, batch) in [(4, 1), (16, 50), (64, 333)] {
                let (verdict, was_windowed) = windowed(&history, window_ops, batch, 3);
                assert!(was_windowed);
                assert_eq!(
                    verdict,
                    Verdict::Linearizable,
                    "seed {seed} window {window_ops}"
                );
            }
        }
    }

    /// Generated histories with writes whose clients gave up, and some with one read
    /// corrupted: checked in windows of every size, the verdict is the whole check's.
    #[test]
    fn windowed_and_whole_agree_with_unknown_outcomes_and_violations() {
        let mut violations = 0;
        for seed in 0..40 {
            let mut rng = ChaCha8Rng::seed_from_u64(1000 + seed);
            let mut history = in_invoke_order(generated_history(seed, 400, 3, 6));
            for operation in &mut history {
                if !operation.op.is_read() && rng.random_bool(0.05) {
                    operation.outcome = Outcome::Unknown;
                }
            }
            if seed % 2 == 1 {
                let from = rng.random_range(0..history.len());
                let read = (from..history.len()).find(|&i| {
                    history[i].op.is_read()
                        && matches!(history[i].outcome, Outcome::Returned { .. })
                });
                if let Some(read) = read
                    && let Outcome::Returned { output, .. } = &mut history[read].outcome
                {
                    *output = value("corrupted");
                }
            }
            let whole = check(&history, SearchBudget::default());
            violations += usize::from(matches!(whole, Verdict::Violation(_)));
            for (window_ops, batch) in [(2, 1), (5, 9), (30, 64)] {
                let (verdict, _) = windowed(&history, window_ops, batch, 2);
                assert_eq!(
                    kind(&verdict),
                    kind(&whole),
                    "seed {seed} window {window_ops}"
                );
            }
        }
        assert!(
            violations >= 10,
            "only {violations} histories had a violation"
        );
    }

    #[test]
    fn a_stale_read_right_after_a_cut_is_named_with_the_writes_before_it() {
        let history = [
            done(1, put("x", "1"), (0, 10), KvOutput::Ok),
            done(2, put("x", "2"), (20, 30), KvOutput::Ok),
            done(1, get("x"), (40, 50), value("2")),
            done(3, get("x"), (60, 70), value("1")),
        ];
        let mut windows = WindowedHistory::new(SearchBudget::default(), 3);
        windows.push(history.iter().cloned());
        assert!(
            windows.windowed(),
            "the first three close a window before the read"
        );
        let Verdict::Violation(violation) = windows.verdict(&[]) else {
            panic!("the stale read was not found");
        };
        let indices: Vec<usize> = violation.ops.iter().map(|(i, _)| *i).collect();
        assert_eq!(indices, [0, 1, 3], "{violation}");
        assert!(violation.held_before.is_empty());
        assert_eq!(violation.ops[2].1, history[3]);
    }

    #[test]
    fn a_violation_older_than_the_windows_kept_is_named_with_the_values_before() {
        let mut history = vec![
            done(1, put("x", "1"), (0, 10), KvOutput::Ok),
            done(2, put("x", "2"), (20, 30), KvOutput::Ok),
        ];
        for i in 0..6 {
            let start = 40 + 20 * i;
            history.push(done(1, get("x"), (start, start + 10), value("2")));
        }
        history.push(done(3, get("x"), (200, 210), value("1")));
        let mut windows = WindowedHistory::new(SearchBudget::default(), 2);
        for operation in &history {
            windows.push([operation.clone()]);
        }
        let Verdict::Violation(violation) = windows.verdict(&[]) else {
            panic!("the stale read was not found");
        };
        assert_eq!(
            violation.held_before,
            [Some("2".to_string())],
            "{violation}"
        );
        assert_eq!(
            violation.ops.last().map(|(i, _)| *i),
            Some(history.len() - 1)
        );
        assert!(
            violation.to_string().contains("held one of: \"2\""),
            "{violation}"
        );
    }

    #[test]
    fn a_timed_out_append_across_many_windows_takes_effect_at_most_once() {
        let mut history = vec![timed_out(1, append("x", "a"), 0)];
        for i in 0..20 {
            let start = 10 + 20 * i;
            history.push(done(
                2,
                get("x"),
                (start, start + 10),
                KvOutput::Value(None),
            ));
        }
        history.push(done(2, get("x"), (500, 510), value("a")));
        history.push(done(2, get("x"), (520, 530), value("a")));
        let (verdict, was_windowed) = windowed(&history, 3, 1, 0);
        assert!(was_windowed);
        assert_eq!(verdict, Verdict::Linearizable);
        history.push(done(3, get("x"), (600, 610), value("aa")));
        let (verdict, _) = windowed(&history, 3, 1, 0);
        assert_eq!(kind(&verdict), "violation", "{verdict:?}");
    }

    #[test]
    fn memory_stays_flat_over_a_long_history() {
        let mut windows = WindowedHistory::new(SearchBudget::default(), 32);
        let mut most = 0;
        for i in 0..20_000u64 {
            let start = 10 * i;
            let key = format!("k{}", i % 10);
            windows.push([done(
                i % 4,
                put(&key, &i.to_string()),
                (start, start + 12),
                KvOutput::Ok,
            )]);
            most = most.max(windows.kept());
        }
        assert!(most < 10 * 3 * 40, "kept up to {most} operations");
        assert_eq!(windows.verdict(&[]), Verdict::Linearizable);
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
