//! A run or a wait that reaches the bound on hand-offs one command may take: time moved on,
//! so it is not an `error:` (which changes nothing) but a failure that says where it
//! stopped, in the words of the command.

use crate::cluster::{ClockMode, ClusterConfig, HANDOFFS_PER_RUN_LIMIT, Hosting};
use crate::repl::session::Session;

/// One node, inline: a million hand-offs (its heartbeats) come quickly.
fn session() -> Session {
    let config = ClusterConfig {
        nodes: 1,
        seed: 3,
        clock: ClockMode::Virtual,
        hosting: Hosting::Inline,
        ..ClusterConfig::default()
    };
    Session::new(config).expect("session starts")
}

fn now_us(session: &Session) -> u64 {
    session.cluster().now_us().expect("a clock")
}

#[test]
fn a_run_stopped_by_the_bound_says_where_time_got_to() {
    let mut session = session();
    let outcome = session
        .run_line("run 18446744073709551615us")
        .expect("not an error: the clock moved");
    assert!(!outcome.passed, "{}", outcome.text);
    let stopped_at = now_us(&session);
    assert!(stopped_at > 0);
    assert_eq!(
        outcome.text,
        format!(
            "run: stopped at t={} after {HANDOFFS_PER_RUN_LIMIT} hand-offs, the most one \
             command runs; type `run` again to go on",
            crate::repl::words::fmt_ms(stopped_at)
        )
    );
}

#[test]
fn a_wait_stopped_by_the_bound_says_its_condition_was_not_met() {
    let mut session = session();
    let outcome = session
        .run_line("wait until term all >= 5 within 100000000s")
        .expect("not an error: the clock moved");
    assert!(!outcome.passed, "{}", outcome.text);
    assert_eq!(
        outcome.text,
        format!(
            "wait until: not met by t={}, where it stopped after {HANDOFFS_PER_RUN_LIMIT} \
             hand-offs, the most one command runs (n1: term 1)",
            crate::repl::words::fmt_ms(now_us(&session))
        )
    );
}
