//! Running a sandbox as a server until Ctrl-C: the flags and the entry point shared by the
//! `ccsqm-sandbox` binary and `ccsqm sandbox`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use crate::{Error, ErrorStatuses, Faults, Latency, Sandbox};

/// Examples for `--help`; `{bin}` is the command's name.
pub const EXAMPLES: &str = "\
Examples:
  {bin} --port 8080
  {bin} --port 8080 --calls 100000 --seed 42
  {bin} --fail-rate 0.1 --drop-rate 0.05 --latency 50..400
  {bin} --fail-rate 0.2 --fail-statuses 502,503,504   # only faults a client retries
  {bin} --max-in-flight 8 --latency 20   # a server that takes 8 requests at a time
  {bin} --bind 0.0.0.0 --allow-non-loopback   # reachable from other machines

Then, in another terminal, with the printed settings:
  export CCSQM_BASE_URL=http://127.0.0.1:8080 CCSQM_USER_ID=sandbox-user \\
         CCSQM_APP_KEY=sandbox-app-key CCSQM_APP_SECRET=sandbox-app-secret
  ccsqm details --all";

/// The examples of `--help`, for the command `bin`.
pub fn examples(bin: &str) -> String {
    EXAMPLES.replace("{bin}", bin)
}

/// Flags of a sandbox run as a server. A local CCSQM server with the real endpoint's behaviour: tokens that expire, every filter of
/// appraisecall/details, paging, grouping, deterministic data, and optional faults.
#[derive(Clone, Debug, clap::Args)]
pub struct ServeArgs {
    /// Port to listen on (0: any free port).
    #[arg(long, default_value_t = 8080, allow_hyphen_values = true)]
    pub port: u16,
    /// Address to listen on; anything but loopback also needs --allow-non-loopback.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,
    /// Allow listening on an address other than loopback.
    #[arg(long)]
    pub allow_non_loopback: bool,
    /// Number of generated calls (the six calls of the vendor's example come on top).
    #[arg(long, default_value_t = crate::DEFAULT_CALLS, allow_hyphen_values = true)]
    pub calls: usize,
    /// Seed of the data set: the same seed and --calls serve the same data.
    #[arg(long, default_value_t = crate::DEFAULT_SEED)]
    pub seed: u64,
    /// App key accepted by tokenByAkSk.
    #[arg(long, default_value = crate::DEFAULT_APP_KEY)]
    pub app_key: String,
    /// App secret accepted by tokenByAkSk.
    #[arg(long, default_value = crate::DEFAULT_APP_SECRET, hide_default_value = true)]
    pub app_secret: String,
    /// Operator ID accepted as x-UserId.
    #[arg(long, default_value = crate::DEFAULT_USER_ID)]
    pub user_id: String,
    /// Share of requests answered with an error status, from --fail-statuses (0 to 1).
    #[arg(long, default_value_t = 0.0, value_name = "RATE", allow_hyphen_values = true, value_parser = rate)]
    pub fail_rate: f64,
    /// The statuses of --fail-rate's answers, used in turn (e.g. 502,503,504: only statuses a
    /// client retries).
    #[arg(long, default_value = "500,502,503", value_name = "STATUS,...")]
    pub fail_statuses: ErrorStatuses,
    /// Share of requests whose connection is closed without an answer (0 to 1).
    #[arg(long, default_value_t = 0.0, value_name = "RATE", allow_hyphen_values = true, value_parser = rate)]
    pub drop_rate: f64,
    /// Share of requests whose body is cut in half (0 to 1).
    #[arg(long, default_value_t = 0.0, value_name = "RATE", allow_hyphen_values = true, value_parser = rate)]
    pub truncate_rate: f64,
    /// Added latency in milliseconds: a fixed `MS`, or a random `MIN..MAX`.
    #[arg(long, value_name = "MS|MIN..MAX", value_parser = parse_latency)]
    pub latency: Option<Latency>,
    /// Seed of the fault generator.
    #[arg(long, default_value_t = 0)]
    pub fault_seed: u64,
    /// Capacity: answer at most N requests at a time; more get 429 with Retry-After: 1.
    #[arg(long, value_name = "N")]
    pub max_in_flight: Option<std::num::NonZeroUsize>,
}

fn rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err("expected a number from 0 to 1".to_owned()),
    }
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

impl ServeArgs {
    /// Checks what clap cannot check flag by flag; the message names the flags. A command
    /// reports it as bad usage, before starting anything.
    pub fn check(&self) -> Result<(), String> {
        if self.fail_rate + self.drop_rate + self.truncate_rate > 1.0 + 1e-9 {
            return Err(format!(
                "--fail-rate, --drop-rate and --truncate-rate add up to more than 1 ({} + {} + {})",
                self.fail_rate, self.drop_rate, self.truncate_rate
            ));
        }
        if let Some(Latency::Range(min, max)) = self.latency {
            if min > max {
                return Err(format!(
                    "--latency {}..{}: the minimum is above the maximum",
                    min.as_millis(),
                    max.as_millis()
                ));
            }
        }
        if !self.bind.is_loopback() && !self.allow_non_loopback {
            return Err(format!(
                "--bind {}: not a loopback address; add --allow-non-loopback to listen there",
                self.bind
            ));
        }
        if self.calls > crate::MAX_CALLS {
            return Err(format!(
                "--calls {}: the sandbox generates at most {}",
                self.calls,
                crate::MAX_CALLS
            ));
        }
        Ok(())
    }

    /// The faults the flags ask for.
    pub fn faults(&self) -> Faults {
        Faults {
            error_rate: self.fail_rate,
            error_statuses: self.fail_statuses,
            drop_rate: self.drop_rate,
            truncate_rate: self.truncate_rate,
            latency: self.latency.unwrap_or_default(),
            seed: self.fault_seed,
            max_in_flight: self.max_in_flight,
        }
    }
}

/// Starts a sandbox as `args` say, prints its base URL and credentials (and the environment
/// that points `ccsqm` at it) on stdout, and serves until Ctrl-C; then lets open requests
/// finish.
pub async fn serve(args: ServeArgs) -> Result<(), Error> {
    let faults = args.faults();
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
        .await?;
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
    println!(
        "To use it: export CCSQM_BASE_URL={} CCSQM_USER_ID={} CCSQM_APP_KEY={} CCSQM_APP_SECRET={}",
        sandbox.base_url(),
        credentials.user_id,
        credentials.app_key,
        credentials.app_secret.expose()
    );
    println!("Press Ctrl-C to stop.");
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("waiting for Ctrl-C: {e}");
    }
    println!("stopping: letting open requests finish");
    sandbox.shutdown().await;
    Ok(())
}
