//! Helpers shared by the tests that run the `ccsqm` binary.

#![allow(dead_code)] // each test file uses its own part

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// `ccsqm` with a clean environment: no CCSQM_* variables, no config file, UTC.
pub fn ccsqm() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ccsqm"));
    for (name, _) in std::env::vars() {
        if name.starts_with("CCSQM_") {
            cmd.env_remove(name);
        }
    }
    let nowhere = std::env::temp_dir().join("ccsqm-tests-no-config");
    cmd.env("XDG_CONFIG_HOME", &nowhere)
        .env("HOME", &nowhere)
        .env("TZ", "UTC")
        .env("COLUMNS", "100");
    cmd
}

/// A fixture of the workspace's `tests/fixtures/`, as JSON.
pub fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The `call_uuid` of each line of NDJSON output.
pub fn uuids_of_ndjson(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["call_uuid"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}
