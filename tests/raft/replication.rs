//! Log replication: section 5.3 of the Raft paper.

use raftlab::raft::{
    DurableWrite, Entry, Envelope, Input, Message, NodeId, Payload, RaftConfig, RaftEvent,
    RaftProcessor, Role, Storage, Term,
};

use crate::harness::{Cluster, MS, entries_with_terms, envelope, messages_of_kind};

/// A cluster of `n` nodes, timers off, in which node 1 has campaigned and won.
fn led_by_node_1(storages: Vec<Storage>, config: RaftConfig) -> Cluster {
    let mut cluster = Cluster::from_storages(storages, config, 5);
    cluster.timers = false;
    cluster.step(1, Input::Campaign);
    while cluster.node(1).role() != Role::Leader {
        assert!(cluster.deliver_round() > 0, "n1 must win");
    }
    cluster
}

fn commands(count: usize, tag: &str) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| format!("{tag}{i}").into_bytes())
        .collect()
}

fn append_entries(prev: (u64, Term), entries: Vec<Entry>, leader_commit: u64) -> Message {
    Message::AppendEntries {
        prev_log_index: prev.0,
        prev_log_term: prev.1,
        entries,
        leader_commit,
        sent_us: 0,
    }
}

/// The AppendEntries in `messages` to `to`, as (prev_log_index, entry count).
fn appends_to(messages: &[Envelope], to: NodeId) -> Vec<(u64, usize)> {
    messages
        .iter()
        .filter(|e| e.to == to)
        .filter_map(|e| match &e.message {
            Message::AppendEntries {
                prev_log_index,
                entries,
                ..
            } => Some((*prev_log_index, entries.len())),
            _ => None,
        })
        .collect()
}

/// Reference: section 5.3. The leader appends a command to its log, replicates it, and
/// once it is on a majority commits it; every follower then learns the commit index and
/// applies the same entries in the same order.
#[test]
fn entries_replicate_and_commit_on_every_node() {
    let mut cluster = Cluster::new(5, 2);
    let leader = cluster.run_until_leader(3_000 * MS).expect("a leader");
    for batch in 0..3 {
        let proposal = cluster.propose(leader, commands(4, &format!("b{batch}-")));
        proposal.proposal.expect("proposed").expect("accepted");
        cluster.run_for(10 * MS);
    }
    cluster.run_for(200 * MS);
    let last = cluster.node(leader).log().last_index();
    assert_eq!(last, 13, "a noop and 12 commands");
    for id in 1..=5 {
        assert_eq!(cluster.node(id).commit(), last, "n{id}");
        assert_eq!(cluster.node(id).log(), cluster.node(leader).log(), "n{id}");
    }
    let committed: Vec<&Payload> = cluster
        .checker
        .committed
        .values()
        .map(|e| &e.payload)
        .collect();
    assert_eq!(committed[0], &Payload::Noop);
    assert_eq!(committed[1], &Payload::Command(b"b0-0".as_slice().into()));
    assert_eq!(committed[12], &Payload::Command(b"b2-3".as_slice().into()));
}

/// Reference: section 5.3 and Figure 2: "nextIndex ... initialized to leader last log
/// index + 1". A new leader's first AppendEntries to each follower carries only what
/// follows its last entry (its no-op), not its whole log.
#[test]
fn a_new_leader_sends_from_just_after_its_last_entry() {
    let log = Storage::with_log(entries_with_terms(&[1; 300]), 1);
    let mut cluster = Cluster::from_storages(vec![log; 3], RaftConfig::default(), 1);
    cluster.timers = false;
    cluster.step(1, Input::Campaign);
    cluster.deliver_round();
    let votes = cluster.take_in_flight();
    let mut became_leader = None;
    for vote in votes {
        let outputs = cluster.deliver(vote).expect("n1 is up");
        if outputs
            .events
            .contains(&RaftEvent::BecameLeader { term: 2 })
        {
            became_leader = Some(outputs);
        }
    }
    let outputs = became_leader.expect("n1 won");
    for follower in [2, 3] {
        assert_eq!(
            appends_to(&outputs.messages, follower),
            vec![(300, 1)],
            "to n{follower}: prev index 300 and the noop only"
        );
    }
    cluster.settle();
    assert_eq!(cluster.node(1).commit(), 301);
}

/// Reference: section 5.3 (and the batching of section 10.2.1). The commands of one
/// proposal go out together: one AppendEntries per follower carrying all of them, split
/// only by `max_append_entries`, with at most `max_inflight_appends` in flight.
#[test]
fn a_batch_proposal_is_sent_as_one_append_entries_per_follower() {
    let mut cluster = led_by_node_1(vec![Storage::default(); 3], RaftConfig::default());
    cluster.settle();
    let outputs = cluster.propose(1, commands(100, "c"));
    let proposed = outputs
        .proposal
        .clone()
        .expect("proposed")
        .expect("accepted");
    assert_eq!((proposed.first_index, proposed.last_index), (2, 101));
    for follower in [2, 3] {
        assert_eq!(appends_to(&outputs.messages, follower), vec![(1, 100)]);
    }
    cluster.settle();
    assert_eq!(cluster.node(1).commit(), 101);

    let small = RaftConfig {
        max_append_entries: 32,
        max_inflight_appends: 3,
        ..RaftConfig::default()
    };
    let mut cluster = led_by_node_1(vec![Storage::default(); 3], small);
    cluster.settle();
    let outputs = cluster.propose(1, commands(100, "c"));
    let expected = vec![(1, 32), (33, 32), (65, 32)];
    assert_eq!(
        appends_to(&outputs.messages, 2),
        expected,
        "three in flight"
    );
    cluster.deliver_round();
    let answers = cluster.take_in_flight();
    assert_eq!(answers.len(), 6, "three answers from each follower");
    // The first answer from n2 frees a slot: the last 4 entries go out, once.
    let first_from_n2 = answers.iter().position(|e| e.from == 2).expect("an answer");
    let outputs = cluster
        .deliver(answers[first_from_n2].clone())
        .expect("n1 is up");
    assert_eq!(appends_to(&outputs.messages, 2), vec![(97, 4)]);
    for (position, answer) in answers.into_iter().enumerate() {
        if position != first_from_n2 {
            let outputs = cluster.deliver(answer).expect("n1 is up");
            assert!(
                appends_to(&outputs.messages, 2).is_empty(),
                "sent only once"
            );
        }
    }
    cluster.settle();
    assert_eq!(cluster.node(1).commit(), 101);
    assert_eq!(cluster.node(2).log(), cluster.node(1).log());
}

/// Reference: section 5.3 and Figure 2, AppendEntries receiver rule 3: "If an existing
/// entry conflicts with a new one (same index but different terms), delete the existing
/// entry and all that follow it". Only a conflict deletes: a stale or duplicated
/// AppendEntries whose entries are all present leaves the log as it is.
#[test]
fn a_stale_or_duplicated_append_entries_never_removes_matching_entries() {
    let voters = [1, 2, 3];
    let mut follower =
        RaftProcessor::new(2, &voters, RaftConfig::default(), &Storage::default(), 1, 0);
    let log = entries_with_terms(&[1, 1, 1, 1, 1]);
    let first = append_entries((0, 0), log[..3].to_vec(), 0);
    let second = append_entries((3, 1), log[3..].to_vec(), 2);
    let deliver = |follower: &mut RaftProcessor, message: &Message| {
        follower.step(0, Input::message(envelope(1, 2, 1, message.clone())))
    };
    deliver(&mut follower, &first);
    deliver(&mut follower, &second);
    assert_eq!(follower.log().entries(), &log[..]);
    assert_eq!(follower.commit(), 2);

    // The first AppendEntries again (late or duplicated), and the second again.
    for message in [&first, &second, &first] {
        let outputs = deliver(&mut follower, message);
        assert!(outputs.writes.is_empty(), "nothing to write");
        assert_eq!(follower.log().entries(), &log[..]);
        assert_eq!(follower.commit(), 2, "commit never decreases");
        let response = &messages_of_kind(&outputs, "AppendResponse")[0].message;
        assert!(matches!(
            response,
            Message::AppendResponse { success: true, .. }
        ));
    }
    // A prefix that also moves the commit forward does not shorten the log either.
    deliver(
        &mut follower,
        &append_entries((1, 1), log[1..2].to_vec(), 5),
    );
    assert_eq!(follower.log().entries(), &log[..]);
    assert_eq!(follower.commit(), 2, "commit only up to the last new entry");

    // A real conflict (term 2 at index 4) removes index 4 and what follows, nothing else.
    let mut conflicting = entries_with_terms(&[1, 1, 1, 2]);
    let outputs = follower.step(
        1,
        Input::message(envelope(
            3,
            2,
            2,
            append_entries((3, 1), conflicting.split_off(3), 0),
        )),
    );
    assert!(outputs.writes.contains(&DurableWrite::Truncate { from: 4 }));
    assert!(outputs.events.contains(&RaftEvent::LogTruncated {
        from: 4,
        removed: 2
    }));
    assert_eq!(
        crate::harness::terms_of(follower.log().entries()),
        vec![1, 1, 1, 2]
    );
}

/// Reference: section 5.3 (matchIndex "increases monotonically", Figure 2). Late,
/// duplicated and reordered AppendResponses never move a leader's view of a follower
/// backwards: nothing is re-sent because of them, the commit index stays, and the next
/// heartbeat probes from the true match.
#[test]
fn stale_append_responses_never_move_match_index_backwards() {
    let mut cluster = led_by_node_1(vec![Storage::default(); 3], RaftConfig::default());
    cluster.settle();
    // Build up a history of answers from n2: successes at growing indexes, and a
    // rejection while n2 missed some entries.
    for batch in 0..3 {
        cluster.propose(1, commands(5, &format!("a{batch}-")));
        cluster.settle();
    }
    cluster.cut.insert((1, 2));
    cluster.propose(1, commands(5, "missed"));
    cluster.settle();
    cluster.cut.clear();
    cluster.propose(1, commands(5, "after"));
    cluster.settle();
    let last = cluster.node(1).log().last_index();
    assert_eq!(cluster.node(2).log().last_index(), last, "n2 repaired");
    let answers: Vec<Envelope> = cluster
        .delivered
        .iter()
        .filter(|e| e.from == 2 && e.to == 1 && e.message.kind() == "AppendResponse")
        .cloned()
        .collect();
    assert!(
        answers
            .iter()
            .any(|e| matches!(e.message, Message::AppendResponse { success: false, .. })),
        "the history holds a rejection"
    );

    // n3 goes down, so n1's commit rests on n2's match index alone.
    cluster.crash(3);
    let commit = cluster.node(1).commit();
    assert_eq!(commit, last);
    for answer in answers.iter().rev().chain(answers.iter()) {
        let outputs = cluster.deliver(answer.clone()).expect("n1 is up");
        assert!(
            outputs.messages.is_empty(),
            "nothing is re-sent: {answer:?}"
        );
        assert_eq!(cluster.node(1).commit(), commit);
    }
    // The next heartbeat probes n2 from its true match index, the end of the log.
    cluster.now_us += RaftConfig::default().heartbeat_us;
    let outputs = cluster.step(1, Input::Tick);
    assert_eq!(appends_to(&outputs.messages, 2), vec![(last, 0)]);
    // A new entry commits as soon as n2 (the only other live node) acknowledges it.
    cluster.take_in_flight();
    cluster.propose(1, commands(1, "new"));
    cluster.settle();
    assert_eq!(cluster.node(1).commit(), last + 1);
}

/// Runs the repair of n2 by n1 and returns (rejections, AppendEntries round trips) until
/// n2's log equals n1's.
fn repair(leader_terms: &[Term], follower_terms: &[Term], leader_term: Term) -> (usize, usize) {
    let leader = Storage::with_log(entries_with_terms(leader_terms), leader_term - 1);
    let follower = Storage::with_log(entries_with_terms(follower_terms), 0);
    let storages = vec![leader.clone(), follower, leader];
    let mut cluster = led_by_node_1(storages, RaftConfig::default());
    assert_eq!(cluster.node(1).term(), leader_term);
    let (mut rejections, mut round_trips) = (0, 0);
    while cluster.node(2).log() != cluster.node(1).log() {
        let messages = cluster.take_in_flight();
        let to_n2 = messages
            .iter()
            .any(|e| e.to == 2 && e.message.kind() == "AppendEntries");
        round_trips += usize::from(to_n2);
        rejections += messages
            .iter()
            .filter(|e| e.from == 2)
            .filter(|e| matches!(e.message, Message::AppendResponse { success: false, .. }))
            .count();
        assert!(!messages.is_empty(), "repair stalled");
        for message in messages {
            cluster.deliver(message);
        }
    }
    (rejections, round_trips)
}

/// Reference: section 5.3, the optimisation at the end: "the follower can include the
/// term of the conflicting entry and the first index it stores for that term. With this
/// information, the leader can decrement nextIndex to bypass all of the conflicting
/// entries in that term; one AppendEntries RPC will be required for each term with
/// conflicting entries, rather than one RPC per entry." A follower 1000 entries behind,
/// or with 1000 conflicting entries, is repaired in a few round trips, not a thousand.
#[test]
fn a_follower_far_behind_is_repaired_in_a_few_round_trips() {
    let mut leader_log = vec![1; 100];
    leader_log.extend([3; 1000]);
    // 1000 entries missing.
    let (rejections, round_trips) = repair(&leader_log, &[1; 100], 4);
    assert!(
        rejections <= 1 && round_trips <= 3,
        "{rejections} {round_trips}"
    );
    // 1000 conflicting entries of a term the leader does not have.
    let mut follower_log = vec![1; 100];
    follower_log.extend([2; 1000]);
    let (rejections, round_trips) = repair(&leader_log, &follower_log, 4);
    assert!(
        rejections <= 1 && round_trips <= 3,
        "{rejections} {round_trips}"
    );
    // Conflicting entries of a term the leader also has, but fewer of them.
    let mut leader_log = vec![1; 100];
    leader_log.extend([2; 500]);
    leader_log.extend([3; 500]);
    let (rejections, round_trips) = repair(&leader_log, &follower_log, 4);
    assert!(
        rejections <= 2 && round_trips <= 4,
        "{rejections} {round_trips}"
    );
}
