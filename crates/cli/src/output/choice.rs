//! What `ccsqm details` was asked to show (`--fields`, `--jq`, `--tz`), read and checked
//! before any request: a bad name or filter, or one the format cannot take, is exit 2.

use super::cells::Zone;
use super::jq::Jq;
use super::{fields, Format};
use crate::args::DetailsArgs;
use crate::UsageError;

/// The parsed `--fields`, `--jq` and `--tz`.
pub struct Choice {
    pub fields: Option<Vec<&'static str>>,
    pub jq: Option<Jq>,
    pub zone: Zone,
}

impl Choice {
    /// Reads the flags: unknown fields, or a filter that does not compile, are refused.
    pub fn of(args: &DetailsArgs) -> Result<Self, UsageError> {
        let fields = match args.fields.is_empty() {
            true => None,
            false => Some(fields::parse(&args.fields)?),
        };
        let jq = args.jq.as_deref().map(Jq::compile).transpose()?;
        let zone = args.tz.clone().unwrap_or_else(Zone::local);
        Ok(Choice { fields, jq, zone })
    }

    /// Refuses what `format` cannot do: `--jq` is for JSON output; `--with-transcript` writes
    /// every field of a call with its segments.
    pub fn check(&self, format: Format, args: &DetailsArgs) -> Result<(), UsageError> {
        if self.jq.is_some() && !matches!(format, Format::Ndjson | Format::Json) {
            return Err(UsageError(
                "--jq works on JSON output: use --output ndjson or json (table and csv are not \
                 JSON)"
                    .into(),
            ));
        }
        if args.with_transcript && (self.jq.is_some() || self.fields.is_some()) {
            return Err(UsageError(
                "--with-transcript writes every field of a call with its segments: it does not \
                 take --fields or --jq (filter its lines with jq instead)"
                    .into(),
            ));
        }
        Ok(())
    }
}
