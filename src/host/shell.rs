//! The front-ends on a hosted cluster: `raftlab host --interactive` (the REPL's editor on
//! a terminal: history, completion, hints, Ctrl-C; lines without prompt when stdin is
//! piped), `raftlab host --watch` and `watch` at its prompt (the live view). Every line
//! is the project's command language, run by [`HostSession`].
//!
//! The hosted cluster runs only while the host's loop turns, so the loop never waits on
//! the user: the terminal's editor reads lines on a thread of its own and hands each one
//! over, and the loop runs it between two turns. At the terminal, Ctrl-C at the prompt
//! clears the line and during a command (`run 10s`, a `wait`) stops that command, as in
//! the REPL; piped, Ctrl-C ends the run with its summary.

use std::io::{BufRead, IsTerminal};
use std::sync::{Arc, Mutex};

use colored::Colorize;
use crossbeam_channel::{Receiver, TryRecvError, bounded};
use rustyline::error::ReadlineError;

use super::session::HostSession;
use super::{say, tell};
use crate::repl::command::{Command, parse};
use crate::repl::complete::CompletionContext;
use crate::repl::editor::{self, LivePrompt};
use crate::repl::watch::{WatchOptions, watch_driven};

/// Runs the chosen front-end until `quit`, Ctrl-D, the end of stdin, `q` in the live
/// view, or Ctrl-C. Whether a piped command or expectation failed (as the REPL's exit
/// status says).
pub fn run(session: &mut HostSession, watch: bool) -> bool {
    let terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    if watch {
        if terminal {
            watch_here(session);
        } else {
            tell(format_args!(
                "{} the live view needs a terminal",
                "error:".red().bold()
            ));
        }
        return false;
    }
    match terminal {
        true => {
            interactive(session);
            false
        }
        false => piped(session, lines(std::io::BufReader::new(std::io::stdin()))),
    }
}

/// Reads `input` on a thread of its own, one line at a time.
pub fn lines(input: impl BufRead + Send + 'static) -> Receiver<String> {
    let (tx, rx) = bounded(64);
    std::thread::spawn(move || {
        for line in input.lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Runs the lines of a pipe without prompt or banner, each once every node has answered
/// `init` (or the init timeout passed). Answers go to stdout, errors to stderr. Whether
/// any command or expectation failed.
pub fn piped(session: &mut HostSession, lines: Receiver<String>) -> bool {
    let mut failed = false;
    loop {
        if !turn(session) {
            return failed;
        }
        if !session.host.begun() {
            continue;
        }
        match lines.try_recv() {
            Ok(line) => {
                let ran = run_printed(session, &line);
                failed |= ran.failed;
                if ran.quit {
                    return failed;
                }
            }
            Err(TryRecvError::Empty) => {}
            Err(TryRecvError::Disconnected) => return failed,
        }
    }
}

/// How a line went.
struct Ran {
    quit: bool,
    failed: bool,
}

/// One turn of the host's loop; false once the run is over (Ctrl-C, every child gone).
fn turn(session: &mut HostSession) -> bool {
    let host = &mut session.host;
    let limit_us = host.now_us() + 20_000;
    !host.interrupted() && host.turn(limit_us)
}

/// Runs one line and prints its answer.
fn run_printed(session: &mut HostSession, line: &str) -> Ran {
    match session.run_line(line) {
        Ok(outcome) => {
            let text = outcome.text.trim_end_matches('\n');
            match (text.is_empty(), outcome.passed) {
                (true, _) => {}
                (false, true) => say(format_args!("{text}\n")),
                (false, false) => say(format_args!("{}\n", text.red())),
            }
            Ran {
                quit: outcome.quit,
                failed: !outcome.passed,
            }
        }
        Err(error) => {
            tell(format_args!("{} {error}", "error:".red().bold()));
            Ran {
                quit: false,
                failed: true,
            }
        }
    }
}

/// A line the editor read, or the end (Ctrl-D, or the terminal gone).
enum Typed {
    Line(String),
    End,
}

/// The REPL's editor on a hosted cluster. The editor runs on a thread of its own: the
/// loop hands it each prompt and takes back each line.
fn interactive(session: &mut HostSession) {
    let context = Arc::new(Mutex::new(CompletionContext {
        node_ids: session.node_ids(),
        keys: Vec::new(),
    }));
    let live_prompt = Arc::new(Mutex::new(LivePrompt::default()));
    let mut editor = match editor::editor(context.clone(), live_prompt) {
        Ok(editor) => editor,
        Err(error) => {
            tell(format_args!(
                "{} cannot open the terminal: {error}",
                "error:".red().bold()
            ));
            return;
        }
    };
    say(format_args!(
        "raftlab host: {} nodes of `{}`. Type `help`, Tab to complete, Ctrl-D to leave.\n",
        session.host.slots.len(),
        session.host.args.command.join(" ")
    ));
    let (prompts, prompt_rx) = bounded::<String>(1);
    let (typed_tx, typed) = bounded::<Typed>(1);
    std::thread::spawn(move || {
        for prompt in prompt_rx {
            let line = loop {
                match editor.readline(&prompt) {
                    Ok(line) => break Typed::Line(line),
                    Err(ReadlineError::Interrupted) => continue,
                    Err(_) => break Typed::End,
                }
            };
            if let Typed::Line(line) = &line {
                let _ = editor.add_history_entry(line.as_str());
                editor::save_history(&mut editor);
            }
            if typed_tx.send(line).is_err() {
                return;
            }
        }
    });
    let _ = prompts.send(prompt(session));
    'lines: loop {
        if !turn(session) {
            break;
        }
        if !session.host.begun() {
            continue;
        }
        let line = match typed.try_recv() {
            Ok(Typed::Line(line)) => line,
            Ok(Typed::End) | Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) => continue,
        };
        // A line may hold several (a paste the terminal sent as one): each runs in order.
        for part in line.split(['\n', '\r']) {
            if let Ok(Some(Command::Watch)) = parse(part) {
                watch_here(session);
            } else if run_printed(session, part).quit {
                break 'lines;
            }
            // Ctrl-C stopped that command, not the run: the prompt comes back.
            session.host.clear_interrupt();
        }
        if let Ok(mut context) = context.lock() {
            context.keys = session.keys();
        }
        let _ = prompts.send(prompt(session));
    }
}

/// The prompt: the node that says it leads, and whether messages are held.
fn prompt(session: &HostSession) -> String {
    let host = &session.host;
    let leader = host
        .reported_leader()
        .map_or("none".to_string(), |n| host.slots[n].name.clone());
    let held = if host.held { " held" } else { "" };
    format!("raftlab host [leader={leader}{held}]> ")
}

/// The live view of the hosted cluster, until `q`.
fn watch_here(session: &mut HostSession) {
    let options = WatchOptions {
        color: colored::control::SHOULD_COLORIZE.should_colorize(),
        lesson_speed: 1.0,
    };
    session.host.quiet = true;
    let result = watch_driven(session, options);
    session.host.quiet = false;
    if let Err(error) = result {
        tell(format_args!("{} {error}", "error:".red().bold()));
    }
}
