//! Explore with client reads and membership changes: `leader-local-reads` (a stale read,
//! a linearizability violation) and `learners-count` (an entry committed by a leader and
//! a learner, lost by the next leader) are found with tight bounds, with the same shortest
//! counterexample every run, and replay on a real cluster; correct code breaks nothing
//! within the same bounds. And `ignore-higher-term-response` breaks the model's own term
//! rule of Figure 2 (see [`super::rules`]).

use std::time::Duration;

use super::model::{ActionKind, Bounds, Model};
use super::rules::ADOPT_HIGHER_TERM;
use super::search::{Outcomes, SearchOptions, Strategy, search};
use super::{counterexample, replay, scenario_steps};
use crate::cluster::Rule;
use crate::raft::Bug;

/// The tight bounds in which `bug` breaks `rule`, and the shortest counterexample's length.
fn tight() -> Bounds {
    use ActionKind::{Deliver, Read, Timeout, Write};
    Bounds {
        nodes: 3,
        max_term: 2,
        max_log: 2,
        max_msgs: 8,
        max_crashes: 0,
        max_writes: 1,
        max_reads: 1,
        max_changes: 0,
        max_depth: 11,
        actions: vec![Deliver, Timeout, Write, Read],
    }
}

/// Membership changes within bounds: deep enough for a random walk, not a test's
/// breadth-first search (the shortest path found by hand is 15 steps, with up to 9
/// messages in flight).
fn membership() -> Bounds {
    use ActionKind::{Add, Deliver, Heartbeat, Remove, Timeout};
    Bounds {
        nodes: 3,
        max_term: 3,
        max_log: 4,
        max_msgs: 10,
        max_crashes: 0,
        max_writes: 0,
        max_reads: 0,
        max_changes: 1,
        max_depth: 40,
        actions: vec![Deliver, Timeout, Heartbeat, Add, Remove],
    }
}

fn options() -> SearchOptions {
    SearchOptions {
        strategy: Strategy::Bfs,
        workers: 2,
        symmetry: true,
        max_states: 2_000_000,
        max_time: Duration::from_secs(120),
        walks: 0,
        seed: 1,
    }
}

fn walks() -> SearchOptions {
    SearchOptions {
        strategy: Strategy::Random,
        workers: 1,
        symmetry: false,
        walks: 20_000,
        ..options()
    }
}

fn run(model: &Model, options: &SearchOptions) -> Outcomes {
    search(model, options, &|_| {})
}

#[test]
fn a_stale_read_of_a_deposed_leader_is_found_with_the_same_shortest_counterexample() {
    // leader-local-reads: n1 wins term 1 and does not hear of term 2, whose leader
    // commits and acknowledges w1; n1 answers a read of w1 from its own state machine.
    let model = Model::new(tight(), &[Bug::LeaderLocalReads], 1);
    for _ in 0..2 {
        let found = run(&model, &options())
            .found
            .expect("a stale read is found");
        assert_eq!(found.finding.rule, Some(Rule::Linearizability), "{found:?}");
        assert_eq!(found.actions.len(), 11);
        let counterexample = counterexample(&model, &found);
        let lines = scenario_steps(&counterexample);
        assert!(
            lines.iter().any(|l| l.starts_with("get w1 via ")),
            "{lines:#?}"
        );
        let rules = replay(&model, &counterexample).expect("the path replays");
        assert!(
            rules.contains(&Rule::Linearizability),
            "the cluster saw {rules:?}"
        );
    }
}

#[test]
fn reads_through_the_log_are_never_stale_within_the_same_bounds() {
    let outcomes = run(&Model::new(tight(), &[], 1), &options());
    assert!(outcomes.found.is_none(), "{:?}", outcomes.found);
    assert!(outcomes.progress.distinct > 10_000);
}

#[test]
fn learners_counted_for_a_majority_are_found_by_random_walks_the_same_every_run() {
    // learners-count: a leader commits an entry on itself and a learner; a voter that
    // lacks it wins the next term.
    let model = Model::new(membership(), &[Bug::LearnersCount], 1);
    let found = run(&model, &walks()).found.expect("a violation is found");
    let again = run(&model, &walks()).found.expect("a violation is found");
    assert_eq!(found.actions, again.actions);
    assert_eq!(
        found.finding.rule,
        Some(Rule::LeaderCompleteness),
        "{found:?}"
    );
    let counterexample = counterexample(&model, &found);
    let lines = scenario_steps(&counterexample);
    assert!(lines.iter().any(|l| l == "add 4"), "{lines:#?}");
    let rules = replay(&model, &counterexample).expect("the path replays");
    assert!(
        rules.contains(&Rule::LeaderCompleteness),
        "the cluster saw {rules:?}"
    );
}

#[test]
fn membership_changes_break_no_rule_in_as_many_walks_of_correct_code() {
    let options = SearchOptions {
        walks: 5_000,
        ..walks()
    };
    let outcomes = run(&Model::new(membership(), &[], 1), &options);
    assert!(outcomes.found.is_none(), "{:?}", outcomes.found);
    assert!(outcomes.progress.distinct > 10_000);
}

#[test]
fn a_response_of_a_higher_term_ignored_is_found_by_the_term_rule_of_figure_2() {
    // ignore-higher-term-response: n1 asks for votes in term 1; n2, in term 2 already,
    // refuses; n1 handles the refusal as one of its own term and stays in term 1.
    let bounds = Bounds {
        max_term: 2,
        max_log: 1,
        max_depth: 8,
        max_crashes: 0,
        max_reads: 0,
        actions: vec![ActionKind::Deliver, ActionKind::Timeout],
        ..Bounds::default()
    };
    let model = Model::new(bounds.clone(), &[Bug::IgnoreHigherTermResponse], 1);
    for _ in 0..2 {
        let found = run(&model, &options()).found.expect("a violation is found");
        assert_eq!(found.finding.name, ADOPT_HIGHER_TERM, "{found:?}");
        assert_eq!(found.actions.len(), 5);
        let counterexample = counterexample(&model, &found);
        let lines = scenario_steps(&counterexample);
        assert!(
            lines.last().is_some_and(|l| l.starts_with("say n")),
            "{lines:#?}"
        );
        replay(&model, &counterexample).expect("the path replays");
    }
    let outcomes = run(&Model::new(bounds, &[], 1), &options());
    assert!(outcomes.found.is_none(), "{:?}", outcomes.found);
}
