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

/// A YAML scalar: plain where that is safe, else single-quoted.
fn quote(text: &str) -> String {
    let plain = text
        .chars()
        .all(|c| c.is_alphanumeric() || " -_.,=<>/()`".contains(c));
    let starts_safe = !text.starts_with(['-', '<', '>', '`', ' ']) && !text.ends_with(' ');
    if plain && starts_safe && !text.is_empty() {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "''"))
    }
}
