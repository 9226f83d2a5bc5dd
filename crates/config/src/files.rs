//! Files of settings and secrets: read with a bound, refused when others can read a secret.

use std::path::Path;

use ccsqm_client::Secret;

use crate::Error;

/// The largest config file read (a larger one is refused, not parsed).
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;
/// The largest secret file read.
pub const MAX_SECRET_BYTES: u64 = 64 * 1024;

/// `word` as one word for a POSIX shell, to paste in a command a message suggests: bare when
/// it needs no quotes, else in single quotes (a `'` as `'\''`); control characters are shown
/// escaped ([`ccsqm_client::visible`]) so that the name cannot drive the terminal.
pub fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    let quoted = match !word.is_empty() && word.chars().all(plain) {
        true => word.to_owned(),
        false => format!("'{}'", word.replace('\'', r"'\''")),
    };
    ccsqm_client::visible(&quoted).into_owned()
}

/// A file's text: at most `max` bytes, UTF-8. The error says why not, without its content.
pub fn read_text(path: &Path, max: u64) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if meta.is_dir() {
        return Err("it is a directory".into());
    }
    read_bounded(file, max)
}

/// A reader's text (a file, stdin): at most `max` bytes, UTF-8; one byte more is read to know
/// it is larger. The error says why not, without its content.
pub fn read_bounded(reader: impl std::io::Read, max: u64) -> Result<String, String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    reader
        .take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max {
        return Err(format!("it is larger than {} KiB", max / 1024));
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "it is not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// A secret from a file: its content without the surrounding blanks (a trailing newline).
pub fn read_secret(path: &Path) -> Result<Secret, Error> {
    refuse_if_others_can_read(path)?;
    let text = read_text(path, MAX_SECRET_BYTES)
        .map_err(|why| Error::Invalid(format!("the secret file {}: {why}", path.display())))?;
    let secret = text.trim();
    if secret.is_empty() {
        return Err(Error::Invalid(format!(
            "the secret file {} is empty",
            path.display()
        )));
    }
    Ok(Secret::new(secret))
}

/// Refuses a file that holds a secret when other users can read it (Unix: any permission bit
/// of the group or others).
#[cfg(unix)]
pub fn refuse_if_others_can_read(path: &Path) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(Error::Invalid(format!(
            "{} holds a secret and other users can read it (mode {:o}); run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            shell_word(&path.to_string_lossy())
        )));
    }
    Ok(())
}

/// Refuses a file that holds a secret when other users can read it (not checked here).
#[cfg(not(unix))]
pub fn refuse_if_others_can_read(_: &Path) -> Result<(), Error> {
    Ok(())
}
