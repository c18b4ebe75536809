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
