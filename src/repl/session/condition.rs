//! Conditions for `expect` and `wait until`, evaluated against the cluster's state.
//!
//! A condition is a predicate over the cluster's data picture, a [`ClusterView`], so that
//! `wait until` can test it after every hand-off ([`limits`] says how much of the picture
//! a condition reads). `leader` in a condition means the leader at that moment.
//! `all` means every node that is up. `get K == V` is a linearizable read when `expect`
//! runs it (a client `get` through the log); `wait until get K == V` cannot issue reads
//! between hand-offs, so it tests the leader's state machine instead (and, failing with
//! no leader, says there was none to read from). `safe` and
//! `violation RULE` here are the cluster checker's: the Raft rules it holds after every
//! hand-off; the session adds the linearizability check of the history to `expect`.

use crate::cluster::{ClusterView, NodePicture, NodeState, Rule, ViewLimits};
use crate::raft::{NodeId, Role};

use crate::repl::command::{Condition, NodeNumber, NodeRef, NodeRole, NodeSel, SafetyRule};
use crate::repl::view::{SUMMARY_ABOVE_NODES, node_runs};

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

/// How much of the cluster's picture `condition` reads.
pub fn limits(condition: &Condition) -> ViewLimits {
    ViewLimits {
        kv: matches!(condition, Condition::Get { .. } | Condition::Kv { .. }),
        logs_match: matches!(condition, Condition::LogsMatch),
        settled: matches!(condition, Condition::Settled | Condition::Unsettled),
        ..ViewLimits::least()
    }
}

/// Whether the checker has found `rule` broken (any rule, for `None`).
pub fn violated(view: &ClusterView, rule: Option<SafetyRule>) -> bool {
    let counts = &view.violation_counts;
    match rule {
        None => view.violation_count() > 0,
        Some(rule) => counts.get(&checker_rule(rule)).is_some_and(|&n| n > 0),
    }
}

/// The checker's findings in words: `no violation`, or the count and the first.
pub fn describe_violations(view: &ClusterView) -> String {
    match view.violations.first() {
        None => "no violation".to_string(),
        Some(first) => format!(
            "{} violation(s), the first at {}: {first}",
            view.violation_count(),
            crate::repl::words::fmt_ms(first.time_us)
        ),
    }
}

/// Which nodes a selection names now: `None` when it names the leader and there is none.
fn select(view: &ClusterView, node: NodeSel) -> Option<Vec<NodeId>> {
    match node {
        NodeSel::All => Some(
            view.nodes
                .iter()
                .filter(|s| s.state == NodeState::Up)
                .map(|s| s.id)
                .collect(),
        ),
        NodeSel::One(NodeRef::Id(id)) => Some(vec![id]),
        NodeSel::One(NodeRef::Leader) => view.leader.map(|l| vec![l]),
    }
}

fn status_of(view: &ClusterView, id: NodeId) -> Option<&NodePicture> {
    view.node(id)
}

/// The leader's value for `key`, if there is a leader and it holds the key.
fn leader_value<'a>(view: &'a ClusterView, key: &str) -> Option<&'a str> {
    view.leader.and_then(|l| view.kv_get(l, key).flatten())
}

fn role_matches(status: &NodePicture, role: NodeRole) -> bool {
    match role {
        NodeRole::Down => status.state != NodeState::Up,
        NodeRole::Follower => status.role == Some(Role::Follower),
        NodeRole::Candidate => status.role == Some(Role::Candidate),
        NodeRole::Leader => status.role == Some(Role::Leader),
    }
}

fn number(status: &NodePicture, number: NodeNumber) -> u64 {
    match number {
        NodeNumber::Term => status.term,
        NodeNumber::Commit => status.commit,
        NodeNumber::Applied => status.applied,
    }
}

/// Whether `condition` holds now. `get` is judged by the leader's state machine here.
pub fn holds(view: &ClusterView, condition: &Condition) -> bool {
    match condition {
        Condition::Leader {
            node: None | Some(NodeRef::Leader),
        } => view.leader.is_some(),
        Condition::Leader {
            node: Some(NodeRef::Id(id)),
        } => view.leader == Some(*id),
        Condition::NoLeader => view.leader.is_none(),
        Condition::Role { node, role } => every(view, *node, |s| role_matches(s, *role)),
        Condition::Compare {
            number: which,
            node,
            op,
            value,
        } => every(view, *node, |s| {
            s.state == NodeState::Up && op.holds(number(s, *which), *value)
        }),
        Condition::Get { key, value } => leader_value(view, key) == Some(value.as_str()),
        Condition::Kv { node, key, value } => select(view, *node).is_some_and(|ids| {
            ids.iter()
                .all(|&id| view.kv_get(id, key).flatten() == Some(value.as_str()))
        }),
        Condition::LogsMatch => view.logs_match == Some(true),
        Condition::Settled => matches!(view.settled, Some(Ok(()))),
        Condition::Unsettled => matches!(view.settled, Some(Err(_))),
        Condition::Safe => !violated(view, None),
        Condition::Violation { rule } => violated(view, *rule),
    }
}

fn every(view: &ClusterView, node: NodeSel, test: impl Fn(&NodePicture) -> bool) -> bool {
    let Some(ids) = select(view, node) else {
        return false;
    };
    !ids.is_empty() && ids.iter().all(|&id| status_of(view, id).is_some_and(&test))
}

/// What the condition's subject is now, for the message of a failed `expect` or `wait`.
pub fn actual(view: &ClusterView, condition: &Condition) -> String {
    match condition {
        Condition::Leader { .. } | Condition::NoLeader => match view.leader {
            Some(leader) => format!("leader is n{leader}"),
            None => "there is no leader".to_string(),
        },
        Condition::Role { node, .. } => describe_nodes(view, *node, |s| {
            s.role
                .filter(|_| s.state == NodeState::Up)
                .map_or("down", Role::name)
                .to_string()
        }),
        Condition::Compare {
            number: which,
            node,
            ..
        } => describe_nodes(view, *node, |s| {
            format!("{} {}", which.word(), number(s, *which))
        }),
        Condition::Get { key, .. } => match view.leader {
            None => format!("there is no leader to read {key} from"),
            Some(_) => format!("{key} is {}", leader_value(view, key).unwrap_or("absent")),
        },
        Condition::Kv { node, key, .. } => {
            describe_nodes(view, *node, |s| match view.kv_get(s.id, key) {
                Some(Some(v)) => format!("{key}={v}"),
                Some(None) => format!("{key} absent"),
                None => "down".to_string(),
            })
        }
        Condition::LogsMatch => "the logs differ".to_string(),
        Condition::Settled | Condition::Unsettled => match (&view.settled, view.leader) {
            (Some(Ok(())), Some(leader)) => {
                let term = view.node(leader).map_or(0, |s| s.term);
                format!("settled under n{leader} in term {term}")
            }
            (Some(Ok(())), None) => "settled".to_string(),
            (Some(Err(missing)), _) => format!("not settled: {missing}"),
            (None, _) => "whether it settled is not known here".to_string(),
        },
        Condition::Safe | Condition::Violation { .. } => describe_violations(view),
    }
}

/// What the selected nodes show (`n1: term 2, n3: term 3`). A node that is down shows
/// nothing but that (`n2 is down`): a condition on a node holds only while it is up, and
/// what a down node last had (its durable term, say) would read as if it held.
fn describe_nodes(
    view: &ClusterView,
    node: NodeSel,
    show: impl Fn(&NodePicture) -> String,
) -> String {
    let Some(ids) = select(view, node) else {
        return "there is no leader".to_string();
    };
    let shown: Vec<(NodeId, Option<String>)> = ids
        .iter()
        .filter_map(|&id| status_of(view, id))
        .map(|s| (s.id, (s.state == NodeState::Up).then(|| show(s))))
        .collect();
    if shown.is_empty() {
        return "no node is up".to_string();
    }
    if shown.len() > SUMMARY_ABOVE_NODES {
        let shown: Vec<(NodeId, String)> = shown
            .into_iter()
            .map(|(id, text)| (id, text.unwrap_or_else(|| "down".to_string())))
            .collect();
        return describe_by_value(&shown);
    }
    let parts: Vec<String> = shown
        .iter()
        .map(|(id, text)| match text {
            Some(text) => format!("n{id}: {text}"),
            None => format!("n{id} is down"),
        })
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
