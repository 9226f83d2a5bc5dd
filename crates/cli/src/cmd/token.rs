//! `ccsqm token`: a token from the app key and secret, with its expiry.

use crate::connection::Connection;
use clap::Args;
use std::io::Write;

use anyhow::Result;

use crate::config::Credentials;
use crate::connect::{build_client, target_of};
use crate::error::UsageError;

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(flatten)]
    pub connection: Connection,

    /// The token's lifetime in seconds (X-Token-Expire): from 1 to the spec's maximum.
    #[arg(long, default_value_t = ccsqm_client::DEFAULT_TOKEN_LIFETIME.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=ccsqm_client::MAX_TOKEN_LIFETIME.as_secs()))]
    pub expire: u64,
}

/// `ccsqm token`.
pub async fn run(args: &TokenArgs, flags: &clap::ArgMatches) -> Result<()> {
    let (settings, _sandbox) = target_of(&args.connection, flags).await?;
    if !matches!(settings.credentials()?, Credentials::AkSk { .. }) {
        anyhow::bail!(UsageError(
            "ccsqm token needs an app key and app secret (--app-key or CCSQM_APP_KEY, and \
             CCSQM_APP_SECRET or --app-secret-file), not a token"
                .into()
        ));
    };
    let lifetime = std::time::Duration::from_secs(args.expire);
    let client = build_client(&settings, &args.connection, true, Some(lifetime))?;
    let issued = client.issue_token().await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", issued.access_token.expose())?;
    out.flush()?;
    if let Some(note) = &issued.expires_note {
        eprintln!("ccsqm: warning: {}", ccsqm_client::visible(note));
    }
    match &issued.expires {
        Some(_) => eprintln!(
            "ccsqm: the token expires {} seconds after it was issued",
            issued.lifetime.as_secs()
        ),
        None => eprintln!(
            "ccsqm: the response did not say when the token expires (assuming {} seconds)",
            issued.lifetime.as_secs()
        ),
    }
    Ok(())
}
