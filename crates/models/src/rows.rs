//! One row per call: the response's `data[].calls[]`, each call with its group's
//! `call_group_id`.

use ccsqm_client::types::{AppraisecallDetailsResponse, Call};
use ccsqm_client::CallRecord;
use jiff::Timestamp;

use crate::{utc_from_unix_seconds, CallType, InspectionStatus};

/// Typed views of a [`Call`]'s coded and time fields.
///
/// The methods share the names of the fields they read: `call.status` is the raw code,
/// `call.status()` the [`InspectionStatus`]. Each is `None` when the field is absent, and the
/// times are also `None` when out of range.
///
/// ```
/// use ccsqm_models::{Call, CallExt, CallType, InspectionStatus};
///
/// let call: Call = serde_json::from_str(r#"{"call_type": 2, "status": 31, "call_time": 0}"#)?;
/// assert_eq!(call.call_type(), Some(CallType::Text));
/// assert_eq!(call.status(), Some(InspectionStatus::AsrNoSpeech));
/// assert_eq!(call.call_time(), Some(jiff::Timestamp::UNIX_EPOCH));
/// assert_eq!(call.upload_time(), None);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub trait CallExt {
    /// `call_type` as a [`CallType`].
    fn call_type(&self) -> Option<CallType>;
    /// `status` as an [`InspectionStatus`].
    fn status(&self) -> Option<InspectionStatus>;
    /// `call_time` in UTC.
    fn call_time(&self) -> Option<Timestamp>;
    /// `upload_time` in UTC.
    fn upload_time(&self) -> Option<Timestamp>;
    /// `create_time` in UTC (an undocumented field; a Unix timestamp in the vendor's example).
    fn create_time(&self) -> Option<Timestamp>;
}

impl CallExt for Call {
    fn call_type(&self) -> Option<CallType> {
        self.call_type.map(CallType::from_code)
    }

    fn status(&self) -> Option<InspectionStatus> {
        self.status.map(InspectionStatus::from_code)
    }

    fn call_time(&self) -> Option<Timestamp> {
        self.call_time.and_then(utc_from_unix_seconds)
    }

    fn upload_time(&self) -> Option<Timestamp> {
        self.upload_time.and_then(utc_from_unix_seconds)
    }

    fn create_time(&self) -> Option<Timestamp> {
        self.create_time.and_then(utc_from_unix_seconds)
    }
}

/// A borrowed call with the `call_group_id` of its group; see [`rows`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CallRow<'a> {
    /// The group's `call_group_id` (`None` when the server sent none).
    pub call_group_id: Option<&'a str>,
    /// The call.
    pub call: &'a Call,
}

impl CallRow<'_> {
    /// `call_type` as a [`CallType`].
    pub fn call_type(&self) -> Option<CallType> {
        self.call.call_type()
    }

    /// `status` as an [`InspectionStatus`].
    pub fn status(&self) -> Option<InspectionStatus> {
        self.call.status()
    }

    /// `call_time` in UTC.
    pub fn call_time(&self) -> Option<Timestamp> {
        self.call.call_time()
    }

    /// `upload_time` in UTC.
    pub fn upload_time(&self) -> Option<Timestamp> {
        self.call.upload_time()
    }

    /// `create_time` in UTC.
    pub fn create_time(&self) -> Option<Timestamp> {
        self.call.create_time()
    }

    /// An owned copy, to serialize or keep.
    pub fn to_record(&self) -> CallRecord {
        CallRecord {
            call_group_id: self.call_group_id.map(str::to_owned),
            call: self.call.clone(),
        }
    }
}

/// Every call of a response page, in order, each with its group's `call_group_id`.
///
/// ```
/// use ccsqm_models::{rows, AppraisecallDetailsResponse, InspectionStatus};
///
/// let page: AppraisecallDetailsResponse = serde_json::from_str(
///     r#"{"data": [
///         {"call_group_id": "g1", "calls": [{"call_id": "a", "status": 2}, {"call_id": "b"}]},
///         {"call_group_id": "g2", "calls": [{"call_id": "c"}]}
///     ]}"#,
/// )?;
/// let rows: Vec<_> = rows(&page).collect();
/// assert_eq!(rows.len(), 3);
/// assert_eq!(rows[1].call_group_id, Some("g1"));
/// assert_eq!(rows[1].call.call_id.as_deref(), Some("b"));
/// assert_eq!(rows[0].status(), Some(InspectionStatus::InspectionSucceeded));
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn rows(response: &AppraisecallDetailsResponse) -> impl Iterator<Item = CallRow<'_>> {
    response.data.iter().flat_map(|group| {
        let call_group_id = group.call_group_id.as_deref();
        group.calls.iter().map(move |call| CallRow {
            call_group_id,
            call,
        })
    })
}

/// A [`CallRecord`]'s typed views: [`CallRecordExt::row`].
///
/// [`CallRecord`] is defined in `ccsqm-client` (the item of its paging stream) and re-exported
/// here; this trait gives it the typed accessors of [`CallRow`].
///
/// ```
/// use ccsqm_models::{Call, CallRecord, CallRecordExt, InspectionStatus};
///
/// let record = CallRecord {
///     call_group_id: Some("g1".into()),
///     call: Call { status: Some(2), ..Call::default() },
/// };
/// assert_eq!(record.row().status(), Some(InspectionStatus::InspectionSucceeded));
/// assert_eq!(record.row().call_group_id, Some("g1"));
/// ```
pub trait CallRecordExt {
    /// A borrowed [`CallRow`], for its typed accessors.
    fn row(&self) -> CallRow<'_>;
}

impl CallRecordExt for CallRecord {
    fn row(&self) -> CallRow<'_> {
        CallRow {
            call_group_id: self.call_group_id.as_deref(),
            call: &self.call,
        }
    }
}

impl From<CallRow<'_>> for CallRecord {
    fn from(row: CallRow<'_>) -> Self {
        row.to_record()
    }
}

/// Every call of a response page, in order, as owned [`CallRecord`]s (consumes the page; no
/// call is cloned).
///
/// ```
/// use ccsqm_models::{into_records, AppraisecallDetailsResponse};
///
/// let page: AppraisecallDetailsResponse = serde_json::from_str(
///     r#"{"data": [{"call_group_id": "g1", "calls": [{"call_id": "a"}, {"call_id": "b"}]}]}"#,
/// )?;
/// let lines: Vec<String> = into_records(page)
///     .map(|record| serde_json::to_string(&record))
///     .collect::<Result<_, _>>()?;
/// assert_eq!(
///     lines,
///     [r#"{"call_group_id":"g1","call_id":"a"}"#, r#"{"call_group_id":"g1","call_id":"b"}"#]
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn into_records(response: AppraisecallDetailsResponse) -> impl Iterator<Item = CallRecord> {
    CallRecord::from_page(response)
}
