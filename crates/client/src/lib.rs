#![doc = include_str!("../README.md")]

// The generated code names hand-written types by absolute path (`::ccsqm_client::Secret`), so that
// the same paths work in the generated mocks of `ccsqm-httpmock`.
extern crate self as ccsqm_client;

#[allow(clippy::all, missing_docs, unused)]
mod generated;
mod secret;
mod session;

pub use generated::*;
pub use secret::Secret;
pub use session::{BuildError, ClientBuilder, Session, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT};
