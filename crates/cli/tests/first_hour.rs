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

/// A sandbox, served while the returned runtime lives.
fn sandbox(calls: usize) -> (tokio::runtime::Runtime, Sandbox) {
    let rt = runtime();
    let sandbox = rt
        .block_on(Sandbox::builder().calls(calls).start())
        .unwrap();
    (rt, sandbox)
}

// ---- item 9: a refused app key and secret; settings missing from an absent profile -----------

/// A config file at `dir/ccsqm/config.toml` (private), and `ccsqm` that reads it.
fn with_config(dir: &std::path::Path, text: &str) -> Command {
    use std::os::unix::fs::PermissionsExt;
    let config = dir.join("ccsqm");
    std::fs::create_dir_all(&config).unwrap();
    let file = config.join("config.toml");
    std::fs::write(&file, text).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut cmd = ccsqm();
    cmd.env("XDG_CONFIG_HOME", dir).env("HOME", dir);
    cmd
}

/// tokenByAkSk refusing the app key and secret (401): exit 3, and the message says where each
/// came from (a flag, a variable, a profile's key), never their values, and points to
/// `ccsqm config show`; for every command that sends requests.
#[test]
fn a_refused_app_key_and_secret_say_where_they_came_from() {
    let (_rt, sandbox) = sandbox(5);
    let base_url = sandbox.base_url().to_owned();
    let user_id = sandbox.credentials().user_id.clone();
    let app_key = sandbox.credentials().app_key.clone();
    let wrong = "wrong-SECRET-7d1e";
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, wrong).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let commands: [&[&str]; 3] = [
        &["details", "--limit", "1", "-o", "ndjson"],
        &["transcript", "3b9cd7a9-d38c-4aa0-a35d-77f6abb9f497"],
        &["token"],
    ];
    for command in commands {
        // The app key from a flag, the app secret from a variable.
        let output = run(ccsqm()
            .args(command)
            .args(["--base-url", &base_url, "--user-id", &user_id])
            .args(["--app-key", &app_key])
            .env("CCSQM_APP_SECRET", wrong));
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(3), "{command:?}: {err}");
        for said in [
            "the app key came from the flag --app-key",
            "the app secret from the environment variable CCSQM_APP_SECRET",
            "ccsqm config show",
        ] {
            assert!(err.contains(said), "{command:?}: {said:?} in {err}");
        }
        assert!(!err.contains(wrong) && !stdout(&output).contains(wrong));

        // The app key from a variable, the app secret from a file named by a flag.
        let output = run(ccsqm()
            .args(command)
            .args(["--base-url", &base_url, "--user-id", &user_id])
            .arg("--app-secret-file")
            .arg(&secret_file)
            .env("CCSQM_APP_KEY", &app_key));
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(3), "{command:?}: {err}");
        assert!(
            err.contains("the app key came from the environment variable CCSQM_APP_KEY")
                && err.contains("the app secret from the flag --app-secret-file"),
            "{command:?}: {err}"
        );

        // Both from a profile of the config file.
        let home = tempfile::tempdir().unwrap();
        let profile = format!(
            "[default]\nbase_url = \"{base_url}\"\nuser_id = \"{user_id}\"\napp_key = \"{app_key}\"\n\
             app_secret_file = \"{}\"\n",
            secret_file.display()
        );
        let output = run(with_config(home.path(), &profile).args(command));
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(3), "{command:?}: {err}");
        assert!(
            err.contains("the app key came from app_key of profile \"default\"")
                && err.contains("the app secret from app_secret_file of profile \"default\"")
                && err.contains("ccsqm config show"),
            "{command:?}: {err}"
        );
        assert!(!err.contains(wrong));
    }
}

/// A fixed token the API refuses says where it came from too.
#[test]
fn a_refused_token_says_where_it_came_from() {
    let (_rt, sandbox) = sandbox(5);
    let output = run(ccsqm()
        .args(["details", "--limit", "1", "-o", "ndjson"])
        .args(["--base-url", sandbox.base_url()])
        .args(["--user-id", &sandbox.credentials().user_id])
        .env("CCSQM_TOKEN", "not-a-token-SECRET"));
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(3), "{err}");
    assert!(
        err.contains("the token came from the environment variable CCSQM_TOKEN")
            && err.contains("ccsqm config show"),
        "{err}"
    );
    assert!(!err.contains("not-a-token-SECRET"), "{err}");
}

/// Settings missing while the config file has no `default` profile (and none was named): the
/// profiles it has are listed, with `--profile NAME`. Not when the default profile exists, nor
/// when a profile was named.
#[test]
fn missing_settings_list_the_profiles_when_the_default_one_is_absent() {
    for (names, text) in [
        (
            vec!["prod", "staging"],
            "[prod]\nuser_id = \"u\"\n\n[staging]\nbase_url = \"http://127.0.0.1:9\"\n",
        ),
        (vec!["eu west"], "[\"eu west\"]\nuser_id = \"u\"\n"),
    ] {
        let home = tempfile::tempdir().unwrap();
        for command in [
            &["details", "--limit", "1"][..],
            &["token"],
            &["api", "appraisecall_details"],
        ] {
            let output = run(with_config(home.path(), text).args(command));
            let err = stderr(&output);
            assert_eq!(output.status.code(), Some(2), "{command:?}: {err}");
            assert!(
                err.contains("no profile \"default\"") && err.contains("--profile NAME"),
                "{command:?}: {err}"
            );
            for name in &names {
                assert!(err.contains(name), "{command:?}: {name} in {err}");
            }
        }
        // Only the credentials missing: the same list.
        let output = run(with_config(home.path(), text).args([
            "details",
            "--base-url",
            "http://127.0.0.1:9",
            "--user-id",
            "u",
        ]));
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{err}");
        assert!(err.contains("no profile \"default\""), "{err}");
    }
    // A default profile that lacks a setting: no list.
    let home = tempfile::tempdir().unwrap();
    let output = run(with_config(
        home.path(),
        "[default]\nuser_id = \"u\"\n[prod]\nuser_id = \"p\"\n",
    )
    .args(["details"]));
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(!err.contains("no profile \"default\""), "{err}");
}

// ---- item 12: a table fitted to a narrow terminal keeps CALL UUID; the zone as README shows ---

/// Whether `text` holds a whole UUID (8-4-4-4-12 hexadecimal digits).
fn holds_uuid(text: &str) -> bool {
    text.split_whitespace().any(|word| {
        let groups: Vec<&str> = word.split('-').collect();
        groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
            && groups
                .iter()
                .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
    })
}

/// At every width from 40 to 140 columns, the table keeps CALL UUID, whole, in every row; no
/// line is longer than the width; the columns left out are the least useful (the channels and
/// the duration before the status and the time), and said on stderr.
#[test]
fn a_narrow_table_keeps_the_call_uuid_whole() {
    for columns in [40, 52, 64, 80, 90, 100, 120, 140] {
        let output = run(ccsqm()
            .args(["details", "--sandbox", "--calls", "20", "--limit", "5"])
            .args(["-o", "table"])
            .env("COLUMNS", columns.to_string()));
        assert!(output.status.success(), "{}", stderr(&output));
        let out = stdout(&output);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 6, "{columns}: {out}");
        assert!(lines[0].contains("CALL UUID"), "{columns}: {out}");
        for line in &lines {
            assert!(line.chars().count() <= columns, "{columns}: {line:?}");
        }
        for row in &lines[1..] {
            assert!(holds_uuid(row), "{columns}: {row:?}");
        }
        if columns >= 80 {
            assert!(
                lines[0].contains("CALL TIME") && lines[0].contains("STATUS"),
                "{columns}: {out}"
            );
        }
        // What goes first: RIGHT, LEFT, DURATION, before STATUS and CALL TIME.
        if lines[0].contains("STATUS") {
            assert!(!lines[0].contains("DURATION") || lines[0].contains("LEFT") || columns >= 100);
        }
        if !lines[0].contains("RIGHT") {
            assert!(stderr(&output).contains("leaves out"), "{columns}");
        }
    }
    // With --fields, call_uuid is kept to the last, whatever its place.
    let output = run(ccsqm()
        .args(["details", "--sandbox", "--calls", "20", "--limit", "3"])
        .args([
            "-o",
            "table",
            "--fields",
            "call_uuid,staff_name,file_name,call_time",
        ])
        .env("COLUMNS", "50"));
    let out = stdout(&output);
    assert!(out.lines().skip(1).all(holds_uuid), "{out}");
    let output = run(ccsqm()
        .args(["details", "--sandbox", "--calls", "20", "--limit", "3"])
        .args([
            "-o",
            "table",
            "--fields",
            "staff_name,file_name,call_time,call_uuid",
        ])
        .env("COLUMNS", "50"));
    let out = stdout(&output);
    assert!(out.lines().next().unwrap().contains("CALL_UUID"), "{out}");
    assert!(out.lines().skip(1).all(holds_uuid), "{out}");
}

/// The time header names UTC as `UTC` (as the README shows `CALL TIME (UTC)`), by whichever of
/// its names the system or `--tz` gives it; another zone by its IANA name.
#[test]
fn the_time_header_names_the_zone_as_the_readme_does() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .unwrap_or_default();
    for (tz, flag, header) in [
        ("Etc/UTC", None, "CALL TIME (UTC)"),
        ("UTC", None, "CALL TIME (UTC)"),
        ("Zulu", None, "CALL TIME (UTC)"),
        ("Asia/Shanghai", Some("Etc/UTC"), "CALL TIME (UTC)"),
        ("UTC", Some("Europe/Paris"), "CALL TIME (Europe/Paris)"),
    ] {
        let mut cmd = ccsqm();
        cmd.args([
            "details",
            "--sandbox",
            "--calls",
            "5",
            "--limit",
            "2",
            "-o",
            "table",
        ])
        .env("TZ", tz)
        .env("COLUMNS", "200");
        if let Some(zone) = flag {
            cmd.args(["--tz", zone]);
        }
        let output = run(&mut cmd);
        let out = stdout(&output);
        assert!(out.starts_with(header), "TZ={tz} --tz {flag:?}: {out}");
    }
    if readme.contains("CALL TIME (") {
        assert!(readme.contains("CALL TIME (UTC)"));
    }
}

// ---- item 13: one page first; how many calls per status without jq ---------------------------

/// `--count` gives, per status, what the calls themselves say: compared with every call read
/// by `--all`, for several filters; the total is their sum; every format says the same.
#[test]
fn count_says_how_many_calls_per_status() {
    for filters in [
        &[][..],
        &["--call-type", "text"],
        &["--status", "inspection-failed,2,asr-no-speech"],
        &["--staff-name", "nobody at all"],
    ] {
        let data = ["--sandbox", "--calls", "300", "--seed", "5"];
        let all = run(ccsqm()
            .args(["details", "--all", "-o", "ndjson", "-q"])
            .args(data)
            .args(filters));
        assert!(all.status.success(), "{}", stderr(&all));
        let mut expected = std::collections::BTreeMap::<i64, u64>::new();
        for line in stdout(&all).lines() {
            let call: serde_json::Value = serde_json::from_str(line).unwrap();
            *expected
                .entry(call["status"].as_i64().unwrap())
                .or_default() += 1;
        }
        let counted = run(ccsqm()
            .args(["details", "--count", "-o", "ndjson"])
            .args(data)
            .args(filters));
        assert!(
            counted.status.success(),
            "{filters:?}: {}",
            stderr(&counted)
        );
        let mut got = std::collections::BTreeMap::<i64, u64>::new();
        for line in stdout(&counted).lines() {
            let row: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(row["status_name"].is_string(), "{row}");
            let calls = row["calls"].as_u64().unwrap();
            if calls > 0 {
                got.insert(row["status"].as_i64().unwrap(), calls);
            }
        }
        assert_eq!(got, expected, "{filters:?}");

        let total: u64 = expected.values().sum();
        let json = run(ccsqm()
            .args(["details", "--count", "-o", "json"])
            .args(data)
            .args(filters));
        let json: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
        assert_eq!(json["total"], total, "{filters:?}");
        let table = run(ccsqm()
            .args(["details", "--count", "-o", "table"])
            .args(data)
            .args(filters));
        let table = stdout(&table);
        assert!(table.starts_with("STATUS"), "{table}");
        let last = table.lines().last().unwrap();
        assert!(
            last.starts_with("total") && last.ends_with(&total.to_string()),
            "{table}"
        );
        let csv = run(ccsqm()
            .args(["details", "--count", "-o", "csv"])
            .args(data)
            .args(filters));
        assert!(
            stdout(&csv).starts_with("status,status_name,calls\n"),
            "{}",
            stdout(&csv)
        );
    }
}

/// A server whose counts per status do not add up to its total (it ignores the filter), or
/// that sends no total: exit 5, nothing on stdout that looks like an answer.
#[test]
fn counts_that_do_not_add_up_fail() {
    for answer in [
        serde_json::json!({"data": [], "paging": {"total": 10}}),
        serde_json::json!({"data": []}),
    ] {
        let server = MockServer::start();
        server.mock(|when, then| {
            when.method(httpmock::Method::POST)
                .path_includes("appraisecall/details");
            then.status(200)
                .header("content-type", "application/json")
                .json_body(answer.clone());
        });
        let output = run(ccsqm()
            .args(["details", "--count", "-o", "ndjson"])
            .env("CCSQM_BASE_URL", server.base_url())
            .env("CCSQM_TOKEN", "tok")
            .env("CCSQM_USER_ID", "u"));
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(5), "{answer}: {err}");
        assert_eq!(stdout(&output), "", "{answer}");
        assert!(err.contains("--count"), "{err}");
    }
}

/// `--count` does not go with what writes calls.
#[test]
fn count_refuses_what_writes_calls() {
    for other in [
        &["--all"][..],
        &["--with-transcript"],
        &["--fields", "status"],
        &["--jq", "."],
        &["--dry-run"],
        &["--page", "2"],
        &["--limit", "5"],
    ] {
        let output = run(ccsqm()
            .args(["details", "--sandbox", "--count"])
            .args(other));
        assert_eq!(output.status.code(), Some(2), "{other:?}");
    }
}

/// The README's first example shows one page, not every call of the sandbox.
#[test]
fn the_readmes_first_example_is_one_page() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let first = readme
        .lines()
        .find(|l| l.contains(" details ") && !l.trim_start().starts_with('#'))
        .unwrap();
    assert!(!first.contains("--all"), "{first}");
    assert!(readme.contains("--count"));
}

// ---- item 14: --dry-run of the sandbox; a readable `details -h` --------------------------------

/// The curl line of a dry run against the built-in sandbox says its address does not outlive
/// the command, and gives the fixed-port form; a dry run against a real address does not.
#[test]
fn a_dry_run_of_the_sandbox_says_its_address_is_temporary() {
    for command in [
        &["details", "--sandbox", "--dry-run", "--limit", "2"][..],
        &["details", "--sandbox", "--dry-run", "--keyword", "refund"],
        &[
            "api",
            "appraisecall_details",
            "--sandbox",
            "--dry-run",
            "-f",
            "page=1",
        ],
    ] {
        let output = run(ccsqm().args(command));
        assert!(output.status.success(), "{command:?}: {}", stderr(&output));
        let out = stdout(&output);
        let curl = out.find("curl -X").unwrap();
        let note = &out[..curl];
        assert!(
            note.contains("for this command only") && note.contains("ccsqm sandbox --port 8080"),
            "{command:?}: {out}"
        );
        // The note is made of comments: the curl command still runs as printed.
        let after_heading = &out[out.find("# the same request with curl").unwrap()..curl];
        assert!(
            after_heading.lines().all(|l| l.starts_with('#')),
            "{after_heading}"
        );
    }
    let output = run(ccsqm()
        .args([
            "details",
            "--dry-run",
            "--base-url",
            "http://127.0.0.1:8443",
        ])
        .args(["--user-id", "u"]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stdout(&output).contains("for this command only"));
}

/// `-h` is short: one line or two a flag, the sandbox's faults and the connection's tuning left
/// out. `--help` is readable: the same groups, each flag's first paragraph, examples, and the
/// names of the flags it leaves out; the man page keeps every flag in full.
#[test]
fn details_short_help_is_short_and_long_help_has_everything() {
    let help = |args: &[&str]| {
        let output = run(ccsqm().args(args).env("COLUMNS", "100"));
        assert!(output.status.success(), "{args:?}");
        stdout(&output)
    };
    let short = help(&["details", "-h"]);
    let long = help(&["details", "--help"]);
    assert!(
        short.lines().count() <= 100,
        "{} lines:\n{short}",
        short.lines().count()
    );
    assert!(short.lines().count() * 3 < long.lines().count() * 2);
    assert!(
        long.lines().count() <= 250,
        "{} lines:\n{long}",
        long.lines().count()
    );
    assert!(long.contains("\nExamples:\n"), "{long}");
    for heading in ["Filters", "Paging:", "Output:", "Connection:"] {
        assert!(
            short.contains(heading) && long.contains(heading),
            "{heading}"
        );
    }
    for flag in [
        "--fail-rate",
        "--max-retry-time",
        "--connect-timeout",
        "--token-file",
    ] {
        assert!(!short.contains(flag), "{flag} in -h");
        assert!(long.contains(flag), "{flag} not in --help");
    }
    for flag in [
        "--all",
        "--status",
        "--count",
        "--output-file",
        "--sandbox",
        "--dry-run",
    ] {
        assert!(short.contains(flag), "{flag} not in -h");
    }
    // Each flag of -h in at most 3 lines (but for the enumerations' possible values).
    let mut lines_of_flag = 0;
    for line in short.lines() {
        if line.trim_start().starts_with('-') {
            lines_of_flag = 1;
        } else if line.starts_with("    ") && lines_of_flag > 0 && !line.contains("values") {
            lines_of_flag += 1;
            assert!(
                lines_of_flag <= 3 || short.contains("--status"),
                "a long flag help: {line}"
            );
        }
    }
    // The full text: in the man page, which --help names.
    assert!(!long.contains("temporary file"), "{long}");
    assert!(long.contains("man ccsqm-details"), "{long}");
    let pages = tempfile::tempdir().unwrap();
    let man = run(ccsqm().arg("man").arg("--dir").arg(pages.path()).arg("-q"));
    assert!(man.status.success(), "{}", stderr(&man));
    let page = std::fs::read_to_string(pages.path().join("ccsqm-details.1")).unwrap();
    for text in [
        "temporary file",
        "fail\\-rate",
        "max\\-retry\\-time",
        "Examples:",
    ] {
        assert!(page.contains(text), "{text} not in the man page");
    }
    // Every command with the connection flags: the faults only in --help.
    for command in ["transcript", "token", "api"] {
        assert!(!help(&[command, "-h"]).contains("--fail-rate"), "{command}");
        assert!(
            help(&[command, "--help"]).contains("--fail-rate"),
            "{command}"
        );
    }
    assert!(help(&["sandbox", "-h"]).contains("--fail-rate"));
}
