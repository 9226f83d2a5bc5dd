//! The hand-written parts of ccsqm-models checked against `spec/ccsqm.yaml`: the enums cannot
//! drift from the spec, and the vendor's example response flattens as documented.

use ccsqm_models::{
    call_schema, request_schema, response_schema, types, AppraisecallDetailsResponse, Call,
    CallExt, CallGroup, CallRecord, CallType, InspectionStatus,
};
use serde_json::{json, Value};

const SPEC: &str = include_str!("../../../spec/ccsqm.yaml");

fn spec() -> Value {
    serde_saphyr::from_str(SPEC).expect("spec/ccsqm.yaml is YAML")
}

fn schema(name: &str) -> Value {
    let schema = spec()["components"]["schemas"][name].clone();
    assert!(schema.is_object(), "components.schemas.{name} is missing");
    schema
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|item| item.as_str().expect("a string").to_owned())
        .collect()
}

fn codes(value: &Value) -> Vec<i64> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|item| item.as_i64().expect("an integer"))
        .collect()
}

/// `AsrNoSpeech` -> `asr-no-speech`.
fn kebab(varname: &str) -> String {
    let mut name = String::new();
    for c in varname.chars() {
        if c.is_ascii_uppercase() && !name.is_empty() {
            name.push('-');
        }
        name.push(c.to_ascii_lowercase());
    }
    name
}

/// Compares one hand-written enum with its schema in the spec.
fn assert_matches_spec<T>(
    schema_name: &str,
    all: &[T],
    names: &[&str],
    code: fn(&T) -> i64,
    label: fn(&T) -> &'static str,
) where
    T: std::fmt::Debug + std::fmt::Display,
{
    let schema = schema(schema_name);
    let spec_codes = codes(&schema["enum"]);
    let spec_varnames = strings(&schema["x-enum-varnames"]);
    let spec_labels = strings(&schema["x-enum-descriptions"]);

    assert_eq!(
        all.iter().map(code).collect::<Vec<_>>(),
        spec_codes,
        "{schema_name}: codes"
    );
    let variants: Vec<String> = all.iter().map(|value| format!("{value:?}")).collect();
    assert_eq!(variants, spec_varnames, "{schema_name}: variant names");
    let labels: Vec<&str> = all.iter().map(label).collect();
    assert_eq!(labels, spec_labels, "{schema_name}: labels");
    let kebab_names: Vec<String> = spec_varnames.iter().map(|v| kebab(v)).collect();
    assert_eq!(names, kebab_names, "{schema_name}: names");
    let displayed: Vec<String> = all.iter().map(ToString::to_string).collect();
    assert_eq!(displayed, kebab_names, "{schema_name}: Display");
}

#[test]
fn call_type_matches_the_spec() {
    assert_matches_spec(
        "CallType",
        CallType::ALL,
        CallType::NAMES,
        CallType::code,
        CallType::label,
    );
    assert_eq!(CallType::ALL, [CallType::Voice, CallType::Text]);
}

#[test]
fn inspection_status_matches_the_spec() {
    assert_matches_spec(
        "InspectionStatus",
        InspectionStatus::ALL,
        InspectionStatus::NAMES,
        InspectionStatus::code,
        InspectionStatus::label,
    );
    assert_eq!(InspectionStatus::ALL.len(), 15);
}

#[test]
fn every_documented_code_converts_to_the_generated_newtype() {
    for code in codes(&schema("CallType")["enum"]) {
        let generated = types::CallType::try_from(CallType::from_code(code)).unwrap();
        assert_eq!(*generated, code);
    }
    for code in codes(&schema("InspectionStatus")["enum"]) {
        let generated =
            types::InspectionStatus::try_from(InspectionStatus::from_code(code)).unwrap();
        assert_eq!(*generated, code);
    }
    assert!(types::CallType::try_from(CallType::Unknown(1)).is_err());
    assert!(types::InspectionStatus::try_from(InspectionStatus::Unknown(4)).is_err());
}

/// The vendor's example response, from the spec.
fn example_response() -> AppraisecallDetailsResponse {
    let example = spec()["paths"]["/apiaccess/CCSQM/rest/ccisqm/v1/appraisecall/details"]["post"]
        ["responses"]["200"]["content"]["application/json"]["examples"]["seed"]["value"]
        .clone();
    assert!(example.is_object(), "the example response is missing");
    serde_json::from_value(example).expect("the example response reads")
}

#[test]
fn rows_of_the_vendor_example() {
    let response = example_response();
    assert_eq!(response.paging.as_ref().and_then(|p| p.total), Some(6));
    let rows: Vec<CallRecord> = CallRecord::from_page(response.clone()).collect();
    assert_eq!(rows.len(), 6);
    for (row, group) in rows.iter().zip(&response.data) {
        let id = group.call_group_id.as_deref();
        assert!(id.is_some());
        assert_eq!(row.call_group_id.as_deref(), id);
        assert_eq!(row.call.call_uuid.as_deref(), id);
        assert_eq!(
            row.call.status(),
            Some(InspectionStatus::InspectionSucceeded)
        );
        assert_eq!(row.call.call_type(), Some(CallType::Voice));
        assert!(row.call.call_time().is_some());
        assert_eq!(row.call.upload_time(), row.call.call_time());
        assert_eq!(row.call.create_time(), row.call.call_time());
    }
    let first = &rows[0];
    assert_eq!(
        first.call_group_id.as_deref(),
        Some("3b9cd7a9-d38c-4aa0-a35d-77f6abb9f497")
    );
    assert_eq!(
        first.call.call_time(),
        Some("2021-06-02T11:36:22Z".parse::<jiff::Timestamp>().unwrap())
    );
    assert_eq!(first.call.duration, Some(164.22));
}

#[test]
fn records_of_the_vendor_example_round_trip() {
    let response = example_response();
    let records: Vec<CallRecord> = CallRecord::from_page(response).collect();
    assert_eq!(records.len(), 6);
    for record in &records {
        let json = serde_json::to_value(record).unwrap();
        assert_eq!(json["call_group_id"], json["call_uuid"]);
        assert_eq!(serde_json::from_value::<CallRecord>(json).unwrap(), *record);
    }
}

#[test]
fn a_group_of_several_calls_gives_one_row_per_call() {
    let call = |id: &str, status: i64| Call {
        call_uuid: Some(id.to_owned()),
        status: Some(status),
        ..Call::default()
    };
    let response = AppraisecallDetailsResponse {
        data: vec![
            CallGroup {
                call_group_id: Some("g1".into()),
                calls: vec![call("a", 2), call("b", 9), call("c", 77)],
            },
            CallGroup {
                call_group_id: None,
                calls: vec![call("d", 0)],
            },
            CallGroup {
                call_group_id: Some("empty".into()),
                calls: vec![],
            },
            CallGroup {
                call_group_id: Some("g2".into()),
                calls: vec![call("e", 1)],
            },
        ],
        paging: None,
    };
    let records: Vec<CallRecord> = CallRecord::from_page(response.clone()).collect();
    let seen: Vec<(Option<&str>, Option<&str>, Option<InspectionStatus>)> = records
        .iter()
        .map(|row| {
            (
                row.call_group_id.as_deref(),
                row.call.call_uuid.as_deref(),
                row.call.status(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                Some("g1"),
                Some("a"),
                Some(InspectionStatus::InspectionSucceeded)
            ),
            (
                Some("g1"),
                Some("b"),
                Some(InspectionStatus::InspectionFailed)
            ),
            (Some("g1"), Some("c"), Some(InspectionStatus::Unknown(77))),
            (
                None,
                Some("d"),
                Some(InspectionStatus::WaitingForInspection)
            ),
            (
                Some("g2"),
                Some("e"),
                Some(InspectionStatus::InspectionInProgress)
            ),
        ]
    );

    let records: Vec<Value> = CallRecord::from_page(response)
        .map(|record| serde_json::to_value(record).unwrap())
        .collect();
    assert_eq!(
        records,
        [
            json!({"call_group_id": "g1", "call_uuid": "a", "status": 2}),
            json!({"call_group_id": "g1", "call_uuid": "b", "status": 9}),
            json!({"call_group_id": "g1", "call_uuid": "c", "status": 77}),
            json!({"call_uuid": "d", "status": 0}),
            json!({"call_group_id": "g2", "call_uuid": "e", "status": 1}),
        ]
    );
}

#[test]
fn call_record_json_is_the_call_fields_plus_call_group_id() {
    let call: Call = serde_json::from_value(json!({
        "call_id": "c1",
        "call_type": 2,
        "status": 3,
        "deal": 1,
        "duration": 12.5,
        "left_channel": "customer",
        "upload_time": 1622633782,
        "complain_status": -1,
        "an_undocumented_field": true
    }))
    .unwrap();
    let record = CallRecord {
        call_group_id: Some("g1".into()),
        call: call.clone(),
        ..CallRecord::default()
    };
    let json = serde_json::to_value(&record).unwrap();
    let mut expected = serde_json::to_value(&call).unwrap();
    expected["call_group_id"] = json!("g1");
    assert_eq!(json, expected);
    assert_eq!(json["call_type"], 2);
    assert_eq!(json["deal"], 1.0);

    let back: CallRecord = serde_json::from_value(json).unwrap();
    assert_eq!(back, record);
    assert_eq!(back.call.call_type(), Some(CallType::Text));
    assert_eq!(back.call.status(), Some(InspectionStatus::AsrInProgress));
    assert_eq!(
        back.call.upload_time(),
        Some("2021-06-02T11:36:22Z".parse::<jiff::Timestamp>().unwrap())
    );

    let without_group = serde_json::to_value(CallRecord {
        call_group_id: None,
        call,
        ..CallRecord::default()
    })
    .unwrap();
    assert!(without_group.get("call_group_id").is_none());
    assert_eq!(
        serde_json::from_value::<CallRecord>(json!({})).unwrap(),
        CallRecord::default()
    );
}

fn properties(schema: &Value) -> Vec<String> {
    let mut names: Vec<String> = schema["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .cloned()
        .collect();
    names.sort();
    names
}

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names
}

#[test]
fn request_schema_has_the_spec_properties_and_required_fields() {
    let spec = schema("AppraisecallDetailsRequest");
    let schema = serde_json::to_value(request_schema()).unwrap();
    assert_eq!(schema["type"], "object");
    assert_eq!(properties(&schema), properties(&spec));
    assert_eq!(
        sorted(strings(&schema["required"])),
        sorted(strings(&spec["required"]))
    );
    assert_eq!(
        sorted(strings(&schema["required"])),
        [
            "call_types",
            "limit",
            "page",
            "status",
            "upload_from",
            "upload_to"
        ]
    );
}

#[test]
fn response_schema_has_data_and_paging() {
    let schema = serde_json::to_value(response_schema()).unwrap();
    assert_eq!(
        properties(&schema),
        properties(&self::schema("AppraisecallDetailsResponse"))
    );
    let definitions = schema["definitions"].as_object().expect("definitions");
    for name in ["CallGroup", "Call", "Paging"] {
        assert!(definitions.contains_key(name), "no definition of {name}");
    }
    assert_eq!(
        properties(&definitions["Call"]),
        properties(&self::schema("Call"))
    );
}

#[test]
fn call_schema_is_the_call_fields_plus_call_group_id() {
    let schema = serde_json::to_value(call_schema()).unwrap();
    let mut expected = properties(&self::schema("Call"));
    expected.push("call_group_id".into());
    assert_eq!(properties(&schema), sorted(expected));
    assert!(schema.get("required").is_none_or(|r| r == &json!([])));
    let description = schema["description"].as_str().unwrap();
    assert!(
        description.starts_with("One inspected call"),
        "{description}"
    );
    assert!(
        !description.contains("assert"),
        "the rustdoc example leaked: {description}"
    );
}

/// The schema's `required` is what the generated type enforces: `upload_from` and `upload_to`
/// must be present, though `null` is allowed.
#[test]
fn request_schema_required_matches_the_generated_type() {
    let example = spec()["paths"]["/apiaccess/CCSQM/rest/ccisqm/v1/appraisecall/details"]["post"]
        ["requestBody"]["content"]["application/json"]["examples"]["seed"]["value"]
        .clone();
    let request: ccsqm_models::AppraisecallDetailsRequest =
        serde_json::from_value(example.clone()).expect("the example request reads");
    assert_eq!(request.upload_from, None);
    for name in strings(&serde_json::to_value(request_schema()).unwrap()["required"]) {
        let mut body = example.clone();
        body.as_object_mut().unwrap().remove(&name);
        assert!(
            serde_json::from_value::<ccsqm_models::AppraisecallDetailsRequest>(body).is_err(),
            "a request without {name} was accepted"
        );
    }
}
