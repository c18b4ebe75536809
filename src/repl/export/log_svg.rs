//! The logs as a picture, as the Raft paper draws them (Figures 6 to 8): a row per node,
//! a column per index, each entry a box coloured by its term and labelled with it.
//!
//! A running node's entries past its commit index have a dashed border, and a dark bar
//! stands after its last committed entry (the commit point). The commit index is
//! volatile, so a node that is down shows neither. The leader's name is bold; a node that is
//! down is greyed. A log longer than [`MAX_ENTRIES`] shows only its last entries, with a
//! note of how many are left out.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::cluster::{NodePicture, NodeState};
use crate::raft::{Entry, NodeId, Role};

use super::style::{FONT, esc, term_fill, term_stroke, text_width};

/// The most columns drawn.
pub const MAX_ENTRIES: usize = 60;
/// What the legend says of the commit point.
const COMMIT_NOTE: &str = "commit point (dashed: not yet committed)";
/// The left margin, for node names.
const LEFT: f64 = 96.0;
const GAP: f64 = 4.0;
const ROW: f64 = 48.0;

/// The picture of `logs` (in the order given), with each node's state from `nodes`.
pub fn log_picture(logs: &[(NodeId, Vec<Entry>)], nodes: &[NodePicture], title: &str) -> String {
    let longest = logs.iter().map(|(_, l)| l.len()).max().unwrap_or(0);
    let first = longest.saturating_sub(MAX_ENTRIES) + 1;
    let columns = longest + 1 - first;
    let digits = logs
        .iter()
        .flat_map(|(_, l)| l.iter().map(|e| e.term.to_string().len()))
        .chain([longest.to_string().len()])
        .max()
        .unwrap_or(1);
    let cell = (18.0 + 9.0 * digits as f64).max(34.0);
    let top = if first > 1 { 84.0 } else { 66.0 };
    let terms: BTreeSet<u64> = logs
        .iter()
        .flat_map(|(_, l)| l.iter().map(|e| e.term))
        .collect();
    let legend_w = 16.0 + terms.len() as f64 * 80.0 + 8.0 + text_width(COMMIT_NOTE, 11.0) + 16.0;
    let width = (LEFT + columns as f64 * (cell + GAP) + 40.0).max(legend_w);
    let legend_y = top + logs.len() as f64 * ROW + 24.0;
    let height = legend_y + 40.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="{FONT}">
<rect width="100%" height="100%" fill="white"/>
<text x="16" y="26" font-size="16" font-weight="bold">{}</text>"##,
        esc(title)
    );
    if first > 1 {
        let _ = writeln!(
            out,
            r##"<text class="note" x="16" y="46" font-size="11" fill="#555">{} earlier entries not shown</text>"##,
            first - 1
        );
    }
    let x_of = |index: usize| LEFT + (index - first) as f64 * (cell + GAP);
    let _ = writeln!(out, r##"<g class="index" font-size="11" fill="#666">"##);
    let _ = writeln!(
        out,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="end">index</text>"#,
        LEFT - 12.0,
        top - 10.0
    );
    for index in first..=longest {
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{index}</text>"#,
            x_of(index) + cell / 2.0,
            top - 10.0
        );
    }
    out.push_str("</g>\n");
    for (row, (node, log)) in logs.iter().enumerate() {
        let status = nodes.iter().find(|s| s.id == *node);
        let y = top + row as f64 * ROW;
        draw_row(&mut out, *node, log, status, (first, cell, y), &x_of);
    }
    draw_legend(&mut out, &terms, legend_y);
    out.push_str("</svg>\n");
    out
}

/// One node's row: its name, its entries from index `first`, its commit point.
fn draw_row(
    out: &mut String,
    node: NodeId,
    log: &[Entry],
    status: Option<&NodePicture>,
    (first, cell, y): (usize, f64, f64),
    x_of: &dyn Fn(usize) -> f64,
) {
    let up = status.is_some_and(|s| s.state == NodeState::Up);
    let leader = up && status.is_some_and(|s| s.role == Some(Role::Leader));
    let commit = status.filter(|_| up).map_or(0, |s| s.commit as usize);
    let (weight, colour, note) = match (up, leader) {
        (_, true) => ("bold", "#000", "leader"),
        (true, false) => ("normal", "#000", ""),
        (false, _) => ("normal", "#999", "down"),
    };
    let _ = writeln!(out, r#"<g class="row" data-node="{node}">"#);
    let _ = writeln!(
        out,
        r##"<text x="{:.1}" y="{:.1}" font-size="15" font-weight="{weight}" fill="{colour}" text-anchor="end">n{node}</text><text x="{:.1}" y="{:.1}" font-size="10" fill="#888" text-anchor="end">{note}</text>"##,
        LEFT - 12.0,
        y + cell / 2.0 + (if note.is_empty() { 5.0 } else { 0.0 }),
        LEFT - 12.0,
        y + cell / 2.0 + 13.0
    );
    for entry in log.iter().filter(|e| e.index as usize >= first) {
        let x = x_of(entry.index as usize);
        let dash = if up && entry.index as usize > commit {
            r#" stroke-dasharray="4,3""#
        } else {
            ""
        };
        let _ = writeln!(
            out,
            r##"<g class="entry" data-index="{}" data-term="{}"><rect x="{x:.1}" y="{y:.1}" width="{cell:.1}" height="{cell:.1}" rx="3" fill="{}" stroke="{}" stroke-width="1.5"{dash}/><text x="{:.1}" y="{:.1}" font-size="15" font-weight="bold" text-anchor="middle" fill="#222">{}</text></g>"##,
            entry.index,
            entry.term,
            term_fill(entry.term),
            term_stroke(entry.term),
            x + cell / 2.0,
            y + cell / 2.0 + 5.0,
            entry.term
        );
    }
    if commit >= first {
        let x = x_of(commit) + cell + GAP / 2.0;
        let _ = writeln!(
            out,
            r##"<line class="commit" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#111" stroke-width="3"><title>n{node} commit index {commit}</title></line>"##,
            y - 4.0,
            y + cell + 4.0
        );
    }
    out.push_str("</g>\n");
}

fn draw_legend(out: &mut String, terms: &BTreeSet<u64>, y: f64) {
    let _ = writeln!(out, r#"<g class="legend" font-size="11">"#);
    let mut x = 16.0;
    for &term in terms {
        let _ = writeln!(
            out,
            r##"<rect x="{x:.1}" y="{:.1}" width="14" height="14" rx="2" fill="{}" stroke="{}"/><text x="{:.1}" y="{:.1}">term {term}</text>"##,
            y - 11.0,
            term_fill(term),
            term_stroke(term),
            x + 19.0,
            y
        );
        x += 80.0;
    }
    let _ = writeln!(
        out,
        r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#111" stroke-width="3"/><text x="{:.1}" y="{y:.1}">{COMMIT_NOTE}</text>
</g>"##,
        y - 13.0,
        y + 3.0,
        x + 8.0
    );
}
