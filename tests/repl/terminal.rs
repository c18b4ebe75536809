//! The REPL in a pseudo-terminal, as a person uses it: rustyline reading keys while the
//! live events of a realtime cluster are printed above the prompt.

use std::process::Command;
use std::time::Duration;

use expectrl::session::OsSession;
use expectrl::{Expect, Session};

/// rustyline 17 drew the first character of a burst of input that arrived after the
/// external printer had printed, and lost the rest until another key came: a pasted or
/// quickly typed `status` showed `s` and did not run.
#[test]
fn a_line_typed_in_one_burst_after_live_events_runs() {
    let history = std::env::temp_dir().join(format!("raftlab-pty-{}", std::process::id()));
    let mut command = Command::new(env!("CARGO_BIN_EXE_raftlab"));
    command
        .args(["--seed", "4", "--nodes", "3"])
        .env("NO_COLOR", "1")
        .env("XDG_DATA_HOME", &history);
    let mut session = Session::spawn(command).expect("the REPL starts in a terminal");
    // A bound on each wait, not a timing assertion: the election takes about 0.2s.
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    session
        .expect("LEADER in term")
        .expect("the election is printed live");
    session.send("status\r").expect("the line is typed");
    session.expect("clock=realtime").expect("status runs");
    session.send("quit\r").expect("quit is typed");
    let _ = std::fs::remove_dir_all(&history);
}

/// A REPL on a realtime cluster in a pseudo-terminal, with its own history folder.
fn repl(args: &[&str]) -> (OsSession, std::path::PathBuf) {
    let history = std::env::temp_dir().join(format!(
        "raftlab-pty-{}-{}",
        std::process::id(),
        args.join("-")
    ));
    let mut command = Command::new(env!("CARGO_BIN_EXE_raftlab"));
    command
        .args(args)
        .env("NO_COLOR", "1")
        .env("XDG_DATA_HOME", &history);
    let mut session = Session::spawn(command).expect("the REPL starts in a terminal");
    // A bound on each wait, not a timing assertion.
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    (session, history)
}

/// `quit` leaves with status 0.
fn quit(mut session: OsSession, history: std::path::PathBuf) {
    session.send("quit\r").expect("quit is typed");
    session.expect(expectrl::Eof).expect("the REPL ends");
    let status = session.get_process().wait().expect("the status");
    let exited = format!("{status:?}");
    assert!(
        exited.starts_with("Exited(") && exited.ends_with(", 0)"),
        "{exited}"
    );
    let _ = std::fs::remove_dir_all(&history);
}

/// Ctrl-C while a command runs stopped the whole REPL (status 130): it must stop the
/// command only, say so, and give the prompt back.
#[test]
fn ctrl_c_interrupts_a_long_wait_and_the_repl_goes_on() {
    let (mut session, history) = repl(&["--seed", "4", "--nodes", "3"]);
    session.expect("LEADER in term").expect("the election");
    session
        .send("wait until term leader >= 50 within 60s\r")
        .expect("the wait is typed");
    session.expect("within 60s").expect("the line is echoed");
    // The key may reach the terminal while the editor still holds it in raw mode (then
    // it is only a key); each try is bounded, and a few cover that window.
    let mut interrupted = false;
    for _ in 0..5 {
        session.send("\x03").expect("Ctrl-C");
        session.set_expect_timeout(Some(Duration::from_secs(3)));
        if session.expect("interrupted: `wait` stopped at t=").is_ok() {
            interrupted = true;
            break;
        }
    }
    assert!(interrupted, "the wait was interrupted");
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    session
        .expect("leads, term")
        .expect("the state after the interrupt");
    session.send("status\r").expect("status is typed");
    session
        .expect("clock=realtime")
        .expect("the REPL still runs commands");
    quit(session, history);
}

/// Three lines pasted at once ran only the first: the rest of the reader's buffer was lost
/// between two lines. Lines typed ahead while a command runs were lost the same way.
#[test]
fn pasted_and_typed_ahead_lines_all_run_in_order() {
    let (mut session, history) = repl(&["--seed", "4", "--nodes", "3"]);
    session.expect("LEADER in term").expect("the election");
    session.send("kv\rnet\rmsgs\r").expect("three lines pasted");
    session.expect("n1: (empty)").expect("kv runs");
    session.expect("from\\to").expect("net runs");
    session
        .expect(expectrl::Regex("no messages in flight|link +message"))
        .expect("msgs runs");
    session
        .send("wait until term leader >= 50 within 1s\r")
        .expect("a command that takes a second");
    session.send("log\r").expect("a line typed ahead");
    session
        .expect("wait until: not within 1s")
        .expect("the wait ends");
    session
        .expect("= commit point")
        .expect("the line typed ahead runs");
    quit(session, history);
}

/// The prompt said `leader=none term=0` long after the election was printed above it: it
/// must be redrawn as the leader and term change.
#[test]
fn the_prompt_follows_the_election_as_it_is_printed() {
    let (mut session, history) = repl(&["--seed", "4", "--nodes", "3", "--speed", "0.5"]);
    session.expect("LEADER in term 1").expect("the election");
    session
        .expect(expectrl::Regex(r"raftlab \[leader=n\d term=1\]> "))
        .expect("the prompt is redrawn with the new leader");
    quit(session, history);
}
