//! The log pane: a row per node, entries by index as term-coloured cells, like the
//! figures of the Raft paper.
//!
//! A cell shows its entry's term (and its command, `x=1`, when the pane is wide enough for
//! the whole log); committed cells have their term's colour behind them
//! and the commit point is a `┃` after the last committed cell (so that it is seen
//! without colour too); `s` marks an index inside a snapshot. Under each follower, while
//! there is a leader, the leader's `nextIndex` (`▲`) and `matchIndex` (`m`) for it: the
//! consistency check's backing up is seen entry by entry.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders, Widget};

use crate::cluster::NodeState;
use crate::cluster::kv::{KvOp, KvRequest};
use crate::cluster::view::{ClusterView, NodePicture};
use crate::raft::{Entry, FollowerProgress, Index, Payload};

use super::super::model::Model;
use super::style::{Palette, put};

/// Each entry's cell width; wide cells also show the command.
const CELL: i32 = 3;
const WIDE_CELL: i32 = 10;
/// The row label's width (`n12 ` and a role letter).
const LABEL: i32 = 7;
/// Room kept right of the cells for `last 12 commit 11`.
const TAIL: i32 = 18;

/// Which indexes the pane shows, and where.
#[derive(Clone, Copy)]
struct Grid {
    first: Index,
    cells: u64,
    cell: i32,
    x0: i32,
}

impl Grid {
    fn x(&self, index: Index) -> i32 {
        self.x0 + (index - self.first) as i32 * self.cell
    }

    fn shows(&self, index: Index) -> bool {
        index >= self.first && index < self.first + self.cells
    }

    fn end(&self) -> i32 {
        self.x0 + self.cells as i32 * self.cell + 1
    }
}

/// Draws the log pane.
pub fn draw(model: &Model, area: Rect, buf: &mut Buffer) {
    let p = Palette { color: model.color };
    let view = &model.cluster;
    let block = Block::default().borders(Borders::ALL).title(" log ");
    let inner = block.inner(area);
    block.render(area, buf);
    let last = view.nodes.iter().map(|n| n.last_index).max().unwrap_or(0);
    let room = i32::from(inner.width) - LABEL - TAIL;
    let cell = if last > 0 && room / WIDE_CELL >= last as i32 {
        WIDE_CELL
    } else {
        CELL
    };
    let cells = (room / cell).max(1) as u64;
    let grid = Grid {
        first: last.saturating_sub(cells - 1).max(1),
        cells,
        cell,
        x0: i32::from(inner.x) + LABEL,
    };
    let mut y = i32::from(inner.y);
    let header: String = (grid.first..grid.first + cells)
        .map(|i| format!("{:>2}{}", i % 100, " ".repeat(cell as usize - 2)))
        .collect();
    put(buf, inner, i32::from(inner.x), y, "index", p.dim());
    put(buf, inner, grid.x0, y, &header, p.dim());
    y += 1;
    let progress = leader_progress(view);
    for node in &view.nodes {
        if y >= i32::from(inner.bottom()) {
            break;
        }
        row(node, grid, y, inner, buf, p);
        y += 1;
        if let Some(follower) = progress.iter().find(|f| f.node == node.id) {
            marks(follower, grid, y, inner, buf, p);
            y += 1;
        }
    }
}

fn leader_progress(view: &ClusterView) -> Vec<FollowerProgress> {
    view.leader
        .and_then(|l| view.node(l))
        .map(|l| l.progress.clone())
        .unwrap_or_default()
}

fn row(node: &NodePicture, grid: Grid, y: i32, area: Rect, buf: &mut Buffer, p: Palette) {
    let status = node;
    let (role, role_style) = p.role(node);
    let letter = if status.state == NodeState::Up {
        &role[..1]
    } else {
        "×"
    };
    let label = format!("n{:<3} {letter}", status.id);
    put(buf, area, i32::from(area.x), y, &label, role_style);
    let snapshot = node.snapshot.0;
    for index in grid.first..grid.first + grid.cells {
        let x = grid.x(index);
        if index <= snapshot && index <= status.last_index {
            put(buf, area, x, y, " s ", p.dim());
            continue;
        }
        let Some(entry) = node.log.iter().find(|e| e.index == index) else {
            continue;
        };
        let mut text = format!("{:>2}", entry.term);
        if grid.cell == WIDE_CELL {
            let command: String = command(entry)
                .chars()
                .take(WIDE_CELL as usize - 4)
                .collect();
            text = format!("{text} {command:<w$}", w = WIDE_CELL as usize - 4);
        }
        let style = if index <= status.commit {
            p.committed(entry.term)
        } else {
            p.term(entry.term)
        };
        put(buf, area, x, y, &text, style);
        if index == status.commit {
            put(buf, area, x + grid.cell - 1, y, "┃", p.strong());
        }
    }
    let tail = format!("last {} commit {}", status.last_index, status.commit);
    put(buf, area, grid.end(), y, &tail, p.dim());
}

/// An entry's command in a few characters: `x=1`, `x+=a`, `?x`, `-x`, `noop`, `config`.
fn command(entry: &Entry) -> String {
    match &entry.payload {
        Payload::Noop => "noop".to_string(),
        Payload::Config(_) => "config".to_string(),
        Payload::Command(bytes) => match KvRequest::decode(bytes).map(|r| r.op) {
            Ok(KvOp::Put { key, value }) => format!("{key}={value}"),
            Ok(KvOp::Append { key, value }) => format!("{key}+={value}"),
            Ok(KvOp::Get { key }) => format!("?{key}"),
            Ok(KvOp::Del { key }) => format!("-{key}"),
            Ok(KvOp::Cas { key, new, .. }) => format!("{key}:={new}"),
            Err(_) => "?".to_string(),
        },
    }
}

/// The leader's `nextIndex` (`▲`) and `matchIndex` (`m`) for one follower.
fn marks(f: &FollowerProgress, grid: Grid, y: i32, area: Rect, buf: &mut Buffer, p: Palette) {
    if grid.shows(f.match_index) {
        put(buf, area, grid.x(f.match_index) + 1, y, "m", p.good());
    }
    if grid.shows(f.next_index) {
        put(buf, area, grid.x(f.next_index) + 1, y, "▲", p.strong());
    }
    let text = format!("next {} match {}", f.next_index, f.match_index);
    put(buf, area, grid.end(), y, &text, p.dim());
}
