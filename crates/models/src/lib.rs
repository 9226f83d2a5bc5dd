//! Pleasant data types over the CCSQM types generated from `spec/ccsqm.yaml`.
//!
//! The generated types of [`ccsqm_client::types`] are re-exported here, so that code handling
//! CCSQM data can depend on this crate alone. On top of them this crate adds:
//!
//! - [`CallType`] and [`InspectionStatus`]: the API's integer codes as enums with names, labels,
//!   `Display`/`FromStr`, and an `Unknown(i64)` variant so reading never fails;
//! - [`utc_from_unix_seconds`]: the API's Unix-second timestamps as [`jiff::Timestamp`];
//! - [`CallRecord::from_page`]: a page's `data[].calls[]` as one [`CallRecord`] per call, with
//!   its group's `call_group_id` (the one way to walk a page; the paging stream yields the same
//!   records), and [`CallExt`], typed views of a [`Call`];
//! - [`Transcript`]: an `appraisecall/detail` response with typed segments ([`Party`],
//!   durations) and the whole dialog as text;
//! - [`request_schema`], [`response_schema`], [`call_schema`]: JSON Schemas of the data.
//!
//! ```
//! use ccsqm_models::{AppraisecallDetailsResponse, CallExt, CallRecord, CallType, InspectionStatus};
//!
//! let page: AppraisecallDetailsResponse = serde_json::from_str(
//!     r#"{"data": [{"call_group_id": "g1",
//!                   "calls": [{"call_type": 0, "status": 2, "call_time": 1622633782}]}],
//!         "paging": {"total": 1}}"#,
//! )?;
//! for record in CallRecord::from_page(page) {
//!     assert_eq!(record.call_group_id.as_deref(), Some("g1"));
//!     assert_eq!(record.call.call_type(), Some(CallType::Voice));
//!     assert_eq!(record.call.status(), Some(InspectionStatus::InspectionSucceeded));
//!     assert_eq!(record.call.call_time().map(|t| t.as_second()), Some(1622633782));
//! }
//! # Ok::<(), serde_json::Error>(())
//! ```

mod codes;
#[allow(missing_docs)]
mod generated;
mod rows;
mod schema;
mod timestamps;
mod transcript;

/// The generated types, as a module: `types::CallType` and `types::InspectionStatus` are the
/// validated newtypes the request takes (see the conversions of [`CallType`] and
/// [`InspectionStatus`]), and `types::builder` holds the builders.
pub use ccsqm_client::types;
/// The generated data types (the enums of the same names are this crate's [`CallType`] and
/// [`InspectionStatus`]; the generated ones are under [`types`]).
pub use ccsqm_client::types::{
    AppraisecallDetailRequest, AppraisecallDetailResponse, AppraisecallDetailsRequest,
    AppraisecallDetailsResponse, Call, CallGroup, Emotion, FlexibleCallId, Segment, SegmentSpeaker,
    TokenByAkSkRequest, TokenByAkSkResponse,
};
/// The page information of a response (hand-written in `ccsqm-client`: it reads `total`
/// tolerantly).
pub use ccsqm_client::Paging;
/// The type of the credentials in [`TokenByAkSkRequest`] and [`TokenByAkSkResponse`].
pub use ccsqm_client::Secret;

/// One call with its group's `call_group_id` (defined in `ccsqm-client`, the item of its
/// paging stream; [`CallExt`] gives its `call` typed views).
pub use ccsqm_client::CallRecord;
pub use codes::{CallType, InspectionStatus, ParseCodeError, UndocumentedCodeError};
pub use rows::CallExt;
pub use schema::{call_schema, request_schema, response_schema};
pub use timestamps::utc_from_unix_seconds;
pub use transcript::{call_id_text, Party, Transcript, TranscriptSegment};
