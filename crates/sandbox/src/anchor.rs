//! The anchor of a data set: the day its generated calls lead up to. By default today, so that
//! relative windows (`--call-from 7d`) find calls; pinned, for tests and reproducible data.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

const DAY: i64 = 86_400;

/// Generated calls start at 2021-06-18T00:00:00Z at the earliest anchor
/// ([`Anchor::EARLIEST`]), after the window of the vendor's example request (call times
/// 1621333149..=1623925149), so that the example request returns exactly the vendor's example
/// response; a later anchor moves them later by whole days.
pub const FIRST_CALL_TIME: i64 = 1_623_974_400;
/// Generated calls spread over this many days, up to their anchor ([`Anchor`]).
pub const SPAN_DAYS: u64 = 180;

/// How many days of calls a live sandbox has ahead of its clock when it starts, by default
/// ([`Anchor::live`]).
pub const LIVE_DAYS_AHEAD: i64 = 7;

/// The day (UTC) a data set's generated calls lead up to: they fall on the [`SPAN_DAYS`] days
/// before it, and end at its 00:00 UTC (a transferred call may run a few minutes past it, its
/// upload a few hours). The same seed, number of calls and anchor give the same data.
///
/// The default of [`crate::SandboxBuilder`] and of `ccsqm sandbox` is [`Anchor::today`];
/// `DataSet::generate` uses [`Anchor::EARLIEST`], so that its data never changes.
///
/// ```
/// use ccsqm_sandbox::Anchor;
/// let anchor: Anchor = "2024-03-01".parse().unwrap();
/// assert_eq!(anchor.to_string(), "2024-03-01");
/// assert_eq!(anchor.end_time(), 1_709_251_200); // 2024-03-01T00:00:00Z
/// assert!("2021-06-01".parse::<Anchor>().is_err()); // before Anchor::EARLIEST
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Anchor {
    /// Days since 1970-01-01.
    day: i64,
}

/// Why a date cannot be an anchor.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AnchorError {
    /// Not a date written `YYYY-MM-DD`.
    #[error("{0:?} is not a date (YYYY-MM-DD, e.g. 2024-03-01)")]
    NotADate(String),
    /// Before [`Anchor::EARLIEST`]: generated calls would fall in the window of the vendor's
    /// example request, which then would no longer return exactly the vendor's example
    /// response.
    #[error(
        "{0}: the anchor must be {earliest} or later (the generated calls must come after the \
         window of the vendor's example request, 2021-05-18 to 2021-06-17, so that it returns \
         exactly the vendor's example response)",
        earliest = Anchor::EARLIEST
    )]
    TooEarly(Anchor),
    /// After 9999-12-31.
    #[error("{0}: the anchor must be 9999-12-31 or earlier")]
    TooLate(String),
}

impl Anchor {
    /// The earliest anchor, 2021-12-15: its generated calls start at [`FIRST_CALL_TIME`]
    /// (2021-06-18T00:00:00Z), just after the vendor's example calls. It is the anchor of
    /// `DataSet::generate`, and the one tests pin to have calls at fixed times.
    pub const EARLIEST: Anchor = Anchor {
        day: FIRST_CALL_TIME / DAY + SPAN_DAYS as i64,
    };

    /// The latest anchor: 9999-12-31.
    pub const LATEST: Anchor = Anchor { day: 2_932_896 };

    /// Today (UTC), by the system clock; [`Anchor::EARLIEST`] if the clock is set before it.
    pub fn today() -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Self::of_day(now.div_euclid(DAY)).unwrap_or(Self::EARLIEST)
    }

    /// The anchor of a date (UTC), if it is a valid date from [`Anchor::EARLIEST`] to
    /// [`Anchor::LATEST`].
    pub fn from_ymd(year: i64, month: u8, day: u8) -> Result<Self, AnchorError> {
        let text = format!("{year:04}-{month:02}-{day:02}");
        let valid = (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month)
            && (0..=9999).contains(&year);
        if !valid {
            return Err(AnchorError::NotADate(text));
        }
        Self::of_day(days_from_civil(year, i64::from(month), i64::from(day))).map_err(|e| match e {
            AnchorError::TooLate(_) => AnchorError::TooLate(text),
            e => e,
        })
    }

    fn of_day(day: i64) -> Result<Self, AnchorError> {
        let anchor = Self { day };
        if anchor < Self::EARLIEST {
            Err(AnchorError::TooEarly(anchor))
        } else if anchor > Self::LATEST {
            Err(AnchorError::TooLate(anchor.to_string()))
        } else {
            Ok(anchor)
        }
    }

    /// The anchor of a live sandbox whose clock reads `now` (Unix seconds): [`LIVE_DAYS_AHEAD`]
    /// days after that day, so that calls keep arriving for that long ([`Anchor::EARLIEST`] if
    /// that is before it, [`Anchor::LATEST`] if after).
    pub fn live(now: i64) -> Self {
        let day = now.div_euclid(DAY) + LIVE_DAYS_AHEAD;
        Self::of_day(day.clamp(Self::EARLIEST.day, Self::LATEST.day)).unwrap_or(Self::EARLIEST)
    }

    /// Its 00:00 UTC, in Unix seconds: the end of the generated calls' span.
    pub fn end_time(self) -> i64 {
        self.day * DAY
    }

    /// The start of the generated calls' span, in Unix seconds: [`SPAN_DAYS`] days before
    /// [`Anchor::end_time`].
    pub fn first_call_time(self) -> i64 {
        self.end_time() - SPAN_DAYS as i64 * DAY
    }

    /// How many days after [`Anchor::EARLIEST`] it is (what the generated times are moved by).
    pub(crate) fn days_after_earliest(self) -> i64 {
        self.day - Self::EARLIEST.day
    }
}

impl Default for Anchor {
    /// [`Anchor::today`].
    fn default() -> Self {
        Self::today()
    }
}

impl fmt::Display for Anchor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(self.day);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl fmt::Debug for Anchor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Anchor({self})")
    }
}

impl FromStr for Anchor {
    type Err = AnchorError;

    /// A date, `YYYY-MM-DD` (UTC), or `today`.
    fn from_str(s: &str) -> Result<Self, AnchorError> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("today") {
            return Ok(Self::today());
        }
        let not_a_date = || AnchorError::NotADate(s.to_owned());
        let parts: Vec<&str> = s.split('-').collect();
        let [y, m, d] = parts.as_slice() else {
            return Err(not_a_date());
        };
        let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
        if !(digits(y, 4) && digits(m, 2) && digits(d, 2)) {
            return Err(not_a_date());
        }
        let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i64>(), m.parse::<u8>(), d.parse::<u8>()) else {
            return Err(not_a_date());
        };
        Self::from_ymd(y, m, d)
    }
}

/// A time in Unix seconds as `YYYY-MM-DD HH:MM UTC`.
pub fn utc_minute(time: i64) -> String {
    let (y, m, d) = civil_from_days(time.div_euclid(DAY));
    let secs = time.rem_euclid(DAY);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        secs / 3600,
        secs / 60 % 60
    )
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Year, month, day of a count of days since 1970-01-01 (Howard Hinnant's algorithm).
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_and_print() {
        assert_eq!(Anchor::EARLIEST.to_string(), "2021-12-15");
        assert_eq!(Anchor::LATEST.to_string(), "9999-12-31");
        assert_eq!(
            Anchor::EARLIEST.first_call_time(),
            FIRST_CALL_TIME,
            "the earliest anchor's calls start where the fixed data always started"
        );
        for text in ["2021-12-15", "2024-02-29", "2026-11-25", "9999-12-31"] {
            let anchor: Anchor = text.parse().unwrap();
            assert_eq!(anchor.to_string(), text);
            assert_eq!(anchor.end_time() % DAY, 0);
        }
        assert_eq!(
            "2024-03-01".parse::<Anchor>().unwrap().end_time(),
            1_709_251_200
        );
        for day in [-1000, 0, 18_000, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
    }

    #[test]
    fn bad_dates_and_early_anchors_are_refused() {
        for bad in [
            "",
            "2024",
            "2024-1-01",
            "2024-13-01",
            "2023-02-29",
            "2024-04-31",
            "24-01-01",
            "2024/01/01",
            "2024-01-01T00:00",
            "+2024-01-01",
        ] {
            assert!(
                matches!(bad.parse::<Anchor>(), Err(AnchorError::NotADate(_))),
                "{bad}"
            );
        }
        let early = "2021-12-14".parse::<Anchor>().unwrap_err();
        assert!(matches!(early, AnchorError::TooEarly(_)));
        let message = early.to_string();
        assert!(message.contains("2021-12-15 or later"), "{message}");
        assert!("2000-01-01".parse::<Anchor>().is_err());
    }

    #[test]
    fn today_is_today() {
        let today = Anchor::today();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!(today.end_time() <= now && now - today.end_time() < DAY + 5);
        assert_eq!(
            "today".parse::<Anchor>().map(|a| a.day / 2),
            Ok(today.day / 2)
        );
    }

    #[test]
    fn utc_minutes() {
        assert_eq!(utc_minute(FIRST_CALL_TIME + 3661), "2021-06-18 01:01 UTC");
    }
}
