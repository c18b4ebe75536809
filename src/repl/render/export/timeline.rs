//! The run as a picture sees it: what each node was (follower, candidate, leader or down,
//! and in which term) over time, every message from its send to its delivery or loss,
//! faults, commits and client operations, all within one window of cluster time.
//!
//! [`Timeline::build`] reads the events in order once. It starts from the first event it is
//! given: every node a follower in term 0. The cluster keeps its last 100,000 events, so in
//! a very long run the roles before the oldest kept event are not known, and the picture
//! starts as if the cluster had just begun.

use std::collections::{BTreeMap, HashMap};

use crate::cluster::event::{ClientOutcome, DropReason};
use crate::cluster::{ClusterEvent, EventKind, MsgId, MsgInfo, OpId};
use crate::raft::{Index, Message, NodeId, RaftEvent, Term};

/// What a node is during a span of time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanRole {
    Follower,
    Candidate,
    Leader,
    /// Killed or crashed: no thread runs.
    Down,
}

impl SpanRole {
    pub fn name(self) -> &'static str {
        match self {
            SpanRole::Follower => "follower",
            SpanRole::Candidate => "candidate",
            SpanRole::Leader => "leader",
            SpanRole::Down => "down",
        }
    }
}

/// A node in one role and one term, from `start_us` to `end_us`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub node: NodeId,
    pub role: SpanRole,
    pub term: Term,
    pub start_us: u64,
    pub end_us: u64,
}

/// What became of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    Delivered,
    Dropped(DropReason),
    /// Still in the network when the window ends; `end_us` is its due time.
    InFlight,
}

/// One message, from its send to its delivery or loss.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arrow {
    pub id: MsgId,
    pub info: MsgInfo,
    pub sent_us: u64,
    pub end_us: u64,
    pub fate: Fate,
    /// An AppendEntries with no entries, or the answer to one.
    pub heartbeat: bool,
    /// For a copy made by the network's duplication, the id of the original.
    pub copy_of: Option<MsgId>,
}

/// Something that happened at one instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MarkKind {
    Killed,
    Restarted,
    Crashed(String),
    /// The node's commit index advanced to this index.
    Commit(Index),
    /// Conflicting entries from `from` on were removed.
    Truncated {
        from: Index,
        removed: u64,
    },
    /// The network changed (no node: it is about every lane).
    Network(String),
    /// A safety check failed, in words.
    Violation(String),
}

/// A mark on a node's lane (or on all lanes, for `node: None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    pub node: Option<NodeId>,
    pub time_us: u64,
    pub kind: MarkKind,
}

/// A client operation, from its invocation to its end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientSpan {
    pub op: OpId,
    pub request: String,
    /// The node it was last sent to.
    pub target: NodeId,
    pub start_us: u64,
    /// `None` while it is still running.
    pub end_us: Option<u64>,
    /// How it ended, in a few words (`ok @4`, `refused`, `timed out`).
    pub outcome: Option<String>,
}

/// What the picture leaves out of a large run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeftOut {
    /// Heartbeats and their answers not drawn.
    pub heartbeats: usize,
    /// Messages after the cut not drawn.
    pub after_cut: usize,
    /// Where the picture stops, when it stops before the window's end.
    pub cut_us: Option<u64>,
}

/// Everything a picture of a window of the run shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeline {
    /// The lanes: nodes 1..=nodes.
    pub nodes: u64,
    pub from_us: u64,
    pub to_us: u64,
    /// Each node's roles, in time order; together they cover the window.
    pub spans: Vec<Span>,
    /// The messages, in send order.
    pub arrows: Vec<Arrow>,
    pub marks: Vec<Mark>,
    pub clients: Vec<ClientSpan>,
    pub left_out: LeftOut,
}

/// The state of the build: each node's open span, the messages and ops not yet ended.
struct Builder {
    timeline: Timeline,
    open: BTreeMap<NodeId, Span>,
    pending: HashMap<MsgId, usize>,
    ops: HashMap<OpId, usize>,
    /// The last heartbeat each node received: (time, from).
    last_heartbeat: HashMap<NodeId, (u64, NodeId)>,
}

impl Timeline {
    /// The timeline of `events` (oldest first) for a cluster of `nodes` nodes, between
    /// cluster times `from_us` and `to_us`. Messages that overlap the window are kept
    /// whole, so the picture may reach a little before or after it.
    pub fn build(events: &[ClusterEvent], nodes: u64, from_us: u64, to_us: u64) -> Timeline {
        let start_us = events.first().map_or(from_us, |e| e.time_us.min(from_us));
        let open = (1..=nodes)
            .map(|node| {
                let span = Span {
                    node,
                    role: SpanRole::Follower,
                    term: 0,
                    start_us,
                    end_us: start_us,
                };
                (node, span)
            })
            .collect();
        let mut builder = Builder {
            timeline: Timeline {
                nodes,
                from_us,
                to_us,
                ..Timeline::default()
            },
            open,
            pending: HashMap::new(),
            ops: HashMap::new(),
            last_heartbeat: HashMap::new(),
        };
        for event in events {
            builder.event(event);
        }
        builder.finish()
    }

    /// Keeps at most `budget` arrows: first leaves out heartbeats and their answers, then,
    /// if that is not enough, stops the picture after the first `budget` messages.
    pub fn thin(&mut self, budget: usize) {
        if self.arrows.len() <= budget {
            return;
        }
        let before = self.arrows.len();
        self.arrows.retain(|a| !a.heartbeat);
        self.left_out.heartbeats = before - self.arrows.len();
        if self.arrows.len() <= budget {
            return;
        }
        let cut_us = self.arrows.get(budget).map_or(self.to_us, |a| a.sent_us);
        self.left_out.after_cut = self.arrows.len() - budget;
        self.arrows.truncate(budget);
        self.left_out.cut_us = Some(cut_us);
        self.to_us = cut_us;
        self.spans.retain(|s| s.start_us < cut_us);
        for span in &mut self.spans {
            span.end_us = span.end_us.min(cut_us);
        }
        self.marks.retain(|m| m.time_us <= cut_us);
        self.clients.retain(|c| c.start_us <= cut_us);
    }

    /// The earliest and latest time anything drawn happens.
    pub fn extent_us(&self) -> (u64, u64) {
        let mut lo = self.from_us;
        let mut hi = self.to_us;
        for arrow in &self.arrows {
            lo = lo.min(arrow.sent_us);
            hi = hi.max(arrow.end_us);
        }
        (lo, hi)
    }
}

impl Builder {
    fn event(&mut self, event: &ClusterEvent) {
        let t = event.time_us;
        match &event.kind {
            EventKind::Sent {
                id,
                info,
                deliver_us,
            } => self.sent(t, *id, info, *deliver_us),
            EventKind::Duplicated { id, copy } => self.duplicated(*id, *copy),
            EventKind::Delivered { id, info } => self.ended(t, *id, info, Fate::Delivered),
            EventKind::Dropped { id, info, reason } => {
                self.ended(t, *id, info, Fate::Dropped(*reason))
            }
            EventKind::Raft { node, event } => self.raft(t, *node, event),
            EventKind::NodeKilled { node } => {
                self.mark(t, Some(*node), MarkKind::Killed);
                self.switch(t, *node, SpanRole::Down, None);
            }
            EventKind::NodeCrashed { node, crash } => {
                self.mark(t, Some(*node), MarkKind::Crashed(crash.to_string()));
                self.switch(t, *node, SpanRole::Down, None);
            }
            EventKind::NodeRestarted { node } => {
                self.mark(t, Some(*node), MarkKind::Restarted);
                self.switch(t, *node, SpanRole::Follower, None);
            }
            EventKind::NetworkChanged { change } => {
                self.mark(t, None, MarkKind::Network(change.to_string()))
            }
            EventKind::Violation(violation) => {
                let node = violation.nodes.first().copied();
                self.mark(t, node, MarkKind::Violation(violation.to_string()))
            }
            EventKind::ClientInvoked {
                op,
                request,
                target,
                ..
            } => self.invoked(t, *op, request.to_string(), *target),
            EventKind::ClientRetried { op, target } => {
                if let Some(span) = self.client(*op) {
                    span.target = *target;
                }
            }
            EventKind::ClientFinished { op, outcome, .. } => {
                if let Some(span) = self.client(*op) {
                    span.end_us = Some(t);
                    span.outcome = Some(outcome_brief(outcome));
                }
            }
            EventKind::Timer { .. } | EventKind::Note { .. } => {}
        }
    }

    fn in_window(&self, time_us: u64) -> bool {
        (self.timeline.from_us..=self.timeline.to_us).contains(&time_us)
    }

    fn mark(&mut self, time_us: u64, node: Option<NodeId>, kind: MarkKind) {
        if self.in_window(time_us) {
            self.timeline.marks.push(Mark {
                node,
                time_us,
                kind,
            });
        }
    }

    fn sent(&mut self, t: u64, id: MsgId, info: &MsgInfo, deliver_us: u64) {
        let heartbeat = match info.message() {
            Some(Message::AppendEntries { entries, .. }) => entries.is_empty(),
            Some(Message::AppendResponse { .. }) => {
                self.last_heartbeat.get(&info.from()) == Some(&(t, info.to()))
            }
            _ => false,
        };
        self.pending.insert(id, self.timeline.arrows.len());
        self.timeline.arrows.push(Arrow {
            id,
            info: info.clone(),
            sent_us: t,
            end_us: deliver_us,
            fate: Fate::InFlight,
            heartbeat,
            copy_of: None,
        });
    }

    fn duplicated(&mut self, id: MsgId, copy: MsgId) {
        let Some(original) = self
            .pending
            .get(&id)
            .and_then(|&i| self.timeline.arrows.get(i))
        else {
            return;
        };
        let arrow = Arrow {
            id: copy,
            copy_of: Some(id),
            ..original.clone()
        };
        self.pending.insert(copy, self.timeline.arrows.len());
        self.timeline.arrows.push(arrow);
    }

    /// A delivery or a drop. A message dropped as it was sent (a cut link, loss) was
    /// never `Sent`: it becomes an arrow that ends where it starts.
    fn ended(&mut self, t: u64, id: MsgId, info: &MsgInfo, fate: Fate) {
        if fate == Fate::Delivered
            && matches!(info.message(), Some(Message::AppendEntries { entries, .. }) if entries.is_empty())
        {
            self.last_heartbeat.insert(info.to(), (t, info.from()));
        }
        let arrow = match self.pending.remove(&id) {
            Some(i) => self.timeline.arrows.get_mut(i),
            None => {
                self.sent(t, id, info, t);
                self.pending.remove(&id);
                self.timeline.arrows.last_mut()
            }
        };
        if let Some(arrow) = arrow {
            arrow.end_us = t;
            arrow.fate = fate;
        }
    }

    fn raft(&mut self, t: u64, node: NodeId, event: &RaftEvent) {
        match *event {
            RaftEvent::TermChanged { to, .. } => {
                let role = self.open.get(&node).map_or(SpanRole::Follower, |s| s.role);
                self.switch(t, node, role, Some(to));
            }
            RaftEvent::BecameFollower { term, .. } => {
                self.switch(t, node, SpanRole::Follower, Some(term))
            }
            RaftEvent::BecameCandidate { term } => {
                self.switch(t, node, SpanRole::Candidate, Some(term))
            }
            RaftEvent::BecameLeader { term } => self.switch(t, node, SpanRole::Leader, Some(term)),
            RaftEvent::CommitAdvanced { to, .. } => self.mark(t, Some(node), MarkKind::Commit(to)),
            RaftEvent::LogTruncated { from, removed } => {
                self.mark(t, Some(node), MarkKind::Truncated { from, removed })
            }
            RaftEvent::LostQuorum { term } => self.switch(t, node, SpanRole::Follower, Some(term)),
            RaftEvent::LeaderKnown { .. }
            | RaftEvent::SteppedDown { .. }
            | RaftEvent::Voted { .. }
            | RaftEvent::PreVoteStarted { .. }
            | RaftEvent::TransferStarted { .. }
            | RaftEvent::TimeoutNowSent { .. }
            | RaftEvent::TransferFailed { .. }
            | RaftEvent::SnapshotTaken { .. }
            | RaftEvent::SnapshotInstalled { .. }
            | RaftEvent::ConfigChanged { .. }
            | RaftEvent::ChangeRefused { .. }
            | RaftEvent::LeaseRead { .. }
            | RaftEvent::ReadWithoutLease { .. }
            | RaftEvent::CampaignIgnored { .. } => {}
        }
    }

    /// The node is in `role` (and `term`, if given) from `t` on.
    fn switch(&mut self, t: u64, node: NodeId, role: SpanRole, term: Option<Term>) {
        let Some(open) = self.open.get_mut(&node) else {
            return;
        };
        let term = term.unwrap_or(open.term);
        if open.role == role && open.term == term {
            return;
        }
        let next = Span {
            node,
            role,
            term,
            start_us: t,
            end_us: t,
        };
        let mut done = std::mem::replace(open, next);
        done.end_us = t;
        self.close(done);
    }

    /// Keeps the part of a finished span inside the window.
    fn close(&mut self, mut span: Span) {
        span.start_us = span.start_us.max(self.timeline.from_us);
        span.end_us = span.end_us.min(self.timeline.to_us);
        if span.start_us < span.end_us {
            self.timeline.spans.push(span);
        }
    }

    fn invoked(&mut self, t: u64, op: OpId, request: String, target: NodeId) {
        self.ops.insert(op, self.timeline.clients.len());
        self.timeline.clients.push(ClientSpan {
            op,
            request,
            target,
            start_us: t,
            end_us: None,
            outcome: None,
        });
    }

    fn client(&mut self, op: OpId) -> Option<&mut ClientSpan> {
        let index = *self.ops.get(&op)?;
        self.timeline.clients.get_mut(index)
    }

    fn finish(mut self) -> Timeline {
        let to_us = self.timeline.to_us;
        let open = std::mem::take(&mut self.open);
        for (_, mut span) in open {
            span.end_us = to_us;
            self.close(span);
        }
        let (from, to) = (self.timeline.from_us, to_us);
        let timeline = &mut self.timeline;
        timeline.spans.sort_by_key(|s| (s.node, s.start_us));
        timeline
            .arrows
            .retain(|a| a.sent_us <= to && (a.end_us >= from || a.fate == Fate::InFlight));
        timeline.arrows.sort_by_key(|a| (a.sent_us, a.id));
        timeline
            .clients
            .retain(|c| c.start_us <= to && c.end_us.is_none_or(|end| end >= from));
        self.timeline
    }
}

/// How a client operation ended, in a few words.
fn outcome_brief(outcome: &ClientOutcome) -> String {
    match outcome {
        ClientOutcome::Done { output, index, .. } => format!("{output} @{index}"),
        ClientOutcome::Refused { .. } => "refused".to_string(),
        ClientOutcome::TimedOut => "timed out".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use crate::raft::{Entry, Envelope, Payload};

    fn at(time_us: u64, kind: EventKind) -> ClusterEvent {
        ClusterEvent { time_us, kind }
    }

    fn message(from: NodeId, to: NodeId, message: Message) -> MsgInfo {
        let term = 1;
        MsgInfo::of(&Arc::new(Envelope {
            from,
            to,
            term,
            message,
        }))
    }

    /// An AppendEntries from `from` to `to` carrying `entries` no-op entries.
    fn append(from: NodeId, to: NodeId, entries: Index) -> MsgInfo {
        let entries = (2..2 + entries)
            .map(|index| Entry {
                index,
                term: 1,
                payload: Payload::Noop,
            })
            .collect();
        let prev_log_index = 1;
        let (prev_log_term, leader_commit, sent_us) = (1, 1, 0);
        message(
            from,
            to,
            Message::AppendEntries {
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
                sent_us,
            },
        )
    }

    fn heartbeat(from: NodeId, to: NodeId) -> MsgInfo {
        append(from, to, 0)
    }

    fn answer(from: NodeId, to: NodeId) -> MsgInfo {
        let (success, index, conflict_term, conflict_index, sent_us) = (true, 1, None, 0, 0);
        message(
            from,
            to,
            Message::AppendResponse {
                success,
                index,
                conflict_term,
                conflict_index,
                sent_us,
            },
        )
    }

    fn sent(time_us: u64, id: MsgId, info: MsgInfo, deliver_us: u64) -> ClusterEvent {
        at(
            time_us,
            EventKind::Sent {
                id,
                info,
                deliver_us,
            },
        )
    }

    fn raft(time_us: u64, node: NodeId, event: RaftEvent) -> ClusterEvent {
        at(time_us, EventKind::Raft { node, event })
    }

    #[test]
    fn the_answer_to_a_heartbeat_is_a_heartbeat_too() {
        let events = [
            sent(10, 1, heartbeat(1, 2), 12),
            at(
                12,
                EventKind::Delivered {
                    id: 1,
                    info: heartbeat(1, 2),
                },
            ),
            sent(12, 2, answer(2, 1), 15),
            at(
                15,
                EventKind::Delivered {
                    id: 2,
                    info: answer(2, 1),
                },
            ),
            sent(20, 3, answer(2, 1), 25),
        ];
        let timeline = Timeline::build(&events, 2, 0, 30);
        let heartbeats: Vec<bool> = timeline.arrows.iter().map(|a| a.heartbeat).collect();
        assert_eq!(heartbeats, [true, true, false]);
        assert_eq!(timeline.arrows[2].fate, Fate::InFlight);
        assert_eq!(timeline.arrows[1].end_us, 15);
    }

    #[test]
    fn a_message_dropped_as_it_is_sent_and_a_copy_are_arrows() {
        let events = [
            at(
                5,
                EventKind::Dropped {
                    id: 1,
                    info: heartbeat(1, 2),
                    reason: DropReason::Cut,
                },
            ),
            sent(6, 2, heartbeat(1, 2), 9),
            at(6, EventKind::Duplicated { id: 2, copy: 3 }),
            at(
                9,
                EventKind::Delivered {
                    id: 2,
                    info: heartbeat(1, 2),
                },
            ),
            at(
                11,
                EventKind::Delivered {
                    id: 3,
                    info: heartbeat(1, 2),
                },
            ),
        ];
        let timeline = Timeline::build(&events, 2, 0, 20);
        let arrows: Vec<(MsgId, u64, u64, Option<MsgId>)> = timeline
            .arrows
            .iter()
            .map(|a| (a.id, a.sent_us, a.end_us, a.copy_of))
            .collect();
        assert_eq!(
            arrows,
            [(1, 5, 5, None), (2, 6, 9, None), (3, 6, 11, Some(2))]
        );
        assert_eq!(timeline.arrows[0].fate, Fate::Dropped(DropReason::Cut));
    }

    #[test]
    fn each_nodes_spans_cover_the_window_without_gaps() {
        let events = [
            raft(100, 1, RaftEvent::TermChanged { from: 0, to: 1 }),
            raft(100, 1, RaftEvent::BecameCandidate { term: 1 }),
            raft(110, 1, RaftEvent::BecameLeader { term: 1 }),
            raft(105, 2, RaftEvent::TermChanged { from: 0, to: 1 }),
            raft(
                105,
                2,
                RaftEvent::BecameFollower {
                    term: 1,
                    leader: None,
                },
            ),
            at(150, EventKind::NodeKilled { node: 1 }),
            at(180, EventKind::NodeRestarted { node: 1 }),
        ];
        let timeline = Timeline::build(&events, 2, 50, 200);
        let of = |node| {
            timeline
                .spans
                .iter()
                .filter(|s| s.node == node)
                .map(|s| (s.role, s.term, s.start_us, s.end_us))
                .collect::<Vec<_>>()
        };
        use SpanRole::*;
        assert_eq!(
            of(1),
            [
                (Follower, 0, 50, 100),
                (Candidate, 1, 100, 110),
                (Leader, 1, 110, 150),
                (Down, 1, 150, 180),
                (Follower, 1, 180, 200)
            ]
        );
        assert_eq!(of(2), [(Follower, 0, 50, 105), (Follower, 1, 105, 200)]);
        let marks: Vec<&MarkKind> = timeline.marks.iter().map(|m| &m.kind).collect();
        assert_eq!(marks, [&MarkKind::Killed, &MarkKind::Restarted]);
    }

    #[test]
    fn thinning_leaves_out_heartbeats_then_stops_the_picture() {
        let mut events = Vec::new();
        for i in 0..10 {
            events.push(sent(i * 10, i, heartbeat(1, 2), i * 10 + 2));
        }
        let entries = append(1, 2, 3);
        for i in 10..16 {
            events.push(sent(i * 10, i, entries.clone(), i * 10 + 2));
        }
        let mut timeline = Timeline::build(&events, 2, 0, 200);
        timeline.thin(20);
        assert_eq!(timeline.arrows.len(), 16, "under budget: nothing left out");
        timeline.thin(4);
        assert_eq!(timeline.left_out.heartbeats, 10);
        assert_eq!(timeline.left_out.after_cut, 2);
        assert_eq!(timeline.left_out.cut_us, Some(140));
        assert_eq!(timeline.arrows.len(), 4);
        assert_eq!(timeline.to_us, 140);
    }
}
