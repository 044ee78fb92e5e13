//! matchit_ascii: two players each see a grid and must find out, by
//! describing them and asking each other questions, whether the grids are the
//! same. Every reply starts with the flag its step expects; both players then
//! decide. Main Score is 100 when both decide right, else 0; a reply with the
//! wrong flag, an empty one or an unreadable decision aborts.

use super::{note, Episode, Event, GameError, Player, Responder, Scores};
use serde::Deserialize;

#[derive(Clone, Debug, Deserialize)]
pub struct Experiment {
    pub name: String,
    /// With `$GRID$` for the player's grid.
    pub initial_prompt: String,
    pub q_reprompt: String,
    pub d_reprompt: String,
    pub a_request: String,
    pub desc_intro: String,
    pub flags: Flags,
    pub solution: String,
    pub wrong_solution: String,
    pub game_instances: Vec<Instance>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Flags {
    pub description: String,
    pub question: String,
    pub answer: String,
    pub decision: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Instance {
    pub grid_a: String,
    pub grid_b: String,
    /// The round in which Player B decides (Player A decides in the next).
    pub decision_turn: usize,
}

/// The first word of the first non-empty line.
fn first_word(utterance: &str) -> &str {
    utterance
        .trim()
        .split('\n')
        .find(|line| !line.is_empty())
        .and_then(|line| line.split(' ').next())
        .unwrap_or_default()
}

/// A reply that ends the game early.
struct Abort;

struct Game<'a> {
    experiment: &'a Experiment,
    turns: Vec<Vec<Event>>,
    round: Vec<Event>,
    /// Whether Player A's and Player B's decisions were right.
    decisions: [Option<bool>; 2],
}

impl Game<'_> {
    /// Asks `player` and checks that the reply starts with `flag`; returns the stripped reply.
    fn ask(
        &mut self,
        player: &mut Player,
        context: &str,
        flag: &str,
        model: &mut dyn Responder,
    ) -> Result<Result<String, Abort>, GameError> {
        let reply = player.ask(context, model, &mut self.round)?;
        if reply.trim().is_empty() {
            note(&mut self.round, "invalid content", "abort, empty message");
            return Ok(Err(self.abort()));
        }
        let word = first_word(&reply);
        if word != flag {
            note(
                &mut self.round,
                "invalid format",
                &format!("abort, first word: {word}, but expected {flag}"),
            );
            return Ok(Err(self.abort()));
        }
        note(&mut self.round, "valid format", "continue");
        Ok(Ok(reply.trim().to_string()))
    }

    fn abort(&mut self) -> Abort {
        note(&mut self.round, "Game over", "Aborted");
        Abort
    }

    /// Asks `player` (index 0 for A, 1 for B) to decide, and judges the decision.
    fn decide(
        &mut self,
        player: &mut Player,
        index: usize,
        context: &str,
        model: &mut dyn Responder,
    ) -> Result<Result<(), Abort>, GameError> {
        let decision_flag = self.experiment.flags.decision.clone();
        let utterance = match self.ask(player, context, &decision_flag, model)? {
            Ok(utterance) => utterance,
            Err(abort) => return Ok(Err(abort)),
        };
        let said = utterance.to_lowercase();
        let said = said.trim_matches(|c| c == '.' || c == '\n');
        let expected = |solution: &str| format!("DECISION: {solution}").to_lowercase();
        let name = if index == 0 {
            "Decision Player A"
        } else {
            "Decision Player B"
        };
        let right = if said == expected(&self.experiment.solution) {
            true
        } else if said == expected(&self.experiment.wrong_solution) {
            false
        } else {
            note(
                &mut self.round,
                "invalid content",
                "abort, wrong message content.",
            );
            return Ok(Err(self.abort()));
        };
        note(
            &mut self.round,
            name,
            if right { "success" } else { "loss" },
        );
        self.decisions[index] = Some(right);
        Ok(Ok(()))
    }

    fn next_round(&mut self) {
        self.turns.push(std::mem::take(&mut self.round));
    }
}

pub fn play(
    experiment: &Experiment,
    instance: &Instance,
    model: &mut dyn Responder,
) -> Result<Episode, GameError> {
    let mut game = Game {
        experiment,
        turns: Vec::new(),
        round: Vec::new(),
        decisions: [None, None],
    };
    let aborted = steps(&mut game, instance, model)?.is_err();
    let Game {
        mut turns,
        round,
        decisions,
        ..
    } = game;
    turns.push(round);
    Ok(score(turns, aborted, decisions))
}

/// The game's steps, description to decisions; an abort ends them early.
fn steps(
    game: &mut Game,
    instance: &Instance,
    model: &mut dyn Responder,
) -> Result<Result<(), Abort>, GameError> {
    macro_rules! step {
        ($result:expr) => {
            match $result? {
                Ok(value) => value,
                Err(abort) => return Ok(Err(abort)),
            }
        };
    }
    let experiment = game.experiment;
    let flags = &experiment.flags;
    let (mut a, mut b) = (Player::new(1), Player::new(2));
    let prompt = |grid: &str| experiment.initial_prompt.replace("$GRID$", grid);
    let description_a =
        step!(game.ask(&mut a, &prompt(&instance.grid_a), &flags.description, model));
    let description_b =
        step!(game.ask(&mut b, &prompt(&instance.grid_b), &flags.description, model));
    let to_b = format!(
        "{}{description_a}\n{}",
        experiment.desc_intro, experiment.q_reprompt
    );
    let mut question_b = step!(game.ask(&mut b, &to_b, &flags.question, model));
    game.next_round();
    // What Player A hears first in each round: Player B's last words and question.
    let mut heard_by_a = format!("{}{description_b}", experiment.desc_intro);
    for round in 1..=instance.decision_turn {
        let to_a = format!("{heard_by_a}\n{question_b}{}", experiment.a_request);
        let answer_a = step!(game.ask(&mut a, &to_a, &flags.answer, model));
        let question_a = step!(game.ask(&mut a, &experiment.q_reprompt, &flags.question, model));
        let to_b = format!("{answer_a}\n{question_a}{}", experiment.a_request);
        let answer_b = step!(game.ask(&mut b, &to_b, &flags.answer, model));
        if round == instance.decision_turn {
            step!(game.decide(&mut b, 1, &experiment.d_reprompt, model));
            game.next_round();
            let to_a = format!("{answer_b}\n{}", experiment.d_reprompt);
            step!(game.decide(&mut a, 0, &to_a, model));
            return Ok(Ok(()));
        }
        question_b = step!(game.ask(&mut b, &experiment.q_reprompt, &flags.question, model));
        heard_by_a = answer_b;
        game.next_round();
    }
    Ok(Ok(()))
}

fn score(turns: Vec<Vec<Event>>, aborted: bool, decisions: [Option<bool>; 2]) -> Episode {
    let (mut violated, mut parsed) = (0.0, 0.0);
    let mut turn_scores = Vec::new();
    for (index, round) in turns.iter().enumerate() {
        let valid = round.iter().filter(|e| e.kind == "valid format").count() as f64;
        let invalid = round
            .iter()
            .filter(|e| e.kind == "invalid format" || e.kind == "invalid content")
            .count() as f64;
        violated += invalid;
        parsed += valid;
        turn_scores.push((
            index,
            vec![
                ("Violated Request Count".into(), invalid),
                ("Parsed Request Count".into(), valid),
                ("Request Count".into(), valid + invalid),
            ],
        ));
    }
    let right = decisions.iter().filter(|d| **d == Some(true)).count();
    let (success, lose, main, player) = if aborted {
        (0.0, 0.0, f64::NAN, f64::NAN)
    } else if right == 2 {
        (1.0, 0.0, 100.0, 100.0)
    } else {
        (0.0, 1.0, 0.0, 50.0 * right as f64)
    };
    let episode_scores: Scores = vec![
        ("Violated Request Count".into(), violated),
        ("Parsed Request Count".into(), parsed),
        ("Request Count".into(), violated + parsed),
        ("Aborted".into(), f64::from(u8::from(aborted))),
        ("Success".into(), success),
        ("Lose".into(), lose),
        ("Main Score".into(), main),
        ("Player Score".into(), player),
    ];
    Episode {
        turns,
        turn_scores,
        episode_scores,
        ..Default::default()
    }
}
