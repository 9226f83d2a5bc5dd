//! `Client::calls`: every call of a query, page after page, against the typed mocks.

use std::time::Duration;

use ccsqm_client::types::{AppraisecallDetailsRequest, AppraisecallDetailsResponse};
use ccsqm_client::{ApiError, CallRecord, Client, ErrorKind, PagingWarning, RetryPolicy};
use ccsqm_httpmock::MockServerExt;
use futures_util::StreamExt;
use httpmock::{Mock, MockServer};
use serde_json::json;

const USER_ID: &str = "1611917095665261978";

fn request(limit: u64, page: u64) -> AppraisecallDetailsRequest {
    serde_json::from_value(json!({
        "call_types": [0, 2], "status": [2], "limit": limit, "page": page,
        "upload_from": null, "upload_to": null
    }))
    .unwrap()
}

/// A page holding calls `c{first}` to `c{last}`, two calls per group.
fn page(calls: std::ops::RangeInclusive<u64>, total: Option<u64>) -> AppraisecallDetailsResponse {
    let mut groups: Vec<serde_json::Value> = Vec::new();
    for n in calls {
        let call = json!({"call_uuid": format!("c{n}"), "status": 2});
        let group = format!("g{}", n / 2);
        match groups.last_mut() {
            Some(last) if last["call_group_id"] == group => {
                last["calls"].as_array_mut().unwrap().push(call)
            }
            _ => groups.push(json!({"call_group_id": group, "calls": [call]})),
        }
    }
    let mut body = json!({ "data": groups });
    if let Some(total) = total {
        body["paging"] = json!({ "total": total });
    }
    serde_json::from_value(body).unwrap()
}

/// A page with no call.
fn empty(total: Option<u64>) -> AppraisecallDetailsResponse {
    let mut body = json!({ "data": [] });
    if let Some(total) = total {
        body["paging"] = json!({ "total": total });
    }
    serde_json::from_value(body).unwrap()
}

fn client(server: &MockServer) -> Client {
    Client::builder(&server.base_url())
        .user_id(USER_ID)
        .bearer_token("a token")
        .retry(RetryPolicy {
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap()
}

/// Mocks page `number` (of `limit` calls) to answer `body`, after `delay`.
fn mock_page(
    server: &MockServer,
    limit: u64,
    number: u64,
    body: AppraisecallDetailsResponse,
    delay: Duration,
) -> Mock<'_> {
    server.appraisecall_details(|when, then| {
        when.body(&request(limit, number));
        then.ok(&body).into_inner().delay(delay);
    })
}

fn uuids(records: &[CallRecord]) -> Vec<String> {
    records
        .iter()
        .map(|r| r.call.call_uuid.clone().unwrap())
        .collect()
}

fn expected(calls: std::ops::RangeInclusive<u64>) -> Vec<String> {
    calls.map(|n| format!("c{n}")).collect()
}

async fn collect(stream: &mut ccsqm_client::CallStream) -> Result<Vec<CallRecord>, ApiError> {
    let mut records = Vec::new();
    while let Some(record) = stream.next().await {
        records.push(record?);
    }
    Ok(records)
}

#[tokio::test]
async fn total_zero_is_one_request_and_no_calls() {
    let server = MockServer::start_async().await;
    let first = mock_page(&server, 10, 1, empty(Some(0)), Duration::ZERO);
    let second = mock_page(&server, 10, 2, empty(Some(0)), Duration::ZERO);
    let mut calls = client(&server).calls(request(10, 1)).concurrency(4);
    assert_eq!(calls.total(), None);
    assert!(collect(&mut calls).await.unwrap().is_empty());
    assert_eq!(calls.total(), Some(0));
    assert_eq!(calls.warnings(), []);
    assert_eq!(
        (first.calls_async().await, second.calls_async().await),
        (1, 0)
    );
}

#[tokio::test]
async fn an_exact_multiple_of_the_limit_asks_for_no_extra_page() {
    let server = MockServer::start_async().await;
    let pages = [
        mock_page(&server, 10, 1, page(1..=10, Some(20)), Duration::ZERO),
        mock_page(&server, 10, 2, page(11..=20, Some(20)), Duration::ZERO),
        mock_page(&server, 10, 3, empty(Some(20)), Duration::ZERO),
    ];
    let mut calls = client(&server).calls(request(10, 1));
    let records = collect(&mut calls).await.unwrap();
    assert_eq!(uuids(&records), expected(1..=20));
    assert_eq!(records[2].call_group_id.as_deref(), Some("g1"));
    assert_eq!(calls.received(), 20);
    assert_eq!(calls.warnings(), []);
    let hits = [
        pages[0].calls_async().await,
        pages[1].calls_async().await,
        pages[2].calls_async().await,
    ];
    assert_eq!(hits, [1, 1, 0]);
}

#[tokio::test]
async fn a_partial_last_page_ends_the_stream() {
    let server = MockServer::start_async().await;
    let pages = [
        mock_page(&server, 10, 1, page(1..=10, Some(25)), Duration::ZERO),
        mock_page(&server, 10, 2, page(11..=20, Some(25)), Duration::ZERO),
        mock_page(&server, 10, 3, page(21..=25, Some(25)), Duration::ZERO),
        mock_page(&server, 10, 4, empty(Some(25)), Duration::ZERO),
    ];
    let mut calls = client(&server).calls(request(10, 1)).concurrency(2);
    let records = collect(&mut calls).await.unwrap();
    assert_eq!(uuids(&records), expected(1..=25));
    assert_eq!(calls.warnings(), []);
    for (mock, hits) in pages.iter().zip([1, 1, 1, 0]) {
        assert_eq!(mock.calls_async().await, hits);
    }
}

/// Every call until the stream ends, and the error that ended it, if any (which must be last).
async fn drain(stream: &mut ccsqm_client::CallStream) -> (Vec<CallRecord>, Option<ApiError>) {
    let mut records = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(record) => records.push(record),
            Err(error) => {
                assert!(stream.next().await.is_none(), "an error ends the stream");
                return (records, Some(error));
            }
        }
    }
    (records, None)
}

/// The paging issue an error carries.
fn paging_issue(error: Option<ApiError>) -> PagingWarning {
    match error {
        Some(ApiError::Paging(issue)) => {
            assert_eq!(ApiError::Paging(issue.clone()).kind(), ErrorKind::Paging);
            issue
        }
        other => panic!("expected a paging error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_short_page_before_the_total_ends_the_stream_with_an_error() {
    let server = MockServer::start_async().await;
    mock_page(&server, 10, 1, page(1..=10, Some(30)), Duration::ZERO);
    mock_page(&server, 10, 2, page(11..=14, Some(30)), Duration::ZERO);
    let later = mock_page(&server, 10, 3, page(15..=24, Some(30)), Duration::ZERO);
    let mut calls = client(&server).calls(request(10, 1));
    let (records, error) = drain(&mut calls).await;
    assert_eq!(
        uuids(&records),
        expected(1..=14),
        "the calls before the error"
    );
    assert_eq!(
        paging_issue(error),
        PagingWarning::ShortPage {
            page: 2,
            on_page: 4,
            limit: 10,
            total: 30,
            remaining: 16
        }
    );
    assert_eq!(calls.warnings(), []);

    // Accepted as partial: the same calls, and warnings.
    let mut calls = client(&server).calls(request(10, 1)).allow_partial(true);
    let (records, error) = drain(&mut calls).await;
    assert!(error.is_none());
    assert_eq!(uuids(&records), expected(1..=14));
    assert_eq!(
        calls.warnings(),
        [
            PagingWarning::ShortPage {
                page: 2,
                on_page: 4,
                limit: 10,
                total: 30,
                remaining: 16
            },
            PagingWarning::CountMismatch {
                total: 30,
                received: 14
            }
        ]
    );
    assert_eq!(later.calls_async().await, 0);
}

#[tokio::test]
async fn an_empty_first_page_with_a_huge_total_is_an_error_not_endless_paging() {
    let server = MockServer::start_async().await;
    let first = mock_page(
        &server,
        50,
        1,
        empty(Some(1_000_000_000_000)),
        Duration::ZERO,
    );
    let second = mock_page(
        &server,
        50,
        2,
        empty(Some(1_000_000_000_000)),
        Duration::ZERO,
    );
    let mut calls = client(&server).calls(request(50, 1)).concurrency(4);
    let (records, error) = drain(&mut calls).await;
    assert!(records.is_empty());
    assert!(matches!(
        paging_issue(error),
        PagingWarning::ShortPage {
            page: 1,
            on_page: 0,
            remaining: 1_000_000_000_000,
            ..
        }
    ));
    assert_eq!(
        (first.calls_async().await, second.calls_async().await),
        (1, 0)
    );
}

#[tokio::test]
async fn more_calls_than_the_total_is_a_count_mismatch() {
    let server = MockServer::start_async().await;
    mock_page(&server, 10, 1, page(1..=10, Some(25)), Duration::ZERO);
    mock_page(&server, 10, 2, page(11..=20, Some(25)), Duration::ZERO);
    mock_page(&server, 10, 3, page(21..=30, Some(25)), Duration::ZERO);
    let mut calls = client(&server).calls(request(10, 1)).concurrency(2);
    let (records, error) = drain(&mut calls).await;
    assert_eq!(uuids(&records), expected(1..=30));
    assert_eq!(
        paging_issue(error),
        PagingWarning::CountMismatch {
            total: 25,
            received: 30
        }
    );
}

#[tokio::test]
async fn a_server_that_caps_the_limit_is_paged_by_the_size_it_returns() {
    let server = MockServer::start_async().await;
    // Asked for 10, the server returns 4: the stream asks for pages of 4 from page 2 on.
    let asked = mock_page(&server, 10, 1, page(1..=4, Some(18)), Duration::ZERO);
    let mut capped = Vec::new();
    for number in 2..=5u64 {
        let first = (number - 1) * 4 + 1;
        let last = (first + 3).min(18);
        capped.push(mock_page(
            &server,
            4,
            number,
            page(first..=last, Some(18)),
            Duration::ZERO,
        ));
    }
    let beyond = mock_page(&server, 4, 6, empty(Some(18)), Duration::ZERO);
    let wrong = mock_page(&server, 10, 2, page(11..=14, Some(18)), Duration::ZERO);
    let mut calls = client(&server).calls(request(10, 1)).concurrency(3);
    let (records, error) = drain(&mut calls).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(uuids(&records), expected(1..=18));
    assert_eq!(
        calls.warnings(),
        [PagingWarning::LimitCapped {
            asked: 10,
            returned: 4
        }]
    );
    assert_eq!(asked.calls_async().await, 1);
    for mock in &capped {
        assert_eq!(mock.calls_async().await, 1);
    }
    assert_eq!(beyond.calls_async().await + wrong.calls_async().await, 0);
}

#[tokio::test]
async fn a_changing_total_is_an_error_or_with_partial_results_followed() {
    let server = MockServer::start_async().await;
    mock_page(&server, 10, 1, page(1..=10, Some(15)), Duration::ZERO);
    mock_page(&server, 10, 2, page(11..=20, Some(28)), Duration::ZERO);
    mock_page(&server, 10, 3, page(21..=28, Some(28)), Duration::ZERO);
    let changed = PagingWarning::TotalChanged {
        page: 2,
        previous: 15,
        current: 28,
    };
    let mut calls = client(&server).calls(request(10, 1)).concurrency(3);
    let (records, error) = drain(&mut calls).await;
    assert_eq!(uuids(&records), expected(1..=10));
    assert_eq!(paging_issue(error), changed);

    let mut calls = client(&server)
        .calls(request(10, 1))
        .concurrency(3)
        .allow_partial(true);
    let records = collect(&mut calls).await.unwrap();
    assert_eq!(uuids(&records), expected(1..=28));
    assert_eq!(calls.total(), Some(28));
    assert_eq!(calls.warnings(), [changed]);
}

#[tokio::test]
async fn repeated_calls_are_an_error_or_with_partial_results_yielded_once() {
    let server = MockServer::start_async().await;
    // A call was added at the top meanwhile: page 2 starts with the last call of page 1.
    mock_page(&server, 4, 1, page(1..=4, Some(9)), Duration::ZERO);
    mock_page(&server, 4, 2, page(4..=7, Some(9)), Duration::ZERO);
    mock_page(&server, 4, 3, page(8..=9, Some(9)), Duration::ZERO);
    let mut calls = client(&server).calls(request(4, 1));
    let (records, error) = drain(&mut calls).await;
    assert_eq!(uuids(&records), expected(1..=7), "each call once");
    assert_eq!(
        paging_issue(error),
        PagingWarning::RepeatedCalls { page: 2, count: 1 }
    );

    let mut calls = client(&server).calls(request(4, 1)).allow_partial(true);
    let records = collect(&mut calls).await.unwrap();
    assert_eq!(uuids(&records), expected(1..=9));
    assert_eq!(
        calls.warnings(),
        [PagingWarning::RepeatedCalls { page: 2, count: 1 }]
    );
}

#[tokio::test]
async fn calls_repeated_pages_apart_are_detected_across_the_whole_export() {
    let server = MockServer::start_async().await;
    // Pages that alternate: A, B, A, B.
    let a = || page(1..=5, Some(20));
    let b = || page(6..=10, Some(20));
    mock_page(&server, 5, 1, a(), Duration::ZERO);
    mock_page(&server, 5, 2, b(), Duration::ZERO);
    mock_page(&server, 5, 3, a(), Duration::ZERO);
    mock_page(&server, 5, 4, b(), Duration::ZERO);
    let mut calls = client(&server).calls(request(5, 1)).concurrency(4);
    let (records, error) = drain(&mut calls).await;
    assert_eq!(uuids(&records), expected(1..=10));
    assert_eq!(
        paging_issue(error),
        PagingWarning::RepeatedCalls { page: 3, count: 5 }
    );

    // Accepted as partial: each call once, and the page of repeats only ends the stream.
    let mut calls = client(&server)
        .calls(request(5, 1))
        .concurrency(4)
        .allow_partial(true);
    let (records, error) = drain(&mut calls).await;
    assert!(error.is_none());
    assert_eq!(uuids(&records), expected(1..=10));
    assert_eq!(
        calls.warnings(),
        [
            PagingWarning::RepeatedCalls { page: 3, count: 5 },
            PagingWarning::CountMismatch {
                total: 20,
                received: 10
            }
        ]
    );
}

#[tokio::test]
async fn an_unstable_order_repeats_calls_within_and_across_pages() {
    let server = MockServer::start_async().await;
    // Calls in another order on each page: c3 on pages 1 and 2, c2 on pages 1 and 3.
    let body = |ids: &[u64]| -> AppraisecallDetailsResponse {
        let calls: Vec<_> = ids
            .iter()
            .map(|n| json!({"call_uuid": format!("c{n}"), "status": 2}))
            .collect();
        serde_json::from_value(json!({"data": [{"call_group_id": "g", "calls": calls}],
                                      "paging": {"total": 9}}))
        .unwrap()
    };
    mock_page(&server, 3, 1, body(&[1, 2, 3]), Duration::ZERO);
    mock_page(&server, 3, 2, body(&[3, 4, 5]), Duration::ZERO);
    mock_page(&server, 3, 3, body(&[2, 6, 7]), Duration::ZERO);
    let mut calls = client(&server).calls(request(3, 1)).allow_partial(true);
    let records = collect(&mut calls).await.unwrap();
    let got = uuids(&records);
    let unique: std::collections::BTreeSet<_> = got.iter().collect();
    assert_eq!(got.len(), unique.len(), "each call once: {got:?}");
    assert_eq!(got.len(), 7);
    assert!(calls
        .warnings()
        .contains(&PagingWarning::RepeatedCalls { page: 3, count: 1 }));
}

#[tokio::test]
async fn a_server_that_ignores_the_page_number_ends_the_stream() {
    let server = MockServer::start_async().await;
    mock_page(&server, 3, 1, page(1..=3, Some(9)), Duration::ZERO);
    mock_page(&server, 3, 2, page(1..=3, Some(9)), Duration::ZERO);
    let third = mock_page(&server, 3, 3, page(1..=3, Some(9)), Duration::ZERO);
    let mut calls = client(&server).calls(request(3, 1));
    let (records, error) = drain(&mut calls).await;
    assert_eq!(uuids(&records), expected(1..=3));
    assert_eq!(
        paging_issue(error),
        PagingWarning::RepeatedCalls { page: 2, count: 3 }
    );
    let mut calls = client(&server).calls(request(3, 1)).allow_partial(true);
    let records = collect(&mut calls).await.unwrap();
    assert_eq!(uuids(&records), expected(1..=3));
    assert!(calls
        .warnings()
        .contains(&PagingWarning::RepeatedCalls { page: 2, count: 3 }));
    assert_eq!(third.calls_async().await, 0);
}

#[tokio::test]
async fn a_total_that_grows_with_every_page_is_bounded() {
    let server = MockServer::start_async().await;
    // The first total, 25, makes 5 pages of 5; with the margin (2 pages), at most 7.
    let mut pages = Vec::new();
    for number in 1..=12u64 {
        let first = (number - 1) * 5 + 1;
        let body = page(first..=first + 4, Some(20 + number * 5));
        pages.push(mock_page(&server, 5, number, body, Duration::ZERO));
    }
    let mut calls = client(&server).calls(request(5, 1)).concurrency(2);
    let (records, error) = drain(&mut calls).await;
    assert_eq!(uuids(&records), expected(1..=5));
    assert!(matches!(
        paging_issue(error),
        PagingWarning::TotalChanged { page: 2, .. }
    ));

    let mut calls = client(&server)
        .calls(request(5, 1))
        .concurrency(2)
        .allow_partial(true);
    let (records, error) = drain(&mut calls).await;
    assert!(error.is_none());
    assert_eq!(uuids(&records), expected(1..=35));
    assert!(calls.warnings().contains(&PagingWarning::TooManyPages {
        page: 7,
        bound: 7,
        first_total: 25
    }));
    for mock in &pages[7..] {
        assert_eq!(mock.calls_async().await, 0, "nothing past the bound");
    }
}

#[tokio::test]
async fn a_total_written_as_a_float_or_a_string_is_read() {
    for total in [json!(7.0), json!("7"), json!(" 7 ")] {
        let server = MockServer::start_async().await;
        for (number, calls) in [(1u64, 1..=5u64), (2, 6..=7)] {
            let mut body = serde_json::to_value(page(calls, None)).unwrap();
            body["paging"] = json!({ "total": total });
            server.mock(|when, then| {
                when.json_body_includes(json!({"page": number, "limit": 5}).to_string());
                then.status(200).json_body(body);
            });
        }
        let mut calls = client(&server).calls(request(5, 1));
        let records = collect(&mut calls).await.unwrap();
        assert_eq!(uuids(&records), expected(1..=7), "{total}");
        assert_eq!(calls.total(), Some(7), "{total}");
        assert_eq!(calls.warnings(), [], "{total}");
    }
}

#[tokio::test]
async fn without_a_total_a_capped_limit_is_found_by_one_more_request() {
    let server = MockServer::start_async().await;
    // Asked for 10, the server returns 4, and no total.
    mock_page(&server, 10, 1, page(1..=4, None), Duration::ZERO);
    mock_page(&server, 4, 2, page(5..=8, None), Duration::ZERO);
    mock_page(&server, 4, 3, page(9..=11, None), Duration::ZERO);
    let beyond = mock_page(&server, 4, 4, empty(None), Duration::ZERO);
    let mut calls = client(&server).calls(request(10, 1)).concurrency(2);
    let records = collect(&mut calls).await.unwrap();
    assert_eq!(uuids(&records), expected(1..=11));
    assert_eq!(
        calls.warnings(),
        [
            PagingWarning::MissingTotal { page: 1 },
            PagingWarning::LimitCapped {
                asked: 10,
                returned: 4
            }
        ]
    );
    assert_eq!(beyond.calls_async().await, 0);

    // A short first page that is the end: one more request, empty, and no other warning.
    let server = MockServer::start_async().await;
    mock_page(&server, 10, 1, page(1..=3, None), Duration::ZERO);
    let probe = mock_page(&server, 3, 2, empty(None), Duration::ZERO);
    let mut calls = client(&server).calls(request(10, 1));
    let records = collect(&mut calls).await.unwrap();
    assert_eq!(uuids(&records), expected(1..=3));
    assert_eq!(calls.warnings(), [PagingWarning::MissingTotal { page: 1 }]);
    assert_eq!(probe.calls_async().await, 1);

    // The same from a server that ignores the page number: page 2 is page 1 again.
    let server = MockServer::start_async().await;
    mock_page(&server, 10, 1, page(1..=3, None), Duration::ZERO);
    let again = mock_page(&server, 3, 2, page(1..=3, None), Duration::ZERO);
    let mut calls = client(&server).calls(request(10, 1));
    let records = collect(&mut calls).await.unwrap();
    assert_eq!(uuids(&records), expected(1..=3));
    assert_eq!(calls.warnings(), [PagingWarning::MissingTotal { page: 1 }]);
    assert_eq!(again.calls_async().await, 1);
}

#[tokio::test]
async fn without_a_total_pages_are_read_until_a_short_one() {
    let server = MockServer::start_async().await;
    mock_page(&server, 5, 1, page(1..=5, None), Duration::ZERO);
    mock_page(&server, 5, 2, page(6..=10, None), Duration::ZERO);
    mock_page(&server, 5, 3, page(11..=12, None), Duration::ZERO);
    let mut calls = client(&server).calls(request(5, 1)).concurrency(3);
    let records = collect(&mut calls).await.unwrap();
    assert_eq!(uuids(&records), expected(1..=12));
    assert_eq!(calls.total(), None);
    assert_eq!(calls.warnings(), [PagingWarning::MissingTotal { page: 1 }]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_pages_are_yielded_in_page_order() {
    let server = MockServer::start_async().await;
    // Later pages answer sooner than earlier ones.
    let delays = [0, 400, 300, 200, 100];
    let mut pages = Vec::new();
    for (i, delay) in delays.into_iter().enumerate() {
        let number = i as u64 + 1;
        let first = (number - 1) * 10 + 1;
        let body = page(first..=first + 9, Some(50));
        pages.push(mock_page(
            &server,
            10,
            number,
            body,
            Duration::from_millis(delay),
        ));
    }
    let mut calls = client(&server).calls(request(10, 1)).concurrency(4);
    let started = std::time::Instant::now();
    let records = collect(&mut calls).await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(uuids(&records), expected(1..=50));
    for mock in &pages {
        assert_eq!(mock.calls_async().await, 1);
    }
    // One after the other, pages 2 to 5 would take 1 s.
    assert!(elapsed < Duration::from_millis(900), "{elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_n_pages_are_requested_ahead_of_the_reader() {
    let server = MockServer::start_async().await;
    let mut pages = Vec::new();
    for number in 1..=10u64 {
        let first = (number - 1) * 10 + 1;
        let body = page(first..=first + 9, Some(100));
        pages.push(mock_page(&server, 10, number, body, Duration::ZERO));
    }
    let mut calls = client(&server).calls(request(10, 1)).concurrency(2);
    assert_eq!(
        calls
            .next()
            .await
            .unwrap()
            .unwrap()
            .call
            .call_uuid
            .as_deref(),
        Some("c1")
    );
    // The reader pauses after its first call: pages 2 and 3 may be fetched, no more.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut requested = Vec::new();
    for mock in &pages {
        requested.push(mock.calls_async().await);
    }
    assert_eq!(requested, [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
    let rest = collect(&mut calls).await.unwrap();
    assert_eq!(rest.len(), 99);
}

#[tokio::test]
async fn an_error_ends_the_stream_after_the_calls_before_it() {
    let server = MockServer::start_async().await;
    mock_page(&server, 2, 1, page(1..=2, Some(6)), Duration::ZERO);
    server.appraisecall_details(|when, then| {
        when.body(&request(2, 2));
        then.internal_server_error();
    });
    let mut calls = client(&server).calls(request(2, 1)).concurrency(2);
    let mut seen = Vec::new();
    let mut errors = Vec::new();
    while let Some(item) = calls.next().await {
        match item {
            Ok(record) => seen.push(record),
            Err(error) => errors.push(error),
        }
    }
    assert_eq!(uuids(&seen), expected(1..=2));
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].kind(), ErrorKind::Business);
}

#[tokio::test]
async fn the_stream_starts_at_the_request_s_page() {
    let server = MockServer::start_async().await;
    let skipped = mock_page(&server, 10, 1, page(1..=10, Some(25)), Duration::ZERO);
    mock_page(&server, 10, 2, page(11..=20, Some(25)), Duration::ZERO);
    mock_page(&server, 10, 3, page(21..=25, Some(25)), Duration::ZERO);
    let mut calls = client(&server).calls(request(10, 2));
    let records = collect(&mut calls).await.unwrap();
    assert_eq!(uuids(&records), expected(11..=25));
    assert_eq!(calls.warnings(), []);
    assert_eq!(skipped.calls_async().await, 0);
}
