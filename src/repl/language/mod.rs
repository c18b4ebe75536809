//! The command language.

pub mod command;
mod error;
pub mod parse;
mod parse_net_client_script;
mod resolve;
pub mod table;
pub mod token;
