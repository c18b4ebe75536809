//! Resolving a parsed command against the cluster: do the nodes it names exist?

use super::command::{Command, Condition, NodeRef, NodeSel, ResolveError};
use crate::raft::NodeId;

impl Command {
    /// The node ids the command names (not `leader` or `all`, which the executor resolves
    /// when it runs the command), in the order they appear.
    pub fn node_ids(&self) -> Vec<NodeId> {
        let mut ids = Vec::new();
        self.collect_nodes(&mut |node| {
            if let NodeRef::Id(id) = node {
                ids.push(id);
            }
        });
        ids
    }

    /// Checks that every node the command names is one of `nodes` (the cluster's nodes).
    /// `add` names any node: a new one, or one removed earlier that joins again; the leader
    /// refuses one that is still a member, and says so.
    pub fn check_nodes(&self, nodes: &[NodeId]) -> Result<(), ResolveError> {
        match self.node_ids().into_iter().find(|id| !nodes.contains(id)) {
            Some(node) => Err(ResolveError::NoSuchNode {
                node,
                nodes: describe(nodes),
            }),
            None => Ok(()),
        }
    }

    fn collect_nodes(&self, visit: &mut impl FnMut(NodeRef)) {
        match self {
            Command::Status { rows, .. } | Command::Log { rows, .. } => {
                rows.named().iter().copied().for_each(visit)
            }
            Command::ExportLog { nodes, .. } | Command::ExportLogSlide { nodes, .. } => {
                nodes.iter().copied().for_each(visit)
            }
            Command::Partition { groups } => groups.iter().flatten().copied().for_each(visit),
            Command::Cut { from, to, .. } | Command::Link { from, to, .. } => {
                visit(*from);
                visit(*to);
            }
            Command::Kv { node: Some(node) }
            | Command::Client {
                via: Some(node), ..
            } => visit(*node),
            Command::Kill { nodes } | Command::Restart { nodes } => {
                nodes.named().iter().copied().for_each(visit)
            }
            Command::Isolate { node }
            | Command::Campaign { node }
            | Command::Tick { node }
            | Command::Transfer { node }
            | Command::Remove { node }
            | Command::Snapshot { node }
            | Command::SetLog { node, .. } => visit(*node),
            Command::WaitUntil { condition, .. } | Command::Expect { condition } => {
                condition_nodes(condition, visit)
            }
            Command::Try { command } => command.collect_nodes(visit),
            _ => {}
        }
    }
}

fn condition_nodes(condition: &Condition, visit: &mut impl FnMut(NodeRef)) {
    match condition {
        Condition::Leader { node: Some(node) } => visit(*node),
        Condition::Role {
            node: NodeSel::One(node),
            ..
        }
        | Condition::Compare {
            node: NodeSel::One(node),
            ..
        }
        | Condition::Kv {
            node: NodeSel::One(node),
            ..
        } => visit(*node),
        _ => {}
    }
}

/// Describes a set of node ids compactly: `nodes 1..5`, `nodes 1..3, 5, 7..8`, `node 2`,
/// `no nodes`.
pub fn describe(nodes: &[NodeId]) -> String {
    let mut sorted = nodes.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut runs: Vec<(NodeId, NodeId)> = Vec::new();
    for id in sorted {
        match runs.last_mut() {
            Some((_, hi)) if hi.checked_add(1) == Some(id) => *hi = id,
            _ => runs.push((id, id)),
        }
    }
    if runs.is_empty() {
        return "no nodes".to_string();
    }
    let parts: Vec<String> = runs
        .iter()
        .map(|&(lo, hi)| {
            if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}..{hi}")
            }
        })
        .collect();
    let plural = if let [(lo, hi)] = runs.as_slice()
        && lo == hi
    {
        "node"
    } else {
        "nodes"
    };
    format!("{plural} {}", parts.join(", "))
}
