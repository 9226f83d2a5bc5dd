//! `ccsqm`: query the inspected calls of Huawei Cloud CCSQM from the command line.

mod args;
mod config;
mod dry_run;
mod exit;
#[allow(dead_code, unused_imports, unused_variables, clippy::all)]
mod generated;
mod operations;
mod output;
mod progress;
mod request;
mod timearg;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use crate::args::{Cli, Command, Connection, DetailsArgs, SchemaKind, TokenArgs};
use crate::config::{Credentials, Settings};
use crate::output::{CallWriter, Format};
use anyhow::Result;
use ccsqm_client::{Client, Secret};
use ccsqm_sandbox::Sandbox;
use futures_util::StreamExt;

/// Bad input, found before any request: exit code 2, like clap's own errors.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn main() -> ExitCode {
    let (cli, matches) = args::parse();
    init_logging(cli.verbose);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("ccsqm: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, &matches)) {
        Ok(()) => ExitCode::SUCCESS,
        // `ccsqm ... | head`: the reader is gone, which is not an error of ours.
        Err(e) if exit::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // Server text can be part of the message: it must not drive the terminal.
            eprintln!("ccsqm: {}", ccsqm_client::visible(&message(&e)));
            ExitCode::from(exit::code(&e))
        }
    }
}

/// The error and its causes on one line, each cause once: an error that already shows its
/// source (as `network error: {source}` does) does not get it repeated.
fn message(error: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

/// `-v`: every request at `info`; `-vv`: `debug`. Without `-v`, only the client's warnings
/// about the token interface's answers (an `Expires` it cannot use), one line each.
fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => {
            tracing_subscriber::fmt()
                .with_writer(std::io::stderr)
                .with_env_filter(tracing_subscriber::EnvFilter::new(
                    "ccsqm_client::auth=warn",
                ))
                .without_time()
                .with_target(false)
                .with_ansi(false)
                .init();
            return;
        }
        1 => "ccsqm_client=info,ccsqm=info",
        _ => "ccsqm_client=debug,ccsqm=debug",
    };
    // Colours only on a terminal: a log piped to a file has no escape sequences.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::new(level))
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

async fn run(cli: Cli, matches: &clap::ArgMatches) -> Result<()> {
    // The matches of the subcommand: they tell which connection flags the command line gave.
    let flags = matches.subcommand().map(|(_, m)| m).unwrap_or(matches);
    match &cli.command {
        Command::Details(args) => details(&cli, args, flags).await,
        Command::Token(args) => token(args, flags).await,
        Command::Sandbox(args) => {
            args.check().map_err(UsageError)?;
            Ok(ccsqm_sandbox::serve::serve(args.clone()).await?)
        }
        Command::Schema { which } => {
            let schema = match which {
                SchemaKind::Request => ccsqm_models::request_schema(),
                SchemaKind::Response => ccsqm_models::response_schema(),
                SchemaKind::Call => ccsqm_models::call_schema(),
            };
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &schema)?;
            writeln!(out)?;
            Ok(())
        }
        Command::Completions { shell } => {
            let mut command = args::command();
            clap_complete::generate(*shell, &mut command, "ccsqm", &mut std::io::stdout().lock());
            Ok(())
        }
        Command::Man => {
            clap_mangen::Man::new(args::command()).render(&mut std::io::stdout().lock())?;
            Ok(())
        }
    }
}

/// Where requests go and with which credentials: an in-process sandbox with `--sandbox` (kept
/// running while the returned handle lives), else the flags, environment and config file.
async fn target(
    connection: &Connection,
    flags: &clap::ArgMatches,
) -> Result<(Settings, Option<Sandbox>)> {
    if connection.sandbox {
        let sandbox = Sandbox::builder().start().await?;
        let credentials = sandbox.credentials();
        let settings = Settings {
            base_url: sandbox.base_url().to_owned(),
            token_base_url: None,
            credentials: Some(Credentials::AkSk {
                app_key: credentials.app_key.clone(),
                app_secret: credentials.app_secret.clone(),
            }),
            user_id: credentials.user_id.clone(),
            app_key: Some(credentials.app_key.clone()),
            sources: vec![("every setting", "--sandbox".to_owned())],
        };
        settings.log_sources();
        return Ok((settings, Some(sandbox)));
    }
    let env_secret = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .map(Secret::new)
    };
    let settings = config::resolve(
        connection,
        flags,
        env_secret("CCSQM_TOKEN"),
        env_secret("CCSQM_APP_SECRET"),
    )?;
    settings.log_sources();
    Ok((settings, None))
}

/// The client the settings describe; every check of a real run is made here (`--dry-run`
/// too, which accepts settings without credentials).
fn connect(settings: &Settings, connection: &Connection) -> Result<Client> {
    build_client(settings, connection, true, None)
}

fn build_client(
    settings: &Settings,
    connection: &Connection,
    require_credentials: bool,
    token_lifetime: Option<std::time::Duration>,
) -> Result<Client> {
    let mut builder = Client::builder(&settings.base_url)
        .user_id(&settings.user_id)
        .timeout(std::time::Duration::from_secs_f64(connection.timeout))
        .connect_timeout(std::time::Duration::from_secs_f64(
            connection.connect_timeout,
        ))
        .retry(connection.retry_policy());
    if let Some(app_key) = &settings.app_key {
        builder = builder.app_key(app_key);
    }
    if let Some(url) = &settings.token_base_url {
        builder = builder.token_base_url(url);
    }
    if let Some(lifetime) = token_lifetime {
        builder = builder.token_lifetime(lifetime);
    }
    let credentials = match require_credentials {
        true => Some(settings.credentials()?),
        false => settings.credentials.as_ref(),
    };
    builder = match credentials {
        Some(Credentials::Token(token)) => builder.bearer_token(token.clone()),
        Some(Credentials::AkSk {
            app_key,
            app_secret,
        }) => builder.ak_sk(app_key, app_secret.clone()),
        None => builder,
    };
    builder
        .build()
        .map_err(|e| UsageError(e.to_string()).into())
}

async fn details(cli: &Cli, args: &DetailsArgs, flags: &clap::ArgMatches) -> Result<()> {
    let request = request::build(args, jiff::Timestamp::now(), &jiff::tz::TimeZone::system())?;
    let format = args.output.unwrap_or_else(|| default_format(args));
    if args.all && format == Format::Json {
        anyhow::bail!(UsageError(
            "--output json prints one page (the API's response); with --all use ndjson or csv"
                .into()
        ));
    }
    let (settings, _sandbox) = target(&args.connection, flags).await?;
    if args.dry_run {
        // The same checks as a real run: the client is built, and not used.
        build_client(&settings, &args.connection, false, None)?;
        let mut out = std::io::stdout().lock();
        dry_run::write(&mut out, &settings, &request)?;
        return Ok(());
    }
    let client = connect(&settings, &args.connection)?;
    let mut sink = output::Sink::open(args.output_file.as_deref())?;
    if format == Format::Json {
        let page = client.details_page(request).await?;
        output::write_page_json(&mut sink, &page)?;
        return sink.commit();
    }
    let mut writer = CallWriter::new(&mut sink, format, jiff::tz::TimeZone::system())
        .csv_formulas(args.csv_formulas);
    if args.all {
        let concurrency = usize::try_from(args.concurrency).unwrap_or(1);
        let mut calls = client.calls(request).concurrency(concurrency);
        let progress = progress::Bar::new(cli.quiet);
        while let Some(record) = calls.next().await {
            writer.write(&record?)?;
            progress.update(calls.received(), calls.total());
        }
        progress.finish();
        for warning in calls.warnings() {
            eprintln!("ccsqm: warning: {warning}");
        }
    } else {
        for record in ccsqm_models::into_records(client.details_page(request).await?) {
            writer.write(&record)?;
        }
    }
    writer.finish()?;
    sink.commit()
}

/// `table` for a person at a terminal; otherwise by the output file's extension; else `ndjson`.
fn default_format(args: &DetailsArgs) -> Format {
    match &args.output_file {
        Some(path) => match path.extension().and_then(|e| e.to_str()) {
            Some("csv") => Format::Csv,
            Some("json") if !args.all => Format::Json,
            _ => Format::Ndjson,
        },
        None if std::io::stdout().is_terminal() => Format::Table,
        None => Format::Ndjson,
    }
}

async fn token(args: &TokenArgs, flags: &clap::ArgMatches) -> Result<()> {
    let (settings, _sandbox) = target(&args.connection, flags).await?;
    if !matches!(settings.credentials()?, Credentials::AkSk { .. }) {
        anyhow::bail!(UsageError(
            "ccsqm token needs an app key and app secret (--app-key or CCSQM_APP_KEY, and \
             CCSQM_APP_SECRET or --app-secret-file), not a token"
                .into()
        ));
    };
    let lifetime = std::time::Duration::from_secs(args.expire);
    let client = build_client(&settings, &args.connection, true, Some(lifetime))?;
    let issued = client.issue_token().await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", issued.access_token.expose())?;
    out.flush()?;
    if let Some(note) = &issued.expires_note {
        eprintln!("ccsqm: warning: {}", ccsqm_client::visible(note));
    }
    match &issued.expires {
        Some(_) => eprintln!(
            "ccsqm: the token expires {} seconds after it was issued",
            issued.lifetime.as_secs()
        ),
        None => eprintln!(
            "ccsqm: the response did not say when the token expires (assuming {} seconds)",
            issued.lifetime.as_secs()
        ),
    }
    Ok(())
}
