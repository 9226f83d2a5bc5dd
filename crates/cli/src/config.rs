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

use anyhow::{bail, Result};
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
    /// Where each setting came from (a flag, a variable, the profile; never a value), for
    /// `--dry-run` and `-v`.
    pub sources: Vec<(&'static str, String)>,
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

    /// Logs where each setting came from (`-v`).
    pub fn log_sources(&self) {
        for (setting, source) in &self.sources {
            tracing::info!("{setting}: from {source}");
        }
    }
}

/// Where a flag's value came from: the command line or its environment variable (clap reads
/// both into one field).
pub trait FlagSources {
    /// `Some(true)` for the command line, `Some(false)` for the variable, `None` when unset.
    fn given_on_command_line(&self, id: &str) -> Option<bool>;
}

impl FlagSources for clap::ArgMatches {
    fn given_on_command_line(&self, id: &str) -> Option<bool> {
        match self.try_get_raw(id).ok().flatten()?.len() {
            0 => None,
            _ => match self.value_source(id)? {
                clap::parser::ValueSource::CommandLine => Some(true),
                clap::parser::ValueSource::EnvVariable => Some(false),
                _ => None,
            },
        }
    }
}

/// No matches (tests): every value counts as the command line's.
impl FlagSources for () {
    fn given_on_command_line(&self, _: &str) -> Option<bool> {
        Some(true)
    }
}

/// Where a credential is, before it is read.
enum Place {
    Value(Secret),
    File(PathBuf),
}

/// One layer's token and app secret, with where each is.
#[derive(Default)]
struct Layer {
    token: Option<(Place, String)>,
    app_secret: Option<(Place, String)>,
}

/// Resolves the settings from the flags and environment (`connection`, with `flags` telling
/// which of its values the command line gave), the environment's secrets (`CCSQM_TOKEN`,
/// `CCSQM_APP_SECRET`, passed in as `env_token`, `env_app_secret`), and the config file's
/// profile.
///
/// The credential is chosen as a whole by layer: the first of the command line, the
/// environment and the profile that holds a token or an app secret gives it (a token before an
/// app secret of the same layer); the app key comes from the first that has one.
pub fn resolve(
    connection: &Connection,
    flags: &dyn FlagSources,
    env_token: Option<Secret>,
    env_app_secret: Option<Secret>,
) -> Result<Settings> {
    let (profile, profile_name) = load_profile(connection)?;
    let mut sources = Vec::new();
    let flag_or_env = |id: &str, flag: &str, env: &str| match flags.given_on_command_line(id) {
        Some(false) => env.to_owned(),
        _ => flag.to_owned(),
    };
    let in_profile = |key: &str| format!("{key} of {profile_name}");

    let base_url = match (&connection.base_url, &connection.domain) {
        (Some(url), _) => {
            sources.push((
                "API address",
                flag_or_env("base_url", "--base-url", "CCSQM_BASE_URL"),
            ));
            url.clone()
        }
        (None, Some(domain)) => {
            sources.push((
                "API address",
                flag_or_env("domain", "--domain", "CCSQM_DOMAIN"),
            ));
            format!("https://{domain}")
        }
        (None, None) => match (profile.base_url, profile.domain) {
            (Some(url), _) => {
                sources.push(("API address", in_profile("base_url")));
                url
            }
            (None, Some(domain)) => {
                sources.push(("API address", in_profile("domain")));
                format!("https://{domain}")
            }
            (None, None) => bail!(UsageError(
                "no API address: set --base-url or --domain (CCSQM_BASE_URL, CCSQM_DOMAIN), \
                 or use --sandbox"
                    .into()
            )),
        },
    };
    let token_base_url = match (&connection.token_base_url, profile.token_base_url) {
        (Some(url), _) => {
            sources.push((
                "token interface address",
                flag_or_env("token_base_url", "--token-base-url", "CCSQM_TOKEN_BASE_URL"),
            ));
            Some(url.clone())
        }
        (None, Some(url)) => {
            sources.push(("token interface address", in_profile("token_base_url")));
            Some(url)
        }
        (None, None) => None,
    };
    let user_id = match (&connection.user_id, profile.user_id) {
        (Some(user_id), _) => {
            sources.push((
                "user ID",
                flag_or_env("user_id", "--user-id", "CCSQM_USER_ID"),
            ));
            user_id.clone()
        }
        (None, Some(user_id)) => {
            sources.push(("user ID", in_profile("user_id")));
            user_id
        }
        (None, None) => bail!(UsageError(
            "no user ID: set --user-id (CCSQM_USER_ID), sent as x-UserId".into()
        )),
    };
    let app_key = match (&connection.app_key, profile.app_key) {
        (Some(app_key), _) => {
            sources.push((
                "app key",
                flag_or_env("app_key", "--app-key", "CCSQM_APP_KEY"),
            ));
            Some(app_key.clone())
        }
        (None, Some(app_key)) => {
            sources.push(("app key", in_profile("app_key")));
            Some(app_key)
        }
        (None, None) => None,
    };

    // The three layers of credentials.
    let mut command_line = Layer::default();
    let mut environment = Layer::default();
    if let Some(path) = &connection.token_file {
        match flags.given_on_command_line("token_file") {
            Some(false) => {
                environment.token = Some((Place::File(path.clone()), "CCSQM_TOKEN_FILE".into()))
            }
            _ => command_line.token = Some((Place::File(path.clone()), "--token-file".into())),
        }
    }
    if let Some(path) = &connection.app_secret_file {
        match flags.given_on_command_line("app_secret_file") {
            Some(false) => {
                environment.app_secret =
                    Some((Place::File(path.clone()), "CCSQM_APP_SECRET_FILE".into()))
            }
            _ => {
                command_line.app_secret =
                    Some((Place::File(path.clone()), "--app-secret-file".into()))
            }
        }
    }
    if environment.token.is_none() {
        environment.token = env_token.map(|t| (Place::Value(t), "CCSQM_TOKEN".into()));
    }
    if environment.app_secret.is_none() {
        environment.app_secret =
            env_app_secret.map(|s| (Place::Value(s), "CCSQM_APP_SECRET".into()));
    }
    let profile_layer = Layer {
        token: match (profile.token, profile.token_file) {
            (Some(token), _) => Some((Place::Value(token), in_profile("token"))),
            (None, Some(path)) => Some((Place::File(path), in_profile("token_file"))),
            (None, None) => None,
        },
        app_secret: match (profile.app_secret, profile.app_secret_file) {
            (Some(secret), _) => Some((Place::Value(secret), in_profile("app_secret"))),
            (None, Some(path)) => Some((Place::File(path), in_profile("app_secret_file"))),
            (None, None) => None,
        },
    };
    let layer = [command_line, environment, profile_layer]
        .into_iter()
        .find(|l| l.token.is_some() || l.app_secret.is_some());
    let credentials = match layer {
        Some(Layer {
            token: Some((place, source)),
            ..
        }) => {
            sources.push(("token", source.clone()));
            Some(Credentials::Token(read_place(place, &source)?))
        }
        Some(Layer {
            app_secret: Some((place, source)),
            ..
        }) => match &app_key {
            Some(app_key) => {
                sources.push(("app secret (for tokens from tokenByAkSk)", source.clone()));
                Some(Credentials::AkSk {
                    app_key: app_key.clone(),
                    app_secret: read_place(place, &source)?,
                })
            }
            None => bail!(UsageError(format!(
                "an app secret is set ({source}) but no app key: set --app-key (CCSQM_APP_KEY)"
            ))),
        },
        _ => None,
    };

    Ok(Settings {
        base_url,
        token_base_url,
        credentials,
        user_id,
        app_key,
        sources,
    })
}

fn read_place(place: Place, source: &str) -> Result<Secret> {
    match place {
        Place::Value(secret) => Ok(secret),
        Place::File(path) => read_secret(&path).map_err(|e| {
            let code_kept = e.downcast_ref::<UsageError>().is_some();
            let message = format!("{source}: {e:#}");
            if code_kept {
                UsageError(message).into()
            } else {
                anyhow::anyhow!(message)
            }
        }),
    }
}

/// The largest config file read (a larger one is refused, not parsed).
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;
/// The largest secret file read.
pub const MAX_SECRET_BYTES: u64 = 64 * 1024;

/// A file's text: at most `max` bytes, UTF-8. The error says why not, without its content.
fn read_text(path: &Path, max: u64) -> std::result::Result<String, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if meta.is_dir() {
        return Err("it is a directory".into());
    }
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max {
        return Err(format!("it is larger than {} KiB", max / 1024));
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "it is not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// The profile, and how to name it in messages (`profile "default" of /path`).
fn load_profile(connection: &Connection) -> Result<(Profile, String)> {
    let named = connection.profile.is_some();
    let name = connection.profile.as_deref().unwrap_or(DEFAULT_PROFILE);
    let asked = connection.config.is_some() || named;
    let path = match &connection.config {
        Some(path) => path.clone(),
        None => match default_path() {
            Some(path) => path,
            None if named => bail!(UsageError(format!(
                "--profile {name}: no config directory on this system; name the file with --config"
            ))),
            None => return Ok((Profile::default(), String::new())),
        },
    };
    let described = format!("profile {name:?} of {}", path.display());
    let text = match read_text(&path, MAX_CONFIG_BYTES) {
        Ok(text) => text,
        Err(_) if !asked && !path.exists() && path.symlink_metadata().is_err() => {
            return Ok((Profile::default(), described))
        }
        // Nobody asked for the default file: a file there that cannot be read is not fatal.
        Err(why) if !asked => {
            eprintln!(
                "ccsqm: warning: ignoring the config file {}: {why}",
                path.display()
            );
            return Ok((Profile::default(), described));
        }
        Err(why) => bail!(UsageError(format!("config file {}: {why}", path.display()))),
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
    Ok((profile, described))
}

/// `<config dir>/ccsqm/config.toml`, e.g. `~/.config/ccsqm/config.toml` on Linux.
pub fn default_path() -> Option<PathBuf> {
    dirs::config_dir().map(|dir| dir.join("ccsqm").join("config.toml"))
}

/// A secret from a file: its content without the surrounding blanks (a trailing newline).
pub fn read_secret(path: &Path) -> Result<Secret> {
    refuse_if_others_can_read(path)?;
    let text = read_text(path, MAX_SECRET_BYTES)
        .map_err(|why| UsageError(format!("the secret file {}: {why}", path.display())))?;
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
        .map_err(|e| UsageError(format!("{}: {e}", path.display())))?
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
