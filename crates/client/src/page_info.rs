//! [`Paging`]: the page information of a response, read tolerantly.

use serde::{Deserialize, Deserializer, Serialize};

/// Page information (the spec's `Paging` schema).
///
/// `total` is read as the spec says (an integer), and also as an integral number written with
/// a fraction (`1000.0`) or as a string of digits (`"1000"`, `" 1000 "`), which some servers send;
/// anything else there (`1.5`, `"many"`, `true`, an object) is read as no total, which
/// [`Client::calls`](crate::Client::calls) reports as
/// [`PagingWarning::MissingTotal`](crate::PagingWarning::MissingTotal) rather than failing the
/// whole page. It is written back as an integer.
///
/// ```
/// use ccsqm_client::Paging;
/// for text in [r#"{"total": 1000}"#, r#"{"total": 1000.0}"#, r#"{"total": "1000"}"#] {
///     assert_eq!(serde_json::from_str::<Paging>(text)?.total, Some(1000));
/// }
/// assert_eq!(serde_json::from_str::<Paging>(r#"{"total": "many"}"#)?.total, None);
/// assert_eq!(serde_json::to_string(&Paging { total: Some(7) })?, r#"{"total":7}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(description = "Page information."))]
pub struct Paging {
    /// Total number of calls matching the request (over all pages).
    #[serde(
        default,
        deserialize_with = "tolerant_total",
        skip_serializing_if = "Option::is_none"
    )]
    pub total: Option<i64>,
}

/// A `total` as servers write it.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawTotal {
    Integer(i64),
    Unsigned(u64),
    Number(f64),
    Text(String),
    Other(serde::de::IgnoredAny),
}

fn tolerant_total<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<RawTotal>::deserialize(deserializer)? {
        None | Some(RawTotal::Other(_)) => None,
        Some(RawTotal::Integer(n)) => Some(n),
        Some(RawTotal::Unsigned(n)) => Some(i64::try_from(n).unwrap_or(i64::MAX)),
        Some(RawTotal::Number(x)) => integral(x),
        Some(RawTotal::Text(text)) => {
            let text = text.trim();
            text.parse::<i64>()
                .ok()
                .or_else(|| text.parse::<f64>().ok().and_then(integral))
        }
    })
}

/// `x` as an integer, when it is one (and fits).
fn integral(x: f64) -> Option<i64> {
    // i64::MAX as f64 rounds up to 2^63, which does not fit: the bound is exclusive.
    (x.is_finite() && x.fract() == 0.0 && x >= i64::MIN as f64 && x < i64::MAX as f64)
        .then_some(x as i64)
}

#[cfg(test)]
mod tests {
    use super::Paging;

    fn total(json: &str) -> Option<i64> {
        serde_json::from_str::<Paging>(json).unwrap().total
    }

    #[test]
    fn totals_are_read_in_every_plausible_spelling() {
        assert_eq!(total(r#"{"total": 42}"#), Some(42));
        assert_eq!(total(r#"{"total": 42.0}"#), Some(42));
        assert_eq!(total(r#"{"total": 4.2e1}"#), Some(42));
        assert_eq!(total(r#"{"total": "42"}"#), Some(42));
        assert_eq!(total(r#"{"total": " 42.0 "}"#), Some(42));
        assert_eq!(total(r#"{"total": -3}"#), Some(-3));
        assert_eq!(total(r#"{"total": 18446744073709551615}"#), Some(i64::MAX));
    }

    #[test]
    fn unusable_totals_are_no_total() {
        for json in [
            r#"{}"#,
            r#"{"total": null}"#,
            r#"{"total": 1.5}"#,
            r#"{"total": "many"}"#,
            r#"{"total": ""}"#,
            r#"{"total": true}"#,
            r#"{"total": {"value": 3}}"#,
            r#"{"total": [3]}"#,
            r#"{"total": 1e300}"#,
            r#"{"total": "NaN"}"#,
        ] {
            assert_eq!(total(json), None, "{json}");
        }
    }

    #[cfg(feature = "schemars")]
    #[test]
    /// The schema the generated type had: an optional int64 (`null` allowed, as schemars
    /// writes every `Option`), with the spec's descriptions.
    fn the_schema_is_the_specs() {
        let schema = serde_json::to_value(schemars::schema_for!(Paging)).unwrap();
        assert_eq!(schema["description"], "Page information.");
        assert_eq!(
            schema["properties"]["total"]["type"],
            serde_json::json!(["integer", "null"])
        );
        assert_eq!(schema["properties"]["total"]["format"], "int64");
        assert_eq!(
            schema["properties"]["total"]["description"],
            "Total number of calls matching the request (over all pages)."
        );
    }
}
