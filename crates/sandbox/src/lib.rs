#![doc = include_str!("../README.md")]

mod anchor;
mod asr;
mod auth;
mod clock;
mod data;
mod dialog;
mod faults;
#[allow(clippy::all)]
mod generated;
mod query_cache;
mod rng;
mod sample;
#[cfg(feature = "server-cli")]
pub mod serve;
mod server;
mod transcript;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ccsqm_client::Secret;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use anchor::{utc_minute, Anchor, AnchorError, LIVE_DAYS_AHEAD};
pub use asr::has_transcript;
pub use clock::Clock;
pub use data::{
    DataSet, DetailsError, InvalidRequest, DEFAULT_CALLS, FIRST_CALL_TIME, MAX_CALLS, MAX_LIMIT,
    SPAN_DAYS, VENDOR_EXAMPLE,
};
pub use faults::{ErrorStatuses, Faults, Latency, RETRY_AFTER_SECS};
pub use server::{
    CLOCK_PATH, DEFAULT_TOKEN_LIFETIME, DETAILS_PATH, DETAIL_PATH, MAX_TOKEN_LIFETIME, TOKEN_PATH,
};

/// A call whose every optional field holds the value the sandbox derives from its schema in
/// `spec/ccsqm.yaml` for `key` (the value it serves for a field it has no generator of its
/// own for: any shape, arrays and objects too; see `sample.rs`). For property tests of
/// what reads calls, so that a field the spec adds is exercised with no hand edit.
pub fn call_from_schema(key: u64) -> ccsqm_client::types::Call {
    let mut call = ccsqm_client::types::Call::default();
    generated::fill_call_from_schema(&mut call, key);
    call
}

/// The default `app_key` of a sandbox.
pub const DEFAULT_APP_KEY: &str = "sandbox-app-key";
/// The default `app_secret` of a sandbox.
pub const DEFAULT_APP_SECRET: &str = "sandbox-app-secret";
/// The default operator ID (`x-UserId`) of a sandbox.
pub const DEFAULT_USER_ID: &str = "sandbox-user";
/// The default seed of the data set.
pub const DEFAULT_SEED: u64 = 1;

/// How long a stopping sandbox waits for open requests to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What a client needs to use a sandbox. `Debug` does not show the secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// The app key `tokenByAkSk` accepts.
    pub app_key: String,
    /// The app secret `tokenByAkSk` accepts.
    pub app_secret: Secret,
    /// The operator ID `appraisecall/details` accepts as `x-UserId`.
    pub user_id: String,
}

impl Default for Credentials {
    fn default() -> Self {
        Self {
            app_key: DEFAULT_APP_KEY.to_owned(),
            app_secret: Secret::new(DEFAULT_APP_SECRET),
            user_id: DEFAULT_USER_ID.to_owned(),
        }
    }
}

/// Why a sandbox could not start or be changed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The address is not a loopback address, and [`SandboxBuilder::allow_non_loopback`] was not
    /// set.
    #[error("refusing to listen on {0}: not a loopback address (allow it explicitly)")]
    NotLoopback(SocketAddr),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The fault settings are inconsistent.
    #[error("invalid faults: {0}")]
    Faults(String),
    /// More calls were asked for than [`MAX_CALLS`].
    #[error("{0} calls asked for: the sandbox generates at most {MAX_CALLS}")]
    TooManyCalls(usize),
    /// The data set could not be generated (its task panicked).
    #[error("generating the data set failed")]
    Generate,
    /// A setting of the server could not be read (the app secret's file, say).
    #[error("{0}")]
    Config(String),
}

/// Configures and starts a [`Sandbox`].
#[derive(Debug, Clone)]
pub struct SandboxBuilder {
    calls: usize,
    seed: u64,
    anchor: Option<Anchor>,
    data: Option<Arc<DataSet>>,
    credentials: Credentials,
    addr: SocketAddr,
    allow_non_loopback: bool,
    faults: Faults,
    clock: Option<Clock>,
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        Self {
            calls: DEFAULT_CALLS,
            seed: DEFAULT_SEED,
            anchor: None,
            data: None,
            credentials: Credentials::default(),
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            allow_non_loopback: false,
            faults: Faults::none(),
            clock: None,
        }
    }
}

impl SandboxBuilder {
    /// Number of generated calls (default [`DEFAULT_CALLS`]; the vendor's six come on top).
    pub fn calls(mut self, calls: usize) -> Self {
        self.calls = calls;
        self
    }

    /// Seed of the data set (default [`DEFAULT_SEED`]).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The day the generated calls lead up to (default: [`Anchor::today`], when the sandbox
    /// starts): they fall on the [`SPAN_DAYS`] days before it. Pin it ([`Anchor::EARLIEST`],
    /// or a date) for calls at fixed times, e.g. in tests.
    pub fn anchor(mut self, anchor: Anchor) -> Self {
        self.anchor = Some(anchor);
        self
    }

    /// Serves an existing data set instead of generating one (`calls`, `seed` and `anchor`
    /// are then ignored): several sandboxes can share one.
    pub fn data(mut self, data: Arc<DataSet>) -> Self {
        self.data = Some(data);
        self
    }

    /// The app key `tokenByAkSk` accepts (default [`DEFAULT_APP_KEY`]).
    pub fn app_key(mut self, app_key: impl Into<String>) -> Self {
        self.credentials.app_key = app_key.into();
        self
    }

    /// The app secret `tokenByAkSk` accepts (default [`DEFAULT_APP_SECRET`]).
    pub fn app_secret(mut self, app_secret: impl Into<Secret>) -> Self {
        self.credentials.app_secret = app_secret.into();
        self
    }

    /// The operator ID accepted as `x-UserId` (default [`DEFAULT_USER_ID`]).
    pub fn user_id(mut self, user_id: impl Into<String>) -> Self {
        self.credentials.user_id = user_id.into();
        self
    }

    /// The address to listen on (default `127.0.0.1:0`: a free loopback port).
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// The port to listen on, on the loopback address (0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.addr.set_port(port);
        self
    }

    /// Allows an address other than loopback (off by default: the sandbox accepts any caller
    /// who knows its default credentials).
    pub fn allow_non_loopback(mut self, allow: bool) -> Self {
        self.allow_non_loopback = allow;
        self
    }

    /// The faults to inject (default none).
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// The most requests answered at a time (a capacity fault: more get 429 with
    /// `Retry-After`); see [`Faults::max_in_flight`]. Set after [`SandboxBuilder::faults`].
    pub fn max_in_flight(mut self, n: std::num::NonZeroUsize) -> Self {
        self.faults.max_in_flight = Some(n);
        self
    }

    /// A live sandbox: `details` answers from the state of the data at `clock`'s reading
    /// (calls uploaded after it are not there yet; each call's status the one it has reached;
    /// see the README's "Live mode"). Without an anchor, the data leads up to
    /// [`LIVE_DAYS_AHEAD`] days after the clock's day ([`Anchor::live`]), so that calls keep
    /// arriving. Off by default: the data set is frozen.
    pub fn live(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Generates the data set, binds the address and starts serving in the background, on the
    /// current tokio runtime.
    pub async fn start(self) -> Result<Sandbox, Error> {
        if !self.addr.ip().is_loopback() && !self.allow_non_loopback {
            return Err(Error::NotLoopback(self.addr));
        }
        self.faults.check().map_err(Error::Faults)?;
        let data = match self.data {
            Some(data) => data,
            None => {
                if self.calls > MAX_CALLS {
                    return Err(Error::TooManyCalls(self.calls));
                }
                let (seed, calls) = (self.seed, self.calls);
                let anchor = match (&self.anchor, &self.clock) {
                    (Some(anchor), _) => *anchor,
                    (None, Some(clock)) => Anchor::live(clock.now()),
                    (None, None) => Anchor::today(),
                };
                let data =
                    tokio::task::spawn_blocking(move || DataSet::generate_at(seed, calls, anchor))
                        .await
                        .map_err(|_| Error::Generate)?;
                Arc::new(data)
            }
        };
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .map_err(|source| Error::Bind {
                addr: self.addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: self.addr,
            source,
        })?;
        let state = Arc::new(server::AppState {
            data,
            credentials: self.credentials.clone(),
            tokens: auth::Tokens::new(),
            faults: Mutex::new(faults::FaultState::new(self.faults)),
            load: server::Load::default(),
            clock: self.clock.clone(),
        });
        let (stop, stopped) = oneshot::channel();
        let router = server::router(state.clone());
        let task = tokio::spawn(server::serve(listener, router, stopped, SHUTDOWN_GRACE));
        // On an unspecified address (0.0.0.0, ::) the sandbox is reachable on loopback too.
        let url_addr = match addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => {
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
            }
            IpAddr::V6(ip) if ip.is_unspecified() => {
                SocketAddr::new(IpAddr::V6(std::net::Ipv6Addr::LOCALHOST), addr.port())
            }
            _ => addr,
        };
        Ok(Sandbox {
            base_url: format!("http://{url_addr}"),
            addr,
            state,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

/// A running sandbox server. Dropping it stops the server (open requests may finish);
/// [`Sandbox::shutdown`] stops it and waits.
#[derive(Debug)]
pub struct Sandbox {
    base_url: String,
    addr: SocketAddr,
    state: Arc<server::AppState>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Starts configuring a sandbox.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// The base URL to give a client, e.g. `http://127.0.0.1:40123` (on loopback when the
    /// sandbox listens on all addresses).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The address the sandbox listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The credentials the sandbox accepts.
    pub fn credentials(&self) -> &Credentials {
        &self.state.credentials
    }

    /// The data set it serves.
    pub fn data(&self) -> &Arc<DataSet> {
        &self.state.data
    }

    /// The clock of a live sandbox (`None`: frozen): tests set and advance it
    /// ([`Clock::set`], [`Clock::advance`]), the server answers at its reading.
    pub fn clock(&self) -> Option<&Clock> {
        self.state.clock.as_ref()
    }

    /// Issues a token directly, as `tokenByAkSk` would, valid for `lifetime` (faults do not
    /// apply). Handy in tests and for an in-process client.
    pub fn issue_token(&self, lifetime: Duration) -> Secret {
        self.state.tokens.issue(lifetime)
    }

    /// A client of this sandbox: [`client_builder`](Self::client_builder), built (the
    /// client's default timeouts and retries).
    pub fn client(&self) -> Result<ccsqm_client::Client, ccsqm_client::BuildError> {
        self.client_builder().build()
    }

    /// A client builder set up for this sandbox: its base URL, a fresh token valid for an hour,
    /// its operator ID; the rest is the caller's to set, e.g. fast retries in a test:
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    /// use ccsqm_client::RetryPolicy;
    ///
    /// let sandbox = ccsqm_sandbox::Sandbox::builder().calls(20).start().await.unwrap();
    /// let client = sandbox
    ///     .client_builder()
    ///     .retry(RetryPolicy {
    ///         initial_backoff: Duration::from_millis(1),
    ///         ..RetryPolicy::default()
    ///     })
    ///     .build()
    ///     .unwrap();
    /// # let _ = client;
    /// # }
    /// ```
    pub fn client_builder(&self) -> ccsqm_client::ClientBuilder {
        ccsqm_client::Client::builder(&self.base_url)
            .bearer_token(self.issue_token(Duration::from_secs(MAX_TOKEN_LIFETIME)))
            .user_id(self.state.credentials.user_id.as_str())
    }

    /// How many requests the sandbox has answered 429 because it was at capacity
    /// ([`Faults::max_in_flight`]), since it started.
    pub fn throttled(&self) -> u64 {
        self.state.load.throttled()
    }

    /// The most requests it has been answering at a time, since it started (requests answered
    /// 429 at capacity do not count).
    pub fn peak_in_flight(&self) -> usize {
        self.state.load.peak()
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.state
            .faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .faults
    }

    /// Replaces the faults in force (their generator restarts from their seed).
    pub fn set_faults(&self, faults: Faults) -> Result<(), Error> {
        faults.check().map_err(Error::Faults)?;
        *self.state.faults.lock().unwrap_or_else(|e| e.into_inner()) =
            faults::FaultState::new(faults);
        Ok(())
    }

    /// Stops accepting connections, lets open requests finish (for at most 5 seconds), and
    /// returns when the server has stopped.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
