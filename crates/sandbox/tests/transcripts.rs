//! `appraisecall/detail` over real HTTP: every call's transcript is consistent with what
//! `appraisecall/details` says of the same call; refusals; faults.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use ccsqm_client::types::{AppraisecallDetailResponse, Call};
use ccsqm_client::ErrorKind;
use ccsqm_models::{InspectionStatus, Party, Transcript};
use ccsqm_sandbox::{Faults, Sandbox, DETAIL_PATH};
use common::{all, fetch_all, sandbox};
use futures_util::StreamExt;

/// Seconds of tolerance on the sums of segment times (times are in hundredths, each rounded
/// down).
const TOLERANCE: f64 = 0.07;

async fn transcripts(sandbox: &Sandbox, calls: &[Call]) -> Vec<AppraisecallDetailResponse> {
    let uuids: Vec<String> = calls
        .iter()
        .map(|c| c.call_uuid.clone().expect("a call_uuid"))
        .collect();
    sandbox
        .client()
        .unwrap()
        .transcripts(futures_util::stream::iter(uuids))
        .concurrency(4)
        .map(|(uuid, result)| result.unwrap_or_else(|e| panic!("{uuid}: {e}")))
        .collect()
        .await
}

/// Every rule of the issue, for every call of two seeded data sets.
#[tokio::test]
async fn every_transcript_agrees_with_details() {
    for (seed, calls) in [(3, 400), (11, 250)] {
        let sandbox = Sandbox::builder()
            .calls(calls)
            .seed(seed)
            .start()
            .await
            .unwrap();
        let (calls, _) = fetch_all(&sandbox.client().unwrap(), &all(1000)).await;
        assert_eq!(calls.len(), sandbox.data().len());
        let responses = transcripts(&sandbox, &calls).await;
        let mut with_segments = 0;
        for (call, response) in calls.iter().zip(responses) {
            let uuid = call.call_uuid.clone().unwrap();
            let at = format!("seed {seed}, call {uuid}");
            // The call fields are those of details.
            let details = serde_json::to_value(call).unwrap();
            let detail = serde_json::to_value(&response).unwrap();
            for (field, value) in details.as_object().unwrap() {
                if detail.get(field).is_some() {
                    assert_eq!(&detail[field], value, "{at}: {field}");
                }
            }
            for field in ["call_uuid", "call_id", "duration", "status", "call_type"] {
                assert_eq!(detail[field], details[field], "{at}: {field}");
            }
            let transcript = Transcript::new(response);
            let voice = call.call_type == Some(0);
            let status = InspectionStatus::from_code(call.status.unwrap());
            let no_asr = matches!(
                status,
                InspectionStatus::AsrNoSpeech
                    | InspectionStatus::SpeechToTextFailed
                    | InspectionStatus::AsrConversionFailed
                    | InspectionStatus::VoiceFileInvalid
                    | InspectionStatus::AsrInProgress
            );
            if !voice || no_asr {
                assert!(!transcript.has_segments(), "{at}: {status}, type {voice}");
                continue;
            }
            if status == InspectionStatus::InspectionSucceeded {
                assert!(transcript.has_segments(), "{at}: succeeded, no segments");
            }
            if !transcript.has_segments() {
                continue;
            }
            with_segments += 1;
            // The dialog that `keyword` searches.
            let index = sandbox.data().position(&uuid).expect("a known UUID");
            assert_eq!(
                Some(transcript.text()),
                sandbox.data().dialog(index),
                "{at}"
            );
            // Within the call, in order, not overlapping.
            let duration = call.duration.unwrap();
            let mut previous_end = 0.0;
            let mut spoken: HashMap<Party, f64> = HashMap::new();
            for segment in &transcript.segments {
                let start = segment.start.unwrap().as_secs_f64();
                let end = segment.end.unwrap().as_secs_f64();
                assert!(previous_end <= start && start <= end, "{at}: {segment:?}");
                assert!(end <= duration + 1e-9, "{at}: ends after {duration}");
                previous_end = end;
                assert_ne!(segment.party, Party::Unknown, "{at}");
                *spoken.entry(segment.party).or_default() += end - start;
            }
            // Each channel's speaking time and silence, as details says.
            for (channel, ratio, silence) in [
                (
                    &call.left_channel,
                    call.left_speech_ratio,
                    call.left_silence_time,
                ),
                (
                    &call.right_channel,
                    call.right_speech_ratio,
                    call.right_silence_time,
                ),
            ] {
                let party = Party::from_name(channel.as_deref().unwrap());
                let speech = spoken.get(&party).copied().unwrap_or_default();
                let expected = ratio.unwrap() * duration;
                assert!(
                    (speech - expected).abs() <= TOLERANCE,
                    "{at}: {party} speaks {speech}s, {expected}s by the ratio"
                );
                assert!(
                    (duration - speech - silence.unwrap()).abs() <= TOLERANCE,
                    "{at}: {party} silent {}s, {}s by details",
                    duration - speech,
                    silence.unwrap()
                );
            }
        }
        assert!(
            with_segments > calls.len() / 2,
            "seed {seed}: {with_segments}"
        );
        sandbox.shutdown().await;
    }
}

/// A call found with `keyword` has the keyword in its transcript.
#[tokio::test]
async fn keyword_hits_are_in_the_transcript() {
    let sandbox = sandbox(300).await;
    for keyword in ["refund", "Password", "delivery"] {
        let mut request = all(1000);
        request.keyword = Some(keyword.to_owned());
        let (calls, _) = fetch_all(&sandbox.client().unwrap(), &request).await;
        let with_asr: Vec<Call> = calls
            .into_iter()
            .filter(|c| ccsqm_sandbox::has_transcript(c.call_type, c.status))
            .collect();
        assert!(!with_asr.is_empty(), "{keyword}");
        for response in transcripts(&sandbox, &with_asr).await {
            let text = Transcript::new(response).text().to_lowercase();
            assert!(text.contains(&keyword.to_lowercase()), "{keyword}: {text}");
        }
    }
}

#[tokio::test]
async fn unknown_uuid_is_404_and_refusals_are_as_for_details() {
    let sandbox = sandbox(20).await;
    let client = sandbox.client().unwrap();
    let error = client
        .transcript("00000000-0000-4000-8000-000000000000")
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);

    let token = sandbox.issue_token(Duration::from_secs(60));
    let post = |auth: Option<String>, user: Option<&str>, body: &str| {
        let mut request = reqwest::Client::new()
            .post(format!("{}{DETAIL_PATH}", sandbox.base_url()))
            .header("Content-Type", "application/json")
            .body(body.to_owned());
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        if let Some(user) = user {
            request = request.header("x-UserId", user);
        }
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let uuid = sandbox.data().call(0).unwrap().call_uuid.unwrap();
    let body = format!(r#"{{"call_uuid": "{uuid}"}}"#);
    let bearer = Some(format!("Bearer {}", token.expose()));
    let user = Some(sandbox.credentials().user_id.as_str());
    assert_eq!(post(bearer.clone(), user, &body).await.0, 200);
    // x-UserId is optional for this operation, but must be right when given.
    assert_eq!(post(bearer.clone(), None, &body).await.0, 200);
    assert_eq!(post(bearer.clone(), Some("someone"), &body).await.0, 401);
    assert_eq!(post(None, user, &body).await.0, 401);
    assert_eq!(post(Some("Bearer nope".into()), user, &body).await.0, 401);
    let (status, text) = post(bearer.clone(), user, "{}").await;
    assert_eq!(
        (status, text.trim()),
        (400, "call_uuid: missing mandatory field")
    );
    assert_eq!(post(bearer, user, r#"{"call_uuid": 5}"#).await.0, 400);
}

#[tokio::test]
async fn faults_apply_to_transcripts() {
    let sandbox = sandbox(20).await;
    let client = sandbox.client().unwrap();
    let uuid = sandbox.data().call(0).unwrap().call_uuid.unwrap();
    sandbox
        .set_faults(Faults {
            error_rate: 1.0,
            seed: 9,
            ..Faults::none()
        })
        .unwrap();
    let mut request = reqwest::Client::new()
        .post(format!("{}{DETAIL_PATH}", sandbox.base_url()))
        .header(
            "Authorization",
            format!(
                "Bearer {}",
                sandbox.issue_token(Duration::from_secs(60)).expose()
            ),
        )
        .body(format!(r#"{{"call_uuid": "{uuid}"}}"#));
    request = request.header("Content-Type", "application/json");
    let status = request.send().await.unwrap().status().as_u16();
    assert!([500, 502, 503].contains(&status), "{status}");
    sandbox.set_faults(Faults::none()).unwrap();
    assert!(client.transcript(uuid).await.is_ok());
}
