//! The integer enumerations of the API, [`CallType`] and [`InspectionStatus`], as Rust enums.
//!
//! The spec's `CallType` and `InspectionStatus` schemas list the documented codes with their
//! `x-enum-varnames` and `x-enum-descriptions`; the enums below use exactly those variant names
//! and labels (a test compares them with `spec/ccsqm.yaml`). Servers may send codes the spec does
//! not document, so each enum has an `Unknown(i64)` variant and reading never fails.
//!
//! The enums themselves are generated from the spec (`crates/models/src/generated.rs`, by
//! `cargo xtask codegen`): a value added to the spec is named everywhere with no hand edit.
//!
//! ```
//! use ccsqm_models::{CallType, InspectionStatus};
//!
//! assert_eq!(CallType::from_code(2), CallType::Text);
//! assert_eq!(CallType::Voice.code(), 0);
//! assert_eq!(CallType::Voice.label(), "voice (audio recording)");
//! assert_eq!("VOICE".parse::<CallType>(), Ok(CallType::Voice));
//! assert_eq!("1".parse::<CallType>(), Ok(CallType::Unknown(1)));
//! assert_eq!(CallType::Unknown(1).to_string(), "1");
//!
//! let status = InspectionStatus::from_code(2);
//! assert_eq!(status, InspectionStatus::InspectionSucceeded);
//! assert_eq!(status.to_string(), "inspection-succeeded");
//! assert_eq!(status.label(), "inspection succeeded");
//! assert_eq!(serde_json::to_string(&status).unwrap(), "2");
//! let unknown: InspectionStatus = serde_json::from_str("77").unwrap();
//! assert_eq!(unknown, InspectionStatus::Unknown(77));
//! ```

/// A string could not be parsed as a [`CallType`] or an [`InspectionStatus`].
///
/// The message lists the accepted names:
///
/// ```
/// use ccsqm_models::CallType;
///
/// let err = "video".parse::<CallType>().unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     r#"invalid call type "video": expected one of voice, text, or an integer code"#
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {input:?}: expected one of {}, or an integer code", .expected.join(", "))]
pub struct ParseCodeError {
    /// What was being parsed: `"call type"` or `"inspection status"`.
    pub kind: &'static str,
    /// The rejected input.
    pub input: String,
    /// The accepted names (the `NAMES` of the enum).
    pub expected: &'static [&'static str],
}

/// An undocumented code cannot become one of the generated, validated newtypes
/// (`types::CallType`, `types::InspectionStatus`), which accept only the spec's values.
///
/// ```
/// use ccsqm_models::{types, CallType};
///
/// let err = types::CallType::try_from(CallType::Unknown(1)).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "call type 1 is undocumented: the API accepts only 0 (voice), 2 (text)"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} {code} is undocumented: the API accepts only {}", .documented.join(", "))]
pub struct UndocumentedCodeError {
    /// What was being converted: `"call type"` or `"inspection status"`.
    pub kind: &'static str,
    /// The rejected code.
    pub code: i64,
    /// The documented values, as `"code (name)"`.
    pub documented: &'static [&'static str],
}

/// Defines an integer-coded enum with an `Unknown(i64)` variant and its impls.
///
/// Each variant is given as `Variant = code, "name", "label";`.
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident as $generated:ty, kind = $kind:literal, spec = $spec:path {
            $($variant:ident = $code:literal, $vname:literal, $label:literal;)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $(
                #[doc = concat!("`", stringify!($code), "`, `", $vname, "`: ", $label, ".")]
                $variant,
            )+
            /// A code the spec does not document, kept as received.
            ///
            /// [`from_code`](Self::from_code) never builds it for a documented code; a hand-built
            /// `Unknown` holding a documented code is not equal to that code's variant.
            Unknown(i64),
        }

        impl $name {
            /// What the spec says of the enumeration.
            pub const SPEC: &'static ccsqm_client::spec::Enumeration = &$spec;

            /// The documented values, in the order of the spec.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The names of the documented values ([`name`](Self::name)), in the order of
            /// [`ALL`](Self::ALL).
            pub const NAMES: &'static [&'static str] = &[$($vname),+];

            /// `"code (name)"` of each documented value, in the order of [`ALL`](Self::ALL).
            const DOCUMENTED: &'static [&'static str] =
                &[$(concat!(stringify!($code), " (", $vname, ")")),+];

            /// The value of a code; an undocumented code gives `Unknown(code)`. Never fails.
            pub const fn from_code(code: i64) -> Self {
                match code {
                    $($code => Self::$variant,)+
                    other => Self::Unknown(other),
                }
            }

            /// The integer code sent by the API.
            pub const fn code(&self) -> i64 {
                match self {
                    $(Self::$variant => $code,)+
                    Self::Unknown(code) => *code,
                }
            }

            /// Whether the value is documented (not `Unknown`).
            pub const fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }

            /// The spec's description of the value (`x-enum-descriptions`);
            /// `"undocumented"` for `Unknown`.
            pub const fn label(&self) -> &'static str {
                match self {
                    $(Self::$variant => $label,)+
                    Self::Unknown(_) => "undocumented",
                }
            }

            /// A short kebab-case name for command lines and tables; for `Unknown`, the code
            /// itself (so that [`FromStr`](std::str::FromStr) reads every name back).
            pub fn name(&self) -> ::std::borrow::Cow<'static, str> {
                match self {
                    $(Self::$variant => ::std::borrow::Cow::Borrowed($vname),)+
                    Self::Unknown(code) => ::std::borrow::Cow::Owned(code.to_string()),
                }
            }
        }

        /// Prints [`name`](Self::name) (honouring width and alignment, for tables).
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.pad(&self.name())
            }
        }

        /// Reads a name (case-insensitive, surrounding blanks ignored) or an integer code;
        /// an undocumented integer gives `Unknown`.
        impl std::str::FromStr for $name {
            type Err = $crate::ParseCodeError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let input = s.trim();
                if let Ok(code) = input.parse::<i64>() {
                    return Ok(Self::from_code(code));
                }
                Self::ALL
                    .iter()
                    .zip(Self::NAMES)
                    .find(|(_, name)| name.eq_ignore_ascii_case(input))
                    .map(|(value, _)| *value)
                    .ok_or_else(|| $crate::ParseCodeError {
                        kind: $kind,
                        input: s.to_owned(),
                        expected: Self::NAMES,
                    })
            }
        }

        impl From<i64> for $name {
            fn from(code: i64) -> Self {
                Self::from_code(code)
            }
        }

        impl From<$name> for i64 {
            fn from(value: $name) -> Self {
                value.code()
            }
        }

        impl From<$generated> for $name {
            fn from(value: $generated) -> Self {
                Self::from_code(*value)
            }
        }

        /// Fails for `Unknown`: the generated type accepts only documented codes.
        impl TryFrom<$name> for $generated {
            type Error = $crate::UndocumentedCodeError;

            fn try_from(value: $name) -> Result<Self, Self::Error> {
                <$generated>::try_from(value.code()).map_err(|_| $crate::UndocumentedCodeError {
                    kind: $kind,
                    code: value.code(),
                    documented: $name::DOCUMENTED,
                })
            }
        }

        /// Serialized as the integer code.
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_i64(self.code())
            }
        }

        /// Read from any integer code; an undocumented one gives `Unknown`.
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                i64::deserialize(deserializer).map(Self::from_code)
            }
        }

        /// An `int64` integer; the description lists the documented codes.
        impl schemars::JsonSchema for $name {
            fn schema_name() -> String {
                stringify!($name).to_owned()
            }

            fn schema_id() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(concat!("ccsqm_models::", stringify!($name)))
            }

            fn json_schema(gen: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
                let mut schema = <i64 as schemars::JsonSchema>::json_schema(gen).into_object();
                let documented: Vec<String> = Self::ALL
                    .iter()
                    .map(|value| format!("{} = {}", value.code(), value.label()))
                    .collect();
                schema.metadata().description = Some(format!(
                    "{}: {}; other codes are accepted.",
                    $kind,
                    documented.join(", ")
                ));
                schema.into()
            }
        }
    };
}

pub(crate) use code_enum;

pub use crate::generated::{CallType, InspectionStatus};

#[cfg(test)]
mod tests {
    use super::*;
    use ccsqm_client::types;

    #[test]
    fn unknown_codes_round_trip() {
        for code in [-1, 1, 3, 41, i64::MIN, i64::MAX] {
            let call_type = CallType::from_code(code);
            assert_eq!(call_type, CallType::Unknown(code));
            assert_eq!(call_type.code(), code);
            assert!(!call_type.is_known());
            assert_eq!(call_type.label(), "undocumented");
            let json = serde_json::to_string(&call_type).unwrap();
            assert_eq!(json, code.to_string());
            assert_eq!(serde_json::from_str::<CallType>(&json).unwrap(), call_type);
        }
        for code in [-1, 4, 8, 30, 41, i64::MIN, i64::MAX] {
            let status = InspectionStatus::from_code(code);
            assert_eq!(status, InspectionStatus::Unknown(code));
            assert_eq!(status.code(), code);
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(
                serde_json::from_str::<InspectionStatus>(&json).unwrap(),
                status
            );
        }
    }

    #[test]
    fn known_codes_round_trip() {
        for value in CallType::ALL {
            assert_eq!(CallType::from_code(value.code()), *value);
            assert!(value.is_known());
            let json = serde_json::to_value(value).unwrap();
            assert_eq!(json, serde_json::json!(value.code()));
            assert_eq!(serde_json::from_value::<CallType>(json).unwrap(), *value);
        }
        for value in InspectionStatus::ALL {
            assert_eq!(InspectionStatus::from_code(value.code()), *value);
            let json = serde_json::to_value(value).unwrap();
            assert_eq!(
                serde_json::from_value::<InspectionStatus>(json).unwrap(),
                *value
            );
        }
    }

    #[test]
    fn names_are_distinct_kebab_case_and_parse_back() {
        for name in CallType::NAMES.iter().chain(InspectionStatus::NAMES) {
            assert!(name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
            assert_eq!(
                CallType::NAMES
                    .iter()
                    .chain(InspectionStatus::NAMES)
                    .filter(|other| *other == name)
                    .count(),
                1,
                "{name} is not unique"
            );
        }
        let statuses = InspectionStatus::ALL
            .iter()
            .copied()
            .chain([InspectionStatus::Unknown(77), InspectionStatus::Unknown(-1)]);
        for status in statuses {
            assert_eq!(status.to_string(), status.name());
            assert_eq!(status.to_string().parse::<InspectionStatus>(), Ok(status));
            assert_eq!(
                status.code().to_string().parse::<InspectionStatus>(),
                Ok(status)
            );
        }
        for call_type in [CallType::Voice, CallType::Text, CallType::Unknown(1)] {
            assert_eq!(call_type.to_string().parse::<CallType>(), Ok(call_type));
        }
    }

    #[test]
    fn from_str_by_name_and_number() {
        assert_eq!("voice".parse::<CallType>(), Ok(CallType::Voice));
        assert_eq!(" Text ".parse::<CallType>(), Ok(CallType::Text));
        assert_eq!("0".parse::<CallType>(), Ok(CallType::Voice));
        assert_eq!("2".parse::<CallType>(), Ok(CallType::Text));
        assert_eq!("1".parse::<CallType>(), Ok(CallType::Unknown(1)));
        assert_eq!(
            "Inspection-Succeeded".parse::<InspectionStatus>(),
            Ok(InspectionStatus::InspectionSucceeded)
        );
        assert_eq!(
            "voice-file-invalid".parse::<InspectionStatus>(),
            Ok(InspectionStatus::VoiceFileInvalid)
        );
        assert_eq!(
            "40".parse::<InspectionStatus>(),
            Ok(InspectionStatus::VoiceFileInvalid)
        );
        assert_eq!(
            "-5".parse::<InspectionStatus>(),
            Ok(InspectionStatus::Unknown(-5))
        );
    }

    #[test]
    fn from_str_rejects_bad_names_listing_the_accepted_ones() {
        let err = "succeeded".parse::<InspectionStatus>().unwrap_err();
        assert_eq!(err.kind, "inspection status");
        assert_eq!(err.input, "succeeded");
        let message = err.to_string();
        assert!(message.contains("\"succeeded\""), "{message}");
        for name in InspectionStatus::NAMES {
            assert!(message.contains(name), "{message} lacks {name}");
        }
        for bad in ["", "voice,text", "Unknown(1)", "2.0", "undocumented"] {
            assert!(bad.parse::<CallType>().is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn display_pads_for_tables() {
        assert_eq!(format!("[{:<7}]", CallType::Text), "[text   ]");
        assert_eq!(format!("[{:>4}]", CallType::Unknown(5)), "[   5]");
    }

    #[test]
    fn converts_to_and_from_the_generated_newtypes() {
        for value in CallType::ALL {
            let generated = types::CallType::try_from(*value).unwrap();
            assert_eq!(*generated, value.code());
            assert_eq!(CallType::from(generated), *value);
        }
        for value in InspectionStatus::ALL {
            let generated = types::InspectionStatus::try_from(*value).unwrap();
            assert_eq!(*generated, value.code());
            assert_eq!(InspectionStatus::from(generated), *value);
        }
        let err = types::CallType::try_from(CallType::Unknown(1)).unwrap_err();
        assert_eq!(
            err,
            UndocumentedCodeError {
                kind: "call type",
                code: 1,
                documented: &["0 (voice)", "2 (text)"],
            }
        );
        let err = types::InspectionStatus::try_from(InspectionStatus::Unknown(4)).unwrap_err();
        assert_eq!(err.code, 4);
        let message = err.to_string();
        assert!(
            message.starts_with("inspection status 4 is undocumented"),
            "{message}"
        );
        assert!(message.contains("40 (voice-file-invalid)"), "{message}");
    }

    #[test]
    fn status_groups_are_the_specs() {
        let spec = InspectionStatus::SPEC;
        for (name, values, is) in [
            (
                "in-progress",
                InspectionStatus::IN_PROGRESS,
                InspectionStatus::is_in_progress as fn(&InspectionStatus) -> bool,
            ),
            (
                "succeeded",
                InspectionStatus::SUCCEEDED,
                InspectionStatus::is_succeeded,
            ),
            (
                "failed",
                InspectionStatus::FAILED,
                InspectionStatus::is_failed,
            ),
            ("final", InspectionStatus::FINAL, InspectionStatus::is_final),
        ] {
            let group = spec.group(name).unwrap();
            let codes: Vec<i64> = values.iter().map(InspectionStatus::code).collect();
            assert_eq!(codes, group.codes, "{name}");
            for status in InspectionStatus::ALL {
                assert_eq!(is(status), group.contains(status.code()), "{name} {status}");
            }
            assert!(!is(&InspectionStatus::Unknown(77)), "{name}");
        }
        // Every documented status is either still in progress or final, never both.
        for status in InspectionStatus::ALL {
            assert_ne!(status.is_in_progress(), status.is_final(), "{status}");
        }
        assert!(InspectionStatus::AsrNoSpeech.is_failed());
        assert!(InspectionStatus::InspectionSucceeded.is_final());
        // The generated type's conversion names the value it refuses.
        let err = types::InspectionStatus::try_from(41)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("41 is not a documented inspection status ("),
            "{err}"
        );
        assert!(err.ends_with(", 40)"), "{err}");
    }

    #[test]
    fn i64_conversions() {
        assert_eq!(i64::from(InspectionStatus::AsrNoSpeech), 31);
        assert_eq!(
            InspectionStatus::from(9),
            InspectionStatus::InspectionFailed
        );
        assert_eq!(CallType::from(7), CallType::Unknown(7));
    }

    #[test]
    fn json_schema_is_an_integer() {
        let schema = serde_json::to_value(schemars::schema_for!(InspectionStatus)).unwrap();
        assert_eq!(schema["type"], "integer");
        assert_eq!(schema["format"], "int64");
        assert!(schema.get("enum").is_none(), "undocumented codes are valid");
        let description = schema["description"].as_str().unwrap();
        assert!(
            description.contains("2 = inspection succeeded"),
            "{description}"
        );
    }
}
