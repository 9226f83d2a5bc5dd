//! Without the `postgres` feature: no PostgreSQL. Its types are empty (none can be made), so
//! every branch for it is unreachable, and a `postgres://` URL is refused when it is parsed.

use std::borrow::Borrow;

use super::DbError;
use crate::schema::SqlValue;
use crate::url::{PgConfig, Tls};

/// A column's type of PostgreSQL (none without the `postgres` feature).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PgType {}

/// A PostgreSQL connection (none without the `postgres` feature).
pub enum Postgres {}

impl Postgres {
    pub(super) async fn open(config: &PgConfig, _: &Tls, _: &str) -> Result<Postgres, DbError> {
        match *config {}
    }

    pub(super) async fn batch(&mut self, _: &str) -> Result<(), DbError> {
        match *self {}
    }

    pub(super) async fn execute_each<P: Borrow<SqlValue> + Sync, S: AsRef<[P]> + Sync>(
        &mut self,
        _: &str,
        _: &[S],
    ) -> Result<u64, DbError> {
        match *self {}
    }

    pub(super) async fn query_each<P: Borrow<SqlValue> + Sync, S: AsRef<[P]> + Sync>(
        &mut self,
        _: &str,
        _: &[S],
    ) -> Result<Vec<Vec<SqlValue>>, DbError> {
        match *self {}
    }

    pub(super) async fn execute_arrays(
        &mut self,
        _: &str,
        _: &SqlValue,
        _: &[Vec<&SqlValue>],
    ) -> Result<u64, DbError> {
        match *self {}
    }

    pub(super) async fn copy_types(&mut self, _: &str, _: &[&str]) -> Result<Vec<PgType>, DbError> {
        match *self {}
    }

    pub(super) async fn copy_in<'a>(
        &mut self,
        _: &str,
        _: &[&str],
        _: impl Iterator<Item = (&'a [u8], Vec<&'a SqlValue>)>,
    ) -> Result<u64, DbError> {
        match *self {}
    }

    pub(super) async fn query_array(
        &mut self,
        _: &str,
        _: Vec<&SqlValue>,
    ) -> Result<Vec<Vec<SqlValue>>, DbError> {
        match *self {}
    }
}

/// Encodes nothing: there are no PostgreSQL types without the `postgres` feature.
pub fn encode_fields<'a>(
    _: impl IntoIterator<Item = &'a SqlValue>,
    types: &[PgType],
    _: &mut bytes::BytesMut,
) -> Result<(), DbError> {
    match types.first() {
        Some(ty) => match *ty {},
        None => Ok(()),
    }
}
