//! [`ClientBuilder`]: how a [`Client`] is built, and [`BuildError`], why it could not be.

use std::num::NonZeroU64;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderValue;

use crate::auth::{bearer_header, Auth, TokenSource, DEFAULT_TOKEN_LIFETIME, MAX_TOKEN_LIFETIME};
use crate::session::{Session, Shared};
use crate::url_policy::check_base_url;
use crate::{Client, RetryPolicy, Secret};

/// Default time allowed to establish a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time allowed for a whole request, from sending it to reading the whole response.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The `User-Agent` the client sends unless given its own HTTP client: `ccsqm-client/{version}`.
pub const USER_AGENT: &str = concat!("ccsqm-client/", env!("CARGO_PKG_VERSION"));

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
    /// The token lifetime is not between 1 second and [`MAX_TOKEN_LIFETIME`](crate::MAX_TOKEN_LIFETIME).
    #[error("the token lifetime must be 1 to {} seconds, not {seconds}", crate::MAX_TOKEN_LIFETIME.as_secs())]
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
    /// A value sent as a header (the user ID, the app key) is empty or blank.
    #[error("{name} is empty")]
    EmptyValue {
        /// What the value is.
        name: &'static str,
    },
    /// The HTTP client could not be built (for example, no TLS backend).
    #[error("building the HTTP client: {0}")]
    Http(#[source] reqwest::Error),
    /// An `https` URL, but this build of ccsqm-client has no TLS: it was compiled without its
    /// TLS features (see "Features" in the crate docs), and no HTTP client was given with
    /// [`ClientBuilder::http_client`].
    #[error(
        "{url:?} needs TLS, but ccsqm-client was built without it: enable its features {features}"
    )]
    NoTls {
        /// The URL as given.
        url: String,
        /// The features that give TLS.
        features: &'static str,
    },
    /// The TLS configuration of the features could not be made (for example, the platform's
    /// verifier found no roots).
    #[error("configuring TLS: {0}")]
    Tls(#[source] Box<dyn std::error::Error + Send + Sync>),
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
    http_client: Option<reqwest::Client>,
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
            http_client: None,
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

    /// The token lifetime requested with `X-Token-Expire`: 1 s to [`MAX_TOKEN_LIFETIME`](crate::MAX_TOKEN_LIFETIME), whole seconds
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
    /// [`ApiError::BodyTooLarge`]: crate::ApiError::BodyTooLarge
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

    /// Sends the requests through `client`, an HTTP client configured by the caller: a proxy, a
    /// private CA, a client certificate (mTLS), its own `User-Agent`, connection pooling shared
    /// with the rest of a service. The builder's [`connect_timeout`](Self::connect_timeout)
    /// and [`timeout`](Self::timeout) then do not apply (set them on `client`), nor does its
    /// [`USER_AGENT`] or its redirect policy: build `client` with
    /// `reqwest::redirect::Policy::none()` so that no credential follows a redirect elsewhere.
    /// Everything else (authentication, retries, the size cap, redaction) works as usual.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use ccsqm_client::reqwest;
    ///
    /// let http = reqwest::Client::builder()
    ///     .user_agent("billing-service/2.3 (ccsqm-client)")
    ///     .redirect(reqwest::redirect::Policy::none())
    ///     .build()?;
    /// let client = ccsqm_client::Client::builder("https://service.besclouds.com")
    ///     .bearer_token("my-token")
    ///     .user_id("1611917095665261978")
    ///     .http_client(http)
    ///     .build()?;
    /// # let _ = client;
    /// # Ok(()) }
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Checks the settings and builds the client (HTTPS through rustls, with the provider and
    /// roots of the crate's features; redirects are not followed, so that no credential is
    /// sent elsewhere). Built without TLS features, it refuses an `https` URL
    /// ([`BuildError::NoTls`]) unless given its HTTP client.
    pub fn build(self) -> Result<Client, BuildError> {
        check_base_url(&self.base_url, self.allow_insecure_http)?;
        if let Some(url) = &self.token_base_url {
            check_base_url(url, self.allow_insecure_http)?;
        }
        let user_id = self.user_id.ok_or(BuildError::MissingUserId)?;
        header_value(&user_id, "the user ID (x-UserId)")?;
        let auth = match (self.bearer, self.ak_sk) {
            (Some(_), Some(_)) => return Err(BuildError::TwoCredentials),
            (Some(token), None) if token.expose().trim().is_empty() => {
                return Err(BuildError::EmptyValue {
                    name: "the bearer token",
                })
            }
            (Some(token), None) => {
                Auth::Bearer(bearer_header(&token).ok_or(BuildError::InvalidHeader {
                    name: "the bearer token",
                })?)
            }
            (None, Some((_, app_secret))) if app_secret.expose().is_empty() => {
                return Err(BuildError::EmptyValue {
                    name: "the app secret",
                })
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
        let http = match self.http_client {
            Some(http) => http,
            None => {
                if !crate::tls::HTTPS {
                    let mut urls = std::iter::once(&self.base_url).chain(&self.token_base_url);
                    if let Some(url) = urls.find(|url| is_https(url)) {
                        return Err(BuildError::NoTls {
                            url: url.clone(),
                            features: crate::tls::TLS_FEATURES,
                        });
                    }
                }
                let builder = reqwest::Client::builder()
                    .connect_timeout(self.connect_timeout)
                    .timeout(self.timeout)
                    .redirect(reqwest::redirect::Policy::none())
                    .user_agent(USER_AGENT);
                crate::tls::configure(builder)
                    .map_err(BuildError::Tls)?
                    .build()
                    .map_err(BuildError::Http)?
            }
        };
        let session = Session {
            shared: Arc::new(Shared {
                auth,
                user_id,
                app_key,
                token_base_url: self.token_base_url,
                retry: self.retry,
                max_body_size: self.max_body_size,
                retries: Default::default(),
            }),
        };
        Ok(Client::new_with_client(&self.base_url, http, session))
    }
}

/// Whether a (checked) base URL is `https`.
fn is_https(url: &str) -> bool {
    reqwest::Url::parse(url).is_ok_and(|url| url.scheme() == "https")
}

/// A value sent as a header: not blank, and only visible ASCII and spaces (no tab, no other
/// control character, nothing beyond ASCII).
fn header_value(value: &str, name: &'static str) -> Result<HeaderValue, BuildError> {
    if value.trim().is_empty() {
        return Err(BuildError::EmptyValue { name });
    }
    if !value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(BuildError::InvalidHeader { name });
    }
    HeaderValue::from_str(value).map_err(|_| BuildError::InvalidHeader { name })
}

impl Client {
    /// Starts building a client for the deployment at `base_url`, e.g.
    /// `https://service.besclouds.com` (the paths carry their `/apiaccess` or `/apigovernance`
    /// prefix).
    pub fn builder(base_url: &str) -> ClientBuilder {
        ClientBuilder::new(base_url)
    }
}
