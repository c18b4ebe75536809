//! Whether the cluster has settled: one leader that every member of its configuration
//! follows in its term, each having committed an entry of that term. `check` waits for
//! this once its faults are healed (a cluster that never gets there is a liveness
//! failure), and the `settled` and `unsettled` conditions of `expect` and `wait until`
//! test it, so that a failing seed's scenario shows the same gap when it is replayed.
//! What is missing is data ([`SettleGap`]); the REPL's words say it.

use crate::raft::{Index, NodeId, Role, Term};

use super::Scheduler;
use super::{NodePicture, NodeState};

/// What keeps the cluster from being settled: the first thing missing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SettleGap {
    /// No node leads.
    NoLeader,
    /// A member of the leader's configuration is not up.
    NotUp(NodeId),
    /// A member has not committed an entry of the leader's term.
    NotCommitted {
        node: NodeId,
        leader: NodeId,
        term: Term,
    },
    /// A voter other than the leader that is not a follower naming it: its role (`None`
    /// while it has none) and term.
    NotFollowing {
        node: NodeId,
        role: Option<Role>,
        term: Term,
        leader: NodeId,
    },
}

/// The leader, and the voters and learners of its latest configuration (as the checker
/// saw its log); `None` without a leader.
pub(crate) fn leader_members(sim: &Scheduler) -> Option<(NodeId, &[NodeId], &[NodeId])> {
    let leader = sim.world().leader()?;
    let checker = sim.observers().checker();
    let (_, voters, learners) = (checker.configurations_iter(leader).last())
        .expect("a node's configurations start with the initial one");
    Some((leader, voters, learners))
}

/// What keeps the cluster from being settled; `None` once it is (see [`settle_gap`]).
pub fn unsettled(sim: &Scheduler) -> Option<SettleGap> {
    let Some((leader, voters, learners)) = leader_members(sim) else {
        return Some(SettleGap::NoLeader);
    };
    let term_at = |node, index| sim.world().term_at(node, index);
    settle_gap(leader, &sim.world().status(), (voters, learners), term_at)
}

/// Whether `node` is in `term` and has committed an entry of it.
pub(crate) fn committed_in(
    node: &NodePicture,
    term: Term,
    term_at: impl Fn(NodeId, Index) -> Option<Term>,
) -> bool {
    node.term == term && node.commit > 0 && term_at(node.id, node.commit) == Some(term)
}

/// Whether `node` follows `leader` as the settle rule asks: the leader itself and a
/// learner owe nothing; a voter is a follower that names it.
pub(crate) fn follows(node: &NodePicture, leader: NodeId, voters: &[NodeId]) -> bool {
    node.id == leader
        || !voters.contains(&node.id)
        || (node.role == Some(Role::Follower) && node.leader == Some(leader))
}

/// What keeps the nodes from being settled under `leader`; `None` once they are: every
/// member of the leader's configuration (its latest; `members` is its voters and its
/// learners) is up, in the leader's term, and has committed an entry of it, and every
/// voter but the leader is a follower that names it as leader. A node the configuration
/// leaves out (removed) owes nothing. `term_at(node, index)` is the term of a node's
/// entry.
pub fn settle_gap(
    leader: NodeId,
    nodes: &[NodePicture],
    members: (&[NodeId], &[NodeId]),
    term_at: impl Fn(NodeId, Index) -> Option<Term>,
) -> Option<SettleGap> {
    let (voters, learners) = members;
    let term = nodes.iter().find(|s| s.id == leader).map(|s| s.term)?;
    let member = |node: NodeId| voters.contains(&node) || learners.contains(&node);
    for s in nodes.iter().filter(|s| member(s.id)) {
        let node = s.id;
        if s.state != NodeState::Up {
            return Some(SettleGap::NotUp(node));
        }
        if !committed_in(s, term, &term_at) {
            return Some(SettleGap::NotCommitted { node, leader, term });
        }
        if !follows(s, leader, voters) {
            let (role, term) = (s.role, s.term);
            return Some(SettleGap::NotFollowing {
                node,
                role,
                term,
                leader,
            });
        }
    }
    None
}
