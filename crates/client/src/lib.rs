#![doc = include_str!("../README.md")]

// The generated code names hand-written types by absolute path (`::ccsqm_client::Secret`), so that
// the same paths work in the generated mocks of `ccsqm-httpmock`.
extern crate self as ccsqm_client;

mod adaptive;
mod auth;
mod body_limit;
mod error;
#[allow(clippy::all, missing_docs, unused)]
mod generated;
mod page_info;
mod paging;
mod raw;
mod record;
mod retry;
mod secret;
mod session;
/// The facts of the spec: operations, fields and enumerations (generated).
#[allow(missing_docs)]
pub mod spec;
mod spec_types;

pub use adaptive::MAX_CONCURRENCY;
pub use auth::{DEFAULT_TOKEN_LIFETIME, MAX_TOKEN_LIFETIME, TOKEN_REFRESH_MARGIN};
pub use body_limit::DEFAULT_MAX_BODY_SIZE;
pub use error::{vendor_guidance, ApiError, ErrorKind};
pub use generated::*;
pub use page_info::Paging;
pub use paging::{CallStream, PagingWarning};
pub use raw::RawResponse;
pub use record::CallRecord;
pub use retry::RetryPolicy;
pub use secret::Secret;
pub use session::{BuildError, ClientBuilder, Session, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT};
