//! `raftlab watch [FILE]`: a new cluster, or a lesson, in the live view.

use std::io::IsTerminal;
use std::path::Path;

use colored::Colorize;

use crate::cluster::ClusterConfig;
use crate::repl::scenario::{load, report_load_error};
use crate::repl::session::Session;

use super::{WatchOptions, watch};

/// Opens the live view on a new cluster of `config`, or on the lesson in `file` (whose
/// file sets the cluster). Returns the exit status: 0, 1 if a lesson's check failed or a
/// safety rule broke unexpectedly, 2 for bad input or no terminal.
pub fn start(file: Option<&Path>, config: ClusterConfig, options: WatchOptions) -> i32 {
    let lesson = match file.map(load).transpose() {
        Ok(lesson) => lesson,
        Err(error) => {
            let _ = report_load_error(&error, &mut std::io::stderr());
            return 2;
        }
    };
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        eprintln!("{} raftlab watch needs a terminal", "error:".red().bold());
        return 2;
    }
    let config = lesson.as_ref().map_or(config, |l| l.config.clone());
    let mut session = match Session::new(config) {
        Ok(session) => session,
        Err(error) => {
            eprintln!("{} {error}", "error:".red().bold());
            return 2;
        }
    };
    if let Err(error) = watch(&mut session, lesson, options) {
        eprintln!("{} {error}", "error:".red().bold());
        return 2;
    }
    match session.violations_unexpected() {
        Ok(0) => 0,
        _ => 1,
    }
}
