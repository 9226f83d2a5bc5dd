//! Exit codes, one per class of failure.
//!
//! | code | class |
//! |---|---|
//! | 0 | success (also when the reader of stdout went away, as in `ccsqm … \| head`; stderr into a closed pipe changes no code) |
//! | 1 | anything else (e.g. the output file could not be written) |
//! | 2 | usage: bad flags or configuration, found before any request |
//! | 3 | authentication: 401 from the API, or the token interface refused the app key and secret |
//! | 4 | not found: 404 |
//! | 5 | server or business failure: 400, 500, other statuses (a firewall's 403), unreadable or too large responses, an incomplete export (pages that do not add up, without `--allow-partial`), counts of `details --count` that do not add up |
//! | 6 | network: no connection, timeouts, interrupted transfers |
//! | 7 | `ccsqm sync`'s database: unreachable or refusing, read-only or full, not `ccsqm sync`'s (or `--db` not a file: a directory, a device, a FIFO, a socket), written by a newer `ccsqm`, or in use by another sync |
//! | 8 | `--strict-spec`: the server sent what spec/ccsqm.yaml does not describe (a field it does not name, an enumeration value it does not list): `ccsqm details` leaves its output file untouched, `ccsqm sync`'s round fails without moving its checkpoint |
//! | 129, 130, 143 | `ccsqm details` or `ccsqm sync` stopped by SIGHUP, SIGINT (Ctrl-C) or SIGTERM (the previous output file untouched, no temporary file left) |

use ccsqm_client::{ApiError, ErrorKind};

pub const OTHER: u8 = 1;
pub const USAGE: u8 = 2;
pub const AUTH: u8 = 3;
pub const NOT_FOUND: u8 = 4;
pub const SERVER: u8 = 5;
pub const NETWORK: u8 = 6;
pub const DATABASE: u8 = 7;
pub const DRIFT: u8 = 8;

/// The name of an exit code's class (`--log-format json`'s `kind`).
pub fn class(code: u8) -> &'static str {
    match code {
        0 => "success",
        USAGE => "usage",
        AUTH => "auth",
        NOT_FOUND => "not_found",
        SERVER => "server",
        NETWORK => "network",
        DATABASE => "database",
        129 | 130 | 143 => "interrupted",
        _ => "other",
    }
}

/// The class of a failed request.
pub fn of_api(error: &ApiError) -> u8 {
    of_kind(error.kind())
}

/// The class of a kind of failed request.
pub fn of_kind(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::InvalidRequest => USAGE,
        ErrorKind::Auth => AUTH,
        ErrorKind::NotFound => NOT_FOUND,
        ErrorKind::Network => NETWORK,
        ErrorKind::BadRequest
        | ErrorKind::Business
        | ErrorKind::Server
        | ErrorKind::UnreadableBody
        | ErrorKind::Paging => SERVER,
        // A kind added to the client later: its own class is not known here.
        _ => OTHER,
    }
}

/// The exit code of an error.
pub fn code(error: &anyhow::Error) -> u8 {
    if let Some(api) = error.downcast_ref::<ApiError>() {
        return of_api(api);
    }
    if error.downcast_ref::<crate::error::UsageError>().is_some()
        || error
            .downcast_ref::<ccsqm_config::MissingSettings>()
            .is_some()
    {
        return USAGE;
    }
    if let Some(partial) = error.downcast_ref::<crate::error::PartialFailure>() {
        return of_kind(partial.first);
    }
    if let Some(sync) = error.downcast_ref::<ccsqm_sync::Error>() {
        return of_sync(sync);
    }
    if error.downcast_ref::<ccsqm_sync::DbError>().is_some() {
        return DATABASE;
    }
    if let Some(stopped) = error.downcast_ref::<crate::error::Interrupted>() {
        return stopped.code;
    }
    if error.downcast_ref::<crate::error::CountError>().is_some() {
        return SERVER;
    }
    if error.downcast_ref::<crate::error::SpecDrift>().is_some() {
        return DRIFT;
    }
    OTHER
}

/// The class of a failure of the sync engine.
fn of_sync(error: &ccsqm_sync::Error) -> u8 {
    use ccsqm_sync::Error;
    match error {
        Error::Database(_) | Error::Refused(_) => DATABASE,
        Error::Api { source, .. } => of_api(source),
        Error::MissingKey(_) => SERVER,
        Error::MissingTranscripts { kind, .. } => of_kind(*kind),
        Error::Request(_) => USAGE,
        Error::SpecDrift(_) => DRIFT,
        // A cancellation the command did not ask for, the reader's panic, data it cannot
        // store, a failure added to the engine later.
        _ => OTHER,
    }
}

/// Whether the error is stdout's reader going away (`ccsqm … | head`): an `EPIPE` anywhere in
/// the error's causes, also inside the errors that wrap an I/O error without giving it as their
/// source (`serde_json::Error`, an `io::Error` made of another error).
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(cause_is_broken_pipe)
}

/// Whether `cause`, or an error it wraps, is `EPIPE` (at most a few levels deep).
fn cause_is_broken_pipe(cause: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(cause);
    for _ in 0..16 {
        let Some(cause) = next else {
            return false;
        };
        if let Some(json) = cause.downcast_ref::<serde_json::Error>() {
            if json.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe) {
                return true;
            }
        }
        if let Some(csv) = cause.downcast_ref::<csv::Error>() {
            if let csv::ErrorKind::Io(io) = csv.kind() {
                if io.kind() == std::io::ErrorKind::BrokenPipe {
                    return true;
                }
            }
        }
        next = match cause.downcast_ref::<std::io::Error>() {
            Some(io) if io.kind() == std::io::ErrorKind::BrokenPipe => return true,
            // An `io::Error` made of another error (`io::Error::other(e)`): that error.
            Some(io) => match io.get_ref() {
                Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
                None => cause.source(),
            },
            None => cause.source(),
        };
    }
    false
}

#[cfg(test)]
mod tests {
    use std::io;

    fn pipe() -> io::Error {
        io::Error::from(io::ErrorKind::BrokenPipe)
    }

    #[test]
    fn a_broken_pipe_is_found_inside_any_wrapper() {
        use serde::ser::Error as _;
        let json = serde_json::Error::io(pipe());
        assert!(super::is_broken_pipe(&anyhow::Error::new(json)));
        let json = serde_json::Error::io(pipe());
        assert!(super::is_broken_pipe(
            &anyhow::Error::new(io::Error::other(json)).context("writing")
        ));
        assert!(super::is_broken_pipe(&anyhow::Error::new(pipe())));
        let csv = csv::Error::from(pipe());
        assert!(super::is_broken_pipe(&anyhow::Error::new(csv)));
        let other = serde_json::Error::custom("not a pipe");
        assert!(!super::is_broken_pipe(&anyhow::Error::new(other)));
        let other = io::Error::other("no");
        assert!(!super::is_broken_pipe(&anyhow::Error::new(other)));
    }
}
