//! Where a setting came from.

/// Where a setting came from. Its `Display` names the flag, the variable, the profile's key or
/// the keyring entry; never a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A flag of the command line, e.g. `--base-url` (or another option of a program).
    Flag(&'static str),
    /// An environment variable, e.g. `CCSQM_BASE_URL`.
    Env(&'static str),
    /// A key of the profile, described as `profile "default" of <file>`.
    Profile {
        /// The key.
        key: &'static str,
        /// The profile, as `profile "default" of <file>`.
        profile: String,
    },
    /// The keyring entry a profile's `app_secret_keyring` names.
    Keyring {
        /// The entry's account (its service is [`crate::keyring::SERVICE`]).
        account: String,
        /// The profile, as `profile "default" of <file>`.
        profile: String,
    },
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
