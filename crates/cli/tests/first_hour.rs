//! The first hour with `ccsqm` (#26, round 2): what a person meets first says what to do next.
//! A refused app key names where it came from; an unknown call is said to be unknown; a table
//! fitted to a narrow terminal keeps the key of `ccsqm transcript`; `--count` answers "how
//! many per status"; `--dry-run` of the sandbox says its address is temporary; `details -h`
//! is short.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use ccsqm_sandbox::Sandbox;
use httpmock::MockServer;

mod common;
use common::{ccsqm, run_within, runtime, stderr, stdout};

const LIMIT: Duration = Duration::from_secs(60);

fn run(cmd: &mut Command) -> Output {
    run_within(cmd, LIMIT)
}

/// Runs `cmd` with `input` on stdin.
fn with_stdin(cmd: &mut Command, input: &str) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_owned();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    output
}

// ---- item 10: a transcript's 404, and arguments that are not UUIDs --------------------------

/// Every form that is not a UUID as the API gives them is refused (exit 2, naming it) before
/// any request: the server, which answers anything, is never asked.
#[test]
fn a_call_uuid_that_is_not_a_uuid_is_refused_before_any_request() {
    use ccsqm_httpmock::MockServerExt;
    let server = MockServer::start();
    let any = server.appraisecall_detail(|_, then| {
        then.not_found();
    });
    let good = "3b9cd7a9-d38c-4aa0-a35d-77f6abb9f497";
    for bad in [
        "notauuid",
        "12345",
        "3b9cd7a9d38c4aa0a35d77f6abb9f497",
        "{3b9cd7a9-d38c-4aa0-a35d-77f6abb9f497}",
        "3b9cd7a9-d38c-4aa0-a35d-77f6abb9f49z",
        "3b9cd7a9-d38c-4aa0-a35d",
    ] {
        // As an argument, first or after a good one.
        for args in [vec![bad], vec![good, bad]] {
            let output = run(ccsqm()
                .env("CCSQM_BASE_URL", server.base_url())
                .env("CCSQM_TOKEN", "tok")
                .env("CCSQM_USER_ID", "u")
                .arg("transcript")
                .args(&args));
            let err = stderr(&output);
            assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
            assert!(
                err.contains("CALL_UUID") && err.contains(bad) && err.contains("not a call_uuid"),
                "{args:?}: {err}"
            );
        }
        // On stdin, bare or as a call of `ccsqm details -o ndjson`: the line is named.
        for input in [
            format!("{good}\n{bad}\n"),
            format!("{good}\n{{\"call_uuid\":\"{bad}\"}}\n"),
        ] {
            let output = with_stdin(
                ccsqm()
                    .env("CCSQM_BASE_URL", server.base_url())
                    .env("CCSQM_TOKEN", "tok")
                    .env("CCSQM_USER_ID", "u")
                    .args(["transcript", "--stdin"]),
                &input,
            );
            let err = stderr(&output);
            assert_eq!(output.status.code(), Some(2), "{input:?}: {err}");
            assert!(err.contains("line 2"), "{input:?}: {err}");
        }
    }
    any.assert_calls(0);
}

/// A 404 of `appraisecall/detail` says the call is unknown, not the vendor's "check the
/// request path"; exit 4. The sandbox's calls (UUIDs of any case) pass the check.
#[test]
fn an_unknown_call_is_said_to_be_unknown() {
    for unknown in [
        "00000000-0000-4000-8000-000000000000",
        "ABCDEF01-2345-4678-9ABC-DEF012345678",
    ] {
        let output = run(ccsqm().args([
            "transcript",
            "--sandbox",
            "-o",
            "ndjson",
            unknown,
            "3b9cd7a9-d38c-4aa0-a35d-77f6abb9f497",
        ]));
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(4), "{err}");
        assert!(
            err.contains(&format!(
                "call {unknown} is unknown (the server has no call with this call_uuid"
            )),
            "{err}"
        );
        assert!(!err.contains("Check the request path"), "{err}");
        // The known call is still written.
        assert!(
            stdout(&output).contains("3b9cd7a9-d38c-4aa0-a35d-77f6abb9f497"),
            "{err}"
        );
    }
}

/// The vendor's calls and the sandbox's generated ones, piped from `details`, all pass.
#[test]
fn the_calls_details_lists_pass_the_check() {
    let details = run(ccsqm().args([
        "details",
        "--sandbox",
        "--calls",
        "30",
        "--all",
        "-o",
        "ndjson",
    ]));
    assert!(details.status.success(), "{}", stderr(&details));
    let output = with_stdin(
        ccsqm().args([
            "transcript",
            "--sandbox",
            "--calls",
            "30",
            "--stdin",
            "-o",
            "ndjson",
        ]),
        &stdout(&details),
    );
    assert!(output.status.success(), "{}", stderr(&output));
}

#[allow(dead_code)]
fn sandbox(calls: usize) -> Sandbox {
    runtime()
        .block_on(Sandbox::builder().calls(calls).start())
        .unwrap()
}
