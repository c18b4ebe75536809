//! Summaries of `status` and `log` for large clusters, where one row per node is a wall of
//! text: counts, extremes and the few nodes that stand out, then how to see every row.
//!
//! `log` groups nodes by their last entry (index and term), commit index, snapshot and
//! whether they are up. By Log Matching (section 5.3 of the Raft paper), two logs with an
//! entry of the same index and term are identical up to it, so nodes with the same last
//! entry have the same log and one row can stand for all of them. (If a safety check has
//! failed, that no longer holds; `log all` and `check` show what did.)

use std::collections::HashMap;
use std::fmt::Write;

use colored::Colorize;

use super::{LogLayout, logs_legend, logs_verbose};
use crate::cluster::{ClusterView, NodePicture, NodeState, id_runs};
use crate::raft::{Entry, Index, NodeId, Role, Term};

/// The nodes the summary of `status` names as furthest behind.
const LAGGING_SHOWN: usize = 4;

/// The most groups of identical logs `log` shows a row for; the rest are counted.
const LOG_GROUPS_SHOWN: usize = 12;

/// The most runs of ids a list of nodes spells out (`n1..n12, n15, ...`) before counting
/// the rest.
const RUNS_SHOWN: usize = 8;

/// `status` in a large cluster: the time line of the full view, then counts and extremes.
/// `initial_voters` is the size of the initial cluster, whose members every node is until
/// a configuration change.
pub fn status_summary(status: &ClusterView, initial_voters: u64) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", super::status_time_line(status));
    let nodes = &status.nodes;
    let _ = writeln!(out, "{}", roles_line(nodes).bold());
    let _ = writeln!(out, "{}", leader_line(status));
    let _ = writeln!(out, "{}", terms_line(nodes));
    let leader_commit = status
        .leader
        .and_then(|id| nodes.iter().find(|n| n.id == id))
        .map(|n| n.commit);
    let _ = writeln!(out, "{}", commit_line(nodes, leader_commit));
    let _ = writeln!(out, "{}", lagging_line(nodes, leader_commit));
    let down: Vec<NodeId> = nodes
        .iter()
        .filter(|n| n.state != NodeState::Up)
        .map(|n| n.id)
        .collect();
    let down = match down.is_empty() {
        true => "none".to_string(),
        false => format!("{} ({})", node_runs(&down), count(down.len(), "node")),
    };
    let _ = writeln!(out, "down: {down}");
    if let Some(line) = partition_line(nodes) {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "{}", members_line(status, initial_voters));
    for node in nodes {
        if let NodeState::Crashed(message) = &node.state {
            let _ = writeln!(out, "n{} crashed: {message}", node.id);
        }
    }
    let note = "status all shows every node's line; status NODE... the lines of those nodes";
    let _ = writeln!(out, "{}", note.dimmed());
    out
}

/// `101 nodes: 1 leader, 100 followers, 0 candidates, 0 down` (and crashed, if any).
fn roles_line(nodes: &[NodePicture]) -> String {
    let role = |role: Role| {
        nodes
            .iter()
            .filter(|n| n.state == NodeState::Up && n.role == Some(role))
            .count()
    };
    let down = nodes.iter().filter(|n| n.state == NodeState::Down).count();
    let crashed = nodes
        .iter()
        .filter(|n| matches!(n.state, NodeState::Crashed(_)))
        .count();
    let mut line = format!(
        "{}: {}, {}, {}, {down} down",
        count(nodes.len(), "node"),
        count(role(Role::Leader), "leader"),
        count(role(Role::Follower), "follower"),
        count(role(Role::Candidate), "candidate"),
    );
    if crashed > 0 {
        let _ = write!(line, ", {crashed} crashed");
    }
    line
}

/// The leader and its term, and any node that still leads in an older term (one cut off
/// from the rest, which has not heard of the new term yet).
fn leader_line(status: &ClusterView) -> String {
    let Some(leader) = status.leader else {
        return "leader: none".to_string();
    };
    let term = status
        .nodes
        .iter()
        .find(|n| n.id == leader)
        .map_or(0, |n| n.term);
    let mut line = format!("leader: n{leader} in term {term}");
    let stale: Vec<String> = status
        .nodes
        .iter()
        .filter(|n| n.id != leader && n.state == NodeState::Up && n.role == Some(Role::Leader))
        .map(|n| format!("n{} (term {})", n.id, n.term))
        .collect();
    if !stale.is_empty() {
        let _ = write!(line, "; still leading an older term: {}", stale.join(", "));
    }
    line
}

/// The range of terms over every node (down nodes by their durable term), and which
/// nodes have the highest if not all do.
fn terms_line(nodes: &[NodePicture]) -> String {
    let (Some(low), Some(high)) = (
        nodes.iter().map(|n| n.term).min(),
        nodes.iter().map(|n| n.term).max(),
    ) else {
        return "terms: no nodes".to_string();
    };
    if low == high {
        return format!("terms: {high} on every node");
    }
    let highest: Vec<NodeId> = nodes
        .iter()
        .filter(|n| n.term == high)
        .map(|n| n.id)
        .collect();
    format!("terms: {low}..{high} ({high} on {})", node_runs(&highest))
}

/// The commit indexes of the nodes that are up: min, median, max, and how many have
/// reached the leader's. The median of an even count is the lower middle one.
fn commit_line(nodes: &[NodePicture], leader_commit: Option<Index>) -> String {
    let mut commits: Vec<Index> = nodes
        .iter()
        .filter(|n| n.state == NodeState::Up)
        .map(|n| n.commit)
        .collect();
    commits.sort_unstable();
    let (Some(&min), Some(&max)) = (commits.first(), commits.last()) else {
        return "commit: no node is up".to_string();
    };
    let median = commits[(commits.len() - 1) / 2];
    let mut line = format!(
        "commit: min {min}, median {median}, max {max} (of {} up)",
        count(commits.len(), "node")
    );
    if let Some(leader_commit) = leader_commit {
        let reached = commits.iter().filter(|&&c| c >= leader_commit).count();
        let _ = write!(
            line,
            "; {reached} of {} at the leader's commit {leader_commit}",
            commits.len()
        );
    }
    line
}

/// The nodes up whose commit index is furthest behind the leader's (with no leader, the
/// highest of any node's), lowest first.
fn lagging_line(nodes: &[NodePicture], leader_commit: Option<Index>) -> String {
    let up = || nodes.iter().filter(|n| n.state == NodeState::Up);
    let Some(target) = leader_commit.or_else(|| up().map(|n| n.commit).max()) else {
        return "lagging: none".to_string();
    };
    let mut behind: Vec<&NodePicture> = up().filter(|n| n.commit < target).collect();
    if behind.is_empty() {
        return "lagging: none".to_string();
    }
    behind.sort_by_key(|n| (n.commit, n.id));
    let shown: Vec<String> = behind
        .iter()
        .take(LAGGING_SHOWN)
        .map(|n| format!("n{} at {}", n.id, n.commit))
        .collect();
    let whose = match leader_commit {
        Some(_) => "the leader's",
        None => "the highest",
    };
    let mut line = format!(
        "lagging behind {whose} commit {target}: {}",
        shown.join(", ")
    );
    if behind.len() > LAGGING_SHOWN {
        let _ = write!(line, ", and {} more", behind.len() - LAGGING_SHOWN);
    }
    line
}

/// The partition's groups, if the network is partitioned.
fn partition_line(nodes: &[NodePicture]) -> Option<String> {
    let groups = nodes.iter().filter_map(|n| n.group).max()? + 1;
    let described: Vec<String> = (0..groups)
        .map(|g| {
            let ids: Vec<NodeId> = nodes
                .iter()
                .filter(|n| n.group == Some(g))
                .map(|n| n.id)
                .collect();
            format!("{} ({})", node_runs(&ids), ids.len())
        })
        .collect();
    Some(format!("partition: {}", described.join(" | ")))
}

/// How many voters and learners: the leader's configuration once it changed, else the
/// initial cluster's.
fn members_line(status: &ClusterView, initial_voters: u64) -> String {
    match (&status.changed_members(), status.leader) {
        (Some((voters, learners)), _) => format!(
            "members: {}, {} (changed from the initial {initial_voters})",
            count(voters.len(), "voter"),
            count(learners.len(), "learner")
        ),
        (None, Some(_)) => format!("members: {initial_voters} voters, 0 learners"),
        (None, None) => format!(
            "members: {initial_voters} voters, 0 learners at the start (no leader to ask now)"
        ),
    }
}

/// A group of nodes with the same log: the one whose row is shown, and the others.
struct LogGroup {
    /// The shown node's row in the logs.
    row: usize,
    shown: NodeId,
    others: Vec<NodeId>,
}

/// What makes two nodes' rows of `log` the same: up or not, last index and term, commit
/// (if up) and snapshot.
type LogKey = (bool, Index, Term, Option<Index>, (Index, Term));

/// `log` in a large cluster: one row for the leader's log (or the largest group's, with no
/// leader) and one for each group of nodes with another, each followed by the nodes it
/// stands for. With `verbose`, each shown log entry by entry (as `log -v`).
pub fn logs_summary(
    logs: &[(NodeId, Vec<Entry>)],
    snapshots: &[(Index, Term)],
    nodes: &[NodePicture],
    leader: Option<NodeId>,
    verbose: bool,
) -> String {
    let groups = log_groups(logs, snapshots, nodes, leader);
    let shown_groups = &groups[..groups.len().min(LOG_GROUPS_SHOWN)];
    let shown_logs: Vec<(NodeId, Vec<Entry>)> =
        shown_groups.iter().map(|g| logs[g.row].clone()).collect();
    let shown_snapshots: Vec<(Index, Term)> = shown_groups
        .iter()
        .map(|g| snapshots.get(g.row).copied().unwrap_or((0, 0)))
        .collect();
    let mut out = String::new();
    let intro = format!(
        "{} in {} by log, commit and snapshot: one row per group",
        count(logs.len(), "node"),
        count(groups.len(), "group")
    );
    let _ = writeln!(out, "{}", intro.bold());
    let layout = LogLayout::of(&shown_logs, &shown_snapshots);
    if !verbose {
        layout.preamble(&mut out);
    }
    for (row, group) in shown_groups.iter().enumerate() {
        let (id, log) = &shown_logs[row];
        if verbose {
            out.push_str(&logs_verbose(&shown_logs[row..=row], nodes));
        } else {
            let status = nodes.iter().find(|s| s.id == *id);
            layout.row(&mut out, *id, log, shown_snapshots[row], status);
        }
        if !group.others.is_empty() {
            let same = format!(
                "{} ({}): same as n{id}",
                node_runs(&group.others),
                count(group.others.len(), "node")
            );
            let _ = writeln!(out, "{:<7}{}", "", same.dimmed());
        }
    }
    let hidden = &groups[shown_groups.len()..];
    if !hidden.is_empty() {
        let ids: Vec<NodeId> = hidden
            .iter()
            .flat_map(|g| std::iter::once(g.shown).chain(g.others.iter().copied()))
            .collect();
        let _ = writeln!(
            out,
            "and {} in {} more: {}",
            count(ids.len(), "node"),
            count(hidden.len(), "row"),
            node_runs(&ids)
        );
    }
    if !verbose {
        logs_legend(&mut out, &shown_snapshots);
    }
    let note = "log all shows every node's row; log NODE... the rows of those nodes";
    let _ = writeln!(out, "{}", note.dimmed());
    out
}

/// The nodes grouped by [`LogKey`]: the leader's group first (with no leader, the largest,
/// the lowest ids first among equals), then the others by their lowest id. The leader's
/// row stands for its group; in the others, the lowest id's.
fn log_groups(
    logs: &[(NodeId, Vec<Entry>)],
    snapshots: &[(Index, Term)],
    nodes: &[NodePicture],
    leader: Option<NodeId>,
) -> Vec<LogGroup> {
    // Each group's key and its members' rows, in the order of `logs`.
    let by_id: HashMap<NodeId, &NodePicture> = nodes.iter().map(|n| (n.id, n)).collect();
    let mut keyed: Vec<(LogKey, Vec<usize>)> = Vec::new();
    for (row, (id, log)) in logs.iter().enumerate() {
        let snapshot = snapshots.get(row).copied().unwrap_or((0, 0));
        let last = log.last().map_or(snapshot, |e| (e.index, e.term));
        let status = by_id.get(id);
        let up = status.is_some_and(|s| s.state == NodeState::Up);
        let commit = status.filter(|_| up).map(|s| s.commit);
        let key = (up, last.0, last.1, commit, snapshot);
        match keyed.iter_mut().find(|(k, _)| *k == key) {
            Some((_, rows)) => rows.push(row),
            None => keyed.push((key, vec![row])),
        }
    }
    let leader_row = leader.and_then(|l| logs.iter().position(|(id, _)| *id == l));
    let first = leader_row
        .and_then(|l| keyed.iter().position(|(_, rows)| rows.contains(&l)))
        .or_else(|| {
            let largest = keyed.iter().map(|(_, rows)| rows.len()).max()?;
            keyed.iter().position(|(_, rows)| rows.len() == largest)
        });
    if let Some(first) = first {
        let group = keyed.remove(first);
        keyed.insert(0, group);
    }
    keyed
        .into_iter()
        .filter_map(|(_, rows)| {
            let row = leader_row
                .filter(|l| rows.contains(l))
                .or(rows.first().copied())?;
            let others = rows
                .iter()
                .filter(|&&r| r != row)
                .map(|&r| logs[r].0)
                .collect();
            Some(LogGroup {
                row,
                shown: logs[row].0,
                others,
            })
        })
        .collect()
}

/// `1 node`, `3 nodes`.
fn count(n: usize, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        _ => format!("{n} {noun}s"),
    }
}

/// Node ids as runs, `n1..n12, n15, n20..n22`, the first `RUNS_SHOWN` runs spelled out
/// and the rest counted.
pub fn node_runs(ids: &[NodeId]) -> String {
    let runs = id_runs(ids);
    let mut parts: Vec<String> = runs
        .iter()
        .take(RUNS_SHOWN)
        .map(|&(low, high)| match low == high {
            true => format!("n{low}"),
            false => format!("n{low}..n{high}"),
        })
        .collect();
    if runs.len() > RUNS_SHOWN {
        let rest: u64 = runs[RUNS_SHOWN..]
            .iter()
            .map(|&(low, high)| high - low + 1)
            .sum();
        parts.push(format!("and {rest} more"));
    }
    parts.join(", ")
}
