//! The story pane: a lesson's narration in a box, the last command's answer, what the
//! lesson has played (checks with ✓ or ✗), and the latest events in the REPL's words.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

use crate::cluster::EventKind;

use super::super::model::Model;
use super::style::{Palette, put};

/// Draws the story pane.
pub fn draw(model: &Model, area: Rect, buf: &mut Buffer) {
    let p = Palette { color: model.color };
    let title = match &model.lesson {
        Some(lesson) => format!(
            " lesson: {} (step {}/{}) ",
            lesson.scenario.name,
            lesson.next,
            lesson.scenario.steps.len()
        ),
        None => " story ".to_string(),
    };
    let block = Block::default().borders(Borders::ALL).title(title);
    let mut inner = block.inner(area);
    block.render(area, buf);
    if let Some(text) = model.lesson.as_ref().and_then(|l| l.narration.as_ref()) {
        inner = narration(model, text, inner, buf, p);
    }
    // The newest last: events, then what the lesson played, then the command's answer,
    // so that the answer to what was just typed is never the part scrolled away.
    let mut lines = event_lines(model, p);
    lines.extend(answer_lines(model, p));
    let lines = wrap(lines, usize::from(inner.width).max(8));
    let room = usize::from(inner.height);
    let skip = lines.len().saturating_sub(room);
    for (row, (text, style)) in lines.into_iter().skip(skip).enumerate() {
        put(
            buf,
            inner,
            i32::from(inner.x),
            i32::from(inner.y) + row as i32,
            &text,
            style,
        );
    }
}

/// How many rows the narration's box takes at `width` (at most `limit`).
pub fn narration_height(text: &str, width: u16, limit: u16) -> u16 {
    let width = usize::from(width.saturating_sub(2)).max(1);
    let rows = text.chars().count().div_ceil(width) as u16 + 1;
    (rows + 2).min(limit).max(3)
}

/// The narration in a box at the top; returns the room left below it.
fn narration(model: &Model, text: &str, area: Rect, buf: &mut Buffer, p: Palette) -> Rect {
    let height = narration_height(text, area.width, area.height / 2);
    let boxed = Rect::new(area.x, area.y, area.width, height);
    narration_box(model, text, boxed, buf, p);
    Rect::new(
        area.x,
        area.y + height,
        area.width,
        area.height.saturating_sub(height),
    )
}

/// The narration in a box filling `boxed`, with "any key: go on" while it is held.
pub fn narration_box(model: &Model, text: &str, boxed: Rect, buf: &mut Buffer, p: Palette) {
    let held = model.lesson.as_ref().is_some_and(|l| l.held);
    let footer = if held { " any key: go on " } else { "" };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(p.strong())
        .title(" » ")
        .title_bottom(footer);
    Paragraph::new(text.to_string())
        .wrap(Wrap { trim: true })
        .block(block)
        .render(boxed, buf);
}

/// Cuts long lines at the pane's width; what follows is indented under the time.
fn wrap(lines: Vec<(String, Style)>, width: usize) -> Vec<(String, Style)> {
    let mut out = Vec::with_capacity(lines.len());
    for (text, style) in lines {
        let chars: Vec<char> = text.chars().collect();
        let mut rest: &[char] = &chars;
        let mut first = true;
        while !rest.is_empty() {
            let indent = if first { 0 } else { 12.min(width / 2) };
            let take = (width - indent).min(rest.len());
            let piece: String = rest[..take].iter().collect();
            out.push((format!("{}{piece}", " ".repeat(indent)), style));
            rest = &rest[take..];
            first = false;
        }
    }
    out
}

fn answer_lines(model: &Model, p: Palette) -> Vec<(String, Style)> {
    let mut lines = Vec::new();
    if let Some(lesson) = &model.lesson {
        for played in lesson.played.iter().rev().take(6).rev() {
            let (mark, style) = match played.check {
                Some(true) => ("✓ ", p.good()),
                Some(false) => ("✗ ", p.bad()),
                None => ("> ", p.strong()),
            };
            lines.push((format!("{mark}{}", played.line), style));
            if played.check == Some(false) {
                lines.extend(played.text.lines().map(|l| (format!("  {l}"), p.bad())));
            }
        }
    }
    if let Some(answer) = &model.answer {
        lines.push((format!(": {}", answer.line), p.strong()));
        let style = if answer.passed {
            Style::default()
        } else {
            p.bad()
        };
        lines.extend(answer.text.lines().take(40).map(|l| (l.to_string(), style)));
    }
    lines
}

fn event_lines(model: &Model, p: Palette) -> Vec<(String, Style)> {
    model
        .story
        .iter()
        .map(|e| {
            let style = match e.kind {
                EventKind::Violation(_) => p.bad(),
                EventKind::Dropped { .. } => p.dim(),
                _ => Style::default(),
            };
            (e.to_string(), style)
        })
        .collect()
}

/// A line of spans, for the status line.
pub fn spans(parts: Vec<(String, Style)>) -> Line<'static> {
    Line::from(
        parts
            .into_iter()
            .map(|(t, s)| Span::styled(t, s))
            .collect::<Vec<_>>(),
    )
}
