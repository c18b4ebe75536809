//! The live view: the cluster drawn in the terminal as it runs, after RaftScope.
//!
//! It is laid out in the Elm architecture, as ratatui's guide describes it: one
//! [`model::Model`] (the cluster's data picture, [`crate::cluster::ClusterView`], and the
//! view's own state: the selected node, the pane, the command line, the lesson), one
//! message enum ([`update::Msg`]: a key, a click, a resize, a tick), an
//! [`update::update`] that changes the model and says what the cluster must do, and
//! [`draw::view`], which only draws. This file is the runtime around them: it reads the
//! terminal's events, runs the effects through the [`Session`] (so a key does what its
//! REPL command does, with the same errors), and reads a new picture of the cluster.
//!
//! The view only reads the cluster: watching a run does not change it, hand-off for
//! hand-off. It redraws about 30 times a second while the clock runs or a lesson
//! plays, and only when something changed otherwise (a paused view wakes once a second
//! to look, and draws nothing new).
//!
//! Rooms: `model.rs` (the state), `update.rs` (keys and what they do), `lesson.rs` (a
//! scenario played as slides), `draw/` (one file per pane, the layout and the colours),
//! `terminal.rs` (taking the terminal and always giving it back).

pub mod draw;
pub mod driven;
pub mod lesson;
pub mod model;
mod start;
mod terminal;
pub mod update;

use std::io;
use std::time::{Duration, Instant};

use crossterm::event::{self, Event, KeyEventKind, MouseButton, MouseEventKind};
use thiserror::Error;

use crate::cluster::{ClusterView, ViewLimits};

use super::scenario::Scenario;
use crate::repl::command::TraceLevel;
use crate::repl::session::{ExecError, Session};
pub use driven::Driven;
use lesson::Lesson;
use model::{Answer, Model};
pub use start::start;
use update::{Effect, Msg, update};

/// A frame while anything moves: 30 a second.
const FRAME: Duration = Duration::from_millis(33);
/// How often a still view looks whether anything changed.
const IDLE: Duration = Duration::from_secs(1);

/// What can stop the live view.
#[derive(Debug, Error)]
pub enum WatchError {
    #[error("the live view cannot use the terminal: {0}")]
    Terminal(#[from] io::Error),
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// The driven cluster could not be read (a hosted one, say).
    #[error("{0}")]
    Driven(String),
}

/// How to show the view.
#[derive(Clone, Copy, Debug)]
pub struct WatchOptions {
    pub color: bool,
    /// The speed a lesson's steps are paced at (a step that takes 100ms of cluster time
    /// is held 1 s at 0.1).
    pub lesson_speed: f64,
}

/// Reads the cluster's picture for the view, with the events after the first
/// `events_after`.
pub fn capture(session: &Session, events_after: u64) -> Result<ClusterView, ExecError> {
    let limits = ViewLimits {
        events_after,
        ..ViewLimits::default()
    };
    Ok(session.cluster().view(limits)?)
}

/// Shows the live view of `session`'s cluster until `q` (playing `lesson` if given), and
/// gives the terminal back. The session goes on with the same cluster afterwards.
pub fn watch(
    session: &mut Session,
    lesson: Option<Scenario>,
    options: WatchOptions,
) -> Result<(), WatchError> {
    let colored_before = colored::control::SHOULD_COLORIZE.should_colorize();
    colored::control::set_override(false);
    let result = run(session, lesson, options);
    colored::control::set_override(colored_before);
    result
}

/// Shows the live view of any [`Driven`] cluster (a hosted one) until `q`.
pub fn watch_driven<D: Driven>(driven: &mut D, options: WatchOptions) -> Result<(), WatchError> {
    let colored_before = colored::control::SHOULD_COLORIZE.should_colorize();
    colored::control::set_override(false);
    let result = run(driven, None, options);
    colored::control::set_override(colored_before);
    result
}

/// Reads the driven cluster's picture, with the events after the first `events_after`.
fn picture<D: Driven>(driven: &D, events_after: u64) -> Result<ClusterView, WatchError> {
    driven
        .capture(events_after)
        .map_err(|e| WatchError::Driven(e.to_string()))
}

fn run<D: Driven>(
    session: &mut D,
    lesson: Option<Scenario>,
    options: WatchOptions,
) -> Result<(), WatchError> {
    let mut screen = terminal::Screen::enter()?;
    let size = screen.terminal.size()?;
    let mut model = Model::new(
        picture(session, 0)?,
        options.color,
        (size.width, size.height),
    );
    model.trace = match session.trace() {
        TraceLevel::Off => TraceLevel::Changes,
        level => level,
    };
    model.lesson = lesson.map(|scenario| Lesson {
        speed: options.lesson_speed,
        ..Lesson::new(scenario)
    });
    let mut last_step = Instant::now();
    let mut last_frame = Instant::now();
    let mut dirty = true;
    while !model.quit {
        if dirty {
            screen.terminal.draw(|frame| draw::view(&model, frame))?;
            dirty = false;
        }
        let playing = model
            .lesson
            .as_ref()
            .is_some_and(|l| l.auto && !l.held && !l.done());
        let animating = model
            .lesson
            .as_ref()
            .is_some_and(|l| l.auto && l.pending.is_some());
        let timeout = if model.running() || playing || animating {
            FRAME
        } else {
            IDLE
        };
        let msg = next_msg(session.idle(timeout))?;
        let effects = update(&mut model, msg.clone());
        dirty |= msg != Msg::Tick;
        let acted = !effects.is_empty();
        for effect in effects {
            perform(effect, session, &mut model, options)?;
            last_step = Instant::now();
        }
        let wall = last_frame.elapsed();
        last_frame = Instant::now();
        if let (Some(lesson), Some(session)) = (model.lesson.as_mut(), session.session()) {
            dirty |= play_on(
                lesson,
                session,
                &mut model.answer,
                options,
                (wall, &mut last_step),
            )?;
        }
        if acted || model.running() || msg == Msg::Tick {
            dirty |= refresh(&mut model, session)?;
        }
    }
    Ok(())
}

/// Waits up to `timeout` for a terminal event; a tick when none comes.
fn next_msg(timeout: Duration) -> io::Result<Msg> {
    if !event::poll(timeout)? {
        return Ok(Msg::Tick);
    }
    Ok(match event::read()? {
        Event::Key(key) if key.kind != KeyEventKind::Release => Msg::Key(key),
        Event::Mouse(mouse) if mouse.kind == MouseEventKind::Down(MouseButton::Left) => {
            Msg::Click(mouse.column, mouse.row)
        }
        Event::Resize(width, height) => Msg::Resize(width, height),
        _ => Msg::Tick,
    })
}

/// Reads the cluster again; whether it changed since the last picture.
fn refresh<D: Driven>(model: &mut Model, session: &D) -> Result<bool, WatchError> {
    let mut view = picture(session, model.cluster.events_emitted)?;
    if view.events_emitted < model.cluster.events_emitted {
        // A new cluster (`back`, a lesson gone back): its story starts again.
        view = picture(session, 0)?;
        model.story.clear();
    }
    let old = &model.cluster;
    let changed = view.now_us != old.now_us
        || view.events_emitted != old.events_emitted
        || view.mode != old.mode
        || view.speed != old.speed
        || view.network != old.network;
    model.absorb(view);
    Ok(changed)
}

/// Does what an update asked of the cluster.
fn perform<D: Driven>(
    effect: Effect,
    driven: &mut D,
    model: &mut Model,
    options: WatchOptions,
) -> Result<(), WatchError> {
    match effect {
        Effect::Run(line) => run_line(line, driven, model),
        Effect::Write(n) => write(n, driven, model),
        Effect::LessonNext => {
            if let (Some(lesson), Some(session)) = (model.lesson.as_mut(), driven.session()) {
                play(lesson, session, &mut model.answer, options)?;
            }
        }
        Effect::LessonBack => {
            if let (Some(lesson), Some(session)) = (model.lesson.as_mut(), driven.session()) {
                lesson.back(session)?;
                model.answer = None;
            }
        }
    }
    Ok(())
}

/// Runs a REPL command line through the session; its answer goes to the story pane.
fn run_line<D: Driven>(line: String, session: &mut D, model: &mut Model) {
    let answer = match session.run_line(&line) {
        Ok(outcome) => {
            model.quit |= outcome.quit;
            Answer {
                line,
                text: outcome.text,
                passed: outcome.passed,
            }
        }
        Err(error) => Answer {
            line,
            text: format!("error: {error}"),
            passed: false,
        },
    };
    model.answer = Some(answer);
    if session.trace() != TraceLevel::Off {
        model.trace = session.trace();
    }
}

/// `w`: on a running clock the write is only sent (the REPL's `put` would wait for its
/// answer, and the view with it); otherwise it is the REPL's `put`.
fn write<D: Driven>(n: u64, session: &mut D, model: &mut Model) {
    let line = format!("put w{n} {n}");
    if !model.running() {
        return run_line(line, session, model);
    }
    model.answer = Some(match session.send_client(&line) {
        Ok(id) => Answer {
            line,
            text: format!("sent as operation #{id}; its answer is in the story"),
            passed: true,
        },
        Err(error) => Answer {
            line,
            text: format!("error: {error}"),
            passed: false,
        },
    });
}

/// Moves a playing lesson on: the time of a `run` or `wait` step passes at the speed,
/// and once a step has been held long enough the next one plays. Whether it did anything.
fn play_on(
    lesson: &mut Lesson,
    session: &mut Session,
    answer: &mut Option<Answer>,
    options: WatchOptions,
    (wall, last_step): (Duration, &mut Instant),
) -> Result<bool, ExecError> {
    if !lesson.auto || lesson.held {
        return Ok(false);
    }
    if lesson.pending.is_some() {
        lesson.advance(session, wall, options.lesson_speed)?;
        *last_step = Instant::now();
        return Ok(true);
    }
    if lesson.done() || last_step.elapsed() < lesson.hold {
        return Ok(false);
    }
    play(lesson, session, answer, options)?;
    *last_step = Instant::now();
    Ok(true)
}

/// Plays a lesson's next step; the end of the lesson is said once.
fn play(
    lesson: &mut Lesson,
    session: &mut Session,
    answer: &mut Option<Answer>,
    options: WatchOptions,
) -> Result<(), ExecError> {
    if lesson.done() {
        lesson.auto = false;
        *answer = Some(Answer {
            line: "end of the lesson".to_string(),
            text: "← goes back a step; : takes commands; q leaves".to_string(),
            passed: true,
        });
        return Ok(());
    }
    lesson.play_next(session, options.lesson_speed, true)
}
