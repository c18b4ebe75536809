//! Resolving a parsed command against the cluster: do the nodes it names exist?

use super::command::{Command, Condition, NodeRef, NodeSel, ResolveError};
use crate::cluster::{MAX_NODES, describe_node_ids};
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
    /// An id above [`MAX_NODES`] cannot be added: no cluster has that many nodes.
    pub fn check_nodes(&self, nodes: &[NodeId]) -> Result<(), ResolveError> {
        if let Some(node) = self.added().filter(|&node| node > MAX_NODES) {
            return Err(ResolveError::NodeIdTooLarge {
                node,
                nodes: describe_node_ids(nodes),
            });
        }
        match self.node_ids().into_iter().find(|id| !nodes.contains(id)) {
            Some(node) => Err(ResolveError::NoSuchNode {
                node,
                nodes: describe_node_ids(nodes),
            }),
            None => Ok(()),
        }
    }

    /// The node an `add` (or `try add`) names.
    fn added(&self) -> Option<NodeId> {
        match self {
            Command::Add { node } => Some(*node),
            Command::Try { command } => command.added(),
            _ => None,
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
