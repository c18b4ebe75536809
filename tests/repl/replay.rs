//! `back` and determinism: the same commands give the same cluster, byte for byte.

use raftlab::cluster::{ClockMode, ClusterConfig};
use raftlab::repl::session::Session;

fn session() -> Session {
    let config = ClusterConfig {
        nodes: 5,
        seed: 9,
        clock: ClockMode::Virtual,
        ..Default::default()
    };
    Session::new(config).expect("starts")
}

fn run(session: &mut Session, lines: &[&str]) -> String {
    lines
        .iter()
        .map(|line| session.run_line(line).expect(line).text)
        .collect()
}

const LINES: &[&str] = &[
    "wait leader",
    "put a 1",
    "net drop 0.2",
    "kill leader",
    "wait leader",
    "put b 2",
    "partition 1,2 | 3,4,5",
    "run 500ms",
    "heal",
    "run 1s",
];

#[test]
fn the_same_commands_give_the_same_output_and_events() {
    let (mut first, mut second) = (session(), session());
    let out1 = run(&mut first, LINES) + &run(&mut first, &["status", "log", "events 200"]);
    let out2 = run(&mut second, LINES) + &run(&mut second, &["status", "log", "events 200"]);
    assert_eq!(out1, out2);
}

#[test]
fn back_returns_to_the_state_before_the_last_commands() {
    let mut session = session();
    run(
        &mut session,
        &["pause", "wait leader", "put x 1", "run 100ms"],
    );
    let before = run(&mut session, &["status", "log", "msgs"]);
    run(
        &mut session,
        &["kill leader", "step 20", "put y 2", "run 300ms"],
    );
    let back = session.run_line("back 23").expect("back").text;
    assert!(back.contains("back to t="), "{back}");
    let after = run(&mut session, &["status", "log", "msgs"]);
    assert_eq!(before, after);
}
