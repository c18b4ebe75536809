//! What must hold: the safety rules of the cluster's checker, held on every step of every
//! explored path.
//!
//! The rules and their words are those of [`crate::cluster::checker`], so that the rule a
//! counterexample breaks here is the one `raftlab run` reports when the path replays:
//!
//! - **Election Safety**: at most one node becomes leader in a term (over the path).
//! - **Leader Append-Only**: a leader never truncates its log while it leads its term.
//! - **Log Matching**: two logs with an entry of the same index and term hold the same
//!   entries up to there (checked between the durable logs of every state).
//! - **Leader Completeness**: a node that becomes leader of term T holds every entry seen
//!   committed in a term before T (an entry counts as committed in the term of the node
//!   seen advancing its commit index over it, as the checker counts it).
//! - **State Machine Safety**: no two nodes apply different entries at one index.
//! - **Linearizability**, for the model's clients: each write `wK` writes its own key once,
//!   so a read of `wK` that begins after the write was acknowledged (its node applied it
//!   and answered the client) must see it. A read is answered by the node it was sent to,
//!   when that node applies the read's own log entry, or at once from its state machine
//!   with the teaching bug `leader-local-reads`. (The cluster's linearizability checker
//!   holds the same over the history the replay's clients make.)
//!
//! and the core's own asserts: a step that panics is a finding too. One rule is the
//! model's own, as the cluster's checker has no rule to see it broken at one step:
//!
//! - **Adopt Higher Term** (Figure 2, "Rules for all servers": if an RPC request or
//!   response contains a term T > currentTerm, set currentTerm = T and convert to
//!   follower): a node that handled a message of a higher term than its own is in that term
//!   at least. (Breaking it makes a deposed leader storm its followers, which the cluster
//!   sees as a message storm and an unsettled cluster only later, over time.) It holds in
//!   this model because PreVote and CheckQuorum, whose messages and leader stickiness are
//!   its exceptions, are off.
//!
//! The history these need (who led each term, what was seen committed and applied) is the
//! [`Ghost`] part of a state, and counts in its fingerprint: two states with the same nodes
//! but another history can go on to different findings.

use std::any::Any;

use crate::cluster::Rule;
use crate::cluster::checker::{Committed, leader_completeness};
use crate::raft::{
    DurableWrite, Entry, Index, NodeId, NodeView, Payload, RaftEvent, RaftLog, Role, Term,
};

use super::fingerprint::{chain, entry_digest};
use super::model::Node;

/// A broken rule, or a panic in the core.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The cluster checker's rule broken; `None` when the core panicked or a rule of the
    /// model's own broke.
    pub rule: Option<Rule>,
    /// The rule's name: the cluster's, `core-panic`, or the model's own.
    pub name: &'static str,
    /// What happened, in words.
    pub detail: String,
}

impl Finding {
    fn broken(rule: Rule, detail: String) -> Finding {
        Finding {
            rule: Some(rule),
            name: rule.name(),
            detail,
        }
    }

    /// The core of `node` panicked with `payload`.
    pub fn panic(node: NodeId, payload: &(dyn Any + Send)) -> Finding {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_string());
        Finding {
            rule: None,
            name: "core-panic",
            detail: format!("n{node}'s core panicked: {message}"),
        }
    }

    /// Adopt Higher Term: `node`, in `term` before and after, handled `what` of the higher
    /// term `higher`.
    pub fn kept_lower_term(node: NodeId, term: Term, what: &str, higher: Term) -> Finding {
        Finding {
            rule: None,
            name: ADOPT_HIGHER_TERM,
            detail: format!(
                "n{node} handled {what} of term {higher} and stayed in term {term} (Figure 2: \
                 a request or response of a higher term sets the term, and the node follows)"
            ),
        }
    }

    /// The rule's name, or `core-panic`.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// The name of the model's own rule of Figure 2's term rule.
pub const ADOPT_HIGHER_TERM: &str = "adopt-higher-term";

/// The history the rules need. See the module documentation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ghost {
    /// By term (position = term): the node that became leader of it, 0 for none yet.
    pub leaders: Vec<NodeId>,
    /// By term: the highest index seen committed by a node in that term.
    pub commit_terms: Vec<Index>,
    /// By index (position = index - 1).
    pub committed: Vec<Committed>,
    /// By index: the digest, term and node of the entry first applied there.
    pub applied: Vec<(u64, Term, NodeId)>,
    /// By write (position = K - 1 for the write `wK`): who may still acknowledge it.
    pub writes: Vec<Write>,
    /// The reads sent and not answered yet.
    pub reads: Vec<Read>,
}

/// A client write `wK`, as its client sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Write {
    /// The node whose client waits for the answer; 0 once it crashed (the answer is lost).
    pub origin: NodeId,
    /// The node applied the write and answered: every read that begins now must see it.
    pub acknowledged: bool,
}

/// A client read of `wK` waiting for its node to apply the read's own log entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Read {
    /// The read's number R: its log entry's command is `rR`.
    pub number: u32,
    pub node: NodeId,
    /// The key read: `wK`.
    pub key: u32,
    /// `wK` was acknowledged before the read began.
    pub must_see: bool,
}

/// The command of the client write `wK` (the model's own commands: each write has a key of
/// its own).
pub fn write_command(key: u32) -> Vec<u8> {
    format!("w{key}").into_bytes()
}

/// The command of the read `rR`, which goes through the log.
pub fn read_command(number: u32) -> Vec<u8> {
    format!("r{number}").into_bytes()
}

fn command_of(entry: &Entry) -> Option<&[u8]> {
    match &entry.payload {
        Payload::Command(command) => Some(command),
        _ => None,
    }
}

impl Ghost {
    /// Leader Append-Only, on the durable writes of one step of `node`.
    pub fn writes(
        &self,
        node: NodeId,
        before: &NodeView,
        after: &NodeView,
        writes: &[DurableWrite],
    ) -> Result<(), Finding> {
        let leading = before.role == Role::Leader && before.term == after.term;
        for write in writes {
            if let (DurableWrite::Truncate { from }, true) = (write, leading) {
                let detail = format!(
                    "n{node}, leader of term {}, removed its entries from index {from}",
                    before.term
                );
                return Err(Finding::broken(Rule::LeaderAppendOnly, detail));
            }
        }
        Ok(())
    }

    /// State Machine Safety, on the entries `node` applied.
    pub fn applied(&mut self, node: NodeId, entries: &[Entry]) -> Result<(), Finding> {
        for entry in entries {
            let position = entry.index as usize - 1;
            let digest = entry_digest(entry);
            match self.applied.get(position) {
                Some(&(first, _, _)) if first == digest => {}
                Some(&(_, term, other)) => {
                    let detail = format!(
                        "n{node} applied an entry of term {} at index {} where n{other} \
                         applied one of term {term}{}",
                        entry.term,
                        entry.index,
                        if term == entry.term {
                            " with another command"
                        } else {
                            ""
                        }
                    );
                    return Err(Finding::broken(Rule::StateMachineSafety, detail));
                }
                None if position == self.applied.len() => {
                    self.applied.push((digest, entry.term, node))
                }
                None => {}
            }
        }
        Ok(())
    }

    /// A client sends the write `wK` (K the next number) to `node`.
    pub fn wrote(&mut self, node: NodeId) {
        self.writes.push(Write {
            origin: node,
            acknowledged: false,
        });
    }

    /// `node` went down: its clients hear nothing more from it.
    pub fn crashed(&mut self, node: NodeId) {
        for write in &mut self.writes {
            if write.origin == node && !write.acknowledged {
                write.origin = 0;
            }
        }
        self.reads.retain(|read| read.node != node);
    }

    /// Whether the write `wK` was acknowledged.
    pub fn acknowledged(&self, key: u32) -> bool {
        (self.writes.get(key as usize - 1)).is_some_and(|write| write.acknowledged)
    }

    /// Linearizability of a read of `wK` at `node` that saw the write (`seen`) or not.
    pub fn read_answered(
        &self,
        node: NodeId,
        key: u32,
        must_see: bool,
        seen: bool,
    ) -> Result<(), Finding> {
        if must_see && !seen {
            let detail = format!(
                "n{node} answered a read of w{key} with no value, though the write of w{key} \
                 was acknowledged before the read began (a stale read)"
            );
            return Err(Finding::broken(Rule::Linearizability, detail));
        }
        Ok(())
    }

    /// The clients' side of the entries `node` applied (its log holds them): writes
    /// acknowledged, reads answered.
    pub fn answers(
        &mut self,
        node: NodeId,
        entries: &[Entry],
        log: &RaftLog,
    ) -> Result<(), Finding> {
        for entry in entries {
            let Some(command) = command_of(entry) else {
                continue;
            };
            for (position, write) in self.writes.iter_mut().enumerate() {
                if write.origin == node && command == write_command(position as u32 + 1) {
                    write.acknowledged = true;
                }
            }
            let Some(at) = (self.reads.iter())
                .position(|read| read.node == node && command == read_command(read.number))
            else {
                continue;
            };
            let read = self.reads.remove(at);
            let seen = holds_write(log, read.key, entry.index - 1);
            self.read_answered(node, read.key, read.must_see, seen)?;
        }
        Ok(())
    }

    /// Records the entries `node` was seen committing, and in which term.
    pub fn commits(&mut self, node: NodeId, before: &NodeView, after: &NodeView, log: &RaftLog) {
        if after.commit <= before.commit {
            return;
        }
        let term = after.term as usize;
        if self.commit_terms.len() <= term {
            self.commit_terms.resize(term + 1, 0);
        }
        self.commit_terms[term] = self.commit_terms[term].max(after.commit);
        let start = self.committed.len() as Index + 1;
        for index in start..=after.commit {
            let Some(entry) = log.get(index) else {
                break;
            };
            self.committed.push(Committed {
                term: entry.term,
                chain: chain_at(log, index).unwrap_or(0),
                in_term: after.term,
                node,
            });
        }
    }

    /// Election Safety and Leader Completeness, on `node`'s events.
    pub fn events(
        &mut self,
        node: NodeId,
        events: &[RaftEvent],
        log: &RaftLog,
    ) -> Result<(), Finding> {
        for event in events {
            if let RaftEvent::BecameLeader { term } = *event {
                self.election_safety(node, term)?;
                self.leader_completeness(node, term, log)?;
            }
        }
        Ok(())
    }

    fn election_safety(&mut self, node: NodeId, term: Term) -> Result<(), Finding> {
        let position = term as usize;
        if self.leaders.len() <= position {
            self.leaders.resize(position + 1, 0);
        }
        match self.leaders[position] {
            0 => {
                self.leaders[position] = node;
                Ok(())
            }
            other if other == node => Ok(()),
            other => {
                let detail = format!("n{other} and n{node} both became leader of term {term}");
                Err(Finding::broken(Rule::ElectionSafety, detail))
            }
        }
    }

    /// The cluster checker's own rule ([`leader_completeness`]), on the ghost's history.
    fn leader_completeness(&self, node: NodeId, term: Term, log: &RaftLog) -> Result<(), Finding> {
        let commit_terms = (self.commit_terms.iter().enumerate()).map(|(t, &i)| (t as Term, i));
        let committed_at = |index: Index| self.committed.get(index as usize - 1).copied();
        let found = leader_completeness(node, term, commit_terms, committed_at, |index| {
            chain_at(log, index)
        });
        match found {
            Some((_, _, breach)) => Err(Finding::broken(
                Rule::LeaderCompleteness,
                breach.to_string(),
            )),
            None => Ok(()),
        }
    }

    /// Log Matching between the durable logs of `nodes`.
    pub fn log_matching(&self, nodes: &[std::sync::Arc<Node>]) -> Result<(), Finding> {
        for (a, first) in nodes.iter().enumerate() {
            for (b, second) in nodes.iter().enumerate().skip(a + 1) {
                let (one, two) = (first.storage.log.entries(), second.storage.log.entries());
                let Some(last) = one.iter().zip(two).rposition(|(x, y)| x.term == y.term) else {
                    continue;
                };
                if one[..=last] != two[..=last] {
                    let entry = &one[last];
                    let detail = format!(
                        "n{} and n{} hold entries of term {} at index {} that differ, or whose \
                         earlier entries differ",
                        a + 1,
                        b + 1,
                        entry.term,
                        entry.index
                    );
                    return Err(Finding::broken(Rule::LogMatching, detail));
                }
            }
        }
        Ok(())
    }
}

/// Whether `log` holds the write `wK` at an index up to `upto`.
pub fn holds_write(log: &RaftLog, key: u32, upto: Index) -> bool {
    let command = write_command(key);
    let entries = log.entries();
    let end = entries.len().min(upto as usize);
    entries[..end]
        .iter()
        .any(|entry| command_of(entry) == Some(&command[..]))
}

/// The digest of `log`'s entries up to `index`, if it holds them.
fn chain_at(log: &RaftLog, index: Index) -> Option<u64> {
    let entries = log.entries();
    let upto = entries.get(..index as usize)?;
    Some(
        upto.iter()
            .fold(0, |previous, entry| chain(previous, entry_digest(entry))),
    )
}
