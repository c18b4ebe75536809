//! Log replication (section 5.3): a follower's side (AppendEntries: check the entry
//! before the new ones, cut off a conflicting suffix, append, follow the leader's commit)
//! and the leader's (proposals into its own log, AppendEntries to each follower, the
//! answers that move `nextIndex` and `matchIndex`, and the commit index that follows a
//! majority's `matchIndex` in the leader's own term, section 5.4.2).

use super::{
    DurableWrite, Progress, ProgressMap, ProposeError, Proposed, RaftEvent, RaftProcessor,
    RoleState,
};
use crate::raft::{Bug, Command, Entry, Index, Message, NodeId, Payload, Term};

impl Progress {
    /// Whether the follower is behind the leader's `last_index` and its pipeline has
    /// room (fewer than `max_inflight` AppendEntries unanswered): the next AppendEntries
    /// to it would carry entries.
    fn wants_entries(&self, last_index: Index, max_inflight: u32) -> bool {
        self.next_index <= last_index && self.inflight < max_inflight
    }
}

impl RaftProcessor {
    /// AppendEntries in the node's term; `prev` is `(prev_log_index, prev_log_term)`.
    pub(super) fn handle_append_entries(
        &mut self,
        from: NodeId,
        prev: (Index, Term),
        entries: &[Entry],
        leader_commit: Index,
        sent_us: u64,
    ) {
        let (prev_log_index, prev_log_term) = prev;
        match self.role {
            RoleState::Leader { .. } => {
                // Two leaders in one term: only possible once Election Safety is already
                // broken (the checker reports it). Refuse rather than touch our own log.
                self.send(
                    from,
                    Message::AppendResponse {
                        success: false,
                        index: prev_log_index,
                        conflict_term: None,
                        conflict_index: 0,
                        sent_us,
                    },
                );
                return;
            }
            RoleState::Candidate { .. }
            | RoleState::PreCandidate { .. }
            | RoleState::Follower { leader: None } => self.follow_leader_of_term(from),
            RoleState::Follower { leader: Some(_) } => self.reset_election_timer(),
        }
        self.leader_contact_us = Some(self.now_us);
        let (prev_log_index, prev_log_term, entries) =
            self.skip_compacted(prev_log_index, prev_log_term, entries);
        let response = match self.log.term_at(prev_log_index) {
            Some(term) if term == prev_log_term || self.skips_prev_check(term, entries) => {
                let last_new = prev_log_index + entries.len() as Index;
                self.append_from_leader(entries);
                // Teaching bug `commit-beyond-match`: bounded by the whole log, not by what
                // this AppendEntries showed to match the leader's.
                let bound = if self.config.has_bug(Bug::CommitBeyondMatch) {
                    self.log.last_index()
                } else {
                    last_new
                };
                self.advance_commit(leader_commit.min(bound));
                Message::AppendResponse {
                    success: true,
                    index: last_new,
                    conflict_term: None,
                    conflict_index: 0,
                    sent_us,
                }
            }
            found => self.conflict_response(prev_log_index, found, sent_us),
        };
        self.send(from, response);
    }

    /// Teaching bug `skip-prev-check`: the entry at `prev_log_index` (of term `found`) is
    /// taken as matching whatever its term. Only where the result is still a log whose
    /// terms never decrease: [`RaftLog`] cannot hold any other, so the bug skips the check
    /// where a real implementation would corrupt its log in that way too.
    fn skips_prev_check(&self, found: Term, entries: &[Entry]) -> bool {
        self.config.has_bug(Bug::SkipPrevCheck) && entries.first().is_none_or(|e| e.term >= found)
    }

    /// The rejection of an AppendEntries whose `prev_log_index` did not match: it names
    /// the conflicting term and where it starts, so the leader can skip it whole.
    fn conflict_response(
        &self,
        prev_log_index: Index,
        found: Option<Term>,
        sent_us: u64,
    ) -> Message {
        let (conflict_term, conflict_index) = match found {
            Some(term) => (
                Some(term),
                self.log.first_index_of_term_before(prev_log_index, term),
            ),
            None => (None, self.log.last_index() + 1),
        };
        Message::AppendResponse {
            success: false,
            index: prev_log_index,
            conflict_term,
            conflict_index,
            sent_us,
        }
    }

    /// Appends the leader's entries that are new here, removing conflicting entries first
    /// (Figure 2, receiver rule 3). Entries already present are left alone, so a stale or
    /// repeated AppendEntries never removes anything that matches. Only the new entries
    /// are copied out of the (shared) message, into the log and the durable write; a copy
    /// shares the command bytes.
    fn append_from_leader(&mut self, entries: &[Entry]) {
        let Some(first_new) = self.log.first_new(entries) else {
            return;
        };
        let entries = &entries[first_new..];
        let from = entries[0].index;
        if from <= self.log.last_index() {
            // Relaxed under a log-safety bug, whose point is that this can happen: the
            // checker reports it (State Machine Safety, Leader Completeness).
            assert!(
                from > self.commit || self.config.log_safety_bugs(),
                "a committed entry conflicts with the leader's log"
            );
            let removed = self.log.last_index() - from + 1;
            self.log.truncate_from(from);
            self.membership_rescan = true;
            self.out.writes.push(DurableWrite::Truncate { from });
            self.out
                .events
                .push(RaftEvent::LogTruncated { from, removed });
        }
        self.log.extend_from_slice(entries);
        self.config_appended |= entries.iter().any(Entry::is_config);
        let entries = entries.to_vec();
        self.out.writes.push(DurableWrite::Append { entries });
    }

    /// An AppendResponse in the node's term, to the AppendEntries sent at `sent_us`;
    /// `conflict` is `(conflict_term, conflict_index)`.
    pub(super) fn handle_append_response(
        &mut self,
        from: NodeId,
        success: bool,
        index: Index,
        conflict: (Option<Term>, Index),
        sent_us: u64,
    ) {
        let (conflict_term, conflict_index) = conflict;
        let RoleState::Leader { progress } = &mut self.role else {
            return;
        };
        let Some(peer) = progress.get_mut(&from) else {
            return;
        };
        peer.last_heard_us = self.now_us;
        // Any answer, success or not, tells when the follower last heard from this
        // leader: the lease's acknowledgement (`processor/read.rs`).
        peer.acked_sent_us = peer.acked_sent_us.max(Some(sent_us));
        if success {
            // A success that brings the follower no further (a duplicate, or a late answer
            // overtaken by a later one) frees no room in the pipeline: counted as room, each
            // copy of a duplicated or reordered answer would send more entries, each
            // answered again, a storm that grows without end. A heartbeat starts the
            // pipeline afresh if an answer was lost.
            let advanced = index > peer.match_index;
            peer.match_index = peer.match_index.max(index);
            peer.next_index = peer.next_index.max(index + 1);
            if advanced {
                peer.inflight = peer.inflight.saturating_sub(1);
                // A follower that reached no further than the commit index cannot make a
                // majority past it: the highest index a majority holds changed at most up
                // to that (every other change of the values counted, or of who counts, is
                // followed by `maybe_commit`), and an index past it that a majority held
                // before was either committed then or is not of this term, forever.
                if index > self.commit {
                    self.maybe_commit();
                } else {
                    debug_assert_eq!(self.commit_target(), None, "a commit was missed");
                }
                self.replicate(from);
            }
            // Only a leadership transfer sends TimeoutNow: no call on every answer.
            if self.transfer.is_some() {
                self.maybe_send_timeout_now(from);
            }
            return;
        }
        // A rejection below what already matched, or of an index no longer being probed,
        // is stale (delayed or duplicated) and must not move the follower back.
        if index < peer.match_index || index >= peer.next_index {
            return;
        }
        let hint = conflict_term
            .and_then(|term| self.log.last_index_of_term(term))
            .map_or(conflict_index, |last| last + 1);
        peer.next_index = hint.clamp(peer.match_index + 1, index.max(peer.match_index + 1));
        peer.inflight = 0;
        self.send_append(from);
    }

    // ---- the leader's log -----------------------------------------------------------

    /// Whether this node takes proposals: only a leader that is not handing its
    /// leadership over does.
    pub(super) fn may_propose(&self) -> Result<(), ProposeError> {
        if !matches!(self.role, RoleState::Leader { .. }) {
            return Err(ProposeError::NotLeader {
                leader: self.leader(),
            });
        }
        if let Some(transfer) = &self.transfer {
            return Err(ProposeError::Transferring {
                target: transfer.target,
            });
        }
        Ok(())
    }

    pub(super) fn propose(&mut self, commands: Vec<Command>) -> Result<Proposed, ProposeError> {
        self.may_propose()?;
        let first_index = self.log.last_index() + 1;
        self.append_to_own_log(commands.into_iter().map(Payload::Command));
        self.replicate_to_all();
        self.maybe_commit();
        Ok(Proposed {
            first_index,
            last_index: self.log.last_index(),
            term: self.term,
        })
    }

    /// Appends `payloads` to the leader's own log as entries of its term, and to the
    /// durable writes. The entries are built once, straight from the payloads.
    pub(super) fn append_to_own_log(&mut self, payloads: impl IntoIterator<Item = Payload>) {
        let (last, term) = (self.log.last_index(), self.term);
        let entries: Vec<Entry> = (last + 1..)
            .zip(payloads)
            .map(|(index, payload)| Entry {
                index,
                term,
                payload,
            })
            .collect();
        self.log.extend_from_slice(&entries);
        self.config_appended |= entries.iter().any(Entry::is_config);
        if !entries.is_empty() {
            self.out.writes.push(DurableWrite::Append { entries });
        }
    }

    pub(super) fn send_heartbeats(&mut self) {
        self.heartbeat_deadline_us = self.now_us + self.config.heartbeat_us;
        let RoleState::Leader { progress } = &mut self.role else {
            return;
        };
        // A heartbeat probes again from what is known to match wherever entries are still
        // unanswered, so entries lost on the way are sent again. A follower with nothing
        // in flight keeps its next index: a new leader's first heartbeat must probe just
        // after its last entry (Figure 2), not resend its whole log from index 1.
        for peer in progress.values_mut() {
            if peer.inflight > 0 {
                peer.next_index = peer.match_index + 1;
                peer.inflight = 0;
            }
        }
        // By position, not over a copy of the ids: sending changes no follower's id.
        let mut position = 0;
        while let Some(peer) = self.follower_at(position) {
            self.send_append(peer);
            self.replicate(peer);
            position += 1;
        }
    }

    /// Sends entries to every follower that is behind, in id order, while its pipeline
    /// has room.
    pub(super) fn replicate_to_all(&mut self) {
        // By position, not over a copy of the ids: replicating changes no follower's id.
        let mut position = 0;
        while let Some(peer) = self.follower_at(position) {
            self.replicate(peer);
            position += 1;
        }
    }

    /// A leader's follower at `position` in id order, if it leads and has that many.
    fn follower_at(&self, position: usize) -> Option<NodeId> {
        let RoleState::Leader { progress } = &self.role else {
            return None;
        };
        progress.key_at(position)
    }

    /// Sends entries to `peer` while it is behind and the pipeline has room.
    pub(super) fn replicate(&mut self, peer: NodeId) {
        let RoleState::Leader { progress } = &self.role else {
            return;
        };
        let max_inflight = self.config.max_inflight_appends;
        let mut more = progress[&peer].wants_entries(self.log.last_index(), max_inflight);
        while more {
            more = self.send_append(peer);
        }
    }

    /// Sends one AppendEntries from `peer`'s next index: entries if it is behind, else a
    /// heartbeat. Returns whether the follower still wants entries after it (see
    /// [`Progress::wants_entries`]): so [`RaftProcessor::replicate`] knows without
    /// looking the follower up again.
    pub(super) fn send_append(&mut self, peer: NodeId) -> bool {
        let RoleState::Leader { progress } = &mut self.role else {
            return false;
        };
        let Some(state) = progress.get_mut(&peer) else {
            return false;
        };
        if state.next_index <= self.log.snapshot_index() {
            // The snapshot fills the follower's pipeline.
            self.send_snapshot(peer);
            return false;
        }
        let prev_log_index = state.next_index - 1;
        let prev_log_term = self.log.term_at(prev_log_index);
        let prev_log_term = prev_log_term.expect("a follower's next index is within the log");
        let entries = self
            .log
            .slice(state.next_index, self.config.max_append_entries)
            .to_vec();
        if let Some(last) = entries.last() {
            state.next_index = last.index + 1;
            state.inflight += 1;
        }
        let more = state.wants_entries(self.log.last_index(), self.config.max_inflight_appends);
        let message = Message::AppendEntries {
            prev_log_index,
            prev_log_term,
            entries,
            leader_commit: self.commit,
            sent_us: self.now_us,
        };
        self.send(peer, message);
        more
    }

    /// The commit rule (sections 5.3 and 5.4.2): the highest index held by a majority,
    /// and only if that entry is of the leader's own term.
    pub(super) fn maybe_commit(&mut self) {
        if let Some(to) = self.commit_target() {
            self.advance_commit(to);
        }
    }

    /// The index the commit rule moves a leader's commit index to, if it moves it.
    fn commit_target(&self) -> Option<Index> {
        // Teaching bug `learners-count`: every follower's copy counts, learners' too.
        let learners_count = self.config.has_bug(Bug::LearnersCount);
        let own = self.log.last_index();
        let majority_index = self.majority_value(own, |p| Some(p.match_index), learners_count)?;
        // Teaching bug `commit-previous-term`: counting replicas is enough (Figure 8).
        let own_term = self.log.term_at(majority_index) == Some(self.term)
            || self.config.has_bug(Bug::CommitPreviousTerm);
        (majority_index > self.commit && own_term).then_some(majority_index)
    }

    /// At a leader, the highest value a majority of the voters in force have reached:
    /// `own` for the leader (if it votes), `value` of each follower's progress (learners'
    /// too with `count_learners`). `None` when fewer than a majority have a value. Called
    /// on every answer a leader gets, so it does not allocate for a small cluster (up to
    /// 16 values) and does not search the voters for each follower.
    pub(super) fn majority_value(
        &self,
        own: u64,
        value: impl Fn(&Progress) -> Option<u64>,
        count_learners: bool,
    ) -> Option<u64> {
        const SMALL: usize = 16;
        let RoleState::Leader { progress } = &self.role else {
            return None;
        };
        let position = self.quorum().checked_sub(1)?;
        // At most one value for each follower and the leader's own.
        let most = progress.len() + 1;
        if most <= SMALL {
            let mut small = [0; SMALL];
            let count = self.voter_values(progress, own, value, count_learners, &mut small);
            // A handful of values is sorted: cheaper than setting up a selection.
            let values = &mut small[..count];
            values.sort_unstable();
            return (count > position).then(|| values[count - 1 - position]);
        }
        let mut large = vec![0; most];
        let count = self.voter_values(progress, own, value, count_learners, &mut large);
        if count <= position {
            return None;
        }
        // Many values are selected: cheaper than sorting them.
        let values = &mut large[..count];
        let (_, &mut majority, _) = values.select_nth_unstable_by(position, |a, b| b.cmp(a));
        Some(majority)
    }

    /// [`RaftProcessor::majority_value`]'s values, written at the start of `values`
    /// (room for each follower and the leader): returns how many there are.
    fn voter_values(
        &self,
        progress: &ProgressMap,
        own: u64,
        value: impl Fn(&Progress) -> Option<u64>,
        count_learners: bool,
        values: &mut [u64],
    ) -> usize {
        let voters = &self.membership.voters;
        // A settled progress holds exactly the peers: with no learners, each of them votes.
        let every_follower_counts =
            count_learners || (self.progress_settled && self.membership.learners.is_empty());
        debug_assert!(
            !every_follower_counts
                || progress
                    .keys()
                    .all(|&peer| count_learners || self.is_voter(peer))
        );
        let mut count = 0;
        // The voters not yet passed: the progress is in id order too, so both lists are
        // walked together.
        let mut voters_ahead: &[NodeId] = voters;
        for (&peer, state) in progress.iter() {
            if !every_follower_counts {
                while let [voter, rest @ ..] = voters_ahead
                    && *voter < peer
                {
                    voters_ahead = rest;
                }
                if voters_ahead.first() != Some(&peer) {
                    continue;
                }
            }
            if let Some(value) = value(state) {
                values[count] = value;
                count += 1;
            }
        }
        if self.is_voter(self.id) {
            values[count] = own;
            count += 1;
        }
        count
    }

    fn advance_commit(&mut self, to: Index) {
        if to <= self.commit {
            return;
        }
        assert!(
            to <= self.log.last_index(),
            "commit beyond the end of the log"
        );
        self.out.events.push(RaftEvent::CommitAdvanced {
            from: self.commit,
            to,
        });
        self.commit = to;
        let count = (to - self.applied) as usize;
        let newly = self.log.slice(self.applied + 1, count);
        self.out.committed.extend_from_slice(newly);
        self.applied = to;
    }
}
