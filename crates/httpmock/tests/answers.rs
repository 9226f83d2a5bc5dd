//! The answers and matches `cargo xtask codegen` adds to progenitor's mocks (#25 item 6): the
//! statuses the client retries, with `Retry-After`, and a partial JSON body match.

use std::num::NonZeroU64;
use std::time::Duration;

use ccsqm_client::types::AppraisecallDetailsRequest;
use ccsqm_client::{Client, RetryPolicy};
use ccsqm_httpmock::httpmock::MockServer;
use ccsqm_httpmock::operations::AppraisecallDetailsThen;
use ccsqm_httpmock::MockServerExt;

fn client(server: &MockServer) -> Client {
    Client::builder(&server.base_url())
        .bearer_token("a token")
        .user_id("u")
        .retry(RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap()
}

/// A `then` answer.
type Answer = fn(AppraisecallDetailsThen) -> AppraisecallDetailsThen;

#[tokio::test]
async fn each_retried_status_is_retried_by_the_client() {
    let answers: [(u16, Answer); 4] = [
        (429, |then| then.too_many_requests(None)),
        (502, |then| then.bad_gateway(None)),
        (503, |then| then.service_unavailable(None)),
        (504, |then| then.gateway_timeout(None)),
    ];
    for (status, answer) in answers {
        let server = MockServer::start_async().await;
        let mock = server.appraisecall_details(|_, then| {
            answer(then);
        });
        let error = client(&server)
            .details_page(AppraisecallDetailsRequest::every_call(NonZeroU64::MIN))
            .await
            .unwrap_err();
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status), "{error}");
        // The first attempt and both retries.
        mock.assert_calls_async(3).await;
    }
}

#[tokio::test]
async fn retry_after_is_whole_seconds_rounded_up() {
    let server = MockServer::start_async().await;
    server.appraisecall_details(|_, then| {
        then.too_many_requests(Some(Duration::from_millis(1500)));
    });
    let url = format!(
        "{}{}",
        server.base_url(),
        ccsqm_client::spec::APPRAISECALL_DETAILS.path
    );
    let answer = ccsqm_client::reqwest::Client::new()
        .post(url)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 429);
    assert_eq!(answer.headers()["retry-after"], "2");
}

#[tokio::test]
async fn body_includes_matches_some_fields_only() {
    let server = MockServer::start_async().await;
    let page: ccsqm_client::types::AppraisecallDetailsResponse =
        serde_json::from_str(r#"{"paging": {"total": 0}, "data": []}"#).unwrap();
    let second = server.appraisecall_details(|when, then| {
        when.body_includes(&serde_json::json!({"page": 2, "limit": 5}));
        then.ok(&page);
    });
    let client = client(&server);
    let mut request = AppraisecallDetailsRequest::every_call(NonZeroU64::new(5).unwrap());
    request.page = NonZeroU64::new(2).unwrap();
    request.keyword = Some("refund".to_owned());
    client.details_page(request.clone()).await.unwrap();
    second.assert_async().await;
    // Another page is not matched (no mock answers it: httpmock's 404).
    request.page = NonZeroU64::MIN;
    assert!(client.details_page(request).await.is_err());
    second.assert_calls_async(1).await;
}
