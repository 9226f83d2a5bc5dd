//! Injected faults over real HTTP: error answers, dropped connections, truncated bodies, latency.

mod common;

use std::time::{Duration, Instant};

use ccsqm_sandbox::{Faults, Latency, Sandbox, DETAILS_PATH};
use common::{all, sandbox};

/// What the generated client saw: a status, or how it failed without one.
async fn outcome(client: &ccsqm_client::Client) -> Result<u16, &'static str> {
    use ccsqm_client::Error;
    match client.details().body(all(10)).send().await {
        Ok(r) => Ok(r.status().as_u16()),
        Err(e) => match (e.status(), e) {
            (Some(s), _) => Ok(s.as_u16()),
            (None, Error::CommunicationError(_)) => Err("dropped"),
            (None, Error::ResponseBodyError(_)) => Err("truncated"),
            (None, _) => Err("other"),
        },
    }
}

/// A client that never retries, to see each fault as it is.
fn client(sandbox: &Sandbox) -> ccsqm_client::Client {
    ccsqm_client::Client::builder(sandbox.base_url())
        .bearer_token(sandbox.issue_token(Duration::from_secs(600)))
        .user_id(sandbox.credentials().user_id.as_str())
        .retry(ccsqm_client::RetryPolicy::none())
        .build()
        .unwrap()
}

/// What a plain HTTP client saw: the status, "truncated" (a status, then a body cut short) or
/// "dropped" (no answer).
async fn raw_outcome(sandbox: &Sandbox) -> String {
    let token = sandbox.issue_token(Duration::from_secs(60));
    let sent = reqwest::Client::new()
        .post(format!("{}{DETAILS_PATH}", sandbox.base_url()))
        .header("Authorization", format!("Bearer {}", token.expose()))
        .header("x-UserId", &sandbox.credentials().user_id)
        .json(&all(10))
        .send()
        .await;
    match sent {
        Err(_) => "dropped".to_owned(),
        Ok(response) => {
            let status = response.status().as_u16().to_string();
            match response.bytes().await {
                Ok(_) => status,
                Err(_) => "truncated".to_owned(),
            }
        }
    }
}

fn only(faults: Faults) -> Faults {
    Faults { seed: 9, ..faults }
}

#[tokio::test]
async fn error_answers_rotate_500_502_503() {
    let sandbox = sandbox(20).await;
    let client = client(&sandbox);
    sandbox
        .set_faults(only(Faults {
            error_rate: 1.0,
            ..Faults::none()
        }))
        .unwrap();
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(outcome(&client).await);
    }
    assert_eq!(seen, [Ok(500), Ok(502), Ok(503), Ok(500)]);
    sandbox.set_faults(Faults::none()).unwrap();
    assert_eq!(outcome(&client).await, Ok(200));
}

#[tokio::test]
async fn dropped_connections_answer_nothing() {
    let sandbox = sandbox(20).await;
    let client = client(&sandbox);
    sandbox
        .set_faults(only(Faults {
            drop_rate: 1.0,
            ..Faults::none()
        }))
        .unwrap();
    let started = Instant::now();
    for _ in 0..3 {
        assert_eq!(outcome(&client).await, Err("dropped"));
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a drop is immediate, not a time-out"
    );
    sandbox.set_faults(Faults::none()).unwrap();
    assert_eq!(outcome(&client).await, Ok(200));
}

#[tokio::test]
async fn truncated_bodies_are_cut_in_half() {
    let sandbox = sandbox(20).await;
    let client = client(&sandbox);
    sandbox
        .set_faults(only(Faults {
            truncate_rate: 1.0,
            ..Faults::none()
        }))
        .unwrap();
    // The client sees a failure without a status (how it names it is the client's business).
    assert!(outcome(&client).await.is_err());

    // By hand: a 200 with the full Content-Length, then half the bytes and a closed connection.
    let token = sandbox.issue_token(Duration::from_secs(60));
    let response = reqwest::Client::new()
        .post(format!("{}{DETAILS_PATH}", sandbox.base_url()))
        .header("Authorization", format!("Bearer {}", token.expose()))
        .header("x-UserId", &sandbox.credentials().user_id)
        .json(&all(10))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let announced = response.content_length().unwrap();
    assert!(announced > 1000);
    assert!(response.bytes().await.is_err());
}

#[tokio::test]
async fn latency_fixed_and_range() {
    let sandbox = sandbox(20).await;
    let client = client(&sandbox);
    sandbox
        .set_faults(Faults {
            latency: Latency::Fixed(Duration::from_millis(150)),
            ..Faults::none()
        })
        .unwrap();
    let started = Instant::now();
    assert_eq!(outcome(&client).await, Ok(200));
    assert!(started.elapsed() >= Duration::from_millis(150));

    sandbox
        .set_faults(Faults {
            latency: Latency::Range(Duration::from_millis(20), Duration::from_millis(60)),
            ..Faults::none()
        })
        .unwrap();
    for _ in 0..3 {
        let started = Instant::now();
        assert_eq!(outcome(&client).await, Ok(200));
        assert!(started.elapsed() >= Duration::from_millis(20));
    }
}

#[tokio::test]
async fn mixed_faults_are_deterministic_for_a_seed() {
    let faults = Faults {
        error_rate: 0.3,
        drop_rate: 0.2,
        truncate_rate: 0.2,
        latency: Latency::None,
        seed: 77,
        ..Faults::none()
    };
    let mut runs = Vec::new();
    for _ in 0..2 {
        let sandbox = Sandbox::builder()
            .calls(10)
            .faults(faults)
            .start()
            .await
            .unwrap();
        let mut kinds = Vec::new();
        for _ in 0..30 {
            kinds.push(raw_outcome(&sandbox).await);
        }
        runs.push(kinds);
    }
    assert_eq!(runs[0], runs[1]);
    for kind in ["200", "500", "truncated", "dropped"] {
        assert!(runs[0].iter().any(|k| k == kind), "{kind} in {:?}", runs[0]);
    }
}

#[tokio::test]
async fn invalid_faults_are_refused() {
    let err = Sandbox::builder()
        .calls(0)
        .faults(Faults {
            error_rate: 1.5,
            ..Faults::none()
        })
        .start()
        .await
        .unwrap_err();
    assert!(matches!(err, ccsqm_sandbox::Error::Faults(_)), "{err}");
}

#[tokio::test]
async fn above_its_capacity_it_answers_429_with_retry_after() {
    let sandbox = Sandbox::builder()
        .calls(20)
        .faults(Faults {
            // Long enough that the requests below overlap, whatever the machine's load.
            latency: Latency::Fixed(Duration::from_millis(1500)),
            ..Faults::none()
        })
        .max_in_flight(std::num::NonZeroUsize::new(2).unwrap())
        .start()
        .await
        .unwrap();
    let token = sandbox.issue_token(Duration::from_secs(60));
    let http = reqwest::Client::new();
    let send = || {
        http.post(format!("{}{DETAILS_PATH}", sandbox.base_url()))
            .header("Authorization", format!("Bearer {}", token.expose()))
            .header("x-UserId", &sandbox.credentials().user_id)
            .json(&all(10))
            .send()
    };
    let answers = futures_util::future::join_all((0..5).map(|_| send())).await;
    let mut statuses: Vec<u16> = Vec::new();
    for answer in answers {
        let answer = answer.unwrap();
        if answer.status() == 429 {
            let retry_after = answer.headers().get("retry-after").unwrap();
            assert_eq!(
                retry_after.to_str().unwrap(),
                ccsqm_sandbox::RETRY_AFTER_SECS.to_string()
            );
        }
        statuses.push(answer.status().as_u16());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 429, 429, 429]);
    assert_eq!(sandbox.throttled(), 3);
    assert_eq!(sandbox.peak_in_flight(), 2);
    // The places are free again once answered.
    assert_eq!(send().await.unwrap().status(), 200);
    assert_eq!(sandbox.throttled(), 3);
}
