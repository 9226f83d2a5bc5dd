//! [`Client::send_raw`]: any operation of the spec, by its [`Operation`], with a JSON body:
//! what `ccsqm api` sends. The request goes through the same hooks as the generated builders
//! (the token, retries, timeouts, logs).

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{HeaderName, HeaderValue, ACCEPT};
use reqwest::StatusCode;

use crate::spec::Operation;
use crate::{ApiError, Client, Error};

/// A header parameter of the spec whose value comes from the client's [`Session`](crate::Session)
/// rather than from the caller: the operator ID and the app key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionHeader {
    /// `x-UserId`.
    UserId,
    /// `x-app-key`.
    AppKey,
}

impl SessionHeader {
    /// The session header a header parameter named `name` is (ASCII case ignored), if any.
    pub fn of(name: &str) -> Option<Self> {
        if name.eq_ignore_ascii_case("x-UserId") {
            Some(Self::UserId)
        } else if name.eq_ignore_ascii_case("x-app-key") {
            Some(Self::AppKey)
        } else {
            None
        }
    }
}

/// A successful answer of [`Client::send_raw`].
#[derive(Clone, Debug)]
pub struct RawResponse {
    /// The HTTP status (2xx).
    pub status: StatusCode,
    /// The body, as received.
    pub body: Vec<u8>,
}

impl Client {
    /// Sends `operation` with `body` as its JSON body and `headers` on top of the session's
    /// (`x-UserId` and `x-app-key`, where the operation declares them). A status outside 2xx is
    /// an [`ApiError`], as for the generated builders.
    pub async fn send_raw(
        &self,
        operation: Operation,
        headers: &[(String, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<RawResponse, ApiError> {
        let spec = operation.info();
        let method = reqwest::Method::from_bytes(spec.method.as_bytes())
            .map_err(|e| ApiError::InvalidRequest(format!("method {}: {e}", spec.method)))?;
        let mut request = self
            .client()
            .request(method, format!("{}{}", self.baseurl(), spec.path))
            .header(ACCEPT, "application/json");
        for header in spec.headers {
            let session = match SessionHeader::of(header.name) {
                Some(SessionHeader::UserId) => Some(self.session().user_id()),
                Some(SessionHeader::AppKey) => self.session().app_key(),
                None => None,
            };
            if let Some(value) = session {
                request = request.header(header.name, value);
            }
        }
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ApiError::InvalidRequest(format!("{name:?} is not a header name")))?;
            let value = HeaderValue::from_str(value).map_err(|_| {
                ApiError::InvalidRequest(format!("the value of header {name} is not valid"))
            })?;
            request = request.header(name, value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let mut request = request
            .build()
            .map_err(|e| ApiError::InvalidRequest(e.to_string()))?;
        if spec.authenticated {
            // A failure to obtain a token is reported as such, not as a failed request.
            self.access_token().await?;
        }
        let info = OperationInfo {
            operation_id: spec.id,
        };
        self.pre::<()>(&mut request, &info)
            .await
            .map_err(ApiError::from)?;
        let response = self
            .exec(request, &info)
            .await
            .map_err(|e| ApiError::from(Error::CommunicationError(e)))?;
        let status = response.status();
        if !status.is_success() {
            let secrets = self.session().shared.auth.secrets();
            return Err(ApiError::read(Error::UnexpectedResponse(response), &secrets).await);
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| ApiError::from(Error::ResponseBodyError(e)))?;
        Ok(RawResponse {
            status,
            body: body.to_vec(),
        })
    }
}
