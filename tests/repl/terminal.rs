//! The REPL in a pseudo-terminal, as a person uses it: rustyline reading keys while the
//! live events of a realtime cluster are printed above the prompt.

use std::process::Command;
use std::time::Duration;

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
