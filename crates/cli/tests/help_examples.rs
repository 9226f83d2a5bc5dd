//! Every example of `ccsqm`'s help texts, and the `ccsqm` lines of the `sh` blocks of the README,
//! `CONTRIBUTING.md` and `docs/*.md`, runs as written against a sandbox and exits 0; `ccsqm man --dir` writes a page for every
//! subcommand; completions offer the names of call types and statuses.
//!
//! An example runs in `bash -o pipefail` (so pipelines count), with `ccsqm` on the `PATH`, in a
//! scratch directory holding a copy of the repository's `tests/fixtures/` (examples name files
//! relative to the repository's root), and the variables the help documents pointing at a
//! `ccsqm sandbox` started for the test (CCSQM_BASE_URL, CCSQM_USER_ID, CCSQM_APP_KEY,
//! CCSQM_APP_SECRET): nothing else is substituted, but for `ccsqm sandbox`'s own examples, which
//! are servers: they are started on a free port (`--port 0` instead of theirs, as another test
//! may hold it), must print their banner, and must stop with exit 0 on Ctrl-C.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{ccsqm, run_within, stderr, stdout};

const LIMIT: Duration = Duration::from_secs(180);

/// The subcommands `ccsqm --help` lists.
fn subcommands() -> Vec<String> {
    let help = stdout(&ccsqm().arg("--help").output().unwrap());
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// Each help text: `ccsqm --help`, and `ccsqm <subcommand> --help` for every subcommand.
fn help_texts() -> Vec<(String, String)> {
    let mut texts = vec![("ccsqm --help".to_owned(), help_of(&[]))];
    for sub in subcommands() {
        texts.push((format!("ccsqm {sub} --help"), help_of(&[&sub])));
    }
    texts
}

fn help_of(args: &[&str]) -> String {
    // Wide: clap wraps help to the terminal, and a wrapped example would not run.
    let output = ccsqm()
        .env("COLUMNS", "1000")
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success(), "{args:?} --help");
    stdout(&output)
}

/// The command lines of a text: lines starting with `ccsqm ` (after blanks), joined with their
/// continuation lines (a line ending in `\`).
fn command_lines(text: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let line = line.trim();
        if !line.starts_with("ccsqm ") {
            continue;
        }
        let mut command = line.to_owned();
        while command.ends_with('\\') {
            command.pop();
            match lines.next() {
                Some(next) => command.push_str(next.trim()),
                None => break,
            }
            command.push(' ');
            command = command.trim_end().to_owned();
        }
        commands.push(command);
    }
    commands
}

/// The examples of a help text: the command lines after its `Examples:` heading.
fn help_examples(help: &str) -> Vec<String> {
    match help.split_once("\nExamples:\n") {
        Some((_, examples)) => command_lines(examples),
        None => Vec::new(),
    }
}

/// The documents whose examples run: the README, `CONTRIBUTING.md` and every `docs/*.md`,
/// in that order (a missing `CONTRIBUTING.md` is none).
fn documents() -> Vec<PathBuf> {
    let root = workspace();
    let mut documents = vec![root.join("README.md")];
    if root.join("CONTRIBUTING.md").exists() {
        documents.push(root.join("CONTRIBUTING.md"));
    }
    let mut docs: Vec<PathBuf> = match std::fs::read_dir(root.join("docs")) {
        Ok(entries) => entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "md"))
            .collect(),
        Err(_) => Vec::new(),
    };
    docs.sort();
    documents.extend(docs);
    documents
}

/// The `sh` blocks of a Markdown text, each as its text. Only blocks opened with exactly
/// ```` ```sh ```` are run: a `bash` block (a server, a loop, a command that never ends) or a
/// `console` block is shown, not run.
fn sh_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut block: Option<String> = None;
    for line in markdown.lines() {
        match (&mut block, line.trim()) {
            (None, "```sh") => block = Some(String::new()),
            (Some(_), "```") => blocks.extend(block.take()),
            (Some(text), _) => {
                text.push_str(line);
                text.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

/// The `ccsqm` lines of a document's `sh` blocks.
fn document_examples(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    command_lines(&sh_blocks(&text).concat())
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A child process killed when the test ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads a server's banner up to "Press Ctrl-C"; its text.
fn banner(child: &mut Child) -> String {
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut text = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        text.push_str(&line);
        text.push('\n');
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    text
}

/// The sandbox the examples run against, and the variables that point `ccsqm` at it.
fn sandbox() -> (Server, Vec<(&'static str, String)>) {
    let mut server = Server(
        ccsqm()
            .args(["sandbox", "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let banner = banner(&mut server.0);
    let url = banner
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no address in {banner}"))
        .to_owned();
    let env = vec![
        ("CCSQM_BASE_URL", url),
        ("CCSQM_USER_ID", ccsqm_sandbox::DEFAULT_USER_ID.to_owned()),
        ("CCSQM_APP_KEY", ccsqm_sandbox::DEFAULT_APP_KEY.to_owned()),
        (
            "CCSQM_APP_SECRET",
            ccsqm_sandbox::DEFAULT_APP_SECRET.to_owned(),
        ),
    ];
    (server, env)
}

/// A scratch directory with a copy of the repository's `tests/fixtures/`.
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("tests/fixtures");
    std::fs::create_dir_all(&fixtures).unwrap();
    for entry in std::fs::read_dir(workspace().join("tests/fixtures")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), fixtures.join(entry.file_name())).unwrap();
    }
    dir
}

/// Runs one example as written; panics with what it printed unless it exits 0 (and, for
/// `details`, finds calls).
fn run_example(example: &str, dir: &Path, env: &[(&str, String)]) {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_ccsqm")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let is_server = example.split_whitespace().nth(1) == Some("sandbox");
    let mut cmd = ccsqm();
    // At a terminal, a person answers `ccsqm configure`'s questions: here its stdin holds the
    // sandbox's answers (address, no token interface address, user ID, app key, app secret).
    let answers = dir.join("answers");
    let value = |name: &str| env.iter().find(|(n, _)| *n == name).map_or("", |(_, v)| v);
    let lines = [
        value("CCSQM_BASE_URL"),
        "",
        value("CCSQM_USER_ID"),
        value("CCSQM_APP_KEY"),
        value("CCSQM_APP_SECRET"),
    ];
    std::fs::write(&answers, lines.join("\n") + "\n").unwrap();
    let command = match is_server {
        true => server_on_a_free_port(example),
        false => format!("exec < '{}'\n{example}", answers.display()),
    };
    let mut shell = Command::new("bash");
    shell
        .args(["-o", "pipefail", "-c", &command])
        .current_dir(dir)
        .env("PATH", path);
    // The clean environment of `ccsqm()` (no CCSQM_*, no config file, UTC), and the sandbox's.
    for (name, value) in cmd.get_envs() {
        match value {
            Some(value) => shell.env(name, value),
            None => shell.env_remove(name),
        };
    }
    for (name, value) in env {
        shell.env(name, value);
    }
    // A config file of the examples' own (`ccsqm configure` writes one), not the shared one.
    let home = dir.join("home");
    shell
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"));
    cmd = shell;
    if is_server {
        let mut server = Server(
            cmd.stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let banner = banner(&mut server.0);
        assert!(banner.contains("listening on"), "{example}: {banner}");
        let pid = server.0.id().to_string();
        assert!(Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success());
        let status = common::wait_within(&mut server.0, std::time::Instant::now(), LIMIT);
        assert!(status.success(), "{example}: {status:?}");
        return;
    }
    let output = run_within(&mut cmd, LIMIT);
    assert!(
        output.status.success(),
        "{example}\nexited {:?}\nstderr: {}",
        output.status.code(),
        stderr(&output)
    );
    assert!(
        !stderr(&output).contains("no call matches"),
        "{example}: finds no call\n{}",
        stderr(&output)
    );
}

/// A `ccsqm sandbox` example on a free port, run with `exec` so that Ctrl-C reaches it.
fn server_on_a_free_port(example: &str) -> String {
    let mut words: Vec<&str> = example.split_whitespace().collect();
    if let Some(comment) = words.iter().position(|w| w.starts_with('#')) {
        words.truncate(comment);
    }
    match words.iter().position(|w| *w == "--port") {
        Some(i) if i + 1 < words.len() => words[i + 1] = "0",
        _ => words.extend(["--port", "0"]),
    }
    format!("exec {}", words.join(" "))
}

#[test]
fn every_help_example_runs_against_the_sandbox() {
    let (_server, env) = sandbox();
    let dir = scratch();
    let mut count = 0;
    for (help, text) in help_texts() {
        for example in help_examples(&text) {
            run_example(&example, dir.path(), &env);
            eprintln!("ok ({help}): {example}");
            count += 1;
        }
    }
    // The main help, details/api/transcript/sandbox examples: a parser that finds none fails.
    assert!(count >= 15, "only {count} examples found");
}

#[test]
fn the_documents_ccsqm_examples_run_against_the_sandbox() {
    let (_server, env) = sandbox();
    let dir = scratch();
    let mut count = 0;
    for document in documents() {
        let examples = document_examples(&document);
        let name = document
            .strip_prefix(workspace())
            .unwrap_or(&document)
            .display()
            .to_string();
        for example in &examples {
            run_example(example, dir.path(), &env);
            eprintln!("ok ({name}): {example}");
        }
        count += examples.len();
    }
    // A parser that finds none fails.
    assert!(count >= 15, "only {count} examples found");
}

/// The README is what a newcomer pastes into a fresh shell: no `CCSQM_*` variable, no config
/// file. Every `ccsqm` line of its `sh` blocks works there (the quick start and the recipes use
/// `--sandbox`), but for the section that sets up an account (`## With your account`), whose
/// lines the test above runs with the sandbox's variables.
#[test]
fn the_readmes_examples_run_in_a_fresh_shell() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let account = "## With your account";
    assert!(
        readme.lines().any(|l| l == account),
        "the README's `{account}` section"
    );
    let mut examples = Vec::new();
    for section in readme.split("\n## ") {
        if !format!("## {section}").starts_with(account) {
            examples.extend(command_lines(&sh_blocks(section).concat()));
        }
    }
    assert!(examples.len() >= 5, "{examples:?}");
    let dir = scratch();
    for example in &examples {
        run_example(example, dir.path(), &[]);
        eprintln!("ok (fresh shell): {example}");
    }
}

#[test]
fn examples_are_read_with_their_continuation_lines() {
    let text =
        "Examples:\n  # a comment\n  ccsqm a \\\n      --b c\n  not ccsqm\n  ccsqm d | ccsqm e\n";
    assert_eq!(command_lines(text), ["ccsqm a --b c", "ccsqm d | ccsqm e"]);
    let markdown =
        "```sh\nccsqm a\n```\n```bash\nccsqm b\n```\n```\nccsqm c\n```\n```sh\nccsqm d\n```\n";
    assert_eq!(
        command_lines(&sh_blocks(markdown).concat()),
        ["ccsqm a", "ccsqm d"]
    );
    assert_eq!(
        server_on_a_free_port("ccsqm sandbox --port 8080 --calls 5   # a comment"),
        "exec ccsqm sandbox --port 0 --calls 5"
    );
    assert_eq!(
        server_on_a_free_port("ccsqm sandbox --fail-rate 0.1"),
        "exec ccsqm sandbox --fail-rate 0.1 --port 0"
    );
}

#[test]
fn man_dir_writes_a_page_for_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let pages = dir.path().join("man1");
    let output = ccsqm().args(["man", "--dir"]).arg(&pages).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let main = std::fs::read_to_string(pages.join("ccsqm.1")).unwrap();
    // roff writes a hyphen as `\-`.
    let main_text = main.replace("\\-", "-");
    assert!(main.contains(".TH ccsqm 1"), "{main}");
    let subcommands = subcommands();
    assert!(subcommands.len() >= 8, "{subcommands:?}");
    for sub in &subcommands {
        let name = format!("ccsqm-{sub}");
        let page = std::fs::read_to_string(pages.join(format!("{name}.1")))
            .unwrap_or_else(|e| panic!("{name}.1: {e}"));
        assert!(page.contains(&format!(".TH {name} 1")), "{name}: {page}");
        // The main page refers to it, and it exists.
        assert!(
            main_text.contains(&format!("{name}(1)")),
            "{name}(1) in ccsqm.1"
        );
    }
    // Every page the main page refers to was written.
    let mut references = 0;
    for reference in main_text.split(|c: char| !(c.is_ascii_alphanumeric() || "-()".contains(c))) {
        if let Some(name) = reference
            .strip_prefix("ccsqm-")
            .and_then(|r| r.strip_suffix("(1)"))
        {
            assert!(
                pages.join(format!("ccsqm-{name}.1")).exists(),
                "{reference}"
            );
            references += 1;
        }
    }
    assert_eq!(references, subcommands.len(), "{main_text}");
    let details = std::fs::read_to_string(pages.join("ccsqm-details.1")).unwrap();
    for flag in ["call\\-from", "anchor", "sandbox"] {
        assert!(details.contains(flag), "{flag} in ccsqm-details.1");
    }
    assert!(
        stderr(&output).contains("ccsqm-details.1"),
        "{}",
        stderr(&output)
    );

    // Without --dir: the main page on stdout, as before.
    let stdout_page = ccsqm().arg("man").output().unwrap();
    assert!(stdout_page.status.success());
    assert_eq!(stdout(&stdout_page), main);
}

#[test]
fn completions_offer_call_types_and_statuses_by_name() {
    let names: Vec<&str> = ccsqm_client::spec::enums::CALL_TYPE
        .values
        .iter()
        .chain(ccsqm_client::spec::enums::INSPECTION_STATUS.values)
        .map(|v| v.name)
        .collect();
    for shell in ["bash", "zsh"] {
        let output = ccsqm().args(["completions", shell]).output().unwrap();
        assert!(output.status.success(), "{shell}");
        let script = stdout(&output);
        for name in &names {
            assert!(script.contains(name), "{name} in the {shell} completions");
        }
        for flag in ["--anchor", "--status", "--call-type"] {
            assert!(script.contains(flag), "{flag} in the {shell} completions");
        }
    }
}
