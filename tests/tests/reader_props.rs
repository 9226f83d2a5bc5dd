//! Property tests of the response reader: whatever bytes a server sends with a 200, reading
//! `appraisecall/details`'s response gives a page or an error, never a panic; and a valid page
//! with fields and codes the spec does not know reads to the page it describes.
//!
//! The reading path is the client's own: the generated code reads a 200 with
//! `ResponseValue::from_response` (serde_json over the whole body), and an unreadable one
//! becomes an `ApiError` (which keeps the start of the body); the calls are then used through
//! `ccsqm-models` (rows, named codes, times).

use ccsqm_client::types::AppraisecallDetailsResponse;
use ccsqm_client::{ApiError, CallRecord, ResponseValue};
use ccsqm_models::{CallExt, CallType, InspectionStatus};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Reads `body` as a 200 response of `appraisecall/details`, as the client does.
fn read(body: Vec<u8>) -> Result<AppraisecallDetailsResponse, ApiError> {
    let response = http::Response::builder()
        .status(200)
        .header("content-type", "application/json;charset=UTF-8")
        .body(body)
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime
        .block_on(
            ResponseValue::<AppraisecallDetailsResponse>::from_response::<()>(
                reqwest::Response::from(response),
            ),
        )
        .map(ResponseValue::into_inner)
        .map_err(ApiError::from)
}

/// Everything a caller does with a page or an error: none of it may panic.
fn use_result(result: Result<AppraisecallDetailsResponse, ApiError>) {
    match result {
        Ok(page) => {
            let _ = serde_json::to_string(&page).unwrap();
            for record in CallRecord::from_page(page) {
                let call = &record.call;
                let (call_type, status) = (call.call_type(), call.status());
                let _ = call_type.map(|c| (c.name(), c.label(), c.to_string()));
                let _ = status.map(|s| (s.name(), s.label(), s.to_string()));
                let _ = (call.call_time(), call.upload_time(), call.create_time());
                let _ = serde_json::to_string(&record).unwrap();
            }
        }
        Err(error) => {
            let _ = (error.to_string(), error.kind(), error.status());
            let _ = format!("{error:?}");
        }
    }
}

/// Any JSON value, nested a few levels.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Object keys: the response's own names half the time, so that wrong types reach its fields.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "data",
            "paging",
            "total",
            "calls",
            "call_group_id",
            "call_id",
            "call_time",
            "call_type",
            "status",
            "duration",
            "deal",
            "staff_name",
            "upload_time",
            "create_time",
        ])
        .prop_map(str::to_owned),
        ".{0,6}",
    ]
}

/// A valid call, as JSON, with any codes and unknown fields.
fn call() -> impl Strategy<Value = Value> {
    (
        prop::option::of(".{0,10}"),
        prop::option::of(any::<i64>()),
        prop::option::of(any::<i64>()),
        prop::option::of(any::<i64>()),
        prop::option::of(-1e12f64..1e12),
        extra_fields(),
    )
        .prop_map(|(call_id, call_time, call_type, status, duration, extra)| {
            let mut call = extra;
            let known = [
                ("call_id", call_id.map(Value::from)),
                ("call_time", call_time.map(Value::from)),
                ("call_type", call_type.map(Value::from)),
                ("status", status.map(Value::from)),
                ("duration", duration.map(Value::from)),
            ];
            for (name, value) in known {
                match value {
                    Some(v) => call.insert(name.to_owned(), v),
                    None => call.remove(name),
                };
            }
            Value::Object(call)
        })
}

/// Fields the spec does not describe, with any values.
fn extra_fields() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map("x_[a-z]{1,6}", json_value(), 0..4)
        .prop_map(|m| m.into_iter().collect())
}

/// A valid page, as JSON, with unknown fields at every level.
fn page() -> impl Strategy<Value = Value> {
    let group = (
        prop::option::of(".{0,10}"),
        prop::collection::vec(call(), 0..4),
        extra_fields(),
    )
        .prop_map(|(id, calls, mut group)| {
            group.insert("calls".into(), Value::from(calls));
            if let Some(id) = id {
                group.insert("call_group_id".into(), Value::from(id));
            }
            Value::Object(group)
        });
    (
        prop::collection::vec(group, 0..4),
        prop::option::of(any::<u32>()),
        extra_fields(),
        extra_fields(),
    )
        .prop_map(|(data, total, mut paging, mut page)| {
            if let Some(total) = total {
                paging.insert("total".into(), Value::from(total));
            }
            page.insert("data".into(), Value::from(data));
            page.insert("paging".into(), Value::Object(paging));
            Value::Object(page)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_bytes_read_to_a_page_or_an_error(
        // Past 800 bytes too: the error keeps the first 200 characters of the body.
        body in prop::collection::vec(any::<u8>(), 0..1000),
    ) {
        use_result(read(body));
    }

    #[test]
    fn any_json_reads_to_a_page_or_an_error(value in json_value()) {
        use_result(read(serde_json::to_vec(&value).unwrap()));
    }

    #[test]
    fn a_cut_or_corrupted_page_reads_to_a_page_or_an_error(
        page in page(),
        cut in any::<prop::sample::Index>(),
        flip in prop::option::of((any::<prop::sample::Index>(), any::<u8>())),
    ) {
        let mut body = serde_json::to_vec(&page).unwrap();
        body.truncate(cut.index(body.len() + 1));
        if let (Some((at, byte)), false) = (flip, body.is_empty()) {
            let at = at.index(body.len());
            body[at] = byte;
        }
        use_result(read(body));
    }

    #[test]
    fn valid_pages_with_unknown_fields_and_codes_read_fine(page in page()) {
        let read = read(serde_json::to_vec(&page).unwrap()).unwrap();
        // What was described is what was read.
        prop_assert_eq!(read.paging.as_ref().and_then(|p| p.total), page["paging"]["total"].as_i64());
        let groups = page["data"].as_array().unwrap();
        prop_assert_eq!(read.data.len(), groups.len());
        for (group, json) in read.data.iter().zip(groups) {
            prop_assert_eq!(group.call_group_id.as_deref(), json["call_group_id"].as_str());
            let calls = json["calls"].as_array().unwrap();
            prop_assert_eq!(group.calls.len(), calls.len());
            for (call, json) in group.calls.iter().zip(calls) {
                prop_assert_eq!(call.call_id.as_deref(), json["call_id"].as_str());
                prop_assert_eq!(call.call_time, json["call_time"].as_i64());
                prop_assert_eq!(call.call_type, json["call_type"].as_i64());
                prop_assert_eq!(call.status, json["status"].as_i64());
                prop_assert_eq!(call.duration, json["duration"].as_f64());
                // Codes the spec does not name are kept, by number.
                if let Some(code) = call.call_type {
                    prop_assert_eq!(CallType::from_code(code).code(), code);
                }
                if let Some(code) = call.status {
                    prop_assert_eq!(InspectionStatus::from_code(code).code(), code);
                }
                let _ = (call.call_time(), call.upload_time());
            }
        }
        use_result(Ok(read));
    }
}

#[test]
fn the_vendors_example_still_reads() {
    let body = include_bytes!("../fixtures/seed-response.json").to_vec();
    let page = read(body).unwrap();
    assert_eq!(page.paging.and_then(|p| p.total), Some(6));
}
