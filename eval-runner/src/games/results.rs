//! Played episodes written as clemcore writes them: one folder per episode
//! (`<suite>/<model>/<game>/<experiment>/instance_NNNNN/scores.json`), the
//! long `raw.csv`, the wide `results.csv` and `<model>.val.json` — the files
//! the leaderboard's verifier reads back.

use super::Episode;
use crate::scoring::{self, GameScore, Summary};
use std::collections::BTreeMap;
use std::io;
use std::path::Path;

/// One episode and where it belongs.
#[derive(Clone, Debug)]
pub struct Played {
    pub game: String,
    pub experiment: String,
    /// The instance's index in its experiment (the folder `instance_00000`).
    pub index: usize,
    pub episode: Episode,
}

impl Played {
    fn folder(&self) -> String {
        format!("instance_{:05}", self.index)
    }

    fn score(&self, name: &str) -> Option<f64> {
        self.episode.episode_scores.iter().find(|(k, _)| k == name).map(|(_, v)| *v).filter(|v| !v.is_nan())
    }
}

/// A number as Python prints a float (`3.0`, `0.5`); `None`/NaN as pandas writes it: empty.
fn python_float(value: Option<f64>) -> String {
    match value.filter(|v| v.is_finite()) {
        None => String::new(),
        Some(v) if v.fract() == 0.0 && v.abs() < 1e16 => format!("{v:.1}"),
        Some(v) => format!("{v}"),
    }
}

/// A score as Python's json writes it: NaN bare.
fn json_score(value: f64) -> String {
    if value.is_nan() { "NaN".to_string() } else { python_float(Some(value)) }
}

fn scores_object(scores: &[(String, f64)], indent: &str) -> String {
    let lines: Vec<String> = scores
        .iter()
        .map(|(name, value)| format!("{indent}  {}: {}", serde_json::to_string(name).expect("strings serialize"), json_score(*value)))
        .collect();
    format!("{{\n{}\n{indent}}}", lines.join(",\n"))
}

/// Writes the episode's `scores.json` into its folder under `suite_dir/model`.
pub fn write_episode(suite_dir: &Path, model: &str, played: &Played) -> io::Result<()> {
    let dir = suite_dir.join(model).join(&played.game).join(&played.experiment).join(played.folder());
    std::fs::create_dir_all(&dir)?;
    let turns: Vec<String> = played
        .episode
        .turn_scores
        .iter()
        .map(|(turn, scores)| format!("    \"{turn}\": {}", scores_object(scores, "    ")))
        .collect();
    let text = format!(
        "{{\n  \"meta\": {{}},\n  \"players\": {{}},\n  \"turn scores\": {{\n{}\n  }},\n  \"episode scores\": {}\n}}",
        turns.join(",\n"),
        scores_object(&played.episode.episode_scores, "  ")
    );
    std::fs::write(dir.join("scores.json"), text)
}

/// Writes `raw.csv` and `results.csv` for the suite and returns its summary.
pub fn write_tables(suite_dir: &Path, model: &str, played: &[Played]) -> io::Result<Summary> {
    let csv_error = |e: csv::Error| io::Error::other(e.to_string());
    let mut raw = csv::Writer::from_path(suite_dir.join("raw.csv")).map_err(csv_error)?;
    raw.write_record(["", "game", "model", "experiment", "episode", "metric", "value"]).map_err(csv_error)?;
    let mut row = 0;
    let mut by_game: BTreeMap<&str, Vec<scoring::Episode>> = BTreeMap::new();
    for episode in played {
        for (metric, value) in &episode.episode.episode_scores {
            let value = python_float(Some(*value));
            let fields = [&row.to_string(), &episode.game, model, &episode.experiment, &episode.folder(), metric, &value];
            raw.write_record(fields).map_err(csv_error)?;
            row += 1;
        }
        by_game.entry(&episode.game).or_default().push(scoring::Episode {
            aborted: episode.score("Aborted").is_some_and(|a| a != 0.0),
            main_score: episode.score("Main Score"),
        });
    }
    raw.flush()?;

    let games: Vec<GameScore> = by_game.iter().map(|(game, episodes)| scoring::game_score(game, episodes)).collect();
    let summary = scoring::summarize(&games);
    let mut results = csv::Writer::from_path(suite_dir.join("results.csv")).map_err(csv_error)?;
    let mut header = vec![String::new(), "-, clemscore".into(), "all, Average % Played".into(), "all, Average Quality Score".into()];
    let mut values = vec![model.to_string(), python_float(summary.clemscore), python_float(summary.average_played), python_float(summary.average_quality)];
    for game in &games {
        header.extend([format!("{}, % Played", game.game), format!("{}, Quality Score", game.game)]);
        values.extend([python_float(game.played), python_float(game.quality)]);
    }
    results.write_record(&header).map_err(csv_error)?;
    results.write_record(&values).map_err(csv_error)?;
    results.flush()?;
    Ok(summary)
}

/// Writes `<model>.val.json`: a key only for a suite that was run.
pub fn write_val_json(results_dir: &Path, model: &str, clemscore: Option<f64>, statscore: Option<f64>) -> io::Result<()> {
    let mut keys = Vec::new();
    if let Some(score) = clemscore {
        keys.push(format!("\"clemscore\": {}", python_float(Some(score))));
    }
    if let Some(score) = statscore {
        keys.push(format!("\"statscore\": {}", python_float(Some(score))));
    }
    std::fs::write(results_dir.join(format!("{model}.val.json")), format!("{{{}}}", keys.join(", ")))
}
