//! What the sync tests share: `ccsqm sync` against a sandbox, the sandbox's calls as a sync
//! stores them, and a database compared with them.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use ccsqm_sandbox::Sandbox;
use serde_json::{Map, Value};

use super::ccsqm;
use super::databases::{assert_row_is_call, Backend, BOOKKEEPING};

/// `ccsqm sync` against `sandbox`, with its app key and secret, into `db`.
pub fn sync_cmd(sandbox: &Sandbox, db: &str) -> Command {
    let credentials = sandbox.credentials();
    let mut cmd = ccsqm();
    cmd.env("CCSQM_BASE_URL", sandbox.base_url())
        .env("CCSQM_USER_ID", &credentials.user_id)
        .env("CCSQM_APP_KEY", &credentials.app_key)
        .env("CCSQM_APP_SECRET", credentials.app_secret.expose())
        .args(["sync", "--db", db]);
    cmd
}

/// The sandbox's calls by `call_uuid`, as `ccsqm details -o ndjson` writes them.
pub fn sandbox_calls(sandbox: &Sandbox) -> BTreeMap<String, Map<String, Value>> {
    let data = sandbox.data();
    (0..data.len())
        .map(|i| {
            let record = ccsqm_client::CallRecord {
                call_group_id: data.call_group_id(i),
                call: data.call(i).unwrap(),
                ..Default::default()
            };
            let Value::Object(object) = serde_json::to_value(record).unwrap() else {
                unreachable!()
            };
            (object["call_uuid"].as_str().unwrap().to_owned(), object)
        })
        .collect()
}

/// The database holds exactly the sandbox's calls, every field equal (absent fields NULL), and
/// each once.
pub fn assert_equal(backend: &Backend, sandbox: &Sandbox) {
    let expected = sandbox_calls(sandbox);
    let mut stored: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for row in backend.rows("calls") {
        let key = row["call_uuid"].as_str().unwrap().to_owned();
        let name = backend.name();
        assert!(
            stored.insert(key.clone(), row).is_none(),
            "{name}: call {key} is stored twice"
        );
    }
    assert_eq!(
        stored.len(),
        expected.len(),
        "{}: {} calls stored, the sandbox has {}",
        backend.name(),
        stored.len(),
        expected.len()
    );
    for (key, call) in &expected {
        let row = stored
            .get(key)
            .unwrap_or_else(|| panic!("{}: call {key} is missing", backend.name()));
        for column in BOOKKEEPING {
            let value = &row[column];
            assert!(value.as_i64().is_some(), "{column} of {key}: {value}");
        }
        assert_row_is_call(backend, key, row, call, "");
    }
}

/// Polls `done` (an event, not a duration) until it holds; fails if `ended` first, or after
/// `limit`.
pub fn wait_until(limit: Duration, done: impl Fn() -> bool, mut ended: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(!ended(), "the process ended before the awaited state");
        assert!(started.elapsed() < limit, "the awaited state never came");
        std::thread::sleep(Duration::from_millis(20));
    }
}
