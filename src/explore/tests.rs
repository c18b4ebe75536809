//! Explore on a 3-node cluster with tight bounds: each teaching bug the model can show is
//! found, with the same shortest counterexample every run, and its path replays on a real
//! cluster to the same rule; correct code breaks nothing within the same bounds.

use std::time::Duration;

use super::model::{Action, ActionKind, Bounds, Model, Outcome, State};
use super::search::{Outcomes, SearchOptions, Searcher, Strategy, search};
use super::{counterexample, replay, scenario_steps};
use crate::cluster::{ClockMode, ClusterConfig, MsgId, Rule};
use crate::raft::{Bug, NodeId};
use crate::repl::session::Session;

fn bounds(max_term: u64, max_log: u64, max_depth: u32, actions: &[ActionKind]) -> Bounds {
    Bounds {
        nodes: 3,
        max_term,
        max_log,
        max_msgs: 4,
        max_crashes: 1,
        max_writes: 1,
        max_reads: 1,
        max_changes: 0,
        max_depth,
        actions: actions.to_vec(),
    }
}

const ELECTIONS: &[ActionKind] = &[ActionKind::Deliver, ActionKind::Timeout];
const ELECTIONS_AND_CRASHES: &[ActionKind] = &[
    ActionKind::Deliver,
    ActionKind::Timeout,
    ActionKind::Crash,
    ActionKind::Restart,
];

/// Tight bounds in which `bug` breaks a rule, the rule, and the length of the shortest
/// counterexample; `None` for a bug out of the model's reach or too deep for a test of a
/// debug build (see `every_teaching_bug_in_reach`).
fn tight(bug: Bug) -> Option<(Bounds, Rule, usize)> {
    match bug {
        Bug::VoteWithoutLogCheck => Some((bounds(2, 1, 8, ELECTIONS), Rule::LeaderCompleteness, 8)),
        Bug::ForgetVote => Some((
            bounds(1, 1, 8, ELECTIONS_AND_CRASHES),
            Rule::ElectionSafety,
            8,
        )),
        // leader-local-reads and learners-count need reads and membership changes
        // (`tests_clients`); commit-previous-term, skip-prev-check and commit-beyond-match
        // need deeper paths, found by random walks (`deep_bugs_are_found_by_random_walks`,
        // `figure_8_is_found_from_scratch`).
        _ => None,
    }
}

fn options() -> SearchOptions {
    SearchOptions {
        strategy: Strategy::Bfs,
        workers: 2,
        symmetry: false,
        max_states: 2_000_000,
        max_time: Duration::from_secs(120),
        walks: 0,
        seed: 1,
    }
}

fn run(model: &Model, options: &SearchOptions) -> Outcomes {
    search(model, options, &|_| {})
}

#[test]
fn every_teaching_bug_in_reach_is_found_with_the_same_shortest_counterexample() {
    for &bug in Bug::ALL {
        let Some((bounds, rule, length)) = tight(bug) else {
            continue;
        };
        let model = Model::new(bounds, &[bug], 1);
        for _ in 0..2 {
            let outcomes = run(&model, &options());
            let found = outcomes.found.expect("a violation is found");
            assert_eq!(
                found.finding.rule,
                Some(rule),
                "{bug}: {}",
                found.finding.detail
            );
            assert_eq!(found.actions.len(), length, "{bug}");
            let counterexample = counterexample(&model, &found);
            let rules = replay(&model, &counterexample).expect("the path replays");
            assert!(rules.contains(&rule), "{bug}: the cluster saw {rules:?}");
        }
    }
}

#[test]
fn correct_raft_breaks_no_rule_within_the_same_bounds() {
    for &bug in Bug::ALL {
        let Some((bounds, _, _)) = tight(bug) else {
            continue;
        };
        let outcomes = run(&Model::new(bounds, &[], 1), &options());
        assert!(outcomes.found.is_none(), "in the bounds of {bug}");
        assert!(outcomes.progress.distinct > 1_000, "in the bounds of {bug}");
    }
}

#[test]
fn a_counterexample_is_told_in_words_and_in_command_lines() {
    let (bounds, _, _) = tight(Bug::ForgetVote).expect("in reach");
    let model = Model::new(bounds, &[Bug::ForgetVote], 1);
    let found = run(&model, &options()).found.expect("a violation is found");
    let counterexample = counterexample(&model, &found);
    let words: Vec<&str> = counterexample
        .steps
        .iter()
        .map(|s| s.words.as_str())
        .collect();
    assert!(
        words[0].ends_with(" times out and asks for votes in term 1"),
        "{words:#?}"
    );
    assert!(words.iter().any(|w| w.ends_with(" crashes")), "{words:#?}");
    assert!(
        words.iter().any(|w| w.contains(" receives #")),
        "{words:#?}"
    );
    let lines = scenario_steps(&counterexample);
    assert!(lines[0].starts_with("say 1. n"), "{lines:#?}");
    assert!(lines[1].starts_with("campaign "), "{lines:#?}");
    assert!(lines.iter().any(|l| l.starts_with("kill ")), "{lines:#?}");
    assert!(
        lines.iter().any(|l| l.starts_with("restart ")),
        "{lines:#?}"
    );
    assert_eq!(
        lines.last().map(String::as_str),
        Some("expect violation election-safety")
    );
}

#[test]
fn symmetry_reduction_finds_the_same_shortest_counterexample_in_fewer_states() {
    let (bounds, _, length) = tight(Bug::VoteWithoutLogCheck).expect("in reach");
    let model = Model::new(bounds, &[Bug::VoteWithoutLogCheck], 1);
    let plain = run(&model, &options());
    let reduced = run(
        &model,
        &SearchOptions {
            symmetry: true,
            ..options()
        },
    );
    let found = reduced.found.expect("a violation is found");
    assert_eq!(found.actions.len(), length);
    assert!(reduced.progress.distinct * 2 < plain.progress.distinct);
}

/// Bugs whose shortest counterexample is beyond a breadth-first search in a test: found
/// by random walks of every action, on one worker, so that the same walk finds them on
/// every run.
#[test]
fn deep_bugs_are_found_by_random_walks() {
    for bug in [Bug::SkipPrevCheck, Bug::CommitBeyondMatch] {
        let bounds = Bounds {
            max_writes: 2,
            ..Bounds::default()
        };
        let model = Model::new(bounds, &[bug], 1);
        let options = SearchOptions {
            strategy: Strategy::Random,
            workers: 1,
            walks: 100_000,
            ..options()
        };
        let found = run(&model, &options).found.expect("a violation is found");
        let again = run(&model, &options).found.expect("a violation is found");
        assert_eq!(found.actions, again.actions, "{bug}");
        assert!(found.actions.len() <= 40, "{bug}");
        let rule = found.finding.rule.expect("a rule, not a panic");
        let rules = replay(&model, &counterexample(&model, &found)).expect("the path replays");
        assert!(rules.contains(&rule), "{bug}: the cluster saw {rules:?}");
    }
}

/// Breadth-first on several workers finds what it finds on one: the same counterexample,
/// path and finding, after the same count of states, on every run (which worker reaches
/// a state first decides nothing).
#[test]
fn breadth_first_on_any_number_of_workers_gives_the_same_outcome() {
    let (bounds, _, _) = tight(Bug::ForgetVote).expect("in reach");
    let model = Model::new(bounds, &[Bug::ForgetVote], 1);
    let on = |workers| {
        let outcomes = run(
            &model,
            &SearchOptions {
                workers,
                ..options()
            },
        );
        let found = outcomes.found.expect("a violation is found");
        let counts = (outcomes.progress.states, outcomes.progress.distinct);
        (found.actions, found.finding.detail, counts)
    };
    let one = on(1);
    for workers in [3, 2, 3] {
        assert_eq!(on(workers), one, "{workers} workers");
    }
}

/// The default search, breadth-first beside random walks, gives the same counterexample
/// on every run however its two threads are scheduled, and says which search found it;
/// random walks on two workers too (the walk of the lowest number wins).
#[test]
fn auto_and_parallel_walks_find_the_same_counterexample_every_run() {
    for (bug, strategy) in [
        (Bug::VoteWithoutLogCheck, Strategy::Auto),
        (Bug::ForgetVote, Strategy::Auto),
        (Bug::CommitBeyondMatch, Strategy::Random),
    ] {
        let bounds = match tight(bug) {
            Some((bounds, _, _)) => bounds,
            None => Bounds {
                max_writes: 2,
                ..Bounds::default()
            },
        };
        let model = Model::new(bounds, &[bug], 1);
        let options = SearchOptions {
            strategy,
            workers: 2,
            walks: 100_000,
            ..options()
        };
        let first = run(&model, &options).found.expect("a violation is found");
        for _ in 0..2 {
            let again = run(&model, &options).found.expect("a violation is found");
            assert_eq!(first.actions, again.actions, "{bug}");
            assert_eq!(first.by, again.by, "{bug}");
        }
        if let Searcher::BreadthFirst = first.by {
            let (_, _, length) = tight(bug).expect("in reach");
            assert_eq!(first.actions.len(), length, "{bug}: a shortest path");
        }
        let rule = first.finding.rule.expect("a rule, not a panic");
        let rules = replay(&model, &counterexample(&model, &first)).expect("the path replays");
        assert!(rules.contains(&rule), "{bug}: the cluster saw {rules:?}");
    }
}

/// Figure 8 of the Raft paper, found from the initial state with the default bounds and
/// the default search (`raftlab explore --bug commit-previous-term`). Slow in a debug
/// build: `cargo test --release -- --ignored figure_8`.
#[test]
#[ignore]
fn figure_8_is_found_from_scratch() {
    let model = Model::new(Bounds::default(), &[Bug::CommitPreviousTerm], 1);
    let options = SearchOptions {
        strategy: Strategy::Auto,
        walks: 1_000_000_000,
        max_time: Duration::from_secs(600),
        max_states: 20_000_000,
        ..options()
    };
    let found = run(&model, &options).found.expect("a violation is found");
    assert!(found.actions.len() <= 30);
    assert_eq!(found.finding.rule, Some(Rule::LeaderCompleteness));
    let counterexample = counterexample(&model, &found);
    let rules = replay(&model, &counterexample).expect("the path replays");
    assert!(
        rules.contains(&Rule::LeaderCompleteness),
        "the cluster saw {rules:?}"
    );
}

/// The id of the first message in flight from `from` to `to` of `kind`.
fn message(state: &State, from: NodeId, to: NodeId, kind: &str) -> MsgId {
    let flight = state.flights.iter().find(|f| {
        let envelope = &f.envelope;
        envelope.from == from && envelope.to == to && envelope.message.kind() == kind
    });
    flight.map(|f| f.id).expect("such a message is in flight")
}

#[test]
fn every_kind_of_action_does_on_a_cluster_what_it_does_in_the_model() {
    let bounds = Bounds {
        max_msgs: 30,
        ..Bounds::default()
    };
    let model = Model::new(bounds, &[], 1);
    let mut state = model.init();
    let mut lines = Vec::new();
    let mut take = |state: &mut State, action: Action| {
        lines.extend(action.steps(state));
        match model.next(state, action) {
            Outcome::Next { state: next, .. } => *state = next,
            Outcome::Broken(finding) => panic!("{}", finding.detail),
        }
    };
    take(&mut state, Action::Timeout { node: 1 });
    let msg = message(&state, 1, 2, "RequestVote");
    take(&mut state, Action::Deliver { msg });
    let msg = message(&state, 1, 3, "RequestVote");
    take(&mut state, Action::Duplicate { msg });
    let msg = message(&state, 2, 1, "VoteResponse");
    take(&mut state, Action::Deliver { msg });
    take(&mut state, Action::Write { node: 1 });
    take(&mut state, Action::Heartbeat { node: 1 });
    let msg = message(&state, 1, 3, "AppendEntries");
    take(&mut state, Action::Drop { msg });
    let msg = message(&state, 1, 2, "AppendEntries");
    take(&mut state, Action::Deliver { msg });
    take(&mut state, Action::Crash { node: 3 });
    take(&mut state, Action::Restart { node: 3 });
    let msg = message(&state, 2, 1, "AppendResponse");
    take(&mut state, Action::Deliver { msg });
    for _ in 0..6 {
        let deliverable = state.flights.iter().find(|f| {
            let to = f.envelope.to;
            state.node(to).processor.is_some()
        });
        let Some(msg) = deliverable.map(|f| f.id) else {
            break;
        };
        take(&mut state, Action::Deliver { msg });
    }
    let config = ClusterConfig {
        clock: ClockMode::Paused,
        ..model.cluster_config()
    };
    let mut session = Session::new(config).expect("the cluster starts");
    for line in &lines {
        let outcome = session.run_line(line).expect("the line runs");
        assert!(outcome.passed, "{line}: {}", outcome.text);
    }
    let status = session.cluster().status().expect("a status");
    for node in &status.nodes {
        let model_node = state.node(node.id);
        let view = model_node.processor.as_ref().map(|p| p.view());
        let view = view.expect("every node is up");
        let seen = (
            node.term,
            node.vote,
            node.last_index,
            node.last_term,
            node.commit,
        );
        let modelled = (
            view.term,
            view.vote,
            view.last_index,
            view.last_term,
            view.commit,
        );
        assert_eq!(seen, modelled, "n{} in {lines:#?}", node.id);
    }
    assert!(state.node(1).storage.log.last_index() == 2 && state.node(1).processor.is_some());
    let in_flight = session.cluster().in_flight().expect("the messages");
    for flight in &state.flights {
        assert!(
            in_flight
                .iter()
                .any(|m| m.id == flight.id && m.envelope.to == flight.envelope.to),
            "#{} is in flight on the cluster too",
            flight.id
        );
    }
}
