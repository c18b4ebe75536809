//! What the pictures share: term colours, message colours, and writing text into XML.

use std::fmt::Write;

use crate::cluster::MsgInfo;
use crate::raft::{Message, Term};

/// The fonts of every picture: a monospace font most systems have.
pub const FONT: &str = "DejaVu Sans Mono, Menlo, Consolas, monospace";
/// The width of one character of `FONT` at size 1 (the em fraction of a monospace glyph).
pub const CHAR_WIDTH_EM: f64 = 0.61;

/// Light fills, one per term, cycling; dark text reads on each. Term 0 (before any
/// election) is grey.
const TERM_FILLS: [&str; 10] = [
    "#8ecae6", "#ffd166", "#95d5b2", "#f4a3a8", "#c3aed6", "#f9a66c", "#80cbc4", "#e6c79c",
    "#b5c99a", "#a0c4ff",
];

/// The fill colour of a term.
pub fn term_fill(term: Term) -> &'static str {
    if term == 0 {
        return "#d9d9d9";
    }
    let index = ((term - 1) % TERM_FILLS.len() as u64) as usize;
    TERM_FILLS.get(index).copied().unwrap_or("#d9d9d9")
}

/// A darker shade of a term's colour, for lines and borders.
pub fn term_stroke(term: Term) -> String {
    darken(term_fill(term), 0.55)
}

/// `#rrggbb` times `factor` (0..1), channel by channel.
fn darken(hex: &str, factor: f64) -> String {
    let channel = |i: usize| {
        let value = hex
            .get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .unwrap_or(0);
        (f64::from(value) * factor).round() as u8
    };
    format!("#{:02x}{:02x}{:02x}", channel(1), channel(3), channel(5))
}

/// The kinds of arrow, each with its colour and arrowhead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArrowClass {
    RequestVote,
    VoteResponse,
    AppendEntries,
    Heartbeat,
    AppendResponse,
    HeartbeatResponse,
}

impl ArrowClass {
    pub const ALL: [ArrowClass; 6] = [
        ArrowClass::RequestVote,
        ArrowClass::VoteResponse,
        ArrowClass::AppendEntries,
        ArrowClass::AppendResponse,
        ArrowClass::Heartbeat,
        ArrowClass::HeartbeatResponse,
    ];

    pub fn of(info: &MsgInfo, heartbeat: bool) -> ArrowClass {
        let Some(message) = info.message() else {
            return ArrowClass::HeartbeatResponse;
        };
        match (message, heartbeat) {
            (Message::RequestVote { .. } | Message::PreVote { .. } | Message::TimeoutNow, _) => {
                ArrowClass::RequestVote
            }
            (Message::VoteResponse { .. } | Message::PreVoteResponse { .. }, _) => {
                ArrowClass::VoteResponse
            }
            (Message::AppendEntries { .. }, false) => ArrowClass::AppendEntries,
            (Message::AppendEntries { .. }, true) | (Message::LeaderCheck { .. }, _) => {
                ArrowClass::Heartbeat
            }
            (Message::LeaderCheckResponse { .. }, _) => ArrowClass::HeartbeatResponse,
            (Message::AppendResponse { .. }, false) => ArrowClass::AppendResponse,
            (Message::AppendResponse { .. }, true) => ArrowClass::HeartbeatResponse,
            // A snapshot is drawn as the replication it stands in for.
            (Message::InstallSnapshot { .. }, _) => ArrowClass::AppendEntries,
            (Message::SnapshotResponse { .. }, _) => ArrowClass::AppendResponse,
        }
    }

    /// The id of its arrowhead marker, and its CSS class.
    pub fn name(self) -> &'static str {
        match self {
            ArrowClass::RequestVote => "rv",
            ArrowClass::VoteResponse => "vr",
            ArrowClass::AppendEntries => "ae",
            ArrowClass::Heartbeat => "hb",
            ArrowClass::AppendResponse => "ar",
            ArrowClass::HeartbeatResponse => "hr",
        }
    }

    pub fn colour(self) -> &'static str {
        match self {
            ArrowClass::RequestVote => "#c62828",
            ArrowClass::VoteResponse => "#ef6c00",
            ArrowClass::AppendEntries => "#1565c0",
            ArrowClass::Heartbeat => "#90b4d8",
            ArrowClass::AppendResponse => "#2e7d32",
            ArrowClass::HeartbeatResponse => "#9ccc9c",
        }
    }

    /// What the legend calls it.
    pub fn legend(self) -> &'static str {
        match self {
            ArrowClass::RequestVote => "RequestVote",
            ArrowClass::VoteResponse => "vote",
            ArrowClass::AppendEntries => "AppendEntries",
            ArrowClass::Heartbeat => "heartbeat",
            ArrowClass::AppendResponse => "append answer",
            ArrowClass::HeartbeatResponse => "heartbeat answer",
        }
    }
}

/// A message in a few characters, for an arrow: `RV t3 5@1`, `vote✓`, `AE 3@2 +5 c=4`,
/// `ok 8`, `no 3`.
pub fn brief(info: &MsgInfo) -> String {
    let Some(message) = info.message() else {
        return info.kind().to_string();
    };
    let term = info.term();
    match message {
        Message::RequestVote {
            last_log_index,
            last_log_term,
            ..
        } => format!("RV t{term} {last_log_index}@{last_log_term}"),
        Message::VoteResponse { granted: true } => "vote✓".to_string(),
        Message::VoteResponse { granted: false } => "vote✗".to_string(),
        Message::PreVote {
            last_log_index,
            last_log_term,
        } => format!("PV t{term} {last_log_index}@{last_log_term}"),
        Message::PreVoteResponse { granted: true } => "pre✓".to_string(),
        Message::PreVoteResponse { granted: false } => "pre✗".to_string(),
        Message::TimeoutNow => format!("TimeoutNow t{term}"),
        Message::LeaderCheck { round } => format!("check r{round}"),
        Message::LeaderCheckResponse { round } => format!("checked r{round}"),
        Message::AppendEntries {
            prev_log_index,
            prev_log_term,
            entries,
            leader_commit,
            ..
        } => {
            let entries = entries.len();
            format!("AE {prev_log_index}@{prev_log_term} +{entries} c={leader_commit}")
        }
        Message::AppendResponse {
            success: true,
            index,
            ..
        } => format!("ok {index}"),
        Message::AppendResponse {
            success: false,
            index,
            ..
        } => format!("no {index}"),
        Message::InstallSnapshot { snapshot } => {
            format!("SNAP {}@{}", snapshot.index, snapshot.term)
        }
        Message::SnapshotResponse { snapshot_index, .. } => format!("snap ok {snapshot_index}"),
    }
}

/// Text made safe for XML content and attribute values.
pub use crate::lincheck::svg::esc;

/// The red cross on a dropped message's arrow: `size` pixels square, centred on `at`.
pub fn drop_cross(out: &mut String, at: (f64, f64), size: f64, stroke_width: f64) {
    let (x, y) = at;
    let _ = write!(
        out,
        r##"<path d="M{:.1},{:.1} l{size},{size} m0,-{size} l-{size},{size}" stroke="#d32f2f" stroke-width="{stroke_width}"/>"##,
        x - size / 2.0,
        y - size / 2.0
    );
}

/// The width of `text` at `size` pixels, roughly.
pub fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * CHAR_WIDTH_EM
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn darkening_scales_each_channel() {
        assert_eq!(darken("#ff8000", 0.5), "#804000");
        assert_eq!(darken("#zzzzzz", 0.5), "#000000");
    }

    #[test]
    fn escaping_covers_markup_and_controls() {
        assert_eq!(esc("a<b & \"c\"\n"), "a&lt;b &amp; &quot;c&quot; ");
    }

    #[test]
    fn terms_cycle_through_the_fills() {
        assert_eq!(term_fill(1), term_fill(11));
        assert_ne!(term_fill(1), term_fill(2));
        assert_eq!(term_fill(0), "#d9d9d9");
    }
}
