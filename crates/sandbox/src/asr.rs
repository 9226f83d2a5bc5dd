//! Which calls have a transcript in the sandbox: voice calls whose inspection status has an ASR
//! result (the reading of the vendor's descriptions that `appraisecall/detail` and `keyword`
//! share).

use std::sync::OnceLock;

use ccsqm_client::spec::enums::INSPECTION_STATUS;

/// The call type whose calls have a transcript: voice (a text chat has no ASR transcript).
pub(crate) const VOICE: i64 = 0;

/// The inspection statuses (the spec's variant names) that mean there is no ASR result: not
/// transcribed yet, or transcription failed or found no speech. (Which statuses have a
/// transcript is undocumented: this is the sandbox's reading of their descriptions.)
const NO_ASR_RESULT: &[&str] = &[
    "WaitingForInspection",
    "AsrInProgress",
    "AsrNoSpeech",
    "SpeechToTextFailed",
    "AsrUploadFailed",
    "ThirdPartyAsrSubmitFailed",
    "AsrConversionFailed",
    "VoiceFileInvalid",
];

/// Whether a call of this type and status has a transcript in the sandbox.
pub fn has_transcript(call_type: Option<i64>, status: Option<i64>) -> bool {
    let no_asr = status.is_some_and(|code| {
        INSPECTION_STATUS
            .values
            .iter()
            .any(|v| v.code == code && NO_ASR_RESULT.contains(&v.variant))
    });
    call_type == Some(VOICE) && !no_asr
}

/// [`has_transcript`] of a call type and a status as a record keeps them (bytes), from a table
/// made once: what `keyword` needs for every call it tests (a call without a transcript has no
/// text, so no keyword matches it).
pub(crate) fn has_transcript_code(call_type: u8, status: u8) -> bool {
    static WITH_ASR: OnceLock<[bool; 256]> = OnceLock::new();
    let with_asr = WITH_ASR.get_or_init(|| {
        let mut table = [false; 256];
        for (code, with) in table.iter_mut().enumerate() {
            *with = has_transcript(Some(VOICE), Some(code as i64));
        }
        table
    });
    i64::from(call_type) == VOICE && with_asr[usize::from(status)]
}
