//! Whether the cluster has settled: one leader that every member of its configuration
//! follows in its term, each having committed an entry of that term. `check` waits for
//! this once its faults are healed (a cluster that never gets there is a liveness
//! failure), and the `settled` and `unsettled` conditions of `expect` and `wait until`
//! test it, so that a failing seed's scenario shows the same gap when it is replayed.

use crate::raft::{Index, NodeId, Role, Term};

use super::Scheduler;
use super::{NodePicture, NodeState};

/// The leader, and the voters and learners of its latest configuration (as the checker
/// saw its log); `None` without a leader.
pub(crate) fn leader_members(sim: &Scheduler) -> Option<(NodeId, &[NodeId], &[NodeId])> {
    let leader = sim.world().leader()?;
    let checker = sim.observers().checker();
    let (_, voters, learners) = (checker.configurations_iter(leader).last())
        .expect("a node's configurations start with the initial one");
    Some((leader, voters, learners))
}

/// What keeps the cluster from being settled, in words; `None` once it is (see
/// [`settle_gap`]).
pub fn unsettled(sim: &Scheduler) -> Option<String> {
    let Some((leader, voters, learners)) = leader_members(sim) else {
        return Some("no leader".to_string());
    };
    let term_at = |node, index| sim.world().term_at(node, index);
    settle_gap(leader, &sim.world().status(), (voters, learners), term_at)
}

/// What keeps the nodes from being settled under `leader`, in words; `None` once they
/// are: every member of the leader's configuration (its latest; `members` is its voters
/// and its learners) is up, in the leader's term, and has committed an entry of it, and
/// every voter but the leader is a follower that names it as leader. A node the
/// configuration leaves out (removed) owes nothing. `term_at(node, index)` is the term of
/// a node's entry.
pub fn settle_gap(
    leader: NodeId,
    nodes: &[NodePicture],
    members: (&[NodeId], &[NodeId]),
    term_at: impl Fn(NodeId, Index) -> Option<Term>,
) -> Option<String> {
    let (voters, learners) = members;
    let term = nodes.iter().find(|s| s.id == leader).map(|s| s.term)?;
    let member = |node: NodeId| voters.contains(&node) || learners.contains(&node);
    for s in nodes.iter().filter(|s| member(s.id)) {
        let n = s.id;
        if s.state != NodeState::Up {
            return Some(format!("n{n} is not up"));
        }
        if s.term != term || s.commit == 0 || term_at(n, s.commit) != Some(term) {
            return Some(format!(
                "n{n} has not committed an entry of n{leader}'s term {term}"
            ));
        }
        let follows = s.role == Some(Role::Follower) && s.leader == Some(leader);
        if n != leader && voters.contains(&n) && !follows {
            let role = s.role.map_or("down", |r| r.name());
            return Some(format!(
                "n{n} is a {role} of term {} that does not name n{leader} as leader",
                s.term
            ));
        }
    }
    None
}
