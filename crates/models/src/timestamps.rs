//! The API's timestamps (`call_time`, `upload_time`, `create_time`, and the request's
//! `call_from`/`call_to`/`upload_from`/`upload_to`) are Unix timestamps in seconds.

use time::OffsetDateTime;

/// The UTC date and time of a Unix timestamp in seconds; `None` when it is outside the range
/// [`OffsetDateTime`] can represent (years -9999 to 9999). Never panics.
///
/// ```
/// use ccsqm_models::utc_from_unix_seconds;
/// use time::macros::datetime;
///
/// assert_eq!(utc_from_unix_seconds(1622633782), Some(datetime!(2021-06-02 11:36:22 UTC)));
/// assert_eq!(utc_from_unix_seconds(i64::MAX), None);
/// ```
///
/// The other way round, for a request's time window, is [`OffsetDateTime::unix_timestamp`].
pub fn utc_from_unix_seconds(seconds: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(seconds).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn converts_in_range_and_rejects_out_of_range() {
        assert_eq!(utc_from_unix_seconds(0), Some(OffsetDateTime::UNIX_EPOCH));
        assert_eq!(
            utc_from_unix_seconds(-1),
            Some(datetime!(1969-12-31 23:59:59 UTC))
        );
        let time = utc_from_unix_seconds(1623925149).unwrap();
        assert_eq!(time, datetime!(2021-06-17 10:19:09 UTC));
        assert!(time.offset().is_utc());
        assert_eq!(time.unix_timestamp(), 1623925149);
        for seconds in [i64::MIN, i64::MAX, 253_402_300_800, -377_705_116_801] {
            assert_eq!(utc_from_unix_seconds(seconds), None, "{seconds}");
        }
    }
}
