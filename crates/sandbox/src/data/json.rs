//! A page of `appraisecall/details` written as JSON straight from the compact records, into one
//! buffer sized for it: no [`Call`] and no `String` per call.
//!
//! The typed path stays the definition of the answer: [`DataSet::details`] builds each [`Call`]
//! (the fields the sandbox generates, then every other field of the spec filled from its schema
//! by `fill_call_from_schema`) and serde serializes them. This writer must give the same bytes;
//! the tests below compare the two for every call of a data set and for random queries. The
//! values come from the same place on both paths ([`DataSet::fields`]); scalars are written by
//! serde_json's own serializer, so numbers and strings are formatted as on the typed path.
//!
//! A field the spec adds, which this writer does not know ([`WRITTEN`]), is not dropped: each
//! call's unknown fields are taken from the typed path ([`DataSet::schema_only_fields`]) and
//! written after the known ones (the answer is then the typed path's value for value, its keys
//! in another order), until the writer is taught the field.

use std::sync::LazyLock;

use ccsqm_client::spec::schemas::CALL;
use ccsqm_client::types::{AppraisecallDetailsRequest, Call};
use serde::Serializer as _;

use super::digits::{write_decimal, write_i64, write_u64};
use super::{CallFields, DataSet, Fields, InvalidRequest};

/// The JSON names of the fields [`write_generated`] writes, in the order it writes them (the
/// order of the generated [`Call`]'s fields, which serde follows).
pub(super) const WRITTEN: [&str; 23] = [
    "call_id",
    "call_time",
    "call_type",
    "call_uuid",
    "complain_status",
    "create_time",
    "deal",
    "duration",
    "file_name",
    "inspect_status",
    "left_channel",
    "left_silence_time",
    "left_speech_ratio",
    "left_speed",
    "review_status",
    "right_channel",
    "right_silence_time",
    "right_speech_ratio",
    "right_speed",
    "staff_id",
    "staff_name",
    "status",
    "upload_time",
];

/// Whether the spec's `Call` has a field this writer does not know: then each call's
/// [`DataSet::schema_only_fields`] are written too.
static SCHEMA_ONLY: LazyLock<bool> =
    LazyLock::new(|| CALL.fields.iter().any(|f| !WRITTEN.contains(&f.name)));

/// Whether the writer writes every field of the spec's `Call` itself (then its answer is the
/// typed path's byte for byte).
#[cfg(test)]
pub(crate) fn writes_every_field() -> bool {
    !*SCHEMA_ONLY
}

/// About the bytes of one call's JSON (about 650 today): the buffer's first size.
const CALL_BYTES: usize = 720;

/// Why [`DataSet::details_json`] gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum DetailsError {
    /// The request was refused (HTTP 400).
    #[error(transparent)]
    Invalid(#[from] InvalidRequest),
    /// serde_json failed to write a value (not expected: the values are numbers and text).
    #[error("writing the answer's JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl DataSet {
    /// [`DataSet::details`] as the JSON the sandbox sends: the same answer, byte for byte, written
    /// straight from the data set.
    pub fn details_json(
        &self,
        request: &AppraisecallDetailsRequest,
    ) -> Result<Vec<u8>, DetailsError> {
        self.details_json_as(request, None)
    }

    /// [`DataSet::details_at`] as JSON: what a live sandbox sends at the clock reading `now`.
    pub fn details_json_at(
        &self,
        request: &AppraisecallDetailsRequest,
        now: i64,
    ) -> Result<Vec<u8>, DetailsError> {
        self.details_json_as(request, Some(now))
    }

    pub(crate) fn details_json_as(
        &self,
        request: &AppraisecallDetailsRequest,
        now: Option<i64>,
    ) -> Result<Vec<u8>, DetailsError> {
        let (matches, page) = self.page(request, now)?;
        let positions = &matches[page];
        let mut out = Vec::with_capacity(64 + positions.len() * CALL_BYTES);
        out.push(b'{');
        if !positions.is_empty() {
            out.extend_from_slice(b"\"data\":[");
            let groups = Groups::of(positions, |p| self.records[p as usize].group);
            for n in 0..groups.len() {
                if n > 0 {
                    out.push(b',');
                }
                self.write_group(&mut out, groups.calls(n), now)?;
            }
            out.extend_from_slice(b"],");
        }
        out.extend_from_slice(b"\"paging\":{\"total\":");
        write_u64(&mut out, matches.len() as u64);
        out.extend_from_slice(b"}}");
        Ok(out)
    }

    /// A `CallGroup`: its `call_group_id` (of its first call) and its calls.
    fn write_group(
        &self,
        out: &mut Vec<u8>,
        calls: impl Iterator<Item = u32> + Clone,
        now: Option<i64>,
    ) -> serde_json::Result<()> {
        let Some(first) = calls.clone().next() else {
            return Ok(());
        };
        out.push(b'{');
        if let Some(id) = self.call_group_id_str(first as usize) {
            out.extend_from_slice(b"\"call_group_id\":");
            match id {
                GroupId::Vendor(id) => write_str(out, id)?,
                GroupId::Generated(uuid) => write_uuid(out, &uuid),
            }
            out.push(b',');
        }
        out.extend_from_slice(b"\"calls\":[");
        for (n, position) in calls.enumerate() {
            if n > 0 {
                out.push(b',');
            }
            self.write_call(out, position as usize, now)?;
        }
        out.extend_from_slice(b"]}");
        Ok(())
    }

    /// The `call_group_id` of call `index`, borrowed or as UUID text.
    fn call_group_id_str(&self, index: usize) -> Option<GroupId<'_>> {
        let r = self.records.get(index)?;
        if r.vendor > 0 {
            return self
                .vendor_calls
                .get(usize::from(r.vendor - 1))
                .map(|(group, _)| GroupId::Vendor(group));
        }
        Some(GroupId::Generated(self.uuid_ascii(r.group as usize)))
    }

    /// Call `index` as [`DataSet::call`] serializes.
    fn write_call(
        &self,
        out: &mut Vec<u8>,
        index: usize,
        now: Option<i64>,
    ) -> serde_json::Result<()> {
        match self.fields(index, now) {
            None => Ok(()),
            Some(Fields::Vendor(call)) => serde_json::to_writer(&mut *out, call),
            Some(Fields::Generated(fields)) => {
                let agents = self
                    .agents_json
                    .get_or_init(|| self.agents.iter().map(StaffJson::of).collect());
                let staff = agents.get(fields.agent).and_then(Option::as_ref);
                write_generated(out, &fields, staff)?;
                if *SCHEMA_ONLY {
                    let extra = serde_json::to_vec(&self.schema_only_fields(index))?;
                    append_fields(out, &extra);
                }
                Ok(())
            }
        }
    }

    /// The fields of call `index` that only the spec's schemas fill (those [`DataSet::call`]
    /// leaves to `fill_call_from_schema`), the others unset: empty while the writer knows every
    /// field of the spec.
    pub(super) fn schema_only_fields(&self, index: usize) -> Call {
        // The fields [`CallFields`] holds are set (to values that allocate nothing), so that
        // only the others are filled, then unset again. While these are all the fields the
        // spec has, the updates are needless, and allowed to be.
        #[allow(clippy::needless_update)]
        let mut call = Call {
            call_id: Some(String::new()),
            call_time: Some(0),
            call_type: Some(0),
            call_uuid: Some(String::new()),
            complain_status: Some(0),
            create_time: Some(0),
            deal: Some(0.0),
            duration: Some(0.0),
            file_name: Some(String::new()),
            inspect_status: Some(0),
            left_channel: Some(String::new()),
            left_silence_time: Some(0.0),
            left_speech_ratio: Some(0.0),
            left_speed: Some(0.0),
            review_status: Some(0),
            right_channel: Some(String::new()),
            right_silence_time: Some(0.0),
            right_speech_ratio: Some(0.0),
            right_speed: Some(0.0),
            staff_id: Some(String::new()),
            staff_name: Some(String::new()),
            status: Some(0),
            upload_time: Some(0),
            ..Call::default()
        };
        crate::generated::fill_call_from_schema(&mut call, self.schema_key(index));
        #[allow(clippy::needless_update)]
        Call {
            call_id: None,
            call_time: None,
            call_type: None,
            call_uuid: None,
            complain_status: None,
            create_time: None,
            deal: None,
            duration: None,
            file_name: None,
            inspect_status: None,
            left_channel: None,
            left_silence_time: None,
            left_speech_ratio: None,
            left_speed: None,
            review_status: None,
            right_channel: None,
            right_silence_time: None,
            right_speech_ratio: None,
            right_speed: None,
            staff_id: None,
            staff_name: None,
            status: None,
            upload_time: None,
            ..call
        }
    }
}

/// A `call_group_id`: the vendor's, or a generated call's UUID.
enum GroupId<'a> {
    Vendor(&'a str),
    Generated(super::Uuid),
}

/// A UUID between quotes (hexadecimal digits and hyphens: nothing to escape).
///
/// (Not through a quoted copy on the stack: copying that whole right after writing its parts
/// stalls, as the copy's reads span several of the writes before it; under load the stall was
/// two fifths of [`write_generated`]'s time.)
fn write_uuid(out: &mut Vec<u8>, uuid: &super::Uuid) {
    out.push(b'"');
    out.extend_from_slice(&uuid.0);
    out.push(b'"');
}

/// A serializer of one JSON value onto `out` (compact, as `serde_json::to_vec`).
fn json(out: &mut Vec<u8>) -> serde_json::Serializer<&mut Vec<u8>> {
    serde_json::Serializer::new(out)
}

/// Adds the fields of the JSON object `extra` to the object that ends `out`.
fn append_fields(out: &mut Vec<u8>, extra: &[u8]) {
    let inner = extra
        .strip_prefix(b"{")
        .and_then(|e| e.strip_suffix(b"}"))
        .filter(|inner| !inner.is_empty());
    if let (Some(inner), Some(b'}')) = (inner, out.last()) {
        out.pop();
        out.push(b',');
        out.extend_from_slice(inner);
        out.push(b'}');
    }
}

/// A generated call's fields ([`WRITTEN`], in that order) as a JSON object.
///
/// `staff` is `"staff_id":…,"staff_name":…` of the call's agent, when written already.
fn write_generated(
    out: &mut Vec<u8>,
    f: &CallFields<'_>,
    staff: Option<&StaffJson>,
) -> serde_json::Result<()> {
    out.extend_from_slice(b"{\"call_id\":");
    write_uuid(out, &f.uuid);
    out.extend_from_slice(b",\"call_time\":");
    write_i64(out, f.call_time);
    out.extend_from_slice(b",\"call_type\":");
    write_i64(out, f.call_type);
    out.extend_from_slice(b",\"call_uuid\":");
    write_uuid(out, &f.uuid);
    out.extend_from_slice(b",\"complain_status\":");
    write_i64(out, f.complain_status);
    out.extend_from_slice(b",\"create_time\":");
    write_i64(out, f.create_time);
    // The fractional values are whole numbers of hundredths, thousandths, ten-thousandths.
    out.extend_from_slice(b",\"deal\":");
    write_decimal::<1>(out, f.deal.0);
    out.extend_from_slice(b",\"duration\":");
    write_decimal::<100>(out, f.duration.0);
    // ASCII letters, digits, `-` and `.`: nothing to escape.
    out.extend_from_slice(b",\"file_name\":\"");
    f.file_name.write(out);
    out.extend_from_slice(b"\",\"inspect_status\":");
    write_i64(out, f.inspect_status);
    out.extend_from_slice(b",\"left_channel\":");
    write_channel(out, f.left_channel)?;
    out.extend_from_slice(b",\"left_silence_time\":");
    write_decimal::<100>(out, f.left_silence_time.0);
    out.extend_from_slice(b",\"left_speech_ratio\":");
    write_decimal::<10_000>(out, f.left_speech_ratio.0);
    out.extend_from_slice(b",\"left_speed\":");
    write_decimal::<1000>(out, f.left_speed.0);
    out.extend_from_slice(b",\"review_status\":");
    write_i64(out, f.review_status);
    out.extend_from_slice(b",\"right_channel\":");
    write_channel(out, f.right_channel)?;
    out.extend_from_slice(b",\"right_silence_time\":");
    write_decimal::<100>(out, f.right_silence_time.0);
    out.extend_from_slice(b",\"right_speech_ratio\":");
    write_decimal::<10_000>(out, f.right_speech_ratio.0);
    out.extend_from_slice(b",\"right_speed\":");
    write_decimal::<1000>(out, f.right_speed.0);
    out.push(b',');
    match staff {
        Some(staff) => staff.write(out),
        None => {
            out.extend_from_slice(b"\"staff_id\":");
            write_str(out, f.staff_id)?;
            out.extend_from_slice(b",\"staff_name\":");
            write_str(out, f.staff_name)?;
        }
    }
    out.extend_from_slice(b",\"status\":");
    write_i64(out, f.status);
    out.extend_from_slice(b",\"upload_time\":");
    write_i64(out, f.upload_time);
    out.push(b'}');
    Ok(())
}

/// The bytes of [`StaffJson`]'s slot: room for an 19-digit `staff_id` and a `staff_name` of
/// some 45 bytes, more than the generated names take.
const STAFF_JSON: usize = 96;

/// An agent's `"staff_id":…,"staff_name":…`, written once, in a slot of fixed size: the
/// slots of every agent lie side by side (one read per call, from a table that stays in the
/// cache), and each is copied whole, then cut (no copy of variable size).
pub(super) struct StaffJson {
    text: [u8; STAFF_JSON],
    len: usize,
}

impl StaffJson {
    /// The text of `agent`'s fields, if it fits a slot (else `None`: the call's fields are then
    /// written one by one).
    fn of(agent: &super::Agent) -> Option<Self> {
        let mut staff = b"\"staff_id\":".to_vec();
        write_str(&mut staff, &agent.id).ok()?;
        staff.extend_from_slice(b",\"staff_name\":");
        write_str(&mut staff, &agent.name).ok()?;
        let mut text = [0; STAFF_JSON];
        text.get_mut(..staff.len())?.copy_from_slice(&staff);
        Some(Self {
            text,
            len: staff.len(),
        })
    }

    fn write(&self, out: &mut Vec<u8>) {
        let at = out.len();
        out.extend_from_slice(&self.text);
        out.truncate(at + self.len);
    }
}

/// A channel's speaker, `staff` or `customer`, as [`write_str`] writes it: each a copy of
/// fixed size.
fn write_channel(out: &mut Vec<u8>, channel: &str) -> serde_json::Result<()> {
    match channel {
        "staff" => out.extend_from_slice(b"\"staff\""),
        "customer" => out.extend_from_slice(b"\"customer\""),
        other => write_str(out, other)?,
    }
    Ok(())
}

/// A string as serde_json writes it: as is between quotes when it has nothing to escape (no
/// `"`, `\\` or control character, the only characters serde_json escapes), else by serde_json.
fn write_str(out: &mut Vec<u8>, text: &str) -> serde_json::Result<()> {
    if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
        Ok(())
    } else {
        json(out).serialize_str(text)
    }
}

/// The calls of a page grouped as the typed path groups them (`DataSet::group`): by their
/// group, groups in order of their first call, calls in page order.
struct Groups<'a> {
    positions: &'a [u32],
    /// `group << 32 | place in the page`, sorted: each group's calls together, in page order.
    by_group: Vec<u64>,
    /// Each group's run of `by_group`, ordered by the place of its first call.
    runs: Vec<std::ops::Range<usize>>,
}

impl<'a> Groups<'a> {
    /// Groups `positions` by `group`.
    fn of(positions: &'a [u32], group: impl Fn(u32) -> u32) -> Self {
        let mut by_group: Vec<u64> = positions
            .iter()
            .enumerate()
            .map(|(place, &p)| u64::from(group(p)) << 32 | place as u64)
            .collect();
        by_group.sort_unstable();
        // Each run starts at its group's first call: placed there, the runs come in order of
        // their first calls with no second sort.
        let mut at_place: Vec<Option<std::ops::Range<usize>>> = vec![None; positions.len()];
        let mut start = 0;
        for n in 1..=by_group.len() {
            if n == by_group.len() || by_group[n] >> 32 != by_group[start] >> 32 {
                let first = (by_group[start] & u64::from(u32::MAX)) as usize;
                if let Some(slot) = at_place.get_mut(first) {
                    *slot = Some(start..n);
                }
                start = n;
            }
        }
        Self {
            positions,
            by_group,
            runs: at_place.into_iter().flatten().collect(),
        }
    }

    fn len(&self) -> usize {
        self.runs.len()
    }

    /// The positions of group `n`'s calls, in page order.
    fn calls(&self, n: usize) -> impl Iterator<Item = u32> + Clone + '_ {
        let run = self.runs.get(n).cloned().unwrap_or(0..0);
        self.by_group[run]
            .iter()
            .map(|&key| self.positions[(key & u64::from(u32::MAX)) as usize])
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    /// Call `index` by the writer.
    fn written(data: &DataSet, index: usize) -> Vec<u8> {
        let mut out = Vec::new();
        data.write_call(&mut out, index, None)
            .expect("a call is written");
        out
    }

    /// Every call of a data set (the vendor's and generated ones, of every type, status and
    /// channel layout), by the writer and by serde from [`DataSet::call`]: the same bytes (the
    /// same values, keys in another order, when the spec has a field the writer does not know).
    #[test]
    fn every_call_is_written_as_serde_writes_the_typed_call() {
        for (seed, calls) in [(1, 3000), (0xDEAD_BEEF, 500)] {
            let data = DataSet::generate(seed, calls);
            for index in 0..data.len() {
                let typed = serde_json::to_vec(&data.call(index)).expect("a call serializes");
                let fast = written(&data, index);
                if *SCHEMA_ONLY {
                    let value = |b: &[u8]| serde_json::from_slice::<Value>(b).expect("JSON");
                    assert_eq!(value(&fast), value(&typed), "call {index} of seed {seed}");
                } else {
                    assert_eq!(
                        String::from_utf8_lossy(&fast),
                        String::from_utf8_lossy(&typed),
                        "call {index} of seed {seed}"
                    );
                }
            }
        }
    }

    /// The fields the writer leaves to the typed path are exactly those it does not write:
    /// together, every field of the typed call, none twice.
    #[test]
    fn the_schema_only_fields_are_the_ones_not_written() {
        let data = DataSet::generate(3, 100);
        for index in (0..data.len()).filter(|&i| data.records[i].vendor == 0) {
            let typed = serde_json::to_value(data.call(index)).expect("a call serializes");
            let extra = serde_json::to_value(data.schema_only_fields(index)).expect("serializes");
            let (Value::Object(typed), Value::Object(extra)) = (typed, extra) else {
                panic!("calls are objects");
            };
            for key in typed.keys() {
                assert!(
                    WRITTEN.contains(&key.as_str()) != extra.contains_key(key),
                    "{key}: written by the writer and by the schema, or by neither"
                );
            }
            assert_eq!(extra.is_empty(), !*SCHEMA_ONLY);
        }
    }

    fn serde(value: impl serde::Serialize) -> String {
        serde_json::to_string(&value).expect("serializes")
    }

    proptest::proptest! {
        #[test]
        fn strings_are_written_as_serde_json_writes_them(text in ".*", ascii in "[ -~]*") {
            for text in [text, ascii] {
                let mut out = Vec::new();
                write_str(&mut out, &text).expect("written");
                proptest::prop_assert_eq!(String::from_utf8(out).expect("UTF-8"), serde(&text));
            }
        }
    }

    #[test]
    fn fields_only_the_schema_fills_are_added_to_the_call() {
        let mut out = br#"[{"a":1}"#.to_vec();
        append_fields(&mut out, br#"{"b":"x","c":2.5}"#);
        assert_eq!(out, br#"[{"a":1,"b":"x","c":2.5}"#);
        append_fields(&mut out, b"{}");
        assert_eq!(out, br#"[{"a":1,"b":"x","c":2.5}"#);
    }

    /// The typed path's grouping: a group's calls together, groups in order of their first call.
    #[test]
    fn calls_are_grouped_in_order_of_first_appearance() {
        let positions = [10, 11, 12, 13, 14, 15];
        let group = |p: u32| [7, 3, 7, 9, 3, 1][p as usize - 10];
        let groups = Groups::of(&positions, group);
        let listed: Vec<Vec<u32>> = (0..groups.len())
            .map(|n| groups.calls(n).collect())
            .collect();
        assert_eq!(listed, [vec![10, 12], vec![11, 14], vec![13], vec![15]]);
        assert_eq!(Groups::of(&[], group).len(), 0);
    }
}
