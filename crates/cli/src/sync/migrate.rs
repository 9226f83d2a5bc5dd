//! Creating and migrating the tables: an empty database gets them all; a database of an older
//! `ccsqm` gets the columns its `calls` lacks (`ALTER TABLE … ADD COLUMN`, one migration); a
//! database that is not `ccsqm sync`'s, or that a newer `ccsqm` wrote, is refused before
//! anything is changed. Every migration is one transaction, recorded in `schema_migrations`.

use std::collections::HashMap;

use super::db::{Db, DbError};
use super::generated::{self, CALL_COLUMNS, KEY, SCHEMA_HASH, SEGMENT_COLUMNS, SEGMENT_ORDER};
use super::schema::{
    Column, SqlValue, APPLICATION, BOOKKEEPING, CREATE_BOOKKEEPING, CREATE_MISSING_TRANSCRIPTS,
    CREATE_TRANSCRIPTS, LAYOUT_VERSION, TABLES, TRANSCRIPT_TABLES, VIEW,
};

/// What a database holds, read before anything is written.
pub struct State {
    /// `ccsqm_meta`'s entries; `None` when it has no such table.
    pub meta: Option<HashMap<String, String>>,
    /// Its tables.
    pub tables: Vec<String>,
    /// The columns of `calls`, when it has one.
    pub calls: Vec<String>,
    /// The columns of `call_segments`, when it has one.
    pub segments: Vec<String>,
}

/// What to do to bring it to this `ccsqm`'s schema.
#[derive(Debug, PartialEq)]
pub enum Plan {
    /// An empty database: every table.
    Create,
    /// Columns of the spec that `calls` or `call_segments` lack, and the tables of
    /// `--with-transcripts` it lacks (a database of an older `ccsqm`).
    Upgrade(Upgrade),
    /// Nothing.
    UpToDate,
}

/// What a database of an older `ccsqm` lacks.
#[derive(Debug, Default, PartialEq)]
pub struct Upgrade {
    /// Columns of `calls`.
    pub calls: Vec<&'static Column>,
    /// Tables of `--with-transcripts` (a missing `call_segments` is created whole).
    pub tables: Vec<&'static str>,
    /// Columns of an existing `call_segments`.
    pub segments: Vec<&'static Column>,
}

impl Upgrade {
    /// How many columns it adds.
    pub fn columns(&self) -> usize {
        self.calls.len() + self.segments.len()
    }
}

/// Reads what the database holds.
pub async fn inspect(db: &mut Db) -> Result<State, DbError> {
    let tables = db.tables().await?;
    let meta = match tables.iter().any(|t| t == "ccsqm_meta") {
        true => Some(
            db.query::<SqlValue>("SELECT key, value FROM ccsqm_meta", &[])
                .await?
                .into_iter()
                .filter_map(|row| match <[SqlValue; 2]>::try_from(row) {
                    Ok([SqlValue::Text(k), SqlValue::Text(v)]) => Some((k, v)),
                    _ => None,
                })
                .collect(),
        ),
        false => None,
    };
    let calls = match tables.iter().any(|t| t == "calls") {
        true => db.columns("calls").await?,
        false => Vec::new(),
    };
    let segments = match tables.iter().any(|t| t == "call_segments") {
        true => db.columns("call_segments").await?,
        false => Vec::new(),
    };
    Ok(State {
        meta,
        tables,
        calls,
        segments,
    })
}

/// Whether the database is `ccsqm sync`'s and this `ccsqm` can use it, and what it needs.
pub fn plan(state: &State, shown: &str) -> Result<Plan, DbError> {
    let Some(meta) = &state.meta else {
        if state.tables.is_empty() {
            return Ok(Plan::Create);
        }
        return Err(DbError(format!(
            "{shown}: this database has tables ({}) but none of `ccsqm sync`'s bookkeeping \
             (ccsqm_meta): it is not ccsqm's, and was left untouched; give another --db",
            list(&state.tables, 5)
        )));
    };
    if meta.get("application").map(String::as_str) != Some(APPLICATION) {
        return Err(DbError(format!(
            "{shown}: its ccsqm_meta table is not `ccsqm sync`'s (no application = {APPLICATION:?}): \
             the database was left untouched; give another --db"
        )));
    }
    let layout: i64 = meta
        .get("layout_version")
        .and_then(|v| v.parse().ok())
        .unwrap_or(i64::MAX);
    let writer = meta.get("ccsqm_version").map_or("?", String::as_str);
    if layout > LAYOUT_VERSION {
        return Err(DbError(format!(
            "{shown}: written by a newer ccsqm ({writer}, table layout {layout}; this one reads \
             layout {LAYOUT_VERSION}): upgrade ccsqm; the database was left untouched"
        )));
    }
    let missing_tables: Vec<&str> = TABLES
        .iter()
        .copied()
        .filter(|t| !state.tables.iter().any(|have| have == t))
        .collect();
    if !missing_tables.is_empty() {
        return Err(DbError(format!(
            "{shown}: `ccsqm sync`'s tables {} are missing: the database was changed by hand; \
             it was left untouched",
            missing_tables.join(", ")
        )));
    }
    let known =
        |name: &str| CALL_COLUMNS.iter().any(|c| c.name == name) || BOOKKEEPING.contains(&name);
    let unknown: Vec<String> = state.calls.iter().filter(|c| !known(c)).cloned().collect();
    if !unknown.is_empty() {
        return Err(DbError(format!(
            "{shown}: written by a newer ccsqm ({writer}): its calls table has columns this \
             one does not know ({}): upgrade ccsqm; the database was left untouched",
            list(&unknown, 5)
        )));
    }
    let has_segments = state.tables.iter().any(|t| t == "call_segments");
    let known_segment = |name: &str| {
        name == KEY || name == SEGMENT_ORDER || SEGMENT_COLUMNS.iter().any(|c| c.name == name)
    };
    let unknown: Vec<String> = state
        .segments
        .iter()
        .filter(|c| !known_segment(c))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(DbError(format!(
            "{shown}: written by a newer ccsqm ({writer}): its call_segments table has columns \
             this one does not know ({}): upgrade ccsqm; the database was left untouched",
            list(&unknown, 5)
        )));
    }
    let upgrade = Upgrade {
        calls: CALL_COLUMNS
            .iter()
            .filter(|c| !state.calls.iter().any(|have| have == c.name))
            .collect(),
        tables: TRANSCRIPT_TABLES
            .iter()
            .copied()
            .filter(|t| !state.tables.iter().any(|have| have == t))
            .collect(),
        segments: match has_segments {
            true => SEGMENT_COLUMNS
                .iter()
                .filter(|c| !state.segments.iter().any(|have| have == c.name))
                .collect(),
            false => Vec::new(),
        },
    };
    Ok(match upgrade == Upgrade::default() {
        true => Plan::UpToDate,
        false => Plan::Upgrade(upgrade),
    })
}

/// Carries out `plan` in one transaction; `now` in Unix seconds. Returns what was done, for
/// the log.
pub async fn apply(db: &mut Db, plan: &Plan, now: i64) -> Result<Option<String>, DbError> {
    let (statements, description): (Vec<String>, String) = match plan {
        Plan::UpToDate => return Ok(None),
        Plan::Create => {
            let (calls, view) = create_statements(db);
            let mut statements: Vec<String> =
                CREATE_BOOKKEEPING.iter().map(|s| s.to_string()).collect();
            statements.push(calls.to_owned());
            statements.push(view.to_owned());
            statements.push(CREATE_TRANSCRIPTS.to_owned());
            statements.push(create_segments(db).to_owned());
            statements.push(CREATE_MISSING_TRANSCRIPTS.to_owned());
            (
                statements,
                format!(
                    "created the tables, with {} columns of calls",
                    CALL_COLUMNS.len()
                ),
            )
        }
        Plan::Upgrade(upgrade) => {
            let postgres = db.is_postgres();
            let (_, view) = create_statements(db);
            let mut statements = Vec::new();
            let mut done = Vec::new();
            if !upgrade.calls.is_empty() {
                statements.push(format!("DROP VIEW IF EXISTS {VIEW}"));
                for c in &upgrade.calls {
                    let ty = if postgres { c.postgres } else { c.sqlite };
                    statements.push(format!("ALTER TABLE calls ADD COLUMN \"{}\" {ty}", c.name));
                }
                statements.push(view.to_owned());
                let names: Vec<&str> = upgrade.calls.iter().map(|c| c.name).collect();
                done.push(format!("added columns {}", names.join(", ")));
            }
            for c in &upgrade.segments {
                let ty = if postgres { c.postgres } else { c.sqlite };
                statements.push(format!(
                    "ALTER TABLE call_segments ADD COLUMN \"{}\" {ty}",
                    c.name
                ));
            }
            if !upgrade.segments.is_empty() {
                let names: Vec<&str> = upgrade.segments.iter().map(|c| c.name).collect();
                done.push(format!(
                    "added columns {} of call_segments",
                    names.join(", ")
                ));
            }
            for table in &upgrade.tables {
                statements.push(match *table {
                    "call_segments" => create_segments(db).to_owned(),
                    "missing_transcripts" => CREATE_MISSING_TRANSCRIPTS.to_owned(),
                    _ => CREATE_TRANSCRIPTS.to_owned(),
                });
            }
            if !upgrade.tables.is_empty() {
                done.push(format!("created tables {}", upgrade.tables.join(", ")));
            }
            (statements, done.join("; "))
        }
    };
    if matches!(plan, Plan::Create) && !db.is_postgres() {
        // A new SQLite file's pages are 16 KiB (SQLite's default is 4): fewer pages to
        // split and to log as a sync inserts calls all over the index of their UUIDs (about
        // 10 % less time), and fewer to read for a dashboard's scans. It takes effect only in
        // a file with nothing written yet.
        db.batch("PRAGMA page_size = 16384").await?;
    }
    db.begin().await?;
    let result = async {
        for statement in &statements {
            db.batch(statement).await?;
        }
        let version = db
            .query::<SqlValue>(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                &[],
            )
            .await?
            .first()
            .and_then(|r| r.first())
            .and_then(SqlValue::as_i64)
            .unwrap_or(0)
            + 1;
        db.execute(
            "INSERT INTO schema_migrations (version, schema_hash, layout_version, applied_at, \
             ccsqm_version, description) VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                SqlValue::Integer(version),
                SqlValue::Text(SCHEMA_HASH.to_owned()),
                SqlValue::Integer(LAYOUT_VERSION),
                SqlValue::Integer(now),
                SqlValue::Text(env!("CARGO_PKG_VERSION").to_owned()),
                SqlValue::Text(description.clone()),
            ],
        )
        .await?;
        for (key, value) in [
            ("application", APPLICATION.to_owned()),
            ("layout_version", LAYOUT_VERSION.to_string()),
            ("schema_hash", SCHEMA_HASH.to_owned()),
            ("ccsqm_version", env!("CARGO_PKG_VERSION").to_owned()),
        ] {
            db.execute("DELETE FROM ccsqm_meta WHERE key = $1", &[text(key)])
                .await?;
            db.execute(
                "INSERT INTO ccsqm_meta (key, value) VALUES ($1, $2)",
                &[text(key), SqlValue::Text(value)],
            )
            .await?;
        }
        Ok::<_, DbError>(())
    }
    .await;
    match result {
        Ok(()) => {
            if let Err(e) = db.commit().await {
                db.rollback().await;
                return Err(e);
            }
        }
        Err(e) => {
            db.rollback().await;
            return Err(e);
        }
    }
    Ok(Some(description))
}

fn create_statements(db: &Db) -> (&'static str, &'static str) {
    match db.is_postgres() {
        true => (
            generated::postgres::CREATE_CALLS,
            generated::postgres::CREATE_VIEW,
        ),
        false => (
            generated::sqlite::CREATE_CALLS,
            generated::sqlite::CREATE_VIEW,
        ),
    }
}

fn create_segments(db: &Db) -> &'static str {
    match db.is_postgres() {
        true => generated::postgres::CREATE_SEGMENTS,
        false => generated::sqlite::CREATE_SEGMENTS,
    }
}

fn text(s: &str) -> SqlValue {
    SqlValue::Text(s.to_owned())
}

fn list(names: &[String], at_most: usize) -> String {
    let mut shown: Vec<&str> = names.iter().take(at_most).map(String::as_str).collect();
    if names.len() > at_most {
        shown.push("…");
    }
    shown.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(meta: Option<&[(&str, &str)]>, tables: &[&str], calls: &[&str]) -> State {
        let mut tables: Vec<&str> = tables.to_vec();
        if meta.is_some() {
            // A database of this ccsqm has the transcripts' tables too.
            tables.extend(TRANSCRIPT_TABLES);
        }
        State {
            segments: match meta.is_some() {
                true => [KEY, SEGMENT_ORDER]
                    .into_iter()
                    .chain(SEGMENT_COLUMNS.iter().map(|c| c.name))
                    .map(str::to_owned)
                    .collect(),
                false => Vec::new(),
            },
            meta: meta.map(|m| {
                m.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            }),
            tables: tables.iter().map(|t| t.to_string()).collect(),
            calls: calls.iter().map(|c| c.to_string()).collect(),
        }
    }

    const OURS: &[(&str, &str)] = &[("application", APPLICATION), ("layout_version", "1")];

    fn all_columns() -> Vec<&'static str> {
        CALL_COLUMNS
            .iter()
            .map(|c| c.name)
            .chain(BOOKKEEPING)
            .collect()
    }

    #[test]
    fn an_empty_database_is_created_and_a_foreign_one_refused() {
        assert_eq!(plan(&state(None, &[], &[]), "db").unwrap(), Plan::Create);
        let err = plan(&state(None, &["orders"], &[]), "db").unwrap_err();
        assert!(err.0.contains("not ccsqm's"), "{err}");
        let err = plan(
            &state(Some(&[("application", "other")]), &["ccsqm_meta"], &[]),
            "db",
        )
        .unwrap_err();
        assert!(err.0.contains("not `ccsqm sync`'s"), "{err}");
    }

    #[test]
    fn missing_columns_are_added_and_unknown_ones_refused() {
        let columns = all_columns();
        assert_eq!(
            plan(&state(Some(OURS), &TABLES, &columns), "db").unwrap(),
            Plan::UpToDate
        );
        let fewer: Vec<&str> = columns.iter().copied().filter(|c| *c != "deal").collect();
        match plan(&state(Some(OURS), &TABLES, &fewer), "db").unwrap() {
            Plan::Upgrade(added) => {
                assert_eq!(
                    added.calls.iter().map(|c| c.name).collect::<Vec<_>>(),
                    ["deal"]
                );
                assert!(added.tables.is_empty() && added.segments.is_empty());
            }
            other => panic!("{other:?}"),
        }
        let mut more = columns.clone();
        more.push("drill_score");
        let err = plan(&state(Some(OURS), &TABLES, &more), "db").unwrap_err();
        assert!(
            err.0.contains("newer ccsqm") && err.0.contains("drill_score"),
            "{err}"
        );
    }

    #[test]
    fn the_transcripts_tables_and_columns_are_added_and_unknown_ones_refused() {
        let mut older = state(Some(OURS), &TABLES, &all_columns());
        older
            .tables
            .retain(|t| !TRANSCRIPT_TABLES.contains(&t.as_str()));
        older.segments.clear();
        match plan(&older, "db").unwrap() {
            Plan::Upgrade(u) => {
                assert_eq!(u.tables, TRANSCRIPT_TABLES);
                assert!(u.calls.is_empty() && u.segments.is_empty());
            }
            other => panic!("{other:?}"),
        }
        let mut fewer = state(Some(OURS), &TABLES, &all_columns());
        fewer.segments.retain(|c| c != "asr_text");
        match plan(&fewer, "db").unwrap() {
            Plan::Upgrade(u) => assert_eq!(
                u.segments.iter().map(|c| c.name).collect::<Vec<_>>(),
                ["asr_text"]
            ),
            other => panic!("{other:?}"),
        }
        let mut more = state(Some(OURS), &TABLES, &all_columns());
        more.segments.push("emotion".into());
        let err = plan(&more, "db").unwrap_err();
        assert!(
            err.0.contains("call_segments") && err.0.contains("emotion"),
            "{err}"
        );
    }

    #[test]
    fn a_newer_layout_is_refused() {
        let meta = [("application", APPLICATION), ("layout_version", "2")];
        let err = plan(&state(Some(&meta), &TABLES, &all_columns()), "db").unwrap_err();
        assert!(err.0.contains("newer ccsqm"), "{err}");
    }
}
