//! `POST /submissions`: the submission form with its evidence. The fields are
//! checked, the `playpen eval` files recomputed, and a verified entry is stored
//! in one transaction together with the quota check and the job that will open
//! its pull request; GitHub is only called after that commit.

use crate::domain::submission_flow::{is_open, SubmissionStatus};
use crate::domain::{entry_form, quota};
use crate::model::PhaseKind;
use crate::server::auth::{back_with_error, form_viewer, now, Refusal, Viewer};
use crate::server::evidence::{self, Limits};
use crate::server::teams::{membership, Membership};
use crate::server::{outbox, store, AppState};
use axum::extract::multipart::{Multipart, MultipartError};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use eval_runner::scoring::verify::{verify_dir, Verification};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// The loose-file inputs of the form and where each lands in the results folder.
const LOOSE_FILES: [(&str, &str); 5] = [
    ("val_json", ""),
    ("clem_results", "clem/results.csv"),
    ("static_results", "static/results.csv"),
    ("clem_raw", "clem/raw.csv"),
    ("run_json", "clem/{model}/run.json"),
];

/// What the form sent: its text fields and its files, saved in a scratch folder.
struct Upload {
    fields: HashMap<String, String>,
    scratch: tempfile::TempDir,
    archive: Option<PathBuf>,
    /// (input name, uploaded file name, saved path)
    loose: Vec<(String, String, PathBuf)>,
}

fn upload_error(error: &MultipartError, limit: u64) -> String {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        format!("The upload is over the limit of {} MB.", limit >> 20)
    } else {
        format!("The upload could not be read: {}", error.body_text())
    }
}

async fn read_upload(mut multipart: Multipart, limit: u64) -> Result<Upload, String> {
    let scratch = tempfile::tempdir().map_err(|e| format!("no scratch space for the upload: {e}"))?;
    let mut upload = Upload { fields: HashMap::new(), scratch, archive: None, loose: Vec::new() };
    while let Some(mut field) = multipart.next_field().await.map_err(|e| upload_error(&e, limit))? {
        let name = field.name().unwrap_or_default().to_string();
        let Some(file_name) = field.file_name().map(str::to_string) else {
            let text = field.text().await.map_err(|e| upload_error(&e, limit))?;
            upload.fields.insert(name, text);
            continue;
        };
        if file_name.is_empty() {
            continue; // a file input left empty
        }
        let path = upload.scratch.path().join(format!("upload-{}", upload.loose.len() + 1));
        // Chunk by chunk to disk: many uploads at once need not sit in memory whole.
        let keep_error = |e: std::io::Error| format!("cannot keep the upload: {e}");
        let mut file = tokio::fs::File::create(&path).await.map_err(keep_error)?;
        while let Some(chunk) = field.chunk().await.map_err(|e| upload_error(&e, limit))? {
            file.write_all(&chunk).await.map_err(keep_error)?;
        }
        file.flush().await.map_err(keep_error)?;
        if name == "evidence" {
            upload.archive = Some(path);
        } else if LOOSE_FILES.iter().any(|(input, _)| *input == name) {
            upload.loose.push((name, file_name, path));
        } else {
            return Err(format!("Unexpected file field \"{name}\"."));
        }
    }
    Ok(upload)
}

/// Lays the loose files out as `playpen eval` does; the val.json's name names the model.
fn arrange_loose_files(upload: &Upload) -> Result<PathBuf, String> {
    let (_, val_name, _) = upload
        .loose
        .iter()
        .find(|(input, ..)| input == "val_json")
        .ok_or("Add the evidence: an archive of the results folder, or at least <model>.val.json and clem/results.csv.")?;
    let val_name = Path::new(val_name).file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
    let model = val_name
        .strip_suffix(".val.json")
        .filter(|m| !m.is_empty() && !m.contains(['/', '\\']))
        .ok_or_else(|| format!("\"{val_name}\" is not named <model>.val.json, so the model is unknown."))?;
    let root = upload.scratch.path().join("results");
    for (input, _, saved) in &upload.loose {
        let (_, target) = LOOSE_FILES.iter().find(|(name, _)| name == input).expect("checked when read");
        let target = if target.is_empty() { val_name.clone() } else { target.replace("{model}", model) };
        let destination = root.join(target);
        std::fs::create_dir_all(destination.parent().expect("inside the results folder"))
            .and_then(|()| std::fs::rename(saved, &destination))
            .map_err(|e| format!("cannot arrange the uploaded files: {e}"))?;
    }
    Ok(root)
}

/// Recomputes the evidence; `Err` holds why it could not be read at all.
fn verify_upload(upload: &Upload, limit: u64) -> Result<Verification, String> {
    let folder = match &upload.archive {
        Some(archive) => {
            let unpacked = upload.scratch.path().join("unpacked");
            std::fs::create_dir(&unpacked).map_err(|e| format!("no scratch space: {e}"))?;
            let limits = Limits { max_archive_bytes: limit, ..Limits::default() };
            evidence::unpack(archive, &unpacked, &limits).map_err(|e| format!("The archive: {e}"))?
        }
        None => arrange_loose_files(upload)?,
    };
    verify_dir(&folder).map_err(|e| e.to_string())
}

/// How a submission attempt ended, before any response is made.
enum Outcome {
    Stored(i64),
    Rejected(i64),
    Refused(String),
}

/// `POST /submissions`
pub async fn submit(State(state): State<AppState>, headers: HeaderMap, multipart: Multipart) -> Result<Response, Refusal> {
    let limit = state.config.max_upload_bytes;
    let upload = match read_upload(multipart, limit).await {
        Ok(upload) => upload,
        Err(message) => return Ok(back_with_error("/submit", &message)),
    };
    let csrf = upload.fields.get("csrf").cloned().unwrap_or_default();
    let viewer = form_viewer(&state, &headers, &csrf).await?;
    Ok(match accept_upload(&state, &viewer, upload, now()).await? {
        Outcome::Stored(id) => Redirect::to(&format!("/submissions/{id}")).into_response(),
        Outcome::Rejected(id) => Redirect::to(&format!("/submit?rejected={id}")).into_response(),
        Outcome::Refused(message) => back_with_error("/submit", &message),
    })
}

async fn accept_upload(state: &AppState, viewer: &Viewer, upload: Upload, now: i64) -> Result<Outcome, Refusal> {
    let entry = match entry_form::parse(&upload.fields) {
        Ok(entry) => entry,
        Err(problems) => return Ok(Outcome::Refused(problems.join(" · "))),
    };
    let Some(phase) = store::phase(&state.db, PhaseKind::Dev).await? else {
        return Ok(Outcome::Refused("There is no dev phase to submit to.".to_string()));
    };
    if !is_open(phase.closes_on.as_deref(), &quota::utc_date(now)) {
        return Ok(Outcome::Refused(format!(
            "The dev phase closed on {}: no more entries.",
            phase.closes_on.as_deref().unwrap_or_default()
        )));
    }
    let Some(team) = membership(state, phase.challenge_id, viewer.user_id).await? else {
        return Ok(Outcome::Refused("Found or join a team before submitting.".to_string()));
    };
    let limit = state.config.max_upload_bytes;
    // Unpacking and parsing are blocking work; the scratch folder goes when the check ends.
    let verification = tokio::task::spawn_blocking(move || verify_upload(&upload, limit))
        .await
        .map_err(|e| Refusal(StatusCode::INTERNAL_SERVER_ERROR, format!("the check of the files failed: {e}")))?;
    let report = match verification {
        Ok(verification) if verification.verified => {
            return store_verified(state, phase.id, &team, viewer, &entry, &verification, now).await;
        }
        Ok(verification) => serde_json::to_value(&verification).expect("reports serialize"),
        Err(problem) => serde_json::json!({ "verified": false, "problem": problem }),
    };
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO rejected_uploads (team_id, user_id, name, created_at, report_json) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(team.team_id)
    .bind(viewer.user_id)
    .bind(&entry.name)
    .bind(now)
    .bind(report.to_string())
    .fetch_one(&state.db.pool)
    .await?;
    Ok(Outcome::Rejected(id))
}

/// Submissions of `team_id` that count against today's quota (rejected uploads never do).
pub async fn used_today<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    team_id: i64,
    now: i64,
) -> sqlx::Result<u32> {
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM submissions WHERE team_id = $1 AND created_at >= $2")
        .bind(team_id)
        .bind(quota::day_start(now))
        .fetch_one(executor)
        .await?;
    Ok(u32::try_from(count).unwrap_or(u32::MAX))
}

async fn store_verified(
    state: &AppState,
    phase_id: i64,
    team: &Membership,
    viewer: &Viewer,
    entry: &entry_form::Entry,
    verification: &Verification,
    now: i64,
) -> Result<Outcome, Refusal> {
    let mut tx = state.db.pool.begin().await?;
    // Taking the team row's write lock first serializes a team's submissions,
    // so the count below cannot be raced (a row lock in PostgreSQL, the
    // database write lock in SQLite).
    sqlx::query("UPDATE teams SET name = name WHERE id = $1").bind(team.team_id).execute(&mut *tx).await?;
    let used = used_today(&mut *tx, team.team_id, now).await?;
    let standing = quota::status(state.config.daily_submissions, used, now);
    if standing.left == 0 {
        return Ok(Outcome::Refused(format!(
            "Your team has used its {} submissions for today; the count starts again at {}.",
            state.config.daily_submissions,
            quota::utc_time(standing.resets_at)
        )));
    }
    let status = SubmissionStatus::initial(state.config.github.repository.is_some());
    let clem = verification.clem.as_ref().map(|suite| suite.recomputed);
    // Not kept prepared: sqlx's Any driver declares a missing double as float4 on
    // PostgreSQL, and a statement prepared so would refuse the next real score.
    let inserted: sqlx::Result<(i64,)> = sqlx::query_as(
        "INSERT INTO submissions (phase_id, team_id, name, name_key, submitted_on, clemscore, statscore, \
             average_played, average_quality, description_md, repository_url, status, created_at, submitted_by, \
             model_id, model_revision, base_model, training_tokens, verification_json) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING id",
    )
    .bind(phase_id)
    .bind(team.team_id)
    .bind(&entry.name)
    .bind(crate::domain::readme_table::name_key(&entry.name))
    .bind(quota::utc_date(now))
    .bind(verification.claimed.clemscore)
    .bind(verification.claimed.statscore)
    .bind(clem.and_then(|s| s.average_played))
    .bind(clem.and_then(|s| s.average_quality))
    .bind(&entry.description)
    .bind(&entry.repository_url)
    .bind(status.as_str())
    .bind(now)
    .bind(viewer.user_id)
    .bind(&entry.model_id)
    .bind(&entry.model_revision)
    .bind(&entry.base_model)
    .bind(entry.training_tokens)
    .bind(serde_json::to_string(verification).expect("reports serialize"))
    .persistent(false)
    .fetch_one(&mut *tx)
    .await;
    let id = match inserted {
        Ok((id,)) => id,
        Err(error) if error.as_database_error().is_some_and(|e| e.is_unique_violation()) => {
            return Ok(Outcome::Refused(format!(
                "An entry named \"{}\" exists already: choose another name.",
                entry.name
            )));
        }
        Err(error) => return Err(error.into()),
    };
    for suite in verification.clem.iter().chain(&verification.statics) {
        for game in &suite.games {
            // Not kept prepared, as above: a game's quality may be missing.
            sqlx::query("INSERT INTO game_scores (submission_id, suite, game, played, quality) VALUES ($1, $2, $3, $4, $5)")
                .bind(id)
                .bind(&suite.suite)
                .bind(&game.game)
                .bind(game.played)
                .bind(game.quality)
                .persistent(false)
                .execute(&mut *tx)
                .await?;
        }
    }
    if status == SubmissionStatus::PrPending {
        outbox::enqueue_pull_request(&mut tx, id, now).await?;
    }
    tx.commit().await?;
    state.outbox_wake.notify_one();
    Ok(Outcome::Stored(id))
}
