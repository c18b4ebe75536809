//! Pictures and machine-readable traces of a run: what `export`, `status --json` and
//! `log --json` write.
//!
//! Everything here is a pure function from data the cluster hands out (its events, its
//! status, its logs) to a `String`; the session gathers the data and writes the file, and
//! the cluster itself never prints or writes.
//!
//! - [`timeline`] turns the event stream into what a picture shows: each node's roles and
//!   terms over time, each message from send to delivery or loss, faults, commits and
//!   client operations, within a window of cluster time.
//! - [`svg`] draws a timeline as a message sequence diagram (`export FILE.svg`).
//! - [`chrome`] writes a timeline in the Chrome Trace Event format (`export FILE.json`), to
//!   open in Perfetto or `chrome://tracing`.
//! - [`log_svg`] draws the logs like the Raft paper's figures (`export log FILE.svg`).
//! - [`json`] is JSON for tools: the status, the logs, and one event as a line of JSON
//!   Lines (`export FILE.jsonl`, `raftlab run --json`), with its schema.
//!
//! The pictures are SVG written by hand: the shapes are few (lines, boxes, text), and a
//! plotting crate would add a dependency without saving code. They use one monospace font
//! and no scripts or external references, so they open the same in a browser, in
//! Inkscape, and in `rsvg-convert` for slides.

pub mod chrome;
pub mod json;
pub mod log_svg;
pub mod slides;
mod style;
pub mod svg;
pub mod timeline;

pub use json::event_jsonl;
pub use timeline::Timeline;

use crate::cluster::ClusterEvent;

/// The events of `events` (oldest first) between cluster times `from_us` and `to_us`,
/// as JSON Lines: one object a line, each line ending in a newline.
pub fn events_jsonl(events: &[ClusterEvent], from_us: u64, to_us: u64) -> String {
    events
        .iter()
        .filter(|e| (from_us..=to_us).contains(&e.time_us))
        .map(|e| event_jsonl(e) + "\n")
        .collect()
}
