//! The output formats of `ccsqm transcript`: a readable conversation, NDJSON segments, the
//! API's JSON, and WebVTT.

use std::io::{self, Write};
use std::time::Duration;

use ccsqm_models::{AppraisecallDetailResponse, Party, Segment, Transcript};
use serde::Serialize;

use crate::Warn;

/// How transcripts are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum TranscriptFormat {
    /// A readable conversation: per call a header, then one line per segment.
    Text,
    /// One segment per line, with its call's `call_uuid` and the speaking party.
    Ndjson,
    /// The API's responses, as a JSON array in input order.
    Json,
    /// WebVTT subtitles of one call, to show under its recording.
    Vtt,
}

/// Writes transcripts one after the other in a format.
pub struct TranscriptWriter<W: Write> {
    out: W,
    format: TranscriptFormat,
    written: usize,
    warn: Warn,
}

/// An NDJSON line: a segment as the API sent it, with its call and the party.
#[derive(Serialize)]
struct SegmentLine<'a> {
    call_uuid: &'a str,
    party: &'static str,
    #[serde(flatten)]
    segment: &'a Segment,
}

impl<W: Write> TranscriptWriter<W> {
    /// A writer of `format` to `out`.
    pub fn new(out: W, format: TranscriptFormat) -> Self {
        Self {
            out,
            format,
            written: 0,
            warn: crate::tracing_warn(),
        }
    }

    /// Where the notes of segments left out go (a segment WebVTT cannot hold) [default: a
    /// `tracing` warning].
    pub fn on_warning(mut self, warn: Warn) -> Self {
        self.warn = warn;
        self
    }

    /// Writes the transcript of the call asked for as `call_uuid`.
    pub fn write(&mut self, call_uuid: &str, transcript: &Transcript) -> io::Result<()> {
        let first = self.written == 0;
        self.written += 1;
        match self.format {
            TranscriptFormat::Text => self.text(first, call_uuid, transcript),
            TranscriptFormat::Ndjson => {
                for (typed, segment) in transcript
                    .segments
                    .iter()
                    .zip(&transcript.response.segments)
                {
                    serde_json::to_writer(
                        &mut self.out,
                        &SegmentLine {
                            call_uuid,
                            party: typed.party.as_str(),
                            segment,
                        },
                    )?;
                    self.out.write_all(b"\n")?;
                }
                Ok(())
            }
            TranscriptFormat::Json => {
                self.out.write_all(if first { b"[\n" } else { b",\n" })?;
                json_value(&mut self.out, &transcript.response)
            }
            TranscriptFormat::Vtt => self.vtt(first, call_uuid, transcript),
        }
    }

    /// Ends the output (the JSON array's bracket, an empty WebVTT file's header) and flushes.
    /// When `failed` (a call could not be fetched) and nothing was written, nothing is: an
    /// empty array or a lone `WEBVTT` would look like a complete answer.
    pub fn finish(mut self, failed: bool) -> io::Result<W> {
        match self.format {
            _ if failed && self.written == 0 => {}
            TranscriptFormat::Json if self.written == 0 => self.out.write_all(b"[]\n")?,
            TranscriptFormat::Json => self.out.write_all(b"\n]\n")?,
            TranscriptFormat::Vtt if self.written == 0 => self.out.write_all(b"WEBVTT\n")?,
            _ => {}
        }
        self.out.flush()?;
        Ok(self.out)
    }

    fn text(&mut self, first: bool, call_uuid: &str, t: &Transcript) -> io::Result<()> {
        if !first {
            writeln!(self.out)?;
        }
        writeln!(self.out, "{}", header(call_uuid, t))?;
        if !t.has_segments() {
            return writeln!(self.out, "  (no transcript)");
        }
        for s in &t.segments {
            writeln!(
                self.out,
                "  [{}] {:<8}  {}",
                s.start.map(clock).unwrap_or_else(|| "--:--.-".to_owned()),
                s.party.as_str(),
                printable(&s.text)
            )?;
        }
        Ok(())
    }

    /// One call's cues, rendered whole before a byte is written.
    fn vtt(&mut self, first: bool, call_uuid: &str, t: &Transcript) -> io::Result<()> {
        let mut text = String::new();
        if first {
            text.push_str("WEBVTT\n");
        }
        // A NOTE block may not hold "-->"; the header never breaks lines.
        text.push_str(&format!(
            "\nNOTE {}\n",
            header(call_uuid, t).replace("-->", "- ->")
        ));
        let sent = t
            .response
            .segments
            .iter()
            .map(Some)
            .chain(std::iter::repeat(None));
        for (k, (s, sent)) in t.segments.iter().zip(sent).enumerate() {
            let mut skipped = |why: String| {
                (self.warn)(&format!(
                    "call {}: segment {} {why}: not in the WebVTT output",
                    printable(call_uuid),
                    k + 1
                ));
            };
            let (Some(start), Some(end)) = (s.start, s.end) else {
                let times = sent.map(|sent| [("start", sent.start_time), ("end", sent.end_time)]);
                let out_of_range: Vec<String> = times
                    .into_iter()
                    .flatten()
                    .filter_map(|(name, value)| {
                        let value = value?;
                        let bad = Duration::try_from_secs_f64(value).is_err();
                        bad.then(|| format!("{name} time {} s", seconds_text(value)))
                    })
                    .collect();
                match out_of_range.is_empty() {
                    true => skipped("has no start or end time".to_owned()),
                    false => skipped(format!(
                        "has a {} out of range (from 0 to {} s)",
                        out_of_range.join(" and an "),
                        seconds_text(Duration::MAX.as_secs_f64())
                    )),
                }
                continue;
            };
            if end < start {
                skipped("ends before it starts".to_owned());
                continue;
            }
            let voice = match s.party {
                Party::Customer => "Customer",
                Party::Agent => "Agent",
                Party::Unknown => "Unknown",
            };
            text.push_str(&format!(
                "\n{}\n{} --> {}\n<v {voice}>{}\n",
                k + 1,
                vtt_time(start),
                vtt_time(end),
                vtt_text(&s.text)
            ));
        }
        self.out.write_all(text.as_bytes())
    }
}

/// A number of seconds as a message shows it: short, in scientific notation when large.
fn seconds_text(value: f64) -> String {
    match value.abs() < 1e15 {
        true => format!("{value}"),
        false => format!("{value:e}"),
    }
}

/// One call's header: the call, its agent, type, status and duration, on one line.
pub fn header(call_uuid: &str, t: &Transcript) -> String {
    let r = &t.response;
    let mut parts = vec![format!("call {}", printable(call_uuid))];
    match (&r.staff_name, &r.staff_id) {
        (Some(name), Some(id)) => {
            parts.push(format!("agent {} ({})", printable(name), printable(id)))
        }
        (Some(name), None) => parts.push(format!("agent {}", printable(name))),
        (None, Some(id)) => parts.push(format!("agent {}", printable(id))),
        (None, None) => {}
    }
    if let Some(call_type) = t.call_type() {
        parts.push(call_type.to_string());
    }
    if let Some(status) = t.status() {
        parts.push(status.to_string());
    }
    if let Some(duration) = t.duration() {
        parts.push(clock(duration));
    }
    format!("== {} ==", parts.join(" · "))
}

/// `mm:ss.s`, or `h:mm:ss.s` from an hour on.
fn clock(d: Duration) -> String {
    let tenths = d.as_millis() / 100;
    let (h, m, s, t) = (
        tenths / 36_000,
        tenths / 600 % 60,
        tenths / 10 % 60,
        tenths % 10,
    );
    if h > 0 {
        format!("{h}:{m:02}:{s:02}.{t}")
    } else {
        format!("{m:02}:{s:02}.{t}")
    }
}

/// WebVTT's `hh:mm:ss.ttt`.
fn vtt_time(d: Duration) -> String {
    let ms = d.as_millis();
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// Cue text: one line, with `&`, `<` and `>` escaped, and no control characters.
fn vtt_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in printable(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Server text made safe for a terminal: control characters (escape sequences, line breaks)
/// and the characters that reorder text (bidirectional overrides) become U+FFFD.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            let reorders = matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
            if c.is_control() || reorders {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

/// The API's JSON of one response, indented.
fn json_value(out: &mut impl Write, response: &AppraisecallDetailResponse) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, response)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_and_cue_times() {
        assert_eq!(clock(Duration::from_millis(83_450)), "01:23.4");
        assert_eq!(clock(Duration::from_secs(3725)), "1:02:05.0");
        assert_eq!(vtt_time(Duration::from_millis(3_725_120)), "01:02:05.120");
    }

    #[test]
    fn server_text_cannot_drive_the_terminal_or_the_cue() {
        assert_eq!(
            printable("a\u{1b}[31mb\nc\u{202E}d"),
            "a\u{FFFD}[31mb\u{FFFD}c\u{FFFD}d"
        );
        assert_eq!(vtt_text("a <b> & c --> d"), "a &lt;b&gt; &amp; c --&gt; d");
    }
}
