//! Starting and stopping: graceful shutdown in process, the binary, and secrets kept out of
//! `Debug` and output.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ccsqm_sandbox::{Faults, Latency, Sandbox, TOKEN_PATH};
use common::{all, sandbox};

#[tokio::test]
async fn shutdown_lets_open_requests_finish_then_refuses_connections() {
    let sandbox = sandbox(20).await;
    sandbox
        .set_faults(Faults {
            latency: Latency::Fixed(Duration::from_millis(300)),
            ..Faults::none()
        })
        .unwrap();
    let client = sandbox.client().unwrap();
    let url = sandbox.base_url().to_owned();
    let in_flight =
        tokio::spawn(async move { client.details().body(all(10)).send().await.is_ok() });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    sandbox.shutdown().await;
    assert!(in_flight.await.unwrap(), "the open request was answered");
    assert!(started.elapsed() < Duration::from_secs(3));
    let refused = reqwest::Client::new()
        .post(format!("{url}{TOKEN_PATH}"))
        .send()
        .await;
    assert!(refused.is_err(), "no longer listening");
}

#[tokio::test]
async fn debug_shows_no_secret_and_no_token() {
    let sandbox = Sandbox::builder()
        .calls(10)
        .app_secret("very-secret-value")
        .start()
        .await
        .unwrap();
    let token = sandbox.issue_token(Duration::from_secs(60));
    let debug = format!("{sandbox:?}");
    assert!(!debug.contains("very-secret-value"), "{debug}");
    assert!(!debug.contains(token.expose()), "{debug}");
    assert!(debug.len() < 2000, "no dump of the data set: {debug}");
}

/// A child process killed when the test ends, even by a failed assertion (it would otherwise
/// keep the test's output pipes open).
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_binary_prints_its_url_and_credentials_and_stops_on_ctrl_c() {
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_ccsqm-sandbox"))
            .args(["--port", "0", "--calls", "50", "--seed", "9"])
            .args([
                "--anchor",
                "2022-03-01",
                "--fail-rate",
                "0.25",
                "--latency",
                "1..3",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.starts_with("Press Ctrl-C");
        printed.push(line);
        if done {
            break;
        }
    }
    let text = printed.join("\n");
    assert!(text.contains("listening on http://127.0.0.1:"), "{text}");
    assert!(text.contains("56 calls"), "{text}");
    assert!(text.contains("50 generated, from 2021-"), "{text}");
    assert!(text.contains("seed:       9"), "{text}");
    assert!(text.contains("anchor:     2022-03-01"), "{text}");
    assert!(text.contains("sandbox-app-key") && text.contains("sandbox-app-secret"));
    assert!(text.contains("sandbox-user"));
    assert!(
        text.contains("export CCSQM_BASE_URL=http://127.0.0.1:"),
        "{text}"
    );
    assert!(
        text.contains("25 % of requests answered 500, 502 or 503 in turn; 1 to 3 ms"),
        "{text}"
    );
    // For people: no Rust `Debug` output.
    for debug in [
        "{",
        "}",
        "Some(",
        "Faults",
        "FaultConfig",
        "Range(",
        "Fixed(",
    ] {
        assert!(!text.contains(debug), "{debug:?} in the banner: {text}");
    }

    // Ctrl-C: a graceful stop, exit status 0.
    let interrupted = Command::new("kill")
        .args(["-INT", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(child.0.wait().unwrap().success());
    assert!(rest.iter().any(|l| l.starts_with("stopping")), "{rest:?}");
}

#[test]
fn the_binary_refuses_an_anchor_too_early() {
    let refused = Command::new(env!("CARGO_BIN_EXE_ccsqm-sandbox"))
        .args(["--port", "0", "--anchor", "2021-06-01"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("2021-12-15 or later"), "{stderr}");
    assert!(stderr.contains("--anchor"), "{stderr}");
}

#[test]
fn the_binary_refuses_other_addresses_and_shows_examples() {
    let refused = Command::new(env!("CARGO_BIN_EXE_ccsqm-sandbox"))
        .args(["--bind", "0.0.0.0", "--port", "0", "--calls", "0"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("not a loopback address"), "{stderr}");

    let help = Command::new(env!("CARGO_BIN_EXE_ccsqm-sandbox"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for option in [
        "--port",
        "--calls",
        "--seed",
        "--anchor",
        "--fail-rate",
        "--latency",
        "Examples:",
    ] {
        assert!(help.contains(option), "{option} in --help");
    }
}
