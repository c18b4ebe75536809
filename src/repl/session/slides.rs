//! `export FILE.svg --slides` and `export log FILE.svg --slides`: gathers the run (or
//! the logs) from the cluster, has [`crate::repl::export::slides`] lay it out as
//! 1280x720 pages, and writes each page as SVG with a PNG beside it.

use std::path::Path;

use super::{ExecError, Outcome, Session};
use crate::raft::NodeId;
use crate::repl::command::NodeRef;
use crate::repl::export::Timeline;
use crate::repl::export::slides::{self, SlideOptions, page_file, png};
use crate::repl::words::fmt_ms;

/// The most nodes a slide has rows for.
pub const MAX_ROWS: u64 = 32;

impl Session {
    /// `export FILE.svg [FROM..TO] --slides [--heartbeats]`.
    pub(super) fn export_slides(
        &self,
        file: &str,
        window_us: Option<(u64, u64)>,
        heartbeats: bool,
    ) -> Result<Outcome, ExecError> {
        let (from_us, to_us) = self.export_window(window_us)?;
        let events = self.cluster.events(usize::MAX)?;
        let nodes = self.lanes()?;
        if nodes > MAX_ROWS {
            return Err(ExecError::Io(format!(
                "a slide has rows for at most {MAX_ROWS} nodes, and the cluster has {nodes}: \
                 export a .json trace instead"
            )));
        }
        let timeline = Timeline::build(&events, nodes, from_us, to_us);
        let title = format!("{}: {nodes} nodes, seed {}", stem(file), self.config.seed);
        let pages = slides::pages(&timeline, &title, SlideOptions { heartbeats });
        let mut written = Vec::new();
        let mut png_problem = None;
        for (i, page) in pages.iter().enumerate() {
            let path = page_file(file, i + 1);
            write(&path, page.svg.as_bytes())?;
            if let Err(problem) = write_png(&path, &page.svg) {
                png_problem.get_or_insert(problem);
            }
            written.push(path);
        }
        Ok(Outcome::text(summary(&written, png_problem)))
    }

    /// `export log FILE.svg [NODE...] --slides`.
    pub(super) fn export_log_slide(
        &self,
        file: &str,
        nodes: &[NodeRef],
    ) -> Result<Outcome, ExecError> {
        let ids: Vec<NodeId> = self.nodes(nodes)?;
        let logs = self.cluster.logs(ids)?;
        let status = self.cluster.status()?;
        let title = format!("{}: the logs at t = {}", stem(file), fmt_ms(status.now_us));
        let picture = slides::log_slide(&logs, &status.nodes, &title);
        write(file, picture.as_bytes())?;
        let png_problem = write_png(file, &picture).err();
        Ok(Outcome::text(summary(&[file.to_string()], png_problem)))
    }
}

/// `run` for `dir/run.svg`.
fn stem(file: &str) -> String {
    Path::new(file)
        .file_stem()
        .map_or_else(|| file.to_string(), |s| s.to_string_lossy().into_owned())
}

/// Writes the PNG of `svg` beside `svg_path`; a problem in words.
fn write_png(svg_path: &str, svg: &str) -> Result<(), String> {
    if !png::has_fonts() {
        return Err("no fonts found on this system, so no PNG".to_string());
    }
    let bytes = png::to_png(svg).map_err(|e| e.to_string())?;
    let path = Path::new(svg_path).with_extension("png");
    std::fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn summary(written: &[String], png_problem: Option<String>) -> String {
    let files = match written {
        [one] => one.clone(),
        [first, .., last] => format!("{} slides, {first} .. {last}", written.len()),
        [] => "nothing".to_string(),
    };
    match png_problem {
        None => format!("wrote {files}, each with a PNG beside it"),
        Some(problem) => format!("wrote {files} (PNG: {problem})"),
    }
}

fn write(file: &str, bytes: &[u8]) -> Result<(), ExecError> {
    std::fs::write(file, bytes).map_err(|e| ExecError::Io(format!("cannot write {file}: {e}")))
}
