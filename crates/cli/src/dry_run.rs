//! `--dry-run`: the exact request, with the token hidden, and an equivalent curl command.

use std::io::{self, Write};

use ccsqm_models::AppraisecallDetailsRequest;

use crate::config::{Credentials, Settings};

/// The path of `appraisecall/details` (a test compares it with the spec).
pub const DETAILS_PATH: &str = "/apiaccess/CCSQM/rest/ccisqm/v1/appraisecall/details";

/// Writes the request `ccsqm details` would send.
pub fn write(
    out: &mut dyn Write,
    settings: &Settings,
    request: &AppraisecallDetailsRequest,
) -> io::Result<()> {
    let url = format!("{}{DETAILS_PATH}", settings.base_url.trim_end_matches('/'));
    let body = serde_json::to_string_pretty(request)?;
    let token_note = match &settings.credentials {
        Some(Credentials::Token(_)) => "",
        Some(Credentials::AkSk { .. }) => {
            "  (obtained from tokenByAkSk with the app key and secret)"
        }
        None => "  (no token is configured)",
    };
    let mut headers = vec![
        ("Authorization".to_owned(), "Bearer ***".to_owned()),
        ("x-UserId".to_owned(), settings.user_id.clone()),
    ];
    if let Some(app_key) = &settings.app_key {
        headers.push(("x-app-key".to_owned(), app_key.clone()));
    }
    headers.push(("Content-Type".to_owned(), "application/json".to_owned()));

    writeln!(out, "POST {url}")?;
    for (i, (name, value)) in headers.iter().enumerate() {
        let note = if i == 0 { token_note } else { "" };
        writeln!(out, "{name}: {value}{note}")?;
    }
    writeln!(out)?;
    writeln!(out, "{body}")?;
    writeln!(out)?;
    writeln!(
        out,
        "# the same request with curl (the token is read from $CCSQM_TOKEN):"
    )?;
    write!(out, "curl -X POST {}", quote(&url))?;
    write!(out, " \\\n  -H \"Authorization: Bearer $CCSQM_TOKEN\"")?;
    for (name, value) in &headers[1..] {
        write!(out, " \\\n  -H {}", quote(&format!("{name}: {value}")))?;
    }
    writeln!(
        out,
        " \\\n  --data {}",
        quote(&serde_json::to_string(request)?)
    )?;
    // Where each setting came from (never a secret's value).
    writeln!(out)?;
    for (setting, source) in &settings.sources {
        writeln!(out, "# {setting}: from {source}")?;
    }
    Ok(())
}

/// Quotes a word for a POSIX shell.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn shell_quoting_survives_quotes() {
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("$HOME"), "'$HOME'");
    }
}
