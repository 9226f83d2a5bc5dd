//! `ccsqm details` flags → the API's request body, checked before anything is sent.

use std::num::NonZeroU64;
use std::str::FromStr;

use ccsqm_models::{types, AppraisecallDetailsRequest, CallType, InspectionStatus};
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::args::DetailsArgs;
use crate::timearg::{self, Bound};
use crate::UsageError;

/// The request body the flags describe.
///
/// `call_types` and `status` are mandatory in the API: when not given, every documented call
/// type and every documented inspection status are sent.
pub fn build(
    args: &DetailsArgs,
    now: Timestamp,
    tz: &TimeZone,
) -> Result<AppraisecallDetailsRequest, UsageError> {
    let time = |flag: &str, value: &Option<String>, bound| {
        value
            .as_deref()
            .map(|v| timearg::parse(v, bound, now, tz).map_err(|e| usage(flag, e)))
            .transpose()
    };
    let call_from = time("--call-from", &args.call_from, Bound::From)?;
    let call_to = time("--call-to", &args.call_to, Bound::To)?;
    let upload_from = time("--upload-from", &args.upload_from, Bound::From)?;
    let upload_to = time("--upload-to", &args.upload_to, Bound::To)?;
    ordered("--call-from", call_from, "--call-to", call_to)?;
    ordered("--upload-from", upload_from, "--upload-to", upload_to)?;

    let duration_min = args.duration_min.map(seconds);
    let duration_max = args.duration_max.map(seconds);
    ordered(
        "--duration-min",
        duration_min,
        "--duration-max",
        duration_max,
    )?;

    Ok(AppraisecallDetailsRequest {
        call_from,
        call_to,
        call_types: codes::<CallType, types::CallType>("--call-type", &args.call_types)?,
        status: codes::<InspectionStatus, types::InspectionStatus>("--status", &args.status)?,
        keyword: args.keyword.clone(),
        staff_id: args.staff_id.clone(),
        staff_name: args.staff_name.clone(),
        upload_from,
        upload_to,
        duration_min,
        duration_max,
        page: NonZeroU64::new(args.page.unwrap_or(1))
            .ok_or_else(|| usage("--page", "must be 1 or more"))?,
        limit: NonZeroU64::new(args.limit).ok_or_else(|| usage("--limit", "must be 1 or more"))?,
    })
}

fn usage(flag: &str, message: impl std::fmt::Display) -> UsageError {
    UsageError(format!("{flag}: {message}"))
}

/// Clap bounds the values to `0..=i64::MAX`.
fn seconds(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn ordered(
    from_flag: &str,
    from: Option<i64>,
    to_flag: &str,
    to: Option<i64>,
) -> Result<(), UsageError> {
    match (from, to) {
        (Some(from), Some(to)) if from > to => Err(UsageError(format!(
            "{from_flag} ({from}) is after {to_flag} ({to})"
        ))),
        _ => Ok(()),
    }
}

/// Names or numbers of a coded field: every documented value when none is given.
fn codes<T, G>(flag: &str, values: &[String]) -> Result<Vec<G>, UsageError>
where
    T: FromStr + Copy + Known,
    T::Err: std::fmt::Display,
    G: TryFrom<T>,
    G::Error: std::fmt::Display,
{
    let parsed: Vec<T> = if values.is_empty() {
        T::all().to_vec()
    } else {
        values
            .iter()
            .map(|v| T::from_str(v).map_err(|e| usage(flag, e)))
            .collect::<Result<_, _>>()?
    };
    parsed
        .into_iter()
        .map(|v| G::try_from(v).map_err(|e| usage(flag, e)))
        .collect()
}

/// The documented values of a coded field.
pub trait Known: Sized + 'static {
    fn all() -> &'static [Self];
}

impl Known for CallType {
    fn all() -> &'static [Self] {
        CallType::ALL
    }
}

impl Known for InspectionStatus {
    fn all() -> &'static [Self] {
        InspectionStatus::ALL
    }
}
