//! The cluster: nodes on threads, the simulated network, the clock, clients.
pub mod kv;
pub mod linearizability;
