//! wordle, wordle_withclue and wordle_withcritic: one guesser, six attempts
//! at a five-letter word, colour feedback after each guess (with the clue, the
//! first message also gives a crossword clue; with the critic, a second player
//! judges each proposed guess before the guesser commits to one). An unknown
//! word is re-prompted (five times at most); any other broken reply aborts.
//! Main Score by the round of the win — wordle: 100 in the first three, then
//! 50, 30, 20; the others: 100 / rounds — and 0 for a loss.

use super::{note, Details, Episode, Event, GameError, Player, Responder, Scores};
use serde_json::json;
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
    /// wordle_withcritic: the critic's prompt.
    #[serde(default)]
    pub guesser_critic_prompt: String,
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
    WithCritic,
}

/// Why a reply was refused: an unknown word is re-prompted, the rest abort.
#[derive(Debug, PartialEq)]
enum Refusal {
    UnknownWord,
    Broken(&'static str),
}

/// The explanation and the one `guess:` (or the critic's `agreement:`) of a reply.
fn read_reply(reply: &str, critic: bool) -> Result<(String, String), &'static str> {
    if !reply.starts_with("explanation:") {
        return Err("The response should always start with the keyword 'explanation:'");
    }
    if reply.trim().split('\n').count() > 2 {
        return Err("The response should contain only the 'guess:' and 'explanation:' keywords and associated information.");
    }
    static EXPLANATION: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)explanation:([^\n]*)").expect("valid pattern"));
    static GUESS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)guess:([^\n]*)").expect("valid pattern"));
    static AGREEMENT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)agreement:([^\n]*)").expect("valid pattern"));
    let explanation = EXPLANATION.captures(reply).map_or(String::new(), |c| c[1].trim().to_string());
    let content = if critic { &AGREEMENT } else { &GUESS };
    let values: Vec<String> = content.captures_iter(reply).map(|c| c[1].trim().to_lowercase()).collect();
    match values.as_slice() {
        [value] => Ok((explanation, value.clone())),
        _ if critic => Err("The response should contain the 'agreement:' keyword exactly once."),
        _ => Err("The response should contain the 'guess:' keyword exactly once."),
    }
}

/// The critic's explanation and its "yes" or "no".
fn parse_judgement(reply: &str) -> Result<(String, String), &'static str> {
    let (explanation, agreement) = read_reply(reply, true)?;
    if agreement.is_empty() || !agreement.chars().all(char::is_alphabetic) {
        return Err("The agreement should be a single word and should only contain letters.");
    }
    if agreement != "yes" && agreement != "no" {
        return Err("The agreement should be one of the following: ['yes', 'no']");
    }
    Ok((explanation, agreement))
}

/// The explanation and the guess of a reply, as the guesser must write it.
fn parse(reply: &str, words: &HashSet<&str>) -> Result<(String, String), Refusal> {
    let (explanation, guess) = read_reply(reply, false).map_err(Refusal::Broken)?;
    let guess = &guess;
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

/// An episode in progress: the rounds so far, the request counts and the committed guesses.
struct Game<'a> {
    experiment: &'a Experiment,
    words: HashSet<&'a str>,
    target: String,
    clue_line: String,
    turns: Vec<Vec<Event>>,
    round: Vec<Event>,
    requests: u32,
    parsed: u32,
    violated: u32,
    feedbacks: Vec<Vec<(char, Colour)>>,
    guesses: Vec<String>,
    /// The committed guesses' explanations.
    explanations: Vec<String>,
}

impl Game<'_> {
    /// Asks `player` for a guess, re-prompting unknown words; `None` when the reply aborts the game.
    fn ask_guess(&mut self, player: &mut Player, mut context: String, model: &mut dyn Responder) -> Result<Option<(String, String)>, GameError> {
        let mut retries = 0;
        loop {
            let reply = player.ask(&context, model, &mut self.round)?;
            self.requests += 1;
            match parse(&reply, &self.words) {
                Err(Refusal::Broken(reason)) => {
                    self.violated += 1;
                    note(&mut self.round, "metadata", &format!("Error: {reason}"));
                    note(&mut self.round, "invalid format", "game_result = ABORT");
                    return Ok(None);
                }
                Err(Refusal::UnknownWord) => {
                    self.parsed += 1;
                    retries += 1;
                    note(&mut self.round, "metadata", "Error: The guessed word is not a valid word for this game.");
                    if retries > self.experiment.common_config.max_retry_per_error.unknown_word {
                        note(&mut self.round, "invalid format", "game_result = ABORT");
                        return Ok(None);
                    }
                    context = format!("{RETRY_PROMPT}\n\n{FORMAT_REMINDER}");
                }
                Ok(guess) => {
                    self.parsed += 1;
                    return Ok(Some(guess));
                }
            }
        }
    }

    /// Checks a committed guess against the target: the outcome when the game
    /// ends, else the feedback for the next round (which then begins).
    fn commit(&mut self, explanation: String, guess: String) -> Result<Outcome, String> {
        let feedback = colours(&guess, &self.target);
        let text = feedback_text(&feedback);
        let attempts = self.turns.len() + 1;
        let metadata = format!("attempts = {attempts}\ntarget_word = {}{}\nguess = {guess}\nguess_feedback = {text}", self.target, self.clue_line);
        note(&mut self.round, "metadata", &metadata);
        self.feedbacks.push(feedback);
        let won = guess == self.target;
        self.guesses.push(guess);
        self.explanations.push(explanation);
        if won {
            note(&mut self.round, "correct guess", "game_result = WIN");
            return Ok(Outcome::Win);
        }
        if attempts >= self.experiment.common_config.n_turns {
            note(&mut self.round, "max rounds played", "game_result = LOSS");
            return Ok(Outcome::Loss);
        }
        self.turns.push(std::mem::take(&mut self.round));
        Err(text)
    }
}

pub fn play(variant: Variant, experiment: &Experiment, instance: &Instance, model: &mut dyn Responder) -> Result<Episode, GameError> {
    let clue = instance.target_word_clue.as_str();
    let mut game = Game {
        experiment,
        words: experiment.lang_keywords.official_words_list.iter().map(String::as_str).collect(),
        target: instance.target_word.to_lowercase(),
        clue_line: if variant == Variant::Plain { String::new() } else { format!("\ntarget_word_clue = {clue}") },
        turns: Vec::new(),
        round: Vec::new(),
        requests: 0,
        parsed: 0,
        violated: 0,
        feedbacks: Vec::new(),
        guesses: Vec::new(),
        explanations: Vec::new(),
    };
    let mut guesser = Player::new(1);
    let mut critic = Player::new(2);
    // (initial guess, critic's judgement) of each round with the critic.
    let mut opinions: Vec<(String, String)> = Vec::new();
    // Every valid initial guess, judged or not.
    let mut proposals: Vec<String> = Vec::new();
    // The prompts are lazy initial prompts: joined in front of the first context.
    let mut context = match variant {
        Variant::Plain => experiment.guesser_prompt.clone(),
        Variant::WithClue | Variant::WithCritic => format!("{}\n\nclue: {clue}", experiment.guesser_prompt),
    };
    let outcome = loop {
        let Some((explanation, guess)) = game.ask_guess(&mut guesser, context, model)? else { break Outcome::Abort };
        let (explanation, committed) = if variant == Variant::WithCritic {
            proposals.push(guess.clone());
            let proposal = format!("clue: {clue}\nexplanation: {explanation}\nguess: {guess}");
            let to_critic = if game.turns.is_empty() {
                format!("{}\n\n{proposal}", experiment.guesser_critic_prompt)
            } else {
                format!("{proposal}\n\nProvide your response only in this format.\nexplanation: details\nagreement: yes or no")
            };
            let reply = critic.ask(&to_critic, model, &mut game.round)?;
            game.requests += 1;
            let (reason, agreement) = match parse_judgement(&reply) {
                Ok(judgement) => judgement,
                Err(reason) => {
                    game.violated += 1;
                    note(&mut game.round, "metadata", reason);
                    note(&mut game.round, "invalid format", "game_result = ABORT");
                    break Outcome::Abort;
                }
            };
            game.parsed += 1;
            opinions.push((guess, agreement.clone()));
            let to_guesser = format!("clue: {clue}\nguess_agreement: {agreement}\nagreement_explanation: {reason}\n\n{FORMAT_REMINDER}");
            let Some(committed) = game.ask_guess(&mut guesser, to_guesser, model)? else { break Outcome::Abort };
            committed
        } else {
            (explanation, guess)
        };
        match game.commit(explanation, committed) {
            Ok(outcome) => break outcome,
            Err(feedback) => context = format!("guess_feedback: {feedback}\n\n{FORMAT_REMINDER}"),
        }
    };
    let keys = logged_keys(variant, outcome, &game, &proposals, &opinions);
    let Game { mut turns, round, requests, parsed, violated, feedbacks, guesses, .. } = game;
    turns.push(round);
    let rounds = turns.len();
    let aborted = outcome == Outcome::Abort;
    let mut turn_scores = turn_scores(&feedbacks, &guesses, aborted);
    let mut episode_scores = episode_scores(variant, outcome, rounds, &guesses, requests, parsed, violated);
    if variant == Variant::WithCritic {
        critic_scores(&opinions, &guesses, &mut turn_scores, &mut episode_scores);
    }
    Ok(Episode { turns, turn_scores, episode_scores, keys, ..Default::default() })
}

/// What clembench's game master logs at the end, for its scorer to read back.
fn logged_keys(variant: Variant, outcome: Outcome, game: &Game, proposals: &[String], opinions: &[(String, String)]) -> Details {
    let flag = |wanted: Outcome| json!(u8::from(outcome == wanted));
    let feedbacks: Vec<String> = game.feedbacks.iter().map(|f| feedback_text(f)).collect();
    // With the critic, "Guesser Guesses" are the proposals and the committed guesses follow.
    let guesses = if variant == Variant::WithCritic { proposals } else { &game.guesses };
    let mut keys: Details = vec![
        ("Aborted".into(), flag(Outcome::Abort)),
        ("Lose".into(), flag(Outcome::Loss)),
        ("Success".into(), flag(Outcome::Win)),
        ("Request Count".into(), json!(game.requests)),
        ("Parsed Request Count".into(), json!(game.parsed)),
        ("Violated Request Count".into(), json!(game.violated)),
        ("Guesser Guesses".into(), json!(guesses)),
        ("Guesser Feedbacks".into(), json!(feedbacks)),
        ("Guesser Explanations".into(), json!(game.explanations)),
    ];
    if variant == Variant::WithCritic {
        let judgements: Vec<&str> = opinions.iter().map(|(_, judgement)| judgement.as_str()).collect();
        keys.push(("Guesser Guesses Committed".into(), json!(game.guesses)));
        keys.push(("Critic Judgements".into(), json!(judgements)));
    }
    keys
}

/// wordle_withcritic: whether each committed guess changed the proposal
/// (per turn), and how often the guesser kept or changed it after the critic
/// agreed or disagreed (per episode).
fn critic_scores(opinions: &[(String, String)], committed: &[String], turns: &mut [(usize, Scores)], episode: &mut Scores) {
    let triples: Vec<(&str, &str, &str)> =
        opinions.iter().zip(committed).map(|((initial, judgement), committed)| (initial.as_str(), committed.as_str(), judgement.as_str())).collect();
    for ((turn, scores), (initial, committed, _)) in turns.iter_mut().zip(&triples) {
        if *turn > 0 {
            scores.push(("Change-Of-Opinion".into(), f64::from(u8::from(initial != committed))));
        }
    }
    let share = |judgement: &str, kept: bool| {
        if triples.is_empty() {
            return f64::NAN;
        }
        let judged: Vec<_> = triples.iter().filter(|(_, _, j)| *j == judgement).collect();
        if judged.is_empty() {
            return 0.0;
        }
        let matching = judged.iter().filter(|(initial, committed, _)| (initial == committed) == kept).count();
        crate::scoring::round2(matching as f64 / judged.len() as f64)
    };
    episode.extend([
        ("Repetition-Guesser-On-Critic-Agreement".to_string(), share("yes", true)),
        ("Non-Repetition-Guesser-On-Critic-Agreement".to_string(), share("yes", false)),
        ("Repetition-Guesser-On-Critic-Disagreement".to_string(), share("no", true)),
        ("Non-Repetition-Guesser-On-Critic-Disagreement".to_string(), share("no", false)),
    ]);
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
                (Variant::WithClue | Variant::WithCritic, rounds) => crate::scoring::round2(100.0 / rounds as f64),
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
