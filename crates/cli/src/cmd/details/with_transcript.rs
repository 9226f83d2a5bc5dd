//! `ccsqm details --with-transcript`: each call's NDJSON line with its transcript's `segments`.

use std::io::Write;

use anyhow::Result;
use ccsqm_client::{ApiError, CallRecord, Client};
use ccsqm_models::Segment;
use futures_util::stream::{Stream, StreamExt};
use serde::Serialize;

use crate::error::PartialFailure;
use crate::output::transcript::printable;

/// A call's line: the call with its `call_group_id`, then `segments` (absent when the
/// transcript could not be fetched; empty when the call has none).
#[derive(Serialize)]
struct WithSegments<'a> {
    #[serde(flatten)]
    record: &'a CallRecord,
    #[serde(skip_serializing_if = "Option::is_none")]
    segments: Option<&'a [Segment]>,
}

/// Writes each call of `records` as an NDJSON line with its segments, fetching up to
/// `concurrency` transcripts at a time, in the calls' order. An error of `records` ends the
/// run with that error; a transcript that cannot be fetched is reported, its call written
/// without `segments`, and the run ends with a [`PartialFailure`] once every call is written.
/// `progress` is told how many calls are written.
pub async fn write<S>(
    client: &Client,
    records: S,
    concurrency: usize,
    out: &mut impl Write,
    mut progress: impl FnMut(u64),
) -> Result<()>
where
    S: Stream<Item = Result<CallRecord, ApiError>> + Send,
{
    let mut with_transcripts = std::pin::pin!(client.with_transcripts(records, concurrency));
    let mut written = 0u64;
    let mut failed = 0u64;
    let mut first_kind = None;
    while let Some(item) = with_transcripts.next().await {
        let ccsqm_client::WithTranscript { record, transcript } = item?;
        let uuid = record.call.call_uuid.as_deref().unwrap_or("");
        let segments = match &transcript {
            Some(Ok(response)) => Some(response.segments.as_slice()),
            Some(Err(error)) => {
                let why = match error.kind() {
                    // The vendor's "check the request path" misleads: the path is right.
                    ccsqm_client::ErrorKind::NotFound => {
                        "appraisecall/detail has no call with this call_uuid (HTTP 404)".to_owned()
                    }
                    _ => error.to_string(),
                };
                eprintln!("ccsqm: call {}: transcript: {why}", printable(uuid));
                failed += 1;
                first_kind.get_or_insert(error.kind());
                None
            }
            None => {
                let id = record.call.call_id.as_deref().unwrap_or("");
                eprintln!(
                    "ccsqm: call with call_id {:?}: no call_uuid, so no transcript",
                    printable(id)
                );
                failed += 1;
                first_kind.get_or_insert(ccsqm_client::ErrorKind::Server);
                None
            }
        };
        serde_json::to_writer(
            &mut *out,
            &WithSegments {
                record: &record,
                segments,
            },
        )?;
        out.write_all(b"\n")?;
        written += 1;
        progress(written);
    }
    match first_kind {
        None => Ok(()),
        Some(first) => Err(PartialFailure {
            message: format!(
                "the transcripts of {failed} of {written} call(s) could not be fetched"
            ),
            first,
        }
        .into()),
    }
}
