//! The static benchmarks that are one question and one answer: bbh (exact
//! match), mmlu_pro (the letter after "answer is") and cladder (a first word
//! of yes or no). Each instance is an episode of one round; Main Score is 100
//! for a right answer, 0 for a wrong one, and NaN when the answer cannot be read.

use super::{note, Details, Episode, GameError, Player, Responder, Scores};
use serde_json::json;
use regex::Regex;
use serde::Deserialize;

/// An experiment of a static benchmark's `in/instances.json`.
#[derive(Clone, Debug, Deserialize)]
pub struct Experiment {
    pub name: String,
    /// A Jinja2 template with `{{input}}`.
    pub initial_prompt: String,
    /// mmlu_pro: the pattern whose one group is the answer letter.
    #[serde(default)]
    pub regex_pattern: Option<String>,
    /// mmlu_pro: the answer letters.
    #[serde(default)]
    pub choices: Vec<String>,
    pub game_instances: Vec<Instance>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Instance {
    pub input: String,
    pub target: String,
}

fn render(experiment: &Experiment, instance: &Instance) -> Result<String, GameError> {
    let environment = minijinja::Environment::new();
    // bbh and mmlu_pro name the question `input`, cladder `prompt`.
    environment
        .render_str(&experiment.initial_prompt, minijinja::context! { input => instance.input, prompt => instance.input })
        .map_err(|e| GameError::Instance(format!("experiment {}: the prompt template does not render: {e}", experiment.name)))
}

/// How an answer was judged: right, wrong, or unreadable (with the reason).
enum Judgement {
    Right,
    Wrong,
    Unreadable(String),
}

/// mmlu_pro: the judgement, and the letter read when there was exactly one.
fn mmlu_pro_judgement(experiment: &Experiment, instance: &Instance, answer: &str) -> Result<(Judgement, Option<String>), GameError> {
    let pattern = experiment.regex_pattern.as_deref().unwrap_or_default();
    let pattern = Regex::new(pattern)
        .map_err(|e| GameError::Instance(format!("experiment {}: regex_pattern is not usable: {e}", experiment.name)))?;
    let letters: Vec<String> = pattern.captures_iter(answer).filter_map(|c| c.get(1)).map(|m| m.as_str().to_string()).collect();
    let judgement = match letters.as_slice() {
        [] => Judgement::Unreadable("no answer found".to_string()),
        [letter] if !experiment.choices.contains(letter) => Judgement::Unreadable(format!("answer {letter} is not one of the choices")),
        [letter] if *letter == instance.target => Judgement::Right,
        [_] => Judgement::Wrong,
        several => Judgement::Unreadable(format!("{} answers found", several.len())),
    };
    let letter = (letters.len() == 1).then(|| letters[0].clone());
    Ok((judgement, letter))
}

/// cladder: the first word, stripped of punctuation, must be one of the choices.
fn cladder_judgement(experiment: &Experiment, instance: &Instance, answer: &str) -> (Judgement, String) {
    let Some(first) = answer.split_whitespace().next() else {
        return (Judgement::Unreadable("the answer is empty".to_string()), String::new());
    };
    let word: String = first.chars().filter(|c| !c.is_ascii_punctuation()).collect();
    let judgement = if !experiment.choices.contains(&word.to_lowercase()) {
        Judgement::Unreadable(format!("\"{word}\" is not one of {}", experiment.choices.join(", ")))
    } else if word.to_lowercase() == instance.target.to_lowercase() {
        Judgement::Right
    } else {
        Judgement::Wrong
    };
    (judgement, word)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Benchmark {
    Bbh,
    MmluPro,
    Cladder,
}

pub fn play(benchmark: Benchmark, experiment: &Experiment, instance: &Instance, model: &mut dyn Responder) -> Result<Episode, GameError> {
    let prompt = render(experiment, instance)?;
    let mut round = Vec::new();
    let answer = Player::new(1).ask(&prompt, model, &mut round)?.trim().to_string();
    let (judgement, parsed) = match benchmark {
        Benchmark::Bbh => {
            note(&mut round, "metadata", &format!("Target: {}", instance.target));
            (if answer == instance.target { Judgement::Right } else { Judgement::Wrong }, None)
        }
        Benchmark::MmluPro => mmlu_pro_judgement(experiment, instance, &answer)?,
        Benchmark::Cladder => {
            let (judgement, word) = cladder_judgement(experiment, instance, &answer);
            (judgement, Some(word))
        }
    };
    match &judgement {
        Judgement::Unreadable(reason) => {
            note(&mut round, "metadata", &format!("ParseError: {reason}"));
            note(&mut round, "invalid format", "game_result = ABORT");
        }
        Judgement::Right | Judgement::Wrong => {
            if let Some(parsed) = &parsed {
                note(&mut round, "parsed", parsed);
                note(&mut round, "target", &instance.target);
            }
            let right = matches!(judgement, Judgement::Right);
            let what = if benchmark == Benchmark::Cladder { "label" } else { "answer" };
            let (kind, result) = if right { ("correct", "WIN") } else { ("wrong", "LOSE") };
            note(&mut round, &format!("{kind} {what}"), &format!("game_result = {result}"));
        }
    }
    let outcome = match judgement {
        Judgement::Right => Some(true),
        Judgement::Wrong => Some(false),
        Judgement::Unreadable(_) => None,
    };
    let main = if outcome == Some(true) { 100.0 } else { 0.0 };
    Ok(Episode {
        turns: vec![round],
        episode_scores: default_scores(outcome, main),
        keys: default_keys(outcome),
        ..Default::default()
    })
}

/// The keys every static benchmark logs for the default scorer to read back.
pub(super) fn default_keys(outcome: Option<bool>) -> Details {
    let parsed = usize::from(outcome.is_some());
    vec![
        ("Aborted".into(), json!(usize::from(outcome.is_none()))),
        ("Lose".into(), json!(usize::from(outcome == Some(false)))),
        ("Success".into(), json!(usize::from(outcome == Some(true)))),
        ("Request Count".into(), json!(1)),
        ("Parsed Request Count".into(), json!(parsed)),
        ("Violated Request Count".into(), json!(1 - parsed)),
    ]
}

/// The default scorer's episode scores, in its order: `outcome` is `None`
/// for an unreadable answer, else whether it was right; `main` is the Main Score
/// of a readable answer.
pub(super) fn default_scores(outcome: Option<bool>, main: f64) -> Scores {
    let flag = |b: bool| f64::from(u8::from(b));
    let parsed = flag(outcome.is_some());
    vec![
        ("Aborted".into(), flag(outcome.is_none())),
        ("Lose".into(), flag(outcome == Some(false))),
        ("Success".into(), flag(outcome == Some(true))),
        ("Request Count".into(), 1.0),
        ("Parsed Request Count".into(), parsed),
        ("Violated Request Count".into(), 1.0 - parsed),
        ("Request Success Ratio".into(), parsed),
        ("Main Score".into(), if outcome.is_some() { main } else { f64::NAN }),
    ]
}
