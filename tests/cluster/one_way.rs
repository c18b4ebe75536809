//! One-way cuts: a link is one direction, and cutting it stops that direction only.

use raftlab::cluster::event::DropReason;
use raftlab::cluster::{ClusterEvent, EventKind};
use raftlab::raft::{NodeId, Role};

use crate::support::*;

/// A link, one direction: (from, to).
type Link = (NodeId, NodeId);

/// The messages dropped by a cut, and the messages delivered, as (from, to) pairs.
fn cut_drops_and_deliveries(events: &[ClusterEvent]) -> (Vec<Link>, Vec<Link>) {
    let mut dropped = Vec::new();
    let mut delivered = Vec::new();
    for event in events {
        match &event.kind {
            EventKind::Dropped {
                info,
                reason: DropReason::Cut,
                ..
            } => dropped.push((info.from(), info.to())),
            EventKind::Delivered { info, .. } => delivered.push((info.from(), info.to())),
            _ => {}
        }
    }
    (dropped, delivered)
}

#[test]
fn cutting_leader_to_follower_silences_the_leader_only_and_the_follower_campaigns() {
    for seed in 1..=50 {
        let cluster = virtual_cluster(5, seed);
        let leader = wait_leader(&cluster, 3 * SECOND_US);
        put(&cluster, "a", "1");
        let follower = if leader == 1 { 2 } else { 1 };
        let term = cluster.status().unwrap().nodes[leader as usize - 1].term;
        let events = cluster.subscribe().unwrap();
        cluster.cut(leader, follower, true).unwrap();

        // The follower hears no heartbeat, times out and campaigns in a later term.
        let campaigned = wait(&cluster, SECOND_US, move |sim| {
            let node = &sim.nodes[follower as usize - 1];
            node.role == Some(Role::Candidate) || node.term > term
        });
        assert!(campaigned, "seed {seed}: n{follower} never campaigned");
        // Its votes requests reach every node, the old leader among them.
        cluster.run_for(200_000).unwrap();
        let events: Vec<ClusterEvent> = events.try_iter().collect();
        let (dropped, delivered) = cut_drops_and_deliveries(&events);
        assert!(!dropped.is_empty(), "seed {seed}: nothing was cut");
        assert!(
            dropped.iter().all(|&link| link == (leader, follower)),
            "seed {seed}: a cut dropped messages on another link: {dropped:?}"
        );
        assert!(
            delivered.contains(&(follower, leader)),
            "seed {seed}: nothing from n{follower} reached n{leader}"
        );
        assert!(
            !delivered.contains(&(leader, follower)),
            "seed {seed}: a message crossed the cut link n{leader} -> n{follower}"
        );
        // The cluster still has a majority that can elect and commit.
        wait_leader(&cluster, 3 * SECOND_US);
        put(&cluster, "b", "2");
        assert_eq!(get(&cluster, "a").as_deref(), Some("1"), "seed {seed}");
    }
}

#[test]
fn cutting_follower_to_leader_leaves_the_follower_in_touch() {
    let cluster = virtual_cluster(5, 11);
    let leader = wait_leader(&cluster, 3 * SECOND_US);
    let follower = if leader == 1 { 2 } else { 1 };
    let term = cluster.status().unwrap().nodes[leader as usize - 1].term;
    let events = cluster.subscribe().unwrap();
    cluster.cut(follower, leader, true).unwrap();
    for i in 0..5 {
        put(&cluster, &format!("k{i}"), "v");
    }
    cluster.run_for(2 * SECOND_US).unwrap();

    // The follower still hears the leader: no election, and it applies every write.
    let status = cluster.status().unwrap();
    assert_eq!(status.leader, Some(leader));
    assert!(status.nodes.iter().all(|n| n.term == term), "{status:?}");
    let follower_status = &status.nodes[follower as usize - 1];
    assert_eq!(follower_status.role, Some(Role::Follower));
    assert_eq!(
        follower_status.applied,
        status.nodes[leader as usize - 1].applied
    );
    assert_eq!(cluster.kv(follower).unwrap().len(), 5);

    let events: Vec<ClusterEvent> = events.try_iter().collect();
    let (dropped, delivered) = cut_drops_and_deliveries(&events);
    assert!(!dropped.is_empty());
    assert!(
        dropped.iter().all(|&link| link == (follower, leader)),
        "{dropped:?}"
    );
    assert!(delivered.contains(&(leader, follower)));
    assert!(!delivered.contains(&(follower, leader)));
}

#[test]
fn linking_one_way_restores_that_direction_only() {
    let cluster = virtual_cluster(3, 2);
    cluster.cut(1, 2, false).unwrap();
    cluster.link(2, 1, true).unwrap();
    let cut = cluster.network().unwrap().cut;
    assert_eq!(cut, vec![(1, 2)]);
    cluster.link(1, 2, true).unwrap();
    assert!(cluster.network().unwrap().cut.is_empty());
}
