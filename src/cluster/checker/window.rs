//! Values kept by log index for as long as a rule could still read them.
//!
//! The checker's tables grow by one value per entry (each node's mirror, the entries seen,
//! committed and applied). Once every node has compacted its log past an index, no node
//! will append, apply or commit there again, so the values there can go: an
//! [`IndexWindow`] lets the front go and keeps only the value just before what it holds,
//! which, being a hash chain, still stands for the whole prefix that went.

use crate::raft::Index;

/// Values by log index (from 1), of which those before [`IndexWindow::first`] were let go.
///
/// Invariant: `values[i]` is the value at index `first + i`; `before`, when known, is the
/// value at `first - 1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct IndexWindow<T> {
    first: Index,
    values: Vec<T>,
    before: Option<T>,
}

impl<T> Default for IndexWindow<T> {
    fn default() -> Self {
        IndexWindow {
            first: 1,
            values: Vec::new(),
            before: None,
        }
    }
}

/// Let go of the front only when it is at least this long (and at least half of what is
/// held), so that each value is moved a bounded number of times.
const FORGET_AT_LEAST: usize = 4096;

impl<T: Copy> IndexWindow<T> {
    /// A window whose values start at `first`, after `before` (the value at `first - 1`).
    pub fn starting_at(first: Index, before: Option<T>) -> IndexWindow<T> {
        IndexWindow {
            first: first.max(1),
            values: Vec::new(),
            before,
        }
    }

    /// The lowest index whose value is held.
    pub fn first(&self) -> Index {
        self.first
    }

    /// The index after the last value held (or after those let go).
    pub fn end(&self) -> Index {
        self.first + self.values.len() as Index
    }

    /// The value at `index`, if it is held.
    pub fn get(&self, index: Index) -> Option<T> {
        let position = index.checked_sub(self.first)?;
        self.values.get(position as usize).copied()
    }

    /// The value at `first - 1`: the last one let go, if any was.
    pub fn before(&self) -> Option<T> {
        self.before
    }

    /// The value at `index`, held or the last let go.
    pub fn at(&self, index: Index) -> Option<T> {
        if index + 1 == self.first {
            return self.before;
        }
        self.get(index)
    }

    /// The value at `index`, mutable, if it is held.
    pub fn get_mut(&mut self, index: Index) -> Option<&mut T> {
        let position = index.checked_sub(self.first)?;
        self.values.get_mut(position as usize)
    }

    /// The last value: the last held, else the last let go.
    pub fn last(&self) -> Option<T> {
        self.values.last().copied().or(self.before)
    }

    /// Adds the value at [`IndexWindow::end`].
    pub fn push(&mut self, value: T) {
        self.values.push(value);
    }

    /// Keeps only the values before `index`. Values already let go stay gone.
    pub fn truncate_from(&mut self, index: Index) {
        let keep = index.saturating_sub(self.first) as usize;
        self.values.truncate(keep);
    }

    /// Holds values up to `index`, filling any gap before it with `fill`.
    pub fn extend_to(&mut self, index: Index, fill: T) {
        if index >= self.end() {
            let len = (index - self.first + 1) as usize;
            self.values.resize(len, fill);
        }
    }

    /// The values from `first` up to and including `last`, as a window of their own.
    pub fn prefix_to(&self, last: Index) -> IndexWindow<T> {
        let keep = (last + 1).saturating_sub(self.first) as usize;
        IndexWindow {
            first: self.first,
            values: self.values[..keep.min(self.values.len())].to_vec(),
            before: self.before,
        }
    }

    /// Lets go of the values before `index`, once enough of them have gathered to be worth
    /// moving the rest; returns whether it did.
    pub fn forget_before(&mut self, index: Index) -> bool {
        let count = index.saturating_sub(self.first) as usize;
        let count = count.min(self.values.len());
        if count == 0 || count < FORGET_AT_LEAST.max(self.values.len() / 2) {
            return false;
        }
        self.before = Some(self.values[count - 1]);
        self.values.drain(..count);
        self.first += count as Index;
        true
    }

    /// The values held, from `first` on.
    pub fn iter(&self) -> impl Iterator<Item = (Index, T)> + '_ {
        (self.first..).zip(self.values.iter().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(count: u64) -> IndexWindow<u64> {
        let mut window = IndexWindow::default();
        for value in 1..=count {
            window.push(value * 10);
        }
        window
    }

    #[test]
    fn values_are_read_by_index_from_one() {
        let window = window(3);
        assert_eq!(window.get(0), None);
        assert_eq!(window.get(1), Some(10));
        assert_eq!(window.get(3), Some(30));
        assert_eq!(window.get(4), None);
        assert_eq!(
            (window.first(), window.end(), window.last()),
            (1, 4, Some(30))
        );
    }

    #[test]
    fn a_short_front_is_kept_until_it_is_worth_moving() {
        let mut window = window(10);
        assert!(!window.forget_before(5));
        assert_eq!(window.get(1), Some(10));
    }

    #[test]
    fn a_forgotten_front_keeps_its_last_value_and_the_indexes() {
        let count = 3 * FORGET_AT_LEAST as u64;
        let mut window = window(count);
        let cut = 2 * FORGET_AT_LEAST as u64 + 1;
        assert!(window.forget_before(cut));
        assert_eq!(window.first(), cut);
        assert_eq!(window.get(cut - 1), None);
        assert_eq!(window.before(), Some((cut - 1) * 10));
        assert_eq!(window.get(cut), Some(cut * 10));
        assert_eq!(window.end(), count + 1);
        window.truncate_from(1);
        assert_eq!(window.last(), Some((cut - 1) * 10));
        assert_eq!(window.end(), cut);
    }

    #[test]
    fn a_gap_is_filled_and_a_prefix_copied() {
        let mut window = window(2);
        window.extend_to(5, 0);
        assert_eq!(window.get(4), Some(0));
        assert_eq!(window.end(), 6);
        let prefix = window.prefix_to(2);
        assert_eq!(prefix.end(), 3);
        assert_eq!(prefix.last(), Some(20));
    }
}
