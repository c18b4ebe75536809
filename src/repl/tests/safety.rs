//! The session's safety checks: `expect safe`, `expect violation`, `check`, and the rule
//! that a run with a violation fails unless it expects one; and the Figure 8 lesson with
//! the teaching bug `commit-previous-term`, run step by step.

use std::collections::BTreeSet;

use crate::cluster::{ClockMode, ClusterConfig, NetworkConfig, Rule};
use crate::raft::{Bug, RaftConfig};
use crate::repl::session::Session;

const FIGURE8_BUG: &str = include_str!("../../../examples/clusters/figure8-bug.yaml");

fn session(nodes: u64, bugs: &[Bug]) -> Session {
    session_on(ClockMode::Paused, nodes, bugs)
}

fn session_on(clock: ClockMode, nodes: u64, bugs: &[Bug]) -> Session {
    let config = ClusterConfig {
        nodes,
        seed: 8,
        clock,
        raft: RaftConfig {
            election_timeout_min_us: 1_000_000,
            election_timeout_max_us: 2_000_000,
            max_append_entries: 1,
            bugs: bugs.iter().copied().collect::<BTreeSet<Bug>>(),
            ..RaftConfig::default()
        },
        network: NetworkConfig {
            delay_min_us: 1_000,
            delay_max_us: 1_000,
            ..NetworkConfig::default()
        },
        ..ClusterConfig::default()
    };
    Session::new(config).expect("session starts")
}

/// The steps of a scenario file, as command lines (`say: >` blocks become `say TEXT`).
/// Enough YAML for the files of this project, not a YAML parser.
fn steps_of(yaml: &str) -> Vec<String> {
    let mut steps: Vec<String> = Vec::new();
    let lines = yaml.lines().skip_while(|l| *l != "steps:").skip(1);
    for line in lines {
        if let Some(step) = line.strip_prefix("  - ") {
            let step = step.trim_matches('\'').replace("''", "'");
            steps.push(match step.strip_prefix("say:") {
                Some(_) => "say".to_string(),
                None => step,
            });
        } else if let Some(last) = steps.last_mut().filter(|s| s.starts_with("say")) {
            last.push(' ');
            last.push_str(line.trim());
        }
    }
    steps
}

fn violations(session: &Session) -> Vec<Rule> {
    session
        .cluster()
        .view(crate::cluster::ViewLimits::least())
        .map(|view| view.violations.iter().map(|v| v.rule).collect())
        .expect("cluster runs")
}

/// Runs every line; returns the lines that failed, with their output.
fn run_all(session: &mut Session, lines: &[impl AsRef<str>]) -> Vec<String> {
    let mut failed = Vec::new();
    for line in lines.iter().map(AsRef::as_ref) {
        match session.run_line(line) {
            Ok(outcome) if outcome.passed => {}
            Ok(outcome) => failed.push(format!("{line} -> {}", outcome.text)),
            Err(error) => failed.push(format!("{line} -> error: {error}")),
        }
    }
    failed
}

#[test]
fn the_figure8_bug_lesson_passes_and_the_checker_finds_what_the_bug_did() {
    for setting in [
        "  nodes: 5\n  seed: 8\n  clock: paused\n",
        "  election_timeout: 1s..2s\n  heartbeat: 50ms\n",
        "  network: { delay: 1ms..1ms, drop: 0.0, duplicate: 0.0, reorder: false }\n",
        "  raft: { bugs: [commit-previous-term], max_append_entries: 1 }\n",
    ] {
        assert!(
            FIGURE8_BUG.contains(setting),
            "the test's cluster is the file's: {setting}"
        );
    }
    let steps = steps_of(FIGURE8_BUG);
    assert!(steps.len() > 30 && steps.iter().all(|s| !s.is_empty()));
    let mut lesson = session(5, &[Bug::CommitPreviousTerm]);
    let failed = run_all(&mut lesson, &steps);
    assert!(failed.is_empty(), "{failed:#?}");
    let mut rules = violations(&lesson);
    let applied_differently = rules.len() - 1;
    rules.dedup();
    assert_eq!(
        rules,
        vec![Rule::LeaderCompleteness, Rule::StateMachineSafety]
    );
    assert_eq!(
        applied_differently, 4,
        "S2, S3, S4 and S5 each apply the other entry"
    );
    assert_eq!(lesson.violations_unexpected().unwrap(), 0);
}

#[test]
fn without_the_bug_figure8_stays_safe_and_s5_cannot_win() {
    let steps = steps_of(FIGURE8_BUG);
    let until_campaign: Vec<String> = steps
        .iter()
        .take_while(|s| !s.starts_with("wait until role 5"))
        .cloned()
        .collect();
    let mut correct = session(5, &[]);
    let failed = run_all(&mut correct, &until_campaign);
    assert!(failed.is_empty(), "{failed:#?}");
    let outcome = correct
        .run_line("wait until role 5 leader within 50ms")
        .unwrap();
    assert!(!outcome.passed, "S3 holds index 3 of term 3: S5 cannot win");
    assert!(correct.run_line("expect safe").unwrap().passed);
    assert!(violations(&correct).is_empty());
}

/// A log built by hand that contradicts what a live leader writes: node 3's index 2 is
/// an empty entry of term 1, while node 1, leader of term 1, puts a command there. Node 3
/// takes the command for the entry it has (same index and term), so two nodes apply
/// different entries at index 2, without any bug.
const IMPOSSIBLE_LOG: &[&str] = &[
    "kill 3",
    "set-log 3 1,1",
    "restart 3",
    "campaign 1",
    "put x 1",
];

#[test]
fn without_a_bug_the_command_during_which_a_violation_appears_fails() {
    let mut session = session(3, &[]);
    assert!(run_all(&mut session, IMPOSSIBLE_LOG).is_empty());
    let run = session.run_line("run 200ms").unwrap();
    assert!(!run.passed, "{}", run.text);
    assert!(run.text.contains("safety violation"), "{}", run.text);
    assert_eq!(violations(&session), vec![Rule::StateMachineSafety]);
    let check = session.run_line("check").unwrap();
    assert!(!check.passed);
    assert!(
        check
            .text
            .contains("state-machine-safety violated: n3 applied"),
        "{}",
        check.text
    );
    assert!(!session.run_line("expect safe").unwrap().passed);
    assert_eq!(session.violations_unexpected().unwrap(), 1);
    let expect = session
        .run_line("expect violation state-machine-safety")
        .unwrap();
    assert!(expect.passed, "{}", expect.text);
    assert_eq!(session.violations_unexpected().unwrap(), 0);
}

/// `step N` is one command: the violations its steps brought are counted once, on a line
/// of their own at its end, and fail it.
#[test]
fn step_n_reports_its_violations_once_at_its_end() {
    let config = ClusterConfig {
        nodes: 3,
        seed: 3,
        clock: ClockMode::Virtual,
        ..ClusterConfig::default()
    };
    let mut session = Session::new(config).expect("session starts");
    // Throwing away every node's committed entry lets a new leader commit another there.
    let lines = [
        "wait leader",
        "put x 1",
        "kill 1 2 3",
        "set-log 1 1",
        "set-log 2 1",
        "set-log 3 1",
        "restart 1 2 3",
    ];
    assert!(run_all(&mut session, &lines).is_empty());
    let step = session.run_line("step 40").expect("steps");
    let found = session.violations_unexpected().expect("a count");
    assert!(found > 1, "{}", step.text);
    assert!(!step.passed, "{}", step.text);
    assert_eq!(
        step.text.matches("safety violation").count(),
        1,
        "{}",
        step.text
    );
    let last = step.text.lines().last().expect("lines");
    let line = format!("✗ {found} safety violation(s) during this command (see `check`)");
    assert_eq!(last, line, "{}", step.text);
}

#[test]
fn with_a_bug_on_violations_must_be_expected_by_rule() {
    let mut session = session(3, &[Bug::CommitPreviousTerm]);
    assert!(run_all(&mut session, IMPOSSIBLE_LOG).is_empty());
    let run = session.run_line("run 200ms").unwrap();
    assert!(
        run.passed,
        "a lesson with a bug on does not fail the command"
    );
    assert_eq!(session.violations_unexpected().unwrap(), 1);
    assert!(
        !session
            .run_line("expect violation election-safety")
            .unwrap()
            .passed
    );
    assert!(
        !session
            .run_line("expect violation linearizability")
            .unwrap()
            .passed
    );
    assert_eq!(session.violations_unexpected().unwrap(), 1);
    assert!(session.run_line("expect violation").unwrap().passed);
    assert_eq!(session.violations_unexpected().unwrap(), 0);
    assert!(
        session
            .run_line("wait until violation state-machine-safety within 1ms")
            .unwrap()
            .passed
    );
    assert!(
        session
            .run_line("wait until violation linearizability")
            .is_err()
    );
}

#[test]
fn a_stale_read_from_a_deposed_leader_is_a_linearizability_violation() {
    // leader-local-reads: n1 leads term 1, is cut off, n2 wins term 2 and takes a write;
    // n1 still answers a read from its own state machine.
    let mut session = session(3, &[Bug::LeaderLocalReads]);
    let lines = [
        "campaign 1",
        "run 10ms",
        "put x 1",
        "run 10ms",
        "isolate 1",
        "campaign 2",
        "run 10ms",
        "put x 2",
        "run 10ms",
        "get x via 1",
        "run 10ms",
        "expect safe",
    ];
    let failed = run_all(&mut session, &lines);
    assert_eq!(failed.len(), 1, "only `expect safe` fails: {failed:#?}");
    assert!(
        failed[0].contains("linearizability violated"),
        "{failed:#?}"
    );
    assert_eq!(session.violations_unexpected().unwrap(), 1);
    assert!(
        session
            .run_line("expect violation linearizability")
            .unwrap()
            .passed
    );
    assert_eq!(session.violations_unexpected().unwrap(), 0);
}

/// On a virtual clock each client command waits for its answer, and the next command
/// comes after it: a stale read typed right after the write it misses (no `run` between,
/// so at the instant the write's answer came) is still a violation.
#[test]
fn a_read_right_after_the_write_it_misses_is_a_violation() {
    let mut session = session_on(ClockMode::Virtual, 3, &[Bug::LeaderLocalReads]);
    let lines = [
        "campaign 1",
        "run 10ms",
        "put x 1",
        "isolate 1",
        "campaign 2",
        "run 10ms",
        "put x 2 via 2",
        "get x via 1",
    ];
    let failed = run_all(&mut session, &lines);
    assert!(failed.is_empty(), "{failed:#?}");
    let history = session.cluster().history().expect("cluster runs");
    let (put, get) = (&history[1], &history[2]);
    assert!(
        put.response_us.is_some_and(|end| end < get.invoke_us),
        "the read starts after the write's answer: {put:?} {get:?}"
    );
    let check = session.run_line("check").unwrap();
    assert!(
        check.text.contains("linearizability violated"),
        "{}",
        check.text
    );
}

/// `campaign 1`, then `count` puts of `x` (so that the session's history is taken out of
/// the cluster and checked in windows), values 0 up. On a virtual clock: each put waits for
/// its answer.
fn many_puts(session: &mut Session, count: u64) {
    let mut lines = vec!["campaign 1".to_string(), "run 10ms".to_string()];
    lines.extend((0..count).map(|i| format!("put x {i}")));
    let failed = run_all(session, &lines);
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn a_long_session_is_checked_in_windows_and_back_still_replays() {
    let mut session = session_on(ClockMode::Virtual, 3, &[]);
    many_puts(&mut session, 1500);
    let check = session.run_line("check").unwrap();
    assert!(check.passed, "{}", check.text);
    assert!(
        check
            .text
            .contains("linearizability: held over 1500 operations"),
        "{}",
        check.text
    );
    // The journal: campaign, run, 1500 puts, check; back to the 901st put.
    let back = session.run_line("back 600").unwrap();
    assert!(
        back.text.contains("(903 commands replayed)"),
        "{}",
        back.text
    );
    let check = session.run_line("check").unwrap();
    assert!(
        check
            .text
            .contains("linearizability: held over 901 operations"),
        "{}",
        check.text
    );
    let get = session.run_line("get x").unwrap();
    assert!(get.text.contains("get x = 900"), "{}", get.text);
}

#[test]
fn a_stale_read_after_many_windows_is_found_and_named() {
    let mut session = session_on(ClockMode::Virtual, 3, &[Bug::LeaderLocalReads]);
    many_puts(&mut session, 1100);
    let lines = [
        "isolate 1",
        "campaign 2",
        "run 10ms",
        "put x new",
        "run 10ms",
        "get x via 1",
        "run 10ms",
        "expect safe",
    ];
    let failed = run_all(&mut session, &lines);
    assert_eq!(failed.len(), 1, "only `expect safe` fails: {failed:#?}");
    for named in ["put x new", "get x", "-> 1099"] {
        assert!(failed[0].contains(named), "{named}: {failed:#?}");
    }
    assert!(
        session
            .run_line("expect violation linearizability")
            .unwrap()
            .passed
    );
}

/// Lease reads (thesis section 6.4.1): a leader cut off from the others keeps leading
/// until CheckQuorum steps it down, one longest election timeout after it last heard from
/// a majority; the others elect a leader after the shortest one and commit a write. A
/// read at the old leader in between must not be answered from its lease, which ends
/// before any other node may vote. `raftlab check` does not find a lease three times too
/// long in 3,000 seeds (README, the second mutation sweep); this run does.
#[test]
fn a_cut_off_leaders_lease_has_run_out_before_a_new_leader_commits() {
    let config = ClusterConfig {
        nodes: 3,
        seed: 3,
        clock: ClockMode::Paused,
        raft: RaftConfig {
            election_timeout_min_us: 150_000,
            election_timeout_max_us: 300_000,
            heartbeat_us: 30_000,
            check_quorum: true,
            reads: crate::raft::ReadMode::Lease,
            ..RaftConfig::default()
        },
        ..ClusterConfig::default()
    };
    let mut session = Session::new(config).expect("session starts");
    let lines = [
        "wait leader within 5s",
        "put x 1",
        "run 100ms",
        "expect leader 1",
        "isolate 1",
        "run 230ms",
        "expect leader 2",
        "expect role 1 leader",
        "put x 3 via 2",
        "run 30ms",
        "get x via 1",
        "run 20ms",
    ];
    let failed = run_all(&mut session, &lines);
    assert!(failed.is_empty(), "{failed:#?}");
    let check = session.run_line("check").unwrap();
    assert!(
        check.text.contains("linearizability: held"),
        "{}",
        check.text
    );
}
