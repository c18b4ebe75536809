//! The front-ends.

pub mod complete;
pub mod editor;
pub mod scenario;
pub mod shell;
pub mod watch;
