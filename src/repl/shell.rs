//! The REPL loops: interactive on a terminal, line by line when stdin is piped.

use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use colored::Colorize;
use crossbeam_channel::Receiver;
use rustyline::ExternalPrinter;
use rustyline::error::ReadlineError;

use crate::cluster::{ClusterEvent, EventKind};
use crate::raft::RaftEvent;

use super::command::{Command, TraceLevel};
use super::complete::CompletionContext;
use super::editor;
use super::session::Session;
use super::view;

/// Whether an event is shown at a trace level. A safety violation is shown at every
/// level, `off` included: it is never silent.
pub fn shown_at(level: TraceLevel, event: &ClusterEvent) -> bool {
    if matches!(event.kind, EventKind::Violation(_)) {
        return true;
    }
    match level {
        TraceLevel::Off => false,
        TraceLevel::Messages => true,
        TraceLevel::Changes => match &event.kind {
            EventKind::Raft { event, .. } => !matches!(
                event,
                RaftEvent::Voted { .. }
                    | RaftEvent::LeaderKnown { .. }
                    | RaftEvent::BecameFollower { .. }
            ),
            kind => kind.is_change(),
        },
    }
}

fn level_code(level: TraceLevel) -> u8 {
    match level {
        TraceLevel::Off => 0,
        TraceLevel::Changes => 1,
        TraceLevel::Messages => 2,
    }
}

fn code_level(code: u8) -> TraceLevel {
    match code {
        0 => TraceLevel::Off,
        1 => TraceLevel::Changes,
        _ => TraceLevel::Messages,
    }
}

/// The prompt: the cluster at a glance.
fn prompt(session: &Session) -> String {
    match session.cluster().status() {
        Ok(status) => prompt_text(&status),
        Err(_) => "raftlab> ".to_string(),
    }
}

/// The prompt for a cluster in `status`: the time, the leader, and the term (the leader's,
/// or with no leader the highest any node has reached, so that it does not fall back to 0
/// while an election is under way).
fn prompt_text(status: &crate::cluster::ClusterStatus) -> String {
    let leader = status.leader;
    let term = leader
        .and_then(|l| status.nodes.iter().find(|n| n.id == l))
        .or_else(|| status.nodes.iter().max_by_key(|n| n.term))
        .map_or(0, |n| n.term);
    let leader = leader.map_or("none".to_string(), |l| format!("n{l}"));
    let clock = if status.mode == crate::cluster::ClockMode::Realtime {
        ""
    } else {
        " paused"
    };
    let t = status.now_us / 1000;
    format!("raftlab [t={t}ms leader={leader} term={term}{clock}]> ")
}

/// The interactive REPL. Returns the exit status.
pub fn interactive(mut session: Session) -> i32 {
    let nodes = (1..=session.config().nodes).collect();
    let context = Arc::new(Mutex::new(CompletionContext {
        node_ids: nodes,
        keys: Vec::new(),
    }));
    let mut editor = match editor::editor(context.clone()) {
        Ok(editor) => editor,
        Err(error) => {
            eprintln!("error: cannot open the terminal: {error}");
            return 2;
        }
    };
    let level = Arc::new(AtomicU8::new(level_code(session.trace())));
    if let (Ok(events), Ok(printer)) = (
        session.cluster().subscribe(),
        editor.create_external_printer(),
    ) {
        spawn_live_printer(events, printer, level.clone());
    }
    println!(
        "raftlab {}: {} nodes, seed {}. Type `help`, Tab to complete, Ctrl-D to leave.",
        env!("CARGO_PKG_VERSION"),
        session.config().nodes,
        session.config().seed
    );
    loop {
        let line = match editor.readline(&prompt(&session)) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(_) => break,
        };
        let _ = editor.add_history_entry(line.as_str());
        if let Ok(Some(Command::Watch)) = super::parse::parse(&line) {
            level.store(level_code(TraceLevel::Off), Ordering::Relaxed);
            watch_here(&mut session);
            level.store(level_code(session.trace()), Ordering::Relaxed);
            continue;
        }
        match session.run_line(&line) {
            Ok(outcome) => {
                print_text(&outcome.text, outcome.passed);
                if outcome.quit {
                    break;
                }
            }
            Err(error) => eprintln!("{} {error}", "error:".red().bold()),
        }
        level.store(level_code(session.trace()), Ordering::Relaxed);
        if let Ok(mut context) = context.lock() {
            context.keys = session.keys();
        }
    }
    editor::save_history(&mut editor);
    0
}

/// `watch` at the REPL: the live view of the session's cluster, until `q`.
fn watch_here(session: &mut Session) {
    let options = super::watch::WatchOptions {
        color: colored::control::SHOULD_COLORIZE.should_colorize(),
        lesson_speed: 1.0,
    };
    if let Err(error) = super::watch::watch(session, None, options) {
        eprintln!("{} {error}", "error:".red().bold());
    }
}

fn print_text(text: &str, passed: bool) {
    if text.is_empty() {
        return;
    }
    let text = text.trim_end_matches('\n');
    if passed {
        println!("{text}")
    } else {
        println!("{}", text.red())
    }
}

/// Prints live events above the prompt without breaking the line being typed.
fn spawn_live_printer<P: ExternalPrinter + Send + 'static>(
    events: Receiver<ClusterEvent>,
    mut printer: P,
    level: Arc<AtomicU8>,
) {
    let _ = thread::Builder::new()
        .name("live-events".to_string())
        .spawn(move || {
            for event in events {
                if shown_at(code_level(level.load(Ordering::Relaxed)), &event)
                    && printer.print(view::event(&event) + "\n").is_err()
                {
                    return;
                }
            }
        });
}

/// Runs commands from a pipe, one a line, without prompt or banner. Errors go to
/// stderr. Returns 1 if any command or expectation failed, or a safety violation was not
/// expected (see [`Session::violations_unexpected`]), else 0.
pub fn piped(mut session: Session, input: impl BufRead) -> i32 {
    let events = session.cluster().subscribe().ok();
    let mut failed = false;
    let stdout = std::io::stdout();
    for line in input.lines() {
        let Ok(line) = line else { break };
        let result = session.run_line(&line);
        let mut out = stdout.lock();
        if let Some(events) = &events {
            for event in events.try_iter().filter(|e| shown_at(session.trace(), e)) {
                let _ = writeln!(out, "{}", view::event(&event));
            }
        }
        match result {
            Ok(outcome) => {
                if !outcome.text.is_empty() {
                    let _ = writeln!(out, "{}", outcome.text.trim_end_matches('\n'));
                }
                failed |= !outcome.passed;
                if outcome.quit {
                    break;
                }
            }
            Err(error) => {
                failed = true;
                eprintln!("error: {error}");
            }
        }
    }
    if let Ok(unexpected @ 1..) = session.violations_unexpected() {
        failed = true;
        eprintln!("error: {unexpected} safety violation(s) that no `expect violation` expected");
    }
    i32::from(failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{ClockMode, Cluster, ClusterConfig};

    #[test]
    fn the_prompt_keeps_the_term_while_there_is_no_leader() {
        let config = ClusterConfig {
            nodes: 3,
            clock: ClockMode::Virtual,
            ..ClusterConfig::default()
        };
        let cluster = Cluster::start(config).expect("starts");
        let elected =
            cluster.wait_until(2_000_000, std::sync::Arc::new(|sim| sim.leader().is_some()));
        assert!(elected.expect("runs"));
        let status = cluster.status().expect("a status");
        let leader = status.leader.expect("a leader");
        let term = status.nodes.iter().map(|n| n.term).max().expect("nodes");
        let prompt = prompt_text(&status);
        assert!(
            prompt.contains(&format!("leader=n{leader} term={term}")),
            "{prompt}"
        );
        cluster.kill(leader).expect("kills");
        let prompt = prompt_text(&cluster.status().expect("a status"));
        assert!(
            prompt.contains(&format!("leader=none term={term}")),
            "{prompt}"
        );
    }
}
