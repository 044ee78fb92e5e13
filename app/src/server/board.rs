//! A leaderboard, put together from the stored submissions and the ranking rule.

use crate::domain::ranking::{self, Entry, Gate, Standing};
use crate::domain::submission_flow::{status_line, SubmissionStatus};
use crate::model::{BaselineScores, Board, BoardRow, EntryProgressView, GameScore, PhaseKind, SubmissionDetail};
use crate::server::db::Db;
use crate::server::markdown;
use crate::server::store::{self, PhaseRecord, SubmissionRecord};
use std::collections::HashMap;

fn gate(phase: &PhaseRecord, baseline: Option<&SubmissionRecord>) -> Gate {
    if phase.gate_enabled != 0 {
        Gate::On { baseline_statscore: baseline.and_then(|b| b.statscore) }
    } else {
        Gate::Off
    }
}

fn row(record: &SubmissionRecord, standing: Option<&Standing>, baseline: Option<&SubmissionRecord>) -> BoardRow {
    let is_baseline = baseline.is_some_and(|b| b.id == record.id);
    let against_baseline = |score: fn(&SubmissionRecord) -> Option<f64>| {
        baseline.filter(|_| !is_baseline).and_then(|b| ranking::delta(score(record), score(b)))
    };
    BoardRow {
        id: record.id,
        rank: match standing {
            Some(Standing::Ranked(rank)) => Some(*rank),
            _ => None,
        },
        unranked_reason: match standing {
            Some(Standing::Unranked(reason)) => Some(reason.to_string()),
            _ => None,
        },
        name: record.name.clone(),
        team: record.team.clone(),
        submitted_on: record.submitted_on.clone(),
        clemscore: record.clemscore,
        statscore: record.statscore,
        clemscore_delta: against_baseline(|r| r.clemscore),
        statscore_delta: against_baseline(|r| r.statscore),
        average_played: record.average_played,
        average_quality: record.average_quality,
        description: record.description_md.clone(),
        description_html: markdown::render(&record.description_md),
        repository_url: record.repository_url.clone(),
        is_baseline,
    }
}

/// Ranks a phase's submissions and shapes them for display.
pub fn assemble(kind: PhaseKind, phase: &PhaseRecord, records: &[SubmissionRecord]) -> Board {
    let baseline = phase.baseline_submission_id.and_then(|id| records.iter().find(|r| r.id == id));
    let gate = gate(phase, baseline);
    let entries: Vec<Entry> = records
        .iter()
        .map(|r| Entry {
            id: r.id,
            submitted_on: r.submitted_on.clone(),
            clemscore: r.clemscore,
            statscore: r.statscore,
        })
        .collect();
    let by_id: HashMap<i64, &SubmissionRecord> = records.iter().map(|r| (r.id, r)).collect();
    let rows = ranking::rank(&entries, &gate)
        .into_iter()
        .map(|placement| row(by_id[&placement.id], Some(&placement.standing), baseline))
        .collect();
    Board {
        challenge: phase.challenge_name.clone(),
        phase: kind,
        rule: ranking::rule_sentence(&gate),
        closes_on: phase.closes_on.clone(),
        published: phase.published != 0,
        baseline: baseline.map(|b| BaselineScores {
            name: b.name.clone(),
            clemscore: b.clemscore,
            statscore: b.statscore,
        }),
        rows,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    #[error("there is no {0} phase")]
    NoPhase(&'static str),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

pub async fn load(db: &Db, kind: PhaseKind) -> Result<Board, BoardError> {
    let phase = store::phase(db, kind).await?.ok_or(BoardError::NoPhase(kind.as_str()))?;
    let records = store::phase_submissions(db, phase.id).await?;
    Ok(assemble(kind, &phase, &records))
}

/// The board as visitors may see it: an unpublished board comes without rows.
pub async fn load_public(db: &Db, kind: PhaseKind) -> Result<Board, BoardError> {
    let mut board = load(db, kind).await?;
    if !board.published {
        board.rows.clear();
        board.baseline = None;
    }
    Ok(board)
}

/// One submission as its page shows it, with its standing on its board, and
/// for an entry made in the browser, its way there.
pub async fn load_submission(db: &Db, id: i64) -> Result<Option<SubmissionDetail>, BoardError> {
    let Some(kind) = store::submission_phase(db, id).await? else {
        return Ok(None);
    };
    let Some(progress) = store::entry_progress(db, id).await? else {
        return Ok(None);
    };
    let status = SubmissionStatus::parse(&progress.status).unwrap_or(SubmissionStatus::Rejected);
    // A live row comes from its board, so the page shows the same rank and deltas.
    let board_row = load_public(db, kind).await?.rows.into_iter().find(|row| row.id == id);
    let row = match (board_row, status) {
        (Some(row), _) => row,
        (None, SubmissionStatus::Accepted) => return Ok(None), // on a board not yet published
        (None, _) => match store::submission_record(db, id).await? {
            Some(record) => BoardRow { unranked_reason: Some("not on the leaderboard".to_string()), ..row(&record, None, None) },
            None => return Ok(None),
        },
    };
    let game_scores = store::game_scores(db, id)
        .await?
        .into_iter()
        .map(|g| GameScore { suite: g.suite, game: g.game, played: g.played, quality: g.quality })
        .collect();
    let progress = progress.model_id.clone().map(|model_id| EntryProgressView {
        status,
        status_line: status_line(
            status,
            progress.pr_number,
            u32::try_from(progress.job_attempts.unwrap_or(0)).unwrap_or(u32::MAX),
            progress.job_error.as_deref(),
        ),
        pr_url: progress.pr_url.clone(),
        model: format!("{model_id} @ {}", progress.model_revision.clone().unwrap_or_default()),
        base_model: progress.base_model.clone().unwrap_or_default(),
        training_tokens: progress.training_tokens.unwrap_or(0),
        report: progress.verification_json.as_deref().and_then(|json| serde_json::from_str(json).ok()),
        accept_csrf: None,
    });
    Ok(Some(SubmissionDetail { row, phase: kind, game_scores, progress }))
}
