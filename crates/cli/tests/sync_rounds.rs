//! `ccsqm sync` against a test server whose answers the tests shape: a clock far ahead, text
//! PostgreSQL cannot hold, a transcript that is not found, transcripts too large to hold at once,
//! and a `--watch` whose rounds fail for a while. SQLite always, PostgreSQL when
//! `CCSQM_TEST_POSTGRES_URL` names a server (`.ci/postgres.sh` starts one).
//!
//! Run them with `cargo test -p ccsqm-cli --test sync_rounds`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

mod common;
use common::databases::{backends, Backend};
use common::{ccsqm, run_within, stderr, wait_within};

const LIMIT: Duration = Duration::from_secs(240);

/// A request: its path and JSON body.
struct Request {
    path: String,
    body: Value,
}

/// An answer: status, extra header lines, body.
struct Answer {
    status: u16,
    headers: Vec<String>,
    body: Arc<Vec<u8>>,
}

impl Answer {
    fn json(value: Value) -> Answer {
        Answer {
            status: 200,
            headers: Vec::new(),
            body: Arc::new(value.to_string().into_bytes()),
        }
    }

    fn status(status: u16) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: Arc::new(br#"{"error_code":"x","error_msg":"refused"}"#.to_vec()),
        }
    }
}

/// A server on a free loopback port answering each request with `answer(request, mode)`, where
/// `mode` is what the test set last: the base URL and the mode's switch.
fn server(
    answer: impl Fn(&Request, u64) -> Answer + Send + Sync + 'static,
) -> (String, Arc<AtomicU64>) {
    let answer = Arc::new(answer);
    let mode = Arc::new(AtomicU64::new(0));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let switch = mode.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let (answer, mode) = (answer.clone(), mode.clone());
            std::thread::spawn(move || {
                let Ok((mut stream, request)) = read(stream) else {
                    return;
                };
                let answer = answer(&request, mode.load(Ordering::SeqCst));
                let mut head = format!(
                    "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                     connection: close\r\n",
                    answer.status,
                    answer.body.len()
                );
                for header in &answer.headers {
                    head.push_str(header);
                    head.push_str("\r\n");
                }
                head.push_str("\r\n");
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&answer.body);
            });
        }
    });
    (format!("http://{addr}"), switch)
}

fn read(stream: TcpStream) -> std::io::Result<(TcpStream, Request)> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream);
    let mut first = String::new();
    reader.read_line(&mut first)?;
    let path = first.split(' ').nth(1).unwrap_or("").to_owned();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Ok((reader.into_inner(), Request { path, body }))
}

/// A call as the server sends it.
fn call(uuid: &str, upload_time: i64, staff_name: &str) -> Value {
    json!({"call_uuid": uuid, "status": 2, "call_type": 0, "upload_time": upload_time,
           "staff_name": staff_name})
}

/// The page `request` asks for of `calls` (each in its own group): those uploaded within its
/// window, in order.
fn page(request: &Request, calls: &[Value]) -> Answer {
    let from = request.body["upload_from"].as_i64().unwrap_or(i64::MIN);
    let to = request.body["upload_to"].as_i64().unwrap_or(i64::MAX);
    let matching: Vec<&Value> = calls
        .iter()
        .filter(|c| (from..=to).contains(&c["upload_time"].as_i64().unwrap()))
        .collect();
    let limit = request.body["limit"].as_u64().unwrap_or(100) as usize;
    let page = request.body["page"].as_u64().unwrap_or(1) as usize;
    let data: Vec<Value> = matching
        .iter()
        .skip((page - 1) * limit)
        .take(limit)
        .map(|c| json!({"call_group_id": format!("g-{}", c["call_uuid"].as_str().unwrap()), "calls": [c]}))
        .collect();
    Answer::json(json!({"data": data, "paging": {"total": matching.len()}}))
}

fn is_transcript(request: &Request) -> bool {
    request.path.ends_with("/appraisecall/detail")
}

fn sync_cmd(base_url: &str, db: &str, extra: &[&str]) -> Command {
    let mut cmd = ccsqm();
    cmd.env("CCSQM_BASE_URL", base_url)
        .env("CCSQM_USER_ID", "u")
        .env("CCSQM_TOKEN", "t0k3n-not-shown")
        .args(["sync", "--db", db, "--max-retries", "0"])
        .args(extra);
    cmd
}

fn sync_at(base_url: &str, db: &str, extra: &[&str]) -> Output {
    run_within(&mut sync_cmd(base_url, db, extra), LIMIT)
}

fn succeeded(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: {:?}\n{}",
        output.status,
        stderr(output)
    );
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn checkpoint(backend: &Backend) -> i64 {
    backend.rows("sync_checkpoint")[0]["upload_to"]
        .as_i64()
        .unwrap()
}

/// A server whose `Date` is three years ahead bounds no run: the checkpoint stays at this
/// machine's clock, the run says why (stderr and `sync status`), and a call uploaded after the
/// run is read by the next one.
#[test]
fn a_server_clock_far_ahead_does_not_move_the_checkpoint_past_this_machines() {
    let start = now();
    let ahead = httpdate(start + 3 * 365 * 86_400);
    let (url, mode) = server(move |request, mode| {
        let mut calls = vec![call("c1", start - 100, "a"), call("c2", start - 50, "b")];
        if mode == 1 {
            // Uploaded after the first run, at the server's real time.
            calls.push(call("c3", now() - 1, "c"));
        }
        let mut answer = page(request, &calls);
        answer.headers.push(format!("date: {ahead}"));
        answer
    });
    for backend in backends("clock_ahead") {
        let db = backend.url();
        let output = sync_at(&url, &db, &["--overlap", "1s"]);
        succeeded(&output, "the first sync");
        let err = stderr(&output);
        assert!(err.contains("ahead of this machine's"), "{err}");
        let bound = checkpoint(&backend);
        assert!(
            bound <= now() && bound >= start,
            "{}: the checkpoint {bound} is not this machine's clock ({start}..{})",
            backend.name(),
            now()
        );
        assert_eq!(backend.count(), 2);
        let status = ccsqm()
            .args(["sync", "status", "--db", &db])
            .output()
            .unwrap();
        let shown = String::from_utf8_lossy(&status.stdout);
        assert!(shown.contains("ahead of this machine's"), "{shown}");

        std::thread::sleep(Duration::from_millis(1_100));
        mode.store(1, Ordering::SeqCst);
        succeeded(&sync_at(&url, &db, &["--overlap", "1s"]), "the second sync");
        assert_eq!(
            backend.count(),
            3,
            "{}: the call uploaded later",
            backend.name()
        );
        mode.store(0, Ordering::SeqCst);
    }
}

fn httpdate(seconds: i64) -> String {
    let time = jiff::Timestamp::from_second(seconds).unwrap();
    time.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// A NUL character in a call's text and in a segment's is stored (PostgreSQL: as U+FFFD,
/// counted as a warning; SQLite: as sent); the run succeeds and stores every call.
#[test]
fn text_with_nul_characters_is_stored_in_every_database() {
    let start = now();
    let (url, _) = server(move |request, _| {
        if is_transcript(request) {
            return Answer::json(json!({"call_uuid": request.body["call_uuid"], "segments": [
                {"segment_id": 1, "speaker": "staff", "start_time": 0.0, "end_time": 1.0,
                 "asr_text": "hello\u{0}world"}]}));
        }
        let calls: Vec<Value> = (0..5)
            .map(|i| call(&format!("c{i}"), start - 100 + i, &format!("staff\u{0}{i}")))
            .collect();
        page(request, &calls)
    });
    for backend in backends("nul_text") {
        let db = backend.url();
        let output = sync_at(&url, &db, &["--with-transcripts"]);
        succeeded(&output, backend.name());
        let err = stderr(&output);
        assert_eq!(backend.count(), 5, "{err}");
        let rows = backend.rows("calls");
        let segments = backend.rows("call_segments");
        assert_eq!(segments.len(), 5, "{err}");
        match backend {
            Backend::Postgres { .. } => {
                assert!(err.contains("staff_name holds NUL characters"), "{err}");
                assert!(err.contains("asr_text holds NUL characters"), "{err}");
                assert!(err.contains("10 warning(s)"), "{err}");
                for row in &rows {
                    let name = row["staff_name"].as_str().unwrap();
                    assert!(name.starts_with("staff\u{FFFD}"), "{name:?}");
                }
                assert_eq!(segments[0]["asr_text"], "hello\u{FFFD}world");
            }
            Backend::Sqlite { .. } => {
                assert!(!err.contains("NUL"), "{err}");
                for row in &rows {
                    let name = row["staff_name"].as_str().unwrap();
                    assert!(name.starts_with("staff\u{0}"), "{name:?}");
                }
                assert_eq!(segments[0]["asr_text"], "hello\u{0}world");
            }
        }
    }
}

/// One call of 150 whose transcript answers 404: every call is stored, the transcript is
/// recorded as missing (shown by `sync status`), the exit code is 4; the next run tries it
/// again and, once the server has it, stores it and exits 0.
#[test]
fn a_missing_transcript_holds_back_no_call_and_is_tried_again() {
    let start = now();
    let (url, mode) = server(move |request, mode| {
        if is_transcript(request) {
            let uuid = request.body["call_uuid"].as_str().unwrap_or("");
            if uuid == "c7" && mode == 0 {
                return Answer::status(404);
            }
            return Answer::json(json!({"call_uuid": uuid, "segments": [
                {"segment_id": 1, "speaker": "staff", "start_time": 0.0, "end_time": 1.0,
                 "asr_text": format!("text of {uuid}")}]}));
        }
        let calls: Vec<Value> = (0..150)
            .map(|i| call(&format!("c{i}"), start - 1_000 + i, "s"))
            .collect();
        page(request, &calls)
    });
    for backend in backends("missing_transcript") {
        let db = backend.url();
        let output = sync_at(&url, &db, &["--with-transcripts", "--limit", "50"]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(4), "{err}");
        assert!(
            err.contains("1 transcript(s) could not be fetched"),
            "{err}"
        );
        assert_eq!(backend.count(), 150, "{err}");
        assert_eq!(backend.rows("call_transcripts").len(), 149);
        let missing = backend.rows("missing_transcripts");
        assert_eq!(missing.len(), 1, "{missing:?}");
        assert_eq!(missing[0]["call_uuid"], "c7");
        assert!(
            !backend.rows("sync_checkpoint").is_empty(),
            "the checkpoint moved"
        );
        let status = ccsqm()
            .args(["sync", "status", "--db", &db])
            .output()
            .unwrap();
        let shown = String::from_utf8_lossy(&status.stdout);
        assert!(shown.contains("missing transcripts: 1"), "{shown}");
        assert!(shown.contains("c7"), "{shown}");

        // Still missing: tried again, still exit 4.
        std::thread::sleep(Duration::from_millis(1_100));
        let output = sync_at(&url, &db, &["--with-transcripts"]);
        assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
        assert_eq!(backend.rows("missing_transcripts")[0]["tries"], 2);

        // The server has it now.
        std::thread::sleep(Duration::from_millis(1_100));
        mode.store(1, Ordering::SeqCst);
        succeeded(
            &sync_at(&url, &db, &["--with-transcripts"]),
            "the third sync",
        );
        assert!(backend.rows("missing_transcripts").is_empty());
        assert_eq!(backend.rows("call_transcripts").len(), 150);
        let segments = backend.rows("call_segments");
        assert!(segments
            .iter()
            .any(|s| s["call_uuid"] == "c7" && s["asr_text"] == "text of c7"));
        mode.store(0, Ordering::SeqCst);
    }
}

/// The peak memory of a child (its maximum resident set, in bytes), waited for with `wait4`.
fn peak_rss(mut cmd: Command) -> (i32, u64, String) {
    #[allow(clippy::zombie_processes)] // waited for by wait4, which clippy does not know
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut err = child.stderr.unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = err.read_to_string(&mut text);
        text
    });
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a child of this process, waited for once; `usage` is a valid rusage.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, usage.ru_maxrss as u64 * 1024, reader.join().unwrap())
}

/// 100 calls whose transcripts hold 3 MB of text each, on pages of 100: the sync's memory
/// stays far below what the page's transcripts take together (300 MB).
#[test]
fn transcripts_are_written_as_they_arrive_not_held() {
    let start = now();
    let segment_text = "x".repeat(10_000);
    let segments: Vec<Value> = (0..300)
        .map(|i| {
            json!({"segment_id": i, "speaker": "staff", "start_time": i, "end_time": i + 1,
                        "asr_text": segment_text})
        })
        .collect();
    let transcript = Arc::new(json!({"segments": segments}).to_string().into_bytes());
    let (url, _) = server(move |request, _| {
        if is_transcript(request) {
            return Answer {
                status: 200,
                headers: Vec::new(),
                body: transcript.clone(),
            };
        }
        let calls: Vec<Value> = (0..100)
            .map(|i| call(&format!("c{i}"), start - 1_000 + i, "s"))
            .collect();
        page(request, &calls)
    });
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("big.sqlite3");
    let cmd = sync_cmd(&url, db.to_str().unwrap(), &["--with-transcripts"]);
    let (code, peak, err) = peak_rss(cmd);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("100 transcript(s) stored"), "{err}");
    assert!(
        peak < 250 * 1024 * 1024,
        "the sync's peak memory was {} MB for 300 MB of transcripts",
        peak / (1024 * 1024)
    );
}

/// `--watch`: rounds whose requests fail (503 after no retries, then a connection closed) are
/// reported and the watch goes on; the calls uploaded meanwhile are stored once the server
/// answers again; credentials refused end it with exit 3.
#[test]
fn a_watch_outlives_failed_rounds_and_ends_on_refused_credentials() {
    let start = now();
    let (url, mode) = server(move |request, mode| match mode {
        1 => Answer::status(503),
        3 => Answer::status(401),
        _ => {
            let mut calls = vec![call("c1", start - 10, "a")];
            if mode == 2 {
                calls.push(call("c2", start - 5, "b"));
            }
            page(request, &calls)
        }
    });
    for backend in backends("watch_failures") {
        let db = backend.url();
        let mut child = sync_cmd(&url, &db, &["--watch", "1s"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let until = |what: &str, done: &dyn Fn() -> bool| {
            while !done() {
                assert!(started.elapsed() < LIMIT, "{}: {what}", backend.name());
                std::thread::sleep(Duration::from_millis(100));
            }
        };
        until("the first round", &|| backend.count() == 1);
        mode.store(1, Ordering::SeqCst);
        // A few failed rounds (the first retry after 1 s, then 2 s).
        std::thread::sleep(Duration::from_secs(4));
        assert!(child.try_wait().unwrap().is_none(), "the watch ended");
        mode.store(2, Ordering::SeqCst);
        until("the call uploaded during the failures", &|| {
            backend.count() == 2
        });
        mode.store(3, Ordering::SeqCst);
        let status = wait_within(&mut child, started, LIMIT);
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert_eq!(status.code(), Some(3), "{err}");
        assert!(err.contains("this round failed"), "{err}");
        assert!(err.contains("trying again in"), "{err}");
        assert!(!err.contains("t0k3n"), "{err}");
        mode.store(0, Ordering::SeqCst);
    }
}

/// `--watch` into PostgreSQL: the server ends the sync's connection (as a restart or a lost
/// network would); the round fails, is said, and the next one connects again and goes on.
#[test]
fn a_watch_connects_again_after_the_database_ended_its_connection() {
    let start = now();
    let (url, mode) = server(move |request, mode| {
        let calls: Vec<Value> = (0..=mode as i64)
            .map(|i| call(&format!("c{i}"), start - 100 + i, "s"))
            .collect();
        page(request, &calls)
    });
    for backend in backends("watch_database_gone") {
        let Backend::Postgres { url: db } = &backend else {
            continue;
        };
        let mut child = sync_cmd(&url, db, &["--watch", "1s"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let until = |what: &str, done: &dyn Fn() -> bool| {
            while !done() {
                assert!(started.elapsed() < LIMIT, "{what}");
                std::thread::sleep(Duration::from_millis(100));
            }
        };
        until("the first round", &|| backend.count() == 1);
        let ended = common::databases::psql(
            db,
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE application_name = 'ccsqm sync' AND datname = current_database()",
        );
        assert_eq!(ended.trim(), "1", "the sync's connection");
        mode.store(1, Ordering::SeqCst);
        until("a call after the connection ended", &|| {
            backend.count() == 2
        });
        assert!(child.try_wait().unwrap().is_none(), "the watch ended");
        // SIGTERM ends it after the current transaction.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        let status = wait_within(&mut child, started, LIMIT);
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert_eq!(status.code(), Some(143), "{err}");
    }
}

/// A server whose first answer (the one-call request that bounds the run) reads its clock 5
/// minutes ahead (within --max-clock-skew), while its pages say an hour earlier: the checkpoint
/// moves only to the server's time at the pages, not to the bound, and the run says so.
#[test]
fn the_checkpoint_moves_no_further_than_the_servers_time_at_its_pages() {
    let start = now();
    let (ahead, behind) = (httpdate(start + 300), httpdate(start - 3_600));
    let (url, _) = server(move |request, _| {
        let calls = vec![
            call("c1", start - 7_200, "a"),
            call("c2", start - 5_000, "b"),
        ];
        let mut answer = page(request, &calls);
        // The bounding request asks for one call uploaded in one second.
        let bounding =
            request.body["limit"] == 1 && request.body["upload_from"] == request.body["upload_to"];
        let date = if bounding { &ahead } else { &behind };
        answer.headers.push(format!("date: {date}"));
        answer
    });
    for backend in backends("clock_at_pages") {
        let db = backend.url();
        let output = sync_at(&url, &db, &[]);
        succeeded(&output, backend.name());
        let err = stderr(&output);
        assert!(err.contains("the checkpoint moves only to"), "{err}");
        assert_eq!(backend.count(), 2);
        let checkpoint = checkpoint(&backend);
        assert!(
            checkpoint <= start - 3_600 + 2,
            "{}: the checkpoint {checkpoint} is past the server's time at its pages ({})",
            backend.name(),
            start - 3_600
        );
    }
}
