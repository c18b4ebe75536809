//! Values kept by node id: a short vector sorted by id rather than a tree. A cluster has
//! a handful of nodes, numbered 1, 2, 3 ... with no gap as a rule, and the code that
//! keeps something per node (a leader's progress of each follower, the checker's track
//! of each node, the clients' sends to each node) looks a node up on nearly every step.

use std::ops::Index;

use super::NodeId;

/// Where node `id` is in `items`, sorted by strictly increasing id (`Ok`), or where it
/// would go (`Err`). Node `n` is looked for first at `n - 1`, and searched for only when
/// it is not there.
#[inline]
pub fn find_node<T>(items: &[T], id: NodeId, id_of: impl Fn(&T) -> NodeId) -> Result<usize, usize> {
    let guess = usize::try_from(id).map_or(usize::MAX, |n| n.wrapping_sub(1));
    match items.get(guess) {
        Some(item) if id_of(item) == id => Ok(guess),
        _ => items.binary_search_by_key(&id, id_of),
    }
}

/// A value for each of some nodes, in node id order. The API is the part of an ordered
/// map's that its users need.
#[derive(Clone, PartialEq, Eq)]
pub struct NodeMap<V> {
    /// Invariant: sorted by node id, each id once.
    rows: Vec<(NodeId, V)>,
}

impl<V> Default for NodeMap<V> {
    fn default() -> Self {
        NodeMap { rows: Vec::new() }
    }
}

impl<V> NodeMap<V> {
    #[inline]
    fn position(&self, node: NodeId) -> Result<usize, usize> {
        find_node(&self.rows, node, |&(id, _)| id)
    }

    #[inline]
    pub fn get(&self, node: &NodeId) -> Option<&V> {
        let position = self.position(*node).ok()?;
        Some(&self.rows[position].1)
    }

    #[inline]
    pub fn get_mut(&mut self, node: &NodeId) -> Option<&mut V> {
        let position = self.position(*node).ok()?;
        Some(&mut self.rows[position].1)
    }

    /// The value of `node`, made by `make` and added first if it has none.
    #[inline]
    pub fn get_or_insert_with(&mut self, node: NodeId, make: impl FnOnce() -> V) -> &mut V {
        let position = match self.position(node) {
            Ok(position) => position,
            Err(position) => self.insert(position, node, make()),
        };
        &mut self.rows[position].1
    }

    /// Adds a node first seen, at `position`: rare, kept out of the lookups' way.
    #[cold]
    fn insert(&mut self, position: usize, node: NodeId, value: V) -> usize {
        self.rows.insert(position, (node, value));
        position
    }

    /// Removes `node`'s value, if it has one.
    pub fn remove(&mut self, node: &NodeId) -> Option<V> {
        let position = self.position(*node).ok()?;
        Some(self.rows.remove(position).1)
    }

    /// The node at `position` in id order, if there are that many.
    pub fn key_at(&self, position: usize) -> Option<NodeId> {
        self.rows.get(position).map(|&(id, _)| id)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn keys(&self) -> impl Iterator<Item = &NodeId> {
        self.rows.iter().map(|(id, _)| id)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.rows.iter().map(|(_, value)| value)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.rows.iter_mut().map(|(_, value)| value)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&NodeId, &V)> {
        self.rows.iter().map(|(id, value)| (id, value))
    }
}

impl<V> Index<&NodeId> for NodeMap<V> {
    type Output = V;

    /// The value of a node known to have one.
    fn index(&self, node: &NodeId) -> &V {
        self.get(node).expect("no value for that node")
    }
}

/// Shown as a map.
impl<V: std::fmt::Debug> std::fmt::Debug for NodeMap<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// The map answers as an ordered map does, numbered without gaps or not: ids in
    /// order, each once, each found, absent ones not.
    #[test]
    fn a_node_map_keeps_ids_in_order_and_finds_each() {
        for size in [0, 1, 4, 8, 9, 20] {
            let mut map = NodeMap::default();
            let mut model = BTreeMap::new();
            // Inserted out of order, the odd ids only, each twice: the second keeps the first.
            let ids: Vec<NodeId> = (0..size).map(|i| (i * 7 % size) * 2 + 1).collect();
            for (round, &id) in [0, 1]
                .iter()
                .flat_map(|r| ids.iter().map(move |id| (r, id)))
            {
                map.get_or_insert_with(id, || (id, *round));
                model.entry(id).or_insert((id, *round));
            }
            assert!(map.keys().eq(model.keys()), "size {size}");
            assert_eq!(map.len(), model.len());
            for id in 0..=2 * size + 1 {
                assert_eq!(map.get(&id), model.get(&id), "size {size}, id {id}");
                assert_eq!(
                    map.key_at(id as usize),
                    model.keys().nth(id as usize).copied()
                );
            }
            if let Some(&first) = model.keys().next() {
                assert_eq!(map.remove(&first), model.remove(&first));
                assert!(map.keys().eq(model.keys()));
                assert_eq!(map.get(&first), None);
                assert_eq!(map.remove(&first), None);
            }
        }
        // Numbered 1, 2, 3 ...: each where its guess puts it.
        let mut map = NodeMap::default();
        for id in [3, 1, 2, 5] {
            *map.get_or_insert_with(id, || 0) += id;
        }
        assert_eq!(map.values().copied().collect::<Vec<_>>(), [1, 2, 3, 5]);
        assert_eq!(map[&5], 5);
        assert_eq!(find_node(&[1, 2, 3, 5], 4, |&id| id), Err(3));
        assert_eq!(find_node(&[1, 2, 3, 5], 0, |&id| id), Err(0));
    }
}
