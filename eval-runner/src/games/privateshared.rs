//! privateshared: the model is a customer (Player 1) with private details
//! (slots); a scripted questioner (Player 2) asks for them one by one. Before
//! the first request and after each answer, asides probe what the model
//! believes the questioner knows by now ("ME: … yes or no", answered
//! "ASIDE: …"). Main Score is 100 × the harmonic mean of the slot-filling
//! accuracy and the (truncated) agreement between the probe answers and the
//! truth; a probe unanswered after five tries aborts.

use super::{harmonic_mean, note, ratio, scripted_exchange, Episode, Event, GameError, OrderedMap, Player, Responder, Scores};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Tries per probe; each retry adds the next reminder.
const PROBE_TRIES: usize = 5;
const DUMMY_PROMPT: &str = "What is the next request?";
const OK: &str = "Ok.";

/// The game master reads only the experiment's instances.
pub type Experiment = super::Instances<Instance>;

#[derive(Clone, Debug, Deserialize)]
pub struct Instance {
    pub tag: String,
    /// Slot → value, in the instance's order.
    pub slots: OrderedMap<String>,
    pub initial_prompt: String,
    pub request_order: Vec<String>,
    /// Slot → index of its request wording.
    pub requests: HashMap<String, usize>,
    /// Probing round → (slot → index of its probing question), in order.
    pub probes: BTreeMap<String, OrderedMap<usize>>,
}

/// The game's texts (`resources/texts/`): request and probe wordings per experiment, retry reminders.
#[derive(Clone, Debug)]
pub struct Texts {
    /// Experiment → slot → wordings.
    requests: HashMap<String, HashMap<String, Vec<String>>>,
    probing_questions: HashMap<String, HashMap<String, Vec<String>>>,
    suffixes: Vec<String>,
}

impl Texts {
    /// Reads the texts of `experiments` from the game folder.
    pub fn read(game_dir: &Path, experiments: &[&str]) -> Result<Self, String> {
        fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
        }
        let texts = game_dir.join("resources/texts");
        #[derive(Deserialize)]
        struct Reprompts {
            suffixes: Vec<String>,
        }
        let suffixes = read_json::<Reprompts>(&texts.join("reprompts.json"))?.suffixes;
        if suffixes.len() < PROBE_TRIES {
            return Err(format!(
                "{}: needs {PROBE_TRIES} suffixes",
                texts.join("reprompts.json").display()
            ));
        }
        let mut requests = HashMap::new();
        let mut probing_questions = HashMap::new();
        for name in experiments {
            requests.insert(
                name.to_string(),
                read_json(&texts.join(name).join("requests.json"))?,
            );
            probing_questions.insert(
                name.to_string(),
                read_json(&texts.join(name).join("probing_questions.json"))?,
            );
        }
        Ok(Self {
            requests,
            probing_questions,
            suffixes,
        })
    }
}

/// A probe's answer: yes 1, no 0; anything else is unreadable.
fn read_aside(reply: &str) -> Option<u8> {
    let trimmed = reply.trim();
    if !trimmed.starts_with("ASIDE:") || trimmed.contains('\n') {
        return None;
    }
    let answer = trimmed.replace("ASIDE:", "").trim().to_lowercase();
    if answer.starts_with("yes") {
        Some(1)
    } else if answer.starts_with("no") {
        Some(0)
    } else {
        None
    }
}

/// The answer to a request, if it is one line starting with "ANSWER:".
fn read_answer(reply: &str) -> Option<String> {
    let trimmed = reply.trim_matches('\n');
    (trimmed.starts_with("ANSWER:") && !trimmed.contains('\n'))
        .then(|| trimmed.replace("ANSWER:", "").trim().to_string())
}

/// Counts of one round's requests.
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    requests: f64,
    parsed: f64,
    violated: f64,
}

/// A played probing round: its round and each probe's (answer, truth).
struct ProbingRound {
    round: usize,
    probes: Vec<(u8, u8)>,
}

struct Game<'a> {
    texts: &'a Texts,
    experiment: &'a str,
    instance: &'a Instance,
    customer: Player,
    /// Slot → the round after which the questioner knows it.
    known_after: HashMap<String, usize>,
    counts: Vec<Counts>,
    probing: Vec<ProbingRound>,
}

impl Game<'_> {
    /// Probes round `round`; `false` when a probe stayed unanswered (the game aborts).
    fn probe(
        &mut self,
        round: usize,
        events: &mut Vec<Event>,
        model: &mut dyn Responder,
    ) -> Result<bool, GameError> {
        let Some(probes) = self.instance.probes.get(&round.to_string()) else {
            return Ok(true);
        };
        let mut results = Vec::new();
        for (slot, index) in &probes.0 {
            let question = self
                .texts
                .probing_questions
                .get(self.experiment)
                .and_then(|q| q.get(slot))
                .and_then(|q| q.get(*index))
                .ok_or_else(|| {
                    GameError::Instance(format!("no probing question {index} for slot {slot}"))
                })?;
            let probe =
                format!("ME: {question} Answer this question with yes or no and then stop.");
            let mut answer = None;
            for tries in 1..=PROBE_TRIES {
                let asked = probe.replacen(
                    "ME: ",
                    &format!("ME: {} ", self.texts.suffixes[tries - 1]),
                    1,
                );
                let reply = self.customer.ask_aside(&asked, model, events)?;
                self.counts[round].requests += 1.0;
                answer = read_aside(&reply);
                let shown = match answer {
                    Some(1) => "yes",
                    Some(_) => "no",
                    None => "NA",
                };
                note(events, "parse", shown);
                if answer.is_some() {
                    self.counts[round].parsed += 1.0;
                    note(
                        events,
                        "metadata",
                        &format!("Answer for {slot} valid after {tries} tries."),
                    );
                    break;
                }
                self.counts[round].violated += 1.0;
            }
            let Some(answer) = answer else {
                note(
                    events,
                    "metadata",
                    &format!("Answer for {slot} invalid after max attempts."),
                );
                note(
                    events,
                    "invalid format",
                    "Abort: invalid format in probing.",
                );
                return Ok(false);
            };
            let truth = u8::from(
                self.known_after
                    .get(slot)
                    .is_some_and(|after| round > *after),
            );
            note(
                events,
                "check",
                if answer == truth {
                    "Answer is correct."
                } else {
                    "Answer is incorrect."
                },
            );
            results.push((answer, truth));
        }
        self.probing.push(ProbingRound {
            round,
            probes: results,
        });
        Ok(true)
    }
}

pub fn play(
    texts: &Texts,
    experiment: &Experiment,
    instance: &Instance,
    model: &mut dyn Responder,
) -> Result<Episode, GameError> {
    let slots = instance.request_order.len();
    let mut game = Game {
        texts,
        experiment: &experiment.name,
        instance,
        customer: Player::new(1),
        known_after: instance
            .request_order
            .iter()
            .enumerate()
            .map(|(turn, slot)| (slot.clone(), turn))
            .collect(),
        counts: vec![Counts::default(); slots + 1],
        probing: Vec::new(),
    };
    let mut turns = Vec::new();
    let mut round = Vec::new();
    game.customer
        .pretend(&instance.initial_prompt, OK, &mut round);
    let mut aborted = !game.probe(0, &mut round, model)?;
    let mut filled: Vec<(usize, bool)> = Vec::new();
    for (number, slot) in instance
        .request_order
        .iter()
        .enumerate()
        .map(|(i, slot)| (i + 1, slot))
    {
        if aborted {
            break;
        }
        turns.push(std::mem::take(&mut round));
        let wording = texts
            .requests
            .get(&experiment.name)
            .and_then(|r| r.get(slot))
            .zip(instance.requests.get(slot))
            .and_then(|(wordings, index)| wordings.get(*index))
            .ok_or_else(|| GameError::Instance(format!("no request wording for slot {slot}")))?;
        // The questioner is scripted.
        scripted_exchange(&mut round, 2, DUMMY_PROMPT, wording);
        let reply =
            game.customer
                .ask(&format!("{}: {wording}", instance.tag), model, &mut round)?;
        // Every answer is a request; a broken one is only counted, the game goes on.
        game.counts[number].requests += 1.0;
        let Some(answer) = read_answer(&reply) else {
            game.counts[number].violated += 1.0;
            note(
                &mut round,
                "metadata",
                "Invalid answer: it should be one line starting with ANSWER:",
            );
            continue;
        };
        game.counts[number].parsed += 1.0;
        let answer = answer.to_lowercase();
        let value = instance
            .slots
            .0
            .iter()
            .find(|(name, _)| name == slot)
            .map(|(_, value)| value.to_lowercase());
        let is_filled = value.is_some_and(|value| answer.contains(&value));
        note(
            &mut round,
            "metadata",
            &format!("Slot filled: {}", if is_filled { "True" } else { "False" }),
        );
        filled.push((number, is_filled));
        // A value given before it was asked for is known from this round on.
        for (name, value) in &instance.slots.0 {
            let known = game.known_after.get(name).copied().unwrap_or(usize::MAX);
            if answer.contains(&value.to_lowercase()) && known > number - 1 {
                note(&mut round, "metadata", &format!("Value for {name} anticipated; ground truth turn updated from {known} to {}.", number - 1));
                game.known_after.insert(name.clone(), number - 1);
            }
        }
        aborted = !game.probe(number, &mut round, model)?;
    }
    turns.push(round);
    Ok(score(&game, &filled, aborted, turns))
}

/// Cohen's kappa of two labelings; NaN when chance agreement is certain (one shared label).
pub fn cohen_kappa(gold: &[u8], predicted: &[u8]) -> f64 {
    let n = gold.len() as f64;
    if gold.is_empty() {
        return f64::NAN;
    }
    let observed = gold.iter().zip(predicted).filter(|(g, p)| g == p).count() as f64 / n;
    let share =
        |labels: &[u8], label: u8| labels.iter().filter(|l| **l == label).count() as f64 / n;
    let chance: f64 = [0u8, 1, 2]
        .iter()
        .map(|&label| share(gold, label) * share(predicted, label))
        .sum();
    if chance >= 1.0 {
        return f64::NAN;
    }
    (observed - chance) / (1.0 - chance)
}

fn score(game: &Game, filled: &[(usize, bool)], aborted: bool, turns: Vec<Vec<Event>>) -> Episode {
    let accuracy_of = |probes: &[(u8, u8)]| {
        if probes.is_empty() {
            f64::NAN
        } else {
            probes.iter().filter(|(a, t)| a == t).count() as f64 / probes.len() as f64
        }
    };
    let middle = game.instance.request_order.len().div_ceil(2) - 1;
    let mut turn_scores = Vec::new();
    for probing in &game.probing {
        let counts = game.counts[probing.round];
        let mut scores: Scores = vec![
            ("Request Count".into(), counts.requests),
            ("Parsed Request Count".into(), counts.parsed),
            ("Violated Request Count".into(), counts.violated),
            ("Accuracy".into(), accuracy_of(&probing.probes)),
        ];
        if let Some((_, is_filled)) = filled.iter().find(|(round, _)| *round == probing.round) {
            scores.push(("Slot Filled?".into(), f64::from(u8::from(*is_filled))));
        }
        turn_scores.push((probing.round, scores));
    }
    let all: Vec<(u8, u8)> = game
        .probing
        .iter()
        .flat_map(|p| p.probes.iter().copied())
        .collect();
    let (predicted, gold): (Vec<u8>, Vec<u8>) = all.iter().copied().unzip();
    let nan_if_aborted = |value: f64| if aborted { f64::NAN } else { value };
    let middle_accuracy = game
        .probing
        .iter()
        .find(|p| p.round == middle)
        .map_or(f64::NAN, |p| accuracy_of(&p.probes));
    let accuracy = nan_if_aborted(accuracy_of(&all));
    let kappa = nan_if_aborted(cohen_kappa(&gold, &predicted));
    // Python's max(0, kappa): 0 for a NaN kappa too.
    let truncated = if kappa > 0.0 { kappa } else { 0.0 };
    let slot_accuracy = if filled.is_empty() {
        f64::NAN
    } else {
        filled.iter().filter(|(_, f)| *f).count() as f64 / filled.len() as f64
    };
    // NaN without a filled slot to count.
    let main = 100.0 * harmonic_mean(slot_accuracy, truncated);
    let success = !aborted && accuracy == 1.0 && slot_accuracy == 1.0;
    let total = game.counts.iter().fold(Counts::default(), |sum, c| Counts {
        requests: sum.requests + c.requests,
        parsed: sum.parsed + c.parsed,
        violated: sum.violated + c.violated,
    });
    let flag = |b: bool| f64::from(u8::from(b));
    let episode_scores: Scores = vec![
        ("Middle-Accuracy".into(), nan_if_aborted(middle_accuracy)),
        ("Accuracy".into(), accuracy),
        ("Kappa".into(), kappa),
        ("Truncated Kappa".into(), truncated),
        ("Slot-Filling-Accuracy".into(), slot_accuracy),
        ("Main Score".into(), main),
        ("Aborted".into(), flag(aborted)),
        ("Lose".into(), flag(!aborted && !success)),
        ("Success".into(), flag(success)),
        ("Request Count".into(), total.requests),
        ("Parsed Request Count".into(), total.parsed),
        ("Violated Request Count".into(), total.violated),
        (
            "Request Success Ratio".into(),
            ratio(total.parsed, total.requests),
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
    fn kappa_corrects_agreement_for_chance() {
        // Agreement 0.75, chance 0.5.
        assert_eq!(cohen_kappa(&[1, 0, 1, 1], &[1, 0, 0, 1]), 0.5);
        assert_eq!(cohen_kappa(&[1, 0], &[1, 0]), 1.0);
        assert!(cohen_kappa(&[1, 1], &[1, 1]).is_nan(), "one shared label");
        assert!(cohen_kappa(&[0, 1], &[1, 0]) < 0.0);
    }

    #[test]
    fn asides_and_answers_are_read_as_the_game_reads_them() {
        assert_eq!(read_aside("ASIDE: Yes, I did."), Some(1));
        assert_eq!(read_aside("ASIDE: no"), Some(0));
        assert_eq!(read_aside("Yes"), None);
        assert_eq!(read_aside("ASIDE: maybe"), None);
        assert_eq!(read_aside("ASIDE: yes\nand more"), None);
        assert_eq!(
            read_answer("\nANSWER: To Lisbon.\n").as_deref(),
            Some("To Lisbon.")
        );
        assert_eq!(read_answer("ANSWER: Lisbon\nANSWER: by bus"), None);
    }
}
