use raftlab::cluster::kv::{KvOp, KvOutput};
use raftlab::cluster::{ClientOutcome, ClockMode, Cluster, ClusterConfig};

fn virtual_cluster(nodes: u64, seed: u64) -> Cluster {
    let config = ClusterConfig {
        nodes,
        seed,
        clock: ClockMode::Virtual,
        ..Default::default()
    };
    Cluster::start(config).expect("cluster starts")
}

#[test]
fn smoke() {
    let cluster = virtual_cluster(5, 7);
    let elected = cluster
        .wait_until(2_000_000, std::sync::Arc::new(|sim| sim.leader().is_some()))
        .unwrap();
    assert!(elected);
    let put = KvOp::Put {
        key: "x".into(),
        value: "1".into(),
    };
    let result = cluster.request(put, None).unwrap();
    assert!(
        matches!(
            result.outcome,
            ClientOutcome::Done {
                output: KvOutput::Ok,
                ..
            }
        ),
        "{result:?}"
    );
    let get = cluster
        .request(KvOp::Get { key: "x".into() }, None)
        .unwrap();
    assert!(
        matches!(get.outcome, ClientOutcome::Done { output: KvOutput::Value(Some(ref v)), .. } if v == "1"),
        "{get:?}"
    );
    for e in cluster.events(30).unwrap() {
        println!("{e}");
    }
}
