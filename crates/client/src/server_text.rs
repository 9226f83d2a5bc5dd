//! Server text is data: before any of it reaches an error message, a log or a terminal, its
//! credentials are removed ([`redact`]) and its control characters made visible ([`visible`]).

use std::borrow::Cow;

/// What a removed credential is replaced with.
pub const REDACTED: &str = "***";

/// `text` with every occurrence of each of `secrets` (as is, and as JSON would escape it) and
/// the value of every `Bearer <value>` (any case) replaced by `***`. Empty secrets are ignored.
///
/// The client applies it, with its own token(s) and app secret, to every piece of server text
/// an [`ApiError`](crate::ApiError) or a log line can carry, whatever the status.
///
/// ```
/// let text = r#"{"echo": {"Authorization": "Bearer abc.def", "app_secret": "s3cr3t"}}"#;
/// assert_eq!(
///     ccsqm_client::redact(text, &["s3cr3t"]),
///     r#"{"echo": {"Authorization": "Bearer ***", "app_secret": "***"}}"#
/// );
/// ```
pub fn redact<'a>(text: &'a str, secrets: &[&str]) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(text);
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        let escaped = serde_json::to_string(secret).unwrap_or_default();
        let escaped = escaped
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or("");
        for form in [*secret, escaped] {
            if !form.is_empty() && out.contains(form) {
                out = Cow::Owned(out.replace(form, REDACTED));
            }
        }
    }
    match redact_bearer(&out) {
        Some(replaced) => Cow::Owned(replaced),
        None => out,
    }
}

/// `bytes` with every occurrence of each of `secrets` (as is, and as JSON would escape it)
/// replaced by `***`; `None` when there is none. For bodies, which need not be UTF-8.
pub(crate) fn redact_bytes(bytes: &[u8], secrets: &[&str]) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        let escaped = serde_json::to_string(secret).unwrap_or_default();
        let escaped = escaped
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or("");
        let forms = [secret.as_bytes(), escaped.as_bytes()];
        for (i, form) in forms.into_iter().enumerate() {
            if form.is_empty() || (i == 1 && form == forms[0]) {
                continue;
            }
            let current = out.as_deref().unwrap_or(bytes);
            if let Some(replaced) = replace_all(current, form, REDACTED.as_bytes()) {
                out = Some(replaced);
            }
        }
    }
    out
}

/// `haystack` with every `needle` replaced by `with`; `None` when there is none. (memchr's
/// `memmem` finds them: pages are scanned once per secret, at memory speed.)
fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Option<Vec<u8>> {
    let mut found = memchr::memmem::find_iter(haystack, needle).peekable();
    found.peek()?;
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = 0;
    for at in found {
        if at < rest {
            continue; // overlapping with the previous one, already replaced
        }
        out.extend_from_slice(&haystack[rest..at]);
        out.extend_from_slice(with);
        rest = at + needle.len();
    }
    out.extend_from_slice(&haystack[rest..]);
    Some(out)
}

/// The characters that can be part of a credential after `Bearer ` (RFC 6750's `b64token`,
/// and anything else visible but the quotes, brackets and separators that end a value).
fn in_credential(c: char) -> bool {
    !c.is_whitespace()
        && !c.is_control()
        && !matches!(
            c,
            '"' | '\'' | '`' | '<' | '>' | ',' | ';' | '\\' | ')' | ']' | '}' | '(' | '[' | '{'
        )
}

/// `text` with the value after each `Bearer` (any case, then blanks) replaced by `***`; `None`
/// when there is none.
fn redact_bearer(text: &str) -> Option<String> {
    const WORD: &str = "bearer";
    let lower = text.to_ascii_lowercase();
    if !lower.contains(WORD) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = 0; // text[..rest] is handled
    let mut changed = false;
    let mut from = 0;
    while let Some(found) = lower[from..].find(WORD) {
        let word_end = from + found + WORD.len();
        from = word_end;
        let blanks = text[word_end..]
            .find(|c: char| c != ' ' && c != '\t')
            .unwrap_or(text.len() - word_end);
        if blanks == 0 {
            continue;
        }
        let value_start = word_end + blanks;
        let value_len = text[value_start..]
            .find(|c: char| !in_credential(c))
            .unwrap_or(text.len() - value_start);
        if value_len == 0 || &text[value_start..value_start + value_len] == REDACTED {
            continue;
        }
        out.push_str(&text[rest..value_start]);
        out.push_str(REDACTED);
        rest = value_start + value_len;
        from = rest;
        changed = true;
    }
    changed.then(|| {
        out.push_str(&text[rest..]);
        out
    })
}

/// Whether a character must not reach a terminal as is: the C0 and C1 controls, DEL, and the
/// bidirectional controls (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069).
pub fn is_unsafe_for_terminal(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with its control and bidirectional-control characters written visibly, as Rust
/// escapes them (`\n`, `\r`, `\t`, else `\u{1b}`), so that server text printed on a terminal
/// cannot move the cursor, recolour or retitle it, forge lines, or reverse text. Everything
/// else is kept as is.
///
/// ```
/// assert_eq!(ccsqm_client::visible("a\u{1b}]0;pwned\u{7}b\r\n"), r"a\u{1b}]0;pwned\u{7}b\r\n");
/// assert_eq!(ccsqm_client::visible("\u{202E}txt.exe"), r"\u{202e}txt.exe");
/// assert_eq!(ccsqm_client::visible("Zoë 李"), "Zoë 李");
/// ```
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe_for_terminal) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe_for_terminal(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_bearer_values_are_removed_in_any_position() {
        let cases = [
            ("Bearer abc", "Bearer ***"),
            (
                "authorization: bearer   x.y-z_~+/==, next",
                "authorization: bearer   ***, next",
            ),
            ("BEARER\tq1;", "BEARER\t***;"),
            ("Bearer", "Bearer"),
            ("Bearer ", "Bearer "),
            ("Bearer ***", "Bearer ***"),
            ("xBearer y Bearer z", "xBearer *** Bearer ***"),
            ("<b>Bearer t0k</b>", "<b>Bearer ***</b>"),
            ("Ünïcode bearer ж", "Ünïcode bearer ***"),
        ];
        for (text, expected) in cases {
            assert_eq!(redact(text, &[]), expected, "{text:?}");
        }
        assert_eq!(redact("k=tok-1&s=tok-1", &["tok-1"]), "k=***&s=***");
        assert_eq!(redact(r#"{"s":"a\"b"}"#, &["a\"b"]), r#"{"s":"***"}"#);
        assert_eq!(redact("nothing here", &["", "x-y"]), "nothing here");
        assert_eq!(
            redact_bytes(b"\xff tok-1 \xfe tok-1", &["tok-1"]).unwrap(),
            b"\xff *** \xfe ***"
        );
        assert_eq!(redact_bytes(b"clean", &["tok-1"]), None);
    }

    #[test]
    fn control_and_bidi_characters_are_shown_escaped() {
        for c in [
            '\u{0}', '\u{7}', '\u{1b}', '\u{7f}', '\u{85}', '\u{9b}', '\u{202a}', '\u{202e}',
            '\u{2066}', '\u{2069}', '\u{200e}', '\u{200f}', '\u{61c}',
        ] {
            let shown = visible(&format!("a{c}b")).into_owned();
            assert!(!shown.chars().any(is_unsafe_for_terminal), "{c:?}: {shown}");
            assert!(
                shown.starts_with('a') && shown.ends_with('b') && shown.contains("\\u{"),
                "{shown}"
            );
        }
        assert!(matches!(visible("plain ✓"), Cow::Borrowed(_)));
    }
}
