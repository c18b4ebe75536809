//! What every test of the cluster needs: a virtual cluster, waits with a bound, and client
//! operations that must succeed.

use std::sync::Arc;

use raftlab::cluster::kv::{KvOp, KvOutput};
use raftlab::cluster::{
    ClientOutcome, ClientResult, ClockMode, Cluster, ClusterConfig, ClusterView, NetworkConfig,
    NodeState, ViewLimits,
};
use raftlab::raft::{NodeId, Role};

/// One second of cluster time.
pub const SECOND_US: u64 = 1_000_000;

/// A virtual-time configuration of `nodes` nodes.
pub fn virtual_config(nodes: u64, seed: u64) -> ClusterConfig {
    ClusterConfig {
        nodes,
        seed,
        clock: ClockMode::Virtual,
        network: NetworkConfig::default(),
        ..Default::default()
    }
}

pub fn start(config: ClusterConfig) -> Cluster {
    let seed = config.seed;
    Cluster::start(config).unwrap_or_else(|e| panic!("seed {seed}: the cluster starts: {e}"))
}

pub fn virtual_cluster(nodes: u64, seed: u64) -> Cluster {
    start(virtual_config(nodes, seed))
}

/// Runs the cluster until `condition` holds, at most `within_us` of cluster time.
pub fn wait(
    cluster: &Cluster,
    within_us: u64,
    condition: impl Fn(&ClusterView) -> bool + Send + Sync + 'static,
) -> bool {
    cluster
        .wait_until(within_us, ViewLimits::least(), Arc::new(condition))
        .expect("the cluster runs")
}

/// Whether every two nodes' durable logs agree where both hold entries.
pub fn logs_match(cluster: &Cluster) -> bool {
    let limits = ViewLimits {
        logs_match: true,
        ..ViewLimits::least()
    };
    cluster.view(limits).unwrap().logs_match == Some(true)
}

/// Runs until some node leads, and returns it.
pub fn wait_leader(cluster: &Cluster, within_us: u64) -> NodeId {
    let seed = cluster.config().seed;
    assert!(
        wait(cluster, within_us, |sim| sim.leader.is_some()),
        "seed {seed}: no leader within {within_us}us"
    );
    cluster.leader().unwrap().expect("a leader")
}

/// Runs until a leader other than `old` is elected, and returns it.
pub fn wait_new_leader(cluster: &Cluster, old: NodeId, within_us: u64) -> NodeId {
    let seed = cluster.config().seed;
    assert!(
        wait(cluster, within_us, move |sim| sim
            .leader
            .is_some_and(|l| l != old)),
        "seed {seed}: no leader other than n{old} within {within_us}us"
    );
    cluster.leader().unwrap().expect("a leader")
}

pub fn put_op(key: &str, value: &str) -> KvOp {
    KvOp::Put {
        key: key.to_string(),
        value: value.to_string(),
    }
}

pub fn get_op(key: &str) -> KvOp {
    KvOp::Get {
        key: key.to_string(),
    }
}

/// A client operation that must succeed; returns its output.
pub fn must(cluster: &Cluster, op: KvOp) -> KvOutput {
    let seed = cluster.config().seed;
    let result: ClientResult = cluster
        .request(op.clone(), None)
        .unwrap_or_else(|e| panic!("seed {seed}: `{op}` did not run: {e}"));
    match result.outcome {
        ClientOutcome::Done { output, .. } => output,
        other => panic!("seed {seed}: `{op}` failed: {other:?}"),
    }
}

/// Writes `key = value`, which must commit.
pub fn put(cluster: &Cluster, key: &str, value: &str) {
    assert_eq!(must(cluster, put_op(key, value)), KvOutput::Ok);
}

/// Reads `key` through the leader (the read goes through the log).
pub fn get(cluster: &Cluster, key: &str) -> Option<String> {
    match must(cluster, get_op(key)) {
        KvOutput::Value(value) => value,
        other => panic!("a get answered {other:?}"),
    }
}

/// The nodes that are up.
pub fn up_nodes(cluster: &Cluster) -> Vec<NodeId> {
    cluster
        .status()
        .unwrap()
        .nodes
        .iter()
        .filter(|n| n.state == NodeState::Up)
        .map(|n| n.id)
        .collect()
}

/// The role of `node`, if it is up.
pub fn role(cluster: &Cluster, node: NodeId) -> Option<Role> {
    cluster.status().unwrap().nodes[node as usize - 1].role
}

/// Runs until every up node has applied every entry of the leader's log.
pub fn wait_converged(cluster: &Cluster, within_us: u64) -> bool {
    wait(cluster, within_us, |sim| {
        let status = &sim.nodes;
        let Some(leader) = sim.leader else {
            return false;
        };
        let last = status[leader as usize - 1].last_index;
        status
            .iter()
            .filter(|n| n.state == NodeState::Up)
            .all(|n| n.applied == last && n.last_index == last)
    })
}
