//! A register with read, write and compare-and-set: the object of Jepsen's etcd tests.
//!
//! Values are names (`3`, `"a"`) turned into small numbers when a history is read
//! ([`RegisterModel::value`]), so a step compares and hashes a number; `None` is the
//! register before any write (Jepsen's `nil`). A `cas` that failed is accepted wherever the
//! register did not hold its expected value: Jepsen records no more than that.

use std::collections::HashMap;

use super::Model;

/// A value, as a number given by [`RegisterModel::value`].
pub type Value = u32;

/// What a client asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegisterOp {
    Read,
    Write(Value),
    /// Sets the register to the second value if it holds the first.
    Cas(Value, Value),
}

/// What a client was told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegisterReply {
    /// A read's value (`None`: never written).
    Read(Option<Value>),
    /// A write or cas took effect.
    Ok,
    /// A cas did not take effect.
    Fail,
}

/// One register; it knows the names of its values.
#[derive(Clone, Debug, Default)]
pub struct RegisterModel {
    names: Vec<String>,
    numbers: HashMap<String, Value>,
}

impl RegisterModel {
    /// The number of the value called `name`, given on first use.
    pub fn value(&mut self, name: &str) -> Value {
        if let Some(&number) = self.numbers.get(name) {
            return number;
        }
        let number = Value::try_from(self.names.len()).unwrap_or(Value::MAX);
        self.names.push(name.to_string());
        self.numbers.insert(name.to_string(), number);
        number
    }

    /// The name of value `number`.
    pub fn name(&self, number: Value) -> &str {
        self.names.get(number as usize).map_or("?", String::as_str)
    }
}

impl Model for RegisterModel {
    type Input = RegisterOp;
    type Output = RegisterReply;
    type State = Option<Value>;

    fn init(&self) -> Option<Value> {
        None
    }

    fn step(
        &self,
        state: &Option<Value>,
        input: &RegisterOp,
        output: Option<&RegisterReply>,
    ) -> Option<Option<Value>> {
        match (*input, output.copied()) {
            (RegisterOp::Read, None) => Some(*state),
            (RegisterOp::Read, Some(RegisterReply::Read(value))) => {
                (value == *state).then_some(*state)
            }
            (RegisterOp::Write(value), None | Some(RegisterReply::Ok)) => Some(Some(value)),
            (RegisterOp::Cas(from, to), None) => Some(if *state == Some(from) {
                Some(to)
            } else {
                *state
            }),
            (RegisterOp::Cas(from, to), Some(RegisterReply::Ok)) => {
                (*state == Some(from)).then_some(Some(to))
            }
            (RegisterOp::Cas(from, _), Some(RegisterReply::Fail)) => {
                (*state != Some(from)).then_some(*state)
            }
            _ => None,
        }
    }

    fn is_effect_free(&self, input: &RegisterOp, output: Option<&RegisterReply>) -> bool {
        *input == RegisterOp::Read || output == Some(&RegisterReply::Fail)
    }

    /// A write (or a cas that took effect) of a value may have been seen by a later op
    /// that read that value or expected it in a cas.
    fn may_be_seen(
        &self,
        early: &[(&RegisterOp, Option<&RegisterReply>)],
        late: &[(&RegisterOp, Option<&RegisterReply>)],
    ) -> Vec<bool> {
        let mut seen = std::collections::HashSet::new();
        for (input, output) in late {
            match (input, output) {
                (_, Some(RegisterReply::Read(Some(value)))) | (RegisterOp::Cas(value, _), _) => {
                    seen.insert(*value);
                }
                _ => {}
            }
        }
        let may_see = |input: &RegisterOp| match input {
            RegisterOp::Write(value) | RegisterOp::Cas(_, value) => seen.contains(value),
            RegisterOp::Read => false,
        };
        early.iter().map(|(input, _)| may_see(input)).collect()
    }

    fn name_partition(&self, _partition: &str) -> String {
        "the register".to_string()
    }

    fn describe_input(&self, input: &RegisterOp) -> String {
        match *input {
            RegisterOp::Read => "read".to_string(),
            RegisterOp::Write(value) => format!("write {}", self.name(value)),
            RegisterOp::Cas(from, to) => format!("cas {} {}", self.name(from), self.name(to)),
        }
    }

    fn describe_output(&self, _input: &RegisterOp, output: &RegisterReply) -> String {
        match *output {
            RegisterReply::Read(Some(value)) => self.name(value).to_string(),
            RegisterReply::Read(None) => "nil".to_string(),
            RegisterReply::Ok => "ok".to_string(),
            RegisterReply::Fail => "fail".to_string(),
        }
    }
}
