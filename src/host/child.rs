//! The hosted programs as processes: each owned by a [`Child`] guard that kills it when
//! dropped, so no path out of raftlab (quit, error, Ctrl-C, panic) leaves one behind.
//!
//! A child has three threads: a reader of its stdout and one of its stderr, which feed
//! one bounded channel of [`ChildLine`]s into the scheduler, and a writer to its stdin fed
//! by a bounded channel of its own, so that a program that stops reading never blocks the
//! scheduler. A full channel drops the line and counts it. A write to a child that died
//! fails with EPIPE (SIGPIPE is ignored while hosting), which ends its writer quietly.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};

use super::HostError;
use super::protocol::MAX_LINE_BYTES;

/// How many lines wait for the scheduler, from all children together.
pub const LINES_CAPACITY: usize = 65_536;
/// How many lines wait to be written to one child.
pub const STDIN_CAPACITY: usize = 16_384;

/// Where a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// What a reader thread tells the scheduler.
#[derive(Debug)]
pub struct ChildLine {
    /// The node's index, from 0.
    pub node: usize,
    /// Which start of the node (a restart is a new generation).
    pub generation: u64,
    pub stream: Stream,
    /// The line, or `None` at the end of the stream; `Err` for a line that is too long or
    /// not UTF-8.
    pub line: Option<Result<String, super::protocol::LineError>>,
}

/// Lines a full channel dropped, per stream.
#[derive(Debug, Default)]
pub struct Drops {
    pub from_child: AtomicU64,
    pub to_child: AtomicU64,
}

/// One running program. Dropping it kills the process (SIGKILL) and reaps it.
pub struct Child {
    process: std::process::Child,
    stdin: Sender<String>,
    pub drops: Arc<Drops>,
}

impl Child {
    /// Starts `program args` as node `node` (generation `generation`), its output going
    /// to `lines`.
    pub fn spawn(
        program: &str,
        args: &[String],
        node: usize,
        generation: u64,
        lines: &Sender<ChildLine>,
    ) -> Result<Child, HostError> {
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        die_with_parent(&mut command);
        let mut process = command.spawn().map_err(|error| HostError::Spawn {
            program: program.to_string(),
            error: error.to_string(),
        })?;
        let drops = Arc::new(Drops::default());
        let (stdin_tx, stdin_rx) = bounded::<String>(STDIN_CAPACITY);
        if let Some(stdin) = process.stdin.take() {
            thread::spawn(move || write_lines(stdin, stdin_rx));
        }
        if let Some(stdout) = process.stdout.take() {
            let reader = Reader::new(node, generation, Stream::Stdout, lines, &drops);
            thread::spawn(move || reader.read(stdout));
        }
        if let Some(stderr) = process.stderr.take() {
            let reader = Reader::new(node, generation, Stream::Stderr, lines, &drops);
            thread::spawn(move || reader.read(stderr));
        }
        Ok(Child {
            process,
            stdin: stdin_tx,
            drops,
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// Queues `line` for the program's stdin; whether it was queued (false: the queue is
    /// full, and the line is dropped and counted, or the program's stdin is gone).
    pub fn send(&self, line: String) -> bool {
        match self.stdin.try_send(line) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                self.drops.to_child.fetch_add(1, Ordering::Relaxed);
                false
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    }

    /// Whether the process has exited, and how.
    pub fn exited(&mut self) -> Option<String> {
        match self.process.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(error) => Some(error.to_string()),
        }
    }

    /// Stops (SIGSTOP) or continues (SIGCONT) the process.
    pub fn signal(&self, stop: bool) {
        #[cfg(unix)]
        {
            let signal = if stop { libc::SIGSTOP } else { libc::SIGCONT };
            // SAFETY: kill(2) on the process group of a child this guard owns and has not
            // reaped (the child leads its own group).
            unsafe {
                libc::kill(-(self.process.id() as libc::pid_t), signal);
            }
        }
        #[cfg(not(unix))]
        let _ = stop;
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        // The whole group first, so that what the program started goes too; killing a
        // process that already exited fails harmlessly; wait reaps it.
        #[cfg(unix)]
        // SAFETY: kill(2) on the group the child leads; it is not reaped yet.
        unsafe {
            libc::kill(-(self.process.id() as libc::pid_t), libc::SIGKILL);
        }
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// The child leads a process group of its own, so that killing, stopping and continuing
/// it reach whatever it starts (a shell script's commands), and a Ctrl-C at the terminal
/// reaches raftlab alone, which then ends the children itself. On Linux the child also
/// gets SIGKILL when the thread that started it ends, should raftlab be killed without
/// running its destructors.
fn die_with_parent(command: &mut Command) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe and touches only the child's own settings.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = command;
}

fn write_lines(mut stdin: std::process::ChildStdin, lines: Receiver<String>) {
    while let Ok(mut line) = lines.recv() {
        line.push('\n');
        if stdin.write_all(line.as_bytes()).is_err() {
            return;
        }
        if lines.is_empty() && stdin.flush().is_err() {
            return;
        }
    }
}

struct Reader {
    node: usize,
    generation: u64,
    stream: Stream,
    lines: Sender<ChildLine>,
    drops: Arc<Drops>,
}

impl Reader {
    fn new(
        node: usize,
        generation: u64,
        stream: Stream,
        lines: &Sender<ChildLine>,
        drops: &Arc<Drops>,
    ) -> Reader {
        Reader {
            node,
            generation,
            stream,
            lines: lines.clone(),
            drops: drops.clone(),
        }
    }

    fn read(self, from: impl Read) {
        let mut from = BufReader::new(from);
        let mut buffer = Vec::new();
        loop {
            buffer.clear();
            let limit = (MAX_LINE_BYTES + 2) as u64;
            match (&mut from).take(limit).read_until(b'\n', &mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let line = if buffer.last() != Some(&b'\n') && buffer.len() as u64 >= limit {
                skip_line(&mut from);
                Err(super::protocol::LineError::TooLong)
            } else {
                while matches!(buffer.last(), Some(b'\n' | b'\r')) {
                    buffer.pop();
                }
                String::from_utf8(std::mem::take(&mut buffer))
                    .map_err(|_| super::protocol::LineError::NotUtf8)
            };
            if !self.offer(Some(line)) {
                return;
            }
        }
        // The end of the stream always gets through, so the scheduler learns of it.
        let end = ChildLine {
            node: self.node,
            generation: self.generation,
            stream: self.stream,
            line: None,
        };
        let _ = self.lines.send(end);
    }

    /// Offers a line; false when the scheduler is gone.
    fn offer(&self, line: Option<Result<String, super::protocol::LineError>>) -> bool {
        let message = ChildLine {
            node: self.node,
            generation: self.generation,
            stream: self.stream,
            line,
        };
        match self.lines.try_send(message) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                self.drops.from_child.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    }
}

/// Reads and discards the rest of an over-long line.
fn skip_line(from: &mut impl BufRead) {
    let mut sink = Vec::new();
    loop {
        sink.clear();
        match from.take(1 << 16).read_until(b'\n', &mut sink) {
            Ok(0) | Err(_) => return,
            Ok(_) if sink.last() == Some(&b'\n') => return,
            Ok(_) => {}
        }
    }
}
