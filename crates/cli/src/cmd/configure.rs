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
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use ccsqm_client::Secret;

use ccsqm_config::save::{NewProfile, ProfileFile, SaveError, SecretStore};

use crate::config::{self, DEFAULT_PROFILE};
use crate::error::UsageError;

/// Where `ccsqm configure` keeps the app secret (`ccsqm_config::save::SecretStore`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SecretStoreArg {
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
    #[arg(long, value_enum, default_value_t = SecretStoreArg::Auto)]
    pub secret_store: SecretStoreArg,

    /// Write the profile without the token request that checks it.
    #[arg(long)]
    pub no_verify: bool,

    /// Time allowed for the token request, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub timeout: f64,
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
    let file = ProfileFile::read(&path).map_err(save_error)?;
    let current = file.current(&args.profile).map_err(config::command_error)?;

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

    let current_place = current.secret.as_ref().map(|(_, at)| at.as_str());
    let store = match args.secret_store {
        SecretStoreArg::Auto => SecretStore::Auto,
        SecretStoreArg::Keyring => SecretStore::Keyring,
        SecretStoreArg::File => SecretStore::File,
    };
    let profile = NewProfile {
        address: answers.address.clone(),
        token_base_url: answers.token_base_url.clone(),
        user_id: answers.user_id.clone(),
        app_key: answers.app_key.clone(),
        new_secret: answers.new_secret.clone(),
    };
    let saved = file
        .save(&args.profile, &profile, store, current_place)
        .map_err(save_error)?;
    let (secret_note, notes) = (saved.secret, saved.notes);
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

/// A refused file or profile is the user's to mend (exit 2); a failed write is the file's.
fn save_error(error: SaveError) -> anyhow::Error {
    match error {
        SaveError::Invalid(message) => UsageError(message).into(),
        SaveError::Write { path, source } => {
            anyhow::Error::new(source).context(format!("writing {}", path.display()))
        }
    }
}

/// Asks each question in turn.
fn ask(
    prompter: &mut Prompter<impl BufRead>,
    current: &ccsqm_config::save::Current,
) -> Result<Answers> {
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
