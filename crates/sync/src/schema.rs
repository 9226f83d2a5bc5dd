//! The tables of `ccsqm sync`: the generated `calls` (see [`crate::generated`]) and the
//! hand-written bookkeeping (`ccsqm_meta`, `schema_migrations`, `sync_runs`,
//! `sync_checkpoint`), and the values that go into them.

use serde_json::Value;

/// The version of the bookkeeping tables' layout (not of the columns of `calls`, which follow
/// the spec): a database of a higher one was written by a newer `ccsqm`, and is refused.
pub const LAYOUT_VERSION: i64 = 1;

/// The value of `ccsqm_meta.application` that marks a database as `ccsqm sync`'s.
pub const APPLICATION: &str = "ccsqm sync";

/// The bookkeeping columns of `calls`, after the call's: Unix seconds of the sync's clock.
pub const BOOKKEEPING: [&str; 3] = ["first_seen", "last_seen", "last_changed"];

/// The tables that are not generated, in both dialects (types both understand).
pub const CREATE_BOOKKEEPING: [&str; 4] = [
    "CREATE TABLE ccsqm_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, schema_hash TEXT NOT NULL, \
     layout_version BIGINT NOT NULL, applied_at BIGINT NOT NULL, ccsqm_version TEXT NOT NULL, \
     description TEXT NOT NULL)",
    "CREATE TABLE sync_runs (id BIGINT PRIMARY KEY, started_at BIGINT NOT NULL, \
     finished_at BIGINT, state TEXT NOT NULL, window_from BIGINT, window_to BIGINT NOT NULL, \
     commits BIGINT NOT NULL, inserted BIGINT NOT NULL, updated BIGINT NOT NULL, \
     unchanged BIGINT NOT NULL, rechecked BIGINT NOT NULL, pending BIGINT, \
     past_horizon BIGINT, message TEXT)",
    "CREATE TABLE sync_checkpoint (name TEXT PRIMARY KEY, upload_to BIGINT NOT NULL, \
     run_id BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
];

/// Every table `ccsqm sync` creates.
pub const TABLES: [&str; 5] = [
    "ccsqm_meta",
    "schema_migrations",
    "sync_runs",
    "sync_checkpoint",
    "calls",
];

/// `--with-transcripts`: which calls' transcripts are stored, and at which (final) status of
/// the call they were fetched: a call is fetched again only when that status changes.
pub const CREATE_TRANSCRIPTS: &str =
    "CREATE TABLE call_transcripts (call_uuid TEXT PRIMARY KEY, status BIGINT NOT NULL, \
     segments BIGINT NOT NULL, fetched_at BIGINT NOT NULL)";

/// `--with-transcripts`: the transcripts that could not be fetched (their call is stored), with
/// the last error; tried again by later runs while the call is within `--horizon`.
pub const CREATE_MISSING_TRANSCRIPTS: &str =
    "CREATE TABLE missing_transcripts (call_uuid TEXT PRIMARY KEY, status BIGINT NOT NULL, \
     tries BIGINT NOT NULL, first_failed_at BIGINT NOT NULL, last_failed_at BIGINT NOT NULL, \
     error TEXT NOT NULL)";

/// The tables of `--with-transcripts` (the segments' is generated): created with the others,
/// and added to a database of a `ccsqm` that had none.
pub const TRANSCRIPT_TABLES: [&str; 3] =
    ["call_transcripts", "call_segments", "missing_transcripts"];

/// The readable view.
pub const VIEW: &str = "calls_readable";

/// A column of `calls` that holds a call's data (generated from the spec).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Column {
    /// The field's name, also the column's.
    pub name: &'static str,
    /// The first sentence of the field's description.
    pub description: &'static str,
    /// How its values are stored.
    pub sql: SqlType,
    /// Its type in SQLite.
    pub sqlite: &'static str,
    /// Its type in PostgreSQL.
    pub postgres: &'static str,
    /// Whether it holds Unix seconds (`x-unix-seconds`): a timestamp in the view.
    pub unix_seconds: bool,
    /// The names of its codes, for the view, when it holds an enumeration's codes.
    pub labels: &'static [(i64, &'static str)],
}

/// How a column's values are stored. (The spec's `Call` has no boolean, array or object field
/// today; a field of such a kind added to the spec gets its column with no code.)
#[allow(dead_code)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqlType {
    Text,
    Integer,
    Real,
    Boolean,
    /// JSON text (arrays, objects).
    Json,
}

/// A value bound to or read from a statement.
#[derive(Clone, Debug, PartialEq)]
pub enum SqlValue {
    Null,
    Text(String),
    Integer(i64),
    Real(f64),
    Boolean(bool),
}

impl SqlValue {
    /// The value of a JSON field (absent: `None`) for a column of type `sql`.
    pub fn from_json(value: Option<Value>, sql: SqlType) -> SqlValue {
        let value = match value {
            None | Some(Value::Null) => return SqlValue::Null,
            Some(value) => value,
        };
        match (sql, value) {
            (SqlType::Text, Value::String(text)) => SqlValue::Text(text),
            (SqlType::Integer, Value::Number(n)) if n.is_i64() => {
                SqlValue::Integer(n.as_i64().unwrap_or_default())
            }
            (SqlType::Real, Value::Number(n)) if n.as_f64().is_some() => {
                SqlValue::Real(n.as_f64().unwrap_or_default())
            }
            (SqlType::Boolean, Value::Bool(b)) => SqlValue::Boolean(b),
            // Any other value (or a JSON column): its JSON text.
            (_, value) => SqlValue::Text(value.to_string()),
        }
    }

    /// A value read from the database, as the column's type says (SQLite has no booleans).
    pub fn typed(self, sql: SqlType) -> SqlValue {
        match (self, sql) {
            (SqlValue::Integer(i), SqlType::Boolean) => SqlValue::Boolean(i != 0),
            (SqlValue::Integer(i), SqlType::Real) => SqlValue::Real(i as f64),
            (value, _) => value,
        }
    }

    /// PostgreSQL's `text` and `jsonb` cannot hold the character NUL (U+0000): each NUL of a
    /// text is replaced by U+FFFD (the replacement character), and in a JSON column's text so is
    /// each `\u0000` escape (by `\ufffd`). Whether any was replaced.
    pub fn replace_nul(&mut self, sql: SqlType) -> bool {
        let SqlValue::Text(text) = self else {
            return false;
        };
        let mut replaced = false;
        if text.contains('\0') {
            *text = text.replace('\0', "\u{FFFD}");
            replaced = true;
        }
        if sql == SqlType::Json && text.contains("\\u0000") {
            // Only an escape: a `\` before `u0000` is an escaped backslash.
            let mut out = String::with_capacity(text.len());
            let mut rest = text.as_str();
            while let Some(at) = rest.find('\\') {
                out.push_str(&rest[..at]);
                let escape = &rest[at..];
                if let Some(after) = escape.strip_prefix("\\u0000") {
                    out.push_str("\\ufffd");
                    replaced = true;
                    rest = after;
                } else {
                    let len = escape[1..].chars().next().map_or(0, char::len_utf8);
                    out.push_str(&escape[..1 + len]);
                    rest = &escape[1 + len..];
                }
            }
            out.push_str(rest);
            *text = out;
        }
        replaced
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            SqlValue::Integer(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            SqlValue::Text(s) => Some(s),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::key_index;
    use crate::generated::CALL_COLUMNS;

    #[test]
    fn a_record_becomes_a_row_in_column_order() {
        let record: ccsqm_client::CallRecord = serde_json::from_value(serde_json::json!({
            "call_group_id": "g", "call_uuid": "u", "status": 2, "duration": 1.5,
            "call_time": 1622633782
        }))
        .unwrap();
        let row = crate::generated::call_row(record).unwrap();
        assert_eq!(row.len(), CALL_COLUMNS.len());
        let value = |name: &str| &row[CALL_COLUMNS.iter().position(|c| c.name == name).unwrap()];
        assert_eq!(value("call_group_id"), &SqlValue::Text("g".into()));
        assert_eq!(value("call_uuid"), &SqlValue::Text("u".into()));
        assert_eq!(value("status"), &SqlValue::Integer(2));
        assert_eq!(value("duration"), &SqlValue::Real(1.5));
        assert_eq!(value("staff_id"), &SqlValue::Null);
        assert_eq!(row[key_index()], SqlValue::Text("u".into()));
    }

    #[test]
    fn nul_characters_become_replacement_characters() {
        let replaced = |text: &str, sql| {
            let mut value = SqlValue::Text(text.to_owned());
            let any = value.replace_nul(sql);
            (value.as_str().unwrap_or_default().to_owned(), any)
        };
        assert_eq!(
            replaced("a\0b\0", SqlType::Text),
            ("a\u{FFFD}b\u{FFFD}".into(), true)
        );
        assert_eq!(replaced("plain", SqlType::Text), ("plain".into(), false));
        // In a text column, an escape is six characters PostgreSQL stores.
        assert_eq!(
            replaced(r"a\u0000", SqlType::Text),
            (r"a\u0000".into(), false)
        );
        // In a JSON column, the escape (not an escaped backslash before u0000).
        assert_eq!(
            replaced(r#"["\u0000","\\u0000","é\u0000"]"#, SqlType::Json),
            (r#"["\ufffd","\\u0000","é\ufffd"]"#.into(), true)
        );
        let json: serde_json::Value =
            serde_json::from_str(&replaced(r#"{"k":"x\u0000"}"#, SqlType::Json).0).unwrap();
        assert_eq!(json["k"], "x\u{FFFD}");
        let mut number = SqlValue::Integer(0);
        assert!(!number.replace_nul(SqlType::Integer));
    }
}
