//! The end of a hosted run: the counts, the latencies, the linearizability verdict, and
//! the history written as JSON lines that `raftlab lincheck` reads, all in words, as
//! Maelstrom's `results.edn` gives them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::clients::{self, End, Workload};
use super::run::Host;
use super::{say, tell};
use crate::lincheck::check::{Verdict, check, longest_order};
use crate::lincheck::kv::KvModel;
use crate::lincheck::search::Limit;
use crate::lincheck::tool::describe_violation;
use crate::lincheck::{Budget, svg};
use crate::repl::view::count;

/// Problems of the hosted programs, counted by kind.
#[derive(Clone, Debug, Default)]
pub struct Problems {
    pub counts: BTreeMap<&'static str, u64>,
}

impl Problems {
    /// Counts one; returns how many of that kind so far.
    pub fn count(&mut self, kind: &'static str) -> u64 {
        let n = self.counts.entry(kind).or_insert(0);
        *n += 1;
        *n
    }
}

/// The figures of a run, for the summary and for tests.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
    pub ok: usize,
    pub failed: usize,
    pub unknown: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// The figures of the clients' records.
pub fn figures(host: &Host) -> Figures {
    let mut figures = Figures::default();
    let mut latencies: Vec<u64> = Vec::new();
    for record in &host.records {
        match &record.end {
            Some((End::Ok(_), at)) => {
                figures.ok += 1;
                latencies.push(at - record.invoke_us);
            }
            Some((End::Failed(_) | End::NotSent, _)) => figures.failed += 1,
            _ => figures.unknown += 1,
        }
    }
    latencies.sort_unstable();
    let at = |q: f64| {
        let i = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies.get(i).map_or(0.0, |&us| us as f64 / 1000.0)
    };
    figures.p50_ms = at(0.5);
    figures.p99_ms = at(0.99);
    figures
}

/// Prints the summary, writes the history, checks it; returns the exit status: 2 when no
/// node ever answered `init` (the program cannot start as a node, and there is nothing to
/// check), else the verdict's.
pub fn finish(host: &mut Host) -> u8 {
    let figures = figures(host);
    let mut text = String::new();
    header(host, &figures, &mut text);
    nodes(host, &mut text);
    let history = host.out.join("history.jsonl");
    let written = std::fs::write(&history, clients::history_lines(&host.records));
    let code = match host.args.workload {
        _ if !host.any_initialised => {
            let _ = writeln!(text, "  not checked: no node answered init");
            2
        }
        Workload::LinKv => verdict(host, &mut text),
        Workload::Echo => {
            let bad = figures.unknown + figures.failed;
            let _ = writeln!(text, "  echo: {} answered in kind, {bad} not", figures.ok);
            u8::from(figures.ok == 0)
        }
    };
    match written {
        Ok(()) => {
            let path = history.display();
            let _ = writeln!(text, "  history: {path} (raftlab lincheck {path})");
        }
        Err(error) => {
            let _ = writeln!(text, "  cannot write {}: {error}", history.display());
        }
    }
    let _ = writeln!(
        text,
        "  node logs (stderr): {}/n1.log ...",
        host.out.display()
    );
    say(format_args!("{text}"));
    if !host.any_initialised {
        tell(format_args!(
            "error: no node answered init, so `{}` cannot start as a node (its stderr is in {})",
            host.args.command.join(" "),
            host.out.join("n1.log").display()
        ));
    }
    code
}

fn header(host: &Host, figures: &Figures, text: &mut String) {
    let args = &host.args;
    let program = args.command.join(" ");
    let _ = writeln!(
        text,
        "raftlab host: {} of `{program}`, {} workload, {}, {:.1} s, seed {}",
        count(args.nodes, "node", "nodes"),
        args.workload.name(),
        count(args.clients, "client", "clients"),
        host.duration_s(),
        args.seed
    );
    if host.interrupted() {
        let _ = writeln!(text, "  interrupted (Ctrl-C): the run ended early");
    }
    let _ = match (host.init_ms, host.any_initialised) {
        (Some(ms), _) => writeln!(text, "  nodes started and initialised in {ms:.1} ms"),
        (None, true) => writeln!(text, "  not every node answered init"),
        (None, false) => writeln!(text, "  no node answered init"),
    };
    if host.all_exited {
        let _ = writeln!(text, "  every node exited: the run ended early");
    }
    let total = host.records.len();
    let _ = writeln!(
        text,
        "  operations: {total}: {} ok, {} failed (did not happen), {} unknown (may have)",
        figures.ok, figures.failed, figures.unknown
    );
    let availability = 100.0 * figures.ok as f64 / total.max(1) as f64;
    let _ = writeln!(text, "  availability: {availability:.1}% of operations ok");
    let _ = match figures.ok {
        0 => writeln!(text, "  latency of ok operations: none was ok"),
        _ => writeln!(
            text,
            "  latency of ok operations: p50 {:.1} ms, p99 {:.1} ms",
            figures.p50_ms, figures.p99_ms
        ),
    };
    let per_op = host.routed as f64 / total.max(1) as f64;
    let _ = writeln!(
        text,
        "  messages: {} between nodes delivered ({per_op:.1} per operation), {} lost \
         (cuts, loss, nodes down), {} duplicated; {} client messages, {} late replies",
        host.routed, host.net_dropped, host.duplicated, host.client_messages, host.late_replies
    );
    if !host.faults.is_empty() {
        let _ = writeln!(text, "  nemesis: {}", host.faults.join("; "));
    }
    let mut problems: Vec<String> = host
        .problems
        .counts
        .iter()
        .map(|(kind, n)| format!("{n} {kind}"))
        .collect();
    for slot in &host.slots {
        if let Some(child) = &slot.child {
            let drops = &child.drops;
            let from = drops.from_child.load(Ordering::Relaxed);
            let to = drops.to_child.load(Ordering::Relaxed);
            if from + to > 0 {
                problems.push(format!(
                    "{}: {from} lines dropped from it, {to} to it",
                    slot.name
                ));
            }
        }
    }
    let _ = match problems.is_empty() {
        true => writeln!(text, "  problems: none"),
        false => writeln!(text, "  problems: {}", problems.join(", ")),
    };
}

fn nodes(host: &Host, text: &mut String) {
    for slot in &host.slots {
        let state = slot.state.as_ref().map_or(String::new(), |s| {
            let field = |name: &str| s.get(name).map_or("?".to_string(), clients::text);
            format!(
                ", last state: {} term {} commit {}",
                field("role"),
                field("term"),
                field("commit")
            )
        });
        let pids: Vec<String> = slot.pids.iter().map(u32::to_string).collect();
        let _ = writeln!(
            text,
            "  {}: {} messages out, {} in, started {} time(s) (pid {}){state}",
            slot.name,
            slot.sent,
            slot.received,
            pids.len(),
            pids.join(", ")
        );
    }
}

fn verdict(host: &Host, text: &mut String) -> u8 {
    let model = KvModel::default();
    let (ops, _) = clients::operations(&host.records);
    let report = check(&model, &ops, Budget::Time(Duration::from_secs(20)));
    match &report.verdict {
        Verdict::Linearizable => {
            let _ = writeln!(
                text,
                "  linearizability: linearizable ({}, {}, checked in {:.0} ms)",
                count(ops.len(), "operation", "operations"),
                count(report.partitions, "key", "keys"),
                report.search_time.as_secs_f64() * 1000.0
            );
            0
        }
        Verdict::Undecided { key, .. } => {
            let _ = writeln!(
                text,
                "  linearizability: undecided (key {key:?} out of time)"
            );
            0
        }
        Verdict::Violation(violation) => {
            let _ = writeln!(text, "  linearizability: NOT linearizable (times in µs)");
            text.push_str(&describe_violation(&model, &ops, violation));
            let limit = Limit {
                max_steps: 1_000_000,
                deadline: None,
                stop: None,
            };
            let longest = longest_order(&model, &ops, &violation.partition, &limit);
            let picture = svg::violation(&model, &ops, violation, &longest);
            let path = host.out.join("violation.svg");
            let _ = match std::fs::write(&path, picture) {
                Ok(()) => writeln!(text, "  picture: {}", path.display()),
                Err(error) => writeln!(text, "  cannot write {}: {error}", path.display()),
            };
            1
        }
    }
}
