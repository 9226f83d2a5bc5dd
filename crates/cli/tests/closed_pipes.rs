//! Outputs that go away or stop short: stdout and stderr into a pipe whose reader is gone
//! (`ccsqm … | head`, `ccsqm … 2>&1 | head -0`), an export of one page of many, and an export
//! killed in the middle (`--output-file` leaves nothing beside it).

mod common;

use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::{ccsqm, run_within, stderr};

const LIMIT: Duration = Duration::from_secs(120);

/// A pipe whose reader is already closed: every write to it fails with EPIPE.
fn closed_pipe() -> std::io::PipeWriter {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    writer
}

/// Which of the outputs is a closed pipe.
#[derive(Clone, Copy, Debug)]
enum Closed {
    Stdout,
    Stderr,
    Both,
}

/// Runs `cmd` with `closed` a closed pipe (the other output read); its status and what could
/// be read of the other output.
fn run_closed(cmd: &mut Command, closed: Closed) -> (ExitStatus, String) {
    let started = Instant::now();
    cmd.stdin(Stdio::null());
    match closed {
        Closed::Stdout => cmd.stdout(closed_pipe()).stderr(Stdio::piped()),
        Closed::Stderr => cmd.stdout(Stdio::piped()).stderr(closed_pipe()),
        Closed::Both => cmd.stdout(closed_pipe()).stderr(closed_pipe()),
    };
    let mut child = cmd.spawn().unwrap();
    let readable = child.stdout.take().map(|mut out| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = out.read_to_string(&mut text);
            text
        })
    });
    let readable_err = child.stderr.take().map(|mut err| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = err.read_to_string(&mut text);
            text
        })
    });
    let status = common::wait_within(&mut child, started, LIMIT);
    let text = readable
        .or(readable_err)
        .map(|t| t.join().unwrap())
        .unwrap_or_default();
    (status, text)
}

/// `args` with `closed` a closed pipe: exits `code` (never 101, a panic), and says nothing of a
/// panic or of the broken pipe on the output still open.
fn check_closed(args: &[&str], closed: Closed, code: i32, dir: &std::path::Path) {
    let (status, text) = run_closed(ccsqm().current_dir(dir).args(args), closed);
    let what = format!("ccsqm {} with {closed:?} closed", args.join(" "));
    assert_ne!(status.code(), Some(101), "{what} panicked: {text}");
    assert_eq!(status.code(), Some(code), "{what}: {status}: {text}");
    if let Closed::Stdout = closed {
        assert!(
            !text.contains("panicked") && !text.contains("Broken pipe"),
            "{what}: {text}"
        );
    }
}

/// Commands whose stdout is data: its reader going away ends them quietly, with exit 0.
#[test]
fn a_closed_stdout_is_not_an_error_for_any_command() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("calls.sqlite3");
    let db = db.to_str().unwrap();
    let synced = run_within(
        ccsqm().args(["sync", "--sandbox", "--calls", "30", "-q", "--db", db]),
        LIMIT,
    );
    assert!(synced.status.success(), "{}", stderr(&synced));
    let uuid = "3b9cd7a9-d38c-4aa0-a35d-77f6abb9f497";
    let seed = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/seed-request.json"
    );
    let commands: &[&[&str]] = &[
        &["schema", "call"],
        &["schema", "request"],
        &["schema", "response"],
        &["completions", "bash"],
        &["completions", "zsh"],
        &["completions", "fish"],
        &["man"],
        &["--help"],
        &["details", "--help"],
        &["--version"],
        &["details", "--sandbox", "--calls", "300", "-o", "json"],
        &["details", "--sandbox", "--calls", "300", "-o", "ndjson"],
        &["details", "--sandbox", "--calls", "300", "-o", "csv"],
        &["details", "--sandbox", "--calls", "300", "-o", "table"],
        &[
            "details",
            "--sandbox",
            "--calls",
            "300",
            "--all",
            "-o",
            "json",
        ],
        &[
            "details",
            "--sandbox",
            "--calls",
            "300",
            "--all",
            "-o",
            "csv",
        ],
        &[
            "details",
            "--sandbox",
            "--calls",
            "300",
            "--all",
            "--jq",
            ".call_uuid",
        ],
        &[
            "details",
            "--sandbox",
            "--calls",
            "300",
            "--with-transcript",
        ],
        &["details", "--sandbox", "--dry-run"],
        &[
            "api",
            "appraisecall_details",
            "--sandbox",
            "--calls",
            "300",
            "--input",
            seed,
            "-f",
            "limit=100",
        ],
        &["transcript", "--sandbox", "-o", "json", uuid],
        &["transcript", "--sandbox", "-o", "vtt", uuid],
        &["token", "--sandbox"],
        &["sync", "status", "--db", db],
        &["config", "show"],
    ];
    for args in commands {
        check_closed(args, Closed::Stdout, 0, dir.path());
    }
}

/// stderr into a closed pipe (`2>&1 | head -0`): the messages nobody can read are dropped, and
/// the command ends as it would have (its data written, its exit code kept).
#[test]
fn a_closed_stderr_is_not_a_panic_for_any_command() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("calls.sqlite3");
    let db = db.to_str().unwrap();
    let uuid = "3b9cd7a9-d38c-4aa0-a35d-77f6abb9f497";
    let man_dir = dir.path().join("man");
    let cases: &[(&[&str], i32)] = &[
        (&["sync", "--sandbox", "--calls", "30", "--db", db], 0),
        (&["sync", "--sandbox", "--calls", "30", "--db", db], 0),
        (
            &["details", "--sandbox", "--calls", "300", "-o", "table"],
            0,
        ),
        (&["details", "--sandbox", "--calls", "300", "-o", "csv"], 0),
        (&["details", "--sandbox", "--calls", "300", "--all"], 0),
        // No call matches: the note on stderr.
        (
            &["details", "--sandbox", "--calls", "5", "--call-from", "1d"],
            0,
        ),
        (&["transcript", "--sandbox", "-o", "text", uuid], 0),
        // One call not found: its error on stderr, and the exit code of a missing call.
        (
            &[
                "transcript",
                "--sandbox",
                "00000000-0000-4000-8000-000000000000",
            ],
            4,
        ),
        (&["token", "--sandbox"], 0),
        (&["man", "--dir", man_dir.to_str().unwrap()], 0),
        (&["completions", "bash"], 0),
        (&["schema", "call"], 0),
        // Errors are still errors: their code, without the message.
        (
            &["api", "appraisecall_details", "--sandbox", "-f", "page=1"],
            5,
        ),
        (
            &["details", "--output-file", "calls.unknown", "--sandbox"],
            2,
        ),
    ];
    for (args, code) in cases {
        check_closed(args, Closed::Stderr, *code, dir.path());
    }
    let (status, _) = run_closed(ccsqm().args(["sync", "status", "--db", db]), Closed::Stderr);
    assert_eq!(status.code(), Some(0), "the syncs stored their calls");
}

/// Both into one closed pipe (`ccsqm … 2>&1 | head -0`): exit 0 for data cut short, no panic.
#[test]
fn stdout_and_stderr_into_one_closed_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("calls.sqlite3");
    let db = db.to_str().unwrap();
    let commands: &[&[&str]] = &[
        &["schema", "call"],
        &["completions", "zsh"],
        &["man"],
        &["details", "--sandbox", "--calls", "300", "-o", "table"],
        &[
            "details",
            "--sandbox",
            "--calls",
            "300",
            "--all",
            "-o",
            "ndjson",
        ],
        &["sync", "--sandbox", "--calls", "30", "--db", db],
    ];
    for args in commands {
        check_closed(args, Closed::Both, 0, dir.path());
    }
}
