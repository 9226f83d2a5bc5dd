//! Time arguments (`--call-from`, `--upload-to`, ...) as the API's Unix seconds.
//!
//! Accepted forms, all converted to a Unix timestamp in seconds:
//!
//! | form | example | meaning |
//! |---|---|---|
//! | Unix seconds | `1621333149` | as is |
//! | RFC 3339 | `2021-05-18T10:19:09Z`, `2021-05-18T18:19:09+08:00` | that instant |
//! | date and time | `2021-05-18T10:19:09`, `2021-05-18 10:19` | in the local time zone (`TZ`) |
//! | date | `2021-05-18` | the start of that day in the local time zone, or for a `*-to` flag its last second |
//! | relative span | `7d`, `24h`, `90m`, `30s`, `2w` | that long before now |
//! | `now` | `now` | now |

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};

/// Which end of a window a time argument is: a plain date means the start of the day for a
/// lower bound and its last second for an upper bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    /// `--call-from`, `--upload-from`.
    From,
    /// `--call-to`, `--upload-to`.
    To,
}

/// What a time argument accepts, for error messages and help.
pub const ACCEPTED: &str = "Unix seconds (1621333149), RFC 3339 (2021-05-18T10:19:09Z), a local \
date and time (2021-05-18T10:19:09), a date (2021-05-18), a span before now (7d, 24h, 90m, 30s, \
2w, 5min, 2days) or `now`";

/// Parses a time argument relative to `now`, in the time zone `tz`.
pub fn parse(input: &str, bound: Bound, now: Timestamp, tz: &TimeZone) -> Result<i64, String> {
    let text = input.trim();
    let bad = || format!("invalid time {input:?}: expected {ACCEPTED}");
    if text.eq_ignore_ascii_case("now") {
        return Ok(now.as_second());
    }
    if let Ok(seconds) = text.parse::<i64>() {
        return Timestamp::from_second(seconds)
            .map(|t| t.as_second())
            .map_err(|_| format!("invalid time {input:?}: Unix seconds out of range"));
    }
    if let Some(span) = relative_span(text) {
        let span = span.map_err(|_| bad())?;
        return now
            .checked_sub(span)
            .map(|t| t.as_second())
            .map_err(|_| format!("invalid time {input:?}: too far in the past"));
    }
    if let Ok(instant) = text.parse::<Timestamp>() {
        return Ok(instant.as_second());
    }
    // jiff reads a date from the start of a date and time too: only a bare date is a whole day.
    let bare_date = !text.contains(['T', 't', ' ', ':']);
    if let Some(date) = bare_date.then(|| text.parse::<Date>().ok()).flatten() {
        return match bound {
            Bound::From => local(date.to_datetime(jiff::civil::Time::midnight()), tz),
            Bound::To => date
                .tomorrow()
                .ok()
                .and_then(|next| local(next.to_datetime(jiff::civil::Time::midnight()), tz))
                .map(|start_of_next_day| start_of_next_day - 1),
        }
        .ok_or_else(bad);
    }
    if let Ok(datetime) = text.parse::<DateTime>() {
        return local(datetime, tz).ok_or_else(bad);
    }
    Err(bad())
}

fn local(datetime: DateTime, tz: &TimeZone) -> Option<i64> {
    datetime
        .to_zoned_datetime(tz.clone())
        .ok()
        .map(|z| z.timestamp().as_second())
}

/// `7d`, `24h`, `90m`, `30s`, `2w` (and the units' other spellings, see [`crate::span`]):
/// `None` when the text is not of that shape at all.
fn relative_span(text: &str) -> Option<Result<Span, ()>> {
    match crate::span::seconds(text) {
        Ok(seconds) => Some(Span::new().try_seconds(seconds).map_err(|_| ())),
        Err(crate::span::NotASpan::TooLarge) => Some(Err(())),
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2021-06-02T11:36:22Z".parse().unwrap()
    }

    fn shanghai() -> TimeZone {
        TimeZone::fixed(jiff::tz::offset(8))
    }

    fn at(input: &str, bound: Bound) -> Result<i64, String> {
        parse(input, bound, now(), &shanghai())
    }

    #[test]
    fn every_form_becomes_unix_seconds() {
        assert_eq!(at("1621333149", Bound::From), Ok(1621333149));
        assert_eq!(at("2021-05-18T10:19:09Z", Bound::From), Ok(1621333149));
        assert_eq!(at("2021-05-18T18:19:09+08:00", Bound::To), Ok(1621333149));
        // Without an offset: the local zone (UTC+8 here).
        assert_eq!(at("2021-05-18T18:19:09", Bound::From), Ok(1621333149));
        assert_eq!(at("2021-05-18 18:19:09", Bound::From), Ok(1621333149));
        assert_eq!(at("now", Bound::To), Ok(1622633782));
        assert_eq!(at("7d", Bound::From), Ok(1622633782 - 7 * 86_400));
        assert_eq!(at("24h", Bound::From), Ok(1622633782 - 86_400));
        assert_eq!(at("90m", Bound::From), Ok(1622633782 - 5_400));
        assert_eq!(at("30s", Bound::From), Ok(1622633782 - 30));
        assert_eq!(at("2w", Bound::From), Ok(1622633782 - 14 * 86_400));
    }

    #[test]
    fn a_date_is_a_whole_local_day() {
        // 2021-06-02T00:00:00+08:00 and 2021-06-02T23:59:59+08:00
        assert_eq!(at("2021-06-02", Bound::From), Ok(1622563200));
        assert_eq!(at("2021-06-02", Bound::To), Ok(1622563200 + 86_399));
    }

    #[test]
    fn malformed_times_are_refused_with_the_accepted_forms() {
        for bad in [
            "",
            "yesterday",
            "2021-13-01",
            "7y",
            "d",
            "-5d",
            "12:00",
            "2021-06-02T25:00",
        ] {
            let err = at(bad, Bound::From).expect_err(bad);
            assert!(err.contains("expected Unix seconds"), "{bad}: {err}");
        }
        assert!(at("99999999999999", Bound::From).is_err());
        assert!(at("9999999999999999d", Bound::From).is_err());
    }
}
