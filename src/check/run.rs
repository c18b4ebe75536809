//! One run: the scheduler driven in steps of [`TICK_US`], its actions from the seed's
//! generator (exploring) or from a recorded schedule (replaying), and the checks.
//!
//! A run is bounded: by its seed's budget of events and wall time ([`super::SeedBudget`]),
//! by the network's load bounds (a message storm is a violation, see
//! [`crate::cluster::storm`]), and by a flag that calls it off when another seed has
//! already failed, so that no run holds back the report of a check.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::cluster::checker::operations;
use crate::cluster::linearizability::{Verdict, check};
use crate::cluster::settle::{SettleGap, committed_in, follows, leader_members, unsettled};
use crate::cluster::{LogScope, NodeState, Scheduler};
use crate::raft::{Index, NodeId};

use super::generate::Generator;
use super::schedule::Timed;
use super::{Failure, RunReport, Setup, TICK_US};

/// Where a run's actions come from.
trait Source {
    /// Applies the actions of time `at_us`, recording those that applied.
    fn tick(&mut self, at_us: u64, sim: &mut Scheduler, applied: &mut Vec<Timed>);
}

impl Source for Generator {
    fn tick(&mut self, at_us: u64, sim: &mut Scheduler, applied: &mut Vec<Timed>) {
        Generator::tick(self, at_us, sim, applied)
    }
}

/// A recorded schedule, played back.
struct Replay<'a> {
    schedule: &'a [Timed],
    next: usize,
}

impl Source for Replay<'_> {
    fn tick(&mut self, at_us: u64, sim: &mut Scheduler, applied: &mut Vec<Timed>) {
        while let Some(timed) = self.schedule.get(self.next) {
            if timed.at_us > at_us {
                return;
            }
            self.next += 1;
            if timed.action.apply(sim).is_ok() {
                applied.push(timed.clone());
            }
        }
    }
}

/// Runs a seed, its actions drawn from the seed.
pub fn explore(setup: &Setup) -> RunReport {
    explore_unless(setup, &AtomicBool::new(false))
}

/// [`explore`], called off (the report marked `cancelled`) as soon as `cancel` is set.
pub fn explore_unless(setup: &Setup, cancel: &AtomicBool) -> RunReport {
    let mut generator = Generator::new(setup.seed, setup, &setup.faults);
    execute(setup, &mut generator, cancel)
}

/// Runs `schedule` on the seed's cluster: the same run as the one that recorded it, or,
/// with actions left out, a smaller one.
pub fn replay(setup: &Setup, schedule: &[Timed]) -> RunReport {
    let mut source = Replay { schedule, next: 0 };
    execute(setup, &mut source, &AtomicBool::new(false))
}

fn execute(setup: &Setup, source: &mut dyn Source, cancel: &AtomicBool) -> RunReport {
    let mut report = RunReport {
        setup: setup.clone(),
        schedule: Vec::new(),
        failure: None,
        end_us: 0,
        handoffs: 0,
        events: 0,
        operations: 0,
        steps_checked: 0,
        undecided_key: None,
        cancelled: false,
        peak_in_flight: 0,
        peak_events_per_second: 0,
    };
    let mut sim = match Scheduler::start(setup.config.clone()) {
        Ok(sim) => sim,
        Err(error) => {
            report.failure = Some(Failure::Error(error.to_string()));
            return report;
        }
    };
    // Every event is still counted and checked against the budget; none is read back.
    sim.observers_mut().log_only(LogScope::Nothing);
    let live = drive(setup, source, &mut sim, &mut report, cancel);
    report.handoffs = sim.handoffs();
    report.events = sim.observers().events_emitted();
    report.operations = sim.history().len();
    report.steps_checked = sim.observers().checker().steps_checked();
    report.peak_events_per_second = sim.observers().peak_events_per_second();
    if report.failure.is_none() && !live && !report.cancelled {
        let missing = unsettled(&sim).unwrap_or(SettleGap::NoLeader);
        let within = crate::repl::words::format_duration(setup.liveness_us);
        report.failure = Some(Failure::Liveness(format!("within {within}: {missing}")));
    }
    if report.failure.is_none() && !report.cancelled {
        match check(&operations(sim.history()), setup.budget) {
            Verdict::Linearizable => {}
            Verdict::Violation(violation) => {
                report.failure = Some(Failure::Linearizability(violation))
            }
            Verdict::Unknown { key, .. } => report.undecided_key = Some(key),
        }
    }
    report
}

/// Moves the clock a tick at a time, checking and acting, until a failure, until the
/// healed cluster makes progress (true), until the liveness bound (false), or until the
/// run is over its budget or called off.
fn drive(
    setup: &Setup,
    source: &mut dyn Source,
    sim: &mut Scheduler,
    report: &mut RunReport,
    cancel: &AtomicBool,
) -> bool {
    let end_us = setup.chaos_us + setup.liveness_us;
    let midway_us = setup.chaos_us + setup.liveness_us / 2;
    // Where the members stood halfway through the settle window (see [`catching_up`]).
    let mut midway: Option<Standing> = None;
    let started = Instant::now();
    let mut at_us = 0;
    while at_us < end_us {
        if cancel.load(Ordering::Relaxed) {
            report.cancelled = true;
            return false;
        }
        if let Some(what) = over_budget(setup, sim, started, at_us) {
            report.failure = Some(Failure::OverBudget(what));
            return false;
        }
        at_us += TICK_US;
        report.end_us = at_us;
        if let Err(error) = sim.run_until_time(at_us) {
            report.failure = Some(Failure::Error(error.to_string()));
            return false;
        }
        report.peak_in_flight = report
            .peak_in_flight
            .max(sim.world().network().in_flight_count());
        if let Some(failure) = safety_failure(sim) {
            report.failure = Some(failure);
            return false;
        }
        if at_us > setup.chaos_us && made_progress(sim) {
            return true;
        }
        if midway.is_none() && at_us >= midway_us {
            midway = standing(sim);
        }
        source.tick(at_us, sim, &mut report.schedule);
    }
    midway.is_some_and(|midway| catching_up(sim, &midway))
}

/// Where the members of a leader's latest configuration stand: the leader, and for each
/// member (voter or learner) its commit index and the leader's match index for it (the
/// leader's own last index for itself).
struct Standing {
    leader: NodeId,
    voters: Vec<NodeId>,
    members: Vec<(NodeId, Index, Index)>,
}

fn standing(sim: &Scheduler) -> Option<Standing> {
    let (leader, voters, learners) = leader_members(sim)?;
    let status = sim.world().status();
    let at_leader = status.iter().find(|node| node.id == leader)?;
    let matched = |id: NodeId| match id == leader {
        true => at_leader.last_index,
        false => (at_leader.progress.iter())
            .find(|p| p.node == id)
            .map_or(0, |p| p.match_index),
    };
    let members = (status.iter())
        .filter(|node| voters.contains(&node.id) || learners.contains(&node.id))
        .map(|node| (node.id, node.commit, matched(node.id)))
        .collect();
    Some(Standing {
        leader,
        voters: voters.to_vec(),
        members,
    })
}

/// Whether the healed cluster is settled but for members still catching up: under the
/// leader it had at `midway` (halfway through the settle window), every member of its
/// latest configuration is up, in the leader's term (a voter following it), and either
/// has committed an entry of that term or is gaining: its commit index, or the leader's
/// match index for it, moved on since `midway`; the leader gains while any member does.
/// A node that slept through the faults, or a learner added behind a long log, under a
/// shape that sends one entry at a time over a slow network, can need more than the
/// window to catch up, and a leader cannot commit an entry of its term until a majority
/// has caught up; while they gain they are live, not stuck.
fn catching_up(sim: &Scheduler, midway: &Standing) -> bool {
    let Some(now) = standing(sim) else {
        return false;
    };
    if now.leader != midway.leader {
        return false;
    }
    let status = sim.world().status();
    let term_at = |node, index| sim.world().term_at(node, index);
    let Some(term) = status.iter().find(|n| n.id == now.leader).map(|n| n.term) else {
        return false;
    };
    let gains = |&(id, commit, matched): &(NodeId, Index, Index)| {
        let before = midway.members.iter().find(|m| m.0 == id);
        before.is_some_and(|&(_, was_commit, was_matched)| {
            commit > was_commit || (id != now.leader && matched > was_matched)
        })
    };
    let any_gains = now.members.iter().any(gains);
    now.members.iter().all(|member| {
        let Some(node) = status.iter().find(|n| n.id == member.0) else {
            return false;
        };
        let settled = committed_in(node, term, term_at);
        let gaining = gains(member) || (node.id == now.leader && any_gains);
        let follows = follows(node, now.leader, &now.voters);
        node.state == NodeState::Up && node.term == term && follows && (settled || gaining)
    })
}

/// The first violation the checker found, or a node that crashed.
fn safety_failure(sim: &Scheduler) -> Option<Failure> {
    if let Some(violation) = sim.observers().violations().first() {
        return Some(Failure::Violation(violation.clone()));
    }
    sim.world().crashed().map(|(node, crash)| Failure::Crash {
        node,
        message: crash.to_string(),
    })
}

/// What of the seed's budget ran out, if any: its events, or (looked at every 64 ticks)
/// its wall time.
fn over_budget(setup: &Setup, sim: &Scheduler, started: Instant, at_us: u64) -> Option<String> {
    let budget = setup.seed_budget;
    if sim.observers().events_emitted() > budget.events {
        let events = sim.observers().events_emitted();
        return Some(format!(
            "{events} event{} by {} of cluster time (the budget is {})",
            if events == 1 { "" } else { "s" },
            crate::repl::words::fmt_ms(at_us),
            budget.events
        ));
    }
    let looked_at = (at_us / TICK_US).is_multiple_of(64);
    (looked_at && started.elapsed() > budget.wall).then(|| {
        format!(
            "{:.1}s of wall time by {} of cluster time (the budget is {:?})",
            started.elapsed().as_secs_f64(),
            crate::repl::words::fmt_ms(at_us),
            budget.wall
        )
    })
}

/// The healed cluster has settled and made progress: see [`unsettled`].
fn made_progress(sim: &Scheduler) -> bool {
    unsettled(sim).is_none()
}
