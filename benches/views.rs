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

/// A paused 5-node cluster with 30 messages in flight: writes sent by a leader whose
/// clock stands still, with a slow network so the messages stay on the wire.
fn busy_five() -> Session {
    let config = ClusterConfig {
        nodes: 5,
        seed: 1,
        clock: ClockMode::Virtual,
        ..Default::default()
    };
    let mut session = Session::new(config).expect("the cluster starts");
    let lines = ["wait leader within 10s", "net delay 20ms", "pause"];
    for line in lines {
        let outcome = session.run_line(line).expect("the line runs");
        assert!(outcome.passed, "{line}: {}", outcome.text);
    }
    let mut put = 0;
    while session.cluster().in_flight().expect("in flight").len() < 30 {
        put += 1;
        assert!(put < 200, "30 messages in flight");
        session
            .run_line(&format!("put k{put} {put}"))
            .expect("a put is sent");
        session.run_line("run 1ms").expect("time runs");
    }
    session
}

/// Drawing one frame of the live view (reading the cluster's picture, then drawing it
/// into a 120x40 buffer), on 5 nodes with 30 messages in flight and on 101 nodes. The
/// targets: 2 ms and 10 ms.
fn frame(c: &mut Criterion) {
    use raftlab::cluster::ViewLimits;
    use raftlab::repl::watch::{draw, model::Model};
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;

    let mut group = c.benchmark_group("watch frame");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300));
    let area = Rect::new(0, 0, 120, 40);
    for (name, session) in [
        ("5 nodes, 30 in flight", busy_five()),
        ("101 nodes", session(101)),
    ] {
        group.bench_function(name, |b| {
            let mut buf = Buffer::empty(area);
            b.iter(|| {
                let view = session
                    .cluster()
                    .view(ViewLimits::default())
                    .expect("a view");
                let model = Model::new(view, true, (area.width, area.height));
                buf.reset();
                draw::render(&model, area, &mut buf);
                black_box(&buf);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, look, frame);
criterion_main!(benches);
