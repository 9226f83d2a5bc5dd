//! `--db`: which database, from its URL or path.

use std::path::PathBuf;

use crate::UsageError;

/// The database `--db` names.
#[derive(Clone, Debug)]
pub enum DbUrl {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL server: the parsed configuration and the URL to show (password hidden).
    Postgres(Box<tokio_postgres::Config>, String),
}

/// The SQLite file used when `--db` is not given, in the platform's data directory.
pub fn default_sqlite() -> Result<PathBuf, UsageError> {
    let dir = dirs::data_dir().ok_or_else(|| {
        UsageError(
            "no data directory is known for this platform (set HOME or XDG_DATA_HOME), so \
             there is no default database: give one with --db"
                .into(),
        )
    })?;
    Ok(dir.join("ccsqm").join("ccsqm.sqlite3"))
}

impl DbUrl {
    /// `sqlite:PATH`, `sqlite://PATH`, a plain path, or `postgres://…` / `postgresql://…`.
    pub fn parse(text: &str) -> Result<DbUrl, UsageError> {
        let bad = |why: &str| UsageError(format!("--db {}: {why}", shown_url(text)));
        if text.trim().is_empty() {
            return Err(bad(
                "empty: give a SQLite path (or sqlite:PATH) or a postgres:// URL",
            ));
        }
        if let Some(path) = text
            .strip_prefix("sqlite://")
            .or_else(|| text.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(bad("no path after sqlite:"));
            }
            return Ok(DbUrl::Sqlite(PathBuf::from(path)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            let config: tokio_postgres::Config = text
                .parse()
                .map_err(|e| bad(&format!("not a valid PostgreSQL URL ({e})")))?;
            if config.get_hosts().is_empty() {
                return Err(bad("the URL names no host"));
            }
            return Ok(DbUrl::Postgres(Box::new(config), shown_url(text)));
        }
        if let Some((scheme, _)) = text.split_once("://") {
            return Err(bad(&format!(
                "the scheme {scheme}:// is not supported: use a SQLite path (or sqlite:PATH) or \
                 postgres://"
            )));
        }
        Ok(DbUrl::Sqlite(PathBuf::from(text)))
    }

    /// The database as shown in messages (a PostgreSQL password as `***`).
    pub fn shown(&self) -> String {
        match self {
            DbUrl::Sqlite(path) => format!("sqlite:{}", path.display()),
            DbUrl::Postgres(_, shown) => shown.clone(),
        }
    }
}

/// The URL with the password of its user part (`user:password@`) replaced by `***`.
fn shown_url(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((user_info, host)) = authority.rsplit_once('@') else {
        return hide_query_password(text);
    };
    let user = match user_info.split_once(':') {
        Some((user, _)) => format!("{user}:***"),
        None => user_info.to_owned(),
    };
    hide_query_password(&format!("{scheme}://{user}@{host}{tail}"))
}

/// `?password=…` as `?password=***`.
fn hide_query_password(text: &str) -> String {
    let Some((head, query)) = text.split_once('?') else {
        return text.to_owned();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{head}?{}", query.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths_and_urls() {
        for (text, path) in [
            ("sqlite:/tmp/a.db", "/tmp/a.db"),
            ("sqlite:///tmp/a.db", "/tmp/a.db"),
            ("sqlite:rel.db", "rel.db"),
            ("calls.sqlite", "calls.sqlite"),
            ("/var/lib/x.db", "/var/lib/x.db"),
        ] {
            match DbUrl::parse(text).unwrap() {
                DbUrl::Sqlite(p) => assert_eq!(p, PathBuf::from(path), "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn postgres_urls_hide_their_password() {
        let url = DbUrl::parse("postgres://me:s3cret@db.example:5433/calls").unwrap();
        assert!(matches!(url, DbUrl::Postgres(..)));
        assert_eq!(url.shown(), "postgres://me:***@db.example:5433/calls");
        let url =
            DbUrl::parse("postgresql://me@localhost/calls?password=s3cret&application_name=x")
                .unwrap();
        assert_eq!(
            url.shown(),
            "postgresql://me@localhost/calls?password=***&application_name=x"
        );
    }

    #[test]
    fn malformed_urls_are_usage_errors_without_the_password() {
        for bad in [
            "",
            "sqlite:",
            "mysql://me:s3cret@host/db",
            "postgres://me:s3cret@host:notaport/db",
        ] {
            let err = DbUrl::parse(bad).expect_err(bad).0;
            assert!(err.starts_with("--db"), "{err}");
            assert!(!err.contains("s3cret"), "{err}");
        }
    }
}
