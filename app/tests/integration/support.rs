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
        self.state_with(&[])
    }

    /// The app's state with these environment variables set.
    pub fn state_with(&self, vars: &[(&str, String)]) -> AppState {
        let config = Config::from_vars(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()))
            .expect("test config");
        AppState::new(config, self.db.clone()).expect("app state")
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

/// A browser's worth of state against the router: cookies kept between requests.
pub struct Browser {
    pub state: AppState,
    cookies: std::collections::BTreeMap<String, String>,
}

/// An answer: status, where it redirects to, body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

pub const BOUNDARY: &str = "playschool-test-boundary";

/// A multipart/form-data body: text fields, then files (input name, file name, bytes).
pub fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").bytes());
    }
    for (name, file_name, bytes) in files {
        body.extend(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{BOUNDARY}--\r\n").bytes());
    body
}

impl Browser {
    pub fn new(state: AppState) -> Self {
        Self { state, cookies: Default::default() }
    }

    pub fn cookie(&self, name: &str) -> Option<&String> {
        self.cookies.get(name)
    }

    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.insert(name.to_string(), value.to_string());
    }

    pub async fn send(&mut self, request: axum::http::request::Builder, body: Vec<u8>) -> Answer {
        let cookie_header: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let request = request.header("cookie", cookie_header.join("; ")).body(Body::from(body)).unwrap();
        let response = site::router(self.state.clone()).oneshot(request).await.expect("response");
        for value in response.headers().get_all("set-cookie") {
            let value = value.to_str().unwrap();
            let (pair, attributes) = value.split_once(';').unwrap_or((value, ""));
            let (name, content) = pair.split_once('=').unwrap();
            if content.is_empty() || attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), content.to_string());
            }
        }
        let status = response.status().as_u16();
        let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_string());
        let body = response.into_body().collect().await.expect("body").to_bytes();
        Answer { status, location, body: String::from_utf8_lossy(&body).into_owned() }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        self.send(axum::http::Request::get(path), Vec::new()).await
    }

    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let request = axum::http::Request::post(path).header("content-type", "application/x-www-form-urlencoded");
        self.send(request, body.into_bytes()).await
    }

    pub async fn post_multipart(&mut self, path: &str, body: Vec<u8>) -> Answer {
        let request = axum::http::Request::post(path)
            .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"));
        self.send(request, body).await
    }

    /// Signs in through the development sign-in (the state must enable it).
    pub async fn dev_sign_in(&mut self, login: &str) {
        let answer = self.post_form("/auth/dev", &[("login", login)]).await;
        assert_eq!(answer.status, 303, "{}", answer.body);
    }

    /// The CSRF token of the signed-in session, read from a page's form as a browser would.
    pub async fn csrf(&mut self) -> String {
        let page = self.get("/team").await.body;
        let start = page.find(r#"name="csrf" value=""#).expect("a form with a CSRF token on /team") + 19;
        page[start..].split('"').next().unwrap().to_string()
    }
}
