//! `--db`: which database, from its URL or path.

use std::path::PathBuf;

/// A PostgreSQL URL, parsed (none can be made without the `postgres` feature).
#[cfg(feature = "postgres")]
pub type PgConfig = tokio_postgres::Config;

/// A PostgreSQL URL, parsed (none can be made without the `postgres` feature).
#[cfg(not(feature = "postgres"))]
#[derive(Clone, Debug)]
pub enum PgConfig {}

/// A database URL or path that cannot be used (the message names it, its password hidden).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UrlError(pub String);

/// The database `--db` names.
#[derive(Clone, Debug)]
pub enum DbUrl {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL server: the parsed configuration, the URL to show (password hidden), and
    /// how the connection is secured.
    Postgres(Box<PgConfig>, String, Tls),
}

/// How a connection to PostgreSQL is secured: the URL's `sslmode` and `sslrootcert`, named
/// and valued as libpq's.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Tls {
    /// `sslmode=disable`, `allow` or `prefer` (the default): no TLS (libpq's `allow` and
    /// `prefer` would encrypt without checking who answers; here they do not encrypt).
    Off,
    /// `sslmode=require`, `verify-ca` or `verify-full`: TLS, the server's certificate checked
    /// (its chain and the host's name) against the certificates of `sslrootcert`, or without
    /// it the system's: stricter than libpq's `require`, which checks nothing.
    Verified { roots: Option<PathBuf> },
}

/// `sslmode` and `sslrootcert` taken out of a PostgreSQL URL's query (tokio-postgres knows
/// neither `verify-*` nor `sslrootcert`): the URL without them, and what they ask.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
fn take_tls(text: &str) -> Result<(String, Tls), String> {
    let Some((head, query)) = text.split_once('?') else {
        return Ok((text.to_owned(), Tls::Off));
    };
    let (mut mode, mut roots) = (None, None);
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("sslmode", value)) => mode = Some(value.to_owned()),
            Some(("sslrootcert", value)) => roots = Some(PathBuf::from(percent_decoded(value)?)),
            _ => rest.push(pair),
        }
    }
    let tls = match mode.as_deref() {
        None | Some("disable" | "allow" | "prefer") if roots.is_none() => Tls::Off,
        None | Some("require" | "verify-ca" | "verify-full") => Tls::Verified { roots },
        Some(other @ ("disable" | "allow" | "prefer")) => {
            return Err(format!(
                "sslrootcert is for a checked connection, but sslmode={other} does not use TLS"
            ))
        }
        Some(other) => {
            return Err(format!(
                "sslmode={other} is not one of disable, allow, prefer, require, verify-ca, \
                 verify-full"
            ))
        }
    };
    let url = match rest.is_empty() {
        true => head.to_owned(),
        false => format!("{head}?{}", rest.join("&")),
    };
    Ok((url, tls))
}

/// A URL's `%XX` escapes decoded.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
fn percent_decoded(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("{text:?}: a % not followed by two hex digits"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{text:?} is not UTF-8 once decoded"))
}

/// The SQLite file used when `--db` is not given, in the platform's data directory.
pub fn default_sqlite() -> Result<PathBuf, UrlError> {
    let dir = dirs::data_dir().ok_or_else(|| {
        UrlError(
            "no data directory is known for this platform (set HOME or XDG_DATA_HOME), so \
             there is no default database: give one with --db"
                .into(),
        )
    })?;
    Ok(dir.join("ccsqm").join("ccsqm.sqlite3"))
}

impl DbUrl {
    /// `sqlite:PATH`, `sqlite://PATH`, a plain path, or `postgres://…` / `postgresql://…`.
    pub fn parse(text: &str) -> Result<DbUrl, UrlError> {
        let bad = |why: &str| UrlError(format!("--db {}: {why}", shown_url(text)));
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
            return sqlite_url(PathBuf::from(path)).map_err(bad);
        }
        #[cfg(not(feature = "postgres"))]
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Err(bad(
                "this build has no PostgreSQL (the `postgres` feature of ccsqm-sync)",
            ));
        }
        #[cfg(feature = "postgres")]
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            let (url, tls) = take_tls(text).map_err(|e| bad(&e))?;
            let config: tokio_postgres::Config = url
                .parse()
                .map_err(|e| bad(&format!("not a valid PostgreSQL URL ({e})")))?;
            if config.get_hosts().is_empty() {
                return Err(bad("the URL names no host"));
            }
            return Ok(DbUrl::Postgres(Box::new(config), shown_url(text), tls));
        }
        if let Some((scheme, _)) = text.split_once("://") {
            return Err(bad(&format!(
                "the scheme {scheme}:// is not supported: use a SQLite path (or sqlite:PATH) or \
                 postgres://"
            )));
        }
        sqlite_url(PathBuf::from(text)).map_err(bad)
    }

    /// The database as shown in messages (a PostgreSQL password as `***`).
    pub fn shown(&self) -> String {
        match self {
            DbUrl::Sqlite(path) => format!("sqlite:{}", path.display()),
            DbUrl::Postgres(_, shown, _) => shown.clone(),
        }
    }
}

/// A SQLite file, when this build has SQLite (the `sqlite` feature).
fn sqlite_url(path: PathBuf) -> Result<DbUrl, &'static str> {
    match cfg!(feature = "sqlite") {
        true => Ok(DbUrl::Sqlite(path)),
        false => Err("this build has no SQLite (the `sqlite` feature of ccsqm-sync)"),
    }
}

/// The URL with the password of its user part (`user:password@`) replaced by `***`. The user
/// part ends at the URL's last `@`, so that a password with `/`, `?` or `@` in it (not
/// percent-encoded) is hidden whole; a `@` in the query makes more of the URL hidden, never
/// less.
fn shown_url(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return hide_query_password(text);
    };
    let Some((user_info, host)) = rest.rsplit_once('@') else {
        return hide_query_password(text);
    };
    let user = match user_info.split_once(':') {
        Some((user, _)) => format!("{user}:***"),
        None => user_info.to_owned(),
    };
    hide_query_password(&format!("{scheme}://{user}@{host}"))
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

    #[cfg(not(feature = "sqlite"))]
    #[test]
    fn without_sqlite_a_sqlite_path_is_refused_saying_why() {
        for url in ["calls.sqlite3", "sqlite:calls.sqlite3"] {
            let error = DbUrl::parse(url).unwrap_err().0;
            assert!(error.contains("the `sqlite` feature"), "{error}");
        }
    }

    #[cfg(not(feature = "postgres"))]
    #[test]
    fn without_postgres_a_postgres_url_is_refused_saying_why() {
        let error = DbUrl::parse("postgres://u:secret@h/db").unwrap_err().0;
        assert!(error.contains("the `postgres` feature"), "{error}");
        assert!(!error.contains("secret"), "{error}");
    }

    #[cfg(feature = "sqlite")]
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

    #[cfg(feature = "postgres")]
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

    #[cfg(feature = "postgres")]
    #[test]
    fn sslmode_and_sslrootcert_say_how_the_connection_is_secured() {
        let tls = |text: &str| match DbUrl::parse(text).unwrap() {
            DbUrl::Postgres(_, _, tls) => tls,
            other => panic!("{other:?}"),
        };
        assert_eq!(tls("postgres://me@h/db"), Tls::Off);
        assert_eq!(tls("postgres://me@h/db?sslmode=prefer"), Tls::Off);
        assert_eq!(tls("postgres://me@h/db?sslmode=disable"), Tls::Off);
        for mode in ["require", "verify-ca", "verify-full"] {
            assert_eq!(
                tls(&format!("postgres://me@h/db?sslmode={mode}")),
                Tls::Verified { roots: None }
            );
        }
        // The root certificates alone ask for a checked connection; other options stay.
        let url = DbUrl::parse(
            "postgres://me:pw@h/db?application_name=x&sslrootcert=%2Fetc%2Fca%20x.pem",
        )
        .unwrap();
        let DbUrl::Postgres(config, shown, tls) = url else {
            panic!("postgres")
        };
        assert_eq!(
            tls,
            Tls::Verified {
                roots: Some(PathBuf::from("/etc/ca x.pem"))
            }
        );
        assert_eq!(config.get_application_name(), Some("x"));
        assert!(
            shown.contains("sslrootcert") && !shown.contains("pw"),
            "{shown}"
        );
        for bad in [
            "postgres://me:s3cret@h/db?sslmode=sometimes",
            "postgres://me:s3cret@h/db?sslmode=disable&sslrootcert=/ca.pem",
            "postgres://me:s3cret@h/db?sslrootcert=%zz",
        ] {
            let err = DbUrl::parse(bad).expect_err(bad).0;
            assert!(err.starts_with("--db") && !err.contains("s3cret"), "{err}");
        }
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn malformed_urls_are_usage_errors_without_the_password() {
        for bad in [
            "",
            "sqlite:",
            "mysql://me:s3cret@host/db",
            "postgres://me:s3cret@host:notaport/db",
            "postgres://me:s3cret/x@host:notaport/db",
            "postgres://me:s3cret?x@host:notaport/db",
            "postgres://me:s3cret@x@host:notaport/db",
            "postgres://me@host:notaport/db?password=s3cret",
        ] {
            let err = DbUrl::parse(bad).expect_err(bad).0;
            assert!(err.starts_with("--db"), "{err}");
            assert!(!err.contains("s3cret"), "{err}");
        }
    }
}
