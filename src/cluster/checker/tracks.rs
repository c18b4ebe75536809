//! What the checker knows of each node, by node id: a short vector sorted by id rather than
//! a map. A cluster has a handful of nodes and every step looks its node up several times,
//! so a bisection over a few adjacent entries is what each lookup should cost.

use std::ops::Index;

use crate::raft::NodeId;

use super::NodeTrack;

/// The tracks of the nodes seen, by increasing node id.
///
/// Invariant: the ids are strictly increasing.
#[derive(Clone, Debug, Default)]
pub(super) struct Tracks(Vec<(NodeId, NodeTrack)>);

impl Tracks {
    /// Where `node` is (`Ok`) or would go (`Err`).
    #[inline]
    fn position(&self, node: NodeId) -> Result<usize, usize> {
        crate::cluster::find_node(&self.0, node, |&(id, _)| id)
    }

    /// The track of `node`, if it was seen.
    #[inline]
    pub(super) fn get(&self, node: &NodeId) -> Option<&NodeTrack> {
        let position = self.position(*node).ok()?;
        Some(&self.0[position].1)
    }

    /// The track of `node`, begun (empty) if it was not seen yet.
    #[inline]
    pub(super) fn entry(&mut self, node: NodeId) -> &mut NodeTrack {
        let position = match self.position(node) {
            Ok(position) => position,
            Err(position) => self.insert(position, node),
        };
        &mut self.0[position].1
    }

    /// Begins the track of a node first seen, at `position`.
    #[cold]
    fn insert(&mut self, position: usize, node: NodeId) -> usize {
        self.0.insert(position, (node, NodeTrack::default()));
        position
    }

    /// Forgets `node`.
    pub(super) fn remove(&mut self, node: &NodeId) {
        if let Ok(position) = self.position(*node) {
            self.0.remove(position);
        }
    }

    /// The ids of the nodes seen, in increasing order.
    pub(super) fn keys(&self) -> impl Iterator<Item = &NodeId> {
        self.0.iter().map(|(id, _)| id)
    }

    pub(super) fn values(&self) -> impl Iterator<Item = &NodeTrack> {
        self.0.iter().map(|(_, track)| track)
    }

    pub(super) fn values_mut(&mut self) -> impl Iterator<Item = &mut NodeTrack> {
        self.0.iter_mut().map(|(_, track)| track)
    }
}

impl Index<&NodeId> for Tracks {
    type Output = NodeTrack;

    /// The track of a node known to have been seen.
    fn index(&self, node: &NodeId) -> &NodeTrack {
        self.get(node).expect("a node the checker has seen")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_stay_sorted_by_id_and_are_found_again() {
        let mut tracks = Tracks::default();
        for node in [3, 1, 7, 2, 0] {
            tracks.entry(node).durable_term = node * 10;
        }
        tracks.entry(3).snapshot_index = 5;
        assert_eq!(tracks.keys().copied().collect::<Vec<_>>(), [0, 1, 2, 3, 7]);
        tracks.remove(&0);
        assert_eq!(tracks[&3].durable_term, 30);
        assert_eq!(tracks[&3].snapshot_index, 5);
        tracks.remove(&2);
        tracks.remove(&9);
        assert!(tracks.get(&2).is_none());
        assert_eq!(tracks.keys().copied().collect::<Vec<_>>(), [1, 3, 7]);
        assert_eq!(tracks.values().map(|t| t.durable_term).sum::<u64>(), 110);
    }
}
