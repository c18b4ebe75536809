//! The running nodes' timers, earliest first.

use crate::raft::NodeId;

/// Every running node's timer, as (due time, node), in that order.
///
/// A sorted list rather than a tree: a cluster has a few nodes, one timer each, and a
/// follower's deadline moves on every AppendEntries, so the timers are read and moved
/// on nearly every hand-off; a short list does both in a few compares and moves.
///
/// Invariant: `timers` is strictly increasing (no node twice: each is removed before it
/// is put back under another time).
#[derive(Debug, Default)]
pub(super) struct Timers {
    timers: Vec<(u64, NodeId)>,
}

impl Timers {
    /// Adds `node`'s timer, due at `time_us`.
    pub(super) fn insert(&mut self, time_us: u64, node: NodeId) {
        let timer = (time_us, node);
        if let Err(at) = self.timers.binary_search(&timer) {
            self.timers.insert(at, timer);
        }
    }

    /// Removes `node`'s timer, due at `time_us`, if it is there.
    pub(super) fn remove(&mut self, time_us: u64, node: NodeId) {
        if let Ok(at) = self.timers.binary_search(&(time_us, node)) {
            self.timers.remove(at);
        }
    }

    /// Moves `node`'s timer from `old_us` to `new_us`: written over in its place, then
    /// moved into order. The timers on the side it moves to are in order, so its new
    /// place is found by a binary search there, and those before it shift by one.
    pub(super) fn reset(&mut self, node: NodeId, old_us: u64, new_us: u64) {
        let Ok(at) = self.timers.binary_search(&(old_us, node)) else {
            self.insert(new_us, node);
            return;
        };
        let (old, timer) = (self.timers[at], (new_us, node));
        self.timers[at] = timer;
        if timer > old {
            let to = at + self.timers[at + 1..].partition_point(|&next| next < timer);
            self.timers[at..=to].rotate_left(1);
        } else {
            let to = self.timers[..at].partition_point(|&before| before < timer);
            self.timers[to..=at].rotate_right(1);
        }
    }

    /// When the earliest timer is due.
    pub(super) fn first_us(&self) -> Option<u64> {
        self.timers.first().map(|&(time_us, _)| time_us)
    }

    /// The nodes whose timers are due at or before `now_us`, earliest first.
    pub(super) fn due(&self, now_us: u64) -> impl Iterator<Item = NodeId> + '_ {
        (self.timers.iter())
            .take_while(move |&&(time_us, _)| time_us <= now_us)
            .map(|&(_, node)| node)
    }

    pub(super) fn clear(&mut self) {
        self.timers.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_come_earliest_first_and_move_when_reset() {
        let mut timers = Timers::default();
        timers.insert(30, 1);
        timers.insert(10, 3);
        timers.insert(30, 2);
        assert_eq!(timers.first_us(), Some(10));
        assert_eq!(timers.due(30).collect::<Vec<_>>(), [3, 1, 2]);
        assert_eq!(timers.due(29).collect::<Vec<_>>(), [3]);
        timers.reset(3, 10, 40);
        assert_eq!(timers.first_us(), Some(30));
        assert_eq!(timers.due(40).collect::<Vec<_>>(), [1, 2, 3]);
        timers.reset(3, 40, 5);
        assert_eq!(timers.due(40).collect::<Vec<_>>(), [3, 1, 2]);
        timers.reset(1, 30, 30);
        timers.reset(3, 5, 30);
        assert_eq!(timers.due(40).collect::<Vec<_>>(), [1, 2, 3]);
        timers.reset(4, 7, 1);
        assert_eq!(timers.due(40).collect::<Vec<_>>(), [4, 1, 2, 3]);
        timers.remove(1, 4);
        timers.remove(30, 1);
        timers.remove(30, 9);
        assert_eq!(timers.due(u64::MAX).collect::<Vec<_>>(), [2, 3]);
        timers.clear();
        assert_eq!(timers.first_us(), None);
    }

    /// Many timers moved both ways, far and near: always in the order an ordered set of
    /// (time, node) keeps them.
    #[test]
    fn timers_moved_at_random_keep_the_order_of_an_ordered_set() {
        use rand::{Rng, SeedableRng};
        use std::collections::BTreeSet;

        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let (mut timers, mut model) = (Timers::default(), BTreeSet::new());
        let mut due: Vec<u64> = (0..200).map(|_| rng.random_range(0..1_000)).collect();
        for (node, &time_us) in (1..).zip(&due) {
            timers.insert(time_us, node);
            model.insert((time_us, node));
        }
        for _ in 0..5_000 {
            let node = rng.random_range(1..=due.len() as NodeId);
            let old_us = due[node as usize - 1];
            let new_us = rng.random_range(0..1_000);
            timers.reset(node, old_us, new_us);
            model.remove(&(old_us, node));
            model.insert((new_us, node));
            due[node as usize - 1] = new_us;
        }
        let order: Vec<NodeId> = model.iter().map(|&(_, node)| node).collect();
        assert_eq!(timers.due(u64::MAX).collect::<Vec<_>>(), order);
        assert_eq!(
            timers.first_us(),
            model.first().map(|&(time_us, _)| time_us)
        );
    }
}
