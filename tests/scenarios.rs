//! Scenario files: every lesson in `examples/clusters/` passes, a traced run is the same
//! twice, and every kind of malformed file is refused before anything runs, with its
//! file, line and column, and exit status 2.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

use raftlab::cluster::{ClockMode, ClusterConfig};
use raftlab::repl::scenario::{self, RunOptions, Verdict};
use raftlab::repl::session::Session;

fn lessons() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/clusters");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples/clusters is readable")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// Plays one file in this process; its output and verdict.
fn play(path: &Path, options: RunOptions) -> (String, Verdict) {
    let loaded = scenario::load(path).unwrap_or_else(|e| panic!("{e}"));
    let mut session = Session::new(loaded.config.clone()).expect("the cluster starts");
    let mut out = Vec::new();
    let verdict = scenario::play(&mut session, &loaded, options, &mut out, &mut None)
        .expect("writing to memory cannot fail");
    (String::from_utf8_lossy(&out).into_owned(), verdict)
}

#[test]
fn every_lesson_passes() {
    let lessons = lessons();
    assert!(lessons.len() >= 12, "the library has its twelve lessons");
    for path in lessons {
        let (output, verdict) = play(&path, RunOptions::default());
        assert_eq!(
            verdict,
            Verdict::Passed,
            "{} failed:\n{output}",
            path.display()
        );
    }
}

#[test]
fn every_lesson_narrates_and_asserts() {
    for path in lessons() {
        let loaded = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let text = std::fs::read_to_string(&path).expect("readable");
        assert!(
            loaded.description.is_some(),
            "{} has a description",
            path.display()
        );
        assert!(text.contains("- say:"), "{} narrates", path.display());
        assert!(text.contains("- expect "), "{} asserts", path.display());
    }
}

/// Reference: the design's "Time": in virtual and paused time the same configuration,
/// seed and commands give the same trace, byte for byte.
#[test]
fn a_traced_run_prints_the_same_twice() {
    let trace = RunOptions {
        step: false,
        trace: true,
        json: false,
    };
    for name in [
        "lossy-network.yaml",
        "figure8.yaml",
        "step-by-step-election.yaml",
        "log-repair.yaml",
        "client-redirection.yaml",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/clusters")
            .join(name);
        let (first, _) = play(&path, trace);
        let (second, _) = play(&path, trace);
        assert!(first.lines().count() > 100, "{name}: the trace is printed");
        assert!(first == second, "{name}: two traced runs differ");
    }
}

/// The log-repair lesson shows what it tells: each refused AppendEntries with the
/// follower's hint, and the leader's next try starting where the hint points.
#[test]
fn the_log_repair_lesson_shows_each_refusal_and_its_hint() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/clusters/log-repair.yaml");
    let (output, verdict) = play(&path, RunOptions::default());
    assert_eq!(verdict, Verdict::Passed, "{output}");
    for shown in [
        "n3 -> n1  AppendResponse term=7 success=false index=10 hint=7@3",
        "n1 -> n3  AppendEntries term=7 prev=6@5 entries=5",
        "n3 -> n1  AppendResponse term=7 success=false index=6 hint=4@2",
        "n1 -> n3  AppendEntries term=7 prev=3@1 entries=8",
        "n3  log truncated: 8 entries from index 4 removed",
    ] {
        assert!(output.contains(shown), "{shown:?} is not shown:\n{output}");
    }
}

/// Runs `lines` in a session of `config`, saves it, loads the file and plays it; what
/// each line printed in the session, the file, what the replay printed and its verdict.
fn save_and_replay(
    config: ClusterConfig,
    lines: &[&str],
) -> (Vec<String>, String, String, Verdict) {
    let mut session = Session::new(config).expect("the cluster starts");
    let printed = lines
        .iter()
        .map(|line| session.run_line(line).expect("the command runs").text)
        .collect();
    let text = session.scenario_text();
    let loaded =
        scenario::load_str("saved.yaml", "saved", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let mut replay = Session::new(loaded.config.clone()).expect("the cluster starts");
    let mut out = Vec::new();
    let verdict = scenario::play(
        &mut replay,
        &loaded,
        RunOptions::default(),
        &mut out,
        &mut None,
    )
    .expect("in memory");
    let replayed = String::from_utf8(out).expect("text");
    (printed, text, replayed, verdict)
}

#[test]
fn a_saved_session_loads_and_replays() {
    let config = ClusterConfig {
        nodes: 3,
        seed: 9,
        clock: ClockMode::Realtime,
        ..ClusterConfig::default()
    };
    let lines = [
        "pause",
        "campaign 1",
        "run 50ms",
        "put \"a b\" \"c d\"",
        "run 50ms",
    ];
    let (_, text, replayed, verdict) = save_and_replay(config, &lines);
    let loaded = scenario::load_str("saved.yaml", "saved", &text).expect("loads");
    assert_eq!(loaded.config.clock, ClockMode::Virtual);
    assert_eq!(loaded.config.seed, 9);
    assert!(text.contains("steps:\n  - pause\n"), "{text}");
    assert_eq!(verdict, Verdict::Passed, "{replayed}");
}

/// A session on a virtual clock is saved on one: its client commands wait for their
/// results in the replay as they did in the session, and every line prints the same.
/// From a `pause` on, the session and the file run on a paused clock.
#[test]
fn a_session_saved_on_a_virtual_clock_replays_with_the_same_results() {
    let config = ClusterConfig {
        nodes: 3,
        seed: 3,
        clock: ClockMode::Virtual,
        ..ClusterConfig::default()
    };
    let lines = [
        "wait leader",
        "put x 1",
        "expect kv 1 x == 1",
        "cut 1 -> 2",
        "put \"a b\" \"c d\"",
        "heal",
        "get x",
        "pause",
        "put y 2",
        "try expect kv 2 y == 2",
        "run 50ms",
        "expect kv 2 y == 2",
    ];
    let (printed, text, replayed, verdict) = save_and_replay(config, &lines);
    assert_eq!(verdict, Verdict::Passed, "{text}\n{replayed}");
    assert!(text.contains("  clock: virtual\n"), "{text}");
    assert!(
        text.contains("  - get x\n  - pause\n  - put y 2\n"),
        "{text}"
    );
    // `pause` is not journalled; the rest print the same in the replay.
    for (line, printed) in lines.iter().zip(&printed).filter(|(l, _)| **l != "pause") {
        assert!(
            replayed.contains(printed.trim_end()),
            "{line} printed {printed:?} in the session, not in the replay:\n{replayed}"
        );
    }
    // On the paused clock the write is only sent: it is not there until time runs.
    assert!(
        printed[9].contains("(failure accepted by try)"),
        "{}",
        printed[9]
    );
    assert!(printed[11].starts_with('✓'), "{}", printed[11]);
}

/// Plays `steps` on a 3-node cluster whose node 2 crashed (its core panicked) first.
fn play_after_a_crash(steps: &str) -> (String, Verdict) {
    let text = format!(
        "name: crash\ndescription: A node's core panics.\ncluster: {{ nodes: 3, seed: 1 }}\n\
         steps:\n{steps}"
    );
    let loaded = scenario::load_str("crash.yaml", "crash", &text).unwrap_or_else(|e| panic!("{e}"));
    let mut session = Session::new(loaded.config.clone()).expect("the cluster starts");
    session
        .cluster()
        .inject_panic(2, "boom".into())
        .expect("n2 is up");
    let mut out = Vec::new();
    let verdict = scenario::play(
        &mut session,
        &loaded,
        RunOptions::default(),
        &mut out,
        &mut None,
    )
    .expect("writing to memory cannot fail");
    (String::from_utf8_lossy(&out).into_owned(), verdict)
}

#[test]
fn a_node_whose_core_panicked_fails_the_file_unless_it_expects_it() {
    let (out, verdict) = play_after_a_crash("  - wait leader within 1s\n  - say: No crash here.\n");
    assert!(matches!(verdict, Verdict::Failed { .. }), "{out}");
    assert_eq!(
        out.matches("n2 crashed (panicked: boom)").count(),
        1,
        "{out}"
    );
    let (out, verdict) =
        play_after_a_crash("  - wait leader within 1s\n  - expect role 2 down\n  - say: Down.\n");
    assert_eq!(verdict, Verdict::Passed, "{out}");
}

// ---- the binary -------------------------------------------------------------------------

fn raftlab() -> Command {
    let mut command = Command::cargo_bin("raftlab").expect("the binary is built");
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1");
    command
}

/// Each malformed file, and the exact error it must give.
const MALFORMED: &[(&str, &str)] = &[
    (
        "unknown-key",
        "4:3: unknown key 'sede' (did you mean 'seed'?); expected one of: nodes, seed, \
         clock, speed, election_timeout, heartbeat, network, raft",
    ),
    (
        "unknown-step-key",
        "3:5: unknown key 'sya' (did you mean 'say'?); expected one of: say, pause",
    ),
    (
        "wrong-type",
        "3:10: cluster.nodes: expected a single value such as 5, 150ms or true, found a list",
    ),
    (
        "bad-number",
        "3:10: cluster.nodes: expected a node count from 1 to 2001, not 'three'",
    ),
    (
        "bad-duration",
        "4:14: cluster.heartbeat: bad duration '50xs': expected a duration: a number \
         of us, ms or s (a bare number is ms), such as 150ms or 1.5s",
    ),
    (
        "bad-command",
        "4:5: bad command: unknown command 'stauts' (did you mean 'status'?)",
    ),
    (
        "node-outside",
        "6:5: node 4 does not exist (the cluster has nodes 1..3)",
    ),
    ("bad-yaml", "4:3: simple key expected ':'"),
    ("duplicate-key", "4:3: key 'nodes' is given twice"),
    (
        "two-documents",
        "5:1: a scenario file holds one YAML document, but a second one starts here",
    ),
    ("no-steps", "3:8: there are no steps to run"),
    (
        "quit-step",
        "4:5: `quit` ends a REPL session, not a scenario: a scenario ends after its last step \
         (delete the steps that should not run)",
    ),
    (
        "pause-not-text",
        "4:12: pause: expected text (a string), found a list",
    ),
    (
        "prevote",
        "3:20: cluster.raft.prevote: expected true or false, not 'maybe'",
    ),
    (
        "lease-without-check-quorum",
        "3:18: cluster.raft.reads: lease reads need check_quorum: true (the lease rests on \
         leader stickiness: followers that heard from the leader refuse to vote for a while)",
    ),
];

#[test]
fn each_malformed_file_is_refused_with_its_place_and_status_2() {
    for (name, message) in MALFORMED {
        let file = format!("tests/scenarios/malformed/{name}.yaml");
        let expected = format!("error: {file}:{message}\n");
        raftlab()
            .args(["run", &file])
            .assert()
            .code(2)
            .stdout("")
            .stderr(expected);
    }
}

#[test]
fn every_malformed_file_has_its_test() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios/malformed");
    for entry in std::fs::read_dir(dir).expect("readable") {
        let path = entry.expect("an entry").path();
        let stem = path.file_stem().expect("a name").to_string_lossy();
        let tested = MALFORMED.iter().any(|(name, _)| *name == stem) || stem == "many-problems";
        assert!(tested, "{} has no expected message", path.display());
    }
}

#[test]
fn all_the_problems_of_a_file_are_reported_in_order() {
    let file = "tests/scenarios/malformed/many-problems.yaml";
    let expected = [
        "4:20: cluster.network.drop: probability 1.5 is out of range: it must be between 0 \
         and 1",
        "4:32: cluster.network.delay: the range 5ms..1ms is empty: its start is after its end",
        "6:5: bad command: missing V (usage: put K V [via NODE])",
        "7:5: node 6 does not exist (the cluster has nodes 1..5)",
        "9:5: bad command: node 2 is named twice in the partition",
    ]
    .map(|m| format!("error: {file}:{m}\n"))
    .concat();
    raftlab()
        .args(["run", file])
        .assert()
        .code(2)
        .stderr(expected);
}

#[test]
fn a_bad_file_stops_every_file_from_running() {
    raftlab()
        .args([
            "run",
            "examples/clusters/basic.yaml",
            "tests/scenarios/malformed/bad-command.yaml",
        ])
        .assert()
        .code(2)
        .stdout("");
}

#[test]
fn a_missing_file_is_bad_input() {
    raftlab()
        .args(["run", "tests/scenarios/no-such-file.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "error: tests/scenarios/no-such-file.yaml: cannot read the file:",
        ));
}

#[test]
fn a_failed_expectation_stops_its_file_and_the_run_fails() {
    raftlab()
        .args([
            "run",
            "tests/scenarios/failing.yaml",
            "examples/clusters/basic.yaml",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("✗ expect get x == 2: x is 1"))
        .stdout(predicate::str::contains(
            "✗ failing failed at step 3 (tests/scenarios/failing.yaml:7:5)",
        ))
        .stdout(predicate::str::contains("seed 1; replay with:"))
        .stdout(predicate::str::contains("Never reached").not())
        .stdout(predicate::str::contains("✓ basic passed"))
        .stdout(predicate::str::ends_with("1 passed, 1 failed\n"));
}

#[test]
fn run_prints_steps_narration_and_a_summary() {
    raftlab()
        .args(["run", "examples/clusters/leader-failover.yaml"])
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with(
            "== leader-failover  examples/clusters/leader-failover.yaml\n",
        ))
        .stdout(predicate::str::contains("5 nodes, virtual clock, seed 7\n"))
        .stdout(predicate::str::contains("> kill 2\nn2 killed\n"))
        .stdout(predicate::str::contains("  » Three writes are committed"))
        .stdout(predicate::str::contains("✓ expect get y == 2\n"))
        .stdout(predicate::str::ends_with("1 passed, 0 failed\n"));
}

#[test]
fn step_mode_waits_for_enter_and_goes_on_at_the_end_of_input() {
    raftlab()
        .args(["run", "--step", "tests/scenarios/setup.yaml"])
        .write_stdin("\n")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("[Enter]"))
        .stdout(predicate::str::ends_with("1 passed, 0 failed\n"));
}

#[test]
fn a_file_then_the_repl_on_piped_input() {
    raftlab()
        .arg("tests/scenarios/setup.yaml")
        .write_stdin("expect get x == 1\nput y 2\nexpect kv leader y == 2\n")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("> put x 1\n"))
        .stdout(predicate::str::contains("✓ setup passed"))
        .stdout(predicate::str::contains("✓ expect get x == 1\n"))
        .stdout(predicate::str::contains("✓ expect kv leader y == 2\n"));
}

#[test]
fn a_file_with_problems_does_not_open_the_repl() {
    raftlab()
        .arg("tests/scenarios/malformed/bad-command.yaml")
        .write_stdin("status\n")
        .assert()
        .code(2)
        .stdout("");
}

/// No file makes the loader panic: every prefix of a lesson, and the lesson with each of
/// its lines dropped or doubled, loads or gives problems with a position.
#[test]
fn mangled_files_never_panic() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/clusters/figure8.yaml");
    let text = std::fs::read_to_string(path).expect("readable");
    let mut variants: Vec<String> = text
        .char_indices()
        .step_by(11)
        .map(|(i, _)| text[..i].to_string())
        .collect();
    let lines: Vec<&str> = text.lines().collect();
    for i in 0..lines.len() {
        let mut dropped = lines.clone();
        dropped.remove(i);
        variants.push(dropped.join("\n"));
        let mut doubled = lines.clone();
        doubled.insert(i, lines[i]);
        variants.push(doubled.join("\n"));
        let mut shifted = lines.clone();
        let moved = format!(" {}", lines[i]);
        shifted[i] = &moved;
        variants.push(shifted.join("\n"));
    }
    for variant in variants {
        match scenario::load_str("m.yaml", "m", &variant) {
            Ok(_) => {}
            Err(scenario::LoadError::Problems { problems, .. }) => {
                assert!(!problems.is_empty());
                assert!(
                    problems
                        .iter()
                        .all(|(at, _)| at.line >= 1 && at.column >= 1)
                );
            }
            Err(error) => panic!("unexpected error {error}"),
        }
    }
}

#[test]
fn run_json_prints_every_event_and_each_result_as_json_lines() {
    let output = Command::cargo_bin("raftlab")
        .expect("the binary is built")
        .args(["run", "--json", "examples/clusters/basic.yaml"])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.len() > 20, "{stdout}");
    for line in &lines {
        assert!(
            line.starts_with('{') && line.ends_with('}'),
            "not a JSON object: {line}"
        );
    }
    assert!(lines[0].starts_with("{\"time_us\":"), "{}", lines[0]);
    let result = lines[lines.len() - 2];
    assert!(result.contains("\"name\":\"basic\"") && result.contains("\"passed\":true"));
    assert_eq!(lines[lines.len() - 1], "{\"passed\":1,\"failed\":0}");
}

#[test]
fn run_svg_writes_a_diagram_per_file() {
    let dir = std::env::temp_dir().join(format!("raftlab-svg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let dir_arg = dir.to_string_lossy().into_owned();
    Command::cargo_bin("raftlab")
        .expect("the binary is built")
        .args(["run", "--svg", &dir_arg, "examples/clusters/basic.yaml"])
        .assert()
        .success();
    let svg = std::fs::read_to_string(dir.join("basic.svg")).expect("the diagram");
    assert!(svg.starts_with("<svg") && svg.contains("n5"), "{svg}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn run_svg_slides_writes_numbered_pages_with_pngs() {
    let dir = std::env::temp_dir().join(format!("raftlab-slides-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let dir_arg = dir.to_string_lossy().into_owned();
    Command::cargo_bin("raftlab")
        .expect("the binary is built")
        .args([
            "run",
            "--svg",
            &dir_arg,
            "--slides",
            "examples/clusters/basic.yaml",
        ])
        .assert()
        .success();
    let svg = std::fs::read_to_string(dir.join("basic-01.svg")).expect("the first page");
    assert!(svg.contains(r#"width="1280" height="720""#), "a slide");
    assert!(svg.contains("put x=1 ✓ @2"), "the write in words");
    let png = std::fs::read(dir.join("basic-01.png")).expect("its PNG");
    assert!(png.starts_with(b"\x89PNG"));
    assert!(!dir.join("basic.svg").exists(), "pages only");
    let _ = std::fs::remove_dir_all(&dir);
}
