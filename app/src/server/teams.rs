//! Teams: create one, invite by GitHub login, join on invitation, leave.
//! One team per person per challenge; names are unique ignoring case and spacing.

use crate::domain::readme_table::name_key;
use crate::model::PhaseKind;
use crate::server::auth::{back_with_error, form_viewer, is_login, Refusal, Viewer};
use crate::server::{store, AppState};
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

pub const MAX_TEAM_NAME_CHARS: usize = 60;

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Membership {
    pub team_id: i64,
    pub team_name: String,
}

async fn challenge_id(state: &AppState) -> Result<i64, Refusal> {
    store::phase(&state.db, PhaseKind::Dev)
        .await?
        .map(|phase| phase.challenge_id)
        .ok_or_else(|| Refusal(StatusCode::NOT_FOUND, "there is no challenge to join".to_string()))
}

pub async fn membership(state: &AppState, challenge_id: i64, user_id: i64) -> sqlx::Result<Option<Membership>> {
    sqlx::query_as(
        "SELECT t.id AS team_id, t.name AS team_name FROM team_members m JOIN teams t ON t.id = m.team_id \
         WHERE m.challenge_id = $1 AND m.user_id = $2",
    )
    .bind(challenge_id)
    .bind(user_id)
    .fetch_optional(&state.db.pool)
    .await
}

pub async fn member_logins(state: &AppState, team_id: i64) -> sqlx::Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT u.login FROM team_members m JOIN users u ON u.id = m.user_id WHERE m.team_id = $1 ORDER BY u.login_key",
    )
    .bind(team_id)
    .fetch_all(&state.db.pool)
    .await?;
    Ok(rows.into_iter().map(|(login,)| login).collect())
}

pub async fn invited_logins(state: &AppState, team_id: i64) -> sqlx::Result<Vec<String>> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT login_key FROM team_invites WHERE team_id = $1 ORDER BY login_key")
            .bind(team_id)
            .fetch_all(&state.db.pool)
            .await?;
    Ok(rows.into_iter().map(|(login,)| login).collect())
}

/// Teams that invited `login`: (team id, team name, who invited).
pub async fn invitations(state: &AppState, challenge_id: i64, login: &str) -> sqlx::Result<Vec<(i64, String, String)>> {
    sqlx::query_as(
        "SELECT t.id, t.name, u.login FROM team_invites i JOIN teams t ON t.id = i.team_id \
         JOIN users u ON u.id = i.invited_by WHERE t.challenge_id = $1 AND i.login_key = $2 ORDER BY t.name",
    )
    .bind(challenge_id)
    .bind(login.to_lowercase())
    .fetch_all(&state.db.pool)
    .await
}

/// Adds `viewer` to `team_id`; the primary key refuses a second team.
async fn join_team(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    challenge_id: i64,
    team_id: i64,
    viewer: &Viewer,
) -> sqlx::Result<bool> {
    let added = sqlx::query(
        "INSERT INTO team_members (challenge_id, user_id, team_id) VALUES ($1, $2, $3) \
         ON CONFLICT (challenge_id, user_id) DO NOTHING",
    )
    .bind(challenge_id)
    .bind(viewer.user_id)
    .bind(team_id)
    .execute(&mut **tx)
    .await?;
    Ok(added.rows_affected() == 1)
}

#[derive(Deserialize)]
pub struct CreateTeam {
    csrf: String,
    name: String,
}

/// `POST /team/create`
pub async fn create(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<CreateTeam>) -> Result<Response, Refusal> {
    let viewer = form_viewer(&state, &headers, &form.csrf).await?;
    let challenge_id = challenge_id(&state).await?;
    let name = form.name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > MAX_TEAM_NAME_CHARS {
        return Ok(back_with_error("/team", &format!("A team name needs 1 to {MAX_TEAM_NAME_CHARS} characters.")));
    }
    let mut tx = state.db.pool.begin().await?;
    let created: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO teams (challenge_id, name, name_key) VALUES ($1, $2, $3) \
         ON CONFLICT (challenge_id, name_key) DO NOTHING RETURNING id",
    )
    .bind(challenge_id)
    .bind(&name)
    .bind(name_key(&name))
    .fetch_optional(&mut *tx)
    .await?;
    let Some((team_id,)) = created else {
        return Ok(back_with_error(
            "/team",
            &format!("A team named \"{name}\" exists already (names are compared ignoring case and spacing)."),
        ));
    };
    if !join_team(&mut tx, challenge_id, team_id, &viewer).await? {
        // Rolls back: the new team is not kept without its founder.
        return Ok(back_with_error("/team", "You are in a team already: leave it before founding another."));
    }
    tx.commit().await?;
    Ok(Redirect::to("/team").into_response())
}

#[derive(Deserialize)]
pub struct Invite {
    csrf: String,
    login: String,
}

/// `POST /team/invite`
pub async fn invite(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<Invite>) -> Result<Response, Refusal> {
    let viewer = form_viewer(&state, &headers, &form.csrf).await?;
    let challenge_id = challenge_id(&state).await?;
    let Some(team) = membership(&state, challenge_id, viewer.user_id).await? else {
        return Ok(back_with_error("/team", "Join or found a team before inviting anyone."));
    };
    let login = form.login.trim().trim_start_matches('@').to_lowercase();
    if !is_login(&login) {
        return Ok(back_with_error("/team", &format!("\"{}\" is not a GitHub login.", form.login.trim())));
    }
    sqlx::query(
        "INSERT INTO team_invites (team_id, login_key, invited_by) VALUES ($1, $2, $3) \
         ON CONFLICT (team_id, login_key) DO NOTHING",
    )
    .bind(team.team_id)
    .bind(&login)
    .bind(viewer.user_id)
    .execute(&state.db.pool)
    .await?;
    Ok(Redirect::to("/team").into_response())
}

#[derive(Deserialize)]
pub struct Join {
    csrf: String,
    team_id: i64,
}

/// `POST /team/join`: accepts an invitation.
pub async fn join(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<Join>) -> Result<Response, Refusal> {
    let viewer = form_viewer(&state, &headers, &form.csrf).await?;
    let challenge_id = challenge_id(&state).await?;
    let mut tx = state.db.pool.begin().await?;
    let used = sqlx::query("DELETE FROM team_invites WHERE team_id = $1 AND login_key = $2")
        .bind(form.team_id)
        .bind(viewer.login.to_lowercase())
        .execute(&mut *tx)
        .await?;
    if used.rows_affected() == 0 {
        return Ok(back_with_error("/team", "That team has not invited you."));
    }
    if !join_team(&mut tx, challenge_id, form.team_id, &viewer).await? {
        return Ok(back_with_error("/team", "You are in a team already: leave it before joining another."));
    }
    tx.commit().await?;
    Ok(Redirect::to("/team").into_response())
}

#[derive(Deserialize)]
pub struct Leave {
    csrf: String,
}

/// `POST /team/leave`: the team and its entries stay.
pub async fn leave(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<Leave>) -> Result<Response, Refusal> {
    let viewer = form_viewer(&state, &headers, &form.csrf).await?;
    let challenge_id = challenge_id(&state).await?;
    sqlx::query("DELETE FROM team_members WHERE challenge_id = $1 AND user_id = $2")
        .bind(challenge_id)
        .bind(viewer.user_id)
        .execute(&state.db.pool)
        .await?;
    Ok(Redirect::to("/team").into_response())
}
