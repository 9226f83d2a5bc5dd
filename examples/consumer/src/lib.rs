//! An example service that uses `ccsqm-client`: it counts the inspected calls of a time
//! window by inspection status and by call type. Its tests (`tests/three_ways.rs`) show how a
//! service tests such code: against `ccsqm-httpmock`'s typed mocks, against an in-process
//! `ccsqm-sandbox`, and against the sandbox's injected faults.

use std::collections::BTreeMap;
use std::num::NonZeroU64;

use ccsqm_client::types::AppraisecallDetailsRequest;
use ccsqm_client::{ApiError, Client};
use futures_util::StreamExt;

/// Calls asked for on each page.
const PAGE_SIZE: u64 = 100;

/// The calls of a window, counted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallSummary {
    /// Every call of the window.
    pub total: u64,
    /// Calls per inspection status code (`status`; a call without one is not counted here).
    pub by_status: BTreeMap<i64, u64>,
    /// Calls per call type code (`call_type`; a call without one is not counted here).
    pub by_call_type: BTreeMap<i64, u64>,
}

/// Why a summary could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    /// The request could not be built (a bound the API cannot take).
    #[error("building the request: {0}")]
    Request(String),
    /// The API failed, or its pages did not add up (the summary is never partial).
    #[error(transparent)]
    Api(#[from] ApiError),
}

/// Counts every call made from `call_from` to `call_to` (Unix seconds), of every call type and
/// inspection status the API knows, reading every page.
pub async fn summarize(
    client: &Client,
    call_from: i64,
    call_to: i64,
) -> Result<CallSummary, SummaryError> {
    let request = window_request(call_from, call_to)?;
    let mut summary = CallSummary::default();
    let mut calls = client.calls(request).concurrency(2);
    while let Some(record) = calls.next().await {
        let call = record?.call;
        summary.total += 1;
        if let Some(status) = call.status {
            *summary.by_status.entry(status).or_default() += 1;
        }
        if let Some(call_type) = call.call_type {
            *summary.by_call_type.entry(call_type).or_default() += 1;
        }
    }
    Ok(summary)
}

/// The request for every call of the window: every call type and status of the spec.
fn window_request(
    call_from: i64,
    call_to: i64,
) -> Result<AppraisecallDetailsRequest, SummaryError> {
    let mut request = AppraisecallDetailsRequest::every_call(
        NonZeroU64::new(PAGE_SIZE).unwrap_or(NonZeroU64::MIN),
    );
    request.call_from = Some(call_from);
    request.call_to = Some(call_to);
    Ok(request)
}

/// `docs/library.md` of the workspace: its Rust examples are compiled as this crate's doctests
/// (`cargo test -p ccsqm-consumer-example --doc`), so that the page's complete program cannot
/// rot.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/library.md")]
pub struct LibraryDocs;
