//! Durable state (Figure 2, "persistent state on all servers"): a node rebuilt from its
//! storage keeps its term, its vote and its log, so a restart of any node, or of every
//! node, loses no committed write.

use raftlab::cluster::{NodePicture, NodeState};
use raftlab::raft::Role;

use crate::support::*;

/// The durable part of a node's status.
fn durable(status: &NodePicture) -> (u64, Option<u64>, u64, u64) {
    (
        status.term,
        status.vote,
        status.last_index,
        status.last_term,
    )
}

#[test]
fn a_restarted_node_keeps_its_term_vote_and_log() {
    let cluster = virtual_cluster(5, 4);
    let leader = wait_leader(&cluster, 3 * SECOND_US);
    for i in 0..5 {
        put(&cluster, &format!("k{i}"), "v");
    }
    let follower = if leader == 1 { 2 } else { 1 };
    for node in [follower, leader] {
        let before = cluster.status().unwrap().nodes[node as usize - 1].clone();
        let log_before = cluster.logs(vec![node]).unwrap();
        assert!(before.term > 0 && before.last_index > 5, "{before:?}");
        cluster.kill(node).unwrap();
        let down = cluster.status().unwrap().nodes[node as usize - 1].clone();
        assert_eq!(down.state, NodeState::Down);
        assert_eq!(durable(&down), durable(&before), "n{node} down");
        cluster.restart(node).unwrap();
        let after = cluster.status().unwrap().nodes[node as usize - 1].clone();
        assert_eq!(after.state, NodeState::Up);
        assert_eq!(
            after.role,
            Some(Role::Follower),
            "a node restarts as a follower"
        );
        assert_eq!(durable(&after), durable(&before), "n{node} restarted");
        assert_eq!(cluster.logs(vec![node]).unwrap(), log_before);
        // Commit and applied are volatile: learned again from the leader.
        assert_eq!(after.applied, 0);
        assert!(wait_converged(&cluster, 3 * SECOND_US));
        assert_eq!(cluster.kv(node).unwrap().len(), 5);
    }
}

#[test]
fn a_vote_survives_a_restart_so_a_node_votes_once_per_term() {
    let cluster = virtual_cluster(3, 8);
    let leader = wait_leader(&cluster, 3 * SECOND_US);
    let status = cluster.status().unwrap();
    let voter = status
        .nodes
        .iter()
        .find(|n| n.id != leader && n.vote == Some(leader))
        .expect("a follower voted for the leader")
        .id;
    let term = status.nodes[voter as usize - 1].term;
    cluster.kill(voter).unwrap();
    cluster.restart(voter).unwrap();
    let after = cluster.status().unwrap().nodes[voter as usize - 1].clone();
    assert_eq!((after.term, after.vote), (term, Some(leader)));
}

#[test]
fn killing_and_restarting_every_node_loses_no_committed_write() {
    for seed in 1..=30 {
        let cluster = virtual_cluster(5, seed);
        wait_leader(&cluster, 3 * SECOND_US);
        for i in 0..10 {
            put(&cluster, &format!("k{i}"), &format!("{i}"));
        }
        for node in 1..=5 {
            cluster.kill(node).unwrap();
        }
        assert_eq!(cluster.leader().unwrap(), None);
        assert!(up_nodes(&cluster).is_empty());
        cluster.run_for(SECOND_US).unwrap();
        for node in 1..=5 {
            cluster.restart(node).unwrap();
        }
        wait_leader(&cluster, 3 * SECOND_US);
        for i in 0..10 {
            assert_eq!(
                get(&cluster, &format!("k{i}")),
                Some(format!("{i}")),
                "seed {seed}"
            );
        }
        assert!(wait_converged(&cluster, 3 * SECOND_US), "seed {seed}");
        for node in 1..=5 {
            assert_eq!(cluster.kv(node).unwrap().len(), 10, "seed {seed}: n{node}");
        }
    }
}
