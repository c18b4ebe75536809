//! Large clusters stay readable: above `SUMMARY_ABOVE_NODES` nodes `status` and `log`
//! summarise, `status all` / `log all` and named nodes still give one row each, and
//! `status --json` stays complete. Virtual time, fixed seeds.

use raftlab::cluster::{ClockMode, ClusterConfig};
use raftlab::raft::NodeId;
use raftlab::repl::session::Session;
use raftlab::repl::view::{SUMMARY_ABOVE_NODES, node_runs};
use serde_json::Value;

fn session(nodes: u64) -> Session {
    colored::control::set_override(false);
    let config = ClusterConfig {
        nodes,
        seed: 1,
        clock: ClockMode::Virtual,
        ..Default::default()
    };
    Session::new(config).expect("starts")
}

/// Runs a line that must succeed and returns what it printed.
fn run(session: &mut Session, line: &str) -> String {
    let outcome = session.run_line(line).expect(line);
    assert!(outcome.passed, "{line}: {}", outcome.text);
    outcome.text
}

/// A cluster of `nodes` with a leader and `put x 1` applied everywhere; the leader.
fn settled(nodes: u64) -> (Session, NodeId) {
    let mut session = session(nodes);
    run(&mut session, "wait leader within 10s");
    run(&mut session, "put x 1");
    run(&mut session, "wait until applied all >= 2 within 2s");
    let leader = session.cluster().leader().expect("runs").expect("a leader");
    (session, leader)
}

/// The first `count` node ids that are not `leader`.
fn followers(leader: NodeId, count: usize) -> Vec<NodeId> {
    (1..).filter(|&id| id != leader).take(count).collect()
}

/// The line of `text` that starts with `prefix`.
fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starts with {prefix:?} in:\n{text}"))
}

/// The rows of a full `status`: lines that start with a node name.
fn status_rows(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.starts_with('n') && !l.starts_with("node"))
        .collect()
}

#[test]
fn status_of_101_nodes_is_a_summary_whose_counts_add_up() {
    let (mut session, leader) = settled(101);
    for id in followers(leader, 3) {
        run(&mut session, &format!("kill {id}"));
    }
    let text = run(&mut session, "status");
    assert!(text.lines().count() < 15, "not a summary:\n{text}");
    let roles = line(&text, "101 nodes: ");
    assert_eq!(
        roles, "101 nodes: 1 leader, 97 followers, 0 candidates, 3 down",
        "{text}"
    );
    let counted: usize = roles
        .trim_start_matches("101 nodes: ")
        .split(", ")
        .filter_map(|part| part.split(' ').next()?.parse::<usize>().ok())
        .sum();
    assert_eq!(counted, 101);
    let term = session.cluster().status().expect("runs").nodes[leader as usize - 1].term;
    assert_eq!(
        line(&text, "leader: "),
        format!("leader: n{leader} in term {term}")
    );
    assert_eq!(
        line(&text, "terms: "),
        format!("terms: {term} on every node")
    );
    assert_eq!(
        line(&text, "commit: "),
        "commit: min 2, median 2, max 2 (of 98 nodes up); 98 of 98 at the leader's commit 2"
    );
    assert_eq!(line(&text, "lagging"), "lagging: none");
    assert_eq!(line(&text, "down: "), "down: n1..n3 (3 nodes)");
    assert_eq!(line(&text, "members: "), "members: 101 voters, 0 learners");
    assert!(
        text.contains("status all shows every node's line"),
        "{text}"
    );
    assert!(status_rows(&text).is_empty(), "{text}");
}

#[test]
fn status_names_the_nodes_furthest_behind_the_leaders_commit() {
    let (mut session, leader) = settled(101);
    let cut_off = followers(leader, 1)[0];
    run(&mut session, &format!("isolate {cut_off}"));
    run(&mut session, "put x 2");
    run(&mut session, "wait until applied leader >= 3 within 1s");
    let others = (1..=101).filter(|&id| id != cut_off && id != leader);
    for id in others {
        run(
            &mut session,
            &format!("wait until applied {id} >= 3 within 1s"),
        );
    }
    let text = run(&mut session, "status");
    assert_eq!(
        line(&text, "lagging"),
        format!("lagging behind the leader's commit 3: n{cut_off} at 2")
    );
    assert!(
        line(&text, "commit: ").ends_with("; 100 of 101 at the leader's commit 3"),
        "{text}"
    );
    assert!(
        line(&text, "partition: ").contains(&format!("n{cut_off} (1)")),
        "{text}"
    );
}

#[test]
fn status_all_and_named_nodes_give_one_row_each() {
    let (mut session, leader) = settled(101);
    let all = run(&mut session, "status all");
    let rows = status_rows(&all);
    assert_eq!(rows.len(), 101, "{all}");
    assert!(
        rows.iter()
            .any(|r| r.starts_with(&format!("n{leader} ")) && r.contains("leader"))
    );
    let named = run(&mut session, "status 7 leader 7");
    let rows = status_rows(&named);
    assert_eq!(rows.len(), 2, "{named}");
    assert!(rows[0].starts_with("n7 "), "{named}");
    assert!(rows[1].starts_with(&format!("n{leader} ")), "{named}");
}

#[test]
fn status_json_of_101_nodes_stays_complete() {
    let (mut session, _) = settled(101);
    let json: Value =
        serde_json::from_str(run(&mut session, "status --json").trim()).expect("JSON");
    assert_eq!(json["nodes"].as_array().map(Vec::len), Some(101));
    let json: Value =
        serde_json::from_str(run(&mut session, "status --json 5 9").trim()).expect("JSON");
    let ids: Vec<u64> = json["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["id"].as_u64())
        .collect();
    assert_eq!(ids, vec![5, 9]);
}

#[test]
fn log_of_101_nodes_shows_the_leaders_log_and_groups_the_rest() {
    let (mut session, leader) = settled(101);
    let down = followers(leader, 2);
    for id in &down {
        run(&mut session, &format!("kill {id}"));
    }
    let text = run(&mut session, "log");
    assert!(text.lines().count() < 12, "not a summary:\n{text}");
    assert!(
        text.starts_with("101 nodes in 2 groups by log, commit and snapshot: "),
        "{text}"
    );
    assert!(line(&text, "index").ends_with(" 1  2"), "{text}");
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with('n')).collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert!(rows[0].starts_with(&format!("n{leader}*")), "{text}");
    assert!(rows[1].starts_with(&format!("n{}x", down[0])), "{text}");
    assert!(
        text.contains(&format!("(98 nodes): same as n{leader}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("n{} (1 node): same as n{}", down[1], down[0])),
        "{text}"
    );
    assert!(text.contains("log all shows every node's row"), "{text}");

    let all = run(&mut session, "log all");
    let rows = all.lines().filter(|l| l.starts_with('n')).count();
    assert_eq!(rows, 101, "{all}");
    let verbose = run(&mut session, "log -v");
    assert!(verbose.contains("put x 1"), "{verbose}");
    assert!(
        verbose.contains(&format!("(98 nodes): same as n{leader}")),
        "{verbose}"
    );
}

#[test]
fn clusters_up_to_the_threshold_keep_one_row_per_node() {
    let small = SUMMARY_ABOVE_NODES as u64;
    let (mut session, _) = settled(small);
    let status = run(&mut session, "status");
    assert_eq!(status_rows(&status).len(), SUMMARY_ABOVE_NODES, "{status}");
    let log = run(&mut session, "log");
    assert_eq!(
        log.lines().filter(|l| l.starts_with('n')).count(),
        SUMMARY_ABOVE_NODES
    );

    let (mut session, _) = settled(small + 1);
    let status = run(&mut session, "status");
    assert!(status_rows(&status).is_empty(), "{status}");
    assert!(
        status.contains(&format!("{} nodes: 1 leader", small + 1)),
        "{status}"
    );
}

#[test]
fn a_condition_over_101_nodes_reports_their_values_by_runs_of_nodes() {
    let (mut session, leader) = settled(101);
    let held = run(&mut session, "wait until applied all >= 2 within 1s");
    assert!(held.ends_with("(n1..n101: applied 2)"), "{held}");
    let killed = followers(leader, 1)[0];
    run(&mut session, &format!("kill {killed}"));
    let failed = session.run_line("expect commit all >= 5").expect("runs");
    assert!(!failed.passed);
    let up: Vec<NodeId> = (1..=101).filter(|&id| id != killed).collect();
    assert_eq!(
        failed.text,
        format!("✗ expect commit all >= 5: {}: commit 2", node_runs(&up))
    );
}
