//! Property: every command prints as a line that parses back to it,
//! `parse(&cmd.to_string()) == Ok(Some(cmd))`, which is what saving a session relies on.

use proptest::prelude::*;

use crate::raft::MAX_GIVEN_TERM;
use crate::repl::command::{
    ClientOp, CmpOp, Command as C, Condition, NodeNumber, NodeRef, NodeRole, NodeSel, NodeSet,
    Rows, SafetyRule, TraceLevel, parse,
};
use crate::repl::table::COMMANDS;

/// One to four different nodes, or `all`.
fn node_set() -> impl Strategy<Value = NodeSet> {
    prop_oneof![
        Just(NodeSet::All),
        proptest::collection::btree_set(1u64.., 1..4)
            .prop_map(|ids| { NodeSet::Nodes(ids.into_iter().map(NodeRef::Id).collect()) }),
        Just(NodeSet::Nodes(vec![NodeRef::Leader])),
    ]
}

fn node() -> impl Strategy<Value = NodeRef> {
    prop_oneof![
        Just(NodeRef::Leader),
        (1u64..).prop_map(NodeRef::Id),
        (1u64..9).prop_map(NodeRef::Id)
    ]
}

/// The rows of `status` and `log`: none named, `all`, or one or more nodes.
fn rows() -> impl Strategy<Value = Rows> {
    prop_oneof![
        Just(Rows::Default),
        Just(Rows::All),
        prop::collection::vec(node(), 1..4).prop_map(Rows::Nodes)
    ]
}

fn node_sel() -> impl Strategy<Value = NodeSel> {
    prop_oneof![Just(NodeSel::All), node().prop_map(NodeSel::One)]
}

/// Keys, values and file names: anything, including spaces, quotes, backslashes, `#`,
/// keywords and the empty word.
fn word() -> BoxedStrategy<String> {
    prop_oneof![
        "[a-z0-9]{1,8}",
        any::<String>(),
        "[ a-z\"\\\\#|,.-]{0,8}",
        prop::sample::select(vec![
            "via", "within", "leader", "all", "==", "-v", "->", "try", "say"
        ])
        .prop_map(String::from),
    ]
    .boxed()
}

fn pick<T: Copy + std::fmt::Debug + 'static>(all: &'static [T]) -> impl Strategy<Value = T> {
    prop::sample::select(all)
}

fn duration() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        (0u64..10_000).prop_map(|ms| ms * 1000),
        Just(0)
    ]
}

/// An export window: closed, or open at its end (`2s..`).
fn window() -> impl Strategy<Value = (u64, u64)> {
    let closed = (duration(), duration()).prop_map(|(a, b)| (a.min(b), a.max(b)));
    let open = duration().prop_map(|a| (a, crate::repl::command::OPEN_END_US));
    prop_oneof![3 => closed, 1 => open]
}

/// The name of a file `export` writes, before its extension: any word but one that
/// leaves the file nameless (`.svg`, `dir/.svg`).
fn export_name() -> impl Strategy<Value = String> {
    word().prop_filter("a file with a name", |w| !w.is_empty() && !w.ends_with('/'))
}

/// A file `export` writes: a name, then one of the extensions it takes.
fn export_file() -> impl Strategy<Value = String> {
    (
        export_name(),
        prop::sample::select(vec![".svg", ".json", ".jsonl", ".SVG"]),
    )
        .prop_map(|(w, e)| w + e)
}

fn condition() -> BoxedStrategy<Condition> {
    prop_oneof![
        proptest::option::of(node()).prop_map(|node| Condition::Leader { node }),
        Just(Condition::NoLeader),
        (node_sel(), pick(NodeRole::ALL)).prop_map(|(node, role)| Condition::Role { node, role }),
        (
            pick(NodeNumber::ALL),
            node_sel(),
            pick(CmpOp::ALL),
            any::<u64>()
        )
            .prop_map(|(number, node, op, value)| Condition::Compare {
                number,
                node,
                op,
                value
            }),
        (word(), word()).prop_map(|(key, value)| Condition::Get { key, value }),
        (node_sel(), word(), word()).prop_map(|(node, key, value)| Condition::Kv {
            node,
            key,
            value
        }),
        Just(Condition::LogsMatch),
        Just(Condition::Settled),
        Just(Condition::Unsettled),
        Just(Condition::Safe),
        proptest::option::of(pick(SafetyRule::ALL)).prop_map(|rule| Condition::Violation { rule }),
    ]
    .boxed()
}

fn client_op() -> BoxedStrategy<ClientOp> {
    prop_oneof![
        (word(), word()).prop_map(|(key, value)| ClientOp::Put { key, value }),
        (word(), word()).prop_map(|(key, value)| ClientOp::Append { key, value }),
        word().prop_map(|key| ClientOp::Get { key }),
        word().prop_map(|key| ClientOp::Del { key }),
        (word(), word(), word()).prop_map(|(key, old, new)| ClientOp::Cas { key, old, new }),
    ]
    .boxed()
}

/// Two or more non-empty groups of distinct nodes.
fn partition() -> BoxedStrategy<Vec<Vec<NodeRef>>> {
    (
        prop::collection::btree_set(1u64..1000, 1..8),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(|(ids, leader, cuts)| {
            let mut nodes: Vec<NodeRef> = ids.into_iter().map(NodeRef::Id).collect();
            if leader || nodes.len() < 2 {
                nodes.push(NodeRef::Leader);
            }
            let mut groups = vec![Vec::new()];
            for (i, n) in nodes.into_iter().enumerate() {
                let new_group = i == 1 || (i > 1 && cuts >> i & 1 == 1);
                if new_group {
                    groups.push(Vec::new());
                }
                groups.last_mut().expect("a group").push(n);
            }
            groups
        })
        .boxed()
}

/// A help topic: a command's name, or the first word of two-word commands.
fn topic() -> impl Strategy<Value = String> {
    let mut topics: Vec<String> = COMMANDS.iter().map(|s| s.name.to_string()).collect();
    topics.extend(["net".to_string(), "wait".to_string()]);
    prop::sample::select(topics)
}

fn ends() -> impl Strategy<Value = (NodeRef, NodeRef, bool)> {
    (node(), node(), any::<bool>()).prop_filter("two ends", |(a, b, _)| a != b)
}

fn look_and_time() -> BoxedStrategy<C> {
    prop_oneof![
        (any::<bool>(), any::<bool>(), rows()).prop_map(|(verbose, json, rows)| C::Status {
            verbose,
            json,
            rows
        }),
        (any::<bool>(), any::<bool>(), rows()).prop_map(|(verbose, json, rows)| C::Log {
            verbose,
            json,
            rows
        }),
        proptest::option::of(node()).prop_map(|node| C::Kv { node }),
        Just(C::Net),
        Just(C::Msgs),
        proptest::option::of(any::<u64>()).prop_map(|count| C::Events { count }),
        pick(TraceLevel::ALL).prop_map(|level| C::Trace { level }),
        proptest::option::of(topic()).prop_map(|topic| C::Help { topic }),
        Just(C::Pause),
        Just(C::Resume),
        (f64::MIN_POSITIVE..f64::MAX).prop_map(|factor| C::Speed { factor }),
        duration().prop_map(|duration_us| C::Run { duration_us }),
        (1u64..).prop_map(|count| C::Step { count }),
        (1u64..).prop_map(|count| C::Back { count }),
        any::<u64>().prop_map(|msg| C::Deliver { msg }),
        any::<u64>().prop_map(|msg| C::Drop { msg }),
    ]
    .boxed()
}

fn faults_and_raft() -> BoxedStrategy<C> {
    prop_oneof![
        node_set().prop_map(|nodes| C::Kill { nodes }),
        node_set().prop_map(|nodes| C::Restart { nodes }),
        partition().prop_map(|groups| C::Partition { groups }),
        node().prop_map(|node| C::Isolate { node }),
        ends().prop_map(|(from, to, one_way)| C::Cut { from, to, one_way }),
        ends().prop_map(|(from, to, one_way)| C::Link { from, to, one_way }),
        Just(C::Heal),
        (0.0..=1.0f64).prop_map(|probability| C::NetDrop { probability }),
        window().prop_map(|(min_us, max_us)| C::NetDelay { min_us, max_us }),
        (0.0..=1.0f64).prop_map(|probability| C::NetDup { probability }),
        any::<bool>().prop_map(|on| C::NetReorder { on }),
        (client_op(), proptest::option::of(node())).prop_map(|(op, via)| C::Client { op, via }),
        node().prop_map(|node| C::Campaign { node }),
        node().prop_map(|node| C::Transfer { node }),
        (1u64..).prop_map(|node| C::Add { node }),
        node().prop_map(|node| C::Remove { node }),
        node().prop_map(|node| C::Snapshot { node }),
        (node(), prop::collection::vec(1..=MAX_GIVEN_TERM, 0..6)).prop_map(|(node, mut terms)| {
            terms.sort_unstable();
            C::SetLog { node, terms }
        }),
    ]
    .boxed()
}

fn scripts() -> BoxedStrategy<C> {
    let within = || proptest::option::of(duration());
    prop_oneof![
        within().prop_map(|within_us| C::WaitLeader { within_us }),
        (any::<u64>(), within()).prop_map(|(index, within_us)| C::WaitCommit { index, within_us }),
        (condition(), within()).prop_map(|(condition, within_us)| C::WaitUntil {
            condition,
            within_us
        }),
        condition().prop_map(|condition| C::Expect { condition }),
        Just(C::Check),
        "[^\n]*".prop_map(|text| C::Say {
            text: text.trim().to_string()
        }),
        word().prop_map(|file| C::Save { file }),
        (export_file(), proptest::option::of(window()))
            .prop_map(|(file, window_us)| C::Export { file, window_us }),
        (
            (export_name(), Just(".svg")).prop_map(|(w, e)| w + e),
            prop::collection::vec(node(), 0..4)
        )
            .prop_map(|(file, nodes)| C::ExportLog { file, nodes }),
        (
            (export_name(), Just(".svg")).prop_map(|(w, e)| w + e),
            proptest::option::of(window()),
            any::<bool>()
        )
            .prop_map(|(file, window_us, heartbeats)| C::ExportSlides {
                file,
                window_us,
                heartbeats
            }),
        (
            (export_name(), Just(".svg")).prop_map(|(w, e)| w + e),
            prop::collection::vec(node(), 0..4)
        )
            .prop_map(|(file, nodes)| C::ExportLogSlide { file, nodes }),
        Just(C::Quit),
    ]
    .boxed()
}

fn command() -> BoxedStrategy<C> {
    let plain = prop_oneof![look_and_time(), faults_and_raft(), scripts()];
    prop_oneof![
        4 => plain.clone(),
        // `try quit` is refused (`quit` cannot fail).
        1 => plain
            .prop_filter("try quit", |command| *command != C::Quit)
            .prop_map(|command| C::Try { command: Box::new(command) }),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn display_then_parse_gives_the_command_back(command in command()) {
        let line = command.to_string();
        prop_assert_eq!(parse(&line), Ok(Some(command)), "line {:?}", line);
    }
}

/// An export window may be open at either end: from the start (`..5ms`) or to the end of
/// the run (`2s..`); `..5ms` was "bad duration ''".
#[test]
fn an_export_window_may_be_open_at_either_end() {
    use crate::repl::command::OPEN_END_US;
    let window = |line: &str| match parse(line) {
        Ok(Some(C::Export { window_us, .. })) => window_us,
        other => panic!("{line}: {other:?}"),
    };
    assert_eq!(window("export g.svg ..5ms"), Some((0, 5_000)));
    assert_eq!(window("export g.svg 2s.."), Some((2_000_000, OPEN_END_US)));
    assert_eq!(window("export g.svg 1s..2s"), Some((1_000_000, 2_000_000)));
    let open = parse("export g.svg 2s..")
        .ok()
        .flatten()
        .map(|c| c.to_string());
    assert_eq!(open.as_deref(), Some("export g.svg 2s.."));
}
