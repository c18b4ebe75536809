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
    /// The bounds for a cluster of `nodes` nodes: 10,000 messages in flight, 2,000 on one
    /// link, 100,000 events a second. Over 1,000 seeds of `raftlab check` (3 to 7 nodes,
    /// every swarm shape), correct code peaked at 355 messages in flight and 20,621 events
    /// in a second. A large cluster gets more: 40 messages and 5,000 events per node (a
    /// heartbeat round is a message per follower), and room for one election round of
    /// every node at once (each asks every other node and is answered: for each node and
    /// each other node, a request and its answer, each sent and delivered: 2 messages and
    /// 4 events), which a cluster of a few hundred nodes whose
    /// timers fire within one message delay of each other reaches on correct code (2,001
    /// nodes under PreVote: 1.87 million messages in flight, 10 million events in one
    /// second).
    pub fn for_nodes(nodes: u64) -> StormLimits {
        let pairs = nodes.saturating_mul(nodes.saturating_sub(1));
        let in_flight = 10_000u64
            .max(nodes.saturating_mul(40))
            .max(pairs.saturating_mul(2));
        StormLimits {
            in_flight: usize::try_from(in_flight).unwrap_or(usize::MAX),
            per_link: 2_000,
            events_per_second: 100_000u64
                .max(nodes.saturating_mul(5_000))
                .max(pairs.saturating_mul(4)),
        }
    }
}

/// A message storm: the bound crossed, and the largest group of messages in flight then,
/// by kind and link (none when nothing was in flight).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Storm {
    pub load: Load,
    pub busiest: Option<Busiest>,
}

/// Which bound a storm crossed, and by how much.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Load {
    /// `count` messages in flight in all.
    InFlight { count: u64 },
    /// `count` messages in flight on the link `from -> to`.
    OnLink {
        count: u64,
        from: NodeId,
        to: NodeId,
    },
    /// `events` events in the second of cluster time that began at `second` seconds.
    EventsInSecond { events: u64, second: u64 },
}

/// The largest group of messages in flight, by kind and link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Busiest {
    pub count: u64,
    pub kind: &'static str,
    pub from: NodeId,
    pub to: NodeId,
}

/// The storm of a crossed bound, with the largest group of messages by kind and link
/// (for "message storm: 10,001 messages in flight, 9,800 of them AppendEntries n2 ->
/// n3"). Returns the storm and the two nodes of that link.
pub fn summarise(
    load: Load,
    messages: impl Iterator<Item = (NodeId, NodeId, &'static str)>,
) -> (Storm, Vec<NodeId>) {
    let mut groups: BTreeMap<(&'static str, NodeId, NodeId), usize> = BTreeMap::new();
    for (from, to, kind) in messages {
        *groups.entry((kind, from, to)).or_default() += 1;
    }
    let Some(((kind, from, to), count)) = groups.into_iter().max_by_key(|&(key, n)| (n, key))
    else {
        let busiest = None;
        return (Storm { load, busiest }, Vec::new());
    };
    let busiest = Some(Busiest {
        count: count as u64,
        kind,
        from,
        to,
    });
    (Storm { load, busiest }, vec![from, to])
}

/// The kind and link of a message in flight, for [`summarise`].
pub fn kind_and_link(message: &InFlight) -> (NodeId, NodeId, &'static str) {
    let envelope = &message.envelope;
    (envelope.from, envelope.to, envelope.message.kind())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_cluster_keeps_the_fixed_bounds_and_a_large_one_has_room_for_an_election() {
        for nodes in [1, 3, 7, 70] {
            let limits = StormLimits::for_nodes(nodes);
            assert_eq!(limits.in_flight, 10_000, "{nodes} nodes");
            assert_eq!(limits.events_per_second, 100_000.max(nodes * 5_000));
        }
        // Every node asking every other, each answered, in flight at once.
        for nodes in [200u64, 2_001] {
            let limits = StormLimits::for_nodes(nodes);
            let round = 2 * nodes * (nodes - 1);
            assert!(
                limits.in_flight as u64 >= round,
                "{nodes} nodes: {limits:?}"
            );
            assert!(
                limits.events_per_second >= 2 * round,
                "{nodes} nodes: {limits:?}"
            );
        }
        assert_eq!(StormLimits::for_nodes(u64::MAX).in_flight, usize::MAX);
    }

    #[test]
    fn a_storm_is_told_by_its_largest_group_of_messages() {
        let messages = [
            (2, 3, "AppendEntries"),
            (2, 3, "AppendEntries"),
            (3, 2, "Vote"),
        ];
        let load = Load::InFlight { count: 3 };
        let (storm, nodes) = summarise(load, messages.into_iter());
        let busiest = Some(Busiest {
            count: 2,
            kind: "AppendEntries",
            from: 2,
            to: 3,
        });
        assert_eq!(storm, Storm { load, busiest });
        assert_eq!(nodes, vec![2, 3]);
    }
}
