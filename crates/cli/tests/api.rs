//! `ccsqm api`: any operation of the spec, against the sandbox and as a dry run.

mod common;

use common::{ccsqm, stderr, stdout};
use serde_json::Value;

#[test]
fn list_shows_every_operation_of_the_spec_with_its_fields() {
    let output = ccsqm().args(["api", "--list"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    for operation in ccsqm_client::spec::Operation::ALL {
        let spec = operation.info();
        assert!(text.contains(spec.id) && text.contains(spec.path), "{text}");
        for field in spec.body.map(|b| b.fields).unwrap_or_default() {
            assert!(text.contains(&format!("-f {}=", field.name)), "{text}");
        }
    }
}

#[test]
fn an_operation_is_called_with_fields_typed_by_the_spec() {
    let output = ccsqm()
        .args(["api", "appraisecall_details", "--sandbox"])
        .args(["-f", "page=1", "-f", "limit=3", "-f", "call_types=voice"])
        .args([
            "-f",
            "call_types=text",
            "-f",
            "status=inspection-succeeded,31",
        ])
        .args(["-f", "upload_from=null", "-f", "upload_to=null"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let page: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let calls: Vec<&Value> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["calls"].as_array().unwrap())
        .collect();
    assert_eq!(calls.len(), 3);
    assert!(calls
        .iter()
        .all(|c| [2, 31].contains(&c["status"].as_i64().unwrap())));
    assert!(page["paging"]["total"].as_i64().unwrap() > 3);
}

#[test]
fn the_body_comes_from_input_with_fields_on_top_and_a_dry_run_hides_the_token() {
    let input = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/seed-request.json"
    );
    let output = ccsqm()
        .args(["api", "appraisecall_details", "--sandbox", "--dry-run"])
        .args(["--input", input, "-f", "limit=2", "-f", "keyword=refund"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("POST http://127.0.0.1:"), "{text}");
    assert!(text.contains("Authorization: Bearer ***"), "{text}");
    assert!(
        text.contains("\"limit\": 2") && text.contains("\"keyword\": \"refund\""),
        "{text}"
    );
    assert!(text.contains("\"call_from\": 1621333149"), "{text}");
}

#[test]
fn bad_input_exits_2_naming_what_is_wrong() {
    for (args, expected) in [
        (vec!["api", "no_such_operation"], "no operation"),
        (
            vec!["api", "appraisecall_details", "-f", "nope=1"],
            "has no field \"nope\"",
        ),
        (
            vec!["api", "appraisecall_details", "-f", "limit=ten"],
            "-f limit",
        ),
        (
            vec!["api", "appraisecall_details", "-f", "status=7"],
            "-f status",
        ),
        (
            vec!["api", "appraisecall_details", "-f", "limit"],
            "FIELD=VALUE",
        ),
        (
            vec!["api", "token_by_ak_sk", "-H", "X-Token-Expire=0"],
            "-H X-Token-Expire",
        ),
        (
            vec![
                "api",
                "appraisecall_details",
                "--input",
                "/nonexistent/body.json",
            ],
            "--input",
        ),
    ] {
        let output = ccsqm().args(&args).arg("--sandbox").output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(expected),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn server_errors_keep_their_exit_codes() {
    // The sandbox refuses a request without its mandatory fields: 400, exit 5.
    let output = ccsqm()
        .args(["api", "appraisecall_details", "--sandbox", "-f", "page=1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    assert!(stderr(&output).contains("400"), "{}", stderr(&output));
}

#[test]
fn a_secret_field_is_read_from_a_file_and_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "sk-drill-7731\n").unwrap();
    let field = format!("app_secret=@{}", secret.display());
    let output = ccsqm()
        .args(["api", "token_by_ak_sk", "--sandbox", "--dry-run"])
        .args(["-f", "app_key=ak", "-f", &field])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(!text.contains("sk-drill-7731"), "{text}");
    assert!(text.contains("\"app_secret\": \"***\""), "{text}");
}
