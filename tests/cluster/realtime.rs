//! Realtime: the nodes really run on their threads while the caller only waits. Ten
//! times faster than the wall clock, so the test takes a fraction of a second.

use std::time::{Duration, Instant};

use raftlab::cluster::{ClientOutcome, ClockMode, ClusterConfig};

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
