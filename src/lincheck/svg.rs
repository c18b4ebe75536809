//! A picture of a violation: the failing key's operations on a time line, so a person sees
//! why no order exists.
//!
//! A row per client; each operation an interval from its call to its return (an unknown
//! outcome runs dashed to the right edge), labelled with the operation and its output,
//! above and below the row in turn so that neighbours' labels have room (the full text is
//! the interval's tooltip). The operations of the shrunk counterexample are red. The
//! longest order the search could linearize is a green line through the intervals, one
//! point per operation at the earliest instant it can take effect, numbered in order; the
//! ringed last point is where it gets stuck: no operation can go next. Time is drawn by
//! rank (every call and return a column), since the distances between them say nothing
//! about the order. A key with many operations is drawn around the counterexample only:
//! the operations overlapping its span.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use super::check::Violation;
use super::{Model, Operation};

/// At most this many operations are drawn.
const MAX_OPS: usize = 120;
const COLUMN: f64 = 26.0;
const ROW: f64 = 50.0;
const LEFT: f64 = 90.0;
const TOP: f64 = 70.0;
const FONT: &str = "DejaVu Sans Mono, Menlo, Consolas, monospace";
const CHAR: f64 = 11.0 * 0.61;
/// The legend's longest line, in characters.
const LEGEND_CHARS: f64 = 165.0;

/// The picture of `violation` in `ops`, with `longest` the longest linearizable order found
/// (indices into `ops`).
pub fn violation<M: Model>(
    model: &M,
    ops: &[Operation<M::Input, M::Output>],
    violation: &Violation,
    longest: &[usize],
) -> String {
    let shown = shown_ops(ops, violation);
    let columns = columns(ops, &shown);
    let clients: BTreeMap<u64, usize> = {
        let mut ids: Vec<u64> = shown.iter().map(|&i| ops[i].client).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
            .enumerate()
            .map(|(row, id)| (id, row))
            .collect()
    };
    // Wide enough for the time line and for the legend's line of text.
    let width = (LEFT + (columns.len() as f64 + 2.0) * COLUMN + 200.0).max(LEGEND_CHARS * CHAR);
    let height = TOP + clients.len() as f64 * ROW + 50.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         font-family=\"{FONT}\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" \
         fill=\"white\"/>"
    );
    let subject = model.name_partition(&violation.key);
    header(
        &mut svg,
        (&subject, violation),
        longest,
        violation.partition.len(),
        shown.len(),
    );
    for (client, row) in &clients {
        let y = TOP + *row as f64 * ROW;
        let _ = writeln!(
            svg,
            "<text x=\"8\" y=\"{:.1}\">client {client}</text>",
            y + 20.0
        );
    }
    let geometry = Geometry {
        columns: &columns,
        clients: &clients,
        right: width - 200.0,
    };
    // Labels go above and below a client's intervals in turn; a label may run on to where
    // the client's next operation on its side starts.
    let mut by_invoke = shown.clone();
    by_invoke.sort_by_key(|&i| ops[i].invoke);
    let mut count: HashMap<u64, usize> = HashMap::new();
    let sides: Vec<bool> = by_invoke
        .iter()
        .map(|&i| {
            let n = count.entry(ops[i].client).or_default();
            *n += 1;
            n.is_multiple_of(2)
        })
        .collect();
    let mut next_start: HashMap<(u64, bool), f64> = HashMap::new();
    for (&index, &below) in by_invoke.iter().zip(&sides).rev() {
        let op = &ops[index];
        let x0 = geometry.x(op.invoke);
        let next = next_start.insert((op.client, below), x0);
        let label = Label {
            room_px: next.unwrap_or(width) - x0 - 4.0,
            below,
            highlighted: violation.ops.binary_search(&index).is_ok(),
        };
        interval(&mut svg, model, op, &geometry, &label);
    }
    order_line(&mut svg, ops, &shown, longest, &geometry);
    svg.push_str("</svg>\n");
    svg
}

/// Where things go: a column per distinct time, a row per client.
struct Geometry<'a> {
    columns: &'a HashMap<u64, usize>,
    clients: &'a BTreeMap<u64, usize>,
    right: f64,
}

impl Geometry<'_> {
    fn x(&self, time: u64) -> f64 {
        LEFT + (self.columns.get(&time).copied().unwrap_or(0) as f64 + 0.5) * COLUMN
    }

    fn y(&self, client: u64) -> f64 {
        TOP + self.clients.get(&client).copied().unwrap_or(0) as f64 * ROW + 24.0
    }
}

/// The operations drawn: the partition's that overlap the counterexample's span (at most
/// [`MAX_OPS`] of them, and the counterexample's).
fn shown_ops<I, O>(ops: &[Operation<I, O>], violation: &Violation) -> Vec<usize> {
    let end = |op: &Operation<I, O>| op.returned().map_or(u64::MAX, |(_, at)| at);
    let counterexample = || violation.ops.iter().map(|&i| &ops[i]);
    let from = counterexample().map(|op| op.invoke).min().unwrap_or(0);
    let last = |op: &Operation<I, O>| op.returned().map_or(op.invoke, |(_, at)| at);
    let to = counterexample().map(last).max().unwrap_or(u64::MAX);
    let overlapping = violation
        .partition
        .iter()
        .copied()
        .filter(|&i| ops[i].invoke <= to && end(&ops[i]) >= from);
    let mut shown: Vec<usize> = overlapping.take(MAX_OPS).collect();
    shown.extend(violation.ops.iter().copied());
    shown.sort_unstable();
    shown.dedup();
    shown
}

/// A column for each distinct call and return time of the shown operations.
fn columns<I, O>(ops: &[Operation<I, O>], shown: &[usize]) -> HashMap<u64, usize> {
    let mut times: Vec<u64> = shown
        .iter()
        .flat_map(|&i| [Some(ops[i].invoke), ops[i].returned().map(|(_, at)| at)])
        .flatten()
        .collect();
    times.sort_unstable();
    times.dedup();
    times
        .into_iter()
        .enumerate()
        .map(|(column, time)| (time, column))
        .collect()
}

/// The title and legend; `subject` names the violation's partition (`key "x"`).
fn header(
    svg: &mut String,
    (subject, violation): (&str, &Violation),
    longest: &[usize],
    all: usize,
    shown: usize,
) {
    let minimal = if violation.minimal {
        "a minimal set"
    } else {
        "not shrunk to the end"
    };
    let red = match violation.ops.len() {
        1 => "this red operation".to_string(),
        n => format!("these {n} red operations"),
    };
    let title = format!("{subject}: {red} cannot be ordered ({minimal})");
    let legend = format!(
        "green line: the longest linearizable order found ({} of {} operations of {subject}); \
         ringed: where it gets stuck; dashed: outcome unknown; {shown} of {all} drawn",
        longest.len(),
        violation.partition.len()
    );
    let _ = writeln!(
        svg,
        "<text x=\"8\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{}</text>\n\
         <text x=\"8\" y=\"40\">{}</text>",
        esc(&title),
        esc(&legend)
    );
}

/// One operation's interval with its label.
fn interval<M: Model>(
    svg: &mut String,
    model: &M,
    op: &Operation<M::Input, M::Output>,
    geometry: &Geometry,
    label_at: &Label,
) {
    let (x0, y) = (geometry.x(op.invoke), geometry.y(op.client));
    let (x1, dash, output) = match op.returned() {
        Some((output, at)) => (geometry.x(at), "", model.describe_output(&op.input, output)),
        None => (geometry.right, " stroke-dasharray=\"4 3\"", "?".to_string()),
    };
    let (fill, stroke) = if label_at.highlighted {
        ("#f4a3a8", "#b00020")
    } else {
        ("#d6e4f0", "#5b7a99")
    };
    let label = format!("{} -> {output}", model.describe_input(&op.input));
    let room = (label_at.room_px / CHAR) as usize;
    let short: String = if label.chars().count() > room.max(6) {
        let mut cut: String = label.chars().take(room.max(6) - 1).collect();
        cut.push('…');
        cut
    } else {
        label.clone()
    };
    let _ = writeln!(
        svg,
        "<g><title>{}</title><rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"10\" \
         rx=\"3\" fill=\"{fill}\" stroke=\"{stroke}\"{dash}/>\
         <text x=\"{x0:.1}\" y=\"{:.1}\" fill=\"{stroke}\">{}</text></g>",
        esc(&label),
        y - 5.0,
        (x1 - x0).max(3.0),
        if label_at.below { y + 27.0 } else { y - 8.0 },
        esc(&short)
    );
}

/// The longest linearizable order found, through the shown operations: each point at the
/// earliest instant the operation can take effect after the one before.
fn order_line<I, O>(
    svg: &mut String,
    ops: &[Operation<I, O>],
    shown: &[usize],
    longest: &[usize],
    geometry: &Geometry,
) {
    let mut points = Vec::new();
    let mut previous = f64::MIN;
    for &index in longest {
        if shown.binary_search(&index).is_err() {
            continue;
        }
        let op = &ops[index];
        let end = op
            .returned()
            .map_or(geometry.right, |(_, at)| geometry.x(at));
        let x = geometry.x(op.invoke).max(previous).min(end);
        previous = x;
        points.push((x, geometry.y(op.client)));
    }
    if points.is_empty() {
        return;
    }
    let path: Vec<String> = points
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect();
    let _ = writeln!(
        svg,
        "<polyline points=\"{}\" fill=\"none\" stroke=\"#2a9d3a\" stroke-width=\"2\" \
         opacity=\"0.8\"/>",
        path.join(" ")
    );
    for (n, (x, y)) in points.iter().enumerate() {
        let _ = writeln!(
            svg,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3.5\" fill=\"#2a9d3a\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" fill=\"#2a9d3a\">{}</text>",
            x + 3.0,
            y + 14.0,
            n + 1
        );
    }
    if let Some((x, y)) = points.last() {
        let _ = writeln!(
            svg,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"7\" fill=\"none\" stroke=\"#2a9d3a\" \
             stroke-width=\"2\"><title>the order gets stuck here</title></circle>"
        );
    }
}

/// Where an interval's label goes and how much room it has.
struct Label {
    room_px: f64,
    below: bool,
    highlighted: bool,
}

/// Text made safe for XML content and attribute values (every SVG raftlab writes uses it).
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
