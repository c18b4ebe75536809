//! ReadIndex reads: section 6.4 of Ongaro's thesis.

use raftlab::raft::{
    Envelope, Input, Message, NodeId, RaftConfig, RaftProcessor, ReadMode, ReadState, Role, Storage,
};

use crate::harness::{Cluster, envelope, messages_of_kind};

fn config() -> RaftConfig {
    RaftConfig {
        reads: ReadMode::ReadIndex,
        ..RaftConfig::default()
    }
}

/// A settled three-node cluster with a leader and its no-op committed everywhere.
fn cluster_with_leader(seed: u64) -> (Cluster, NodeId) {
    let (mut cluster, leader) = Cluster::with_leader(3, config(), seed);
    cluster.take_in_flight();
    (cluster, leader)
}

fn checks_from(outputs: &raftlab::raft::Outputs) -> Vec<Envelope> {
    messages_of_kind(outputs, "LeaderCheck")
        .into_iter()
        .cloned()
        .collect()
}

/// Reference: thesis section 6.4. A read adds no entry to the log; it is answered at the
/// leader's commit index once a majority (the leader and one follower of three) answered
/// a LeaderCheck sent after the read arrived.
#[test]
fn read_index_a_read_waits_for_a_majority_and_adds_no_log_entry() {
    let (mut cluster, leader) = cluster_with_leader(1);
    let last = cluster.node(leader).log().last_index();
    let commit = cluster.node(leader).commit();
    let out = cluster.step(leader, Input::Read(vec![7]));
    assert!(out.reads.is_empty(), "not before leadership is confirmed");
    let checks = checks_from(&out);
    assert_eq!(checks.len(), 2);
    cluster.take_in_flight();
    let answer = cluster
        .deliver(checks[0].clone())
        .expect("the follower is up");
    let ack = messages_of_kind(&answer, "LeaderCheckResponse")[0].clone();
    let out = cluster.deliver(ack).expect("the leader is up");
    assert_eq!(
        out.reads,
        vec![ReadState::Ready {
            id: 7,
            index: commit
        }]
    );
    assert_eq!(cluster.node(leader).log().last_index(), last);
}

/// Reference: thesis section 6.4. Only the leader serves reads; a follower refuses them,
/// naming the leader.
#[test]
fn read_index_a_follower_refuses_reads_naming_the_leader() {
    let (mut cluster, leader) = cluster_with_leader(2);
    let follower = if leader == 1 { 2 } else { 1 };
    let out = cluster.step(follower, Input::Read(vec![1]));
    assert_eq!(
        out.reads,
        vec![ReadState::Refused {
            id: 1,
            leader: Some(leader)
        }]
    );
}

/// Reference: thesis section 6.4. An answer to a round sent before the read arrived
/// does not confirm it: the leader may have been deposed in between.
#[test]
fn read_index_an_answer_to_an_earlier_round_does_not_confirm_a_later_read() {
    let (mut cluster, leader) = cluster_with_leader(3);
    let first = checks_from(&cluster.step(leader, Input::Read(vec![1])));
    cluster.take_in_flight();
    let early_ack = cluster.deliver(first[0].clone()).expect("up");
    let early_ack = messages_of_kind(&early_ack, "LeaderCheckResponse")[0].clone();
    let out = cluster.step(leader, Input::Read(vec![2]));
    let second = checks_from(&out);
    cluster.take_in_flight();
    let out = cluster.deliver(early_ack).expect("up");
    assert_eq!(out.reads.len(), 1, "the first read only");
    assert!(matches!(out.reads[0], ReadState::Ready { id: 1, .. }));
    let ack = cluster.deliver(second[1].clone()).expect("up");
    let ack = messages_of_kind(&ack, "LeaderCheckResponse")[0].clone();
    let out = cluster.deliver(ack).expect("up");
    assert!(matches!(
        out.reads.as_slice(),
        [ReadState::Ready { id: 2, .. }]
    ));
}

/// Reference: thesis section 6.4, step 1. A new leader does not know the commit index
/// until it has committed an entry of its own term: a read waits for that, even when
/// leadership is confirmed.
#[test]
fn read_index_a_new_leader_waits_for_an_entry_of_its_term() {
    let storage = Storage::default();
    let mut node = RaftProcessor::new(1, &[1, 2, 3], config(), &storage, 7, 0);
    node.step(0, Input::Campaign);
    let vote = envelope(2, 1, 1, Message::VoteResponse { granted: true });
    node.step(0, Input::message(vote));
    assert_eq!(node.role(), Role::Leader);
    node.step(0, Input::Read(vec![5]));
    let ack = envelope(2, 1, 1, Message::LeaderCheckResponse { round: 1 });
    let out = node.step(0, Input::message(ack));
    assert!(out.reads.is_empty(), "the no-op is not committed yet");
    let appended = envelope(
        2,
        1,
        1,
        Message::AppendResponse {
            success: true,
            index: 1,
            conflict_term: None,
            conflict_index: 0,
            sent_us: 0,
        },
    );
    let out = node.step(0, Input::message(appended));
    assert_eq!(out.reads, vec![ReadState::Ready { id: 5, index: 1 }]);
}

/// Reference: thesis section 6.4. A leader that steps down before its reads are
/// confirmed refuses them, naming the new leader when it knows it.
#[test]
fn read_index_a_deposed_leader_refuses_its_waiting_reads() {
    let (mut cluster, leader) = cluster_with_leader(4);
    let other = if leader == 1 { 2 } else { 1 };
    cluster.step(leader, Input::Read(vec![9]));
    cluster.take_in_flight();
    let term = cluster.node(leader).term();
    let heartbeat = envelope(
        other,
        leader,
        term + 1,
        Message::AppendEntries {
            prev_log_index: 0,
            prev_log_term: 0,
            entries: Vec::new(),
            leader_commit: 0,
            sent_us: 0,
        },
    );
    let out = cluster.deliver(heartbeat).expect("up");
    assert_eq!(
        out.reads,
        vec![ReadState::Refused {
            id: 9,
            leader: Some(other)
        }]
    );
}
