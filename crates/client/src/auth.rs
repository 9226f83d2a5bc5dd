//! Where the `Authorization` header comes from: a fixed Bearer token, or tokens obtained from
//! `tokenByAkSk` with an app key and app secret, kept until shortly before they expire.

use std::future::Future;
use std::num::NonZeroU64;
use std::pin::Pin;
use std::time::{Duration, Instant};

use reqwest::header::HeaderValue;

use crate::types::TokenByAkSkRequest;
use crate::{ApiError, Client, Secret};

/// The `X-Token-Expire` header of `tokenByAkSk`, as the spec describes it.
const TOKEN_EXPIRE: &crate::spec::Field = match crate::spec::TOKEN_BY_AK_SK.header("X-Token-Expire")
{
    Some(header) => header,
    None => panic!("spec/ccsqm.yaml: tokenByAkSk has no X-Token-Expire header parameter"),
};

/// The longest token lifetime the token interface grants: the `maximum` of `X-Token-Expire` in
/// the spec.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(match TOKEN_EXPIRE.maximum {
    Some(max) if max >= 1.0 => max as u64,
    _ => panic!("spec/ccsqm.yaml: X-Token-Expire of tokenByAkSk needs a maximum of 1 or more"),
});
/// The token lifetime requested by default: the `example` of `X-Token-Expire` in the spec (the
/// vendor's example).
pub const DEFAULT_TOKEN_LIFETIME: Duration =
    Duration::from_secs(match TOKEN_EXPIRE.example_integer() {
        Some(seconds) if seconds >= 1 => seconds as u64,
        _ => panic!("spec/ccsqm.yaml: X-Token-Expire of tokenByAkSk needs a whole-number example"),
    });
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

impl Auth {
    /// The credentials this source sends or holds: what server text must never show.
    pub(crate) fn secrets(&self) -> Vec<Secret> {
        match self {
            Auth::None => Vec::new(),
            Auth::Bearer(header) => header
                .to_str()
                .ok()
                .and_then(|h| h.strip_prefix("Bearer "))
                .map(Secret::from)
                .into_iter()
                .collect(),
            Auth::AkSk(source) => source.secrets(),
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
    /// The tokens issued lately, for redaction.
    issued: std::sync::Mutex<Vec<Secret>>,
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
            issued: std::sync::Mutex::new(Vec::new()),
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
            let issued = self.issue(client).await?;
            let lifetime = issued.lifetime;
            let margin = TOKEN_REFRESH_MARGIN.min(lifetime / 5);
            let header = bearer_header(&issued.access_token).ok_or_else(|| ApiError::Token {
                message: "the AccessToken cannot be sent as an HTTP header value".to_owned(),
                source: None,
            })?;
            tracing::debug!(
                lifetime_seconds = lifetime.as_secs(),
                "tokenByAkSk: new access token"
            );
            Ok(Token {
                secret: issued.access_token,
                header,
                refresh_at: sent + lifetime - margin,
            })
        })
    }

    /// Asks `tokenByAkSk` for a token, and reads its answer tolerantly: an `Expires` that is not
    /// a positive whole number of seconds gets [`default_lifetime`](Self::default_lifetime)
    /// (with a warning), an empty `AccessToken` is an error of the token interface.
    pub(crate) async fn issue(&self, client: &Client) -> Result<IssuedToken, ApiError> {
        let sent = client
            .token_by_ak_sk()
            .x_token_expire(self.lifetime)
            .body(TokenByAkSkRequest {
                app_key: self.app_key.clone(),
                app_secret: self.app_secret.clone(),
            })
            .send()
            .await;
        let (access_token, expires) = match sent {
            Ok(response) => {
                let response = response.into_inner();
                (
                    response.access_token,
                    response.expires.map(serde_json::Value::String),
                )
            }
            // The spec says `Expires` is a string; a server that sends a number is still read.
            Err(crate::Error::InvalidResponsePayload(bytes, error)) => {
                match serde_json::from_slice::<TolerantTokenResponse>(&bytes) {
                    Ok(response) => (response.access_token, response.expires),
                    Err(_) => {
                        return Err(ApiError::from_token_error(
                            crate::Error::InvalidResponsePayload(bytes, error),
                            &self.secrets(),
                        ))
                    }
                }
            }
            Err(error) => return Err(ApiError::from_token_error(error, &self.secrets())),
        };
        if access_token.expose().trim().is_empty() {
            return Err(ApiError::token_unreadable("its AccessToken is empty"));
        }
        self.remember(&access_token);
        let (lifetime, expires_note) = self.lifetime_of(expires.as_ref());
        Ok(IssuedToken {
            access_token,
            lifetime,
            expires: expires.map(|e| match e {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            }),
            expires_note,
        })
    }

    /// The lifetime assumed when `Expires` says nothing usable: the default token lifetime, or
    /// the lifetime requested when that is shorter.
    pub(crate) fn default_lifetime(&self) -> Duration {
        DEFAULT_TOKEN_LIFETIME.min(Duration::from_secs(self.lifetime.get()))
    }

    /// The lifetime `Expires` gives (honoured as given, but a day at most), and, when it was
    /// not usable, why the default was taken.
    fn lifetime_of(&self, expires: Option<&serde_json::Value>) -> (Duration, Option<String>) {
        use serde_json::Value;
        let seconds = match expires {
            None | Some(Value::Null) => return (self.default_lifetime(), None),
            Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
            Some(Value::Number(n)) => n.as_u64(),
            Some(_) => None,
        };
        match seconds.filter(|s| *s > 0) {
            Some(seconds) => {
                let lifetime = Duration::from_secs(seconds.min(86_400));
                let note = matches!(expires, Some(Value::Number(_))).then(|| {
                    format!(
                        "Expires is a JSON number, not the documented string: read as {seconds} \
                         seconds"
                    )
                });
                if let Some(note) = &note {
                    tracing::warn!("tokenByAkSk: {note}");
                }
                (lifetime, note)
            }
            None => {
                let default = self.default_lifetime();
                let shown = expires.map(|e| e.to_string()).unwrap_or_default();
                let note = format!(
                    "Expires {} is not a positive whole number of seconds: assuming {} seconds",
                    crate::visible(&crate::redact(&shown, &[self.app_secret.expose()])),
                    default.as_secs()
                );
                tracing::warn!("tokenByAkSk: {note}");
                (default, Some(note))
            }
        }
    }

    /// Keeps the last tokens issued, so that server text echoing them can be redacted.
    fn remember(&self, token: &Secret) {
        let mut issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        if issued.len() >= REMEMBERED_TOKENS {
            issued.remove(0);
        }
        issued.push(token.clone());
    }

    /// The app secret and the tokens issued lately: what server text must never show.
    pub(crate) fn secrets(&self) -> Vec<Secret> {
        let issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        std::iter::once(self.app_secret.clone())
            .chain(issued.iter().cloned())
            .collect()
    }
}

/// How many of the tokens issued last are kept for redaction.
const REMEMBERED_TOKENS: usize = 4;

/// `tokenByAkSk`'s answer read tolerantly: `Expires` of any JSON type.
#[derive(serde::Deserialize)]
struct TolerantTokenResponse {
    #[serde(rename = "AccessToken")]
    access_token: Secret,
    #[serde(rename = "Expires", default)]
    expires: Option<serde_json::Value>,
}

/// A token from `tokenByAkSk`, and how long the client takes it to be valid. Its `Debug` never
/// shows the token.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct IssuedToken {
    /// The `AccessToken`.
    pub access_token: Secret,
    /// How long the token is taken to be valid from when it was requested: `Expires`, or, when
    /// `Expires` is absent, zero, negative or not a number, the default lifetime
    /// ([`DEFAULT_TOKEN_LIFETIME`], or the lifetime requested when shorter).
    pub lifetime: Duration,
    /// `Expires` as the server sent it (a JSON number as its text), if it did.
    pub expires: Option<String>,
    /// Why `Expires` was not taken as it is, when it was not (also logged at `warn`).
    pub expires_note: Option<String>,
}

/// `Bearer {token}`, marked sensitive (so that `Debug` of the header hides it too).
pub(crate) fn bearer_header(token: &Secret) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose())).ok()?;
    value.set_sensitive(true);
    Some(value)
}
