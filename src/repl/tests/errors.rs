//! Every error path gives its message.

use super::err;
use crate::cluster::MAX_NODES;
use crate::raft::NodeId;
use crate::repl::command::{ResolveError, parse};

const CASES: &[(&str, &str)] = &[
    (
        "sttaus",
        "unknown command 'sttaus' (did you mean 'status'?)",
    ),
    ("xyzzy", "unknown command 'xyzzy'"),
    ("Put x 1", "unknown command 'Put' (did you mean 'put'?)"),
    ("kill 3-1", "'3-1' is a range written backwards: write 1-3"),
    (
        "export f.svg --slides --slides",
        "'--slides' is given twice (usage: export FILE [FROM..TO] [--slides [--heartbeats]])",
    ),
    (
        "export /tmp/.svg",
        "cannot export to '/tmp/.svg': the file needs a name before its extension, such as \
         run.svg",
    ),
    (
        "export g.svg ..",
        "bad duration '..': expected a window FROM..TO, ..TO or FROM.., e.g. 100ms..2s",
    ),
    (
        "partition 1-5000 | 5001",
        "'1-5000' names more than 1000 nodes",
    ),
    (
        "net drop -0.1",
        "probability -0.1 is out of range: it must be between 0 and 1",
    ),
    ("speed -1", "speed must be greater than 0, got -1"),
    (
        "speed 1e9",
        "bad speed '1e9': expected a decimal number such as 0.5",
    ),
    (
        "expect leader within 1s",
        "expect tests the condition now and takes no 'within': to wait for it, use 'wait \
         until CONDITION within D' (usage: expect CONDITION)",
    ),
    (
        "wait leader within 1s 2s",
        "unexpected '2s' after 'within 1s' (usage: wait leader [within D])",
    ),
    (
        "wait until leader within 1s within 2s",
        "unexpected 'within' after 'within 1s' (usage: wait until CONDITION [within D])",
    ),
    (
        "try quit",
        "try takes any command but quit, which cannot fail: type quit",
    ),
    (
        "STATUS",
        "unknown command 'STATUS' (did you mean 'status'?)",
    ),
    (
        "Sttaus",
        "unknown command 'Sttaus' (did you mean 'status'?)",
    ),
    ("wait", "'wait' needs one of: leader, commit, until"),
    (
        "wait dorp",
        "'wait' needs one of: leader, commit, until, not 'dorp'",
    ),
    (
        "net dorp 3",
        "'net' needs one of: drop, delay, dup, reorder, not 'dorp'",
    ),
    ("put", "missing K (usage: put K V [via NODE])"),
    ("put x", "missing V (usage: put K V [via NODE])"),
    ("put x 1 2", "unexpected '2' (usage: put K V [via NODE])"),
    (
        "put x 1 via",
        "missing value after 'via' (usage: put K V [via NODE])",
    ),
    ("kill", "missing NODE (usage: kill NODES)"),
    ("kill 1 2 1", "1 is named twice (usage: kill NODES)"),
    (
        "kill 1 all",
        "'all' is every node: name nodes or all, not both (usage: kill NODES)",
    ),
    ("isolate 1 2", "unexpected '2' (usage: isolate NODE)"),
    (
        "kill foo",
        "'foo' is not a node: expected a node id such as 3 or n3, or leader",
    ),
    (
        "kill n0",
        "'n0' names node 0, but nodes are numbered from 1",
    ),
    (
        "kill 99999999999999999999999",
        "bad node id '99999999999999999999999': too large, at most 2001",
    ),
    (
        "add leader",
        "'leader' is not a node id: add needs a number such as 6 or n6",
    ),
    ("run", "missing DURATION (usage: run DURATION)"),
    (
        "run -5ms",
        "bad duration '-5ms': a duration cannot be negative",
    ),
    (
        "run 5xs",
        "bad duration '5xs': expected a duration: a number of us, ms or s (a bare number \
         is ms), such as 150ms or 1.5s",
    ),
    (
        "run 0.5us",
        "bad duration '0.5us': finer than a microsecond",
    ),
    (
        "run 99999999999999999999s",
        "bad duration '99999999999999999999s': too large",
    ),
    (
        "run 1.5.5s",
        "bad duration '1.5.5s': expected a duration: a number of us, ms or s (a bare number \
         is ms), such as 150ms or 1.5s",
    ),
    ("speed 0", "speed must be greater than 0, got 0"),
    (
        "speed nan",
        "bad speed 'nan': expected a decimal number such as 0.5",
    ),
    (
        "speed 1e5",
        "bad speed '1e5': expected a decimal number such as 0.5",
    ),
    (
        "net drop 1.5",
        "probability 1.5 is out of range: it must be between 0 and 1",
    ),
    (
        "net drop x",
        "bad probability 'x': expected a decimal number such as 0.5",
    ),
    (
        "net delay 5ms..1ms",
        "the range 5ms..1ms is empty: its start is after its end",
    ),
    (
        "net reorder maybe",
        "expected on or off, not 'maybe' (usage: net reorder on|off)",
    ),
    (
        "trace loud",
        "'loud' is not a trace level: expected one of off, changes, messages",
    ),
    (
        "events -1",
        "bad count '-1': expected a whole number such as 3",
    ),
    (
        "events 18446744073709551616",
        "bad count '18446744073709551616': too large, at most 18446744073709551615",
    ),
    (
        "back 99999999999999999999",
        "bad back count '99999999999999999999': too large, at most 18446744073709551615",
    ),
    (
        "wait commit 18446744073709551616",
        "bad index '18446744073709551616': too large, at most 18446744073709551615",
    ),
    (
        "kill 99999999999999999999",
        "bad node id '99999999999999999999': too large, at most 2001",
    ),
    ("step 0", "the step count must be at least 1"),
    ("back 0", "the back count must be at least 1"),
    (
        "deliver x",
        "bad message id 'x': expected a whole number such as 3",
    ),
    (
        "partition 1,2",
        "a partition needs at least two groups separated by '|', e.g. partition 1,2 | 3,4,5",
    ),
    (
        "partition 1,2 | ",
        "a partition group is empty, e.g. partition 1,2 | 3,4,5",
    ),
    (
        "partition 1,2 | 2,3",
        "node 2 is named twice in the partition",
    ),
    (
        "partition 1 | leader | leader",
        "node leader is named twice in the partition",
    ),
    (
        "cut 1 1",
        "a link joins two different nodes, but both ends are 1",
    ),
    (
        "cut 1",
        "expected two nodes, A B or A -> B (usage: cut A B | cut A -> B)",
    ),
    (
        "cut 1 -> 2 3",
        "expected two nodes, A B or A -> B (usage: cut A B | cut A -> B)",
    ),
    ("set-log 3", "missing TERMS (usage: set-log NODE TERMS)"),
    (
        "set-log 3 1,4,2",
        "log terms must not decrease: term 2 follows term 4",
    ),
    (
        "set-log 3 0,1",
        "log entries have terms from 1 on; term 0 is the term before any election",
    ),
    (
        "set-log 3 1,,2",
        "bad term '': expected a whole number such as 3",
    ),
    (
        "wait leader within",
        "missing value after 'within' (usage: wait leader [within D])",
    ),
    (
        "wait leader within 5q",
        "bad duration '5q': expected a duration: a number of us, ms or s (a bare number \
         is ms), such as 150ms or 1.5s",
    ),
    (
        "wait commit x",
        "bad index 'x': expected a whole number such as 3",
    ),
    (
        "wait until",
        "missing CONDITION (usage: wait until CONDITION [within D])",
    ),
    ("expect", "missing CONDITION (usage: expect CONDITION)"),
    (
        "expect bogus",
        concat!(
            "'bogus' is not a condition: expected one of leader, no-leader, role, term, ",
            "commit, applied, get, kv, logs-match, settled, unsettled, safe, violation"
        ),
    ),
    (
        "expect role 1 boss",
        "'boss' is not a role: expected one of follower, candidate, leader, down",
    ),
    (
        "expect term 1 =< 3",
        "'=<' is not a comparison: expected one of ==, !=, <, <=, >, >=",
    ),
    ("expect term 1 ==", "missing N (usage: term NODE OP N)"),
    ("expect get x 1", "expected '==' (usage: get K == V)"),
    (
        "expect kv 1 x == 1 2",
        "unexpected '2' (usage: kv NODE K == V)",
    ),
    (
        "expect violation bad-rule",
        concat!(
            "'bad-rule' is not a safety rule: expected one of election-safety, ",
            "leader-append-only, log-matching, leader-completeness, state-machine-safety, ",
            "linearizability, term-monotonic, vote-once, commit-monotonic, applied-monotonic, ",
            "applied-within-commit, commit-quorum, one-config-change, message-storm"
        ),
    ),
    ("expect leader 1 2", "unexpected '2' (usage: leader [NODE])"),
    ("help bogus", "no help on 'bogus': not a command"),
    (
        "help stat",
        "no help on 'stat': not a command (did you mean 'status'?)",
    ),
    ("try", "missing COMMAND (usage: try COMMAND)"),
    ("try try status", "try takes any command but try"),
    ("try # nothing", "missing COMMAND (usage: try COMMAND)"),
    (
        "put \"unterminated",
        "unterminated quote starting at column 5",
    ),
    (
        "put a\"b c",
        "stray quote at column 6: quote the whole word instead",
    ),
    (
        "put \"a\"b c",
        "stray quote at column 8: quote the whole word instead",
    ),
    (
        "put \"a\\nb\" c",
        "unknown escape '\\n' at column 7 (only \\\" and \\\\ are escapes)",
    ),
    (
        "export f.svg 2s..1s",
        "the range 2s..1s is empty: its start is after its end",
    ),
    (
        "export f.json 5ms",
        "bad duration '5ms': expected a range FROM..TO, e.g. 100ms..2s",
    ),
    (
        "export trace.png",
        "cannot export to 'trace.png': the file name must end in .svg, .json or .jsonl",
    ),
    (
        "export svg",
        "cannot export to 'svg': the file name must end in .svg, .json or .jsonl",
    ),
    (
        "export log figure.json",
        "cannot export to 'figure.json': the file name must end in .svg",
    ),
    (
        "export log",
        "missing FILE (usage: export log FILE.svg [NODE...] [--slides])",
    ),
    (
        "export log f.svg 0",
        "'0' names node 0, but nodes are numbered from 1",
    ),
    (
        "status --jsn",
        "'--jsn' is not a node: expected a node id such as 3 or n3, or leader",
    ),
    (
        "status all 3",
        "'all' shows every node: name nodes or all, not both \
         (usage: status [-v] [--json] [all|NODE...])",
    ),
    (
        "log 1 all",
        "'all' shows every node: name nodes or all, not both \
         (usage: log [-v] [--json] [all|NODE...])",
    ),
    (
        "log --jsn",
        "'--jsn' is not a node: expected a node id such as 3 or n3, or leader",
    ),
    ("save", "missing FILE (usage: save FILE)"),
];

#[test]
fn every_syntax_error_has_its_message() {
    for (line, message) in CASES {
        assert_eq!(err(line), *message, "{line:?}");
    }
}

fn resolve(line: &str, nodes: &[NodeId]) -> Result<(), ResolveError> {
    match parse(line) {
        Ok(Some(command)) => command.check_nodes(nodes),
        other => panic!("{line:?} gave {other:?}"),
    }
}

#[test]
fn a_node_outside_the_cluster_is_a_resolve_error() {
    let five = [1, 2, 3, 4, 5];
    let message = |line| resolve(line, &five).map_err(|e| e.to_string());
    let missing = Err("node 9 does not exist (the cluster has nodes 1..5)".to_string());
    for line in [
        "kill 9",
        "log 1 n9",
        "kv 9",
        "partition 1,2 | 9",
        "cut 1 -> 9",
        "put x 1 via 9",
        "set-log 9 -",
        "expect role 9 leader",
        "wait until kv 9 x == 1",
        "expect leader 9",
        "try restart 9",
    ] {
        assert_eq!(message(line), missing, "{line:?}");
    }
    for line in [
        "kill leader",
        "log",
        "expect term all == 1",
        "add 6",
        "status",
        "cut 1 5",
    ] {
        assert_eq!(message(line), Ok(()), "{line:?}");
    }
    // A member named by `add` is the leader's to refuse (with its reason), not a syntax
    // error: a node removed earlier may join again under its id.
    assert_eq!(message("add 3"), Ok(()));
}

#[test]
fn add_past_the_id_limit_says_the_limit_and_the_nodes_there_are() {
    let nodes = [1, 2, 3, 6];
    let refused = |node: &str| {
        Err(format!(
            "node ids go up to {MAX_NODES}, so node {node} cannot be added (the cluster has \
             nodes 1..3, 6)"
        ))
    };
    let message = |line| resolve(line, &nodes).map_err(|e| e.to_string());
    assert_eq!(message("add 5000"), refused("5000"));
    assert_eq!(message("try add n2048"), refused("2048"));
    assert_eq!(message(&format!("add {MAX_NODES}")), Ok(()));
    assert_eq!(
        err("add 18446744073709551616"),
        format!("node ids go up to {MAX_NODES}, so node 18446744073709551616 cannot be added")
    );
    let add = crate::repl::table::COMMANDS
        .iter()
        .find(|c| c.name == "add");
    let help = add.map(|c| c.description.to_string()).unwrap_or_default();
    assert!(
        help.contains(&format!("ids go up to {MAX_NODES}")),
        "{help}"
    );
}

#[test]
fn the_node_list_in_resolve_errors_is_compact() {
    let e = resolve("kill 4", &[5, 1, 2, 3, 7, 8]).map_err(|e| e.to_string());
    assert_eq!(
        e,
        Err("node 4 does not exist (the cluster has nodes 1..3, 5, 7..8)".to_string())
    );
    let e = resolve("kill 1", &[]).map_err(|e| e.to_string());
    assert_eq!(
        e,
        Err("node 1 does not exist (the cluster has no nodes)".to_string())
    );
}
