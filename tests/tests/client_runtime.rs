//! The client's runtime against the typed mocks: tokens from `tokenByAkSk`, retries, timeouts,
//! errors, redaction. Paging is in `client_paging.rs`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ccsqm_client::types::{AppraisecallDetailsRequest, AppraisecallDetailsResponse};
use ccsqm_client::types::{TokenByAkSkRequest, TokenByAkSkResponse};
use ccsqm_client::{ApiError, BuildError, Client, ClientBuilder, ErrorKind, RetryPolicy};
use ccsqm_httpmock::MockServerExt;
use ccsqm_tests::fixture;
use httpmock::{HttpMockRequest, MockServer};

const USER_ID: &str = "1611917095665261978";
const APP_KEY: &str = "my-app-key";
const APP_SECRET: &str = "app-5ecret-do-not-show";
const TOKEN_1: &str = "tok-1-5ecret";
const TOKEN_2: &str = "tok-2-5ecret";
const DETAILS_PATH: &str = ccsqm_client::spec::APPRAISECALL_DETAILS.path;

fn seed_request() -> AppraisecallDetailsRequest {
    serde_json::from_value(fixture("seed-request.json")).unwrap()
}

fn seed_page() -> AppraisecallDetailsResponse {
    serde_json::from_value(fixture("seed-response.json")).unwrap()
}

fn issued(token: &str, expires: &str) -> TokenByAkSkResponse {
    serde_json::from_value(serde_json::json!({
        "AccessToken": token, "ApplyType": "Bearer", "CreateTime": "1545650171",
        "Expires": expires, "Scope": "s", "AppKey": APP_KEY, "UserID": "Anonymous"
    }))
    .unwrap()
}

/// Tiny waits, so that the tests stay fast.
fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        max_elapsed: Duration::from_secs(10),
    }
}

fn builder(server: &MockServer) -> ClientBuilder {
    Client::builder(&server.base_url())
        .user_id(USER_ID)
        .retry(fast_retries())
}

fn ak_sk_client(server: &MockServer) -> Client {
    builder(server).ak_sk(APP_KEY, APP_SECRET).build().unwrap()
}

/// A custom matcher that is true for the first `n` requests to `path` it sees (the mock server
/// matches one request at a time, trying its mocks in the order they were made).
fn first(n: usize, path: &'static str) -> impl Fn(&HttpMockRequest) -> bool + Send + Sync {
    let left = AtomicUsize::new(n);
    move |request| {
        request.uri().path() == path
            && left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |l| l.checked_sub(1))
                .is_ok()
    }
}

const TOKEN_PATH: &str = ccsqm_client::spec::TOKEN_BY_AK_SK.path;

// ---- tokens from tokenByAkSk ----

#[tokio::test]
async fn the_token_is_fetched_once_and_reused() {
    let server = MockServer::start_async().await;
    let token = server.token_by_ak_sk(|when, then| {
        when.x_token_expire(std::num::NonZeroU64::new(900))
            .body(&TokenByAkSkRequest {
                app_key: APP_KEY.into(),
                app_secret: APP_SECRET.into(),
            })
            .into_inner()
            .header_missing("authorization");
        then.ok(&issued(TOKEN_1, "900"));
    });
    let details = server.appraisecall_details(|when, then| {
        when.x_user_id(USER_ID)
            .x_app_key(APP_KEY)
            .into_inner()
            .header("authorization", format!("Bearer {TOKEN_1}"));
        then.ok(&seed_page());
    });
    let client = builder(&server)
        .ak_sk(APP_KEY, APP_SECRET)
        .token_lifetime(Duration::from_secs(900))
        .build()
        .unwrap();
    for _ in 0..3 {
        let page = client.details_page(seed_request()).await.unwrap();
        assert_eq!(page, seed_page());
    }
    // The low-level builder gets the same token.
    client.details().body(seed_request()).send().await.unwrap();
    assert_eq!(token.calls_async().await, 1);
    assert_eq!(details.calls_async().await, 4);
    assert_eq!(
        client.access_token().await.unwrap().unwrap().expose(),
        TOKEN_1
    );
}

#[tokio::test]
async fn the_token_is_replaced_before_it_expires() {
    let server = MockServer::start_async().await;
    // Expires 1 s: replaced after four fifths of it.
    let token = server.token_by_ak_sk(|_, then| drop(then.ok(&issued(TOKEN_1, "1"))));
    let details = server.appraisecall_details(|_, then| drop(then.ok(&seed_page())));
    let client = ak_sk_client(&server);
    client.details_page(seed_request()).await.unwrap();
    client.details_page(seed_request()).await.unwrap();
    assert_eq!(token.calls_async().await, 1, "still fresh: reused");
    tokio::time::sleep(Duration::from_millis(850)).await;
    client.details_page(seed_request()).await.unwrap();
    assert_eq!(token.calls_async().await, 2, "due: replaced before use");
    assert_eq!(details.calls_async().await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_share_one_token_request() {
    let server = MockServer::start_async().await;
    let token = server.token_by_ak_sk(|_, then| {
        then.ok(&issued(TOKEN_1, "600"))
            .into_inner()
            .delay(Duration::from_millis(200));
    });
    let details = server.appraisecall_details(|_, then| drop(then.ok(&seed_page())));
    let client = ak_sk_client(&server);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let client = client.clone();
        tasks.spawn(async move { client.details_page(seed_request()).await });
    }
    while let Some(result) = tasks.join_next().await {
        result.unwrap().unwrap();
    }
    assert_eq!(token.calls_async().await, 1);
    assert_eq!(details.calls_async().await, 16);
}

#[tokio::test]
async fn a_401_gets_one_new_token_and_one_retry() {
    let server = MockServer::start_async().await;
    let first_token = server.token_by_ak_sk(|when, then| {
        when.into_inner().is_true(first(1, TOKEN_PATH));
        then.ok(&issued(TOKEN_1, "600"));
    });
    let second_token = server.token_by_ak_sk(|_, then| drop(then.ok(&issued(TOKEN_2, "600"))));
    let rejected = server.appraisecall_details(|when, then| {
        when.into_inner()
            .header("authorization", format!("Bearer {TOKEN_1}"));
        then.unauthorized();
    });
    let accepted = server.appraisecall_details(|when, then| {
        when.into_inner()
            .header("authorization", format!("Bearer {TOKEN_2}"));
        then.ok(&seed_page());
    });
    let client = ak_sk_client(&server);
    client.details_page(seed_request()).await.unwrap();
    assert_eq!(first_token.calls_async().await, 1);
    assert_eq!(second_token.calls_async().await, 1);
    assert_eq!(rejected.calls_async().await, 1);
    assert_eq!(accepted.calls_async().await, 1);
    // The new token stays.
    client.details_page(seed_request()).await.unwrap();
    assert_eq!(second_token.calls_async().await, 1);
    assert_eq!(accepted.calls_async().await, 2);
}

#[tokio::test]
async fn a_401_after_a_new_token_is_an_error_not_a_loop() {
    let server = MockServer::start_async().await;
    let token = server.token_by_ak_sk(|_, then| drop(then.ok(&issued(TOKEN_1, "600"))));
    let details = server.appraisecall_details(|_, then| drop(then.unauthorized()));
    let err = ak_sk_client(&server)
        .details_page(seed_request())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(token.calls_async().await, 2);
    assert_eq!(details.calls_async().await, 2);
}

#[tokio::test]
async fn a_401_with_a_fixed_token_is_not_retried() {
    let server = MockServer::start_async().await;
    let details = server.appraisecall_details(|_, then| drop(then.unauthorized()));
    let client = builder(&server).bearer_token(TOKEN_1).build().unwrap();
    let err = client.details_page(seed_request()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(details.calls_async().await, 1);
}

#[tokio::test]
async fn the_token_interface_can_have_its_own_base_url() {
    let api = MockServer::start_async().await;
    let tokens = MockServer::start_async().await;
    let wrong = api.token_by_ak_sk(|_, then| drop(then.ok(&issued(TOKEN_2, "600"))));
    let right = tokens.token_by_ak_sk(|_, then| drop(then.ok(&issued(TOKEN_1, "600"))));
    let details = api.appraisecall_details(|when, then| {
        when.into_inner()
            .header("authorization", format!("Bearer {TOKEN_1}"));
        then.ok(&seed_page());
    });
    let client = builder(&api)
        .ak_sk(APP_KEY, APP_SECRET)
        .token_base_url(&tokens.base_url())
        .build()
        .unwrap();
    client.details_page(seed_request()).await.unwrap();
    assert_eq!(
        (wrong.calls_async().await, right.calls_async().await),
        (0, 1)
    );
    assert_eq!(details.calls_async().await, 1);
}

#[tokio::test]
async fn a_refused_token_is_an_auth_error_without_the_secret() {
    let server = MockServer::start_async().await;
    let token = server.token_by_ak_sk(|_, then| drop(then.client_error(401)));
    let details = server.appraisecall_details(|_, then| drop(then.ok(&seed_page())));
    let client = ak_sk_client(&server);
    let err = client.details_page(seed_request()).await.unwrap_err();
    assert!(matches!(err, ApiError::Token { .. }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    let shown = format!("{err:?} {err}");
    assert!(!shown.contains(APP_SECRET), "{shown}");
    assert_eq!(token.calls_async().await, 1, "401 is not retried");
    assert_eq!(details.calls_async().await, 0);

    // Through the low-level builder, the same failure is an error too.
    let err = ApiError::from(
        client
            .details()
            .body(seed_request())
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(details.calls_async().await, 0);
}

#[tokio::test]
async fn an_unavailable_token_interface_is_retried() {
    let server = MockServer::start_async().await;
    let busy = server.token_by_ak_sk(|when, then| {
        when.into_inner().is_true(first(2, TOKEN_PATH));
        then.server_error(503);
    });
    let token = server.token_by_ak_sk(|_, then| drop(then.ok(&issued(TOKEN_1, "600"))));
    server.appraisecall_details(|_, then| drop(then.ok(&seed_page())));
    ak_sk_client(&server)
        .details_page(seed_request())
        .await
        .unwrap();
    assert_eq!(busy.calls_async().await, 2);
    assert_eq!(token.calls_async().await, 1);
}

/// A token interface that stays down is a server failure, not a credentials problem.
#[tokio::test]
async fn a_token_interface_that_stays_down_is_a_server_error() {
    let server = MockServer::start_async().await;
    let token = server.token_by_ak_sk(|_, then| drop(then.server_error(503)));
    let details = server.appraisecall_details(|_, then| drop(then.ok(&seed_page())));
    let err = ak_sk_client(&server)
        .details_page(seed_request())
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Token { .. }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(
        token.calls_async().await,
        1 + fast_retries().max_retries as usize
    );
    assert_eq!(details.calls_async().await, 0);
}

/// Through the generated builders (`client.details().send()`), a token failure raised in the
/// request hook keeps its type and class once converted to an `ApiError`.
#[tokio::test]
async fn token_failures_in_the_generated_builders_keep_their_type() {
    for (status, kind) in [
        (503, ErrorKind::Server),
        (500, ErrorKind::Server),
        (401, ErrorKind::Auth),
    ] {
        let server = MockServer::start_async().await;
        server.token_by_ak_sk(|_, then| drop(then.into_inner().status(status)));
        let details = server.appraisecall_details(|_, then| drop(then.ok(&seed_page())));
        let client = ak_sk_client(&server);
        let err = client
            .details()
            .body(seed_request())
            .send()
            .await
            .unwrap_err();
        let err = ApiError::from(err);
        assert!(matches!(err, ApiError::Token { .. }), "{err:?}");
        assert_eq!(err.kind(), kind, "{status}: {err}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert!(!err.to_string().contains("token error #"), "{err}");
        assert_eq!(details.calls_async().await, 0);
    }
    // A 200 without a usable token: unreadable, a server failure (exit 5 in `ccsqm`).
    let server = MockServer::start_async().await;
    server.token_by_ak_sk(|_, then| {
        then.into_inner()
            .status(200)
            .header("content-type", "application/json")
            .body(r#"{"AccessToken": "", "Expires": "600"}"#);
    });
    let err = ak_sk_client(&server)
        .details_page(seed_request())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnreadableBody, "{err}");
    assert!(err.to_string().contains("AccessToken is empty"), "{err}");
}

/// Every piece of server text an error keeps has the client's credentials removed, through
/// the client's methods and through the generated builders, at any status.
#[tokio::test]
async fn echoed_credentials_are_redacted_in_every_error() {
    for status in [200, 400, 403, 418, 429, 500, 502, 503] {
        let server = MockServer::start_async().await;
        server.token_by_ak_sk(|_, then| drop(then.ok(&issued(TOKEN_1, "600"))));
        let echo = format!(
            "<pre>Authorization: Bearer {TOKEN_1}\nx-app-key: {APP_KEY}\nbody: {APP_SECRET}</pre>"
        );
        server.appraisecall_details(|_, then| {
            then.into_inner()
                .status(status)
                .header("content-type", "application/json")
                .body(&echo);
        });
        let client = ak_sk_client(&server);
        let via_method = client.details_page(seed_request()).await.unwrap_err();
        let via_builder = ApiError::from(
            client
                .details()
                .body(seed_request())
                .send()
                .await
                .unwrap_err(),
        );
        for err in [via_method, via_builder] {
            let text = format!("{err} {err:?}");
            for secret in [TOKEN_1, APP_SECRET] {
                assert!(!text.contains(secret), "{status}: {text}");
            }
        }
    }
}

/// `Client::issue_token` reads `Expires` tolerantly.
#[tokio::test]
async fn issued_tokens_read_expires_tolerantly() {
    for (expires, seconds, noted) in [
        (serde_json::json!("300"), 300, false),
        (serde_json::json!(300), 300, true),
        (serde_json::json!("0"), 600, true),
        (serde_json::json!("-1"), 600, true),
        (serde_json::json!("soon"), 600, true),
        (serde_json::json!(null), 600, false),
    ] {
        let server = MockServer::start_async().await;
        let body = serde_json::json!({"AccessToken": TOKEN_1, "Expires": expires}).to_string();
        server.token_by_ak_sk(|_, then| {
            then.into_inner()
                .status(200)
                .header("content-type", "application/json")
                .body(&body);
        });
        let issued = ak_sk_client(&server).issue_token().await.unwrap();
        assert_eq!(issued.access_token.expose(), TOKEN_1);
        assert_eq!(issued.lifetime, Duration::from_secs(seconds), "{expires}");
        assert_eq!(issued.expires_note.is_some(), noted, "{expires}");
    }
}

// ---- retries ----

#[tokio::test]
async fn transient_statuses_are_retried() {
    for status in [429, 502, 503, 504] {
        let server = MockServer::start_async().await;
        let failing = server.appraisecall_details(|when, then| {
            when.into_inner().is_true(first(2, DETAILS_PATH));
            then.into_inner().status(status);
        });
        let ok = server.appraisecall_details(|_, then| drop(then.ok(&seed_page())));
        let client = builder(&server).bearer_token(TOKEN_1).build().unwrap();
        let page = client.details_page(seed_request()).await;
        assert_eq!(page.unwrap(), seed_page(), "{status}");
        assert_eq!(failing.calls_async().await, 2, "{status}");
        assert_eq!(ok.calls_async().await, 1, "{status}");
    }
}

#[tokio::test]
async fn documented_errors_are_not_retried_and_carry_the_vendor_guidance() {
    type Respond = fn(ccsqm_httpmock::operations::AppraisecallDetailsThen);
    let cases: [(u16, ErrorKind, Respond); 4] = [
        (400, ErrorKind::BadRequest, |then| drop(then.bad_request())),
        (401, ErrorKind::Auth, |then| drop(then.unauthorized())),
        (404, ErrorKind::NotFound, |then| drop(then.not_found())),
        (500, ErrorKind::Business, |then| {
            drop(then.internal_server_error())
        }),
    ];
    for (status, kind, respond) in cases {
        let server = MockServer::start_async().await;
        let mock = server.appraisecall_details(|_, then| respond(then));
        let client = builder(&server).bearer_token(TOKEN_1).build().unwrap();
        let err = client.details_page(seed_request()).await.unwrap_err();
        assert_eq!(mock.calls_async().await, 1, "{status} is not retried");
        assert_eq!(err.kind(), kind);
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        let guidance = ccsqm_client::vendor_guidance(status).unwrap();
        assert!(err.to_string().contains(guidance), "{err}");
        assert!(!format!("{err:?} {err}").contains(TOKEN_1));
    }
}

#[tokio::test]
async fn retries_are_bounded_in_count() {
    let server = MockServer::start_async().await;
    let mock = server.appraisecall_details(|_, then| drop(then.into_inner().status(503)));
    let client = builder(&server)
        .bearer_token(TOKEN_1)
        .retry(RetryPolicy {
            max_retries: 2,
            ..fast_retries()
        })
        .build()
        .unwrap();
    let err = client.details_page(seed_request()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(mock.calls_async().await, 3);
}

#[tokio::test]
async fn retries_are_bounded_in_time() {
    let server = MockServer::start_async().await;
    let mock = server.appraisecall_details(|_, then| drop(then.into_inner().status(502)));
    let policy = RetryPolicy {
        max_retries: 1000,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(40),
        max_elapsed: Duration::from_millis(300),
    };
    let client = builder(&server)
        .bearer_token(TOKEN_1)
        .retry(policy)
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.details_page(seed_request()).await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(502));
    assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
    // Waits of 10 to 40 ms within 300 ms: more than one retry, far fewer than 1000.
    let calls = mock.calls_async().await;
    assert!((3..=31).contains(&calls), "{calls} attempts");
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let server = MockServer::start_async().await;
    let busy = server.appraisecall_details(|when, then| {
        when.into_inner().is_true(first(1, DETAILS_PATH));
        then.into_inner().status(429).header("retry-after", "1");
    });
    let ok = server.appraisecall_details(|_, then| drop(then.ok(&seed_page())));
    let client = builder(&server).bearer_token(TOKEN_1).build().unwrap();
    let started = Instant::now();
    client.details_page(seed_request()).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!((busy.calls_async().await, ok.calls_async().await), (1, 1));
}

#[tokio::test]
async fn a_retry_after_beyond_the_time_bound_ends_the_retries() {
    let server = MockServer::start_async().await;
    let busy = server.appraisecall_details(|_, then| {
        then.into_inner().status(503).header("retry-after", "120");
    });
    let client = builder(&server).bearer_token(TOKEN_1).build().unwrap();
    let started = Instant::now();
    let err = client.details_page(seed_request()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(busy.calls_async().await, 1);
}

#[tokio::test]
async fn timeouts_are_retried_then_reported_as_network_errors() {
    let server = MockServer::start_async().await;
    let slow = server.appraisecall_details(|_, then| {
        then.ok(&seed_page())
            .into_inner()
            .delay(Duration::from_millis(400));
    });
    let client = builder(&server)
        .bearer_token(TOKEN_1)
        .timeout(Duration::from_millis(100))
        .retry(RetryPolicy {
            max_retries: 1,
            ..fast_retries()
        })
        .build()
        .unwrap();
    let err = client.details_page(seed_request()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(
        matches!(err, ApiError::Network { timeout: true, .. }),
        "{err:?}"
    );
    assert_eq!(slow.calls_async().await, 2);
}

#[tokio::test]
async fn connection_errors_are_network_errors() {
    // A port that nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::builder(&format!("http://127.0.0.1:{port}"))
        .user_id(USER_ID)
        .retry(fast_retries())
        .build()
        .unwrap();
    let err = client.details_page(seed_request()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(
        matches!(err, ApiError::Network { timeout: false, .. }),
        "{err:?}"
    );
}

// ---- errors ----

#[tokio::test]
async fn unreadable_bodies_show_their_start() {
    let server = MockServer::start_async().await;
    server.appraisecall_details(|_, then| {
        then.into_inner()
            .status(200)
            .header("content-type", "application/json")
            .body("<html>maintenance</html>");
    });
    let client = builder(&server).bearer_token(TOKEN_1).build().unwrap();
    let err = client.details_page(seed_request()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnreadableBody);
    assert!(err.to_string().contains("<html>maintenance"), "{err}");

    let server = MockServer::start_async().await;
    server.appraisecall_details(|_, then| {
        then.into_inner()
            .status(403)
            .body("Access denied by the web application firewall");
    });
    let client = builder(&server).bearer_token(TOKEN_1).build().unwrap();
    let err = client.details_page(seed_request()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403));
    assert!(
        err.to_string().contains("web application firewall"),
        "{err}"
    );
}

#[test]
fn the_vendor_guidance_is_the_spec_s() {
    let spec = ccsqm_tests::spec();
    let responses = &spec["paths"][DETAILS_PATH]["post"]["responses"];
    for status in [400u16, 401, 404, 500] {
        let reference = responses[status.to_string()]["$ref"].as_str().unwrap();
        let name = reference.rsplit('/').next().unwrap();
        let description = spec["components"]["responses"][name]["description"]
            .as_str()
            .unwrap();
        assert_eq!(
            ccsqm_client::vendor_guidance(status),
            Some(description.trim()),
            "{status}"
        );
    }
    assert_eq!(ccsqm_client::vendor_guidance(200), None);
    assert_eq!(ccsqm_client::vendor_guidance(503), None);
}

// ---- configuration and redaction ----

#[test]
fn secrets_are_not_in_the_debug_output_of_configs() {
    let builder = Client::builder("https://service.besclouds.com")
        .user_id(USER_ID)
        .ak_sk(APP_KEY, APP_SECRET);
    let client = builder.clone().build().unwrap();
    let with_token = Client::builder("https://service.besclouds.com")
        .user_id(USER_ID)
        .bearer_token(TOKEN_1);
    let shown = format!(
        "{builder:?} {client:?} {:?} {with_token:?} {:?}",
        client.session(),
        with_token.clone().build().unwrap()
    );
    assert!(!shown.contains(APP_SECRET), "{shown}");
    assert!(!shown.contains(TOKEN_1), "{shown}");
    assert!(
        shown.contains(APP_KEY) && shown.contains(USER_ID),
        "{shown}"
    );
    assert!(shown.contains("***"), "{shown}");
}

#[test]
fn plain_http_is_for_loopback_unless_allowed() {
    let build = |url: &str| Client::builder(url).user_id(USER_ID).build();
    for url in [
        "http://127.0.0.1:8080",
        "http://127.1.2.3",
        "http://localhost:9",
        "http://[::1]:9",
        "https://service.besclouds.com",
    ] {
        assert!(build(url).is_ok(), "{url}");
    }
    for url in ["http://service.besclouds.com", "http://10.0.0.1"] {
        assert!(
            matches!(build(url), Err(BuildError::InsecureHttp { .. })),
            "{url}"
        );
        let allowed = Client::builder(url)
            .user_id(USER_ID)
            .allow_insecure_http(true)
            .build();
        assert!(allowed.is_ok(), "{url}");
    }
    let token_url = Client::builder("https://service.besclouds.com")
        .user_id(USER_ID)
        .ak_sk(APP_KEY, APP_SECRET)
        .token_base_url("http://service.besclouds.com:28070")
        .build();
    assert!(matches!(token_url, Err(BuildError::InsecureHttp { .. })));
}

#[test]
fn token_lifetimes_and_credentials_are_checked() {
    let base = || {
        Client::builder("https://service.besclouds.com")
            .user_id(USER_ID)
            .ak_sk(APP_KEY, APP_SECRET)
    };
    for seconds in [0, 3601] {
        let built = base().token_lifetime(Duration::from_secs(seconds)).build();
        assert!(
            matches!(built, Err(BuildError::TokenLifetime { .. })),
            "{seconds}"
        );
    }
    assert!(base()
        .token_lifetime(Duration::from_secs(3600))
        .build()
        .is_ok());
    let both = base().bearer_token(TOKEN_1).build();
    assert!(matches!(both, Err(BuildError::TwoCredentials)));
}
