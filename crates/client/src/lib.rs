#![doc = include_str!("../README.md")]

// The generated code names hand-written types by absolute path (`::ccsqm_client::Secret`), so that
// the same paths work in the generated mocks of `ccsqm-httpmock`.
extern crate self as ccsqm_client;

mod adaptive;
mod auth;
mod body_limit;
mod client_builder;
mod details_request;
mod drift;
mod error;
#[allow(clippy::all, missing_docs, unused)]
mod generated;
mod hooks;
pub use hooks::REQUEST_TARGET;
mod page_info;
mod paging;
mod raw;
mod record;
mod retry;
mod secret;
mod server_text;
mod session;
/// The facts of the spec: operations, fields and enumerations (generated).
#[allow(missing_docs)]
pub mod spec;
mod spec_types;
mod tls;
mod transcripts;
mod url_policy;

pub use adaptive::MAX_CONCURRENCY;
pub use auth::{IssuedToken, DEFAULT_TOKEN_LIFETIME, MAX_TOKEN_LIFETIME, TOKEN_REFRESH_MARGIN};
pub use body_limit::DEFAULT_MAX_BODY_SIZE;
pub use client_builder::{
    BuildError, ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, USER_AGENT,
};
pub use drift::{
    call_enumeration, Drift, DriftFinding, DriftUnit, ScannedPage, UnknownField, UnknownValue,
    DRIFT_TARGET, MAX_FINDINGS,
};
pub use error::{vendor_guidance, ApiError, ErrorKind};
pub use generated::*;
pub use page_info::Paging;
pub use paging::{server_date, CallStream, PagingWarning};
pub use raw::{RawResponse, SessionHeader};
pub use record::CallRecord;
pub use retry::RetryPolicy;
pub use secret::Secret;
pub use server_text::{is_unsafe_for_terminal, redact, visible, REDACTED};
pub use session::Session;
pub use spec::{API_TITLE, API_VERSION};
pub use transcripts::{TranscriptStream, WithTranscript};

// Third-party crates whose types appear in the public API, re-exported so that a service uses
// the very versions this crate was built with (see "Versions of what you depend on" in the
// crate docs).
pub use futures_util;
pub use http;
pub use progenitor_client;
pub use reqwest;
#[cfg(feature = "schemars")]
pub use schemars;

#[cfg(test)]
mod version_tests {
    /// The crate's version carries the spec's `info.version` as build metadata
    /// (`0.1.0+api.1.0.0`), so that a dependency's version says which API it speaks.
    #[test]
    fn crate_version_names_the_spec_version() {
        let version = env!("CARGO_PKG_VERSION");
        let metadata = version.split_once('+').map(|(_, m)| m);
        assert_eq!(
            metadata,
            Some(format!("api.{}", crate::API_VERSION).as_str()),
            "the workspace's version {version} must end in +api.{} (spec/ccsqm.yaml's \
             info.version): set it in the root Cargo.toml",
            crate::API_VERSION
        );
    }
}
