//! Outputs that go away or stop short: stdout and stderr into a pipe whose reader is gone
//! (`ccsqm … | head`, `ccsqm … 2>&1 | head -0`), an export of one page of many, and an export
//! killed in the middle (`--output-file` leaves nothing beside it).

mod common;

use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::{ccsqm, run_within, stderr, stdout};

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

/// `paging.total` of the sandbox's calls for `extra` (one request).
fn total_of(extra: &[&str]) -> u64 {
    let output = run_within(
        ccsqm()
            .args(["details", "--sandbox", "-o", "json", "--limit", "1", "-q"])
            .args(extra),
        LIMIT,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let page: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    page["paging"]["total"].as_u64().unwrap()
}

/// Calls in `text` written as `format`.
fn calls_in(text: &str, format: &str) -> usize {
    match format {
        "csv" => text.lines().count() - 1,
        "json" => {
            let page: serde_json::Value = serde_json::from_str(text).unwrap();
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g["calls"].as_array().unwrap().len())
                .sum()
        }
        // The table: its header line, then a row a call.
        "table" => text.lines().count() - 1,
        _ => text.lines().count(),
    }
}

/// One page (no `--all`) of more calls than it holds says so on stderr, in every format, to
/// stdout and to `--output-file` alike, exiting 0; a page that is every call, `--all` and `-q`
/// say nothing of it.
#[test]
fn one_page_of_many_says_so_in_every_format_and_destination() {
    let dir = tempfile::tempdir().unwrap();
    let data = ["--sandbox", "--calls", "250"];
    let total = total_of(&data[1..]);
    assert!(total > 200, "{total}");
    let pages: &[(&[&str], u64, u64)] =
        &[(&[], 100, 1), (&["--limit", "40", "--page", "2"], 40, 2)];
    for (paging, shown, page) in pages {
        for format in ["csv", "ndjson", "json", "table"] {
            for to_file in [false, true] {
                let path = dir.path().join(format!("page.{format}"));
                let mut cmd = ccsqm();
                cmd.arg("details")
                    .args(data)
                    .args(*paging)
                    .args(["-o", format]);
                if to_file {
                    cmd.arg("--output-file").arg(&path);
                }
                let output = run_within(&mut cmd, LIMIT);
                let what = format!("{format} {paging:?} to a file: {to_file}");
                let err = stderr(&output);
                assert_eq!(output.status.code(), Some(0), "{what}: {err}");
                let text = match to_file {
                    true => std::fs::read_to_string(&path).unwrap(),
                    false => stdout(&output),
                };
                assert_eq!(calls_in(&text, format) as u64, *shown, "{what}");
                let line = match format {
                    "table" => {
                        format!("{shown} of {total} calls (page {page}); --all for every page")
                    }
                    _ => format!(
                        "ccsqm: {shown} of {total} matching calls written (page {page}); --all for \
                         every page"
                    ),
                };
                // The table may say which columns did not fit, first.
                let lines: Vec<_> = err
                    .lines()
                    .filter(|l| !l.starts_with("ccsqm: the table leaves out"))
                    .collect();
                assert_eq!(lines, [line.as_str()], "{what}");
            }
        }
    }
    // The last page holds fewer than match too; --fields, --jq and --with-transcript are pages.
    let last = total.div_ceil(100);
    let others: &[(&[&str], u64, u64)] = &[
        (
            &["--page", &last.to_string()],
            total - (last - 1) * 100,
            last,
        ),
        (&["--fields", "call_uuid"], 100, 1),
        (&["--jq", ".call_uuid"], 100, 1),
        (&["-o", "json", "--jq", ".paging.total"], 100, 1),
        (&["--with-transcript", "--limit", "3"], 3, 1),
    ];
    for (extra, shown, page) in others {
        let output = run_within(
            ccsqm()
                .arg("details")
                .args(data)
                .args(*extra)
                .arg("--output-file")
                .arg(dir.path().join("x.ndjson")),
            LIMIT,
        );
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(0), "{extra:?}: {err}");
        let line = format!(
            "ccsqm: {shown} of {total} matching calls written (page {page}); --all for every page"
        );
        assert_eq!(
            err.lines().collect::<Vec<_>>(),
            [line.as_str()],
            "{extra:?}"
        );
    }
    // Said by nothing: -q, --all, and a page that holds every call that matches.
    let quiet: &[&[&str]] = &[
        &["-q", "-o", "csv"],
        &["-q", "-o", "json"],
        &["-q", "--with-transcript", "--limit", "2"],
    ];
    for extra in quiet {
        let output = run_within(ccsqm().arg("details").args(data).args(*extra), LIMIT);
        assert_eq!(output.status.code(), Some(0), "{extra:?}");
        assert_eq!(stderr(&output), "", "{extra:?}");
    }
    let all = run_within(
        ccsqm()
            .arg("details")
            .args(data)
            .args(["--all", "-o", "csv"]),
        LIMIT,
    );
    assert!(all.status.success(), "{}", stderr(&all));
    assert_eq!(calls_in(&stdout(&all), "csv") as u64, total);
    assert!(
        !stderr(&all).contains("matching calls written"),
        "{}",
        stderr(&all)
    );
    for format in ["csv", "ndjson", "json"] {
        let output = run_within(
            ccsqm().args(["details", "--sandbox", "--calls", "20", "-o", format]),
            LIMIT,
        );
        assert_eq!(output.status.code(), Some(0));
        assert_eq!(stderr(&output), "", "every call in one page: {format}");
    }
}

/// The names in `dir`, sorted.
fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Whether process `pid` has a file open in `dir` (its temporary output file).
fn has_file_open_in(pid: u32, dir: &std::path::Path) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .any(|target| target.starts_with(dir))
}

/// An export killed with SIGKILL in the middle (no handler runs) leaves nothing beside
/// `--output-file`: the directory holds the earlier file, untouched, and nothing else. On a
/// filesystem without unnamed files (O_TMPFILE), the named temporary file it leaves is removed
/// by the next run.
#[test]
fn an_export_killed_with_sigkill_leaves_no_temporary_file() {
    if !std::path::Path::new("/proc/self/fd").is_dir() {
        eprintln!("skipped: no /proc/self/fd to see the export's open files");
        return;
    }
    for (command, file) in [
        (
            vec![
                "details",
                "--sandbox",
                "--calls",
                "3000",
                "--latency",
                "150",
                "--all",
                "--limit",
                "50",
                "--concurrency",
                "1",
                "-q",
            ],
            "calls.csv",
        ),
        (
            vec![
                "details",
                "--sandbox",
                "--calls",
                "3000",
                "--latency",
                "150",
                "--all",
                "--limit",
                "50",
                "--concurrency",
                "1",
                "-o",
                "ndjson",
                "-q",
            ],
            "calls.export",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(file);
        std::fs::write(&path, "previous\n").unwrap();
        let mut child = ccsqm()
            .args(&command)
            .arg("--output-file")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while !has_file_open_in(child.id(), dir.path()) {
            assert!(
                child.try_wait().unwrap().is_none(),
                "{command:?} ended before writing"
            );
            assert!(
                started.elapsed() < LIMIT,
                "{command:?} never opened its output"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // A few pages into the export.
        std::thread::sleep(Duration::from_millis(700));
        assert!(
            child.try_wait().unwrap().is_none(),
            "{command:?} ended too soon"
        );
        child.kill().unwrap();
        child.wait().unwrap();
        let names = names_in(dir.path());
        if names.len() > 1 {
            // No O_TMPFILE here: the named leftover of the killed process goes at the next run.
            eprintln!("{command:?}: a named temporary file (no O_TMPFILE here?): {names:?}");
            assert!(
                names
                    .iter()
                    .all(|n| n == file || n.starts_with(".ccsqm-tmp.")),
                "{names:?}"
            );
            let again = run_within(
                ccsqm()
                    .args(["details", "--sandbox", "--calls", "5", "-q", "-o", "csv"])
                    .arg("--output-file")
                    .arg(dir.path().join("other.csv")),
                LIMIT,
            );
            assert!(again.status.success(), "{}", stderr(&again));
            std::fs::remove_file(dir.path().join("other.csv")).unwrap();
        }
        assert_eq!(names_in(dir.path()), [file], "{command:?}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "previous\n");
    }
}

/// This machine's name as a temporary file's name holds it.
fn host() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let host: String = name
        .trim()
        .chars()
        .take(64)
        .map(|c| match c.is_ascii_alphanumeric() || c == '-' {
            true => c,
            false => '_',
        })
        .collect();
    match host.is_empty() {
        true => "localhost".to_owned(),
        false => host,
    }
}

/// Temporary files left by earlier runs (killed with a named temporary file) are removed by
/// the next export into that folder once their process is gone; those of running processes,
/// of other machines (a shared folder), and any other file stay.
#[test]
fn leftover_temporary_files_of_dead_processes_are_removed() {
    if !std::path::Path::new("/proc/sys/kernel/hostname").is_file() {
        eprintln!("skipped: no /proc/sys/kernel/hostname to name this machine");
        return;
    }
    let host = host();
    let mut ended = Command::new("true").spawn().unwrap();
    let dead = ended.id();
    ended.wait().unwrap();
    let alive = std::process::id();
    for (format, file) in [("csv", "calls.csv"), ("ndjson", "sub/calls.ndjson")] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(file);
        let folder = path.parent().unwrap().to_owned();
        std::fs::create_dir_all(&folder).unwrap();
        let gone = [
            format!(".ccsqm-tmp.{host}.{dead}.a1B2c3"),
            format!(".ccsqm-tmp.{host}.{dead}.0123456789abcdef"),
        ];
        let kept = [
            format!(".ccsqm-tmp.{host}.{alive}.a1B2c3"),
            format!(".ccsqm-tmp.other-host.{dead}.a1B2c3"),
            format!(".ccsqm-tmp.{host}.notapid.a1B2c3"),
            ".ccsqm-Ab12Cd".to_owned(),
            "notes.txt".to_owned(),
        ];
        for name in gone.iter().chain(&kept) {
            std::fs::write(folder.join(name), "left\n").unwrap();
        }
        // A directory of that name is not a temporary file of ours.
        let dir_named = format!(".ccsqm-tmp.{host}.{dead}.dir");
        std::fs::create_dir(folder.join(&dir_named)).unwrap();
        let output = run_within(
            ccsqm()
                .args(["details", "--sandbox", "--calls", "5", "-q", "-o", format])
                .arg("--output-file")
                .arg(&path),
            LIMIT,
        );
        assert!(output.status.success(), "{}", stderr(&output));
        let mut expected: Vec<String> = kept.to_vec();
        expected.push(dir_named);
        expected.push(path.file_name().unwrap().to_string_lossy().into_owned());
        expected.sort();
        assert_eq!(names_in(&folder), expected, "{file}");
    }
}

/// `ccsqm sandbox | head -3`: its banner into a closed stdout does not stop the server (nor
/// panic); Ctrl-C still ends it with exit 0.
#[test]
fn the_sandbox_serves_with_a_closed_stdout() {
    for closed in [Closed::Stdout, Closed::Both] {
        let mut cmd = ccsqm();
        cmd.args(["sandbox", "--port", "0", "--calls", "5"])
            .stdin(Stdio::null());
        match closed {
            Closed::Stdout => cmd.stdout(closed_pipe()).stderr(Stdio::piped()),
            _ => cmd.stdout(closed_pipe()).stderr(closed_pipe()),
        };
        let mut child = cmd.spawn().unwrap();
        // Time for the banner to be written (and, before, for std's print! to panic).
        std::thread::sleep(Duration::from_millis(1500));
        assert!(
            child.try_wait().unwrap().is_none(),
            "{closed:?}: the sandbox ended: {:?}",
            child.wait_with_output().map(|o| stderr(&o))
        );
        let sent = Command::new("kill")
            .args(["-s", "INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = common::wait_within(&mut child, Instant::now(), LIMIT);
        let mut err = String::new();
        if let Some(mut pipe) = child.stderr.take() {
            let _ = pipe.read_to_string(&mut err);
        }
        assert_eq!(status.code(), Some(0), "{closed:?}: {err}");
        assert!(!err.contains("panicked"), "{closed:?}: {err}");
    }
}
