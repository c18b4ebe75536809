//! Single-server membership changes in a running cluster (thesis chapter 4): the cluster
//! hosts nodes added after it started, and writes commit through every change.

use raftlab::cluster::Cluster;

use crate::support::*;

/// Waits until the leader's configuration has exactly `voters` and no learner, then a
/// little longer, for it to commit (a change is refused while another is pending).
fn wait_voters(cluster: &Cluster, voters: Vec<u64>, within_us: u64) -> bool {
    let done = wait(cluster, within_us, move |sim| {
        sim.leader.is_some() && (&sim.voters, &sim.learners) == (&voters, &Vec::new())
    });
    cluster.run_for(100_000).expect("the cluster runs");
    done
}

#[test]
fn membership_grow_three_to_five_then_remove_one_and_writes_still_commit() {
    for seed in 1..=5 {
        let cluster = virtual_cluster(3, seed);
        wait_leader(&cluster, 3 * SECOND_US);
        put(&cluster, "a", "1");
        cluster.add(4).unwrap();
        assert!(
            wait_voters(&cluster, vec![1, 2, 3, 4], 2 * SECOND_US),
            "seed {seed}: n4 not promoted"
        );
        cluster.add(5).unwrap();
        assert!(
            wait_voters(&cluster, vec![1, 2, 3, 4, 5], 2 * SECOND_US),
            "seed {seed}: n5 not promoted"
        );
        put(&cluster, "b", "2");
        let leader = wait_leader(&cluster, SECOND_US);
        let removed = if leader == 2 { 3 } else { 2 };
        cluster.remove(removed).unwrap();
        let rest: Vec<u64> = (1..=5).filter(|&n| n != removed).collect();
        assert!(
            wait_voters(&cluster, rest, 2 * SECOND_US),
            "seed {seed}: n{removed} not removed"
        );
        cluster.kill(removed).unwrap();
        put(&cluster, "c", "3");
        assert_eq!(get(&cluster, "a"), Some("1".to_string()), "seed {seed}");
        assert_eq!(get(&cluster, "c"), Some("3".to_string()), "seed {seed}");
        assert!(wait_converged(&cluster, 2 * SECOND_US), "seed {seed}");
        let leader = wait_leader(&cluster, SECOND_US);
        assert_eq!(
            cluster.kv(5).unwrap(),
            cluster.kv(leader).unwrap(),
            "seed {seed}"
        );
        assert!(
            wait(&cluster, 1, |sim| sim.violations.is_empty()),
            "seed {seed}: a safety violation"
        );
    }
}
