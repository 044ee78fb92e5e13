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
    /// For entries made in the browser.
    pub progress: Option<EntryProgressView>,
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

/// The signed-in person, as pages need them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ViewerInfo {
    pub login: String,
    /// Sent back with every form.
    pub csrf: String,
    pub organizer: bool,
}

/// How people may sign in on this site.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignInOptions {
    pub github: bool,
    pub development: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamView {
    pub name: String,
    pub members: Vec<String>,
    pub invited: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Invitation {
    pub team_id: i64,
    pub team: String,
    pub invited_by: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamPage {
    pub viewer: Option<ViewerInfo>,
    pub sign_in: SignInOptions,
    pub team: Option<TeamView>,
    pub invitations: Vec<Invitation>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuotaView {
    pub per_day: u32,
    pub used: u32,
    pub left: u32,
    pub resets_at: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubmitPage {
    pub viewer: Option<ViewerInfo>,
    pub sign_in: SignInOptions,
    pub team: Option<String>,
    pub quota: Option<QuotaView>,
    /// Why the form is closed, if it is (phase over, no team).
    pub closed_reason: Option<String>,
    pub max_upload_mb: u64,
    /// An upload of this team that did not check out, when the page is shown for it.
    pub rejected: Option<RejectedUpload>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RejectedUpload {
    pub name: String,
    pub report: VerificationReport,
}

/// What the check of uploaded `playpen eval` files found (as stored with the entry).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VerificationReport {
    #[serde(default)]
    pub model: String,
    pub verified: bool,
    /// Why the files could not be read at all.
    #[serde(default)]
    pub problem: Option<String>,
    #[serde(default)]
    pub mismatches: Vec<MismatchView>,
    #[serde(default)]
    pub warnings: Vec<String>,
    #[serde(default)]
    pub clem: Option<SuiteView>,
    #[serde(default, rename = "static")]
    pub statics: Option<SuiteView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MismatchView {
    pub what: String,
    pub claimed: Option<f64>,
    pub recomputed: Option<f64>,
    pub difference: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SuiteView {
    pub suite: String,
    #[serde(default)]
    pub checked_episodes: bool,
    #[serde(default)]
    pub settings: Option<SettingsView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SettingsView {
    pub clem_version: Option<String>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u64>,
}

/// A browser entry's way to the board.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntryProgressView {
    pub status: crate::domain::submission_flow::SubmissionStatus,
    pub status_line: String,
    pub pr_url: Option<String>,
    pub model: String,
    pub base_model: String,
    pub training_tokens: i64,
    pub report: Option<VerificationReport>,
    /// The viewer's CSRF token when they may accept the entry.
    pub accept_csrf: Option<String>,
}
