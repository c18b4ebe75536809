//! The typed commands of the command language.
//!
//! A line of text becomes a [`Command`] in two steps: [`parse`] checks the syntax alone,
//! then [`Command::check_nodes`] checks the node ids against the cluster. `Display` writes
//! a command back as its canonical line (`parse(&cmd.to_string()) == Ok(Some(cmd))`), which
//! is how a session is saved as a scenario file.
//!
//! Choices where the design is silent:
//!
//! - Durations are held as whole microseconds (`*_us`) and written canonically in the
//!   largest unit that is exact: `1500000` is `1500ms`, `2000000` is `2s`.
//! - Node ids are written as plain numbers (`3`, not `n3`).
//! - `step` and `back` hold a count (default 1); `events` holds an optional count (the
//!   executor picks the default).
//! - Keys and values are one word each, or double-quoted (see [`super::token`]).

use std::fmt::{self, Display, Formatter};

pub use super::error::{ParseError, ResolveError};
pub use super::parse::parse;
use super::table::{self, Effect};
use super::token::quote;
use crate::raft::NodeId;

/// Declares a small enum of keywords with its names, for parsing, display and completion.
macro_rules! keywords {
    (
        $(#[$meta:meta])* $name:ident, $what:literal {
            $($(#[$vmeta:meta])* $variant:ident = $word:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// Every value, in the order of the declaration.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];
            /// What a value of this kind is called in error messages.
            pub const WHAT: &'static str = $what;

            /// The word for this value, as typed.
            pub fn word(self) -> &'static str {
                match self {
                    $($name::$variant => $word,)*
                }
            }

            /// The value for a word, if it is one.
            pub fn from_word(word: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.word() == word)
            }

            /// Every word, for completion.
            pub fn words() -> Vec<&'static str> {
                $name::ALL.iter().map(|v| v.word()).collect()
            }
        }

        impl Display for $name {
            fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
                f.write_str(self.word())
            }
        }
    };
}

keywords! {
    /// How much `trace` prints as the cluster runs.
    TraceLevel, "a trace level" {
        /// Nothing.
        Off = "off",
        /// Role, term and commit changes.
        Changes = "changes",
        /// Changes and every message.
        Messages = "messages",
    }
}

keywords! {
    /// A node's role as a condition sees it: one of Raft's three, or down (killed).
    NodeRole, "a role" {
        Follower = "follower",
        Candidate = "candidate",
        Leader = "leader",
        Down = "down",
    }
}

keywords! {
    /// A comparison in a condition.
    CmpOp, "a comparison" {
        Eq = "==",
        Ne = "!=",
        Lt = "<",
        Le = "<=",
        Gt = ">",
        Ge = ">=",
    }
}

keywords! {
    /// A number of a node that a condition can compare.
    NodeNumber, "a node number" {
        /// The current term.
        Term = "term",
        /// The commit index.
        Commit = "commit",
        /// The index of the last entry applied to the state machine.
        Applied = "applied",
    }
}

keywords! {
    /// A property the checker holds; `violation RULE` expects that one to fail.
    SafetyRule, "a safety rule" {
        /// At most one leader per term.
        ElectionSafety = "election-safety",
        /// A leader never overwrites or deletes entries in its log.
        LeaderAppendOnly = "leader-append-only",
        /// Same index and term means the same entry and the same prefix.
        LogMatching = "log-matching",
        /// A committed entry is in the log of every later leader.
        LeaderCompleteness = "leader-completeness",
        /// No two nodes apply different commands at one index.
        StateMachineSafety = "state-machine-safety",
        /// Client operations appear to take effect atomically, in real-time order.
        Linearizability = "linearizability",
        /// A node's term never decreases, across restarts too.
        TermMonotonic = "term-monotonic",
        /// A node votes at most once per term, across restarts too.
        VoteOnce = "vote-once",
        /// A node's commit index never decreases while it runs.
        CommitMonotonic = "commit-monotonic",
        /// A node's applied index never decreases while it runs.
        AppliedMonotonic = "applied-monotonic",
        /// A node never applies past its commit index.
        AppliedWithinCommit = "applied-within-commit",
        /// A leader commits only what a majority of its configuration's voters hold.
        CommitQuorum = "commit-quorum",
        /// A leader appends a configuration change only once the last one committed.
        OneConfigChange = "one-config-change",
        /// The network's load stays within its bounds (messages in flight, events a
        /// second): no message storm.
        MessageStorm = "message-storm",
    }
}

impl CmpOp {
    /// Whether `left OP right` holds.
    pub fn holds(self, left: u64, right: u64) -> bool {
        match self {
            CmpOp::Eq => left == right,
            CmpOp::Ne => left != right,
            CmpOp::Lt => left < right,
            CmpOp::Le => left <= right,
            CmpOp::Gt => left > right,
            CmpOp::Ge => left >= right,
        }
    }
}

/// The nodes `kill` and `restart` act on: one or more (`1`, `1,2`, `1-3`, `leader`), or
/// `all` (every node the command applies to: those up for `kill`, those down for
/// `restart`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeSet {
    All,
    Nodes(Vec<NodeRef>),
}

impl NodeSet {
    /// The named nodes; none for `All`.
    pub fn named(&self) -> &[NodeRef] {
        match self {
            NodeSet::Nodes(nodes) => nodes,
            NodeSet::All => &[],
        }
    }
}

impl Display for NodeSet {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            NodeSet::All => f.write_str("all"),
            NodeSet::Nodes(nodes) => f.write_str(&join(nodes, ",")),
        }
    }
}

/// Which nodes `status` and `log` show, one row each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rows {
    /// No node named: every node, or a summary of them in a cluster of more than
    /// [`SUMMARY_ABOVE_NODES`](crate::repl::view::SUMMARY_ABOVE_NODES) nodes.
    Default,
    /// `all`: every node, one row each, however many there are.
    All,
    /// The named nodes, in the order named (never empty: no node named is `Default`).
    Nodes(Vec<NodeRef>),
}

impl Rows {
    /// The named nodes; none for `Default` and `All`.
    pub fn named(&self) -> &[NodeRef] {
        match self {
            Rows::Nodes(nodes) => nodes,
            Rows::Default | Rows::All => &[],
        }
    }
}

/// Writes ` all` or ` NODE...` after a command's other words; nothing for `Default`.
impl Display for Rows {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Rows::Default => Ok(()),
            Rows::All => f.write_str(" all"),
            Rows::Nodes(nodes) => nodes.iter().try_for_each(|n| write!(f, " {n}")),
        }
    }
}

/// A node as a command names it: `3`, `n3` or `leader`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NodeRef {
    /// A node by id (from 1).
    Id(NodeId),
    /// Whichever node leads when the command runs (an error where there is none).
    Leader,
}

/// The nodes a condition is about: one, or `all` (the condition holds on every live node).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NodeSel {
    /// One node.
    One(NodeRef),
    /// Every node.
    All,
}

/// Something `expect` and `wait until` test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    /// `leader`: some node leads; `leader NODE`: that node leads.
    Leader { node: Option<NodeRef> },
    /// `no-leader`: no node leads.
    NoLeader,
    /// `role NODE ROLE`.
    Role { node: NodeSel, role: NodeRole },
    /// `term NODE OP N`, `commit NODE OP N`, `applied NODE OP N`.
    Compare {
        number: NodeNumber,
        node: NodeSel,
        op: CmpOp,
        value: u64,
    },
    /// `get K == V`: a linearizable read of `key` returns `value`.
    Get { key: String, value: String },
    /// `kv NODE K == V`: the node's state machine holds `value` at `key`.
    Kv {
        node: NodeSel,
        key: String,
        value: String,
    },
    /// `logs-match`: the logs of all nodes agree up to the shortest commit index.
    LogsMatch,
    /// `settled`: one leader that every member of its configuration follows in its term,
    /// each having committed an entry of it (what `check` waits for once faults heal).
    Settled,
    /// `unsettled`: not settled (how a `check` seed's liveness failure ends).
    Unsettled,
    /// `safe`: no safety check has failed.
    Safe,
    /// `violation [RULE]`: a safety check (that one) has failed.
    Violation { rule: Option<SafetyRule> },
}

/// A key-value operation a client sends: the cluster's own operation type, so that the
/// command language and the state machine cannot disagree on what an operation is.
pub use crate::cluster::kv::KvOp as ClientOp;

/// One command of the command language; see [`super::table::COMMANDS`] for what each does.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    // look
    /// `status [--json] [all|NODE...]`
    Status {
        verbose: bool,
        json: bool,
        rows: Rows,
    },
    /// `log [-v] [--json] [all|NODE...]`
    Log {
        verbose: bool,
        json: bool,
        rows: Rows,
    },
    /// `kv [NODE]` (no node: all of them)
    Kv { node: Option<NodeRef> },
    /// `net`
    Net,
    /// `msgs`
    Msgs,
    /// `timers`
    Timers,
    /// `watch`: the live view (in the interactive REPL)
    Watch,
    /// `events [N]`
    Events { count: Option<u64> },
    /// `trace off|changes|messages`
    Trace { level: TraceLevel },
    /// `help [COMMAND]`; the topic is a command name as the table spells it
    Help { topic: Option<String> },
    // time
    /// `pause`
    Pause,
    /// `resume`
    Resume,
    /// `speed X`, X > 0 (finite)
    Speed { factor: f64 },
    /// `run DURATION`
    Run { duration_us: u64 },
    /// `step [N]`, N >= 1 (default 1)
    Step { count: u64 },
    /// `back [N]`, N >= 1 (default 1)
    Back { count: u64 },
    /// `deliver MSG`
    Deliver { msg: u64 },
    /// `drop MSG`
    Drop { msg: u64 },
    /// `dup MSG`
    Dup { msg: u64 },
    /// `tick NODE`
    Tick { node: NodeRef },
    // faults
    /// `kill NODES`
    Kill { nodes: NodeSet },
    /// `restart NODES`
    Restart { nodes: NodeSet },
    /// `partition 1,2 | 3,4,5`: at least two non-empty groups, no node twice
    Partition { groups: Vec<Vec<NodeRef>> },
    /// `isolate NODE`
    Isolate { node: NodeRef },
    /// `cut A B` (both ways) or `cut A -> B` (one way)
    Cut {
        from: NodeRef,
        to: NodeRef,
        one_way: bool,
    },
    /// `link A B` or `link A -> B`
    Link {
        from: NodeRef,
        to: NodeRef,
        one_way: bool,
    },
    /// `heal`
    Heal,
    /// `net drop P`, 0 <= P <= 1
    NetDrop { probability: f64 },
    /// `net delay D[..D]`; one value means `min_us == max_us`
    NetDelay { min_us: u64, max_us: u64 },
    /// `net dup P`, 0 <= P <= 1
    NetDup { probability: f64 },
    /// `net reorder on|off`
    NetReorder { on: bool },
    // clients
    /// `put`, `append`, `get`, `del`, `cas`, each with an optional `via NODE`
    Client { op: ClientOp, via: Option<NodeRef> },
    // raft
    /// `campaign NODE`
    Campaign { node: NodeRef },
    /// `transfer NODE`
    Transfer { node: NodeRef },
    /// `add NODE` (a new node id, so never `leader`)
    Add { node: NodeId },
    /// `remove NODE`
    Remove { node: NodeRef },
    /// `snapshot NODE`
    Snapshot { node: NodeRef },
    /// `set-log NODE TERMS`: the terms of the new log's entries, from index 1, non-decreasing,
    /// each in 1..=[`MAX_GIVEN_TERM`](crate::raft::MAX_GIVEN_TERM)
    SetLog { node: NodeRef, terms: Vec<u64> },
    // scripts
    /// `wait leader [within D]`
    WaitLeader { within_us: Option<u64> },
    /// `wait commit IDX [within D]`
    WaitCommit { index: u64, within_us: Option<u64> },
    /// `wait until CONDITION [within D]`
    WaitUntil {
        condition: Condition,
        within_us: Option<u64>,
    },
    /// `expect CONDITION`
    Expect { condition: Condition },
    /// `try COMMAND` (any command but `try`)
    Try { command: Box<Command> },
    /// `check`
    Check,
    /// `say TEXT`: the rest of the line, trimmed
    Say { text: String },
    /// `save FILE`
    Save { file: String },
    /// `export FILE [FROM..TO]`: the window is in cluster time; the file's extension
    /// says what is written (see [`ExportFormat`])
    Export {
        file: String,
        window_us: Option<(u64, u64)>,
    },
    /// `export log FILE [NODE...]`: the logs as a picture (no nodes: all of them)
    ExportLog { file: String, nodes: Vec<NodeRef> },
    /// `export FILE.svg [FROM..TO] --slides [--heartbeats]`: the run as 1280x720 slides,
    /// `FILE-01.svg`, `FILE-02.svg`, ... (each with a PNG beside it)
    ExportSlides {
        file: String,
        window_us: Option<(u64, u64)>,
        heartbeats: bool,
    },
    /// `export log FILE.svg [NODE...] --slides`: the logs as one 1280x720 slide
    ExportLogSlide { file: String, nodes: Vec<NodeRef> },
    /// `quit` (or `exit`)
    Quit,
}

/// What `export FILE` writes, chosen by the file's extension (in any case).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// `.svg`: a message sequence diagram.
    Svg,
    /// `.json`: a Chrome trace (Trace Event format), for Perfetto or `chrome://tracing`.
    ChromeTrace,
    /// `.jsonl`: the events as JSON Lines, one object per event.
    JsonLines,
}

impl ExportFormat {
    /// The extensions `export` takes, for messages.
    pub const EXTENSIONS: &'static str = ".svg, .json or .jsonl";

    /// The format for a file name, if its extension is one `export` writes.
    pub fn of(file: &str) -> Option<ExportFormat> {
        let (_, extension) = file.rsplit_once('.')?;
        match extension.to_ascii_lowercase().as_str() {
            "svg" => Some(ExportFormat::Svg),
            "json" => Some(ExportFormat::ChromeTrace),
            "jsonl" => Some(ExportFormat::JsonLines),
            _ => None,
        }
    }
}

/// Writes an export window as `export` reads it: `1s..2s`, or `1s..` for one that runs
/// to the end ([`OPEN_END_US`]).
pub fn format_window((lo, hi): (u64, u64)) -> String {
    match hi {
        OPEN_END_US => format!("{}..", format_duration(lo)),
        hi => format!("{}..{}", format_duration(lo), format_duration(hi)),
    }
}

/// The end of an export window written without one (`export run.svg 2s..`): the end of
/// the run.
pub const OPEN_END_US: u64 = u64::MAX;

/// Writes a duration in microseconds in the largest unit that is exact.
pub fn format_duration(us: u64) -> String {
    if us != 0 && us.is_multiple_of(1_000_000) {
        format!("{}s", us / 1_000_000)
    } else if us.is_multiple_of(1000) {
        format!("{}ms", us / 1000)
    } else {
        format!("{us}us")
    }
}

impl Display for NodeRef {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            NodeRef::Id(id) => write!(f, "{id}"),
            NodeRef::Leader => f.write_str("leader"),
        }
    }
}

impl Display for NodeSel {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            NodeSel::One(node) => node.fmt(f),
            NodeSel::All => f.write_str("all"),
        }
    }
}

impl Display for Condition {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Leader { node: None } => f.write_str("leader"),
            Condition::Leader { node: Some(n) } => write!(f, "leader {n}"),
            Condition::NoLeader => f.write_str("no-leader"),
            Condition::Role { node, role } => write!(f, "role {node} {role}"),
            Condition::Compare {
                number,
                node,
                op,
                value,
            } => {
                write!(f, "{number} {node} {op} {value}")
            }
            Condition::Get { key, value } => write!(f, "get {} == {}", quote(key), quote(value)),
            Condition::Kv { node, key, value } => {
                write!(f, "kv {node} {} == {}", quote(key), quote(value))
            }
            Condition::LogsMatch => f.write_str("logs-match"),
            Condition::Settled => f.write_str("settled"),
            Condition::Unsettled => f.write_str("unsettled"),
            Condition::Safe => f.write_str("safe"),
            Condition::Violation { rule: None } => f.write_str("violation"),
            Condition::Violation { rule: Some(r) } => write!(f, "violation {r}"),
        }
    }
}

/// Writes a client operation as the command language spells it, quoting words that need it.
fn write_client_op(f: &mut Formatter<'_>, op: &ClientOp) -> fmt::Result {
    match op {
        ClientOp::Put { key, value } => write!(f, "put {} {}", quote(key), quote(value)),
        ClientOp::Append { key, value } => write!(f, "append {} {}", quote(key), quote(value)),
        ClientOp::Get { key } => write!(f, "get {}", quote(key)),
        ClientOp::Del { key } => write!(f, "del {}", quote(key)),
        ClientOp::Cas { key, old, new } => {
            write!(f, "cas {} {} {}", quote(key), quote(old), quote(new))
        }
    }
}

/// Writes ` within D` when there is a limit.
fn within(f: &mut Formatter<'_>, within_us: Option<u64>) -> fmt::Result {
    match within_us {
        Some(us) => write!(f, " within {}", format_duration(us)),
        None => Ok(()),
    }
}

/// Writes `word` then ` N` when there is a count.
fn with_count(f: &mut Formatter<'_>, word: &str, count: Option<u64>) -> fmt::Result {
    f.write_str(word)?;
    match count {
        Some(n) => write!(f, " {n}"),
        None => Ok(()),
    }
}

fn fmt_link(
    f: &mut Formatter<'_>,
    word: &str,
    a: NodeRef,
    b: NodeRef,
    one_way: bool,
) -> fmt::Result {
    let arrow = if one_way { " ->" } else { "" };
    write!(f, "{word} {a}{arrow} {b}")
}

fn join<T: Display>(items: &[T], sep: &str) -> String {
    items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(sep)
}

impl Command {
    /// The name of the command's entry in [`super::table::COMMANDS`].
    pub fn name(&self) -> &'static str {
        match self {
            Command::Status { .. } => "status",
            Command::Log { .. } => "log",
            Command::Kv { .. } => "kv",
            Command::Net => "net",
            Command::Msgs => "msgs",
            Command::Timers => "timers",
            Command::Watch => "watch",
            Command::Events { .. } => "events",
            Command::Trace { .. } => "trace",
            Command::Help { .. } => "help",
            Command::Pause => "pause",
            Command::Resume => "resume",
            Command::Speed { .. } => "speed",
            Command::Run { .. } => "run",
            Command::Step { .. } => "step",
            Command::Back { .. } => "back",
            Command::Deliver { .. } => "deliver",
            Command::Drop { .. } => "drop",
            Command::Dup { .. } => "dup",
            Command::Tick { .. } => "tick",
            Command::Kill { .. } => "kill",
            Command::Restart { .. } => "restart",
            Command::Partition { .. } => "partition",
            Command::Isolate { .. } => "isolate",
            Command::Cut { .. } => "cut",
            Command::Link { .. } => "link",
            Command::Heal => "heal",
            Command::NetDrop { .. } => "net drop",
            Command::NetDelay { .. } => "net delay",
            Command::NetDup { .. } => "net dup",
            Command::NetReorder { .. } => "net reorder",
            Command::Client { op, .. } => match op {
                ClientOp::Put { .. } => "put",
                ClientOp::Append { .. } => "append",
                ClientOp::Get { .. } => "get",
                ClientOp::Del { .. } => "del",
                ClientOp::Cas { .. } => "cas",
            },
            Command::Campaign { .. } => "campaign",
            Command::Transfer { .. } => "transfer",
            Command::Add { .. } => "add",
            Command::Remove { .. } => "remove",
            Command::Snapshot { .. } => "snapshot",
            Command::SetLog { .. } => "set-log",
            Command::WaitLeader { .. } => "wait leader",
            Command::WaitCommit { .. } => "wait commit",
            Command::WaitUntil { .. } => "wait until",
            Command::Expect { .. } => "expect",
            Command::Try { .. } => "try",
            Command::Check => "check",
            Command::Say { .. } => "say",
            Command::Save { .. } => "save",
            Command::Export { .. } | Command::ExportSlides { .. } => "export",
            Command::ExportLog { .. } | Command::ExportLogSlide { .. } => "export log",
            Command::Quit => "quit",
        }
    }

    /// What running the command does to a session, as its table entry says.
    pub fn effect(&self) -> Effect {
        // Every name above is an entry's (a test holds this); `Run` is never reached.
        table::find(self.name()).map_or(Effect::Run, |spec| spec.effect)
    }

    /// Whether the command needs a stopped clock, as its table entry says: refused while
    /// the clock runs in real time.
    pub fn needs_stopped_clock(&self) -> bool {
        table::find(self.name()).is_some_and(|spec| spec.stopped_clock)
    }

    /// Whether the command's output is the events it caused, each hand-off in time order
    /// (`step`, `deliver`, `campaign`): a front-end that prints the trace after each
    /// command leaves those out for it, so that nothing shows twice.
    pub fn reports_events(&self) -> bool {
        match self {
            Command::Try { command } => command.reports_events(),
            _ => self.effect() == Effect::HandOff,
        }
    }

    /// Writes the look and time commands; `false` when `self` is another kind.
    fn fmt_look_time(&self, f: &mut Formatter<'_>) -> Result<bool, fmt::Error> {
        match self {
            Command::Status {
                verbose,
                json,
                rows,
            } => {
                f.write_str("status")?;
                f.write_str(if *verbose { " -v" } else { "" })?;
                f.write_str(if *json { " --json" } else { "" })?;
                write!(f, "{rows}")?;
            }
            Command::Log {
                verbose,
                json,
                rows,
            } => {
                f.write_str(if *verbose { "log -v" } else { "log" })?;
                f.write_str(if *json { " --json" } else { "" })?;
                write!(f, "{rows}")?;
            }
            Command::Kv { node: None } => f.write_str("kv")?,
            Command::Kv { node: Some(n) } => write!(f, "kv {n}")?,
            Command::Net => f.write_str("net")?,
            Command::Msgs => f.write_str("msgs")?,
            Command::Timers => f.write_str("timers")?,
            Command::Watch => f.write_str("watch")?,
            Command::Events { count } => with_count(f, "events", *count)?,
            Command::Trace { level } => write!(f, "trace {level}")?,
            Command::Help { topic: None } => f.write_str("help")?,
            Command::Help { topic: Some(t) } => write!(f, "help {t}")?,
            Command::Pause => f.write_str("pause")?,
            Command::Resume => f.write_str("resume")?,
            Command::Speed { factor } => write!(f, "speed {factor}")?,
            Command::Run { duration_us } => write!(f, "run {}", format_duration(*duration_us))?,
            Command::Step { count: 1 } => f.write_str("step")?,
            Command::Step { count } => write!(f, "step {count}")?,
            Command::Back { count: 1 } => f.write_str("back")?,
            Command::Back { count } => write!(f, "back {count}")?,
            Command::Deliver { msg } => write!(f, "deliver {msg}")?,
            Command::Drop { msg } => write!(f, "drop {msg}")?,
            Command::Dup { msg } => write!(f, "dup {msg}")?,
            Command::Tick { node } => write!(f, "tick {node}")?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Writes the fault commands; `false` when `self` is another kind.
    fn fmt_faults(&self, f: &mut Formatter<'_>) -> Result<bool, fmt::Error> {
        match self {
            Command::Kill { nodes } => write!(f, "kill {nodes}")?,
            Command::Restart { nodes } => write!(f, "restart {nodes}")?,
            Command::Partition { groups } => {
                let groups: Vec<String> = groups.iter().map(|g| join(g, ",")).collect();
                write!(f, "partition {}", groups.join(" | "))?
            }
            Command::Isolate { node } => write!(f, "isolate {node}")?,
            Command::Cut { from, to, one_way } => fmt_link(f, "cut", *from, *to, *one_way)?,
            Command::Link { from, to, one_way } => fmt_link(f, "link", *from, *to, *one_way)?,
            Command::Heal => f.write_str("heal")?,
            Command::NetDrop { probability } => write!(f, "net drop {probability}")?,
            Command::NetDelay { min_us, max_us } if min_us == max_us => {
                write!(f, "net delay {}", format_duration(*min_us))?
            }
            Command::NetDelay { min_us, max_us } => {
                let (lo, hi) = (format_duration(*min_us), format_duration(*max_us));
                write!(f, "net delay {lo}..{hi}")?
            }
            Command::NetDup { probability } => write!(f, "net dup {probability}")?,
            Command::NetReorder { on } => {
                write!(f, "net reorder {}", if *on { "on" } else { "off" })?
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Writes the client, raft and script commands.
    fn fmt_rest(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Command::Client { op, via } => {
                write_client_op(f, op)?;
                via.map_or(Ok(()), |n| write!(f, " via {n}"))
            }
            Command::Campaign { node } => write!(f, "campaign {node}"),
            Command::Transfer { node } => write!(f, "transfer {node}"),
            Command::Add { node } => write!(f, "add {node}"),
            Command::Remove { node } => write!(f, "remove {node}"),
            Command::Snapshot { node } => write!(f, "snapshot {node}"),
            Command::SetLog { node, terms } if terms.is_empty() => write!(f, "set-log {node} -"),
            Command::SetLog { node, terms } => write!(f, "set-log {node} {}", join(terms, ",")),
            Command::WaitLeader { within_us } => f
                .write_str("wait leader")
                .and_then(|()| within(f, *within_us)),
            Command::WaitCommit { index, within_us } => {
                write!(f, "wait commit {index}")?;
                within(f, *within_us)
            }
            Command::WaitUntil {
                condition,
                within_us,
            } => {
                write!(f, "wait until {condition}")?;
                within(f, *within_us)
            }
            Command::Expect { condition } => write!(f, "expect {condition}"),
            Command::Try { command } => write!(f, "try {command}"),
            Command::Check => f.write_str("check"),
            Command::Say { text } if text.is_empty() => f.write_str("say"),
            Command::Say { text } => write!(f, "say {text}"),
            Command::Save { file } => write!(f, "save {}", quote(file)),
            Command::Export {
                file,
                window_us: None,
            } => write!(f, "export {}", quote(file)),
            Command::Export {
                file,
                window_us: Some(window),
            } => write!(f, "export {} {}", quote(file), format_window(*window)),
            Command::ExportLog { file, nodes } => {
                write!(f, "export log {}", quote(file))?;
                nodes.iter().try_for_each(|n| write!(f, " {n}"))
            }
            Command::ExportSlides {
                file,
                window_us,
                heartbeats,
            } => {
                write!(f, "export {}", quote(file))?;
                if let Some(&window) = window_us.as_ref() {
                    write!(f, " {}", format_window(window))?;
                }
                f.write_str(" --slides")?;
                if *heartbeats {
                    f.write_str(" --heartbeats")?;
                }
                Ok(())
            }
            Command::ExportLogSlide { file, nodes } => {
                write!(f, "export log {}", quote(file))?;
                nodes.iter().try_for_each(|n| write!(f, " {n}"))?;
                f.write_str(" --slides")
            }
            Command::Quit => f.write_str("quit"),
            _ => Ok(()),
        }
    }
}

/// The canonical command line: `parse(&cmd.to_string()) == Ok(Some(cmd))`.
impl Display for Command {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.fmt_look_time(f)? || self.fmt_faults(f)? {
            return Ok(());
        }
        self.fmt_rest(f)
    }
}
