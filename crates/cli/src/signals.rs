//! Ctrl-C (SIGINT), SIGTERM and SIGHUP during `ccsqm details`: the temporary output file is
//! removed when it has a name (an unnamed one, see [`crate::sink::Temporary`], goes with the
//! process), and `ccsqm` exits with 128 + the signal's number (130, 143, 129), as a shell
//! reports a process killed by it.
//!
//! The signals are awaited by a task of their own on the runtime's worker threads, so that
//! they act even while the export is blocked (writing to a full pipe, opening a FIFO that
//! has no reader yet).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tokio::signal::unix::{signal, SignalKind};

/// The temporary file to remove on a signal.
static TEMPORARY: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Removes `path` if a signal comes before [`forget`].
pub fn remove_on_signal(path: &Path) {
    if let Ok(mut slot) = TEMPORARY.lock() {
        *slot = Some(path.to_owned());
    }
}

/// The temporary file was renamed or removed: nothing to remove any more.
pub fn forget() {
    if let Ok(mut slot) = TEMPORARY.lock() {
        *slot = None;
    }
}

/// Starts listening for SIGINT, SIGTERM and SIGHUP (they no longer kill the process at once).
pub fn install() -> std::io::Result<()> {
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        let (name, code) = tokio::select! {
            _ = interrupt.recv() => ("SIGINT", 130),
            _ = terminate.recv() => ("SIGTERM", 143),
            _ = hangup.recv() => ("SIGHUP", 129),
        };
        let removed = TEMPORARY.lock().ok().and_then(|mut slot| slot.take());
        if let Some(path) = removed {
            let _ = std::fs::remove_file(path);
        }
        eprintln!("\nccsqm: interrupted by {name}: the export did not finish");
        std::process::exit(code);
    });
    Ok(())
}
