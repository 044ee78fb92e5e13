//! clemcore's scores, computed as clemcore computes them: per game the share
//! of episodes played and the mean quality of the played ones, then the
//! unweighted means across games, and clemscore = played% / 100 × quality.
//! One implementation for the whole workspace: the evaluator writes results
//! with it, the leaderboard verifies uploaded results with it.

pub mod files;
pub mod verify;

use serde::{Deserialize, Serialize};

/// Rounds to two decimals as numpy does (half to even on the scaled value).
pub fn round2(value: f64) -> f64 {
    (value * 100.0).round_ties_even() / 100.0
}

/// One episode's standard scores (from `scores.json` or `raw.csv`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Episode {
    pub aborted: bool,
    /// `None` where clemcore writes NaN (aborted episodes).
    pub main_score: Option<f64>,
}

/// A game's (or static benchmark's) share of the score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GameScore {
    pub game: String,
    /// % of episodes played (not aborted), 0–100.
    pub played: Option<f64>,
    /// Mean Main Score of the played episodes; `None` when none was played.
    pub quality: Option<f64>,
}

/// A suite's summary, as in the first three columns of `results.csv`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub average_played: Option<f64>,
    pub average_quality: Option<f64>,
    pub clemscore: Option<f64>,
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, count) = values.fold((0.0, 0usize), |(sum, count), v| (sum + v, count + 1));
    (count > 0).then(|| sum / count as f64)
}

/// A game's score from its episodes, all experiments pooled.
pub fn game_score(game: &str, episodes: &[Episode]) -> GameScore {
    GameScore {
        game: game.to_string(),
        played: mean(episodes.iter().map(|e| if e.aborted { 0.0 } else { 100.0 })).map(round2),
        quality: mean(episodes.iter().filter_map(|e| e.main_score).filter(|s| !s.is_nan())).map(round2),
    }
}

/// The suite's averages and clemscore from its games' scores.
pub fn summarize(games: &[GameScore]) -> Summary {
    let average_played = mean(games.iter().filter_map(|g| g.played)).map(round2);
    let average_quality = mean(games.iter().filter_map(|g| g.quality)).map(round2);
    let clemscore = match (average_played, average_quality) {
        (Some(played), Some(quality)) => Some(round2(played / 100.0 * quality)),
        _ => None,
    };
    Summary { average_played, average_quality, clemscore }
}

/// The 14 text games of clembench 2.0 that make up clemscore.
pub const CLEM_GAMES: [&str; 14] = [
    "adventuregame",
    "codenames",
    "guesswhat",
    "imagegame",
    "matchit_ascii",
    "privateshared",
    "referencegame",
    "taboo",
    "textmapworld",
    "textmapworld_graphreasoning",
    "textmapworld_specificroom",
    "wordle",
    "wordle_withclue",
    "wordle_withcritic",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn game(name: &str, played: Option<f64>, quality: Option<f64>) -> GameScore {
        GameScore { game: name.to_string(), played, quality }
    }

    #[test]
    fn rounding_is_numpy_style() {
        assert_eq!(round2(33.714), 33.71);
        assert_eq!(round2(0.125), 0.12);
        assert_eq!(round2(60.0), 60.0);
    }

    #[test]
    fn aborted_episodes_count_as_not_played_and_have_no_quality() {
        let episodes = [
            Episode { aborted: false, main_score: Some(100.0) },
            Episode { aborted: false, main_score: Some(50.0) },
            Episode { aborted: true, main_score: None },
        ];
        assert_eq!(game_score("taboo", &episodes), game("taboo", Some(66.67), Some(75.0)));
        let none_played = [Episode { aborted: true, main_score: None }];
        assert_eq!(game_score("wordle", &none_played), game("wordle", Some(0.0), None));
    }

    #[test]
    fn games_without_quality_count_for_played_only() {
        let summary = summarize(&[game("a", Some(100.0), Some(40.0)), game("b", Some(0.0), None)]);
        assert_eq!(
            summary,
            Summary { average_played: Some(50.0), average_quality: Some(40.0), clemscore: Some(20.0) }
        );
    }

    #[test]
    fn nothing_to_score_gives_no_score() {
        assert_eq!(summarize(&[]), Summary { average_played: None, average_quality: None, clemscore: None });
    }
}
