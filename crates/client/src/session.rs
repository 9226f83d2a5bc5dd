//! [`Session`]: what a [`Client`] adds to every request, and the client's own methods that
//! use it.

use std::sync::Arc;

use crate::auth::{Auth, IssuedToken};
use crate::types::{AppraisecallDetailsRequest, AppraisecallDetailsResponse};
use crate::{builder, ApiError, Client, ResponseValue, RetryPolicy, Secret};

/// What a [`Client`] adds to every request: the identity of the caller, where its token
/// comes from, and how failures are retried. Cheap to clone (clones share the token cache).
/// Its `Debug` never shows a token or an app secret.
#[derive(Clone)]
pub struct Session {
    pub(crate) shared: Arc<Shared>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) auth: Auth,
    pub(crate) user_id: String,
    pub(crate) app_key: Option<String>,
    pub(crate) token_base_url: Option<String>,
    pub(crate) retry: RetryPolicy,
    pub(crate) max_body_size: u64,
    /// Attempts sent again after a failure, by this client and its clones.
    pub(crate) retries: std::sync::atomic::AtomicU64,
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
    /// [`ClientBuilder::app_key`](crate::ClientBuilder::app_key), or else the `app_key` of
    /// [`ClientBuilder::ak_sk`](crate::ClientBuilder::ak_sk).
    pub fn app_key(&self) -> Option<&str> {
        self.shared.app_key.as_deref()
    }

    /// How failed requests are retried.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.shared.retry
    }

    /// How many attempts were sent again after a failure (a retry), by this client and its
    /// clones, so far: for a summary of an export.
    pub fn retries(&self) -> u64 {
        self.shared
            .retries
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The base URL of `tokenByAkSk`, when it differs from the API's.
    pub fn token_base_url(&self) -> Option<&str> {
        self.shared.token_base_url.as_deref()
    }
}

impl Client {
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
        self.details_answer(request)
            .await
            .map(ResponseValue::into_inner)
    }

    /// [`Client::details_page`] with the answer's status and headers (its `Date`, say: the
    /// server's clock).
    pub async fn details_answer(
        &self,
        request: AppraisecallDetailsRequest,
    ) -> Result<ResponseValue<AppraisecallDetailsResponse>, ApiError> {
        if let Auth::AkSk(source) = &self.inner.shared.auth {
            source.header(self).await?;
        }
        match self.details().body(request).send().await {
            Ok(answer) => Ok(answer),
            Err(error) => Err(ApiError::read(error, &self.inner.shared.auth.secrets()).await),
        }
    }

    /// With an app key and app secret, obtains the token before a request (a failure is
    /// [`ApiError::Token`], not the error of the request).
    pub(crate) async fn token_first(&self) -> Result<(), ApiError> {
        if let Auth::AkSk(source) = &self.inner.shared.auth {
            source.header(self).await?;
        }
        Ok(())
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

    /// A new token from `tokenByAkSk`, requested now with the client's app key and app secret
    /// and token lifetime (it does not replace the token the client uses). `Expires` is read
    /// tolerantly: see [`IssuedToken::lifetime`]. An empty `AccessToken` is an
    /// [`ApiError::Token`] of kind [`ErrorKind::UnreadableBody`](crate::ErrorKind).
    pub async fn issue_token(&self) -> Result<IssuedToken, ApiError> {
        match &self.inner.shared.auth {
            Auth::AkSk(source) => source.issue(self).await,
            _ => Err(ApiError::InvalidRequest(
                "a token is issued for an app key and app secret; this client has none".into(),
            )),
        }
    }

    /// The identity this client sends with every request.
    pub fn session(&self) -> &Session {
        &self.inner
    }
}
