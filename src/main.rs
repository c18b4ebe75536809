//! The command line: wires the options to the REPL, scenario files and checks.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use raftlab::cluster::{
    ClockMode, ClusterConfig, NetworkConfig, REPL_SNAPSHOT_EVERY, bench, experiment,
};
use raftlab::raft::{Bug, RaftConfig};
use raftlab::repl::bench_output;
use raftlab::repl::check_output::{self, CheckArgs};
use raftlab::repl::command::TraceLevel;
use raftlab::repl::scenario::{self, RunOptions, SvgOutput};
use raftlab::repl::session::Session;
use raftlab::repl::shell;
use raftlab::repl::watch::WatchOptions;

/// The allocator: the nodes allocate what the scheduler thread frees (entries, reports,
/// messages), which the system allocator serves slowly across threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
        /// Scenario files (YAML), played in order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Wait for Enter before each step.
        #[arg(long)]
        step: bool,
        /// Print the full event trace.
        #[arg(long)]
        trace: bool,
        /// Print the event stream as JSON Lines instead of text (schema in
        /// src/repl/render/export/json.rs).
        #[arg(long)]
        json: bool,
        /// Write each file's message sequence diagram to DIR/NAME.svg.
        #[arg(long, value_name = "DIR")]
        svg: Option<PathBuf>,
        /// With --svg: 1280x720 slides DIR/NAME-01.svg, ... (and PNGs) instead.
        #[arg(long, requires = "svg")]
        slides: bool,
    },
    /// Randomized fault-injection runs that check safety and linearizability.
    Check(CheckArgs),
    /// Bounded model checking of the Raft core: every interleaving within bounds.
    Explore(raftlab::explore::ExploreArgs),
    /// Throughput and latency of a realtime cluster.
    Bench(BenchArgs),
    /// Experiments, such as the election-time experiment of the Raft paper.
    Experiment {
        #[command(subcommand)]
        which: ExperimentSub,
    },
    /// Checks histories from files for linearizability (Porcupine, Jepsen, raftlab JSON
    /// lines). Exit status: 0 linearizable, 1 not, 2 bad input, 3 undecided in time; with
    /// several files, the first that applies: 1 if any file is not linearizable, else 2 if
    /// any is bad input, else 3 if any is undecided, else 0.
    Lincheck(raftlab::lincheck::tool::LincheckArgs),
    /// The live full-screen view of a cluster, or a lesson (FILE) played as slides.
    Watch(WatchArgs),
    /// Runs N copies of any program that speaks Maelstrom's protocol, with clients, a
    /// nemesis and the linearizability checker. Exit status: 0 linearizable, 1 not, 2 bad
    /// input or a program that cannot start (no node answered init).
    Host(raftlab::host::HostArgs),
    /// The project's own Maelstrom lin-kv node (stdin/stdout), for `raftlab host`.
    #[command(hide = true)]
    Node(raftlab::host::NodeArgs),
    /// Prints shell completions.
    Completions { shell: clap_complete::Shell },
}

#[derive(clap::Args)]
struct WatchArgs {
    /// A lesson (scenario file) to play as slides; its file sets the cluster.
    file: Option<PathBuf>,
    /// How many nodes.
    #[arg(long, default_value_t = 5)]
    nodes: u64,
    /// The seed every random choice derives from.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Speed: 0.05 shows an election over a few seconds; a lesson's steps are held as
    /// long as their cluster time takes at this speed.
    #[arg(long, default_value_t = 0.05)]
    speed: f64,
    /// How cluster time moves (space pauses and resumes).
    #[arg(long, value_enum, default_value_t = WatchClock::Realtime)]
    clock: WatchClock,
    /// Message delay range, slower than the REPL's so that messages are seen moving.
    #[arg(long, default_value = "10ms..15ms", value_parser = duration_range_arg)]
    delay: (u64, u64),
}

#[derive(Clone, Copy, ValueEnum)]
enum WatchClock {
    Realtime,
    Virtual,
    Paused,
}

/// `raftlab watch ...`.
fn watch(args: &WatchArgs, color: ColorWhen) -> u8 {
    let clock = match args.clock {
        WatchClock::Realtime => ClockMode::Realtime,
        WatchClock::Virtual => ClockMode::Virtual,
        WatchClock::Paused => ClockMode::Paused,
    };
    let config = ClusterConfig {
        nodes: args.nodes,
        seed: args.seed,
        clock,
        speed: args.speed,
        network: NetworkConfig {
            delay_min_us: args.delay.0,
            delay_max_us: args.delay.1,
            ..NetworkConfig::default()
        },
        raft: RaftConfig {
            snapshot_every: REPL_SNAPSHOT_EVERY,
            ..RaftConfig::default()
        },
        ..Default::default()
    };
    let color = match color {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => std::env::var_os("NO_COLOR").is_none(),
    };
    let options = WatchOptions {
        color,
        lesson_speed: args.speed,
    };
    raftlab::repl::watch::start(args.file.as_deref(), config, options) as u8
}

fn main() -> ExitCode {
    restore_broken_pipe_default();
    if let Some(error) = mistyped_command() {
        eprintln!("error: {error}");
        return ExitCode::from(2);
    }
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
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
        Some(Sub::Run {
            files,
            step,
            trace,
            json,
            svg,
            slides,
        }) => {
            let svg = svg.as_deref().map(|dir| SvgOutput { dir, slides });
            run(&files, RunOptions { step, trace, json }, svg)
        }
        Some(Sub::Check(args)) => check_output::run(&args) as u8,
        Some(Sub::Explore(args)) => raftlab::explore::run(&args),
        Some(Sub::Bench(args)) => bench(&args),
        Some(Sub::Lincheck(args)) => raftlab::lincheck::tool::run(&args),
        Some(Sub::Host(args)) => raftlab::host::run::run(&args),
        Some(Sub::Node(args)) => raftlab::host::node::run(&args),
        Some(Sub::Experiment { which }) => experiment(&which),
        Some(Sub::Watch(args)) => watch(&args, cli.color),
        None => match &cli.file {
            // `raftlab --nodes 3 check`: a command after the options, taken for a file.
            Some(file) if !file.exists() && is_command(file) => {
                eprintln!(
                    "error: '{}' is a command: its options go after it (raftlab {} --help)",
                    file.display(),
                    file.display()
                );
                2
            }
            Some(file) => match cluster_flags_given(&matches).as_slice() {
                [] => open_file(file),
                given => {
                    eprintln!(
                        "error: {} would set up a new cluster, but {} brings its own: change \
                         its `cluster:` section, or leave the file out",
                        given.join(", "),
                        file.display()
                    );
                    2
                }
            },
            None => repl(&cli.cluster),
        },
    };
    ExitCode::from(code)
}

#[derive(clap::Args)]
struct BenchArgs {
    /// How many nodes.
    #[arg(long, default_value_t = 3)]
    nodes: u64,
    /// How many clients, each with one operation outstanding at all times.
    #[arg(long, default_value_t = 64)]
    clients: u64,
    /// How long to measure (wall time): 3s, 500ms (a bare number is ms).
    #[arg(long, default_value = "3s", value_parser = duration_arg)]
    duration: std::time::Duration,
    /// The seed every random choice derives from.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How the clients run: in a closed loop inside the driver, or one thread each.
    #[arg(long, value_enum, default_value_t = Driver::Loop)]
    driver: Driver,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Driver {
    Loop,
    Threads,
}

fn duration_arg(text: &str) -> Result<std::time::Duration, String> {
    raftlab::repl::parse::parse_duration(text)
        .map(std::time::Duration::from_micros)
        .map_err(|e| e.to_string())
}

/// `raftlab bench`.
fn bench(args: &BenchArgs) -> u8 {
    let config = bench::BenchConfig {
        nodes: args.nodes,
        clients: args.clients,
        duration: args.duration,
        seed: args.seed,
        driver: match args.driver {
            Driver::Loop => bench::LoadDriver::Loop,
            Driver::Threads => bench::LoadDriver::Threads,
        },
    };
    if config.driver == bench::LoadDriver::Threads && config.clients <= bench::MOST_CLIENT_THREADS {
        eprintln!(
            "starting {} client threads; the {:?} window begins once they all run",
            config.clients, config.duration
        );
    }
    let report = match bench::run(&config) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("error: {error}");
            return 2;
        }
    };
    if args.json {
        println!("{}", bench_output::bench_json(&report));
    } else {
        print!("{}", bench_output::bench_text(&report));
    }
    if report.agreement.holds() { 0 } else { 1 }
}

#[derive(Subcommand)]
enum ExperimentSub {
    /// Time to elect a new leader after the leader crashes (the Raft paper's Figure 16).
    Election(ElectionArgs),
}

#[derive(clap::Args)]
struct ElectionArgs {
    /// Trials per timeout range (a range without randomness gets a tenth).
    #[arg(long, default_value_t = 1000)]
    trials: u32,
    /// Election timeout ranges in milliseconds, MIN-MAX, separated by commas.
    #[arg(long, default_value = experiment::PAPER_RANGES)]
    timeouts: String,
    /// The seed every trial's seed derives from.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The one-way network delay of every message, drawn uniformly from this range. The
    /// default stands for the time from a candidate's timeout to its RequestVote reaching
    /// the others in the paper's cluster: a LAN hop plus the candidate's own disk write.
    /// The paper's 15ms broadcast time was mostly the voters' disk writes, which do not
    /// make votes split; half of it on every hop (5ms..10ms) makes them split every round.
    #[arg(long, default_value = "2ms..3ms", value_parser = duration_range_arg)]
    delay: (u64, u64),
    /// How long after the crash a trial may run before it counts as not converging
    /// (`10s`, `500ms`; a bare number is ms).
    #[arg(long, default_value = "10s", value_parser = duration_arg)]
    limit: std::time::Duration,
    /// Write the cumulative distributions as an SVG chart to this file.
    #[arg(long)]
    svg: Option<PathBuf>,
}

fn duration_range_arg(text: &str) -> Result<(u64, u64), String> {
    raftlab::repl::parse::parse_duration_range(text, true).map_err(|e| e.to_string())
}

/// `raftlab experiment ...`.
fn experiment(which: &ExperimentSub) -> u8 {
    let ExperimentSub::Election(args) = which;
    if args.trials == 0 {
        eprintln!("error: --trials must be at least 1");
        return 2;
    }
    if args.limit.is_zero() {
        eprintln!("error: --limit must be more than 0s: no trial could converge");
        return 2;
    }
    let ranges = match experiment::parse_ranges(&args.timeouts) {
        Ok(ranges) => ranges,
        Err(error) => {
            eprintln!("error: {error}");
            return 2;
        }
    };
    let setup = experiment::ElectionSetup {
        trials: args.trials,
        seed: args.seed,
        delay_min_us: args.delay.0,
        delay_max_us: args.delay.1,
        limit_us: args.limit.as_micros().min(u128::from(u64::MAX)) as u64,
    };
    let bar = bench_output::progress_bar(experiment::total_trials(&setup, &ranges));
    let results = experiment::run(&setup, &ranges, &mut || bar.inc(1));
    bar.finish_and_clear();
    let results = match results {
        Ok(results) => results,
        Err(error) => {
            eprintln!("error: {error} (seed {})", args.seed);
            return 2;
        }
    };
    print!("{}", bench_output::election_text(&setup, &results));
    if let Some(path) = &args.svg {
        if let Err(error) = bench_output::write_election_svg(path, &setup, &results) {
            eprintln!("error: could not write {}: {error}", path.display());
            return 2;
        }
        println!("wrote {}", path.display());
    }
    0
}

/// A closed stdout (`raftlab completions bash | head -1`) ends raftlab quietly, with the
/// status of a process ended by SIGPIPE (141 in a shell), as for any Unix tool: Rust
/// ignores SIGPIPE, which turns every later `println!` into a panic, so the default is put
/// back. (Whoever later writes to a child's pipe must not let a dead child end raftlab:
/// such a writer ignores SIGPIPE for itself, or handles EPIPE.)
fn restore_broken_pipe_default() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to the default, before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
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
            snapshot_every: REPL_SNAPSHOT_EVERY,
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

/// A first argument that is not a file, but a command misspelt (`raftlab chek --seeds
/// 3`): said so, with the command meant. Otherwise the word would be taken for a scenario
/// file, and the error would be about the options after it.
fn mistyped_command() -> Option<String> {
    let word = std::env::args_os().nth(1)?.into_string().ok()?;
    if word.starts_with('-') || Path::new(&word).exists() {
        return None;
    }
    let command = Cli::command();
    // A hidden command (`node`) is a command too, but never the one suggested.
    if is_command(Path::new(&word)) {
        return None;
    }
    let names: Vec<String> = command
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set())
        .map(|sub| sub.get_name().to_string())
        .chain(["help".to_string()])
        .collect();
    if names.contains(&word) {
        return None;
    }
    let lower = word.to_lowercase();
    let (distance, best) = names
        .iter()
        .map(|name| (raftlab::repl::table::edit_distance(&lower, name), name))
        .min()?;
    (distance <= 2 && distance < word.chars().count())
        .then(|| format!("unknown command '{word}' (did you mean '{best}'?)"))
}

/// Whether `word` names one of the subcommands.
fn is_command(word: &Path) -> bool {
    let command = Cli::command();
    let mut names = command.get_subcommands().map(|sub| sub.get_name());
    word.to_str()
        .is_some_and(|word| names.any(|name| name == word))
}

/// The cluster options typed on the command line (not left at their defaults), as typed.
fn cluster_flags_given(matches: &ArgMatches) -> Vec<String> {
    let flags = [
        ("nodes", "--nodes"),
        ("seed", "--seed"),
        ("clock", "--clock"),
        ("speed", "--speed"),
        ("bugs", "--bug"),
    ];
    flags
        .iter()
        .filter(|(id, _)| matches.value_source(id) == Some(ValueSource::CommandLine))
        .map(|(_, flag)| flag.to_string())
        .collect()
}

/// `raftlab FILE`: the file's cluster and steps, then the REPL on that cluster.
fn open_file(file: &Path) -> u8 {
    let (mut session, played) = match scenario::open(file) {
        Ok(opened) => opened,
        Err(code) => return code as u8,
    };
    let code = if std::io::stdin().is_terminal() {
        session.set_trace(TraceLevel::Changes);
        shell::interactive(session)
    } else {
        session.set_trace(TraceLevel::Off);
        shell::piped(session, std::io::stdin().lock())
    };
    code.max(played) as u8
}

/// `raftlab run FILE...`.
fn run(files: &[PathBuf], options: RunOptions, svg: Option<SvgOutput>) -> u8 {
    // Files with a `host:` section run against hosted programs.
    let (hosted, files): (Vec<PathBuf>, Vec<PathBuf>) = files
        .iter()
        .cloned()
        .partition(|f| raftlab::host::scenario::is_hosted(f));
    let hosted_status = match hosted.is_empty() {
        true => 0,
        false => raftlab::host::scenario::run(&hosted),
    };
    if files.is_empty() {
        return hosted_status;
    }
    let files = &files[..];
    let (stdout, stderr, stdin) = (std::io::stdout(), std::io::stderr(), std::io::stdin());
    let result = scenario::run(
        files,
        options,
        svg,
        &mut stdout.lock(),
        &mut stderr.lock(),
        &mut stdin.lock(),
    );
    io_status(result).max(hosted_status)
}

/// The exit status of a run that may have failed to write: a closed pipe is not an error.
fn io_status(result: std::io::Result<i32>) -> u8 {
    match result {
        Ok(code) => code as u8,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(error) => {
            eprintln!("error: {error}");
            2
        }
    }
}
