//! The command language on a hosted cluster: a line is read by the project's parser
//! ([`crate::repl::parse::parse`], the one command table), so the words, the errors and
//! `help` are the REPL's; this file only runs what a hosted cluster can do.
//!
//! On a hosted cluster, `pause` holds every message between nodes on the wire, `step`
//! delivers the next one, `deliver ID` / `drop ID` a chosen one, and `resume` lets them
//! flow again; the programs' own clocks go on meanwhile (holding messages is not stopping
//! time). Two words are the host's own, read before the parser: `pause N` / `resume N`
//! stop and continue node N's process (SIGSTOP, SIGCONT), and `logs N` shows the end of
//! what node N wrote on stderr. A command only the built-in cluster can do (`campaign`,
//! `set-log`, `back`, `save`, ...) answers one line that says why.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::Value as Json;
use thiserror::Error;

use super::clients::{End, end_words, text};
use super::protocol::{Body, KvRequest};
use super::run::Host;
use crate::cluster::kv::{KvOp, KvOutput};
use crate::cluster::{ClusterView, OpId};
use crate::lincheck::Budget;
use crate::lincheck::check::{Verdict, check};
use crate::lincheck::kv::{KvModel, KvReply};
use crate::raft::NodeId;
use crate::repl::command::{
    Command, Condition, NodeNumber, NodeRef, NodeRole, NodeSel, NodeSet, ParseError, ResolveError,
    SafetyRule, TraceLevel, parse,
};
use crate::repl::session::Outcome;
use crate::repl::table;
use crate::repl::watch::Driven;

/// How long a client command waits for its answer.
const CLIENT_WAIT: Duration = Duration::from_secs(2);
/// How long `wait` waits when no `within` is given.
const WAIT_DEFAULT: Duration = Duration::from_secs(10);
/// The longest `run` or `wait` on a hosted cluster (wall time).
const WAIT_LONGEST: Duration = Duration::from_secs(600);
/// How long the linearizability check of `expect safe` may search.
const CHECK_BUDGET: Duration = Duration::from_secs(5);

/// Why a command did not run on a hosted cluster.
#[derive(Debug, Error)]
pub enum HostCommandError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error("`{command}` needs the built-in cluster: {why}")]
    BuiltInOnly { command: String, why: &'static str },
    #[error("no node says it leads (a hosted node tells its role only by its state line)")]
    NoLeader,
    #[error("no message #{0} in flight (msgs lists them)")]
    NoMessage(u64),
    #[error("{0}")]
    Failed(String),
}

/// A hosted cluster driven by command lines.
pub struct HostSession {
    pub host: Host,
    trace: TraceLevel,
    keys: Vec<String>,
}

impl HostSession {
    pub fn new(host: Host) -> HostSession {
        HostSession {
            host,
            trace: TraceLevel::Changes,
            keys: Vec::new(),
        }
    }

    /// What the live view's story tells.
    pub fn trace(&self) -> TraceLevel {
        self.trace
    }

    /// The keys the commands have used, for completion.
    pub fn keys(&self) -> Vec<String> {
        self.keys.clone()
    }

    /// The nodes' ids, 1..N.
    pub fn node_ids(&self) -> Vec<NodeId> {
        (1..=self.host.slots.len() as NodeId).collect()
    }

    /// Runs one line of the command language.
    pub fn run_line(&mut self, line: &str) -> Result<Outcome, HostCommandError> {
        if let Some(outcome) = self.host_words(line)? {
            return Ok(outcome);
        }
        let Some(command) = parse(line)? else {
            return Ok(said(""));
        };
        command.check_nodes(&self.node_ids())?;
        self.execute(&command)
    }

    /// `pause N`, `resume N` and `logs N`: the host's own words.
    fn host_words(&mut self, line: &str) -> Result<Option<Outcome>, HostCommandError> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let (verb, node) = match words.as_slice() {
            [verb @ ("pause" | "resume" | "logs"), node] => (*verb, *node),
            ["help", "logs"] => {
                let text = "usage: logs NODE\nThe end of what a hosted node wrote on stderr \
                            (all of it is in OUT/nN.log).\nexample: logs 2";
                return Ok(Some(said(text)));
            }
            ["logs"] => {
                let usage = "logs NODE: the end of what the node wrote on stderr";
                return Err(HostCommandError::Failed(usage.to_string()));
            }
            _ => return Ok(None),
        };
        let node = match node.trim_start_matches('n').parse::<NodeId>() {
            Ok(id) => NodeRef::Id(id),
            Err(_) if node == "leader" => NodeRef::Leader,
            Err(_) => {
                let text = node.to_string();
                return Err(ParseError::BadNode { text }.into());
            }
        };
        let n = self.node(node)?;
        let name = self.host.slots[n].name.clone();
        Ok(Some(match verb {
            "logs" => said(logs(&self.host, n)?),
            "pause" => {
                self.host.pause(n, true);
                said(format!("{name} stopped (SIGSTOP)"))
            }
            _ => {
                self.host.pause(n, false);
                said(format!("{name} continued (SIGCONT)"))
            }
        }))
    }

    /// A node by reference, as an index from 0.
    fn node(&self, node: NodeRef) -> Result<usize, HostCommandError> {
        let index = match node {
            NodeRef::Id(id) => id as usize,
            NodeRef::Leader => {
                return self
                    .host
                    .reported_leader()
                    .ok_or(HostCommandError::NoLeader);
            }
        };
        let nodes = self.host.slots.len();
        if index == 0 || index > nodes {
            let nodes = format!("n1..n{nodes}");
            return Err(ResolveError::NoSuchNode {
                node: index as NodeId,
                nodes,
            }
            .into());
        }
        Ok(index - 1)
    }

    fn execute(&mut self, command: &Command) -> Result<Outcome, HostCommandError> {
        let host = &mut self.host;
        Ok(match command {
            Command::Status { json: true, .. } => {
                let why = "on a hosted cluster `status` is words only";
                return Err(HostCommandError::Failed(why.to_string()));
            }
            Command::Status { rows, .. } => {
                let named: Result<Vec<usize>, _> =
                    rows.named().iter().map(|&n| self.node(n)).collect();
                said(status(&self.host, &named?))
            }
            Command::Msgs => said(messages(host)),
            Command::Net => said(network(host)),
            Command::Events { count } => said(events(host, count.unwrap_or(20))),
            Command::Trace { level } => {
                self.trace = *level;
                said(format!("the live view's story tells: {level}"))
            }
            Command::Help { topic } => said(help(topic.as_deref())),
            Command::Pause => {
                host.held = true;
                said("messages between nodes are held on the wire (the programs' clocks go on)")
            }
            Command::Resume => {
                host.held = false;
                said("messages between nodes are flowing")
            }
            Command::Run { duration_us } => {
                let wait = Duration::from_micros(*duration_us).min(WAIT_LONGEST);
                let before_us = host.now_us();
                host.run_for(wait);
                let ran_ms = (host.now_us() - before_us) / 1000;
                match host.interrupted() {
                    true => said(format!("interrupted (Ctrl-C) after {ran_ms} ms")),
                    false => said(format!("ran {} ms", wait.as_millis())),
                }
            }
            Command::Step { count } => {
                let ids: Vec<String> = (0..*count)
                    .map_while(|_| host.step_one())
                    .map(|id| format!("#{id}"))
                    .collect();
                said(match ids.is_empty() {
                    true => "nothing in flight".to_string(),
                    false => format!("delivered {}", ids.join(" ")),
                })
            }
            Command::Deliver { msg } => match host.deliver_now(*msg) {
                true => said(format!("delivered #{msg}")),
                false => return Err(HostCommandError::NoMessage(*msg)),
            },
            Command::Drop { msg } => match host.drop_message(*msg) {
                true => said(format!("dropped #{msg}")),
                false => return Err(HostCommandError::NoMessage(*msg)),
            },
            Command::Kill { nodes } => self.kill_restart(nodes, true)?,
            Command::Restart { nodes } => self.kill_restart(nodes, false)?,
            Command::Partition { groups } => {
                let mut indices = Vec::new();
                for group in groups {
                    let group: Result<Vec<usize>, _> =
                        group.iter().map(|&n| self.node(n)).collect();
                    indices.push(group?);
                }
                self.host.partition(&indices);
                let words: Vec<String> = indices.iter().map(|g| names(&self.host, g)).collect();
                said(format!("partitioned: {}", words.join(" | ")))
            }
            Command::Isolate { node } => {
                let n = self.node(*node)?;
                let rest = (0..self.host.slots.len()).filter(|&m| m != n).collect();
                self.host.partition(&[vec![n], rest]);
                let name = &self.host.slots[n].name;
                said(format!("{name} cut off from every other node"))
            }
            Command::Cut { from, to, one_way } => self.link(*from, *to, *one_way, false)?,
            Command::Link { from, to, one_way } => self.link(*from, *to, *one_way, true)?,
            Command::Heal => {
                host.heal();
                said("every link restored")
            }
            Command::NetDrop { probability } => self.net(|c| c.drop = *probability)?,
            Command::NetDup { probability } => self.net(|c| c.duplicate = *probability)?,
            Command::NetReorder { on } => self.net(|c| c.reorder = *on)?,
            Command::NetDelay { min_us, max_us } => self.net(|c| {
                c.delay_min_us = *min_us;
                c.delay_max_us = *max_us;
            })?,
            Command::Client { op, via } => {
                let via = via.map(|n| self.node(n)).transpose()?;
                self.note_key(op);
                let (name, end) = self.client(op, via)?;
                said(format!("{name}: {}", end_words(&end)))
            }
            Command::WaitLeader { within_us } => {
                let within = within(*within_us);
                let held = self
                    .host
                    .run_until(within, |h| h.reported_leader().is_some());
                waited(held, "a node says it leads", within)
            }
            Command::WaitUntil {
                condition,
                within_us,
            } => {
                state_condition(&self.host, condition)?;
                let within = within(*within_us);
                let held = self
                    .host
                    .run_until(within, |h| state_condition(h, condition).unwrap_or(false));
                waited(held, &condition.to_string(), within)
            }
            Command::WaitCommit { index, within_us } => {
                let within = within(*within_us);
                let committed = |h: &Host| {
                    let leader = h.reported_leader()?;
                    h.slots[leader].state.as_ref()?.get("commit")?.as_u64()
                };
                let held = self
                    .host
                    .run_until(within, |h| committed(h).is_some_and(|c| c >= *index));
                let what = format!("the leader's state line says commit >= {index}");
                waited(held, &what, within)
            }
            Command::Expect { condition } => self.expect(condition)?,
            Command::Try { command } => match self.execute(command) {
                Ok(outcome) => Outcome {
                    passed: true,
                    ..outcome
                },
                Err(error) => said(format!("tried, and it failed: {error}")),
            },
            Command::Say { text } => said(text.clone()),
            Command::Quit => Outcome {
                text: String::new(),
                passed: true,
                quit: true,
            },
            Command::Watch => {
                let why = "the live view needs a terminal: `raftlab host --watch -- CMD`";
                return Err(HostCommandError::Failed(why.to_string()));
            }
            other => return Err(built_in_only(other)),
        })
    }

    fn kill_restart(&mut self, nodes: &NodeSet, kill: bool) -> Result<Outcome, HostCommandError> {
        let chosen: Vec<usize> = match nodes {
            NodeSet::All => (0..self.host.slots.len())
                .filter(|&n| self.host.slots[n].child.is_some() == kill)
                .collect(),
            NodeSet::Nodes(nodes) => {
                let chosen: Result<Vec<usize>, _> = nodes.iter().map(|&n| self.node(n)).collect();
                chosen?
            }
        };
        for &n in &chosen {
            if kill {
                self.host.kill(n);
            } else {
                self.host
                    .restart(n)
                    .map_err(|e| HostCommandError::Failed(e.to_string()))?;
            }
        }
        let what = match (kill, chosen.len()) {
            (true, _) => "killed (SIGKILL)",
            (false, 1) => "restarted as a fresh process, its state lost",
            (false, _) => "restarted as fresh processes, their state lost",
        };
        Ok(said(format!("{} {what}", names(&self.host, &chosen))))
    }

    fn link(
        &mut self,
        from: NodeRef,
        to: NodeRef,
        one_way: bool,
        connected: bool,
    ) -> Result<Outcome, HostCommandError> {
        let (a, b) = (self.node(from)?, self.node(to)?);
        self.host.set_link(a, b, connected);
        if !one_way {
            self.host.set_link(b, a, connected);
        }
        let (a, b) = (&self.host.slots[a].name, &self.host.slots[b].name);
        let arrow = if one_way { "->" } else { "<->" };
        let verb = if connected { "restored" } else { "cut" };
        Ok(said(format!("{a} {arrow} {b} {verb}")))
    }

    fn net(
        &mut self,
        change: impl FnOnce(&mut crate::cluster::NetworkConfig),
    ) -> Result<Outcome, HostCommandError> {
        let mut config = self.host.net.config().clone();
        change(&mut config);
        config
            .validate()
            .map_err(|e| HostCommandError::Failed(e.to_string()))?;
        self.host.net.set_config(config);
        Ok(said(network(&self.host)))
    }

    fn note_key(&mut self, op: &KvOp) {
        let key = match op {
            KvOp::Put { key, .. }
            | KvOp::Get { key }
            | KvOp::Cas { key, .. }
            | KvOp::Append { key, .. }
            | KvOp::Del { key } => key,
        };
        if !self.keys.contains(key) {
            self.keys.push(key.clone());
        }
    }

    /// One operation as client c1 would send it: to `via` (error 11 ends it), or to the
    /// node that says it leads (or else n1), trying the next node on error 11 as the
    /// workload's clients do. The name of the node it ended at, and how it ended.
    fn client(&mut self, op: &KvOp, via: Option<usize>) -> Result<(String, End), HostCommandError> {
        let request = match op {
            KvOp::Put { key, value } => KvRequest::Write {
                key: value_json(key),
                value: value_json(value),
            },
            KvOp::Get { key } => KvRequest::Read {
                key: value_json(key),
            },
            KvOp::Cas { key, old, new } => KvRequest::Cas {
                key: value_json(key),
                from: value_json(old),
                to: value_json(new),
            },
            KvOp::Append { .. } | KvOp::Del { .. } => {
                let why = "Maelstrom's lin-kv has only read (get), write (put) and cas";
                return Err(HostCommandError::BuiltInOnly {
                    command: op.to_string().split(' ').next().unwrap_or("").to_string(),
                    why,
                });
            }
        };
        let body: Body = request.body();
        let end = match via {
            Some(to) => self.host.call(0, to, body, CLIENT_WAIT),
            None => {
                let to = self.host.reported_leader().unwrap_or(0);
                self.host.call_any(0, to, body, CLIENT_WAIT)
            }
        };
        // The node that answered last.
        let to = self.host.clients[0].node;
        Ok((self.host.slots[to].name.clone(), end))
    }

    fn expect(&mut self, condition: &Condition) -> Result<Outcome, HostCommandError> {
        let (held, seen) = match condition {
            Condition::Get { key, value } => {
                let op = KvOp::Get { key: key.clone() };
                let (name, end) = self.client(&op, None)?;
                let held = matches!(&end,
                    End::Ok(KvReply::Output(KvOutput::Value(Some(v)))) if v == value);
                (held, format!("{name}: {}", end_words(&end)))
            }
            Condition::Safe | Condition::Violation { rule: None } => self.linearizable(condition),
            Condition::Violation {
                rule: Some(SafetyRule::Linearizability),
            } => self.linearizable(condition),
            other => {
                let held = state_condition(&self.host, other)?;
                (held, String::new())
            }
        };
        let text = match (held, seen.is_empty()) {
            (true, _) => format!("ok: {condition}"),
            (false, true) => format!("FAILED: expect {condition}"),
            (false, false) => format!("FAILED: expect {condition} ({seen})"),
        };
        Ok(Outcome {
            text,
            passed: held,
            quit: false,
        })
    }

    /// Checks the clients' history so far; whether `condition` (`safe` or `violation`)
    /// holds, and the verdict in words.
    fn linearizable(&self, condition: &Condition) -> (bool, String) {
        let (ops, _) = super::clients::operations(&self.host.records);
        let report = check(&KvModel::default(), &ops, Budget::Time(CHECK_BUDGET));
        let (safe, words) = match report.verdict {
            Verdict::Linearizable => (true, "linearizable".to_string()),
            Verdict::Undecided { .. } => (true, "undecided: out of time".to_string()),
            Verdict::Violation(_) => (false, "NOT linearizable".to_string()),
        };
        let expected_safe = matches!(condition, Condition::Safe);
        (safe == expected_safe, format!("the history is {words}"))
    }
}

/// Whether a condition on the nodes' reported state holds; an error for a condition a
/// hosted cluster cannot tell.
fn state_condition(host: &Host, condition: &Condition) -> Result<bool, HostCommandError> {
    let reported = |n: usize, name: &str| {
        host.slots[n]
            .state
            .as_ref()
            .and_then(|s| s.get(name)?.as_u64())
    };
    let nodes = |sel: &NodeSel| -> Vec<usize> {
        match sel {
            NodeSel::All => (0..host.slots.len())
                .filter(|&n| host.slots[n].child.is_some())
                .collect(),
            NodeSel::One(NodeRef::Id(id)) => vec![*id as usize - 1],
            NodeSel::One(NodeRef::Leader) => host.reported_leader().into_iter().collect(),
        }
    };
    Ok(match condition {
        Condition::Leader { node: None } => host.reported_leader().is_some(),
        Condition::Leader {
            node: Some(NodeRef::Id(id)),
        } => host.reported_leader() == Some(*id as usize - 1),
        Condition::Leader {
            node: Some(NodeRef::Leader),
        } => host.reported_leader().is_some(),
        Condition::NoLeader => host.reported_leader().is_none(),
        Condition::Role { node, role } => {
            let chosen = nodes(node);
            !chosen.is_empty()
                && chosen
                    .iter()
                    .all(|&n| reported_role(host, n) == Some(*role))
        }
        Condition::Compare {
            number,
            node,
            op,
            value,
        } => {
            let name = match number {
                NodeNumber::Term => "term",
                NodeNumber::Commit => "commit",
                NodeNumber::Applied => "applied",
            };
            let chosen = nodes(node);
            !chosen.is_empty()
                && chosen
                    .iter()
                    .all(|&n| reported(n, name).is_some_and(|v| op.holds(v, *value)))
        }
        _ => {
            let why = "a hosted node's state is known only by its state line \
                       (role, term, commit), and its logs not at all";
            return Err(HostCommandError::BuiltInOnly {
                command: format!("expect {condition}"),
                why,
            });
        }
    })
}

fn reported_role(host: &Host, n: usize) -> Option<NodeRole> {
    if host.slots[n].child.is_none() {
        return Some(NodeRole::Down);
    }
    let role = host.slots[n].state.as_ref()?.get("role")?.as_str()?;
    Some(match role {
        "leader" => NodeRole::Leader,
        "candidate" => NodeRole::Candidate,
        _ => NodeRole::Follower,
    })
}

/// The one line for a command only the built-in cluster can do.
fn built_in_only(command: &Command) -> HostCommandError {
    let line = command.to_string();
    let word = line.split(' ').next().unwrap_or("").to_string();
    let why = match command {
        Command::Campaign { .. } | Command::Transfer { .. } => {
            "a hosted node decides its own elections"
        }
        Command::Tick { .. } | Command::Timers => "a hosted node keeps its own timers",
        Command::Speed { .. } => "hosted programs run on the wall clock, at its speed",
        Command::Back { .. } | Command::Save { .. } => {
            "a hosted run is real processes in real time, which cannot be replayed"
        }
        Command::Dup { .. } => "on a hosted cluster `net dup P` duplicates messages",
        Command::Log { .. } => "raftlab cannot see a hosted node's log (`logs N` shows its stderr)",
        Command::Check => "a hosted run's history is checked by `expect safe` and in the summary",
        Command::Export { .. }
        | Command::ExportLog { .. }
        | Command::ExportSlides { .. }
        | Command::ExportLogSlide { .. } => {
            "a hosted run writes its history and the nodes' stderr to its --out folder"
        }
        _ => "raftlab cannot reach inside a hosted node (its log, its state machine, its members)",
    };
    HostCommandError::BuiltInOnly { command: word, why }
}

fn said(text: impl Into<String>) -> Outcome {
    Outcome {
        text: text.into(),
        passed: true,
        quit: false,
    }
}

fn waited(held: bool, what: &str, within: Duration) -> Outcome {
    match held {
        true => said(format!("ok: {what}")),
        false => Outcome {
            text: format!("FAILED: not within {} ms: {what}", within.as_millis()),
            passed: false,
            quit: false,
        },
    }
}

fn within(within_us: Option<u64>) -> Duration {
    within_us
        .map_or(WAIT_DEFAULT, Duration::from_micros)
        .min(WAIT_LONGEST)
}

/// A key or value as JSON: a number where it reads as one (as Maelstrom's lin-kv keys
/// and values are), else a string.
fn value_json(word: &str) -> Json {
    word.parse::<i64>()
        .map_or_else(|_| Json::from(word), Json::from)
}

fn names(host: &Host, nodes: &[usize]) -> String {
    let names: Vec<&str> = nodes.iter().map(|&n| host.slots[n].name.as_str()).collect();
    names.join(",")
}

fn help(topic: Option<&str>) -> String {
    let note = "\n\nOn a hosted cluster: `pause`/`step`/`deliver`/`drop`/`resume` hold and release \
                messages between nodes (the programs' clocks go on); `pause N`/`resume N` stop \
                and continue node N's process; `logs N` shows what node N wrote on stderr. \
                Commands that reach inside a node (campaign, set-log, snapshot, ...) need the \
                built-in cluster.";
    match topic {
        None => format!("{}{note}", table::help_overview()),
        Some(topic) => {
            let text = table::help_command(topic)
                .unwrap_or_else(|| format!("no help on '{topic}': not a command"));
            match hosted_meaning(topic) {
                Some(meaning) => format!("{}\n\nOn a hosted cluster: {meaning}", text.trim_end()),
                None => text,
            }
        }
    }
}

/// What a command means on a hosted cluster, where that differs from the built-in one.
fn hosted_meaning(topic: &str) -> Option<&'static str> {
    Some(match topic {
        "kill" => "SIGKILL to the node's process; its messages in flight are lost.",
        "restart" => "a fresh process, its state lost (as in Maelstrom), sent `init` again.",
        "pause" => {
            "holds every message between nodes on the wire (the programs' clocks go on); \
                    `pause N` stops node N's process (SIGSTOP)."
        }
        "resume" => "lets held messages flow again; `resume N` continues node N (SIGCONT).",
        "step" | "deliver" | "drop" => "acts on the messages held on the wire (`msgs`).",
        "put" | "get" | "cas" => {
            "sent as Maelstrom's lin-kv write, read or cas by client c1, \
                                 to the node that says it leads (or `via N`, else n1)."
        }
        _ => return None,
    })
}

/// The nodes (those named, or all), their processes and what their state lines say.
pub fn status(host: &Host, named: &[usize]) -> String {
    let mut out = String::new();
    let shown = |n: &usize| named.is_empty() || named.contains(n);
    for slot in (0..host.slots.len()).filter(shown).map(|n| &host.slots[n]) {
        let life = match (&slot.child, slot.paused) {
            (None, _) => "down",
            (Some(_), true) => "stopped",
            (Some(_), false) => "up",
        };
        let state = slot
            .state
            .as_ref()
            .map_or("(no state line)".to_string(), |s| {
                let f = |k: &str| s.get(k).map_or("?".to_string(), text);
                format!("{} term {} commit {}", f("role"), f("term"), f("commit"))
            });
        let pid = slot.pids.last().copied().unwrap_or(0);
        let _ = writeln!(
            out,
            "{:<4} {life:<8} pid {pid:<8} {state:<32} out {} in {}",
            slot.name, slot.sent, slot.received
        );
    }
    let held = if host.held { ", held" } else { "" };
    let _ = write!(out, "in flight: {}{held}", host.in_flight().len());
    out
}

/// The messages between nodes in flight, in delivery order.
pub fn messages(host: &Host) -> String {
    let flights = host.in_flight();
    if flights.is_empty() {
        return "nothing in flight".to_string();
    }
    let mut out = String::new();
    for (id, from, to, message) in flights.iter().take(40) {
        let info = super::view::info(*from as NodeId + 1, *to as NodeId + 1, message);
        let _ = writeln!(
            out,
            "#{id:<6} {} -> {}  {}",
            host.slots[*from].name, host.slots[*to].name, info
        );
    }
    if flights.len() > 40 {
        let _ = write!(out, "... and {} more", flights.len() - 40);
    }
    out.trim_end().to_string()
}

fn network(host: &Host) -> String {
    let config = host.net.config();
    let mut out = format!(
        "delay {}..{} ms, drop {}, dup {}",
        config.delay_min_us as f64 / 1000.0,
        config.delay_max_us as f64 / 1000.0,
        config.drop,
        config.duplicate
    );
    let cut: Vec<String> = host
        .net
        .cut_links()
        .map(|(a, b)| format!("n{a} -> n{b}"))
        .collect();
    match cut.is_empty() {
        true => out.push_str("\nevery link up"),
        false => {
            let _ = write!(out, "\ncut: {}", cut.join(", "));
        }
    }
    if host.held {
        out.push_str("\nmessages between nodes are held (pause)");
    }
    out
}

fn events(host: &Host, count: u64) -> String {
    let skip = host.notes.len().saturating_sub(count as usize);
    let lines: Vec<String> = host
        .notes
        .iter()
        .skip(skip)
        .map(crate::repl::view::event)
        .collect();
    match lines.is_empty() {
        true => "no events yet".to_string(),
        false => lines.join("\n"),
    }
}

/// The last lines node `n` wrote on stderr, from its log file.
fn logs(host: &Host, n: usize) -> Result<String, HostCommandError> {
    let path = host.out.join(format!("{}.log", host.slots[n].name));
    let text = std::fs::read_to_string(&path)
        .map_err(|e| HostCommandError::Failed(format!("{}: {e}", path.display())))?;
    let lines: Vec<&str> = text.lines().collect();
    let tail = &lines[lines.len().saturating_sub(20)..];
    Ok(format!(
        "{} (last {} lines of {}):\n{}",
        host.slots[n].name,
        tail.len(),
        path.display(),
        tail.join("\n")
    ))
}

/// The longest the live view lets a hosted cluster run between two looks at the keys.
const IDLE_SLICE: Duration = Duration::from_millis(30);

impl Driven for HostSession {
    type Error = HostCommandError;

    fn run_line(&mut self, line: &str) -> Result<Outcome, HostCommandError> {
        HostSession::run_line(self, line)
    }

    fn capture(&self, events_after: u64) -> Result<ClusterView, HostCommandError> {
        Ok(self.host.picture(events_after))
    }

    fn trace(&self) -> TraceLevel {
        self.trace
    }

    /// A hosted client waits for its answer (at most [`CLIENT_WAIT`]); the answer is in
    /// the story.
    fn send_client(&mut self, line: &str) -> Result<OpId, HostCommandError> {
        HostSession::run_line(self, line)?;
        Ok(self.host.records.len() as OpId)
    }

    /// The hosted cluster runs only while the host's loop turns: it turns while the view
    /// waits, a slice at a time, so that keys are read promptly.
    fn idle(&mut self, wait: Duration) -> Duration {
        self.host.run_for(wait.min(IDLE_SLICE));
        Duration::ZERO
    }
}
