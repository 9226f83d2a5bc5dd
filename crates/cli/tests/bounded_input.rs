//! Inputs and outputs with a bound (issue #22, round 2): `ccsqm api`'s `--input` and `@FILE`
//! read at most 1 MiB; `--jq` ends every program with an error, never an abort or the
//! machine's memory; `--dry-run` hides the secret and the token wherever they are; a failed
//! `transcript -o vtt` writes nothing; messages say what is true.
//!
//! Run them with `cargo test -p ccsqm-cli --test bounded_input`.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{ccsqm, run_within, stderr, stdout, wait_within};

/// Runs `cmd` with `stdin`, failing the test after `limit`.
fn run_with_stdin(cmd: &mut Command, stdin: Stdio, limit: Duration) -> Output {
    let started = Instant::now();
    let mut child = cmd
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut buf).map(|_| buf)
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut buf).map(|_| buf)
    });
    let status = wait_within(&mut child, started, limit);
    Output {
        status,
        stdout: out.join().unwrap().unwrap(),
        stderr: err.join().unwrap().unwrap(),
    }
}

fn dev_zero() -> Stdio {
    Stdio::from(std::fs::File::open("/dev/zero").unwrap())
}

/// An endless stdin that is not a file: a pipe written to until the reader goes away.
fn endless_pipe(cmd: &mut Command, limit: Duration) -> Output {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = vec![b' '; 64 * 1024];
        while stdin.write_all(&chunk).is_ok() {}
    });
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut buf).map(|_| buf)
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut buf).map(|_| buf)
    });
    let status = wait_within(&mut child, started, limit);
    writer.join().unwrap();
    Output {
        status,
        stdout: out.join().unwrap().unwrap(),
        stderr: err.join().unwrap().unwrap(),
    }
}

fn assert_refused_as_too_large(output: &Output, what: &str) {
    assert_eq!(output.status.code(), Some(2), "{what}: {}", stderr(output));
    let err = stderr(output);
    assert!(err.contains("larger than"), "{what}: {err}");
    assert!(stdout(output).is_empty(), "{what}: {}", stdout(output));
}

const LIMIT: Duration = Duration::from_secs(20);

#[cfg(unix)]
#[test]
fn api_input_and_field_files_are_bounded() {
    // Devices that never end, as a path.
    for args in [
        vec!["--input", "/dev/zero"],
        vec!["-f", "keyword=@/dev/zero"],
        vec!["-f", "staff_name=@/dev/urandom"],
        vec!["--input", "/dev/urandom"],
    ] {
        let output = run_within(
            ccsqm()
                .args(["api", "appraisecall_details", "--sandbox", "--dry-run"])
                .args(&args),
            LIMIT,
        );
        assert_refused_as_too_large(&output, &args.join(" "));
    }
    for args in [
        vec![
            "api",
            "token_by_ak_sk",
            "--sandbox",
            "-f",
            "app_secret=@/dev/zero",
        ],
        vec![
            "api",
            "appraisecall_detail",
            "--sandbox",
            "-f",
            "call_uuid=@/dev/zero",
        ],
    ] {
        let output = run_within(ccsqm().args(&args), LIMIT);
        assert_refused_as_too_large(&output, &args.join(" "));
    }
    // A regular file just over the bound, and one at it.
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.json");
    let mut text = String::from("{\"keyword\": \"");
    text.push_str(&"x".repeat(1024 * 1024));
    text.push_str("\"}");
    std::fs::write(&big, &text).unwrap();
    let output = run_within(
        ccsqm()
            .args([
                "api",
                "appraisecall_details",
                "--sandbox",
                "--dry-run",
                "--input",
            ])
            .arg(&big),
        LIMIT,
    );
    assert_refused_as_too_large(&output, "a 1 MiB + 15 bytes --input");
    let big_value = dir.path().join("value.txt");
    std::fs::write(&big_value, "y".repeat(1024 * 1024 + 1)).unwrap();
    let output = run_within(
        ccsqm()
            .args(["api", "appraisecall_detail", "--sandbox", "--dry-run", "-f"])
            .arg(format!("call_uuid=@{}", big_value.display())),
        LIMIT,
    );
    assert_refused_as_too_large(&output, "a 1 MiB + 1 byte @FILE");
    // Within the bound: read as before.
    let small = dir.path().join("small.json");
    std::fs::write(&small, "{\"keyword\": \"refund\"}").unwrap();
    let output = run_within(
        ccsqm()
            .args([
                "api",
                "appraisecall_details",
                "--sandbox",
                "--dry-run",
                "--input",
            ])
            .arg(&small)
            .args(["-f", "limit=1", "-f", "page=1", "-f", "call_types=0"])
            .args(["-f", "status=1", "-f", "upload_from=2024-01-01"])
            .args(["-f", "upload_to=2024-01-02"]),
        LIMIT,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("refund"), "{}", stdout(&output));
}

#[cfg(unix)]
#[test]
fn api_stdin_is_bounded() {
    for args in [vec!["--input", "-"], vec!["-f", "keyword=@-"]] {
        let output = run_with_stdin(
            ccsqm()
                .args(["api", "appraisecall_details", "--sandbox", "--dry-run"])
                .args(&args),
            dev_zero(),
            LIMIT,
        );
        assert_refused_as_too_large(&output, &format!("{} < /dev/zero", args.join(" ")));
        let output = endless_pipe(
            ccsqm()
                .args(["api", "appraisecall_details", "--sandbox", "--dry-run"])
                .args(&args),
            LIMIT,
        );
        assert_refused_as_too_large(&output, &format!("{} < an endless pipe", args.join(" ")));
    }
}

/// `ccsqm details --sandbox --limit 2 --jq=PROGRAM`.
fn details_jq(program: &str) -> Command {
    let mut cmd = ccsqm();
    cmd.args(["details", "--sandbox", "--limit", "2"])
        .arg(format!("--jq={program}"));
    cmd
}

/// The worker's or Rust's own words of an abort never reach the user; no signal ends ccsqm.
fn assert_clean_end(output: &Output, program: &str, code: i32) {
    let err = stderr(output);
    let short: String = program.chars().take(60).collect();
    assert_eq!(output.status.code(), Some(code), "{short}: {err}");
    assert!(err.contains("--jq"), "{short}: {err}");
    for word in [
        "overflowed",
        "fatal runtime",
        "memory allocation",
        "panicked",
        "RUST_BACKTRACE",
    ] {
        assert!(!err.contains(word), "{short}: {err}");
    }
}

#[test]
fn jq_programs_without_bound_end_with_an_error() {
    for (program, why) in [
        ("def f: 1 + f; f", "stack"),
        ("def f: [., f]; f", "stack"),
        ("def f(x): x + f(x + 1); f(0)", "stack"),
        ("reduce range(2000000) as $i (0; [.]) | 1", "stack"),
        ("[range(1e12)]", "memory"),
        ("\"x\" * 4000000000 | length", "memory"),
        ("[range(1e12) | tostring] | length", "memory"),
    ] {
        let output = run_within(&mut details_jq(program), Duration::from_secs(180));
        assert_clean_end(&output, program, 1);
        assert!(
            stderr(&output).contains(why),
            "{program}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn jq_programs_nested_too_deeply_do_not_compile() {
    let programs = [
        format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000)),
        format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000)),
        format!("{}1{}", "{a:".repeat(5_000), "}".repeat(5_000)),
        format!("{}1{}", "\"\\(".repeat(3_000), ")\"".repeat(3_000)),
        format!("{}1{}", "if true then ".repeat(5_000), " end".repeat(5_000)),
        format!("{}1", "-".repeat(50_000)),
        format!("{}1", "try ".repeat(20_000)),
        "(".repeat(10_000),
    ];
    for program in &programs {
        let output = run_within(&mut details_jq(program), Duration::from_secs(60));
        assert_clean_end(&output, program, 2);
        assert!(stdout(&output).is_empty());
    }
    // Nesting within the limit still works.
    let fine = format!("{}.call_uuid{}", "(".repeat(200), ")".repeat(200));
    let output = run_within(&mut details_jq(&fine), Duration::from_secs(60));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output).lines().count(), 2, "{}", stdout(&output));
}

/// The processes whose parent is `pid`.
#[cfg(target_os = "linux")]
fn children_of(pid: u32) -> Vec<u32> {
    let mut children = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces, so after the last ')'.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let ppid = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok());
        if ppid == Some(pid) {
            if let Ok(child) = entry.file_name().to_string_lossy().parse() {
                children.push(child);
            }
        }
    }
    children
}

#[cfg(target_os = "linux")]
#[test]
fn ctrl_c_stops_a_jq_filter_that_never_ends() {
    for program in [
        "def f: f; f",
        "last(repeat(1))",
        "[limit(1e12; repeat(1))] | length",
    ] {
        let started = Instant::now();
        let mut child = details_jq(program)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_secs(2));
        let workers = children_of(child.id());
        let status = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let status = wait_within(&mut child, started, Duration::from_secs(30));
        assert_eq!(status.code(), Some(130), "{program}");
        // The filter's process goes with it.
        let gone = Instant::now();
        for worker in workers {
            let path = format!("/proc/{worker}/stat");
            while std::fs::read_to_string(&path).is_ok_and(|stat| {
                !stat
                    .rsplit_once(')')
                    .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
            }) {
                assert!(
                    gone.elapsed() < Duration::from_secs(10),
                    "{program}: {worker} lives on"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// The forms a value takes in `--dry-run`'s output: as is, JSON-escaped, shell-quoted.
fn forms_of(secret: &str) -> Vec<String> {
    let json = serde_json::to_string(secret).unwrap();
    let json = json[1..json.len() - 1].to_owned();
    let shell = |s: &str| s.replace('\'', r"'\''");
    vec![secret.to_owned(), shell(secret), shell(&json), json]
}

fn assert_hidden(output: &Output, secret: &str, what: &str) {
    assert_eq!(output.status.code(), Some(0), "{what}: {}", stderr(output));
    let out = stdout(output);
    for form in forms_of(secret) {
        assert!(!out.contains(&form), "{what}: {form:?} in\n{out}");
    }
    assert!(
        !stderr(output).contains(secret),
        "{what}: {}",
        stderr(output)
    );
    assert!(out.contains("***"), "{what}: {out}");
}

#[test]
fn dry_run_hides_the_token_and_app_secret_wherever_they_are() {
    let secrets = [
        "tok-DRYRUN-5b2e9a",
        r#"se'cr"et\ with spaces/and+more-8c1d"#,
        "appsecret-😀-é-4411",
    ];
    for secret in secrets {
        for credentials in [
            vec![("CCSQM_TOKEN", secret)],
            vec![
                ("CCSQM_APP_KEY", "ak-visible"),
                ("CCSQM_APP_SECRET", secret),
            ],
        ] {
            let base = || {
                let mut cmd = ccsqm();
                cmd.env("CCSQM_BASE_URL", "http://127.0.0.1:9")
                    .env("CCSQM_USER_ID", "1611917095665261978");
                for (name, value) in &credentials {
                    cmd.env(name, value);
                }
                cmd
            };
            let what = |w: &str| format!("{w} with {}", credentials[0].0);
            // A body field that is not marked secret, and one of an array.
            let output = run_within(
                base()
                    .args(["api", "appraisecall_details", "--dry-run"])
                    .args(["-f", &format!("keyword={secret}")])
                    .args(["-f", &format!("staff_id={secret}")]),
                LIMIT,
            );
            assert_hidden(&output, secret, &what("api -f"));
            // From --input, with the secret inside a longer text.
            let dir = tempfile::tempdir().unwrap();
            let input = dir.path().join("body.json");
            let body = serde_json::json!({"keyword": format!("before {secret} after")});
            std::fs::write(&input, body.to_string()).unwrap();
            let output = run_within(
                base()
                    .args(["api", "appraisecall_details", "--dry-run", "--input"])
                    .arg(&input),
                LIMIT,
            );
            assert_hidden(&output, secret, &what("api --input"));
            // The token interface's operation: a header and the app key field.
            let output = run_within(
                base()
                    .args(["api", "token_by_ak_sk", "--dry-run"])
                    .args(["-f", &format!("app_key={secret}")])
                    .args(["-f", &format!("app_secret={secret}")])
                    .args(["-H", "X-Token-Expire=3600"]),
                LIMIT,
            );
            assert_hidden(&output, secret, &what("api token_by_ak_sk"));
            // `ccsqm details`' flags.
            let output = run_within(
                base()
                    .args(["details", "--dry-run", "--keyword", secret])
                    .args(["--staff-name", secret]),
                LIMIT,
            );
            assert_hidden(&output, secret, &what("details --keyword"));
        }
    }
}

const TOKEN: &str = "tok-TRANSCRIPT-0d9e";
const USER_ID: &str = "1611917095665261978";

fn ccsqm_at(base_url: &str) -> Command {
    let mut cmd = ccsqm();
    cmd.env("CCSQM_BASE_URL", base_url)
        .env("CCSQM_TOKEN", TOKEN)
        .env("CCSQM_USER_ID", USER_ID)
        .env("CCSQM_MAX_RETRIES", "0");
    cmd
}

#[test]
fn a_failed_transcript_writes_nothing_to_stdout() {
    use ccsqm_httpmock::MockServerExt;
    type Mock = fn(&httpmock::MockServer);
    let failing: [(&str, Mock); 4] = [
        ("404", |s| {
            s.appraisecall_detail(|_, then| {
                then.not_found();
            });
        }),
        ("401", |s| {
            s.appraisecall_detail(|_, then| {
                then.unauthorized();
            });
        }),
        ("500", |s| {
            s.appraisecall_detail(|_, then| {
                then.internal_server_error();
            });
        }),
        ("400", |s| {
            s.appraisecall_detail(|_, then| {
                then.bad_request();
            });
        }),
    ];
    for (what, mock) in failing {
        let server = httpmock::MockServer::start();
        mock(&server);
        for format in ["vtt", "json", "ndjson", "text"] {
            let mut calls = vec!["00000000-0000-4000-8000-000000000001"];
            if format != "vtt" {
                calls.push("00000000-0000-4000-8000-000000000002");
            }
            let output = run_within(
                ccsqm_at(&server.base_url())
                    .args(["transcript", "-o", format])
                    .args(&calls),
                LIMIT,
            );
            assert_ne!(output.status.code(), Some(0), "{what} -o {format}");
            assert_eq!(
                stdout(&output),
                "",
                "{what} -o {format}: {}",
                stderr(&output)
            );
        }
    }
    // No server at all.
    for format in ["vtt", "json"] {
        let output = run_within(
            ccsqm_at("http://127.0.0.1:9").args([
                "transcript",
                "-o",
                format,
                "00000000-0000-4000-8000-000000000001",
            ]),
            LIMIT,
        );
        assert_eq!(output.status.code(), Some(6), "{}", stderr(&output));
        assert_eq!(stdout(&output), "", "-o {format}");
    }
}

#[test]
fn a_segment_time_out_of_range_is_said_to_be_out_of_range() {
    use ccsqm_httpmock::MockServerExt;
    let server = httpmock::MockServer::start();
    let response: ccsqm_models::AppraisecallDetailResponse = serde_json::from_value(
        serde_json::json!({
            "call_uuid": "00000000-0000-4000-8000-000000000001", "status": 2, "call_type": 0,
            "segments": [
                {"segment_id": 1, "speaker": "agent", "start_time": -1.5, "end_time": 2.0, "asr_text": "a"},
                {"segment_id": 2, "speaker": "agent", "start_time": 1.0, "end_time": 1e300, "asr_text": "b"},
                {"segment_id": 3, "speaker": "agent", "start_time": 3.0, "asr_text": "c"},
                {"segment_id": 4, "speaker": "agent", "start_time": 4.0, "end_time": 5.0, "asr_text": "d"},
                {"segment_id": 5, "speaker": "agent", "start_time": -7, "end_time": 3e19, "asr_text": "e"}
            ]
        }),
    )
    .unwrap();
    server.appraisecall_detail(|_, then| {
        then.ok(&response);
    });
    let output = run_within(
        ccsqm_at(&server.base_url()).args([
            "transcript",
            "-o",
            "vtt",
            "00000000-0000-4000-8000-000000000001",
        ]),
        LIMIT,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let err = stderr(&output);
    let line = |n: usize| {
        err.lines()
            .find(|l| l.contains(&format!("segment {n} ")))
            .unwrap_or_else(|| panic!("segment {n}: {err}"))
            .to_owned()
    };
    assert!(
        line(1).contains("out of range") && line(1).contains("-1.5"),
        "{err}"
    );
    assert!(
        line(2).contains("out of range") && line(2).contains("1e300"),
        "{err}"
    );
    assert!(line(3).contains("has no start or end time"), "{err}");
    assert!(
        line(5).contains("out of range") && line(5).contains("-7") && line(5).contains("3e19"),
        "{err}"
    );
    for n in [1, 2, 5] {
        assert!(!line(n).contains("no start or end"), "{err}");
    }
    assert!(!err.contains("segment 4 "), "{err}");
    assert!(
        stdout(&output).contains("<v Agent>d"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn the_configure_hint_is_quoted_for_the_shell_and_visible() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    for (name, quoted) in [
        ("it's $(x)", r"'it'\''s $(x)'"),
        ("a b", "'a b'"),
        ("evil\u{1b}]0;owned\u{7}", r"'evil\u{1b}]0;owned\u{7}'"),
        ("line\nbreak", r"'line\nbreak'"),
        ("plain-name_2", "plain-name_2"),
    ] {
        let mut cmd = ccsqm();
        cmd.args([
            "configure",
            "--no-verify",
            "--secret-store",
            "file",
            "--profile",
            name,
        ])
        .arg("--config")
        .arg(&config);
        let output = run_with_stdin_text(
            &mut cmd,
            "http://127.0.0.1:9\n\n1611917095665261978\nak\nsk\n",
        );
        assert_eq!(
            output.status.code(),
            Some(0),
            "{name:?}: {}",
            stderr(&output)
        );
        let err = stderr(&output);
        assert!(
            err.contains(&format!(
                "use it with --profile {quoted} (or CCSQM_PROFILE)"
            )),
            "{name:?}: {err}"
        );
        assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
        // An unknown profile's hint: the same quoting.
        let unknown = format!("{name}-missing");
        let output = run_within(
            ccsqm()
                .args(["details", "--dry-run", "--profile", &unknown])
                .arg("--config")
                .arg(&config),
            LIMIT,
        );
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        let err = stderr(&output);
        let want = match quoted.ends_with('\'') {
            true => format!("{}-missing'", &quoted[..quoted.len() - 1]),
            false => format!("{quoted}-missing"),
        };
        assert!(
            err.contains(&format!("`ccsqm configure --profile {want}` creates it")),
            "{name:?}: {err}"
        );
        assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
    }
}

fn run_with_stdin_text(cmd: &mut Command, text: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let text = text.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let started = Instant::now();
    let output = {
        let status = wait_within(&mut child, started, LIMIT);
        let mut out = Vec::new();
        let mut err = Vec::new();
        std::io::Read::read_to_end(&mut child.stdout.take().unwrap(), &mut out).unwrap();
        std::io::Read::read_to_end(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        Output {
            status,
            stdout: out,
            stderr: err,
        }
    };
    let _ = writer.join();
    output
}

#[cfg(unix)]
#[test]
fn transcript_stdin_lines_are_bounded() {
    let output = run_with_stdin(
        ccsqm().args(["transcript", "--sandbox", "--stdin"]),
        dev_zero(),
        LIMIT,
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("line 1: longer than"),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).is_empty());
}

#[cfg(unix)]
#[test]
fn the_chmod_hint_quotes_the_path_for_the_shell() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("it's my dir");
    std::fs::create_dir(&sub).unwrap();
    let config = sub.join("config.toml");
    std::fs::write(
        &config,
        "[default]\nbase_url = \"https://x.example\"\nuser_id = \"u\"\ntoken = \"tok-x\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = run_within(
        ccsqm()
            .args(["details", "--dry-run", "--config"])
            .arg(&config),
        LIMIT,
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let quoted = format!("'{}'", config.display().to_string().replace('\'', r"'\''"));
    assert!(
        stderr(&output).contains(&format!("run `chmod 600 {quoted}`")),
        "{}",
        stderr(&output)
    );
}
