//! The example service tested three ways, as a service using `ccsqm-client` would test itself.

use std::collections::BTreeMap;
use std::time::Duration;

use ccsqm_client::types::AppraisecallDetailsResponse;
use ccsqm_client::{Client, ErrorKind, RetryPolicy};
use ccsqm_consumer_example::{summarize, CallSummary, SummaryError};
use ccsqm_httpmock::httpmock::MockServer;
use ccsqm_httpmock::MockServerExt;
use ccsqm_sandbox::{ErrorStatuses, Faults, Sandbox};
use serde_json::json;

const USER_ID: &str = "1611917095665261978";
const DAY: i64 = 86_400;

/// A client of `base_url` with fast retries (`max_retries` of them).
fn client(base_url: &str, sandbox: Option<&Sandbox>, max_retries: u32) -> Client {
    let builder = Client::builder(base_url).retry(RetryPolicy {
        max_retries,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(10),
        max_elapsed: Duration::from_secs(20),
    });
    match sandbox {
        Some(sandbox) => builder
            .ak_sk(
                &sandbox.credentials().app_key,
                sandbox.credentials().app_secret.clone(),
            )
            .user_id(&sandbox.credentials().user_id),
        None => builder.bearer_token("a-test-token").user_id(USER_ID),
    }
    .build()
    .unwrap()
}

/// What the summary of the window must be, counted from the sandbox's own data set.
fn expected(sandbox: &Sandbox, from: i64, to: i64) -> CallSummary {
    let data = sandbox.data();
    let mut summary = CallSummary::default();
    for (_, call) in data.calls() {
        if !call.call_time.is_some_and(|t| (from..=to).contains(&t)) {
            continue;
        }
        summary.total += 1;
        if let Some(status) = call.status {
            *summary.by_status.entry(status).or_default() += 1;
        }
        if let Some(call_type) = call.call_type {
            *summary.by_call_type.entry(call_type).or_default() += 1;
        }
    }
    summary
}

/// 1. Typed mocks: the request on the wire and the counting of a known page.
#[tokio::test]
async fn with_httpmock_the_window_is_sent_and_one_page_is_counted() {
    let server = MockServer::start_async().await;
    let page: AppraisecallDetailsResponse = serde_json::from_value(json!({
        "paging": {"total": 4},
        "data": [
            {"call_group_id": "g1", "calls": [
                {"call_uuid": "a", "status": 2, "call_type": 0},
                {"call_uuid": "b", "status": 2, "call_type": 2}]},
            {"call_group_id": "g2", "calls": [
                {"call_uuid": "c", "status": 3, "call_type": 0},
                {"call_uuid": "d", "status": 2, "call_type": 0}]}
        ]
    }))
    .unwrap();
    let mock = server.appraisecall_details(|when, then| {
        when.x_user_id(USER_ID)
            .body_includes(&json!({"call_from": 1000, "call_to": 2000, "page": 1}));
        then.ok(&page);
    });

    let summary = summarize(&client(&server.base_url(), None, 0), 1000, 2000)
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(
        summary,
        CallSummary {
            total: 4,
            by_status: BTreeMap::from([(2, 3), (3, 1)]),
            by_call_type: BTreeMap::from([(0, 3), (2, 1)]),
        }
    );
}

/// 2. An in-process sandbox: every page of a real window, against the sandbox's own data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_sandbox_every_page_of_the_window_is_counted() {
    let sandbox = Sandbox::builder()
        .calls(700)
        .seed(11)
        .start()
        .await
        .unwrap();
    // The data leads up to the sandbox's anchor (today, unless pinned with `.anchor(...)`).
    let start = sandbox.data().anchor().first_call_time();
    let (from, to) = (start + 10 * DAY, start + 120 * DAY);
    let want = expected(&sandbox, from, to);
    assert!(want.total > 100, "the window spans several pages");

    let summary = summarize(&client(sandbox.base_url(), Some(&sandbox), 0), from, to)
        .await
        .unwrap();
    assert_eq!(summary, want);
    sandbox.shutdown().await;
}

/// 3. The sandbox's injected faults: retries make transient faults invisible, and a server
/// that keeps failing gives the service an error, never a wrong count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_injected_faults_the_summary_is_exact_or_an_error() {
    let faults = Faults {
        error_rate: 0.3,
        error_statuses: ErrorStatuses::new(&[502, 503, 504]).unwrap(),
        drop_rate: 0.1,
        seed: 5,
        ..Faults::none()
    };
    let sandbox = Sandbox::builder()
        .calls(700)
        .seed(11)
        .faults(faults)
        .start()
        .await
        .unwrap();
    let start = sandbox.data().anchor().first_call_time();
    let (from, to) = (start, start + 180 * DAY);
    let want = expected(&sandbox, from, to);

    let summary = summarize(&client(sandbox.base_url(), Some(&sandbox), 20), from, to)
        .await
        .unwrap();
    assert_eq!(summary, want);

    // A server that keeps answering 503: once the retries are spent, the summary fails with
    // an error the service can act on, never a partial count.
    sandbox
        .set_faults(Faults {
            error_rate: 1.0,
            error_statuses: ErrorStatuses::new(&[503]).unwrap(),
            ..Faults::none()
        })
        .unwrap();
    let error = summarize(&client(sandbox.base_url(), Some(&sandbox), 2), from, to)
        .await
        .unwrap_err();
    match error {
        SummaryError::Api(error) => {
            assert_eq!(error.kind(), ErrorKind::Server, "{error}");
            assert_eq!(error.status().map(|s| s.as_u16()), Some(503), "{error}");
        }
        other => panic!("expected an API error, got {other}"),
    }
    sandbox.shutdown().await;
}
