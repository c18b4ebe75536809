//! The terminal for the live view: raw mode, the alternate screen and mouse reports on
//! the way in, and always off again on the way out: on `q`, on an error (the guard's
//! `Drop`) and on a panic (a hook that restores the terminal before the panic is told).
//! Ctrl-C arrives as a key in raw mode, and leaves as `q` does.

use std::io::{self, Stdout, Write};
use std::sync::{Mutex, Once};
use std::thread::{self, ThreadId};

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// The terminal in the live view's modes; dropping it gives the terminal back.
pub struct Screen {
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl Screen {
    /// Takes over the terminal.
    pub fn enter() -> io::Result<Screen> {
        install_panic_hook();
        set_view_thread(Some(thread::current().id()));
        enable_raw_mode()?;
        let mut stdout = io::stdout();
        if let Err(error) = execute!(stdout, EnterAlternateScreen, EnableMouseCapture) {
            restore();
            return Err(error);
        }
        match Terminal::new(CrosstermBackend::new(stdout)) {
            Ok(terminal) => Ok(Screen { terminal }),
            Err(error) => {
                restore();
                Err(error)
            }
        }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = self.terminal.show_cursor();
        set_view_thread(None);
        restore();
    }
}

/// Raw mode off, mouse reports off, the main screen back. Safe to call twice.
pub fn restore() {
    let _ = disable_raw_mode();
    let mut stdout = io::stdout();
    let _ = execute!(stdout, DisableMouseCapture, LeaveAlternateScreen);
    let _ = stdout.flush();
}

/// The thread drawing the view, while there is one. A node's thread may panic (a
/// crashed node is part of the game) without the view giving the terminal back.
static VIEW_THREAD: Mutex<Option<ThreadId>> = Mutex::new(None);

fn set_view_thread(id: Option<ThreadId>) {
    if let Ok(mut slot) = VIEW_THREAD.lock() {
        *slot = id;
    }
}

/// Restores the terminal before a panic of the view's thread is told (installed once).
fn install_panic_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let mine = VIEW_THREAD
                .lock()
                .is_ok_and(|slot| *slot == Some(thread::current().id()));
            if mine {
                restore();
            }
            previous(info);
        }));
    });
}
