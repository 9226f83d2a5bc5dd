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
//! # or app_secret_keyring = "…": the account of the keyring entry `ccsqm configure` wrote
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
    /// The app secret is in the operating system's keyring, under this account of the service
    /// [`crate::keyring::SERVICE`] (written by `ccsqm configure`).
    pub app_secret_keyring: Option<String>,
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

/// Where a setting came from. Its `Display` names the flag, the variable, the profile's key or
/// the keyring entry; never a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A flag of the command line, e.g. `--base-url`.
    Flag(&'static str),
    /// An environment variable, e.g. `CCSQM_BASE_URL`.
    Env(&'static str),
    /// A key of the profile, described as `profile "default" of <file>`.
    Profile { key: &'static str, profile: String },
    /// The keyring entry a profile's `app_secret_keyring` names.
    Keyring { account: String, profile: String },
    /// Nothing set it: the default.
    Default,
}

impl Origin {
    /// The class of the origin: `flag`, `environment`, `profile`, `keyring` or `default`.
    pub fn kind(&self) -> &'static str {
        match self {
            Origin::Flag(_) => "flag",
            Origin::Env(_) => "environment",
            Origin::Profile { .. } => "profile",
            Origin::Keyring { .. } => "keyring",
            Origin::Default => "default",
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Flag(name) | Origin::Env(name) => f.write_str(name),
            Origin::Profile { key, profile } => write!(f, "{key} of {profile}"),
            Origin::Keyring { account, profile } => write!(
                f,
                "the keyring (service {}, account {account:?}), as app_secret_keyring of {profile} says",
                crate::keyring::SERVICE
            ),
            Origin::Default => f.write_str("the default"),
        }
    }
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
    pub sources: Vec<(&'static str, Origin)>,
    /// The profile, as `profile "default" of <file>` (empty without a config file).
    pub profile: String,
}

impl Settings {
    /// The credentials, or the error saying how to give them.
    pub fn credentials(&self) -> Result<&Credentials, MissingSettings> {
        self.credentials.as_ref().ok_or_else(|| MissingSettings {
            missing: vec![Missing::Credentials],
            profile: self.profile.clone(),
            dry_run_needs_them: true,
        })
    }

    /// Logs where each setting came from (`-v`).
    pub fn log_sources(&self) {
        for (setting, source) in &self.sources {
            tracing::info!("{setting}: from {source}");
        }
    }
}

/// A setting that nothing gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    Address,
    UserId,
    /// An app secret is set, but no app key.
    AppKey,
    Credentials,
}

impl Missing {
    /// A short name: `address`, `user_id`, `app_key`, `credentials`.
    pub fn name(self) -> &'static str {
        match self {
            Missing::Address => "address",
            Missing::UserId => "user_id",
            Missing::AppKey => "app_key",
            Missing::Credentials => "credentials",
        }
    }

    /// The setting, and how to set it: flag; environment variable; config key.
    fn how(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Missing::Address => (
                "API address",
                "--base-url URL or --domain NAME",
                "CCSQM_BASE_URL or CCSQM_DOMAIN",
                "base_url or domain",
            ),
            Missing::UserId => (
                "user ID (the operator ID, sent as x-UserId)",
                "--user-id ID",
                "CCSQM_USER_ID",
                "user_id",
            ),
            Missing::AppKey => (
                "app key (an app secret is set, but no app key)",
                "--app-key KEY",
                "CCSQM_APP_KEY",
                "app_key",
            ),
            Missing::Credentials => (
                "credentials: an app key and app secret (or a fixed token)",
                "--app-key KEY and --app-secret-file PATH (or --token-file PATH)",
                "CCSQM_APP_KEY and CCSQM_APP_SECRET or CCSQM_APP_SECRET_FILE (or CCSQM_TOKEN, \
                 CCSQM_TOKEN_FILE)",
                "app_key and app_secret, app_secret_file or the keyring (or token, token_file)",
            ),
        }
    }
}

/// Every setting a command needs that nothing gave, reported together (exit code 2, before
/// any request), each with its flag, environment variable and config key.
#[derive(Debug)]
pub struct MissingSettings {
    pub missing: Vec<Missing>,
    /// The profile, as `profile "default" of <file>` (empty without a config directory).
    pub profile: String,
    /// Whether `--dry-run` would need the missing credentials too (it does not).
    dry_run_needs_them: bool,
}

impl MissingSettings {
    /// The settings missing from `profile` (as `profile "default" of <file>`).
    pub fn new(missing: Vec<Missing>, profile: String) -> Self {
        MissingSettings {
            missing,
            profile,
            dry_run_needs_them: false,
        }
    }
}

impl std::fmt::Display for MissingSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.missing.len();
        let in_profile = match self.profile.as_str() {
            "" => "the config file".to_owned(),
            profile => profile.to_owned(),
        };
        write!(
            f,
            "{} setting{} missing; set {} with a flag, an environment variable or a key of {in_profile}, \
             or run `ccsqm configure` (or use --sandbox to try ccsqm with generated data):",
            n,
            if n == 1 { " is" } else { "s are" },
            if n == 1 { "it" } else { "each" },
        )?;
        for missing in &self.missing {
            let (setting, flag, env, key) = missing.how();
            let dry_run = match (missing, self.dry_run_needs_them) {
                (Missing::Credentials, false) => " (--dry-run does without)",
                _ => "",
            };
            write!(
                f,
                "\n  {setting}{dry_run}\n      flag: {flag}\n      environment: {env}\n      config key: {key}"
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for MissingSettings {}

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
    Keyring(String),
}

/// One layer's token and app secret, with where each is.
#[derive(Default)]
struct Layer {
    token: Option<(Place, Origin)>,
    app_secret: Option<(Place, Origin)>,
}

/// The credential found, with where it came from.
#[derive(Debug)]
pub enum Credential {
    Token(Secret, Origin),
    AppSecret(Secret, Origin),
}

/// Every setting found, each with where it came from; `None` for those nothing gave.
#[derive(Debug)]
pub struct Found {
    pub base_url: Option<(String, Origin)>,
    pub token_base_url: Option<(String, Origin)>,
    pub user_id: Option<(String, Origin)>,
    pub app_key: Option<(String, Origin)>,
    pub credential: Option<Credential>,
    /// The profile's name.
    pub profile_name: String,
    /// Where the profile name came from.
    pub profile_origin: Origin,
    /// The config file, if there is a config directory (or `--config`), and whether it exists.
    pub config_file: Option<(PathBuf, Origin, bool)>,
    /// The profile, as `profile "default" of <file>` (empty without a config file).
    pub profile: String,
}

impl Found {
    /// What a command needs that nothing gave, in the order of [`Missing`].
    pub fn missing(&self) -> Vec<Missing> {
        let mut missing = Vec::new();
        if self.base_url.is_none() {
            missing.push(Missing::Address);
        }
        if self.user_id.is_none() {
            missing.push(Missing::UserId);
        }
        match &self.credential {
            Some(Credential::AppSecret(..)) if self.app_key.is_none() => {
                missing.push(Missing::AppKey)
            }
            None => missing.push(Missing::Credentials),
            _ => {}
        }
        missing
    }
}

/// Resolves the settings from the flags and environment (`connection`, with `flags` telling
/// which of its values the command line gave), the environment's secrets (`CCSQM_TOKEN`,
/// `CCSQM_APP_SECRET`, passed in as `env_token`, `env_app_secret`), and the config file's
/// profile.
///
/// The credential is chosen as a whole by layer: the first of the command line, the
/// environment and the profile that holds a token or an app secret gives it (a token before an
/// app secret of the same layer); the app key comes from the first that has one.
///
/// Every missing setting but the credentials is reported at once ([`MissingSettings`], with
/// the credentials too when they are missing as well); missing credentials alone are
/// reported by [`Settings::credentials`] (a `--dry-run` does without them).
pub fn resolve(
    connection: &Connection,
    flags: &dyn FlagSources,
    env_token: Option<Secret>,
    env_app_secret: Option<Secret>,
) -> Result<Settings> {
    let found = find(connection, flags, env_token, env_app_secret)?;
    let missing = found.missing();
    if missing
        .iter()
        .any(|m| matches!(m, Missing::Address | Missing::UserId | Missing::AppKey))
    {
        bail!(MissingSettings {
            missing,
            profile: found.profile,
            dry_run_needs_them: false,
        });
    }
    let (Some((base_url, address_origin)), Some((user_id, user_origin))) =
        (found.base_url, found.user_id)
    else {
        unreachable!("a missing address or user ID is reported above");
    };
    let mut sources = vec![("API address", address_origin)];
    let token_base_url = found.token_base_url.map(|(url, origin)| {
        sources.push(("token interface address", origin));
        url
    });
    sources.push(("user ID", user_origin));
    let app_key = found.app_key.map(|(key, origin)| {
        sources.push(("app key", origin));
        key
    });
    let credentials = match found.credential {
        Some(Credential::Token(token, origin)) => {
            sources.push(("token", origin));
            Some(Credentials::Token(token))
        }
        Some(Credential::AppSecret(app_secret, origin)) => {
            sources.push(("app secret (for tokens from tokenByAkSk)", origin));
            app_key.clone().map(|app_key| Credentials::AkSk {
                app_key,
                app_secret,
            })
        }
        None => None,
    };
    Ok(Settings {
        base_url,
        token_base_url,
        credentials,
        user_id,
        app_key,
        sources,
        profile: found.profile,
    })
}

/// Every setting the flags, the environment and the profile give, each with its origin
/// (see [`resolve`]); the credential is read (from its file or the keyring).
pub fn find(
    connection: &Connection,
    flags: &dyn FlagSources,
    env_token: Option<Secret>,
    env_app_secret: Option<Secret>,
) -> Result<Found> {
    let loaded = load_profile(connection, flags)?;
    let profile = loaded.profile;
    let profile_name = loaded.described;
    let flag_or_env =
        |id: &str, flag: &'static str, env: &'static str| match flags.given_on_command_line(id) {
            Some(false) => Origin::Env(env),
            _ => Origin::Flag(flag),
        };
    let in_profile = |key: &'static str| Origin::Profile {
        key,
        profile: profile_name.clone(),
    };

    let base_url = match (&connection.base_url, &connection.domain) {
        (Some(url), _) => Some((
            url.clone(),
            flag_or_env("base_url", "--base-url", "CCSQM_BASE_URL"),
        )),
        (None, Some(domain)) => Some((
            format!("https://{domain}"),
            flag_or_env("domain", "--domain", "CCSQM_DOMAIN"),
        )),
        (None, None) => match (profile.base_url, profile.domain) {
            (Some(url), _) => Some((url, in_profile("base_url"))),
            (None, Some(domain)) => Some((format!("https://{domain}"), in_profile("domain"))),
            (None, None) => None,
        },
    };
    let token_base_url = match (&connection.token_base_url, profile.token_base_url) {
        (Some(url), _) => Some((
            url.clone(),
            flag_or_env("token_base_url", "--token-base-url", "CCSQM_TOKEN_BASE_URL"),
        )),
        (None, Some(url)) => Some((url, in_profile("token_base_url"))),
        (None, None) => None,
    };
    let user_id = match (&connection.user_id, profile.user_id) {
        (Some(user_id), _) => Some((
            user_id.clone(),
            flag_or_env("user_id", "--user-id", "CCSQM_USER_ID"),
        )),
        (None, Some(user_id)) => Some((user_id, in_profile("user_id"))),
        (None, None) => None,
    };
    let app_key = match (&connection.app_key, profile.app_key) {
        (Some(app_key), _) => Some((
            app_key.clone(),
            flag_or_env("app_key", "--app-key", "CCSQM_APP_KEY"),
        )),
        (None, Some(app_key)) => Some((app_key, in_profile("app_key"))),
        (None, None) => None,
    };

    // The three layers of credentials.
    let mut command_line = Layer::default();
    let mut environment = Layer::default();
    if let Some(path) = &connection.token_file {
        match flags.given_on_command_line("token_file") {
            Some(false) => {
                environment.token =
                    Some((Place::File(path.clone()), Origin::Env("CCSQM_TOKEN_FILE")))
            }
            _ => {
                command_line.token = Some((Place::File(path.clone()), Origin::Flag("--token-file")))
            }
        }
    }
    if let Some(path) = &connection.app_secret_file {
        match flags.given_on_command_line("app_secret_file") {
            Some(false) => {
                environment.app_secret = Some((
                    Place::File(path.clone()),
                    Origin::Env("CCSQM_APP_SECRET_FILE"),
                ))
            }
            _ => {
                command_line.app_secret =
                    Some((Place::File(path.clone()), Origin::Flag("--app-secret-file")))
            }
        }
    }
    if environment.token.is_none() {
        environment.token = env_token.map(|t| (Place::Value(t), Origin::Env("CCSQM_TOKEN")));
    }
    if environment.app_secret.is_none() {
        environment.app_secret =
            env_app_secret.map(|s| (Place::Value(s), Origin::Env("CCSQM_APP_SECRET")));
    }
    let profile_layer = Layer {
        token: match (profile.token, profile.token_file) {
            (Some(token), _) => Some((Place::Value(token), in_profile("token"))),
            (None, Some(path)) => Some((Place::File(path), in_profile("token_file"))),
            (None, None) => None,
        },
        app_secret: match (
            profile.app_secret,
            profile.app_secret_file,
            profile.app_secret_keyring,
        ) {
            (Some(secret), _, _) => Some((Place::Value(secret), in_profile("app_secret"))),
            (None, Some(path), _) => Some((Place::File(path), in_profile("app_secret_file"))),
            (None, None, Some(account)) => Some((
                Place::Keyring(account.clone()),
                Origin::Keyring {
                    account,
                    profile: profile_name.clone(),
                },
            )),
            (None, None, None) => None,
        },
    };
    let layer = [command_line, environment, profile_layer]
        .into_iter()
        .find(|l| l.token.is_some() || l.app_secret.is_some());
    let credential = match layer {
        Some(Layer {
            token: Some((place, origin)),
            ..
        }) => Some(Credential::Token(read_place(place, &origin)?, origin)),
        Some(Layer {
            app_secret: Some((place, origin)),
            ..
        }) => Some(Credential::AppSecret(read_place(place, &origin)?, origin)),
        _ => None,
    };

    Ok(Found {
        base_url,
        token_base_url,
        user_id,
        app_key,
        credential,
        profile_name: loaded.name,
        profile_origin: loaded.name_origin,
        config_file: loaded.file,
        profile: profile_name,
    })
}

fn read_place(place: Place, origin: &Origin) -> Result<Secret> {
    match place {
        Place::Value(secret) => Ok(secret),
        Place::Keyring(account) => crate::keyring::read(&account).map_err(|why| {
            UsageError(format!(
                "the app secret is in {origin}, which cannot be read: {why}; run `ccsqm configure` \
                 to store it again"
            ))
            .into()
        }),
        Place::File(path) => read_secret(&path).map_err(|e| {
            let code_kept = e.downcast_ref::<UsageError>().is_some();
            let message = format!("{origin}: {e:#}");
            if code_kept {
                UsageError(message).into()
            } else {
                anyhow::anyhow!(message)
            }
        }),
    }
}

/// `word` as one word for a POSIX shell, to paste in a command a message suggests: bare when
/// it needs no quotes, else in single quotes (a `'` as `'\''`); control characters are shown
/// escaped ([`ccsqm_client::visible`]) so that the name cannot drive the terminal.
pub fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    let quoted = match !word.is_empty() && word.chars().all(plain) {
        true => word.to_owned(),
        false => format!("'{}'", word.replace('\'', r"'\''")),
    };
    ccsqm_client::visible(&quoted).into_owned()
}

/// The largest config file read (a larger one is refused, not parsed).
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;
/// The largest secret file read.
pub const MAX_SECRET_BYTES: u64 = 64 * 1024;

/// The largest request body `ccsqm api` reads with `--input` or `-f FIELD=@FILE` (a file or
/// stdin): a larger one is refused (exit 2) after reading one byte more, never read whole.
pub const MAX_INPUT_BYTES: u64 = 1024 * 1024;

/// A file's text: at most `max` bytes, UTF-8. The error says why not, without its content.
pub fn read_text(path: &Path, max: u64) -> std::result::Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if meta.is_dir() {
        return Err("it is a directory".into());
    }
    read_bounded(file, max)
}

/// A reader's text (a file, stdin): at most `max` bytes, UTF-8; one byte more is read to know
/// it is larger. The error says why not, without its content.
pub fn read_bounded(reader: impl std::io::Read, max: u64) -> std::result::Result<String, String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    reader
        .take(max + 1)
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

/// A profile as loaded, with where it is.
struct Loaded {
    profile: Profile,
    /// `profile "default" of /path` (empty without a config file).
    described: String,
    name: String,
    name_origin: Origin,
    /// The config file, where its name came from, and whether it exists.
    file: Option<(PathBuf, Origin, bool)>,
}

/// The name of the profile the connection settings ask for, and where it came from.
pub fn profile_name(connection: &Connection, flags: &dyn FlagSources) -> (String, Origin) {
    match &connection.profile {
        Some(name) => (
            name.clone(),
            match flags.given_on_command_line("profile") {
                Some(false) => Origin::Env("CCSQM_PROFILE"),
                _ => Origin::Flag("--profile"),
            },
        ),
        None => (DEFAULT_PROFILE.to_owned(), Origin::Default),
    }
}

/// The config file the connection settings name, and where its name came from; `None` when
/// none is named and the system has no config directory.
pub fn config_path(connection: &Connection, flags: &dyn FlagSources) -> Option<(PathBuf, Origin)> {
    match &connection.config {
        Some(path) => Some((
            path.clone(),
            match flags.given_on_command_line("config") {
                Some(false) => Origin::Env("CCSQM_CONFIG"),
                _ => Origin::Flag("--config"),
            },
        )),
        None => default_path().map(|path| (path, Origin::Default)),
    }
}

/// The profile, and how to name it in messages (`profile "default" of /path`).
fn load_profile(connection: &Connection, flags: &dyn FlagSources) -> Result<Loaded> {
    let named = connection.profile.is_some();
    let (name, name_origin) = profile_name(connection, flags);
    let asked = connection.config.is_some() || named;
    let (path, path_origin) = match config_path(connection, flags) {
        Some(found) => found,
        None if named => bail!(UsageError(format!(
            "--profile {name}: no config directory on this system; name the file with --config"
        ))),
        None => {
            return Ok(Loaded {
                profile: Profile::default(),
                described: String::new(),
                name,
                name_origin,
                file: None,
            })
        }
    };
    let described = format!("profile {name:?} of {}", path.display());
    let exists = path.symlink_metadata().is_ok();
    let loaded = |profile| Loaded {
        profile,
        described: described.clone(),
        name: name.clone(),
        name_origin: name_origin.clone(),
        file: Some((path.clone(), path_origin.clone(), exists)),
    };
    let text = match read_text(&path, MAX_CONFIG_BYTES) {
        Ok(text) => text,
        Err(_) if !asked && !path.exists() && !exists => return Ok(loaded(Profile::default())),
        // Nobody asked for the default file: a file there that cannot be read is not fatal.
        Err(why) if !asked => {
            eprintln!(
                "ccsqm: warning: ignoring the config file {}: {why}",
                path.display()
            );
            return Ok(loaded(Profile::default()));
        }
        Err(why) => bail!(UsageError(format!("config file {}: {why}", path.display()))),
    };
    let mut profiles = parse_profiles(&path, &text)?;
    let profile =
        match profiles.remove(&name) {
            Some(profile) => profile,
            None if named => {
                bail!(UsageError(format!(
            "--profile {}: no such profile in {} (it has: {}); `ccsqm configure --profile {}` \
             creates it",
            shell_word(&name),
            path.display(),
            profiles.keys().map(|p| shell_word(p)).collect::<Vec<_>>().join(", "),
            shell_word(&name)
        )))
            }
            None => Profile::default(),
        };
    if profile.token.is_some() || profile.app_secret.is_some() {
        refuse_if_others_can_read(&path)?;
    }
    Ok(loaded(profile))
}

/// The profiles of a config file's text.
pub fn parse_profiles(path: &Path, text: &str) -> Result<BTreeMap<String, Profile>> {
    toml::from_str(text).map_err(|e| {
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
        .into()
    })
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
pub fn refuse_if_others_can_read(path: &Path) -> Result<()> {
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
            shell_word(&path.to_string_lossy())
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
pub fn refuse_if_others_can_read(_: &Path) -> Result<()> {
    Ok(())
}
