//! The cap on response bodies: `ClientBuilder::max_body_size` and `DEFAULT_MAX_BODY_SIZE`.

use std::time::Duration;

use ccsqm_client::types::AppraisecallDetailsRequest;
use ccsqm_client::{ApiError, Client, ErrorKind, RetryPolicy, DEFAULT_MAX_BODY_SIZE};
use ccsqm_tests::fixture;
use httpmock::MockServer;

const USER_ID: &str = "1611917095665261978";

fn client(server: &MockServer, max_body_size: Option<u64>) -> Client {
    let mut builder = Client::builder(&server.base_url())
        .user_id(USER_ID)
        .bearer_token("a token")
        .retry(RetryPolicy {
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            ..RetryPolicy::default()
        });
    if let Some(size) = max_body_size {
        builder = builder.max_body_size(size);
    }
    builder.build().unwrap()
}

fn request() -> AppraisecallDetailsRequest {
    serde_json::from_value(fixture("seed-request.json")).unwrap()
}

#[tokio::test]
async fn a_body_over_the_cap_is_an_error_and_not_retried() {
    let server = MockServer::start_async().await;
    let page = fixture("seed-response.json").to_string();
    let size = page.len() as u64;
    let mock = server
        .mock_async(|_, then| {
            then.status(200)
                .header("content-type", "application/json")
                .body(&page);
        })
        .await;

    // Exactly the cap: read.
    let read = client(&server, Some(size)).details_page(request()).await;
    assert_eq!(read.unwrap().data.len(), 6);

    // One byte over: an error that says the limit, without retries.
    let error = client(&server, Some(size - 1))
        .details_page(request())
        .await
        .unwrap_err();
    assert!(
        matches!(error, ApiError::BodyTooLarge { limit, .. } if limit == size - 1),
        "{error:?}"
    );
    assert_eq!(error.kind(), ErrorKind::UnreadableBody);
    assert_eq!(error.status(), Some(http::StatusCode::OK));
    assert!(
        error
            .to_string()
            .starts_with("response too large (HTTP 200 OK)"),
        "{error}"
    );
    assert_eq!(mock.calls_async().await, 2, "one request each, no retry");
}

#[tokio::test]
async fn the_default_cap_is_64_mib() {
    assert_eq!(DEFAULT_MAX_BODY_SIZE, 64 * 1024 * 1024);
    let server = MockServer::start_async().await;
    // A body just over the default: a JSON page padded with spaces.
    let mut body = fixture("seed-response.json").to_string().into_bytes();
    body.resize(DEFAULT_MAX_BODY_SIZE as usize + 1, b' ');
    server
        .mock_async(|_, then| {
            then.status(200)
                .header("content-type", "application/json")
                .body(body);
        })
        .await;
    let error = client(&server, None)
        .details_page(request())
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("larger than the limit of 64 MiB"),
        "{error}"
    );
}
