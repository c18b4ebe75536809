//! The search: a driver over the [`Model`], breadth-first, depth-first or by random walks,
//! on every core, with one shared set of visited fingerprints.
//!
//! - **Both** (the default, `auto`): breadth-first on one thread and random walks on
//!   another, and the counterexample of the one that needed fewer states wins (each
//!   counts the states it generated; a tie goes to breadth-first). Counting work, not
//!   wall time, makes the winner the same on every run, however the threads are
//!   scheduled: a search that finds something at its N-th state lets the other go on up
//!   to its own N-th state. Breadth-first finds the shallow bugs with a shortest path;
//!   the walks reach the deep ones (Figure 8) long before a breadth-first level does.
//! - **Breadth-first** goes level by level: the workers share out the states
//!   of one depth and gather those of the next, so the first finding is at the least
//!   depth any finding has, and its path is a shortest counterexample. What they gather
//!   is taken in the level's order, whoever gathered it, so the outcome is the same on
//!   any number of workers ([`expand_level_in_order`]). The visited set
//!   maps each fingerprint to its parent's, and the path is rebuilt from it by taking, from
//!   the initial state on, the action whose next state has the next fingerprint.
//! - **Depth-first** keeps one path per worker (each tries the actions in its own order)
//!   and visits a state once, whoever reaches it first: far less memory than a whole
//!   breadth-first level, for deeper bounds, at the price of longer counterexamples. With
//!   a depth bound a state first reached deep may be cut off where it could have gone on
//!   from a shallower path; the search then says the bound was not exhausted.
//! - **Random walks** go from the initial state, one random action after another, to the
//!   depth bound (or a state with no action), as many walks as asked: no completeness, but
//!   nearly no memory, and deep paths at once. A uniform choice delivers every message
//!   soon, and so rarely builds the unusual shapes deep bugs need (a node that does not
//!   hear a leader for a while, elections in a row). So each walk is drawn a shape of its
//!   own, as swarm testing draws a configuration per test (Groce et al., ISSTA 2012): how
//!   often it delivers rather than does something else, and a set of muted links, drawn
//!   anew now and then, whose messages wait while anything else can happen, and which
//!   of the other kinds of action it takes at all (each with even odds; delivering and
//!   timing out always), and how often each kind is drawn. On several workers the walk of the lowest number that finds
//!   something wins, so the result does not depend on the threads' timing either.
//!
//! A path found by a walk is then shortened ([`shorten`]): actions are left out, one at
//! a time, while the same rule still breaks. It is not a shortest path, but the detours
//! of a random walk are gone.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::cluster::seed;

use super::fingerprint::fingerprint;
use super::model::{Action, ActionKind, Model, Outcome, State};
use super::rules::Finding;

/// How the state space is searched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Strategy {
    /// Breadth-first on one thread, random walks on another; the one that needs fewer
    /// states wins.
    Auto,
    Bfs,
    Dfs,
    Random,
}

/// How the search runs, and when it gives up.
#[derive(Clone, Debug)]
pub struct SearchOptions {
    pub strategy: Strategy,
    /// Worker threads.
    pub workers: usize,
    /// States that differ only in the names of the nodes are one.
    pub symmetry: bool,
    /// Stop after this many distinct states.
    pub max_states: u64,
    /// Stop after this long.
    pub max_time: Duration,
    /// Random walks: how many, and the seed they derive from.
    pub walks: u64,
    pub seed: u64,
}

/// How far a search has come, for a progress line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// States generated (every next state computed, seen before or not).
    pub states: u64,
    pub distinct: u64,
    pub depth: u32,
    /// States waiting to be explored.
    pub queue: u64,
    pub elapsed: Duration,
}

/// Why a search stopped before it exhausted its bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cutoff {
    MaxStates,
    MaxTime,
    /// States at the depth bound had actions left.
    Depth,
    /// Random walks are never exhaustive.
    Walks,
}

/// Which search found a counterexample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Searcher {
    /// A shortest counterexample.
    BreadthFirst,
    DepthFirst,
    /// The walk of this number; the path was as long as `steps` before it was shortened.
    Walk {
        walk: u64,
        steps: usize,
    },
}

impl std::fmt::Display for Searcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Searcher::BreadthFirst => write!(f, "breadth-first search (a shortest path)"),
            Searcher::DepthFirst => write!(f, "depth-first search (not a shortest path)"),
            Searcher::Walk { walk, steps } => write!(
                f,
                "random walk {walk} ({steps} steps, shortened; not necessarily a shortest \
                 path)"
            ),
        }
    }
}

/// What a search found: the finding, and the actions that lead to it from the initial
/// state (the last one breaks the rule).
#[derive(Clone, Debug)]
pub struct Found {
    pub finding: Finding,
    pub actions: Vec<Action>,
    pub by: Searcher,
}

/// The end of a search.
#[derive(Clone, Debug)]
pub struct Outcomes {
    pub progress: Progress,
    pub found: Option<Found>,
    /// `None`: the bounded state space was explored whole.
    pub cutoff: Option<Cutoff>,
}

/// A hasher for fingerprints, which are already well mixed: it passes them through.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FingerprintMap = HashMap<u64, u64, BuildHasherDefault<PassThrough>>;

/// The visited fingerprints, each with its parent's, in shards that the workers lock
/// one at a time.
struct Visited {
    shards: Vec<Mutex<FingerprintMap>>,
    count: AtomicU64,
}

const SHARDS: usize = 64;

impl Visited {
    fn new() -> Visited {
        Visited {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            count: AtomicU64::new(0),
        }
    }

    fn shard(&self, fp: u64) -> std::sync::MutexGuard<'_, FingerprintMap> {
        let shard = &self.shards[(fp >> 58) as usize % SHARDS];
        shard
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records `fp`, reached from `parent`; whether it is new.
    fn insert(&self, fp: u64, parent: u64) -> bool {
        let new = self.shard(fp).try_insert_new(fp, parent);
        if new {
            self.count.fetch_add(1, Ordering::Relaxed);
        }
        new
    }

    fn parent(&self, fp: u64) -> Option<u64> {
        self.shard(fp).get(&fp).copied()
    }
}

trait InsertNew {
    fn try_insert_new(&mut self, fp: u64, parent: u64) -> bool;
}

impl InsertNew for FingerprintMap {
    fn try_insert_new(&mut self, fp: u64, parent: u64) -> bool {
        match self.entry(fp) {
            std::collections::hash_map::Entry::Occupied(_) => false,
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(parent);
                true
            }
        }
    }
}

/// What the workers share.
struct Shared<'a> {
    model: &'a Model,
    options: &'a SearchOptions,
    visited: Visited,
    states: AtomicU64,
    depth: AtomicU32,
    queue: AtomicU64,
    stop: AtomicBool,
    cutoff: Mutex<Option<Cutoff>>,
    /// The finding that wins so far (see [`Report`]).
    found: Mutex<Option<Report>>,
    /// The rank of that finding, `u64::MAX` for none: a search past it stops.
    best: AtomicU64,
    /// States generated by the breadth-first search alone, its rank in `auto`.
    bfs_states: AtomicU64,
    /// `auto`: breadth-first reached `max_states` and stopped; the walks go on.
    bfs_full: AtomicBool,
    started: Instant,
}

/// A finding, where it was, and its rank: of two findings the one of lower rank wins.
struct Report {
    finding: Finding,
    /// The parent's fingerprint (breadth-first).
    parent: u64,
    /// The whole path (the others).
    path: Vec<Action>,
    by: Searcher,
    /// `bfs` and `dfs`: 0, the first wins; `random`: the walk's number; `auto`: the states
    /// the finding search had generated.
    rank: u64,
}

impl Shared<'_> {
    fn progress(&self) -> Progress {
        Progress {
            states: self.states.load(Ordering::Relaxed),
            distinct: self.visited.count.load(Ordering::Relaxed),
            depth: self.depth.load(Ordering::Relaxed),
            queue: self.queue.load(Ordering::Relaxed),
            elapsed: self.started.elapsed(),
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Notes why the search is not exhaustive; a limit that stopped it outranks states
    /// left at the depth bound.
    fn cut(&self, cutoff: Cutoff) {
        let mut slot = self.cutoff.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() || *slot == Some(Cutoff::Depth) {
            *slot = Some(cutoff);
        }
    }

    /// Stops the search if a limit is reached.
    fn check_limits(&self) {
        let auto = self.options.strategy == Strategy::Auto;
        if !auto && self.visited.count.load(Ordering::Relaxed) >= self.options.max_states {
            self.cut(Cutoff::MaxStates);
            self.stop.store(true, Ordering::Relaxed);
        } else if self.started.elapsed() >= self.options.max_time {
            self.cut(Cutoff::MaxTime);
            self.stop.store(true, Ordering::Relaxed);
        }
    }

    /// Keeps `report` if it outranks the finding so far; stops every search unless
    /// searches of lower rank may still be running (random walks, `auto`).
    fn report(&self, report: Report) {
        let mut slot = self.found.lock().unwrap_or_else(|p| p.into_inner());
        if slot.as_ref().is_none_or(|kept| report.rank < kept.rank) {
            self.best.store(report.rank, Ordering::Relaxed);
            *slot = Some(report);
        }
        if matches!(self.options.strategy, Strategy::Bfs | Strategy::Dfs) {
            self.stop.store(true, Ordering::Relaxed);
        }
    }

    /// Whether the finding kept so far is one of `searcher`'s.
    fn found_by(&self, searcher: Searcher) -> bool {
        let slot = self.found.lock().unwrap_or_else(|p| p.into_inner());
        slot.as_ref().is_some_and(|kept| kept.by == searcher)
    }

    /// Whether a finding of lower rank than `rank` is in: a search at `rank` can stop.
    fn beaten(&self, rank: u64) -> bool {
        self.best.load(Ordering::Relaxed) < rank
    }

    fn fingerprint(&self, state: &State) -> u64 {
        fingerprint(state, self.options.symmetry)
    }
}

/// Searches `model` as `options` say; `progress` is called about once a second from a
/// thread of its own.
pub fn search(
    model: &Model,
    options: &SearchOptions,
    progress: &(dyn Fn(&Progress) + Sync),
) -> Outcomes {
    let shared = Shared {
        model,
        options,
        visited: Visited::new(),
        states: AtomicU64::new(0),
        depth: AtomicU32::new(0),
        queue: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        cutoff: Mutex::new(None),
        found: Mutex::new(None),
        best: AtomicU64::new(u64::MAX),
        bfs_states: AtomicU64::new(0),
        bfs_full: AtomicBool::new(false),
        started: Instant::now(),
    };
    let done = AtomicBool::new(false);
    thread::scope(|scope| {
        scope.spawn(|| monitor(&shared, &done, progress));
        match options.strategy {
            Strategy::Auto => both(&shared),
            Strategy::Bfs => {
                breadth_first(&shared, options.workers);
            }
            Strategy::Dfs => depth_first(&shared),
            Strategy::Random => random_walks(&shared),
        }
        done.store(true, Ordering::Relaxed);
    });
    let found = shared
        .found
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    let found = found.map(|report| match report.by {
        Searcher::BreadthFirst => rebuild(&shared, report.finding, report.parent),
        Searcher::DepthFirst => Found {
            finding: report.finding,
            actions: report.path,
            by: report.by,
        },
        Searcher::Walk { .. } => shorten(model, report.finding, &report.path, report.by),
    });
    let cutoff = match found {
        Some(_) => None,
        None => *shared.cutoff.lock().unwrap_or_else(|p| p.into_inner()),
    };
    Outcomes {
        progress: shared.progress(),
        found,
        cutoff,
    }
}

/// Calls `progress` once a second, and checks the time limit, until `done`.
fn monitor(shared: &Shared, done: &AtomicBool, progress: &(dyn Fn(&Progress) + Sync)) {
    let mut last = Instant::now();
    while !done.load(Ordering::Relaxed) {
        thread::sleep(Duration::from_millis(50));
        if !shared.stopped() {
            shared.check_limits();
        }
        if last.elapsed() >= Duration::from_secs(1) {
            last = Instant::now();
            progress(&shared.progress());
        }
    }
}

// ---- breadth-first ------------------------------------------------------------------

/// States a worker takes from the level at a time.
const CHUNK: usize = 64;

/// `auto`: breadth-first on this thread, random walks on another. Once breadth-first
/// is done (bounds exhausted, or the depth bound reached), no walk can find more: every
/// state of a walk is within the depth bound.
fn both(shared: &Shared) {
    let walks_done = AtomicBool::new(false);
    thread::scope(|scope| {
        let walks = scope.spawn(|| {
            let steps = AtomicU64::new(0);
            walker(shared, &AtomicU64::new(0), Some(&steps), &walks_done);
        });
        if breadth_first(shared, 1) {
            walks_done.store(true, Ordering::Relaxed);
        }
        join(walks);
    });
}

/// Breadth-first on `workers` threads; whether it went through the bounds (to the depth
/// bound, or until no state was left), rather than stopping at a finding or a limit.
fn breadth_first(shared: &Shared, workers: usize) -> bool {
    let init = shared.model.init();
    let root = shared.fingerprint(&init);
    shared.visited.insert(root, root);
    let mut level = vec![init];
    let mut depth = 0;
    let ended = |shared: &Shared| {
        shared.stopped()
            || shared.bfs_full.load(Ordering::Relaxed)
            || shared.beaten(shared.bfs_states.load(Ordering::Relaxed))
            || shared.found_by(Searcher::BreadthFirst)
    };
    while !level.is_empty() {
        if ended(shared) {
            return false;
        }
        if depth >= shared.model.bounds.max_depth {
            shared.cut(Cutoff::Depth);
            return true;
        }
        shared.queue.store(level.len() as u64, Ordering::Relaxed);
        shared.depth.store(depth, Ordering::Relaxed);
        level = match workers {
            0 | 1 => expand_level(shared, &level, &AtomicUsize::new(0)),
            _ => expand_level_in_order(shared, &level, workers),
        };
        depth += 1;
    }
    shared.queue.store(level.len() as u64, Ordering::Relaxed);
    !ended(shared)
}

fn join<T>(handle: thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Expands chunks of `level` until it is all taken; returns the new states found.
fn expand_level(shared: &Shared, level: &[State], cursor: &AtomicUsize) -> Vec<State> {
    let mut next = Vec::new();
    let mut actions = Vec::new();
    let ranked = shared.options.strategy == Strategy::Auto;
    while !shared.stopped() {
        if ranked && shared.beaten(shared.bfs_states.load(Ordering::Relaxed)) {
            break;
        }
        // In `auto` only breadth-first fills the visited set, and it checks the bound
        // itself, at the same state on every run; the walks go on without it.
        if ranked && shared.visited.count.load(Ordering::Relaxed) >= shared.options.max_states {
            shared.cut(Cutoff::MaxStates);
            shared.bfs_full.store(true, Ordering::Relaxed);
            break;
        }
        let start = cursor.fetch_add(CHUNK, Ordering::Relaxed);
        let Some(chunk) = level.get(start..(start + CHUNK).min(level.len())) else {
            break;
        };
        for state in chunk {
            let fp = shared.fingerprint(state);
            shared.model.actions(state, &mut actions);
            for &action in &actions {
                shared.states.fetch_add(1, Ordering::Relaxed);
                let rank = shared.bfs_states.fetch_add(1, Ordering::Relaxed) + 1;
                match shared.model.next(state, action) {
                    Outcome::Broken(finding) => {
                        shared.report(Report {
                            finding,
                            parent: fp,
                            path: Vec::new(),
                            by: Searcher::BreadthFirst,
                            rank: if ranked { rank } else { 0 },
                        });
                        return next;
                    }
                    Outcome::Next { state, within } => {
                        let new = shared.visited.insert(shared.fingerprint(&state), fp);
                        if new && within {
                            next.push(state);
                        }
                    }
                }
            }
            shared.queue.fetch_sub(1, Ordering::Relaxed);
        }
    }
    next
}

/// One chunk of a level as a worker expanded it: the states reached that were not visited
/// before the level began, each with its parent's fingerprint and whether it is within the
/// bounds, in the order of the chunk's states and their actions; how many states it
/// generated; and the first rule it found broken, with the parent's fingerprint.
struct ExpandedChunk {
    start: usize,
    reached: Vec<(u64, u64, State, bool)>,
    generated: u64,
    broken: Option<(Finding, u64)>,
}

/// [`expand_level`] on `workers` threads, with the same outcome as on one: the workers
/// expand chunks of the level side by side, and the chunks are then taken in the level's
/// order, on this thread, to mark states visited (so each state's parent is the first in
/// that order to reach it), to count the states generated, and to keep the first finding
/// (a chunk past one already found is not expanded). Which thread reached a state first
/// decides nothing, so the same seed and bounds give the same counterexample, path and
/// counts on every run and with any number of workers.
fn expand_level_in_order(shared: &Shared, level: &[State], workers: usize) -> Vec<State> {
    let cursor = AtomicUsize::new(0);
    let first_broken = AtomicUsize::new(usize::MAX);
    let mut chunks: Vec<ExpandedChunk> = thread::scope(|scope| {
        let workers: Vec<_> = (0..workers)
            .map(|_| scope.spawn(|| expand_chunks(shared, level, &cursor, &first_broken)))
            .collect();
        workers.into_iter().flat_map(join).collect()
    });
    chunks.sort_unstable_by_key(|chunk| chunk.start);
    let mut next = Vec::new();
    for chunk in chunks {
        for (fp, parent, state, within) in chunk.reached {
            if shared.visited.insert(fp, parent) && within {
                next.push(state);
            }
        }
        shared.states.fetch_add(chunk.generated, Ordering::Relaxed);
        if let Some((finding, parent)) = chunk.broken {
            shared.report(Report {
                finding,
                parent,
                path: Vec::new(),
                by: Searcher::BreadthFirst,
                rank: 0,
            });
            break;
        }
    }
    next
}

/// A worker of [`expand_level_in_order`]: expands chunks of `level` until it is all taken,
/// the search stops, or a chunk before the next one found a broken rule.
fn expand_chunks(
    shared: &Shared,
    level: &[State],
    cursor: &AtomicUsize,
    first_broken: &AtomicUsize,
) -> Vec<ExpandedChunk> {
    let mut expanded = Vec::new();
    let mut actions = Vec::new();
    while !shared.stopped() {
        let start = cursor.fetch_add(CHUNK, Ordering::Relaxed);
        // Chunks are handed out in order: every one after a finding's comes later still.
        if start > first_broken.load(Ordering::Relaxed) {
            break;
        }
        let Some(states) = level.get(start..(start + CHUNK).min(level.len())) else {
            break;
        };
        let mut chunk = ExpandedChunk {
            start,
            reached: Vec::new(),
            generated: 0,
            broken: None,
        };
        'chunk: for state in states {
            let fp = shared.fingerprint(state);
            shared.model.actions(state, &mut actions);
            for &action in &actions {
                chunk.generated += 1;
                match shared.model.next(state, action) {
                    Outcome::Broken(finding) => {
                        chunk.broken = Some((finding, fp));
                        first_broken.fetch_min(start, Ordering::Relaxed);
                        break 'chunk;
                    }
                    Outcome::Next { state, within } => {
                        let next_fp = shared.fingerprint(&state);
                        // Visited in an earlier level: the set does not change while a
                        // level is expanded.
                        if shared.visited.parent(next_fp).is_none() {
                            chunk.reached.push((next_fp, fp, state, within));
                        }
                    }
                }
            }
            shared.queue.fetch_sub(1, Ordering::Relaxed);
        }
        expanded.push(chunk);
    }
    expanded
}

/// The path to a breadth-first finding: the fingerprints from the parent back to the
/// initial state, then forward again, each step the action whose next state has the next
/// fingerprint, and last the action that breaks the same rule.
fn rebuild(shared: &Shared, finding: Finding, parent: u64) -> Found {
    let mut chain = vec![parent];
    while let Some(up) = shared.visited.parent(chain[chain.len() - 1]) {
        if up == chain[chain.len() - 1] {
            break;
        }
        chain.push(up);
    }
    chain.reverse();
    let model = shared.model;
    let mut state = model.init();
    let mut path = Vec::new();
    let mut actions = Vec::new();
    for &target in &chain[1..] {
        model.actions(&state, &mut actions);
        let step = actions
            .iter()
            .find_map(|&action| match model.next(&state, action) {
                Outcome::Next { state: next, .. } if shared.fingerprint(&next) == target => {
                    Some((action, next))
                }
                _ => None,
            });
        let Some((action, next)) = step else {
            // Only a fingerprint collision can get here: report what was found, unproven.
            return Found {
                finding,
                actions: path,
                by: Searcher::BreadthFirst,
            };
        };
        path.push(action);
        state = next;
    }
    model.actions(&state, &mut actions);
    let last = actions
        .iter()
        .find_map(|&action| match model.next(&state, action) {
            Outcome::Broken(again) if again.name == finding.name => Some((action, again)),
            _ => None,
        });
    match last {
        Some((action, again)) => {
            path.push(action);
            Found {
                finding: again,
                actions: path,
                by: Searcher::BreadthFirst,
            }
        }
        None => Found {
            finding,
            actions: path,
            by: Searcher::BreadthFirst,
        },
    }
}

// ---- depth-first --------------------------------------------------------------------

struct Frame {
    state: State,
    fp: u64,
    actions: Vec<Action>,
    next: usize,
}

fn depth_first(shared: &Shared) {
    let init = shared.model.init();
    let root = shared.fingerprint(&init);
    shared.visited.insert(root, root);
    thread::scope(|scope| {
        let workers: Vec<_> = (0..shared.options.workers.max(1))
            .map(|worker| {
                let init = init.clone();
                scope.spawn(move || depth_first_worker(shared, init, root, worker as u64))
            })
            .collect();
        workers.into_iter().for_each(join);
    });
}

/// One worker's depth-first search; worker 0 tries actions in the model's order, the
/// others in an order of their own.
fn depth_first_worker(shared: &Shared, init: State, root: u64, worker: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed::derive(
        shared.options.seed,
        seed::EXPLORE_WORKER,
        worker,
    ));
    let max_depth = shared.model.bounds.max_depth as usize;
    let mut stack = vec![frame(shared, init, root, worker, &mut rng)];
    while let Some(top) = stack.last_mut() {
        if shared.stopped() {
            return;
        }
        let Some(&action) = top.actions.get(top.next) else {
            stack.pop();
            continue;
        };
        top.next += 1;
        shared.states.fetch_add(1, Ordering::Relaxed);
        match shared.model.next(&top.state, action) {
            Outcome::Broken(finding) => {
                let path: Vec<Action> = stack.iter().map(|f| f.actions[f.next - 1]).collect();
                shared.report(Report {
                    finding,
                    parent: 0,
                    path,
                    by: Searcher::DepthFirst,
                    rank: 0,
                });
                return;
            }
            Outcome::Next { state, within } => {
                let fp = shared.fingerprint(&state);
                if !shared.visited.insert(fp, top.fp) || !within {
                    continue;
                }
                if stack.len() >= max_depth {
                    shared.cut(Cutoff::Depth);
                    continue;
                }
                stack.push(frame(shared, state, fp, worker, &mut rng));
                shared
                    .depth
                    .fetch_max(stack.len() as u32, Ordering::Relaxed);
            }
        }
    }
}

fn frame(shared: &Shared, state: State, fp: u64, worker: u64, rng: &mut ChaCha8Rng) -> Frame {
    let mut actions = Vec::new();
    shared.model.actions(&state, &mut actions);
    if worker > 0 {
        actions.shuffle(rng);
    }
    Frame {
        state,
        fp,
        actions,
        next: 0,
    }
}

// ---- random walks -------------------------------------------------------------------

fn random_walks(shared: &Shared) {
    let walks = AtomicU64::new(0);
    let never = AtomicBool::new(false);
    thread::scope(|scope| {
        let workers: Vec<_> = (0..shared.options.workers.max(1))
            .map(|_| scope.spawn(|| walker(shared, &walks, None, &never)))
            .collect();
        workers.into_iter().for_each(join);
    });
    shared.cut(Cutoff::Walks);
}

/// Takes walks by number from `walks` until they run out, a walk of lower rank found
/// something, or `done`. `steps` counts this walker's states when it runs beside
/// breadth-first (`auto`, one walker): its rank is then the states it generated, and it
/// leaves the visited set and the depth to breadth-first; else the rank is the walk's
/// number.
fn walker(shared: &Shared, walks: &AtomicU64, steps: Option<&AtomicU64>, done: &AtomicBool) {
    let model = shared.model;
    let mut actions = Vec::new();
    while !shared.stopped() && !done.load(Ordering::Relaxed) {
        let walk = walks.fetch_add(1, Ordering::Relaxed);
        if walk >= shared.options.walks {
            return;
        }
        let rank = |walk: u64| match steps {
            Some(steps) => steps.load(Ordering::Relaxed),
            None => walk,
        };
        if shared.beaten(rank(walk)) {
            return;
        }
        let mut rng =
            ChaCha8Rng::seed_from_u64(seed::derive(shared.options.seed, seed::EXPLORE_WALK, walk));
        let mut shape = Shape::draw(&mut rng, model);
        let mut state = model.init();
        let mut path = Vec::new();
        for depth in 0..model.bounds.max_depth {
            model.actions(&state, &mut actions);
            shape.keep_kinds(&mut actions);
            shape.maybe_redraw_links(&mut rng, model.bounds.nodes);
            // An action that would cross the message bound is not taken: another is
            // drawn, so that a walk goes on to the depth bound.
            let mut taken = None;
            while !actions.is_empty() {
                let action = shape.choose(&state, &actions, &mut rng);
                shared.states.fetch_add(1, Ordering::Relaxed);
                if let Some(steps) = steps {
                    steps.fetch_add(1, Ordering::Relaxed);
                }
                match model.next(&state, action) {
                    Outcome::Broken(finding) => {
                        path.push(action);
                        let steps = path.len();
                        shared.report(Report {
                            finding,
                            parent: 0,
                            path,
                            by: Searcher::Walk { walk, steps },
                            rank: rank(walk),
                        });
                        return;
                    }
                    Outcome::Next {
                        state: next,
                        within,
                    } if within => {
                        taken = Some((action, next));
                        break;
                    }
                    Outcome::Next { .. } => actions.retain(|&a| a != action),
                }
            }
            let Some((action, next)) = taken else {
                break;
            };
            if steps.is_none() {
                shared.visited.insert(shared.fingerprint(&next), 0);
                shared.depth.fetch_max(depth + 1, Ordering::Relaxed);
            }
            path.push(action);
            state = next;
        }
    }
}

/// A walk's path shortened: each action in turn is left out when the rest, taken again
/// from the initial state, still breaks the same rule. Messages are named by what they
/// are, not by id (ids shift when an earlier action is left out): an action whose message
/// is no longer in flight is left out too. The finding and path returned are those of
/// the last replay that broke the rule.
pub fn shorten(model: &Model, finding: Finding, path: &[Action], by: Searcher) -> Found {
    let mut best = Found {
        finding,
        actions: path.to_vec(),
        by,
    };
    let mut keys: Vec<Key> = Vec::new();
    let mut state = model.init();
    for &action in path {
        keys.push(Key::of(&state, action));
        if let Outcome::Next { state: next, .. } = model.next(&state, action) {
            state = next;
        }
    }
    let mut position = 0;
    while position < keys.len() {
        let mut fewer = keys.clone();
        fewer.remove(position);
        match replay_keys(model, &fewer) {
            Some((finding, actions, used))
                if finding.name == best.finding.name && actions.len() < best.actions.len() =>
            {
                best.finding = finding;
                best.actions = actions;
                fewer.truncate(used);
                keys = fewer;
            }
            _ => position += 1,
        }
    }
    best
}

/// An action named by what it does: a message by its sender, receiver and digest.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Message { action: Action, digest: u64 },
    Node(Action),
}

impl Key {
    fn of(state: &State, action: Action) -> Key {
        let msg = match action {
            Action::Deliver { msg } | Action::Drop { msg } | Action::Duplicate { msg } => msg,
            _ => return Key::Node(action),
        };
        match state.flights.iter().find(|f| f.id == msg) {
            Some(flight) => Key::Message {
                action,
                digest: flight.digest,
            },
            None => Key::Node(action),
        }
    }

    /// The action of this key in `state`, if it can be taken there.
    fn action(self, state: &State, offered: &[Action]) -> Option<Action> {
        let wanted = match self {
            Key::Node(action) => return offered.contains(&action).then_some(action),
            Key::Message { action, digest } => (action, digest),
        };
        let flight = state.flights.iter().find(|f| f.digest == wanted.1)?;
        let msg = flight.id;
        let action = match wanted.0 {
            Action::Deliver { .. } => Action::Deliver { msg },
            Action::Drop { .. } => Action::Drop { msg },
            _ => Action::Duplicate { msg },
        };
        offered.contains(&action).then_some(action)
    }
}

/// Takes the actions of `keys` from the initial state (leaving out those that cannot be
/// taken) until a rule breaks: the finding, the actions taken, and how many keys were
/// used.
fn replay_keys(model: &Model, keys: &[Key]) -> Option<(Finding, Vec<Action>, usize)> {
    let mut state = model.init();
    let mut taken = Vec::new();
    let mut offered = Vec::new();
    for (used, key) in keys.iter().enumerate() {
        model.actions(&state, &mut offered);
        let Some(action) = key.action(&state, &offered) else {
            continue;
        };
        taken.push(action);
        match model.next(&state, action) {
            Outcome::Broken(finding) => return Some((finding, taken, used + 1)),
            Outcome::Next {
                state: next,
                within,
            } => {
                if !within {
                    return None;
                }
                state = next;
            }
        }
    }
    None
}

/// The shape of one random walk: how likely it delivers a message rather than does
/// something else, which links are muted, how many, and how often they change.
struct Shape {
    /// The kinds of action taken: each kind but delivering and timing out with even odds.
    kinds: Vec<ActionKind>,
    /// How often each kind but delivering is drawn, when the walk does not deliver.
    weights: Vec<(ActionKind, f64)>,
    deliver: f64,
    mute: f64,
    redraw: f64,
    /// Bit `(from - 1) * 8 + (to - 1)` set: the link is muted.
    muted: u64,
}

impl Shape {
    fn draw(rng: &mut ChaCha8Rng, model: &Model) -> Shape {
        let nodes = model.bounds.nodes;
        let always = [ActionKind::Deliver, ActionKind::Timeout];
        let kinds: Vec<ActionKind> = model
            .bounds
            .actions
            .iter()
            .copied()
            .filter(|kind| always.contains(kind) || rng.random_bool(0.5))
            .collect();
        let weights = kinds
            .iter()
            .map(|&kind| (kind, rng.random_range(0.05..1.0)))
            .collect();
        let mut shape = Shape {
            weights,
            kinds,
            deliver: rng.random_range(0.3..0.95),
            mute: rng.random_range(0.0..0.6),
            redraw: rng.random_range(0.02..0.3),
            muted: 0,
        };
        shape.redraw_links(rng, nodes);
        shape
    }

    fn redraw_links(&mut self, rng: &mut ChaCha8Rng, nodes: u64) {
        self.muted = 0;
        for from in 0..nodes {
            for to in 0..nodes {
                if from != to && rng.random_bool(self.mute) {
                    self.muted |= 1 << (from * 8 + to);
                }
            }
        }
    }

    /// Leaves out of `actions` the kinds this walk does not take (all of them, if that
    /// would leave nothing).
    fn keep_kinds(&self, actions: &mut Vec<Action>) {
        if actions.iter().any(|a| self.kinds.contains(&a.kind())) {
            actions.retain(|a| self.kinds.contains(&a.kind()));
        }
    }

    fn maybe_redraw_links(&mut self, rng: &mut ChaCha8Rng, nodes: u64) {
        if rng.random_bool(self.redraw) {
            self.redraw_links(rng, nodes);
        }
    }

    fn muted(&self, state: &State, action: Action) -> bool {
        let Action::Deliver { msg } = action else {
            return false;
        };
        let link = state.flights.iter().find(|f| f.id == msg).map(|f| {
            let envelope = &f.envelope;
            (envelope.from - 1) * 8 + (envelope.to - 1)
        });
        link.is_some_and(|bit| self.muted & (1 << bit) != 0)
    }

    /// A delivery on a link not muted (with the walk's odds), else anything else, else
    /// anything.
    fn choose(&self, state: &State, actions: &[Action], rng: &mut ChaCha8Rng) -> Action {
        let open: Vec<Action> = actions
            .iter()
            .copied()
            .filter(|&a| matches!(a, Action::Deliver { .. }) && !self.muted(state, a))
            .collect();
        let other: Vec<Action> = actions
            .iter()
            .copied()
            .filter(|a| !matches!(a, Action::Deliver { .. }))
            .collect();
        let pool = match (open.is_empty(), other.is_empty()) {
            (false, true) => open,
            (false, false) if rng.random_bool(self.deliver) => open,
            (_, false) => self.of_one_kind(other, rng),
            (true, true) => actions.to_vec(),
        };
        pool[rng.random_range(0..pool.len())]
    }

    /// The actions of one kind among `actions`, the kind drawn by the walk's weights.
    fn of_one_kind(&self, mut actions: Vec<Action>, rng: &mut ChaCha8Rng) -> Vec<Action> {
        let weight = |kind: ActionKind| {
            let found = self.weights.iter().find(|(k, _)| *k == kind);
            found.map_or(0.0, |&(_, w)| w)
        };
        let mut kinds: Vec<ActionKind> = actions.iter().map(|a| a.kind()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let total: f64 = kinds.iter().map(|&k| weight(k)).sum();
        if total <= 0.0 {
            return actions;
        }
        let mut draw = rng.random_range(0.0..total);
        let mut chosen = kinds[kinds.len() - 1];
        for &kind in &kinds {
            if draw < weight(kind) {
                chosen = kind;
                break;
            }
            draw -= weight(kind);
        }
        actions.retain(|a| a.kind() == chosen);
        actions
    }
}
