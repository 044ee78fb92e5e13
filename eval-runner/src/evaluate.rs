//! `eval`: plays the games of a clembench checkout with one model in every
//! role and writes the results folder `playpen eval` writes. Episodes run on
//! worker threads, so the engine batches the calls of many episodes of every
//! game; a time limit stops the run cleanly, and a restarted run skips the
//! episodes whose `scores.json` is already written.

use crate::chat::{ChatTemplate, Message};
use crate::engine::{Engine, EngineError, GenerationParams};
use crate::games::catalog::{self, EpisodeRef, Game, Resources, Selected, Suite};
use crate::games::results::{self, Call, EpisodeRecord, GameRun, ModelRecord, Played};
use crate::games::{timestamp_now, Episode, GameError, Responder};
use crate::tokenizer::TextTokenizer;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Renders a player's history with the model's chat template and tokenizes it.
pub struct Prompter {
    template: ChatTemplate,
    tokenizer: TextTokenizer,
}

impl Prompter {
    pub fn new(tokenizer: TextTokenizer) -> anyhow::Result<Self> {
        let source = tokenizer
            .chat_template
            .as_deref()
            .context("the model has no chat template")?;
        let template = ChatTemplate::new(source).map_err(anyhow::Error::msg)?;
        Ok(Self {
            template,
            tokenizer,
        })
    }

    fn prompt(&self, history: &[crate::games::Message]) -> Result<(String, Vec<u32>), String> {
        let text = self.template.render(
            &merge_roles(history),
            true,
            self.tokenizer.bos_token.as_deref(),
            self.tokenizer.eos_token.as_deref(),
        )?;
        let ids = self.tokenizer.encode(&text)?;
        Ok((text, ids))
    }
}

/// clemcore joins consecutive messages of one role with a blank line before generating.
fn merge_roles(history: &[crate::games::Message]) -> Vec<Message> {
    let mut merged: Vec<Message> = Vec::new();
    for message in history {
        match merged.last_mut() {
            Some(last) if last.role == message.role => {
                last.content.push_str("\n\n");
                last.content.push_str(&message.content);
            }
            _ => merged.push(Message::new(message.role, &message.content)),
        }
    }
    merged
}

/// What a run plays and where it writes.
pub struct Evaluation {
    pub games_dir: PathBuf,
    pub results_dir: PathBuf,
    pub suites: Vec<Suite>,
    pub model: ModelRecord,
    pub selection: Option<Vec<Selected>>,
    pub resources: Resources,
    /// Episodes in play at once.
    pub parallel: usize,
    pub time_limit: Duration,
    pub show_progress: bool,
}

/// How a run ended.
#[derive(Debug, Default)]
pub struct Outcome {
    pub played: usize,
    /// Finished by an earlier run on the same results folder.
    pub resumed: usize,
    /// Episodes left unplayed: the time ran out, or their game or the model failed.
    pub not_played: usize,
    pub cut_short: bool,
    /// Why episodes failed other than by the time limit, one line each.
    pub failures: Vec<String>,
    /// Games of the checkout that cannot be played yet.
    pub unsupported: Vec<String>,
    /// A suite's score when it was run; NaN when none of its episodes was played.
    pub clemscore: Option<f64>,
    pub statscore: Option<f64>,
    /// Tokens generated in this run, and the time the episodes took.
    pub generated_tokens: u64,
    pub elapsed: Duration,
}

/// "2h", "90m", "1h30m", "45s" or plain seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = || format!("invalid duration {text:?}: write it like 2h, 90m, 1h30m or 45s");
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    let mut total = 0u64;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(invalid()),
        };
        let value: u64 = number.parse().map_err(|_| invalid())?;
        total = value
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(invalid)?;
        number.clear();
    }
    if !number.is_empty() || total == 0 {
        return Err(invalid());
    }
    Ok(Duration::from_secs(total))
}

/// One episode's model: the engine, asked through the chat template, until the deadline.
struct EngineResponder<'a> {
    engine: &'a Engine,
    prompter: &'a Prompter,
    params: GenerationParams,
    deadline: Instant,
    throughput: &'a Throughput,
    calls: Vec<Call>,
}

impl Responder for EngineResponder<'_> {
    fn respond(
        &mut self,
        player: usize,
        history: &[crate::games::Message],
    ) -> Result<String, GameError> {
        if Instant::now() >= self.deadline {
            return Err(GameError::TimeUp);
        }
        let (prompt, ids) = self.prompter.prompt(history).map_err(GameError::Model)?;
        let timestamp = timestamp_now();
        let prompt_tokens = ids.len();
        let generation = self
            .engine
            .generate_before(ids, self.params.clone(), self.deadline)
            .map_err(|e| match e {
                EngineError::DeadlinePassed => GameError::TimeUp,
                other => GameError::Model(other.to_string()),
            })?;
        self.throughput.add(generation.completion_ids.len());
        let finish_reason = serde_json::to_value(generation.finish)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string));
        self.calls.push(Call {
            player,
            timestamp,
            prompt,
            completion: generation.completion.clone(),
            prompt_tokens,
            completion_tokens: generation.completion_ids.len(),
            max_tokens: self.params.max_tokens,
            finish_reason: finish_reason.unwrap_or_default(),
        });
        // clemcore's backends hand the game masters the stripped completion.
        Ok(generation.completion.trim().to_string())
    }
}

/// Generated tokens per second, shown beside the progress bar.
struct Throughput {
    start: Instant,
    tokens: AtomicU64,
    bar: ProgressBar,
}

impl Throughput {
    fn add(&self, tokens: usize) {
        let total = self.tokens.fetch_add(tokens as u64, Ordering::Relaxed) + tokens as u64;
        let rate = total as f64 / self.start.elapsed().as_secs_f64().max(1e-3);
        self.bar.set_message(format!("{rate:.0} tok/s"));
    }
}

/// What a worker reports for one episode.
struct Finished {
    episode: EpisodeRef,
    started: chrono::NaiveDateTime,
    ended: chrono::NaiveDateTime,
    result: Result<Played, GameError>,
}

/// An episode of `game` where the results files put it.
fn placed(game: &Game, r: &EpisodeRef, episode: Episode) -> Played {
    Played {
        game: game.name.clone(),
        experiment: game.experiments[r.experiment].name.clone(),
        index: r.instance,
        episode,
    }
}

/// Plays one episode and, when it ends, writes its files (`scores.json` last).
fn play_and_record(
    game: &Game,
    r: EpisodeRef,
    responder: &mut EngineResponder,
    suite_dir: &Path,
    model: &ModelRecord,
) -> std::io::Result<Result<Played, GameError>> {
    let played = match game.play(r.experiment, r.instance, responder) {
        Ok(episode) => placed(game, &r, episode),
        Err(error) => return Ok(Err(error)),
    };
    let record = EpisodeRecord {
        instance: &game.experiments[r.experiment].instances[r.instance],
        game_id: game.game_id(r.experiment, r.instance),
        roles: &game.roles,
        calls: &responder.calls,
    };
    results::write_episode_record(suite_dir, model, &played, &record)?;
    results::write_episode(suite_dir, &model.name, &played)?;
    Ok(Ok(played))
}

/// The games and episodes of a run, read before the model is loaded so that
/// bad game data or a bad instance list fails at once.
pub struct Plan {
    games: Vec<Game>,
    episodes: Vec<EpisodeRef>,
    unsupported: Vec<String>,
}

impl Plan {
    pub fn new(config: &Evaluation) -> anyhow::Result<Self> {
        // With an instance list, only its games are read (taboo's stopwords are needed only for taboo).
        let named: Option<std::collections::HashSet<&str>> = config
            .selection
            .as_ref()
            .map(|list| list.iter().map(|s| s.game.as_str()).collect());
        let (games, unsupported) = catalog::load(
            &config.games_dir,
            &config.suites,
            named.as_ref(),
            &config.resources,
        )?;
        let episodes =
            catalog::episodes(&games, config.selection.as_deref()).map_err(anyhow::Error::msg)?;
        anyhow::ensure!(
            !episodes.is_empty(),
            "no episodes to play: {} holds none of the selected games",
            config.games_dir.display()
        );
        for suite in &config.suites {
            check_earlier_settings(config, *suite)?;
        }
        Ok(Self {
            games,
            episodes,
            unsupported,
        })
    }
}

/// A results folder is resumed only under the settings its episodes were
/// generated with; otherwise their scores would be mixed with others.
fn check_earlier_settings(config: &Evaluation, suite: Suite) -> anyhow::Result<()> {
    let file = config
        .results_dir
        .join(suite.folder())
        .join(&config.model.name)
        .join("run.json");
    let Ok(text) = std::fs::read_to_string(&file) else {
        return Ok(());
    };
    let shown = file.display().to_string();
    let earlier = crate::scoring::files::parse_run_json(&shown, &text)?;
    let (temperature, max_tokens) = (config.model.temperature, config.model.max_tokens as u64);
    if earlier.temperature != Some(temperature) || earlier.max_tokens != Some(max_tokens) {
        let setting = |value: Option<String>| value.unwrap_or_else(|| "unknown".to_string());
        anyhow::bail!(
            "{shown}: its episodes were generated with temperature {} and max_tokens {}, this run asks for \
             temperature {temperature} and max_tokens {max_tokens}: resume with the same settings or give another --results-dir",
            setting(earlier.temperature.map(|t| t.to_string())),
            setting(earlier.max_tokens.map(|m| m.to_string())),
        );
    }
    Ok(())
}

pub fn evaluate(
    engine: &Engine,
    prompter: &Prompter,
    params: &GenerationParams,
    config: &Evaluation,
    plan: Plan,
) -> anyhow::Result<Outcome> {
    let start = Instant::now();
    let created = chrono::Local::now().naive_local();
    let deadline = start + config.time_limit;
    let Plan {
        games,
        episodes,
        unsupported,
    } = plan;
    let model = &config.model.name;
    let suite_dir = |game: &Game| config.results_dir.join(game.suite.folder());
    let skeleton = |r: &EpisodeRef| placed(&games[r.game], r, Episode::default());

    let mut finished: Vec<(EpisodeRef, Played)> = Vec::new();
    let mut to_play = Vec::new();
    for episode in catalog::interleave(episodes) {
        let mut played = skeleton(&episode);
        match results::read_finished(&suite_dir(&games[episode.game]), model, &played) {
            Some((scores, details)) => {
                played.episode.episode_scores = scores;
                played.episode.episode_details = details;
                finished.push((episode, played));
            }
            None => to_play.push(episode),
        }
    }
    let mut outcome = Outcome {
        resumed: finished.len(),
        unsupported,
        ..Outcome::default()
    };
    let mut experiments: Vec<(usize, usize)> =
        to_play.iter().map(|r| (r.game, r.experiment)).collect();
    experiments.sort_unstable();
    experiments.dedup();
    for (g, e) in experiments {
        let game = &games[g];
        results::write_experiment(
            &suite_dir(game),
            &config.model,
            &game.name,
            &game.experiments[e].config,
        )
        .with_context(|| format!("cannot write into {}", config.results_dir.display()))?;
    }

    let bar = if config.show_progress {
        ProgressBar::new(to_play.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} {pos}/{len} episodes · {msg} · {elapsed} elapsed, ETA {eta}",
        )
        .expect("a valid progress template"),
    );
    let throughput = Throughput {
        start,
        tokens: AtomicU64::new(0),
        bar: bar.clone(),
    };
    let queue = Mutex::new(VecDeque::from(to_play));
    let reports = Mutex::new(Vec::new());
    let write_error: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..config.parallel.max(1) {
            scope.spawn(|| loop {
                if Instant::now() >= deadline || write_error.lock().expect("not poisoned").is_some()
                {
                    return;
                }
                let Some(episode) = queue.lock().expect("not poisoned").pop_front() else {
                    return;
                };
                let game = &games[episode.game];
                let max_tokens = params.max_tokens.max(game.min_max_tokens.unwrap_or(0));
                let mut responder = EngineResponder {
                    engine,
                    prompter,
                    params: GenerationParams {
                        max_tokens,
                        ..params.clone()
                    },
                    deadline,
                    throughput: &throughput,
                    calls: Vec::new(),
                };
                let started = chrono::Local::now().naive_local();
                let written = play_and_record(
                    game,
                    episode,
                    &mut responder,
                    &suite_dir(game),
                    &config.model,
                );
                let result = match written {
                    Ok(result) => result,
                    Err(e) => {
                        // The run ends with this error; the other workers stop at their next episode.
                        let context = format!("cannot write into {}", config.results_dir.display());
                        *write_error.lock().expect("not poisoned") =
                            Some(anyhow::Error::new(e).context(context));
                        return;
                    }
                };
                let ended = chrono::Local::now().naive_local();
                bar.inc(1);
                reports.lock().expect("not poisoned").push(Finished {
                    episode,
                    started,
                    ended,
                    result,
                });
            });
        }
    });
    bar.finish_and_clear();
    if let Some(error) = write_error.into_inner().expect("not poisoned") {
        return Err(error);
    }

    let mut unplayed: Vec<EpisodeRef> = queue.into_inner().expect("not poisoned").into();
    let mut times: BTreeMap<usize, (chrono::NaiveDateTime, chrono::NaiveDateTime)> =
        BTreeMap::new();
    for report in reports.into_inner().expect("not poisoned") {
        let span = times
            .entry(report.episode.game)
            .or_insert((report.started, report.ended));
        span.0 = span.0.min(report.started);
        span.1 = span.1.max(report.ended);
        match report.result {
            Ok(played) => {
                finished.push((report.episode, played));
                outcome.played += 1;
            }
            Err(GameError::TimeUp) => unplayed.push(report.episode),
            Err(error) => {
                let played = skeleton(&report.episode);
                outcome.failures.push(format!(
                    "{}/{}/{}: {error}",
                    played.game, played.experiment, played.index
                ));
                unplayed.push(report.episode);
            }
        }
    }
    outcome.cut_short = Instant::now() >= deadline && !unplayed.is_empty();
    outcome.not_played = unplayed.len();
    outcome.generated_tokens = throughput.tokens.load(Ordering::Relaxed);
    outcome.elapsed = start.elapsed();
    // Unplayed episodes count as not played (aborted), so a short run gains nothing.
    for episode in unplayed {
        let mut played = skeleton(&episode);
        played.episode.episode_scores = vec![
            ("Aborted".to_string(), 1.0),
            ("Main Score".to_string(), f64::NAN),
        ];
        finished.push((episode, played));
    }

    finished.sort_by_key(|(r, _)| (games[r.game].suite, r.game, r.experiment, r.instance));
    for suite in [Suite::Clem, Suite::Static] {
        let (in_suite, rest): (Vec<_>, Vec<_>) = finished
            .into_iter()
            .partition(|(r, _)| games[r.game].suite == suite);
        finished = rest;
        if in_suite.is_empty() {
            continue;
        }
        let (refs, played): (Vec<EpisodeRef>, Vec<Played>) = in_suite.into_iter().unzip();
        let dir = config.results_dir.join(suite.folder());
        let summary = results::write_tables(&dir, model, &played)?;
        let game_runs: Vec<GameRun> = games
            .iter()
            .enumerate()
            .filter(|(_, g)| g.suite == suite)
            .map(|(i, g)| {
                let (start, end) = times.get(&i).copied().unwrap_or((created, created));
                let num_instances = refs.iter().filter(|r| r.game == i).count();
                GameRun {
                    game: g.name.clone(),
                    path: g.path.clone(),
                    start,
                    end,
                    num_instances,
                }
            })
            .filter(|run| run.num_instances > 0)
            .collect();
        results::write_run_json(&dir, &config.model, created, &game_runs)?;
        // NaN when no episode of the suite was played, as clemcore writes it.
        let score = summary.clemscore.unwrap_or(f64::NAN);
        match suite {
            Suite::Clem => outcome.clemscore = Some(score),
            Suite::Static => outcome.statscore = Some(score),
        }
    }
    let end = results::RunEnd {
        not_played: outcome.not_played,
        cut_short: outcome.cut_short,
        not_implemented: outcome.unsupported.clone(),
    };
    results::write_val_json(
        &config.results_dir,
        model,
        outcome.clemscore,
        outcome.statscore,
        &end,
    )?;
    Ok(outcome)
}

/// The results folder's model name: letters, digits, '.', '-' and '_', as a folder name must be.
pub fn check_model_name(name: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    if name.is_empty() || name.starts_with('.') || !name.chars().all(allowed) {
        return Err(format!(
            "invalid model name {name:?}: use letters, digits, '.', '-' and '_' (it names the results folders)"
        ));
    }
    Ok(())
}

/// The model name a run records when none is given: the file's or folder's name.
pub fn default_model_name(path: &Path) -> String {
    let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("model");
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_hours_minutes_and_seconds() {
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("45s"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        for bad in ["", "h", "2x", "2h3", "0m", "-1h"] {
            let error = parse_duration(bad).unwrap_err();
            assert!(error.contains("write it like 2h"), "{bad}: {error}");
        }
    }

    #[test]
    fn model_names_must_make_folder_names() {
        assert!(check_model_name("smollm2-135m_q4.1").is_ok());
        for bad in ["", "../up", ".hidden", "a/b", "name with space"] {
            assert!(
                check_model_name(bad)
                    .unwrap_err()
                    .contains("invalid model name"),
                "{bad}"
            );
        }
        assert_eq!(
            default_model_name(Path::new("/m/SmolLM2-135M-Instruct.Q4_1.gguf")),
            "SmolLM2-135M-Instruct.Q4_1"
        );
    }

    #[test]
    fn consecutive_messages_of_one_role_are_joined() {
        use crate::games::Message as M;
        let history = [
            M {
                role: "user",
                content: "a".into(),
            },
            M {
                role: "user",
                content: "b".into(),
            },
            M {
                role: "assistant",
                content: "c".into(),
            },
        ];
        let merged = merge_roles(&history);
        assert_eq!(
            merged,
            vec![
                Message::new("user", "a\n\nb"),
                Message::new("assistant", "c")
            ]
        );
    }
}
