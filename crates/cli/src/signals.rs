//! Ctrl-C (SIGINT), SIGTERM and SIGHUP during `ccsqm details`: the temporary output file is
//! removed when it has a name (an unnamed one, see [`ccsqm_export::file::Temporary`], goes with the
//! process), and `ccsqm` exits with 128 + the signal's number (130, 143, 129), as a shell
//! reports a process killed by it.
//!
//! The signals are awaited by a task of their own on the runtime's worker threads, so that
//! they act even while the export is blocked (writing to a full pipe, opening a FIFO that
//! has no reader yet).

use tokio::signal::unix::{signal, SignalKind};

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
        ccsqm_export::file::remove_temporary();
        eprintln!("\nccsqm: interrupted by {name}: the export did not finish");
        std::process::exit(code);
    });
    Ok(())
}
