//! The cluster: nodes on threads, the simulated network, the clock, clients.
