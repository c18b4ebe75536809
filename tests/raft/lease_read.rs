//! Lease reads: section 6.4.1 of Ongaro's thesis. A leader whose AppendEntries sent at `t`
//! was answered by a majority answers reads at once until `t` + the lease, which leader
//! stickiness (CheckQuorum, section 6.2) makes safe: no other leader can be elected
//! before it ends.

use raftlab::raft::{
    ConfigError, Input, Message, NoLease, NodeId, Outputs, RaftConfig, RaftEvent, RaftProcessor,
    ReadMode, ReadState, Role, Storage,
};

use crate::harness::{Cluster, MS, envelope, messages_of_kind};

fn config(prevote: bool) -> RaftConfig {
    RaftConfig {
        check_quorum: true,
        prevote,
        reads: ReadMode::Lease,
        ..RaftConfig::default()
    }
}

/// A settled cluster of `n` with a leader, its no-op committed everywhere, and the
/// heartbeats of the last round answered.
fn cluster_with_leader(n: u64, prevote: bool, seed: u64) -> (Cluster, NodeId) {
    Cluster::with_leader(n, config(prevote), seed)
}

fn lease_read(outputs: &Outputs) -> Option<(u64, u64)> {
    outputs.events.iter().find_map(|event| match event {
        RaftEvent::LeaseRead {
            index,
            lease_until_us,
            ..
        } => Some((*index, *lease_until_us)),
        _ => None,
    })
}

fn no_lease(outputs: &Outputs) -> Option<NoLease> {
    outputs.events.iter().find_map(|event| match event {
        RaftEvent::ReadWithoutLease { why, .. } => Some(*why),
        _ => None,
    })
}

/// Reference: thesis section 6.4.1. Under its lease a leader answers a read at its commit
/// index at once: no message is sent, and no entry is added to the log.
#[test]
fn lease_a_read_under_the_lease_is_ready_at_once_without_any_message() {
    let (mut cluster, leader) = cluster_with_leader(3, false, 1);
    cluster.take_in_flight();
    let (last, commit) = {
        let node = cluster.node(leader);
        (node.log().last_index(), node.commit())
    };
    let out = cluster.step(leader, Input::Read(vec![7]));
    assert_eq!(
        out.reads,
        vec![ReadState::Ready {
            id: 7,
            index: commit
        }]
    );
    assert!(out.messages.is_empty(), "no round: {:?}", out.messages);
    let (index, until_us) = lease_read(&out).expect("a LeaseRead event");
    assert_eq!(index, commit);
    assert!(until_us > cluster.now_us);
    assert_eq!(cluster.node(leader).log().last_index(), last);
}

/// Reference: thesis section 6.4.1. The lease runs from when the answered AppendEntries
/// was *sent*, by the leader's clock, not from when the answer came back: an answer that
/// took long to arrive gives a lease that is mostly spent.
#[test]
fn lease_the_lease_runs_from_when_the_acknowledged_heartbeat_was_sent() {
    let (mut cluster, leader) = cluster_with_leader(3, false, 2);
    cluster.timers = false;
    cluster.settle();
    // A heartbeat round sent now, whose answers are held back for 100ms.
    let sent_us = cluster.now_us;
    let out = cluster.step(leader, Input::Tick);
    assert!(out.messages.is_empty(), "no heartbeat due yet");
    cluster.now_us = cluster.node(leader).next_deadline_us();
    let heartbeat_us = cluster.now_us;
    assert!(heartbeat_us >= sent_us);
    cluster.step(leader, Input::Tick);
    let heartbeats = cluster.take_in_flight();
    assert!(!heartbeats.is_empty());
    cluster.now_us += 100 * MS;
    for heartbeat in heartbeats {
        cluster.deliver(heartbeat);
    }
    cluster.settle();
    let out = cluster.step(leader, Input::Read(vec![1]));
    let (_, until_us) = lease_read(&out).expect("under the lease");
    assert_eq!(until_us, heartbeat_us + cluster.config.lease_us());
}

/// Reference: thesis section 6.4.1. Once the lease has run out, a read waits for a
/// ReadIndex round (LeaderCheck to every follower) and is ready when a majority answers.
#[test]
fn lease_after_the_lease_ends_a_read_needs_a_round() {
    let (mut cluster, leader) = cluster_with_leader(3, false, 3);
    cluster.timers = false;
    cluster.settle();
    cluster.run_for(cluster.config.lease_us());
    let out = cluster.step(leader, Input::Read(vec![4]));
    assert!(out.reads.is_empty(), "not before a round");
    assert!(matches!(no_lease(&out), Some(NoLease::Expired { .. })));
    let checks = messages_of_kind(&out, "LeaderCheck");
    assert_eq!(checks.len(), 2, "a LeaderCheck to each follower");
    let check = checks[0].clone();
    cluster.take_in_flight();
    let answer = cluster.deliver(check).expect("the follower is up");
    let ack = messages_of_kind(&answer, "LeaderCheckResponse")[0].clone();
    let out = cluster.deliver(ack).expect("the leader is up");
    assert!(matches!(
        out.reads.as_slice(),
        [ReadState::Ready { id: 4, .. }]
    ));
    // A heartbeat answered by a majority gives the lease back.
    cluster.timers = true;
    cluster.run_for(100 * MS);
    let out = cluster.step(leader, Input::Read(vec![5]));
    assert!(lease_read(&out).is_some(), "the lease is renewed");
}

/// Reference: thesis sections 6.4.1 and 6.2. The safety argument: a leader cut off from
/// the majority serves lease reads only until its lease ends, and the majority, whose
/// members refuse to vote for an election timeout after they last heard from it, cannot
/// elect a new leader before then. Checked at every millisecond, with and without
/// PreVote, over several seeds.
#[test]
fn lease_no_new_leader_is_elected_while_the_old_leader_serves_lease_reads() {
    for seed in 1..=12 {
        let prevote = seed % 2 == 0;
        let (mut cluster, old) = cluster_with_leader(5, prevote, seed);
        let term = cluster.node(old).term();
        let buddy = if old == 1 { 2 } else { 1 };
        let majority: Vec<NodeId> = (1..=5).filter(|&n| n != old && n != buddy).collect();
        cluster.partition(&[&[old, buddy], &majority]);
        let new_leader = |cluster: &Cluster| {
            majority.iter().copied().find(|&n| {
                let node = cluster.node(n);
                node.role() == Role::Leader && node.term() > term
            })
        };
        let mut lease_until_us = 0;
        let mut lease_reads = 0;
        let mut elected_us = None;
        for read in 0..3_000 {
            if let Some(leader) = new_leader(&cluster) {
                elected_us = Some((leader, cluster.now_us));
                break;
            }
            if cluster.node(old).role() == Role::Leader {
                let out = cluster.step(old, Input::Read(vec![read]));
                if let Some((_, until_us)) = lease_read(&out) {
                    assert!(cluster.now_us < until_us);
                    lease_until_us = until_us;
                    lease_reads += 1;
                }
            }
            cluster.run_for(MS);
        }
        let context = format!("seed {seed}, prevote {prevote}");
        let (leader, at_us) = elected_us.unwrap_or_else(|| panic!("no new leader ({context})"));
        assert!(
            lease_reads > 0,
            "the old leader served under its lease ({context})"
        );
        assert!(
            at_us >= lease_until_us,
            "n{leader} elected at {at_us}us, before n{old}'s lease ended at \
             {lease_until_us}us ({context})"
        );
        if cluster.node(old).role() == Role::Leader {
            let out = cluster.step(old, Input::Read(vec![u64::MAX]));
            assert!(
                out.reads.is_empty(),
                "no lease read after the lease ({context})"
            );
            assert!(matches!(no_lease(&out), Some(NoLease::Expired { .. })));
        }
    }
}

/// Reference: thesis sections 4.1 and 6.4.1. Only the voters of the configuration in
/// force extend the lease: a learner hears every heartbeat, but it does not vote, so its
/// answers cannot stop an election.
#[test]
fn lease_only_the_voters_in_force_extend_the_lease() {
    let (mut cluster, leader) = cluster_with_leader(3, false, 7);
    for other in (1..=3).filter(|&n| n != leader) {
        cluster.cut.insert((leader, other));
        cluster.cut.insert((other, leader));
    }
    cluster.add_node(4);
    cluster.step(leader, Input::AddNode(4));
    cluster.run_for(cluster.config.lease_us());
    let node = cluster.node(leader);
    assert_eq!(node.role(), Role::Leader);
    assert_eq!(node.learners(), &[4]);
    let last = node.log().last_index();
    assert_eq!(
        cluster.node(4).log().last_index(),
        last,
        "the learner hears"
    );
    let out = cluster.step(leader, Input::Read(vec![1]));
    assert!(out.reads.is_empty());
    assert!(matches!(no_lease(&out), Some(NoLease::Expired { .. })));
}

/// Reference: thesis sections 3.10 and 6.4.1. The target of a transfer campaigns with
/// leader stickiness waived, whenever its TimeoutNow arrives: a leader that sent
/// TimeoutNow serves no lease reads for the rest of its term, even once the transfer
/// has failed and heartbeats are answered again.
#[test]
fn lease_a_leader_that_sent_timeout_now_serves_no_lease_reads_in_its_term() {
    let (mut cluster, leader) = cluster_with_leader(3, false, 5);
    let target = if leader == 1 { 2 } else { 1 };
    cluster.settle();
    let out = cluster.step(leader, Input::TransferLeader(target));
    let timeout_now = messages_of_kind(&out, "TimeoutNow");
    assert_eq!(timeout_now.len(), 1, "the target is up to date");
    cluster.take_in_flight();
    // The TimeoutNow is lost; the transfer fails after an election timeout.
    cluster.run_for(cluster.config.election_timeout_max_us + 100 * MS);
    assert_eq!(cluster.node(leader).role(), Role::Leader);
    let out = cluster.step(leader, Input::Read(vec![1]));
    assert!(out.reads.is_empty());
    assert_eq!(no_lease(&out), Some(NoLease::TimeoutNowSent));
    assert_eq!(messages_of_kind(&out, "LeaderCheck").len(), 2);
}

/// Reference: thesis section 6.4.1. A node that restarts no longer knows when it last
/// heard from a leader, whose lease may count on it: with lease reads it grants no vote
/// within the shortest election timeout of starting.
#[test]
fn lease_a_restarted_node_withholds_its_vote_for_an_election_timeout() {
    let started_us = 1_000 * MS;
    let config = config(false);
    let mut node = RaftProcessor::new(
        2,
        &[1, 2, 3],
        config.clone(),
        &Storage::default(),
        1,
        started_us,
    );
    let request = |term| {
        let message = Message::RequestVote {
            last_log_index: 0,
            last_log_term: 0,
            leadership_transfer: false,
        };
        Input::message(envelope(3, 2, term, message))
    };
    let early_us = started_us + config.election_timeout_min_us - 1;
    let out = node.step(early_us, request(1));
    assert!(out.messages.is_empty(), "ignored: {:?}", out.messages);
    assert_eq!(node.term(), 0);
    let out = node.step(started_us + config.election_timeout_min_us, request(1));
    assert_eq!(
        out.messages.first().map(|e| e.message.clone()),
        Some(Message::VoteResponse { granted: true })
    );
}

/// Reference: thesis section 6.4.1. `campaign` is the election timer firing early; a
/// node that heard from its leader within the shortest election timeout ignores it, as
/// it would ignore another candidate's RequestVote.
#[test]
fn lease_campaign_is_ignored_while_the_node_withholds_its_vote() {
    let (mut cluster, leader) = cluster_with_leader(3, false, 6);
    let follower = if leader == 1 { 2 } else { 1 };
    let term = cluster.node(follower).term();
    let out = cluster.step(follower, Input::Campaign);
    assert!(
        out.events
            .iter()
            .any(|e| matches!(e, RaftEvent::CampaignIgnored { .. }))
    );
    assert_eq!(cluster.node(follower).role(), Role::Follower);
    assert_eq!(cluster.node(follower).term(), term);
}

/// Reference: thesis section 6.4.1. Lease reads rest on leader stickiness, which only
/// CheckQuorum provides: a configuration with lease reads and no CheckQuorum is refused.
#[test]
fn lease_reads_without_check_quorum_are_refused_at_validation() {
    let without = RaftConfig {
        reads: ReadMode::Lease,
        ..RaftConfig::default()
    };
    assert_eq!(
        without.validate(),
        Err(ConfigError::LeaseWithoutCheckQuorum)
    );
    assert_eq!(config(false).validate(), Ok(()));
}
