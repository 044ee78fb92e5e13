//! codenames: Player 1 (the cluegiver) sees which board words are its
//! team's, the opponent's, distractors or kill words, and gives a one-word
//! clue with its targets ("CLUE: …" / "TARGETS: …"); Player 2 (the guesser)
//! sees only the hidden words, the clue and how many targets it has, and
//! guesses ("GUESS: a, b"). Guessed words are revealed in order until one is
//! not the team's. After each round a scripted opponent reveals some of its
//! own words. The team wins when all its words are revealed and loses when
//! the opponent's are, or when it reveals a kill word. Any rule broken aborts
//! the episode. Main Score: 100 for a win, 0 for a loss.

use super::python_random::PythonRandom;
use super::wordnet::NounLemmatizer;
use super::{
    harmonic_mean, note, note_structured, ratio, round_to, Details, Episode, GameError, Player,
    Responder, Scores,
};
use regex::Regex;
use serde::Deserialize;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::LazyLock;

#[derive(Clone, Debug, Deserialize)]
pub struct Experiment {
    pub name: String,
    pub variable: String,
    /// How many of its words the opponent reveals after each round.
    #[serde(rename = "opponent difficulty")]
    pub opponent_difficulty: usize,
    pub assignments: Counts,
    pub flags: Flags,
    pub game_instances: Vec<Instance>,
}

/// How many words of each kind a board of the experiment has.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct Counts {
    pub team: usize,
    pub opponent: usize,
    pub innocent: usize,
    pub assassin: usize,
}

/// The game's rule switches. clembench 2.0 runs every experiment with the
/// same ones, and those are the rules played here.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub struct Flags {
    #[serde(rename = "IGNORE RAMBLING")]
    pub ignore_rambling: bool,
    #[serde(rename = "IGNORE FALSE TARGETS OR GUESSES")]
    pub ignore_false_targets_or_guesses: bool,
    #[serde(rename = "REPROMPT ON ERROR")]
    pub reprompt_on_error: bool,
    #[serde(rename = "STRIP WORDS")]
    pub strip_words: bool,
    #[serde(rename = "IGNORE NUMBER OF TARGETS")]
    pub ignore_number_of_targets: bool,
}

const BENCHMARK_FLAGS: Flags = Flags {
    ignore_rambling: false,
    ignore_false_targets_or_guesses: false,
    reprompt_on_error: false,
    strip_words: true,
    ignore_number_of_targets: false,
};

#[derive(Clone, Debug, Deserialize)]
pub struct Instance {
    /// Every word, in the order the guesser sees them.
    pub board: Vec<String>,
    pub assignments: Assignments,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Assignments {
    pub team: Vec<String>,
    pub opponent: Vec<String>,
    pub innocent: Vec<String>,
    pub assassin: Vec<String>,
}

/// clembench seeds Python's `random` with this before the opponent's first move.
const SEED: u32 = 42;

/// Trimmed from the ends of clues, targets and guesses.
const STRIPPED: &[char] = &[' ', '.', ',', '<', '>', '"', '\''];
/// Also trimmed from a clue once it is valid.
const NUMBER_STRIPPED: &[char] = &[' ', ',', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

const CLUE_PREFIX: &str = "CLUE: ";
const TARGETS_PREFIX: &str = "TARGETS: ";
const GUESS_PREFIX: &str = "GUESS: ";

/// Guessed words per round that make a perfectly efficient game.
const EXPECTED_WORDS_PER_ROUND: f64 = 2.0;

/// Refuses experiments with other rule switches than clembench 2.0's.
pub fn check_flags(experiments: &[Experiment]) -> Result<(), String> {
    match experiments.iter().find(|e| e.flags != BENCHMARK_FLAGS) {
        None => Ok(()),
        Some(e) => Err(format!(
            "experiment {}: only clembench 2.0's rule flags are played (STRIP WORDS on, every other flag off), not {:?}",
            e.name, e.flags
        )),
    }
}

/// The prompt templates the game master reads from the game's `resources`
/// (Python `string.Template`s).
#[derive(Clone, Debug)]
pub struct Prompts {
    cluegiver_first: String,
    guesser_first: String,
    cluegiver_later: String,
    guesser_later: String,
}

impl Prompts {
    pub fn read(game_dir: &Path) -> Result<Self, String> {
        let read = |folder: &str, role: &str| {
            let path = game_dir
                .join("resources")
                .join(folder)
                .join(format!("prompt_{role}.template"));
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
        };
        Ok(Self {
            cluegiver_first: read("initial_prompts", "cluegiver")?,
            guesser_first: read("initial_prompts", "guesser")?,
            cluegiver_later: read("intermittent_prompts", "cluegiver")?,
            guesser_later: read("intermittent_prompts", "guesser")?,
        })
    }
}

/// Python's `string.Template(template).substitute(values)`.
fn substitute(template: &str, values: &[(&str, String)]) -> Result<String, GameError> {
    static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\$(?:(\$)|([_a-zA-Z][_a-zA-Z0-9]*)|\{([_a-zA-Z][_a-zA-Z0-9]*)\})")
            .expect("valid")
    });
    let mut missing = None;
    let filled = PLACEHOLDER.replace_all(template, |c: &regex::Captures| {
        if c.get(1).is_some() {
            return "$".to_string();
        }
        let name = c.get(2).or(c.get(3)).map_or("", |m| m.as_str());
        match values.iter().find(|(key, _)| *key == name) {
            Some((_, value)) => value.clone(),
            None => {
                missing.get_or_insert_with(|| name.to_string());
                String::new()
            }
        }
    });
    match missing {
        Some(name) => Err(GameError::Instance(format!(
            "a codenames template names ${name}, which the game does not fill"
        ))),
        None => Ok(filled.into_owned()),
    }
}

/// What a board word is, in the order clembench's board keeps them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Team,
    Innocent,
    Opponent,
    Assassin,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Team, Kind::Innocent, Kind::Opponent, Kind::Assassin];

    fn name(self) -> &'static str {
        match self {
            Kind::Team => "team",
            Kind::Innocent => "innocent",
            Kind::Opponent => "opponent",
            Kind::Assassin => "assassin",
        }
    }
}

/// Who revealed a word.
#[derive(Clone, Copy)]
enum Side {
    Team = 0,
    Opponent = 1,
}

struct Board<'a> {
    order: &'a [String],
    hidden: [Vec<String>; 4],
    /// By side, then by kind.
    revealed: [[Vec<String>; 4]; 2],
}

impl<'a> Board<'a> {
    fn new(instance: &'a Instance) -> Self {
        let a = &instance.assignments;
        Self {
            order: &instance.board,
            hidden: [
                a.team.clone(),
                a.innocent.clone(),
                a.opponent.clone(),
                a.assassin.clone(),
            ],
            revealed: Default::default(),
        }
    }

    fn hidden(&self, kind: Kind) -> &[String] {
        &self.hidden[kind as usize]
    }

    /// The hidden words in board order.
    fn all_hidden(&self) -> Vec<String> {
        self.order
            .iter()
            .filter(|w| self.kind_of(w).is_some())
            .cloned()
            .collect()
    }

    fn kind_of(&self, word: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| self.hidden(*k).iter().any(|w| w == word))
    }

    fn revealed_by_team(&self) -> Vec<String> {
        self.revealed[Side::Team as usize].concat()
    }

    fn reveal(&mut self, word: &str, side: Side) -> Option<Kind> {
        let kind = self.kind_of(word)?;
        self.hidden[kind as usize].retain(|w| w != word);
        self.revealed[side as usize][kind as usize].push(word.to_string());
        Some(kind)
    }

    fn status(&self) -> Value {
        let by_kind = |lists: &[Vec<String>; 4]| {
            Value::Object(
                Kind::ALL
                    .iter()
                    .map(|k| (k.name().to_string(), json!(lists[*k as usize])))
                    .collect(),
            )
        };
        json!({
            "hidden": by_kind(&self.hidden),
            "revealed": {"team": by_kind(&self.revealed[0]), "opponent": by_kind(&self.revealed[1])},
        })
    }

    /// The end conditions in clembench's order.
    fn end(&self) -> Option<End> {
        if self.hidden(Kind::Team).is_empty() {
            Some(End::TeamWon)
        } else if self.hidden(Kind::Opponent).is_empty() {
            Some(End::OpponentWon)
        } else if !self.revealed[Side::Opponent as usize][Kind::Assassin as usize].is_empty() {
            Some(End::TeamWonThroughAssassin)
        } else if !self.revealed[Side::Team as usize][Kind::Assassin as usize].is_empty() {
            Some(End::OpponentWonThroughAssassin)
        } else {
            None
        }
    }

    fn cluegiver_prompt(&self, template: &str) -> Result<String, GameError> {
        let words = |kind| self.hidden(kind).join(", ");
        substitute(
            template,
            &[
                ("team_words", words(Kind::Team)),
                ("opponent_words", words(Kind::Opponent)),
                ("innocent_words", words(Kind::Innocent)),
                ("assassin_words", words(Kind::Assassin)),
            ],
        )
    }

    fn guesser_prompt(&self, template: &str, clue: &Clue) -> Result<String, GameError> {
        substitute(
            template,
            &[
                ("board", self.all_hidden().join(", ")),
                ("clue", clue.word.clone()),
                ("number", clue.targets.len().to_string()),
            ],
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    TeamWon,
    OpponentWon,
    TeamWonThroughAssassin,
    OpponentWonThroughAssassin,
}

impl End {
    fn message(self) -> &'static str {
        match self {
            End::TeamWon => "team has won",
            End::OpponentWon => "opponent has won",
            End::TeamWonThroughAssassin => "team has won through assassin",
            End::OpponentWonThroughAssassin => "opponent has won through assassin",
        }
    }

    fn lost(self) -> bool {
        matches!(self, End::OpponentWon | End::OpponentWonThroughAssassin)
    }

    fn through_assassin(self) -> bool {
        matches!(
            self,
            End::TeamWonThroughAssassin | End::OpponentWonThroughAssassin
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Cluegiver = 0,
    Guesser = 1,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Cluegiver => "Cluegiver",
            Role::Guesser => "Guesser",
        }
    }
}

/// A reply that breaks the rules, as the "validation error" event records it.
struct Invalid {
    /// Whose error it counts as.
    role: Role,
    kind: &'static str,
    utterance: String,
    message: String,
    details: Vec<(&'static str, Value)>,
}

impl Invalid {
    fn new(role: Role, kind: &'static str, utterance: &str, message: String) -> Self {
        Self {
            role,
            kind,
            utterance: utterance.to_string(),
            message,
            details: Vec::new(),
        }
    }

    fn with(mut self, key: &'static str, value: impl serde::Serialize) -> Self {
        self.details.push((key, json!(value)));
        self
    }

    fn record(&self) -> Value {
        let mut record = serde_json::Map::new();
        record.insert("player".into(), json!(self.role.name()));
        record.insert("type".into(), json!(self.kind));
        record.insert("utterance".into(), json!(self.utterance));
        record.insert("message".into(), json!(self.message));
        for (key, value) in &self.details {
            record.insert(key.to_string(), value.clone());
        }
        Value::Object(record)
    }
}

/// A valid clue and its targets.
struct Clue {
    word: String,
    targets: Vec<String>,
}

/// Inserts the space clembench expects after every comma that lacks one.
fn space_after_commas(text: &str) -> String {
    let mut spaced = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        spaced.push(c);
        if c == ',' && chars.peek().is_some_and(|next| !next.is_whitespace()) {
            spaced.push(' ');
        }
    }
    spaced
}

fn line_starting_with<'t>(lines: &[&'t str], prefix: &str) -> Option<&'t str> {
    lines.iter().copied().find(|line| line.starts_with(prefix))
}

/// Splits a comma-separated list, trimming and lowercasing its words, and
/// counts the words that needed trimming (the "strip words" rule engaged).
fn word_list(text: &str, stripped: &mut usize) -> Vec<String> {
    text.split(", ")
        .map(|word| {
            if word.contains(STRIPPED) {
                *stripped += 1;
            }
            word.trim_matches(STRIPPED).to_lowercase()
        })
        .collect()
}

/// Checks the cluegiver's reply against the board and returns its clue.
fn check_clue(
    reply: &str,
    board: &Board,
    nouns: &NounLemmatizer,
    stripped: &mut usize,
) -> Result<Clue, Invalid> {
    static NUMBER_OF_TARGETS: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(", [0-9]+").expect("valid"));
    let cluegiver = Role::Cluegiver;
    let utterance = space_after_commas(reply);
    let lines: Vec<&str> = utterance.split('\n').collect();
    if lines.len() > 2 {
        let message = "Give only two lines: the clue and the targets.".to_string();
        return Err(Invalid::new(
            cluegiver,
            "rambling error",
            &utterance,
            message,
        ));
    }
    let missing = |prefix: &str, what: &str| {
        Invalid::new(
            cluegiver,
            "prefix error",
            &utterance,
            format!("The {what} must start with '{prefix}'."),
        )
        .with("prefix", prefix)
    };
    let clue_line =
        line_starting_with(&lines, CLUE_PREFIX).ok_or_else(|| missing(CLUE_PREFIX, "clue"))?;
    let targets_line = line_starting_with(&lines, TARGETS_PREFIX)
        .ok_or_else(|| missing(TARGETS_PREFIX, "targets"))?;

    let mut clue = clue_line[CLUE_PREFIX.len()..].to_lowercase();
    if clue.contains(STRIPPED) {
        *stripped += 1;
        clue = clue.trim_matches(STRIPPED).to_string();
    }
    if NUMBER_OF_TARGETS.is_match(&clue) {
        // clembench counts this error against the guesser.
        let message = "Give the clue word alone, without the number of targets.".to_string();
        return Err(Invalid::new(
            Role::Guesser,
            "clue line contains the number of targets",
            &utterance,
            message,
        )
        .with("clue", &clue));
    }
    let targets = word_list(&targets_line[TARGETS_PREFIX.len()..], stripped);
    if clue.contains(' ') {
        let message = format!("The clue '{clue}' is more than one word.");
        return Err(
            Invalid::new(cluegiver, "clue contains spaces", &utterance, message)
                .with("clue", &clue),
        );
    }
    let remaining = board.all_hidden();
    // The lemma check also catches a clue that is itself a board word.
    let clue_lemma = nouns.lemmatize(&clue);
    if let Some(similar) = remaining
        .iter()
        .find(|word| nouns.lemmatize(word) == clue_lemma)
    {
        let message = format!("The clue '{clue}' is a form of the board word '{similar}'.");
        return Err(Invalid::new(
            cluegiver,
            "clue is morphologically related to word on the board",
            &utterance,
            message,
        )
        .with("clue", &clue)
        .with("similar_board_word", similar));
    }
    check_board_words(&TARGETS, &targets, &utterance, board, None)?;
    // The clue as the guesser gets it: trimmed of numbers too.
    let word = clue_line[CLUE_PREFIX.len()..]
        .to_lowercase()
        .trim_matches(STRIPPED)
        .trim_matches(NUMBER_STRIPPED)
        .to_string();
    Ok(Clue { word, targets })
}

/// How the errors about a list of board words (targets or guesses) name them.
struct BoardWords {
    role: Role,
    /// The word's key in the error record ("target", "guess").
    word: &'static str,
    /// The key of the words the team has revealed.
    previous: &'static str,
    /// The error types: a revealed word, a word not on the board, a word named twice.
    repeated: &'static str,
    hallucinated: &'static str,
    doubled: &'static str,
}

const TARGETS: BoardWords = BoardWords {
    role: Role::Cluegiver,
    word: "target",
    previous: "previous_targets",
    repeated: "target was already guessed",
    hallucinated: "target is hallucination",
    doubled: "target appears more than once in utterance",
};

const GUESSES: BoardWords = BoardWords {
    role: Role::Guesser,
    word: "guess",
    previous: "previous_guesses",
    repeated: "guess was already guessed",
    hallucinated: "guess word is hallucination",
    doubled: "guess appears more than once in utterance",
};

/// Checks each word in turn: not the clue (for guesses), still hidden, named once.
fn check_board_words(
    kind: &BoardWords,
    words: &[String],
    utterance: &str,
    board: &Board,
    clue: Option<&str>,
) -> Result<(), Invalid> {
    let (what, role) = (kind.word, kind.role);
    let remaining = board.all_hidden();
    let revealed = board.revealed_by_team();
    for word in words {
        if let Some(clue) = clue.filter(|clue| clue == word) {
            let message = format!("The {what} '{word}' is the clue itself.");
            return Err(Invalid::new(role, "guess is clue word", utterance, message)
                .with(what, word)
                .with("clue", clue));
        }
        if !remaining.contains(word) {
            return Err(if revealed.contains(word) {
                let message = format!("The {what} '{word}' has already been revealed.");
                Invalid::new(role, kind.repeated, utterance, message)
                    .with(what, word)
                    .with(kind.previous, &revealed)
            } else {
                let message = format!("The {what} '{word}' is not one of the hidden words.");
                Invalid::new(role, kind.hallucinated, utterance, message)
                    .with(what, word)
                    .with(kind.previous, &revealed)
                    .with("remaining_words", &remaining)
            });
        }
        if words.iter().filter(|w| *w == word).count() > 1 {
            let message = format!("The {what} '{word}' is named more than once.");
            return Err(Invalid::new(role, kind.doubled, utterance, message)
                .with(what, word)
                .with("remaining_words", &remaining));
        }
    }
    Ok(())
}

/// Checks the guesser's reply and returns its guesses in order.
fn check_guesses(
    reply: &str,
    board: &Board,
    clue: &Clue,
    stripped: &mut usize,
) -> Result<Vec<String>, Invalid> {
    let guesser = Role::Guesser;
    let utterance = space_after_commas(reply);
    if utterance.contains('\n') {
        let message = "Give your guesses on one line.".to_string();
        return Err(Invalid::new(guesser, "rambling error", &utterance, message));
    }
    let Some(listed) = utterance.strip_prefix(GUESS_PREFIX) else {
        let message = format!("The guesses must start with '{GUESS_PREFIX}'.");
        return Err(
            Invalid::new(guesser, "prefix error", &utterance, message).with("prefix", GUESS_PREFIX)
        );
    };
    let guesses = word_list(listed, stripped);
    let allowed = clue.targets.len();
    if guesses.len() > allowed {
        let message = format!(
            "{} guesses were made where at most {allowed} are allowed.",
            guesses.len()
        );
        return Err(
            Invalid::new(guesser, "wrong number of guesses", listed, message)
                .with("guesses", &guesses)
                .with("number_of_allowed_guesses", allowed),
        );
    }
    check_board_words(&GUESSES, &guesses, listed, board, Some(&clue.word))?;
    Ok(guesses)
}

/// "The words a, b were guessed correctly. " and the like: what both players are told after the guesses.
fn guess_feedback(revealed: &[(String, Kind)]) -> String {
    let correct = |words: &[(String, Kind)]| match words {
        [] => String::new(),
        [(word, _)] => format!("The word {word} was guessed correctly. "),
        several => {
            let words: Vec<&str> = several.iter().map(|(w, _)| w.as_str()).collect();
            format!("The words {} were guessed correctly. ", words.join(", "))
        }
    };
    match revealed.split_last() {
        Some(((_, Kind::Team), _)) | None => correct(revealed),
        Some(((word, kind), before)) => {
            format!(
                "{}The word {word} was guessed but is an {} word. ",
                correct(before),
                kind.name()
            )
        }
    }
}

/// What one round counted, for its turn scores.
#[derive(Debug, Default)]
struct Tally {
    /// The team's hidden words as the round began.
    team_words_left: usize,
    errors: [usize; 2],
    targeted: [usize; 4],
    guesses: Vec<String>,
    revealed: [usize; 4],
    revealed_targets: usize,
}

/// How the episode went, for its episode scores.
struct Outcome {
    aborted: bool,
    end: Option<End>,
    /// clembench's "Number of turns" (one more than the rounds when the game ends between rounds).
    turns: usize,
    requests: usize,
    parsed: usize,
    violated: usize,
    /// Replies whose words needed trimming, by role.
    stripped: [usize; 2],
    revealed_team_words: usize,
    /// Non-team words the team revealed.
    mistakes: usize,
    board_at_end: Value,
}

/// What the game needs beyond its instances: its prompts and WordNet's nouns.
pub struct Materials {
    pub prompts: Prompts,
    pub nouns: NounLemmatizer,
}

pub fn play(
    experiment: &Experiment,
    instance: &Instance,
    materials: &Materials,
    model: &mut dyn Responder,
) -> Result<Episode, GameError> {
    let prompts = &materials.prompts;
    let mut board = Board::new(instance);
    // Seeded per episode, so an episode's opponent does not depend on what else the run played.
    let mut opponent = PythonRandom::seeded(SEED);
    let (mut cluegiver, mut guesser) = (Player::new(1), Player::new(2));
    let mut turns = Vec::new();
    let mut tallies = Vec::new();
    let (mut requests, mut parsed, mut violated) = (0, 0, 0);
    let mut stripped = [0, 0];
    let mut cluegiver_context = board.cluegiver_prompt(&prompts.cluegiver_first)?;
    // What the guesser was last told, to which the next clue is added.
    let mut guesser_feedback: Option<String> = None;
    let mut rounds_done = 0;
    let (aborted, end) = loop {
        let mut round = Vec::new();
        let mut tally = Tally {
            team_words_left: board.hidden(Kind::Team).len(),
            ..Default::default()
        };
        note_structured(&mut round, "board status", board.status());

        let reply = cluegiver.ask(&cluegiver_context, model, &mut round)?;
        requests += 1;
        let clue = match check_clue(&reply, &board, &materials.nouns, &mut stripped[0]) {
            Ok(clue) => clue,
            Err(invalid) => {
                violated += 1;
                tally.errors[invalid.role as usize] += 1;
                note_structured(&mut round, "validation error", invalid.record());
                turns.push(round);
                tallies.push(tally);
                break (true, None);
            }
        };
        parsed += 1;
        note(&mut round, "clue", &clue.word);
        note_structured(&mut round, "targets", json!(clue.targets));
        for target in &clue.targets {
            let kind = board.kind_of(target).expect("targets are hidden words");
            tally.targeted[kind as usize] += 1;
            note_structured(
                &mut round,
                "word targeted",
                json!({"word": target, "assignment": kind.name()}),
            );
        }
        let guesser_context = match guesser_feedback.take() {
            None => board.guesser_prompt(&prompts.guesser_first, &clue)?,
            Some(feedback) => format!(
                "{feedback}\n{}",
                board.guesser_prompt(&prompts.guesser_later, &clue)?
            ),
        };

        let reply = guesser.ask(&guesser_context, model, &mut round)?;
        requests += 1;
        let aborted = match check_guesses(&reply, &board, &clue, &mut stripped[1]) {
            Err(invalid) => {
                violated += 1;
                tally.errors[invalid.role as usize] += 1;
                note_structured(&mut round, "validation error", invalid.record());
                true
            }
            Ok(guesses) => {
                parsed += 1;
                note_structured(&mut round, "guesses", json!(guesses));
                let mut revealed = Vec::new();
                for guess in &guesses {
                    let kind = board
                        .reveal(guess, Side::Team)
                        .expect("guesses are hidden words");
                    tally.revealed[kind as usize] += 1;
                    let record = json!({"word": guess, "assignment": kind.name()});
                    note_structured(&mut round, "team revealed", record.clone());
                    if clue.targets.contains(guess) {
                        tally.revealed_targets += 1;
                        note_structured(&mut round, "target revealed", record);
                    }
                    revealed.push((guess.clone(), kind));
                    if kind != Kind::Team {
                        note(&mut round, "turn end after", guess);
                        break;
                    }
                }
                tally.guesses = guesses;
                let feedback = guess_feedback(&revealed);
                guesser_feedback = Some(format!("{feedback}Your turn ended there."));
                let next_clue = board.cluegiver_prompt(&prompts.cluegiver_later)?;
                cluegiver_context =
                    format!("{feedback}Your teammate's turn ended there.\n{next_clue}");
                false
            }
        };

        // The round is over: clembench checks the board, lets the opponent
        // move if the game goes on, and checks again; an end found by the
        // first check is logged by both.
        let mut end = None;
        if !aborted {
            end = board.end();
            if let Some(found) = end {
                note(&mut round, "game end", found.message());
            } else {
                let hidden = board.hidden(Kind::Opponent).to_vec();
                for word in
                    opponent.sample(&hidden, experiment.opponent_difficulty.min(hidden.len()))
                {
                    let kind = board
                        .reveal(&word, Side::Opponent)
                        .expect("the opponent reveals hidden words");
                    note_structured(
                        &mut round,
                        "opponent revealed",
                        json!({"word": word, "assignment": kind.name()}),
                    );
                }
                end = board.end();
            }
            if let Some(found) = end {
                note(&mut round, "game end", found.message());
            }
        }
        turns.push(round);
        tallies.push(tally);
        rounds_done += 1;
        if aborted || end.is_some() {
            break (aborted, end);
        }
    };
    let revealed = &board.revealed[Side::Team as usize];
    let outcome = Outcome {
        aborted,
        end,
        turns: rounds_done + 1,
        requests,
        parsed,
        violated,
        stripped,
        revealed_team_words: revealed[Kind::Team as usize].len(),
        mistakes: revealed[1..].iter().map(Vec::len).sum(),
        board_at_end: board.status(),
    };
    Ok(score(experiment, turns, &tallies, &outcome))
}

const TURN_SCORES: [&str; 13] = [
    "Cluegiver Number of Targets",
    "Cluegiver Team Precision",
    "Cluegiver Team Recall",
    "Cluegiver Team F1",
    "Guesser Number of Guesses",
    "Guesser Number of Revealed Words",
    "Guesser Number of Unrevealed Guesses",
    "Guesser Target Precision",
    "Guesser Target Recall",
    "Guesser Target F1",
    "Guesser Team Precision",
    "Guesser Team Recall",
    "Guesser Team F1",
];

/// The round's tallies as clembench's scorer logs them under "turn".
fn tally_record(tally: &Tally) -> Value {
    let counts = |counts: &[usize; 4]| {
        let [team, innocent, opponent, assassin] = *counts;
        (
            team,
            opponent,
            innocent,
            assassin,
            counts.iter().sum::<usize>(),
        )
    };
    let (team, opponent, innocent, assassin, total) = counts(&tally.targeted);
    let targeted = json!({"team": team, "opponent": opponent, "innocent": innocent, "assassin": assassin, "total": total});
    let (team, opponent, innocent, assassin, total) = counts(&tally.revealed);
    json!({
        "Cluegiver": {"validation error": tally.errors[0]},
        "Guesser": {"validation error": tally.errors[1]},
        "targeted": targeted,
        "guesses": tally.guesses,
        "revealed": {"target": tally.revealed_targets, "team": team, "opponent": opponent, "innocent": innocent, "assassin": assassin, "total": total},
    })
}

/// The 13 turn scores of a round, in [`TURN_SCORES`] order (before rounding).
fn turn_values(tally: &Tally) -> [f64; 13] {
    let targets: usize = tally.targeted.iter().sum();
    let team_targets = tally.targeted[Kind::Team as usize];
    let cluegiver_precision = ratio(team_targets as f64, targets as f64);
    let cluegiver_recall = ratio(team_targets as f64, tally.team_words_left as f64);
    let guesses = tally.guesses.len();
    let revealed: usize = tally.revealed.iter().sum();
    let revealed_team = tally.revealed[Kind::Team as usize];
    let target_precision = ratio(tally.revealed_targets as f64, revealed as f64);
    let target_recall = ratio(tally.revealed_targets as f64, targets as f64);
    let team_precision = ratio(revealed_team as f64, revealed as f64);
    let team_recall = ratio(revealed_team as f64, tally.team_words_left as f64);
    [
        targets as f64,
        cluegiver_precision,
        cluegiver_recall,
        harmonic_mean(cluegiver_precision, cluegiver_recall),
        guesses as f64,
        revealed as f64,
        guesses as f64 - revealed as f64,
        target_precision,
        target_recall,
        harmonic_mean(target_precision, target_recall),
        team_precision,
        team_recall,
        harmonic_mean(team_precision, team_recall),
    ]
}

fn score(
    experiment: &Experiment,
    turns: Vec<Vec<super::Event>>,
    tallies: &[Tally],
    outcome: &Outcome,
) -> Episode {
    let round3 = |value: f64| round_to(value, 3);
    let mut turn_scores = Vec::new();
    let mut turn_details = Vec::new();
    let mut rounded = Vec::new();
    for (index, tally) in tallies.iter().enumerate() {
        let values = turn_values(tally).map(round3);
        let mut scores: Scores = vec![
            ("Cluegiver validation error".into(), tally.errors[0] as f64),
            ("Guesser validation error".into(), tally.errors[1] as f64),
        ];
        scores.extend(
            TURN_SCORES
                .iter()
                .zip(values)
                .map(|(name, value)| (name.to_string(), value)),
        );
        turn_scores.push((index, scores));
        turn_details.push((index, vec![("turn".to_string(), tally_record(tally))]));
        rounded.push(values);
    }

    let episode_details: Details = vec![
        ("experiment variable".into(), json!(experiment.variable)),
        ("experiment name".into(), json!(experiment.name)),
    ];
    let mut episode: Scores = vec![
        ("Cluegiver strip words".into(), outcome.stripped[0] as f64),
        ("Guesser strip words".into(), outcome.stripped[1] as f64),
    ];
    for (i, name) in TURN_SCORES.iter().enumerate() {
        let mean = rounded.iter().map(|values| values[i]).sum::<f64>() / rounded.len() as f64;
        episode.push((format!("Average {name}"), round3(mean)));
    }
    let lost = !outcome.aborted && outcome.end.is_some_and(End::lost);
    let success = !outcome.aborted && !lost;
    let counts = experiment.assignments;
    let guessed: f64 = rounded.iter().map(|values| values[4]).sum();
    let efficiency = (guessed / outcome.turns as f64 / EXPECTED_WORDS_PER_ROUND).min(1.0);
    let flag = |on: bool| if on { 1.0 } else { 0.0 };
    episode.extend([
        ("Aborted".into(), flag(outcome.aborted)),
        ("Lose".into(), flag(lost)),
        ("Success".into(), flag(success)),
        (
            "Game ended through assassin".into(),
            flag(outcome.end.is_some_and(End::through_assassin)),
        ),
        (
            "Episode Recall".into(),
            round3(ratio(
                outcome.revealed_team_words as f64,
                counts.team as f64,
            )),
        ),
        (
            "Episode Negative Recall".into(),
            round3(
                1.0 - ratio(
                    outcome.mistakes as f64,
                    (counts.opponent + counts.innocent + counts.assassin) as f64,
                ),
            ),
        ),
        ("Number of turns".into(), outcome.turns as f64),
        ("Efficiency".into(), round3(efficiency)),
        ("Request Count".into(), outcome.requests as f64),
        ("Parsed Request Count".into(), outcome.parsed as f64),
        ("Violated Request Count".into(), outcome.violated as f64),
        (
            "Request Success Ratio".into(),
            round3(ratio(outcome.parsed as f64, outcome.requests as f64)),
        ),
        (
            "Main Score".into(),
            if outcome.aborted {
                f64::NAN
            } else {
                100.0 * flag(success)
            },
        ),
    ]);
    Episode {
        turns,
        turn_scores,
        episode_scores: episode,
        turn_details,
        episode_details,
        keys: logged_keys(outcome, lost),
    }
}

/// What clembench's game master logs at the end, for its scorer to read back.
fn logged_keys(outcome: &Outcome, lost: bool) -> Details {
    // How often each rule flag was engaged, in the experiments' flag order; only STRIP WORDS is on.
    let engaged = |stripped: usize| {
        json!({
            "IGNORE RAMBLING": 0,
            "IGNORE FALSE TARGETS OR GUESSES": 0,
            "REPROMPT ON ERROR": 0,
            "STRIP WORDS": stripped,
            "IGNORE NUMBER OF TARGETS": 0,
        })
    };
    vec![
        ("board end status".into(), outcome.board_at_end.clone()),
        ("Number of turns".into(), json!(outcome.turns)),
        ("Aborted".into(), json!(outcome.aborted)),
        ("Lose".into(), json!(lost)),
        (
            "Game ended through assassin".into(),
            json!(outcome.end.is_some_and(End::through_assassin)),
        ),
        ("Request Count".into(), json!(outcome.requests)),
        ("Parsed Request Count".into(), json!(outcome.parsed)),
        ("Violated Request Count".into(), json!(outcome.violated)),
        (
            "Cluegiver engaged flags".into(),
            engaged(outcome.stripped[0]),
        ),
        ("Guesser engaged flags".into(), engaged(outcome.stripped[1])),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_as_python_fills_them() {
        let values = [("clue", "sea".to_string()), ("number", "2".to_string())];
        assert_eq!(
            substitute("'$clue' up to ${number} words, $$5", &values).unwrap(),
            "'sea' up to 2 words, $5"
        );
        let error = substitute("$board", &values).unwrap_err();
        assert_eq!(
            error.to_string(),
            "a codenames template names $board, which the game does not fill"
        );
    }

    #[test]
    fn a_missing_prompt_template_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let error = Prompts::read(dir.path()).unwrap_err();
        let missing = dir.path().join("resources/initial_prompts/prompt_cluegiver.template");
        assert!(error.starts_with(&format!("{}: ", missing.display())), "{error}");
    }

    #[test]
    fn commas_get_their_space() {
        assert_eq!(
            space_after_commas("GUESS: a,b, c,\nd,"),
            "GUESS: a, b, c,\nd,"
        );
    }

    #[test]
    fn feedback_names_the_correct_guesses_and_the_one_that_ended_the_turn() {
        let team = |w: &str| (w.to_string(), Kind::Team);
        assert_eq!(
            guess_feedback(&[team("sea")]),
            "The word sea was guessed correctly. "
        );
        assert_eq!(
            guess_feedback(&[team("sea"), team("ship")]),
            "The words sea, ship were guessed correctly. "
        );
        assert_eq!(
            guess_feedback(&[team("sea"), ("bar".to_string(), Kind::Innocent)]),
            "The word sea was guessed correctly. The word bar was guessed but is an innocent word. "
        );
        assert_eq!(
            guess_feedback(&[("ice".to_string(), Kind::Assassin)]),
            "The word ice was guessed but is an assassin word. "
        );
    }

    #[test]
    fn only_the_benchmark_flags_are_played() {
        let experiment = |flags: Flags| Experiment {
            name: "risky".into(),
            variable: "Risk".into(),
            opponent_difficulty: 1,
            assignments: Counts {
                team: 1,
                opponent: 1,
                innocent: 0,
                assassin: 0,
            },
            flags,
            game_instances: Vec::new(),
        };
        assert!(check_flags(&[experiment(BENCHMARK_FLAGS)]).is_ok());
        let reprompting = Flags {
            reprompt_on_error: true,
            ..BENCHMARK_FLAGS
        };
        let error =
            check_flags(&[experiment(BENCHMARK_FLAGS), experiment(reprompting)]).unwrap_err();
        assert!(
            error.starts_with("experiment risky: only clembench 2.0's rule flags are played"),
            "{error}"
        );
    }
}
