//! A run's schedule: the faults and client operations it applied, each at a time of
//! cluster time, and how it becomes the command lines of a scenario file.
//!
//! Every action is one command of the command language, and is applied to the scheduler
//! through the same [`Scheduler`] method the REPL's command reaches through the cluster handle,
//! so a schedule written as a scenario (on a paused clock, with `run D` steps between the
//! actions) replays the run exactly.

use std::fmt;

use crate::cluster::kv::KvOp;
use crate::cluster::{ClusterError, OpId, Rule, Scheduler};
use crate::raft::NodeId;

/// One fault or client operation.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Kill(NodeId),
    Restart(NodeId),
    /// Every node is named in one of the groups.
    Partition(Vec<Vec<NodeId>>),
    Isolate(NodeId),
    Cut {
        from: NodeId,
        to: NodeId,
        one_way: bool,
    },
    Link {
        from: NodeId,
        to: NodeId,
        one_way: bool,
    },
    Heal,
    NetDrop(f64),
    NetDelay {
        min_us: u64,
        max_us: u64,
    },
    NetDup(f64),
    NetReorder(bool),
    /// `add N`: the leader adds a node (a new one, started empty) as a learner.
    Add(NodeId),
    /// `remove N`: the leader removes a node from the configuration.
    Remove(NodeId),
    /// `snapshot N`: the node takes a snapshot and compacts its log.
    Snapshot(NodeId),
    /// A client operation, started without waiting for it (as on a paused clock).
    Client {
        op: KvOp,
        via: Option<NodeId>,
    },
}

/// An action at a time of cluster time.
#[derive(Clone, Debug, PartialEq)]
pub struct Timed {
    pub at_us: u64,
    pub action: Action,
}

pub use crate::repl::words::format_duration as duration;

fn node_list(nodes: &[NodeId]) -> String {
    let names: Vec<String> = nodes.iter().map(|n| n.to_string()).collect();
    names.join(",")
}

/// The action as a command line of the command language.
impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let arrow = |one_way: bool| if one_way { " -> " } else { " " };
        match self {
            Action::Kill(node) => write!(f, "kill {node}"),
            Action::Restart(node) => write!(f, "restart {node}"),
            Action::Partition(groups) => {
                let groups: Vec<String> = groups.iter().map(|g| node_list(g)).collect();
                write!(f, "partition {}", groups.join(" | "))
            }
            Action::Isolate(node) => write!(f, "isolate {node}"),
            Action::Cut { from, to, one_way } => write!(f, "cut {from}{}{to}", arrow(*one_way)),
            Action::Link { from, to, one_way } => write!(f, "link {from}{}{to}", arrow(*one_way)),
            Action::Heal => write!(f, "heal"),
            Action::NetDrop(p) => write!(f, "net drop {p}"),
            Action::NetDelay { min_us, max_us } => {
                write!(f, "net delay {}..{}", duration(*min_us), duration(*max_us))
            }
            Action::NetDup(p) => write!(f, "net dup {p}"),
            Action::NetReorder(on) => write!(f, "net reorder {}", if *on { "on" } else { "off" }),
            Action::Add(node) => write!(f, "add {node}"),
            Action::Remove(node) => write!(f, "remove {node}"),
            Action::Snapshot(node) => write!(f, "snapshot {node}"),
            Action::Client { op, via } => {
                write!(f, "{op}")?;
                match via {
                    Some(node) => write!(f, " via {node}"),
                    None => Ok(()),
                }
            }
        }
    }
}

impl Action {
    /// Applies the action to the scheduler, as the REPL's command does. Returns the
    /// operation's id for a client operation. An action that cannot apply (killing a
    /// node that is down, removing a node the cluster does not host, adding one when no
    /// node leads) changes nothing.
    pub fn apply(&self, sim: &mut Scheduler) -> Result<Option<OpId>, ClusterError> {
        let net = |sim: &mut Scheduler, change: &dyn Fn(&mut crate::cluster::NetworkConfig)| {
            let mut config = sim.world().network().config().clone();
            change(&mut config);
            sim.set_network(config)
        };
        match self {
            Action::Kill(node) => sim.kill(*node)?,
            Action::Restart(node) => sim.restart(*node)?,
            Action::Partition(groups) => sim.partition(groups.clone())?,
            Action::Isolate(node) => sim.isolate(*node)?,
            Action::Cut { from, to, one_way } => sim.set_link(*from, *to, *one_way, false)?,
            Action::Link { from, to, one_way } => sim.set_link(*from, *to, *one_way, true)?,
            Action::Heal => sim.heal(),
            Action::NetDrop(p) => net(sim, &|c| c.drop = *p)?,
            Action::NetDelay { min_us, max_us } => net(sim, &|c| {
                c.delay_min_us = *min_us;
                c.delay_max_us = *max_us;
            })?,
            Action::NetDup(p) => net(sim, &|c| c.duplicate = *p)?,
            Action::NetReorder(on) => net(sim, &|c| c.reorder = *on)?,
            // A change the leader refuses (another is in flight) still applied: the command
            // ran, and a replay runs it again to the same refusal.
            Action::Add(node) => sim.add(*node).map(|_| ())?,
            Action::Remove(node) => sim.remove(*node).map(|_| ())?,
            Action::Snapshot(node) => sim.snapshot(*node).map(|_| ())?,
            Action::Client { op, via } => {
                return sim.submit(op.clone(), *via, None, None).map(Some);
            }
        }
        Ok(None)
    }
}

/// How a written scenario ends.
#[derive(Clone, Debug, PartialEq)]
pub enum Ending {
    /// `expect violation RULE`: the rule the run broke.
    Violation(Rule),
    /// The healed cluster did not settle: told in words, then `expect unsettled`, which
    /// holds on replay as long as the failure does.
    Unsettled(String),
    /// A failure that is not a rule (a crash, over budget): told in words.
    Say(String),
}

/// The steps of a scenario that replays `schedule` on a paused clock: `run D` up to each
/// action's time, the action, then `run` up to `until_us` and the ending.
pub fn steps(schedule: &[Timed], until_us: u64, ending: &Ending) -> Vec<String> {
    let mut lines = Vec::new();
    let mut clock_us = 0;
    for timed in schedule {
        if timed.at_us > clock_us {
            lines.push(format!("run {}", duration(timed.at_us - clock_us)));
            clock_us = timed.at_us;
        }
        lines.push(timed.action.to_string());
    }
    if until_us > clock_us {
        lines.push(format!("run {}", duration(until_us - clock_us)));
    }
    match ending {
        Ending::Violation(rule) => lines.push(format!("expect violation {rule}")),
        Ending::Unsettled(text) => {
            lines.push(format!("say {text}"));
            lines.push("expect unsettled".to_string());
        }
        Ending::Say(text) => lines.push(format!("say {text}")),
    }
    lines
}
