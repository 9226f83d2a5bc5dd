//! `cargo xtask codegen [--check]`: every generated file of the workspace, from `spec/ccsqm.yaml`.
//!
//! One path writes and checks (as in rust-analyzer's xtask): [`generate`] renders every output in
//! memory, then either writes the files that differ or, with `check`, reports them as a unified
//! diff and fails.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use progenitor::{GenerationSettings, Generator, InterfaceStyle, TypeImpl};

/// The spec, relative to the workspace root.
pub const SPEC: &str = "spec/ccsqm.yaml";

/// The generated client code (progenitor, builder interface).
pub const CLIENT_OUT: &str = "crates/client/src/generated.rs";

/// The generated typed mocks (progenitor's httpmock generator).
pub const HTTPMOCK_OUT: &str = "crates/httpmock/src/generated.rs";

/// The facts of the spec progenitor does not emit (operations, fields, enumerations): used by
/// the CLI, the sandbox and the tests ([`crate::facts::spec_facts`]).
pub const SPEC_OUT: &str = "crates/client/src/spec.rs";

/// The enumerations as named Rust enums of `ccsqm-models` ([`crate::facts::model_enums`]).
pub const MODELS_OUT: &str = "crates/models/src/generated.rs";

/// The sandbox's schema-derived sample of a call ([`crate::facts::sandbox_sample`]).
pub const SANDBOX_OUT: &str = "crates/sandbox/src/generated.rs";

/// The tables of `ccsqm sync` ([`crate::sql_schema::sync_schema`]).
pub const SYNC_OUT: &str = "crates/sync/src/generated.rs";

/// The path, in generated code, of the hand-written type that replaces the spec's `Secret`
/// schema, so that tokens and app secrets are redacted in `Debug`.
const SECRET_TYPE: &str = "::ccsqm_client::Secret";

/// The path of the hand-written type that replaces the spec's `Paging` schema: the same
/// schema, but `total` is read tolerantly (`1000.0`, `"1000"`).
const PAGING_TYPE: &str = "::ccsqm_client::Paging";

const FIX: &str = "cargo xtask codegen";

/// Reads the spec below `root`, renders every generated file and writes the ones that differ,
/// or, when `check` is set, prints a unified diff of the ones that differ and fails.
pub fn generate(root: &Path, check: bool) -> Result<()> {
    let outputs = render(&read_spec(root)?)?;
    if check {
        let diff = drift(root, &outputs)?;
        if !diff.is_empty() {
            print!("{diff}");
            bail!("generated code is out of date with {SPEC}; run `{FIX}` and commit the result");
        }
        return Ok(());
    }
    for (rel, new) in &outputs {
        if read_or_empty(&root.join(rel))? != *new {
            let path = root.join(rel);
            std::fs::write(&path, new).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {rel}");
        }
    }
    Ok(())
}

/// The unified diff from the files below `root` to `outputs`; empty when they are the same.
pub fn drift(root: &Path, outputs: &[(&str, String)]) -> Result<String> {
    let mut diff = String::new();
    for (rel, new) in outputs {
        let old = read_or_empty(&root.join(rel))?;
        if old != *new {
            let unified = similar::TextDiff::from_lines(&old, new)
                .unified_diff()
                .context_radius(3)
                .header(&format!("a/{rel}"), &format!("b/{rel}"))
                .to_string();
            diff.push_str(&unified);
        }
    }
    Ok(diff)
}

/// The spec's text, read from below `root`.
pub fn read_spec(root: &Path) -> Result<String> {
    let path = root.join(SPEC);
    std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
}

fn read_or_empty(path: &Path) -> Result<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Renders every generated file from the spec's text: `(path relative to the root, contents)`.
/// Deterministic: the same spec gives byte-identical output.
pub fn render(spec_text: &str) -> Result<Vec<(&'static str, String)>> {
    let spec = parse_spec(spec_text)?;

    let client = crate::feature_gates::gate_schemars(
        generator()
            .generate_tokens(&spec)
            .context("progenitor: generating the client")?,
    )
    .context("gating the client's JSON Schema derives behind its `schemars` feature")?;
    let mocks = crate::mocks::extend(
        generator()
            .httpmock(&spec, "ccsqm_client")
            .context("progenitor: generating the httpmock extension")?,
        &spec,
    )?;

    Ok(vec![
        (
            CLIENT_OUT,
            name_invalid_values(
                &format_file(client, "the CCSQM client: types, `Client` and its builders")?,
                &spec,
            )?,
        ),
        (
            HTTPMOCK_OUT,
            format_file(mocks, "typed `httpmock` mocks of the CCSQM operations")?,
        ),
        (
            SPEC_OUT,
            format_source(
                &crate::facts::spec_facts(&spec)?,
                "the spec's operations, fields and enumerations",
            )?,
        ),
        (
            MODELS_OUT,
            format_source(
                &crate::facts::model_enums(&spec)?,
                "the spec's integer enumerations as named enums",
            )?,
        ),
        (
            SANDBOX_OUT,
            format_source(
                &crate::facts::sandbox_sample(&spec)?,
                "the unset fields of a call, from their schemas",
            )?,
        ),
        (
            SYNC_OUT,
            format_source(
                &crate::sql_schema::sync_schema(&spec)?,
                "the tables of `ccsqm sync`, from the call's schema",
            )?,
        ),
    ])
}

/// typify's `TryFrom<i64>` of an integer enumeration fails with a bare `"invalid value"` (also
/// the message of a response that does not deserialize): rewritten, for each enumeration with
/// `x-enum-varnames`, to name the value, the enumeration and its documented codes. Fails when
/// the generated code no longer has the expected shape (a progenitor upgrade), rather than
/// leaving the bare message.
fn name_invalid_values(source: &str, spec: &openapiv3::OpenAPI) -> Result<String> {
    const BARE: &str = "Err(\"invalid value\".into())";
    let mut out = source.to_owned();
    for (name, schema) in crate::facts::component_schemas(spec)? {
        let Some(values) = crate::facts::enum_values(name, schema)? else {
            continue;
        };
        let head = format!("impl ::std::convert::TryFrom<i64> for {name} {{");
        let start = out
            .find(&head)
            .ok_or_else(|| anyhow::anyhow!("the generated client has no `{head}`"))?;
        let at = out[start..]
            .find(BARE)
            .map(|i| start + i)
            .filter(|&i| !out[start..i].contains("\n    }\n"))
            .ok_or_else(|| anyhow::anyhow!("`{head}` no longer fails with {BARE}"))?;
        // Codes only: the message stays short (a server's 400 reason quotes it).
        let documented: Vec<String> = values.iter().map(|v| v.code.to_string()).collect();
        let named = format!(
            "Err(format!({:?}).into())",
            format!(
                "{{value}} is not a documented {} ({})",
                crate::facts::words(name),
                documented.join(", ")
            )
        );
        out.replace_range(at..at + BARE.len(), &named);
    }
    rustfmt(&out)
}

/// Parses the YAML spec into progenitor's OpenAPI model.
pub fn parse_spec(spec_text: &str) -> Result<openapiv3::OpenAPI> {
    serde_saphyr::from_str(spec_text).with_context(|| format!("parsing {SPEC} as OpenAPI 3.0"))
}

fn generator() -> Generator {
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_inner_type(quote_path("crate::Session"))
        .with_replacement("Secret", SECRET_TYPE, std::iter::empty::<TypeImpl>())
        .with_replacement("Paging", PAGING_TYPE, [TypeImpl::Default].into_iter())
        .with_derive("schemars::JsonSchema")
        .with_derive("PartialEq");
    Generator::new(&settings)
}

fn quote_path(path: &str) -> proc_macro2::TokenStream {
    path.parse().expect("a valid Rust path")
}

fn format_file(tokens: proc_macro2::TokenStream, what: &str) -> Result<String> {
    let file: syn::File = syn::parse2(tokens).context("progenitor emitted invalid Rust")?;
    rustfmt(&(header(what) + &line_doc_comments(&prettyplease::unparse(&file))))
}

/// Source text written by [`crate::facts`]: checked to parse, then formatted.
fn format_source(source: &str, what: &str) -> Result<String> {
    syn::parse_file(source)
        .map_err(|e| anyhow::anyhow!("xtask emitted invalid Rust ({what}): {e}"))?;
    rustfmt(&(header(what) + source))
}

fn header(what: &str) -> String {
    format!(
        "// @generated by `{FIX}` from {SPEC}: {what}.\n\
         // Do not edit by hand: edit {SPEC}, run `{FIX}`, and commit both.\n\n"
    )
}

/// Rewrites the `/** ... */` and `/*! ... */` blocks that prettyplease prints for multi-line doc
/// strings as `///` and `//!` lines: in a block, prettyplease indents every line after the first,
/// and rustdoc would read the indented lines of a spec description as code (and run them as
/// doctests).
fn line_doc_comments(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut block: Option<(&str, &str)> = None; // (indent, line marker) inside a block
    for line in source.lines() {
        let trimmed = line.trim_start();
        let (indent, marker, content) = match block {
            Some((indent, marker)) => {
                (indent, marker, line.strip_prefix(indent).unwrap_or(trimmed))
            }
            None => {
                let indent = &line[..line.len() - trimmed.len()];
                match (trimmed.strip_prefix("/**"), trimmed.strip_prefix("/*!")) {
                    (Some(rest), _) => (indent, "///", rest),
                    (_, Some(rest)) => (indent, "//!", rest),
                    _ => {
                        out.push_str(line);
                        out.push('\n');
                        continue;
                    }
                }
            }
        };
        let (content, ends) = match content.trim_end().strip_suffix("*/") {
            Some(content) => (content, true),
            None => (content, false),
        };
        if !(ends && content.trim().is_empty() && block.is_some()) {
            out.push_str(indent);
            out.push_str(marker);
            out.push_str(content.trim_end());
            out.push('\n');
        }
        block = if ends { None } else { Some((indent, marker)) };
    }
    out
}

/// Formats with the stable toolchain's rustfmt, as `cargo fmt` will check it.
fn rustfmt(source: &str) -> Result<String> {
    use std::io::Write;
    let rustfmt = std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".to_owned());
    let mut child = Command::new(&rustfmt)
        .args(["--edition", "2021", "--emit", "stdout", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| {
            format!("running {rustfmt} (install it with `rustup component add rustfmt`)")
        })?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = source.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().context("waiting for rustfmt")?;
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("rustfmt writer thread panicked"))?
        .context("writing to rustfmt")?;
    if !output.status.success() {
        bail!(
            "rustfmt failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    String::from_utf8(output.stdout).context("rustfmt printed non-UTF-8")
}
