//! `ccsqm`: query the inspected calls of Huawei Cloud CCSQM from the command line.

// stderr into a closed pipe (`ccsqm … 2>&1 | head`) is not an error: std's `eprintln!` and
// `eprint!` panic when the write fails, these drop a message nobody can read. Defined before
// the modules, they are the `eprintln!` and `eprint!` of every module of this crate.
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

macro_rules! eprint {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr().lock(), $($arg)*);
    }};
}

mod api;
mod args;
mod config;
mod config_show;
mod configure;
mod count;
mod dry_run;
mod exit;
mod man;
mod no_match;
mod operations;
mod output;
mod progress;
mod request;
mod sandbox_flags;
mod signals;
mod sink;
mod span;
mod summary;
mod sync;
mod timearg;
mod transcript;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use crate::args::{Cli, Command, Connection, DetailsArgs, SchemaKind, TokenArgs};
use crate::config::{Credentials, Settings};
use crate::output::{CallWriter, Format};
use anyhow::{Context, Result};
use ccsqm_client::{ApiError, Client, Secret};
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
    // `--jq`'s filter runs in a process of its own: this one, started again (output/jq.rs).
    if std::env::args_os().nth(1).as_deref() == Some(std::ffi::OsStr::new(output::jq::WORKER_ARG)) {
        return output::jq::worker_main();
    }
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
        // `ccsqm ... | head`: the reader is gone, which is not an error of ours (an EPIPE of
        // the API's or the database's connection is theirs: exit::code classes it).
        Err(e) if exit::code(&e) == exit::OTHER && exit::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<config::MissingSettings>().is_some() => {
            // Our own lines, one per missing setting (each made visible: it names files).
            let text = e
                .downcast_ref::<config::MissingSettings>()
                .map(ToString::to_string)
                .unwrap_or_default();
            let lines: Vec<_> = text.lines().map(ccsqm_client::visible).collect();
            eprintln!("ccsqm: {}", lines.join("\n"));
            ExitCode::from(exit::USAGE)
        }
        Err(e) => {
            // Server text can be part of the message: it must not drive the terminal.
            let code = exit::code(&e);
            // A refusal of the credentials: where they came from, on the same line.
            let hint = auth_hint().filter(|_| code == exit::AUTH);
            let text = match hint {
                Some(hint) => format!("{}; {hint}", message(&e)),
                None => message(&e),
            };
            eprintln!("ccsqm: {}", ccsqm_client::visible(&text));
            ExitCode::from(code)
        }
    }
}

/// The error and its causes on one line, each cause once: an error that already shows its
/// source (as `network error: {source}` does) does not get it repeated.
pub(crate) fn message(error: &anyhow::Error) -> String {
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
        // The client logs each request at debug, under its target `ccsqm_client::request`.
        1 => "ccsqm_client=info,ccsqm_client::request=debug,ccsqm=info",
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
        Command::Api(args) => api::run(args, flags).await,
        Command::Token(args) => token(args, flags).await,
        Command::Transcript(args) => transcript::run(args, flags).await,
        Command::Configure(args) => configure::run(args).await,
        Command::Config { command } => {
            // The matches of `show`: they tell a flag from its variable.
            let flags = flags.subcommand().map(|(_, m)| m).unwrap_or(flags);
            config_show::run(command, flags)
        }
        Command::Sync(args) => sync::run(&cli, args, flags).await,
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
            // Into memory first: clap_complete panics when its writer fails (a closed stdout).
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut command, "ccsqm", &mut script);
            let mut out = std::io::stdout().lock();
            out.write_all(&script)?;
            out.flush()?;
            Ok(())
        }
        Command::Man { dir } => man::run(args::command(), dir.as_deref(), cli.quiet),
    }
}

/// Where requests go and with which credentials: an in-process sandbox with `--sandbox` (kept
/// running while the returned handle lives), else the flags, environment and config file.
pub(crate) async fn target_of(
    connection: &Connection,
    flags: &clap::ArgMatches,
) -> Result<(Settings, Option<Sandbox>)> {
    if connection.sandbox {
        let sandbox = sandbox_flags::start(connection).await?;
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
            sources: vec![("every setting", config::Origin::Flag("--sandbox"))],
            profile: String::new(),
            other_profiles: Vec::new(),
            warnings: Vec::new(),
        };
        settings.log_sources();
        return Ok((settings, Some(sandbox)));
    }
    sandbox_flags::refuse_without_sandbox(flags)?;
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
    remember_credential_origins(&settings);
    Ok((settings, None))
}

/// Where the credentials of this run came from, said when the server refuses them (exit 3).
static CREDENTIAL_ORIGINS: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Keeps, for [`auth_hint`], where the app key and app secret (or the token) came from: the
/// flag, the variable, the profile's key or the keyring entry, never a value.
fn remember_credential_origins(settings: &Settings) {
    let origin_of = |wanted: fn(&str) -> bool| {
        settings
            .sources
            .iter()
            .find(|(setting, _)| wanted(setting))
            .map(|(_, origin)| describe_origin(origin))
    };
    let text = match &settings.credentials {
        Some(Credentials::AkSk { .. }) => format!(
            "the app key came from {} and the app secret from {}",
            origin_of(|s| s == "app key").unwrap_or_else(|| "an unknown place".into()),
            origin_of(|s| s.starts_with("app secret")).unwrap_or_else(|| "an unknown place".into()),
        ),
        Some(Credentials::Token(_)) => format!(
            "the token came from {}",
            origin_of(|s| s == "token").unwrap_or_else(|| "an unknown place".into())
        ),
        None => return,
    };
    let _ = CREDENTIAL_ORIGINS.set(text);
}

/// An origin for a sentence: `the flag --app-key`, `the environment variable CCSQM_APP_KEY`,
/// `app_key of profile "default" of <file>`, the keyring entry.
fn describe_origin(origin: &config::Origin) -> String {
    match origin {
        config::Origin::Flag(name) => format!("the flag {name}"),
        config::Origin::Env(name) => format!("the environment variable {name}"),
        other => other.to_string(),
    }
}

/// For a refused app key and secret or token (exit 3): where they came from, and where to see
/// every setting. `None` before the settings were resolved.
fn auth_hint() -> Option<String> {
    CREDENTIAL_ORIGINS.get().map(|origins| {
        format!("ccsqm: {origins}; `ccsqm config show` shows every setting and where it came from")
    })
}

/// The client the settings describe; every check of a real run is made here (`--dry-run`
/// too, which accepts settings without credentials).
pub(crate) fn connect(settings: &Settings, connection: &Connection) -> Result<Client> {
    build_client(settings, connection, true, None)
}

pub(crate) fn build_client(
    settings: &Settings,
    connection: &Connection,
    require_credentials: bool,
    token_lifetime: Option<std::time::Duration>,
) -> Result<Client> {
    let credentials = match require_credentials {
        true => Some(settings.credentials()?),
        false => settings.credentials.as_ref(),
    };
    let mut builder = settings
        .client_builder_with(credentials)
        .timeout(std::time::Duration::from_secs_f64(connection.timeout))
        .connect_timeout(std::time::Duration::from_secs_f64(
            connection.connect_timeout,
        ))
        .retry(connection.retry_policy())
        .max_body_size(connection.max_body_size);
    if let Some(lifetime) = token_lifetime {
        builder = builder.token_lifetime(lifetime);
    }
    builder
        .build()
        .map_err(|e| UsageError(e.to_string()).into())
}

async fn details(cli: &Cli, args: &DetailsArgs, flags: &clap::ArgMatches) -> Result<()> {
    let body = request::body(
        operations::DETAILS_REQUEST,
        &args.request,
        jiff::Timestamp::now(),
        &jiff::tz::TimeZone::system(),
    )?;
    let body = serde_json::Value::Object(body);
    let request: ccsqm_models::AppraisecallDetailsRequest = serde_json::from_value(body.clone())
        .map_err(|e| UsageError(format!("the request body: {e}")))?;
    let target = args
        .output_file
        .as_deref()
        .map(sink::Target::check)
        .transpose()?;
    let choice = output::choice::Choice::of(args)?;
    let format = match args.output {
        Some(format) => format,
        // A terminal's table cannot hold segments, nor --jq's results: lines of JSON.
        None if (args.with_transcript || choice.jq.is_some()) && args.output_file.is_none() => {
            Format::Ndjson
        }
        None => default_format(args, target.as_ref())?,
    };
    if args.count {
        let (settings, _sandbox) = target_of(&args.connection, flags).await?;
        let client = connect(&settings, &args.connection)?;
        let mut sink = sink::Sink::open(target)?;
        let (counts, total) = count::count(&client, &request).await?;
        count::write(&mut sink, format, &counts, total)?;
        return sink.commit();
    }
    choice.check(format, args)?;
    if args.with_transcript && format != Format::Ndjson {
        anyhow::bail!(UsageError(
            "--with-transcript adds segments to each call's line: use --output ndjson (table \
             and csv cannot hold them, json is the API's page as sent)"
                .into()
        ));
    }
    let (settings, sandbox) = target_of(&args.connection, flags).await?;
    // An empty result is said on stderr, with the filters sent and the sandbox's data.
    // `total`: the page's `paging.total`, for one page (a page past the last is empty too).
    let no_match = |(matched, total): (u64, Option<i64>)| {
        if matched == 0 && !cli.quiet {
            let schema = operations::DETAILS_REQUEST;
            eprint!("{}", no_match::note(schema, &body, total, sandbox.as_ref()));
        }
    };
    if args.dry_run {
        // The same checks as a real run: the client is built, and not used.
        build_client(&settings, &args.connection, false, None)?;
        let mut out = std::io::stdout().lock();
        let operation = ccsqm_client::spec::Operation::AppraisecallDetails.info();
        dry_run::write(&mut out, &settings, operation, &[], &request)?;
        return Ok(());
    }
    // One page (no `--all`) that is not every call that matches says so on stderr, in every
    // format and to every destination (see `summary::page_note`); `-q` leaves it out.
    let (page_number, limit) = (request.page.get(), request.limit.get());
    let page_note = |(shown, total): (u64, Option<i64>), table: bool| {
        let total = total.and_then(|t| u64::try_from(t).ok());
        summary::page_note(shown, total, page_number, limit, table).filter(|_| !cli.quiet)
    };
    let client = connect(&settings, &args.connection)?;
    signals::install().context("listening for signals")?;
    let replaced_on_success = matches!(target, Some(sink::Target::Replace { .. }));
    let mut sink = sink::Sink::open(target)?;
    let terminal = args.output_file.is_none() && std::io::stdout().is_terminal();
    if format == Format::Json && !args.all {
        let page = client.details_page(request).await?;
        output::write_page(
            &mut sink,
            &page,
            choice.fields.as_deref(),
            choice.jq.as_ref(),
            terminal,
        )?;
        let counts = no_match::counts(&page);
        no_match(counts);
        sink.commit()?;
        if let Some(note) = page_note(counts, false) {
            eprintln!("{note}");
        }
        return Ok(());
    }
    if args.with_transcript {
        // Transcripts: `--concurrency N` at a time, else 4; the pages adapt as for `--all`.
        let pinned = args.concurrency.map(|n| usize::try_from(n).unwrap_or(1));
        let concurrency = pinned.unwrap_or(4);
        let progress = progress::Bar::new(cli.quiet || !args.all);
        let started = std::time::Instant::now();
        let mut calls = args.all.then(|| {
            let calls = client
                .calls(request.clone())
                .allow_partial(args.allow_partial);
            match pinned {
                Some(n) => calls.concurrency(n),
                None => calls.adaptive(),
            }
        });
        let mut counts = (0, None);
        let result = match &mut calls {
            Some(calls) => {
                transcript::details::write(&client, calls, concurrency, &mut sink, |n| {
                    progress.update(n, None, concurrency)
                })
                .await
            }
            None => {
                let page = client.details_page(request).await?;
                counts = no_match::counts(&page);
                let records =
                    futures_util::stream::iter(ccsqm_models::CallRecord::from_page(page).map(Ok));
                transcript::details::write(&client, records, concurrency, &mut sink, |_| {}).await
            }
        };
        progress.finish();
        for warning in calls.iter().flat_map(|c| c.warnings()) {
            eprintln!("ccsqm: warning: {warning}");
        }
        result?;
        no_match(calls.as_ref().map_or(counts, |c| (c.received(), None)));
        sink.commit()?;
        if let Some(note) = calls.is_none().then(|| page_note(counts, false)).flatten() {
            eprintln!("{note}");
        }
        if let Some(calls) = calls.as_ref().filter(|_| !cli.quiet) {
            let summary = summary::Summary {
                calls: calls.received(),
                pages: calls.pages(),
                elapsed: started.elapsed(),
                retries: client.session().retries(),
                warnings: calls.warnings().len(),
            };
            eprintln!("ccsqm: {summary}");
        }
        return Ok(());
    }
    let table_width = output::table::available_width(terminal);
    let mut writer = CallWriter::new(&mut sink, format, choice.zone.clone())
        .csv_formulas(args.csv_formulas)
        .csv_style(args.csv_style)
        .fields(choice.fields.clone())
        .jq(choice.jq, terminal)
        .table_layout(table_width, usize::try_from(limit).unwrap_or(100));
    let mut footer = None;
    let mut summary = None;
    let counts = if args.all {
        let done = export_all(
            cli,
            args,
            &client,
            request,
            &mut writer,
            replaced_on_success,
            terminal,
        )
        .await?;
        let counts = (done.calls, None);
        summary = Some(done);
        counts
    } else {
        let page = client.details_page(request).await?;
        let (_, total) = no_match::counts(&page);
        let mut shown = 0;
        for record in ccsqm_models::CallRecord::from_page(page) {
            writer.write(&record)?;
            shown += 1;
        }
        // An empty page has the note of `no_match` instead.
        footer = page_note((shown, total), format == Format::Table);
        (shown, total)
    };
    writer.finish()?;
    no_match(counts);
    sink.commit()?;
    // After the rows: on a terminal, the last lines under the table.
    match (footer, summary) {
        (Some(footer), _) => eprintln!("{footer}"),
        (_, Some(summary)) if !cli.quiet => eprintln!("ccsqm: {summary}"),
        (_, Some(summary)) if summary.warnings > 0 => eprintln!(
            "ccsqm: {} call(s) written, with {} paging warning(s)",
            summary.calls, summary.warnings
        ),
        _ => {}
    }
    Ok(())
}

/// `--all`: every call, each paging warning on stderr as it is found, and their count at the
/// end. Pages that do not add up end the export with an error, unless `--allow-partial`.
/// `replaced_on_success`: the output is a file that only a complete export replaces.
async fn export_all(
    cli: &Cli,
    args: &DetailsArgs,
    client: &Client,
    request: ccsqm_client::types::AppraisecallDetailsRequest,
    writer: &mut CallWriter<&mut sink::Sink>,
    replaced_on_success: bool,
    terminal: bool,
) -> Result<summary::Summary> {
    let started = std::time::Instant::now();
    let calls = client.calls(request).allow_partial(args.allow_partial);
    // `--concurrency N` pins it; without it, it adapts to the server (up to 32 pages at a time).
    let mut calls = match args.concurrency {
        Some(n) => calls.concurrency(usize::try_from(n).unwrap_or(1)),
        None => calls.adaptive(),
    };
    let progress = progress::Bar::new(cli.quiet);
    // Rows and the bar on one terminal: rows are written with the bar hidden, then it is drawn
    // again under them (neither draws over the other).
    let shared_terminal = terminal && progress.is_drawn();
    let mut shown = 0;
    let result = loop {
        let next = calls.next().await;
        for warning in &calls.warnings()[shown..] {
            progress.println(&format!("ccsqm: warning: {warning}"));
        }
        shown = calls.warnings().len();
        match next {
            Some(Ok(record)) => {
                match shared_terminal {
                    true => progress.suspend(|| {
                        writer.write(&record)?;
                        writer.flush()
                    })?,
                    false => writer.write(&record)?,
                }
                progress.update(calls.received(), calls.total(), calls.current_concurrency());
            }
            Some(Err(error)) => break Err(error),
            None => break Ok(()),
        }
    };
    progress.finish();
    let received = calls.received();
    let warnings = match shown {
        0 => String::new(),
        n => format!(", with {n} paging warning(s)"),
    };
    match result {
        Err(error @ ApiError::Paging(_)) => {
            let kept = match replaced_on_success {
                true => "the output file was not written; ",
                false => "",
            };
            Err(anyhow::Error::new(error).context(format!(
                "incomplete export ({received} call(s) received{warnings}; {kept}--allow-partial \
                 accepts a partial result)"
            )))
        }
        Err(error) if shown > 0 => Err(anyhow::Error::new(error).context(format!(
            "the export failed after {received} call(s){warnings}"
        ))),
        Err(error) => Err(error.into()),
        Ok(()) => Ok(summary::Summary {
            calls: received,
            pages: calls.pages(),
            elapsed: started.elapsed(),
            retries: client.session().retries(),
            warnings: shown,
        }),
    }
}

/// `table` for a person at a terminal, `ndjson` for a pipe; for `--output-file`, what its
/// extension says (.csv, .json, .ndjson, .jsonl), `ndjson` for a device or FIFO, and any other
/// name is refused (exit 2) rather than guessed.
fn default_format(args: &DetailsArgs, target: Option<&sink::Target>) -> Result<Format> {
    let Some(path) = &args.output_file else {
        return Ok(if std::io::stdout().is_terminal() {
            Format::Table
        } else {
            Format::Ndjson
        });
    };
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("csv") => Ok(Format::Csv),
        Some("json") => Ok(Format::Json),
        Some("ndjson" | "jsonl") => Ok(Format::Ndjson),
        _ if matches!(target, Some(sink::Target::Direct(_))) => Ok(Format::Ndjson),
        _ => Err(UsageError(format!(
            "cannot tell the format of --output-file {} from its name: name it .csv, .json, \
             .ndjson or .jsonl, or choose one with --output (ndjson, csv, json, table)",
            path.display()
        ))
        .into()),
    }
}

async fn token(args: &TokenArgs, flags: &clap::ArgMatches) -> Result<()> {
    let (settings, _sandbox) = target_of(&args.connection, flags).await?;
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
