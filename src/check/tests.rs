//! Tests of the check runs: the schedule's command lines, replay, shrinking, and a
//! failing seed's scenario replayed through a REPL session.

use std::time::Duration;

use super::*;
use crate::cluster::kv::KvOp;
use crate::repl::command::parse;
use crate::repl::scenario::{Header, scenario_yaml};
use crate::repl::session::Session;

/// Options of the fixed shape (`--no-swarm`), which these tests pin.
fn options(secs: u64, bugs: &[Bug]) -> CheckOptions {
    CheckOptions {
        time_us: secs * 1_000_000,
        bugs: bugs.iter().copied().collect(),
        swarm: false,
        ..CheckOptions::default()
    }
}

fn every_kind_of_action() -> Vec<Action> {
    vec![
        Action::Kill(2),
        Action::Restart(2),
        Action::Partition(vec![vec![1, 2], vec![3, 4, 5]]),
        Action::Isolate(3),
        Action::Cut {
            from: 1,
            to: 2,
            one_way: true,
        },
        Action::Cut {
            from: 4,
            to: 5,
            one_way: false,
        },
        Action::Link {
            from: 1,
            to: 3,
            one_way: false,
        },
        Action::Heal,
        Action::NetDrop(0.05),
        Action::NetDelay {
            min_us: 1_000,
            max_us: 150_000,
        },
        Action::NetDup(0.3),
        Action::NetReorder(true),
        Action::Add(6),
        Action::Remove(1),
        Action::Snapshot(3),
        Action::Client {
            op: KvOp::Cas {
                key: "k1".into(),
                old: "v3".into(),
                new: "v9".into(),
            },
            via: Some(4),
        },
        Action::Client {
            op: KvOp::Get { key: "k2".into() },
            via: None,
        },
    ]
}

#[test]
fn every_action_is_a_command_line_that_parses_back_to_itself() {
    for action in every_kind_of_action() {
        let line = action.to_string();
        let command = parse(&line)
            .unwrap_or_else(|e| panic!("{line}: {e}"))
            .unwrap_or_else(|| panic!("{line}: empty"));
        assert_eq!(command.to_string(), line);
    }
}

#[test]
fn a_schedule_becomes_run_steps_between_its_actions() {
    let schedule = vec![
        Timed {
            at_us: 37_000,
            action: Action::Kill(2),
        },
        Timed {
            at_us: 37_000,
            action: Action::NetDrop(0.2),
        },
        Timed {
            at_us: 1_037_000,
            action: Action::Partition(vec![vec![1], vec![2, 3]]),
        },
    ];
    let ending = Ending::Violation(Rule::StateMachineSafety);
    let lines = steps(&schedule, 3_000_000, &ending);
    assert_eq!(
        lines,
        vec![
            "run 37ms",
            "kill 2",
            "net drop 0.2",
            "run 1s",
            "partition 1 | 2,3",
            "run 1963ms",
            "expect violation state-machine-safety",
        ]
    );
    let config = setup(4, &options(1, &[Bug::CommitPreviousTerm])).config;
    let header = Header {
        name: "check-seed-4".into(),
        description: "Found by `raftlab check --seed 4`.".into(),
        clock: ClockMode::Paused,
    };
    let yaml = scenario_yaml(&header, &config, &lines);
    assert!(
        yaml.starts_with("name: check-seed-4\ndescription: Found by `raftlab check --seed 4`.\n")
    );
    assert!(yaml.contains("  clock: paused\n"));
    assert!(yaml.contains("  raft: { bugs: [commit-previous-term]"));
    assert!(yaml.contains("  - run 37ms\n  - kill 2\n  - net drop 0.2\n"));
    assert!(yaml.contains("  - 'partition 1 | 2,3'\n"));
    assert!(yaml.ends_with("  - expect violation state-machine-safety\n"));
}

#[test]
fn correct_raft_holds_on_a_few_short_seeds() {
    // Two seeds of 5 nodes (odd) and two of 3 (even), each with enough going on.
    for seed in [1, 3, 6, 8] {
        let report = explore(&setup(seed, &options(2, &[])));
        assert_eq!(report.failure, None, "seed {seed}");
        assert!(
            report.operations > 20 && report.schedule.len() > 20,
            "seed {seed}"
        );
    }
}

#[test]
fn a_replayed_schedule_is_the_same_run() {
    let setup = setup(5, &options(2, &[]));
    let original = explore(&setup);
    let again = replay(&setup, &original.schedule);
    assert_eq!(again.schedule, original.schedule);
    assert_eq!(
        (again.handoffs, again.operations, again.end_us),
        (original.handoffs, original.operations, original.end_us)
    );
}

/// The first failing seed of `bug` among seeds 1..=`within`.
fn first_failure(bug: Bug, secs: u64, within: u64) -> RunReport {
    let options = options(secs, &[bug]);
    (1..=within)
        .map(|seed| explore(&setup(seed, &options)))
        .find(|report| report.failure.is_some())
        .unwrap_or_else(|| panic!("{bug} not found in {within} seeds"))
}

/// Runs `lines` in a fresh session on `config` (on a paused clock, as the scenario says).
fn run_in_session(config: &ClusterConfig, lines: &[String]) -> (Session, Vec<String>) {
    let config = ClusterConfig {
        clock: ClockMode::Paused,
        ..config.clone()
    };
    let mut session = Session::new(config).expect("session starts");
    let mut failed = Vec::new();
    for line in lines {
        match session.run_line(line) {
            Ok(outcome) if outcome.passed => {}
            Ok(outcome) => failed.push(format!("{line}: {}", outcome.text)),
            Err(error) => failed.push(format!("{line}: error: {error}")),
        }
    }
    (session, failed)
}

#[test]
fn a_failing_seed_shrinks_and_its_scenario_replays_to_the_same_violation() {
    let original = first_failure(Bug::CommitBeyondMatch, 10, 10);
    let budget = ShrinkBudget {
        replays: 60,
        wall: Duration::from_secs(20),
    };
    let shrunk = shrink(&original, budget, &mut |_, _| {});
    assert!(shrunk.reproduced);
    let report = shrunk.report;
    assert!(report.schedule.len() <= original.schedule.len());
    let Some(Failure::Violation(expected)) = report.failure.clone() else {
        panic!("expected a violation, got {:?}", report.failure);
    };
    let lines = report.scenario_steps();
    assert_eq!(
        lines.last().map(String::as_str),
        Some(format!("expect violation {}", expected.rule).as_str())
    );
    let (session, failed) = run_in_session(&report.setup.config, &lines);
    assert!(failed.is_empty(), "{failed:#?}");
    let found = session
        .cluster()
        .view(crate::cluster::ViewLimits::least())
        .map(|view| view.violations)
        .unwrap();
    assert_eq!(
        found.first(),
        Some(&expected),
        "the same violation, at the same time"
    );
    assert_eq!(session.violations_unexpected().unwrap(), 0);
}

#[test]
fn a_linearizability_failure_replays_through_a_session() {
    let original = first_failure(Bug::LeaderLocalReads, 10, 10);
    assert_eq!(
        original.failure.as_ref().and_then(Failure::rule),
        Some(Rule::Linearizability)
    );
    let lines = original.scenario_steps();
    let (_, failed) = run_in_session(&original.setup.config, &lines);
    assert!(failed.is_empty(), "{failed:#?}");
}

/// A seed whose healed cluster did not settle ends its scenario with `expect unsettled`:
/// replayed, the expectation holds (the failure is there again, with the same gap), and
/// `expect settled` at the same point fails naming it. Here the settle window is cut to
/// 2 ms after the faults, too short for most seeds to settle in.
#[test]
fn a_liveness_failure_replays_to_the_same_unsettled_cluster() {
    let options = options(2, &[]);
    let original = (1..=20)
        .map(|seed| {
            let setup = Setup {
                liveness_us: 2 * TICK_US,
                ..setup(seed, &options)
            };
            explore(&setup)
        })
        .find(|report| matches!(report.failure, Some(Failure::Liveness(_))))
        .expect("a seed that does not settle within 2 ms of its faults");
    let Some(Failure::Liveness(missing)) = &original.failure else {
        unreachable!("found as a liveness failure");
    };
    let lines = original.scenario_steps();
    let tail: Vec<&str> = lines.iter().rev().take(2).map(String::as_str).collect();
    assert_eq!(tail[0], "expect unsettled");
    assert!(tail[1].starts_with("say This run failed here: the healed cluster did not settle"));
    let (mut session, failed) = run_in_session(&original.setup.config, &lines);
    assert!(failed.is_empty(), "{failed:#?}");
    let settled = session.run_line("expect settled").expect("expect runs");
    assert!(!settled.passed);
    let gap = missing
        .split_once(": ")
        .map_or(missing.as_str(), |(_, gap)| gap);
    assert!(
        settled.text.contains(&format!("not settled: {gap}")),
        "{} / {missing}",
        settled.text
    );
}

#[test]
fn the_reproduce_command_names_everything_the_seed_depends_on() {
    let options = CheckOptions {
        faults: [FaultKind::Kill, FaultKind::Loss].into(),
        bugs: [Bug::ForgetVote].into(),
        clients: Some(4),
        ..options(3, &[])
    };
    let command = reproduce_command(&setup(8, &options), &options);
    assert_eq!(
        command,
        "raftlab check --seed 8 --nodes 3 --time 3s --no-swarm --faults kill,loss --bug \
         forget-vote --clients 4"
    );
}

/// Every teaching bug is found, and its shrunk scenario replays through a session to the
/// same failure. Slow in a debug build: `cargo test --release -- --ignored every_bug`.
#[test]
#[ignore]
fn every_bug_is_found_and_its_shrunk_scenario_replays_through_a_session() {
    for &bug in Bug::ALL {
        let original = first_failure(bug, 10, 500);
        let shrunk = shrink(&original, ShrinkBudget::default(), &mut |_, _| {});
        assert!(shrunk.reproduced, "{bug}");
        let report = shrunk.report;
        let (session, failed) = run_in_session(&report.setup.config, &report.scenario_steps());
        assert!(failed.is_empty(), "{bug}: {failed:#?}");
        if let Some(Failure::Violation(expected)) = &report.failure {
            let found = session
                .cluster()
                .view(crate::cluster::ViewLimits::least())
                .map(|view| view.violations)
                .unwrap();
            assert_eq!(found.first(), Some(expected), "{bug}");
        }
        println!(
            "{bug}: seed {}, {} -> {} actions, {}",
            report.setup.seed,
            shrunk.original_actions,
            report.schedule.len(),
            report.failure.map_or(String::new(), |f| f.checker())
        );
    }
}

// ---- membership and snapshot faults -------------------------------------------------

fn membership_options(secs: u64, bugs: &[Bug]) -> CheckOptions {
    CheckOptions {
        faults: [FaultKind::Membership, FaultKind::Kill, FaultKind::Snapshot].into(),
        ..options(secs, bugs)
    }
}

fn count(report: &RunReport, kind: fn(&Action) -> bool) -> usize {
    report.schedule.iter().filter(|t| kind(&t.action)).count()
}

#[test]
fn membership_and_snapshot_faults_hold_on_a_few_seeds() {
    let (mut added, mut removed, mut snapshots) = (0, 0, 0);
    for seed in 1..=3 {
        let report = explore(&setup(seed, &membership_options(3, &[])));
        assert_eq!(report.failure, None, "seed {seed}");
        added += count(&report, |a| matches!(a, Action::Add(_)));
        removed += count(&report, |a| matches!(a, Action::Remove(_)));
        snapshots += count(&report, |a| matches!(a, Action::Snapshot(_)));
    }
    assert!(
        added > 0 && removed > 0 && snapshots > 0,
        "{added} added, {removed} removed, {snapshots} snapshots"
    );
}

#[test]
fn a_run_with_membership_faults_is_deterministic_and_replays() {
    let setup = setup(1, &membership_options(3, &[]));
    let original = explore(&setup);
    assert!(count(&original, |a| matches!(a, Action::Add(_))) > 0);
    let again = explore(&setup);
    assert_eq!(
        again.schedule, original.schedule,
        "the same seed, the same schedule"
    );
    let replayed = replay(&setup, &original.schedule);
    assert_eq!(replayed.schedule, original.schedule);
    assert_eq!(
        (replayed.handoffs, replayed.events, replayed.end_us),
        (original.handoffs, original.events, original.end_us)
    );
}

#[test]
fn a_membership_bug_shrinks_to_a_scenario_that_replays_to_the_same_violation() {
    let options = membership_options(5, &[Bug::LearnersCount]);
    // About one seed in ten shows the bug; which ones depends on every message sent.
    let original = (1..=40)
        .map(|seed| explore(&setup(seed, &options)))
        .find(|report| report.failure.is_some())
        .expect("learners-count found in 40 seeds");
    assert_eq!(
        original.failure.as_ref().and_then(Failure::rule),
        Some(Rule::CommitQuorum)
    );
    let budget = ShrinkBudget {
        replays: 60,
        wall: Duration::from_secs(20),
    };
    let shrunk = shrink(&original, budget, &mut |_, _| {});
    assert!(shrunk.reproduced);
    let report = shrunk.report;
    assert!(
        count(&report, |a| matches!(a, Action::Add(_))) > 0,
        "an add is kept"
    );
    let Some(Failure::Violation(expected)) = report.failure.clone() else {
        panic!("expected a violation, got {:?}", report.failure);
    };
    let (session, failed) = run_in_session(&report.setup.config, &report.scenario_steps());
    assert!(failed.is_empty(), "{failed:#?}");
    let found = session
        .cluster()
        .view(crate::cluster::ViewLimits::least())
        .map(|view| view.violations)
        .unwrap();
    assert_eq!(found.first(), Some(&expected));
}
