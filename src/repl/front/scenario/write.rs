//! Writing a scenario file: the configuration and command lines of a run, in the format
//! [`super::load`] reads. `raftlab check` writes a failing seed's schedule with it, and
//! the REPL's `save` writes the session's journal.

use std::fmt::Write;

use crate::cluster::{ClockMode, ClusterConfig};
use crate::raft::{Bug, RaftConfig};
use crate::repl::command::format_duration as duration;

/// What the header of a written scenario says.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    pub name: String,
    pub description: String,
    /// The clock the steps are written for, which may not be the one `config` ran on: a
    /// schedule of `run` steps is written for a paused clock, where only they move time;
    /// a session on a virtual clock for a virtual one, where client commands and waits
    /// run the clock as they did in the session.
    pub clock: ClockMode,
}

/// A scenario file (DESIGN.md, "Scenario files") of `config` and `steps`, on the
/// header's clock. The `raft:` key names the teaching bugs, and the flow-control settings
/// where they differ from the defaults.
pub fn scenario_yaml(header: &Header, config: &ClusterConfig, steps: &[String]) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "name: {}", quote(&header.name));
    let _ = writeln!(text, "description: {}", quote(&header.description));
    let _ = writeln!(
        text,
        "cluster:\n  nodes: {}\n  seed: {}\n  clock: {}",
        config.nodes,
        config.seed,
        header.clock.name()
    );
    let raft = &config.raft;
    let _ = writeln!(
        text,
        "  election_timeout: {}..{}\n  heartbeat: {}",
        duration(raft.election_timeout_min_us),
        duration(raft.election_timeout_max_us),
        duration(raft.heartbeat_us)
    );
    let net = &config.network;
    let _ = writeln!(
        text,
        "  network: {{ delay: {}..{}, drop: {:?}, duplicate: {:?}, reorder: {} }}",
        duration(net.delay_min_us),
        duration(net.delay_max_us),
        net.drop,
        net.duplicate,
        net.reorder
    );
    if let Some(raft) = raft_key(raft) {
        let _ = writeln!(text, "  raft: {raft}");
    }
    text.push_str("steps:\n");
    for step in steps {
        match step.strip_prefix("say ") {
            Some(words) => {
                let _ = writeln!(text, "  - say: {}", quote(words));
            }
            None => {
                let _ = writeln!(text, "  - {}", quote(step));
            }
        }
    }
    text
}

/// `{ bugs: [..], max_append_entries: N, ... }`, or `None` when all are the defaults.
fn raft_key(raft: &RaftConfig) -> Option<String> {
    let defaults = RaftConfig::default();
    let mut fields = Vec::new();
    if !raft.bugs.is_empty() {
        let bugs: Vec<&str> = raft.bugs.iter().map(|b: &Bug| b.name()).collect();
        fields.push(format!("bugs: [{}]", bugs.join(", ")));
    }
    if raft.prevote {
        fields.push("prevote: true".to_string());
    }
    if raft.check_quorum {
        fields.push("check_quorum: true".to_string());
    }
    if raft.reads != defaults.reads {
        fields.push(format!("reads: {}", raft.reads.name()));
    }
    if raft.max_append_entries != defaults.max_append_entries {
        fields.push(format!("max_append_entries: {}", raft.max_append_entries));
    }
    if raft.snapshot_every != defaults.snapshot_every {
        fields.push(format!("snapshot_every: {}", raft.snapshot_every));
    }
    if raft.max_inflight_appends != defaults.max_inflight_appends {
        fields.push(format!(
            "max_inflight_appends: {}",
            raft.max_inflight_appends
        ));
    }
    (!fields.is_empty()).then(|| format!("{{ {} }}", fields.join(", ")))
}

/// A YAML scalar that reads back as `text`, whatever it holds: plain where that is safe,
/// single-quoted where every character may stand in a YAML file as it is, else
/// double-quoted with escapes (`\e`, `\t`, `\x85`, ...).
fn quote(text: &str) -> String {
    if is_plain(text) {
        text.to_string()
    } else if text.chars().all(|c| !needs_escape(c)) {
        format!("'{}'", text.replace('\'', "''"))
    } else {
        double_quoted(text)
    }
}

/// Whether `text` reads back as itself, and as text, written plain: only characters that
/// mean nothing to YAML, starting with a letter or digit (not `-`, `.`, ...) and not
/// ending with a space; and if it is one word, not one YAML reads as a number, a boolean
/// or null (`12`, `1e3`, `true`, `no`, `null`).
fn is_plain(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    let safe = text
        .chars()
        .all(|c| c.is_alphanumeric() || " -_.,=<>/()`".contains(c));
    let one_word = !text.contains(' ');
    let scalar_word = one_word
        && (!first.is_ascii_alphabetic()
            || ["null", "true", "false", "yes", "no", "on", "off", "y", "n"]
                .contains(&text.to_ascii_lowercase().as_str()));
    safe && first.is_alphanumeric() && !text.ends_with(' ') && !scalar_word
}

/// Whether a character must be escaped in a YAML file: one that YAML does not allow as
/// it is (the control characters, tab and line breaks included), or one it reads as a
/// line break or a byte-order mark.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        )
}

/// `"..."` with YAML's escapes for `\`, `"` and every character [`needs_escape`] names.
fn double_quoted(text: &str) -> String {
    let mut quoted = String::from("\"");
    for c in text.chars() {
        let _ = match c {
            '\\' => write!(quoted, "\\\\"),
            '"' => write!(quoted, "\\\""),
            '\t' => write!(quoted, "\\t"),
            '\n' => write!(quoted, "\\n"),
            '\r' => write!(quoted, "\\r"),
            '\u{1b}' => write!(quoted, "\\e"),
            c if needs_escape(c) && u32::from(c) <= 0xff => {
                write!(quoted, "\\x{:02x}", u32::from(c))
            }
            c if needs_escape(c) => write!(quoted, "\\u{:04x}", u32::from(c)),
            c => write!(quoted, "{c}"),
        };
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::repl::command::{ClientOp, Command};
    use crate::repl::scenario::{StepKind, load_str};

    /// The steps `scenario_yaml` writes of `name` and `lines`, loaded back.
    fn loaded_back(name: &str, lines: &[String]) -> Vec<StepKind> {
        let header = Header {
            name: name.to_string(),
            description: "written and loaded back".to_string(),
            clock: ClockMode::Paused,
        };
        let text = scenario_yaml(&header, &ClusterConfig::default(), lines);
        let scenario = load_str("written.yaml", "written", &text)
            .unwrap_or_else(|error| panic!("{error}\n{text}"));
        assert_eq!(scenario.name, name.trim(), "{text}");
        scenario.steps.into_iter().map(|step| step.kind).collect()
    }

    /// Every text a session can hold loads back from the file as it was: a `say` as
    /// its text, a client command's key and value as they were.
    fn round_trip(name: &str, text: &str, key: &str, value: &str) {
        let say = text.trim().to_string();
        let put = Command::Client {
            op: ClientOp::Put {
                key: key.to_string(),
                value: value.to_string(),
            },
            via: None,
        };
        let lines = [format!("say {say}"), put.to_string()];
        let kinds = loaded_back(name, &lines);
        assert_eq!(kinds, [StepKind::Say(say), StepKind::Command(put)]);
    }

    #[test]
    fn texts_yaml_would_read_otherwise_load_back_as_written() {
        for text in [
            "\u{1b}[31mred\u{1b}[0m",
            "it's \"quoted\" # not a comment: yes",
            "key: value",
            "  leading and trailing spaces  ",
            "- a dash",
            "tab\there, bell \u{7}, nul \0, del \u{7f}, next line \u{85}",
            "back\\slash \\e",
            "ünï ☃ 日本 \u{2028} \u{feff}",
            "12",
            "1e3",
            ".inf",
            "true",
            "No",
            "null",
            "~",
            "...",
            "---",
            "?q",
            "%pct @at &anchor *alias !tag",
            "{a: b}",
            "[1, 2]",
            "|",
            ">",
            "1. the first step",
        ] {
            round_trip(text, text, text, text);
        }
    }

    #[test]
    fn plain_where_safe_single_quoted_where_printable_else_escaped() {
        assert_eq!(
            quote("Found by `raftlab check --seed 4`."),
            "Found by `raftlab check --seed 4`."
        );
        assert_eq!(quote("1. n1 crashes"), "1. n1 crashes");
        assert_eq!(quote("partition 1 | 2,3"), "'partition 1 | 2,3'");
        assert_eq!(quote("  spaced"), "'  spaced'");
        assert_eq!(quote("a\u{1b}b\\\"c"), "\"a\\eb\\\\\\\"c\"");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn any_text_loads_back_as_written(
            name in "[^\\s][\\PC\\s]{0,12}",
            text in any::<String>(),
            key in any::<String>(),
            value in any::<String>(),
        ) {
            round_trip(&name, &text, &key, &value);
        }
    }
}
