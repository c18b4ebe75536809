//! The log pane: a row per node, entries by index as term-coloured cells, like the
//! figures of the Raft paper.
//!
//! A cell shows its entry's term; committed cells have their term's colour behind them
//! and the commit point is a `┃` after the last committed cell (so that it is seen
//! without colour too); `s` marks an index inside a snapshot. Under each follower, while
//! there is a leader, the leader's `nextIndex` (`▲`) and `matchIndex` (`m`) for it: the
//! consistency check's backing up is seen entry by entry.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders, Widget};

use crate::cluster::NodeState;
use crate::cluster::view::{ClusterView, NodeView};
use crate::raft::{FollowerProgress, Index};

use super::super::model::Model;
use super::style::{Palette, put};

/// Each entry's cell width.
const CELL: i32 = 3;
/// The row label's width (`n12 ` and a role letter).
const LABEL: i32 = 7;

/// Draws the log pane.
pub fn draw(model: &Model, area: Rect, buf: &mut Buffer) {
    let p = Palette { color: model.color };
    let view = &model.cluster;
    let block = Block::default().borders(Borders::ALL).title(" log ");
    let inner = block.inner(area);
    block.render(area, buf);
    let cells = ((i32::from(inner.width) - LABEL - 18) / CELL).max(1) as u64;
    let last = view
        .nodes
        .iter()
        .map(|n| n.status.last_index)
        .max()
        .unwrap_or(0);
    let first = last.saturating_sub(cells - 1).max(1);
    let x0 = i32::from(inner.x) + LABEL;
    let mut y = i32::from(inner.y);
    let header: String = (first..first + cells)
        .map(|i| format!("{:>2} ", i % 100))
        .collect();
    put(buf, inner, i32::from(inner.x), y, "index", p.dim());
    put(buf, inner, x0, y, &header, p.dim());
    y += 1;
    let progress = leader_progress(view);
    for node in &view.nodes {
        if y >= i32::from(inner.bottom()) {
            break;
        }
        row(node, first, cells, (x0, y), inner, buf, p);
        y += 1;
        if let Some(follower) = progress.iter().find(|f| f.node == node.status.id) {
            marks(follower, first, cells, (x0, y), inner, buf, p);
            y += 1;
        }
    }
}

fn leader_progress(view: &ClusterView) -> Vec<FollowerProgress> {
    view.leader
        .and_then(|l| view.node(l))
        .map(|l| l.status.progress.clone())
        .unwrap_or_default()
}

fn row(
    node: &NodeView,
    first: Index,
    cells: u64,
    (x0, y): (i32, i32),
    area: Rect,
    buf: &mut Buffer,
    p: Palette,
) {
    let status = &node.status;
    let (role, role_style) = p.role(node);
    let letter = if status.state == NodeState::Up {
        &role[..1]
    } else {
        "×"
    };
    let label = format!("n{:<3} {letter}", status.id);
    put(buf, area, i32::from(area.x), y, &label, role_style);
    let snapshot = node.snapshot.0;
    for index in first..first + cells {
        let x = x0 + (index - first) as i32 * CELL;
        if index <= snapshot && index <= status.last_index {
            put(buf, area, x, y, " s ", p.dim());
            continue;
        }
        let Some(entry) = node.log.iter().find(|e| e.index == index) else {
            continue;
        };
        let text = format!("{:>2}", entry.term);
        let style = if index <= status.commit {
            p.committed(entry.term)
        } else {
            p.term(entry.term)
        };
        put(buf, area, x, y, &text, style);
        if index == status.commit {
            put(buf, area, x + 2, y, "┃", p.strong());
        }
    }
    let end = x0 + cells as i32 * CELL + 1;
    let tail = format!("last {} commit {}", status.last_index, status.commit);
    put(buf, area, end, y, &tail, p.dim());
}

/// The leader's `nextIndex` (`▲`) and `matchIndex` (`m`) for one follower.
fn marks(
    f: &FollowerProgress,
    first: Index,
    cells: u64,
    (x0, y): (i32, i32),
    area: Rect,
    buf: &mut Buffer,
    p: Palette,
) {
    let at = |index: Index| x0 + (index as i32 - first as i32) * CELL + 1;
    if f.match_index >= first && f.match_index < first + cells {
        put(buf, area, at(f.match_index), y, "m", p.good());
    }
    if f.next_index >= first && f.next_index < first + cells {
        put(buf, area, at(f.next_index), y, "▲", p.strong());
    }
    let end = x0 + cells as i32 * CELL + 1;
    let text = format!("next {} match {}", f.next_index, f.match_index);
    put(buf, area, end, y, &text, p.dim());
}
