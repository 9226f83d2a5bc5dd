#![doc = include_str!("../README.md")]

// The generated code names hand-written types by absolute path (`::ccsqm_client::Secret`), so that
// the same paths work in the generated mocks of `ccsqm-httpmock`.
extern crate self as ccsqm_client;

mod auth;
mod client_builder;
mod error;
#[allow(clippy::all, missing_docs, unused)]
mod generated;
mod hooks;
mod paging;
mod record;
mod retry;
mod secret;
mod server_text;
mod session;
mod url_policy;

pub use auth::{IssuedToken, DEFAULT_TOKEN_LIFETIME, MAX_TOKEN_LIFETIME, TOKEN_REFRESH_MARGIN};
pub use client_builder::{BuildError, ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT};
pub use error::{vendor_guidance, ApiError, ErrorKind};
pub use generated::*;
pub use paging::{CallStream, PagingWarning};
pub use record::CallRecord;
pub use retry::RetryPolicy;
pub use secret::Secret;
pub use server_text::{is_unsafe_for_terminal, redact, visible, REDACTED};
pub use session::Session;
