//! A service that keeps its own database up to date with a CCSQM tenant's calls, embedding
//! `ccsqm-config` (settings) and `ccsqm-sync` (the engine). See the README.

use std::time::Duration;

use ccsqm_config::Overrides;
use ccsqm_sync::{Backoff, CancellationToken, DbUrl, Observer, Options, Outcome, Syncer};

/// Why the service cannot start or go on.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The settings (missing, or a file that cannot be used).
    #[error(transparent)]
    Settings(#[from] ccsqm_config::Error),
    /// The client could not be built from them.
    #[error("the client: {0}")]
    Client(String),
    /// The database's URL.
    #[error(transparent)]
    Url(#[from] ccsqm_sync::UrlError),
    /// The sync: a failure no retry mends, or a round's when asked for one.
    #[error(transparent)]
    Sync(#[from] ccsqm_sync::Error),
}

/// The service: a client, a database kept in sync, and how.
pub struct Service {
    client: ccsqm_client::Client,
    syncer: Syncer,
    options: Options,
}

/// What the engine says, as `tracing` events (target `sync_service`).
struct Log;

impl Observer for Log {
    fn warning(&self, text: &str) {
        tracing::warn!(target: "sync_service", "{text}");
    }

    fn note(&self, text: &str) {
        tracing::info!(target: "sync_service", "{text}");
    }

    /// What the server sent that the spec does not describe: an alert for whoever maintains
    /// `spec/ccsqm.yaml` (the calls were stored, their unknown keys in `unknown_fields`).
    fn drift(&self, drift: &ccsqm_client::Drift) {
        tracing::warn!(target: "sync_service", %drift, "the API sent what the spec does not describe");
    }
}

impl Service {
    /// The settings `overrides` and the config file give, a client that retries as `retry`
    /// says, and the database at `db` (tables created or migrated, locked for this service).
    pub async fn connect(
        overrides: &Overrides,
        db: &str,
        options: Options,
        retry: ccsqm_client::RetryPolicy,
    ) -> Result<Service, ServiceError> {
        let settings = ccsqm_config::resolve(overrides)?;
        for warning in &settings.warnings {
            tracing::warn!(target: "sync_service", "{warning}");
        }
        let client = settings
            .client_builder()
            .map_err(ccsqm_config::Error::from)?
            .retry(retry)
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ServiceError::Client(e.to_string()))?;
        let syncer = Syncer::open(DbUrl::parse(db)?, &Log).await?;
        Ok(Service {
            client,
            syncer,
            options,
        })
    }

    /// One round, now: what it did, or why it failed.
    pub async fn tick(&mut self, cancel: &CancellationToken) -> Result<Outcome, ccsqm_sync::Error> {
        let outcome = self
            .syncer
            .round(&self.client, &self.options, &Log, cancel)
            .await?;
        tracing::info!(target: "sync_service", "{}", outcome.summary);
        // Calls stored but some transcripts not fetched (tried again by later rounds): said,
        // never counted as a clean round by a caller that only looks at `Ok`.
        if let Some(missing) = outcome.error() {
            tracing::warn!(target: "sync_service", "{missing}");
        }
        Ok(outcome)
    }

    /// A round every `every` until `cancel` (then `Ok` with the rounds that succeeded); a
    /// failed round is logged and tried again as [`Backoff`] says, unless no retry can mend
    /// it.
    pub async fn run(
        &mut self,
        every: Duration,
        cancel: &CancellationToken,
    ) -> Result<u64, ServiceError> {
        let mut backoff = Backoff::new(Some(i64::try_from(every.as_secs()).unwrap_or(1).max(1)));
        let mut rounds = 0;
        loop {
            let pause = match self.tick(cancel).await {
                Ok(_) => {
                    rounds += 1;
                    every
                        .min(backoff.succeeded())
                        .max(Duration::from_millis(10))
                }
                Err(ccsqm_sync::Error::Cancelled) => return Ok(rounds),
                Err(error) if error.is_final() => return Err(error.into()),
                Err(error) => {
                    let pause = backoff.failed().min(every.max(Duration::from_millis(10)));
                    tracing::warn!(target: "sync_service", "round failed: {error}; again in {pause:?}");
                    pause
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = cancel.cancelled() => return Ok(rounds),
            }
        }
    }
}
