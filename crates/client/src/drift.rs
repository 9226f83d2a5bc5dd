//! Drift: what the server sends that `spec/ccsqm.yaml` does not describe.
//!
//! A page of `appraisecall/details` is read twice from the same buffered body: once into the
//! generated types (which keep only what the spec names), and once by a scan that walks the
//! same JSON by the spec's facts ([`crate::spec::schemas`]) and keeps what they lack:
//!
//! - **keys the spec does not name**, at every level of the page: the page's own keys, its
//!   `paging`'s, each call group's, each call's, and those of any object the spec describes
//!   inside them. The keys of a **call** and of its **call group** are carried on with the call
//!   ([`CallRecord::unknown_fields`](crate::CallRecord::unknown_fields)); the others (the
//!   page's, `paging`'s) are only reported, since no call holds them;
//! - **enumeration values the spec does not list**: a value of a field typed by an
//!   enumeration of the spec, of a field with its own `enum`, or of a call's integer field that
//!   the request pairs with an enumeration (a call's `status` with the request's `status`
//!   ([`InspectionStatus`](crate::spec::enums::INSPECTION_STATUS)), `call_type` with
//!   `call_types`). The value itself stays in the call as sent.
//!
//! Both are counted in a [`Drift`]: which field or value, where in the spec it belongs, and
//! how many calls carried it (pages, for a page's own keys). [`CallStream::drift`] holds it for
//! a stream; each new finding is also logged (`tracing`, level `warn`, target
//! [`DRIFT_TARGET`]) and given to the stream's [`CallStream::on_drift`] callback, so that a
//! service can log or alert on it.
//!
//! [`CallStream::drift`]: crate::CallStream::drift
//! [`CallStream::on_drift`]: crate::CallStream::on_drift

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, Mutex};

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::spec::schemas::{
    APPRAISECALL_DETAILS_REQUEST, APPRAISECALL_DETAILS_RESPONSE, CALL, CALL_GROUP,
};
use crate::spec::{Enumeration, Field, Kind, Schema};

/// The `tracing` target of the events that report drift (level `warn`, once per finding and
/// stream).
pub const DRIFT_TARGET: &str = "ccsqm_client::drift";

/// At most this many distinct unknown fields, and as many unknown values, are listed in a
/// [`Drift`]; any more are counted in [`Drift::left_out`].
pub const MAX_FINDINGS: usize = 64;

/// Names and values longer than this (in characters) are shortened in a [`Drift`] (the calls
/// carry them whole).
const MAX_TEXT: usize = 120;

/// What a finding's count counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftUnit {
    /// Calls that carried it (a call's key, or its group's: each call of the group).
    Calls,
    /// Pages that carried it (a key of the page itself, or of its `paging`).
    Pages,
}

/// A key the server sent that the spec's schema does not name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownField {
    /// The spec's schema where it belongs (`components.schemas` of `spec/ccsqm.yaml`), e.g.
    /// `Call`.
    pub schema: String,
    /// The key, as the server sent it (server text: show it through [`crate::visible`];
    /// shortened past 120 characters).
    pub name: String,
    /// How many calls (or pages, see `unit`) carried it.
    pub count: u64,
    /// What `count` counts.
    pub unit: DriftUnit,
}

/// A value the server sent in a field whose values the spec enumerates, and that the spec
/// does not list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownValue {
    /// The spec's schema of the field, e.g. `Call`.
    pub schema: String,
    /// The field, e.g. `status`.
    pub field: String,
    /// The enumeration whose values it lacks, e.g. `InspectionStatus` (`None` for a field's own
    /// `enum`).
    pub enumeration: Option<String>,
    /// The value, as JSON text (server text; shortened past 120 characters).
    pub value: String,
    /// How many calls (or pages, see `unit`) carried it.
    pub count: u64,
    /// What `count` counts.
    pub unit: DriftUnit,
}

/// What the server sent that the spec does not describe, counted: see the module's
/// documentation. Empty when the pages held nothing the spec lacks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    /// The unknown keys, in the order found (at most [`MAX_FINDINGS`]).
    #[serde(default)]
    pub fields: Vec<UnknownField>,
    /// The unknown enumeration values, in the order found (at most [`MAX_FINDINGS`]).
    #[serde(default)]
    pub values: Vec<UnknownValue>,
    /// Distinct findings past [`MAX_FINDINGS`], not listed.
    #[serde(default)]
    pub left_out: u64,
}

/// One new finding of a [`Drift`], as given to [`CallStream::on_drift`](crate::CallStream::on_drift).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DriftFinding {
    /// A key the spec does not name (its count is the page's, where first found).
    Field(UnknownField),
    /// An enumeration value the spec does not list.
    Value(UnknownValue),
}

impl Drift {
    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.values.is_empty() && self.left_out == 0
    }

    /// Adds `other`'s counts to this one; returns the findings that were new here.
    pub fn merge(&mut self, other: &Drift) -> Vec<DriftFinding> {
        let mut new = Vec::new();
        for field in &other.fields {
            let at = |f: &UnknownField| f.schema == field.schema && f.name == field.name;
            if add(
                &mut self.fields,
                &mut self.left_out,
                at,
                field.count,
                || field.clone(),
            ) {
                new.push(DriftFinding::Field(field.clone()));
            }
        }
        for value in &other.values {
            let at = |v: &UnknownValue| {
                v.schema == value.schema && v.field == value.field && v.value == value.value
            };
            if add(
                &mut self.values,
                &mut self.left_out,
                at,
                value.count,
                || value.clone(),
            ) {
                new.push(DriftFinding::Value(value.clone()));
            }
        }
        self.left_out = self.left_out.saturating_add(other.left_out);
        new
    }

    fn count_field(&mut self, schema: &Schema, name: &str, count: u64, unit: DriftUnit) {
        let name = shorten(name);
        let at = |f: &UnknownField| f.schema == schema.name && f.name == name;
        add(&mut self.fields, &mut self.left_out, at, count, || {
            UnknownField {
                schema: schema.name.to_owned(),
                name: name.clone().into_owned(),
                count,
                unit,
            }
        });
    }

    fn count_value(&mut self, schema: &Schema, found: &FoundValue, count: u64, unit: DriftUnit) {
        let at = |v: &UnknownValue| {
            v.schema == schema.name && v.field == found.field.name && v.value == found.value
        };
        add(&mut self.values, &mut self.left_out, at, count, || {
            UnknownValue {
                schema: schema.name.to_owned(),
                field: found.field.name.to_owned(),
                enumeration: found.enumeration.map(|e| e.name.to_owned()),
                value: found.value.clone(),
                count,
                unit,
            }
        });
    }
}

/// A finding counted in `list`: `count` more of the one `at` finds, or a new one (`make`) while
/// the list has room (else one more left out). Returns whether it was new to the list.
fn add<T: Counted>(
    list: &mut Vec<T>,
    left_out: &mut u64,
    at: impl Fn(&T) -> bool,
    count: u64,
    make: impl FnOnce() -> T,
) -> bool {
    if let Some(known) = list.iter_mut().find(|t| at(t)) {
        known.add(count);
        return false;
    }
    if list.len() < MAX_FINDINGS {
        list.push(make());
        return true;
    }
    *left_out = left_out.saturating_add(1);
    false
}

trait Counted {
    fn add(&mut self, count: u64);
}

impl Counted for UnknownField {
    fn add(&mut self, count: u64) {
        self.count = self.count.saturating_add(count);
    }
}

impl Counted for UnknownValue {
    fn add(&mut self, count: u64) {
        self.count = self.count.saturating_add(count);
    }
}

fn shorten(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(MAX_TEXT) {
        Some((end, _)) => Cow::Owned(format!("{}…", &text[..end])),
        None => Cow::Borrowed(text),
    }
}

fn unit_word(count: u64, unit: DriftUnit) -> &'static str {
    match (unit, count) {
        (DriftUnit::Calls, 1) => "call",
        (DriftUnit::Calls, _) => "calls",
        (DriftUnit::Pages, 1) => "page",
        (DriftUnit::Pages, _) => "pages",
    }
}

/// `field `name` of Call (3 calls)`, the name made safe for a terminal.
impl fmt::Display for UnknownField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "field `{}` of {} ({} {})",
            crate::visible(&self.name),
            crate::visible(&self.schema),
            self.count,
            unit_word(self.count, self.unit)
        )
    }
}

/// `value 41 of Call.status, not in InspectionStatus (2 calls)`, the value made safe for a terminal.
impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "value {} of {}.{}",
            crate::visible(&self.value),
            crate::visible(&self.schema),
            crate::visible(&self.field)
        )?;
        if let Some(enumeration) = &self.enumeration {
            write!(f, ", not in {}", crate::visible(enumeration))?;
        }
        write!(f, " ({} {})", self.count, unit_word(self.count, self.unit))
    }
}

impl fmt::Display for DriftFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DriftFinding::Field(field) => field.fmt(f),
            DriftFinding::Value(value) => value.fmt(f),
        }
    }
}

/// Every finding, separated by `; `, and how many more were left out.
impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut sep = |f: &mut fmt::Formatter<'_>| {
            let s = if first { "" } else { "; " };
            first = false;
            f.write_str(s)
        };
        for field in &self.fields {
            sep(f)?;
            field.fmt(f)?;
        }
        for value in &self.values {
            sep(f)?;
            value.fmt(f)?;
        }
        if self.left_out > 0 {
            sep(f)?;
            write!(f, "{} more", self.left_out)?;
        }
        Ok(())
    }
}

/// The enumeration whose values a field of `schema` takes, from the spec: its own kind, or,
/// for a call's integer field, [`call_enumeration`].
pub(crate) fn enumeration_of(schema: &Schema, field: &Field) -> Option<&'static Enumeration> {
    match field.kind {
        Kind::Enum(e) => Some(e),
        Kind::Array(Kind::Enum(e)) => Some(e),
        Kind::Integer if schema.name == CALL.name => call_enumeration(field.name),
        _ => None,
    }
}

/// The enumeration that names the codes of a call's integer field `field`: the one of the
/// request's field of the same name or its plural (`status` → `status`, `call_type` →
/// `call_types`), as the spec pairs them (a call's codes stay plain integers there, so that a
/// new code never makes a page unreadable). The one place this pairing is made: drift, CSV's
/// readable columns and the table's names all use it.
pub fn call_enumeration(field: &str) -> Option<&'static Enumeration> {
    let plural = format!("{field}s");
    APPRAISECALL_DETAILS_REQUEST
        .fields
        .iter()
        .filter(|f| f.name == field || f.name == plural)
        .find_map(|f| match f.kind {
            Kind::Enum(e) => Some(e),
            Kind::Array(Kind::Enum(e)) => Some(*e),
            _ => None,
        })
}

/// An enumeration value the spec does not list, found in an object.
#[derive(Debug)]
struct FoundValue {
    field: &'static Field,
    enumeration: Option<&'static Enumeration>,
    value: String,
}

/// What the scan keeps of one JSON object of a schema.
#[derive(Debug)]
struct Node {
    schema: &'static Schema,
    unknown: Map<String, Value>,
    values: Vec<FoundValue>,
    /// Its fields that hold objects of the spec (one node per object), by field name.
    children: Vec<(&'static str, Vec<Node>)>,
}

impl Node {
    fn new(schema: &'static Schema) -> Self {
        Node {
            schema,
            unknown: Map::new(),
            values: Vec::new(),
            children: Vec::new(),
        }
    }

    /// The calls in this object and below.
    fn calls(&self) -> u64 {
        if self.schema.name == CALL.name {
            return 1;
        }
        self.children
            .iter()
            .flat_map(|(_, nodes)| nodes)
            .map(Node::calls)
            .sum()
    }

    /// Counts what this node and those below it lack into `drift`.
    fn count(&self, drift: &mut Drift, in_call: bool, root: bool) {
        let in_call = in_call || self.schema.name == CALL.name;
        let (count, unit) = if in_call {
            (1, DriftUnit::Calls)
        } else {
            match self.calls() {
                0 => (1, DriftUnit::Pages),
                _ if root => (1, DriftUnit::Pages),
                calls => (calls, DriftUnit::Calls),
            }
        };
        for name in self.unknown.keys() {
            drift.count_field(self.schema, name, count, unit);
        }
        for found in &self.values {
            drift.count_value(self.schema, found, count, unit);
        }
        for (_, nodes) in &self.children {
            for node in nodes {
                node.count(drift, in_call, false);
            }
        }
    }
}

/// The unknown keys of one call group and of each of its calls, in order.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct GroupExtras {
    pub(crate) unknown: Map<String, Value>,
    pub(crate) calls: Vec<Map<String, Value>>,
}

/// What a page carries that the spec lacks: where it was, and counted.
#[derive(Debug)]
pub(crate) struct PageExtras {
    root: Node,
    pub(crate) drift: Drift,
}

impl PageExtras {
    /// The unknown keys of each group and each of its calls, in order.
    pub(crate) fn groups(self) -> Vec<GroupExtras> {
        let (Some(groups_field), Some(calls_field)) = (
            array_field(&APPRAISECALL_DETAILS_RESPONSE, &CALL_GROUP),
            array_field(&CALL_GROUP, &CALL),
        ) else {
            return Vec::new();
        };
        let mut root = self.root;
        take_child(&mut root, groups_field)
            .into_iter()
            .map(|mut group| GroupExtras {
                calls: take_child(&mut group, calls_field)
                    .into_iter()
                    .map(|call| call.unknown)
                    .collect(),
                unknown: group.unknown,
            })
            .collect()
    }

    /// Puts every unknown key back into `page`, the page as the generated types write it, at
    /// its place: the page as sent, but for what the generated types change in known fields.
    pub(crate) fn graft(&self, page: &mut Value) {
        graft(&self.root, page);
    }
}

fn take_child(node: &mut Node, name: &str) -> Vec<Node> {
    node.children
        .iter_mut()
        .find(|(n, _)| *n == name)
        .map(|(_, nodes)| std::mem::take(nodes))
        .unwrap_or_default()
}

fn graft(node: &Node, value: &mut Value) {
    let Value::Object(object) = value else {
        return;
    };
    for (key, unknown) in &node.unknown {
        object.entry(key.clone()).or_insert_with(|| unknown.clone());
    }
    for (name, nodes) in &node.children {
        match object.get_mut(*name) {
            Some(Value::Array(items)) => {
                for (node, item) in nodes.iter().zip(items.iter_mut()) {
                    graft(node, item);
                }
            }
            Some(item @ Value::Object(_)) => {
                if let Some(node) = nodes.first() {
                    graft(node, item);
                }
            }
            _ => {}
        }
    }
}

/// The name of the field of `schema` that holds an array of `item` objects.
fn array_field(schema: &Schema, item: &Schema) -> Option<&'static str> {
    schema.fields.iter().find_map(|f| match f.kind {
        Kind::Array(Kind::Object(s)) if s.name == item.name => Some(f.name),
        _ => None,
    })
}

/// Scans a page of `appraisecall/details` (its JSON body) for what the spec lacks. `None` when
/// the body is not a JSON object of the expected shape (the typed reading then fails too).
pub(crate) fn scan_page(body: &[u8]) -> Option<PageExtras> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let root = ObjectSeed(&APPRAISECALL_DETAILS_RESPONSE)
        .deserialize(&mut deserializer)
        .ok()??;
    deserializer.end().ok()?;
    let mut drift = Drift::default();
    root.count(&mut drift, false, true);
    Some(PageExtras { root, drift })
}

/// A map key, borrowed from the body when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Reads an object of `schema` (or `null`) into a [`Node`].
struct ObjectSeed(&'static Schema);

impl<'de> DeserializeSeed<'de> for ObjectSeed {
    type Value = Option<Node>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<Node>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed {
    type Value = Option<Node>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object of {}", self.0.name)
    }

    fn visit_unit<E>(self) -> Result<Option<Node>, E> {
        Ok(None)
    }

    fn visit_none<E>(self) -> Result<Option<Node>, E> {
        Ok(None)
    }

    // Anything else where an object of the spec belongs: the typed reading decides (it may
    // accept it, as `Paging` does); there is no key of it to keep.
    fn visit_bool<E>(self, _: bool) -> Result<Option<Node>, E> {
        Ok(None)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Option<Node>, E> {
        Ok(None)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Option<Node>, E> {
        Ok(None)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Option<Node>, E> {
        Ok(None)
    }

    fn visit_str<E>(self, _: &str) -> Result<Option<Node>, E> {
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<Node>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<Node>, A::Error> {
        let schema = self.0;
        let mut node = Node::new(schema);
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let Some(field) = schema.field(&key) else {
                let value: Value = map.next_value()?;
                node.unknown.insert(key.into_owned(), value);
                continue;
            };
            match field.kind {
                Kind::Object(inner) => {
                    let child = map.next_value_seed(ObjectSeed(inner))?;
                    node.children
                        .push((field.name, child.into_iter().collect()));
                }
                Kind::Array(Kind::Object(inner)) => {
                    let children = map.next_value_seed(ArraySeed(inner))?;
                    node.children.push((field.name, children));
                }
                _ => {
                    let enumeration = enumeration_of(schema, field);
                    if enumeration.is_none() && field.values.is_empty() {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                    let value: Value = map.next_value()?;
                    if let Some(found) = unlisted(field, enumeration, &value) {
                        node.values.push(found);
                    }
                }
            }
        }
        Ok(Some(node))
    }
}

/// The value, when it is not one the spec lists for the field (`null` is no value).
fn unlisted(
    field: &'static Field,
    enumeration: Option<&'static Enumeration>,
    value: &Value,
) -> Option<FoundValue> {
    let items: Vec<&Value> = match value {
        Value::Null => return None,
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    let odd = items.into_iter().find(|item| {
        let listed_code = enumeration.is_some_and(|e| {
            item.as_i64()
                .is_some_and(|c| e.values.iter().any(|v| v.code == c))
        });
        let listed_value = field
            .values
            .iter()
            .any(|v| serde_json::from_str::<Value>(v).is_ok_and(|v| &v == *item));
        !(listed_code || listed_value)
    })?;
    Some(FoundValue {
        field,
        enumeration,
        value: shorten(&odd.to_string()).into_owned(),
    })
}

/// Reads an array of objects of a schema (or `null`): one node per element.
struct ArraySeed(&'static Schema);

impl<'de> DeserializeSeed<'de> for ArraySeed {
    type Value = Vec<Node>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<Node>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ArraySeed {
    type Value = Vec<Node>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an array of {}", self.0.name)
    }

    fn visit_unit<E>(self) -> Result<Vec<Node>, E> {
        Ok(Vec::new())
    }

    fn visit_none<E>(self) -> Result<Vec<Node>, E> {
        Ok(Vec::new())
    }

    // Anything else where an array belongs: the typed reading decides; no key to keep.
    fn visit_bool<E>(self, _: bool) -> Result<Vec<Node>, E> {
        Ok(Vec::new())
    }

    fn visit_i64<E>(self, _: i64) -> Result<Vec<Node>, E> {
        Ok(Vec::new())
    }

    fn visit_u64<E>(self, _: u64) -> Result<Vec<Node>, E> {
        Ok(Vec::new())
    }

    fn visit_f64<E>(self, _: f64) -> Result<Vec<Node>, E> {
        Ok(Vec::new())
    }

    fn visit_str<E>(self, _: &str) -> Result<Vec<Node>, E> {
        Ok(Vec::new())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<Node>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Vec::new())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Node>, A::Error> {
        let mut nodes = Vec::new();
        while let Some(node) = seq.next_element_seed(ObjectSeed(self.0))? {
            // A `null` element keeps its place (the typed reading refuses it anyway).
            nodes.push(node.unwrap_or_else(|| Node::new(self.0)));
        }
        Ok(nodes)
    }
}

tokio::task_local! {
    static SCAN: Arc<Mutex<Option<PageExtras>>>;
}

/// Runs `request` (a page request of `appraisecall/details`) so that the client's hooks scan
/// the body of its successful answer: returns its output and the scan, if any.
pub(crate) async fn scoped<F: std::future::Future>(request: F) -> (F::Output, Option<PageExtras>) {
    let cell = Arc::new(Mutex::new(None));
    let output = SCAN.scope(cell.clone(), request).await;
    let scan = cell.lock().ok().and_then(|mut c| c.take());
    (output, scan)
}

/// Called by the hooks with the body of a successful answer of `appraisecall/details`: scans
/// it when a page request of a stream waits for it (nothing otherwise).
pub(crate) fn capture(body: &[u8]) {
    let _ = SCAN.try_with(|cell| {
        let scan = scan_page(body);
        if let Ok(mut cell) = cell.lock() {
            *cell = scan;
        }
    });
}

/// The unknown keys of a call, with those of its group: a group's key that the call also has
/// (known or not, or `call_group_id`) is kept as `call_group.<key>`.
pub(crate) fn merged(call: Map<String, Value>, group: &Map<String, Value>) -> Map<String, Value> {
    if group.is_empty() {
        return call;
    }
    let mut out = call;
    for (key, value) in group {
        let taken = out.contains_key(key) || CALL.field(key).is_some() || key == "call_group_id";
        let key = if taken {
            format!("call_group.{key}")
        } else {
            key.clone()
        };
        out.entry(key).or_insert_with(|| value.clone());
    }
    out
}

/// One page of `appraisecall/details` with what it holds that the spec does not name: made by
/// [`Client::details_page_scanned`](crate::Client::details_page_scanned), for a single page
/// (every page: [`Client::calls`](crate::Client::calls)).
#[derive(Debug)]
pub struct ScannedPage {
    page: crate::types::AppraisecallDetailsResponse,
    extras: Option<PageExtras>,
    drift: Drift,
}

impl ScannedPage {
    /// The page, as the generated types read it (without the keys the spec does not name).
    pub fn page(&self) -> &crate::types::AppraisecallDetailsResponse {
        &self.page
    }

    /// What the page held that the spec does not describe.
    pub fn drift(&self) -> &Drift {
        &self.drift
    }

    /// The page as JSON with every key the spec does not name back in its place (the page's,
    /// `paging`'s, each group's and call's): the page as sent, but for what the generated
    /// types change in the fields they know.
    pub fn to_json(&self) -> Result<Value, serde_json::Error> {
        let mut json = serde_json::to_value(&self.page)?;
        if let Some(extras) = &self.extras {
            extras.graft(&mut json);
        }
        Ok(json)
    }

    /// The page's calls, each with its [`CallRecord::unknown_fields`](crate::CallRecord).
    pub fn into_records(self) -> impl Iterator<Item = crate::CallRecord> {
        crate::CallRecord::from_scanned_page(self.page, self.extras)
    }
}

impl crate::Client {
    /// [`Client::details_page`](crate::Client::details_page), keeping what the page holds that
    /// the spec does not name: see [`ScannedPage`]. Each finding is logged (`tracing`, level
    /// `warn`, target [`DRIFT_TARGET`]).
    pub async fn details_page_scanned(
        &self,
        request: crate::types::AppraisecallDetailsRequest,
    ) -> Result<ScannedPage, crate::ApiError> {
        let (answer, extras) = scoped(self.details_answer(request)).await;
        let page = answer?.into_inner();
        let mut drift = Drift::default();
        if let Some(extras) = &extras {
            for finding in drift.merge(&extras.drift) {
                tracing::warn!(
                    target: DRIFT_TARGET,
                    %finding,
                    "appraisecall/details: the server sent what spec/ccsqm.yaml does not describe"
                );
            }
        }
        Ok(ScannedPage {
            page,
            extras,
            drift,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Scanned {
        groups: Vec<GroupExtras>,
        drift: Drift,
    }

    fn page(value: Value) -> Scanned {
        let extras = scan_page(value.to_string().as_bytes()).expect("a page");
        let drift = extras.drift.clone();
        Scanned {
            groups: extras.groups(),
            drift,
        }
    }

    #[test]
    fn grafting_puts_every_unknown_key_back_in_place() {
        let sent = json!({
            "paging": {"total": 1, "cursor": "x"},
            "request_id": "r",
            "data": [{"call_group_id": "g", "region": "eu", "calls": [{"call_uuid": "a", "z": [1]}]}]
        });
        let extras = scan_page(sent.to_string().as_bytes()).unwrap();
        let typed: crate::types::AppraisecallDetailsResponse =
            serde_json::from_value(sent.clone()).unwrap();
        let mut page = serde_json::to_value(&typed).unwrap();
        assert_ne!(page, sent);
        extras.graft(&mut page);
        assert_eq!(page, sent);
    }

    #[test]
    fn a_page_of_known_fields_has_no_drift() {
        let scan = page(json!({
            "paging": {"total": 1},
            "data": [{"call_group_id": "g", "calls": [{"call_uuid": "u", "status": 2, "call_type": 0}]}]
        }));
        assert!(scan.drift.is_empty(), "{:?}", scan.drift);
        assert_eq!(scan.groups.len(), 1);
        assert_eq!(scan.groups[0].calls, vec![Map::new()]);
    }

    #[test]
    fn unknown_keys_are_kept_per_call_and_counted() {
        let scan = page(json!({
            "paging": {"total": 3, "cursor": "x"},
            "request_id": "r",
            "data": [
                {"call_group_id": "g1", "region": "eu", "calls": [
                    {"call_uuid": "a", "sentiment": {"score": 1}},
                    {"call_uuid": "b", "sentiment": null, "tags": []}
                ]},
                {"call_group_id": "g2", "calls": [{"call_uuid": "c"}]}
            ]
        }));
        assert_eq!(
            scan.groups[0].unknown,
            json!({"region": "eu"}).as_object().unwrap().clone()
        );
        assert_eq!(
            scan.groups[0].calls[0],
            json!({"sentiment": {"score": 1}})
                .as_object()
                .unwrap()
                .clone()
        );
        assert_eq!(
            scan.groups[0].calls[1],
            json!({"sentiment": null, "tags": []})
                .as_object()
                .unwrap()
                .clone()
        );
        assert_eq!(scan.groups[1].calls[0], Map::new());
        let found: Vec<(String, String, u64, DriftUnit)> = scan
            .drift
            .fields
            .iter()
            .map(|f| (f.schema.clone(), f.name.clone(), f.count, f.unit))
            .collect();
        assert!(
            found.contains(&("Call".into(), "sentiment".into(), 2, DriftUnit::Calls)),
            "{found:?}"
        );
        assert!(found.contains(&("Call".into(), "tags".into(), 1, DriftUnit::Calls)));
        assert!(found.contains(&("CallGroup".into(), "region".into(), 2, DriftUnit::Calls)));
        assert!(found.contains(&("Paging".into(), "cursor".into(), 1, DriftUnit::Pages)));
        assert!(found.contains(&(
            "AppraisecallDetailsResponse".into(),
            "request_id".into(),
            1,
            DriftUnit::Pages
        )));
        assert_eq!(found.len(), 5);
    }

    #[test]
    fn values_the_spec_does_not_list_are_counted_by_field() {
        let unknown_status = crate::spec::enums::INSPECTION_STATUS
            .values
            .iter()
            .map(|v| v.code)
            .max()
            .unwrap()
            + 1;
        let unknown_type = 7;
        assert!(!crate::spec::enums::CALL_TYPE
            .values
            .iter()
            .any(|v| v.code == unknown_type));
        let scan = page(json!({
            "data": [{"calls": [
                {"status": unknown_status, "call_type": 0},
                {"status": unknown_status, "call_type": unknown_type},
                {"status": 2, "call_type": null}
            ]}]
        }));
        let found: Vec<(String, Option<String>, String, u64)> = scan
            .drift
            .values
            .iter()
            .map(|v| {
                (
                    v.field.clone(),
                    v.enumeration.clone(),
                    v.value.clone(),
                    v.count,
                )
            })
            .collect();
        assert_eq!(
            found,
            vec![
                (
                    "status".into(),
                    Some("InspectionStatus".into()),
                    unknown_status.to_string(),
                    2
                ),
                (
                    "call_type".into(),
                    Some("CallType".into()),
                    unknown_type.to_string(),
                    1
                ),
            ]
        );
        assert!(scan.drift.fields.is_empty());
        let text = scan.drift.to_string();
        assert!(
            text.contains(&format!(
                "value {unknown_status} of Call.status, not in InspectionStatus (2 calls)"
            )),
            "{text}"
        );
    }

    #[test]
    fn keys_with_escapes_and_terminal_controls_are_kept_whole_and_shown_safely() {
        let scan = page(json!({"data": [{"calls": [{"new\u{1b}[31m\"key": 1}]}]}));
        assert_eq!(
            scan.groups[0].calls[0].keys().next().unwrap(),
            "new\u{1b}[31m\"key"
        );
        let text = scan.drift.to_string();
        assert!(!text.contains('\u{1b}'), "{text}");
    }

    #[test]
    fn findings_are_bounded() {
        let calls: Vec<Value> = (0..(MAX_FINDINGS + 10))
            .map(|i| json!({ format!("k{i}"): i }))
            .collect();
        let scan = page(json!({"data": [{"calls": calls}]}));
        assert_eq!(scan.drift.fields.len(), MAX_FINDINGS);
        assert_eq!(scan.drift.left_out, 10);
        let mut total = Drift::default();
        let new = total.merge(&scan.drift);
        assert_eq!(new.len(), MAX_FINDINGS);
        assert!(
            total.merge(&scan.drift).is_empty(),
            "nothing new the second time"
        );
        assert_eq!(total.fields[0].count, 2);
        assert_eq!(total.left_out, 20);
    }

    #[test]
    fn a_group_key_the_call_has_is_renamed() {
        let call = json!({"x": 1}).as_object().unwrap().clone();
        let group = json!({"x": 2, "status": 3, "y": 4})
            .as_object()
            .unwrap()
            .clone();
        assert_eq!(
            Value::Object(merged(call, &group)),
            json!({"x": 1, "call_group.x": 2, "call_group.status": 3, "y": 4})
        );
    }

    #[test]
    fn not_a_page_is_none() {
        assert!(scan_page(b"[1,2]").is_none());
        assert!(scan_page(b"3").is_none());
        assert!(scan_page(b"{} x").is_none());
    }

    #[test]
    fn odd_shapes_the_typed_reading_may_accept_do_not_stop_the_scan() {
        // `Paging` reads tolerantly; a struct may come as an array: the calls' keys are kept.
        let scan = page(json!({
            "paging": "many",
            "data": [{"calls": [{"call_uuid": "a", "x": 1}]}, {"calls": null}, {"calls": 3}]
        }));
        assert_eq!(
            scan.groups[0].calls[0],
            json!({"x": 1}).as_object().unwrap().clone()
        );
        let scan = page(json!({"paging": [3], "data": [["g", []]]}));
        assert!(scan.drift.is_empty());
    }
}
