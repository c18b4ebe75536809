//! The checker's findings in words: a rule's name, a violation's line, and the
//! operations the linearizability checker could not order.

use std::fmt;

use crate::cluster::checker::{Breach, FirstDifference, Rule, Violation};
use crate::cluster::linearizability::{self, Operation, Outcome};
use crate::cluster::settle::SettleGap;
use crate::cluster::storm::{Busiest, Load, Storm};
use crate::raft::NodeId;

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} violated: {}", self.rule, self.detail)
    }
}

impl fmt::Display for SettleGap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettleGap::NoLeader => f.write_str("no leader"),
            SettleGap::NotUp(node) => write!(f, "n{node} is not up"),
            SettleGap::NotCommitted { node, leader, term } => write!(
                f,
                "n{node} has not committed an entry of n{leader}'s term {term}"
            ),
            SettleGap::NotFollowing {
                node,
                role,
                term,
                leader,
            } => {
                let role = role.map_or("down", |r| r.name());
                write!(
                    f,
                    "n{node} is a {role} of term {term} that does not name n{leader} as leader"
                )
            }
        }
    }
}

/// `these 3 operations cannot`, `this operation cannot` (a read of a value never written
/// fits no order alone).
pub fn cannot_be_ordered(count: usize) -> String {
    match count {
        1 => "this operation cannot".to_string(),
        n => format!("these {n} operations cannot"),
    }
}

impl fmt::Display for linearizability::Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "key {:?}: {} be ordered",
            self.key,
            cannot_be_ordered(self.ops.len())
        )?;
        if !self.minimal {
            write!(
                f,
                " (search budget ran out while shrinking; the set may not be minimal)"
            )?;
        }
        writeln!(f, ":")?;
        if !self.held_before.is_empty() {
            let values: Vec<String> = self
                .held_before
                .iter()
                .map(|value| match value {
                    Some(value) => format!("{value:?}"),
                    None => "absent".to_string(),
                })
                .collect();
            writeln!(
                f,
                "  (before them the key held one of: {}; the operations before were checked \
                 and summarised)",
                values.join(", ")
            )?;
        }
        for (index, operation) in &self.ops {
            writeln!(f, "  #{index:<5} {operation}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Operation {
    /// One line: client, operation, invoke..response and output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let invoke = millis(self.invoke_us);
        let op = self.op.to_string();
        match &self.outcome {
            Outcome::Returned {
                output,
                response_us,
            } => {
                let response = millis(*response_us);
                let span = format!("{invoke}..{response}");
                write!(
                    f,
                    "client {:<3} {op:<24} {span:<24} -> {output}",
                    self.client
                )
            }
            Outcome::Unknown => {
                let span = format!("{invoke}..?");
                write!(
                    f,
                    "client {:<3} {op:<24} {span:<24} -> unknown",
                    self.client
                )
            }
        }
    }
}

/// Microseconds as milliseconds, without trailing zeros: `152.3ms`, `10ms`, `0.005ms`.
fn millis(us: u64) -> String {
    let fraction = format!("{:03}", us % 1000);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{}ms", us / 1000)
    } else {
        format!("{}.{fraction}ms", us / 1000)
    }
}

/// What broke a rule, as the checker's report and `check` say it.
impl fmt::Display for Breach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Breach::RestartedInLowerTerm {
                node,
                term,
                durable,
            } => write!(
                f,
                "n{node} restarted in term {term} after reaching term {durable}"
            ),
            Breach::WroteLowerTerm {
                node,
                term,
                durable,
            } => write!(f, "n{node} wrote term {term} after term {durable}"),
            Breach::TermWentBack { node, from, to } => {
                write!(f, "n{node}'s term went from {from} back to {to}")
            }
            Breach::LeaderTruncated { node, term, from } => write!(
                f,
                "n{node}, leader of term {term}, removed its entries from index {from}"
            ),
            Breach::ConfigChangeBeforeCommit {
                node,
                term,
                index,
                pending,
                commit,
            } => write!(
                f,
                "n{node}, leader of term {term}, appended a configuration entry at index {index} \
                 while the one at index {pending} was not committed (commit {commit})"
            ),
            Breach::LogsDiffer {
                first,
                second,
                term,
                index,
                difference,
            } => {
                write!(
                    f,
                    "n{first} and n{second} hold entries of term {term} at index {index} \
                     that differ, or whose earlier entries differ"
                )?;
                match difference {
                    Some(d) => write!(f, ": {}", first_difference(d, *first, *second)),
                    None => Ok(()),
                }
            }
            Breach::AppliedDiffer {
                node,
                term,
                index,
                first,
                first_term,
            } => {
                let other = if first_term == term {
                    " with another command"
                } else {
                    ""
                };
                write!(
                    f,
                    "n{node} applied an entry of term {term} at index {index} where n{first} \
                     applied one of term {first_term}{other}"
                )
            }
            Breach::CommitWentBack { node, from, to } => {
                write!(f, "n{node}'s commit went from {from} back to {to}")
            }
            Breach::AppliedWentBack { node, from, to } => {
                write!(f, "n{node}'s applied index went from {from} back to {to}")
            }
            Breach::AppliedPastCommit {
                node,
                applied,
                commit,
            } => write!(f, "n{node} applied up to {applied} with commit {commit}"),
            Breach::CommitWithoutMajority {
                node,
                term,
                index,
                holders,
                voters,
            } => write!(
                f,
                "n{node}, leader of term {term}, committed index {index}, which only {} of the \
                 voters {} hold",
                node_set(holders),
                node_set(voters)
            ),
            Breach::TwoLeaders {
                first,
                second,
                term,
            } => write!(
                f,
                "n{first} and n{second} both became leader of term {term}"
            ),
            Breach::VotedTwice {
                node,
                first,
                second,
                term,
            } => write!(
                f,
                "n{node} voted for n{first} and for n{second} in term {term}"
            ),
            Breach::LeaderLacksCommitted {
                node,
                term,
                index,
                holds_other,
                entry_term,
                committed_by,
                in_term,
            } => {
                let lacks = if *holds_other {
                    "holds another entry (or prefix) at"
                } else {
                    "lacks"
                };
                write!(
                    f,
                    "n{node} became leader of term {term} but {lacks} index {index}, committed \
                     with term {entry_term} by n{committed_by} in term {in_term}"
                )
            }
            Breach::Storm(storm) => write!(f, "{storm}"),
        }
    }
}

/// `message storm: 10,001 messages in flight, 9,800 of them AppendEntries n2 -> n3`.
impl fmt::Display for Storm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.load {
            Load::InFlight { count } => {
                write!(f, "message storm: {} messages in flight", thousands(count))
            }
            Load::OnLink { count, from, to } => write!(
                f,
                "message storm: {} messages in flight on n{from} -> n{to}",
                thousands(count)
            ),
            Load::EventsInSecond { events, second } => write!(
                f,
                "message storm: {} events in the second from {second}s",
                thousands(events)
            ),
        }?;
        match self.busiest {
            Some(Busiest {
                count,
                kind,
                from,
                to,
            }) => write!(f, ", {} of them {kind} n{from} -> n{to}", thousands(count)),
            None => Ok(()),
        }
    }
}

/// Nodes as `{n1,n2}` (`{}` for none).
fn node_set(nodes: &[NodeId]) -> String {
    let names: Vec<String> = nodes.iter().map(|n| format!("n{n}")).collect();
    format!("{{{}}}", names.join(","))
}

/// `12345` as `12,345`.
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut text = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            text.push(',');
        }
        text.push(digit);
    }
    text
}

/// Where two logs first differ, in words.
fn first_difference(d: &FirstDifference, a: NodeId, b: NodeId) -> String {
    let earlier = if d.earlier_compacted {
        " (or earlier: the entries before it were compacted)"
    } else {
        ""
    };
    let (x, y) = d.terms;
    let what = if x == y {
        format!("both of term {x}, with other commands")
    } else {
        format!("term {x} on n{a}, term {y} on n{b}")
    };
    format!(
        "the first entry that differs is at index {}{earlier}, {what}",
        d.index
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped_by_commas() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn a_storm_is_told_by_its_largest_group_of_messages() {
        let busiest = Some(Busiest {
            count: 2,
            kind: "AppendEntries",
            from: 2,
            to: 3,
        });
        let load = Load::InFlight { count: 3 };
        assert_eq!(
            Storm { load, busiest }.to_string(),
            "message storm: 3 messages in flight, 2 of them AppendEntries n2 -> n3"
        );
    }
}
