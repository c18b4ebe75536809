//! Colours of roles, terms and messages, and text that clips to an area.
//!
//! Without colour every style is plain; what colour tells (role, term, kind) is also in
//! the text, so nothing is lost.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};

use crate::cluster::NodeState;
use crate::cluster::view::NodePicture;
use crate::raft::{Message, Role, Term};

/// Styles, coloured or plain.
#[derive(Clone, Copy, Debug)]
pub struct Palette {
    pub color: bool,
}

impl Palette {
    fn pick(self, style: Style) -> Style {
        if self.color { style } else { Style::default() }
    }

    /// Bold whether or not there is colour.
    pub fn strong(self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }

    pub fn dim(self) -> Style {
        self.pick(Style::default().fg(Color::DarkGray))
    }

    pub fn bad(self) -> Style {
        self.pick(Style::default().fg(Color::Red).add_modifier(Modifier::BOLD))
    }

    pub fn good(self) -> Style {
        self.pick(Style::default().fg(Color::Green))
    }

    /// A term's colour: every term its own, cycling through six (as the REPL's `log`).
    pub fn term_color(term: Term) -> Color {
        match term % 6 {
            0 => Color::Cyan,
            1 => Color::Yellow,
            2 => Color::Magenta,
            3 => Color::Green,
            4 => Color::Blue,
            _ => Color::Red,
        }
    }

    pub fn term(self, term: Term) -> Style {
        self.pick(Style::default().fg(Self::term_color(term)))
    }

    /// A committed entry: its term's colour as the background.
    pub fn committed(self, term: Term) -> Style {
        self.pick(Style::default().bg(Self::term_color(term)).fg(Color::Black))
    }

    /// A node's role in words and in its colour.
    pub fn role(self, node: &NodePicture) -> (&'static str, Style) {
        match (&node.state, node.role) {
            (NodeState::Up, Some(Role::Leader)) => (
                "LEADER",
                self.pick(
                    Style::default()
                        .fg(Color::Green)
                        .add_modifier(Modifier::BOLD),
                ),
            ),
            (NodeState::Up, Some(Role::Candidate)) => {
                ("candidate", self.pick(Style::default().fg(Color::Yellow)))
            }
            (NodeState::Up, Some(Role::Follower)) => ("follower", Style::default()),
            // A hosted node that tells nothing of its role.
            (NodeState::Up, None) => ("unknown", Style::default()),
            (NodeState::Down, _) => ("DOWN", self.dim()),
            (NodeState::Crashed(_), _) => ("CRASHED", self.bad()),
        }
    }

    /// A message's colour by kind: votes asked, votes given, entries, answers.
    /// A hosted program's message (`None`) is an answer's colour.
    pub fn message(self, message: Option<&Message>) -> Style {
        let color = match message {
            Some(Message::RequestVote { .. } | Message::PreVote { .. }) => Color::Yellow,
            Some(Message::VoteResponse { .. } | Message::PreVoteResponse { .. }) => {
                Color::LightYellow
            }
            Some(Message::AppendEntries { .. } | Message::InstallSnapshot { .. }) => Color::Cyan,
            Some(Message::TimeoutNow) => Color::Magenta,
            _ => Color::LightBlue,
        };
        self.pick(Style::default().fg(color).add_modifier(Modifier::BOLD))
    }
}

/// Writes `text` at (x, y) if that row is inside `area`, cut at the area's right edge.
pub fn put(buf: &mut Buffer, area: Rect, x: i32, y: i32, text: &str, style: Style) {
    if y < i32::from(area.y) || y >= i32::from(area.bottom()) {
        return;
    }
    let mut x = x;
    let mut chars = text.chars();
    while x < i32::from(area.x) {
        if chars.next().is_none() {
            return;
        }
        x += 1;
    }
    let room = usize::from(area.right()).saturating_sub(x as usize);
    let rest: String = chars.collect();
    buf.set_stringn(x as u16, y as u16, rest, room, style);
}
