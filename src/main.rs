//! The command line: wires the options to the REPL, scenario files and checks.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use raftlab::cluster::{ClockMode, ClusterConfig};
use raftlab::raft::{Bug, RaftConfig};
use raftlab::repl::checkrun::{self, CheckArgs};
use raftlab::repl::command::TraceLevel;
use raftlab::repl::session::Session;
use raftlab::repl::shell;

const EXAMPLES: &str = "\
Examples:
  raftlab                          open the REPL on a 5-node cluster in real time
  echo 'wait leader' | raftlab     run commands from a pipe
  raftlab --nodes 3 --clock virtual --seed 7
  raftlab run examples/clusters/*.yaml
  raftlab completions bash > /etc/bash_completion.d/raftlab";

/// A Raft cluster playground and REPL.
#[derive(Parser)]
#[command(name = "raftlab", version, about, after_help = EXAMPLES, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Sub>,
    /// A scenario file: load its cluster, play its steps, then open the REPL.
    file: Option<PathBuf>,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// When to colour the output.
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto, global = true)]
    color: ColorWhen,
}

#[derive(clap::Args)]
struct ClusterArgs {
    /// How many nodes.
    #[arg(long, default_value_t = 5)]
    nodes: u64,
    /// The seed every random choice derives from.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How cluster time moves.
    #[arg(long, value_enum, default_value_t = Clock::Realtime)]
    clock: Clock,
    /// Realtime speed: 0.1 is ten times slower than the wall clock.
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Turn on a teaching bug (repeatable), to see what breaks.
    #[arg(long = "bug", value_name = "NAME")]
    bugs: Vec<Bug>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Clock {
    Realtime,
    Virtual,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand)]
enum Sub {
    /// Play scenario files.
    Run {
        files: Vec<PathBuf>,
        /// Wait for Enter before each step.
        #[arg(long)]
        step: bool,
        /// Print the full event trace.
        #[arg(long)]
        trace: bool,
    },
    /// Randomized fault-injection runs that check safety and linearizability.
    Check(CheckArgs),
    /// Throughput and latency of a realtime cluster.
    Bench,
    /// Experiments, such as the election-time experiment of the Raft paper.
    Experiment,
    /// Prints shell completions.
    Completions { shell: clap_complete::Shell },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    set_color(cli.color);
    let code = match cli.command {
        Some(Sub::Completions { shell }) => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "raftlab",
                &mut std::io::stdout(),
            );
            0
        }
        Some(Sub::Run { .. }) => not_built("run"),
        Some(Sub::Check(args)) => checkrun::run(&args) as u8,
        Some(Sub::Bench) => not_built("bench"),
        Some(Sub::Experiment) => not_built("experiment"),
        None if cli.file.is_some() => not_built("raftlab FILE"),
        None => repl(&cli.cluster),
    };
    ExitCode::from(code)
}

fn not_built(what: &str) -> u8 {
    eprintln!("error: `{what}` is not built yet");
    2
}

fn set_color(when: ColorWhen) {
    let on = match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
        }
    };
    colored::control::set_override(on);
}

fn repl(args: &ClusterArgs) -> u8 {
    let clock = match args.clock {
        Clock::Realtime => ClockMode::Realtime,
        Clock::Virtual => ClockMode::Virtual,
    };
    let config = ClusterConfig {
        nodes: args.nodes,
        seed: args.seed,
        clock,
        speed: args.speed,
        raft: RaftConfig {
            bugs: args.bugs.iter().copied().collect(),
            ..RaftConfig::default()
        },
        ..Default::default()
    };
    let mut session = match Session::new(config) {
        Ok(session) => session,
        Err(error) => {
            eprintln!("error: {error}");
            return 2;
        }
    };
    let code = if std::io::stdin().is_terminal() {
        shell::interactive(session)
    } else {
        session.set_trace(TraceLevel::Off);
        shell::piped(session, std::io::stdin().lock())
    };
    code as u8
}
