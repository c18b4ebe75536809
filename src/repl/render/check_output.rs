//! `raftlab check` at the binary's edge: its options, the progress bar, and what it prints.
//! The runs themselves are [`crate::check`]'s.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::check::{
    self, CheckOptions, Failure, FaultKind, RunReport, SeedBudget, ShrinkBudget, Summary,
    reproduce_command,
};
use crate::cluster::{ClockMode, ClusterConfig, MAX_NODES};
use crate::raft::{Bug, LEASE_NEEDS_CHECK_QUORUM, ReadMode};

use crate::repl::command::Command;
use crate::repl::parse::parse_duration;
use crate::repl::scenario::{Header, scenario_yaml};
use crate::repl::session::Session;

/// The options of `raftlab check`.
#[derive(clap::Args, Debug, Clone)]
pub struct CheckArgs {
    /// How many seeds to run, from --first-seed on.
    #[arg(long, default_value_t = 100)]
    pub seeds: u64,
    /// Run this one seed (as a failing seed's replay command does).
    #[arg(long, conflicts_with_all = ["seeds", "first_seed"])]
    pub seed: Option<u64>,
    /// The first seed of --seeds.
    #[arg(long, default_value_t = 1)]
    pub first_seed: u64,
    /// Nodes per cluster [default: drawn per seed, 3, 5 or 7; with --no-swarm, 3 for even
    /// seeds and 5 for odd ones].
    #[arg(long)]
    pub nodes: Option<u64>,
    /// Give every seed the same fixed shape instead of drawing one per seed (swarm
    /// testing draws the fault kinds in play, flow control, timeouts, clients,
    /// snapshots, PreVote, CheckQuorum and the read mode, and the cluster size, from the
    /// seed).
    #[arg(long)]
    pub no_swarm: bool,
    /// The most events one seed may emit before it is stopped and reported as over
    /// budget.
    #[arg(long, value_name = "N", default_value_t = SeedBudget::default().events)]
    pub seed_events: u64,
    /// The most wall time one seed may take before it is stopped and reported as over
    /// budget (`60s`, `1.5s`; a bare number is ms).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub seed_time: u64,
    /// Faults are injected for this long (cluster time) per seed; healing follows
    /// (`10s`, `500ms`; a bare number is ms).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub time: u64,
    /// The faults to inject, comma-separated: kill, partition, cut, loss, delay, dup,
    /// reorder, membership (add, remove and replace nodes; removed nodes are stopped once
    /// the removal commits), snapshot (snapshot N at random moments) [default: all].
    #[arg(long, value_delimiter = ',')]
    pub faults: Vec<FaultKind>,
    /// Turn on a teaching bug (repeatable): commit-previous-term, vote-without-log-check,
    /// forget-vote, skip-prev-check, leader-local-reads, commit-beyond-match,
    /// learners-count, ignore-higher-term-response.
    #[arg(long = "bug")]
    pub bugs: Vec<Bug>,
    /// Run with PreVote on.
    #[arg(long)]
    pub prevote: bool,
    /// Run with CheckQuorum (and leader stickiness) on.
    #[arg(long)]
    pub check_quorum: bool,
    /// How `get` is served: log, read-index or lease (lease needs --check-quorum)
    /// [default: drawn per seed: log, read-index, or lease where CheckQuorum is on; log
    /// with --no-swarm or a teaching bug].
    #[arg(long)]
    pub reads: Option<ReadMode>,
    /// Each node takes a snapshot and compacts its log every N applied entries
    /// (0: never).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub snapshot_every: u64,
    /// Clients per cluster [default: 3 to 5, by seed].
    #[arg(long)]
    pub clients: Option<usize>,
    /// Run every seed, not stopping at the first failure (the first failing seed is the
    /// one explained, shrunk and written).
    #[arg(long)]
    pub keep_going: bool,
    /// Do not shrink a failing seed's schedule before writing it.
    #[arg(long)]
    pub no_shrink: bool,
    /// Where to write the scenario of a failing seed.
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
    /// Worker threads [default: the number of CPUs].
    #[arg(long)]
    pub jobs: Option<usize>,
}

impl CheckArgs {
    fn options(&self) -> CheckOptions {
        let mut options = CheckOptions {
            nodes: self.nodes,
            time_us: self.time,
            bugs: self.bugs.iter().copied().collect(),
            prevote: self.prevote,
            check_quorum: self.check_quorum,
            reads: self.reads,
            snapshot_every: self.snapshot_every,
            clients: self.clients,
            swarm: !self.no_swarm,
            seed_budget: SeedBudget {
                events: self.seed_events,
                // The duration is of cluster time's unit, microseconds.
                wall: Duration::from_micros(self.seed_time),
            },
            ..CheckOptions::default()
        };
        if !self.faults.is_empty() {
            options.faults = self.faults.iter().copied().collect();
        }
        options
    }

    /// The seeds to run, or why the range is not one: no seeds, or seeds past the last u64.
    fn seeds(&self) -> Result<Vec<u64>, String> {
        if let Some(seed) = self.seed {
            return Ok(vec![seed]);
        }
        if self.seeds == 0 {
            return Err("--seeds must be at least 1".to_string());
        }
        let first = self.first_seed;
        match first.checked_add(self.seeds - 1) {
            Some(last) => Ok((first..=last).collect()),
            None => Err(format!(
                "--first-seed {first} with --seeds {} goes past the last seed, {}: \
                 at most {} seed(s) from there",
                self.seeds,
                u64::MAX,
                (u64::MAX - first).saturating_add(1)
            )),
        }
    }
}

/// How often a check without a terminal says how far it has got.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// How far a check without a terminal has got: `… 34 of 40 seeds run in 10s, 0 failed`.
fn progress_line(done: u64, all: u64, elapsed: Duration, failed: u64) -> String {
    let secs = elapsed.as_secs();
    format!("… {done} of {all} seeds run in {secs}s, {failed} failed")
}

fn progress_bar(length: u64) -> ProgressBar {
    let bar = ProgressBar::new(length);
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let template = "{elapsed_precise} [{bar:40}] {pos}/{len} seeds ({per_sec}) {msg}";
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Runs `raftlab check`. Returns the exit status: 0 when every seed held, 1 on a failure,
/// 2 when the options are wrong.
pub fn run(args: &CheckArgs) -> i32 {
    let options = args.options();
    let seeds = match args.seeds() {
        Ok(seeds) => seeds,
        Err(error) => {
            eprintln!("error: {error}");
            return 2;
        }
    };
    if options.nodes.is_some_and(|n| n == 0 || n > MAX_NODES) {
        eprintln!("error: --nodes must be 1 to {MAX_NODES}");
        return 2;
    }
    if args.jobs == Some(0) {
        eprintln!("error: --jobs must be at least 1");
        return 2;
    }
    // Said in the flags' words, and for every seed: a swarm seed may draw CheckQuorum on,
    // and the first seed's shape alone would let the others fail as errors.
    if options.reads == Some(ReadMode::Lease) && !options.check_quorum {
        eprintln!("error: --reads lease needs --check-quorum ({LEASE_NEEDS_CHECK_QUORUM})");
        return 2;
    }
    // Options that cannot work together (such as lease reads without CheckQuorum) are
    // bad input, refused before any seed runs.
    if let Some(&seed) = seeds.first()
        && let Err(error) = check::setup(seed, &options).config.validate()
    {
        eprintln!("error: {error}");
        return 2;
    }
    let workers = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    println!("{}", describe(&options, &seeds, workers));
    let bar = progress_bar(seeds.len() as u64);
    let failures = std::sync::atomic::AtomicU64::new(0);
    // Without a terminal the bar is hidden: a line every PROGRESS_EVERY says how far the
    // check has got instead, so that a long one in a CI log is not silent.
    let started = std::time::Instant::now();
    let told = std::sync::Mutex::new(std::time::Instant::now());
    let quiet = !std::io::stderr().is_terminal();
    let tell_progress = || {
        let mut told = told.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if told.elapsed() >= PROGRESS_EVERY {
            *told = std::time::Instant::now();
            let failed = failures.load(std::sync::atomic::Ordering::Relaxed);
            let (done, all) = (bar.position(), seeds.len() as u64);
            eprintln!("{}", progress_line(done, all, started.elapsed(), failed));
        }
    };
    let on_done = |report: &RunReport| {
        if let Some(failure) = &report.failure {
            let count = failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            bar.set_message(format!("{count} failed"));
            let seed = report.setup.seed;
            bar.suspend(|| match failure {
                Failure::OverBudget(what) => println!("seed {seed} OVER BUDGET: {what}"),
                _ => println!("seed {seed} FAILED: {failure}"),
            });
        }
        bar.inc(1);
        if quiet {
            tell_progress();
        }
    };
    let summary = check::run_seeds(&seeds, &options, workers, !args.keep_going, &on_done);
    bar.finish_and_clear();
    if let Some(first) = summary.failures.first() {
        explain_failure(first, &options, args);
    }
    for report in &summary.over_budget {
        let command = reproduce_command(&report.setup, &options);
        println!(
            "\nseed {} was stopped over budget; run it again: {command}",
            report.setup.seed
        );
    }
    println!("{}", summarize(&summary, &seeds));
    i32::from(!summary.failures.is_empty() || !summary.over_budget.is_empty())
}

fn describe(options: &CheckOptions, seeds: &[u64], workers: usize) -> String {
    let nodes = match (options.nodes, options.swarm) {
        (Some(n), _) => format!("{n} nodes"),
        (None, true) => "3, 5 and 7 nodes".to_string(),
        (None, false) => "3 and 5 nodes".to_string(),
    };
    let range = match (seeds.first(), seeds.last()) {
        (Some(a), Some(b)) if a == b => format!("seed {a}"),
        (Some(a), Some(b)) => format!("seeds {a}..={b}"),
        _ => "no seeds".to_string(),
    };
    let faults: Vec<&str> = options.faults.iter().map(|f| f.name()).collect();
    let shape = match options.swarm {
        true => "swarm: a shape drawn per seed, among ",
        false => "",
    };
    let mut text = format!(
        "raftlab check: {range}, {nodes}, {} of faults each ({shape}{}), {workers} workers",
        check::duration(options.time_us),
        faults.join(", ")
    );
    if !options.bugs.is_empty() {
        let bugs: Vec<&str> = options.bugs.iter().map(|b| b.name()).collect();
        text.push_str(&format!("; teaching bugs on: {}", bugs.join(", ")));
    }
    let on: Vec<&str> = [
        (options.prevote, "prevote"),
        (options.check_quorum, "check-quorum"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    if !on.is_empty() {
        text.push_str(&format!("; options on: {}", on.join(", ")));
    }
    if let Some(reads) = options.reads {
        text.push_str(&format!("; reads: {}", reads.name()));
    }
    if options.snapshot_every > 0 {
        let every = options.snapshot_every;
        text.push_str(&format!("; snapshots every {every} applied entries"));
    }
    text
}

/// Prints a failing seed: what broke, the command that runs it again, and the scenario
/// of its (shrunk) schedule.
fn explain_failure(report: &RunReport, options: &CheckOptions, args: &CheckArgs) {
    let seed = report.setup.seed;
    let Some(failure) = &report.failure else {
        return;
    };
    println!("\nseed {seed} failed: {failure}");
    println!(
        "  run it again: {}",
        reproduce_command(&report.setup, options)
    );
    if let Some(shape) = &report.setup.shape {
        println!("  {shape}");
    }
    let shrunk = if args.no_shrink {
        report.clone()
    } else {
        shrink_with_spinner(report)
    };
    if let (Some(failure), false) = (&shrunk.failure, args.no_shrink) {
        println!("  after shrinking: {failure}");
    }
    let header = Header {
        name: format!("check-seed-{seed}"),
        description: format!(
            "Found by `{}`, {} of its {} actions kept.{}",
            reproduce_command(&report.setup, options),
            shrunk.schedule.len(),
            report.schedule.len(),
            report
                .setup
                .shape
                .as_ref()
                .map_or(String::new(), |shape| format!(" The {shape}."))
        ),
        // The steps are a schedule of `run` steps and commands for a paused clock.
        clock: ClockMode::Paused,
    };
    let steps = shrunk.scenario_steps();
    let text = scenario_yaml(&header, &shrunk.setup.config, &steps);
    if let Err(error) = std::fs::create_dir_all(&args.out) {
        eprintln!("error: cannot create {}: {error}", args.out.display());
    }
    let path = args.out.join(format!("check-seed-{seed}.yaml"));
    match std::fs::write(&path, text) {
        Ok(()) => println!("  scenario: {}", path.display()),
        Err(error) => eprintln!("error: cannot write {}: {error}", path.display()),
    }
    let diagram = args.out.join(format!("check-seed-{seed}.svg"));
    match write_diagram(&shrunk.setup.config, &steps, &diagram) {
        Ok(()) => println!("  diagram: {}", diagram.display()),
        Err(error) => eprintln!("error: no diagram: {error}"),
    }
    if let Some(check::Failure::Linearizability(violation)) = &shrunk.failure {
        let picture = args.out.join(format!("check-seed-{seed}-lincheck.svg"));
        let svg = crate::cluster::linearizability::violation_svg(violation);
        match std::fs::write(&picture, svg) {
            Ok(()) => println!("  violation: {}", picture.display()),
            Err(error) => eprintln!("error: cannot write {}: {error}", picture.display()),
        }
    }
}

/// Replays a failing seed's scenario steps on a paused clock, as `raftlab run` would, and
/// writes the run's message sequence diagram.
fn write_diagram(config: &ClusterConfig, steps: &[String], path: &Path) -> Result<(), String> {
    let config = ClusterConfig {
        clock: ClockMode::Paused,
        ..config.clone()
    };
    let mut session = Session::new(config).map_err(|e| e.to_string())?;
    for line in steps {
        // The run is expected to fail (that is why it is drawn): keep going whatever a
        // step says, as the scenario's own `expect violation` does.
        let _ = session.run_line(line);
    }
    let file = path.to_string_lossy().into_owned();
    session
        .execute(&Command::Export {
            file,
            window_us: None,
        })
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn shrink_with_spinner(report: &RunReport) -> RunReport {
    let spinner = progress_bar(u64::from(ShrinkBudget::default().replays));
    let mut on_replay = |replays: u32, actions: usize| {
        spinner.set_position(u64::from(replays));
        spinner.set_message(format!("shrinking: {actions} actions left"));
    };
    let shrunk = check::shrink(report, ShrinkBudget::default(), &mut on_replay);
    spinner.finish_and_clear();
    if !shrunk.reproduced {
        println!("  warning: the replay did not fail the same way; writing the whole run");
    } else if matches!(report.failure, Some(Failure::Liveness(_))) {
        println!("  not shrunk (a run that does not settle is written whole, heals and all)");
    } else {
        println!(
            "  shrunk from {} to {} actions in {} replays",
            shrunk.original_actions,
            shrunk.report.schedule.len(),
            shrunk.replays
        );
    }
    shrunk.report
}

fn summarize(summary: &Summary, seeds: &[u64]) -> String {
    let seconds = summary.wall.as_secs_f64();
    let rate = summary.seeds_run as f64 / seconds.max(1e-9);
    let mut text = format!(
        "{} of {} seeds run in {seconds:.1}s ({rate:.2} seeds/s): {} failed; {} events, {} \
         hand-offs, {} node steps checked, {} client operations checked for linearizability",
        summary.seeds_run,
        seeds.len(),
        summary.failures.len(),
        summary.events,
        summary.handoffs,
        summary.steps_checked,
        summary.operations
    );
    text.push_str(&format!(
        "; peak load: {} messages in flight, {} events in a second",
        summary.peak_in_flight, summary.peak_events_per_second
    ));
    if !summary.over_budget.is_empty() {
        text.push_str(&format!("; {} over budget", summary.over_budget.len()));
    }
    if summary.undecided > 0 {
        text.push_str(&format!(
            "; linearizability undecided (search budget) on {} seeds",
            summary.undecided
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without a terminal (a CI log), a long check says every few seconds how far it got.
    #[test]
    fn the_progress_line_says_seeds_run_time_and_failures() {
        assert_eq!(
            progress_line(34, 40, Duration::from_millis(10_900), 1),
            "… 34 of 40 seeds run in 10s, 1 failed"
        );
    }
}
