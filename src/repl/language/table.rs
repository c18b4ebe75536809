//! The one table of commands, from which parsing, help and completion are made.
//!
//! Each [`CommandSpec`] names a command, its group, usage, summary, description and
//! example, the kinds of its arguments (for completion) and its parse function. Adding a
//! command is one entry here and one parse function; `help` and completion follow.
//! Commands of two words (`net drop`, `wait leader`) are entries of their own; the first
//! word alone (`net`, `wait`) is a help topic that shows them all.
//!
//! Each entry also says what running the command does to a session (its [`Effect`]):
//! whether it only looks, whether it is journalled (so that `save` writes it and `back`
//! replays it), whether its output is the events of its hand-offs. The executor
//! ([`crate::repl::session`]) asks the table, and keeps no list of its own; it runs each
//! command with one handler, and the compiler holds that every command has one.

use std::fmt::Write as _;

use super::command::{Command, ParseError};
use super::parse::Args;
use super::token::Token;

/// The groups of commands, in the order `help` lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Look,
    Time,
    Faults,
    Clients,
    Raft,
    Scripts,
}

impl Group {
    /// Every group, in `help` order.
    pub const ALL: &'static [Group] = &[
        Group::Look,
        Group::Time,
        Group::Faults,
        Group::Clients,
        Group::Raft,
        Group::Scripts,
    ];

    /// The group's name.
    pub fn name(self) -> &'static str {
        match self {
            Group::Look => "look",
            Group::Time => "time",
            Group::Faults => "faults",
            Group::Clients => "clients",
            Group::Raft => "raft",
            Group::Scripts => "scripts",
        }
    }
}

/// What running a command does to a session, as the executor and the front-ends see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Only looks (at the cluster, or at the help): changes nothing, and is not journalled.
    Look,
    /// Acts on the session, the clock's mode or files, not on the run (`trace`, `pause`,
    /// `back`, `save`, `export`, ...): not journalled.
    Session,
    /// Part of the run: journalled, so that `save` writes it and `back` replays it.
    Run,
    /// Part of the run, and what it prints is the events of the hand-offs it made
    /// (`step`, `deliver`, `tick`, `campaign`), which a front-end printing the trace as it
    /// goes leaves out.
    HandOff,
}

impl Effect {
    /// Whether the command is journalled: `save` writes it and `back` replays it.
    pub fn journalled(self) -> bool {
        matches!(self, Effect::Run | Effect::HandOff)
    }
}

/// What an argument is, so completion can offer the right words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// A node: `3` or `leader`.
    Node,
    /// A new node id (nothing to offer).
    NewNode,
    /// Any number of nodes or `all`, and `-v` and `--json` (for `log`); the last argument.
    NodesOrVerbose,
    /// Any number of nodes or `all`, and `--json` (for `status`); the last argument.
    NodesOrJson,
    /// Any number of nodes; the last argument.
    Nodes,
    /// Nodes as `1`, `1,2`, `1-3` or `all`; the last argument.
    NodeSet,
    /// Nodes in groups, `1,2 | 3,4,5`; the last argument.
    Partition,
    /// Two nodes, `A B` or `A -> B`; the last argument.
    LinkEnds,
    /// A key seen before.
    Key,
    /// A value (nothing to offer).
    Value,
    /// A whole number.
    Number,
    /// A message id.
    Msg,
    /// A decimal number.
    Decimal,
    /// A probability.
    Probability,
    /// A duration.
    Duration,
    /// A duration or a range of durations, `D..D`.
    DurationRange,
    /// `on` or `off`.
    OnOff,
    /// A trace level.
    TraceLevel,
    /// Comma-separated terms.
    Terms,
    /// A file name.
    File,
    /// The keyword itself, opening an optional clause (`via`, `within`).
    Keyword(&'static str),
    /// A condition: the rest of the line (then `within D` if the command allows).
    Condition,
    /// A command: the rest of the line.
    Command,
    /// A command name, for `help`.
    Topic,
    /// Free text: the rest of the line, as written.
    Text,
}

/// One command of the language.
pub struct CommandSpec {
    /// The name, one or two words.
    pub name: &'static str,
    /// Other names that parse to the same command.
    pub aliases: &'static [&'static str],
    /// The group `help` lists it under.
    pub group: Group,
    /// What running it does to a session.
    pub effect: Effect,
    /// Whether it moves the clock by hand (`run`, `step`, `deliver`, ...), which only a
    /// stopped clock allows: on a realtime clock it is refused until a `pause`.
    pub stopped_clock: bool,
    /// The usage line.
    pub usage: &'static str,
    /// One line on what it does.
    pub summary: &'static str,
    /// A few sentences more.
    pub description: &'static str,
    /// An example line.
    pub example: &'static str,
    /// The arguments, in order, for completion.
    pub args: &'static [ArgKind],
    /// Reads the arguments (the words after the name).
    pub parse: fn(&mut Args) -> Result<Command, ParseError>,
}

impl CommandSpec {
    /// Whether the command reads the raw rest of the line instead of words (`say`, `try`),
    /// so that quotes in it are not a tokenizing error.
    pub fn reads_raw_line(&self) -> bool {
        matches!(self.args, [ArgKind::Text] | [ArgKind::Command])
    }

    /// Whether the command ends with a condition that may be followed by `within D`.
    pub fn condition_then_within(&self) -> bool {
        self.name == "wait until"
    }
}

/// One condition of `expect` and `wait until`.
pub struct ConditionSpec {
    /// The first word.
    pub name: &'static str,
    /// The usage line.
    pub usage: &'static str,
    /// What it tests.
    pub summary: &'static str,
    /// The arguments after the name, for completion and for counting.
    pub args: &'static [CondArg],
}

/// An argument of a condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CondArg {
    /// A node.
    Node,
    /// A node or `all`.
    NodeOrAll,
    /// A role.
    Role,
    /// A comparison.
    Op,
    /// The word `==`.
    Equals,
    /// A whole number.
    Number,
    /// A key.
    Key,
    /// A value.
    Value,
    /// A safety rule.
    Rule,
}

mod entries;
pub use entries::{COMMANDS, CONDITIONS};

/// The command named `name` (or with that alias), if any.
pub fn find(name: &str) -> Option<&'static CommandSpec> {
    COMMANDS
        .iter()
        .find(|s| s.name == name || s.aliases.contains(&name))
}

/// The second words of the two-word commands whose first word is `first`.
pub fn second_words(first: &str) -> Vec<&'static str> {
    COMMANDS
        .iter()
        .filter_map(|s| {
            s.name
                .split_once(' ')
                .filter(|(a, _)| *a == first)
                .map(|(_, b)| b)
        })
        .collect()
}

/// Finds the command a line's words start with: the entry and how many words its name
/// took.
pub fn lookup(tokens: &[Token]) -> Result<(&'static CommandSpec, usize), ParseError> {
    let Some(first) = tokens.first().map(|t| t.text.as_str()) else {
        return Err(ParseError::UnknownCommand {
            name: String::new(),
            suggestion: None,
        });
    };
    let second = tokens.get(1).map(|t| t.text.as_str());
    if let Some(spec) = second.and_then(|s| find(&format!("{first} {s}"))) {
        return Ok((spec, 2));
    }
    let one = find(first);
    let subs = second_words(first);
    let one_takes_args = one.is_some_and(|s| !s.args.is_empty());
    if !subs.is_empty() && (one.is_none() || (second.is_some() && !one_takes_args)) {
        return Err(ParseError::Subcommand {
            command: first.to_string(),
            choices: subs.join(", "),
            found: second.map(str::to_string),
        });
    }
    match one {
        Some(spec) => Ok((spec, 1)),
        None => Err(ParseError::UnknownCommand {
            name: first.to_string(),
            suggestion: suggest(first),
        }),
    }
}

/// Every name a line can start with (first words and aliases), sorted, once each.
pub fn first_words() -> Vec<&'static str> {
    let mut words: Vec<&str> = COMMANDS
        .iter()
        .flat_map(|s| std::iter::once(s.name).chain(s.aliases.iter().copied()))
        .map(|n| n.split(' ').next().unwrap_or(n))
        .collect();
    words.sort_unstable();
    words.dedup();
    words
}

/// The closest command name to a mistyped `word`, if one is close enough: the shortest
/// name that starts with it, else the nearest by edit distance.
pub fn suggest(word: &str) -> Option<String> {
    let len = word.chars().count();
    if len == 0 || len > 40 {
        return None;
    }
    let names = || {
        COMMANDS
            .iter()
            .flat_map(|s| std::iter::once(s.name).chain(s.aliases.iter().copied()))
    };
    // Commands are lower case: `Put` and `STATUS` mean `put` and `status`.
    let lower = word.to_lowercase();
    if lower != word {
        return names()
            .any(|n| n == lower)
            .then_some(lower.clone())
            .or_else(|| suggest(&lower));
    }
    let by_prefix = names()
        .filter(|n| len >= 2 && n.starts_with(word))
        .min_by_key(|n| n.len());
    if let Some(name) = by_prefix {
        return Some(name.to_string());
    }
    let (distance, best) = names().map(|n| (edit_distance(word, n), n)).min()?;
    let limit = if len <= 3 { 1 } else { 2 };
    (distance <= limit && distance < len).then(|| best.to_string())
}

/// The Levenshtein distance between two strings, in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row.first().copied().unwrap_or(0);
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, &cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != cb);
            let above = row.get(j + 1).copied().unwrap_or(usize::MAX);
            let left = row.get(j).copied().unwrap_or(usize::MAX);
            diagonal = above;
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = substitute
                    .min(above.saturating_add(1))
                    .min(left.saturating_add(1));
            }
        }
    }
    row.last().copied().unwrap_or(0)
}

/// The canonical help topic for `topic`: a command's name (an alias gives the name), or
/// the first word of two-word commands (`net`, `wait`).
pub fn help_topic(topic: &str) -> Option<&'static str> {
    if let Some(spec) = find(topic) {
        return Some(spec.name);
    }
    COMMANDS
        .iter()
        .filter_map(|s| s.name.split_once(' ').map(|(first, _)| first))
        .find(|first| *first == topic)
}

/// The overview `help` prints: every command, by group, with its summary.
pub fn help_overview() -> String {
    let width = COMMANDS
        .iter()
        .map(|s| s.usage.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::from("Commands (help COMMAND for more):\n");
    for group in Group::ALL {
        let _ = writeln!(out, "\n{}:", group.name());
        for spec in COMMANDS.iter().filter(|s| s.group == *group) {
            let _ = writeln!(out, "  {:width$}  {}", spec.usage, spec.summary);
        }
    }
    out.push_str(
        "\nNodes: 3, n3 or leader. Durations: 150ms, 1.5s, 300us (a bare number is ms).\n",
    );
    out
}

/// What `help TOPIC` prints, or `None` if the topic is no command.
pub fn help_command(topic: &str) -> Option<String> {
    let name = help_topic(topic)?;
    let specs: Vec<&CommandSpec> = COMMANDS
        .iter()
        .filter(|s| s.name == name || s.name.split_once(' ').is_some_and(|(f, _)| f == name))
        .collect();
    let mut out = String::new();
    for spec in specs {
        if !out.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(out, "usage: {}", spec.usage);
        if !spec.aliases.is_empty() {
            let _ = writeln!(out, "also: {}", spec.aliases.join(", "));
        }
        let _ = writeln!(out, "{}", spec.description);
        let _ = writeln!(out, "example: {}", spec.example);
        if spec.args.contains(&ArgKind::Condition) {
            out.push_str(&help_conditions());
        }
    }
    Some(out)
}

/// The list of conditions, for the help of `expect` and `wait until`.
pub fn help_conditions() -> String {
    let width = CONDITIONS
        .iter()
        .map(|c| c.usage.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::from("conditions (NODE may be all; OP is == != < <= > >=):\n");
    for c in CONDITIONS {
        let _ = writeln!(out, "  {:width$}  {}", c.usage, c.summary);
    }
    out
}
