//! [`ApiError`]: what went wrong with a request, in one type.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;

use crate::server_text::{redact, visible};
use crate::{Error, Secret};

/// How many characters of an unreadable body an [`ApiError`] keeps.
const BODY_START_CHARS: usize = 200;

/// The header in which the client passes the start of an error status's body (credentials
/// removed, control characters escaped, at most [`BODY_START_CHARS`] characters) from its
/// transport to [`ApiError`]: the generated code drops the body of a documented status. A
/// header of this name sent by a server is removed. The generated builders' `ErrorResponse`
/// carries it too.
pub(crate) const BODY_START_HEADER: &str = "x-ccsqm-body-start";

/// The vendor's guidance for the documented error statuses of `appraisecall/details`: the
/// descriptions of `components.responses` in `spec/ccsqm.yaml` (a test compares them).
const GUIDANCE: [(u16, &str); 4] = [
    (
        400,
        "Incorrect request. Check the request path and parameters.",
    ),
    (
        401,
        "Unauthorized operation. 1. Check whether you have purchased related services. \
         2. Contact customer service to check the status of your account.",
    ),
    (
        404,
        "The requested content is not found. Check the request path.",
    ),
    (
        500,
        "Business failure. Check the values of parameters in the request. (A failure caused \
         by the parameter values, not a transient fault.)",
    ),
];

/// The vendor's guidance for a documented error status of `appraisecall/details` (400, 401,
/// 404 and 500), as the spec describes it; `None` for any other status.
///
/// ```
/// assert!(ccsqm_client::vendor_guidance(500).unwrap().starts_with("Business failure."));
/// assert_eq!(ccsqm_client::vendor_guidance(503), None);
/// ```
pub fn vendor_guidance(status: u16) -> Option<&'static str> {
    GUIDANCE
        .iter()
        .find(|(code, _)| *code == status)
        .map(|(_, text)| *text)
}

/// The class of an [`ApiError`], for callers that act on it (a command's exit code, say).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request was refused before it was sent: a missing or invalid field.
    InvalidRequest,
    /// 401, or `tokenByAkSk` refused the app key and secret (a token interface that is down is
    /// `Server` or `Network`).
    Auth,
    /// 400: the request path or parameters are incorrect.
    BadRequest,
    /// 404: the request path is not found.
    NotFound,
    /// 500: a business failure caused by the parameter values (not transient).
    Business,
    /// Any other status: 403 from a firewall, 429, 502, 503, 504 after the retries, ...
    Server,
    /// No response: the connection failed or timed out (after the retries).
    Network,
    /// A response arrived but its body could not be read as the spec describes.
    UnreadableBody,
    /// The pages of [`Client::calls`](crate::Client::calls) do not add up (a count mismatch,
    /// a short page, repeated calls, a changing total, too many pages): the calls received
    /// may not be every call that matches. See [`PagingWarning`](crate::PagingWarning).
    Paging,
}

/// Why a request failed. Its `Debug` and `Display` never show a token or an app secret.
///
/// Every way a request fails comes back as one of these variants, whether through the
/// client's own methods ([`Client::details_page`](crate::Client::details_page),
/// [`Client::calls`](crate::Client::calls)) or converted with `?`/`From` from the generated
/// builders' [`Error`]. [`ApiError::kind`] classifies it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The request was refused before it was sent (a missing or invalid field).
    #[error("invalid request: {0}")]
    InvalidRequest(String),

    /// No access token could be obtained from `tokenByAkSk`.
    #[error("no access token from tokenByAkSk: {message}")]
    Token {
        /// What happened, without the app secret.
        message: String,
        /// The failure of the token request, when known.
        #[source]
        source: Option<Box<ApiError>>,
    },

    /// The server could not be reached, or did not answer in time (after the retries).
    #[error("{}: {source}", if *.timeout { "timed out" } else { "network error" })]
    Network {
        /// Whether it was a timeout (connect or whole request).
        timeout: bool,
        /// The transport error (it carries no header, so no token).
        #[source]
        source: reqwest::Error,
    },

    /// The server answered with an error status (after the retries, where they apply).
    #[error("HTTP {status}{}{}{}",
        guidance.map(|g| format!(": {g}")).unwrap_or_default(),
        retry_after.map(|w| format!(" (the server asked to wait {}; not waiting)", human_wait(w)))
            .unwrap_or_default(),
        body_start.as_ref().map(|b| format!("; the server said: \"{b}\"")).unwrap_or_default())]
    Status {
        /// The HTTP status.
        status: StatusCode,
        /// The vendor's guidance for 400, 401, 404 and 500 (see [`vendor_guidance`]).
        guidance: Option<&'static str>,
        /// The start of the body, when it had one (the server's reason for a 400, an HTML
        /// error page from a gateway): credentials removed, control characters escaped, at
        /// most 200 characters. Never the token interface's.
        body_start: Option<String>,
        /// The wait the last answer's `Retry-After` asked for, if it had one: the retries had
        /// ended (or the wait was past the retry time), so the client did not wait.
        retry_after: Option<Duration>,
    },

    /// A response arrived, but its body is not what the spec describes.
    #[error("unreadable response body (HTTP {status}): {reason}{}",
        body_start.as_ref().map(|b| format!("; it starts with \"{b}\"")).unwrap_or_default())]
    UnreadableBody {
        /// The HTTP status.
        status: StatusCode,
        /// Why it could not be read (credentials removed, control characters escaped).
        reason: String,
        /// The start of the body (credentials removed, control characters escaped). `None`
        /// for the token interface, whose body carries the token.
        body_start: Option<String>,
    },

    /// The response body was larger than
    /// [`ClientBuilder::max_body_size`](crate::ClientBuilder::max_body_size) allows: it was not
    /// read further. Its kind is [`ErrorKind::UnreadableBody`].
    #[error("response too large (HTTP {status}): the body is larger than the limit of {}", crate::body_limit::size(*.limit))]
    BodyTooLarge {
        /// The HTTP status.
        status: StatusCode,
        /// The limit, in bytes.
        limit: u64,
    },

    /// The pages of [`Client::calls`](crate::Client::calls) do not add up, so the calls
    /// received may not be every call that matches (see
    /// [`CallStream::allow_partial`](crate::CallStream::allow_partial) to accept them anyway).
    #[error("the pages do not add up: {0}")]
    Paging(crate::PagingWarning),
}

impl ApiError {
    /// The class of the error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ApiError::InvalidRequest(_) => ErrorKind::InvalidRequest,
            // The token interface failing for its own reasons (unreachable, 5xx) is not a
            // problem with the credentials.
            ApiError::Token { source, .. } => match source.as_deref().map(ApiError::kind) {
                Some(ErrorKind::Network) => ErrorKind::Network,
                Some(ErrorKind::Server | ErrorKind::Business) => ErrorKind::Server,
                // A 200 whose body holds no usable token is the interface's failure too.
                Some(ErrorKind::UnreadableBody) => ErrorKind::UnreadableBody,
                _ => ErrorKind::Auth,
            },
            ApiError::Network { .. } => ErrorKind::Network,
            ApiError::Status { status, .. } => match status.as_u16() {
                400 => ErrorKind::BadRequest,
                401 => ErrorKind::Auth,
                404 => ErrorKind::NotFound,
                500 => ErrorKind::Business,
                _ => ErrorKind::Server,
            },
            ApiError::UnreadableBody { .. } | ApiError::BodyTooLarge { .. } => {
                ErrorKind::UnreadableBody
            }
            ApiError::Paging(_) => ErrorKind::Paging,
        }
    }

    /// The HTTP status of the response, if one arrived (for [`ApiError::Token`], the token
    /// interface's).
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ApiError::Status { status, .. }
            | ApiError::UnreadableBody { status, .. }
            | ApiError::BodyTooLarge { status, .. } => Some(*status),
            ApiError::Token { source, .. } => source.as_deref().and_then(ApiError::status),
            ApiError::Network { source, .. } => source.status(),
            ApiError::InvalidRequest(_) | ApiError::Paging(_) => None,
        }
    }

    fn status_error(
        status: StatusCode,
        headers: Option<&reqwest::header::HeaderMap>,
        body_start: Option<String>,
    ) -> Self {
        ApiError::Status {
            status,
            guidance: vendor_guidance(status.as_u16()),
            body_start,
            retry_after: headers
                .and_then(|h| crate::retry::retry_after(h, SystemTime::now()))
                .filter(|_| crate::retry::is_retryable_status(status)),
        }
    }

    // The URLs of this API carry no credential (the token travels in a header, the app secret
    // in a body), so a transport error keeps its URL: it says which endpoint failed.
    fn network(source: reqwest::Error) -> Self {
        ApiError::Network {
            timeout: source.is_timeout(),
            source,
        }
    }

    /// The token interface answered 200 without a usable token.
    pub(crate) fn token_unreadable(reason: &str) -> Self {
        let source = ApiError::UnreadableBody {
            status: StatusCode::OK,
            reason: reason.to_owned(),
            body_start: None,
        };
        ApiError::Token {
            message: source.to_string(),
            source: Some(Box::new(source)),
        }
    }

    /// Converts an error of the generated code, reading the start of the body of an
    /// undocumented status (which [`From`] cannot do), with `secrets` (and any `Bearer`
    /// value) removed from every piece of server text it keeps.
    pub(crate) async fn read(error: Error, secrets: &[Secret]) -> Self {
        match error {
            Error::UnexpectedResponse(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                let body_start = response
                    .bytes()
                    .await
                    .ok()
                    .filter(|b| !b.is_empty())
                    .map(|b| body_start(&b, secrets));
                Self::status_error(status, Some(&headers), body_start)
            }
            other => Self::convert(other, secrets),
        }
    }

    /// Converts an error of the token interface: its bodies are never kept (they carry the
    /// token); what is kept has `secrets` removed.
    pub(crate) fn from_token_error(error: Error, secrets: &[Secret]) -> Self {
        let source = match error {
            Error::InvalidResponsePayload(_, e) => ApiError::UnreadableBody {
                status: StatusCode::OK,
                reason: server_text(&e.to_string(), secrets),
                body_start: None,
            },
            Error::UnexpectedResponse(response) => {
                Self::status_error(response.status(), Some(response.headers()), None)
            }
            other => Self::convert(other, secrets),
        };
        let source = match source {
            // The vendor's guidance is about the query interface, not this one.
            ApiError::Status {
                status,
                retry_after,
                ..
            } => ApiError::Status {
                status,
                guidance: None,
                body_start: None,
                retry_after,
            },
            ApiError::UnreadableBody { status, reason, .. } => ApiError::UnreadableBody {
                status,
                reason,
                body_start: None,
            },
            other => other,
        };
        ApiError::Token {
            message: source.to_string(),
            source: Some(Box::new(source)),
        }
    }

    /// Converts the generated code's error, removing `secrets` from the server text it keeps.
    fn convert(error: Error, secrets: &[Secret]) -> Self {
        match error {
            Error::InvalidRequest(message) => ApiError::InvalidRequest(message),
            Error::Custom(message) => unstash_token_error(&message).unwrap_or(ApiError::Token {
                message,
                source: None,
            }),
            Error::CommunicationError(e) | Error::InvalidUpgrade(e) => Self::network(e),
            Error::ResponseBodyError(e) => {
                if let Some(cap) = crate::body_limit::too_large(&e) {
                    ApiError::BodyTooLarge {
                        status: e.status().unwrap_or(StatusCode::OK),
                        limit: cap.limit,
                    }
                } else if e.is_timeout() || e.is_body() || e.is_request() {
                    Self::network(e)
                } else {
                    ApiError::UnreadableBody {
                        status: e.status().unwrap_or(StatusCode::OK),
                        reason: server_text(&e.to_string(), secrets),
                        body_start: None,
                    }
                }
            }
            Error::ErrorResponse(response) => Self::status_error(
                response.status(),
                Some(response.headers()),
                carried_body_start(response.headers(), secrets),
            ),
            Error::InvalidResponsePayload(bytes, e) => ApiError::UnreadableBody {
                status: StatusCode::OK,
                reason: server_text(&e.to_string(), secrets),
                body_start: Some(body_start(&bytes, secrets)),
            },
            Error::UnexpectedResponse(response) => {
                Self::status_error(response.status(), Some(response.headers()), None)
            }
        }
    }
}

/// Converts the generated code's error. The start of the body of an undocumented status is
/// not read (it needs `await`); the client's own methods do read it. Without the client's
/// credentials at hand, server text kept here has only its `Bearer` values removed; the
/// client's own methods remove its token and app secret too.
impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        Self::convert(error, &[])
    }
}

/// Token failures raised in the hooks of the generated builders travel as
/// [`Error::Custom`]`(String)`: the typed error waits here, under a number the message ends
/// with, until [`From`] takes it back. At most [`STASHED`] wait (the oldest go first).
static TOKEN_ERRORS: Mutex<VecDeque<(u64, ApiError)>> = Mutex::new(VecDeque::new());
static NEXT_TOKEN_ERROR: AtomicU64 = AtomicU64::new(1);
const STASHED: usize = 32;
const STASH_TAG: &str = " [token error #";

/// Keeps `error` for [`unstash_token_error`]; the message that refers to it.
pub(crate) fn stash_token_error(error: ApiError) -> String {
    let id = NEXT_TOKEN_ERROR.fetch_add(1, Ordering::Relaxed);
    let message = format!("{error}{STASH_TAG}{id}]");
    let mut stash = TOKEN_ERRORS.lock().unwrap_or_else(|e| e.into_inner());
    if stash.len() >= STASHED {
        stash.pop_front();
    }
    stash.push_back((id, error));
    message
}

/// The error a message of [`stash_token_error`] refers to, if it is still kept.
fn unstash_token_error(message: &str) -> Option<ApiError> {
    let id: u64 = message
        .rsplit_once(STASH_TAG)?
        .1
        .strip_suffix(']')?
        .parse()
        .ok()?;
    let mut stash = TOKEN_ERRORS.lock().unwrap_or_else(|e| e.into_inner());
    let at = stash.iter().position(|(i, _)| *i == id)?;
    stash.remove(at).map(|(_, error)| error)
}

/// Server text as an error may keep it: credentials removed, control characters visible.
fn server_text(text: &str, secrets: &[Secret]) -> String {
    let secrets: Vec<&str> = secrets.iter().map(Secret::expose).collect();
    visible(&redact(text, &secrets)).into_owned()
}

/// A wait for people: `45 s`, `3 min`, `27 h`, `400 days`.
pub(crate) fn human_wait(wait: Duration) -> String {
    let s = wait.as_secs();
    match s {
        0..120 => format!("{s} s"),
        120..7_200 => format!("{} min", s / 60),
        7_200..172_800 => format!("{} h", s / 3_600),
        _ => format!("{} days", s / 86_400),
    }
}

/// The start of the body the transport passed on in [`BODY_START_HEADER`], with `secrets`
/// removed (again: the transport removed the ones it had).
fn carried_body_start(headers: &reqwest::header::HeaderMap, secrets: &[Secret]) -> Option<String> {
    let value = headers.get(BODY_START_HEADER)?;
    let text = String::from_utf8_lossy(value.as_bytes());
    let secrets: Vec<&str> = secrets.iter().map(Secret::expose).collect();
    Some(visible(&redact(&text, &secrets)).into_owned()).filter(|t| !t.is_empty())
}

/// The first characters of a body, as text: credentials removed (in the whole body first, so
/// that a cut cannot leave part of one), control characters visible.
pub(crate) fn body_start(bytes: &[u8], secrets: &[Secret]) -> String {
    // Enough past the start that no credential that reaches it can be cut by the window.
    let window = bytes.len().min(BODY_START_CHARS * 4 + 64 * 1024);
    let text = String::from_utf8_lossy(&bytes[..window]);
    let secrets: Vec<&str> = secrets.iter().map(Secret::expose).collect();
    let text = redact(&text, &secrets);
    let mut start: String = text.chars().take(BODY_START_CHARS).collect();
    if text.chars().nth(BODY_START_CHARS).is_some() || window < bytes.len() {
        start.push('…');
    }
    visible(&start).into_owned()
}
