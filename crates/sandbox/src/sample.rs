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

use ccsqm_client::spec::{Field, Kind};

use crate::data::{FIRST_CALL_TIME, SPAN_DAYS};
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
}
