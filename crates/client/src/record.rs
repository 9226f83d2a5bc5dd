//! [`CallRecord`]: one call of a page with the `call_group_id` of its group.

use serde::{Deserialize, Serialize};

use crate::drift::PageExtras;
use crate::types::{AppraisecallDetailsResponse, Call};

/// One call with its group's `call_group_id`, owned: the unit of "one call per line" output,
/// and the item of [`Client::calls`](crate::Client::calls).
///
/// Its JSON is the call's own fields plus `call_group_id` (omitted when `None`, like the call's
/// absent fields), plus the keys the spec does not name ([`CallRecord::unknown_fields`]), as
/// the server sent them:
///
/// ```
/// use ccsqm_client::{types::Call, CallRecord};
///
/// let record = CallRecord {
///     call_group_id: Some("g1".into()),
///     call: Call { call_id: Some("a".into()), status: Some(2), ..Call::default() },
///     ..CallRecord::default()
/// };
/// let json = serde_json::to_string(&record)?;
/// assert_eq!(json, r#"{"call_group_id":"g1","call_id":"a","status":2}"#);
/// assert_eq!(serde_json::from_str::<CallRecord>(&json)?, record);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(
    feature = "schemars",
    schemars(
        title = "CallRecord",
        description = "One inspected call with the `call_group_id` of its group: the call's \
                       fields plus `call_group_id`, plus any key the server sent with the call \
                       (or its group) that the spec does not name, as sent."
    )
)]
pub struct CallRecord {
    /// Call group ID: the `call_group_id` of the group the call belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_group_id: Option<String>,
    /// The call's fields.
    #[serde(flatten)]
    pub call: Call,
    /// What the server sent with the call that `spec/ccsqm.yaml` does not name (see
    /// [`Drift`](crate::Drift)): the call's own unknown keys, and its group's (a group's key
    /// that the call also has, or that names a field of a call, is kept as
    /// `call_group.<key>`), each with its value as sent (JSON numbers are read as 64-bit
    /// integers or doubles, like the rest of the call). Empty when the spec names every key;
    /// filled by [`Client::calls`](crate::Client::calls) (a page read into the generated types
    /// alone has none).
    #[serde(flatten, skip_serializing_if = "serde_json::Map::is_empty")]
    pub unknown_fields: serde_json::Map<String, serde_json::Value>,
}

impl CallRecord {
    /// Every call of a response page, in order, as owned records (consumes the page; no call
    /// is cloned).
    pub fn from_page(response: AppraisecallDetailsResponse) -> impl Iterator<Item = CallRecord> {
        Self::from_scanned_page(response, None)
    }

    /// [`CallRecord::from_page`], each call with the unknown keys that the scan of the same
    /// page found for it (and for its group).
    pub(crate) fn from_scanned_page(
        response: AppraisecallDetailsResponse,
        extras: Option<PageExtras>,
    ) -> impl Iterator<Item = CallRecord> {
        let mut groups = extras
            .map(PageExtras::groups)
            .unwrap_or_default()
            .into_iter();
        response.data.into_iter().flat_map(move |group| {
            let call_group_id = group.call_group_id;
            let extras = groups.next().unwrap_or_default();
            let group_unknown = extras.unknown;
            let mut calls = extras.calls.into_iter();
            group
                .calls
                .into_iter()
                .map(|call| {
                    let unknown = calls.next().unwrap_or_default();
                    CallRecord {
                        call_group_id: call_group_id.clone(),
                        call,
                        unknown_fields: crate::drift::merged(unknown, &group_unknown),
                    }
                })
                .collect::<Vec<_>>()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_round_trip_beside_the_call() {
        let text = r#"{"call_group_id":"g","call_uuid":"u","status":41,"sentiment":{"score":1},"zz":[1,2]}"#;
        let record: CallRecord = serde_json::from_str(text).unwrap();
        assert_eq!(record.call.status, Some(41));
        assert_eq!(record.call.call_uuid.as_deref(), Some("u"));
        assert_eq!(
            serde_json::Value::Object(record.unknown_fields.clone()),
            json!({"sentiment": {"score": 1}, "zz": [1, 2]})
        );
        let again: serde_json::Value = serde_json::to_value(&record).unwrap();
        assert_eq!(
            again,
            serde_json::from_str::<serde_json::Value>(text).unwrap()
        );
    }

    #[test]
    fn a_scanned_page_gives_each_call_its_unknown_keys() {
        let body = json!({"data": [
            {"call_group_id": "g1", "region": "eu", "calls": [{"call_uuid": "a", "x": 1}, {"call_uuid": "b"}]},
            {"call_group_id": "g2", "calls": [{"call_uuid": "c", "y": true}]}
        ]})
        .to_string();
        let page: AppraisecallDetailsResponse = serde_json::from_str(&body).unwrap();
        let extras = crate::drift::scan_page(body.as_bytes());
        let records: Vec<serde_json::Value> = CallRecord::from_scanned_page(page, extras)
            .map(|r| serde_json::to_value(r).unwrap())
            .collect();
        assert_eq!(
            records,
            vec![
                json!({"call_group_id": "g1", "call_uuid": "a", "x": 1, "region": "eu"}),
                json!({"call_group_id": "g1", "call_uuid": "b", "region": "eu"}),
                json!({"call_group_id": "g2", "call_uuid": "c", "y": true}),
            ]
        );
    }
}
