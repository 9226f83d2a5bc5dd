//! The data set: a seeded, deterministic list of calls, stored compactly, and the query engine of
//! `appraisecall/details` over it.

use std::cmp::Reverse;
use std::collections::HashSet;
use std::sync::OnceLock;

use ccsqm_client::types::{AppraisecallDetailsResponse, Call};

use crate::anchor::civil_from_days;
pub use crate::anchor::{FIRST_CALL_TIME, SPAN_DAYS};
use crate::asr;
use crate::dialog;
use crate::query_cache::{Matches, QueryCache, QueryKey};
use crate::rng::{mix, SplitMix64};
use crate::Anchor;

mod digits;
mod json;
mod live;

#[cfg(test)]
pub(crate) use json::writes_every_field;
pub use json::DetailsError;

/// Default number of generated calls (the six calls of the vendor's example come on top).
pub const DEFAULT_CALLS: usize = 10_000;
/// The most generated calls a data set may hold.
pub const MAX_CALLS: usize = 10_000_000;

/// The vendor's example response (`fixtures/vendor-example.json`, a copy of the workspace's
/// `tests/fixtures/seed-response.json` kept inside the crate for `cargo package`), whose six calls are
/// always part of the data set, verbatim.
pub const VENDOR_EXAMPLE: &str = include_str!("../fixtures/vendor-example.json");

/// The documented call types and inspection statuses come from the spec
/// (`ccsqm_client::spec::enums`): a value added there is generated and filtered here with no
/// edit. Records keep codes as `u8` (a test checks that every documented code fits).
const CALL_TYPES: &ccsqm_client::spec::Enumeration = &ccsqm_client::spec::enums::CALL_TYPE;
const STATUSES: &ccsqm_client::spec::Enumeration = &ccsqm_client::spec::enums::INSPECTION_STATUS;

/// The call types the generator gives a behaviour of its own (chats last longer, are slower).
const VOICE: u8 = 0;
const TEXT: u8 = 2;

/// How often generated calls have a status (per 10 000, before normalising): most succeed; a
/// status the spec adds later gets the weight of the rare failures.
fn status_weight(variant: &str) -> u32 {
    match variant {
        "InspectionSucceeded" => 7000,
        "WaitingForInspection" => 500,
        "InspectionInProgress" | "AsrInProgress" | "InspectionFailed" => 300,
        _ => 160,
    }
}

/// Calls per hour of the day, UTC: the contact centre works 09:00-21:00 China time.
const HOUR_WEIGHTS: [u32; 24] = [
    20, 60, 90, 100, 100, 80, 70, 90, 100, 90, 70, 50, 30, 15, 8, 5, 3, 2, 2, 2, 3, 5, 8, 12,
];

/// Call duration, in seconds: (lowest, highest, weight).
const DURATIONS: [(u64, u64, u32); 7] = [
    (10, 30, 5),
    (30, 60, 10),
    (60, 120, 20),
    (120, 240, 27),
    (240, 480, 23),
    (480, 900, 10),
    (900, 1800, 5),
];

const FIRST_NAMES: &[&str] = &[
    "Wei", "Fang", "Na", "Min", "Jing", "Lei", "Yan", "Jun", "Tao", "Xin", "Hui", "Ming", "Ying",
    "Chen", "Anna", "Lucas", "Sofia", "Omar", "Priya", "Carlos",
];
const LAST_NAMES: &[&str] = &[
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma",
    "Zhu", "Hu", "Garcia", "Silva", "Khan", "Novak", "Müller",
];

const FLAG_LEFT_IS_STAFF: u8 = 1;
const FLAG_DEAL: u8 = 2;

/// One call, compactly: 48 bytes. Ids, texts and fractional values are derived on demand.
#[derive(Clone, Copy, Debug)]
struct Record {
    call_time: i64,
    /// `upload_time - call_time`, in seconds.
    upload_delay: u32,
    /// Duration in hundredths of a second.
    duration_cs: u32,
    /// Speeds in thousandths.
    left_speed_m: u32,
    right_speed_m: u32,
    /// Position of the call whose `call_uuid` is this call's `call_group_id`.
    group: u32,
    /// Speech ratios in ten-thousandths.
    left_ratio_bp: u16,
    right_ratio_bp: u16,
    agent: u16,
    call_type: u8,
    status: u8,
    flags: u8,
    /// 0 for a generated call, `k + 1` for call `k` of the vendor's example.
    vendor: u8,
    phrases: [u8; dialog::LINES],
}

#[derive(Debug)]
struct Agent {
    id: String,
    name: String,
    name_lowercase: String,
}

/// The calls the sandbox serves, in the order it serves them.
///
/// Calls are identified by their position in that order (`0..len()`). The data is fixed by the
/// seed and the number of generated calls: the same `(seed, calls)` gives the same data set, on
/// any machine, with any version of the dependencies. (A new version of *this* crate may change
/// it; the change would be said in its changelog.)
pub struct DataSet {
    seed: u64,
    anchor: Anchor,
    generated: usize,
    records: Vec<Record>,
    agents: Vec<Agent>,
    vendor_calls: Vec<(String, Call)>,
    /// `(hash of call_uuid, position)`, sorted: built on the first lookup by UUID.
    by_uuid: OnceLock<Vec<(u64, u32)>>,
    /// Each agent's `"staff_id":…,"staff_name":…` as JSON: built on the first page written.
    agents_json: OnceLock<Vec<Option<json::StaffJson>>>,
    /// The matches of recent queries.
    queries: QueryCache,
}

impl std::fmt::Debug for DataSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataSet")
            .field("seed", &self.seed)
            .field("anchor", &self.anchor)
            .field("generated", &self.generated)
            .field("calls", &self.records.len())
            .field("agents", &self.agents.len())
            .finish()
    }
}

/// Why an `appraisecall/details` request was refused (HTTP 400): a short reason naming the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidRequest(pub String);

impl DataSet {
    /// Generates `calls` calls from `seed`, plus the six calls of the vendor's example, at the
    /// earliest anchor ([`Anchor::EARLIEST`]: calls from [`FIRST_CALL_TIME`] on). `calls` is
    /// capped at [`MAX_CALLS`].
    pub fn generate(seed: u64, calls: usize) -> Self {
        Self::generate_at(seed, calls, Anchor::EARLIEST)
    }

    /// Generates `calls` calls from `seed` on the [`SPAN_DAYS`] days before `anchor`, plus the
    /// six calls of the vendor's example. `calls` is capped at [`MAX_CALLS`].
    pub fn generate_at(seed: u64, calls: usize, anchor: Anchor) -> Self {
        let calls = calls.min(MAX_CALLS);
        // Whole days: the hours of the contact centre stay; the weekends follow the dates.
        let shift_days = anchor.days_after_earliest();
        let mut rng = SplitMix64::new(seed);
        let agents = agents(&mut rng, calls);
        let statuses: Vec<u8> = STATUSES.values.iter().map(|v| code_u8(v.code)).collect();
        let weights: Vec<u32> = STATUSES
            .values
            .iter()
            .map(|v| status_weight(v.variant))
            .collect();
        // Call types other than voice and text, each given to one early group.
        let other_types: Vec<u8> = CALL_TYPES
            .values
            .iter()
            .map(|v| code_u8(v.code))
            .filter(|c| ![VOICE, TEXT].contains(c))
            .collect();
        let mut records = Vec::with_capacity(calls + 6);
        let mut groups: Vec<u32> = Vec::with_capacity(calls + 6);

        let mut group_number = 0u64;
        while records.len() < calls {
            let size = match rng.below(100) {
                0..=89 => 1,
                90..=97 => 2,
                _ => 3,
            }
            .min(calls - records.len());
            let call_type = match group_number {
                0 => VOICE,
                1 => TEXT,
                n if ((n - 2) as usize) < other_types.len() => other_types[(n - 2) as usize],
                _ if rng.chance(2000) => TEXT,
                _ => VOICE,
            };
            group_number += 1;
            let first = records.len() as u32;
            let mut time = start_time(&mut rng, shift_days);
            let mut previous_agent = None;
            for k in 0..size {
                let record = generated_call(
                    &mut rng,
                    time,
                    call_type,
                    k > 0,
                    &agents,
                    previous_agent,
                    (&statuses, &weights),
                );
                time += i64::from(record.duration_cs / 100) + rng.range(5, 60) as i64;
                previous_agent = Some(record.agent);
                records.push(record);
                groups.push(first);
            }
        }
        // Every documented status appears as soon as there are as many calls.
        for (record, &status) in records.iter_mut().zip(statuses.iter()) {
            record.status = status;
        }

        let vendor_calls = vendor_calls();
        for (k, (_, call)) in vendor_calls.iter().enumerate() {
            groups.push(records.len() as u32);
            records.push(vendor_record(k, call));
        }

        // Newest call first; ties in generation order: the records sorted in place (no second
        // copy of the data set), each holding its place in generation order meanwhile. Then
        // groups point at positions.
        for (i, record) in records.iter_mut().enumerate() {
            record.group = i as u32;
        }
        records.sort_unstable_by_key(|r| (Reverse(r.call_time), r.group));
        let mut position = vec![0u32; records.len()];
        for (pos, record) in records.iter().enumerate() {
            position[record.group as usize] = pos as u32;
        }
        for record in &mut records {
            record.group = position[groups[record.group as usize] as usize];
        }
        drop((groups, position));
        Self {
            seed,
            anchor,
            generated: calls,
            records,
            agents,
            vendor_calls,
            by_uuid: OnceLock::new(),
            agents_json: OnceLock::new(),
            queries: QueryCache::default(),
        }
    }

    /// The position of the call whose `call_uuid` is `call_uuid` (exactly), if any. The first
    /// lookup builds an index of the data set (12 bytes a call).
    pub fn position(&self, call_uuid: &str) -> Option<usize> {
        let index = self.by_uuid.get_or_init(|| {
            let mut index: Vec<(u64, u32)> = (0..self.len())
                .filter_map(|i| Some((uuid_hash(&self.call_uuid(i)?), i as u32)))
                .collect();
            index.sort_unstable();
            index
        });
        let key = uuid_hash(call_uuid);
        let first = index.partition_point(|&(k, _)| k < key);
        index[first..]
            .iter()
            .take_while(|&&(k, _)| k == key)
            .map(|&(_, i)| i as usize)
            .find(|&i| self.call_uuid(i).as_deref() == Some(call_uuid))
    }

    /// The `call_uuid` of call `index`.
    fn call_uuid(&self, index: usize) -> Option<String> {
        let r = self.records.get(index)?;
        if r.vendor > 0 {
            return self
                .vendor_calls
                .get(usize::from(r.vendor - 1))
                .and_then(|(_, call)| call.call_uuid.clone());
        }
        Some(self.uuid(index))
    }

    /// The seed the data set was generated from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The anchor of the generated calls: the day they lead up to.
    pub fn anchor(&self) -> Anchor {
        self.anchor
    }

    /// The number of generated calls (the data set holds six more: the vendor's example).
    pub fn generated(&self) -> usize {
        self.generated
    }

    /// The number of calls.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the data set holds no call (never: the vendor's six calls are always there).
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The agents calls are assigned to, as `(staff_id, staff_name)`. The first one is the
    /// agent of the vendor's example (`1600226440112042215`, named `*****`), who takes only the
    /// vendor's six calls.
    pub fn agents(&self) -> impl Iterator<Item = (&str, &str)> {
        self.agents.iter().map(|a| (a.id.as_str(), a.name.as_str()))
    }

    /// Call `index` as the API returns it.
    pub fn call(&self, index: usize) -> Option<Call> {
        self.call_as(index, None)
    }

    /// Every call of the data set as the API returns it (a frozen sandbox serves exactly
    /// these), in the data set's order, with its `call_group_id`: what a test compares a
    /// client's results with. Made one at a time (a large data set is never held whole).
    ///
    /// ```
    /// let data = ccsqm_sandbox::DataSet::generate(1, 50);
    /// assert_eq!(data.calls().count(), data.len());
    /// let succeeded = data
    ///     .calls()
    ///     .filter(|(_, call)| call.status == Some(2))
    ///     .count();
    /// assert!(succeeded > 0);
    /// ```
    pub fn calls(&self) -> impl Iterator<Item = (String, Call)> + '_ {
        (0..self.len()).filter_map(|index| Some((self.call_group_id(index)?, self.call(index)?)))
    }

    /// Call `index` as a live sandbox answers at the clock reading `now` (Unix seconds): `None`
    /// when it is not uploaded yet; its status the one it has reached, and its metrics (speech
    /// ratios, silence times, speeds, `deal`) 0 until it reaches its final status.
    pub fn call_at(&self, index: usize, now: i64) -> Option<Call> {
        self.call_as(index, Some(now))
    }

    fn call_as(&self, index: usize, now: Option<i64>) -> Option<Call> {
        let f = match self.fields(index, now)? {
            Fields::Vendor(call) => return Some(call.clone()),
            Fields::Generated(f) => f,
        };
        let uuid = f.uuid.as_str().to_owned();
        // While the fields below are all the spec has, the update is needless, and allowed to be.
        #[allow(clippy::needless_update)]
        let mut call = Call {
            call_id: Some(uuid.clone()),
            call_time: Some(f.call_time),
            call_type: Some(f.call_type),
            call_uuid: Some(uuid),
            complain_status: Some(f.complain_status),
            create_time: Some(f.create_time),
            deal: Some(f.deal.get()),
            duration: Some(f.duration.get()),
            file_name: Some(f.file_name.to_string()),
            inspect_status: Some(f.inspect_status),
            left_channel: Some(f.left_channel.to_owned()),
            left_silence_time: Some(f.left_silence_time.get()),
            left_speech_ratio: Some(f.left_speech_ratio.get()),
            left_speed: Some(f.left_speed.get()),
            review_status: Some(f.review_status),
            right_channel: Some(f.right_channel.to_owned()),
            right_silence_time: Some(f.right_silence_time.get()),
            right_speech_ratio: Some(f.right_speech_ratio.get()),
            right_speed: Some(f.right_speed.get()),
            staff_id: Some(f.staff_id.to_owned()),
            staff_name: Some(f.staff_name.to_owned()),
            status: Some(f.status),
            upload_time: Some(f.upload_time),
            ..Call::default()
        };
        // Every field the spec adds later is served from its schema.
        crate::generated::fill_call_from_schema(&mut call, self.schema_key(index));
        Some(call)
    }

    /// The key of call `index`'s values drawn from the spec's schemas
    /// ([`crate::generated::fill_call_from_schema`]).
    fn schema_key(&self, index: usize) -> u64 {
        index as u64 ^ self.seed
    }

    /// The values of call `index`, borrowed from the data set: what [`DataSet::call`] makes a
    /// [`Call`] of, and what the page writer ([`json`]) writes as JSON with no allocation.
    /// With a clock reading `now` (a live sandbox), as the call is then: `None` before its
    /// upload ([`live`]).
    fn fields(&self, index: usize, now: Option<i64>) -> Option<Fields<'_>> {
        let r = self.records.get(index)?;
        let state = now.map(|now| self.live_state(r, now));
        if state == Some(live::LiveState::NotYet) {
            return None;
        }
        if r.vendor > 0 {
            return self
                .vendor_calls
                .get(usize::from(r.vendor - 1))
                .map(|(_, call)| Fields::Vendor(call));
        }
        let agent = self.agents.get(usize::from(r.agent))?;
        let (left_channel, right_channel) = if r.flags & FLAG_LEFT_IS_STAFF != 0 {
            ("staff", "customer")
        } else {
            ("customer", "staff")
        };
        let silence = |ratio_bp: u16| {
            Decimal(u64::from(r.duration_cs) * (10_000 - u64::from(ratio_bp)) / 10_000)
        };
        let mut fields = CallFields {
            uuid: self.uuid_ascii(index),
            call_time: r.call_time,
            call_type: i64::from(r.call_type),
            complain_status: -1,
            create_time: r.call_time,
            deal: Decimal(u64::from(r.flags & FLAG_DEAL != 0)),
            duration: Decimal(u64::from(r.duration_cs)),
            file_name: FileName(r, index),
            inspect_status: 0,
            left_channel,
            left_silence_time: silence(r.left_ratio_bp),
            left_speech_ratio: Decimal(u64::from(r.left_ratio_bp)),
            left_speed: Decimal(u64::from(r.left_speed_m)),
            review_status: -1,
            right_channel,
            right_silence_time: silence(r.right_ratio_bp),
            right_speech_ratio: Decimal(u64::from(r.right_ratio_bp)),
            right_speed: Decimal(u64::from(r.right_speed_m)),
            agent: usize::from(r.agent),
            staff_id: &agent.id,
            staff_name: &agent.name,
            status: i64::from(r.status),
            upload_time: r.call_time + i64::from(r.upload_delay),
        };
        if let Some(live::LiveState::InProgress(status)) = state {
            fields.in_progress(status);
        }
        Some(Fields::Generated(fields))
    }

    /// The `call_group_id` of call `index`.
    pub fn call_group_id(&self, index: usize) -> Option<String> {
        let r = self.records.get(index)?;
        if r.vendor > 0 {
            return self
                .vendor_calls
                .get(usize::from(r.vendor - 1))
                .map(|(group, _)| group.clone());
        }
        Some(self.uuid(r.group as usize))
    }

    /// The dialog text of call `index`, which `keyword` searches when the call has a transcript
    /// (a call without one matches no keyword): six lines, agent and customer in turn.
    pub fn dialog(&self, index: usize) -> Option<String> {
        self.records.get(index).map(|r| dialog::text(&r.phrases))
    }

    /// Answers an `appraisecall/details` request: checks it, filters, orders, pages and groups.
    /// (The sandbox serves [`DataSet::details_json`], the same answer written as JSON directly.)
    pub fn details(
        &self,
        request: &ccsqm_client::types::AppraisecallDetailsRequest,
    ) -> Result<AppraisecallDetailsResponse, InvalidRequest> {
        self.details_as(request, None)
    }

    /// [`DataSet::details`] as a live sandbox answers at the clock reading `now`: from the calls
    /// uploaded by then, each as it is then ([`DataSet::call_at`]).
    pub fn details_at(
        &self,
        request: &ccsqm_client::types::AppraisecallDetailsRequest,
        now: i64,
    ) -> Result<AppraisecallDetailsResponse, InvalidRequest> {
        self.details_as(request, Some(now))
    }

    fn details_as(
        &self,
        request: &ccsqm_client::types::AppraisecallDetailsRequest,
        now: Option<i64>,
    ) -> Result<AppraisecallDetailsResponse, InvalidRequest> {
        let (matches, page) = self.page(request, now)?;
        let page: Vec<usize> = matches[page].iter().map(|&p| p as usize).collect();
        Ok(AppraisecallDetailsResponse {
            data: self.group(&page, now),
            paging: Some(ccsqm_client::Paging {
                total: Some(matches.len() as i64),
            }),
        })
    }

    /// The matches of `request`'s query (every page of it), and which of them its page holds.
    /// With a clock reading `now` (a live sandbox), the matches at that reading: they are kept
    /// under the query and the reading, so that the pages of one reading agree.
    fn page(
        &self,
        request: &ccsqm_client::types::AppraisecallDetailsRequest,
        now: Option<i64>,
    ) -> Result<(Matches, std::ops::Range<usize>), InvalidRequest> {
        let filter = Filter::new(self, request, now)?;
        // A `limit` above the maximum is clamped: every request the spec allows is answered.
        let limit = request.limit.get().min(MAX_LIMIT);
        let skip = (request.page.get() - 1).saturating_mul(limit);
        // Every page of a query slices the same matches: scanned once, then kept.
        let matches = self
            .queries
            .get_or_scan(QueryKey::at(request, now), || self.scan(request, &filter));
        let start = usize::try_from(skip)
            .unwrap_or(usize::MAX)
            .min(matches.len());
        let end = start
            .saturating_add(usize::try_from(limit).unwrap_or(usize::MAX))
            .min(matches.len());
        Ok((matches, start..end))
    }

    /// The positions of every call that `filter` (of `request`) matches, in order: a scan of
    /// the calls of the request's call window (calls are sorted by call time, newest first, so
    /// the window is a slice).
    fn scan(
        &self,
        request: &ccsqm_client::types::AppraisecallDetailsRequest,
        filter: &Filter,
    ) -> Vec<u32> {
        let start = match request.call_to {
            Some(to) => self.records.partition_point(|r| r.call_time > to),
            None => 0,
        };
        let end = match request.call_from {
            Some(from) => self.records.partition_point(|r| r.call_time >= from),
            None => self.records.len(),
        };
        let window = &self.records[start..end.max(start)];
        window
            .iter()
            .enumerate()
            .filter(|(_, record)| filter.matches(record))
            .map(|(offset, _)| (start + offset) as u32)
            .collect()
    }

    /// `details` by a full scan of the calls, with no cache: what the cache must agree with.
    #[cfg(test)]
    pub(crate) fn details_by_scan(
        &self,
        request: &ccsqm_client::types::AppraisecallDetailsRequest,
    ) -> Result<AppraisecallDetailsResponse, InvalidRequest> {
        let filter = Filter::new(self, request, None)?;
        let limit = request.limit.get();
        let skip = (request.page.get() - 1).saturating_mul(limit);
        let mut total = 0u64;
        let mut page = Vec::new();
        for (pos, record) in self.records.iter().enumerate() {
            let in_window = request.call_to.is_none_or(|to| record.call_time <= to)
                && request
                    .call_from
                    .is_none_or(|from| record.call_time >= from);
            if in_window && filter.matches(record) {
                if total >= skip && total - skip < limit {
                    page.push(pos);
                }
                total += 1;
            }
        }
        Ok(AppraisecallDetailsResponse {
            data: self.group(&page, None),
            paging: Some(ccsqm_client::Paging {
                total: Some(total as i64),
            }),
        })
    }

    /// The calls at `positions`, grouped by `call_group_id` in order of first appearance.
    fn group(&self, positions: &[usize], now: Option<i64>) -> Vec<ccsqm_client::types::CallGroup> {
        let mut groups: Vec<(u32, ccsqm_client::types::CallGroup)> = Vec::new();
        for &pos in positions {
            let Some(call) = self.call_as(pos, now) else {
                continue;
            };
            let key = self.records[pos].group;
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, group)) => group.calls.push(call),
                None => groups.push((
                    key,
                    ccsqm_client::types::CallGroup {
                        call_group_id: self.call_group_id(pos),
                        calls: vec![call],
                    },
                )),
            }
        }
        groups.into_iter().map(|(_, g)| g).collect()
    }

    /// The deterministic UUID (version 4 layout) of call `index`: its `call_id` and `call_uuid`.
    fn uuid(&self, index: usize) -> String {
        self.uuid_ascii(index).as_str().to_owned()
    }

    /// [`DataSet::uuid`] as its 36 ASCII characters, with no allocation.
    fn uuid_ascii(&self, index: usize) -> Uuid {
        let key = mix(self.seed ^ 0x00C0_FFEE_5EED_0000);
        let a = mix(key.wrapping_add(2 * index as u64));
        let b = mix(key.wrapping_add(2 * index as u64 + 1));
        let a = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000;
        let b = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
        // "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}" of these five parts.
        let parts = [
            (a >> 32, 8),
            ((a >> 16) & 0xFFFF, 4),
            (a & 0xFFFF, 4),
            (b >> 48, 4),
            (b & 0xFFFF_FFFF_FFFF, 12),
        ];
        let mut text = [b'-'; 36];
        let mut at = 0;
        for (value, digits) in parts {
            for d in 0..digits {
                let nibble = (value >> (4 * (digits - 1 - d))) & 0xF;
                text[at + d] = b"0123456789abcdef"[nibble as usize];
            }
            at += digits + 1;
        }
        Uuid(text)
    }
}

/// A call's UUID as text (hexadecimal digits and hyphens).
#[derive(Clone, Copy)]
struct Uuid([u8; 36]);

impl Uuid {
    fn as_str(&self) -> &str {
        // Hex digits and hyphens only: always UTF-8.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// What a call's values are made of: the vendor's call, verbatim, or a generated record's.
// A short-lived value on the stack: boxing the large variant would allocate for every call.
#[allow(clippy::large_enum_variant)]
enum Fields<'a> {
    Vendor(&'a Call),
    Generated(CallFields<'a>),
}

/// The values of a generated call, one per field of [`Call`] the sandbox generates itself
/// (a field the spec adds is filled from its schema: [`crate::generated::fill_call_from_schema`]).
struct CallFields<'a> {
    uuid: Uuid,
    call_time: i64,
    call_type: i64,
    complain_status: i64,
    create_time: i64,
    deal: Decimal<1>,
    duration: Decimal<100>,
    file_name: FileName<'a>,
    inspect_status: i64,
    left_channel: &'static str,
    left_silence_time: Decimal<100>,
    left_speech_ratio: Decimal<10_000>,
    left_speed: Decimal<1000>,
    review_status: i64,
    right_channel: &'static str,
    right_silence_time: Decimal<100>,
    right_speech_ratio: Decimal<10_000>,
    right_speed: Decimal<1000>,
    /// The agent's place in [`DataSet::agents`].
    agent: usize,
    staff_id: &'a str,
    staff_name: &'a str,
    status: i64,
    upload_time: i64,
}

/// A value the records hold as a whole number of `1 / SCALE` (a power of ten): the API's
/// number is the `f64` nearest to `units / SCALE`, and the page writer writes the units' own
/// digits ([`json`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Decimal<const SCALE: u64>(u64);

impl<const SCALE: u64> Decimal<SCALE> {
    const ZERO: Self = Self(0);

    /// The number, as the typed path serves it.
    fn get(self) -> f64 {
        self.0 as f64 / SCALE as f64
    }
}

/// The codes a request asks for, as a record keeps them (`u8`).
struct CodeSet([u64; 4]);

impl CodeSet {
    fn of(codes: impl Iterator<Item = i64>) -> Self {
        let mut set = [0u64; 4];
        for code in codes.filter_map(|c| u8::try_from(c).ok()) {
            set[usize::from(code / 64)] |= 1 << (code % 64);
        }
        Self(set)
    }

    fn contains(&self, code: u8) -> bool {
        self.0[usize::from(code / 64)] & (1 << (code % 64)) != 0
    }
}

/// A checked request, ready to test calls against.
struct Filter {
    types: CodeSet,
    statuses: CodeSet,
    upload_from: Option<i64>,
    upload_to: Option<i64>,
    duration_min_cs: Option<i64>,
    duration_max_cs: Option<i64>,
    agents: Option<Vec<bool>>,
    keyword: Keyword,
    /// A live sandbox's clock reading and the data set's seed: calls uploaded later do not
    /// match, and the status compared is the one reached then.
    live: Option<(i64, u64)>,
}

enum Keyword {
    Any,
    /// Which phrases contain the keyword (a keyword without a line break lies within a line).
    Phrases(Vec<bool>),
    /// A keyword spanning lines: compared with the whole text.
    Text(String),
}

/// The sandbox's own maximum of `limit` (the vendor's is undocumented): a larger `limit` is
/// answered as this one.
pub const MAX_LIMIT: u64 = 1000;

impl Filter {
    fn new(
        data: &DataSet,
        req: &ccsqm_client::types::AppraisecallDetailsRequest,
        now: Option<i64>,
    ) -> Result<Self, InvalidRequest> {
        // Every field of the request, by name and with no `..`: a field added to the spec fails
        // to compile here ("pattern does not mention field `...`") until the sandbox implements
        // it below, or lists it here as `field: _` with the reason it is ignored.
        let ccsqm_client::types::AppraisecallDetailsRequest {
            call_from: _, // with call_to: a slice of the calls, ordered by time (`details`)
            call_to: _,
            call_types: _,
            duration_max: _,
            duration_min: _,
            keyword: _,
            limit: _, // paging: `details`
            page: _,
            staff_id: _,
            staff_name: _,
            status: _,
            upload_from: _,
            upload_to: _,
        } = req;
        let invalid = |s: String| Err(InvalidRequest(s));
        // The generated type holds `page` and `limit` as unsigned 64-bit numbers; the spec says
        // int64.
        for (name, value) in [("page", req.page), ("limit", req.limit)] {
            if value.get() > i64::MAX as u64 {
                return invalid(format!(
                    "{name}: {value} is above the int64 maximum of the spec"
                ));
            }
        }
        for (name, value) in [
            ("duration_min", req.duration_min),
            ("duration_max", req.duration_max),
        ] {
            if let Some(v) = value.filter(|v| *v < 0) {
                return invalid(format!("{name}: {v} is negative"));
            }
        }
        // A window whose bounds are reversed (`call_from` after `call_to`, and so on) is valid
        // and matches nothing: the filters below find no call in it.

        let types = CodeSet::of(req.call_types.iter().map(|t| **t));
        let statuses = CodeSet::of(req.status.iter().map(|s| **s));

        let name = req.staff_name.as_ref().map(|n| n.to_lowercase());
        let agents = (req.staff_id.is_some() || name.is_some()).then(|| {
            data.agents
                .iter()
                .map(|a| {
                    req.staff_id.as_ref().is_none_or(|id| *id == a.id)
                        && name.as_ref().is_none_or(|n| a.name_lowercase.contains(n))
                })
                .collect()
        });

        let keyword = match &req.keyword {
            None => Keyword::Any,
            // Every text contains the empty keyword, even that of a call without a transcript:
            // no filter (the vendor's handling of it is undocumented).
            Some(k) if k.is_empty() => Keyword::Any,
            Some(k) if k.contains('\n') => Keyword::Text(k.to_lowercase()),
            Some(k) => {
                let k = k.to_lowercase();
                Keyword::Phrases(
                    dialog::phrases_lowercase()
                        .iter()
                        .map(|p| p.contains(&k))
                        .collect(),
                )
            }
        };

        Ok(Self {
            types,
            statuses,
            upload_from: req.upload_from,
            upload_to: req.upload_to,
            duration_min_cs: req.duration_min.map(|d| d.saturating_mul(100)),
            duration_max_cs: req.duration_max.map(|d| d.saturating_mul(100)),
            agents,
            keyword,
            live: now.map(|now| (now, data.seed)),
        })
    }

    fn matches(&self, r: &Record) -> bool {
        let upload = r.call_time + i64::from(r.upload_delay);
        let duration = i64::from(r.duration_cs);
        let status = match self.live.map(|(now, seed)| live::state(seed, r, now)) {
            None | Some(live::LiveState::Final) => r.status,
            Some(live::LiveState::InProgress(status)) => status,
            Some(live::LiveState::NotYet) => return false,
        };
        self.types.contains(r.call_type)
            && self.statuses.contains(status)
            && self.upload_from.is_none_or(|from| upload >= from)
            && self.upload_to.is_none_or(|to| upload <= to)
            && self.duration_min_cs.is_none_or(|min| duration >= min)
            && self.duration_max_cs.is_none_or(|max| duration <= max)
            && self
                .agents
                .as_ref()
                .is_none_or(|a| a.get(usize::from(r.agent)).copied().unwrap_or(false))
            && match &self.keyword {
                Keyword::Any => true,
                // A keyword is searched in the call's transcript: a call without one (a text
                // chat, or a status without an ASR result, as it is at the clock's reading) has
                // no text, and matches no keyword.
                _ if !asr::has_transcript_code(r.call_type, status) => false,
                Keyword::Phrases(hit) => r
                    .phrases
                    .iter()
                    .any(|&p| hit.get(usize::from(p)).copied().unwrap_or(false)),
                Keyword::Text(k) => dialog::text(&r.phrases).to_lowercase().contains(k),
            }
    }
}

fn agents(rng: &mut SplitMix64, calls: usize) -> Vec<Agent> {
    let count = (calls / 400).clamp(12, 2000);
    let mut seen = HashSet::new();
    let mut agents = vec![Agent {
        id: "1600226440112042215".to_owned(),
        name: "*****".to_owned(),
        name_lowercase: "*****".to_owned(),
    }];
    seen.insert(agents[0].id.clone());
    while agents.len() <= count {
        let id = format!("16{:017}", rng.below(100_000_000_000_000_000));
        let first = FIRST_NAMES[rng.below(FIRST_NAMES.len() as u64) as usize];
        let last = LAST_NAMES[rng.below(LAST_NAMES.len() as u64) as usize];
        if seen.insert(id.clone()) {
            let name = format!("{first} {last}");
            agents.push(Agent {
                id,
                name_lowercase: name.to_lowercase(),
                name,
            });
        }
    }
    agents
}

/// When a group's first call starts: a day of the span (fewer at weekends), an hour by the
/// contact centre's load, any second of it. The span starts `shift_days` days after
/// [`FIRST_CALL_TIME`].
fn start_time(rng: &mut SplitMix64, shift_days: i64) -> i64 {
    let mut day = rng.below(SPAN_DAYS);
    // FIRST_CALL_TIME is a Friday: days 1 and 2 of each week after it are the weekend.
    let weekend = |day: u64| matches!((day as i64 + shift_days).rem_euclid(7), 1 | 2);
    if weekend(day) && rng.chance(6000) {
        day = rng.below(SPAN_DAYS);
    }
    let hour = rng.weighted(&HOUR_WEIGHTS) as u64;
    FIRST_CALL_TIME + shift_days * 86_400 + (day * 86_400 + hour * 3600 + rng.below(3600)) as i64
}

fn generated_call(
    rng: &mut SplitMix64,
    call_time: i64,
    call_type: u8,
    transferred: bool,
    agents: &[Agent],
    previous_agent: Option<u16>,
    (statuses, weights): (&[u8], &[u32]),
) -> Record {
    let (lo, hi, _) = DURATIONS[rng.weighted(&DURATIONS.map(|d| d.2))];
    let mut duration_cs = rng.range(lo * 100, hi * 100) as u32;
    if call_type == TEXT {
        // Chats last longer and are mostly waiting.
        duration_cs = duration_cs.saturating_mul(2);
    }
    let talk_bp = if call_type == TEXT {
        rng.range(1500, 4500)
    } else {
        rng.range(4500, 9500)
    };
    let staff_bp = (talk_bp * rng.range(3500, 6500) / 10_000) as u16;
    let customer_bp = talk_bp as u16 - staff_bp;
    let (staff_speed, customer_speed) = if call_type == TEXT {
        (rng.range(60_000, 140_000), rng.range(30_000, 110_000))
    } else {
        (rng.range(180_000, 330_000), rng.range(150_000, 340_000))
    };
    let left_is_staff = rng.chance(1000);
    let mut agent = rng.range(1, agents.len() as u64 - 1) as u16;
    if Some(agent) == previous_agent {
        agent = if usize::from(agent) + 1 < agents.len() {
            agent + 1
        } else {
            1
        };
    }
    let upload_after = match rng.weighted(&[60, 30, 10]) {
        0 => rng.range(30, 600),
        1 => rng.range(600, 3600),
        _ => rng.range(3600, 6 * 3600),
    };
    let mut flags = 0;
    if left_is_staff {
        flags |= FLAG_LEFT_IS_STAFF;
    }
    if rng.chance(6500) {
        flags |= FLAG_DEAL;
    }
    let (left_ratio_bp, right_ratio_bp, left_speed_m, right_speed_m) = if left_is_staff {
        (staff_bp, customer_bp, staff_speed, customer_speed)
    } else {
        (customer_bp, staff_bp, customer_speed, staff_speed)
    };
    Record {
        call_time,
        upload_delay: duration_cs.div_ceil(100) + upload_after as u32,
        duration_cs,
        left_speed_m: left_speed_m as u32,
        right_speed_m: right_speed_m as u32,
        group: 0,
        left_ratio_bp,
        right_ratio_bp,
        agent,
        call_type,
        status: statuses[rng.weighted(weights)],
        flags,
        vendor: 0,
        phrases: dialog::choose(rng, transferred),
    }
}

/// FNV-1a of a `call_uuid`, the key of [`DataSet::position`]'s index.
fn uuid_hash(uuid: &str) -> u64 {
    uuid.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A documented code as a record keeps it (a test checks that every one fits).
fn code_u8(code: i64) -> u8 {
    u8::try_from(code).unwrap_or(u8::MAX)
}

/// The six calls of the vendor's example response, with their `call_group_id`.
fn vendor_calls() -> Vec<(String, Call)> {
    let example: AppraisecallDetailsResponse =
        serde_json::from_str(VENDOR_EXAMPLE).expect("the vendor's example is a valid response");
    example
        .data
        .into_iter()
        .flat_map(|g| {
            let id = g.call_group_id.unwrap_or_default();
            g.calls.into_iter().map(move |c| (id.clone(), c))
        })
        .collect()
}

/// The filterable values of vendor call `k`, from its verbatim fields.
fn vendor_record(k: usize, call: &Call) -> Record {
    let centi = |v: Option<f64>| (v.unwrap_or(0.0) * 100.0).round() as u32;
    let mut rng = SplitMix64::new(k as u64);
    Record {
        call_time: call.call_time.unwrap_or(0),
        upload_delay: (call.upload_time.unwrap_or(0) - call.call_time.unwrap_or(0)).max(0) as u32,
        duration_cs: centi(call.duration),
        left_speed_m: 0,
        right_speed_m: 0,
        group: 0,
        left_ratio_bp: 0,
        right_ratio_bp: 0,
        agent: 0,
        call_type: call.call_type.unwrap_or(0) as u8,
        status: call.status.unwrap_or(0) as u8,
        flags: 0,
        vendor: k as u8 + 1,
        phrases: dialog::choose(&mut rng, false),
    }
}

/// The `file_name` of a generated call (its record and position): a recording or a chat
/// transcript named by its date, `rec-YYYYMMDD-HHMMSS-NNNNNN.wav` or `chat-….txt`.
#[derive(Clone, Copy)]
struct FileName<'a>(&'a Record, usize);

impl FileName<'_> {
    /// Appends the name (ASCII letters, digits and punctuation only) to `out`.
    fn write(&self, out: &mut Vec<u8>) {
        let FileName(r, index) = *self;
        let (y, m, d) = civil_from_days(r.call_time.div_euclid(86_400));
        let secs = r.call_time.rem_euclid(86_400);
        if !(0..=9999).contains(&y) {
            // A year of more than four digits, or before year 0: as `format!` pads it.
            let (prefix, suffix) = if r.call_type == TEXT {
                ("chat-", ".txt")
            } else {
                ("rec-", ".wav")
            };
            let name = format!(
                "{prefix}{y:04}{m:02}{d:02}-{:02}{:02}{:02}-{:06}{suffix}",
                secs / 3600,
                secs / 60 % 60,
                secs % 60,
                index % 1_000_000
            );
            out.extend_from_slice(name.as_bytes());
            return;
        }
        // `{prefix}{y:04}{m:02}{d:02}-{HH}{MM}{SS}-{index:06}{suffix}`: a template of fixed
        // size appended (no copy of variable size), its digits set in place two at a time,
        // then cut. (Not built in an array and copied: the copy would wait on the writes of
        // the digits just before it, as store forwarding fails.)
        const CHAT: &[u8; 31] = b"chat-00000000-000000-000000.txt";
        const REC: &[u8; 31] = b"rec-00000000-000000-000000.wav ";
        let (template, len) = if r.call_type == TEXT {
            (CHAT, 31)
        } else {
            (REC, 30)
        };
        let at = out.len();
        out.extend_from_slice(template);
        let stem = at + len - 26;
        // Unsigned from here (the year is 0 to 9999, the second of the day not negative):
        // cheaper divisions.
        let (y, m, d, secs) = (y as usize, m as usize, d as usize, secs as usize);
        let index = index % 1_000_000;
        let pairs = [
            (y / 100, 0),
            (y % 100, 2),
            (m, 4),
            (d, 6),
            (secs / 3600, 9),
            (secs / 60 % 60, 11),
            (secs % 60, 13),
            (index / 10_000, 16),
            (index / 100 % 100, 18),
            (index % 100, 20),
        ];
        for (pair, place) in pairs {
            let digits = digits::PAIRS[pair % 100].to_le_bytes();
            if let Some(slot) = out.get_mut(stem + place..stem + place + 2) {
                slot.copy_from_slice(&digits);
            }
        }
        out.truncate(at + len);
    }
}

impl std::fmt::Display for FileName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut text = Vec::with_capacity(32);
        self.write(&mut text);
        f.write_str(&String::from_utf8_lossy(&text))
    }
}

/// The calls of a data set as a person would describe them: how many, from when to when.
impl DataSet {
    /// The call times of the generated calls, first and last (`None` without generated calls).
    /// They all come after the vendor's example calls.
    pub fn generated_call_times(&self) -> Option<(i64, i64)> {
        let last = self.generated().checked_sub(1)?;
        let time = |i: usize| self.call(i).and_then(|c| c.call_time);
        // Newest first: the generated calls come before the vendor's older ones.
        Some((time(last)?, time(0)?))
    }

    /// The call times of the six calls of the vendor's example, first and last.
    pub fn vendor_call_times(&self) -> Option<(i64, i64)> {
        let time = |i: usize| self.call(i).and_then(|c| c.call_time);
        Some((time(self.len().checked_sub(1)?)?, time(self.generated())?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_code_fits_a_record() {
        for e in [CALL_TYPES, STATUSES] {
            for v in e.values {
                assert!(
                    u8::try_from(v.code).is_ok(),
                    "{} {} ({}) of spec/ccsqm.yaml does not fit the sandbox's u8 codes: widen \
                     Record's call_type/status in crates/sandbox/src/data.rs",
                    e.name,
                    v.code,
                    v.variant
                );
            }
        }
    }

    #[test]
    fn record_is_compact() {
        assert!(std::mem::size_of::<Record>() <= 48);
    }

    /// FNV-1a over every call, group ID and dialog of a data set: a fingerprint of its data.
    fn fingerprint(data: &DataSet) -> u64 {
        let mut hash = 0xcbf2_9ce4_8422_2325u64;
        for i in 0..data.len() {
            let text = format!(
                "{}|{:?}|{:?}",
                serde_json::to_string(&data.call(i)).unwrap_or_default(),
                data.call_group_id(i),
                data.dialog(i)
            );
            for byte in text.bytes() {
                hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        hash
    }

    /// The seed -> data promise: this changes only when the generator is changed on purpose
    /// (and the change is then said in the changelog).
    #[test]
    fn the_data_of_a_seed_does_not_change() {
        assert_eq!(
            fingerprint(&DataSet::generate(1, 500)),
            9_077_325_440_447_939_819
        );
    }

    #[test]
    fn calls_are_newest_first_and_groups_point_at_their_first_call() {
        let data = DataSet::generate(2, 1000);
        assert!(data
            .records
            .windows(2)
            .all(|w| w[0].call_time >= w[1].call_time));
        for (pos, r) in data.records.iter().enumerate() {
            let first = &data.records[r.group as usize];
            assert_eq!(first.group as usize, r.group as usize, "call {pos}");
            assert!(first.call_time <= r.call_time);
        }
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(FIRST_CALL_TIME / 86_400), (2021, 6, 18));
    }

    #[test]
    fn same_seed_same_data() {
        let a = DataSet::generate(7, 200);
        let b = DataSet::generate(7, 200);
        let c = DataSet::generate(8, 200);
        let calls = |d: &DataSet| (0..d.len()).map(|i| d.call(i)).collect::<Vec<_>>();
        assert_eq!(calls(&a), calls(&b));
        assert_ne!(calls(&a), calls(&c));
    }

    #[test]
    fn generated_values_are_consistent() {
        let data = DataSet::generate(1, 2000);
        assert_eq!(data.len(), 2006);
        let mut statuses = HashSet::new();
        let mut types = HashSet::new();
        for i in 0..data.len() {
            let c = data.call(i).expect("a call");
            statuses.insert(c.status);
            types.insert(c.call_type);
            let duration = c.duration.unwrap_or_default();
            for (ratio, silence) in [
                (c.left_speech_ratio, c.left_silence_time),
                (c.right_speech_ratio, c.right_silence_time),
            ] {
                let (ratio, silence) = (ratio.unwrap_or_default(), silence.unwrap_or_default());
                assert!((0.0..=1.0).contains(&ratio));
                assert!(
                    (duration * (1.0 - ratio) - silence).abs() < 0.02,
                    "call {i}"
                );
            }
            assert!(
                c.left_speech_ratio.unwrap_or_default() + c.right_speech_ratio.unwrap_or_default()
                    <= 1.0
            );
            assert!(c.upload_time >= c.call_time);
        }
        assert_eq!(statuses.len(), STATUSES.values.len());
        assert_eq!(types.len(), 2);
    }
}
