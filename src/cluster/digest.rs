//! A cheap 64-bit hasher for the checker's digests and the hash maps of the hot paths.

use std::hash::Hasher;

/// A 64-bit digest of values, a word at a time (a rotate, an xor and a multiply). Much
/// cheaper than the standard library's SipHash, which the checker paid for every entry on
/// every node, and the network on every message id; it needs no defence against chosen inputs, only that two different logs
/// almost never digest alike.
#[derive(Default)]
pub(crate) struct Digest(u64);

impl Digest {
    const K: u64 = 0x517c_c1b7_2722_0a95;

    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::K);
    }
}

impl Hasher for Digest {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 56));
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.mix(value);
    }

    fn write_usize(&mut self, value: usize) {
        self.mix(value as u64);
    }

    fn finish(&self) -> u64 {
        // A last round so that the final word reaches every bit.
        (self.0 ^ (self.0 >> 29)).wrapping_mul(Self::K)
    }
}
