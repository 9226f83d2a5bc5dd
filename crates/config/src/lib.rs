//! Settings and credentials for [`ccsqm_client`], resolved the way the `ccsqm` command resolves
//! them: [`Overrides`] (a program's own options) and the environment before a profile of the
//! config file, each setting with its [`Origin`]. See the crate's README.
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
//! read it. Nothing here prints or exits: errors are [`Error`]s, and what a person should hear
//! otherwise is in [`Settings::warnings`].

mod error;
mod files;
pub mod keyring;
mod origin;
mod profile;
mod resolve;
pub mod save;
mod settings;

pub use error::Error;
pub use files::{
    read_bounded, read_secret, read_text, refuse_if_others_can_read, shell_word, MAX_CONFIG_BYTES,
    MAX_SECRET_BYTES,
};
pub use origin::Origin;
pub use profile::{default_path, parse_profiles, Profile, DEFAULT_PROFILE};
pub use resolve::{config_path, find, profile_name, resolve, Credential, Found, Given, Overrides};
pub use settings::{Credentials, Missing, MissingSettings, Settings};

/// The README's example, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
