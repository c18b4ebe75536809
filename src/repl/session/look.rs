//! The commands that only look: `status`, `log`, `kv`, `events` and `help` (`net`,
//! `msgs` and `timers` are one call each, in [`super::Session::dispatch`]). Each gathers
//! from the cluster and has [`crate::repl::view`] or [`crate::repl::export::json`] render.

use std::fmt::Write;

use super::{DEFAULT_EVENTS, ExecError, Session};
use crate::cluster::ClusterError;
use crate::repl::command::{NodeRef, Rows};
use crate::repl::{export, table, view};

impl Session {
    /// `events [N]`: the last N events, oldest first.
    pub(super) fn events(&self, count: Option<u64>) -> Result<String, ExecError> {
        let count = count.unwrap_or(DEFAULT_EVENTS) as usize;
        let events = self.cluster.events(count)?;
        Ok(events.iter().map(|e| view::event(e) + "\n").collect())
    }

    /// `status`, and with `-v` (not with `--json`) the leader's view of each follower.
    pub(super) fn status(
        &self,
        verbose: bool,
        json: bool,
        rows: &Rows,
    ) -> Result<String, ExecError> {
        Ok(self.status_view(json, rows)? + &verbose_status(verbose && !json, self)?)
    }

    /// `status`: every row, the named rows, or above [`view::SUMMARY_ABOVE_NODES`] nodes
    /// a summary. `--json` is every node (or the named ones), never a summary.
    pub(super) fn status_view(&self, json: bool, rows: &Rows) -> Result<String, ExecError> {
        let mut status = self.cluster.status()?;
        let named = self.nodes(rows.named())?;
        if json {
            if !named.is_empty() {
                status.nodes.retain(|n| named.contains(&n.id));
            }
            return Ok(export::json::status(&status));
        }
        Ok(match rows {
            Rows::Nodes(_) => view::status_rows(&status, &named),
            Rows::Default if status.nodes.len() > view::SUMMARY_ABOVE_NODES => {
                view::status_summary(&status, self.config.nodes)
            }
            Rows::Default | Rows::All => view::status(&status),
        })
    }

    /// `log`: the logs side by side (or entry by entry with `-v`), grouped by identical
    /// log above [`view::SUMMARY_ABOVE_NODES`] nodes when none is named.
    pub(super) fn log_view(
        &self,
        verbose: bool,
        json: bool,
        rows: &Rows,
    ) -> Result<String, ExecError> {
        let nodes = self.nodes(rows.named())?;
        let logs = self.cluster.logs(nodes.clone())?;
        let status = self.cluster.status()?;
        if json {
            return Ok(export::json::logs(&logs, &status.nodes));
        }
        let summarise = *rows == Rows::Default && logs.len() > view::SUMMARY_ABOVE_NODES;
        if verbose && !summarise {
            return Ok(view::logs_verbose(&logs, &status.nodes));
        }
        let snapshots = self.cluster.snapshots(nodes)?;
        if summarise {
            let leader = status.leader;
            return Ok(view::logs_summary(
                &logs,
                &snapshots,
                &status.nodes,
                leader,
                verbose,
            ));
        }
        Ok(view::logs(&logs, &snapshots, &status.nodes))
    }

    pub(super) fn kv_view(&self, node: Option<NodeRef>) -> Result<String, ExecError> {
        if let Some(node) = node {
            let id = self.node(node)?;
            return Ok(view::kv(id, &self.cluster.kv(id)?));
        }
        let mut text = String::new();
        for id in self.cluster.hosted()? {
            match self.cluster.kv(id) {
                Ok(pairs) => text.push_str(&view::kv(id, &pairs)),
                Err(ClusterError::NodeIsDown(_)) => {
                    let _ = writeln!(text, "n{id}: down");
                }
                Err(error) => return Err(error.into()),
            }
        }
        Ok(text)
    }
}

/// `status -v`: below the rows, each follower's `nextIndex` and `matchIndex` at the leader.
pub(super) fn verbose_status(verbose: bool, session: &Session) -> Result<String, ExecError> {
    if !verbose {
        return Ok(String::new());
    }
    Ok(view::followers(&session.cluster.status()?))
}

/// `help [TOPIC]`: the overview, or one command's help.
pub(super) fn help(topic: Option<&str>) -> Result<String, ExecError> {
    match topic {
        None => Ok(table::help_overview()),
        Some(topic) => {
            table::help_command(topic).ok_or_else(|| ExecError::Io(format!("no help on '{topic}'")))
        }
    }
}
