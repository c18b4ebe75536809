//! The digests of the entries seen lately, so that each client command is digested once,
//! not once per node that appends it and again per node that applies it.
//!
//! Every node's copy of an entry shares its command's bytes with the leader's (a
//! [`Command`] is shared, not copied), so the same bytes at the same index and term are
//! the same entry: the cache knows an entry by its index, its term and the address of its
//! command, and holds a reference to the command, so that the address cannot be reused by
//! other bytes while the cache remembers it. An entry the cache does not know (a noop, a
//! configuration entry, a command pushed out by a later index) is digested in full, to the
//! same digest: the cache changes what is computed, never what comes out.

use std::sync::Arc;

use crate::raft::{Command, Entry, Index, Payload, Term};

use super::{chain, digest};

/// How many entries the cache remembers, by index modulo this: enough to span the entries
/// between the leader's appends and the last node's applies in a busy cluster.
const SLOTS: usize = 4096;

/// A remembered entry: its digest and the last hash chain built on it.
#[derive(Clone, Debug)]
struct Slot {
    index: Index,
    term: Term,
    command: Command,
    digest: u64,
    /// The hash chain of the prefix before the entry, and the chain with the entry, once
    /// one was built.
    chained: Option<(u64, u64)>,
}

/// The cache: a slot per index modulo [`SLOTS`], allocated at the first command.
#[derive(Clone, Debug, Default)]
pub(super) struct DigestCache {
    slots: Vec<Option<Slot>>,
}

impl DigestCache {
    /// The slot that remembers `entry`, if it does.
    fn slot(&mut self, entry: &Entry) -> Option<&mut Slot> {
        let Payload::Command(command) = &entry.payload else {
            return None;
        };
        let slot = self.slots.get_mut(entry.index as usize % SLOTS)?.as_mut()?;
        let known = slot.index == entry.index
            && slot.term == entry.term
            && Arc::ptr_eq(&slot.command, command);
        known.then_some(slot)
    }

    /// Remembers `entry` (a command) with its digest and a chain built on it.
    fn remember(&mut self, entry: &Entry, digest: u64, chained: Option<(u64, u64)>) {
        let Payload::Command(command) = &entry.payload else {
            return;
        };
        if self.slots.is_empty() {
            self.slots.resize(SLOTS, None);
        }
        self.slots[entry.index as usize % SLOTS] = Some(Slot {
            index: entry.index,
            term: entry.term,
            command: command.clone(),
            digest,
            chained,
        });
    }

    /// The digest of `entry` ([`super::digest`]).
    pub(super) fn digest(&mut self, entry: &Entry) -> u64 {
        if let Some(slot) = self.slot(entry) {
            return slot.digest;
        }
        let digest = digest(entry);
        self.remember(entry, digest, None);
        digest
    }

    /// The hash chain of a log whose entries before `entry` have the chain `previous`
    /// ([`super::chain`]).
    pub(super) fn chain(&mut self, previous: u64, entry: &Entry) -> u64 {
        match self.slot(entry) {
            Some(slot) => match slot.chained {
                Some((before, hash)) if before == previous => hash,
                _ => {
                    let hash = chain(previous, slot.digest);
                    slot.chained = Some((previous, hash));
                    hash
                }
            },
            None => {
                let digest = digest(entry);
                let hash = chain(previous, digest);
                self.remember(entry, digest, Some((previous, hash)));
                hash
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(index: Index, term: Term, bytes: &[u8]) -> Entry {
        Entry {
            index,
            term,
            payload: Payload::Command(Arc::from(bytes)),
        }
    }

    #[test]
    fn digests_and_chains_are_those_computed_in_full() {
        let mut cache = DigestCache::default();
        let entry = command(5, 2, b"put k1 v1");
        let noop = Entry {
            index: 6,
            term: 2,
            payload: Payload::Noop,
        };
        for _ in 0..2 {
            assert_eq!(cache.digest(&entry), digest(&entry));
            assert_eq!(cache.chain(7, &entry), chain(7, digest(&entry)));
            assert_eq!(cache.chain(8, &entry), chain(8, digest(&entry)));
            assert_eq!(cache.chain(9, &noop), chain(9, digest(&noop)));
        }
    }

    #[test]
    fn other_bytes_at_the_same_index_and_term_are_digested_anew() {
        let mut cache = DigestCache::default();
        let first = command(5, 2, b"put k1 v1");
        let other = command(5, 2, b"put k1 v2");
        let same_bytes = command(5, 2, b"put k1 v1");
        assert_eq!(cache.chain(0, &first), chain(0, digest(&first)));
        assert_eq!(cache.chain(0, &other), chain(0, digest(&other)));
        assert_ne!(cache.digest(&first), cache.digest(&other));
        assert_eq!(cache.digest(&same_bytes), digest(&first));
        let later = command(5 + SLOTS as Index, 3, b"put k1 v1");
        assert_eq!(cache.digest(&later), digest(&later));
        assert_eq!(cache.digest(&first), digest(&first));
    }
}
