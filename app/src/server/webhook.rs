//! `POST /api/github/webhook`: GitHub tells us a pull request was merged or
//! closed. Deliveries are signed (`X-Hub-Signature-256`, HMAC-SHA256 of the
//! body) and recorded by id in the same transaction as their effect, so a
//! replayed delivery changes nothing.

use crate::server::auth::{now, same_secret};
use crate::server::{store, AppState};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// The signature header's value for `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[derive(Deserialize)]
struct PullRequestEvent {
    action: String,
    pull_request: EventPullRequest,
    repository: EventRepository,
}

#[derive(Deserialize)]
struct EventPullRequest {
    number: i64,
    #[serde(default)]
    merged: bool,
}

#[derive(Deserialize)]
struct EventRepository {
    full_name: String,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
    let Some(secret) = &state.config.github.webhook_secret else {
        return (StatusCode::NOT_FOUND, "webhooks are not configured on this site".to_string());
    };
    if !same_secret(&signature(secret, &body), header(&headers, "x-hub-signature-256")) {
        return (StatusCode::UNAUTHORIZED, "the signature does not match the body".to_string());
    }
    let delivery = header(&headers, "x-github-delivery");
    let event = header(&headers, "x-github-event");
    if delivery.is_empty() || event.is_empty() {
        return (StatusCode::BAD_REQUEST, "X-GitHub-Delivery and X-GitHub-Event are required".to_string());
    }
    match apply(&state, delivery, event, &body).await {
        Ok(message) => (StatusCode::OK, message),
        Err(Failure::BadPayload(message)) => (StatusCode::BAD_REQUEST, message),
        Err(Failure::Database(error)) => {
            tracing::error!("webhook {delivery}: {error}");
            // GitHub may redeliver: the delivery was not recorded.
            (StatusCode::INTERNAL_SERVER_ERROR, "the database failed; nothing was recorded".to_string())
        }
    }
}

enum Failure {
    BadPayload(String),
    Database(sqlx::Error),
}

impl From<sqlx::Error> for Failure {
    fn from(error: sqlx::Error) -> Self {
        Self::Database(error)
    }
}

async fn apply(state: &AppState, delivery: &str, event: &str, body: &[u8]) -> Result<String, Failure> {
    let pull_event = if event == "pull_request" {
        let parsed: PullRequestEvent = serde_json::from_slice(body)
            .map_err(|e| Failure::BadPayload(format!("not a pull_request event payload: {e}")))?;
        Some(parsed)
    } else {
        None
    };
    let mut tx = state.db.pool.begin().await?;
    let recorded = sqlx::query(
        "INSERT INTO webhook_deliveries (delivery_id, event, received_at) VALUES ($1, $2, $3) \
         ON CONFLICT (delivery_id) DO NOTHING",
    )
    .bind(delivery)
    .bind(event)
    .bind(now())
    .execute(&mut *tx)
    .await?;
    if recorded.rows_affected() == 0 {
        return Ok(format!("delivery {delivery} was handled before"));
    }
    let ours = state.github_repo().map(|repo| repo.full_name());
    let message = match pull_event {
        Some(e) if e.action == "closed" && ours.as_deref().is_some_and(|ours| ours.eq_ignore_ascii_case(&e.repository.full_name)) => {
            match store::submission_by_pull_request(&mut tx, e.pull_request.number).await? {
                Some(id) if store::settle_pull_request(&mut tx, id, e.pull_request.merged).await? => format!(
                    "submission {id} {}",
                    if e.pull_request.merged { "accepted" } else { "rejected" }
                ),
                Some(id) => format!("submission {id} was settled before"),
                None => format!("pull request #{} is not a submission", e.pull_request.number),
            }
        }
        _ => format!("{event} event ignored"),
    };
    tx.commit().await?;
    Ok(message)
}
