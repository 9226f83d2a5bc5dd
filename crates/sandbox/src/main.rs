//! `ccsqm-sandbox`: runs the sandbox as a server until Ctrl-C.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use ccsqm_sandbox::{Faults, Latency, Sandbox};
use clap::Parser;

const EXAMPLES: &str = "\
Examples:
  ccsqm-sandbox --port 8080
  ccsqm-sandbox --port 8080 --calls 100000 --seed 42
  ccsqm-sandbox --fail-rate 0.1 --drop-rate 0.05 --latency 50..400
  ccsqm-sandbox --bind 0.0.0.0 --allow-non-loopback   # reachable from other machines

Then, with the printed credentials:
  curl -s -X POST http://127.0.0.1:8080/apigovernance/api/oauth/tokenByAkSk \\
    -H 'Content-Type: application/json' \\
    -d '{\"app_key\": \"sandbox-app-key\", \"app_secret\": \"sandbox-app-secret\"}'";

/// A local CCSQM server with the real endpoint's behaviour: tokens that expire, every filter of
/// appraisecall/details, paging, grouping, deterministic data, and optional faults.
#[derive(Debug, Parser)]
#[command(version, after_help = EXAMPLES)]
struct Args {
    /// Port to listen on (0: any free port).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to listen on; anything but loopback also needs --allow-non-loopback.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    bind: IpAddr,
    /// Allow listening on an address other than loopback.
    #[arg(long)]
    allow_non_loopback: bool,
    /// Number of generated calls (the six calls of the vendor's example come on top).
    #[arg(long, default_value_t = ccsqm_sandbox::DEFAULT_CALLS)]
    calls: usize,
    /// Seed of the data set: the same seed and --calls serve the same data.
    #[arg(long, default_value_t = ccsqm_sandbox::DEFAULT_SEED)]
    seed: u64,
    /// App key accepted by tokenByAkSk.
    #[arg(long, default_value = ccsqm_sandbox::DEFAULT_APP_KEY)]
    app_key: String,
    /// App secret accepted by tokenByAkSk.
    #[arg(long, default_value = ccsqm_sandbox::DEFAULT_APP_SECRET, hide_default_value = true)]
    app_secret: String,
    /// Operator ID accepted as x-UserId.
    #[arg(long, default_value = ccsqm_sandbox::DEFAULT_USER_ID)]
    user_id: String,
    /// Share of requests answered with 500, 502 or 503 (0 to 1).
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    fail_rate: f64,
    /// Share of requests whose connection is closed without an answer (0 to 1).
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    drop_rate: f64,
    /// Share of requests whose body is cut in half (0 to 1).
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    truncate_rate: f64,
    /// Added latency in milliseconds: a fixed `MS`, or a random `MIN..MAX`.
    #[arg(long, value_name = "MS|MIN..MAX", value_parser = parse_latency)]
    latency: Option<Latency>,
    /// Seed of the fault generator.
    #[arg(long, default_value_t = 0)]
    fault_seed: u64,
}

fn parse_latency(s: &str) -> Result<Latency, String> {
    let ms = |v: &str| {
        v.trim()
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| format!("{v:?} is not a whole number of milliseconds"))
    };
    match s.split_once("..") {
        Some((min, max)) => Ok(Latency::Range(ms(min)?, ms(max)?)),
        None => Ok(Latency::Fixed(ms(s)?)),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let faults = Faults {
        error_rate: args.fail_rate,
        drop_rate: args.drop_rate,
        truncate_rate: args.truncate_rate,
        latency: args.latency.unwrap_or_default(),
        seed: args.fault_seed,
    };
    let started = Instant::now();
    let sandbox = Sandbox::builder()
        .addr(SocketAddr::new(args.bind, args.port))
        .allow_non_loopback(args.allow_non_loopback)
        .calls(args.calls)
        .seed(args.seed)
        .app_key(args.app_key)
        .app_secret(args.app_secret)
        .user_id(args.user_id)
        .faults(faults)
        .start()
        .await;
    let sandbox = match sandbox {
        Ok(sandbox) => sandbox,
        Err(e) => {
            eprintln!("ccsqm-sandbox: {e}");
            return ExitCode::FAILURE;
        }
    };
    let credentials = sandbox.credentials();
    println!(
        "ccsqm sandbox listening on {} ({})",
        sandbox.base_url(),
        sandbox.addr()
    );
    println!(
        "  data set:   {} calls (seed {}), ready in {} ms",
        sandbox.data().len(),
        sandbox.data().seed(),
        started.elapsed().as_millis()
    );
    println!("  app_key:    {}", credentials.app_key);
    // Printing the sandbox's own secret is the point: it is not a real credential.
    println!("  app_secret: {}", credentials.app_secret.expose());
    println!("  x-UserId:   {}", credentials.user_id);
    if faults != Faults::none() {
        println!("  faults:     {faults:?}");
    }
    println!("Press Ctrl-C to stop.");
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("ccsqm-sandbox: waiting for Ctrl-C: {e}");
    }
    println!("stopping: letting open requests finish");
    sandbox.shutdown().await;
    ExitCode::SUCCESS
}
