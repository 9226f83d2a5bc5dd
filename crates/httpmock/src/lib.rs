//! Typed [`httpmock`] mocks of the CCSQM API, generated from `spec/ccsqm.yaml` by
//! `cargo xtask codegen`: one method per operation on [`MockServerExt`], whose `when` and
//! `then` accept the API's own types, so a mock cannot drift from the spec that the client is
//! generated from.
//!
//! For the tests of any service that calls CCSQM through `ccsqm-client`:
//!
//! ```
//! use ccsqm_client::{types::AppraisecallDetailsResponse, Client};
//! use ccsqm_httpmock::{httpmock::MockServer, MockServerExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let server = MockServer::start_async().await;
//! let page: AppraisecallDetailsResponse =
//!     serde_json::from_str(r#"{"paging": {"total": 0}, "data": []}"#).unwrap();
//! let mock = server.appraisecall_details(|when, then| {
//!     when.x_user_id("1611917095665261978");
//!     then.ok(&page);
//! });
//!
//! let client = Client::builder(&server.base_url())
//!     .bearer_token("a token")
//!     .user_id("1611917095665261978")
//!     .build()
//!     .unwrap();
//! let body = serde_json::from_str::<ccsqm_client::types::AppraisecallDetailsRequest>(
//!     r#"{"call_types": [0, 2], "status": [2], "limit": 10, "page": 1,
//!         "upload_from": null, "upload_to": null}"#,
//! )
//! .unwrap();
//! let got = client.details().body(body).send().await.unwrap();
//! mock.assert();
//! assert_eq!(got.into_inner(), page);
//! # }
//! ```
//!
//! Beyond the spec's own answers, every operation's `then` answers the statuses the client
//! retries, with an optional `Retry-After` (`too_many_requests`, `bad_gateway`,
//! `service_unavailable`, `gateway_timeout`), and every `when` matches part of a JSON body
//! (`body_includes`), e.g. the statuses asked for, whatever the page:
//!
//! ```
//! use std::time::Duration;
//! use ccsqm_httpmock::{httpmock::MockServer, MockServerExt};
//!
//! let server = MockServer::start();
//! let busy = server.appraisecall_details(|when, then| {
//!     when.body_includes(&serde_json::json!({"status": [9]}));
//!     then.service_unavailable(Some(Duration::from_secs(2)));
//! });
//! # let _ = busy;
//! ```
//!
//! `when.into_inner()` and `then.into_inner()` give the plain `httpmock` builders, to match or
//! answer what the spec does not describe (an HTML error page, a truncated body).
//!
//! The crate re-exports [`httpmock`] (`ccsqm_httpmock::httpmock::MockServer`): a test uses the
//! very version the mocks are built for, with no version to match by hand.

#[allow(clippy::all, unused)]
mod generated;

pub use generated::*;
pub use httpmock;
