//! The request's fields as flags, and the flags' values as the request body.
//!
//! Every field of an operation's request schema (`spec/ccsqm.yaml`, read through the generated
//! `ccsqm_client::spec`) is a flag named after it (`staff_id` → `--staff-id`), with the spec's
//! description as its help, parsed by the field's kind:
//!
//! | kind | flag value |
//! |---|---|
//! | text | as given |
//! | integer, number | a number within the schema's `minimum`/`maximum` |
//! | boolean | `--flag` (true) or `--flag=false` |
//! | Unix seconds (`x-unix-seconds`) | any time form of [`crate::timearg`]; a date is its first second, or for a `*_to` field its last |
//! | integer enumeration | a name (`x-enum-varnames`, kebab-case) or a number |
//! | array | repeat the flag or separate values with commas |
//! | anything else | JSON text |
//!
//! A required array of an enumeration defaults to every documented value; a required nullable
//! field not given is sent as `null`. Pairs `*_from`/`*_to` and `*_min`/`*_max` are checked in
//! order. [`OVERRIDES`] adds what a field needs beyond its schema (a default, a heading, a
//! conflict), keyed by field; a field with no override still gets a working flag.

use ccsqm_client::spec::{Field, Kind, Schema};
use clap::builder::{PossibleValue, TypedValueParser};
use clap::{Arg, ArgAction, ArgMatches};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::error::UsageError;
use crate::timearg::{self, Bound};

/// What a field's flag needs beyond its schema, keyed by field name.
pub struct Override {
    /// The field.
    pub field: &'static str,
    /// The flag's name, when not the field's (with the field's name kept as an alias).
    pub long: Option<&'static str>,
    /// A default value.
    pub default: Option<&'static str>,
    /// Help heading.
    pub heading: Option<&'static str>,
    /// Flags of the command it cannot be combined with.
    pub conflicts_with: Option<&'static str>,
    /// A sentence added to the help.
    pub help: Option<&'static str>,
}

const NONE: Override = Override {
    field: "",
    long: None,
    default: None,
    heading: None,
    conflicts_with: None,
    help: None,
};

/// The hand-written special cases of `ccsqm details`' flags.
pub const OVERRIDES: &[Override] = &[
    Override {
        field: "call_types",
        long: Some("call-type"),
        ..NONE
    },
    Override {
        field: "page",
        default: Some("1"),
        heading: Some("Paging"),
        conflicts_with: Some("all"),
        ..NONE
    },
    Override {
        field: "limit",
        default: Some("100"),
        heading: Some("Paging"),
        help: Some("Also the page size of --all."),
        ..NONE
    },
];

/// The heading of the request's flags in `--help`.
pub const HEADING: &str = "Filters (the fields of the request)";

fn override_of(field: &str) -> &'static Override {
    OVERRIDES.iter().find(|o| o.field == field).unwrap_or(&NONE)
}

/// The flag of a field: `--staff-id` for `staff_id`, unless overridden.
pub fn flag_name(field: &Field) -> String {
    match override_of(field.name).long {
        Some(long) => long.to_owned(),
        None => field.name.replace('_', "-"),
    }
}

/// The clap argument id of a field (its name).
fn id(field: &Field) -> &'static str {
    field.name
}

/// One flag per field of `schema`.
pub fn args(schema: &'static Schema) -> Vec<Arg> {
    schema.fields.iter().map(arg).collect()
}

fn arg(field: &'static Field) -> Arg {
    let o = override_of(field.name);
    let long = flag_name(field);
    let mut arg = Arg::new(id(field))
        .long(long.clone())
        .help(short_help(field, o))
        .long_help(help(field, o))
        .help_heading(o.heading.unwrap_or(HEADING))
        .allow_hyphen_values(true)
        .value_name(value_name(&field.kind));
    if long != field.name.replace('_', "-") {
        arg = arg.visible_alias(field.name.replace('_', "-"));
    }
    if let Some(default) = o.default {
        arg = arg.default_value(default);
    }
    if let Some(other) = o.conflicts_with {
        arg = arg.conflicts_with(other);
    }
    let item = match field.kind {
        Kind::Array(item) => {
            arg = arg.action(ArgAction::Append).value_delimiter(',');
            item
        }
        _ => {
            arg = arg.action(ArgAction::Set);
            &field.kind
        }
    };
    if matches!(item, Kind::Boolean) {
        arg = arg.num_args(0..=1).default_missing_value("true");
    }
    arg.value_parser(ValueParser { field, item })
}

fn value_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Array(item) => value_name(item),
        Kind::String | Kind::Secret => "TEXT",
        Kind::Integer => "INTEGER",
        Kind::Number => "NUMBER",
        Kind::Boolean => "BOOL",
        Kind::UnixSeconds => "TIME",
        Kind::Enum(_) => "NAME",
        Kind::Object(_) | Kind::Other => "JSON",
    }
}

/// A flag's line of `-h`: the first sentence of the field's description, with what to write
/// for a time; `--help` has the whole of [`help`].
fn short_help(field: &Field, o: &Override) -> String {
    let description = field.description.trim();
    let first = match description.find(". ") {
        Some(end) => &description[..end],
        None => description.trim_end_matches('.'),
    };
    let mut help = first.to_owned();
    let item = match field.kind {
        Kind::Array(item) => item,
        _ => &field.kind,
    };
    if matches!(item, Kind::UnixSeconds) {
        help.push_str(" (7d, 2021-06-01, RFC 3339, Unix seconds, now)");
    }
    if let Some(extra) = o.help {
        help.push_str(". ");
        help.push_str(extra.trim_end_matches('.'));
    }
    if o.default.is_none() && default_all(field).is_some() {
        help.push_str(" [default: every documented value]");
    }
    help
}

fn help(field: &Field, o: &Override) -> String {
    let mut help = field.description.trim().to_owned();
    let item = match field.kind {
        Kind::Array(item) => {
            help.push_str(" Repeat the flag or separate values with commas.");
            item
        }
        _ => &field.kind,
    };
    match item {
        Kind::UnixSeconds => {
            help.push_str(&format!(
            " Accepts Unix seconds, RFC 3339, a local date and time, a date (its {} second), a \
             span before now (7d, 24h) or now.",
            if bound(field) == Bound::To { "last" } else { "first" }
        ))
        }
        Kind::Enum(e) if matches!(field.kind, Kind::Array(_)) && !e.groups.is_empty() => {
            help.push_str(" A name, a group (below: each of its names) or a number.")
        }
        Kind::Enum(_) => help.push_str(" A name (below) or a number."),
        Kind::Integer | Kind::Number => match (field.minimum, field.maximum) {
            (Some(min), Some(max)) => help.push_str(&format!(" From {min} to {max}.")),
            (Some(min), None) => help.push_str(&format!(" {min} or more.")),
            (None, Some(max)) => help.push_str(&format!(" At most {max}.")),
            (None, None) => {}
        },
        Kind::Boolean => help.push_str(" --flag alone is true; --flag=false."),
        Kind::Object(_) | Kind::Other => help.push_str(" As JSON."),
        Kind::String | Kind::Secret | Kind::Array(_) => {}
    }
    if let Some(extra) = o.help {
        help.push(' ');
        help.push_str(extra);
    }
    if o.default.is_none() {
        if default_all(field).is_some() {
            help.push_str(" [default: every documented value]");
        } else if field.required && field.nullable {
            help.push_str(" Not given: sent as null.");
        }
    }
    help
}

/// Every documented value, for a required array of an enumeration.
fn default_all(field: &Field) -> Option<Vec<&'static str>> {
    match field.kind {
        Kind::Array(Kind::Enum(e)) if field.required => {
            Some(e.values.iter().map(|v| v.name).collect())
        }
        _ => None,
    }
}

/// A `*_to` time is an upper bound: a plain date means its last second.
fn bound(field: &Field) -> Bound {
    if field.name.ends_with("_to") {
        Bound::To
    } else {
        Bound::From
    }
}

/// Checks a value against its field's kind when the command line is parsed (exit 2 with clap's
/// message naming the flag), and offers an enumeration's names to completions; the value is
/// kept as text and converted by [`body`].
#[derive(Clone)]
struct ValueParser {
    field: &'static Field,
    item: &'static Kind,
}

impl TypedValueParser for ValueParser {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        let text = value.to_str().ok_or_else(|| {
            clap::Error::raw(
                clap::error::ErrorKind::InvalidUtf8,
                "a value is not valid UTF-8\n",
            )
            .with_cmd(cmd)
        })?;
        // Times are converted later (they depend on now); everything else is checked now.
        if !matches!(self.item, Kind::UnixSeconds) {
            if let Err(message) = convert(self.field, &self.field.kind, text) {
                let flag = arg
                    .and_then(Arg::get_long)
                    .map(|l| format!("--{l}"))
                    .unwrap_or_default();
                return Err(clap::Error::raw(
                    clap::error::ErrorKind::ValueValidation,
                    format!("invalid value {text:?} for {flag}: {message}\n"),
                )
                .with_cmd(cmd));
            }
        }
        Ok(text.to_owned())
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        if !self.field.values.is_empty() {
            return Some(Box::new(self.field.values.iter().map(
                |v| match serde_json::from_str::<Value>(v) {
                    Ok(Value::String(s)) => PossibleValue::new(s),
                    _ => PossibleValue::new(*v),
                },
            )));
        }
        // An array of an enumeration also takes its groups' names.
        let groups = match self.field.kind {
            Kind::Array(Kind::Enum(e)) => e.groups,
            _ => &[],
        };
        match self.item {
            Kind::Enum(e) => Some(Box::new(
                e.values
                    .iter()
                    .map(|v| PossibleValue::new(v.name).help(v.description))
                    .chain(groups.iter().map(|g| {
                        PossibleValue::new(g.name).help(format!("group: {}", g.description))
                    })),
            )),
            Kind::Boolean => Some(Box::new(
                ["true", "false"].into_iter().map(PossibleValue::new),
            )),
            _ => None,
        }
    }
}

/// A flag's text as the JSON value of an item of `kind` (not for times).
fn convert(field: &Field, kind: &Kind, text: &str) -> Result<Value, String> {
    let in_range = |x: f64| {
        if field.minimum.is_some_and(|min| x < min) || field.maximum.is_some_and(|max| x > max) {
            Err(match (field.minimum, field.maximum) {
                (Some(min), Some(max)) => format!("expected a value from {min} to {max}"),
                (Some(min), None) => format!("expected {min} or more"),
                (_, Some(max)) => format!("expected at most {max}"),
                (None, None) => unreachable!(),
            })
        } else {
            Ok(())
        }
    };
    // The schema's own `enum`: only its values are sent.
    if !field.values.is_empty() && !matches!(kind, Kind::Array(_)) {
        let value = match kind {
            Kind::String | Kind::Secret => Value::String(text.to_owned()),
            _ => serde_json::from_str(text.trim()).unwrap_or(Value::Null),
        };
        let listed: Vec<Value> = field
            .values
            .iter()
            .filter_map(|v| serde_json::from_str(v).ok())
            .collect();
        return match listed.contains(&value) {
            true => Ok(value),
            false => Err(format!("expected one of {}", listed_text(&listed))),
        };
    }
    match kind {
        Kind::String | Kind::Secret => Ok(Value::String(text.to_owned())),
        Kind::Integer | Kind::UnixSeconds => {
            let n: i64 = text
                .trim()
                .parse()
                .map_err(|_| "expected a whole number".to_owned())?;
            in_range(n as f64)?;
            Ok(Value::from(n))
        }
        Kind::Number => {
            let x: f64 = text
                .trim()
                .parse()
                .ok()
                .filter(|x: &f64| x.is_finite())
                .ok_or_else(|| "expected a number".to_owned())?;
            in_range(x)?;
            serde_json::Number::from_f64(x)
                .map(Value::Number)
                .ok_or_else(|| "expected a finite number".to_owned())
        }
        Kind::Boolean => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "0" => Ok(Value::Bool(false)),
            _ => Err("expected true or false".to_owned()),
        },
        Kind::Enum(e) => {
            let input = text.trim();
            if let Ok(code) = input.parse::<i64>() {
                // The request's enumerations are closed: only documented codes are sent.
                if e.values.iter().any(|v| v.code == code) {
                    return Ok(Value::from(code));
                }
                let documented: Vec<String> = e
                    .values
                    .iter()
                    .map(|v| format!("{} ({})", v.code, v.name))
                    .collect();
                return Err(format!(
                    "{} {code} is undocumented: the API accepts only {}",
                    e.kind,
                    documented.join(", ")
                ));
            }
            enum_code(e, input).map(Value::from)
        }
        // An enumeration's group (`failed`) is every code of it.
        Kind::Array(Kind::Enum(e)) if text.trim().parse::<i64>().is_err() => {
            enum_codes(e, text.trim(), true)
                .map(|codes| codes.into_iter().map(Value::from).collect())
        }
        Kind::Array(item) => convert(field, item, text),
        Kind::Object(_) | Kind::Other => {
            serde_json::from_str(text).map_err(|e| format!("expected JSON: {e}"))
        }
    }
}

/// The code of the enumeration value named `input`, whatever its case and whether its words
/// are joined by `-`, `_` or spaces (`inspection_failed`, `Inspection Failed`); otherwise the
/// error names the nearest name (by edit distance, strsim: clap's own) and lists them all.
fn enum_code(e: &ccsqm_client::spec::Enumeration, input: &str) -> Result<i64, String> {
    enum_codes(e, input, false).map(|codes| codes[0])
}

/// [`enum_code`], and with `groups` also the name of a group of the enumeration (the spec's
/// `x-enum-groups`, e.g. `failed`): every code of the group, in the spec's order.
fn enum_codes(
    e: &ccsqm_client::spec::Enumeration,
    input: &str,
    groups: bool,
) -> Result<Vec<i64>, String> {
    let words = |name: &str| -> String {
        name.split(|c: char| c == '-' || c == '_' || c.is_whitespace())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
            .join("-")
    };
    let wanted = words(input);
    if let Some(value) = e.values.iter().find(|v| words(v.name) == wanted) {
        return Ok(vec![value.code]);
    }
    let groups: &[ccsqm_client::spec::EnumGroup] = if groups { e.groups } else { &[] };
    if let Some(group) = groups.iter().find(|g| words(g.name) == wanted) {
        return Ok(group.codes.to_vec());
    }
    let names: Vec<&str> = e.values.iter().map(|v| v.name).collect();
    let group_names: Vec<&str> = groups.iter().map(|g| g.name).collect();
    let nearest = names
        .iter()
        .chain(&group_names)
        .map(|name| (strsim::damerau_levenshtein(&wanted, &words(name)), *name))
        .min()
        .filter(|(distance, name)| *distance <= (name.len() / 3).max(2));
    let article = match e.kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
        true => "an",
        false => "a",
    };
    let mut message = format!("{input:?} is not {article} {} name", e.kind);
    // Else the names holding every word given (`failed`: every failure).
    let holding: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| {
            let have = words(name);
            let have: Vec<&str> = have.split('-').collect();
            !wanted.is_empty() && wanted.split('-').all(|w| have.contains(&w))
        })
        .collect();
    match (nearest, holding.as_slice()) {
        (Some((_, name)), _) => message.push_str(&format!(": did you mean {name}?")),
        (None, [one]) => message.push_str(&format!(": did you mean {one}?")),
        (None, []) => {}
        (None, several) => message.push_str(&format!(
            ": did you mean one of {}? (give several with commas)",
            several.join(", ")
        )),
    }
    message.push_str(&format!(" (the names: {}", names.join(", ")));
    if !group_names.is_empty() {
        message.push_str(&format!("; the groups: {}", group_names.join(", ")));
    }
    message.push_str("; or an integer code)");
    Err(message)
}

/// A flag's text as the JSON value of an item of `kind`, times included.
pub fn value_of(
    field: &Field,
    kind: &Kind,
    text: &str,
    now: Timestamp,
    tz: &TimeZone,
) -> Result<Value, String> {
    match kind {
        Kind::UnixSeconds => timearg::parse(text, bound(field), now, tz)
            .map(Value::from)
            .map_err(|e| e.to_string()),
        _ => convert(field, kind, text),
    }
}

fn listed_text(values: &[Value]) -> String {
    values
        .iter()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The request body the flags describe, in the schema's field order: each field given, its
/// default, or `null` for a required nullable field; a required field with neither is an
/// error naming its flag.
pub fn body(
    schema: &Schema,
    matches: &ArgMatches,
    now: Timestamp,
    tz: &TimeZone,
) -> Result<Map<String, Value>, UsageError> {
    let mut body = Map::new();
    for field in schema.fields {
        let flag = format!("--{}", flag_name(field));
        let given: Vec<&String> = matches
            .get_many::<String>(id(field))
            .map(Iterator::collect)
            .unwrap_or_default();
        let item = match field.kind {
            Kind::Array(item) => item,
            _ => &field.kind,
        };
        let one = |text: &str| value_of(field, item, text, now, tz).map_err(|e| usage(&flag, e));
        let value = match (&field.kind, given.as_slice()) {
            (Kind::Array(_), []) => match default_all(field) {
                Some(names) => names
                    .into_iter()
                    .map(one)
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::Array)?,
                None if field.required && !field.nullable => {
                    return Err(usage(&flag, "is required"));
                }
                None if field.required => Value::Null,
                None => continue,
            },
            (Kind::Array(_), values) => {
                // An enumeration's group gives several codes; each code is sent once, in the
                // order given.
                let mut items: Vec<Value> = Vec::new();
                for text in values {
                    let Kind::Array(Kind::Enum(_)) = field.kind else {
                        items.push(one(text)?);
                        continue;
                    };
                    let value = convert(field, &field.kind, text).map_err(|e| usage(&flag, e))?;
                    let codes = match value {
                        Value::Array(several) => several,
                        one => vec![one],
                    };
                    for code in codes {
                        if !items.contains(&code) {
                            items.push(code);
                        }
                    }
                }
                Value::Array(items)
            }
            (_, []) if field.required && field.nullable => Value::Null,
            (_, []) if field.required => return Err(usage(&flag, "is required")),
            (_, []) => continue,
            (_, [.., last]) => one(last)?,
        };
        body.insert(field.name.to_owned(), value);
    }
    ordered(schema, &body)?;
    Ok(body)
}

/// `*_from` after `*_to`, or `*_min` above `*_max`, is refused.
fn ordered(schema: &Schema, body: &Map<String, Value>) -> Result<(), UsageError> {
    for (low, high) in [("_from", "_to"), ("_min", "_max")] {
        for field in schema.fields {
            let Some(stem) = field.name.strip_suffix(low) else {
                continue;
            };
            let Some(upper) = schema.field(&format!("{stem}{high}")) else {
                continue;
            };
            let (Some(from), Some(to)) = (
                body.get(field.name).and_then(Value::as_f64),
                body.get(upper.name).and_then(Value::as_f64),
            ) else {
                continue;
            };
            if from > to {
                return Err(UsageError(format!(
                    "--{} ({from}) is after --{} ({to})",
                    flag_name(field),
                    flag_name(upper)
                )));
            }
        }
    }
    Ok(())
}

fn usage(flag: &str, message: impl std::fmt::Display) -> UsageError {
    UsageError(format!("{flag}: {message}"))
}

#[cfg(test)]
mod tests {
    use ccsqm_client::spec::schemas::APPRAISECALL_DETAILS_REQUEST as REQUEST;

    use super::*;

    #[test]
    fn enumeration_names_in_any_case_and_spelling_and_the_nearest_suggested() {
        use ccsqm_client::spec::enums::INSPECTION_STATUS as STATUS;
        let failed = STATUS
            .values
            .iter()
            .find(|v| v.name == "inspection-failed")
            .unwrap()
            .code;
        for spelling in [
            "inspection-failed",
            "inspection_failed",
            "Inspection Failed",
            "INSPECTION_FAILED",
            " inspection  failed ",
        ] {
            assert_eq!(enum_code(&STATUS, spelling), Ok(failed), "{spelling}");
        }
        let error = enum_code(&STATUS, "inspecton-faild").unwrap_err();
        assert!(error.contains("did you mean inspection-failed?"), "{error}");
        assert!(
            error.contains("is not an inspection status name"),
            "{error}"
        );
        let error = enum_code(&STATUS, "Failed").unwrap_err();
        assert!(
            error.contains("did you mean one of inspection-failed, speech-to-text-failed"),
            "{error}"
        );
        assert!(!error.contains("one of waiting"), "{error}");
        // A group (x-enum-groups) is every code of it, for an array only.
        let failed_group = STATUS.group("failed").unwrap();
        assert_eq!(
            enum_codes(&STATUS, "Failed", true),
            Ok(failed_group.codes.to_vec())
        );
        assert_eq!(
            enum_codes(&STATUS, "in_progress", true),
            Ok(STATUS.group("in-progress").unwrap().codes.to_vec())
        );
        let error = enum_codes(&STATUS, "finall", true).unwrap_err();
        assert!(error.contains("did you mean final?"), "{error}");
        assert!(error.contains("the groups: in-progress"), "{error}");
        let error = enum_code(&STATUS, "zzz").unwrap_err();
        assert!(!error.contains("did you mean"), "{error}");
        assert!(error.contains("voice-file-invalid"), "{error}");
    }

    fn matches(args: &[&str]) -> Result<ArgMatches, clap::Error> {
        clap::Command::new("t")
            .arg(Arg::new("all").long("all").action(ArgAction::SetTrue))
            .args(super::args(&REQUEST))
            .try_get_matches_from(std::iter::once("t").chain(args.iter().copied()))
    }

    fn body_of(args: &[&str]) -> Result<Map<String, Value>, UsageError> {
        let now: Timestamp = "2021-06-01T00:00:00Z".parse().unwrap();
        body(&REQUEST, &matches(args).unwrap(), now, &TimeZone::UTC)
    }

    #[test]
    fn every_field_of_the_request_has_a_flag() {
        let m = matches(&[]).unwrap();
        for field in REQUEST.fields {
            assert!(
                m.try_contains_id(field.name).is_ok(),
                "the request field `{}` of spec/ccsqm.yaml has no flag",
                field.name
            );
        }
    }

    #[test]
    fn defaults_are_every_documented_value_and_nulls() {
        let body = body_of(&[]).unwrap();
        let statuses: Vec<i64> = ccsqm_client::spec::enums::INSPECTION_STATUS
            .values
            .iter()
            .map(|v| v.code)
            .collect();
        assert_eq!(body["status"], serde_json::json!(statuses));
        assert_eq!(body["upload_from"], Value::Null);
        assert_eq!(body["page"], 1);
        assert_eq!(body["limit"], 100);
        assert!(!body.contains_key("keyword"));
    }

    #[test]
    fn values_are_parsed_by_kind() {
        let body = body_of(&[
            "--status",
            "inspection-succeeded,31",
            "--call-type",
            "voice",
            "--call-from",
            "2021-05-18",
            "--call-to",
            "2021-05-18",
            "--duration-min",
            "5",
        ])
        .unwrap();
        assert_eq!(body["status"], serde_json::json!([2, 31]));
        assert_eq!(body["call_types"], serde_json::json!([0]));
        assert_eq!(body["call_from"], 1621296000);
        assert_eq!(body["call_to"], 1621382399);
        assert_eq!(body["duration_min"], 5);
    }

    #[test]
    fn a_status_group_is_each_of_its_codes_once() {
        use ccsqm_client::spec::enums::INSPECTION_STATUS as STATUS;
        let body = body_of(&[
            "--status",
            "inspection-failed,failed",
            "--status",
            "2,succeeded",
        ])
        .unwrap();
        let mut expected: Vec<i64> = STATUS.group("failed").unwrap().codes.to_vec();
        expected.push(2);
        assert_eq!(body["status"], serde_json::json!(expected));
        let body = body_of(&["--status", "final"]).unwrap();
        assert_eq!(
            body["status"],
            serde_json::json!(STATUS.group("final").unwrap().codes)
        );
        // Only an array takes a group; the call type has none.
        let err = matches(&["--call-types", "failed"])
            .unwrap_err()
            .to_string();
        assert!(!err.contains("the groups"), "{err}");
    }

    #[test]
    fn bad_values_and_order_are_refused() {
        assert!(matches(&["--status", "nope"]).is_err());
        assert!(matches(&["--limit", "0"]).is_err());
        assert!(matches(&["--duration-min", "-1"]).is_err());
        assert!(matches(&["--page", "2", "--all"]).is_err());
        let err = body_of(&["--duration-min", "9", "--duration-max", "3"]).unwrap_err();
        assert!(err.0.contains("--duration-min"), "{err}");
        let err = body_of(&["--call-from", "yesterday-ish"]).unwrap_err();
        assert!(err.0.starts_with("--call-from"), "{err}");
    }
}
