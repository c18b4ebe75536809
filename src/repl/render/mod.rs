//! The renderers.

pub mod bench_output;
pub mod check_output;
pub mod export;
pub mod view;
pub mod words;
