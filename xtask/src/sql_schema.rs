//! `crates/sync/src/generated.rs`: the database tables of `ccsqm sync`, from the spec.
//!
//! The `calls` table has a column for `call_group_id` (the `CallGroup`'s) and for every field of
//! the spec's `Call` schema, in the spec's order, with an SQL type from the field's kind; it is
//! keyed by `call_uuid`. The readable view shows the codes of the enumerations a field names in
//! its description (`` `InspectionStatus` ``) by their names, and the `x-unix-seconds` fields as
//! timestamps. The codes that are not final come from the enumeration's `x-enum-in-progress`.
//! A hash of the columns (names and types) tells one generated schema from another.

use std::fmt::Write as _;

use anyhow::{anyhow, bail, Context, Result};
use openapiv3::{OpenAPI, SchemaKind, Type};

use crate::facts::{component_schemas, enum_values, field_of, resolve, FieldFacts, Value};

/// The schema whose fields are the columns.
const CALL_SCHEMA: &str = "Call";
/// The schema that gives `call_group_id` its description.
const GROUP_SCHEMA: &str = "CallGroup";
/// The group's column, first in the table.
const GROUP_FIELD: &str = "call_group_id";
/// The key of the table.
const KEY: &str = "call_uuid";
/// The column after the call's fields that keeps what the spec does not name: the keys the
/// server sent with the call (and its group) that no field of the spec describes, as a JSON
/// object (the client's `CallRecord::unknown_fields`); `NULL` when there is none.
const UNKNOWN_COLUMN: &str = "unknown_fields";
/// The schema whose fields are the columns of `call_segments` (`ccsqm sync --with-transcripts`).
const SEGMENT_SCHEMA: &str = "Segment";
/// The column of `call_segments` that holds a segment's place in its call's transcript (from 1).
const SEGMENT_ORDER: &str = "segment_order";
use crate::facts::IN_PROGRESS_EXTENSION;

/// A column of `calls`.
struct Column {
    name: String,
    description: String,
    /// `SqlType::…`.
    sql: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
    unix_seconds: bool,
    /// The enumeration whose codes it holds: its schema name and values.
    enumeration: Option<(String, Vec<Value>)>,
    /// Whether its field is a plain string in the spec (no reference, enumeration, format,
    /// pattern or length): a `String` in the client's types, moved into the row as it is.
    plain_string: bool,
}

/// The generated module's source.
pub fn sync_schema(spec: &OpenAPI) -> Result<String> {
    let (columns, enumerations) = columns(spec)?;
    let (in_progress_column, in_progress) = in_progress(&columns, &enumerations)?;
    let segments = segment_columns(spec)?;
    let hash = schema_hash(columns.iter().chain(&segments));
    let mut out = String::new();
    out.push_str(
        "//! The tables of `ccsqm sync`, from `spec/ccsqm.yaml`: a column of `calls` for the\n\
         //! group's `call_group_id` and for every field of the `Call` schema, in the spec's order,\n\
         //! keyed by `call_uuid`; the readable view `calls_readable`; the statuses that are not\n\
         //! final (`x-enum-in-progress`); and `call_segments`, a column for every field of the\n\
         //! `Segment` schema, keyed by `call_uuid` and `segment_order` (`--with-transcripts`).\n\n\
         use super::schema::{Column, SqlType, SqlValue};\n\n",
    );
    writeln!(
        out,
        "/// A hash of the columns (names and types): tells one generated schema from another.\n\
         pub const SCHEMA_HASH: &str = {hash:?};\n"
    )?;
    writeln!(
        out,
        "/// The key of `calls`.\npub const KEY: &str = {KEY:?};\n"
    )?;
    writeln!(
        out,
        "/// The column of `calls` that keeps what the server sent with a call that the spec does\n\
         /// not name (a JSON object; `NULL` when none).\n\
         pub const UNKNOWN_COLUMN: &str = {UNKNOWN_COLUMN:?};\n"
    )?;
    writeln!(
        out,
        "/// The column of the calls' inspection status.\npub const STATUS_COLUMN: &str = {in_progress_column:?};\n"
    )?;
    writeln!(
        out,
        "/// The statuses that are not final: a call in one of them changes later.\n\
         pub const IN_PROGRESS_STATUSES: &[i64] = &{in_progress:?};\n"
    )?;
    out.push_str("/// The columns of `calls` that hold a call's data, in order.\npub const CALL_COLUMNS: &[Column] = &[\n");
    for c in &columns {
        writeln!(
            out,
            "    Column {{ name: {:?}, description: {:?}, sql: SqlType::{}, sqlite: {:?}, postgres: {:?}, unix_seconds: {}, labels: {} }},",
            c.name,
            c.description,
            c.sql,
            c.sqlite,
            c.postgres,
            c.unix_seconds,
            match &c.enumeration {
                Some((_, values)) => format!(
                    "&[{}]",
                    values
                        .iter()
                        .map(|v| format!("({}, {:?})", v.code, v.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => "&[]".to_owned(),
            }
        )?;
    }
    out.push_str("];\n\n");
    out.push_str(&call_row(&columns)?);
    writeln!(
        out,
        "/// The column of `call_segments` with a segment's place in its transcript (from 1).\n\
         pub const SEGMENT_ORDER: &str = {SEGMENT_ORDER:?};\n"
    )?;
    out.push_str("/// The columns of `call_segments` that hold a segment's data, in order (after `call_uuid` and `segment_order`).\npub const SEGMENT_COLUMNS: &[Column] = &[\n");
    for c in &segments {
        writeln!(
            out,
            "    Column {{ name: {:?}, description: {:?}, sql: SqlType::{}, sqlite: {:?}, postgres: {:?}, unix_seconds: {}, labels: &[] }},",
            c.name, c.description, c.sql, c.sqlite, c.postgres, c.unix_seconds,
        )?;
    }
    out.push_str("];\n\n");
    for (module, dialect) in [("sqlite", Dialect::Sqlite), ("postgres", Dialect::Postgres)] {
        writeln!(
            out,
            "/// The statements of {}.\npub mod {module} {{",
            dialect.title()
        )?;
        writeln!(
            out,
            "    /// Creates `calls`.\n    pub const CREATE_CALLS: &str = {};\n",
            raw(&create_calls(&columns, dialect))?
        )?;
        writeln!(
            out,
            "    /// Creates `call_segments`.\n    pub const CREATE_SEGMENTS: &str = {};\n",
            raw(&create_segments(&segments, dialect))?
        )?;
        writeln!(
            out,
            "    /// Creates the readable view of `calls`.\n    pub const CREATE_VIEW: &str = {};\n}}\n",
            raw(&create_view(&columns, dialect))?
        )?;
    }
    Ok(out)
}

/// `sql` as a raw string literal, one line of SQL per line of source (a new column is a new
/// line in the generated file's diff).
fn raw(sql: &str) -> Result<String> {
    if sql.contains("\"#") {
        bail!("generated SQL holds \"#: it cannot be a raw string");
    }
    Ok(format!("r#\"{sql}\"#"))
}

#[derive(Clone, Copy)]
enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    fn title(self) -> &'static str {
        match self {
            Dialect::Sqlite => "SQLite",
            Dialect::Postgres => "PostgreSQL",
        }
    }

    fn type_of(self, c: &Column) -> &'static str {
        match self {
            Dialect::Sqlite => c.sqlite,
            Dialect::Postgres => c.postgres,
        }
    }

    fn integer(self) -> &'static str {
        match self {
            Dialect::Sqlite => "INTEGER",
            Dialect::Postgres => "BIGINT",
        }
    }

    fn timestamp(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => format!("datetime(\"{column}\", 'unixepoch')"),
            Dialect::Postgres => format!("to_timestamp(\"{column}\")"),
        }
    }
}

/// An enumeration: its schema name, values, and the variants of its `x-enum-in-progress`.
type Enumeration = (String, Vec<Value>, Vec<String>);

fn columns(spec: &OpenAPI) -> Result<(Vec<Column>, Vec<Enumeration>)> {
    let schemas = component_schemas(spec)?;
    let object = |name: &str| -> Result<_> {
        let (_, schema) = schemas
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| anyhow!("the spec has no `{name}` schema"))?;
        match &schema.schema_kind {
            SchemaKind::Type(Type::Object(object)) => Ok(object),
            _ => bail!("`{name}` is not an object"),
        }
    };
    let enumerations: Vec<Enumeration> = schemas
        .iter()
        .map(|(name, schema)| {
            let in_progress = match schema.schema_data.extensions.get(IN_PROGRESS_EXTENSION) {
                Some(list) => list
                    .as_array()
                    .ok_or_else(|| anyhow!("{name}: {IN_PROGRESS_EXTENSION} is not a list"))?
                    .iter()
                    .map(|v| {
                        v.as_str().map(str::to_owned).ok_or_else(|| {
                            anyhow!("{name}: {IN_PROGRESS_EXTENSION} holds a non-string")
                        })
                    })
                    .collect::<Result<Vec<_>>>()?,
                None => Vec::new(),
            };
            Ok(enum_values(name, schema)?.map(|v| (name.to_string(), v, in_progress)))
        })
        .filter_map(Result::transpose)
        .collect::<Result<_>>()?;
    let mut facts: Vec<(FieldFacts, bool)> = Vec::new();
    let group = object(GROUP_SCHEMA)?;
    let property = group
        .properties
        .get(GROUP_FIELD)
        .ok_or_else(|| anyhow!("`{GROUP_SCHEMA}` has no `{GROUP_FIELD}`"))?;
    facts.push((
        field_of(spec, GROUP_FIELD, &property.clone().unbox(), false)?,
        plain_string(&property.clone().unbox()),
    ));
    for (field, property) in &object(CALL_SCHEMA)?.properties {
        if field == GROUP_FIELD {
            bail!("`{CALL_SCHEMA}.{GROUP_FIELD}` would be a second `{GROUP_FIELD}` column");
        }
        if field == UNKNOWN_COLUMN {
            bail!(
                "`{CALL_SCHEMA}.{UNKNOWN_COLUMN}` would be a second `{UNKNOWN_COLUMN}` column \
                 (the column of the keys the spec does not name)"
            );
        }
        facts.push((
            field_of(spec, field, &property.clone().unbox(), false)
                .with_context(|| format!("{CALL_SCHEMA}.{field}"))?,
            plain_string(&property.clone().unbox()),
        ));
    }
    if !facts
        .iter()
        .any(|(f, _)| f.name == KEY && f.kind == "Kind::String")
    {
        bail!("`{CALL_SCHEMA}` has no string `{KEY}`: the table's key");
    }
    let mut columns = Vec::new();
    for (f, plain_string) in facts {
        column_name(CALL_SCHEMA, &f.name)?;
        let (sql, sqlite, postgres) = sql_types(&f.kind);
        // The enumeration the field's description names, as `` `InspectionStatus` ``.
        let named: Vec<_> = enumerations
            .iter()
            .filter(|(name, _, _)| f.description.contains(&format!("`{name}`")))
            .collect();
        let enumeration = match (named.as_slice(), sql) {
            ([(name, values, _)], "Integer") => Some((name.clone(), clone_values(values))),
            _ => None,
        };
        columns.push(Column {
            unix_seconds: f.kind == "Kind::UnixSeconds",
            description: first_sentence(&f.description),
            name: f.name,
            sql,
            sqlite,
            postgres,
            enumeration,
            plain_string,
        });
    }
    let (sql, sqlite, postgres) = sql_types("Kind::Other");
    columns.push(Column {
        name: UNKNOWN_COLUMN.to_owned(),
        description: "What the server sent with the call that spec/ccsqm.yaml does not name: \
                      the call's and its group's other keys, as a JSON object (NULL when none)."
            .to_owned(),
        sql,
        sqlite,
        postgres,
        unix_seconds: false,
        enumeration: None,
        plain_string: false,
    });
    Ok((columns, enumerations))
}

/// The SQL types of a field of this kind: `SqlType`'s variant, SQLite's, PostgreSQL's.
fn sql_types(kind: &str) -> (&'static str, &'static str, &'static str) {
    match kind {
        "Kind::String" => ("Text", "TEXT", "TEXT"),
        "Kind::Integer" | "Kind::UnixSeconds" => ("Integer", "INTEGER", "BIGINT"),
        k if k.starts_with("Kind::Enum") => ("Integer", "INTEGER", "BIGINT"),
        "Kind::Number" => ("Real", "REAL", "DOUBLE PRECISION"),
        "Kind::Boolean" => ("Boolean", "INTEGER", "BOOLEAN"),
        // Arrays, objects, values of several kinds (`oneOf`) and anything else: their JSON text.
        _ => ("Json", "TEXT", "TEXT"),
    }
}

/// The columns of `call_segments`: every field of `Segment`, in the spec's order.
fn segment_columns(spec: &OpenAPI) -> Result<Vec<Column>> {
    let schemas = component_schemas(spec)?;
    let (_, schema) = schemas
        .iter()
        .find(|(n, _)| *n == SEGMENT_SCHEMA)
        .ok_or_else(|| anyhow!("the spec has no `{SEGMENT_SCHEMA}` schema"))?;
    let SchemaKind::Type(Type::Object(object)) = &schema.schema_kind else {
        bail!("`{SEGMENT_SCHEMA}` is not an object");
    };
    let mut columns = Vec::new();
    for (field, property) in &object.properties {
        let f = field_of(spec, field, &property.clone().unbox(), false)
            .with_context(|| format!("{SEGMENT_SCHEMA}.{field}"))?;
        if f.name == KEY || f.name == SEGMENT_ORDER {
            bail!(
                "`{SEGMENT_SCHEMA}.{}` would be a second `{}` column",
                f.name,
                f.name
            );
        }
        column_name(SEGMENT_SCHEMA, &f.name)?;
        // A value that is a string or a whole number (`oneOf`, as the speaker): text (a
        // number as its digits), not JSON text with quotes.
        let scalars = match resolve(spec, &property.clone().unbox())?.schema_kind {
            SchemaKind::OneOf { one_of } => one_of.iter().all(|member| {
                matches!(
                    resolve(spec, member).map(|m| m.schema_kind),
                    Ok(SchemaKind::Type(Type::String(_) | Type::Integer(_)))
                )
            }),
            _ => false,
        };
        let (sql, sqlite, postgres) = match scalars {
            true => ("Text", "TEXT", "TEXT"),
            false => sql_types(&f.kind),
        };
        columns.push(Column {
            unix_seconds: f.kind == "Kind::UnixSeconds",
            description: first_sentence(&f.description),
            name: f.name,
            sql,
            sqlite,
            postgres,
            enumeration: None,
            plain_string: false,
        });
    }
    Ok(columns)
}

/// `call_row`: a call's row, each field of the client's `CallRecord` in its column's slot: a
/// plain string moved as it is (`text`), any other field through its serialization
/// (`serialized`, as the column's type says): the same values as the row of the whole call's
/// serialization, without a copy of its text.
fn call_row(columns: &[Column]) -> Result<String> {
    let mut out = String::from(
        "/// The row of a call, in the order of [`CALL_COLUMNS`]: its plain strings moved into\n\
         /// their slots (no copy of their text), its other fields through their serialization; the\n\
         /// same values as the row of the whole call's serialization ([`super::row::row`]), or\n\
         /// its error.\n\
         pub fn call_row(record: ccsqm_client::CallRecord) -> Result<Vec<SqlValue>, serde_json::Error> {\n    \
         let call = record.call;\n    Ok(vec![\n",
    );
    for c in columns {
        if c.name == UNKNOWN_COLUMN {
            writeln!(
                out,
                "        super::row::unknown_fields(record.unknown_fields),"
            )?;
            continue;
        }
        let field = if c.name == GROUP_FIELD {
            format!("record.{}", rust_field(GROUP_SCHEMA, &c.name)?)
        } else {
            format!("call.{}", rust_field(CALL_SCHEMA, &c.name)?)
        };
        if c.plain_string {
            writeln!(out, "        super::row::text({field}),")?;
        } else {
            writeln!(
                out,
                "        super::row::serialized(&{field}, SqlType::{})?,",
                c.sql
            )?;
        }
    }
    out.push_str("    ])\n}\n\n");
    Ok(out)
}

/// Whether a field's schema is a plain string: not a reference, without an enumeration, a
/// format, a pattern or bounds of length (the client has a `String` for it, not a type of its
/// own).
fn plain_string(property: &openapiv3::ReferenceOr<openapiv3::Schema>) -> bool {
    use openapiv3::{ReferenceOr, VariantOrUnknownOrEmpty};
    match property {
        ReferenceOr::Item(schema) => match &schema.schema_kind {
            SchemaKind::Type(Type::String(s)) => {
                matches!(s.format, VariantOrUnknownOrEmpty::Empty)
                    && s.enumeration.is_empty()
                    && s.pattern.is_none()
                    && s.min_length.is_none()
                    && s.max_length.is_none()
            }
            _ => false,
        },
        ReferenceOr::Reference { .. } => false,
    }
}

/// The name of a field in the client's Rust types: the spec's (progenitor keeps a snake_case
/// name, and adds `_` to a Rust keyword).
fn rust_field(schema: &str, name: &str) -> Result<String> {
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
        "extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod",
        "move", "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait",
        "true", "try", "type", "unsafe", "use", "where", "while",
    ];
    let snake = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !snake {
        bail!(
            "`{schema}.{name}`: `ccsqm sync` moves each field of a call into its column by its \
             Rust name, which is derived only from a snake_case name; rename the field in \
             spec/ccsqm.yaml, or teach `rust_field` in xtask/src/sql_schema.rs the client's name"
        );
    }
    Ok(match KEYWORDS.contains(&name) {
        true => format!("{name}_"),
        false => name.to_owned(),
    })
}

/// The column that holds the enumeration with `x-enum-in-progress`, and those codes.
fn in_progress(columns: &[Column], enumerations: &[Enumeration]) -> Result<(String, Vec<i64>)> {
    let lists: Vec<&Enumeration> = enumerations
        .iter()
        .filter(|(_, _, in_progress)| !in_progress.is_empty())
        .collect();
    let [(name, values, in_progress)] = lists.as_slice() else {
        bail!(
            "exactly one enumeration must have {IN_PROGRESS_EXTENSION} (the statuses `ccsqm sync` \
             re-reads), found {}",
            lists.len()
        );
    };
    let codes = in_progress
        .iter()
        .map(|variant| {
            values
                .iter()
                .find(|v| v.variant == *variant)
                .map(|v| v.code)
                .ok_or_else(|| {
                    anyhow!("{name}: {IN_PROGRESS_EXTENSION} names {variant}, not one of its x-enum-varnames")
                })
        })
        .collect::<Result<Vec<_>>>()?;
    let holders: Vec<&Column> = columns
        .iter()
        .filter(|c| c.enumeration.as_ref().is_some_and(|(n, _)| n == name))
        .collect();
    let [column] = holders.as_slice() else {
        bail!(
            "exactly one field of `{CALL_SCHEMA}` must name `{name}` in its description (the \
             status `ccsqm sync` watches), found {}",
            holders.len()
        );
    };
    Ok((column.name.clone(), codes))
}

fn clone_values(values: &[Value]) -> Vec<Value> {
    values
        .iter()
        .map(|v| Value {
            code: v.code,
            variant: v.variant.clone(),
            name: v.name.clone(),
            description: v.description.clone(),
        })
        .collect()
}

fn first_sentence(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.find(". ") {
        Some(end) => text[..=end].to_owned(),
        None => text,
    }
}

/// FNV-1a (64 bits) of each column's name and types, one per line: a stable fingerprint of the
/// table's shape (not a security measure).
fn schema_hash<'a>(columns: impl IntoIterator<Item = &'a Column>) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for c in columns {
        for byte in format!("{} {} {} {}\n", c.name, c.sql, c.sqlite, c.postgres).bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

fn create_calls(columns: &[Column], dialect: Dialect) -> String {
    let mut lines: Vec<String> = columns
        .iter()
        .map(|c| {
            let key = if c.name == KEY { " PRIMARY KEY" } else { "" };
            format!("  \"{}\" {}{key}", c.name, dialect.type_of(c))
        })
        .collect();
    for bookkeeping in ["first_seen", "last_seen", "last_changed"] {
        lines.push(format!(
            "  \"{bookkeeping}\" {} NOT NULL",
            dialect.integer()
        ));
    }
    format!("CREATE TABLE calls (\n{}\n)", lines.join(",\n"))
}

fn create_segments(columns: &[Column], dialect: Dialect) -> String {
    let mut lines = vec![
        format!("  \"{KEY}\" TEXT NOT NULL"),
        format!("  \"{SEGMENT_ORDER}\" {} NOT NULL", dialect.integer()),
    ];
    lines.extend(
        columns
            .iter()
            .map(|c| format!("  \"{}\" {}", c.name, dialect.type_of(c))),
    );
    lines.push(format!("  PRIMARY KEY (\"{KEY}\", \"{SEGMENT_ORDER}\")"));
    format!("CREATE TABLE call_segments (\n{}\n)", lines.join(",\n"))
}

fn create_view(columns: &[Column], dialect: Dialect) -> String {
    let mut lines = Vec::new();
    for c in columns {
        if c.unix_seconds {
            lines.push(format!(
                "  {} AS \"{}\"",
                dialect.timestamp(&c.name),
                c.name
            ));
            continue;
        }
        lines.push(format!("  \"{}\"", c.name));
        if let Some((_, values)) = &c.enumeration {
            let cases: String = values
                .iter()
                .map(|v| format!(" WHEN {} THEN '{}'", v.code, v.name.replace('\'', "''")))
                .collect();
            lines.push(format!(
                "  CASE \"{}\"{cases} END AS \"{}_name\"",
                c.name, c.name
            ));
        }
    }
    for bookkeeping in ["first_seen", "last_seen", "last_changed"] {
        lines.push(format!(
            "  {} AS \"{bookkeeping}\"",
            dialect.timestamp(bookkeeping)
        ));
    }
    format!(
        "CREATE VIEW calls_readable AS SELECT\n{}\nFROM calls",
        lines.join(",\n")
    )
}

/// A field's name is a column's as it is: lower-case letters, digits and `_` (no quoting or
/// case folding needed in either database).
fn column_name(schema: &str, name: &str) -> Result<()> {
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        bail!("{schema}.{name}: a column name must be lower-case letters, digits and _");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> OpenAPI {
        let text = crate::codegen::read_spec(&crate::project_root()).unwrap();
        crate::codegen::parse_spec(&text).unwrap()
    }

    #[test]
    fn every_call_field_is_a_column_and_the_hash_follows_them() {
        let spec = spec();
        let (columns, _) = columns(&spec).unwrap();
        let call = match &component_schemas(&spec)
            .unwrap()
            .into_iter()
            .find(|(n, _)| *n == CALL_SCHEMA)
            .unwrap()
            .1
            .schema_kind
        {
            SchemaKind::Type(Type::Object(o)) => o.properties.len(),
            _ => unreachable!(),
        };
        assert_eq!(columns.len(), call + 2);
        assert_eq!(columns[0].name, GROUP_FIELD);
        assert_eq!(columns[columns.len() - 1].name, UNKNOWN_COLUMN);
        let before = schema_hash(&columns);
        let fewer = schema_hash(&columns[..columns.len() - 1]);
        let segments = segment_columns(&spec).unwrap();
        assert!(segments
            .iter()
            .any(|c| c.name == "asr_text" && c.sqlite == "TEXT"));
        assert_ne!(before, schema_hash(columns.iter().chain(&segments)));
        assert_ne!(before, fewer);
    }

    #[test]
    fn a_new_field_of_call_is_a_new_column_and_changes_the_hash() {
        let text = crate::codegen::read_spec(&crate::project_root()).unwrap();
        let before = sync_schema(&crate::codegen::parse_spec(&text).unwrap()).unwrap();
        let anchor = "\n    Call:\n";
        let at = text.find(anchor).unwrap();
        let properties = at + text[at..].find("      properties:\n").unwrap() + 18;
        let edited = format!(
            "{}        team_score:\n          description: A score.\n          type: number\n{}",
            &text[..properties],
            &text[properties..]
        );
        let after = sync_schema(&crate::codegen::parse_spec(&edited).unwrap()).unwrap();
        assert!(!before.contains("team_score"));
        assert!(
            after.contains("\"team_score\" REAL")
                && after.contains("\"team_score\" DOUBLE PRECISION")
        );
        assert!(after.contains("name: \"team_score\""));
        let hash = |s: &str| {
            s.lines()
                .find(|l| l.contains("SCHEMA_HASH"))
                .unwrap()
                .to_owned()
        };
        assert_ne!(hash(&before), hash(&after));
    }

    #[test]
    fn in_progress_codes_come_from_the_extension() {
        let spec = spec();
        let (columns, enumerations) = columns(&spec).unwrap();
        let (column, codes) = in_progress(&columns, &enumerations).unwrap();
        assert_eq!(column, "status");
        assert_eq!(codes, vec![0, 1, 3]);
    }
}
