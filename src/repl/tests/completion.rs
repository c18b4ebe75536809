//! Completion and hints.

use crate::repl::complete::{CompletionContext, complete, usage_hint};

fn ctx() -> CompletionContext {
    CompletionContext {
        node_ids: vec![3, 1, 2],
        keys: vec!["x".into(), "greeting text".into()],
    }
}

fn at_end(line: &str) -> (usize, Vec<String>) {
    complete(line, line.len(), &ctx())
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn command_names_complete_from_the_table() {
    assert_eq!(at_end("st"), (0, words(&["status", "step"])));
    assert_eq!(at_end("  pa"), (2, words(&["partition", "pause"])));
    assert_eq!(at_end("ex"), (0, words(&["exit", "expect", "export"])));
    assert!(at_end("").1.contains(&"set-log".to_string()));
}

#[test]
fn second_words_complete_after_net_and_wait() {
    assert_eq!(at_end("net d"), (4, words(&["drop", "delay", "dup"])));
    assert_eq!(at_end("wait "), (5, words(&["leader", "commit", "until"])));
}

#[test]
fn nodes_complete_as_plain_numbers_and_leader() {
    assert_eq!(
        at_end("kill "),
        (5, words(&["all", "1", "2", "3", "leader"]))
    );
    assert_eq!(at_end("kill l"), (5, words(&["leader"])));
    assert_eq!(
        at_end("log "),
        (4, words(&["-v", "--json", "all", "1", "2", "3", "leader"]))
    );
    assert_eq!(
        at_end("log -v 1 "),
        (9, words(&["-v", "--json", "all", "1", "2", "3", "leader"]))
    );
    assert_eq!(
        at_end("export log f.svg "),
        (17, words(&["1", "2", "3", "leader"]))
    );
    assert_eq!(
        at_end("status "),
        (7, words(&["-v", "--json", "all", "1", "2", "3", "leader"]))
    );
    assert_eq!(
        at_end("partition 1,"),
        (12, words(&["1", "2", "3", "leader"]))
    );
    assert_eq!(
        at_end("partition 1,2 | 3,"),
        (18, words(&["1", "2", "3", "leader"]))
    );
    assert_eq!(at_end("cut 1 -"), (6, words(&["->"])));
    assert_eq!(at_end("add "), (4, words(&[])));
}

#[test]
fn keys_keywords_and_choices_complete() {
    assert_eq!(at_end("put "), (4, words(&["x", "\"greeting text\""])));
    assert_eq!(at_end("get \"gr"), (4, words(&["\"greeting text\""])));
    assert_eq!(at_end("put x 1 "), (8, words(&["via"])));
    assert_eq!(
        at_end("put x 1 via "),
        (12, words(&["1", "2", "3", "leader"]))
    );
    assert_eq!(at_end("net reorder "), (12, words(&["on", "off"])));
    assert_eq!(at_end("trace c"), (6, words(&["changes"])));
    assert_eq!(at_end("wait leader "), (12, words(&["within"])));
    assert_eq!(at_end("help ne"), (5, words(&["net"])));
    assert_eq!(
        at_end("help net "),
        (9, words(&["drop", "delay", "dup", "reorder"]))
    );
    assert_eq!(at_end("try ki"), (4, words(&["kill"])));
    assert_eq!(
        at_end("try kill "),
        (9, words(&["all", "1", "2", "3", "leader"]))
    );
}

#[test]
fn conditions_complete_word_by_word() {
    assert_eq!(at_end("expect l"), (7, words(&["leader", "logs-match"])));
    assert_eq!(
        at_end("expect role "),
        (12, words(&["1", "2", "3", "leader", "all"]))
    );
    assert_eq!(
        at_end("expect role 1 "),
        (14, words(&["follower", "candidate", "leader", "down"]))
    );
    assert_eq!(
        at_end("expect term all "),
        (16, words(&["==", "!=", "<", "<=", ">", ">="]))
    );
    assert_eq!(at_end("expect get x "), (13, words(&["=="])));
    assert_eq!(
        at_end("expect violation l"),
        (
            17,
            words(&[
                "leader-append-only",
                "log-matching",
                "leader-completeness",
                "linearizability"
            ])
        )
    );
    assert_eq!(at_end("wait until safe "), (16, words(&["within"])));
    assert_eq!(
        at_end("wait until commit 1 >= 3 "),
        (25, words(&["within"]))
    );
    assert_eq!(at_end("expect safe "), (12, words(&[])));
}

#[test]
fn completion_in_the_middle_of_a_line_uses_the_text_before_the_cursor() {
    assert_eq!(
        complete("kill  status", 5, &ctx()),
        (5, words(&["all", "1", "2", "3", "leader"]))
    );
    // Byte 2 is inside 'é': the cursor moves back to the character boundary after 's'.
    let (start, names) = complete("sé", 2, &ctx());
    assert_eq!(start, 0);
    assert!(names.contains(&"status".to_string()) && names.iter().all(|n| n.starts_with('s')));
    assert_eq!(complete("x", 99, &ctx()), (0, words(&[])));
}

#[test]
fn hints_show_the_rest_of_the_name_or_the_usage() {
    assert_eq!(usage_hint("stat"), Some("us".to_string()));
    assert_eq!(usage_hint("st"), None);
    assert_eq!(usage_hint("put "), Some("K V [via NODE]".to_string()));
    assert_eq!(usage_hint("put x "), Some("V [via NODE]".to_string()));
    assert_eq!(usage_hint("put x 1 "), Some("[via NODE]".to_string()));
    assert_eq!(usage_hint("net delay "), Some("D[..D]".to_string()));
    assert_eq!(
        usage_hint("wait until "),
        Some("CONDITION [within D]".to_string())
    );
    assert_eq!(
        usage_hint("status "),
        Some("[-v] [--json] [all|NODE...]".to_string())
    );
    assert_eq!(
        usage_hint("status -v --json "),
        Some("[all|NODE...]".to_string())
    );
    assert_eq!(usage_hint("status -v --json all "), None);
    assert_eq!(
        usage_hint("export log "),
        Some("FILE.svg [NODE...] [--slides]".to_string())
    );
    assert_eq!(usage_hint(""), None);
    assert_eq!(usage_hint("bogus "), None);
}
