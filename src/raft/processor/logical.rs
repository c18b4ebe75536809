//! The node's logical state, for a model checker's fingerprint: everything that decides
//! what the node does next, and nothing of time.
//!
//! `raftlab explore` (`src/explore/fingerprint.rs`) treats two states of a cluster as one
//! when they differ only in clock readings and RNG positions: time is abstracted there, a
//! timer firing is an action of its own. This is the node's half of that rule, kept next
//! to the fields it reads so that a new field is seen here. What counts:
//!
//! - the term, the vote, the log (every entry, whole), the snapshot's index and term, the
//!   commit and applied indexes;
//! - the role, with its state: the leader a follower knows, the votes of a (pre-)candidate,
//!   and a leader's progress per follower (next and match index, AppendEntries in flight);
//! - a leadership transfer's target and the pending reads' count, and the term in which it
//!   sent TimeoutNow (all empty in a model that has no such actions, but not ignored).
//!
//! What does not count: `now_us`, the election and heartbeat deadlines, `started_us`,
//! `leader_contact_us`, a progress's `last_heard_us` and `acked_sent_us` (clock readings:
//! they only matter to PreVote, CheckQuorum and lease reads, which a model checker turns
//! off), the RNG, the configuration (the same on every node of one model), and the
//! configuration fields derived from the log (`membership` and its caches, and
//! `progress_settled`).
//!
//! Node ids go through `rename`, so that a symmetry reduction can hash a state as its
//! image under a permutation of the ids; sets and maps keyed by node are hashed in the
//! order of the renamed ids.

use std::hash::{Hash, Hasher};

use super::{RaftProcessor, RoleState};
use crate::raft::NodeId;

impl RaftProcessor {
    /// Feeds the node's logical state (see the module documentation of
    /// `processor/logical.rs`) into `state`, with every node id mapped by `rename`.
    pub fn hash_logical<H: Hasher>(&self, state: &mut H, rename: &dyn Fn(NodeId) -> NodeId) {
        rename(self.id).hash(state);
        self.term.hash(state);
        self.vote.map(rename).hash(state);
        self.log.hash_entries(state);
        (self.commit, self.applied).hash(state);
        match &self.role {
            RoleState::Follower { leader } => (0u8, leader.map(rename)).hash(state),
            RoleState::PreCandidate { votes } => (1u8, renamed(votes, rename)).hash(state),
            RoleState::Candidate { votes } => (2u8, renamed(votes, rename)).hash(state),
            RoleState::Leader { progress } => {
                let mut peers: Vec<_> = progress
                    .iter()
                    .map(|(&peer, p)| (rename(peer), p.next_index, p.match_index, p.inflight))
                    .collect();
                peers.sort_unstable();
                (3u8, peers).hash(state);
            }
        }
        self.transfer.as_ref().map(|t| rename(t.target)).hash(state);
        self.reads.len().hash(state);
        self.timeout_now_term.hash(state);
    }
}

fn renamed<'a>(
    nodes: impl IntoIterator<Item = &'a NodeId>,
    rename: &dyn Fn(NodeId) -> NodeId,
) -> Vec<NodeId> {
    let mut ids: Vec<NodeId> = nodes.into_iter().map(|&n| rename(n)).collect();
    ids.sort_unstable();
    ids
}
