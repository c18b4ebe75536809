//! The status line (time, speed, running or paused, seed, leader, term, the checker's
//! verdict), the keys line (or the `:` command line), and the help overlay.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use crate::repl::words::fmt_ms;

use super::super::model::Model;
use super::story::spans;
use super::style::Palette;

/// The keys, as the help overlay lists them.
pub const KEYS: &[(&str, &str)] = &[
    ("space", "pause / resume the clock"),
    ("→ or .", "one step (a lesson: the next step)"),
    ("←", "back one step"),
    ("+ / -", "speed ×2 / ÷2"),
    ("1-9, click", "select a node"),
    (
        "k r c i t",
        "kill, restart, campaign, isolate, transfer to it",
    ),
    ("w", "write a value through the leader"),
    ("h", "heal every link"),
    (":", "a command line: every REPL command (Tab completes)"),
    ("Tab", "next pane (on a small terminal)"),
    ("?", "this help"),
    ("q, Esc", "leave"),
];

/// The status line.
pub fn status_line(model: &Model, area: Rect, buf: &mut Buffer) {
    let p = Palette { color: model.color };
    let view = &model.cluster;
    let (clock, speed) = match &model.lesson {
        Some(lesson) if lesson.auto && !lesson.held => ("▶ lesson playing", lesson.speed),
        Some(lesson) => ("⏸ lesson held", lesson.speed),
        None if model.running() => ("▶ running", view.speed),
        None => ("⏸ paused", view.speed),
    };
    let leader = view.leader.map_or("none".to_string(), |l| format!("n{l}"));
    // The leader's term; with no leader, the highest any node has reached.
    let term = view
        .leader
        .and_then(|l| view.node(l))
        .map_or(view.term(), |n| n.term);
    let verdict = match view.violations.first() {
        None => ("✓ safe".to_string(), p.good()),
        Some(v) => (format!("✗ {} broken", v.rule), p.bad()),
    };
    let mut parts = vec![
        (" raftlab ".to_string(), p.strong()),
        (format!("t={} ", fmt_ms(view.now_us)), Style::default()),
        (format!("│ {clock} ×{speed} "), Style::default()),
        (format!("│ leader {leader} term {term} │ "), p.strong()),
        verdict,
        (format!(" │ seed {} ", view.seed), Style::default()),
        (
            format!("│ {} in flight", view.in_flight.len()),
            Style::default(),
        ),
    ];
    if let Some(node) = model.selected {
        parts.push((format!(" │ selected n{node}"), p.strong()));
    }
    buf.set_line(area.x, area.y, &spans(parts), area.width);
}

/// The keys line, or the command line while one is typed.
pub fn keys_line(model: &Model, area: Rect, buf: &mut Buffer) {
    let p = Palette { color: model.color };
    let folded = super::layout::areas(model).is_some_and(|a| a.story.is_none() || a.log.is_none());
    let space = match &model.lesson {
        Some(lesson) if lesson.auto => "space stop",
        Some(_) => "space play",
        None if model.running() => "space pause",
        None => "space run",
    };
    let tab = if folded { "  Tab next pane" } else { "" };
    let text = match (&model.input, &model.lesson) {
        (Some(input), _) => format!(":{input}█"),
        (None, Some(_)) => {
            format!(" → next step  ← back a step  {space}  : command  ? keys  q quit{tab}")
        }
        (None, None) if folded => {
            format!(" ? keys  q quit{tab}  {space}  . step  1-9 select  : command")
        }
        (None, None) => format!(
            " ? keys  q quit  {space}  . step  ← back  +/- speed  : command  1-9 select, \
             then k kill r restart c campaign i isolate t transfer  w write  h heal"
        ),
    };
    let style = if model.input.is_some() {
        p.strong()
    } else {
        p.dim()
    };
    buf.set_stringn(area.x, area.y, text, usize::from(area.width), style);
}

/// The help overlay, in the middle of `area`.
pub fn help(area: Rect, buf: &mut Buffer) {
    let width = 72.min(area.width);
    let height = (KEYS.len() as u16 + 4).min(area.height);
    let x = area.x + (area.width - width) / 2;
    let y = area.y + (area.height - height) / 2;
    let rect = Rect::new(x, y, width, height);
    let mut text: Vec<String> = KEYS
        .iter()
        .map(|(k, what)| format!("{k:>11}  {what}"))
        .collect();
    text.push(String::new());
    text.push("      any key closes this help".to_string());
    Clear.render(rect, buf);
    Paragraph::new(text.join("\n"))
        .block(Block::default().borders(Borders::ALL).title(" keys "))
        .render(rect, buf);
}

/// What a terminal too small to draw in shows.
pub fn too_small(area: Rect, buf: &mut Buffer, min: (u16, u16)) {
    let text = format!(
        "raftlab watch needs at least {}x{} (this terminal is {}x{}); q leaves",
        min.0, min.1, area.width, area.height
    );
    buf.set_stringn(
        area.x,
        area.y,
        text,
        usize::from(area.width),
        Style::default(),
    );
}
