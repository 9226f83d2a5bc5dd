//! `--jq EXPR`: a jq filter run on the JSON output, as `gh --jq` does, with jaq (a maintained
//! jq implementation in Rust: its parser, compiler and standard library), compiled once before
//! any request and run on each call in turn, so memory stays flat with `--all`.
//!
//! A jq program can recurse without end (`def f: 1 + f; f`) or allocate without bound
//! (`[range(1e12)]`), and jaq has no limit of its own: in Rust, a stack overflow aborts the
//! whole process (it cannot be caught) and an allocation that fails too. So the filter is
//! compiled and run in a process of its own, `ccsqm` started again as a worker
//! ([`worker_main`]), limited to [`MEMORY_LIMIT`] of memory: whatever the program does, the
//! worker ends, and `ccsqm` says why (`--jq: the filter ran out of stack (recursion too deep)`,
//! exit 1; exit 2 when it happens while compiling). A program nested more than
//! [`MAX_NESTING`] brackets deep is refused before it is parsed (exit 2). On Linux the worker
//! ignores Ctrl-C and dies with `ccsqm`, which handles Ctrl-C as without `--jq`.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{data, Compiler, Ctx, Vars};
use jaq_json::Val;
use serde::Deserialize;
use serde_json::Value;

use ccsqm_export::Out;

use crate::error::UsageError;

type Data = data::JustLut<Val>;

/// Filters left out of jq's standard library: `env` would print the environment, which
/// holds the app secret (`CCSQM_APP_SECRET`) and the token (`CCSQM_TOKEN`).
const LEFT_OUT: [&str; 1] = ["env"];

/// The deepest nesting of brackets (`(`, `[`, `{`, and a string's `\(`) a program may have.
pub const MAX_NESTING: usize = 256;
/// The memory (address space) of the worker process that runs the filter.
pub const MEMORY_LIMIT: u64 = 512 * 1024 * 1024;
/// The largest single result of the filter (one line of the worker's output).
const MAX_RESULT_BYTES: u64 = 256 * 1024 * 1024;
/// The first argument that makes `ccsqm` the worker.
pub const WORKER_ARG: &str = "__jq-worker";

/// A filter compiled in this process (the worker's side; also the unit tests').
pub struct Engine {
    filter: jaq_core::Filter<Data>,
}

impl Engine {
    /// Compiles `code`; the error says why not (without the program).
    pub fn compile(code: &str) -> Result<Self, String> {
        nesting(code)?;
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs::<Data>()
            .chain(jaq_std::funs::<Data>())
            .chain(jaq_json::funs::<Data>())
            .filter(|(name, _, _)| !LEFT_OUT.contains(name));
        let loader = Loader::new(defs);
        let arena = Arena::default();
        let modules = loader
            .load(&arena, File { code, path: () })
            .map_err(|errors| load_errors(code, errors))?;
        let filter = Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errors| {
                let undefined: Vec<String> = errors
                    .into_iter()
                    .flat_map(|(_, errs)| errs)
                    .map(|(name, what)| format!("{} {name} is not defined", what.as_str()))
                    .collect();
                undefined.join("; ")
            })?;
        Ok(Engine { filter })
    }

    /// Runs the filter on `input`, giving each result to `each`. An error of the filter (as
    /// `.a.b` of a number) is an error `--jq: why`.
    pub fn run(
        &self,
        input: &Value,
        mut each: impl FnMut(Out) -> io::Result<()>,
    ) -> io::Result<()> {
        let input = Val::deserialize(input).map_err(io::Error::other)?;
        let ctx = Ctx::<Data>::new(&self.filter.lut, Vars::new([]));
        for result in self.filter.id.run((ctx, input)) {
            match result {
                Ok(Val::TStr(bytes)) => each(Out::Str(String::from_utf8_lossy(&bytes).into()))?,
                Ok(other) => each(Out::Json(other.to_string()))?,
                Err(exn) => {
                    let why = match exn.get_err() {
                        Ok(error) => error.to_string(),
                        Err(_) => "the filter stopped (halt)".to_owned(),
                    };
                    return Err(io::Error::other(format!("--jq: {why}")));
                }
            }
        }
        Ok(())
    }
}

/// Refuses a program nested deeper than [`MAX_NESTING`] (jaq's parser recurses on each
/// level). Brackets in strings and comments do not count; a string's `\(…)` does.
fn nesting(code: &str) -> Result<(), String> {
    // Each open level: true for an interpolation `\(` (its `)` goes back into the string).
    let mut open: Vec<bool> = Vec::new();
    let mut in_string = false;
    let mut chars = code.chars();
    while let Some(c) = chars.next() {
        if in_string {
            if c == '\\' && chars.next() == Some('(') {
                open.push(true);
                in_string = false;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '#' => {
                // A comment, to the end of the line.
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '(' | '[' | '{' => open.push(false),
            // Out of a string here: back into one at an interpolation's end.
            ')' | ']' | '}' => in_string = open.pop() == Some(true),
            _ => {}
        }
        if open.len() > MAX_NESTING {
            return Err(format!(
                "the program is nested more than {MAX_NESTING} brackets deep"
            ));
        }
    }
    Ok(())
}

/// A compiled filter, run by a worker process (see the module's documentation).
pub struct Jq {
    worker: Mutex<Option<Worker>>,
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// The worker's stderr (what killed it; `debug`'s messages are passed on as they come).
    stderr: Option<std::thread::JoinHandle<String>>,
}

/// How the worker ended, when it ended without answering.
enum Death {
    Stack,
    Memory,
    Other(String),
}

impl Jq {
    /// Compiles `code` in a worker; a syntax error, an unknown filter or a program that the
    /// compiler cannot hold is bad input (exit 2).
    pub fn compile(code: &str) -> Result<Self, UsageError> {
        let bad = |why: String| {
            UsageError(format!(
                "--jq {:?}: {why}",
                ccsqm_client::visible(&short(code)).as_ref()
            ))
        };
        // The cheap checks here, before a process is started.
        nesting(code).map_err(bad)?;
        let mut worker = Worker::start().map_err(|e| bad(format!("starting its worker: {e}")))?;
        let program = serde_json::to_string(code).map_err(|e| bad(e.to_string()))?;
        let answer = writeln!(worker.stdin, "{program}")
            .and_then(|()| worker.stdin.flush())
            .and_then(|()| worker.read_answer());
        match answer {
            Ok(Answer::Ok) => Ok(Jq {
                worker: Mutex::new(Some(worker)),
            }),
            Ok(Answer::Fail(why)) => Err(bad(why)),
            Ok(_) => Err(bad("its worker answered out of turn".into())),
            Err(_) => Err(bad(match worker.death() {
                Death::Stack => "the program is nested too deeply to compile".into(),
                Death::Memory => format!(
                    "compiling it took more than {} MiB of memory",
                    MEMORY_LIMIT >> 20
                ),
                Death::Other(why) => format!("its worker stopped while compiling ({why})"),
            })),
        }
    }

    /// Runs the filter on `input`, giving each result to `each`. An error of the filter (as
    /// `.a.b` of a number), or its worker stopped by a limit, is an error `--jq: why`.
    pub fn run(
        &self,
        input: &Value,
        mut each: impl FnMut(Out) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut slot = self
            .worker
            .lock()
            .map_err(|_| io::Error::other("--jq: the filter's worker is not usable"))?;
        let Some(worker) = slot.as_mut() else {
            return Err(io::Error::other(
                "--jq: the filter's worker stopped earlier",
            ));
        };
        let sent = serde_json::to_writer(&mut worker.stdin, input)
            .map_err(io::Error::from)
            .and_then(|()| worker.stdin.write_all(b"\n"))
            .and_then(|()| worker.stdin.flush());
        let mut failed = sent.err();
        while failed.is_none() {
            match worker.read_answer() {
                Ok(Answer::Result(out)) => {
                    if let Err(e) = each(out) {
                        // The rest of its answer is unread: the worker is not used again.
                        if let Some(mut worker) = slot.take() {
                            let _ = worker.child.kill();
                            let _ = worker.child.wait();
                        }
                        return Err(e);
                    }
                }
                Ok(Answer::End) => return Ok(()),
                Ok(Answer::Fail(why)) => return Err(io::Error::other(format!("--jq: {why}"))),
                Ok(Answer::Ok) => failed = Some(io::Error::other("an answer out of turn")),
                Err(e) => failed = Some(e),
            }
        }
        // The worker is gone (or confused): say why, and do not use it again.
        let mut worker = slot.take().expect("the worker is there");
        let why = match worker.death() {
            Death::Stack => "the filter ran out of stack (its recursion is too deep)".to_owned(),
            Death::Memory => format!(
                "the filter used more than its {} MiB of memory",
                MEMORY_LIMIT >> 20
            ),
            Death::Other(why) => match failed {
                Some(e) if e.kind() == io::ErrorKind::InvalidData => e.to_string(),
                _ => format!("the filter's worker stopped ({why})"),
            },
        };
        Err(io::Error::other(format!("--jq: {why}")))
    }
}

impl ccsqm_export::Filter for Jq {
    fn run(&self, input: &Value, each: &mut dyn FnMut(Out) -> io::Result<()>) -> io::Result<()> {
        Jq::run(self, input, each)
    }
}

impl Drop for Jq {
    fn drop(&mut self) {
        if let Ok(mut slot) = self.worker.lock() {
            if let Some(mut worker) = slot.take() {
                let _ = worker.child.kill();
                let _ = worker.child.wait();
            }
        }
    }
}

/// A line of the worker: what the compilation or a run gave.
enum Answer {
    Ok,
    Result(Out),
    End,
    Fail(String),
}

impl Worker {
    fn start() -> io::Result<Worker> {
        let exe = std::env::current_exe()?;
        let mut child = Command::new(exe)
            .arg(WORKER_ARG)
            // An abort's backtrace would be noise: its cause is said in ccsqm's words.
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::other("its pipes were not made"));
        };
        let stderr = std::thread::spawn(move || pass_on_stderr(stderr));
        Ok(Worker {
            child,
            stdin,
            stdout: BufReader::new(stdout),
            stderr: Some(stderr),
        })
    }

    fn read_answer(&mut self) -> io::Result<Answer> {
        let mut line = Vec::new();
        (&mut self.stdout)
            .take(MAX_RESULT_BYTES + 1)
            .read_until(b'\n', &mut line)?;
        if line.is_empty() {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "no answer"));
        }
        if line.last() != Some(&b'\n') {
            let _ = self.child.kill();
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "a result of the filter is larger than {} MiB",
                    MAX_RESULT_BYTES >> 20
                ),
            ));
        }
        let answer: WorkerLine = serde_json::from_slice(&line).map_err(io::Error::other)?;
        Ok(match answer {
            WorkerLine::Ok => Answer::Ok,
            WorkerLine::S(text) => Answer::Result(Out::Str(text)),
            WorkerLine::J(text) => Answer::Result(Out::Json(text)),
            WorkerLine::End => Answer::End,
            WorkerLine::Fail(why) => Answer::Fail(why),
        })
    }

    /// Waits for the worker to end (killing it if it has not), and says how it ended.
    fn death(&mut self) -> Death {
        let status = match self.child.try_wait() {
            Ok(Some(status)) => Some(status),
            _ => {
                let _ = self.child.kill();
                self.child.wait().ok()
            }
        };
        let said = self
            .stderr
            .take()
            .and_then(|handle| handle.join().ok())
            .unwrap_or_default();
        if said.contains("overflowed its stack") {
            return Death::Stack;
        }
        if said.contains("memory allocation of") || said.contains("capacity overflow") {
            return Death::Memory;
        }
        Death::Other(match status {
            Some(status) => status.to_string(),
            None => "its end is unknown".to_owned(),
        })
    }
}

/// The worker's lines, one JSON object each.
#[derive(serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum WorkerLine {
    /// The program compiled.
    Ok,
    /// A string result.
    S(String),
    /// Any other result, as compact JSON.
    J(String),
    /// The results of an input are all there.
    End,
    /// The program did not compile, or the run failed: why.
    Fail(String),
}

/// Copies the worker's stderr to ours, but for Rust's own last words (a stack overflow, a
/// failed allocation), which are kept to say why it stopped in ccsqm's words.
fn pass_on_stderr(stderr: std::process::ChildStderr) -> String {
    let mut last_words = String::new();
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    loop {
        line.clear();
        match (&mut reader).take(64 * 1024).read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&line);
        if text.trim().is_empty() {
            continue;
        }
        let fatal = [
            "overflowed its stack",
            "fatal runtime error",
            "memory allocation of",
            "capacity overflow",
            "panicked at",
        ];
        // After the first of them, the rest is theirs too (a backtrace).
        if !last_words.is_empty() || fatal.iter().any(|f| text.contains(f)) {
            if last_words.len() < 4096 {
                last_words.push_str(&text);
            }
        } else {
            let mut err = io::stderr().lock();
            let _ = err.write_all(ccsqm_client::visible(text.trim_end_matches('\n')).as_bytes());
            let _ = err.write_all(b"\n");
        }
    }
    last_words
}

/// `ccsqm __jq-worker`: reads the program (a JSON string line), answers whether it compiled,
/// then runs it on each input line (JSON), answering its results and `end` (or `fail`).
/// Limited to [`MEMORY_LIMIT`]; on Linux it ignores Ctrl-C and dies with its parent.
pub fn worker_main() -> std::process::ExitCode {
    limit_this_process();
    // One line for a panic (a failed allocation's "capacity overflow"), for `pass_on_stderr`.
    std::panic::set_hook(Box::new(|info| {
        let said = info.to_string().replace('\n', " ");
        let _ = writeln!(io::stderr(), "ccsqm jq worker panicked at {said}");
    }));
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut line = String::new();
    let say = |out: &mut dyn Write, what: &WorkerLine| -> io::Result<()> {
        serde_json::to_writer(&mut *out, what)?;
        out.write_all(b"\n")
    };
    let result = (|| -> io::Result<()> {
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let code: String = serde_json::from_str(&line).map_err(io::Error::other)?;
        let engine = match Engine::compile(&code) {
            Ok(engine) => engine,
            Err(why) => {
                say(&mut out, &WorkerLine::Fail(why))?;
                return out.flush();
            }
        };
        say(&mut out, &WorkerLine::Ok)?;
        out.flush()?;
        loop {
            line.clear();
            if input.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let value: Value = serde_json::from_str(&line).map_err(io::Error::other)?;
            let ran = engine.run(&value, |result| {
                say(
                    &mut out,
                    &match result {
                        Out::Str(text) => WorkerLine::S(text),
                        Out::Json(text) => WorkerLine::J(text),
                    },
                )
            });
            match ran {
                Ok(()) => say(&mut out, &WorkerLine::End)?,
                Err(e) => {
                    let why = e.to_string();
                    let why = why.strip_prefix("--jq: ").unwrap_or(&why).to_owned();
                    say(&mut out, &WorkerLine::Fail(why))?;
                }
            }
            out.flush()?;
        }
    })();
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(_) => std::process::ExitCode::FAILURE,
    }
}

#[cfg(unix)]
fn limit_this_process() {
    let limit = libc::rlimit {
        rlim_cur: MEMORY_LIMIT as libc::rlim_t,
        rlim_max: MEMORY_LIMIT as libc::rlim_t,
    };
    // SAFETY: plain system calls on this process, with valid arguments.
    unsafe {
        libc::setrlimit(libc::RLIMIT_AS, &limit);
        #[cfg(target_os = "linux")]
        {
            // Ctrl-C is ccsqm's to handle (its temporary file); the worker dies with it.
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            libc::signal(libc::SIGINT, libc::SIG_IGN);
            libc::signal(libc::SIGHUP, libc::SIG_IGN);
            libc::signal(libc::SIGTERM, libc::SIG_IGN);
            // The parent may have gone already.
            if libc::getppid() == 1 {
                libc::_exit(1);
            }
        }
    }
}

#[cfg(not(unix))]
fn limit_this_process() {}

/// A long program shortened for a message.
fn short(code: &str) -> String {
    match code.char_indices().nth(80) {
        Some((at, _)) => format!("{}…", &code[..at]),
        None => code.to_owned(),
    }
}

/// The syntax errors of a filter, each with where it was found.
fn load_errors(code: &str, errors: jaq_core::load::Errors<&str, ()>) -> String {
    use jaq_core::load::Error;
    let at = |rest: &str| {
        let offset = code.len().saturating_sub(rest.len());
        let near: String = rest.chars().take(12).collect();
        match near.is_empty() {
            true => format!("at the end (character {})", offset + 1),
            false => format!(
                "at character {}: {:?}",
                offset + 1,
                ccsqm_client::visible(&near).as_ref()
            ),
        }
    };
    let mut messages = Vec::new();
    for (_, error) in errors {
        match error {
            Error::Io(errors) => {
                messages.extend(errors.into_iter().map(|(path, e)| format!("{path}: {e}")))
            }
            Error::Lex(errors) => messages.extend(
                errors
                    .into_iter()
                    .map(|(expect, rest)| format!("expected {} {}", expect.as_str(), at(rest))),
            ),
            Error::Parse(errors) => messages.extend(
                errors
                    .into_iter()
                    .map(|(expect, rest)| format!("expected {} {}", expect.as_str(), at(rest))),
            ),
        }
    }
    messages.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ccsqm_export::write_line;
    use serde_json::json;

    fn outputs(code: &str, input: Value) -> Vec<String> {
        let jq = Engine::compile(code).unwrap();
        let mut lines = Vec::new();
        jq.run(&input, |v| {
            let mut out = Vec::new();
            write_line(&mut out, &v, false)?;
            lines.push(String::from_utf8(out).unwrap());
            Ok(())
        })
        .unwrap();
        lines
    }

    #[test]
    fn results_are_lines_strings_raw() {
        let call = json!({"call_uuid": "u-1", "status": 2, "duration": 164.22, "tags": [1, 2]});
        assert_eq!(outputs(".call_uuid", call.clone()), ["u-1\n"]);
        assert_eq!(outputs(".duration", call.clone()), ["164.22\n"]);
        assert_eq!(outputs(".tags[]", call.clone()), ["1\n", "2\n"]);
        assert_eq!(
            outputs("{id: .call_uuid, s: .status}", call.clone()),
            ["{\"id\":\"u-1\",\"s\":2}\n"]
        );
        assert_eq!(
            outputs("select(.status == 9)", call.clone()),
            Vec::<String>::new()
        );
        assert_eq!(outputs(".call_uuid | ascii_upcase", call), ["U-1\n"]);
    }

    #[test]
    fn strings_for_a_terminal_are_escaped() {
        let jq = Engine::compile(".").unwrap();
        let mut out = Vec::new();
        jq.run(&json!("\u{1b}]0;x\u{7}"), |v| {
            write_line(&mut out, &v, true)
        })
        .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "\\u{1b}]0;x\\u{7}\n");
    }

    #[test]
    fn bad_filters_are_refused_with_why() {
        for bad in [".[", "foo_bar_baz", ".a |", "env", "{"] {
            let err = Engine::compile(bad)
                .err()
                .unwrap_or_else(|| panic!("{bad}"));
            assert!(!err.is_empty(), "{bad}");
        }
        let err = Engine::compile("nosuchfilter(1)").err().unwrap();
        assert!(err.contains("nosuchfilter"), "{err}");
    }

    #[test]
    fn errors_of_the_filter_are_errors() {
        let jq = Engine::compile(".a.b").unwrap();
        let err = jq.run(&json!({"a": 1}), |_| Ok(())).unwrap_err();
        assert!(err.to_string().starts_with("--jq: "), "{err}");
    }

    #[test]
    fn nesting_is_bounded_and_counted_outside_strings() {
        let deep = |n: usize| format!("{}1{}", "(".repeat(n), ")".repeat(n));
        assert!(nesting(&deep(MAX_NESTING)).is_ok());
        assert!(nesting(&deep(MAX_NESTING + 1)).is_err());
        assert!(nesting(&"[".repeat(10_000)).is_err());
        assert!(nesting(&format!("{}{}", "{a:".repeat(300), "}".repeat(300))).is_err());
        // Brackets in strings and comments are text; an interpolation is a level.
        assert!(nesting(&format!("\"{}\"", "(".repeat(10_000))).is_ok());
        assert!(nesting(&format!("# {}\n.", "[".repeat(10_000))).is_ok());
        let interpolated = format!("{}1{}", "\"\\(".repeat(300), ")\"".repeat(300));
        assert!(nesting(&interpolated).is_err());
        assert!(Engine::compile(&deep(MAX_NESTING + 1)).is_err());
        assert_eq!(outputs(&deep(100), json!(null)), ["1\n"]);
    }
}
