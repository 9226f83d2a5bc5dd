//! The documentation cannot drift from the spec: the tables of `docs/glossary.md` (call types,
//! inspection statuses with whether each is final, the fields of a call) say what
//! `spec/ccsqm.yaml` says.

use std::path::{Path, PathBuf};

use ccsqm_client::spec::enums::{CALL_TYPE, INSPECTION_STATUS};
use ccsqm_client::spec::schemas::CALL;
use ccsqm_client::spec::Enumeration;
use serde_json::Value;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn glossary() -> String {
    std::fs::read_to_string(workspace().join("docs/glossary.md")).unwrap()
}

/// The rows of the first table after `heading`, each as its cells (trimmed), header and
/// separator left out.
fn table_after(markdown: &str, heading: &str) -> Vec<Vec<String>> {
    let (_, rest) = markdown
        .split_once(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("no `{heading}`"));
    let rows: Vec<Vec<String>> = rest
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect();
    assert!(rows.len() > 2, "no table after `{heading}`");
    rows.into_iter().skip(2).collect()
}

/// The codes of an enumeration that are not final: the variants its `x-enum-in-progress`
/// lists, read from the spec itself.
fn in_progress(enumeration: &Enumeration) -> Vec<i64> {
    let text = std::fs::read_to_string(workspace().join("spec/ccsqm.yaml")).unwrap();
    let spec: Value = serde_saphyr::from_str(&text).unwrap();
    let schema = &spec["components"]["schemas"][enumeration.name];
    let variants: Vec<&str> = schema["x-enum-in-progress"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    enumeration
        .values
        .iter()
        .filter(|v| variants.contains(&v.variant))
        .map(|v| v.code)
        .collect()
}

/// Checks a table whose first three cells are code, `name` and meaning against an
/// enumeration of the spec; its rows.
fn check_enumeration(rows: &[Vec<String>], enumeration: &Enumeration) {
    let documented: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
        .collect();
    let spec: Vec<(String, String, String)> = enumeration
        .values
        .iter()
        .map(|v| {
            (
                v.code.to_string(),
                format!("`{}`", v.name),
                v.description.to_owned(),
            )
        })
        .collect();
    assert_eq!(
        documented, spec,
        "docs/glossary.md's table of {}",
        enumeration.name
    );
}

#[test]
fn the_glossarys_statuses_are_the_specs() {
    let rows = table_after(&glossary(), "## Inspection status");
    check_enumeration(&rows, &INSPECTION_STATUS);
    let in_progress = in_progress(&INSPECTION_STATUS);
    assert!(!in_progress.is_empty(), "x-enum-in-progress of the spec");
    for row in &rows {
        let code: i64 = row[0].parse().unwrap();
        let expected = match in_progress.contains(&code) {
            true => "in progress",
            false => "final",
        };
        assert_eq!(row[3], expected, "whether status {code} is final");
    }
}

#[test]
fn the_glossarys_call_types_are_the_specs() {
    check_enumeration(&table_after(&glossary(), "## Call type"), &CALL_TYPE);
}

#[test]
fn the_glossary_lists_every_field_of_a_call_and_what_is_undocumented() {
    let rows = table_after(&glossary(), "## The fields of a call");
    for field in CALL.fields {
        let name = format!("`{}`", field.name);
        let row = rows
            .iter()
            .find(|r| r[0].split(", ").any(|n| n == name))
            .unwrap_or_else(|| panic!("{} is not in docs/glossary.md's table", field.name));
        if field.description.to_lowercase().contains("undocumented") {
            assert!(
                row[1].contains("**undocumented**"),
                "{}: the spec says undocumented: {}",
                field.name,
                field.description
            );
        }
    }
    let fields: Vec<String> = rows
        .iter()
        .flat_map(|r| r[0].split(", ").map(str::to_owned).collect::<Vec<_>>())
        .collect();
    for name in &fields {
        let bare = name.trim_matches('`');
        assert!(
            CALL.field(bare).is_some(),
            "{bare} is not a field of the spec's Call"
        );
    }
}
