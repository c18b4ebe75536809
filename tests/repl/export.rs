//! `export` and `--json`: the pictures are well-formed SVG with a lane per node and an
//! arrow per message drawn, the Chrome trace is well-formed (every flow has both ends,
//! time never runs backwards on a track), and the JSON for tools parses and is complete.
//! Every run is a virtual-clock leader failover: elect, write, kill the leader, elect
//! again, write again.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use raftlab::cluster::{ClockMode, ClusterConfig, ClusterEvent, EventKind};
use raftlab::repl::export::svg::{MAX_ARROWS, sequence_diagram};
use raftlab::repl::export::{Timeline, chrome, event_jsonl, events_jsonl, log_svg};
use raftlab::repl::session::{ExecError, Session};
use serde_json::Value;

const FAILOVER: &[&str] = &[
    "wait leader",
    "put x 1",
    "kill leader",
    "wait leader",
    "put y 2",
];

fn session(nodes: u64) -> Session {
    let config = ClusterConfig {
        nodes,
        seed: 7,
        clock: ClockMode::Virtual,
        ..Default::default()
    };
    Session::new(config).expect("starts")
}

fn run(session: &mut Session, lines: &[&str]) -> String {
    let mut text = String::new();
    for line in lines {
        let outcome = session.run_line(line).expect(line);
        assert!(outcome.passed, "{line}: {}", outcome.text);
        text.push_str(&outcome.text);
        text.push('\n');
    }
    text
}

fn failover() -> Session {
    let mut session = session(5);
    run(&mut session, FAILOVER);
    session
}

fn events(session: &Session) -> Vec<ClusterEvent> {
    session.cluster().events(usize::MAX).expect("events")
}

fn timeline(session: &Session) -> Timeline {
    let now = session.cluster().now_us().expect("now");
    Timeline::build(&events(session), 5, 0, now)
}

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("raftlab-export-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// The `class` words of every element.
fn classes(svg: &str) -> Vec<Vec<String>> {
    let doc = roxmltree::Document::parse(svg).expect("the SVG is well-formed XML");
    doc.descendants()
        .filter_map(|n| n.attribute("class"))
        .map(|c| c.split_whitespace().map(str::to_string).collect())
        .collect()
}

fn count_class(svg: &str, class: &str) -> usize {
    classes(svg)
        .iter()
        .filter(|c| c.first().is_some_and(|f| f == class))
        .count()
}

#[test]
fn the_sequence_diagram_has_a_lane_per_node_and_an_arrow_per_message() {
    let session = failover();
    let timeline = timeline(&session);
    let svg = sequence_diagram(&timeline, "failover");
    assert_eq!(count_class(&svg, "lane"), 5);
    assert_eq!(count_class(&svg, "msg"), timeline.arrows.len());
    let ids: BTreeSet<u64> = events(&session)
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Sent { id, .. } | EventKind::Dropped { id, .. } => Some(id),
            EventKind::Duplicated { copy, .. } => Some(copy),
            _ => None,
        })
        .collect();
    let drawn: BTreeSet<u64> = timeline.arrows.iter().map(|a| a.id).collect();
    assert_eq!(drawn, ids, "every message is drawn in a short run");
    let doc = roxmltree::Document::parse(&svg).expect("XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    let height: f64 = root
        .attribute("height")
        .and_then(|h| h.parse().ok())
        .expect("height");
    assert!(
        height < 3000.0,
        "a short run is a short picture, not {height}px"
    );
}

#[test]
fn the_sequence_diagram_marks_roles_faults_and_commits() {
    let session = failover();
    let svg = sequence_diagram(&timeline(&session), "failover");
    let classes = classes(&svg);
    let has = |a: &str, b: &str| {
        classes
            .iter()
            .any(|c| c.len() > 1 && c[0] == a && c[1] == b)
    };
    assert!(has("span", "leader") && has("span", "candidate") && has("span", "down"));
    assert!(has("mark", "killed") && has("mark", "commit"));
    assert!(has("msg", "rv") && has("msg", "ae") && has("msg", "ar"));
    assert!(svg.contains(">leader t1<") && svg.contains(">leader t2<"));
    assert!(svg.contains(">put x 1<") && svg.contains(">killed<"));
}

#[test]
fn a_large_run_leaves_out_heartbeats_first_and_says_so() {
    let mut session = failover();
    run(&mut session, &["run 20s"]);
    let mut timeline = timeline(&session);
    let all = timeline.arrows.len();
    assert!(all > MAX_ARROWS, "the run is large: {all} messages");
    timeline.thin(MAX_ARROWS);
    assert!(timeline.arrows.len() <= MAX_ARROWS);
    assert!(timeline.arrows.iter().all(|a| !a.heartbeat));
    let left_out = &timeline.left_out;
    assert_eq!(
        all,
        timeline.arrows.len() + left_out.heartbeats + left_out.after_cut
    );
    let svg = sequence_diagram(&timeline, "long");
    assert_eq!(count_class(&svg, "msg"), timeline.arrows.len());
    assert!(svg.contains(&format!("{} heartbeats", left_out.heartbeats)));
}

#[test]
fn a_window_keeps_the_messages_that_overlap_it() {
    let session = failover();
    let events = events(&session);
    let kill_us = events
        .iter()
        .find(|e| matches!(e.kind, EventKind::NodeKilled { .. }))
        .map(|e| e.time_us)
        .expect("a kill");
    let (from, to) = (kill_us, kill_us + 200_000);
    let timeline = Timeline::build(&events, 5, from, to);
    assert!(!timeline.arrows.is_empty());
    for arrow in &timeline.arrows {
        assert!(arrow.sent_us <= to && arrow.end_us >= from, "{arrow:?}");
    }
    for span in &timeline.spans {
        assert!(from <= span.start_us && span.end_us <= to, "{span:?}");
    }
    let svg = sequence_diagram(&timeline, "window");
    assert_eq!(count_class(&svg, "msg"), timeline.arrows.len());
}

#[test]
fn the_chrome_trace_has_tracks_flows_and_ordered_times() {
    let session = failover();
    let timeline = timeline(&session);
    let trace: Value =
        serde_json::from_str(&chrome::trace(&timeline, "failover")).expect("the trace is JSON");
    let events = trace["traceEvents"].as_array().expect("traceEvents");
    let names: BTreeMap<u64, &str> = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| {
            (
                e["tid"].as_u64().expect("tid"),
                e["args"]["name"].as_str().expect("name"),
            )
        })
        .collect();
    for node in 1..=5 {
        assert_eq!(names.get(&node), Some(&format!("n{node}").as_str()));
    }
    let mut last_ts: HashMap<u64, u64> = HashMap::new();
    let mut flows: HashMap<u64, Vec<(String, u64)>> = HashMap::new();
    for event in events.iter().filter(|e| e["ph"] != "M") {
        let (tid, ts) = (
            event["tid"].as_u64().expect("tid"),
            event["ts"].as_u64().expect("ts"),
        );
        let last = last_ts.insert(tid, ts).unwrap_or(0);
        assert!(ts >= last, "time runs backwards on track {tid}: {event}");
        let ph = event["ph"].as_str().expect("ph");
        if ph == "X" {
            assert!(
                event["dur"].as_u64().is_some(),
                "a complete slice has a duration"
            );
        }
        if ph == "s" || ph == "f" {
            let id = event["id"].as_u64().expect("a flow id");
            flows.entry(id).or_default().push((ph.to_string(), ts));
        }
    }
    let delivered_or_dropped = timeline
        .arrows
        .iter()
        .filter(|a| a.fate != raftlab::repl::export::timeline::Fate::InFlight)
        .count();
    assert_eq!(flows.len(), delivered_or_dropped);
    for (id, ends) in &flows {
        let phases: Vec<&str> = ends.iter().map(|(ph, _)| ph.as_str()).collect();
        assert_eq!(phases, ["s", "f"], "flow {id}");
        assert!(ends[0].1 <= ends[1].1, "flow {id} ends before it starts");
    }
    let instant = |name: &str| events.iter().any(|e| e["ph"] == "i" && e["name"] == name);
    assert!(instant("killed") && instant("commit 2"));
    let slice = |name: &str| events.iter().any(|e| e["ph"] == "X" && e["name"] == name);
    assert!(slice("leader t1") && slice("candidate t2") && slice("down"));
}

#[test]
fn status_json_has_every_node() {
    let mut session = failover();
    let text = run(&mut session, &["status --json"]);
    let status: Value = serde_json::from_str(text.trim()).expect("status --json is JSON");
    let nodes = status["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 5);
    let ids: Vec<u64> = nodes.iter().filter_map(|n| n["id"].as_u64()).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5]);
    let leader = status["leader"].as_u64().expect("a leader");
    let leading = &nodes[leader as usize - 1];
    assert_eq!(leading["role"], "leader");
    assert_eq!(leading["term"], 2);
    let down: Vec<&Value> = nodes.iter().filter(|n| n["state"] == "down").collect();
    assert_eq!(down.len(), 1);
    assert!(down[0]["role"].is_null() && down[0]["commit"].is_null());
    assert_eq!(status["clock"], "virtual");
}

#[test]
fn log_json_has_every_entry_of_the_nodes_asked_for() {
    let mut session = failover();
    let text = run(&mut session, &["log --json leader"]);
    let logs: Value = serde_json::from_str(text.trim()).expect("log --json is JSON");
    let nodes = logs["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 1);
    let entries = nodes[0]["entries"].as_array().expect("entries");
    let terms: Vec<u64> = entries.iter().filter_map(|e| e["term"].as_u64()).collect();
    assert_eq!(terms, [1, 1, 2, 2]);
    assert_eq!(entries[1]["command"], "put x 1  (client 1 #1)");
    assert_eq!(nodes[0]["commit"], 4);
}

#[test]
fn every_event_is_one_line_of_json_with_its_time_and_name() {
    let session = failover();
    let events = events(&session);
    for event in &events {
        let line = event_jsonl(event);
        assert!(!line.contains('\n'));
        let object: Value = serde_json::from_str(&line).expect("one JSON object");
        assert_eq!(object["time_us"], event.time_us);
        assert!(object["event"].is_string(), "{line}");
    }
    let sent = events
        .iter()
        .find(|e| matches!(e.kind, EventKind::Sent { .. }))
        .expect("a message");
    let object: Value = serde_json::from_str(&event_jsonl(sent)).expect("JSON");
    assert_eq!(object["event"], "sent");
    assert_eq!(object["msg"]["type"], "request_vote");
    assert!(object["deliver_us"].as_u64() >= object["time_us"].as_u64());
    let lines = events_jsonl(&events, 0, u64::MAX);
    assert_eq!(lines.lines().count(), events.len());
    let names: Vec<String> = lines
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["event"].as_str().map(str::to_string))
        .collect();
    for name in [
        "became_leader",
        "node_killed",
        "client_finished",
        "commit_advanced",
    ] {
        assert!(names.iter().any(|n| n == name), "no {name} event");
    }
}

/// The Raft paper's Figure 7: a leader (n1) and six followers (n2..n7 are a..f).
const FIGURE_7: &[(u64, &str)] = &[
    (1, "1,1,1,4,4,5,5,6,6,6"),
    (2, "1,1,1,4,4,5,5,6,6"),
    (3, "1,1,1,4"),
    (4, "1,1,1,4,4,5,5,6,6,6,6"),
    (5, "1,1,1,4,4,5,5,6,6,6,7,7"),
    (6, "1,1,1,4,4,4,4"),
    (7, "1,1,1,2,2,2,3,3,3,3,3"),
];

#[test]
fn the_log_picture_draws_figure_7_entry_by_entry() {
    let mut session = session(7);
    let mut lines: Vec<String> = (1..=7).map(|n| format!("kill {n}")).collect();
    lines.extend(
        FIGURE_7
            .iter()
            .map(|(n, terms)| format!("set-log {n} {terms}")),
    );
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    run(&mut session, &lines);
    let logs = session.cluster().logs(vec![]).expect("logs");
    let status = session.cluster().status().expect("status").nodes;
    let svg = log_svg::log_picture(&logs, &status, "Figure 7");
    let doc = roxmltree::Document::parse(&svg).expect("the picture is well-formed XML");
    let rows: Vec<_> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("row"))
        .collect();
    assert_eq!(rows.len(), 7);
    for (row, (node, terms)) in rows.iter().zip(FIGURE_7) {
        assert_eq!(row.attribute("data-node"), Some(node.to_string().as_str()));
        let drawn: Vec<&str> = row
            .descendants()
            .filter(|n| n.attribute("class") == Some("entry"))
            .filter_map(|n| n.attribute("data-term"))
            .collect();
        assert_eq!(drawn.join(","), *terms, "n{node}");
    }
    assert_eq!(
        count_class(&svg, "commit"),
        0,
        "down nodes show no commit point"
    );
}

#[test]
fn export_writes_each_format_to_its_file() {
    let dir = scratch("formats");
    let mut session = failover();
    let path = |name: &str| dir.join(name).display().to_string();
    let lines = [
        format!("export {} 0..1s", path("run.svg")),
        format!("export {}", path("run.json")),
        format!("export {}", path("run.jsonl")),
        format!("export log {} 1 3", path("logs.svg")),
    ];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let text = run(&mut session, &lines);
    assert!(text.contains("sequence diagram, 5 lanes"), "{text}");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect(name);
    assert_eq!(count_class(&read("run.svg"), "lane"), 5);
    let trace: Value = serde_json::from_str(&read("run.json")).expect("JSON");
    assert!(
        trace["traceEvents"]
            .as_array()
            .is_some_and(|e| !e.is_empty())
    );
    let jsonl = read("run.jsonl");
    assert!(
        jsonl
            .lines()
            .all(|l| serde_json::from_str::<Value>(l).is_ok())
    );
    assert_eq!(count_class(&read("logs.svg"), "row"), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unwritable_file_is_an_io_error_that_names_it() {
    let mut session = failover();
    let file = "/nonexistent-raftlab-dir/run.svg";
    match session.run_line(&format!("export {file}")) {
        Err(ExecError::Io(message)) => assert!(message.contains(file), "{message}"),
        other => panic!("expected an I/O error, got {other:?}"),
    }
}
