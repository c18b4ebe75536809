//! The rustyline glue: completion and hints from the command table, history in the
//! user's data directory. Ctrl-C cancels the line, Ctrl-D leaves.

use std::borrow::Cow;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rustyline::completion::{Completer, Pair};
use rustyline::config::ColorMode;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::{Context, Editor, Helper, Validator};

use super::complete::{CompletionContext, complete, usage_hint};

/// Completion and hints, with what the session knows (node ids, keys seen), and the
/// prompt as the live events change it.
#[derive(Helper, Validator)]
pub struct ReplHelper {
    pub context: Arc<Mutex<CompletionContext>>,
    pub prompt: Arc<Mutex<LivePrompt>>,
}

/// The prompt while a line is being read: rustyline lays the line out by the width of the
/// prompt it was given, so a newer prompt is drawn at exactly that width.
#[derive(Clone, Debug, Default)]
pub struct LivePrompt {
    /// The prompt the line began with: its width is the layout's.
    pub width: usize,
    /// A newer prompt, once the cluster changed under it.
    pub newer: Option<String>,
}

impl LivePrompt {
    /// The prompt to draw now, at the width the line began with.
    pub fn draw(&self, original: &str) -> String {
        match &self.newer {
            Some(newer) => fit(newer, self.width),
            None => original.to_string(),
        }
    }
}

/// `text` at exactly `width` columns: spaces after the `> ` when it is shorter; when it is
/// longer, the bare `raftlab> ` so padded (the prompt must not claim what it cannot show).
fn fit(text: &str, width: usize) -> String {
    let length = text.chars().count();
    let text = if length <= width { text } else { "raftlab> " };
    format!(
        "{text}{}",
        " ".repeat(width.saturating_sub(text.chars().count()))
    )
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
    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(
        &'s self,
        prompt: &'p str,
        _default: bool,
    ) -> Cow<'b, str> {
        match self.prompt.lock() {
            Ok(live) if live.newer.is_some() => Cow::Owned(live.draw(prompt)),
            _ => Cow::Borrowed(prompt),
        }
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if colored::control::SHOULD_COLORIZE.should_colorize() {
            Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
        } else {
            Cow::Borrowed(hint)
        }
    }
}

pub type ReplEditor = Editor<ReplHelper, DefaultHistory>;

/// An editor with completion, hints and the saved history loaded.
///
/// Bracketed paste is off, so that pasted lines arrive as typed lines and each one runs
/// (with it on, rustyline puts a whole paste into one line); the reader's buffer is kept
/// between lines (rustyline's `buffer-redux`), so lines pasted or typed ahead are not lost.
pub fn editor(
    context: Arc<Mutex<CompletionContext>>,
    prompt: Arc<Mutex<LivePrompt>>,
) -> rustyline::Result<ReplEditor> {
    // The highlighter draws the live prompt, so it is used whenever the output is a
    // terminal; colour itself follows `--color` and `NO_COLOR` (see `highlight_hint`).
    let color_mode = if std::io::stdout().is_terminal() {
        ColorMode::Forced
    } else {
        ColorMode::Disabled
    };
    let config = rustyline::Config::builder()
        .bracketed_paste(false)
        .color_mode(color_mode)
        .build();
    let mut editor = ReplEditor::with_config(config)?;
    editor.set_helper(Some(ReplHelper { context, prompt }));
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
