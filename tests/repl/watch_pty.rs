//! `raftlab watch` in a pseudo-terminal, as a person uses it: keys in, the screen read
//! back after each, and the terminal given back on `q`.

use std::process::Command;
use std::time::Duration;

use expectrl::{Expect, Session};

#[test]
fn watch_takes_keys_and_gives_the_terminal_back() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_raftlab"));
    command
        .args(["watch", "--clock", "paused", "--nodes", "3", "--seed", "2"])
        .env("NO_COLOR", "1")
        .env("TERM", "xterm");
    let mut session = Session::spawn(command).expect("the view starts in a terminal");
    session
        .get_process_mut()
        .set_window_size(120, 40)
        .expect("a 120x40 terminal");
    // A bound on each wait, not a timing assertion.
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    // The alternate screen is entered, and the paused cluster is drawn.
    session.expect("\x1b[?1049h").expect("the alternate screen");
    session
        .expect("paused")
        .expect("the status line says paused");
    session.send(" ").expect("space");
    session.expect("running").expect("space resumes the clock");
    session.send(".").expect("a step");
    session.expect("paused").expect("a step pauses first");
    session.send("1").expect("select n1");
    session.expect("▶n1 follower").expect("n1 is selected");
    session.send("k").expect("kill");
    session.expect("DOWN").expect("n1 is drawn down");
    session.send(":status\r").expect("a command line");
    session
        .expect("clock=paused")
        .expect("status answers in the story pane");
    session.send("q").expect("q");
    session
        .expect("\x1b[?1049l")
        .expect("the main screen is back");
    let status = session.get_process_mut().wait().expect("the view ends");
    let status = format!("{status:?}");
    assert!(
        status.starts_with("Exited(") && status.ends_with(", 0)"),
        "{status}"
    );
}

/// `watch` at the REPL shows the session's cluster and `q` comes back to the prompt with
/// the same cluster (its time did not move: a virtual clock).
#[test]
fn watch_at_the_repl_comes_back_to_the_same_cluster() {
    let history = std::env::temp_dir().join(format!("raftlab-watch-pty-{}", std::process::id()));
    let mut command = Command::new(env!("CARGO_BIN_EXE_raftlab"));
    command
        .args(["--clock", "virtual", "--nodes", "3", "--seed", "4"])
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env("XDG_DATA_HOME", &history);
    let mut session = Session::spawn(command).expect("the REPL starts in a terminal");
    session
        .get_process_mut()
        .set_window_size(120, 40)
        .expect("a 120x40 terminal");
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    session.send("wait leader\r").expect("a line");
    session.expect("held at t=").expect("a leader");
    session.expect("]> ").expect("the prompt");
    session.send("watch\r").expect("watch");
    session.expect("\x1b[?1049h").expect("the alternate screen");
    session
        .expect("LEADER")
        .expect("the cluster is drawn with its leader");
    session.send("q").expect("q");
    session
        .expect("\x1b[?1049l")
        .expect("the main screen is back");
    session.send("status\r").expect("status");
    session
        .expect("clock=virtual")
        .expect("the same session answers");
    session.send("quit\r").expect("quit");
    let _ = std::fs::remove_dir_all(&history);
}
