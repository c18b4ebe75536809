//! Integration tests of the cluster, in virtual time (and one in real time).

mod basics;
