//! Where the spec's columns are among a row's values, and the SQL that names them.

use crate::generated::{CALL_COLUMNS, IN_PROGRESS_STATUSES, STATUS_COLUMN};

/// The position of the key among [`CALL_COLUMNS`].
pub fn key_index() -> usize {
    column_index(crate::generated::KEY)
}

/// The position of the column `name` among [`CALL_COLUMNS`] (the generator checks that the
/// columns it names, the key and the status, are among them).
pub fn column_index(name: &str) -> usize {
    CALL_COLUMNS
        .iter()
        .position(|c| c.name == name)
        .unwrap_or(0)
}

/// `"a", "b", "c"`: the call's columns, quoted.
pub fn column_list() -> String {
    CALL_COLUMNS
        .iter()
        .map(|c| format!("\"{}\"", c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `IN (0, 1, 3)`: the statuses that are not final (constants of the spec, not data).
pub fn in_progress_list() -> String {
    let codes: Vec<String> = IN_PROGRESS_STATUSES.iter().map(i64::to_string).collect();
    format!("\"{STATUS_COLUMN}\" IN ({})", codes.join(", "))
}
