//! `playschool import-table`: upserts a markdown leaderboard table into the dev phase.

use crate::domain::readme_table::{name_key, parse_leaderboard, RowError, TableRow};
use crate::model::PhaseKind;
use crate::server::db::Db;
use crate::server::store;

#[derive(Debug, PartialEq, Eq)]
pub struct ImportReport {
    pub added: usize,
    pub updated: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Rows(Vec<RowError>),
    #[error("there is no dev phase to import into")]
    NoDevPhase,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Checks every row first, then stores them all in one transaction: a file
/// with a bad row, or a failure half-way, leaves the board as it was.
pub async fn import_table(db: &Db, markdown: &str) -> Result<ImportReport, ImportError> {
    let rows = parse_leaderboard(markdown).map_err(ImportError::Rows)?;
    let phase = store::phase(db, PhaseKind::Dev).await?.ok_or(ImportError::NoDevPhase)?;
    let mut tx = db.pool.begin().await?;
    let mut report = ImportReport { added: 0, updated: 0 };
    for row in &rows {
        let team_id = team_id(&mut tx, phase.challenge_id, &row.row.team).await?;
        if upsert_submission(&mut tx, phase.id, team_id, &row.row).await? {
            report.added += 1;
        } else {
            report.updated += 1;
        }
    }
    tx.commit().await?;
    Ok(report)
}

/// The team's id, creating the team on first sight; other spellings of a
/// known name (case, spacing) join the existing team.
async fn team_id(tx: &mut sqlx::Transaction<'_, sqlx::Any>, challenge_id: i64, name: &str) -> sqlx::Result<i64> {
    let existing: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM teams WHERE challenge_id = $1 AND name_key = $2")
            .bind(challenge_id)
            .bind(name_key(name))
            .fetch_optional(&mut **tx)
            .await?;
    if let Some((id,)) = existing {
        return Ok(id);
    }
    let (id,): (i64,) =
        sqlx::query_as("INSERT INTO teams (challenge_id, name, name_key) VALUES ($1, $2, $3) RETURNING id")
            .bind(challenge_id)
            .bind(name)
            .bind(name_key(name))
            .fetch_one(&mut **tx)
            .await?;
    Ok(id)
}

/// Inserts or updates the row with the same submission name; true when it was new.
async fn upsert_submission(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    phase_id: i64,
    team_id: i64,
    row: &TableRow,
) -> sqlx::Result<bool> {
    let existing: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM submissions WHERE phase_id = $1 AND name_key = $2")
            .bind(phase_id)
            .bind(name_key(&row.name))
            .fetch_optional(&mut **tx)
            .await?;
    sqlx::query(
        "INSERT INTO submissions (phase_id, team_id, name, name_key, submitted_on, clemscore, statscore, \
                                  description_md, repository_url) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (phase_id, name_key) DO UPDATE SET \
             team_id = excluded.team_id, name = excluded.name, submitted_on = excluded.submitted_on, \
             clemscore = excluded.clemscore, statscore = excluded.statscore, \
             description_md = excluded.description_md, repository_url = excluded.repository_url",
    )
    .bind(phase_id)
    .bind(team_id)
    .bind(&row.name)
    .bind(name_key(&row.name))
    .bind(&row.submitted_on)
    .bind(row.clemscore)
    .bind(row.statscore)
    .bind(&row.description)
    .bind(&row.repository_url)
    // Not kept prepared: sqlx's Any driver declares a missing (tba) score as
    // float4 on PostgreSQL, and a statement prepared so refuses real scores.
    .persistent(false)
    .execute(&mut **tx)
    .await?;
    Ok(existing.is_none())
}
