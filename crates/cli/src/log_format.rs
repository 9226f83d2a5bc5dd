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

/// A warning on stderr: a JSON line (event `warning`) with `--log-format json`, else
/// `ccsqm: warning: …`.
pub fn warning(text: &str) {
    match json() {
        true => message("warn", "warning", text),
        false => eprintln!("ccsqm: warning: {text}"),
    }
}

/// The `tracing` events (the client's requests and warnings, the settings' sources with
/// `-v`) as JSON lines of the same shape: event `log`, with `target`, `message` and the
/// event's fields.
pub struct JsonLayer;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for JsonLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let mut fields = Fields(Map::new());
        fields
            .0
            .insert("target".into(), event.metadata().target().into());
        event.record(&mut fields);
        let level = match *event.metadata().level() {
            tracing::Level::ERROR => "error",
            tracing::Level::WARN => "warn",
            tracing::Level::INFO => "info",
            tracing::Level::DEBUG => "debug",
            tracing::Level::TRACE => "trace",
        };
        line(level, "log", fields.0);
    }
}

/// An event's fields, as JSON values.
struct Fields(Map<String, Value>);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_i64(&mut self, field: &tracing::field::Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_bool(&mut self, field: &tracing::field::Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_f64(&mut self, field: &tracing::field::Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
}
