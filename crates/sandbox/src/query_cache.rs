//! The matches of recent queries, so that a page of a query already seen costs O(`limit`), not
//! O(data set).
//!
//! A query is an `appraisecall/details` request without its `page` and `limit`: every page of
//! it, at any page size, is a slice of the same list of matching positions. The first page of a
//! new query scans the calls once (a slice of them when the request has a call window) and
//! keeps the positions (4 bytes per match); the pages after it slice that list.
//!
//! The cache is bounded by entries and by bytes, and forgets the query used least recently
//! first. It holds positions in one data set: a data set that changes its calls (a live mode)
//! must [`QueryCache::clear`] it, or key it by its version, on every change.
//!
//! For a live mode (calls arriving, statuses changing over a clock), the plan: each request
//! reads one immutable version of the data (an `Arc` swapped at each tick), and the cache key
//! is the query plus that version, so matches are never reused across versions. The page
//! writer (`data/json.rs`) reads calls by position at request time and holds no state of its
//! own, so it serves any version as it is. Calls that arrive are best appended (served newest
//! first by counting from the end) so that existing positions stay valid, and changed statuses
//! kept as a small overlay of the records rather than a copy of them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ccsqm_client::types::AppraisecallDetailsRequest;

/// The most queries kept.
pub const MAX_QUERIES: usize = 64;
/// The most bytes of positions kept, over every query (a broad query of a million calls takes
/// about 3 MB).
pub const MAX_BYTES: usize = 64 << 20;

/// A query: the request as JSON with `page` and `limit` set to 1 (every field the spec adds
/// is part of it with no edit here).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct QueryKey(Vec<u8>);

impl QueryKey {
    pub fn of(request: &AppraisecallDetailsRequest) -> Self {
        let mut query = request.clone();
        query.page = std::num::NonZeroU64::MIN;
        query.limit = std::num::NonZeroU64::MIN;
        // Serializing a generated request cannot fail (strings, numbers and lists only); were
        // it to, an empty key would still be one query's key only if every such request were
        // the same query, so use the Debug text instead.
        Self(serde_json::to_vec(&query).unwrap_or_else(|_| format!("{query:?}").into_bytes()))
    }

    /// The query of `request` at a live sandbox's clock reading `now` (`None`: a frozen data
    /// set): matches are never reused across readings.
    pub fn at(request: &AppraisecallDetailsRequest, now: Option<i64>) -> Self {
        let mut key = Self::of(request);
        if let Some(now) = now {
            key.0.push(b'@');
            key.0.extend_from_slice(&now.to_le_bytes());
        }
        key
    }
}

/// The positions of the calls that match a query, in the order they are served.
pub(crate) type Matches = Arc<Vec<u32>>;

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<QueryKey, (Matches, u64)>,
    bytes: usize,
    clock: u64,
}

/// The recent queries' matches; see the module's documentation.
#[derive(Debug, Default)]
pub(crate) struct QueryCache {
    entries: Mutex<Entries>,
}

impl QueryCache {
    /// The matches of `key`, from the cache or from `scan` (then kept).
    pub fn get_or_scan(&self, key: QueryKey, scan: impl FnOnce() -> Vec<u32>) -> Matches {
        if let Some(found) = self.get(&key) {
            return found;
        }
        // Scanned outside the lock: other queries are served meanwhile.
        let matches = Arc::new(scan());
        self.insert(key, matches.clone());
        matches
    }

    fn get(&self, key: &QueryKey) -> Option<Matches> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.clock += 1;
        let now = entries.clock;
        let (matches, used) = entries.map.get_mut(key)?;
        *used = now;
        Some(matches.clone())
    }

    fn insert(&self, key: QueryKey, matches: Matches) {
        let size = Self::size(&key, &matches);
        if size > MAX_BYTES {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.clock += 1;
        let now = entries.clock;
        if let Some((old, _)) = entries.map.insert(key.clone(), (matches, now)) {
            let old_size = Self::size(&key, &old);
            entries.bytes -= old_size;
        }
        entries.bytes += size;
        while entries.map.len() > MAX_QUERIES || entries.bytes > MAX_BYTES {
            let Some(oldest) = entries
                .map
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some((gone, _)) = entries.map.remove(&oldest) {
                entries.bytes -= Self::size(&oldest, &gone);
            }
        }
    }

    fn size(key: &QueryKey, matches: &[u32]) -> usize {
        key.0.len() + std::mem::size_of_val(matches)
    }

    /// Forgets every query (for a data set whose calls change).
    #[allow(dead_code)] // for the live mode; the data sets of today never change
    pub fn clear(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.map.clear();
        entries.bytes = 0;
    }

    /// How many queries are kept.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> QueryKey {
        QueryKey(vec![n])
    }

    #[test]
    fn a_query_is_scanned_once_and_the_least_recent_goes_first() {
        let cache = QueryCache::default();
        let mut scans = 0;
        for _ in 0..3 {
            let m = cache.get_or_scan(key(0), || {
                scans += 1;
                vec![1, 2, 3]
            });
            assert_eq!(*m, [1, 2, 3]);
        }
        assert_eq!(scans, 1);
        for n in 1..=MAX_QUERIES as u8 {
            cache.get_or_scan(key(n), Vec::new);
        }
        assert_eq!(cache.len(), MAX_QUERIES);
        // Query 0 was the least recently used: scanned again.
        let mut again = false;
        cache.get_or_scan(key(0), || {
            again = true;
            vec![]
        });
        assert!(again);
        cache.clear();
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn page_and_limit_are_not_part_of_a_query() {
        let request = |page: u64, limit: u64, keyword: &str| {
            serde_json::from_value::<AppraisecallDetailsRequest>(serde_json::json!({
                "page": page, "limit": limit, "keyword": keyword, "call_types": [], "status": [],
                "upload_from": null, "upload_to": null,
            }))
            .expect("a request")
        };
        assert_eq!(
            QueryKey::of(&request(1, 10, "a")),
            QueryKey::of(&request(7, 100, "a"))
        );
        assert_ne!(
            QueryKey::of(&request(1, 10, "a")),
            QueryKey::of(&request(1, 10, "b"))
        );
    }

    /// The cache and the index give exactly what a full scan gives, for random filters and
    /// pages, whether the query is new or already kept.
    mod against_a_full_scan {
        use std::sync::OnceLock;

        use proptest::prelude::*;
        use serde_json::{json, Value};

        use crate::data::{DataSet, FIRST_CALL_TIME, SPAN_DAYS};

        fn data() -> &'static DataSet {
            static DATA: OnceLock<DataSet> = OnceLock::new();
            DATA.get_or_init(|| DataSet::generate(11, 3000))
        }

        fn codes(e: &ccsqm_client::spec::Enumeration) -> Vec<i64> {
            e.values.iter().map(|v| v.code).collect()
        }

        fn time() -> impl Strategy<Value = i64> {
            let span = (SPAN_DAYS * 86_400) as i64;
            // The vendor's calls are before the generated ones.
            (FIRST_CALL_TIME - 40 * 86_400)..(FIRST_CALL_TIME + span + 86_400)
        }

        fn window() -> impl Strategy<Value = (Option<i64>, Option<i64>)> {
            (
                proptest::option::of(time()),
                proptest::option::of(0i64..20 * 86_400),
            )
                .prop_map(|(from, len)| (from, from.zip(len).map(|(f, l)| f + l)))
        }

        fn request() -> impl Strategy<Value = Value> {
            let statuses = codes(&ccsqm_client::spec::enums::INSPECTION_STATUS);
            let types = codes(&ccsqm_client::spec::enums::CALL_TYPE);
            let agents: Vec<String> = data().agents().map(|(id, _)| id.to_owned()).collect();
            let names: Vec<String> = data().agents().map(|(_, name)| name.to_owned()).collect();
            let words: Vec<String> = crate::dialog::phrases()
                .iter()
                .flat_map(|p| p.split_whitespace().take(2))
                .map(str::to_owned)
                .collect();
            (
                proptest::sample::subsequence(statuses.clone(), 0..=statuses.len()),
                proptest::sample::subsequence(types.clone(), 0..=types.len()),
                window(),
                window(),
                proptest::option::of((0i64..600, 0i64..2000)),
                proptest::option::of(proptest::sample::select(agents)),
                proptest::option::of(proptest::sample::select(names)),
                proptest::option::of(proptest::sample::select(words)),
                (1u64..30, 1u64..150),
            )
                .prop_map(
                    |(status, types, call, upload, duration, staff, name, keyword, paging)| {
                        let mut r = json!({
                            "status": status, "call_types": types,
                            "upload_from": upload.0, "upload_to": upload.1,
                            "page": paging.0, "limit": paging.1,
                        });
                        let mut set = |k: &str, v: Value| {
                            r[k] = v;
                        };
                        if let (Some(from), Some(to)) = call {
                            set("call_from", json!(from));
                            set("call_to", json!(to));
                        }
                        if let Some((min, extra)) = duration {
                            set("duration_min", json!(min));
                            set("duration_max", json!(min + extra));
                        }
                        if let Some(staff) = staff {
                            set("staff_id", json!(staff));
                        }
                        if let Some(name) = name {
                            let part: String = name.chars().take(4).collect();
                            set("staff_name", json!(part.to_uppercase()));
                        }
                        if let Some(keyword) = keyword {
                            set("keyword", json!(keyword));
                        }
                        r
                    },
                )
        }

        fn answer(
            r: Result<ccsqm_client::types::AppraisecallDetailsResponse, crate::InvalidRequest>,
        ) -> Result<Value, crate::InvalidRequest> {
            r.map(|page| serde_json::to_value(page).expect("a response serializes"))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(200))]
            #[test]
            fn every_page_of_every_query_is_a_full_scans(
                body in request(),
                other_pages in proptest::collection::vec((1u64..40, 1u64..200), 1..4),
            ) {
                let data = data();
                // The query, and the same query with one field left out in turn: a cache key
                // that missed a field would serve one's pages for the other.
                let mut bodies = vec![body.clone()];
                for field in ["keyword", "staff_id", "staff_name", "duration_min", "duration_max",
                              "call_from", "call_to"] {
                    if let Some(map) = body.as_object().filter(|m| m.contains_key(field)) {
                        let mut map = map.clone();
                        map.remove(field);
                        bodies.push(Value::Object(map));
                    }
                }
                for (field, empty) in [("upload_from", Value::Null), ("upload_to", Value::Null),
                                       ("status", json!([])), ("call_types", json!([]))] {
                    if body[field] != empty {
                        let mut other = body.clone();
                        other[field] = empty;
                        bodies.push(other);
                    }
                }
                let mut requests = Vec::new();
                for round in 0..2 {
                    for body in &bodies {
                        let first: ccsqm_client::types::AppraisecallDetailsRequest =
                            serde_json::from_value(body.clone()).expect("a valid request body");
                        requests.push(first.clone());
                        for &(page, limit) in &other_pages {
                            let mut r = first.clone();
                            r.page = std::num::NonZeroU64::new(page + round).expect("page >= 1");
                            r.limit = std::num::NonZeroU64::new(limit).expect("limit >= 1");
                            requests.push(r);
                        }
                    }
                }
                for r in &requests {
                    prop_assert_eq!(answer(data.details(r)), answer(data.details_by_scan(r)));
                    // What the sandbox sends: the typed answer, written straight as JSON.
                    let sent = data.details_json(r).map_err(|e| e.to_string());
                    let typed = data.details(r).map(|page| {
                        serde_json::to_vec(&page).expect("a response serializes")
                    });
                    match (sent, typed) {
                        (Ok(sent), Ok(typed)) => {
                            let value = |b: &[u8]| serde_json::from_slice::<Value>(b).ok();
                            prop_assert_eq!(value(&sent), value(&typed));
                            if !crate::data::writes_every_field() {
                                continue;
                            }
                            prop_assert_eq!(
                                String::from_utf8_lossy(&sent),
                                String::from_utf8_lossy(&typed)
                            );
                        }
                        (Err(sent), Err(typed)) => prop_assert_eq!(sent, typed.to_string()),
                        (sent, typed) => prop_assert!(false, "{sent:?} against {typed:?}"),
                    }
                }
            }
        }
    }
}
