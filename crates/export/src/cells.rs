//! A call's fields as people read them: times in a chosen time zone, codes by their names.
//! Used by the table and by `--csv-style readable`.

use ccsqm_client::spec::schemas::CALL;
use ccsqm_client::spec::{Enumeration, Field, Kind};
use jiff::tz::TimeZone;
use serde_json::Value;

/// `--tz`: a time zone by its IANA name (`Europe/Paris`), `UTC`, or `local` (the system's,
/// from `TZ` or `/etc/localtime`).
#[derive(Clone, Debug)]
pub struct Zone {
    /// The time zone.
    pub tz: TimeZone,
    /// How headers name it: its IANA name (`UTC` for every name of UTC: `Etc/UTC`, `Zulu`,
    /// `Etc/GMT`, ...), or `local` when the system's has none.
    pub label: String,
}

/// The names of UTC (and of GMT, the same times) in the time zone database: headers say `UTC`.
const UTC_NAMES: [&str; 16] = [
    "UTC",
    "Etc/UTC",
    "Etc/UCT",
    "UCT",
    "Etc/Universal",
    "Universal",
    "Etc/Zulu",
    "Zulu",
    "GMT",
    "Etc/GMT",
    "Etc/GMT0",
    "Etc/GMT+0",
    "Etc/GMT-0",
    "GMT0",
    "Etc/Greenwich",
    "Greenwich",
];

/// How a header names a zone of this IANA name: `UTC` for UTC's names, else the name.
fn label(name: &str) -> String {
    match UTC_NAMES.iter().any(|u| u.eq_ignore_ascii_case(name)) {
        true => "UTC".to_owned(),
        false => name.to_owned(),
    }
}

impl Zone {
    /// The system's time zone.
    pub fn local() -> Self {
        let tz = TimeZone::system();
        let label = tz.iana_name().map_or_else(|| "local".to_owned(), label);
        Zone { tz, label }
    }

    /// `--tz NAME` (clap's value parser): an IANA name, `UTC` or `local`, any case.
    pub fn parse(name: &str) -> Result<Self, String> {
        let name = name.trim();
        if name.eq_ignore_ascii_case("local") {
            return Ok(Zone::local());
        }
        if name.eq_ignore_ascii_case("utc") || name.eq_ignore_ascii_case("z") {
            return Ok(Zone {
                tz: TimeZone::UTC,
                label: "UTC".into(),
            });
        }
        match TimeZone::get(name) {
            Ok(tz) => {
                let label = label(tz.iana_name().unwrap_or(name));
                Ok(Zone { tz, label })
            }
            Err(_) => Err(format!(
                "unknown time zone {name:?}: give an IANA name (Europe/Paris, Asia/Shanghai), \
                 UTC or local"
            )),
        }
    }

    /// `1622633782` as `2021-06-02 11:36:22` in this zone.
    pub fn short(&self, seconds: i64) -> Option<String> {
        let t = jiff::Timestamp::from_second(seconds).ok()?;
        Some(
            t.to_zoned_datetime(self.tz.clone())
                .strftime("%Y-%m-%d %H:%M:%S")
                .to_string(),
        )
    }

    /// `1622633782` as RFC 3339 in this zone, with its offset: `2021-06-02T19:36:22+08:00`.
    pub fn rfc3339(&self, seconds: i64) -> Option<String> {
        let t = jiff::Timestamp::from_second(seconds).ok()?;
        Some(
            t.to_zoned_datetime(self.tz.clone())
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string(),
        )
    }
}

/// The enumeration that names the codes of a call's integer field
/// ([`ccsqm_client::call_enumeration`]: the spec's pairing, made in one place).
pub fn enumeration_of(field: &str) -> Option<&'static Enumeration> {
    ccsqm_client::call_enumeration(field)
}

/// The documented name of `code`, if it is one of `enumeration`'s.
pub fn name_of(enumeration: &Enumeration, code: &Value) -> Option<&'static str> {
    enumeration.value(code.as_i64()?).map(|v| v.name)
}

/// The spec's field of a call named `name` (`call_group_id` is the group's, not a call's).
pub fn call_field(name: &str) -> Option<&'static Field> {
    CALL.field(name)
}

/// Whether the field holds Unix seconds.
pub fn is_time(name: &str) -> bool {
    call_field(name).is_some_and(|f| f.kind == Kind::UnixSeconds)
}

/// A value for the table: a time in `zone`, a code by its name (an undocumented one as its
/// number), a text as it is (escaped later), a number as JSON writes it; absent: empty.
pub fn for_people(name: &str, value: &Value, zone: &Zone) -> String {
    match value {
        Value::Null => String::new(),
        Value::Number(n) if is_time(name) => n
            .as_i64()
            .and_then(|s| zone.short(s))
            .unwrap_or_else(|| n.to_string()),
        Value::Number(n) => match enumeration_of(name).and_then(|e| name_of(e, value)) {
            Some(named) => named.to_owned(),
            None => n.to_string(),
        },
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn zones_by_name() {
        assert_eq!(Zone::parse("utc").unwrap().label, "UTC");
        for utc in ["Etc/UTC", "Zulu", "Etc/GMT", "Universal"] {
            assert_eq!(Zone::parse(utc).unwrap().label, "UTC", "{utc}");
        }
        let paris = Zone::parse("Europe/Paris").unwrap();
        assert_eq!(paris.label, "Europe/Paris");
        assert_eq!(paris.short(1_622_633_782).unwrap(), "2021-06-02 13:36:22");
        assert_eq!(
            paris.rfc3339(1_622_633_782).unwrap(),
            "2021-06-02T13:36:22+02:00"
        );
        let err = Zone::parse("Mars/Olympus").unwrap_err();
        assert!(err.contains("Mars/Olympus"), "{err}");
    }

    #[test]
    fn codes_are_named_by_the_enumeration_the_request_pairs_them_with() {
        use ccsqm_client::spec::enums::{CALL_TYPE, INSPECTION_STATUS};
        assert_eq!(enumeration_of("status"), Some(&INSPECTION_STATUS));
        assert_eq!(enumeration_of("call_type"), Some(&CALL_TYPE));
        assert_eq!(enumeration_of("duration"), None);
        for value in INSPECTION_STATUS.values {
            let shown = for_people("status", &json!(value.code), &Zone::parse("UTC").unwrap());
            assert_eq!(shown, value.name);
        }
        assert_eq!(
            for_people("status", &json!(777), &Zone::parse("UTC").unwrap()),
            "777"
        );
    }
}
