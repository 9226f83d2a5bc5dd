//! `ccsqm sync --watch` as a worker and its standby (issue #23, item 2, one tenant): a second
//! watch into a database that one is writing to stands by instead of failing, takes over when
//! the first is killed (`kill -9`), from the checkpoint the first committed, and the database
//! ends with every call of the sandbox, each once; a standby's SIGTERM ends its wait.
//!
//! SQLite and PostgreSQL (`cargo xtask test -p ccsqm-cli --test sync_standby` starts a server).

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ccsqm_sandbox::{Faults, Latency, Sandbox};

mod common;
use common::databases::backends;
use common::runtime;
use common::sync::{assert_equal, sync_cmd, wait_until};

const LIMIT: Duration = Duration::from_secs(240);

/// A watch of pages of 20, one at a time, every 2 s; its stderr's lines gathered as they come.
fn spawn_watch(sandbox: &Sandbox, db: &str) -> (Child, Arc<Mutex<Vec<String>>>) {
    let mut child = sync_cmd(sandbox, db)
        .args(["--watch", "2s", "--limit", "20", "--concurrency", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let stderr = child.stderr.take().unwrap();
    let gathered = Arc::clone(&lines);
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            gathered.lock().unwrap().push(line);
        }
    });
    (child, lines)
}

fn said(lines: &Mutex<Vec<String>>, text: &str) -> bool {
    lines.lock().unwrap().iter().any(|l| l.contains(text))
}

fn signal(child: &Child, signal: libc::c_int) {
    // SAFETY: a signal to our own child process, by its pid.
    unsafe { libc::kill(child.id() as libc::pid_t, signal) };
}

#[test]
fn a_second_watch_stands_by_and_takes_over_when_the_first_is_killed() {
    let rt = runtime();
    let sandbox = rt
        .block_on(
            Sandbox::builder()
                .calls(2_000)
                .seed(31)
                .faults(Faults {
                    latency: Latency::Fixed(Duration::from_millis(40)),
                    ..Faults::none()
                })
                .start(),
        )
        .unwrap();
    let calls = sandbox.data().len();
    for backend in backends("standby") {
        let db = backend.url();
        let (mut first, _) = spawn_watch(&sandbox, &db);
        wait_until(
            LIMIT,
            || backend.count() >= 40,
            || first.try_wait().unwrap().is_some(),
        );
        // Two standbys: one is stopped while it waits, the other takes over.
        let (mut stopped, stopped_said) = spawn_watch(&sandbox, &db);
        let (mut second, second_said) = spawn_watch(&sandbox, &db);
        for (child, lines) in [(&mut stopped, &stopped_said), (&mut second, &second_said)] {
            wait_until(
                LIMIT,
                || said(lines, "standing by"),
                || child.try_wait().unwrap().is_some(),
            );
        }
        signal(&stopped, libc::SIGTERM);
        let status = common::wait_within(&mut stopped, Instant::now(), LIMIT);
        assert_eq!(
            status.code(),
            Some(143),
            "{}: {:?}",
            backend.name(),
            stopped_said.lock().unwrap()
        );
        // The first is killed in the middle of its first window.
        assert!(first.try_wait().unwrap().is_none());
        let before = backend.count();
        assert!(
            before < calls,
            "the first sync finished before it was killed"
        );
        assert!(backend.rows("sync_checkpoint").is_empty());
        first.kill().unwrap();
        first.wait().unwrap();

        wait_until(
            LIMIT,
            || said(&second_said, "taking over"),
            || second.try_wait().unwrap().is_some(),
        );
        wait_until(
            LIMIT,
            || backend.count() == calls && backend.rows("sync_checkpoint").len() == 1,
            || second.try_wait().unwrap().is_some(),
        );
        assert_equal(&backend, &sandbox);
        let runs = backend.rows("sync_runs");
        assert!(
            runs.iter().any(|r| r["state"] == "interrupted"),
            "{}: the killed sync's run: {runs:?}",
            backend.name()
        );
        signal(&second, libc::SIGTERM);
        let status = common::wait_within(&mut second, Instant::now(), LIMIT);
        assert_eq!(
            status.code(),
            Some(143),
            "{}: {:?}",
            backend.name(),
            second_said.lock().unwrap()
        );
    }
}
