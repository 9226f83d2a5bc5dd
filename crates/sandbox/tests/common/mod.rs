//! Helpers of the sandbox's end-to-end tests.
#![allow(dead_code)]

use std::collections::HashSet;
use std::num::NonZeroU64;

use ccsqm_client::types::{AppraisecallDetailsRequest, AppraisecallDetailsResponse, Call};
use ccsqm_sandbox::{Anchor, DataSet, Sandbox};

/// Every documented inspection status (from the spec).
pub fn all_statuses() -> impl Iterator<Item = i64> {
    ccsqm_client::spec::enums::INSPECTION_STATUS.codes()
}

/// The anchor the tests pin, so that calls fall at fixed times (from `FIRST_CALL_TIME`).
pub const ANCHOR: Anchor = Anchor::EARLIEST;

/// A sandbox of `calls` generated calls, seed 3, at [`ANCHOR`].
pub async fn sandbox(calls: usize) -> Sandbox {
    Sandbox::builder()
        .calls(calls)
        .seed(3)
        .anchor(ANCHOR)
        .start()
        .await
        .expect("the sandbox starts")
}

/// A request matching every call: both types, every status, no bound, page 1 of `limit`.
pub fn all(limit: u64) -> AppraisecallDetailsRequest {
    AppraisecallDetailsRequest::every_call(NonZeroU64::new(limit).expect("a limit of 1 or more"))
}

pub fn page(mut request: AppraisecallDetailsRequest, page: u64) -> AppraisecallDetailsRequest {
    request.page = NonZeroU64::new(page).unwrap();
    request
}

/// Sends one request through the generated client.
pub async fn send(
    client: &ccsqm_client::Client,
    request: &AppraisecallDetailsRequest,
) -> AppraisecallDetailsResponse {
    client
        .details()
        .body(request.clone())
        .send()
        .await
        .expect("the query succeeds")
        .into_inner()
}

/// Every call matching `request`, over all pages, in the order served; and the total reported.
pub async fn fetch_all(
    client: &ccsqm_client::Client,
    request: &AppraisecallDetailsRequest,
) -> (Vec<Call>, i64) {
    let mut calls = Vec::new();
    let mut total = 0;
    for n in 1.. {
        let response = send(client, &page(request.clone(), n)).await;
        total = response.paging.and_then(|p| p.total).unwrap_or(-1);
        let before = calls.len();
        calls.extend(response.data.into_iter().flat_map(|g| g.calls));
        if calls.len() == before {
            break;
        }
    }
    (calls, total)
}

pub fn uuids(calls: &[Call]) -> Vec<String> {
    calls
        .iter()
        .map(|c| c.call_uuid.clone().unwrap_or_default())
        .collect()
}

/// The calls of `data` matching `request`, by a naive reading of the spec's field descriptions
/// (an oracle independent of the sandbox's query engine), as a set of UUIDs.
pub fn expected(data: &DataSet, request: &AppraisecallDetailsRequest) -> HashSet<String> {
    let types: Vec<i64> = request.call_types.iter().map(|t| **t).collect();
    let statuses: Vec<i64> = request.status.iter().map(|s| **s).collect();
    (0..data.len())
        .filter_map(|i| {
            let call = data.call(i)?;
            let time = call.call_time?;
            let upload = call.upload_time?;
            let duration = call.duration?;
            let dialog = data.dialog(i)?.to_lowercase();
            let name = call.staff_name.clone()?.to_lowercase();
            let keep = types.contains(&call.call_type?)
                && statuses.contains(&call.status?)
                && request.call_from.is_none_or(|b| time >= b)
                && request.call_to.is_none_or(|b| time <= b)
                && request.upload_from.is_none_or(|b| upload >= b)
                && request.upload_to.is_none_or(|b| upload <= b)
                && request.duration_min.is_none_or(|b| duration >= b as f64)
                && request.duration_max.is_none_or(|b| duration <= b as f64)
                && request
                    .staff_id
                    .as_ref()
                    .is_none_or(|id| call.staff_id.as_ref() == Some(id))
                && request
                    .staff_name
                    .as_ref()
                    .is_none_or(|n| name.contains(&n.to_lowercase()))
                // A keyword is searched in the transcript: a call without one has no text
                // (and every text, even none, contains the empty keyword).
                && request.keyword.as_ref().is_none_or(|k| {
                    k.is_empty()
                        || (ccsqm_sandbox::has_transcript(call.call_type, call.status)
                            && dialog.contains(&k.to_lowercase()))
                });
            keep.then(|| call.call_uuid.unwrap_or_default())
        })
        .collect()
}
