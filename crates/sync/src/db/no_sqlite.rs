//! Without the `sqlite` feature: no SQLite. Its type is empty (none can be made), so every
//! branch for it is unreachable, and a SQLite path or URL is refused when it is parsed.

use std::borrow::Borrow;
use std::path::Path;

use super::{Access, DbError};
use crate::schema::SqlValue;

/// A SQLite database (none without the `sqlite` feature).
pub enum Sqlite {}

impl Sqlite {
    pub(super) fn open(_: &Path, _: Access, shown: &str) -> Result<Sqlite, DbError> {
        Err(DbError(format!(
            "{shown}: this build has no SQLite (the `sqlite` feature of ccsqm-sync)"
        )))
    }

    pub(super) fn notes(&self) -> Vec<String> {
        match *self {}
    }

    pub(super) async fn try_lock(&mut self, _: &str) -> Result<bool, DbError> {
        match *self {}
    }

    pub(super) fn lock_held(&mut self) -> Result<bool, DbError> {
        match *self {}
    }

    pub(super) fn batch(&mut self, _: &str) -> Result<(), DbError> {
        match *self {}
    }

    pub(super) fn execute_each<P: Borrow<SqlValue>, S: AsRef<[P]>>(
        &mut self,
        _: &str,
        _: &[S],
    ) -> Result<u64, DbError> {
        match *self {}
    }

    pub(super) fn query_each<P: Borrow<SqlValue>, S: AsRef<[P]>>(
        &mut self,
        _: &str,
        _: &[S],
    ) -> Result<Vec<Vec<SqlValue>>, DbError> {
        match *self {}
    }
}
