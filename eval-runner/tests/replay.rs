//! Replay conformance: the recorded replies of clemcore runs, fed to our game
//! masters, must give clemcore's episode and turn scores and the same events.
//! Recordings: ../shared/reference/peer-runs (see its READMEs).

use eval_runner::games::{referencegame, Episode, GameError, Message, Party, Responder};
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};

fn peer_runs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/peer-runs")
}

/// Reads clemcore's JSON, whose NaN Python writes bare (read as null).
fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&eval_runner::scoring::files::bare_nan_to_null(&text)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Replies in the order they were given, whoever asked.
struct Recorded(VecDeque<(usize, String)>);

impl Responder for Recorded {
    fn respond(&mut self, player: usize, _history: &[Message]) -> Result<String, GameError> {
        let (recorded_player, reply) = self.0.pop_front().expect("the game asked more often than the recording");
        assert_eq!(recorded_player, player, "asked another player than the recording did");
        Ok(reply)
    }
}

/// Plays the episode recorded in `dir` with its instance and its recorded
/// replies, and checks that every reply was asked for.
fn replay<I: serde::de::DeserializeOwned>(dir: &Path, play: impl FnOnce(&I, &mut Recorded) -> Result<Episode, GameError>) -> Episode {
    let instance: I = serde_json::from_value(read_json(&dir.join("instance.json"))).unwrap();
    let mut model = recorded_replies(&read_json(&dir.join("interactions.json")));
    let episode = play(&instance, &mut model).unwrap();
    assert!(model.0.is_empty(), "{}: replies left over", dir.display());
    episode
}

/// The experiment folder's name of a recorded episode.
fn experiment_of(dir: &Path) -> &str {
    dir.parent().unwrap().file_name().unwrap().to_str().unwrap()
}

fn party(name: &str) -> Party {
    match name.strip_prefix("Player ") {
        Some(n) => Party::Player(n.parse().unwrap()),
        None => Party::GameMaster,
    }
}

fn recorded_replies(interactions: &Value) -> Recorded {
    let mut replies = VecDeque::new();
    for round in interactions["turns"].as_array().unwrap() {
        for event in round.as_array().unwrap() {
            if event["action"]["type"] == "get message" {
                let Party::Player(n) = party(event["from"].as_str().unwrap()) else { panic!("GM replies") };
                replies.push_back((n, event["action"]["content"].as_str().unwrap().to_string()));
            }
        }
    }
    Recorded(replies)
}

fn scores(value: &Value) -> BTreeMap<String, String> {
    // Compared as printed, so NaN equals NaN and 1 equals 1.0.
    let number = |v: &Value| match v.as_f64() {
        Some(x) => format!("{x:.6}"),
        None => "NaN".to_string(),
    };
    value.as_object().unwrap().iter().map(|(k, v)| (k.clone(), number(v))).collect()
}

fn ours(scores: &[(String, f64)]) -> BTreeMap<String, String> {
    scores
        .iter()
        .map(|(k, v)| (k.clone(), if v.is_nan() { "NaN".to_string() } else { format!("{v:.6}") }))
        .collect()
}

fn check_episode(dir: &Path, episode: &Episode) {
    let interactions = read_json(&dir.join("interactions.json"));
    let expected = read_json(&dir.join("scores.json"));
    assert_eq!(ours(&episode.episode_scores), scores(&expected["episode scores"]), "{}", dir.display());
    // The keys the game master logged for its scorer, in their order.
    let framework = ["meta", "player_models", "players", "turns"];
    let logged: Vec<(String, Value)> =
        interactions.as_object().unwrap().iter().filter(|(k, _)| !framework.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
    assert_eq!(episode.keys, logged, "{}", dir.display());
    let expected_turns = expected["turn scores"].as_object().unwrap();
    assert_eq!(episode.turn_scores.len(), expected_turns.len(), "{}", dir.display());
    for (turn, scores_of_turn) in &episode.turn_scores {
        assert_eq!(ours(scores_of_turn), scores(&expected_turns[&turn.to_string()]), "{} turn {turn}", dir.display());
    }
    let recorded: Vec<Vec<[String; 4]>> = interactions["turns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|round| {
            round
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    let text = |v: &Value| v.as_str().unwrap().to_string();
                    [text(&e["from"]), text(&e["to"]), text(&e["action"]["type"]), content_text(&e["action"]["content"])]
                })
                .collect()
        })
        .collect();
    let played: Vec<Vec<[String; 4]>> = episode
        .turns
        .iter()
        .map(|round| round.iter().map(|e| [e.from.name(), e.to.name(), e.kind.clone(), content_text(&e.content)]).collect())
        .collect();
    assert_eq!(played, recorded, "{}", dir.display());
}

/// Event content as compared: text as it is, anything else as JSON.
fn content_text(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn instance_dirs(game: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for experiment in std::fs::read_dir(game).unwrap() {
        let experiment = experiment.unwrap().path();
        if !experiment.is_dir() {
            continue;
        }
        for instance in std::fs::read_dir(&experiment).unwrap() {
            let instance = instance.unwrap().path();
            if instance.join("scores.json").is_file() {
                dirs.push(instance);
            }
        }
    }
    dirs.sort();
    dirs
}

#[test]
fn referencegame_replays_every_recorded_episode() {
    let dirs = instance_dirs(&peer_runs().join("mock-programmatic/results/mock/referencegame"));
    assert_eq!(dirs.len(), 10, "the recording has two episodes per experiment");
    for dir in dirs {
        let episode = replay(&dir, |instance, model| referencegame::play(instance, model));
        check_episode(&dir, &episode);
    }
}

/// Replies written for the paths the recording does not take (from the game's NOTES.md).
struct Scripted(VecDeque<String>);

fn scripted<S: AsRef<str>>(replies: &[S]) -> Scripted {
    Scripted(replies.iter().map(|reply| reply.as_ref().to_string()).collect())
}

impl Responder for Scripted {
    fn respond(&mut self, _player: usize, _history: &[Message]) -> Result<String, GameError> {
        Ok(self.0.pop_front().expect("the game asked more often than the script answers"))
    }
}

fn recorded_instance() -> referencegame::Instance {
    let dir = peer_runs().join("mock-programmatic/results/mock/referencegame/letter_grids/instance_00000");
    serde_json::from_value(read_json(&dir.join("instance.json"))).unwrap()
}

fn episode_score(episode: &Episode, name: &str) -> f64 {
    episode.episode_scores.iter().find(|(k, _)| k == name).map(|(_, v)| *v).unwrap()
}

#[test]
fn referencegame_scores_losses_and_each_abort_path() {
    let instance = recorded_instance();
    // A wrong pick is a loss, not an abort; "firstly" still reads as "first".
    let wrong = referencegame::play(&instance, &mut scripted(&["Expression: the plain one", "Answer: second"])).unwrap();
    assert_eq!((episode_score(&wrong, "Main Score"), episode_score(&wrong, "Lose")), (0.0, 1.0));
    let prefixed = referencegame::play(&instance, &mut scripted(&["Expression: x", "Answer: firstly"])).unwrap();
    assert_eq!(episode_score(&prefixed, "Main Score"), 100.0);

    // Strict mode: a second line after the expression aborts at Player 1; Player 2 is never asked.
    let two_lines = referencegame::play(&instance, &mut scripted(&["Expression: one\nand more"])).unwrap();
    assert_eq!(episode_score(&two_lines, "Aborted at Player 1"), 1.0);
    assert_eq!(episode_score(&two_lines, "Request Count"), 1.0);
    assert!(episode_score(&two_lines, "Main Score").is_nan());
    assert!(episode_score(&two_lines, "Generated Expression Length").is_nan());
    assert_eq!(two_lines.turns[0].len(), 3);

    // An answer without its tag aborts at Player 2.
    let untagged = referencegame::play(&instance, &mut scripted(&["Expression: x", "first"])).unwrap();
    assert_eq!(episode_score(&untagged, "Aborted at Player 2"), 1.0);
    assert_eq!(episode_score(&untagged, "Request Success Ratio"), 0.5);
    assert!(episode_score(&untagged, "Success").is_nan());
    assert_eq!(untagged.turns[0].last().unwrap().kind, "invalid format");
}

#[test]
fn replayed_episodes_written_as_clemcore_writes_them_pass_the_leaderboards_check() {
    use eval_runner::games::results::{write_episode, write_tables, write_val_json, Played};
    let game = peer_runs().join("mock-programmatic/results/mock/referencegame");
    let mut played = Vec::new();
    for dir in instance_dirs(&game) {
        let folder = dir.file_name().unwrap().to_str().unwrap();
        played.push(Played {
            game: "referencegame".into(),
            experiment: experiment_of(&dir).into(),
            index: folder.trim_start_matches("instance_").parse().unwrap(),
            episode: replay(&dir, |instance, model| referencegame::play(instance, model)),
        });
    }
    let results = tempfile::tempdir().unwrap();
    let clem = results.path().join("clem");
    std::fs::create_dir(&clem).unwrap();
    for episode in &played {
        write_episode(&clem, "mock", episode).unwrap();
    }
    let summary = write_tables(&clem, "mock", &played).unwrap();
    write_val_json(results.path(), "mock", summary.clemscore, None, &Default::default()).unwrap();

    // clemcore's own table for this run: referencegame 100.0 % played, quality 40.0.
    assert_eq!((summary.average_played, summary.average_quality, summary.clemscore), (Some(100.0), Some(40.0), Some(40.0)));
    let written = read_json(&clem.join("mock/referencegame/letter_grids/instance_00000/scores.json"));
    let recorded = read_json(&game.join("letter_grids/instance_00000/scores.json"));
    assert_eq!(scores(&written["episode scores"]), scores(&recorded["episode scores"]));
    assert_eq!(scores(&written["turn scores"]["0"]), scores(&recorded["turn scores"]["0"]));

    let verification = eval_runner::scoring::verify::verify_dir(results.path()).unwrap();
    assert!(verification.verified, "{:?}", verification.mismatches);
    let suite = verification.clem.unwrap();
    assert!(suite.checked_episodes, "raw.csv was read back");
    assert_eq!(suite.recomputed.clemscore, Some(40.0));
}

/// wordle's experiments as the clembench checkout has them (the recording used the same commit).
fn wordle_experiments() -> Vec<eval_runner::games::wordle::Experiment> {
    experiments_of("instances.json")
}

fn experiments_of(file: &str) -> Vec<eval_runner::games::wordle::Experiment> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/clembench/wordle/in").join(file);
    serde_json::from_value(read_json(&path)["experiments"].clone()).unwrap()
}

#[test]
fn wordle_replays_every_recorded_episode() {
    use eval_runner::games::wordle;
    let experiments = wordle_experiments();
    // The mock's wins and losses, and SmolLM2's real replies (every one aborts).
    let mut dirs = instance_dirs(&peer_runs().join("mock-programmatic/results/mock/wordle"));
    assert_eq!(dirs.len(), 6);
    let smollm2 = instance_dirs(&peer_runs().join("smollm2-135m-q4_1/results/smollm2-135m-q4_1/wordle"));
    assert!(!smollm2.is_empty());
    dirs.extend(smollm2);
    for dir in dirs {
        let experiment = experiments.iter().find(|e| e.name == experiment_of(&dir)).expect("experiment in the checkout");
        let episode = replay(&dir, |instance, model| wordle::play(wordle::Variant::Plain, experiment, instance, model));
        check_episode(&dir, &episode);
    }
}

#[test]
fn wordle_withcritic_asks_the_critic_before_each_committed_guess() {
    use eval_runner::games::wordle::{play, Variant};
    // No clemcore recording of this game exists here: replies written from its NOTES.md.
    let experiments = experiments_of("instances_withcritic.json");
    let experiment = &experiments[0];
    let instance = &experiment.game_instances[0];
    let target = instance.target_word.as_str();
    let wrong = "explanation: a fruit\nguess: apple";
    let right = format!("explanation: a celebration\nguess: {target}");
    // The critic disagrees, the guesser changes its guess and wins in the first round.
    let changed = play(Variant::WithCritic, experiment, instance, &mut scripted(&[wrong, "explanation: not a ball\nagreement: no", &right])).unwrap();
    let round = &changed.turns[0];
    assert_eq!(round[0].content, format!("{}\n\nclue: {}", experiment.guesser_prompt, instance.target_word_clue));
    assert_eq!(round[2].content, format!("{}\n\nclue: {}\nexplanation: a fruit\nguess: apple", experiment.guesser_critic_prompt, instance.target_word_clue));
    assert!(round[4].text().starts_with(&format!("clue: {}\nguess_agreement: no\nagreement_explanation: not a ball\n\n", instance.target_word_clue)));
    assert_eq!(episode_score(&changed, "Main Score"), 100.0);
    assert_eq!(episode_score(&changed, "Request Count"), 3.0);
    assert_eq!(episode_score(&changed, "Non-Repetition-Guesser-On-Critic-Disagreement"), 1.0);
    assert_eq!(episode_score(&changed, "Repetition-Guesser-On-Critic-Disagreement"), 0.0);
    assert_eq!(episode_score(&changed, "Repetition-Guesser-On-Critic-Agreement"), 0.0, "no round with agreement");
    assert_eq!(changed.turn_scores[0].1.last().unwrap(), &("Change-Of-Opinion".to_string(), 1.0));
    // Logged for the scorer: the proposal, the committed guess and its explanation, the judgement.
    let keys: BTreeMap<String, Value> = changed.keys.iter().cloned().collect();
    assert_eq!(keys["Guesser Guesses"], serde_json::json!(["apple"]));
    assert_eq!(keys["Guesser Guesses Committed"], serde_json::json!([target]));
    assert_eq!(keys["Guesser Explanations"], serde_json::json!(["a celebration"]));
    assert_eq!(keys["Critic Judgements"], serde_json::json!(["no"]));

    // The critic agrees twice; the guesser keeps a wrong guess, then changes to the target in round two: 100 / 2.
    let kept = play(
        Variant::WithCritic,
        experiment,
        instance,
        &mut scripted(&[wrong, "explanation: fine\nagreement: yes", wrong, wrong, "explanation: fine\nagreement: yes", &right]),
    )
    .unwrap();
    assert_eq!(episode_score(&kept, "Main Score"), 50.0);
    assert_eq!(episode_score(&kept, "Repetition-Guesser-On-Critic-Agreement"), 0.5);
    assert_eq!(episode_score(&kept, "Non-Repetition-Guesser-On-Critic-Agreement"), 0.5);
    assert!(kept.turns[1][2].text().ends_with("\n\nProvide your response only in this format.\nexplanation: details\nagreement: yes or no"));

    // A critic that answers neither yes nor no aborts the game with NaN scores.
    let broken = play(Variant::WithCritic, experiment, instance, &mut scripted(&[wrong, "explanation: hmm\nagreement: maybe"])).unwrap();
    assert_eq!(episode_score(&broken, "Aborted"), 1.0);
    assert_eq!(episode_score(&broken, "Violated Request Count"), 1.0);
    assert!(episode_score(&broken, "Main Score").is_nan());
    assert!(episode_score(&broken, "Repetition-Guesser-On-Critic-Agreement").is_nan(), "no committed guess");
    assert_eq!(broken.turns[0][4].content, "The agreement should be one of the following: ['yes', 'no']");
}

#[test]
fn imagegame_scores_the_drawn_grid_and_each_abort_path() {
    use eval_runner::games::imagegame::{play, Experiment};
    // No clemcore recording of this game exists here: replies written from its NOTES.md.
    let experiments: Vec<Experiment> = clembench_experiments("imagegame");
    let instance = &experiments[0].game_instances[0];
    let target = instance.target_grid.as_str();
    let last_row_only = "▢ ▢ ▢ ▢ ▢\n▢ ▢ ▢ ▢ ▢\n▢ ▢ ▢ ▢ ▢\n▢ ▢ ▢ ▢ ▢\nB B B B B";
    assert!(target.ends_with("\nB B B B B"), "the first instance's target fills its last row");
    let script = ["Command: Fill the last row with B", last_row_only, "Command: Draw the diagonal with B", target, "command: done"];
    let episode = play(instance, &mut scripted(&script)).unwrap();
    assert_eq!(episode.turns[0][0].content, format!("{}\n{target}\n{}", instance.player_1_prompt_header, instance.player_1_question));
    assert_eq!(episode.turns[0][3].content, format!("{}\n\nCommand: Fill the last row with B", instance.player_2_prompt_header));
    assert_eq!(episode.turns[1][0].content, instance.player_1_question);
    assert_eq!(episode.turns[1][3].content, "Command: Draw the diagonal with B");
    assert_eq!(episode.turns.len(), 3);
    assert_eq!(episode_score(&episode, "Main Score"), 100.0);
    assert_eq!(episode_score(&episode, "Success"), 1.0);
    // Two full rounds of six events, and the last round's two before the terminate event.
    assert_eq!((episode_score(&episode, "Request Count"), episode_score(&episode, "Parsed Request Count")), (14.0, 14.0));
    assert_eq!(episode.turn_scores.len(), 2);
    let first_round: BTreeMap<String, f64> = episode.turn_scores[0].1.iter().cloned().collect();
    // The last row is 5 of the target's 9 letters: recall 0.5556, precision 1, F1 0.7143.
    assert_eq!((first_round["Precision"], first_round["Recall"], first_round["F1"]), (100.0, 56.0, 71.0));
    assert_eq!(first_round["Changed Cell Count"], 5.0);
    assert_eq!(first_round["Generated Expression Length"], "Command: Fill the last row with B".len() as f64);
    assert_eq!(episode_score(&episode, "Average Changed Cell Count"), 4.5);

    // An instruction without its tag aborts at once; so does a grid that is not one.
    let untagged = play(instance, &mut scripted(&["Fill the last row with B"])).unwrap();
    assert_eq!(untagged.turns[0][2].content, "Invalid instruction format");
    assert_eq!((episode_score(&untagged, "Aborted"), episode_score(&untagged, "Request Count"), episode_score(&untagged, "Violated Request Count")), (1.0, 3.0, 1.0));
    assert!(episode_score(&untagged, "Main Score").is_nan());
    let not_a_grid = play(instance, &mut scripted(&["Command: Fill the last row with B", "Here is the grid: B B B B B"])).unwrap();
    assert_eq!(not_a_grid.turns[0][5].content, "Invalid grid format");
    assert_eq!((episode_score(&not_a_grid, "Request Count"), episode_score(&not_a_grid, "Parsed Request Count")), (6.0, 5.0));
    assert!(episode_score(&not_a_grid, "F1").is_nan());
}

/// The experiments of a game's `in/instances.json` in `clembench`.
fn clembench_experiments<E: serde::de::DeserializeOwned>(game: &str) -> Vec<E> {
    clembench_experiments_in(&format!("{game}/in/instances.json"))
}

/// The experiments of an instances file in `clembench`, read in its own key order.
fn clembench_experiments_in<E: serde::de::DeserializeOwned>(file: &str) -> Vec<E> {
    #[derive(serde::Deserialize)]
    struct File<E> {
        experiments: Vec<E>,
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/clembench").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str::<File<E>>(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())).experiments
}

#[test]
fn matchit_ascii_needs_both_decisions_right_and_aborts_on_a_wrong_flag() {
    use eval_runner::games::matchit_ascii::{play, Experiment};
    // No clemcore recording of this game exists here: replies written from its NOTES.md.
    let experiments: Vec<Experiment> = clembench_experiments("matchit_ascii");
    let experiment = &experiments[0];
    let instance = &experiment.game_instances[0];
    assert_eq!((experiment.solution.as_str(), instance.decision_turn), ("same grid", 3));
    let game = |decision_a: &str| {
        let mut replies = vec!["DESCRIPTION: an L of empty cells".to_string(), "DESCRIPTION: an L".into(), "QUESTION: is the corner empty?".into()];
        for round in 1..=3 {
            replies.extend([format!("ANSWER: yes {round}"), format!("QUESTION: a{round}?"), format!("ANSWER: no {round}")]);
            replies.push(if round == 3 { "DECISION: same grid".into() } else { format!("QUESTION: b{round}?") });
        }
        replies.push(decision_a.to_string());
        play(experiment, instance, &mut scripted(&replies)).unwrap()
    };
    let won = game("DECISION: Same grid.");
    assert_eq!(won.turns.len(), 5);
    assert_eq!(won.turns[1][0].content, format!("This is my DESCRIPTION: an L\nQUESTION: is the corner empty?{}", experiment.a_request));
    assert_eq!(won.turns[1][6].content, format!("ANSWER: yes 1\nQUESTION: a1?{}", experiment.a_request));
    assert_eq!(won.turns[2][0].content, format!("ANSWER: no 1\nQUESTION: b1?{}", experiment.a_request));
    assert_eq!(won.turns[4][0].content, format!("ANSWER: no 3\n{}", experiment.d_reprompt));
    assert_eq!((episode_score(&won, "Main Score"), episode_score(&won, "Player Score"), episode_score(&won, "Success")), (100.0, 100.0, 1.0));
    assert_eq!((episode_score(&won, "Parsed Request Count"), episode_score(&won, "Violated Request Count")), (16.0, 0.0));

    let one_wrong = game("DECISION: different grids");
    assert_eq!((episode_score(&one_wrong, "Main Score"), episode_score(&one_wrong, "Player Score"), episode_score(&one_wrong, "Lose")), (0.0, 50.0, 1.0));

    // A decision with its flag but neither answer counts twice: the flag, then the content.
    let unreadable = game("DECISION: maybe");
    assert_eq!(unreadable.turns[4][3].content, "abort, wrong message content.");
    assert_eq!((episode_score(&unreadable, "Request Count"), episode_score(&unreadable, "Violated Request Count")), (17.0, 1.0));
    assert!(episode_score(&unreadable, "Main Score").is_nan());

    let unflagged = play(experiment, instance, &mut scripted(&["The grid has an L."])).unwrap();
    assert_eq!(unflagged.turns[0][2].content, "abort, first word: The, but expected DESCRIPTION:");
    assert_eq!(unflagged.turns[0][3].kind, "Game over");
    assert_eq!((episode_score(&unflagged, "Aborted"), episode_score(&unflagged, "Request Count")), (1.0, 1.0));
    let empty = play(experiment, instance, &mut scripted(&["DESCRIPTION: x", "  "])).unwrap();
    assert_eq!(empty.turns[0][5].content, "abort, empty message");
}

#[test]
fn guesswhat_scores_a_guess_by_its_speed_and_refuses_questions_about_the_word_itself() {
    use eval_runner::games::guesswhat::{play, Experiment};
    // No clemcore recording of this game exists here: replies written from its NOTES.md.
    let experiments: Vec<Experiment> = clembench_experiments("guesswhat");
    let experiment = &experiments[0];
    let instance = &experiment.game_instances[0];
    assert_eq!((instance.target_word.as_str(), experiment.max_turns), ("Pepsi", 8));
    let quick = play(experiment, instance, &mut scripted(&["QUESTION: Is it a drink?", "ANSWER: yes", "GUESS: Pepsi."])).unwrap();
    assert!(quick.turns[0][0].text().ends_with("['Copper', 'Lead', 'Pepsi', 'Lemonade', 'Carbon', 'Gold', 'Chair', 'Dresser']"));
    assert!(quick.turns[0][0].text().contains("is 7."));
    assert!(quick.turns[0][2].text().contains("word: Pepsi,") && quick.turns[0][2].text().ends_with("\n\nQUESTION: Is it a drink?"));
    assert_eq!(quick.turns[1][0].content, "ANSWER: yes");
    assert_eq!(quick.turns[1][2].content, "pepsi");
    assert_eq!((episode_score(&quick, "Main Score"), episode_score(&quick, "Speed"), episode_score(&quick, "Request Count")), (100.0, 100.0, 2.0));

    // Six questions, then the right guess in round seven: 100 × (8 − 7) / 3.
    let mut slow: Vec<&str> = ["QUESTION: Is it a drink?", "ANSWER: yes"].repeat(6);
    slow.push("GUESS: pepsi");
    let slow = play(experiment, instance, &mut scripted(&slow)).unwrap();
    assert_eq!(episode_score(&slow, "Main Score"), 33.33);

    let wrong = play(experiment, instance, &mut scripted(&["GUESS: Gold"])).unwrap();
    assert_eq!((episode_score(&wrong, "Lose"), episode_score(&wrong, "Main Score")), (1.0, 0.0));
    let out_of_turns = play(experiment, instance, &mut scripted(&["QUESTION: Is it a drink?", "ANSWER: no"].repeat(8))).unwrap();
    assert_eq!(out_of_turns.turns[7].last().unwrap().kind, "max turns reached");
    assert_eq!((episode_score(&out_of_turns, "Aborted"), episode_score(&out_of_turns, "Main Score")), (0.0, 0.0));

    // A question about the letters breaks the rules: the guesser's invalid content.
    let spelling = play(experiment, instance, &mut scripted(&["QUESTION: Does the target word start with the letter p?"])).unwrap();
    assert_eq!(spelling.turns[0][2].kind, "invalid content");
    assert_eq!((episode_score(&spelling, "Aborted"), episode_score(&spelling, "Invalid content guesser response")), (1.0, 1.0));
    assert!(episode_score(&spelling, "Main Score").is_nan());
    let two = play(experiment, instance, &mut scripted(&["QUESTION: Is it a drink? Or a metal?"])).unwrap();
    assert_eq!(two.turns[0][2].content, "Invalid format. Question must stop after the question mark.");
    // An answer other than the allowed ones is the answerer's invalid format.
    let answer = play(experiment, instance, &mut scripted(&["QUESTION: Is it a drink?", "ANSWER: maybe"])).unwrap();
    assert_eq!((episode_score(&answer, "Invalid format answerer response"), episode_score(&answer, "Invalid format guesser response")), (1.0, 0.0));
    let two_words = play(experiment, instance, &mut scripted(&["GUESS: Pepsi Cola"])).unwrap();
    assert_eq!(two_words.turns[0][2].content, "abort game");
    assert_eq!(episode_score(&two_words, "Invalid format guesser response"), 1.0);
}

/// A model written as a function of the player's history.
struct Answering<F>(F);

impl<F: FnMut(&[Message]) -> String> Responder for Answering<F> {
    fn respond(&mut self, _player: usize, history: &[Message]) -> Result<String, GameError> {
        Ok((self.0)(history))
    }
}

#[test]
fn privateshared_scores_slot_filling_and_what_the_asides_say_the_questioner_knows() {
    use eval_runner::games::privateshared::{play, Experiment, Texts};
    // clemcore 3.7.2 cannot play this game (KeyError '-1'), so nothing is recorded: replies written from its NOTES.md.
    let game_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/clembench/privateshared");
    let experiments: Vec<Experiment> = clembench_experiments("privateshared");
    let experiment = &experiments[0];
    let texts = Texts::read(&game_dir, &[experiment.name.as_str()]).unwrap();
    let instance = &experiment.game_instances[0];
    assert_eq!(instance.request_order.len(), 5);
    let everything = format!("ANSWER: {}", instance.slots.0.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>().join(", "));
    let answered = |history: &[Message]| history.iter().filter(|m| m.content.starts_with(&format!("{}: ", instance.tag))).count();

    // Every detail at the first request, and asides that know it: all probes right.
    let mut truthful = Answering(|history: &[Message]| {
        let last = &history.last().unwrap().content;
        if last.starts_with("ME:") {
            if answered(history) == 0 { "ASIDE: No." } else { "ASIDE: Yes." }.to_string()
        } else {
            everything.clone()
        }
    });
    let episode = play(&texts, experiment, instance, &mut truthful).unwrap();
    assert_eq!(episode.turns.len(), 6, "the probing before the first request, then one round per slot");
    assert_eq!(episode.turns[0][0].content, instance.initial_prompt);
    assert_eq!(episode.turns[0][1].content, "Ok.");
    assert!(episode.turns[0][2].text().starts_with("ME:  "), "the first try's reminder is empty");
    assert!(episode.turns[1][2].text().starts_with(&format!("{}: ", instance.tag)));
    assert!(episode.turns[1].iter().any(|e| e.text().starts_with("Value for from anticipated; ground truth turn updated from 3 to 0.")));
    assert_episode_scores(&episode, &[("Accuracy", 1.0), ("Kappa", 1.0), ("Slot-Filling-Accuracy", 1.0), ("Main Score", 100.0), ("Success", 1.0)]);
    // Five answers and thirty probes, each answered at the first try.
    assert_eq!((episode_score(&episode, "Request Count"), episode_score(&episode, "Parsed Request Count")), (35.0, 35.0));

    // Each detail only when asked, and asides that always say no: half the probes right, no agreement beyond chance.
    let mut denying = Answering(|history: &[Message]| {
        let last = &history.last().unwrap().content;
        if last.starts_with("ME:") {
            return "ASIDE: no".to_string();
        }
        let slot = &instance.request_order[answered(history) - 1];
        let value = &instance.slots.0.iter().find(|(name, _)| name == slot).unwrap().1;
        format!("ANSWER: {value}")
    });
    let episode = play(&texts, experiment, instance, &mut denying).unwrap();
    assert_eq!(episode_score(&episode, "Accuracy"), 0.5);
    assert_eq!(episode_score(&episode, "Middle-Accuracy"), 0.6);
    assert_eq!(episode_score(&episode, "Kappa"), 0.0);
    assert_eq!((episode_score(&episode, "Main Score"), episode_score(&episode, "Lose")), (0.0, 1.0));

    // An aside never answered aborts after five tries, each with the next reminder.
    let episode = play(&texts, experiment, instance, &mut scripted(&["I cannot say."; 5])).unwrap();
    let asked: Vec<&str> = episode.turns[0].iter().filter(|e| e.kind == "send message").skip(1).map(|e| e.text()).collect();
    assert_eq!(asked.len(), 5);
    assert!(asked[1].starts_with("ME: Please answer this question carefully. "));
    assert_eq!(episode.turns[0].last().unwrap().content, "Abort: invalid format in probing.");
    assert_eq!((episode_score(&episode, "Aborted"), episode_score(&episode, "Violated Request Count")), (1.0, 5.0));
    assert!(episode_score(&episode, "Main Score").is_nan() && episode_score(&episode, "Accuracy").is_nan());
}

#[test]
fn textmapworld_scores_exploration_and_efficiency_and_specificroom_the_stop() {
    use eval_runner::games::textmapworld::{play, Experiment, Variant};
    // clemcore 3.7.2 cannot score an unfinished episode (np.NaN), and no run is recorded: replies written from its NOTES.md.
    let experiments: Vec<Experiment> = clembench_experiments("textmapworld/textmapworld_main");
    let instance = &experiments[0].game_instances[0];
    // Guest room -west- Kitchen -south- Bedroom -east- Balcony.
    assert_eq!(instance.current_position, "Guest room");
    let tour = play(Variant::Explore, instance, &mut scripted(&["GO: west", "GO: south", "go: East", "DONE"])).unwrap();
    assert!(tour.turns[0][0].text().ends_with("You are in the Guest room. Currently available directions: west. What is your next command?"));
    assert_eq!(tour.turns[0][5].content, "You have made a step and entered Kitchen. Currently available directions: south, east. What is your next command?");
    assert_eq!(tour.turns[0][6].content, r#"{"old": "Guest room", "new": "Kitchen"}"#);
    assert_eq!(tour.turns[1][0].content, tour.turns[0][5].content);
    assert_episode_scores(&tour, &[("Success", 1.0), ("efficiency", 100.0), ("exploration", 100.0), ("Main Score", 100.0), ("moves", 3.0)]);
    assert_eq!(tour.turn_scores.len(), 3);

    // A blocked move, one good move, then a stop with half the rooms seen: 2 × 100 × 50 / 150.
    let short = play(Variant::Explore, instance, &mut scripted(&["GO: north", "GO: west", "DONE"])).unwrap();
    assert!(short.turns[0][5].text().starts_with("The move is not valid. You are still in the Guest room."));
    assert_eq!((episode_score(&short, "moves"), episode_score(&short, "valid_moves")), (2.0, 1.0));
    assert_eq!((episode_score(&short, "Lose"), episode_score(&short, "Main Score")), (1.0, 2.0 * 100.0 * 50.0 / 150.0));
    // Going back where it came from, with a room still to see, is not a good move.
    let back = play(Variant::Explore, instance, &mut scripted(&["GO: west", "GO: east", "DONE"])).unwrap();
    assert_eq!(episode_score(&back, "efficiency"), 50.0);

    let chatty = play(Variant::Explore, instance, &mut scripted(&["I would go west."])).unwrap();
    assert_eq!(chatty.turns[0][2].content, "abort game");
    assert!(episode_score(&chatty, "Main Score").is_nan());
    let endless = play(Variant::Explore, instance, &mut scripted(&["GO: west", "GO: east"].repeat(10))).unwrap();
    assert_eq!(endless.turns[19].last().unwrap().kind, "turns_limit");
    assert_eq!(episode_score(&endless, "Aborted"), 1.0);

    // graphreasoning: the move inside an object that also carries the map drawn so far.
    let experiments: Vec<Experiment> = clembench_experiments("textmapworld/textmapworld_graphreasoning");
    let instance = &experiments[0].game_instances[0];
    assert_eq!(instance.current_position, "Attic");
    let drawn = |action: &str| format!(r#"{{"action": "{action}", "graph": {{"nodes": ["Attic"], "edges": {{"north": [], "south": [], "east": [], "west": [("Attic", "Kitchen")]}}}}}}"#);
    // Three blocked directions, the attic's one exit, then a stop: each inside the object.
    let replies: Vec<String> = ["GO: north", "GO: south", "GO: east", "GO: west", "DONE"].iter().map(|action| drawn(action)).collect();
    let graph = play(Variant::GraphReasoning, instance, &mut scripted(&replies)).unwrap();
    assert_eq!(graph.turns.last().unwrap().last().unwrap().kind, "stop");
    assert_eq!((episode_score(&graph, "moves"), episode_score(&graph, "valid_moves")), (4.0, 1.0));
    // The graph drawn with the move is logged as Python prints it, and scored
    // by its edit distance to the map (a path of four rooms): two rooms and two
    // doors missing, d = 4, 100 × (1 − 2 × (sigmoid(2) − ½)).
    let logged = graph.turns[3].last().unwrap();
    assert_eq!(logged.kind, "graph");
    assert_eq!(logged.content, "{'nodes': ['Attic'], 'edges': {'north': [], 'south': [], 'east': [], 'west': [('Attic', 'Kitchen')]}}");
    let expected = 100.0 * (1.0 - 2.0 * (1.0 / (1.0 + (-2.0f64).exp()) - 0.5));
    assert_eq!(graph.turn_scores[0].0, 0, "turn scores are numbered by move");
    assert_eq!(graph.turn_scores[0].1[1], ("similarity".to_string(), expected));
    assert_eq!(episode_score(&graph, "graph_similarity"), expected);
    let whole_map = r#"{"action": "GO: west", "graph": {"nodes": ["attic", "kitchen", "game room", "balcony"], "edges": {"west": [["Attic", "Kitchen"]], "north": [["Kitchen", "Game room"], ["Game room", "Balcony"]]}}}"#;
    let done = drawn("DONE");
    let exact = play(Variant::GraphReasoning, instance, &mut scripted(&[whole_map, done.as_str()])).unwrap();
    assert_eq!(episode_score(&exact, "graph_similarity"), 100.0);
    // A drawing that reads as a literal but not as a graph (its doors are one string) scores 0, as clembench's except does.
    let unshaped = r#"{"action": "GO: west", "graph": {"nodes": ["Attic"], "edges": {"west": "Attic-Kitchen"}}}"#;
    let zero = play(Variant::GraphReasoning, instance, &mut scripted(&[unshaped, done.as_str()])).unwrap();
    assert_eq!(zero.turn_scores[0].1[1], ("similarity".to_string(), 0.0));
    assert_eq!(episode_score(&zero, "graph_similarity"), 0.0);
    let bare = play(Variant::GraphReasoning, instance, &mut scripted(&["GO: north"])).unwrap();
    assert_eq!((bare.turns[0][2].text(), episode_score(&bare, "Aborted")), ("abort game", 1.0));
    let unreadable_graph = drawn("DONE").replace(r#"("Attic", "Kitchen")"#, r#"("Attic" "Kitchen")"#);
    let broken = play(Variant::GraphReasoning, instance, &mut scripted(&[unreadable_graph.as_str()])).unwrap();
    assert_eq!(episode_score(&broken, "Aborted"), 1.0);

    let experiments: Vec<Experiment> = clembench_experiments("textmapworld/textmapworld_specificroom");
    let instance = &experiments[0].game_instances[0];
    assert_eq!(instance.specific_room.as_deref(), Some("Bar"));
    let here = play(Variant::SpecificRoom, instance, &mut scripted(&["DONE"])).unwrap();
    assert!(here.turns[0][0].text().contains("The target room is Bar. You are in the Bar."));
    assert_eq!((episode_score(&here, "Success"), episode_score(&here, "Main Score")), (1.0, 100.0));
    let away = play(Variant::SpecificRoom, instance, &mut scripted(&["GO: west", "DONE"])).unwrap();
    assert_eq!((episode_score(&away, "Lose"), episode_score(&away, "Main Score")), (1.0, 0.0));
    assert!(episode_score(&away, "old_benchscore") > 0.0);
}

#[test]
fn ifeval_wins_only_when_every_instruction_is_followed_and_is_never_aborted() {
    use eval_runner::games::ifeval::{play, Experiment};
    // No clemcore recording of the static games exists here: responses written from IFEval's rules.
    let experiments: Vec<Experiment> = clembench_experiments_in("static/ifeval/in/instances_sample.json");
    let instance = &experiments[0].game_instances[0];
    // No commas, three highlighted sections, at least 300 words.
    let body = "word ".repeat(300);
    let followed = format!("*Early life* {body}\n*Crusades* more\n*Legacy* the end");
    let episode = play(instance, &mut scripted(&[followed.as_str()])).unwrap();
    assert_eq!(episode.turns[0][2].kind, "target");
    assert_eq!(episode.turns[0][3].kind, "followed all instructions");
    assert_eq!((episode_score(&episode, "Main Score"), episode_score(&episode, "Success")), (100.0, 1.0));
    let with_comma = followed.replace("the end", "the end, at last");
    let episode = play(instance, &mut scripted(&[with_comma.as_str()])).unwrap();
    assert_eq!(episode.turns[0][3].content, "game_result = LOSE");
    assert_eq!((episode_score(&episode, "Main Score"), episode_score(&episode, "Aborted")), (0.0, 0.0));
    let empty = play(instance, &mut scripted(&[""])).unwrap();
    assert_eq!((episode_score(&empty, "Main Score"), episode_score(&empty, "Aborted")), (0.0, 0.0));
}

#[test]
fn wordle_withclue_gives_the_clue_first_and_scores_a_win_by_its_round() {
    use eval_runner::games::wordle::{play, Variant};
    // No clemcore recording of this game exists here: replies written from its NOTES.md.
    let experiments = experiments_of("instances_withclue.json");
    let experiment = &experiments[0];
    let instance = &experiment.game_instances[0];
    let mut model = scripted(&["explanation: the clue\nguess: apple", "explanation: feedback\nguess: party"]);
    let episode = play(Variant::WithClue, experiment, instance, &mut model).unwrap();
    let first = episode.turns[0][0].text();
    assert!(first.starts_with(&experiment.guesser_prompt) && first.ends_with(&format!("\n\nclue: {}", instance.target_word_clue)));
    assert!(episode.turns[0][2].text().contains(&format!("target_word_clue = {}", instance.target_word_clue)));
    assert_eq!(episode_score(&episode, "Main Score"), 50.0);

    let three = ["explanation: a\nguess: apple", "explanation: b\nguess: beach", "explanation: c\nguess: party"];
    let episode = play(Variant::WithClue, experiment, instance, &mut scripted(&three)).unwrap();
    assert_eq!(episode_score(&episode, "Main Score"), 33.33);

    // A broken reply aborts at once, with NaN scores and clemcore's reason.
    let episode = play(Variant::WithClue, experiment, instance, &mut scripted(&["guess: party"])).unwrap();
    assert_eq!(episode_score(&episode, "Aborted"), 1.0);
    assert!(episode_score(&episode, "Main Score").is_nan());
    assert_eq!(episode.turns[0][2].content, "Error: The response should always start with the keyword 'explanation:'");
    assert_eq!(episode.turn_scores[0].0, 0, "no feedback: one turn score, numbered 0");
}

fn nltk_stopwords() -> std::collections::HashSet<String> {
    let path = peer_runs().join("smollm2-135m-q4_1/nltk_stopwords_english.txt");
    std::fs::read_to_string(&path).unwrap().lines().map(str::to_string).collect()
}

fn taboo_experiments() -> Vec<eval_runner::games::taboo::Experiment> {
    // The reduced instance file both recordings were made with.
    let path = peer_runs().join("smollm2-135m-q4_1/instances/taboo_instances_peer.json");
    serde_json::from_value(read_json(&path)["experiments"].clone()).unwrap()
}

#[test]
fn taboo_replays_every_recorded_episode() {
    use eval_runner::games::taboo;
    let (experiments, stopwords) = (taboo_experiments(), nltk_stopwords());
    let mut dirs = instance_dirs(&peer_runs().join("mock-programmatic/results/mock/taboo"));
    dirs.extend(instance_dirs(&peer_runs().join("smollm2-135m-q4_1/results/smollm2-135m-q4_1/taboo")));
    assert_eq!(dirs.len(), 18);
    for dir in dirs {
        let experiment = experiments.iter().find(|e| e.name == experiment_of(&dir)).expect("experiment in the instance file");
        let episode = replay(&dir, |instance, model| taboo::play(experiment, instance, &stopwords, model));
        check_episode(&dir, &episode);
    }
}

#[test]
fn taboo_scores_a_win_by_its_round_and_a_taboo_clue_as_a_loss() {
    use eval_runner::games::taboo;
    let (experiments, stopwords) = (taboo_experiments(), nltk_stopwords());
    let experiment = &experiments[0];
    let instance = taboo::Instance { target_word: "winter".into(), related_word: vec!["cold".into(), "snow".into(), "season".into()] };
    let script = ["CLUE: It follows autumn.", "GUESS: spring", "CLUE: The cold part of the year.", "GUESS: Winter!"];
    // "cold" is a related word: the second clue ends the game as a rule violation (a loss, not an abort).
    let episode = taboo::play(experiment, &instance, &stopwords, &mut scripted(&script)).unwrap();
    assert_eq!((episode_score(&episode, "Lose"), episode_score(&episode, "Aborted")), (1.0, 0.0));
    assert_eq!(episode.turns[1].last().unwrap().kind, "invalid clue");

    let script = ["CLUE: It follows autumn.", "GUESS: spring", "CLUE: Snowmen are built then.", "GUESS: Winter!"];
    // "snowmen" stems to "snowmen", not "snow": allowed; the guess wins in round 2.
    let episode = taboo::play(experiment, &instance, &stopwords, &mut scripted(&script)).unwrap();
    assert_eq!(episode_score(&episode, "Main Score"), 50.0);
    assert_eq!(episode.turns[1].last().unwrap().kind, "correct guess");

    // The target's own stem in a clue is caught ("winters" → "winter").
    let episode = taboo::play(experiment, &instance, &stopwords, &mut scripted(&["CLUE: Like winters."])).unwrap();
    assert_eq!(episode_score(&episode, "Lose"), 1.0);
    assert_eq!(episode_score(&episode, "Request Count"), 1.0);

    // A guess without its prefix aborts.
    let episode = taboo::play(experiment, &instance, &stopwords, &mut scripted(&["CLUE: Cold season.", "winter"])).unwrap();
    assert_eq!(episode_score(&episode, "Lose"), 1.0, "the clue broke the rule before the guess");
    let episode = taboo::play(experiment, &instance, &stopwords, &mut scripted(&["CLUE: It follows autumn.", "winter"])).unwrap();
    assert_eq!(episode_score(&episode, "Aborted"), 1.0);
    assert!(episode_score(&episode, "Main Score").is_nan());
}

fn static_experiments(benchmark: &str) -> Vec<eval_runner::games::single_turn::Experiment> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/reference/clembench/static")
        .join(benchmark)
        .join("in/instances_sample.json");
    serde_json::from_value(read_json(&path)["experiments"].clone()).unwrap()
}

#[test]
fn mmlu_pro_reads_one_letter_and_aborts_on_none_or_several() {
    use eval_runner::games::single_turn::{play, Benchmark};
    // clemcore 3.7.2 cannot run the static games, so there is no recording: written answers.
    let experiments = static_experiments("mmlu_pro");
    let (experiment, instance) = (&experiments[0], &experiments[0].game_instances[0]);
    let asked = |answer: &'static str| play(Benchmark::MmluPro, experiment, instance, &mut scripted(&[answer])).unwrap();
    let right = asked("Let me think. The answer is (A).");
    assert!(right.turns[0][0].text().ends_with(&instance.input), "the question closes the prompt");
    assert_eq!(episode_score(&right, "Main Score"), 100.0);
    assert_eq!(episode_score(&asked("the answer is B"), "Main Score"), 0.0);
    for unreadable in ["The Answer is (A)", "answer is (A) or answer is (B)", "answer is (K)"] {
        let episode = asked(unreadable);
        assert_eq!(episode_score(&episode, "Aborted"), 1.0, "{unreadable}");
        assert!(episode_score(&episode, "Main Score").is_nan());
    }
}

#[test]
fn bbh_takes_only_the_exact_target() {
    use eval_runner::games::single_turn::{play, Benchmark};
    let experiments = static_experiments("bbh");
    let (experiment, instance) = (&experiments[0], &experiments[0].game_instances[0]);
    let asked = |answer: String| play(Benchmark::Bbh, experiment, instance, &mut scripted(&[answer.leak() as &str])).unwrap();
    let right = asked(instance.target.clone());
    assert_eq!((episode_score(&right, "Main Score"), episode_score(&right, "Aborted")), (100.0, 0.0));
    let wordy = asked(format!("{}\n\nQ: next", instance.target));
    assert_eq!((episode_score(&wordy, "Main Score"), episode_score(&wordy, "Aborted")), (0.0, 0.0));
}

#[test]
fn cladder_reads_a_first_word_of_yes_or_no() {
    use eval_runner::games::single_turn::{play, Benchmark};
    let experiments = static_experiments("cladder");
    let (experiment, instance) = (&experiments[0], &experiments[0].game_instances[0]);
    assert_eq!(instance.target, "yes");
    let asked = |answer: &str| play(Benchmark::Cladder, experiment, instance, &mut scripted(&[answer])).unwrap();
    let right = asked("Yes, because the vaccine raises recovery.");
    assert!(right.turns[0][0].text().contains(&instance.input), "the question is in the prompt");
    assert_eq!(episode_score(&right, "Main Score"), 100.0);
    assert_eq!(right.turns[0].last().unwrap().kind, "correct label");
    assert_eq!(episode_score(&asked("no."), "Main Score"), 0.0);
    for unreadable in ["", "Maybe yes"] {
        let episode = asked(unreadable);
        assert_eq!(episode_score(&episode, "Aborted"), 1.0, "{unreadable:?}");
        assert!(episode_score(&episode, "Main Score").is_nan());
    }
}

#[test]
fn eqbench_scores_ratings_by_their_distance_from_the_reference() {
    use eval_runner::games::eqbench::{play, Experiment};
    let experiments: Vec<Experiment> = serde_json::from_value(
        read_json(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/clembench/static/eqbench/in/instances_sample.json"))["experiments"]
            .clone(),
    )
    .unwrap();
    let instance = &experiments[0].game_instances[0];
    // Reference: Remorseful 0, Indifferent 6, Affectionate 0, Annoyed 7.
    let asked = |answer: &str| play(instance, &mut scripted(&[answer])).unwrap();
    let exact = asked("Remorseful: 0\nIndifferent: 6\nAffectionate: 0\nAnnoyed: 7");
    assert_eq!((episode_score(&exact, "Main Score"), episode_score(&exact, "Success")), (100.0, 1.0));
    // The default scorer's keys, and the ratings as read.
    let keys: BTreeMap<String, Value> = exact.keys.iter().cloned().collect();
    assert_eq!((keys["Success"].clone(), keys["Request Count"].clone(), keys["Violated Request Count"].clone()), (1.into(), 1.into(), 0.into()));
    assert_eq!(keys["Parsed Response"], serde_json::json!({"Affectionate": 0, "Annoyed": 7, "Indifferent": 6, "Remorseful": 0}));
    // One emotion off by 2: 6.5 / (1 + e^(2.4)) = 0.5836…; (10 − 0.7477 × 0.5836) × 10.
    let near = asked("Remorseful: 0\nIndifferent: 4\nAffectionate: 0\nAnnoyed: 7");
    let expected = (10.0 - 0.7477 * (6.5 / (1.0 + 2.4f64.exp()))) * 10.0;
    assert!((episode_score(&near, "Main Score") - expected).abs() < 1e-9);
    assert_eq!(episode_score(&near, "Lose"), 1.0);
    // Off by more than 5 counts the difference itself, and the score may go below 0.
    let far = asked("Remorseful: 10\nIndifferent: 0\nAffectionate: 10\nAnnoyed: 0");
    assert!(episode_score(&far, "Main Score") < 0.0);
    for unreadable in ["I cannot say.", "Remorseful: 0\nIndifferent: 6", "Remorseful: 0\nIndifferent: 0\nAffectionate: 0\nAnnoyed: 0", "Remorseful: 0\nIndifferent: 16\nAffectionate: 0\nAnnoyed: 7"] {
        let episode = asked(unreadable);
        assert_eq!(episode_score(&episode, "Aborted"), 1.0, "{unreadable}");
        assert!(episode_score(&episode, "Main Score").is_nan());
        assert_eq!(episode.keys.last().unwrap(), &("Parsed Response".to_string(), Value::Null));
    }
}

/// codenames' experiments and what its game master reads beside them: its
/// prompt templates and WordNet's nouns (Debian's wordnet-base, which
/// scripts/test.sh installs).
fn codenames_setup() -> (Vec<eval_runner::games::codenames::Experiment>, eval_runner::games::codenames::Materials) {
    use eval_runner::games::{codenames, wordnet::NounLemmatizer};
    let game = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/clembench/codenames");
    let prompts = codenames::Prompts::read(&game).unwrap();
    let nouns = NounLemmatizer::read(Path::new("/usr/share/wordnet")).expect("WordNet 3.0 in /usr/share/wordnet");
    (clembench_experiments("codenames"), codenames::Materials { prompts, nouns })
}

fn named<'e>(experiments: &'e [eval_runner::games::codenames::Experiment], name: &str) -> &'e eval_runner::games::codenames::Experiment {
    experiments.iter().find(|e| e.name == name).unwrap()
}

fn turn_score(episode: &Episode, turn: usize, name: &str) -> f64 {
    episode.turn_scores[turn].1.iter().find(|(k, _)| k == name).map(|(_, v)| *v).unwrap()
}

fn kinds(round: &[eval_runner::games::Event]) -> Vec<&str> {
    round.iter().map(|e| e.kind.as_str()).collect()
}

#[test]
fn codenames_is_won_when_the_guesser_reveals_every_team_word() {
    use eval_runner::games::codenames::play;
    // No clemcore recording of this game exists here: replies written from its NOTES.md.
    let (experiments, materials) = codenames_setup();
    let experiment = named(&experiments, "opponent_none");
    let instance = &experiment.game_instances[0];
    assert_eq!(instance.assignments.team, ["bed", "leprechaun", "novel", "buck", "forest", "tie", "star", "angel", "germany"]);
    let replies = [
        "CLUE: Sleep.\nTARGETS: bed,star, 'angel'",
        "GUESS: bed, star, angel",
        "CLUE: dwarf\nTARGETS: leprechaun, novel, buck",
        "GUESS: leprechaun, novel, buck",
        "CLUE: woods\nTARGETS: forest, tie, germany",
        "GUESS: forest, tie, germany",
    ];
    let episode = play(experiment, instance, &materials, &mut scripted(&replies)).unwrap();
    assert_eq!(episode.turns.len(), 3);

    let first = &episode.turns[0];
    assert_eq!(
        kinds(first),
        [
            "board status", "send message", "get message", "clue", "targets", "word targeted", "word targeted", "word targeted",
            "send message", "get message", "guesses", "team revealed", "target revealed", "team revealed", "target revealed",
            "team revealed", "target revealed",
        ]
    );
    assert_eq!(first[0].content["hidden"]["team"].as_array().unwrap().len(), 9);
    assert!(first[1].text().contains("Your team words are: bed, leprechaun, novel, buck, forest, tie, star, angel, germany.\n"));
    assert!(first[1].text().ends_with("The kill words are: death."));
    assert_eq!((first[3].content.clone(), first[4].content.clone()), (Value::from("sleep"), serde_json::json!(["bed", "star", "angel"])));
    assert_eq!(first[5].content, serde_json::json!({"word": "bed", "assignment": "team"}));
    // The guesser sees every hidden word in board order, the clue and the number of targets.
    assert!(first[8].text().contains("'sleep'") && first[8].text().contains("up to 3 words"));
    assert!(first[8].text().ends_with(&format!("\n\n{}", instance.board.join(", "))));

    let second = &episode.turns[1];
    assert!(second[1].text().starts_with("The words bed, star, angel were guessed correctly. Your teammate's turn ended there.\n"));
    assert!(second[1].text().contains("Your remaining team words are: leprechaun, novel, buck, forest, tie, germany.\n"));
    let guesser_context = second[8].text();
    assert!(guesser_context.starts_with("The words bed, star, angel were guessed correctly. Your turn ended there.\n"));
    let hidden: Vec<&str> = instance.board.iter().map(String::as_str).filter(|w| !["bed", "star", "angel"].contains(w)).collect();
    assert!(guesser_context.contains("'dwarf'") && guesser_context.ends_with(&format!("\n\n{}", hidden.join(", "))));

    // The end is found before the opponent's move and logged twice, as clembench does.
    let last = episode.turns[2].iter().rev().take(2).map(|e| (e.kind.as_str(), e.text())).collect::<Vec<_>>();
    assert_eq!(last, [("game end", "team has won"), ("game end", "team has won")]);

    assert_eq!(episode.episode_details[1], ("experiment name".to_string(), Value::from("opponent_none")));
    // The keys clembench's scorer reads back from interactions.json.
    let key = |name: &str| episode.keys.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap();
    assert_eq!((key("Number of turns"), key("Aborted"), key("Lose")), (4.into(), false.into(), false.into()));
    assert_eq!(key("Cluegiver engaged flags")["STRIP WORDS"], 2);
    assert_eq!(key("board end status")["hidden"]["team"], serde_json::json!([]));
    assert_eq!(episode.turn_details[0].1[0].1["targeted"]["team"], 3);
    for (name, expected) in [
        ("Main Score", 100.0),
        ("Success", 1.0),
        ("Aborted", 0.0),
        ("Number of turns", 4.0),
        ("Efficiency", 1.0),
        ("Episode Recall", 1.0),
        ("Episode Negative Recall", 1.0),
        ("Cluegiver strip words", 2.0),
        ("Guesser strip words", 0.0),
        ("Request Count", 6.0),
        ("Request Success Ratio", 1.0),
        ("Average Cluegiver Team Recall", 0.611),
    ] {
        assert_eq!(episode_score(&episode, name), expected, "{name}");
    }
    assert_eq!((turn_score(&episode, 0, "Cluegiver Team Recall"), turn_score(&episode, 0, "Cluegiver Team F1")), (0.333, 0.5));
    assert_eq!(turn_score(&episode, 2, "Guesser Team Recall"), 1.0);
}

#[test]
fn codenames_is_lost_on_a_kill_word_and_the_opponent_moves_as_cpython_would() {
    use eval_runner::games::codenames::play;
    let (experiments, materials) = codenames_setup();
    let experiment = named(&experiments, "risk_high");
    let instance = &experiment.game_instances[0];
    assert_eq!(instance.assignments.assassin, ["bill", "glass", "lap", "africa", "chair"]);
    let replies = ["CLUE: weather\nTARGETS: wind", "GUESS: wind", "CLUE: eye\nTARGETS: pupil, glass", "GUESS: glass, pupil"];
    let episode = play(experiment, instance, &materials, &mut scripted(&replies)).unwrap();

    // random.seed(42); random.sample(opponent words, 1) picks "rabbit" in CPython.
    let moved = episode.turns[0].last().unwrap();
    assert_eq!((moved.kind.as_str(), moved.content.clone()), ("opponent revealed", serde_json::json!({"word": "rabbit", "assignment": "opponent"})));
    // The cluegiver's next prompt was written before the opponent moved; the guesser's after.
    assert!(episode.turns[1][1].text().contains("Remaining words for your opponent are: racket, rabbit, jupiter"));
    assert!(!episode.turns[1][8].text().contains("rabbit"));

    let second = &episode.turns[1];
    let tail: Vec<&str> = kinds(second).into_iter().rev().take(6).collect();
    assert_eq!(tail, ["game end", "game end", "turn end after", "target revealed", "team revealed", "guesses"]);
    assert_eq!(second.last().unwrap().content, "opponent has won through assassin");
    for (name, expected) in [
        ("Main Score", 0.0),
        ("Lose", 1.0),
        ("Success", 0.0),
        ("Game ended through assassin", 1.0),
        ("Number of turns", 3.0),
        ("Episode Recall", 0.111),
        ("Episode Negative Recall", 0.938),
        ("Efficiency", 0.5),
    ] {
        assert_eq!(episode_score(&episode, name), expected, "{name}");
    }
    for (name, expected) in [
        ("Guesser Number of Guesses", 2.0),
        ("Guesser Number of Revealed Words", 1.0),
        ("Guesser Number of Unrevealed Guesses", 1.0),
        ("Guesser Target Precision", 1.0),
        ("Guesser Target Recall", 0.5),
        ("Guesser Team Precision", 0.0),
        ("Cluegiver Team Precision", 0.5),
    ] {
        assert_eq!(turn_score(&episode, 1, name), expected, "{name}");
    }
}

#[test]
fn codenames_is_lost_when_the_opponent_reveals_its_last_word() {
    use eval_runner::games::codenames::play;
    let (experiments, materials) = codenames_setup();
    let experiment = named(&experiments, "opponent_difficult");
    assert_eq!(experiment.opponent_difficulty, 2);
    let instance = &experiment.game_instances[0];
    // Each round the guesser reveals a distractor, which ends the team's turn.
    let replies: Vec<String> = [("wealth", "millionaire"), ("letter", "mail"), ("hammer", "nail"), ("airport", "plane")]
        .iter()
        .flat_map(|(clue, word)| [format!("CLUE: {clue}\nTARGETS: {word}"), format!("GUESS: {word}")])
        .collect();
    let episode = play(experiment, instance, &materials, &mut scripted(&replies)).unwrap();
    let opponent_moves: Vec<Vec<&str>> = episode
        .turns
        .iter()
        .map(|round| round.iter().filter(|e| e.kind == "opponent revealed").map(|e| e.content["word"].as_str().unwrap()).collect())
        .collect();
    // What CPython's random.sample picks from one generator seeded with 42.
    assert_eq!(opponent_moves, [["glass", "opera"], ["soldier", "moon"], ["plot", "king"], ["lion", "hood"]]);
    assert!(episode.turns[1][1].text().starts_with("The word millionaire was guessed but is an innocent word. Your teammate's turn ended there.\n"));
    // Found after the opponent's move: logged once.
    assert_eq!(kinds(episode.turns.last().unwrap()).iter().filter(|k| **k == "game end").count(), 1);
    assert_eq!(episode.turns.last().unwrap().last().unwrap().content, "opponent has won");
    for (name, expected) in [("Lose", 1.0), ("Main Score", 0.0), ("Number of turns", 5.0), ("Episode Recall", 0.0), ("Game ended through assassin", 0.0)] {
        assert_eq!(episode_score(&episode, name), expected, "{name}");
    }
}

#[test]
fn codenames_aborts_on_each_broken_rule() {
    use eval_runner::games::codenames::play;
    let (experiments, materials) = codenames_setup();
    let experiment = named(&experiments, "opponent_none");
    let instance = &experiment.game_instances[0];
    let clue = "CLUE: sleep\nTARGETS: bed, star";
    let first_round = ["CLUE: sleep\nTARGETS: bed", "GUESS: bed"];
    // (replies, the error's type, whose error it counts as, "Number of turns")
    let cases: Vec<(Vec<&str>, &str, &str, f64)> = vec![
        (vec!["CLUE: sleep\nTARGETS: bed\nThanks!"], "rambling error", "Cluegiver", 1.0),
        (vec!["Clue: sleep\nTARGETS: bed"], "prefix error", "Cluegiver", 1.0),
        (vec!["CLUE: sleep\nTARGET: bed"], "prefix error", "Cluegiver", 1.0),
        // clembench counts this one against the guesser.
        (vec!["CLUE: sleep, 2\nTARGETS: bed, star"], "clue line contains the number of targets", "Guesser", 1.0),
        (vec!["CLUE: deep sleep\nTARGETS: bed"], "clue contains spaces", "Cluegiver", 1.0),
        (vec!["CLUE: Beds\nTARGETS: star"], "clue is morphologically related to word on the board", "Cluegiver", 1.0),
        (vec!["CLUE: bed\nTARGETS: star"], "clue is morphologically related to word on the board", "Cluegiver", 1.0),
        (vec!["CLUE: sleep\nTARGETS: pillow"], "target is hallucination", "Cluegiver", 1.0),
        (vec!["CLUE: sleep\nTARGETS: bed, bed"], "target appears more than once in utterance", "Cluegiver", 1.0),
        (vec![clue, "GUESS: bed\nstar"], "rambling error", "Guesser", 2.0),
        (vec![clue, "bed, star"], "prefix error", "Guesser", 2.0),
        (vec![clue, "GUESS: bed, star, angel"], "wrong number of guesses", "Guesser", 2.0),
        (vec![clue, "GUESS: sleep"], "guess is clue word", "Guesser", 2.0),
        (vec![clue, "GUESS: pillow"], "guess word is hallucination", "Guesser", 2.0),
        (vec![clue, "GUESS: bed, bed"], "guess appears more than once in utterance", "Guesser", 2.0),
        ([&first_round[..], &["CLUE: rest\nTARGETS: bed"]].concat(), "target was already guessed", "Cluegiver", 2.0),
        ([&first_round[..], &["CLUE: rest\nTARGETS: star", "GUESS: bed"]].concat(), "guess was already guessed", "Guesser", 3.0),
    ];
    for (replies, kind, player, turns) in cases {
        let episode = play(experiment, instance, &materials, &mut scripted(&replies)).unwrap();
        let error = episode.turns.last().unwrap().iter().find(|e| e.kind == "validation error").expect("a validation error");
        assert_eq!((error.content["type"].as_str(), error.content["player"].as_str()), (Some(kind), Some(player)), "{replies:?}");
        assert!(!error.content["message"].as_str().unwrap().is_empty());
        assert!(episode_score(&episode, "Main Score").is_nan(), "{replies:?}");
        let counts = ["Aborted", "Lose", "Violated Request Count", "Number of turns"].map(|name| episode_score(&episode, name));
        assert_eq!(counts, [1.0, 0.0, 1.0, turns], "{replies:?}");
        let last_turn = episode.turn_scores.len() - 1;
        assert_eq!(turn_score(&episode, last_turn, &format!("{player} validation error")), 1.0, "{replies:?}");
    }
    let related = play(experiment, instance, &materials, &mut scripted(&["CLUE: Beds\nTARGETS: star"])).unwrap();
    assert_eq!(related.turns[0].last().unwrap().content["similar_board_word"], "bed");
}

/// The two-room adventure written for these tests (clembench has none in `../shared`):
/// a brass lamp in a closed crate in the yard, to be put on the work bench in the workshop.
fn adventure() -> (Vec<eval_runner::games::adventuregame::Experiment>, eval_runner::games::adventuregame::Library) {
    #[derive(serde::Deserialize)]
    struct File {
        experiments: Vec<eval_runner::games::adventuregame::Experiment>,
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/adventuregame");
    let file: File = serde_json::from_str(&std::fs::read_to_string(dir.join("in/instances.json")).unwrap()).unwrap();
    let library = eval_runner::games::adventuregame::Library::read(&dir, &file.experiments).unwrap();
    (file.experiments, library)
}

fn play_adventure(experiment: usize, instance: usize, replies: &[&str]) -> Episode {
    let (experiments, library) = adventure();
    let mut model = scripted(replies);
    let episode =
        eval_runner::games::adventuregame::play(&experiments[experiment].game_instances[instance], &library, &mut model)
            .unwrap();
    assert!(model.0.is_empty(), "replies left over");
    episode
}

fn assert_episode_scores(episode: &Episode, expected: &[(&str, f64)]) {
    for (name, value) in expected {
        assert_eq!(episode_score(episode, name), *value, "{name}");
    }
}

/// What the game master said to the player, round by round.
fn said_to_player(episode: &Episode) -> Vec<String> {
    episode
        .turns
        .iter()
        .flatten()
        .filter(|e| e.kind == "send message")
        .map(|e| e.text().to_string())
        .collect()
}

/// The events of a kind, in order.
fn logged<'e>(episode: &'e Episode, kind: &str) -> Vec<&'e Value> {
    episode.turns.iter().flatten().filter(|e| e.kind == kind).map(|e| &e.content).collect()
}

#[test]
fn adventuregame_resolves_commands_by_their_pddl_and_scores_a_finished_adventure() {
    let episode = play_adventure(
        0,
        0,
        &["> open crate", "> take brass lamp", "> go to workshop", "> put lamp on work bench", "> done"],
    );
    let said = said_to_player(&episode);
    assert!(said[0].ends_with(
        "You are in a yard now. There is a wooden crate. The wooden crate is closed. There is a passage to a workshop here."
    ));
    assert_eq!(said[1], "You open the wooden crate. In the wooden crate there is a brass lamp.\n");
    assert_eq!(said[2], "You take the brass lamp. In your inventory you have a brass lamp.\n");
    // The lamp is carried, so not listed in the room.
    assert_eq!(
        said[3],
        "You are in a workshop now. There are a work bench and a rope. The rope is on the work bench. \
         There is a passage to a yard here.\n"
    );
    assert_eq!(said[4], "You put the brass lamp on the work bench.\n");
    assert_eq!(
        episode.keys,
        vec![(
            "adventure_info".to_string(),
            serde_json::json!({"variant": "basic", "max_turns": 8, "optimal_turns": 4, "goal_count": 1})
        )]
    );
    let goals: Vec<f64> = (0..5).map(|turn| turn_score(&episode, turn, "goal_score")).collect();
    assert_eq!(goals, [0.0, 0.0, 0.0, 1.0, 0.0]);
    // Opening shows three new facts: the crate open, the lamp where it is and what it is in.
    assert_eq!(turn_score(&episode, 0, "epistemic_action"), 1.0);
    assert_eq!(turn_score(&episode, 0, "effective_epistemic_gain_amount"), 3.0);
    assert_eq!(turn_score(&episode, 0, "known_entities_ratio"), 3.0 / 7.0);
    assert_eq!(turn_score(&episode, 0, "visited_rooms_ratio"), 0.5);
    assert_eq!(turn_score(&episode, 2, "visited_rooms_ratio"), 1.0);
    assert_episode_scores(&episode, &[
        ("Main Score", 100.0),
        ("achieved_goal_ratio", 1.0),
        ("Success", 1.0),
        ("Lose", 0.0),
        ("Aborted", 0.0),
        ("Request Count", 5.0),
        ("successful_actions", 5.0),
        ("hallucination_count", 0.0),
        ("turns_over_par", 1.0),
        ("turn_ratio", 0.75),
        ("finish_speed", 0.25),
    ]);
    assert_eq!(logged(&episode, "model_done").len(), 1);
    assert_eq!(
        *logged(&episode, "game_result")[0],
        serde_json::json!({"goal_states_achieved": ["on(lamp1,bench1)"], "game_successfully_finished": true})
    );
}

#[test]
fn adventuregame_names_each_kind_of_failed_command_and_scores_a_premature_done_as_a_loss() {
    let episode = play_adventure(
        0,
        0,
        &["> take lamp", "> dance wildly", "> take unicorn", "> go yard", "> open yard", "> take lamp1", "> done"],
    );
    let said = said_to_player(&episode);
    let expected = [
        "You cannot reach the brass lamp.\n",
        "I don't know how to interpret this 'dance' action.\n",
        "I don't know what 'unicorn' means.\n",
        "You are in the yard already.\n",
        "You don't need to open the 'yard'.\n",
        "I don't know what you mean.\n",
    ];
    assert_eq!(&said[1..], &expected[..]);
    let kinds: Vec<&str> = logged(&episode, "action_fail").iter().map(|f| f["fail_type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "entity_not_accessible",
            "undefined_action_verb",
            "undefined_repr_str",
            "going_to_current_room",
            "manipulating_room",
            "lark_exception"
        ]
    );
    assert_eq!(turn_score(&episode, 0, "action_resolution_fail"), 1.0);
    assert_eq!(turn_score(&episode, 1, "undefined_action_verb"), 1.0);
    assert_eq!(turn_score(&episode, 1, "action_parsing_fail"), 1.0);
    // "done" before the goal is a hallucinated finish.
    assert_eq!(turn_score(&episode, 6, "hallucination"), 1.0);
    assert_episode_scores(&episode, &[
        ("Main Score", 0.0),
        ("Lose", 1.0),
        ("Success", 0.0),
        ("Aborted", 0.0),
        ("action_parsing_fail", 4.0),
        ("action_resolution_fail", 2.0),
        ("successful_actions", 1.0),
        ("hallucination_count", 1.0),
    ]);
    assert!(episode_score(&episode, "turns_over_par").is_nan());
}

#[test]
fn adventuregame_aborts_on_a_reply_without_its_command_tag_and_at_the_turn_limit() {
    let untagged = play_adventure(0, 0, &["I think the game is done"]);
    assert_eq!(logged(&untagged, "hallucinated_finish").len(), 1);
    assert_eq!(turn_score(&untagged, 0, "command_tag_missing"), 1.0);
    assert_episode_scores(&untagged, &[("Aborted", 1.0), ("Violated Request Count", 1.0), ("Main Score", 0.0), ("Lose", 0.0)]);
    // Instance 1 allows three turns.
    let limited = play_adventure(0, 1, &["> examine crate", "> examine wooden crate", "> examine crate"]);
    assert_eq!(
        said_to_player(&limited)[1],
        "This is a wooden crate. The crate is closed. You can't see the crate's contents because it is closed. \
         The crate is openable and currently closed.\n"
    );
    assert_eq!(logged(&limited, "turn_limit_reached").len(), 1);
    assert_episode_scores(&limited, &[("Aborted", 1.0), ("turn_limit_loss", 1.0), ("successful_actions", 3.0)]);
}

#[test]
fn adventuregame_plans_are_tried_without_changing_the_world_and_scored_for_being_followed() {
    let episode = play_adventure(
        1,
        0,
        &[
            "> open crate\nNext actions: take lamp, go workshop",
            "> take lamp\nNext actions: go workshop, put lamp on work bench",
            "> go workshop\nNext actions: dance",
            "> dance\nNext actions: put lamp on work bench",
            "> put lamp on work bench\nNext actions: done",
            "> done",
        ],
    );
    // Each real command succeeds although the plans before it were already tried out.
    let failed: Vec<f64> = (0..6).map(|turn| turn_score(&episode, turn, "action_resolution_fail")).collect();
    assert_eq!(failed, [0.0; 6]);
    let viability: Vec<f64> = (0..6).map(|turn| turn_score(&episode, turn, "plan_command_success_ratio")).collect();
    assert_eq!(viability, [1.0, 1.0, 0.0, 1.0, 1.0, 1.0]);
    let followed: Vec<f64> = (0..6).map(|turn| turn_score(&episode, turn, "plan_followed")).collect();
    assert_eq!(followed, [0.0, 1.0, 1.0, 1.0, 1.0, 0.0]);
    assert_eq!(*logged(&episode, "current_plan")[0], serde_json::json!("['take lamp', 'go workshop']"));
    assert_episode_scores(&episode, &[
        ("Success", 1.0),
        ("Main Score", 100.0),
        ("plan_followed_ratio", 4.0 / 6.0),
        ("plan_average_viability_ratio", 5.0 / 6.0),
        ("bad_plan_follow_ratio", 1.0 / 6.0),
        ("bad_plan_dismiss_ratio", 5.0 / 6.0),
    ]);
    // A plan variant reply with neither a plan nor "done" ends the episode.
    let unplanned = play_adventure(1, 0, &["> open crate"]);
    assert_eq!(turn_score(&unplanned, 0, "next_actions_missing"), 1.0);
    assert_eq!(episode_score(&unplanned, "Aborted"), 1.0);
}

#[test]
fn adventuregame_events_fire_after_the_command_that_sets_them_off() {
    // A gust blows the player from the yard to the workshop after the first command;
    // the lamp lights once it stands on the bench.
    let episode = play_adventure(
        2,
        0,
        &["> open crate", "> go yard", "> take lamp", "> go workshop", "> put lamp on work bench", "> done"],
    );
    let said = said_to_player(&episode);
    assert_eq!(
        said[1],
        "You open the wooden crate. In the wooden crate there is a brass lamp.\nA gust of wind blows you away. \
         You are in a workshop now. There are a work bench and a rope. The rope is on the work bench. \
         There is a passage to a yard here."
    );
    // The wind has dropped: the yard stays where it is.
    assert!(said[2].starts_with("You are in a yard now."), "{}", said[2]);
    assert_eq!(said[5], "You put the brass lamp on the work bench.\nThe brass lamp lights up on the work bench.");
    assert_eq!(logged(&episode, "model_done").len(), 1);
    assert_episode_scores(&episode, &[("Success", 1.0), ("Main Score", 100.0)]);

    // An event whose effect leaves its precondition true would fire forever: the episode is refused.
    let (experiments, library) = adventure();
    let mut endless = experiments[0].game_instances[0].clone();
    endless.event_definitions = vec![serde_json::json!({
        "type_name": "echo",
        "pddl": "(:event ECHO :parameters (?p - player ?r - room) :precondition (and (at ?p ?r)) :effect (and))",
        "event_feedback": "An echo."
    })];
    let refused = eval_runner::games::adventuregame::play(&endless, &library, &mut scripted(&["> done"]));
    assert_eq!(
        refused,
        Err(GameError::Instance(
            "instance 0: an event keeps firing: its effect must make its precondition false".into()
        ))
    );
}
