//! The vendor's examples and every example in the spec against the generated types.

use ccsqm_client::types::{
    AppraisecallDetailRequest, AppraisecallDetailResponse, AppraisecallDetailsRequest,
    AppraisecallDetailsResponse, CallType, InspectionStatus, TokenByAkSkRequest,
    TokenByAkSkResponse,
};
use ccsqm_tests::{assert_same_json, fixture, spec};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Value};

const DETAILS: &str = ccsqm_client::spec::APPRAISECALL_DETAILS.path;

/// Every field of the seed's response table, and the four that appear only in its example.
const DOCUMENTED_CALL_FIELDS: [&str; 19] = [
    "call_id",
    "call_time",
    "call_type",
    "call_uuid",
    "duration",
    "file_name",
    "left_channel",
    "left_silence_time",
    "left_speech_ratio",
    "left_speed",
    "right_channel",
    "right_silence_time",
    "right_speech_ratio",
    "right_speed",
    "staff_id",
    "status",
    "upload_time",
    "staff_name",
    "deal",
];
const EXAMPLE_ONLY_CALL_FIELDS: [&str; 4] = [
    "create_time",
    "inspect_status",
    "complain_status",
    "review_status",
];

fn round_trip<T: DeserializeOwned + Serialize>(value: &Value) -> (T, Value) {
    let typed: T = serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("{} does not read {value}: {e}", std::any::type_name::<T>()));
    let written = serde_json::to_value(&typed).unwrap();
    (typed, written)
}

#[test]
fn seed_response_reads_with_every_field() {
    let seed = fixture("seed-response.json");
    let (page, written): (AppraisecallDetailsResponse, _) = round_trip(&seed);
    // Nothing is lost: what the types write back is the vendor's JSON.
    assert_eq!(written, seed);

    assert_eq!(page.paging.as_ref().and_then(|p| p.total), Some(6));
    assert_eq!(page.data.len(), 6);
    for group in &page.data {
        assert_eq!(group.calls.len(), 1);
        let call = &group.calls[0];
        assert_eq!(group.call_group_id, call.call_uuid);
        let fields = serde_json::to_value(call).unwrap();
        let fields = fields.as_object().unwrap();
        for name in DOCUMENTED_CALL_FIELDS
            .iter()
            .chain(&EXAMPLE_ONLY_CALL_FIELDS)
        {
            // `deal` is in the table but not in the example.
            assert_eq!(fields.contains_key(*name), *name != "deal", "{name}");
        }
    }

    let first = &page.data[0].calls[0];
    assert_eq!(first.staff_name.as_deref(), Some("*****"));
    assert_eq!(first.call_time, Some(1622633782));
    assert_eq!(first.upload_time, Some(1622633782));
    assert_eq!(first.create_time, Some(1622633782));
    assert_eq!(first.call_type, Some(0));
    assert_eq!(first.status, Some(2));
    assert_eq!(first.duration, Some(164.22));
    assert_eq!(first.left_speed, Some(241.552));
    assert_eq!(first.left_speech_ratio, Some(0.4613));
    assert_eq!(first.right_speech_ratio, Some(0.3252));
    assert_eq!(first.left_silence_time, Some(88.46));
    assert_eq!(first.right_silence_time, Some(110.82));
    assert_eq!(first.right_speed, Some(165.169));
    assert_eq!(first.left_channel.as_deref(), Some("customer"));
    assert_eq!(first.right_channel.as_deref(), Some("staff"));
    assert_eq!(first.file_name.as_deref(), Some("Consultant"));
    assert_eq!(first.staff_id.as_deref(), Some("1600226440112042215"));
    assert_eq!(
        first.call_id.as_deref(),
        Some("3b9cd7a9-d38c-4aa0-a35d-77f6abb9f497")
    );
    assert_eq!(first.inspect_status, Some(0));
    assert_eq!(first.complain_status, Some(-1));
    assert_eq!(first.review_status, Some(-1));
}

#[test]
fn seed_request_reads_and_writes_back() {
    let seed = fixture("seed-request.json");
    let (request, written): (AppraisecallDetailsRequest, _) = round_trip(&seed);
    assert_same_json(&seed, &written, &["upload_from", "upload_to"], "request");
    // The mandatory upload window is sent as null, as in the vendor's example.
    assert_eq!(written["upload_from"], Value::Null);
    assert_eq!(written["upload_to"], Value::Null);

    // The same request built through the generated builder writes the same JSON.
    let built: AppraisecallDetailsRequest = AppraisecallDetailsRequest::builder()
        .limit(std::num::NonZeroU64::new(10).unwrap())
        .page(std::num::NonZeroU64::new(1).unwrap())
        .call_types(vec![
            CallType::try_from(0).unwrap(),
            CallType::try_from(2).unwrap(),
        ])
        .call_from(Some(1621333149))
        .call_to(Some(1623925149))
        .upload_from(None)
        .upload_to(None)
        .status(vec![InspectionStatus::try_from(2).unwrap()])
        .try_into()
        .unwrap();
    assert_eq!(built, request);
    assert_eq!(serde_json::to_value(&built).unwrap(), written);
}

#[test]
fn request_rejects_what_the_spec_forbids() {
    let seed = fixture("seed-request.json");
    let with = |key: &str, value: Value| {
        let mut request = seed.clone();
        request[key] = value;
        serde_json::from_value::<AppraisecallDetailsRequest>(request)
    };
    assert!(
        with("call_types", json!([1])).is_err(),
        "call type 1 is undocumented"
    );
    assert!(
        with("status", json!([4])).is_err(),
        "status 4 is not in the list"
    );
    assert!(with("limit", json!(0)).is_err(), "limit is at least 1");
    assert!(with("page", json!(0)).is_err(), "page is at least 1");
    let mut missing = seed.clone();
    missing.as_object_mut().unwrap().remove("upload_from");
    assert!(serde_json::from_value::<AppraisecallDetailsRequest>(missing).is_err());
}

/// The spec's examples are the vendor's, verbatim.
#[test]
fn spec_examples_are_the_seed_examples() {
    let spec = spec();
    let op = &spec["paths"][DETAILS]["post"];
    assert_eq!(
        op["requestBody"]["content"]["application/json"]["examples"]["seed"]["value"],
        fixture("seed-request.json")
    );
    assert_eq!(
        op["responses"]["200"]["content"]["application/json"]["examples"]["seed"]["value"],
        fixture("seed-response.json")
    );
}

/// Every example of every request body and response in the spec reads through the generated
/// type of its schema and writes back the same JSON.
#[test]
fn every_spec_example_matches_the_generated_types() {
    let spec = spec();
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let mut media = vec![(format!("{method} {path} request"), &op["requestBody"])];
            for (status, response) in op["responses"].as_object().unwrap() {
                media.push((format!("{method} {path} {status}"), response));
            }
            for (at, body) in media {
                let Some(json) = body.get("content").and_then(|c| c.get("application/json")) else {
                    continue;
                };
                let Some(schema) = json["schema"]["$ref"].as_str() else {
                    panic!(
                        "{at} in spec/ccsqm.yaml: give it a schema by $ref to components.schemas"
                    );
                };
                let schema = schema.trim_start_matches("#/components/schemas/");
                let Some(examples) = json["examples"].as_object().filter(|e| !e.is_empty()) else {
                    panic!(
                        "{at} in spec/ccsqm.yaml has no example: add one under `examples:` \
                         (the vendor's, verbatim, or one marked as ours in its summary)"
                    );
                };
                for (name, example) in examples {
                    check_example(schema, &example["value"], &format!("{at} example {name}"));
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 5, "only {checked} examples found");
}

fn check_example(schema: &str, example: &Value, at: &str) {
    let required_nullable: &[&str] = &["upload_from", "upload_to"];
    let written = match schema {
        "AppraisecallDetailsRequest" => round_trip::<AppraisecallDetailsRequest>(example).1,
        "AppraisecallDetailsResponse" => round_trip::<AppraisecallDetailsResponse>(example).1,
        "AppraisecallDetailRequest" => round_trip::<AppraisecallDetailRequest>(example).1,
        "AppraisecallDetailResponse" => round_trip::<AppraisecallDetailResponse>(example).1,
        "TokenByAkSkRequest" => round_trip::<TokenByAkSkRequest>(example).1,
        "TokenByAkSkResponse" => round_trip::<TokenByAkSkResponse>(example).1,
        other => panic!("{at}: add a check for examples of schema {other}"),
    };
    assert_same_json(example, &written, required_nullable, at);
}

/// A page from a newer server: unknown fields and enumeration values it did not know of.
#[test]
fn unknown_fields_and_values_are_tolerated() {
    let mut page = fixture("seed-response.json");
    let call = &mut page["data"][0]["calls"][0];
    call["status"] = json!(77);
    call["call_type"] = json!(5);
    call["sentiment"] = json!({"score": 0.5});
    page["data"][0]["group_label"] = json!("new");
    page["paging"]["page_count"] = json!(1);
    page["request_id"] = json!("abc");

    let read: AppraisecallDetailsResponse = serde_json::from_value(page).unwrap();
    assert_eq!(read.data[0].calls[0].status, Some(77));
    assert_eq!(read.data[0].calls[0].call_type, Some(5));
    assert_eq!(read.paging.and_then(|p| p.total), Some(6));
}

#[test]
fn token_response_secret_stays_out_of_debug() {
    let response: TokenByAkSkResponse = serde_json::from_value(json!({
        "AccessToken": "tok-0123456789", "ApplyType": "Bearer", "CreateTime": "1545650171",
        "Expires": "600", "Scope": "x", "AppKey": "ak", "UserID": "Anonymous", "Extra": 1
    }))
    .unwrap();
    assert_eq!(response.access_token.expose(), "tok-0123456789");
    assert_eq!(response.expires.as_deref(), Some("600"));
    assert!(!format!("{response:?}").contains("tok-0123456789"));

    let request: TokenByAkSkRequest =
        serde_json::from_value(json!({"app_key": "ak", "app_secret": "sk-987654321"})).unwrap();
    assert!(!format!("{request:?}").contains("sk-987654321"));
    assert_eq!(
        serde_json::to_value(&request).unwrap()["app_secret"],
        "sk-987654321"
    );
}

const DETAIL: &str = ccsqm_client::spec::APPRAISECALL_DETAIL.path;

/// `appraisecall/detail`: the vendor's example request, and the one segment the notes give,
/// verbatim in the spec, read through the generated types and the typed view.
#[test]
fn detail_examples_are_the_vendors() {
    let spec = spec();
    let op = &spec["paths"][DETAIL]["post"];
    let request = &op["requestBody"]["content"]["application/json"]["examples"]["notes"]["value"];
    assert_eq!(
        *request,
        json!({"call_uuid": "822bbf4d-c4f8-473a-9144-199058375be8"})
    );
    let response =
        &op["responses"]["200"]["content"]["application/json"]["examples"]["notes"]["value"];
    assert_eq!(
        response["segments"][0],
        json!({"start_time": 0.0, "asr_text": "...", "speaker": "customer", "end_time": 11.32,
               "segment_id": 1})
    );
    let (typed, written): (AppraisecallDetailResponse, _) = round_trip(response);
    assert_eq!(written, *response);
    let transcript = ccsqm_models::Transcript::new(typed);
    let segment = &transcript.segments[0];
    assert_eq!(segment.party, ccsqm_models::Party::Customer);
    assert_eq!(segment.start, Some(std::time::Duration::ZERO));
    assert_eq!(segment.end, Some(std::time::Duration::from_secs_f64(11.32)));
    assert_eq!(segment.segment_id, Some(1));
    assert_eq!(transcript.text(), "...");
    for status in ["400", "401", "404", "500"] {
        assert_eq!(
            op["responses"][status], spec["paths"][DETAILS]["post"]["responses"][status],
            "{status}: the same as appraisecall/details"
        );
    }
}

/// The vendor's table types `call_id` as a number, its example sends a UUID string: both read,
/// to the same typed view, and write back as they came.
#[test]
fn detail_call_id_reads_as_string_or_number() {
    for (sent, text) in [
        (
            json!("3b9cd7a9-d38c-4aa0-a35d-77f6abb9f497"),
            "3b9cd7a9-d38c-4aa0-a35d-77f6abb9f497",
        ),
        (json!(1600226440112042215_i64), "1600226440112042215"),
        (json!(-7), "-7"),
    ] {
        let body = json!({"call_id": sent, "call_uuid": "u"});
        let (typed, written): (AppraisecallDetailResponse, _) = round_trip(&body);
        assert_eq!(written, body, "{sent} writes back as it came");
        let transcript = ccsqm_models::Transcript::new(typed);
        assert_eq!(transcript.call_id().as_deref(), Some(text));
    }
    let wrong = json!({"call_id": {"id": 1}});
    assert!(serde_json::from_value::<AppraisecallDetailResponse>(wrong).is_err());
}

/// `speaker` as a party name (the example), as a channel name, or as a number (one edition):
/// all read; the party comes from the name, or from `left_channel`/`right_channel`.
#[test]
fn detail_speaker_reads_as_string_or_number() {
    use ccsqm_models::Party;
    for (left, right) in [("customer", "staff"), ("staff", "customer")] {
        let body = json!({
            "left_channel": left, "right_channel": right,
            "segments": [
                {"speaker": "customer"}, {"speaker": "staff"}, {"speaker": "STAFF"},
                {"speaker": "left"}, {"speaker": "right"}, {"speaker": 1}, {"speaker": "robot"},
                {}
            ]
        });
        let (typed, written): (AppraisecallDetailResponse, _) = round_trip(&body);
        assert_eq!(written, body);
        let parties: Vec<Party> = ccsqm_models::Transcript::new(typed)
            .segments
            .iter()
            .map(|s| s.party)
            .collect();
        let of = |who: &str| Party::from_name(who);
        assert_eq!(
            parties,
            [
                Party::Customer,
                Party::Agent,
                Party::Agent,
                of(left),
                of(right),
                Party::Unknown,
                Party::Unknown,
                Party::Unknown
            ],
            "left {left}, right {right}"
        );
    }
}

/// The sandbox ships its own copy of the vendor's example (a published crate cannot include
/// files outside its folder): it must stay the very fixture the tests use.
#[test]
fn the_sandbox_serves_the_vendors_example_fixture_verbatim() {
    assert_eq!(
        ccsqm_sandbox::VENDOR_EXAMPLE,
        include_str!("../fixtures/seed-response.json"),
        "crates/sandbox/fixtures/vendor-example.json differs from tests/fixtures/seed-response.json"
    );
}
