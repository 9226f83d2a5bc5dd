//! A typed view of `appraisecall/detail`: a call's transcript with typed segments.

use std::time::Duration;

use ccsqm_client::types::{AppraisecallDetailResponse, FlexibleCallId, Segment, SegmentSpeaker};

use crate::{CallType, InspectionStatus};

/// Who speaks in a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Party {
    /// The customer (`customer`).
    Customer,
    /// The agent (the vendor's `staff`).
    Agent,
    /// Not known: a number (its values are undocumented), or a name the vendor does not use.
    Unknown,
}

impl Party {
    /// The party a name stands for: `customer`, `staff` or `agent` (any case).
    pub fn from_name(name: &str) -> Self {
        match name.trim().to_ascii_lowercase().as_str() {
            "customer" => Party::Customer,
            "staff" | "agent" => Party::Agent,
            _ => Party::Unknown,
        }
    }

    /// `customer`, `agent` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Customer => "customer",
            Party::Agent => "agent",
            Party::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for Party {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One utterance, typed.
#[derive(Clone, Debug, PartialEq)]
pub struct TranscriptSegment {
    /// `segment_id`.
    pub segment_id: Option<i64>,
    /// Who speaks: from `speaker` when it names a party (`customer`, `staff`), or from the
    /// call's `left_channel`/`right_channel` when it names a channel (`left`, `right`).
    pub party: Party,
    /// `speaker` as sent (a string, or a number in one edition of the vendor's reference).
    pub speaker: Option<SegmentSpeaker>,
    /// `start_time`, from the start of the call (`None` when absent, negative or not finite).
    pub start: Option<Duration>,
    /// `end_time`, from the start of the call (`None` when absent, negative or not finite).
    pub end: Option<Duration>,
    /// `asr_text` (empty when absent).
    pub text: String,
}

impl TranscriptSegment {
    /// How long the utterance lasts (`None` without both times, or when it ends before it
    /// starts).
    pub fn duration(&self) -> Option<Duration> {
        self.end?.checked_sub(self.start?)
    }
}

/// A call and its transcript, read from an `appraisecall/detail` response.
///
/// ```
/// use ccsqm_models::{Party, Transcript};
///
/// let response = serde_json::from_str(
///     r#"{"call_uuid": "u1", "call_id": 42, "left_channel": "customer", "right_channel": "staff",
///         "segments": [
///           {"segment_id": 1, "speaker": "right", "start_time": 0.0, "end_time": 2.5,
///            "asr_text": "Hello, how can I help?"},
///           {"segment_id": 2, "speaker": "customer", "start_time": 3.0, "end_time": 5.25,
///            "asr_text": "I want a refund."},
///           {"segment_id": 3, "speaker": 7, "start_time": 6.0, "end_time": 7.0, "asr_text": "..."}
///         ]}"#,
/// )?;
/// let transcript = Transcript::new(response);
/// assert_eq!(transcript.call_id().as_deref(), Some("42"));
/// let parties: Vec<Party> = transcript.segments.iter().map(|s| s.party).collect();
/// assert_eq!(parties, [Party::Agent, Party::Customer, Party::Unknown]);
/// assert_eq!(transcript.segments[1].duration(), Some(std::time::Duration::from_millis(2250)));
/// assert_eq!(transcript.text(), "Hello, how can I help?\nI want a refund.\n...");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Transcript {
    /// The response as the API sent it.
    pub response: AppraisecallDetailResponse,
    /// Its segments, typed, in the response's order.
    pub segments: Vec<TranscriptSegment>,
}

impl Transcript {
    /// Types the segments of a response.
    pub fn new(response: AppraisecallDetailResponse) -> Self {
        let segments = response
            .segments
            .iter()
            .map(|s| segment(&response, s))
            .collect();
        Self { response, segments }
    }

    /// Whether the call has a transcript (at least one segment).
    pub fn has_segments(&self) -> bool {
        !self.segments.is_empty()
    }

    /// The whole dialog: each segment's text, one line per segment, in order.
    pub fn text(&self) -> String {
        self.segments
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// `call_id` as text, whether the server sent a string or a number.
    pub fn call_id(&self) -> Option<String> {
        self.response.call_id.as_ref().map(call_id_text)
    }

    /// `call_type` as a [`CallType`].
    pub fn call_type(&self) -> Option<CallType> {
        self.response.call_type.map(CallType::from_code)
    }

    /// `status` as an [`InspectionStatus`].
    pub fn status(&self) -> Option<InspectionStatus> {
        self.response.status.map(InspectionStatus::from_code)
    }

    /// `duration` (`None` when absent, negative or not finite).
    pub fn duration(&self) -> Option<Duration> {
        self.response.duration.and_then(seconds)
    }

    /// The party that speaks on a channel, `left` or `right` (from `left_channel` and
    /// `right_channel`).
    pub fn party_of_channel(&self, channel: &str) -> Party {
        channel_party(&self.response, channel)
    }
}

/// A `call_id` as text: a string as it is, a number in decimal.
pub fn call_id_text(id: &FlexibleCallId) -> String {
    match id {
        FlexibleCallId::String(s) => s.clone(),
        FlexibleCallId::Int64(n) => n.to_string(),
    }
}

fn channel_party(response: &AppraisecallDetailResponse, channel: &str) -> Party {
    let who = match channel.trim().to_ascii_lowercase().as_str() {
        "left" => response.left_channel.as_deref(),
        "right" => response.right_channel.as_deref(),
        _ => None,
    };
    who.map_or(Party::Unknown, Party::from_name)
}

fn segment(response: &AppraisecallDetailResponse, s: &Segment) -> TranscriptSegment {
    let party = match &s.speaker {
        Some(SegmentSpeaker::String(name)) => match Party::from_name(name) {
            Party::Unknown => channel_party(response, name),
            party => party,
        },
        Some(SegmentSpeaker::Int64(_)) | None => Party::Unknown,
    };
    TranscriptSegment {
        segment_id: s.segment_id,
        party,
        speaker: s.speaker.clone(),
        start: s.start_time.and_then(seconds),
        end: s.end_time.and_then(seconds),
        text: s.asr_text.clone().unwrap_or_default(),
    }
}

fn seconds(value: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(value).ok()
}
