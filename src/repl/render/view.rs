//! The views: what the REPL shows of the cluster, as text for people, coloured where the
//! output is a terminal (the `colored` crate honours `NO_COLOR` and `CLICOLOR_FORCE`).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write;

use colored::{ColoredString, Colorize};

use crate::cluster::kv::KvRequest;
use crate::cluster::{
    ClusterEvent, ClusterView, EventKind, InFlight, MsgInfo, NetworkView, NodePicture, NodeState,
    StepReport,
};
use crate::raft::{Entry, Index, NodeId, Payload, RaftEvent, Role, Term};
use crate::repl::words::fmt_ms;

use crate::repl::command::TraceLevel;

mod summary;
mod timers;
pub use summary::{logs_summary, node_runs, status_summary};
pub use timers::{followers, timers};

/// The most log entries shown side by side; older ones are summarised.
const LOG_WINDOW: usize = 30;

/// A term in its colour: every term its own, cycling through six.
pub fn term_colored(term: Term, text: &str) -> ColoredString {
    match term % 6 {
        0 => text.cyan(),
        1 => text.yellow(),
        2 => text.magenta(),
        3 => text.green(),
        4 => text.blue(),
        _ => text.red(),
    }
}

/// A node's role (or down) in its colour.
pub fn role_colored(status: &NodePicture) -> ColoredString {
    match (&status.state, status.role) {
        (NodeState::Up, Some(Role::Leader)) => "leader".green().bold(),
        (NodeState::Up, Some(Role::Candidate)) => "candidate".yellow(),
        (NodeState::Up, _) => "follower".normal(),
        (NodeState::Down, _) => "down".red(),
        (NodeState::Crashed(_), _) => "crashed".red().bold(),
    }
}

fn node_name(node: Option<NodeId>) -> String {
    node.map_or("-".to_string(), |n| format!("n{n}"))
}

/// Pads a coloured cell to `width` by its visible length.
fn pad(cell: ColoredString, width: usize) -> String {
    let visible = cell.chars().count();
    format!("{cell}{}", " ".repeat(width.saturating_sub(visible)))
}

/// Above this many nodes, `status` and `log` show a summary instead of one row per node;
/// `status all` and `log all` show every row.
pub const SUMMARY_ABOVE_NODES: usize = 15;

/// `status`: one row per node.
pub fn status(status: &ClusterView) -> String {
    let ids: Vec<NodeId> = status.nodes.iter().map(|n| n.id).collect();
    status_rows(status, &ids)
}

/// `status NODE...`: the rows of the nodes `ids`, in that order (each once).
pub fn status_rows(status: &ClusterView, ids: &[NodeId]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", status_time_line(status));
    let header = "node  role       term  vote  leader  last      commit  applied  group";
    let _ = writeln!(out, "{}", header.bold());
    let by_id: HashMap<NodeId, &NodePicture> = status.nodes.iter().map(|n| (n.id, n)).collect();
    let mut seen = HashSet::with_capacity(ids.len());
    let shown: Vec<&NodePicture> = ids
        .iter()
        .filter(|&&id| seen.insert(id))
        .filter_map(|id| by_id.get(id).copied())
        .collect();
    for node in &shown {
        let _ = writeln!(out, "{}", status_row(node));
    }
    if let Some((voters, learners)) = &status.changed_members() {
        let members = crate::repl::words::describe_members(voters, learners);
        let _ = writeln!(out, "config: {members}");
    }
    for node in &shown {
        if let NodeState::Crashed(message) = &node.state {
            let _ = writeln!(out, "n{} crashed: {message}", node.id);
        }
    }
    out
}

/// The first line of `status`: time, clock, leader and messages in flight.
fn status_time_line(status: &ClusterView) -> String {
    format!(
        "t={}  clock={}  speed={}  leader={}  in flight={}",
        fmt_ms(status.now_us),
        status.mode.name(),
        status.speed,
        node_name(status.leader),
        status.in_flight.len()
    )
}

fn status_row(node: &NodePicture) -> String {
    let last = format!("{}@{}", node.last_index, node.last_term);
    let group = node.group.map_or("-".to_string(), |g| (g + 1).to_string());
    let up = node.state == NodeState::Up;
    let (commit, applied) = if up {
        (node.commit.to_string(), node.applied.to_string())
    } else {
        ("-".to_string(), "-".to_string())
    };
    let votes = node.votes.map_or(String::new(), |(granted, voters)| {
        format!("  {granted}/{voters} votes")
    });
    format!(
        "{:<6}{}{:>4}  {:<6}{:<8}{:<10}{:>6}  {:>7}  {}{votes}",
        format!("n{}", node.id),
        pad(role_colored(node), 11),
        node.term,
        node_name(node.vote),
        node_name(node.leader),
        last,
        commit,
        applied,
        group
    )
}

/// `log`: the logs side by side by index, each entry shown by its term and coloured by
/// term, like the figures of the Raft paper. `|` marks each node's commit point. A log
/// compacted by a snapshot (`snapshots`, in the order of `logs`: last index and term)
/// shows it as `[snap 1..S@T]` before its entries, and `s` at each index it covers.
pub fn logs(
    logs: &[(NodeId, Vec<Entry>)],
    snapshots: &[(Index, Term)],
    nodes: &[NodePicture],
) -> String {
    let layout = LogLayout::of(logs, snapshots);
    let mut out = String::new();
    layout.preamble(&mut out);
    for (row_number, (node, log)) in logs.iter().enumerate() {
        let status = nodes.iter().find(|s| s.id == *node);
        let snapshot = snapshots.get(row_number).copied().unwrap_or((0, 0));
        layout.row(&mut out, *node, log, snapshot, status);
    }
    logs_legend(&mut out, snapshots);
    out
}

/// The columns of `log`: the indexes shown (the last [`LOG_WINDOW`] of the longest log)
/// and the width of a cell.
struct LogLayout {
    first: usize,
    longest: usize,
    width: usize,
}

impl LogLayout {
    /// The layout for `logs`, compacted by `snapshots` (in the same order).
    fn of(logs: &[(NodeId, Vec<Entry>)], snapshots: &[(Index, Term)]) -> LogLayout {
        let snapshot_index = |row: usize| snapshots.get(row).map_or(0, |s| s.0 as usize);
        let longest = logs
            .iter()
            .enumerate()
            .map(|(row, (_, log))| snapshot_index(row) + log.len())
            .max()
            .unwrap_or(0);
        let first = longest.saturating_sub(LOG_WINDOW) + 1;
        let width = logs
            .iter()
            .flat_map(|(_, l)| l.iter().map(|e| e.term.to_string().len()))
            .max();
        let width = width.unwrap_or(1).max(longest.to_string().len()).max(2);
        LogLayout {
            first,
            longest,
            width,
        }
    }

    /// The note on entries not shown, and the index header.
    fn preamble(&self, out: &mut String) {
        let LogLayout {
            first,
            longest,
            width,
        } = *self;
        if first > 1 {
            let _ = writeln!(out, "({} earlier entries not shown)", first - 1);
        }
        let mut header = format!("{:<7}", "index");
        for index in first..=longest.max(first) {
            let _ = write!(header, " {index:>width$}");
        }
        let _ = writeln!(out, "{}", header.trim_end().dimmed());
    }

    /// One node's row (two, if its log starts with a snapshot).
    fn row(
        &self,
        out: &mut String,
        node: NodeId,
        log: &[Entry],
        (snapshot_index, snapshot_term): (Index, Term),
        status: Option<&NodePicture>,
    ) {
        let LogLayout { first, width, .. } = *self;
        let commit = status
            .filter(|s| s.state == NodeState::Up)
            .map(|s| s.commit as usize);
        let mut row = format!("{:<7}", log_row_label(node, status));
        let snapshot_index = snapshot_index as usize;
        if snapshot_index > 0 {
            let text = format!("[snap 1..{snapshot_index}@{snapshot_term}]");
            let _ = writeln!(out, "{row}{}", text.bold());
            row = format!("{:<7}", "");
        }
        let last = snapshot_index + log.len();
        for index in first..=last {
            let marker = if commit == Some(index - 1) && index > 1 {
                '|'
            } else {
                ' '
            };
            if index <= snapshot_index {
                let _ = write!(row, "{marker}{}", format!("{:>width$}", "s").dimmed());
                continue;
            }
            let entry = &log[index - snapshot_index - 1];
            let text = format!("{:>width$}", entry.term);
            let cell = term_colored(entry.term, &text);
            let committed = commit.is_some_and(|c| index <= c);
            let cell = if committed {
                cell.bold()
            } else {
                cell.dimmed()
            };
            let _ = write!(row, "{marker}{cell}");
        }
        if commit == Some(last) && last > 0 {
            row.push('|');
        }
        let _ = writeln!(out, "{row}");
    }
}

/// The key under `log`: what `|` (and, if a log is compacted, `s`) means.
fn logs_legend(out: &mut String, snapshots: &[(Index, Term)]) {
    let _ = writeln!(
        out,
        "{}",
        "| = commit point (entries up to it are committed)   n1* = leader   n1x = down".dimmed()
    );
    if snapshots.iter().any(|&(index, _)| index > 0) {
        let _ = writeln!(out, "{}", "s = compacted into the snapshot".dimmed());
    }
}

fn log_row_label(node: NodeId, status: Option<&NodePicture>) -> String {
    let mark = match status.map(|s| (&s.state, s.role)) {
        Some((NodeState::Up, Some(Role::Leader))) => "*",
        Some((NodeState::Up, _)) | None => "",
        Some(_) => "x",
    };
    format!("n{node}{mark}")
}

/// `log -v`: every entry with its command.
pub fn logs_verbose(logs: &[(NodeId, Vec<Entry>)], nodes: &[NodePicture]) -> String {
    let mut out = String::new();
    for (node, log) in logs {
        let status = nodes.iter().find(|s| s.id == *node);
        let commit = status
            .filter(|s| s.state == NodeState::Up)
            .map(|s| s.commit);
        let commit_text = commit.map_or("down".to_string(), |c| format!("commit {c}"));
        let _ = writeln!(out, "{} ({commit_text})", format!("n{node}").bold());
        let skip = log.len().saturating_sub(LOG_WINDOW);
        if skip > 0 {
            let _ = writeln!(out, "  ({skip} earlier entries not shown)");
        }
        for entry in &log[skip..] {
            let mark = if commit.is_some_and(|c| entry.index <= c) {
                "c"
            } else {
                " "
            };
            let term = term_colored(entry.term, &format!("t{}", entry.term));
            let _ = writeln!(
                out,
                "  {:>5} {mark} {term}  {}",
                entry.index,
                describe_entry(entry)
            );
        }
    }
    out
}

/// An entry's command in words.
pub fn describe_entry(entry: &Entry) -> String {
    match &entry.payload {
        Payload::Noop => "noop".to_string(),
        Payload::Config(members) => {
            format!(
                "config  {}",
                crate::repl::words::describe_members(&members.voters, &members.learners)
            )
        }
        Payload::Command(bytes) => match KvRequest::decode(bytes) {
            Ok(request) => format!(
                "{}  (client {} #{})",
                request.op, request.client, request.seq
            ),
            Err(_) => format!("{} bytes", bytes.len()),
        },
    }
}

/// `net`: the link matrix (rows send, columns receive) and the fault settings.
pub fn network(view: &NetworkView) -> String {
    let mut out = String::new();
    let config = &view.config;
    let _ = writeln!(
        out,
        "drop {}  dup {}  delay {}..{}  reorder {}",
        config.drop,
        config.duplicate,
        fmt_ms(config.delay_min_us),
        fmt_ms(config.delay_max_us),
        if config.reorder { "on" } else { "off" }
    );
    if !view.groups.is_empty() {
        let groups: Vec<String> = view
            .groups
            .iter()
            .map(|g| {
                g.iter()
                    .map(|n| format!("n{n}"))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect();
        let _ = writeln!(out, "partition: {}", groups.join(" | "));
    }
    if view.nodes.len() > 40 {
        let _ = writeln!(
            out,
            "{} links cut (matrix not shown above 40 nodes)",
            view.cut.len()
        );
        return out;
    }
    let widest = view.nodes.iter().max().copied().unwrap_or(1);
    let width = format!("n{widest}").len() + 1;
    let mut header = format!("{:<7}", "from\\to");
    for to in &view.nodes {
        let _ = write!(header, "{:>width$}", format!("n{to}"));
    }
    let _ = writeln!(out, "{}", header.bold());
    for &from in &view.nodes {
        let mut row = format!("{:<7}", format!("n{from}"));
        for &to in &view.nodes {
            let cell = if from == to {
                ".".dimmed()
            } else if view.cut.contains(&(from, to)) {
                "x".red().bold()
            } else {
                "+".green()
            };
            let _ = write!(row, "{}{cell}", " ".repeat(width - 1));
        }
        let _ = writeln!(out, "{row}");
    }
    let _ = writeln!(
        out,
        "{}",
        "+ delivers   x cut (rows send, columns receive)".dimmed()
    );
    out
}

/// Nodes as `n1, n2, n3`.
pub fn node_list(nodes: &[NodeId]) -> String {
    let names: Vec<String> = nodes.iter().map(|n| format!("n{n}")).collect();
    names.join(", ")
}

/// What a network command changed: the links it cut and those it restored, each two-way
/// pair once (`n2 <-> n1, n3`), one-way links with `->`; then the network as it is now.
pub fn link_changes(before: &[(NodeId, NodeId)], after: &NetworkView) -> String {
    let before: BTreeSet<(NodeId, NodeId)> = before.iter().copied().collect();
    let now: BTreeSet<(NodeId, NodeId)> = after.cut.iter().copied().collect();
    let cut: BTreeSet<_> = now.difference(&before).copied().collect();
    let restored: BTreeSet<_> = before.difference(&now).copied().collect();
    let mut out = String::new();
    if cut.is_empty() && restored.is_empty() {
        out.push_str("no link changed\n");
    }
    if !cut.is_empty() {
        let _ = writeln!(out, "cut {}", describe_links(&cut));
    }
    if !restored.is_empty() {
        let _ = writeln!(out, "restored {}", describe_links(&restored));
    }
    let links = after.nodes.len() * after.nodes.len().saturating_sub(1);
    let shape = if now.is_empty() {
        "every link is up".to_string()
    } else if !after.groups.is_empty() {
        let groups: Vec<String> = after.groups.iter().map(|g| node_list(g)).collect();
        format!("partitioned: {}", groups.join(" | "))
    } else {
        format!("{} of {links} one-way links cut", now.len())
    };
    let _ = writeln!(out, "network: {shape}");
    out
}

/// Links as stars around the node in most of them: `n2 <-> n1, n3; n4 -> n5`.
fn describe_links(links: &BTreeSet<(NodeId, NodeId)>) -> String {
    let mut two_way: BTreeSet<(NodeId, NodeId)> = links
        .iter()
        .filter(|&&(a, b)| a < b && links.contains(&(b, a)))
        .copied()
        .collect();
    let mut parts = Vec::new();
    while let Some(hub) = busiest(&two_way) {
        let others: Vec<NodeId> = two_way
            .iter()
            .filter_map(|&(a, b)| (a == hub).then_some(b).or((b == hub).then_some(a)))
            .collect();
        two_way.retain(|&(a, b)| a != hub && b != hub);
        parts.push(format!("n{hub} <-> {}", node_list(&others)));
    }
    for &(a, b) in links {
        if !links.contains(&(b, a)) {
            parts.push(format!("n{a} -> n{b}"));
        }
    }
    parts.join("; ")
}

/// The node in the most pairs (the lowest id of those tied), if any pair is left.
fn busiest(pairs: &BTreeSet<(NodeId, NodeId)>) -> Option<NodeId> {
    let mut count: BTreeMap<NodeId, usize> = BTreeMap::new();
    for &(a, b) in pairs {
        *count.entry(a).or_default() += 1;
        *count.entry(b).or_default() += 1;
    }
    let most = count.values().copied().max()?;
    count.into_iter().find(|&(_, c)| c == most).map(|(n, _)| n)
}

/// `msgs`: the messages in flight, the message last so that the table fits 80 columns.
pub fn messages(in_flight: &[InFlight]) -> String {
    if in_flight.is_empty() {
        return "no messages in flight\n".to_string();
    }
    let mut out = String::new();
    let header = format!("{:>5}  {:>9}  {:<10}  message", "id", "due", "link");
    let _ = writeln!(out, "{}", header.bold());
    for message in in_flight {
        let info = MsgInfo::of(&message.envelope);
        let link = format!("n{} -> n{}", info.from(), info.to());
        let due = fmt_ms(message.deliver_us);
        let _ = writeln!(out, "{:>5}  {due:>9}  {link:<10}  {info}", message.id);
    }
    out
}

/// `1 entry`, `3 entries`: a count with its noun.
pub fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// `kv`: the key-value contents of one node.
pub fn kv(node: NodeId, pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        return format!("n{node}: (empty)\n");
    }
    let mut out = format!("n{node}:\n");
    for (key, value) in pairs {
        let (key, value) = (
            crate::repl::token::quote(key),
            crate::repl::token::quote(value),
        );
        let _ = writeln!(out, "  {key} = {value}");
    }
    out
}

/// One event as a trace line, with leaders and crashes highlighted.
pub fn event(event: &ClusterEvent) -> String {
    let line = event.to_string();
    match &event.kind {
        EventKind::Raft {
            event: crate::raft::RaftEvent::BecameLeader { .. },
            ..
        } => line.green().bold().to_string(),
        EventKind::Violation(_) => line.red().bold().to_string(),
        EventKind::NodeCrashed { .. } | EventKind::NodeKilled { .. } => line.red().to_string(),
        EventKind::Dropped { .. } => line.dimmed().to_string(),
        _ => line,
    }
}

/// Whether an event is shown at a trace level. A safety violation and a node's crash are
/// shown at every level, `off` included: they are never silent.
pub fn shown_at(level: TraceLevel, event: &ClusterEvent) -> bool {
    if matches!(
        event.kind,
        EventKind::Violation(_) | EventKind::NodeCrashed { .. }
    ) {
        return true;
    }
    match level {
        TraceLevel::Off => false,
        TraceLevel::Messages => true,
        TraceLevel::Changes => match &event.kind {
            EventKind::Raft { event, .. } => !matches!(
                event,
                RaftEvent::Voted { .. }
                    | RaftEvent::LeaderKnown { .. }
                    | RaftEvent::BecameFollower { .. }
            ),
            kind => kind.is_change(),
        },
    }
}

/// `step`: the events of one hand-off, then what changed on the node that handled it.
pub fn step(report: &StepReport) -> String {
    step_filtered(report, |_| true)
}

/// `step` where the trace at `level` already printed some of the events live: the rest.
pub fn step_unshown(report: &StepReport, level: TraceLevel) -> String {
    step_filtered(report, |e| !shown_at(level, e))
}

fn step_filtered(report: &StepReport, keep: impl Fn(&ClusterEvent) -> bool) -> String {
    let mut out = String::new();
    for e in report.events.iter().filter(|e| keep(e)) {
        let _ = writeln!(out, "{}", event(e));
    }
    if let (Some(before), Some(after)) = (&report.before, &report.after) {
        let changes = changes(before, after);
        if !changes.is_empty() {
            let _ = writeln!(
                out,
                "{:>10}  n{} changed: {}",
                "",
                after.id,
                changes.join(", ")
            );
        }
    }
    out
}

fn changes(before: &NodePicture, after: &NodePicture) -> Vec<String> {
    let mut changes = Vec::new();
    if before.role != after.role {
        let role = |s: &NodePicture| s.role.map_or("down", Role::name);
        changes.push(format!("role {} -> {}", role(before), role(after)));
    }
    if before.term != after.term {
        changes.push(format!("term {} -> {}", before.term, after.term));
    }
    if before.vote != after.vote {
        changes.push(format!(
            "vote {} -> {}",
            node_name(before.vote),
            node_name(after.vote)
        ));
    }
    if (before.last_index, before.last_term) != (after.last_index, after.last_term) {
        changes.push(format!(
            "log {}@{} -> {}@{}",
            before.last_index, before.last_term, after.last_index, after.last_term
        ));
    }
    if before.commit != after.commit {
        changes.push(format!("commit {} -> {}", before.commit, after.commit));
    }
    changes
}
