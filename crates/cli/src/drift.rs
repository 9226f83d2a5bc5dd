//! Drift: what the server sent that `spec/ccsqm.yaml` does not describe (keys it does not name,
//! enumeration values it does not list), as the commands say it, once, on stderr, and the
//! `--strict-spec` flag that makes it an error. A leaf, shared by `details` and `sync`.

use ccsqm_client::Drift;

/// `--strict-spec` (or `CCSQM_STRICT_SPEC=1`).
#[derive(Debug, Clone, clap::Args)]
pub struct StrictSpec {
    /// Fail (exit 8) when the server sends what spec/ccsqm.yaml does not describe.
    ///
    /// A field the spec does not name, or an enumeration value it does not list (a new status
    /// code, say). Without it, such data is kept (in NDJSON and JSON output; in the column
    /// unknown_fields of `ccsqm sync`) and said once on stderr. With it, an export's output
    /// file is left untouched, and a sync's round fails without moving its checkpoint.
    #[arg(
        long,
        env = "CCSQM_STRICT_SPEC",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub strict_spec: bool,
}

/// Where to describe what the spec lacks.
pub const WHERE: &str = "describe them in spec/ccsqm.yaml (the schema named), then run \
                         `cargo xtask codegen`";

/// The message about `drift`, one finding a line, each line starting with `ccsqm: `; `kept`
/// says what the output did with it. Server text goes through [`ccsqm_client::visible`] (in
/// the findings' `Display`).
pub fn message(drift: &Drift, kept: &str) -> String {
    let mut text = String::from("ccsqm: the server sent what spec/ccsqm.yaml does not describe:\n");
    for field in &drift.fields {
        text.push_str(&format!("ccsqm:   {field}\n"));
    }
    for value in &drift.values {
        text.push_str(&format!("ccsqm:   {value}\n"));
    }
    if drift.left_out > 0 {
        text.push_str(&format!(
            "ccsqm:   and {} more field(s) or value(s) not listed\n",
            drift.left_out
        ));
    }
    // Values stay in their fields in every output; `kept` is about the keys.
    let kept = match drift.fields.is_empty() && drift.left_out == 0 {
        true => "the values are kept in their fields, as sent",
        false => kept,
    };
    text.push_str(&format!(
        "ccsqm: {kept}; {WHERE} (--strict-spec makes this an error)"
    ));
    text
}

/// Says `drift` on stderr, once, unless it is empty or `quiet`.
pub fn say(drift: &Drift, kept: &str, quiet: bool) {
    if !drift.is_empty() && !quiet {
        eprintln!("{}", message(drift, kept));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ccsqm_client::{DriftUnit, UnknownField, UnknownValue};

    #[test]
    fn the_message_names_each_finding_with_its_count_and_where_to_describe_it() {
        let drift = Drift {
            fields: vec![UnknownField {
                schema: "Call".into(),
                name: "mood\u{1b}[2J".into(),
                count: 3,
                unit: DriftUnit::Calls,
            }],
            values: vec![UnknownValue {
                schema: "Call".into(),
                field: "status".into(),
                enumeration: Some("InspectionStatus".into()),
                value: "41".into(),
                count: 1,
                unit: DriftUnit::Calls,
            }],
            left_out: 0,
        };
        let text = message(&drift, "kept as sent");
        assert!(
            text.contains("field `mood\\u{1b}[2J` of Call (3 calls)"),
            "{text}"
        );
        assert!(text.contains("value 41 of Call.status, not in InspectionStatus (1 call)"));
        assert!(text.contains("spec/ccsqm.yaml") && text.contains("cargo xtask codegen"));
        assert!(!text.contains('\u{1b}'));
        let values_only = Drift {
            fields: Vec::new(),
            ..drift
        };
        assert!(message(&values_only, "kept as sent").contains("values are kept in their fields"));
    }
}
