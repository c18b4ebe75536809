//! `raftlab check` from the command line: exit status, the replay command, the scenario.

use std::process::Command;

/// A fresh directory under the system's temporary one, for a check's scenario files: a
/// test never writes into the checkout.
fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("raftlab-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

fn raftlab(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_raftlab"))
        .args(args)
        .output()
        .expect("raftlab runs");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (
        output.status.code().unwrap_or(-1),
        text(&output.stdout),
        text(&output.stderr),
    )
}

#[test]
fn correct_raft_passes_and_exits_0() {
    // --out: were it to fail, its scenario must not land in the checkout.
    let dir = temp_dir("check-pass");
    let out_dir = dir.to_string_lossy().into_owned();
    let args = ["check", "--seeds", "2", "--time", "1s", "--out", &out_dir];
    let (code, out, err) = raftlab(&args);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("2 of 2 seeds run"), "{out}");
    assert!(out.contains(": 0 failed;"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_teaching_bug_fails_with_its_replay_command_and_scenario() {
    let dir = temp_dir("check");
    let out_dir = dir.to_string_lossy().into_owned();
    // The fixed shape (--no-swarm), whose seed 1 this test knows.
    let args = [
        "check",
        "--seed",
        "1",
        "--nodes",
        "5",
        "--no-swarm",
        "--bug",
        "commit-beyond-match",
        "--no-shrink",
        "--out",
        &out_dir,
    ];
    let (code, out, err) = raftlab(&args);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("seed 1 failed: state-machine-safety violated"),
        "{out}"
    );
    assert!(
        out.contains(
            "run it again: raftlab check --seed 1 --nodes 5 --time 10s --no-swarm --bug \
             commit-beyond-match"
        ),
        "{out}"
    );
    // Nothing was shrunk, so nothing is said to be.
    assert!(!out.contains("after shrinking"), "{out}");
    let scenario = std::fs::read_to_string(dir.join("check-seed-1.yaml")).expect("scenario");
    assert!(
        scenario.contains("  raft: { bugs: [commit-beyond-match]"),
        "{scenario}"
    );
    assert!(
        scenario.ends_with("  - expect violation state-machine-safety\n"),
        "{scenario}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unknown_bug_is_a_usage_error() {
    let dir = temp_dir("check-usage");
    let out_dir = dir.to_string_lossy().into_owned();
    let (code, _, err) = raftlab(&["check", "--bug", "no-such-bug", "--out", &out_dir]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 2);
    assert!(err.contains("unknown bug 'no-such-bug'"), "{err}");
}

#[test]
fn a_seed_range_past_the_last_seed_or_of_no_seeds_is_a_usage_error() {
    let (code, out, err) = raftlab(&[
        "check",
        "--first-seed",
        "18446744073709551615",
        "--seeds",
        "3",
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.starts_with("error: --first-seed 18446744073709551615 with --seeds 3"),
        "{err}"
    );
    assert!(err.contains("at most 1 seed(s)"), "{err}");
    assert!(out.is_empty(), "nothing runs: {out}");
    let (code, out, err) = raftlab(&["check", "--seeds", "0"]);
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(err, "error: --seeds must be at least 1\n");
}

#[test]
fn the_last_seed_can_be_checked() {
    let dir = temp_dir("check-last-seed");
    let out_dir = dir.to_string_lossy().into_owned();
    let args = [
        "check",
        "--first-seed",
        "18446744073709551615",
        "--seeds",
        "1",
    ];
    let (code, out, err) = raftlab(&[&args[..], &["--time", "200ms", "--out", &out_dir]].concat());
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 of 1 seeds run"), "{out}");
}

#[test]
fn a_failing_seeds_scenario_replays_to_the_same_violation_under_raftlab_run() {
    let dir = temp_dir("replay");
    let out_dir = dir.to_string_lossy().into_owned();
    let args = [
        "check",
        "--seed",
        "1",
        "--nodes",
        "3",
        "--no-swarm",
        "--bug",
        "vote-without-log-check",
    ];
    let (code, out, err) = raftlab(&[&args[..], &["--out", &out_dir]].concat());
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("seed 1 failed: leader-completeness violated"),
        "{out}"
    );
    let diagram = std::fs::read_to_string(dir.join("check-seed-1.svg")).expect("diagram");
    assert!(
        diagram.starts_with("<svg") && diagram.contains("SAFETY"),
        "{diagram}"
    );
    let scenario = dir.join("check-seed-1.yaml");
    let scenario = scenario.to_string_lossy().into_owned();
    let (code, out, err) = raftlab(&["run", &scenario]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("✓ expect violation leader-completeness"),
        "{out}"
    );
    assert!(out.contains("1 passed, 0 failed"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn seeds_over_their_budget_are_reported_and_the_check_still_ends_with_its_report() {
    let dir = temp_dir("check-budget");
    let out_dir = dir.to_string_lossy().into_owned();
    let args = [
        "check",
        "--seeds",
        "3",
        "--time",
        "1s",
        "--seed-events",
        "200",
        "--out",
        &out_dir,
    ];
    let (code, out, err) = raftlab(&args);
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(out.matches(" OVER BUDGET: ").count(), 3, "{out}");
    assert!(!out.contains("over budget: "), "said twice: {out}");
    // The replay line carries the budget that stopped the seed, or it would pass.
    assert!(
        out.contains(
            "seed 2 was stopped over budget; run it again: raftlab check --seed 2 --nodes 3 \
             --time 1s --seed-events 200\n"
        ),
        "{out}"
    );
    assert!(out.contains("3 of 3 seeds run in "), "{out}");
    assert!(
        out.contains(": 0 failed;") && out.contains("; 3 over budget"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn options_that_cannot_work_are_refused_before_any_seed_runs() {
    let (code, out, err) = raftlab(&["check", "--seeds", "20", "--reads", "lease"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.starts_with("error: --reads lease needs --check-quorum"),
        "{err}"
    );
    assert_eq!(out, "");
    let (code, out, err) = raftlab(&["check", "--seeds", "2", "--jobs", "0"]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(err.contains("--jobs must be at least 1"), "{err}");
}

#[test]
fn a_swarm_failure_names_the_shape_it_ran_with() {
    let dir = temp_dir("check-swarm");
    let out_dir = dir.to_string_lossy().into_owned();
    let args = [
        "check",
        "--seeds",
        "20",
        "--bug",
        "vote-without-log-check",
        "--no-shrink",
        "--out",
        &out_dir,
    ];
    let (code, out, err) = raftlab(&args);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("  swarm shape: "), "{out}");
    let written: Vec<_> = std::fs::read_dir(&dir).expect("the out dir").collect();
    let scenario = written
        .iter()
        .flatten()
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|e| e == "yaml"))
        .expect("a scenario");
    let text = std::fs::read_to_string(scenario).expect("readable");
    assert!(text.contains("The swarm shape: "), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A learner added behind a long log, under a shape that sends one entry per
/// AppendEntries (seed 5 of a one-node cluster with membership changes: the leader has
/// ~18,900 entries when n2 joins), cannot catch up within the settle window; while it
/// gains it is live, and the seed passes (it failed with "did not settle" on correct code).
#[test]
fn a_learner_still_catching_up_a_long_log_is_not_a_liveness_failure() {
    let dir = temp_dir("catching-up");
    let out_dir = dir.to_string_lossy().into_owned();
    let args = [
        "check",
        "--seed",
        "5",
        "--nodes",
        "1",
        "--faults",
        "membership,kill",
        "--out",
        &out_dir,
    ];
    let (code, out, err) = raftlab(&args);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 of 1 seeds run"), "{out}");
    assert!(out.contains(": 0 failed;"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A misspelt command is named as one, with the command meant, rather than taken for a
/// scenario file and the error put on the options after it.
#[test]
fn a_misspelt_command_gets_the_command_meant() {
    let (code, out, err) = raftlab(&["chek", "--seeds", "3"]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert_eq!(
        err,
        "error: unknown command 'chek' (did you mean 'check'?)\n"
    );
    let (code, _, err) = raftlab(&["Lincheck", "a.txt"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: unknown command 'Lincheck' (did you mean 'lincheck'?)\n"
    );
    // A command after the cluster's options was taken for a scenario file.
    let (code, _, err) = raftlab(&["--nodes", "3", "check"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: 'check' is a command: its options go after it (raftlab check --help)\n"
    );
    // A hidden command is a command, not a misspelling.
    let (_, _, err) = raftlab(&["node"]);
    assert!(!err.contains("unknown command"), "{err}");
    // A word far from every command is still read as a file.
    let (code, _, err) = raftlab(&["no-such-lesson.yaml"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no-such-lesson.yaml: cannot read the file"),
        "{err}"
    );
}
