//! Where the `Authorization` header comes from: a fixed Bearer token, or tokens obtained from
//! `tokenByAkSk` with an app key and app secret, kept until shortly before they expire.

use std::future::Future;
use std::num::NonZeroU64;
use std::pin::Pin;
use std::time::{Duration, Instant};

use reqwest::header::HeaderValue;

use crate::types::TokenByAkSkRequest;
use crate::{ApiError, Client, Secret};

/// The longest token lifetime the token interface grants (`X-Token-Expire`), in seconds.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
/// The token lifetime requested by default (`X-Token-Expire`), as in the vendor's example.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(600);
/// A token is replaced this long before it expires at the latest (or after four fifths of its
/// lifetime, when that comes first), so that no request carries a token about to expire.
pub const TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// The source of the `Authorization` header.
pub(crate) enum Auth {
    /// No `Authorization` header.
    None,
    /// The same Bearer token on every request.
    Bearer(HeaderValue),
    /// Tokens from `tokenByAkSk`.
    AkSk(TokenSource),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Bearer(_) => f.write_str("Bearer(***)"),
            Auth::AkSk(source) => source.fmt(f),
        }
    }
}

/// Tokens from `tokenByAkSk`, cached; at most one token request is in flight at a time.
pub(crate) struct TokenSource {
    pub(crate) app_key: String,
    app_secret: Secret,
    lifetime: NonZeroU64,
    /// The current token. The lock is held while a token is requested, so that concurrent
    /// requests wait for that one token instead of asking for their own.
    current: tokio::sync::Mutex<Option<Token>>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AkSk")
            .field("app_key", &self.app_key)
            .field("app_secret", &self.app_secret)
            .field("token_lifetime_seconds", &self.lifetime)
            .finish_non_exhaustive()
    }
}

/// A token and when to replace it.
struct Token {
    secret: Secret,
    header: HeaderValue,
    refresh_at: Instant,
}

type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<Token, ApiError>> + Send + 'a>>;

impl TokenSource {
    pub(crate) fn new(app_key: String, app_secret: Secret, lifetime: NonZeroU64) -> Self {
        Self {
            app_key,
            app_secret,
            lifetime,
            current: tokio::sync::Mutex::new(None),
        }
    }

    /// The `Authorization` header to send: the current token's, or a new token's when there is
    /// none or it is due for replacement.
    pub(crate) async fn header(&self, client: &Client) -> Result<HeaderValue, ApiError> {
        Ok(self.get(client).await?.0)
    }

    /// The token itself, as [`TokenSource::header`] finds it.
    pub(crate) async fn secret(&self, client: &Client) -> Result<Secret, ApiError> {
        Ok(self.get(client).await?.1)
    }

    async fn get(&self, client: &Client) -> Result<(HeaderValue, Secret), ApiError> {
        let mut current = self.current.lock().await;
        if let Some(token) = current.as_ref().filter(|t| Instant::now() < t.refresh_at) {
            return Ok((token.header.clone(), token.secret.clone()));
        }
        let token = self.fetch(client).await?;
        let got = (token.header.clone(), token.secret.clone());
        *current = Some(token);
        Ok(got)
    }

    /// After a 401 answered a request sent with `used`: a new token, unless another request has
    /// already replaced `used` (then that one).
    pub(crate) async fn replace(
        &self,
        client: &Client,
        used: Option<&HeaderValue>,
    ) -> Result<HeaderValue, ApiError> {
        let mut current = self.current.lock().await;
        if let Some(token) = current.as_ref() {
            if Some(&token.header) != used && Instant::now() < token.refresh_at {
                return Ok(token.header.clone());
            }
        }
        *current = None;
        let token = self.fetch(client).await?;
        let header = token.header.clone();
        *current = Some(token);
        Ok(header)
    }

    /// One `tokenByAkSk` request, through the generated operation (which the hooks send without
    /// `Authorization`, and retry like any other). Boxed: the operation's future contains the
    /// hooks' futures, which contain this one.
    fn fetch<'a>(&'a self, client: &'a Client) -> TokenFuture<'a> {
        Box::pin(async move {
            let sent = Instant::now();
            let response = client
                .token_by_ak_sk()
                .x_token_expire(self.lifetime)
                .body(TokenByAkSkRequest {
                    app_key: self.app_key.clone(),
                    app_secret: self.app_secret.clone(),
                })
                .send()
                .await
                .map_err(ApiError::from_token_error)?
                .into_inner();
            let lifetime = match response.expires.as_deref().map(str::trim) {
                Some(expires) => match expires.parse::<u64>() {
                    Ok(seconds) => Duration::from_secs(seconds),
                    Err(_) => {
                        tracing::warn!(
                            expires,
                            "tokenByAkSk: Expires is not a number of seconds; assuming the \
                             requested lifetime"
                        );
                        Duration::from_secs(self.lifetime.get())
                    }
                },
                None => Duration::from_secs(self.lifetime.get()),
            };
            // Honoured as given, but a day at most (a nonsense value must not overflow).
            let lifetime = lifetime.min(Duration::from_secs(86_400));
            let margin = TOKEN_REFRESH_MARGIN.min(lifetime / 5);
            let header = bearer_header(&response.access_token).ok_or_else(|| ApiError::Token {
                message: "the AccessToken cannot be sent as an HTTP header value".to_owned(),
                source: None,
            })?;
            tracing::debug!(
                lifetime_seconds = lifetime.as_secs(),
                "tokenByAkSk: new access token"
            );
            Ok(Token {
                secret: response.access_token,
                header,
                refresh_at: sent + lifetime - margin,
            })
        })
    }
}

/// `Bearer {token}`, marked sensitive (so that `Debug` of the header hides it too).
pub(crate) fn bearer_header(token: &Secret) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose())).ok()?;
    value.set_sensitive(true);
    Some(value)
}
