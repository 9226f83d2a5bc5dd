//! The anchor: generated calls lead up to a day (today by default), deterministically, and never
//! reach into the window of the vendor's example request.

mod common;

use ccsqm_client::types::AppraisecallDetailsRequest;
use ccsqm_sandbox::{Anchor, DataSet, Sandbox, SPAN_DAYS};
use common::{all, expected, fetch_all, send, uuids};

const DAY: i64 = 86_400;
const VENDOR_REQUEST: &str = include_str!("../../../tests/fixtures/seed-request.json");

/// Every generated call within its anchor's span (a transferred call may run a little past
/// the end), the vendor's six unchanged.
fn check_span(data: &DataSet) {
    let anchor = data.anchor();
    let (first, last) = data.generated_call_times().expect("generated calls");
    assert!(first >= anchor.first_call_time(), "{anchor}: first {first}");
    assert!(last < anchor.end_time() + 3 * 3600, "{anchor}: last {last}");
    assert!(
        last > anchor.end_time() - 20 * DAY,
        "{anchor}: the span reaches its end"
    );
    assert!(
        first < anchor.first_call_time() + 20 * DAY,
        "{anchor}: and its start"
    );
    let vendor = data.vendor_call_times().expect("the vendor's calls");
    assert!(vendor.1 < first, "the vendor's calls come first in time");
}

#[test]
fn generated_calls_lead_up_to_their_anchor() {
    for anchor in ["2021-12-15", "2022-01-01", "2024-02-29", "2031-07-04"] {
        let anchor: Anchor = anchor.parse().unwrap();
        let data = DataSet::generate_at(4, 3000, anchor);
        assert_eq!(data.anchor(), anchor);
        assert_eq!(data.len(), 3006);
        check_span(&data);
        // Deterministic for a seed and an anchor.
        let again = DataSet::generate_at(4, 3000, anchor);
        let calls = |d: &DataSet| (0..d.len()).map(|i| d.call(i)).collect::<Vec<_>>();
        assert_eq!(calls(&data), calls(&again), "{anchor}");
    }
    // `generate` is pinned at the earliest anchor.
    assert_eq!(DataSet::generate(4, 10).anchor(), Anchor::EARLIEST);
    assert_eq!(
        Anchor::EARLIEST.first_call_time(),
        ccsqm_sandbox::FIRST_CALL_TIME
    );
    assert_eq!(SPAN_DAYS, 180);
}

#[test]
fn weekends_follow_the_dates() {
    // Fewer calls on Saturdays and Sundays, wherever the anchor puts them.
    for anchor in ["2021-12-15", "2023-05-10", "2026-11-25"] {
        let data = DataSet::generate_at(1, 20_000, anchor.parse().unwrap());
        let mut by_weekday = [0u32; 7];
        for i in 0..data.generated() {
            let time = data.call(i).unwrap().call_time.unwrap();
            // 1970-01-01 was a Thursday: (days + 3) % 7 is 0 on Mondays.
            by_weekday[(time.div_euclid(DAY) + 3).rem_euclid(7) as usize] += 1;
        }
        let weekday = by_weekday[..5].iter().sum::<u32>() / 5;
        let weekend = by_weekday[5..].iter().sum::<u32>() / 2;
        assert!(weekend * 10 < weekday * 7, "{anchor}: {by_weekday:?}");
    }
}

#[tokio::test]
async fn by_default_the_last_week_has_calls_and_the_vendors_example_still_holds() {
    let before = Anchor::today();
    let sandbox = Sandbox::builder().calls(2000).start().await.unwrap();
    let anchor = sandbox.data().anchor();
    assert!(before <= anchor && anchor <= Anchor::today(), "{anchor}");
    check_span(sandbox.data());
    let client = sandbox.client().unwrap();

    let week = AppraisecallDetailsRequest {
        call_from: Some(anchor.end_time() - 7 * DAY),
        ..all(1000)
    };
    let (calls, _) = fetch_all(&client, &week).await;
    assert!(calls.len() > 20, "{} calls in the last week", calls.len());
    let got: std::collections::HashSet<String> = uuids(&calls).into_iter().collect();
    assert_eq!(got, expected(sandbox.data(), &week));

    let request: AppraisecallDetailsRequest = serde_json::from_str(VENDOR_REQUEST).unwrap();
    let response = send(&client, &request).await;
    let vendor: serde_json::Value = serde_json::from_str(ccsqm_sandbox::VENDOR_EXAMPLE).unwrap();
    assert_eq!(serde_json::to_value(&response).unwrap(), vendor);
}

#[tokio::test]
async fn a_pinned_anchor_serves_the_same_data_on_any_day() {
    let anchor: Anchor = "2025-01-31".parse().unwrap();
    let a = Sandbox::builder()
        .calls(300)
        .seed(9)
        .anchor(anchor)
        .start()
        .await
        .unwrap();
    let b = DataSet::generate_at(9, 300, anchor);
    let calls = |d: &DataSet| (0..d.len()).map(|i| d.call(i)).collect::<Vec<_>>();
    assert_eq!(calls(a.data()), calls(&b));
    let other = DataSet::generate_at(9, 300, "2025-02-01".parse().unwrap());
    assert_ne!(calls(&other), calls(&b));
}
