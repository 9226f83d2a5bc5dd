//! `-o table`: calls for people, in columns that fit a width (the terminal's).
//!
//! The columns are a chosen set (time, agent, type, status, duration, channels, UUID), or the
//! `--fields` asked for. Their widths come from the first page (the rows are held until it is
//! complete, at most one page), fitted to the width given (`ccsqm` gives the terminal's when
//! stdout is one, else `COLUMNS` when set, else no limit). When the columns are too wide
//! together, the widest are narrowed first (never below a few characters), and when even that
//! is too wide, the last columns are left out (said to the warning callback); a cell longer
//! than its column is cut, with `…`. So no line is ever longer than the width: a row never
//! wraps. Later pages keep the widths, so `--all` streams in aligned columns.
//!
//! comfy-table lays out the cells: it measures text by its display width (a Chinese name is
//! two columns a character, an emoji two, a combining accent none) and cuts by grapheme.
//! Cells hold server text: their control and bidirectional characters are escaped first
//! ([`ccsqm_client::visible`]), so that none can drive the terminal.

use std::io::{self, Write};

use ccsqm_models::{CallExt, CallRecord};
use comfy_table::{ColumnConstraint, Row, Width};
use serde_json::Value;

use crate::cells::{self, Zone};
use crate::Warn;

/// Space between two columns.
const GAP: usize = 2;
/// The narrowest a column is made to fit (a narrower content keeps its own width).
const MIN_WIDTH: usize = 8;

/// How narrow each default column may be cut (`None`: never cut): the agent and the channels
/// to [`MIN_WIDTH`], the status to 16 (enough to tell `inspection-succeeded` from
/// `inspection-failed`); times, codes, numbers and the UUID (of no use cut) keep their width.
const DEFAULT_LEAST: [Option<usize>; 8] = [
    None,
    Some(MIN_WIDTH),
    None,
    Some(16),
    None,
    Some(MIN_WIDTH),
    Some(MIN_WIDTH),
    None,
];

/// The default columns in the order they are left out when the table does not fit, least
/// useful first: RIGHT, LEFT, DURATION, TYPE, AGENT, STATUS, CALL TIME. CALL UUID stays.
const DEFAULT_DROP_ORDER: [usize; 7] = [6, 5, 4, 2, 1, 3, 0];

/// The chosen columns of the default table.
const DEFAULT_HEADERS: [&str; 8] = [
    "CALL TIME",
    "AGENT",
    "TYPE",
    "STATUS",
    "DURATION",
    "LEFT",
    "RIGHT",
    "CALL UUID",
];

/// What the table shows.
enum Columns {
    Default,
    Fields(Vec<&'static str>),
}

/// A table, written row by row once the first page has set the widths.
pub struct Table {
    columns: Columns,
    zone: Zone,
    max_width: Option<usize>,
    /// Rows held until the widths are fixed: the first page.
    sample: usize,
    pending: Vec<Vec<String>>,
    /// The columns shown (their indices) with their widths, once fixed.
    widths: Option<Vec<(usize, usize)>>,
    warn: Warn,
}

impl Table {
    /// A table of the default columns, or of `fields`; times in `zone`; lines at most
    /// `max_width` long; widths fixed after `sample` rows (the page size).
    pub fn new(
        fields: Option<Vec<&'static str>>,
        zone: Zone,
        max_width: Option<usize>,
        sample: usize,
    ) -> Self {
        Table {
            columns: fields.map_or(Columns::Default, Columns::Fields),
            zone,
            max_width,
            sample: sample.max(1),
            pending: Vec::new(),
            widths: None,
            warn: crate::tracing_warn(),
        }
    }

    /// Where the note of columns left out goes [default: a `tracing` warning].
    pub fn on_warning(mut self, warn: Warn) -> Self {
        self.warn = warn;
        self
    }

    /// The column titles: a time column says its time zone.
    pub fn headers(&self) -> Vec<String> {
        match &self.columns {
            Columns::Default => DEFAULT_HEADERS
                .iter()
                .map(|h| match *h {
                    "CALL TIME" => format!("{h} ({})", self.zone.label),
                    h => h.to_owned(),
                })
                .collect(),
            Columns::Fields(fields) => fields
                .iter()
                .map(|f| match cells::is_time(f) {
                    true => format!("{} ({})", f.to_uppercase(), self.zone.label),
                    false => f.to_uppercase(),
                })
                .collect(),
        }
    }

    /// Adds a call; writes the rows once the widths are known.
    pub fn write(&mut self, out: &mut dyn Write, record: &CallRecord) -> io::Result<()> {
        let row = self.cells(record)?;
        if self.widths.is_some() {
            return self.render(out, &[row]);
        }
        self.pending.push(row);
        if self.pending.len() >= self.sample {
            self.flush_pending(out)?;
        }
        Ok(())
    }

    /// Writes what is held (the header, at least).
    pub fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.widths.is_none() {
            self.flush_pending(out)?;
        }
        Ok(())
    }

    fn flush_pending(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let headers = self.headers();
        let mut natural: Vec<usize> = headers.iter().map(|h| display_width(h)).collect();
        for row in &self.pending {
            for (w, cell) in natural.iter_mut().zip(row) {
                *w = (*w).max(display_width(cell));
            }
        }
        let least: Vec<usize> = natural
            .iter()
            .zip(self.least())
            .map(|(w, least)| least.map_or(*w, |least| (*w).min(least)))
            .collect();
        let fitted = fit(&natural, &least, &self.drop_order(), self.max_width);
        let widths: Vec<(usize, usize)> = fitted
            .iter()
            .enumerate()
            .filter_map(|(i, w)| w.map(|w| (i, w)))
            .collect();
        if widths.len() < headers.len() {
            let left_out: Vec<&str> = fitted
                .iter()
                .zip(&headers)
                .filter(|(w, _)| w.is_none())
                .map(|(_, h)| h.as_str())
                .collect();
            (self.warn)(&format!(
                "the table leaves out {} column(s) that do not fit in {} characters ({}): \
                 widen the terminal, set COLUMNS, or choose with --fields",
                left_out.len(),
                self.max_width.unwrap_or_default(),
                left_out.join(", ")
            ));
        }
        self.widths = Some(widths);
        let mut rows = vec![headers];
        rows.append(&mut self.pending);
        self.render(out, &rows)
    }

    /// Writes `rows` in the fixed widths, each on one line, cut to its columns.
    fn render(&self, out: &mut dyn Write, rows: &[Vec<String>]) -> io::Result<()> {
        let Some(widths) = &self.widths else {
            return Ok(());
        };
        let mut table = comfy_table::Table::new();
        table
            .load_style(comfy_table::presets::NOTHING)
            // Cut a long cell where it reaches its width, not at a word: NUL never occurs in a
            // cell (control characters are escaped).
            .set_delimiter('\0')
            .set_truncation_indicator("…");
        for cells in rows {
            let shown = widths
                .iter()
                .map(|(i, _)| cells.get(*i).cloned().unwrap_or_default());
            let mut row = Row::from(shown.collect::<Vec<_>>());
            row.max_height(1);
            table.add_row(row);
        }
        let last = widths.len().saturating_sub(1);
        let constraints: Vec<ColumnConstraint> = widths
            .iter()
            .enumerate()
            .map(|(i, (_, w))| {
                let gap = if i == last { 0 } else { GAP };
                let total = u16::try_from(w + gap).unwrap_or(u16::MAX);
                ColumnConstraint::Absolute(Width::Fixed(total))
            })
            .collect();
        table.set_constraints(constraints);
        for i in 0..widths.len() {
            if let Some(column) = table.column_mut(i) {
                let gap = if i == last { 0 } else { GAP as u16 };
                column.set_padding((0, gap));
            }
        }
        for line in table.lines() {
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }

    fn cells(&self, record: &CallRecord) -> io::Result<Vec<String>> {
        let cells = match &self.columns {
            Columns::Default => default_cells(record, &self.zone),
            Columns::Fields(fields) => {
                let value = serde_json::to_value(record)?;
                fields
                    .iter()
                    .map(|f| {
                        cells::for_people(f, value.get(*f).unwrap_or(&Value::Null), &self.zone)
                    })
                    .collect()
            }
        };
        Ok(cells
            .iter()
            .map(|c| ccsqm_client::visible(c).into_owned())
            .collect())
    }
}

impl Table {
    /// How narrow each column may be cut: text (names, channels, a status) may be, down to a
    /// few characters; times, codes, numbers and `call_uuid` keep their width (`None`).
    fn least(&self) -> Vec<Option<usize>> {
        match &self.columns {
            Columns::Default => DEFAULT_LEAST.to_vec(),
            Columns::Fields(fields) => fields
                .iter()
                .map(|f| {
                    let text = *f != KEY_FIELD
                        && cells::call_field(f)
                            .is_none_or(|field| field.kind == ccsqm_client::spec::Kind::String);
                    text.then_some(MIN_WIDTH)
                })
                .collect(),
        }
    }

    /// The columns in the order they are left out when the table does not fit (every column
    /// but the one kept to the last): see [`DEFAULT_DROP_ORDER`]; for `--fields`, the last
    /// first, `call_uuid` last of all.
    fn drop_order(&self) -> Vec<usize> {
        match &self.columns {
            Columns::Default => DEFAULT_DROP_ORDER.to_vec(),
            Columns::Fields(fields) => {
                let mut order: Vec<usize> = (0..fields.len()).rev().collect();
                if let Some(key) = fields.iter().position(|f| *f == KEY_FIELD) {
                    order.retain(|i| *i != key);
                    order.push(key);
                }
                order
            }
        }
    }
}

/// The field `ccsqm transcript` takes: kept to the last, and whole while another column could go.
const KEY_FIELD: &str = "call_uuid";

/// The width of `text` on a terminal (columns: two for a Chinese character, none for a
/// combining accent), as comfy-table measures it.
fn display_width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

/// The widths of the columns that fit in `max` (all when there is no limit), given the width
/// each one's content needs, the narrowest each may be cut to (`least`; its natural width for
/// one that is never cut), and the order in which columns are left out (`drop_order`: indices,
/// least useful first; a column it does not name is kept to the last): the widest columns that
/// can give are narrowed first, one character at a time, never below their `least`; when that
/// is still too wide, columns are left out in `drop_order` (`None`). A single column left is
/// cut to `max`, whatever it holds.
pub fn fit(
    natural: &[usize],
    least: &[usize],
    drop_order: &[usize],
    max: Option<usize>,
) -> Vec<Option<usize>> {
    let line = |widths: &mut dyn Iterator<Item = usize>| -> usize {
        let (sum, n): (usize, usize) = widths.fold((0, 0), |(sum, n), w| (sum + w, n + 1));
        sum + GAP * n.saturating_sub(1)
    };
    let all = || natural.iter().map(|w| Some(*w)).collect();
    let Some(max) = max else {
        return all();
    };
    if line(&mut natural.iter().copied()) <= max {
        return all();
    }
    let least: Vec<usize> = natural
        .iter()
        .enumerate()
        .map(|(i, w)| least.get(i).map_or(*w, |l| (*l).min(*w)))
        .collect();
    let mut shown = vec![true; natural.len()];
    let width_of = |shown: &[bool], widths: &[usize]| {
        line(
            &mut widths
                .iter()
                .zip(shown)
                .filter(|(_, s)| **s)
                .map(|(w, _)| *w),
        )
    };
    // Then, in order, what `drop_order` leaves out; the last column of all is kept.
    let order = drop_order
        .iter()
        .copied()
        .filter(|i| *i < natural.len())
        .chain((0..natural.len()).rev().filter(|i| !drop_order.contains(i)));
    for i in order {
        if width_of(&shown, &least) <= max || shown.iter().filter(|s| **s).count() <= 1 {
            break;
        }
        shown[i] = false;
    }
    let mut widths: Vec<Option<usize>> = natural
        .iter()
        .zip(&shown)
        .map(|(w, s)| s.then_some(*w))
        .collect();
    let kept: Vec<usize> = (0..natural.len()).filter(|i| shown[*i]).collect();
    if let [only] = kept[..] {
        widths[only] = Some(natural[only].min(max).max(1));
        return widths;
    }
    let mut excess = width_of(&shown, natural).saturating_sub(max);
    while excess > 0 {
        // The widest column that can still give a character (the last of equals).
        let Some(i) = kept
            .iter()
            .copied()
            .filter(|&i| widths[i].is_some_and(|w| w > least[i]))
            .max_by_key(|&i| (widths[i], i))
        else {
            break;
        };
        if let Some(w) = widths[i].as_mut() {
            *w -= 1;
        }
        excess -= 1;
    }
    widths
}

fn default_cells(record: &CallRecord, zone: &Zone) -> Vec<String> {
    let call = &record.call;
    let time = call
        .call_time()
        .map(|t| {
            t.to_zoned_datetime(zone.tz.clone())
                .strftime("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_default();
    let agent = call
        .staff_name
        .clone()
        .or_else(|| call.staff_id.clone())
        .unwrap_or_default();
    let named = |field: &str, code: Option<i64>| {
        code.map(|c| cells::for_people(field, &Value::from(c), zone))
            .unwrap_or_default()
    };
    let channel = |who: &Option<String>, ratio: Option<f64>| match (who, ratio) {
        (Some(who), Some(r)) => format!("{who} {:.0}%", r * 100.0),
        (None, Some(r)) => format!("{:.0}%", r * 100.0),
        (Some(who), None) => who.clone(),
        (None, None) => String::new(),
    };
    vec![
        time,
        agent,
        named("call_type", call.call_type),
        named("status", call.status),
        call.duration.map(duration).unwrap_or_default(),
        channel(&call.left_channel, call.left_speech_ratio),
        channel(&call.right_channel, call.right_speech_ratio),
        call.call_uuid.clone().unwrap_or_default(),
    ]
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
mod tests {
    use super::*;
    use ccsqm_models::types::Call;

    fn utc() -> Zone {
        Zone::parse("UTC").unwrap()
    }

    fn record(call: Call) -> CallRecord {
        CallRecord {
            call_group_id: Some("g".into()),
            call,
            ..CallRecord::default()
        }
    }

    fn render(table: &mut Table, calls: &[Call]) -> String {
        let mut out = Vec::new();
        for call in calls {
            table.write(&mut out, &record(call.clone())).unwrap();
        }
        table.finish(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn durations_read_like_durations() {
        assert_eq!(duration(164.22), "2m44s");
        assert_eq!(duration(41.5), "41.5s");
        assert_eq!(duration(3725.0), "1h02m05s");
        assert_eq!(duration(-1.0), "-1s");
    }

    /// `fit` with the last columns left out first: the widths shown.
    fn fit_last_first(natural: &[usize], flexible: &[bool], max: Option<usize>) -> Vec<usize> {
        let order: Vec<usize> = (0..natural.len()).rev().collect();
        let least: Vec<usize> = natural
            .iter()
            .zip(flexible.iter().chain(std::iter::repeat(&true)))
            .map(|(w, flexible)| if *flexible { (*w).min(MIN_WIDTH) } else { *w })
            .collect();
        fit(natural, &least, &order, max)
            .into_iter()
            .flatten()
            .collect()
    }

    #[test]
    fn widths_fit_by_narrowing_the_widest_then_leaving_columns_out() {
        let text = [true; 4];
        let fit = fit_last_first;
        assert_eq!(fit(&[10, 40, 5], &text, None), [10, 40, 5]);
        assert_eq!(fit(&[10, 40, 5], &text, Some(59)), [10, 40, 5]);
        assert_eq!(fit(&[10, 40, 5], &text, Some(50)), [10, 31, 5]);
        // the widest first, down to the next widest, then both
        assert_eq!(fit(&[20, 30, 5], &text, Some(43)), [17, 17, 5]);
        // only text columns give characters
        assert_eq!(
            fit(&[20, 30, 5], &[false, true, false], Some(43)),
            [20, 14, 5]
        );
        assert_eq!(fit(&[30, 20, 5], &[false, true, false], Some(33)), [30]);
        // too narrow for every column at its least: the last ones are left out
        assert_eq!(fit(&[20, 30, 20, 20], &text, Some(20)), [9, 9]);
        assert_eq!(fit(&[50], &text, Some(8)), [8]);
    }

    #[test]
    fn the_default_table_keeps_the_uuid_whole_and_drops_the_least_useful_first() {
        let natural = [19, 20, 5, 28, 9, 15, 15, 36];
        let least: Vec<usize> = natural
            .iter()
            .zip(DEFAULT_LEAST)
            .map(|(w, l)| l.map_or(*w, |l| l.min(*w)))
            .collect();
        let mut dropped_before = Vec::new();
        for max in (1..160).rev() {
            let widths = fit(&natural, &least, &DEFAULT_DROP_ORDER, Some(max));
            let shown: Vec<usize> = widths.iter().flatten().copied().collect();
            let line = shown.iter().sum::<usize>() + GAP * (shown.len() - 1);
            assert!(line <= max, "{max}: {widths:?}");
            // The UUID is always there, whole when it fits at all.
            assert_eq!(widths[7], Some(36.min(max)), "{max}: {widths:?}");
            // Columns go in the drop order, and never come back at a narrower width.
            let dropped: Vec<usize> = (0..8).filter(|i| widths[*i].is_none()).collect();
            assert!(
                dropped_before.iter().all(|i| dropped.contains(i)),
                "{max}: {dropped:?} after {dropped_before:?}"
            );
            let expected: Vec<usize> = {
                let mut d = DEFAULT_DROP_ORDER[..dropped.len()].to_vec();
                d.sort_unstable();
                d
            };
            assert_eq!(dropped, expected, "{max}");
            dropped_before = dropped;
        }
        // 80 columns: the UUID, the time and the status at least.
        let widths = fit(&natural, &least, &DEFAULT_DROP_ORDER, Some(80));
        assert!(widths[0].is_some() && widths[3].is_some() && widths[7] == Some(36));
    }

    #[test]
    fn no_line_is_longer_than_the_width_with_wide_characters() {
        let call = Call {
            staff_name: Some("王小明王小明王小明王小明".into()),
            call_uuid: Some("3b9cd7a9-d38c-4aa0-a35d-77f6abb9f497".into()),
            left_channel: Some("customer".into()),
            left_speech_ratio: Some(0.5),
            status: Some(2),
            call_type: Some(0),
            call_time: Some(1_622_633_782),
            duration: Some(61.0),
            ..Call::default()
        };
        for width in [40, 61, 80, 100, 132] {
            let mut table = Table::new(None, utc(), Some(width), 100);
            let text = render(&mut table, &[call.clone(), call.clone()]);
            assert_eq!(text.lines().count(), 3, "{text}");
            for line in text.lines() {
                assert!(display_width(line) <= width, "{width}: {line:?}");
            }
            // The UUID always, whole; the time beside it when both fit (19 + 2 + 36).
            assert!(
                text.contains("3b9cd7a9-d38c-4aa0-a35d-77f6abb9f497"),
                "{text}"
            );
            assert_eq!(text.contains("CALL TIME (UTC)"), width >= 57, "{text}");
        }
        let mut wide = Table::new(None, utc(), None, 100);
        let text = render(&mut wide, &[call]);
        assert!(text.contains("王小明王小明王小明王小明"), "{text}");
        assert!(
            text.contains("3b9cd7a9-d38c-4aa0-a35d-77f6abb9f497"),
            "{text}"
        );
    }

    #[test]
    fn rows_after_the_first_page_keep_its_widths() {
        let short = Call {
            staff_name: Some("Ann".into()),
            ..Call::default()
        };
        let long = Call {
            staff_name: Some("A much longer agent name".into()),
            ..Call::default()
        };
        let mut table = Table::new(Some(vec!["staff_name", "status"]), utc(), None, 1);
        let text = render(&mut table, &[short, long]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "STAFF_NAME  STATUS");
        assert_eq!(lines[1], "Ann");
        assert_eq!(lines[2], "A much lo…");
    }

    #[test]
    fn table_cells_show_control_and_bidi_characters_escaped() {
        let call = Call {
            staff_name: Some("\u{1b}]0;owned\u{7}\u{1b}[31mred\r\nforged row".into()),
            call_uuid: Some("\u{202e}gpj.exe\u{9b}".into()),
            ..Call::default()
        };
        let mut table = Table::new(None, utc(), None, 100);
        let text = render(&mut table, &[call]);
        assert!(
            !text
                .chars()
                .any(|c| c != '\n' && ccsqm_client::is_unsafe_for_terminal(c)),
            "{text:?}"
        );
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.contains(r"\u{1b}]0;owned"), "{text}");
        assert!(text.contains(r"\u{202e}gpj.exe\u{9b}"), "{text}");
    }

    #[test]
    fn fields_show_times_in_the_zone_and_codes_by_name() {
        let call = Call {
            call_time: Some(1_622_633_782),
            status: Some(9),
            call_type: Some(2),
            ..Call::default()
        };
        let zone = Zone::parse("Asia/Shanghai").unwrap();
        let mut table = Table::new(
            Some(vec!["call_time", "status", "call_type"]),
            zone,
            None,
            10,
        );
        let text = render(&mut table, &[call]);
        assert!(text.starts_with("CALL_TIME (Asia/Shanghai)"), "{text}");
        assert!(text.contains("2021-06-02 19:36:22"), "{text}");
        assert!(text.contains("inspection-failed"), "{text}");
        assert!(text.contains("text"), "{text}");
    }
}
