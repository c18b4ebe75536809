//! Completion and hints for the REPL, from the command table.
