//! Single-server membership changes (Ongaro's thesis, chapter 4).
//!
//! A configuration is a log entry ([`Payload::Config`]) naming the voters and the
//! learners. Each node uses the latest configuration in its log, committed or not
//! (section 4.1), so a configuration that is truncated away is undone with it. The leader
//! takes one change at a time (a second is refused until the first commits), and none
//! before it has committed an entry of its own term (the fix for the single-server bug).
//! A new node joins as a learner: it receives entries but neither votes nor counts for a
//! quorum, and the leader proposes its promotion once its match index reaches the commit
//! index. A leader that removed itself leads on, not counting itself in any majority
//! (section 4.2.2), and steps down once the change commits.
//!
//! # Who campaigns
//!
//! A node stands for election (its timer fires, or `campaign`) if it is a voter of its
//! latest configuration, or if both
//!
//! - (a) that configuration is not known to it as committed (its index is above the node's
//!   commit index), and
//! - (b) the node was a voter of the configuration before it.
//!
//! Everyone else never campaigns: a learner, a node being added (it was no voter before),
//! a node in no configuration, and a node that knows its removal committed.
//!
//! Why (b): without it a cluster can wedge. Two voters {3,4}; leader n3 appends the
//! change to {4} and loses its leadership before n4 receives it. n4 still counts {3,4} and
//! needs n3's vote, which n3 refuses since n4's log is behind; and n3, no voter of its own
//! latest configuration, would never campaign. With the rule n3 campaigns, n4 votes for it
//! (n3's log is the longer), n3 leads {4}, commits the change and steps down, and n4 then
//! leads alone. The thesis allows both halves: a leader may manage a configuration that
//! excludes itself until it commits (4.2.2), and a removed server may time out and start
//! elections (4.2.3). Why (a): once the change is known committed, the configuration
//! before it is history, and a removed node's election could only disrupt.
//!
//! Counting votes: a candidate (and a pre-candidate, with PreVote) counts only the votes of
//! the voters of its own latest configuration, its own vote included only if it is one of
//! them. So a single voter still elects itself at once, and a candidate that is not a
//! voter waits for a majority of the voters, whatever its configuration's size. Election
//! Safety rests, as ever, on the majorities of two consecutive configurations overlapping
//! and a voter voting once a term; who the candidate is plays no part in it. As leader,
//! such a node counts only the voters for commitment, for CheckQuorum and for reads.
//!
//! Keeping removed nodes quiet: while its latest configuration is not committed, a leader
//! replicates to the members of the configuration before it too (a new leader as well as
//! the one that made the change), so a node being removed receives the entry that removes
//! it. When the removal commits, the leader sends that node one last AppendEntries, from
//! just after what the node is known to hold, carrying the new commit index, and then
//! forgets it: the node learns its removal committed and, by (a), never campaigns.
//!
//! If that last message is lost (or the node was down, or too far behind for one batch
//! to reach the change), the removed node still holds the change as uncommitted and, by
//! (b), may time out and campaign: the disruptive server of section 4.2.3, as a removed
//! node that never received the change is too. What happens then: the others answer by
//! the usual rules. If their logs are longer (the new leader appended at least its
//! no-op), they refuse it, but without PreVote or CheckQuorum its RequestVote still moves
//! them to its term, deposing the leader at each attempt, every election timeout for as
//! long as the node runs (nobody replicates to it any more). If its log is as up to date,
//! it may win: it then leads the new configuration, commits it without counting itself,
//! and steps down, knowing now that its removal committed, so it campaigns no more. With
//! PreVote its pre-vote is refused (its log is behind, or a leader was heard from
//! recently) and nobody's term moves; with CheckQuorum, nodes that hear from a leader
//! ignore its RequestVote (leader stickiness). `raftlab check` stops a node once its
//! removal commits, as the thesis advises for removed servers.

use std::sync::Arc;

use super::{Progress, ProposeError, Proposed, RaftEvent, RaftProcessor, RoleState};
use crate::raft::{Index, NodeId, Payload, Snapshot};

/// A configuration: who votes, who only receives entries, and the log index of the
/// entry that set it (0 for the configuration the node was built with).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Membership {
    /// Shared, not copied, with every [`super::NodeView`] made while it is in force.
    pub(super) voters: Arc<[NodeId]>,
    pub(super) learners: Arc<[NodeId]>,
    pub(super) index: Index,
}

impl Membership {
    pub(super) fn new(voters: &[NodeId], learners: &[NodeId], index: Index) -> Membership {
        let mut voters = voters.to_vec();
        voters.sort_unstable();
        voters.dedup();
        let mut learners: Vec<NodeId> = learners
            .iter()
            .copied()
            .filter(|n| !voters.contains(n))
            .collect();
        learners.sort_unstable();
        learners.dedup();
        Membership {
            voters: voters.into(),
            learners: learners.into(),
            index,
        }
    }

    /// The configuration a snapshot records, if it records one.
    pub(super) fn of_snapshot(snapshot: &Snapshot) -> Option<Membership> {
        (!snapshot.voters.is_empty())
            .then(|| Membership::new(&snapshot.voters, &snapshot.learners, snapshot.index))
    }

    fn contains(&self, node: NodeId) -> bool {
        self.voters.binary_search(&node).is_ok() || self.learners.binary_search(&node).is_ok()
    }
}

/// A change of one server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Change {
    Add(NodeId),
    Remove(NodeId),
    Promote(NodeId),
}

impl RaftProcessor {
    /// The voters of the node's latest configuration, sorted.
    pub fn voters(&self) -> &[NodeId] {
        &self.membership.voters
    }

    /// The learners of the node's latest configuration, sorted.
    pub fn learners(&self) -> &[NodeId] {
        &self.membership.learners
    }

    pub(super) fn is_voter(&self, node: NodeId) -> bool {
        self.membership.voters.binary_search(&node).is_ok()
    }

    /// Whether the node may stand for election ("Who campaigns" in the module doc): it is
    /// a voter of its latest configuration, or that configuration, not known here to be
    /// committed, removed it as a voter of the one before.
    pub(super) fn may_campaign(&self) -> bool {
        let uncommitted = self.membership.index > self.commit;
        self.is_voter(self.id)
            || (uncommitted
                && self
                    .previous_membership
                    .voters
                    .binary_search(&self.id)
                    .is_ok())
    }

    /// The other voters, sorted.
    pub(super) fn voter_peers(&self) -> Vec<NodeId> {
        let id = self.id;
        self.membership
            .voters
            .iter()
            .copied()
            .filter(|&n| n != id)
            .collect()
    }

    /// The latest configuration entry from `low` to `high`, if any.
    fn config_between(&self, low: Index, high: Index) -> Option<Membership> {
        let low = low.max(self.log.first_index());
        let high = high.min(self.log.last_index());
        if high < low {
            return None;
        }
        let entries = self.log.slice(low, (high - low + 1) as usize);
        entries.iter().rev().find_map(|entry| match &entry.payload {
            Payload::Config(members) => Some(Membership::new(
                &members.voters,
                &members.learners,
                entry.index,
            )),
            Payload::Noop | Payload::Command(_) => None,
        })
    }

    /// The configuration in force at `index`: the latest configuration entry at or
    /// before it, else the configuration as of the snapshot.
    pub(super) fn membership_at(&self, index: Index) -> Membership {
        self.config_between(0, index)
            .unwrap_or_else(|| self.base_membership.clone())
    }

    /// Brings the configuration in line with the log, after any change to it, and the
    /// leader's followers and peers in line with the configuration. Only new entries are
    /// looked at, unless the log was truncated or compacted, and only when one of them is
    /// a configuration: new entries without one change nothing but the index accounted for.
    #[inline]
    pub(super) fn sync_membership(&mut self) {
        let last = self.log.last_index();
        if self.membership_rescan
            || self.config_appended
            || self.membership_scanned > last
            || self.peers.is_empty()
        {
            self.rescan_membership(last);
        } else {
            self.membership_scanned = last;
        }
        // `sync_progress`'s own first test, made here so that the common case, a step of
        // a follower or of a leader whose progress is settled, calls nothing (debug builds
        // call it anyway, for its assertion that a settled progress is still right).
        let leader = matches!(self.role, RoleState::Leader { .. });
        if leader && (!self.progress_settled || cfg!(debug_assertions)) {
            self.sync_progress();
        }
    }

    /// The configuration part of [`RaftProcessor::sync_membership`]: a configuration entry
    /// was appended, the log was truncated or compacted, or the peers are not known yet.
    #[inline(never)]
    fn rescan_membership(&mut self, last: Index) {
        let latest = if self.membership_rescan || self.membership_scanned > last {
            Some(self.membership_at(last))
        } else if self.membership_scanned < last {
            self.config_between(self.membership_scanned + 1, last)
        } else {
            None
        };
        self.membership_rescan = false;
        self.config_appended = false;
        self.membership_scanned = last;
        let found = latest.is_some();
        if let Some(latest) = latest {
            self.progress_settled = false;
            // A configuration now held by a snapshot, not an entry, is no change.
            let changed = (&latest.voters, &latest.learners)
                != (&self.membership.voters, &self.membership.learners);
            self.previous_membership = match latest.index {
                0 => latest.clone(),
                index => self.membership_at(index - 1),
            };
            self.membership = latest;
            if changed {
                self.out.events.push(RaftEvent::ConfigChanged {
                    index: self.membership.index,
                    voters: self.membership.voters.to_vec(),
                    learners: self.membership.learners.to_vec(),
                });
            }
        }
        if found || self.peers.is_empty() {
            self.sync_peers();
        }
    }

    /// The peers, from the configuration.
    fn sync_peers(&mut self) {
        let id = self.id;
        let members = self
            .membership
            .voters
            .iter()
            .chain(self.membership.learners.iter());
        self.peers = members.copied().filter(|&n| n != id).collect();
        self.peers.sort_unstable();
    }

    /// A leader's progress: one for each peer and, while the latest configuration is not
    /// committed, for each member of the one before, so that a node being removed
    /// receives the entries that remove it. A node whose removal committed gets one last
    /// AppendEntries, carrying the commit index, before its progress is dropped: it learns
    /// that its removal committed, and so does not campaign.
    pub(super) fn sync_progress(&mut self) {
        let RoleState::Leader { progress } = &self.role else {
            return;
        };
        let settled = self.membership.index <= self.commit;
        // Once settled, it stays so until the role or the configuration changes (the
        // commit index never decreases): the check runs once, not on every step.
        debug_assert!(!self.progress_settled || (settled && progress.keys().eq(&self.peers)));
        if self.progress_settled {
            return;
        }
        if settled && progress.keys().eq(self.peers.iter()) {
            // One progress for each peer and none besides: nothing to do.
            self.progress_settled = true;
            return;
        }
        let id = self.id;
        let mut targets = self.peers.clone();
        if !settled {
            let previous = &self.previous_membership;
            let members = previous.voters.iter().chain(previous.learners.iter());
            targets.extend(members.copied().filter(|&n| n != id));
            targets.sort_unstable();
            targets.dedup();
        }
        let removed: Vec<NodeId> = self
            .replication_targets()
            .into_iter()
            .filter(|n| targets.binary_search(n).is_err())
            .collect();
        for peer in removed {
            self.send_last_append(peer);
        }
        let (now_us, next_index) = (self.now_us, self.log.last_index() + 1);
        let RoleState::Leader { progress } = &mut self.role else {
            return;
        };
        for peer in targets {
            progress.get_or_insert_with(peer, || Progress {
                next_index,
                match_index: 0,
                inflight: 0,
                last_heard_us: now_us,
                acked_sent_us: None,
            });
        }
    }

    /// The last AppendEntries to a node whose removal committed, then its progress goes.
    /// It starts just after what is known to match, so that it carries the entries the
    /// node may lack (up to a batch) and the commit index it may take. If it is lost, or
    /// the node is further behind, the node may campaign (see the module doc).
    fn send_last_append(&mut self, peer: NodeId) {
        if let RoleState::Leader { progress } = &mut self.role
            && let Some(state) = progress.get_mut(&peer)
        {
            state.next_index = state.match_index + 1;
            state.inflight = 0;
        }
        self.send_append(peer);
        if let RoleState::Leader { progress } = &mut self.role {
            progress.remove(&peer);
        }
    }

    /// The nodes a leader sends entries to: its followers' progress, sorted.
    pub(super) fn replication_targets(&self) -> Vec<NodeId> {
        match &self.role {
            RoleState::Leader { progress } => progress.keys().copied().collect(),
            _ => Vec::new(),
        }
    }

    /// `add`/`remove` asked of this node: the result is the step's proposal, and a
    /// refusal is an event too.
    pub(super) fn request_change(&mut self, change: Change) {
        let result = self.change_membership(change);
        if let Err(reason) = &result {
            let reason = reason.clone();
            self.out.events.push(RaftEvent::ChangeRefused { reason });
        }
        self.out.proposal = Some(result);
    }

    /// A change of one server: a configuration entry, if the leader may take it.
    pub(super) fn change_membership(&mut self, change: Change) -> Result<Proposed, ProposeError> {
        self.may_propose()?;
        if self.log.term_at(self.commit) != Some(self.term) {
            return Err(ProposeError::NoCommitInTerm);
        }
        if self.membership.index > self.commit {
            return Err(ProposeError::ChangePending {
                index: self.membership.index,
            });
        }
        let next = self.changed_membership(change)?;
        let index = self.log.last_index() + 1;
        let payload = Payload::config(next.voters.to_vec(), next.learners.to_vec());
        self.append_to_own_log(vec![payload]);
        self.sync_membership();
        self.replicate_to_all();
        self.maybe_commit();
        Ok(Proposed {
            first_index: index,
            last_index: index,
            term: self.term,
        })
    }

    /// The configuration after `change`, or why it changes nothing.
    fn changed_membership(&self, change: Change) -> Result<Membership, ProposeError> {
        let current = &self.membership;
        let (mut voters, mut learners) = (current.voters.to_vec(), current.learners.to_vec());
        match change {
            Change::Add(node) if current.contains(node) => {
                return Err(ProposeError::AlreadyMember { node });
            }
            Change::Add(node) => learners.push(node),
            Change::Remove(node) if !current.contains(node) => {
                return Err(ProposeError::NotMember { node });
            }
            Change::Remove(node) if *current.voters == [node] => {
                return Err(ProposeError::LastVoter { node });
            }
            Change::Remove(node) => {
                voters.retain(|&n| n != node);
                learners.retain(|&n| n != node);
            }
            Change::Promote(node) if !current.learners.contains(&node) => {
                return Err(ProposeError::NotMember { node });
            }
            Change::Promote(node) => {
                learners.retain(|&n| n != node);
                voters.push(node);
            }
        }
        Ok(Membership::new(&voters, &learners, 0))
    }

    /// The leader's duties once a configuration committed: step down if it removed the
    /// leader, else promote a learner that caught up.
    pub(super) fn after_membership_commit(&mut self) {
        let RoleState::Leader { progress } = &self.role else {
            return;
        };
        if self.membership.index > self.commit {
            return;
        }
        if !self.is_voter(self.id) {
            let term = self.term;
            self.become_follower(term, None);
            return;
        }
        let commit = self.commit;
        let caught_up = self
            .membership
            .learners
            .iter()
            .copied()
            .find(|n| progress.get(n).is_some_and(|p| p.match_index >= commit));
        if let Some(node) = caught_up {
            // Refused only while no entry of the term committed yet; tried again later.
            let _ = self.change_membership(Change::Promote(node));
        }
    }
}
