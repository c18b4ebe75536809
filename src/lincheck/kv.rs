//! The key-value store as a model: the cluster's own operations and rules, one key a
//! partition.
//!
//! A key's state is its value (`None`: absent). The rules are those of
//! [`KvMap::apply`](crate::cluster::kv::KvMap::apply), which the nodes' state machines use,
//! written here for one key so that a step allocates no map; a test holds the two to the
//! same answers. Porcupine's key-value histories read an absent key as the empty string,
//! which [`KvModel::absent_reads_empty`] allows.

use std::sync::Arc;

use crate::cluster::kv::{KvOp, KvOutput};

use super::Model;

/// What a client of the key-value store was told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KvReply {
    /// The store's own answer.
    Output(KvOutput),
    /// A `cas` failed, and the value it found is not known (Jepsen does not record it).
    CasFailed,
}

/// The key-value store, partitioned by key.
#[derive(Clone, Copy, Debug, Default)]
pub struct KvModel {
    /// Whether an absent key and an empty value are the same (Porcupine's store).
    pub absent_reads_empty: bool,
}

impl KvModel {
    fn same(&self, a: Option<&str>, b: Option<&str>) -> bool {
        if self.absent_reads_empty {
            a.unwrap_or("") == b.unwrap_or("")
        } else {
            a == b
        }
    }

    fn cas(&self, state: &Value, old: &str, new: &str, out: Option<&KvReply>) -> Step {
        let found = state.as_deref();
        if self.same(found, Some(old)) && (state.is_some() || self.absent_reads_empty) {
            return match out {
                None | Some(KvReply::Output(KvOutput::Ok)) => Some(Some(Arc::from(new))),
                _ => None,
            };
        }
        match out {
            None | Some(KvReply::CasFailed) => Some(state.clone()),
            Some(KvReply::Output(KvOutput::CasFailed { current })) => {
                self.same(found, current.as_deref()).then(|| state.clone())
            }
            _ => None,
        }
    }
}

/// A key's value; shared, so that the search copies a state without copying its text.
type Value = Option<Arc<str>>;

type Step = Option<Value>;

impl Model for KvModel {
    type Input = KvOp;
    type Output = KvReply;
    type State = Value;

    fn init(&self) -> Value {
        None
    }

    fn step(&self, state: &Value, input: &KvOp, output: Option<&KvReply>) -> Step {
        let written = matches!(output, None | Some(KvReply::Output(KvOutput::Ok)));
        match input {
            KvOp::Get { .. } => match output {
                None => Some(state.clone()),
                Some(KvReply::Output(KvOutput::Value(value))) => self
                    .same(state.as_deref(), value.as_deref())
                    .then(|| state.clone()),
                Some(_) => None,
            },
            KvOp::Put { value, .. } => written.then(|| Some(Arc::from(value.as_str()))),
            KvOp::Append { value, .. } => {
                let appended = || {
                    let text = format!("{}{value}", state.as_deref().unwrap_or(""));
                    Some(Arc::from(text))
                };
                written.then(appended)
            }
            KvOp::Del { .. } => written.then_some(None),
            KvOp::Cas { old, new, .. } => self.cas(state, old, new, output),
        }
    }

    fn partition<'a>(&self, input: &'a KvOp) -> &'a str {
        input.key()
    }

    fn is_effect_free(&self, input: &KvOp, output: Option<&KvReply>) -> bool {
        let failed_cas = matches!(
            output,
            Some(KvReply::CasFailed | KvReply::Output(KvOutput::CasFailed { .. }))
        );
        input.is_read() || failed_cas
    }

    /// A change may have been seen by a later op whose observed value contains what it
    /// wrote, or, for a `del`, by a later op that saw the key absent or appended to it. A
    /// cautious textual guess: a false yes only keeps an op that shrinking can still relax.
    fn may_be_seen(
        &self,
        early: &[(&KvOp, Option<&KvReply>)],
        late: &[(&KvOp, Option<&KvReply>)],
    ) -> Vec<bool> {
        let seen: Vec<Option<&str>> = late.iter().filter_map(|(i, o)| observed(i, *o)).collect();
        let appends = late.iter().any(|(i, _)| matches!(i, KvOp::Append { .. }));
        let may_see = |input: &KvOp| match input {
            KvOp::Put { value, .. } | KvOp::Append { value, .. } | KvOp::Cas { new: value, .. } => {
                seen.iter().flatten().any(|s| s.contains(value.as_str()))
            }
            KvOp::Del { .. } => appends || seen.contains(&None),
            KvOp::Get { .. } => false,
        };
        early.iter().map(|(input, _)| may_see(input)).collect()
    }

    fn name_partition(&self, partition: &str) -> String {
        format!("key {partition:?}")
    }

    fn describe_input(&self, input: &KvOp) -> String {
        input.to_string()
    }

    fn describe_output(&self, _input: &KvOp, output: &KvReply) -> String {
        match output {
            KvReply::Output(output) => output.to_string(),
            KvReply::CasFailed => "cas failed".to_string(),
        }
    }
}

/// The value of the key an op saw, if it saw one.
fn observed<'a>(input: &'a KvOp, output: Option<&'a KvReply>) -> Option<Option<&'a str>> {
    match (input, output?) {
        (_, KvReply::Output(KvOutput::Value(value)))
        | (_, KvReply::Output(KvOutput::CasFailed { current: value })) => Some(value.as_deref()),
        (KvOp::Cas { old, .. }, KvReply::Output(KvOutput::Ok)) => Some(Some(old.as_str())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::cluster::kv::KvMap;

    /// The model's rules are the state machine's: for random ops on one key, the model
    /// accepts exactly the output `KvMap::apply` gives and reaches the same value.
    #[test]
    fn the_model_follows_the_state_machine() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut map = KvMap::default();
        let model = KvModel::default();
        let mut state = model.init();
        let values = ["", "a", "b", "ab"];
        for _ in 0..2000 {
            let pick = |rng: &mut ChaCha8Rng| values[rng.random_range(0..values.len())].to_string();
            let key = "k".to_string();
            let op = match rng.random_range(0..5) {
                0 => KvOp::Get { key },
                1 => KvOp::Put {
                    key,
                    value: pick(&mut rng),
                },
                2 => KvOp::Append {
                    key,
                    value: pick(&mut rng),
                },
                3 => KvOp::Del { key },
                _ => KvOp::Cas {
                    key,
                    old: pick(&mut rng),
                    new: pick(&mut rng),
                },
            };
            let output = KvReply::Output(map.apply(&op));
            let next = model.step(&state, &op, Some(&output));
            assert_eq!(
                next.as_ref().map(|s| s.as_deref()),
                Some(map.get("k")),
                "{op}"
            );
            let wrong = KvReply::Output(KvOutput::Value(Some("never".into())));
            assert_eq!(model.step(&state, &op, Some(&wrong)), None, "{op}");
            state = next.unwrap_or_default();
        }
    }

    #[test]
    fn a_failed_cas_with_an_unknown_found_value_fits_any_other_value() {
        let model = KvModel::default();
        let cas = KvOp::Cas {
            key: "k".into(),
            old: "1".into(),
            new: "2".into(),
        };
        let failed = Some(&KvReply::CasFailed);
        assert_eq!(
            model.step(&Some("3".into()), &cas, failed),
            Some(Some("3".into()))
        );
        assert_eq!(model.step(&None, &cas, failed), Some(None));
        assert_eq!(model.step(&Some("1".into()), &cas, failed), None);
    }
}
