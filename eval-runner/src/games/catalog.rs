//! The games of a clembench checkout: found by their `clemgame.json`, read
//! from their instances file, and played episode by episode. A game is in the
//! static suite when its folder lies under a `static` folder, as clembench's
//! benchmarks do; every other game is a clemgame.

use super::wordnet::NounLemmatizer;
use super::{
    adventuregame, codenames, eqbench, guesswhat, ifeval, imagegame, matchit_ascii, privateshared, referencegame,
    single_turn, taboo, textmapworld, wordle, Episode, GameError, Responder,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Suite {
    Clem,
    Static,
}

impl Suite {
    /// The results folder of the suite, as `playpen eval` names it.
    pub fn folder(self) -> &'static str {
        match self {
            Self::Clem => "clem",
            Self::Static => "static",
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct CatalogError {
    pub file: String,
    pub message: String,
}

/// A problem with what a game reads beside its instances, named by the game.
fn game_error(game: &'static str) -> impl Fn(String) -> CatalogError {
    move |message| CatalogError {
        file: game.to_string(),
        message,
    }
}

fn error(file: &Path, message: impl Into<String>) -> CatalogError {
    CatalogError {
        file: file.display().to_string(),
        message: message.into(),
    }
}

/// One experiment of an instances file, kept as read for the results files.
#[derive(Clone, Debug)]
pub struct Experiment {
    pub name: String,
    /// The experiment's keys other than its instances (`experiment.json`).
    pub config: serde_json::Map<String, Value>,
    /// Each instance as read (`instance.json`); each has a `game_id`.
    pub instances: Vec<Value>,
}

/// A game, ready to play any of its instances.
pub struct Game {
    pub name: String,
    pub suite: Suite,
    /// The game's folder (`run.json` reports it).
    pub path: PathBuf,
    /// The players' roles in order, from `clemgame.json`.
    pub roles: Vec<String>,
    pub experiments: Vec<Experiment>,
    /// The least max_tokens its episodes generate with (ifeval raises it to its `max_gen_toks`).
    pub min_max_tokens: Option<usize>,
    master: Box<dyn Master>,
}

impl Game {
    /// Plays instance `instance` of experiment `experiment` with `model` in every role.
    pub fn play(
        &self,
        experiment: usize,
        instance: usize,
        model: &mut dyn Responder,
    ) -> Result<Episode, GameError> {
        self.master.play(experiment, instance, model)
    }

    pub fn game_id(&self, experiment: usize, instance: usize) -> Option<u64> {
        self.experiments[experiment].instances[instance]
            .get("game_id")?
            .as_u64()
    }
}

/// A game's rules over its typed experiments.
trait Master: Send + Sync {
    fn play(
        &self,
        experiment: usize,
        instance: usize,
        model: &mut dyn Responder,
    ) -> Result<Episode, GameError>;
}

/// Experiments with `game_instances`, the shape every game's instances take.
trait WithInstances {
    type Instance;
    fn instances(&self) -> &[Self::Instance];
}

macro_rules! with_instances {
    ($($experiment:ty => $instance:ty),*) => {$(
        impl WithInstances for $experiment {
            type Instance = $instance;
            fn instances(&self) -> &[$instance] {
                &self.game_instances
            }
        }
    )*};
}

with_instances!(
    taboo::Experiment => taboo::Instance,
    wordle::Experiment => wordle::Instance,
    matchit_ascii::Experiment => matchit_ascii::Instance,
    guesswhat::Experiment => guesswhat::Instance,
    codenames::Experiment => codenames::Instance,
    single_turn::Experiment => single_turn::Instance
);

impl<I> WithInstances for super::Instances<I> {
    type Instance = I;
    fn instances(&self) -> &[I] {
        &self.game_instances
    }
}

/// A game master as a function of its experiment and instance.
struct Rules<E, F> {
    experiments: Vec<E>,
    play: F,
}

impl<E, F> Master for Rules<E, F>
where
    E: WithInstances + Send + Sync,
    F: Fn(&E, &E::Instance, &mut dyn Responder) -> Result<Episode, GameError> + Send + Sync,
{
    fn play(
        &self,
        experiment: usize,
        instance: usize,
        model: &mut dyn Responder,
    ) -> Result<Episode, GameError> {
        let experiment = &self.experiments[experiment];
        (self.play)(experiment, &experiment.instances()[instance], model)
    }
}

fn rules<E, F>(experiments: Vec<E>, play: F) -> Box<dyn Master>
where
    E: WithInstances + Send + Sync + 'static,
    F: Fn(&E, &E::Instance, &mut dyn Responder) -> Result<Episode, GameError>
        + Send
        + Sync
        + 'static,
{
    Box::new(Rules { experiments, play })
}

/// What some games need beyond their folder.
#[derive(Clone, Debug, Default)]
pub struct Resources {
    /// taboo: NLTK's English stopword list, one word per line.
    pub stopwords: Option<PathBuf>,
    /// codenames: a WordNet 3.0 dictionary folder (with `index.noun` and `noun.exc`).
    pub wordnet: Option<PathBuf>,
}

/// An entry of `clemgame.json` (a single object or a list of them).
#[derive(Debug, Deserialize)]
struct GameSpec {
    game_name: String,
    /// The instances file's name in `in/`, without `.json`.
    #[serde(default = "default_instances")]
    instances: String,
    #[serde(default)]
    roles: Vec<String>,
}

fn default_instances() -> String {
    "instances".to_string()
}

/// Every game named in a `clemgame.json` under `games_dir`, by name, with its folder.
fn discover(games_dir: &Path) -> Result<BTreeMap<String, (PathBuf, GameSpec)>, CatalogError> {
    let mut found = BTreeMap::new();
    let mut folders = vec![(games_dir.to_path_buf(), 0)];
    while let Some((folder, depth)) = folders.pop() {
        let entries = std::fs::read_dir(&folder)
            .map_err(|e| error(&folder, format!("cannot read the folder: {e}")))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() && depth < 3 {
                folders.push((path, depth + 1));
            } else if path.file_name().is_some_and(|n| n == "clemgame.json") {
                let text =
                    std::fs::read_to_string(&path).map_err(|e| error(&path, e.to_string()))?;
                let value: Value =
                    serde_json::from_str(&text).map_err(|e| error(&path, e.to_string()))?;
                let specs = match value {
                    Value::Array(list) => list,
                    single => vec![single],
                };
                for spec in specs {
                    let spec: GameSpec =
                        serde_json::from_value(spec).map_err(|e| error(&path, e.to_string()))?;
                    found.insert(spec.game_name.clone(), (folder.clone(), spec));
                }
            }
        }
    }
    if found.is_empty() {
        return Err(error(
            games_dir,
            "no clemgame.json found: is this a clembench checkout?",
        ));
    }
    Ok(found)
}

/// The implemented games of `games_dir` in `suites` (only those named in
/// `only`, when given), in name order, and the names of the games found
/// there that cannot be played yet.
pub fn load(
    games_dir: &Path,
    suites: &[Suite],
    only: Option<&HashSet<&str>>,
    resources: &Resources,
) -> Result<(Vec<Game>, Vec<String>), CatalogError> {
    let mut games = Vec::new();
    let mut unsupported = Vec::new();
    for (name, (path, spec)) in discover(games_dir)? {
        let suite = if path
            .strip_prefix(games_dir)
            .is_ok_and(|p| p.components().any(|c| c.as_os_str() == "static"))
        {
            Suite::Static
        } else {
            Suite::Clem
        };
        if !suites.contains(&suite) || only.is_some_and(|names| !names.contains(name.as_str())) {
            continue;
        }
        let Some((_, build)) = GAMES.iter().find(|(implemented, _)| *implemented == name) else {
            unsupported.push(name);
            continue;
        };
        let file = instances_file(&path, &spec.instances)?;
        let source = read_experiments(file)?;
        let master = build(&source, resources)?;
        let min_max_tokens = (name == "ifeval")
            .then(|| max_gen_toks(&source.raw))
            .flatten();
        let experiments = source.raw.into_iter().map(split_experiment).collect();
        games.push(Game {
            name,
            suite,
            path,
            roles: spec.roles,
            experiments,
            min_max_tokens,
            master,
        });
    }
    Ok((games, unsupported))
}

/// The largest `meta.generation_kwargs.max_gen_toks` of the experiments.
fn max_gen_toks(raw: &[Value]) -> Option<usize> {
    raw.iter()
        .filter_map(|e| e.pointer("/meta/generation_kwargs/max_gen_toks")?.as_u64())
        .max()
        .map(|n| n as usize)
}

/// `in/<name>.json`, or the `_sample` file clembench ships for its largest sets.
fn instances_file(game_dir: &Path, name: &str) -> Result<PathBuf, CatalogError> {
    let file = game_dir.join("in").join(format!("{name}.json"));
    let sample = game_dir.join("in").join(format!("{name}_sample.json"));
    match (file.is_file(), sample.is_file()) {
        (true, _) => Ok(file),
        (false, true) => Ok(sample),
        (false, false) => Err(error(&file, "the game's instances file is missing")),
    }
}

/// An instances file's experiments as JSON values, in the file's key order:
/// read into each game's types, and kept for the results files.
struct InstancesFile {
    path: PathBuf,
    raw: Vec<Value>,
}

impl InstancesFile {
    /// The game's folder: the instances file lies in its `in/`.
    fn game_dir(&self) -> &Path {
        self.path
            .parent()
            .and_then(Path::parent)
            .unwrap_or(Path::new("."))
    }
}

fn read_experiments(path: PathBuf) -> Result<InstancesFile, CatalogError> {
    let text = std::fs::read_to_string(&path).map_err(|e| error(&path, e.to_string()))?;
    let mut value: Value = serde_json::from_str(&text).map_err(|e| error(&path, e.to_string()))?;
    match value.get_mut("experiments").map(Value::take) {
        Some(Value::Array(raw)) => Ok(InstancesFile { path, raw }),
        _ => Err(error(&path, "expected {\"experiments\": [...]}")),
    }
}

fn split_experiment(mut raw: Value) -> Experiment {
    let instances = match raw.get_mut("game_instances").map(Value::take) {
        Some(Value::Array(list)) => list,
        _ => Vec::new(),
    };
    let config = match raw {
        Value::Object(mut map) => {
            map.remove("game_instances");
            map
        }
        _ => serde_json::Map::new(),
    };
    let name = config
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Experiment {
        name,
        config,
        instances,
    }
}

/// The experiments in the game's own types, read from their JSON values
/// (which keep the file's key order); a missing or mistyped key names its experiment.
fn typed<E: DeserializeOwned>(source: &InstancesFile) -> Result<Vec<E>, CatalogError> {
    source
        .raw
        .iter()
        .enumerate()
        .map(|(i, experiment)| {
            E::deserialize(experiment).map_err(|e| {
                let name = experiment
                    .get("name")
                    .and_then(Value::as_str)
                    .map_or_else(|| format!("#{i}"), str::to_string);
                error(&source.path, format!("experiment {name}: {e}"))
            })
        })
        .collect()
}

/// How a game's master is built from its instances file and the resources it needs.
type Build = fn(&InstancesFile, &Resources) -> Result<Box<dyn Master>, CatalogError>;

/// The games this evaluator can play, each with how its master is built.
const GAMES: &[(&str, Build)] = &[
    ("taboo", |source, resources| {
        let stopwords = read_stopwords(resources)?;
        Ok(rules(typed::<taboo::Experiment>(source)?, move |e, i, m| {
            taboo::play(e, i, &stopwords, m)
        }))
    }),
    ("wordle", |source, _| {
        Ok(rules(typed::<wordle::Experiment>(source)?, |e, i, m| {
            wordle::play(wordle::Variant::Plain, e, i, m)
        }))
    }),
    ("wordle_withclue", |source, _| {
        Ok(rules(typed::<wordle::Experiment>(source)?, |e, i, m| {
            wordle::play(wordle::Variant::WithClue, e, i, m)
        }))
    }),
    ("wordle_withcritic", |source, _| {
        Ok(rules(typed::<wordle::Experiment>(source)?, |e, i, m| {
            wordle::play(wordle::Variant::WithCritic, e, i, m)
        }))
    }),
    ("referencegame", |source, _| {
        Ok(rules(typed::<referencegame::Experiment>(source)?, |_, i, m| {
            referencegame::play(i, m)
        }))
    }),
    ("imagegame", |source, _| {
        Ok(rules(typed::<imagegame::Experiment>(source)?, |_, i, m| {
            imagegame::play(i, m)
        }))
    }),
    ("matchit_ascii", |source, _| {
        Ok(rules(typed::<matchit_ascii::Experiment>(source)?, |e, i, m| {
            matchit_ascii::play(e, i, m)
        }))
    }),
    ("guesswhat", |source, _| {
        Ok(rules(typed::<guesswhat::Experiment>(source)?, |e, i, m| {
            guesswhat::play(e, i, m)
        }))
    }),
    ("privateshared", |source, _| {
        let names: Vec<&str> = source
            .raw
            .iter()
            .filter_map(|e| e.get("name")?.as_str())
            .collect();
        let texts = privateshared::Texts::read(source.game_dir(), &names)
            .map_err(game_error("privateshared"))?;
        Ok(rules(
            typed::<privateshared::Experiment>(source)?,
            move |e, i, m| privateshared::play(&texts, e, i, m),
        ))
    }),
    ("codenames", |source, resources| {
        let experiments = typed::<codenames::Experiment>(source)?;
        codenames::check_flags(&experiments).map_err(|message| error(&source.path, message))?;
        let prompts =
            codenames::Prompts::read(source.game_dir()).map_err(game_error("codenames"))?;
        let materials = codenames::Materials {
            prompts,
            nouns: read_wordnet(resources)?,
        };
        Ok(rules(experiments, move |e, i, m| {
            codenames::play(e, i, &materials, m)
        }))
    }),
    ("textmapworld", |source, _| {
        Ok(rules(typed::<textmapworld::Experiment>(source)?, |_, i, m| {
            textmapworld::play(textmapworld::Variant::Explore, i, m)
        }))
    }),
    ("textmapworld_specificroom", |source, _| {
        Ok(rules(typed::<textmapworld::Experiment>(source)?, |_, i, m| {
            textmapworld::play(textmapworld::Variant::SpecificRoom, i, m)
        }))
    }),
    ("textmapworld_graphreasoning", |source, _| {
        Ok(rules(typed::<textmapworld::Experiment>(source)?, |_, i, m| {
            textmapworld::play(textmapworld::Variant::GraphReasoning, i, m)
        }))
    }),
    ("adventuregame", |source, _| {
        let experiments = typed::<adventuregame::Experiment>(source)?;
        let library = adventuregame::Library::read(source.game_dir(), &experiments)
            .map_err(|message| error(&source.path, message))?;
        Ok(rules(experiments, move |_, i, m| {
            adventuregame::play(i, &library, m)
        }))
    }),
    ("bbh", |source, _| single(single_turn::Benchmark::Bbh, source)),
    ("cladder", |source, _| single(single_turn::Benchmark::Cladder, source)),
    ("eqbench", |source, _| {
        Ok(rules(typed::<eqbench::Experiment>(source)?, |_, i, m| {
            eqbench::play(i, m)
        }))
    }),
    ("ifeval", |source, _| {
        Ok(rules(typed::<ifeval::Experiment>(source)?, |_, i, m| {
            ifeval::play(i, m)
        }))
    }),
    ("mmlu_pro", |source, _| single(single_turn::Benchmark::MmluPro, source)),
];

/// The names of the games this evaluator can play.
pub fn implemented() -> impl Iterator<Item = &'static str> {
    GAMES.iter().map(|(name, _)| *name)
}

fn single(
    benchmark: single_turn::Benchmark,
    source: &InstancesFile,
) -> Result<Box<dyn Master>, CatalogError> {
    Ok(rules(
        typed::<single_turn::Experiment>(source)?,
        move |e, i, m| single_turn::play(benchmark, e, i, m),
    ))
}

/// Where NLTK keeps its data: `$NLTK_DATA`, `~/nltk_data` and the system folders.
fn nltk_data(relative: &str) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = std::env::var_os("NLTK_DATA")
        .map(|v| std::env::split_paths(&v).collect())
        .unwrap_or_default();
    roots.extend(std::env::var_os("HOME").map(|home| PathBuf::from(home).join("nltk_data")));
    roots.extend(["/usr/share/nltk_data", "/usr/local/share/nltk_data"].map(PathBuf::from));
    roots.into_iter().map(|root| root.join(relative)).collect()
}

fn not_found(game: &'static str, what: &str, tried: &[PathBuf]) -> CatalogError {
    let tried: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
    game_error(game)(format!("needs {what}; looked in {}", tried.join(", ")))
}

/// NLTK's English stopwords: the given file, else where NLTK keeps its data.
fn read_stopwords(resources: &Resources) -> Result<HashSet<String>, CatalogError> {
    let candidates = match &resources.stopwords {
        Some(path) => vec![path.clone()],
        None => nltk_data("corpora/stopwords/english"),
    };
    let Some(path) = candidates.iter().find(|p| p.is_file()) else {
        let what = "NLTK's English stopword list (one word per line): give --stopwords FILE";
        return Err(not_found("taboo", what, &candidates));
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(path, e.to_string()))?;
    let words: HashSet<String> = text
        .lines()
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    if words.is_empty() {
        return Err(error(path, "the stopword list is empty"));
    }
    Ok(words)
}

/// WordNet's nouns: the given folder, else NLTK's copy, else Debian's `wordnet-base`.
fn read_wordnet(resources: &Resources) -> Result<NounLemmatizer, CatalogError> {
    let candidates = match &resources.wordnet {
        Some(dir) => vec![dir.clone()],
        None => {
            let mut dirs = nltk_data("corpora/wordnet");
            dirs.push(PathBuf::from("/usr/share/wordnet"));
            dirs
        }
    };
    let Some(dir) = candidates.iter().find(|d| d.join("index.noun").is_file()) else {
        let what =
            "a WordNet 3.0 dictionary folder (with index.noun and noun.exc): give --wordnet DIR";
        return Err(not_found("codenames", what, &candidates));
    };
    NounLemmatizer::read(dir).map_err(game_error("codenames"))
}

/// One (game, experiment, game_id) to play, as an instance list names it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub struct Selected {
    pub game: String,
    pub experiment: String,
    pub game_id: u64,
}

/// One episode to play: indices into the games, their experiments and instances.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EpisodeRef {
    pub game: usize,
    pub experiment: usize,
    pub instance: usize,
}

/// The episodes to play: every instance, or those the list selects. A listed
/// triple that names no instance is an error, so a typo never shrinks a run.
pub fn episodes(games: &[Game], selection: Option<&[Selected]>) -> Result<Vec<EpisodeRef>, String> {
    let mut all = Vec::new();
    for (g, game) in games.iter().enumerate() {
        for (e, experiment) in game.experiments.iter().enumerate() {
            for i in 0..experiment.instances.len() {
                all.push(EpisodeRef {
                    game: g,
                    experiment: e,
                    instance: i,
                });
            }
        }
    }
    let Some(selection) = selection else {
        return Ok(all);
    };
    let key = |r: &EpisodeRef| {
        let game = &games[r.game];
        (
            game.name.as_str(),
            game.experiments[r.experiment].name.as_str(),
            game.game_id(r.experiment, r.instance),
        )
    };
    let wanted: HashSet<(&str, &str, Option<u64>)> = selection
        .iter()
        .map(|s| (s.game.as_str(), s.experiment.as_str(), Some(s.game_id)))
        .collect();
    let chosen: Vec<EpisodeRef> = all
        .into_iter()
        .filter(|r| wanted.contains(&key(r)))
        .collect();
    let found: HashSet<(&str, &str, Option<u64>)> = chosen.iter().map(key).collect();
    let missing: Vec<String> = selection
        .iter()
        .filter(|s| !found.contains(&(s.game.as_str(), s.experiment.as_str(), Some(s.game_id))))
        .map(|s| format!("{}/{}/{}", s.game, s.experiment, s.game_id))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "the instance list names instances that are not in the loaded games: {}",
            missing.join(", ")
        ));
    }
    Ok(chosen)
}

/// Orders episodes so that the games take turns, and a short run still plays some of each.
pub fn interleave(episodes: Vec<EpisodeRef>) -> Vec<EpisodeRef> {
    let mut by_game: BTreeMap<usize, std::collections::VecDeque<EpisodeRef>> = BTreeMap::new();
    for episode in episodes {
        by_game.entry(episode.game).or_default().push_back(episode);
    }
    let mut ordered = Vec::new();
    while by_game.values().any(|queue| !queue.is_empty()) {
        for queue in by_game.values_mut() {
            ordered.extend(queue.pop_front());
        }
    }
    ordered
}
