//! Each rule of the checker, shown broken by a hand-made history of observations, and
//! shown holding on the nearest correct one.

use super::*;
use crate::cluster::kv::{KvOp, KvOutput};
use crate::cluster::linearizability::{SearchBudget, Verdict, check};
use crate::raft::Payload;

fn view(id: NodeId, role: Role, term: Term, commit: Index) -> NodeView {
    NodeView {
        id,
        role,
        term,
        vote: None,
        leader: (role == Role::Leader).then_some(id),
        last_index: 0,
        last_term: 0,
        commit,
        applied: commit,
        voters: Vec::new().into(),
        learners: Vec::new().into(),
        votes_granted: 0,
        progress: None,
    }
}

fn entry(index: Index, term: Term, command: &str) -> Entry {
    Entry {
        index,
        term,
        payload: Payload::Command(command.as_bytes().into()),
    }
}

fn append(entries: Vec<Entry>) -> DurableWrite {
    DurableWrite::Append { entries }
}

/// A step with only writes and the state after.
fn writes(writes: Vec<DurableWrite>, after: NodeView) -> StepTrace {
    StepTrace {
        writes,
        applied: Vec::new(),
        events: Vec::new(),
        after: Volatile::of(&after),
    }
}

fn events(events: Vec<RaftEvent>, after: NodeView) -> StepTrace {
    StepTrace {
        writes: Vec::new(),
        applied: Vec::new(),
        events,
        after: Volatile::of(&after),
    }
}

/// A checker with nodes 1..=n up as followers in term 0.
fn checker(n: NodeId) -> Checker {
    let mut checker = Checker::new();
    for id in 1..=n {
        checker.node_up(0, id, &view(id, Role::Follower, 0, 0));
    }
    checker
}

fn rules(checker: &Checker) -> Vec<Rule> {
    checker.violations().iter().map(|v| v.rule).collect()
}

/// Makes `node` leader of `term`.
fn lead(checker: &mut Checker, node: NodeId, term: Term) {
    let became = RaftEvent::BecameLeader { term };
    checker.observe(
        1,
        node,
        &[events(vec![became], view(node, Role::Leader, term, 0))],
    );
}

#[test]
fn election_safety_two_leaders_of_one_term() {
    let mut checker = checker(3);
    lead(&mut checker, 1, 2);
    lead(&mut checker, 3, 3);
    assert!(
        checker.violations().is_empty(),
        "leaders of different terms"
    );
    lead(&mut checker, 2, 2);
    let violation = &checker.violations()[0];
    assert_eq!(violation.rule, Rule::ElectionSafety);
    assert_eq!(
        (violation.nodes.clone(), violation.terms.clone()),
        (vec![1, 2], vec![2])
    );
}

#[test]
fn leader_append_only_a_leader_truncates_its_own_log() {
    let mut checker = checker(2);
    lead(&mut checker, 1, 2);
    let log = append(vec![entry(1, 2, "a"), entry(2, 2, "b")]);
    checker.observe(2, 1, &[writes(vec![log], view(1, Role::Leader, 2, 0))]);
    assert!(checker.violations().is_empty());
    let truncate = DurableWrite::Truncate { from: 2 };
    checker.observe(3, 1, &[writes(vec![truncate], view(1, Role::Leader, 2, 0))]);
    let violation = &checker.violations()[0];
    assert_eq!(violation.rule, Rule::LeaderAppendOnly);
    assert_eq!((violation.index, violation.time_us), (Some(2), 3));
}

#[test]
fn leader_append_only_allows_a_deposed_leader_to_truncate() {
    let mut checker = checker(2);
    lead(&mut checker, 1, 2);
    let log = append(vec![entry(1, 2, "a")]);
    checker.observe(2, 1, &[writes(vec![log], view(1, Role::Leader, 2, 0))]);
    // A message of term 3 made it a follower, and the new leader's entry replaces its own.
    let replace = vec![
        DurableWrite::Truncate { from: 1 },
        append(vec![entry(1, 3, "b")]),
    ];
    checker.observe(3, 1, &[writes(replace, view(1, Role::Follower, 3, 0))]);
    assert!(checker.violations().is_empty());
}

#[test]
fn log_matching_same_index_and_term_with_different_entries() {
    let mut checker = checker(2);
    let one = append(vec![entry(1, 1, "a"), entry(2, 1, "b")]);
    let two = append(vec![entry(1, 1, "a"), entry(2, 1, "c")]);
    checker.observe(1, 1, &[writes(vec![one], view(1, Role::Follower, 1, 0))]);
    checker.observe(2, 2, &[writes(vec![two], view(2, Role::Follower, 1, 0))]);
    let violation = &checker.violations()[0];
    assert_eq!(violation.rule, Rule::LogMatching);
    assert_eq!(
        (violation.index, violation.nodes.clone()),
        (Some(2), vec![1, 2])
    );
}

#[test]
fn log_matching_same_entry_on_different_prefixes() {
    let mut checker = checker(2);
    let one = append(vec![entry(1, 1, "a"), entry(2, 2, "b")]);
    checker.observe(1, 1, &[writes(vec![one], view(1, Role::Follower, 2, 0))]);
    // Node 2's first entry was set by hand (set-log), so only its second is compared:
    // the same entry 2@2, after a different entry 1@1.
    checker.node_down(2);
    checker.log_replaced(2, &Storage::with_log(vec![entry(1, 1, "z")], 1));
    checker.node_up(2, 2, &view(2, Role::Follower, 1, 0));
    let two = append(vec![entry(2, 2, "b")]);
    checker.observe(3, 2, &[writes(vec![two], view(2, Role::Follower, 2, 0))]);
    assert_eq!(rules(&checker), vec![Rule::LogMatching]);
    assert_eq!(checker.violations()[0].index, Some(2));
}

#[test]
fn log_matching_holds_for_a_truncated_and_repaired_log() {
    let mut checker = checker(2);
    let one = append(vec![entry(1, 1, "a"), entry(2, 2, "b")]);
    checker.observe(1, 1, &[writes(vec![one], view(1, Role::Follower, 2, 0))]);
    let stale = append(vec![entry(1, 1, "a"), entry(2, 1, "old")]);
    checker.observe(2, 2, &[writes(vec![stale], view(2, Role::Follower, 1, 0))]);
    let repair = vec![
        DurableWrite::Truncate { from: 2 },
        append(vec![entry(2, 2, "b")]),
    ];
    checker.observe(3, 2, &[writes(repair, view(2, Role::Follower, 2, 0))]);
    assert!(checker.violations().is_empty());
}

/// Node 1 leads term 1 and commits "a" at index 1.
fn committed_in_term_1(checker: &mut Checker) {
    lead(checker, 1, 1);
    let log = append(vec![entry(1, 1, "a")]);
    let mut step = writes(vec![log], view(1, Role::Leader, 1, 1));
    step.applied = vec![entry(1, 1, "a")];
    checker.observe(2, 1, &[step]);
}

#[test]
fn leader_completeness_a_new_leader_lacks_a_committed_entry() {
    let mut checker = checker(3);
    committed_in_term_1(&mut checker);
    lead(&mut checker, 2, 2);
    let violation = &checker.violations()[0];
    assert_eq!(violation.rule, Rule::LeaderCompleteness);
    assert_eq!(violation.nodes, vec![2, 1]);
    assert_eq!(
        (violation.index, violation.terms.clone()),
        (Some(1), vec![2, 1])
    );
}

#[test]
fn leader_completeness_holds_for_a_leader_with_the_entry() {
    let mut checker = checker(3);
    committed_in_term_1(&mut checker);
    let copy = append(vec![entry(1, 1, "a")]);
    checker.observe(3, 3, &[writes(vec![copy], view(3, Role::Follower, 1, 0))]);
    lead(&mut checker, 3, 2);
    assert!(checker.violations().is_empty());
}

#[test]
fn leader_completeness_does_not_bind_a_leader_of_an_earlier_term() {
    // Node 2 wins term 1 late (its vote responses were slow) after node 1 committed in
    // term 2: a stale leader, which cannot commit anything, is not a violation.
    let mut checker = checker(3);
    lead(&mut checker, 1, 2);
    let log = append(vec![entry(1, 2, "a")]);
    checker.observe(2, 1, &[writes(vec![log], view(1, Role::Leader, 2, 1))]);
    lead(&mut checker, 2, 1);
    assert!(checker.violations().is_empty());
}

#[test]
fn state_machine_safety_two_nodes_apply_different_entries_at_one_index() {
    let mut checker = checker(2);
    let mut one = writes(vec![], view(1, Role::Follower, 1, 1));
    one.applied = vec![entry(1, 1, "a")];
    let mut two = writes(vec![], view(2, Role::Follower, 2, 1));
    two.applied = vec![entry(1, 2, "b")];
    checker.observe(1, 1, &[one.clone()]);
    checker.observe(2, 2, &[one]);
    assert!(
        checker.violations().is_empty(),
        "the same entry twice is fine"
    );
    checker.observe(3, 2, &[two]);
    let violation = &checker.violations()[0];
    assert_eq!(violation.rule, Rule::StateMachineSafety);
    assert_eq!(
        (violation.index, violation.terms.clone()),
        (Some(1), vec![1, 2])
    );
}

#[test]
fn term_monotonic_within_a_run_and_across_a_restart() {
    let mut checker = checker(1);
    let hard = DurableWrite::HardState {
        term: 5,
        vote: None,
    };
    checker.observe(1, 1, &[writes(vec![hard], view(1, Role::Follower, 5, 0))]);
    checker.observe(2, 1, &[writes(vec![], view(1, Role::Follower, 4, 0))]);
    assert_eq!(rules(&checker), vec![Rule::TermMonotonic]);
    checker.node_down(1);
    checker.node_up(3, 1, &view(1, Role::Follower, 3, 0));
    assert_eq!(rules(&checker), vec![Rule::TermMonotonic; 2]);
    assert_eq!(checker.violations()[1].terms, vec![5, 3]);
}

#[test]
fn vote_once_across_a_restart() {
    let mut checker = checker(3);
    let voted = |candidate| RaftEvent::Voted { term: 4, candidate };
    checker.observe(
        1,
        1,
        &[events(vec![voted(2)], view(1, Role::Follower, 4, 0))],
    );
    checker.observe(
        2,
        1,
        &[events(vec![voted(2)], view(1, Role::Follower, 4, 0))],
    );
    assert!(
        checker.violations().is_empty(),
        "the same vote again is fine"
    );
    checker.node_down(1);
    checker.node_up(3, 1, &view(1, Role::Follower, 4, 0));
    checker.observe(
        4,
        1,
        &[events(vec![voted(3)], view(1, Role::Follower, 4, 0))],
    );
    let violation = &checker.violations()[0];
    assert_eq!(violation.rule, Rule::VoteOnce);
    assert_eq!(violation.nodes, vec![1, 2, 3]);
}

#[test]
fn commit_and_applied_never_decrease_within_an_incarnation() {
    let mut checker = checker(1);
    checker.observe(1, 1, &[writes(vec![], view(1, Role::Follower, 1, 5))]);
    checker.observe(2, 1, &[writes(vec![], view(1, Role::Follower, 1, 3))]);
    assert_eq!(
        rules(&checker),
        vec![Rule::CommitMonotonic, Rule::AppliedMonotonic]
    );
    // A restart starts both from 0 again: not a violation.
    checker.node_down(1);
    checker.node_up(3, 1, &view(1, Role::Follower, 1, 0));
    checker.observe(4, 1, &[writes(vec![], view(1, Role::Follower, 1, 1))]);
    assert_eq!(checker.violations().len(), 2);
}

#[test]
fn applied_within_commit() {
    let mut checker = checker(1);
    let mut ahead = view(1, Role::Follower, 1, 2);
    ahead.applied = 3;
    checker.observe(1, 1, &[writes(vec![], ahead)]);
    assert_eq!(rules(&checker), vec![Rule::AppliedWithinCommit]);
}

#[test]
fn a_step_that_changes_nothing_is_counted_and_breaks_nothing() {
    let mut checker = checker(1);
    let follower = view(1, Role::Follower, 1, 2);
    checker.observe(1, 1, &[writes(vec![], follower.clone())]);
    let quiet = writes(vec![], follower);
    checker.observe(2, 1, &[quiet.clone(), quiet]);
    assert_eq!(checker.steps_checked(), 3);
    assert!(checker.violations().is_empty());
}

#[test]
fn applied_past_commit_is_reported_on_every_step_it_lasts() {
    let mut checker = checker(1);
    let mut ahead = view(1, Role::Follower, 1, 2);
    ahead.applied = 3;
    let step = writes(vec![], ahead);
    checker.observe(1, 1, &[step.clone(), step.clone()]);
    checker.observe(2, 1, &[step]);
    assert_eq!(checker.counts()[&Rule::AppliedWithinCommit], 3);
}

#[test]
fn violations_beyond_the_kept_ones_are_counted_and_published_once() {
    let mut checker = checker(10);
    for node in 1..=10 {
        lead(&mut checker, node, 1);
    }
    assert_eq!(checker.violation_count(), 9);
    assert_eq!(checker.violations().len(), KEPT_PER_RULE);
    assert_eq!(checker.take_new().len(), KEPT_PER_RULE);
    assert!(checker.take_new().is_empty());
}

fn record(
    op: u64,
    request: KvOp,
    times: (u64, Option<u64>),
    outcome: Option<ClientOutcome>,
) -> ClientRecord {
    ClientRecord {
        op,
        client: op,
        request: request.into(),
        invoke_us: times.0,
        outcome,
        response_us: times.1,
        may_be_in_log: true,
    }
}

fn put(value: &str) -> KvOp {
    KvOp::Put {
        key: "x".into(),
        value: value.into(),
    }
}

fn done(output: KvOutput) -> Option<ClientOutcome> {
    Some(ClientOutcome::Done {
        output,
        index: 1,
        term: 1,
    })
}

#[test]
fn history_conversion_of_each_outcome() {
    let refused = Some(ClientOutcome::Refused {
        reason: crate::cluster::event::Refusal::NotLeader {
            node: 2,
            leader: None,
        },
    });
    let mut never = record(3, put("c"), (30, Some(31)), refused.clone());
    never.may_be_in_log = false;
    let history = vec![
        record(1, put("a"), (10, Some(20)), done(KvOutput::Ok)),
        record(2, put("b"), (15, Some(40)), Some(ClientOutcome::TimedOut)),
        never,
        record(4, put("d"), (35, Some(36)), refused),
        record(5, put("e"), (50, None), None),
    ];
    let outcomes: Vec<(u64, Outcome)> = operations(&history)
        .into_iter()
        .map(|o| (o.client, o.outcome))
        .collect();
    let returned = Outcome::Returned {
        output: KvOutput::Ok,
        response_us: 20,
    };
    assert_eq!(
        outcomes,
        vec![
            (1, returned),
            (2, Outcome::Unknown),
            (4, Outcome::Unknown),
            (5, Outcome::Unknown),
        ]
    );
}

#[test]
fn a_stale_read_in_a_converted_history_is_a_linearizability_violation() {
    let read = KvOp::Get { key: "x".into() };
    let value = |v: &str| done(KvOutput::Value(Some(v.into())));
    let history = vec![
        record(1, put("a"), (0, Some(10)), done(KvOutput::Ok)),
        record(2, put("b"), (20, Some(30)), done(KvOutput::Ok)),
        record(3, read.clone(), (40, Some(50)), value("a")),
    ];
    let verdict = check(&operations(&history), SearchBudget::default());
    let Verdict::Violation(violation) = verdict else {
        panic!("expected a violation, got {verdict:?}");
    };
    let kept: Vec<usize> = violation.ops.iter().map(|(i, _)| *i).collect();
    assert_eq!(kept, vec![0, 1, 2]);
    // The same read, had it come before the second write ended, is fine.
    let history = vec![
        record(1, put("a"), (0, Some(10)), done(KvOutput::Ok)),
        record(2, put("b"), (20, Some(45)), done(KvOutput::Ok)),
        record(3, read, (40, Some(50)), value("a")),
    ];
    assert_eq!(
        check(&operations(&history), SearchBudget::default()),
        Verdict::Linearizable
    );
}

// ---- membership: majorities of the configuration in force ---------------------------

fn config(index: Index, term: Term, voters: &[NodeId]) -> Entry {
    Entry {
        index,
        term,
        payload: Payload::config(voters.to_vec(), Vec::new()),
    }
}

/// A checker of a cluster started with voters 1..=n, all up as followers in term 0.
fn cluster(n: NodeId) -> Checker {
    let voters: Vec<NodeId> = (1..=n).collect();
    let mut checker = Checker::with_voters(&voters);
    for id in 1..=n {
        checker.node_up(0, id, &view(id, Role::Follower, 0, 0));
    }
    checker
}

/// `node` stores `entries` as a follower of `term`.
fn store(checker: &mut Checker, node: NodeId, term: Term, entries: Vec<Entry>) {
    let step = writes(vec![append(entries)], view(node, Role::Follower, term, 0));
    checker.observe(1, node, &[step]);
}

/// Leader `node` of `term` appends `entries` and has commit `commit` after the step.
fn leader_step(
    checker: &mut Checker,
    node: NodeId,
    term: Term,
    entries: Vec<Entry>,
    commit: Index,
) {
    let step = writes(
        vec![append(entries)],
        view(node, Role::Leader, term, commit),
    );
    checker.observe(2, node, &[step]);
}

#[test]
fn commit_quorum_a_leader_commits_an_entry_only_it_holds() {
    let mut checker = cluster(3);
    lead(&mut checker, 1, 1);
    leader_step(&mut checker, 1, 1, vec![entry(1, 1, "a")], 1);
    let violation = &checker.violations()[0];
    assert_eq!(violation.rule, Rule::CommitQuorum);
    assert_eq!(
        (violation.index, violation.nodes.clone()),
        (Some(1), vec![1, 1])
    );
    assert!(
        violation
            .detail
            .to_string()
            .contains("only {n1} of the voters {n1,n2,n3}")
    );
}

#[test]
fn commit_quorum_holds_for_an_entry_a_majority_holds() {
    let mut checker = cluster(3);
    lead(&mut checker, 1, 1);
    leader_step(&mut checker, 1, 1, vec![entry(1, 1, "a")], 0);
    store(&mut checker, 3, 1, vec![entry(1, 1, "a")]);
    let commit = writes(vec![], view(1, Role::Leader, 1, 1));
    checker.observe(3, 1, &[commit]);
    assert!(checker.violations().is_empty());
}

#[test]
fn commit_quorum_counts_the_voters_of_the_leaders_latest_configuration() {
    // Voters 1, 2, 3 grow to 1, 2, 3, 4: from the moment the entry is in the leader's
    // log, two holders are no longer a majority, though they were of the old voters.
    let mut checker = cluster(3);
    lead(&mut checker, 1, 1);
    let entries = vec![entry(1, 1, "a"), config(2, 1, &[1, 2, 3, 4])];
    store(&mut checker, 2, 1, entries.clone());
    leader_step(&mut checker, 1, 1, entries, 1);
    assert_eq!(rules(&checker), vec![Rule::CommitQuorum]);
}

#[test]
fn commit_quorum_holds_for_a_majority_of_a_shrunk_configuration() {
    // Voters 1..=5 shrink to 1, 2, 3 in two committed changes; then two holders of five
    // are enough, since the voters in force are three.
    let mut checker = cluster(5);
    lead(&mut checker, 1, 1);
    let first = vec![config(1, 1, &[1, 2, 3, 4])];
    store(&mut checker, 2, 1, first.clone());
    store(&mut checker, 3, 1, first.clone());
    leader_step(&mut checker, 1, 1, first, 1);
    let second = vec![config(2, 1, &[1, 2, 3]), entry(3, 1, "a")];
    store(&mut checker, 2, 1, second.clone());
    leader_step(&mut checker, 1, 1, second, 3);
    assert!(
        checker.violations().is_empty(),
        "{:?}",
        checker.violations()
    );
}

#[test]
fn one_config_change_a_leader_appends_a_second_change_before_the_first_commits() {
    let mut checker = cluster(3);
    lead(&mut checker, 1, 1);
    leader_step(&mut checker, 1, 1, vec![config(1, 1, &[1, 2, 3, 4])], 0);
    leader_step(&mut checker, 1, 1, vec![config(2, 1, &[1, 2, 3, 4, 5])], 0);
    let violation = &checker.violations()[0];
    assert_eq!(violation.rule, Rule::OneConfigChange);
    assert_eq!(
        (violation.index, violation.terms.clone()),
        (Some(2), vec![1])
    );
}

#[test]
fn one_config_change_holds_once_the_first_change_committed_and_for_followers() {
    let mut checker = cluster(3);
    // A follower may hold two uncommitted changes: a leader appended the second once the
    // first committed, before the follower learnt of it.
    store(
        &mut checker,
        3,
        1,
        vec![config(1, 1, &[1, 2, 3, 4]), config(2, 1, &[1, 2, 3, 4, 5])],
    );
    lead(&mut checker, 1, 2);
    let first = vec![config(1, 2, &[1, 2, 3, 4])];
    store(&mut checker, 2, 2, first.clone());
    store(&mut checker, 4, 2, first.clone());
    leader_step(&mut checker, 1, 2, first, 1);
    leader_step(&mut checker, 1, 2, vec![config(2, 2, &[1, 2, 3, 4, 5])], 1);
    assert!(
        checker.violations().is_empty(),
        "{:?}",
        checker.violations()
    );
}

#[test]
fn entries_seen_keep_the_first_of_each_index_and_term() {
    let mut seen = EntriesSeen::default();
    assert_eq!(seen.seen_or_record(1, 1, (11, 1)), None);
    assert_eq!(seen.seen_or_record(1, 1, (99, 2)), Some((11, 1)));
    // Another term at the same index (after a conflict) is its own entry.
    assert_eq!(seen.seen_or_record(1, 2, (12, 3)), None);
    assert_eq!(seen.seen_or_record(1, 2, (98, 1)), Some((12, 3)));
    assert_eq!(seen.seen_or_record(1, 1, (97, 1)), Some((11, 1)));
    // An index past a gap (a log set by hand never enters the table).
    assert_eq!(seen.seen_or_record(5, 2, (15, 2)), None);
    assert_eq!(seen.seen_or_record(3, 2, (13, 2)), None);
    assert_eq!(seen.seen_or_record(5, 2, (0, 1)), Some((15, 2)));
}

// ---- letting go of what every node compacted -----------------------------------------

/// Nodes 1..=3 each hold and apply entries 1..=`count` of term 1 (led by node 1), then
/// compact up to `snapshot`; nodes after 3, up to `nodes`, are up and hold nothing.
fn compacted_cluster(nodes: NodeId, count: Index, snapshot: Index) -> Checker {
    let mut checker = checker(nodes);
    lead(&mut checker, 1, 1);
    let log: Vec<Entry> = (1..=count).map(|i| entry(i, 1, &i.to_string())).collect();
    for node in 1..=3 {
        let role = if node == 1 {
            Role::Leader
        } else {
            Role::Follower
        };
        let mut step = writes(vec![append(log.clone())], view(node, role, 1, count));
        step.applied = log.clone();
        checker.observe(2, node, &[step]);
    }
    for node in 1..=3 {
        let role = if node == 1 {
            Role::Leader
        } else {
            Role::Follower
        };
        let snapshot = DurableWrite::Snapshot(crate::raft::Snapshot {
            index: snapshot,
            term: 1,
            data: Vec::new(),
            voters: Vec::new(),
            learners: Vec::new(),
        });
        checker.observe(
            3,
            node,
            &[writes(vec![snapshot], view(node, role, 1, count))],
        );
    }
    checker
}

#[test]
fn what_every_node_compacted_is_let_go_and_the_rules_still_hold_after_it() {
    let count = 20_000;
    let mut checker = compacted_cluster(3, count, count - 10);
    assert!(
        checker.violations().is_empty(),
        "{:?}",
        checker.violations()
    );
    // The tables kept at most what follows the snapshots, and twice that before it.
    assert!(checker.committed.first() > count / 2);
    assert!(checker.entries.first.first() > count / 2);
    assert!(checker.nodes[&2].log.first() > count / 2);
    // Leader Completeness for a committed index let go, by the chains before what is kept.
    let became = RaftEvent::BecameLeader { term: 2 };
    let leader = view(2, Role::Leader, 2, count);
    checker.observe(4, 2, &[events(vec![became], leader)]);
    assert!(
        checker.violations().is_empty(),
        "{:?}",
        checker.violations()
    );
    // Log Matching after the snapshot, with the first differing entry named.
    let next = count + 1;
    for (node, command) in [(2, "x"), (3, "y")] {
        let step = writes(
            vec![append(vec![entry(next, 2, command)])],
            view(node, Role::Follower, 2, count),
        );
        checker.observe(4, node, &[step]);
    }
    let violation = &checker.violations()[0];
    assert_eq!(violation.rule, Rule::LogMatching);
    let difference = match &violation.detail {
        Breach::LogsDiffer { difference, .. } => *difference,
        other => panic!("not a Log Matching breach: {other:?}"),
    };
    let expected = FirstDifference {
        index: next,
        earlier_compacted: false,
        terms: (2, 2),
    };
    assert_eq!(difference, Some(expected), "{:?}", violation.detail);
}

#[test]
fn a_node_that_never_compacts_keeps_everything() {
    let checker = compacted_cluster(4, 10_000, 9_990);
    assert_eq!(checker.committed.first(), 1);
    assert_eq!(checker.nodes[&1].log.first(), 1);
}
