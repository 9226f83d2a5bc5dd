//! The generated client against the generated typed mocks: what goes over the wire.

use std::num::NonZeroU64;

use ccsqm_client::types::{AppraisecallDetailsRequest, AppraisecallDetailsResponse};
use ccsqm_client::{types, BuildError, Client, Error};
use ccsqm_httpmock::MockServerExt;
use ccsqm_tests::fixture;
use httpmock::MockServer;

const TOKEN: &str = "tok-5ecret-0123456789";
const USER_ID: &str = "1611917095665261978";
const APP_KEY: &str = "my-app-key";

fn seed_request() -> AppraisecallDetailsRequest {
    serde_json::from_value(fixture("seed-request.json")).unwrap()
}

fn seed_page() -> AppraisecallDetailsResponse {
    serde_json::from_value(fixture("seed-response.json")).unwrap()
}

/// Sends the vendor's example request through the generated builder.
async fn send_seed(
    client: &Client,
) -> Result<ccsqm_client::ResponseValue<AppraisecallDetailsResponse>, Error<()>> {
    client.details().body(seed_request()).send().await
}

fn client(server: &MockServer, app_key: Option<&str>) -> Client {
    let builder = Client::builder(&server.base_url())
        .bearer_token(TOKEN)
        .user_id(USER_ID);
    match app_key {
        Some(key) => builder.app_key(key),
        None => builder,
    }
    .build()
    .unwrap()
}

#[tokio::test]
async fn details_sends_the_path_headers_and_body_of_the_spec() {
    let server = MockServer::start_async().await;
    let mock = server.appraisecall_details(|when, then| {
        when.x_user_id(USER_ID)
            .x_app_key(APP_KEY)
            .body(&seed_request())
            .into_inner()
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "application/json")
            .header_missing("api-version");
        then.ok(&seed_page());
    });

    let page = client(&server, Some(APP_KEY))
        .details()
        .body(seed_request())
        .send()
        .await
        .unwrap();
    mock.assert();
    assert_eq!(page.status(), 200);
    assert_eq!(page.into_inner(), seed_page());
}

#[tokio::test]
async fn details_without_an_app_key_sends_no_x_app_key() {
    let server = MockServer::start_async().await;
    let mock = server.appraisecall_details(|when, then| {
        when.x_user_id(USER_ID).x_app_key(None);
        then.ok(&seed_page());
    });
    send_seed(&client(&server, None)).await.unwrap();
    mock.assert();
}

#[tokio::test]
async fn documented_error_statuses_are_typed_errors() {
    type Respond = fn(ccsqm_httpmock::operations::AppraisecallDetailsThen);
    let cases: [(u16, Respond); 4] = [
        (400, |then| drop(then.bad_request())),
        (401, |then| drop(then.unauthorized())),
        (404, |then| drop(then.not_found())),
        (500, |then| drop(then.internal_server_error())),
    ];
    for (status, respond) in cases {
        let server = MockServer::start_async().await;
        server.appraisecall_details(|_, then| respond(then));
        let err = send_seed(&client(&server, None))
            .await
            .expect_err("an error status is an error");
        match &err {
            Error::ErrorResponse(response) => assert_eq!(response.status(), status),
            other => panic!("{status}: expected ErrorResponse, got {other:?}"),
        }
        assert!(!format!("{err:?} {err}").contains(TOKEN));
    }
}

#[tokio::test]
async fn unknown_fields_and_status_codes_in_a_page_are_tolerated() {
    let mut body = fixture("seed-response.json");
    body["data"][0]["calls"][0]["status"] = 41.into();
    body["data"][0]["calls"][0]["emotion"] = "calm".into();
    body["trace_id"] = "x-1".into();
    let server = MockServer::start_async().await;
    server.appraisecall_details(|_, then| {
        then.into_inner()
            .status(200)
            .header("content-type", "application/json")
            .json_body(body);
    });
    let page = send_seed(&client(&server, None))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.data.len(), 6);
    assert_eq!(page.data[0].calls[0].status, Some(41));
}

#[tokio::test]
async fn token_request_carries_no_bearer_token() {
    let server = MockServer::start_async().await;
    let request = types::TokenByAkSkRequest {
        app_key: APP_KEY.into(),
        app_secret: "app-5ecret".into(),
    };
    let issued: types::TokenByAkSkResponse = serde_json::from_value(serde_json::json!({
        "AccessToken": "new-token", "ApplyType": "Bearer", "CreateTime": "1545650171",
        "Expires": "600", "Scope": "s", "AppKey": APP_KEY, "UserID": "Anonymous"
    }))
    .unwrap();
    let mock = server.token_by_ak_sk(|when, then| {
        when.x_token_expire(NonZeroU64::new(600))
            .body(&request)
            .into_inner()
            .header_missing("authorization")
            .header("content-type", "application/json");
        then.ok(&issued);
    });
    let token = client(&server, None)
        .token_by_ak_sk()
        .x_token_expire(NonZeroU64::new(600).unwrap())
        .body(request.clone())
        .send()
        .await
        .unwrap()
        .into_inner();
    mock.assert();
    assert_eq!(token.access_token.expose(), "new-token");
    assert_eq!(token.expires.as_deref(), Some("600"));
}

#[tokio::test]
async fn the_token_is_not_in_debug_output() {
    let server = MockServer::start_async().await;
    let client = client(&server, Some(APP_KEY));
    let debug = format!("{client:?} {:?}", client.session());
    assert!(!debug.contains(TOKEN), "{debug}");
    assert!(debug.contains(USER_ID), "the rest stays visible: {debug}");
}

#[test]
fn bad_settings_are_refused_when_building() {
    let missing_user = Client::builder("https://service.besclouds.com").build();
    assert!(matches!(missing_user, Err(BuildError::MissingUserId)));

    for url in [
        "service.besclouds.com",
        "ftp://service.besclouds.com",
        "https://",
    ] {
        let built = Client::builder(url).user_id(USER_ID).build();
        assert!(matches!(built, Err(BuildError::BaseUrl { .. })), "{url}");
    }

    let bad_token = Client::builder("https://service.besclouds.com")
        .user_id(USER_ID)
        .bearer_token(format!("{TOKEN}\n"))
        .build()
        .expect_err("a token with a newline cannot be a header");
    assert!(!format!("{bad_token:?} {bad_token}").contains(TOKEN));
}

#[tokio::test]
async fn the_default_user_agent_names_ccsqm_client_and_its_version() {
    let server = MockServer::start_async().await;
    let mock = server.appraisecall_details(|when, then| {
        when.into_inner().header(
            "user-agent",
            format!("ccsqm-client/{}", env!("CARGO_PKG_VERSION")),
        );
        then.ok(&seed_page());
    });
    assert!(ccsqm_client::USER_AGENT.starts_with("ccsqm-client/"));
    send_seed(&client(&server, None)).await.unwrap();
    mock.assert_async().await;
}

#[tokio::test]
async fn a_caller_supplied_http_client_sends_the_requests_with_its_own_settings() {
    let server = MockServer::start_async().await;
    let user_agent = "billing-service/2.3";
    // Its default header and user agent show that this very client sent the request; the
    // authentication and x-UserId are still the ccsqm client's.
    let mut headers = ccsqm_client::reqwest::header::HeaderMap::new();
    headers.insert("x-service", "billing".parse().unwrap());
    let http = ccsqm_client::reqwest::Client::builder()
        .user_agent(user_agent)
        .default_headers(headers)
        .build()
        .unwrap();
    let mock = server.appraisecall_details(|when, then| {
        when.x_user_id(USER_ID)
            .into_inner()
            .header("user-agent", user_agent)
            .header("x-service", "billing")
            .header("authorization", format!("Bearer {TOKEN}"));
        then.ok(&seed_page());
    });
    let client = Client::builder(&server.base_url())
        .bearer_token(TOKEN)
        .user_id(USER_ID)
        .http_client(http)
        .build()
        .unwrap();
    let page = send_seed(&client).await.unwrap().into_inner();
    mock.assert_async().await;
    assert_eq!(page, seed_page());
}
