//! Profiles of the config file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ccsqm_client::Secret;
use serde::Deserialize;

use crate::Error;

/// The profile used when none is named.
pub const DEFAULT_PROFILE: &str = "default";

/// One profile of the config file. Unknown keys are refused, so a typo is not silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The API's address, `https://…`.
    pub base_url: Option<String>,
    /// The API's domain: the address is `https://{domain}`.
    pub domain: Option<String>,
    /// The token interface's address, when it is not the API's.
    pub token_base_url: Option<String>,
    /// A fixed token.
    pub token: Option<Secret>,
    /// A file holding a fixed token.
    pub token_file: Option<PathBuf>,
    /// The app key, for tokens from `tokenByAkSk`.
    pub app_key: Option<String>,
    /// The app secret.
    pub app_secret: Option<Secret>,
    /// A file holding the app secret.
    pub app_secret_file: Option<PathBuf>,
    /// The app secret is in the operating system's keyring, under this account of the service
    /// [`crate::keyring::SERVICE`] (written by `ccsqm configure`).
    pub app_secret_keyring: Option<String>,
    /// The operator ID, sent as `x-UserId`.
    pub user_id: Option<String>,
}

/// The profiles of a config file's text (`path`: for messages).
pub fn parse_profiles(path: &Path, text: &str) -> Result<BTreeMap<String, Profile>, Error> {
    toml::from_str(text).map_err(|e| {
        // Not `{e}`: toml's message quotes the offending line, which may hold a secret.
        let line = e
            .span()
            .map(|span| text[..span.start.min(text.len())].lines().count().max(1));
        let at = line.map(|l| format!(" at line {l}")).unwrap_or_default();
        Error::Invalid(format!(
            "config file {}: not valid TOML{at}: {}",
            path.display(),
            e.message().lines().next().unwrap_or("syntax error")
        ))
    })
}

/// `<config dir>/ccsqm/config.toml`, e.g. `~/.config/ccsqm/config.toml` on Linux.
pub fn default_path() -> Option<PathBuf> {
    dirs::config_dir().map(|dir| dir.join("ccsqm").join("config.toml"))
}
