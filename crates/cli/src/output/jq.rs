//! `--jq EXPR`: a jq filter run on the JSON output, as `gh --jq` does, with jaq (a maintained
//! jq implementation in Rust: its parser, compiler and standard library), compiled once before
//! any request and run on each call in turn, so memory stays flat with `--all`.

use std::io::{self, Write};

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{data, Compiler, Ctx, Vars};
use jaq_json::Val;
use serde::Deserialize;
use serde_json::Value;

use crate::UsageError;

type Data = data::JustLut<Val>;

/// Filters left out of jq's standard library: `env` would print the environment, which
/// holds the app secret (`CCSQM_APP_SECRET`) and the token (`CCSQM_TOKEN`).
const LEFT_OUT: [&str; 1] = ["env"];

/// A compiled filter.
pub struct Jq {
    filter: jaq_core::Filter<Data>,
}

impl Jq {
    /// Compiles `code`; a syntax error or an unknown filter is bad input (exit 2).
    pub fn compile(code: &str) -> Result<Self, UsageError> {
        let bad = |why: String| {
            UsageError(format!(
                "--jq {:?}: {why}",
                ccsqm_client::visible(code).as_ref()
            ))
        };
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs::<Data>()
            .chain(jaq_std::funs::<Data>())
            .chain(jaq_json::funs::<Data>())
            .filter(|(name, _, _)| !LEFT_OUT.contains(name));
        let loader = Loader::new(defs);
        let arena = Arena::default();
        let modules = loader
            .load(&arena, File { code, path: () })
            .map_err(|errors| bad(load_errors(code, errors)))?;
        let filter = Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errors| {
                let undefined: Vec<String> = errors
                    .into_iter()
                    .flat_map(|(_, errs)| errs)
                    .map(|(name, what)| format!("{} {name} is not defined", what.as_str()))
                    .collect();
                bad(undefined.join("; "))
            })?;
        Ok(Jq { filter })
    }

    /// Runs the filter on `input`, giving each result to `each`. An error of the filter (as
    /// `.a.b` of a number) is an error of the output.
    pub fn run(
        &self,
        input: &Value,
        mut each: impl FnMut(Val) -> io::Result<()>,
    ) -> io::Result<()> {
        let input = Val::deserialize(input).map_err(io::Error::other)?;
        let ctx = Ctx::<Data>::new(&self.filter.lut, Vars::new([]));
        for result in self.filter.id.run((ctx, input)) {
            match result {
                Ok(value) => each(value)?,
                Err(exn) => {
                    let why = match exn.get_err() {
                        Ok(error) => error.to_string(),
                        Err(_) => "the filter stopped (halt)".to_owned(),
                    };
                    return Err(io::Error::other(format!("--jq: {why}")));
                }
            }
        }
        Ok(())
    }
}

/// Writes a result on its own line as `gh --jq` does: a string raw (escaped by
/// [`ccsqm_client::visible`] when `terminal`: server text never drives it), anything else as
/// compact JSON.
pub fn write_line(out: &mut dyn Write, value: &Val, terminal: bool) -> io::Result<()> {
    match value {
        Val::TStr(bytes) => {
            let text = String::from_utf8_lossy(bytes);
            match terminal {
                true => out.write_all(ccsqm_client::visible(&text).as_bytes())?,
                false => out.write_all(text.as_bytes())?,
            }
        }
        other => write!(out, "{other}")?,
    }
    out.write_all(b"\n")
}

/// Writes a result as JSON (an element of `--all -o json`'s array).
pub fn write_json(out: &mut dyn Write, value: &Val) -> io::Result<()> {
    write!(out, "{value}")
}

/// The syntax errors of a filter, each with where it was found.
fn load_errors(code: &str, errors: jaq_core::load::Errors<&str, ()>) -> String {
    use jaq_core::load::Error;
    let at = |rest: &str| {
        let offset = code.len().saturating_sub(rest.len());
        let near: String = rest.chars().take(12).collect();
        match near.is_empty() {
            true => format!("at the end (character {})", offset + 1),
            false => format!(
                "at character {}: {:?}",
                offset + 1,
                ccsqm_client::visible(&near).as_ref()
            ),
        }
    };
    let mut messages = Vec::new();
    for (_, error) in errors {
        match error {
            Error::Io(errors) => {
                messages.extend(errors.into_iter().map(|(path, e)| format!("{path}: {e}")))
            }
            Error::Lex(errors) => messages.extend(
                errors
                    .into_iter()
                    .map(|(expect, rest)| format!("expected {} {}", expect.as_str(), at(rest))),
            ),
            Error::Parse(errors) => messages.extend(
                errors
                    .into_iter()
                    .map(|(expect, rest)| format!("expected {} {}", expect.as_str(), at(rest))),
            ),
        }
    }
    messages.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn outputs(code: &str, input: Value) -> Vec<String> {
        let jq = Jq::compile(code).unwrap();
        let mut lines = Vec::new();
        jq.run(&input, |v| {
            let mut out = Vec::new();
            write_line(&mut out, &v, false)?;
            lines.push(String::from_utf8(out).unwrap());
            Ok(())
        })
        .unwrap();
        lines
    }

    #[test]
    fn results_are_lines_strings_raw() {
        let call = json!({"call_uuid": "u-1", "status": 2, "duration": 164.22, "tags": [1, 2]});
        assert_eq!(outputs(".call_uuid", call.clone()), ["u-1\n"]);
        assert_eq!(outputs(".duration", call.clone()), ["164.22\n"]);
        assert_eq!(outputs(".tags[]", call.clone()), ["1\n", "2\n"]);
        assert_eq!(
            outputs("{id: .call_uuid, s: .status}", call.clone()),
            ["{\"id\":\"u-1\",\"s\":2}\n"]
        );
        assert_eq!(
            outputs("select(.status == 9)", call.clone()),
            Vec::<String>::new()
        );
        assert_eq!(outputs(".call_uuid | ascii_upcase", call), ["U-1\n"]);
    }

    #[test]
    fn strings_for_a_terminal_are_escaped() {
        let jq = Jq::compile(".").unwrap();
        let mut out = Vec::new();
        jq.run(&json!("\u{1b}]0;x\u{7}"), |v| {
            write_line(&mut out, &v, true)
        })
        .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "\\u{1b}]0;x\\u{7}\n");
    }

    #[test]
    fn bad_filters_are_refused_with_why() {
        for bad in [".[", "foo_bar_baz", ".a |", "env", "{"] {
            let err = Jq::compile(bad).err().unwrap_or_else(|| panic!("{bad}")).0;
            assert!(err.starts_with("--jq "), "{err}");
        }
        let err = Jq::compile("nosuchfilter(1)").err().unwrap().0;
        assert!(err.contains("nosuchfilter"), "{err}");
    }

    #[test]
    fn errors_of_the_filter_are_errors() {
        let jq = Jq::compile(".a.b").unwrap();
        let err = jq.run(&json!({"a": 1}), |_| Ok(())).unwrap_err();
        assert!(err.to_string().starts_with("--jq: "), "{err}");
    }
}
