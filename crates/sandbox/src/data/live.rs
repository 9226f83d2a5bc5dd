//! A live sandbox's view of the data set: which calls are uploaded at a clock reading, and how
//! far each inspection has gone.
//!
//! The data set is generated once, whole; at a reading `now` a call is there when its
//! `upload_time <= now`, and its inspection moves over minutes after the upload: waiting (0),
//! then in inspection (1), then ASR in progress (3), then its status in the data set (2 for
//! most; a failure code for some). Each step lasts a time drawn from the seed and the call
//! (waiting 30 s to 5 min, inspection 1 to 10 min, ASR 1 to 20 min), so the state is a pure
//! function of (seed, call, reading). A call whose status in the data set is itself 0, 1 or 3
//! stops there (it stays in progress). Its metrics (speech ratios, silence times, speeds,
//! `deal`) are 0 until its last step is over; then the call is exactly the frozen data set's.

use std::sync::LazyLock;

use super::{CallFields, DataSet, Decimal, Record, STATUSES};
use crate::rng::mix;

/// The steps of an inspection in progress, as codes: the spec's group `in-progress` of the
/// inspection statuses (`x-enum-groups`), in its order (waiting, inspection, ASR); a step the
/// spec lacked would be left out.
static STEPS: LazyLock<Vec<u8>> = LazyLock::new(|| {
    STATUSES
        .group("in-progress")
        .map(|group| group.codes)
        .unwrap_or_default()
        .iter()
        .filter_map(|&code| u8::try_from(code).ok())
        .collect()
});

/// How long each step lasts, in seconds: (shortest, longest).
const STEP_SECONDS: [(u64, u64); 3] = [(30, 300), (60, 600), (60, 1200)];

/// A call at a clock reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LiveState {
    /// Not uploaded yet.
    NotYet,
    /// Uploaded, its inspection at this step (a status code), no metrics yet.
    InProgress(u8),
    /// As in the frozen data set.
    Final,
}

/// The state of the call of record `r`, in a data set of seed `seed`, at the reading `now`.
pub(crate) fn state(seed: u64, r: &Record, now: i64) -> LiveState {
    let upload = r.call_time + i64::from(r.upload_delay);
    let age = now.saturating_sub(upload);
    if age < 0 {
        return LiveState::NotYet;
    }
    if r.vendor > 0 {
        return LiveState::Final;
    }
    // The call's own draws: its times and size identify it (and are fixed by the seed).
    let mut key = mix(seed
        ^ 0x11FE_0000_5EED_0000
        ^ (r.call_time as u64).rotate_left(17)
        ^ u64::from(r.duration_cs).rotate_left(41)
        ^ u64::from(r.upload_delay));
    let steps = &*STEPS;
    // A call whose final status is a step stops at it.
    let last = steps.iter().position(|&s| s == r.status);
    let mut elapsed = 0i64;
    for (n, (&step, &(lo, hi))) in steps.iter().zip(STEP_SECONDS.iter()).enumerate() {
        key = mix(key);
        elapsed += (lo + key % (hi - lo + 1)) as i64;
        if age < elapsed {
            let at = last.map_or(n, |last| n.min(last));
            return LiveState::InProgress(steps.get(at).copied().unwrap_or(step));
        }
    }
    LiveState::Final
}

impl DataSet {
    pub(super) fn live_state(&self, r: &Record, now: i64) -> LiveState {
        state(self.seed, r, now)
    }
}

impl CallFields<'_> {
    /// The call while its inspection is at `status`: no metrics yet.
    pub(super) fn in_progress(&mut self, status: u8) {
        self.status = i64::from(status);
        self.deal = Decimal::ZERO;
        self.left_speech_ratio = Decimal::ZERO;
        self.right_speech_ratio = Decimal::ZERO;
        self.left_silence_time = Decimal::ZERO;
        self.right_silence_time = Decimal::ZERO;
        self.left_speed = Decimal::ZERO;
        self.right_speed = Decimal::ZERO;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use ccsqm_client::types::AppraisecallDetailsRequest;
    use serde_json::json;

    use super::*;
    use crate::Anchor;
    use ccsqm_client::types::Call;

    fn data() -> &'static DataSet {
        static DATA: OnceLock<DataSet> = OnceLock::new();
        DATA.get_or_init(|| {
            DataSet::generate_at(3, 2_000, Anchor::from_ymd(2024, 3, 1).expect("a date"))
        })
    }

    fn every_call(page: u64) -> AppraisecallDetailsRequest {
        serde_json::from_value(json!({
            "limit": 1000, "page": page,
            "call_types": super::super::CALL_TYPES.values.iter().map(|v| v.code).collect::<Vec<_>>(),
            "status": STATUSES.values.iter().map(|v| v.code).collect::<Vec<_>>(),
            "upload_from": null, "upload_to": null,
        }))
        .expect("a request")
    }

    /// The calls by `call_uuid` (a page groups calls, so their order is not the positions').
    fn by_uuid(calls: &[Call]) -> std::collections::BTreeMap<String, &Call> {
        let map: std::collections::BTreeMap<_, _> = calls
            .iter()
            .map(|c| (c.call_uuid.clone().expect("a call_uuid"), c))
            .collect();
        assert_eq!(map.len(), calls.len(), "no call twice");
        map
    }

    fn upload(data: &DataSet, i: usize) -> i64 {
        data.call(i)
            .and_then(|c| c.upload_time)
            .expect("an upload time")
    }

    #[test]
    fn each_call_goes_through_waiting_inspection_asr_then_its_status() {
        let data = data();
        let mut seen_each_step = [false; 3];
        for i in 0..data.len() {
            let frozen = data.call(i).expect("a call");
            let up = upload(data, i);
            assert!(
                data.call_at(i, up - 1).is_none(),
                "call {i} before its upload"
            );
            let mut statuses = Vec::new();
            for minute in 0..=40 {
                let call = data.call_at(i, up + minute * 60).expect("uploaded");
                if statuses.last() != call.status.as_ref() {
                    statuses.push(call.status.expect("a status"));
                }
                if data.records[i].vendor == 0 && (call.status != frozen.status || minute == 0) {
                    assert_eq!(
                        call.left_speech_ratio,
                        Some(0.0),
                        "call {i}: no metrics yet"
                    );
                }
            }
            // After the last step (35 minutes at most), exactly the frozen call.
            assert_eq!(
                data.call_at(i, up + 36 * 60),
                Some(frozen.clone()),
                "call {i}"
            );
            if data.records[i].vendor > 0 {
                continue;
            }
            let last = frozen.status.expect("a status");
            let mut expected: Vec<i64> = vec![0, 1, 3];
            match expected.iter().position(|&s| s == last) {
                Some(at) => expected.truncate(at + 1),
                None => expected.push(last),
            }
            assert_eq!(statuses, expected, "call {i}");
            for (n, step) in [0, 1, 3].iter().enumerate() {
                seen_each_step[n] |= statuses.contains(step);
            }
        }
        assert_eq!(seen_each_step, [true; 3]);
    }

    #[test]
    fn details_at_a_reading_serves_the_calls_uploaded_by_then_as_they_are_then() {
        let data = data();
        let end = Anchor::from_ymd(2024, 3, 1).expect("a date").end_time();
        for now in [end - 86_400 * 2, end - 3_600, end - 600, end + 86_400] {
            let mut served = Vec::new();
            for page in 1..=3 {
                let request = every_call(page);
                let typed = data.details_at(&request, now).expect("an answer");
                let sent = data.details_json_at(&request, now).expect("an answer");
                assert_eq!(
                    serde_json::to_vec(&typed).expect("serializes"),
                    sent,
                    "at {now}, page {page}: the JSON writer and the typed path agree"
                );
                served.extend(typed.data.into_iter().flat_map(|g| g.calls));
            }
            let expected: Vec<_> = (0..data.len())
                .filter_map(|i| data.call_at(i, now))
                .collect();
            assert!(by_uuid(&served) == by_uuid(&expected), "at {now}");
            // And the same reading again, from the cache, gives the same.
            let again = data.details_at(&every_call(1), now).expect("an answer");
            assert_eq!(
                again.paging.and_then(|p| p.total),
                Some(expected.len() as i64)
            );
        }
        let total = |now| {
            data.details_at(&every_call(1), now)
                .expect("an answer")
                .paging
                .and_then(|p| p.total)
        };
        assert!(total(end - 86_400) < total(end + 86_400));
        assert_eq!(total(end + 86_400), Some(data.len() as i64));
    }

    #[test]
    fn the_status_filter_sees_the_status_at_the_reading() {
        let data = data();
        let end = Anchor::from_ymd(2024, 3, 1).expect("a date").end_time();
        let now = end - 1_800;
        let mut request = every_call(1);
        request.status = serde_json::from_value(json!([0, 1, 3])).expect("statuses");
        let answer = data.details_at(&request, now).expect("an answer");
        let served: Vec<_> = answer.data.into_iter().flat_map(|g| g.calls).collect();
        let expected: Vec<_> = (0..data.len())
            .filter_map(|i| data.call_at(i, now))
            .filter(|c| matches!(c.status, Some(0 | 1 | 3)))
            .collect();
        assert!(!expected.is_empty());
        assert!(by_uuid(&served) == by_uuid(&expected));
    }
}
