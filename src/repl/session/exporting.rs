//! `export`: gathers the run's events, status and logs from the cluster, has
//! [`crate::repl::export`] render them, and writes the file.

use super::{ExecError, Outcome, Session};
use crate::raft::NodeId;
use crate::repl::command::{ExportFormat, NodeRef, format_duration};
use crate::repl::export::{Timeline, chrome, events_jsonl, log_svg, svg};
use crate::repl::words::fmt_ms;

/// The most nodes a sequence diagram has lanes for.
pub const MAX_LANES: u64 = 64;

impl Session {
    /// The window of the run a picture shows: all of it, or `window_us` cut at the present.
    /// A window that starts after the present is an error.
    pub(super) fn export_window(
        &self,
        window_us: Option<(u64, u64)>,
    ) -> Result<(u64, u64), ExecError> {
        let now_us = self.cluster.now_us()?;
        let (from_us, to_us) = window_us.unwrap_or((0, now_us));
        if window_us.is_some() && from_us >= now_us {
            return Err(ExecError::Io(format!(
                "the window {}..{} starts after the run so far (t={}): nothing to export",
                format_duration(from_us),
                format_duration(to_us),
                fmt_ms(now_us)
            )));
        }
        Ok((from_us, to_us.min(now_us)))
    }

    /// How many lanes (or rows) a picture of the run has: one for every node the cluster
    /// has had, those added since it started too.
    pub(super) fn lanes(&self) -> Result<u64, ExecError> {
        let hosted = self.cluster.hosted()?;
        Ok(hosted.into_iter().max().unwrap_or(0).max(self.config.nodes))
    }

    /// `export FILE [FROM..TO]`: the run (or the window) as the file's extension says.
    pub(super) fn export(
        &self,
        file: &str,
        window_us: Option<(u64, u64)>,
    ) -> Result<Outcome, ExecError> {
        let format = ExportFormat::of(file).ok_or_else(|| {
            ExecError::Io(format!(
                "cannot export to {file}: the file name must end in {}",
                ExportFormat::EXTENSIONS
            ))
        })?;
        let (from_us, to_us) = self.export_window(window_us)?;
        let events = self.cluster.events(usize::MAX)?;
        let nodes = self.lanes()?;
        let title = format!(
            "raftlab: {nodes} nodes, seed {}, t = {} .. {}",
            self.config.seed,
            fmt_ms(from_us),
            fmt_ms(to_us)
        );
        let (text, summary) = match format {
            ExportFormat::Svg => {
                if nodes > MAX_LANES {
                    return Err(ExecError::Io(format!(
                        "a sequence diagram has at most {MAX_LANES} lanes, and the cluster \
                         has {nodes} nodes: export a .json trace instead"
                    )));
                }
                let mut timeline = Timeline::build(&events, nodes, from_us, to_us);
                timeline.thin(svg::MAX_ARROWS);
                let summary = svg_summary(&timeline);
                (svg::sequence_diagram(&timeline, &title), summary)
            }
            ExportFormat::ChromeTrace => {
                let timeline = Timeline::build(&events, nodes, from_us, to_us);
                let summary = format!(
                    "Chrome trace, {} tracks, {} messages (open in ui.perfetto.dev)",
                    nodes,
                    timeline.arrows.len()
                );
                (chrome::trace(&timeline, &title), summary)
            }
            ExportFormat::JsonLines => {
                let text = events_jsonl(&events, from_us, to_us);
                let events = crate::repl::view::count(text.lines().count(), "event", "events");
                let summary = format!("{events} as JSON Lines");
                (text, summary)
            }
        };
        write(file, &text)?;
        Ok(Outcome::text(format!("wrote {file}: {summary}")))
    }

    /// `export log FILE [NODE...]`: the logs as a picture.
    pub(super) fn export_log(&self, file: &str, nodes: &[NodeRef]) -> Result<Outcome, ExecError> {
        let ids: Vec<NodeId> = self.nodes(nodes)?;
        let logs = self.cluster.logs(ids)?;
        let status = self.cluster.status()?;
        let title = format!("raftlab logs at t = {}", fmt_ms(status.now_us));
        let picture = log_svg::log_picture(&logs, &status.nodes, &title);
        write(file, &picture)?;
        let longest = logs.iter().map(|(_, l)| l.len()).max().unwrap_or(0);
        Ok(Outcome::text(format!(
            "wrote {file}: {} logs, up to index {longest}",
            logs.len()
        )))
    }
}

fn svg_summary(timeline: &Timeline) -> String {
    let mut summary = format!(
        "sequence diagram, {} lanes, {} messages",
        timeline.nodes,
        timeline.arrows.len()
    );
    if timeline.left_out.heartbeats > 0 {
        summary.push_str(&format!(
            ", {} heartbeats left out",
            timeline.left_out.heartbeats
        ));
    }
    if let Some(cut_us) = timeline.left_out.cut_us {
        summary.push_str(&format!(
            ", stopped at {} ({} later messages left out)",
            fmt_ms(cut_us),
            timeline.left_out.after_cut
        ));
    }
    summary
}

fn write(file: &str, text: &str) -> Result<(), ExecError> {
    std::fs::write(file, text).map_err(|e| ExecError::Io(format!("cannot write {file}: {e}")))
}
