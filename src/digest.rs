//! The one 64-bit hasher of raftlab: the checker's hash chains of logs
//! ([`crate::cluster::checker`]), the hash maps of the hot paths (the network's messages,
//! the bench's operations, the linearizability search's cache of configurations), and the
//! model checker's state fingerprints ([`crate::explore`]).
//!
//! None of them needs a defence against chosen inputs (the standard library's SipHash
//! pays for one on every word); all of them need two different values to almost never
//! digest alike, the fingerprints most: a 64-bit fingerprint is only as good as its
//! spread (at ten million states, a good one collides with odds of about one in a hundred
//! thousand). So every word goes through SplitMix64's finalizer, in which every input bit
//! reaches every output bit: a few nanoseconds a word.

use std::hash::{BuildHasherDefault, Hash, Hasher};

use crate::raft::Entry;

/// A 64-bit digest of values, a word at a time, each fully mixed in.
#[derive(Clone, Copy, Default)]
pub struct Digest(u64);

/// A `HashMap` hasher builder for [`Digest`].
pub type BuildDigest = BuildHasherDefault<Digest>;

/// The finalizer of SplitMix64: every input bit reaches every output bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Hasher for Digest {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        let mut word = [0; 8];
        word[..rest.len()].copy_from_slice(rest);
        self.write_u64(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 56));
    }

    fn write_u8(&mut self, value: u8) {
        self.write_u64(u64::from(value));
    }

    fn write_u32(&mut self, value: u32) {
        self.write_u64(u64::from(value));
    }

    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = mix(self.0 ^ value).wrapping_add(0x9e37_79b9_7f4a_7c15);
    }

    fn finish(&self) -> u64 {
        mix(self.0)
    }
}

/// The digest of one log entry.
pub fn entry_digest(entry: &Entry) -> u64 {
    let mut hasher = Digest::default();
    entry.hash(&mut hasher);
    hasher.finish()
}

/// The digest of a log prefix whose last entry has digest `digest` and whose entries
/// before it have the prefix digest `previous` (0 for none): a hash chain, so that equal
/// chains at an index mean equal logs up to there.
pub fn chain(previous: u64, digest: u64) -> u64 {
    let mut hasher = Digest::default();
    (previous, digest).hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_depends_on_every_entry_and_their_order() {
        let a = chain(chain(0, 1), 2);
        assert_ne!(a, chain(chain(0, 2), 1));
        assert_ne!(a, chain(chain(0, 1), 3));
        assert_eq!(a, chain(chain(0, 1), 2));
    }

    #[test]
    fn the_length_of_a_short_tail_counts() {
        let digest = |bytes: &[u8]| {
            let mut hasher = Digest::default();
            hasher.write(bytes);
            hasher.finish()
        };
        assert_ne!(digest(&[0]), digest(&[0, 0]));
        assert_ne!(digest(&[]), digest(&[0]));
    }
}
