//! Leadership transfer: section 3.10 of Ongaro's thesis.

use raftlab::raft::{Input, ProposeError, RaftConfig, RaftEvent, Role};

use crate::harness::{MS, another, config_with, three_with_leader};

/// Reference: thesis section 3.10. The target, brought up to date and sent TimeoutNow,
/// wins the next term at once, with every option combination (with PreVote it skips the
/// pre-vote round; with CheckQuorum, leader stickiness does not stop it).
#[test]
fn transfer_the_target_leads_the_next_term() {
    for (prevote, check_quorum) in [(false, false), (true, false), (false, true), (true, true)] {
        for seed in 0..5 {
            let (mut cluster, leader, term) =
                three_with_leader(config_with(prevote, check_quorum), seed);
            let target = another(leader);
            let out = cluster.step(leader, Input::TransferLeader(target));
            assert!(
                out.events
                    .contains(&RaftEvent::TransferStarted { term, target })
            );
            cluster.run_for(100 * MS);
            let context = format!("prevote {prevote}, check_quorum {check_quorum}, seed {seed}");
            assert_eq!(cluster.stable_leader(), Some(target), "{context}");
            assert_eq!(cluster.node(target).term(), term + 1, "{context}");
        }
    }
}

/// Reference: thesis section 3.10. A target that is behind is brought up to date first:
/// it is sent TimeoutNow only once its log matches the leader's.
#[test]
fn transfer_a_lagging_target_catches_up_before_timeout_now() {
    let (mut cluster, leader, term) = three_with_leader(RaftConfig::default(), 2);
    let target = another(leader);
    cluster.isolate(target);
    for n in 0..5u8 {
        cluster.propose(leader, vec![vec![n]]);
        cluster.run_for(10 * MS);
    }
    cluster.heal();
    let last = cluster.node(leader).log().last_index();
    let out = cluster.step(leader, Input::TransferLeader(target));
    assert!(
        !out.events
            .iter()
            .any(|e| matches!(e, RaftEvent::TimeoutNowSent { .. })),
        "not before the target caught up"
    );
    cluster.run_for(200 * MS);
    assert_eq!(cluster.stable_leader(), Some(target));
    assert_eq!(cluster.node(target).term(), term + 1);
    assert!(cluster.node(target).log().last_index() > last);
}

/// Reference: thesis section 3.10. While it hands its leadership over, the leader refuses
/// new proposals, pointing at the target.
#[test]
fn transfer_the_leader_refuses_proposals_meanwhile() {
    let (mut cluster, leader, _) = three_with_leader(RaftConfig::default(), 3);
    let target = another(leader);
    cluster.crash(target);
    cluster.step(leader, Input::TransferLeader(target));
    let out = cluster.propose(leader, vec![b"x".to_vec()]);
    assert_eq!(
        out.proposal,
        Some(Err(ProposeError::Transferring { target }))
    );
}

/// Reference: thesis section 3.10. A target that does not catch up within an election
/// timeout (here: it is down) makes the leader give the transfer up; it leads on and
/// takes proposals again.
#[test]
fn transfer_to_a_down_target_fails_after_an_election_timeout() {
    let (mut cluster, leader, term) = three_with_leader(RaftConfig::default(), 4);
    let target = another(leader);
    cluster.crash(target);
    cluster.step(leader, Input::TransferLeader(target));
    // The longest election timeout is 300ms; the transfer is given up by then.
    cluster.run_for(301 * MS);
    assert_eq!(cluster.node(leader).role(), Role::Leader);
    assert_eq!(cluster.node(leader).term(), term);
    let out = cluster.propose(leader, vec![b"x".to_vec()]);
    assert!(matches!(out.proposal, Some(Ok(_))));
}

/// A transfer only a leader can start, and not to itself: the refusal is an event.
#[test]
fn transfer_is_refused_by_a_follower_and_to_the_leader_itself() {
    let (mut cluster, leader, term) = three_with_leader(RaftConfig::default(), 5);
    let follower = another(leader);
    let out = cluster.step(follower, Input::TransferLeader(leader));
    assert!(matches!(
        out.events.as_slice(),
        [RaftEvent::TransferFailed {
            reason: "not the leader",
            ..
        }]
    ));
    let out = cluster.step(leader, Input::TransferLeader(leader));
    assert!(matches!(
        out.events.as_slice(),
        [RaftEvent::TransferFailed { target, term: t, .. }] if *target == leader && *t == term
    ));
}
