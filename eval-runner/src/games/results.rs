//! Played episodes written as clemcore writes them: one folder per episode
//! (`<suite>/<model>/<game>/<experiment>/instance_NNNNN/` with `instance.json`,
//! `interactions.json`, `player_N.requests.json` and `scores.json`),
//! `experiment.json`, `run.json`, the long `raw.csv`, the wide `results.csv`
//! and `<model>.val.json` — the files the leaderboard's verifier reads back.

use super::{Details, Episode, OrderedMap, Party, Scores};
use crate::scoring::{self, GameScore, Summary};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

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

    /// The episode's folder under `suite_dir`.
    pub fn dir(&self, suite_dir: &Path, model: &str) -> PathBuf {
        suite_dir.join(model).join(&self.game).join(&self.experiment).join(self.folder())
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

/// A scores object: the details first, then the numbers, each as Python's json writes it.
fn scores_object(details: &[(String, Value)], scores: &[(String, f64)], indent: &str) -> String {
    let key = |name: &str| serde_json::to_string(name).expect("strings serialize");
    let details = details.iter().map(|(name, value)| format!("{indent}  {}: {}", key(name), python_json(value)));
    let numbers = scores.iter().map(|(name, value)| format!("{indent}  {}: {}", key(name), json_score(*value)));
    let lines: Vec<String> = details.chain(numbers).collect();
    format!("{{\n{}\n{indent}}}", lines.join(",\n"))
}

/// JSON on one line with Python's separators (`", "` and `": "`).
fn python_json(value: &Value) -> String {
    match value {
        Value::Array(items) => format!("[{}]", items.iter().map(python_json).collect::<Vec<_>>().join(", ")),
        Value::Object(map) => {
            let entries: Vec<String> = map.iter().map(|(k, v)| format!("{}: {}", python_json(&Value::from(k.as_str())), python_json(v))).collect();
            format!("{{{}}}", entries.join(", "))
        }
        other => other.to_string(),
    }
}

/// Writes `text` to `path` through a temporary file, so a killed run leaves
/// either the whole file or none.
fn write_whole(path: &Path, text: &str) -> io::Result<()> {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, text)?;
    std::fs::rename(&partial, path)
}

fn write_json(path: &Path, value: &Value) -> io::Result<()> {
    write_whole(path, &serde_json::to_string_pretty(value).expect("JSON values serialize"))
}

/// Writes the episode's `scores.json` into its folder under `suite_dir/model`.
/// It is written last: an episode folder with it is a finished episode.
pub fn write_episode(suite_dir: &Path, model: &str, played: &Played) -> io::Result<()> {
    let dir = played.dir(suite_dir, model);
    std::fs::create_dir_all(&dir)?;
    let no_details = Vec::new();
    let details_of = |turn: usize| {
        played.episode.turn_details.iter().find(|(t, _)| *t == turn).map_or(&no_details, |(_, details)| details)
    };
    let turns: Vec<String> = played
        .episode
        .turn_scores
        .iter()
        .map(|(turn, scores)| format!("    \"{turn}\": {}", scores_object(details_of(*turn), scores, "    ")))
        .collect();
    let turns = if turns.is_empty() { "{}".to_string() } else { format!("{{\n{}\n  }}", turns.join(",\n")) };
    let text = format!(
        "{{\n  \"meta\": {{}},\n  \"players\": {{}},\n  \"turn scores\": {turns},\n  \"episode scores\": {}\n}}",
        scores_object(&played.episode.episode_details, &played.episode.episode_scores, "  ")
    );
    write_whole(&dir.join("scores.json"), &text)
}

/// The episode scores of a finished episode's `scores.json`, in their order:
/// the numbers, and the entries that are not numbers; `None` when the
/// episode was not finished or its file cannot be read.
pub fn read_finished(suite_dir: &Path, model: &str, played: &Played) -> Option<(Scores, Details)> {
    let text = std::fs::read_to_string(played.dir(suite_dir, model).join("scores.json")).ok()?;
    let file: ScoresFile = serde_json::from_str(&scoring::files::bare_nan_to_null(&text)).ok()?;
    let (mut numbers, mut details) = (Vec::new(), Vec::new());
    for (name, value) in file.episode_scores.0 {
        match value {
            // Null is how a bare NaN reads.
            Value::Null => numbers.push((name, f64::NAN)),
            Value::Number(number) => numbers.push((name, number.as_f64()?)),
            other => details.push((name, other)),
        }
    }
    Some((numbers, details))
}

#[derive(serde::Deserialize)]
struct ScoresFile {
    #[serde(rename = "episode scores")]
    episode_scores: OrderedMap<Value>,
}

/// The model as clemcore's `player_models` records it: its spec and generation settings.
#[derive(Clone, Debug)]
pub struct ModelRecord {
    pub name: String,
    pub spec: Value,
    pub temperature: f64,
    pub max_tokens: usize,
}

impl ModelRecord {
    fn player_models(&self) -> Value {
        json!({"0": {"model_spec": self.spec, "gen_args": {"temperature": self.temperature, "max_tokens": self.max_tokens}}})
    }
}

/// What wrote the files, in clemcore's `clem_version` field.
pub fn writer_version() -> String {
    format!("eval-runner {}", env!("CARGO_PKG_VERSION"))
}

/// One model call of a player, as `player_N.requests.json` records it.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub player: usize,
    pub timestamp: String,
    /// The prompt as rendered with the chat template.
    pub prompt: String,
    /// The completion as generated, before stripping.
    pub completion: String,
    pub prompt_tokens: usize,
    pub completion_tokens: usize,
    /// The call's token limit (some games raise the run's).
    pub max_tokens: usize,
    pub finish_reason: String,
}

/// What an episode's folder records besides its scores.
pub struct EpisodeRecord<'a> {
    pub instance: &'a Value,
    pub game_id: Option<u64>,
    /// The players' roles in order.
    pub roles: &'a [String],
    pub calls: &'a [Call],
}

/// Writes `instance.json`, `interactions.json` and `player_N.requests.json` of a played episode.
pub fn write_episode_record(
    suite_dir: &Path,
    model: &ModelRecord,
    played: &Played,
    record: &EpisodeRecord,
) -> io::Result<()> {
    let dir = played.dir(suite_dir, &model.name);
    std::fs::create_dir_all(&dir)?;
    write_json(&dir.join("instance.json"), record.instance)?;
    let meta = |extra: Value| {
        let mut meta = json!({
            "game_name": played.game,
            "experiment_name": played.experiment,
            "game_id": record.game_id,
            "round_count": played.episode.turns.len(),
            "completed": true,
        });
        meta.as_object_mut()
            .expect("an object")
            .extend(extra.as_object().expect("an object").clone());
        meta
    };
    let mut players = serde_json::Map::new();
    players.insert(
        "GM".into(),
        json!({"game_role": "Game Master", "model_name": "programmatic"}),
    );
    for (i, role) in record.roles.iter().enumerate() {
        players.insert(
            Party::Player(i + 1).name(),
            json!({"game_role": role, "model_name": model.name}),
        );
    }
    let turns: Vec<Value> = played
        .episode
        .turns
        .iter()
        .map(|round| {
            round
                .iter()
                .map(|e| json!({"from": e.from.name(), "to": e.to.name(), "timestamp": e.timestamp, "action": {"type": e.kind, "content": e.content}}))
                .collect()
        })
        .collect();
    let mut interactions = json!({
        "meta": meta(json!({"results_folder": model.name, "clem_version": writer_version()})),
        "player_models": model.player_models(),
        "players": players,
        "turns": turns,
    });
    let top = interactions.as_object_mut().expect("an object");
    top.extend(played.episode.keys.iter().cloned());
    write_json(&dir.join("interactions.json"), &interactions)?;

    // Each call belongs to the round of the player's reply it produced, in order.
    let mut rounds_of_replies: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (round, events) in played.episode.turns.iter().enumerate() {
        for event in events.iter().filter(|e| e.kind == "get message") {
            if let Party::Player(n) = event.from {
                rounds_of_replies.entry(n).or_default().push(round);
            }
        }
    }
    let mut by_player: BTreeMap<usize, Vec<Value>> = BTreeMap::new();
    for call in record.calls {
        let calls = by_player.entry(call.player).or_default();
        let round = rounds_of_replies
            .get(&call.player)
            .and_then(|r| r.get(calls.len()))
            .copied()
            .unwrap_or(0);
        calls.push(json!({
            "round": round,
            "call": {
                "timestamp": call.timestamp,
                "manipulated_prompt_obj": {
                    "inputs": call.prompt,
                    "max_new_tokens": call.max_tokens,
                    "temperature": model.temperature,
                    "return_full_text": false,
                },
                "raw_response_obj": {
                    "response": {
                        "text": call.completion,
                        "finish_reason": call.finish_reason,
                        "usage": {
                            "prompt_tokens": call.prompt_tokens,
                            "completion_tokens": call.completion_tokens,
                            "total_tokens": call.prompt_tokens + call.completion_tokens,
                        },
                    },
                },
            },
        }));
    }
    for (player, calls) in by_player {
        let role = record.roles.get(player - 1).cloned().unwrap_or_default();
        let requests = json!({
            "meta": meta(json!({"player_name": Party::Player(player).name(), "game_role": role, "model_name": model.name})),
            "calls": calls,
        });
        write_json(
            &dir.join(format!("player_{player}.requests.json")),
            &requests,
        )?;
    }
    Ok(())
}

/// Writes `experiment.json`: the experiment's settings and the model that played it.
pub fn write_experiment(
    suite_dir: &Path,
    model: &ModelRecord,
    game: &str,
    config: &serde_json::Map<String, Value>,
) -> io::Result<()> {
    let name = config
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let dir = suite_dir.join(&model.name).join(game).join(name);
    std::fs::create_dir_all(&dir)?;
    let mut experiment = json!({
        "name": name,
        "timestamp": super::timestamp_now(),
        "game_name": game,
        "player_models": model.player_models(),
    });
    let fields = experiment.as_object_mut().expect("an object");
    for (key, value) in config {
        fields.entry(key.clone()).or_insert_with(|| value.clone());
    }
    write_json(&dir.join("experiment.json"), &experiment)
}

/// A game's part of a run, for `run.json`.
#[derive(Clone, Debug)]
pub struct GameRun {
    pub game: String,
    pub path: PathBuf,
    pub start: chrono::NaiveDateTime,
    pub end: chrono::NaiveDateTime,
    pub num_instances: usize,
}

/// Writes `<suite>/<model>/run.json`: who wrote it, the model and its settings, and each game's time.
pub fn write_run_json(
    suite_dir: &Path,
    model: &ModelRecord,
    created: chrono::NaiveDateTime,
    games: &[GameRun],
) -> io::Result<()> {
    let iso = |t: &chrono::NaiveDateTime| t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string();
    let mut by_game = serde_json::Map::new();
    for run in games {
        let duration = (run.end - run.start).to_std().unwrap_or_default();
        by_game.insert(
            run.game.clone(),
            json!({
                "game_path": run.path,
                "benchmark_start": iso(&run.start),
                "benchmark_end": iso(&run.end),
                "duration_seconds": duration.as_secs_f64(),
                "num_instances": run.num_instances,
            }),
        );
    }
    let run = json!({
        "clem_version": writer_version(),
        "created": iso(&created),
        "player_models": model.player_models(),
        "games": by_game,
    });
    let dir = suite_dir.join(&model.name);
    std::fs::create_dir_all(&dir)?;
    write_json(&dir.join("run.json"), &run)
}

/// Writes `raw.csv` and `results.csv` for the suite and returns its summary.
pub fn write_tables(suite_dir: &Path, model: &str, played: &[Played]) -> io::Result<Summary> {
    let csv_error = |e: csv::Error| io::Error::other(e.to_string());
    let mut raw = csv::Writer::from_path(suite_dir.join("raw.csv")).map_err(csv_error)?;
    raw.write_record(["", "game", "model", "experiment", "episode", "metric", "value"]).map_err(csv_error)?;
    let mut row = 0;
    let mut by_game: BTreeMap<&str, Vec<scoring::Episode>> = BTreeMap::new();
    for episode in played {
        let details = episode.episode.episode_details.iter().map(|(metric, value)| match value {
            Value::String(text) => (metric, text.clone()),
            other => (metric, python_json(other)),
        });
        let numbers = episode.episode.episode_scores.iter().map(|(metric, value)| (metric, python_float(Some(*value))));
        for (metric, value) in details.chain(numbers) {
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

/// How complete a run was, recorded beside its scores.
#[derive(Clone, Debug, Default)]
pub struct RunEnd {
    /// Episodes selected but not played: the time ran out, or they failed.
    pub not_played: usize,
    /// The time limit ended the run.
    pub cut_short: bool,
    /// Games found in the games folder that this evaluator cannot play, so the scores leave them out.
    pub not_implemented: Vec<String>,
}

/// Writes `<model>.val.json`: a key only for a suite that was run (NaN when
/// none of its episodes was played), and how complete the run was.
pub fn write_val_json(results_dir: &Path, model: &str, clemscore: Option<f64>, statscore: Option<f64>, end: &RunEnd) -> io::Result<()> {
    let mut keys = Vec::new();
    if let Some(score) = clemscore {
        keys.push(format!("\"clemscore\": {}", json_score(score)));
    }
    if let Some(score) = statscore {
        keys.push(format!("\"statscore\": {}", json_score(score)));
    }
    keys.push(format!("\"episodes_not_played\": {}", end.not_played));
    keys.push(format!("\"cut_short\": {}", end.cut_short));
    keys.push(format!("\"games_not_implemented\": {}", json!(end.not_implemented)));
    std::fs::write(results_dir.join(format!("{model}.val.json")), format!("{{{}}}", keys.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_written_as_python_writes_them_on_one_line() {
        let tally = json!({"Cluegiver": {"validation error": 1}, "guesses": ["sea", "ship"], "none": null, "share": 0.5});
        assert_eq!(
            python_json(&tally),
            r#"{"Cluegiver": {"validation error": 1}, "guesses": ["sea", "ship"], "none": null, "share": 0.5}"#
        );
        let object = scores_object(&[("experiment name".into(), json!("risk_low"))], &[("Main Score".into(), f64::NAN)], "");
        assert_eq!(object, "{\n  \"experiment name\": \"risk_low\",\n  \"Main Score\": NaN\n}");
    }
}
