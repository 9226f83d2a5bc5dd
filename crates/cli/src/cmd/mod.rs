//! One module per command: each gets its parsed flags (and what it needs: the flags' sources,
//! `-q`) and returns an error that `crate::exit` classes. No command imports another; they
//! share the leaf modules beside `cmd/` (connection, output, request flags, files, signals).

pub mod api;
pub mod completions;
pub mod config_show;
pub mod configure;
pub mod details;
pub mod man;
pub mod sandbox;
pub mod schema;
pub mod sync;
pub mod token;
pub mod transcript;
