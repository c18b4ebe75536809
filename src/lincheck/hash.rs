//! The search's cache of configurations hashes with the crate's one hasher
//! ([`crate::digest`]): every step hashes a bitset of a few words and a small state, and
//! SipHash's defence against hash flooding buys nothing here (the worst a history can do
//! is make the search slow, which the budget bounds).

pub use crate::digest::{BuildDigest as BuildFastHasher, Digest as FastHasher};
