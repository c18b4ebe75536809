//! `raftlab lincheck` through the binary, on small histories written here: the verdict and
//! exit status for each format, unknown outcomes, failed cas, bad input and a time-out.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::Command;

fn raftlab() -> Command {
    Command::cargo_bin("raftlab").expect("the binary is built")
}

/// A history file in a fresh temporary directory (kept alive by the returned guard).
struct History {
    dir: PathBuf,
    path: PathBuf,
}

impl History {
    fn new(name: &str, text: &str) -> History {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let unique = format!("raftlab-lincheck-{}-{n}", std::process::id());
        let dir = std::env::temp_dir().join(unique);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let path = dir.join(name);
        std::fs::write(&path, text).expect("the history is written");
        History { dir, path }
    }
}

impl Drop for History {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `raftlab lincheck FILE ARGS...`; returns the exit status and stdout.
fn lincheck(history: &History, args: &[&str]) -> (i32, String) {
    let output = raftlab()
        .arg("lincheck")
        .arg(&history.path)
        .args(args)
        .output()
        .expect("raftlab runs");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    (output.status.code().unwrap_or(-1), stdout)
}

const PORCUPINE_OK: &str = r#"
{:process 0, :type :invoke, :f :put, :key "x", :value "1"}
{:process 1, :type :invoke, :f :get, :key "x", :value nil}
{:process 0, :type :ok, :f :put, :key "x", :value "1"}
{:process 1, :type :ok, :f :get, :key "x", :value ""}
{:process 1, :type :invoke, :f :append, :key "x", :value "2"}
{:process 1, :type :ok, :f :append, :key "x", :value "2"}
{:process 0, :type :invoke, :f :get, :key "x", :value nil}
{:process 0, :type :ok, :f :get, :key "x", :value "12"}
"#;

#[test]
fn a_porcupine_history_that_can_be_ordered_is_linearizable() {
    let history = History::new("ok.txt", PORCUPINE_OK);
    let (code, out) = lincheck(&history, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("porcupine history, 4 operations, 1 key"),
        "{out}"
    );
    assert!(out.contains(": linearizable"), "{out}");
}

#[test]
fn a_stale_read_in_a_porcupine_history_is_shown_with_the_writes_it_missed() {
    let text = r#"
{:process 0, :type :invoke, :f :put, :key "x", :value "1"}
{:process 0, :type :ok, :f :put, :key "x", :value "1"}
{:process 0, :type :invoke, :f :put, :key "y", :value "1"}
{:process 0, :type :ok, :f :put, :key "y", :value "1"}
{:process 1, :type :invoke, :f :put, :key "x", :value "2"}
{:process 1, :type :ok, :f :put, :key "x", :value "2"}
{:process 2, :type :invoke, :f :get, :key "x", :value nil}
{:process 2, :type :ok, :f :get, :key "x", :value "1"}
"#;
    let history = History::new("stale.txt", text);
    let (code, out) = lincheck(&history, &["--format", "porcupine"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("NOT linearizable"), "{out}");
    assert!(out.contains("key \"x\": these 3 operations cannot be ordered (minimal"));
    for op in ["put x 1", "put x 2", "get x"] {
        assert!(out.contains(op), "{op} missing: {out}");
    }
    assert!(!out.contains("put y 1"), "{out}");
}

#[test]
fn a_jepsen_log_with_failed_cas_and_unknown_outcomes_is_linearizable() {
    // The failed cas found some value other than 5 (unrecorded); the timed-out write of 3
    // took effect after all, as the last read shows.
    let text = "\
INFO  jepsen.util - 0\t:invoke\t:write\t1
INFO  jepsen.util - 0\t:ok\t:write\t1
INFO  jepsen.util - 1\t:invoke\t:cas\t[5 2]
INFO  jepsen.util - 1\t:fail\t:cas\t[5 2]
INFO  jepsen.util - 2\t:invoke\t:write\t3
INFO  jepsen.util - 2\t:info\t:write\t:timed-out
INFO  jepsen.util - 0\t:invoke\t:read\tnil
INFO  jepsen.util - 0\t:ok\t:read\t1
INFO  jepsen.util - 1\t:invoke\t:cas\t[1 4]
INFO  jepsen.util - 1\t:fail\t:cas\t[1 4]
INFO  jepsen.util - 0\t:invoke\t:read\tnil
INFO  jepsen.util - 0\t:ok\t:read\t3
";
    let history = History::new("etcd.log", text);
    let (code, out) = lincheck(&history, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("jepsen history, 6 operations"), "{out}");
}

#[test]
fn a_failed_cas_cannot_fail_on_the_value_it_expected() {
    let text = "\
{:process 0, :type :invoke, :f :write, :value 1}
{:process 0, :type :ok, :f :write, :value 1}
{:process 1, :type :invoke, :f :cas, :value [1 2]}
{:process 1, :type :fail, :f :cas, :value [1 2]}
";
    let history = History::new("history.edn", text);
    let (code, out) = lincheck(&history, &["--model", "register"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("cas 1 2"), "{out}");
    assert!(out.contains("-> fail"), "{out}");
}

#[test]
fn two_cas_from_one_value_in_a_jepsen_edn_history_are_a_violation() {
    let text = "\
{:process 0, :type :invoke, :f :write, :value 1}
{:process 0, :type :ok, :f :write, :value 1}
{:process 1, :type :invoke, :f :cas, :value [1 2]}
{:process 2, :type :invoke, :f :cas, :value [1 3]}
{:process 1, :type :ok, :f :cas, :value [1 2]}
{:process 2, :type :ok, :f :cas, :value [1 3]}
";
    let history = History::new("history.edn", text);
    let (code, out) = lincheck(&history, &["--format", "jepsen"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("these 2 operations"), "{out}");
}

fn invoked(op: u64, client: u64, request: &str) -> String {
    let head = format!(r#"{{"time_us":{op}0,"event":"client_invoked","op":{op}"#);
    format!(r#"{head},"client":{client},"request":{request},"target":1}}"#)
}

fn finished(op: u64, output: &str) -> String {
    let head = format!(r#"{{"time_us":{op}5,"event":"client_finished","op":{op}"#);
    let tail = r#""index":1,"term":1}"#;
    format!(r#"{head},"latency_us":5,"outcome":"done","output":"{output}",{tail}"#)
}

#[test]
fn raftlab_json_lines_are_read_from_their_client_records() {
    let put = r#"{"op":"put","key":"k","value":"a"}"#;
    let get = r#"{"op":"get","key":"k"}"#;
    let cas = r#"{"op":"cas","key":"k","old":"b","new":"c"}"#;
    let lines = [
        r#"{"time_us":0,"event":"timer","node":1}"#.to_string(),
        invoked(1, 1, put),
        finished(1, "ok"),
        invoked(2, 2, cas),
        finished(2, "cas failed: is a"),
        invoked(3, 3, get),
        r#"{"time_us":40,"event":"client_finished","op":3,"latency_us":9,"outcome":"timed_out"}"#
            .to_string(),
        invoked(4, 1, get),
        finished(4, "a"),
    ];
    let history = History::new("run.jsonl", &lines.join("\n"));
    let (code, out) = lincheck(&history, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("jsonl history, 4 operations"), "{out}");

    let stale = [lines.join("\n"), invoked(5, 2, get), finished(5, "(none)")];
    let history = History::new("stale.jsonl", &stale.join("\n"));
    let (code, out) = lincheck(&history, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("get k") && out.contains("-> (none)"), "{out}");
}

#[test]
fn malformed_input_is_bad_input_with_its_line() {
    let text = format!(
        "{}\n{{:process 0, :type :invoke, :f :get}}\n",
        PORCUPINE_OK.trim()
    );
    let history = History::new("broken.txt", &text);
    let (code, out) = lincheck(&history, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("broken.txt:line 9: expected a :key"), "{out}");

    let history = History::new("bad.jsonl", "{\"event\":\"client_finished\",\"op\":7}\n");
    let (code, out) = lincheck(&history, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("bad.jsonl:line 1: expected a client_invoked record"),
        "{out}"
    );

    let history = History::new("prose.txt", "\nhello\n");
    let (code, out) = lincheck(&history, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("prose.txt:line 2: expected a porcupine, jepsen or jsonl"),
        "{out}"
    );
}

/// A completion repeats its invocation's function, key and written value: one that names
/// another call is bad input on its line, not a verdict.
#[test]
fn a_completion_that_names_another_call_is_bad_input() {
    let put = r#"{:process 0, :type :invoke, :f :put, :key "x", :value "1"}"#;
    for completion in [
        r#"{:process 0, :type :ok, :f :get, :key "x", :value "1"}"#,
        r#"{:process 0, :type :ok, :f :put, :key "y", :value "1"}"#,
        r#"{:process 0, :type :ok, :f :put, :key "x", :value "2"}"#,
        r#"{:process 0, :type :info, :f :append, :key "x", :value "1"}"#,
    ] {
        let history = History::new("other.txt", &format!("{put}\n{completion}\n"));
        let (code, out) = lincheck(&history, &[]);
        assert_eq!(code, 2, "{completion}: {out}");
        let expected = "other.txt:line 2: expected the :f, :key and :value of process 0's \
                        invocation on line 1";
        assert!(out.contains(expected), "{out}");
    }
    let log = "INFO  jepsen.util - 3\t:invoke\t:write\t4\nINFO  jepsen.util - 3\t:ok\t:write\t5\n";
    let history = History::new("other.log", log);
    let (code, out) = lincheck(&history, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("other.log:line 2: expected the :f and :value"),
        "{out}"
    );
}

/// An op id names one operation, an outcome is one the stream writes, and a map gives each
/// key once (blamed on its own line, not on the completion after it).
#[test]
fn a_reused_op_id_an_unknown_outcome_or_a_repeated_key_is_bad_input() {
    let put = |value: &str| format!(r#"{{"op":"put","key":"x","value":"{value}"}}"#);
    let reused = [
        invoked(1, 1, &put("1")),
        invoked(1, 2, &put("2")),
        finished(1, "ok"),
    ];
    let history = History::new("reused.jsonl", &reused.join("\n"));
    let (code, out) = lincheck(&history, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("reused.jsonl:line 2: expected a new op id (op 1 was invoked on line 1)"),
        "{out}"
    );

    let weird = finished(1, "ok").replace("\"done\"", "\"weird\"");
    let history = History::new("weird.jsonl", &[invoked(1, 1, &put("1")), weird].join("\n"));
    let (code, out) = lincheck(&history, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("weird.jsonl:line 2: expected an outcome done, refused"),
        "{out}"
    );

    let twice = r#"{:process 0, :type :invoke, :f :put, :key "x", :value "1", :process 1}
{:process 0, :type :ok, :f :put, :key "x", :value "1"}"#;
    let history = History::new("twice.txt", twice);
    let (code, out) = lincheck(&history, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains(
            "twice.txt:line 1: expected an EDN map with each key once, found \":process twice\""
        ),
        "{out}"
    );
}

#[test]
fn a_model_that_does_not_fit_the_format_is_bad_input() {
    let history = History::new("ok.txt", PORCUPINE_OK);
    let (code, out) = lincheck(&history, &["--model", "register"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("use --model kv"), "{out}");
}

/// 24 appends all at once, then a read no order of them explains: the search must try
/// every subset of the appends, 2^24 configurations.
fn expensive_key(key: &str, first_process: usize) -> String {
    let mut lines = Vec::new();
    for p in 0..24 {
        let process = first_process + p;
        lines.push(format!(
            "{{:process {process}, :type :invoke, :f :append, :key \"{key}\", :value \"{p},\"}}"
        ));
    }
    for p in 0..24 {
        let process = first_process + p;
        lines.push(format!(
            "{{:process {process}, :type :ok, :f :append, :key \"{key}\", :value \"{p},\"}}"
        ));
    }
    lines.push(format!(
        "{{:process 99, :type :invoke, :f :get, :key \"{key}\", :value nil}}\n\
         {{:process 99, :type :ok, :f :get, :key \"{key}\", :value \"nope\"}}"
    ));
    lines.join("\n")
}

#[test]
fn a_key_that_cannot_be_decided_in_time_is_undecided() {
    let history = History::new("slow.txt", &expensive_key("k", 0));
    let (code, out) = lincheck(&history, &["--timeout", "20ms"]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("UNDECIDED: the search of key \"k\""), "{out}");
    assert!(out.contains("try a longer --timeout"), "{out}");
}

/// With several files, the exit status is the worst: a violation (1) over bad input (2)
/// over undecided (3) over linearizable (0), so a script testing for 1 sees every violation.
#[test]
fn with_several_files_a_violation_wins_then_bad_input_then_undecided() {
    const STALE: &str = r#"{:process 0, :type :invoke, :f :put, :key "x", :value "1"}
{:process 0, :type :ok, :f :put, :key "x", :value "1"}
{:process 1, :type :invoke, :f :get, :key "x", :value nil}
{:process 1, :type :ok, :f :get, :key "x", :value "2"}"#;
    let ok = History::new("ok.txt", PORCUPINE_OK);
    let bad = History::new("bad.txt", STALE);
    let empty = History::new("empty.txt", "");
    let slow = History::new("slow.txt", &expensive_key("k", 0));
    let status = |files: &[&History]| {
        let output = raftlab()
            .arg("lincheck")
            .args(files.iter().map(|h| &h.path))
            .args(["--timeout", "20ms"])
            .output()
            .expect("raftlab runs");
        output.status.code().unwrap_or(-1)
    };
    assert_eq!(status(&[&empty, &bad]), 1);
    assert_eq!(status(&[&bad, &slow, &empty]), 1);
    assert_eq!(status(&[&slow, &empty, &ok]), 2);
    assert_eq!(status(&[&ok, &slow]), 3);
    assert_eq!(status(&[&ok, &ok]), 0);
    let help = raftlab()
        .args(["lincheck", "--help"])
        .output()
        .expect("raftlab runs");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("with several files"), "{help}");
}

#[test]
fn a_violation_in_one_key_stops_the_search_of_the_others() {
    // Key "a" alone would take far longer than the timeout; key "b" fails at once and is
    // searched first (it has more operations) or alongside.
    let mut lines = vec![expensive_key("a", 0)];
    for i in 0..60 {
        lines.push(format!(
            "{{:process 100, :type :invoke, :f :put, :key \"b\", :value \"{i}\"}}\n\
             {{:process 100, :type :ok, :f :put, :key \"b\", :value \"{i}\"}}"
        ));
    }
    lines.push(
        "{:process 101, :type :invoke, :f :get, :key \"b\", :value nil}\n\
         {:process 101, :type :ok, :f :get, :key \"b\", :value \"3\"}"
            .to_string(),
    );
    let history = History::new("two-keys.txt", &lines.join("\n"));
    let started = std::time::Instant::now();
    let (code, out) = lincheck(&history, &["--timeout", "60s"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("key \"b\""), "{out}");
    // Well under the minute the other key could have taken.
    assert!(started.elapsed().as_secs() < 30, "{out}");
}

#[test]
fn the_picture_of_a_violation_highlights_its_operations_and_draws_the_order() {
    let text = "\
{:process 0, :type :invoke, :f :write, :value 1}
{:process 0, :type :ok, :f :write, :value 1}
{:process 1, :type :invoke, :f :write, :value 2}
{:process 2, :type :invoke, :f :read, :value nil}
{:process 1, :type :ok, :f :write, :value 2}
{:process 2, :type :ok, :f :read, :value 2}
{:process 2, :type :invoke, :f :read, :value nil}
{:process 2, :type :ok, :f :read, :value 1}
";
    let history = History::new("history.edn", text);
    let svg = history.dir.join("violation.svg");
    let svg_arg = svg.to_string_lossy().to_string();
    let (code, out) = lincheck(&history, &["--svg", &svg_arg]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("picture: "), "{out}");
    let picture = std::fs::read_to_string(&svg).expect("the picture is written");
    let document = roxmltree::Document::parse(&picture).expect("the picture is XML");
    let fills = |fill: &str| {
        document
            .descendants()
            .filter(|n| n.has_tag_name("rect") && n.attribute("fill") == Some(fill))
            .count()
    };
    // write 1, write 2 and the read of 1 conflict; the read of 2 is not needed to show it.
    assert_eq!(fills("#f4a3a8"), 3, "{picture}");
    assert_eq!(fills("#d6e4f0"), 1, "{picture}");
    let order = document.descendants().find(|n| n.has_tag_name("polyline"));
    let points = order.and_then(|n| n.attribute("points")).unwrap_or("");
    // write 1, write 2, read 2: the longest order; read 1 cannot follow.
    assert_eq!(points.split(' ').count(), 3, "{picture}");
    assert!(picture.contains("client 2"), "{picture}");
    // A register's picture names the register, not a key.
    assert!(
        picture.contains("the register: these 3 red operations")
            && picture.contains("3 of 4 operations of the register"),
        "{picture}"
    );
}

#[test]
fn a_timeout_of_zero_is_refused() {
    let history = History::new("ok.txt", PORCUPINE_OK);
    let output = raftlab()
        .arg("lincheck")
        .arg(&history.path)
        .args(["--timeout", "0"])
        .output()
        .expect("raftlab runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--timeout must be more than 0"), "{stderr}");
}

const STALE: &str = r#"
{:process 0, :type :invoke, :f :put, :key "x", :value "1"}
{:process 0, :type :ok, :f :put, :key "x", :value "1"}
{:process 1, :type :invoke, :f :put, :key "x", :value "2"}
{:process 1, :type :ok, :f :put, :key "x", :value "2"}
{:process 2, :type :invoke, :f :get, :key "x", :value nil}
{:process 2, :type :ok, :f :get, :key "x", :value "1"}
"#;

/// Two failing files of the same name in different folders get a picture each (the
/// second was written over the first, and both reports named the one file); `-` reads
/// standard input; a line that is not UTF-8 is named by its number.
#[test]
fn every_failing_file_gets_its_own_picture_and_stdin_and_bad_bytes_are_read_as_said() {
    let first = History::new("bad.txt", STALE);
    let second = History::new("bad.txt", STALE);
    let svg = first.dir.join("out.svg");
    let output = raftlab()
        .arg("lincheck")
        .arg(&first.path)
        .arg(&second.path)
        .arg("--svg")
        .arg(&svg)
        .output()
        .expect("raftlab runs");
    let out = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{out}");
    for n in [1, 2] {
        let picture = first.dir.join(format!("out-bad-{n}.svg"));
        assert!(picture.exists(), "{}: {out}", picture.display());
        assert!(out.contains(&picture.display().to_string()), "{out}");
    }
    raftlab()
        .args(["lincheck", "-"])
        .write_stdin(PORCUPINE_OK)
        .assert()
        .code(0)
        .stdout(predicates::str::contains(
            "-: porcupine history, 4 operations",
        ));
    let bytes = History::new("bytes.txt", "");
    std::fs::write(&bytes.path, b"{:process 0}\n{:process \xff}\n").expect("written");
    let (code, out) = lincheck(&bytes, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.ends_with("bytes.txt: cannot read: line 2 is not valid UTF-8\n"),
        "{out}"
    );
}

/// A register's violation names the register (it said `key ""`), and a long value is cut
/// in the report, with its length (a 2 MB value was printed whole).
#[test]
fn a_report_names_the_register_and_cuts_long_values() {
    let text = "\
{:process 0, :type :invoke, :f :write, :value 1}
{:process 0, :type :ok, :f :write, :value 1}
{:process 1, :type :invoke, :f :read, :value nil}
{:process 1, :type :ok, :f :read, :value 2}
";
    let history = History::new("register.edn", text);
    let (code, out) = lincheck(&history, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("  the register: "), "{out}");
    assert!(!out.contains("key \"\""), "{out}");
    let long = "v".repeat(5_000);
    let text = format!(
        "{{:process 0, :type :invoke, :f :put, :key \"x\", :value \"1\"}}\n\
         {{:process 0, :type :ok, :f :put, :key \"x\", :value \"1\"}}\n\
         {{:process 1, :type :invoke, :f :get, :key \"x\", :value nil}}\n\
         {{:process 1, :type :ok, :f :get, :key \"x\", :value \"{long}\"}}\n"
    );
    let history = History::new("long.txt", &text);
    let (code, out) = lincheck(&history, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("… (5000 characters)"), "{out}");
    assert!(out.len() < 2_000, "{} bytes: {out}", out.len());
}
