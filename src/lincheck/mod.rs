//! The linearizability checker: one search over any sequential model, and the tool that
//! runs it on histories from elsewhere (`raftlab lincheck`).
//!
//! A history is what the clients saw: each operation with the time it was invoked, and
//! either its output and the time the answer came back, or nothing (the client gave up).
//! The history is *linearizable* if every operation can be given a single instant between
//! its invoke and its response such that applying the operations one by one, in the order
//! of those instants, to the model's initial state yields exactly the outputs the clients
//! saw.
//!
//! # The model
//!
//! A [`Model`] says what a correct sequential object does: its initial state, and for a
//! state, an input and the output a client saw, the next state or `None` when that output
//! is impossible there. States must compare and hash, since the search remembers them.
//! Two models come with raftlab: [`kv::KvModel`], the cluster's key-value store (the rules
//! of [`crate::cluster::kv::KvMap`]), and [`register::RegisterModel`], a register with
//! read, write and compare-and-set, the object of Jepsen's etcd tests. A model may also
//! split a history into *partitions* (keys) whose operations commute with the others', and
//! say which operations change nothing, which the shrinking uses.
//!
//! # The search
//!
//! The checker is Wing and Gong's search with Lowe's improvements, the algorithm Porcupine
//! uses ([`search`]). Each partition is searched alone: operations on different keys
//! commute, so a history is linearizable exactly when each key's sub-history is
//! (linearizability is *local*, Herlihy and Wing's theorem 1). Partitions run on all cores,
//! largest first ([`check`]); the first violation stops the others.
//!
//! # Unknown outcomes
//!
//! A client that times out does not know whether its operation took effect: it may have
//! taken effect at any instant after its invoke, or never, and its output is unknown. Such
//! an operation is read as one whose response comes at infinity with any output. It never
//! blocks the search, since it can always be linearized after everything else, which is the
//! same as never happening; the search is done when all operations *with* a response are
//! linearized. An operation with an unknown outcome that changes nothing (a read) constrains
//! nothing and is left out. A known failure whose detail is unknown (Jepsen's `:fail` of a
//! `cas` does not say what value it found) is an output of its own, which the model
//! accepts wherever the failure was possible.
//!
//! # Budgets
//!
//! Every search is bounded by a [`Budget`]: a count of steps per partition (deterministic,
//! what the cluster's seeded checks use) or a time limit (what a person running the tool
//! gives, `--timeout`). A partition whose search runs out is *undecided*; a violation
//! anywhere wins over that. Shrinking a violation ([`shrink`]) has a budget of its own and
//! says whether it finished.
//!
//! # The tool
//!
//! [`files`] reads three formats of history into one of the two models, [`svg`] draws a
//! violation on a time line, and [`tool`] is `raftlab lincheck`: read, check, report, exit
//! with 0 (linearizable), 1 (not), 2 (bad input) or 3 (undecided).

pub mod check;
pub mod files;
mod hash;
pub mod kv;
pub mod register;
pub mod search;
pub mod shrink;
pub mod svg;
pub mod tool;
pub mod window;

use std::hash::Hash;
use std::time::Duration;

pub use check::{Violation, check};

/// A sequential object: what a correct implementation does, one operation at a time.
pub trait Model: Sync {
    /// What a client asks.
    type Input: Sync;
    /// What a client is told.
    type Output: Sync;
    /// The object's state; the search caches the states it has seen.
    type State: Clone + Eq + Hash + Send;

    fn init(&self) -> Self::State;

    /// The state after `input` applied to `state`, if the client could see `output` there
    /// (`None` for `output`: the output is unknown and anything goes).
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: Option<&Self::Output>,
    ) -> Option<Self::State>;

    /// The partition (key) an operation belongs to; operations of different partitions
    /// must commute. One partition unless the model says otherwise.
    fn partition<'a>(&self, _input: &'a Self::Input) -> &'a str {
        ""
    }

    /// Whether the operation, with this output, cannot change the state (a read, a failed
    /// compare-and-set). Shrinking drops such operations instead of relaxing them.
    fn is_effect_free(&self, _input: &Self::Input, _output: Option<&Self::Output>) -> bool {
        false
    }

    /// For each of `early` (operations that changed something), whether one of `late` may
    /// have seen its effect. Shrinking keeps those when it cuts the early part of a history
    /// away. The cautious default says yes to all.
    fn may_be_seen(
        &self,
        early: &[(&Self::Input, Option<&Self::Output>)],
        _late: &[(&Self::Input, Option<&Self::Output>)],
    ) -> Vec<bool> {
        vec![true; early.len()]
    }

    /// How a report names one partition: the key (`key "x"`), or for a model of one
    /// object, which has one partition, the object.
    fn name_partition(&self, _partition: &str) -> String {
        "the object".to_string()
    }

    /// The operation in words (`put x 1`, `cas 1 2`).
    fn describe_input(&self, input: &Self::Input) -> String;

    /// The output in words (`ok`, `3`, `fail`).
    fn describe_output(&self, input: &Self::Input, output: &Self::Output) -> String;
}

/// The most characters of an operation or output a report spells out.
pub const WORDS_SHOWN: usize = 60;

/// `text` cut to [`WORDS_SHOWN`] characters, saying how long it was: a 2 MB value would
/// otherwise fill the report (and the picture).
pub fn clip(text: String) -> String {
    let length = text.chars().count();
    if length <= WORDS_SHOWN {
        return text;
    }
    let kept: String = text.chars().take(WORDS_SHOWN).collect();
    format!("{kept}… ({length} characters)")
}

/// One client operation as the client saw it. Times are in any one unit (the cluster uses
/// microseconds; a file read by the tool, its own clock or the line order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation<I, O> {
    pub client: u64,
    pub input: I,
    pub invoke: u64,
    pub outcome: Outcome<O>,
}

/// How an operation ended, for the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome<O> {
    /// The client was told `output` at `response`. A response before the invoke (bad
    /// input) is read as a response at the invoke.
    Returned { output: O, response: u64 },
    /// The client gave up: the operation may have taken effect at any time after its
    /// invoke, or never, and its output is unknown.
    Unknown,
}

impl<I, O> Operation<I, O> {
    /// The output and response time, if the client got an answer.
    pub fn returned(&self) -> Option<(&O, u64)> {
        match &self.outcome {
            Outcome::Returned { output, response } => Some((output, (*response).max(self.invoke))),
            Outcome::Unknown => None,
        }
    }
}

/// How much work a check may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// At most this many search steps per partition, and as many again for shrinking a
    /// violation: deterministic, so a seeded run gives the same answer on any machine.
    Steps(u64),
    /// At most this long for the whole search; shrinking then gets a quarter as long as
    /// search took, at least 0.25 ms and at most a tenth of this.
    Time(Duration),
}

impl Default for Budget {
    fn default() -> Self {
        Budget::Time(Duration::from_secs(10))
    }
}

/// The result of searching one partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchResult {
    Linearizable,
    NotLinearizable,
    /// The budget ran out before the search could tell.
    OutOfBudget,
    /// Another partition's violation stopped this one.
    Stopped,
}
