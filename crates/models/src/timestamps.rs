//! The API's timestamps (`call_time`, `upload_time`, `create_time`, and the request's
//! `call_from`/`call_to`/`upload_from`/`upload_to`) are Unix timestamps in seconds.

use jiff::Timestamp;

/// The instant of a Unix timestamp in seconds (displayed in UTC, e.g. `2021-06-02T11:36:22Z`);
/// `None` when it is outside the range [`Timestamp`] can represent (about the years -9999 to
/// 9999). Never panics.
///
/// ```
/// use ccsqm_models::utc_from_unix_seconds;
///
/// let time = utc_from_unix_seconds(1622633782).unwrap();
/// assert_eq!(time.to_string(), "2021-06-02T11:36:22Z");
/// assert_eq!(utc_from_unix_seconds(i64::MAX), None);
/// ```
///
/// The other way round, for a request's time window, is [`Timestamp::as_second`].
pub fn utc_from_unix_seconds(seconds: i64) -> Option<Timestamp> {
    Timestamp::from_second(seconds).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn converts_in_range_and_rejects_out_of_range() {
        assert_eq!(utc_from_unix_seconds(0), Some(Timestamp::UNIX_EPOCH));
        assert_eq!(utc_from_unix_seconds(-1), Some(at("1969-12-31T23:59:59Z")));
        let time = utc_from_unix_seconds(1623925149).unwrap();
        assert_eq!(time, at("2021-06-17T10:19:09Z"));
        assert_eq!(time.as_second(), 1623925149);
        for seconds in [i64::MIN, i64::MAX, 253_402_300_800, -377_705_116_801] {
            assert_eq!(utc_from_unix_seconds(seconds), None, "{seconds}");
        }
    }
}
