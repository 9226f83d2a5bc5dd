//! [`RetryPolicy`]: which failures are retried, how often, and how long to wait in between.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;

/// How failed requests are retried: with exponential backoff and jitter, at most
/// `max_retries` times and only while the whole exchange stays within `max_elapsed`.
///
/// Retried: connection errors, timeouts, and the statuses 429, 502, 503 and 504 (a
/// `Retry-After` header is honoured). Never retried: 400, 401 (but see
/// [`ClientBuilder::ak_sk`](crate::ClientBuilder::ak_sk)), 404, and 500, which the vendor
/// documents as a business failure caused by the parameter values, not a transient fault.
///
/// Retrying is safe here: `appraisecall/details` is a read-only query and `tokenByAkSk` only
/// issues a token, so sending either again changes nothing on the server.
///
/// ```
/// use std::time::Duration;
/// let policy = ccsqm_client::RetryPolicy {
///     max_retries: 5,
///     ..ccsqm_client::RetryPolicy::default()
/// };
/// assert_eq!(policy.initial_backoff, Duration::from_millis(200));
/// assert_eq!(ccsqm_client::RetryPolicy::none().max_retries, 0);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0: never retry). Default 3.
    pub max_retries: u32,
    /// The wait before the first retry; each further retry doubles it. Default 200 ms.
    pub initial_backoff: Duration,
    /// The longest wait between two attempts, before jitter. Default 5 s.
    pub max_backoff: Duration,
    /// No retry starts once this much time has passed since the first attempt, and none whose
    /// wait would pass it (a longer `Retry-After` ends the retries). Default 30 s.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_elapsed: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// The wait before retry number `retry` (1 for the first): `initial_backoff * 2^(retry-1)`,
    /// capped at `max_backoff`, then a random point in its upper half ("equal jitter"), so that
    /// many clients failing together do not retry together.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = retry.saturating_sub(1).min(31);
        let base = self
            .initial_backoff
            .saturating_mul(1u32 << exp)
            .min(self.max_backoff);
        let half = base / 2;
        let jitter_nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        half + Duration::from_nanos(rand::random_range(0..=jitter_nanos))
    }
}

/// Whether a status is worth a retry.
pub(crate) fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// Whether a transport error is worth a retry: no connection, a timeout, or a connection that
/// broke while the request or the response was under way.
///
/// Errors here come from sending a request and reading its body as bytes, never from parsing
/// it; so a "decode" error is a body cut short (reqwest reports a connection closed before
/// `Content-Length` bytes as one), and is retried too.
pub(crate) fn is_retryable_error(error: &reqwest::Error) -> bool {
    error.is_connect()
        || error.is_timeout()
        || error.is_request()
        || error.is_body()
        || error.is_decode()
}

/// The wait a `Retry-After` header asks for: delay-seconds (any number of digits: more than
/// `u64` holds reads as `u64::MAX` seconds) or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    // An HTTP-date (RFC 9110): IMF-fixdate, or the obsolete RFC 850 and asctime forms, which
    // recipients must accept too; httpdate reads all three (as the page's `Date`).
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_doubles_is_capped_and_jittered_within_its_upper_half() {
        let policy = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
            ..RetryPolicy::default()
        };
        for (retry, base) in [(1, 100), (2, 200), (3, 350), (4, 350), (40, 350)] {
            let base = Duration::from_millis(base);
            for _ in 0..50 {
                let wait = policy.backoff(retry);
                assert!(wait >= base / 2 && wait <= base, "retry {retry}: {wait:?}");
            }
        }
        let waits: std::collections::HashSet<_> = (0..20).map(|_| policy.backoff(3)).collect();
        assert!(waits.len() > 1, "jitter varies the wait");
    }

    #[test]
    fn retried_statuses_are_429_502_503_504_only() {
        let retried: Vec<u16> = (100..600)
            .filter(|s| is_retryable_status(StatusCode::from_u16(*s).unwrap()))
            .collect();
        assert_eq!(retried, [429, 502, 503, 504]);
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_470); // 07:27:50 GMT
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers, now), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(7)));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(10)));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:00:00 GMT"),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::ZERO));
        // The obsolete forms of an HTTP-date, which a recipient must accept.
        for obsolete in [
            "Wednesday, 21-Oct-15 07:28:00 GMT",
            "Wed Oct 21 07:28:00 2015",
        ] {
            headers.insert(RETRY_AFTER, HeaderValue::from_static(obsolete));
            assert_eq!(
                retry_after(&headers, now),
                Some(Duration::from_secs(10)),
                "{obsolete}"
            );
        }
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
        for huge in ["18446744073709551615", "99999999999999999999999"] {
            headers.insert(RETRY_AFTER, HeaderValue::from_static(huge));
            assert_eq!(
                retry_after(&headers, now),
                Some(Duration::from_secs(u64::MAX))
            );
        }
    }
}
