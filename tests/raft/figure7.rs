//! Figure 7 of the Raft paper: a new leader and the six follower logs it may face.

use raftlab::raft::{Input, Message, RaftConfig, RaftEvent, Role, Storage, Term};

use crate::harness::{Cluster, entries_with_terms, terms_of};

/// The log of the leader for term 8 in Figure 7.
const LEADER: [Term; 10] = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];

/// Node 1 with the leader's log, node 2 with `follower`, node 3 with the leader's log.
/// Node 1 starts at term 7 and campaigns, so it leads term 8 as in the figure. Node 3
/// votes for it; node 2 may refuse (log (d) is more up to date than the leader's, and in
/// a real cluster its owner could win term 8), so the third node decides the election.
/// Returns the number of AppendEntries round trips to node 2 until its log equals the
/// leader's, and whether node 2 truncated anything.
fn repair(follower: &[Term]) -> (usize, bool) {
    let leader = Storage::with_log(entries_with_terms(&LEADER), 7);
    let follower = Storage::with_log(entries_with_terms(follower), 0);
    let storages = vec![leader.clone(), follower, leader];
    let mut cluster = Cluster::from_storages(storages, RaftConfig::default(), 8);
    cluster.timers = false;
    cluster.step(1, Input::Campaign);
    let (mut round_trips, mut truncated) = (0, false);
    for _ in 0..20 {
        if cluster.node(1).role() == Role::Leader && cluster.node(2).log() == cluster.node(1).log()
        {
            break;
        }
        let messages = cluster.take_in_flight();
        assert!(!messages.is_empty(), "the repair stalled");
        let to_follower = |e: &&raftlab::raft::Envelope| {
            e.to == 2 && matches!(e.message, Message::AppendEntries { .. })
        };
        round_trips += usize::from(messages.iter().any(|e| to_follower(&e)));
        for message in messages {
            if let Some(outputs) = cluster.deliver(message) {
                truncated |= outputs
                    .events
                    .iter()
                    .any(|e| matches!(e, RaftEvent::LogTruncated { .. }));
            }
        }
    }
    assert_eq!(cluster.node(1).term(), 8);
    let mut expected = LEADER.to_vec();
    expected.push(8);
    assert_eq!(terms_of(cluster.node(2).log().entries()), expected);
    assert_eq!(
        cluster.storages[&2].log,
        *cluster.node(1).log(),
        "and durably"
    );
    cluster.settle();
    assert_eq!(cluster.node(1).commit(), 11, "the noop of term 8 commits");
    (round_trips, truncated)
}

/// Reference: section 5.3, Figure 7 (a). Missing one entry: one rejection, then the
/// missing entry and the no-op.
#[test]
fn figure7_a_follower_missing_an_entry_is_filled_in() {
    let (round_trips, truncated) = repair(&[1, 1, 1, 4, 4, 5, 5, 6, 6]);
    assert!(round_trips <= 2, "{round_trips}");
    assert!(!truncated);
}

/// Reference: section 5.3, Figure 7 (b). Missing many entries: the follower names its
/// log's end and the leader jumps there.
#[test]
fn figure7_b_follower_missing_many_entries_is_filled_in() {
    let (round_trips, truncated) = repair(&[1, 1, 1, 4]);
    assert!(round_trips <= 2, "{round_trips}");
    assert!(!truncated);
}

/// Reference: section 5.3, Figure 7 (c). An extra uncommitted entry of term 6 is
/// replaced by the leader's no-op of term 8.
#[test]
fn figure7_c_follower_with_an_extra_entry_has_it_replaced() {
    let (round_trips, truncated) = repair(&[1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6]);
    assert!(round_trips <= 1, "{round_trips}");
    assert!(truncated);
}

/// Reference: section 5.3, Figure 7 (d). Two extra entries of term 7 (a term the leader
/// never saw) are removed.
#[test]
fn figure7_d_follower_with_extra_entries_of_a_later_term_has_them_removed() {
    let (round_trips, truncated) = repair(&[1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7]);
    assert!(round_trips <= 1, "{round_trips}");
    assert!(truncated);
}

/// Reference: section 5.3, Figure 7 (e). Missing entries and extra entries of term 4:
/// the leader skips the follower's term-4 run in one step.
#[test]
fn figure7_e_follower_missing_and_extra_entries_is_repaired() {
    let (round_trips, truncated) = repair(&[1, 1, 1, 4, 4, 4, 4]);
    assert!(round_trips <= 3, "{round_trips}");
    assert!(truncated);
}

/// Reference: section 5.3, Figure 7 (f). A follower that led term 2 and term 3 and
/// committed nothing of them: one rejection per conflicting term, then everything from
/// index 4 is replaced.
#[test]
fn figure7_f_follower_with_conflicting_terms_is_repaired() {
    let (round_trips, truncated) = repair(&[1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]);
    assert!(round_trips <= 3, "{round_trips}");
    assert!(truncated);
}
