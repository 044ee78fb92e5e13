//! GitHub work that follows a stored submission, kept as database rows so a
//! crash, a restart or a GitHub outage loses nothing: each job is retried with
//! back-off until it succeeds. One worker task runs them; a periodic reconcile
//! asks GitHub about open pull requests in case a webhook was missed.

use crate::domain::readme_table::TableRow;
use crate::domain::submission_flow::{retry_delay, SubmissionStatus};
use crate::server::auth::now;
use crate::server::github::{ChallengeRepo, GitHubError, PullRequestDraft, PullRequestState};
use crate::server::{store, AppState};
use std::time::Duration;

/// How long a claimed job is left to its worker before another may take it.
const CLAIM_SECONDS: i64 = 120;
const RECONCILE_EVERY: Duration = Duration::from_secs(300);
const POLL_EVERY: Duration = Duration::from_secs(2);

pub async fn enqueue_pull_request(tx: &mut sqlx::Transaction<'_, sqlx::Any>, submission_id: i64, now: i64) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO outbox_jobs (kind, submission_id, run_after) VALUES ('open_pr', $1, $2)")
        .bind(submission_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Job {
    id: i64,
    submission_id: i64,
    attempts: i64,
}

/// Claims one due job; the conditional update lets only one worker win it.
async fn claim(state: &AppState, now: i64) -> sqlx::Result<Option<Job>> {
    loop {
        let candidate: Option<Job> = sqlx::query_as(
            "SELECT id, submission_id, attempts FROM outbox_jobs \
             WHERE done_at IS NULL AND run_after <= $1 AND locked_until <= $1 ORDER BY run_after, id LIMIT 1",
        )
        .bind(now)
        .fetch_optional(&state.db.pool)
        .await?;
        let Some(job) = candidate else { return Ok(None) };
        let won = sqlx::query("UPDATE outbox_jobs SET locked_until = $1 WHERE id = $2 AND locked_until <= $3 AND done_at IS NULL")
            .bind(now + CLAIM_SECONDS)
            .bind(job.id)
            .bind(now)
            .execute(&state.db.pool)
            .await?;
        if won.rows_affected() == 1 {
            return Ok(Some(job));
        }
    }
}

/// The pull request's text, from what was stored.
async fn draft(state: &AppState, submission_id: i64) -> sqlx::Result<Option<PullRequestDraft>> {
    let (Some(entry), Some(progress)) =
        (store::submission_record(&state.db, submission_id).await?, store::entry_progress(&state.db, submission_id).await?)
    else {
        return Ok(None);
    };
    let body = format!(
        "Adds **{name}** by **{team}** to the dev leaderboard.\n\n\
         | | |\n|---|---|\n| clemscore | {clem} |\n| statscore | {stat} |\n| Model | `{model}` @ `{revision}` |\n\
         | Base model | `{base}` |\n| Training tokens (reported) | {tokens} |\n| Repository | {repo} |\n\n\
         Verification: the uploaded `playpen eval` files were recomputed by Playschool and every number matches \
         within 0.01. Submission page: {site}/submissions/{submission_id}\n\n\
         Merging this pull request puts the entry on the board.",
        name = entry.name,
        team = entry.team,
        clem = crate::model::format_score(entry.clemscore),
        stat = crate::model::format_score(entry.statscore),
        model = progress.model_id.unwrap_or_default(),
        revision = progress.model_revision.unwrap_or_default(),
        base = progress.base_model.unwrap_or_default(),
        tokens = progress.training_tokens.unwrap_or_default(),
        repo = entry.repository_url.clone().unwrap_or_default(),
        site = state.config.public_url,
    );
    Ok(Some(PullRequestDraft {
        branch: format!("playschool/submission-{submission_id}"),
        title: format!("Add {} ({}) to the dev leaderboard", entry.name, entry.team),
        body,
        row: TableRow {
            name: entry.name,
            team: entry.team,
            submitted_on: entry.submitted_on,
            clemscore: entry.clemscore,
            statscore: entry.statscore,
            description: entry.description_md,
            repository_url: entry.repository_url,
        },
    }))
}

async fn open_pull_request(state: &AppState, repo: &ChallengeRepo, job: &Job) -> Result<(), GitHubError> {
    let database = |e: sqlx::Error| GitHubError::Unusable(format!("database: {e}"));
    let Some(draft) = draft(state, job.submission_id).await.map_err(database)? else { return Ok(()) };
    let opened = repo.open_pull_request(&draft).await?;
    // Only a pending entry moves to "open": a merge seen meanwhile stays.
    sqlx::query(
        "UPDATE submissions SET pr_number = $1, pr_url = $2, pr_head_sha = $3, \
             status = CASE WHEN status = $4 THEN $5 ELSE status END WHERE id = $6",
    )
    .bind(opened.number)
    .bind(&opened.url)
    .bind(&opened.head_sha)
    .bind(SubmissionStatus::PrPending.as_str())
    .bind(SubmissionStatus::PrOpen.as_str())
    .bind(job.submission_id)
    .execute(&state.db.pool)
    .await
    .map_err(database)?;
    Ok(())
}

/// Runs every job due at `now`; returns how many succeeded. Failures are
/// written to the job with the time of the next attempt.
pub async fn run_due(state: &AppState, now: i64) -> sqlx::Result<usize> {
    let Some(repo) = state.github_repo() else { return Ok(0) };
    let mut done = 0;
    while let Some(job) = claim(state, now).await? {
        match open_pull_request(state, repo, &job).await {
            Ok(()) => {
                sqlx::query("UPDATE outbox_jobs SET done_at = $1, attempts = attempts + 1, last_error = NULL WHERE id = $2")
                    .bind(now)
                    .bind(job.id)
                    .execute(&state.db.pool)
                    .await?;
                done += 1;
            }
            Err(error) => {
                let attempts = u32::try_from(job.attempts).unwrap_or(u32::MAX);
                tracing::warn!("pull request for submission {} failed (attempt {}): {error}", job.submission_id, attempts + 1);
                sqlx::query(
                    "UPDATE outbox_jobs SET attempts = attempts + 1, last_error = $1, run_after = $2, locked_until = 0 \
                     WHERE id = $3",
                )
                .bind(error.to_string())
                .bind(now + retry_delay(attempts))
                .bind(job.id)
                .execute(&state.db.pool)
                .await?;
            }
        }
    }
    Ok(done)
}

/// Settles entries whose pull request was decided on GitHub without us hearing of it.
pub async fn reconcile(state: &AppState) -> sqlx::Result<usize> {
    let Some(repo) = state.github_repo() else { return Ok(0) };
    let open: Vec<(i64, i64)> =
        sqlx::query_as("SELECT id, pr_number FROM submissions WHERE status = $1 AND pr_number IS NOT NULL")
            .bind(SubmissionStatus::PrOpen.as_str())
            .fetch_all(&state.db.pool)
            .await?;
    let mut settled = 0;
    for (id, number) in open {
        let merged = match repo.pull_request_state(number).await {
            Ok(PullRequestState::Open) => continue,
            Ok(PullRequestState::Merged) => true,
            Ok(PullRequestState::Closed) => false,
            Err(error) => {
                tracing::warn!("cannot check pull request #{number}: {error}");
                continue;
            }
        };
        let mut tx = state.db.pool.begin().await?;
        let changed = store::settle_pull_request(&mut tx, id, merged).await?;
        tx.commit().await?;
        settled += usize::from(changed);
    }
    Ok(settled)
}

/// The background task: jobs as soon as they are due (or woken), reconcile now and then.
pub fn spawn_worker(state: AppState) {
    tokio::spawn(async move {
        let mut last_reconcile = tokio::time::Instant::now();
        loop {
            if let Err(error) = run_due(&state, now()).await {
                tracing::error!("outbox: {error}");
            }
            if last_reconcile.elapsed() >= RECONCILE_EVERY {
                last_reconcile = tokio::time::Instant::now();
                if let Err(error) = reconcile(&state).await {
                    tracing::error!("reconcile: {error}");
                }
            }
            tokio::select! {
                () = state.outbox_wake.notified() => {},
                () = tokio::time::sleep(POLL_EVERY) => {},
            }
        }
    });
}
