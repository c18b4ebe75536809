//! Where each pane goes at a terminal size, and which node a click lands on.
//!
//! From 80×24 up to 119 columns or 35 rows the panes are folded: one at a time, `Tab`
//! to the next. From 120×36 the cluster and the story sit side by side above the logs.

use ratatui::layout::Rect;

use crate::raft::NodeId;

use super::super::model::{Model, Pane};
use super::ring;

/// The smallest terminal the view draws in.
pub const MIN_SIZE: (u16, u16) = (80, 24);
/// The smallest terminal that shows every pane at once.
const ALL_PANES: (u16, u16) = (120, 36);

/// The areas of one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Areas {
    pub status: Rect,
    pub cluster: Option<Rect>,
    pub log: Option<Rect>,
    pub story: Option<Rect>,
    pub keys: Rect,
}

/// The areas for the model's terminal size; `None` when it is too small.
pub fn areas(model: &Model) -> Option<Areas> {
    let (width, height) = model.size;
    if width < MIN_SIZE.0 || height < MIN_SIZE.1 {
        return None;
    }
    let status = Rect::new(0, 0, width, 1);
    let keys = Rect::new(0, height - 1, width, 1);
    let body = Rect::new(0, 1, width, height - 2);
    let mut areas = Areas {
        status,
        cluster: None,
        log: None,
        story: None,
        keys,
    };
    if width < ALL_PANES.0 || height < ALL_PANES.1 {
        match model.pane {
            Pane::Cluster => areas.cluster = Some(body),
            Pane::Log => areas.log = Some(body),
            Pane::Story => areas.story = Some(body),
        }
        return Some(areas);
    }
    let nodes = model.cluster.nodes.len() as u16;
    let wanted = if nodes <= 25 { nodes * 2 + 3 } else { 10 };
    let log_height = wanted.min(body.height * 2 / 5).max(6);
    let top = Rect::new(0, body.y, width, body.height - log_height);
    let cluster_width = width * 3 / 5;
    areas.cluster = Some(Rect::new(0, top.y, cluster_width, top.height));
    areas.story = Some(Rect::new(
        cluster_width,
        top.y,
        width - cluster_width,
        top.height,
    ));
    areas.log = Some(Rect::new(0, top.bottom(), width, log_height));
    Some(areas)
}

/// The node whose card is at (column, row), if any.
pub fn node_at(model: &Model, column: u16, row: u16) -> Option<NodeId> {
    let area = areas(model)?.cluster?;
    let inner = ring::inner(area);
    let cards = ring::card_rects(inner, model.cluster.nodes.len())?;
    let hit = cards.iter().position(|card| {
        column >= card.x && column < card.right() && row >= card.y && row < card.bottom()
    })?;
    model.cluster.nodes.get(hit).map(|n| n.id)
}
