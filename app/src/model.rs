//! The values that travel from the server to the pages (and to the exports).

use serde::{Deserialize, Serialize};

/// The two leaderboards of a challenge round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhaseKind {
    Dev,
    Test,
}

impl PhaseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dev => "dev",
            Self::Test => "test",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "dev" => Some(Self::Dev),
            "test" => Some(Self::Test),
            _ => None,
        }
    }
}

/// A leaderboard as the page and the exports show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Board {
    pub challenge: String,
    pub phase: PhaseKind,
    /// The ranking rule in one sentence.
    pub rule: String,
    /// The last day of the phase, if it has one.
    pub closes_on: Option<String>,
    /// Whether the organizers have published this board (the test board starts hidden).
    pub published: bool,
    pub baseline: Option<BaselineScores>,
    /// In display order: the ranked band, then the unranked band.
    pub rows: Vec<BoardRow>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaselineScores {
    pub name: String,
    pub clemscore: Option<f64>,
    pub statscore: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoardRow {
    pub id: i64,
    /// `None` for entries in the unranked band.
    pub rank: Option<u32>,
    pub unranked_reason: Option<String>,
    pub name: String,
    pub team: String,
    pub submitted_on: String,
    pub clemscore: Option<f64>,
    pub statscore: Option<f64>,
    pub clemscore_delta: Option<f64>,
    pub statscore_delta: Option<f64>,
    /// Held-out results split into average % played and average quality (test phase).
    pub average_played: Option<f64>,
    pub average_quality: Option<f64>,
    pub description: String,
    pub description_html: String,
    pub repository_url: Option<String>,
    pub is_baseline: bool,
}

/// Everything stored about one submission.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubmissionDetail {
    pub row: BoardRow,
    pub phase: PhaseKind,
    pub game_scores: Vec<GameScore>,
}

/// One game's (or static benchmark's) share of a score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GameScore {
    /// `clem` for dialogue games, `static` for benchmarks.
    pub suite: String,
    pub game: String,
    pub played: Option<f64>,
    pub quality: Option<f64>,
}

/// The rules page: challenge name and its rules rendered to safe HTML.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rules {
    pub challenge: String,
    pub html: String,
}

/// A score as published: two decimals, or "tba" while it is missing.
pub fn format_score(score: Option<f64>) -> String {
    score.map_or_else(|| "tba".to_string(), |s| format!("{s:.2}"))
}

/// A difference against the baseline, with its direction.
pub fn format_delta(delta: f64) -> String {
    if delta > 0.0 {
        format!("▲ {delta:.2}")
    } else if delta < 0.0 {
        format!("▼ {:.2}", -delta)
    } else {
        "= 0.00".to_string()
    }
}

/// A held-out score with its split, e.g. `11.23 (79.35/14.15)`.
pub fn format_held_out(row: &BoardRow) -> String {
    match (row.average_played, row.average_quality) {
        (Some(played), Some(quality)) => {
            format!("{} ({played:.2}/{quality:.2})", format_score(row.clemscore))
        }
        _ => format_score(row.clemscore),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_show_two_decimals_or_tba() {
        assert_eq!(format_score(Some(24.6)), "24.60");
        assert_eq!(format_score(None), "tba");
    }

    #[test]
    fn deltas_show_their_direction() {
        assert_eq!(format_delta(1.2), "▲ 1.20");
        assert_eq!(format_delta(-5.02), "▼ 5.02");
        assert_eq!(format_delta(0.0), "= 0.00");
    }
}
