//! Drift through `Client::calls`: what a page holds that the spec does not describe reaches the
//! records (`CallRecord::unknown_fields`), the stream's report (`CallStream::drift`) and its
//! callback (`CallStream::on_drift`), once per finding; a page of known fields has none.

use std::sync::{Arc, Mutex};

use ccsqm_client::types::AppraisecallDetailsRequest;
use ccsqm_client::{Client, DriftFinding, DriftUnit};
use futures_util::StreamExt;
use httpmock::{Method::POST, MockServer};
use serde_json::{json, Value};

fn request(limit: u64, page: u64) -> AppraisecallDetailsRequest {
    let mut request =
        AppraisecallDetailsRequest::every_call(std::num::NonZeroU64::new(limit).unwrap());
    request.page = std::num::NonZeroU64::new(page).unwrap();
    request
}

fn client(server: &MockServer) -> Client {
    Client::builder(&server.base_url())
        .user_id("u")
        .bearer_token("a token")
        .build()
        .unwrap()
}

/// Two pages of two calls; the second call of each page has an unknown key, the last an
/// unknown status.
fn mock_pages(server: &MockServer, unknown_status: i64) {
    let path = ccsqm_client::spec::APPRAISECALL_DETAILS.path;
    for (page, calls) in [
        (
            1,
            json!([{"call_uuid": "a", "status": 2}, {"call_uuid": "b", "status": 2, "mood": "ok"}]),
        ),
        (
            2,
            json!([{"call_uuid": "c", "status": 2}, {"call_uuid": "d", "status": unknown_status, "mood": [1]}]),
        ),
    ] {
        let body = json!({
            "data": [{"call_group_id": format!("g{page}"), "calls": calls}],
            "paging": {"total": 4}
        });
        server.mock(|when, then| {
            when.method(POST)
                .path(path)
                .json_body_includes(json!({"page": page}).to_string());
            then.status(200)
                .header("content-type", "application/json")
                .body(body.to_string());
        });
    }
}

#[tokio::test]
async fn a_stream_keeps_unknown_keys_and_reports_each_finding_once() {
    let unknown_status = ccsqm_client::spec::enums::INSPECTION_STATUS
        .values
        .iter()
        .map(|v| v.code)
        .max()
        .unwrap()
        + 1;
    let server = MockServer::start_async().await;
    mock_pages(&server, unknown_status);
    let found: Arc<Mutex<Vec<DriftFinding>>> = Arc::default();
    let told = found.clone();
    let mut calls = client(&server)
        .calls(request(2, 1))
        .on_drift(move |finding| told.lock().unwrap().push(finding.clone()));
    let mut records = Vec::new();
    while let Some(record) = calls.next().await {
        records.push(record.unwrap());
    }
    let unknown: Vec<Value> = records
        .iter()
        .map(|r| Value::Object(r.unknown_fields.clone()))
        .collect();
    assert_eq!(
        unknown,
        vec![
            json!({}),
            json!({"mood": "ok"}),
            json!({}),
            json!({"mood": [1]})
        ]
    );
    assert_eq!(
        records[3].call.status,
        Some(unknown_status),
        "the code as sent"
    );
    let line = serde_json::to_value(&records[1]).unwrap();
    assert_eq!(
        line,
        json!({"call_group_id": "g1", "call_uuid": "b", "status": 2, "mood": "ok"})
    );

    let drift = calls.drift();
    assert_eq!(drift.fields.len(), 1);
    assert_eq!(
        (drift.fields[0].name.as_str(), drift.fields[0].count),
        ("mood", 2)
    );
    assert_eq!(drift.fields[0].schema, "Call");
    assert_eq!(drift.fields[0].unit, DriftUnit::Calls);
    assert_eq!(drift.values.len(), 1);
    assert_eq!(drift.values[0].field, "status");
    assert_eq!(drift.values[0].value, unknown_status.to_string());
    assert_eq!(
        drift.values[0].enumeration.as_deref(),
        Some("InspectionStatus")
    );
    // The callback: each finding once, when first met.
    let found = found.lock().unwrap();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(matches!(&found[0], DriftFinding::Field(f) if f.name == "mood" && f.count == 1));
    assert!(matches!(&found[1], DriftFinding::Value(v) if v.field == "status"));
}

#[tokio::test]
async fn a_page_of_known_fields_has_no_drift() {
    let server = MockServer::start_async().await;
    let path = ccsqm_client::spec::APPRAISECALL_DETAILS.path;
    server.mock(|when, then| {
        when.method(POST).path(path);
        then.status(200)
            .header("content-type", "application/json")
            .body(json!({"data": [{"call_group_id": "g", "calls": [{"call_uuid": "a", "status": 2, "call_type": 0}]}], "paging": {"total": 1}}).to_string());
    });
    let client = client(&server);
    let mut calls = client.calls(request(10, 1));
    while let Some(record) = calls.next().await {
        assert!(record.unwrap().unknown_fields.is_empty());
    }
    assert!(calls.drift().is_empty());
    let page = client.details_page_scanned(request(10, 1)).await.unwrap();
    assert!(page.drift().is_empty());
}
