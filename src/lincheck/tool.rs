//! `raftlab lincheck FILE...`: checks histories from files and says, per file, whether
//! they are linearizable, with the operations that show a violation.
//!
//! Each file is read ([`super::files`]), checked with its model within the time budget,
//! and reported in a few lines. The exit status is the worst over the files: 1 if one is
//! not linearizable (a violation found is never hidden behind another file's status), else
//! 2 if one could not be read, else 3 if one is undecided within the budget, else 0. With
//! `--svg`, a violation is drawn ([`super::svg`]).
//!
//! The times a file gives its operations are its line numbers, so an interval is shown as
//! the lines of its invocation and completion.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::ValueEnum;

use super::check::{Report, Verdict, Violation, check, longest_order};
use super::files::{self, Format, History};
use super::search::Limit;
use super::svg;
use super::{Budget, Model, Operation};
use crate::repl::parse::parse_duration;

/// The options of `raftlab lincheck`.
#[derive(clap::Args, Debug, Clone)]
pub struct LincheckArgs {
    /// History files: Porcupine's key-value format, a Jepsen register history (EDN or
    /// log lines), or raftlab's JSON lines (`export run.jsonl`); `-` reads stdin.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The files' format [default: told from the content].
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// The model to check against [default: the format's: kv for porcupine and jsonl,
    /// register for jepsen].
    #[arg(long, value_enum)]
    pub model: Option<ModelArg>,
    /// The time the search of one file may take (`10s`, `500ms`; a bare number is ms);
    /// past it the file is undecided (exit status 3).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub timeout: u64,
    /// Draw a violation on a time line into this SVG file (with several files, one
    /// picture per failing file, named FILE-STEM.svg beside it, FILE-STEM-N.svg when the
    /// Nth file given shares its stem with another).
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Porcupine,
    Jepsen,
    Jsonl,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModelArg {
    Kv,
    Register,
}

/// How a file's check ended, worst last: the exit status of several files is their
/// worst's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Status {
    Linearizable,
    Undecided,
    BadInput,
    Violation,
}

impl Status {
    fn exit_code(self) -> u8 {
        match self {
            Status::Linearizable => 0,
            Status::Violation => 1,
            Status::BadInput => 2,
            Status::Undecided => 3,
        }
    }
}

/// Runs `raftlab lincheck`, printing to stdout; returns the exit status.
pub fn run(args: &LincheckArgs) -> u8 {
    if args.timeout == 0 {
        eprintln!("error: --timeout must be more than 0 (for example 10s or 500ms)");
        return Status::BadInput.exit_code();
    }
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut worst = Status::Linearizable;
    for (index, file) in args.files.iter().enumerate() {
        let (status, text) = check_file(args, index, file);
        worst = worst.max(status);
        // A closed pipe ends the output, not the check.
        let _ = out.write_all(text.as_bytes());
    }
    let _ = out.flush();
    worst.exit_code()
}

/// The text of `file` (`-`: standard input), or why it cannot be read: a line that is
/// not UTF-8 is named by its number.
fn read_text(file: &Path) -> Result<String, String> {
    let bytes = match file == Path::new("-") {
        true => {
            let mut bytes = Vec::new();
            io::Read::read_to_end(&mut io::stdin().lock(), &mut bytes).map(|_| bytes)
        }
        false => std::fs::read(file),
    };
    let bytes = bytes.map_err(|error| error.to_string())?;
    String::from_utf8(bytes).map_err(|error| {
        let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
        let line = 1 + valid.iter().filter(|&&b| b == b'\n').count();
        format!("line {line} is not valid UTF-8")
    })
}

/// Checks the `index`th file given; returns its status and the report in words.
fn check_file(args: &LincheckArgs, index: usize, file: &Path) -> (Status, String) {
    let start = Instant::now();
    let name = file.display();
    let text = match read_text(file) {
        Ok(text) => text,
        Err(error) => return (Status::BadInput, format!("{name}: cannot read: {error}\n")),
    };
    let read = || -> Result<(Format, History), files::HistoryError> {
        let format = match args.format {
            Some(FormatArg::Porcupine) => Format::Porcupine,
            Some(FormatArg::Jepsen) => Format::Jepsen,
            Some(FormatArg::Jsonl) => Format::Jsonl,
            None => files::detect(&text)?,
        };
        Ok((format, files::read(&text, format)?))
    };
    let (format, history) = match read() {
        Ok(read) => read,
        Err(error) => return (Status::BadInput, format!("{name}:{error}\n")),
    };
    let format_name = format!("{format:?}").to_lowercase();
    let timeout = Duration::from_micros(args.timeout);
    let svg_path = svg_path(args, index, file);
    let svg_path = svg_path.as_deref();
    let mut job = Job {
        name: &name.to_string(),
        format: &format_name,
        timeout,
        start,
        svg_path,
    };
    match (history, args.model) {
        (History::Kv { model, ops }, None | Some(ModelArg::Kv)) => job.run(&model, &ops),
        (History::Register { model, ops }, None | Some(ModelArg::Register)) => {
            job.run(&model, &ops)
        }
        (History::Kv { .. }, Some(ModelArg::Register)) => (
            Status::BadInput,
            format!("{name}: a {format_name} history is of the key-value store: use --model kv\n"),
        ),
        (History::Register { .. }, Some(ModelArg::Kv)) => (
            Status::BadInput,
            format!("{name}: a {format_name} history is of a register: use --model register\n"),
        ),
    }
}

/// Where the picture of the violation of `file`, the `index`th file given, goes, if one
/// is asked for: with several files, the picture's name gets the file's stem, and its
/// place in the list too when another file has the same stem (`out-bad-1.svg`,
/// `out-bad-2.svg`), so that no picture is written over another.
fn svg_path(args: &LincheckArgs, index: usize, file: &Path) -> Option<PathBuf> {
    let svg = args.svg.as_ref()?;
    if args.files.len() == 1 {
        return Some(svg.clone());
    }
    let stem_of = |file: &Path| match file == Path::new("-") {
        true => "stdin".to_string(),
        false => file
            .file_stem()
            .map_or(String::new(), |s| s.to_string_lossy().into_owned()),
    };
    let stem = stem_of(file);
    let base = svg
        .file_stem()
        .map_or("lincheck".into(), |s| s.to_string_lossy());
    let shared = args.files.iter().filter(|f| stem_of(f) == stem).count() > 1;
    let name = match shared {
        true => format!("{base}-{stem}-{}.svg", index + 1),
        false => format!("{base}-{stem}.svg"),
    };
    Some(svg.with_file_name(name))
}

/// One file's check.
struct Job<'a> {
    name: &'a str,
    format: &'a str,
    timeout: Duration,
    start: Instant,
    svg_path: Option<&'a Path>,
}

impl Job<'_> {
    fn run<M: Model>(
        &mut self,
        model: &M,
        ops: &[Operation<M::Input, M::Output>],
    ) -> (Status, String) {
        let report = check(model, ops, Budget::Time(self.timeout));
        let elapsed = self.start.elapsed();
        let mut text = String::new();
        let timing = timing(&report, elapsed);
        let name = self.name;
        let _ = writeln!(
            text,
            "{name}: {} history, {}, {}",
            self.format,
            crate::repl::view::count(ops.len(), "operation", "operations"),
            keys(report.partitions)
        );
        let status = match &report.verdict {
            Verdict::Linearizable => {
                let _ = writeln!(text, "{name}: linearizable ({timing})");
                Status::Linearizable
            }
            Verdict::Undecided { key, undecided, .. } => {
                let others = match undecided - 1 {
                    0 => String::new(),
                    n => format!(" (and {n} more)"),
                };
                let _ = writeln!(
                    text,
                    "{name}: UNDECIDED: the search of key {key:?}{others} did not finish within \
                     the {}s budget; try a longer --timeout ({timing})",
                    self.timeout.as_secs_f64()
                );
                Status::Undecided
            }
            Verdict::Violation(violation) => {
                let _ = writeln!(text, "{name}: NOT linearizable ({timing})");
                text.push_str(&describe_violation(model, ops, violation));
                self.picture(model, ops, violation, &mut text);
                Status::Violation
            }
        };
        (status, text)
    }

    /// Draws the violation into the SVG file, if one is asked for, and says so in `text`.
    fn picture<M: Model>(
        &self,
        model: &M,
        ops: &[Operation<M::Input, M::Output>],
        violation: &Violation,
        text: &mut String,
    ) {
        let Some(path) = self.svg_path else {
            return;
        };
        let limit = Limit {
            max_steps: u64::MAX,
            deadline: Some(Instant::now() + Duration::from_secs(2)),
            stop: None,
        };
        let longest = longest_order(model, ops, &violation.partition, &limit);
        let picture = svg::violation(model, ops, violation, &longest);
        let _ = match std::fs::write(path, picture) {
            Ok(()) => writeln!(text, "  picture: {}", path.display()),
            Err(error) => writeln!(text, "  cannot write {}: {error}", path.display()),
        };
    }
}

/// `1 key`, `3 keys`.
fn keys(count: usize) -> String {
    if count == 1 {
        "1 key".to_string()
    } else {
        format!("{count} keys")
    }
}

fn timing(report: &Report, elapsed: Duration) -> String {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "{} in {:.3} ms: search {:.3} ms, shrinking {:.3} ms",
        keys(report.partitions),
        ms(elapsed),
        ms(report.search_time),
        ms(report.shrink_time)
    )
}

/// The violation in words: the key, and one operation a line.
pub fn describe_violation<M: Model>(
    model: &M,
    ops: &[Operation<M::Input, M::Output>],
    violation: &Violation,
) -> String {
    let mut text = String::new();
    let _ = write!(
        text,
        "  {}: {} be ordered",
        model.name_partition(&violation.key),
        crate::repl::words::safety::cannot_be_ordered(violation.ops.len())
    );
    let _ = if violation.minimal {
        writeln!(
            text,
            " (minimal: without any one, the rest can be ordered):"
        )
    } else {
        writeln!(text, " (shrinking ran out of time: maybe not minimal):")
    };
    for &index in &violation.ops {
        let _ = writeln!(text, "    {}", describe_op(model, &ops[index]));
    }
    text
}

/// One operation in a line: client, operation, lines and output.
pub fn describe_op<M: Model>(model: &M, op: &Operation<M::Input, M::Output>) -> String {
    let input = super::clip(model.describe_input(&op.input));
    let (span, output) = match op.returned() {
        Some((output, response)) => (
            format!("lines {}..{response}", op.invoke),
            super::clip(model.describe_output(&op.input, output)),
        ),
        None => (format!("lines {}..", op.invoke), "unknown".to_string()),
    };
    format!("client {:<4} {input:<24} {span:<16} -> {output}", op.client)
}
