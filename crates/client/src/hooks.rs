//! What the generated code runs around every request: the `Authorization` header, the token
//! base URL, and the retry loop.

use std::time::{Instant, SystemTime};

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{HeaderName, AUTHORIZATION};

use crate::auth::Auth;
use crate::error::{human_wait, stash_token_error};
use crate::retry::{is_retryable_error, is_retryable_status, retry_after};
use crate::server_text::redact_bytes;
use crate::session::Session;
use crate::{redact, Client, Error, Secret};

/// The `tracing` target of the events of every request (see the crate's README, "Logs"):
/// each attempt at `debug`, a failed attempt and a retry at `info`, giving up at `warn`.
pub const REQUEST_TARGET: &str = "ccsqm_client::request";

/// The shortest credential replaced in the body of a successful answer.
const MIN_SECRET_IN_DATA: usize = 8;

/// The operation that issues tokens: it is the one operation sent without `Authorization`.
const TOKEN_OPERATION: &str = crate::spec::Operation::TokenByAkSk.info().id;

/// The operation whose pages [`Client::calls`] reads: its bodies are scanned for drift.
const DETAILS_OPERATION: &str = crate::spec::Operation::AppraisecallDetails.info().id;

/// Whether the spec sends the operation with `Authorization: Bearer {token}` (its `security`);
/// an operation the spec does not know is.
fn authenticated(operation_id: &str) -> bool {
    crate::spec::Operation::ALL
        .iter()
        .find(|op| op.info().id == operation_id)
        .is_none_or(|op| op.info().authenticated)
}

/// Runs on every request the generated code builds.
///
/// `pre` removes the `api-version` header that progenitor adds (the API does not declare it),
/// adds `Authorization: Bearer {token}` to every operation the spec secures, and sends
/// `tokenByAkSk` to the token base URL. `exec` sends the request, retrying it as the
/// [`RetryPolicy`](crate::RetryPolicy) says, and once with a new token after a 401 to a token from `tokenByAkSk`.
impl ClientHooks<Session> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        request
            .headers_mut()
            .remove(HeaderName::from_static("api-version"));
        if info.operation_id == TOKEN_OPERATION {
            if let Some(token_base_url) = &self.inner.shared.token_base_url {
                let url = request.url();
                let rest = url
                    .as_str()
                    .strip_prefix(self.baseurl())
                    .unwrap_or_else(|| url.path());
                *request.url_mut() = format!("{token_base_url}{rest}")
                    .parse()
                    .map_err(|e| Error::InvalidRequest(format!("token URL: {e}")))?;
            }
            return Ok(());
        }
        if !authenticated(info.operation_id) {
            return Ok(());
        }
        let value = match &self.inner.shared.auth {
            Auth::None => return Ok(()),
            Auth::Bearer(value) => value.clone(),
            // The typed error is kept for `ApiError::from` (the hook can only return a string).
            Auth::AkSk(source) => source
                .header(self)
                .await
                .map_err(|e| Error::Custom(stash_token_error(e)))?,
        };
        request.headers_mut().insert(AUTHORIZATION, value);
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        use tracing::Instrument as _;
        let span = tracing::debug_span!(
            target: REQUEST_TARGET,
            "ccsqm_request",
            operation = info.operation_id
        );
        self.send_with_retries(request, info).instrument(span).await
    }
}

impl Client {
    /// `exec`: sends the request, again after a retryable failure, and once with a new token
    /// after a 401.
    async fn send_with_retries(
        &self,
        mut request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let policy = &self.inner.shared.retry;
        let token_source = match &self.inner.shared.auth {
            Auth::AkSk(source) if info.operation_id != TOKEN_OPERATION => Some(source),
            _ => None,
        };
        let started = Instant::now();
        let mut retry = 0u32;
        let mut replaced_token = false;
        loop {
            // The generated requests have byte bodies, which clone; anything else goes once.
            let Some(attempt) = request.try_clone() else {
                return self.client().execute(request).await;
            };
            let sent = Instant::now();
            let secrets = self.inner.shared.auth.secrets();
            let token_operation = info.operation_id == TOKEN_OPERATION;
            let result = send_buffered(
                self.client(),
                attempt,
                &secrets,
                token_operation,
                info.operation_id == DETAILS_OPERATION,
                self.inner.shared.max_body_size,
            )
            .await;
            let latency_ms = sent.elapsed().as_millis() as u64;
            let (method, path) = (request.method().as_str(), request.url().path());
            // Every attempt at debug (a library's requests are not news); one that failed
            // (an error status, or no answer) at info.
            match &result {
                Ok(response)
                    if response.status().is_client_error()
                        || response.status().is_server_error() =>
                {
                    tracing::info!(
                        target: REQUEST_TARGET,
                        method,
                        path,
                        status = response.status().as_u16(),
                        latency_ms,
                        retry,
                        "ccsqm request"
                    )
                }
                Ok(response) => tracing::debug!(
                    target: REQUEST_TARGET,
                    method,
                    path,
                    status = response.status().as_u16(),
                    latency_ms,
                    retry,
                    "ccsqm request"
                ),
                Err(error) => tracing::info!(
                    target: REQUEST_TARGET,
                    method,
                    path,
                    error = %error,
                    latency_ms,
                    retry,
                    "ccsqm request failed"
                ),
            }
            let wait = match &result {
                Ok(response) if response.status() == reqwest::StatusCode::UNAUTHORIZED => {
                    let Some(source) = token_source.filter(|_| !replaced_token) else {
                        return result;
                    };
                    replaced_token = true;
                    tracing::info!(
                        target: REQUEST_TARGET,
                        method,
                        path,
                        "401: requesting a new token, then once more"
                    );
                    let used = request.headers().get(AUTHORIZATION);
                    match source.replace(self, used).await {
                        Ok(value) => {
                            request.headers_mut().insert(AUTHORIZATION, value);
                            continue;
                        }
                        Err(error) => {
                            tracing::warn!(target: REQUEST_TARGET, error = %error, "no new token after a 401");
                            return result;
                        }
                    }
                }
                Ok(response) if is_retryable_status(response.status()) => {
                    let asked = retry_after(response.headers(), SystemTime::now());
                    crate::adaptive::report(response.status().as_u16(), asked);
                    asked.unwrap_or_else(|| policy.backoff(retry + 1))
                }
                Err(error) if is_retryable_error(error) => policy.backoff(retry + 1),
                _ => return result,
            };
            // Any wait may be asked for (`Retry-After: 18446744073709551615`): no sum may overflow.
            let past_budget = started
                .elapsed()
                .checked_add(wait)
                .is_none_or(|at| at > policy.max_elapsed);
            if retry >= policy.max_retries || past_budget {
                if past_budget && retry < policy.max_retries {
                    tracing::warn!(
                        target: REQUEST_TARGET,
                        method,
                        path,
                        "ccsqm request: the server asked to wait {}, past the retry time \
                         ({} s): not waiting",
                        human_wait(wait),
                        policy.max_elapsed.as_secs()
                    );
                } else if retry > 0 {
                    tracing::warn!(
                        target: REQUEST_TARGET,
                        method,
                        path,
                        retries = retry,
                        "ccsqm request: failed after its retries"
                    );
                }
                return result;
            }
            retry += 1;
            self.inner
                .shared
                .retries
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::info!(
                target: REQUEST_TARGET,
                method,
                path,
                status = result.as_ref().ok().map(|r| r.status().as_u16()),
                retry,
                wait_ms = wait.as_millis() as u64,
                "ccsqm request: retrying"
            );
            tokio::time::sleep(wait).await;
        }
    }
}

/// Sends a request and reads its whole body, so that a body cut short or too slow is a failed
/// attempt (retried), not a failure after the retries are over.
///
/// Server text is data that can reach an error or a log: `secrets` (the client's token(s) and
/// app secret) are replaced by `***` in every body but the token interface's answers (which
/// carry the new token), and any `Bearer` value too in the body of an error status. In a
/// successful answer, only credentials of [`MIN_SECRET_IN_DATA`] characters or more.
///
/// A body over `max_body_size` bytes is not read further: the response's body then fails with
/// [`BodyTooLarge`] when read.
///
/// [`BodyTooLarge`]: crate::body_limit::BodyTooLarge
async fn send_buffered(
    client: &reqwest::Client,
    request: reqwest::Request,
    secrets: &[Secret],
    token_operation: bool,
    details_page: bool,
    max_body_size: u64,
) -> reqwest::Result<reqwest::Response> {
    use crate::body_limit::{BodyTooLarge, TooLargeBody};
    let mut response = client.execute(request).await?;
    let status = response.status();
    let version = response.version();
    let mut headers = response.headers().clone();
    let limit = usize::try_from(max_body_size).unwrap_or(usize::MAX);
    let mut read = Vec::new();
    let mut too_large = response.content_length().is_some_and(|n| n > max_body_size);
    while !too_large {
        let Some(chunk) = response.chunk().await? else {
            break;
        };
        too_large = chunk.len() > limit - read.len();
        if !too_large {
            read.extend_from_slice(&chunk);
        }
    }
    if too_large {
        headers.remove(reqwest::header::CONTENT_LENGTH);
        let mut buffered = http::Response::new(reqwest::Body::wrap(TooLargeBody(BodyTooLarge {
            limit: max_body_size,
        })));
        *buffered.status_mut() = status;
        *buffered.version_mut() = version;
        *buffered.headers_mut() = headers;
        return Ok(buffered.into());
    }
    let mut body: Vec<u8> = read;
    let received = body.len();
    let secrets: Vec<&str> = secrets.iter().map(Secret::expose).collect();
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body);
        if let std::borrow::Cow::Owned(redacted) = redact(&text, &secrets) {
            body = redacted.into();
        }
    } else if !token_operation {
        // In data, a short "secret" would match ordinary text: only credentials long enough to
        // be one are replaced there (the errors made of a 2xx body remove every one).
        let long: Vec<&str> = secrets
            .iter()
            .copied()
            .filter(|s| s.len() >= MIN_SECRET_IN_DATA)
            .collect();
        if let Some(redacted) = redact_bytes(&body, &long) {
            body = redacted;
        }
    }
    if body.len() != received {
        headers.insert(reqwest::header::CONTENT_LENGTH, body.len().into());
    }
    // A page of a stream: what the spec does not name is scanned from the body that the
    // generated types are about to read (see `drift`).
    if status.is_success() && details_page {
        crate::drift::capture(&body);
    }
    // The generated code drops the body of a documented error status (400, 401, 404, 500):
    // its start travels on in a header of ours, for the error to show (never a token
    // interface's, which would carry the token).
    headers.remove(crate::error::BODY_START_HEADER);
    if !status.is_success() && !token_operation && !body.is_empty() {
        let start = crate::error::body_start(&body, &[]);
        if let Ok(value) = reqwest::header::HeaderValue::from_bytes(start.as_bytes()) {
            headers.insert(crate::error::BODY_START_HEADER, value);
        }
    }
    let mut buffered = http::Response::new(reqwest::Body::from(body));
    *buffered.status_mut() = status;
    *buffered.version_mut() = version;
    *buffered.headers_mut() = headers;
    Ok(buffered.into())
}
