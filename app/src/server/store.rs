//! Reads of the challenge data. SQL is written once, in the dialect both
//! SQLite and PostgreSQL accept (`$n` parameters, no vendor functions).

use crate::domain::submission_flow::SubmissionStatus;
use crate::model::PhaseKind;
use crate::server::db::Db;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PhaseRecord {
    pub id: i64,
    pub challenge_id: i64,
    pub challenge_name: String,
    pub closes_on: Option<String>,
    pub gate_enabled: i64,
    pub published: i64,
    pub baseline_submission_id: Option<i64>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SubmissionRecord {
    pub id: i64,
    pub team: String,
    pub name: String,
    pub submitted_on: String,
    pub clemscore: Option<f64>,
    pub statscore: Option<f64>,
    pub average_played: Option<f64>,
    pub average_quality: Option<f64>,
    pub description_md: String,
    pub repository_url: Option<String>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct GameScoreRecord {
    pub suite: String,
    pub game: String,
    pub played: Option<f64>,
    pub quality: Option<f64>,
}

const SUBMISSION_COLUMNS: &str = "s.id, t.name AS team, s.name, s.submitted_on, \
     s.clemscore, s.statscore, s.average_played, s.average_quality, s.description_md, s.repository_url \
     FROM submissions s JOIN teams t ON t.id = s.team_id";

/// The phase of the current challenge (the first one stored).
pub async fn phase(db: &Db, kind: PhaseKind) -> sqlx::Result<Option<PhaseRecord>> {
    sqlx::query_as(
        "SELECT p.id, p.challenge_id, c.name AS challenge_name, p.closes_on, p.gate_enabled, \
                p.published, p.baseline_submission_id \
         FROM phases p JOIN challenges c ON c.id = p.challenge_id \
         WHERE p.kind = $1 ORDER BY c.id LIMIT 1",
    )
    .bind(kind.as_str())
    .fetch_optional(&db.pool)
    .await
}

/// The phase a submission belongs to, if the submission exists.
pub async fn submission_phase(db: &Db, submission_id: i64) -> sqlx::Result<Option<PhaseKind>> {
    let kind: Option<(String,)> = sqlx::query_as(
        "SELECT p.kind FROM submissions s JOIN phases p ON p.id = s.phase_id WHERE s.id = $1",
    )
    .bind(submission_id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(kind.and_then(|(kind,)| PhaseKind::parse(&kind)))
}

pub async fn submission_record(db: &Db, submission_id: i64) -> sqlx::Result<Option<SubmissionRecord>> {
    sqlx::query_as(&format!("SELECT {SUBMISSION_COLUMNS} WHERE s.id = $1"))
        .bind(submission_id)
        .fetch_optional(&db.pool)
        .await
}

/// The entries on a phase's board: accepted ones only.
pub async fn phase_submissions(db: &Db, phase_id: i64) -> sqlx::Result<Vec<SubmissionRecord>> {
    sqlx::query_as(&format!("SELECT {SUBMISSION_COLUMNS} WHERE s.phase_id = $1 AND s.status = 'accepted' ORDER BY s.id"))
        .bind(phase_id)
        .fetch_all(&db.pool)
        .await
}

pub async fn game_scores(db: &Db, submission_id: i64) -> sqlx::Result<Vec<GameScoreRecord>> {
    sqlx::query_as(
        "SELECT suite, game, played, quality FROM game_scores \
         WHERE submission_id = $1 ORDER BY suite, game",
    )
    .bind(submission_id)
    .fetch_all(&db.pool)
    .await
}

/// The current challenge's name and rules (markdown).
pub async fn rules(db: &Db) -> sqlx::Result<Option<(String, String)>> {
    sqlx::query_as("SELECT name, rules_md FROM challenges ORDER BY id LIMIT 1")
        .fetch_optional(&db.pool)
        .await
}

/// Where a browser entry stands, and its GitHub side.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EntryProgress {
    pub status: String,
    pub model_id: Option<String>,
    pub model_revision: Option<String>,
    pub base_model: Option<String>,
    pub training_tokens: Option<i64>,
    pub verification_json: Option<String>,
    pub pr_number: Option<i64>,
    pub pr_url: Option<String>,
    pub job_attempts: Option<i64>,
    pub job_error: Option<String>,
}

pub async fn entry_progress(db: &Db, submission_id: i64) -> sqlx::Result<Option<EntryProgress>> {
    sqlx::query_as(
        "SELECT s.status, s.model_id, s.model_revision, s.base_model, s.training_tokens, \
                s.verification_json, s.pr_number, s.pr_url, \
                j.attempts AS job_attempts, j.last_error AS job_error \
         FROM submissions s LEFT JOIN outbox_jobs j ON j.submission_id = s.id AND j.kind = 'open_pr' \
         WHERE s.id = $1",
    )
    .bind(submission_id)
    .fetch_optional(&db.pool)
    .await
}

/// Moves the entry on after its pull request closed; false when nothing changed.
pub async fn settle_pull_request(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    submission_id: i64,
    merged: bool,
) -> sqlx::Result<bool> {
    let current: Option<(String,)> = sqlx::query_as("SELECT status FROM submissions WHERE id = $1")
        .bind(submission_id)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(from) = current.and_then(|(status,)| SubmissionStatus::parse(&status)) else { return Ok(false) };
    let Some(to) = from.on_pull_request_closed(merged) else { return Ok(false) };
    set_status(tx, submission_id, from, to).await
}

/// Changes the status only if it is still `from`, so racing events apply once.
pub async fn set_status(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    submission_id: i64,
    from: SubmissionStatus,
    to: SubmissionStatus,
) -> sqlx::Result<bool> {
    let changed = sqlx::query("UPDATE submissions SET status = $1 WHERE id = $2 AND status = $3")
        .bind(to.as_str())
        .bind(submission_id)
        .bind(from.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(changed.rows_affected() == 1)
}

/// The entry whose pull request has this number.
pub async fn submission_by_pull_request(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    number: i64,
) -> sqlx::Result<Option<i64>> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM submissions WHERE pr_number = $1")
        .bind(number)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.map(|(id,)| id))
}

/// Sets the last day a phase takes entries (`None`: no deadline).
pub async fn set_deadline(db: &Db, kind: PhaseKind, last_day: Option<&str>) -> sqlx::Result<()> {
    sqlx::query("UPDATE phases SET closes_on = $1 WHERE kind = $2")
        .bind(last_day)
        .bind(kind.as_str())
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// A rejected upload's entry name and report, if it belongs to `team_id`.
pub async fn rejected_upload(db: &Db, id: i64, team_id: i64) -> sqlx::Result<Option<(String, String)>> {
    sqlx::query_as("SELECT name, report_json FROM rejected_uploads WHERE id = $1 AND team_id = $2")
        .bind(id)
        .bind(team_id)
        .fetch_optional(&db.pool)
        .await
}
