//! Pictures for slides: `export FILE.svg --slides`, `export log FILE.svg --slides` and
//! `raftlab run --svg DIR --slides`.
//!
//! A slide is a 16:9 page of 1280×720 pixels with no text smaller than [`MIN_FONT`]
//! pixels, its legend inside it. A run becomes as many pages as its length needs, cut by
//! time window ([`page`], [`scale`]): `NAME-01.svg`, `NAME-02.svg`, ... Heartbeat rounds
//! are folded into one mark each unless asked for; labels never overlap ([`labels`]:
//! moved, then abbreviated, then left out with a count in the footer); client operations
//! and log entries are said in words ([`words`]). [`png`] renders a page to PNG with the
//! pure-Rust `resvg`, so no tool outside raftlab is needed.

mod labels;
mod log;
mod page;
pub mod png;
mod scale;
mod words;

pub use labels::{Anchor, TextBox, text_box};
pub use log::log_slide;
pub use page::pages;

use crate::cluster::MsgInfo;
use crate::raft::Message;
use crate::repl::export::style::{CHAR_WIDTH_EM, brief};

/// A slide's size in pixels.
pub const WIDTH: f64 = 1280.0;
pub const HEIGHT: f64 = 720.0;
/// The smallest text on a slide, in pixels.
pub const MIN_FONT: f64 = 14.0;

/// What a caller may ask of the pictures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SlideOptions {
    /// Draw every heartbeat and its answer instead of one mark per round.
    pub heartbeats: bool,
}

/// One page: its SVG and the window of cluster time it shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slide {
    pub svg: String,
    pub from_us: u64,
    pub to_us: u64,
}

/// The file of page `number` (from 1) of `file`: `run.svg` gives `run-01.svg`.
pub fn page_file(file: &str, number: usize) -> String {
    let (stem, ext) = match file.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && !ext.contains('/') => (stem, ext),
        _ => (file, "svg"),
    };
    format!("{stem}-{number:02}.{ext}")
}

/// The width of `text` at `size` pixels, by the monospace metric.
fn width_of(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * CHAR_WIDTH_EM
}

/// `text`, cut with `…` to fit `width` pixels at `size`.
fn fit(text: &str, size: f64, width: f64) -> String {
    let most = (width / (size * CHAR_WIDTH_EM)).floor() as usize;
    if text.chars().count() <= most {
        return text.to_string();
    }
    let kept: String = text.chars().take(most.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// A message's label, then shorter forms: `AE 4@1 +1 c=3`, `AE +1`, `+1`.
fn arrow_texts(info: &MsgInfo) -> Vec<String> {
    let whole = brief(info);
    let first = whole.split(' ').next().unwrap_or("").to_string();
    let middle = match info.message() {
        Some(Message::AppendEntries { entries, .. }) => Some(format!("AE +{}", entries.len())),
        Some(Message::RequestVote { .. } | Message::PreVote { .. }) => {
            Some(format!("{first} t{}", info.term()))
        }
        Some(Message::AppendResponse {
            success: false,
            conflict_term: Some(term),
            conflict_index,
            ..
        }) => {
            return vec![
                format!("{whole} hint {conflict_index}@{term}"),
                whole,
                "no".to_string(),
            ];
        }
        _ => None,
    };
    let shortest = match info.message() {
        Some(Message::AppendEntries { entries, .. }) => format!("+{}", entries.len()),
        Some(Message::VoteResponse { granted }) => (if *granted { "✓" } else { "✗" }).to_string(),
        _ => first.clone(),
    };
    let mut texts = vec![whole];
    texts.extend(middle);
    texts.push(shortest);
    texts.dedup();
    texts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_numbered_beside_the_file() {
        assert_eq!(page_file("out/run.svg", 1), "out/run-01.svg");
        assert_eq!(page_file("run.svg", 12), "run-12.svg");
        assert_eq!(page_file("run", 2), "run-02.svg");
    }

    #[test]
    fn long_text_is_cut_to_fit() {
        assert_eq!(fit("short", 14.0, 500.0), "short");
        let cut = fit(
            "a rather long label indeed",
            14.0,
            14.0 * CHAR_WIDTH_EM * 10.0,
        );
        assert_eq!(cut.chars().count(), 10);
        assert!(cut.ends_with('…'));
    }
}
