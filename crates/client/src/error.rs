//! [`ApiError`]: what went wrong with a request, in one type.

use reqwest::StatusCode;

use crate::Error;

/// How many characters of an unreadable body an [`ApiError`] keeps.
const BODY_START_CHARS: usize = 200;

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
    #[error("HTTP {status}{}{}",
        guidance.map(|g| format!(": {g}")).unwrap_or_default(),
        body_start.as_ref().map(|b| format!(" (body starts with {b:?})")).unwrap_or_default())]
    Status {
        /// The HTTP status.
        status: StatusCode,
        /// The vendor's guidance for 400, 401, 404 and 500 (see [`vendor_guidance`]).
        guidance: Option<&'static str>,
        /// The start of the body, for undocumented statuses whose body was readable (an HTML
        /// error page from a gateway, say).
        body_start: Option<String>,
    },

    /// A response arrived, but its body is not what the spec describes.
    #[error("unreadable response body (HTTP {status}): {reason}{}",
        body_start.as_ref().map(|b| format!("; it starts with {b:?}")).unwrap_or_default())]
    UnreadableBody {
        /// The HTTP status.
        status: StatusCode,
        /// Why it could not be read.
        reason: String,
        /// The start of the body. `None` for the token interface, whose body carries the token.
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

    fn status_error(status: StatusCode, body_start: Option<String>) -> Self {
        ApiError::Status {
            status,
            guidance: vendor_guidance(status.as_u16()),
            body_start,
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

    /// Converts an error of the generated code, reading the start of the body of an
    /// undocumented status (which [`From`] cannot do).
    pub(crate) async fn read(error: Error) -> Self {
        match error {
            Error::UnexpectedResponse(response) => {
                let status = response.status();
                let body_start = response
                    .bytes()
                    .await
                    .ok()
                    .filter(|b| !b.is_empty())
                    .map(|b| body_start(&b));
                Self::status_error(status, body_start)
            }
            other => other.into(),
        }
    }

    /// Converts an error of the token interface: its bodies are never kept (they carry the
    /// token).
    pub(crate) fn from_token_error(error: Error) -> Self {
        let source = match error {
            Error::InvalidResponsePayload(_, e) => ApiError::UnreadableBody {
                status: StatusCode::OK,
                reason: e.to_string(),
                body_start: None,
            },
            Error::UnexpectedResponse(response) => Self::status_error(response.status(), None),
            other => other.into(),
        };
        let source = match source {
            // The vendor's guidance is about the query interface, not this one.
            ApiError::Status { status, .. } => ApiError::Status {
                status,
                guidance: None,
                body_start: None,
            },
            other => other,
        };
        ApiError::Token {
            message: source.to_string(),
            source: Some(Box::new(source)),
        }
    }
}

/// Converts the generated code's error. The start of the body of an undocumented status is
/// not read (it needs `await`); the client's own methods do read it.
impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        match error {
            Error::InvalidRequest(message) => ApiError::InvalidRequest(message),
            Error::Custom(message) => ApiError::Token {
                message,
                source: None,
            },
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
                        reason: e.to_string(),
                        body_start: None,
                    }
                }
            }
            Error::ErrorResponse(response) => Self::status_error(response.status(), None),
            Error::InvalidResponsePayload(bytes, e) => ApiError::UnreadableBody {
                status: StatusCode::OK,
                reason: e.to_string(),
                body_start: Some(body_start(&bytes)),
            },
            Error::UnexpectedResponse(response) => Self::status_error(response.status(), None),
        }
    }
}

/// The first characters of a body, as text.
fn body_start(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(BODY_START_CHARS * 4)]);
    let mut start: String = text.chars().take(BODY_START_CHARS).collect();
    if text.chars().nth(BODY_START_CHARS).is_some() || bytes.len() > BODY_START_CHARS * 4 {
        start.push('…');
    }
    start
}
