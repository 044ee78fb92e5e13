//! Reads of the challenge data. SQL is written once, in the dialect both
//! SQLite and PostgreSQL accept (`$n` parameters, no vendor functions).

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

pub async fn phase_submissions(db: &Db, phase_id: i64) -> sqlx::Result<Vec<SubmissionRecord>> {
    sqlx::query_as(&format!("SELECT {SUBMISSION_COLUMNS} WHERE s.phase_id = $1 ORDER BY s.id"))
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
