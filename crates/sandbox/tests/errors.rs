//! Refusals over real HTTP: validation (400) and authorization (401) of both operations.

mod common;

use std::time::Duration;

use ccsqm_client::types::{AppraisecallDetailsRequest, TokenByAkSkRequest};
use ccsqm_client::Client;
use ccsqm_sandbox::{Sandbox, DETAILS_PATH, TOKEN_PATH};
use common::{all, sandbox};

/// Posts a raw body to `appraisecall/details` with valid credentials: (status, body text).
async fn post_raw(sandbox: &Sandbox, body: &str) -> (u16, String) {
    let token = sandbox.issue_token(Duration::from_secs(60));
    let response = reqwest::Client::new()
        .post(format!("{}{DETAILS_PATH}", sandbox.base_url()))
        .header("Authorization", format!("Bearer {}", token.expose()))
        .header("x-UserId", &sandbox.credentials().user_id)
        .header("Content-Type", "application/json; charset=UTF-8")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

const VALID: &str = r#"{"limit": 10, "page": 1, "call_types": [0, 2], "status": [2], "upload_from": null, "upload_to": null}"#;

#[tokio::test]
async fn malformed_bodies_are_400_naming_the_field() {
    let sandbox = sandbox(20).await;
    assert_eq!(post_raw(&sandbox, VALID).await.0, 200);
    let cases = [
        // A missing mandatory field; a mandatory nullable field left out.
        (
            r#"{"page": 1, "call_types": [0], "status": [2], "upload_from": null, "upload_to": null}"#,
            "limit",
        ),
        (
            r#"{"limit": 10, "page": 1, "call_types": [0], "status": [2], "upload_to": null}"#,
            "upload_from",
        ),
        // Wrong types.
        (
            r#"{"limit": "ten", "page": 1, "call_types": [0], "status": [2], "upload_from": null, "upload_to": null}"#,
            "limit",
        ),
        (
            r#"{"limit": 10, "page": 1, "call_types": 0, "status": [2], "upload_from": null, "upload_to": null}"#,
            "call_types",
        ),
        (
            r#"{"limit": 10, "page": 1, "call_types": [0], "status": [2], "upload_from": "yesterday", "upload_to": null}"#,
            "upload_from",
        ),
        // Values outside the spec's enumerations and ranges.
        (
            r#"{"limit": 10, "page": 1, "call_types": [1], "status": [2], "upload_from": null, "upload_to": null}"#,
            "call_types",
        ),
        (
            r#"{"limit": 10, "page": 1, "call_types": [0], "status": [7], "upload_from": null, "upload_to": null}"#,
            "status",
        ),
        (
            r#"{"limit": 0, "page": 1, "call_types": [0], "status": [2], "upload_from": null, "upload_to": null}"#,
            "limit",
        ),
        (
            r#"{"limit": 10, "page": 0, "call_types": [0], "status": [2], "upload_from": null, "upload_to": null}"#,
            "page",
        ),
        (
            r#"{"limit": 10, "page": -1, "call_types": [0], "status": [2], "upload_from": null, "upload_to": null}"#,
            "page",
        ),
        // Beyond the spec's int64 (found by `cargo xtask conformance`).
        (
            r#"{"limit": 9223372036854775808, "page": 1, "call_types": [0], "status": [2], "upload_from": null, "upload_to": null}"#,
            "limit",
        ),
        (
            r#"{"limit": 10, "page": 9223372036854775808, "call_types": [0], "status": [2], "upload_from": null, "upload_to": null}"#,
            "page",
        ),
        (
            r#"{"limit": 10, "page": 1, "call_types": [0], "status": [2], "upload_from": null, "upload_to": null, "duration_min": -5}"#,
            "duration_min",
        ),
        // Not JSON at all.
        ("limit=10", "invalid request body"),
        ("", "invalid request body"),
    ];
    for (body, field) in cases {
        let (status, text) = post_raw(&sandbox, body).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            text.starts_with(field),
            "{body}: {text:?} should name {field}"
        );
        assert!(text.len() < 200, "a short reason: {text:?}");
    }
}

/// Every request the spec allows is answered 200: reversed windows match nothing, and a
/// `limit` above the sandbox's maximum is answered as the maximum.
#[tokio::test]
async fn schema_valid_requests_the_sandbox_cannot_honour_fully_are_200() {
    let sandbox = sandbox(1500).await;
    let client = sandbox.client().unwrap();
    let reversed = [
        AppraisecallDetailsRequest {
            call_from: Some(i64::from(u32::MAX)),
            call_to: Some(0),
            ..all(10)
        },
        AppraisecallDetailsRequest {
            upload_from: Some(i64::from(u32::MAX)),
            upload_to: Some(0),
            ..all(10)
        },
        AppraisecallDetailsRequest {
            duration_min: Some(600),
            duration_max: Some(30),
            ..all(10)
        },
    ];
    for request in reversed {
        let page = client.details().body(request.clone()).send().await.unwrap();
        assert!(page.data.is_empty(), "{request:?}");
        assert_eq!(page.paging.as_ref().and_then(|p| p.total), Some(0));
        let (status, _) = post_raw(&sandbox, &serde_json::to_string(&request).unwrap()).await;
        assert_eq!(status, 200);
    }
    // Clamped: the first page of 5000 is the first page of MAX_LIMIT, and the second page
    // continues after it.
    let total = sandbox.data().len() as u64;
    assert!(total > ccsqm_sandbox::MAX_LIMIT, "{total}");
    let count = |page: &ccsqm_client::types::AppraisecallDetailsResponse| {
        page.data.iter().map(|g| g.calls.len() as u64).sum::<u64>()
    };
    let big = client.details().body(all(5000)).send().await.unwrap();
    assert_eq!(count(&big), ccsqm_sandbox::MAX_LIMIT);
    assert_eq!(
        big.paging.as_ref().and_then(|p| p.total),
        Some(total as i64)
    );
    let second = AppraisecallDetailsRequest {
        page: std::num::NonZeroU64::new(2).unwrap(),
        ..all(5000)
    };
    let second = client.details().body(second).send().await.unwrap();
    assert_eq!(count(&second), total - ccsqm_sandbox::MAX_LIMIT);
    let (status, _) = post_raw(
        &sandbox,
        r#"{"limit": 9223372036854775807, "page": 1, "call_types": [0], "status": [2], "upload_from": null, "upload_to": null}"#,
    )
    .await;
    assert_eq!(status, 200);
    // Equal bounds are fine: the bounds are inclusive.
    let equal = AppraisecallDetailsRequest {
        call_from: Some(100),
        call_to: Some(100),
        duration_min: Some(5),
        duration_max: Some(5),
        ..all(10)
    };
    assert!(client.details().body(equal).send().await.is_ok());
}

fn client_with(sandbox: &Sandbox, token: Option<&str>, user: &str) -> Client {
    let builder = Client::builder(sandbox.base_url()).user_id(user);
    match token {
        Some(token) => builder.bearer_token(token),
        None => builder,
    }
    .build()
    .unwrap()
}

async fn details_status(client: &Client) -> Option<u16> {
    match client.details().body(all(10)).send().await {
        Ok(_) => Some(200),
        Err(e) => e.status().map(|s| s.as_u16()),
    }
}

#[tokio::test]
async fn details_needs_a_valid_token_and_the_operator() {
    let sandbox = sandbox(20).await;
    let user = sandbox.credentials().user_id.clone();
    let token = sandbox.issue_token(Duration::from_secs(60));
    assert_eq!(
        details_status(&client_with(&sandbox, Some(token.expose()), &user)).await,
        Some(200)
    );
    assert_eq!(
        details_status(&client_with(&sandbox, None, &user)).await,
        Some(401)
    );
    assert_eq!(
        details_status(&client_with(&sandbox, Some("0123456789abcdef"), &user)).await,
        Some(401)
    );
    assert_eq!(
        details_status(&client_with(&sandbox, Some(token.expose()), "someone-else")).await,
        Some(401)
    );

    // Another sandbox's token is unknown here.
    let other = common::sandbox(0).await;
    let foreign = other.issue_token(Duration::from_secs(60));
    assert_eq!(
        details_status(&client_with(&sandbox, Some(foreign.expose()), &user)).await,
        Some(401)
    );

    // Without x-UserId, or with a malformed Authorization.
    let raw = reqwest::Client::new();
    let url = format!("{}{DETAILS_PATH}", sandbox.base_url());
    let no_user = raw
        .post(&url)
        .header("Authorization", format!("Bearer {}", token.expose()))
        .body(VALID)
        .send()
        .await
        .unwrap();
    assert_eq!(no_user.status().as_u16(), 400);
    assert_eq!(no_user.text().await.unwrap(), "x-UserId: missing header\n");
    let basic = raw
        .post(&url)
        .header("Authorization", format!("Basic {}", token.expose()))
        .header("X-UserID", &user)
        .body(VALID)
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status().as_u16(), 401);
    // Header names are case-insensitive: the vendor's own `X-UserID` works.
    let vendor_spelling = raw
        .post(&url)
        .header("Authorization", format!("Bearer {}", token.expose()))
        .header("X-UserID", &user)
        .body(VALID)
        .send()
        .await
        .unwrap();
    assert_eq!(vendor_spelling.status().as_u16(), 200);
}

fn token_request(key: &str, secret: &str) -> TokenByAkSkRequest {
    TokenByAkSkRequest {
        app_key: key.to_owned(),
        app_secret: secret.into(),
    }
}

#[tokio::test]
async fn tokens_are_issued_for_the_credentials_and_expire() {
    let sandbox = sandbox(20).await;
    let anonymous = Client::builder(sandbox.base_url())
        .user_id("x")
        .build()
        .unwrap();
    let creds = sandbox.credentials().clone();

    // Default lifetime.
    let token = anonymous
        .token_by_ak_sk()
        .body(token_request(&creds.app_key, creds.app_secret.expose()))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(token.expires.as_deref(), Some("600"));
    assert_eq!(token.apply_type.as_deref(), Some("Bearer"));
    assert_eq!(token.app_key.as_deref(), Some(creds.app_key.as_str()));
    let created: u64 = token.create_time.as_deref().unwrap().parse().unwrap();
    assert!(created > 1_700_000_000);
    let user = creds.user_id.as_str();
    assert_eq!(
        details_status(&client_with(
            &sandbox,
            Some(token.access_token.expose()),
            user
        ))
        .await,
        Some(200)
    );

    // Wrong credentials.
    for (key, secret) in [
        (creds.app_key.as_str(), "wrong"),
        ("wrong", creds.app_secret.expose()),
    ] {
        let err = anonymous
            .token_by_ak_sk()
            .body(token_request(key, secret))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    }

    // X-Token-Expire: at most 3600.
    let max = anonymous
        .token_by_ak_sk()
        .x_token_expire(3600u64)
        .body(token_request(&creds.app_key, creds.app_secret.expose()))
        .send()
        .await
        .unwrap();
    assert_eq!(max.into_inner().expires.as_deref(), Some("3600"));
    let over = anonymous
        .token_by_ak_sk()
        .x_token_expire(3601u64)
        .body(token_request(&creds.app_key, creds.app_secret.expose()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(over.status().map(|s| s.as_u16()), Some(400));

    // A one-second token expires for real.
    let short = anonymous
        .token_by_ak_sk()
        .x_token_expire(1u64)
        .body(token_request(&creds.app_key, creds.app_secret.expose()))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(short.expires.as_deref(), Some("1"));
    let client = client_with(&sandbox, Some(short.access_token.expose()), user);
    assert_eq!(details_status(&client).await, Some(200));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(details_status(&client).await, Some(401));
    let text = reqwest::Client::new()
        .post(format!("{}{DETAILS_PATH}", sandbox.base_url()))
        .header(
            "Authorization",
            format!("Bearer {}", short.access_token.expose()),
        )
        .header("x-UserId", user)
        .body(VALID)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "Authorization: token expired\n");

    // A malformed token request.
    let raw = reqwest::Client::new()
        .post(format!("{}{TOKEN_PATH}", sandbox.base_url()))
        .body(r#"{"app_key": "sandbox-app-key"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 400);
    assert!(raw.text().await.unwrap().contains("app_secret"));
}

#[tokio::test]
async fn custom_credentials_and_unknown_paths() {
    let sandbox = Sandbox::builder()
        .calls(0)
        .app_key("k")
        .app_secret("s")
        .user_id("u")
        .start()
        .await
        .unwrap();
    assert_eq!(sandbox.credentials().app_key, "k");
    assert!(!format!("{:?}", sandbox.credentials()).contains("\"s\""));
    let anonymous = Client::builder(sandbox.base_url())
        .user_id("u")
        .build()
        .unwrap();
    let token = anonymous
        .token_by_ak_sk()
        .body(token_request("k", "s"))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        details_status(&client_with(
            &sandbox,
            Some(token.access_token.expose()),
            "u"
        ))
        .await,
        Some(200)
    );
    let err = anonymous
        .token_by_ak_sk()
        .body(token_request(
            ccsqm_sandbox::DEFAULT_APP_KEY,
            ccsqm_sandbox::DEFAULT_APP_SECRET,
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));

    let missing = reqwest::Client::new()
        .post(format!(
            "{}/apiaccess/CCSQM/rest/ccisqm/v1/appraisecall/nothing",
            sandbox.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    let wrong_method = reqwest::Client::new()
        .get(format!("{}{DETAILS_PATH}", sandbox.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status().as_u16(), 405);
}

#[tokio::test]
async fn only_loopback_unless_allowed() {
    let addr = "0.0.0.0:0".parse().unwrap();
    let err = Sandbox::builder()
        .calls(0)
        .addr(addr)
        .start()
        .await
        .unwrap_err();
    assert!(matches!(err, ccsqm_sandbox::Error::NotLoopback(_)), "{err}");
    let everywhere = Sandbox::builder()
        .calls(0)
        .addr(addr)
        .allow_non_loopback(true)
        .start()
        .await
        .unwrap();
    assert!(everywhere.addr().ip().is_unspecified());
    assert!(everywhere.base_url().starts_with("http://127.0.0.1:"));
    let client = everywhere.client().unwrap();
    assert!(client.details().body(all(10)).send().await.is_ok());
    let v6 = Sandbox::builder()
        .calls(0)
        .addr("[::1]:0".parse().unwrap())
        .start()
        .await;
    if let Ok(v6) = v6 {
        assert!(v6.base_url().starts_with("http://[::1]:"));
    }
}
