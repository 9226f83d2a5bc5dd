//! [`CallRecord`]: one call of a page with the `call_group_id` of its group.

use serde::{Deserialize, Serialize};

use crate::types::{AppraisecallDetailsResponse, Call};

/// One call with its group's `call_group_id`, owned: the unit of "one call per line" output,
/// and the item of [`Client::calls`](crate::Client::calls).
///
/// Its JSON is the call's own fields plus `call_group_id` (omitted when `None`, like the call's
/// absent fields):
///
/// ```
/// use ccsqm_client::{types::Call, CallRecord};
///
/// let record = CallRecord {
///     call_group_id: Some("g1".into()),
///     call: Call { call_id: Some("a".into()), status: Some(2), ..Call::default() },
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
                       fields plus `call_group_id`."
    )
)]
pub struct CallRecord {
    /// Call group ID: the `call_group_id` of the group the call belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_group_id: Option<String>,
    /// The call's fields.
    #[serde(flatten)]
    pub call: Call,
}

impl CallRecord {
    /// Every call of a response page, in order, as owned records (consumes the page; no call
    /// is cloned).
    pub fn from_page(response: AppraisecallDetailsResponse) -> impl Iterator<Item = CallRecord> {
        response.data.into_iter().flat_map(|group| {
            let call_group_id = group.call_group_id;
            group.calls.into_iter().map(move |call| CallRecord {
                call_group_id: call_group_id.clone(),
                call,
            })
        })
    }
}
