//! The client a command's connection flags describe: an in-process sandbox with `--sandbox`,
//! else the settings `ccsqm-config` resolves from the flags, the environment and the config
//! file; and, for a refused credential, where it came from.

use anyhow::Result;
use ccsqm_client::{Client, Secret};
use ccsqm_sandbox::Sandbox;

use crate::config::{self, Credentials, Settings};
use crate::connection::Connection;
use crate::error::UsageError;
use crate::sandbox_flags;

/// Where requests go and with which credentials: an in-process sandbox with `--sandbox` (kept
/// running while the returned handle lives), else the flags, environment and config file.
pub async fn target_of(
    connection: &Connection,
    flags: &clap::ArgMatches,
) -> Result<(Settings, Option<Sandbox>)> {
    if connection.sandbox {
        let sandbox = sandbox_flags::start(connection).await?;
        let credentials = sandbox.credentials();
        let settings = Settings {
            base_url: sandbox.base_url().to_owned(),
            token_base_url: None,
            credentials: Some(Credentials::AkSk {
                app_key: credentials.app_key.clone(),
                app_secret: credentials.app_secret.clone(),
            }),
            user_id: credentials.user_id.clone(),
            app_key: Some(credentials.app_key.clone()),
            sources: vec![("every setting", config::Origin::Flag("--sandbox"))],
            profile: String::new(),
            other_profiles: Vec::new(),
            warnings: Vec::new(),
        };
        settings.log_sources();
        return Ok((settings, Some(sandbox)));
    }
    sandbox_flags::refuse_without_sandbox(flags)?;
    let env_secret = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .map(Secret::new)
    };
    let settings = config::resolve(
        connection,
        flags,
        env_secret("CCSQM_TOKEN"),
        env_secret("CCSQM_APP_SECRET"),
    )?;
    settings.log_sources();
    remember_credential_origins(&settings);
    Ok((settings, None))
}

/// Where the credentials of this run came from, said when the server refuses them (exit 3).
static CREDENTIAL_ORIGINS: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Keeps, for [`auth_hint`], where the app key and app secret (or the token) came from: the
/// flag, the variable, the profile's key or the keyring entry, never a value.
fn remember_credential_origins(settings: &Settings) {
    let origin_of = |wanted: fn(&str) -> bool| {
        settings
            .sources
            .iter()
            .find(|(setting, _)| wanted(setting))
            .map(|(_, origin)| describe_origin(origin))
    };
    let text = match &settings.credentials {
        Some(Credentials::AkSk { .. }) => format!(
            "the app key came from {} and the app secret from {}",
            origin_of(|s| s == "app key").unwrap_or_else(|| "an unknown place".into()),
            origin_of(|s| s.starts_with("app secret")).unwrap_or_else(|| "an unknown place".into()),
        ),
        Some(Credentials::Token(_)) => format!(
            "the token came from {}",
            origin_of(|s| s == "token").unwrap_or_else(|| "an unknown place".into())
        ),
        None => return,
    };
    let _ = CREDENTIAL_ORIGINS.set(text);
}

/// An origin for a sentence: `the flag --app-key`, `the environment variable CCSQM_APP_KEY`,
/// `app_key of profile "default" of <file>`, the keyring entry.
fn describe_origin(origin: &config::Origin) -> String {
    match origin {
        config::Origin::Flag(name) => format!("the flag {name}"),
        config::Origin::Env(name) => format!("the environment variable {name}"),
        other => other.to_string(),
    }
}

/// For a refused app key and secret or token (exit 3): where they came from, and where to see
/// every setting. `None` before the settings were resolved.
pub fn auth_hint() -> Option<String> {
    CREDENTIAL_ORIGINS.get().map(|origins| {
        format!("ccsqm: {origins}; `ccsqm config show` shows every setting and where it came from")
    })
}

/// The client the settings describe; every check of a real run is made here (`--dry-run`
/// too, which accepts settings without credentials).
pub fn connect(settings: &Settings, connection: &Connection) -> Result<Client> {
    build_client(settings, connection, true, None)
}

pub fn build_client(
    settings: &Settings,
    connection: &Connection,
    require_credentials: bool,
    token_lifetime: Option<std::time::Duration>,
) -> Result<Client> {
    let credentials = match require_credentials {
        true => Some(settings.credentials()?),
        false => settings.credentials.as_ref(),
    };
    let mut builder = settings
        .client_builder_with(credentials)
        .timeout(std::time::Duration::from_secs_f64(connection.timeout))
        .connect_timeout(std::time::Duration::from_secs_f64(
            connection.connect_timeout,
        ))
        .retry(connection.retry_policy())
        .max_body_size(connection.max_body_size);
    if let Some(lifetime) = token_lifetime {
        builder = builder.token_lifetime(lifetime);
    }
    builder
        .build()
        .map_err(|e| UsageError(e.to_string()).into())
}
