//! Conditions for `expect` and `wait until`, evaluated against the cluster's state.
//!
//! A condition is a predicate over the scheduler's [`Scheduler`], so that `wait until` can test
//! it after every hand-off. `leader` in a condition means the leader at that moment.
//! `all` means every node that is up. `get K == V` is a linearizable read when `expect`
//! runs it (a client `get` through the log); `wait until get K == V` cannot issue reads
//! between hand-offs, so it tests the leader's state machine instead. `safe` and
//! `violation RULE` here are the cluster checker's: the Raft rules it holds after every
//! hand-off; the session adds the linearizability check of the history to `expect`.

use crate::cluster::{NodeState, NodeStatus, Rule, Scheduler};
use crate::raft::{NodeId, Role};

use super::command::{Condition, NodeNumber, NodeRef, NodeRole, NodeSel, SafetyRule};
use super::view::{SUMMARY_ABOVE_NODES, node_runs};

/// Over more nodes than a summary is for, the most different values a failed condition's
/// message spells out.
const VALUES_SHOWN: usize = 8;

/// The checker's rule for a rule of the command language.
pub fn checker_rule(rule: SafetyRule) -> Rule {
    match rule {
        SafetyRule::ElectionSafety => Rule::ElectionSafety,
        SafetyRule::LeaderAppendOnly => Rule::LeaderAppendOnly,
        SafetyRule::LogMatching => Rule::LogMatching,
        SafetyRule::LeaderCompleteness => Rule::LeaderCompleteness,
        SafetyRule::StateMachineSafety => Rule::StateMachineSafety,
        SafetyRule::Linearizability => Rule::Linearizability,
        SafetyRule::TermMonotonic => Rule::TermMonotonic,
        SafetyRule::VoteOnce => Rule::VoteOnce,
        SafetyRule::CommitMonotonic => Rule::CommitMonotonic,
        SafetyRule::AppliedMonotonic => Rule::AppliedMonotonic,
        SafetyRule::AppliedWithinCommit => Rule::AppliedWithinCommit,
        SafetyRule::CommitQuorum => Rule::CommitQuorum,
        SafetyRule::OneConfigChange => Rule::OneConfigChange,
        SafetyRule::MessageStorm => Rule::MessageStorm,
    }
}

/// Whether the checker has found `rule` broken (any rule, for `None`).
pub fn violated(sim: &Scheduler, rule: Option<SafetyRule>) -> bool {
    let counts = sim.observers().checker().counts();
    match rule {
        None => sim.observers().checker().violation_count() > 0,
        Some(rule) => counts.get(&checker_rule(rule)).is_some_and(|&n| n > 0),
    }
}

/// The checker's findings in words: `no violation`, or the count and the first.
pub fn describe_violations(sim: &Scheduler) -> String {
    match sim.observers().violations().first() {
        None => "no violation".to_string(),
        Some(first) => format!(
            "{} violation(s), the first at {}: {first}",
            sim.observers().checker().violation_count(),
            crate::repl::words::fmt_ms(first.time_us)
        ),
    }
}

/// Which nodes a selection names now: `None` when it names the leader and there is none.
fn select(sim: &Scheduler, node: NodeSel) -> Option<Vec<NodeId>> {
    match node {
        NodeSel::All => Some(
            sim.world()
                .status()
                .iter()
                .filter(|s| s.state == NodeState::Up)
                .map(|s| s.id)
                .collect(),
        ),
        NodeSel::One(NodeRef::Id(id)) => Some(vec![id]),
        NodeSel::One(NodeRef::Leader) => sim.world().leader().map(|l| vec![l]),
    }
}

fn status_of(sim: &Scheduler, id: NodeId) -> Option<NodeStatus> {
    sim.world().status().into_iter().find(|s| s.id == id)
}

fn role_matches(status: &NodeStatus, role: NodeRole) -> bool {
    match role {
        NodeRole::Down => status.state != NodeState::Up,
        NodeRole::Follower => status.role == Some(Role::Follower),
        NodeRole::Candidate => status.role == Some(Role::Candidate),
        NodeRole::Leader => status.role == Some(Role::Leader),
    }
}

fn number(status: &NodeStatus, number: NodeNumber) -> u64 {
    match number {
        NodeNumber::Term => status.term,
        NodeNumber::Commit => status.commit,
        NodeNumber::Applied => status.applied,
    }
}

/// Whether `condition` holds now. `get` is judged by the leader's state machine here.
pub fn holds(sim: &Scheduler, condition: &Condition) -> bool {
    match condition {
        Condition::Leader {
            node: None | Some(NodeRef::Leader),
        } => sim.world().leader().is_some(),
        Condition::Leader {
            node: Some(NodeRef::Id(id)),
        } => sim.world().leader() == Some(*id),
        Condition::NoLeader => sim.world().leader().is_none(),
        Condition::Role { node, role } => every(sim, *node, |s| role_matches(s, *role)),
        Condition::Compare {
            number: which,
            node,
            op,
            value,
        } => every(sim, *node, |s| {
            s.state == NodeState::Up && op.holds(number(s, *which), *value)
        }),
        Condition::Get { key, value } => sim
            .world()
            .leader()
            .and_then(|l| sim.world().kv_get(l, key).ok().flatten())
            .is_some_and(|v| &v == value),
        Condition::Kv { node, key, value } => select(sim, *node).is_some_and(|ids| {
            ids.iter()
                .all(|&id| sim.world().kv_get(id, key).ok().flatten().as_ref() == Some(value))
        }),
        Condition::LogsMatch => sim.world().logs_match(),
        Condition::Safe => !violated(sim, None),
        Condition::Violation { rule } => violated(sim, *rule),
    }
}

fn every(sim: &Scheduler, node: NodeSel, test: impl Fn(&NodeStatus) -> bool) -> bool {
    let Some(ids) = select(sim, node) else {
        return false;
    };
    !ids.is_empty()
        && ids
            .iter()
            .all(|&id| status_of(sim, id).is_some_and(|s| test(&s)))
}

/// What the condition's subject is now, for the message of a failed `expect` or `wait`.
pub fn actual(sim: &Scheduler, condition: &Condition) -> String {
    match condition {
        Condition::Leader { .. } | Condition::NoLeader => match sim.world().leader() {
            Some(leader) => format!("leader is n{leader}"),
            None => "there is no leader".to_string(),
        },
        Condition::Role { node, .. } => describe_nodes(sim, *node, |s| {
            s.role
                .filter(|_| s.state == NodeState::Up)
                .map_or("down", Role::name)
                .to_string()
        }),
        Condition::Compare {
            number: which,
            node,
            ..
        } => describe_nodes(sim, *node, |s| {
            format!("{} {}", which.word(), number(s, *which))
        }),
        Condition::Get { key, .. } => {
            let value = sim
                .world()
                .leader()
                .and_then(|l| sim.world().kv_get(l, key).ok().flatten());
            format!("{key} is {}", value.unwrap_or_else(|| "absent".to_string()))
        }
        Condition::Kv { node, key, .. } => {
            describe_nodes(sim, *node, |s| match sim.world().kv_get(s.id, key) {
                Ok(Some(v)) => format!("{key}={v}"),
                Ok(None) => format!("{key} absent"),
                Err(_) => "down".to_string(),
            })
        }
        Condition::LogsMatch => "the logs differ".to_string(),
        Condition::Safe | Condition::Violation { .. } => describe_violations(sim),
    }
}

fn describe_nodes(sim: &Scheduler, node: NodeSel, show: impl Fn(&NodeStatus) -> String) -> String {
    let Some(ids) = select(sim, node) else {
        return "there is no leader".to_string();
    };
    let shown: Vec<(NodeId, String)> = ids
        .iter()
        .filter_map(|&id| status_of(sim, id))
        .map(|s| (s.id, show(&s)))
        .collect();
    if shown.is_empty() {
        return "no node is up".to_string();
    }
    if shown.len() > SUMMARY_ABOVE_NODES {
        return describe_by_value(&shown);
    }
    let parts: Vec<String> = shown
        .iter()
        .map(|(id, text)| format!("n{id}: {text}"))
        .collect();
    parts.join(", ")
}

/// Many nodes, grouped by what they show, in the order each value first appears:
/// `n1..n99: applied 2; n100..n101: applied 1`.
fn describe_by_value(shown: &[(NodeId, String)]) -> String {
    let mut groups: Vec<(&str, Vec<NodeId>)> = Vec::new();
    for (id, text) in shown {
        match groups.iter_mut().find(|(t, _)| *t == text.as_str()) {
            Some((_, ids)) => ids.push(*id),
            None => groups.push((text, vec![*id])),
        }
    }
    let mut parts: Vec<String> = groups
        .iter()
        .take(VALUES_SHOWN)
        .map(|(text, ids)| format!("{}: {text}", node_runs(ids)))
        .collect();
    let hidden: usize = groups
        .iter()
        .skip(VALUES_SHOWN)
        .map(|(_, ids)| ids.len())
        .sum();
    if hidden > 0 {
        parts.push(format!("and {hidden} more nodes with other values"));
    }
    parts.join("; ")
}
