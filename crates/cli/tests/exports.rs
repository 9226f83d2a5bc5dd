//! Exports and files: `ccsqm details --all` against servers whose pages do not add up, and
//! `--output-file` against what may be at its path (a directory, a symbolic link, a FIFO,
//! a hard link, a file with its own mode), signals during an export, and body size caps.
//!
//! The standard: an export delivers every call exactly once, or fails with a non-zero exit
//! and leaves the previous output file untouched.
//!
//! Run them with `cargo test -p ccsqm-cli --test exports`.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

mod common;
use common::{ccsqm, read_request, run_within, stderr, stdout, uuids_of_ndjson, wait_within};

const USER_ID: &str = "1611917095665261978";
const PREVIOUS: &str = "the previous, complete export\n";

/// How a test server answers one query: from its JSON body, and the number of queries before
/// it, the status and the body.
type Answer = dyn Fn(&Value, u64) -> (u16, Vec<u8>) + Send + Sync;

/// A server on a free loopback port answering each query with `answer`, on its own threads,
/// for the rest of the test process; and the number of queries it has received.
fn server(
    answer: impl Fn(&Value, u64) -> (u16, Vec<u8>) + Send + Sync + 'static,
) -> (String, Arc<AtomicU64>) {
    let answer: Arc<Answer> = Arc::new(answer);
    let hits = Arc::new(AtomicU64::new(0));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let (answer, counter) = (answer.clone(), counter.clone());
            std::thread::spawn(move || {
                let Ok((stream, body)) = read_request(stream) else {
                    return;
                };
                let query: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let before = counter.fetch_add(1, Ordering::SeqCst);
                let (status, body) = answer(&query, before);
                respond(stream, status, &body);
            });
        }
    });
    (format!("http://{addr}"), hits)
}

fn respond(mut stream: TcpStream, status: u16, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

/// A page holding the calls numbered `numbers`, each in its own group, with `total`.
fn page_of(numbers: impl IntoIterator<Item = u64>, total: Value) -> Vec<u8> {
    let data: Vec<Value> = numbers
        .into_iter()
        .map(|n| {
            json!({"call_group_id": format!("g{n}"),
                   "calls": [{"call_uuid": format!("c{n}"), "status": 2, "call_type": 0}]})
        })
        .collect();
    json!({"data": data, "paging": {"total": total}})
        .to_string()
        .into_bytes()
}

fn page_and_limit(query: &Value) -> (u64, u64) {
    (
        query["page"].as_u64().unwrap_or(1),
        query["limit"].as_u64().unwrap_or(100),
    )
}

/// An honest server holding `calls` calls, that returns at most `cap` per page (offsets in
/// the size it returns).
fn honest(calls: u64, cap: u64) -> impl Fn(&Value, u64) -> (u16, Vec<u8>) {
    move |query, _| {
        let (page, limit) = page_and_limit(query);
        let size = limit.min(cap);
        let first = (page - 1) * size;
        (200, page_of(first..(first + size).min(calls), json!(calls)))
    }
}

/// `ccsqm details` against `base_url`, with a token, one retry at most and a short timeout.
fn details_at(base_url: &str) -> Command {
    let mut cmd = ccsqm();
    cmd.env("CCSQM_BASE_URL", base_url)
        .env("CCSQM_TOKEN", "exports-test-token")
        .env("CCSQM_USER_ID", USER_ID)
        .args(["details", "--timeout", "5", "--max-retries", "1"]);
    cmd
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A folder holding `calls.ndjson` with [`PREVIOUS`] in it.
fn folder_with_previous_export() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("calls.ndjson");
    std::fs::write(&file, PREVIOUS).unwrap();
    (dir, file)
}

// ---------------------------------------------------------------------------------------------
// Exports: complete, or a failure

#[test]
fn exports_whose_pages_do_not_add_up_fail_and_keep_the_previous_file() {
    type Server = Box<dyn Fn(&Value, u64) -> (u16, Vec<u8>) + Send + Sync>;
    // (what, server, what stderr says)
    let cases: Vec<(&str, Server, &str)> = vec![
        (
            "pages that run out before paging.total",
            Box::new(|query, _| {
                let (page, limit) = page_and_limit(query);
                let first = (page - 1) * limit;
                (200, page_of(first..(first + limit).min(120), json!(300)))
            }),
            "says 180 more remain",
        ),
        (
            "a total of 10^12 with empty pages",
            Box::new(|_, _| (200, page_of(0..0, json!(1_000_000_000_000u64)))),
            "held 0 call(s)",
        ),
        (
            "pages that alternate A, B, A, B",
            Box::new(|query, _| {
                let (page, limit) = page_and_limit(query);
                let first = ((page - 1) % 2) * limit;
                (200, page_of(first..first + limit, json!(400)))
            }),
            "page 3 repeats 40 call(s)",
        ),
        (
            "a server that ignores the page number",
            Box::new(|query, _| {
                let (_, limit) = page_and_limit(query);
                (200, page_of(0..limit, json!(400)))
            }),
            "page 2 repeats 40 call(s)",
        ),
        (
            "a total that grows with every page",
            Box::new(|query, _| {
                let (page, limit) = page_and_limit(query);
                let first = (page - 1) * limit;
                (
                    200,
                    page_of(first..first + limit, json!(100 + page * limit)),
                )
            }),
            "paging.total changed from 140 to 180",
        ),
        (
            "more calls than paging.total",
            Box::new(|query, _| {
                let (page, limit) = page_and_limit(query);
                let first = (page - 1) * limit;
                (200, page_of(first..(first + limit).min(130), json!(100)))
            }),
            "paging.total is 100 but the pages held 120",
        ),
    ];
    for (what, answer, says) in cases {
        let (base_url, _) = server(answer);
        let (dir, file) = folder_with_previous_export();
        let output = run_within(
            details_at(&base_url)
                .args([
                    "--all",
                    "--limit",
                    "40",
                    "--concurrency",
                    "3",
                    "--output-file",
                ])
                .arg(&file),
            Duration::from_secs(60),
        );
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(5), "{what}: {err}");
        assert!(err.contains(says), "{what}: should say {says:?}: {err}");
        assert!(
            err.contains("incomplete") && err.contains("--allow-partial"),
            "{what}: {err}"
        );
        assert!(!err.contains("panicked"), "{what}: {err}");
        assert!(
            err.contains("the output file was not written"),
            "{what}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{what}: one line: {err}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), PREVIOUS, "{what}");
        assert_eq!(
            names_in(dir.path()),
            ["calls.ndjson"],
            "{what}: no temporary file left"
        );

        // Accepted as partial: exit 0, each call once, the warnings on stderr and counted.
        let output = run_within(
            details_at(&base_url)
                .args(["--all", "--allow-partial", "--limit", "40", "--output-file"])
                .arg(&file),
            Duration::from_secs(60),
        );
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(0), "{what}, partial: {err}");
        let uuids = uuids_of_ndjson(&std::fs::read_to_string(&file).unwrap());
        let unique: BTreeSet<&String> = uuids.iter().collect();
        assert_eq!(uuids.len(), unique.len(), "{what}, partial: each call once");
        let warnings = err
            .lines()
            .filter(|l| l.starts_with("ccsqm: warning: "))
            .count();
        assert!(warnings >= 1, "{what}, partial: {err}");
        assert!(
            err.contains(&format!(
                "{} call(s) written, with {warnings} paging warning(s)",
                uuids.len()
            )),
            "{what}, partial: {err}"
        );
    }
}

#[test]
fn exports_from_a_server_that_caps_the_limit_are_complete() {
    // Asked for 100 per page, the server returns 30; its pages count in 30s.
    let (base_url, hits) = server(honest(250, 30));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("calls.ndjson");
    let output = run_within(
        details_at(&base_url)
            .args([
                "--all",
                "--limit",
                "100",
                "--concurrency",
                "4",
                "--output-file",
            ])
            .arg(&file),
        Duration::from_secs(60),
    );
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(
        err.contains("returns at most 30 call(s) per page (100 asked for)"),
        "{err}"
    );
    let uuids = uuids_of_ndjson(&std::fs::read_to_string(&file).unwrap());
    let expected: Vec<String> = (0..250).map(|n| format!("c{n}")).collect();
    assert_eq!(uuids, expected, "every call once, in order");
    assert_eq!(hits.load(Ordering::SeqCst), 9, "250 calls in pages of 30");
}

#[test]
fn exports_read_a_total_written_as_a_float_or_a_string() {
    for total in [json!(95.0), json!("95"), json!("95.0")] {
        let answer = move |query: &Value, _| {
            let (page, limit) = page_and_limit(query);
            let first = (page - 1) * limit;
            (200, page_of(first..(first + limit).min(95), total.clone()))
        };
        let (base_url, _) = server(answer);
        let output = run_within(
            details_at(&base_url).args(["--all", "--limit", "20", "-o", "ndjson"]),
            Duration::from_secs(60),
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        // No warning: only the summary of the export.
        let err = stderr(&output);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("ccsqm: 95 call(s) written, with 0 paging warning(s); 5 page(s) in "),
            "{err}"
        );
        assert_eq!(uuids_of_ndjson(&stdout(&output)).len(), 95);
    }
}

#[test]
fn exports_print_each_warning_as_found_even_when_a_later_page_fails() {
    // Page 2 repeats a call of page 1 (a warning with --allow-partial); page 3 fails.
    let (base_url, _) = server(|query, _| {
        let (page, limit) = page_and_limit(query);
        match page {
            1 => (200, page_of(0..limit, json!(100))),
            2 => (200, page_of(limit - 1..2 * limit - 1, json!(100))),
            _ => (400, b"{}".to_vec()),
        }
    });
    let (dir, file) = folder_with_previous_export();
    let output = run_within(
        details_at(&base_url)
            .args(["--all", "--allow-partial", "--limit", "10", "--output-file"])
            .arg(&file),
        Duration::from_secs(60),
    );
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(5), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert_eq!(
        lines[0],
        "ccsqm: warning: page 2 repeats 1 call(s) of earlier pages"
    );
    assert!(
        lines[1].starts_with(
            "ccsqm: the export failed after 19 call(s), with 1 paging warning(s): HTTP 400"
        ),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), PREVIOUS);
    assert_eq!(names_in(dir.path()), ["calls.ndjson"]);
}

// ---------------------------------------------------------------------------------------------
// Files

#[test]
fn files_that_cannot_be_written_are_refused_before_any_request() {
    let (base_url, hits) = server(honest(10, 100));
    let dir = tempfile::tempdir().unwrap();
    let cases: [(PathBuf, &str); 4] = [
        (dir.path().to_owned(), "is a directory"),
        (dir.path().join("missing").join("calls.csv"), "missing"),
        (
            dir.path().join("calls.txt"),
            ".csv, .json, .ndjson or .jsonl",
        ),
        (
            dir.path().join("calls"),
            "--output (ndjson, csv, json, table)",
        ),
    ];
    for (path, says) in cases {
        let output = run_within(
            details_at(&base_url)
                .arg("--all")
                .arg("--output-file")
                .arg(&path),
            Duration::from_secs(30),
        );
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{}: {err}", path.display());
        assert!(
            err.contains(says),
            "{}: should say {says:?}: {err}",
            path.display()
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "no request was sent");
    assert!(names_in(dir.path()).is_empty());

    // An explicit --output writes any name.
    let file = dir.path().join("calls.txt");
    let output = run_within(
        details_at(&base_url)
            .args(["--all", "-o", "csv", "--output-file"])
            .arg(&file),
        Duration::from_secs(30),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 11);
}

#[test]
fn files_named_json_get_a_json_document_and_jsonl_gets_lines() {
    let (base_url, _) = server(honest(57, 100));
    let dir = tempfile::tempdir().unwrap();
    let json_file = dir.path().join("calls.JSON");
    let output = run_within(
        details_at(&base_url)
            .args(["--all", "--limit", "20", "--output-file"])
            .arg(&json_file),
        Duration::from_secs(30),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let document: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&json_file).unwrap()).unwrap();
    let uuids: Vec<&str> = document
        .iter()
        .map(|c| c["call_uuid"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (0..57).map(|n| format!("c{n}")).collect();
    assert_eq!(uuids, expected);
    assert_eq!(document[3]["call_group_id"], "g3");

    // No call: an empty array.
    let (empty_url, _) = server(honest(0, 100));
    let output = run_within(
        details_at(&empty_url)
            .args(["--all", "--output-file"])
            .arg(&json_file),
        Duration::from_secs(30),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let document: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_file).unwrap()).unwrap();
    assert_eq!(document, json!([]));

    let lines_file = dir.path().join("calls.jsonl");
    let output = run_within(
        details_at(&base_url)
            .args(["--all", "--output-file"])
            .arg(&lines_file),
        Duration::from_secs(30),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        uuids_of_ndjson(&std::fs::read_to_string(&lines_file).unwrap()),
        expected
    );
}

/// `ccsqm details --all --output-file PATH` run by `sh` with `umask`.
fn export_with_umask(base_url: &str, umask: &str, path: &Path) -> Output {
    let cmd = details_at(base_url);
    let program = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
        .arg(program)
        .args(args)
        .args(["--all", "--output-file"])
        .arg(path);
    for (name, value) in cmd.get_envs() {
        match value {
            Some(value) => sh.env(name, value),
            None => sh.env_remove(name),
        };
    }
    run_within(&mut sh, Duration::from_secs(30))
}

#[test]
fn files_are_created_with_the_umask_or_keep_the_mode_they_had() {
    let (base_url, _) = server(honest(5, 100));
    let dir = tempfile::tempdir().unwrap();
    for (umask, mode) in [("022", 0o644), ("027", 0o640), ("077", 0o600)] {
        let file = dir.path().join(format!("new-{umask}.csv"));
        let output = export_with_umask(&base_url, umask, &file);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let written = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(written, mode, "umask {umask}: {written:o}");
    }
    // A file replaced keeps its mode, whatever the umask.
    let file = dir.path().join("kept.csv");
    std::fs::write(&file, PREVIOUS).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o604)).unwrap();
    let output = export_with_umask(&base_url, "077", &file);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o604
    );
    assert_ne!(std::fs::read_to_string(&file).unwrap(), PREVIOUS);
}

#[test]
fn files_behind_symbolic_links_are_replaced_and_the_links_kept() {
    let (base_url, _) = server(honest(7, 100));
    let dir = tempfile::tempdir().unwrap();
    let real_dir = dir.path().join("real");
    std::fs::create_dir(&real_dir).unwrap();
    let target = real_dir.join("calls.ndjson");
    std::fs::write(&target, PREVIOUS).unwrap();
    let link = dir.path().join("latest.ndjson");
    std::os::unix::fs::symlink("real/calls.ndjson", &link).unwrap();
    let dangling = dir.path().join("next.ndjson");
    std::os::unix::fs::symlink("real/next.ndjson", &dangling).unwrap();

    for path in [&link, &dangling] {
        let output = run_within(
            details_at(&base_url)
                .args(["--all", "--output-file"])
                .arg(path),
            Duration::from_secs(30),
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert!(std::fs::symlink_metadata(path)
            .unwrap()
            .file_type()
            .is_symlink());
    }
    for written in [&target, &real_dir.join("next.ndjson")] {
        assert_eq!(
            uuids_of_ndjson(&std::fs::read_to_string(written).unwrap()).len(),
            7
        );
    }
    assert_eq!(
        names_in(dir.path()),
        ["latest.ndjson", "next.ndjson", "real"]
    );
    assert_eq!(names_in(&real_dir), ["calls.ndjson", "next.ndjson"]);
}

#[test]
fn files_with_other_hard_links_are_replaced_and_the_links_keep_the_old_content() {
    let (base_url, _) = server(honest(3, 100));
    let (dir, file) = folder_with_previous_export();
    let other = dir.path().join("backup.ndjson");
    std::fs::hard_link(&file, &other).unwrap();
    let output = run_within(
        details_at(&base_url)
            .args(["--all", "--output-file"])
            .arg(&file),
        Duration::from_secs(30),
    );
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(err.contains("1 other hard link(s)"), "{err}");
    assert_eq!(
        uuids_of_ndjson(&std::fs::read_to_string(&file).unwrap()).len(),
        3
    );
    assert_eq!(std::fs::read_to_string(&other).unwrap(), PREVIOUS);
}

#[test]
fn files_that_are_fifos_or_dev_stdout_are_written_directly() {
    let (base_url, _) = server(honest(12, 100));
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("calls.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let output = run_within(
        details_at(&base_url)
            .args(["--all", "--output-file"])
            .arg(&fifo),
        Duration::from_secs(30),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // Checked first: were it replaced, its reader would wait for ever.
    assert!(
        std::os::unix::fs::FileTypeExt::is_fifo(
            &std::fs::symlink_metadata(&fifo).unwrap().file_type()
        ),
        "still a FIFO"
    );
    assert_eq!(
        uuids_of_ndjson(&reader.join().unwrap()).len(),
        12,
        "ndjson through the FIFO"
    );
    assert_eq!(names_in(dir.path()), ["calls.fifo"]);

    let output = run_within(
        details_at(&base_url).args(["--all", "-o", "csv", "--output-file", "/dev/stdout"]),
        Duration::from_secs(30),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output).lines().count(),
        13,
        "the header and 12 rows"
    );

    // /dev/stdout that a shell appends to a file (`>>`): written through, after what is there.
    let file = dir.path().join("appended.ndjson");
    std::fs::write(&file, PREVIOUS).unwrap();
    let inode = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&file).unwrap());
    let cmd = details_at(&base_url);
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg("exec \"$0\" \"$@\" >> \"$APPENDED\"")
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .args(["--all", "--output-file", "/dev/stdout"])
        .env("APPENDED", &file);
    for (name, value) in cmd.get_envs() {
        match value {
            Some(value) => sh.env(name, value),
            None => sh.env_remove(name),
        };
    }
    let output = run_within(&mut sh, Duration::from_secs(30));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let written = std::fs::read_to_string(&file).unwrap();
    let rest = written
        .strip_prefix(PREVIOUS)
        .expect("appended after the previous content");
    assert_eq!(uuids_of_ndjson(rest).len(), 12);
    let now = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&file).unwrap());
    assert_eq!(now, inode, "the same file, not replaced");
}

#[test]
fn files_are_removed_on_sigint_sigterm_and_sighup() {
    // The first page never comes (within the test).
    let (base_url, hits) = server(|_, _| {
        std::thread::sleep(Duration::from_secs(60));
        (200, Vec::new())
    });
    for (signal, code) in [("INT", 130), ("TERM", 143), ("HUP", 129)] {
        let (dir, file) = folder_with_previous_export();
        let before = hits.load(Ordering::SeqCst);
        let mut child = ccsqm()
            .env("CCSQM_BASE_URL", &base_url)
            .env("CCSQM_TOKEN", "exports-test-token")
            .env("CCSQM_USER_ID", USER_ID)
            .args(["details", "--all", "--timeout", "120", "--output-file"])
            .arg(&file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Once the first page is asked for, the temporary file exists.
        let started = Instant::now();
        while hits.load(Ordering::SeqCst) == before {
            assert!(child.try_wait().unwrap().is_none(), "ccsqm ended early");
            assert!(started.elapsed() < Duration::from_secs(30), "no request");
            std::thread::sleep(Duration::from_millis(10));
        }
        // The temporary file exists: named in the folder, or unnamed (O_TMPFILE) and open there.
        let names = names_in(dir.path());
        let open_in_folder = std::fs::read_dir(format!("/proc/{}/fd", child.id()))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .any(|target| target.starts_with(dir.path()));
        assert!(names.len() == 2 || open_in_folder, "{names:?}");
        let sent = Command::new("kill")
            .args(["-s", signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = wait_within(&mut child, Instant::now(), Duration::from_secs(30));
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert_eq!(status.code(), Some(code), "SIG{signal}: {err}");
        assert!(
            err.contains(&format!("interrupted by SIG{signal}")),
            "{err}"
        );
        assert_eq!(
            names_in(dir.path()),
            ["calls.ndjson"],
            "SIG{signal}: temporary file removed"
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), PREVIOUS);
    }
}

// ---------------------------------------------------------------------------------------------
// Response size

#[test]
fn responses_larger_than_the_cap_fail_clearly() {
    // 300 calls: about 20 KB.
    let (base_url, hits) = server(honest(300, 1000));
    let (dir, file) = folder_with_previous_export();
    for size in ["8KiB", "10000"] {
        let before = hits.load(Ordering::SeqCst);
        let output = run_within(
            details_at(&base_url)
                .args([
                    "--all",
                    "--limit",
                    "1000",
                    "--max-body-size",
                    size,
                    "--output-file",
                ])
                .arg(&file),
            Duration::from_secs(30),
        );
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(5), "{err}");
        assert!(err.contains("response too large (HTTP 200 OK)"), "{err}");
        assert!(err.contains("larger than the limit of"), "{err}");
        assert_eq!(hits.load(Ordering::SeqCst) - before, 1, "not retried");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), PREVIOUS);
        assert_eq!(names_in(dir.path()), ["calls.ndjson"]);
    }
    let output = run_within(
        details_at(&base_url)
            .args(["--all", "--limit", "1000"])
            .env("CCSQM_MAX_BODY_SIZE", "1MiB")
            .arg("--output-file")
            .arg(&file),
        Duration::from_secs(30),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        uuids_of_ndjson(&std::fs::read_to_string(&file).unwrap()).len(),
        300
    );

    let output = run_within(
        details_at(&base_url).args(["--max-body-size", "0"]),
        Duration::from_secs(30),
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));

    // No Content-Length: the body is read until the cap, not further.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            std::thread::spawn(move || {
                let Ok((mut stream, _)) = read_request(stream) else {
                    return;
                };
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                            connection: close\r\n\r\n";
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&page_of(0..300, json!(300)));
            });
        }
    });
    let output = run_within(
        details_at(&format!("http://{addr}")).args(["--max-body-size", "5KB"]),
        Duration::from_secs(30),
    );
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(5), "{err}");
    assert!(err.contains("larger than the limit of 5000 bytes"), "{err}");
}
