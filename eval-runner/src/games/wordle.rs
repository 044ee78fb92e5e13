//! wordle and wordle_withclue: one guesser, six attempts at a five-letter
//! word, colour feedback after each guess (with the clue, the first message
//! also gives a crossword clue). An unknown word is re-prompted (five times at
//! most); any other broken reply aborts. Main Score by the round of the win —
//! wordle: 100 in the first three, then 50, 30, 20; withclue: 100 / rounds —
//! and 0 for a loss.

use super::{note, Episode, Event, GameError, Player, Responder, Scores};
use regex::Regex;
use serde::Deserialize;
use std::collections::{BTreeSet, HashSet};
use std::sync::LazyLock;

const RETRY_PROMPT: &str = "Your guess is not a valid word for this game. Please try again.";
const FORMAT_REMINDER: &str = "Provide your response only in this format.\nexplanation: details\nguess: word";

/// An experiment of `in/instances.json`, with the parts the game master reads.
#[derive(Clone, Debug, Deserialize)]
pub struct Experiment {
    pub name: String,
    pub guesser_prompt: String,
    pub common_config: CommonConfig,
    pub lang_keywords: LangKeywords,
    pub game_instances: Vec<Instance>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct CommonConfig {
    pub n_turns: usize,
    pub max_retry_per_error: MaxRetries,
}

#[derive(Clone, Debug, Deserialize)]
pub struct MaxRetries {
    #[serde(rename = "NOT_VALID_WORD_FOR_GAME")]
    pub unknown_word: usize,
}

#[derive(Clone, Debug, Deserialize)]
pub struct LangKeywords {
    pub official_words_list: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Instance {
    pub target_word: String,
    #[serde(default)]
    pub target_word_clue: String,
}

/// Which of the wordle games is played.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Plain,
    WithClue,
}

/// Why a reply was refused: an unknown word is re-prompted, the rest abort.
#[derive(Debug, PartialEq)]
enum Refusal {
    UnknownWord,
    Broken(&'static str),
}

/// The explanation and the guess of a reply, as the guesser must write it.
fn parse(reply: &str, words: &HashSet<&str>) -> Result<(String, String), Refusal> {
    if !reply.starts_with("explanation:") {
        return Err(Refusal::Broken("The response should always start with the keyword 'explanation:'"));
    }
    if reply.trim().split('\n').count() > 2 {
        return Err(Refusal::Broken(
            "The response should contain only the 'guess:' and 'explanation:' keywords and associated information.",
        ));
    }
    static EXPLANATION: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)explanation:([^\n]*)").expect("valid pattern"));
    static GUESS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)guess:([^\n]*)").expect("valid pattern"));
    let explanation = EXPLANATION.captures(reply).map_or(String::new(), |c| c[1].trim().to_string());
    let guesses: Vec<String> = GUESS.captures_iter(reply).map(|c| c[1].trim().to_lowercase()).collect();
    let [guess] = guesses.as_slice() else {
        return Err(Refusal::Broken("The response should contain the 'guess:' keyword exactly once."));
    };
    if guess.is_empty() || !guess.chars().all(char::is_alphabetic) {
        return Err(Refusal::Broken("The guess should be a single word and should only contain letters."));
    }
    if guess.chars().count() != 5 {
        return Err(Refusal::Broken("The length of the guessed word is not 5."));
    }
    if !words.contains(guess.as_str()) {
        return Err(Refusal::UnknownWord);
    }
    Ok((explanation, guess.clone()))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Colour {
    Green,
    Yellow,
    Red,
}

/// Wordle's two-pass colouring: exact letters first, then present ones left to right.
fn colours(guess: &str, target: &str) -> Vec<(char, Colour)> {
    let guess: Vec<char> = guess.chars().collect();
    let target: Vec<char> = target.chars().collect();
    let mut left: Vec<Option<char>> = target.iter().copied().map(Some).collect();
    let mut result: Vec<(char, Colour)> = guess.iter().map(|&c| (c, Colour::Red)).collect();
    for (i, &c) in guess.iter().enumerate() {
        if target.get(i) == Some(&c) {
            result[i].1 = Colour::Green;
            left[i] = None;
        }
    }
    for (i, &c) in guess.iter().enumerate() {
        if result[i].1 == Colour::Green {
            continue;
        }
        if let Some(slot) = left.iter_mut().find(|slot| **slot == Some(c)) {
            *slot = None;
            result[i].1 = Colour::Yellow;
        }
    }
    result
}

fn feedback_text(feedback: &[(char, Colour)]) -> String {
    let name = |colour: Colour| match colour {
        Colour::Green => "green",
        Colour::Yellow => "yellow",
        Colour::Red => "red",
    };
    feedback.iter().map(|(c, colour)| format!("{c}<{}>", name(*colour))).collect::<Vec<_>>().join(" ")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Win,
    Loss,
    Abort,
}

pub fn play(variant: Variant, experiment: &Experiment, instance: &Instance, model: &mut dyn Responder) -> Result<Episode, GameError> {
    let words: HashSet<&str> = experiment.lang_keywords.official_words_list.iter().map(String::as_str).collect();
    let target = instance.target_word.to_lowercase();
    let mut guesser = Player::new(1);
    let mut turns: Vec<Vec<Event>> = Vec::new();
    let mut round: Vec<Event> = Vec::new();
    let clue = instance.target_word_clue.as_str();
    // The prompt is a lazy initial prompt: joined in front of the first context.
    let mut context = match variant {
        Variant::Plain => experiment.guesser_prompt.clone(),
        Variant::WithClue => format!("{}\n\nclue: {clue}", experiment.guesser_prompt),
    };
    let clue_line = match variant {
        Variant::Plain => String::new(),
        Variant::WithClue => format!("\ntarget_word_clue = {clue}"),
    };
    let (mut requests, mut parsed, mut violated, mut retries) = (0u32, 0u32, 0u32, 0usize);
    let mut feedbacks: Vec<Vec<(char, Colour)>> = Vec::new();
    let mut guesses: Vec<String> = Vec::new();
    let outcome = loop {
        let reply = guesser.ask(&context, model, &mut round)?;
        requests += 1;
        match parse(&reply, &words) {
            Err(Refusal::Broken(reason)) => {
                violated += 1;
                note(&mut round, "metadata", &format!("Error: {reason}"));
                note(&mut round, "invalid format", "game_result = ABORT");
                break Outcome::Abort;
            }
            Err(Refusal::UnknownWord) => {
                parsed += 1;
                retries += 1;
                note(&mut round, "metadata", "Error: The guessed word is not a valid word for this game.");
                if retries > experiment.common_config.max_retry_per_error.unknown_word {
                    note(&mut round, "invalid format", "game_result = ABORT");
                    break Outcome::Abort;
                }
                context = format!("{RETRY_PROMPT}\n\n{FORMAT_REMINDER}");
            }
            Ok((_explanation, guess)) => {
                parsed += 1;
                retries = 0;
                let feedback = colours(&guess, &target);
                let text = feedback_text(&feedback);
                let attempts = turns.len() + 1;
                note(
                    &mut round,
                    "metadata",
                    &format!("attempts = {attempts}\ntarget_word = {target}{clue_line}\nguess = {guess}\nguess_feedback = {text}"),
                );
                feedbacks.push(feedback);
                guesses.push(guess.clone());
                if guess == target {
                    note(&mut round, "correct guess", "game_result = WIN");
                    break Outcome::Win;
                }
                if attempts >= experiment.common_config.n_turns {
                    note(&mut round, "max rounds played", "game_result = LOSS");
                    break Outcome::Loss;
                }
                context = format!("guess_feedback: {text}\n\n{FORMAT_REMINDER}");
                turns.push(std::mem::take(&mut round));
            }
        }
    };
    turns.push(round);
    let rounds = turns.len();
    Ok(Episode {
        turns,
        turn_scores: turn_scores(&feedbacks, &guesses, outcome == Outcome::Abort),
        episode_scores: episode_scores(variant, outcome, rounds, &guesses, requests, parsed, violated),
    })
}

fn letters(word: &str) -> BTreeSet<char> {
    word.chars().collect()
}

/// Closeness (5 per green, 3 per yellow) and Strategy (how the next guess used the feedback), from turn 1.
fn turn_scores(feedbacks: &[Vec<(char, Colour)>], guesses: &[String], aborted: bool) -> Vec<(usize, Scores)> {
    if feedbacks.is_empty() {
        return vec![(0, vec![("Closeness Score".into(), f64::NAN), ("Strategy Score".into(), f64::NAN)])];
    }
    let with = |feedback: &[(char, Colour)], colour: Colour| -> BTreeSet<char> {
        feedback.iter().filter(|(_, c)| *c == colour).map(|(letter, _)| *letter).collect()
    };
    feedbacks
        .iter()
        .enumerate()
        .map(|(i, feedback)| {
            let closeness = feedback
                .iter()
                .map(|(_, colour)| match colour {
                    Colour::Green => 5.0,
                    Colour::Yellow => 3.0,
                    Colour::Red => 0.0,
                })
                .sum::<f64>();
            let strategy = if i == 0 {
                if feedbacks.len() == 1 && !aborted { 100.0 } else { 0.0 }
            } else {
                let previous = &feedbacks[i - 1];
                let next = letters(&guesses[i]);
                let overlap = |colour: Colour| with(previous, colour).intersection(&next).count() as f64;
                -20.0 * overlap(Colour::Red) + 20.0 * overlap(Colour::Green) + 10.0 * overlap(Colour::Yellow)
            };
            (i + 1, vec![("Closeness Score".into(), closeness), ("Strategy Score".into(), strategy)])
        })
        .collect()
}

fn episode_scores(
    variant: Variant,
    outcome: Outcome,
    rounds: usize,
    guesses: &[String],
    requests: u32,
    parsed: u32,
    violated: u32,
) -> Scores {
    let flag = |b: bool| f64::from(u8::from(b));
    let repetitions = (guesses.len() - guesses.iter().collect::<BTreeSet<_>>().len()) as f64;
    let (main, repetitions) = match outcome {
        Outcome::Abort => (f64::NAN, f64::NAN),
        Outcome::Loss => (0.0, repetitions),
        Outcome::Win => (
            match (variant, rounds) {
                (Variant::Plain, 1..=3) => 100.0,
                (Variant::Plain, 4) => 50.0,
                (Variant::Plain, 5) => 30.0,
                (Variant::Plain, _) => 20.0,
                (Variant::WithClue, rounds) => crate::scoring::round2(100.0 / rounds as f64),
            },
            repetitions,
        ),
    };
    vec![
        ("Aborted".into(), flag(outcome == Outcome::Abort)),
        ("Lose".into(), flag(outcome == Outcome::Loss)),
        ("Success".into(), flag(outcome == Outcome::Win)),
        ("Request Count".into(), f64::from(requests)),
        ("Parsed Request Count".into(), f64::from(parsed)),
        ("Violated Request Count".into(), f64::from(violated)),
        ("Request Success Ratio".into(), f64::from(parsed) / f64::from(requests)),
        ("Main Score".into(), main),
        ("Guess Repetitions".into(), repetitions),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_count_each_target_letter_once() {
        assert_eq!(feedback_text(&colours("apple", "party")), "a<yellow> p<yellow> p<red> l<red> e<red>");
        assert_eq!(feedback_text(&colours("horse", "voila")), "h<red> o<green> r<red> s<red> e<red>");
        assert_eq!(feedback_text(&colours("party", "party")), "p<green> a<green> r<green> t<green> y<green>");
    }

    #[test]
    fn replies_are_refused_with_clemcores_reasons() {
        let words: HashSet<&str> = ["party", "apple"].into();
        assert_eq!(parse("explanation: x\nguess: Party", &words), Ok(("x".into(), "party".into())));
        assert_eq!(parse("guess: party", &words), Err(Refusal::Broken("The response should always start with the keyword 'explanation:'")));
        assert!(matches!(parse("explanation: x\nguess: party\nmore", &words), Err(Refusal::Broken(r)) if r.contains("only the 'guess:'")));
        assert!(matches!(parse("explanation: x\nno guess here", &words), Err(Refusal::Broken(r)) if r.contains("exactly once")));
        assert!(matches!(parse("explanation: x\nguess: par ty", &words), Err(Refusal::Broken(r)) if r.contains("single word")));
        assert!(matches!(parse("explanation: x\nguess: part", &words), Err(Refusal::Broken(r)) if r.contains("not 5")));
        assert_eq!(parse("explanation: x\nguess: zzzzz", &words), Err(Refusal::UnknownWord));
    }
}
