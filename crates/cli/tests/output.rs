//! Output people read, and choosing what to see: the table fitted to the terminal (in a
//! pseudo-terminal, through `script`), its footer, the progress bar and rows on one terminal,
//! the summary of `--all`, `--tz`, `--csv-style readable`, `--fields` and `--jq`.
//!
//! Run them with `cargo test -p ccsqm-cli --test output`.

use std::io::Write;
use std::net::TcpListener;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use unicode_width::UnicodeWidthStr;

mod common;
use common::{ccsqm, read_request, run_within, stderr, stdout, uuids_of_ndjson};

const USER_ID: &str = "1611917095665261978";
const LIMIT: Duration = Duration::from_secs(120);

/// A server holding `calls`, answering each query with its page (`page`, `limit`), the
/// first `fail_first` queries with a 503; and the number of queries it has received.
fn server(calls: Vec<Value>, fail_first: u64) -> (String, Arc<AtomicU64>) {
    let hits = Arc::new(AtomicU64::new(0));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let counter = hits.clone();
    let calls = Arc::new(calls);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let (counter, calls) = (counter.clone(), calls.clone());
            std::thread::spawn(move || {
                let Ok((mut stream, body)) = read_request(stream) else {
                    return;
                };
                let query: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let (page, limit) = (
                    query["page"].as_u64().unwrap_or(1),
                    query["limit"].as_u64().unwrap_or(100),
                );
                let (status, body) = match counter.fetch_add(1, Ordering::SeqCst) < fail_first {
                    true => (503, "{}".to_owned()),
                    false => {
                        let first = ((page - 1) * limit) as usize;
                        let data: Vec<Value> = calls
                            .iter()
                            .enumerate()
                            .skip(first)
                            .take(limit as usize)
                            .map(|(n, call)| json!({"call_group_id": format!("g{n}"), "calls": [call]}))
                            .collect();
                        let total = calls.len();
                        (
                            200,
                            json!({"data": data, "paging": {"total": total}}).to_string(),
                        )
                    }
                };
                let head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: \
                     {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(body.as_bytes());
            });
        }
    });
    (format!("http://{addr}"), hits)
}

/// `n` calls with long, wide (CJK) and plain text, every code of the spec's enumerations.
fn calls(n: usize) -> Vec<Value> {
    let statuses: Vec<i64> = ccsqm_client::spec::enums::INSPECTION_STATUS
        .codes()
        .collect();
    let types: Vec<i64> = ccsqm_client::spec::enums::CALL_TYPE.codes().collect();
    let names = [
        "王小明",
        "Zoë Ångström-Lindqvist",
        "Ann",
        "佐藤 花子 (夜間サポート)",
    ];
    (0..n)
        .map(|i| {
            json!({
                "call_uuid": format!("00000000-0000-4000-8000-{i:012}"),
                "call_id": format!("call-{i}"),
                "call_time": 1_622_633_782 + i as i64 * 3_600,
                "upload_time": 1_622_640_000 + i as i64 * 3_600,
                "call_type": types[i % types.len()],
                "status": statuses[i % statuses.len()],
                "staff_name": names[i % names.len()],
                "staff_id": format!("agent-{i}"),
                "duration": 61.5 + i as f64,
                "left_channel": "customer", "left_speech_ratio": 0.42,
                "right_channel": "staff", "right_speech_ratio": 0.33,
                "file_name": format!("{}-recording-with-a-rather-long-name-{i}.wav", names[i % names.len()]),
            })
        })
        .collect()
}

fn details_at(base_url: &str) -> Command {
    let mut cmd = ccsqm();
    cmd.env("CCSQM_BASE_URL", base_url)
        .env("CCSQM_TOKEN", "output-test-token")
        .env("CCSQM_USER_ID", USER_ID)
        .args(["details", "--timeout", "5"]);
    cmd
}

/// Runs `cmd` in a pseudo-terminal of `columns` columns (stdout and stderr both on it), with
/// `script`; what the terminal received.
fn in_terminal(cmd: &Command, columns: u16) -> (Output, String) {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let program = quote(cmd.get_program().to_str().unwrap());
    let args: Vec<String> = cmd.get_args().map(|a| quote(a.to_str().unwrap())).collect();
    let line = format!(
        "stty cols {columns} rows 50; exec {program} {}",
        args.join(" ")
    );
    let mut script = Command::new("script");
    script.args(["-qec", &line, "/dev/null"]);
    for (name, value) in cmd.get_envs() {
        match value {
            Some(value) => script.env(name, value),
            None => script.env_remove(name),
        };
    }
    // A terminal that moves its cursor (as `screen` reads it), whatever runs the tests.
    script.env("TERM", "xterm");
    let output = run_within(&mut script, LIMIT);
    let text = stdout(&output);
    (output, text)
}

/// What a terminal shows after `raw` (its lines, scrolled ones included): text, `\r`, `\n`,
/// and the cursor movements and line clearing of a progress bar (`ESC [ n A/B`, `ESC [ K`,
/// `ESC [ 2K`); a line is as long as what was written on it (no wrapping: a line longer than
/// the terminal is seen as such).
fn screen(raw: &str) -> Vec<String> {
    let mut lines: Vec<Vec<char>> = vec![Vec::new()];
    let (mut row, mut col) = (0usize, 0usize);
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => col = 0,
            '\n' => {
                row += 1;
                col = 0;
            }
            '\u{1b}' => {
                if chars.peek() != Some(&'[') {
                    continue;
                }
                chars.next();
                let mut arg = String::new();
                let mut end = ' ';
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        end = c;
                        break;
                    }
                    arg.push(c);
                }
                let n: usize = arg.parse().unwrap_or(1);
                match end {
                    'A' => row = row.saturating_sub(n),
                    'B' => row += n,
                    'K' if arg == "2" => lines[row].clear(),
                    'K' => lines[row].truncate(col),
                    _ => {}
                }
            }
            c => {
                let line = &mut lines[row];
                while line.len() < col {
                    line.push(' ');
                }
                match line.get_mut(col) {
                    Some(cell) => *cell = c,
                    None => line.push(c),
                }
                col += 1;
            }
        }
        while lines.len() <= row {
            lines.push(Vec::new());
        }
    }
    lines
        .into_iter()
        .map(|l| l.into_iter().collect::<String>().trim_end().to_owned())
        .collect()
}

#[test]
fn tables_fit_the_terminal_they_are_shown_on() {
    let (url, _) = server(calls(30), 0);
    for columns in [50u16, 72, 80, 101, 160] {
        let mut cmd = details_at(&url);
        cmd.args(["-o", "table", "--limit", "20"])
            .env_remove("COLUMNS");
        let (output, raw) = in_terminal(&cmd, columns);
        assert_eq!(output.status.code(), Some(0), "{raw}");
        let lines = screen(&raw);
        let table: Vec<&String> = lines
            .iter()
            .filter(|l| !l.is_empty() && !l.starts_with("ccsqm: "))
            .collect();
        // a header, 20 rows and the footer
        assert_eq!(table.len(), 22, "{columns}: {lines:#?}");
        for line in &table {
            assert!(
                line.width() <= usize::from(columns),
                "{columns} columns, a line of {}: {line}",
                line.width()
            );
        }
        // The time when there is room for it beside CALL UUID (kept whole, to the last).
        match columns {
            57.. => assert!(table[0].starts_with("CALL TIME (UTC)"), "{}", table[0]),
            _ => assert_eq!(table[0].as_str(), "CALL UUID"),
        }
        assert!(table[0].contains("CALL UUID"), "{}", table[0]);
        assert_eq!(
            table[21].as_str(),
            "20 of 30 calls (page 1); --all for every page"
        );
        if columns >= 160 {
            assert!(!raw.contains('…'), "room for every cell: {raw}");
            assert!(raw.contains("佐藤 花子 (夜間サポート)"), "{raw}");
        } else if columns >= 80 {
            assert!(raw.contains('…'), "{columns}: long cells are cut: {raw}");
        }
    }
}

#[test]
fn tables_off_a_terminal_take_columns_or_no_limit() {
    let (url, _) = server(calls(12), 0);
    let output = run_within(
        details_at(&url)
            .args([
                "-o",
                "table",
                "--fields",
                "call_uuid,staff_name,file_name,status",
            ])
            .env("COLUMNS", "64"),
        LIMIT,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert_eq!(text.lines().count(), 13, "{text}");
    for line in text.lines() {
        assert!(line.width() <= 64, "{line}");
    }
    // The last field goes first; call_uuid stays whole.
    assert_eq!(
        stderr(&output),
        "ccsqm: the table leaves out 1 column(s) that do not fit in 64 characters (STATUS): \
         widen the terminal, set COLUMNS, or choose with --fields\n12 of 12 calls (page 1)\n"
    );

    let output = run_within(
        details_at(&url)
            .args([
                "-o",
                "table",
                "--fields",
                "call_uuid,staff_name,file_name,status",
            ])
            .env_remove("COLUMNS"),
        LIMIT,
    );
    let text = stdout(&output);
    assert!(!text.contains('…'), "{text}");
    for call in calls(12) {
        assert!(text.contains(call["file_name"].as_str().unwrap()), "{text}");
    }
    assert!(text.starts_with("CALL_UUID"), "{text}");
}

#[test]
fn progress_and_rows_share_a_terminal_without_overwriting() {
    let all = calls(240);
    let (url, _) = server(all.clone(), 0);
    let mut cmd = details_at(&url);
    cmd.args([
        "--all",
        "--limit",
        "8",
        "-o",
        "table",
        "--fields",
        "call_uuid",
    ]);
    let (output, raw) = in_terminal(&cmd, 100);
    assert_eq!(output.status.code(), Some(0), "{raw}");
    assert!(
        raw.contains("/240 calls") && raw.contains("at a time"),
        "a progress bar was drawn, with the concurrency: {raw}"
    );
    let lines: Vec<String> = screen(&raw).into_iter().filter(|l| !l.is_empty()).collect();
    let expected: Vec<String> = std::iter::once("CALL_UUID".to_owned())
        .chain(
            all.iter()
                .map(|c| c["call_uuid"].as_str().unwrap().to_owned()),
        )
        .collect();
    assert_eq!(
        &lines[..lines.len() - 1],
        &expected[..],
        "every row whole, on its own line, in order, and no bar left among them"
    );
    let last = &lines[lines.len() - 1];
    assert!(
        last.starts_with("ccsqm: 240 call(s) written, with 0 paging warning(s); 30 page(s) in "),
        "the summary ends it: {last}"
    );
}

#[test]
fn every_all_export_ends_with_a_summary_silent_with_q() {
    let (url, hits) = server(calls(45), 1);
    let output = run_within(
        details_at(&url).args(["--all", "--limit", "10", "--concurrency", "1"]),
        LIMIT,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(uuids_of_ndjson(&stdout(&output)).len(), 45);
    assert_eq!(hits.load(Ordering::SeqCst), 6, "5 pages and a retry");
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    let summary = err.trim_end();
    assert!(
        summary.starts_with("ccsqm: 45 call(s) written, with 0 paging warning(s); 5 page(s) in "),
        "{summary}"
    );
    assert!(summary.ends_with(" calls/s), 1 retry"), "{summary}");

    let (url, _) = server(calls(45), 0);
    let output = run_within(
        details_at(&url).args(["--all", "--limit", "10", "-q"]),
        LIMIT,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "", "-q: no summary");
    let output = run_within(
        details_at(&url).args(["-o", "table", "-q", "--fields", "call_uuid"]),
        LIMIT,
    );
    assert_eq!(stderr(&output), "", "-q: no footer");
}

#[test]
fn times_are_shown_in_the_zone_asked_for() {
    let (url, hits) = server(calls(3), 0);
    let table = |tz: &str| {
        let output = run_within(
            details_at(&url).args([
                "-o",
                "table",
                "--fields",
                "call_time,upload_time",
                "--tz",
                tz,
            ]),
            LIMIT,
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        stdout(&output)
    };
    let shanghai = table("Asia/Shanghai");
    assert!(
        shanghai.starts_with("CALL_TIME (Asia/Shanghai)  UPLOAD_TIME (Asia/Shanghai)"),
        "{shanghai}"
    );
    assert!(shanghai.contains("2021-06-02 19:36:22"), "{shanghai}");
    let utc = table("UTC");
    assert!(utc.starts_with("CALL_TIME (UTC)"), "{utc}");
    assert!(utc.contains("2021-06-02 11:36:22"), "{utc}");
    // local: TZ
    let output = run_within(
        details_at(&url)
            .args(["-o", "table", "--fields", "call_time"])
            .env("TZ", "America/New_York"),
        LIMIT,
    );
    let local = stdout(&output);
    assert!(local.starts_with("CALL_TIME (America/New_York)"), "{local}");
    assert!(local.contains("2021-06-02 07:36:22"), "{local}");

    let before = hits.load(Ordering::SeqCst);
    let output = run_within(details_at(&url).args(["--tz", "Mars/Olympus_Mons"]), LIMIT);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("Mars/Olympus_Mons"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        before,
        "refused before any request"
    );
}

#[test]
fn readable_csv_names_codes_and_writes_rfc3339_times() {
    use ccsqm_client::spec::enums::{CALL_TYPE, INSPECTION_STATUS};
    let all = calls(20);
    let (url, _) = server(all.clone(), 0);
    let output = run_within(
        details_at(&url).args([
            "-o",
            "csv",
            "--csv-style",
            "readable",
            "--tz",
            "Europe/Paris",
        ]),
        LIMIT,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let mut reader = csv::Reader::from_reader(output.stdout.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(at("status_name"), at("status") + 1, "{header:?}");
    assert_eq!(at("call_type_name"), at("call_type") + 1, "{header:?}");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), all.len());
    for (row, call) in rows.iter().zip(&all) {
        let status = call["status"].as_i64().unwrap();
        let named = INSPECTION_STATUS
            .values
            .iter()
            .find(|v| v.code == status)
            .unwrap();
        assert_eq!(&row[at("status")], status.to_string());
        assert_eq!(&row[at("status_name")], named.name);
        let kind = call["call_type"].as_i64().unwrap();
        let named = CALL_TYPE.values.iter().find(|v| v.code == kind).unwrap();
        assert_eq!(&row[at("call_type_name")], named.name);
        for field in ["call_time", "upload_time"] {
            let shown: jiff::Timestamp = row[at(field)].parse().unwrap();
            assert_eq!(shown.as_second(), call[field].as_i64().unwrap());
            assert!(row[at(field)].ends_with("+02:00"), "{}", &row[at(field)]);
        }
    }
    // The default stays as it was: Unix seconds, codes, no name columns.
    let output = run_within(
        details_at(&url).args(["-o", "csv", "--tz", "Europe/Paris"]),
        LIMIT,
    );
    let text = stdout(&output);
    assert!(!text.contains("status_name"), "{text}");
    assert!(text.contains(",1622633782,"), "{text}");
}

#[test]
fn fields_choose_what_every_format_shows() {
    let (url, hits) = server(calls(5), 0);
    let run = |args: &[&str]| {
        let output = run_within(details_at(&url).args(args), LIMIT);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            stderr(&output)
        );
        stdout(&output)
    };
    let ndjson = run(&["--fields", "status,call_uuid", "--fields", "duration"]);
    for (line, call) in ndjson.lines().zip(calls(5)) {
        assert_eq!(
            line,
            format!(
                r#"{{"status":{},"call_uuid":{},"duration":{}}}"#,
                call["status"], call["call_uuid"], call["duration"]
            )
        );
    }
    let csv = run(&["-o", "csv", "--fields", "call_uuid,call_group_id"]);
    assert!(
        csv.starts_with("call_uuid,call_group_id\n00000000-0000-4000-8000-000000000000,g0\n"),
        "{csv}"
    );
    let table = run(&["-o", "table", "--fields", "staff_id,status"]);
    assert!(
        table.starts_with("STAFF_ID  STATUS\nagent-0   waiting-for-inspection\n"),
        "{table}"
    );
    let json = run(&["-o", "json", "--fields", "call_uuid"]);
    let page: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        page["data"][1]["calls"][0],
        json!({"call_uuid": "00000000-0000-4000-8000-000000000001"})
    );
    assert_eq!(page["paging"]["total"], 5);

    let before = hits.load(Ordering::SeqCst);
    let output = run_within(
        details_at(&url).args(["--fields", "call_uuid,agent_name"]),
        LIMIT,
    );
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("\"agent_name\""), "{err}");
    for field in ccsqm_client::spec::schemas::CALL.fields {
        assert!(err.contains(field.name), "lists {}: {err}", field.name);
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        before,
        "refused before any request"
    );
}

#[test]
fn jq_runs_on_each_call_strings_raw() {
    let all = calls(25);
    let (url, hits) = server(all.clone(), 0);
    let run = |args: &[&str]| run_within(details_at(&url).args(args), LIMIT);
    let output = run(&["--all", "--limit", "10", "--jq", ".call_uuid"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let expected: Vec<&str> = all
        .iter()
        .map(|c| c["call_uuid"].as_str().unwrap())
        .collect();
    assert_eq!(stdout(&output).lines().collect::<Vec<_>>(), expected);

    let output = run(&[
        "--jq",
        "select(.status == 9) | {id: .call_uuid, d: .duration}",
    ]);
    let picked: Vec<Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let wanted: Vec<Value> = all
        .iter()
        .filter(|c| c["status"] == 9)
        .map(|c| json!({"id": c["call_uuid"], "d": c["duration"]}))
        .collect();
    assert!(!wanted.is_empty());
    assert_eq!(picked, wanted);

    // One page of -o json: the filter runs on the API's response.
    let output = run(&[
        "-o",
        "json",
        "--limit",
        "4",
        "--jq",
        ".paging.total, (.data | length)",
    ]);
    assert_eq!(stdout(&output), "25\n4\n");

    // Refused before any request: a filter that does not compile, or output that is not JSON.
    let before = hits.load(Ordering::SeqCst);
    for args in [
        &["--jq", ".call_uuid |"][..],
        &["--jq", "no_such_filter"],
        &["--jq", "env"],
        &["--jq", ".", "-o", "csv"],
        &["--jq", ".", "-o", "table"],
        &["--jq", ".", "--with-transcript"],
    ] {
        let output = run(args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains("--jq"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    assert_eq!(hits.load(Ordering::SeqCst), before);

    // An error of the filter fails the command, and leaves no file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.ndjson");
    let output = run_within(
        details_at(&url)
            .args(["--jq", ".call_uuid.x", "--output-file"])
            .arg(&file),
        LIMIT,
    );
    assert_ne!(output.status.code(), Some(0));
    assert!(stderr(&output).contains("--jq"), "{}", stderr(&output));
    assert!(!file.exists());
}

#[test]
fn all_json_is_one_document_with_fields_and_jq() {
    let all = calls(57);
    let (url, _) = server(all.clone(), 0);
    let output = run_within(
        details_at(&url).args([
            "--all",
            "--limit",
            "10",
            "-o",
            "json",
            "--fields",
            "call_uuid,status",
        ]),
        LIMIT,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let document: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    let expected: Vec<Value> = all
        .iter()
        .map(|c| json!({"call_uuid": c["call_uuid"], "status": c["status"]}))
        .collect();
    assert_eq!(document, expected);

    let output = run_within(
        details_at(&url).args([
            "--all",
            "--limit",
            "10",
            "-o",
            "json",
            "--fields",
            "call_uuid,status,duration",
            "--jq",
            "select(.status != 2) | {u: .call_uuid, long: (.duration > 70), status}",
        ]),
        LIMIT,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let document: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    let expected: Vec<Value> = all
        .iter()
        .filter(|c| c["status"] != 2)
        .map(|c| {
            json!({"u": c["call_uuid"], "long": c["duration"].as_f64().unwrap() > 70.0,
                   "status": c["status"]})
        })
        .collect();
    assert_eq!(document, expected);

    // A filter with no result for any call: still one document.
    let output = run_within(
        details_at(&url).args(["--all", "-o", "json", "--jq", "empty"]),
        LIMIT,
    );
    let document: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert!(document.is_empty());
}
