//! Leader failure (Raft sections 5.2 and 5.4): when the leader dies another is elected,
//! and Leader Completeness means no committed write is lost.

use crate::support::*;

const KEYS: usize = 10;

#[test]
fn killing_the_leader_elects_another_and_loses_no_committed_write() {
    for seed in 1..=60 {
        let cluster = virtual_cluster(5, seed);
        let old = wait_leader(&cluster, 3 * SECOND_US);
        for i in 0..KEYS {
            put(&cluster, &format!("k{i}"), &format!("v{i}-{seed}"));
        }
        cluster.kill(old).unwrap();
        let new = wait_new_leader(&cluster, old, 3 * SECOND_US);
        assert_ne!(new, old);
        for i in 0..KEYS {
            let value = get(&cluster, &format!("k{i}"));
            assert_eq!(
                value,
                Some(format!("v{i}-{seed}")),
                "seed {seed}: k{i} lost"
            );
        }
        // Every live node applies every committed write, in the same order.
        assert!(
            wait_converged(&cluster, 2 * SECOND_US),
            "seed {seed}: no convergence"
        );
        let expected: Vec<(String, String)> = (0..KEYS)
            .map(|i| (format!("k{i}"), format!("v{i}-{seed}")))
            .collect();
        for node in up_nodes(&cluster) {
            assert_ne!(node, old);
            assert_eq!(
                cluster.kv(node).unwrap(),
                expected,
                "seed {seed}: n{node}'s kv"
            );
        }
        assert!(logs_match(&cluster), "seed {seed}");
    }
}

#[test]
fn a_killed_leader_rejoins_as_a_follower_and_catches_up() {
    let cluster = virtual_cluster(5, 3);
    let old = wait_leader(&cluster, 3 * SECOND_US);
    put(&cluster, "a", "1");
    cluster.kill(old).unwrap();
    let new = wait_new_leader(&cluster, old, 3 * SECOND_US);
    put(&cluster, "b", "2");
    cluster.restart(old).unwrap();
    assert!(wait_converged(&cluster, 2 * SECOND_US));
    assert_eq!(cluster.leader().unwrap(), Some(new));
    assert_eq!(role(&cluster, old), Some(raftlab::raft::Role::Follower));
    let kv = cluster.kv(old).unwrap();
    assert_eq!(kv, vec![("a".into(), "1".into()), ("b".into(), "2".into())]);
}

/// Followers that still name the dead leader redirect clients to it; the client must wait
/// for the election instead of bouncing between a follower and the dead node at one
/// instant (a livelock found by these tests, fixed in `Scheduler::client_reply`).
#[test]
fn a_request_right_after_the_leader_dies_waits_for_the_new_leader() {
    for seed in [7, 1, 2, 3] {
        let cluster = virtual_cluster(5, seed);
        let old = wait_leader(&cluster, 3 * SECOND_US);
        put(&cluster, "a", "1");
        cluster.kill(old).unwrap();
        put(&cluster, "b", "2");
        let new = cluster.leader().unwrap().expect("a leader");
        assert_ne!(new, old, "seed {seed}");
        assert_eq!(get(&cluster, "a").as_deref(), Some("1"), "seed {seed}");
    }
}
