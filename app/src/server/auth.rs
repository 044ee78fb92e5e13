//! Who is asking: GitHub sign-in (OAuth web flow), sessions kept in the
//! database, and the CSRF token every state-changing form carries.

use crate::server::{github, AppState};
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};

pub const SESSION_COOKIE: &str = "playschool_session";
const STATE_COOKIE: &str = "playschool_oauth_state";
const SESSION_SECONDS: i64 = 30 * 86_400;

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares in time independent of where the strings differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `text` has the shape of a GitHub login (letters, digits, hyphens).
pub fn is_login(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// The signed-in person behind a request.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Viewer {
    pub user_id: i64,
    pub login: String,
    pub csrf_token: String,
}

/// A refusal a form handler answers with, as plain text.
#[derive(Debug)]
pub struct Refusal(pub StatusCode, pub String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.0, self.1).into_response()
    }
}

impl From<sqlx::Error> for Refusal {
    fn from(error: sqlx::Error) -> Self {
        tracing::error!("database error: {error}");
        Self(StatusCode::INTERNAL_SERVER_ERROR, "the database failed; nothing was changed".to_string())
    }
}

/// Back to `path` with a message shown above its forms.
pub fn back_with_error(path: &str, message: &str) -> Response {
    let mut url = url::Url::parse("http://site").expect("static URL");
    url.set_path(path);
    url.query_pairs_mut().append_pair("error", message);
    Redirect::to(&format!("{}?{}", url.path(), url.query().unwrap_or_default())).into_response()
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}

fn set_cookie(state: &AppState, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.config.secure_cookies() { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"))
        .expect("cookie values are hex")
}

/// The viewer of the session cookie in `headers`, if it names a live session.
pub async fn viewer(state: &AppState, headers: &HeaderMap) -> sqlx::Result<Option<Viewer>> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else { return Ok(None) };
    sqlx::query_as(
        "SELECT u.id AS user_id, u.login, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2",
    )
    .bind(token_hash(&token))
    .bind(now())
    .fetch_optional(&state.db.pool)
    .await
}

/// The viewer, who must be signed in and must have sent their form's CSRF token.
pub async fn form_viewer(state: &AppState, headers: &HeaderMap, csrf: &str) -> Result<Viewer, Refusal> {
    let viewer = viewer(state, headers)
        .await?
        .ok_or_else(|| Refusal(StatusCode::UNAUTHORIZED, "sign in first".to_string()))?;
    if !same_secret(&viewer.csrf_token, csrf) {
        return Err(Refusal(
            StatusCode::FORBIDDEN,
            "the form's security token does not match your session: reload the page and try again".to_string(),
        ));
    }
    Ok(viewer)
}

/// Records the GitHub account (or updates its login) and returns its user id.
pub async fn upsert_user(state: &AppState, github_id: i64, login: &str) -> sqlx::Result<i64> {
    let mut tx = state.db.pool.begin().await?;
    // A login freed by a rename on GitHub may belong to someone else now: the
    // earlier holder keeps their account under a key no login can take.
    sqlx::query("UPDATE users SET login_key = login_key || '#' || github_id WHERE login_key = $1 AND github_id <> $2")
        .bind(login.to_lowercase())
        .bind(github_id)
        .execute(&mut *tx)
        .await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO users (github_id, login, login_key, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (github_id) DO UPDATE SET login = excluded.login, login_key = excluded.login_key \
         RETURNING id",
    )
    .bind(github_id)
    .bind(login)
    .bind(login.to_lowercase())
    .bind(now())
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Starts a session for `user_id`; the answer sets its cookie and goes to `to`.
async fn sign_in(state: &AppState, user_id: i64, to: &str) -> Result<Response, Refusal> {
    let token = random_token();
    sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash(&token))
        .bind(user_id)
        .bind(random_token())
        .bind(now() + SESSION_SECONDS)
        .execute(&state.db.pool)
        .await?;
    let mut response = Redirect::to(to).into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(state, SESSION_COOKIE, &token, SESSION_SECONDS));
    response.headers_mut().append(header::SET_COOKIE, set_cookie(state, STATE_COOKIE, "", 0));
    Ok(response)
}

fn callback_url(state: &AppState) -> String {
    format!("{}/auth/github/callback", state.config.public_url)
}

/// `GET /auth/github`: off to GitHub's consent page, with a state only this browser knows.
pub async fn start_github(State(state): State<AppState>) -> Result<Response, Refusal> {
    let Some(app) = &state.config.github.oauth else {
        return Err(Refusal(StatusCode::NOT_FOUND, "GitHub sign-in is not configured on this site".to_string()));
    };
    let csrf_state = random_token();
    let mut authorize = url::Url::parse(&format!("{}/login/oauth/authorize", state.config.github.oauth_url))
        .map_err(|e| Refusal(StatusCode::INTERNAL_SERVER_ERROR, format!("bad GITHUB_OAUTH_URL: {e}")))?;
    authorize
        .query_pairs_mut()
        .append_pair("client_id", &app.client_id)
        .append_pair("redirect_uri", &callback_url(&state))
        .append_pair("state", &csrf_state)
        .append_pair("allow_signup", "true");
    let mut response = Redirect::to(authorize.as_str()).into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(&state, STATE_COOKIE, &csrf_state, 600));
    Ok(response)
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error_description: Option<String>,
}

/// `GET /auth/github/callback`: GitHub sends the browser back with a code.
pub async fn finish_github(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(callback): Query<Callback>,
) -> Result<Response, Refusal> {
    let refused = |message: String| Refusal(StatusCode::BAD_REQUEST, message);
    let Some(app) = &state.config.github.oauth else {
        return Err(Refusal(StatusCode::NOT_FOUND, "GitHub sign-in is not configured on this site".to_string()));
    };
    if let Some(reason) = callback.error_description {
        return Err(refused(format!("GitHub did not sign you in: {reason}")));
    }
    let expected = cookie(&headers, STATE_COOKIE).unwrap_or_default();
    let returned = callback.state.unwrap_or_default();
    if expected.is_empty() || !same_secret(&expected, &returned) {
        return Err(refused("the sign-in did not start from this browser (state mismatch): try again".to_string()));
    }
    let code = callback.code.filter(|c| !c.is_empty()).ok_or_else(|| refused("GitHub sent no code".to_string()))?;
    let failed = |e: github::GitHubError| Refusal(StatusCode::BAD_GATEWAY, e.to_string());
    let token = github::exchange_code(&state.config.github, app, &code, &callback_url(&state)).await.map_err(failed)?;
    let user = github::signed_in_user(&state.config.github, &token).await.map_err(failed)?;
    let user_id = upsert_user(&state, user.id, &user.login).await?;
    sign_in(&state, user_id, "/team").await
}

#[derive(Deserialize)]
pub struct DevSignIn {
    login: String,
}

/// `POST /auth/dev`: sign in as any login without GitHub; only where explicitly enabled.
pub async fn dev_sign_in(State(state): State<AppState>, Form(form): Form<DevSignIn>) -> Result<Response, Refusal> {
    if !state.config.dev_sign_in {
        return Err(Refusal(StatusCode::FORBIDDEN, "development sign-in is disabled on this site".to_string()));
    }
    let login = form.login.trim();
    if !is_login(login) {
        return Err(Refusal(StatusCode::BAD_REQUEST, format!("\"{login}\" is not a GitHub-style login")));
    }
    // Development accounts get negative ids, which GitHub never hands out.
    let digest = Sha256::digest(login.to_lowercase().as_bytes());
    let id = -i64::from_be_bytes([0, digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6]]) - 1;
    let user_id = upsert_user(&state, id, login).await?;
    sign_in(&state, user_id, "/team").await
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

/// `POST /auth/sign-out`
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, Refusal> {
    form_viewer(&state, &headers, &form.csrf).await?;
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash(&token)).execute(&state.db.pool).await?;
    }
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(&state, SESSION_COOKIE, "", 0));
    Ok(response)
}
