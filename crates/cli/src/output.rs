//! Output formats: what `ccsqm details` writes to stdout or `--output-file`.

use std::io::{self, Write};

use ccsqm_client::spec::schemas::CALL;
use ccsqm_models::types::Call;
use ccsqm_models::{AppraisecallDetailsResponse, CallExt, CallRecord, CallType, InspectionStatus};
use jiff::tz::TimeZone;
use serde_json::Value;

/// `--output`: how calls are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One page: the API's response, pretty-printed. With --all: a JSON array of the calls
    /// (as ndjson's lines), streamed.
    Json,
    /// One call per line, as JSON, with its call_group_id.
    Ndjson,
    /// A header row, then one call per row: call_group_id and every call field.
    Csv,
    /// For people: a chosen set of columns (local time, agent, type and status by name,
    /// duration, speech ratios, UUID); csv and ndjson carry every field.
    Table,
}

/// The CSV columns, in order: `call_group_id`, then the fields of the spec's `Call` schema in
/// the spec's order (from the generated `ccsqm_client::spec`).
pub fn csv_columns() -> impl Iterator<Item = &'static str> {
    std::iter::once("call_group_id").chain(CALL.fields.iter().map(|f| f.name))
}

/// Writes one page as the API's response, pretty-printed.
pub fn write_page_json(out: &mut dyn Write, page: &AppraisecallDetailsResponse) -> io::Result<()> {
    for group in &page.data {
        group.calls.iter().try_for_each(check_finite)?;
    }
    serde_json::to_writer_pretty(&mut *out, page)?;
    out.write_all(b"\n")
}

/// `--csv-formulas`: what CSV does with a text cell that a spreadsheet would run as a formula.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum CsvFormulas {
    /// A text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a `'` in
    /// front (OWASP's advice), so that a spreadsheet shows it as text; so does one starting
    /// with `'`, so that removing one leading `'` from a text cell always gives the text back.
    /// Numbers are never changed.
    #[default]
    Neutralise,
    /// Every cell as the server sent it.
    Keep,
}

/// The first characters that make a spreadsheet read a cell as a formula, and the quote that
/// neutralises them (which is itself quoted, so that the change can be undone).
const FORMULA_STARTS: [char; 7] = ['=', '+', '-', '@', '\t', '\r', '\''];

/// Writes calls one at a time, as they arrive.
pub struct CallWriter<W: Write> {
    out: W,
    kind: Kind,
    header_done: bool,
    csv_formulas: CsvFormulas,
}

enum Kind {
    Ndjson,
    /// A JSON array of call records, one per line.
    JsonArray,
    Csv,
    Table(TimeZone),
}

impl<W: Write> CallWriter<W> {
    /// A writer of `format` (for [`Format::Json`], a JSON array of calls; one page as the
    /// API's response is [`write_page_json`]). `tz` is the time zone of the table's times.
    pub fn new(out: W, format: Format, tz: TimeZone) -> Self {
        let kind = match format {
            Format::Ndjson => Kind::Ndjson,
            Format::Json => Kind::JsonArray,
            Format::Csv => Kind::Csv,
            Format::Table => Kind::Table(tz),
        };
        Self {
            out,
            kind,
            header_done: false,
            csv_formulas: CsvFormulas::default(),
        }
    }

    /// What CSV does with text cells that look like formulas (default: neutralise them).
    pub fn csv_formulas(mut self, csv_formulas: CsvFormulas) -> Self {
        self.csv_formulas = csv_formulas;
        self
    }

    /// Writes one call.
    pub fn write(&mut self, record: &CallRecord) -> io::Result<()> {
        let first = !self.header_done;
        if first {
            self.header_done = true;
            self.header()?;
        }
        match &self.kind {
            Kind::Ndjson => {
                check_finite(&record.call)?;
                serde_json::to_writer(&mut self.out, record)?;
                self.out.write_all(b"\n")
            }
            Kind::JsonArray => {
                self.out.write_all(if first { b"\n" } else { b",\n" })?;
                serde_json::to_writer(&mut self.out, record)?;
                Ok(())
            }
            Kind::Csv => {
                let fields = serde_json::to_value(record)?;
                check_finite_fields(&fields, &record.call)?;
                let row: Vec<String> = csv_columns()
                    .map(|c| csv_cell(&fields[c], self.csv_formulas))
                    .collect();
                write_csv_row(&mut self.out, &row)
            }
            Kind::Table(tz) => {
                let line = table_row(record, tz);
                writeln!(self.out, "{}", line.trim_end())
            }
        }
    }

    /// Writes what a format needs even with no calls (the CSV header, the table's header), and
    /// flushes.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.header_done {
            self.header()?;
        }
        if let Kind::JsonArray = self.kind {
            self.out.write_all(b"\n]\n")?;
        }
        self.out.flush()?;
        Ok(self.out)
    }

    fn header(&mut self) -> io::Result<()> {
        match &self.kind {
            Kind::Ndjson => Ok(()),
            Kind::JsonArray => self.out.write_all(b"["),
            Kind::Csv => {
                let header: Vec<String> = csv_columns().map(str::to_owned).collect();
                write_csv_row(&mut self.out, &header)
            }
            Kind::Table(_) => {
                let line = table_line(TABLE_HEADER.map(String::from));
                writeln!(self.out, "{}", line.trim_end())
            }
        }
    }
}

/// JSON has no NaN or infinity, and serde_json writes them as `null` (so CSV, made from the
/// JSON, as an empty cell): a call holding one is refused rather than written without it. A
/// call read from a response never holds one.
fn check_finite(call: &Call) -> io::Result<()> {
    check_finite_fields(&serde_json::to_value(call)?, call)
}

/// An absent field is left out of the JSON, so a `null` there is a number JSON cannot hold.
fn check_finite_fields(fields: &Value, call: &Call) -> io::Result<()> {
    let Some(name) = fields
        .as_object()
        .and_then(|map| map.iter().find(|(_, v)| v.is_null()).map(|(k, _)| k))
    else {
        return Ok(());
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "call {:?}: {name} is not a finite number, which JSON cannot hold",
            call.call_id.as_deref().unwrap_or("")
        ),
    ))
}

/// A cell: a number as JSON writes it (never changed), a text as it is, or with a `'` in
/// front when it starts like a formula and `formulas` says to neutralise it.
fn csv_cell(value: &Value, formulas: CsvFormulas) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s)
            if formulas == CsvFormulas::Neutralise && s.starts_with(FORMULA_STARTS) =>
        {
            format!("'{s}")
        }
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn write_csv_row(out: &mut impl Write, row: &[String]) -> io::Result<()> {
    let mut writer = csv::WriterBuilder::new().from_writer(&mut *out);
    writer.write_record(row).map_err(io::Error::other)?;
    writer.flush()
}

const TABLE_HEADER: [&str; 8] = [
    "CALL TIME",
    "AGENT",
    "TYPE",
    "STATUS",
    "DURATION",
    "LEFT",
    "RIGHT",
    "CALL UUID",
];
const TABLE_WIDTHS: [usize; 8] = [19, 20, 5, 28, 9, 15, 15, 0];

/// One line of the table. Cells hold server text: their control and bidirectional characters
/// are shown escaped ([`ccsqm_client::visible`]), so that none can drive the terminal.
fn table_line(cells: [String; 8]) -> String {
    let mut line = String::new();
    for (cell, width) in cells.iter().zip(TABLE_WIDTHS) {
        let cell = truncate(&ccsqm_client::visible(cell), width);
        line.push_str(&format!("{cell:<width$}  "));
    }
    line
}

fn truncate(cell: &str, width: usize) -> String {
    if width == 0 || cell.chars().count() <= width {
        return cell.to_owned();
    }
    let mut short: String = cell.chars().take(width - 1).collect();
    short.push('…');
    short
}

fn table_row(record: &CallRecord, tz: &TimeZone) -> String {
    let call = &record.call;
    let time = call
        .call_time()
        .map(|t| {
            t.to_zoned_datetime(tz.clone())
                .strftime("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_default();
    let agent = call
        .staff_name
        .clone()
        .or_else(|| call.staff_id.clone())
        .unwrap_or_default();
    let name = |n: Option<String>| n.unwrap_or_default();
    let channel = |who: &Option<String>, ratio: Option<f64>| match (who, ratio) {
        (Some(who), Some(r)) => format!("{who} {:.0}%", r * 100.0),
        (None, Some(r)) => format!("{:.0}%", r * 100.0),
        (Some(who), None) => who.clone(),
        (None, None) => String::new(),
    };
    table_line([
        time,
        agent,
        name(call.call_type.map(|c| CallType::from_code(c).to_string())),
        name(
            call.status
                .map(|s| InspectionStatus::from_code(s).to_string()),
        ),
        call.duration.map(duration).unwrap_or_default(),
        channel(&call.left_channel, call.left_speech_ratio),
        channel(&call.right_channel, call.right_speech_ratio),
        call.call_uuid.clone().unwrap_or_default(),
    ])
}

/// `164.22` seconds as `2m44s`; under a minute as `41.5s`.
fn duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return format!("{seconds}s");
    }
    if seconds < 60.0 {
        return format!("{seconds:.1}s");
    }
    let whole = seconds.round() as u64;
    let (h, m, s) = (whole / 3600, whole % 3600 / 60, whole % 60);
    if h > 0 {
        format!("{h}h{m:02}m{s:02}s")
    } else {
        format!("{m}m{s:02}s")
    }
}

#[cfg(test)]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_durations() {
        assert_eq!(duration(164.22), "2m44s");
        assert_eq!(duration(41.5), "41.5s");
        assert_eq!(duration(3725.0), "1h02m05s");
        assert_eq!(duration(-1.0), "-1s");
    }

    #[test]
    fn csv_cells_that_start_like_formulas_are_neutralised_unless_kept() {
        use serde_json::json;
        let n = CsvFormulas::Neutralise;
        for text in [
            "=1+1",
            "+1",
            "-2",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "=HYPERLINK(\"x\")",
        ] {
            assert_eq!(csv_cell(&json!(text), n), format!("'{text}"));
            assert_eq!(csv_cell(&json!(text), CsvFormulas::Keep), text);
        }
        assert_eq!(
            csv_cell(&json!("'=1"), n),
            "''=1",
            "undone by removing one quote"
        );
        for text in ["", "a=1", " =1", "1-2"] {
            assert_eq!(csv_cell(&json!(text), n), text);
        }
        assert_eq!(csv_cell(&json!(-1), n), "-1", "a JSON number is a number");
        assert_eq!(csv_cell(&json!(-0.5), n), "-0.5");
    }

    #[test]
    fn table_cells_show_control_and_bidi_characters_escaped() {
        let call = Call {
            staff_name: Some("\u{1b}]0;owned\u{7}\u{1b}[31mred\r\nforged row".into()),
            call_uuid: Some("\u{202e}gpj.exe\u{9b}".into()),
            ..Call::default()
        };
        let record = CallRecord {
            call_group_id: Some("g".into()),
            call,
        };
        let line = table_row(&record, &TimeZone::UTC);
        assert!(
            !line.chars().any(ccsqm_client::is_unsafe_for_terminal),
            "{line:?}"
        );
        assert!(line.contains(r"\u{1b}]0;owned"), "{line}");
        assert!(line.contains(r"\u{202e}gpj.exe\u{9b}"), "{line}");
    }

    #[test]
    fn long_cells_are_cut_to_their_column() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abcd", 4), "abcd");
        assert_eq!(truncate("any length", 0), "any length");
    }
}
