//! A constructor of the `appraisecall/details` request with the documented defaults, so that
//! none of its mandatory fields can be forgotten (the generated builder finds a missing one only
//! when it is converted, at run time).

use std::num::NonZeroU64;

use crate::spec::enums::{CALL_TYPE, INSPECTION_STATUS};
use crate::types::{AppraisecallDetailsRequest, CallType, InspectionStatus};

impl AppraisecallDetailsRequest {
    /// The request for every call, page 1 of `limit` calls: every documented call type and
    /// inspection status (the API makes both mandatory: an empty list matches nothing), both
    /// upload bounds `null` (mandatory, nullable), and no other filter. Narrow it with the
    /// fields, e.g. `request.call_from = Some(1621333149)`.
    ///
    /// Every field is set by name here: a field added to the spec fails the build of this
    /// function until it is given its default.
    ///
    /// ```
    /// use std::num::NonZeroU64;
    /// use ccsqm_client::types::AppraisecallDetailsRequest;
    ///
    /// let mut request = AppraisecallDetailsRequest::every_call(NonZeroU64::new(100).unwrap());
    /// request.call_from = Some(1621333149);
    /// let body = serde_json::to_value(&request).unwrap();
    /// assert_eq!(body["call_types"], serde_json::json!([0, 2]));
    /// assert_eq!(body["status"].as_array().unwrap().len(), 15);
    /// assert_eq!(body["upload_from"], serde_json::Value::Null);
    /// assert_eq!(body["page"], 1);
    /// ```
    pub fn every_call(limit: NonZeroU64) -> Self {
        Self {
            call_from: None,
            call_to: None,
            // The spec's own codes: each converts.
            call_types: CALL_TYPE
                .codes()
                .filter_map(|code| CallType::try_from(code).ok())
                .collect(),
            duration_max: None,
            duration_min: None,
            keyword: None,
            limit,
            page: NonZeroU64::MIN,
            staff_id: None,
            staff_name: None,
            status: INSPECTION_STATUS
                .codes()
                .filter_map(|code| InspectionStatus::try_from(code).ok())
                .collect(),
            upload_from: None,
            upload_to: None,
        }
    }

    /// The same request asking only for the inspection statuses of `group` (the spec's
    /// `x-enum-groups` of `InspectionStatus`: `in-progress`, `succeeded`, `failed`, `final`);
    /// `None` when the spec has no such group.
    ///
    /// ```
    /// use std::num::NonZeroU64;
    /// use ccsqm_client::types::AppraisecallDetailsRequest;
    ///
    /// let failed = AppraisecallDetailsRequest::every_call(NonZeroU64::MIN)
    ///     .with_status_group("failed")
    ///     .unwrap();
    /// assert_eq!(*failed.status[0], 9);
    /// ```
    pub fn with_status_group(mut self, group: &str) -> Option<Self> {
        let group = INSPECTION_STATUS.group(group)?;
        self.status = group
            .codes
            .iter()
            .filter_map(|&code| InspectionStatus::try_from(code).ok())
            .collect();
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_is_every_documented_value_and_the_mandatory_nulls() {
        let request = AppraisecallDetailsRequest::every_call(NonZeroU64::new(7).unwrap());
        let body = serde_json::to_value(&request).unwrap();
        let types: Vec<i64> = CALL_TYPE.codes().collect();
        let statuses: Vec<i64> = INSPECTION_STATUS.codes().collect();
        assert_eq!(body["call_types"], serde_json::json!(types));
        assert_eq!(body["status"], serde_json::json!(statuses));
        assert_eq!(body["limit"], 7);
        assert_eq!(body["page"], 1);
        // Both upload bounds are sent as null; the optional filters not at all.
        let object = body.as_object().unwrap();
        assert!(object["upload_from"].is_null() && object["upload_to"].is_null());
        for field in crate::spec::schemas::APPRAISECALL_DETAILS_REQUEST.fields {
            assert_eq!(
                object.contains_key(field.name),
                field.required,
                "{}",
                field.name
            );
        }
        let failed = request.with_status_group("failed").unwrap();
        assert_eq!(
            failed.status.iter().map(|s| **s).collect::<Vec<_>>(),
            INSPECTION_STATUS.group("failed").unwrap().codes
        );
        assert!(AppraisecallDetailsRequest::every_call(NonZeroU64::MIN)
            .with_status_group("nope")
            .is_none());
    }
}
