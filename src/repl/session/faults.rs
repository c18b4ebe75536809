//! The faults and the Raft commands: `kill` and `restart`, the links (`partition`,
//! `isolate`, `cut`, `link`, `heal`), the network's settings (`net ...`), and `campaign`,
//! `snapshot`, `set-log`, `transfer`, `add` and `remove`.

use super::{ExecError, Outcome, Session};
use crate::cluster::{
    Cluster, ClusterError, EventKind, NetworkConfig, NodePicture, NodeState, ViewLimits,
};
use crate::raft::{NodeId, RaftEvent, Role};
use crate::repl::command::{NodeRef, NodeSet, TraceLevel};
use crate::repl::view;

impl Session {
    /// `campaign NODE`. For the leader, and for a node that may not stand for election, it
    /// does nothing, and says so (a note, not an error: a file replayed from `check` or
    /// `explore` may hold such a step, and it changes nothing).
    pub(super) fn campaign(&self, node: NodeRef) -> Result<String, ExecError> {
        let id = self.node(node)?;
        if let Some(picture) = self.picture_of(id)?
            && picture.role == Some(Role::Leader)
        {
            let term = picture.term;
            return Ok(format!(
                "n{id} already leads (term {term}): there is nothing to campaign for"
            ));
        }
        let report = self.cluster.campaign(id)?;
        // Every node that may campaign does something (a term, a pre-vote, or a word on
        // why it holds back); one that may not only sets its election timer again.
        if report.events.is_empty() {
            return Ok(format!(
                "n{id} does not campaign: it is not a voter of its configuration (a learner \
                 until it catches up, a node not yet added, or one removed)"
            ));
        }
        Ok(self.report_text(&report))
    }

    /// `snapshot NODE`. When the node has applied nothing its snapshot does not already
    /// hold, it does nothing, and says so (a note, as for `campaign`: `check` writes such
    /// steps).
    pub(super) fn snapshot(&self, node: NodeRef) -> Result<String, ExecError> {
        let id = self.node(node)?;
        let report = self.cluster.snapshot(id)?;
        if report.events.is_empty()
            && let Some(picture) = self.picture_of(id)?
        {
            let (index, term) = picture.snapshot;
            let covers = match index {
                0 => "it has applied no entry to take".to_string(),
                _ => {
                    format!("its snapshot already covers up to {index}@{term}, all it has applied")
                }
            };
            return Ok(format!("n{id} has nothing new to compact: {covers}"));
        }
        Ok(self.report_text(&report))
    }

    /// The picture of node `id`, without its log.
    fn picture_of(&self, id: NodeId) -> Result<Option<NodePicture>, ExecError> {
        let view = self.cluster.view(ViewLimits::least())?;
        Ok(view.node(id).cloned())
    }

    /// `set-log NODE TERMS`. When the new log cuts entries the node held, a second line
    /// says so: a leader that saw them acknowledged will not send them again (Raft assumes
    /// storage keeps what it acknowledged), so the node may never be repaired.
    pub(super) fn set_log(&self, node: NodeRef, terms: &[u64]) -> Result<String, ExecError> {
        let id = self.node(node)?;
        let limits = ViewLimits {
            log_entries: usize::MAX,
            ..ViewLimits::least()
        };
        let before = self.cluster.view(limits)?;
        self.cluster.set_log(id, terms.to_vec())?;
        let entries = view::count(terms.len(), "entry", "entries");
        let line = format!("n{id}'s durable log set to {entries}");
        let Some((first, last, last_term)) = before.node(id).and_then(|old| cut(old, terms)) else {
            return Ok(line);
        };
        let (removed, them) = if first == last {
            (format!("entry {last}@{last_term}"), "it")
        } else {
            let entries = format!("entries {first}..{last} (the last {last}@{last_term})");
            (entries, "them")
        };
        Ok(format!(
            "{line}\nit removed n{id}'s {removed}: a leader that saw {them} acknowledged will \
             not send {them} again, as Raft assumes storage keeps {them}"
        ))
    }

    /// `kill NODES` (`kill` true) or `restart NODES`: every node named must be up (down),
    /// or nothing happens; `all` is every node that is up (down).
    pub(super) fn kill_or_restart(
        &mut self,
        nodes: &NodeSet,
        kill: bool,
    ) -> Result<String, ExecError> {
        let status = self.cluster.status()?;
        let is_up = |id: NodeId| {
            status
                .nodes
                .iter()
                .any(|n| n.id == id && n.state == NodeState::Up)
        };
        let ids: Vec<NodeId> = match nodes {
            NodeSet::All => status
                .nodes
                .iter()
                .map(|n| n.id)
                .filter(|&id| is_up(id) == kill)
                .collect(),
            NodeSet::Nodes(named) => self.nodes(named)?,
        };
        if ids.is_empty() {
            let state = if kill { "up" } else { "down" };
            return Err(ExecError::Io(format!("no node is {state}")));
        }
        for &id in &ids {
            match (kill, is_up(id)) {
                (true, false) => return Err(ClusterError::NodeIsDown(id).into()),
                (false, true) => return Err(ClusterError::NodeIsUp(id).into()),
                _ => {}
            }
        }
        for &id in &ids {
            if kill {
                self.cluster.kill(id)?;
            } else {
                self.cluster.restart(id)?;
            }
        }
        let names = view::node_list(&ids);
        Ok(if kill {
            format!("{names} killed")
        } else {
            format!("{names} restarted from durable state")
        })
    }

    pub(super) fn partition(&self, groups: &[Vec<NodeRef>]) -> Result<String, ExecError> {
        let groups: Vec<Vec<NodeId>> = groups
            .iter()
            .map(|g| self.nodes(g))
            .collect::<Result<_, _>>()?;
        self.change_links(|cluster| cluster.partition(groups))
    }

    pub(super) fn isolate(&self, node: NodeRef) -> Result<String, ExecError> {
        let node = self.node(node)?;
        self.change_links(|cluster| cluster.isolate(node))
    }

    /// `cut A B` (`cut` true) or `link A B`, both ways unless `one_way`.
    pub(super) fn cut_or_link(
        &self,
        from: NodeRef,
        to: NodeRef,
        one_way: bool,
        cut: bool,
    ) -> Result<String, ExecError> {
        let (from, to) = (self.node(from)?, self.node(to)?);
        self.change_links(|cluster| match cut {
            true => cluster.cut(from, to, one_way),
            false => cluster.link(from, to, one_way),
        })
    }

    /// `partition`, `isolate`, `cut`, `link` and `heal`: changes the links, then says
    /// which links it cut and which it restored.
    pub(super) fn change_links(
        &self,
        change: impl FnOnce(&Cluster) -> Result<(), ClusterError>,
    ) -> Result<String, ExecError> {
        let before = self.cluster.network()?.cut;
        change(&self.cluster)?;
        let after = self.cluster.network()?;
        Ok(view::link_changes(&before, &after))
    }

    /// `transfer NODE`: the leader starts handing its leadership over. The outcome comes
    /// later, as events: the target's election, or the leader's `transfer ... FAILED`.
    /// `add NODE` / `remove NODE`: the leader appends a configuration entry, unless it
    /// refuses (the report's events say why).
    pub(super) fn change_members(&mut self, node: NodeId, add: bool) -> Result<Outcome, ExecError> {
        let report = if add {
            self.cluster.add(node)?
        } else {
            self.cluster.remove(node)?
        };
        let leader = report
            .node
            .map_or("the leader".to_string(), |n| format!("n{n}"));
        let refusal = report.events.iter().find_map(|event| match &event.kind {
            EventKind::Raft {
                event: RaftEvent::ChangeRefused { reason },
                ..
            } => Some(reason.to_string()),
            _ => None,
        });
        let what = match refusal {
            Some(reason) => format!("{leader} refuses: {reason}"),
            None if add => {
                format!("{leader} adds n{node}: a learner until it catches up, then a voter")
            }
            None => format!("{leader} removes n{node}"),
        };
        let mut text = format!("{what}\n");
        if self.trace == TraceLevel::Off {
            text.push_str(&view::step(&report));
        }
        Ok(Outcome::text(text.trim_end().to_string()))
    }

    pub(super) fn remove(&mut self, node: NodeRef) -> Result<Outcome, ExecError> {
        let node = self.node(node)?;
        self.change_members(node, false)
    }

    pub(super) fn transfer(&mut self, node: NodeRef) -> Result<Outcome, ExecError> {
        let target = self.node(node)?;
        let report = self.cluster.transfer(target)?;
        // Turned down at once (not a voter, a transfer already under way): an error, as
        // the leader changed nothing.
        let refused = report.events.iter().find_map(|event| match &event.kind {
            EventKind::Raft {
                event: RaftEvent::TransferFailed { reason, .. },
                ..
            } => Some(*reason),
            _ => None,
        });
        if let Some(reason) = refused {
            return Err(ExecError::Refused(format!(
                "transfer to n{target} refused: {reason}"
            )));
        }
        let leader = report
            .node
            .map_or("the leader".to_string(), |n| format!("n{n}"));
        let mut text = format!(
            "{leader} hands its leadership to n{target}: it refuses proposals until n{target} \
             takes over or an election timeout passes\n"
        );
        // With a trace on, the trace already shows the report's events.
        if self.trace == TraceLevel::Off {
            text.push_str(&view::step(&report));
        }
        Ok(Outcome::text(text.trim_end().to_string()))
    }

    /// `net drop`, `net dup`, `net delay` and `net reorder`: changes one setting, then
    /// shows the settings line of `net`.
    pub(super) fn net_setting(
        &self,
        change: impl FnOnce(&mut NetworkConfig),
    ) -> Result<String, ExecError> {
        let mut config = self.cluster.network()?.config;
        change(&mut config);
        self.cluster.set_network(config)?;
        Ok(view::network(&self.cluster.network()?)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string())
    }
}

/// The entries of `old`'s durable log that a log of `terms` does not keep: the first index
/// that differs, and the old log's last index and term; `None` when it keeps them all.
/// An index inside the old snapshot (term unknown, but its snapshot index's) counts as kept
/// when the new log reaches it.
fn cut(old: &NodePicture, terms: &[u64]) -> Option<(u64, u64, u64)> {
    let new_term = |index: u64| {
        let at = usize::try_from(index.checked_sub(1)?).ok()?;
        terms.get(at).copied()
    };
    let (snapshot_index, snapshot_term) = old.snapshot;
    let old_term = |index: u64| match index {
        i if i == snapshot_index => Some(snapshot_term),
        i if i < snapshot_index => None,
        // The picture's log is whole here and starts right after the snapshot.
        i => {
            let at = usize::try_from(i - snapshot_index - 1).ok()?;
            old.log.get(at).filter(|e| e.index == i).map(|e| e.term)
        }
    };
    let first = (1..=old.last_index).find(|&index| match old_term(index) {
        Some(term) => new_term(index) != Some(term),
        None => new_term(index).is_none(),
    })?;
    Some((first, old.last_index, old.last_term))
}
