//! `raftlab explore`: bounded model checking of the real Raft core.
//!
//! Where `raftlab check` runs random schedules, `explore` runs every schedule within
//! bounds, as TLC does for the TLA+ specification of Raft, but on the [`RaftProcessor`]
//! that the REPL and the cluster run, not on a model of it. It keeps stateright's
//! separation of concerns, in modules of its own:
//!
//! - **what a state is, and what may happen** ([`model`]): every node's processor and
//!   durable storage, the multiset of messages in flight and which nodes are up; actions
//!   deliver, drop or duplicate any message in flight, fire a node's election timer or a
//!   leader's heartbeat timer, crash a node (volatile state lost, messages to and from it
//!   lost), restart it from its storage, write or read at a leader, or ask the leader to
//!   add or remove a node (one node more than the initial ones may join). Time is abstracted: a
//!   timer firing is an action, and the clock readings are no part of a state;
//! - **what makes two states one** ([`fingerprint`]): a 64-bit fingerprint over exactly
//!   the fields that matter, optionally the least over every renaming of the nodes
//!   (symmetry reduction);
//! - **what must hold** ([`rules`]): the safety rules of the cluster's checker, with its
//!   rule names and words, and the core's own asserts (a panicking step is a finding);
//! - **how the space is searched** ([`search`]): breadth-first (shortest
//!   counterexample), depth-first or random walks, on every core, with one visited set.
//!
//! A finding comes back as a [`Counterexample`]: the path in words, one line an action,
//! and as command lines that replay it on a paused cluster in which nothing happens by
//! itself ([`Model::cluster_config`]): `deliver`, `drop` and `dup` by message id (the ids
//! the cluster gives, predicted by the model), `campaign` for an election timeout, `tick`
//! for a heartbeat, `kill`, `restart`, `put ... via NODE` or `get ... via NODE` then
//! `step` for a write or a read, `add` and `remove`.
//! [`scenario`] writes that as a scenario file ending with `expect violation RULE`;
//! [`replay`] plays it on a real cluster and returns the rules its checker saw broken.
//!
//! Deliberately left out: PreVote, CheckQuorum, lease and ReadIndex reads and snapshots
//! (the model turns them off; their timing rules would need the clock back in the state):
//! reads go through the log, as the cluster's default `reads: log` has them.

mod cli;
pub mod fingerprint;
pub mod model;
pub mod rules;
pub mod search;

use thiserror::Error;

use crate::cluster::{ClockMode, ClusterConfig, Rule, ViewLimits};
use crate::repl::scenario::{Header, scenario_yaml};
use crate::repl::session::Session;

pub use cli::{ExploreArgs, run};
pub use model::{Action, ActionKind, Bounds, MAX_NODES, Model, Outcome, State};
pub use rules::Finding;
pub use search::{Cutoff, Found, Outcomes, Progress, SearchOptions, Searcher, Strategy, search};

/// Bounds that cannot work.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ExploreError {
    #[error("explore takes 1 to {MAX_NODES} nodes, not {0}")]
    Nodes(u64),
    #[error("--{0} must be at least 1")]
    Zero(&'static str),
    #[error("--actions leaves nothing to do: name at least one of deliver, timeout, write")]
    NoActions,
}

/// Checks the bounds before anything runs.
pub fn validate(bounds: &Bounds) -> Result<(), ExploreError> {
    if bounds.nodes == 0 || bounds.nodes > MAX_NODES {
        return Err(ExploreError::Nodes(bounds.nodes));
    }
    for (name, value) in [
        ("max-term", bounds.max_term),
        ("max-log", bounds.max_log),
        ("max-depth", u64::from(bounds.max_depth)),
    ] {
        if value == 0 {
            return Err(ExploreError::Zero(name));
        }
    }
    let moves = [ActionKind::Deliver, ActionKind::Timeout, ActionKind::Write];
    if !moves.iter().any(|kind| bounds.actions.contains(kind)) {
        return Err(ExploreError::NoActions);
    }
    Ok(())
}

/// One step of a counterexample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub action: Action,
    /// What happens, in words.
    pub words: String,
    /// The command lines that make it happen in a paused cluster.
    pub commands: Vec<String>,
}

/// A path from the initial state to a finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counterexample {
    pub finding: Finding,
    pub steps: Vec<Step>,
}

/// The path of `found` in words and command lines, by taking its actions again from the
/// initial state.
pub fn counterexample(model: &Model, found: &Found) -> Counterexample {
    let mut state = model.init();
    let mut steps = Vec::with_capacity(found.actions.len());
    for &action in &found.actions {
        steps.push(Step {
            action,
            words: action.describe(&state),
            commands: action.steps(&state),
        });
        if let Outcome::Next { state: next, .. } = model.next(&state, action) {
            state = next;
        }
    }
    Counterexample {
        finding: found.finding.clone(),
        steps,
    }
}

/// The command lines of a counterexample's scenario: its steps, each said in words
/// first, and `expect violation RULE` (a core panic has no rule to expect: the file
/// then says so and ends).
pub fn scenario_steps(counterexample: &Counterexample) -> Vec<String> {
    let mut lines = Vec::new();
    for (number, step) in counterexample.steps.iter().enumerate() {
        lines.push(format!("say {}. {}", number + 1, step.words));
        lines.extend(step.commands.iter().cloned());
    }
    match counterexample.finding.rule {
        Some(rule) => lines.push(format!("expect violation {}", rule.name())),
        None => lines.push(format!("say {}", counterexample.finding.detail)),
    }
    lines
}

/// The scenario file of a counterexample (DESIGN.md, "Scenario files"), on the header's clock
/// (a paused one: the steps are a schedule).
pub fn scenario(model: &Model, counterexample: &Counterexample, header: &Header) -> String {
    scenario_yaml(
        header,
        &model.cluster_config(),
        &scenario_steps(counterexample),
    )
}

/// Plays a counterexample's steps on a real cluster on a paused clock, as `raftlab run`
/// plays its scenario, and returns the rules the cluster's checker saw broken. The replay
/// ends at the first step that breaks a rule (the cluster's checker has rules the model
/// does not hold, and may see one broken before the model's); a step that fails without
/// a broken rule is an error.
pub fn replay(model: &Model, counterexample: &Counterexample) -> Result<Vec<Rule>, String> {
    let config = ClusterConfig {
        clock: ClockMode::Paused,
        ..model.cluster_config()
    };
    let mut session = Session::new(config).map_err(|e| e.to_string())?;
    let violations = |session: &Session| {
        session
            .cluster()
            .view(ViewLimits::least())
            .map(|view| view.violations)
            .map_err(|e| e.to_string())
    };
    'steps: for step in &counterexample.steps {
        for line in &step.commands {
            let outcome = session.run_line(line).map_err(|e| format!("{line}: {e}"))?;
            if !outcome.passed {
                // A step fails when it breaks a rule: the replay ends there, as the
                // path does (a later step may not even be possible any more).
                if !violations(&session)?.is_empty() {
                    break 'steps;
                }
                return Err(format!("{line}: {}", outcome.text));
            }
        }
    }
    let violations = violations(&session)?;
    let mut rules: Vec<Rule> = violations.iter().map(|v| v.rule).collect();
    rules.dedup();
    // Linearizability is checked over the clients' history on demand, not by the rules
    // held at every hand-off.
    if counterexample.finding.rule == Some(Rule::Linearizability) {
        let line = "expect violation linearizability";
        let outcome = session.run_line(line).map_err(|e| format!("{line}: {e}"))?;
        if outcome.passed {
            rules.push(Rule::Linearizability);
        }
    }
    Ok(rules)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_clients;
