//! A lossy network (Raft section 5.3: "if followers crash or run slowly, or if network
//! packets are lost, the leader retries AppendEntries indefinitely"): with a fifth of the
//! messages lost, a fifth duplicated and reordering on, writes still commit, every node
//! converges, and a retried or duplicated command still takes effect once.

use raftlab::cluster::event::DropReason;
use raftlab::cluster::kv::KvOp;
use raftlab::cluster::{ClusterConfig, EventKind, NetworkConfig};

use crate::support::*;

fn lossy_config(seed: u64) -> ClusterConfig {
    let mut config = virtual_config(5, seed);
    config.network = NetworkConfig {
        delay_min_us: 1_000,
        delay_max_us: 10_000,
        drop: 0.2,
        duplicate: 0.2,
        reorder: true,
    };
    config
}

#[test]
fn writes_commit_and_nodes_converge_despite_loss_duplication_and_reordering() {
    for seed in 1..=40 {
        let cluster = start(lossy_config(seed));
        wait_leader(&cluster, 5 * SECOND_US);
        for i in 0..10 {
            put(&cluster, &format!("k{i}"), &format!("{i}"));
            let append = KvOp::Append {
                key: "log".into(),
                value: format!("{i},"),
            };
            must(&cluster, append);
        }
        let expected_log: String = (0..10).map(|i| format!("{i},")).collect();
        assert_eq!(
            get(&cluster, "log"),
            Some(expected_log.clone()),
            "seed {seed}"
        );
        assert!(
            wait_converged(&cluster, 10 * SECOND_US),
            "seed {seed}: no convergence"
        );
        let reference = cluster.kv(1).unwrap();
        assert_eq!(reference.len(), 11, "seed {seed}: {reference:?}");
        for node in 2..=5 {
            assert_eq!(cluster.kv(node).unwrap(), reference, "seed {seed}: n{node}");
        }
        assert!(logs_match(&cluster), "seed {seed}");
        let events = cluster.events(100_000).unwrap();
        let lost = events
            .iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    EventKind::Dropped {
                        reason: DropReason::Loss,
                        ..
                    }
                )
            })
            .count();
        let duplicated = events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Duplicated { .. }))
            .count();
        assert!(
            lost > 0 && duplicated > 0,
            "seed {seed}: the faults never happened"
        );
    }
}
