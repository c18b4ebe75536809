//! Partitions (Raft sections 5.3 and 5.4): a leader cut off in a minority cannot commit,
//! the majority elects a leader of a later term and goes on, and when the partition heals
//! the old leader steps down and its uncommitted entries are replaced by the new leader's.

use raftlab::cluster::{ClientOutcome, EventKind};
use raftlab::raft::{RaftEvent, Role};

use crate::support::*;

#[test]
fn a_leader_in_a_minority_cannot_commit_and_the_majority_moves_on() {
    for seed in 1..=50 {
        check_minority_leader(seed);
    }
}

fn check_minority_leader(seed: u64) {
    let cluster = virtual_cluster(5, seed);
    let old = wait_leader(&cluster, 3 * SECOND_US);
    put(&cluster, "a", "1");
    let partner = if old == 1 { 2 } else { 1 };
    let majority: Vec<u64> = (1..=5).filter(|&n| n != old && n != partner).collect();
    cluster.partition(vec![vec![old, partner]]).unwrap();

    let status = cluster.status().unwrap();
    let (old_commit, old_term) = {
        let node = &status.nodes[old as usize - 1];
        (node.commit, node.term)
    };
    // The old leader still believes it leads (no CheckQuorum) and takes the writes...
    let stale: Vec<u64> = (0..3)
        .map(|i| {
            let op = put_op(&format!("stale{i}"), "x");
            cluster.submit(op, Some(old)).unwrap()
        })
        .collect();
    cluster.run_for(SECOND_US).unwrap();
    // ...but cannot commit them: no majority answers.
    let status = cluster.status().unwrap();
    let node = &status.nodes[old as usize - 1];
    assert_eq!(
        node.role,
        Some(Role::Leader),
        "seed {seed}: n{old} still leads its term"
    );
    assert_eq!(
        node.commit, old_commit,
        "seed {seed}: the minority leader committed"
    );
    assert!(
        node.last_index > old_commit,
        "seed {seed}: the stale writes are in its log"
    );
    assert_eq!(
        status.nodes[partner as usize - 1].commit,
        old_commit,
        "seed {seed}"
    );
    for &op in &stale {
        assert!(cluster.is_pending(op).unwrap(), "seed {seed}: op {op}");
    }

    // The majority elects a leader of a later term and commits.
    let new = wait_new_leader(&cluster, old, 3 * SECOND_US);
    assert!(
        majority.contains(&new),
        "seed {seed}: n{new} is not in the majority"
    );
    put(&cluster, "b", "2");
    let status = cluster.status().unwrap();
    assert!(
        status.nodes[new as usize - 1].term > old_term,
        "seed {seed}"
    );
    assert_eq!(
        status.nodes[old as usize - 1].commit,
        old_commit,
        "seed {seed}"
    );

    // The stale entries conflict with the new leader's log.
    let logs = cluster.logs(vec![old, new]).unwrap();
    let (old_log, new_log) = (&logs[0].1, &logs[1].1);
    assert!(
        old_log[old_commit as usize..]
            .iter()
            .all(|e| e.term == old_term),
        "seed {seed}"
    );
    assert_ne!(old_log, new_log, "seed {seed}");

    // Heal: the old leader hears a later term, steps down and takes the new leader's log.
    cluster.heal().unwrap();
    let stepped_down = wait(&cluster, 2 * SECOND_US, move |sim| {
        let status = &sim.nodes;
        let old_node = &status[old as usize - 1];
        old_node.role == Some(Role::Follower) && old_node.term == status[new as usize - 1].term
    });
    assert!(stepped_down, "seed {seed}: n{old} did not step down");
    put(&cluster, "c", "3");
    assert!(
        wait_converged(&cluster, 2 * SECOND_US),
        "seed {seed}: no convergence"
    );
    let logs = cluster.logs(vec![]).unwrap();
    let leader_log = &logs[new as usize - 1].1;
    for (node, log) in &logs {
        assert_eq!(
            log, leader_log,
            "seed {seed}: n{node}'s log differs from the leader's"
        );
    }
    assert!(logs_match(&cluster), "seed {seed}");
    let truncated = cluster.events(100_000).unwrap().iter().any(|e| {
        matches!(e.kind, EventKind::Raft { node, event: RaftEvent::LogTruncated { .. } }
            if node == old)
    });
    assert!(
        truncated,
        "seed {seed}: n{old}'s stale entries were never truncated"
    );
    for key in ["a", "b", "c"] {
        assert!(get(&cluster, key).is_some(), "seed {seed}: {key} lost");
    }
    let kv = cluster.kv(old).unwrap();
    assert!(
        kv.iter().map(|(k, _)| k.as_str()).eq(["a", "b", "c"]),
        "seed {seed}: n{old} applied a write that never committed: {kv:?}"
    );

    // The stale writes end, but none of them ended as done while cut off. Each is refused
    // (its node no longer leads) or times out; none was applied.
    assert!(wait(&cluster, 6 * SECOND_US, move |sim| !stale
        .iter()
        .any(|op| sim.pending_ops.contains(op))));
    for record in cluster.history().unwrap() {
        if record.request.key().starts_with("stale") {
            let outcome = record.outcome.expect("ended");
            let response_us = record.response_us.unwrap();
            assert!(
                !matches!(outcome, ClientOutcome::Done { .. }),
                "seed {seed}: a stale write was done at {response_us}us: {outcome:?}"
            );
        }
    }
}
