//! Runs the example service: `SYNC_DB` (default `calls.sqlite3`) kept in sync every
//! `SYNC_EVERY` seconds (default 300) with the tenant the `CCSQM_*` variables and the config
//! file name, until Ctrl-C.

use std::time::Duration;

use ccsqm_sync::{CancellationToken, Options};
use ccsqm_sync_service_example::Service;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("sync_service=info"))
        .init();
    let db = std::env::var("SYNC_DB").unwrap_or_else(|_| "calls.sqlite3".into());
    let every = std::env::var("SYNC_EVERY")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let cancel = CancellationToken::new();
    let on_ctrl_c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c.cancel();
        }
    });
    let overrides = ccsqm_config::Overrides::from_env();
    let result = async {
        let mut service =
            Service::connect(&overrides, &db, Options::default(), Default::default()).await?;
        service.run(Duration::from_secs(every), &cancel).await
    }
    .await;
    match result {
        Ok(rounds) => {
            tracing::info!(target: "sync_service", "stopped after {rounds} round(s)");
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(target: "sync_service", "{error}");
            std::process::ExitCode::FAILURE
        }
    }
}
