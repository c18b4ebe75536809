//! The checker holds Log Matching by hash chains (one hash per node and index that covers
//! the whole prefix), not by comparing entries. These tests check that it still catches
//! what a comparison entry by entry catches, and names the same first differing entry.

use std::path::Path;

use raftlab::cluster::checker::Breach;
use raftlab::cluster::{Rule, Violation};
use raftlab::raft::{Entry, NodeId};
use raftlab::repl::scenario;
use raftlab::repl::session::Session;

/// The steps of a scenario file, as command lines.
fn steps(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("the fixture is readable");
    let (_, steps) = text.split_once("steps:\n").expect("the fixture has steps");
    steps
        .lines()
        .filter_map(|line| line.strip_prefix("  - "))
        .map(|line| line.trim_matches('\'').to_string())
        .collect()
}

/// Plays `path` up to the hand-off that breaks `rule` (each `run` stops right after it);
/// the violation, and the logs of the nodes it names at that moment.
fn first_violation(path: &Path, rule: Rule) -> (Violation, Vec<(NodeId, Vec<Entry>)>) {
    let loaded = scenario::load(path).unwrap_or_else(|e| panic!("{e}"));
    let mut session = Session::new(loaded.config.clone()).expect("the cluster starts");
    for line in steps(path) {
        if line.starts_with("expect") {
            break;
        }
        if let Some(ms) = line.strip_prefix("run ").and_then(|d| d.strip_suffix("ms")) {
            let duration_us: u64 = ms.parse::<u64>().expect("a run in whole ms") * 1_000;
            let found = session
                .cluster()
                .run_until_broken(rule, duration_us)
                .expect("the run stays in bounds");
            if found {
                break;
            }
        } else {
            session.run_line(&line).expect("the step runs");
        }
    }
    let violations = session
        .cluster()
        .status()
        .expect("the cluster answers")
        .violations;
    let violation = violations
        .into_iter()
        .find(|v| v.rule == rule)
        .unwrap_or_else(|| panic!("{rule} is broken by {}", path.display()));
    let logs = session
        .cluster()
        .logs(violation.nodes.clone())
        .expect("the logs of the nodes named");
    (violation, logs)
}

/// The first index at which two logs hold different entries, by comparing the entries.
fn first_differing_entry(a: &[Entry], b: &[Entry]) -> Option<u64> {
    a.iter().zip(b).find(|(x, y)| x != y).map(|(x, _)| x.index)
}

#[test]
fn log_matching_by_digest_catches_skip_prev_check_and_names_the_first_differing_entry() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cluster/fixtures/log-matching-skip-prev-check.yaml");
    let (violation, logs) = first_violation(&path, Rule::LogMatching);
    let [(_, a), (_, b)] = &logs[..] else {
        panic!("a Log Matching violation names two nodes: {violation:?}");
    };
    // The logs are read whole here (the fixture never compacts): the same start.
    assert_eq!(a.first().map(|e| e.index), b.first().map(|e| e.index));
    let index = violation.index.expect("the violation names an index");
    let a = &a[..a.len().min(index as usize)];
    let b = &b[..b.len().min(index as usize)];
    let first = first_differing_entry(a, b).expect("the logs differ entry by entry");
    let Breach::LogsDiffer {
        difference: Some(difference),
        ..
    } = &violation.detail
    else {
        panic!("the breach names the first differing entry: {violation:?}");
    };
    assert_eq!(
        difference.index, first,
        "per entry: {first}; by digest: {difference:?}"
    );
    let words = violation.to_string();
    assert!(
        words.contains(&format!(
            "the first entry that differs is at index {first},"
        )),
        "{words}"
    );
}
