//! `ccsqm details --count`: how many calls match, per inspection status, without reading them.
//!
//! One request of one call (`limit` 1) per status the request asks for (every documented
//! status by default, or those of `--status`), each read for its `paging.total`, and one for
//! every status together: the server counts, so a million calls cost as many requests as a
//! hundred (4 at a time). The counts per status must add up to that total, or the command
//! fails (exit 5): a server that ignores the status filter, or data that changed while
//! counting, never gives a table that looks right and is not. A page without a usable
//! `paging.total` fails too (it cannot be counted this way; `--all` can read every call).

use std::io::Write;

use anyhow::Result;
use ccsqm_client::spec::enums::INSPECTION_STATUS;
use ccsqm_client::types::{AppraisecallDetailsRequest, InspectionStatus};
use ccsqm_client::Client;
use futures_util::{StreamExt, TryStreamExt};

use crate::output::Format;
use crate::summary::thousands;

/// Counts at a time.
const CONCURRENCY: usize = 4;

use crate::error::CountError;

/// The calls of one status.
#[derive(Debug, serde::Serialize)]
pub struct Count {
    pub status: i64,
    pub status_name: String,
    pub calls: u64,
}

/// The name of a status code, as the spec's enumeration gives it (the code for another).
fn status_name(code: i64) -> String {
    INSPECTION_STATUS
        .values
        .iter()
        .find(|v| v.code == code)
        .map_or_else(|| code.to_string(), |v| v.name.to_owned())
}

/// `paging.total` of `request` (as one call of page 1).
async fn total(client: &Client, mut request: AppraisecallDetailsRequest) -> Result<u64> {
    request.page = std::num::NonZeroU64::MIN;
    request.limit = std::num::NonZeroU64::MIN;
    let page = client.details_page(request).await?;
    let total = page.paging.as_ref().and_then(|p| p.total);
    match total.map(u64::try_from) {
        Some(Ok(total)) => Ok(total),
        _ => Err(CountError(
            "--count: the server's answer has no usable paging.total, so the calls cannot be \
             counted this way; --all -o ndjson reads every call"
                .into(),
        )
        .into()),
    }
}

/// The calls `request` matches, per status it asks for (in its order), and in all.
pub async fn count(
    client: &Client,
    request: &AppraisecallDetailsRequest,
) -> Result<(Vec<Count>, u64)> {
    let mut statuses: Vec<InspectionStatus> = Vec::new();
    for status in &request.status {
        if !statuses.contains(status) {
            statuses.push(status.clone());
        }
    }
    let all = total(client, request.clone());
    let per_status = futures_util::stream::iter(statuses.into_iter().map(|status| {
        let mut one = request.clone();
        one.status = vec![status.clone()];
        async move {
            let calls = total(client, one).await?;
            let code = i64::from(status);
            Ok::<_, anyhow::Error>(Count {
                status: code,
                status_name: status_name(code),
                calls,
            })
        }
    }))
    .buffered(CONCURRENCY)
    .try_collect::<Vec<_>>();
    let (all, counts) = futures_util::try_join!(all, per_status)?;
    let sum: u64 = counts.iter().map(|c| c.calls).sum();
    if sum != all {
        anyhow::bail!(CountError(format!(
            "--count: the counts per status add up to {} but {} calls match in all: the server \
             may not filter by status, or the calls changed while they were counted (run it \
             again, or count with --all -o ndjson)",
            thousands(sum),
            thousands(all)
        )));
    }
    Ok((counts, all))
}

/// Writes the counts: a table for people (with the total), or ndjson / csv (one row per
/// status), or json (`{"total": N, "statuses": [...]}`).
pub fn write(out: &mut dyn Write, format: Format, counts: &[Count], total: u64) -> Result<()> {
    match format {
        Format::Table => {
            let width = counts
                .iter()
                .map(|c| c.status_name.len())
                .chain([6])
                .max()
                .unwrap_or(6);
            let numbers = counts
                .iter()
                .map(|c| thousands(c.calls).len())
                .chain([5, thousands(total).len()])
                .max()
                .unwrap_or(5);
            writeln!(out, "{:<width$}  {:>numbers$}", "STATUS", "CALLS")?;
            for c in counts {
                let calls = thousands(c.calls);
                writeln!(out, "{:<width$}  {calls:>numbers$}", c.status_name)?;
            }
            writeln!(out, "{:<width$}  {:>numbers$}", "total", thousands(total))?;
        }
        Format::Ndjson => {
            for c in counts {
                serde_json::to_writer(&mut *out, c)?;
                writeln!(out)?;
            }
        }
        Format::Csv => {
            let mut csv = csv::Writer::from_writer(&mut *out);
            for c in counts {
                csv.serialize(c)?;
            }
            csv.flush()?;
        }
        Format::Json => {
            let value = serde_json::json!({ "total": total, "statuses": counts });
            serde_json::to_writer_pretty(&mut *out, &value)?;
            writeln!(out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts() -> Vec<Count> {
        vec![
            Count {
                status: 2,
                status_name: status_name(2),
                calls: 1234,
            },
            Count {
                status: 40,
                status_name: status_name(40),
                calls: 0,
            },
        ]
    }

    #[test]
    fn every_format_writes_the_counts() {
        let text = |format| {
            let mut out = Vec::new();
            write(&mut out, format, &counts(), 1234).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(
            text(Format::Table),
            "STATUS                CALLS\ninspection-succeeded  1,234\nvoice-file-invalid        0\ntotal                 1,234\n"
        );
        assert_eq!(
            text(Format::Csv),
            "status,status_name,calls\n2,inspection-succeeded,1234\n40,voice-file-invalid,0\n"
        );
        assert_eq!(
            text(Format::Ndjson),
            "{\"status\":2,\"status_name\":\"inspection-succeeded\",\"calls\":1234}\n\
             {\"status\":40,\"status_name\":\"voice-file-invalid\",\"calls\":0}\n"
        );
        let json: serde_json::Value = serde_json::from_str(&text(Format::Json)).unwrap();
        assert_eq!(json["total"], 1234);
        assert_eq!(json["statuses"][1]["status_name"], "voice-file-invalid");
        assert_eq!(status_name(77), "77");
    }
}
