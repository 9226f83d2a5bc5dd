//! A live sandbox over real HTTP, its clock moved by the test: `details` serves the calls
//! uploaded by the clock's reading, each as it is then; `appraisecall/detail` does not know a
//! call before its upload; `GET /sandbox/clock` tells the reading.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use ccsqm_client::types::Call;
use ccsqm_sandbox::{Anchor, Clock, Sandbox, CLOCK_PATH};
use common::{all, fetch_all};

async fn live(start: i64) -> Sandbox {
    Sandbox::builder()
        .calls(3_000)
        .seed(17)
        .anchor(Anchor::from_ymd(2024, 3, 1).unwrap())
        .live(Clock::manual(start))
        .start()
        .await
        .expect("the sandbox starts")
}

fn by_uuid(calls: Vec<Call>) -> BTreeMap<String, Call> {
    calls
        .into_iter()
        .map(|c| (c.call_uuid.clone().unwrap(), c))
        .collect()
}

#[tokio::test]
async fn details_answers_from_the_state_at_the_clock() {
    let end = Anchor::from_ymd(2024, 3, 1).unwrap().end_time();
    let sandbox = live(end - 86_400).await;
    let clock = sandbox.clock().expect("live").clone();
    let client = sandbox.client().unwrap();
    let mut previous: Option<BTreeMap<String, Call>> = None;
    let mut changed = 0;
    for step in [0u64, 10, 20, 120, 600, 1440] {
        clock.advance(Duration::from_secs(step * 60));
        let now = clock.now();
        let (calls, total) = fetch_all(&client, &all(500)).await;
        assert_eq!(total as usize, calls.len());
        let served = by_uuid(calls);
        let data = sandbox.data();
        let expected: BTreeMap<String, Call> = by_uuid(
            (0..data.len())
                .filter_map(|i| data.call_at(i, now))
                .collect(),
        );
        assert!(served == expected, "at {now}: not the state at the clock");
        assert!(served
            .values()
            .all(|c| c.upload_time.is_some_and(|t| t <= now)));
        if let Some(before) = &previous {
            assert!(before.keys().all(|k| served.contains_key(k)));
            changed += before
                .iter()
                .filter(|(k, c)| c.status != served[*k].status)
                .count();
        }
        previous = Some(served);
    }
    assert!(changed > 0, "no status moved");
    // At the end of the data, every call is there, as in the frozen data set.
    assert_eq!(previous.unwrap().len(), sandbox.data().len());
}

#[tokio::test]
async fn a_call_is_unknown_before_its_upload_and_the_clock_is_told() {
    let end = Anchor::from_ymd(2024, 3, 1).unwrap().end_time();
    let sandbox = live(end - 86_400).await;
    let data = sandbox.data().clone();
    let clock = sandbox.clock().unwrap().clone();
    // The newest call: uploaded after the clock's reading.
    let newest = data.call(0).unwrap();
    let uuid = newest.call_uuid.clone().unwrap();
    assert!(newest.upload_time.unwrap() > clock.now());
    let client = sandbox.client().unwrap();
    let refused = client.transcript(uuid.as_str()).await;
    assert!(refused.is_err(), "a call not uploaded yet is not known");
    clock.set(newest.upload_time.unwrap());
    let found = client
        .transcript(uuid.as_str())
        .await
        .expect("uploaded now");
    assert_eq!(found.status, Some(0), "just uploaded: waiting");

    let http = reqwest::Client::new();
    let reading = http
        .get(format!("{}{CLOCK_PATH}", sandbox.base_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(reading.trim(), clock.now().to_string());
    // Every answer's `Date` is the clock's reading: a client bounds what it reads by it.
    let request = serde_json::from_value(serde_json::json!({
        "call_types": [], "status": [], "upload_from": 0, "upload_to": 0, "limit": 1, "page": 1
    }))
    .unwrap();
    let answer = client.details_answer(request).await.unwrap();
    let date = answer
        .headers()
        .get("date")
        .expect("a Date")
        .to_str()
        .unwrap();
    let date = httpdate::parse_http_date(date).unwrap();
    let since_epoch = date
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(since_epoch as i64, clock.now(), "the Date of a live answer");
    let system = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        clock.now() < system - 86_400,
        "the clock is not the system's: the check means something"
    );
    // A frozen sandbox has no clock.
    let frozen = Sandbox::builder().calls(10).start().await.unwrap();
    assert!(frozen.clock().is_none());
    let status = http
        .get(format!("{}{CLOCK_PATH}", frozen.base_url()))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 404);
}
