//! Tests of the REPL: the binary driven through piped stdin, and sessions driven through
//! the library, in virtual or paused time (no sleeps).

mod class;
mod export;
mod golden;
mod piped;
mod random_lines;
mod replay;
mod scale;
mod terminal;
mod watch;
mod watch_pty;
