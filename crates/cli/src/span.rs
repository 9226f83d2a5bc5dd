//! Spans of time as people write them: a whole number and a unit, `30s`, `15m`, `1h`, `3d`,
//! `2w`, and the common spellings of the units (`5min`, `90 secs`, `2days`, `1 week`, `3hrs`).
//! A number without a unit is not a span: it is refused where a span is expected (is `5` five
//! seconds or five minutes?), and read as Unix seconds where a time is.

/// The units, each with its spellings (lowercase; words are also read in any case).
const UNITS: [(i64, &[&str]); 5] = [
    (1, &["s", "sec", "secs", "second", "seconds"]),
    (60, &["m", "min", "mins", "minute", "minutes"]),
    (3_600, &["h", "hr", "hrs", "hour", "hours"]),
    (86_400, &["d", "day", "days"]),
    (7 * 86_400, &["w", "wk", "wks", "week", "weeks"]),
];

/// The forms a span takes, for messages and help.
pub const FORMS: &str = "a whole number and a unit: 30s, 15m (or 15min), 1h, 3d (or 3days), 2w";

/// Why a text is not a span.
#[derive(Debug, PartialEq, Eq)]
pub enum NotASpan {
    /// Not of a span's shape (no number, or an unknown unit).
    Shape,
    /// A number without its unit.
    NoUnit,
    /// Too large.
    TooLarge,
}

/// The seconds of `text`, a span.
pub fn seconds(text: &str) -> Result<i64, NotASpan> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    if number.is_empty() {
        return Err(NotASpan::Shape);
    }
    let unit = unit.trim_start();
    if unit.is_empty() {
        return Err(NotASpan::NoUnit);
    }
    let size = UNITS
        .iter()
        .find(|(_, names)| {
            names
                .iter()
                .any(|name| *name == unit || (name.len() > 1 && name.eq_ignore_ascii_case(unit)))
        })
        .map(|(size, _)| *size)
        .ok_or(NotASpan::Shape)?;
    number
        .parse::<i64>()
        .ok()
        .and_then(|n| n.checked_mul(size))
        .ok_or(NotASpan::TooLarge)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_in_their_common_spellings() {
        for (text, want) in [
            ("30s", 30),
            ("90 secs", 90),
            ("15m", 900),
            ("5min", 300),
            ("5 Minutes", 300),
            ("1h", 3_600),
            ("3hrs", 10_800),
            ("3d", 259_200),
            ("2days", 172_800),
            ("1w", 604_800),
            ("2 weeks", 1_209_600),
            (" 7d ", 604_800),
        ] {
            assert_eq!(seconds(text), Ok(want), "{text}");
        }
        assert_eq!(seconds("5"), Err(NotASpan::NoUnit));
        assert_eq!(seconds("60 "), Err(NotASpan::NoUnit));
        for shape in ["", "h", "1.5h", "-1h", "3y", "5M", "5 mo", "1d2h"] {
            assert_eq!(seconds(shape), Err(NotASpan::Shape), "{shape}");
        }
        assert_eq!(seconds("99999999999999999999d"), Err(NotASpan::TooLarge));
        assert_eq!(seconds("9999999999999999w"), Err(NotASpan::TooLarge));
    }
}
