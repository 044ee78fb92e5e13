//! taboo: Player 1 describes a target word without using it or its related
//! words ("CLUE: …"), Player 2 guesses ("GUESS: …"), for at most `max_turns`
//! rounds. A broken prefix aborts; a clue that uses a taboo word (compared by
//! Snowball stems, stopwords dropped) ends the game as a loss. Main Score is
//! 100 divided by the round of the correct guess.

use super::{note, Episode, Event, GameError, Player, Responder, Scores};
use rust_stemmers::{Algorithm, Stemmer};
use serde::Deserialize;
use std::collections::HashSet;

#[derive(Clone, Debug, Deserialize)]
pub struct Experiment {
    pub name: String,
    pub max_turns: usize,
    pub describer_initial_prompt: String,
    pub guesser_initial_prompt: String,
    pub game_instances: Vec<Instance>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Instance {
    pub target_word: String,
    pub related_word: Vec<String>,
}

/// ASCII punctuation, as Python's `string.punctuation`.
fn without_punctuation(text: &str) -> String {
    text.chars().filter(|c| !c.is_ascii_punctuation()).collect()
}

/// The words a clue must avoid, as Snowball stems; made once per episode.
struct TabooWords<'a> {
    stemmer: Stemmer,
    instance: &'a Instance,
    target: String,
    related: Vec<String>,
}

impl<'a> TabooWords<'a> {
    fn new(instance: &'a Instance) -> Self {
        let stemmer = Stemmer::create(Algorithm::English);
        let stem = |word: &str| stemmer.stem(&word.to_lowercase()).into_owned();
        let target = stem(&instance.target_word);
        let related = instance.related_word.iter().map(|w| stem(w)).collect();
        Self { stemmer, instance, target, related }
    }

    /// The describer's check: the clue as logged, or why it breaks the rules.
    fn check(&self, clue: &str, stopwords: &HashSet<String>) -> Result<String, String> {
        let cleaned = without_punctuation(&clue.replace("CLUE:", "").trim().to_lowercase());
        for word in cleaned.split(' ').filter(|w| !stopwords.contains(*w)) {
            let word_stem = self.stemmer.stem(word).into_owned();
            if word_stem == self.target {
                return Err(format!(
                    "Target word '{}' (stem '{}') was used in the clue",
                    self.instance.target_word, self.target
                ));
            }
            if let Some(index) = self.related.iter().position(|r| *r == word_stem) {
                return Err(format!(
                    "Related word '{}' (stem '{word_stem}') was used in the clue",
                    self.instance.related_word[index]
                ));
            }
        }
        Ok(cleaned)
    }
}

fn prompt(template: &str, experiment: &Experiment, instance: &Instance) -> String {
    let related: Vec<String> = instance.related_word.iter().take(3).map(|w| format!("- {w}")).collect();
    template
        .replace("$TARGET_WORD$", &instance.target_word)
        .replace("$REL_WORD$", &related.join("\n"))
        .replace("$N$", &experiment.max_turns.to_string())
}

pub fn play(experiment: &Experiment, instance: &Instance, stopwords: &HashSet<String>, model: &mut dyn Responder) -> Result<Episode, GameError> {
    let mut describer = Player::new(1);
    let mut guesser = Player::new(2);
    let guesser_prompt = prompt(&experiment.guesser_initial_prompt, experiment, instance);
    let mut describer_context = prompt(&experiment.describer_initial_prompt, experiment, instance);
    let taboo_words = TabooWords::new(instance);
    let mut turns: Vec<Vec<Event>> = Vec::new();
    let (mut aborted, mut clue_error, mut won) = (false, None::<String>, false);
    loop {
        let mut round = Vec::new();
        let clue = describer.ask(&describer_context, model, &mut round)?.trim().to_string();
        if !clue.starts_with("CLUE:") {
            aborted = true;
        } else {
            note(&mut round, "valid response", "continue");
            match taboo_words.check(&clue, stopwords) {
                Ok(cleaned) => note(&mut round, "valid clue", &cleaned),
                Err(message) => clue_error = Some(message),
            }
        }
        if !aborted && clue_error.is_none() {
            // The guesser's prompt goes in front of its first clue.
            let context = if turns.is_empty() { format!("{guesser_prompt}\n\n{clue}") } else { clue.clone() };
            let guess = guesser.ask(&context, model, &mut round)?.trim().to_string();
            if !guess.starts_with("GUESS:") {
                aborted = true;
            } else {
                note(&mut round, "valid response", "continue");
                let guessed = without_punctuation(&guess.replace("GUESS:", "").trim().to_lowercase()).to_lowercase();
                note(&mut round, "valid guess", &guessed);
                won = guessed == instance.target_word;
            }
            describer_context = guess;
        }
        let rounds_played = turns.len() + usize::from(!aborted && clue_error.is_none());
        let out_of_rounds = rounds_played >= experiment.max_turns;
        if aborted || clue_error.is_some() || won || out_of_rounds {
            if aborted {
                note(&mut round, "invalid format", "abort game");
            }
            if let Some(message) = &clue_error {
                note(&mut round, "invalid clue", message);
            }
            if out_of_rounds {
                note(&mut round, "max rounds reached", &experiment.max_turns.to_string());
            }
            if won {
                note(&mut round, "correct guess", "end game");
            }
            turns.push(round);
            break;
        }
        turns.push(round);
    }
    Ok(score(turns))
}

/// TabooScorer: reads only the event log; one request per round.
fn score(turns: Vec<Vec<Event>>) -> Episode {
    let (mut invalid, mut won) = (false, false);
    let mut turn_scores = Vec::new();
    for (index, round) in turns.iter().enumerate() {
        invalid |= round.iter().any(|e| e.kind == "invalid format");
        won |= round.iter().any(|e| e.kind == "correct guess");
        turn_scores.push((
            index,
            vec![
                ("Accuracy".to_string(), f64::from(u8::from(won))),
                ("Violated Request Count".to_string(), f64::from(u8::from(invalid))),
                ("Parsed Request Count".to_string(), f64::from(u8::from(!invalid))),
                ("Request Count".to_string(), 1.0),
            ],
        ));
    }
    let requests = turns.len() as f64;
    let violated = turn_scores.iter().map(|(_, s)| s[1].1).sum::<f64>();
    let parsed = requests - violated;
    let (aborted, success, lose, main) = match (invalid, won) {
        (true, _) => (1.0, 0.0, 0.0, f64::NAN),
        (false, true) => (0.0, 1.0, 0.0, 100.0 / requests),
        (false, false) => (0.0, 0.0, 1.0, 0.0),
    };
    let episode_scores: Scores = vec![
        ("Violated Request Count".to_string(), violated),
        ("Parsed Request Count".to_string(), parsed),
        ("Request Count".to_string(), requests),
        ("Request Success Ratio".to_string(), parsed / requests),
        ("Aborted".to_string(), aborted),
        ("Success".to_string(), success),
        ("Lose".to_string(), lose),
        ("Main Score".to_string(), main),
        // clemcore counts repetitions from events this game master never logs.
        ("Repetition-Guesser".to_string(), 0.0),
        ("Repetition-Describer".to_string(), 0.0),
    ];
    Episode { turns, turn_scores, episode_scores, ..Default::default() }
}
