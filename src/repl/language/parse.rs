//! From a line of text to a [`Command`]: the syntax only, no cluster.
//!
//! [`parse`] finds the command in [`COMMANDS`](super::table::COMMANDS) by its first word (or
//! first two, for `net drop`, `wait leader`, ...) and hands the remaining words to the
//! entry's parse function, which reads them through [`Args`]. Blank lines and lines whose
//! first non-blank character is `#` are no command (`Ok(None)`); a `#` later in a line is
//! an ordinary character, so `say Step #1` and keys such as `a#b` work.
//!
//! `say` and `try` read the raw rest of the line: `say` keeps it as written (quotes and
//! all), `try` parses it as a command.

use super::command::{
    CmpOp, Command, Condition, NodeNumber, NodeRef, NodeRole, NodeSel, NodeSet, ParseError, Rows,
    SafetyRule, TraceLevel,
};
use super::table::{self, CommandSpec};
use super::token::{Token, tokenize};
use crate::cluster::MAX_NODES;
use crate::raft::NodeId;

/// Parses one line. `Ok(None)` for a blank line or a `# comment`.
pub fn parse(line: &str) -> Result<Option<Command>, ParseError> {
    let trimmed = line.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Ok(None);
    }
    let (first, rest) = split_first_word(trimmed);
    if let Some(spec) = table::find(first).filter(|s| s.reads_raw_line()) {
        let mut args = Args {
            spec,
            tokens: Vec::new(),
            rest,
            next: 0,
        };
        return (spec.parse)(&mut args).map(Some);
    }
    let tokens = tokenize(line)?;
    let (spec, words) = table::lookup(&tokens)?;
    let rest_start = tokens.get(words - 1).map_or(line.len(), |t| t.end);
    let rest = line.get(rest_start..).unwrap_or_default();
    let tokens = tokens.get(words..).unwrap_or_default().to_vec();
    let mut args = Args {
        spec,
        tokens,
        rest,
        next: 0,
    };
    (spec.parse)(&mut args).map(Some)
}

/// The first whitespace-separated word of `text` (which starts with no whitespace) and
/// the rest after it.
fn split_first_word(text: &str) -> (&str, &str) {
    match text.find(char::is_whitespace) {
        Some(i) => text.split_at(i),
        None => (text, ""),
    }
}

/// The arguments of one command, read from left to right.
pub struct Args<'a> {
    spec: &'static CommandSpec,
    tokens: Vec<Token>,
    rest: &'a str,
    next: usize,
}

impl Args<'_> {
    /// A wrong-arguments error that shows the command's usage.
    pub fn usage(&self, problem: impl Into<String>) -> ParseError {
        ParseError::Usage {
            problem: problem.into(),
            usage: self.spec.usage,
        }
    }

    /// The raw text after the command's name.
    pub fn rest(&self) -> &str {
        self.rest
    }

    /// How many words are left.
    pub fn remaining(&self) -> usize {
        self.tokens.len().saturating_sub(self.next)
    }

    /// The next word, which must be there; `name` says what it is for the error.
    pub fn word(&mut self, name: &str) -> Result<String, ParseError> {
        self.optional()
            .ok_or_else(|| self.usage(format!("missing {name}")))
    }

    /// The next word, if any.
    pub fn optional(&mut self) -> Option<String> {
        let token = self.tokens.get(self.next)?;
        self.next += 1;
        Some(token.text.clone())
    }

    /// Whether the words left hold the keyword `keyword` (unquoted) followed by a
    /// duration, as `within 1s`.
    pub fn has_keyword_and_duration(&self, keyword: &str) -> bool {
        let left = &self.tokens[self.next.min(self.tokens.len())..];
        (left.windows(2)).any(|w| w[0].is_keyword(keyword) && parse_duration(&w[1].text).is_ok())
    }

    /// The remaining words, all consumed.
    pub fn all(&mut self) -> Vec<String> {
        let words = self
            .tokens
            .iter()
            .skip(self.next)
            .map(|t| t.text.clone())
            .collect();
        self.next = self.tokens.len();
        words
    }

    /// The next word as a node.
    pub fn node(&mut self, name: &str) -> Result<NodeRef, ParseError> {
        parse_node(&self.word(name)?)
    }

    /// Removes the bare `flag` from the remaining words; whether it was there. Given
    /// twice, it is an error (`export f.svg --slides --slides`).
    pub fn flag(&mut self, flag: &str) -> Result<bool, ParseError> {
        let before = self.tokens.len();
        let mut index = 0;
        self.tokens.retain(|t| {
            index += 1;
            index <= self.next || !t.is_keyword(flag)
        });
        match before - self.tokens.len() {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.usage(format!("'{flag}' is given twice"))),
        }
    }

    /// The remaining words as nodes.
    pub fn nodes(&mut self) -> Result<Vec<NodeRef>, ParseError> {
        self.all().iter().map(|w| parse_node(w)).collect()
    }

    /// The remaining words as a set of nodes: `all`, or nodes, each word a node, a list
    /// (`1,2`) or a range (`1-3`); at least one. A node named twice is an error.
    pub fn node_set(&mut self) -> Result<NodeSet, ParseError> {
        let words = self.all();
        match words.as_slice() {
            [] => Err(self.usage("missing NODE")),
            [word] if word == "all" => Ok(NodeSet::All),
            _ if words.iter().any(|w| w == "all") => {
                Err(self.usage("'all' is every node: name nodes or all, not both"))
            }
            _ => {
                let mut nodes = Vec::new();
                for part in words.iter().flat_map(|w| w.split(',')) {
                    for node in parse_node_range(part)? {
                        if nodes.contains(&node) {
                            return Err(self.usage(format!("{node} is named twice")));
                        }
                        nodes.push(node);
                    }
                }
                Ok(NodeSet::Nodes(nodes))
            }
        }
    }

    /// The remaining words as the rows of `status` or `log`: none, `all`, or nodes.
    pub fn rows(&mut self) -> Result<Rows, ParseError> {
        let words = self.all();
        match words.as_slice() {
            [] => Ok(Rows::Default),
            [word] if word == "all" => Ok(Rows::All),
            _ if words.iter().any(|w| w == "all") => {
                Err(self.usage("'all' shows every node: name nodes or all, not both"))
            }
            _ => words
                .iter()
                .map(|w| parse_node(w))
                .collect::<Result<_, _>>()
                .map(Rows::Nodes),
        }
    }

    /// Fails if words are left over.
    pub fn finish(&self) -> Result<(), ParseError> {
        match self.tokens.get(self.next) {
            Some(t) => Err(self.usage(format!("unexpected '{}'", t.text))),
            None => Ok(()),
        }
    }

    /// Removes a trailing `KEYWORD VALUE` clause and returns VALUE. The clause is only
    /// taken when it comes after at least `before` words, so a key that happens to be
    /// spelled `via` stays a key.
    pub fn trailing(&mut self, keyword: &str, before: usize) -> Result<Option<String>, ParseError> {
        let n = self.tokens.len();
        let at = |i: usize| self.tokens.get(i).is_some_and(|t| t.is_keyword(keyword));
        if n > before && at(n - 1) {
            return Err(self.usage(format!("missing value after '{keyword}'")));
        }
        // The keyword and its duration end the line: name what follows them, not the
        // keyword (a key may be called `within`: only a duration after it counts).
        let duration_at =
            |i: usize| (self.tokens.get(i)).is_some_and(|t| parse_duration(&t.text).is_ok());
        if let Some(i) = (before..n.saturating_sub(2)).find(|&i| at(i) && duration_at(i + 1)) {
            let value = &self.tokens[i + 1].text;
            let extra = &self.tokens[i + 2].text;
            return Err(self.usage(format!("unexpected '{extra}' after '{keyword} {value}'")));
        }
        if n >= before + 2 && at(n - 2) {
            let value = self.tokens.pop().map(|t| t.text);
            self.tokens.pop();
            return Ok(value);
        }
        Ok(None)
    }

    /// The remaining words as a condition.
    pub fn condition(&mut self) -> Result<Condition, ParseError> {
        let words = self.all();
        if words.is_empty() {
            return Err(self.usage("missing CONDITION"));
        }
        parse_condition(&words)
    }
}

/// Parses a node reference: `3`, `n3` or `leader`.
pub fn parse_node(text: &str) -> Result<NodeRef, ParseError> {
    if text == "leader" {
        return Ok(NodeRef::Leader);
    }
    parse_node_id(text).map(NodeRef::Id)
}

/// The most nodes a range (`1-40`) names.
const RANGE_NODES_LIMIT: u64 = 1_000;

/// Parses a node or a range of nodes: `3`, `leader`, `1-3`, `n1-n3`.
pub fn parse_node_range(text: &str) -> Result<Vec<NodeRef>, ParseError> {
    let Some((low, high)) = text.split_once('-') else {
        return parse_node(text).map(|node| vec![node]);
    };
    let (low, high) = (parse_node_id(low)?, parse_node_id(high)?);
    if low > high {
        return Err(ParseError::BackwardsRange {
            text: text.to_string(),
            low: high,
            high: low,
        });
    }
    if high - low >= RANGE_NODES_LIMIT {
        return Err(ParseError::RangeTooLong {
            text: text.to_string(),
            limit: RANGE_NODES_LIMIT,
        });
    }
    Ok((low..=high).map(NodeRef::Id).collect())
}

/// Parses a node id: `3` or `n3`, from 1.
pub fn parse_node_id(text: &str) -> Result<NodeId, ParseError> {
    let digits = text.strip_prefix('n').unwrap_or(text);
    let bad = || ParseError::BadNode {
        text: text.to_string(),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match digits.parse::<u64>() {
        Ok(0) => Err(ParseError::NodeZero {
            text: text.to_string(),
        }),
        Ok(id) => Ok(id),
        // All digits, past the largest u64 and so past the largest node id.
        Err(_) => Err(ParseError::NumberTooLarge {
            what: "node id",
            text: text.to_string(),
            max: MAX_NODES,
        }),
    }
}

/// Parses the nodes of a condition: a node, or `all`.
pub fn parse_node_sel(text: &str) -> Result<NodeSel, ParseError> {
    match text {
        "all" => Ok(NodeSel::All),
        _ => parse_node(text).map(NodeSel::One),
    }
}

/// Parses a whole number.
pub fn parse_u64(text: &str, what: &'static str) -> Result<u64, ParseError> {
    let bad = || ParseError::BadNumber {
        what,
        text: text.to_string(),
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    // All digits, so the only way to fail is to be past the largest u64.
    text.parse().map_err(|_| ParseError::NumberTooLarge {
        what,
        text: text.to_string(),
        max: u64::MAX,
    })
}

/// Parses a plain decimal number (`0.25`, `3`, `.5`, `-1`): a minus at most, no plus,
/// exponent, `inf` or `NaN`. A negative number reads as one, for the caller's range to
/// refuse in its own words (`probability -0.1 is out of range`).
pub fn parse_decimal(text: &str, what: &'static str) -> Result<f64, ParseError> {
    let bad = || ParseError::BadDecimal {
        what,
        text: text.to_string(),
    };
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let digits = unsigned.bytes().filter(u8::is_ascii_digit).count();
    let dots = unsigned.bytes().filter(|&b| b == b'.').count();
    if digits == 0 || dots > 1 || digits + dots != unsigned.len() {
        return Err(bad());
    }
    text.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(bad)
}

/// Parses a probability, 0 to 1.
pub fn parse_probability(text: &str) -> Result<f64, ParseError> {
    let p = parse_decimal(text, "probability")?;
    if !(0.0..=1.0).contains(&p) {
        return Err(ParseError::ProbabilityOutOfRange {
            text: text.to_string(),
        });
    }
    Ok(p)
}

/// Parses a duration (`150ms`, `1.5s`, `300us`; a bare number is milliseconds) into whole
/// microseconds. The decimal is read exactly, so `0.1s` is 100000us, not 99999.
pub fn parse_duration(text: &str) -> Result<u64, ParseError> {
    let bad = |reason| ParseError::BadDuration {
        text: text.to_string(),
        reason,
    };
    let units: [(&str, u128); 4] = [("us", 1), ("µs", 1), ("ms", 1000), ("s", 1_000_000)];
    let (number, unit_us) = units
        .iter()
        .find_map(|&(suffix, us)| text.strip_suffix(suffix).map(|n| (n, us)))
        .unwrap_or((text, 1000));
    if number.starts_with('-') {
        return Err(bad("a duration cannot be negative"));
    }
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    let frac = frac.trim_end_matches('0');
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() && frac.is_empty() || !all_digits(int) || !all_digits(frac) {
        let expected = "expected a duration: a number of us, ms or s (a bare number is ms), \
                        such as 150ms or 1.5s";
        return Err(bad(expected));
    }
    if int.len() > 20 || frac.len() > 18 {
        return Err(bad("too large or too precise"));
    }
    let int: u128 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| bad("too large"))?
    };
    let frac_value: u128 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| bad(""))?
    };
    let scale = 10u128.pow(frac.len() as u32);
    let frac_us = frac_value * unit_us;
    if !frac_us.is_multiple_of(scale) {
        return Err(bad("finer than a microsecond"));
    }
    let total = int * unit_us + frac_us / scale;
    u64::try_from(total).map_err(|_| bad("too large"))
}

/// Parses `A..B` (two durations, A <= B), or a single duration `A` as `A..A` when
/// `single` is allowed.
pub fn parse_duration_range(text: &str, single: bool) -> Result<(u64, u64), ParseError> {
    let Some((lo, hi)) = text.split_once("..") else {
        if single {
            let d = parse_duration(text)?;
            return Ok((d, d));
        }
        return Err(ParseError::BadDuration {
            text: text.to_string(),
            reason: "expected a range FROM..TO, e.g. 100ms..2s",
        });
    };
    let (lo, hi) = (parse_duration(lo)?, parse_duration(hi)?);
    if lo > hi {
        return Err(ParseError::EmptyRange {
            text: text.to_string(),
        });
    }
    Ok((lo, hi))
}

/// Parses a keyword of one of the small keyword enums.
fn parse_choice<T: Copy>(
    text: &str,
    what: &'static str,
    from_word: fn(&str) -> Option<T>,
    words: Vec<&'static str>,
) -> Result<T, ParseError> {
    from_word(text).ok_or_else(|| ParseError::BadChoice {
        what,
        text: text.to_string(),
        choices: words.join(", "),
    })
}

/// Parses a condition from its words.
pub fn parse_condition(words: &[String]) -> Result<Condition, ParseError> {
    let Some((head, args)) = words.split_first() else {
        return Err(unknown_condition(""));
    };
    let spec = table::CONDITIONS
        .iter()
        .find(|c| c.name == head.as_str())
        .ok_or_else(|| unknown_condition(head))?;
    let wrong = |problem: &str| ParseError::Usage {
        problem: problem.into(),
        usage: spec.usage,
    };
    let arg = |i: usize| args.get(i).map(String::as_str);
    let max_args = spec.args.len();
    if args.len() > max_args {
        let extra = args.get(max_args).map_or("", String::as_str);
        return Err(wrong(&format!("unexpected '{extra}'")));
    }
    let need = |i: usize, name: &str| arg(i).ok_or_else(|| wrong(&format!("missing {name}")));
    let eq = |i: usize| match arg(i) {
        Some("==") => Ok(()),
        _ => Err(wrong("expected '=='")),
    };
    match head.as_str() {
        "leader" => Ok(Condition::Leader {
            node: arg(0).map(parse_node).transpose()?,
        }),
        "no-leader" => Ok(Condition::NoLeader),
        "logs-match" => Ok(Condition::LogsMatch),
        "settled" => Ok(Condition::Settled),
        "unsettled" => Ok(Condition::Unsettled),
        "safe" => Ok(Condition::Safe),
        "violation" => {
            let rule = arg(0).map(|r| {
                parse_choice(
                    r,
                    SafetyRule::WHAT,
                    SafetyRule::from_word,
                    SafetyRule::words(),
                )
            });
            Ok(Condition::Violation {
                rule: rule.transpose()?,
            })
        }
        "role" => {
            let node = parse_node_sel(need(0, "NODE")?)?;
            let role = need(1, "ROLE")?;
            let role = parse_choice(role, NodeRole::WHAT, NodeRole::from_word, NodeRole::words())?;
            Ok(Condition::Role { node, role })
        }
        "get" => {
            let key = need(0, "K")?.to_string();
            eq(1)?;
            Ok(Condition::Get {
                key,
                value: need(2, "V")?.to_string(),
            })
        }
        "kv" => {
            let node = parse_node_sel(need(0, "NODE")?)?;
            let key = need(1, "K")?.to_string();
            eq(2)?;
            Ok(Condition::Kv {
                node,
                key,
                value: need(3, "V")?.to_string(),
            })
        }
        _ => parse_compare(head, args, &wrong),
    }
}

/// `term|commit|applied NODE OP N`.
fn parse_compare(
    head: &str,
    args: &[String],
    wrong: &dyn Fn(&str) -> ParseError,
) -> Result<Condition, ParseError> {
    let number = NodeNumber::from_word(head).ok_or_else(|| unknown_condition(head))?;
    let [node, op, value] = args else {
        let missing = ["NODE", "OP", "N"].get(args.len()).copied().unwrap_or("N");
        return Err(wrong(&format!("missing {missing}")));
    };
    let node = parse_node_sel(node)?;
    let op = parse_choice(op, CmpOp::WHAT, CmpOp::from_word, CmpOp::words())?;
    let value = parse_u64(value, "number")?;
    Ok(Condition::Compare {
        number,
        node,
        op,
        value,
    })
}

fn unknown_condition(text: &str) -> ParseError {
    let choices: Vec<&str> = table::CONDITIONS.iter().map(|c| c.name).collect();
    ParseError::BadChoice {
        what: "a condition",
        text: text.to_string(),
        choices: choices.join(", "),
    }
}

// ---- The parse functions of the table's entries. ----

macro_rules! no_args {
    ($($name:ident => $command:expr;)*) => {
        $(
            /// Parses a command without arguments.
            pub fn $name(args: &mut Args) -> Result<Command, ParseError> {
                args.finish().map(|()| $command)
            }
        )*
    };
}

no_args! {
    net => Command::Net;
    msgs => Command::Msgs;
    timers => Command::Timers;
    watch => Command::Watch;
    pause => Command::Pause;
    resume => Command::Resume;
    heal => Command::Heal;
    check => Command::Check;
    quit => Command::Quit;
}

macro_rules! one_node {
    ($($name:ident => $variant:ident;)*) => {
        $(
            /// Parses a command whose one argument is a node.
            pub fn $name(args: &mut Args) -> Result<Command, ParseError> {
                let node = args.node("NODE")?;
                args.finish().map(|()| Command::$variant { node })
            }
        )*
    };
}

/// Parses `kill NODES`.
pub fn kill(args: &mut Args) -> Result<Command, ParseError> {
    let nodes = args.node_set()?;
    Ok(Command::Kill { nodes })
}

/// Parses `restart NODES`.
pub fn restart(args: &mut Args) -> Result<Command, ParseError> {
    let nodes = args.node_set()?;
    Ok(Command::Restart { nodes })
}

one_node! {
    isolate => Isolate;
    campaign => Campaign;
    tick => Tick;
    transfer => Transfer;
    remove => Remove;
    snapshot => Snapshot;
}

pub fn status(args: &mut Args) -> Result<Command, ParseError> {
    let verbose = args.flag("-v")?;
    let json = args.flag("--json")?;
    let rows = args.rows()?;
    Ok(Command::Status {
        verbose,
        json,
        rows,
    })
}

pub fn log(args: &mut Args) -> Result<Command, ParseError> {
    let verbose = args.flag("-v")?;
    let json = args.flag("--json")?;
    let rows = args.rows()?;
    Ok(Command::Log {
        verbose,
        json,
        rows,
    })
}

pub fn kv(args: &mut Args) -> Result<Command, ParseError> {
    let node = args.optional().map(|n| parse_node(&n)).transpose()?;
    args.finish().map(|()| Command::Kv { node })
}

pub fn events(args: &mut Args) -> Result<Command, ParseError> {
    let count = args
        .optional()
        .map(|n| parse_u64(&n, "count"))
        .transpose()?;
    args.finish().map(|()| Command::Events { count })
}

pub fn trace(args: &mut Args) -> Result<Command, ParseError> {
    let level = args.word("off|changes|messages")?;
    let level = parse_choice(
        &level,
        TraceLevel::WHAT,
        TraceLevel::from_word,
        TraceLevel::words(),
    )?;
    args.finish().map(|()| Command::Trace { level })
}

pub fn help(args: &mut Args) -> Result<Command, ParseError> {
    let words = args.all();
    if words.is_empty() {
        return Ok(Command::Help { topic: None });
    }
    let topic = words.join(" ");
    match table::help_topic(&topic) {
        Some(name) => Ok(Command::Help {
            topic: Some(name.to_string()),
        }),
        None => Err(ParseError::UnknownTopic {
            suggestion: table::suggest(&topic),
            topic,
        }),
    }
}

pub fn speed(args: &mut Args) -> Result<Command, ParseError> {
    let text = args.word("X")?;
    let factor = parse_decimal(&text, "speed")?;
    if factor <= 0.0 {
        return Err(ParseError::SpeedNotPositive { text });
    }
    args.finish().map(|()| Command::Speed { factor })
}

pub fn run(args: &mut Args) -> Result<Command, ParseError> {
    let duration_us = parse_duration(&args.word("DURATION")?)?;
    args.finish().map(|()| Command::Run { duration_us })
}

/// An optional count of at least 1, default 1.
fn count(args: &mut Args, what: &'static str) -> Result<u64, ParseError> {
    let count = match args.optional() {
        Some(n) => parse_u64(&n, what)?,
        None => 1,
    };
    if count == 0 {
        return Err(ParseError::ZeroCount { what });
    }
    args.finish().map(|()| count)
}

pub fn step(args: &mut Args) -> Result<Command, ParseError> {
    count(args, "step count").map(|count| Command::Step { count })
}

pub fn back(args: &mut Args) -> Result<Command, ParseError> {
    count(args, "back count").map(|count| Command::Back { count })
}

pub fn deliver(args: &mut Args) -> Result<Command, ParseError> {
    let msg = parse_u64(&args.word("MSG")?, "message id")?;
    args.finish().map(|()| Command::Deliver { msg })
}

pub fn drop(args: &mut Args) -> Result<Command, ParseError> {
    let msg = parse_u64(&args.word("MSG")?, "message id")?;
    args.finish().map(|()| Command::Drop { msg })
}

pub fn dup(args: &mut Args) -> Result<Command, ParseError> {
    let msg = parse_u64(&args.word("MSG")?, "message id")?;
    args.finish().map(|()| Command::Dup { msg })
}
