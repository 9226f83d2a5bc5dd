//! The connection flags every command that sends requests takes (`--base-url`, credentials,
//! profile, timeouts, retries, `--sandbox` and its data and faults): a leaf, which the commands
//! and the settings' adapter import, and which imports none of them.

use std::path::PathBuf;

use clap::Args;

/// Where the API is and who calls it. Secrets have no flag of their own (a flag's value is
/// visible to other users of the machine): they come from the environment or a file.
#[derive(Debug, Args)]
#[command(next_help_heading = "Connection")]
pub struct Connection {
    /// Use a built-in sandbox with generated data (no account needed).
    ///
    /// An in-process sandbox, ignoring the address and credential settings (the timeouts and
    /// retries still apply); its address lasts as long as the command.
    #[arg(long)]
    pub sandbox: bool,

    /// The API's base URL, e.g. https://service.besclouds.com:8443 [default: https://{domain}].
    #[arg(long, env = "CCSQM_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,

    /// The deployment's domain name: the base URL is https://{domain}.
    #[arg(
        long,
        hide_short_help = true,
        env = "CCSQM_DOMAIN",
        conflicts_with = "base_url"
    )]
    pub domain: Option<String>,

    /// The token interface's base URL, when it differs from the API's (another port).
    #[arg(
        long,
        hide_short_help = true,
        env = "CCSQM_TOKEN_BASE_URL",
        value_name = "URL"
    )]
    pub token_base_url: Option<String>,

    /// A file holding the Bearer token (else CCSQM_TOKEN).
    #[arg(
        long,
        hide_short_help = true,
        env = "CCSQM_TOKEN_FILE",
        value_name = "PATH"
    )]
    pub token_file: Option<PathBuf>,

    /// The app key: sent as x-app-key, and with the app secret, exchanged for tokens.
    #[arg(long, env = "CCSQM_APP_KEY")]
    pub app_key: Option<String>,

    /// A file holding the app secret (else CCSQM_APP_SECRET).
    #[arg(long, env = "CCSQM_APP_SECRET_FILE", value_name = "PATH")]
    pub app_secret_file: Option<PathBuf>,

    /// The operator ID, sent as x-UserId.
    #[arg(long, env = "CCSQM_USER_ID")]
    pub user_id: Option<String>,

    /// The profile of the config file to use.
    #[arg(long, env = "CCSQM_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,

    /// The config file [default: <config dir>/ccsqm/config.toml].
    #[arg(
        long,
        hide_short_help = true,
        env = "CCSQM_CONFIG",
        value_name = "PATH"
    )]
    pub config: Option<PathBuf>,

    /// Time allowed for each attempt of a request, from sending it to reading the whole
    /// response, in seconds (fractions allowed, at most 86400). A timed-out attempt is retried.
    #[arg(long, hide_short_help = true, env = "CCSQM_TIMEOUT", value_name = "SECONDS", allow_hyphen_values = true,
          value_parser = seconds, default_value_t = ccsqm_client::DEFAULT_TIMEOUT.as_secs_f64())]
    pub timeout: f64,

    /// Time allowed to establish a connection, in seconds (fractions allowed, at most 86400).
    #[arg(long, hide_short_help = true, env = "CCSQM_CONNECT_TIMEOUT", value_name = "SECONDS", allow_hyphen_values = true,
          value_parser = seconds,
          default_value_t = ccsqm_client::DEFAULT_CONNECT_TIMEOUT.as_secs_f64())]
    pub connect_timeout: f64,

    /// How many times a failed request is retried (connection errors, timeouts, 429, 502, 503,
    /// 504; never 400, 401, 404, 500), with exponential backoff: 0 to 100.
    #[arg(long, hide_short_help = true, env = "CCSQM_MAX_RETRIES", value_name = "N", allow_hyphen_values = true,
          value_parser = max_retries, default_value_t = ccsqm_client::RetryPolicy::default().max_retries)]
    pub max_retries: u32,

    /// No retry starts once this many seconds have passed since a request's first attempt
    /// (fractions allowed, at most 86400).
    #[arg(long, hide_short_help = true, env = "CCSQM_MAX_RETRY_TIME", value_name = "SECONDS", allow_hyphen_values = true,
          value_parser = seconds,
          default_value_t = ccsqm_client::RetryPolicy::default().max_elapsed.as_secs_f64())]
    pub max_retry_time: f64,

    /// The largest response body read, e.g. 64MiB, 500KB, 1048576 (bytes); a larger one fails
    /// the request (exit 5).
    #[arg(long, hide_short_help = true, env = "CCSQM_MAX_BODY_SIZE", value_name = "SIZE", allow_hyphen_values = true,
          value_parser = byte_size, default_value = "64MiB")]
    pub max_body_size: u64,

    /// The built-in sandbox's data (with --sandbox).
    #[command(flatten, next_help_heading = "Sandbox (with --sandbox)")]
    pub sandbox_data: ccsqm_sandbox::serve::DataArgs,

    /// The built-in sandbox's faults (with --sandbox).
    #[command(flatten)]
    pub sandbox_faults: ccsqm_sandbox::serve::FaultArgs,
}

impl Connection {
    /// The retry policy the flags ask for (the client's default backoff).
    pub fn retry_policy(&self) -> ccsqm_client::RetryPolicy {
        ccsqm_client::RetryPolicy {
            max_retries: self.max_retries,
            max_elapsed: std::time::Duration::from_secs_f64(self.max_retry_time),
            ..ccsqm_client::RetryPolicy::default()
        }
    }
}

pub fn whole_number(value: &str, min: u64, max: u64, what: &str) -> Result<u64, String> {
    match value.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("expected {what}")),
    }
}

/// The longest time a flag accepts, in seconds (one day): `Duration::from_secs_f64` cannot
/// overflow.
const MAX_SECONDS: f64 = 86_400.0;

fn seconds(value: &str) -> Result<f64, String> {
    match value.trim().parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= MAX_SECONDS => Ok(s),
        _ => Err("expected a number of seconds above 0, at most 86400 (e.g. 2.5)".to_owned()),
    }
}

fn max_retries(value: &str) -> Result<u32, String> {
    whole_number(value, 0, 100, "a whole number from 0 to 100")
        .map(|n| u32::try_from(n).unwrap_or(100))
}

/// `1048576`, `1024KiB`, `64MiB`, `1GiB` (powers of 1024), `500KB`, `2MB` (powers of 1000):
/// 1 byte to 1 TiB.
pub(crate) fn byte_size(value: &str) -> Result<u64, String> {
    let value = value.trim();
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (digits, unit) = value.split_at(split);
    let unit_size: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kib" | "k" => 1 << 10,
        "mib" | "m" => 1 << 20,
        "gib" | "g" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        _ => 0,
    };
    match digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(unit_size))
    {
        Some(n) if (1..=1 << 40).contains(&n) => Ok(n),
        _ => Err("expected a size from 1 byte to 1TiB, e.g. 64MiB, 500KB or 1048576".to_owned()),
    }
}
