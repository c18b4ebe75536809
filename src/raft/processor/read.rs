//! ReadIndex and lease reads (Ongaro's thesis, section 6.4): reads answered without a log
//! entry, still linearizable.
//!
//! A read that reaches the leader waits for three things. The leader must have committed
//! an entry of its own term (its no-op), so that its commit index is at least every
//! index committed before; it then notes that commit index as the read's index. It must
//! learn that it still leads: it sends a LeaderCheck round after the read arrived, and a
//! majority (itself included) answering that round, or a later one, in its term means no
//! other leader had been elected when they answered. And its state machine must have
//! applied the read's index. Then the caller answers the read from its state machine
//! ([`ReadState::Ready`]). A node that is not the leader, or that stops leading, refuses
//! its reads ([`ReadState::Refused`]), naming the leader if it knows it.
//!
//! # Lease reads
//!
//! With [`ReadMode::Lease`] (thesis section 6.4.1) a leader skips the LeaderCheck round
//! while it holds a lease. Every AppendEntries carries the time the leader sent it
//! (`sent_us`, by its own clock), and every answer echoes it. Once a majority of the
//! voters in force (the leader included, at the present) answered AppendEntries sent at
//! or after `t`, the leader holds a lease until `t` + [`crate::raft::RaftConfig::lease_us`]: the
//! shortest election timeout less a margin for clock drift. A read that arrives while
//! the lease holds, at a leader that has committed an entry of its term, takes the
//! commit index at once and is answered as soon as that index is applied. Otherwise the
//! read falls back to a ReadIndex round ([`RaftEvent::ReadWithoutLease`] says why).
//!
//! Why no other leader can exist before the lease ends: each voter of that majority heard
//! from the leader at or after `t`, and CheckQuorum's leader stickiness makes it refuse
//! RequestVote and PreVote for the shortest election timeout after that; its own election
//! timer cannot fire sooner either. A new leader needs the vote of at least one of them,
//! so it cannot be elected before `t` + the shortest election timeout, on that voter's
//! clock. Three ways around this are closed:
//!
//! - Leadership transfer: the target's RequestVote waives stickiness. A leader that has
//!   sent TimeoutNow serves no lease reads for the rest of its term (the TimeoutNow may
//!   arrive late, after the transfer was given up).
//! - Restarts: a restarted node has forgotten when it heard from a leader. With lease
//!   reads it grants no vote within the shortest election timeout of starting.
//! - `campaign NODE` is the election timer firing early: with lease reads it is ignored
//!   while the node would refuse others' votes ([`RaftEvent::CampaignIgnored`]).
//!
//! **The clock assumption.** The lease is measured on the leader's clock and stickiness
//! on each follower's. They agree only if the nodes' clocks advance at the same rate,
//! within [`crate::raft::LEASE_CLOCK_DRIFT_PERCENT`], which the lease gives up as its
//! margin. Nothing in the protocol can check this. In this simulator every node reads
//! the scheduler's one virtual clock, so the assumption holds by construction; a node
//! whose clock ran fast (a bug in a real system, or a teaching bug here) could vote for
//! a new leader while the old one still serves reads under its lease: stale reads.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use super::{RaftEvent, RaftProcessor, RoleState};
use crate::raft::{Index, Message, NodeId, ReadMode};

/// The caller's name for one read.
pub type ReadId = u64;

/// What became of a read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadState {
    /// The read may be answered from the state machine, which has applied `index`.
    Ready { id: ReadId, index: Index },
    /// The node cannot answer it: it is not the leader (or is handing its leadership over
    /// to `leader`).
    Refused { id: ReadId, leader: Option<NodeId> },
}

/// One read waiting at the leader.
#[derive(Clone, Debug, PartialEq, Eq)]
struct PendingRead {
    id: ReadId,
    /// The commit index noted for the read, once an entry of the leader's term committed.
    index: Option<Index>,
    /// The LeaderCheck round sent after the read arrived.
    round: u64,
    /// The followers that answered `round` or a later one.
    acks: BTreeSet<NodeId>,
    /// Served under the leader's lease: its leadership needs no confirmation.
    by_lease: bool,
}

/// Why a leader with lease reads on did not serve a read under its lease.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoLease {
    /// It sent TimeoutNow in its term: the target may win at any time.
    TimeoutNowSent,
    /// It has not committed an entry of its term, so its commit index may be behind.
    NoCommitInTerm,
    /// No AppendEntries of its term was answered by a majority yet.
    NotAcknowledged,
    /// Its lease ended at `until_us`.
    Expired { until_us: u64 },
}

impl fmt::Display for NoLease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoLease::TimeoutNowSent => f.write_str("it sent TimeoutNow in this term"),
            NoLease::NoCommitInTerm => f.write_str("no entry of its term committed yet"),
            NoLease::NotAcknowledged => f.write_str("no heartbeat acknowledged by a majority"),
            NoLease::Expired { until_us } => write!(f, "lease ended at {until_us}us"),
        }
    }
}

/// The reads waiting at a leader, in arrival order, and the last LeaderCheck round.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct PendingReads {
    /// Invariant: never decreases, over the node's whole life (answers to an old round
    /// must not confirm a newer one).
    round: u64,
    pending: Vec<PendingRead>,
}

impl PendingReads {
    pub(super) fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    pub(super) fn len(&self) -> usize {
        self.pending.len()
    }
}

impl RaftProcessor {
    /// Reads arrive: refused unless leader (and not transferring); else queued, and one
    /// LeaderCheck round goes out for all of them.
    pub(super) fn read(&mut self, ids: Vec<ReadId>) {
        let refusal = match (&self.role, &self.transfer) {
            (RoleState::Leader { .. }, None) => None,
            (RoleState::Leader { .. }, Some(transfer)) => Some(Some(transfer.target)),
            _ => Some(self.leader()),
        };
        if let Some(leader) = refusal {
            for id in ids {
                self.out.reads.push(ReadState::Refused { id, leader });
            }
            return;
        }
        if self.config.reads == ReadMode::Lease {
            match self.lease() {
                Ok(lease_until_us) => return self.read_under_lease(ids, lease_until_us),
                Err(why) => self.out.events.push(RaftEvent::ReadWithoutLease {
                    term: self.term,
                    reads: ids.len(),
                    why,
                }),
            }
        }
        self.reads.round += 1;
        let round = self.reads.round;
        for id in ids {
            self.reads.pending.push(PendingRead {
                id,
                index: None,
                round,
                acks: BTreeSet::new(),
                by_lease: false,
            });
        }
        for peer in self.peers.clone() {
            self.send(peer, Message::LeaderCheck { round });
        }
    }

    /// Notes read indexes once an entry of the leader's term committed, and hands out
    /// the reads that are confirmed and applied. Runs at the end of every step.
    pub(super) fn release_reads(&mut self) {
        if !matches!(self.role, RoleState::Leader { .. }) || self.reads.pending.is_empty() {
            return;
        }
        if self.log.term_at(self.commit) == Some(self.term) {
            for read in &mut self.reads.pending {
                read.index.get_or_insert(self.commit);
            }
        }
        let quorum = self.quorum();
        let applied = self.applied;
        let voters = Arc::clone(&self.membership.voters);
        let own = usize::from(voters.binary_search(&self.id).is_ok());
        let (ready, waiting): (Vec<PendingRead>, Vec<PendingRead>) =
            std::mem::take(&mut self.reads.pending)
                .into_iter()
                .partition(|read| {
                    let acks = read
                        .acks
                        .iter()
                        .filter(|n| voters.binary_search(n).is_ok())
                        .count();
                    let confirmed = read.by_lease || acks + own >= quorum;
                    confirmed && read.index.is_some_and(|index| index <= applied)
                });
        self.reads.pending = waiting;
        for read in ready {
            let index = read.index.expect("a ready read has its index");
            self.out.reads.push(ReadState::Ready { id: read.id, index });
        }
    }

    /// Reads at a leader holding its lease: each takes the commit index now, with no
    /// round, and is answered once that index is applied.
    fn read_under_lease(&mut self, ids: Vec<ReadId>, lease_until_us: u64) {
        let index = self.commit;
        self.out.events.push(RaftEvent::LeaseRead {
            term: self.term,
            reads: ids.len(),
            index,
            lease_until_us,
        });
        for id in ids {
            self.reads.pending.push(PendingRead {
                id,
                index: Some(index),
                round: self.reads.round,
                acks: BTreeSet::new(),
                by_lease: true,
            });
        }
    }

    /// The end of the leader's lease, if it holds one now, or why it does not.
    fn lease(&self) -> Result<u64, NoLease> {
        if self.timeout_now_term == Some(self.term) {
            return Err(NoLease::TimeoutNowSent);
        }
        if self.log.term_at(self.commit) != Some(self.term) {
            return Err(NoLease::NoCommitInTerm);
        }
        let start_us = self.lease_start_us().ok_or(NoLease::NotAcknowledged)?;
        let until_us = start_us + self.config.lease_us();
        if self.now_us >= until_us {
            return Err(NoLease::Expired { until_us });
        }
        Ok(until_us)
    }

    /// The latest time `t` such that a majority of the voters in force heard from this
    /// leader at or after `t`: the leader itself now, each follower when the
    /// AppendEntries it last answered was sent.
    fn lease_start_us(&self) -> Option<u64> {
        self.majority_value(self.now_us, |peer| peer.acked_sent_us, false)
    }

    /// The node stops leading: its waiting reads are refused, pointing at `leader`.
    pub(super) fn refuse_reads(&mut self, leader: Option<NodeId>) {
        for read in std::mem::take(&mut self.reads.pending) {
            let id = read.id;
            self.out.reads.push(ReadState::Refused { id, leader });
        }
    }

    /// LeaderCheck from the leader of our term: it is leader contact, like a heartbeat,
    /// and is answered.
    pub(super) fn handle_leader_check(&mut self, from: NodeId, round: u64) {
        match self.role {
            // Two leaders in one term: Election Safety is already broken; the checker
            // reports it. Do not confirm the other.
            RoleState::Leader { .. } => return,
            RoleState::Follower {
                leader: Some(leader),
            } if leader == from => self.reset_election_timer(),
            _ => self.follow_leader_of_term(from),
        }
        self.leader_contact_us = Some(self.now_us);
        self.send(from, Message::LeaderCheckResponse { round });
    }

    /// An answer to a LeaderCheck round: it confirms every read of that round or earlier.
    pub(super) fn handle_leader_check_response(&mut self, from: NodeId, round: u64) {
        if !matches!(self.role, RoleState::Leader { .. }) {
            return;
        }
        for read in &mut self.reads.pending {
            if read.round <= round {
                read.acks.insert(from);
            }
        }
    }
}
