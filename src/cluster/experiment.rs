//! The election experiment of the Raft paper: how long a cluster is without a leader after
//! the leader crashes (Ongaro and Ousterhout, 2014, section 9.3 and Figure 16).
//!
//! # What the paper did
//!
//! Five servers with a broadcast time of about 15ms. The leader was crashed repeatedly and
//! the time measured from the crash until the other servers had the new leader's first
//! heartbeat (so it includes the time to notice the crash). To make it a worst case, the servers' logs had different
//! lengths, so that some candidates could not win, and the test script had the leader send
//! a synchronized broadcast of heartbeats just before it was crashed, to encourage split
//! votes. The crash came at a uniformly random point of the leader's heartbeat interval,
//! which was half the minimum election timeout; so the shortest possible downtime is about
//! half the minimum election timeout. Each range of election timeouts got 1000 trials,
//! except 150-150ms (no randomness), which got 100.
//!
//! # What a trial here does
//!
//! One trial is a fresh five-node cluster in virtual time, deterministic for its seed:
//!
//! 1. Every node is taken down before anything runs. Node 1 is the old leader and stays
//!    down: it is the crashed leader. The survivors' durable logs are set (as `set-log`
//!    does) so that all are in term 2, n2 and n3 hold the old leader's whole log (terms
//!    `1,1,2,2`) and n4 and n5 lack its last entry (`1,1,2`). Only n2 or n3 can win: each
//!    needs three votes, and n4 and n5 cannot get the votes of n2 and n3.
//! 2. The old leader's last heartbeat broadcast leaves at `t0` and reaches each survivor
//!    after its own network delay; a survivor is started at that instant, which is what
//!    the heartbeat does to it: a follower of term 2 with a fresh election timer.
//! 3. The crash is at `t0 + U * heartbeat`, U uniform in [0, 1): a uniformly random point
//!    of the heartbeat interval that the broadcast began. The heartbeat interval is half
//!    the minimum election timeout, as in the paper.
//! 4. The cluster runs until every survivor has received the new leader's first heartbeat
//!    (all follow one leader, in its term), at most a trial limit (10s of cluster time by
//!    default) after the crash. That is the paper's measure ("until the other servers
//!    received the new leader's first heartbeat", thesis section 9.4): one one-way delay
//!    after the leader is elected, or more if a survivor that cannot win had meanwhile
//!    started an election of a higher term. The trial's result is the time from the crash
//!    to that moment, or "did not converge".
//!
//! The old leader is not run between `t0` and the crash because nothing it would do there
//! reaches the others: its next heartbeat is due only at `t0 + heartbeat`, after the crash.
//! Starting the survivors from their storage gives the same state a heartbeat leaves them
//! in (term, log, a timer drawn afresh), except their record of who leads and how far the
//! log is committed, which an election does not read.
//!
//! # The network: 2ms to 3ms one way, not half the broadcast time
//!
//! The paper's cluster was five servers on gigabit Ethernet, with a broadcast time of about
//! 15ms, which the thesis (section 9.4) spells out as "network round trip plus disk write":
//! the wire itself took a fraction of a millisecond; the disk writes took the rest. Which
//! disk writes lie on an election's path matters more than their sum:
//!
//! - Whether votes split is decided by the time from a candidate's timeout until its
//!   RequestVote reaches the others: a server whose timer fires within that window stands
//!   too. In LogCabin, the implementation measured, a candidate writes its new term and its
//!   own vote to disk before its RequestVotes go out, so the window is one small write plus
//!   a LAN hop: a few milliseconds, not half of 15ms.
//! - A voter writes its vote before it answers; the new leader appends its no-op first.
//!   These lengthen every election by a few milliseconds, but do not change how often
//!   votes split.
//! - A heartbeat without entries writes nothing: it crosses the LAN in well under a
//!   millisecond, so one broadcast restarts the survivors' timers almost together (the
//!   paper's "synchronized" heartbeats).
//!
//! raftlab's network has one delay distribution for every message and no disk latency, so
//! the default one-way delay, 2ms to 3ms, stands for the first of these: the time from one
//! server's timeout to the others hearing of it. It leaves out the voter's write on the
//! answer, which makes elections here a few milliseconds shorter than the paper's.
//!
//! The old default, 5ms to 10ms (half the broadcast time on each hop, drawn afresh for
//! every message), put all 15ms on the wire: a RequestVote took 7.5ms on average to arrive,
//! which with 150-155ms timeouts let another survivor stand in every round (10 terms per
//! election on average, a median of about 1.1s instead of 287ms), and with 12-24ms timeouts
//! broke the timing requirement itself (a 6ms heartbeat taking up to 10ms), so that new
//! leaders were deposed before their first heartbeat arrived. The results depend on this
//! delay as much as on the timeouts; `--delay` changes it.
//!
//! A node restarts its election timer only on AppendEntries from the leader or on granting
//! a vote (Figure 2; LogCabin does the same), not on merely seeing a higher term: otherwise
//! n4 or n5, which cannot win, would hold back n2 and n3 every time it timed out first.
//! With fixed timeouts (150-150ms) nothing but the delay's spread separates the
//! survivors' timers, and it is less than the window above: such a trial splits its vote
//! every round, for ever, as the paper's did for over 10s.
//!
//! Seeds: a trial's seed is derived from the experiment seed, the range's bounds and the
//! trial's number, so a range's results do not depend on which other ranges run with it.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use thiserror::Error;

use crate::raft::{NodeId, RaftConfig, Role, Term};

use super::{ClockMode, ClusterConfig, ClusterError, Hosting, NetworkConfig, Scheduler, seed};

/// The ranges of Figure 16, in milliseconds: the top graph varies the randomness, the bottom
/// graph scales the minimum.
pub const PAPER_RANGES: &str =
    "150-150,150-151,150-155,150-175,150-200,150-300,12-24,25-50,50-100,100-200";

/// The nodes of a trial: the old leader, two survivors with its whole log, two without.
const OLD_LEADER: NodeId = 1;
const UP_TO_DATE: [NodeId; 2] = [2, 3];
const BEHIND: [NodeId; 2] = [4, 5];
/// The logs, as the terms of their entries: the old leader's, and the one it had not yet
/// replicated to every follower.
const FULL_LOG: [Term; 4] = [1, 1, 2, 2];
const SHORT_LOG: [Term; 3] = [1, 1, 2];
/// The old leader's term: every survivor is in it when the old leader crashes.
const OLD_TERM: Term = 2;

/// What can be wrong with an experiment's settings.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum ExperimentError {
    #[error("bad timeout range `{text}`: expected MIN-MAX in milliseconds, e.g. 150-300")]
    BadRange { text: String },
    #[error(
        "empty timeout range `{text}`: the minimum must be at least 1ms and at most the maximum"
    )]
    EmptyRange { text: String },
    #[error("no timeout ranges given")]
    NoRanges,
    #[error("an experiment needs at least one trial")]
    NoTrials,
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

/// A range of election timeouts, drawn uniformly from `min_us..=max_us`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimeoutRange {
    pub min_us: u64,
    pub max_us: u64,
}

impl TimeoutRange {
    /// Parses `MIN-MAX` in whole milliseconds: `150-300`.
    pub fn parse(text: &str) -> Result<TimeoutRange, ExperimentError> {
        let bad = || ExperimentError::BadRange {
            text: text.to_string(),
        };
        let (min, max) = text.trim().split_once('-').ok_or_else(bad)?;
        let ms = |part: &str| part.trim().trim_end_matches("ms").parse::<u64>().ok();
        let (min_ms, max_ms) = (ms(min).ok_or_else(bad)?, ms(max).ok_or_else(bad)?);
        if min_ms == 0 || min_ms > max_ms || max_ms > u64::MAX / 1000 {
            return Err(ExperimentError::EmptyRange {
                text: text.to_string(),
            });
        }
        Ok(TimeoutRange {
            min_us: min_ms * 1000,
            max_us: max_ms * 1000,
        })
    }

    /// Whether the timeout has no randomness at all.
    pub fn is_fixed(&self) -> bool {
        self.min_us == self.max_us
    }

    /// The leader's heartbeat interval: half the minimum election timeout, as in the paper.
    pub fn heartbeat_us(&self) -> u64 {
        self.min_us / 2
    }
}

/// `150-155ms`.
impl fmt::Display for TimeoutRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |us: u64| us as f64 / 1000.0;
        write!(f, "{}-{}ms", ms(self.min_us), ms(self.max_us))
    }
}

/// Parses a comma-separated list of ranges: `150-150,150-155,12-24`.
pub fn parse_ranges(list: &str) -> Result<Vec<TimeoutRange>, ExperimentError> {
    let ranges = list
        .split(',')
        .filter(|part| !part.trim().is_empty())
        .map(TimeoutRange::parse)
        .collect::<Result<Vec<_>, _>>()?;
    if ranges.is_empty() {
        return Err(ExperimentError::NoRanges);
    }
    Ok(ranges)
}

/// The settings shared by every trial.
#[derive(Clone, Debug, PartialEq)]
pub struct ElectionSetup {
    /// Trials per range; a range without randomness gets a tenth (at least one), as the
    /// paper gave 150-150ms 100 trials to the others' 1000.
    pub trials: u32,
    pub seed: u64,
    /// The one-way network delay, drawn uniformly from min..=max for every message: by
    /// default 2ms..3ms, the time from a candidate's timeout to its RequestVote reaching
    /// the others in the paper's cluster (see the module docs).
    pub delay_min_us: u64,
    pub delay_max_us: u64,
    /// How long after the crash a trial may run before it counts as not converging.
    pub limit_us: u64,
}

impl Default for ElectionSetup {
    fn default() -> Self {
        ElectionSetup {
            trials: 1000,
            seed: 1,
            delay_min_us: 2_000,
            delay_max_us: 3_000,
            limit_us: 10_000_000,
        }
    }
}

impl ElectionSetup {
    /// How many trials `range` gets.
    pub fn trials_for(&self, range: TimeoutRange) -> u32 {
        if range.is_fixed() {
            self.trials.div_ceil(10)
        } else {
            self.trials
        }
    }
}

/// The trials of one range.
#[derive(Clone, Debug, PartialEq)]
pub struct RangeResult {
    pub range: TimeoutRange,
    /// Each trial's time from the crash to the new leader, in trial order; `None` where no
    /// leader was elected within the limit.
    pub times_us: Vec<Option<u64>>,
    pub limit_us: u64,
}

/// A range's statistics over all its trials. A trial that did not converge counts as
/// longer than any that did: a percentile that falls on one is `None` ("over the limit").
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ElectionStats {
    pub trials: usize,
    pub not_converged: usize,
    pub min_us: Option<u64>,
    pub median_us: Option<u64>,
    pub p90_us: Option<u64>,
    pub p99_us: Option<u64>,
    pub max_us: Option<u64>,
    /// The mean, counting a trial that did not converge as the limit: then only a lower
    /// bound (`mean_is_lower_bound`).
    pub mean_us: f64,
    pub mean_is_lower_bound: bool,
}

impl RangeResult {
    /// The converged times, sorted.
    pub fn converged_sorted(&self) -> Vec<u64> {
        let mut times: Vec<u64> = self.times_us.iter().flatten().copied().collect();
        times.sort_unstable();
        times
    }

    pub fn stats(&self) -> ElectionStats {
        let sorted = self.converged_sorted();
        let trials = self.times_us.len();
        let not_converged = trials - sorted.len();
        // Nearest rank over all trials, the ones that did not converge sorting last.
        let rank = |p: f64| -> Option<u64> {
            if trials == 0 {
                return None;
            }
            let rank = ((p / 100.0) * trials as f64).ceil() as usize;
            sorted.get(rank.clamp(1, trials) - 1).copied()
        };
        let total: f64 = sorted.iter().map(|&t| t as f64).sum::<f64>()
            + not_converged as f64 * self.limit_us as f64;
        ElectionStats {
            trials,
            not_converged,
            min_us: rank(0.0),
            median_us: rank(50.0),
            p90_us: rank(90.0),
            p99_us: rank(99.0),
            max_us: rank(100.0),
            mean_us: total / trials.max(1) as f64,
            mean_is_lower_bound: not_converged > 0,
        }
    }
}

/// Runs every range's trials, calling `progress` after each trial. Trials run on as many
/// threads as the machine has cores; each trial is deterministic for its seed and results
/// are kept in trial order, so the results do not depend on the number of threads.
pub fn run(
    setup: &ElectionSetup,
    ranges: &[TimeoutRange],
    progress: &mut dyn FnMut(),
) -> Result<Vec<RangeResult>, ExperimentError> {
    if setup.trials == 0 {
        return Err(ExperimentError::NoTrials);
    }
    if ranges.is_empty() {
        return Err(ExperimentError::NoRanges);
    }
    let jobs: Vec<(usize, u32)> = (0..ranges.len())
        .flat_map(|r| (0..setup.trials_for(ranges[r])).map(move |index| (r, index)))
        .collect();
    let outcomes = run_parallel(setup, ranges, &jobs, progress)?;
    let mut results: Vec<RangeResult> = ranges
        .iter()
        .map(|&range| RangeResult {
            range,
            times_us: Vec::new(),
            limit_us: setup.limit_us,
        })
        .collect();
    for (&(r, _), outcome) in jobs.iter().zip(outcomes) {
        results[r].times_us.push(outcome?);
    }
    Ok(results)
}

/// Runs the trials `jobs` (range number, trial number) on worker threads, and returns
/// their outcomes in the order of `jobs`.
fn run_parallel(
    setup: &ElectionSetup,
    ranges: &[TimeoutRange],
    jobs: &[(usize, u32)],
    progress: &mut dyn FnMut(),
) -> Result<Vec<Result<Option<u64>, ClusterError>>, ClusterError> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let mut outcomes = vec![None; jobs.len()];
    std::thread::scope(|scope| -> Result<(), ClusterError> {
        let (done_tx, done_rx) = crossbeam_channel::unbounded();
        for worker in 0..workers.min(jobs.len()) {
            let (done_tx, next, stop) = (done_tx.clone(), &next, &stop);
            let work = move || {
                while !stop.load(Ordering::Relaxed) {
                    let job = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(r, index)) = jobs.get(job) else {
                        break;
                    };
                    let outcome = trial(setup, ranges[r], index);
                    if outcome.is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                    if done_tx.send((job, outcome)).is_err() {
                        break;
                    }
                }
            };
            std::thread::Builder::new()
                .name(format!("trials {worker}"))
                .spawn_scoped(scope, work)
                .map_err(|e| ClusterError::Spawn(e.to_string()))?;
        }
        drop(done_tx);
        for (job, outcome) in done_rx {
            outcomes[job] = Some(outcome);
            progress();
        }
        Ok(())
    })?;
    // A trial left undone was stopped by an earlier trial's error, which comes first.
    let stopped = || ClusterError::Internal("a trial did not run".to_string());
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Err(stopped())))
        .collect())
}

/// The total number of trials `run` will make.
pub fn total_trials(setup: &ElectionSetup, ranges: &[TimeoutRange]) -> u64 {
    ranges
        .iter()
        .map(|&range| u64::from(setup.trials_for(range)))
        .sum()
}

/// The seed of trial `index` of `range`.
fn trial_seed(setup: &ElectionSetup, range: TimeoutRange, index: u32) -> u64 {
    let range_seed = seed::derive(setup.seed, seed::EXPERIMENT_TRIAL, range.min_us);
    seed::derive(range_seed, range.max_us, u64::from(index))
}

/// One trial (see the module docs): the time from the crash until every survivor follows
/// a new leader, or `None` when that does not happen within the limit.
pub fn trial(
    setup: &ElectionSetup,
    range: TimeoutRange,
    index: u32,
) -> Result<Option<u64>, ClusterError> {
    Ok(trial_detail(setup, range, index)?.elected_us)
}

/// What one trial saw, each time counted from the crash.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrialDetail {
    /// When the first survivor's election timer fired (it became a candidate).
    pub first_candidate_us: Option<u64>,
    /// When a node first became leader.
    pub first_leader_us: Option<u64>,
    /// The trial's result, the paper's measure: when every survivor had received the new
    /// leader's first heartbeat (all follow one leader in its term).
    pub elected_us: Option<u64>,
    /// The elections held: the new leader's term minus the old leader's (1 is an election
    /// without a split vote); at the limit, the highest term reached minus the old one.
    pub terms: u64,
}

/// One trial, with what it saw on the way (see [`TrialDetail`]).
pub fn trial_detail(
    setup: &ElectionSetup,
    range: TimeoutRange,
    index: u32,
) -> Result<TrialDetail, ClusterError> {
    let seed = trial_seed(setup, range, index);
    let mut sim = Scheduler::start(trial_config(setup, range, seed))?;
    for node in 1..=sim.world().config().nodes {
        sim.kill(node)?;
    }
    for node in UP_TO_DATE {
        sim.set_log(node, &FULL_LOG)?;
    }
    for node in BEHIND {
        sim.set_log(node, &SHORT_LOG)?;
    }
    sim.set_log(OLD_LEADER, &FULL_LOG)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let t0 = sim.now_us();
    let delays = setup.delay_min_us..=setup.delay_max_us;
    let mut arrivals: Vec<(u64, NodeId)> = UP_TO_DATE
        .iter()
        .chain(&BEHIND)
        .map(|&node| (t0 + rng.random_range(delays.clone()), node))
        .collect();
    arrivals.sort_unstable();
    let crash_us = t0 + rng.random_range(0..range.heartbeat_us());
    for (at_us, node) in arrivals {
        sim.run_until_time(at_us)?;
        sim.restart(node)?;
    }
    let deadline_us = crash_us + setup.limit_us;
    let mut detail = TrialDetail::default();
    let since_crash = |sim: &Scheduler| Some(sim.now_us().saturating_sub(crash_us));
    let settled = sim.run_while(deadline_us, |sim| {
        let status = sim.world().status();
        let up = || status.iter().filter(|s| s.role.is_some());
        if detail.first_candidate_us.is_none() && up().any(|s| s.term > OLD_TERM) {
            detail.first_candidate_us = since_crash(sim);
        }
        let Some(leader) = up().find(|s| s.role == Some(Role::Leader)) else {
            return false;
        };
        if detail.first_leader_us.is_none() {
            detail.first_leader_us = since_crash(sim);
        }
        up().all(|s| s.term == leader.term && s.leader == Some(leader.id))
    })?;
    if settled {
        detail.elected_us = since_crash(&sim);
    }
    let last_term = sim
        .world()
        .status()
        .iter()
        .map(|s| s.term)
        .max()
        .unwrap_or(OLD_TERM);
    detail.terms = last_term.saturating_sub(OLD_TERM);
    Ok(detail)
}

/// A trial's cluster: five nodes in virtual time, the range's timeouts, heartbeats at half
/// the minimum, and the setup's network delay.
fn trial_config(setup: &ElectionSetup, range: TimeoutRange, seed: u64) -> ClusterConfig {
    ClusterConfig {
        nodes: 5,
        seed,
        clock: ClockMode::Virtual,
        hosting: Hosting::Inline,
        raft: RaftConfig {
            election_timeout_min_us: range.min_us,
            election_timeout_max_us: range.max_us,
            heartbeat_us: range.heartbeat_us(),
            ..Default::default()
        },
        network: NetworkConfig {
            delay_min_us: setup.delay_min_us,
            delay_max_us: setup.delay_max_us,
            ..Default::default()
        },
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_in_milliseconds() {
        let ranges = parse_ranges("150-150, 12-24,150ms-300ms").unwrap();
        assert_eq!(ranges[0].min_us, 150_000);
        assert!(ranges[0].is_fixed());
        assert_eq!((ranges[1].min_us, ranges[1].max_us), (12_000, 24_000));
        assert_eq!(ranges[2].to_string(), "150-300ms");
        assert_eq!(parse_ranges(PAPER_RANGES).unwrap().len(), 10);
    }

    #[test]
    fn bad_ranges_are_refused() {
        for text in ["150", "a-b", "300-150", "0-10", "-5", "1-2-3"] {
            assert!(TimeoutRange::parse(text).is_err(), "{text}");
        }
        assert_eq!(parse_ranges(" , "), Err(ExperimentError::NoRanges));
    }

    #[test]
    fn a_fixed_range_gets_a_tenth_of_the_trials() {
        let setup = ElectionSetup::default();
        let fixed = TimeoutRange::parse("150-150").unwrap();
        let random = TimeoutRange::parse("150-155").unwrap();
        assert_eq!(setup.trials_for(fixed), 100);
        assert_eq!(setup.trials_for(random), 1000);
        assert_eq!(total_trials(&setup, &[fixed, random]), 1100);
    }

    #[test]
    fn statistics_count_trials_that_did_not_converge_as_longest() {
        let result = RangeResult {
            range: TimeoutRange::parse("150-300").unwrap(),
            times_us: vec![Some(300), None, Some(100), Some(200)],
            limit_us: 1000,
        };
        let stats = result.stats();
        assert_eq!((stats.trials, stats.not_converged), (4, 1));
        assert_eq!(stats.min_us, Some(100));
        assert_eq!(stats.median_us, Some(200));
        assert_eq!(stats.p90_us, None);
        assert_eq!(stats.max_us, None);
        assert_eq!(stats.mean_us, 400.0);
        assert!(stats.mean_is_lower_bound);
    }
}
