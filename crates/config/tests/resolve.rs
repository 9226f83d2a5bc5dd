//! The precedence of `ccsqm-config`: overrides (command line, then environment) before the
//! profile, the credential whole from one layer, origins named, secrets never shown.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use ccsqm_client::Secret;
use ccsqm_config::{resolve, Credentials, Error, Given, Missing, Origin, Overrides};

fn config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

fn with_file(path: &Path) -> Overrides {
    Overrides {
        config_file: Some(Given::new(path.to_owned(), Origin::Flag("--config"))),
        ..Overrides::default()
    }
}

#[test]
fn overrides_come_before_the_profile_and_say_where_they_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(
        dir.path(),
        "[default]\ndomain = \"example.com\"\nuser_id = \"p-user\"\napp_key = \"p-key\"\n\
         app_secret = \"p-secret\"\n",
    );
    let settings = resolve(&with_file(&path)).unwrap();
    assert_eq!(settings.base_url, "https://example.com");
    assert_eq!(settings.user_id, "p-user");
    assert!(
        matches!(&settings.credentials, Some(Credentials::AkSk { app_key, app_secret })
        if app_key == "p-key" && app_secret.expose() == "p-secret")
    );
    assert!(settings.warnings.is_empty());

    let mut overrides = with_file(&path);
    overrides.user_id = Some(Given::new("e-user".into(), Origin::Env("CCSQM_USER_ID")));
    overrides.base_url = Some(Given::new(
        "http://127.0.0.1:1".into(),
        Origin::Flag("--base-url"),
    ));
    // A token of the environment's layer beats the profile's app secret, as a whole.
    overrides.token = Some(Secret::new("e-token"));
    let settings = resolve(&overrides).unwrap();
    assert_eq!(settings.base_url, "http://127.0.0.1:1");
    assert_eq!(settings.user_id, "e-user");
    assert!(
        matches!(&settings.credentials, Some(Credentials::Token(t)) if t.expose() == "e-token")
    );
    let sources: Vec<String> = settings
        .sources
        .iter()
        .map(|(what, origin)| format!("{what}: {origin}"))
        .collect();
    assert!(
        sources.contains(&"API address: --base-url".to_owned()),
        "{sources:?}"
    );
    assert!(
        sources.contains(&"user ID: CCSQM_USER_ID".to_owned()),
        "{sources:?}"
    );
    assert!(
        sources.contains(&"token: CCSQM_TOKEN".to_owned()),
        "{sources:?}"
    );
    assert!(
        !format!("{settings:?}").contains("e-token"),
        "a secret in Debug"
    );
}

#[test]
fn missing_settings_are_reported_together_and_errors_show_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), "[default]\napp_secret = \"s3cr3t\"\n");
    match resolve(&with_file(&path)) {
        Err(Error::Missing(missing)) => {
            assert_eq!(
                missing.missing,
                [Missing::Address, Missing::UserId, Missing::AppKey]
            );
            assert!(missing.to_string().contains("CCSQM_USER_ID"));
        }
        other => panic!("{other:?}"),
    }
    let path = config(
        dir.path(),
        "[default]\napp_secret = \"s3cr3t\"\nnot toml at all",
    );
    let error = resolve(&with_file(&path)).unwrap_err().to_string();
    assert!(error.contains("not valid TOML at line 3"), "{error}");
    assert!(!error.contains("s3cr3t"), "{error}");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(&path, "[default]\napp_secret = \"s3cr3t\"\n").unwrap();
    let error = resolve(&with_file(&path)).unwrap_err().to_string();
    assert!(error.contains("other users can read it"), "{error}");
}

#[test]
fn a_named_profile_must_exist_and_the_names_are_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), "[work]\nuser_id = \"u\"\n");
    let mut overrides = with_file(&path);
    overrides.profile = Some(Given::new("it's".into(), Origin::Flag("--profile")));
    let error = resolve(&overrides).unwrap_err().to_string();
    assert!(
        error.contains(r"--profile 'it'\''s': no such profile"),
        "{error}"
    );
    assert!(error.contains("(it has: work)"), "{error}");
}

#[test]
fn an_unreadable_default_file_is_a_warning_not_an_error() {
    // Only the default file (nobody named it) is ignored with a warning: here, a directory
    // named like the file, found through XDG_CONFIG_HOME.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("ccsqm").join("config.toml")).unwrap();
    // SAFETY: this test binary's only test that reads the environment's config directory.
    unsafe { std::env::set_var("XDG_CONFIG_HOME", dir.path()) };
    let overrides = Overrides {
        base_url: Some(Given::new("http://h".into(), Origin::Flag("--base-url"))),
        user_id: Some(Given::new("u".into(), Origin::Flag("--user-id"))),
        token: Some(Secret::new("t")),
        ..Overrides::default()
    };
    let settings = resolve(&overrides).unwrap();
    assert_eq!(settings.warnings.len(), 1, "{:?}", settings.warnings);
    assert!(settings.warnings[0].contains("it is a directory"));
    assert!(settings.client_builder().is_ok());
}

#[test]
fn missing_settings_name_the_profiles_when_the_default_one_is_absent() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), "[prod]\nuser_id = \"u\"\n[\"eu west\"]\n");
    match resolve(&with_file(&path)) {
        Err(Error::Missing(missing)) => {
            assert_eq!(missing.other_profiles, ["eu west", "prod"]);
            let text = missing.to_string();
            assert!(
                text.contains("no profile \"default\"")
                    && text.contains("'eu west', prod")
                    && text.contains("--profile NAME"),
                "{text}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Named: the profile's own error; a default profile: no list.
    let mut named = with_file(&path);
    named.profile = Some(Given::new("prod".into(), Origin::Flag("--profile")));
    match resolve(&named) {
        Err(Error::Missing(missing)) => assert!(missing.other_profiles.is_empty()),
        other => panic!("{other:?}"),
    }
    let path = config(dir.path(), "[default]\n[prod]\nuser_id = \"u\"\n");
    match resolve(&with_file(&path)) {
        Err(Error::Missing(missing)) => {
            assert!(missing.other_profiles.is_empty());
            assert!(!missing.to_string().contains("no profile"));
        }
        other => panic!("{other:?}"),
    }
}
