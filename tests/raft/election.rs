//! Leader election: sections 5.1, 5.2 and 5.4.1 of the Raft paper.

use raftlab::raft::{
    DurableWrite, Input, Message, NodeId, Outputs, RaftConfig, RaftEvent, RaftProcessor, Role,
    Storage,
};

use crate::harness::{Cluster, MS, entries_with_terms, envelope, messages_of_kind};

const VOTERS: [NodeId; 3] = [1, 2, 3];

fn processor(id: NodeId, voters: &[NodeId], storage: &Storage) -> RaftProcessor {
    RaftProcessor::new(id, voters, RaftConfig::default(), storage, 7, 0)
}

fn vote_request(from: NodeId, to: NodeId, term: u64, last_index: u64, last_term: u64) -> Input {
    Input::message(envelope(
        from,
        to,
        term,
        Message::RequestVote {
            last_log_index: last_index,
            last_log_term: last_term,
            leadership_transfer: false,
        },
    ))
}

fn granted(outputs: &Outputs) -> bool {
    let responses = messages_of_kind(outputs, "VoteResponse");
    assert_eq!(responses.len(), 1, "one answer to one RequestVote");
    responses[0].message == Message::VoteResponse { granted: true }
}

/// Node 1 of three, leading `term` (its storage starts at `term - 1`).
fn leader_of_term(term: u64) -> RaftProcessor {
    let storage = Storage::with_log(Vec::new(), term - 1);
    let mut node = processor(1, &VOTERS, &storage);
    node.step(0, Input::Campaign);
    let vote = envelope(2, 1, term, Message::VoteResponse { granted: true });
    node.step(0, Input::message(vote));
    assert_eq!((node.role(), node.term()), (Role::Leader, term));
    node
}

/// Reference: section 5.2. "Election Safety: at most one leader can be elected in a
/// given term", and an election ends with every node following that leader.
#[test]
fn election_elects_a_single_leader_that_every_node_follows() {
    for nodes in [3, 5] {
        for seed in 0..20 {
            let mut cluster = Cluster::new(nodes, seed);
            let leader = cluster.run_until_leader(3_000 * MS);
            assert!(
                leader.is_some(),
                "no leader after 3s ({nodes} nodes, seed {seed})"
            );
            let leaders: Vec<NodeId> = (1..=nodes)
                .filter(|&id| cluster.node(id).role() == Role::Leader)
                .collect();
            assert_eq!(leaders.len(), 1, "seed {seed}");
            // The leader stays: heartbeats keep every follower's timer from firing.
            let term = cluster.node(leaders[0]).term();
            cluster.run_for(2_000 * MS);
            assert_eq!(cluster.stable_leader(), leader, "seed {seed}");
            assert_eq!(cluster.node(leaders[0]).term(), term, "seed {seed}");
        }
    }
}

/// Reference: section 5.2. With equal election timeouts every node times out at once,
/// votes for itself, and no one wins ("split votes ... could repeat indefinitely");
/// randomized timeouts end the split.
#[test]
fn split_votes_repeat_with_equal_timeouts_and_end_with_random_ones() {
    let equal = RaftConfig {
        election_timeout_min_us: 150 * MS,
        election_timeout_max_us: 150 * MS,
        ..RaftConfig::default()
    };
    let mut cluster = Cluster::with_config(4, equal, 1);
    cluster.run_until(2_000 * MS);
    assert_eq!(cluster.leader(), None, "equal timeouts split every vote");
    let split_term = cluster.node(1).term();
    assert!(
        split_term >= 10,
        "the nodes campaigned again and again: {split_term}"
    );
    assert!(
        cluster
            .ids
            .iter()
            .all(|&id| cluster.node(id).term() == split_term)
    );

    // Restart every node with randomized timeouts, from its durable state.
    cluster.config = RaftConfig::default();
    for id in cluster.ids.clone() {
        cluster.crash(id);
        cluster.restart(id);
    }
    let leader = cluster.run_until_leader(3_000 * MS).expect("a leader");
    assert!(cluster.node(leader).term() > split_term);
}

/// Reference: section 5.2. Two candidates that split the vote of a 4-node cluster both
/// fail; a later election, after a random timeout, elects one leader.
#[test]
fn a_split_vote_is_followed_by_a_new_election_in_a_later_term() {
    let mut cluster = Cluster::new(4, 3);
    cluster.timers = false;
    cluster.step(1, Input::Campaign);
    cluster.step(2, Input::Campaign);
    // n3 hears n1 first and n4 hears n2 first: two votes each, a quorum is three.
    let mut requests = cluster.take_in_flight();
    requests.sort_by_key(|e| (e.to, e.from == 1 && e.to == 4));
    for request in requests {
        cluster.deliver(request);
    }
    cluster.settle();
    assert_eq!(cluster.leader(), None);
    assert_eq!(cluster.node(1).role(), Role::Candidate);
    assert_eq!(cluster.node(2).role(), Role::Candidate);

    cluster.timers = true;
    let leader = cluster.run_until_leader(3_000 * MS).expect("a leader");
    assert!(cluster.node(leader).term() >= 2);
}

/// Reference: section 5.2. "Each server will vote for at most one candidate in a given
/// term, on a first-come-first-served basis", and the vote is written before it is sent.
#[test]
fn a_node_votes_at_most_once_per_term() {
    let voters = [1, 2, 3, 4, 5];
    let mut node = processor(1, &voters, &Storage::default());
    let first = node.step(0, vote_request(2, 1, 1, 0, 0));
    assert!(granted(&first));
    let write = DurableWrite::HardState {
        term: 1,
        vote: Some(2),
    };
    assert_eq!(first.writes, vec![write]);

    let other = node.step(1, vote_request(3, 1, 1, 5, 1));
    assert!(!granted(&other), "a second candidate in the same term");
    assert!(other.writes.is_empty());

    // The same candidate asking again (a duplicated request) hears the same answer.
    let again = node.step(2, vote_request(2, 1, 1, 0, 0));
    assert!(granted(&again));
    assert!(again.writes.is_empty(), "nothing new to write");

    // A new term is a new vote.
    let next = node.step(3, vote_request(3, 1, 2, 0, 0));
    assert!(granted(&next));
}

/// Reference: section 5.2. A candidate has voted for itself, so it refuses every other
/// candidate of its term.
#[test]
fn a_candidate_refuses_other_candidates_of_its_term() {
    let mut node = processor(1, &VOTERS, &Storage::default());
    node.step(0, Input::Campaign);
    assert_eq!((node.role(), node.term()), (Role::Candidate, 1));
    let outputs = node.step(1, vote_request(2, 1, 1, 0, 0));
    assert!(!granted(&outputs));
    assert_eq!(node.role(), Role::Candidate);
}

/// Reference: section 5.4.1. "If the logs have last entries with different terms, then
/// the log with the later term is more up-to-date. If the logs end with the same term,
/// then whichever log is longer is more up-to-date." A voter refuses a candidate whose
/// log is less up to date than its own.
#[test]
fn a_vote_is_refused_to_a_candidate_with_a_less_up_to_date_log() {
    // The voter's log ends at index 3, term 2.
    let voter_log = Storage::with_log(entries_with_terms(&[1, 1, 2]), 2);
    let cases = [
        // (candidate last index, last term, granted)
        (2, 1, false), // older term, shorter
        (9, 1, false), // older term, longer
        (2, 2, false), // same term, shorter
        (3, 2, true),  // same
        (4, 2, true),  // same term, longer
        (1, 3, true),  // later term, shorter
    ];
    for (last_index, last_term, expected) in cases {
        let mut node = processor(1, &VOTERS, &voter_log);
        let outputs = node.step(0, vote_request(2, 1, 3, last_index, last_term));
        assert_eq!(
            granted(&outputs),
            expected,
            "candidate log ending {last_index}@{last_term}"
        );
        assert_eq!(node.view().vote, expected.then_some(2));
    }
}

/// Reference: section 5.4.1. A candidate whose log lacks entries a majority holds cannot
/// be elected; one of the nodes with the longer log is.
#[test]
fn a_candidate_with_an_older_log_loses_the_election() {
    for seed in 0..10 {
        let short = Storage::with_log(entries_with_terms(&[1]), 2);
        let long = Storage::with_log(entries_with_terms(&[1, 2]), 2);
        let storages = vec![short, long.clone(), long];
        let mut cluster = Cluster::from_storages(storages, RaftConfig::default(), seed);
        cluster.step(1, Input::Campaign);
        let leader = cluster.run_until_leader(3_000 * MS).expect("a leader");
        assert_ne!(leader, 1, "seed {seed}");
        assert!(
            !cluster.checker.leaders.values().any(|&id| id == 1),
            "n1 never leads (seed {seed})"
        );
        cluster.run_for(500 * MS);
        assert_eq!(cluster.node(1).log().last_index(), 3, "n1 is repaired");
    }
}

/// Reference: section 5.1. "If a server's current term is smaller than the other's, then
/// it updates its current term to the larger value. If a candidate or leader discovers
/// that its term is out of date, it immediately reverts to follower state." This holds for
/// every role and every message type, and the new term is written before anything is sent.
#[test]
fn any_message_with_a_higher_term_makes_the_node_a_follower_of_that_term() {
    let messages = [
        Message::RequestVote {
            last_log_index: 9,
            last_log_term: 4,
            leadership_transfer: false,
        },
        Message::VoteResponse { granted: false },
        Message::AppendEntries {
            prev_log_index: 0,
            prev_log_term: 0,
            entries: Vec::new(),
            leader_commit: 0,
            sent_us: 0,
        },
        Message::AppendResponse {
            success: false,
            index: 0,
            conflict_term: None,
            conflict_index: 1,
            sent_us: 0,
        },
    ];
    for role in [Role::Follower, Role::Candidate, Role::Leader] {
        for message in &messages {
            let mut node = match role {
                Role::Follower => processor(1, &VOTERS, &Storage::with_log(Vec::new(), 2)),
                Role::Candidate => {
                    let mut node = processor(1, &VOTERS, &Storage::with_log(Vec::new(), 1));
                    node.step(0, Input::Campaign);
                    node
                }
                Role::Leader => leader_of_term(2),
            };
            assert_eq!((node.role(), node.term()), (role, 2));
            let outputs = node.step(10, Input::message(envelope(3, 1, 5, message.clone())));
            let what = format!("{role:?} receiving {}", message.kind());
            assert_eq!(node.role(), Role::Follower, "{what}");
            assert_eq!(node.term(), 5, "{what}");
            assert!(
                outputs
                    .events
                    .contains(&RaftEvent::TermChanged { from: 2, to: 5 }),
                "{what}"
            );
            let is_vote_request = matches!(message, Message::RequestVote { .. });
            let vote = is_vote_request.then_some(3);
            assert_eq!(node.view().vote, vote, "{what}");
            let write = DurableWrite::HardState { term: 5, vote };
            assert_eq!(outputs.writes.first(), Some(&write), "{what}");
            let is_append = matches!(message, Message::AppendEntries { .. });
            assert_eq!(node.leader(), is_append.then_some(3), "{what}");
            assert!(outputs.messages.iter().all(|m| m.term == 5), "{what}");
        }
    }
}

/// Reference: section 5.1. "If a server receives a request with a stale term number, it
/// rejects the request": a RequestVote or AppendEntries from an older term is refused
/// with the current term (so the sender steps down) and changes nothing.
#[test]
fn a_request_with_a_stale_term_is_refused() {
    let storage = Storage::with_log(entries_with_terms(&[1, 1]), 5);
    let mut node = processor(1, &VOTERS, &storage);

    let outputs = node.step(0, vote_request(2, 1, 3, 10, 3));
    assert!(!granted(&outputs));
    assert_eq!(outputs.messages[0].term, 5);
    assert_eq!(node.view().vote, None);
    assert!(outputs.writes.is_empty());

    let append = Message::AppendEntries {
        prev_log_index: 2,
        prev_log_term: 1,
        entries: entries_with_terms(&[1, 1, 3])[2..].to_vec(),
        leader_commit: 3,
        sent_us: 0,
    };
    let outputs = node.step(1, Input::message(envelope(2, 1, 3, append)));
    let responses = messages_of_kind(&outputs, "AppendResponse");
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0].term, 5);
    assert!(matches!(
        responses[0].message,
        Message::AppendResponse { success: false, .. }
    ));
    assert!(outputs.writes.is_empty(), "the log is left alone");
    assert_eq!((node.log().last_index(), node.commit()), (2, 0));
    assert_eq!(node.leader(), None, "a stale leader is not followed");
}

/// Reference: section 5.1. A response from an older term is ignored: a stale
/// AppendResponse does not move the leader's commit, a stale vote does not elect.
#[test]
fn a_response_with_a_stale_term_is_ignored() {
    let mut leader = leader_of_term(4);
    let stale_success = Message::AppendResponse {
        success: true,
        index: 1,
        conflict_term: None,
        conflict_index: 0,
        sent_us: 0,
    };
    let outputs = leader.step(1, Input::message(envelope(2, 1, 3, stale_success)));
    assert_eq!(
        leader.commit(),
        0,
        "the noop of term 4 is not committed by a term-3 reply"
    );
    assert!(outputs.messages.is_empty() && outputs.writes.is_empty());

    let mut candidate = processor(1, &[1, 2, 3], &Storage::with_log(Vec::new(), 3));
    candidate.step(0, Input::Campaign);
    let stale_vote = Message::VoteResponse { granted: true };
    candidate.step(1, Input::message(envelope(2, 1, 3, stale_vote)));
    assert_eq!(
        candidate.role(),
        Role::Candidate,
        "a vote from term 3 is no vote in term 4"
    );
}

/// Reference: sections 5.1 and 5.3. A leader cut off from the majority keeps leading an
/// old term; once it hears the new term it steps down, and the entries it took while
/// alone, never committed, are replaced by the new leader's.
#[test]
fn a_deposed_leader_steps_down_and_its_uncommitted_entries_are_replaced() {
    let mut cluster = Cluster::new(3, 11);
    let old = cluster.run_until_leader(3_000 * MS).expect("a leader");
    let old_term = cluster.node(old).term();
    cluster.isolate(old);
    let proposal = cluster.propose(old, vec![b"lost".to_vec()]).proposal;
    let lost_index = proposal.expect("proposed").expect("accepted").first_index;
    let elected = |c: &Cluster| c.leader().filter(|&id| id != old);
    cluster.run_until_or(cluster.now_us + 3_000 * MS, |c| elected(c).is_some());
    let new = elected(&cluster).expect("a new leader");
    assert_eq!(
        cluster.node(old).role(),
        Role::Leader,
        "it does not know yet"
    );
    assert_ne!(new, old);
    cluster.propose(new, vec![b"kept".to_vec()]);
    cluster.heal();
    cluster.run_for(1_000 * MS);
    assert_eq!(cluster.stable_leader(), Some(new));
    assert!(cluster.node(old).term() > old_term);
    let entry = cluster.node(old).log().get(lost_index).expect("an entry");
    assert_ne!(
        entry.payload,
        raftlab::raft::Payload::Command(b"lost".as_slice().into())
    );
    assert!(cluster.node(old).commit() >= lost_index);
}
