//! A transcript's segment (or any value that serializes as a map) as the values of its row,
//! straight from its serialization: each field it serializes goes to its column's slot (found by name among the
//! table's columns), with no JSON tree of the whole call in between (that tree, a map of
//! owned keys per call, was most of a sync's cost of building rows). Whatever the type
//! serializes, the row is the one [`SqlValue::from_json`] makes of its JSON: fields without a
//! column are left out, absent ones are NULL. A call's row is built by moving its fields
//! (`call_row`, generated, with the functions of each column's type here), checked against
//! the row of its serialization over a sandbox's calls.

use serde::ser::{self, Impossible, Serialize, SerializeMap, SerializeStruct};
use serde_json::Value;

use super::schema::{Column, SqlValue};

/// The value of a text column: a field of the client's of that kind.
pub fn text(value: Option<String>) -> SqlValue {
    value.map_or(SqlValue::Null, SqlValue::Text)
}

/// The value of an integer column (whole numbers, codes, Unix seconds).
pub fn integer(value: Option<i64>) -> SqlValue {
    value.map_or(SqlValue::Null, SqlValue::Integer)
}

/// The value of a real column: NULL for a value that is not finite, as its JSON (`null`).
pub fn real(value: Option<f64>) -> SqlValue {
    match value {
        Some(value) if value.is_finite() => SqlValue::Real(value),
        _ => SqlValue::Null,
    }
}

/// The value of a boolean column.
#[allow(dead_code)]
pub fn boolean(value: Option<bool>) -> SqlValue {
    value.map_or(SqlValue::Null, SqlValue::Boolean)
}

/// The value of a JSON column (arrays, objects, values of several kinds): its JSON text.
#[allow(dead_code)]
pub fn json<T: Serialize>(value: &Option<T>) -> SqlValue {
    match value.as_ref().map(serde_json::to_value) {
        Some(Ok(value)) => SqlValue::from_json(Some(value), super::schema::SqlType::Json),
        _ => SqlValue::Null,
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
            let json = serde_json::to_value(value).map_err(|e| Error(e.to_string()))?;
            self.row[at] = SqlValue::from_json(Some(json), self.columns[at].sql);
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
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result<Self::Ok, Error> {
            not_a_map()
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
            not_a_map()
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
            not_a_map()
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, Error> {
            not_a_map()
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, Error> {
            not_a_map()
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, Error> {
            not_a_map()
        }
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
    use crate::sync::generated::{call_row, CALL_COLUMNS};
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
            };
            assert_eq!(call_row(record.clone()), through_json(&record), "call {i}");
            assert_eq!(row(&record, CALL_COLUMNS).unwrap(), through_json(&record));
            compared += 1;
        }
        assert!(compared > 3_000);
    }

    #[test]
    fn a_call_with_absent_fields_has_nulls_and_a_map_is_read_by_its_keys() {
        let record = CallRecord::default();
        assert!(call_row(record.clone())
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
        assert_eq!(call_row(record.clone()), through_json(&record));
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
