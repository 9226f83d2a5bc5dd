//! PostgreSQL (`tokio-postgres`, feature `postgres`; TLS by rustls with feature
//! `postgres-tls`): the connection and the few operations the sync needs.

use std::borrow::Borrow;
use std::collections::HashMap;
#[cfg(feature = "postgres-tls")]
use std::path::Path;

use super::{quoted, DbError};
use crate::schema::SqlValue;
use crate::url::Tls;

/// A column's type as PostgreSQL names it (for a binary `COPY`).
pub type PgType = tokio_postgres::types::Type;

pub struct Postgres {
    client: tokio_postgres::Client,
    statements: HashMap<String, tokio_postgres::Statement>,
    connection: tokio::task::JoinHandle<()>,
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

impl Postgres {
    pub(super) async fn open(
        config: &tokio_postgres::Config,
        tls: &Tls,
        shown: &str,
    ) -> Result<Postgres, DbError> {
        let mut config = config.clone();
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("ccsqm sync");
        }
        let refused = |e| DbError(format!("{shown}: cannot connect: {}", postgres_error(e)));
        // The connection's own task (its type depends on the TLS).
        let (client, connection) = match tls {
            Tls::Off => {
                config.ssl_mode(tokio_postgres::config::SslMode::Disable);
                let (client, connection) = config
                    .connect(tokio_postgres::NoTls)
                    .await
                    .map_err(refused)?;
                (client, tokio::spawn(run_connection(connection)))
            }
            #[cfg(feature = "postgres-tls")]
            Tls::Verified { roots } => {
                config.ssl_mode(tokio_postgres::config::SslMode::Require);
                let connector = tls_connector(roots.as_deref(), shown)?;
                let (client, connection) = config.connect(connector).await.map_err(refused)?;
                (client, tokio::spawn(run_connection(connection)))
            }
            #[cfg(not(feature = "postgres-tls"))]
            Tls::Verified { .. } => {
                return Err(DbError(format!(
                    "{shown}: sslmode asks for TLS, and this build has none for PostgreSQL \
                     (the `postgres-tls` feature of ccsqm-sync)"
                )))
            }
        };
        Ok(Postgres {
            client,
            statements: HashMap::new(),
            connection,
        })
    }

    /// Statements without parameters and without results.
    pub(super) async fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.client.batch_execute(sql).await.map_err(postgres_error)
    }

    /// See [`super::Db::execute_each`].
    pub(super) async fn execute_each<P: Borrow<SqlValue> + Sync, S: AsRef<[P]> + Sync>(
        &mut self,
        sql: &str,
        each: &[S],
    ) -> Result<u64, DbError> {
        let statement = self.prepared(sql).await?;
        let mut changed = 0;
        for params in each {
            changed += self
                .client
                .execute(&statement, &postgres_parameters(params.as_ref()))
                .await
                .map_err(postgres_error)?;
        }
        Ok(changed)
    }

    /// See [`super::Db::query_each`].
    pub(super) async fn query_each<P: Borrow<SqlValue> + Sync, S: AsRef<[P]> + Sync>(
        &mut self,
        sql: &str,
        each: &[S],
    ) -> Result<Vec<Vec<SqlValue>>, DbError> {
        let statement = self.prepared(sql).await?;
        let mut rows = Vec::new();
        for params in each {
            let found = self
                .client
                .query(&statement, &postgres_parameters(params.as_ref()))
                .await
                .map_err(postgres_error)?;
            for row in &found {
                rows.push(from_postgres(row)?);
            }
        }
        Ok(rows)
    }

    /// A statement whose parameters are `first` and then `arrays`, each bound as
    /// one array (`= ANY($2)`): many rows' keys in one statement of a few parameters, whatever
    /// their number. (SQLite has no arrays: see [`Db::execute`].)
    pub(super) async fn execute_arrays(
        &mut self,
        sql: &str,
        first: &SqlValue,
        arrays: &[Vec<&SqlValue>],
    ) -> Result<u64, DbError> {
        let statement = self.prepared(sql).await?;
        let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = vec![first];
        params.extend(
            arrays
                .iter()
                .map(|a| a as &(dyn tokio_postgres::types::ToSql + Sync)),
        );
        self.client
            .execute(&statement, &params)
            .await
            .map_err(postgres_error)
    }

    /// PostgreSQL: the types of `table`'s `columns`, in their order (read from the server once).
    pub(super) async fn copy_types(
        &mut self,
        table: &str,
        columns: &[&str],
    ) -> Result<Vec<tokio_postgres::types::Type>, DbError> {
        Ok(self
            .prepared(&format!("SELECT {} FROM {table} LIMIT 0", quoted(columns)))
            .await?
            .columns()
            .iter()
            .map(|c| c.type_().clone())
            .collect())
    }

    /// PostgreSQL: rows into `table`'s `columns` by `COPY … FROM STDIN (FORMAT binary)`, the
    /// fastest way in. Each row is its first fields already encoded ([`encode_fields`], by
    /// whoever built the row: the pages' reader, where its values are still in the CPU's
    /// cache) and the values of the rest; the stream is sent in chunks of [`COPY_CHUNK`].
    pub(super) async fn copy_in<'a>(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: impl Iterator<Item = (&'a [u8], Vec<&'a SqlValue>)>,
    ) -> Result<u64, DbError> {
        use futures_util::SinkExt;
        let types = self.copy_types(table, columns).await?;
        let fields = i16::try_from(columns.len())
            .map_err(|_| DbError(format!("{table}: too many columns for a COPY")))?;
        let sink = self
            .client
            .copy_in(&format!(
                "COPY {table} ({}) FROM STDIN (FORMAT binary)",
                quoted(columns)
            ))
            .await
            .map_err(postgres_error)?;
        futures_util::pin_mut!(sink);
        // PostgreSQL's binary COPY format: a signature, flags and the length of an extension
        // of the header (none); each row its number of fields, then each field's length (-1:
        // NULL) and bytes; -1 at the end.
        let mut buf = bytes::BytesMut::with_capacity(2 * COPY_CHUNK);
        buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buf.extend_from_slice(&0i32.to_be_bytes());
        buf.extend_from_slice(&0i32.to_be_bytes());
        for (encoded, rest) in rows {
            buf.extend_from_slice(&fields.to_be_bytes());
            buf.extend_from_slice(encoded);
            let after = types.len().saturating_sub(rest.len());
            encode_fields(rest, &types[after..], &mut buf)?;
            if buf.len() >= COPY_CHUNK {
                sink.send(buf.split().freeze())
                    .await
                    .map_err(postgres_error)?;
            }
        }
        buf.extend_from_slice(&(-1i16).to_be_bytes());
        sink.send(buf.split().freeze())
            .await
            .map_err(postgres_error)?;
        sink.as_mut().finish().await.map_err(postgres_error)
    }

    /// PostgreSQL: a query with one array parameter (`= ANY($1)`): its rows.
    pub(super) async fn query_array(
        &mut self,
        sql: &str,
        array: Vec<&SqlValue>,
    ) -> Result<Vec<Vec<SqlValue>>, DbError> {
        let statement = self.prepared(sql).await?;
        let rows = self
            .client
            .query(&statement, &[&array])
            .await
            .map_err(postgres_error)?;
        rows.iter().map(from_postgres).collect()
    }

    async fn prepared(&mut self, sql: &str) -> Result<tokio_postgres::Statement, DbError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql).await.map_err(postgres_error)?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

/// Drives a PostgreSQL connection until it ends.
async fn run_connection<S, T>(connection: tokio_postgres::Connection<S, T>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    if let Err(e) = connection.await {
        tracing::debug!("the PostgreSQL connection ended: {e}");
    }
}

/// How much of a `COPY`'s stream is sent at once.
const COPY_CHUNK: usize = 256 * 1024;

#[cfg(feature = "postgres-tls")]
/// TLS that checks the server's certificate and name: against the certificates of the file
/// `roots` (PEM), or the system's (rustls-platform-verifier).
fn tls_connector(
    roots: Option<&Path>,
    shown: &str,
) -> Result<tokio_postgres_rustls::MakeRustlsConnect, DbError> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    use rustls_platform_verifier::BuilderVerifierExt;
    let fail = |what: String| DbError(format!("{shown}: {what}"));
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| fail(format!("TLS: {e}")))?;
    let config = match roots {
        Some(path) => {
            let unreadable = |e: rustls::pki_types::pem::Error| {
                fail(format!("sslrootcert {}: {e}", path.display()))
            };
            let mut store = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(path).map_err(unreadable)? {
                store
                    .add(cert.map_err(unreadable)?)
                    .map_err(|e| fail(format!("sslrootcert {}: {e}", path.display())))?;
            }
            if store.is_empty() {
                return Err(fail(format!(
                    "sslrootcert {}: no certificate in it",
                    path.display()
                )));
            }
            builder.with_root_certificates(store).with_no_client_auth()
        }
        None => builder
            .with_platform_verifier()
            .map_err(|e| fail(format!("TLS: the system's certificates: {e}")))?
            .with_no_client_auth(),
    };
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// Parameters as tokio-postgres takes them.
fn postgres_parameters<P: Borrow<SqlValue> + Sync>(
    params: &[P],
) -> Vec<&(dyn tokio_postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.borrow() as &(dyn tokio_postgres::types::ToSql + Sync))
        .collect()
}

pub(super) fn postgres_error(error: tokio_postgres::Error) -> DbError {
    // The server's own message (with its code) when there is one: the client's Display says
    // only "db error".
    match error.as_db_error() {
        Some(db) => DbError(format!(
            "PostgreSQL: {} ({}: {})",
            db.message(),
            db.severity(),
            db.code().code()
        )),
        None => {
            let mut text = format!("PostgreSQL: {error}");
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                text.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            DbError(text)
        }
    }
}

fn from_postgres(row: &tokio_postgres::Row) -> Result<Vec<SqlValue>, DbError> {
    use tokio_postgres::types::Type;
    (0..row.len())
        .map(|i| {
            let ty = row.columns()[i].type_();
            let value = if *ty == Type::INT8 {
                row.try_get::<_, Option<i64>>(i)
                    .map(|v| v.map_or(SqlValue::Null, SqlValue::Integer))
            } else if *ty == Type::INT4 {
                row.try_get::<_, Option<i32>>(i)
                    .map(|v| v.map_or(SqlValue::Null, |v| SqlValue::Integer(v.into())))
            } else if *ty == Type::INT2 {
                row.try_get::<_, Option<i16>>(i)
                    .map(|v| v.map_or(SqlValue::Null, |v| SqlValue::Integer(v.into())))
            } else if *ty == Type::FLOAT8 {
                row.try_get::<_, Option<f64>>(i)
                    .map(|v| v.map_or(SqlValue::Null, SqlValue::Real))
            } else if *ty == Type::BOOL {
                row.try_get::<_, Option<bool>>(i)
                    .map(|v| v.map_or(SqlValue::Null, SqlValue::Boolean))
            } else {
                row.try_get::<_, Option<String>>(i)
                    .map(|v| v.map_or(SqlValue::Null, SqlValue::Text))
            };
            value.map_err(postgres_error)
        })
        .collect()
}

/// PostgreSQL: `values` as fields of a row of a binary `COPY`, of these `types` (a field's
/// length, then its bytes in the type's binary form, as the driver encodes a parameter).
pub fn encode_fields<'a>(
    values: impl IntoIterator<Item = &'a SqlValue>,
    types: &[tokio_postgres::types::Type],
    out: &mut bytes::BytesMut,
) -> Result<(), DbError> {
    use tokio_postgres::types::{IsNull, ToSql};
    let mut values = values.into_iter();
    for ty in types {
        let value = values
            .next()
            .ok_or_else(|| DbError("a row of a COPY with fewer values than columns".into()))?;
        let at = out.len();
        out.extend_from_slice(&0i32.to_be_bytes());
        let length = match value
            .to_sql_checked(ty, out)
            .map_err(|e| DbError(format!("a value for a column of type {ty}: {e}")))?
        {
            IsNull::Yes => -1,
            IsNull::No => i32::try_from(out.len() - at - 4)
                .map_err(|_| DbError("a value longer than PostgreSQL takes".into()))?,
        };
        out[at..at + 4].copy_from_slice(&length.to_be_bytes());
    }
    match values.next() {
        Some(_) => Err(DbError(
            "a row of a COPY with more values than columns".into(),
        )),
        None => Ok(()),
    }
}

impl tokio_postgres::types::ToSql for SqlValue {
    fn to_sql(
        &self,
        ty: &tokio_postgres::types::Type,
        out: &mut tokio_postgres::types::private::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use tokio_postgres::types::{IsNull, Type};
        match self {
            SqlValue::Null => Ok(IsNull::Yes),
            SqlValue::Text(s) => s.as_str().to_sql(ty, out),
            SqlValue::Integer(i) if *ty == Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
            SqlValue::Integer(i) => i.to_sql(ty, out),
            SqlValue::Real(f) => f.to_sql(ty, out),
            SqlValue::Boolean(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &tokio_postgres::types::Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}
