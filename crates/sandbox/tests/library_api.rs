//! What a service's tests use of the sandbox as a library (#25 item 6): `client_builder()` to
//! set the client up (fast retries), and `DataSet::calls()` to compare results with.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use ccsqm_client::RetryPolicy;
use ccsqm_sandbox::{ErrorStatuses, Faults};
use futures_util::StreamExt;

#[tokio::test]
async fn calls_are_what_the_sandbox_serves() {
    let sandbox = common::sandbox(120).await;
    let client = sandbox.client_builder().build().unwrap();
    let mut stream = client.calls(common::all(25));
    let mut served = BTreeSet::new();
    while let Some(record) = stream.next().await {
        let record = record.unwrap();
        served.insert((
            record.call_group_id.unwrap_or_default(),
            record.call.call_uuid.clone(),
        ));
    }
    let listed: BTreeSet<_> = sandbox
        .data()
        .calls()
        .map(|(group, call)| (group, call.call_uuid))
        .collect();
    assert_eq!(sandbox.data().calls().count(), sandbox.data().len());
    assert_eq!(served, listed);
}

#[tokio::test]
async fn client_builder_takes_fast_retries() {
    let sandbox = common::sandbox(10).await;
    sandbox
        .set_faults(Faults {
            error_rate: 1.0,
            error_statuses: ErrorStatuses::new(&[503]).unwrap(),
            ..Faults::none()
        })
        .unwrap();
    let client = sandbox
        .client_builder()
        .retry(RetryPolicy {
            max_retries: 5,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client.details_page(common::all(10)).await.unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503), "{error}");
    assert_eq!(client.session().retries(), 5);
    // The default backoff would take seconds.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}
