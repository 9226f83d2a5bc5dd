//! Shared helpers of the end-to-end tests in `tests/tests/`.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is one level below the root")
        .to_path_buf()
}

/// `spec/ccsqm.yaml` as JSON.
pub fn spec() -> Value {
    let text = std::fs::read_to_string(root().join("spec/ccsqm.yaml")).expect("reading the spec");
    serde_saphyr::from_str(&text).expect("the spec is YAML")
}

/// A fixture of `tests/fixtures/`, as JSON.
pub fn fixture(name: &str) -> Value {
    let path = root().join("tests/fixtures").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Asserts that `written` (what our types serialized) says the same as `original` (an example
/// of the vendor's): the same keys and values, except that an optional field the original sends
/// as `null` may be left out, which the spec defines as the same request ("Absent or `null`
/// optional fields do not filter"). `required_nullable` names the fields that must be written
/// as an explicit `null`.
pub fn assert_same_json(original: &Value, written: &Value, required_nullable: &[&str], at: &str) {
    match (original, written) {
        (Value::Object(o), Value::Object(w)) => {
            for (key, value) in o {
                let here = format!("{at}.{key}");
                match (value, w.get(key)) {
                    (Value::Null, None) => assert!(
                        !required_nullable.contains(&key.as_str()),
                        "{here}: a mandatory field must be written as null"
                    ),
                    (_, None) => panic!("{here}: missing from what was written"),
                    (_, Some(v)) => assert_same_json(value, v, required_nullable, &here),
                }
            }
            for key in w.keys() {
                assert!(
                    o.contains_key(key),
                    "{at}.{key}: written but not in the original"
                );
            }
        }
        (Value::Array(o), Value::Array(w)) => {
            assert_eq!(o.len(), w.len(), "{at}: array length");
            for (i, (o, w)) in o.iter().zip(w).enumerate() {
                assert_same_json(o, w, required_nullable, &format!("{at}[{i}]"));
            }
        }
        _ => assert_eq!(original, written, "{at}"),
    }
}
