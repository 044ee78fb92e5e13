//! The database: SQLite (embedded default) or PostgreSQL, behind one pool.
//! Queries are written once in SQL both accept; the schema has one migration
//! folder per backend, kept in step by number.

use sqlx::any::{AnyPoolOptions, AnyConnectOptions};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::time::Duration;
use thiserror::Error;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
}

#[derive(Debug, Error)]
pub enum DbError {
    #[error("cannot open database {url}: {reason}")]
    Open { url: String, reason: String },
    #[error("the database has migration {0} applied, which this build does not know (is the database newer than the program?)")]
    UnknownMigration(i64),
    #[error("migration {0} changed after it was applied to this database")]
    ChangedMigration(i64),
    #[error("cannot migrate the database: {0}")]
    Migrate(MigrateError),
}

/// Hides the password of a database URL, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

fn sqlite_url(url: &str) -> Result<String, String> {
    // `sqlite://data/x.db` names a file relative to the working directory; create its folder
    // and the file itself on first run.
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() {
        return Err("no file name after sqlite://".to_string());
    }
    if path != ":memory:" {
        if let Some(parent) = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create folder {}: {e}", parent.display()))?;
        }
    }
    Ok(if url.contains("mode=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    })
}

/// Opens the database named by `url` and checks that it answers.
pub async fn connect(url: &str) -> Result<Db, DbError> {
    sqlx::any::install_default_drivers();
    let open_error = |reason: String| DbError::Open { url: redact_url(url), reason };
    let backend = if url.starts_with("sqlite:") { Backend::Sqlite } else { Backend::Postgres };
    let url = match backend {
        Backend::Sqlite => sqlite_url(url).map_err(open_error)?,
        Backend::Postgres => url.to_string(),
    };
    let options = AnyConnectOptions::from_str(&url).map_err(|e| open_error(e.to_string()))?;
    let pool = AnyPoolOptions::new()
        .max_connections(if backend == Backend::Sqlite { 4 } else { 10 })
        .acquire_timeout(Duration::from_secs(5))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    conn.execute("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;")
                        .await?;
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .map_err(|e| open_error(e.to_string()))?;
    Ok(Db { pool, backend })
}

/// Brings the schema up to date; refuses a database that is ahead of this build.
pub async fn migrate(db: &Db) -> Result<(), DbError> {
    let migrator = match db.backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    };
    migrator.run(&db.pool).await.map_err(|error| match error {
        MigrateError::VersionMissing(version) => DbError::UnknownMigration(version),
        MigrateError::VersionMismatch(version) => DbError::ChangedMigration(version),
        other => DbError::Migrate(other),
    })
}

/// Connects, migrates and loads the seed data on first start.
pub async fn open(url: &str) -> Result<Db, DbError> {
    let db = connect(url).await?;
    migrate(&db).await?;
    crate::server::seed::seed_if_empty(&db)
        .await
        .map_err(|e| DbError::Open { url: redact_url(url), reason: format!("cannot load the seed data: {e}") })?;
    Ok(db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(redact_url("postgres://ann:secret@db:5432/x"), "postgres://ann:***@db:5432/x");
        assert_eq!(redact_url("postgres://ann@db/x"), "postgres://ann@db/x");
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
    }
}
