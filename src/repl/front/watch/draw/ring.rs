//! The cluster pane: the nodes on a ring (up to 9), in a grid (up to 25), or a summary.
//!
//! Each node is a card: its id and role in words, its term and vote (a candidate's votes
//! as `2/3 votes`), and its timer as a bar that empties as the timeout nears (`◷` an
//! election timeout, `♥` a leader's next heartbeat). On the ring, messages in flight are
//! drawn where they are on the line from sender to receiver, by the share of their delay
//! that has passed; cut links are dotted lines marked `✂` (one-way cuts name their
//! direction); a message lost in the last moments shows `✗` where it was lost.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{Block, Borders, Widget};

use crate::cluster::view::{ClusterView, MessageView, NodePicture, TimerKind};
use crate::cluster::{MsgInfo, NodeState};
use crate::raft::{Message, NodeId, Role};

use super::super::model::Model;
use super::style::{Palette, put};

/// A card's size on the ring and in the grid.
const CARD: (u16, u16) = (19, 4);
/// The most nodes on a ring, and in a grid; above, a summary.
const RING_MAX: usize = 9;
const GRID_MAX: usize = 25;
/// The timer bar's width.
const BAR: usize = 10;
/// How long (cluster time) a lost message stays marked.
const DROP_SHOWN_US: u64 = 20_000;

/// The pane's inside, within its border.
pub fn inner(area: Rect) -> Rect {
    Block::default().borders(Borders::ALL).inner(area)
}

/// Where each node's card goes; `None` above [`GRID_MAX`] nodes.
pub fn card_rects(area: Rect, nodes: usize) -> Option<Vec<Rect>> {
    if nodes > GRID_MAX {
        return None;
    }
    if nodes > RING_MAX {
        let columns = (area.width / (CARD.0 + 1)).max(1) as usize;
        let rects = (0..nodes).map(|i| {
            let x = area.x + (i % columns) as u16 * (CARD.0 + 1);
            let y = area.y + (i / columns) as u16 * CARD.1;
            Rect::new(x, y, CARD.0, CARD.1).intersection(area)
        });
        return Some(rects.collect());
    }
    let (cx, cy) = (
        f64::from(area.x) + f64::from(area.width) / 2.0,
        f64::from(area.y) + f64::from(area.height) / 2.0,
    );
    let rx = (f64::from(area.width) - f64::from(CARD.0)) / 2.0;
    let ry = (f64::from(area.height) - f64::from(CARD.1)) / 2.0;
    let rects = (0..nodes).map(|i| {
        let angle = std::f64::consts::TAU * i as f64 / nodes as f64 - std::f64::consts::FRAC_PI_2;
        let x = (cx + rx.max(0.0) * angle.cos() - f64::from(CARD.0) / 2.0)
            .round()
            .max(0.0);
        let y = (cy + ry.max(0.0) * angle.sin() - f64::from(CARD.1) / 2.0)
            .round()
            .max(0.0);
        Rect::new(x as u16, y as u16, CARD.0, CARD.1).intersection(area)
    });
    Some(rects.collect())
}

/// Draws the cluster pane.
pub fn draw(model: &Model, area: Rect, buf: &mut Buffer) {
    let palette = Palette { color: model.color };
    let view = &model.cluster;
    let title = format!(" cluster: {} nodes ", view.nodes.len());
    let block = Block::default().borders(Borders::ALL).title(title);
    let inner = block.inner(area);
    block.render(area, buf);
    let Some(cards) = card_rects(inner, view.nodes.len()) else {
        summary(view, inner, buf, palette);
        return;
    };
    if view.nodes.len() <= RING_MAX {
        let center = |id: NodeId| card_center(view, &cards, id);
        cut_links(view, &center, inner, buf, palette);
    }
    for (node, card) in view.nodes.iter().zip(&cards) {
        let selected = model.selected == Some(node.id);
        node_card(node, view.now_us, *card, selected, buf, palette);
    }
    if view.nodes.len() <= RING_MAX {
        let center = |id: NodeId| card_center(view, &cards, id);
        let mut sky = Sky {
            buf,
            area: inner,
            cards: &cards,
        };
        messages(view, &center, &mut sky, palette);
    }
}

/// Where messages are drawn: the pane less the cards, so a label never hides a node.
struct Sky<'a> {
    buf: &'a mut Buffer,
    area: Rect,
    cards: &'a [Rect],
}

impl Sky<'_> {
    /// Whether (x, y) is in no card.
    fn open(&self, x: i32, y: i32) -> bool {
        self.cards.iter().all(|card| {
            let (left, top) = (i32::from(card.x), i32::from(card.y));
            let (right, bottom) = (i32::from(card.right()), i32::from(card.bottom()));
            x < left || x >= right || y < top || y >= bottom
        })
    }

    /// Whether (x, y) is in no card and nothing is drawn there yet.
    fn blank(&self, x: i32, y: i32) -> bool {
        let at = u16::try_from(x).ok().zip(u16::try_from(y).ok());
        self.open(x, y)
            && at.is_some_and(|at| self.buf.cell(at).is_some_and(|cell| cell.symbol() == " "))
    }

    /// Writes `text` at (x, y), or as near it along the row as it fits whole between the
    /// cards; where it cannot (a message still inside its sender's card, or already in
    /// its receiver's), it is not drawn.
    fn put(&mut self, x: i32, y: i32, text: &str, style: Style) {
        let width = text.chars().count() as i32;
        let fits = |x: i32| (x..x + width).all(|cx| self.open(cx, y));
        let shifts = (0..=width).flat_map(|d| [x - d, x + d]);
        if let Some(x) = shifts.into_iter().find(|&x| fits(x)) {
            put(self.buf, self.area, x, y, text, style);
        }
    }

    /// Writes `text` only if every cell it takes is blank: what was drawn first stays.
    fn put_under(&mut self, x: i32, y: i32, text: &str, style: Style) {
        let width = text.chars().count() as i32;
        if (x..x + width).all(|cx| self.blank(cx, y)) {
            put(self.buf, self.area, x, y, text, style);
        }
    }
}

/// The middle of node `id`'s card.
fn card_center(view: &ClusterView, cards: &[Rect], id: NodeId) -> Option<(f64, f64)> {
    let at = view.nodes.iter().position(|n| n.id == id)?;
    let card = cards.get(at)?;
    Some((
        f64::from(card.x) + f64::from(card.width) / 2.0,
        f64::from(card.y) + f64::from(card.height) / 2.0,
    ))
}

type Center<'a> = dyn Fn(NodeId) -> Option<(f64, f64)> + 'a;

/// A dotted line for every cut link, `✂` in its middle; a one-way cut says which way.
fn cut_links(view: &ClusterView, center: &Center, area: Rect, buf: &mut Buffer, p: Palette) {
    for &(from, to) in &view.network.cut {
        let both = view.network.cut.contains(&(to, from));
        if both && from > to {
            continue;
        }
        let (Some(a), Some(b)) = (center(from), center(to)) else {
            continue;
        };
        let steps = ((b.0 - a.0).abs().max((b.1 - a.1).abs()) as usize).max(1);
        for s in 0..=steps {
            let t = s as f64 / steps as f64;
            let (x, y) = lerp(a, b, t);
            put(buf, area, x, y, "·", p.bad());
        }
        let (x, y) = lerp(a, b, 0.5);
        let label = if both {
            "✂".to_string()
        } else {
            format!("✂ n{from}→n{to}")
        };
        put(buf, area, x, y, &label, p.bad());
    }
}

/// The part of the line between two cards' centres that no card covers, as fractions
/// of the line: a message leaves its sender's card at the start and reaches its
/// receiver's at the end.
fn gap(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    let (dx, dy) = ((b.0 - a.0).abs(), (b.1 - a.1).abs());
    let half = (f64::from(CARD.0) / 2.0 + 1.0, f64::from(CARD.1) / 2.0);
    let inside = |d: f64, h: f64| if d == 0.0 { f64::INFINITY } else { h / d };
    let covered = inside(dx, half.0).min(inside(dy, half.1));
    if covered >= 0.5 {
        return (0.5, 0.5);
    }
    (covered, 1.0 - covered)
}

fn lerp(a: (f64, f64), b: (f64, f64), t: f64) -> (i32, i32) {
    let x = a.0 + (b.0 - a.0) * t;
    let y = a.1 + (b.1 - a.1) * t;
    (x.round() as i32, y.round() as i32)
}

/// Each message in flight at its place on its line, and recent losses.
fn messages(view: &ClusterView, center: &Center, sky: &mut Sky, p: Palette) {
    for message in &view.in_flight {
        draw_message(message, view.now_us, center, sky, p);
    }
    // A loss is marked, faintly, where it happened (as it was sent, or on arrival) and
    // where nothing else is drawn.
    for dropped in &view.dropped {
        if view.now_us.saturating_sub(dropped.time_us) > DROP_SHOWN_US {
            continue;
        }
        let info = &dropped.info;
        if let (Some(a), Some(b)) = (center(info.from()), center(info.to())) {
            let (start, end) = gap(a, b);
            let share = if dropped.on_the_way { 0.85 } else { 0.15 };
            let (x, y) = lerp(a, b, start + (end - start) * share);
            let label = format!("✗{}", label(info));
            sky.put_under(x - 1, y, &label, p.dim());
        }
    }
}

fn draw_message(m: &MessageView, now_us: u64, center: &Center, sky: &mut Sky, p: Palette) {
    let (Some(a), Some(b)) = (center(m.info.from()), center(m.info.to())) else {
        return;
    };
    let (start, end) = gap(a, b);
    let (x, y) = lerp(a, b, start + (end - start) * m.progress(now_us));
    let text = label(&m.info);
    let half = (text.chars().count() / 2) as i32;
    sky.put(x - half, y, &text, p.message(m.info.message()));
}

/// A message in a few characters: `RV t3`, `✓ vote`, `AE 5@2 +1`, `ok 6`.
pub fn label(info: &MsgInfo) -> String {
    let term = info.term();
    let Some(message) = info.message() else {
        return match term {
            0 => info.kind().to_string(),
            term => format!("{} t{term}", info.kind()),
        };
    };
    match message {
        Message::RequestVote { .. } => format!("RV t{term}"),
        Message::PreVote { .. } => format!("PV t{}", term + 1),
        Message::VoteResponse { granted } => {
            (if *granted { "✓ vote" } else { "✗ vote" }).to_string()
        }
        Message::PreVoteResponse { granted } => {
            (if *granted { "✓ pre" } else { "✗ pre" }).to_string()
        }
        Message::TimeoutNow => "TimeoutNow".to_string(),
        Message::LeaderCheck { .. } => "LC".to_string(),
        Message::LeaderCheckResponse { .. } => "lc".to_string(),
        Message::AppendEntries {
            prev_log_index,
            prev_log_term,
            entries,
            ..
        } if entries.is_empty() => format!("AE {prev_log_index}@{prev_log_term}"),
        Message::AppendEntries {
            prev_log_index,
            prev_log_term,
            entries,
            ..
        } => format!("AE {prev_log_index}@{prev_log_term} +{}", entries.len()),
        Message::AppendResponse { success, index, .. } => {
            format!("{} {index}", if *success { "ok" } else { "no" })
        }
        Message::InstallSnapshot { snapshot } => {
            format!("SNAP {}@{}", snapshot.index, snapshot.term)
        }
        Message::SnapshotResponse { snapshot_index, .. } => format!("ok s{snapshot_index}"),
    }
}

/// One node's card: id and role, term and vote (or votes), and its timer.
fn node_card(
    node: &NodePicture,
    now_us: u64,
    card: Rect,
    selected: bool,
    buf: &mut Buffer,
    p: Palette,
) {
    let (role, role_style) = p.role(node);
    let status = node;
    let mut border = role_style;
    if selected {
        border = border.add_modifier(Modifier::BOLD | Modifier::REVERSED);
    }
    let mark = if selected { "▶" } else { "" };
    let title = format!("{mark}n{} {role}", status.id);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(border)
        .title(ratatui::text::Span::styled(title, role_style));
    let inner = block.inner(card);
    ratatui::widgets::Clear.render(card, buf);
    block.render(card, buf);
    let x = i32::from(inner.x);
    let y = i32::from(inner.y);
    put(buf, inner, x, y, &term_line(node), p.term(status.term));
    let bar = match (&status.state, node.timer) {
        (NodeState::Up, Some(timer)) => {
            let left = timer.remaining(now_us).clamp(0.0, 1.0);
            let full = (left * BAR as f64).ceil() as usize;
            let icon = match timer.kind {
                TimerKind::Election => "◷",
                TimerKind::Heartbeat => "♥",
            };
            format!("{icon}{}{}", "█".repeat(full), "░".repeat(BAR - full))
        }
        (NodeState::Up, None) => match node.counts {
            Some((sent, received)) => format!("out {sent} in {received}"),
            None => String::new(),
        },
        _ => "  - down -".to_string(),
    };
    let style = if status.state == NodeState::Up {
        Style::default()
    } else {
        p.dim()
    };
    put(buf, inner, x, y + 1, &bar, style);
}

/// `t3 vote n1`, or for a candidate `t3 2/3 votes`.
fn term_line(node: &NodePicture) -> String {
    let status = node;
    if status.role.is_none() && status.state == NodeState::Up {
        return "(no state line)".to_string();
    }
    if let Some((granted, voters)) = status.votes {
        return format!("t{} {granted}/{voters} votes", status.term);
    }
    let vote = status.vote.map_or("-".to_string(), |v| format!("n{v}"));
    format!("t{} vote {vote} c{}", status.term, status.commit)
}

/// Above [`GRID_MAX`] nodes: the nodes by role, terms, commit spread, who is down.
fn summary(view: &ClusterView, area: Rect, buf: &mut Buffer, p: Palette) {
    let count = |role: Role| view.nodes.iter().filter(|n| n.role == Some(role)).count();
    let down: Vec<String> = view
        .nodes
        .iter()
        .filter(|n| n.state != NodeState::Up)
        .map(|n| format!("n{}", n.id))
        .collect();
    let mut commits: Vec<u64> = view.nodes.iter().map(|n| n.commit).collect();
    commits.sort_unstable();
    let terms = view.nodes.iter().map(|n| n.term);
    let (lo, hi) = (terms.clone().min().unwrap_or(0), terms.max().unwrap_or(0));
    let leader = view.leader.map_or("none".to_string(), |l| format!("n{l}"));
    let median = commits.get(commits.len() / 2).copied().unwrap_or(0);
    let lines = [
        format!(
            "{} nodes: too many to draw one by one (see `status`)",
            view.nodes.len()
        ),
        format!(
            "{} LEADER ({leader}), {} candidate, {} follower, {} down",
            count(Role::Leader),
            count(Role::Candidate),
            count(Role::Follower),
            down.len()
        ),
        format!("terms {lo}..{hi}"),
        format!(
            "commit min {} median {median} max {}",
            commits.first().copied().unwrap_or(0),
            commits.last().copied().unwrap_or(0)
        ),
        format!("in flight: {} messages", view.in_flight.len()),
        format!(
            "down: {}",
            if down.is_empty() {
                "none".to_string()
            } else {
                down.join(" ")
            }
        ),
    ];
    for (row, line) in lines.iter().enumerate() {
        let style = if row == 1 {
            p.strong()
        } else {
            Style::default()
        };
        put(
            buf,
            area,
            i32::from(area.x) + 1,
            i32::from(area.y) + row as i32,
            line,
            style,
        );
    }
}
