//! The cluster's digests and hot hash maps use the crate's one hasher ([`crate::digest`]).

pub(crate) use crate::digest::{Digest, chain, entry_digest};
