//! ReadIndex (Ongaro's thesis, section 6.4): reads answered without a log entry, still
//! linearizable.
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

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{RaftProcessor, RoleState};
use crate::raft::{Index, Message, NodeId};

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
        self.reads.round += 1;
        let round = self.reads.round;
        for id in ids {
            self.reads.pending.push(PendingRead {
                id,
                index: None,
                round,
                acks: BTreeSet::new(),
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
        let own = usize::from(voters.contains(&self.id));
        let (ready, waiting): (Vec<PendingRead>, Vec<PendingRead>) =
            std::mem::take(&mut self.reads.pending)
                .into_iter()
                .partition(|read| {
                    let acks = read.acks.iter().filter(|n| voters.contains(n)).count();
                    let confirmed = acks + own >= quorum;
                    confirmed && read.index.is_some_and(|index| index <= applied)
                });
        self.reads.pending = waiting;
        for read in ready {
            let index = read.index.expect("a ready read has its index");
            self.out.reads.push(ReadState::Ready { id: read.id, index });
        }
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
            _ => self.become_follower(self.term, Some(from)),
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
