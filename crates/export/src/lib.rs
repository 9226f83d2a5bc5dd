//! The output formats of CCSQM's inspected calls and transcripts, as `ccsqm details` and
//! `ccsqm transcript` write them, for services that export on their own:
//!
//! - [`CallWriter`]: calls one at a time as they arrive, as NDJSON, a streamed JSON array, CSV
//!   (columns from the spec, text cells that start like a spreadsheet formula neutralised,
//!   times and codes readable on request) or a table for people ([`table`]: columns fitted to
//!   a width by display width); [`write_page`]: one page as the API's response; [`fields`]:
//!   a subset of a call's fields; a [`Filter`] (as `ccsqm`'s `--jq`) run on each call;
//! - [`transcript::TranscriptWriter`]: transcripts as a readable conversation, NDJSON
//!   segments, the API's JSON or WebVTT;
//! - [`cells`]: a value for people (a time in a [`cells::Zone`], a code by its name);
//! - `file` (Unix): an output file replaced only when complete ([`file::Target`],
//!   [`file::Output`]), so a failed export leaves the previous file untouched.
//!
//! It prints nothing and never exits: writers write to the `io::Write` they are given and
//! return `io::Error`s; what a person should hear (a table's columns left out, a transcript's
//! segment WebVTT cannot hold) goes to the writer's warning callback (by default a `tracing`
//! warning). Server text never drives a terminal: tables and readable text escape control and
//! bidirectional characters ([`ccsqm_client::visible`]).

use std::io::{self, Write};

mod calls;
pub mod cells;
pub mod fields;
#[cfg(unix)]
pub mod file;
pub mod table;
pub mod transcript;

pub use calls::{csv_columns, write_page, CallWriter, CsvFormulas, CsvStyle, Format};

/// Where a writer sends what a person should hear (without a program's name in front).
pub type Warn = Box<dyn FnMut(&str) + Send + Sync>;

/// The default [`Warn`]: a `tracing` warning.
pub(crate) fn tracing_warn() -> Warn {
    Box::new(|text| tracing::warn!("{text}"))
}

/// A result of a [`Filter`]: a string (written raw), or any other value as compact JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    /// A string.
    Str(String),
    /// Any other value, as compact JSON.
    Json(String),
}

/// A filter run on each call's JSON (or a page's) before it is written, as `ccsqm`'s `--jq`.
pub trait Filter {
    /// Runs the filter on `input`, giving each result to `each`.
    fn run(
        &self,
        input: &serde_json::Value,
        each: &mut dyn FnMut(Out) -> io::Result<()>,
    ) -> io::Result<()>;
}

/// Writes a result on its own line as `gh --jq` does: a string raw (escaped by
/// [`ccsqm_client::visible`] when `terminal`: server text never drives it), anything else as
/// compact JSON.
pub fn write_line(out: &mut dyn Write, value: &Out, terminal: bool) -> io::Result<()> {
    match value {
        Out::Str(text) => match terminal {
            true => out.write_all(ccsqm_client::visible(text).as_bytes())?,
            false => out.write_all(text.as_bytes())?,
        },
        Out::Json(text) => out.write_all(text.as_bytes())?,
    }
    out.write_all(b"\n")
}

/// Writes a result as JSON (an element of a JSON array).
pub fn write_json(out: &mut dyn Write, value: &Out) -> io::Result<()> {
    match value {
        Out::Str(text) => serde_json::to_writer(&mut *out, text).map_err(io::Error::from),
        Out::Json(text) => out.write_all(text.as_bytes()),
    }
}

/// The README's example, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
