//! The command's side of the settings, which `ccsqm-config` resolves: the connection flags
//! (and their variables, which clap reads into the same fields) as its overrides, each with
//! where it came from; its warnings said on stderr; its errors as the command's (exit 2).

use std::path::PathBuf;

use anyhow::Result;
use ccsqm_client::Secret;
pub use ccsqm_config::{
    default_path, read_bounded, read_text, shell_word, Credential, Credentials, Found,
    MissingSettings, Origin, Settings, DEFAULT_PROFILE,
};
use ccsqm_config::{Given, Overrides};

use crate::connection::Connection;
use crate::error::UsageError;

/// The largest request body `ccsqm api` reads with `--input` or `-f FIELD=@FILE` (a file or
/// stdin): a larger one is refused (exit 2) after reading one byte more, never read whole.
pub const MAX_INPUT_BYTES: u64 = 1024 * 1024;

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

/// The connection flags as `ccsqm-config`'s overrides: each value from its flag or its
/// variable, as `flags` tells; `env_token` and `env_app_secret` are `CCSQM_TOKEN` and
/// `CCSQM_APP_SECRET` (secrets that have no flag).
pub fn overrides(
    connection: &Connection,
    flags: &dyn FlagSources,
    env_token: Option<Secret>,
    env_app_secret: Option<Secret>,
) -> Overrides {
    let origin =
        |id: &str, flag: &'static str, env: &'static str| match flags.given_on_command_line(id) {
            Some(false) => Origin::Env(env),
            _ => Origin::Flag(flag),
        };
    let text = |value: &Option<String>, id, flag, env| {
        value.clone().map(|v| Given::new(v, origin(id, flag, env)))
    };
    let path = |value: &Option<PathBuf>, id, flag, env| {
        value.clone().map(|v| Given::new(v, origin(id, flag, env)))
    };
    Overrides {
        base_url: text(
            &connection.base_url,
            "base_url",
            "--base-url",
            "CCSQM_BASE_URL",
        ),
        domain: text(&connection.domain, "domain", "--domain", "CCSQM_DOMAIN"),
        token_base_url: text(
            &connection.token_base_url,
            "token_base_url",
            "--token-base-url",
            "CCSQM_TOKEN_BASE_URL",
        ),
        user_id: text(&connection.user_id, "user_id", "--user-id", "CCSQM_USER_ID"),
        app_key: text(&connection.app_key, "app_key", "--app-key", "CCSQM_APP_KEY"),
        token_file: path(
            &connection.token_file,
            "token_file",
            "--token-file",
            "CCSQM_TOKEN_FILE",
        ),
        app_secret_file: path(
            &connection.app_secret_file,
            "app_secret_file",
            "--app-secret-file",
            "CCSQM_APP_SECRET_FILE",
        ),
        token: env_token,
        app_secret: env_app_secret,
        profile: text(&connection.profile, "profile", "--profile", "CCSQM_PROFILE"),
        config_file: path(&connection.config, "config", "--config", "CCSQM_CONFIG"),
    }
}

/// The settings the connection flags, the environment and the profile give (see
/// [`ccsqm_config::resolve`]); its warnings said on stderr.
pub fn resolve(
    connection: &Connection,
    flags: &dyn FlagSources,
    env_token: Option<Secret>,
    env_app_secret: Option<Secret>,
) -> Result<Settings> {
    let overrides = overrides(connection, flags, env_token, env_app_secret);
    let settings = ccsqm_config::resolve(&overrides).map_err(command_error)?;
    warn(&settings.warnings);
    Ok(settings)
}

/// Every setting found, with its origin (see [`ccsqm_config::find`]); its warnings said on
/// stderr.
pub fn find(
    connection: &Connection,
    flags: &dyn FlagSources,
    env_token: Option<Secret>,
    env_app_secret: Option<Secret>,
) -> Result<Found> {
    let overrides = overrides(connection, flags, env_token, env_app_secret);
    let found = ccsqm_config::find(&overrides).map_err(command_error)?;
    warn(&found.warnings);
    Ok(found)
}

fn warn(warnings: &[String]) {
    for warning in warnings {
        crate::log_format::warning(warning);
    }
}

/// `ccsqm-config`'s error as the command's: both are exit 2.
pub fn command_error(error: ccsqm_config::Error) -> anyhow::Error {
    match error {
        ccsqm_config::Error::Missing(missing) => missing.into(),
        ccsqm_config::Error::Invalid(message) => UsageError(message).into(),
    }
}
