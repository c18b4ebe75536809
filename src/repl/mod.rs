//! The command language, the REPL and scenario files.
