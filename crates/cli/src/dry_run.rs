//! `--dry-run`: the exact request, with the token hidden, and an equivalent curl command.
//! The configured token and app secret are `***` wherever they appear (a body field, a
//! header, the URL), as given or as JSON, the shell or a URL would write them.

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
    let mut text = Vec::new();
    write_all(&mut text, settings, operation, headers, body)?;
    let text = String::from_utf8_lossy(&text);
    out.write_all(hide(&text, &known_secrets(settings)).as_bytes())
}

/// The token and the app secret of the settings (not empty).
fn known_secrets(settings: &Settings) -> Vec<&str> {
    let secret = match &settings.credentials {
        Some(Credentials::Token(token)) => token.expose(),
        Some(Credentials::AkSk { app_secret, .. }) => app_secret.expose(),
        None => "",
    };
    [secret].into_iter().filter(|s| !s.is_empty()).collect()
}

/// `text` with each of `secrets` as `***`: as it is, and in the forms the output writes it
/// (escaped for JSON, quoted for the shell, both, percent-encoded for a URL).
fn hide(text: &str, secrets: &[&str]) -> String {
    let mut forms: Vec<String> = Vec::new();
    for secret in secrets {
        let json = serde_json::to_string(secret).unwrap_or_default();
        let json = json
            .strip_prefix('"')
            .and_then(|j| j.strip_suffix('"'))
            .unwrap_or(&json)
            .to_owned();
        let shell = |s: &str| s.replace('\'', r"'\''");
        forms.extend([
            secret.to_string(),
            shell(secret),
            shell(&json),
            percent_encoded(secret),
            json,
        ]);
    }
    // Longest first, so that no form is hidden only in part.
    forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
    forms.dedup();
    let mut text = text.to_owned();
    for form in forms.iter().filter(|f| !f.is_empty()) {
        if text.contains(form.as_str()) {
            text = text.replace(form.as_str(), "***");
        }
    }
    text
}

/// Every byte but the unreserved ones (RFC 3986) as `%XX`.
fn percent_encoded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

fn write_all(
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
    if is_sandbox(settings) {
        // Its address dies with this command: a curl of it later would find nothing there.
        let fixed = format!("http://127.0.0.1:8080{}", operation.path);
        writeln!(
            out,
            "# {} is the address of a sandbox started for this command only (a port chosen at\n\
             # random, gone when the command ends): this curl cannot reach it afterwards. For a\n\
             # sandbox at a fixed address, run `ccsqm sandbox --port 8080` in another terminal\n\
             # (it prints its app key, app secret and user ID), get a token with `ccsqm token\n\
             # --base-url http://127.0.0.1:8080 ...` into CCSQM_TOKEN, and send to\n\
             # {}",
            settings.base_url.trim_end_matches('/'),
            quote(&fixed)
        )?;
    }
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

/// Whether the settings are those of an in-process sandbox (`--sandbox`), whose address is
/// only good while the command runs.
fn is_sandbox(settings: &Settings) -> bool {
    settings
        .sources
        .iter()
        .any(|(_, origin)| *origin == crate::config::Origin::Flag("--sandbox"))
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
    use super::{hide, quote};

    #[test]
    fn secrets_are_hidden_in_every_form() {
        let secret = r#"s3c'r"e\t /+é"#;
        let text = format!(
            "{secret} {} {} {}",
            serde_json::to_string(secret).unwrap(),
            quote(&serde_json::to_string(secret).unwrap()),
            super::percent_encoded(secret)
        );
        let hidden = hide(&text, &[secret]);
        assert_eq!(hidden, r#"*** "***" '"***"' ***"#);
        assert_eq!(hide("nothing here", &[secret]), "nothing here");
    }

    #[test]
    fn shell_quoting_survives_quotes() {
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("$HOME"), "'$HOME'");
    }
}
