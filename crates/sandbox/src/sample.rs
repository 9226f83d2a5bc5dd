//! Values derived from a field's schema alone (type, `x-unix-seconds`, enumeration,
//! `minimum`/`maximum`, `example`), deterministic for a key: what the sandbox serves for a field
//! of the spec it has no generator of its own for (see `generated.rs`).
//!
//! | schema | value |
//! |---|---|
//! | an enumeration | one of its documented codes |
//! | `x-unix-seconds` | a time within the generated calls' span |
//! | `minimum` and/or `maximum` | a value within them |
//! | an `example` | the example |
//! | text | `<field>-<n>` |
//! | integer, number | `0..1000`, `0..1000` in hundredths |
//! | boolean | true or false |
//!
//! A field of any other shape (an array, an object, arrays of objects nested at any depth,
//! `oneOf`/`anyOf`/`allOf`, `nullable`) gets a value of its whole schema ([`fill_shaped`], the
//! schema given by `generated.rs` as JSON with its references inlined), by the same rules for
//! each scalar within, plus:
//!
//! | schema | value |
//! |---|---|
//! | an array | `minItems..=maxItems` items (1 to 3 when unbounded, at most 16), each of the items' schema |
//! | an object | every property (required or not) of its schema |
//! | `oneOf`, `anyOf` | a value of one of the choices |
//! | `allOf` | the properties of all the parts |
//! | `nullable` | a value, never `null` (so that it is seen) |
//! | `minLength`/`maxLength` | a text of a length within them |
//! | `format: date-time`, `date` | an RFC 3339 time or a date within the calls' span |

use ccsqm_client::spec::{Field, Kind};

use crate::anchor::{civil_from_days, FIRST_CALL_TIME, SPAN_DAYS};
use crate::rng::mix;

/// 64 bits fixed by the key and the field's name.
fn bits(field: &Field, key: u64) -> u64 {
    let name = field.name.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
    });
    mix(key ^ mix(name))
}

/// The field's example, parsed once per thread and field: every call served builds a sample
/// call, so parsing the examples' JSON each time would cost microseconds per call.
fn example<T: serde::de::DeserializeOwned>(field: &Field) -> Option<T> {
    thread_local! {
        static PARSED: std::cell::RefCell<std::collections::HashMap<usize, Option<serde_json::Value>>> =
            std::cell::RefCell::default();
    }
    let text = field.example?;
    // Keyed by the address of the static example text: one entry per field of the spec.
    let key = text.as_ptr() as usize;
    PARSED.with(|parsed| {
        let mut parsed = parsed.borrow_mut();
        let value = parsed
            .entry(key)
            .or_insert_with(|| serde_json::from_str(text).ok());
        value.as_ref().and_then(|v| T::deserialize(v).ok())
    })
}

/// A value of the field's schema, as the generated type of the field holds it (through its
/// JSON, so that any type progenitor generates for the field reads it): one of the schema's own
/// `enum` values when it has some, else a value of its kind; `None` for arrays and objects.
pub(crate) fn value<T: serde::de::DeserializeOwned>(field: &Field, key: u64) -> Option<T> {
    let json = if field.values.is_empty() {
        match field.kind {
            Kind::String | Kind::Secret => text(field, key).map(serde_json::Value::from),
            Kind::Integer | Kind::UnixSeconds | Kind::Enum(_) => {
                integer(field, key).map(serde_json::Value::from)
            }
            Kind::Number => number(field, key).map(serde_json::Value::from),
            Kind::Boolean => boolean(field, key).map(serde_json::Value::from),
            Kind::Array(_) | Kind::Object(_) | Kind::Other => None,
        }
    } else {
        let pick = field.values[(bits(field, key) % field.values.len() as u64) as usize];
        serde_json::from_str(pick).ok()
    }?;
    serde_json::from_value(json).ok()
}

/// A field of the generated types that can be unset: an `Option`, or a `Vec` (progenitor's
/// type for an optional array).
// Used by `generated.rs` once the spec has a field of such a shape (none does yet).
#[allow(dead_code)]
pub(crate) trait Slot {
    fn is_unset(&self) -> bool;
}

impl<T> Slot for Option<T> {
    fn is_unset(&self) -> bool {
        self.is_none()
    }
}

impl<T> Slot for Vec<T> {
    fn is_unset(&self) -> bool {
        self.is_empty()
    }
}

/// How deep [`shaped`] goes: deeper levels are left out (arrays empty, objects without
/// properties), so that a schema that holds itself ends.
// Used by `generated.rs` once the spec has a field of such a shape (none does yet).
#[allow(dead_code)]
const MAX_DEPTH: usize = 8;

/// Sets `slot`, when unset, to a value of `schema` (the field's schema as JSON, references
/// inlined) for `key`, as the generated type of the field reads it. A value it cannot read
/// (a schema the generator cannot satisfy) leaves the field unset, as the vendor may.
// Used by `generated.rs` once the spec has a field of such a shape (none does yet).
#[allow(dead_code)]
pub(crate) fn fill_shaped<T: Slot + serde::de::DeserializeOwned>(
    slot: &mut T,
    field: &Field,
    schema: &'static str,
    key: u64,
) {
    if !slot.is_unset() {
        return;
    }
    thread_local! {
        static PARSED: std::cell::RefCell<std::collections::HashMap<usize, Option<serde_json::Value>>> =
            std::cell::RefCell::default();
    }
    let json = PARSED.with(|parsed| {
        let mut parsed = parsed.borrow_mut();
        let schema = parsed
            .entry(schema.as_ptr() as usize)
            .or_insert_with(|| serde_json::from_str(schema).ok());
        schema
            .as_ref()
            .map(|schema| shaped(schema, field.name, bits(field, key), 0))
    });
    if let Some(value) = json.and_then(|json| serde_json::from_value(json).ok()) {
        *slot = value;
    }
}

/// A value of the JSON `schema` (an OpenAPI 3.0 schema object), fixed by `seed`; `name` makes
/// texts readable (`<name>-<n>`).
// Used by `generated.rs` once the spec has a field of such a shape (none does yet).
#[allow(dead_code)]
pub(crate) fn shaped(
    schema: &serde_json::Value,
    name: &str,
    seed: u64,
    depth: usize,
) -> serde_json::Value {
    use serde_json::Value;
    let get = |key: &str| schema.get(key);
    let number = |key: &str| get(key).and_then(Value::as_f64);
    let pick = |choices: &Vec<Value>| {
        choices
            .get((seed % choices.len().max(1) as u64) as usize)
            .cloned()
    };
    if let Some(Value::Array(values)) = get("enum") {
        match pick(values) {
            Some(value) if !value.is_null() => return value,
            Some(_) => {
                if let Some(value) = values.iter().find(|v| !v.is_null()) {
                    return value.clone();
                }
            }
            None => {}
        }
    }
    for choice in ["oneOf", "anyOf"] {
        if let Some(Value::Array(choices)) = get(choice) {
            if let Some(chosen) = choices.get((seed % choices.len().max(1) as u64) as usize) {
                return shaped(chosen, name, mix(seed), depth + 1);
            }
        }
    }
    if let Some(Value::Array(parts)) = get("allOf") {
        let mut merged = serde_json::Map::new();
        let mut other = None;
        for (i, part) in parts.iter().enumerate() {
            match shaped(part, name, mix(seed ^ i as u64), depth + 1) {
                Value::Object(fields) => merged.extend(fields),
                value => other = other.or(Some(value)),
            }
        }
        return match other {
            Some(value) if merged.is_empty() => value,
            _ => Value::Object(merged),
        };
    }
    let kind = get("type").and_then(Value::as_str).unwrap_or_else(|| {
        if get("properties").is_some() {
            "object"
        } else if get("items").is_some() {
            "array"
        } else {
            ""
        }
    });
    match kind {
        "array" => {
            let min = number("minItems").unwrap_or(0.0) as u64;
            let max = number("maxItems")
                .map_or(min.max(1) + 2, |m| m as u64)
                .max(min);
            let count = if depth >= MAX_DEPTH {
                0
            } else {
                // At least one item when allowed, so that the field is seen.
                let low = min.max(1).min(max);
                low + seed % (max - low + 1)
            };
            let items = get("items").unwrap_or(&Value::Null);
            Value::Array(
                (0..count.min(16))
                    .map(|i| shaped(items, name, mix(seed.wrapping_add(i + 1)), depth + 1))
                    .collect(),
            )
        }
        "object" => {
            let mut out = serde_json::Map::new();
            if depth < MAX_DEPTH {
                if let Some(Value::Object(properties)) = get("properties") {
                    for (property, schema) in properties {
                        let seed = mix(seed ^ hash(property));
                        out.insert(property.clone(), shaped(schema, property, seed, depth + 1));
                    }
                }
            }
            Value::Object(out)
        }
        "integer" | "number" => {
            if schema.get("x-unix-seconds").is_some() {
                return Value::from(FIRST_CALL_TIME + (seed % (SPAN_DAYS * 86_400)) as i64);
            }
            if let Some(example) = get("example").filter(|e| e.is_number()) {
                if number("minimum").is_none() && number("maximum").is_none() {
                    return example.clone();
                }
            }
            let min = number("minimum").unwrap_or(0.0);
            let max = number("maximum").unwrap_or(min + 1000.0).max(min);
            let exclusive = |key: &str| get(key).and_then(Value::as_bool).unwrap_or(false);
            if kind == "integer" {
                let mut low = min.ceil() as i64;
                let mut high = max.floor() as i64;
                if exclusive("exclusiveMinimum") && low as f64 == min {
                    low = low.saturating_add(1);
                }
                if exclusive("exclusiveMaximum") && high as f64 == max {
                    high = high.saturating_sub(1);
                }
                let span = high.saturating_sub(low).max(0) as u64 + 1;
                Value::from(low.saturating_add((seed % span) as i64))
            } else {
                let fraction = (seed % 10_001) as f64 / 10_000.0;
                // Kept inside an exclusive bound: a fraction strictly between 0 and 1.
                let fraction = if exclusive("exclusiveMinimum") || exclusive("exclusiveMaximum") {
                    0.001 + fraction * 0.998
                } else {
                    fraction
                };
                Value::from(min + fraction * (max - min))
            }
        }
        "boolean" => Value::from(seed & 1 == 1),
        "string" => {
            let format = get("format").and_then(Value::as_str).unwrap_or("");
            let time = FIRST_CALL_TIME + (seed % (SPAN_DAYS * 86_400)) as i64;
            let text = match get("example").and_then(Value::as_str) {
                Some(example) => example.to_owned(),
                None => match format {
                    "date-time" => {
                        let (y, m, d) = civil_from_days(time.div_euclid(86_400));
                        let s = time.rem_euclid(86_400);
                        format!(
                            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
                            s / 3600,
                            s / 60 % 60,
                            s % 60
                        )
                    }
                    "date" => {
                        let (y, m, d) = civil_from_days(time.div_euclid(86_400));
                        format!("{y:04}-{m:02}-{d:02}")
                    }
                    _ => format!("{name}-{}", seed % 1000),
                },
            };
            let min = number("minLength").unwrap_or(0.0) as usize;
            let max = number("maxLength")
                .map_or(usize::MAX, |m| m as usize)
                .max(min);
            let mut text: String = text.chars().take(max).collect();
            let mut length = text.chars().count();
            while length < min {
                text.push(char::from(b'a' + (length % 26) as u8));
                length += 1;
            }
            Value::from(text)
        }
        // An empty schema (anything), or one cut at the depth limit.
        _ => match get("example") {
            Some(example) => example.clone(),
            None => Value::from(format!("{name}-{}", seed % 1000)),
        },
    }
}

// Used by `generated.rs` once the spec has a field of such a shape (none does yet).
#[allow(dead_code)]
fn hash(text: &str) -> u64 {
    text.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
    })
}

/// A text value.
pub(crate) fn text(field: &Field, key: u64) -> Option<String> {
    example(field).or_else(|| Some(format!("{}-{}", field.name, bits(field, key) % 1000)))
}

/// An integer value.
pub(crate) fn integer(field: &Field, key: u64) -> Option<i64> {
    let bits = bits(field, key);
    if let Kind::Enum(e) = field.kind {
        return e
            .values
            .get((bits % e.values.len().max(1) as u64) as usize)
            .map(|v| v.code);
    }
    if field.kind == Kind::UnixSeconds {
        return Some(FIRST_CALL_TIME + (bits % (SPAN_DAYS * 86_400)) as i64);
    }
    match (field.minimum, field.maximum) {
        (None, None) => example(field).or(Some((bits % 1000) as i64)),
        (min, max) => {
            let min = min.unwrap_or(0.0).ceil() as i64;
            let max = max.map_or(min.saturating_add(999), |m| m.floor() as i64);
            let span = max.saturating_sub(min).max(0) as u64 + 1;
            Some(min.saturating_add((bits % span) as i64))
        }
    }
}

/// A number value.
pub(crate) fn number(field: &Field, key: u64) -> Option<f64> {
    let fraction = (bits(field, key) % 10_001) as f64 / 10_000.0;
    match (field.minimum, field.maximum) {
        (None, None) => example(field).or(Some((fraction * 100_000.0).round() / 100.0)),
        (min, max) => {
            let min = min.unwrap_or(0.0);
            let max = max.unwrap_or(min + 1000.0);
            Some(min + fraction * (max - min))
        }
    }
}

/// A boolean value.
pub(crate) fn boolean(field: &Field, key: u64) -> Option<bool> {
    Some(bits(field, key) & 1 == 1)
}

#[cfg(test)]
mod tests {
    use ccsqm_client::spec::schemas::CALL;

    use super::*;

    #[test]
    fn values_follow_the_schema() {
        let field = |name| CALL.field(name).unwrap();
        for key in 0..50 {
            let time = integer(field("call_time"), key).unwrap();
            assert!((FIRST_CALL_TIME..FIRST_CALL_TIME + 180 * 86_400).contains(&time));
            assert!(text(field("call_id"), key).unwrap().starts_with("call_id-"));
            let ratio = number(field("left_speech_ratio"), key).unwrap();
            assert!(ratio.is_finite());
        }
        let bounded = Field {
            minimum: Some(1.0),
            maximum: Some(5.0),
            ..*field("call_type")
        };
        assert!((1..=5).all(|_| (0..100).all(|k| (1..=5).contains(&integer(&bounded, k).unwrap()))));
        assert_eq!(text(field("call_id"), 7), text(field("call_id"), 7));
        let listed = Field {
            values: &["\"gold\"", "\"silver\""],
            ..*field("call_id")
        };
        for key in 0..20 {
            let tier: String = value(&listed, key).unwrap();
            assert!(["gold", "silver"].contains(&tier.as_str()), "{tier}");
        }
        let ratio: f64 = value(field("left_speech_ratio"), 3).unwrap();
        assert!(ratio.is_finite());
    }

    /// Every shape a schema can describe gets a value of that shape, within its bounds, the
    /// same for the same key.
    #[test]
    fn shaped_values_follow_any_schema() {
        use serde_json::{json, Value};
        let rules = json!({
            "type": "array", "minItems": 2, "maxItems": 4,
            "items": {"type": "object", "required": ["id"], "properties": {
                "id": {"type": "string", "minLength": 3, "maxLength": 5},
                "score": {"type": "number", "minimum": 0, "maximum": 1},
                "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
                "hit": {"type": "object", "nullable": true, "properties": {
                    "at": {"type": "integer", "x-unix-seconds": true},
                    "day": {"type": "string", "format": "date"}}},
                "either": {"oneOf": [{"type": "integer", "minimum": 7, "maximum": 7},
                                      {"type": "boolean"}]},
                "both": {"allOf": [{"type": "object", "properties": {"x": {"type": "integer"}}},
                                    {"type": "object", "properties": {"y": {"type": "boolean"}}}]}
            }}
        });
        for seed in 0..200 {
            let value = shaped(&rules, "rules", seed, 0);
            assert_eq!(value, shaped(&rules, "rules", seed, 0), "not deterministic");
            let items = value.as_array().unwrap();
            assert!((2..=4).contains(&items.len()), "{value}");
            for item in items {
                let id = item["id"].as_str().unwrap();
                assert!((3..=5).contains(&id.chars().count()), "{id}");
                let score = item["score"].as_f64().unwrap();
                assert!((0.0..=1.0).contains(&score));
                for tag in item["tags"].as_array().unwrap() {
                    assert!(tag == "a" || tag == "b");
                }
                let at = item["hit"]["at"].as_i64().unwrap();
                assert!(
                    (FIRST_CALL_TIME..FIRST_CALL_TIME + SPAN_DAYS as i64 * 86_400).contains(&at)
                );
                assert_eq!(item["hit"]["day"].as_str().unwrap().len(), 10);
                assert!(item["either"] == json!(7) || item["either"].is_boolean());
                assert!(item["both"]["x"].is_i64() && item["both"]["y"].is_boolean());
            }
        }
        // A schema that holds itself ends.
        let mut deep = json!({"type": "object", "properties": {}});
        for _ in 0..12 {
            deep = json!({"type": "object", "properties": {"child": deep, "list": {"type": "array", "items": deep}}});
        }
        assert!(matches!(shaped(&deep, "tree", 1, 0), Value::Object(_)));
        // A field of the generated types is filled once, through its JSON.
        let mut slot: Vec<std::collections::BTreeMap<String, String>> = Vec::new();
        let schema =
            r#"{"type":"array","items":{"type":"object","properties":{"id":{"type":"string"}}}}"#;
        fill_shaped(&mut slot, CALL.field("call_id").unwrap(), schema, 3);
        assert!(!slot.is_empty() && slot.iter().all(|o| o.contains_key("id")));
        let before = slot.clone();
        fill_shaped(&mut slot, CALL.field("call_id").unwrap(), schema, 4);
        assert_eq!(slot, before, "a set field is kept");
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
    }
}
