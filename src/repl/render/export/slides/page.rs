//! A run as slides: the pages of a [`Timeline`], each a 1280×720 SVG.
//!
//! One row per node, time flowing to the right (a slide is wide, a run is long); a
//! `clients` row on top when clients ran. A row is a thin line in the colour of the
//! node's term while it follows, a band while it is a candidate, a wide band while it
//! leads, a grey dashed line while it is down. Messages are arrows between rows, coloured
//! by type; a lost one ends in a red x. Heartbeat rounds are folded into one ◆ on the
//! leader's row unless asked for. Commits, faults and network changes are marked where
//! they happen; client operations are bars in the clients row, said in words.
//!
//! Labels are placed by importance (faults, roles, clients, commits, then messages) with
//! [`Placer`]: moved, abbreviated, or left out and counted in the footer.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::raft::NodeId;
use crate::repl::export::style::{ArrowClass, FONT, drop_cross, esc, term_fill, term_stroke};
use crate::repl::export::timeline::{
    Arrow, ClientSpan, Fate, Mark, MarkKind, Span, SpanRole, Timeline,
};
use crate::repl::words::fmt_ms;

use super::labels::{Anchor, Label, Look, Placer, TextBox};
use super::scale::{Axis, PageSpan};
use super::words::{client_colour, client_texts};
use super::{HEIGHT, Slide, SlideOptions, WIDTH};

/// The left edge of the plot (row names stand before it) and its right edge.
const X0: f64 = 120.0;
const X1: f64 = 1250.0;
/// The width of a page of the time axis.
const PAGE_PX: f64 = X1 - X0 - 30.0;
const PLOT_TOP: f64 = 66.0;
const PLOT_BOTTOM: f64 = 596.0;
const AXIS_Y: f64 = 624.0;
const LEGEND_Y: f64 = 664.0;
const FOOTER_Y: f64 = 703.0;
/// The size of labels; nothing on a slide is smaller.
const LABEL: f64 = 14.0;

/// What one page draws from, and where.
struct Page<'a> {
    timeline: &'a Timeline,
    axis: &'a Axis,
    from_us: u64,
    to_us: u64,
    /// The x of `from_us`.
    x_from: f64,
    clients: bool,
    row_h: f64,
}

impl Page<'_> {
    fn x(&self, time_us: u64) -> f64 {
        (X0 + 12.0 + self.axis.x(time_us) - self.x_from).min(X1)
    }

    fn y(&self, node: NodeId) -> f64 {
        let row = node.saturating_sub(1) as f64 + f64::from(u8::from(self.clients));
        PLOT_TOP + (row + 0.5) * self.row_h
    }

    fn shows(&self, time_us: u64) -> bool {
        (self.from_us..=self.to_us).contains(&time_us)
    }
}

/// The messages drawn, and the heartbeat rounds folded: (leader, time).
struct Drawn<'a> {
    arrows: Vec<&'a Arrow>,
    rounds: Vec<(NodeId, u64)>,
}

fn drawn<'a>(timeline: &'a Timeline, options: SlideOptions) -> Drawn<'a> {
    if options.heartbeats {
        let arrows = timeline.arrows.iter().collect();
        return Drawn {
            arrows,
            rounds: Vec::new(),
        };
    }
    let mut rounds = BTreeMap::new();
    let mut arrows = Vec::new();
    for arrow in &timeline.arrows {
        match ArrowClass::of(&arrow.info, arrow.heartbeat) {
            ArrowClass::Heartbeat => {
                rounds.insert((arrow.sent_us, arrow.info.from()), ());
            }
            ArrowClass::HeartbeatResponse => {}
            _ => arrows.push(arrow),
        }
    }
    let rounds = rounds.into_keys().map(|(t, node)| (node, t)).collect();
    Drawn { arrows, rounds }
}

/// The pages of `timeline`, each a slide.
pub fn pages(timeline: &Timeline, title: &str, options: SlideOptions) -> Vec<Slide> {
    let drawn = drawn(timeline, options);
    let axis = Axis::new(axis_times(timeline, &drawn));
    let spans: Vec<(u64, u64)> = drawn.arrows.iter().map(|a| (a.sent_us, a.end_us)).collect();
    let page_spans = axis.pages(PAGE_PX, &spans);
    let rows = timeline.nodes as f64 + f64::from(u8::from(!timeline.clients.is_empty()));
    let row_h = ((PLOT_BOTTOM - PLOT_TOP) / rows.max(1.0)).min(110.0);
    let count = page_spans.len();
    page_spans
        .iter()
        .enumerate()
        .map(|(i, span)| {
            let page = Page {
                timeline,
                axis: &axis,
                from_us: axis.time(span.first),
                to_us: axis.time(span.last),
                x_from: axis.x(axis.time(span.first)),
                clients: !timeline.clients.is_empty(),
                row_h,
            };
            let heading = Heading {
                title,
                number: i + 1,
                count,
            };
            draw_page(&page, &drawn, *span, &heading)
        })
        .collect()
}

/// Every time at which something is drawn.
fn axis_times(timeline: &Timeline, drawn: &Drawn) -> Vec<u64> {
    let (lo, hi) = (timeline.from_us, timeline.to_us);
    let mut times = vec![lo, hi];
    for arrow in &drawn.arrows {
        times.extend([arrow.sent_us, arrow.end_us]);
    }
    times.extend(drawn.rounds.iter().map(|&(_, t)| t));
    times.extend(timeline.marks.iter().map(|m| m.time_us));
    for span in &timeline.spans {
        times.extend([span.start_us, span.end_us]);
    }
    for client in &timeline.clients {
        times.push(client.start_us.max(lo));
        times.extend(client.end_us);
    }
    times.retain(|&t| t >= lo.min(t) && t <= hi.max(t));
    times
}

struct Heading<'a> {
    title: &'a str,
    number: usize,
    count: usize,
}

fn draw_page(page: &Page, drawn: &Drawn, span: PageSpan, heading: &Heading) -> Slide {
    let area = TextBox {
        x0: 4.0,
        y0: PLOT_TOP - 14.0,
        x1: WIDTH - 4.0,
        y1: PLOT_BOTTOM + 4.0,
    };
    let mut placer = Placer::new(area);
    let mut shapes = String::new();
    draw_header(page, heading, &mut placer);
    draw_rows(page, &mut shapes, &mut placer);
    draw_marks(page, &mut shapes, &mut placer);
    draw_clients(page, &mut shapes, &mut placer);
    draw_rounds(page, &drawn.rounds, &mut shapes);
    draw_arrows(page, &drawn.arrows, &mut shapes, &mut placer);
    draw_axis(page, span, &mut shapes, &mut placer);
    let rounds = drawn.rounds.iter().filter(|(_, t)| page.shows(*t)).count();
    draw_legend(
        !drawn.rounds.is_empty() || drawn.arrows.is_empty(),
        &mut shapes,
        &mut placer,
    );
    draw_footer(page, rounds, &mut placer);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH:.0}" height="{HEIGHT:.0}" viewBox="0 0 {WIDTH:.0} {HEIGHT:.0}" font-family="{FONT}" data-page="{}" data-pages="{}" data-from-us="{}" data-to-us="{}">"##,
        heading.number, heading.count, page.from_us, page.to_us
    );
    write_defs(&mut svg);
    svg.push_str("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    svg.push_str(&shapes);
    let _ = writeln!(
        svg,
        r#"<g class="labels" paint-order="stroke" stroke="white" stroke-width="3" stroke-linejoin="round">"#
    );
    svg.push_str(&placer.layer);
    svg.push_str("</g>\n</svg>\n");
    Slide {
        svg,
        from_us: page.from_us,
        to_us: page.to_us,
    }
}

fn draw_header(page: &Page, heading: &Heading, placer: &mut Placer) {
    let right = format!(
        "page {}/{}   t = {} .. {}",
        heading.number,
        heading.count,
        fmt_ms(page.from_us),
        fmt_ms(page.to_us)
    );
    let right_look = Look::plain(16.0);
    placer.fixed(WIDTH - 24.0, 36.0, &right, Anchor::End, right_look);
    let room = WIDTH - 48.0 - 24.0 - super::width_of(&right, 16.0);
    let title = super::fit(heading.title, 22.0, room);
    let look = Look {
        size: 22.0,
        colour: "#111",
        bold: true,
    };
    placer.fixed(24.0, 36.0, &title, Anchor::Start, look);
}

/// The row names and each node's roles.
fn draw_rows(page: &Page, out: &mut String, placer: &mut Placer) {
    let size = (page.row_h * 0.7).clamp(LABEL, 18.0);
    let look = Look {
        size,
        colour: "#111",
        bold: true,
    };
    if page.clients {
        let y = PLOT_TOP + page.row_h / 2.0;
        placer.place(&name_label(y, "clients", look));
    }
    for node in 1..=page.timeline.nodes {
        placer.place(&name_label(page.y(node), &format!("n{node}"), look));
    }
    let mut labelled = Vec::new();
    for span in &page.timeline.spans {
        if span.end_us < page.from_us || span.start_us > page.to_us {
            continue;
        }
        draw_span(page, span, out);
        labelled.push(span);
    }
    for span in labelled {
        span_label(page, span, placer);
    }
}

fn name_label<'a>(y: f64, name: &str, look: Look<'a>) -> Label<'a> {
    Label {
        spots: vec![(X0 - 14.0, y + look.size * 0.35, Anchor::End)],
        texts: vec![name.to_string()],
        look,
    }
}

fn draw_span(page: &Page, span: &Span, out: &mut String) {
    let x0 = page.x(span.start_us.max(page.from_us));
    let x1 = page.x(span.end_us.min(page.to_us)).max(x0 + 2.0);
    let y = page.y(span.node);
    let (fill, stroke) = (term_fill(span.term), term_stroke(span.term));
    let shape = match span.role {
        SpanRole::Follower => format!(
            r#"<line x1="{x0:.1}" y1="{y:.1}" x2="{x1:.1}" y2="{y:.1}" stroke="{stroke}" stroke-width="2"/>"#
        ),
        SpanRole::Candidate => format!(
            r#"<rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="10" fill="{fill}" stroke="{stroke}"/>"#,
            y - 5.0,
            x1 - x0
        ),
        SpanRole::Leader => format!(
            r#"<rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="18" fill="{fill}" stroke="{stroke}" stroke-width="2"/>"#,
            y - 9.0,
            x1 - x0
        ),
        SpanRole::Down => format!(
            r##"<line x1="{x0:.1}" y1="{y:.1}" x2="{x1:.1}" y2="{y:.1}" stroke="#9e9e9e" stroke-width="2" stroke-dasharray="6,4"/>"##
        ),
    };
    let _ = writeln!(
        out,
        r#"<g class="span {}"><title>n{} {} in term {} from {} to {}</title>{shape}</g>"#,
        span.role.name(),
        span.node,
        span.role.name(),
        span.term,
        fmt_ms(span.start_us),
        fmt_ms(span.end_us)
    );
}

/// `leader t3` where a node starts to lead, `candidate t2` where it campaigns.
fn span_label(page: &Page, span: &Span, placer: &mut Placer) {
    let (long, short) = match span.role {
        SpanRole::Leader => (format!("leader t{}", span.term), format!("L{}", span.term)),
        SpanRole::Candidate => (
            format!("candidate t{}", span.term),
            format!("C{}", span.term),
        ),
        SpanRole::Follower | SpanRole::Down => return,
    };
    if span.start_us < page.from_us {
        return;
    }
    let (x, y) = (page.x(span.start_us), page.y(span.node));
    let look = Look {
        size: LABEL,
        colour: "#111",
        bold: true,
    };
    placer.place(&Label {
        spots: around(x, y, 14.0),
        texts: vec![long, short],
        look,
    });
}

/// Spots around a point on a row: above right, below right, above left, below left,
/// then farther out.
fn around(x: f64, y: f64, gap: f64) -> Vec<(f64, f64, Anchor)> {
    let above = y - gap;
    let below = y + gap + 11.0;
    vec![
        (x + 3.0, above, Anchor::Start),
        (x + 3.0, below, Anchor::Start),
        (x - 3.0, above, Anchor::End),
        (x - 3.0, below, Anchor::End),
        (x, above - 16.0, Anchor::Middle),
        (x, below + 16.0, Anchor::Middle),
    ]
}

fn draw_marks(page: &Page, out: &mut String, placer: &mut Placer) {
    let mut marks: Vec<&Mark> = page
        .timeline
        .marks
        .iter()
        .filter(|m| page.shows(m.time_us))
        .collect();
    marks.sort_by_key(|m| mark_rank(&m.kind));
    for mark in marks {
        match mark.node {
            Some(node) => node_mark(page, node, mark, out, placer),
            None => network_mark(page, mark, out, placer),
        }
    }
}

fn mark_rank(kind: &MarkKind) -> u8 {
    match kind {
        MarkKind::Violation(_) => 0,
        MarkKind::Network(_) | MarkKind::Killed | MarkKind::Crashed(_) => 1,
        MarkKind::Restarted => 2,
        MarkKind::Truncated { .. } => 3,
        MarkKind::Commit(_) => 4,
    }
}

fn node_mark(page: &Page, node: NodeId, mark: &Mark, out: &mut String, placer: &mut Placer) {
    let (x, y) = (page.x(mark.time_us), page.y(node));
    let (shape, texts, colour) = match &mark.kind {
        MarkKind::Commit(index) => (
            format!(
                r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#111" stroke-width="2.5"/>"##,
                y - 11.0,
                y + 11.0
            ),
            vec![
                format!("commit {index}"),
                format!("c={index}"),
                index.to_string(),
            ],
            "#111",
        ),
        MarkKind::Truncated { from, removed } => (
            String::new(),
            vec![format!("✂ {removed} from {from}"), format!("✂{from}")],
            "#6a1b9a",
        ),
        MarkKind::Killed | MarkKind::Crashed(_) => (
            format!(
                r##"<path d="M{:.1},{:.1} l12,12 m0,-12 l-12,12" stroke="#c62828" stroke-width="3"/>"##,
                x - 6.0,
                y - 6.0
            ),
            match &mark.kind {
                MarkKind::Crashed(why) => vec![format!("crashed: {why}"), "crashed".into()],
                _ => vec!["killed".into(), "✖".into()],
            },
            "#c62828",
        ),
        MarkKind::Restarted => (
            format!(r##"<circle cx="{x:.1}" cy="{y:.1}" r="6" fill="#2e7d32"/>"##),
            vec!["restarted".into(), "up".into()],
            "#2e7d32",
        ),
        MarkKind::Network(_) | MarkKind::Violation(_) => {
            return network_mark(page, mark, out, placer);
        }
    };
    out.push_str(&shape);
    out.push('\n');
    let look = Look {
        size: LABEL,
        colour,
        bold: !matches!(mark.kind, MarkKind::Commit(_)),
    };
    placer.place(&Label {
        spots: around(x, y, 14.0),
        texts,
        look,
    });
}

/// A change of the network (or a safety violation): a line across every node's row.
fn network_mark(page: &Page, mark: &Mark, out: &mut String, placer: &mut Placer) {
    let x = page.x(mark.time_us);
    let (text, colour) = match &mark.kind {
        MarkKind::Violation(what) => (format!("SAFETY: {what}"), "#b71c1c"),
        MarkKind::Network(what) => (what.clone(), "#e65100"),
        _ => return,
    };
    let top = page.y(1) - page.row_h / 2.0;
    let _ = writeln!(
        out,
        r#"<line x1="{x:.1}" y1="{top:.1}" x2="{x:.1}" y2="{PLOT_BOTTOM:.1}" stroke="{colour}" stroke-width="2" stroke-dasharray="7,4"><title>{}</title></line>"#,
        esc(&text)
    );
    let mut spots = Vec::new();
    for node in 1..=page.timeline.nodes {
        let y = page.y(node) - page.row_h / 2.0 + LABEL + 2.0;
        spots.push((x + 4.0, y, Anchor::Start));
        spots.push((x - 4.0, y, Anchor::End));
    }
    let short = super::fit(&text, LABEL, 150.0);
    let look = Look {
        size: LABEL,
        colour,
        bold: true,
    };
    placer.place(&Label {
        spots,
        texts: vec![super::fit(&text, LABEL, 520.0), short],
        look,
    });
}

/// Client operations: a bar from invocation to answer in the clients row, and the
/// operation in words where it ends.
fn draw_clients(page: &Page, out: &mut String, placer: &mut Placer) {
    let y = PLOT_TOP + page.row_h / 2.0;
    for client in &page.timeline.clients {
        let end = client.end_us.unwrap_or(page.timeline.to_us);
        if end < page.from_us || client.start_us > page.to_us {
            continue;
        }
        // A little short of both ends, so that back-to-back operations stay apart.
        let x0 = page.x(client.start_us.max(page.from_us)) + 3.0;
        let x1 = (page.x(end.min(page.to_us)) - 3.0).max(x0 + 2.0);
        let colour = client_colour(client);
        let _ = writeln!(
            out,
            r#"<g class="client"><title>op {}: {} -> n{}{}</title><line x1="{x0:.1}" y1="{y:.1}" x2="{x1:.1}" y2="{y:.1}" stroke="{colour}" stroke-width="6" stroke-linecap="butt"/></g>"#,
            client.op,
            esc(&client.request),
            client.target,
            client
                .outcome
                .as_ref()
                .map_or(String::new(), |o| format!(": {}", esc(o)))
        );
        client_label(client, (x0, x1, y), colour, placer);
    }
}

fn client_label(
    client: &ClientSpan,
    (x0, x1, y): (f64, f64, f64),
    colour: &str,
    placer: &mut Placer,
) {
    let look = Look {
        size: LABEL,
        colour,
        bold: false,
    };
    let mut spots = Vec::new();
    for lift in [12.0, 28.0, -18.0] {
        spots.push((x1, y - lift, Anchor::End));
        spots.push((x0, y - lift, Anchor::Start));
        spots.push(((x0 + x1) / 2.0, y - lift, Anchor::Middle));
    }
    spots.extend(around(x1, y, 12.0));
    placer.place(&Label {
        spots,
        texts: client_texts(client),
        look,
    });
}

/// A folded heartbeat round: one ◆ on the leader's row.
fn draw_rounds(page: &Page, rounds: &[(NodeId, u64)], out: &mut String) {
    let colour = ArrowClass::Heartbeat.colour();
    for &(node, t) in rounds.iter().filter(|(_, t)| page.shows(*t)) {
        let (x, y) = (page.x(t), page.y(node));
        let _ = writeln!(
            out,
            r##"<path class="heartbeat-round" d="M{x:.1},{:.1} l6,6 l-6,6 l-6,-6 z" fill="{colour}" stroke="#1565c0"><title>n{node}: heartbeat round at {}</title></path>"##,
            y - 6.0,
            fmt_ms(t)
        );
    }
}

fn draw_arrows(page: &Page, arrows: &[&Arrow], out: &mut String, placer: &mut Placer) {
    let shown: Vec<&Arrow> = arrows
        .iter()
        .copied()
        .filter(|a| page.shows(a.sent_us))
        .collect();
    for arrow in &shown {
        draw_arrow(page, arrow, out);
    }
    let mut order = shown;
    order.sort_by_key(|a| (arrow_rank(a), a.sent_us));
    // A message lost as it was sent (a cut link) is a stub with a red x; its words would
    // only crowd the picture.
    for arrow in order.into_iter().filter(|a| !stillborn(a)) {
        arrow_label(page, arrow, placer);
    }
}

/// Messages that carry entries or votes are labelled first.
fn arrow_rank(arrow: &Arrow) -> u8 {
    match ArrowClass::of(&arrow.info, arrow.heartbeat) {
        ArrowClass::AppendEntries | ArrowClass::RequestVote => 0,
        ArrowClass::VoteResponse | ArrowClass::AppendResponse => 1,
        ArrowClass::Heartbeat | ArrowClass::HeartbeatResponse => 2,
    }
}

fn stillborn(arrow: &Arrow) -> bool {
    arrow.sent_us == arrow.end_us && matches!(arrow.fate, Fate::Dropped(_))
}

/// The ends of an arrow; one that never left is a short stub towards its receiver.
fn arrow_ends(page: &Page, arrow: &Arrow) -> (f64, f64, f64, f64) {
    let (x0, y0) = (page.x(arrow.sent_us), page.y(arrow.info.from()));
    let y1 = page.y(arrow.info.to());
    if stillborn(arrow) {
        let dir = (y1 - y0).signum();
        return (x0, y0, x0 + 10.0, y0 + dir * page.row_h * 0.4);
    }
    (x0, y0, page.x(arrow.end_us), y1)
}

fn draw_arrow(page: &Page, arrow: &Arrow, out: &mut String) {
    let class = ArrowClass::of(&arrow.info, arrow.heartbeat);
    let (x0, y0, x1, y1) = arrow_ends(page, arrow);
    let (dash, end) = match arrow.fate {
        Fate::Delivered => ("", format!(r#" marker-end="url(#{})""#, class.name())),
        Fate::InFlight => (r#" stroke-dasharray="6,4""#, String::new()),
        Fate::Dropped(_) => (r#" stroke-dasharray="3,3""#, String::new()),
    };
    let _ = write!(
        out,
        r#"<g class="msg {}"><title>#{} n{} -> n{} {}</title><line x1="{x0:.1}" y1="{y0:.1}" x2="{x1:.1}" y2="{y1:.1}" stroke="{}" stroke-width="2"{dash}{end}/>"#,
        class.name(),
        arrow.id,
        arrow.info.from(),
        arrow.info.to(),
        esc(&arrow.info.to_string()),
        class.colour()
    );
    if matches!(arrow.fate, Fate::Dropped(_)) {
        drop_cross(out, (x1, y1), 10.0, 2.5);
    }
    out.push_str("</g>\n");
}

/// A message's label near the middle of its arrow, or near either end.
fn arrow_label(page: &Page, arrow: &Arrow, placer: &mut Placer) {
    let class = ArrowClass::of(&arrow.info, arrow.heartbeat);
    let (x0, y0, x1, y1) = arrow_ends(page, arrow);
    let (xm, ym) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let spots = vec![
        (xm + 5.0, ym + 5.0, Anchor::Start),
        (xm - 5.0, ym + 5.0, Anchor::End),
        (xm, ym - 6.0, Anchor::Middle),
        (xm, ym + 16.0, Anchor::Middle),
        (x1 + 6.0, y1 - 10.0, Anchor::Start),
        (
            x0 + 6.0,
            y0 + (y1 - y0).signum() * 20.0 + 5.0,
            Anchor::Start,
        ),
    ];
    let look = Look {
        size: LABEL,
        colour: class.colour(),
        bold: false,
    };
    placer.place(&Label {
        spots,
        texts: super::arrow_texts(&arrow.info),
        look,
    });
}

/// The time axis: a line under the rows, the times of the page's first and last event,
/// and of as many others as fit; dotted lines where quiet time is drawn shorter.
fn draw_axis(page: &Page, span: PageSpan, out: &mut String, placer: &mut Placer) {
    let y = PLOT_BOTTOM + 8.0;
    let _ = writeln!(
        out,
        r##"<line x1="{X0:.1}" y1="{y:.1}" x2="{X1:.1}" y2="{y:.1}" stroke="#888" stroke-width="1"/>"##
    );
    for (before, after) in page.axis.breaks() {
        if !(page.shows(before) && page.shows(after)) {
            continue;
        }
        let x = (page.x(before) + page.x(after)) / 2.0;
        let _ = writeln!(
            out,
            r##"<line class="break" x1="{x:.1}" y1="{PLOT_TOP:.1}" x2="{x:.1}" y2="{y:.1}" stroke="#bbb" stroke-width="1" stroke-dasharray="1,4"><title>{} of quiet time drawn shorter</title></line>"##,
            fmt_ms(after - before)
        );
    }
    let mut ticks = vec![span.first, span.last];
    ticks.extend(span.first + 1..span.last);
    for index in ticks {
        let t = page.axis.time(index);
        let x = page.x(t);
        let look = Look {
            size: LABEL,
            colour: "#555",
            bold: false,
        };
        let label = Label {
            spots: vec![(x, AXIS_Y, Anchor::Middle)],
            texts: vec![fmt_ms(t)],
            look,
        };
        if tick_fits(placer, &label) {
            let _ = writeln!(
                out,
                r##"<line x1="{x:.1}" y1="{y:.1}" x2="{x:.1}" y2="{:.1}" stroke="#888"/>"##,
                y + 5.0
            );
        }
    }
}

/// Places a tick label outside the plot area (the placer's area is the plot).
fn tick_fits(placer: &mut Placer, label: &Label) -> bool {
    let (x, y, anchor) = label.spots[0];
    let text = &label.texts[0];
    if !placer.fits_anywhere(x, y, text, anchor, label.look.size) || !(X0..=X1).contains(&x) {
        return false;
    }
    placer.fixed(x, y, text, anchor, label.look);
    true
}

fn draw_legend(folded: bool, out: &mut String, placer: &mut Placer) {
    let mut x = 24.0;
    let items: [(&str, &str); 4] = [
        (ArrowClass::RequestVote.colour(), "RequestVote"),
        (ArrowClass::VoteResponse.colour(), "vote"),
        (ArrowClass::AppendEntries.colour(), "AppendEntries"),
        (ArrowClass::AppendResponse.colour(), "append answer"),
    ];
    let y = LEGEND_Y;
    for (colour, text) in items {
        legend_line(out, x, y, colour);
        x = legend_text(placer, x + 30.0, text);
    }
    let hb = ArrowClass::Heartbeat.colour();
    let heartbeat = if folded {
        let _ = writeln!(
            out,
            r##"<path d="M{:.1},{:.1} l6,6 l-6,6 l-6,-6 z" fill="{hb}" stroke="#1565c0"/>"##,
            x + 8.0,
            y - 11.0
        );
        "heartbeat round"
    } else {
        legend_line(out, x, y, hb);
        "heartbeat"
    };
    x = legend_text(placer, x + 30.0, heartbeat);
    let _ = writeln!(
        out,
        r##"<path d="M{:.1},{:.1} l10,10 m0,-10 l-10,10" stroke="#d32f2f" stroke-width="2.5"/>"##,
        x + 2.0,
        y - 10.0
    );
    x = legend_text(placer, x + 20.0, "lost");
    legend_roles(out, placer, x);
}

fn legend_roles(out: &mut String, placer: &mut Placer, mut x: f64) {
    let y = LEGEND_Y;
    let (fill, stroke) = (term_fill(1), term_stroke(1));
    let _ = writeln!(
        out,
        r#"<rect x="{x:.1}" y="{:.1}" width="24" height="14" fill="{fill}" stroke="{stroke}" stroke-width="2"/>"#,
        y - 12.0
    );
    x = legend_text(placer, x + 30.0, "leader");
    let _ = writeln!(
        out,
        r#"<rect x="{x:.1}" y="{:.1}" width="24" height="8" fill="{fill}" stroke="{stroke}"/>"#,
        y - 9.0
    );
    x = legend_text(placer, x + 30.0, "candidate");
    let _ = writeln!(
        out,
        r##"<line x1="{x:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#9e9e9e" stroke-width="2" stroke-dasharray="6,4"/>"##,
        y - 5.0,
        x + 24.0,
        y - 5.0
    );
    x = legend_text(placer, x + 30.0, "down");
    let _ = writeln!(
        out,
        r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#111" stroke-width="2.5"/>"##,
        x + 4.0,
        y - 14.0,
        x + 4.0,
        y + 2.0
    );
    legend_text(placer, x + 12.0, "commit");
}

/// A legend text at `x`; the x after it.
/// A legend's sample of an arrow: a short thick line in `colour`.
fn legend_line(out: &mut String, x: f64, y: f64, colour: &str) {
    let _ = writeln!(
        out,
        r#"<line x1="{x:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="3"/>"#,
        y - 5.0,
        x + 24.0,
        y - 5.0
    );
}

fn legend_text(placer: &mut Placer, x: f64, text: &str) -> f64 {
    placer.fixed(x, LEGEND_Y, text, Anchor::Start, Look::plain(LABEL));
    x + super::width_of(text, LABEL) + 18.0
}

fn draw_footer(page: &Page, rounds: usize, placer: &mut Placer) {
    let mut parts = Vec::new();
    if placer.left_out > 0 {
        parts.push(format!(
            "{} labels left out (each shape has a tooltip)",
            placer.left_out
        ));
    }
    if rounds > 0 {
        parts.push(format!("{rounds} heartbeat rounds folded into ◆"));
    }
    parts.push("quiet time drawn shorter (dotted lines)".to_string());
    let text = super::fit(&parts.join(" · "), LABEL, WIDTH - 48.0);
    let look = Look {
        size: LABEL,
        colour: "#555",
        bold: false,
    };
    placer.fixed(24.0, FOOTER_Y, &text, Anchor::Start, look);
    let _ = page;
}

fn write_defs(out: &mut String) {
    out.push_str("<defs>\n");
    for class in ArrowClass::ALL {
        let _ = writeln!(
            out,
            r##"<marker id="{}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{}"/></marker>"##,
            class.name(),
            class.colour()
        );
    }
    out.push_str("</defs>\n");
}
