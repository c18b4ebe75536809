//! Every command parses to what it says, and prints back canonically.

use super::cmd;
use crate::repl::command::{
    ClientOp, CmpOp, Command as C, Condition, NodeNumber, NodeRef, NodeRole, NodeSel, NodeSet,
    Rows, SafetyRule, TraceLevel, parse,
};

const L: NodeRef = NodeRef::Leader;

fn n(id: u64) -> NodeRef {
    NodeRef::Id(id)
}

fn s(text: &str) -> String {
    text.to_string()
}

fn client(op: ClientOp, via: Option<NodeRef>) -> C {
    C::Client { op, via }
}

/// (line, command, canonical line).
fn goldens() -> Vec<(&'static str, C, &'static str)> {
    let within = |us| Some(us);
    vec![
        (
            "status",
            C::Status {
                verbose: false,
                json: false,
                rows: Rows::Default,
            },
            "status",
        ),
        (
            "status --json",
            C::Status {
                verbose: false,
                json: true,
                rows: Rows::Default,
            },
            "status --json",
        ),
        (
            "status all",
            C::Status {
                verbose: false,
                json: false,
                rows: Rows::All,
            },
            "status all",
        ),
        (
            "status n3 --json leader",
            C::Status {
                verbose: false,
                json: true,
                rows: Rows::Nodes(vec![n(3), L]),
            },
            "status --json 3 leader",
        ),
        (
            "log all -v",
            C::Log {
                verbose: true,
                json: false,
                rows: Rows::All,
            },
            "log -v all",
        ),
        (
            "log",
            C::Log {
                verbose: false,
                json: false,
                rows: Rows::Default,
            },
            "log",
        ),
        (
            "log 2 --json n3 -v",
            C::Log {
                verbose: true,
                json: true,
                rows: Rows::Nodes(vec![n(2), n(3)]),
            },
            "log -v --json 2 3",
        ),
        (
            "log --json",
            C::Log {
                verbose: false,
                json: true,
                rows: Rows::Default,
            },
            "log --json",
        ),
        (
            "log -v n1 leader",
            C::Log {
                verbose: true,
                json: false,
                rows: Rows::Nodes(vec![n(1), L]),
            },
            "log -v 1 leader",
        ),
        (
            "log 2 -v",
            C::Log {
                verbose: true,
                json: false,
                rows: Rows::Nodes(vec![n(2)]),
            },
            "log -v 2",
        ),
        ("kv", C::Kv { node: None }, "kv"),
        ("kv n3", C::Kv { node: Some(n(3)) }, "kv 3"),
        ("net", C::Net, "net"),
        ("msgs", C::Msgs, "msgs"),
        ("timers", C::Timers, "timers"),
        ("watch", C::Watch, "watch"),
        (
            "status --json -v 2",
            C::Status {
                verbose: true,
                json: true,
                rows: Rows::Nodes(vec![n(2)]),
            },
            "status -v --json 2",
        ),
        ("events", C::Events { count: None }, "events"),
        ("events 20", C::Events { count: Some(20) }, "events 20"),
        (
            "trace messages",
            C::Trace {
                level: TraceLevel::Messages,
            },
            "trace messages",
        ),
        (
            "trace off",
            C::Trace {
                level: TraceLevel::Off,
            },
            "trace off",
        ),
        ("help", C::Help { topic: None }, "help"),
        (
            "help put",
            C::Help {
                topic: Some(s("put")),
            },
            "help put",
        ),
        (
            "help   net  drop",
            C::Help {
                topic: Some(s("net drop")),
            },
            "help net drop",
        ),
        (
            "help wait",
            C::Help {
                topic: Some(s("wait")),
            },
            "help wait",
        ),
        (
            "help exit",
            C::Help {
                topic: Some(s("quit")),
            },
            "help quit",
        ),
        ("pause", C::Pause, "pause"),
        ("resume", C::Resume, "resume"),
        ("speed 0.1", C::Speed { factor: 0.1 }, "speed 0.1"),
        ("speed 2", C::Speed { factor: 2.0 }, "speed 2"),
        (
            "run 200ms",
            C::Run {
                duration_us: 200_000,
            },
            "run 200ms",
        ),
        (
            "run 1.5s",
            C::Run {
                duration_us: 1_500_000,
            },
            "run 1500ms",
        ),
        ("run 300us", C::Run { duration_us: 300 }, "run 300us"),
        (
            "run 250",
            C::Run {
                duration_us: 250_000,
            },
            "run 250ms",
        ),
        (
            "run 0.1s",
            C::Run {
                duration_us: 100_000,
            },
            "run 100ms",
        ),
        (
            "run 2s",
            C::Run {
                duration_us: 2_000_000,
            },
            "run 2s",
        ),
        ("run 1.5", C::Run { duration_us: 1_500 }, "run 1500us"),
        ("step", C::Step { count: 1 }, "step"),
        ("step 5", C::Step { count: 5 }, "step 5"),
        ("back", C::Back { count: 1 }, "back"),
        ("back 3", C::Back { count: 3 }, "back 3"),
        ("deliver 17", C::Deliver { msg: 17 }, "deliver 17"),
        ("drop 0", C::Drop { msg: 0 }, "drop 0"),
        ("dup 4", C::Dup { msg: 4 }, "dup 4"),
        ("tick n2", C::Tick { node: n(2) }, "tick 2"),
        (
            "kill leader",
            C::Kill {
                nodes: NodeSet::Nodes(vec![L]),
            },
            "kill leader",
        ),
        (
            "kill 1,2",
            C::Kill {
                nodes: NodeSet::Nodes(vec![n(1), n(2)]),
            },
            "kill 1,2",
        ),
        (
            "kill n1-n3",
            C::Kill {
                nodes: NodeSet::Nodes(vec![n(1), n(2), n(3)]),
            },
            "kill 1,2,3",
        ),
        (
            "kill 1 4-5",
            C::Kill {
                nodes: NodeSet::Nodes(vec![n(1), n(4), n(5)]),
            },
            "kill 1,4,5",
        ),
        (
            "restart n3",
            C::Restart {
                nodes: NodeSet::Nodes(vec![n(3)]),
            },
            "restart 3",
        ),
        (
            "restart all",
            C::Restart {
                nodes: NodeSet::All,
            },
            "restart all",
        ),
        (
            "partition 1,2 | 3,4,5",
            C::Partition {
                groups: vec![vec![n(1), n(2)], vec![n(3), n(4), n(5)]],
            },
            "partition 1,2 | 3,4,5",
        ),
        (
            "partition n1, 2|3 4",
            C::Partition {
                groups: vec![vec![n(1), n(2)], vec![n(3), n(4)]],
            },
            "partition 1,2 | 3,4",
        ),
        (
            "partition 1 | 2 | leader",
            C::Partition {
                groups: vec![vec![n(1)], vec![n(2)], vec![L]],
            },
            "partition 1 | 2 | leader",
        ),
        ("isolate 2", C::Isolate { node: n(2) }, "isolate 2"),
        (
            "cut 1 2",
            C::Cut {
                from: n(1),
                to: n(2),
                one_way: false,
            },
            "cut 1 2",
        ),
        (
            "cut 1 -> 2",
            C::Cut {
                from: n(1),
                to: n(2),
                one_way: true,
            },
            "cut 1 -> 2",
        ),
        (
            "cut n1->leader",
            C::Cut {
                from: n(1),
                to: L,
                one_way: true,
            },
            "cut 1 -> leader",
        ),
        (
            "link 3 ->4",
            C::Link {
                from: n(3),
                to: n(4),
                one_way: true,
            },
            "link 3 -> 4",
        ),
        (
            "link 4 5",
            C::Link {
                from: n(4),
                to: n(5),
                one_way: false,
            },
            "link 4 5",
        ),
        ("heal", C::Heal, "heal"),
        (
            "net drop 0.1",
            C::NetDrop { probability: 0.1 },
            "net drop 0.1",
        ),
        ("net drop 1", C::NetDrop { probability: 1.0 }, "net drop 1"),
        (
            "net delay 5ms",
            C::NetDelay {
                min_us: 5000,
                max_us: 5000,
            },
            "net delay 5ms",
        ),
        (
            "net delay 1..5ms",
            C::NetDelay {
                min_us: 1000,
                max_us: 5000,
            },
            "net delay 1ms..5ms",
        ),
        ("net dup 0", C::NetDup { probability: 0.0 }, "net dup 0"),
        (
            "net reorder on",
            C::NetReorder { on: true },
            "net reorder on",
        ),
        (
            "net reorder off",
            C::NetReorder { on: false },
            "net reorder off",
        ),
        (
            "put x 1",
            client(
                ClientOp::Put {
                    key: s("x"),
                    value: s("1"),
                },
                None,
            ),
            "put x 1",
        ),
        (
            "put x \"hello world\" via n2",
            client(
                ClientOp::Put {
                    key: s("x"),
                    value: s("hello world"),
                },
                Some(n(2)),
            ),
            "put x \"hello world\" via 2",
        ),
        (
            "put via via",
            client(
                ClientOp::Put {
                    key: s("via"),
                    value: s("via"),
                },
                None,
            ),
            "put \"via\" \"via\"",
        ),
        (
            "append log a via leader",
            client(
                ClientOp::Append {
                    key: s("log"),
                    value: s("a"),
                },
                Some(L),
            ),
            "append log a via leader",
        ),
        (
            "get x",
            client(ClientOp::Get { key: s("x") }, None),
            "get x",
        ),
        (
            "get x via 3",
            client(ClientOp::Get { key: s("x") }, Some(n(3))),
            "get x via 3",
        ),
        (
            "del x",
            client(ClientOp::Del { key: s("x") }, None),
            "del x",
        ),
        (
            "cas x 1 2 via 1",
            client(
                ClientOp::Cas {
                    key: s("x"),
                    old: s("1"),
                    new: s("2"),
                },
                Some(n(1)),
            ),
            "cas x 1 2 via 1",
        ),
        (
            r#"cas k "" "say \"hi\"""#,
            client(
                ClientOp::Cas {
                    key: s("k"),
                    old: s(""),
                    new: s("say \"hi\""),
                },
                None,
            ),
            r#"cas k "" "say \"hi\"""#,
        ),
        ("campaign 3", C::Campaign { node: n(3) }, "campaign 3"),
        ("transfer n2", C::Transfer { node: n(2) }, "transfer 2"),
        ("add n6", C::Add { node: 6 }, "add 6"),
        ("remove 5", C::Remove { node: n(5) }, "remove 5"),
        (
            "snapshot leader",
            C::Snapshot { node: L },
            "snapshot leader",
        ),
        (
            "set-log 3 1,1,4,4,5",
            C::SetLog {
                node: n(3),
                terms: vec![1, 1, 4, 4, 5],
            },
            "set-log 3 1,1,4,4,5",
        ),
        (
            "set-log 3 1, 2",
            C::SetLog {
                node: n(3),
                terms: vec![1, 2],
            },
            "set-log 3 1,2",
        ),
        (
            "set-log 2 -",
            C::SetLog {
                node: n(2),
                terms: vec![],
            },
            "set-log 2 -",
        ),
        (
            "set-log 2 none",
            C::SetLog {
                node: n(2),
                terms: vec![],
            },
            "set-log 2 -",
        ),
        (
            "wait leader",
            C::WaitLeader { within_us: None },
            "wait leader",
        ),
        (
            "wait leader within 1s",
            C::WaitLeader {
                within_us: within(1_000_000),
            },
            "wait leader within 1s",
        ),
        (
            "wait commit 5",
            C::WaitCommit {
                index: 5,
                within_us: None,
            },
            "wait commit 5",
        ),
        (
            "wait commit 5 within 500",
            C::WaitCommit {
                index: 5,
                within_us: within(500_000),
            },
            "wait commit 5 within 500ms",
        ),
        (
            "wait until commit all >= 3 within 2s",
            C::WaitUntil {
                condition: Condition::Compare {
                    number: NodeNumber::Commit,
                    node: NodeSel::All,
                    op: CmpOp::Ge,
                    value: 3,
                },
                within_us: within(2_000_000),
            },
            "wait until commit all >= 3 within 2s",
        ),
        (
            "wait until leader within 1s",
            C::WaitUntil {
                condition: Condition::Leader { node: None },
                within_us: within(1_000_000),
            },
            "wait until leader within 1s",
        ),
        (
            "expect leader",
            C::Expect {
                condition: Condition::Leader { node: None },
            },
            "expect leader",
        ),
        (
            "expect leader n2",
            C::Expect {
                condition: Condition::Leader { node: Some(n(2)) },
            },
            "expect leader 2",
        ),
        (
            "expect no-leader",
            C::Expect {
                condition: Condition::NoLeader,
            },
            "expect no-leader",
        ),
        (
            "expect role 3 down",
            C::Expect {
                condition: Condition::Role {
                    node: NodeSel::One(n(3)),
                    role: NodeRole::Down,
                },
            },
            "expect role 3 down",
        ),
        (
            "expect term leader != 2",
            C::Expect {
                condition: Condition::Compare {
                    number: NodeNumber::Term,
                    node: NodeSel::One(L),
                    op: CmpOp::Ne,
                    value: 2,
                },
            },
            "expect term leader != 2",
        ),
        (
            "expect applied 1 < 4",
            C::Expect {
                condition: Condition::Compare {
                    number: NodeNumber::Applied,
                    node: NodeSel::One(n(1)),
                    op: CmpOp::Lt,
                    value: 4,
                },
            },
            "expect applied 1 < 4",
        ),
        (
            "expect get x == 1",
            C::Expect {
                condition: Condition::Get {
                    key: s("x"),
                    value: s("1"),
                },
            },
            "expect get x == 1",
        ),
        (
            "expect kv all x == \"a b\"",
            C::Expect {
                condition: Condition::Kv {
                    node: NodeSel::All,
                    key: s("x"),
                    value: s("a b"),
                },
            },
            "expect kv all x == \"a b\"",
        ),
        (
            "expect logs-match",
            C::Expect {
                condition: Condition::LogsMatch,
            },
            "expect logs-match",
        ),
        (
            "expect safe",
            C::Expect {
                condition: Condition::Safe,
            },
            "expect safe",
        ),
        (
            "expect violation",
            C::Expect {
                condition: Condition::Violation { rule: None },
            },
            "expect violation",
        ),
        (
            "expect violation election-safety",
            C::Expect {
                condition: Condition::Violation {
                    rule: Some(SafetyRule::ElectionSafety),
                },
            },
            "expect violation election-safety",
        ),
        (
            "try put x 2 via 3",
            C::Try {
                command: Box::new(client(
                    ClientOp::Put {
                        key: s("x"),
                        value: s("2"),
                    },
                    Some(n(3)),
                )),
            },
            "try put x 2 via 3",
        ),
        (
            "try say it's \"fine",
            C::Try {
                command: Box::new(C::Say {
                    text: s("it's \"fine"),
                }),
            },
            "try say it's \"fine",
        ),
        ("check", C::Check, "check"),
        (
            "say   The entry is committed.  ",
            C::Say {
                text: s("The entry is committed."),
            },
            "say The entry is committed.",
        ),
        ("say", C::Say { text: s("") }, "say"),
        (
            "say step #1: \"quoted",
            C::Say {
                text: s("step #1: \"quoted"),
            },
            "say step #1: \"quoted",
        ),
        (
            "save session.yaml",
            C::Save {
                file: s("session.yaml"),
            },
            "save session.yaml",
        ),
        (
            "save \"my session.yaml\"",
            C::Save {
                file: s("my session.yaml"),
            },
            "save \"my session.yaml\"",
        ),
        (
            "export t.json",
            C::Export {
                file: s("t.json"),
                window_us: None,
            },
            "export t.json",
        ),
        (
            "export t.json 0..2s",
            C::Export {
                file: s("t.json"),
                window_us: Some((0, 2_000_000)),
            },
            "export t.json 0ms..2s",
        ),
        (
            "export run.SVG 150ms..1.5s",
            C::Export {
                file: s("run.SVG"),
                window_us: Some((150_000, 1_500_000)),
            },
            "export run.SVG 150ms..1500ms",
        ),
        (
            "export \"my run.jsonl\"",
            C::Export {
                file: s("my run.jsonl"),
                window_us: None,
            },
            "export \"my run.jsonl\"",
        ),
        (
            "export log figure7.svg",
            C::ExportLog {
                file: s("figure7.svg"),
                nodes: vec![],
            },
            "export log figure7.svg",
        ),
        (
            "export log \"log.svg\" n1 leader 3",
            C::ExportLog {
                file: s("log.svg"),
                nodes: vec![n(1), L, n(3)],
            },
            "export log log.svg 1 leader 3",
        ),
        ("quit", C::Quit, "quit"),
        ("exit", C::Quit, "quit"),
        (
            "  \t status  ",
            C::Status {
                verbose: false,
                json: false,
                rows: Rows::Default,
            },
            "status",
        ),
    ]
}

#[test]
fn every_golden_line_parses_to_its_command_and_prints_canonically() {
    for (line, expected, canonical) in goldens() {
        assert_eq!(cmd(line), expected, "parsing {line:?}");
        assert_eq!(expected.to_string(), canonical, "printing {expected:?}");
        assert_eq!(cmd(canonical), expected, "reparsing {canonical:?}");
    }
}

#[test]
fn every_command_of_the_table_has_a_golden_line() {
    let goldens = goldens();
    for spec in crate::repl::table::COMMANDS {
        let covered = goldens.iter().any(|(_, c, _)| {
            let text = c.to_string();
            text == spec.name || text.starts_with(&format!("{} ", spec.name))
        });
        assert!(covered, "no golden line for {}", spec.name);
    }
}

#[test]
fn every_example_of_the_table_parses() {
    for spec in crate::repl::table::COMMANDS {
        let parsed = cmd(spec.example);
        assert!(
            parsed.to_string().starts_with(spec.name),
            "{} example {:?}",
            spec.name,
            parsed
        );
    }
}

#[test]
fn blank_lines_and_comments_are_no_command() {
    for line in [
        "",
        "   ",
        "\t\n",
        "# a comment",
        "   # kill 1",
        "#\"unterminated",
    ] {
        assert_eq!(parse(line), Ok(None), "{line:?}");
    }
}
