//! `raftlab host`: the scheduler loop. One thread owns everything: the children, the
//! network, the clients and the nemesis. It waits on the channel of the children's lines
//! until the next message or client operation is due, then routes, delivers and records.
//! Messages between nodes go through the cluster's [`Network`]; the Maelstrom message
//! itself waits in a side table under the id the network gave its stand-in envelope.
//! Client messages go straight to and from the nodes, as Maelstrom's partitions leave
//! clients alone.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, bounded};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value as Json;

use super::child::{Child, ChildLine, LINES_CAPACITY, Stream};
use super::clients::{self, Call, Client, End, Record, Workload};
use super::protocol::{self, Message, parse_line, to_line};
use super::summary::{self, Problems};
use super::{HostError, STATE_MARKER, tell};
use crate::cluster::Network;
use crate::cluster::NetworkConfig;
use crate::cluster::seed;
use crate::cluster::{ClusterEvent, EventKind};
use crate::raft::{Envelope, Message as RaftMessage};
use crate::repl::parse::parse_duration;

mod nemesis;

/// How long a client waits before it tries the next node after error 11.
const RETRY_US: u64 = 10_000;

/// How many notes (stderr lines, answers, faults, problems) the story keeps.
pub const NOTES_KEPT: usize = 2_000;

/// The options of `raftlab host`.
#[derive(clap::Args, Debug, Clone)]
pub struct HostArgs {
    /// How many copies of the program, named n1..nN.
    #[arg(long, default_value_t = 3)]
    pub nodes: usize,
    /// What the clients ask.
    #[arg(long, value_enum, default_value_t = Workload::LinKv)]
    pub workload: Workload,
    /// How many clients, c1..cK, each with one operation at a time.
    #[arg(long, default_value_t = 5)]
    pub clients: usize,
    /// Operations per second, all clients together (0: as fast as answers come).
    #[arg(long, default_value_t = 10.0)]
    pub rate: f64,
    /// How many keys the lin-kv clients use.
    #[arg(long, default_value_t = 3)]
    pub keys: u64,
    /// How long the clients run (`10s`, `500ms`; a bare number is ms).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub time: u64,
    /// Faults to inject, by turns: partition, kill, pause (comma-separated).
    #[arg(long, value_delimiter = ',', value_enum)]
    pub nemesis: Vec<Fault>,
    /// How long each fault lasts, and each quiet spell between two.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub interval: u64,
    /// The network's delay range between nodes, `MIN..MAX` (`1ms..5ms`).
    #[arg(long, default_value = "1ms..5ms")]
    pub delay: String,
    /// The probability that a message between nodes is lost.
    #[arg(long, default_value_t = 0.0)]
    pub drop: f64,
    /// The probability that a message between nodes is delivered twice.
    #[arg(long, default_value_t = 0.0)]
    pub dup: f64,
    /// How long a client waits for an answer before its operation's outcome is unknown.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub timeout: u64,
    /// How long a node may take to answer `init` (more than 0s); the clients begin when
    /// every node has answered, or at this deadline.
    #[arg(long, default_value = "5s", value_parser = parse_init_timeout)]
    pub init_timeout: u64,
    /// The seed of the clients, the network and the nemesis.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where the history, the nodes' stderr logs and a violation's picture go
    /// [default: a new folder under the system's temporary folder].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Read commands from stdin while the cluster runs (help lists them); the clients
    /// then act only when told, and `quit` ends the run with the summary.
    #[arg(long)]
    pub interactive: bool,
    /// Show the live view of the hosted cluster (a terminal is needed) until `q`; the
    /// clients run as without it.
    #[arg(long, conflicts_with = "interactive")]
    pub watch: bool,
    /// The program and its arguments, after `--`.
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}

/// A fault of the nemesis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Fault {
    /// Split the nodes into two groups that cannot reach each other.
    Partition,
    /// SIGKILL one node; it restarts as a fresh process, its state lost.
    Kill,
    /// SIGSTOP one node; SIGCONT resumes it.
    Pause,
    /// Cut off the node that last said it leads (by the optional state line on its
    /// stderr) from all others; a random node when none says so.
    IsolateLeader,
}

/// One hosted node.
pub struct Slot {
    pub name: String,
    pub child: Option<Child>,
    pub pids: Vec<u32>,
    pub generation: u64,
    pub paused: bool,
    pub initialised: bool,
    /// Whether this process's end (its stdout closed, or its exit) is counted in the
    /// problems: a dead process is one problem, however it shows.
    pub ended: bool,
    pub sent: u64,
    pub received: u64,
    pub state: Option<Json>,
    pub log: Option<File>,
    pub exit: Option<String>,
    /// How many of the running process's lines were dropped (to it and from it) when that
    /// was last told ([`Host::check_drops`]).
    pub drops_told: u64,
}

/// The nemesis' fault in force.
enum Active {
    Partition(String),
    Kill(usize),
    Pause(usize),
}

/// Everything the scheduler owns.
pub struct Host {
    pub args: HostArgs,
    pub slots: Vec<Slot>,
    pub(super) lines_tx: Sender<ChildLine>,
    pub(super) lines_rx: Receiver<ChildLine>,
    pub(super) net: Network,
    pub(super) side: HashMap<u64, Message>,
    pub(super) start: Instant,
    pub clients: Vec<Client>,
    pub records: Vec<Record>,
    pub problems: Problems,
    pub(super) rng: ChaCha8Rng,
    pub(super) next_msg_id: u64,
    pub init_ms: Option<f64>,
    /// Whether any node answered `init` in this run: if none did, the program cannot
    /// start as a node.
    pub any_initialised: bool,
    pub routed: u64,
    pub net_dropped: u64,
    pub duplicated: u64,
    pub client_messages: u64,
    /// Replies to an earlier attempt of an operation, after the client moved on.
    pub late_replies: u64,
    pub faults: Vec<String>,
    active: Option<Active>,
    pub(super) next_fault_us: u64,
    pub(super) end_us: u64,
    /// When the clients' time began.
    begin_us: u64,
    pub out: PathBuf,
    pub(super) interrupted: Arc<AtomicBool>,
    last_check_us: u64,
    /// Whether the clients run the workload by themselves (the command line), or only do
    /// what they are told ([`Host::call`]).
    pub auto_clients: bool,
    /// Messages between nodes are held on the wire until delivered one by one.
    pub held: bool,
    /// The story so far: what the nodes wrote on stderr, the clients' answers, faults and
    /// problems, as [`EventKind::Note`]s (the latest [`NOTES_KEPT`]).
    pub notes: VecDeque<ClusterEvent>,
    /// How many notes were ever taken.
    pub notes_taken: u64,
    /// Problems and faults go only to the story, not to stderr (the live view has the
    /// screen).
    pub quiet: bool,
    /// The run ended before its time because every node's process had ended by itself.
    pub all_exited: bool,
}

/// An init timeout: a duration above zero, as any node needs some time to answer `init`
/// (with none, every node would be reported silent before its first line).
pub fn parse_init_timeout(text: &str) -> Result<u64, String> {
    match parse_duration(text).map_err(|e| e.to_string())? {
        0 => Err("a node needs time to answer init: give a duration above 0 (e.g. 5s)".into()),
        us => Ok(us),
    }
}

fn parse_delay(text: &str) -> Result<(u64, u64), HostError> {
    let bad = |e: String| HostError::Option(format!("--delay {text}: {e}"));
    let (lo, hi) = text.split_once("..").unwrap_or((text, text));
    let lo = parse_duration(lo).map_err(|e| bad(e.to_string()))?;
    let hi = parse_duration(hi).map_err(|e| bad(e.to_string()))?;
    if lo > hi {
        return Err(bad("the shortest delay is longer than the longest".into()));
    }
    Ok((lo, hi))
}

/// Runs `raftlab host`, printing the summary; returns the exit status (0 linearizable,
/// 1 not, or a piped command or expectation failed, 2 bad input or a program that cannot
/// start: one that does not run, or no node answered `init`).
pub fn run(args: &HostArgs) -> u8 {
    ignore_sigpipe();
    let terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    if args.watch && !terminal {
        tell(format_args!(
            "error: the live view (--watch) needs a terminal"
        ));
        return 2;
    }
    let mut host = match Host::new(args.clone()) {
        Ok(host) => host,
        Err(error) => {
            tell(format_args!("error: {error}"));
            return 2;
        }
    };
    host.catch_interrupts();
    if let Err(error) = host.start_all() {
        tell(format_args!("error: {error}"));
        return 2;
    }
    let mut failed = false;
    if args.interactive || args.watch {
        host.auto_clients = !args.interactive;
        let mut session = super::session::HostSession::new(host);
        failed = super::shell::run(&mut session, args.watch);
        host = session.host;
    } else {
        host.run_loop();
    }
    let code = summary::finish(&mut host).max(u8::from(failed));
    host.stop_all();
    code
}

/// A dead child's pipe gives EPIPE to its writer thread instead of killing raftlab.
pub fn ignore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to ignore.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

/// The first option whose value leaves nothing to run or test, in its flag's words: a
/// cluster or a workload of nothing, no time to run or to answer in, or a nemesis that
/// would fault without pause (and fork a process every few milliseconds).
fn degenerate(args: &HostArgs) -> Option<String> {
    let problems = [
        (args.nodes == 0, "--nodes must be at least 1"),
        (args.clients == 0, "--clients must be at least 1"),
        (args.keys == 0, "--keys must be at least 1"),
        (
            !args.rate.is_finite() || args.rate < 0.0,
            "--rate must be a number of operations per second, 0 or more (0: as fast as \
             answers come)",
        ),
        // Interactive (and a hosted scenario without clients), the clients act only when
        // told: the time is theirs to leave at 0.
        (
            args.time == 0 && !args.interactive,
            "--time must be more than 0s",
        ),
        (args.timeout == 0, "--timeout must be more than 0s"),
        (
            !args.nemesis.is_empty() && args.interval < MIN_INTERVAL_US,
            "--interval must be at least 10ms with a --nemesis: each fault and each quiet \
             spell lasts that long",
        ),
    ];
    problems
        .iter()
        .find(|(bad, _)| *bad)
        .map(|(_, problem)| problem.to_string())
}

/// The shortest fault (and quiet spell) of the nemesis.
const MIN_INTERVAL_US: u64 = 10_000;

impl Host {
    /// Ctrl-C ends the run (with its summary, every child killed) instead of raftlab.
    pub fn catch_interrupts(&self) {
        let _ = signal_hook::flag::register(signal_hook::consts::SIGINT, self.interrupted.clone());
    }

    pub fn new(args: HostArgs) -> Result<Host, HostError> {
        if args.command.is_empty() {
            return Err(HostError::NoProgram);
        }
        if let Some(problem) = degenerate(&args) {
            return Err(HostError::Option(problem));
        }
        let (delay_min_us, delay_max_us) = parse_delay(&args.delay)?;
        let config = NetworkConfig {
            delay_min_us,
            delay_max_us,
            drop: args.drop,
            duplicate: args.dup,
            reorder: false,
        };
        config
            .validate()
            .map_err(|e| HostError::Option(e.to_string()))?;
        let out = match &args.out {
            Some(dir) => dir.clone(),
            None => std::env::temp_dir().join(format!("raftlab-host-{}", std::process::id())),
        };
        std::fs::create_dir_all(&out).map_err(|e| HostError::Write {
            path: out.display().to_string(),
            error: e.to_string(),
        })?;
        let (lines_tx, lines_rx) = bounded(LINES_CAPACITY);
        let slots = (1..=args.nodes).map(|i| new_slot(&out, i)).collect();
        let clients = (0..args.clients)
            .map(|i| Client {
                name: format!("c{}", i + 1),
                node: i % args.nodes,
                home: i % args.nodes,
                next_at_us: 0,
                call: None,
            })
            .collect();
        Ok(Host {
            net: Network::new(config, args.seed),
            rng: ChaCha8Rng::seed_from_u64(seed::derive(args.seed, seed::HOST_CLIENTS, 0)),
            end_us: u64::MAX,
            begin_us: 0,
            next_fault_us: u64::MAX,
            args,
            slots,
            lines_tx,
            lines_rx,
            side: HashMap::new(),
            start: Instant::now(),
            clients,
            records: Vec::new(),
            problems: Problems::default(),
            next_msg_id: 1,
            init_ms: None,
            any_initialised: false,
            routed: 0,
            net_dropped: 0,
            duplicated: 0,
            client_messages: 0,
            late_replies: 0,
            faults: Vec::new(),
            active: None,
            out,
            interrupted: Arc::new(AtomicBool::new(false)),
            last_check_us: 0,
            auto_clients: true,
            held: false,
            notes: VecDeque::new(),
            notes_taken: 0,
            quiet: false,
            all_exited: false,
        })
    }

    pub fn now_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    fn names(&self) -> Vec<String> {
        self.slots.iter().map(|s| s.name.clone()).collect()
    }

    /// Starts every node and sends each its `init`.
    pub fn start_all(&mut self) -> Result<(), HostError> {
        self.start = Instant::now();
        for node in 0..self.slots.len() {
            self.start_node(node)?;
        }
        Ok(())
    }

    pub(super) fn start_node(&mut self, node: usize) -> Result<(), HostError> {
        let program = &self.args.command[0];
        let rest = &self.args.command[1..];
        let slot = &mut self.slots[node];
        slot.generation += 1;
        if let (Some(log), true) = (slot.log.as_mut(), slot.generation > 1) {
            let _ = writeln!(
                log,
                "# raftlab host: {} restarted as a fresh process",
                slot.name
            );
        }
        let child = Child::spawn(program, rest, node, slot.generation, &self.lines_tx)?;
        slot.pids.push(child.pid());
        slot.initialised = false;
        slot.ended = false;
        slot.paused = false;
        slot.exit = None;
        slot.drops_told = 0;
        let msg_id = self.next_msg_id;
        self.next_msg_id += 1;
        let name = slot.name.clone();
        let init = protocol::init(&name, &self.names(), msg_id);
        child.send(to_line(&init));
        self.slots[node].child = Some(child);
        Ok(())
    }

    /// Kills every child (the guards' drop) and says where they were.
    pub fn stop_all(&mut self) {
        for slot in &mut self.slots {
            slot.child = None;
        }
    }

    /// Adds a line to the story, of node `node` (from 0) or of the host.
    pub fn note(&mut self, node: Option<usize>, text: String) {
        let event = ClusterEvent {
            time_us: self.now_us(),
            kind: EventKind::Note {
                node: node.map(|n| n as u64 + 1),
                text,
            },
        };
        self.notes.push_back(event);
        self.notes_taken += 1;
        if self.notes.len() > NOTES_KEPT {
            self.notes.pop_front();
        }
    }

    /// Prints one problem line as it happens (the first few of each kind), and counts it.
    pub fn problem(&mut self, kind: &'static str, text: String) {
        self.note(None, format!("{kind}: {text}"));
        let count = self.problems.count(kind);
        if count <= 5 && !self.quiet {
            let at = self.now_us() as f64 / 1e6;
            tell(format_args!("host {at:8.3}s  {kind}: {text}"));
            if count == 5 {
                tell(format_args!(
                    "host           (further '{kind}' problems are only counted)"
                ));
            }
        }
    }

    /// Shows a further line about a problem already counted (a dead node's exit status
    /// after its closed stdout), as [`Host::problem`] shows one, without counting it.
    fn problem_again(&mut self, kind: &'static str, text: String) {
        self.note(None, format!("{kind}: {text}"));
        let shown = self.problems.counts.get(kind).copied().unwrap_or(0);
        if shown < 5 && !self.quiet {
            let at = self.now_us() as f64 / 1e6;
            tell(format_args!("host {at:8.3}s  {kind}: {text}"));
        }
    }

    /// The loop: until the clients' time is over (or Ctrl-C, or every node is dead), wait
    /// for lines, deliver due messages, run clients and the nemesis.
    pub fn run_loop(&mut self) {
        while !self.interrupted.load(Ordering::Relaxed) && self.now_us() < self.end_us {
            if !self.turn(u64::MAX) || self.every_node_exited() {
                break;
            }
        }
    }

    /// Whether every node's process has ended by itself (closed its stdout or exited), so
    /// that no node will answer again: a node the nemesis killed is not ended, as it is
    /// restarted. Said as it happens, once.
    fn every_node_exited(&mut self) -> bool {
        if self.all_exited || !self.slots.iter().all(|s| s.ended) {
            return self.all_exited;
        }
        self.all_exited = true;
        if !self.quiet {
            let at = self.now_us() as f64 / 1e6;
            tell(format_args!(
                "host {at:8.3}s  every node has exited: the run ends now"
            ));
        }
        true
    }

    /// One turn of the loop, waiting at most until `limit_us` for a line; false when no
    /// child can write any more.
    pub fn turn(&mut self, limit_us: u64) -> bool {
        let now_us = self.now_us();
        if self.end_us == u64::MAX {
            self.maybe_begin(now_us);
        }
        self.deliver_due(now_us);
        self.run_clients(now_us);
        self.run_nemesis(now_us);
        if now_us >= self.last_check_us + 100_000 {
            self.last_check_us = now_us;
            self.check_exits();
            self.check_drops();
        }
        let wake_us = self.next_wake_us(now_us).min(limit_us);
        let wait = Duration::from_micros(wake_us.saturating_sub(now_us));
        match self.lines_rx.recv_timeout(wait) {
            Ok(line) => self.on_line(line),
            Err(RecvTimeoutError::Timeout) => return true,
            Err(RecvTimeoutError::Disconnected) => return false,
        }
        for _ in 0..4096 {
            match self.lines_rx.try_recv() {
                Ok(line) => self.on_line(line),
                Err(_) => break,
            }
        }
        true
    }

    /// Starts the clients' time once every node answered `init`, or at the deadline.
    fn maybe_begin(&mut self, now_us: u64) {
        let all = self.slots.iter().all(|s| s.initialised);
        if !all && now_us < self.args.init_timeout {
            return;
        }
        if all {
            self.init_ms = Some(now_us as f64 / 1000.0);
        } else {
            for node in 0..self.slots.len() {
                // A node already counted dead is not counted again for its silence.
                if !self.slots[node].initialised && !self.slots[node].ended {
                    let text = format!("{} did not answer init in time", self.slots[node].name);
                    self.problem("no init_ok", text);
                }
            }
        }
        self.begin_us = now_us;
        self.end_us = now_us + self.args.time;
        self.next_fault_us = now_us + self.args.interval;
        for client in &mut self.clients {
            client.next_at_us = if self.auto_clients { now_us } else { u64::MAX };
        }
    }

    fn next_wake_us(&self, now_us: u64) -> u64 {
        let mut wake = now_us + 20_000;
        if let Some(due) = self.net.next_due_us() {
            wake = wake.min(due);
        }
        for client in &self.clients {
            let at = match &client.call {
                Some(call) => call.retry_at_us.unwrap_or(call.deadline_us),
                None => client.next_at_us,
            };
            wake = wake.min(at);
        }
        wake.min(self.next_fault_us).min(self.end_us)
    }

    fn on_line(&mut self, line: ChildLine) {
        let slot = &self.slots[line.node];
        if line.generation != slot.generation {
            return;
        }
        let name = slot.name.clone();
        match (line.stream, line.line) {
            (Stream::Stdout, None) => {
                let slot = &mut self.slots[line.node];
                if slot.child.is_some() && !slot.ended {
                    slot.ended = true;
                    self.problem("exited", format!("{name} closed its stdout (it exited?)"));
                }
            }
            (Stream::Stderr, None) => {}
            (Stream::Stderr, Some(Ok(text))) => self.on_stderr(line.node, &text),
            (_, Some(Err(error))) => self.problem("unreadable line", format!("{name}: {error}")),
            (Stream::Stdout, Some(Ok(text))) => match parse_line(&text) {
                Ok(message) => self.on_message(line.node, message),
                Err(error) => {
                    let shown: String = text.chars().take(60).collect();
                    self.problem("unreadable line", format!("{name}: {error} in {shown:?}"));
                }
            },
        }
    }

    fn on_stderr(&mut self, node: usize, text: &str) {
        let slot = &mut self.slots[node];
        if let Some(file) = slot.log.as_mut() {
            let _ = writeln!(file, "{text}");
        }
        match text.strip_prefix(STATE_MARKER) {
            Some(state) => {
                let state: Option<Json> = serde_json::from_str(state.trim()).ok();
                let said =
                    |s: &Option<Json>, key: &str| s.as_ref().and_then(|s| s.get(key).cloned());
                let changed = ["role", "term"]
                    .iter()
                    .any(|key| said(&state, key) != said(&slot.state, key));
                let words = match (said(&state, "role"), said(&state, "term")) {
                    (Some(role), Some(term)) => {
                        Some(format!("{} in term {term}", clients::text(&role)))
                    }
                    _ => None,
                };
                slot.state = state;
                if let (true, Some(words)) = (changed, words) {
                    self.note(Some(node), words);
                }
            }
            None => {
                let shown: String = text.chars().take(200).collect();
                self.note(Some(node), shown);
            }
        }
    }

    fn on_message(&mut self, node: usize, message: Message) {
        let name = self.slots[node].name.clone();
        if message.src != name {
            let text = format!("{name} wrote a message from {:?}", message.src);
            return self.problem("wrong src", text);
        }
        self.slots[node].sent += 1;
        if message.dest == "c0" && message.body.kind == "init_ok" {
            self.slots[node].initialised = true;
            self.any_initialised = true;
            return;
        }
        if let Some(to) = self.slots.iter().position(|s| s.name == message.dest) {
            return self.route(node, to, message);
        }
        if let Some(client) = self.clients.iter().position(|c| c.name == message.dest) {
            return self.on_reply(client, message);
        }
        let text = format!(
            "{name} sent {} to unknown {:?}",
            message.body.kind, message.dest
        );
        self.problem("unknown destination", text);
    }

    /// Puts a node-to-node message on the network.
    fn route(&mut self, from: usize, to: usize, message: Message) {
        let envelope = Envelope {
            from: from as u64 + 1,
            to: to as u64 + 1,
            term: message.body.term().unwrap_or(0),
            message: RaftMessage::TimeoutNow,
        };
        let now_us = self.now_us();
        for event in self.net.send(now_us, envelope) {
            match event {
                EventKind::Sent { id, .. } => {
                    self.side.insert(id, message.clone());
                }
                EventKind::Duplicated { copy, .. } => {
                    self.duplicated += 1;
                    self.side.insert(copy, message.clone());
                }
                EventKind::Dropped { .. } => self.net_dropped += 1,
                _ => {}
            }
        }
    }

    fn deliver_due(&mut self, now_us: u64) {
        if self.held {
            return;
        }
        let due: Vec<u64> = self.net.due_links(now_us).map(|(id, _, _)| id).collect();
        for id in due {
            self.deliver_now(id);
        }
    }

    /// Takes message `id` off the wire and hands it to its node, unless its link is cut
    /// or its node is down; false when there is no such message.
    pub fn deliver_now(&mut self, id: u64) -> bool {
        let Some(flight) = self.net.take(id) else {
            return false;
        };
        let Some(message) = self.side.remove(&id) else {
            return false;
        };
        let (from, to) = (flight.envelope.from, flight.envelope.to);
        if !self.net.is_connected(from, to) {
            self.net_dropped += 1;
            return true;
        }
        let slot = &mut self.slots[to as usize - 1];
        match &slot.child {
            Some(child) => {
                slot.received += 1;
                self.routed += 1;
                child.send(to_line(&message));
            }
            None => self.net_dropped += 1,
        }
        true
    }

    /// Tells of a program that floods, as it happens: when its first lines are dropped
    /// (a problem), then each time the count has doubled since it was last told.
    fn check_drops(&mut self) {
        for node in 0..self.slots.len() {
            let slot = &self.slots[node];
            let Some(child) = &slot.child else {
                continue;
            };
            let from = child.drops.from_child.load(Ordering::Relaxed);
            let to = child.drops.to_child.load(Ordering::Relaxed);
            let (total, told) = (from + to, slot.drops_told);
            if total == told || (told > 0 && total < 2 * told) {
                continue;
            }
            let text = format!(
                "{} floods: {from} lines from it and {to} to it dropped so far (every queue is \
                 bounded)",
                slot.name
            );
            self.slots[node].drops_told = total;
            match told {
                0 => self.problem("flood", text),
                _ => self.problem_again("flood", text),
            }
        }
    }

    fn check_exits(&mut self) {
        for node in 0..self.slots.len() {
            let slot = &mut self.slots[node];
            let Some(child) = slot.child.as_mut() else {
                continue;
            };
            if slot.exit.is_none()
                && let Some(status) = child.exited()
            {
                slot.exit = Some(status.clone());
                let text = format!("{} exited: {status}", slot.name);
                match std::mem::replace(&mut slot.ended, true) {
                    false => self.problem("exited", text),
                    true => self.problem_again("exited", text),
                }
            }
        }
    }

    // ---- clients ----

    fn run_clients(&mut self, now_us: u64) {
        if self.end_us == u64::MAX {
            return;
        }
        for c in 0..self.clients.len() {
            let timed_out =
                matches!(&self.clients[c].call, Some(call) if now_us >= call.deadline_us);
            if timed_out {
                let end = self.clients[c].call.as_ref().map(Call::end_unanswered);
                self.end_call(c, end.unwrap_or(End::NotSent), now_us);
                let nodes = self.slots.len();
                self.clients[c].node = (self.clients[c].node + 1) % nodes;
            }
            let retry = matches!(&self.clients[c].call,
                Some(call) if call.retry_at_us.is_some_and(|at| now_us >= at));
            if retry {
                if let Some(call) = self.clients[c].call.as_mut() {
                    call.retry_at_us = None;
                }
                self.attempt(c);
            }
            if self.clients[c].call.is_none() && now_us >= self.clients[c].next_at_us {
                self.invoke(c, now_us);
            }
        }
    }

    fn invoke(&mut self, c: usize, now_us: u64) {
        let n = self.records.len() as u64;
        let body = clients::random_body(self.args.workload, self.args.keys, &mut self.rng, n);
        self.records.push(Record {
            client: c + 1,
            request: serde_json::to_value(&body).unwrap_or(Json::Null),
            op: clients::kv_op(&body),
            invoke_us: now_us,
            end: None,
            attempts: 0,
        });
        let call = Call {
            record: self.records.len() - 1,
            body,
            msg_id: 0,
            deadline_us: now_us + self.args.timeout,
            retry_at_us: None,
            refusals: 0,
            pinned: false,
            reached: false,
        };
        // Each operation starts at the client's own node, as Maelstrom's clients are bound
        // to one node each.
        self.clients[c].node = self.clients[c].home;
        self.clients[c].call = Some(call);
        self.attempt(c);
    }

    /// Sends the client's operation to its node, skipping nodes that are down.
    pub(super) fn attempt(&mut self, c: usize) {
        let nodes = self.slots.len();
        for _ in 0..nodes {
            let node = self.clients[c].node;
            if self.slots[node].child.is_some() && self.slots[node].initialised {
                break;
            }
            self.clients[c].node = (node + 1) % nodes;
        }
        let msg_id = self.next_msg_id;
        self.next_msg_id += 1;
        let client = &mut self.clients[c];
        let Some(call) = client.call.as_mut() else {
            return;
        };
        call.msg_id = msg_id;
        let mut body = call.body.clone();
        body.msg_id = Some(msg_id);
        self.records[call.record].attempts += 1;
        let message = Message {
            src: client.name.clone(),
            dest: self.slots[client.node].name.clone(),
            body,
        };
        if let Some(child) = &self.slots[client.node].child {
            self.client_messages += 1;
            if child.send(to_line(&message)) {
                call.reached = true;
            }
        }
    }

    fn on_reply(&mut self, c: usize, message: Message) {
        self.client_messages += 1;
        let now_us = self.now_us();
        let Some(call) = &self.clients[c].call else {
            if matches!(message.body.in_reply_to, Some(id) if id < self.next_msg_id) {
                self.late_replies += 1;
                return;
            }
            let text = format!(
                "{} answered {}, which waits for nothing",
                message.src, message.dest
            );
            return self.problem("unknown in_reply_to", text);
        };
        let late = matches!(message.body.in_reply_to, Some(id) if id < self.next_msg_id);
        if message.body.in_reply_to != Some(call.msg_id) && late {
            self.late_replies += 1;
            return;
        }
        if message.body.in_reply_to != Some(call.msg_id) {
            let given = match message.body.in_reply_to {
                Some(id) => format!("in_reply_to {id}"),
                None => "no in_reply_to".to_string(),
            };
            let text = format!(
                "{} answered {} with {given}, expected {}",
                message.src, message.dest, call.msg_id
            );
            return self.problem("unknown in_reply_to", text);
        }
        if let Some(words) = clients::misfit(self.args.workload, &call.body, &message.body) {
            let text = format!("{} answered {words}", message.src);
            self.problem("wrong reply type", text);
        }
        let Some(call) = &self.clients[c].call else {
            return;
        };
        match clients::judge(self.args.workload, &call.body, &message.body) {
            Some(end) => self.end_call(c, end, now_us),
            None if call.pinned || now_us + RETRY_US >= call.deadline_us => {
                self.end_call(
                    c,
                    End::Failed(protocol::code::TEMPORARILY_UNAVAILABLE),
                    now_us,
                );
            }
            None => {
                // Error 11: it did not happen here; the next node may serve it. Once every
                // node has refused, the client waits a little before the next round.
                let nodes = self.slots.len();
                self.clients[c].node = (self.clients[c].node + 1) % nodes;
                let Some(call) = self.clients[c].call.as_mut() else {
                    return;
                };
                call.msg_id = 0;
                call.refusals += 1;
                if call.refusals % nodes == 0 {
                    call.retry_at_us = Some(now_us + RETRY_US);
                } else {
                    self.attempt(c);
                }
            }
        }
    }

    pub(super) fn end_call(&mut self, c: usize, end: End, now_us: u64) {
        let Some(call) = self.clients[c].call.take() else {
            return;
        };
        let text = clients::answer_words(&self.clients[c].name, &self.records[call.record], &end);
        self.note(Some(self.clients[c].node), text);
        self.records[call.record].end = Some((end, now_us));
        if !self.auto_clients {
            self.clients[c].next_at_us = u64::MAX;
            return;
        }
        let gap_us = if self.args.rate > 0.0 {
            let mean = self.clients.len() as f64 / self.args.rate * 1e6;
            (mean * self.rng.random_range(0.5..1.5)) as u64
        } else {
            0
        };
        // The next operation is due a gap after this one's call, so that the rate holds
        // while latencies stay below the gap; a slower answer makes the next one start at
        // once.
        let invoked_us = self.records[call.record].invoke_us;
        self.clients[c].next_at_us = (invoked_us + gap_us).max(now_us);
    }

    /// The node whose latest state line says it leads the highest term, if any.
    /// A node that is down, or stopped, leads nothing.
    pub fn reported_leader(&self) -> Option<usize> {
        let leading = |slot: &Slot| {
            if slot.child.is_none() || slot.paused {
                return None;
            }
            let state = slot.state.as_ref()?;
            let role = state.get("role")?.as_str()?;
            (role == "leader").then(|| state.get("term")?.as_u64())?
        };
        (0..self.slots.len())
            .filter_map(|i| Some((leading(&self.slots[i])?, i)))
            .max()
            .map(|(_, i)| i)
    }

    /// Every process id started, for tests that look for them after the run.
    pub fn pids(&self) -> Vec<u32> {
        self.slots.iter().flat_map(|s| s.pids.clone()).collect()
    }

    /// How long the clients' time has lasted, in seconds.
    pub fn duration_s(&self) -> f64 {
        if self.end_us == u64::MAX {
            // The clients' time never began.
            return 0.0;
        }
        let end_us = self.now_us().min(self.end_us);
        end_us.saturating_sub(self.begin_us) as f64 / 1e6
    }
}

fn new_slot(out: &std::path::Path, i: usize) -> Slot {
    let name = format!("n{i}");
    let log = File::create(out.join(format!("{name}.log"))).ok();
    Slot {
        name,
        child: None,
        pids: Vec::new(),
        generation: 0,
        paused: false,
        initialised: false,
        ended: false,
        sent: 0,
        received: 0,
        state: None,
        log,
        exit: None,
        drops_told: 0,
    }
}
