//! `--log-format json` (`ccsqm sync`): every line on stderr is one JSON object, for a machine
//! to read (journald, Loki, a log shipper): `{"time", "level", "event", ...}`, with the fields
//! of its event. Set once, before anything is said; every place of the command that writes to
//! stderr asks [`json`] first (the final error in `main.rs`, the settings' warnings, the sync's
//! rounds, the client's logs through `tracing`). Messages are the text ones, after the same
//! redaction (secrets never reach an error's text) and made visible (no control character).

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Map, Value};

static JSON: AtomicBool = AtomicBool::new(false);

/// `--log-format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for people (and a progress bar on a terminal).
    #[default]
    Text,
    /// One JSON object per line: `time`, `level`, `event`, and the event's fields.
    Json,
}

/// From now on, stderr gets JSON lines.
pub fn set(format: LogFormat) {
    JSON.store(format == LogFormat::Json, Ordering::SeqCst);
}

/// Whether stderr gets JSON lines.
pub fn json() -> bool {
    JSON.load(Ordering::SeqCst)
}

/// Writes one JSON line on stderr: `level` (`info`, `warn`, `error`), `event`, then `fields`
/// (their strings made visible).
pub fn line(level: &str, event: &str, fields: Map<String, Value>) {
    let mut object = Map::new();
    object.insert("time".into(), jiff::Timestamp::now().to_string().into());
    object.insert("level".into(), level.into());
    object.insert("event".into(), event.into());
    for (key, value) in fields {
        let value = match value {
            Value::String(text) => Value::String(ccsqm_client::visible(&text).into_owned()),
            other => other,
        };
        object.insert(key, value);
    }
    eprintln!("{}", Value::Object(object));
}

/// A message alone, as a JSON line.
pub fn message(level: &str, event: &str, text: &str) {
    let mut fields = Map::new();
    fields.insert("message".into(), text.into());
    line(level, event, fields);
}

