//! `ccsqm api <operationId>`: any operation of the spec, with a body from `-f FIELD=VALUE` and
//! `--input`, through the same configuration, credentials, retries and timeouts as the other
//! commands; the JSON response on stdout. An operation added to the spec is callable here with
//! no code of its own.

use crate::connection::Connection;
use clap::Args;
use std::io::Write;

use anyhow::Result;
use ccsqm_client::spec::{Field, Kind, Operation, OperationSpec};
use ccsqm_client::SessionHeader;
use jiff::tz::TimeZone;
use serde_json::{Map, Value};

use crate::config::{read_bounded, read_text, MAX_INPUT_BYTES};
use crate::dry_run;
use crate::error::UsageError;

const API_EXAMPLES: &str = "\
Examples:
  # The operations of the spec
  ccsqm api --list

  # One page of calls from the sandbox, fields typed by the spec (arrays repeat or take commas)
  ccsqm api appraisecall_details --sandbox -f page=1 -f limit=5 -f call_types=0,2 \\
      -f status=2 -f upload_from=null -f upload_to=null

  # The body from a file (or - for stdin); -f fields are set on top of it
  ccsqm api appraisecall_details --sandbox --input tests/fixtures/seed-request.json -f limit=2

  # The request, with the token hidden, without sending it
  ccsqm api appraisecall_details --sandbox -f page=1 --dry-run";

/// `ccsqm api`: an operation of the spec with a body from `-f` and `--input`.
#[derive(Debug, Args)]
#[command(after_help = API_EXAMPLES)]
pub struct ApiArgs {
    /// The operation's operationId (see --list).
    #[arg(required_unless_present = "list", value_name = "OPERATION")]
    pub operation: Option<String>,

    /// List the operations of the spec, with their method, path and body fields.
    #[arg(long, conflicts_with_all = ["operation", "field", "input", "header"])]
    pub list: bool,

    /// A field of the request body, typed by the spec: FIELD=VALUE (numbers, booleans, names of
    /// enumeration values, times for timestamp fields, `null`; an array field repeats or takes
    /// commas), or FIELD=@FILE to read the value from a file (@- for stdin; for secrets; at
    /// most 1 MiB, a larger one is refused). Repeatable.
    #[arg(short = 'f', long = "field", value_name = "FIELD=VALUE")]
    pub field: Vec<String>,

    /// The request body as JSON, from a file or - for stdin (at most 1 MiB, a larger one is
    /// refused); -f fields are set on top of it.
    #[arg(long, value_name = "FILE")]
    pub input: Option<std::path::PathBuf>,

    /// A header parameter of the operation: NAME=VALUE (x-UserId and x-app-key come from the
    /// configuration). Repeatable.
    #[arg(short = 'H', long = "header", value_name = "NAME=VALUE")]
    pub header: Vec<String>,

    /// Print the request and an equivalent curl command; send nothing.
    ///
    /// The method, URL, headers (with the token as ***) and JSON body, a curl command, and
    /// where each setting came from.
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub connection: Connection,
}

pub async fn run(args: &ApiArgs, flags: &clap::ArgMatches) -> Result<()> {
    if args.list {
        return list();
    }
    let id = args.operation.as_deref().unwrap_or_default();
    let operation = find(id)?;
    let spec = operation.info();
    let body = body(spec, args)?;
    let headers = headers(spec, &args.header)?;
    let (settings, _sandbox) = crate::connect::target_of(&args.connection, flags).await?;
    if args.dry_run {
        // The same checks as a real run: the client is built, and not used.
        crate::connect::build_client(&settings, &args.connection, false, None)?;
        let mut out = std::io::stdout().lock();
        dry_run::write(&mut out, &settings, spec, &headers, &body)?;
        return Ok(());
    }
    let client = crate::connect::connect(&settings, &args.connection)?;
    let body = spec.body.map(|_| body);
    let response = client.send_raw(operation, &headers, body.as_ref()).await?;
    let mut out = std::io::stdout().lock();
    match serde_json::from_slice::<Value>(&response.body) {
        Ok(json) => {
            // Rendered first, so that a closed stdout is an I/O error (`ccsqm api … | head`).
            let mut text = serde_json::to_vec_pretty(&json)?;
            text.push(b'\n');
            out.write_all(&text)?;
        }
        // Not JSON: written as received.
        Err(_) => out.write_all(&response.body)?,
    }
    out.flush()?;
    Ok(())
}

/// The operation of an operationId (case and `-`/`_` ignored).
fn find(id: &str) -> Result<Operation, UsageError> {
    let norm = |s: &str| s.to_ascii_lowercase().replace('-', "_");
    Operation::ALL
        .iter()
        .copied()
        .find(|op| norm(op.info().id) == norm(id))
        .ok_or_else(|| {
            let ids: Vec<&str> = Operation::ALL.iter().map(|op| op.info().id).collect();
            UsageError(format!(
                "no operation {id:?} in the spec; the operations are: {} (ccsqm api --list)",
                ids.join(", ")
            ))
        })
}

fn list() -> Result<()> {
    let mut out = std::io::stdout().lock();
    for operation in Operation::ALL {
        let spec = operation.info();
        writeln!(out, "{}  {} {}", spec.id, spec.method, spec.path)?;
        writeln!(out, "    {}", spec.summary)?;
        for header in spec.headers {
            let source = if SessionHeader::of(header.name).is_some() {
                " (from the configuration)"
            } else {
                ""
            };
            writeln!(
                out,
                "    -H {}=…{}{source}",
                header.name,
                if header.required { ", required" } else { "" }
            )?;
        }
        if let Some(body) = spec.body {
            for field in body.fields {
                writeln!(
                    out,
                    "    -f {}=<{}>{}",
                    field.name,
                    kind_name(&field.kind),
                    if field.required { ", required" } else { "" }
                )?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

fn kind_name(kind: &Kind) -> String {
    match kind {
        Kind::String => "text".into(),
        Kind::Secret => "secret text".into(),
        Kind::Integer => "integer".into(),
        Kind::UnixSeconds => "time".into(),
        Kind::Number => "number".into(),
        Kind::Boolean => "boolean".into(),
        Kind::Enum(e) => format!("{} name or code", e.kind),
        Kind::Array(item) => format!("{}, ...", kind_name(item)),
        Kind::Object(s) => format!("{} as JSON", s.name),
        Kind::Other => "JSON".into(),
    }
}

/// The body: `--input`'s JSON object, then each `-f` on top (an array field's `-f`s append).
fn body(spec: &OperationSpec, args: &ApiArgs) -> Result<Value> {
    let Some(schema) = spec.body else {
        if args.input.is_some() || !args.field.is_empty() {
            anyhow::bail!(UsageError(format!(
                "{} has no request body: -f and --input do not apply",
                spec.id
            )));
        }
        return Ok(Value::Null);
    };
    let mut body = match &args.input {
        None => Map::new(),
        Some(path) => {
            let text = if path.as_os_str() == "-" {
                read_bounded(std::io::stdin().lock(), MAX_INPUT_BYTES)
                    .map_err(|why| UsageError(format!("--input - (stdin): {why}")))?
            } else {
                read_text(path, MAX_INPUT_BYTES)
                    .map_err(|why| UsageError(format!("--input {}: {why}", path.display())))?
            };
            match serde_json::from_str(&text) {
                Ok(Value::Object(map)) => map,
                Ok(_) => {
                    anyhow::bail!(UsageError("--input: the body must be a JSON object".into()))
                }
                Err(e) => anyhow::bail!(UsageError(format!("--input: not JSON: {e}"))),
            }
        }
    };
    let mut appended: Vec<&str> = Vec::new();
    for pair in &args.field {
        let (name, text) = pair
            .split_once('=')
            .ok_or_else(|| UsageError(format!("-f {pair:?}: expected FIELD=VALUE")))?;
        let field = schema.field(name).ok_or_else(|| {
            let names: Vec<&str> = schema.fields.iter().map(|f| f.name).collect();
            UsageError(format!(
                "-f {name}: {} has no field {name:?}; its fields are: {}",
                schema.name,
                names.join(", ")
            ))
        })?;
        let value = value(field, text).map_err(|e| UsageError(format!("-f {name}: {e}")))?;
        match (value, body.get_mut(field.name)) {
            (Value::Array(items), Some(Value::Array(existing)))
                if appended.contains(&field.name) =>
            {
                existing.extend(items)
            }
            (value, _) => {
                body.insert(field.name.to_owned(), value);
                appended.push(field.name);
            }
        }
    }
    Ok(Value::Object(body))
}

/// A `-f` value by its field's kind: `null`, or the kind's form (an array's items separated by
/// commas); `@FILE` reads the value from a file (`@-`: stdin), as `gh api -F` does, so that a
/// secret need not be on the command line.
fn value(field: &Field, text: &str) -> Result<Value, String> {
    let read;
    let text = match text.strip_prefix('@') {
        Some("-") => {
            read = read_bounded(std::io::stdin().lock(), MAX_INPUT_BYTES)
                .map_err(|why| format!("@- (stdin): {why}"))?;
            read.trim_end_matches(['\n', '\r'])
        }
        Some(path) => {
            read = read_text(std::path::Path::new(path), MAX_INPUT_BYTES)
                .map_err(|why| format!("@{path}: {why}"))?;
            read.trim_end_matches(['\n', '\r'])
        }
        None => text,
    };
    if text.trim() == "null" {
        return Ok(Value::Null);
    }
    let now = jiff::Timestamp::now();
    let tz = TimeZone::system();
    match field.kind {
        Kind::Array(item) => text
            .split(',')
            .map(|part| crate::request::value_of(field, item, part, now, &tz))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        kind => crate::request::value_of(field, &kind, text, now, &tz),
    }
}

/// `-H NAME=VALUE`, checked against the operation's header parameters.
fn headers(spec: &OperationSpec, given: &[String]) -> Result<Vec<(String, String)>, UsageError> {
    let mut headers = Vec::new();
    for pair in given {
        let (name, text) = pair
            .split_once('=')
            .ok_or_else(|| UsageError(format!("-H {pair:?}: expected NAME=VALUE")))?;
        let header = spec
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                let names: Vec<&str> = spec.headers.iter().map(|h| h.name).collect();
                UsageError(format!(
                    "-H {name}: {} has no header parameter {name:?}; it has: {}",
                    spec.id,
                    names.join(", ")
                ))
            })?;
        let value = crate::request::value_of(
            header,
            &header.kind,
            text,
            jiff::Timestamp::now(),
            &TimeZone::system(),
        )
        .map_err(|e| UsageError(format!("-H {name}: {e}")))?;
        let text = match value {
            Value::String(s) => s,
            other => other.to_string(),
        };
        headers.push((header.name.to_owned(), text));
    }
    for header in spec.headers {
        let from_config = SessionHeader::of(header.name).is_some();
        if header.required && !from_config && !headers.iter().any(|(n, _)| n == header.name) {
            return Err(UsageError(format!(
                "{} requires the header {}: -H {}=VALUE",
                spec.id, header.name, header.name
            )));
        }
    }
    Ok(headers)
}
