//! `ccsqm transcript` and `ccsqm details --with-transcript`, run as a process against the
//! sandbox and the typed mocks: every output format against its expected file (`snapshots/`),
//! WebVTT through a WebVTT parser, the `--stdin` pipeline, partial failures and exit codes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use ccsqm_httpmock::MockServerExt;
use ccsqm_models::{AppraisecallDetailRequest, AppraisecallDetailResponse};
use httpmock::MockServer;
use serde_json::{json, Value};

mod common;
use common::{ccsqm, stderr, stdout, uuids_of_ndjson};

const TOKEN: &str = "tok-SECRET-4f1c9a";
const USER_ID: &str = "1611917095665261978";

/// Two calls of the vendor's example, always in the sandbox's data.
const VENDOR_CALLS: [&str; 2] = [
    "3b9cd7a9-d38c-4aa0-a35d-77f6abb9f497",
    "4a8507ec-8519-46ab-9ca7-241556a6eb6c",
];

fn ccsqm_at(server: &MockServer) -> Command {
    let mut cmd = ccsqm();
    cmd.env("CCSQM_BASE_URL", server.base_url())
        .env("CCSQM_TOKEN", TOKEN)
        .env("CCSQM_USER_ID", USER_ID);
    cmd
}

/// Runs `cmd` with `input` on stdin.
fn with_stdin(mut cmd: Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    output
}

fn ndjson(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[test]
fn each_output_format_matches_its_expected_file() {
    for format in ["text", "ndjson", "json"] {
        let output = ccsqm()
            .args(["transcript", "--sandbox", "-o", format])
            .args(VENDOR_CALLS)
            .output()
            .unwrap();
        assert!(output.status.success(), "{format}: {}", stderr(&output));
        insta::assert_snapshot!(format!("transcript-{format}"), stdout(&output));
    }
    let output = ccsqm()
        .args(["transcript", "--sandbox", "-o", "vtt", VENDOR_CALLS[0]])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    insta::assert_snapshot!("transcript-vtt", stdout(&output));
}

/// The WebVTT output, read by a WebVTT parser: one cue per segment, with the segment's times
/// (to the millisecond) and text.
#[test]
fn vtt_parses_as_webvtt_with_the_segments_times() {
    use subtp::vtt::{VttBlock, WebVtt};
    for call in VENDOR_CALLS {
        let vtt = ccsqm()
            .args(["transcript", "--sandbox", "-o", "vtt", call])
            .output()
            .unwrap();
        assert!(vtt.status.success(), "{}", stderr(&vtt));
        let parsed = WebVtt::parse(&stdout(&vtt))
            .unwrap_or_else(|e| panic!("{call}: not WebVTT: {e:?}\n{}", stdout(&vtt)));
        let cues: Vec<_> = parsed
            .blocks
            .iter()
            .filter_map(|b| match b {
                VttBlock::Que(cue) => Some(cue),
                _ => None,
            })
            .collect();

        let json = ccsqm()
            .args(["transcript", "--sandbox", "-o", "ndjson", call])
            .output()
            .unwrap();
        let segments = ndjson(&stdout(&json));
        assert_eq!(cues.len(), segments.len(), "{call}");
        assert!(!cues.is_empty());
        for (cue, segment) in cues.iter().zip(&segments) {
            let ms = |t: &subtp::vtt::VttTimestamp| {
                u64::from(t.hours) * 3_600_000
                    + u64::from(t.minutes) * 60_000
                    + u64::from(t.seconds) * 1000
                    + u64::from(t.milliseconds)
            };
            let seconds = |v: &Value| (v.as_f64().unwrap() * 1000.0).round() as u64;
            assert_eq!(ms(&cue.timings.start), seconds(&segment["start_time"]));
            assert_eq!(ms(&cue.timings.end), seconds(&segment["end_time"]));
            let voice = match segment["party"].as_str().unwrap() {
                "agent" => "Agent",
                "customer" => "Customer",
                _ => "Unknown",
            };
            assert_eq!(
                cue.payload,
                [format!(
                    "<v {voice}>{}",
                    segment["asr_text"].as_str().unwrap()
                )]
            );
        }
    }
}

/// `ccsqm details --keyword refund --all | ccsqm transcript --stdin`: every call found, in
/// order, each transcript saying "refund" (a keyword finds no call without a transcript); calls
/// without one, given by hand, reported on stderr.
#[test]
fn details_piped_to_transcript_stdin() {
    // The data set `DataSet::generate` makes (the earliest anchor), whatever day it is.
    let anchor = ccsqm_sandbox::Anchor::EARLIEST.to_string();
    let details = ccsqm()
        .args(["details", "--sandbox", "--keyword", "refund", "--all"])
        .args(["--anchor", &anchor])
        .output()
        .unwrap();
    assert!(details.status.success(), "{}", stderr(&details));
    let found = uuids_of_ndjson(&stdout(&details));
    assert!(found.len() > 20, "{}", found.len());
    let data =
        ccsqm_sandbox::DataSet::generate(ccsqm_sandbox::DEFAULT_SEED, ccsqm_sandbox::DEFAULT_CALLS);
    let calls: Vec<Value> = ndjson(&stdout(&details));
    let with_transcript: Vec<&String> = found
        .iter()
        .zip(&calls)
        .filter(|(_, c)| {
            ccsqm_sandbox::has_transcript(c["call_type"].as_i64(), c["status"].as_i64())
        })
        .map(|(u, _)| u)
        .collect();
    assert_eq!(with_transcript.len(), found.len(), "each has a transcript");
    // Calls of the data set without a transcript (which no keyword finds).
    let without: Vec<String> = (0..data.len())
        .filter_map(|i| data.call(i))
        .filter(|c| !ccsqm_sandbox::has_transcript(c.call_type, c.status))
        .filter_map(|c| c.call_uuid)
        .take(3)
        .collect();
    assert_eq!(without.len(), 3);

    for (input, concurrency, missing) in [
        (stdout(&details), "4", &[][..]),
        // Bare UUIDs, with blank lines, and calls without a transcript.
        (
            found
                .iter()
                .chain(&without)
                .map(|u| format!("{u}\n\n"))
                .collect(),
            "1",
            &without[..],
        ),
    ] {
        let mut cmd = ccsqm();
        cmd.args(["transcript", "--sandbox", "--stdin", "-o", "ndjson"])
            .args(["--anchor", &anchor])
            .args(["--concurrency", concurrency]);
        let output = with_stdin(cmd, &input);
        assert!(output.status.success(), "{}", stderr(&output));
        let segments = ndjson(&stdout(&output));
        // The calls' segments, in input order, each call's together.
        let mut order: Vec<&str> = Vec::new();
        let mut text: std::collections::HashMap<&str, String> = Default::default();
        for s in &segments {
            let uuid = s["call_uuid"].as_str().unwrap();
            if order.last() != Some(&uuid) {
                order.push(uuid);
            }
            let line = text.entry(uuid).or_default();
            line.push_str(s["asr_text"].as_str().unwrap());
            line.push('\n');
        }
        assert_eq!(
            order, with_transcript,
            "every call with a transcript, once, in order"
        );
        for (uuid, said) in &text {
            assert!(said.to_lowercase().contains("refund"), "{uuid}: {said}");
            let index = data.position(uuid).unwrap();
            assert_eq!(said.trim_end(), data.dialog(index).unwrap());
        }
        let err = stderr(&output);
        for uuid in missing {
            assert!(
                err.contains(&format!("call {uuid}: no transcript")),
                "{uuid}: {err}"
            );
        }
    }
}

#[test]
fn details_with_transcript_adds_the_segments() {
    let output = ccsqm()
        .args([
            "details",
            "--sandbox",
            "--all",
            "--limit",
            "40",
            "--concurrency",
            "3",
        ])
        .arg("--with-transcript")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let lines = ndjson(&stdout(&output));
    assert_eq!(lines.len(), ccsqm_sandbox::DEFAULT_CALLS + 6);
    let summary = format!(
        "ccsqm: {} call(s) written, with 0 paging warning(s); {} page(s) in ",
        lines.len(),
        lines.len().div_ceil(40)
    );
    assert!(stderr(&output).starts_with(&summary), "{}", stderr(&output));
    let plain = ccsqm()
        .args(["details", "--sandbox", "--all", "--limit", "40"])
        .output()
        .unwrap();
    let plain = ndjson(&stdout(&plain));
    for (line, call) in lines.iter().zip(&plain) {
        let mut without = line.clone();
        let segments = without.as_object_mut().unwrap().remove("segments");
        assert_eq!(&without, call, "the call's line is otherwise the same");
        let segments = segments.expect("segments on every line");
        let has =
            ccsqm_sandbox::has_transcript(call["call_type"].as_i64(), call["status"].as_i64());
        assert_eq!(!segments.as_array().unwrap().is_empty(), has, "{call}");
    }
    let one = lines
        .iter()
        .find(|l| l["call_uuid"] == VENDOR_CALLS[0])
        .unwrap();
    let transcript = ccsqm()
        .args(["transcript", "--sandbox", "-o", "json", VENDOR_CALLS[0]])
        .output()
        .unwrap();
    let transcript: Value = serde_json::from_str(&stdout(&transcript)).unwrap();
    assert_eq!(one["segments"], transcript[0]["segments"]);

    for format in ["table", "csv", "json"] {
        let refused = ccsqm()
            .args(["details", "--sandbox", "--with-transcript", "-o", format])
            .output()
            .unwrap();
        assert_eq!(refused.status.code(), Some(2), "{format}");
        assert!(stderr(&refused).contains("--with-transcript"), "{format}");
    }
}

/// One unknown call among known ones: the others are written, the run exits 4 (not found),
/// and an output file is not written (the previous one stays).
#[test]
fn a_failed_call_does_not_stop_the_others_and_sets_the_exit_code() {
    let unknown = "00000000-0000-4000-8000-000000000000";
    let output = ccsqm()
        .args([
            "transcript",
            "--sandbox",
            "-o",
            "ndjson",
            "--concurrency",
            "2",
        ])
        .args([VENDOR_CALLS[0], unknown, VENDOR_CALLS[1]])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    let calls: Vec<String> = ndjson(&stdout(&output))
        .iter()
        .map(|s| s["call_uuid"].as_str().unwrap().to_owned())
        .collect();
    let mut order = calls.clone();
    order.dedup();
    assert_eq!(order, VENDOR_CALLS);
    let err = stderr(&output);
    assert!(
        err.contains(&format!(
            "call {unknown} is unknown (the server has no call"
        )),
        "{err}"
    );
    assert!(err.contains("1 of 3 call(s) failed"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("calls.txt");
    std::fs::write(&file, "before\n").unwrap();
    let output = ccsqm()
        .args(["transcript", "--sandbox", "--output-file"])
        .arg(&file)
        .args([VENDOR_CALLS[0], unknown])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "before\n");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );

    let output = ccsqm()
        .args(["transcript", "--sandbox", "--output-file"])
        .arg(&file)
        .args(VENDOR_CALLS)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(
        written.starts_with("== call 3b9cd7a9"),
        "text by extension: {written}"
    );
}

/// What a server sends is data: control characters and markup do not reach the terminal or the
/// cue; a call with no segments is reported, not failed; numbers as `speaker` and `call_id` read.
#[test]
fn server_text_is_data_and_a_call_without_segments_is_not_a_failure() {
    let server = MockServer::start();
    let hostile: AppraisecallDetailResponse = serde_json::from_value(json!({
        "call_uuid": "00000000-0000-4000-8000-000000000001", "call_id": 123, "staff_name": "Eve\u{1b}]0;owned\u{7}", "status": 2,
        "call_type": 0, "left_channel": "customer", "right_channel": "staff",
        "segments": [
            {"segment_id": 1, "speaker": "right", "start_time": 0.5, "end_time": 2.0,
             "asr_text": "\u{1b}[2J<b>hi</b> & --> bye\nnext"},
            {"segment_id": 2, "speaker": 3, "start_time": 2.5, "end_time": 4.0, "asr_text": "hm"}
        ]
    }))
    .unwrap();
    let silent: AppraisecallDetailResponse = serde_json::from_value(
        json!({"call_uuid": "00000000-0000-4000-8000-000000000002", "status": 31, "call_type": 0}),
    )
    .unwrap();
    for (uuid, response) in [
        ("00000000-0000-4000-8000-000000000001", &hostile),
        ("00000000-0000-4000-8000-000000000002", &silent),
    ] {
        server.appraisecall_detail(|when, then| {
            when.body(&AppraisecallDetailRequest {
                call_uuid: uuid.into(),
            })
            .x_user_id(USER_ID);
            then.ok(response);
        });
    }
    let text = ccsqm_at(&server)
        .args([
            "transcript",
            "-o",
            "text",
            "00000000-0000-4000-8000-000000000001",
            "00000000-0000-4000-8000-000000000002",
        ])
        .output()
        .unwrap();
    assert!(text.status.success(), "{}", stderr(&text));
    let out = stdout(&text);
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
    assert!(
        out.contains("agent     \u{FFFD}[2J<b>hi</b> & --> bye\u{FFFD}next"),
        "{out}"
    );
    assert!(out.contains("unknown   hm"), "{out}");
    assert!(out.contains("(no transcript)"), "{out}");
    assert!(
        stderr(&text).contains(
            "call 00000000-0000-4000-8000-000000000002: no transcript (status: asr-no-speech)"
        ),
        "{}",
        stderr(&text)
    );

    let vtt = ccsqm_at(&server)
        .args([
            "transcript",
            "-o",
            "vtt",
            "00000000-0000-4000-8000-000000000001",
        ])
        .output()
        .unwrap();
    assert!(vtt.status.success());
    let parsed = subtp::vtt::WebVtt::parse(&stdout(&vtt)).unwrap();
    let cues: Vec<_> = parsed
        .blocks
        .iter()
        .filter_map(|b| match b {
            subtp::vtt::VttBlock::Que(c) => Some(c.payload.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        cues,
        [
            vec![
                "<v Agent>\u{FFFD}[2J&lt;b&gt;hi&lt;/b&gt; &amp; --&gt; bye\u{FFFD}next".to_owned()
            ],
            vec!["<v Unknown>hm".to_owned()]
        ]
    );
}

#[test]
fn bad_input_is_refused_before_any_request() {
    let server = MockServer::start();
    let any = server.appraisecall_detail(|_, then| {
        then.not_found();
    });
    for (args, stdin, named) in [
        (vec!["transcript"], None, "CALL_UUID"),
        (vec!["transcript", "-o", "vtt", "a", "b"], None, "vtt"),
        (vec!["transcript", "a b"], None, "CALL_UUID"),
        (vec!["transcript", "--stdin", "a"], None, "--stdin"),
        (
            vec!["transcript", "--concurrency", "0", "a"],
            None,
            "--concurrency",
        ),
        (
            vec!["transcript", "--stdin"],
            Some("u-1\n{\"call_id\": 1}\n"),
            "line 2",
        ),
        (
            vec!["transcript", "--stdin", "-o", "vtt"],
            Some("u-1\nu-2\n"),
            "vtt",
        ),
    ] {
        let mut cmd = ccsqm_at(&server);
        cmd.args(&args);
        let output = with_stdin(cmd, stdin.unwrap_or(""));
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(named),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    any.assert_calls(0);
}

#[test]
fn the_token_never_appears() {
    let server = MockServer::start();
    server.appraisecall_detail(|_, then| {
        then.unauthorized();
    });
    let output = ccsqm_at(&server)
        .args(["-vv", "transcript"])
        .args([
            "00000000-0000-4000-8000-00000000000a",
            "00000000-0000-4000-8000-00000000000b",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(!stderr(&output).contains(TOKEN) && !stdout(&output).contains(TOKEN));
    assert!(stderr(&output).contains("stopped"), "{}", stderr(&output));
}

/// `--with-transcript` when one call's transcript cannot be fetched: every call is written,
/// that one without `segments`, and the run fails with the class of the failure.
#[test]
fn details_with_a_missing_transcript_fails_after_writing_every_call() {
    let server = MockServer::start();
    let page: ccsqm_models::AppraisecallDetailsResponse =
        serde_json::from_value(common::fixture("seed-response.json")).unwrap();
    server.appraisecall_details(|_, then| {
        then.ok(&page);
    });
    let uuids: Vec<String> = page
        .data
        .iter()
        .flat_map(|g| &g.calls)
        .map(|c| c.call_uuid.clone().unwrap())
        .collect();
    for (k, uuid) in uuids.iter().enumerate() {
        let body = AppraisecallDetailRequest {
            call_uuid: uuid.clone(),
        };
        let answer: AppraisecallDetailResponse = serde_json::from_value(json!({
            "call_uuid": uuid,
            "segments": [{"segment_id": 1, "speaker": "staff", "start_time": 0.0,
                          "end_time": 1.0, "asr_text": format!("hello {k}")}]
        }))
        .unwrap();
        server.appraisecall_detail(|when, then| {
            when.body(&body);
            if k == 2 {
                then.not_found();
            } else {
                then.ok(&answer);
            }
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("calls.ndjson");
    let output = ccsqm_at(&server)
        .args(["details", "--with-transcript"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    let lines = ndjson(&stdout(&output));
    assert_eq!(lines.len(), uuids.len());
    for (k, line) in lines.iter().enumerate() {
        assert_eq!(line["call_uuid"], uuids[k].as_str());
        if k == 2 {
            assert!(line.get("segments").is_none(), "{line}");
        } else {
            assert_eq!(line["segments"][0]["asr_text"], format!("hello {k}"));
        }
    }
    assert!(stderr(&output).contains(&format!(
        "call {}: transcript: appraisecall/detail has no call with this call_uuid (HTTP 404)",
        uuids[2]
    )));
    let output = ccsqm_at(&server)
        .args(["details", "--with-transcript", "--output-file"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4));
    assert!(!file.exists());
}

/// The format follows the output file's extension (another is refused, as for `details`); a
/// call given twice is written twice.
#[test]
fn output_files_by_extension_and_every_input_once() {
    let dir = tempfile::tempdir().unwrap();
    let unknown = dir.path().join("a.out");
    let output = ccsqm()
        .args(["transcript", "--sandbox", VENDOR_CALLS[0], "--output-file"])
        .arg(&unknown)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("--output"), "{}", stderr(&output));
    assert!(!unknown.exists());
    for (name, starts) in [
        ("a.vtt", "WEBVTT\n"),
        ("a.json", "[\n{"),
        ("a.txt", "== call "),
        ("a.ndjson", "{\"call_uuid\""),
        ("a.jsonl", "{\"call_uuid\""),
    ] {
        let file = dir.path().join(name);
        let output = ccsqm()
            .args(["transcript", "--sandbox", VENDOR_CALLS[0], "--output-file"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        let written = std::fs::read_to_string(&file).unwrap();
        assert!(written.starts_with(starts), "{name}: {written}");
    }
    let twice = ccsqm()
        .args([
            "transcript",
            "--sandbox",
            "-o",
            "json",
            VENDOR_CALLS[1],
            VENDOR_CALLS[1],
        ])
        .output()
        .unwrap();
    let responses: Value = serde_json::from_str(&stdout(&twice)).unwrap();
    assert_eq!(responses.as_array().unwrap().len(), 2);
    assert_eq!(responses[0], responses[1]);
}
