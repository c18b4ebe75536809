//! One run: the scheduler driven in steps of [`TICK_US`], its actions from the seed's
//! generator (exploring) or from a recorded schedule (replaying), and the checks.

use crate::cluster::checker::operations;
use crate::cluster::linearizability::{Verdict, check};
use crate::cluster::{NodeState, Sim};
use crate::raft::NodeId;

use super::generate::Generator;
use super::schedule::Timed;
use super::{Failure, RunReport, Setup, TICK_US};

/// Where a run's actions come from.
trait Source {
    /// Applies the actions of time `at_us`, recording those that applied.
    fn tick(&mut self, at_us: u64, sim: &mut Sim, applied: &mut Vec<Timed>);
}

impl Source for Generator {
    fn tick(&mut self, at_us: u64, sim: &mut Sim, applied: &mut Vec<Timed>) {
        Generator::tick(self, at_us, sim, applied)
    }
}

/// A recorded schedule, played back.
struct Replay<'a> {
    schedule: &'a [Timed],
    next: usize,
}

impl Source for Replay<'_> {
    fn tick(&mut self, at_us: u64, sim: &mut Sim, applied: &mut Vec<Timed>) {
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
    let mut generator = Generator::new(setup.seed, setup, &setup.faults);
    execute(setup, &mut generator)
}

/// Runs `schedule` on the seed's cluster: the same run as the one that recorded it, or,
/// with actions left out, a smaller one.
pub fn replay(setup: &Setup, schedule: &[Timed]) -> RunReport {
    let mut source = Replay { schedule, next: 0 };
    execute(setup, &mut source)
}

fn execute(setup: &Setup, source: &mut dyn Source) -> RunReport {
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
    };
    let mut sim = match Sim::start(setup.config.clone()) {
        Ok(sim) => sim,
        Err(error) => {
            report.failure = Some(Failure::Error(error.to_string()));
            return report;
        }
    };
    let live = drive(setup, source, &mut sim, &mut report);
    report.handoffs = sim.handoffs();
    report.events = sim.events_emitted();
    report.operations = sim.history().len();
    report.steps_checked = sim.checker().steps_checked();
    if report.failure.is_none() && !live {
        report.failure = Some(Failure::Liveness);
    }
    if report.failure.is_none() {
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
/// healed cluster makes progress (true), or until the liveness bound (false).
fn drive(setup: &Setup, source: &mut dyn Source, sim: &mut Sim, report: &mut RunReport) -> bool {
    let end_us = setup.chaos_us + setup.liveness_us;
    let mut at_us = 0;
    while at_us < end_us {
        at_us += TICK_US;
        report.end_us = at_us;
        if let Err(error) = sim.run_until_time(at_us) {
            report.failure = Some(Failure::Error(error.to_string()));
            return false;
        }
        if let Some(failure) = safety_failure(sim) {
            report.failure = Some(failure);
            return false;
        }
        if at_us > setup.chaos_us && made_progress(sim) {
            return true;
        }
        source.tick(at_us, sim, &mut report.schedule);
    }
    false
}

/// The first violation the checker found, or a node that crashed.
fn safety_failure(sim: &Sim) -> Option<Failure> {
    if let Some(violation) = sim.violations().first() {
        return Some(Failure::Violation(violation.clone()));
    }
    sim.crashed()
        .map(|(node, message)| Failure::Crash { node, message })
}

/// Some node leads, and every member of its configuration (its latest, voters and
/// learners) is up, in its term, and has committed an entry of it. A node the
/// configuration leaves out (removed) owes nothing.
fn made_progress(sim: &Sim) -> bool {
    let Some(leader) = sim.leader() else {
        return false;
    };
    let nodes = sim.status();
    let Some(term) = nodes.iter().find(|s| s.id == leader).map(|s| s.term) else {
        return false;
    };
    let (_, voters, learners) = sim.checker().configuration_of(leader);
    let member = |node: NodeId| voters.contains(&node) || learners.contains(&node);
    nodes.iter().filter(|s| member(s.id)).all(|s| {
        s.state == NodeState::Up
            && s.term == term
            && s.commit > 0
            && sim.term_at(s.id, s.commit) == Some(term)
    })
}
