//! Completion and hints for the REPL, made from the command table.
//!
//! [`complete`] offers command names (and the second words of `net ...` and `wait ...`),
//! then, by the kind of argument the table gives for the cursor's position, node ids
//! (plain numbers, as `Display` writes them) and `leader`, the keys seen so far, `on|off`,
//! trace levels, `via` and `within`, and inside conditions the condition words, `all`,
//! roles, comparisons and safety rules. `try` completes the command after it; `help` the
//! command names. [`usage_hint`] gives the rest of the usage line for rustyline's hinter.

use crate::repl::command::{CmpOp, NodeRole, SafetyRule, TraceLevel};
use crate::repl::table::{self, ArgKind, CommandSpec, CondArg};
use crate::repl::token::{quote, tokenize_lenient};

/// What the cluster knows that completion can offer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompletionContext {
    /// The cluster's node ids.
    pub node_ids: Vec<u64>,
    /// The keys clients have used so far.
    pub keys: Vec<String>,
}

/// Completes the word at byte offset `pos` of `line`: the offset where the replaced word
/// starts, and the candidates for it (in table order, each once).
pub fn complete(line: &str, pos: usize, ctx: &CompletionContext) -> (usize, Vec<String>) {
    let mut pos = pos.min(line.len());
    while !line.is_char_boundary(pos) {
        pos -= 1;
    }
    let before = line.get(..pos).unwrap_or_default();
    let mut words: Vec<String> = tokenize_lenient(before)
        .into_iter()
        .map(|t| t.text)
        .collect();
    let at_word_end = !before.is_empty() && !before.ends_with(char::is_whitespace);
    let current = if at_word_end {
        words.pop().unwrap_or_default()
    } else {
        String::new()
    };
    let word_start = if at_word_end {
        let space = before.char_indices().rev().find(|(_, c)| c.is_whitespace());
        space.map_or(0, |(i, c)| i + c.len_utf8())
    } else {
        pos
    };
    let (candidates, split) = candidates(&words, ctx);
    let (start, prefix) = match split {
        true => {
            let cut = current.rfind([',', '|']).map_or(0, |i| i + 1);
            (
                word_start + cut,
                current.get(cut..).unwrap_or_default().to_string(),
            )
        }
        false => (word_start, current.trim_start_matches('"').to_string()),
    };
    let mut out: Vec<String> = Vec::new();
    for c in candidates {
        if c.trim_start_matches('"').starts_with(prefix.as_str()) && !out.contains(&c) {
            out.push(c);
        }
    }
    (start, out)
}

/// The candidates after `words`, and whether the current word splits at `,` and `|`.
fn candidates(words: &[String], ctx: &CompletionContext) -> (Vec<String>, bool) {
    let Some(first) = words.first() else {
        return (strings(table::first_words()), false);
    };
    let second = words.get(1);
    let spec = second
        .and_then(|s| table::find(&format!("{first} {s}")).map(|spec| (spec, 2)))
        .or_else(|| table::find(first).map(|spec| (spec, 1)));
    let subs = table::second_words(first);
    if words.len() == 1 && !subs.is_empty() && spec.is_none_or(|(s, _)| s.args.is_empty()) {
        return (strings(subs), false);
    }
    match spec {
        Some((spec, used)) => args_candidates(spec, words.get(used..).unwrap_or_default(), ctx),
        None => (Vec::new(), false),
    }
}

fn args_candidates(
    spec: &CommandSpec,
    args: &[String],
    ctx: &CompletionContext,
) -> (Vec<String>, bool) {
    let Some(&last) = spec.args.last() else {
        return (Vec::new(), false);
    };
    let repeats = matches!(
        last,
        ArgKind::NodesOrVerbose
            | ArgKind::NodesOrJson
            | ArgKind::Nodes
            | ArgKind::NodeSet
            | ArgKind::Partition
            | ArgKind::LinkEnds
            | ArgKind::Terms
    );
    let kind = match spec.args.get(args.len()) {
        Some(&kind) => kind,
        None if repeats => last,
        None if matches!(last, ArgKind::Condition | ArgKind::Command | ArgKind::Topic) => last,
        None => return (Vec::new(), false),
    };
    match kind {
        ArgKind::Condition => {
            let within = spec.condition_then_within();
            (condition_candidates(args, within, ctx), false)
        }
        ArgKind::Command if args.first().is_some_and(|w| w == "try") => (Vec::new(), false),
        ArgKind::Command => candidates(args, ctx),
        ArgKind::Topic if args.is_empty() => (strings(table::first_words()), false),
        ArgKind::Topic if args.len() == 1 => (
            args.first()
                .map_or(Vec::new(), |f| strings(table::second_words(f))),
            false,
        ),
        kind => (kind_candidates(kind, ctx), kind == ArgKind::Partition),
    }
}

fn kind_candidates(kind: ArgKind, ctx: &CompletionContext) -> Vec<String> {
    let mut out = Vec::new();
    match kind {
        ArgKind::Node | ArgKind::Nodes | ArgKind::Partition => out.extend(nodes(ctx)),
        ArgKind::NodeSet => {
            out.push("all".to_string());
            out.extend(nodes(ctx));
        }
        ArgKind::NodesOrVerbose | ArgKind::NodesOrJson => {
            if kind == ArgKind::NodesOrVerbose {
                out.push("-v".to_string());
            }
            out.push("--json".to_string());
            out.push("all".to_string());
            out.extend(nodes(ctx));
        }
        ArgKind::LinkEnds => {
            out.extend(nodes(ctx));
            out.push("->".to_string());
        }
        ArgKind::Key => out.extend(ctx.keys.iter().map(|k| quote(k))),
        ArgKind::OnOff => out.extend(strings(vec!["on", "off"])),
        ArgKind::TraceLevel => out.extend(strings(TraceLevel::words())),
        ArgKind::Keyword(word) => out.push(word.to_string()),
        _ => {}
    }
    out
}

/// Candidates inside a condition whose words so far are `words`.
fn condition_candidates(words: &[String], within: bool, ctx: &CompletionContext) -> Vec<String> {
    let Some((name, args)) = words.split_first() else {
        return table::CONDITIONS
            .iter()
            .map(|c| c.name.to_string())
            .collect();
    };
    let Some(spec) = table::CONDITIONS.iter().find(|c| c.name == name.as_str()) else {
        return Vec::new();
    };
    let optional = spec.usage.contains('[');
    let mut out = match spec.args.get(args.len()) {
        Some(&arg) => cond_arg_candidates(arg, ctx),
        None => Vec::new(),
    };
    let complete = args.len() == spec.args.len() || (optional && args.is_empty());
    if within && complete {
        out.push("within".to_string());
    }
    out
}

fn cond_arg_candidates(arg: CondArg, ctx: &CompletionContext) -> Vec<String> {
    match arg {
        CondArg::Node => nodes(ctx),
        CondArg::NodeOrAll => {
            let mut out = nodes(ctx);
            out.push("all".to_string());
            out
        }
        CondArg::Role => strings(NodeRole::words()),
        CondArg::Op => strings(CmpOp::words()),
        CondArg::Equals => vec!["==".to_string()],
        CondArg::Key => ctx.keys.iter().map(|k| quote(k)).collect(),
        CondArg::Rule => strings(SafetyRule::words()),
        CondArg::Number | CondArg::Value => Vec::new(),
    }
}

/// The node ids as plain numbers, then `leader`.
fn nodes(ctx: &CompletionContext) -> Vec<String> {
    let mut ids = ctx.node_ids.clone();
    ids.sort_unstable();
    ids.dedup();
    let mut out: Vec<String> = ids.iter().map(u64::to_string).collect();
    out.push("leader".to_string());
    out
}

fn strings(words: Vec<&str>) -> Vec<String> {
    words.into_iter().map(str::to_string).collect()
}

/// A hint to show after the cursor at the end of `line`: the rest of a command name being
/// typed (when only one name fits), or the arguments of the usage line not yet typed.
pub fn usage_hint(line: &str) -> Option<String> {
    let words: Vec<String> = tokenize_lenient(line).into_iter().map(|t| t.text).collect();
    let ends_in_space = line.ends_with(char::is_whitespace);
    let first = words.first()?;
    if words.len() == 1 && !ends_in_space {
        let fitting: Vec<&str> = table::first_words()
            .into_iter()
            .filter(|n| n.starts_with(first.as_str()))
            .collect();
        if let [name] = fitting.as_slice() {
            return name
                .strip_prefix(first.as_str())
                .filter(|s| !s.is_empty())
                .map(str::to_string);
        }
        return None;
    }
    if !ends_in_space {
        return None;
    }
    let spec = words
        .get(1)
        .and_then(|s| table::find(&format!("{first} {s}")))
        .or_else(|| table::find(first))?;
    let used = spec.name.split(' ').count();
    let typed = words.len().saturating_sub(used);
    let usage = spec.usage.split(" | ").next().unwrap_or(spec.usage);
    let rest = usage.strip_prefix(spec.name).unwrap_or_default();
    let units = usage_units(rest);
    let hint = units.get(typed..).unwrap_or_default().join(" ");
    (!hint.is_empty()).then_some(hint)
}

/// Splits the argument part of a usage line into units, keeping `[...]` groups whole.
fn usage_units(usage: &str) -> Vec<String> {
    let mut units = Vec::new();
    let mut depth = 0usize;
    let mut unit = String::new();
    for c in usage.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if c.is_whitespace() && depth == 0 {
            if !unit.is_empty() {
                units.push(std::mem::take(&mut unit));
            }
        } else {
            unit.push(c);
        }
    }
    if !unit.is_empty() {
        units.push(unit);
    }
    units
}
