//! `ccsqm details`: a page of inspected calls, or every page (`--all`), in the chosen format,
//! with `--with-transcript`, `--count`, `--dry-run`.

use std::io::IsTerminal;

use anyhow::{Context, Result};
use ccsqm_client::{ApiError, Client, Drift};
use futures_util::StreamExt;

use crate::connect::{build_client, connect, target_of};
use crate::error::UsageError;
use crate::output::{CallWriter, Format};
use crate::{dry_run, operations, output, progress, request, signals, sink, summary};

mod args;
mod count;
mod no_match;
mod with_transcript;

pub use args::{DetailsArgs, EXAMPLES};

/// `ccsqm details`.
/// `ccsqm details` (`quiet`: `-q`).
pub async fn run(args: &DetailsArgs, flags: &clap::ArgMatches, quiet: bool) -> Result<()> {
    let body = request::body(
        operations::DETAILS_REQUEST,
        &args.request,
        jiff::Timestamp::now(),
        &jiff::tz::TimeZone::system(),
    )?;
    let body = serde_json::Value::Object(body);
    let request: ccsqm_models::AppraisecallDetailsRequest = serde_json::from_value(body.clone())
        .map_err(|e| UsageError(format!("the request body: {e}")))?;
    let target = args.output_file.as_deref().map(sink::check).transpose()?;
    let choice = output::choice::Choice::of(&args.fields, args.jq.as_deref(), args.tz.as_ref())?;
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
    choice.check(format, args.with_transcript)?;
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
        if matched == 0 && !quiet {
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
        summary::page_note(shown, total, page_number, limit, table).filter(|_| !quiet)
    };
    let client = connect(&settings, &args.connection)?;
    signals::install().context("listening for signals")?;
    let replaced_on_success = matches!(target, Some(sink::Target::Replace { .. }));
    // What the server sent that the spec does not describe: said once, at the end (or, with
    // --strict-spec, the error before the output is committed).
    let kept = kept(format, &choice);
    let drift_check = |drift: &Drift| -> Result<()> {
        if args.strict.strict_spec && !drift.is_empty() {
            return Err(crate::error::SpecDrift {
                drift: drift.clone(),
                kept: match replaced_on_success {
                    true => "; the output file was not written",
                    false => "",
                },
            }
            .into());
        }
        Ok(())
    };
    let mut sink = sink::Sink::open(target)?;
    let terminal = args.output_file.is_none() && std::io::stdout().is_terminal();
    if format == Format::Json && !args.all {
        let page = client.details_page_scanned(request).await?;
        output::write_page(
            &mut sink,
            &page,
            choice.fields.as_deref(),
            choice.jq.as_ref().map(|jq| jq as &dyn ccsqm_export::Filter),
            terminal,
        )?;
        let counts = no_match::counts(page.page());
        no_match(counts);
        drift_check(page.drift())?;
        sink.commit()?;
        crate::drift::say(page.drift(), kept, quiet);
        if let Some(note) = page_note(counts, false) {
            eprintln!("{note}");
        }
        return Ok(());
    }
    if args.with_transcript {
        // Transcripts: `--concurrency N` at a time, else 4; the pages adapt as for `--all`.
        let pinned = args.concurrency.map(|n| usize::try_from(n).unwrap_or(1));
        let concurrency = pinned.unwrap_or(4);
        let progress = progress::Bar::new(quiet || !args.all);
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
        let mut drift = Drift::default();
        let result = match &mut calls {
            Some(calls) => {
                with_transcript::write(&client, calls, concurrency, &mut sink, |n| {
                    progress.update(n, None, concurrency)
                })
                .await
            }
            None => {
                let page = client.details_page_scanned(request).await?;
                counts = no_match::counts(page.page());
                drift = page.drift().clone();
                let records = futures_util::stream::iter(page.into_records().map(Ok));
                with_transcript::write(&client, records, concurrency, &mut sink, |_| {}).await
            }
        };
        progress.finish();
        for warning in calls.iter().flat_map(|c| c.warnings()) {
            eprintln!("ccsqm: warning: {warning}");
        }
        result?;
        no_match(calls.as_ref().map_or(counts, |c| (c.received(), None)));
        if let Some(calls) = &calls {
            drift = calls.drift().clone();
        }
        drift_check(&drift)?;
        sink.commit()?;
        crate::drift::say(&drift, kept, quiet);
        if let Some(note) = calls.is_none().then(|| page_note(counts, false)).flatten() {
            eprintln!("{note}");
        }
        if let Some(calls) = calls.as_ref().filter(|_| !quiet) {
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
    let table_width = output::available_width(terminal);
    let mut writer = CallWriter::new(&mut sink, format, choice.zone.clone())
        .csv_formulas(args.csv_formulas)
        .csv_style(args.csv_style)
        .fields(choice.fields.clone())
        .jq(choice.jq.map(|jq| Box::new(jq) as _), terminal)
        .table_layout(table_width, usize::try_from(limit).unwrap_or(100))
        .on_warning(output::warn("ccsqm: "));
    let mut footer = None;
    let mut summary = None;
    let drift;
    let counts = if args.all {
        let (done, found) = export_all(
            quiet,
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
        drift = found;
        counts
    } else {
        let page = client.details_page_scanned(request).await?;
        let (_, total) = no_match::counts(page.page());
        drift = page.drift().clone();
        let mut shown = 0;
        for record in page.into_records() {
            writer.write(&record)?;
            shown += 1;
        }
        // An empty page has the note of `no_match` instead.
        footer = page_note((shown, total), format == Format::Table);
        (shown, total)
    };
    drift_check(&drift)?;
    writer.finish()?;
    no_match(counts);
    sink.commit()?;
    crate::drift::say(&drift, kept, quiet);
    // After the rows: on a terminal, the last lines under the table.
    match (footer, summary) {
        (Some(footer), _) => eprintln!("{footer}"),
        (_, Some(summary)) if !quiet => eprintln!("ccsqm: {summary}"),
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
    quiet: bool,
    args: &DetailsArgs,
    client: &Client,
    request: ccsqm_client::types::AppraisecallDetailsRequest,
    writer: &mut CallWriter<&mut sink::Sink>,
    replaced_on_success: bool,
    terminal: bool,
) -> Result<(summary::Summary, Drift)> {
    let started = std::time::Instant::now();
    let calls = client.calls(request).allow_partial(args.allow_partial);
    // `--concurrency N` pins it; without it, it adapts to the server (up to 32 pages at a time).
    let mut calls = match args.concurrency {
        Some(n) => calls.concurrency(usize::try_from(n).unwrap_or(1)),
        None => calls.adaptive(),
    };
    let progress = progress::Bar::new(quiet);
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
        Ok(()) => Ok((
            summary::Summary {
                calls: received,
                pages: calls.pages(),
                elapsed: started.elapsed(),
                retries: client.session().retries(),
                warnings: shown,
            },
            calls.drift().clone(),
        )),
    }
}

/// What the output does with the keys the spec does not name (the values it does not list
/// stay in their fields, in every format).
fn kept(format: Format, choice: &output::choice::Choice) -> &'static str {
    match (format, choice.fields.is_some(), choice.jq.is_some()) {
        (_, _, true) => "the keys it does not name are in what --jq reads, as sent",
        (_, true, _) => {
            "the keys it does not name are left out of the output (--fields names fields of \
             the spec)"
        }
        (Format::Ndjson | Format::Json, false, false) => {
            "the keys it does not name are kept in the output, as sent"
        }
        _ => {
            "the keys it does not name are left out of CSV and table output (-o ndjson or -o \
             json keeps them)"
        }
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
