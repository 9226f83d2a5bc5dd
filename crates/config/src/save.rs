//! Saving a profile into the config file, as `ccsqm configure` does: the file's other profiles
//! and comments kept, the address as `domain` or `base_url`, the app secret in the operating
//! system's keyring when one can be used (else in the file), and the file replaced atomically
//! (a temporary file beside it, flushed, renamed over it) with mode 0600.
//!
//! ```no_run
//! use ccsqm_config::save::{NewProfile, ProfileFile, SecretStore};
//!
//! let file = ProfileFile::read("/home/me/.config/ccsqm/config.toml".as_ref())?;
//! let profile = NewProfile {
//!     address: "service.besclouds.com".into(),
//!     token_base_url: None,
//!     user_id: "1611917095665261978".into(),
//!     app_key: "my-app-key".into(),
//!     new_secret: Some(ccsqm_client::Secret::new("my-app-secret")),
//! };
//! let saved = file.save("default", &profile, SecretStore::Auto, None)?;
//! println!("{}", saved.secret);
//! # Ok::<(), ccsqm_config::save::SaveError>(())
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use ccsqm_client::Secret;

use crate::{keyring, parse_profiles, read_secret, read_text, Error, MAX_CONFIG_BYTES};

/// Where [`ProfileFile::save`] keeps a new app secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretStore {
    /// The keyring when one can be used, else the config file (said which).
    Auto,
    /// The keyring, or fail (nothing written).
    Keyring,
    /// The config file (mode 0600).
    File,
}

/// Why a profile could not be saved. Each message says what to do; none shows a secret.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// The file, or the profile in it, is not something a profile can be saved into (not
    /// readable, not TOML, the profile not a table), or the keyring was required and cannot
    /// be used: nothing was written.
    #[error("{0}")]
    Invalid(String),
    /// Writing the file failed: it is unchanged.
    #[error("writing {path}: {source}")]
    Write {
        /// The config file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
}

impl From<Error> for SaveError {
    fn from(error: Error) -> SaveError {
        SaveError::Invalid(error.to_string())
    }
}

/// A profile's current values, as the config file has them.
#[derive(Default)]
pub struct Current {
    /// `base_url`, else `domain`.
    pub address: Option<String>,
    /// `token_base_url`.
    pub token_base_url: Option<String>,
    /// `user_id`.
    pub user_id: Option<String>,
    /// `app_key`.
    pub app_key: Option<String>,
    /// The app secret and where it is (`in the keyring, account "…"`, `in <file>`, `in the
    /// config file`), if it can be read.
    pub secret: Option<(Secret, String)>,
    /// Why the current secret cannot be read, if it is set but unreadable.
    pub secret_unreadable: Option<String>,
}

/// A profile's settings to save.
pub struct NewProfile {
    /// `https://HOST[:PORT]` (saved as `base_url`), or a domain name (saved as `domain`).
    pub address: String,
    /// The token interface's address, when not the API's.
    pub token_base_url: Option<String>,
    /// The operator ID (`x-UserId`).
    pub user_id: String,
    /// The app key.
    pub app_key: String,
    /// A new app secret; `None` keeps the current one where it is.
    pub new_secret: Option<Secret>,
}

/// What [`ProfileFile::save`] did.
pub struct Saved {
    /// Where the app secret is now, in words.
    pub secret: String,
    /// Other changes a person should hear of (a token removed from the profile, …).
    pub notes: Vec<String>,
}

/// A config file read for saving a profile into it (a missing file is an empty one).
pub struct ProfileFile {
    path: PathBuf,
    text: String,
    document: toml_edit::DocumentMut,
}

impl ProfileFile {
    /// Reads the config file at `path` (at most [`MAX_CONFIG_BYTES`]); a missing file is an
    /// empty one.
    pub fn read(path: &Path) -> Result<ProfileFile, SaveError> {
        let text = match path.symlink_metadata() {
            Ok(_) => read_text(path, MAX_CONFIG_BYTES).map_err(|why| {
                SaveError::Invalid(format!("config file {}: {why}", path.display()))
            })?,
            Err(_) => String::new(),
        };
        let document = text.parse().map_err(|e: toml_edit::TomlError| {
            SaveError::Invalid(format!(
                "config file {}: not valid TOML ({}); fix it or name another file with --config",
                path.display(),
                e.message()
            ))
        })?;
        Ok(ProfileFile {
            path: path.to_owned(),
            text,
            document,
        })
    }

    /// The profile `name`'s current values (all `None` for a new profile).
    pub fn current(&self, name: &str) -> Result<Current, Error> {
        let mut profiles = parse_profiles(&self.path, &self.text)?;
        let Some(profile) = profiles.remove(name) else {
            return Ok(Current::default());
        };
        let address = profile.base_url.clone().or(profile.domain.clone());
        let (secret, secret_unreadable) = match (
            profile.app_secret,
            profile.app_secret_file,
            profile.app_secret_keyring,
        ) {
            (Some(secret), _, _) => (Some((secret, "in the config file".to_owned())), None),
            (None, Some(file), _) => match read_secret(&file) {
                Ok(secret) => (Some((secret, format!("in {}", file.display()))), None),
                Err(e) => (None, Some(e.to_string())),
            },
            (None, None, Some(account)) => match keyring::read(&account) {
                Ok(secret) => (
                    Some((secret, format!("in the keyring, account {account:?}"))),
                    None,
                ),
                Err(why) => (None, Some(format!("the keyring entry {account:?}: {why}"))),
            },
            (None, None, None) => (None, None),
        };
        Ok(Current {
            address,
            token_base_url: profile.token_base_url,
            user_id: profile.user_id,
            app_key: profile.app_key,
            secret,
            secret_unreadable,
        })
    }

    /// Sets `profile` as the profile `name` (created if new) and replaces the file with it; a
    /// new secret goes where `store` says (its keyring entry named by
    /// [`keyring::account_for`]). `current_place`: where the current secret is, said when it
    /// is kept.
    pub fn save(
        mut self,
        name: &str,
        profile: &NewProfile,
        store: SecretStore,
        current_place: Option<&str>,
    ) -> Result<Saved, SaveError> {
        let account = keyring::account_for(name, &self.path);
        let saved = apply(
            &mut self.document,
            name,
            profile,
            store,
            &account,
            current_place,
        )?;
        write_atomically(&self.path, self.document.to_string().as_bytes()).map_err(|source| {
            SaveError::Write {
                path: self.path.clone(),
                source,
            }
        })?;
        Ok(saved)
    }
}

/// Sets `new` in the profile `name` of `document`, a new secret in the keyring entry
/// `account` (or, when none can be used, in the document).
fn apply(
    document: &mut toml_edit::DocumentMut,
    name: &str,
    new: &NewProfile,
    store: SecretStore,
    account: &str,
    current_place: Option<&str>,
) -> Result<Saved, SaveError> {
    let profile = profile_table(document, name)?;
    let (address_key, other_key) = match new.address.contains("://") {
        true => ("base_url", "domain"),
        false => ("domain", "base_url"),
    };
    profile.insert(address_key, toml_edit::value(new.address.as_str()));
    profile.remove(other_key);
    match &new.token_base_url {
        Some(url) => {
            profile.insert("token_base_url", toml_edit::value(url.as_str()));
        }
        None => {
            profile.remove("token_base_url");
        }
    }
    profile.insert("user_id", toml_edit::value(new.user_id.as_str()));
    profile.insert("app_key", toml_edit::value(new.app_key.as_str()));
    let mut notes = Vec::new();
    for key in ["token", "token_file"] {
        if profile.remove(key).is_some() {
            notes.push(format!(
                "removed {key} from the profile (a token would be used instead of the app key \
                 and secret)"
            ));
        }
    }
    let Some(secret) = &new.new_secret else {
        let secret = format!(
            "the app secret is unchanged ({})",
            current_place.unwrap_or("where it was")
        );
        return Ok(Saved { secret, notes });
    };
    let keyring = match store {
        SecretStore::File => Err("--secret-store file".to_owned()),
        _ => keyring::write(account, secret),
    };
    let secret = match keyring {
        Ok(()) => {
            profile.insert("app_secret_keyring", toml_edit::value(account));
            profile.remove("app_secret");
            profile.remove("app_secret_file");
            format!(
                "the app secret is in the keyring (service {}, account {account:?})",
                keyring::SERVICE
            )
        }
        Err(why) if store == SecretStore::Keyring => {
            return Err(SaveError::Invalid(format!(
                "--secret-store keyring: the keyring cannot be used ({why}); nothing was written"
            )))
        }
        Err(why) => {
            profile.insert("app_secret", toml_edit::value(secret.expose()));
            profile.remove("app_secret_file");
            if profile.remove("app_secret_keyring").is_some() {
                // Best effort: the entry is no longer used.
                let _ = keyring::delete(account);
            }
            format!(
                "the app secret is in the config file, readable by you only (mode 0600); not \
                 in a keyring: {why}"
            )
        }
    };
    Ok(Saved { secret, notes })
}

/// The profile's table of the document, created if new.
fn profile_table<'a>(
    document: &'a mut toml_edit::DocumentMut,
    name: &str,
) -> Result<&'a mut toml_edit::Table, SaveError> {
    let item = document
        .entry(name)
        .or_insert_with(|| toml_edit::Item::Table(toml_edit::Table::new()));
    item.as_table_mut().ok_or_else(|| {
        SaveError::Invalid(format!(
            "the config file's {name:?} is not a table ([{name}]): fix it first"
        ))
    })
}

/// Writes `bytes` to a new file beside `path` (mode 0600), flushed to disk, then renamed over
/// `path`: a reader sees the old file or the new one, never a part. The directory is created
/// (mode 0700) if missing.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    if !dir.exists() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(&dir).map_err(|e| {
            std::io::Error::new(e.kind(), format!("creating {}: {e}", dir.display()))
        })?;
    }
    // tempfile creates it with mode 0600 on Unix.
    let mut file = tempfile::Builder::new()
        .prefix(".config.toml.")
        .tempfile_in(&dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{find, Credential, Found, Given, Origin, Overrides, DEFAULT_PROFILE};

    fn profile(secret: Option<&str>) -> NewProfile {
        NewProfile {
            address: "https://ccsqm.example:8443".into(),
            token_base_url: Some("https://ccsqm.example:28070".into()),
            user_id: "op-7".into(),
            app_key: "key-7".into(),
            new_secret: secret.map(Secret::new),
        }
    }

    /// The settings a program given `--config <path> [--profile NAME]` finds.
    fn resolved(path: &Path, name: Option<&str>) -> Result<Found, Error> {
        find(&Overrides {
            config_file: Some(Given::new(path.to_owned(), Origin::Flag("--config"))),
            profile: name.map(|n| Given::new(n.to_owned(), Origin::Flag("--profile"))),
            ..Overrides::default()
        })
    }

    #[cfg(feature = "keyring")]
    #[test]
    fn a_secret_in_the_keyring_is_found_by_the_profile_that_names_it() {
        keyring::use_mock_store();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let account = keyring::account_for("work", &path);
        let secret = format!("sec-{}", std::process::id());
        std::fs::write(
            &path,
            "# mine\n[other]\nuser_id = \"x\"\n\n[work]\ntoken = \"t\"\napp_secret = \"old\"\n",
        )
        .unwrap();
        let file = ProfileFile::read(&path).unwrap();
        assert_eq!(
            file.current("work").unwrap().secret.unwrap().1,
            "in the config file"
        );
        let saved = file
            .save("work", &profile(Some(&secret)), SecretStore::Auto, None)
            .unwrap();
        assert!(saved.secret.contains("in the keyring"), "{}", saved.secret);
        assert!(
            saved.notes.iter().any(|n| n.contains("removed token")),
            "{:?}",
            saved.notes
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&secret) && !text.contains("old"), "{text}");
        assert!(
            text.starts_with("# mine\n[other]\nuser_id = \"x\""),
            "{text}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        let found = resolved(&path, Some("work")).unwrap();
        match found.credential {
            Some(Credential::AppSecret(read, Origin::Keyring { account: named, .. })) => {
                assert_eq!(read.expose(), secret);
                assert_eq!(named, account);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(found.user_id.unwrap().0, "op-7");
        assert_eq!(
            found.token_base_url.unwrap().0,
            "https://ccsqm.example:28070"
        );

        // The entry gone: the profile's secret cannot be read, and the error says where.
        keyring::delete(&account).unwrap();
        let error = resolved(&path, Some("work")).unwrap_err();
        assert!(error.to_string().contains("keyring"), "{error}");
        assert!(matches!(error, Error::Invalid(_)));
    }

    #[test]
    fn without_a_keyring_the_secret_goes_to_the_file_and_an_unchanged_one_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("config.toml");
        let saved = ProfileFile::read(&path)
            .unwrap()
            .save(
                DEFAULT_PROFILE,
                &profile(Some("file-secret-1")),
                SecretStore::File,
                None,
            )
            .unwrap();
        assert!(
            saved.secret.contains("in the config file"),
            "{}",
            saved.secret
        );
        let found = resolved(&path, None).unwrap();
        match found.credential {
            Some(Credential::AppSecret(read, Origin::Profile { key, .. })) => {
                assert_eq!(read.expose(), "file-secret-1");
                assert_eq!(key, "app_secret");
            }
            other => panic!("{other:?}"),
        }
        // A domain is kept as a domain; a kept secret is not touched.
        let mut kept = profile(None);
        kept.address = "ccsqm.example".into();
        let saved = ProfileFile::read(&path)
            .unwrap()
            .save(
                DEFAULT_PROFILE,
                &kept,
                SecretStore::Auto,
                Some("in the config file"),
            )
            .unwrap();
        assert!(saved.secret.contains("unchanged"), "{}", saved.secret);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("domain = \"ccsqm.example\""), "{text}");
        assert!(!text.contains("\nbase_url"), "{text}");
        assert!(text.contains("app_secret = \"file-secret-1\""), "{text}");
    }

    #[test]
    fn a_profile_that_is_not_a_table_or_a_file_that_is_not_toml_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "default = 3\n").unwrap();
        let error = ProfileFile::read(&path)
            .unwrap()
            .save(
                DEFAULT_PROFILE,
                &profile(Some("s")),
                SecretStore::File,
                None,
            )
            .err()
            .unwrap();
        assert!(error.to_string().contains("is not a table"), "{error}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "default = 3\n");
        std::fs::write(&path, "[default\n").unwrap();
        let error = ProfileFile::read(&path).err().unwrap();
        assert!(error.to_string().contains("not valid TOML"), "{error}");
    }
}
