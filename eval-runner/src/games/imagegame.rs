//! imagegame: Player 1 sees a target grid and gives one drawing command per
//! round ("Command: …", or "Command: DONE" to finish); Player 2 answers each
//! command with the whole grid as drawn so far. A reply that breaks its
//! pattern aborts. Main Score is the F1 (×100) of the last grid's letters
//! against the target's.

use super::python_re::PythonRegex;
use super::{
    harmonic_mean, note, ratio, round4, Episode, Event, GameError, Player, Responder, Scores,
};
use serde::Deserialize;

const EMPTY: &str = "▢";

/// The game master reads only the experiment's instances.
pub type Experiment = super::Instances<Instance>;

#[derive(Clone, Debug, Deserialize)]
pub struct Instance {
    pub game_id: u64,
    pub player_1_prompt_header: String,
    pub player_2_prompt_header: String,
    pub player_1_question: String,
    pub grid_dimension: usize,
    pub player_1_response_pattern: String,
    pub player_1_terminate_pattern: String,
    pub player_2_response_pattern: String,
    pub target_grid: String,
}

/// One of the instance's patterns, matched as Python's `re.match`.
fn matcher(
    instance: &Instance,
    which: &str,
    pattern: &str,
    ignore_case: bool,
) -> Result<PythonRegex, GameError> {
    PythonRegex::matching(pattern, ignore_case).map_err(|e| {
        GameError::Instance(format!(
            "instance {}: {which} is not a usable regular expression: {e}",
            instance.game_id
        ))
    })
}

type Grid = Vec<Vec<String>>;

fn grid(text: &str) -> Grid {
    text.trim()
        .split('\n')
        .map(|row| row.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// Precision, recall and F1 (each ×100, whole numbers) of the drawn letters;
/// `None` where the scorer fails (no letters to compare), which keeps the previous values.
fn evaluate(target: &Grid, drawn: &Grid) -> Option<(f64, f64, f64)> {
    if target.len() != drawn.len() || target.first().map(Vec::len) != drawn.first().map(Vec::len) {
        return Some((0.0, 0.0, 0.0));
    }
    let cell = |g: &Grid, r: usize, c: usize| {
        g.get(r)
            .and_then(|row| row.get(c))
            .map(|s| s.to_lowercase())
    };
    let share = |of: &Grid, other: &Grid| -> Option<f64> {
        let mut letters = 0usize;
        let mut matching = 0usize;
        for (r, row) in of.iter().enumerate() {
            for (c, value) in row.iter().enumerate() {
                if value != EMPTY {
                    letters += 1;
                    matching += usize::from(cell(other, r, c) == Some(value.to_lowercase()));
                }
            }
        }
        (letters > 0).then(|| round4(matching as f64 / letters as f64))
    };
    let recall = share(target, drawn)?;
    let precision = share(drawn, target)?;
    let f1 = round4(harmonic_mean(precision, recall));
    Some((
        (precision * 100.0).round(),
        (recall * 100.0).round(),
        (f1 * 100.0).round(),
    ))
}

/// Cells that differ between two grids.
fn changed_cells(before: &Grid, after: &Grid) -> usize {
    before
        .iter()
        .zip(after)
        .map(|(a, b)| a.iter().zip(b).filter(|(x, y)| x != y).count())
        .sum()
}

/// How the episode ended.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Done,
    TurnLimit,
    Aborted,
}

pub fn play(instance: &Instance, model: &mut dyn Responder) -> Result<Episode, GameError> {
    let terminate = matcher(
        instance,
        "player_1_terminate_pattern",
        &instance.player_1_terminate_pattern,
        true,
    )?;
    let command = matcher(
        instance,
        "player_1_response_pattern",
        &instance.player_1_response_pattern,
        true,
    )?;
    let drawing = matcher(
        instance,
        "player_2_response_pattern",
        &instance.player_2_response_pattern,
        false,
    )?;
    let mut giver = Player::new(1);
    let mut follower = Player::new(2);
    let max_rounds = instance.grid_dimension * instance.grid_dimension * 2;
    let mut turns: Vec<Vec<Event>> = Vec::new();
    let mut context = format!(
        "{}\n{}\n{}",
        instance.player_1_prompt_header, instance.target_grid, instance.player_1_question
    );
    let mut grids: Vec<(String, String)> = Vec::new();
    let end = loop {
        let mut round = Vec::new();
        let reply = giver.ask(&context, model, &mut round)?;
        if terminate.is_match(&reply) {
            note(&mut round, "found terminate pattern", &reply);
            turns.push(round);
            break End::Done;
        }
        if !command.is_match(&reply) {
            note(&mut round, "invalid format", "Invalid instruction format");
            turns.push(round);
            break End::Aborted;
        }
        let instruction = reply.split('\n').next().unwrap_or_default().to_string();
        note(&mut round, "found instruction", &instruction);
        // The follower's header is a lazy initial prompt.
        let to_follower = if turns.is_empty() {
            format!("{}\n\n{instruction}", instance.player_2_prompt_header)
        } else {
            instruction.clone()
        };
        let drawn = follower.ask(&to_follower, model, &mut round)?;
        if !drawing.is_match(&drawn) {
            note(&mut round, "invalid format", "Invalid grid format");
            turns.push(round);
            break End::Aborted;
        }
        note(&mut round, "found grid", &drawn);
        grids.push((instruction, drawn));
        context = instance.player_1_question.clone();
        if turns.len() + 1 >= max_rounds {
            note(&mut round, "game end", "turn limit reached");
            turns.push(round);
            break End::TurnLimit;
        }
        turns.push(round);
    };
    Ok(score(instance, turns, &grids, end))
}

fn score(
    instance: &Instance,
    turns: Vec<Vec<Event>>,
    grids: &[(String, String)],
    end: End,
) -> Episode {
    let target = grid(&instance.target_grid);
    let (mut requests, mut parsed, mut violated) = (0.0, 0.0, 0.0);
    let mut turn_scores = Vec::new();
    let mut previous =
        vec![vec![EMPTY.to_string(); instance.grid_dimension]; instance.grid_dimension];
    let mut quality = (0.0, 0.0, 0.0);
    let (mut lengths, mut tokens, mut changes) = (Vec::new(), Vec::new(), Vec::new());
    for (index, round) in turns.iter().enumerate() {
        // Every event is a request, up to the terminate event (not counted) or the violation.
        let (mut round_requests, mut round_parsed, mut round_violated) = (0.0, 0.0, 0.0);
        let mut complete = true;
        for event in round {
            if event.kind == "found terminate pattern" {
                complete = false;
                break;
            }
            round_requests += 1.0;
            if event.kind == "invalid format" {
                round_violated += 1.0;
                complete = false;
                break;
            }
            round_parsed += 1.0;
        }
        requests += round_requests;
        parsed += round_parsed;
        violated += round_violated;
        let Some((instruction, drawn)) = grids.get(index).filter(|_| complete) else {
            continue;
        };
        let drawn = grid(drawn);
        quality = evaluate(&target, &drawn).unwrap_or(quality);
        let expression = instruction.replace("Instruction:", "").trim().to_string();
        let length = expression.chars().count() as f64;
        let token_count = expression.split(' ').count() as f64;
        let changed = changed_cells(&previous, &drawn) as f64;
        previous = drawn;
        lengths.push(length);
        tokens.push(token_count);
        changes.push(changed);
        let (precision, recall, f1) = quality;
        turn_scores.push((
            index,
            vec![
                ("Generated Expression Length".into(), length),
                ("Generated Expression Number of Tokens".into(), token_count),
                ("Precision".into(), precision),
                ("Recall".into(), recall),
                ("F1".into(), f1),
                ("Changed Cell Count".into(), changed),
                ("Request Count".into(), round_requests),
                ("Parsed Request Count".into(), round_parsed),
                ("Violated Request Count".into(), round_violated),
            ],
        ));
    }
    let mean = |values: &[f64]| {
        if values.is_empty() {
            f64::NAN
        } else {
            round4(values.iter().sum::<f64>() / values.len() as f64)
        }
    };
    let aborted = end == End::Aborted;
    let (precision, recall, f1) = if aborted {
        (f64::NAN, f64::NAN, f64::NAN)
    } else {
        quality
    };
    let success = !aborted && f1 >= 99.0;
    let flag = |b: bool| f64::from(u8::from(b));
    let averages = if aborted {
        [f64::NAN; 3]
    } else {
        [mean(&changes), mean(&lengths), mean(&tokens)]
    };
    let episode_scores: Scores = vec![
        ("Precision".into(), precision),
        ("Recall".into(), recall),
        ("F1".into(), f1),
        ("Main Score".into(), f1),
        ("Average Changed Cell Count".into(), averages[0]),
        ("Average Generated Instruction Length".into(), averages[1]),
        (
            "Average Generated Expression Number of Tokens".into(),
            averages[2],
        ),
        ("Success".into(), flag(success)),
        ("Lose".into(), flag(!aborted && !success)),
        ("Aborted".into(), flag(aborted)),
        ("Request Count".into(), requests),
        ("Violated Request Count".into(), violated),
        ("Parsed Request Count".into(), parsed),
        (
            "Request Success Ratio".into(),
            round4(ratio(parsed, requests)),
        ),
    ];
    Episode {
        turns,
        turn_scores,
        episode_scores,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_are_compared_cell_by_cell_ignoring_case() {
        let target = grid("▢ B\nB B");
        assert_eq!(
            evaluate(&target, &grid("▢ b\nB B")),
            Some((100.0, 100.0, 100.0))
        );
        // Two of three letters drawn, one letter too many: precision 2/3, recall 2/3.
        assert_eq!(
            evaluate(&target, &grid("X B\nB ▢")),
            Some((67.0, 67.0, 67.0))
        );
        assert_eq!(
            evaluate(&target, &grid("B B B\nB B B")),
            Some((0.0, 0.0, 0.0)),
            "another shape"
        );
        assert_eq!(
            evaluate(&target, &grid("▢ ▢\n▢ ▢")),
            None,
            "nothing drawn: the scorer keeps its previous values"
        );
        assert_eq!(changed_cells(&grid("▢ ▢\n▢ ▢"), &grid("▢ B\nB ▢")), 2);
    }
}
