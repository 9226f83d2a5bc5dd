//! `appraisecall/detail`: a call of the data set with its transcript, consistent with what
//! `appraisecall/details` says of the same call.
//!
//! The transcript is the call's dialog (the text `keyword` searches), one segment per line,
//! agent and customer in turn, on the channels `left_channel`/`right_channel` name. Each
//! side's segments last, together, its `*_speech_ratio` of `duration` (so its silence is its
//! `*_silence_time`), split between its lines by their length; the silence between segments is
//! spread over the call. Times are in hundredths of a second and lie within `duration`.

use ccsqm_client::types::{
    AppraisecallDetailResponse, Call, Emotion, FlexibleCallId, Segment, SegmentSpeaker,
};

use crate::asr::has_transcript;
use crate::data::DataSet;
use crate::rng::mix;

/// The `appraisecall/detail` response for call `index` of `data`.
/// At a live sandbox's clock reading `now`, the call as it is then (`None` before its upload).
pub(crate) fn detail(
    data: &DataSet,
    index: usize,
    now: Option<i64>,
) -> Option<AppraisecallDetailResponse> {
    let call = match now {
        Some(now) => data.call_at(index, now)?,
        None => data.call(index)?,
    };
    let dialog = data.dialog(index)?;
    let with_transcript = has_transcript(call.call_type, call.status);
    let segments = if with_transcript {
        segments(&call, &dialog)
    } else {
        Vec::new()
    };
    let key = mix(data.seed() ^ index as u64 ^ 0x7A45_C41B_0000_0000);
    let left_emotions = if with_transcript {
        let negative = ["complaint", "cancel", "charged twice", "never came"]
            .iter()
            .any(|w| dialog.to_lowercase().contains(w));
        vec![Emotion {
            type_: Some(if negative { "negative" } else { "positive" }.to_owned()),
            score: Some((50 + key % 50) as f64 / 100.0),
        }]
    } else {
        Vec::new()
    };
    let Call {
        call_id,
        call_time,
        call_type,
        call_uuid,
        deal,
        duration,
        file_name,
        left_channel,
        left_silence_time,
        left_speech_ratio,
        left_speed,
        right_channel,
        right_silence_time,
        right_speech_ratio,
        right_speed,
        staff_id,
        staff_name,
        status,
        upload_time,
        create_time,
        ..
    } = call;
    Some(AppraisecallDetailResponse {
        call_id: call_id.map(FlexibleCallId::String),
        call_time,
        call_type,
        call_uuid,
        create_time,
        deal,
        duration,
        file_name,
        left_channel,
        left_emotions,
        left_silence_time,
        left_speech_ratio,
        left_speed,
        right_channel,
        right_silence_time,
        right_speech_ratio,
        right_speed,
        rule_severity_violation_count: with_transcript.then_some((key >> 8) as i64 % 4),
        segments,
        staff_id,
        staff_name,
        status,
        upload_time,
    })
}

/// The segments of a call: its dialog's lines, agent first, then customer, in turn.
fn segments(call: &Call, dialog: &str) -> Vec<Segment> {
    let lines: Vec<&str> = dialog.lines().collect();
    let duration_cs = cs(call.duration.unwrap_or(0.0));
    let left_is_staff = call.left_channel.as_deref() == Some("staff");
    let (staff_ratio, customer_ratio) = if left_is_staff {
        (call.left_speech_ratio, call.right_speech_ratio)
    } else {
        (call.right_speech_ratio, call.left_speech_ratio)
    };
    let ratio = |r: Option<f64>| r.unwrap_or(0.0).clamp(0.0, 1.0);
    let mut staff_cs = cs(duration_cs as f64 * ratio(staff_ratio) / 100.0);
    let mut customer_cs = cs(duration_cs as f64 * ratio(customer_ratio) / 100.0);
    // Ratios adding up to more than the call (never in the data set): the speech is shrunk.
    if staff_cs + customer_cs > duration_cs {
        let total = staff_cs + customer_cs;
        staff_cs = staff_cs * duration_cs / total;
        customer_cs = customer_cs * duration_cs / total;
    }
    let is_staff = |k: usize| k.is_multiple_of(2);
    let length = |staff: bool| -> u64 {
        lines
            .iter()
            .enumerate()
            .filter(|(k, _)| is_staff(*k) == staff)
            .map(|(_, l)| l.chars().count().max(1) as u64)
            .sum::<u64>()
            .max(1)
    };
    let (staff_chars, customer_chars) = (length(true), length(false));
    let speech: Vec<u64> = lines
        .iter()
        .enumerate()
        .map(|(k, line)| {
            let chars = line.chars().count().max(1) as u64;
            if is_staff(k) {
                staff_cs * chars / staff_chars
            } else {
                customer_cs * chars / customer_chars
            }
        })
        .collect();
    // Silence: one share before the first segment and after the last, two between segments.
    let silence = duration_cs.saturating_sub(speech.iter().sum());
    let shares = 2 * lines.len() as u64;
    let gap = |k: usize| {
        let share = if k == 0 { 1 } else { 2 };
        silence * share / shares.max(1)
    };
    let mut at = 0u64;
    let mut out = Vec::with_capacity(lines.len());
    for (k, line) in lines.iter().enumerate() {
        at += gap(k);
        let start = at;
        at += speech[k];
        out.push(Segment {
            segment_id: Some(k as i64 + 1),
            speaker: Some(SegmentSpeaker::String(
                if is_staff(k) { "staff" } else { "customer" }.to_owned(),
            )),
            start_time: Some(start as f64 / 100.0),
            end_time: Some(at as f64 / 100.0),
            asr_text: Some((*line).to_owned()),
            status: None,
        });
    }
    out
}

/// Seconds as whole hundredths (negative or not finite: 0).
fn cs(seconds: f64) -> u64 {
    if seconds.is_finite() && seconds > 0.0 {
        (seconds * 100.0).round() as u64
    } else {
        0
    }
}
