//! Why settings could not be resolved.

use crate::MissingSettings;

/// Why settings could not be resolved: both are the user's to mend (the `ccsqm` command exits
/// with 2), and neither message shows a secret.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting or a file is wrong: a profile that does not exist, a config file that is not
    /// TOML, a secret file others can read, a keyring entry that cannot be read, ….
    #[error("{0}")]
    Invalid(String),
    /// Settings nothing gave, each with how to give it.
    #[error(transparent)]
    Missing(#[from] MissingSettings),
}
