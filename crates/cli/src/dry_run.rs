//! `--dry-run`: the exact request, with the token hidden, and an equivalent curl command.

use std::io::{self, Write};

use ccsqm_client::spec::{Kind, OperationSpec};
use ccsqm_client::SessionHeader;

use crate::config::{Credentials, Settings};

/// Writes the request of `operation` with `body` and the extra `headers`, as it would be sent.
pub fn write(
    out: &mut dyn Write,
    settings: &Settings,
    operation: &OperationSpec,
    headers: &[(String, String)],
    body: &impl serde::Serialize,
) -> io::Result<()> {
    let url = format!(
        "{}{}",
        settings.base_url.trim_end_matches('/'),
        operation.path
    );
    let body = hide_secrets(operation, serde_json::to_value(body)?);
    let pretty = serde_json::to_string_pretty(&body)?;
    let token_note = match &settings.credentials {
        Some(Credentials::Token(_)) => "",
        Some(Credentials::AkSk { .. }) => {
            "  (obtained from tokenByAkSk with the app key and secret)"
        }
        None => "  (no token is configured)",
    };
    let mut all = Vec::new();
    if operation.authenticated {
        all.push(("Authorization".to_owned(), "Bearer ***".to_owned()));
    }
    for header in operation.headers {
        let value = match SessionHeader::of(header.name) {
            Some(SessionHeader::UserId) => Some(&settings.user_id),
            Some(SessionHeader::AppKey) => settings.app_key.as_ref(),
            None => None,
        };
        if let Some(value) = value {
            all.push((header.name.to_owned(), value.clone()));
        }
    }
    all.extend(headers.iter().cloned());
    all.push(("Content-Type".to_owned(), "application/json".to_owned()));

    writeln!(out, "{} {url}", operation.method)?;
    for (name, value) in &all {
        let note = if name == "Authorization" {
            token_note
        } else {
            ""
        };
        writeln!(out, "{name}: {value}{note}")?;
    }
    writeln!(out)?;
    writeln!(out, "{pretty}")?;
    writeln!(out)?;
    writeln!(
        out,
        "# the same request with curl{}:",
        if operation.authenticated {
            " (the token is read from $CCSQM_TOKEN)"
        } else {
            ""
        }
    )?;
    write!(out, "curl -X {} {}", operation.method, quote(&url))?;
    for (name, value) in &all {
        if name == "Authorization" {
            write!(out, " \\\n  -H \"Authorization: Bearer $CCSQM_TOKEN\"")?;
        } else {
            write!(out, " \\\n  -H {}", quote(&format!("{name}: {value}")))?;
        }
    }
    writeln!(
        out,
        " \\\n  --data {}",
        quote(&serde_json::to_string(&body)?)
    )?;
    // Where each setting came from (never a secret's value).
    writeln!(out)?;
    for (setting, source) in &settings.sources {
        writeln!(out, "# {setting}: from {source}")?;
    }
    Ok(())
}

/// The body with every field the spec marks as a secret (`Secret`, format `password`) as `***`.
fn hide_secrets(operation: &OperationSpec, mut body: serde_json::Value) -> serde_json::Value {
    if let (Some(schema), Some(fields)) = (operation.body, body.as_object_mut()) {
        for field in schema.fields.iter().filter(|f| f.kind == Kind::Secret) {
            if let Some(value) = fields.get_mut(field.name) {
                *value = serde_json::Value::from("***");
            }
        }
    }
    body
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
