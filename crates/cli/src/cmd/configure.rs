//! `ccsqm configure`: sets up a profile of the config file, question by question.
//!
//! The answers are read from the terminal (the app secret without echo), or one a line from
//! stdin when it is not a terminal (scripts, tests). A profile's current values are offered
//! as defaults (an empty answer keeps them; the secret is shown masked). Before anything is
//! written, one token request (tokenByAkSk) checks the address, app key and app secret
//! (`--no-verify` skips it). The secret goes to the operating system's keyring when one can
//! be used, else into the file; the file is written atomically (a temporary file renamed over
//! it) with mode 0600, keeping its comments and other profiles.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use ccsqm_client::Secret;

use crate::config::{self, DEFAULT_PROFILE, MAX_CONFIG_BYTES};
use crate::error::UsageError;

/// Where `ccsqm configure` keeps the app secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SecretStore {
    /// The keyring when one can be used, else the config file (said which).
    Auto,
    /// The keyring, or fail (nothing written).
    Keyring,
    /// The config file (mode 0600).
    File,
}

/// `ccsqm configure`.
#[derive(Debug, clap::Args)]
pub struct ConfigureArgs {
    /// The profile to set up (created if new).
    #[arg(long, env = "CCSQM_PROFILE", value_name = "NAME", default_value = DEFAULT_PROFILE)]
    pub profile: String,

    /// The config file [default: <config dir>/ccsqm/config.toml].
    #[arg(long, env = "CCSQM_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Where the app secret is kept.
    #[arg(long, value_enum, default_value_t = SecretStore::Auto)]
    pub secret_store: SecretStore,

    /// Write the profile without the token request that checks it.
    #[arg(long)]
    pub no_verify: bool,

    /// Time allowed for the token request, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub timeout: f64,
}

/// A profile's current values, as the config file has them.
#[derive(Default)]
struct Current {
    address: Option<String>,
    token_base_url: Option<String>,
    user_id: Option<String>,
    app_key: Option<String>,
    /// The secret and where it is (`in the keyring`, `in <file>`), if it can be read.
    secret: Option<(Secret, String)>,
    /// Why the current secret cannot be read, if it is set but unreadable.
    secret_unreadable: Option<String>,
}

/// The answers.
struct Answers {
    address: String,
    token_base_url: Option<String>,
    user_id: String,
    app_key: String,
    /// `None`: keep the current secret where it is.
    new_secret: Option<Secret>,
    secret: Secret,
}

pub async fn run(args: &ConfigureArgs) -> Result<()> {
    let path = match &args.config {
        Some(path) => path.clone(),
        None => config::default_path().ok_or_else(|| {
            UsageError("no config directory on this system: name the file with --config".into())
        })?,
    };
    // A symbolic link is followed: the file it leads to is replaced. The path is absolute:
    // it names the keyring entry.
    let path = std::fs::canonicalize(&path)
        .or_else(|_| std::path::absolute(&path))
        .unwrap_or(path);
    if args.profile.is_empty() {
        bail!(UsageError("--profile: the name is empty".into()));
    }
    let text = match path.symlink_metadata() {
        Ok(_) => config::read_text(&path, MAX_CONFIG_BYTES)
            .map_err(|why| UsageError(format!("config file {}: {why}", path.display())))?,
        Err(_) => String::new(),
    };
    let mut document: toml_edit::DocumentMut =
        text.parse().map_err(|e: toml_edit::TomlError| {
            UsageError(format!(
                "config file {}: not valid TOML ({}); fix it or name another file with --config",
                path.display(),
                e.message()
            ))
        })?;
    let current = current(&path, &text, &args.profile)?;

    let stdin = std::io::stdin();
    let terminal = stdin.is_terminal();
    let mut prompter = Prompter {
        lines: stdin.lock(),
        terminal,
    };
    eprintln!(
        "ccsqm: setting up profile {:?} of {} (an empty answer keeps the value in [brackets])",
        args.profile,
        path.display()
    );
    let answers = ask(&mut prompter, &current)?;

    let client = client(&answers, args.timeout)?;
    if args.no_verify {
        eprintln!("ccsqm: not checked (--no-verify)");
    } else {
        client.issue_token().await.map_err(|e| {
            anyhow::Error::new(e).context(
                "the token request (tokenByAkSk) with these settings failed, so nothing was \
                 written",
            )
        })?;
        eprintln!("ccsqm: checked: the token request (tokenByAkSk) succeeded");
    }

    let account = ccsqm_config::keyring::account_for(&args.profile, &path);
    let current_place = current.secret.as_ref().map(|(_, at)| at.as_str());
    let (secret_note, notes) = apply(
        &mut document,
        &args.profile,
        &answers,
        args.secret_store,
        &account,
        current_place,
    )?;
    write_atomically(&path, document.to_string().as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!(
        "ccsqm: wrote profile {:?} to {} (mode 0600); {secret_note}",
        args.profile,
        path.display()
    );
    for note in notes {
        eprintln!("ccsqm: {note}");
    }
    if args.profile != DEFAULT_PROFILE {
        eprintln!(
            "ccsqm: use it with --profile {} (or CCSQM_PROFILE)",
            config::shell_word(&args.profile)
        );
    }
    Ok(())
}

/// Sets the answers in the profile `name` of `document`, the new secret in the keyring
/// entry `account` (or, when none can be used, in the document); what was done with the
/// secret, and notes.
fn apply(
    document: &mut toml_edit::DocumentMut,
    name: &str,
    answers: &Answers,
    store: SecretStore,
    account: &str,
    current_place: Option<&str>,
) -> Result<(String, Vec<String>)> {
    let profile = profile_table(document, name)?;
    let (address_key, other_key) = match answers.address.contains("://") {
        true => ("base_url", "domain"),
        false => ("domain", "base_url"),
    };
    profile.insert(address_key, toml_edit::value(answers.address.as_str()));
    profile.remove(other_key);
    match &answers.token_base_url {
        Some(url) => {
            profile.insert("token_base_url", toml_edit::value(url.as_str()));
        }
        None => {
            profile.remove("token_base_url");
        }
    }
    profile.insert("user_id", toml_edit::value(answers.user_id.as_str()));
    profile.insert("app_key", toml_edit::value(answers.app_key.as_str()));
    let mut notes = Vec::new();
    for key in ["token", "token_file"] {
        if profile.remove(key).is_some() {
            notes.push(format!(
                "removed {key} from the profile (a token would be used instead of the app key \
                 and secret)"
            ));
        }
    }
    let Some(secret) = &answers.new_secret else {
        let note = format!(
            "the app secret is unchanged ({})",
            current_place.unwrap_or("where it was")
        );
        return Ok((note, notes));
    };
    let keyring = match store {
        SecretStore::File => Err("--secret-store file".to_owned()),
        _ => ccsqm_config::keyring::write(account, secret),
    };
    let note = match keyring {
        Ok(()) => {
            profile.insert("app_secret_keyring", toml_edit::value(account));
            profile.remove("app_secret");
            profile.remove("app_secret_file");
            format!(
                "the app secret is in the keyring (service {}, account {account:?})",
                ccsqm_config::keyring::SERVICE
            )
        }
        Err(why) if store == SecretStore::Keyring => bail!(UsageError(format!(
            "--secret-store keyring: the keyring cannot be used ({why}); nothing was written"
        ))),
        Err(why) => {
            profile.insert("app_secret", toml_edit::value(secret.expose()));
            profile.remove("app_secret_file");
            if profile.remove("app_secret_keyring").is_some() {
                // Best effort: the entry is no longer used.
                let _ = ccsqm_config::keyring::delete(account);
            }
            format!(
                "the app secret is in the config file, readable by you only (mode 0600); not \
                 in a keyring: {why}"
            )
        }
    };
    Ok((note, notes))
}

/// The profile's current values, read from the config file's text.
fn current(path: &Path, text: &str, name: &str) -> Result<Current> {
    let mut profiles = config::parse_profiles(path, text)?;
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
        (None, Some(file), _) => match config::read_secret(&file) {
            Ok(secret) => (Some((secret, format!("in {}", file.display()))), None),
            Err(e) => (None, Some(format!("{e:#}"))),
        },
        (None, None, Some(account)) => match ccsqm_config::keyring::read(&account) {
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

/// Asks each question in turn.
fn ask(prompter: &mut Prompter<impl BufRead>, current: &Current) -> Result<Answers> {
    let address = prompter.required(
        "API address (https://HOST[:PORT], or a domain name for https://DOMAIN)",
        current.address.as_deref(),
    )?;
    let token_base_url = prompter.optional(
        "Token interface address, when not the API's (another port; - for none)",
        current.token_base_url.as_deref(),
    )?;
    let user_id = prompter.required(
        "User ID (the operator ID, sent as x-UserId)",
        current.user_id.as_deref(),
    )?;
    let app_key = prompter.required("App key", current.app_key.as_deref())?;
    if let Some(why) = &current.secret_unreadable {
        eprintln!("ccsqm: the current app secret cannot be read ({why}): enter it again");
    }
    let new_secret = prompter.secret("App secret", current.secret.is_some())?;
    let secret = match (&new_secret, &current.secret) {
        (Some(secret), _) => secret.clone(),
        (None, Some((secret, _))) => secret.clone(),
        (None, None) => unreachable!("a secret is required when there is none"),
    };
    Ok(Answers {
        address,
        token_base_url,
        user_id,
        app_key,
        new_secret,
        secret,
    })
}

/// The client the answers describe (checking the address and header values as a real run
/// does).
fn client(answers: &Answers, timeout: f64) -> Result<ccsqm_client::Client> {
    let base_url = match answers.address.contains("://") {
        true => answers.address.clone(),
        false => format!("https://{}", answers.address),
    };
    let mut builder = ccsqm_client::Client::builder(&base_url)
        .user_id(&answers.user_id)
        .app_key(&answers.app_key)
        .ak_sk(&answers.app_key, answers.secret.clone())
        .timeout(std::time::Duration::from_secs_f64(
            timeout.clamp(0.001, 86_400.0),
        ));
    if let Some(url) = &answers.token_base_url {
        builder = builder.token_base_url(url);
    }
    builder
        .build()
        .map_err(|e| UsageError(format!("{e}; nothing was written")).into())
}

/// The profile's table of the document, created if new.
fn profile_table<'a>(
    document: &'a mut toml_edit::DocumentMut,
    name: &str,
) -> Result<&'a mut toml_edit::Table> {
    let item = document
        .entry(name)
        .or_insert_with(|| toml_edit::Item::Table(toml_edit::Table::new()));
    item.as_table_mut().ok_or_else(|| {
        UsageError(format!(
            "the config file's {name:?} is not a table ([{name}]): fix it first"
        ))
        .into()
    })
}

/// Writes `bytes` to a new file beside `path` (mode 0600), flushed to disk, then renamed over
/// `path`: a reader sees the old file or the new one, never a part. The directory is created
/// (mode 0700) if missing.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
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
        builder
            .create(&dir)
            .with_context(|| format!("creating {}", dir.display()))?;
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

/// Asks questions on stderr, reading answers from the terminal or stdin.
struct Prompter<R> {
    lines: R,
    terminal: bool,
}

impl<R: BufRead> Prompter<R> {
    /// One line of stdin, without its line ending; an error at its end.
    fn line(&mut self, question: &str) -> Result<String> {
        let mut line = String::new();
        if self.lines.read_line(&mut line)? == 0 {
            eprintln!();
            bail!(UsageError(format!(
                "stdin ended before the answer to {question:?} (one answer a line: an empty \
                 line keeps the current value)"
            )));
        }
        if !self.terminal {
            // The answer was not echoed: the next question goes on a line of its own.
            eprintln!();
        }
        Ok(line.trim().to_owned())
    }

    fn prompt(&self, question: &str, shown: Option<&str>) {
        let shown = shown.map(|s| format!(" [{s}]")).unwrap_or_default();
        eprint!("{question}{shown}: ");
        let _ = std::io::stderr().flush();
    }

    /// An answer that cannot be empty (an empty line keeps `current`).
    fn required(&mut self, question: &str, current: Option<&str>) -> Result<String> {
        loop {
            self.prompt(
                question,
                current
                    .map(|c| ccsqm_client::visible(c).into_owned())
                    .as_deref(),
            );
            let answer = self.line(question)?;
            match (answer.is_empty(), current) {
                (false, _) => return Ok(answer),
                (true, Some(current)) => return Ok(current.to_owned()),
                (true, None) if self.terminal => eprintln!("ccsqm: an answer is needed"),
                (true, None) => bail!(UsageError(format!("{question}: an answer is needed"))),
            }
        }
    }

    /// An answer that may be none (`-`; an empty line keeps `current`).
    fn optional(&mut self, question: &str, current: Option<&str>) -> Result<Option<String>> {
        self.prompt(
            question,
            Some(
                current
                    .map(|c| ccsqm_client::visible(c).into_owned())
                    .as_deref()
                    .unwrap_or("none"),
            ),
        );
        let answer = self.line(question)?;
        Ok(match answer.as_str() {
            "" => current.map(str::to_owned),
            "-" => None,
            _ => Some(answer),
        })
    }

    /// A secret, read without echo at a terminal; `None` keeps the current one (`has_current`).
    fn secret(&mut self, question: &str, has_current: bool) -> Result<Option<Secret>> {
        let shown = has_current.then_some("********, kept if empty");
        loop {
            let answer = match self.terminal {
                true => {
                    let shown = shown.map(|s| format!(" [{s}]")).unwrap_or_default();
                    rpassword::prompt_password(format!("{question}{shown}: "))
                        .context("reading the app secret from the terminal")?
                }
                false => {
                    self.prompt(question, shown);
                    self.line(question)?
                }
            };
            let answer = answer.trim();
            match (answer.is_empty(), has_current) {
                (false, _) => return Ok(Some(Secret::new(answer))),
                (true, true) => return Ok(None),
                (true, false) if self.terminal => eprintln!("ccsqm: an answer is needed"),
                (true, false) => bail!(UsageError(format!("{question}: an answer is needed"))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Credential, Origin};

    fn answers(secret: Option<&str>) -> Answers {
        Answers {
            address: "https://ccsqm.example:8443".into(),
            token_base_url: Some("https://ccsqm.example:28070".into()),
            user_id: "op-7".into(),
            app_key: "key-7".into(),
            new_secret: secret.map(Secret::new),
            secret: Secret::new(secret.unwrap_or("old-secret")),
        }
    }

    /// The settings `ccsqm details [--profile NAME] --config <path>` resolves, as `find` gives
    /// them.
    fn resolved(path: &Path, profile: Option<&str>) -> anyhow::Result<crate::config::Found> {
        #[derive(clap::Parser)]
        struct Flags {
            #[command(flatten)]
            connection: crate::connection::Connection,
        }
        let profile = profile.map_or(vec![], |name| vec!["--profile", name]);
        let flags = <Flags as clap::Parser>::try_parse_from(
            ["ccsqm"]
                .into_iter()
                .chain(profile)
                .chain(["--config"])
                .map(std::ffi::OsString::from)
                .chain([path.as_os_str().to_owned()]),
        )
        .unwrap();
        crate::config::find(&flags.connection, &(), None, None)
    }

    #[test]
    fn a_secret_in_the_keyring_is_found_by_the_profile_that_names_it() {
        ccsqm_config::keyring::use_mock_store();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let account = ccsqm_config::keyring::account_for("work", &path);
        let secret = format!("sec-{}", std::process::id());
        let mut document: toml_edit::DocumentMut =
            "# mine\n[other]\nuser_id = \"x\"\n\n[work]\ntoken = \"t\"\napp_secret = \"old\"\n"
                .parse()
                .unwrap();
        let (note, notes) = apply(
            &mut document,
            "work",
            &answers(Some(&secret)),
            SecretStore::Auto,
            &account,
            None,
        )
        .unwrap();
        assert!(note.contains("in the keyring"), "{note}");
        assert!(
            notes.iter().any(|n| n.contains("removed token")),
            "{notes:?}"
        );
        let text = document.to_string();
        assert!(!text.contains(&secret) && !text.contains("old"), "{text}");
        assert!(
            text.starts_with("# mine\n[other]\nuser_id = \"x\""),
            "{text}"
        );
        write_atomically(&path, text.as_bytes()).unwrap();
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
        ccsqm_config::keyring::delete(&account).unwrap();
        let error = resolved(&path, Some("work")).unwrap_err();
        assert!(error.to_string().contains("keyring"), "{error}");
        assert!(error.downcast_ref::<UsageError>().is_some());
    }

    #[test]
    fn without_a_keyring_the_secret_goes_to_the_file_and_an_unchanged_one_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("config.toml");
        let mut document = toml_edit::DocumentMut::new();
        let (note, _) = apply(
            &mut document,
            DEFAULT_PROFILE,
            &answers(Some("file-secret-1")),
            SecretStore::File,
            "unused",
            None,
        )
        .unwrap();
        assert!(note.contains("in the config file"), "{note}");
        write_atomically(&path, document.to_string().as_bytes()).unwrap();
        let found = resolved(&path, None).unwrap();
        match found.credential {
            Some(Credential::AppSecret(read, Origin::Profile { key, .. })) => {
                assert_eq!(read.expose(), "file-secret-1");
                assert_eq!(key, "app_secret");
            }
            other => panic!("{other:?}"),
        }
        // A domain is kept as a domain; a kept secret is not touched.
        let mut kept = answers(None);
        kept.address = "ccsqm.example".into();
        let (note, _) = apply(
            &mut document,
            DEFAULT_PROFILE,
            &kept,
            SecretStore::Auto,
            "unused",
            Some("in the config file"),
        )
        .unwrap();
        assert!(note.contains("unchanged"), "{note}");
        let text = document.to_string();
        assert!(text.contains("domain = \"ccsqm.example\""), "{text}");
        assert!(!text.contains("\nbase_url"), "{text}");
        assert!(text.contains("app_secret = \"file-secret-1\""), "{text}");
    }
}
