//! The search: a driver over the [`Model`], breadth-first, depth-first or by random walks,
//! on every core, with one shared set of visited fingerprints.
//!
//! - **Breadth-first** (the default) goes level by level: the workers share out the states
//!   of one depth and gather those of the next, so the first finding is at the least
//!   depth any finding has, and its path is a shortest counterexample. The visited set
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
//!   anew now and then, whose messages wait while anything else can happen.

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
use super::model::{Action, Model, Outcome, State};
use super::rules::Finding;

/// How the state space is searched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Strategy {
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

/// What a search found: the finding, and the actions that lead to it from the initial
/// state (the last one breaks the rule).
#[derive(Clone, Debug)]
pub struct Found {
    pub finding: Finding,
    pub actions: Vec<Action>,
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
    /// The finding and where it was: the parent's fingerprint (breadth-first) or the
    /// whole path (the others).
    found: Mutex<Option<(Finding, u64, Vec<Action>)>>,
    started: Instant,
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
        if self.visited.count.load(Ordering::Relaxed) >= self.options.max_states {
            self.cut(Cutoff::MaxStates);
            self.stop.store(true, Ordering::Relaxed);
        } else if self.started.elapsed() >= self.options.max_time {
            self.cut(Cutoff::MaxTime);
            self.stop.store(true, Ordering::Relaxed);
        }
    }

    fn report(&self, finding: Finding, parent: u64, path: Vec<Action>) {
        let mut slot = self.found.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some((finding, parent, path));
        }
        self.stop.store(true, Ordering::Relaxed);
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
        started: Instant::now(),
    };
    let done = AtomicBool::new(false);
    thread::scope(|scope| {
        scope.spawn(|| monitor(&shared, &done, progress));
        match options.strategy {
            Strategy::Bfs => breadth_first(&shared),
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
    let found = found.map(|(finding, parent, path)| match options.strategy {
        Strategy::Bfs => rebuild(&shared, finding, parent),
        _ => Found {
            finding,
            actions: path,
        },
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

fn breadth_first(shared: &Shared) {
    let init = shared.model.init();
    let root = shared.fingerprint(&init);
    shared.visited.insert(root, root);
    let mut level = vec![init];
    let mut depth = 0;
    while !level.is_empty() && !shared.stopped() {
        if depth >= shared.model.bounds.max_depth {
            shared.cut(Cutoff::Depth);
            return;
        }
        shared.queue.store(level.len() as u64, Ordering::Relaxed);
        shared.depth.store(depth, Ordering::Relaxed);
        let cursor = AtomicUsize::new(0);
        let next: Vec<Vec<State>> = thread::scope(|scope| {
            let workers: Vec<_> = (0..shared.options.workers.max(1))
                .map(|_| scope.spawn(|| expand_level(shared, &level, &cursor)))
                .collect();
            workers.into_iter().map(join).collect()
        });
        level = next.into_iter().flatten().collect();
        depth += 1;
    }
    shared.queue.store(level.len() as u64, Ordering::Relaxed);
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
    while !shared.stopped() {
        let start = cursor.fetch_add(CHUNK, Ordering::Relaxed);
        let Some(chunk) = level.get(start..(start + CHUNK).min(level.len())) else {
            break;
        };
        for state in chunk {
            let fp = shared.fingerprint(state);
            shared.model.actions(state, &mut actions);
            for &action in &actions {
                shared.states.fetch_add(1, Ordering::Relaxed);
                match shared.model.next(state, action) {
                    Outcome::Broken(finding) => {
                        shared.report(finding, fp, Vec::new());
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
            };
        };
        path.push(action);
        state = next;
    }
    model.actions(&state, &mut actions);
    let last = actions
        .iter()
        .find_map(|&action| match model.next(&state, action) {
            Outcome::Broken(again) if again.rule == finding.rule => Some((action, again)),
            _ => None,
        });
    match last {
        Some((action, again)) => {
            path.push(action);
            Found {
                finding: again,
                actions: path,
            }
        }
        None => Found {
            finding,
            actions: path,
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
                shared.report(finding, 0, path);
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
    thread::scope(|scope| {
        let workers: Vec<_> = (0..shared.options.workers.max(1))
            .map(|_| scope.spawn(|| walker(shared, &walks)))
            .collect();
        workers.into_iter().for_each(join);
    });
    shared.cut(Cutoff::Walks);
}

fn walker(shared: &Shared, walks: &AtomicU64) {
    let model = shared.model;
    let mut actions = Vec::new();
    while !shared.stopped() {
        let walk = walks.fetch_add(1, Ordering::Relaxed);
        if walk >= shared.options.walks {
            return;
        }
        let mut rng =
            ChaCha8Rng::seed_from_u64(seed::derive(shared.options.seed, seed::EXPLORE_WALK, walk));
        let mut shape = Shape::draw(&mut rng, model.bounds.nodes);
        let mut state = model.init();
        let mut path = Vec::new();
        for depth in 0..model.bounds.max_depth {
            model.actions(&state, &mut actions);
            if actions.is_empty() {
                break;
            }
            shape.maybe_redraw_links(&mut rng, model.bounds.nodes);
            let action = shape.choose(&state, &actions, &mut rng);
            path.push(action);
            shared.states.fetch_add(1, Ordering::Relaxed);
            match model.next(&state, action) {
                Outcome::Broken(finding) => {
                    shared.report(finding, 0, path);
                    return;
                }
                Outcome::Next {
                    state: next,
                    within,
                } => {
                    shared.visited.insert(shared.fingerprint(&next), 0);
                    shared.depth.fetch_max(depth + 1, Ordering::Relaxed);
                    if !within {
                        break;
                    }
                    state = next;
                }
            }
        }
    }
}

/// The shape of one random walk: how likely it delivers a message rather than does
/// something else, which links are muted, how many, and how often they change.
struct Shape {
    deliver: f64,
    mute: f64,
    redraw: f64,
    /// Bit `(from - 1) * 8 + (to - 1)` set: the link is muted.
    muted: u64,
}

impl Shape {
    fn draw(rng: &mut ChaCha8Rng, nodes: u64) -> Shape {
        let mut shape = Shape {
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
            (_, false) => other,
            (true, true) => actions.to_vec(),
        };
        pool[rng.random_range(0..pool.len())]
    }
}
