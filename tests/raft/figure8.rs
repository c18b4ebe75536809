//! Figure 8 of the Raft paper: why a leader cannot commit an entry of an earlier term by
//! counting replicas (section 5.4.2).

use raftlab::raft::{Entry, Envelope, Input, Message, RaftConfig, RaftEvent, Role, Storage, Term};

use crate::harness::{Cluster, entries_with_terms, terms_of};

/// The five servers at the start of Figure 8 (c): S1 led term 2 and gave index 2 to S2
/// only; S5 led term 3 with the votes of S3 and S4 and wrote index 2 of term 3 alone.
/// S1 has restarted (at term 3) and is about to win term 4. One entry per AppendEntries,
/// so that what reaches whom can be chosen entry by entry.
fn figure8_c() -> Cluster {
    let with_vote = |terms: &[Term], term: Term, vote: Option<u64>| {
        let mut storage = Storage::with_log(entries_with_terms(terms), term);
        storage.vote = vote;
        storage
    };
    let storages = vec![
        with_vote(&[1, 2], 3, None),
        with_vote(&[1, 2], 2, None),
        with_vote(&[1], 3, Some(5)),
        with_vote(&[1], 3, Some(5)),
        with_vote(&[1, 3], 3, Some(5)),
    ];
    let config = RaftConfig {
        max_append_entries: 1,
        ..RaftConfig::default()
    };
    let mut cluster = Cluster::from_storages(storages, config, 8);
    cluster.timers = false;
    cluster.crash(5);
    cluster.isolate(4);
    cluster.step(1, Input::Campaign);
    cluster
}

fn carries_term(envelope: &Envelope, term: Term) -> bool {
    match &envelope.message {
        Message::AppendEntries { entries, .. } => entries.iter().any(|e| e.term == term),
        _ => false,
    }
}

/// Delivers rounds until the wire is empty, dropping the messages `drop` selects.
fn settle_dropping(cluster: &mut Cluster, drop: impl Fn(&Cluster, &Envelope) -> bool) {
    for _ in 0..100 {
        let messages = cluster.take_in_flight();
        if messages.is_empty() {
            return;
        }
        for message in messages {
            if !drop(cluster, &message) {
                cluster.deliver(message);
            }
        }
    }
    panic!("messages never stopped");
}

/// Campaigns at `id` until it wins, at most `attempts` times; whether it won.
fn campaign_until_leader(cluster: &mut Cluster, id: u64, attempts: usize) -> bool {
    for _ in 0..attempts {
        cluster.step(id, Input::Campaign);
        cluster.settle();
        if cluster.node(id).role() == Role::Leader {
            return true;
        }
    }
    false
}

/// Reference: section 5.4.2, Figure 8 (c) and (d). "Raft never commits log entries from
/// previous terms by counting replicas." S1, leader of term 4, gets its entry of term 2
/// onto a majority (S1, S2, S3) but must not commit it: S5 can still win term 5 (votes
/// of S3, S4 and its own) and overwrite index 2 with its entry of term 3, which is then
/// the entry committed at index 2 everywhere.
#[test]
fn figure8_an_entry_of_an_earlier_term_on_a_majority_is_not_committed() {
    let mut cluster = figure8_c();
    // S3 gets index 2 (term 2) but never S1's no-op of term 4 (which it can only accept
    // once it has index 2).
    settle_dropping(&mut cluster, |c, m| {
        m.to == 3 && carries_term(m, 4) && c.node(3).log().last_index() >= 2
    });
    assert_eq!(
        (cluster.node(1).role(), cluster.node(1).term()),
        (Role::Leader, 4)
    );
    for id in [1, 2, 3] {
        assert_eq!(
            cluster.node(id).log().get(2).map(|e| e.term),
            Some(2),
            "S{id}"
        );
    }
    assert_eq!(terms_of(cluster.node(3).log().entries()), vec![1, 2]);
    assert_eq!(
        cluster.node(1).commit(),
        0,
        "index 2 of term 2 is on 3 of 5: not committed"
    );
    assert!(cluster.checker.committed.is_empty());

    // (d): S1 crashes; S5 restarts, S4 is back, and S5 wins with S3 and S4.
    cluster.crash(1);
    cluster.heal();
    cluster.restart(5);
    assert!(campaign_until_leader(&mut cluster, 5, 4), "S5 can win");
    assert_eq!(cluster.node(5).term(), 5);
    cluster.settle();
    cluster.now_us += RaftConfig::default().heartbeat_us;
    cluster.step(5, Input::Tick);
    cluster.settle();
    for id in [2, 3, 4, 5] {
        assert_eq!(
            terms_of(cluster.node(id).log().entries()),
            vec![1, 3, 5],
            "S{id}"
        );
        assert_eq!(cluster.node(id).commit(), 3, "S{id}");
    }
    let committed: Vec<&Entry> = cluster.checker.committed.values().collect();
    assert_eq!(
        terms_of(&committed.into_iter().cloned().collect::<Vec<_>>()),
        vec![1, 3, 5]
    );
}

/// Reference: section 5.4.2, Figure 8 (e). Once S1 has an entry of its own term 4 on a
/// majority, that entry and the term-2 entry before it commit together (Log Matching),
/// and S5 can no longer be elected.
#[test]
fn figure8_an_entry_of_the_current_term_on_a_majority_commits_the_earlier_ones() {
    let mut cluster = figure8_c();
    let mut commits = Vec::new();
    for _ in 0..100 {
        let messages = cluster.take_in_flight();
        if messages.is_empty() {
            break;
        }
        for message in messages {
            let to_leader = message.to == 1;
            let Some(outputs) = cluster.deliver(message) else {
                continue;
            };
            if to_leader {
                commits.extend(outputs.events.into_iter().filter_map(|e| match e {
                    RaftEvent::CommitAdvanced { from, to } => Some((from, to)),
                    _ => None,
                }));
            }
        }
    }
    assert_eq!(terms_of(cluster.node(3).log().entries()), vec![1, 2, 4]);
    assert_eq!(commits, vec![(0, 3)], "indexes 1 to 3 commit in one step");
    let committed: Vec<Entry> = cluster.checker.committed.values().cloned().collect();
    assert_eq!(terms_of(&committed), vec![1, 2, 4]);

    cluster.crash(1);
    cluster.heal();
    cluster.restart(5);
    assert!(
        !campaign_until_leader(&mut cluster, 5, 5),
        "S2 and S3 refuse S5"
    );
    for id in [2, 3] {
        assert_eq!(
            terms_of(cluster.node(id).log().entries()),
            vec![1, 2, 4],
            "S{id}"
        );
    }
    // S2 or S3 can still win, and keeps what was committed.
    assert!(campaign_until_leader(&mut cluster, 2, 3));
}
