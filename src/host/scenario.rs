//! Scenario files for a hosted cluster: the scenario format (DESIGN.md "Scenario files")
//! with a `host:` section in place of `cluster:`, played by `raftlab run FILE`.
//!
//! ```yaml
//! name: hosted-failover
//! host:
//!   command: [raftlab, node]   # the program and its arguments; `raftlab` is this raftlab
//!   nodes: 3                   # default 3
//!   workload: lin-kv           # lin-kv (default) | echo
//!   clients: 0                 # clients running the workload meanwhile (default 0)
//!   rate: 10                   # their operations per second
//!   keys: 3
//!   seed: 1
//!   network: { delay: 1ms..5ms, drop: 0.0, duplicate: 0.0 }
//! steps:
//!   - wait leader within 3s
//!   - put 1 5
//!   - kill leader
//!   - wait leader within 5s
//!   - expect get 1 == 5
//!   - expect safe              # the clients' history so far is linearizable
//! ```
//!
//! Choices: the program's first word `raftlab` means the running raftlab itself (so an
//! example needs no install); a relative path with a `/` (`./node.py`) is taken from the
//! file's folder, anything else from `PATH`. Every step is read by the command language's
//! parser (and the host's words `pause N`, `resume N`, `logs N`) and its nodes checked
//! before any program starts; a problem names the file, line and column. A step that
//! fails (an `expect`, a `wait`, a command a hosted cluster cannot do) fails the file; so
//! does a history that is not linearizable at the end. Then the host's summary follows.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;
use thiserror::Error;

use super::clients::Workload;
use super::run::{Host, HostArgs};
use super::session::HostSession;
use super::{summary, tell};
use crate::raft::NodeId;
use crate::repl::command::parse;

/// What stops a hosted scenario before it runs.
#[derive(Debug, Error)]
pub enum ScenarioError {
    #[error("{file}: {reason}")]
    Read { file: String, reason: String },
    #[error("{file}:{line}:{column}: {problem}")]
    Problem {
        file: String,
        line: u64,
        column: u64,
        problem: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    name: Option<String>,
    description: Option<String>,
    host: HostDoc,
    #[serde(default)]
    steps: Vec<Spanned<StepDoc>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostDoc {
    command: Vec<String>,
    nodes: Option<usize>,
    workload: Option<String>,
    clients: Option<usize>,
    rate: Option<f64>,
    keys: Option<u64>,
    seed: Option<u64>,
    network: Option<NetworkDoc>,
    timeout: Option<String>,
    init_timeout: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworkDoc {
    delay: Option<String>,
    drop: Option<f64>,
    duplicate: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum StepDoc {
    Line(String),
    Say { say: String },
    Pause { pause: String },
}

#[derive(Debug, Deserialize)]
struct Probe {
    host: Option<serde::de::IgnoredAny>,
}

/// Whether the file at `path` is a hosted scenario (it has a `host:` section).
pub fn is_hosted(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    serde_saphyr::from_str::<Probe>(&text).is_ok_and(|probe| probe.host.is_some())
}

/// A loaded hosted scenario: the host's options and the steps, each checked.
pub struct HostScenario {
    pub file: String,
    pub name: String,
    pub description: Option<String>,
    pub args: HostArgs,
    /// The steps: a command line, or narration (`say:`, `pause:`).
    pub steps: Vec<(String, bool)>,
}

/// Reads and checks a hosted scenario.
pub fn load(path: &Path) -> Result<HostScenario, ScenarioError> {
    let file = path.display().to_string();
    let read = |reason: String| ScenarioError::Read {
        file: file.clone(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| read(e.to_string()))?;
    let doc: FileDoc = serde_saphyr::from_str(&text).map_err(|e| read(e.to_string()))?;
    let args = host_args(&doc.host, path).map_err(read)?;
    let ids: Vec<NodeId> = (1..=args.nodes as NodeId).collect();
    let mut steps = Vec::new();
    for step in &doc.steps {
        let problem = |problem: String| ScenarioError::Problem {
            file: file.clone(),
            line: step.referenced.line(),
            column: step.referenced.column().max(1),
            problem,
        };
        match &step.value {
            StepDoc::Say { say } | StepDoc::Pause { pause: say } => {
                steps.push((say.trim().to_string(), false));
            }
            StepDoc::Line(line) => {
                let line = line.trim();
                check_step(line, &ids).map_err(problem)?;
                steps.push((line.to_string(), true));
            }
        }
    }
    if steps.is_empty() {
        return Err(read("a hosted scenario needs steps".to_string()));
    }
    let name = doc.name.unwrap_or_else(|| {
        path.file_stem()
            .map_or("scenario".to_string(), |s| s.to_string_lossy().into_owned())
    });
    Ok(HostScenario {
        file,
        name,
        description: doc.description,
        args,
        steps,
    })
}

/// Checks a step's syntax and nodes, as the REPL would read it.
fn check_step(line: &str, ids: &[NodeId]) -> Result<(), String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    if let ["pause" | "resume" | "logs", node] = words.as_slice() {
        let id = node.trim_start_matches('n').parse::<NodeId>();
        return match id {
            Ok(id) if ids.contains(&id) => Ok(()),
            _ if *node == "leader" => Ok(()),
            _ => Err(format!("'{node}' is not a node of the hosted cluster")),
        };
    }
    match parse(line) {
        Ok(Some(command)) => command.check_nodes(ids).map_err(|e| e.to_string()),
        Ok(None) => Err("an empty step".to_string()),
        Err(error) => Err(error.to_string()),
    }
}

fn host_args(doc: &HostDoc, path: &Path) -> Result<HostArgs, String> {
    let mut command = doc.command.clone();
    let Some(program) = command.first_mut() else {
        return Err("host.command names no program".to_string());
    };
    *program = program_path(program, path)?;
    let workload = match doc.workload.as_deref() {
        None | Some("lin-kv") => Workload::LinKv,
        Some("echo") => Workload::Echo,
        Some(other) => return Err(format!("host.workload: '{other}' is not lin-kv or echo")),
    };
    let clients = doc.clients.unwrap_or(0);
    let network = doc.network.as_ref();
    Ok(HostArgs {
        nodes: doc.nodes.unwrap_or(3),
        workload,
        // Client c1 also carries the steps' own operations.
        clients: clients.max(1),
        rate: doc.rate.unwrap_or(10.0),
        keys: doc.keys.unwrap_or(3),
        time: if clients > 0 { u64::MAX / 4 } else { 0 },
        nemesis: Vec::new(),
        interval: 2_000_000,
        delay: network
            .and_then(|n| n.delay.clone())
            .unwrap_or("1ms..5ms".to_string()),
        drop: network.and_then(|n| n.drop).unwrap_or(0.0),
        dup: network.and_then(|n| n.duplicate).unwrap_or(0.0),
        timeout: duration(doc.timeout.as_deref(), "host.timeout", 1_000_000)?,
        init_timeout: match doc.init_timeout.as_deref() {
            None => 5_000_000,
            Some(text) => super::run::parse_init_timeout(text)
                .map_err(|e| format!("host.init_timeout: {e}"))?,
        },
        seed: doc.seed.unwrap_or(1),
        out: None,
        interactive: clients == 0,
        watch: false,
        command,
    })
}

fn duration(text: Option<&str>, key: &str, default: u64) -> Result<u64, String> {
    match text {
        None => Ok(default),
        Some(text) => crate::repl::parse::parse_duration(text).map_err(|e| format!("{key}: {e}")),
    }
}

/// The program to start: `raftlab` is this raftlab; a relative path with a `/` is taken
/// from the scenario file's folder.
fn program_path(program: &str, file: &Path) -> Result<String, String> {
    if program == "raftlab" {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find raftlab: {e}"))?;
        return Ok(exe.display().to_string());
    }
    let path = PathBuf::from(program);
    if path.is_relative() && program.contains('/') {
        let dir = file.parent().unwrap_or(Path::new("."));
        return Ok(dir.join(path).display().to_string());
    }
    Ok(program.to_string())
}

/// Plays a hosted scenario, printing each step and its answer, then the host's summary.
/// The exit status: 0 every step held and the history is linearizable; 1 not; 2 the
/// program could not start.
pub fn play(scenario: &HostScenario, out: &mut dyn Write) -> std::io::Result<u8> {
    writeln!(out, "== {}  {} (hosted)", scenario.name, scenario.file)?;
    if let Some(description) = &scenario.description {
        writeln!(out, "   {}", description.trim())?;
    }
    let args = &scenario.args;
    writeln!(
        out,
        "   {} nodes of `{}`, seed {}",
        args.nodes,
        args.command.join(" "),
        args.seed
    )?;
    let mut host = match Host::new(args.clone()) {
        Ok(host) => host,
        Err(error) => {
            writeln!(out, "error: {error}")?;
            return Ok(2);
        }
    };
    host.auto_clients = !args.interactive;
    host.catch_interrupts();
    if let Err(error) = host.start_all() {
        writeln!(out, "error: {error}")?;
        return Ok(2);
    }
    let begun = host.run_until(std::time::Duration::from_micros(args.init_timeout), |h| {
        h.slots.iter().all(|s| s.initialised)
    });
    if !begun {
        writeln!(out, "   not every node answered init in time")?;
    }
    let mut session = HostSession::new(host);
    let mut failed = 0;
    for (line, command) in &scenario.steps {
        if session.host.interrupted() {
            writeln!(out, "interrupted (Ctrl-C)")?;
            failed += 1;
            break;
        }
        if !command {
            writeln!(out, "  » {line}")?;
            continue;
        }
        writeln!(out, "> {line}")?;
        match session.run_line(line) {
            Ok(outcome) => {
                if !outcome.text.is_empty() {
                    writeln!(out, "{}", outcome.text.trim_end())?;
                }
                failed += usize::from(!outcome.passed);
                if outcome.quit {
                    break;
                }
            }
            Err(error) => {
                writeln!(out, "error: {error}")?;
                failed += 1;
            }
        }
    }
    let mut host = session.host;
    host.end_us = host.now_us();
    let code = summary::finish(&mut host);
    host.stop_all();
    let verdict = match (failed, code) {
        (0, 0) => "passed",
        _ => "FAILED",
    };
    writeln!(
        out,
        "{}: {verdict} ({failed} step(s) failed)",
        scenario.name
    )?;
    Ok(if failed > 0 { 1 } else { code })
}

/// `raftlab run` on hosted files: each loaded, then played; the worst status.
pub fn run(paths: &[PathBuf]) -> u8 {
    super::run::ignore_sigpipe();
    let mut loaded = Vec::new();
    for path in paths {
        match load(path) {
            Ok(scenario) => loaded.push(scenario),
            Err(error) => {
                tell(format_args!("error: {error}"));
                return 2;
            }
        }
    }
    let mut worst = 0;
    let mut stdout = std::io::stdout();
    for scenario in &loaded {
        match play(scenario, &mut stdout) {
            Ok(code) => worst = worst.max(code),
            Err(_) => return 2,
        }
    }
    worst
}
