//! Bad input (DESIGN.md: "a failing command prints `error: ...` and changes nothing"):
//! every operation given a node that does not exist, a node in the wrong state, or a
//! setting out of range returns its own `ClusterError` and leaves the cluster as it was.

use raftlab::cluster::{
    ClockMode, Cluster, ClusterConfig, ClusterError, ClusterView, MAX_NODES, NetworkConfig,
    NetworkView,
};

use crate::support::*;

/// Everything a failed operation must leave alone.
#[derive(Debug, PartialEq)]
struct Snapshot {
    status: ClusterView,
    network: NetworkView,
    events: usize,
    history: usize,
    logs: Vec<(u64, Vec<raftlab::raft::Entry>)>,
}

fn snapshot(cluster: &Cluster) -> Snapshot {
    Snapshot {
        status: cluster.status().unwrap(),
        network: cluster.network().unwrap(),
        events: cluster.events(usize::MAX).unwrap().len(),
        history: cluster.history().unwrap().len(),
        logs: cluster.logs(vec![]).unwrap(),
    }
}

/// Runs `operation`, which must fail with `expected` and change nothing.
fn refused<T: std::fmt::Debug>(
    cluster: &Cluster,
    what: &str,
    expected: ClusterError,
    operation: impl FnOnce(&Cluster) -> Result<T, ClusterError>,
) {
    let before = snapshot(cluster);
    let result = operation(cluster);
    assert_eq!(result.unwrap_err(), expected, "{what}");
    assert_eq!(snapshot(cluster), before, "{what} changed the cluster");
}

/// A 5-node virtual cluster with a leader, a committed write and node 5 down.
fn busy_cluster() -> Cluster {
    let cluster = virtual_cluster(5, 12);
    wait_leader(&cluster, 3 * SECOND_US);
    put(&cluster, "x", "1");
    cluster.kill(5).unwrap();
    cluster
}

#[test]
fn operations_on_a_node_that_does_not_exist_fail_and_change_nothing() {
    let cluster = busy_cluster();
    for node in [0, 6, 99, u64::MAX] {
        let missing = ClusterError::NoSuchNode {
            node,
            nodes: "nodes 1..5".into(),
        };
        refused(&cluster, "kill", missing.clone(), |c| c.kill(node));
        refused(&cluster, "restart", missing.clone(), |c| c.restart(node));
        refused(&cluster, "isolate", missing.clone(), |c| c.isolate(node));
        refused(&cluster, "partition", missing.clone(), |c| {
            c.partition(vec![vec![1, node]])
        });
        refused(&cluster, "cut", missing.clone(), |c| c.cut(1, node, false));
        refused(&cluster, "cut ->", missing.clone(), |c| {
            c.cut(node, 1, true)
        });
        refused(&cluster, "link", missing.clone(), |c| {
            c.link(node, 2, false)
        });
        refused(&cluster, "campaign", missing.clone(), |c| c.campaign(node));
        refused(&cluster, "set-log", missing.clone(), |c| {
            c.set_log(node, vec![1])
        });
        refused(&cluster, "kv", missing.clone(), |c| c.kv(node));
        refused(&cluster, "log", missing.clone(), |c| c.logs(vec![1, node]));
        refused(&cluster, "submit via", missing.clone(), |c| {
            c.submit(put_op("y", "2"), Some(node))
        });
        refused(&cluster, "request via", missing.clone(), |c| {
            c.request(put_op("y", "2"), Some(node))
        });
        refused(&cluster, "inject panic", missing.clone(), |c| {
            c.inject_panic(node, "boom".into())
        });
        refused(&cluster, "kv get", missing.clone(), |c| c.kv(node));
    }
}

#[test]
fn a_node_id_past_the_limit_cannot_be_added_and_errors_name_the_added_nodes() {
    let cluster = virtual_cluster(5, 12);
    wait_leader(&cluster, 3 * SECOND_US);
    put(&cluster, "x", "1");
    cluster.add(7).unwrap();
    let hosted = "nodes 1..5, 7".to_string();
    for node in [MAX_NODES + 1, 5000, u64::MAX] {
        let nodes = hosted.clone();
        refused(
            &cluster,
            "add past the limit",
            ClusterError::NodeIdTooLarge { node, nodes },
            |c| c.add(node),
        );
    }
    let missing = ClusterError::NoSuchNode {
        node: 9,
        nodes: hosted,
    };
    assert_eq!(
        missing.to_string(),
        "node 9 does not exist (the cluster has nodes 1..5, 7)"
    );
    refused(&cluster, "kill", missing, |c| c.kill(9));
}

#[test]
fn operations_on_a_node_in_the_wrong_state_fail_and_change_nothing() {
    let cluster = busy_cluster();
    refused(
        &cluster,
        "restart a live node",
        ClusterError::NodeIsUp(1),
        |c| c.restart(1),
    );
    refused(
        &cluster,
        "set-log on a live node",
        ClusterError::NodeIsUp(1),
        |c| c.set_log(1, vec![1, 1]),
    );
    refused(
        &cluster,
        "kill a dead node",
        ClusterError::NodeIsDown(5),
        |c| c.kill(5),
    );
    refused(
        &cluster,
        "kv of a dead node",
        ClusterError::NodeIsDown(5),
        |c| c.kv(5),
    );
    refused(
        &cluster,
        "campaign a dead node",
        ClusterError::NodeIsDown(5),
        |c| c.campaign(5),
    );
    refused(
        &cluster,
        "panic a dead node",
        ClusterError::NodeIsDown(5),
        |c| c.inject_panic(5, "boom".into()),
    );
    refused(
        &cluster,
        "set-log with falling terms",
        ClusterError::TermsDecrease,
        |c| c.set_log(5, vec![1, 3, 2]),
    );
    refused(
        &cluster,
        "deliver a message not in flight",
        ClusterError::NoSuchMessage(1 << 40),
        |c| c.deliver(1 << 40),
    );
    refused(
        &cluster,
        "drop a message not in flight",
        ClusterError::NoSuchMessage(1 << 40),
        |c| c.drop_message(1 << 40),
    );
}

#[test]
fn malformed_partitions_and_links_fail_and_change_nothing() {
    let cluster = busy_cluster();
    cluster.cut(1, 2, true).unwrap();
    refused(
        &cluster,
        "a node named twice",
        ClusterError::NamedTwice(2),
        |c| c.partition(vec![vec![1, 2], vec![2, 3]]),
    );
    refused(
        &cluster,
        "a node twice in a group",
        ClusterError::NamedTwice(3),
        |c| c.partition(vec![vec![3, 3]]),
    );
    refused(&cluster, "a self link", ClusterError::SelfLink(4), |c| {
        c.cut(4, 4, false)
    });
    refused(&cluster, "a self link", ClusterError::SelfLink(4), |c| {
        c.link(4, 4, true)
    });
}

#[test]
fn network_settings_out_of_range_fail_and_change_nothing() {
    let cluster = busy_cluster();
    let lossy = |drop: f64, duplicate: f64| NetworkConfig {
        drop,
        duplicate,
        ..NetworkConfig::default()
    };
    for value in [1.5, -0.1, f64::INFINITY] {
        let drop = ClusterError::Probability {
            name: "drop",
            value,
        };
        refused(&cluster, "drop", drop, |c| c.set_network(lossy(value, 0.0)));
        let duplicate = ClusterError::Probability {
            name: "duplicate",
            value,
        };
        refused(&cluster, "duplicate", duplicate, |c| {
            c.set_network(lossy(0.0, value))
        });
    }
    // NaN is no probability either (and is not equal to itself, hence the match).
    let before = snapshot(&cluster);
    let nan = cluster.set_network(lossy(f64::NAN, 0.0)).unwrap_err();
    assert!(matches!(nan, ClusterError::Probability { name: "drop", value } if value.is_nan()));
    assert_eq!(snapshot(&cluster), before);

    let reversed = NetworkConfig {
        delay_min_us: 5_000,
        delay_max_us: 1_000,
        ..NetworkConfig::default()
    };
    let expected = ClusterError::DelayRange {
        min_us: 5_000,
        max_us: 1_000,
    };
    refused(&cluster, "lo > hi", expected, |c| c.set_network(reversed));
    for speed in [0.0, -1.0, f64::INFINITY] {
        refused(&cluster, "speed", ClusterError::Speed(speed), |c| {
            c.set_speed(speed)
        });
    }
}

#[test]
fn stepping_a_running_clock_or_waiting_on_a_paused_one_fails_and_changes_nothing() {
    // So slow that the realtime clock does not move while the test looks.
    let config = ClusterConfig {
        nodes: 3,
        clock: ClockMode::Realtime,
        speed: 1e-9,
        ..Default::default()
    };
    let cluster = start(config);
    refused(&cluster, "step", ClusterError::ClockRunning("step"), |c| {
        c.step()
    });
    refused(&cluster, "run", ClusterError::ClockRunning("run"), |c| {
        c.run_for(1_000)
    });
    refused(
        &cluster,
        "deliver",
        ClusterError::ClockRunning("deliver"),
        |c| c.deliver(1),
    );

    cluster.set_mode(ClockMode::Paused).unwrap();
    refused(
        &cluster,
        "request while paused",
        ClusterError::ClockPaused,
        |c| c.request(put_op("x", "1"), None),
    );
    // A paused clock steps.
    assert!(cluster.step().unwrap().is_some());
}

#[test]
fn a_configuration_that_cannot_work_is_refused_before_anything_starts() {
    let bad = |change: fn(&mut ClusterConfig)| {
        let mut config = virtual_config(3, 1);
        change(&mut config);
        Cluster::start(config).err().expect("refused")
    };
    assert_eq!(
        bad(|c| c.nodes = 0),
        ClusterError::NodeCount {
            nodes: 0,
            max: 2001
        }
    );
    assert!(matches!(
        bad(|c| c.nodes = 5000),
        ClusterError::NodeCount { .. }
    ));
    assert_eq!(bad(|c| c.speed = 0.0), ClusterError::Speed(0.0));
    assert_eq!(
        bad(|c| c.client_deadline_us = 0),
        ClusterError::ClientTimeouts
    );
    assert!(matches!(
        bad(|c| c.network.drop = 2.0),
        ClusterError::Probability { .. }
    ));
    assert!(matches!(
        bad(|c| c.raft.heartbeat_us = c.raft.election_timeout_min_us),
        ClusterError::Raft(_)
    ));
}
