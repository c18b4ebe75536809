//! Playing scenarios: each step printed as it runs, then what it printed.
//!
//! The output of one file:
//!
//! ```text
//! == leader-failover  examples/clusters/leader-failover.yaml
//!    Kill the leader; a new one is elected and no committed write is lost.
//!    5 nodes, virtual clock, seed 7
//! > wait leader within 1s
//! wait leader: held at t=161.2ms (leader is n3)
//!   » The entry is committed once a majority has it.
//! > expect get x == 1
//! ✓ expect get x == 1
//! ✓ leader-failover passed (7 steps)
//! ```
//!
//! A command that fails (an error, a refused client command, an `expect` or `wait` that
//! does not hold) stops its file, which then fails; the seed and a command that replays the
//! run are printed with the failure. [`run`] loads every file first, so a bad file is
//! reported before anything runs, then plays them in turn and ends with `N passed, M
//! failed`.
//!
//! Events: the runner subscribes to the cluster's events and prints, after each step's
//! command line and before its output, the events that step caused: every event with
//! `--trace`, else those the session's trace level shows (a file may say `trace changes`;
//! it starts at `off`), except after `step`, `deliver` and `campaign`, whose own output
//! is the events they caused. In virtual and paused time the events are published by the
//! scheduler before a command returns, so the trace is the same on every run.

use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use colored::Colorize;
use crossbeam_channel::Receiver;
use serde_json::json;

use crate::cluster::{ClockMode, ClusterConfig, ClusterEvent, Hosting, ViewLimits};
use crate::raft::NodeId;
use crate::repl::command::{Command, Condition, NodeRef, NodeRole, NodeSel, TraceLevel};
use crate::repl::session::Session;
use crate::repl::shell::shown_at;
use crate::repl::{export, view};

use super::load::{LoadError, Position, Problem, Scenario, Step, StepKind, load};

/// The width narration is wrapped to.
const WRAP_COLUMNS: usize = 88;

/// Where `raftlab run --svg DIR [--slides]` draws each file's run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SvgOutput<'a> {
    pub dir: &'a Path,
    /// 1280x720 pages `DIR/NAME-01.svg`, ... (with PNGs) instead of one `DIR/NAME.svg`.
    pub slides: bool,
}

/// How `raftlab run` plays files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Wait for Enter before each step.
    pub step: bool,
    /// Print every event.
    pub trace: bool,
    /// Print the event stream as JSON Lines (one object per event, then one per file
    /// with its result) instead of the text.
    pub json: bool,
}

/// How a scenario ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    /// Step `step` (from 1), at `at` in the file, failed.
    Failed {
        step: usize,
        at: Position,
    },
    /// The reader stopped the run (`q` at a `--step` pause) at step `step` (from 1): the
    /// steps from there on did not run, so the file did not pass.
    Stopped {
        step: usize,
    },
}

/// `raftlab run FILE...`: loads every file, then plays each. Returns the exit status: 0
/// when every file passed, 1 when one failed or was stopped, 2 when one could not be
/// loaded (then none runs).
pub fn run(
    paths: &[PathBuf],
    options: RunOptions,
    svg: Option<SvgOutput>,
    out: &mut dyn Write,
    errors: &mut dyn Write,
    input: &mut dyn BufRead,
) -> io::Result<i32> {
    let mut scenarios = Vec::new();
    let mut bad = false;
    for path in paths {
        match load(path).and_then(runnable) {
            Ok(scenario) => scenarios.push(scenario),
            Err(error) => {
                report_load_error(&error, errors)?;
                bad = true;
            }
        }
    }
    if bad {
        return Ok(2);
    }
    if let Some(SvgOutput { dir, .. }) = svg
        && let Err(error) = std::fs::create_dir_all(dir)
    {
        let dir = dir.display();
        writeln!(
            errors,
            "{} cannot create {dir}: {error}",
            "error:".red().bold()
        )?;
        return Ok(2);
    }
    let mut input = Some(input);
    let (mut passed, mut failed, mut stopped, mut unwritten) = (0, 0, 0, 0);
    for scenario in &scenarios {
        let verdict = match Session::new(inline(&scenario.config)) {
            Ok(mut session) => {
                let verdict = if options.json {
                    let verdict =
                        play(&mut session, scenario, options, &mut io::sink(), &mut input)?;
                    write_jsonl(&session, scenario, verdict, out)?;
                    verdict
                } else {
                    play(&mut session, scenario, options, out, &mut input)?
                };
                if let Some(svg) = svg
                    && !write_svg(&mut session, scenario, svg, errors)?
                {
                    unwritten += 1;
                }
                verdict
            }
            Err(error) => {
                writeln!(errors, "error: {}: {error}", scenario.file)?;
                Verdict::Failed {
                    step: 0,
                    at: Position::START,
                }
            }
        };
        match verdict {
            Verdict::Passed => passed += 1,
            Verdict::Failed { .. } => failed += 1,
            Verdict::Stopped { .. } => stopped += 1,
        }
        if !options.json {
            writeln!(out)?;
        }
    }
    match (options.json, stopped) {
        (true, 0) => writeln!(out, "{}", json!({"passed": passed, "failed": failed}))?,
        (true, _) => {
            let counts = json!({"passed": passed, "failed": failed, "stopped": stopped});
            writeln!(out, "{counts}")?
        }
        (false, 0) => writeln!(out, "{passed} passed, {failed} failed")?,
        (false, _) => writeln!(out, "{passed} passed, {failed} failed, {stopped} stopped")?,
    }
    if unwritten > 0 {
        writeln!(errors, "error: {unwritten} diagram(s) could not be written")?;
        return Ok(2);
    }
    Ok(i32::from(failed + stopped > 0))
}

/// `--json`: the file's events (the last 100,000 the cluster keeps; a `back` starts them
/// again), one JSON object a line, then the file's result.
fn write_jsonl(
    session: &Session,
    scenario: &Scenario,
    verdict: Verdict,
    out: &mut dyn Write,
) -> io::Result<()> {
    let events = session.cluster().events(usize::MAX).unwrap_or_default();
    for event in &events {
        writeln!(out, "{}", export::event_jsonl(event))?;
    }
    let passed = verdict == Verdict::Passed;
    let result = json!({"file": scenario.file, "name": scenario.name, "passed": passed});
    writeln!(out, "{result}")
}

/// `--svg DIR`: the run's message sequence diagram, as `DIR/NAME.svg`. A cluster too large
/// to draw is reported and skipped.
fn write_svg(
    session: &mut Session,
    scenario: &Scenario,
    svg: SvgOutput,
    errors: &mut dyn Write,
) -> io::Result<bool> {
    let file = svg
        .dir
        .join(format!("{}.svg", scenario.name))
        .to_string_lossy()
        .into_owned();
    let command = match svg.slides {
        true => Command::ExportSlides {
            file,
            window_us: None,
            heartbeats: false,
        },
        false => Command::Export {
            file,
            window_us: None,
        },
    };
    if let Err(error) = session.execute(&command) {
        writeln!(
            errors,
            "{} {}: {error}",
            "error:".red().bold(),
            scenario.file
        )?;
        return Ok(false);
    }
    Ok(true)
}

/// `raftlab FILE`: loads the file and plays its steps on stdout, and returns the session
/// for the REPL to go on with, and the exit status so far (1 if a step failed). `Err` is
/// the exit status when the file cannot be used; its problems are printed on stderr.
pub fn open(path: &Path) -> Result<(Session, i32), i32> {
    let loaded = match load(path) {
        Ok(loaded) => loaded,
        Err(error) => {
            let _ = report_load_error(&error, &mut io::stderr());
            return Err(2);
        }
    };
    let mut session = match Session::new(loaded.config.clone()) {
        Ok(session) => session,
        Err(error) => {
            eprintln!("{} {}: {error}", "error:".red().bold(), loaded.file);
            return Err(2);
        }
    };
    let options = RunOptions::default();
    match play(&mut session, &loaded, options, &mut io::stdout(), &mut None) {
        Ok(Verdict::Passed) => Ok((session, 0)),
        Ok(Verdict::Failed { .. } | Verdict::Stopped { .. }) => Ok((session, 1)),
        // Nowhere to show the steps (a closed pipe): nothing more to do.
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Err(0),
        Err(error) => {
            eprintln!("{} {error}", "error:".red().bold());
            Err(2)
        }
    }
}

/// A loaded scenario that `run` can play: one with steps.
fn runnable(scenario: Scenario) -> Result<Scenario, LoadError> {
    if scenario.steps.is_empty() {
        return Err(scenario.problem(scenario.steps_at, Problem::NoSteps));
    }
    Ok(scenario)
}

/// Prints a load error, `error: ` before each of its lines.
pub fn report_load_error(error: &LoadError, errors: &mut dyn Write) -> io::Result<()> {
    for line in error.to_string().lines() {
        writeln!(errors, "{} {line}", "error:".red().bold())?;
    }
    Ok(())
}

/// Plays a scenario's steps against `session` and prints them. `input` is where Enter is
/// read from with `--step`; it becomes `None` at its end, and then nothing waits.
pub fn play(
    session: &mut Session,
    scenario: &Scenario,
    options: RunOptions,
    out: &mut dyn Write,
    input: &mut Option<&mut dyn BufRead>,
) -> io::Result<Verdict> {
    header(scenario, out)?;
    session.report_progress(false);
    session.set_trace(TraceLevel::Off);
    let events = session.cluster().subscribe().ok();
    let mut player = Player {
        session,
        options,
        out,
        events,
    };
    for (index, step) in scenario.steps.iter().enumerate() {
        // A `pause:` step is itself the pause before the step after it.
        let after_pause = index > 0 && matches!(scenario.steps[index - 1].kind, StepKind::Pause(_));
        let paused = options.step && pauses_before(step) && !after_pause;
        let end = match paused && player.pause(input)? == PauseEnd::Quit {
            true => StepEnd::Quit,
            false => player.step(step, input)?,
        };
        let verdict = match end {
            StepEnd::Next => continue,
            StepEnd::Quit => Verdict::Stopped { step: index + 1 },
            StepEnd::Failed => Verdict::Failed {
                step: index + 1,
                at: step.at,
            },
        };
        footer(scenario, verdict, out)?;
        return Ok(verdict);
    }
    // A safety violation that no `expect violation` claimed fails the file, even when
    // every step passed (a teaching bug's violation does not fail its own step).
    if let (Ok(unexpected @ 1..), Some(last)) = (
        player.session.violations_unexpected(),
        scenario.steps.last(),
    ) {
        let line = format!("✗ {unexpected} safety violations that no `expect violation` claimed");
        writeln!(out, "{}", line.red())?;
        return failed_at_end(scenario, last, out);
    }
    // So does a node whose core panicked, unless the file expects it to be down.
    let crashes = player
        .session
        .cluster()
        .view(ViewLimits::least())
        .map(|view| view.crashes);
    let unexpected: Vec<_> = crashes
        .unwrap_or_default()
        .into_iter()
        .filter(|(node, _)| !expects_down(scenario, *node))
        .collect();
    if let (Some(last), false) = (scenario.steps.last(), unexpected.is_empty()) {
        for (node, message) in &unexpected {
            let line = format!(
                "✗ n{node} crashed ({message}) and no `expect role {node} down` expected it"
            );
            writeln!(out, "{}", line.red())?;
        }
        return failed_at_end(scenario, last, out);
    }
    footer(scenario, Verdict::Passed, out)?;
    Ok(Verdict::Passed)
}

/// Whether `--step` pauses before a step: not before narration that pauses itself, nor
/// before an `expect`, which shows what the step before it did.
fn pauses_before(step: &Step) -> bool {
    !matches!(
        &step.kind,
        StepKind::Pause(_) | StepKind::Command(Command::Expect { .. })
    )
}

/// What the reader said at a `--step` pause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PauseEnd {
    /// Enter: the next step.
    Next,
    /// `q`: the lesson ends here.
    Quit,
}

/// Whether the file expects node `node` to be down (`expect role N down`, or `wait until`
/// it): the only way a file says that a node's crash is part of its story.
fn expects_down(scenario: &Scenario, node: NodeId) -> bool {
    scenario.steps.iter().any(|step| {
        let condition = match &step.kind {
            StepKind::Command(Command::Expect { condition })
            | StepKind::Command(Command::WaitUntil { condition, .. }) => condition,
            _ => return false,
        };
        matches!(
            condition,
            Condition::Role {
                node: NodeSel::One(NodeRef::Id(id)),
                role: NodeRole::Down,
            } if *id == node
        )
    })
}

/// What a step leaves the run to do.
enum StepEnd {
    Next,
    /// Stop here: `q` at a pause (a file cannot hold `quit`: the loader refuses it).
    Quit,
    Failed,
}

/// A scenario being played.
struct Player<'a> {
    session: &'a mut Session,
    options: RunOptions,
    out: &'a mut dyn Write,
    events: Option<Receiver<ClusterEvent>>,
}

impl Player<'_> {
    fn step(&mut self, step: &Step, input: &mut Option<&mut dyn BufRead>) -> io::Result<StepEnd> {
        let command = match &step.kind {
            StepKind::Say(text) => {
                narrate("»", text, self.out)?;
                return Ok(StepEnd::Next);
            }
            StepKind::Pause(text) => {
                narrate("⏸", text, self.out)?;
                // Under `--step` it is a pause like any other: a line typed there is a
                // command, `c` or `q`, not thrown away as a key to go on.
                let end = match self.options.step {
                    true => self.pause(input)?,
                    false => PauseEnd::Next,
                };
                return Ok(match end {
                    PauseEnd::Next => StepEnd::Next,
                    PauseEnd::Quit => StepEnd::Quit,
                });
            }
            StepKind::Command(command) => command,
        };
        writeln!(self.out, "{}", format!("> {}", step.line).bold())?;
        let result = self.session.execute(command);
        self.print_events(command.reports_events())?;
        match result {
            Ok(outcome) => {
                let text = outcome.text.trim_end_matches('\n');
                if !text.is_empty() {
                    match outcome.passed {
                        true => writeln!(self.out, "{text}")?,
                        false => writeln!(self.out, "{}", text.red())?,
                    }
                }
                Ok(match (outcome.passed, outcome.quit) {
                    (false, _) => StepEnd::Failed,
                    (true, true) => StepEnd::Quit,
                    (true, false) => StepEnd::Next,
                })
            }
            Err(error) => {
                writeln!(self.out, "{} {error}", "error:".red().bold())?;
                Ok(StepEnd::Failed)
            }
        }
    }

    /// Prints the events since the last step that the trace shows; none when the step's
    /// own output shows them (`skip`).
    fn print_events(&mut self, skip: bool) -> io::Result<()> {
        let Some(events) = &self.events else {
            return Ok(());
        };
        let level = self.session.trace();
        for event in events.try_iter() {
            if !skip && (self.options.trace || shown_at(level, &event)) {
                writeln!(self.out, "{}", view::event(&event))?;
            }
        }
        Ok(())
    }
}

fn header(scenario: &Scenario, out: &mut dyn Write) -> io::Result<()> {
    let title = format!("== {}", scenario.name).bold();
    writeln!(out, "{title}  {}", scenario.file.dimmed())?;
    if let Some(description) = &scenario.description {
        for line in wrap(description, WRAP_COLUMNS - 3) {
            writeln!(out, "   {line}")?;
        }
    }
    let config = &scenario.config;
    let clock = config.clock.name();
    let nodes = config.nodes;
    match config.clock {
        ClockMode::Realtime => writeln!(
            out,
            "   {nodes} nodes, realtime clock at speed {}",
            config.speed
        ),
        _ => writeln!(out, "   {nodes} nodes, {clock} clock, seed {}", config.seed),
    }
}

/// A file whose steps all ran fails at its end: the footer, and the verdict.
fn failed_at_end(scenario: &Scenario, last: &Step, out: &mut dyn Write) -> io::Result<Verdict> {
    let verdict = Verdict::Failed {
        step: scenario.steps.len(),
        at: last.at,
    };
    footer(scenario, verdict, out)?;
    Ok(verdict)
}

fn footer(scenario: &Scenario, verdict: Verdict, out: &mut dyn Write) -> io::Result<()> {
    match verdict {
        Verdict::Passed => {
            let steps = scenario.steps.len();
            let steps = crate::repl::view::count(steps, "step", "steps");
            let line = format!("✓ {} passed ({steps})", scenario.name);
            writeln!(out, "{}", line.green().bold())
        }
        Verdict::Stopped { step } => {
            let steps = scenario.steps.len();
            let line = format!(
                "✗ {} stopped at step {step} of {steps}: not passed, the rest did not run",
                scenario.name
            );
            writeln!(out, "{}", line.yellow().bold())
        }
        Verdict::Failed { step, at } => {
            let line = format!(
                "✗ {} failed at step {step} ({}:{at})",
                scenario.name, scenario.file
            );
            writeln!(out, "{}", line.red().bold())?;
            let seed = scenario.config.seed;
            writeln!(
                out,
                "  seed {seed}; replay with: raftlab run {} --trace",
                shell_word(&scenario.file)
            )
        }
    }
}

/// `text` as one word of a POSIX shell line: as it is when it holds only characters no
/// shell reads specially, else in single quotes (a quote inside written `'\''`), so that
/// a printed command can be pasted back.
fn shell_word(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./+=:,@%".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        return text.to_string();
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// Prints narration: a marker, then the text wrapped and indented, in italics.
fn narrate(marker: &str, text: &str, out: &mut dyn Write) -> io::Result<()> {
    for (i, line) in wrap(text, WRAP_COLUMNS - 4).iter().enumerate() {
        let lead = if i == 0 { marker } else { " " };
        writeln!(out, "  {lead} {}", line.italic().cyan())?;
    }
    Ok(())
}

impl Player<'_> {
    /// A `--step` pause: Enter goes on, `c` plays the rest without pausing, `q` ends the
    /// lesson, and anything else is a REPL command run against the lesson's cluster, after
    /// which the pause stays. At the end of the input, nothing waits any more.
    fn pause(&mut self, input: &mut Option<&mut dyn BufRead>) -> io::Result<PauseEnd> {
        loop {
            let Some(reader) = input else {
                return Ok(PauseEnd::Next);
            };
            let prompt = "  [Enter] next · c continue · q quit · or a command: ";
            write!(self.out, "{}", prompt.dimmed())?;
            self.out.flush()?;
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 {
                writeln!(self.out)?;
                *input = None;
                return Ok(PauseEnd::Next);
            }
            match line.trim() {
                "" => return Ok(PauseEnd::Next),
                "c" => {
                    *input = None;
                    return Ok(PauseEnd::Next);
                }
                "q" => return Ok(PauseEnd::Quit),
                command => {
                    if self.aside(command)? {
                        return Ok(PauseEnd::Quit);
                    }
                }
            }
        }
    }

    /// A command typed at a pause: run, shown, and not part of the lesson's verdict.
    /// Whether it was `quit`, which stops the lesson as `q` does.
    fn aside(&mut self, line: &str) -> io::Result<bool> {
        let result = self.session.run_line(line);
        self.print_events(false)?;
        match result {
            Ok(outcome) => {
                let text = outcome.text.trim_end_matches('\n');
                if !text.is_empty() {
                    writeln!(self.out, "{text}")?;
                }
                Ok(outcome.quit)
            }
            Err(error) => {
                writeln!(self.out, "{} {error}", "error:".red().bold())?;
                Ok(false)
            }
        }
    }
}

/// Splits text into lines of at most `width` characters at spaces (a longer word stays
/// whole). Line breaks in the text are kept, and a line that fits is kept as written, its
/// spaces too (a small table or figure in a `say:` block); a longer one is wrapped, runs
/// of spaces becoming one.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let paragraph = paragraph.trim_end();
        if paragraph.chars().count() <= width {
            lines.push(paragraph.to_string());
            continue;
        }
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let len = line.chars().count();
            if len > 0 && len + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

/// A scenario played to its end runs its nodes inline, unless it asks for a realtime
/// clock: the trace is the same either way, and inline is several times faster.
fn inline(config: &ClusterConfig) -> ClusterConfig {
    let hosting = match config.clock {
        ClockMode::Realtime => config.hosting,
        ClockMode::Paused | ClockMode::Virtual => Hosting::Inline,
    };
    ClusterConfig {
        hosting,
        ..config.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::{shell_word, wrap};

    /// The replay line a failed file prints can be pasted into a shell as it is.
    #[test]
    fn a_path_is_quoted_for_the_shell_only_when_it_needs_it() {
        assert_eq!(
            shell_word("examples/clusters/figure8.yaml"),
            "examples/clusters/figure8.yaml"
        );
        assert_eq!(shell_word("my lesson.yaml"), "'my lesson.yaml'");
        assert_eq!(shell_word("it's.yaml"), "'it'\\''s.yaml'");
        assert_eq!(shell_word("$HOME/a.yaml"), "'$HOME/a.yaml'");
        assert_eq!(shell_word(""), "''");
    }

    #[test]
    fn wrap_breaks_at_spaces_and_keeps_long_words() {
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("abcdefgh ij", 4), ["abcdefgh", "ij"]);
        assert_eq!(wrap("one\ntwo", 80), ["one", "two"]);
    }

    /// A line that fits keeps its spaces: a figure drawn in a `say:` block stays drawn.
    #[test]
    fn wrap_keeps_a_line_that_fits_as_written() {
        let figure = "n1  1 1 4\nn2  1 1   \n    ^ committed";
        assert_eq!(
            wrap(figure, 40),
            ["n1  1 1 4", "n2  1 1", "    ^ committed"]
        );
        assert_eq!(wrap("a   b   c", 5), ["a b c"]);
    }
}
