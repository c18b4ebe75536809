//! Bounds on the network's load, so that a cluster running broken Raft code cannot grow
//! without end: the messages in flight, in all and on one link, and the events of one
//! second of cluster time.
//!
//! A correct cluster stays far below them: a leader keeps a few AppendEntries in flight
//! per follower, and nothing answers a message with more than one. A bug that answers
//! every rejection with another request at once (`ignore-higher-term-response`), with
//! duplication on, multiplies its chains of messages until the process runs out of memory.
//! Crossing a bound is reported once to the checker as a violation of its own, the
//! *message storm*, so that `raftlab check` reports, replays and shrinks it like a safety
//! violation, and a scenario can `expect violation message-storm`. Past twice a bound the
//! network refuses new messages (dropped as *overload*), so memory stays bounded while the
//! run goes on to its end.

use std::collections::BTreeMap;

use crate::raft::NodeId;

use super::network::InFlight;

/// The network's load bounds of a cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StormLimits {
    /// The most messages in flight in all.
    pub in_flight: usize,
    /// The most messages in flight on one link (one direction).
    pub per_link: usize,
    /// The most events in one second of cluster time.
    pub events_per_second: u64,
}

impl StormLimits {
    /// The bounds for a cluster of `nodes` nodes: 10,000 messages in flight (more in a
    /// large cluster, where one heartbeat round is a message per follower), 2,000 on one
    /// link, 100,000 events a second (more in a large cluster). Over 1,000 seeds of
    /// `raftlab check` (3 to 7 nodes, every swarm shape), correct code peaked at 355
    /// messages in flight and 20,621 events in a second.
    pub fn for_nodes(nodes: u64) -> StormLimits {
        StormLimits {
            in_flight: 10_000usize.max(usize::try_from(nodes).unwrap_or(usize::MAX) * 40),
            per_link: 2_000,
            events_per_second: 100_000u64.max(nodes.saturating_mul(5_000)),
        }
    }
}

/// What crossed a bound, in words: the count and the largest group of messages by kind
/// and link ("message storm: 10,001 messages in flight, 9,800 of them AppendEntries
/// n2 -> n3"). Returns the words and the two nodes of that link.
pub fn describe(
    what: &str,
    messages: impl Iterator<Item = (NodeId, NodeId, &'static str)>,
) -> (String, Vec<NodeId>) {
    let mut groups: BTreeMap<(&'static str, NodeId, NodeId), usize> = BTreeMap::new();
    for (from, to, kind) in messages {
        *groups.entry((kind, from, to)).or_default() += 1;
    }
    let Some(((kind, from, to), count)) = groups.into_iter().max_by_key(|&(key, n)| (n, key))
    else {
        return (format!("message storm: {what}"), Vec::new());
    };
    let text = format!(
        "message storm: {what}, {} of them {kind} n{from} -> n{to}",
        thousands(count as u64)
    );
    (text, vec![from, to])
}

/// The kind and link of a message in flight, for [`describe`].
pub fn kind_and_link(message: &InFlight) -> (NodeId, NodeId, &'static str) {
    let envelope = &message.envelope;
    (envelope.from, envelope.to, envelope.message.kind())
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
        let messages = [
            (2, 3, "AppendEntries"),
            (2, 3, "AppendEntries"),
            (3, 2, "Vote"),
        ];
        let (text, nodes) = describe("3 messages in flight", messages.into_iter());
        assert_eq!(
            text,
            "message storm: 3 messages in flight, 2 of them AppendEntries n2 -> n3"
        );
        assert_eq!(nodes, vec![2, 3]);
    }
}
