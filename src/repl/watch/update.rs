//! The live view's messages and its `update`: what a key, a click or a tick changes.
//!
//! `update` changes only the model. What must happen to the cluster comes back as
//! [`Effect`]s, most of them a REPL command line (`k` on node 2 is `kill 2`), which the
//! front-end runs through the session, so that a key does exactly what the command does,
//! with the same errors.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::repl::complete::{CompletionContext, complete};

use super::draw::layout;
use super::model::{Answer, Model};

/// Something that happened to the view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Msg {
    Key(KeyEvent),
    /// A left click at (column, row).
    Click(u16, u16),
    Resize(u16, u16),
    /// Time passed (about a frame).
    Tick,
}

/// What the front-end must do for an update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Run a REPL command line through the session.
    Run(String),
    /// Play the lesson's next step.
    LessonNext,
    /// Go back one step of the lesson.
    LessonBack,
    /// Write `put wN N` through the leader: sent and left to finish as time runs (a
    /// running clock does not wait for it, so the view never freezes on a write).
    Write(u64),
}

/// Changes the model for `msg`, and says what the cluster must do.
pub fn update(model: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Resize(width, height) => {
            model.size = (width, height);
            Vec::new()
        }
        Msg::Click(column, row) => {
            model.selected = layout::node_at(model, column, row).or(model.selected);
            Vec::new()
        }
        Msg::Tick => Vec::new(),
        Msg::Key(key) if model.input.is_some() => command_line_key(model, key),
        Msg::Key(key) => key_pressed(model, key),
    }
}

fn key_pressed(model: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('d')) {
        model.quit = true;
        return Vec::new();
    }
    if model.help {
        model.help = false;
        return Vec::new();
    }
    if let Some(lesson) = &model.lesson
        && lesson.held
        && !matches!(
            key.code,
            KeyCode::Char('q') | KeyCode::Esc | KeyCode::Left | KeyCode::Char(':' | '?')
        )
    {
        return vec![Effect::LessonNext];
    }
    match key.code {
        KeyCode::Char('q') | KeyCode::Esc => model.quit = true,
        KeyCode::Char('?') => model.help = true,
        KeyCode::Char(':') => model.input = Some(String::new()),
        KeyCode::Tab => model.pane = model.pane.next(),
        KeyCode::Char(digit @ '1'..='9') => select(model, u64::from(digit as u8 - b'0')),
        KeyCode::Char(' ') => return space(model),
        KeyCode::Right | KeyCode::Char('.') => return step(model),
        KeyCode::Left => return back(model),
        KeyCode::Char('+') => return speed(model, 2.0),
        KeyCode::Char('-') => return speed(model, 0.5),
        KeyCode::Char('h') => return vec![run("heal")],
        KeyCode::Char('w') => {
            model.writes += 1;
            return vec![Effect::Write(model.writes)];
        }
        KeyCode::Char(c @ ('k' | 'r' | 'c' | 'i' | 't')) => return on_selected(model, c),
        _ => {}
    }
    Vec::new()
}

/// Space: pause or resume the clock; in a lesson, stop or go on playing its steps.
fn space(model: &mut Model) -> Vec<Effect> {
    if let Some(lesson) = model.lesson.as_mut() {
        lesson.auto = !lesson.auto;
        return Vec::new();
    }
    vec![run(if model.running() { "pause" } else { "resume" })]
}

fn run(line: &str) -> Effect {
    Effect::Run(line.to_string())
}

fn select(model: &mut Model, node: u64) {
    if model.cluster.node(node).is_some() {
        model.selected = Some(node);
    } else {
        model.answer = Some(Answer {
            line: format!("select {node}"),
            text: format!("there is no node {node}"),
            passed: false,
        });
    }
}

/// One step: a lesson's next step, or one hand-off (pausing a running clock first).
fn step(model: &Model) -> Vec<Effect> {
    match (&model.lesson, model.running()) {
        (Some(_), _) => vec![Effect::LessonNext],
        (None, true) => vec![run("pause"), run("step")],
        (None, false) => vec![run("step")],
    }
}

/// Back one step: a lesson's step, or the session's last command (pausing first).
fn back(model: &Model) -> Vec<Effect> {
    match (&model.lesson, model.running()) {
        (Some(_), _) => vec![Effect::LessonBack],
        (None, true) => vec![run("pause"), run("back 1")],
        (None, false) => vec![run("back 1")],
    }
}

/// Speed times `factor`, kept between a thousandth and a thousand.
fn speed(model: &Model, factor: f64) -> Vec<Effect> {
    let speed = (model.cluster.speed * factor).clamp(0.001, 1000.0);
    let text = format!("{speed:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    vec![Effect::Run(format!("speed {text}"))]
}

fn on_selected(model: &mut Model, key: char) -> Vec<Effect> {
    let verb = match key {
        'k' => "kill",
        'r' => "restart",
        'c' => "campaign",
        'i' => "isolate",
        _ => "transfer",
    };
    let Some(node) = model.selected else {
        model.answer = Some(Answer {
            line: verb.to_string(),
            text: "select a node first: 1-9 or a click".to_string(),
            passed: false,
        });
        return Vec::new();
    };
    vec![Effect::Run(format!("{verb} {node}"))]
}

/// A key while the `:` command line is open: edit, complete, run or cancel.
fn command_line_key(model: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let Some(input) = model.input.as_mut() else {
        return Vec::new();
    };
    match key.code {
        KeyCode::Esc => model.input = None,
        KeyCode::Enter => {
            let line = input.trim().to_string();
            model.input = None;
            if !line.is_empty() {
                return vec![Effect::Run(line)];
            }
        }
        KeyCode::Backspace => {
            input.pop();
        }
        KeyCode::Tab => {
            let context = CompletionContext {
                node_ids: model.cluster.nodes.iter().map(|n| n.id).collect(),
                keys: Vec::new(),
            };
            let (start, candidates) = complete(input, input.len(), &context);
            if let [only] = candidates.as_slice() {
                input.truncate(start);
                input.push_str(only);
                input.push(' ');
            }
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => input.push(c),
        KeyCode::Char('c') => model.input = None,
        _ => {}
    }
    Vec::new()
}
