//! Helpers shared by the tests that run the `ccsqm` binary.

#![allow(dead_code)] // each test file uses its own part

pub mod databases;
pub mod sync;

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

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

/// Runs `cmd` (stdin closed, both pipes read on threads so a large output cannot block it),
/// failing the test rather than hanging if it takes longer than `limit`; how long it took.
pub fn run_timed(cmd: &mut Command, limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        out.read_to_end(&mut buf).map(|_| buf)
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        err.read_to_end(&mut buf).map(|_| buf)
    });
    let status = wait_within(&mut child, started, limit);
    let elapsed = started.elapsed();
    let output = Output {
        status,
        stdout: out.join().unwrap().unwrap(),
        stderr: err.join().unwrap().unwrap(),
    };
    (output, elapsed)
}

/// [`run_timed`], without the time.
pub fn run_within(cmd: &mut Command, limit: Duration) -> Output {
    run_timed(cmd, limit).0
}

/// Waits for `child`, killing it and failing the test once `limit` has passed since `started`.
pub fn wait_within(child: &mut Child, started: Instant, limit: Duration) -> ExitStatus {
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("ccsqm did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Reads a request's head and its `Content-Length` bytes of body (for the tests' raw servers).
pub fn read_request(stream: TcpStream) -> std::io::Result<(TcpStream, Vec<u8>)> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok((reader.into_inner(), body))
}

/// A multi-threaded runtime for in-process sandboxes: they serve on its threads while the test
/// thread waits for the `ccsqm` process.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}
