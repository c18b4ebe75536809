//! The entries of the command table and the condition table.

use super::{ArgKind as A, CommandSpec, CondArg as C, ConditionSpec, Effect, Group};
use crate::repl::language::parse_net_client_script as q;
use crate::repl::parse as p;

/// Every command, grouped as `help` lists them.
pub static COMMANDS: &[CommandSpec] = &[
    // look
    CommandSpec {
        name: "status",
        aliases: &[],
        group: Group::Look,
        effect: Effect::Look,
        stopped_clock: false,
        usage: "status [-v] [--json] [all|NODE...]",
        summary: "every node's role, term, commit and applied index",
        description: "Shows one line per node: its role, term, vote, last log index, commit \
                      index and applied index, and the cluster time and clock mode. In a \
                      cluster of more than 15 nodes, a summary instead: nodes by role, the \
                      leader and its term, the range of terms, commit indexes (min, median, \
                      max, how many are at the leader's), the nodes furthest behind, the \
                      nodes down and the voters and learners. `status all` shows every \
                      node's line however many there are; `status NODE...` the lines of \
                      those nodes. A candidate shows its votes (`2/5 votes`). With -v, the \
                      leader's nextIndex and matchIndex for each follower too. With --json, \
                      every node as one JSON object (votes and followers included), for \
                      tools.",
        example: "status 1 2 leader",
        args: &[A::NodesOrVerbose],
        parse: p::status,
    },
    CommandSpec {
        name: "log",
        aliases: &[],
        group: Group::Look,
        effect: Effect::Look,
        stopped_clock: false,
        usage: "log [-v] [--json] [all|NODE...]",
        summary: "the nodes' logs, laid out by index",
        description: "Shows the logs of the named nodes (all, if none is named), one row per \
                      node, entries coloured by term and committed entries marked. In a \
                      cluster of more than 15 nodes, `log` alone shows the leader's log and \
                      groups the others: nodes with the same last entry, commit index and \
                      snapshot, up or down, have the same log (Log Matching), so one row \
                      stands for each group; `log all` shows every row. With -v, each \
                      entry's command too. With --json, every entry of every named log (with \
                      its command) as one JSON object, for tools.",
        example: "log -v 1 2",
        args: &[A::NodesOrVerbose],
        parse: p::log,
    },
    CommandSpec {
        name: "kv",
        aliases: &[],
        group: Group::Look,
        effect: Effect::Look,
        stopped_clock: false,
        usage: "kv [NODE]",
        summary: "the key-value state machine of a node (or all)",
        description: "Shows the keys and values a node has applied, or every node's side by \
                      side.",
        example: "kv 2",
        args: &[A::Node],
        parse: p::kv,
    },
    CommandSpec {
        name: "net",
        aliases: &[],
        group: Group::Look,
        effect: Effect::Look,
        stopped_clock: false,
        usage: "net",
        summary: "the network: links, cuts, loss, delay",
        description: "Shows which links are cut (both ways or one way), and the network's \
                      drop and duplication probabilities, delay range and reordering.",
        example: "net",
        args: &[],
        parse: p::net,
    },
    CommandSpec {
        name: "timers",
        aliases: &[],
        group: Group::Look,
        effect: Effect::Look,
        stopped_clock: false,
        usage: "timers",
        summary: "when each node's timer fires next",
        description: "Shows, for each node that is up, which timer it waits on (a follower's \
                      or candidate's election timeout, a leader's next heartbeat), when it \
                      fires and how long until then, and how much of it is left.",
        example: "timers",
        args: &[],
        parse: p::timers,
    },
    CommandSpec {
        name: "watch",
        aliases: &[],
        group: Group::Look,
        effect: Effect::Session,
        stopped_clock: false,
        usage: "watch",
        summary: "the live view of this cluster (q comes back)",
        description: "Shows the cluster full-screen as it runs: nodes with their timers, \
                      messages in flight, logs, the latest events. Keys act on the cluster \
                      (? lists them); q or Esc comes back to the REPL with the same cluster. \
                      Only in the interactive REPL.",
        example: "watch",
        args: &[],
        parse: p::watch,
    },
    CommandSpec {
        name: "msgs",
        aliases: &[],
        group: Group::Look,
        effect: Effect::Look,
        stopped_clock: false,
        usage: "msgs",
        summary: "the messages in flight, with their ids",
        description: "Lists the messages the network holds, each with the id that deliver \
                      and drop take, its sender, receiver, kind and delivery time.",
        example: "msgs",
        args: &[],
        parse: p::msgs,
    },
    CommandSpec {
        name: "events",
        aliases: &[],
        group: Group::Look,
        effect: Effect::Look,
        stopped_clock: false,
        usage: "events [N]",
        summary: "the last N events",
        description: "Shows the most recent events (role and term changes, commits, \
                      messages), one a line, oldest first.",
        example: "events 20",
        args: &[A::Number],
        parse: p::events,
    },
    CommandSpec {
        name: "trace",
        aliases: &[],
        group: Group::Look,
        effect: Effect::Session,
        stopped_clock: false,
        usage: "trace off|changes|messages",
        summary: "how much to print as the cluster runs",
        description: "off prints nothing while time passes; changes prints role, term and \
                      commit changes; messages prints those and every message.",
        example: "trace changes",
        args: &[A::TraceLevel],
        parse: p::trace,
    },
    CommandSpec {
        name: "help",
        aliases: &[],
        group: Group::Look,
        effect: Effect::Look,
        stopped_clock: false,
        usage: "help [COMMAND]",
        summary: "this list, or one command's usage and example",
        description: "Without a command, lists every command by group. With one, shows its \
                      usage, what it does and an example.",
        example: "help partition",
        args: &[A::Topic],
        parse: p::help,
    },
    // time
    CommandSpec {
        name: "pause",
        aliases: &[],
        group: Group::Time,
        effect: Effect::Session,
        stopped_clock: false,
        usage: "pause",
        summary: "stop the clock",
        description: "Stops cluster time. Nothing happens until run, step or deliver.",
        example: "pause",
        args: &[],
        parse: p::pause,
    },
    CommandSpec {
        name: "resume",
        aliases: &[],
        group: Group::Time,
        effect: Effect::Session,
        stopped_clock: false,
        usage: "resume",
        summary: "let the clock follow the wall clock again",
        description: "Restarts cluster time in realtime mode, at the current speed.",
        example: "resume",
        args: &[],
        parse: p::resume,
    },
    CommandSpec {
        name: "speed",
        aliases: &[],
        group: Group::Time,
        effect: Effect::Session,
        stopped_clock: false,
        usage: "speed X",
        summary: "cluster time runs X times the wall clock",
        description: "Sets how fast cluster time runs in realtime mode: speed 0.1 is ten \
                      times slower, for following an election by eye. X is above 0.",
        example: "speed 0.1",
        args: &[A::Decimal],
        parse: p::speed,
    },
    CommandSpec {
        name: "run",
        aliases: &[],
        group: Group::Time,
        effect: Effect::Run,
        stopped_clock: true,
        usage: "run DURATION",
        summary: "advance cluster time by DURATION",
        description: "Runs the cluster for DURATION of cluster time (as fast as the machine \
                      allows), then stops.",
        example: "run 200ms",
        args: &[A::Duration],
        parse: p::run,
    },
    CommandSpec {
        name: "step",
        aliases: &[],
        group: Group::Time,
        effect: Effect::HandOff,
        stopped_clock: true,
        usage: "step [N]",
        summary: "process the next N events (default 1)",
        description: "Processes the next due event (a message delivery or a timer), or the \
                      next N, and shows what each did.",
        example: "step 3",
        args: &[A::Number],
        parse: p::step,
    },
    CommandSpec {
        name: "back",
        aliases: &[],
        group: Group::Time,
        effect: Effect::Session,
        stopped_clock: true,
        usage: "back [N]",
        summary: "undo the last N steps (default 1)",
        description: "Replays the run from the start up to N steps ago, which a \
                      deterministic cluster makes the same as going back in time.",
        example: "back",
        args: &[A::Number],
        parse: p::back,
    },
    CommandSpec {
        name: "deliver",
        aliases: &[],
        group: Group::Time,
        effect: Effect::HandOff,
        stopped_clock: true,
        usage: "deliver MSG",
        summary: "deliver one message now",
        description: "Delivers the in-flight message MSG (an id from msgs) now, ahead of its \
                      time.",
        example: "deliver 17",
        args: &[A::Msg],
        parse: p::deliver,
    },
    CommandSpec {
        name: "drop",
        aliases: &[],
        group: Group::Time,
        effect: Effect::Run,
        stopped_clock: true,
        usage: "drop MSG",
        summary: "lose one message",
        description: "Removes the in-flight message MSG (an id from msgs): it is never \
                      delivered.",
        example: "drop 17",
        args: &[A::Msg],
        parse: p::drop,
    },
    CommandSpec {
        name: "dup",
        aliases: &[],
        group: Group::Time,
        effect: Effect::Run,
        stopped_clock: true,
        usage: "dup MSG",
        summary: "duplicate one message",
        description: "Puts a second copy of the in-flight message MSG on the wire, due when \
                      the first is, under a new id (what `net dup` does at random).",
        example: "dup 17",
        args: &[A::Msg],
        parse: p::dup,
    },
    CommandSpec {
        name: "tick",
        aliases: &[],
        group: Group::Time,
        effect: Effect::HandOff,
        stopped_clock: true,
        usage: "tick NODE",
        summary: "move the clock on to a node's timer and fire it",
        description: "Moves the clock on to the node's timer deadline, if later, and fires it \
                      for that node alone: a leader sends heartbeats, a follower or candidate \
                      starts an election. Counterexamples of `raftlab explore` use it.",
        example: "tick 1",
        args: &[A::Node],
        parse: p::tick,
    },
    // faults
    CommandSpec {
        name: "kill",
        aliases: &[],
        group: Group::Faults,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "kill NODES",
        summary: "crash nodes; each keeps only its durable state",
        description: "Stops each node's thread. Its term, vote and log survive on durable \
                      storage; everything else is lost. NODES is one node, a list (1,2), a \
                      range (1-3) or all (every node that is up); every node named must be \
                      up, or nothing is killed.",
        example: "kill leader",
        args: &[A::NodeSet],
        parse: p::kill,
    },
    CommandSpec {
        name: "restart",
        aliases: &[],
        group: Group::Faults,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "restart NODES",
        summary: "start killed nodes from their durable state",
        description: "Builds a new node from the durable term, vote and log of a killed \
                      node. It starts as a follower. NODES is one node, a list (1,2), a \
                      range (1-3) or all (every node that is down); every node named must \
                      be down, or nothing is restarted.",
        example: "restart all",
        args: &[A::NodeSet],
        parse: p::restart,
    },
    CommandSpec {
        name: "partition",
        aliases: &[],
        group: Group::Faults,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "partition NODES | NODES [| NODES...]",
        summary: "split the network into groups",
        description: "Cuts every link between nodes of different groups and restores \
                      every link inside a group: the groups given are the whole network's \
                      shape. Groups are separated by |, nodes by commas or spaces; a node \
                      may be named once. It prints the links it changed.",
        example: "partition 1,2 | 3,4,5",
        args: &[A::Partition],
        parse: q::partition,
    },
    CommandSpec {
        name: "isolate",
        aliases: &[],
        group: Group::Faults,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "isolate NODE",
        summary: "cut a node off from all others",
        description: "Cuts every link to and from the node. It keeps running. Other cuts \
                      stay: isolate 2 then isolate 3 leaves both cut off, until heal or \
                      link.",
        example: "isolate leader",
        args: &[A::Node],
        parse: p::isolate,
    },
    CommandSpec {
        name: "cut",
        aliases: &[],
        group: Group::Faults,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "cut A B | cut A -> B",
        summary: "cut the link between two nodes (or one way)",
        description: "Cuts the link between A and B both ways, or with -> only messages \
                      from A to B.",
        example: "cut 1 -> 2",
        args: &[A::LinkEnds],
        parse: q::cut,
    },
    CommandSpec {
        name: "link",
        aliases: &[],
        group: Group::Faults,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "link A B | link A -> B",
        summary: "restore the link between two nodes (or one way)",
        description: "Restores the link between A and B both ways, or with -> only the \
                      direction from A to B.",
        example: "link 1 2",
        args: &[A::LinkEnds],
        parse: q::link,
    },
    CommandSpec {
        name: "heal",
        aliases: &[],
        group: Group::Faults,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "heal",
        summary: "restore every link",
        description: "Undoes every partition, isolation and cut. Loss, delay and \
                      duplication settings stay.",
        example: "heal",
        args: &[],
        parse: p::heal,
    },
    CommandSpec {
        name: "net drop",
        aliases: &[],
        group: Group::Faults,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "net drop P",
        summary: "lose each message with probability P",
        description: "Sets the probability (0 to 1) that the network loses a message.",
        example: "net drop 0.1",
        args: &[A::Probability],
        parse: q::net_drop,
    },
    CommandSpec {
        name: "net delay",
        aliases: &[],
        group: Group::Faults,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "net delay D[..D]",
        summary: "delay each message by D, or between two durations",
        description: "Sets the delay of every message: a fixed duration, or a range from \
                      which each message's delay is drawn (no spaces around ..).",
        example: "net delay 1ms..5ms",
        args: &[A::DurationRange],
        parse: q::net_delay,
    },
    CommandSpec {
        name: "net dup",
        aliases: &[],
        group: Group::Faults,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "net dup P",
        summary: "duplicate each message with probability P",
        description: "Sets the probability (0 to 1) that the network delivers a message \
                      twice.",
        example: "net dup 0.05",
        args: &[A::Probability],
        parse: q::net_dup,
    },
    CommandSpec {
        name: "net reorder",
        aliases: &[],
        group: Group::Faults,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "net reorder on|off",
        summary: "let messages overtake each other",
        description: "With reordering on, messages on one link may arrive out of order.",
        example: "net reorder on",
        args: &[A::OnOff],
        parse: q::net_reorder,
    },
    // clients
    CommandSpec {
        name: "put",
        aliases: &[],
        group: Group::Clients,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "put K V [via NODE]",
        summary: "set key K to V",
        description: "Sends a put to the leader (or to NODE with via) and waits until it is \
                      committed and applied. Keys and values are one word, or in double \
                      quotes.",
        example: "put x 1 via 2",
        args: &[A::Key, A::Value, A::Keyword("via"), A::Node],
        parse: q::put,
    },
    CommandSpec {
        name: "append",
        aliases: &[],
        group: Group::Clients,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "append K V [via NODE]",
        summary: "append V to key K's value",
        description: "Sends an append (an absent key counts as empty) and waits for its \
                      result.",
        example: "append log \"a b\"",
        args: &[A::Key, A::Value, A::Keyword("via"), A::Node],
        parse: q::append,
    },
    CommandSpec {
        name: "get",
        aliases: &[],
        group: Group::Clients,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "get K [via NODE]",
        summary: "read key K (through the log, or by ReadIndex or lease)",
        description: "Sends a read of K and prints the value. How the read is served is the \
                      cluster's `reads:` option: `log` (the default) commits it as a log \
                      entry; `read-index` has the leader confirm its leadership with one \
                      heartbeat round; `lease` answers at once while the leader holds its \
                      lease (needs `check_quorum: true`).",
        example: "get x",
        args: &[A::Key, A::Keyword("via"), A::Node],
        parse: q::get,
    },
    CommandSpec {
        name: "del",
        aliases: &[],
        group: Group::Clients,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "del K [via NODE]",
        summary: "delete key K",
        description: "Sends a delete of K and waits for its result.",
        example: "del x",
        args: &[A::Key, A::Keyword("via"), A::Node],
        parse: q::del,
    },
    CommandSpec {
        name: "cas",
        aliases: &[],
        group: Group::Clients,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "cas K OLD NEW [via NODE]",
        summary: "set K to NEW if its value is OLD",
        description: "Sends a compare-and-set and prints whether it took effect.",
        example: "cas x 1 2",
        args: &[A::Key, A::Value, A::Value, A::Keyword("via"), A::Node],
        parse: q::cas,
    },
    // raft
    CommandSpec {
        name: "campaign",
        aliases: &[],
        group: Group::Raft,
        effect: Effect::HandOff,
        stopped_clock: false,
        usage: "campaign NODE",
        summary: "make a node start an election now",
        description: "Fires the node's election timer: it becomes a candidate in a new term \
                      and asks for votes.",
        example: "campaign 3",
        args: &[A::Node],
        parse: p::campaign,
    },
    CommandSpec {
        name: "transfer",
        aliases: &[],
        group: Group::Raft,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "transfer NODE",
        summary: "hand leadership to a node",
        description: "Asks the leader to bring NODE up to date, then to send it TimeoutNow so \
                      that it campaigns at once (skipping PreVote). The leader refuses \
                      proposals meanwhile. A NODE that is down is refused at once; one that \
                      does not catch up or take over within an election timeout makes the \
                      leader give up, with a `transfer ... FAILED` event (`trace changes`).",
        example: "transfer 2",
        args: &[A::Node],
        parse: p::transfer,
    },
    CommandSpec {
        name: "add",
        aliases: &[],
        group: Group::Raft,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "add NODE",
        summary: "add a new node to the cluster",
        description: "Starts a new, empty node with id NODE (ids go up to 2001) and has the \
                      leader add it, one server at a time, by a configuration entry in the \
                      log. It joins as a \
                      learner (receives entries, does not vote) and the leader makes it a \
                      voter once it has caught up. The leader refuses a change while another \
                      is uncommitted, or before it committed an entry of its term.",
        example: "add 6",
        args: &[A::NewNode],
        parse: q::add,
    },
    CommandSpec {
        name: "remove",
        aliases: &[],
        group: Group::Raft,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "remove NODE",
        summary: "remove a node from the cluster",
        description: "Has the leader remove NODE by a configuration entry in the log. The \
                      node keeps running (`kill` it once the change committed); a leader that \
                      removes itself steps down once the change commits. `status` shows the \
                      configuration once it differs from the initial cluster.",
        example: "remove 5",
        args: &[A::Node],
        parse: p::remove,
    },
    CommandSpec {
        name: "snapshot",
        aliases: &[],
        group: Group::Raft,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "snapshot NODE",
        summary: "compact a node's log into a snapshot",
        description: "Makes the node snapshot its state machine and drop the log entries the \
                      snapshot covers.",
        example: "snapshot 1",
        args: &[A::Node],
        parse: p::snapshot,
    },
    CommandSpec {
        name: "set-log",
        aliases: &[],
        group: Group::Raft,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "set-log NODE TERMS",
        summary: "replace a down node's log (terms, e.g. 1,1,4,4,5; - for empty)",
        description: "Replaces the durable log of a killed node with entries of the given \
                      terms, from index 1, to build the paper's figures. Terms are at least \
                      1, at most 4294967295 (2^32 - 1), and do not decrease; - (or none) \
                      gives an empty log. The node's term becomes at least its last entry's \
                      term.",
        example: "set-log 3 1,1,4,4,5",
        args: &[A::Node, A::Terms],
        parse: q::set_log,
    },
    // scripts
    CommandSpec {
        name: "wait leader",
        aliases: &[],
        group: Group::Scripts,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "wait leader [within D]",
        summary: "run until a node leads",
        description: "Runs the cluster until some node is leader, failing after D (or the \
                      default limit).",
        example: "wait leader within 1s",
        args: &[A::Keyword("within"), A::Duration],
        parse: q::wait_leader,
    },
    CommandSpec {
        name: "wait commit",
        aliases: &[],
        group: Group::Scripts,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "wait commit IDX [within D]",
        summary: "run until index IDX is committed",
        description: "Runs the cluster until the leader has committed the entry at IDX, \
                      failing after D (or the default limit).",
        example: "wait commit 5 within 500ms",
        args: &[A::Number, A::Keyword("within"), A::Duration],
        parse: q::wait_commit,
    },
    CommandSpec {
        name: "wait until",
        aliases: &[],
        group: Group::Scripts,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "wait until CONDITION [within D]",
        summary: "run until a condition holds",
        description: "Runs the cluster until CONDITION holds, failing after D (or the \
                      default limit).",
        example: "wait until commit all >= 3 within 2s",
        args: &[A::Condition],
        parse: q::wait_until,
    },
    CommandSpec {
        name: "expect",
        aliases: &[],
        group: Group::Scripts,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "expect CONDITION",
        summary: "fail unless a condition holds now",
        description: "Checks CONDITION now; if it does not hold, the command (and a script) \
                      fails.",
        example: "expect get x == 1",
        args: &[A::Condition],
        parse: q::expect,
    },
    CommandSpec {
        name: "try",
        aliases: &[],
        group: Group::Scripts,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "try COMMAND",
        summary: "run a command whose failure is acceptable",
        description: "Runs COMMAND (any command but try) and prints its outcome; a script \
                      goes on even if it failed.",
        example: "try put x 2 via 3",
        args: &[A::Command],
        parse: q::try_,
    },
    CommandSpec {
        name: "check",
        aliases: &[],
        group: Group::Scripts,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "check",
        summary: "run the safety and linearizability checks now",
        description: "Runs every safety check and the linearizability check on the history \
                      so far and prints the result.",
        example: "check",
        args: &[],
        parse: p::check,
    },
    CommandSpec {
        name: "say",
        aliases: &[],
        group: Group::Scripts,
        effect: Effect::Run,
        stopped_clock: false,
        usage: "say TEXT",
        summary: "print a line of narration",
        description: "Prints TEXT, the rest of the line as written (quotes included).",
        example: "say The entry is committed once a majority has it.",
        args: &[A::Text],
        parse: q::say,
    },
    CommandSpec {
        name: "save",
        aliases: &[],
        group: Group::Scripts,
        effect: Effect::Session,
        stopped_clock: false,
        usage: "save FILE",
        summary: "save this session as a scenario file",
        description: "Writes the cluster settings and every command so far as a YAML \
                      scenario that replays this session.",
        example: "save session.yaml",
        args: &[A::File],
        parse: q::save,
    },
    CommandSpec {
        name: "export",
        aliases: &[],
        group: Group::Scripts,
        effect: Effect::Session,
        stopped_clock: false,
        usage: "export FILE [FROM..TO] [--slides [--heartbeats]]",
        summary: "draw the run as a sequence diagram (.svg) or write a trace (.json, .jsonl)",
        description: "Writes the run so far (or the part between cluster times FROM and TO; \
                      ..TO from the start, FROM.. to now), \
                      by FILE's extension: .svg, a message sequence diagram (a lane per node, \
                      an arrow per message, roles, faults and commits marked; heartbeats are \
                      left out of large runs); .json, a Chrome trace to open in Perfetto or \
                      chrome://tracing; .jsonl, the events as JSON Lines. With --slides \
                      (.svg only): 1280x720 pages FILE-01.svg, FILE-02.svg, ... split by time, \
                      each with a PNG beside it, heartbeat rounds folded into one mark \
                      (--heartbeats draws them all).",
        example: "export failover.svg 200ms..500ms",
        args: &[A::File, A::DurationRange],
        parse: q::export,
    },
    CommandSpec {
        name: "export log",
        aliases: &[],
        group: Group::Scripts,
        effect: Effect::Session,
        stopped_clock: false,
        usage: "export log FILE.svg [NODE...] [--slides]",
        summary: "draw the logs as a picture, like the Raft paper's figures",
        description: "Writes the logs of the named nodes (all, if none is named) to an SVG \
                      file: a row per node, a column per index, each entry a box coloured and \
                      labelled by its term, commit points marked. --slides: one 1280x720 \
                      slide, each box with its command (x←3), and a PNG beside it.",
        example: "export log figure7.svg",
        args: &[A::File, A::Nodes],
        parse: q::export_log,
    },
    CommandSpec {
        name: "quit",
        aliases: &["exit"],
        group: Group::Scripts,
        effect: Effect::Session,
        stopped_clock: false,
        usage: "quit",
        summary: "leave",
        description: "Stops the cluster and leaves the REPL. Ctrl-D does the same.",
        example: "quit",
        args: &[],
        parse: p::quit,
    },
];

/// Every condition of `expect` and `wait until`.
pub static CONDITIONS: &[ConditionSpec] = &[
    ConditionSpec {
        name: "leader",
        usage: "leader [NODE]",
        summary: "some node (or NODE) is leader",
        args: &[C::Node],
    },
    ConditionSpec {
        name: "no-leader",
        usage: "no-leader",
        summary: "no node is leader",
        args: &[],
    },
    ConditionSpec {
        name: "role",
        usage: "role NODE ROLE",
        summary: "NODE is a follower, candidate, leader or down",
        args: &[C::NodeOrAll, C::Role],
    },
    ConditionSpec {
        name: "term",
        usage: "term NODE OP N",
        summary: "NODE's current term compares to N",
        args: &[C::NodeOrAll, C::Op, C::Number],
    },
    ConditionSpec {
        name: "commit",
        usage: "commit NODE OP N",
        summary: "NODE's commit index compares to N",
        args: &[C::NodeOrAll, C::Op, C::Number],
    },
    ConditionSpec {
        name: "applied",
        usage: "applied NODE OP N",
        summary: "NODE's applied index compares to N",
        args: &[C::NodeOrAll, C::Op, C::Number],
    },
    ConditionSpec {
        name: "get",
        usage: "get K == V",
        summary: "a read of K through the leader returns V",
        args: &[C::Key, C::Equals, C::Value],
    },
    ConditionSpec {
        name: "kv",
        usage: "kv NODE K == V",
        summary: "NODE's state machine holds V at K",
        args: &[C::NodeOrAll, C::Key, C::Equals, C::Value],
    },
    ConditionSpec {
        name: "logs-match",
        usage: "logs-match",
        summary: "all logs agree up to the lowest commit index",
        args: &[],
    },
    ConditionSpec {
        name: "settled",
        usage: "settled",
        summary: "one leader, followed by every member in its term, each with an entry of it committed",
        args: &[],
    },
    ConditionSpec {
        name: "unsettled",
        usage: "unsettled",
        summary: "not settled (a check seed's liveness failure ends so)",
        args: &[],
    },
    ConditionSpec {
        name: "safe",
        usage: "safe",
        summary: "no safety check has failed",
        args: &[],
    },
    ConditionSpec {
        name: "violation",
        usage: "violation [RULE]",
        summary: "a safety check (RULE) has failed",
        args: &[C::Rule],
    },
];
