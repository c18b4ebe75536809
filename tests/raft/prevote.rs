//! PreVote and CheckQuorum: sections 9.6 and 6.2 of Ongaro's thesis ("Consensus: Bridging
//! Theory and Practice", 2014).

use raftlab::raft::{Input, Message, NodeId, RaftConfig, RaftEvent, RaftProcessor, Role, Storage};

use crate::harness::{MS, config_with, envelope, messages_of_kind, three_with_leader};

fn a_follower_of(leader: NodeId) -> NodeId {
    if leader == 1 { 2 } else { 1 }
}

/// The node of three that is neither `a` nor `b`.
fn the_third(a: NodeId, b: NodeId) -> NodeId {
    (1..=3).find(|&n| n != a && n != b).expect("a third node")
}

/// Isolates a follower for two seconds, then heals; returns (follower's term while cut
/// off, leader after healing, leader's term after healing).
fn isolate_and_rejoin(config: RaftConfig, seed: u64) -> (u64, Option<NodeId>, u64, NodeId) {
    let (mut cluster, leader, _) = three_with_leader(config, seed);
    let follower = a_follower_of(leader);
    cluster.isolate(follower);
    cluster.run_for(2_000 * MS);
    let cut_off_term = cluster.node(follower).term();
    cluster.heal();
    cluster.run_for(1_000 * MS);
    let after = cluster.stable_leader();
    let term = after.map_or(0, |l| cluster.node(l).term());
    (cut_off_term, after, term, leader)
}

/// Reference: thesis section 9.6. Without PreVote, a node cut off from the cluster keeps
/// raising its term, and when it comes back that term deposes the leader.
#[test]
fn without_prevote_a_rejoining_node_disrupts_the_leader() {
    let (cut_off_term, _, term_after, _) = isolate_and_rejoin(config_with(false, false), 3);
    assert!(
        cut_off_term > 3,
        "the cut-off node ran elections: {cut_off_term}"
    );
    assert!(
        term_after >= cut_off_term,
        "the cluster moved to the rejoined node's term"
    );
}

/// Reference: thesis section 9.6. With PreVote, a node cut off from the cluster cannot win
/// a pre-vote round, so it never raises its term.
#[test]
fn prevote_a_partitioned_node_does_not_raise_its_term() {
    for seed in 0..10 {
        let (mut cluster, leader, term) = three_with_leader(config_with(true, false), seed);
        let follower = a_follower_of(leader);
        cluster.isolate(follower);
        cluster.run_for(2_000 * MS);
        assert_eq!(cluster.node(follower).term(), term, "seed {seed}");
        assert_eq!(cluster.node(follower).role(), Role::Follower, "seed {seed}");
    }
}

/// Reference: thesis section 9.6. With PreVote, the node that rejoins finds the leader
/// still leading, in the same term.
#[test]
fn prevote_a_rejoining_node_does_not_disrupt_the_leader() {
    for seed in 0..10 {
        let (mut cluster, leader, term) = three_with_leader(config_with(true, false), seed);
        cluster.isolate(a_follower_of(leader));
        cluster.run_for(2_000 * MS);
        cluster.heal();
        cluster.run_for(1_000 * MS);
        assert_eq!(cluster.stable_leader(), Some(leader), "seed {seed}");
        assert_eq!(cluster.node(leader).term(), term, "seed {seed}");
    }
}

/// Reference: thesis section 9.6. A pre-vote round changes neither the asker's term and
/// vote nor the voter's; a voter says yes to an up-to-date log when it has no leader.
#[test]
fn prevote_a_round_changes_no_term_and_no_vote() {
    let storage = Storage::default();
    let mut node = RaftProcessor::new(1, &[1, 2, 3], config_with(true, false), &storage, 7, 0);
    let out = node.step(0, Input::Campaign);
    assert_eq!(node.term(), 0);
    assert!(out.events.contains(&RaftEvent::PreVoteStarted { term: 1 }));
    let asks = messages_of_kind(&out, "PreVote");
    assert_eq!(asks.len(), 2);
    assert!(asks.iter().all(|e| e.term == 1));
    assert!(out.writes.is_empty(), "nothing durable changes");

    let mut voter = RaftProcessor::new(2, &[1, 2, 3], config_with(true, false), &storage, 8, 0);
    let out = voter.step(0, Input::message(asks[0].clone()));
    assert_eq!((voter.term(), voter.view().vote), (0, None));
    assert_eq!(
        messages_of_kind(&out, "PreVoteResponse")[0].message,
        Message::PreVoteResponse { granted: true }
    );
    // A majority of yes starts the real election at term 1.
    let yes = envelope(2, 1, 0, Message::PreVoteResponse { granted: true });
    let out = node.step(0, Input::message(yes));
    assert_eq!((node.role(), node.term()), (Role::Candidate, 1));
    assert_eq!(messages_of_kind(&out, "RequestVote").len(), 2);
}

/// Reference: thesis section 9.6. A voter that heard from its leader within the election
/// timeout says no to a pre-vote.
#[test]
fn prevote_a_voter_with_a_live_leader_says_no() {
    let (mut cluster, leader, term) = three_with_leader(config_with(true, false), 1);
    let follower = a_follower_of(leader);
    let other = the_third(leader, follower);
    let ask = envelope(
        other,
        follower,
        term + 1,
        Message::PreVote {
            last_log_index: 100,
            last_log_term: term,
        },
    );
    let out = cluster.step(follower, Input::message(ask));
    assert_eq!(
        messages_of_kind(&out, "PreVoteResponse")[0].message,
        Message::PreVoteResponse { granted: false }
    );
    assert_eq!(cluster.node(follower).term(), term);
}

/// Reference: thesis section 6.2. A leader that has not heard from a majority within an
/// election timeout steps down.
#[test]
fn check_quorum_a_leader_without_a_majority_steps_down() {
    for seed in 0..10 {
        let (mut cluster, leader, _) = three_with_leader(config_with(false, true), seed);
        // One-way cuts: the leader still sends, but hears nothing back.
        for &other in &cluster.ids.clone() {
            if other != leader {
                cluster.cut.insert((other, leader));
            }
        }
        cluster.run_for(400 * MS);
        assert_ne!(cluster.node(leader).role(), Role::Leader, "seed {seed}");
    }
}

/// Reference: thesis section 6.2. Without CheckQuorum the same leader keeps leading.
#[test]
fn without_check_quorum_a_leader_without_a_majority_stays_leader() {
    let (mut cluster, leader, _) = three_with_leader(config_with(false, false), 2);
    for &other in &cluster.ids.clone() {
        if other != leader {
            cluster.cut.insert((other, leader));
        }
    }
    cluster.run_for(400 * MS);
    assert_eq!(cluster.node(leader).role(), Role::Leader);
}

/// Reference: thesis section 6.2 (leader stickiness). A follower that heard from its
/// leader within the shortest election timeout ignores RequestVote, even of a higher
/// term: it neither answers nor takes the term.
#[test]
fn check_quorum_a_follower_with_a_live_leader_ignores_request_vote() {
    let (mut cluster, leader, term) = three_with_leader(config_with(false, true), 4);
    let follower = a_follower_of(leader);
    let other = the_third(leader, follower);
    let ask = envelope(
        other,
        follower,
        term + 5,
        Message::RequestVote {
            last_log_index: 100,
            last_log_term: term,
            leadership_transfer: false,
        },
    );
    let out = cluster.step(follower, Input::message(ask));
    assert!(messages_of_kind(&out, "VoteResponse").is_empty());
    assert_eq!(cluster.node(follower).term(), term);
}

/// Both options on: the cluster still elects a new leader when the leader fails.
#[test]
fn prevote_and_check_quorum_elect_again_after_the_leader_fails() {
    for seed in 0..10 {
        let (mut cluster, leader, term) = three_with_leader(config_with(true, true), seed);
        cluster.crash(leader);
        let next = cluster.run_until_leader(3_000 * MS);
        let next = next.expect("a new leader");
        assert_ne!(next, leader, "seed {seed}");
        assert!(cluster.node(next).term() > term, "seed {seed}");
    }
}
