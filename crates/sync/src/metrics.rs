//! Metrics of a sync for Prometheus (feature `metrics`): [`Metrics`] records the rounds of a
//! [`Syncer`] in a [`prometheus_client`] registry, and [`serve`] answers `/metrics` (the text
//! format, OpenMetrics), `/healthz` and `/readyz` over HTTP until its token is cancelled.
//!
//! The metrics, each named `ccsqm_sync_…`:
//!
//! | metric | type | what |
//! |---|---|---|
//! | `calls_stored` | gauge | the rows of the `calls` table, after the last round that could count them |
//! | `rounds_total{outcome}` | counter | rounds by outcome: `succeeded`, `transcripts_missing` (calls stored, some transcripts not), `failed` |
//! | `last_success_timestamp_seconds` | gauge | when the last successful round ended (Unix seconds) |
//! | `lag_seconds` | gauge | how far the checkpoint is behind the server's clock, now (absent until a round succeeded) |
//! | `calls_in_progress` | gauge | calls still in progress within the horizon (read again by each round) |
//! | `transcripts_missing` | gauge | transcripts not fetched yet, of calls within the horizon |
//! | `request_retries_total` | counter | requests sent again after a failure (the client's retries) |
//! | `round_duration_seconds` | histogram | how long rounds took, failed ones included |
//! | `calls_read_total{change}` | counter | calls read, by what they did to the database: `inserted`, `updated`, `unchanged` |
//! | `warnings_total` | counter | warnings said to the observer |
//!
//! One tenant per [`Metrics`]: several syncs in one process register theirs in sub-registries
//! that add a label, e.g. `registry.sub_registry_with_label(("tenant".into(), name.into()))`;
//! the metrics carry no tenant label of their own.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ccsqm_client::Client;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};
use tokio_util::sync::CancellationToken;

use crate::{Observer, Options, Outcome, Result, Syncer};

/// The prefix of every metric's name.
pub const PREFIX: &str = "ccsqm_sync";

/// The media type of [`encode`]'s text: OpenMetrics 1.0, which Prometheus asks for.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The media type of [`encode_classic`]'s text: Prometheus' text format 0.0.4, for the clients
/// that do not ask for OpenMetrics (`curl`, `promtool check metrics`).
pub const CLASSIC_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChangeLabel {
    change: &'static str,
}

/// The metrics of one sync's rounds: cheap to clone (each clone records into the same
/// metrics). Record a round with [`Metrics::round`] (or [`Metrics::round_started`] and
/// [`Metrics::round_ended`] around [`Syncer::round`]).
#[derive(Clone, Debug)]
pub struct Metrics(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    calls_stored: Gauge,
    rounds: Family<OutcomeLabel, Counter>,
    last_success: Gauge<f64, std::sync::atomic::AtomicU64>,
    in_progress: Gauge,
    transcripts_missing: Gauge,
    retries: Counter,
    duration: Histogram,
    calls: Family<ChangeLabel, Counter>,
    warnings: Counter,
    state: Mutex<State>,
}

#[derive(Clone, Copy, Debug)]
struct Success {
    started: Instant,
    ended: Instant,
    behind: i64,
}

#[derive(Debug, Default)]
struct State {
    /// When the current round started.
    started: Option<Instant>,
    /// The last successful round: when it started and ended, and how far its checkpoint was
    /// behind the server's clock when it started (seconds).
    success: Option<Success>,
    /// The client's retries counted so far.
    retries_seen: u64,
    /// Whether `calls_stored` is the table's rows (counted, then grown by the rounds'
    /// inserts: only the sync holding the lock writes), or unknown since a round failed (it
    /// may have committed pages): counted again after the next successful round.
    stored_exact: bool,
}

impl Metrics {
    /// Metrics registered in `registry` (under [`PREFIX`]).
    pub fn new(registry: &mut Registry) -> Metrics {
        let inner = Arc::new(Inner {
            calls_stored: Gauge::default(),
            rounds: Family::default(),
            last_success: Gauge::default(),
            in_progress: Gauge::default(),
            transcripts_missing: Gauge::default(),
            retries: Counter::default(),
            // 0.1 s to about 14 minutes.
            duration: Histogram::new(exponential_buckets(0.1, 2.0, 14)),
            calls: Family::default(),
            warnings: Counter::default(),
            state: Mutex::new(State::default()),
        });
        // Every outcome and change from the start: a rate over a series that appears late
        // misses its first increase.
        for outcome in ["succeeded", "transcripts_missing", "failed"] {
            let _ = inner.rounds.get_or_create(&OutcomeLabel { outcome });
        }
        for change in ["inserted", "updated", "unchanged"] {
            let _ = inner.calls.get_or_create(&ChangeLabel { change });
        }
        let r = registry.sub_registry_with_prefix(PREFIX);
        r.register(
            "calls_stored",
            "Rows of the calls table, after the last round that could count them",
            inner.calls_stored.clone(),
        );
        r.register(
            "rounds",
            "Rounds by outcome (succeeded; transcripts_missing: calls stored, some transcripts not; failed)",
            inner.rounds.clone(),
        );
        r.register_with_unit(
            "last_success_timestamp",
            "When the last successful round ended (Unix time)",
            Unit::Seconds,
            inner.last_success.clone(),
        );
        r.register(
            "calls_in_progress",
            "Calls still in progress within the horizon (read again by each round)",
            inner.in_progress.clone(),
        );
        r.register(
            "transcripts_missing",
            "Transcripts not fetched yet, of calls within the horizon",
            inner.transcripts_missing.clone(),
        );
        r.register(
            "request_retries",
            "Requests sent again after a failure (the client's retries)",
            inner.retries.clone(),
        );
        r.register_with_unit(
            "round_duration",
            "How long rounds took, failed ones included",
            Unit::Seconds,
            inner.duration.clone(),
        );
        r.register(
            "calls_read",
            "Calls read, by what they did to the database",
            inner.calls.clone(),
        );
        r.register(
            "warnings",
            "Warnings of the rounds (paging, values stored in another form, clocks)",
            inner.warnings.clone(),
        );
        r.register_collector(Box::new(Lag(inner.clone())));
        Metrics(inner)
    }

    /// One round of `syncer` (as [`Syncer::round`]), recorded: its outcome, duration and
    /// counts, the rows of `calls` after it, the client's retries. Warnings said to
    /// `observer` are counted too.
    pub async fn round(
        &self,
        syncer: &mut Syncer,
        client: &Client,
        options: &Options,
        observer: &dyn Observer,
        cancel: &CancellationToken,
    ) -> Result<Outcome> {
        self.round_started();
        let counted = Counted {
            metrics: self,
            inner: observer,
        };
        let result = syncer.round(client, options, &counted, cancel).await;
        // The rows: the last count plus the round's inserts (no count of a large table after
        // every round), or counted on the round's connection (closed after a failure) when
        // the last count is not exact; a count that fails leaves the last one.
        let exact = self.state().stored_exact.then(|| self.0.calls_stored.get());
        let stored = match (&result, exact) {
            (Ok(outcome), Some(before)) => Some(before + outcome.counts.inserted),
            (Ok(_), None) => syncer.stored_calls().await.ok().flatten(),
            (Err(_), _) => None,
        };
        self.round_ended(&result, stored, client.session().retries());
        result
    }

    /// The rows of `calls` as counted outside a round ([`Syncer::stored_calls`] when the
    /// database was opened: the metric tells them before the first round ends).
    pub fn calls_stored(&self, stored: i64) {
        self.0.calls_stored.set(stored);
        self.state().stored_exact = true;
    }

    /// A round starts (its duration is measured from here).
    pub fn round_started(&self) {
        self.state().started = Some(Instant::now());
    }

    /// A round ended with `result`; `stored`: the rows of `calls` after it, when counted;
    /// `retries`: the client's retries so far ([`ccsqm_client::Session::retries`]).
    pub fn round_ended(&self, result: &Result<Outcome>, stored: Option<i64>, retries: u64) {
        let m = &self.0;
        let mut state = self.state();
        let started = state.started.take();
        if let Some(started) = started {
            m.duration.observe(started.elapsed().as_secs_f64());
        }
        m.retries.inc_by(retries.saturating_sub(state.retries_seen));
        state.retries_seen = state.retries_seen.max(retries);
        if let Some(stored) = stored {
            m.calls_stored.set(stored);
        }
        state.stored_exact = stored.is_some() && result.is_ok();
        let outcome = match result {
            Ok(outcome) => {
                let counts = &outcome.counts;
                for (change, n) in [
                    ("inserted", counts.inserted),
                    ("updated", counts.updated),
                    ("unchanged", counts.unchanged),
                ] {
                    m.calls
                        .get_or_create(&ChangeLabel { change })
                        .inc_by(u64::try_from(n).unwrap_or(0));
                }
                m.in_progress.set(outcome.in_progress);
                m.transcripts_missing.set(outcome.transcripts_missing);
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64());
                m.last_success.set(now);
                let behind = outcome.bound.saturating_sub(outcome.checkpoint).max(0);
                let ended = Instant::now();
                state.success = Some(Success {
                    started: started.unwrap_or(ended),
                    ended,
                    behind,
                });
                match outcome.missing_transcripts {
                    Some(_) => "transcripts_missing",
                    None => "succeeded",
                }
            }
            Err(_) => "failed",
        };
        m.rounds.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    /// Whether the last successful round ended within `within`: `/readyz`. A round that
    /// left transcripts missing counts as succeeded here (its calls are stored; the metric
    /// `transcripts_missing` tells the rest).
    pub fn ready(&self, within: Duration) -> std::result::Result<(), String> {
        match self.state().success {
            Some(s) if s.ended.elapsed() <= within => Ok(()),
            Some(s) => Err(format!(
                "the last successful round ended {} s ago (more than {} s)",
                s.ended.elapsed().as_secs(),
                within.as_secs()
            )),
            None => Err("no round has succeeded yet".to_owned()),
        }
    }

    /// The checkpoint's lag behind the server's clock now, in seconds: its lag when the last
    /// successful round started, plus the time since (`None` before any).
    pub fn lag(&self) -> Option<f64> {
        self.state()
            .success
            .map(|s| s.behind as f64 + s.started.elapsed().as_secs_f64())
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere while holding it leaves plain numbers: still usable.
        self.0.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The lag, computed at each scrape.
#[derive(Debug)]
struct Lag(Arc<Inner>);

impl Collector for Lag {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::result::Result<(), std::fmt::Error> {
        let Some(lag) = Metrics(self.0.clone()).lag() else {
            return Ok(());
        };
        let gauge = ConstGauge::new(lag);
        let metric = encoder.encode_descriptor(
            "lag",
            "How far the checkpoint is behind the server's clock now (absent until a round succeeded)",
            Some(&Unit::Seconds),
            gauge.metric_type(),
        )?;
        gauge.encode(metric)
    }
}

/// The observer of a recorded round: counts warnings, passes everything on.
struct Counted<'a> {
    metrics: &'a Metrics,
    inner: &'a dyn Observer,
}

impl Observer for Counted<'_> {
    fn progress(&self, received: u64, total: Option<u64>, concurrency: usize) {
        self.inner.progress(received, total, concurrency);
    }

    fn warning(&self, text: &str) {
        self.metrics.0.warnings.inc();
        self.inner.warning(text);
    }

    fn note(&self, text: &str) {
        self.inner.note(text);
    }

    fn drift(&self, drift: &ccsqm_client::Drift) {
        self.inner.drift(drift);
    }
}

/// The registry's metrics in the text format ([`CONTENT_TYPE`]).
pub fn encode(registry: &Registry) -> String {
    let mut text = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut text, registry);
    text
}

/// The registry's metrics in Prometheus' text format 0.0.4 ([`CLASSIC_CONTENT_TYPE`]): the
/// encoder's OpenMetrics text with the two differences that format has: a counter's `HELP` and
/// `TYPE` name its samples' name (with `_total`), and there are no `# UNIT` and `# EOF` lines.
/// The samples are the encoder's, unchanged.
pub fn encode_classic(registry: &Registry) -> String {
    classic(&encode(registry))
}

fn classic(open_metrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = open_metrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut text = String::with_capacity(open_metrics.len() + 16 * counters.len());
    for line in open_metrics.lines() {
        if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        }
        let comment = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|p| line.strip_prefix(p).map(|rest| (p, rest)));
        match comment {
            Some((prefix, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                text.push_str(prefix);
                text.push_str(name);
                if counters.contains(name) {
                    text.push_str("_total");
                }
                if !tail.is_empty() || rest.contains(' ') {
                    text.push(' ');
                    text.push_str(tail);
                }
            }
            None => text.push_str(line),
        }
        text.push('\n');
    }
    text
}

/// Whether an `Accept` header asks for OpenMetrics (as Prometheus does).
fn wants_open_metrics(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.contains("application/openmetrics-text"))
}

/// What [`serve`] answers.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// The metrics of `/metrics`.
    pub registry: Arc<Registry>,
    /// The sync whose rounds `/readyz` tells.
    pub metrics: Metrics,
    /// `/readyz` is ready while the last successful round ended within this (`ccsqm sync
    /// --watch`: twice the interval, at least a minute).
    pub ready_within: Duration,
}

/// Serves `endpoint` on `listener` until `cancel` is cancelled: `GET /metrics` (OpenMetrics
/// to a client whose `Accept` asks for it, as Prometheus does, else the text format 0.0.4),
/// `/healthz` (200 while the process answers) and `/readyz` (200 while a round
/// succeeded within [`Endpoint::ready_within`], else 503 and why); anything else is 404.
pub async fn serve(
    listener: tokio::net::TcpListener,
    endpoint: Endpoint,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    use axum::http::{header, StatusCode};
    use axum::routing::get;
    let endpoint = Arc::new(endpoint);
    let (for_metrics, for_ready) = (endpoint.clone(), endpoint);
    let router = axum::Router::new()
        .route(
            "/metrics",
            get(move |headers: axum::http::HeaderMap| async move {
                let accept = headers.get(header::ACCEPT).and_then(|a| a.to_str().ok());
                match wants_open_metrics(accept) {
                    true => (
                        [(header::CONTENT_TYPE, CONTENT_TYPE)],
                        encode(&for_metrics.registry),
                    ),
                    false => (
                        [(header::CONTENT_TYPE, CLASSIC_CONTENT_TYPE)],
                        encode_classic(&for_metrics.registry),
                    ),
                }
            }),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(move || async move {
                match for_ready.metrics.ready(for_ready.ready_within) {
                    Ok(()) => (StatusCode::OK, "ready\n".to_owned()),
                    Err(why) => (
                        StatusCode::SERVICE_UNAVAILABLE,
                        format!("not ready: {why}\n"),
                    ),
                }
            }),
        );
    axum::serve(listener, router)
        .with_graceful_shutdown(cancel.cancelled_owned())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    fn outcome(missing: bool) -> Outcome {
        Outcome {
            summary: String::new(),
            counts: crate::Counts {
                inserted: 3,
                updated: 1,
                ..Default::default()
            },
            missing_transcripts: missing.then_some((2, ccsqm_client::ErrorKind::Server)),
            bound: 1_000,
            checkpoint: 1_000,
            in_progress: 4,
            transcripts_missing: 2,
        }
    }

    #[test]
    fn rounds_are_recorded_and_encoded() {
        let mut registry = Registry::default();
        let metrics = Metrics::new(&mut registry);
        let text = encode(&registry);
        assert!(!text.contains("ccsqm_sync_lag_seconds"), "{text}");
        assert!(metrics.ready(Duration::from_secs(60)).is_err());
        metrics.round_started();
        metrics.round_ended(&Ok(outcome(false)), Some(42), 2);
        metrics.round_started();
        metrics.round_ended(&Err(Error::Reader), None, 5);
        metrics.round_started();
        metrics.round_ended(&Ok(outcome(true)), None, 5);
        let text = encode(&registry);
        for line in [
            "ccsqm_sync_calls_stored 42",
            "ccsqm_sync_rounds_total{outcome=\"succeeded\"} 1",
            "ccsqm_sync_rounds_total{outcome=\"failed\"} 1",
            "ccsqm_sync_rounds_total{outcome=\"transcripts_missing\"} 1",
            "ccsqm_sync_request_retries_total 5",
            "ccsqm_sync_calls_read_total{change=\"inserted\"} 6",
            "ccsqm_sync_calls_in_progress 4",
            "ccsqm_sync_transcripts_missing 2",
            "ccsqm_sync_round_duration_seconds_count 3",
            "# TYPE ccsqm_sync_lag_seconds gauge",
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
        assert!(metrics.ready(Duration::from_secs(60)).is_ok());
        assert!(metrics.lag().is_some_and(|l| l < 5.0));
    }

    #[test]
    fn the_classic_format_names_counters_with_their_samples() {
        let open = "# HELP a_rounds Rounds.\n# TYPE a_rounds counter\na_rounds_total{x=\"1\"} 2\n\
                    # HELP a_lag_seconds Lag.\n# TYPE a_lag_seconds gauge\n# UNIT a_lag_seconds \
                    seconds\na_lag_seconds 3.5\n# EOF\n";
        assert_eq!(
            classic(open),
            "# HELP a_rounds_total Rounds.\n# TYPE a_rounds_total counter\n\
             a_rounds_total{x=\"1\"} 2\n# HELP a_lag_seconds Lag.\n# TYPE a_lag_seconds gauge\n\
             a_lag_seconds 3.5\n"
        );
        assert!(wants_open_metrics(Some(
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
        )));
        assert!(!wants_open_metrics(Some("*/*")));
        assert!(!wants_open_metrics(None));
    }

    #[test]
    fn the_lag_is_the_checkpoints_lag_at_the_start_plus_the_time_since() {
        let mut registry = Registry::default();
        let metrics = Metrics::new(&mut registry);
        metrics.round_started();
        // A server's clock behind the checkpoint: the checkpoint stayed 30 s ahead of the
        // bound, the lag is not negative.
        let mut ahead = outcome(false);
        ahead.checkpoint = ahead.bound + 30;
        metrics.round_ended(&Ok(ahead), None, 0);
        assert!(metrics.lag().is_some_and(|l| (0.0..5.0).contains(&l)));
        metrics.round_started();
        let mut behind = outcome(false);
        behind.checkpoint = behind.bound - 600;
        metrics.round_ended(&Ok(behind), None, 0);
        assert!(metrics.lag().is_some_and(|l| (600.0..605.0).contains(&l)));
        // A failed round leaves the lag of the last success, growing.
        metrics.round_started();
        metrics.round_ended(&Err(Error::Reader), None, 0);
        assert!(metrics.lag().is_some_and(|l| l >= 600.0));
        assert!(metrics.ready(Duration::from_secs(60)).is_ok());
    }

    #[test]
    fn a_tenant_label_can_be_added_by_a_sub_registry() {
        let mut registry = Registry::default();
        let tenant = registry.sub_registry_with_label(("tenant".into(), "north".into()));
        let metrics = Metrics::new(tenant);
        metrics.round_started();
        metrics.round_ended(&Ok(outcome(false)), Some(7), 0);
        let text = encode(&registry);
        assert!(
            text.contains("ccsqm_sync_calls_stored{tenant=\"north\"} 7"),
            "{text}"
        );
        assert!(
            text.contains("ccsqm_sync_lag_seconds{tenant=\"north\"}"),
            "{text}"
        );
    }
}
