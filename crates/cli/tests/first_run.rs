//! A first run: the README's quick start finds calls in the built-in sandbox (its data leads up to
//! today), `--sandbox` takes the sandbox's data and fault flags, and an empty result is said on
//! stderr with the filters sent and the sandbox's data.

mod common;

use std::time::Duration;

use ccsqm_sandbox::{Anchor, DataSet};
use common::{ccsqm, run_within, stderr, stdout, uuids_of_ndjson};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn the_readme_example_finds_failed_inspections_of_the_last_week() {
    let output = run_within(
        ccsqm().args([
            "details",
            "--sandbox",
            "--call-from",
            "7d",
            "--status",
            "inspection-failed",
            "-o",
            "table",
        ]),
        LIMIT,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let table = stdout(&output);
    let rows: Vec<&str> = table.lines().skip(1).collect();
    assert!(!rows.is_empty(), "an empty table: {}", stderr(&output));
    assert!(
        rows.iter().all(|r| r.contains("inspection-failed")),
        "{rows:?}"
    );
    assert!(
        !stderr(&output).contains("no call matches"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn any_anchor_has_failed_inspections_in_its_last_week() {
    // The README's quick start on other days: the default data set has some in every week.
    let failed = ccsqm_client::spec::enums::INSPECTION_STATUS
        .values
        .iter()
        .find(|v| v.name == "inspection-failed")
        .unwrap()
        .code;
    for anchor in [
        "2021-12-15",
        "2023-01-01",
        "2024-07-19",
        "2026-11-25",
        "2030-02-28",
    ] {
        let anchor: Anchor = anchor.parse().unwrap();
        let data = DataSet::generate_at(
            ccsqm_sandbox::DEFAULT_SEED,
            ccsqm_sandbox::DEFAULT_CALLS,
            anchor,
        );
        let week = anchor.end_time() - 7 * 86_400;
        let found = (0..data.generated())
            .filter_map(|i| data.call(i))
            .filter(|c| c.call_time.unwrap_or(0) >= week && c.status == Some(failed))
            .count();
        assert!(found >= 3, "{anchor}: {found}");
    }
}

#[test]
fn sandbox_data_flags_shape_the_data() {
    let anchor = "2022-02-02";
    let output = run_within(
        ccsqm()
            .args(["details", "--sandbox", "--all", "-o", "ndjson"])
            .args([
                "--calls", "40", "--seed", "3", "--anchor", anchor, "--limit", "7",
            ]),
        LIMIT,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let data = DataSet::generate_at(3, 40, anchor.parse().unwrap());
    let want: Vec<String> = (0..data.len())
        .map(|i| data.call(i).unwrap().call_uuid.unwrap())
        .collect();
    assert_eq!(uuids_of_ndjson(&stdout(&output)), want);
    let times: Vec<i64> = stdout(&output)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["call_time"]
                .as_i64()
                .unwrap()
        })
        .collect();
    let anchor: Anchor = anchor.parse().unwrap();
    assert!(
        times[..40].iter().all(|t| *t >= anchor.first_call_time()),
        "{times:?}"
    );
    assert!(times[0] < anchor.end_time() + 86_400, "{times:?}");

    // The same flags on `ccsqm transcript --sandbox` serve the same calls.
    let first = &want[0];
    let transcript = run_within(
        ccsqm()
            .args(["transcript", "--sandbox", "-o", "json", first])
            .args(["--calls", "40", "--seed", "3", "--anchor", "2022-02-02"]),
        LIMIT,
    );
    assert!(transcript.status.success(), "{}", stderr(&transcript));
}

#[test]
fn sandbox_fault_flags_inject_faults() {
    let output = run_within(
        ccsqm()
            .args(["details", "--sandbox", "--calls", "5", "--max-retries", "0"])
            .args(["--fail-rate", "1", "--fail-statuses", "503", "-o", "ndjson"]),
        LIMIT,
    );
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    assert!(stderr(&output).contains("503"), "{}", stderr(&output));

    // Faults that a retry gets past: every call still arrives once.
    let output = run_within(
        ccsqm()
            .args([
                "details",
                "--sandbox",
                "--calls",
                "300",
                "--all",
                "--limit",
                "20",
            ])
            .args([
                "--fail-rate",
                "0.3",
                "--fail-statuses",
                "502,503",
                "--fault-seed",
                "4",
            ])
            .args(["--max-retries", "10", "-o", "ndjson"]),
        LIMIT,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).lines().count(), 306);
}

#[test]
fn sandbox_flags_need_the_sandbox_and_valid_values() {
    for (args, flag) in [
        (&["details", "--calls", "5"][..], "--calls"),
        (&["details", "--anchor", "2024-01-01"], "--anchor"),
        (&["details", "--fail-rate", "0.5"], "--fail-rate"),
        (&["transcript", "--seed", "4", "x"], "--seed"),
        (
            &["details", "--sandbox", "--anchor", "2021-06-01"],
            "2021-12-15",
        ),
        (&["details", "--sandbox", "--anchor", "June"], "--anchor"),
        (
            &["details", "--sandbox", "--calls", "99999999999"],
            "--calls",
        ),
        (
            &[
                "details",
                "--sandbox",
                "--fail-rate",
                "0.6",
                "--drop-rate",
                "0.6",
            ],
            "--drop-rate",
        ),
    ] {
        let output = run_within(ccsqm().args(args), LIMIT);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(flag),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn an_empty_result_says_so_with_the_filters_and_the_sandboxs_data() {
    for extra in [
        &["-o", "table"][..],
        &["-o", "json"],
        &["--all", "-o", "csv"],
    ] {
        let output = run_within(
            ccsqm()
                .args([
                    "details",
                    "--sandbox",
                    "--anchor",
                    "2022-01-01",
                    "--calls",
                    "50",
                ])
                .args(["--call-from", "7d", "--keyword", "refund"])
                .args(extra),
            LIMIT,
        );
        assert!(output.status.success(), "{extra:?}: {}", stderr(&output));
        let err = stderr(&output);
        assert!(
            err.contains("ccsqm: no call matches the filters sent: --call-from 20"),
            "{err}"
        );
        assert!(err.contains("--keyword \"refund\""), "{err}");
        assert!(
            err.contains("the sandbox holds 56 calls: 50 generated, from 2021-"),
            "{err}"
        );
        assert!(err.contains(" UTC to 2021-12-"), "{err}");
        let every_status = format!(
            "--status (all {} documented values)",
            ccsqm_client::spec::enums::INSPECTION_STATUS.values.len()
        );
        assert!(err.contains(&every_status), "{err}");
        assert!(err.contains("(seed 1, anchor 2022-01-01)"), "{err}");
        assert!(err.contains("--anchor DATE"), "{err}");

        // Quiet: nothing on stderr.
        let quiet = run_within(
            ccsqm()
                .args([
                    "-q",
                    "details",
                    "--sandbox",
                    "--anchor",
                    "2022-01-01",
                    "--calls",
                    "50",
                ])
                .args(["--call-from", "7d"])
                .args(extra),
            LIMIT,
        );
        assert!(quiet.status.success());
        assert_eq!(stderr(&quiet), "", "{extra:?}");
    }
    // A page past the last one: said so.
    for format in ["table", "json", "ndjson"] {
        let output = run_within(
            ccsqm().args([
                "details",
                "--sandbox",
                "--calls",
                "20",
                "--page",
                "9",
                "-o",
                format,
            ]),
            LIMIT,
        );
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(
            stderr(&output),
            "ccsqm: page 9 holds no call: 26 call(s) match, on 1 page(s) of 100 (--all fetches \
             every page)\n",
            "{format}"
        );
    }
    // A query that matches: no note.
    let output = run_within(
        ccsqm().args(["details", "--sandbox", "--calls", "50", "-o", "ndjson"]),
        LIMIT,
    );
    assert!(output.status.success());
    assert!(
        !stderr(&output).contains("no call matches"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_empty_result_from_a_server_says_so_too() {
    use ccsqm_httpmock::MockServerExt as _;
    let server = httpmock::MockServer::start();
    server.appraisecall_details(|_, then| {
        then.ok(
            &serde_json::from_value(serde_json::json!({"data": [], "paging": {"total": 0}}))
                .unwrap(),
        );
    });
    let output = run_within(
        ccsqm()
            .env("CCSQM_BASE_URL", server.base_url())
            .env("CCSQM_TOKEN", "tok-123")
            .env("CCSQM_USER_ID", "u1")
            .args([
                "details",
                "--status",
                "asr-no-speech",
                "--all",
                "-o",
                "ndjson",
            ]),
        LIMIT,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "");
    let err = stderr(&output);
    assert!(err.contains("no call matches the filters sent: "), "{err}");
    assert!(err.contains("--status asr-no-speech"), "{err}");
    assert!(err.contains("hint: widen the filters"), "{err}");
    assert!(!err.contains("sandbox"), "{err}");
}
