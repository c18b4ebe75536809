//! The parse functions of the network-fault, client, membership and log-setting, and
//! script commands (`wait`, `expect`, `try`, `say`, `save`, `export`); the rest are in
//! [`super::parse`].

use std::collections::HashSet;

use super::command::{ClientOp, Command, ExportFormat, NodeRef, OPEN_END_US, ParseError};
use super::parse::{
    Args, parse, parse_duration, parse_duration_range, parse_node, parse_node_id, parse_node_range,
    parse_probability, parse_u64,
};
use crate::raft::MAX_GIVEN_TERM;

pub fn partition(args: &mut Args) -> Result<Command, ParseError> {
    let text = args.all().join(" ");
    if text.is_empty() {
        return Err(args.usage("missing groups"));
    }
    let mut seen = HashSet::new();
    let mut groups = Vec::new();
    for group in text.split('|') {
        let mut nodes = Vec::new();
        for word in group.split(|c: char| c == ',' || c.is_whitespace()) {
            if word.is_empty() {
                continue;
            }
            // Ranges as `kill` takes them: `partition 1-3 | 4,5`.
            for node in parse_node_range(word)? {
                if !seen.insert(node) {
                    return Err(ParseError::DuplicateNode {
                        node: node.to_string(),
                    });
                }
                nodes.push(node);
            }
        }
        if nodes.is_empty() {
            return Err(ParseError::BadPartition {
                problem: "a partition group is empty",
            });
        }
        groups.push(nodes);
    }
    if groups.len() < 2 {
        let problem = "a partition needs at least two groups separated by '|'";
        return Err(ParseError::BadPartition { problem });
    }
    Ok(Command::Partition { groups })
}

/// `A B` or `A -> B` (spaces around the arrow optional): the two ends and whether the
/// link is one way.
fn link_ends(args: &mut Args) -> Result<(NodeRef, NodeRef, bool), ParseError> {
    let text = args.all().join(" ");
    let (left, right, one_way) = match text.split_once("->") {
        Some((left, right)) => (left, right, true),
        None => match text.split_once(' ') {
            Some((left, right)) => (left, right, false),
            None => ("", "", false),
        },
    };
    let single = |s: &str| {
        let mut words = s.split_whitespace();
        match (words.next(), words.next()) {
            (Some(w), None) => Some(w.to_string()),
            _ => None,
        }
    };
    let (Some(left), Some(right)) = (single(left), single(right)) else {
        return Err(args.usage("expected two nodes, A B or A -> B"));
    };
    let (from, to) = (parse_node(&left)?, parse_node(&right)?);
    if from == to {
        return Err(ParseError::SameNode {
            node: from.to_string(),
        });
    }
    Ok((from, to, one_way))
}

pub fn cut(args: &mut Args) -> Result<Command, ParseError> {
    link_ends(args).map(|(from, to, one_way)| Command::Cut { from, to, one_way })
}

pub fn link(args: &mut Args) -> Result<Command, ParseError> {
    link_ends(args).map(|(from, to, one_way)| Command::Link { from, to, one_way })
}

pub fn net_drop(args: &mut Args) -> Result<Command, ParseError> {
    let probability = parse_probability(&args.word("P")?)?;
    args.finish().map(|()| Command::NetDrop { probability })
}

pub fn net_dup(args: &mut Args) -> Result<Command, ParseError> {
    let probability = parse_probability(&args.word("P")?)?;
    args.finish().map(|()| Command::NetDup { probability })
}

pub fn net_delay(args: &mut Args) -> Result<Command, ParseError> {
    let (min_us, max_us) = parse_duration_range(&args.word("D")?, true)?;
    args.finish().map(|()| Command::NetDelay { min_us, max_us })
}

pub fn net_reorder(args: &mut Args) -> Result<Command, ParseError> {
    let on = match args.word("on|off")?.as_str() {
        "on" => true,
        "off" => false,
        other => return Err(args.usage(format!("expected on or off, not '{other}'"))),
    };
    args.finish().map(|()| Command::NetReorder { on })
}

/// Reads a client command's `count` words and its optional `via NODE`.
fn client(
    args: &mut Args,
    names: &[&str],
    op: fn(Vec<String>) -> ClientOp,
) -> Result<Command, ParseError> {
    let via = args
        .trailing("via", names.len())?
        .map(|n| parse_node(&n))
        .transpose()?;
    let mut words = Vec::with_capacity(names.len());
    for name in names {
        words.push(args.word(name)?);
    }
    args.finish()?;
    Ok(Command::Client { op: op(words), via })
}

/// The n-th of `words` (which the caller has checked has enough).
fn nth(words: &mut [String], n: usize) -> String {
    words.get_mut(n).map(std::mem::take).unwrap_or_default()
}

pub fn put(args: &mut Args) -> Result<Command, ParseError> {
    client(args, &["K", "V"], |mut w| ClientOp::Put {
        key: nth(&mut w, 0),
        value: nth(&mut w, 1),
    })
}

pub fn append(args: &mut Args) -> Result<Command, ParseError> {
    client(args, &["K", "V"], |mut w| ClientOp::Append {
        key: nth(&mut w, 0),
        value: nth(&mut w, 1),
    })
}

pub fn get(args: &mut Args) -> Result<Command, ParseError> {
    client(args, &["K"], |mut w| ClientOp::Get {
        key: nth(&mut w, 0),
    })
}

pub fn del(args: &mut Args) -> Result<Command, ParseError> {
    client(args, &["K"], |mut w| ClientOp::Del {
        key: nth(&mut w, 0),
    })
}

pub fn cas(args: &mut Args) -> Result<Command, ParseError> {
    client(args, &["K", "OLD", "NEW"], |mut w| ClientOp::Cas {
        key: nth(&mut w, 0),
        old: nth(&mut w, 1),
        new: nth(&mut w, 2),
    })
}

pub fn add(args: &mut Args) -> Result<Command, ParseError> {
    let text = args.word("NODE")?;
    if text == "leader" {
        return Err(ParseError::NotNodeId {
            command: "add",
            text,
        });
    }
    let node = match parse_node_id(&text) {
        // Past u64::MAX, and so past the largest id (the resolver refuses the rest).
        Err(ParseError::NumberTooLarge { .. }) => return Err(ParseError::NodeIdTooLarge { text }),
        other => other?,
    };
    args.finish().map(|()| Command::Add { node })
}

pub fn set_log(args: &mut Args) -> Result<Command, ParseError> {
    let node = args.node("NODE")?;
    let text = args.all().join(" ");
    if text.is_empty() {
        return Err(args.usage("missing TERMS"));
    }
    if text == "-" || text == "none" {
        return Ok(Command::SetLog {
            node,
            terms: Vec::new(),
        });
    }
    let mut terms: Vec<u64> = Vec::new();
    for piece in text.split(',') {
        let term = parse_term(piece.trim())?;
        match terms.last() {
            _ if term == 0 => return Err(ParseError::ZeroTerm),
            Some(&prev) if prev > term => {
                return Err(ParseError::DecreasingTerms { prev, next: term });
            }
            _ => terms.push(term),
        }
    }
    Ok(Command::SetLog { node, terms })
}

/// Reads a log entry's term: a whole number up to [`MAX_GIVEN_TERM`] (a larger one could
/// not grow: the node's next election would need a term past the largest there is).
fn parse_term(text: &str) -> Result<u64, ParseError> {
    let too_large = || ParseError::TermTooLarge {
        text: text.to_string(),
    };
    match parse_u64(text, "term") {
        Ok(term) if term > MAX_GIVEN_TERM => Err(too_large()),
        Err(ParseError::NumberTooLarge { .. }) => Err(too_large()),
        other => other,
    }
}

/// Reads an optional trailing `within D` after at least `before` words.
fn within(args: &mut Args, before: usize) -> Result<Option<u64>, ParseError> {
    args.trailing("within", before)?
        .map(|d| parse_duration(&d))
        .transpose()
}

pub fn wait_leader(args: &mut Args) -> Result<Command, ParseError> {
    let within_us = within(args, 0)?;
    args.finish().map(|()| Command::WaitLeader { within_us })
}

pub fn wait_commit(args: &mut Args) -> Result<Command, ParseError> {
    let within_us = within(args, 1)?;
    let index = parse_u64(&args.word("IDX")?, "index")?;
    args.finish()
        .map(|()| Command::WaitCommit { index, within_us })
}

pub fn wait_until(args: &mut Args) -> Result<Command, ParseError> {
    let within_us = within(args, 1)?;
    let condition = args.condition()?;
    Ok(Command::WaitUntil {
        condition,
        within_us,
    })
}

pub fn expect(args: &mut Args) -> Result<Command, ParseError> {
    if args.has_keyword_and_duration("within") {
        return Err(args.usage(
            "expect tests the condition now and takes no 'within': to wait for it, use \
             'wait until CONDITION within D'",
        ));
    }
    args.condition()
        .map(|condition| Command::Expect { condition })
}

pub fn try_(args: &mut Args) -> Result<Command, ParseError> {
    let inner = args.rest().trim();
    let first = inner.split_whitespace().next().unwrap_or_default();
    if first.trim_matches('"') == "try" {
        return Err(ParseError::NestedTry);
    }
    match parse(inner)? {
        Some(Command::Quit) => Err(ParseError::TryQuit),
        Some(command) => Ok(Command::Try {
            command: Box::new(command),
        }),
        None => Err(args.usage("missing COMMAND")),
    }
}

pub fn say(args: &mut Args) -> Result<Command, ParseError> {
    Ok(Command::Say {
        text: args.rest().trim().to_string(),
    })
}

pub fn save(args: &mut Args) -> Result<Command, ParseError> {
    let file = args.word("FILE")?;
    args.finish().map(|()| Command::Save { file })
}

pub fn export(args: &mut Args) -> Result<Command, ParseError> {
    let slides = args.flag("--slides")?;
    let heartbeats = args.flag("--heartbeats")?;
    let file = args.word("FILE")?;
    if slides && ExportFormat::of(&file) != Some(ExportFormat::Svg) {
        return Err(ParseError::ExportExtension {
            file,
            expected: ".svg",
        });
    }
    if ExportFormat::of(&file).is_none() {
        return Err(ParseError::ExportExtension {
            file,
            expected: ExportFormat::EXTENSIONS,
        });
    }
    refuse_nameless(&file)?;
    let window_us = args.optional().map(|w| parse_window(&w)).transpose()?;
    args.finish()?;
    if slides {
        return Ok(Command::ExportSlides {
            file,
            window_us,
            heartbeats,
        });
    }
    if heartbeats {
        return Err(args.usage("--heartbeats goes with --slides".to_string()));
    }
    Ok(Command::Export { file, window_us })
}

/// A file whose name is its extension alone (`/tmp/.svg`): written, it would be a hidden
/// file with no name.
fn refuse_nameless(file: &str) -> Result<(), ParseError> {
    let name = file.rsplit('/').next().unwrap_or(file);
    match name.rsplit_once('.') {
        Some(("", _)) => Err(ParseError::ExportNoName {
            file: file.to_string(),
        }),
        _ => Ok(()),
    }
}

/// An export window: `1s..2s`, or open at either end: `..2s` from the start, `1s..` to
/// the end of the run ([`OPEN_END_US`]).
fn parse_window(text: &str) -> Result<(u64, u64), ParseError> {
    match text.split_once("..") {
        Some(("", "")) => Err(ParseError::BadDuration {
            text: text.to_string(),
            reason: "expected a window FROM..TO, ..TO or FROM.., e.g. 100ms..2s",
        }),
        Some(("", to)) => Ok((0, parse_duration(to)?)),
        Some((from, "")) => Ok((parse_duration(from)?, OPEN_END_US)),
        _ => parse_duration_range(text, false),
    }
}

pub fn export_log(args: &mut Args) -> Result<Command, ParseError> {
    let slides = args.flag("--slides")?;
    let file = args.word("FILE")?;
    if ExportFormat::of(&file) != Some(ExportFormat::Svg) {
        return Err(ParseError::ExportExtension {
            file,
            expected: ".svg",
        });
    }
    refuse_nameless(&file)?;
    let nodes = args.nodes()?;
    if slides {
        return Ok(Command::ExportLogSlide { file, nodes });
    }
    Ok(Command::ExportLog { file, nodes })
}
