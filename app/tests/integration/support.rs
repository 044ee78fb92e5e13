use axum::body::Body;
use http_body_util::BodyExt;
use playschool::server::config::Config;
use playschool::server::db::{self, Db};
use playschool::server::{site, AppState};
use sqlx::Connection;
use tower::ServiceExt;

/// A fresh, migrated and seeded database that removes itself afterwards.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

fn postgres_admin_url() -> Option<String> {
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("TEST_POSTGRES_URL must be set in CI: the PostgreSQL suite may not be skipped")
        }
        _ => None,
    }
}

/// The server URL of `admin_url` with another database name.
fn with_database(admin_url: &str, database: &str) -> String {
    let (base, query) = admin_url.split_once('?').map_or((admin_url, None), |(b, q)| (b, Some(q)));
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    match query {
        Some(query) => format!("{server}/{database}?{query}"),
        None => format!("{server}/{database}"),
    }
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("playschool.db").display());
        let db = db::open(&url).await.expect("open sqlite");
        Self { db, url, _dir: Some(dir), postgres: None }
    }

    /// `None` (and a note) when no PostgreSQL server is configured outside CI.
    pub async fn postgres() -> Option<Self> {
        let Some(admin_url) = postgres_admin_url() else {
            eprintln!("skipped: set TEST_POSTGRES_URL to run the PostgreSQL variant");
            return None;
        };
        let name = format!("playschool_test_{}_{}", std::process::id(), unique());
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.expect("connect to TEST_POSTGRES_URL");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("create database");
        admin.close().await.ok();
        let url = with_database(&admin_url, &name);
        let db = db::open(&url).await.expect("open postgres");
        Some(Self { db, url, _dir: None, postgres: Some((admin_url, name)) })
    }

    pub fn state(&self) -> AppState {
        let config = Config::from_vars(|_| None).expect("default config");
        AppState { leptos_options: site::leptos_options(&config), db: self.db.clone() }
    }

    /// Sends one request through the full router; returns status and body.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let request = axum::http::Request::get(path).body(Body::empty()).unwrap();
        let response = site::router(self.state()).oneshot(request).await.expect("response");
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.expect("body").to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// The dev board, one line per row: "1 Name (Team)" or "- Name (Team): reason".
    pub async fn standings(&self) -> Vec<String> {
        let board = playschool::server::board::load(&self.db, playschool::model::PhaseKind::Dev).await.unwrap();
        board
            .rows
            .iter()
            .map(|r| match (r.rank, &r.unranked_reason) {
                (Some(rank), _) => format!("{rank} {} ({})", r.name, r.team),
                (None, reason) => format!("- {} ({}): {}", r.name, r.team, reason.as_deref().unwrap_or_default()),
            })
            .collect()
    }

    pub async fn execute(&self, sql: &str) {
        sqlx::query(sql).execute(&self.db.pool).await.expect(sql);
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else { return };
        // Drop runs outside async: use a short-lived runtime of its own.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut admin)
                        .await;
                }
            });
        })
        .join()
        .ok();
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    u64::from(nanos) * 1000 + NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Declares each listed `async fn(&TestDb)` as two tests, one per database.
#[macro_export]
macro_rules! on_each_database {
    ($($test:ident),* $(,)?) => {
        $(
            mod $test {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let db = $crate::support::TestDb::sqlite().await;
                    super::$test(&db).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(db) = $crate::support::TestDb::postgres().await {
                        super::$test(&db).await;
                    }
                }
            }
        )*
    };
}
