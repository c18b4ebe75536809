//! Progress of a long command. A `run` or a wait holds the session's thread until it
//! ends, which on a large cluster can take minutes of wall time; once a front-end asks
//! ([`Session::report_progress`]), a command still running after [`QUIET_FOR`] gets a line
//! on stderr every [`EVERY`] saying how far the cluster has got, so that it never looks
//! hung. Stdout, which replays byte for byte, is left alone.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cluster::RunPosition;
use crate::repl::words::fmt_ms;

use super::Session;

/// How long a command runs before its progress is told.
pub const QUIET_FOR: Duration = Duration::from_secs(5);
/// How often it is told after that.
pub const EVERY: Duration = Duration::from_secs(5);
/// How often the reporter looks.
const LOOK_EVERY: Duration = Duration::from_millis(200);

/// What the session and its reporter share.
#[derive(Debug, Default)]
pub(super) struct Progress {
    /// Where the cluster has got to: written by the session's cluster, and by every
    /// cluster `back` rebuilds.
    pub position: Arc<RunPosition>,
    /// When the command running now began, if one is.
    running_since: Mutex<Option<Instant>>,
    /// Whether a reporter thread is watching.
    watched: AtomicBool,
    /// Whether Ctrl-C stops a command (the interactive REPL), which the line then says.
    interruptible: AtomicBool,
}

/// Marks a command as running while it lives.
pub(super) struct Running<'a>(&'a Progress);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        set(&self.0.running_since, None);
    }
}

impl Progress {
    /// Marks a command as running until the value returned is dropped.
    pub fn start(&self) -> Running<'_> {
        set(&self.running_since, Some(Instant::now()));
        Running(self)
    }
}

fn set(slot: &Mutex<Option<Instant>>, value: Option<Instant>) {
    *slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = value;
}

fn since(slot: &Mutex<Option<Instant>>) -> Option<Instant> {
    *slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The line told of a command that has run for `elapsed`, with the cluster at `now_us`
/// after `handoffs` hand-offs.
pub fn line(elapsed: Duration, now_us: u64, handoffs: u64, interruptible: bool) -> String {
    let stop = if interruptible {
        "; Ctrl-C stops it"
    } else {
        ""
    };
    format!(
        "… still running after {}s of wall time: t={} of cluster time, {handoffs} hand-offs{stop}",
        elapsed.as_secs(),
        fmt_ms(now_us)
    )
}

impl Session {
    /// Tells the progress of a command that runs long, on stderr (see the module's
    /// words); `interruptible` when Ctrl-C stops a command (the interactive REPL). One
    /// reporter per session: a later call only says whether Ctrl-C stops a command.
    pub fn report_progress(&self, interruptible: bool) {
        (self.progress.interruptible).store(interruptible, Ordering::Relaxed);
        if self.progress.watched.swap(true, Ordering::Relaxed) {
            return;
        }
        let progress = Arc::clone(&self.progress);
        let spawned = std::thread::Builder::new()
            .name("progress".to_string())
            .spawn(move || report(&progress));
        if spawned.is_err() {
            self.progress.watched.store(false, Ordering::Relaxed);
        }
    }
}

/// The reporter: looks every [`LOOK_EVERY`] until the session is gone.
fn report(progress: &Arc<Progress>) {
    let mut told: Option<(Instant, Instant)> = None;
    while Arc::strong_count(progress) > 1 {
        std::thread::sleep(LOOK_EVERY);
        let Some(started) = since(&progress.running_since) else {
            continue;
        };
        let now = Instant::now();
        let due = match told {
            Some((command, at)) if command == started => now.duration_since(at) >= EVERY,
            _ => now.duration_since(started) >= QUIET_FOR,
        };
        if !due {
            continue;
        }
        told = Some((started, now));
        let position = &progress.position;
        let text = line(
            now.duration_since(started),
            position.now_us(),
            position.handoffs(),
            progress.interruptible.load(Ordering::Relaxed),
        );
        let _ = writeln!(std::io::stderr(), "{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{ClockMode, ClusterConfig};

    /// The position a long command's progress tells is the cluster's own: after a `run`,
    /// its clock and hand-offs, and after `back`, the rebuilt cluster's.
    #[test]
    fn the_position_told_is_where_the_cluster_has_got_to() {
        let config = ClusterConfig {
            nodes: 3,
            seed: 3,
            clock: ClockMode::Virtual,
            ..Default::default()
        };
        let mut session = Session::new(config).expect("starts");
        session.run_line("run 2s").expect("runs");
        let (now_us, handoffs) = session.cluster().position().expect("a position");
        let position = &session.progress.position;
        assert_eq!(position.handoffs(), handoffs);
        assert!(handoffs > 0);
        assert!(position.now_us() <= now_us && position.now_us() > 1_900_000);
        session.run_line("pause").expect("pauses");
        session.run_line("back 1").expect("goes back");
        session.run_line("run 500ms").expect("runs");
        let (_, handoffs) = session.cluster().position().expect("a position");
        assert_eq!(session.progress.position.handoffs(), handoffs);
        assert!(since(&session.progress.running_since).is_none());
    }

    #[test]
    fn the_line_says_how_long_where_and_how_to_stop() {
        let text = line(Duration::from_millis(10_400), 2_275_174, 1_000_000, true);
        assert_eq!(
            text,
            "… still running after 10s of wall time: t=2275.1ms of cluster time, 1000000 \
             hand-offs; Ctrl-C stops it"
        );
        assert!(!line(Duration::ZERO, 0, 0, false).contains("Ctrl-C"));
    }
}
