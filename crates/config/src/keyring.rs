//! The operating system's keyring, where `ccsqm configure` keeps the app secret when it can
//! (feature `keyring`, on by default; without it, an entry cannot be read or written, and the
//! functions say so):
//! the Secret Service on Linux and the BSDs (over D-Bus: GNOME Keyring, KWallet, KeePassXC),
//! the Keychain on macOS, the Credential Manager on Windows.
//!
//! [keyring-core](https://crates.io/crates/keyring-core) and one maintained store of its
//! family per platform, linked directly, as the keyring crate's authors advise applications:
//! its errors say why a keyring cannot be used (no D-Bus session, no Secret Service), which
//! `ccsqm configure` reports when it falls back to the config file.

#[cfg(feature = "keyring")]
use std::sync::{Mutex, OnceLock};

use ccsqm_client::Secret;

/// The keyring service of every entry: an entry is `(SERVICE, account)`, the account named by
/// the profile's `app_secret_keyring`.
pub const SERVICE: &str = "ccsqm";

/// The account `ccsqm configure` uses for a profile of a config file: one entry per profile
/// and file, so two config files never share a secret by accident.
pub fn account_for(profile: &str, config_file: &std::path::Path) -> String {
    format!("{profile}@{}", config_file.display())
}

/// The secret of `account`.
#[cfg(feature = "keyring")]
pub fn read(account: &str) -> Result<Secret, String> {
    init()?;
    let entry = keyring_core::Entry::new(SERVICE, account).map_err(|e| e.to_string())?;
    match entry.get_password() {
        Ok(secret) if secret.is_empty() => Err("the entry is empty".into()),
        Ok(secret) => Ok(Secret::new(secret)),
        Err(keyring_core::Error::NoEntry) => Err("there is no such entry".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// Stores `secret` as the secret of `account`, replacing any.
#[cfg(feature = "keyring")]
pub fn write(account: &str, secret: &Secret) -> Result<(), String> {
    init()?;
    let entry = keyring_core::Entry::new(SERVICE, account).map_err(|e| e.to_string())?;
    entry
        .set_password(secret.expose())
        .map_err(|e| e.to_string())?;
    // Read back: a store that accepts and loses it (a locked collection) is not a keyring.
    match entry.get_password() {
        Ok(read) if read == secret.expose() => Ok(()),
        Ok(_) => Err("the keyring did not keep the secret".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// Removes the entry of `account`, if there is one.
#[cfg(feature = "keyring")]
pub fn delete(account: &str) -> Result<(), String> {
    init()?;
    let entry = keyring_core::Entry::new(SERVICE, account).map_err(|e| e.to_string())?;
    match entry.delete_credential() {
        Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(feature = "keyring")]
/// The platform's store as the default store, once, unless one is set already (the tests
/// set keyring-core's in-memory mock store).
fn init() -> Result<(), String> {
    static INIT: OnceLock<Mutex<Option<Result<(), String>>>> = OnceLock::new();
    let mut done = INIT
        .get_or_init(|| Mutex::new(None))
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if keyring_core::get_default_store().is_some() {
        return Ok(());
    }
    done.get_or_insert_with(|| platform_store().map_err(|e| e.to_string()))
        .clone()
}

#[cfg(all(
    feature = "keyring",
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
fn platform_store() -> keyring_core::Result<()> {
    let store = zbus_secret_service_keyring_store::Store::new()?;
    keyring_core::set_default_store(store);
    Ok(())
}

#[cfg(all(feature = "keyring", target_os = "macos"))]
fn platform_store() -> keyring_core::Result<()> {
    let store = apple_native_keyring_store::keychain::Store::new()?;
    keyring_core::set_default_store(store);
    Ok(())
}

#[cfg(all(feature = "keyring", target_os = "windows"))]
fn platform_store() -> keyring_core::Result<()> {
    let store = windows_native_keyring_store::Store::new()?;
    keyring_core::set_default_store(store);
    Ok(())
}

#[cfg(all(
    feature = "keyring",
    not(any(
        all(
            unix,
            not(any(target_os = "macos", target_os = "ios", target_os = "android"))
        ),
        target_os = "macos",
        target_os = "windows"
    ))
))]
fn platform_store() -> keyring_core::Result<()> {
    Err(keyring_core::Error::NotSupportedByStore(
        "no keyring is supported on this platform".into(),
    ))
}

/// keyring-core's in-memory store as the default store, for the tests of this crate.

/// Without the `keyring` feature: no keyring.
#[cfg(not(feature = "keyring"))]
const NO_KEYRING: &str =
    "this build has no keyring support (the `keyring` feature of ccsqm-config)";

/// The secret of `account` (not without the `keyring` feature).
#[cfg(not(feature = "keyring"))]
pub fn read(_account: &str) -> Result<Secret, String> {
    Err(NO_KEYRING.into())
}

/// Stores a secret (not without the `keyring` feature).
#[cfg(not(feature = "keyring"))]
pub fn write(_account: &str, _secret: &Secret) -> Result<(), String> {
    Err(NO_KEYRING.into())
}

/// Removes an entry (nothing to remove without the `keyring` feature).
#[cfg(not(feature = "keyring"))]
pub fn delete(_account: &str) -> Result<(), String> {
    Ok(())
}

/// keyring-core's in-memory store as the default store, for tests (of this crate and of
/// programs that use it): nothing of the system's keyring is touched.
#[cfg(feature = "keyring")]
pub fn use_mock_store() {
    static MOCK: OnceLock<()> = OnceLock::new();
    MOCK.get_or_init(|| {
        if let Ok(store) = keyring_core::mock::Store::new() {
            keyring_core::set_default_store(store);
        }
    });
}

#[cfg(all(test, feature = "keyring"))]
mod tests {
    use super::*;

    #[test]
    fn a_secret_written_is_read_back_and_deleted() {
        use_mock_store();
        let account = account_for("unit", std::path::Path::new("/nonexistent/config.toml"));
        assert!(read(&account).is_err(), "no entry yet");
        write(&account, &Secret::new("s3cr3t-value")).unwrap();
        assert_eq!(read(&account).unwrap().expose(), "s3cr3t-value");
        delete(&account).unwrap();
        assert_eq!(read(&account).unwrap_err(), "there is no such entry");
        delete(&account).unwrap();
    }
}
