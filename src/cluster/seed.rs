//! Seeds for every random choice, derived from the one cluster seed.

/// A seed for one purpose (`stream`) and one instance of it (`index`), derived from the
/// cluster seed by SplitMix64 so that nearby inputs give unrelated seeds.
pub fn derive(cluster_seed: u64, stream: u64, index: u64) -> u64 {
    let mut x = cluster_seed;
    for part in [stream, index] {
        x = splitmix64(x ^ splitmix64(part.wrapping_add(0x9e37_79b9_7f4a_7c15)));
    }
    x
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The stream of a node's Raft RNG (index: node id and incarnation).
pub const NODE: u64 = 1;
/// The stream of the network's RNG.
pub const NETWORK: u64 = 2;

#[cfg(test)]
mod tests {
    #[test]
    fn derived_seeds_differ_by_stream_and_index() {
        let a = super::derive(7, super::NODE, 1);
        assert_ne!(a, super::derive(7, super::NODE, 2));
        assert_ne!(a, super::derive(7, super::NETWORK, 1));
        assert_ne!(a, super::derive(8, super::NODE, 1));
        assert_eq!(a, super::derive(7, super::NODE, 1));
    }
}
