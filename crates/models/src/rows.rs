//! Typed views of a call's coded and time fields. A page's calls, each with its group's
//! `call_group_id`, are [`CallRecord::from_page`](crate::CallRecord::from_page).

use ccsqm_client::types::Call;
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
