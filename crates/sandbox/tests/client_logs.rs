//! The client's logs (#25 item 2): quiet at `info` when every request succeeds (each request at
//! `debug`, target `ccsqm_client::request`, in a span naming its operation); a retry at `info`;
//! a request that failed after its retries at `warn`.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ccsqm_client::{Client, RetryPolicy};
use ccsqm_sandbox::{ErrorStatuses, Faults, Sandbox};
use tracing_subscriber::fmt::MakeWriter;

/// A log kept in memory.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Log {
    type Writer = Log;
    fn make_writer(&'a self) -> Log {
        self.clone()
    }
}

impl Log {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// The lines `run` logs at `filter` (this thread only: the tests run on a current-thread
/// runtime).
async fn logged<F: std::future::Future<Output = ()>>(filter: &str, run: F) -> String {
    let log = Log::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(log.clone())
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_ansi(false)
        .with_target(true)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    run.await;
    log.text()
}

fn client(sandbox: &Sandbox, retries: u32) -> Client {
    Client::builder(sandbox.base_url())
        .bearer_token(sandbox.issue_token(Duration::from_secs(600)))
        .user_id(sandbox.credentials().user_id.as_str())
        .retry(RetryPolicy {
            max_retries: retries,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap()
}

#[tokio::test]
async fn successful_requests_are_quiet_at_info_and_each_at_debug() {
    let sandbox = common::sandbox(30).await;
    let client = client(&sandbox, 0);
    let pages = || async {
        for page in 1..=3 {
            client
                .details_page(common::page(common::all(10), page))
                .await
                .unwrap();
        }
    };
    let info = logged("info", pages()).await;
    assert_eq!(info, "", "nothing at info when every request succeeds");
    let debug = logged("ccsqm_client=debug", pages()).await;
    let requests: Vec<&str> = debug
        .lines()
        .filter(|l| l.contains("ccsqm request"))
        .collect();
    assert_eq!(requests.len(), 3, "{debug}");
    for line in requests {
        assert!(line.contains("DEBUG"), "{line}");
        assert!(line.contains("ccsqm_client::request"), "{line}");
        assert!(
            line.contains("operation=\"appraisecall_details\""),
            "{line}"
        );
        assert!(line.contains("status=200"), "{line}");
    }
}

#[tokio::test]
async fn retries_are_info_and_giving_up_is_a_warning() {
    let sandbox = common::sandbox(10).await;
    sandbox
        .set_faults(Faults {
            error_rate: 1.0,
            error_statuses: ErrorStatuses::new(&[503]).unwrap(),
            ..Faults::none()
        })
        .unwrap();
    let client = client(&sandbox, 2);
    let info = logged("info", async {
        assert!(client.details_page(common::all(10)).await.is_err());
    })
    .await;
    let lines: Vec<&str> = info.lines().collect();
    assert_eq!(
        lines.iter().filter(|l| l.contains("retrying")).count(),
        2,
        "{info}"
    );
    assert!(
        lines
            .iter()
            .filter(|l| l.contains("retrying"))
            .all(|l| l.contains("INFO")),
        "{info}"
    );
    let warnings: Vec<&&str> = lines.iter().filter(|l| l.contains("WARN")).collect();
    assert_eq!(warnings.len(), 1, "{info}");
    assert!(warnings[0].contains("failed after its retries"), "{info}");
    // The three failed attempts, at info.
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("INFO") && l.contains("latency_ms") && l.contains("status=503"))
            .count(),
        3,
        "{info}"
    );
}
