//! Running a sandbox as a server until Ctrl-C: the flags and the entry point shared by the
//! `ccsqm-sandbox` binary and `ccsqm sandbox`. Only with the `server-cli` feature (it needs clap).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use crate::{Anchor, Error, ErrorStatuses, Faults, Latency, Sandbox, SandboxBuilder};

/// Examples for `--help`; `{bin}` is the command's name.
pub const EXAMPLES: &str = "\
Examples:
  {bin} --port 8080
  {bin} --port 8080 --calls 100000 --seed 42
  {bin} --anchor 2024-03-01 --seed 7   # the same calls on any day (the data leads up to it)
  {bin} --fail-rate 0.1 --drop-rate 0.05 --latency 50..400
  {bin} --fail-rate 0.2 --fail-statuses 502,503,504   # only faults a client retries
  {bin} --max-in-flight 8 --latency 20   # a server that takes 8 requests at a time
  {bin} --live --speed 600   # calls arrive and their statuses move, ten minutes a second
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
    /// The data set: calls, seed, anchor.
    #[command(flatten)]
    pub data: DataArgs,
    /// The faults to inject.
    #[command(flatten)]
    pub faults: FaultArgs,
    /// Live: calls keep arriving (the data leads up to 7 days after today unless --anchor says
    /// otherwise) and each inspection moves 0 -> 1 -> 3 -> its status over minutes after its
    /// upload; `details` answers from the state at the clock. Without it the data is frozen.
    #[arg(long)]
    pub live: bool,
    /// With --live: the clock runs N times as fast as real time (600: ten minutes a second),
    /// from now.
    #[arg(long, value_name = "N", requires = "live", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub speed: u32,
}

/// The sandbox's data set: how many calls, from which seed, leading up to which day. Shared by
/// `ccsqm sandbox` and the in-process sandbox of `ccsqm --sandbox`.
#[derive(Clone, Debug, clap::Args)]
pub struct DataArgs {
    /// Number of generated calls (the six calls of the vendor's example come on top).
    #[arg(long, default_value_t = crate::DEFAULT_CALLS, allow_hyphen_values = true)]
    pub calls: usize,
    /// Seed of the data set: the same seed, --calls and --anchor serve the same data.
    #[arg(long, default_value_t = crate::DEFAULT_SEED)]
    pub seed: u64,
    /// The day (UTC, YYYY-MM-DD, 2021-12-15 or later) the generated calls lead up to: they fall
    /// on the 180 days before it [default: today].
    #[arg(long, value_name = "DATE")]
    pub anchor: Option<Anchor>,
}

/// The faults a sandbox injects (all off by default). Shared by `ccsqm sandbox` and the
/// in-process sandbox of `ccsqm --sandbox`.
#[derive(Clone, Debug, clap::Args)]
pub struct FaultArgs {
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

impl DataArgs {
    /// Checks what clap cannot check flag by flag; the message names the flag.
    pub fn check(&self) -> Result<(), String> {
        if self.calls > crate::MAX_CALLS {
            return Err(format!(
                "--calls {}: the sandbox generates at most {}",
                self.calls,
                crate::MAX_CALLS
            ));
        }
        Ok(())
    }

    /// `builder` with this data set: calls, seed, and the anchor when one is given.
    pub fn apply(&self, builder: SandboxBuilder) -> SandboxBuilder {
        let builder = builder.calls(self.calls).seed(self.seed);
        match self.anchor {
            Some(anchor) => builder.anchor(anchor),
            None => builder,
        }
    }
}

impl FaultArgs {
    /// Checks what clap cannot check flag by flag; the message names the flags.
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
        self.faults.check()?;
        if !self.bind.is_loopback() && !self.allow_non_loopback {
            return Err(format!(
                "--bind {}: not a loopback address; add --allow-non-loopback to listen there",
                self.bind
            ));
        }
        self.app_secret()?;
        self.data.check()
    }

    /// The faults the flags ask for.
    pub fn faults(&self) -> Faults {
        self.faults.faults()
    }
}

/// Starts a sandbox as `args` say, prints [`banner`] on stdout (its address, data, credentials,
/// the environment that points `ccsqm` at it, its faults), and serves until Ctrl-C; then lets
/// open requests finish.
pub async fn serve(args: ServeArgs) -> Result<(), Error> {
    let (app_secret, secret_source) = args.app_secret().map_err(Error::Config)?;
    let started = Instant::now();
    let builder = Sandbox::builder()
        .addr(SocketAddr::new(args.bind, args.port))
        .allow_non_loopback(args.allow_non_loopback)
        .app_key(args.app_key.clone())
        .app_secret(app_secret)
        .user_id(args.user_id.clone())
        .faults(args.faults());
    let builder = match args.live {
        true => builder.live(crate::Clock::real(args.speed)),
        false => builder,
    };
    let sandbox = args.data.apply(builder).start().await?;
    // Listening for Ctrl-C before saying to press it: a Ctrl-C right after the banner stops the
    // server gracefully too.
    let ctrl_c = ctrl_c()?;
    // stdout may be a pipe whose reader is gone (`ccsqm sandbox | head -3`): the server keeps
    // serving, and what nobody can read is dropped (std's `print!` would panic).
    let say = |text: &str| {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    };
    say(&banner(&sandbox, secret_source, started.elapsed()));
    say("Press Ctrl-C to stop.\n");
    ctrl_c.await;
    say("stopping: letting open requests finish\n");
    sandbox.shutdown().await;
    Ok(())
}

/// The sandbox's mode in words: frozen, or live with its clock.
fn mode(sandbox: &Sandbox) -> String {
    match sandbox.clock() {
        None => {
            "frozen (the data never changes; --live for calls that arrive and progress)".to_owned()
        }
        Some(clock) => {
            let speed = match clock.speed() {
                0 => "moved by hand".to_owned(),
                1 => "real time".to_owned(),
                n => format!("{n} times real time (--speed)"),
            };
            format!(
                "live: the clock reads {}, {speed}; calls arrive until {} and each \
                 inspection moves 0 -> 1 -> 3 -> its status within 35 minutes of its upload",
                crate::utc_minute(clock.now()),
                crate::utc_minute(sandbox.data().anchor().end_time()),
            )
        }
    }
}

/// A future that completes on Ctrl-C (SIGINT), listening from now on.
#[cfg(unix)]
fn ctrl_c() -> Result<impl std::future::Future<Output = ()>, Error> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())
        .map_err(|e| Error::Config(format!("listening for Ctrl-C: {e}")))?;
    Ok(async move {
        interrupt.recv().await;
    })
}

/// A future that completes on Ctrl-C.
#[cfg(not(unix))]
fn ctrl_c() -> Result<impl std::future::Future<Output = ()>, Error> {
    Ok(async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            eprintln!("waiting for Ctrl-C: {e}");
        }
    })
}

/// What `ccsqm sandbox` prints when it is ready, for people: where it listens, its data (how
/// many calls, from when to when, seed, anchor), the credentials to use and the variables to
/// export, and its faults in words. The app secret is shown only when it is the documented
/// default (`secret_source`).
pub fn banner(sandbox: &Sandbox, secret_source: SecretSource, ready_in: Duration) -> String {
    use std::fmt::Write as _;
    let data = sandbox.data();
    let credentials = sandbox.credentials();
    let mut text = String::new();
    let mut line = |s: String| {
        text.push_str(&s);
        text.push('\n');
    };
    line(format!(
        "ccsqm sandbox listening on {} ({})",
        sandbox.base_url(),
        sandbox.addr()
    ));
    line(format!(
        "  data set:   {} calls, ready in {} ms",
        data.len(),
        ready_in.as_millis()
    ));
    let mut generated = format!("{} generated", data.generated());
    if let Some((first, last)) = data.generated_call_times() {
        let _ = write!(
            generated,
            ", from {} to {}",
            crate::utc_minute(first),
            crate::utc_minute(last)
        );
    }
    line(format!("              {generated}"));
    if let Some((first, last)) = data.vendor_call_times() {
        line(format!(
            "              and the vendor's {} example calls, from {} to {}",
            data.len() - data.generated(),
            crate::utc_minute(first),
            crate::utc_minute(last)
        ));
    }
    line(format!(
        "  seed:       {} (--seed; the same seed, --calls and --anchor give the same data)",
        data.seed()
    ));
    line(format!(
        "  anchor:     {} (--anchor DATE; the generated calls lead up to this day)",
        data.anchor()
    ));
    // Printing the default secret is the point: it is not a credential. One given in a file or
    // the environment is not printed.
    let (shown_secret, exported_secret) = match secret_source {
        SecretSource::Default => (
            credentials.app_secret.expose().to_owned(),
            credentials.app_secret.expose().to_owned(),
        ),
        SecretSource::File => (
            "(the content of --app-secret-file)".to_owned(),
            "<the app secret>".to_owned(),
        ),
        SecretSource::Environment => (
            format!("(the value of {APP_SECRET_ENV})"),
            "<the app secret>".to_owned(),
        ),
    };
    line(format!("  app_key:    {}", credentials.app_key));
    line(format!("  app_secret: {shown_secret}"));
    line(format!("  x-UserId:   {}", credentials.user_id));
    line(format!("  faults:     {}", sandbox.faults()));
    line(format!("  mode:       {}", mode(sandbox)));
    line("To use it, in another terminal:".to_owned());
    line(format!(
        "  export CCSQM_BASE_URL={} CCSQM_USER_ID={} CCSQM_APP_KEY={} CCSQM_APP_SECRET={}",
        sandbox.base_url(),
        credentials.user_id,
        credentials.app_key,
        exported_secret
    ));
    line("  ccsqm details --call-from 7d".to_owned());
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> ServeArgs {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: ServeArgs,
        }
        let argv = ["ccsqm-sandbox", "--port", "0"].iter().chain(extra);
        <Cli as clap::Parser>::try_parse_from(argv).unwrap().args
    }

    #[tokio::test]
    async fn the_banner_says_live_or_frozen() {
        let live = args(&["--live", "--speed", "600", "--calls", "30"]);
        assert!(live.live && live.speed == 600);
        let sandbox = Sandbox::builder()
            .calls(30)
            .live(crate::Clock::real(live.speed))
            .start()
            .await
            .unwrap();
        let text = banner(&sandbox, SecretSource::Default, Duration::from_millis(3));
        assert!(
            text.contains("mode:       live: the clock reads 20"),
            "{text}"
        );
        assert!(text.contains("600 times real time"), "{text}");
        // Calls keep arriving for a week: the data leads up to 7 days after the clock's day.
        let ahead = sandbox.data().anchor().end_time() - sandbox.clock().unwrap().now();
        assert!((6 * 86_400..=7 * 86_400).contains(&ahead), "{ahead}");
        let frozen = Sandbox::builder().calls(3).start().await.unwrap();
        let text = banner(&frozen, SecretSource::Default, Duration::from_millis(3));
        assert!(text.contains("mode:       frozen"), "{text}");
        // --speed means nothing without --live.
        #[derive(clap::Parser, Debug)]
        struct Cli {
            #[command(flatten)]
            _args: ServeArgs,
        }
        assert!(<Cli as clap::Parser>::try_parse_from(["s", "--speed", "60"]).is_err());
        assert!(<Cli as clap::Parser>::try_parse_from(["s", "--live", "--speed", "0"]).is_err());
    }

    #[tokio::test]
    async fn the_banner_is_for_people() {
        let args = args(&[
            "--calls",
            "40",
            "--seed",
            "5",
            "--anchor",
            "2024-03-01",
            "--fail-rate",
            "0.2",
            "--fail-statuses",
            "502,503",
            "--latency",
            "5..10",
            "--max-in-flight",
            "3",
        ]);
        args.check().unwrap();
        let builder = Sandbox::builder().port(0).faults(args.faults());
        let sandbox = args.data.apply(builder).start().await.unwrap();
        let text = banner(&sandbox, SecretSource::Default, Duration::from_millis(3));
        for debug_syntax in [
            "{",
            "}",
            "Some(",
            "None",
            "Faults",
            "FaultConfig",
            "Range(",
            "ms)",
        ] {
            assert!(!text.contains(debug_syntax), "{debug_syntax:?} in {text}");
        }
        for said in [
            "listening on http://127.0.0.1:",
            "46 calls",
            "40 generated, from 2023-",
            " UTC to 2024-0",
            "the vendor's 6 example calls, from 2021-06-01 02:09 UTC to 2021-06-02 11:36 UTC",
            "seed:       5",
            "anchor:     2024-03-01",
            "app_key:    sandbox-app-key",
            "app_secret: sandbox-app-secret",
            "x-UserId:   sandbox-user",
            "20 % of requests answered 502 or 503 in turn",
            "5 to 10 ms (at random)",
            "at most 3 request(s) answered at a time",
            "export CCSQM_BASE_URL=http://127.0.0.1:",
            "CCSQM_APP_SECRET=sandbox-app-secret",
        ] {
            assert!(text.contains(said), "{said:?} not in {text}");
        }

        // By default the data leads up to today.
        let before = crate::Anchor::today();
        let quiet = Sandbox::builder().calls(3).start().await.unwrap();
        let anchor = quiet.data().anchor();
        assert!(
            before <= anchor && anchor <= crate::Anchor::today(),
            "{anchor}"
        );
        let text = banner(&quiet, SecretSource::Environment, Duration::ZERO);
        assert!(text.contains("faults:     none"), "{text}");
        assert!(text.contains(&format!("anchor:     {anchor}")), "{text}");
        assert!(!text.contains("sandbox-app-secret"), "{text}");
    }
}
