//! The formats of calls: what `ccsqm details` writes to stdout or `--output-file`.

use std::io::{self, Write};

use ccsqm_client::spec::schemas::CALL;
use ccsqm_models::types::Call;
use ccsqm_models::CallRecord;
use serde_json::Value;

use crate::cells::{self, Zone};
use crate::table::Table;
use crate::{fields, Filter, Out, Warn};

/// `--output`: how calls are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Format {
    /// One page: the API's response, pretty-printed. With --all: a JSON array of the calls
    /// (as ndjson's lines), streamed.
    Json,
    /// One call per line, as JSON, with its call_group_id.
    Ndjson,
    /// A header row, then one call per row: call_group_id and every call field.
    Csv,
    /// For people: a chosen set of columns (time in --tz, agent, type and status by name,
    /// duration, speech ratios, UUID) or --fields, fitted to the terminal's width; csv and
    /// ndjson carry every field.
    Table,
}

/// The CSV columns, in order: `call_group_id`, then the fields of the spec's `Call` schema in
/// the spec's order (from the generated `ccsqm_client::spec`).
pub fn csv_columns() -> impl Iterator<Item = &'static str> {
    std::iter::once("call_group_id").chain(CALL.fields.iter().map(|f| f.name))
}

/// `--csv-formulas`: what CSV does with a text cell that a spreadsheet would run as a formula.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
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

/// `--csv-style`: how CSV shows times and codes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum CsvStyle {
    /// As the API sends them: times in Unix seconds, codes as numbers.
    #[default]
    Machine,
    /// For people: times in RFC 3339 in the --tz time zone, and beside each code a
    /// `<field>_name` column with its name (status_name, call_type_name).
    Readable,
}

/// Writes calls one at a time, as they arrive.
pub struct CallWriter<W: Write> {
    out: W,
    kind: Kind,
    header_done: bool,
    csv_formulas: CsvFormulas,
    csv_style: CsvStyle,
    zone: Zone,
    fields: Option<Vec<&'static str>>,
    jq: Option<Box<dyn Filter + Send + Sync>>,
    /// Strings from `--jq` are escaped: stdout is a terminal.
    terminal: bool,
    /// Elements of the JSON array written so far.
    elements: u64,
    table_width: Option<usize>,
    table_sample: usize,
    warn: Option<Warn>,
}

enum Kind {
    Ndjson,
    /// A JSON array of call records, one per line.
    JsonArray,
    Csv,
    /// Made at the first call, with the options set by then.
    Table(Option<Box<Table>>),
}

impl<W: Write> CallWriter<W> {
    /// A writer of `format` (for [`Format::Json`], a JSON array of calls; one page as the
    /// API's response is [`write_page`]). `zone` is the time zone of the times shown
    /// (the table, readable CSV).
    pub fn new(out: W, format: Format, zone: Zone) -> Self {
        let kind = match format {
            Format::Ndjson => Kind::Ndjson,
            Format::Json => Kind::JsonArray,
            Format::Csv => Kind::Csv,
            Format::Table => Kind::Table(None),
        };
        Self {
            out,
            kind,
            header_done: false,
            csv_formulas: CsvFormulas::default(),
            csv_style: CsvStyle::default(),
            zone,
            fields: None,
            jq: None,
            terminal: false,
            elements: 0,
            table_width: None,
            table_sample: 100,
            warn: None,
        }
    }

    /// What CSV does with text cells that look like formulas (default: neutralise them).
    pub fn csv_formulas(mut self, csv_formulas: CsvFormulas) -> Self {
        self.csv_formulas = csv_formulas;
        self
    }

    /// How CSV shows times and codes (default: as the API sends them).
    pub fn csv_style(mut self, csv_style: CsvStyle) -> Self {
        self.csv_style = csv_style;
        self
    }

    /// Only these fields of each call (`--fields`), in this order.
    pub fn fields(mut self, fields: Option<Vec<&'static str>>) -> Self {
        self.fields = fields;
        self
    }

    /// A filter (as `--jq`) run on each call (NDJSON, JSON array); `terminal`: its strings
    /// are escaped.
    pub fn jq(mut self, jq: Option<Box<dyn Filter + Send + Sync>>, terminal: bool) -> Self {
        self.jq = jq;
        self.terminal = terminal;
        self
    }

    /// The table's lines are at most `max_width` long; its widths are set by the first
    /// `sample` calls (a page).
    pub fn table_layout(mut self, max_width: Option<usize>, sample: usize) -> Self {
        self.table_width = max_width;
        self.table_sample = sample;
        self
    }

    /// Where the table's notes go (columns left out) [default: a `tracing` warning].
    pub fn on_warning(mut self, warn: Warn) -> Self {
        self.warn = Some(warn);
        self
    }

    /// Writes one call.
    pub fn write(&mut self, record: &CallRecord) -> io::Result<()> {
        if !self.header_done {
            self.header_done = true;
            self.header()?;
        }
        match &mut self.kind {
            Kind::Ndjson => {
                check_finite(&record.call)?;
                match (&self.jq, &self.fields) {
                    (None, None) => serde_json::to_writer(&mut self.out, record)?,
                    (None, Some(fields)) => {
                        let pairs = selected(record, fields)?;
                        fields::write_object(&mut self.out, &pairs)?;
                    }
                    (Some(jq), _) => {
                        let input = jq_input(record, self.fields.as_deref())?;
                        let (out, terminal) = (&mut self.out, self.terminal);
                        return jq.run(&input, &mut |v| crate::write_line(out, &v, terminal));
                    }
                }
                self.out.write_all(b"\n")
            }
            Kind::JsonArray => {
                check_finite(&record.call)?;
                let (out, elements) = (&mut self.out, &mut self.elements);
                match (&self.jq, &self.fields) {
                    (None, None) => {
                        next_element(out, elements)?;
                        serde_json::to_writer(out, record)?;
                    }
                    (None, Some(fields)) => {
                        let pairs = selected(record, fields)?;
                        next_element(out, elements)?;
                        fields::write_object(out, &pairs)?;
                    }
                    (Some(jq), _) => {
                        let input = jq_input(record, self.fields.as_deref())?;
                        jq.run(&input, &mut |v: Out| {
                            next_element(out, elements)?;
                            crate::write_json(out, &v)
                        })?;
                    }
                }
                Ok(())
            }
            Kind::Csv => {
                let fields = serde_json::to_value(record)?;
                check_finite_fields(&fields, &record.call)?;
                let mut row = Vec::new();
                for column in self.csv_fields() {
                    let value = &fields[column];
                    let readable = self.csv_style == CsvStyle::Readable;
                    match value.as_i64() {
                        Some(seconds) if readable && cells::is_time(column) => row.push(
                            self.zone
                                .rfc3339(seconds)
                                .unwrap_or_else(|| csv_cell(value, self.csv_formulas)),
                        ),
                        _ => row.push(csv_cell(value, self.csv_formulas)),
                    }
                    if let Some(enumeration) = cells::enumeration_of(column).filter(|_| readable) {
                        row.push(cells::name_of(enumeration, value).unwrap_or("").to_owned());
                    }
                }
                write_csv_row(&mut self.out, &row)
            }
            Kind::Table(table) => {
                let table = table.get_or_insert_with(|| {
                    new_table(
                        &self.fields,
                        &self.zone,
                        self.table_width,
                        self.table_sample,
                        &mut self.warn,
                    )
                });
                table.write(&mut self.out, record)
            }
        }
    }

    /// Flushes what is written so far.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Writes what a format needs even with no calls (the CSV header, the table's header), and
    /// flushes.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.header_done {
            self.header()?;
        }
        match &mut self.kind {
            Kind::JsonArray => self.out.write_all(b"\n]\n")?,
            Kind::Table(table) => {
                let table = table.get_or_insert_with(|| {
                    new_table(
                        &self.fields,
                        &self.zone,
                        self.table_width,
                        self.table_sample,
                        &mut self.warn,
                    )
                });
                table.finish(&mut self.out)?;
            }
            _ => {}
        }
        self.out.flush()?;
        Ok(self.out)
    }

    /// The fields of a CSV row: `--fields`, or `call_group_id` and every field of a call.
    fn csv_fields(&self) -> Vec<&'static str> {
        match &self.fields {
            Some(fields) => fields.clone(),
            None => csv_columns().collect(),
        }
    }

    fn header(&mut self) -> io::Result<()> {
        match &self.kind {
            Kind::Ndjson | Kind::Table(_) => Ok(()),
            Kind::JsonArray => self.out.write_all(b"["),
            Kind::Csv => {
                let mut header = Vec::new();
                for column in self.csv_fields() {
                    header.push(column.to_owned());
                    if self.csv_style == CsvStyle::Readable
                        && cells::enumeration_of(column).is_some()
                    {
                        header.push(format!("{column}_name"));
                    }
                }
                write_csv_row(&mut self.out, &header)
            }
        }
    }
}

/// Starts the next element of a JSON array: each on its own line, after a comma but the first.
fn next_element(out: &mut impl Write, elements: &mut u64) -> io::Result<()> {
    out.write_all(if *elements == 0 { b"\n" } else { b",\n" })?;
    *elements += 1;
    Ok(())
}

/// A call's `fields`, in their order, as JSON values.
fn selected(
    record: &CallRecord,
    fields: &[&'static str],
) -> io::Result<Vec<(&'static str, Value)>> {
    let value = serde_json::to_value(record)?;
    Ok(value
        .as_object()
        .map(|object| fields::select(object, fields))
        .unwrap_or_default())
}

/// What `--jq` runs on: the call as NDJSON writes it (with `--fields`, only those).
fn jq_input(record: &CallRecord, fields: Option<&[&'static str]>) -> io::Result<Value> {
    match fields {
        None => Ok(serde_json::to_value(record)?),
        Some(fields) => Ok(Value::Object(
            selected(record, fields)?
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        )),
    }
}

/// Writes one page (`-o json` without `--all`): the API's response, pretty-printed, with the
/// keys the spec does not name where the server sent them ([`ccsqm_client::ScannedPage`]);
/// with only `fields` in each call; or with `jq`, the filter's results on the response, one a
/// line.
pub fn write_page(
    out: &mut dyn Write,
    page: &ccsqm_client::ScannedPage,
    fields: Option<&[&'static str]>,
    jq: Option<&dyn Filter>,
    terminal: bool,
) -> io::Result<()> {
    for group in &page.page().data {
        group.calls.iter().try_for_each(check_finite)?;
    }
    let mut value = page.to_json()?;
    if fields.is_none() && jq.is_none() {
        serde_json::to_writer_pretty(&mut *out, &value)?;
        return out.write_all(b"\n");
    }
    if let Some(fields) = fields {
        fields::select_in_page(&mut value, fields);
    }
    match jq {
        Some(jq) => jq.run(&value, &mut |v| crate::write_line(out, &v, terminal)),
        None => {
            serde_json::to_writer_pretty(&mut *out, &value)?;
            out.write_all(b"\n")
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

/// The table of `-o table`, made at its first row (or at the end, with none) from the writer's
/// settings.
fn new_table(
    fields: &Option<Vec<&'static str>>,
    zone: &Zone,
    width: Option<usize>,
    sample: usize,
    warn: &mut Option<Warn>,
) -> Box<Table> {
    let table = Table::new(fields.clone(), zone.clone(), width, sample);
    Box::new(table.on_warning(warn.take().unwrap_or_else(crate::tracing_warn)))
}

#[cfg(test)]
#[path = "props.rs"]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

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
}
