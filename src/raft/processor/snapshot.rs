//! Snapshots and log compaction (section 7 of the Raft paper).
//!
//! A node compacts its log when the caller hands it a snapshot of its state machine
//! ([`Input::Snapshot`](super::Input::Snapshot)): the bytes are opaque here, the caller
//! produces them and restores from them. The snapshot replaces every entry up to its index;
//! the log keeps its index and term, so the consistency check of AppendEntries still works
//! at the boundary. A leader whose follower needs an entry it no longer holds sends its
//! snapshot instead (InstallSnapshot); the follower keeps the entries after the snapshot if
//! its log holds the snapshot's last entry, and discards its log otherwise.
//!
//! Invariants: `snapshot.index == log.snapshot_index() <= applied <= commit`; a snapshot
//! never moves back; a follower never installs a snapshot at or below its commit index
//! (it already has those entries, applied or about to be).

use super::{
    DurableWrite, Entry, Index, Message, NodeId, RaftEvent, RaftProcessor, RoleState, Snapshot,
    Term, membership,
};

impl RaftProcessor {
    /// The node's latest snapshot (index 0 and no data before the first).
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// Makes `data`, the state machine after applying the entries up to `index`, the
    /// node's snapshot, and compacts the log up to there.
    pub(super) fn take_snapshot(&mut self, index: Index, data: Vec<u8>) {
        assert!(
            index <= self.applied,
            "a snapshot of entries not yet applied"
        );
        if index <= self.snapshot.index {
            return;
        }
        let Some(term) = self.log.term_at(index) else {
            return;
        };
        self.base_membership = self.membership_at(index);
        self.membership_rescan = true;
        let snapshot = Snapshot {
            index,
            term,
            data,
            voters: self.base_membership.voters.to_vec(),
            learners: self.base_membership.learners.to_vec(),
        };
        self.log.compact(index, term);
        self.snapshot = snapshot.clone();
        self.out.writes.push(DurableWrite::Snapshot(snapshot));
        self.out
            .events
            .push(RaftEvent::SnapshotTaken { index, term });
    }

    /// Sends the snapshot to `peer`, whose next index is at or before its last index: the
    /// entries it needs are compacted. The snapshot fills `peer`'s pipeline until it is
    /// answered; the heartbeat sends it again if it is lost.
    pub(super) fn send_snapshot(&mut self, peer: NodeId) {
        let RoleState::Leader { progress } = &mut self.role else {
            return;
        };
        let Some(state) = progress.get_mut(&peer) else {
            return;
        };
        state.next_index = self.snapshot.index + 1;
        state.inflight = self.config.max_inflight_appends;
        let snapshot = self.snapshot.clone();
        self.send(peer, Message::InstallSnapshot { snapshot });
    }

    /// InstallSnapshot in the node's term (section 7, "InstallSnapshot RPC", receiver
    /// rules), answered with the snapshot's index and the node's resulting last index.
    pub(super) fn handle_install_snapshot(&mut self, from: NodeId, snapshot: &Snapshot) {
        match self.role {
            // Two leaders in one term: Election Safety is already broken (the checker
            // reports it). Never let another node replace our log.
            RoleState::Leader { .. } => return,
            RoleState::Candidate { .. }
            | RoleState::PreCandidate { .. }
            | RoleState::Follower { leader: None } => self.follow_leader_of_term(from),
            RoleState::Follower { leader: Some(_) } => self.reset_election_timer(),
        }
        // Hearing from the leader counts for CheckQuorum's leader stickiness, as an
        // AppendEntries does.
        self.leader_contact_us = Some(self.now_us);
        let (index, term) = (snapshot.index, snapshot.term);
        // A snapshot at or below the commit index is stale: those entries are here
        // already. Installing it would move the state machine back.
        if index > self.commit {
            self.install_snapshot(snapshot.clone());
        }
        // Either way the snapshot's last entry is now compacted here or in the log with its
        // term: it was committed, and committed entries agree everywhere.
        assert!(
            index <= self.log.snapshot_index()
                || self.log.term_at(index) == Some(term)
                || self.config.log_safety_bugs(),
            "a committed entry differs from the leader's snapshot"
        );
        let response = Message::SnapshotResponse {
            snapshot_index: index,
            last_index: self.log.last_index(),
        };
        self.send(from, response);
    }

    /// Replaces the log up to the snapshot and the state machine with the snapshot.
    fn install_snapshot(&mut self, snapshot: Snapshot) {
        let (index, term) = (snapshot.index, snapshot.term);
        assert!(index > self.commit && index > self.snapshot.index);
        // A snapshot without a configuration: the best known is the one in force here at
        // its index.
        self.base_membership = membership::Membership::of_snapshot(&snapshot)
            .unwrap_or_else(|| self.membership_at(index));
        self.membership_rescan = true;
        self.log.compact(index, term);
        self.snapshot = snapshot.clone();
        self.out
            .writes
            .push(DurableWrite::Snapshot(snapshot.clone()));
        self.out
            .events
            .push(RaftEvent::SnapshotInstalled { index, term });
        self.out.events.push(RaftEvent::CommitAdvanced {
            from: self.commit,
            to: index,
        });
        self.commit = index;
        self.applied = index;
        self.out.restore = Some(snapshot);
    }

    /// A follower answered an InstallSnapshot: its log matches up to the snapshot's index,
    /// and the leader probes next after its last entry.
    pub(super) fn handle_snapshot_response(
        &mut self,
        from: NodeId,
        snapshot_index: Index,
        last_index: Index,
    ) {
        let leader_last = self.log.last_index();
        let RoleState::Leader { progress } = &mut self.role else {
            return;
        };
        let Some(peer) = progress.get_mut(&from) else {
            return;
        };
        peer.last_heard_us = self.now_us;
        // A duplicate or late answer (it brings the follower no further than known) while
        // something is on its way to the follower changes nothing. Answering it with
        // another snapshot would make every copy of a duplicated answer a new snapshot,
        // each answered again: with duplication on, a chain that grows without end. A
        // snapshot that was lost is sent again by the next heartbeat.
        if snapshot_index.min(leader_last) <= peer.match_index && peer.inflight > 0 {
            return;
        }
        peer.match_index = peer.match_index.max(snapshot_index.min(leader_last));
        peer.next_index = last_index.min(leader_last).max(peer.match_index) + 1;
        peer.inflight = 0;
        self.maybe_commit();
        self.send_append(from);
        self.replicate(from);
    }

    /// An AppendEntries whose `prev_log_index` is before this node's snapshot: the
    /// entries up to the snapshot's index are committed here, so they match the leader's.
    /// Drops them and checks from the snapshot's last entry instead.
    pub(super) fn skip_compacted<'e>(
        &self,
        prev_log_index: Index,
        prev_log_term: Term,
        entries: &'e [Entry],
    ) -> (Index, Term, &'e [Entry]) {
        let snapshot_index = self.log.snapshot_index();
        if prev_log_index >= snapshot_index {
            return (prev_log_index, prev_log_term, entries);
        }
        // The entries follow each other from `prev_log_index + 1`: the compacted ones are
        // a prefix.
        let compacted = entries.partition_point(|entry| entry.index <= snapshot_index);
        (
            snapshot_index,
            self.log.snapshot_term(),
            &entries[compacted..],
        )
    }
}
