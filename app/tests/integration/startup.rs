//! Opening databases: the errors a deployment can meet, each a clear message.

use crate::on_each_database;
use crate::support::TestDb;
use playschool::server::db::{self, DbError};

on_each_database!(a_database_ahead_of_the_program_is_refused);

async fn a_database_ahead_of_the_program_is_refused(t: &TestDb) {
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES ($1, 'from a newer release', TRUE, $2, 0)",
    )
    .bind(99990101000000_i64)
    .bind(vec![0_u8])
    .execute(&t.db.pool)
    .await
    .unwrap();
    let error = db::migrate(&t.db).await.unwrap_err();
    assert!(matches!(error, DbError::UnknownMigration(99990101000000)), "{error:?}");
    assert_eq!(
        error.to_string(),
        "the database has migration 99990101000000 applied, which this build does not know \
         (is the database newer than the program?)"
    );
}

#[tokio::test]
async fn an_unreachable_postgres_server_is_named_without_its_password() {
    let error = db::connect("postgres://ann:secret@127.0.0.1:1/playschool").await.unwrap_err();
    let message = error.to_string();
    assert!(message.starts_with("cannot open database postgres://ann:***@127.0.0.1:1/playschool: "), "{message}");
    assert!(!message.contains("secret"));
}

#[tokio::test]
async fn a_malformed_database_url_is_refused() {
    let error = db::connect("postgres://[not-a-host/db").await.unwrap_err();
    assert!(error.to_string().starts_with("cannot open database postgres://[not-a-host/db: "), "{error}");
}

#[tokio::test]
async fn an_unwritable_sqlite_path_is_refused() {
    let error = db::connect("sqlite:///proc/playschool/x.db").await.unwrap_err();
    assert!(error.to_string().starts_with("cannot open database sqlite:///proc/playschool/x.db: "), "{error}");
}
