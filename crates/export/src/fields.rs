//! `--fields a,b,c`: which fields of each call are written (table, CSV, NDJSON, JSON), by the
//! spec's names of a call's fields, plus `call_group_id` (the group's, which NDJSON adds).

use std::io::{self, Write};

use serde_json::{Map, Value};

/// `--fields` named no field, or one a call does not have: the message says which, and the
/// valid names.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FieldsError(String);

/// The names `--fields` accepts, in the order CSV writes them: `call_group_id`, then the
/// spec's `Call` fields.
pub fn valid() -> impl Iterator<Item = &'static str> {
    crate::csv_columns()
}

/// `--fields` (each value may hold commas): the names, in the order given, each once. An
/// unknown name is refused, with the list of valid ones.
pub fn parse(given: &[String]) -> Result<Vec<&'static str>, FieldsError> {
    let mut fields: Vec<&'static str> = Vec::new();
    let mut unknown = Vec::new();
    for name in given.iter().flat_map(|v| v.split(',')).map(str::trim) {
        if name.is_empty() {
            continue;
        }
        match valid().find(|v| *v == name) {
            Some(v) if !fields.contains(&v) => fields.push(v),
            Some(_) => {}
            None => unknown.push(name.to_owned()),
        }
    }
    if !unknown.is_empty() {
        return Err(FieldsError(format!(
            "--fields: unknown field(s) {}; the fields of a call are: {}",
            unknown
                .iter()
                .map(|u| format!("{:?}", ccsqm_client::visible(u)))
                .collect::<Vec<_>>()
                .join(", "),
            valid().collect::<Vec<_>>().join(", ")
        )));
    }
    if fields.is_empty() {
        return Err(FieldsError(format!(
            "--fields is empty; the fields of a call are: {}",
            valid().collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(fields)
}

/// The `fields` of `object` (absent ones left out), in the order of `fields`.
pub fn select(object: &Map<String, Value>, fields: &[&'static str]) -> Vec<(&'static str, Value)> {
    fields
        .iter()
        .filter_map(|f| object.get(*f).map(|v| (*f, v.clone())))
        .collect()
}

/// Writes `pairs` as one JSON object, keys in their order (serde_json's map would sort them).
pub fn write_object(out: &mut dyn Write, pairs: &[(&str, Value)]) -> io::Result<()> {
    out.write_all(b"{")?;
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut *out, key)?;
        out.write_all(b":")?;
        serde_json::to_writer(&mut *out, value)?;
    }
    out.write_all(b"}")
}

/// One page as the API's response with only `fields` in each call (`-o json` of one page);
/// `call_group_id` is the group's, so it stays where it is.
pub fn select_in_page(page: &mut Value, fields: &[&str]) {
    let Some(groups) = page.get_mut("data").and_then(Value::as_array_mut) else {
        return;
    };
    for group in groups {
        let Some(calls) = group.get_mut("calls").and_then(Value::as_array_mut) else {
            continue;
        };
        for call in calls {
            if let Value::Object(map) = call {
                map.retain(|k, _| fields.contains(&k.as_str()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_the_specs_names_in_the_order_given_each_once() {
        let given = vec!["status,call_uuid".to_owned(), "status".into()];
        assert_eq!(parse(&given).unwrap(), vec!["status", "call_uuid"]);
        for name in ccsqm_client::spec::schemas::CALL
            .fields
            .iter()
            .map(|f| f.name)
        {
            assert_eq!(parse(&[name.to_owned()]).unwrap(), vec![name]);
        }
    }

    #[test]
    fn unknown_fields_are_refused_with_the_valid_ones() {
        let err = parse(&["call_uuid,agent,statsu".to_owned()]).unwrap_err().0;
        assert!(err.contains("\"agent\", \"statsu\""), "{err}");
        for name in valid() {
            assert!(err.contains(name), "{name} listed: {err}");
        }
        assert!(parse(&[",".to_owned()]).is_err());
    }

    #[test]
    fn objects_keep_the_order_asked_for() {
        let object = serde_json::json!({"a_absent": 1, "status": 2, "call_uuid": "u"});
        let pairs = select(
            object.as_object().unwrap(),
            &["status", "call_uuid", "duration"],
        );
        let mut out = Vec::new();
        write_object(&mut out, &pairs).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"status":2,"call_uuid":"u"}"#
        );
    }
}
