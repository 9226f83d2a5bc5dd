//! Client overhead: the same page requested N times, one request at a time, through
//! `ccsqm-client` and through a minimal hand-written reqwest + serde request.

use std::time::{Duration, Instant};

use ccsqm_client::types::{AppraisecallDetailsRequest, AppraisecallDetailsResponse};
use ccsqm_client::Client;
use ccsqm_sandbox::{
    DEFAULT_APP_KEY, DEFAULT_APP_SECRET, DEFAULT_USER_ID, DETAILS_PATH, TOKEN_PATH,
};

/// Timings of both sides: one total per round, rounds interleaved (baseline, client, ...).
pub struct Overhead {
    pub requests: u32,
    /// Wall time of each round.
    pub baseline: Vec<Duration>,
    pub client: Vec<Duration>,
    /// CPU time (user + system) of the thread that runs everything on the client side, for
    /// each round: the client's own work, without the server's nor the waiting.
    pub baseline_cpu: Vec<Duration>,
    pub client_cpu: Vec<Duration>,
    /// Calls in the page (the same for both; checked).
    pub calls_per_page: usize,
}

/// Page 1 of `limit` calls, every call type and status: what `ccsqm details --all` asks first.
pub fn request(limit: u64) -> AppraisecallDetailsRequest {
    serde_json::from_value(serde_json::json!({
        "limit": limit, "page": 1,
        "call_types": ccsqm_client::spec::enums::CALL_TYPE.codes().collect::<Vec<_>>(),
        "status": ccsqm_client::spec::enums::INSPECTION_STATUS.codes().collect::<Vec<_>>(),
        "upload_from": null, "upload_to": null
    }))
    .expect("a valid request")
}

/// CPU time (user + system) used so far by the calling thread.
fn thread_cpu() -> Duration {
    // SAFETY: a zeroed rusage is a valid value of this plain C struct; getrusage fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a local.
    unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

fn calls_in(page: &AppraisecallDetailsResponse) -> usize {
    page.data.iter().map(|g| g.calls.len()).sum()
}

/// The baseline: what one would write without the client. A token once, then for each page a
/// POST with the three headers, the body serialized and the answer deserialized by serde into
/// the same generated types, with one reqwest client (connection reuse).
struct Baseline {
    http: reqwest::Client,
    url: String,
    authorization: String,
}

impl Baseline {
    async fn new(base_url: &str) -> Result<Self, String> {
        let http = reqwest::Client::new();
        let token: serde_json::Value = http
            .post(format!("{base_url}{TOKEN_PATH}"))
            .header(
                "X-Token-Expire",
                ccsqm_client::MAX_TOKEN_LIFETIME.as_secs().to_string(),
            )
            .json(&serde_json::json!({
                "app_key": DEFAULT_APP_KEY, "app_secret": DEFAULT_APP_SECRET
            }))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| format!("tokenByAkSk: {e}"))?
            .json()
            .await
            .map_err(|e| format!("tokenByAkSk: {e}"))?;
        let token = token["AccessToken"].as_str().ok_or("no AccessToken")?;
        Ok(Self {
            http,
            url: format!("{base_url}{DETAILS_PATH}"),
            authorization: format!("Bearer {token}"),
        })
    }

    async fn page(&self, request: &AppraisecallDetailsRequest) -> Result<usize, String> {
        let page: AppraisecallDetailsResponse = self
            .http
            .post(&self.url)
            .header("Authorization", &self.authorization)
            .header("x-UserId", DEFAULT_USER_ID)
            .json(request)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        Ok(calls_in(&page))
    }
}

async fn client_page(
    client: &Client,
    request: &AppraisecallDetailsRequest,
) -> Result<usize, String> {
    let page = client
        .details_page(request.clone())
        .await
        .map_err(|e| e.to_string())?;
    Ok(calls_in(&page))
}

/// `rounds` rounds of `requests` sequential requests on each side, interleaved, after a
/// warm-up of each; against the sandbox at `base_url`.
pub fn run(base_url: &str, limit: u64, requests: u32, rounds: u32) -> Result<Overhead, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let request = request(limit);
        let baseline = Baseline::new(base_url).await?;
        // The client as an application would build it: app key and secret (a token obtained
        // once and kept), default retry policy and timeouts.
        let client = Client::builder(base_url)
            .ak_sk(DEFAULT_APP_KEY, DEFAULT_APP_SECRET)
            .user_id(DEFAULT_USER_ID)
            .build()
            .map_err(|e| e.to_string())?;
        let mut calls = (0, 0);
        for _ in 0..requests.min(200) {
            calls.0 = baseline.page(&request).await?;
            calls.1 = client_page(&client, &request).await?;
        }
        if calls.0 != calls.1 || calls.0 == 0 {
            return Err(format!(
                "the two sides read different pages: {} and {} calls",
                calls.0, calls.1
            ));
        }
        let mut result = Overhead {
            requests,
            baseline: Vec::new(),
            client: Vec::new(),
            baseline_cpu: Vec::new(),
            client_cpu: Vec::new(),
            calls_per_page: calls.0,
        };
        for round in 0..rounds {
            // Alternate which side goes first, so that neither always follows the other.
            for side in [round % 2, 1 - round % 2] {
                let started = Instant::now();
                let cpu = thread_cpu();
                for _ in 0..requests {
                    let n = if side == 0 {
                        baseline.page(&request).await?
                    } else {
                        client_page(&client, &request).await?
                    };
                    std::hint::black_box(n);
                }
                let took = started.elapsed();
                let cpu = thread_cpu() - cpu;
                if side == 0 {
                    result.baseline.push(took);
                    result.baseline_cpu.push(cpu);
                } else {
                    result.client.push(took);
                    result.client_cpu.push(cpu);
                }
            }
        }
        Ok(result)
    })
}
