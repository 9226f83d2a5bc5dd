//! Ctrl-C (SIGINT), SIGTERM and SIGHUP during `ccsqm sync`: the sync stops after the current
//! transaction (calls read but not yet committed are dropped; they are read again next time) and exits with
//! 128 + the signal's number. A second signal exits at once (the database rolls back what was
//! not committed, as after `kill -9`).

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::Notify;

use crate::error::Interrupted;

/// Whether a stop was asked for.
#[derive(Clone)]
pub struct Stop(Arc<Inner>);

struct Inner {
    /// 0 while running, else the exit code.
    code: AtomicU8,
    notify: Notify,
    /// Cancelled at the first signal: the sync engine stops after its current transaction.
    token: ccsqm_sync::CancellationToken,
}

impl Stop {
    /// Starts listening for the signals.
    pub fn install() -> std::io::Result<Stop> {
        let stop = Stop(Arc::new(Inner {
            code: AtomicU8::new(0),
            notify: Notify::new(),
            token: ccsqm_sync::CancellationToken::new(),
        }));
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let mut hangup = signal(SignalKind::hangup())?;
        let inner = stop.0.clone();
        tokio::spawn(async move {
            loop {
                let code = tokio::select! {
                    _ = interrupt.recv() => 130,
                    _ = terminate.recv() => 143,
                    _ = hangup.recv() => 129,
                };
                if inner.code.load(Ordering::SeqCst) != 0 {
                    match crate::log_format::json() {
                        true => crate::log_format::message(
                            "error",
                            "stopped",
                            "stopped at once (the last transaction was rolled back)",
                        ),
                        false => eprintln!(
                            "\nccsqm: stopped at once (the last transaction was rolled back)"
                        ),
                    }
                    std::process::exit(i32::from(code));
                }
                inner.code.store(code, Ordering::SeqCst);
                inner.token.cancel();
                inner.notify.notify_one();
            }
        });
        Ok(stop)
    }

    /// The token the sync engine watches: cancelled at the first signal.
    pub fn token(&self) -> &ccsqm_sync::CancellationToken {
        &self.0.token
    }

    /// The stop asked for, if any.
    pub fn requested(&self) -> Option<Interrupted> {
        let code = self.0.code.load(Ordering::SeqCst);
        let signal = match code {
            0 => return None,
            130 => "SIGINT",
            143 => "SIGTERM",
            _ => "SIGHUP",
        };
        Some(Interrupted { signal, code })
    }

    /// Waits until a stop is asked for.
    pub async fn wait(&self) -> Interrupted {
        loop {
            let notified = self.0.notify.notified();
            if let Some(stop) = self.requested() {
                // Leave the permit for the next waiter.
                self.0.notify.notify_one();
                return stop;
            }
            notified.await;
        }
    }
}
