//! Realtime: the nodes really run on their threads while the caller only waits. Ten
//! times faster than the wall clock, so the test takes a fraction of a second.

use std::time::{Duration, Instant};

use raftlab::cluster::{ClientOutcome, ClockMode, ClusterConfig, ViewLimits};

use crate::support::*;

#[test]
fn a_realtime_cluster_elects_and_commits_while_the_caller_only_waits() {
    let wall = Instant::now();
    let config = ClusterConfig {
        nodes: 3,
        seed: 3,
        clock: ClockMode::Realtime,
        speed: 10.0,
        ..Default::default()
    };
    let cluster = start(config);
    // The test thread only polls; the driver and node threads move time and elect.
    let leader = wait_leader(&cluster, 5 * SECOND_US);
    let elected_us = cluster.now_us().unwrap();
    assert!(
        elected_us >= 150_000,
        "no election timeout can fire before 150ms"
    );

    let result = cluster.request(put_op("x", "1"), None).unwrap();
    assert!(
        matches!(result.outcome, ClientOutcome::Done { .. }),
        "{result:?}"
    );
    assert_eq!(get(&cluster, "x").as_deref(), Some("1"));
    let status = cluster.status().unwrap();
    assert_eq!(status.mode, ClockMode::Realtime);
    assert_eq!(status.leader, Some(leader));
    assert!(status.now_us > elected_us, "the clock moves by itself");
    assert!(
        wall.elapsed() < Duration::from_secs(2),
        "took {:?}",
        wall.elapsed()
    );
}

#[test]
fn a_realtime_cluster_can_be_paused_and_stepped() {
    let config = ClusterConfig {
        nodes: 3,
        seed: 4,
        clock: ClockMode::Realtime,
        speed: 10.0,
        ..Default::default()
    };
    let cluster = start(config);
    wait_leader(&cluster, 5 * SECOND_US);
    cluster.set_mode(ClockMode::Paused).unwrap();
    let paused_at = cluster.now_us().unwrap();
    // The test does not sleep: a paused clock must not move between two looks.
    let again = cluster.status().unwrap();
    assert_eq!(again.now_us, paused_at);
    let report = cluster.step().unwrap().expect("something is scheduled");
    assert!(report.time_us >= paused_at);
    cluster.set_mode(ClockMode::Virtual).unwrap();
    put(&cluster, "y", "2");
}

/// In realtime nodes run in parallel: every idle node with work due is handed it at once,
/// and each report is processed as it comes while the others work on. Driven here on a virtual clock (with the same switch the realtime driver
/// turns on), so that the run has a bound: the writes still commit once each, in the
/// same order on every node, with a duplicating network and a crash in between. Every
/// message takes exactly 1ms, so a leader's AppendEntries reach all followers at once.
#[test]
fn nodes_handed_their_work_together_still_agree() {
    let mut config = virtual_config(5, 12);
    config.network.delay_min_us = 1_000;
    config.network.delay_max_us = 1_000;
    config.network.duplicate = 0.1;
    let cluster = start(config);
    cluster.set_parallel(true).unwrap();
    let leader = wait_leader(&cluster, 3 * SECOND_US);
    for i in 0..20 {
        put(&cluster, &format!("k{i}"), &i.to_string());
    }
    cluster.kill(leader).unwrap();
    for i in 20..40 {
        put(&cluster, &format!("k{i}"), &i.to_string());
    }
    cluster.restart(leader).unwrap();
    assert!(wait_converged(&cluster, 3 * SECOND_US));
    let first = cluster.kv(up_nodes(&cluster)[0]).unwrap();
    assert_eq!(first.len(), 40);
    for node in up_nodes(&cluster) {
        assert_eq!(cluster.kv(node).unwrap(), first, "n{node}");
    }
    assert!(
        cluster
            .view(ViewLimits::least())
            .unwrap()
            .violations
            .is_empty()
    );
}
