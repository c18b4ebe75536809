//! Leader election (Raft section 5.2): randomized timeouts elect a leader, whatever the
//! seed and however large the cluster.

use std::time::Instant;

use crate::support::*;

/// How many seeds the election sweep runs.
const SEEDS: u64 = 500;

#[test]
fn a_leader_is_elected_for_every_seed() {
    let started = Instant::now();
    let mut slowest = (0, 0);
    for seed in 1..=SEEDS {
        let cluster = virtual_cluster(5, seed);
        let leader = wait_leader(&cluster, 3 * SECOND_US);
        let elected_us = cluster.now_us().unwrap();
        slowest = slowest.max((elected_us, seed));
        // Election Safety: one leader per term, and every other node follows it.
        let status = cluster.status().unwrap();
        let term = status.nodes[leader as usize - 1].term;
        let leaders = status
            .nodes
            .iter()
            .filter(|n| n.role == Some(raftlab::raft::Role::Leader) && n.term == term)
            .count();
        assert_eq!(leaders, 1, "seed {seed}: two leaders in term {term}");
    }
    println!(
        "{SEEDS} seeds elected a leader; slowest {}us (seed {}); {:?} wall",
        slowest.0,
        slowest.1,
        started.elapsed()
    );
}

/// Slow links (20..60ms, a third of the shortest election timeout) make split votes
/// common; elections still end, by randomized timeouts, within a few rounds.
#[test]
fn a_leader_is_elected_for_every_seed_despite_split_votes_on_slow_links() {
    let mut split = 0;
    for seed in 1..=SEEDS {
        let mut config = virtual_config(5, seed);
        config.network.delay_min_us = 20_000;
        config.network.delay_max_us = 60_000;
        let cluster = start(config);
        let leader = wait_leader(&cluster, 5 * SECOND_US);
        let term = cluster.status().unwrap().nodes[leader as usize - 1].term;
        if term > 1 {
            split += 1;
        }
    }
    println!("{SEEDS} seeds on slow links elected a leader; {split} needed more than one term");
    assert!(
        split > 0,
        "no seed had a split vote: the sweep does not test what it says"
    );
}

#[test]
fn a_cluster_of_101_nodes_elects_a_leader_and_commits_a_write() {
    let cluster = virtual_cluster(101, 5);
    let leader = wait_leader(&cluster, 5 * SECOND_US);
    put(&cluster, "x", "1");
    assert_eq!(get(&cluster, "x").as_deref(), Some("1"));
    let status = cluster.status().unwrap();
    let commit = status.nodes[leader as usize - 1].commit;
    let replicated = status
        .nodes
        .iter()
        .filter(|n| n.last_index >= commit)
        .count();
    assert!(
        replicated >= 51,
        "the committed write is on {replicated} of 101 nodes"
    );
}
