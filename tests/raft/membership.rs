//! Single-server membership changes: chapter 4 of Ongaro's thesis ("Consensus: Bridging
//! Theory and Practice", 2014). A configuration is a log entry, in force as soon as it is
//! in a node's log; one change at a time; a new node is a learner until it catches up.

use raftlab::raft::{Input, NodeId, Payload, ProposeError, RaftEvent, Role};

use crate::harness::{Cluster, MS};

fn cluster_with_leader(seed: u64) -> (Cluster, NodeId) {
    let mut cluster = Cluster::new(3, seed);
    let leader = cluster.run_until_leader(3_000 * MS).expect("a leader");
    cluster.run_for(200 * MS);
    (cluster, leader)
}

fn another(leader: NodeId) -> NodeId {
    if leader == 3 { 1 } else { leader + 1 }
}

fn proposal_error(outputs: &raftlab::raft::Outputs) -> Option<ProposeError> {
    outputs.proposal.clone().and_then(Result::err)
}

/// Reference: thesis sections 4.2.1 and 4.1. A new node joins as a learner, receives
/// the log, and the leader promotes it to voter once it has caught up; every node ends
/// with the same configuration.
#[test]
fn membership_a_new_node_joins_as_a_learner_and_is_promoted_once_caught_up() {
    for seed in 0..5 {
        let (mut cluster, leader) = cluster_with_leader(seed);
        cluster.propose(leader, vec![b"x".to_vec()]);
        cluster.run_for(50 * MS);
        cluster.add_node(4);
        let out = cluster.step(leader, Input::AddNode(4));
        assert!(
            out.proposal.as_ref().is_some_and(Result::is_ok),
            "seed {seed}"
        );
        assert_eq!(cluster.node(leader).learners(), &[4]);
        assert_eq!(cluster.node(leader).voters(), &[1, 2, 3]);
        cluster.run_for(500 * MS);
        for id in 1..=4 {
            assert_eq!(
                cluster.node(id).voters(),
                &[1, 2, 3, 4],
                "seed {seed} n{id}"
            );
            assert!(cluster.node(id).learners().is_empty(), "seed {seed} n{id}");
        }
        assert_eq!(cluster.node(4).commit(), cluster.node(leader).commit());
    }
}

/// Reference: thesis section 4.2.1. A learner receives entries but neither votes nor
/// counts for a quorum: cut off, it never campaigns, and the cluster commits without it.
#[test]
fn membership_a_learner_does_not_campaign_or_count_for_quorum() {
    let (mut cluster, leader) = cluster_with_leader(1);
    cluster.add_node(4);
    cluster.isolate(4);
    cluster.step(leader, Input::AddNode(4));
    cluster.run_for(100 * MS);
    assert_eq!(cluster.node(leader).learners(), &[4]);
    let commit = cluster.node(leader).commit();
    cluster.propose(leader, vec![b"y".to_vec()]);
    cluster.run_for(2_000 * MS);
    assert!(cluster.node(leader).commit() > commit);
    // n4 never heard of the cluster: it is in no configuration and never campaigns.
    assert_eq!(cluster.node(4).term(), 0);
    assert_eq!(cluster.node(4).role(), Role::Follower);
    // Still a learner: it has not caught up, so it is not promoted.
    assert_eq!(cluster.node(leader).learners(), &[4]);
}

/// Reference: thesis section 4.1. One change at a time: a second change is refused
/// until the first commits.
#[test]
fn membership_one_change_at_a_time() {
    let (mut cluster, leader) = cluster_with_leader(2);
    // Cut the leader off so that its change cannot commit.
    cluster.isolate(leader);
    let out = cluster.step(leader, Input::RemoveNode(another(leader)));
    assert!(out.proposal.as_ref().is_some_and(Result::is_ok));
    let out = cluster.step(leader, Input::AddNode(7));
    assert!(matches!(
        proposal_error(&out),
        Some(ProposeError::ChangePending { .. })
    ));
    assert!(
        out.events
            .iter()
            .any(|e| matches!(e, RaftEvent::ChangeRefused { .. }))
    );
}

/// Reference: Ongaro, "bug in single-server membership changes" (raft-dev, 2015): a
/// leader must commit an entry of its own term before it takes a change.
#[test]
fn membership_a_leader_refuses_a_change_before_committing_in_its_term() {
    for seed in 0..5 {
        let mut cluster = Cluster::new(3, seed);
        let elected = cluster.run_until_or(3_000 * MS, |c| c.leader().is_some());
        assert!(elected);
        let leader = cluster.leader().expect("a leader");
        let node = cluster.node(leader);
        assert_ne!(node.log().term_at(node.commit()), Some(node.term()));
        let out = cluster.step(leader, Input::AddNode(4));
        assert_eq!(proposal_error(&out), Some(ProposeError::NoCommitInTerm));
        cluster.run_for(100 * MS);
        let out = cluster.step(leader, Input::AddNode(4));
        assert!(
            out.proposal.as_ref().is_some_and(Result::is_ok),
            "seed {seed}"
        );
    }
}

/// Reference: thesis section 4.2.2. A leader that removes itself keeps leading (without
/// counting itself) until the change commits, then steps down; the others elect a
/// leader, and the removed node, in no configuration's voters, never campaigns.
#[test]
fn membership_a_removed_leader_steps_down_once_the_change_commits() {
    for seed in 0..5 {
        let (mut cluster, leader) = cluster_with_leader(seed);
        let term = cluster.node(leader).term();
        let out = cluster.step(leader, Input::RemoveNode(leader));
        assert!(out.proposal.as_ref().is_some_and(Result::is_ok));
        assert_eq!(cluster.node(leader).role(), Role::Leader);
        cluster.run_for(2_000 * MS);
        assert_ne!(cluster.node(leader).role(), Role::Leader, "seed {seed}");
        let next = cluster.leader().expect("another leader");
        assert_ne!(next, leader);
        assert!(!cluster.node(next).voters().contains(&leader));
        cluster.propose(next, vec![b"z".to_vec()]);
        cluster.run_for(200 * MS);
        let commit = cluster.node(next).commit();
        assert_eq!(cluster.node(another(next)).commit().max(commit), commit);
        // The removed node stays in its old term: it never campaigned.
        assert!(cluster.node(leader).term() <= cluster.node(next).term());
        assert!(cluster.node(next).term() > term);
    }
}

/// Reference: thesis section 4.1. A node uses the latest configuration in its log,
/// committed or not, so a removal that is truncated away is undone: the node is back.
#[test]
fn membership_a_node_removed_by_a_truncated_entry_comes_back() {
    for seed in 0..5 {
        let (mut cluster, old) = cluster_with_leader(seed);
        let victim = another(old);
        cluster.isolate(old);
        cluster.step(old, Input::RemoveNode(victim));
        // In force at once, uncommitted.
        assert!(!cluster.node(old).voters().contains(&victim));
        let last = cluster.node(old).log().last_index();
        assert!(matches!(
            cluster.node(old).log().get(last).map(|e| &e.payload),
            Some(Payload::Config { .. })
        ));
        cluster.run_for(1_000 * MS);
        cluster.heal();
        cluster.run_for(1_000 * MS);
        let leader = cluster.stable_leader().expect("a stable leader");
        assert_ne!(cluster.node(old).role(), Role::Leader, "seed {seed}");
        assert!(leader != old || cluster.node(old).term() > 1);
        assert!(!matches!(
            cluster.node(old).log().get(last).map(|e| &e.payload),
            Some(Payload::Config { .. })
        ));
        assert_eq!(cluster.node(old).voters(), &[1, 2, 3], "seed {seed}");
    }
}

/// Reference: thesis section 4.1. The configuration is rebuilt from the log when a node
/// restarts.
#[test]
fn membership_a_restarted_node_takes_its_configuration_from_its_log() {
    let (mut cluster, leader) = cluster_with_leader(3);
    cluster.add_node(4);
    cluster.step(leader, Input::AddNode(4));
    cluster.run_for(500 * MS);
    cluster.crash(4);
    cluster.restart(4);
    assert_eq!(cluster.node(4).voters(), &[1, 2, 3, 4]);
    let follower = another(leader);
    cluster.crash(follower);
    cluster.restart(follower);
    assert_eq!(cluster.node(follower).voters(), &[1, 2, 3, 4]);
}

/// Reference: thesis section 4.1. Refusals leave nothing in the log: a change asked of a
/// follower, adding a member, removing a stranger.
#[test]
fn membership_refusals_append_nothing() {
    let (mut cluster, leader) = cluster_with_leader(4);
    let last = cluster.node(leader).log().last_index();
    let follower = another(leader);
    let out = cluster.step(follower, Input::AddNode(4));
    assert!(matches!(
        proposal_error(&out),
        Some(ProposeError::NotLeader { .. })
    ));
    let out = cluster.step(leader, Input::AddNode(follower));
    assert_eq!(
        proposal_error(&out),
        Some(ProposeError::AlreadyMember { node: follower })
    );
    let out = cluster.step(leader, Input::RemoveNode(9));
    assert_eq!(
        proposal_error(&out),
        Some(ProposeError::NotMember { node: 9 })
    );
    assert_eq!(cluster.node(leader).log().last_index(), last);
}

/// Reference: thesis section 5.1 (snapshots record the latest configuration as of their
/// last index). A snapshot carries the configuration its compacted log held: a node
/// restarted from its snapshot, and a new node that catches up by InstallSnapshot, know
/// the cluster's voters.
#[test]
fn membership_a_snapshot_carries_the_configuration_it_compacts() {
    let (mut cluster, leader) = cluster_with_leader(5);
    cluster.add_node(4);
    cluster.step(leader, Input::AddNode(4));
    cluster.run_for(500 * MS);
    assert_eq!(cluster.node(leader).voters(), &[1, 2, 3, 4]);
    for id in 1..=4 {
        let applied = cluster.node(id).view().applied;
        let data = b"state".to_vec();
        cluster.step(
            id,
            Input::Snapshot {
                index: applied,
                data,
            },
        );
        assert!(cluster.node(id).log().entries().is_empty(), "n{id}");
    }
    let follower = another(leader);
    cluster.crash(follower);
    cluster.restart(follower);
    assert_eq!(cluster.node(follower).voters(), &[1, 2, 3, 4]);
    cluster.run_for(200 * MS);
    let leader = cluster.stable_leader().expect("a stable leader");
    cluster.add_node(5);
    let out = cluster.step(leader, Input::AddNode(5));
    assert!(out.proposal.as_ref().is_some_and(Result::is_ok));
    cluster.run_for(500 * MS);
    assert_eq!(cluster.node(5).snapshot().voters, vec![1, 2, 3, 4]);
    assert_eq!(cluster.node(5).voters(), &[1, 2, 3, 4, 5]);
}
