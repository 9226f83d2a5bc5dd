//! The HTTP side: routes, handlers, fault injection and the connection loop.
//!
//! Routing and handlers are axum's. The accept loop is our own (hyper-util's connection builder,
//! as `axum::serve` uses) because one fault needs it: a dropped connection closes the socket
//! without writing a byte, which a handler cannot do; here each connection's task can be told to
//! drop its connection.

use std::convert::Infallible;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use axum::Router;
use ccsqm_client::spec::Operation;
use ccsqm_client::types::{
    AppraisecallDetailRequest, AppraisecallDetailsRequest, TokenByAkSkRequest, TokenByAkSkResponse,
};
use http_body::{Frame, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Notify};
use tower::ServiceExt;

use crate::auth::{TokenError, Tokens};
use crate::data::{DataSet, DetailsError};
use crate::faults::{Fault, FaultState, RETRY_AFTER_SECS};
use crate::Credentials;

/// Path of `appraisecall/details` (from the spec).
pub const DETAILS_PATH: &str = Operation::AppraisecallDetails.info().path;
/// Path of `appraisecall/detail` (from the spec).
pub const DETAIL_PATH: &str = Operation::AppraisecallDetail.info().path;
/// Path of `tokenByAkSk` (from the spec).
pub const TOKEN_PATH: &str = Operation::TokenByAkSk.info().path;
/// Token lifetime when `X-Token-Expire` is absent (the vendor's example value).
pub const DEFAULT_TOKEN_LIFETIME: u64 = ccsqm_client::DEFAULT_TOKEN_LIFETIME.as_secs();
/// The longest token lifetime `X-Token-Expire` may ask for (documented by the vendor).
pub const MAX_TOKEN_LIFETIME: u64 = ccsqm_client::MAX_TOKEN_LIFETIME.as_secs();

/// Everything the handlers share.
#[derive(Debug)]
pub(crate) struct AppState {
    pub data: Arc<DataSet>,
    pub credentials: Credentials,
    pub tokens: Tokens,
    pub faults: Mutex<FaultState>,
    pub load: Load,
    /// A live sandbox's clock; `None`: the frozen data set.
    pub clock: Option<crate::Clock>,
}

impl AppState {
    /// The clock reading to answer at (`None`: frozen).
    pub(crate) fn now(&self) -> Option<i64> {
        self.clock.as_ref().map(crate::Clock::now)
    }
}

/// The requests being answered, for the capacity fault.
#[derive(Debug, Default)]
pub(crate) struct Load {
    in_flight: AtomicUsize,
    peak: AtomicUsize,
    throttled: AtomicU64,
}

impl Load {
    /// Takes a place among the requests being answered, unless `max` are already.
    fn enter(&self, max: Option<NonZeroUsize>) -> Option<InFlight<'_>> {
        let limit = max.map_or(usize::MAX, NonZeroUsize::get);
        let taken = self
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            });
        match taken {
            Ok(before) => {
                self.peak.fetch_max(before + 1, Ordering::AcqRel);
                Some(InFlight(self))
            }
            Err(_) => {
                self.throttled.fetch_add(1, Ordering::AcqRel);
                None
            }
        }
    }

    pub fn throttled(&self) -> u64 {
        self.throttled.load(Ordering::Acquire)
    }

    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Acquire)
    }
}

/// A request being answered: leaves its place when dropped (answered, or its connection gone).
struct InFlight<'a>(&'a Load);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The handler of each operation of the spec, at the spec's method and path.
///
/// The `match` has no `_` arm: an operation added to the spec fails to compile here
/// ("non-exhaustive patterns: `Operation::...` not covered") until it has a handler.
fn route(router: Router<Arc<AppState>>, operation: Operation) -> Router<Arc<AppState>> {
    let spec = operation.info();
    // The spec's method: the generated facts hold only OpenAPI's methods, which axum routes.
    let method = axum::http::Method::from_bytes(spec.method.as_bytes())
        .ok()
        .and_then(|m| MethodFilter::try_from(m).ok())
        .unwrap_or_else(|| panic!("{}: method {} cannot be routed", spec.id, spec.method));
    let handler = match operation {
        Operation::AppraisecallDetails => on(method, details),
        Operation::TokenByAkSk => on(method, token),
        Operation::AppraisecallDetail => on(method, detail),
    };
    router.route(spec.path, handler)
}

/// The path where a live sandbox tells its clock's reading (not an operation of the spec).
pub const CLOCK_PATH: &str = "/sandbox/clock";

pub(crate) fn router(state: Arc<AppState>) -> Router {
    let router = Operation::ALL
        .iter()
        .fold(Router::new(), |router, op| route(router, *op))
        .route_layer(middleware::from_fn_with_state(state.clone(), inject_faults));
    // A live sandbox's clock, in Unix seconds (no faults, no token: it is the sandbox's own);
    // its answers' `Date` is that reading (a frozen sandbox's is the system time, hyper's).
    let router = match state.now() {
        Some(_) => router
            .route(CLOCK_PATH, axum::routing::get(clock))
            .layer(middleware::from_fn_with_state(state.clone(), live_date)),
        None => router,
    };
    router
        .fallback(|| async { text(StatusCode::NOT_FOUND, "no such path") })
        .with_state(state)
}

/// The handler of an operation the sandbox deliberately does not serve (placed in [`route`] as
/// such): 501, saying so.
#[allow(dead_code)] // placed in `route` for an operation of the spec the sandbox does not serve
async fn not_implemented() -> Response {
    text(
        StatusCode::NOT_IMPLEMENTED,
        "the sandbox does not implement this operation of the spec",
    )
}

fn text(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{message}\n"),
    )
        .into_response()
}

/// The `Content-Type` of a JSON answer (the vendor's).
const JSON_CONTENT_TYPE: &str = "application/json;charset=UTF-8";

fn json<T: serde::Serialize>(value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => ([(header::CONTENT_TYPE, JSON_CONTENT_TYPE)], body).into_response(),
        Err(_) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "serializing the response failed",
        ),
    }
}

/// Deserializes a JSON body into a generated type; the error names the field.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    // A body that is accepted, by serde_json alone (serde_path_to_error's bookkeeping of where
    // it is was 1.5% of the sandbox's CPU under load); one that is refused is read again, for
    // the field to name.
    if let Ok(value) = serde_json::from_slice(body) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split_once('`'))
            .map(|(field, _)| field);
        match missing {
            Some(field) if path == "." => format!("{field}: missing mandatory field"),
            Some(field) => format!("{path}.{field}: missing mandatory field"),
            None if path == "." => format!("invalid request body: {message}"),
            None => format!("{path}: {message}"),
        }
    })?;
    de.end().map_err(|e| format!("invalid request body: {e}"))?;
    Ok(value)
}

async fn token(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let lifetime = match headers.get("x-token-expire") {
        None => DEFAULT_TOKEN_LIFETIME,
        Some(value) => match value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            Some(s) if (1..=MAX_TOKEN_LIFETIME).contains(&s) => s,
            _ => {
                return text(
                    StatusCode::BAD_REQUEST,
                    &format!(
                        "X-Token-Expire: must be a whole number of seconds from 1 to \
                         {MAX_TOKEN_LIFETIME}"
                    ),
                )
            }
        },
    };
    let request: TokenByAkSkRequest = match parse(&body) {
        Ok(r) => r,
        Err(reason) => return text(StatusCode::BAD_REQUEST, &reason),
    };
    let expected = &state.credentials;
    if request.app_key != expected.app_key
        || request.app_secret.expose() != expected.app_secret.expose()
    {
        return text(StatusCode::UNAUTHORIZED, "wrong app_key or app_secret");
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let token = state.tokens.issue(Duration::from_secs(lifetime));
    json(&TokenByAkSkResponse {
        access_token: token,
        app_key: Some(request.app_key),
        apply_type: Some("Bearer".to_owned()),
        create_time: Some(now.to_string()),
        expires: Some(lifetime.to_string()),
        scope: Some("ccsqm-sandbox".to_owned()),
        user_id: Some("Anonymous".to_owned()),
    })
}

/// Whether a query operation requires `x-UserId` (it is optional for `appraisecall/detail` in
/// the vendor's newer editions).
#[derive(Clone, Copy, PartialEq, Eq)]
enum UserId {
    Required,
    Optional,
}

/// The Bearer token and `x-UserId` of a query: `Err` is the answer's status and text (401, or
/// 400 for a missing required `x-UserId`).
fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    user_id: UserId,
) -> Result<(), (StatusCode, &'static str)> {
    let Some(authorization) = headers.get(header::AUTHORIZATION) else {
        return Err((StatusCode::UNAUTHORIZED, "Authorization: missing header"));
    };
    let Some(token) = authorization
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return Err((
            StatusCode::UNAUTHORIZED,
            "Authorization: expected `Bearer {AccessToken}`",
        ));
    };
    match state.tokens.check(token) {
        Ok(()) => {}
        Err(TokenError::Unknown) => {
            return Err((StatusCode::UNAUTHORIZED, "Authorization: unknown token"))
        }
        Err(TokenError::Expired) => {
            return Err((StatusCode::UNAUTHORIZED, "Authorization: token expired"))
        }
    }
    match headers.get("x-userid").map(HeaderValue::to_str) {
        None if user_id == UserId::Optional => Ok(()),
        None => Err((StatusCode::BAD_REQUEST, "x-UserId: missing header")),
        Some(Ok(user)) if user == state.credentials.user_id => Ok(()),
        Some(_) => Err((StatusCode::UNAUTHORIZED, "x-UserId: unknown operator")),
    }
}

async fn details(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err((status, reason)) = authorize(&state, &headers, UserId::Required) {
        return text(status, reason);
    }
    let request: AppraisecallDetailsRequest = match parse(&body) {
        Ok(r) => r,
        Err(reason) => return text(StatusCode::BAD_REQUEST, &reason),
    };
    match state.data.details_json_as(&request, state.now()) {
        Ok(body) => (
            [(header::CONTENT_TYPE, JSON_CONTENT_TYPE)],
            Bytes::from(body),
        )
            .into_response(),
        Err(DetailsError::Invalid(reason)) => text(StatusCode::BAD_REQUEST, &reason.0),
        Err(DetailsError::Json(_)) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "serializing the response failed",
        ),
    }
}

/// `GET /sandbox/clock` of a live sandbox: its clock's reading, Unix seconds, as plain text.
async fn clock(State(state): State<Arc<AppState>>) -> Response {
    let reading = state.now().unwrap_or_default();
    text(StatusCode::OK, &reading.to_string())
}

/// Sets the `Date` of a live sandbox's answers to its clock's reading, so that a client can
/// bound what it reads by the server's time (as `ccsqm sync` does) whatever the clock's speed.
async fn live_date(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if let Some(reading) = state.now() {
        let time = std::time::UNIX_EPOCH + Duration::from_secs(u64::try_from(reading).unwrap_or(0));
        if let Ok(value) = HeaderValue::from_str(&httpdate::fmt_http_date(time)) {
            response.headers_mut().insert(header::DATE, value);
        }
    }
    response
}

/// `appraisecall/detail`: the call whose `call_uuid` the body names, with its transcript; an
/// unknown `call_uuid` is 404 (the vendor's answer is undocumented).
async fn detail(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err((status, reason)) = authorize(&state, &headers, UserId::Optional) {
        return text(status, reason);
    }
    let request: AppraisecallDetailRequest = match parse(&body) {
        Ok(r) => r,
        Err(reason) => return text(StatusCode::BAD_REQUEST, &reason),
    };
    let found = state
        .data
        .position(&request.call_uuid)
        .and_then(|index| crate::transcript::detail(&state.data, index, state.now()));
    match found {
        Some(response) => json(&response),
        None => text(
            StatusCode::NOT_FOUND,
            "call_uuid: no call with this UUID in the data set",
        ),
    }
}

/// Lets a request's handler close the connection it came on.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConnControl(Arc<Notify>);

impl ConnControl {
    fn close(&self) {
        self.0.notify_one();
    }

    async fn closed(&self) {
        self.0.notified().await
    }
}

async fn inject_faults(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let max_in_flight = state
        .faults
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .faults
        .max_in_flight;
    let Some(_in_flight) = state.load.enter(max_in_flight) else {
        let mut answer = text(
            StatusCode::TOO_MANY_REQUESTS,
            "sandbox: at capacity (--max-in-flight)",
        );
        answer
            .headers_mut()
            .insert(header::RETRY_AFTER, RETRY_AFTER_SECS.into());
        return answer;
    };
    let (fault, latency) = state
        .faults
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .draw();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let conn = req.extensions().get::<ConnControl>().cloned();
    match (fault, conn) {
        (Fault::None, _) => next.run(req).await,
        (Fault::Status(code), _) => text(
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "sandbox: injected fault",
        ),
        (Fault::Drop, Some(conn)) => {
            conn.close();
            std::future::pending().await
        }
        (Fault::Truncate, Some(conn)) => {
            let response = next.run(req).await;
            let (mut parts, body) = response.into_parts();
            let Ok(full) = axum::body::to_bytes(body, usize::MAX).await else {
                conn.close();
                return std::future::pending().await;
            };
            parts
                .headers
                .insert(header::CONTENT_LENGTH, full.len().into());
            let half = full.slice(..full.len() / 2);
            Response::from_parts(
                parts,
                Body::new(Truncated {
                    first: Some(half),
                    full_len: full.len() as u64,
                    conn,
                }),
            )
        }
        // Not served by our loop (never the case): an error answer instead.
        (Fault::Drop | Fault::Truncate, None) => {
            text(StatusCode::SERVICE_UNAVAILABLE, "sandbox: injected fault")
        }
    }
}

/// A body that sends its first part, then has the connection closed before the rest.
struct Truncated {
    first: Option<Bytes>,
    full_len: u64,
    conn: ConnControl,
}

impl http_body::Body for Truncated {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.first.take() {
            Some(part) => Poll::Ready(Some(Ok(Frame::data(part)))),
            None => {
                // hyper flushes what it has written, then the connection's task drops it.
                self.conn.close();
                Poll::Pending
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.full_len)
    }
}

/// Serves `router` on `listener` until `shutdown` fires, then lets open requests finish (for at
/// most `grace`).
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    mut shutdown: oneshot::Receiver<()>,
    grace: Duration,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    loop {
        let stream = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors, or a connection reset while queued: try again.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let control = ConnControl::default();
        let service = {
            let (router, control) = (router.clone(), control.clone());
            hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(control.clone());
                router.clone().oneshot(req.map(Body::new))
            })
        };
        let conn = builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            tokio::select! {
                biased;
                _ = conn => {}
                _ = control.closed() => {}
            }
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(grace) => {}
    }
}
