//! A transcript's segment (or any value that serializes as a map) as the values of its row,
//! straight from its serialization: each field it serializes goes to its column's slot (found by name among the
//! table's columns), with no JSON tree of the whole call in between (that tree, a map of
//! owned keys per call, was most of a sync's cost of building rows). Whatever the type
//! serializes, the row is the one [`SqlValue::from_json`] makes of its JSON: fields without a
//! column are left out, absent ones are NULL. A call's row is built by moving its fields
//! (`call_row`, generated, with [`text`] and [`serialized`] here), checked against
//! the row of its serialization over a sandbox's calls.

use serde::ser::{self, Impossible, Serialize, SerializeMap, SerializeStruct};
use serde_json::Value;

use crate::schema::{Column, SqlType, SqlValue};

/// The value of a text column whose field is a plain string (moved, not copied): a `String`,
/// or an `Option` of one.
pub fn text(value: impl Into<Option<String>>) -> SqlValue {
    value.into().map_or(SqlValue::Null, SqlValue::Text)
}

/// The value of `unknown_fields` (what the server sent with a call that the spec does not
/// name): its JSON object as text, `NULL` when empty.
pub fn unknown_fields(fields: serde_json::Map<String, serde_json::Value>) -> SqlValue {
    if fields.is_empty() {
        return SqlValue::Null;
    }
    SqlValue::Text(serde_json::Value::Object(fields).to_string())
}

/// The value of any other field for a column of type `sql`: the value of its JSON, as in the
/// row of a whole call's serialization (absent or `null`: NULL); an error if it has no JSON.
pub fn serialized<T: Serialize + ?Sized>(
    value: &T,
    sql: SqlType,
) -> Result<SqlValue, serde_json::Error> {
    match value.serialize(Cell(sql)) {
        Ok(value) => Ok(value),
        Err(_) => Ok(SqlValue::from_json(Some(serde_json::to_value(value)?), sql)),
    }
}

/// The row of `value` in a table of `columns`, in their order; an error if it cannot be
/// serialized at all (no call or segment of the client's types fails).
pub fn row(
    value: &impl Serialize,
    columns: &'static [Column],
) -> Result<Vec<SqlValue>, serde_json::Error> {
    let mut row = vec![SqlValue::Null; columns.len()];
    match value.serialize(Row {
        row: &mut row,
        columns,
    }) {
        Ok(()) => Ok(row),
        // Not a map of fields (no call or segment is): through its JSON, which says what it is.
        Err(_) => {
            let json = serde_json::to_value(value)?;
            Ok(columns
                .iter()
                .map(|c| SqlValue::from_json(json.get(c.name).cloned(), c.sql))
                .collect())
        }
    }
}

/// Serializes a map or struct into the row.
struct Row<'a> {
    row: &'a mut [SqlValue],
    columns: &'static [Column],
}

/// A map's or struct's fields, one at a time.
struct Fields<'a> {
    row: &'a mut [SqlValue],
    columns: &'static [Column],
    /// The column of the key just serialized (a map's key comes before its value).
    next: Option<usize>,
}

impl Fields<'_> {
    /// The column of the field `name`.
    fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    fn set<T: Serialize + ?Sized>(&mut self, at: Option<usize>, value: &T) -> Result<(), Error> {
        if let Some(at) = at {
            let sql = self.columns[at].sql;
            self.row[at] = serialized(value, sql).map_err(|e| Error(e.to_string()))?;
        }
        Ok(())
    }
}

#[derive(Debug)]
struct Error(String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

fn not_a_map<T>() -> Result<T, Error> {
    Err(Error("a call serializes as a map of its fields".into()))
}

/// The methods of a serializer that refuse what is neither a map, a struct, nor text (the
/// caller falls back to the JSON): the same in [`Row`] and [`KeyName`].
/// The methods of a serializer that refuse, with `$refusal`, a variant with a value and every
/// list or tuple form (in [`Row`], [`KeyName`] and [`Cell`]).
macro_rules! refuse_compounds {
    ($refusal:expr) => {
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result<Self::Ok, Error> {
            $refusal
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
            $refusal
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
            $refusal
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, Error> {
            $refusal
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, Error> {
            $refusal
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, Error> {
            $refusal
        }
    };
}

macro_rules! refuse_the_rest {
    () => {
        refuse_the_rest!(@values
            serialize_bool(bool),
            serialize_i8(i8),
            serialize_i16(i16),
            serialize_i32(i32),
            serialize_i64(i64),
            serialize_u8(u8),
            serialize_u16(u16),
            serialize_u32(u32),
            serialize_u64(u64),
            serialize_f32(f32),
            serialize_f64(f64),
            serialize_char(char),
            serialize_bytes(&[u8]),
            serialize_none(),
            serialize_unit(),
            serialize_unit_struct(&'static str),
            serialize_unit_variant(&'static str, u32, &'static str),
        );

        fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<Self::Ok, Error> {
            not_a_map()
        }
        refuse_compounds!(not_a_map());
    };
    (@values $($method:ident($($arg:ty),*)),* $(,)?) => {
        $(fn $method(self, $(_: $arg),*) -> Result<Self::Ok, Self::Error> { not_a_map() })*
    };
}

impl<'a> ser::Serializer for Row<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Impossible<(), Error>;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Fields<'a>;
    type SerializeStruct = Fields<'a>;
    type SerializeStructVariant = Impossible<(), Error>;

    fn serialize_map(self, _: Option<usize>) -> Result<Fields<'a>, Error> {
        Ok(Fields {
            row: self.row,
            columns: self.columns,
            next: None,
        })
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Fields<'a>, Error> {
        self.serialize_map(None)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_str(self, _: &str) -> Result<(), Error> {
        not_a_map()
    }

    refuse_the_rest!();
}

impl SerializeMap for Fields<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        // A key is a field's name; one that is not text has no column.
        self.next = match serde_json::to_value(key) {
            Ok(Value::String(name)) => self.column(&name),
            _ => None,
        };
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let at = self.next.take();
        self.set(at, value)
    }

    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), Error> {
        // The usual key, a field's name, is read without a copy.
        let at = match key.serialize(KeyName(self.columns)) {
            Ok(at) => at,
            Err(_) => {
                self.serialize_key(key)?;
                self.next.take()
            }
        };
        self.set(at, value)
    }

    fn end(self) -> Result<(), Error> {
        Ok(())
    }
}

impl SerializeStruct for Fields<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.set(self.column(name), value)
    }

    fn end(self) -> Result<(), Error> {
        Ok(())
    }
}

/// A value that serializes as one number, boolean or text, or as nothing: its value for a
/// column of this type, the one [`SqlValue::from_json`] makes of its JSON, without the JSON.
/// Anything else (a list, a map, bytes, an `f32`) is refused, and read through its JSON.
struct Cell(SqlType);

impl Cell {
    /// A number or boolean, whose JSON text is `text` (a column of another type holds it).
    fn scalar(
        self,
        integer: Option<i64>,
        real: Option<f64>,
        text: impl FnOnce() -> String,
    ) -> SqlValue {
        match (self.0, integer, real) {
            (SqlType::Integer, Some(i), _) => SqlValue::Integer(i),
            (SqlType::Real, _, Some(f)) => SqlValue::Real(f),
            _ => SqlValue::Text(text()),
        }
    }
}

/// Serializer methods of integers that are serialized as the `i64` they widen to.
macro_rules! widen_to_i64 {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(fn $method(self, v: $ty) -> Result<SqlValue, Error> {
            self.serialize_i64(v.into())
        })*
    };
}

impl ser::Serializer for Cell {
    type Ok = SqlValue;
    type Error = Error;
    type SerializeSeq = Impossible<SqlValue, Error>;
    type SerializeTuple = Impossible<SqlValue, Error>;
    type SerializeTupleStruct = Impossible<SqlValue, Error>;
    type SerializeTupleVariant = Impossible<SqlValue, Error>;
    type SerializeMap = Impossible<SqlValue, Error>;
    type SerializeStruct = Impossible<SqlValue, Error>;
    type SerializeStructVariant = Impossible<SqlValue, Error>;

    fn serialize_bool(self, v: bool) -> Result<SqlValue, Error> {
        Ok(match self.0 {
            SqlType::Boolean => SqlValue::Boolean(v),
            _ => SqlValue::Text(v.to_string()),
        })
    }
    // Every smaller integer is an i64.
    widen_to_i64!(
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
    );
    fn serialize_i64(self, v: i64) -> Result<SqlValue, Error> {
        Ok(self.scalar(Some(v), Some(v as f64), || v.to_string()))
    }
    fn serialize_u64(self, v: u64) -> Result<SqlValue, Error> {
        Ok(self.scalar(i64::try_from(v).ok(), Some(v as f64), || v.to_string()))
    }
    fn serialize_f32(self, _: f32) -> Result<SqlValue, Error> {
        // Its JSON is the `f64` of its shortest text: read through it.
        Err(Error("an f32".into()))
    }
    fn serialize_f64(self, v: f64) -> Result<SqlValue, Error> {
        // JSON has no infinite numbers: `null`.
        Ok(match serde_json::Number::from_f64(v) {
            Some(number) => self.scalar(None, Some(v), || number.to_string()),
            None => SqlValue::Null,
        })
    }
    fn serialize_char(self, v: char) -> Result<SqlValue, Error> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<SqlValue, Error> {
        Ok(match self.0 {
            SqlType::Text => SqlValue::Text(v.to_owned()),
            // Another column holds its JSON text, quoted.
            _ => SqlValue::Text(serde_json::Value::from(v).to_string()),
        })
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<SqlValue, Error> {
        Err(Error("bytes".into()))
    }
    fn serialize_none(self) -> Result<SqlValue, Error> {
        Ok(SqlValue::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<SqlValue, Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<SqlValue, Error> {
        Ok(SqlValue::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<SqlValue, Error> {
        Ok(SqlValue::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<SqlValue, Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<SqlValue, Error> {
        value.serialize(self)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(Error("a map".into()))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(Error("a struct".into()))
    }
    refuse_compounds!(Err(Error("a list or a variant with a value".into())));
}

/// A map key that is text: its column among these. Any other key is refused (and read through
/// its JSON).
struct KeyName(&'static [Column]);

impl ser::Serializer for KeyName {
    type Ok = Option<usize>;
    type Error = Error;
    type SerializeSeq = Impossible<Option<usize>, Error>;
    type SerializeTuple = Impossible<Option<usize>, Error>;
    type SerializeTupleStruct = Impossible<Option<usize>, Error>;
    type SerializeTupleVariant = Impossible<Option<usize>, Error>;
    type SerializeMap = Impossible<Option<usize>, Error>;
    type SerializeStruct = Impossible<Option<usize>, Error>;
    type SerializeStructVariant = Impossible<Option<usize>, Error>;

    fn serialize_str(self, name: &str) -> Result<Option<usize>, Error> {
        Ok(self.0.iter().position(|c| c.name == name))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Option<usize>, Error> {
        value.serialize(self)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        not_a_map()
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        not_a_map()
    }

    refuse_the_rest!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::{call_row, CALL_COLUMNS};
    use ccsqm_client::CallRecord;

    /// The row of the JSON tree, as the sync built it before: the reference.
    fn through_json(record: &CallRecord) -> Vec<SqlValue> {
        let json = serde_json::to_value(record).unwrap();
        CALL_COLUMNS
            .iter()
            .map(|c| SqlValue::from_json(json.get(c.name).cloned(), c.sql))
            .collect()
    }

    #[test]
    fn every_call_of_a_sandbox_has_the_row_of_its_json() {
        let data = ccsqm_sandbox::DataSet::generate(7, 3_000);
        let mut compared = 0;
        for i in 0..data.len() {
            let call = data.call(i).unwrap();
            let record = CallRecord {
                call_group_id: Some(format!("group {i}")),
                call,
                ..CallRecord::default()
            };
            assert_eq!(
                call_row(record.clone()).unwrap(),
                through_json(&record),
                "call {i}"
            );
            assert_eq!(row(&record, CALL_COLUMNS).unwrap(), through_json(&record));
            compared += 1;
        }
        assert!(compared > 3_000);
    }

    /// Each value for a column of each type: the value of its JSON.
    #[test]
    fn a_value_is_the_value_of_its_json_in_a_column_of_any_type() {
        #[derive(serde::Serialize)]
        enum Tier {
            #[serde(rename = "gold")]
            Gold,
            Pair(i64),
        }
        #[derive(serde::Serialize)]
        struct Wrapped(u32);
        fn check<T: Serialize>(value: T) {
            let json = serde_json::to_value(&value).unwrap();
            for sql in [
                SqlType::Text,
                SqlType::Integer,
                SqlType::Real,
                SqlType::Boolean,
                SqlType::Json,
            ] {
                let expected = SqlValue::from_json(Some(json.clone()), sql);
                assert_eq!(
                    serialized(&value, sql).unwrap(),
                    expected,
                    "{json} as {sql:?}"
                );
            }
        }
        check(Some(-5i64));
        check(7i8);
        check(u64::MAX);
        check(42u64);
        check(2.0f64);
        check(1.5f64);
        check(-0.0f64);
        check(1e300f64);
        check(f64::NAN);
        check(f64::INFINITY);
        check(0.1f32);
        check(true);
        check('x');
        check("two");
        check(String::from("line\n\"quoted\""));
        check(None::<String>);
        check(());
        check(Tier::Gold);
        check(Tier::Pair(3));
        check(Wrapped(9));
        check(vec![1, 2]);
        check(serde_json::json!({"a": 1}));
        check(serde_json::Value::Null);
        // No JSON (a map whose keys are not text): an error, not a NULL.
        let no_json = std::collections::BTreeMap::from([((1, 2), 3)]);
        assert!(serialized(&no_json, SqlType::Json).is_err());
    }

    #[test]
    fn a_call_with_absent_fields_has_nulls_and_a_map_is_read_by_its_keys() {
        let record = CallRecord::default();
        assert!(call_row(record.clone())
            .unwrap()
            .iter()
            .all(|v| *v == SqlValue::Null));
        assert!(row(&record, CALL_COLUMNS)
            .unwrap()
            .iter()
            .all(|v| *v == SqlValue::Null));
        // A number that is not finite is NULL, as its JSON.
        let mut record = CallRecord::default();
        record.call.duration = Some(f64::NAN);
        record.call.deal = Some(f64::INFINITY);
        assert_eq!(call_row(record.clone()).unwrap(), through_json(&record));
        // A map (a call read tolerantly, with a field of another type than the column's).
        let map = serde_json::json!({"call_uuid": "u", "status": "two", "duration": 1.5, "x": 1});
        let row = row(&map, CALL_COLUMNS).unwrap();
        let value = |name: &str| &row[CALL_COLUMNS.iter().position(|c| c.name == name).unwrap()];
        assert_eq!(value("call_uuid"), &SqlValue::Text("u".into()));
        assert_eq!(value("status"), &SqlValue::Text("\"two\"".into()));
        assert_eq!(value("duration"), &SqlValue::Real(1.5));
        assert_eq!(row.len(), CALL_COLUMNS.len());
        // Not a map: through its JSON, every column NULL.
        assert!(super::row(&3, CALL_COLUMNS)
            .unwrap()
            .iter()
            .all(|v| *v == SqlValue::Null));
    }
}
