//! The challenge as it stood at the start of round β.1, loaded on first start.

use crate::domain::readme_table::name_key;
use crate::server::db::Db;

const RULES: &str = include_str!("seed_rules.md");

/// A dev leaderboard row: (submission, team, date, clemscore, statscore, description).
type SeedRow = (&'static str, &'static str, &'static str, f64, Option<f64>, &'static str);

const DEV_ROWS: [SeedRow; 3] = [
    ("Llama-3.1-8B-Instruct", "OrgTeam", "2025-07-03", 24.60, Some(55.45), "The unmodified base model: the baseline."),
    ("Llama-3.1-8B-It-4bit", "Team Potzblitz", "2025-07-03", 19.58, None, "The base model, quantized to 4 bits."),
    ("Llama-3.1-8B-PotsBlitz-1", "Team Potsblitz", "2025-07-03", 14.39, None, "A first fine-tune."),
];

/// Loads the seed data into an empty database, all or nothing; leaves a used one alone.
pub async fn seed_if_empty(db: &Db) -> sqlx::Result<()> {
    let mut tx = db.pool.begin().await?;
    let (challenges,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM challenges").fetch_one(&mut *tx).await?;
    if challenges > 0 {
        return Ok(());
    }
    let (challenge_id,): (i64,) = sqlx::query_as(
        "INSERT INTO challenges (slug, name, rules_md) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind("lm-playschool-beta1")
    .bind("LM-Playschool β.1")
    .bind(RULES)
    .fetch_one(&mut *tx)
    .await?;
    let (dev_phase,): (i64,) = sqlx::query_as(
        "INSERT INTO phases (challenge_id, kind, closes_on, gate_enabled, published) \
         VALUES ($1, 'dev', '2025-09-15', 1, 1) RETURNING id",
    )
    .bind(challenge_id)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO phases (challenge_id, kind, closes_on, gate_enabled, published) \
         VALUES ($1, 'test', NULL, 0, 0)",
    )
    .bind(challenge_id)
    .execute(&mut *tx)
    .await?;

    let mut baseline = None;
    for (name, team, date, clemscore, statscore, description) in DEV_ROWS {
        let (team_id,): (i64,) = sqlx::query_as(
            "INSERT INTO teams (challenge_id, name, name_key) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(challenge_id)
        .bind(team)
        .bind(name_key(team))
        .fetch_one(&mut *tx)
        .await?;
        let (submission_id,): (i64,) = sqlx::query_as(
            "INSERT INTO submissions (phase_id, team_id, name, name_key, submitted_on, clemscore, \
                                      statscore, description_md) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(dev_phase)
        .bind(team_id)
        .bind(name)
        .bind(name_key(name))
        .bind(date)
        .bind(clemscore)
        .bind(statscore)
        .bind(description)
        .fetch_one(&mut *tx)
        .await?;
        baseline.get_or_insert(submission_id);
    }
    sqlx::query("UPDATE phases SET baseline_submission_id = $1 WHERE id = $2")
        .bind(baseline)
        .bind(dev_phase)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}
