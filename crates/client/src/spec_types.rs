//! The types of the spec's facts ([`crate::spec`], generated from `spec/ccsqm.yaml`).

/// What the spec says of an operation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OperationSpec {
    /// The `operationId`, e.g. `appraisecall_details`.
    pub id: &'static str,
    /// The HTTP method, upper case.
    pub method: &'static str,
    /// The path, with its full prefix.
    pub path: &'static str,
    /// The one-line summary.
    pub summary: &'static str,
    /// The description.
    pub description: &'static str,
    /// Whether it is sent with `Authorization: Bearer {token}`.
    pub authenticated: bool,
    /// The header parameters.
    pub headers: &'static [Field],
    /// The JSON request body's schema.
    pub body: Option<&'static Schema>,
    /// The JSON schema of a successful response.
    pub response: Option<&'static Schema>,
}

/// An object schema of the spec.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Schema {
    /// Its name under `components.schemas`.
    pub name: &'static str,
    /// Its description.
    pub description: &'static str,
    /// Its properties, in the spec's order.
    pub fields: &'static [Field],
}

impl Schema {
    /// The field named `name`.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// A property of an object schema, or a header parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Field {
    /// The name, as sent.
    pub name: &'static str,
    /// The spec's description (of the referenced schema, for a `$ref`).
    pub description: &'static str,
    /// What values it holds.
    pub kind: Kind,
    /// Whether the key is required.
    pub required: bool,
    /// Whether it may be `null`.
    pub nullable: bool,
    /// The schema's `minimum`.
    pub minimum: Option<f64>,
    /// The schema's `maximum`.
    pub maximum: Option<f64>,
    /// The schema's `example`, as JSON text.
    pub example: Option<&'static str>,
    /// The values of the schema's own `enum` (not of a referenced enumeration, see
    /// [`Kind::Enum`]), each as JSON text; empty when it has none.
    pub values: &'static [&'static str],
}

/// What values a [`Field`] holds, from its schema's type and format.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// A string.
    String,
    /// A credential (the `Secret` schema, format `password`): never shown.
    Secret,
    /// An integer.
    Integer,
    /// An integer marked `x-unix-seconds`: a Unix timestamp in seconds.
    UnixSeconds,
    /// A number.
    Number,
    /// A boolean.
    Boolean,
    /// An integer enumeration.
    Enum(&'static Enumeration),
    /// An array of items of a kind.
    Array(&'static Kind),
    /// An object of a schema.
    Object(&'static Schema),
    /// Anything else.
    Other,
}

/// An integer enumeration of the spec (a schema with `x-enum-varnames`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Enumeration {
    /// Its name under `components.schemas`.
    pub name: &'static str,
    /// Its name in words, e.g. `inspection status`.
    pub kind: &'static str,
    /// Its description.
    pub description: &'static str,
    /// The documented values, in the spec's order.
    pub values: &'static [EnumValue],
    /// Its named groups of values (`x-enum-groups`), e.g. the inspection statuses
    /// `in-progress`, `succeeded`, `failed` and `final`; empty when it has none.
    pub groups: &'static [EnumGroup],
}

/// A named group of values of an [`Enumeration`] (its `x-enum-groups`), e.g. every failed
/// inspection status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnumGroup {
    /// Its kebab-case name, e.g. `failed`: distinct from every value's name.
    pub name: &'static str,
    /// What its values have in common and why each is there (said `undocumented` where the
    /// vendor is silent).
    pub description: &'static str,
    /// The codes of its values, in the spec's order.
    pub codes: &'static [i64],
}

impl EnumGroup {
    /// Whether `code` is one of the group's.
    pub const fn contains(&self, code: i64) -> bool {
        let mut i = 0;
        while i < self.codes.len() {
            if self.codes[i] == code {
                return true;
            }
            i += 1;
        }
        false
    }
}

/// A documented value of an [`Enumeration`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnumValue {
    /// The integer code.
    pub code: i64,
    /// Its `x-enum-varnames` entry, e.g. `InspectionSucceeded`.
    pub variant: &'static str,
    /// Its kebab-case name, e.g. `inspection-succeeded`.
    pub name: &'static str,
    /// Its `x-enum-descriptions` entry.
    pub description: &'static str,
}

impl Enumeration {
    /// The documented codes, in the spec's order.
    pub fn codes(&self) -> impl Iterator<Item = i64> + 'static {
        self.values.iter().map(|v| v.code)
    }

    /// The group named `name` (exactly, as in the spec), if any.
    pub fn group(&self, name: &str) -> Option<&'static EnumGroup> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// The value of `code`, if it is documented.
    pub fn value(&self, code: i64) -> Option<&'static EnumValue> {
        self.values.iter().find(|v| v.code == code)
    }
}

impl OperationSpec {
    /// The header parameter `name` (ASCII case ignored, as HTTP does).
    pub const fn header(&self, name: &str) -> Option<&'static Field> {
        let headers = self.headers;
        let mut i = 0;
        while i < headers.len() {
            if same_ascii_case_insensitive(headers[i].name.as_bytes(), name.as_bytes()) {
                return Some(&headers[i]);
            }
            i += 1;
        }
        None
    }
}

impl Field {
    /// The example, when it is a whole number (for constants derived from the spec).
    pub const fn example_integer(&self) -> Option<i64> {
        let Some(text) = self.example else {
            return None;
        };
        let bytes = text.as_bytes();
        if bytes.is_empty() {
            return None;
        }
        let (negative, mut i) = if bytes[0] == b'-' {
            (true, 1)
        } else {
            (false, 0)
        };
        if i == bytes.len() {
            return None;
        }
        let mut value: i64 = 0;
        while i < bytes.len() {
            let digit = bytes[i];
            if !digit.is_ascii_digit() {
                return None;
            }
            value = match value.checked_mul(10) {
                Some(v) => match v.checked_add((digit - b'0') as i64) {
                    Some(v) => v,
                    None => return None,
                },
                None => return None,
            };
            i += 1;
        }
        Some(if negative { -value } else { value })
    }
}

/// `a` and `b` equal, ASCII case ignored (in a `const fn`).
const fn same_ascii_case_insensitive(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if !a[i].eq_ignore_ascii_case(&b[i]) {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use crate::spec::TOKEN_BY_AK_SK;

    #[test]
    fn the_token_lifetimes_are_the_specs() {
        let expire = TOKEN_BY_AK_SK.header("x-token-expire").unwrap();
        assert_eq!(expire.name, "X-Token-Expire");
        assert_eq!(
            crate::MAX_TOKEN_LIFETIME.as_secs_f64(),
            expire.maximum.unwrap()
        );
        assert_eq!(
            crate::DEFAULT_TOKEN_LIFETIME.as_secs() as i64,
            expire.example_integer().unwrap()
        );
        assert!(TOKEN_BY_AK_SK.header("X-Nothing").is_none());
    }

    #[test]
    fn examples_read_as_integers_only_when_they_are() {
        let field = |example| super::Field {
            example,
            ..TOKEN_BY_AK_SK.headers[0]
        };
        assert_eq!(field(Some("600")).example_integer(), Some(600));
        assert_eq!(field(Some("-12")).example_integer(), Some(-12));
        for bad in ["", "-", "6.5", "\"600\"", "99999999999999999999"] {
            assert_eq!(field(Some(bad)).example_integer(), None, "{bad}");
        }
        assert_eq!(field(None).example_integer(), None);
    }
}
