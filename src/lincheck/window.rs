//! One window of a long history: every configuration the history may be in at a cut.
//!
//! [`super::search`] answers whether a whole history can be ordered, and stops at the first
//! order it finds. A history checked in windows needs more of each window: every way the
//! window's operations may leave the object at the cut, so that the next window starts
//! from all of them and its verdict is the one the whole history would get.
//!
//! A *cut* is an instant `T` before which every operation of the window was invoked and
//! at or after which every later one is. At the cut, an operation answered before `T` must
//! be linearized already: it precedes every later operation in real time. One answered at
//! `T` or after, or never (an unknown outcome), may go either side: it is *carried*, and
//! a configuration says which carried operations it has linearized. So a window's end is
//! a set of [`Config`]s, each a model state with the window's operations it linearized;
//! the next window searches its own operations and the carried ones from each of them.
//!
//! The search is exhaustive over configurations (linearized set, state), each explored
//! once, as in Lowe's cache; a branch ends where every operation that must precede the
//! cut is linearized (linearizing the carried ones first in the next window reaches
//! everything going on would). A history with few overlapping operations has few
//! configurations, so a window costs about as much as checking it once.

use std::collections::HashSet;

use super::{Model, Operation};

/// A state of the object with the operations (positions in the searched slice) already
/// linearized.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Config<S> {
    pub state: S,
    /// `done[i]`: operation `i` of the searched slice is linearized.
    pub done: Vec<bool>,
}

/// What a window's search found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frontier<S> {
    /// Every configuration the window may end in at the cut, at least one.
    Ends(Vec<Config<S>>),
    /// No configuration it started from can order the window's operations.
    NotLinearizable,
    /// The budget ran out first.
    OutOfBudget,
}

/// [`frontier`]'s answer and the steps it took (one step: one operation tried in one
/// configuration).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Searched<S> {
    pub frontier: Frontier<S>,
    pub steps: u64,
}

/// Every configuration `ops` may be in at `cut` (`None`: the end of the history, where
/// every answered operation must be linearized), from any of `starts`, within
/// `max_steps`. `ops` are one partition's; every start's `done` has one flag per op. An
/// op with an unknown outcome that changes nothing constrains nothing and is never tried.
pub fn frontier<M: Model>(
    model: &M,
    ops: &[Operation<M::Input, M::Output>],
    starts: Vec<Config<M::State>>,
    cut: Option<u64>,
    max_steps: u64,
) -> Searched<M::State> {
    let mut order: Vec<usize> = (0..ops.len()).collect();
    order.sort_by_key(|&i| (ops[i].invoke, i));
    let mut must = vec![0; ops.len().div_ceil(64)];
    for (position, &op) in order.iter().enumerate() {
        let before_cut = match (ops[op].returned(), cut) {
            (Some(_), None) => true,
            (Some((_, response)), Some(cut)) => response < cut,
            (None, _) => false,
        };
        if before_cut {
            set(&mut must, position);
        }
    }
    let search = Window {
        model,
        ops,
        order: &order,
        must,
    };
    search.run(starts, max_steps)
}

struct Window<'a, M: Model> {
    model: &'a M,
    ops: &'a [Operation<M::Input, M::Output>],
    /// Positions of `ops` by invoke time; a configuration's bits follow this order.
    order: &'a [usize],
    /// The positions that must be linearized at the cut: answered before it.
    must: Bits,
}

/// Linearized operations, one bit per position in invoke order.
type Bits = Vec<u64>;

fn bit(bits: &Bits, position: usize) -> bool {
    bits[position / 64] & (1 << (position % 64)) != 0
}

fn set(bits: &mut Bits, position: usize) {
    bits[position / 64] |= 1 << (position % 64);
}

impl<M: Model> Window<'_, M> {
    fn run(&self, starts: Vec<Config<M::State>>, max_steps: u64) -> Searched<M::State> {
        let words = self.ops.len().div_ceil(64);
        let mut seen: HashSet<(Bits, M::State)> = HashSet::new();
        let mut stack: Vec<(Bits, M::State)> = Vec::new();
        for start in starts {
            let mut bits = vec![0; words];
            for (position, &op) in self.order.iter().enumerate() {
                if start.done.get(op).copied().unwrap_or(false) {
                    set(&mut bits, position);
                }
            }
            if seen.insert((bits.clone(), start.state.clone())) {
                stack.push((bits, start.state));
            }
        }
        let mut ends = Vec::new();
        let mut steps = 0;
        while let Some((bits, state)) = stack.pop() {
            if self.at_cut(&bits) {
                ends.push(self.config(&bits, state));
                continue;
            }
            for position in self.eligible(&bits) {
                if steps >= max_steps {
                    return Searched {
                        frontier: Frontier::OutOfBudget,
                        steps,
                    };
                }
                steps += 1;
                let op = &self.ops[self.order[position]];
                let output = op.returned().map(|(output, _)| output);
                let Some(next) = self.model.step(&state, &op.input, output) else {
                    continue;
                };
                let mut next_bits = bits.clone();
                set(&mut next_bits, position);
                if seen.insert((next_bits.clone(), next.clone())) {
                    stack.push((next_bits, next));
                }
            }
        }
        let frontier = if ends.is_empty() {
            Frontier::NotLinearizable
        } else {
            Frontier::Ends(ends)
        };
        Searched { frontier, steps }
    }

    /// Whether every operation that must precede the cut is linearized.
    fn at_cut(&self, bits: &Bits) -> bool {
        bits.iter()
            .zip(&self.must)
            .all(|(done, must)| done & must == *must)
    }

    /// The positions that may be linearized next: not linearized yet, and invoked no later
    /// than every answer still missing (an op answered before another's invoke precedes
    /// it). Ops come in invoke order, so the first one invoked after the earliest missing
    /// answer ends the list.
    fn eligible(&self, bits: &Bits) -> Vec<usize> {
        let mut earliest_response = u64::MAX;
        let mut eligible = Vec::new();
        let mut position = 0;
        while position < self.order.len() {
            let word = position / 64;
            if bits[word] == u64::MAX {
                // 64 ops linearized: nothing to try, no answer missing.
                position = (word + 1) * 64;
                continue;
            }
            let here = position;
            position += 1;
            if bit(bits, here) {
                continue;
            }
            let operation = &self.ops[self.order[here]];
            if operation.invoke > earliest_response {
                break;
            }
            match operation.returned() {
                Some((_, response)) => earliest_response = earliest_response.min(response),
                None if self.model.is_effect_free(&operation.input, None) => continue,
                None => {}
            }
            eligible.push(here);
        }
        eligible
    }

    fn config(&self, bits: &Bits, state: M::State) -> Config<M::State> {
        let mut done = vec![false; self.ops.len()];
        for (position, &op) in self.order.iter().enumerate() {
            done[op] = bit(bits, position);
        }
        Config { state, done }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::kv::{KvOp, KvOutput};
    use crate::lincheck::Outcome;
    use crate::lincheck::kv::{KvModel, KvReply};

    fn put(value: &str, invoke: u64, response: Option<u64>) -> Operation<KvOp, KvReply> {
        Operation {
            client: 1,
            input: KvOp::Put {
                key: "x".into(),
                value: value.into(),
            },
            invoke,
            outcome: match response {
                Some(response) => Outcome::Returned {
                    output: KvReply::Output(KvOutput::Ok),
                    response,
                },
                None => Outcome::Unknown,
            },
        }
    }

    fn ends(
        ops: &[Operation<KvOp, KvReply>],
        cut: Option<u64>,
    ) -> Vec<(Option<String>, Vec<bool>)> {
        let model = KvModel::default();
        let start = Config {
            state: model.init(),
            done: vec![false; ops.len()],
        };
        let Frontier::Ends(ends) = frontier(&model, ops, vec![start], cut, 1000).frontier else {
            panic!("no ends");
        };
        let mut ends: Vec<_> = ends
            .into_iter()
            .map(|end| (end.state.as_deref().map(str::to_string), end.done))
            .collect();
        ends.sort();
        ends
    }

    #[test]
    fn two_concurrent_writes_before_the_cut_leave_either_value() {
        let ops = [put("1", 0, Some(10)), put("2", 5, Some(15))];
        let states: Vec<Option<String>> = ends(&ops, Some(20)).into_iter().map(|e| e.0).collect();
        assert_eq!(states, [Some("1".into()), Some("2".into())]);
    }

    #[test]
    fn a_write_answered_after_the_cut_is_carried_or_applied() {
        let ops = [put("1", 0, Some(10)), put("2", 5, Some(30))];
        assert_eq!(
            ends(&ops, Some(20)),
            [
                (Some("1".into()), vec![true, false]),
                (Some("1".into()), vec![true, true]),
            ]
        );
        // At the end of the history, every answered write is applied.
        let states: Vec<Option<String>> = ends(&ops, None).into_iter().map(|e| e.0).collect();
        assert_eq!(states, [Some("1".into()), Some("2".into())]);
    }

    #[test]
    fn a_write_with_an_unknown_outcome_is_never_required() {
        let ops = [put("1", 0, None)];
        assert_eq!(ends(&ops, None), [(None, vec![false])]);
    }
}
