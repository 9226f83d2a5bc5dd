//! The calls `ccsqm transcript` is asked for: arguments, or stdin lines (NDJSON calls as
//! `ccsqm details -o ndjson` writes them, or bare UUIDs).

use std::io::BufRead;

use crate::error::UsageError;

/// The longest line of `ccsqm transcript --stdin` (a call of `ccsqm details -o ndjson` is a
/// few KiB).
pub const MAX_LINE_BYTES: u64 = 1024 * 1024;

/// Reads every `call_uuid` of `input`, one per non-blank line: a JSON object's `call_uuid`, or
/// the line itself (trimmed), with the number of its line. A line that is neither is a usage
/// error naming the line. A line longer than [`MAX_LINE_BYTES`] is refused, not read whole
/// (`/dev/zero`). Whether each is a UUID is [`uuid_error`]'s to say.
pub fn read_lines(mut input: impl BufRead) -> Result<Vec<(usize, String)>, UsageError> {
    use std::io::Read;
    let mut uuids = Vec::new();
    let mut bytes = Vec::new();
    for at in 1.. {
        bytes.clear();
        let read = (&mut input)
            .take(MAX_LINE_BYTES + 1)
            .read_until(b'\n', &mut bytes)
            .map_err(|e| UsageError(format!("stdin, line {at}: {e}")))?;
        if read == 0 {
            break;
        }
        if bytes.len() as u64 > MAX_LINE_BYTES {
            return Err(UsageError(format!(
                "stdin, line {at}: longer than {} KiB",
                MAX_LINE_BYTES / 1024
            )));
        }
        let line = std::str::from_utf8(&bytes).map_err(|e| {
            UsageError(format!(
                "stdin, line {at}: not UTF-8 text (byte {})",
                e.valid_up_to() + 1
            ))
        })?;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let uuid = if line.starts_with('{') {
            let value: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| UsageError(format!("stdin, line {at}: not a JSON object: {e}")))?;
            match value.get("call_uuid").and_then(|u| u.as_str()) {
                Some(uuid) => uuid.to_owned(),
                None => {
                    return Err(UsageError(format!(
                        "stdin, line {at}: a JSON object without a call_uuid string"
                    )))
                }
            }
        } else {
            line.to_owned()
        };
        uuids.push((
            at,
            checked(&uuid).map_err(|e| UsageError(format!("stdin, line {at}: {e}")))?,
        ));
    }
    Ok(uuids)
}

/// A `call_uuid` as given: not empty, without spaces or control characters.
pub fn checked(uuid: &str) -> Result<String, String> {
    if uuid.is_empty() {
        return Err("an empty call_uuid".to_owned());
    }
    if uuid.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a call_uuid holds no spaces or control characters".to_owned());
    }
    Ok(uuid.to_owned())
}

/// Why `uuid` is not a `call_uuid` as the API gives them (`3b9cd7a9-d38c-4aa0-a35d-77f6abb9f497`:
/// 32 hexadecimal digits in groups of 8, 4, 4, 4 and 12, either case); `None` when it is one.
/// A call the API never named cannot be found: refused before any request.
pub fn uuid_error(uuid: &str) -> Option<String> {
    // The `uuid` crate parses; the hyphenated form is the only one the API gives (its
    // braced, URN and plain forms would not name a call).
    let hyphenated = uuid.len() == 36 && uuid.bytes().filter(|b| *b == b'-').count() == 4;
    match uuid::Uuid::try_parse(uuid) {
        Ok(_) if hyphenated => None,
        _ => Some(format!(
            "{:?} is not a call_uuid: a call_uuid is a UUID such as \
             3b9cd7a9-d38c-4aa0-a35d-77f6abb9f497 (the CALL UUID column of `ccsqm details`)",
            ccsqm_client::visible(uuid)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_told_from_other_text() {
        for good in [
            "3b9cd7a9-d38c-4aa0-a35d-77f6abb9f497",
            "3B9CD7A9-D38C-4AA0-A35D-77F6ABB9F497",
            "00000000-0000-0000-0000-000000000000",
        ] {
            assert_eq!(uuid_error(good), None, "{good}");
        }
        for bad in [
            "u-1",
            "",
            "3b9cd7a9d38c4aa0a35d77f6abb9f497",
            "{3b9cd7a9-d38c-4aa0-a35d-77f6abb9f497}",
            "urn:uuid:3b9cd7a9-d38c-4aa0-a35d-77f6abb9f497",
            "3b9cd7a9-d38c-4aa0-a35d-77f6abb9f49g",
            "3b9cd7a9-d38c-4aa0-a35d-77f6abb9f4977",
            "3b9cd7a9-d38c4-aa0-a35d-77f6abb9f497",
        ] {
            assert!(uuid_error(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn ndjson_calls_and_bare_uuids_read() {
        let input = "{\"call_group_id\":\"g\",\"call_uuid\":\"u-1\",\"status\":2}\n\n  u-2  \n\
                     {\"call_uuid\":\"u-3\"}\n";
        let read = read_lines(input.as_bytes()).unwrap();
        assert_eq!(
            read,
            [
                (1, "u-1".to_owned()),
                (3, "u-2".to_owned()),
                (4, "u-3".to_owned())
            ]
        );
    }

    #[test]
    fn bad_lines_are_named() {
        for (input, line) in [
            ("u-1\n{\"call_id\":\"x\"}\n", "line 2"),
            ("{not json\n", "line 1"),
            ("u-1\nu 2\n", "line 2"),
            ("{\"call_uuid\": 5}\n", "line 1"),
        ] {
            let error = read_lines(input.as_bytes()).unwrap_err().0;
            assert!(error.contains(line), "{input:?}: {error}");
        }
    }

    #[test]
    fn a_line_has_a_bound() {
        let long = format!("u-1\n{}\n", "x".repeat(MAX_LINE_BYTES as usize + 1));
        let error = read_lines(long.as_bytes()).unwrap_err().0;
        assert!(
            error.contains("line 2") && error.contains("longer"),
            "{error}"
        );
        let endless = std::io::BufReader::new(std::io::repeat(b'0'));
        assert!(read_lines(endless).is_err());
        let error = read_lines(&b"u-1\n\xff\n"[..]).unwrap_err().0;
        assert!(
            error.contains("line 2") && error.contains("UTF-8"),
            "{error}"
        );
    }
}
