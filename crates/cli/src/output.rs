//! Output formats: what `ccsqm details` writes to stdout or `--output-file`.

use std::io::{self, Write};

use ccsqm_models::types::Call;
use ccsqm_models::{AppraisecallDetailsResponse, CallExt, CallRecord, CallType, InspectionStatus};
use jiff::tz::TimeZone;
use serde_json::Value;

/// `--output`: how calls are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The API's response, pretty-printed: one page (not with --all).
    Json,
    /// One call per line, as JSON, with its call_group_id.
    Ndjson,
    /// A header row, then one call per row: call_group_id and every call field.
    Csv,
    /// For people: local time, agent, type and status by name, duration, speech ratios.
    Table,
}

/// The CSV columns, in order: `call_group_id`, then the fields of the spec's `Call` schema in
/// the spec's order (a test compares them with `spec/ccsqm.yaml`).
pub const CSV_COLUMNS: [&str; 24] = [
    "call_group_id",
    "call_id",
    "call_time",
    "call_type",
    "call_uuid",
    "deal",
    "duration",
    "file_name",
    "left_channel",
    "left_silence_time",
    "left_speech_ratio",
    "left_speed",
    "right_channel",
    "right_silence_time",
    "right_speech_ratio",
    "right_speed",
    "staff_id",
    "status",
    "upload_time",
    "staff_name",
    "create_time",
    "inspect_status",
    "complain_status",
    "review_status",
];

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
    Csv,
    Table(TimeZone),
}

impl<W: Write> CallWriter<W> {
    /// A writer of `format` (not [`Format::Json`], which writes pages: see [`write_page_json`]).
    /// `tz` is the time zone of the table's times.
    pub fn new(out: W, format: Format, tz: TimeZone) -> Self {
        let kind = match format {
            Format::Ndjson | Format::Json => Kind::Ndjson,
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
        if !self.header_done {
            self.header_done = true;
            self.header()?;
        }
        if !matches!(self.kind, Kind::Table(_)) {
            check_finite(&record.call)?;
        }
        match &self.kind {
            Kind::Ndjson => {
                serde_json::to_writer(&mut self.out, record)?;
                self.out.write_all(b"\n")
            }
            Kind::Csv => {
                let fields = serde_json::to_value(record)?;
                let row: Vec<String> = CSV_COLUMNS
                    .iter()
                    .map(|c| csv_cell(&fields[*c], self.csv_formulas))
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
        self.out.flush()?;
        Ok(self.out)
    }

    fn header(&mut self) -> io::Result<()> {
        match &self.kind {
            Kind::Ndjson => Ok(()),
            Kind::Csv => {
                let header: Vec<String> = CSV_COLUMNS.iter().map(|c| c.to_string()).collect();
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
    let numbers = [
        ("deal", call.deal),
        ("duration", call.duration),
        ("left_silence_time", call.left_silence_time),
        ("left_speech_ratio", call.left_speech_ratio),
        ("left_speed", call.left_speed),
        ("right_silence_time", call.right_silence_time),
        ("right_speech_ratio", call.right_speech_ratio),
        ("right_speed", call.right_speed),
    ];
    match numbers
        .iter()
        .find(|(_, x)| x.is_some_and(|x| !x.is_finite()))
    {
        Some((name, Some(x))) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "call {:?}: {name} is {x}, which JSON cannot hold",
                call.call_id.as_deref().unwrap_or("")
            ),
        )),
        _ => Ok(()),
    }
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

/// Where the output goes: stdout, or a temporary file beside `--output-file` that is renamed to
/// it only by [`Sink::commit`]; dropped uncommitted, the temporary file is removed.
pub enum Sink {
    Stdout(io::BufWriter<io::Stdout>),
    File {
        file: io::BufWriter<tempfile::NamedTempFile>,
        path: std::path::PathBuf,
    },
}

impl Sink {
    /// stdout, or a temporary file in the folder of `path`.
    pub fn open(path: Option<&std::path::Path>) -> anyhow::Result<Self> {
        use anyhow::Context;
        Ok(match path {
            None => Sink::Stdout(io::BufWriter::new(io::stdout())),
            Some(path) => {
                let dir = match path.parent() {
                    Some(dir) if !dir.as_os_str().is_empty() => dir,
                    _ => std::path::Path::new("."),
                };
                let file = tempfile::Builder::new()
                    .prefix(".ccsqm-")
                    .tempfile_in(dir)
                    .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
                Sink::File {
                    file: io::BufWriter::new(file),
                    path: path.to_owned(),
                }
            }
        })
    }

    /// Flushes, and renames the temporary file to the output file.
    pub fn commit(self) -> anyhow::Result<()> {
        use anyhow::Context;
        match self {
            Sink::Stdout(mut out) => Ok(out.flush()?),
            Sink::File { file, path } => {
                let file = file.into_inner().map_err(|e| e.into_error())?;
                file.as_file().sync_all()?;
                file.persist(&path)
                    .with_context(|| format!("writing {}", path.display()))?;
                Ok(())
            }
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Stdout(out) => out.write(buf),
            Sink::File { file, .. } => file.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(out) => out.flush(),
            Sink::File { file, .. } => file.flush(),
        }
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

    /// The CSV columns are `call_group_id` and the spec's `Call` properties, in the spec's order.
    #[test]
    fn csv_columns_are_the_specs_call_fields_in_order() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../spec/ccsqm.yaml");
        // openapiv3 keeps the spec's order of properties.
        let spec: openapiv3::OpenAPI =
            serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let call = spec.components.unwrap().schemas["Call"]
            .clone()
            .into_item()
            .unwrap();
        let openapiv3::SchemaKind::Type(openapiv3::Type::Object(call)) = call.schema_kind else {
            panic!("Call is an object");
        };
        let mut expected = vec!["call_group_id".to_owned()];
        expected.extend(call.properties.keys().cloned());
        assert_eq!(CSV_COLUMNS.to_vec(), expected);
    }
}
