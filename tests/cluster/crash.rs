//! A node whose thread panics is contained: the cluster reports it as crashed, the other
//! nodes go on, and the crashed node can be restarted from its durable storage.

use raftlab::cluster::{ClusterError, EventKind, Hosting, NodeState};
use raftlab::raft::{MAX_GIVEN_TERM, Role};

use crate::support::*;

fn crashed_message(cluster: &raftlab::cluster::Cluster, node: u64) -> Option<String> {
    match &cluster.status().unwrap().nodes[node as usize - 1].state {
        NodeState::Crashed(crash) => Some(crash.to_string()),
        _ => None,
    }
}

#[test]
fn a_panicking_node_is_reported_crashed_and_the_rest_keep_working() {
    for hosting in [Hosting::Threads, Hosting::Inline] {
        panicking_node_is_contained(hosting);
    }
}

fn panicking_node_is_contained(hosting: Hosting) {
    let mut config = virtual_config(5, 6);
    config.hosting = hosting;
    let cluster = start(config);
    wait_leader(&cluster, 3 * SECOND_US);
    put(&cluster, "before", "1");
    cluster.inject_panic(2, "boom".into()).unwrap();

    let message = crashed_message(&cluster, 2).expect("n2 is crashed");
    assert!(message.contains("boom"), "{message}");
    assert!(cluster.events(100).unwrap().iter().any(|e| matches!(
        &e.kind,
        EventKind::NodeCrashed { node: 2, crash } if crash.to_string().contains("boom")
    )));
    // A crashed node is down: it has no role and cannot be killed again or read.
    assert_eq!(role(&cluster, 2), None);
    assert_eq!(cluster.kill(2), Err(ClusterError::NodeIsDown(2)));
    assert_eq!(cluster.kv(2), Err(ClusterError::NodeIsDown(2)));

    // The other four keep electing and committing.
    wait_leader(&cluster, 3 * SECOND_US);
    put(&cluster, "during", "2");
    assert_eq!(get(&cluster, "before").as_deref(), Some("1"));
    assert_eq!(crashed_message(&cluster, 2), Some(message));

    cluster.restart(2).unwrap();
    assert_eq!(cluster.status().unwrap().nodes[1].state, NodeState::Up);
    put(&cluster, "after", "3");
    assert!(wait_converged(&cluster, 3 * SECOND_US));
    let keys: Vec<String> = cluster.kv(2).unwrap().into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["after", "before", "during"]);
}

#[test]
fn set_log_refuses_a_term_that_could_not_grow() {
    // From a term of u64::MAX the node's next election would need a term past the largest:
    // the core would panic. The log is refused, and the node keeps the one it had.
    let cluster = virtual_cluster(3, 9);
    cluster.kill(3).unwrap();
    assert_eq!(
        cluster.set_log(3, vec![1, u64::MAX]),
        Err(ClusterError::TermTooLarge(u64::MAX))
    );
    assert_eq!(
        cluster.set_log(3, vec![MAX_GIVEN_TERM + 1]),
        Err(ClusterError::TermTooLarge(MAX_GIVEN_TERM + 1))
    );
    cluster.set_log(3, vec![MAX_GIVEN_TERM]).unwrap();
    cluster.restart(3).unwrap();
    wait_leader(&cluster, 3 * SECOND_US);
    assert_eq!(crashed_message(&cluster, 3), None);
}

#[test]
fn a_crashed_leader_is_replaced() {
    let cluster = virtual_cluster(3, 9);
    let leader = wait_leader(&cluster, 3 * SECOND_US);
    put(&cluster, "x", "1");
    cluster.inject_panic(leader, "leader boom".into()).unwrap();
    assert!(crashed_message(&cluster, leader).is_some_and(|m| m.contains("leader boom")));
    let new = wait_new_leader(&cluster, leader, 3 * SECOND_US);
    assert_eq!(get(&cluster, "x").as_deref(), Some("1"));
    cluster.restart(leader).unwrap();
    assert!(wait_converged(&cluster, 3 * SECOND_US));
    assert_eq!(role(&cluster, leader), Some(Role::Follower));
    assert_eq!(cluster.leader().unwrap(), Some(new));
}
