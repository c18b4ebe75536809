//! The logs as a slide, as the Raft paper draws them (Figures 6 to 8): a row per node, a
//! box per entry coloured by its term, with the term on top and the command below
//! (`x←3`), the commit point marked, uncommitted entries dashed, the legend inside. A log
//! longer than a slide's width shows its last entries and says how many are left out.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::cluster::{NodePicture, NodeState};
use crate::raft::{Entry, NodeId, Role};
use crate::repl::export::style::{FONT, term_fill, term_stroke};

use super::labels::{Anchor, Look, Placer, TextBox};
use super::words::entry_command;
use super::{HEIGHT, MIN_FONT, WIDTH};

const LEFT: f64 = 130.0;
const TOP: f64 = 110.0;
const BOTTOM: f64 = 630.0;
const CELL_W: f64 = 68.0;
const GAP: f64 = 5.0;
const LEGEND_Y: f64 = 670.0;
const FOOTER_Y: f64 = 703.0;

/// Where the boxes go.
struct Grid {
    first: usize,
    row_h: f64,
    cell_h: f64,
}

impl Grid {
    fn x(&self, index: usize) -> f64 {
        LEFT + (index - self.first) as f64 * (CELL_W + GAP)
    }

    fn y(&self, row: usize) -> f64 {
        TOP + row as f64 * self.row_h
    }
}

/// The slide of `logs` (in the order given), with each node's state from `nodes`.
pub fn log_slide(logs: &[(NodeId, Vec<Entry>)], nodes: &[NodePicture], title: &str) -> String {
    let longest = logs.iter().map(|(_, l)| l.len()).max().unwrap_or(0);
    let columns = ((WIDTH - LEFT - 40.0) / (CELL_W + GAP)).floor() as usize;
    let first = longest.saturating_sub(columns) + 1;
    let row_h = ((BOTTOM - TOP) / logs.len().max(1) as f64).min(96.0);
    let grid = Grid {
        first,
        row_h,
        cell_h: (row_h - 12.0).min(62.0),
    };
    let area = TextBox {
        x0: 0.0,
        y0: 0.0,
        x1: WIDTH,
        y1: HEIGHT,
    };
    let mut placer = Placer::new(area);
    let mut shapes = String::new();
    heading(&mut placer, title, first, longest);
    for (row, (node, log)) in logs.iter().enumerate() {
        let status = nodes.iter().find(|s| s.id == *node);
        draw_row(&mut shapes, &mut placer, &grid, (row, *node), log, status);
    }
    let terms: BTreeSet<u64> = logs
        .iter()
        .flat_map(|(_, l)| l.iter().map(|e| e.term))
        .collect();
    legend(&mut shapes, &mut placer, &terms);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH:.0}" height="{HEIGHT:.0}" viewBox="0 0 {WIDTH:.0} {HEIGHT:.0}" font-family="{FONT}">
<rect width="100%" height="100%" fill="white"/>"##
    );
    svg.push_str(&shapes);
    svg.push_str(&placer.layer);
    svg.push_str("</svg>\n");
    svg
}

fn heading(placer: &mut Placer, title: &str, first: usize, longest: usize) {
    let look = Look {
        size: 22.0,
        colour: "#111",
        bold: true,
    };
    placer.fixed(
        24.0,
        38.0,
        &super::fit(title, 22.0, WIDTH - 48.0),
        Anchor::Start,
        look,
    );
    let note = if first > 1 {
        format!(
            "entries {first} to {longest}; {} earlier entries not shown",
            first - 1
        )
    } else {
        "each box: the term of its leader, and the command it carries".to_string()
    };
    let look = Look {
        size: 16.0,
        colour: "#555",
        bold: false,
    };
    placer.fixed(24.0, 64.0, &note, Anchor::Start, look);
    let index_look = Look {
        size: MIN_FONT,
        colour: "#666",
        bold: false,
    };
    placer.fixed(LEFT - 14.0, TOP - 14.0, "index", Anchor::End, index_look);
    let grid_x = |i: usize| LEFT + (i - first) as f64 * (CELL_W + GAP) + CELL_W / 2.0;
    for index in first..=longest {
        placer.fixed(
            grid_x(index),
            TOP - 14.0,
            &index.to_string(),
            Anchor::Middle,
            index_look,
        );
    }
}

fn draw_row(
    out: &mut String,
    placer: &mut Placer,
    grid: &Grid,
    (row, node): (usize, NodeId),
    log: &[Entry],
    status: Option<&NodePicture>,
) {
    let up = status.is_some_and(|s| s.state == NodeState::Up);
    let leader = up && status.is_some_and(|s| s.role == Some(Role::Leader));
    let commit = status.filter(|_| up).map_or(0, |s| s.commit as usize);
    let y = grid.y(row);
    let name_size = (grid.row_h * 0.3).clamp(MIN_FONT, 20.0);
    let name = Look {
        size: name_size,
        colour: if up { "#111" } else { "#999" },
        bold: true,
    };
    let middle = y + grid.cell_h / 2.0;
    let note = match (up, leader) {
        (_, true) => "leader",
        (false, _) => "down",
        _ => "",
    };
    let name_y = if note.is_empty() {
        middle + 6.0
    } else {
        middle
    };
    placer.fixed(LEFT - 14.0, name_y, &format!("n{node}"), Anchor::End, name);
    if !note.is_empty() && grid.row_h >= 40.0 {
        let look = Look {
            size: MIN_FONT,
            colour: "#777",
            bold: false,
        };
        placer.fixed(
            LEFT - 14.0,
            middle + MIN_FONT + 3.0,
            note,
            Anchor::End,
            look,
        );
    }
    for entry in log.iter().filter(|e| e.index as usize >= grid.first) {
        let uncommitted = up && entry.index as usize > commit;
        draw_entry(out, placer, grid, (entry, y), uncommitted);
    }
    if commit >= grid.first {
        let x = grid.x(commit) + CELL_W + GAP / 2.0;
        let _ = writeln!(
            out,
            r##"<line class="commit" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#111" stroke-width="4"><title>n{node} commit index {commit}</title></line>"##,
            y - 5.0,
            y + grid.cell_h + 5.0
        );
    }
}

fn draw_entry(
    out: &mut String,
    placer: &mut Placer,
    grid: &Grid,
    (entry, y): (&Entry, f64),
    uncommitted: bool,
) {
    let x = grid.x(entry.index as usize);
    let dash = if uncommitted {
        r#" stroke-dasharray="5,3""#
    } else {
        ""
    };
    let _ = writeln!(
        out,
        r#"<rect class="entry" data-index="{}" data-term="{}" x="{x:.1}" y="{y:.1}" width="{CELL_W:.1}" height="{:.1}" rx="4" fill="{}" stroke="{}" stroke-width="2"{dash}/>"#,
        entry.index,
        entry.term,
        grid.cell_h,
        term_fill(entry.term),
        term_stroke(entry.term)
    );
    let command = entry_command(entry);
    let two_lines = !command.is_empty() && grid.cell_h >= 2.0 * MIN_FONT + 12.0;
    let term_y = if two_lines {
        y + grid.cell_h * 0.42
    } else {
        y + grid.cell_h / 2.0 + 6.0
    };
    let term = Look {
        size: 18.0_f64.min(grid.cell_h * 0.5).max(MIN_FONT),
        colour: "#111",
        bold: true,
    };
    placer.fixed(
        x + CELL_W / 2.0,
        term_y,
        &entry.term.to_string(),
        Anchor::Middle,
        term,
    );
    if two_lines {
        let text = super::fit(&command, MIN_FONT, CELL_W - 6.0);
        let look = Look::plain(MIN_FONT);
        placer.fixed(
            x + CELL_W / 2.0,
            y + grid.cell_h - 9.0,
            &text,
            Anchor::Middle,
            look,
        );
    }
}

fn legend(out: &mut String, placer: &mut Placer, terms: &BTreeSet<u64>) {
    let look = Look::plain(MIN_FONT);
    let mut x = 24.0;
    let y = LEGEND_Y;
    let shown: Vec<u64> = terms.iter().copied().take(9).collect();
    for term in &shown {
        let _ = writeln!(
            out,
            r#"<rect x="{x:.1}" y="{:.1}" width="18" height="18" rx="3" fill="{}" stroke="{}"/>"#,
            y - 14.0,
            term_fill(*term),
            term_stroke(*term)
        );
        let text = format!("term {term}");
        placer.fixed(x + 24.0, y, &text, Anchor::Start, look);
        x += 24.0 + super::width_of(&text, MIN_FONT) + 16.0;
    }
    if terms.len() > shown.len() {
        let text = format!("+{} terms", terms.len() - shown.len());
        placer.fixed(x, y, &text, Anchor::Start, look);
    }
    let _ = writeln!(
        out,
        r##"<line x1="24" y1="{:.1}" x2="24" y2="{:.1}" stroke="#111" stroke-width="4"/><rect x="150" y="{:.1}" width="22" height="16" rx="3" fill="white" stroke="#555" stroke-width="2" stroke-dasharray="5,3"/>"##,
        FOOTER_Y - 15.0,
        FOOTER_Y + 3.0,
        FOOTER_Y - 14.0
    );
    placer.fixed(34.0, FOOTER_Y, "commit point", Anchor::Start, look);
    let note = "dashed: not yet committed  ·  x←3: put x 3  ·  x+=a: append x a";
    placer.fixed(180.0, FOOTER_Y, note, Anchor::Start, look);
}
