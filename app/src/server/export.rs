//! `GET /api/leaderboard/{phase}.json|.csv`: the board's rows, ranks and reasons, as the page shows them.

use crate::model::{Board, BoardRow, PhaseKind};
use crate::server::{board, AppState};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// One exported row: the page's values without the rendered HTML.
#[derive(Serialize)]
struct ExportRow<'a> {
    rank: Option<u32>,
    status: &'static str,
    unranked_reason: Option<&'a str>,
    name: &'a str,
    team: &'a str,
    date: &'a str,
    clemscore: Option<f64>,
    statscore: Option<f64>,
    clemscore_delta: Option<f64>,
    statscore_delta: Option<f64>,
    average_played: Option<f64>,
    average_quality: Option<f64>,
    baseline: bool,
    description: &'a str,
    repository_url: Option<&'a str>,
    url: String,
}

impl<'a> From<&'a BoardRow> for ExportRow<'a> {
    fn from(row: &'a BoardRow) -> Self {
        Self {
            rank: row.rank,
            status: if row.rank.is_some() { "ranked" } else { "unranked" },
            unranked_reason: row.unranked_reason.as_deref(),
            name: &row.name,
            team: &row.team,
            date: &row.submitted_on,
            clemscore: row.clemscore,
            statscore: row.statscore,
            clemscore_delta: row.clemscore_delta,
            statscore_delta: row.statscore_delta,
            average_played: row.average_played,
            average_quality: row.average_quality,
            baseline: row.is_baseline,
            description: &row.description,
            repository_url: row.repository_url.as_deref(),
            url: format!("/submissions/{}", row.id),
        }
    }
}

#[derive(Serialize)]
struct ExportBoard<'a> {
    challenge: &'a str,
    phase: PhaseKind,
    rule: &'a str,
    rows: Vec<ExportRow<'a>>,
}

fn not_found(message: &str) -> Response {
    (StatusCode::NOT_FOUND, message.to_string()).into_response()
}

fn csv(board: &Board) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in &board.rows {
        writer.serialize(ExportRow::from(row))?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

pub async fn leaderboard(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some((phase, format)) = file.rsplit_once('.') else {
        return not_found("use /api/leaderboard/dev.json or /api/leaderboard/dev.csv");
    };
    let Some(kind) = PhaseKind::parse(phase) else {
        return not_found("no such leaderboard: use dev or test");
    };
    let board = match board::load_public(&state.db, kind).await {
        Ok(board) if board.published => board,
        Ok(_) => return not_found("this leaderboard is not published yet"),
        Err(error) => {
            tracing::error!(%error, "cannot load the leaderboard");
            return (StatusCode::INTERNAL_SERVER_ERROR, "cannot load the leaderboard").into_response();
        }
    };
    match format {
        "json" => axum::Json(ExportBoard {
            challenge: &board.challenge,
            phase: board.phase,
            rule: &board.rule,
            rows: board.rows.iter().map(ExportRow::from).collect(),
        })
        .into_response(),
        "csv" => match csv(&board) {
            Ok(body) => ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response(),
            Err(error) => {
                tracing::error!(%error, "cannot write the CSV export");
                (StatusCode::INTERNAL_SERVER_ERROR, "cannot write the CSV export").into_response()
            }
        },
        _ => not_found("no such format: use .json or .csv"),
    }
}
