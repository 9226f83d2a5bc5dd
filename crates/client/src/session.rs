//! The hand-written part of [`Client`]: how it is built, and what it adds to every request.

use std::time::Duration;

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION};

use crate::{builder, Client, Error, Secret};

/// Default time allowed to establish a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time allowed for a whole request, from sending it to reading the whole response.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The operation that issues tokens: it is the one operation sent without `Authorization`.
const TOKEN_OPERATION: &str = "token_by_ak_sk";

/// What a [`Client`] sends with every request: the identity of the caller. Its `Debug` never
/// shows the token.
#[derive(Clone, Debug)]
pub struct Session {
    bearer: Option<Secret>,
    user_id: String,
    app_key: Option<String>,
}

impl Session {
    /// The operator ID sent as `x-UserId`.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The app key sent as `x-app-key`, if any.
    pub fn app_key(&self) -> Option<&str> {
        self.app_key.as_deref()
    }
}

/// Why a [`Client`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The base URL is not an absolute `http` or `https` URL.
    #[error("invalid base URL {url:?}: {reason}")]
    BaseUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `user_id` was not set: every query needs the `x-UserId` header.
    #[error("no user ID: set the operator ID sent as x-UserId")]
    MissingUserId,
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

/// Builds a [`Client`]: base URL, credentials, and timeouts.
///
/// ```
/// # fn main() -> Result<(), ccsqm_client::BuildError> {
/// let client = ccsqm_client::Client::builder("https://service.besclouds.com")
///     .bearer_token("the AccessToken from tokenByAkSk")
///     .user_id("1611917095665261978")
///     .app_key("my-app-key")
///     .build()?;
/// assert!(!format!("{client:?}").contains("the AccessToken"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    base_url: String,
    bearer: Option<Secret>,
    user_id: Option<String>,
    app_key: Option<String>,
    connect_timeout: Duration,
    timeout: Duration,
}

impl ClientBuilder {
    fn new(base_url: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            bearer: None,
            user_id: None,
            app_key: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The `AccessToken` to send as `Authorization: Bearer {token}` on every query.
    pub fn bearer_token(mut self, token: impl Into<Secret>) -> Self {
        self.bearer = Some(token.into());
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

    /// Time allowed for a whole request (default [`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks the settings and builds the client (HTTPS through rustls).
    pub fn build(self) -> Result<Client, BuildError> {
        check_base_url(&self.base_url)?;
        let user_id = self.user_id.ok_or(BuildError::MissingUserId)?;
        header_value(&user_id, "the user ID (x-UserId)")?;
        if let Some(app_key) = &self.app_key {
            header_value(app_key, "the app key (x-app-key)")?;
        }
        if let Some(token) = &self.bearer {
            bearer_header(token)?;
        }
        let http = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .user_agent(concat!("ccsqm-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(BuildError::Http)?;
        let session = Session {
            bearer: self.bearer,
            user_id,
            app_key: self.app_key,
        };
        Ok(Client::new_with_client(&self.base_url, http, session))
    }
}

fn check_base_url(url: &str) -> Result<(), BuildError> {
    let bad = |reason: &str| BuildError::BaseUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    match parsed.scheme() {
        "http" | "https" => {}
        other => {
            return Err(bad(&format!(
                "the scheme must be https or http, not {other}"
            )))
        }
    }
    if parsed.host_str().is_none() {
        return Err(bad("no host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("a base URL has no query or fragment"));
    }
    Ok(())
}

fn header_value(value: &str, name: &'static str) -> Result<HeaderValue, BuildError> {
    HeaderValue::from_str(value).map_err(|_| BuildError::InvalidHeader { name })
}

fn bearer_header(token: &Secret) -> Result<HeaderValue, BuildError> {
    let mut value = header_value(&format!("Bearer {}", token.expose()), "the bearer token")?;
    value.set_sensitive(true);
    Ok(value)
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
        let builder = self
            .appraisecall_details()
            .x_user_id(self.inner.user_id.as_str());
        match &self.inner.app_key {
            Some(app_key) => builder.x_app_key(app_key.as_str()),
            None => builder,
        }
    }

    /// The identity this client sends with every request.
    pub fn session(&self) -> &Session {
        &self.inner
    }
}

/// Runs on every request the generated code builds: adds `Authorization: Bearer {token}` to
/// every operation but `tokenByAkSk`, and removes the `api-version` header that progenitor adds
/// (the API does not declare it: requests match the spec).
impl ClientHooks<Session> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        let headers = request.headers_mut();
        headers.remove(HeaderName::from_static("api-version"));
        if info.operation_id != TOKEN_OPERATION {
            if let Some(token) = &self.inner().bearer {
                let value =
                    bearer_header(token).map_err(|e| Error::InvalidRequest(e.to_string()))?;
                headers.insert(AUTHORIZATION, value);
            }
        }
        Ok(())
    }
}
