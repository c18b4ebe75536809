//! `raftlab explore` at the binary's edge: its options, the progress line, and what it
//! prints. The search itself is [`super::search`]'s.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use crate::cluster::ClockMode;
use crate::raft::Bug;
use crate::repl::parse::parse_duration;
use crate::repl::scenario::Header;

use super::model::{ActionKind, Bounds, Model};
use super::search::{Cutoff, Outcomes, Progress, SearchOptions, Strategy, search};
use super::{Counterexample, ExploreError, counterexample, replay, scenario, validate};

/// The options of `raftlab explore`.
#[derive(clap::Args, Debug, Clone)]
pub struct ExploreArgs {
    /// How many nodes (1 to 5).
    #[arg(long, default_value_t = 3)]
    pub nodes: u64,
    /// No node campaigns into a term above this (4: Figure 8 needs four terms).
    #[arg(long, default_value_t = 4)]
    pub max_term: u64,
    /// No log grows beyond this many entries.
    #[arg(long, default_value_t = 3)]
    pub max_log: u64,
    /// The most messages in flight.
    #[arg(long, default_value_t = 6)]
    pub max_msgs: usize,
    /// The most node crashes on one path.
    #[arg(long, default_value_t = 1)]
    pub max_crashes: u32,
    /// The most client writes on one path.
    #[arg(long, default_value_t = 1)]
    pub max_writes: u32,
    /// The most client reads on one path (each of a key written before; through the log,
    /// or from a leader's state machine with --bug leader-local-reads); 0 for none.
    #[arg(long, default_value_t = 1)]
    pub max_reads: u32,
    /// The most membership changes (`add`, `remove`) on one path; with any, one node more
    /// than --nodes may be added. 0 for none.
    #[arg(long, default_value_t = 0)]
    pub max_changes: u32,
    /// The most actions on one path.
    #[arg(long, default_value_t = 40)]
    pub max_depth: u32,
    /// The kinds of action taken, comma-separated: deliver, drop, dup, timeout,
    /// heartbeat, crash, restart, write, read, add, remove [default: all].
    #[arg(long, value_delimiter = ',')]
    pub actions: Vec<ActionKind>,
    /// The most entries one AppendEntries carries (1 opens the windows of Figure 8).
    #[arg(long, default_value_t = 1)]
    pub max_append_entries: usize,
    /// Turn on a teaching bug (repeatable), to find what it breaks.
    #[arg(long = "bug", value_name = "NAME")]
    pub bugs: Vec<Bug>,
    /// How to search: auto runs bfs on one thread and random walks on another (the one
    /// that needs fewer states wins); bfs finds a shortest counterexample; dfs and random
    /// go deeper for less memory.
    #[arg(long, value_enum, default_value_t = Strategy::Auto)]
    pub search: Strategy,
    /// Treat states that differ only in the names of the nodes as one.
    #[arg(long)]
    pub symmetry: bool,
    /// Stop after this many distinct states (auto: breadth-first stops, the walks go on
    /// to --max-time).
    #[arg(long, default_value_t = 2_000_000)]
    pub max_states: u64,
    /// Stop after this long (wall time): 60s, 1.5s (a bare number is ms).
    #[arg(long, default_value = "600s", value_parser = parse_duration)]
    pub max_time: u64,
    /// Random walks: how many.
    #[arg(long, default_value_t = 1_000_000_000)]
    pub walks: u64,
    /// Random walks and the order depth-first workers try actions in derive from this.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Worker threads [default: the number of CPUs]. auto, bfs and random give the same
    /// outcome on any number; dfs on more than one may find another counterexample on
    /// each run (its workers share the states they visit).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Where to write the counterexample's scenario.
    #[arg(long, default_value = "explore-counterexample.yaml")]
    pub out: PathBuf,
    /// Measure: print states per second and memory per state at the end.
    #[arg(long)]
    pub bench: bool,
}

impl ExploreArgs {
    /// The model the options describe.
    pub fn model(&self) -> Model {
        let actions = if self.actions.is_empty() {
            ActionKind::ALL.to_vec()
        } else {
            self.actions.clone()
        };
        let bounds = Bounds {
            nodes: self.nodes,
            max_term: self.max_term,
            max_log: self.max_log,
            max_msgs: self.max_msgs,
            max_crashes: self.max_crashes,
            max_writes: self.max_writes,
            max_reads: self.max_reads,
            max_changes: self.max_changes,
            max_depth: self.max_depth,
            actions,
        };
        Model::new(bounds, &self.bugs, self.max_append_entries)
    }

    /// How the search runs.
    pub fn search_options(&self) -> SearchOptions {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        SearchOptions {
            strategy: self.search,
            workers: self.jobs.unwrap_or(cpus).max(1),
            symmetry: self.symmetry,
            max_states: self.max_states,
            max_time: Duration::from_micros(self.max_time),
            walks: self.walks,
            seed: self.seed,
        }
    }
}

/// Runs `raftlab explore`; returns the exit status: 0 nothing found, 1 a finding, 2 bad
/// input.
pub fn run(args: &ExploreArgs) -> u8 {
    let model = args.model();
    if let Err(error) = validate(&model.bounds) {
        eprintln!("error: {error}");
        return 2;
    }
    // Settings that leave nothing to search (the search would run to --max-time and
    // then say it stopped at a bound it never reached).
    let zero = [
        ("max-append-entries", args.max_append_entries == 0),
        ("max-states", args.max_states == 0),
        ("walks", args.walks == 0),
        ("jobs", args.jobs == Some(0)),
    ];
    if let Some((name, _)) = zero.iter().find(|(_, is_zero)| *is_zero) {
        eprintln!("error: {}", ExploreError::Zero(name));
        return 2;
    }
    if args.max_time == 0 {
        eprintln!("error: --max-time must be more than 0s");
        return 2;
    }
    let options = args.search_options();
    println!("{}", describe_bounds(args, &model, &options));
    let terminal = std::io::stderr().is_terminal();
    let outcomes = search(&model, &options, &|progress| {
        print_progress(progress, terminal)
    });
    if terminal {
        eprintln!();
    }
    println!("{}", summary(&outcomes));
    if args.bench {
        println!("{}", bench_line(&outcomes.progress));
    }
    match &outcomes.found {
        None => 0,
        Some(found) => {
            let counterexample = counterexample(&model, found);
            print_counterexample(&counterexample);
            write_scenario(args, &model, &counterexample);
            1
        }
    }
}

fn describe_bounds(args: &ExploreArgs, model: &Model, options: &SearchOptions) -> String {
    let bounds = &model.bounds;
    let actions: Vec<&str> = bounds.actions.iter().map(|a| a.name()).collect();
    let bugs: Vec<&str> = args.bugs.iter().map(|b| b.name()).collect();
    format!(
        "explore: {} nodes, terms <= {}, logs <= {}, messages in flight <= {}, crashes <= {}, \
         writes <= {}, reads <= {}, membership changes <= {}, depth <= {}; actions {}; {} entries per AppendEntries; bugs: {}; \
         {:?} search on {} workers{}",
        bounds.nodes,
        bounds.max_term,
        bounds.max_log,
        bounds.max_msgs,
        bounds.max_crashes,
        bounds.max_writes,
        bounds.max_reads,
        bounds.max_changes,
        bounds.max_depth,
        actions.join(","),
        args.max_append_entries,
        if bugs.is_empty() {
            "none".to_string()
        } else {
            bugs.join(",")
        },
        options.strategy,
        options.workers,
        if options.symmetry { ", symmetry" } else { "" }
    )
    .replace(
        &format!("Auto search on {} workers", options.workers),
        "breadth-first search and random walks, one thread each",
    )
    .replace("Bfs search", "breadth-first search")
    .replace("Dfs search", "depth-first search")
    .replace("Random search", "random walks")
}

fn progress_line(progress: &Progress) -> String {
    let seconds = progress.elapsed.as_secs_f64().max(1e-9);
    format!(
        "{} states, {} distinct, {:.0} states/s, depth {}, queue {}",
        progress.states,
        progress.distinct,
        progress.states as f64 / seconds,
        progress.depth,
        progress.queue
    )
}

/// On a terminal, one line rewritten in place; elsewhere, a line every ten seconds.
fn print_progress(progress: &Progress, terminal: bool) {
    let mut err = std::io::stderr().lock();
    if terminal {
        let _ = write!(err, "\r\x1b[K{}", progress_line(progress));
        let _ = err.flush();
    } else if progress.elapsed.as_secs().is_multiple_of(10) {
        let _ = writeln!(err, "{}", progress_line(progress));
    }
}

/// How the search ended.
pub fn summary(outcomes: &Outcomes) -> String {
    let progress = &outcomes.progress;
    let seconds = progress.elapsed.as_secs_f64();
    let head = format!("{} in {seconds:.1}s", progress_line(progress));
    let end = match (&outcomes.found, outcomes.cutoff) {
        (Some(found), _) => format!(
            "violation after {} steps, found by {}: {}",
            found.actions.len(),
            found.by,
            found.finding.detail
        ),
        (None, None) => "bounds exhausted: no violation".to_string(),
        (None, Some(Cutoff::Depth)) => {
            "no violation within the depth bound (states at it had actions left)".to_string()
        }
        (None, Some(Cutoff::MaxStates)) => {
            "no violation; stopped at --max-states (bounds not exhausted)".to_string()
        }
        (None, Some(Cutoff::MaxTime)) => {
            "no violation; stopped at --max-time (bounds not exhausted)".to_string()
        }
        (None, Some(Cutoff::Walks)) => "no violation in the random walks".to_string(),
    };
    format!("{head}\n{end}")
}

/// States per second, and the peak memory of the process per distinct state.
fn bench_line(progress: &Progress) -> String {
    let seconds = progress.elapsed.as_secs_f64().max(1e-9);
    let rate = progress.states as f64 / seconds;
    let distinct_rate = progress.distinct as f64 / seconds;
    let memory = match peak_memory_bytes() {
        Some(bytes) => format!(
            "peak memory {} MB, {} bytes per distinct state",
            bytes / 1_000_000,
            bytes / progress.distinct.max(1)
        ),
        None => "peak memory unknown on this system".to_string(),
    };
    format!("bench: {rate:.0} states/s, {distinct_rate:.0} distinct states/s; {memory}")
}

/// The process's peak resident memory (Linux's VmHWM).
fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn print_counterexample(counterexample: &Counterexample) {
    println!("\ncounterexample ({} steps):", counterexample.steps.len());
    for (number, step) in counterexample.steps.iter().enumerate() {
        println!("{:>4}. {}", number + 1, step.words);
    }
    println!(
        "      {} violated: {}",
        counterexample.finding.name(),
        counterexample.finding.detail
    );
}

fn write_scenario(args: &ExploreArgs, model: &Model, counterexample: &Counterexample) {
    let bugs: Vec<String> = args.bugs.iter().map(|b| format!(" --bug {b}")).collect();
    let header = Header {
        name: format!("explore-{}", counterexample.finding.name()),
        description: format!(
            "Found by `raftlab explore{}`: {}",
            bugs.concat(),
            counterexample.finding.detail
        ),
        // The steps are `run`, `deliver` and the like: a schedule for a paused clock.
        clock: ClockMode::Paused,
    };
    let text = scenario(model, counterexample, &header);
    match std::fs::write(&args.out, text) {
        Ok(()) => println!(
            "\nscenario: {} (raftlab run replays it)",
            args.out.display()
        ),
        Err(error) => {
            eprintln!("error: cannot write {}: {error}", args.out.display());
            return;
        }
    }
    match replay(model, counterexample) {
        Ok(rules)
            if counterexample
                .finding
                .rule
                .is_some_and(|r| rules.contains(&r)) =>
        {
            println!(
                "replayed on a cluster: its checker reports {}",
                names(&rules)
            );
        }
        Ok(rules) if counterexample.finding.rule.is_none() => println!(
            "replayed on a cluster (its checker has no rule for {}; it reports {})",
            counterexample.finding.name(),
            names(&rules)
        ),
        Ok(rules) => println!(
            "warning: replayed on a cluster, its checker reports {}",
            names(&rules)
        ),
        Err(error) => println!("warning: the replay did not run: {error}"),
    }
}

fn names(rules: &[crate::cluster::Rule]) -> String {
    if rules.is_empty() {
        return "no violation".to_string();
    }
    let names: Vec<&str> = rules.iter().map(|r| r.name()).collect();
    names.join(", ")
}
