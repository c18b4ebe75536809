//! Slides: every page a run or a log becomes is 1280x720, has no text under 14 px and no
//! two texts overlapping (boxes computed here from each text's position, anchor, size and
//! a monospace font-metrics estimate), and a long run is split by time into numbered
//! pages, each with a PNG beside it.

use std::path::{Path, PathBuf};

use raftlab::cluster::{ClockMode, ClusterConfig};
use raftlab::repl::export::Timeline;
use raftlab::repl::export::slides::{self, SlideOptions};
use raftlab::repl::scenario::{self, RunOptions, Verdict};
use raftlab::repl::session::Session;

/// One text of a page, as drawn.
#[derive(Debug)]
struct Text {
    content: String,
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
    size: f64,
}

/// The width of a monospace glyph and the ascent and descent, in em.
const GLYPH_EM: f64 = 0.6;
const ASCENT_EM: f64 = 0.78;
const DESCENT_EM: f64 = 0.22;

fn attr(node: &roxmltree::Node, name: &str) -> f64 {
    let value = node
        .attribute(name)
        .unwrap_or_else(|| panic!("a <{}> without {name}", node.tag_name().name()));
    value.parse().unwrap_or_else(|_| panic!("{name}={value}"))
}

/// The page's size and every text on it.
fn read_page(svg: &str) -> ((f64, f64), Vec<Text>) {
    let doc = roxmltree::Document::parse(svg).expect("the slide is well-formed XML");
    let root = doc.root_element();
    let size = (attr(&root, "width"), attr(&root, "height"));
    let texts = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| {
            let content: String = n.text().unwrap_or("").to_string();
            let size = attr(&n, "font-size");
            let (x, y) = (attr(&n, "x"), attr(&n, "y"));
            let width = content.chars().count() as f64 * size * GLYPH_EM;
            let x0 = match n.attribute("text-anchor").unwrap_or("start") {
                "middle" => x - width / 2.0,
                "end" => x - width,
                _ => x,
            };
            Text {
                content,
                x0,
                y0: y - ASCENT_EM * size,
                x1: x0 + width,
                y1: y + DESCENT_EM * size,
                size,
            }
        })
        .collect();
    (size, texts)
}

/// Asserts what every slide must be: its size, readable text, nothing overlapping, all
/// inside the page.
fn assert_readable(name: &str, svg: &str) {
    let ((w, h), texts) = read_page(svg);
    assert_eq!((w, h), (1280.0, 720.0), "{name}: a 16:9 slide");
    assert!(!texts.is_empty(), "{name}: has text");
    for t in &texts {
        assert!(
            t.size >= 14.0,
            "{name}: {:?} is smaller than 14 px",
            t.content
        );
        assert!(
            t.x0 >= 0.0 && t.x1 <= w && t.y0 >= 0.0 && t.y1 <= h,
            "{name}: {t:?} runs off the page"
        );
    }
    for (i, a) in texts.iter().enumerate() {
        for b in &texts[i + 1..] {
            let overlap = a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
            assert!(!overlap, "{name}: {:?} overlaps {:?}", a.content, b.content);
        }
    }
}

fn lesson(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/clusters")
        .join(format!("{name}.yaml"))
}

/// Plays a lesson in this process; the session at its end.
fn played(name: &str) -> Session {
    let loaded = scenario::load(&lesson(name)).unwrap_or_else(|e| panic!("{e}"));
    let mut session = Session::new(loaded.config.clone()).expect("the cluster starts");
    let verdict = scenario::play(
        &mut session,
        &loaded,
        RunOptions::default(),
        &mut std::io::sink(),
        &mut None,
    )
    .expect("writing to a sink cannot fail");
    assert_eq!(verdict, Verdict::Passed, "{name} passes");
    session
}

fn slides_of(session: &Session, options: SlideOptions) -> Vec<slides::Slide> {
    let cluster = session.cluster();
    let events = cluster.events(usize::MAX).expect("events");
    let now = cluster.now_us().expect("time");
    let timeline = Timeline::build(&events, session.config().nodes, 0, now);
    slides::pages(&timeline, "a run", options)
}

#[test]
fn every_page_of_the_lessons_is_a_readable_slide() {
    for name in [
        "leader-failover",
        "figure8",
        "minority-leader",
        "many-nodes",
        "client-redirection",
    ] {
        let session = played(name);
        let pages = slides_of(&session, SlideOptions::default());
        assert!(!pages.is_empty());
        for (i, page) in pages.iter().enumerate() {
            assert_readable(&format!("{name} page {}", i + 1), &page.svg);
        }
    }
}

#[test]
fn client_operations_are_said_in_words() {
    let session = played("leader-failover");
    let pages = slides_of(&session, SlideOptions::default());
    let all: String = pages.iter().map(|p| p.svg.as_str()).collect();
    assert!(all.contains("put x=1 ✓ @2"), "a write and its index");
    assert!(all.contains("leader t1"), "roles are named");
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("raftlab-slides-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// A partition of a second and a half, then healed: long enough for several pages.
fn partition_run() -> Session {
    let config = ClusterConfig {
        nodes: 5,
        seed: 7,
        clock: ClockMode::Virtual,
        ..ClusterConfig::default()
    };
    let mut session = Session::new(config).expect("the cluster starts");
    for line in [
        "wait leader",
        "put x 1",
        "partition 1,2 | 3,4,5",
        "run 1500ms",
        "heal",
        "run 300ms",
    ] {
        session.run_line(line).expect("the command runs");
    }
    session
}

#[test]
fn a_long_run_is_split_into_numbered_pages_by_time() {
    let dir = temp_dir("split");
    let mut session = partition_run();
    let file = dir.join("run.svg");
    let line = format!("export {} --slides", file.display());
    session.run_line(&line).expect("the slides are written");
    let mut pages = Vec::new();
    for number in 1.. {
        let page = dir.join(format!("run-{number:02}.svg"));
        if !page.exists() {
            break;
        }
        let png = std::fs::read(page.with_extension("png")).expect("a PNG beside the page");
        assert!(png.starts_with(b"\x89PNG"), "run-{number:02}.png is a PNG");
        pages.push(std::fs::read_to_string(page).expect("readable"));
    }
    assert!(
        pages.len() >= 3,
        "a long run takes several pages: {}",
        pages.len()
    );
    assert!(!file.exists(), "no unnumbered file");
    let mut last_to = None;
    for (i, svg) in pages.iter().enumerate() {
        assert_readable(&format!("page {}", i + 1), svg);
        let doc = roxmltree::Document::parse(svg).expect("XML");
        let root = doc.root_element();
        let (from, to) = (attr(&root, "data-from-us"), attr(&root, "data-to-us"));
        assert!(from <= to, "page {}: its window", i + 1);
        if let Some(previous) = last_to {
            assert!(
                from > previous,
                "page {} starts after page {} ends",
                i + 1,
                i
            );
        }
        assert_eq!(attr(&root, "data-page"), (i + 1) as f64);
        assert_eq!(attr(&root, "data-pages"), pages.len() as f64);
        last_to = Some(to);
    }
    let end = session.cluster().now_us().expect("time") as f64;
    assert_eq!(last_to, Some(end), "the pages reach the end of the run");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn heartbeats_are_folded_into_one_mark_per_round_unless_asked_for() {
    let session = partition_run();
    let count = |pages: &[slides::Slide], what: &str| {
        pages
            .iter()
            .map(|p| p.svg.matches(what).count())
            .sum::<usize>()
    };
    let folded = slides_of(&session, SlideOptions::default());
    let all = slides_of(&session, SlideOptions { heartbeats: true });
    assert_eq!(count(&folded, r#"class="msg hb""#), 0);
    let rounds = count(&folded, r#"class="heartbeat-round""#);
    assert!(rounds > 10, "one mark per round: {rounds}");
    let heartbeats = count(&all, r#"class="msg hb""#);
    assert!(
        heartbeats >= 2 * rounds,
        "each round reaches several followers"
    );
    assert!(all.len() > folded.len(), "every heartbeat takes room");
    for page in &all {
        assert_readable("with heartbeats", &page.svg);
    }
}

#[test]
fn the_log_slide_shows_terms_and_commands() {
    let dir = temp_dir("log");
    let mut session = played("figure7");
    let file = dir.join("logs.svg");
    let line = format!("export log {} --slides", file.display());
    session.run_line(&line).expect("the slide is written");
    let svg = std::fs::read_to_string(&file).expect("the slide");
    assert_readable("figure7 logs", &svg);
    assert!(svg.contains(">x←1<"), "the last entry shows its command");
    assert!(svg.contains("term 8"), "the legend is inside the picture");
    let entries = svg.matches(r#"class="entry""#).count();
    assert_eq!(entries, 7 * 12, "twelve entries on each of seven nodes");
    assert!(file.with_extension("png").exists(), "a PNG beside it");
    let _ = std::fs::remove_dir_all(&dir);
}
