//! Single-server membership changes: chapter 4 of Ongaro's thesis ("Consensus: Bridging
//! Theory and Practice", 2014). A configuration is a log entry, in force as soon as it is
//! in a node's log; one change at a time; a new node is a learner until it catches up.

use raftlab::raft::{Input, NodeId, Payload, ProposeError, RaftConfig, RaftEvent, Role};

use crate::harness::{Cluster, MS, another, messages_of_kind};

fn cluster_with_leader(seed: u64) -> (Cluster, NodeId) {
    Cluster::with_leader(3, RaftConfig::default(), seed)
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
            Some(Payload::Config(_))
        ));
        cluster.run_for(1_000 * MS);
        cluster.heal();
        cluster.run_for(1_000 * MS);
        let leader = cluster.stable_leader().expect("a stable leader");
        assert_ne!(cluster.node(old).role(), Role::Leader, "seed {seed}");
        assert!(leader != old || cluster.node(old).term() > 1);
        assert!(!matches!(
            cluster.node(old).log().get(last).map(|e| &e.payload),
            Some(Payload::Config(_))
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

/// The index a change went to, from the step's proposal.
fn proposed_index(outputs: &raftlab::raft::Outputs) -> u64 {
    match &outputs.proposal {
        Some(Ok(proposed)) => proposed.first_index,
        other => panic!("the change was refused: {other:?}"),
    }
}

/// Reference: thesis sections 4.2.2 and 4.2.3. Two voters; the leader removes itself and
/// loses its leadership before the other receives the entry. It holds the longer log, so
/// the other cannot win without its vote; and it is no voter of its own latest
/// configuration. It campaigns all the same, since that configuration is not known to be
/// committed and it was a voter of the one before, counting only the other's vote (not its
/// own); it leads, commits the change and steps down, and the remaining voter leads alone.
#[test]
fn membership_a_leader_that_removed_itself_and_lost_leadership_campaigns_and_commits_it() {
    for seed in 0..5 {
        let mut cluster = Cluster::new(2, seed);
        let old = cluster.run_until_leader(3_000 * MS).expect("a leader");
        cluster.run_for(200 * MS);
        let other = 3 - old;
        cluster.isolate(old);
        let out = cluster.step(old, Input::RemoveNode(old));
        let config_index = proposed_index(&out);
        assert_eq!(cluster.node(old).voters(), &[other]);
        // The other voter times out and campaigns in vain: it needs the old leader's vote.
        cluster.run_for(1_000 * MS);
        assert!(
            cluster.node(other).term() > cluster.node(old).term(),
            "seed {seed}"
        );
        assert!(cluster.node(other).log().last_index() < config_index);
        cluster.heal();
        let deposed = cluster.run_until_or(cluster.now_us + 500 * MS, |c| {
            c.node(old).role() != Role::Leader
        });
        assert!(deposed, "seed {seed}");
        assert_eq!(cluster.leader(), None, "seed {seed}");
        // Its own vote does not count: it asks the one voter of its configuration.
        let out = cluster.step(old, Input::Campaign);
        assert_eq!(cluster.node(old).role(), Role::Candidate, "seed {seed}");
        let requests = messages_of_kind(&out, "RequestVote");
        assert_eq!(requests.len(), 1, "seed {seed}");
        assert_eq!(requests[0].to, other);
        cluster.run_for(2_000 * MS);
        let leader = cluster.stable_leader().expect("a stable leader");
        assert_eq!(leader, other, "seed {seed}");
        assert_eq!(cluster.node(other).voters(), &[other]);
        assert!(cluster.node(other).commit() >= config_index, "seed {seed}");
        assert!(cluster.node(old).commit() >= config_index, "seed {seed}");
        let out = cluster.propose(other, vec![b"after".to_vec()]);
        let index = out
            .proposal
            .expect("a proposal")
            .expect("accepted")
            .last_index;
        assert!(cluster.node(other).commit() >= index, "seed {seed}");
    }
}

/// Reference: thesis section 4.2.3 (disruptive servers). When a removal commits, the
/// leader sends the removed node one last AppendEntries with the new commit index: the
/// node learns its removal committed, and never campaigns though it hears nothing more.
#[test]
fn membership_a_removed_follower_that_learned_the_commit_does_not_campaign() {
    for seed in 0..5 {
        let (mut cluster, leader) = cluster_with_leader(seed);
        let removed = another(leader);
        let out = cluster.step(leader, Input::RemoveNode(removed));
        let config_index = proposed_index(&out);
        cluster.run_for(100 * MS);
        assert!(cluster.node(leader).commit() >= config_index, "seed {seed}");
        assert!(
            cluster.node(removed).commit() >= config_index,
            "seed {seed}"
        );
        let (term, leader_term) = (cluster.node(removed).term(), cluster.node(leader).term());
        cluster.run_for(3_000 * MS);
        assert_eq!(cluster.node(removed).term(), term, "seed {seed}");
        assert_eq!(cluster.node(removed).role(), Role::Follower);
        assert_eq!(cluster.node(leader).role(), Role::Leader, "seed {seed}");
        assert_eq!(cluster.node(leader).term(), leader_term, "seed {seed}");
    }
}

/// Reference: thesis section 4.2.1. A learner being added, holding the entry that adds
/// it but not knowing it committed, never campaigns: it was no voter before either.
#[test]
fn membership_a_learner_being_added_never_campaigns() {
    for seed in 0..5 {
        let (mut cluster, leader) = cluster_with_leader(seed);
        cluster.add_node(4);
        // The leader and the new node only: the change reaches n4 and cannot commit.
        let others: Vec<NodeId> = (1..=3).filter(|&n| n != leader).collect();
        cluster.partition(&[&[leader, 4], &others]);
        let out = cluster.step(leader, Input::AddNode(4));
        let config_index = proposed_index(&out);
        cluster.run_for(100 * MS);
        assert_eq!(cluster.node(4).learners(), &[4], "seed {seed}");
        assert!(cluster.node(4).log().last_index() >= config_index);
        assert!(cluster.node(4).commit() < config_index, "seed {seed}");
        cluster.isolate(4);
        let term = cluster.node(4).term();
        cluster.run_for(3_000 * MS);
        assert_eq!(cluster.node(4).term(), term, "seed {seed}");
        assert_eq!(cluster.node(4).role(), Role::Follower);
    }
}

/// Reference: section 5.2. A single voter's own vote is a majority: it leads at once,
/// without a message, with PreVote as without.
#[test]
fn membership_a_single_voter_elects_itself_at_once() {
    for prevote in [false, true] {
        let config = RaftConfig {
            prevote,
            ..RaftConfig::default()
        };
        let mut cluster = Cluster::with_config(1, config, 7);
        let out = cluster.step(1, Input::Campaign);
        assert_eq!(cluster.node(1).role(), Role::Leader, "prevote {prevote}");
        assert_eq!(cluster.node(1).term(), 1);
        assert!(out.messages.is_empty(), "prevote {prevote}");
        assert!(
            out.events
                .iter()
                .any(|e| matches!(e, RaftEvent::BecameLeader { term: 1 }))
        );
        assert_eq!(cluster.node(1).commit(), 1, "the no-op commits at once");
    }
}
