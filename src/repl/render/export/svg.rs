//! The message sequence diagram: a [`Timeline`] as SVG.
//!
//! One vertical lane per node, time flowing down. A lane is a thin line in the colour of
//! the node's term while it follows, a pale band in that colour while it is a candidate,
//! a full band while it leads, and a grey dashed line while it is down. Each message is an
//! arrow from its send to its delivery, coloured by type; a dropped one ends in a red x,
//! one still in flight is dashed. Commits are small ticks with the new commit index,
//! kills, crashes and restarts are marked on the lane, network changes run across all
//! lanes, and client operations come from a `clients` column on the left.
//!
//! Time is not to one scale: a run is bursts of messages (a few milliseconds each)
//! between long quiet stretches (heartbeat intervals, election timeouts). Within a burst
//! one millisecond is [`PX_PER_MS`] pixels; no stretch is drawn longer than [`MAX_GAP_PX`]
//! pixels, and one that would be more than twice that has a dotted break line that says
//! how much time it hides.
//!
//! Labels are placed greedily, important first (roles, faults, commits, then messages
//! with entries, then heartbeats); a label that would overlap another is left out, and its
//! arrow keeps a tooltip (`<title>`) with the whole message.

use std::fmt::Write;

use crate::raft::NodeId;
use crate::repl::words::fmt_ms;

use super::style::{ArrowClass, FONT, brief, drop_cross, esc, term_fill, term_stroke, text_width};
use super::timeline::{Arrow, ClientSpan, Fate, Mark, MarkKind, Span, SpanRole, Timeline};

/// Pixels per millisecond inside a burst.
pub const PX_PER_MS: f64 = 12.0;
/// The longest a quiet stretch is drawn, in pixels.
pub const MAX_GAP_PX: f64 = 48.0;
/// The most arrows one picture draws (see [`Timeline::thin`]).
pub const MAX_ARROWS: usize = 400;
/// The tallest the time axis is drawn, in pixels; a taller run is squeezed to fit.
const MAX_BODY_PX: f64 = 16_000.0;
/// The left margin, for the time axis.
const LEFT: f64 = 90.0;
/// The right margin, for labels of the last lane and of network changes.
const RIGHT: f64 = 190.0;
/// Label font size.
const LABEL: f64 = 10.0;

/// Where everything goes.
struct Layout {
    lane_w: f64,
    /// Whether the leftmost column is the clients'.
    clients: bool,
    columns: usize,
    top: f64,
    bottom: f64,
    scale: Scale,
}

impl Layout {
    fn x_col(&self, column: usize) -> f64 {
        LEFT + (column as f64 + 0.5) * self.lane_w
    }

    fn x(&self, node: NodeId) -> f64 {
        let column = node.saturating_sub(1) as usize + usize::from(self.clients);
        self.x_col(column)
    }

    fn width(&self) -> f64 {
        LEFT + self.columns as f64 * self.lane_w + RIGHT
    }
}

/// The time axis: a y for each time at which something is drawn.
struct Scale {
    times: Vec<u64>,
    ys: Vec<f64>,
    /// The quiet stretches drawn shorter: (y in the middle, the time they hide).
    breaks: Vec<(f64, u64)>,
}

impl Scale {
    fn new(mut times: Vec<u64>, top: f64) -> Scale {
        times.sort_unstable();
        times.dedup();
        let gaps: Vec<(f64, bool)> = times
            .windows(2)
            .map(|w| {
                let px = (w[1] - w[0]) as f64 / 1000.0 * PX_PER_MS;
                (px.min(MAX_GAP_PX), px > 2.0 * MAX_GAP_PX)
            })
            .collect();
        let total: f64 = gaps.iter().map(|g| g.0).sum();
        let squeeze = if total > MAX_BODY_PX {
            MAX_BODY_PX / total
        } else {
            1.0
        };
        let mut ys = vec![top];
        let mut breaks = Vec::new();
        let mut y = top;
        for (i, (px, is_break)) in gaps.into_iter().enumerate() {
            let next = y + px * squeeze;
            if is_break && let (Some(a), Some(b)) = (times.get(i), times.get(i + 1)) {
                breaks.push(((y + next) / 2.0, b - a));
            }
            y = next;
            ys.push(y);
        }
        Scale { times, ys, breaks }
    }

    fn y(&self, time_us: u64) -> f64 {
        match self.times.binary_search(&time_us) {
            Ok(i) => self.ys.get(i).copied().unwrap_or(0.0),
            Err(0) => self.ys.first().copied().unwrap_or(0.0),
            Err(i) if i >= self.times.len() => self.ys.last().copied().unwrap_or(0.0),
            Err(i) => {
                let (t0, t1) = (self.times[i - 1] as f64, self.times[i] as f64);
                let (y0, y1) = (self.ys[i - 1], self.ys[i]);
                y0 + (y1 - y0) * (time_us as f64 - t0) / (t1 - t0)
            }
        }
    }

    /// The times at which a quiet stretch ends and drawing goes on.
    fn break_ends(&self) -> Vec<u64> {
        self.times
            .windows(2)
            .filter(|w| (w[1] - w[0]) as f64 / 1000.0 * PX_PER_MS > 2.0 * MAX_GAP_PX)
            .map(|w| w[1])
            .collect()
    }

    fn end(&self) -> f64 {
        self.ys.last().copied().unwrap_or(0.0)
    }
}

/// The labels placed so far, drawn last (over every line); a new label goes only where
/// it overlaps none.
#[derive(Default)]
struct Labels {
    boxes: Vec<(f64, f64, f64, f64)>,
    skipped: usize,
    layer: String,
}

impl Labels {
    /// Places `text` with its baseline at `baseline`, if there is room; whether it went.
    fn place(
        &mut self,
        at: (f64, f64),
        text: &str,
        anchor: Anchor,
        colour: &str,
        bold: bool,
    ) -> bool {
        let (x, baseline) = at;
        let w = text_width(text, LABEL);
        let left = match anchor {
            Anchor::Start => x,
            Anchor::Middle => x - w / 2.0,
            Anchor::End => x - w,
        };
        if !self.claim(left, baseline - 9.0, left + w, baseline + 2.5) {
            return false;
        }
        self.layer
            .push_str(&label(x, baseline, text, anchor, colour, bold));
        true
    }

    /// Claims the box from (x0, y0) to (x1, y1); false if it overlaps one claimed before.
    fn claim(&mut self, x0: f64, y0: f64, x1: f64, y1: f64) -> bool {
        let free = self
            .boxes
            .iter()
            .all(|&(a0, b0, a1, b1)| x1 <= a0 || a1 <= x0 || y1 <= b0 || b1 <= y0);
        if free {
            self.boxes.push((x0, y0, x1, y1));
        } else {
            self.skipped += 1;
        }
        free
    }
}

/// The diagram of `timeline`, titled `title`.
pub fn sequence_diagram(timeline: &Timeline, title: &str) -> String {
    let notes = notes(timeline);
    let layout = layout(timeline, notes.len());
    let mut labels = Labels::default();
    let mut body = String::new();
    draw_breaks(&mut body, &layout);
    draw_spans(&mut body, &layout, timeline, &mut labels);
    draw_marks(&mut body, &layout, timeline, &mut labels);
    draw_clients(&mut body, &layout, &timeline.clients, &mut labels);
    draw_arrows(&mut body, &layout, &timeline.arrows, &mut labels);
    body.push_str(&labels.layer);
    draw_time_axis(&mut body, &layout, timeline);
    let legend_y = layout.bottom + 56.0;
    let height = legend_y + 60.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{height:.0}" viewBox="0 0 {w:.0} {height:.0}" font-family="{FONT}">"##,
        w = layout.width()
    );
    write_defs(&mut out);
    let _ = writeln!(
        out,
        r##"<rect width="100%" height="100%" fill="white"/>
<text x="16" y="24" font-size="15" font-weight="bold">{}</text>"##,
        esc(title)
    );
    for (i, note) in notes.iter().enumerate() {
        let y = 42.0 + 14.0 * i as f64;
        let _ = writeln!(
            out,
            r##"<text class="note" x="16" y="{y:.0}" font-size="11" fill="#555">{}</text>"##,
            esc(note)
        );
    }
    draw_heads(&mut out, &layout, timeline.nodes);
    out.push_str(&body);
    draw_legend(&mut out, legend_y);
    if labels.skipped > 0 {
        let _ = writeln!(
            out,
            r##"<text class="note" x="16" y="{:.1}" font-size="10" fill="#777">{} labels did not fit; every arrow, span and mark has a tooltip with the details.</text>"##,
            legend_y + 44.0,
            labels.skipped
        );
    }
    out.push_str("</svg>\n");
    out
}

/// The lines under the title: the window, and what was left out.
fn notes(timeline: &Timeline) -> Vec<String> {
    let mut notes = vec![format!(
        "{} messages. Time flows down, {PX_PER_MS}px a millisecond; longer quiet stretches \
         are cut short (+time hidden).",
        timeline.arrows.len()
    )];
    let left_out = &timeline.left_out;
    if left_out.heartbeats > 0 {
        notes.push(format!(
            "{} heartbeats (AppendEntries with no entries) and their answers left out",
            left_out.heartbeats
        ));
    }
    if let Some(cut_us) = left_out.cut_us {
        notes.push(format!(
            "the picture stops at t = {}: {} later messages left out \
             (export a window FROM..TO to see them)",
            fmt_ms(cut_us),
            left_out.after_cut
        ));
    }
    notes
}

fn layout(timeline: &Timeline, notes: usize) -> Layout {
    let clients = !timeline.clients.is_empty();
    let columns = timeline.nodes as usize + usize::from(clients);
    let lane_w = (1050.0 / columns.max(1) as f64).clamp(56.0, 150.0);
    let top = 42.0 + 14.0 * notes as f64 + 54.0;
    let (lo, hi) = timeline.extent_us();
    let mut times = vec![lo, hi];
    for arrow in &timeline.arrows {
        times.extend([arrow.sent_us, arrow.end_us]);
    }
    times.extend(timeline.marks.iter().map(|m| m.time_us));
    for span in &timeline.spans {
        times.extend([span.start_us, span.end_us]);
    }
    for client in &timeline.clients {
        times.push(client.start_us);
        times.extend(client.end_us);
    }
    let scale = Scale::new(times, top);
    let bottom = scale.end() + 24.0;
    Layout {
        lane_w,
        clients,
        columns,
        top,
        bottom,
        scale,
    }
}

fn write_defs(out: &mut String) {
    out.push_str("<defs>\n");
    for class in ArrowClass::ALL {
        let _ = writeln!(
            out,
            r##"<marker id="{}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{}"/></marker>"##,
            class.name(),
            class.colour()
        );
    }
    out.push_str(
        r##"<marker id="client" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker>
</defs>
"##,
    );
}

/// The node names above and below the lanes.
fn draw_heads(out: &mut String, layout: &Layout, nodes: u64) {
    let mut heads: Vec<(f64, String)> = (1..=nodes)
        .map(|n| (layout.x(n), format!("n{n}")))
        .collect();
    if layout.clients {
        heads.push((layout.x_col(0), "clients".to_string()));
    }
    let w = (layout.lane_w - 12.0).min(64.0);
    for y in [layout.top - 40.0, layout.bottom + 4.0] {
        for (x, name) in &heads {
            let _ = writeln!(
                out,
                r##"<g class="head"><rect x="{:.1}" y="{y:.1}" width="{w:.1}" height="22" rx="4" fill="#f5f5f5" stroke="#888"/><text x="{x:.1}" y="{:.1}" font-size="12" font-weight="bold" text-anchor="middle">{name}</text></g>"##,
                x - w / 2.0,
                y + 15.5,
            );
        }
    }
}

/// The dotted lines across quiet stretches, with the time each hides.
fn draw_breaks(out: &mut String, layout: &Layout) {
    let x1 = LEFT + layout.columns as f64 * layout.lane_w;
    for &(y, hidden_us) in &layout.scale.breaks {
        let _ = writeln!(
            out,
            r##"<g class="break"><line x1="{LEFT:.1}" y1="{y:.1}" x2="{x1:.1}" y2="{y:.1}" stroke="#bbb" stroke-dasharray="1,4"/><text x="{:.1}" y="{:.1}" font-size="9" fill="#999" text-anchor="end" font-style="italic">+{}</text></g>"##,
            LEFT - 6.0,
            y + 3.0,
            fmt_ms(hidden_us)
        );
    }
}

/// Each lane: its spans, in role and term colours, and a label at each new role.
fn draw_spans(out: &mut String, layout: &Layout, timeline: &Timeline, labels: &mut Labels) {
    for node in 1..=timeline.nodes {
        let x = layout.x(node);
        let _ = writeln!(out, r#"<g class="lane" data-node="{node}">"#);
        let _ = writeln!(
            out,
            r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#eee" stroke-width="1"/>"##,
            layout.top - 18.0,
            layout.bottom
        );
        for span in timeline.spans.iter().filter(|s| s.node == node) {
            draw_span(out, layout, span, labels);
        }
        out.push_str("</g>\n");
    }
}

fn draw_span(out: &mut String, layout: &Layout, span: &Span, labels: &mut Labels) {
    let x = layout.x(span.node);
    let (y0, y1) = (layout.scale.y(span.start_us), layout.scale.y(span.end_us));
    let (fill, stroke) = (term_fill(span.term), term_stroke(span.term));
    let title = format!(
        "n{} {} in term {}, {} .. {}",
        span.node,
        span.role.name(),
        span.term,
        fmt_ms(span.start_us),
        fmt_ms(span.end_us)
    );
    let shape = match span.role {
        SpanRole::Follower => format!(
            r##"<line x1="{x:.1}" y1="{y0:.1}" x2="{x:.1}" y2="{y1:.1}" stroke="{stroke}" stroke-width="2"/>"##
        ),
        SpanRole::Candidate => format!(
            r##"<rect x="{:.1}" y="{y0:.1}" width="12" height="{:.1}" fill="{fill}" fill-opacity="0.45" stroke="{stroke}" stroke-dasharray="3,2"/>"##,
            x - 6.0,
            (y1 - y0).max(1.0)
        ),
        SpanRole::Leader => format!(
            r##"<rect x="{:.1}" y="{y0:.1}" width="16" height="{:.1}" fill="{fill}" stroke="{stroke}"/>"##,
            x - 8.0,
            (y1 - y0).max(1.0)
        ),
        SpanRole::Down => format!(
            r##"<line x1="{x:.1}" y1="{y0:.1}" x2="{x:.1}" y2="{y1:.1}" stroke="#999" stroke-width="2" stroke-dasharray="2,5"/>"##
        ),
    };
    let _ = writeln!(
        out,
        r#"<g class="span {}"><title>{}</title>{shape}</g>"#,
        span.role.name(),
        esc(&title)
    );
    let text = match span.role {
        SpanRole::Candidate => format!("candidate t{}", span.term),
        SpanRole::Leader => format!("leader t{}", span.term),
        _ => return,
    };
    let (lx, ly) = (x - 10.0, y0 + 10.0);
    labels.place((lx, ly), &text, Anchor::End, &stroke, true);
}

/// Kills, crashes, restarts, commits, truncations and network changes.
fn draw_marks(out: &mut String, layout: &Layout, timeline: &Timeline, labels: &mut Labels) {
    for (i, mark) in timeline.marks.iter().enumerate() {
        let y = layout.scale.y(mark.time_us);
        match mark.node {
            Some(node) => {
                let later = timeline.marks.get(i + 1..).unwrap_or_default();
                let labelled = !superseded(layout, mark, later);
                draw_node_mark(out, (layout.x(node), y), mark, labelled, labels)
            }
            None => {
                let x1 = LEFT + layout.columns as f64 * layout.lane_w;
                let text = match &mark.kind {
                    MarkKind::Network(change) | MarkKind::Violation(change) => change.as_str(),
                    _ => "",
                };
                let _ = writeln!(
                    out,
                    r##"<g class="mark network"><line x1="{LEFT:.1}" y1="{y:.1}" x2="{x1:.1}" y2="{y:.1}" stroke="#7b1fa2" stroke-dasharray="6,3"/><text x="{:.1}" y="{:.1}" font-size="{LABEL}" fill="#7b1fa2">{}</text></g>"##,
                    x1 + 4.0,
                    y + 3.5,
                    esc(text)
                );
            }
        }
    }
}

/// Whether a commit mark has a later one on its lane close enough that one label would
/// cover the other: then only the later (higher) index is labelled.
fn superseded(layout: &Layout, mark: &Mark, later: &[Mark]) -> bool {
    let y = layout.scale.y(mark.time_us);
    matches!(mark.kind, MarkKind::Commit(_))
        && later.iter().any(|m| {
            m.node == mark.node
                && matches!(m.kind, MarkKind::Commit(_))
                && layout.scale.y(m.time_us) - y < 12.0
        })
}

fn draw_node_mark(
    out: &mut String,
    (x, y): (f64, f64),
    mark: &Mark,
    labelled: bool,
    labels: &mut Labels,
) {
    let (class, text, colour) = match &mark.kind {
        MarkKind::Killed => ("killed", "killed".to_string(), "#c62828"),
        MarkKind::Crashed(_) => ("crashed", "crashed".to_string(), "#c62828"),
        MarkKind::Restarted => ("restarted", "restarted".to_string(), "#2e7d32"),
        MarkKind::Commit(index) => ("commit", format!("c{index}"), "#1b5e20"),
        MarkKind::Truncated { from, .. } => ("truncated", format!("cut ≥{from}"), "#6d4c41"),
        MarkKind::Violation(_) => ("violation", "SAFETY".to_string(), "#b71c1c"),
        MarkKind::Network(_) => return,
    };
    let title = match &mark.kind {
        MarkKind::Crashed(message) => format!("crashed: {message}"),
        MarkKind::Violation(detail) => detail.clone(),
        MarkKind::Commit(index) => format!("commit index -> {index}"),
        MarkKind::Truncated { from, removed } => {
            format!("{removed} conflicting entries from index {from} removed")
        }
        _ => text.clone(),
    };
    let shape = match &mark.kind {
        MarkKind::Killed | MarkKind::Crashed(_) | MarkKind::Violation(_) => format!(
            r##"<path d="M{:.1},{:.1} l12,12 m0,-12 l-12,12" stroke="{colour}" stroke-width="3"/>"##,
            x - 6.0,
            y - 6.0
        ),
        MarkKind::Restarted => format!(
            r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{colour}" stroke-width="3"/>"##,
            x - 9.0,
            x + 9.0
        ),
        _ => format!(
            r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{colour}" stroke-width="2"/>"##,
            x + 2.0,
            x + 10.0
        ),
    };
    let (lx, ly) = (x + 12.0, y + 3.5);
    if labelled {
        labels.place((lx, ly), &text, Anchor::Start, colour, true);
    }
    let _ = writeln!(
        out,
        r#"<g class="mark {class}"><title>{}</title>{shape}</g>"#,
        esc(&title)
    );
}

/// Client operations: an arrow from the clients' column to the node it went to, and one
/// back when it ended.
fn draw_clients(out: &mut String, layout: &Layout, clients: &[ClientSpan], labels: &mut Labels) {
    if !layout.clients {
        return;
    }
    let xc = layout.x_col(0);
    let _ = writeln!(
        out,
        r##"<line x1="{xc:.1}" y1="{:.1}" x2="{xc:.1}" y2="{:.1}" stroke="#bbb" stroke-dasharray="4,3"/>"##,
        layout.top - 18.0,
        layout.bottom
    );
    for client in clients {
        let xt = layout.x(client.target);
        let y0 = layout.scale.y(client.start_us);
        let mut ends = vec![(xc, y0, xt, y0, client.request.clone())];
        if let (Some(end_us), Some(outcome)) = (client.end_us, &client.outcome) {
            let y1 = layout.scale.y(end_us);
            ends.push((xt, y1, xc, y1, outcome.clone()));
        }
        let _ = writeln!(
            out,
            r#"<g class="client"><title>op {}: {}</title>"#,
            client.op,
            esc(&client.request)
        );
        for (x0, y0, x1, y1, text) in ends {
            let _ = writeln!(
                out,
                r##"<line x1="{x0:.1}" y1="{y0:.1}" x2="{x1:.1}" y2="{y1:.1}" stroke="#444" stroke-width="1.5" marker-end="url(#client)"/>"##
            );
            labels.place((xc + 6.0, y0 - 3.0), &text, Anchor::Start, "#333", true);
        }
        out.push_str("</g>\n");
    }
}

/// The messages: important ones' labels are placed first.
fn draw_arrows(out: &mut String, layout: &Layout, arrows: &[Arrow], labels: &mut Labels) {
    let mut order: Vec<&Arrow> = arrows.iter().collect();
    order.sort_by_key(|a| (a.heartbeat, a.sent_us));
    for arrow in order {
        arrow_label(layout, arrow, labels);
    }
    for arrow in arrows {
        draw_arrow(out, layout, arrow);
    }
}

/// Whether a message was dropped as it was sent (a cut link, loss): it never left.
fn stillborn(arrow: &Arrow) -> bool {
    arrow.sent_us == arrow.end_us && matches!(arrow.fate, Fate::Dropped(_))
}

/// The two ends of an arrow on the page. A message that never left is a short stub
/// towards its receiver, not reaching the next lane; stubs to farther nodes slope more,
/// so that a broadcast into a partition fans out.
fn arrow_ends(layout: &Layout, arrow: &Arrow) -> (f64, f64, f64, f64) {
    let (x0, x1) = (layout.x(arrow.info.from()), layout.x(arrow.info.to()));
    let (y0, y1) = (layout.scale.y(arrow.sent_us), layout.scale.y(arrow.end_us));
    if stillborn(arrow) {
        let lanes = ((x1 - x0) / layout.lane_w).abs();
        let stub = (x1 - x0).signum() * layout.lane_w * 0.4;
        return (x0, y0, x0 + stub, y0 + 4.0 + 5.0 * lanes);
    }
    (x0, y0, x1, y1)
}

fn draw_arrow(out: &mut String, layout: &Layout, arrow: &Arrow) {
    let class = ArrowClass::of(&arrow.info, arrow.heartbeat);
    let (x0, y0, x1, y1) = arrow_ends(layout, arrow);
    let colour = class.colour();
    let width = match class {
        ArrowClass::Heartbeat | ArrowClass::HeartbeatResponse => 1.0,
        _ => 1.6,
    };
    let (dash, end) = match arrow.fate {
        Fate::Delivered => ("", format!(r#" marker-end="url(#{})""#, class.name())),
        Fate::InFlight => (r#" stroke-dasharray="5,3""#, String::new()),
        Fate::Dropped(_) => (r#" stroke-dasharray="2,2""#, String::new()),
    };
    let fate = match arrow.fate {
        Fate::Delivered => "delivered".to_string(),
        Fate::InFlight => "in flight".to_string(),
        Fate::Dropped(reason) => format!("dropped: {}", crate::repl::words::drop_reason(reason)),
    };
    let copy = arrow
        .copy_of
        .map_or(String::new(), |o| format!(" (copy of #{o})"));
    let _ = write!(
        out,
        r##"<g class="msg {}" data-id="{}"><title>#{}{copy} n{} -> n{} {} at {}, {fate} at {}</title><line x1="{x0:.1}" y1="{y0:.1}" x2="{x1:.1}" y2="{y1:.1}" stroke="{colour}" stroke-width="{width}"{dash}{end}/>"##,
        class.name(),
        arrow.id,
        arrow.id,
        arrow.info.from(),
        arrow.info.to(),
        esc(&arrow.info.to_string()),
        fmt_ms(arrow.sent_us),
        fmt_ms(arrow.end_us)
    );
    if matches!(arrow.fate, Fate::Dropped(_)) {
        drop_cross(out, (x1, y1), 8.0, 2.0);
    }
    out.push_str("</g>\n");
}

/// The label of an arrow, if it has room: half a lane from the follower's end (the
/// receiver of a request, the sender of an answer), above a request's line and below an
/// answer's (clear of the line's slope), so a request and its answer do not cover each
/// other.
fn arrow_label(layout: &Layout, arrow: &Arrow, labels: &mut Labels) {
    if stillborn(arrow) {
        return;
    }
    let text = brief(&arrow.info);
    let class = ArrowClass::of(&arrow.info, arrow.heartbeat);
    let (x0, y0, x1, y1) = arrow_ends(layout, arrow);
    let lanes = ((x1 - x0) / layout.lane_w).abs().max(0.01);
    let answer = matches!(
        class,
        ArrowClass::VoteResponse | ArrowClass::AppendResponse | ArrowClass::HeartbeatResponse
    );
    let along = if answer {
        0.5 / lanes
    } else {
        1.0 - 0.5 / lanes
    };
    let along = along.clamp(0.0, 1.0);
    let (x, y) = (x0 + (x1 - x0) * along, y0 + (y1 - y0) * along);
    let w = text_width(&text, LABEL);
    let slope = if (x1 - x0).abs() > 1.0 {
        ((y1 - y0) / (x1 - x0)).abs()
    } else {
        0.0
    };
    let rise = (slope * w / 2.0).min(40.0);
    let baseline = if answer {
        y + 11.0 + rise
    } else {
        y - 4.0 - rise
    };
    labels.place((x, baseline), &text, Anchor::Middle, class.colour(), false);
}

/// Where a label's `x` is.
#[derive(Clone, Copy)]
enum Anchor {
    Start,
    Middle,
    End,
}

/// A label on a white backing, so that lines behind it do not strike it through.
fn label(x: f64, baseline: f64, text: &str, anchor: Anchor, colour: &str, bold: bool) -> String {
    let w = text_width(text, LABEL);
    let (left, name) = match anchor {
        Anchor::Start => (x, "start"),
        Anchor::Middle => (x - w / 2.0, "middle"),
        Anchor::End => (x - w, "end"),
    };
    let weight = if bold { r#" font-weight="bold""# } else { "" };
    format!(
        r##"<g class="label"><rect x="{:.1}" y="{:.1}" width="{:.1}" height="11" fill="white" fill-opacity="0.85"/><text x="{x:.1}" y="{baseline:.1}" font-size="{LABEL}" fill="{colour}" text-anchor="{name}"{weight}>{}</text></g>
"##,
        left - 1.5,
        baseline - 8.5,
        w + 3.0,
        esc(text)
    )
}

/// Times in the left margin at role changes, faults, commits and client operations, where
/// there is room.
fn draw_time_axis(out: &mut String, layout: &Layout, timeline: &Timeline) {
    let mut times: Vec<u64> = timeline
        .spans
        .iter()
        .filter(|s| s.role != SpanRole::Follower)
        .map(|s| s.start_us)
        .chain(timeline.marks.iter().map(|m| m.time_us))
        .chain(timeline.clients.iter().map(|c| c.start_us))
        .chain([timeline.extent_us().0])
        .chain(layout.scale.break_ends())
        .collect();
    times.sort_unstable();
    times.dedup();
    let mut last_y = f64::NEG_INFINITY;
    for time_us in times {
        let y = layout.scale.y(time_us);
        let near_break = layout.scale.breaks.iter().any(|b| (b.0 - y).abs() < 10.0);
        if y - last_y < 13.0 || near_break {
            continue;
        }
        last_y = y;
        let _ = writeln!(
            out,
            r##"<g class="time"><line x1="{:.1}" y1="{y:.1}" x2="{LEFT:.1}" y2="{y:.1}" stroke="#999"/><text x="{:.1}" y="{:.1}" font-size="9" fill="#666" text-anchor="end">{}</text></g>"##,
            LEFT - 5.0,
            LEFT - 7.0,
            y + 3.0,
            fmt_ms(time_us)
        );
    }
}

/// What the colours and marks mean.
fn draw_legend(out: &mut String, y: f64) {
    let mut x = 16.0;
    let _ = writeln!(out, r#"<g class="legend" font-size="{LABEL}">"#);
    for class in ArrowClass::ALL {
        let _ = writeln!(
            out,
            r##"<line x1="{x:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{}" stroke-width="1.6" marker-end="url(#{})"/><text x="{:.1}" y="{:.1}">{}</text>"##,
            x + 26.0,
            class.colour(),
            class.name(),
            x + 30.0,
            y + 3.5,
            class.legend()
        );
        x += 42.0 + text_width(class.legend(), LABEL);
    }
    let y2 = y + 22.0;
    let _ = writeln!(
        out,
        r##"<rect x="16" y="{:.1}" width="12" height="14" fill="{}" fill-opacity="0.45" stroke="{}" stroke-dasharray="3,2"/><text x="34" y="{:.1}">candidate</text>
<rect x="110" y="{:.1}" width="16" height="14" fill="{}" stroke="{}"/><text x="132" y="{:.1}">leader (colour = term)</text>
<line x1="300" y1="{:.1}" x2="300" y2="{:.1}" stroke="#999" stroke-width="2" stroke-dasharray="2,5"/><text x="308" y="{:.1}">down</text>
<path d="M360,{:.1} l8,8 m0,-8 l-8,8" stroke="#d32f2f" stroke-width="2"/><text x="374" y="{:.1}">dropped (a stub if it never left)</text>
<line x1="560" y1="{:.1}" x2="578" y2="{:.1}" stroke="#90b4d8" stroke-dasharray="5,3"/><text x="584" y="{:.1}">in flight</text>
<text x="660" y="{:.1}" fill="#1b5e20" font-weight="bold">c4</text><text x="680" y="{:.1}">commit index</text>
</g>"##,
        y2 - 7.0,
        term_fill(1),
        term_stroke(1),
        y2 + 3.5,
        y2 - 7.0,
        term_fill(2),
        term_stroke(2),
        y2 + 3.5,
        y2 - 7.0,
        y2 + 7.0,
        y2 + 3.5,
        y2 - 4.0,
        y2 + 3.5,
        y2,
        y2,
        y2 + 3.5,
        y2 + 3.5,
        y2 + 3.5,
    );
}
