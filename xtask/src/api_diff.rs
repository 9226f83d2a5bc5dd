//! `cargo xtask api-diff`: what spec/ccsqm.yaml changes for the users of the crates since the
//! last release, as a changelog of the API that marks breaking changes; it fails when a breaking
//! change comes without a breaking version bump and a CHANGELOG.md entry.
//!
//! The baseline is the spec as released, kept as `spec/released/<version>.yaml` (the highest
//! version is the last release). Both documents are read with the `openapiv3` model that
//! codegen uses, and compared by what the generated Rust API is made of: operations (by
//! `operationId`: method, path, parameters), the component schemas' fields (added, removed,
//! retyped, made required) and enumerations (values added or removed).
//!
//! Breaking (for code using the crates): a removed or moved operation, a removed or retyped
//! field or parameter, a field or parameter newly required, a removed enumeration value, a
//! removed schema. Not breaking: an added operation, an added optional field or parameter, an
//! added enumeration value (responses are read tolerantly), a description.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use anyhow::{bail, Context, Result};
use openapiv3::{
    OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, Schema, SchemaKind, Type,
};

/// Where released specs are kept, relative to the workspace root.
pub const RELEASED_DIR: &str = "spec/released";

/// One difference between two specs.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    /// Whether code using the crates may stop compiling or working.
    pub breaking: bool,
    /// What changed, in the spec's words.
    pub what: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.breaking {
            write!(f, "- **breaking**: {}", self.what)
        } else {
            write!(f, "- {}", self.what)
        }
    }
}

/// Runs the check from the workspace root: prints the changelog of the API since the last
/// release and fails on a breaking change that the version and CHANGELOG.md do not announce.
pub fn run(root: &Path) -> Result<()> {
    evaluate(root, true)?.1
}

/// The changes since the last release (printed when `print`), and the verdict of the policy.
pub(crate) fn evaluate(root: &Path, print: bool) -> Result<(Vec<Change>, Result<()>)> {
    let (released_version, released_text) = last_release(root)?;
    let current_text = crate::codegen::read_spec(root)?;
    let old = crate::codegen::parse_spec(&released_text)
        .with_context(|| format!("in {RELEASED_DIR}/{released_version}.yaml"))?;
    let new = crate::codegen::parse_spec(&current_text)?;
    let changes = diff(&old, &new);
    let version = workspace_version(root)?;
    if print {
        println!(
            "API changes of spec/ccsqm.yaml (info.version {}) since release {released_version} \
             (info.version {}):",
            new.info.version, old.info.version
        );
        if changes.is_empty() {
            println!("- none");
        }
        for change in &changes {
            println!("{change}");
        }
    }
    let changelog = std::fs::read_to_string(root.join("CHANGELOG.md")).unwrap_or_default();
    let policy = check_policy(&changes, &released_version, &version, &changelog);
    Ok((changes, policy))
}

/// The highest `spec/released/<version>.yaml`: its version and text.
fn last_release(root: &Path) -> Result<(String, String)> {
    let dir = root.join(RELEASED_DIR);
    let mut releases = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {RELEASED_DIR}"))? {
        let path = entry?.path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.extension().is_some_and(|e| e == "yaml") {
            let version = parse_version(stem)
                .with_context(|| format!("{RELEASED_DIR}/{stem}.yaml: not a version"))?;
            releases.push((version, stem.to_owned(), path));
        }
    }
    let Some((_, name, path)) = releases.into_iter().max() else {
        bail!("no released spec in {RELEASED_DIR}: copy spec/ccsqm.yaml there as <version>.yaml at a release");
    };
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {name}.yaml"))?;
    Ok((name, text))
}

/// The `version` of `[workspace.package]` in the root Cargo.toml.
fn workspace_version(root: &Path) -> Result<String> {
    let manifest =
        std::fs::read_to_string(root.join("Cargo.toml")).context("reading Cargo.toml")?;
    let mut in_package = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[workspace.package]";
        } else if in_package {
            if let Some(value) = line.strip_prefix("version") {
                let value = value.trim_start().trim_start_matches('=').trim();
                return Ok(value.trim_matches('"').to_owned());
            }
        }
    }
    bail!("Cargo.toml: no version in [workspace.package]")
}

/// `major.minor.patch` of a version (pre-release and build metadata ignored).
fn parse_version(version: &str) -> Option<(u64, u64, u64)> {
    let core = version.split(['+', '-']).next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
    let version = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(version)
}

/// Whether `new` is a breaking bump over `old` by Cargo's rules: the major version, or for
/// `0.x` the minor version (for `0.0.x`, the patch version).
fn is_breaking_bump(old: (u64, u64, u64), new: (u64, u64, u64)) -> bool {
    match old {
        (0, 0, _) => new > old,
        (0, minor, _) => new.0 > 0 || new.1 > minor,
        (major, _, _) => new.0 > major,
    }
}

/// Fails when `changes` hold a breaking change and `version` is not a breaking bump over
/// `released`, or CHANGELOG.md has no `## [version]` section (the version without build
/// metadata).
pub fn check_policy(
    changes: &[Change],
    released: &str,
    version: &str,
    changelog: &str,
) -> Result<()> {
    let breaking: Vec<&Change> = changes.iter().filter(|c| c.breaking).collect();
    if breaking.is_empty() {
        return Ok(());
    }
    let listed = breaking
        .iter()
        .map(|c| format!("  {}", c.what))
        .collect::<Vec<_>>()
        .join("\n");
    let (Some(old), Some(new)) = (parse_version(released), parse_version(version)) else {
        bail!("cannot read the versions {released:?} and {version:?}");
    };
    if !is_breaking_bump(old, new) {
        bail!(
            "{} breaking API change(s) since release {released}, but the crates' version is \
             {version}:\n{listed}\nbump the version in the root Cargo.toml (a breaking bump: \
             {}) and add a `## [version]` section to CHANGELOG.md",
            breaking.len(),
            if old.0 == 0 {
                "the minor version, for 0.x"
            } else {
                "the major version"
            }
        );
    }
    let core = version.split('+').next().unwrap_or(version);
    let heading = format!("## [{core}]");
    if !changelog.lines().any(|line| line.starts_with(&heading)) {
        bail!(
            "{} breaking API change(s) since release {released}, and CHANGELOG.md has no \
             `{heading}` section announcing them:\n{listed}",
            breaking.len()
        );
    }
    Ok(())
}

/// The differences from `old` to `new`, sorted, breaking ones first within each kind.
pub fn diff(old: &OpenAPI, new: &OpenAPI) -> Vec<Change> {
    let mut changes = Vec::new();
    diff_operations(old, new, &mut changes);
    diff_schemas(old, new, &mut changes);
    changes.sort_by(|a, b| b.breaking.cmp(&a.breaking).then(a.what.cmp(&b.what)));
    changes
}

fn change(changes: &mut Vec<Change>, breaking: bool, what: String) {
    changes.push(Change { breaking, what });
}

/// An operation as the generated client sees it.
struct Op {
    method: String,
    path: String,
    /// `in name` → (required, type).
    params: BTreeMap<String, (bool, String)>,
    /// The request body's type, if any, and whether it is required.
    body: Option<(bool, String)>,
}

fn operations(spec: &OpenAPI) -> BTreeMap<String, Op> {
    let mut out = BTreeMap::new();
    for (path, item) in spec.paths.iter() {
        let Some(item) = item.as_item() else { continue };
        for (method, op) in item.iter() {
            let Some(id) = op.operation_id.clone() else {
                continue;
            };
            let mut params = BTreeMap::new();
            for param in item.parameters.iter().chain(&op.parameters) {
                let Some(param) = resolve_parameter(spec, param) else {
                    continue;
                };
                let data = param.parameter_data_ref();
                let ty = match &data.format {
                    ParameterSchemaOrContent::Schema(schema) => type_name(spec, schema),
                    ParameterSchemaOrContent::Content(_) => "content".to_owned(),
                };
                let place = match param {
                    Parameter::Query { .. } => "query",
                    Parameter::Header { .. } => "header",
                    Parameter::Path { .. } => "path",
                    Parameter::Cookie { .. } => "cookie",
                };
                params.insert(format!("{place} {}", data.name), (data.required, ty));
            }
            let body = op.request_body.as_ref().map(|body| match body {
                ReferenceOr::Item(body) => {
                    let ty = body
                        .content
                        .values()
                        .next()
                        .and_then(|m| m.schema.as_ref())
                        .map(|s| type_name(spec, s))
                        .unwrap_or_else(|| "none".to_owned());
                    (body.required, ty)
                }
                ReferenceOr::Reference { reference } => (true, reference.clone()),
            });
            out.insert(
                id,
                Op {
                    method: method.to_uppercase(),
                    path: path.clone(),
                    params,
                    body,
                },
            );
        }
    }
    out
}

fn resolve_parameter<'a>(
    spec: &'a OpenAPI,
    param: &'a ReferenceOr<Parameter>,
) -> Option<&'a Parameter> {
    match param {
        ReferenceOr::Item(param) => Some(param),
        ReferenceOr::Reference { reference } => {
            let name = reference.rsplit('/').next()?;
            spec.components.as_ref()?.parameters.get(name)?.as_item()
        }
    }
}

fn diff_operations(old: &OpenAPI, new: &OpenAPI, changes: &mut Vec<Change>) {
    let (old, new) = (operations(old), operations(new));
    for (id, op) in &old {
        let Some(now) = new.get(id) else {
            change(
                changes,
                true,
                format!("operation `{id}` removed ({} {})", op.method, op.path),
            );
            continue;
        };
        if (&op.method, &op.path) != (&now.method, &now.path) {
            change(
                changes,
                true,
                format!(
                    "operation `{id}` moved from {} {} to {} {}",
                    op.method, op.path, now.method, now.path
                ),
            );
        }
        for (name, (required, ty)) in &op.params {
            match now.params.get(name) {
                None => change(
                    changes,
                    true,
                    format!("operation `{id}`: parameter {name} removed"),
                ),
                Some((_, now_ty)) if now_ty != ty => change(
                    changes,
                    true,
                    format!("operation `{id}`: parameter {name} retyped from {ty} to {now_ty}"),
                ),
                Some((true, _)) if !required => change(
                    changes,
                    true,
                    format!("operation `{id}`: parameter {name} now required"),
                ),
                Some(_) => {}
            }
        }
        for (name, (required, ty)) in &now.params {
            if !op.params.contains_key(name) {
                change(
                    changes,
                    *required,
                    format!(
                        "operation `{id}`: parameter {name} ({ty}{}) added",
                        if *required { ", required" } else { "" }
                    ),
                );
            }
        }
        match (&op.body, &now.body) {
            (Some((_, ty)), Some((_, now_ty))) if ty != now_ty => change(
                changes,
                true,
                format!("operation `{id}`: request body retyped from {ty} to {now_ty}"),
            ),
            (Some(_), None) => change(
                changes,
                true,
                format!("operation `{id}`: request body removed"),
            ),
            (None, Some((required, ty))) => change(
                changes,
                *required,
                format!("operation `{id}`: request body {ty} added"),
            ),
            _ => {}
        }
    }
    for (id, op) in &new {
        if !old.contains_key(id) {
            change(
                changes,
                false,
                format!("operation `{id}` added ({} {})", op.method, op.path),
            );
        }
    }
}

/// A component schema as the generated types see it.
enum Shape {
    /// Fields: name → (required, type).
    Object(BTreeMap<String, (bool, String)>),
    /// Enumeration values, as text.
    Enum(BTreeSet<String>),
    /// Anything else, by its type.
    Other(String),
}

fn shapes(spec: &OpenAPI) -> BTreeMap<String, Shape> {
    let mut out = BTreeMap::new();
    let Some(components) = &spec.components else {
        return out;
    };
    for (name, schema) in &components.schemas {
        let ReferenceOr::Item(schema) = schema else {
            out.insert(name.clone(), Shape::Other(type_name(spec, schema)));
            continue;
        };
        let values = enum_values(schema);
        let shape = if !values.is_empty() {
            Shape::Enum(values)
        } else if let SchemaKind::Type(Type::Object(object)) = &schema.schema_kind {
            let fields = object
                .properties
                .iter()
                .map(|(field, s)| {
                    let ty = match s {
                        ReferenceOr::Item(s) => schema_type(spec, s),
                        ReferenceOr::Reference { reference } => ref_name(reference),
                    };
                    (field.clone(), (object.required.contains(field), ty))
                })
                .collect();
            Shape::Object(fields)
        } else {
            Shape::Other(schema_type(spec, schema))
        };
        out.insert(name.clone(), shape);
    }
    out
}

fn enum_values(schema: &Schema) -> BTreeSet<String> {
    crate::facts::schema_enum(schema)
        .into_iter()
        .map(|v| match v {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) if !n.is_i64() => {
                n.as_f64().map(|x| x.to_string()).unwrap_or_default()
            }
            other => other.to_string(),
        })
        .collect()
}

fn diff_schemas(old: &OpenAPI, new: &OpenAPI, changes: &mut Vec<Change>) {
    let (old, new) = (shapes(old), shapes(new));
    for (name, shape) in &old {
        let Some(now) = new.get(name) else {
            change(changes, true, format!("schema `{name}` removed"));
            continue;
        };
        match (shape, now) {
            (Shape::Object(fields), Shape::Object(now_fields)) => {
                for (field, (required, ty)) in fields {
                    match now_fields.get(field) {
                        None => change(changes, true, format!("field `{name}.{field}` removed")),
                        Some((_, now_ty)) if now_ty != ty => change(
                            changes,
                            true,
                            format!("field `{name}.{field}` retyped from {ty} to {now_ty}"),
                        ),
                        Some((true, _)) if !required => change(
                            changes,
                            true,
                            format!("field `{name}.{field}` now required"),
                        ),
                        Some((false, _)) if *required => change(
                            changes,
                            true,
                            format!("field `{name}.{field}` now optional"),
                        ),
                        Some(_) => {}
                    }
                }
                for (field, (required, ty)) in now_fields {
                    if !fields.contains_key(field) {
                        change(
                            changes,
                            *required,
                            format!(
                                "field `{name}.{field}` ({ty}{}) added",
                                if *required { ", required" } else { "" }
                            ),
                        );
                    }
                }
            }
            (Shape::Enum(values), Shape::Enum(now_values)) => {
                for value in values.difference(now_values) {
                    change(
                        changes,
                        true,
                        format!("enumeration `{name}`: value {value} removed"),
                    );
                }
                for value in now_values.difference(values) {
                    change(
                        changes,
                        false,
                        format!("enumeration `{name}`: value {value} added"),
                    );
                }
            }
            (Shape::Other(ty), Shape::Other(now_ty)) if ty == now_ty => {}
            _ => change(changes, true, format!("schema `{name}` changed its kind")),
        }
    }
    for name in new.keys() {
        if !old.contains_key(name) {
            change(changes, false, format!("schema `{name}` added"));
        }
    }
}

fn ref_name(reference: &str) -> String {
    reference.rsplit('/').next().unwrap_or(reference).to_owned()
}

fn type_name(spec: &OpenAPI, schema: &ReferenceOr<Schema>) -> String {
    match schema {
        ReferenceOr::Item(schema) => schema_type(spec, schema),
        ReferenceOr::Reference { reference } => ref_name(reference),
    }
}

/// A schema's type as text: `integer(int64)`, `array of Call`, `nullable string`, ...
fn schema_type(spec: &OpenAPI, schema: &Schema) -> String {
    let base = match &schema.schema_kind {
        SchemaKind::Type(Type::String(s)) => format!("string{}", format_of(&s.format)),
        SchemaKind::Type(Type::Integer(i)) => format!("integer{}", format_of(&i.format)),
        SchemaKind::Type(Type::Number(n)) => format!("number{}", format_of(&n.format)),
        SchemaKind::Type(Type::Boolean(_)) => "boolean".to_owned(),
        SchemaKind::Type(Type::Object(_)) => "object".to_owned(),
        SchemaKind::Type(Type::Array(a)) => match &a.items {
            Some(items) => match items {
                ReferenceOr::Item(s) => format!("array of {}", schema_type(spec, s)),
                ReferenceOr::Reference { reference } => format!("array of {}", ref_name(reference)),
            },
            None => "array".to_owned(),
        },
        SchemaKind::AllOf { all_of } => one_of_text(spec, "allOf", all_of),
        SchemaKind::OneOf { one_of } => one_of_text(spec, "oneOf", one_of),
        SchemaKind::AnyOf { any_of } => one_of_text(spec, "anyOf", any_of),
        SchemaKind::Not { .. } => "not".to_owned(),
        SchemaKind::Any(_) => "any".to_owned(),
    };
    if schema.schema_data.nullable {
        format!("nullable {base}")
    } else {
        base
    }
}

fn one_of_text(spec: &OpenAPI, kind: &str, schemas: &[ReferenceOr<Schema>]) -> String {
    let parts: Vec<String> = schemas.iter().map(|s| type_name(spec, s)).collect();
    format!("{kind}({})", parts.join(", "))
}

fn format_of<T: fmt::Debug>(format: &openapiv3::VariantOrUnknownOrEmpty<T>) -> String {
    match format {
        openapiv3::VariantOrUnknownOrEmpty::Item(f) => format!("({f:?})").to_lowercase(),
        openapiv3::VariantOrUnknownOrEmpty::Unknown(f) => format!("({f})"),
        openapiv3::VariantOrUnknownOrEmpty::Empty => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(root: &Path) -> String {
        crate::codegen::read_spec(root).unwrap()
    }

    fn parse(text: &str) -> OpenAPI {
        crate::codegen::parse_spec(text).unwrap()
    }

    /// The spec with `from` replaced by `to` (which must occur).
    fn edited(text: &str, from: &str, to: &str) -> OpenAPI {
        assert!(text.contains(from), "the spec no longer contains {from:?}");
        parse(&text.replacen(from, to, 1))
    }

    #[test]
    fn the_same_spec_has_no_changes() {
        let text = spec(&crate::project_root());
        assert_eq!(diff(&parse(&text), &parse(&text)), vec![]);
    }

    #[test]
    fn a_removed_field_is_breaking_and_an_added_optional_one_is_not() {
        let text = spec(&crate::project_root());
        let old = parse(&text);
        let mut new = old.clone();
        let components = new.components.as_mut().unwrap();
        let ReferenceOr::Item(call) = components.schemas.get_mut("Call").unwrap() else {
            panic!("Call is a reference")
        };
        let SchemaKind::Type(Type::Object(object)) = &mut call.schema_kind else {
            panic!("Call is not an object")
        };
        let (name, field) = object.properties.pop().unwrap();
        object.properties.insert("added_later".to_owned(), field);

        let changes = diff(&old, &new);
        assert!(
            changes.contains(&Change {
                breaking: true,
                what: format!("field `Call.{name}` removed")
            }),
            "{changes:?}"
        );
        assert!(
            changes
                .iter()
                .any(|c| !c.breaking && c.what.starts_with("field `Call.added_later`")),
            "{changes:?}"
        );
        assert_eq!(changes.len(), 2, "{changes:?}");
    }

    #[test]
    fn removed_operations_and_enumeration_values_are_breaking_added_ones_are_not() {
        let text = spec(&crate::project_root());
        let old = parse(&text);
        let mut new = old.clone();
        let (path, item) = new.paths.paths.shift_remove_index(0).unwrap();
        let ReferenceOr::Item(mut item) = item else {
            panic!("a path item reference")
        };
        let op = item.iter().next().map(|(m, _)| m.to_owned()).unwrap();
        let id = item.iter().next().unwrap().1.operation_id.clone().unwrap();
        // The same operation under another id: one removed, one added.
        let methods = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for o in methods.into_iter().flatten() {
            o.operation_id = Some(format!("{id}_v2"));
        }
        new.paths
            .paths
            .insert(path.clone(), ReferenceOr::Item(item));
        let changes = diff(&old, &new);
        assert!(
            changes
                .iter()
                .any(|c| c.breaking && c.what.starts_with(&format!("operation `{id}` removed"))),
            "{changes:?}"
        );
        assert!(
            changes.iter().any(|c| !c.breaking
                && c.what == format!("operation `{id}_v2` added ({} {path})", op.to_uppercase())),
            "{changes:?}"
        );
    }

    #[test]
    fn a_new_required_parameter_is_breaking_an_optional_one_is_not() {
        let text = spec(&crate::project_root());
        let old = parse(&text);
        let header = |required: bool| {
            format!(
                "      parameters:\n        - name: x-region-probe\n          in: header\n          \
                 required: {required}\n          schema:\n            type: string\n        - name: x-UserId\n"
            )
        };
        for required in [true, false] {
            let new = edited(
                &text,
                "      parameters:\n        - name: x-UserId\n",
                &header(required),
            );
            let changes = diff(&old, &new);
            assert!(
                changes.iter().any(|c| c.breaking == required
                    && c.what.contains("parameter header x-region-probe")
                    && c.what.contains("added")),
                "{changes:?}"
            );
        }
    }

    #[test]
    fn a_retyped_field_is_breaking() {
        let text = spec(&crate::project_root());
        let old = parse(&text);
        let new = edited(&text, "type: integer", "type: string");
        assert!(diff(&old, &new)
            .iter()
            .any(|c| c.breaking && c.what.contains("retyped")));
    }

    #[test]
    fn a_breaking_change_needs_a_breaking_bump_and_a_changelog_section() {
        let breaking = [Change {
            breaking: true,
            what: "field `Call.x` removed".into(),
        }];
        let additive = [Change {
            breaking: false,
            what: "field `Call.y` added".into(),
        }];
        let changelog = "# Changelog\n\n## [0.2.0] - 2026-11-25\n- removed Call.x\n";
        assert!(check_policy(&additive, "0.1.0", "0.1.0+api.1.0.0", "").is_ok());
        assert!(check_policy(&breaking, "0.1.0", "0.1.0+api.1.0.0", changelog).is_err());
        assert!(check_policy(&breaking, "0.1.0", "0.1.1+api.1.0.0", changelog).is_err());
        assert!(check_policy(&breaking, "0.1.0", "0.2.0+api.2.0.0", "").is_err());
        assert!(check_policy(&breaking, "0.1.0", "0.2.0+api.2.0.0", changelog).is_ok());
        assert!(check_policy(&breaking, "1.4.2", "1.5.0", "## [1.5.0]").is_err());
        assert!(check_policy(&breaking, "1.4.2", "2.0.0", "## [2.0.0]").is_ok());
    }

    #[test]
    fn the_last_release_is_the_highest_version() {
        let dir = tempfile::tempdir().unwrap();
        let released = dir.path().join(RELEASED_DIR);
        std::fs::create_dir_all(&released).unwrap();
        for v in ["0.9.0", "0.10.0", "0.2.3"] {
            std::fs::write(released.join(format!("{v}.yaml")), v).unwrap();
        }
        assert_eq!(
            last_release(dir.path()).unwrap(),
            ("0.10.0".into(), "0.10.0".into())
        );
    }
}
