//! referencegame: Player 1 describes the target among three grids in one
//! line ("Expression: …"); Player 2 picks it ("Answer: first|second|third").
//! One round; Main Score is 100 for the right pick, 0 for a wrong one, NaN
//! when either player broke the format.

use super::{note, round4, Episode, Event, GameError, Player, Responder, Scores};
use super::python_re::PythonRegex;
use serde::Deserialize;

/// The game master reads only the experiment's instances.
pub type Experiment = super::Instances<Instance>;

/// The fields of an instance the game master uses.
#[derive(Clone, Debug, Deserialize)]
pub struct Instance {
    pub game_id: u64,
    pub player_1_prompt_header: String,
    pub player_2_prompt_header: String,
    /// The names that count as the target in Player 2's view, e.g. ["first", "1"].
    pub target_grid_name: Vec<String>,
    pub player_1_response_pattern: String,
    pub player_2_response_pattern: String,
    /// "strict": nothing may follow the answer's line.
    pub p1_mode: String,
    pub p2_mode: String,
}

/// Python's `re.match(pattern, text, re.IGNORECASE)`.
fn matcher(instance: &Instance, which: &'static str, pattern: &str) -> Result<PythonRegex, GameError> {
    PythonRegex::matching(pattern, true).map_err(|e| {
        GameError::Instance(format!(
            "instance {}: response pattern {which} is not a usable regular expression: {e}",
            instance.game_id
        ))
    })
}

/// The response's `response` group when it matches, and (in strict mode) nothing follows its line.
fn parse(pattern: &PythonRegex, strict: bool, response: &str) -> Option<String> {
    let captures = pattern.captures(response)?;
    let remainder = captures.name("remainder").map_or("", |m| m.as_str());
    if strict && !remainder.is_empty() {
        return None;
    }
    Some(captures.name("response").map_or("", |m| m.as_str()).to_string())
}

pub fn play(instance: &Instance, model: &mut dyn Responder) -> Result<Episode, GameError> {
    let giver_pattern = matcher(instance, "player_1_response_pattern", &instance.player_1_response_pattern)?;
    let follower_pattern = matcher(instance, "player_2_response_pattern", &instance.player_2_response_pattern)?;
    let mut round: Vec<Event> = Vec::new();
    let mut giver = Player::new(1);
    let expression = giver.ask(&instance.player_1_prompt_header, model, &mut round)?.trim().to_string();
    if parse(&giver_pattern, instance.p1_mode == "strict", &expression).is_none() {
        note(&mut round, "invalid format", "Invalid generated expression");
        return Ok(score(round, &expression, None));
    }
    note(&mut round, "parse", &expression);

    let mut follower = Player::new(2);
    let context = instance.player_2_prompt_header.replace("TARGET_EXPRESSION", &expression);
    let answer = follower.ask(&context, model, &mut round)?.trim().to_string();
    let pick = parse(&follower_pattern, instance.p2_mode == "strict", &answer).map(|label| label.to_lowercase());
    let correct = match &pick {
        Some(label) if instance.target_grid_name.iter().any(|name| name == label) => {
            note(&mut round, "parse_correct", label);
            Some(true)
        }
        Some(label) => {
            note(&mut round, "parse_wrong", label);
            Some(false)
        }
        None => {
            note(&mut round, "invalid format", "Invalid generated expression");
            None
        }
    };
    Ok(score(round, &expression, Some(correct)))
}

/// The scores, from the expression and Player 2's outcome: `None` when Player 2
/// was never asked, `Some(None)` when its answer broke the format.
fn score(round: Vec<Event>, expression: &str, follower: Option<Option<bool>>) -> Episode {
    let (length, tokens) = match follower {
        None => (f64::NAN, f64::NAN),
        Some(_) => (expression.chars().count() as f64, expression.split(' ').count() as f64),
    };
    let requests = if follower.is_none() { 1.0 } else { 2.0 };
    let parsed = match follower {
        None => 0.0,
        Some(None) => 1.0,
        Some(Some(_)) => 2.0,
    };
    let aborted_at_1 = follower.is_none();
    let aborted_at_2 = follower == Some(None);
    let aborted = aborted_at_1 || aborted_at_2;
    let success = match follower {
        Some(Some(correct)) => f64::from(u8::from(correct)),
        _ => f64::NAN,
    };
    let flag = |b: bool| f64::from(u8::from(b));
    let lengths = || vec![("Generated Expression Length".to_string(), length), ("Generated Expression Number of Tokens".to_string(), tokens)];
    let mut turn: Scores = lengths();
    turn.extend([
        ("Request Count".to_string(), requests),
        ("Parsed Request Count".to_string(), parsed),
        ("Violated Request Count".to_string(), requests - parsed),
        ("Success".to_string(), if aborted { 0.0 } else { success }),
    ]);
    let mut episode: Scores = lengths();
    episode.extend([
        ("Aborted at Player 1".to_string(), flag(aborted_at_1)),
        ("Aborted at Player 2".to_string(), flag(aborted_at_2)),
        ("Request Count".to_string(), requests),
        ("Parsed Request Count".to_string(), parsed),
        ("Violated Request Count".to_string(), requests - parsed),
        ("Aborted".to_string(), flag(aborted)),
        ("Success".to_string(), success),
        ("Lose".to_string(), 1.0 - success),
        ("Main Score".to_string(), 100.0 * success),
        ("Request Success Ratio".to_string(), round4(parsed / requests)),
    ]);
    Episode { turns: vec![round], turn_scores: vec![(0, turn)], episode_scores: episode, ..Default::default() }
}
