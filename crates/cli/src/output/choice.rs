//! What `ccsqm details` was asked to show (`--fields`, `--jq`, `--tz`), read and checked
//! before any request: a bad name or filter, or one the format cannot take, is exit 2.

use super::cells::Zone;
use super::jq::Jq;
use super::{fields, Format};
use crate::error::UsageError;

/// The parsed `--fields`, `--jq` and `--tz`.
pub struct Choice {
    pub fields: Option<Vec<&'static str>>,
    pub jq: Option<Jq>,
    pub zone: Zone,
}

impl Choice {
    /// Reads `--fields`, `--jq` and `--tz`: unknown fields, or a filter that does not compile,
    /// are refused.
    pub fn of(fields: &[String], jq: Option<&str>, tz: Option<&Zone>) -> Result<Self, UsageError> {
        let fields = match fields.is_empty() {
            true => None,
            false => Some(fields::parse(fields).map_err(|e| UsageError(e.to_string()))?),
        };
        let jq = jq.map(Jq::compile).transpose()?;
        let zone = tz.cloned().unwrap_or_else(Zone::local);
        Ok(Choice { fields, jq, zone })
    }

    /// Refuses what `format` cannot do: `--jq` is for JSON output; `--with-transcript` writes
    /// every field of a call with its segments.
    pub fn check(&self, format: Format, with_transcript: bool) -> Result<(), UsageError> {
        if self.jq.is_some() && !matches!(format, Format::Ndjson | Format::Json) {
            return Err(UsageError(
                "--jq works on JSON output: use --output ndjson or json (table and csv are not \
                 JSON)"
                    .into(),
            ));
        }
        if with_transcript && (self.jq.is_some() || self.fields.is_some()) {
            return Err(UsageError(
                "--with-transcript writes every field of a call with its segments: it does not \
                 take --fields or --jq (filter its lines with jq instead)"
                    .into(),
            ));
        }
        Ok(())
    }
}
