//! The REPL loops: interactive on a terminal, line by line when stdin is piped.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use colored::Colorize;
use crossbeam_channel::Receiver;
use rustyline::ExternalPrinter;
use rustyline::error::ReadlineError;

use crate::cluster::{ClockMode, ClusterEvent, ClusterView, EventKind, ViewLimits};
use crate::raft::{NodeId, RaftEvent, Role, Term};

use super::complete::CompletionContext;
use super::editor::{self, LivePrompt};
use crate::repl::command::{Command, TraceLevel, parse};
use crate::repl::session::Session;
use crate::repl::view;

pub use crate::repl::view::shown_at;

/// The live printer's level while the live view has the screen: it prints nothing.
const MUTED: u8 = u8::MAX;

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

/// The prompt: the cluster at a glance, as far as it can be kept true while a line is
/// typed. A stopped clock (paused, virtual) does not move under the prompt, which shows its
/// time; a realtime cluster changes under it, so its prompt leaves the time out and is
/// redrawn by the live events as the leader or term changes, and with the trace off
/// (nothing printed, so nothing redrawn) it shows no state at all.
fn prompt_text(status: &ClusterView, trace: TraceLevel) -> String {
    if status.mode == ClockMode::Realtime {
        if trace == TraceLevel::Off {
            return "raftlab> ".to_string();
        }
        return PromptTracker::of(status).text();
    }
    let (leader, term) = PromptTracker::of(status).leader_and_term();
    let t = status.now_us / 1000;
    format!("raftlab [t={t}ms {leader} term={term} paused]> ")
}

/// The leader and term a realtime prompt shows, followed through the live events.
#[derive(Clone, Debug, Default)]
struct PromptTracker {
    /// The nodes that lead, by term.
    leaders: BTreeMap<NodeId, Term>,
    /// The highest term any node has reached.
    term: Term,
}

impl PromptTracker {
    fn of(status: &ClusterView) -> PromptTracker {
        let leaders = status
            .nodes
            .iter()
            .filter(|n| n.role == Some(Role::Leader) && status.leader.is_some())
            .map(|n| (n.id, n.term))
            .collect();
        let term = status.nodes.iter().map(|n| n.term).max().unwrap_or(0);
        PromptTracker { leaders, term }
    }

    /// Follows one event; whether what the prompt shows changed.
    fn follow(&mut self, event: &ClusterEvent) -> bool {
        let before = self.leader_and_term();
        match &event.kind {
            EventKind::Raft { node, event } => match event {
                RaftEvent::BecameLeader { term } => {
                    self.leaders.insert(*node, *term);
                }
                RaftEvent::TermChanged { to, .. } => {
                    self.term = self.term.max(*to);
                    self.leaders.remove(node);
                }
                RaftEvent::BecameFollower { .. }
                | RaftEvent::BecameCandidate { .. }
                | RaftEvent::LostQuorum { .. }
                | RaftEvent::SteppedDown { .. } => {
                    self.leaders.remove(node);
                }
                _ => {}
            },
            EventKind::NodeKilled { node } | EventKind::NodeCrashed { node, .. } => {
                self.leaders.remove(node);
            }
            _ => {}
        }
        self.leader_and_term() != before
    }

    /// `leader=n4` (the leader of the highest term) or `leader=none`, and the term: the
    /// leader's, or with no leader the highest any node has reached (so that it does not
    /// fall back to 0 while an election is under way).
    fn leader_and_term(&self) -> (String, Term) {
        match self.leaders.iter().max_by_key(|&(_, term)| *term) {
            Some((leader, term)) => (format!("leader=n{leader}"), *term),
            None => ("leader=none".to_string(), self.term),
        }
    }

    fn text(&self) -> String {
        let (leader, term) = self.leader_and_term();
        format!("raftlab [{leader} term={term}]> ")
    }
}

/// The interactive REPL. Returns the exit status.
///
/// Ctrl-C at the prompt clears the line; while a command runs it interrupts the command
/// (a wait, a run, a client command, `step N`), which says so, and the prompt comes back.
/// A second Ctrl-C before the first is seen (a command that cannot stop) ends raftlab.
/// Ctrl-D or `quit` leave.
pub fn interactive(mut session: Session) -> i32 {
    let nodes = (1..=session.config().nodes).collect();
    let context = Arc::new(Mutex::new(CompletionContext {
        node_ids: nodes,
        keys: Vec::new(),
    }));
    let live_prompt = Arc::new(Mutex::new(LivePrompt::default()));
    let mut editor = match editor::editor(context.clone(), live_prompt.clone()) {
        Ok(editor) => editor,
        Err(error) => {
            eprintln!("error: cannot open the terminal: {error}");
            return 2;
        }
    };
    let interrupt = session.interrupt_flag();
    if let Err(error) = catch_interrupts(&interrupt) {
        eprintln!("error: cannot catch Ctrl-C: {error}");
        return 2;
    }
    session.set_live_events(true);
    session.report_progress(true);
    let level = Arc::new(AtomicU8::new(level_code(session.trace())));
    let tracker = Arc::new(Mutex::new(None));
    if let (Ok(events), Ok(printer)) = (
        session.cluster().subscribe(),
        editor.create_external_printer(),
    ) {
        let live = LivePrinter {
            level: level.clone(),
            tracker: tracker.clone(),
            prompt: live_prompt.clone(),
        };
        spawn_live_printer(events, printer, live);
    }
    println!(
        "raftlab {}: {} nodes, seed {}. Type `help`, Tab to complete, Ctrl-D to leave.",
        env!("CARGO_PKG_VERSION"),
        session.config().nodes,
        session.config().seed
    );
    'lines: loop {
        let prompt = prepare_prompt(&session, &live_prompt, &tracker);
        let line = match editor.readline(&prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(_) => break,
        };
        let _ = editor.add_history_entry(line.as_str());
        // A line may hold several (a paste the terminal sent as one): each runs in order.
        for part in line.split(['\n', '\r']) {
            interrupt.store(false, Ordering::Relaxed);
            if let Ok(Some(Command::Watch)) = parse(part) {
                // The view owns the screen: nothing is printed under it, not even a
                // violation (the view names those itself).
                level.store(MUTED, Ordering::Relaxed);
                watch_here(&mut session);
                level.store(level_code(session.trace()), Ordering::Relaxed);
                continue;
            }
            let quit = run_interactive(&mut session, part);
            interrupt.store(false, Ordering::Relaxed);
            level.store(level_code(session.trace()), Ordering::Relaxed);
            if quit {
                break 'lines;
            }
        }
        if let Ok(mut context) = context.lock() {
            context.keys = session.keys();
            context.node_ids = session.cluster().hosted().unwrap_or_default();
        }
    }
    editor::save_history(&mut editor);
    0
}

/// Ctrl-C sets `interrupt`; a second one while it is still set ends the process with the
/// conventional status of an interrupt (130).
fn catch_interrupts(interrupt: &Arc<AtomicBool>) -> std::io::Result<()> {
    use signal_hook::consts::SIGINT;
    signal_hook::flag::register_conditional_shutdown(SIGINT, 130, interrupt.clone())?;
    signal_hook::flag::register(SIGINT, interrupt.clone())?;
    Ok(())
}

/// Runs one line at the terminal and prints its outcome; whether it was `quit`.
fn run_interactive(session: &mut Session, line: &str) -> bool {
    match session.run_line(line) {
        Ok(outcome) => {
            print_text(&outcome.text, outcome.passed);
            outcome.quit
        }
        Err(error) => {
            eprintln!("{} {error}", "error:".red().bold());
            false
        }
    }
}

/// The prompt for the next line, and what the live events may redraw it as.
fn prepare_prompt(
    session: &Session,
    live_prompt: &Mutex<LivePrompt>,
    tracker: &Mutex<Option<PromptTracker>>,
) -> String {
    let Ok(status) = session.cluster().status() else {
        return "raftlab> ".to_string();
    };
    let prompt = prompt_text(&status, session.trace());
    let follows = status.mode == ClockMode::Realtime && session.trace() != TraceLevel::Off;
    if let Ok(mut tracker) = tracker.lock() {
        *tracker = follows.then(|| PromptTracker::of(&status));
    }
    if let Ok(mut live) = live_prompt.lock() {
        *live = LivePrompt {
            width: prompt.chars().count(),
            newer: None,
        };
    }
    prompt
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

/// What the live printer shares with the prompt: the trace level, and the prompt it
/// keeps up to date.
struct LivePrinter {
    level: Arc<AtomicU8>,
    tracker: Arc<Mutex<Option<PromptTracker>>>,
    prompt: Arc<Mutex<LivePrompt>>,
}

impl LivePrinter {
    /// Follows an event into the prompt: printing the event redraws it.
    fn follow(&self, event: &ClusterEvent) {
        let Ok(mut tracker) = self.tracker.lock() else {
            return;
        };
        let Some(tracker) = tracker.as_mut() else {
            return;
        };
        if tracker.follow(event)
            && let Ok(mut prompt) = self.prompt.lock()
        {
            prompt.newer = Some(tracker.text());
        }
    }
}

/// Prints live events above the prompt without breaking the line being typed.
fn spawn_live_printer<P: ExternalPrinter + Send + 'static>(
    events: Receiver<ClusterEvent>,
    mut printer: P,
    live: LivePrinter,
) {
    let _ = thread::Builder::new()
        .name("live-events".to_string())
        .spawn(move || {
            for event in events {
                live.follow(&event);
                let code = live.level.load(Ordering::Relaxed);
                if code != MUTED
                    && shown_at(code_level(code), &event)
                    && printer.print(view::event(&event) + "\n").is_err()
                {
                    return;
                }
            }
        });
}

/// One line of piped input, as [`BufRead::lines`] cuts it: the text up to `\n` (or the
/// end), without the `\n` or a `\r` before it, as bytes: it may not be text. `None` at the
/// end of the input.
fn next_line<'b>(
    input: &mut impl BufRead,
    bytes: &'b mut Vec<u8>,
) -> std::io::Result<Option<&'b [u8]>> {
    bytes.clear();
    if input.read_until(b'\n', bytes)? == 0 {
        return Ok(None);
    }
    let line = match bytes.strip_suffix(b"\n") {
        Some(line) => line.strip_suffix(b"\r").unwrap_or(line),
        None => bytes,
    };
    Ok(Some(line))
}

/// Runs commands from a pipe, one a line, without prompt or banner. Errors go to
/// stderr. A line that is not UTF-8 text is an error for that line only: the lines after
/// it still run. Returns 1 if any line or command or expectation failed, the input could
/// not be read to its end, a node crashed (its line is printed when it happens, whatever
/// the trace level), or a safety violation was not expected (see
/// [`Session::violations_unexpected`]), else 0.
pub fn piped(mut session: Session, mut input: impl BufRead) -> i32 {
    session.report_progress(false);
    let events = session.cluster().subscribe().ok();
    let mut failed = false;
    let mut crashed = BTreeSet::new();
    let stdout = std::io::stdout();
    let mut bytes = Vec::new();
    for number in 1.. {
        let line = match next_line(&mut input, &mut bytes) {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(error) => {
                failed = true;
                eprintln!("error: cannot read line {number} of the input: {error}");
                break;
            }
        };
        let Ok(line) = std::str::from_utf8(line) else {
            failed = true;
            eprintln!("error: line {number} is not valid UTF-8");
            continue;
        };
        let result = session.run_line(line);
        let mut out = stdout.lock();
        // A command that reports its events (`step`) shows them all, in time order.
        let reported = parse(line)
            .ok()
            .flatten()
            .is_some_and(|c| c.reports_events());
        for event in events.iter().flat_map(|events| events.try_iter()) {
            if let EventKind::NodeCrashed { node, .. } = event.kind {
                crashed.insert(node);
            }
            if !reported && shown_at(session.trace(), &event) {
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
    // A node still crashed counts too, though its crash came before the first line.
    let still_crashed = session
        .cluster()
        .view(ViewLimits::least())
        .map(|v| v.crashes);
    crashed.extend(
        still_crashed
            .unwrap_or_default()
            .into_iter()
            .map(|(node, _)| node),
    );
    if !crashed.is_empty() {
        failed = true;
        let nodes: Vec<String> = crashed.iter().map(|node| format!("n{node}")).collect();
        eprintln!(
            "error: a node crashed during the session ({}): see the `crashed` lines",
            nodes.join(", ")
        );
    }
    i32::from(failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{ClockMode, Cluster, ClusterConfig};

    #[test]
    fn a_piped_session_in_which_a_node_crashes_fails() {
        let config = ClusterConfig {
            nodes: 3,
            clock: ClockMode::Virtual,
            ..ClusterConfig::default()
        };
        let run = |crash: bool| {
            let session = Session::new(config.clone()).expect("starts");
            if crash {
                session
                    .cluster()
                    .inject_panic(2, "boom".into())
                    .expect("n2 is up");
            }
            piped(session, "run 100ms\nstatus\n".as_bytes())
        };
        assert_eq!(run(false), 0);
        assert_eq!(run(true), 1);
    }

    #[test]
    fn a_crash_is_shown_at_every_trace_level() {
        let crash = ClusterEvent {
            time_us: 5,
            kind: EventKind::NodeCrashed {
                node: 2,
                crash: crate::cluster::event::Crash::Panicked {
                    message: "boom".into(),
                },
            },
        };
        for level in [TraceLevel::Off, TraceLevel::Changes, TraceLevel::Messages] {
            assert!(shown_at(level, &crash), "{level:?}");
        }
    }

    #[test]
    fn the_prompt_keeps_the_term_while_there_is_no_leader() {
        let config = ClusterConfig {
            nodes: 3,
            clock: ClockMode::Virtual,
            ..ClusterConfig::default()
        };
        let cluster = Cluster::start(config).expect("starts");
        let elected = cluster.wait_until(
            2_000_000,
            crate::cluster::ViewLimits::least(),
            std::sync::Arc::new(|view| view.leader.is_some()),
        );
        assert!(elected.expect("runs"));
        let status = cluster.status().expect("a status");
        let leader = status.leader.expect("a leader");
        let term = status.nodes.iter().map(|n| n.term).max().expect("nodes");
        let prompt = prompt_text(&status, TraceLevel::Changes);
        assert!(
            prompt.contains(&format!("leader=n{leader} term={term}")),
            "{prompt}"
        );
        cluster.kill(leader).expect("kills");
        let prompt = prompt_text(&cluster.status().expect("a status"), TraceLevel::Changes);
        assert!(
            prompt.contains(&format!("leader=none term={term}")),
            "{prompt}"
        );
    }
}
