//! `raftlab host --interactive`: a small command line on a hosted cluster, read from stdin
//! while the cluster runs. Its words are those of the REPL where they mean the same:
//! `pause` with no node holds every message between nodes on the wire, `step` delivers
//! the next one, `deliver ID` / `drop ID` a chosen one, `resume` lets them flow again;
//! `pause N` / `resume N` stop and continue node N's process. Holding messages does not
//! stop the programs' clocks: their timers go on firing while messages wait.

use std::fmt::Write as _;
use std::io::BufRead;
use std::time::Duration;

use crossbeam_channel::{Receiver, TryRecvError, bounded};
use serde_json::Value as Json;

use super::clients::{End, text};
use super::protocol::{Body, KvRequest, Message};
use super::run::Host;
use crate::lincheck::kv::KvReply;
use crate::repl::parse::parse_duration;

const HELP: &str = "\
commands (nodes as 1 or n1):
  status · msgs · logs N · help · quit
  pause · resume · step [K] · deliver ID · drop ID     hold and release node-to-node messages
  pause N · resume N · kill N · restart N               the node's process
  partition 1,2 | 3 · isolate N · heal                  the network
  cut A B · cut A -> B · link A B · link A -> B         links, both ways or one
  put K V [via N] · get K [via N] · cas K OLD NEW [via N]   as a client (default: the leader)
  run DURATION                                          wait while the cluster runs";

/// Reads stdin on a thread of its own, one command a line.
pub fn commands() -> Receiver<String> {
    let (tx, rx) = bounded(64);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Runs the cluster and the commands until `quit` or the end of stdin.
pub fn run(host: &mut Host) {
    println!(
        "{} nodes hosted; type help for the commands",
        host.slots.len()
    );
    let commands = commands();
    loop {
        let now_us = host.now_us();
        if host.interrupted() || !host.turn(now_us + 20_000) {
            return;
        }
        // Commands wait for every node's init_ok (or the init timeout).
        if !host.begun() {
            continue;
        }
        match commands.try_recv() {
            Ok(line) => {
                let line = line.trim();
                if line == "quit" || line == "exit" {
                    return;
                }
                if !line.is_empty() {
                    match execute(host, line) {
                        Ok(out) => println!("{out}"),
                        Err(error) => println!("error: {error}"),
                    }
                }
            }
            Err(TryRecvError::Empty) => {}
            Err(TryRecvError::Disconnected) => return,
        }
    }
}

fn node(host: &Host, word: Option<&str>) -> Result<usize, String> {
    let word = word.ok_or("a node is missing")?;
    let number: usize = word
        .trim_start_matches('n')
        .parse()
        .map_err(|_| format!("'{word}' is not a node"))?;
    if number == 0 || number > host.slots.len() {
        return Err(format!(
            "node {word} does not exist (1..{})",
            host.slots.len()
        ));
    }
    Ok(number - 1)
}

fn value(word: &str) -> Json {
    word.parse::<i64>()
        .map_or_else(|_| Json::from(word), Json::from)
}

/// Runs one command; its output in words.
pub fn execute(host: &mut Host, line: &str) -> Result<String, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let arg = |i: usize| words.get(i).copied();
    let Some(&command) = words.first() else {
        return Err("an empty command (help lists them)".to_string());
    };
    match command {
        "help" => Ok(HELP.to_string()),
        "status" => Ok(status(host)),
        "msgs" => Ok(messages(host)),
        "logs" => logs(host, node(host, arg(1))?),
        "pause" | "resume" => pause(host, command == "pause", arg(1)),
        "step" => {
            let count: usize = arg(1).map_or(Ok(1), str::parse).map_err(|_| "step K")?;
            let ids: Vec<String> = (0..count)
                .map_while(|_| host.step_one())
                .map(|id| format!("#{id}"))
                .collect();
            Ok(match ids.is_empty() {
                true => "nothing in flight".to_string(),
                false => format!("delivered {}", ids.join(" ")),
            })
        }
        "deliver" | "drop" => deliver(host, command == "deliver", arg(1)),
        "kill" => {
            let n = node(host, arg(1))?;
            host.kill(n);
            Ok(format!("{} killed (SIGKILL)", host.slots[n].name))
        }
        "restart" => {
            let n = node(host, arg(1))?;
            host.restart(n).map_err(|e| e.to_string())?;
            Ok(format!(
                "{} restarted as a fresh process",
                host.slots[n].name
            ))
        }
        "isolate" => {
            let n = node(host, arg(1))?;
            let rest = (0..host.slots.len()).filter(|&m| m != n).collect();
            host.partition(&[vec![n], rest]);
            Ok(format!(
                "{} cut off from every other node",
                host.slots[n].name
            ))
        }
        "partition" => partition(host, &line["partition".len()..]),
        "cut" | "link" => link(host, command == "link", &words[1..]),
        "heal" => {
            host.heal();
            Ok("every link restored".to_string())
        }
        "put" | "get" | "cas" => client(host, &words),
        "run" => {
            let us = parse_duration(arg(1).unwrap_or("")).map_err(|e| e.to_string())?;
            host.run_for(Duration::from_micros(us));
            Ok(format!("ran {} ms", us / 1000))
        }
        other => Err(format!("unknown command '{other}' (help lists them)")),
    }
}

/// `pause` / `resume`: of the messages with no node, of node N's process with one.
fn pause(host: &mut Host, stop: bool, which: Option<&str>) -> Result<String, String> {
    if which.is_none() {
        host.held = stop;
        let what = if stop { "held on the wire" } else { "flowing" };
        return Ok(format!("messages between nodes are {what}"));
    }
    let n = node(host, which)?;
    host.pause(n, stop);
    let what = if stop {
        "stopped (SIGSTOP)"
    } else {
        "continued (SIGCONT)"
    };
    Ok(format!("{} {what}", host.slots[n].name))
}

/// `deliver ID` or `drop ID`.
fn deliver(host: &mut Host, deliver: bool, id: Option<&str>) -> Result<String, String> {
    let id: u64 = id
        .map(|w| w.trim_start_matches('#'))
        .and_then(|w| w.parse().ok())
        .ok_or("a message id, as `msgs` shows it")?;
    let (done, verb) = match deliver {
        true => (host.deliver_now(id), "delivered"),
        false => (host.drop_message(id), "dropped"),
    };
    match done {
        true => Ok(format!("{verb} #{id}")),
        false => Err(format!("no message #{id} in flight")),
    }
}

fn partition(host: &mut Host, groups: &str) -> Result<String, String> {
    let mut parsed = Vec::new();
    for group in groups.split('|') {
        let nodes: Result<Vec<usize>, String> = group
            .split(',')
            .map(|w| node(host, Some(w.trim())))
            .collect();
        parsed.push(nodes?);
    }
    if parsed.len() < 2 {
        return Err("partition A,B | C,D".to_string());
    }
    host.partition(&parsed);
    Ok(format!("partitioned:{groups}"))
}

fn link(host: &mut Host, connected: bool, words: &[&str]) -> Result<String, String> {
    let (a, b, one_way) = match words {
        [a, "->", b] => (node(host, Some(a))?, node(host, Some(b))?, true),
        [a, b] => (node(host, Some(a))?, node(host, Some(b))?, false),
        _ => return Err("cut A B · cut A -> B (and link the same)".to_string()),
    };
    host.set_link(a, b, connected);
    if !one_way {
        host.set_link(b, a, connected);
    }
    let (a, b) = (&host.slots[a].name, &host.slots[b].name);
    let arrow = if one_way { "->" } else { "<->" };
    let verb = if connected { "restored" } else { "cut" };
    Ok(format!("{a} {arrow} {b} {verb}"))
}

fn client(host: &mut Host, words: &[&str]) -> Result<String, String> {
    let (words, via) = match words.iter().position(|w| *w == "via") {
        Some(i) => (&words[..i], Some(node(host, words.get(i + 1).copied())?)),
        None => (words, None),
    };
    let request = match words {
        ["put", k, v] => KvRequest::Write {
            key: value(k),
            value: value(v),
        },
        ["get", k] => KvRequest::Read { key: value(k) },
        ["cas", k, old, new] => KvRequest::Cas {
            key: value(k),
            from: value(old),
            to: value(new),
        },
        _ => return Err("put K V · get K · cas K OLD NEW, optionally `via N`".to_string()),
    };
    let to = via.or_else(|| leader(host)).unwrap_or(0);
    let body: Body = request.body();
    let name = host.slots[to].name.clone();
    Ok(match host.call(0, to, body, Duration::from_secs(2)) {
        End::Ok(KvReply::Output(output)) => format!("{name}: {output}"),
        End::Ok(KvReply::CasFailed) => format!("{name}: cas failed (error 22)"),
        End::Failed(code) => format!("{name}: failed, error {code} (it did not happen)"),
        End::Unknown(why) => format!("{name}: unknown ({why})"),
    })
}

/// The node whose last state line says it leads the highest term.
fn leader(host: &Host) -> Option<usize> {
    host.slots
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let state = s.state.as_ref()?;
            (state.get("role")? == "leader").then(|| Some((state.get("term")?.as_u64()?, i)))?
        })
        .max()
        .map(|(_, i)| i)
}

fn status(host: &Host) -> String {
    let mut out = String::new();
    for slot in &host.slots {
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

fn messages(host: &Host) -> String {
    let flights = host.in_flight();
    if flights.is_empty() {
        return "nothing in flight".to_string();
    }
    let mut out = String::new();
    for (id, from, to, message) in flights.iter().take(40) {
        let _ = writeln!(
            out,
            "#{id:<6} {} -> {}  {}",
            host.slots[*from].name,
            host.slots[*to].name,
            describe(message)
        );
    }
    if flights.len() > 40 {
        let _ = write!(out, "... and {} more", flights.len() - 40);
    }
    out.trim_end().to_string()
}

/// A message's type and fields in one line (the term first where it has one).
pub fn describe(message: &Message) -> String {
    let body = &message.body;
    let mut words = vec![body.kind.clone()];
    if let Some(rpc) = body.fields.get("rpc").and_then(Json::as_str) {
        words.push(rpc.to_string());
    }
    if let Some(term) = body.term() {
        words.push(format!("term {term}"));
    }
    for (name, value) in &body.fields {
        if name != "rpc" && name != "term" {
            let shown: String = value.to_string().chars().take(40).collect();
            words.push(format!("{name}={shown}"));
        }
    }
    words.join(" ")
}

fn logs(host: &Host, n: usize) -> Result<String, String> {
    let path = host.out.join(format!("{}.log", host.slots[n].name));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
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
