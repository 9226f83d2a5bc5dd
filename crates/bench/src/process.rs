//! Child processes: timed runs with their peak RSS (`wait4`), and sandbox servers.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What one run of a command cost.
#[derive(Clone, Copy, Debug)]
pub struct Run {
    /// From spawning it to reaping it.
    pub wall: Duration,
    /// Peak resident memory of the process and of the descendants it waited for, in KiB
    /// (`ru_maxrss` from `wait4`).
    pub peak_rss_kib: u64,
    /// CPU time (user + system) of the process and of the descendants it waited for (a
    /// build's compilers): less disturbed by other work on the machine than `wall`.
    pub cpu: Duration,
}

/// The first argument that makes the harness a measuring intermediary (see [`measure`]).
pub const MEASURE: &str = "__measure";

/// Runs `command` (its program, arguments, environment and directory) to its end, at most
/// `limit` (then it is killed), with its standard output to `stdout`, and measures it. A
/// non-zero exit is an error.
///
/// The command is started by a fresh process of the harness (`ccsqm-bench __measure ...`),
/// which spawns it, reaps it with `wait4` and reports. The detour is for the peak RSS: Linux
/// counts in a child's `ru_maxrss` the peak RSS of the process that spawned it (the memory it
/// shared until `exec`), so a command spawned by the harness itself, which holds HTTP clients
/// and runtimes, would show at least the harness's own peak. The fresh intermediary is small;
/// [`floor`] measures what it adds.
pub fn measure(command: &Command, stdout: Stdio, limit: Duration) -> Result<Run, String> {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let result = std::env::temp_dir().join(format!(
        "ccsqm-bench-{}-{}.run",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let exe = std::env::current_exe().map_err(|e| format!("the harness's own path: {e}"))?;
    let mut wrapper = Command::new(exe);
    wrapper
        .arg(MEASURE)
        .arg(&result)
        .arg(limit.as_millis().to_string())
        .arg(command.get_program())
        .args(command.get_args());
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => wrapper.env(name, value),
            None => wrapper.env_remove(name),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        wrapper.current_dir(dir);
    }
    let status = wrapper
        .stdin(Stdio::null())
        .stdout(stdout)
        .status()
        .map_err(|e| format!("cannot start the measuring process: {e}"))?;
    let report = std::fs::read_to_string(&result).unwrap_or_default();
    let _ = std::fs::remove_file(&result);
    let fields: Vec<&str> = report.split_whitespace().collect();
    match fields.as_slice() {
        ["ok", wall, rss, cpu] if status.success() => Ok(Run {
            wall: Duration::from_nanos(wall.parse().map_err(|_| "bad report")?),
            peak_rss_kib: rss.parse().map_err(|_| "bad report")?,
            cpu: Duration::from_nanos(cpu.parse().map_err(|_| "bad report")?),
        }),
        _ => Err(format!(
            "{command:?}: {}",
            report.strip_prefix("error ").unwrap_or("failed")
        )),
    }
}

/// The intermediary of [`measure`]: `__measure RESULT_FILE LIMIT_MS PROGRAM [ARGS...]`. Writes
/// `ok WALL_NS PEAK_RSS_KIB CPU_NS` or `error MESSAGE` to RESULT_FILE, and exits.
pub fn measure_main(args: &[std::ffi::OsString]) -> ! {
    let [result, limit, program, rest @ ..] = args else {
        eprintln!("usage: ccsqm-bench {MEASURE} RESULT_FILE LIMIT_MS PROGRAM [ARGS...]");
        std::process::exit(2);
    };
    let limit = Duration::from_millis(limit.to_string_lossy().parse().unwrap_or(60_000));
    let mut command = Command::new(program);
    command.args(rest);
    let (report, code) = match spawn_and_reap(&mut command, limit) {
        Ok(run) => (
            format!(
                "ok {} {} {}",
                run.wall.as_nanos(),
                run.peak_rss_kib,
                run.cpu.as_nanos()
            ),
            0,
        ),
        Err(e) => (format!("error {e}"), 1),
    };
    if let Err(e) = std::fs::write(result, report) {
        eprintln!("writing {}: {e}", result.to_string_lossy());
        std::process::exit(1);
    }
    std::process::exit(code)
}

/// Peak RSS that [`measure`] reports for a process that does nothing (`true`): the floor of
/// its figures, in KiB.
pub fn floor() -> Result<u64, String> {
    Ok(measure(
        &Command::new("true"),
        Stdio::null(),
        Duration::from_secs(10),
    )?
    .peak_rss_kib)
}

fn spawn_and_reap(command: &mut Command, limit: Duration) -> Result<Run, String> {
    let started = Instant::now();
    let child = command
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {command:?}: {e}"))?;
    let pid = child.id() as libc::pid_t;
    // A watchdog: the run is bounded in time even if the command hangs.
    let done = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let done = done.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + limit;
            while !done.load(Ordering::Acquire) {
                if Instant::now() >= deadline {
                    // SAFETY: kill(2) with our own child's pid, not yet reaped (done is false).
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                    return true;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            false
        })
    };
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = loop {
        // SAFETY: wait4 on our own child, with valid pointers to locals.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        break r;
    };
    let wall = started.elapsed();
    done.store(true, Ordering::Release);
    let killed = watchdog.join().unwrap_or(false);
    // Already reaped: dropping `child` neither waits nor kills.
    drop(child);
    if reaped != pid {
        return Err(format!(
            "wait4 failed for {command:?}: {}",
            std::io::Error::last_os_error()
        ));
    }
    if killed {
        return Err(format!("{command:?} took longer than {limit:?}: killed"));
    }
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        return Err(format!("{command:?} failed (wait status {status})"));
    }
    let time = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    Ok(Run {
        wall,
        peak_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        cpu: time(usage.ru_utime) + time(usage.ru_stime),
    })
}

/// A free TCP port on 127.0.0.1 (free when asked; the server binds it right after).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A sandbox server (`ccsqm sandbox`) as a process of its own, on a free loopback port; stopped
/// (SIGINT, then SIGKILL) when dropped.
pub struct SandboxProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// Calls in its data set (what it printed on start).
    pub calls: u64,
}

impl SandboxProcess {
    /// Starts `ccsqm sandbox --calls CALLS` (and `extra` options) and waits until it listens.
    pub fn start(ccsqm: &std::path::Path, calls: u64, extra: &[&str]) -> Result<Self, String> {
        let port = free_port();
        let mut child = Command::new(ccsqm)
            .args(["sandbox", "--port", &port.to_string()])
            .args(["--calls", &calls.to_string()])
            // Calls at fixed times: the load's windows are set from FIRST_CALL_TIME.
            .args(["--anchor", &ccsqm_sandbox::Anchor::EARLIEST.to_string()])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", ccsqm.display()))?;
        let stdout = child.stdout.take().expect("a piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut listening = false;
        let mut data_calls = None;
        // It prints its address, then its data set, then how to use it.
        for line in lines.by_ref() {
            let line = line.unwrap_or_default();
            listening |= line.contains("listening on");
            if let Some(rest) = line.trim().strip_prefix("data set:") {
                data_calls = rest.split_whitespace().next().and_then(|n| n.parse().ok());
            }
            if line.starts_with("Press Ctrl-C") {
                break;
            }
        }
        // Keep draining its output (it prints a line on stop) without blocking it.
        std::thread::spawn(move || for _ in lines {});
        let mut sandbox = Self {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            calls: data_calls.unwrap_or(0),
        };
        if !listening || sandbox.calls == 0 {
            sandbox.stop();
            return Err(format!(
                "ccsqm sandbox did not start on port {port} (or printed no data set size)"
            ));
        }
        Ok(sandbox)
    }

    /// Its resident memory now, in KiB (`VmRSS`), 0 when unknown.
    /// The CPU time (user and system) the sandbox has used so far, from `/proc/PID/stat`.
    pub fn cpu_time(&self) -> Option<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        // After the command's name in brackets: state is field 3, utime 14, stime 15.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let ticks: u64 =
            fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        // SAFETY: sysconf has no preconditions.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        (per_second > 0).then(|| Duration::from_secs_f64(ticks as f64 / per_second as f64))
    }

    pub fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.split_whitespace().next())
                    .and_then(|v| v.parse().ok())
            })
            .unwrap_or(0)
    }

    fn stop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SAFETY: kill(2) with our own child's pid, not yet reaped.
            unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGINT) };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        self.stop();
    }
}
