//! A node's copy of the replicated log, in memory.

use super::{Entry, Index, Term};

/// The entries of one node's log, indexed from 1, after the entries a snapshot replaced.
///
/// A log compacted by a snapshot knows the entries up to `snapshot_index` only by the
/// index and term of the last of them (`snapshot_term`); it holds the entries after it.
///
/// Invariant: `entries[i].index == snapshot_index + i + 1`, and terms never decrease along
/// the log, starting from `snapshot_term`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RaftLog {
    /// The last index the snapshot covers; 0 for a log never compacted.
    snapshot_index: Index,
    /// The term of the entry at `snapshot_index`; 0 when that index is 0.
    snapshot_term: Term,
    entries: Vec<Entry>,
}

impl RaftLog {
    /// A log holding `entries`, which must be numbered from 1 with non-decreasing terms.
    pub fn from_entries(entries: Vec<Entry>) -> RaftLog {
        let log = RaftLog {
            snapshot_index: 0,
            snapshot_term: 0,
            entries,
        };
        log.assert_well_formed();
        log
    }

    fn assert_well_formed(&self) {
        for (position, entry) in self.entries.iter().enumerate() {
            assert_eq!(
                entry.index,
                self.snapshot_index + position as Index + 1,
                "log entries must be numbered on from the snapshot"
            );
        }
        if let Some(first) = self.entries.first() {
            assert!(
                first.term >= self.snapshot_term,
                "log terms must not decrease"
            );
        }
        for pair in self.entries.windows(2) {
            assert!(pair[0].term <= pair[1].term, "log terms must not decrease");
        }
    }

    /// The index of the last entry (or of the snapshot's last), 0 when the log is empty.
    pub fn last_index(&self) -> Index {
        self.snapshot_index + self.entries.len() as Index
    }

    /// The term of the last entry (or of the snapshot's last), 0 when the log is empty.
    pub fn last_term(&self) -> Term {
        self.entries
            .last()
            .map_or(self.snapshot_term, |entry| entry.term)
    }

    /// The last index the snapshot covers: 0 for a log never compacted.
    pub fn snapshot_index(&self) -> Index {
        self.snapshot_index
    }

    /// The term of the snapshot's last entry: 0 for a log never compacted.
    pub fn snapshot_term(&self) -> Term {
        self.snapshot_term
    }

    /// The index of the first entry the log holds: `snapshot_index + 1`.
    pub fn first_index(&self) -> Index {
        self.snapshot_index + 1
    }

    /// The term of the entry at `index`: the snapshot's term at its last index (`Some(0)`
    /// for index 0), `None` before it (compacted) and past the end.
    pub fn term_at(&self, index: Index) -> Option<Term> {
        if index == self.snapshot_index {
            return Some(self.snapshot_term);
        }
        self.get(index).map(|entry| entry.term)
    }

    /// The entry at `index`, if the log holds it (not compacted, not past the end).
    pub fn get(&self, index: Index) -> Option<&Entry> {
        let offset = index.checked_sub(self.first_index())?;
        let position = usize::try_from(offset).ok()?;
        self.entries.get(position)
    }

    /// Compacts the log up to `index`, the last entry of a snapshot, of term `term`. If
    /// the log holds that entry with that term, the entries after it are kept (Log
    /// Matching: they follow the snapshot's entries); otherwise the whole log is
    /// discarded. A snapshot at or before the current one changes nothing.
    pub fn compact(&mut self, index: Index, term: Term) {
        if index <= self.snapshot_index {
            return;
        }
        if self.term_at(index) == Some(term) {
            let drop = (index - self.snapshot_index) as usize;
            self.entries.drain(..drop);
        } else {
            self.entries.clear();
        }
        self.snapshot_index = index;
        self.snapshot_term = term;
        self.assert_well_formed();
    }

    /// Feeds the log into `state`: the snapshot's last index and term and every entry.
    pub fn hash_entries<H: std::hash::Hasher>(&self, state: &mut H) {
        use std::hash::Hash;
        (self.snapshot_index, self.snapshot_term, &self.entries).hash(state);
    }

    /// All entries, in order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Up to `max` entries from `first` on (fewer at the end of the log).
    pub fn slice(&self, first: Index, max: usize) -> &[Entry] {
        assert!(first > self.snapshot_index, "slice of compacted entries");
        let start = (first - self.first_index()).min(self.entries.len() as Index) as usize;
        let end = start.saturating_add(max).min(self.entries.len());
        &self.entries[start..end]
    }

    /// Whether a log ending at `last_index`@`last_term` is at least as up to date as this
    /// one (section 5.4.1): a later last term wins, and for equal terms the longer log.
    pub fn is_up_to_date(&self, last_index: Index, last_term: Term) -> bool {
        (last_term, last_index) >= (self.last_term(), self.last_index())
    }

    /// The first index holding `term`, searching back from `from` over entries of that
    /// term. `from` must hold an entry of `term`.
    pub fn first_index_of_term_before(&self, from: Index, term: Term) -> Index {
        assert_eq!(self.term_at(from), Some(term));
        let mut index = from;
        while index > self.first_index() && self.term_at(index - 1) == Some(term) {
            index -= 1;
        }
        index
    }

    /// The last index holding `term`, if the log has any entry of that term.
    pub fn last_index_of_term(&self, term: Term) -> Option<Index> {
        // Terms never decrease, so the entries of one term are contiguous: binary search
        // for the first entry past `term`.
        let after = self.entries.partition_point(|entry| entry.term <= term);
        let candidate = self.entries.get(after.checked_sub(1)?)?;
        (candidate.term == term).then_some(candidate.index)
    }

    /// Appends `entry`, which must come right after the last entry.
    pub fn push(&mut self, entry: Entry) {
        assert_eq!(entry.index, self.last_index() + 1, "appended out of order");
        assert!(
            entry.term >= self.last_term(),
            "appended an entry of an older term"
        );
        self.entries.push(entry);
    }

    /// Appends copies of `entries` (a copy shares the command bytes), which must follow
    /// on from the last entry, numbered on with terms that do not decrease: what
    /// [`RaftLog::push`] of each would do, with the log grown once.
    pub fn extend_from_slice(&mut self, entries: &[Entry]) {
        let (mut index, mut term) = (self.last_index(), self.last_term());
        for entry in entries {
            assert_eq!(entry.index, index + 1, "appended out of order");
            assert!(entry.term >= term, "appended an entry of an older term");
            (index, term) = (entry.index, entry.term);
        }
        self.entries.extend_from_slice(entries);
    }

    /// Removes the entry at `from` and every entry after it.
    pub fn truncate_from(&mut self, from: Index) {
        assert!(
            from > self.snapshot_index,
            "truncation of compacted entries"
        );
        self.entries.truncate((from - self.first_index()) as usize);
    }

    /// The first of `entries` (which follow on from a matching entry) that is not in
    /// this log with the same term: where a follower must start appending. `None` when
    /// every one of them is already here, as when an AppendEntries is delivered twice.
    pub fn first_new(&self, entries: &[Entry]) -> Option<usize> {
        entries
            .iter()
            .position(|entry| self.term_at(entry.index) != Some(entry.term))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::Payload;

    fn entries(first: Index, terms: &[Term]) -> Vec<Entry> {
        (first..)
            .zip(terms)
            .map(|(index, &term)| Entry {
                index,
                term,
                payload: Payload::Command(index.to_le_bytes().to_vec().into()),
            })
            .collect()
    }

    #[test]
    fn extending_appends_as_pushing_each_does() {
        let mut pushed = RaftLog::from_entries(entries(1, &[1, 1]));
        let mut extended = pushed.clone();
        let more = entries(3, &[1, 2, 2]);
        for entry in &more {
            pushed.push(entry.clone());
        }
        extended.extend_from_slice(&more);
        extended.extend_from_slice(&[]);
        assert_eq!(extended, pushed);
        assert_eq!((extended.last_index(), extended.last_term()), (5, 2));
    }

    #[test]
    fn extending_after_a_compaction_numbers_on_from_the_snapshot() {
        let mut log = RaftLog::from_entries(entries(1, &[1, 1, 2]));
        log.compact(3, 2);
        log.extend_from_slice(&entries(4, &[2, 3]));
        assert_eq!((log.first_index(), log.last_index()), (4, 5));
        assert_eq!(log.term_at(5), Some(3));
    }

    #[test]
    #[should_panic(expected = "appended out of order")]
    fn extending_with_a_gap_is_refused() {
        let mut log = RaftLog::from_entries(entries(1, &[1]));
        log.extend_from_slice(&entries(3, &[1]));
    }

    #[test]
    #[should_panic(expected = "appended out of order")]
    fn extending_with_entries_out_of_order_is_refused() {
        let mut log = RaftLog::from_entries(entries(1, &[1]));
        let mut more = entries(2, &[1, 1]);
        more.swap(0, 1);
        log.extend_from_slice(&more);
    }

    #[test]
    #[should_panic(expected = "appended an entry of an older term")]
    fn extending_with_an_older_term_is_refused() {
        let mut log = RaftLog::from_entries(entries(1, &[2]));
        log.extend_from_slice(&entries(2, &[2, 1]));
    }
}
