//! Determinism (DESIGN.md, "Time"): in virtual time the same configuration, seed and
//! commands give the same trace, byte for byte; another seed gives another trace.

use std::fmt::Write;

use raftlab::cluster::kv::KvOp;
use raftlab::cluster::{ClusterEvent, Hosting, NetworkConfig};

use crate::support::*;

/// Runs one fixed script of commands, faults and client operations, and returns every
/// event of the run, one a line, as `Display` shows it.
fn trace(seed: u64) -> String {
    trace_hosted(seed, Hosting::Threads)
}

/// [`trace`], with the nodes hosted as given.
fn trace_hosted(seed: u64, hosting: Hosting) -> String {
    let mut config = virtual_config(5, seed);
    config.hosting = hosting;
    config.network = NetworkConfig {
        delay_min_us: 1_000,
        delay_max_us: 8_000,
        drop: 0.1,
        duplicate: 0.1,
        reorder: true,
    };
    let cluster = start(config);
    let events = cluster.subscribe().unwrap();
    let leader = wait_leader(&cluster, 3 * SECOND_US);
    for i in 0..5 {
        let _ = cluster.request(put_op(&format!("k{i}"), &i.to_string()), None);
    }
    cluster.kill(leader).unwrap();
    let _ = cluster.request(put_op("after-kill", "1"), None);
    cluster.partition(vec![vec![1, 2], vec![3, 4]]).unwrap();
    for i in 0..3 {
        cluster
            .submit(put_op(&format!("p{i}"), "x"), Some(1))
            .unwrap();
    }
    cluster.run_for(SECOND_US).unwrap();
    cluster.heal().unwrap();
    cluster.cut(2, 3, true).unwrap();
    cluster.restart(leader).unwrap();
    cluster
        .set_network(NetworkConfig {
            drop: 0.2,
            ..NetworkConfig::default()
        })
        .unwrap();
    let append = KvOp::Append {
        key: "k0".into(),
        value: "+".into(),
    };
    let _ = cluster.request(append, None);
    for _ in 0..50 {
        cluster.step().unwrap();
    }
    cluster.run_for(2 * SECOND_US).unwrap();

    let mut text = String::new();
    let mut count = 0;
    for event in events.try_iter() {
        writeln!(text, "{event}").unwrap();
        count += 1;
    }
    // The event log keeps the same events as the subscription saw.
    let kept: Vec<ClusterEvent> = cluster.events(100_000).unwrap();
    assert_eq!(kept.len(), count);
    let kept_text: String = kept.iter().map(|e| format!("{e}\n")).collect();
    assert_eq!(kept_text, text);
    writeln!(text, "{:?}", cluster.status().unwrap()).unwrap();
    writeln!(text, "{:?}", cluster.logs(vec![]).unwrap()).unwrap();
    text
}

#[test]
fn the_same_seed_and_commands_give_the_same_trace() {
    let first = trace(7);
    let second = trace(7);
    assert!(
        first.lines().count() > 1_000,
        "the trace is too short to tell"
    );
    if first != second {
        let line = first
            .lines()
            .zip(second.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "seed 7: the traces differ at line {line}:\n{}\n{}",
            first.lines().nth(line).unwrap_or(""),
            second.lines().nth(line).unwrap_or("")
        );
    }
}

#[test]
fn a_different_seed_gives_a_different_trace() {
    assert_ne!(trace(7), trace(8));
}

/// Hosting changes what a hand-off costs, not what happens: nodes called inline by the
/// scheduler give the same trace as nodes on threads of their own.
#[test]
fn nodes_inline_give_the_same_trace_as_nodes_on_threads() {
    for seed in [3, 7] {
        let threads = trace_hosted(seed, Hosting::Threads);
        let inline = trace_hosted(seed, Hosting::Inline);
        assert!(threads.lines().count() > 1_000, "seed {seed}: too short");
        if threads != inline {
            let (line, (a, b)) = threads
                .lines()
                .zip(inline.lines())
                .enumerate()
                .find(|(_, (a, b))| a != b)
                .unwrap_or((0, ("(lengths differ)", "")));
            panic!("seed {seed}: traces differ at line {line}:\n threads: {a}\n inline:  {b}");
        }
    }
}

/// `step` reports one hand-off: the node handed work, with its picture before and after.
/// Stepping changes nothing in the run: hand-off by hand-off, or run quietly (no reports
/// built), the same seed gives the same events.
#[test]
fn a_step_reports_its_hand_off_and_stepping_runs_as_a_quiet_run_does() {
    for hosting in [Hosting::Inline, Hosting::Threads] {
        let mut config = virtual_config(3, 11);
        config.hosting = hosting;
        let stepped = start(config.clone());
        let (mut handed, mut terms_moved) = (0, 0);
        for _ in 0..400 {
            let report = stepped.step().unwrap().expect("a timer is always due");
            let Some(node) = report.node else { continue };
            handed += 1;
            let (before, after) = (report.before.unwrap(), report.after.unwrap());
            assert_eq!((before.id, after.id), (node, node), "{hosting:?}");
            if after.term > before.term {
                terms_moved += 1;
            }
        }
        assert!(handed > 300, "{hosting:?}: {handed} hand-offs");
        assert!(terms_moved > 0, "{hosting:?}: no step started a term");

        // Every event before the last step's instant: that instant may hold more.
        let (now_us, _) = stepped.position().unwrap();
        let quiet = start(config);
        quiet.run_for(now_us).unwrap();
        let before_now = |cluster: &raftlab::cluster::Cluster| -> Vec<String> {
            let events = cluster.events(100_000).unwrap();
            let kept = events.iter().filter(|e| e.time_us < now_us);
            kept.map(|e| e.to_string()).collect()
        };
        let stepped_events = before_now(&stepped);
        assert!(stepped_events.len() > 300, "{hosting:?}");
        assert_eq!(stepped_events, before_now(&quiet), "{hosting:?}");
    }
}
