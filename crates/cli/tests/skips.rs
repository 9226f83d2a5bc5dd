//! A test that cannot run says "skipped" and why, and is never reported as passed unasked:
//! without a PostgreSQL server, a test of the sync's databases fails, naming `cargo xtask test`;
//! with `CCSQM_TEST_ALLOW_SKIP=1` it passes, still saying it skipped. This file's binary runs
//! its own PostgreSQL test again without a server (`--exact`), both ways.
//!
//! Run them with `cargo xtask test -p ccsqm-cli --test skips`.

mod common;

use std::process::{Command, Output};

use common::databases::{backends, psql, Backend, ALLOW_SKIP_ENV, POSTGRES_ENV};

/// A test of both databases (as every sync test is): SQLite always, PostgreSQL from the server.
#[test]
fn a_test_of_both_databases() {
    let mut names = Vec::new();
    for backend in backends("skips_both") {
        names.push(backend.name());
        if let Backend::Postgres { url } = &backend {
            assert_eq!(psql(url, "SELECT 1").trim(), "1");
        }
    }
    assert!(names.contains(&"SQLite"), "{names:?}");
}

/// [`a_test_of_both_databases`] again, in this binary, with no server; `allow`: with
/// `CCSQM_TEST_ALLOW_SKIP=1`.
fn without_a_server(allow: bool) -> Output {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "a_test_of_both_databases", "--test-threads", "1"])
        .env_remove(POSTGRES_ENV)
        .env_remove("CCSQM_TEST_POSTGRES_CA")
        .env_remove(ALLOW_SKIP_ENV);
    if allow {
        cmd.env(ALLOW_SKIP_ENV, "1");
    }
    cmd.output().unwrap()
}

#[test]
fn without_its_server_a_postgres_test_fails_saying_skipped_and_why() {
    let output = without_a_server(false);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!output.status.success(), "reported as passed: {text}");
    assert!(
        text.contains("test a_test_of_both_databases ... FAILED"),
        "{text}"
    );
    for words in [
        "skips_both: skipped: PostgreSQL: CCSQM_TEST_POSTGRES_URL is not set",
        "cargo xtask test",
        "CCSQM_TEST_ALLOW_SKIP=1",
    ] {
        assert!(text.contains(words), "{words:?} in: {text}");
    }
}

#[test]
fn allowed_to_skip_a_postgres_test_passes_and_still_says_skipped() {
    let output = without_a_server(true);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("test a_test_of_both_databases ... ok"),
        "{stdout}"
    );
    // Shown although the test passed (libtest shows no captured output then).
    assert!(
        stderr.contains("skips_both: skipped: PostgreSQL: CCSQM_TEST_POSTGRES_URL is not set"),
        "{stderr}"
    );
}
