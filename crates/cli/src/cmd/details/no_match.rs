//! When a query matches nothing: a note on stderr with the filters sent and, for the built-in
//! sandbox, what its data holds, so that an empty result is never a silent puzzle.

use ccsqm_client::spec::{Kind, Schema};
use ccsqm_models::AppraisecallDetailsResponse;
use ccsqm_sandbox::Sandbox;
use serde_json::Value;

use crate::request;

/// The calls of one page and its `paging.total`.
pub(crate) fn counts(page: &AppraisecallDetailsResponse) -> (u64, Option<i64>) {
    let calls = page.data.iter().map(|g| g.calls.len() as u64).sum();
    (calls, page.paging.as_ref().and_then(|p| p.total))
}

/// The note for a request (`body`, as sent) that returned no call: one line with the filters
/// sent, one with a hint. When the page's `paging.total` (`total`) says calls match, the page
/// asked for is past the last one, and the note says that instead.
pub(crate) fn note(
    schema: &Schema,
    body: &Value,
    total: Option<i64>,
    sandbox: Option<&Sandbox>,
) -> String {
    if let Some(total) = total.filter(|t| *t > 0) {
        let page = body.get("page").and_then(Value::as_u64).unwrap_or(1);
        let limit = body
            .get("limit")
            .and_then(Value::as_u64)
            .unwrap_or(1)
            .max(1);
        let pages = (total as u64).div_ceil(limit);
        return format!(
            "ccsqm: page {page} holds no call: {total} call(s) match, on {pages} page(s) of \
             {limit} (--all fetches every page)\n"
        );
    }
    let filters = filters(schema, body);
    let filters = match filters.is_empty() {
        true => "none".to_owned(),
        false => filters.join(" "),
    };
    let hint = match sandbox {
        Some(sandbox) => format!(
            "the sandbox holds {}; --anchor DATE, --calls and --seed change its data",
            crate::sandbox_flags::describe(sandbox)
        ),
        None => "widen the filters or the time window; --dry-run shows the request".to_owned(),
    };
    format!("ccsqm: no call matches the filters sent: {filters}\nccsqm: hint: {hint}\n")
}

/// The request's filters as flags with their values: every field but paging and the ones sent
/// empty (`null`); times in UTC, enumeration values by name, and "every documented value"
/// when all of them were sent.
fn filters(schema: &Schema, body: &Value) -> Vec<String> {
    let paging = |name: &str| {
        request::OVERRIDES
            .iter()
            .any(|o| o.field == name && o.heading == Some("Paging"))
    };
    schema
        .fields
        .iter()
        .filter(|f| !paging(f.name))
        .filter_map(|field| {
            let value = body.get(field.name).filter(|v| !v.is_null())?;
            let flag = request::flag_name(field);
            Some(format!("--{flag} {}", shown(&field.kind, value)))
        })
        .collect()
}

fn shown(kind: &Kind, value: &Value) -> String {
    match (kind, value) {
        (Kind::UnixSeconds, Value::Number(n)) => n
            .as_i64()
            .and_then(|s| jiff::Timestamp::from_second(s).ok())
            .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_else(|| n.to_string()),
        (Kind::Enum(e), Value::Number(n)) => n
            .as_i64()
            .and_then(|code| e.values.iter().find(|v| v.code == code))
            .map(|v| v.name.to_owned())
            .unwrap_or_else(|| n.to_string()),
        (Kind::Array(Kind::Enum(e)), Value::Array(items)) => {
            let every = e
                .values
                .iter()
                .all(|v| items.contains(&Value::from(v.code)));
            if every && items.len() == e.values.len() {
                format!("(all {} documented values)", items.len())
            } else {
                let names: Vec<String> = items.iter().map(|i| shown(&Kind::Enum(e), i)).collect();
                names.join(",")
            }
        }
        (Kind::Array(item), Value::Array(items)) => {
            let items: Vec<String> = items.iter().map(|i| shown(item, i)).collect();
            items.join(",")
        }
        (_, Value::String(s)) => format!("{s:?}"),
        (_, other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operations::DETAILS_REQUEST;

    #[test]
    fn the_filters_sent_read_as_flags() {
        let codes = |e: &ccsqm_client::spec::Enumeration| e.codes().collect::<Vec<_>>();
        let body = serde_json::json!({
            "page": 3, "limit": 50,
            "call_from": 1_700_000_000, "call_to": null, "upload_from": null,
            "call_types": codes(&ccsqm_client::spec::enums::CALL_TYPE),
            "status": [2, 31],
            "keyword": "refund \"now\"",
        });
        let note = note(DETAILS_REQUEST, &body, None, None);
        let first = note.lines().next().unwrap();
        assert!(first.contains("--call-from 2023-11-14T22:13:20Z"), "{note}");
        assert!(
            first.contains("--call-type (all 2 documented values)"),
            "{note}"
        );
        assert!(
            first.contains("--status inspection-succeeded,asr-no-speech "),
            "{note}"
        );
        assert!(first.contains(r#"--keyword "refund \"now\"""#), "{note}");
        for absent in ["--page", "--limit", "--call-to", "--upload-from", "null"] {
            assert!(!first.contains(absent), "{absent} in {note}");
        }
        assert!(
            note.lines().nth(1).unwrap().starts_with("ccsqm: hint: "),
            "{note}"
        );
    }
}
