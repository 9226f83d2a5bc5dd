//! What a service no longer writes by hand: the server's clock on the call stream, and each
//! call paired with its transcript, in order (against an in-process sandbox).

use std::collections::BTreeMap;

use ccsqm_client::types::AppraisecallDetailsRequest;
use ccsqm_sandbox::{Anchor, Clock, Sandbox};
use futures_util::StreamExt;

/// Every call type and status, both upload bounds open.
fn every_call(limit: u64) -> AppraisecallDetailsRequest {
    use ccsqm_client::spec::enums::{CALL_TYPE, INSPECTION_STATUS};
    serde_json::from_value(serde_json::json!({
        "call_types": CALL_TYPE.codes().collect::<Vec<_>>(),
        "status": INSPECTION_STATUS.codes().collect::<Vec<_>>(),
        "upload_from": null, "upload_to": null, "page": 1, "limit": limit,
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_call_stream_tells_the_servers_clock() {
    let anchor = Anchor::from_ymd(2024, 3, 1).unwrap();
    let reading = anchor.end_time() - 7_200;
    let sandbox = Sandbox::builder()
        .calls(300)
        .anchor(anchor)
        .live(Clock::manual(reading))
        .start()
        .await
        .unwrap();
    let client = sandbox.client().unwrap();
    let mut calls = client.calls(every_call(50));
    assert_eq!(calls.server_time(), None, "before any page");
    let mut n = 0;
    while let Some(call) = calls.next().await {
        call.unwrap();
        n += 1;
    }
    assert!(n > 0);
    // The live sandbox's answers carry its clock's reading as their `Date`, years before
    // this machine's clock: the stream says the server's, not this machine's.
    assert_eq!(calls.server_time(), Some(reading));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_come_with_their_transcripts_in_order() {
    let sandbox = Sandbox::builder().calls(120).seed(4).start().await.unwrap();
    let client = sandbox.client().unwrap();
    let order: Vec<String> = client
        .calls(every_call(25))
        .map(|c| c.unwrap().call.call_uuid.unwrap())
        .collect()
        .await;
    let mut paired = std::pin::pin!(client.with_transcripts(client.calls(every_call(25)), 6));
    let mut seen = Vec::new();
    let mut segments = BTreeMap::new();
    while let Some(item) = paired.next().await {
        let call = item.unwrap();
        let uuid = call.record.call.call_uuid.clone().unwrap();
        let transcript = call.transcript.expect("a call with a call_uuid").unwrap();
        assert_eq!(
            transcript.call_uuid.as_deref(),
            Some(uuid.as_str()),
            "its own transcript"
        );
        segments.insert(uuid.clone(), transcript.segments.len());
        seen.push(uuid);
    }
    assert_eq!(seen, order, "in the calls' order");
    // The same transcripts as asked for one by one.
    for uuid in order.iter().take(10) {
        let one = client.transcript(uuid.clone()).await.unwrap();
        assert_eq!(one.segments.len(), segments[uuid]);
    }
}
