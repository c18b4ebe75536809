//! The scenario file as YAML has it, before any value is read.
//!
//! Every value that can be of the wrong kind (a number where the cluster's mapping
//! belongs, a list where a step's text belongs) is a [`Shape`]: it deserializes whatever
//! the YAML holds and records a wrong kind instead of failing, wrapped in [`Spanned`] so the
//! loader can say where it is and name the key. (serde-saphyr's own type errors from inside
//! a visitor carry the position of the enclosing key at best.)

use std::fmt::{self, Formatter};
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// A value of the kind `T` accepts, or what was found instead.
pub enum Shape<T> {
    Good(T),
    /// What the YAML held: `the number 5`, `a list`, ...
    Wrong(String),
}

/// A value that may be missing, with its position.
pub type Field<T> = Option<Spanned<Shape<T>>>;

/// What a kind of value accepts. Each method gets one kind of YAML node; the defaults
/// refuse it (a refused list or mapping is read through and ignored).
pub trait Accept<'de>: Sized {
    /// What is expected, for the error message: `a node count`, `text (a string)`.
    const WHAT: &'static str;

    fn string(_text: &str) -> Option<Self> {
        None
    }

    /// A number or a boolean, as text.
    fn scalar(_text: String) -> Option<Self> {
        None
    }

    fn seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Option<Self>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn map<A: MapAccess<'de>>(mut map: A) -> Result<Option<Self>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

impl<'de, T: Accept<'de>> Deserialize<'de> for Shape<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ShapeVisitor(PhantomData))
    }
}

struct ShapeVisitor<T>(PhantomData<T>);

fn shape<T>(value: Option<T>, found: impl FnOnce() -> String) -> Shape<T> {
    value.map_or_else(|| Shape::Wrong(found()), Shape::Good)
}

impl<'de, T: Accept<'de>> Visitor<'de> for ShapeVisitor<T> {
    type Value = Shape<T>;

    fn expecting(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(T::WHAT)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Shape<T>, E> {
        Ok(shape(T::string(text), || format!("the text '{text}'")))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Shape<T>, E> {
        Ok(shape(T::scalar(value.to_string()), || value.to_string()))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Shape<T>, E> {
        Ok(shape(T::scalar(value.to_string()), || {
            format!("the number {value}")
        }))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Shape<T>, E> {
        Ok(shape(T::scalar(value.to_string()), || {
            format!("the number {value}")
        }))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Shape<T>, E> {
        Ok(shape(T::scalar(value.to_string()), || {
            format!("the number {value}")
        }))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Shape<T>, E> {
        Ok(Shape::Wrong("nothing".to_string()))
    }

    fn visit_none<E: de::Error>(self) -> Result<Shape<T>, E> {
        Ok(Shape::Wrong("nothing".to_string()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Shape<T>, A::Error> {
        Ok(shape(T::seq(seq)?, || "a list".to_string()))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Shape<T>, A::Error> {
        Ok(shape(T::map(map)?, || "a mapping".to_string()))
    }
}

/// A list of names: `bugs: [commit-previous-term]`; one name alone is a list of one.
pub struct Words(pub Vec<String>);

impl<'de> Accept<'de> for Words {
    const WHAT: &'static str = "a list of names, such as [commit-previous-term]";

    fn string(text: &str) -> Option<Self> {
        Some(Words(vec![text.to_string()]))
    }

    fn seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Option<Self>, A::Error> {
        let mut words = Vec::new();
        let mut all_text = true;
        while let Some(item) = seq.next_element::<Shape<Text>>()? {
            match item {
                Shape::Good(Text(word)) => words.push(word),
                Shape::Wrong(_) => all_text = false,
            }
        }
        Ok(all_text.then_some(Words(words)))
    }
}

/// Text: `name`, `description`, and the text of `say:` and `pause:`.
pub struct Text(pub String);

impl Accept<'_> for Text {
    const WHAT: &'static str = "text (a string)";

    fn string(text: &str) -> Option<Text> {
        Some(Text(text.trim().to_string()))
    }

    /// `say: 12`, `name: true`: a number or a boolean is text too.
    fn scalar(text: String) -> Option<Text> {
        Some(Text(text))
    }
}

/// One setting as text, whatever YAML typed it as; the loader reads it with the command
/// language's parsers.
pub struct Scalar(pub String);

impl Accept<'_> for Scalar {
    const WHAT: &'static str = "a single value such as 5, 150ms or true";

    fn string(text: &str) -> Option<Scalar> {
        Some(Scalar(text.trim().to_string()))
    }

    fn scalar(text: String) -> Option<Scalar> {
        Some(Scalar(text))
    }
}

/// A mapping of settings, read by its derived `Deserialize`.
pub struct Mapping<T>(pub T);

/// What a mapping is for, in an error message.
pub trait Described {
    const WHAT: &'static str;
}

impl<'de, T: Deserialize<'de> + Described> Accept<'de> for Mapping<T> {
    const WHAT: &'static str = T::WHAT;

    fn map<A: MapAccess<'de>>(map: A) -> Result<Option<Self>, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(|t| Some(Mapping(t)))
    }
}

/// The steps, in order.
pub struct Steps(pub Vec<Spanned<Shape<StepDoc>>>);

impl<'de> Accept<'de> for Steps {
    const WHAT: &'static str = "a list of steps, each on a line that starts with '- '";

    fn seq<A: SeqAccess<'de>>(seq: A) -> Result<Option<Self>, A::Error> {
        Vec::deserialize(SeqAccessDeserializer::new(seq)).map(|s| Some(Steps(s)))
    }
}

/// A step: a command line, or a one-key mapping `say: TEXT` / `pause: TEXT`.
pub enum StepDoc {
    Line(String),
    Say(Spanned<Shape<Text>>),
    Pause(Spanned<Shape<Text>>),
    /// A mapping whose keys are not one `say` or `pause`: all its keys, in order. It is
    /// read through, so that the loader reports it among the file's other problems.
    Keys(Vec<String>),
}

impl<'de> Accept<'de> for StepDoc {
    const WHAT: &'static str = "a command line, or say: TEXT, or pause: TEXT";

    fn string(line: &str) -> Option<StepDoc> {
        Some(StepDoc::Line(line.to_string()))
    }

    fn map<A: MapAccess<'de>>(mut map: A) -> Result<Option<Self>, A::Error> {
        let Some(key) = map.next_key::<String>()? else {
            return Ok(None);
        };
        let step = match key.as_str() {
            "say" => Some(StepDoc::Say(map.next_value()?)),
            "pause" => Some(StepDoc::Pause(map.next_value()?)),
            _ => {
                map.next_value::<IgnoredAny>()?;
                None
            }
        };
        let mut keys = vec![key];
        while let Some(extra) = map.next_key::<String>()? {
            map.next_value::<IgnoredAny>()?;
            keys.push(extra);
        }
        Ok(match step {
            Some(step) if keys.len() == 1 => Some(step),
            _ => Some(StepDoc::Keys(keys)),
        })
    }
}

/// The whole file.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDoc {
    pub name: Field<Text>,
    pub description: Field<Text>,
    pub cluster: Field<Mapping<ClusterDoc>>,
    pub steps: Field<Steps>,
}

impl Described for FileDoc {
    const WHAT: &'static str = "a scenario: a mapping with name, description, cluster and steps";
}

/// `cluster:`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterDoc {
    pub nodes: Field<Scalar>,
    pub seed: Field<Scalar>,
    pub clock: Field<Scalar>,
    pub speed: Field<Scalar>,
    pub election_timeout: Field<Scalar>,
    pub heartbeat: Field<Scalar>,
    pub network: Field<Mapping<NetworkDoc>>,
    pub raft: Field<Mapping<RaftDoc>>,
}

impl Described for ClusterDoc {
    const WHAT: &'static str = "the cluster's settings, a mapping such as { nodes: 5, seed: 7 }";
}

/// `cluster.network:`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkDoc {
    pub delay: Field<Scalar>,
    pub drop: Field<Scalar>,
    pub duplicate: Field<Scalar>,
    pub reorder: Field<Scalar>,
}

impl Described for NetworkDoc {
    const WHAT: &'static str = "the network's faults, a mapping such as { delay: 1ms..5ms }";
}

/// `cluster.raft:`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaftDoc {
    pub prevote: Field<Scalar>,
    pub check_quorum: Field<Scalar>,
    pub reads: Field<Scalar>,
    pub max_append_entries: Field<Scalar>,
    pub max_inflight_appends: Field<Scalar>,
    pub snapshot_every: Field<Scalar>,
    pub bugs: Field<Words>,
}

impl Described for RaftDoc {
    const WHAT: &'static str = "Raft's options, a mapping such as { prevote: false }";
}
