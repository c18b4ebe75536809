//! Random and malformed lines run against a live session: errors, never a panic or a hang.

use raftlab::cluster::{ClockMode, ClusterConfig};
use raftlab::repl::session::Session;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const WORDS: &[&str] = &[
    "status",
    "log",
    "-v",
    "kv",
    "net",
    "msgs",
    "events",
    "trace",
    "help",
    "pause",
    "resume",
    "speed",
    "run",
    "step",
    "back",
    "deliver",
    "drop",
    "kill",
    "restart",
    "partition",
    "isolate",
    "cut",
    "link",
    "heal",
    "put",
    "append",
    "get",
    "del",
    "cas",
    "via",
    "campaign",
    "set-log",
    "wait",
    "leader",
    "commit",
    "until",
    "within",
    "expect",
    "try",
    "say",
    "quit",
    "all",
    "role",
    "term",
    "==",
    ">=",
    "|",
    "->",
    ",",
    "1",
    "2",
    "3",
    "7",
    "n2",
    "0",
    "-1",
    "0.5",
    "1.5",
    "10ms",
    "2s",
    "300us",
    "1,2",
    "3,4,5",
    "x",
    "y",
    "\"q w\"",
    "on",
    "off",
    "reorder",
    "dup",
    "delay",
    "1ms..3ms",
    "logs-match",
    "follower",
    "down",
    "#",
    "🦀",
    "\u{0}",
];

fn random_line(rng: &mut ChaCha8Rng) -> String {
    if rng.random_bool(0.1) {
        let bytes: Vec<u8> = (0..rng.random_range(0..40)).map(|_| rng.random()).collect();
        return String::from_utf8_lossy(&bytes).into_owned();
    }
    let count = rng.random_range(0..7);
    (0..count)
        .map(|_| WORDS[rng.random_range(0..WORDS.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn thousands_of_random_lines_never_panic_the_session() {
    let config = ClusterConfig {
        nodes: 3,
        seed: 11,
        clock: ClockMode::Virtual,
        ..Default::default()
    };
    let mut session = Session::new(config).expect("starts");
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut executed = 0;
    for _ in 0..3_000 {
        let line = random_line(&mut rng);
        // Keep the test fast: skip lines that would save files or run for long.
        if line.contains("save") || line.contains("2s") || line.starts_with("quit") {
            continue;
        }
        if session.run_line(&line).is_ok() {
            executed += 1;
        }
    }
    assert!(
        executed > 100,
        "only {executed} lines ran: the vocabulary is off"
    );
    let status = session.run_line("status").expect("the session still works");
    assert!(status.text.contains("node  role"));
}
