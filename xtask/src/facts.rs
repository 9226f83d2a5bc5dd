//! The facts of the spec that progenitor does not emit, as Rust source: the operations (id,
//! method, path, headers, body), every object schema's fields (kind, bounds, description,
//! example), the integer enumerations (`x-enum-varnames`), the enumerations as
//! `ccsqm-models` enums, and the sandbox's schema-derived sample of a call.
//!
//! Each renderer returns source text; [`crate::codegen`] formats and writes it.

use std::fmt::Write as _;

use anyhow::{anyhow, bail, Context, Result};
use openapiv3::{
    OpenAPI, Operation, Parameter, ParameterSchemaOrContent, ReferenceOr, Schema, SchemaKind, Type,
};

/// The extension of an integer enumeration that lists its values that are not final (the
/// statuses `ccsqm sync` reads again).
pub const IN_PROGRESS_EXTENSION: &str = "x-enum-in-progress";

/// The extension that marks an integer as a Unix timestamp in seconds.
pub const TIMESTAMP_EXTENSION: &str = "x-unix-seconds";

/// The schema whose schema-derived sample the sandbox serves (`crates/sandbox/src/generated.rs`).
pub const SAMPLED_SCHEMA: &str = "Call";

/// `crates/client/src/spec.rs`: operations, schemas' fields, enumerations.
pub fn spec_facts(spec: &OpenAPI) -> Result<String> {
    let mut out = String::new();
    out.push_str(
        "//! The facts of `spec/ccsqm.yaml` that the generated client does not carry: each\n\
         //! operation's method, path and headers, each object schema's fields with their kind,\n\
         //! bounds and description, and the integer enumerations with their names. Used by the\n\
         //! command line (flags, `ccsqm api`, CSV columns), the sandbox and the tests, so that each\n\
         //! fact of the spec is written once.\n\n\
         pub use crate::spec_types::{\n    EnumGroup, EnumValue, Enumeration, Field, Kind, OperationSpec, Schema,\n};\n\n",
    );
    api_info(spec, &mut out)?;
    operations(spec, &mut out)?;
    enumerations(spec, &mut out)?;
    schemas(spec, &mut out)?;
    Ok(out)
}

/// The spec's `info.title` and `info.version`, as public constants.
fn api_info(spec: &OpenAPI, out: &mut String) -> Result<()> {
    writeln!(out, "/// The spec's `info.title`.")?;
    writeln!(out, "pub const API_TITLE: &str = {:?};\n", spec.info.title)?;
    writeln!(
        out,
        "/// The spec's `info.version`: the version of the API this crate was generated from\n\
         /// (also the build metadata of the crate's version, `+api.{{API_VERSION}}`)."
    )?;
    writeln!(
        out,
        "pub const API_VERSION: &str = {:?};\n",
        spec.info.version
    )?;
    Ok(())
}

fn operations(spec: &OpenAPI, out: &mut String) -> Result<()> {
    let ops = all_operations(spec)?;
    out.push_str(
        "/// An operation of `spec/ccsqm.yaml`, by its `operationId`.\n///\n\
         /// A new operation in the spec is a new variant: the build then fails where each\n\
         /// operation must be placed, by an exhaustive `match` (the CLI's\n\
         /// `crates/cli/src/operations.rs`, the sandbox's `crates/sandbox/src/server.rs`), until it\n\
         /// is given a place there. `ccsqm api <operationId>` calls any of them.\n\
         #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]\npub enum Operation {\n",
    );
    for op in &ops {
        writeln!(out, "    /// `{}`: {}", op.id, op.summary)?;
        writeln!(out, "    {},", camel(&op.id))?;
    }
    out.push_str("}\n\nimpl Operation {\n    /// Every operation, in the spec's order.\n    pub const ALL: &'static [Operation] = &[\n");
    for op in &ops {
        writeln!(out, "        Operation::{},", camel(&op.id))?;
    }
    out.push_str("    ];\n\n    /// What the spec says of the operation.\n    pub const fn info(self) -> &'static OperationSpec {\n        match self {\n");
    for op in &ops {
        writeln!(
            out,
            "            Operation::{} => &{},",
            camel(&op.id),
            screaming(&op.id)
        )?;
    }
    out.push_str("        }\n    }\n}\n\n");
    for op in &ops {
        writeln!(out, "/// `{}`: {}", op.id, op.summary)?;
        writeln!(
            out,
            "pub const {}: OperationSpec = OperationSpec {{",
            screaming(&op.id)
        )?;
        writeln!(out, "    id: {:?},", op.id)?;
        writeln!(out, "    method: {:?},", op.method)?;
        writeln!(out, "    path: {:?},", op.path)?;
        writeln!(out, "    summary: {:?},", op.summary)?;
        writeln!(out, "    description: {:?},", op.description)?;
        writeln!(out, "    authenticated: {},", op.authenticated)?;
        out.push_str("    headers: &[\n");
        for header in &op.headers {
            out.push_str(&indent(&field_literal(header)?, 8));
            out.push_str(",\n");
        }
        out.push_str("    ],\n");
        match &op.body {
            Some(name) => writeln!(out, "    body: Some(&schemas::{}),", screaming(name))?,
            None => out.push_str("    body: None,\n"),
        }
        match &op.response {
            Some(name) => writeln!(out, "    response: Some(&schemas::{}),", screaming(name))?,
            None => out.push_str("    response: None,\n"),
        }
        out.push_str("};\n\n");
    }
    Ok(())
}

fn enumerations(spec: &OpenAPI, out: &mut String) -> Result<()> {
    out.push_str("/// The integer enumerations of the spec (schemas with `x-enum-varnames`).\npub mod enums {\n    use super::*;\n\n");
    for (name, schema) in component_schemas(spec)? {
        let Some(values) = enum_values(name, schema)? else {
            continue;
        };
        writeln!(out, "    /// `{name}`: {}", first_line(description(schema)))?;
        writeln!(
            out,
            "    pub const {}: Enumeration = Enumeration {{",
            screaming(name)
        )?;
        writeln!(out, "        name: {name:?},")?;
        writeln!(out, "        kind: {:?},", words(name))?;
        writeln!(out, "        description: {:?},", description(schema))?;
        out.push_str("        values: &[\n");
        for v in &values {
            writeln!(
                out,
                "            EnumValue {{ code: {}, variant: {:?}, name: {:?}, description: {:?} }},",
                v.code, v.variant, v.name, v.description
            )?;
        }
        out.push_str("        ],\n        groups: &[\n");
        for g in enum_groups(name, schema, &values)? {
            writeln!(
                out,
                "            EnumGroup {{ name: {:?}, description: {:?}, codes: &{:?} }},",
                g.name, g.description, g.codes
            )?;
        }
        out.push_str("        ],\n    };\n\n");
    }
    out.push_str("}\n\n");
    Ok(())
}

/// The extension that names groups of an enumeration's values.
pub const GROUPS_EXTENSION: &str = "x-enum-groups";

pub(crate) struct Group {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) codes: Vec<i64>,
    pub(crate) variants: Vec<String>,
}

/// The groups of an enumeration (`x-enum-groups`: a list of `{name, description, values}`,
/// values by their `x-enum-varnames`), checked: kebab-case names distinct from each other and
/// from the values' names, known values, every value in a group, and a group `in-progress`
/// the same set as `x-enum-in-progress` when both are given.
pub(crate) fn enum_groups(name: &str, schema: &Schema, values: &[Value]) -> Result<Vec<Group>> {
    let Some(groups) = schema.schema_data.extensions.get(GROUPS_EXTENSION) else {
        return Ok(Vec::new());
    };
    let at = |what: &str| format!("{name} in spec/ccsqm.yaml: {GROUPS_EXTENSION}: {what}");
    let list = groups
        .as_array()
        .ok_or_else(|| anyhow!(at("not a list of {name, description, values}")))?;
    let mut out: Vec<Group> = Vec::new();
    for group in list {
        let text = |key: &str| -> Result<String> {
            group
                .get(key)
                .and_then(serde_json::Value::as_str)
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .ok_or_else(|| anyhow!(at(&format!("a group without a `{key}` text"))))
        };
        let group_name = text("name")?;
        let description = text("description")?;
        if kebab(&group_name) != group_name {
            bail!(at(&format!("group {group_name:?}: name it in kebab-case")));
        }
        if values.iter().any(|v| v.name == group_name) || out.iter().any(|g| g.name == group_name) {
            bail!(at(&format!(
                "group {group_name:?}: the name is already a value's or a group's"
            )));
        }
        let variants: Vec<String> = group
            .get("values")
            .and_then(serde_json::Value::as_array)
            .ok_or_else(|| anyhow!(at(&format!("group {group_name}: `values` is not a list"))))?
            .iter()
            .map(|v| {
                v.as_str().map(str::to_owned).ok_or_else(|| {
                    anyhow!(at(&format!("group {group_name}: a value is not a name")))
                })
            })
            .collect::<Result<_>>()?;
        if variants.is_empty() {
            bail!(at(&format!("group {group_name} has no values")));
        }
        let mut codes = Vec::new();
        for variant in &variants {
            let value = values
                .iter()
                .find(|v| v.variant == *variant)
                .ok_or_else(|| {
                    anyhow!(at(&format!(
                        "group {group_name} names {variant}, not one of its x-enum-varnames"
                    )))
                })?;
            if codes.contains(&value.code) {
                bail!(at(&format!("group {group_name} names {variant} twice")));
            }
            codes.push(value.code);
        }
        out.push(Group {
            name: group_name,
            description,
            codes,
            variants,
        });
    }
    for value in values {
        if !out.iter().any(|g| g.codes.contains(&value.code)) {
            bail!(at(&format!(
                "{} is in no group: place it (say `undocumented` in the group's description if the vendor is silent)",
                value.variant
            )));
        }
    }
    if let (Some(in_progress), Some(group)) = (
        schema.schema_data.extensions.get(IN_PROGRESS_EXTENSION),
        out.iter().find(|g| g.name == "in-progress"),
    ) {
        let mut listed: Vec<&str> = in_progress
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(serde_json::Value::as_str)
            .collect();
        let mut grouped: Vec<&str> = group.variants.iter().map(String::as_str).collect();
        listed.sort_unstable();
        grouped.sort_unstable();
        if listed != grouped {
            bail!(at(&format!(
                "group in-progress {grouped:?} differs from {} {listed:?}: they are one fact",
                IN_PROGRESS_EXTENSION
            )));
        }
    }
    Ok(out)
}

fn schemas(spec: &OpenAPI, out: &mut String) -> Result<()> {
    out.push_str("/// The object schemas of the spec, with their fields in the spec's order.\npub mod schemas {\n    use super::*;\n\n");
    for (name, schema) in component_schemas(spec)? {
        let SchemaKind::Type(Type::Object(object)) = &schema.schema_kind else {
            continue;
        };
        writeln!(out, "    /// `{name}`: {}", first_line(description(schema)))?;
        writeln!(out, "    pub const {}: Schema = Schema {{", screaming(name))?;
        writeln!(out, "        name: {name:?},")?;
        writeln!(out, "        description: {:?},", description(schema))?;
        out.push_str("        fields: &[\n");
        for (field, property) in &object.properties {
            let property = property.clone().unbox();
            let f = field_of(spec, field, &property, object.required.contains(field))
                .with_context(|| format!("{name}.{field}"))?;
            out.push_str(&indent(&field_literal(&f)?, 12));
            out.push_str(",\n");
        }
        out.push_str("        ],\n    };\n\n");
    }
    out.push_str("}\n");
    Ok(())
}

/// `crates/models/src/generated.rs`: each enumeration as a `code_enum!` (named enums with an
/// `Unknown` case).
pub fn model_enums(spec: &OpenAPI) -> Result<String> {
    let mut out = String::from("use crate::codes::code_enum;\nuse ccsqm_client::types;\n\n");
    for (name, schema) in component_schemas(spec)? {
        let Some(values) = enum_values(name, schema)? else {
            continue;
        };
        out.push_str("code_enum! {\n");
        for line in description(schema).lines() {
            writeln!(
                out,
                "    ///{}{line}",
                if line.is_empty() { "" } else { " " }
            )?;
        }
        writeln!(out, "    ///\n    /// The spec's `{name}`; generated from its `x-enum-varnames` and `x-enum-descriptions`.")?;
        writeln!(
            out,
            "    pub enum {name} as types::{name}, kind = {:?}, spec = ccsqm_client::spec::enums::{} {{",
            words(name),
            screaming(name)
        )?;
        for v in &values {
            writeln!(
                out,
                "        {} = {}, {:?}, {:?};",
                v.variant, v.code, v.name, v.description
            )?;
        }
        out.push_str("    }\n}\n\n");
        let groups = enum_groups(name, schema, &values)?;
        if groups.is_empty() {
            continue;
        }
        writeln!(
            out,
            "/// The groups of the spec's `{name}` (its `{GROUPS_EXTENSION}`).\nimpl {name} {{"
        )?;
        for g in &groups {
            let variants: Vec<String> = g.variants.iter().map(|v| format!("Self::{v}")).collect();
            writeln!(
                out,
                "    /// `{}`: {}.\n    pub const {}: &'static [Self] = &[{}];\n",
                g.name,
                g.description,
                screaming(&g.name),
                variants.join(", ")
            )?;
            writeln!(
                out,
                "    /// Whether the value is in the group `{}` ([`Self::{}`]); never for `Unknown`.\n    pub const fn is_{}(&self) -> bool {{\n        matches!(self, {})\n    }}\n",
                g.name,
                screaming(&g.name),
                snake(&g.name),
                variants.join(" | ")
            )?;
        }
        out.push_str("}\n\n");
    }
    Ok(out)
}

/// `crates/sandbox/src/generated.rs`: a call whose every field holds a value derived from its
/// schema alone, for the fields the sandbox has no generator of its own for.
pub fn sandbox_sample(spec: &OpenAPI) -> Result<String> {
    let schemas = component_schemas(spec)?;
    let (_, schema) = schemas
        .iter()
        .find(|(name, _)| *name == SAMPLED_SCHEMA)
        .ok_or_else(|| anyhow!("the spec has no `{SAMPLED_SCHEMA}` schema"))?;
    let SchemaKind::Type(Type::Object(object)) = &schema.schema_kind else {
        bail!("`{SAMPLED_SCHEMA}` is not an object");
    };
    let mut out = String::new();
    writeln!(
        out,
        "use ccsqm_client::spec::schemas::{} as SCHEMA;\nuse ccsqm_client::types::{SAMPLED_SCHEMA};\n\n\
         /// Sets every optional field of `call` that is still unset to a deterministic value\n\
         /// derived from its schema in `spec/ccsqm.yaml` (see [`crate::sample`]), for `key`: the\n\
         /// sandbox's own generators set the fields they know, and a field added to the spec is\n\
         /// served with this value. A set field costs one test.\n\
         pub(crate) fn fill_{}_from_schema(call: &mut {SAMPLED_SCHEMA}, key: u64) {{",
        screaming(SAMPLED_SCHEMA),
        snake(SAMPLED_SCHEMA)
    )?;
    for (index, (field, property)) in object.properties.iter().enumerate() {
        let property = property.clone().unbox();
        let f = field_of(spec, field, &property, object.required.contains(field))?;
        if f.required && !f.nullable {
            // Not an `Option`: whether it is set cannot be told; the sandbox must set it.
            continue;
        }
        let rust = rust_field(field);
        if f.kind.starts_with("Kind::Array")
            || f.kind.starts_with("Kind::Object")
            || f.kind == "Kind::Other"
        {
            // Arrays, objects, `oneOf` and the like: a value of the field's whole schema,
            // references inlined, given to the sandbox as JSON (see `crate::sample::fill_shaped`).
            let shape = serde_json::to_string(&inline_refs(spec, &property, 0)?)?;
            writeln!(
                out,
                "    crate::sample::fill_shaped(&mut call.{rust}, &SCHEMA.fields[{index}], {shape:?}, key);"
            )?;
            continue;
        }
        let field = rust;
        writeln!(
            out,
            "    if call.{field}.is_none() {{\n        call.{field} = \
             crate::sample::value(&SCHEMA.fields[{index}], key);\n    }}"
        )?;
    }
    out.push_str("}\n");
    Ok(out)
}

/// How deep [`inline_refs`] follows references: a schema that holds itself (a tree) is cut
/// there, to an empty schema (the sandbox then leaves that level out).
const INLINE_DEPTH: usize = 6;

/// A schema as JSON, each `$ref` to a component schema replaced by the component, to
/// [`INLINE_DEPTH`] levels.
fn inline_refs(
    spec: &OpenAPI,
    schema: &ReferenceOr<Schema>,
    depth: usize,
) -> Result<serde_json::Value> {
    fn walk(spec: &OpenAPI, value: serde_json::Value, depth: usize) -> Result<serde_json::Value> {
        use serde_json::Value;
        Ok(match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    if depth >= INLINE_DEPTH {
                        return Ok(Value::Object(Default::default()));
                    }
                    let reference = ReferenceOr::<Schema>::Reference {
                        reference: reference.clone(),
                    };
                    let target = resolve(spec, &reference)?;
                    return walk(spec, serde_json::to_value(target)?, depth + 1);
                }
                let mut out = serde_json::Map::new();
                for (key, value) in map {
                    // Descriptions are not needed to make a value.
                    if key == "description" {
                        continue;
                    }
                    out.insert(key, walk(spec, value, depth)?);
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(
                items
                    .into_iter()
                    .map(|v| walk(spec, v, depth))
                    .collect::<Result<_>>()?,
            ),
            other => other,
        })
    }
    walk(spec, serde_json::to_value(schema)?, depth)
}

/// Every parameter of an operation that the client calls itself (`Client::details`,
/// `Client::transcript`, the token) and what sends it: (operationId, place, name, where). A
/// parameter the spec adds to one of these operations that is not listed here fails `cargo xtask codegen`,
/// naming it and this list: the generated client would otherwise build and then refuse every
/// request at run time ("... was not initialized") for a required one, or never send an optional
/// one. Make the client send it first, then list it. The other operations are called by
/// `ccsqm api` only, which sends any header (`-H NAME=VALUE`, the profile's x-UserId and
/// x-app-key) and refuses a call that lacks a required one.
pub const SENT_PARAMETERS: &[(&str, &str, &str, &str)] = &[
    (
        "appraisecall_details",
        "header",
        "x-UserId",
        "the profile's user_id (crates/client/src/session.rs)",
    ),
    (
        "appraisecall_details",
        "header",
        "x-app-key",
        "the profile's app_key (crates/client/src/session.rs)",
    ),
    (
        "appraisecall_detail",
        "header",
        "x-UserId",
        "the profile's user_id (crates/client/src/transcripts.rs)",
    ),
    (
        "appraisecall_detail",
        "header",
        "x-app-key",
        "the profile's app_key (crates/client/src/transcripts.rs)",
    ),
    (
        "token_by_ak_sk",
        "header",
        "X-Token-Expire",
        "the token's lifetime (crates/client/src/auth.rs)",
    ),
];

pub(crate) struct Op {
    pub(crate) id: String,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) summary: String,
    pub(crate) description: String,
    pub(crate) authenticated: bool,
    pub(crate) headers: Vec<FieldFacts>,
    pub(crate) body: Option<String>,
    pub(crate) response: Option<String>,
}

pub(crate) fn all_operations(spec: &OpenAPI) -> Result<Vec<Op>> {
    let mut ops = Vec::new();
    for (path, item) in &spec.paths.paths {
        let item = item
            .as_item()
            .ok_or_else(|| anyhow!("path {path}: a $ref path item is not supported"))?;
        for (method, op) in item.iter() {
            ops.push(
                operation(spec, path, method, op).with_context(|| format!("{method} {path}"))?,
            );
        }
    }
    Ok(ops)
}

fn operation(spec: &OpenAPI, path: &str, method: &str, op: &Operation) -> Result<Op> {
    let id = op
        .operation_id
        .clone()
        .ok_or_else(|| anyhow!("no operationId"))?;
    let security = op.security.as_ref().or(spec.security.as_ref());
    let mut headers = Vec::new();
    for parameter in &op.parameters {
        let parameter = match parameter {
            ReferenceOr::Item(p) => p,
            ReferenceOr::Reference { reference } => {
                bail!("{id}: parameter {reference}: $ref is not supported")
            }
        };
        let (place, parameter_data) = match parameter {
            Parameter::Header { parameter_data, .. } => ("header", parameter_data),
            Parameter::Query { parameter_data, .. } => ("query", parameter_data),
            Parameter::Path { parameter_data, .. } => ("path", parameter_data),
            Parameter::Cookie { parameter_data, .. } => ("cookie", parameter_data),
        };
        let sent = SENT_PARAMETERS.iter().find(|(op, sent_place, name, _)| {
            *op == id && *sent_place == place && name.eq_ignore_ascii_case(&parameter_data.name)
        });
        let wrapped = SENT_PARAMETERS.iter().any(|(op, ..)| *op == id);
        if sent.is_none() && wrapped {
            bail!(
                "spec/ccsqm.yaml: operation `{id}` has the {}{place} parameter `{}`, which ccsqm \
                 does not send: make the client send it (a setting or a value it derives, as \
                 crates/client/src/session.rs sends x-UserId) and list it in SENT_PARAMETERS in \
                 xtask/src/facts.rs, or remove it from the spec",
                if parameter_data.required {
                    "required "
                } else {
                    "optional "
                },
                parameter_data.name
            );
        }
        if place != "header" {
            bail!(
                "spec/ccsqm.yaml: operation `{id}`: the {place} parameter `{}`: only header \
                 parameters are supported (xtask/src/facts.rs and the client's paths)",
                parameter_data.name
            );
        }
        let ParameterSchemaOrContent::Schema(schema) = &parameter_data.format else {
            bail!(
                "{id}: header {}: content is not supported",
                parameter_data.name
            );
        };
        let schema = resolve(spec, schema)?;
        let mut f = field_of(
            spec,
            &parameter_data.name,
            &ReferenceOr::Item(schema.clone()),
            parameter_data.required,
        )?;
        f.description = parameter_data.description.clone().unwrap_or_default();
        if f.example.is_none() {
            f.example = parameter_data.example.as_ref().map(|e| e.to_string());
        }
        headers.push(f);
    }
    let body = match &op.request_body {
        None => None,
        Some(ReferenceOr::Reference { reference }) => {
            bail!("{id}: request body {reference}: $ref is not supported")
        }
        Some(ReferenceOr::Item(body)) => match body
            .content
            .get("application/json")
            .and_then(|m| m.schema.as_ref())
        {
            Some(ReferenceOr::Reference { reference }) => Some(schema_name(reference)?.to_owned()),
            Some(ReferenceOr::Item(_)) => {
                bail!("{id}: the request body must be a $ref to a component schema")
            }
            None => None,
        },
    };
    let response = op
        .responses
        .responses
        .iter()
        .find(|(status, _)| matches!(status, openapiv3::StatusCode::Code(200..=299)))
        .and_then(|(_, r)| r.as_item())
        .and_then(|r| r.content.get("application/json"))
        .and_then(|m| m.schema.as_ref())
        .and_then(|s| match s {
            ReferenceOr::Reference { reference } => schema_name(reference).ok().map(str::to_owned),
            ReferenceOr::Item(_) => None,
        });
    Ok(Op {
        method: method.to_ascii_uppercase(),
        path: path.to_owned(),
        summary: op.summary.clone().unwrap_or_default(),
        description: op.description.clone().unwrap_or_default(),
        authenticated: security.is_some_and(|s| !s.is_empty()),
        headers,
        body,
        response,
        id,
    })
}

pub(crate) struct FieldFacts {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) kind: String,
    pub(crate) required: bool,
    pub(crate) nullable: bool,
    minimum: Option<f64>,
    maximum: Option<f64>,
    example: Option<String>,
    values: Vec<String>,
}

pub(crate) fn field_of(
    spec: &OpenAPI,
    name: &str,
    schema: &ReferenceOr<Schema>,
    required: bool,
) -> Result<FieldFacts> {
    let resolved = resolve(spec, schema)?;
    let data = &resolved.schema_data;
    // A reference's own description is the referenced schema's.
    let description = data.description.clone().unwrap_or_default();
    let (minimum, maximum) = match &resolved.schema_kind {
        SchemaKind::Type(Type::Integer(i)) => {
            (i.minimum.map(|v| v as f64), i.maximum.map(|v| v as f64))
        }
        SchemaKind::Type(Type::Number(n)) => (n.minimum, n.maximum),
        _ => (None, None),
    };
    Ok(FieldFacts {
        name: name.to_owned(),
        description,
        kind: kind(spec, schema)?,
        required,
        nullable: data.nullable,
        minimum,
        maximum,
        example: data.example.as_ref().map(|e| e.to_string()),
        values: inline_enum(&resolved),
    })
}

fn kind(spec: &OpenAPI, schema: &ReferenceOr<Schema>) -> Result<String> {
    if let ReferenceOr::Reference { reference } = schema {
        let name = schema_name(reference)?;
        let target = resolve(spec, schema)?;
        if enum_values(name, &target)?.is_some() {
            return Ok(format!("Kind::Enum(&enums::{})", screaming(name)));
        }
        if let SchemaKind::Type(Type::Object(_)) = target.schema_kind {
            return Ok(format!("Kind::Object(&schemas::{})", screaming(name)));
        }
        return kind(spec, &ReferenceOr::Item(target));
    }
    let ReferenceOr::Item(schema) = schema else {
        unreachable!()
    };
    Ok(match &schema.schema_kind {
        SchemaKind::Type(Type::String(s)) => match &s.format {
            openapiv3::VariantOrUnknownOrEmpty::Item(openapiv3::StringFormat::Password) => {
                "Kind::Secret".into()
            }
            _ => "Kind::String".into(),
        },
        SchemaKind::Type(Type::Integer(_))
            if schema
                .schema_data
                .extensions
                .contains_key(TIMESTAMP_EXTENSION) =>
        {
            "Kind::UnixSeconds".into()
        }
        SchemaKind::Type(Type::Integer(_)) => "Kind::Integer".into(),
        SchemaKind::Type(Type::Number(_)) => "Kind::Number".into(),
        SchemaKind::Type(Type::Boolean(_)) => "Kind::Boolean".into(),
        SchemaKind::Type(Type::Array(a)) => {
            let items = a
                .items
                .as_ref()
                .ok_or_else(|| anyhow!("an array without items"))?;
            format!("Kind::Array(&{})", kind(spec, &items.clone().unbox())?)
        }
        _ => "Kind::Other".into(),
    })
}

/// The values of a schema's own `enum`, as JSON text (not for the named integer enumerations,
/// which are [`enum_values`]).
fn inline_enum(schema: &Schema) -> Vec<String> {
    if schema
        .schema_data
        .extensions
        .contains_key("x-enum-varnames")
    {
        return Vec::new();
    }
    schema_enum(schema).iter().map(|v| v.to_string()).collect()
}

/// The values of a schema's `enum` (string, integer or number), in the spec's order.
pub fn schema_enum(schema: &Schema) -> Vec<serde_json::Value> {
    match &schema.schema_kind {
        SchemaKind::Type(Type::String(s)) => s
            .enumeration
            .iter()
            .flatten()
            .map(|v| serde_json::Value::from(v.as_str()))
            .collect(),
        SchemaKind::Type(Type::Integer(i)) => i
            .enumeration
            .iter()
            .flatten()
            .map(|v| (*v).into())
            .collect(),
        SchemaKind::Type(Type::Number(n)) => n
            .enumeration
            .iter()
            .flatten()
            .map(|v| (*v).into())
            .collect(),
        _ => Vec::new(),
    }
}

fn field_literal(f: &FieldFacts) -> Result<String> {
    let option = |v: Option<f64>| match v {
        Some(v) => format!("Some({v:?})"),
        None => "None".into(),
    };
    Ok(format!(
        "Field {{\n    name: {:?},\n    description: {:?},\n    kind: {},\n    required: {},\n    nullable: {},\n    minimum: {},\n    maximum: {},\n    example: {},\n    values: &{:?},\n}}",
        f.name,
        f.description,
        f.kind,
        f.required,
        f.nullable,
        option(f.minimum),
        option(f.maximum),
        match &f.example {
            Some(e) => format!("Some({e:?})"),
            None => "None".into(),
        },
        f.values
    ))
}

pub(crate) struct Value {
    pub(crate) code: i64,
    pub(crate) variant: String,
    pub(crate) name: String,
    pub(crate) description: String,
}

/// The values of an integer enumeration with `x-enum-varnames`; `None` for any other schema.
pub(crate) fn enum_values(name: &str, schema: &Schema) -> Result<Option<Vec<Value>>> {
    let SchemaKind::Type(Type::Integer(integer)) = &schema.schema_kind else {
        return Ok(None);
    };
    let Some(varnames) = schema.schema_data.extensions.get("x-enum-varnames") else {
        return Ok(None);
    };
    let strings = |key: &str, v: &serde_json::Value| -> Result<Vec<String>> {
        v.as_array()
            .ok_or_else(|| anyhow!("{name}: {key} is not a list"))?
            .iter()
            .map(|s| {
                s.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| anyhow!("{name}: {key} holds a non-string"))
            })
            .collect()
    };
    let varnames = strings("x-enum-varnames", varnames)?;
    let descriptions = match schema.schema_data.extensions.get("x-enum-descriptions") {
        Some(v) => strings("x-enum-descriptions", v)?,
        None => bail!(
            "{name} in spec/ccsqm.yaml: x-enum-varnames needs x-enum-descriptions (one per value)"
        ),
    };
    let codes: Vec<i64> = integer
        .enumeration
        .iter()
        .map(|c| c.ok_or_else(|| anyhow!("{name}: a null enum value")))
        .collect::<Result<_>>()?;
    if codes.len() != varnames.len() || codes.len() != descriptions.len() {
        bail!(
            "{name} in spec/ccsqm.yaml: enum has {} values, x-enum-varnames {} and x-enum-descriptions {}: give each value a name and a description",
            codes.len(),
            varnames.len(),
            descriptions.len()
        );
    }
    Ok(Some(
        codes
            .into_iter()
            .zip(varnames)
            .zip(descriptions)
            .map(|((code, variant), description)| Value {
                code,
                name: kebab(&variant),
                variant,
                description,
            })
            .collect(),
    ))
}

pub fn component_schemas(spec: &OpenAPI) -> Result<Vec<(&str, &Schema)>> {
    let Some(components) = &spec.components else {
        return Ok(Vec::new());
    };
    components
        .schemas
        .iter()
        .map(|(name, schema)| match schema {
            ReferenceOr::Item(schema) => Ok((name.as_str(), schema)),
            ReferenceOr::Reference { reference } => {
                bail!("components.schemas.{name}: {reference}: a $ref is not supported")
            }
        })
        .collect()
}

pub fn resolve(spec: &OpenAPI, schema: &ReferenceOr<Schema>) -> Result<Schema> {
    match schema {
        ReferenceOr::Item(schema) => Ok(schema.clone()),
        ReferenceOr::Reference { reference } => {
            let name = schema_name(reference)?;
            let found = spec
                .components
                .as_ref()
                .and_then(|c| c.schemas.get(name))
                .ok_or_else(|| anyhow!("{reference} is not in components.schemas"))?;
            resolve(spec, found)
        }
    }
}

fn schema_name(reference: &str) -> Result<&str> {
    reference
        .strip_prefix("#/components/schemas/")
        .ok_or_else(|| anyhow!("{reference}: only #/components/schemas/ references are supported"))
}

fn description(schema: &Schema) -> &str {
    schema
        .schema_data
        .description
        .as_deref()
        .unwrap_or("")
        .trim_end()
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Words of a name in any case: `token_by_ak_sk`, `InspectionStatus`, `x-UserId`.
fn split_words(name: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        let boundary = c.is_uppercase()
            && !current.is_empty()
            && (chars[i - 1].is_lowercase()
                || chars[i - 1].is_ascii_digit()
                || chars.get(i + 1).is_some_and(|n| n.is_lowercase()));
        if boundary {
            words.push(std::mem::take(&mut current));
        }
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// `token_by_ak_sk` → `TokenByAkSk`.
pub fn camel(name: &str) -> String {
    split_words(name)
        .iter()
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// `InspectionStatus` → `INSPECTION_STATUS`.
pub fn screaming(name: &str) -> String {
    split_words(name).join("_").to_uppercase()
}

/// `InspectionStatus` → `inspection_status`.
pub fn snake(name: &str) -> String {
    split_words(name).join("_")
}

/// `InspectionSucceeded` → `inspection-succeeded`.
pub fn kebab(name: &str) -> String {
    split_words(name).join("-")
}

/// `InspectionStatus` → `inspection status`.
pub(crate) fn words(name: &str) -> String {
    split_words(name).join(" ")
}

/// The Rust field of a property in progenitor's types: snake case, `r#` for keywords.
fn rust_field(name: &str) -> String {
    let field = snake(name);
    match field.as_str() {
        "type" | "ref" | "self" | "match" | "fn" | "mod" | "use" | "impl" | "move" | "loop"
        | "where" => {
            format!("{field}_")
        }
        _ => field,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parameter the client does not send fails the generation, naming it, its operation
    /// and the files to edit; a parameter of an operation only `ccsqm api` calls does not.
    #[test]
    fn a_parameter_the_client_does_not_send_fails_codegen() {
        let root = crate::project_root();
        let text = std::fs::read_to_string(root.join(crate::codegen::SPEC)).unwrap();
        let anchor = "      parameters:\n        - name: x-UserId\n";
        assert!(spec_facts(&crate::codegen::parse_spec(&text).unwrap()).is_ok());
        for required in [true, false] {
            let edited = text.replacen(
                anchor,
                &format!(
                    "      parameters:\n        - name: X-Region-Probe\n          in: header\n          \
                     required: {required}\n          schema:\n            type: string\n        - name: x-UserId\n"
                ),
                1,
            );
            let error = format!(
                "{:#}",
                spec_facts(&crate::codegen::parse_spec(&edited).unwrap()).unwrap_err()
            );
            for needle in [
                "spec/ccsqm.yaml",
                "appraisecall_details",
                "`X-Region-Probe`",
                "xtask/src/facts.rs",
            ] {
                assert!(error.contains(needle), "{needle}: {error}");
            }
        }
    }

    /// An integer enumeration with `extra` extension lines.
    fn status_schema(extra: &str) -> Schema {
        let yaml = format!(
            "type: integer\nenum: [0, 1, 9]\nx-enum-varnames: [Waiting, Done, Failed]\n\
             x-enum-descriptions: [waiting, done, failed]\n{extra}"
        );
        serde_saphyr::from_str(&yaml).unwrap()
    }

    fn groups_of(extra: &str) -> Result<Vec<Group>> {
        let schema = status_schema(extra);
        let values = enum_values("S", &schema)?.unwrap();
        enum_groups("S", &schema, &values)
    }

    #[test]
    fn enum_groups_are_checked() {
        let good = "x-enum-in-progress: [Waiting]\nx-enum-groups:\n\
                    - {name: in-progress, description: not yet, values: [Waiting]}\n\
                    - {name: final, description: over, values: [Done, Failed]}\n";
        let groups = groups_of(good).unwrap();
        assert_eq!(groups[1].codes, [1, 9]);
        assert!(groups_of("").unwrap().is_empty());
        for (bad, says) in [
            // A value in no group.
            ("x-enum-groups:\n- {name: final, description: over, values: [Done]}\n", "in no group"),
            // A value the enumeration lacks.
            ("x-enum-groups:\n- {name: all, description: d, values: [Waiting, Done, Failed, Nope]}\n", "Nope"),
            // A name already a value's.
            ("x-enum-groups:\n- {name: failed, description: d, values: [Waiting, Done, Failed]}\n", "already"),
            // Not kebab-case.
            ("x-enum-groups:\n- {name: InProgress, description: d, values: [Waiting, Done, Failed]}\n", "kebab"),
            // No description.
            ("x-enum-groups:\n- {name: all, values: [Waiting, Done, Failed]}\n", "description"),
            // `in-progress` and `x-enum-in-progress` disagree.
            ("x-enum-in-progress: [Waiting, Done]\nx-enum-groups:\n\
              - {name: in-progress, description: d, values: [Waiting]}\n\
              - {name: final, description: d, values: [Done, Failed]}\n", "one fact"),
        ] {
            let error = groups_of(bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(camel("token_by_ak_sk"), "TokenByAkSk");
        assert_eq!(camel("appraisecall_details"), "AppraisecallDetails");
        assert_eq!(screaming("InspectionStatus"), "INSPECTION_STATUS");
        assert_eq!(screaming("TokenByAkSkRequest"), "TOKEN_BY_AK_SK_REQUEST");
        assert_eq!(
            kebab("ThirdPartyAsrSubmitFailed"),
            "third-party-asr-submit-failed"
        );
        assert_eq!(words("CallType"), "call type");
        assert_eq!(snake("AccessToken"), "access_token");
        assert_eq!(snake("staff_id"), "staff_id");
    }
}
