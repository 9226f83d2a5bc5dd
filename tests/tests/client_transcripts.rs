//! `Client::transcript` and `Client::transcripts` against the typed mocks of `appraisecall/detail`.

use ccsqm_client::types::{AppraisecallDetailRequest, AppraisecallDetailResponse};
use ccsqm_client::{Client, ErrorKind};
use ccsqm_httpmock::MockServerExt;
use futures_util::StreamExt;
use httpmock::MockServer;
use serde_json::json;

const TOKEN: &str = "tok-5ecret-0123456789";
const USER_ID: &str = "1611917095665261978";
const APP_KEY: &str = "my-app-key";

fn client(server: &MockServer) -> Client {
    Client::builder(&server.base_url())
        .bearer_token(TOKEN)
        .user_id(USER_ID)
        .app_key(APP_KEY)
        .build()
        .unwrap()
}

fn response(call_uuid: &str, text: &str) -> AppraisecallDetailResponse {
    serde_json::from_value(json!({
        "call_uuid": call_uuid, "call_id": call_uuid, "left_channel": "customer",
        "right_channel": "staff",
        "segments": [{"segment_id": 1, "speaker": "staff", "start_time": 0.0, "end_time": 1.5,
                      "asr_text": text}]
    }))
    .unwrap()
}

#[tokio::test]
async fn transcript_sends_the_path_headers_and_body_of_the_spec() {
    let server = MockServer::start_async().await;
    let expected = response("822bbf4d-c4f8-473a-9144-199058375be8", "Hello");
    let mock = server.appraisecall_detail(|when, then| {
        when.x_user_id(USER_ID)
            .x_app_key(APP_KEY)
            .body(&AppraisecallDetailRequest {
                call_uuid: "822bbf4d-c4f8-473a-9144-199058375be8".into(),
            })
            .into_inner()
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "application/json")
            .header_missing("api-version");
        then.ok(&expected);
    });
    let got = client(&server)
        .transcript("822bbf4d-c4f8-473a-9144-199058375be8")
        .await
        .unwrap();
    mock.assert();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn transcript_errors_are_typed() {
    let server = MockServer::start_async().await;
    server.appraisecall_detail(|_, then| {
        then.not_found();
    });
    let error = client(&server).transcript("nope").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert!(!format!("{error:?} {error}").contains(TOKEN));
}

/// Many calls, three at a time, answered out of order (the first ones slowest): the items come
/// in input order, one per input, and a 404 is the item of its call only.
#[tokio::test]
async fn transcripts_come_in_input_order_and_a_failure_stays_with_its_call() {
    let server = MockServer::start_async().await;
    let uuids: Vec<String> = (0..12).map(|i| format!("call-{i:02}")).collect();
    for (i, uuid) in uuids.iter().enumerate() {
        let body = AppraisecallDetailRequest {
            call_uuid: uuid.clone(),
        };
        if i == 4 {
            server.appraisecall_detail(|when, then| {
                when.body(&body);
                then.not_found();
            });
            continue;
        }
        let answer = response(uuid, &format!("text of {uuid}"));
        // Earlier calls answer later, so that completion order differs from input order.
        let delay = std::time::Duration::from_millis(((12 - i) * 15) as u64);
        server.appraisecall_detail(|when, then| {
            when.body(&body);
            then.ok(&answer).into_inner().delay(delay);
        });
    }
    let items: Vec<_> = client(&server)
        .transcripts(futures_util::stream::iter(uuids.clone()))
        .concurrency(3)
        .collect()
        .await;
    assert_eq!(items.len(), uuids.len());
    for (i, ((uuid, result), expected)) in items.iter().zip(&uuids).enumerate() {
        assert_eq!(uuid, expected);
        match result {
            Err(error) => {
                assert_eq!(i, 4, "{uuid}: {error}");
                assert_eq!(error.kind(), ErrorKind::NotFound);
            }
            Ok(response) => {
                assert_ne!(i, 4);
                assert_eq!(response.call_uuid.as_deref(), Some(expected.as_str()));
                assert_eq!(
                    response.segments[0].asr_text.as_deref(),
                    Some(format!("text of {expected}").as_str())
                );
            }
        }
    }
}

#[tokio::test]
async fn no_input_is_no_item() {
    let server = MockServer::start_async().await;
    let items: Vec<_> = client(&server)
        .transcripts(futures_util::stream::iter(Vec::<String>::new()))
        .concurrency(4)
        .collect()
        .await;
    assert!(items.is_empty());
}

/// A server that reads requests and holds every answer until released: it counts the requests
/// it holds.
async fn holding_server() -> (
    String,
    tokio::sync::watch::Receiver<usize>,
    tokio::sync::watch::Sender<bool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (held_tx, held_rx) = tokio::sync::watch::channel(0usize);
    let (release_tx, release_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let held = held_tx.clone();
            let mut release = release_rx.clone();
            tokio::spawn(async move {
                loop {
                    // One request: its headers, then its Content-Length bytes.
                    let mut request = Vec::new();
                    let mut byte = [0u8; 1];
                    while !request.ends_with(b"\r\n\r\n") {
                        if socket.read(&mut byte).await.unwrap_or(0) == 0 {
                            return;
                        }
                        request.push(byte[0]);
                    }
                    let head = String::from_utf8_lossy(&request).to_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    let mut body = vec![0u8; length];
                    socket.read_exact(&mut body).await.unwrap();
                    held.send_modify(|n| *n += 1);
                    release.wait_for(|r| *r).await.unwrap();
                    let answer = "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";
                    socket.write_all(answer.as_bytes()).await.unwrap();
                }
            });
        }
    });
    (url, held_rx, release_tx)
}

/// The stream takes a `call_uuid` from its input only while fewer than `concurrency` requests
/// are unanswered: with every answer held, it has taken exactly `concurrency` of 12.
#[tokio::test]
async fn transcripts_are_bounded_by_the_concurrency() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    for concurrency in [1usize, 3, 5] {
        let (url, mut held, release) = holding_server().await;
        let client = Client::builder(&url)
            .allow_insecure_http(true)
            .bearer_token(TOKEN)
            .user_id(USER_ID)
            .build()
            .unwrap();
        let taken = Arc::new(AtomicUsize::new(0));
        let counter = taken.clone();
        let uuids = futures_util::stream::iter((0..12).map(move |i| {
            counter.fetch_add(1, Ordering::SeqCst);
            format!("call-{i}")
        }));
        let reader = tokio::spawn(async move {
            client
                .transcripts(uuids)
                .concurrency(concurrency)
                .collect::<Vec<_>>()
                .await
        });
        held.wait_for(|n| *n >= concurrency).await.unwrap();
        assert_eq!(taken.load(Ordering::SeqCst), concurrency);
        assert_eq!(*held.borrow(), concurrency);
        release.send(true).unwrap();
        let items = reader.await.unwrap();
        assert_eq!(items.len(), 12);
        assert_eq!(taken.load(Ordering::SeqCst), 12);
        for (i, (uuid, result)) in items.iter().enumerate() {
            assert_eq!(uuid, &format!("call-{i}"));
            assert_eq!(result.as_ref().unwrap_err().kind(), ErrorKind::NotFound);
        }
    }
}
