//! `raftlab explore` from the command line: a teaching bug found from scratch, its
//! counterexample written as a scenario that `raftlab run` replays to the same violation,
//! and correct code passing the same bounds.

use std::path::PathBuf;
use std::process::Command;

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

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("raftlab-explore-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

/// Bounds in which a vote granted without the log check loses a committed entry.
const TIGHT: &[&str] = &[
    "explore",
    "--max-term",
    "2",
    "--max-log",
    "1",
    "--max-msgs",
    "4",
    "--actions",
    "deliver,timeout",
];

#[test]
fn a_found_violation_is_a_scenario_that_run_replays_to_the_same_violation() {
    let dir = temp_dir("replay");
    let file = dir.join("found.yaml");
    let file_arg = file.to_string_lossy().into_owned();
    let mut args = TIGHT.to_vec();
    args.extend(["--bug", "vote-without-log-check", "--out", &file_arg]);
    let (code, out, err) = raftlab(&args);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("counterexample ("), "{out}");
    assert!(out.contains("   1. n"), "{out}");
    assert!(
        out.contains("replayed on a cluster: its checker reports leader-completeness"),
        "{out}"
    );
    let text = std::fs::read_to_string(&file).expect("the scenario is written");
    assert!(text.contains("  clock: paused\n"), "{text}");
    assert!(text.contains("  - campaign "), "{text}");
    assert!(text.contains("  - deliver "), "{text}");
    assert!(
        text.ends_with("  - expect violation leader-completeness\n"),
        "{text}"
    );
    let (code, out, err) = raftlab(&["run", &file_arg]);
    assert_eq!(
        code, 0,
        "the replay passes its own expectation:\n{out}{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn correct_raft_exhausts_the_same_bounds_and_exits_0() {
    let dir = temp_dir("correct");
    let file = dir.join("none.yaml");
    let file_arg = file.to_string_lossy().into_owned();
    let mut args = TIGHT.to_vec();
    args.extend(["--out", &file_arg]);
    let (code, out, err) = raftlab(&args);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("bounds exhausted: no violation"), "{out}");
    assert!(!file.exists(), "nothing is written without a finding");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_bounds_are_one_clear_error() {
    let (code, _, err) = raftlab(&["explore", "--nodes", "9"]);
    assert_eq!(code, 2);
    assert!(err.contains("explore takes 1 to 5 nodes, not 9"), "{err}");
    let (code, _, err) = raftlab(&["explore", "--actions", "crash"]);
    assert_eq!(code, 2);
    assert!(err.contains("--actions leaves nothing to do"), "{err}");
    // Search settings that leave nothing to search are refused before it starts (they
    // ran to --max-time, then blamed a bound never reached).
    for (flag, value, said) in [
        ("--max-states", "0", "--max-states must be at least 1"),
        ("--walks", "0", "--walks must be at least 1"),
        ("--jobs", "0", "--jobs must be at least 1"),
        ("--max-time", "0s", "--max-time must be more than 0s"),
    ] {
        let (code, out, err) = raftlab(&["explore", flag, value]);
        assert_eq!((code, out.as_str()), (2, ""), "{flag}: {err}");
        assert_eq!(err, format!("error: {said}\n"));
    }
}
