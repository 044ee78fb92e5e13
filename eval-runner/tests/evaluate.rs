//! `eval-runner eval` end to end: the embedded SmolLM2 model plays one
//! instance of every implemented game and benchmark from the real clembench
//! files, and the results folder passes the leaderboard's verifier. Also: a
//! time limit cuts a run short cleanly, a restarted run resumes, and bad input
//! is refused before anything is written.

use eval_runner::games::catalog::implemented;
use eval_runner::scoring::verify::verify_dir;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The implemented static benchmarks.
const STATIC: [&str; 5] = ["bbh", "cladder", "eqbench", "ifeval", "mmlu_pro"];

fn shared(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/reference")
        .join(path)
}

/// clembench's games with the adventure written for the tests beside them:
/// clembench's own adventuregame files are not in `../shared`.
fn games_with_adventure(scratch: &Path) -> PathBuf {
    let games = scratch.join("games");
    std::fs::create_dir_all(&games).unwrap();
    for entry in std::fs::read_dir(shared("clembench")).unwrap() {
        let entry = entry.unwrap();
        std::os::unix::fs::symlink(entry.path(), games.join(entry.file_name())).unwrap();
    }
    let adventure = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/adventuregame");
    std::os::unix::fs::symlink(adventure, games.join("adventuregame")).unwrap();
    games
}

fn one_of_each() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/one_of_each.json")
}

fn eval(results: &Path, extra: &[&str]) -> Output {
    eval_games(&shared("clembench"), results, extra)
}

fn eval_games(games: &Path, results: &Path, extra: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_eval-runner"));
    command.args(["eval", "--model", "default", "--games-dir"]);
    command.arg(games);
    // Defaults the test may override.
    if !extra.contains(&"--model-name") {
        command.args(["--model-name", "smollm2"]);
    }
    if !extra.contains(&"--stopwords") {
        command.arg("--stopwords").arg(shared(
            "peer-runs/smollm2-135m-q4_1/nltk_stopwords_english.txt",
        ));
    }
    command.arg("--results-dir").arg(results);
    command.args(extra);
    command.output().expect("run eval-runner")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "eval failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn val_json(results: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(results.join("smollm2.val.json")).unwrap();
    serde_json::from_str(&eval_runner::scoring::files::bare_nan_to_null(&text)).unwrap()
}

/// The folders of the episodes with a `scores.json`, i.e. the finished ones.
fn finished_episodes(results: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![results.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.file_name().unwrap() == "scores.json" {
                found.push(folder.clone());
            }
        }
    }
    found.sort();
    found
}

#[test]
fn smollm2_plays_one_instance_of_every_game_resumes_and_verifies() {
    let results = tempfile::tempdir().unwrap();
    let list = one_of_each();
    let total = implemented().count() as u64;
    let list = ["--instances", list.to_str().unwrap()];

    // One short episode first (a bbh answer), so that the cut run below has
    // something finished before however busy the machine is.
    let scratch = tempfile::tempdir().unwrap();
    let games = games_with_adventure(scratch.path());
    let bbh = scratch.path().join("bbh.json");
    std::fs::write(
        &bbh,
        r#"[{"game": "bbh", "experiment": "word_sorting", "game_id": 0}]"#,
    )
    .unwrap();
    stdout(&eval_games(&games, results.path(), &["--instances", bbh.to_str().unwrap()]));
    // Then everything, one episode at a time, with a one-second budget: the rest cannot all be played.
    let cut = stdout(&eval_games(
        &games,
        results.path(),
        &[&list[..], &["--parallel", "1", "--time-limit", "1s"]].concat(),
    ));
    assert!(cut.contains("(the time limit was reached)"), "{cut}");
    let val = val_json(results.path());
    assert_eq!(val["cut_short"], true);
    let not_played = val["episodes_not_played"].as_u64().unwrap();
    assert!((1..total).contains(&not_played), "{val}");
    assert_eq!(
        finished_episodes(results.path()).len() as u64,
        total - not_played
    );
    let verification = verify_dir(results.path()).unwrap();
    assert!(verification.verified, "{:?}", verification.mismatches);

    // Restarted without a limit, the run plays only what is missing.
    let resumed = stdout(&eval_games(&games, results.path(), &list));
    assert!(
        resumed.contains(&format!(
            "played {not_played} episodes, {} finished before, 0 not played",
            total - not_played
        )),
        "{resumed}"
    );
    let episodes = finished_episodes(results.path());
    assert_eq!(episodes.len() as u64, total);
    let val = val_json(results.path());
    assert_eq!(
        (val["cut_short"].clone(), val["episodes_not_played"].clone()),
        (false.into(), 0.into())
    );
    // With an instance list only the listed games are read: nothing is left out unnoticed.
    assert_eq!(val["games_not_implemented"], serde_json::json!([]));

    // Every implemented game played once, with clemcore's files, in its suite's folder.
    for game in implemented() {
        let suite = if STATIC.contains(&game) {
            "static"
        } else {
            "clem"
        };
        let prefix = results.path().join(suite).join("smollm2").join(game);
        let dir = episodes
            .iter()
            .find(|e| e.starts_with(&prefix))
            .unwrap_or_else(|| panic!("{game} was not played"));
        for file in [
            "instance.json",
            "interactions.json",
            "player_1.requests.json",
            "scores.json",
        ] {
            assert!(dir.join(file).is_file(), "{}: no {file}", dir.display());
        }
        let interactions: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("interactions.json")).unwrap())
                .unwrap();
        assert_eq!(interactions["meta"]["game_name"], game);
        // The keys clemcore's scorers read back: the static benchmarks' and codenames'.
        if STATIC.contains(&game) {
            assert_eq!(interactions["Request Count"], 1, "{game}");
        }
        if game == "codenames" {
            assert!(interactions["Number of turns"].is_u64(), "{interactions}");
        }
        if game == "adventuregame" {
            assert_eq!(interactions["adventure_info"]["goal_count"], 1, "{interactions}");
        }
        // The first round asks a player (codenames first notes the board).
        let first_round = interactions["turns"][0].as_array().unwrap();
        assert!(
            first_round[..2]
                .iter()
                .any(|e| e["action"]["type"] == "send message"),
            "{game}: {first_round:?}"
        );
        let requests: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("player_1.requests.json")).unwrap(),
        )
        .unwrap();
        // The prompt went through SmolLM2's own chat template.
        let prompt = requests["calls"][0]["call"]["manipulated_prompt_obj"]["inputs"]
            .as_str()
            .unwrap();
        assert!(
            prompt.starts_with("<|im_start|>system\n")
                && prompt.ends_with("<|im_start|>assistant\n"),
            "{prompt}"
        );
    }
    // ifeval generates with its own, larger token limit.
    let ifeval = episodes
        .iter()
        .find(|e| e.starts_with(results.path().join("static/smollm2/ifeval")))
        .unwrap();
    let requests: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ifeval.join("player_1.requests.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        requests["calls"][0]["call"]["manipulated_prompt_obj"]["max_new_tokens"],
        1280
    );
    for suite in ["clem", "static"] {
        let run: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(results.path().join(suite).join("smollm2/run.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            run["player_models"]["0"]["gen_args"],
            serde_json::json!({"temperature": 0.0, "max_tokens": 300})
        );
    }
    let verification = verify_dir(results.path()).unwrap();
    assert!(verification.verified, "{:?}", verification.mismatches);
    assert_eq!(
        verification.clem.unwrap().games.len(),
        implemented().count() - STATIC.len()
    );
    assert_eq!(verification.statics.unwrap().games.len(), STATIC.len());
    assert!(
        verification
            .warnings
            .iter()
            .all(|w| !w.contains("settings")),
        "{:?}",
        verification.warnings
    );

    // A third run finds nothing to do and rewrites no episode.
    let scores_before = std::fs::read_to_string(episodes[0].join("scores.json")).unwrap();
    let again = stdout(&eval_games(&games, results.path(), &list));
    assert!(
        again.contains(&format!(
            "played 0 episodes, {total} finished before, 0 not played"
        )),
        "{again}"
    );
    assert_eq!(
        std::fs::read_to_string(episodes[0].join("scores.json")).unwrap(),
        scores_before
    );
}

/// Runs on `games` with `extra` arguments expecting a refusal; returns its
/// message and checks that the results folder was not even created.
fn refused_on(games: &Path, extra: &[&str]) -> String {
    let scratch = tempfile::tempdir().unwrap();
    let results = scratch.path().join("results");
    let output = eval_games(games, &results, extra);
    assert!(!output.status.success(), "accepted {extra:?}");
    assert!(!results.exists(), "{extra:?} wrote {}", results.display());
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn refused(extra: &[&str]) -> String {
    refused_on(&shared("clembench"), extra)
}

#[test]
fn bad_input_is_refused_with_its_reason_before_anything_is_written() {
    let scratch = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = scratch.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let typo = write(
        "typo.json",
        r#"[{"game": "taboo", "experiment": "hihg_en", "game_id": 0}]"#,
    );
    let message = refused(&["--instances", &typo]);
    assert!(
        message.contains("not in the loaded games: taboo/hihg_en/0"),
        "{message}"
    );

    let not_a_list = write("object.json", r#"{"game": "taboo"}"#);
    let message = refused(&["--instances", &not_a_list]);
    assert!(
        message.contains("expected a JSON list of {\"game\", \"experiment\", \"game_id\"}"),
        "{message}"
    );

    let empty = write("empty.json", "[]");
    assert!(refused(&["--instances", &empty]).contains("the instance list is empty"));

    let message = refused(&["--model-name", "../elsewhere"]);
    assert!(
        message.contains("invalid model name \"../elsewhere\""),
        "{message}"
    );

    let message = refused(&["--time-limit", "two hours"]);
    assert!(
        message.contains("write it like 2h, 90m, 1h30m or 45s"),
        "{message}"
    );

    let message = refused(&["--parallel", "0"]);
    assert!(
        message.contains("--parallel must be at least 1"),
        "{message}"
    );

    // taboo with an unusable stopword list.
    let empty_stopwords = write("stopwords.txt", "\n");
    let message = refused(&["--stopwords", &empty_stopwords, "--suite", "clem"]);
    assert!(message.contains("the stopword list is empty"), "{message}");

    // codenames without WordNet's nouns.
    let no_wordnet = scratch.path().join("no-wordnet");
    std::fs::create_dir_all(&no_wordnet).unwrap();
    let message = refused(&["--wordnet", no_wordnet.to_str().unwrap(), "--suite", "clem"]);
    assert!(
        message.contains("codenames: needs a WordNet 3.0 dictionary folder (with index.noun and noun.exc): give --wordnet DIR; looked in"),
        "{message}"
    );

    // codenames with rule flags other than clembench 2.0's.
    let codenames = scratch.path().join("flags/codenames");
    std::fs::create_dir_all(codenames.join("in")).unwrap();
    let source = shared("clembench/codenames");
    std::fs::copy(source.join("clemgame.json"), codenames.join("clemgame.json")).unwrap();
    let text = std::fs::read_to_string(source.join("in/instances.json")).unwrap();
    let reprompting = text.replacen("\"REPROMPT ON ERROR\": false", "\"REPROMPT ON ERROR\": true", 1);
    assert_ne!(reprompting, text);
    std::fs::write(codenames.join("in/instances.json"), reprompting).unwrap();
    let message = refused_on(&scratch.path().join("flags"), &[]);
    assert!(
        message.contains("instances.json: experiment risk_low: only clembench 2.0's rule flags are played"),
        "{message}"
    );

    // A game whose instances file is broken is named with the file and the experiment.
    let games = scratch.path().join("games/taboo");
    std::fs::create_dir_all(games.join("in")).unwrap();
    std::fs::copy(
        shared("clembench/taboo/clemgame.json"),
        games.join("clemgame.json"),
    )
    .unwrap();
    std::fs::write(
        games.join("in/instances.json"),
        r#"{"experiments": [{"name": "high_en", "game_instances": []}]}"#,
    )
    .unwrap();
    let message = refused_on(&scratch.path().join("games"), &[]);
    assert!(
        message.contains("instances.json: experiment high_en: missing field `max_turns`"),
        "{message}"
    );

    // A results folder that cannot be written: the run stops with the reason.
    let a_file = write("not-a-folder", "");
    let output = eval(
        Path::new(&a_file),
        &[
            "--instances",
            &write(
                "bbh.json",
                r#"[{"game": "bbh", "experiment": "word_sorting", "game_id": 0}]"#,
            ),
        ],
    );
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        message.contains(&format!("cannot write into {a_file}")),
        "{message}"
    );
    assert_eq!(std::fs::read_to_string(&a_file).unwrap(), "");

    // An instance list that cannot be read, and a game without its instances file.
    let message = refused(&["--instances", "/nonexistent/list.json"]);
    assert!(
        message.contains("cannot read /nonexistent/list.json"),
        "{message}"
    );
    let bare = scratch.path().join("bare/wordle");
    std::fs::create_dir_all(&bare).unwrap();
    std::fs::copy(
        shared("clembench/wordle/clemgame.json"),
        bare.join("clemgame.json"),
    )
    .unwrap();
    let message = refused_on(&scratch.path().join("bare"), &[]);
    assert!(
        message.contains("in/instances.json: the game's instances file is missing"),
        "{message}"
    );

    // A results folder made with other settings is not resumed, and is left as it was.
    let earlier = scratch.path().join("earlier");
    let run_json = earlier.join("clem/smollm2/run.json");
    std::fs::create_dir_all(run_json.parent().unwrap()).unwrap();
    let settings =
        r#"{"player_models": {"0": {"gen_args": {"temperature": 0.0, "max_tokens": 100}}}}"#;
    std::fs::write(&run_json, settings).unwrap();
    let output = eval(&earlier, &["--suite", "clem"]);
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        message.contains("generated with temperature 0 and max_tokens 100, this run asks for temperature 0 and max_tokens 300"),
        "{message}"
    );
    assert_eq!(std::fs::read_to_string(&run_json).unwrap(), settings);
    assert_eq!(
        std::fs::read_dir(&earlier).unwrap().count(),
        1,
        "nothing written beside the earlier run"
    );

    let message = refused_on(Path::new("/nonexistent/clembench"), &[]);
    assert!(
        message.contains("--games-dir /nonexistent/clembench: no such folder"),
        "{message}"
    );
}

#[test]
fn games_it_cannot_play_are_named_in_the_val_json() {
    // A games folder with one bbh question and a game this evaluator does not implement.
    let scratch = tempfile::tempdir().unwrap();
    let games = scratch.path().join("games");
    let bbh = games.join("static/bbh");
    std::fs::create_dir_all(bbh.join("in")).unwrap();
    std::fs::copy(shared("clembench/static/bbh/clemgame.json"), bbh.join("clemgame.json")).unwrap();
    let sample: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(shared("clembench/static/bbh/in/instances_sample.json")).unwrap(),
    )
    .unwrap();
    let mut experiment = sample["experiments"][0].clone();
    let first = experiment["game_instances"][0].clone();
    experiment["game_instances"] = serde_json::json!([first]);
    let one = serde_json::json!({"experiments": [experiment]});
    std::fs::write(bbh.join("in/instances.json"), one.to_string()).unwrap();
    let unknown = games.join("escaperoom");
    std::fs::create_dir_all(&unknown).unwrap();
    std::fs::write(unknown.join("clemgame.json"), r#"{"game_name": "escaperoom"}"#).unwrap();

    let results = scratch.path().join("results");
    let output = eval_games(&games, &results, &[]);
    stdout(&output);
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("not implemented, skipped: escaperoom"), "{message}");
    let val = val_json(&results);
    assert_eq!(val["games_not_implemented"], serde_json::json!(["escaperoom"]));
    assert_eq!(val["episodes_not_played"], 0);
}

/// Copies the test adventure into `games/adventuregame` and changes one of its files.
fn broken_adventure(scratch: &Path, file: &str, change: impl FnOnce(String) -> String) -> PathBuf {
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/adventuregame");
    let games = scratch.join("games");
    let mut folders = vec![PathBuf::new()];
    while let Some(relative) = folders.pop() {
        std::fs::create_dir_all(games.join("adventuregame").join(&relative)).unwrap();
        for entry in std::fs::read_dir(source.join(&relative)).unwrap() {
            let entry = entry.unwrap();
            let inner = relative.join(entry.file_name());
            if entry.path().is_dir() {
                folders.push(inner);
            } else {
                std::fs::copy(entry.path(), games.join("adventuregame").join(inner)).unwrap();
            }
        }
    }
    let path = games.join("adventuregame").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    std::fs::write(&path, change(text)).unwrap();
    games
}

#[test]
fn an_adventure_whose_definitions_cannot_be_read_is_refused_with_its_reason() {
    type Case = (&'static str, fn(String) -> String, &'static str);
    let cases: [Case; 8] = [
        (
            "resources/definitions/workshop_actions.json",
            |text| text.replacen("(closed ?e))", "(closed ?e)", 1),
            "experiment workshop_basic instance 0: action open: unexpected end: a ')' is missing",
        ),
        (
            "resources/definitions/workshop_actions.json",
            |text| text.replacen("TAKE thing", "TAKE THING", 1),
            "the command grammar: rule take uses 'THING', which is not defined",
        ),
        (
            "resources/definitions/workshop_rooms.json",
            |_| "{\"type_name\": \"yard\"}".to_string(),
            "room_definitions file workshop_rooms.json is not a list of definitions",
        ),
        (
            "in/instances.json",
            |text| text.replacen("\"at(player1,yard1)\"", "\"at(player1,yard1\"", 1),
            "fact 'at(player1,yard1' does not end with ')'",
        ),
        (
            "resources/grammar_core.json",
            |_| "{\"grammar_head\": \"\"}".to_string(),
            "resources/grammar_core.json has no \"grammar_foot\"",
        ),
        (
            "resources/definitions/workshop_events.json",
            |text| text.replacen("(:event GUST", "(:event GUST :parameters", 1),
            "experiment workshop_events instance 0: event yard_gust: expected a parenthesised list, found ':parameters'",
        ),
        (
            "resources/definitions/workshop_domain.json",
            |_| "{\"domain\": \"workshop\"}".to_string(),
            "the domain is neither {\"pddl_domain\": ...} nor parsed types",
        ),
        (
            "resources/definitions/workshop_actions.json",
            |text| text.replacen("\"success_feedback\": \"You stop here.\",", "", 1),
            "an action definition: missing field `success_feedback`",
        ),
    ];
    for (file, change, expected) in cases {
        let scratch = tempfile::tempdir().unwrap();
        let games = broken_adventure(scratch.path(), file, change);
        let message = refused_on(&games, &[]);
        assert!(message.contains(expected), "{file}: {message}");
    }
    // A definitions file that is not there is named.
    let scratch = tempfile::tempdir().unwrap();
    let games = broken_adventure(scratch.path(), "resources/definitions/workshop_domain.json", |t| t);
    std::fs::remove_file(games.join("adventuregame/resources/definitions/workshop_domain.json")).unwrap();
    let message = refused_on(&games, &[]);
    assert!(message.contains("definitions/workshop_domain.json: No such file"), "{message}");
}
