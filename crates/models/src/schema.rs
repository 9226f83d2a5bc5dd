//! JSON Schemas (draft 7, by schemars 0.8) of the request, the response and a [`CallRecord`],
//! for `ccsqm schema [request|response|call]`.

use ccsqm_client::types::{AppraisecallDetailsRequest, AppraisecallDetailsResponse};
use schemars::schema::RootSchema;

use crate::CallRecord;

/// The request's fields whose key must be present even though their value may be `null`
/// (`required` and `nullable` in the spec, read from its generated facts).
///
/// schemars treats every `Option` field as optional, but the generated request type reads these
/// with `deserialize_with` and no default, as the spec requires them.
fn required_nullable() -> impl Iterator<Item = String> {
    ccsqm_client::spec::schemas::APPRAISECALL_DETAILS_REQUEST
        .fields
        .iter()
        .filter(|f| f.required && f.nullable)
        .map(|f| f.name.to_owned())
}

/// The JSON Schema of an `appraisecall/details` request body ([`AppraisecallDetailsRequest`]).
///
/// ```
/// let schema = serde_json::to_value(ccsqm_models::request_schema())?;
/// assert!(schema["required"].as_array().unwrap().contains(&"upload_from".into()));
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn request_schema() -> RootSchema {
    let mut root = schemars::schema_for!(AppraisecallDetailsRequest);
    let required = &mut root.schema.object().required;
    required.extend(required_nullable());
    root
}

/// The JSON Schema of an `appraisecall/details` response page ([`AppraisecallDetailsResponse`]).
pub fn response_schema() -> RootSchema {
    schemars::schema_for!(AppraisecallDetailsResponse)
}

/// The JSON Schema of one [`CallRecord`]: a call's fields plus its `call_group_id`.
pub fn call_schema() -> RootSchema {
    schemars::schema_for!(CallRecord)
}
