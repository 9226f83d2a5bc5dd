//! Exit codes, one per class of failure.
//!
//! | code | class |
//! |---|---|
//! | 0 | success (also when the reader of stdout went away, as in `ccsqm … \| head`) |
//! | 1 | anything else (e.g. the output file could not be written) |
//! | 2 | usage: bad flags or configuration, found before any request |
//! | 3 | authentication: 401 (or 403) from the API, or no token could be obtained |
//! | 4 | not found: 404 |
//! | 5 | server or business failure: 400, 500, other statuses, unreadable responses |
//! | 6 | network: no connection, timeouts, interrupted transfers |

use ccsqm_client::Error;

pub const OTHER: u8 = 1;
pub const USAGE: u8 = 2;
pub const AUTH: u8 = 3;
pub const NOT_FOUND: u8 = 4;
pub const SERVER: u8 = 5;
pub const NETWORK: u8 = 6;

/// A failed API call, with its class.
#[derive(Debug)]
pub struct ApiError {
    pub code: u8,
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

/// The vendor's guidance for its documented statuses.
fn guidance(status: u16) -> &'static str {
    match status {
        400 => "incorrect request: check the request path and parameters",
        401 => "unauthorized: check that the service was purchased and the account's status",
        404 => "not found: check the request path",
        500 => "business failure: check the values of the parameters in the request",
        _ => "an undocumented status",
    }
}

fn by_status(status: u16) -> u8 {
    match status {
        401 | 403 => AUTH,
        404 => NOT_FOUND,
        _ => SERVER,
    }
}

/// Classifies an error of the client.
pub fn api_error<E: std::fmt::Debug>(error: Error<E>) -> anyhow::Error {
    let (code, message) = match &error {
        Error::ErrorResponse(response) => {
            let status = response.status().as_u16();
            (
                by_status(status),
                format!("HTTP {status}: {}", guidance(status)),
            )
        }
        Error::UnexpectedResponse(response) => {
            let status = response.status().as_u16();
            (
                by_status(status),
                format!("HTTP {status}: {}", guidance(status)),
            )
        }
        Error::CommunicationError(e) | Error::ResponseBodyError(e) => {
            (NETWORK, format!("network error: {}", with_sources(e)))
        }
        Error::InvalidResponsePayload(body, e) => (
            SERVER,
            format!(
                "unreadable response ({e}); it starts with {:?}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            ),
        ),
        other => (SERVER, other.to_string()),
    };
    ApiError { code, message }.into()
}

/// An error and its causes, as `a: b: c` (reqwest's own message leaves the causes out).
fn with_sources(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The exit code of an error.
pub fn code(error: &anyhow::Error) -> u8 {
    if let Some(api) = error.downcast_ref::<ApiError>() {
        return api.code;
    }
    if error.downcast_ref::<crate::UsageError>().is_some() {
        return USAGE;
    }
    OTHER
}

/// Whether the error is stdout's reader going away.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
