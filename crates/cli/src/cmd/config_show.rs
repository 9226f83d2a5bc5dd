//! `ccsqm config show`: every setting in effect, its value (secrets masked) and where it came
//! from (a flag, the environment, the profile, the keyring, the default), with the config
//! file's real path.

use std::io::Write;

use anyhow::Result;
use ccsqm_client::{visible, Secret};
use serde_json::{json, Value};

use crate::config::{self, Credential, FlagSources, Origin};
use crate::connection::Connection;

/// What a secret's value is shown as.
pub const MASK: &str = "********";

#[derive(Debug, clap::Subcommand)]
pub enum ConfigCommand {
    /// Show every setting in effect, its value (secrets masked) and where it came from (flag,
    /// environment, profile, keyring, default), and the config file's path.
    Show(Box<ShowArgs>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ShowFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The output format.
    #[arg(long, short = 'o', value_enum, default_value_t = ShowFormat::Text)]
    pub output: ShowFormat,

    #[command(flatten)]
    pub connection: Connection,
}

/// One row: the setting, its config key, its value as shown (`None`: not set), and where it
/// came from.
struct Row {
    setting: &'static str,
    key: &'static str,
    value: Option<String>,
    origin: Option<Origin>,
}

pub fn run(command: &ConfigCommand, flags: &clap::ArgMatches) -> Result<()> {
    let ConfigCommand::Show(args) = command;
    show(args, flags)
}

fn show(args: &ShowArgs, flags: &clap::ArgMatches) -> Result<()> {
    let c = &args.connection;
    if c.sandbox {
        eprintln!(
            "ccsqm: with --sandbox, the address and credentials are the built-in sandbox's; \
             without it, these:"
        );
    }
    let env_secret = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .map(Secret::new)
    };
    let found = config::find(
        c,
        flags,
        env_secret("CCSQM_TOKEN"),
        env_secret("CCSQM_APP_SECRET"),
    )?;
    let missing = found.missing();
    let clap_origin =
        |id: &str, flag: &'static str, env: &'static str| match flags.given_on_command_line(id) {
            Some(true) => Origin::Flag(flag),
            Some(false) => Origin::Env(env),
            None => Origin::Default,
        };
    let shown = |found: &Option<(String, Origin)>| {
        (
            found.as_ref().map(|(v, _)| v.clone()),
            found.as_ref().map(|(_, o)| o.clone()),
        )
    };

    let mut rows = Vec::new();
    let (value, origin) = shown(&found.base_url);
    rows.push(Row {
        setting: "API address",
        key: "base_url",
        value,
        origin,
    });
    let (value, origin) = shown(&found.token_base_url);
    rows.push(Row {
        setting: "token interface address",
        key: "token_base_url",
        value: value.or(Some("(the API address)".into())),
        origin: origin.or(Some(Origin::Default)),
    });
    let (value, origin) = shown(&found.user_id);
    rows.push(Row {
        setting: "user ID",
        key: "user_id",
        value,
        origin,
    });
    let (value, origin) = shown(&found.app_key);
    rows.push(Row {
        setting: "app key",
        key: "app_key",
        value,
        origin,
    });
    let (setting, key, origin) = match &found.credential {
        Some(Credential::Token(_, origin)) => ("token", "token", Some(origin.clone())),
        Some(Credential::AppSecret(_, origin)) => {
            ("app secret", "app_secret", Some(origin.clone()))
        }
        None => ("app secret", "app_secret", None),
    };
    rows.push(Row {
        setting,
        key,
        value: origin.as_ref().map(|_| MASK.to_owned()),
        origin,
    });
    for (setting, id, flag, env, value) in [
        (
            "timeout",
            "timeout",
            "--timeout",
            "CCSQM_TIMEOUT",
            format!("{} s", c.timeout),
        ),
        (
            "connect timeout",
            "connect_timeout",
            "--connect-timeout",
            "CCSQM_CONNECT_TIMEOUT",
            format!("{} s", c.connect_timeout),
        ),
        (
            "max retries",
            "max_retries",
            "--max-retries",
            "CCSQM_MAX_RETRIES",
            c.max_retries.to_string(),
        ),
        (
            "max retry time",
            "max_retry_time",
            "--max-retry-time",
            "CCSQM_MAX_RETRY_TIME",
            format!("{} s", c.max_retry_time),
        ),
        (
            "max body size",
            "max_body_size",
            "--max-body-size",
            "CCSQM_MAX_BODY_SIZE",
            format!("{} bytes", c.max_body_size),
        ),
    ] {
        rows.push(Row {
            setting,
            key: "",
            value: Some(value),
            origin: Some(clap_origin(id, flag, env)),
        });
    }

    // The config file's real path (a symbolic link resolved).
    let file = found.config_file.as_ref().map(|(path, origin, exists)| {
        let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        (real, origin.clone(), *exists)
    });
    let mut out = std::io::stdout().lock();
    match args.output {
        ShowFormat::Json => {
            let settings: Vec<Value> = rows
                .iter()
                .map(|row| {
                    json!({
                        "setting": row.setting,
                        "config_key": (!row.key.is_empty()).then_some(row.key),
                        "value": row.value,
                        "source": row.origin.as_ref().map(Origin::kind).unwrap_or("missing"),
                        "from": row.origin.as_ref().map(Origin::to_string),
                    })
                })
                .collect();
            let document = json!({
                "config_file": file.as_ref().map(|(path, origin, exists)| json!({
                    "path": path.display().to_string(),
                    "exists": exists,
                    "source": origin.kind(),
                    "from": origin.to_string(),
                })),
                "profile": {
                    "name": found.profile_name,
                    "source": found.profile_origin.kind(),
                    "from": found.profile_origin.to_string(),
                },
                "settings": settings,
                "missing": missing.iter().map(|m| m.name()).collect::<Vec<_>>(),
            });
            serde_json::to_writer_pretty(&mut out, &document)?;
            writeln!(out)?;
        }
        ShowFormat::Text => {
            let mut lines: Vec<[String; 3]> = Vec::new();
            match &file {
                Some((path, origin, exists)) => lines.push([
                    "config file".into(),
                    format!(
                        "{}{}",
                        path.display(),
                        if *exists { "" } else { " (not found)" }
                    ),
                    from(Some(origin)),
                ]),
                None => lines.push([
                    "config file".into(),
                    "(none: no config directory)".into(),
                    String::new(),
                ]),
            }
            lines.push([
                "profile".into(),
                found.profile_name.clone(),
                from(Some(&found.profile_origin)),
            ]);
            for row in &rows {
                lines.push([
                    row.setting.into(),
                    row.value.clone().unwrap_or_else(|| "(not set)".into()),
                    from(row.origin.as_ref()),
                ]);
            }
            let width = |i: usize| {
                lines
                    .iter()
                    .map(|l| l[i].chars().count())
                    .max()
                    .unwrap_or(0)
            };
            let (w0, w1) = (width(0), width(1));
            for [setting, value, from] in &lines {
                let line = format!("{setting:<w0$}  {value:<w1$}  {from}");
                writeln!(out, "{}", visible(line.trim_end()))?;
            }
            if !missing.is_empty() {
                out.flush()?;
                eprintln!(
                    "ccsqm: {}",
                    config::MissingSettings::new(missing, found.profile.clone())
                        .with_other_profiles(found.other_profiles.clone())
                );
            }
        }
    }
    Ok(())
}

/// `from …`, or how to set a setting that nothing gave.
fn from(origin: Option<&Origin>) -> String {
    match origin {
        Some(Origin::Default) => "default".into(),
        Some(origin) => format!("{}: {origin}", origin.kind()),
        None => "missing".into(),
    }
}
