//! Readers for the files `playpen eval` writes: `<model>.val.json`,
//! `results.csv` and `raw.csv`. Every problem names the file and, where
//! there is one, the line.

use super::{game_score, Episode, GameScore, Summary};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub struct FileError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for FileError {}

fn error(file: &str, line: Option<usize>, message: impl Into<String>) -> FileError {
    FileError { file: file.to_string(), line, message: message.into() }
}

/// Text of a file, or where its first non-UTF-8 byte is.
pub fn text<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, FileError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = &bytes[..e.valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        error(file, Some(line), format!("not UTF-8 text (byte {})", e.valid_up_to()))
    })
}

/// The scores `playpen eval` reports; a key is absent when its suite was not run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct ValScores {
    pub clemscore: Option<f64>,
    pub statscore: Option<f64>,
}

/// Python's json writes NaN bare, which strict JSON rejects: read it as null.
pub fn bare_nan_to_null(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if !in_string && rest.starts_with("NaN") {
            out.push_str("null");
            rest = &rest[3..];
            continue;
        }
        match c {
            '"' if !escaped => in_string = !in_string,
            _ => {}
        }
        escaped = c == '\\' && !escaped;
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

pub fn parse_val_json(file: &str, text: &str) -> Result<ValScores, FileError> {
    let value: serde_json::Value = serde_json::from_str(&bare_nan_to_null(text))
        .map_err(|e| error(file, Some(e.line()), format!("not valid JSON: {e}")))?;
    let object = value.as_object().ok_or_else(|| error(file, None, "expected a JSON object"))?;
    let score = |key: &str| match object.get(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Number(n)) => Ok(n.as_f64()),
        Some(other) => Err(error(file, None, format!("{key} is {other}, not a number"))),
    };
    let scores = ValScores { clemscore: score("clemscore")?, statscore: score("statscore")? };
    if scores.clemscore.is_none() && scores.statscore.is_none() {
        return Err(error(file, None, "has neither clemscore nor statscore"));
    }
    Ok(scores)
}

/// How a run was made, from clemcore's `run.json`: scores are comparable only
/// between runs with the same settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunSettings {
    pub clem_version: Option<String>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u64>,
}

pub fn parse_run_json(file: &str, text: &str) -> Result<RunSettings, FileError> {
    let value: serde_json::Value = serde_json::from_str(&bare_nan_to_null(text))
        .map_err(|e| error(file, Some(e.line()), format!("not valid JSON: {e}")))?;
    // Self-play: one player model, under key "0".
    let gen_args = &value["player_models"]["0"]["gen_args"];
    Ok(RunSettings {
        clem_version: value["clem_version"].as_str().map(String::from),
        temperature: gen_args["temperature"].as_f64(),
        max_tokens: gen_args["max_tokens"].as_u64(),
    })
}

/// One model's row of a `results.csv`: the claimed summary and the per-game columns.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultsRow {
    pub line: usize,
    pub model: String,
    pub claimed: Summary,
    pub games: Vec<GameScore>,
}

fn number(file: &str, line: usize, column: &str, cell: &str) -> Result<Option<f64>, FileError> {
    let cell = cell.trim();
    if cell.is_empty() || cell.eq_ignore_ascii_case("nan") {
        return Ok(None);
    }
    cell.parse::<f64>()
        .map(Some)
        .map_err(|_| error(file, Some(line), format!("column \"{column}\": \"{cell}\" is not a number")))
}

fn csv_line(record: &csv::StringRecord) -> usize {
    record.position().map_or(0, |p| p.line() as usize)
}

fn csv_error(file: &str, e: csv::Error) -> FileError {
    let line = e.position().map(|p| p.line() as usize);
    error(file, line, format!("malformed CSV: {e}"))
}

pub fn parse_results_csv(file: &str, text: &str) -> Result<Vec<ResultsRow>, FileError> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| csv_error(file, e))?.clone();
    for required in ["-, clemscore", "all, Average % Played", "all, Average Quality Score"] {
        if !header.iter().any(|h| h == required) {
            return Err(error(file, Some(1), format!("no \"{required}\" column: not a clemcore results.csv")));
        }
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(file, e))?;
        let line = csv_line(&record);
        let mut claimed = Summary { average_played: None, average_quality: None, clemscore: None };
        let mut games: BTreeMap<String, GameScore> = BTreeMap::new();
        for (column, cell) in header.iter().zip(record.iter()).skip(1) {
            let Some((game, metric)) = column.split_once(", ") else { continue };
            let value = number(file, line, column, cell)?;
            match (game, metric) {
                ("-", "clemscore") => claimed.clemscore = value,
                ("all", "Average % Played") => claimed.average_played = value,
                ("all", "Average Quality Score") => claimed.average_quality = value,
                (game, "% Played") => {
                    games.entry(game.to_string()).or_insert_with(|| empty(game)).played = value;
                }
                (game, "Quality Score") => {
                    games.entry(game.to_string()).or_insert_with(|| empty(game)).quality = value;
                }
                _ => {}
            }
        }
        let model = record.get(0).unwrap_or_default().to_string();
        rows.push(ResultsRow { line, model, claimed, games: games.into_values().collect() });
    }
    if rows.is_empty() {
        return Err(error(file, None, "has no model rows"));
    }
    Ok(rows)
}

fn empty(game: &str) -> GameScore {
    GameScore { game: game.to_string(), played: None, quality: None }
}

/// Per-game scores recomputed from the episodes of a `raw.csv` (long format).
pub fn parse_raw_csv(file: &str, text: &str) -> Result<BTreeMap<String, Vec<GameScore>>, FileError> {
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| csv_error(file, e))?.clone();
    let column = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| error(file, Some(1), format!("no \"{name}\" column")))
    };
    let (game, model, experiment, episode, metric, value) =
        (column("game")?, column("model")?, column("experiment")?, column("episode")?, column("metric")?, column("value")?);
    // (model, game) → (experiment, episode) → episode scores
    let mut episodes: BTreeMap<(String, String), BTreeMap<(String, String), Episode>> = BTreeMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(file, e))?;
        let line = csv_line(&record);
        let cell = |i: usize| record.get(i).unwrap_or_default().to_string();
        let metric_name = cell(metric);
        if metric_name != "Aborted" && metric_name != "Main Score" {
            continue;
        }
        let number = number(file, line, "value", &cell(value))?;
        let entry = episodes
            .entry((cell(model), cell(game)))
            .or_default()
            .entry((cell(experiment), cell(episode)))
            .or_insert(Episode { aborted: false, main_score: None });
        if metric_name == "Aborted" {
            entry.aborted = number.is_some_and(|v| v != 0.0);
        } else {
            entry.main_score = number;
        }
    }
    let mut by_model: BTreeMap<String, Vec<GameScore>> = BTreeMap::new();
    for ((model, game), episodes) in episodes {
        let episodes: Vec<Episode> = episodes.into_values().collect();
        by_model.entry(model).or_default().push(game_score(&game, &episodes));
    }
    Ok(by_model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_nan_is_accepted_but_not_inside_strings() {
        assert_eq!(bare_nan_to_null(r#"{"a": NaN, "b": "NaN"}"#), r#"{"a": null, "b": "NaN"}"#);
        let scores = parse_val_json("x.val.json", r#"{"clemscore": 33.71, "statscore": NaN}"#).unwrap();
        assert_eq!(scores, ValScores { clemscore: Some(33.71), statscore: None });
    }

    #[test]
    fn bad_val_json_names_the_problem() {
        let e = parse_val_json("m.val.json", "{\n\"clemscore\": }").unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("m.val.json", Some(2)));
        assert!(e.message.starts_with("not valid JSON"), "{e}");
        assert_eq!(
            parse_val_json("m.val.json", r#"{"clemscore": "high"}"#).unwrap_err().to_string(),
            "m.val.json: clemscore is \"high\", not a number"
        );
    }

    #[test]
    fn a_bad_cell_is_reported_with_its_line_and_column() {
        let text = ",\"-, clemscore\",\"all, Average % Played\",\"all, Average Quality Score\",\"taboo, % Played\"\nm,1,2,3,x\n";
        assert_eq!(
            parse_results_csv("clem/results.csv", text).unwrap_err().to_string(),
            "clem/results.csv:2: column \"taboo, % Played\": \"x\" is not a number"
        );
    }

    #[test]
    fn run_settings_are_read_from_the_player_model() {
        let text = r#"{"clem_version": "3.7.2", "player_models": {"0": {"gen_args": {"temperature": 0.0, "max_tokens": 100}}}}"#;
        assert_eq!(
            parse_run_json("run.json", text).unwrap(),
            RunSettings { clem_version: Some("3.7.2".into()), temperature: Some(0.0), max_tokens: Some(100) }
        );
        assert!(parse_run_json("run.json", "{").unwrap_err().message.starts_with("not valid JSON"));
    }

    #[test]
    fn non_utf8_bytes_are_located() {
        let e = text("raw.csv", b"ok\nbad \xff").unwrap_err();
        assert_eq!(e.to_string(), "raw.csv:2: not UTF-8 text (byte 7)");
    }
}
