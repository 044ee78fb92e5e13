//! `POST /submissions/{id}/accept`: an organizer puts an entry on the board,
//! merging its pull request on GitHub first when it has one.

use crate::domain::submission_flow::SubmissionStatus;
use crate::server::auth::{back_with_error, form_viewer, Refusal};
use crate::server::{store, AppState};
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Accept {
    csrf: String,
}

pub async fn accept(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(form): Form<Accept>,
) -> Result<Response, Refusal> {
    let viewer = form_viewer(&state, &headers, &form.csrf).await?;
    if !state.config.is_organizer(&viewer.login) {
        return Err(Refusal(StatusCode::FORBIDDEN, "only organizers accept entries".to_string()));
    }
    let page = format!("/submissions/{id}");
    let Some(progress) = store::entry_progress(&state.db, id).await? else {
        return Err(Refusal(StatusCode::NOT_FOUND, format!("there is no submission {id}")));
    };
    let from = SubmissionStatus::parse(&progress.status).unwrap_or(SubmissionStatus::Rejected);
    let Some(to) = from.on_organizer_accept() else {
        return Ok(back_with_error(&page, "This entry cannot be accepted in its present state."));
    };
    if let (SubmissionStatus::PrOpen, Some(number), Some(repo)) = (from, progress.pr_number, state.github_repo()) {
        if let Err(error) = repo.merge(number).await {
            return Ok(back_with_error(&page, &format!("The pull request was not merged: {error}")));
        }
    }
    let mut tx = state.db.pool.begin().await?;
    store::set_status(&mut tx, id, from, to).await?;
    tx.commit().await?;
    Ok(Redirect::to(&page).into_response())
}
