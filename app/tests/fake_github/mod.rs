//! A fake GitHub for tests: an in-process axum server with real state that
//! implements the OAuth and REST endpoints Playschool uses, sends signed
//! webhook deliveries, and can be told to fail (5xx) or stall.
//!
//! It also serves a minimal pull-request page with Merge and Close buttons,
//! so the browser tests can act as an organizer on "GitHub".

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const OWNER: &str = "lm-playschool";
pub const REPO: &str = "challenge";
pub const APP_TOKEN: &str = "app-token";
pub const CLIENT_ID: &str = "client-id";
pub const CLIENT_SECRET: &str = "client-secret";
pub const WEBHOOK_SECRET: &str = "webhook-secret";

#[derive(Clone, Debug)]
pub struct Pull {
    pub number: i64,
    pub title: String,
    pub body: String,
    pub head: String,
    pub base: String,
    pub open: bool,
    pub merged: bool,
}

#[derive(Default)]
pub struct Repo {
    /// branch → README text at its head
    pub branches: HashMap<String, String>,
    /// branch → head commit sha
    pub heads: HashMap<String, String>,
    pub pulls: Vec<Pull>,
    /// README commits made through the contents API
    pub commits: usize,
}

#[derive(Default)]
struct Inner {
    repo: Repo,
    /// OAuth code → (user id, login); access token → (user id, login)
    codes: HashMap<String, (i64, String)>,
    tokens: HashMap<String, (i64, String)>,
    users: HashMap<String, i64>,
    /// Answer the next this-many API calls with 502.
    failures_left: u32,
    /// Whether to stall the next API call past any client timeout.
    stall_next: bool,
    /// Create the next pull request, then answer 502 as if the answer was lost.
    lose_next_pull_answer: bool,
    requests: Vec<String>,
    counter: u64,
    /// Where webhook deliveries go (browser tests); integration tests take them as values.
    webhook_url: Option<String>,
}

impl Inner {
    fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }
}

#[derive(Clone)]
pub struct FakeGitHub {
    inner: Arc<Mutex<Inner>>,
    pub url: String,
}

/// A webhook delivery as GitHub would send it.
pub struct Delivery {
    pub id: String,
    pub event: String,
    pub body: Vec<u8>,
    pub signature: String,
}

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl FakeGitHub {
    /// Starts the fake on `addr` (port 0 for any) with `readme` on the main branch.
    pub async fn start(addr: &str, readme: &str) -> Self {
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind the fake GitHub");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mut inner = Inner::default();
        inner.repo.branches.insert("main".into(), readme.to_string());
        inner.repo.heads.insert("main".into(), "0000000000000000000000000000000000000001".into());
        let fake = Self { inner: Arc::new(Mutex::new(inner)), url };
        let app = router(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        fake
    }

    /// The environment that points Playschool at this fake.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GITHUB_API_URL", self.url.clone()),
            ("GITHUB_OAUTH_URL", self.url.clone()),
            ("GITHUB_CLIENT_ID", CLIENT_ID.into()),
            ("GITHUB_CLIENT_SECRET", CLIENT_SECRET.into()),
            ("GITHUB_REPOSITORY", format!("{OWNER}/{REPO}")),
            ("GITHUB_TOKEN", APP_TOKEN.into()),
            ("GITHUB_WEBHOOK_SECRET", WEBHOOK_SECRET.into()),
        ]
    }

    pub fn fail_next(&self, calls: u32) {
        self.inner.lock().unwrap().failures_left = calls;
    }

    pub fn stall_next(&self) {
        self.inner.lock().unwrap().stall_next = true;
    }

    pub fn lose_next_pull_answer(&self) {
        self.inner.lock().unwrap().lose_next_pull_answer = true;
    }

    pub fn send_webhooks_to(&self, url: &str) {
        self.inner.lock().unwrap().webhook_url = Some(url.to_string());
    }

    pub fn with_repo<T>(&self, read: impl FnOnce(&Repo) -> T) -> T {
        read(&self.inner.lock().unwrap().repo)
    }

    pub fn requests(&self) -> Vec<String> {
        self.inner.lock().unwrap().requests.clone()
    }

    /// What GitHub's consent page hands back for `login`: a one-time code.
    pub fn authorize(&self, login: &str) -> String {
        let mut inner = self.inner.lock().unwrap();
        let next_id = 1000 + inner.users.len() as i64;
        let id = *inner.users.entry(login.to_string()).or_insert(next_id);
        let code = format!("code-{}", inner.next());
        inner.codes.insert(code.clone(), (id, login.to_string()));
        code
    }

    /// Merges or closes pull request `number` as someone on GitHub would; returns the delivery.
    pub fn decide(&self, number: i64, merge: bool) -> Delivery {
        let mut inner = self.inner.lock().unwrap();
        let pull = inner.repo.pulls.iter_mut().find(|p| p.number == number).expect("no such pull request");
        pull.open = false;
        pull.merged = merge;
        let (head, base) = (pull.head.clone(), pull.base.clone());
        if merge {
            let text = inner.repo.branches[&head].clone();
            inner.repo.branches.insert(base, text);
        }
        let id = format!("delivery-{}", inner.next());
        drop(inner);
        self.delivery(id, number, merge)
    }

    /// The delivery GitHub sends when pull request `number` is closed.
    pub fn delivery(&self, id: String, number: i64, merged: bool) -> Delivery {
        let body = serde_json::to_vec(&json!({
            "action": "closed",
            "number": number,
            "pull_request": { "number": number, "merged": merged, "state": "closed" },
            "repository": { "full_name": format!("{OWNER}/{REPO}") },
        }))
        .unwrap();
        Delivery { id, event: "pull_request".into(), signature: sign(&body), body }
    }
}

fn pull_json(url: &str, pull: &Pull, heads: &HashMap<String, String>) -> Value {
    json!({
        "number": pull.number,
        "html_url": format!("{url}/{OWNER}/{REPO}/pull/{}", pull.number),
        "state": if pull.open { "open" } else { "closed" },
        "merged": pull.merged,
        "title": pull.title,
        "body": pull.body,
        "head": { "ref": pull.head, "sha": heads.get(&pull.head).cloned().unwrap_or_default() },
        "base": { "ref": pull.base },
    })
}

fn github_error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "message": message, "documentation_url": "https://docs.github.com/rest" }))).into_response()
}

/// Logs the call, then fails or stalls it when told to; `None` lets it through.
async fn gate(fake: &FakeGitHub, method: &str, path: &str) -> Option<Response> {
    let stall = {
        let mut inner = fake.inner.lock().unwrap();
        inner.requests.push(format!("{method} {path}"));
        if inner.failures_left > 0 {
            inner.failures_left -= 1;
            return Some(github_error(StatusCode::BAD_GATEWAY, "Server Error"));
        }
        std::mem::take(&mut inner.stall_next)
    };
    if stall {
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    None
}

fn authorized(fake: &FakeGitHub, headers: &HeaderMap) -> Option<(i64, String)> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("token "))?;
    if token == APP_TOKEN {
        return Some((1, "playschool-bot".into()));
    }
    fake.inner.lock().unwrap().tokens.get(token).cloned()
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    redirect_uri: String,
    state: String,
    client_id: String,
}

async fn authorize_page(Query(q): Query<AuthorizeQuery>) -> Response {
    if q.client_id != CLIENT_ID {
        return (StatusCode::BAD_REQUEST, "unknown client_id").into_response();
    }
    Html(format!(
        "<!doctype html><title>Authorize Playschool</title><h1>Authorize Playschool</h1>\
         <form method=post><input type=hidden name=redirect_uri value=\"{}\"><input type=hidden name=state value=\"{}\">\
         <label>Login <input name=login></label><button type=submit>Authorize</button></form>",
        q.redirect_uri, q.state
    ))
    .into_response()
}

#[derive(Deserialize)]
struct AuthorizeForm {
    redirect_uri: String,
    state: String,
    login: String,
}

async fn authorize_submit(State(fake): State<FakeGitHub>, Form(form): Form<AuthorizeForm>) -> Response {
    let code = fake.authorize(&form.login);
    let mut target = url::Url::parse(&form.redirect_uri).unwrap();
    target.query_pairs_mut().append_pair("code", &code).append_pair("state", &form.state);
    Redirect::to(target.as_str()).into_response()
}

async fn access_token(State(fake): State<FakeGitHub>, Json(body): Json<Value>) -> Response {
    if body["client_id"] != CLIENT_ID || body["client_secret"] != CLIENT_SECRET {
        return Json(json!({ "error": "incorrect_client_credentials", "error_description": "The client_id and/or client_secret passed are incorrect." })).into_response();
    }
    let mut inner = fake.inner.lock().unwrap();
    let Some(user) = body["code"].as_str().and_then(|code| inner.codes.remove(code)) else {
        return Json(json!({ "error": "bad_verification_code", "error_description": "The code passed is incorrect or expired." })).into_response();
    };
    let token = format!("user-token-{}", inner.next());
    inner.tokens.insert(token.clone(), user);
    Json(json!({ "access_token": token, "token_type": "bearer", "scope": "" })).into_response()
}

async fn user(State(fake): State<FakeGitHub>, headers: HeaderMap) -> Response {
    if let Some(failure) = gate(&fake, "GET", "/user").await {
        return failure;
    }
    match authorized(&fake, &headers) {
        Some((id, login)) => Json(json!({ "id": id, "login": login })).into_response(),
        None => github_error(StatusCode::UNAUTHORIZED, "Bad credentials"),
    }
}

#[derive(Deserialize)]
struct PullsQuery {
    head: Option<String>,
}

async fn list_pulls(State(fake): State<FakeGitHub>, headers: HeaderMap, Query(q): Query<PullsQuery>) -> Response {
    if let Some(failure) = gate(&fake, "GET", "pulls").await {
        return failure;
    }
    if authorized(&fake, &headers).is_none() {
        return github_error(StatusCode::UNAUTHORIZED, "Bad credentials");
    }
    let inner = fake.inner.lock().unwrap();
    let head = q.head.as_deref().and_then(|h| h.split_once(':')).map(|(_, branch)| branch.to_string());
    let pulls: Vec<Value> = inner
        .repo
        .pulls
        .iter()
        .filter(|p| head.as_ref().is_none_or(|h| &p.head == h))
        .map(|p| pull_json(&fake.url, p, &inner.repo.heads))
        .collect();
    Json(pulls).into_response()
}

async fn get_ref(State(fake): State<FakeGitHub>, Path(branch): Path<String>) -> Response {
    if let Some(failure) = gate(&fake, "GET", "git/ref").await {
        return failure;
    }
    let inner = fake.inner.lock().unwrap();
    match inner.repo.heads.get(&branch) {
        Some(sha) => Json(json!({ "ref": format!("refs/heads/{branch}"), "object": { "sha": sha, "type": "commit" } })).into_response(),
        None => github_error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn create_ref(State(fake): State<FakeGitHub>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if let Some(failure) = gate(&fake, "POST", "git/refs").await {
        return failure;
    }
    if authorized(&fake, &headers).is_none() {
        return github_error(StatusCode::UNAUTHORIZED, "Bad credentials");
    }
    let mut inner = fake.inner.lock().unwrap();
    let branch = body["ref"].as_str().unwrap_or_default().trim_start_matches("refs/heads/").to_string();
    let sha = body["sha"].as_str().unwrap_or_default().to_string();
    if inner.repo.branches.contains_key(&branch) {
        return github_error(StatusCode::UNPROCESSABLE_ENTITY, "Reference already exists");
    }
    let Some(base) = inner.repo.heads.iter().find(|(_, head)| **head == sha).map(|(b, _)| b.clone()) else {
        return github_error(StatusCode::UNPROCESSABLE_ENTITY, "Object does not exist");
    };
    let text = inner.repo.branches[&base].clone();
    inner.repo.branches.insert(branch.clone(), text);
    inner.repo.heads.insert(branch.clone(), sha.clone());
    (StatusCode::CREATED, Json(json!({ "ref": format!("refs/heads/{branch}"), "object": { "sha": sha } }))).into_response()
}

#[derive(Deserialize)]
struct ContentsQuery {
    r#ref: Option<String>,
}

async fn get_contents(State(fake): State<FakeGitHub>, Path(path): Path<String>, Query(q): Query<ContentsQuery>) -> Response {
    if let Some(failure) = gate(&fake, "GET", "contents").await {
        return failure;
    }
    let inner = fake.inner.lock().unwrap();
    let branch = q.r#ref.unwrap_or_else(|| "main".into());
    match (path.as_str(), inner.repo.branches.get(&branch)) {
        ("README.md", Some(text)) => {
            let encoded = base64::engine::general_purpose::STANDARD.encode(text);
            // GitHub wraps the base64 at 60 columns.
            let wrapped: Vec<String> =
                encoded.as_bytes().chunks(60).map(|c| String::from_utf8(c.to_vec()).unwrap()).collect();
            Json(json!({ "content": wrapped.join("\n"), "encoding": "base64", "sha": inner.repo.heads[&branch], "path": path }))
                .into_response()
        }
        _ => github_error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn put_contents(State(fake): State<FakeGitHub>, headers: HeaderMap, Path(path): Path<String>, Json(body): Json<Value>) -> Response {
    if let Some(failure) = gate(&fake, "PUT", "contents").await {
        return failure;
    }
    if authorized(&fake, &headers).is_none() {
        return github_error(StatusCode::UNAUTHORIZED, "Bad credentials");
    }
    let mut inner = fake.inner.lock().unwrap();
    let branch = body["branch"].as_str().unwrap_or("main").to_string();
    if path != "README.md" || !inner.repo.branches.contains_key(&branch) {
        return github_error(StatusCode::NOT_FOUND, "Not Found");
    }
    if body["sha"].as_str() != inner.repo.heads.get(&branch).map(String::as_str) {
        return github_error(StatusCode::CONFLICT, "README.md does not match the given sha");
    }
    let Some(text) = body["content"]
        .as_str()
        .and_then(|c| base64::engine::general_purpose::STANDARD.decode(c).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
    else {
        return github_error(StatusCode::UNPROCESSABLE_ENTITY, "content is not valid Base64");
    };
    let sha = format!("{:040x}", inner.next() + 0x1000);
    inner.repo.branches.insert(branch.clone(), text);
    inner.repo.heads.insert(branch, sha.clone());
    inner.repo.commits += 1;
    Json(json!({ "content": { "path": path, "sha": sha }, "commit": { "sha": sha } })).into_response()
}

async fn create_pull(State(fake): State<FakeGitHub>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if let Some(failure) = gate(&fake, "POST", "pulls").await {
        return failure;
    }
    if authorized(&fake, &headers).is_none() {
        return github_error(StatusCode::UNAUTHORIZED, "Bad credentials");
    }
    let mut inner = fake.inner.lock().unwrap();
    let head = body["head"].as_str().unwrap_or_default().to_string();
    if !inner.repo.branches.contains_key(&head) {
        return github_error(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed: head does not exist");
    }
    if inner.repo.pulls.iter().any(|p| p.head == head && p.open) {
        return github_error(StatusCode::UNPROCESSABLE_ENTITY, "A pull request already exists for this branch.");
    }
    let pull = Pull {
        number: inner.repo.pulls.len() as i64 + 1,
        title: body["title"].as_str().unwrap_or_default().into(),
        body: body["body"].as_str().unwrap_or_default().into(),
        head,
        base: body["base"].as_str().unwrap_or("main").into(),
        open: true,
        merged: false,
    };
    inner.repo.pulls.push(pull.clone());
    if std::mem::take(&mut inner.lose_next_pull_answer) {
        return github_error(StatusCode::BAD_GATEWAY, "Server Error");
    }
    (StatusCode::CREATED, Json(pull_json(&fake.url, &pull, &inner.repo.heads))).into_response()
}

async fn get_pull(State(fake): State<FakeGitHub>, Path(number): Path<i64>) -> Response {
    if let Some(failure) = gate(&fake, "GET", "pull").await {
        return failure;
    }
    let inner = fake.inner.lock().unwrap();
    match inner.repo.pulls.iter().find(|p| p.number == number) {
        Some(pull) => Json(pull_json(&fake.url, pull, &inner.repo.heads)).into_response(),
        None => github_error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn merge_pull(State(fake): State<FakeGitHub>, headers: HeaderMap, Path(number): Path<i64>) -> Response {
    if let Some(failure) = gate(&fake, "PUT", "merge").await {
        return failure;
    }
    if authorized(&fake, &headers).is_none() {
        return github_error(StatusCode::UNAUTHORIZED, "Bad credentials");
    }
    let open = fake.with_repo(|repo| repo.pulls.iter().find(|p| p.number == number).map(|p| p.open));
    match open {
        None => github_error(StatusCode::NOT_FOUND, "Not Found"),
        Some(false) => github_error(StatusCode::METHOD_NOT_ALLOWED, "Pull Request is not mergeable"),
        Some(true) => {
            let delivery = fake.decide(number, true);
            deliver(&fake, delivery).await;
            Json(json!({ "merged": true, "message": "Pull Request successfully merged" })).into_response()
        }
    }
}

/// Posts `delivery` to the configured webhook address, if there is one.
async fn deliver(fake: &FakeGitHub, delivery: Delivery) {
    let Some(url) = fake.inner.lock().unwrap().webhook_url.clone() else { return };
    let result = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("x-github-event", delivery.event)
        .header("x-github-delivery", delivery.id)
        .header("x-hub-signature-256", delivery.signature)
        .body(delivery.body)
        .send()
        .await;
    if let Err(error) = result {
        eprintln!("fake GitHub: webhook delivery failed: {error}");
    }
}

/// The pull request as a person sees it on "GitHub": its diff and two buttons.
async fn pull_page(State(fake): State<FakeGitHub>, Path(number): Path<i64>) -> Response {
    let inner = fake.inner.lock().unwrap();
    let Some(pull) = inner.repo.pulls.iter().find(|p| p.number == number) else {
        return (StatusCode::NOT_FOUND, "no such pull request").into_response();
    };
    let base = inner.repo.branches.get(&pull.base).cloned().unwrap_or_default();
    let head = inner.repo.branches.get(&pull.head).cloned().unwrap_or_default();
    let added: Vec<String> = head
        .lines()
        .filter(|line| !base.lines().any(|b| b == *line))
        .map(|line| format!("<li class=added>+ {}</li>", html_escape(line)))
        .collect();
    let state = match (pull.open, pull.merged) {
        (true, _) => "Open",
        (false, true) => "Merged",
        (false, false) => "Closed",
    };
    Html(format!(
        "<!doctype html><title>Pull request #{number}</title><h1>{} #{number}</h1><p class=state>{state}</p>\
         <pre class=body>{}</pre><ul class=diff>{}</ul>\
         <form method=post action=\"/{OWNER}/{REPO}/pull/{number}/merge\"><button>Merge pull request</button></form>\
         <form method=post action=\"/{OWNER}/{REPO}/pull/{number}/close\"><button>Close pull request</button></form>",
        html_escape(&pull.title),
        html_escape(&pull.body),
        added.join("")
    ))
    .into_response()
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

async fn page_decide(State(fake): State<FakeGitHub>, Path((number, action)): Path<(i64, String)>) -> Response {
    let open = fake.with_repo(|repo| repo.pulls.iter().any(|p| p.number == number && p.open));
    if open {
        let delivery = fake.decide(number, action == "merge");
        deliver(&fake, delivery).await;
    }
    Redirect::to(&format!("/{OWNER}/{REPO}/pull/{number}")).into_response()
}

fn router(fake: FakeGitHub) -> Router {
    let repo = format!("/repos/{OWNER}/{REPO}");
    Router::new()
        .route("/login/oauth/authorize", get(authorize_page).post(authorize_submit))
        .route("/login/oauth/access_token", post(access_token))
        .route("/user", get(user))
        .route(&format!("{repo}/pulls"), get(list_pulls).post(create_pull))
        .route(&format!("{repo}/pulls/{{number}}"), get(get_pull))
        .route(&format!("{repo}/pulls/{{number}}/merge"), put(merge_pull))
        .route(&format!("{repo}/git/ref/heads/{{branch}}"), get(get_ref))
        .route(&format!("{repo}/git/refs"), post(create_ref))
        .route(&format!("{repo}/contents/{{*path}}"), get(get_contents).put(put_contents))
        .route(&format!("/{OWNER}/{REPO}/pull/{{number}}"), get(pull_page))
        .route(&format!("/{OWNER}/{REPO}/pull/{{number}}/{{action}}"), post(page_decide))
        .with_state(fake)
}
