//! The live view's model: the cluster's data picture and the view's own state (the
//! selected node, the pane, the command line, the help, the lesson, the story so far).

use crate::cluster::{ClusterEvent, ClusterView};
use crate::raft::NodeId;
use crate::repl::command::TraceLevel;
use crate::repl::shell::shown_at;

use super::lesson::Lesson;

/// Which pane a small terminal shows (one at a time, `Tab` to the next).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pane {
    Cluster,
    Log,
    Story,
}

impl Pane {
    pub fn next(self) -> Pane {
        match self {
            Pane::Cluster => Pane::Log,
            Pane::Log => Pane::Story,
            Pane::Story => Pane::Cluster,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Pane::Cluster => "cluster",
            Pane::Log => "log",
            Pane::Story => "story",
        }
    }
}

/// What the view shows besides the cluster: a command's answer, or an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The command line that was run.
    pub line: String,
    pub text: String,
    pub passed: bool,
}

/// Everything the view draws from.
#[derive(Clone, Debug)]
pub struct Model {
    /// The cluster at the latest instant the view read it.
    pub cluster: ClusterView,
    /// The node chosen with `1`-`9` or a click: `k`, `r`, `c`, `i` and `t` act on it.
    pub selected: Option<NodeId>,
    /// Whether to colour; without colour, roles and terms are told apart by text.
    pub color: bool,
    /// The terminal's size, for the layout and for clicks.
    pub size: (u16, u16),
    /// The pane shown when the terminal is too small for all of them.
    pub pane: Pane,
    /// The `:` command line being typed, if any.
    pub input: Option<String>,
    /// The help overlay is open.
    pub help: bool,
    /// The last command's answer.
    pub answer: Option<Answer>,
    /// The lesson being played as slides, if any.
    pub lesson: Option<Lesson>,
    /// Which events the story pane tells (the session's `trace` level).
    pub trace: TraceLevel,
    /// The events the story pane tells, oldest first (at most [`STORY_KEPT`]).
    pub story: Vec<ClusterEvent>,
    /// How many writes `w` has made, for fresh keys.
    pub writes: u64,
    /// Set when the user leaves.
    pub quit: bool,
}

/// How many events the story keeps.
pub const STORY_KEPT: usize = 300;

impl Model {
    /// A model of `cluster`, whose events begin the story.
    pub fn new(mut cluster: ClusterView, color: bool, size: (u16, u16)) -> Model {
        let events = std::mem::take(&mut cluster.events);
        let mut model = Model {
            cluster,
            selected: None,
            color,
            size,
            pane: Pane::Cluster,
            input: None,
            help: false,
            answer: None,
            lesson: None,
            trace: TraceLevel::Changes,
            story: Vec::new(),
            writes: 0,
            quit: false,
        };
        model.tell(events);
        model
    }

    /// Takes a new picture of the cluster, whose events (those since the last picture)
    /// go on with the story.
    pub fn absorb(&mut self, mut cluster: ClusterView) {
        let events = std::mem::take(&mut cluster.events);
        self.cluster = cluster;
        self.tell(events);
    }

    /// Adds the events the trace level shows to the story.
    fn tell(&mut self, events: Vec<ClusterEvent>) {
        let trace = self.trace;
        self.story
            .extend(events.into_iter().filter(|e| shown_at(trace, e)));
        if self.story.len() > STORY_KEPT {
            self.story.drain(..self.story.len() - STORY_KEPT);
        }
    }

    /// Whether the clock moves by itself (realtime, not paused).
    pub fn running(&self) -> bool {
        self.cluster.mode == crate::cluster::ClockMode::Realtime
    }
}
