//! Connection settings: flags > environment (clap reads both) > a profile of the config file.
//!
//! The config file is TOML, one table per profile:
//!
//! ```toml
//! [default]
//! domain = "service.besclouds.com"      # or base_url = "https://…"
//! user_id = "1611917095665261978"
//! app_key = "my-app-key"
//! app_secret_file = "/home/me/.config/ccsqm/app_secret"  # or app_secret = "…"
//! # token_file / token, token_base_url
//! ```
//!
//! A config file that holds a secret (`app_secret`, `token`) is refused when other users can
//! read it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use ccsqm_client::Secret;
use serde::Deserialize;

use crate::args::Connection;
use crate::UsageError;

/// The profile used when none is named.
pub const DEFAULT_PROFILE: &str = "default";

/// One profile of the config file. Unknown keys are refused, so a typo is not silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub base_url: Option<String>,
    pub domain: Option<String>,
    pub token_base_url: Option<String>,
    pub token: Option<Secret>,
    pub token_file: Option<PathBuf>,
    pub app_key: Option<String>,
    pub app_secret: Option<Secret>,
    pub app_secret_file: Option<PathBuf>,
    pub user_id: Option<String>,
}

/// How the client authenticates.
#[derive(Debug)]
pub enum Credentials {
    /// A Bearer token, used as is.
    Token(Secret),
    /// An app key and app secret, exchanged for tokens through tokenByAkSk.
    AkSk { app_key: String, app_secret: Secret },
}

/// Everything needed to reach the API, resolved.
#[derive(Debug)]
pub struct Settings {
    pub base_url: String,
    pub token_base_url: Option<String>,
    /// `None` when none are configured: enough for `--dry-run`, refused by [`Settings::credentials`].
    pub credentials: Option<Credentials>,
    pub user_id: String,
    pub app_key: Option<String>,
}

impl Settings {
    /// The credentials, or a usage error saying how to give them.
    pub fn credentials(&self) -> Result<&Credentials, UsageError> {
        self.credentials.as_ref().ok_or_else(|| {
            UsageError(
                "no credentials: set a token (CCSQM_TOKEN or --token-file) or an app key and app \
                 secret (--app-key or CCSQM_APP_KEY, and CCSQM_APP_SECRET or --app-secret-file), \
                 or use --sandbox"
                    .into(),
            )
        })
    }
}

/// Resolves the settings from the flags and environment (`connection`), the environment's
/// secrets (`CCSQM_TOKEN`, `CCSQM_APP_SECRET`, passed in as `env_token`, `env_app_secret`), and
/// the config file's profile.
pub fn resolve(
    connection: &Connection,
    env_token: Option<Secret>,
    env_app_secret: Option<Secret>,
) -> Result<Settings> {
    let profile = load_profile(connection)?;

    let base_url = match (&connection.base_url, &connection.domain) {
        (Some(url), _) => url.clone(),
        (None, Some(domain)) => format!("https://{domain}"),
        (None, None) => match (profile.base_url, profile.domain) {
            (Some(url), _) => url,
            (None, Some(domain)) => format!("https://{domain}"),
            (None, None) => bail!(UsageError(
                "no API address: set --base-url or --domain (CCSQM_BASE_URL, CCSQM_DOMAIN), \
                 or use --sandbox"
                    .into()
            )),
        },
    };

    let token = secret(
        &connection.token_file,
        env_token,
        profile.token,
        &profile.token_file,
    )?;
    let app_key = connection.app_key.clone().or(profile.app_key);
    let app_secret = secret(
        &connection.app_secret_file,
        env_app_secret,
        profile.app_secret,
        &profile.app_secret_file,
    )?;
    let credentials = match (token, &app_key, app_secret) {
        (Some(token), _, _) => Some(Credentials::Token(token)),
        (None, Some(app_key), Some(app_secret)) => Some(Credentials::AkSk {
            app_key: app_key.clone(),
            app_secret,
        }),
        (None, _, _) => None,
    };
    let user_id = connection
        .user_id
        .clone()
        .or(profile.user_id)
        .ok_or_else(|| {
            UsageError("no user ID: set --user-id (CCSQM_USER_ID), sent as x-UserId".into())
        })?;

    Ok(Settings {
        base_url,
        token_base_url: connection.token_base_url.clone().or(profile.token_base_url),
        credentials,
        user_id,
        app_key,
    })
}

/// A secret from, in this order: the file a flag (or its environment variable) names, the
/// environment, the profile's value, the file the profile names.
fn secret(
    file: &Option<PathBuf>,
    env: Option<Secret>,
    profile_value: Option<Secret>,
    profile_file: &Option<PathBuf>,
) -> Result<Option<Secret>> {
    if let Some(path) = file {
        return read_secret(path).map(Some);
    }
    match env.or(profile_value) {
        Some(secret) => Ok(Some(secret)),
        None => profile_file.as_deref().map(read_secret).transpose(),
    }
}

fn load_profile(connection: &Connection) -> Result<Profile> {
    let named = connection.profile.is_some();
    let name = connection.profile.as_deref().unwrap_or(DEFAULT_PROFILE);
    let path = match &connection.config {
        Some(path) => path.clone(),
        None => match default_path() {
            Some(path) => path,
            None if named => bail!(UsageError(format!(
                "--profile {name}: no config directory on this system; name the file with --config"
            ))),
            None => return Ok(Profile::default()),
        },
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound
                && connection.config.is_none()
                && !named =>
        {
            return Ok(Profile::default())
        }
        Err(e) => {
            return Err(e).with_context(|| format!("reading the config file {}", path.display()))
        }
    };
    let mut profiles: BTreeMap<String, Profile> = toml::from_str(&text).map_err(|e| {
        // Not `{e}`: toml's message quotes the offending line, which may hold a secret.
        let line = e
            .span()
            .map(|span| text[..span.start.min(text.len())].lines().count().max(1));
        let at = line.map(|l| format!(" at line {l}")).unwrap_or_default();
        UsageError(format!(
            "config file {}: not valid TOML{at}: {}",
            path.display(),
            e.message().lines().next().unwrap_or("syntax error")
        ))
    })?;
    let profile = match profiles.remove(name) {
        Some(profile) => profile,
        None if named => bail!(UsageError(format!(
            "--profile {name}: no such profile in {} (it has: {})",
            path.display(),
            profiles.keys().cloned().collect::<Vec<_>>().join(", ")
        ))),
        None => Profile::default(),
    };
    if profile.token.is_some() || profile.app_secret.is_some() {
        refuse_if_others_can_read(&path)?;
    }
    Ok(profile)
}

/// `<config dir>/ccsqm/config.toml`, e.g. `~/.config/ccsqm/config.toml` on Linux.
pub fn default_path() -> Option<PathBuf> {
    dirs::config_dir().map(|dir| dir.join("ccsqm").join("config.toml"))
}

/// A secret from a file: its content without the surrounding blanks (a trailing newline).
pub fn read_secret(path: &Path) -> Result<Secret> {
    refuse_if_others_can_read(path)?;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the secret file {}", path.display()))?;
    let secret = text.trim();
    if secret.is_empty() {
        bail!(UsageError(format!(
            "the secret file {} is empty",
            path.display()
        )));
    }
    Ok(Secret::new(secret))
}

#[cfg(unix)]
fn refuse_if_others_can_read(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        bail!(UsageError(format!(
            "{} holds a secret and other users can read it (mode {:o}); run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_if_others_can_read(_: &Path) -> Result<()> {
    Ok(())
}
