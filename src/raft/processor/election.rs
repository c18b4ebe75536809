//! Elections: starting one, RequestVote and its answers (section 5.2), and PreVote and
//! CheckQuorum (Ongaro's thesis, sections 9.6 and 6.2): the two guards that
//! keep a node cut off from the cluster from deposing a healthy leader when it returns,
//! and a leader cut off from the cluster from believing it still leads.
//!
//! - With PreVote, a node whose election timer fires first asks the others whether they
//!   would vote for it at `term + 1`. It takes no new term for that, and no one who
//!   answers does. A voter says yes only if the asker's log is at least as up to date as
//!   its own and it has not heard from a leader within the shortest election timeout.
//!   Only with a majority of yes does the node start a real election.
//! - With CheckQuorum, a leader that has not heard from a majority (itself included)
//!   within the longest election timeout steps down, and a node that heard from a leader
//!   within the shortest election timeout ignores RequestVote, even of a higher term
//!   (leader stickiness): the term rule does not apply to a message that is ignored.

use std::collections::BTreeSet;

use super::{RaftEvent, RaftProcessor, RoleState};
use crate::raft::{Bug, Envelope, Index, Message, NodeId, ReadMode, Term};

impl RaftProcessor {
    /// The election timer fired, or `campaign` was typed: a pre-vote round when PreVote
    /// is on, else a real election.
    pub(super) fn start_election(&mut self) {
        match self.role {
            RoleState::Leader { .. } => {}
            // A learner, a node not yet added, or one whose removal it knows committed,
            // never campaigns (`processor/membership.rs`, "Who campaigns").
            _ if !self.may_campaign() => self.reset_election_timer(),
            _ if self.config.prevote => self.pre_campaign(),
            _ => self.campaign(),
        }
    }

    /// `campaign NODE`: as if the election timer had fired. With lease reads, ignored while
    /// the node withholds its vote (see `processor/read.rs`): a timer cannot fire that
    /// early, and a vote for itself then could cut a leader's lease short.
    pub(super) fn campaign_requested(&mut self) {
        let leading = matches!(self.role, RoleState::Leader { .. });
        let lease_reads = self.config.reads == ReadMode::Lease;
        if lease_reads
            && !leading
            && let Some(until_us) = self.votes_withheld_until_us()
        {
            let term = self.term;
            self.out
                .events
                .push(RaftEvent::CampaignIgnored { term, until_us });
            return;
        }
        self.start_election();
    }

    /// Starts a pre-vote round for `term + 1`, keeping the node's term and vote.
    fn pre_campaign(&mut self) {
        let prospective_term = self.term + 1;
        let votes = self.own_vote();
        let won = votes.len() >= self.quorum();
        self.role = RoleState::PreCandidate { votes };
        self.out.events.push(RaftEvent::PreVoteStarted {
            term: prospective_term,
        });
        self.reset_election_timer();
        if won {
            self.campaign();
            return;
        }
        let message = Message::PreVote {
            last_log_index: self.log.last_index(),
            last_log_term: self.log.last_term(),
        };
        for peer in self.voter_peers() {
            self.out.messages.push(Envelope {
                from: self.id,
                to: peer,
                term: prospective_term,
                message: message.clone(),
            });
        }
    }

    /// The vote a candidate or pre-candidate counts for itself: its own, if it is a voter
    /// of its latest configuration, else none.
    pub(super) fn own_vote(&self) -> BTreeSet<NodeId> {
        self.is_voter(self.id)
            .then_some(self.id)
            .into_iter()
            .collect()
    }

    /// Whether the node heard from a leader recently enough to refuse an election: it is
    /// the leader, or it withholds its vote for now.
    fn heard_from_leader_recently(&self) -> bool {
        matches!(self.role, RoleState::Leader { .. }) || self.votes_withheld_until_us().is_some()
    }

    /// Until when a follower withholds its vote, if that is still ahead: the shortest
    /// election timeout after it last heard from the leader of its term, and, with lease
    /// reads, after it (re)started (it may have heard from a leader just before it went
    /// down, and no longer knows).
    pub(super) fn votes_withheld_until_us(&self) -> Option<u64> {
        let timeout_us = self.config.election_timeout_min_us;
        let contact_us = match self.role {
            RoleState::Follower { leader: Some(_) } => self.leader_contact_us,
            _ => None,
        };
        let lease_reads = self.config.reads == ReadMode::Lease;
        let started_us = lease_reads.then_some(self.started_us);
        let until_us = contact_us.max(started_us)? + timeout_us;
        (self.now_us < until_us).then_some(until_us)
    }

    /// Whether a message of a higher term skips the term rule (no step down, no new term):
    /// a PreVote (its term is only prospective; it is answered here) and, under
    /// CheckQuorum, a RequestVote while a leader is known to be alive (it is dropped).
    /// True means the message was taken care of.
    pub(super) fn skips_term_rule(&mut self, from: NodeId, term: Term, message: &Message) -> bool {
        match *message {
            Message::PreVote {
                last_log_index,
                last_log_term,
            } => {
                self.handle_prevote_request(from, term, last_log_index, last_log_term);
                true
            }
            Message::RequestVote {
                leadership_transfer,
                ..
            } => {
                !leadership_transfer
                    && self.config.check_quorum
                    && self.heard_from_leader_recently()
            }
            _ => false,
        }
    }

    /// PreVote for `term`: yes if `term` is above ours, the asker's log is at least as up
    /// to date as ours (section 5.4.1), and no leader was heard from recently. Nothing
    /// changes here: no term, no vote, no timer.
    pub(super) fn handle_prevote_request(
        &mut self,
        from: NodeId,
        term: Term,
        last_log_index: Index,
        last_log_term: Term,
    ) {
        let granted = term > self.term
            && self.log.is_up_to_date(last_log_index, last_log_term)
            && !self.heard_from_leader_recently();
        self.send(from, Message::PreVoteResponse { granted });
    }

    /// A PreVote answer in the node's term: a majority of yes starts the real election.
    pub(super) fn handle_prevote_response(&mut self, from: NodeId, granted: bool) {
        let quorum = self.quorum();
        // Answers that reach any other role are late: the round is over.
        let RoleState::PreCandidate { votes } = &mut self.role else {
            return;
        };
        if granted && self.membership.voters.binary_search(&from).is_ok() {
            votes.insert(from);
        }
        if votes.len() >= quorum {
            self.campaign();
        }
    }

    /// CheckQuorum, on the leader's heartbeat timer: steps down if fewer than a majority
    /// (the leader included) were heard from within the longest election timeout.
    /// Returns whether it stepped down.
    pub(super) fn check_quorum(&mut self) -> bool {
        if !self.config.check_quorum {
            return false;
        }
        let RoleState::Leader { progress } = &self.role else {
            return false;
        };
        let window_us = self.config.election_timeout_max_us;
        let heard = progress
            .iter()
            .filter(|(id, _)| self.is_voter(**id))
            .filter(|(_, peer)| self.now_us < peer.last_heard_us + window_us)
            .count();
        let own = usize::from(self.is_voter(self.id));
        if heard + own >= self.quorum() {
            return false;
        }
        let term = self.term;
        self.out.events.push(RaftEvent::LostQuorum { term });
        self.become_follower(term, None);
        true
    }
}

/// A leadership transfer in progress (thesis section 3.10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Transfer {
    /// The node that is to lead next.
    pub(super) target: NodeId,
    /// When the transfer is given up: one election timeout after it started.
    pub(super) deadline_us: u64,
    /// Whether TimeoutNow went out; it goes out once.
    timeout_now_sent: bool,
}

impl RaftProcessor {
    /// `transfer NODE` at this node: only a leader can hand its leadership over, to
    /// another voter, and one transfer at a time.
    pub(super) fn transfer_leader(&mut self, target: NodeId) {
        let term = self.term;
        let refusal = if !matches!(self.role, RoleState::Leader { .. }) {
            Some("not the leader")
        } else if target == self.id {
            Some("the target already leads")
        } else if !self.voter_peers().contains(&target) {
            Some("the target is not a voter")
        } else if self.transfer.is_some() {
            Some("a transfer is already in progress")
        } else {
            None
        };
        if let Some(reason) = refusal {
            let failed = RaftEvent::TransferFailed {
                term,
                target,
                reason,
            };
            self.out.events.push(failed);
            return;
        }
        self.transfer = Some(Transfer {
            target,
            deadline_us: self.now_us + self.config.election_timeout_max_us,
            timeout_now_sent: false,
        });
        self.out
            .events
            .push(RaftEvent::TransferStarted { term, target });
        self.replicate(target);
        self.maybe_send_timeout_now(target);
    }

    /// Sends TimeoutNow to the transfer's target once its log matches the leader's.
    pub(super) fn maybe_send_timeout_now(&mut self, peer: NodeId) {
        let RoleState::Leader { progress } = &self.role else {
            return;
        };
        let Some(transfer) = &mut self.transfer else {
            return;
        };
        let caught_up = progress
            .get(&peer)
            .is_some_and(|p| p.match_index == self.log.last_index());
        if transfer.target != peer || transfer.timeout_now_sent || !caught_up {
            return;
        }
        transfer.timeout_now_sent = true;
        let term = self.term;
        // The target may win whenever the TimeoutNow arrives: no more lease reads.
        self.timeout_now_term = Some(term);
        self.out
            .events
            .push(RaftEvent::TimeoutNowSent { term, target: peer });
        self.send(peer, Message::TimeoutNow);
    }

    /// Gives the transfer up once its election timeout has passed: the target was down,
    /// too far behind, or did not win. The leader takes proposals again.
    pub(super) fn check_transfer_deadline(&mut self) {
        let Some(transfer) = &self.transfer else {
            return;
        };
        if self.now_us < transfer.deadline_us {
            return;
        }
        let reason = if transfer.timeout_now_sent {
            "the target did not take over within an election timeout"
        } else {
            "the target did not catch up within an election timeout"
        };
        let (term, target) = (self.term, transfer.target);
        self.transfer = None;
        let failed = RaftEvent::TransferFailed {
            term,
            target,
            reason,
        };
        self.out.events.push(failed);
    }

    /// TimeoutNow from the leader of our term: campaign at once, skipping the pre-vote
    /// round, with leader stickiness waived.
    pub(super) fn handle_timeout_now(&mut self, from: NodeId) {
        match self.role {
            RoleState::Follower { leader } if leader.is_none_or(|l| l == from) => {
                self.campaign_for(true)
            }
            RoleState::PreCandidate { .. } => self.campaign_for(true),
            // A leader or candidate of this term is not the follower the leader meant.
            _ => {}
        }
    }
}

/// Votes (section 5.2): one per term, to a candidate whose log is at least as up to date.
impl RaftProcessor {
    /// RequestVote in the node's term: one vote per term, to a candidate whose log is at
    /// least as up to date (section 5.4.1).
    pub(super) fn handle_vote_request(
        &mut self,
        from: NodeId,
        last_log_index: Index,
        last_log_term: Term,
    ) {
        let free_to_vote = self.vote.is_none() || self.vote == Some(from);
        // Teaching bug `vote-without-log-check`: any candidate's log will do.
        let up_to_date = self.config.has_bug(Bug::VoteWithoutLogCheck)
            || self.log.is_up_to_date(last_log_index, last_log_term);
        let granted = free_to_vote && up_to_date;
        if granted && self.vote.is_none() {
            self.vote = Some(from);
            self.hard_state_dirty = true;
            self.out.events.push(RaftEvent::Voted {
                term: self.term,
                candidate: from,
            });
        }
        if granted {
            // Granting a vote restarts the timer, so that the candidate has time to win.
            self.reset_election_timer();
        }
        self.send(from, Message::VoteResponse { granted });
    }

    pub(super) fn handle_vote_response(&mut self, from: NodeId, granted: bool) {
        let quorum = self.quorum();
        // Responses that reach a follower or a leader are late: the election is over.
        let RoleState::Candidate { votes } = &mut self.role else {
            return;
        };
        if granted && self.membership.voters.binary_search(&from).is_ok() {
            votes.insert(from);
        }
        if votes.len() >= quorum {
            self.become_leader();
        }
    }
}
