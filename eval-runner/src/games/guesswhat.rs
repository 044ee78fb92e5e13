//! guesswhat: Player 1 finds the target among eight candidate words by
//! yes/no questions ("QUESTION: …") and one guess ("GUESS: …"); Player 2
//! knows the target and answers ("ANSWER: yes|no"). Questions about the
//! word's spelling, length, syllables or part of speech break the rules. Main
//! Score is the speed of a correct guess: 100 within five rounds, then less
//! down to 0 at the last; 0 for a wrong guess.

use super::python_re::PythonRegex;
use super::{note, Episode, Event, GameError, Party, Player, Responder, Scores};
use serde::Deserialize;

#[derive(Clone, Debug, Deserialize)]
pub struct Experiment {
    pub name: String,
    pub max_turns: usize,
    pub answer_variations: Vec<String>,
    pub letter_based_pattern: String,
    pub direct_guess_pattern: String,
    pub length_question_pattern: String,
    pub syllable_question_pattern: String,
    pub pos_question_pattern: String,
    pub answerer_initial_prompt: String,
    pub guesser_initial_prompt: String,
    pub game_instances: Vec<Instance>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Instance {
    pub target_word: String,
    pub candidate_list: Vec<String>,
}

/// Rounds within which a correct guess scores 100.
const FAST_ROUNDS: usize = 5;

/// A list of strings as Python prints it: `['a', 'b']`.
fn python_list(items: &[String]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|item| format!("'{}'", item.replace('\\', "\\\\").replace('\'', "\\'")))
        .collect();
    format!("[{}]", quoted.join(", "))
}

/// A question pattern the guesser must not match, and why.
struct Forbidden {
    pattern: PythonRegex,
    message: &'static str,
}

fn forbidden(experiment: &Experiment) -> Result<Vec<Forbidden>, GameError> {
    let rules = [
        (
            &experiment.letter_based_pattern,
            false,
            "The question asks about the letters of the target word.",
        ),
        (
            &experiment.direct_guess_pattern,
            true,
            "The question guesses the target word directly.",
        ),
        (
            &experiment.length_question_pattern,
            false,
            "The question asks about the length of the target word.",
        ),
        (
            &experiment.syllable_question_pattern,
            false,
            "The question asks about the syllables of the target word.",
        ),
        (
            &experiment.pos_question_pattern,
            true,
            "The question asks about the part of speech of the target word.",
        ),
    ];
    rules
        .into_iter()
        .map(|(pattern, anchored, message)| {
            // `re.match` for the anchored ones, `re.search` for the others.
            let pattern = if anchored {
                PythonRegex::matching(pattern, false)
            } else {
                PythonRegex::searching(pattern, false)
            };
            pattern
                .map(|pattern| Forbidden { pattern, message })
                .map_err(|e| {
                    GameError::Instance(format!(
                        "experiment {}: a question pattern is not usable: {e}",
                        experiment.name
                    ))
                })
        })
        .collect()
}

/// What the guesser's reply was.
enum Move {
    Question,
    Guess(String),
    /// Broken format, with the logged reason where the game logs one.
    InvalidFormat(Option<&'static str>),
    InvalidContent(&'static str),
}

fn read_guesser(reply: &str, rules: &[Forbidden]) -> Move {
    if let Some(text) = reply.strip_prefix("GUESS:") {
        let word: String = text
            .trim()
            .to_lowercase()
            .chars()
            .filter(|c| !c.is_ascii_punctuation())
            .collect();
        if word.split_whitespace().count() > 1 {
            return Move::InvalidFormat(None);
        }
        return Move::Guess(word);
    }
    let Some(text) = reply.strip_prefix("QUESTION:") else {
        return Move::InvalidFormat(Some(
            "Invalid format. Guesser must use the form 'QUESTION: ' or 'GUESS: '.",
        ));
    };
    if reply.matches("QUESTION:").count() > 1 {
        return Move::InvalidFormat(Some("Multiple questions detected in a single turn."));
    }
    let text = text.trim();
    if text.contains('?') {
        let parts: Vec<&str> = text.split('?').collect();
        if parts.len() != 2 || !parts[1].trim().is_empty() {
            return Move::InvalidFormat(Some(
                "Invalid format. Question must stop after the question mark.",
            ));
        }
    }
    let question = text.to_lowercase();
    for rule in rules {
        if rule.pattern.is_match(&question) {
            return Move::InvalidContent(rule.message);
        }
    }
    Move::Question
}

pub fn play(
    experiment: &Experiment,
    instance: &Instance,
    model: &mut dyn Responder,
) -> Result<Episode, GameError> {
    let rules = forbidden(experiment)?;
    let target = instance.target_word.to_lowercase();
    let mut guesser = Player::new(1);
    let mut answerer = Player::new(2);
    let mut turns: Vec<Vec<Event>> = Vec::new();
    let mut context = experiment
        .guesser_initial_prompt
        .replace("$LIST$", &python_list(&instance.candidate_list))
        .replace("$N$", &(experiment.max_turns - 1).to_string());
    loop {
        let mut round = Vec::new();
        let reply = guesser.ask(&context, model, &mut round)?;
        match read_guesser(&reply, &rules) {
            Move::InvalidFormat(reason) => {
                if let Some(reason) = reason {
                    note(&mut round, "invalid format", reason);
                }
                note(&mut round, "invalid format", "abort game");
            }
            Move::InvalidContent(reason) => {
                note(&mut round, "invalid content", reason);
                note(&mut round, "invalid content", "abort game");
            }
            Move::Guess(word) => {
                let kind = if word == target {
                    "correct guess"
                } else {
                    "incorrect guess"
                };
                note(&mut round, kind, &word);
                note(&mut round, kind, "end game");
            }
            Move::Question => {
                let to_answerer = if turns.is_empty() {
                    format!(
                        "{}\n\n{reply}",
                        experiment
                            .answerer_initial_prompt
                            .replace("$TARGET WORD$", &instance.target_word)
                    )
                } else {
                    reply.clone()
                };
                let answer = answerer.ask(&to_answerer, model, &mut round)?;
                if !experiment.answer_variations.contains(&answer) {
                    note(
                        &mut round,
                        "invalid format",
                        "Invalid format. Answerer must answer with 'ANSWER: yes' or 'ANSWER: no'.",
                    );
                    note(&mut round, "invalid format", "abort game");
                } else if turns.len() + 1 >= experiment.max_turns {
                    note(
                        &mut round,
                        "max turns reached",
                        &experiment.max_turns.to_string(),
                    );
                } else {
                    context = answer;
                    turns.push(round);
                    continue;
                }
            }
        }
        turns.push(round);
        break;
    }
    Ok(score(experiment, turns))
}

fn is_invalid(event: &Event) -> bool {
    event.kind == "invalid format" || event.kind == "invalid content"
}

fn score(experiment: &Experiment, turns: Vec<Vec<Event>>) -> Episode {
    let rounds = turns.len();
    let mut turn_scores = Vec::new();
    let mut violated = 0.0;
    let mut won = false;
    // Invalid replies by (kind, player), attributed by the event just before the invalid one.
    let mut invalid = [[0.0; 2]; 2];
    for (index, round) in turns.iter().enumerate() {
        let broken = round.iter().any(is_invalid);
        violated += f64::from(u8::from(broken));
        won |= round.iter().any(|e| e.kind == "correct guess");
        for pair in round.windows(2) {
            if let (Party::Player(n @ 1..=2), true) = (pair[0].from, is_invalid(&pair[1])) {
                let kind = usize::from(pair[1].kind == "invalid content");
                invalid[kind][n - 1] += 1.0;
            }
        }
        let broken = f64::from(u8::from(broken));
        turn_scores.push((
            index,
            vec![
                ("Accuracy".into(), f64::from(u8::from(won))),
                ("Request Count".into(), 1.0),
                ("Parsed Request Count".into(), 1.0 - broken),
                ("Violated Request Count".into(), broken),
            ],
        ));
    }
    let requests = rounds as f64;
    let mut episode_scores: Scores = vec![
        ("Violated Request Count".into(), violated),
        ("Parsed Request Count".into(), requests - violated),
        ("Request Count".into(), requests),
        (
            "Request Success Ratio".into(),
            (requests - violated) / requests,
        ),
    ];
    let aborted = turns
        .last()
        .is_some_and(|round| round.iter().any(is_invalid));
    if aborted {
        episode_scores.extend([("Aborted".into(), 1.0), ("Main Score".into(), f64::NAN)]);
    } else if won {
        let slow = experiment.max_turns.saturating_sub(FAST_ROUNDS) as f64;
        let speed = if rounds <= FAST_ROUNDS {
            100.0
        } else {
            crate::scoring::round2(
                (100.0 * (experiment.max_turns as f64 - rounds as f64) / slow).max(0.0),
            )
        };
        episode_scores.extend([
            ("Aborted".into(), 0.0),
            ("Success".into(), 1.0),
            ("Lose".into(), 0.0),
            ("Speed".into(), speed),
            ("Main Score".into(), speed),
        ]);
    } else {
        episode_scores.extend([
            ("Aborted".into(), 0.0),
            ("Success".into(), 0.0),
            ("Lose".into(), 1.0),
            ("Main Score".into(), 0.0),
        ]);
    }
    episode_scores.extend([
        ("Invalid format guesser response".into(), invalid[0][0]),
        ("Invalid format answerer response".into(), invalid[0][1]),
        ("Invalid content guesser response".into(), invalid[1][0]),
        ("Invalid content answerer response".into(), invalid[1][1]),
    ]);
    Episode {
        turns,
        turn_scores,
        episode_scores,
        ..Default::default()
    }
}
