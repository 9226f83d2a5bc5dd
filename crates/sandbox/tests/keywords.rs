//! `keyword` over real HTTP: `appraisecall/details` with a keyword returns exactly the calls
//! whose transcript (`appraisecall/detail`, its segments' text, one line each) contains the
//! keyword, ignoring case. So a call without a transcript (a text chat, or a status without an
//! ASR result: waiting, ASR in progress, no speech, transcription failed, …) matches no
//! keyword. Checked for every call of several data sets, a live one among them, with fixed
//! keywords and words taken from the transcripts themselves.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use ccsqm_models::Transcript;
use ccsqm_sandbox::{Anchor, Clock, Sandbox};
use common::{all, fetch_all};
use futures_util::StreamExt;

/// Keywords every data set is searched for: words of the dialogs in any case, a phrase, a
/// single letter, punctuation, a keyword spanning two lines, one no call says, and the empty
/// keyword (which every text contains).
const FIXED: &[&str] = &[
    "refund",
    "REFUND",
    "Password",
    "delivery",
    "thank you",
    "e",
    "?",
    ", ",
    "help you?\nI was",
    "nobody says this",
    "",
];

/// Every call of the sandbox as it is now (its clock's reading, if live): `call_uuid` → the
/// text of its transcript, lower case ("" without segments).
async fn transcripts(sandbox: &Sandbox) -> BTreeMap<String, String> {
    let client = sandbox.client().unwrap();
    let (calls, total) = fetch_all(&client, &all(1000)).await;
    assert_eq!(total as usize, calls.len());
    let uuids: Vec<String> = calls
        .iter()
        .map(|c| c.call_uuid.clone().expect("a call_uuid"))
        .collect();
    client
        .transcripts(futures_util::stream::iter(uuids))
        .concurrency(4)
        .map(|(uuid, result)| {
            let response = result.unwrap_or_else(|e| panic!("{uuid}: {e}"));
            (uuid, Transcript::new(response).text().to_lowercase())
        })
        .collect()
        .await
}

/// Words and two-word phrases of the transcripts, a sample spread over them (the generated
/// vocabulary, and the vendor's calls' own).
fn vocabulary(texts: &BTreeMap<String, String>) -> Vec<String> {
    let mut words = BTreeSet::new();
    for text in texts.values() {
        for line in text.lines() {
            let tokens: Vec<&str> = line.split_whitespace().collect();
            words.extend(tokens.iter().map(|w| w.to_string()));
            words.extend(tokens.windows(2).map(|w| w.join(" ")));
        }
    }
    let words: Vec<String> = words.into_iter().collect();
    let step = (words.len() / 25).max(1);
    words.into_iter().step_by(step).collect()
}

/// Searches `sandbox` for every keyword and compares with its transcripts. Returns how many
/// calls without a transcript there are (a data set must have some for the check to mean
/// anything).
async fn check(sandbox: &Sandbox, at: &str) -> usize {
    let texts = transcripts(sandbox).await;
    if sandbox.clock().is_none() {
        assert_eq!(texts.len(), sandbox.data().len(), "{at}");
    }
    let without = texts.values().filter(|t| t.is_empty()).count();
    let mut keywords: Vec<String> = FIXED.iter().map(|k| k.to_string()).collect();
    keywords.extend(vocabulary(&texts));
    let client = sandbox.client().unwrap();
    for keyword in &keywords {
        let mut request = all(1000);
        request.keyword = Some(keyword.clone());
        let (calls, total) = fetch_all(&client, &request).await;
        assert_eq!(total as usize, calls.len(), "{at}: {keyword:?}");
        let found: BTreeSet<String> = calls.into_iter().filter_map(|c| c.call_uuid).collect();
        let lower = keyword.to_lowercase();
        let expected: BTreeSet<String> = texts
            .iter()
            .filter(|(_, text)| text.contains(&lower))
            .map(|(uuid, _)| uuid.clone())
            .collect();
        if let Some(uuid) = found.difference(&expected).next() {
            panic!(
                "{at}: keyword {keyword:?} found call {uuid}, whose transcript does not say it: \
                 {:?}",
                texts.get(uuid)
            );
        }
        if let Some(uuid) = expected.difference(&found).next() {
            panic!(
                "{at}: keyword {keyword:?} missed call {uuid}, whose transcript says it: {:?}",
                texts[uuid]
            );
        }
    }
    without
}

#[tokio::test]
async fn a_keyword_finds_exactly_the_calls_whose_transcript_says_it() {
    for (seed, calls, anchor) in [
        (3, 3000, Anchor::EARLIEST),
        (29, 1500, Anchor::from_ymd(2025, 6, 30).unwrap()),
    ] {
        let sandbox = Sandbox::builder()
            .calls(calls)
            .seed(seed)
            .anchor(anchor)
            .start()
            .await
            .unwrap();
        let without = check(&sandbox, &format!("seed {seed}")).await;
        assert!(without > 0, "seed {seed}: no call without a transcript");
        sandbox.shutdown().await;
    }
}

/// A live sandbox: a call's status (so whether it has a transcript yet) is the one reached at
/// the clock's reading, for the search as for the transcript.
#[tokio::test]
async fn a_live_keyword_search_agrees_with_the_transcripts_at_the_clock() {
    let anchor = Anchor::from_ymd(2024, 3, 1).unwrap();
    let sandbox = Sandbox::builder()
        .calls(2000)
        .seed(17)
        .anchor(anchor)
        .live(Clock::manual(anchor.end_time() - 86_400))
        .start()
        .await
        .unwrap();
    let clock = sandbox.clock().expect("live").clone();
    for step in [0u64, 30, 600] {
        clock.advance(Duration::from_secs(step * 60));
        let now = clock.now();
        let without = check(&sandbox, &format!("live at {now}")).await;
        assert!(without > 0, "at {now}: no call without a transcript");
    }
    sandbox.shutdown().await;
}
