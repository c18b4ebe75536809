//! `raftlab bench` and `raftlab experiment` through the binary: the shape of the output.

use assert_cmd::Command;

fn raftlab() -> Command {
    Command::cargo_bin("raftlab").expect("the binary is built")
}

#[test]
fn bench_json_has_the_keys_scripts_read() {
    let output = raftlab()
        .args(["bench", "--duration", "200ms", "--clients", "4", "--json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let value: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    for key in [
        "ops_per_sec",
        "p50_us",
        "p99_us",
        "nodes",
        "clients",
        "entries_per_append",
    ] {
        assert!(value.get(key).is_some(), "{key} missing: {value}");
    }
    assert_eq!(value["nodes"], 3);
    assert_eq!(value["clients"], 4);
    assert_eq!(value["agreement"], true);
}

#[test]
fn bench_refuses_zero_clients() {
    raftlab()
        .args(["bench", "--clients", "0", "--duration", "10ms"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("at least one client"));
}

/// Starting a thousand client threads takes a while (each client is registered by a job
/// of the driver): it happens before the window, so the window is `--duration`, not the
/// start-up (it was 6 s for 1 s asked, and 40 s at 2000 clients).
#[test]
fn the_threads_driver_starts_its_clients_before_the_window_and_keeps_to_the_duration() {
    let output = raftlab()
        .args(["bench", "--driver", "threads", "--clients", "1000"])
        .args(["--duration", "200ms", "--json"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("starting 1000 client threads; the 200ms window begins once they all run"),
        "{stderr}"
    );
    let value: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    // The window opens once every thread runs and lasts at least what was asked (how much
    // longer a busy machine makes it is not this test's business: no timing is asserted).
    let window_s = value["duration_s"].as_f64().expect("a duration");
    assert!(window_s >= 0.2, "{value}");
    assert!(value["ops"].as_u64().is_some_and(|ops| ops > 0), "{value}");
    assert_eq!(value["agreement"], true);
}

#[test]
fn the_threads_driver_refuses_more_clients_than_it_can_start_and_names_the_loop_driver() {
    raftlab()
        .args(["bench", "--driver", "threads", "--clients", "10001"])
        .args(["--duration", "10ms"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "the threads driver runs at most 10000 clients (one OS thread each); \
             --driver loop runs any number",
        ));
}

#[test]
fn the_election_experiment_prints_a_row_per_range_and_writes_the_chart() {
    let dir = std::env::temp_dir().join(format!("raftlab-fig16-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("cdf.svg");
    let output = raftlab()
        .args(["experiment", "election", "--trials", "5", "--seed", "3"])
        .args(["--timeouts", "150-200,50-100"])
        .arg("--svg")
        .arg(&svg)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("150-200ms") && stdout.contains("50-100ms"),
        "{stdout}"
    );
    assert!(
        stdout.contains("median 287ms"),
        "the paper's figures: {stdout}"
    );
    let chart = std::fs::read_to_string(&svg).unwrap();
    assert!(
        chart.starts_with("<svg") && chart.contains("150-200ms"),
        "{chart}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_timeout_range_is_bad_input() {
    raftlab()
        .args(["experiment", "election", "--timeouts", "300-150"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("300-150"));
}

/// Settings that leave nothing to measure are refused, and a chart that cannot be
/// written says why in the system's words (it quoted the drawing library's error kinds).
#[test]
fn an_experiment_of_nothing_or_an_unwritable_chart_is_one_clear_error() {
    for (flag, value, said) in [
        ("--trials", "0", "error: --trials must be at least 1\n"),
        (
            "--limit",
            "0s",
            "error: --limit must be more than 0s: no trial could converge\n",
        ),
    ] {
        raftlab()
            .args(["experiment", "election", flag, value])
            .assert()
            .code(2)
            .stdout("")
            .stderr(said);
    }
    raftlab()
        .args([
            "experiment",
            "election",
            "--trials",
            "2",
            "--timeouts",
            "150-300",
        ])
        .args(["--svg", "/nonexistent-raftlab-dir/chart.svg"])
        .assert()
        .code(2)
        .stderr(
            "error: could not write /nonexistent-raftlab-dir/chart.svg: No such file or \
             directory (os error 2)\n",
        );
}
