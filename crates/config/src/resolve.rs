//! Resolving the settings: overrides (a program's own options) and the environment before a
//! profile of the config file.

use std::path::PathBuf;

use ccsqm_client::Secret;

use crate::profile::{default_path, parse_profiles, Profile, DEFAULT_PROFILE};
use crate::{
    read_secret, read_text, refuse_if_others_can_read, shell_word, Credentials, Error, Missing,
    MissingSettings, Origin, Settings, MAX_CONFIG_BYTES,
};

/// A value given before the config file, with where it came from: a program's option
/// ([`Origin::Flag`]) or an environment variable ([`Origin::Env`]).
#[derive(Clone, Debug)]
pub struct Given<T> {
    /// The value.
    pub value: T,
    /// Where it came from: a flag (the command line's layer) or a variable (the environment's).
    pub origin: Origin,
}

impl<T> Given<T> {
    /// `value`, from `origin`.
    pub fn new(value: T, origin: Origin) -> Given<T> {
        Given { value, origin }
    }
}

/// What comes before the config file's profile: a program's options and the environment, each
/// value with its [`Origin`]. A token or an app secret file given by a flag is of the command
/// line's layer, by a variable of the environment's (see [`resolve`]).
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// The API's address (`CCSQM_BASE_URL`).
    pub base_url: Option<Given<String>>,
    /// The API's domain: the address is `https://{domain}` (`CCSQM_DOMAIN`).
    pub domain: Option<Given<String>>,
    /// The token interface's address (`CCSQM_TOKEN_BASE_URL`).
    pub token_base_url: Option<Given<String>>,
    /// The operator ID (`CCSQM_USER_ID`).
    pub user_id: Option<Given<String>>,
    /// The app key (`CCSQM_APP_KEY`).
    pub app_key: Option<Given<String>>,
    /// A file holding a fixed token (`CCSQM_TOKEN_FILE`).
    pub token_file: Option<Given<PathBuf>>,
    /// A file holding the app secret (`CCSQM_APP_SECRET_FILE`).
    pub app_secret_file: Option<Given<PathBuf>>,
    /// A fixed token (`CCSQM_TOKEN`): of the environment's layer, after a token file of it.
    pub token: Option<Secret>,
    /// The app secret (`CCSQM_APP_SECRET`): of the environment's layer, after a file of it.
    pub app_secret: Option<Secret>,
    /// The profile's name (`CCSQM_PROFILE`; default `default`).
    pub profile: Option<Given<String>>,
    /// The config file (`CCSQM_CONFIG`; default [`crate::default_path`]).
    pub config_file: Option<Given<PathBuf>>,
}

impl Overrides {
    /// The `CCSQM_*` variables of the environment (an empty one counts as unset).
    pub fn from_env() -> Overrides {
        fn var(name: &'static str) -> Option<Given<String>> {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .map(|v| Given::new(v, Origin::Env(name)))
        }
        let path = |name| var(name).map(|g| Given::new(PathBuf::from(g.value), g.origin));
        let secret = |name| var(name).map(|g| Secret::new(g.value));
        Overrides {
            base_url: var("CCSQM_BASE_URL"),
            domain: var("CCSQM_DOMAIN"),
            token_base_url: var("CCSQM_TOKEN_BASE_URL"),
            user_id: var("CCSQM_USER_ID"),
            app_key: var("CCSQM_APP_KEY"),
            token_file: path("CCSQM_TOKEN_FILE"),
            app_secret_file: path("CCSQM_APP_SECRET_FILE"),
            token: secret("CCSQM_TOKEN"),
            app_secret: secret("CCSQM_APP_SECRET"),
            profile: var("CCSQM_PROFILE"),
            config_file: path("CCSQM_CONFIG"),
        }
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
    /// A fixed token.
    Token(Secret, Origin),
    /// An app secret, for tokens from `tokenByAkSk`.
    AppSecret(Secret, Origin),
}

/// Every setting found, each with where it came from; `None` for those nothing gave.
#[derive(Debug)]
pub struct Found {
    /// The API's address.
    pub base_url: Option<(String, Origin)>,
    /// The token interface's address.
    pub token_base_url: Option<(String, Origin)>,
    /// The operator ID.
    pub user_id: Option<(String, Origin)>,
    /// The app key.
    pub app_key: Option<(String, Origin)>,
    /// The credential (read).
    pub credential: Option<Credential>,
    /// The profile's name.
    pub profile_name: String,
    /// Where the profile name came from.
    pub profile_origin: Origin,
    /// The config file, if there is a config directory (or `--config`), and whether it exists.
    pub config_file: Option<(PathBuf, Origin, bool)>,
    /// The profile, as `profile "default" of <file>` (empty without a config file).
    pub profile: String,
    /// The profiles the config file has, when it has no `default` profile and none was named
    /// (empty otherwise): a person may have meant one of them (`--profile NAME`).
    pub other_profiles: Vec<String>,
    /// What a person should hear (see [`Settings::warnings`]).
    pub warnings: Vec<String>,
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

/// Resolves the settings from `overrides` (a program's options and the environment, each
/// with its origin) and the config file's profile.
///
/// The credential is chosen as a whole by layer: the first of the command line, the
/// environment and the profile that holds a token or an app secret gives it (a token before an
/// app secret of the same layer); the app key comes from the first that has one.
///
/// Every missing setting but the credentials is reported at once ([`MissingSettings`], with
/// the credentials too when they are missing as well); missing credentials alone are
/// reported by [`Settings::credentials`] (a `--dry-run` does without them).
pub fn resolve(overrides: &Overrides) -> Result<Settings, Error> {
    let found = find(overrides)?;
    let missing = found.missing();
    if missing
        .iter()
        .any(|m| matches!(m, Missing::Address | Missing::UserId | Missing::AppKey))
    {
        return Err(MissingSettings::new(missing, found.profile)
            .with_other_profiles(found.other_profiles)
            .into());
    }
    let (Some((base_url, address_origin)), Some((user_id, user_origin))) =
        (found.base_url, found.user_id)
    else {
        // Reported above: an address and a user ID were found.
        return Err(
            MissingSettings::new(vec![Missing::Address, Missing::UserId], found.profile)
                .with_other_profiles(found.other_profiles)
                .into(),
        );
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
        other_profiles: found.other_profiles,
        warnings: found.warnings,
    })
}

/// Every setting the overrides and the profile give, each with its origin (see [`resolve`]);
/// the credential is read (from its file or the keyring).
pub fn find(overrides: &Overrides) -> Result<Found, Error> {
    let loaded = load_profile(overrides)?;
    let profile = loaded.profile;
    let profile_name = loaded.described;
    let in_profile = |key: &'static str| Origin::Profile {
        key,
        profile: profile_name.clone(),
    };
    let given = |g: &Option<Given<String>>| g.as_ref().map(|g| (g.value.clone(), g.origin.clone()));

    let base_url = match (&overrides.base_url, &overrides.domain) {
        (Some(url), _) => given(&Some(url.clone())),
        (None, Some(domain)) => Some((format!("https://{}", domain.value), domain.origin.clone())),
        (None, None) => match (profile.base_url, profile.domain) {
            (Some(url), _) => Some((url, in_profile("base_url"))),
            (None, Some(domain)) => Some((format!("https://{domain}"), in_profile("domain"))),
            (None, None) => None,
        },
    };
    let token_base_url = given(&overrides.token_base_url).or_else(|| {
        profile
            .token_base_url
            .map(|url| (url, in_profile("token_base_url")))
    });
    let user_id =
        given(&overrides.user_id).or_else(|| profile.user_id.map(|id| (id, in_profile("user_id"))));
    let app_key = given(&overrides.app_key)
        .or_else(|| profile.app_key.map(|key| (key, in_profile("app_key"))));

    // The three layers of credentials.
    let mut command_line = Layer::default();
    let mut environment = Layer::default();
    // A file given by a variable is of the environment's layer; by a flag, the command line's.
    if let Some(file) = &overrides.token_file {
        let place = Some((Place::File(file.value.clone()), file.origin.clone()));
        match file.origin {
            Origin::Env(_) => environment.token = place,
            _ => command_line.token = place,
        }
    }
    if let Some(file) = &overrides.app_secret_file {
        let place = Some((Place::File(file.value.clone()), file.origin.clone()));
        match file.origin {
            Origin::Env(_) => environment.app_secret = place,
            _ => command_line.app_secret = place,
        }
    }
    if environment.token.is_none() {
        environment.token = overrides
            .token
            .clone()
            .map(|t| (Place::Value(t), Origin::Env("CCSQM_TOKEN")));
    }
    if environment.app_secret.is_none() {
        environment.app_secret = overrides
            .app_secret
            .clone()
            .map(|s| (Place::Value(s), Origin::Env("CCSQM_APP_SECRET")));
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
        other_profiles: loaded.other_profiles,
        warnings: loaded.warnings,
    })
}

fn read_place(place: Place, origin: &Origin) -> Result<Secret, Error> {
    match place {
        Place::Value(secret) => Ok(secret),
        Place::Keyring(account) => crate::keyring::read(&account).map_err(|why| {
            Error::Invalid(format!(
                "the app secret is in {origin}, which cannot be read: {why}; run `ccsqm configure` \
                 to store it again"
            ))
        }),
        Place::File(path) => {
            read_secret(&path).map_err(|e| Error::Invalid(format!("{origin}: {e}")))
        }
    }
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
    /// The file's profiles, when the default one (not named) is absent.
    other_profiles: Vec<String>,
    warnings: Vec<String>,
}

/// The name of the profile the overrides ask for, and where it came from.
pub fn profile_name(overrides: &Overrides) -> (String, Origin) {
    match &overrides.profile {
        Some(name) => (name.value.clone(), name.origin.clone()),
        None => (DEFAULT_PROFILE.to_owned(), Origin::Default),
    }
}

/// The config file the overrides name, and where its name came from; `None` when none is
/// named and the system has no config directory.
pub fn config_path(overrides: &Overrides) -> Option<(PathBuf, Origin)> {
    match &overrides.config_file {
        Some(path) => Some((path.value.clone(), path.origin.clone())),
        None => default_path().map(|path| (path, Origin::Default)),
    }
}

/// The profile, and how to name it in messages (`profile "default" of /path`).
fn load_profile(overrides: &Overrides) -> Result<Loaded, Error> {
    let named = overrides.profile.is_some();
    let (name, name_origin) = profile_name(overrides);
    let asked = overrides.config_file.is_some() || named;
    let (path, path_origin) = match config_path(overrides) {
        Some(found) => found,
        None if named => {
            return Err(Error::Invalid(format!(
                "--profile {name}: no config directory on this system; name the file with --config"
            )))
        }
        None => {
            return Ok(Loaded {
                profile: Profile::default(),
                described: String::new(),
                name,
                name_origin,
                file: None,
                other_profiles: Vec::new(),
                warnings: Vec::new(),
            })
        }
    };
    let described = format!("profile {name:?} of {}", path.display());
    let exists = path.symlink_metadata().is_ok();
    let loaded = |profile, other_profiles, warnings| Loaded {
        profile,
        described: described.clone(),
        name: name.clone(),
        name_origin: name_origin.clone(),
        file: Some((path.clone(), path_origin.clone(), exists)),
        other_profiles,
        warnings,
    };
    let text = match read_text(&path, MAX_CONFIG_BYTES) {
        Ok(text) => text,
        Err(_) if !asked && !path.exists() && !exists => {
            return Ok(loaded(Profile::default(), Vec::new(), Vec::new()))
        }
        // Nobody asked for the default file: a file there that cannot be read is not fatal.
        Err(why) if !asked => {
            let warning = format!("ignoring the config file {}: {why}", path.display());
            return Ok(loaded(Profile::default(), Vec::new(), vec![warning]));
        }
        Err(why) => {
            return Err(Error::Invalid(format!(
                "config file {}: {why}",
                path.display()
            )))
        }
    };
    let mut profiles = parse_profiles(&path, &text)?;
    let mut other_profiles = Vec::new();
    let profile =
        match profiles.remove(&name) {
            Some(profile) => profile,
            None if named => {
                return Err(Error::Invalid(format!(
                "--profile {}: no such profile in {} (it has: {}); `ccsqm configure --profile {}` \
                 creates it",
                shell_word(&name),
                path.display(),
                profiles.keys().map(|p| shell_word(p)).collect::<Vec<_>>().join(", "),
                shell_word(&name)
            )))
            }
            // The default profile, absent: the file's others, for a person who meant one.
            None => {
                other_profiles = profiles.keys().cloned().collect();
                Profile::default()
            }
        };
    if profile.token.is_some() || profile.app_secret.is_some() {
        refuse_if_others_can_read(&path)?;
    }
    Ok(loaded(profile, other_profiles, Vec::new()))
}
