//! The REPL as a class uses it: each test is one defect found at the terminal, checked
//! through piped stdin or a session in virtual time (the pseudo-terminal ones are in
//! `terminal.rs`).

use assert_cmd::Command;
use predicates::prelude::*;

use raftlab::cluster::{ClockMode, ClusterConfig};
use raftlab::repl::session::Session;

/// Runs `lines` through `raftlab --clock virtual` on 5 nodes, seed 3.
fn piped(lines: &str) -> assert_cmd::assert::Assert {
    Command::cargo_bin("raftlab")
        .expect("the binary is built")
        .args(["--clock", "virtual", "--seed", "3"])
        .write_stdin(lines)
        .assert()
}

fn stdout(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stdout).into_owned()
}

fn session(nodes: u64) -> Session {
    let config = ClusterConfig {
        nodes,
        seed: 3,
        clock: ClockMode::Virtual,
        ..Default::default()
    };
    Session::new(config).expect("starts")
}

/// Runs a line that must run, and returns what it printed.
fn run(session: &mut Session, line: &str) -> String {
    match session.run_line(line) {
        Ok(outcome) => outcome.text,
        Err(error) => panic!("{line}: {error}"),
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("raftlab-class-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

// ---- 2. live events after `back` -------------------------------------------------------

#[test]
fn live_events_go_on_after_back() {
    let assert = piped("trace changes\nwait leader\npause\nstep\nback\nkill leader\nrun 500ms\n");
    let out = stdout(&assert.success());
    let after_back = out.split("back to t=").nth(1).expect("back ran");
    // The kill and the election after it come as live events, as before the rewind.
    assert!(after_back.contains("  n1  killed\n"), "{after_back}");
    assert!(after_back.contains("LEADER in term 2"), "{after_back}");
}

// ---- 4. added nodes in every view ------------------------------------------------------

#[test]
fn an_added_node_is_in_every_view_and_picture() {
    let mut s = session(5);
    for line in ["wait leader", "put a 1", "add 6", "run 500ms"] {
        run(&mut s, line);
    }
    let log = run(&mut s, "log");
    assert!(log.contains("\nn6 "), "{log}");
    assert!(run(&mut s, "log all").contains("\nn6 "));
    assert!(run(&mut s, "log -v").contains("n6"));
    let net = run(&mut s, "net");
    assert!(net.contains(" n6\n") || net.contains(" n6"), "{net}");
    assert!(net.lines().any(|l| l.starts_with("n6 ")), "{net}");
    assert!(run(&mut s, "kv").contains("n6:"));
    let dir = temp_dir("added");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = |name: &str| dir.join(name).display().to_string();
    let logs = run(&mut s, &format!("export log {}", file("log.svg")));
    assert!(logs.contains("6 logs"), "{logs}");
    let diagram = run(&mut s, &format!("export {}", file("run.svg")));
    assert!(diagram.contains("6 lanes"), "{diagram}");
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- 5. a refused `add` changes nothing -------------------------------------------------

#[test]
fn a_refused_add_leaves_no_node_behind() {
    let mut s = session(5);
    run(&mut s, "wait leader");
    run(&mut s, "transfer 2");
    let refused = run(&mut s, "add 6");
    assert!(refused.contains("refuses"), "{refused}");
    assert_eq!(s.cluster().hosted().expect("hosted"), vec![1, 2, 3, 4, 5]);
    assert!(!run(&mut s, "status").contains("n6"));
    // Once the transfer is over, the same add goes through.
    run(&mut s, "run 1s");
    let added = run(&mut s, "add 6");
    assert!(added.contains("adds n6"), "{added}");
    assert_eq!(
        s.cluster().hosted().expect("hosted"),
        vec![1, 2, 3, 4, 5, 6]
    );
}

// ---- 6. `isolate` adds up -----------------------------------------------------------------

#[test]
fn isolating_three_nodes_leaves_all_three_cut_off() {
    let mut s = session(5);
    run(&mut s, "wait leader");
    // n1 leads with seed 3; cut off three followers, one after another.
    let two = run(&mut s, "isolate 2");
    assert!(two.starts_with("cut n2 <-> n1, n3, n4, n5\n"), "{two}");
    run(&mut s, "isolate 3");
    let four = run(&mut s, "isolate 4");
    assert!(four.starts_with("cut n4 <-> n1, n5\n"), "{four}");
    assert!(
        four.contains("network: partitioned: n1, n5 | n2 | n3 | n4"),
        "{four}"
    );
    let cut = s.cluster().network().expect("network").cut;
    for node in [2, 3, 4] {
        for other in [1, 2, 3, 4, 5] {
            if other != node {
                assert!(cut.contains(&(node, other)), "n{node} -> n{other} is cut");
            }
        }
    }
    // Two of five cannot commit: the write does not complete.
    let write = s.run_line("put x 1").expect("runs");
    assert!(!write.passed, "{}", write.text);
    let healed = run(&mut s, "heal");
    assert!(healed.contains("network: every link is up"), "{healed}");
}

#[test]
fn isolate_in_a_scenario_file_adds_up_too() {
    let dir = temp_dir("isolate");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("isolate.yaml");
    let text = "name: isolate\ncluster: { nodes: 5, seed: 3 }\nsteps:\n  - wait leader\n  \
                - isolate 2\n  - isolate 3\n  - isolate 4\n  - try put x 1\n  \
                - expect commit 2 == 0\n  - expect commit 3 == 0\n";
    std::fs::write(&file, text).expect("scenario written");
    Command::cargo_bin("raftlab")
        .expect("the binary is built")
        .args(["run", &file.display().to_string()])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "network: partitioned: n1, n5 | n2 | n3 | n4",
        ));
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- 8. a deposed leader says why ---------------------------------------------------------

#[test]
fn a_deposed_leader_says_which_term_it_saw_and_from_whom() {
    let lines = "wait leader\ntrace changes\nisolate 1\nwait until leader 4 within 2s\nheal\n\
                 run 300ms\n";
    piped(lines).success().stdout(predicate::str::contains(
        "  n1  leader -> follower (saw term 2 from n4)\n",
    ));
}

// ---- 9. `step` prints nothing twice ------------------------------------------------------

#[test]
fn step_prints_each_event_once() {
    let assert = piped("trace changes\npause\nstep 3\n").success();
    let out = stdout(&assert);
    for line in [
        "n1  term 0 -> 1",
        "n1  candidate in term 1",
        "n2  term 0 -> 1",
    ] {
        assert_eq!(out.matches(line).count(), 1, "{line} in\n{out}");
    }
}

#[test]
fn step_in_a_session_that_prints_live_events_leaves_those_out() {
    let mut s = session(3);
    s.set_live_events(true);
    run(&mut s, "pause");
    let step = run(&mut s, "step");
    // The live trace (changes) has shown the term and role change; the step shows the rest.
    assert!(!step.contains("term 0 -> 1\n"), "{step}");
    assert!(step.contains("timer fired"), "{step}");
    assert!(
        step.contains("changed: role follower -> candidate"),
        "{step}"
    );
}

// ---- 10. output folders ------------------------------------------------------------------

#[test]
fn run_svg_creates_its_folder_and_fails_when_it_cannot_write() {
    let dir = temp_dir("svg").join("not-yet");
    Command::cargo_bin("raftlab")
        .expect("the binary is built")
        .args(["run", "--svg", &dir.display().to_string()])
        .arg("examples/clusters/basic.yaml")
        .assert()
        .success();
    assert!(dir.join("basic.svg").exists(), "the diagram is written");
    let _ = std::fs::remove_dir_all(dir.parent().expect("parent"));
    Command::cargo_bin("raftlab")
        .expect("the binary is built")
        .args(["run", "--svg", "/proc/raftlab-cannot-be-here"])
        .arg("examples/clusters/basic.yaml")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot create /proc/raftlab-cannot-be-here",
        ));
}

#[test]
fn check_out_creates_its_folder() {
    let dir = temp_dir("check").join("deeper");
    let out = dir.display().to_string();
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
        &out,
    ];
    Command::cargo_bin("raftlab")
        .expect("the binary is built")
        .args(args)
        .assert()
        .code(1);
    assert!(
        dir.join("check-seed-1.yaml").exists(),
        "the failing seed's scenario"
    );
    let _ = std::fs::remove_dir_all(dir.parent().expect("parent"));
}

// ---- 11. a closed stdout ------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn a_closed_stdout_ends_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_raftlab"))
        .args(["completions", "bash"])
        .stdout(writer)
        .output()
        .expect("raftlab runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.signal(), Some(libc_sigpipe()), "{stderr}");
}

/// SIGPIPE is 13 on every Unix raftlab runs on.
#[cfg(unix)]
fn libc_sigpipe() -> i32 {
    13
}

// ---- 12. export windows -------------------------------------------------------------------

#[test]
fn an_export_window_after_the_run_is_an_error() {
    let mut s = session(3);
    run(&mut s, "wait leader");
    let dir = temp_dir("window");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("x.svg").display().to_string();
    let error = s
        .run_line(&format!("export {file} 5s..6s"))
        .expect_err("refused");
    assert!(
        error.to_string().contains("starts after the run so far"),
        "{error}"
    );
    assert!(!dir.join("x.svg").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- 13. `--step` takes commands ----------------------------------------------------------

/// A lesson stopped with `q` (or `quit`) says where, and did not pass: its later steps,
/// expectations included, never ran.
#[test]
fn step_mode_runs_a_command_at_a_pause_and_q_ends_the_lesson_unpassed() {
    for stop in ["q", "quit"] {
        Command::cargo_bin("raftlab")
            .expect("the binary is built")
            .env("NO_COLOR", "1")
            .args(["run", "--step", "tests/scenarios/setup.yaml"])
            .write_stdin(format!("\nstatus\n{stop}\n"))
            .assert()
            .code(1)
            .stdout(predicate::str::contains("node  role"))
            .stdout(predicate::str::contains(
                "✗ setup stopped at step 2 of 2: not passed, the rest did not run\n",
            ))
            .stdout(predicate::str::contains("passed (").not())
            .stdout(predicate::str::ends_with("0 passed, 0 failed, 1 stopped\n"))
            .stdout(predicate::str::contains("> put x 1").not());
    }
}

#[test]
fn step_mode_c_plays_the_rest_without_pausing() {
    let assert = Command::cargo_bin("raftlab")
        .expect("the binary is built")
        .args(["run", "--step", "tests/scenarios/setup.yaml"])
        .write_stdin("c\n")
        .assert()
        .code(0)
        .stdout(predicate::str::ends_with("1 passed, 0 failed\n"));
    assert_eq!(stdout(&assert).matches("[Enter]").count(), 1);
}

/// A `pause:` step under `--step` is a pause like the others: a command typed at it runs
/// (here `kill 3`, which the next step expects), and the step after it does not pause
/// again. It used to read one line and throw it away, whatever it was.
#[test]
fn step_mode_runs_a_command_typed_at_a_pause_step() {
    let dir = temp_dir("pause-step");
    std::fs::create_dir_all(&dir).expect("the directory is made");
    let file = dir.join("paused.yaml");
    std::fs::write(
        &file,
        "name: paused\ncluster: { nodes: 3, seed: 4 }\nsteps:\n  - wait leader within 1s\n  \
         - pause: now stop a node\n  - expect role 3 down\n",
    )
    .expect("the file is written");
    let assert = Command::cargo_bin("raftlab")
        .expect("the binary is built")
        .env("NO_COLOR", "1")
        .args(["run", "--step"])
        .arg(&file)
        .write_stdin("\nkill 3\n\n")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("n3 killed"))
        .stdout(predicate::str::contains("✓ expect role 3 down"))
        .stdout(predicate::str::ends_with("1 passed, 0 failed\n"));
    // Before the first step, and twice at the pause step (before and after `kill 3`).
    assert_eq!(stdout(&assert).matches("[Enter] next").count(), 3);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `raftlab FILE` plays the file's own cluster: options for a new cluster beside it are
/// refused (exit 2, naming them), not ignored without a word as they were.
#[test]
fn cluster_options_beside_a_file_are_refused() {
    Command::cargo_bin("raftlab")
        .expect("the binary is built")
        .args(["tests/scenarios/setup.yaml", "--seed", "9", "--nodes", "2"])
        .write_stdin("status\n")
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "error: --nodes, --seed would set up a new cluster, but tests/scenarios/setup.yaml \
             brings its own",
        ));
    // Left at their defaults, or not given, they are not in the way.
    Command::cargo_bin("raftlab")
        .expect("the binary is built")
        .args(["tests/scenarios/setup.yaml", "--color", "never"])
        .write_stdin("expect get x == 1\n")
        .assert()
        .code(0);
}

/// The Raft commands that do nothing say why instead of printing nothing (`campaign` on the
/// leader or a learner, `snapshot` with nothing new: notes, as a replayed `check` file may
/// hold them), and a transfer the leader turns down in the same instant is an error
/// rather than announced.
#[test]
fn raft_commands_that_do_nothing_say_why_and_a_refused_transfer_is_an_error() {
    let mut s = session(3);
    run(&mut s, "wait leader");
    run(&mut s, "put a 1");
    run(&mut s, "add 4");
    let refused = |s: &mut Session, line: &str| match s.run_line(line) {
        Ok(outcome) => panic!("{line} ran: {}", outcome.text),
        Err(error) => error.to_string(),
    };
    assert_eq!(
        refused(&mut s, "transfer 4"),
        "transfer to n4 refused: the target is not a voter"
    );
    assert!(
        run(&mut s, "campaign 4").starts_with("n4 does not campaign: it is not a voter"),
        "campaign 4"
    );
    assert_eq!(
        run(&mut s, "campaign leader"),
        "n1 already leads (term 1): there is nothing to campaign for"
    );
    run(&mut s, "snapshot 1");
    assert_eq!(
        run(&mut s, "snapshot 1"),
        "n1 has nothing new to compact: its snapshot already covers up to 2@1, all it has applied"
    );
    assert!(run(&mut s, "transfer 2").starts_with("n1 hands its leadership to n2"));
    assert_eq!(
        refused(&mut s, "transfer 3"),
        "transfer to n3 refused: a transfer is already in progress"
    );
    // A follower still campaigns, as before.
    assert!(run(&mut s, "campaign 3").contains("candidate in term 2"));
}

/// Keys and values are echoed as the command language reads them back: quoted when empty
/// or holding spaces. `put "x y" "1 2"` printed `put x y 1 2: ok`, which reads as another
/// command, and `kv` showed an empty key as nothing at all.
#[test]
fn keys_and_values_with_spaces_are_echoed_quoted() {
    let mut s = session(3);
    run(&mut s, "wait leader");
    assert!(run(&mut s, "put \"x y\" \"1 2\"").starts_with("put \"x y\" \"1 2\": ok"));
    assert!(run(&mut s, "put \"\" 3").starts_with("put \"\" 3: ok"));
    assert!(run(&mut s, "get \"x y\"").starts_with("get \"x y\" = \"1 2\" ("));
    let failed = run(&mut s, "try cas \"x y\" 9 z");
    assert!(failed.contains("failed, \"x y\" is \"1 2\""), "{failed}");
    assert_eq!(
        run(&mut s, "expect get \"x y\" == \"1 2\""),
        "✓ expect get \"x y\" == \"1 2\""
    );
    let kv = run(&mut s, "kv 1");
    assert!(
        kv.contains("  \"\" = 3\n") && kv.contains("  \"x y\" = \"1 2\"\n"),
        "{kv}"
    );
    // Plain words stay plain.
    run(&mut s, "put x 1");
    assert!(run(&mut s, "get x").starts_with("get x = 1 ("));
}

/// `partition` takes ranges of nodes as `kill` does (`'1-3' is not a node` before).
#[test]
fn partition_takes_ranges_of_nodes() {
    let mut s = session(5);
    let said = run(&mut s, "partition 1-3 | 4,5");
    assert!(said.contains("partitioned: n1, n2, n3 | n4, n5"), "{said}");
    let refused = s.run_line("partition 1-3 | 3-5").map(|o| o.text);
    assert!(
        matches!(&refused, Err(e) if e.to_string() == "node 3 is named twice in the partition"),
        "{refused:?}"
    );
}

#[test]
fn a_file_of_one_step_passes_in_one_step() {
    let dir = temp_dir("one-step");
    std::fs::create_dir_all(&dir).expect("the directory is made");
    let file = dir.join("one.yaml");
    std::fs::write(&file, "name: one\nsteps:\n  - status\n").expect("written");
    Command::cargo_bin("raftlab")
        .expect("the binary is built")
        .env("NO_COLOR", "1")
        .arg("run")
        .arg(&file)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("✓ one passed (1 step)\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- 14. wording -------------------------------------------------------------------------

#[test]
fn results_and_counts_read_as_words() {
    let mut s = session(3);
    run(&mut s, "wait leader");
    run(&mut s, "put x 1");
    assert!(run(&mut s, "get x").starts_with("get x = 1 (index 3@1)"));
    assert!(run(&mut s, "get nope").starts_with("get nope: no such key"));
    run(&mut s, "kill 3");
    assert_eq!(
        run(&mut s, "set-log 3 1"),
        "n3's durable log set to 1 entry\nit removed n3's entries 2..4 (the last 4@1): a \
         leader that saw them acknowledged will not send them again, as Raft assumes storage \
         keeps them"
    );
    let error = s.run_line("step x").expect_err("a bad count");
    assert!(
        error.to_string().starts_with("bad step count 'x'"),
        "{error}"
    );
    let log = run(&mut s, "log");
    assert!(
        log.contains("n1* = leader") && log.contains("n1x = down"),
        "{log}"
    );
    let mut s = session(3);
    run(&mut s, "wait leader");
    run(&mut s, "put x 1");
    run(&mut s, "pause");
    let back = run(&mut s, "back");
    assert!(back.contains("(1 command replayed)"), "{back}");
}

#[test]
fn msgs_fits_80_columns() {
    let mut s = session(5);
    run(&mut s, "wait leader");
    run(&mut s, "pause");
    run(&mut s, "put a-longer-key some-value");
    run(&mut s, "step 2");
    let msgs = run(&mut s, "msgs");
    assert!(msgs.contains("AppendEntries"), "{msgs}");
    for line in msgs.lines() {
        assert!(line.chars().count() <= 80, "{} columns: {line}", line.len());
    }
}

// ---- 15. several nodes at once ------------------------------------------------------------

#[test]
fn kill_and_restart_take_lists_ranges_and_all() {
    let mut s = session(5);
    run(&mut s, "wait leader");
    assert_eq!(run(&mut s, "kill 2,3"), "n2, n3 killed");
    let down = s.run_line("kill 3-4").expect_err("n3 is down already");
    assert_eq!(down.to_string(), "n3 is down");
    assert!(
        s.cluster().status().expect("status").nodes[3]
            .role
            .is_some(),
        "n4 kept"
    );
    assert_eq!(run(&mut s, "kill 4-5"), "n4, n5 killed");
    assert_eq!(
        run(&mut s, "restart all"),
        "n2, n3, n4, n5 restarted from durable state"
    );
    let error = s.run_line("restart all").expect_err("none is down");
    assert_eq!(error.to_string(), "no node is down");
}

// ---- 1. an interrupt stops the command, not the session -----------------------------------

#[test]
fn an_interrupt_stops_a_run_a_wait_a_step_and_a_client_command() {
    use std::sync::atomic::Ordering;
    let mut s = session(3);
    run(&mut s, "wait leader");
    let flag = s.interrupt_flag();
    for line in [
        "run 10s",
        "wait until term leader >= 50 within 60s",
        "put x 1",
    ] {
        flag.store(true, Ordering::Relaxed);
        let outcome = s.run_line(line).expect(line);
        flag.store(false, Ordering::Relaxed);
        assert!(!outcome.passed, "{line}");
        assert!(
            outcome.text.starts_with("interrupted: `"),
            "{line}: {}",
            outcome.text
        );
        assert!(
            outcome.text.contains("leads, term 1, 3 of 3 nodes up"),
            "{}",
            outcome.text
        );
    }
    run(&mut s, "pause");
    flag.store(true, Ordering::Relaxed);
    let step = s.run_line("step 100").expect("step");
    flag.store(false, Ordering::Relaxed);
    assert!(
        step.text.contains("`step` stopped after 0 of 100 steps"),
        "{}",
        step.text
    );
    // The session goes on, and the interrupted write is still on its way.
    let status = run(&mut s, "status");
    assert!(status.contains("leader"), "{status}");
    let saved = s.scenario_text();
    assert!(saved.contains("  - put x 1\n"), "{saved}");
    assert!(!saved.contains("run 10s"), "{saved}");
}

/// The live view's `w` sends a write without waiting; `save` and `back` must still see it.
#[test]
fn a_write_sent_without_waiting_is_journalled() {
    let mut s = session(3);
    run(&mut s, "wait leader");
    s.send_client("put a 1").expect("sent");
    assert!(s.scenario_text().contains("  - put a 1\n"));
    run(&mut s, "run 100ms");
    assert!(run(&mut s, "kv 1").contains("a = 1"));
    assert!(s.send_client("status").is_err(), "only client commands");
}
