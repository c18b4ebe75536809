//! Seeds for every random choice, derived from one seed: the cluster's (its nodes, its
//! network, the election experiment's trials), `raftlab check`'s (each seed's shape, setup
//! and schedule), `raftlab explore`'s (its workers and walks), `raftlab host`'s clients,
//! and the core's test harness. Each purpose is a named stream below, so that two
//! purposes never draw from the same numbers.

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
/// The stream of the election experiment's trials (index: the range's low end).
pub const EXPERIMENT_TRIAL: u64 = 0x0046_4947_3136;
/// The stream of a `check` seed's swarm shape (index 0).
pub const CHECK_SHAPE: u64 = 3;
/// The stream of a `check` seed's fixed setup under `--no-swarm` (index 0).
pub const CHECK_SETUP: u64 = 4;
/// The stream of a `check` seed's schedule of client operations and faults (index 0).
pub const CHECK_SCHEDULE: u64 = 5;
/// The stream of an `explore` depth-first worker's action order (index: the worker).
pub const EXPLORE_WORKER: u64 = 6;
/// The stream of an `explore` random walk (index: the walk).
pub const EXPLORE_WALK: u64 = 7;
/// The stream of `raftlab host`'s clients and nemesis (index 0).
pub const HOST_CLIENTS: u64 = 8;

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
