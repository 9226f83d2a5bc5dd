//! The hand-written part of [`Client`]: how it is built, and what it adds to every request.

use std::num::NonZeroU64;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION};

use crate::auth::{bearer_header, Auth, TokenSource, DEFAULT_TOKEN_LIFETIME, MAX_TOKEN_LIFETIME};
use crate::retry::{is_retryable_error, is_retryable_status, retry_after};
use crate::types::{AppraisecallDetailsRequest, AppraisecallDetailsResponse};
use crate::{builder, ApiError, Client, Error, RetryPolicy, Secret};

/// Default time allowed to establish a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time allowed for a whole request, from sending it to reading the whole response.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The operation that issues tokens: it is the one operation sent without `Authorization`.
const TOKEN_OPERATION: &str = "token_by_ak_sk";

/// What a [`Client`] adds to every request: the identity of the caller, where its token
/// comes from, and how failures are retried. Cheap to clone (clones share the token cache).
/// Its `Debug` never shows a token or an app secret.
#[derive(Clone)]
pub struct Session {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    auth: Auth,
    user_id: String,
    app_key: Option<String>,
    token_base_url: Option<String>,
    retry: RetryPolicy,
    max_body_size: u64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.shared.fmt(f)
    }
}

impl Session {
    /// The operator ID sent as `x-UserId`.
    pub fn user_id(&self) -> &str {
        &self.shared.user_id
    }

    /// The app key sent as `x-app-key`, if any: the one set with
    /// [`ClientBuilder::app_key`], or else the `app_key` of [`ClientBuilder::ak_sk`].
    pub fn app_key(&self) -> Option<&str> {
        self.shared.app_key.as_deref()
    }

    /// How failed requests are retried.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.shared.retry
    }

    /// The base URL of `tokenByAkSk`, when it differs from the API's.
    pub fn token_base_url(&self) -> Option<&str> {
        self.shared.token_base_url.as_deref()
    }
}

/// Why a [`Client`] could not be built. Its `Debug` and `Display` never show a credential.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The base URL (or the token base URL) is not an absolute `http` or `https` URL.
    #[error("invalid base URL {url:?}: {reason}")]
    BaseUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A plain `http://` URL to a host other than a loopback address, without
    /// [`ClientBuilder::allow_insecure_http`]: the token would travel in clear.
    #[error(
        "refusing plain http to {url:?}: tokens would travel unencrypted; use https, or allow \
         insecure http explicitly"
    )]
    InsecureHttp {
        /// The URL as given.
        url: String,
    },
    /// `user_id` was not set: every query needs the `x-UserId` header.
    #[error("no user ID: set the operator ID sent as x-UserId")]
    MissingUserId,
    /// Both a Bearer token and an app key and app secret were set: choose one.
    #[error("both a bearer token and an app key/app secret were given: choose one")]
    TwoCredentials,
    /// The token lifetime is not between 1 and 3600 seconds.
    #[error("the token lifetime must be 1 to 3600 seconds, not {seconds}")]
    TokenLifetime {
        /// The lifetime asked for, in seconds.
        seconds: u64,
    },
    /// A value cannot be sent as an HTTP header (it holds control characters or non-ASCII).
    #[error("{name} cannot be sent as an HTTP header value (only visible ASCII is allowed)")]
    InvalidHeader {
        /// What the value is.
        name: &'static str,
    },
    /// The HTTP client could not be built (for example, no TLS backend).
    #[error("building the HTTP client: {0}")]
    Http(#[source] reqwest::Error),
}

/// Builds a [`Client`]: base URLs, credentials, timeouts and retries.
///
/// ```
/// # fn main() -> Result<(), ccsqm_client::BuildError> {
/// use std::time::Duration;
///
/// let client = ccsqm_client::Client::builder("https://service.besclouds.com")
///     .ak_sk("my-app-key", "my-app-secret")           // tokens from tokenByAkSk, renewed
///     .token_base_url("https://service.besclouds.com:28070")
///     .token_lifetime(Duration::from_secs(3600))
///     .user_id("1611917095665261978")
///     .timeout(Duration::from_secs(20))
///     .build()?;
/// assert!(!format!("{client:?}").contains("my-app-secret"));
/// assert_eq!(client.session().app_key(), Some("my-app-key"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    base_url: String,
    token_base_url: Option<String>,
    bearer: Option<Secret>,
    ak_sk: Option<(String, Secret)>,
    token_lifetime: Duration,
    user_id: Option<String>,
    app_key: Option<String>,
    connect_timeout: Duration,
    timeout: Duration,
    retry: RetryPolicy,
    allow_insecure_http: bool,
    max_body_size: u64,
}

impl ClientBuilder {
    fn new(base_url: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            token_base_url: None,
            bearer: None,
            ak_sk: None,
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            user_id: None,
            app_key: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
            allow_insecure_http: false,
            max_body_size: crate::DEFAULT_MAX_BODY_SIZE,
        }
    }

    /// A fixed `AccessToken`, sent as `Authorization: Bearer {token}` on every query. It is
    /// never renewed: when it expires, queries fail with 401. See [`ClientBuilder::ak_sk`].
    pub fn bearer_token(mut self, token: impl Into<Secret>) -> Self {
        self.bearer = Some(token.into());
        self
    }

    /// An app key and app secret: the client obtains its token from `tokenByAkSk`, keeps it,
    /// and requests a new one shortly before it expires (as the response's `Expires` says).
    /// Concurrent queries share one token request. A query answered 401 gets one new token and
    /// is sent once more. The `app_key` is also sent as `x-app-key`, unless
    /// [`ClientBuilder::app_key`] sets another.
    pub fn ak_sk(mut self, app_key: impl Into<String>, app_secret: impl Into<Secret>) -> Self {
        self.ak_sk = Some((app_key.into(), app_secret.into()));
        self
    }

    /// The base URL of `tokenByAkSk` (its path, `/apigovernance/...`, is appended), for
    /// deployments that serve it on another port or host. Default: the API's base URL.
    pub fn token_base_url(mut self, url: &str) -> Self {
        self.token_base_url = Some(url.trim_end_matches('/').to_owned());
        self
    }

    /// The token lifetime requested with `X-Token-Expire`: 1 s to 3600 s, whole seconds
    /// (default [`DEFAULT_TOKEN_LIFETIME`]). The server's `Expires` decides.
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// The operator ID sent as `x-UserId` on every query (mandatory).
    pub fn user_id(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }

    /// The app key sent as `x-app-key` on every query (optional).
    pub fn app_key(mut self, app_key: impl Into<String>) -> Self {
        self.app_key = Some(app_key.into());
        self
    }

    /// Time allowed to establish a connection (default [`DEFAULT_CONNECT_TIMEOUT`]).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time allowed for each attempt of a request, from sending it to reading the whole
    /// response (default [`DEFAULT_TIMEOUT`]). A timed-out attempt is retried.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How failed requests are retried (default [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The largest response body read, in bytes (default [`DEFAULT_MAX_BODY_SIZE`], 64 MiB;
    /// `0` counts as 1). A larger one is not read further: the request fails with
    /// [`ApiError::BodyTooLarge`], without retries.
    ///
    /// [`DEFAULT_MAX_BODY_SIZE`]: crate::DEFAULT_MAX_BODY_SIZE
    pub fn max_body_size(mut self, bytes: u64) -> Self {
        self.max_body_size = bytes.max(1);
        self
    }

    /// Allows plain `http://` to hosts other than loopback addresses (default: refused, since
    /// tokens and app secrets would travel in clear). Loopback addresses (`127.0.0.0/8`,
    /// `[::1]`, `localhost`) are always allowed, for local servers and tests.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Checks the settings and builds the client (HTTPS through rustls; redirects are not
    /// followed, so that no credential is sent elsewhere).
    pub fn build(self) -> Result<Client, BuildError> {
        check_base_url(&self.base_url, self.allow_insecure_http)?;
        if let Some(url) = &self.token_base_url {
            check_base_url(url, self.allow_insecure_http)?;
        }
        let user_id = self.user_id.ok_or(BuildError::MissingUserId)?;
        header_value(&user_id, "the user ID (x-UserId)")?;
        let auth = match (self.bearer, self.ak_sk) {
            (Some(_), Some(_)) => return Err(BuildError::TwoCredentials),
            (Some(token), None) => {
                Auth::Bearer(bearer_header(&token).ok_or(BuildError::InvalidHeader {
                    name: "the bearer token",
                })?)
            }
            (None, Some((app_key, app_secret))) => {
                let seconds = self.token_lifetime.as_secs();
                let lifetime = NonZeroU64::new(seconds)
                    .filter(|_| self.token_lifetime <= MAX_TOKEN_LIFETIME)
                    .ok_or(BuildError::TokenLifetime { seconds })?;
                Auth::AkSk(TokenSource::new(app_key, app_secret, lifetime))
            }
            (None, None) => Auth::None,
        };
        let app_key = match (&self.app_key, &auth) {
            (Some(app_key), _) => Some(app_key.clone()),
            (None, Auth::AkSk(source)) => Some(source.app_key.clone()),
            (None, _) => None,
        };
        if let Some(app_key) = &app_key {
            header_value(app_key, "the app key (x-app-key)")?;
        }
        let http = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("ccsqm-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(BuildError::Http)?;
        let session = Session {
            shared: Arc::new(Shared {
                auth,
                user_id,
                app_key,
                token_base_url: self.token_base_url,
                retry: self.retry,
                max_body_size: self.max_body_size,
            }),
        };
        Ok(Client::new_with_client(&self.base_url, http, session))
    }
}

fn check_base_url(url: &str, allow_insecure_http: bool) -> Result<(), BuildError> {
    let bad = |reason: &str| BuildError::BaseUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    let Some(host) = parsed.host_str() else {
        return Err(bad("no host"));
    };
    match parsed.scheme() {
        "https" => {}
        "http" if allow_insecure_http || is_loopback(host) => {}
        "http" => {
            return Err(BuildError::InsecureHttp {
                url: url.to_owned(),
            })
        }
        other => {
            return Err(bad(&format!(
                "the scheme must be https or http, not {other}"
            )))
        }
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("a base URL has no query or fragment"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("a base URL carries no user name or password"));
    }
    Ok(())
}

/// `localhost`, `127.0.0.0/8` or `[::1]`.
fn is_loopback(host: &str) -> bool {
    let ip = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || ip
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn header_value(value: &str, name: &'static str) -> Result<HeaderValue, BuildError> {
    HeaderValue::from_str(value).map_err(|_| BuildError::InvalidHeader { name })
}

impl Client {
    /// Starts building a client for the deployment at `base_url`, e.g.
    /// `https://service.besclouds.com` (the paths carry their `/apiaccess` or `/apigovernance`
    /// prefix).
    pub fn builder(base_url: &str) -> ClientBuilder {
        ClientBuilder::new(base_url)
    }

    /// A query of `appraisecall/details` with `x-UserId` and `x-app-key` already set from the
    /// client's [`Session`]: give it a body and `send()` it.
    ///
    /// [`Client::appraisecall_details`] is the same builder with nothing set.
    pub fn details(&self) -> builder::AppraisecallDetails<'_> {
        let builder = self.appraisecall_details().x_user_id(self.inner.user_id());
        match self.inner.app_key() {
            Some(app_key) => builder.x_app_key(app_key),
            None => builder,
        }
    }

    /// One page of `appraisecall/details`: the page `request.page` of `request.limit` calls.
    /// With an app key and app secret, the token is obtained first (a failure is
    /// [`ApiError::Token`]). See [`Client::calls`] for every page.
    pub async fn details_page(
        &self,
        request: AppraisecallDetailsRequest,
    ) -> Result<AppraisecallDetailsResponse, ApiError> {
        if let Auth::AkSk(source) = &self.inner.shared.auth {
            source.header(self).await?;
        }
        match self.details().body(request).send().await {
            Ok(page) => Ok(page.into_inner()),
            Err(error) => Err(ApiError::read(error).await),
        }
    }

    /// The access token the client sends: the fixed one, or the current token obtained from
    /// `tokenByAkSk` (requested now if there is none or it is about to expire); `None` when the
    /// client has no credential.
    pub async fn access_token(&self) -> Result<Option<Secret>, ApiError> {
        match &self.inner.shared.auth {
            Auth::None => Ok(None),
            Auth::Bearer(header) => Ok(header
                .to_str()
                .ok()
                .and_then(|h| h.strip_prefix("Bearer "))
                .map(Secret::from)),
            Auth::AkSk(source) => source.secret(self).await.map(Some),
        }
    }

    /// The identity this client sends with every request.
    pub fn session(&self) -> &Session {
        &self.inner
    }
}

/// Runs on every request the generated code builds.
///
/// `pre` removes the `api-version` header that progenitor adds (the API does not declare it),
/// adds `Authorization: Bearer {token}` to every operation but `tokenByAkSk`, and sends
/// `tokenByAkSk` to the token base URL. `exec` sends the request, retrying it as the
/// [`RetryPolicy`] says, and once with a new token after a 401 to a token from `tokenByAkSk`.
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
        let value = match &self.inner.shared.auth {
            Auth::None => return Ok(()),
            Auth::Bearer(value) => value.clone(),
            Auth::AkSk(source) => source
                .header(self)
                .await
                .map_err(|e| Error::Custom(e.to_string()))?,
        };
        request.headers_mut().insert(AUTHORIZATION, value);
        Ok(())
    }

    async fn exec(
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
            let result =
                send_buffered(self.client(), attempt, self.inner.shared.max_body_size).await;
            let latency_ms = sent.elapsed().as_millis() as u64;
            let (method, path) = (request.method().as_str(), request.url().path());
            match &result {
                Ok(response) => tracing::debug!(
                    method,
                    path,
                    status = response.status().as_u16(),
                    latency_ms,
                    retry,
                    "ccsqm request"
                ),
                Err(error) => tracing::debug!(
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
                    tracing::warn!(method, path, "401: requesting a new token, then once more");
                    let used = request.headers().get(AUTHORIZATION);
                    match source.replace(self, used).await {
                        Ok(value) => {
                            request.headers_mut().insert(AUTHORIZATION, value);
                            continue;
                        }
                        Err(error) => {
                            tracing::warn!(error = %error, "no new token after a 401");
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
            if retry >= policy.max_retries || started.elapsed() + wait > policy.max_elapsed {
                return result;
            }
            retry += 1;
            tracing::warn!(
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
/// attempt (retried), not a failure after the retries are over. A body over `max_body_size`
/// bytes is not read further: the response's body then fails with [`BodyTooLarge`] when read.
///
/// [`BodyTooLarge`]: crate::body_limit::BodyTooLarge
async fn send_buffered(
    client: &reqwest::Client,
    request: reqwest::Request,
    max_body_size: u64,
) -> reqwest::Result<reqwest::Response> {
    use crate::body_limit::{BodyTooLarge, TooLargeBody};
    let mut response = client.execute(request).await?;
    let status = response.status();
    let version = response.version();
    let mut headers = response.headers().clone();
    let limit = usize::try_from(max_body_size).unwrap_or(usize::MAX);
    let mut body = Vec::new();
    let mut too_large = response.content_length().is_some_and(|n| n > max_body_size);
    while !too_large {
        let Some(chunk) = response.chunk().await? else {
            break;
        };
        too_large = chunk.len() > limit - body.len();
        if !too_large {
            body.extend_from_slice(&chunk);
        }
    }
    let body = if too_large {
        headers.remove(reqwest::header::CONTENT_LENGTH);
        reqwest::Body::wrap(TooLargeBody(BodyTooLarge {
            limit: max_body_size,
        }))
    } else {
        reqwest::Body::from(body)
    };
    let mut buffered = http::Response::new(body);
    *buffered.status_mut() = status;
    *buffered.version_mut() = version;
    *buffered.headers_mut() = headers;
    Ok(buffered.into())
}
