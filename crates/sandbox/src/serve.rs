//! Running a sandbox as a server until Ctrl-C: the flags and the entry point shared by the
//! `ccsqm-sandbox` binary and `ccsqm sandbox`. Only with the `server-cli` feature (it needs clap).

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
    /// A file holding the app secret accepted by tokenByAkSk (else the variable
    /// CCSQM_SANDBOX_APP_SECRET, else the default, sandbox-app-secret). A secret has no flag of
    /// its own: a flag's value is visible to other users of the machine.
    #[arg(long, value_name = "PATH")]
    pub app_secret_file: Option<std::path::PathBuf>,
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

/// The variable that holds the sandbox's app secret, when it is not the default.
pub const APP_SECRET_ENV: &str = "CCSQM_SANDBOX_APP_SECRET";

/// Where the app secret came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretSource {
    /// `--app-secret-file`.
    File,
    /// `CCSQM_SANDBOX_APP_SECRET`.
    Environment,
    /// The documented default, `sandbox-app-secret`.
    Default,
}

impl ServeArgs {
    /// The app secret: from `--app-secret-file` (its content without surrounding blanks), else
    /// `CCSQM_SANDBOX_APP_SECRET`, else the default; and where it came from.
    pub fn app_secret(&self) -> Result<(String, SecretSource), String> {
        if let Some(path) = &self.app_secret_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("--app-secret-file {}: {e}", path.display()))?;
            let secret = text.trim();
            if secret.is_empty() {
                return Err(format!(
                    "--app-secret-file {}: the file is empty",
                    path.display()
                ));
            }
            return Ok((secret.to_owned(), SecretSource::File));
        }
        match std::env::var(APP_SECRET_ENV) {
            Ok(secret) if !secret.is_empty() => Ok((secret, SecretSource::Environment)),
            Ok(_) | Err(std::env::VarError::NotPresent) => {
                Ok((crate::DEFAULT_APP_SECRET.to_owned(), SecretSource::Default))
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(format!("{APP_SECRET_ENV} is not valid UTF-8"))
            }
        }
    }

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
        self.app_secret()?;
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
    let (app_secret, secret_source) = args.app_secret().map_err(Error::Config)?;
    let started = Instant::now();
    let sandbox = Sandbox::builder()
        .addr(SocketAddr::new(args.bind, args.port))
        .allow_non_loopback(args.allow_non_loopback)
        .calls(args.calls)
        .seed(args.seed)
        .app_key(args.app_key)
        .app_secret(app_secret)
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
    // Printing the default secret is the point: it is not a credential. One given in a file or
    // the environment is not printed.
    let shown_secret = match secret_source {
        SecretSource::Default => credentials.app_secret.expose().to_owned(),
        SecretSource::File => "(the content of --app-secret-file)".to_owned(),
        SecretSource::Environment => format!("(the value of {APP_SECRET_ENV})"),
    };
    println!("  app_secret: {shown_secret}");
    println!("  x-UserId:   {}", credentials.user_id);
    if faults != Faults::none() {
        println!("  faults:     {faults:?}");
    }
    let exported_secret = match secret_source {
        SecretSource::Default => credentials.app_secret.expose(),
        _ => "<the app secret>",
    };
    println!(
        "To use it: export CCSQM_BASE_URL={} CCSQM_USER_ID={} CCSQM_APP_KEY={} CCSQM_APP_SECRET={}",
        sandbox.base_url(),
        credentials.user_id,
        credentials.app_key,
        exported_secret
    );
    println!("Press Ctrl-C to stop.");
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("waiting for Ctrl-C: {e}");
    }
    println!("stopping: letting open requests finish");
    sandbox.shutdown().await;
    Ok(())
}
