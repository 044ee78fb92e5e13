//! Checks a `playpen eval` results folder: recomputes clemscore and statscore
//! from the per-game columns (and from the episodes, when `raw.csv` is there)
//! and compares every claimed number with its recomputation.

use super::files::{self, FileError, ResultsRow, RunSettings, ValScores};
use super::{summarize, GameScore, Summary, CLEM_GAMES};
use serde::Serialize;
use std::path::Path;

/// Claimed and recomputed may differ by this much (published numbers have two decimals).
pub const TOLERANCE: f64 = 0.01;

/// The settings `playpen eval` uses by default: greedy, 300 new tokens.
pub const REFERENCE_SETTINGS: RunSettings = RunSettings { clem_version: None, temperature: Some(0.0), max_tokens: Some(300) };

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Mismatch {
    /// What was compared, e.g. "clemscore in qwen.val.json".
    pub what: String,
    pub claimed: Option<f64>,
    pub recomputed: Option<f64>,
    pub difference: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SuiteReport {
    /// `clem` or `static`.
    pub suite: String,
    pub model: String,
    pub claimed: Summary,
    pub recomputed: Summary,
    pub games: Vec<GameScore>,
    /// Whether `raw.csv` was there and the games were recomputed from its episodes.
    pub checked_episodes: bool,
    /// From `<suite>/<model>/run.json`, when present.
    pub settings: Option<RunSettings>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verification {
    pub model: String,
    pub claimed: ValScores,
    pub clem: Option<SuiteReport>,
    #[serde(rename = "static")]
    pub statics: Option<SuiteReport>,
    pub mismatches: Vec<Mismatch>,
    /// Differences worth a look that do not make the numbers wrong.
    pub warnings: Vec<String>,
    pub verified: bool,
}

fn differs(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() > TOLERANCE + 1e-9,
        (None, None) => false,
        _ => true,
    }
}

fn compare(mismatches: &mut Vec<Mismatch>, what: String, claimed: Option<f64>, recomputed: Option<f64>) {
    if differs(claimed, recomputed) {
        let difference = claimed.zip(recomputed).map(|(c, r)| super::round2(c - r));
        mismatches.push(Mismatch { what, claimed, recomputed, difference });
    }
}

fn read(dir: &Path, relative: &str) -> Result<Option<String>, FileError> {
    let path = dir.join(relative);
    if !path.is_file() {
        return Ok(None);
    }
    let bytes = std::fs::read(&path)
        .map_err(|e| FileError { file: relative.to_string(), line: None, message: format!("cannot read: {e}") })?;
    Ok(Some(files::text(relative, &bytes)?.to_string()))
}

/// The row of `model`, or the only row.
fn model_row<'a>(file: &str, rows: &'a [ResultsRow], model: &str) -> Result<&'a ResultsRow, FileError> {
    rows.iter()
        .find(|row| row.model == model)
        .or_else(|| (rows.len() == 1).then(|| &rows[0]))
        .ok_or_else(|| FileError {
            file: file.to_string(),
            line: None,
            message: format!("no row for model \"{model}\" among {} rows", rows.len()),
        })
}

fn check_suite(
    dir: &Path,
    suite: &str,
    model: &str,
    claimed_in_val: Option<f64>,
    val_file: &str,
    mismatches: &mut Vec<Mismatch>,
) -> Result<Option<SuiteReport>, FileError> {
    let results_file = format!("{suite}/results.csv");
    let Some(text) = read(dir, &results_file)? else {
        if let Some(claimed) = claimed_in_val {
            let score = if suite == "clem" { "clemscore" } else { "statscore" };
            return Err(FileError {
                file: results_file,
                line: None,
                message: format!("missing, so the claimed {score} {claimed:.2} cannot be checked"),
            });
        }
        return Ok(None);
    };
    let rows = files::parse_results_csv(&results_file, &text)?;
    let row = model_row(&results_file, &rows, model)?;
    let recomputed = summarize(&row.games);
    let at = |what: &str| format!("{what} in {results_file} (line {})", row.line);
    compare(mismatches, at("clemscore"), row.claimed.clemscore, recomputed.clemscore);
    compare(mismatches, at("average % played"), row.claimed.average_played, recomputed.average_played);
    compare(mismatches, at("average quality"), row.claimed.average_quality, recomputed.average_quality);
    let score = if suite == "clem" { "clemscore" } else { "statscore" };
    compare(mismatches, format!("{score} in {val_file}"), claimed_in_val, recomputed.clemscore);

    let raw_file = format!("{suite}/raw.csv");
    let checked_episodes = match read(dir, &raw_file)? {
        None => false,
        Some(text) => {
            let by_model = files::parse_raw_csv(&raw_file, &text)?;
            let from_episodes = by_model
                .get(&row.model)
                .or_else(|| (by_model.len() == 1).then(|| by_model.values().next()).flatten())
                .cloned()
                .unwrap_or_default();
            for game in &row.games {
                let episodes = from_episodes.iter().find(|g| g.game == game.game);
                let what = |metric: &str| format!("{} {metric} from the episodes in {raw_file}", game.game);
                compare(mismatches, what("% played"), game.played, episodes.and_then(|g| g.played));
                compare(mismatches, what("quality"), game.quality, episodes.and_then(|g| g.quality));
            }
            true
        }
    };
    let run_file = format!("{suite}/{}/run.json", row.model);
    let settings = read(dir, &run_file)?.map(|text| files::parse_run_json(&run_file, &text)).transpose()?;
    Ok(Some(SuiteReport {
        suite: suite.to_string(),
        model: row.model.clone(),
        claimed: row.claimed,
        recomputed,
        games: row.games.clone(),
        checked_episodes,
        settings,
    }))
}

/// The game list against clembench 2.0's 14 text games.
fn game_list_warnings(clem: &SuiteReport) -> Vec<String> {
    let played: Vec<&str> = clem.games.iter().map(|g| g.game.as_str()).collect();
    let missing: Vec<&str> = CLEM_GAMES.iter().copied().filter(|g| !played.contains(g)).collect();
    let extra: Vec<&str> = played.iter().copied().filter(|g| !CLEM_GAMES.contains(g)).collect();
    let mut warnings = Vec::new();
    if !missing.is_empty() {
        warnings.push(format!("games missing from the reference list: {}", missing.join(", ")));
    }
    if !extra.is_empty() {
        warnings.push(format!("games not in the reference list: {}", extra.join(", ")));
    }
    warnings
}

/// Scores are comparable only under the same generation settings: say when they differ or are unknown.
fn settings_warning(suite: &SuiteReport) -> Option<String> {
    let Some(settings) = &suite.settings else {
        return Some(format!("no {}/{}/run.json: the generation settings are unknown", suite.suite, suite.model));
    };
    let reference = &REFERENCE_SETTINGS;
    let shown = |value: Option<String>| value.unwrap_or_else(|| "unknown".to_string());
    let describe = |s: &RunSettings| {
        format!(
            "temperature {} and max_tokens {}",
            shown(s.temperature.map(|t| t.to_string())),
            shown(s.max_tokens.map(|m| m.to_string()))
        )
    };
    (settings.temperature != reference.temperature || settings.max_tokens != reference.max_tokens).then(|| {
        format!(
            "{} was generated with {}; the reference settings are {}",
            suite.suite,
            describe(settings),
            describe(reference)
        )
    })
}

/// Verifies the results folder `dir` (the one holding `<model>.val.json`).
pub fn verify_dir(dir: &Path) -> Result<Verification, FileError> {
    let folder = dir.display().to_string();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| FileError { file: folder.clone(), line: None, message: format!("cannot read the folder: {e}") })?;
    let mut val_files: Vec<String> = entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".val.json"))
        .collect();
    val_files.sort();
    let val_file = match val_files.as_slice() {
        [one] => one.clone(),
        [] => {
            return Err(FileError {
                file: folder,
                line: None,
                message: "no <model>.val.json: is this the folder `playpen eval` wrote?".to_string(),
            })
        }
        several => {
            return Err(FileError { file: folder, line: None, message: format!("several val.json files: {}", several.join(", ")) })
        }
    };
    let model = val_file.trim_end_matches(".val.json").to_string();
    let claimed = files::parse_val_json(&val_file, &read(dir, &val_file)?.unwrap_or_default())?;
    let mut mismatches = Vec::new();
    let clem = check_suite(dir, "clem", &model, claimed.clemscore, &val_file, &mut mismatches)?;
    let statics = check_suite(dir, "static", &model, claimed.statscore, &val_file, &mut mismatches)?;
    let mut warnings = clem.as_ref().map(game_list_warnings).unwrap_or_default();
    for suite in clem.iter().chain(&statics) {
        if !suite.checked_episodes {
            warnings.push(format!("no {}/raw.csv: the per-game columns were not checked against episodes", suite.suite));
        }
        warnings.extend(settings_warning(suite));
    }
    Ok(Verification { model, claimed, verified: mismatches.is_empty(), clem, statics, mismatches, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn reference(path: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference").join(path)
    }

    /// A results folder with the reference run's val.json and clem results.csv.
    fn reference_run(val_json: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("clem")).unwrap();
        std::fs::copy(reference("playpen/results.csv"), dir.path().join("clem/results.csv")).unwrap();
        std::fs::write(dir.path().join("qwen3.5-4b.val.json"), val_json).unwrap();
        dir
    }

    #[test]
    fn the_reference_run_recomputes_to_its_clemscore() {
        let dir = reference_run(r#"{"clemscore": 33.71}"#);
        let verification = verify_dir(dir.path()).unwrap();
        assert!(verification.verified, "{:?}", verification.mismatches);
        let clem = verification.clem.unwrap();
        assert_eq!(
            clem.recomputed,
            Summary { average_played: Some(60.0), average_quality: Some(56.19), clemscore: Some(33.71) }
        );
        assert_eq!(clem.games.len(), 13);
        assert!(verification.warnings.iter().any(|w| w.contains("missing from the reference list")));
    }

    #[test]
    fn a_tampered_clemscore_is_rejected_with_the_difference() {
        let dir = reference_run(r#"{"clemscore": 35.71}"#);
        let verification = verify_dir(dir.path()).unwrap();
        assert!(!verification.verified);
        assert_eq!(
            verification.mismatches,
            vec![Mismatch {
                what: "clemscore in qwen3.5-4b.val.json".to_string(),
                claimed: Some(35.71),
                recomputed: Some(33.71),
                difference: Some(2.0),
            }]
        );
    }

    #[test]
    fn a_claimed_statscore_without_its_results_is_an_error() {
        let dir = reference_run(r#"{"clemscore": 33.71, "statscore": 37.16}"#);
        assert_eq!(
            verify_dir(dir.path()).unwrap_err().to_string(),
            "static/results.csv: missing, so the claimed statscore 37.16 cannot be checked"
        );
    }

    #[test]
    fn episodes_in_raw_csv_are_checked_against_the_table() {
        let run = reference("peer-runs/mock-programmatic/results");
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("clem")).unwrap();
        std::fs::copy(run.join("results.csv"), dir.path().join("clem/results.csv")).unwrap();
        std::fs::copy(run.join("raw.csv"), dir.path().join("clem/raw.csv")).unwrap();
        std::fs::create_dir(dir.path().join("clem/mock")).unwrap();
        std::fs::copy(run.join("mock/run.json"), dir.path().join("clem/mock/run.json")).unwrap();
        std::fs::write(dir.path().join("mock.val.json"), r#"{"clemscore": 32.78}"#).unwrap();
        let verification = verify_dir(dir.path()).unwrap();
        assert!(verification.verified, "{:?}", verification.mismatches);
        let clem = verification.clem.unwrap();
        assert!(clem.checked_episodes);
        assert_eq!(clem.settings.unwrap().max_tokens, Some(100));
        assert!(
            verification.warnings.iter().any(|w| w
                == "clem was generated with temperature 0 and max_tokens 100; the reference settings are temperature 0 and max_tokens 300"),
            "{:?}",
            verification.warnings
        );

        let table = std::fs::read_to_string(run.join("results.csv")).unwrap().replace("100.0,40.0", "100.0,45.0");
        std::fs::write(dir.path().join("clem/results.csv"), table).unwrap();
        let verification = verify_dir(dir.path()).unwrap();
        let what: Vec<&str> = verification.mismatches.iter().map(|m| m.what.as_str()).collect();
        assert!(what.contains(&"referencegame quality from the episodes in clem/raw.csv"), "{what:?}");
    }

    /// The organizers' 2026 summary: every row's ID and OOD averages and
    /// clemscore follow from its per-game columns.
    #[test]
    fn the_published_summary_recomputes_from_its_game_columns() {
        let text = std::fs::read_to_string(reference("playpen/summary_report_absolute.csv")).unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header = reader.headers().unwrap().clone();
        let mut checked = 0;
        for record in reader.records() {
            let record = record.unwrap();
            let cell = |name: &str| -> Option<f64> {
                let i = header.iter().position(|h| h == name)?;
                record.get(i).filter(|c| !c.is_empty()).map(|c| c.parse().unwrap())
            };
            for split in ["ID", "OOD"] {
                let prefix = format!("{split}_");
                let games: Vec<GameScore> = header
                    .iter()
                    .filter_map(|h| h.strip_prefix(&prefix)?.strip_suffix(", %P"))
                    .filter(|game| *game != "all")
                    .map(|game| GameScore {
                        game: game.to_string(),
                        played: cell(&format!("{prefix}{game}, %P")),
                        quality: cell(&format!("{prefix}{game}, QS")),
                    })
                    .collect();
                let summary = summarize(&games);
                for (claimed, recomputed) in [
                    (cell(&format!("{prefix}-, clemscore")), summary.clemscore),
                    (cell(&format!("{prefix}all, Average %P")), summary.average_played),
                    (cell(&format!("{prefix}all, Average QS")), summary.average_quality),
                ] {
                    assert!(!differs(claimed, recomputed), "{}: {split} {claimed:?} vs {recomputed:?}", &record[0]);
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 32, "16 rows, two splits each");
    }
}
