//! `appraisecall/details` over real HTTP, through the generated client: the vendor's example,
//! each filter, ordering, paging edges, grouping and determinism.

mod common;

use std::collections::{HashMap, HashSet};

use ccsqm_client::types::{AppraisecallDetailsRequest, CallType, InspectionStatus};
use common::{all, expected, fetch_all, page, sandbox, send, uuids};

const VENDOR_REQUEST: &str = include_str!("../../../tests/fixtures/seed-request.json");

#[tokio::test]
async fn the_vendors_example_request_returns_the_vendors_example_response() {
    let sandbox = sandbox(300).await;
    let client = sandbox.client().unwrap();
    let request: AppraisecallDetailsRequest = serde_json::from_str(VENDOR_REQUEST).unwrap();
    let response = send(&client, &request).await;
    let vendor: serde_json::Value = serde_json::from_str(ccsqm_sandbox::VENDOR_EXAMPLE).unwrap();
    assert_eq!(serde_json::to_value(&response).unwrap(), vendor);

    // The other edition's example: the same window on upload time.
    let mut by_upload = request.clone();
    (by_upload.upload_from, by_upload.upload_to) = (request.call_from, request.call_to);
    (by_upload.call_from, by_upload.call_to) = (None, None);
    let response = send(&client, &by_upload).await;
    assert_eq!(serde_json::to_value(&response).unwrap(), vendor);
}

/// Checks that `request` returns exactly what the oracle expects, and that it is a real filter:
/// some calls, not all.
async fn check_filter(name: &str, request: AppraisecallDetailsRequest) {
    let sandbox = sandbox(400).await;
    let client = sandbox.client().unwrap();
    let (calls, total) = fetch_all(&client, &request).await;
    let want = expected(sandbox.data(), &request);
    let got: HashSet<String> = uuids(&calls).into_iter().collect();
    assert_eq!(got.len(), calls.len(), "{name}: a call served twice");
    assert_eq!(got, want, "{name}: the calls served");
    assert_eq!(total, want.len() as i64, "{name}: paging.total");
    assert!(
        !want.is_empty() && want.len() < sandbox.data().len(),
        "{name}: the test filter should keep some calls, not all ({})",
        want.len()
    );
}

#[tokio::test]
async fn call_time_window() {
    let from = ccsqm_sandbox::FIRST_CALL_TIME + 30 * 86_400;
    let request = AppraisecallDetailsRequest {
        call_from: Some(from),
        call_to: Some(from + 40 * 86_400),
        ..all(50)
    };
    check_filter("call_from/call_to", request).await;
    let only_from = AppraisecallDetailsRequest {
        call_from: Some(from),
        ..all(50)
    };
    check_filter("call_from", only_from).await;
}

#[tokio::test]
async fn upload_time_window() {
    let from = ccsqm_sandbox::FIRST_CALL_TIME + 60 * 86_400;
    let request = AppraisecallDetailsRequest {
        upload_from: Some(from),
        upload_to: Some(from + 20 * 86_400),
        ..all(50)
    };
    check_filter("upload_from/upload_to", request).await;
    let only_to = AppraisecallDetailsRequest {
        upload_to: Some(from),
        ..all(50)
    };
    check_filter("upload_to", only_to).await;
}

#[tokio::test]
async fn call_types() {
    for t in [0, 2] {
        let request = AppraisecallDetailsRequest {
            call_types: vec![CallType::try_from(t).unwrap()],
            ..all(100)
        };
        check_filter(&format!("call_types [{t}]"), request).await;
    }
}

#[tokio::test]
async fn status() {
    for statuses in [vec![2], vec![0, 1, 3], vec![9, 31, 40]] {
        let request = AppraisecallDetailsRequest {
            status: statuses
                .iter()
                .map(|&s| InspectionStatus::try_from(s).unwrap())
                .collect(),
            ..all(100)
        };
        check_filter(&format!("status {statuses:?}"), request).await;
    }
}

#[tokio::test]
async fn keyword_searches_the_dialog_case_insensitively() {
    for keyword in ["refund", "NETWORK OUTAGE", "password"] {
        let request = AppraisecallDetailsRequest {
            keyword: Some(keyword.to_owned()),
            ..all(100)
        };
        check_filter(&format!("keyword {keyword:?}"), request).await;
    }
}

#[tokio::test]
async fn staff_id_and_staff_name() {
    let sandbox = sandbox(400).await;
    let (id, name) = sandbox
        .data()
        .agents()
        .nth(3)
        .map(|(id, name)| (id.to_owned(), name.to_owned()))
        .unwrap();
    let by_id = AppraisecallDetailsRequest {
        staff_id: Some(id),
        ..all(100)
    };
    check_filter("staff_id", by_id).await;
    let by_name = AppraisecallDetailsRequest {
        staff_name: Some(name.to_uppercase()),
        ..all(100)
    };
    check_filter("staff_name", by_name).await;
    // The vendor's agent takes exactly the vendor's six calls.
    let client = sandbox.client().unwrap();
    let vendor_agent = AppraisecallDetailsRequest {
        staff_id: Some("1600226440112042215".to_owned()),
        ..all(100)
    };
    assert_eq!(fetch_all(&client, &vendor_agent).await.1, 6);
}

#[tokio::test]
async fn duration_bounds_are_inclusive() {
    let request = AppraisecallDetailsRequest {
        duration_min: Some(120),
        duration_max: Some(300),
        ..all(100)
    };
    check_filter("duration_min/duration_max", request).await;
    let exact = AppraisecallDetailsRequest {
        duration_min: Some(164),
        duration_max: Some(165),
        staff_id: Some("1600226440112042215".to_owned()),
        ..all(100)
    };
    let sandbox = sandbox(0).await;
    let (calls, _) = fetch_all(&sandbox.client().unwrap(), &exact).await;
    assert_eq!(calls.len(), 1, "the vendor's call of 164.22 s");
}

#[tokio::test]
async fn calls_come_newest_first() {
    let sandbox = sandbox(300).await;
    let (calls, total) = fetch_all(&sandbox.client().unwrap(), &all(37)).await;
    assert_eq!(total, 306);
    assert_eq!(calls.len(), 306);
    let times: Vec<i64> = calls.iter().map(|c| c.call_time.unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]));
}

#[tokio::test]
async fn paging_edges() {
    // 94 generated + 6 vendor calls = 100 calls.
    let sandbox = sandbox(94).await;
    let client = sandbox.client().unwrap();
    let count = |r: &ccsqm_client::types::AppraisecallDetailsResponse| {
        r.data.iter().map(|g| g.calls.len()).sum::<usize>()
    };
    let total =
        |r: &ccsqm_client::types::AppraisecallDetailsResponse| r.paging.as_ref().unwrap().total;

    // An exact multiple of limit: ten full pages, then an empty one.
    let last_full = send(&client, &page(all(10), 10)).await;
    assert_eq!((count(&last_full), total(&last_full)), (10, Some(100)));
    let after = send(&client, &page(all(10), 11)).await;
    assert_eq!((count(&after), total(&after)), (0, Some(100)));
    assert!(after.data.is_empty());

    // A last partial page.
    let partial = send(&client, &page(all(30), 4)).await;
    assert_eq!((count(&partial), total(&partial)), (10, Some(100)));

    // Far past the end.
    let far = send(&client, &page(all(1000), u64::MAX / 2)).await;
    assert_eq!((count(&far), total(&far)), (0, Some(100)));

    // An empty result.
    let none = AppraisecallDetailsRequest {
        keyword: Some("no dialog says this".to_owned()),
        ..all(10)
    };
    let empty = send(&client, &none).await;
    assert_eq!((count(&empty), total(&empty)), (0, Some(0)));

    // Pages partition the result: no call twice, none missing.
    let mut seen = HashSet::new();
    for n in 1..=4 {
        let r = send(&client, &page(all(30), n)).await;
        for call in r.data.into_iter().flat_map(|g| g.calls) {
            assert!(seen.insert(call.call_uuid.unwrap()));
        }
    }
    assert_eq!(seen.len(), 100);
}

#[tokio::test]
async fn calls_are_grouped_by_call_group_id() {
    let sandbox = sandbox(500).await;
    let response = send(&sandbox.client().unwrap(), &all(1000)).await;
    let mut groups_seen = HashSet::new();
    let mut several = 0;
    let mut calls = 0;
    for group in &response.data {
        let id = group.call_group_id.clone().unwrap();
        assert!(
            groups_seen.insert(id.clone()),
            "group {id} split on one page"
        );
        assert!(!group.calls.is_empty());
        calls += group.calls.len();
        if group.calls.len() > 1 {
            several += 1;
            // A group's calls follow one another, each with a different agent.
            let agents: HashSet<_> = group.calls.iter().map(|c| c.staff_id.clone()).collect();
            assert_eq!(agents.len(), group.calls.len());
        } else if group.calls[0].staff_id.as_deref() == Some("1600226440112042215") {
            assert_eq!(group.calls[0].call_uuid.as_ref(), Some(&id));
        }
    }
    assert_eq!(calls, 506);
    assert!(several > 10, "groups of several calls: {several}");
    // The group ID is the UUID of one of the group's calls (the first, by time).
    let by_uuid: HashMap<_, _> = response
        .data
        .iter()
        .flat_map(|g| g.calls.iter())
        .map(|c| (c.call_uuid.clone().unwrap(), c.call_time.unwrap()))
        .collect();
    for group in &response.data {
        let id = group.call_group_id.clone().unwrap();
        let first = by_uuid[&id];
        assert!(group.calls.iter().all(|c| c.call_time.unwrap() >= first));
    }
}

#[tokio::test]
async fn same_seed_same_pages() {
    let (a, b, c) = (sandbox(200).await, sandbox(200).await, {
        ccsqm_sandbox::Sandbox::builder()
            .calls(200)
            .seed(4)
            .start()
            .await
            .unwrap()
    });
    let (ca, cb, cc) = (
        a.client().unwrap(),
        b.client().unwrap(),
        c.client().unwrap(),
    );
    for n in [1, 2, 7] {
        let request = page(all(25), n);
        let pa = send(&ca, &request).await;
        assert_eq!(pa, send(&cb, &request).await, "page {n}");
        assert_ne!(pa, send(&cc, &request).await, "page {n}, another seed");
    }
}
