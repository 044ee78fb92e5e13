//! eqbench (static): rate the intensity of four emotions of a character
//! (0–10 each). Main Score is EQ-Bench v2's "fullscale" score × 10, from the
//! differences to the reference ratings; NaN when the ratings cannot be read.

use super::single_turn::{default_keys, default_scores};
use super::{note, Episode, GameError, Player, Responder};
use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The game master reads only the experiment's instances.
pub type Experiment = super::Instances<Instance>;

#[derive(Clone, Debug, Deserialize)]
pub struct Instance {
    /// The whole prompt.
    pub input: String,
    /// Emotion → reference rating.
    pub target: BTreeMap<String, u32>,
}

/// The ratings of an answer, or why they cannot be used.
fn parse(answer: &str, reference: &BTreeMap<String, u32>) -> Result<BTreeMap<String, u32>, String> {
    static PAIR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(\w+):\s+(\d+)").expect("valid pattern"));
    let mut ratings = BTreeMap::new();
    for captures in PAIR.captures_iter(answer) {
        // A later rating of an emotion wins, as in Python's dict. Digits of other
        // scripts, which Python would read, count as out of range here.
        ratings.insert(captures[1].to_string(), captures[2].parse::<u32>().unwrap_or(u32::MAX));
    }
    if ratings.is_empty() {
        return Err("no ratings found".to_string());
    }
    if ratings.len() != reference.len() {
        return Err(format!("{} ratings for {} emotions", ratings.len(), reference.len()));
    }
    if let Some(missing) = reference.keys().find(|emotion| !ratings.contains_key(*emotion)) {
        return Err(format!("no rating for {missing}"));
    }
    if ratings.values().all(|r| *r == 0) {
        return Err("no emotion is rated above 0".to_string());
    }
    if let Some((emotion, rating)) = ratings.iter().find(|(_, r)| **r > 10) {
        return Err(format!("{emotion} is rated {rating}, outside 0–10"));
    }
    Ok(ratings)
}

/// EQ-Bench v2 fullscale, × 10: not clipped, not rounded.
pub fn fullscale_score(ratings: &BTreeMap<String, u32>, reference: &BTreeMap<String, u32>) -> f64 {
    let tally: f64 = reference
        .iter()
        .map(|(emotion, expected)| {
            let difference = (f64::from(ratings[emotion]) - f64::from(*expected)).abs();
            if difference == 0.0 {
                0.0
            } else if difference <= 5.0 {
                6.5 / (1.0 + (-1.2 * (difference - 4.0)).exp())
            } else {
                difference
            }
        })
        .sum();
    (10.0 - 0.7477 * tally) * 10.0
}

fn lines(ratings: &BTreeMap<String, u32>) -> String {
    ratings.iter().map(|(emotion, rating)| format!("{emotion}: {rating}")).collect::<Vec<_>>().join("\n")
}

pub fn play(instance: &Instance, model: &mut dyn Responder) -> Result<Episode, GameError> {
    let mut round = Vec::new();
    let answer = Player::new(1).ask(&instance.input, model, &mut round)?.trim().to_string();
    let (outcome, main, parsed) = match parse(&answer, &instance.target) {
        Err(reason) => {
            note(&mut round, "metadata", &format!("ParseError: {reason}"));
            note(&mut round, "invalid format", "game_result = ABORT");
            (None, f64::NAN, serde_json::Value::Null)
        }
        Ok(ratings) => {
            note(&mut round, "parsed", &lines(&ratings));
            note(&mut round, "target", &lines(&instance.target));
            let exact = ratings == instance.target;
            let (kind, result) = if exact { ("exact match", "WIN") } else { ("not exact match", "LOSE") };
            note(&mut round, kind, &format!("game_result = {result}"));
            (Some(exact), fullscale_score(&ratings, &instance.target), serde_json::json!(ratings))
        }
    };
    let mut keys = default_keys(outcome);
    keys.push(("Parsed Response".into(), parsed));
    Ok(Episode { turns: vec![round], episode_scores: default_scores(outcome, main), keys, ..Default::default() })
}
