//! The rustyline glue: completion and hints from the command table, history in the
//! user's data directory. Ctrl-C cancels the line, Ctrl-D leaves.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::{Context, Editor, Helper, Validator};

use super::complete::{CompletionContext, complete, usage_hint};

/// Completion and hints, with what the session knows (node ids, keys seen).
#[derive(Helper, Validator)]
pub struct ReplHelper {
    pub context: Arc<Mutex<CompletionContext>>,
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let context = self.context.lock().map(|c| c.clone()).unwrap_or_default();
        let (start, words) = complete(line, pos, &context);
        let pairs = words
            .into_iter()
            .map(|w| Pair {
                display: w.clone(),
                replacement: w,
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;

    fn hint(&self, line: &str, pos: usize, _: &Context<'_>) -> Option<String> {
        (pos == line.len()).then(|| usage_hint(line)).flatten()
    }
}

impl Highlighter for ReplHelper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
    }
}

pub type ReplEditor = Editor<ReplHelper, DefaultHistory>;

/// An editor with completion, hints and the saved history loaded.
pub fn editor(context: Arc<Mutex<CompletionContext>>) -> rustyline::Result<ReplEditor> {
    let mut editor = ReplEditor::new()?;
    editor.set_helper(Some(ReplHelper { context }));
    if let Some(path) = history_path() {
        // No history yet is the usual first run.
        let _ = editor.load_history(&path);
    }
    Ok(editor)
}

/// Saves the history; a failure to save is not worth stopping for.
pub fn save_history(editor: &mut ReplEditor) {
    if let Some(path) = history_path() {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.save_history(&path);
    }
}

/// `$XDG_DATA_HOME/raftlab/history`, or `~/.local/share/raftlab/history`.
fn history_path() -> Option<PathBuf> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share"))
        })?;
    Some(data.join("raftlab").join("history"))
}
