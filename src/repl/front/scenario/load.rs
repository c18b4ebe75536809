//! Loading a scenario file: YAML into documents that keep every value's position, then
//! each value through the command language's parsers into a typed [`Scenario`].

use std::fmt::{self, Display, Formatter};
use std::path::Path;

use serde_saphyr::{Location, MessageFormatter, Spanned, UserMessageFormatter};
use thiserror::Error;

use crate::cluster::{ClockMode, ClusterConfig, ClusterError, MAX_NODES};
use crate::raft::{Bug, ConfigError, NodeId, ReadMode};
use crate::repl::command::{Command, ParseError, ResolveError, parse};
use crate::repl::parse::{
    parse_decimal, parse_duration, parse_duration_range, parse_probability, parse_u64,
};
use crate::repl::table::edit_distance;

use super::doc::{
    Accept, ClusterDoc, Field, FileDoc, Mapping, NetworkDoc, RaftDoc, Scalar, Shape, StepDoc, Text,
};

/// A place in a file: line and column, both from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: u64,
    pub column: u64,
}

impl Position {
    /// The top of the file, for problems that have no better place.
    pub const START: Position = Position { line: 1, column: 1 };

    fn of(location: &Location) -> Position {
        if location.line() == 0 {
            return Position::START;
        }
        Position {
            line: location.line(),
            column: location.column().max(1),
        }
    }
}

impl Display for Position {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A value that is wrong for its key.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum ValueError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("expected {expected}, not '{text}'")]
    Expected {
        expected: &'static str,
        text: String,
    },
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

/// What is wrong at one place in a file.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum Problem {
    /// YAML syntax, as serde-saphyr words it for the user (its messages for the programmer
    /// name its own API).
    #[error("{0}")]
    Yaml(String),
    /// A key given twice in one mapping (here, the second time).
    #[error("{}", match .0 {
        Some(key) => format!("key '{key}' is given twice"),
        None => "a key is given twice".to_string(),
    })]
    DuplicateKey(Option<String>),
    /// A second YAML document, after `---` (here, where it starts).
    #[error("a scenario file holds one YAML document, but a second one starts here")]
    SecondDocument,
    /// A value of the wrong kind: a number where a mapping belongs, ...
    #[error("{key}: expected {expected}, found {found}")]
    Kind {
        key: &'static str,
        expected: &'static str,
        found: String,
    },
    #[error("unknown key '{key}'{}; expected one of: {}", did_you_mean(suggestion), expected.join(", "))]
    UnknownKey {
        key: String,
        suggestion: Option<String>,
        expected: Vec<String>,
    },
    #[error("{key}: {error}")]
    Value {
        key: &'static str,
        error: ValueError,
    },
    #[error("bad command: {0}")]
    Command(ParseError),
    #[error("{0}")]
    Node(ResolveError),
    /// A hosted scenario (a `host:` section: someone's own program run as the nodes) where
    /// one of raftlab's own clusters is expected.
    #[error(
        "this is a hosted scenario ('host:': your own program as the nodes); play it with \
         `raftlab run FILE`: the REPL and `raftlab watch` open raftlab's own clusters only"
    )]
    Hosted,
    /// A `say:` or `pause:` step with another key besides (here, the first other one).
    #[error("a step has one key, say or pause, but this one also has '{0}'")]
    ExtraStepKey(String),
    #[error("a step needs a command, but this one is blank or a comment")]
    EmptyStep,
    #[error("a command is one line, but this step has {0} lines")]
    MultiLine(usize),
    /// `quit` (or `try quit`) as a step: it would skip the steps after it.
    #[error(
        "`quit` ends a REPL session, not a scenario: a scenario ends after its last step \
         (delete the steps that should not run)"
    )]
    Quit,
    #[error("there are no steps to run")]
    NoSteps,
    /// A step that needs a stopped clock where the file's clock runs in real time (from its
    /// start, or since a `resume`): it would fail when it is reached.
    #[error(
        "`{0}` needs a stopped clock, but the clock runs in real time here: put `pause` \
         before it, or give the file `clock: virtual`"
    )]
    ClockRunning(&'static str),
    /// `name: ""`: the file's runs would be told of with no name.
    #[error("name is empty: give the scenario a name, or leave the key out to use the file's")]
    EmptyName,
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!(" (did you mean '{s}'?)"),
        None => String::new(),
    }
}

/// A file that cannot be used. Nothing of it has run.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum LoadError {
    #[error("{file}: cannot read the file: {reason}")]
    Read { file: String, reason: String },
    /// One line per problem, each `FILE:LINE:COLUMN: message`.
    #[error("{}", problem_lines(file, problems))]
    Problems {
        file: String,
        problems: Vec<(Position, Problem)>,
    },
}

fn problem_lines(file: &str, problems: &[(Position, Problem)]) -> String {
    let lines: Vec<String> = problems
        .iter()
        .map(|(at, problem)| format!("{file}:{at}: {problem}"))
        .collect();
    lines.join("\n")
}

/// What one step does.
#[derive(Clone, Debug, PartialEq)]
pub enum StepKind {
    /// A command line, parsed and checked against the cluster.
    Command(Command),
    /// `say: TEXT` or `say TEXT`: narration.
    Say(String),
    /// `pause: TEXT`: narration that waits for Enter when run with `--step`.
    Pause(String),
}

/// One step of a scenario, with where it is and how it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub kind: StepKind,
    pub at: Position,
    /// The command line as written (empty for `say:` and `pause:`).
    pub line: String,
}

/// A loaded scenario: nothing in it can fail to parse or name a node outside the cluster.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// The file, as named on the command line.
    pub file: String,
    pub name: String,
    pub description: Option<String>,
    pub config: ClusterConfig,
    pub steps: Vec<Step>,
    /// Where the steps are (the top of the file when there are none).
    pub steps_at: Position,
}

impl Scenario {
    /// A problem with the scenario found after loading, such as having no steps to run.
    pub fn problem(&self, at: Position, problem: Problem) -> LoadError {
        LoadError::Problems {
            file: self.file.clone(),
            problems: vec![(at, problem)],
        }
    }
}

/// Reads and checks a scenario file.
pub fn load(path: &Path) -> Result<Scenario, LoadError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| LoadError::Read {
        file: file.clone(),
        reason: e.to_string(),
    })?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    load_str(&file, stem.as_deref().unwrap_or("scenario"), &text)
}

/// Checks a scenario's text; `file` names it in messages, `default_name` is its name when
/// it has none.
pub fn load_str(file: &str, default_name: &str, text: &str) -> Result<Scenario, LoadError> {
    let fail = |problems| LoadError::Problems {
        file: file.to_string(),
        problems,
    };
    // YAML 1.2's booleans only: `n`, `no`, `off`, `yes` are text (a name, a `say`), not
    // booleans; the settings that take one read those words themselves (`boolean`).
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    let doc = serde_saphyr::from_str_with_options::<Field<Mapping<FileDoc>>>(text, options);
    let doc = doc.map_err(|error| fail(vec![yaml_problem(&error)]))?;
    let mut problems = Vec::new();
    let doc = match &doc {
        Some(doc) => good(doc, "the file", &mut problems).map(|d| &d.0),
        None => None,
    };
    let empty = FileDoc::default();
    let doc = doc.unwrap_or(&empty);
    let cluster = doc.cluster.as_ref();
    let cluster = cluster.and_then(|c| good(c, "cluster", &mut problems));
    let config = cluster_config(text, cluster.map(|c| &c.0), &mut problems);
    let steps_at = doc.steps.as_ref().map_or(Position::START, at);
    let steps = doc.steps.as_ref();
    let steps = steps.and_then(|s| good(s, "steps", &mut problems));
    let steps = read_steps(steps.map_or(&[][..], |s| &s.0), &config, &mut problems);
    let name = text_of(&doc.name, "name", &mut problems);
    if let (Some(name), Some(field)) = (&name, &doc.name)
        && name.trim().is_empty()
    {
        problems.push((at(field), Problem::EmptyName));
    }
    let description = text_of(&doc.description, "description", &mut problems);
    if !problems.is_empty() {
        problems.sort_by_key(|(at, _)| (at.line, at.column));
        return Err(fail(problems));
    }
    Ok(Scenario {
        file: file.to_string(),
        name: name.unwrap_or_else(|| default_name.to_string()),
        description,
        config,
        steps,
        steps_at,
    })
}

/// Where a value is.
fn at<T>(spanned: &Spanned<T>) -> Position {
    Position::of(&spanned.referenced)
}

/// The value of a field if it is of the right kind; else a problem at its position.
fn good<'a, T: for<'de> Accept<'de>>(
    field: &'a Spanned<Shape<T>>,
    key: &'static str,
    problems: &mut Problems,
) -> Option<&'a T> {
    match &field.value {
        Shape::Good(value) => Some(value),
        Shape::Wrong(found) => {
            let found = found.clone();
            let expected = T::WHAT;
            problems.push((
                at(field),
                Problem::Kind {
                    key,
                    expected,
                    found,
                },
            ));
            None
        }
    }
}

fn text_of(field: &Field<Text>, key: &'static str, problems: &mut Problems) -> Option<String> {
    let field = field.as_ref()?;
    good(field, key, problems).map(|t| t.0.clone())
}

// ---- problems from serde-saphyr ---------------------------------------------------------

fn yaml_problem(error: &serde_saphyr::Error) -> (Position, Problem) {
    let error = error.without_snippet();
    let at = error
        .location()
        .map_or(Position::START, |l| Position::of(&l));
    let problem = match error {
        serde_saphyr::Error::SerdeUnknownField {
            field, expected, ..
        } if field == "host" && expected.contains(&"cluster") => Problem::Hosted,
        serde_saphyr::Error::SerdeUnknownField {
            field, expected, ..
        } => unknown_key(field, expected),
        serde_saphyr::Error::DuplicateMappingKey { key, .. } => Problem::DuplicateKey(key.clone()),
        serde_saphyr::Error::MultipleDocuments { .. } => Problem::SecondDocument,
        other => {
            let message = UserMessageFormatter.format_message(other);
            // The message may quote the file; keep control characters off the terminal.
            let message = message
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c });
            Problem::Yaml(message.collect())
        }
    };
    (at, problem)
}

fn unknown_key(key: &str, expected: &[&str]) -> Problem {
    let suggestion = expected
        .iter()
        .map(|&name| (edit_distance(key, name), name))
        .min()
        .filter(|&(distance, name)| {
            distance <= 2.max(key.chars().count() / 3) && distance < name.len()
        })
        .map(|(_, name)| name.to_string());
    Problem::UnknownKey {
        key: key.to_string(),
        suggestion,
        expected: expected.iter().map(|s| s.to_string()).collect(),
    }
}

// ---- the cluster ------------------------------------------------------------------------

type Problems = Vec<(Position, Problem)>;

/// Reads the settings of a file, recording each problem against its key: the file's text
/// (for numbers as written, see [`whole_number_as_written`]) and the problems so far.
struct Settings<'a> {
    source: &'a str,
    problems: &'a mut Problems,
}

impl Settings<'_> {
    /// Reads one setting with `parse`; a problem is recorded against the key.
    fn read<T>(
        &mut self,
        field: &Field<Scalar>,
        key: &'static str,
        parse: impl FnOnce(&str) -> Result<T, ValueError>,
    ) -> Option<T> {
        let field = field.as_ref()?;
        let text = &good(field, key, self.problems)?.0;
        let text = whole_number_as_written(self.source, field).unwrap_or(text);
        match parse(text) {
            Ok(value) => Some(value),
            Err(error) => {
                self.problems
                    .push((at(field), Problem::Value { key, error }));
                None
            }
        }
    }
}

/// A whole number as the file writes it. YAML reads a whole number past the largest u64
/// as a float, rounded (`18446744073709551616` becomes `18446744073709552000`): a message
/// about it must quote the digits the user wrote.
fn whole_number_as_written<'a, T>(source: &'a str, field: &Spanned<T>) -> Option<&'a str> {
    let span = field.referenced.span();
    let start = usize::try_from(span.byte_offset()?).ok()?;
    let len = usize::try_from(span.byte_len()?).ok()?;
    let written = source.get(start..start.checked_add(len)?)?.trim();
    let digits = !written.is_empty() && written.bytes().all(|b| b.is_ascii_digit());
    digits.then_some(written)
}

fn cluster_config(
    source: &str,
    doc: Option<&ClusterDoc>,
    problems: &mut Problems,
) -> ClusterConfig {
    let mut config = ClusterConfig {
        clock: ClockMode::Virtual,
        ..ClusterConfig::default()
    };
    let Some(doc) = doc else {
        return config;
    };
    let before = problems.len();
    let mut settings = Settings { source, problems };
    if let Some(n) = settings.read(&doc.nodes, "cluster.nodes", node_count) {
        config.nodes = n;
    }
    if let Some(seed) = settings.read(&doc.seed, "cluster.seed", |t| Ok(parse_u64(t, "seed")?)) {
        config.seed = seed;
    }
    if let Some(clock) = settings.read(&doc.clock, "cluster.clock", clock_mode) {
        config.clock = clock;
    }
    if let Some(speed) = settings.read(&doc.speed, "cluster.speed", speed) {
        config.speed = speed;
    }
    let key = "cluster.election_timeout";
    if let Some((lo, hi)) = settings.read(&doc.election_timeout, key, |t| {
        Ok(parse_duration_range(t, true)?)
    }) {
        config.raft.election_timeout_min_us = lo;
        config.raft.election_timeout_max_us = hi;
    }
    if let Some(us) = settings.read(&doc.heartbeat, "cluster.heartbeat", |t| {
        Ok(parse_duration(t)?)
    }) {
        config.raft.heartbeat_us = us;
    }
    let network = doc.network.as_ref();
    if let Some(Mapping(network)) =
        network.and_then(|n| good(n, "cluster.network", settings.problems))
    {
        read_network(&mut settings, network, &mut config);
    }
    if let Some(Mapping(raft)) = doc
        .raft
        .as_ref()
        .and_then(|r| good(r, "cluster.raft", settings.problems))
    {
        read_raft(&mut settings, raft, &mut config);
    }
    if problems.len() == before {
        validate(doc, &config, problems);
    }
    config
}

fn read_network(settings: &mut Settings, doc: &NetworkDoc, config: &mut ClusterConfig) {
    let net = &mut config.network;
    if let Some((lo, hi)) = settings.read(&doc.delay, "cluster.network.delay", |t| {
        Ok(parse_duration_range(t, true)?)
    }) {
        net.delay_min_us = lo;
        net.delay_max_us = hi;
    }
    let probability = |t: &str| Ok(parse_probability(t)?);
    if let Some(p) = settings.read(&doc.drop, "cluster.network.drop", probability) {
        net.drop = p;
    }
    if let Some(p) = settings.read(&doc.duplicate, "cluster.network.duplicate", probability) {
        net.duplicate = p;
    }
    if let Some(on) = settings.read(&doc.reorder, "cluster.network.reorder", boolean) {
        net.reorder = on;
    }
}

fn read_raft(settings: &mut Settings, doc: &RaftDoc, config: &mut ClusterConfig) {
    if let Some(on) = settings.read(&doc.prevote, "cluster.raft.prevote", boolean) {
        config.raft.prevote = on;
    }
    let key = "cluster.raft.check_quorum";
    if let Some(on) = settings.read(&doc.check_quorum, key, boolean) {
        config.raft.check_quorum = on;
    }
    let mode = |text: &str| {
        text.parse::<ReadMode>().map_err(|_| ValueError::Expected {
            expected: "log, read-index or lease",
            text: text.to_string(),
        })
    };
    if let Some(reads) = settings.read(&doc.reads, "cluster.raft.reads", mode) {
        config.raft.reads = reads;
    }
    let key = "cluster.raft.max_append_entries";
    if let Some(n) = settings.read(&doc.max_append_entries, key, entries_per_append) {
        config.raft.max_append_entries = n;
    }
    let key = "cluster.raft.max_inflight_appends";
    if let Some(n) = settings.read(&doc.max_inflight_appends, key, inflight_appends) {
        config.raft.max_inflight_appends = n;
    }
    let key = "cluster.raft.snapshot_every";
    if let Some(n) = settings.read(&doc.snapshot_every, key, entry_count) {
        config.raft.snapshot_every = n;
    }
    read_bugs(doc, config, settings.problems);
}

/// `bugs: [NAME...]`: the teaching bugs to turn on.
fn read_bugs(doc: &RaftDoc, config: &mut ClusterConfig, problems: &mut Problems) {
    let key = "cluster.raft.bugs";
    let Some(field) = doc.bugs.as_ref() else {
        return;
    };
    let Some(words) = good(field, key, problems) else {
        return;
    };
    for word in &words.0 {
        match word.parse::<Bug>() {
            Ok(bug) => {
                config.raft.bugs.insert(bug);
            }
            Err(_) => {
                let expected = "a teaching bug (see `raftlab check --help`)";
                let error = ValueError::Expected {
                    expected,
                    text: word.clone(),
                };
                problems.push((at(field), Problem::Value { key, error }));
            }
        }
    }
}

/// The settings that only make sense together: the timeouts.
fn validate(doc: &ClusterDoc, config: &ClusterConfig, problems: &mut Problems) {
    let Err(error) = config.validate() else {
        return;
    };
    if let ClusterError::Raft(ConfigError::LeaseWithoutCheckQuorum) = error {
        let raft = doc.raft.as_ref();
        let reads = raft.and_then(|field| match &field.value {
            Shape::Good(Mapping(raft)) => raft.reads.as_ref(),
            Shape::Wrong(_) => None,
        });
        let at = reads.map(at).or(raft.map(at)).unwrap_or(Position::START);
        let key = "cluster.raft.reads";
        let error = ValueError::Cluster(error);
        problems.push((at, Problem::Value { key, error }));
        return;
    }
    let (key, field) = match &error {
        ClusterError::Raft(ConfigError::Heartbeat) => ("cluster.heartbeat", &doc.heartbeat),
        _ => ("cluster.election_timeout", &doc.election_timeout),
    };
    let at = field
        .as_ref()
        .or(doc.heartbeat.as_ref())
        .or(doc.election_timeout.as_ref())
        .map_or(Position::START, at);
    let error = ValueError::Cluster(error);
    problems.push((at, Problem::Value { key, error }));
}

fn node_count(text: &str) -> Result<u64, ValueError> {
    match parse_u64(text, "node count") {
        Ok(n) if (1..=MAX_NODES).contains(&n) => Ok(n),
        _ => Err(ValueError::Expected {
            expected: "a node count from 1 to 2001",
            text: text.to_string(),
        }),
    }
}

fn inflight_appends(text: &str) -> Result<u32, ValueError> {
    match parse_u64(text, "message count").map(u32::try_from) {
        Ok(Ok(n)) if n >= 1 => Ok(n),
        Ok(Err(_)) | Err(ParseError::NumberTooLarge { .. }) => {
            Err(too_large("message count", text, u32::MAX.into()))
        }
        _ => Err(ValueError::Expected {
            expected: "a whole number of messages, at least 1",
            text: text.to_string(),
        }),
    }
}

fn entries_per_append(text: &str) -> Result<usize, ValueError> {
    match parse_u64(text, "entry count").map(usize::try_from) {
        Ok(Ok(n)) if n >= 1 => Ok(n),
        Ok(Err(_)) | Err(ParseError::NumberTooLarge { .. }) => {
            Err(too_large("entry count", text, usize::MAX as u64))
        }
        _ => Err(ValueError::Expected {
            expected: "a whole number of entries, at least 1",
            text: text.to_string(),
        }),
    }
}

/// `snapshot_every: N`: a number of entries, 0 for never.
fn entry_count(text: &str) -> Result<u64, ValueError> {
    parse_u64(text, "entry count").map_err(|error| match error {
        ParseError::NumberTooLarge { .. } => error.into(),
        _ => ValueError::Expected {
            expected: "a whole number of entries (0: never)",
            text: text.to_string(),
        },
    })
}

/// A whole number past the largest a setting takes.
fn too_large(what: &'static str, text: &str, max: u64) -> ValueError {
    ParseError::NumberTooLarge {
        what,
        text: text.to_string(),
        max,
    }
    .into()
}

fn clock_mode(text: &str) -> Result<ClockMode, ValueError> {
    [ClockMode::Virtual, ClockMode::Realtime, ClockMode::Paused]
        .into_iter()
        .find(|mode| mode.name() == text)
        .ok_or_else(|| ValueError::Expected {
            expected: "virtual, realtime or paused",
            text: text.to_string(),
        })
}

fn speed(text: &str) -> Result<f64, ValueError> {
    let speed = parse_decimal(text, "speed")?;
    if speed <= 0.0 {
        return Err(ParseError::SpeedNotPositive {
            text: text.to_string(),
        }
        .into());
    }
    Ok(speed)
}

/// A setting's boolean: `true` or `false`, and YAML 1.1's other spellings of them (`on`,
/// `off`, `yes`, `no`, `y`, `n`), in any case.
fn boolean(text: &str) -> Result<bool, ValueError> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" | "y" => Ok(true),
        "false" | "off" | "no" | "n" => Ok(false),
        _ => Err(ValueError::Expected {
            expected: "true or false",
            text: text.to_string(),
        }),
    }
}

// ---- the steps --------------------------------------------------------------------------

fn read_steps(
    docs: &[Spanned<Shape<StepDoc>>],
    config: &ClusterConfig,
    problems: &mut Problems,
) -> Vec<Step> {
    // The cluster's nodes, and those `add` steps host from then on.
    let mut ids: Vec<NodeId> = (1..=config.nodes).collect();
    // How the clock moves at each step: `pause` stops it, `resume` runs it in real time.
    let mut clock = config.clock;
    let mut steps = Vec::with_capacity(docs.len());
    for doc in docs {
        let step_at = at(doc);
        let Some(step) = good(doc, "step", problems) else {
            continue;
        };
        let (kind, line) = match step {
            StepDoc::Say(text) => match good(text, "say", problems) {
                Some(text) => (StepKind::Say(text.0.clone()), String::new()),
                None => continue,
            },
            StepDoc::Pause(text) => match good(text, "pause", problems) {
                Some(text) => (StepKind::Pause(text.0.clone()), String::new()),
                None => continue,
            },
            StepDoc::Keys(keys) => {
                problems.push((step_at, step_keys_problem(keys)));
                continue;
            }
            StepDoc::Line(line) => match command_step(line.trim(), &ids) {
                Ok(kind) => {
                    match &kind {
                        StepKind::Command(Command::Add { node }) => ids.push(*node),
                        StepKind::Command(Command::Pause) => clock = ClockMode::Paused,
                        StepKind::Command(Command::Resume) => clock = ClockMode::Realtime,
                        StepKind::Command(command)
                            if clock == ClockMode::Realtime && command.needs_stopped_clock() =>
                        {
                            problems.push((step_at, Problem::ClockRunning(command.name())));
                            continue;
                        }
                        _ => {}
                    }
                    (kind, line.trim().to_string())
                }
                Err(problem) => {
                    problems.push((step_at, problem));
                    continue;
                }
            },
        };
        steps.push(Step {
            kind,
            at: step_at,
            line,
        });
    }
    steps
}

/// What is wrong with a step's mapping keys: the first key that is neither `say` nor
/// `pause`, else the second key.
fn step_keys_problem(keys: &[String]) -> Problem {
    const STEP_KEYS: [&str; 2] = ["say", "pause"];
    match keys.iter().find(|key| !STEP_KEYS.contains(&key.as_str())) {
        Some(unknown) => unknown_key(unknown, &STEP_KEYS),
        None => Problem::ExtraStepKey(keys.get(1).cloned().unwrap_or_default()),
    }
}

fn command_step(line: &str, ids: &[NodeId]) -> Result<StepKind, Problem> {
    let lines = line.lines().count();
    if lines > 1 {
        return Err(Problem::MultiLine(lines));
    }
    match parse(line) {
        Ok(Some(Command::Say { text })) => Ok(StepKind::Say(text)),
        Ok(Some(Command::Quit)) => Err(Problem::Quit),
        Err(ParseError::TryQuit) => Err(Problem::Quit),
        Ok(Some(command)) => match command.check_nodes(ids) {
            Ok(()) => Ok(StepKind::Command(command)),
            Err(error) => Err(Problem::Node(error)),
        },
        Ok(None) => Err(Problem::EmptyStep),
        Err(error) => Err(Problem::Command(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Scenario, LoadError> {
        load_str("t.yaml", "t", text)
    }

    fn only_problem(text: &str) -> (Position, Problem) {
        match load(text) {
            Err(LoadError::Problems { mut problems, .. }) if problems.len() == 1 => {
                problems.remove(0)
            }
            other => panic!("expected one problem, got {other:?}"),
        }
    }

    /// A step that needs a stopped clock on a realtime clock would fail when reached: it is
    /// refused at load, unless a `pause` comes before it (and again after a `resume`).
    #[test]
    fn a_step_that_needs_a_stopped_clock_is_refused_where_the_clock_runs() {
        let text = "cluster: { clock: realtime }\nsteps:\n  - wait leader\n  - step\n  - pause\n  \
                    - step\n  - run 5ms\n  - resume\n  - deliver 3\n  - try tick 1\n";
        let Err(LoadError::Problems { problems, .. }) = load(text) else {
            panic!("loaded");
        };
        let found: Vec<_> = problems
            .iter()
            .map(|(at, p)| (at.line, p.clone()))
            .collect();
        assert_eq!(
            found,
            [
                (4, Problem::ClockRunning("step")),
                (9, Problem::ClockRunning("deliver"))
            ]
        );
        assert!(load("cluster: { clock: virtual }\nsteps:\n  - step\n  - run 5ms\n").is_ok());
    }

    /// `name: ""` loaded, and its runs were told of as `==   FILE` and `✓  passed`.
    #[test]
    fn an_empty_name_is_refused_where_it_is() {
        let (at, problem) = only_problem("steps:\n  - status\nname: \"  \"\n");
        assert_eq!((at.line, at.column, problem), (3, 7, Problem::EmptyName));
    }

    #[test]
    fn an_empty_file_is_the_default_cluster_on_a_virtual_clock() {
        let scenario = load("").expect("loads");
        assert_eq!(scenario.name, "t");
        assert_eq!(scenario.config.nodes, 5);
        assert_eq!(scenario.config.clock, ClockMode::Virtual);
        assert!(scenario.steps.is_empty());
    }

    #[test]
    fn settings_are_read_with_the_command_languages_spellings() {
        let text = "cluster:\n  nodes: 7\n  election_timeout: 200ms\n  heartbeat: 20\n  \
                    network: { delay: 2ms, drop: 0.25, reorder: on }\n  clock: paused\n";
        let config = load(text).expect("loads").config;
        assert_eq!(config.nodes, 7);
        assert_eq!(config.clock, ClockMode::Paused);
        let raft = &config.raft;
        assert_eq!(raft.election_timeout_min_us, 200_000);
        assert_eq!(raft.election_timeout_max_us, 200_000);
        assert_eq!(raft.heartbeat_us, 20_000);
        assert_eq!(config.network.delay_min_us, 2_000);
        assert_eq!(config.network.drop, 0.25);
        assert!(config.network.reorder);
    }

    /// YAML 1.1 read `n`, `no`, `off` and `yes` as booleans: here they are text where text
    /// is wanted, as is a number, and still booleans for the settings that take one.
    #[test]
    fn words_yaml_1_1_read_as_booleans_are_text_and_settings_still_take_them() {
        let text = "name: n\ncluster:\n  raft: { prevote: yes, check_quorum: No }\n  \
                    network: { reorder: Y }\nsteps:\n  - say: off\n  - say: 12\n  - pause: YES\n";
        let scenario = load(text).expect("loads");
        assert_eq!(scenario.name, "n");
        assert!(scenario.config.raft.prevote);
        assert!(!scenario.config.raft.check_quorum);
        assert!(scenario.config.network.reorder);
        let kinds: Vec<&StepKind> = scenario.steps.iter().map(|s| &s.kind).collect();
        assert_eq!(kinds[0], &StepKind::Say("off".to_string()));
        assert_eq!(kinds[1], &StepKind::Say("12".to_string()));
        assert_eq!(kinds[2], &StepKind::Pause("YES".to_string()));
    }

    #[test]
    fn steps_are_commands_narration_and_pauses() {
        let text = "steps:\n  - put x 1\n  - say Hello\n  - say: Hi\n  - pause: Look\n";
        let steps = load(text).expect("loads").steps;
        let kinds: Vec<&StepKind> = steps.iter().map(|s| &s.kind).collect();
        assert!(matches!(
            kinds[0],
            StepKind::Command(Command::Client { .. })
        ));
        assert_eq!(kinds[1], &StepKind::Say("Hello".to_string()));
        assert_eq!(kinds[2], &StepKind::Say("Hi".to_string()));
        assert_eq!(kinds[3], &StepKind::Pause("Look".to_string()));
        assert_eq!(steps[0].at, Position { line: 2, column: 5 });
        assert_eq!(steps[0].line, "put x 1");
    }

    #[test]
    fn a_hosted_scenario_is_one_error_that_says_how_to_play_it() {
        let (at, problem) = only_problem("name: x\nhost:\n  command: [prog]\nsteps:\n  - status\n");
        assert_eq!(at, Position { line: 2, column: 1 });
        assert_eq!(problem, Problem::Hosted);
        assert!(problem.to_string().contains("raftlab run FILE"));
    }

    #[test]
    fn a_far_off_key_gets_no_suggestion() {
        let (at, problem) = only_problem("colour: red\n");
        assert_eq!(at, Position { line: 1, column: 1 });
        assert!(matches!(
            problem,
            Problem::UnknownKey {
                suggestion: None,
                ..
            }
        ));
    }

    #[test]
    fn a_heartbeat_slower_than_the_election_timeout_is_refused_at_the_heartbeat() {
        let (at, problem) = only_problem("cluster:\n  heartbeat: 1s\n");
        assert_eq!(
            at,
            Position {
                line: 2,
                column: 14
            }
        );
        assert!(matches!(
            problem,
            Problem::Value {
                key: "cluster.heartbeat",
                ..
            }
        ));
    }

    #[test]
    fn a_blank_command_step_is_refused() {
        let (_, problem) = only_problem("steps:\n  - '# just a comment'\n");
        assert_eq!(problem, Problem::EmptyStep);
    }

    /// A step with two keys is one problem among the others: the file's other mistakes
    /// are all reported with it, each where it is.
    #[test]
    fn a_step_with_two_keys_is_reported_with_the_other_problems() {
        let text = "name: l\ncluster:\n  nodes: 3\nsteps:\n  - put x\n  - [kill 1]\n  \
                    - {say: hi, pause: x}\n  - \"kill 9\"\n  - {sya: hi}\n";
        let Err(LoadError::Problems { problems, .. }) = load(text) else {
            panic!("the file loaded");
        };
        let lines: Vec<_> = problems.iter().map(|(at, _)| at.line).collect();
        assert_eq!(lines, [5, 6, 7, 8, 9]);
        assert_eq!(problems[2].1, Problem::ExtraStepKey("pause".to_string()));
        assert!(matches!(
            &problems[4].1,
            Problem::UnknownKey { key, suggestion: Some(s), .. } if key == "sya" && s == "say"
        ));
    }

    /// A whole number too large is quoted as written (YAML rounds one past u64 to a
    /// float), with the largest the setting or command takes.
    #[test]
    fn a_number_too_large_is_quoted_as_written_with_its_maximum() {
        let text = "cluster:\n  seed: 18446744073709551616\n  \
                    raft: { max_inflight_appends: 18446744073709551615 }\n\
                    steps:\n  - step 18446744073709551616\n";
        let Err(LoadError::Problems { problems, .. }) = load(text) else {
            panic!("the file loaded");
        };
        let messages: Vec<String> = problems.iter().map(|(_, p)| p.to_string()).collect();
        assert_eq!(
            messages,
            [
                "cluster.seed: bad seed '18446744073709551616': too large, at most \
                 18446744073709551615",
                "cluster.raft.max_inflight_appends: bad message count '18446744073709551615': \
                 too large, at most 4294967295",
                "bad command: bad step count '18446744073709551616': too large, at most \
                 18446744073709551615",
            ]
        );
    }

    /// A `quit` step would end the run with the steps after it unrun, and the run passed.
    #[test]
    fn quit_as_a_step_is_refused() {
        let text = "steps:\n  - status\n  - quit\n  - try quit\n  - expect leader\n";
        let Err(LoadError::Problems { problems, .. }) = load(text) else {
            panic!("a quit step loaded");
        };
        let at: Vec<_> = problems.iter().map(|(at, _)| at.line).collect();
        assert_eq!(at, [3, 4]);
        assert!(
            problems
                .iter()
                .all(|(_, problem)| *problem == Problem::Quit)
        );
    }
}
