//! How long the REPL's look commands take on large clusters: `status`, `status all` and
//! `log` on 101 and 1001 nodes, each through a session (parse, a job on the cluster's
//! driver thread to copy the state out, and rendering), as a person at the REPL sees it.
//! The target is `status` on 101 nodes under 20 ms.
//!
//! `cargo bench --bench views`. The clusters are started and a leader elected outside the
//! timing; one write is committed so the logs are not empty.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

use raftlab::cluster::{ClockMode, ClusterConfig};
use raftlab::repl::session::Session;

/// A virtual-time session on `nodes` nodes with a leader and one committed write.
fn session(nodes: u64) -> Session {
    let config = ClusterConfig {
        nodes,
        seed: 1,
        clock: ClockMode::Virtual,
        ..Default::default()
    };
    let mut session = Session::new(config).expect("the cluster starts");
    for line in ["wait leader within 10s", "put x 1"] {
        let outcome = session.run_line(line).expect("the line runs");
        assert!(outcome.passed, "{line}: {}", outcome.text);
    }
    session
}

fn look(c: &mut Criterion) {
    let mut group = c.benchmark_group("look");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300));
    for nodes in [101, 1001] {
        let mut session = session(nodes);
        for line in ["status", "status all", "log", "status --json"] {
            group.bench_function(format!("{line}, {nodes} nodes"), |b| {
                b.iter(|| black_box(session.run_line(line).expect("the line runs")))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, look);
criterion_main!(benches);
