//! Settings as resolved, and those missing.

use ccsqm_client::Secret;

use crate::Origin;

/// How the client authenticates.
#[derive(Debug)]
pub enum Credentials {
    /// A Bearer token, used as is.
    Token(Secret),
    /// An app key and app secret, exchanged for tokens through tokenByAkSk.
    AkSk {
        /// The app key.
        app_key: String,
        /// The app secret.
        app_secret: Secret,
    },
}

/// Everything needed to reach the API, resolved.
#[derive(Debug)]
pub struct Settings {
    /// The API's address.
    pub base_url: String,
    /// The token interface's address, when it is not the API's.
    pub token_base_url: Option<String>,
    /// `None` when none are configured: enough for `--dry-run`, refused by [`Settings::credentials`].
    pub credentials: Option<Credentials>,
    /// The operator ID, sent as `x-UserId`.
    pub user_id: String,
    /// The app key, when one is set.
    pub app_key: Option<String>,
    /// Where each setting came from (a flag, a variable, the profile; never a value), for
    /// `--dry-run` and `-v`.
    pub sources: Vec<(&'static str, Origin)>,
    /// The profile, as `profile "default" of <file>` (empty without a config file).
    pub profile: String,
    /// The profiles the config file has, when it has no `default` profile and none was named
    /// (empty otherwise); named when a setting is missing.
    pub other_profiles: Vec<String>,
    /// What a person should hear (a default config file that could not be read, and was
    /// ignored); the caller says it.
    pub warnings: Vec<String>,
}

impl Settings {
    /// A client builder with the address, user ID, app key, token interface and credentials
    /// (or the error naming the missing credentials); timeouts, retries and the rest are the
    /// caller's to set.
    pub fn client_builder(&self) -> Result<ccsqm_client::ClientBuilder, MissingSettings> {
        let credentials = self.credentials()?;
        Ok(self.client_builder_with(Some(credentials)))
    }

    /// [`Settings::client_builder`] with the given credentials, or none (a builder that can
    /// describe requests, as a dry run does, but not authenticate them).
    pub fn client_builder_with(
        &self,
        credentials: Option<&Credentials>,
    ) -> ccsqm_client::ClientBuilder {
        let mut builder = ccsqm_client::Client::builder(&self.base_url).user_id(&self.user_id);
        if let Some(app_key) = &self.app_key {
            builder = builder.app_key(app_key);
        }
        if let Some(url) = &self.token_base_url {
            builder = builder.token_base_url(url);
        }
        match credentials {
            Some(Credentials::Token(token)) => builder.bearer_token(token.clone()),
            Some(Credentials::AkSk {
                app_key,
                app_secret,
            }) => builder.ak_sk(app_key, app_secret.clone()),
            None => builder,
        }
    }

    /// The credentials, or the error saying how to give them.
    pub fn credentials(&self) -> Result<&Credentials, MissingSettings> {
        self.credentials.as_ref().ok_or_else(|| MissingSettings {
            missing: vec![Missing::Credentials],
            profile: self.profile.clone(),
            other_profiles: self.other_profiles.clone(),
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
    /// The API's address.
    Address,
    /// The operator ID.
    UserId,
    /// An app secret is set, but no app key.
    AppKey,
    /// Neither a token nor an app secret.
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
    /// What is missing.
    pub missing: Vec<Missing>,
    /// The profile, as `profile "default" of <file>` (empty without a config directory).
    pub profile: String,
    /// The profiles the config file has, when it has no `default` profile and none was named:
    /// the message names them, and `--profile NAME`.
    pub other_profiles: Vec<String>,
    /// Whether `--dry-run` would need the missing credentials too (it does not).
    dry_run_needs_them: bool,
}

impl MissingSettings {
    /// The settings missing from `profile` (as `profile "default" of <file>`).
    pub fn new(missing: Vec<Missing>, profile: String) -> Self {
        MissingSettings {
            missing,
            profile,
            other_profiles: Vec::new(),
            dry_run_needs_them: false,
        }
    }

    /// The profiles the config file has, when the default one is absent (see
    /// [`Found::other_profiles`](crate::Found::other_profiles)).
    pub fn with_other_profiles(mut self, profiles: Vec<String>) -> Self {
        self.other_profiles = profiles;
        self
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
        if !self.other_profiles.is_empty() {
            let names: Vec<String> = self
                .other_profiles
                .iter()
                .map(|p| crate::shell_word(p))
                .collect();
            let example = names.first().map(String::as_str).unwrap_or("NAME");
            write!(
                f,
                "\nthe config file has no profile \"{}\"; its profiles: {}; choose one with \
                 --profile NAME (or CCSQM_PROFILE), e.g. --profile {example}",
                crate::DEFAULT_PROFILE,
                names.join(", "),
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for MissingSettings {}
