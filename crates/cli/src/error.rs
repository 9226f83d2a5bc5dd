//! The command's own errors, a leaf that every module may use: [`crate::exit`] turns them
//! (and the libraries' errors) into exit codes, in one place.

/// Bad input, found before any request: exit code 2, like clap's own errors.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The sync was stopped by a signal: exit code 128 + its number.
#[derive(Debug, thiserror::Error)]
#[error(
    "interrupted by {signal}: the sync stopped after its last committed transaction (the \
     checkpoint is where the committed calls end); run it again to go on"
)]
pub struct Interrupted {
    pub signal: &'static str,
    pub code: u8,
}

/// Some calls failed: the message, and the kind of the first failure (its class is the exit
/// code).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct PartialFailure {
    pub message: String,
    pub first: ccsqm_client::ErrorKind,
}

/// The error and its causes on one line, each cause once: an error that already shows its
/// source (as `network error: {source}` does) does not get it repeated.
pub fn message(error: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

/// The counts do not add up, or cannot be read: exit 5, like pages that do not add up.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CountError(pub String);

/// `--strict-spec`: the server sent what `spec/ccsqm.yaml` does not describe (exit 8).
#[derive(Debug, thiserror::Error)]
#[error(
    "the server sent what spec/ccsqm.yaml does not describe (--strict-spec): {drift}{kept}; \
     {where_}",
    where_ = crate::drift::WHERE
)]
pub struct SpecDrift {
    pub drift: ccsqm_client::Drift,
    /// What became of the output, e.g. `; the output file was not written`.
    pub kept: &'static str,
}
