//! The two kinds of error a command line can have.
//!
//! Parsing raw, then resolving (as ripgrep turns `LowArgs` into `HiArgs`): a
//! [`ParseError`] is about the text alone (an unknown command, a missing argument, `15xs`
//! for a duration) and is found without a cluster; a [`ResolveError`] is about a well-formed
//! command that names something the cluster does not have ("node 9 does not exist").
//! The REPL prints either as `error: {message}`.

use thiserror::Error;

use super::token::TokenError;
use crate::cluster::MAX_NODES;
use crate::raft::{MAX_GIVEN_TERM, NodeId};

/// A command line that is not a command.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ParseError {
    /// The line cannot be split into words (a quote problem).
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The first word names no command.
    #[error("unknown command '{name}'{}", did_you_mean(suggestion))]
    UnknownCommand {
        name: String,
        suggestion: Option<String>,
    },
    /// A command made of two words (`net drop`, `wait leader`) is missing its second word.
    #[error("'{command}' needs one of: {choices}{}", got(found))]
    Subcommand {
        command: String,
        choices: String,
        found: Option<String>,
    },
    /// Missing or extra arguments.
    #[error("{problem} (usage: {usage})")]
    Usage {
        problem: String,
        usage: &'static str,
    },
    /// `help` about something that is not a command.
    #[error("no help on '{topic}': not a command{}", did_you_mean(suggestion))]
    UnknownTopic {
        topic: String,
        suggestion: Option<String>,
    },
    /// Not a node reference.
    #[error("'{text}' is not a node: expected a node id such as 3 or n3, or leader")]
    BadNode { text: String },
    /// A range of nodes written high to low (`3-1`).
    #[error("'{text}' is a range written backwards: write {low}-{high}")]
    BackwardsRange { text: String, low: u64, high: u64 },
    /// A range of more nodes than one command names.
    #[error("'{text}' names more than {limit} nodes")]
    RangeTooLong { text: String, limit: u64 },
    /// A node reference where only a node id will do (`add leader`).
    #[error("'{text}' is not a node id: {command} needs a number such as 6 or n6")]
    NotNodeId { command: &'static str, text: String },
    /// `add 99999999999999999999`: an id too large for any cluster (and for a number).
    #[error("node ids go up to {MAX_NODES}, so node {text} cannot be added")]
    NodeIdTooLarge { text: String },
    /// Node ids start at 1.
    #[error("'{text}' names node 0, but nodes are numbered from 1")]
    NodeZero { text: String },
    /// Not a duration, or one out of range.
    #[error("bad duration '{text}': {reason}")]
    BadDuration { text: String, reason: &'static str },
    /// Not a whole number.
    #[error("bad {what} '{text}': expected a whole number such as 3")]
    BadNumber { what: &'static str, text: String },
    /// A whole number past the largest the value may take (past `u64::MAX`, say).
    #[error("bad {what} '{text}': too large, at most {max}")]
    NumberTooLarge {
        what: &'static str,
        text: String,
        max: u64,
    },
    /// Not a decimal number.
    #[error("bad {what} '{text}': expected a decimal number such as 0.5")]
    BadDecimal { what: &'static str, text: String },
    /// A probability outside 0..=1.
    #[error("probability {text} is out of range: it must be between 0 and 1")]
    ProbabilityOutOfRange { text: String },
    /// A speed that is not above 0.
    #[error("speed must be greater than 0, got {text}")]
    SpeedNotPositive { text: String },
    /// `step 0`, `back 0`.
    #[error("the {what} must be at least 1")]
    ZeroCount { what: &'static str },
    /// A word that must be one of a few keywords.
    #[error("'{text}' is not {what}: expected one of {choices}")]
    BadChoice {
        what: &'static str,
        text: String,
        choices: String,
    },
    /// A node named twice in one `partition`.
    #[error("node {node} is named twice in the partition")]
    DuplicateNode { node: String },
    /// A `partition` with an empty group or a single group.
    #[error("{problem}, e.g. partition 1,2 | 3,4,5")]
    BadPartition { problem: &'static str },
    /// `cut 2 2`, `link n1 -> 1`.
    #[error("a link joins two different nodes, but both ends are {node}")]
    SameNode { node: String },
    /// `set-log 3 1,4,2`.
    #[error("log terms must not decrease: term {next} follows term {prev}")]
    DecreasingTerms { prev: u64, next: u64 },
    /// `set-log 3 0,1`.
    #[error("log entries have terms from 1 on; term 0 is the term before any election")]
    ZeroTerm,
    /// `set-log 3 18446744073709551615`: a term that could not grow.
    #[error("term {text} is too large: log terms go up to {MAX_GIVEN_TERM}")]
    TermTooLarge { text: String },
    /// `net delay 5ms..1ms`, `export f 2s..1s`.
    #[error("the range {text} is empty: its start is after its end")]
    EmptyRange { text: String },
    /// `export trace.png`: a file `export` cannot write.
    #[error("cannot export to '{file}': the file name must end in {expected}")]
    ExportExtension {
        file: String,
        expected: &'static str,
    },
    /// `export /tmp/.svg`: an extension with no name before it.
    #[error(
        "cannot export to '{file}': the file needs a name before its extension, such as run.svg"
    )]
    ExportNoName { file: String },
    /// `try try ...`.
    #[error("try takes any command but try")]
    NestedTry,
    /// `try quit`: it would end the session whatever happened.
    #[error("try takes any command but quit, which cannot fail: type quit")]
    TryQuit,
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!(" (did you mean '{s}'?)"),
        None => String::new(),
    }
}

fn got(found: &Option<String>) -> String {
    match found {
        Some(s) => format!(", not '{s}'"),
        None => String::new(),
    }
}

/// A well-formed command that names something the cluster does not have.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ResolveError {
    /// The node is not in the cluster.
    #[error("node {node} does not exist (the cluster has {nodes})")]
    NoSuchNode { node: NodeId, nodes: String },
    /// `add` of an id no cluster has room for.
    #[error(
        "node ids go up to {MAX_NODES}, so node {node} cannot be added (the cluster has {nodes})"
    )]
    NodeIdTooLarge { node: NodeId, nodes: String },
}
