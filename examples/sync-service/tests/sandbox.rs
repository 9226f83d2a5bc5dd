//! The service against an in-process live sandbox (calls arriving and inspections moving as its
//! clock, moved by the test, goes) with injected faults: after its rounds the database holds
//! every call the sandbox has at the last reading, once; a run stops at its token.

use std::collections::BTreeSet;
use std::time::Duration;

use ccsqm_config::{Given, Origin, Overrides};
use ccsqm_sandbox::{Anchor, Clock, Faults, Sandbox};
use ccsqm_sync::{CancellationToken, Options};
use ccsqm_sync_service_example::Service;

/// The sandbox's address and credentials, and an empty config file (none of this machine's).
fn overrides(sandbox: &Sandbox, dir: &std::path::Path) -> Overrides {
    let config = dir.join("config.toml");
    std::fs::write(&config, "").unwrap();
    let credentials = sandbox.credentials();
    let given = |value: &str, name| Some(Given::new(value.to_owned(), Origin::Flag(name)));
    Overrides {
        base_url: given(sandbox.base_url(), "base_url"),
        user_id: given(&credentials.user_id, "user_id"),
        app_key: given(&credentials.app_key, "app_key"),
        app_secret: Some(credentials.app_secret.clone()),
        config_file: Some(Given::new(config, Origin::Flag("config"))),
        ..Overrides::default()
    }
}

fn fast_retries() -> ccsqm_client::RetryPolicy {
    ccsqm_client::RetryPolicy {
        max_retries: 8,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
        max_elapsed: Duration::from_secs(20),
    }
}

/// The calls the sandbox has at its clock's reading.
fn sandbox_calls(sandbox: &Sandbox) -> BTreeSet<String> {
    let now = sandbox.clock().unwrap().now();
    let data = sandbox.data();
    (0..data.len())
        .filter_map(|i| data.call_at(i, now)?.call_uuid)
        .collect()
}

fn stored_calls(path: &std::path::Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut statement = conn.prepare("SELECT call_uuid FROM calls").unwrap();
    statement
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rounds_through_faults_keep_every_call_once() {
    let anchor = Anchor::from_ymd(2024, 3, 1).unwrap();
    let clock = Clock::manual(anchor.end_time() - 36 * 3600);
    let faults = Faults {
        error_rate: 0.10,
        error_statuses: "502,503".parse().unwrap(),
        drop_rate: 0.05,
        seed: 5,
        ..Faults::none()
    };
    let sandbox = Sandbox::builder()
        .calls(2_000)
        .seed(3)
        .anchor(anchor)
        .faults(faults)
        .live(clock.clone())
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("service.sqlite3");
    let db = format!("sqlite:{}", path.display());
    let options = Options {
        overlap: 1,
        horizon: 86_400,
        limit: 50,
        ..Options::default()
    };
    let mut service = Service::connect(
        &overrides(&sandbox, dir.path()),
        &db,
        options,
        fast_retries(),
    )
    .await
    .unwrap();
    let cancel = CancellationToken::new();
    let mut failed = 0;
    for _ in 0..4 {
        clock.advance(Duration::from_secs(4 * 3600));
        // A round the faults break (retries used up) is tried again, as `run` would.
        let mut tries = 0;
        loop {
            tries += 1;
            match service.tick(&cancel).await {
                Ok(_) => break,
                Err(error) if !error.is_final() && tries < 20 => failed += 1,
                Err(error) => panic!("round failed for good: {error}"),
            }
        }
    }
    let stored = stored_calls(&path);
    let unique: BTreeSet<String> = stored.iter().cloned().collect();
    assert_eq!(stored.len(), unique.len(), "a call stored twice");
    let expected = sandbox_calls(&sandbox);
    assert!(
        !expected.is_empty(),
        "the sandbox has no call yet: the test tests nothing"
    );
    assert_eq!(unique, expected, "after {failed} failed round(s)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_stops_at_its_token() {
    let sandbox = Sandbox::builder().calls(200).seed(9).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("run.sqlite3").display());
    let mut service = Service::connect(
        &overrides(&sandbox, dir.path()),
        &db,
        Options::default(),
        fast_retries(),
    )
    .await
    .unwrap();
    let cancel = CancellationToken::new();
    let stopper = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        stopper.cancel();
    });
    let rounds = tokio::time::timeout(
        Duration::from_secs(60),
        service.run(Duration::from_millis(200), &cancel),
    )
    .await
    .expect("run ends at its token")
    .unwrap();
    assert!(rounds >= 2, "{rounds} round(s) in 1.5 s at 200 ms");
    assert_eq!(
        stored_calls(&dir.path().join("run.sqlite3")).len(),
        sandbox.data().len(),
        "every call of a static sandbox"
    );
}
