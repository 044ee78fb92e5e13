//! adventuregame: a text adventure. The model reads what it perceives and
//! answers with one command ("> take the plate"); an interpreter of the
//! adventure's PDDL actions resolves it, fires the events it sets off, and
//! describes the result. The goal is
//! a set of facts to bring about (the plate on the table); the episode ends
//! when the model says "> done", at the turn limit, or on a reply without its
//! ">" (in the planning variant, also without "Next actions:" and its plan).
//! Main Score is the share of goals achieved at the end (0-100); every
//! command's failure kind and what the player came to know are scored too.

mod command;
mod pddl;
mod world;

use super::{
    note, note_structured, python_str, Episode, Event, GameError, OrderedMap, Player, Responder,
    Scores,
};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;
use world::{Adventure, Goals, World};

/// The game master reads only the experiment's instances.
pub type Experiment = super::Instances<Instance>;

#[derive(Clone, Debug, Deserialize)]
pub struct Instance {
    pub game_id: u64,
    /// "basic", or "plan" for the variant that also asks for the next actions.
    pub variant: String,
    pub prompt: String,
    pub initial_state: Vec<String>,
    pub goal_state: Vec<String>,
    pub max_turns: usize,
    pub optimal_turns: i64,
    /// Each a file name in `resources/definitions/` or the definition itself.
    pub action_definitions: Vec<Value>,
    pub room_definitions: Vec<Value>,
    pub entity_definitions: Vec<Value>,
    pub domain_definitions: Vec<Value>,
    #[serde(default)]
    pub event_definitions: Vec<Value>,
}

/// An action as the definitions write it.
#[derive(Clone, Debug, Deserialize)]
pub struct ActionDefinition {
    pub type_name: String,
    /// The action's rules of the command grammar, in Lark's notation.
    pub lark: String,
    pub pddl: String,
    pub pddl_parameter_mapping: OrderedMap<Vec<String>>,
    pub failure_feedback: FailureFeedback,
    pub success_feedback: String,
    #[serde(default)]
    pub epistemic: bool,
    #[serde(default)]
    pub pragmatic: bool,
}

/// An event as the definitions write it.
#[derive(Clone, Debug, Deserialize)]
pub struct EventDefinition {
    pub type_name: String,
    pub pddl: String,
    pub event_feedback: String,
    #[serde(default)]
    pub randomize: Option<Randomize>,
}

/// After it fires, an event's target (`initial_value` at first) is replaced by
/// a random instance of `replace_type`, not one of `not_replacer`.
#[derive(Clone, Debug, Deserialize)]
pub struct Randomize {
    pub initial_value: String,
    pub replace_type: String,
    #[serde(default)]
    pub not_replacer: Vec<String>,
}

/// Per parameter and per precondition fact, in order: the feedback template and its failure kind.
#[derive(Clone, Debug, Deserialize)]
pub struct FailureFeedback {
    pub parameters: Vec<(String, String)>,
    pub precondition: Vec<(String, String)>,
}

/// The domain: its PDDL types and functions, and which predicates an entity's description tells.
#[derive(Clone, Debug)]
pub struct Domain {
    pub pddl: pddl::Domain,
    pub mutable_states: Vec<String>,
}

/// Everything one adventure is defined by, its files resolved.
pub struct Definitions {
    entities: Vec<Map<String, Value>>,
    rooms: Vec<Map<String, Value>>,
    actions: Vec<ActionDefinition>,
    events: Vec<EventDefinition>,
    domain: Domain,
    grammar_head: String,
    grammar_foot: String,
}

impl Definitions {
    /// The command grammar: the shared head, one rule naming every action, each
    /// action's rules, the adjectives the entities may carry, the shared foot.
    fn grammar(&self) -> String {
        let rules: Vec<&str> = self
            .actions
            .iter()
            .map(|action| action.lark.as_str())
            .collect();
        let names: Vec<&str> = rules
            .iter()
            .map(|rules| rules.split(':').next().unwrap_or_default().trim())
            .collect();
        let mut adjectives: Vec<String> = Vec::new();
        for definition in &self.entities {
            for adjective in definition
                .get("possible_adjs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let quoted = format!("\"{}\"", adjective.as_str().unwrap_or_default());
                if !adjectives.contains(&quoted) {
                    adjectives.push(quoted);
                }
            }
        }
        format!(
            "{}action: {} | unknown\n{}\nADJ.1: ({}) WS\n{}",
            self.grammar_head,
            names.join(" | "),
            rules.join("\n"),
            adjectives.join(" | "),
            self.grammar_foot
        )
    }
}

/// The game's resource files the instances name, read once, and the
/// adventures they define, each built once.
pub struct Library {
    grammar_head: String,
    grammar_foot: String,
    /// `resources/definitions/<name>` by name.
    files: HashMap<String, Value>,
    /// By the definitions an instance names ([`definitions_key`]).
    adventures: HashMap<String, Arc<Adventure>>,
}

/// What sets an instance's adventure apart: the definitions it names.
fn definitions_key(instance: &Instance) -> String {
    json!([
        instance.action_definitions,
        instance.room_definitions,
        instance.entity_definitions,
        instance.domain_definitions,
        instance.event_definitions,
    ])
    .to_string()
}

impl Library {
    /// Reads `resources/grammar_core.json` and every definitions file the
    /// instances name, and checks that each instance can be set up.
    pub fn read(game_dir: &Path, experiments: &[Experiment]) -> Result<Self, String> {
        let resources = game_dir.join("resources");
        let read_json = |path: &Path| -> Result<Value, String> {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
        };
        let core = read_json(&resources.join("grammar_core.json"))?;
        let part = |key: &str| {
            core.get(key)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| format!("resources/grammar_core.json has no \"{key}\""))
        };
        let mut library = Self {
            grammar_head: part("grammar_head")?,
            grammar_foot: part("grammar_foot")?,
            files: HashMap::new(),
            adventures: HashMap::new(),
        };
        for experiment in experiments {
            for instance in &experiment.game_instances {
                let named = [
                    &instance.action_definitions,
                    &instance.room_definitions,
                    &instance.entity_definitions,
                    &instance.domain_definitions,
                    &instance.event_definitions,
                ];
                for name in named.into_iter().flatten().filter_map(Value::as_str) {
                    if !library.files.contains_key(name) {
                        let file = read_json(&resources.join("definitions").join(name))?;
                        library.files.insert(name.to_string(), file);
                    }
                }
                let checked = library.adventure(instance).and_then(|adventure| {
                    library
                        .adventures
                        .insert(definitions_key(instance), Arc::clone(&adventure));
                    World::new(instance, adventure).map(drop)
                });
                checked.map_err(|e| {
                    format!(
                        "experiment {} instance {}: {e}",
                        experiment.name, instance.game_id
                    )
                })?;
            }
        }
        Ok(library)
    }

    /// The instance's adventure: built at load, or now for an instance the
    /// library was not read with.
    fn adventure(&self, instance: &Instance) -> Result<Arc<Adventure>, String> {
        match self.adventures.get(&definitions_key(instance)) {
            Some(adventure) => Ok(Arc::clone(adventure)),
            None => Ok(Arc::new(Adventure::new(&self.definitions(instance)?)?)),
        }
    }

    /// The instance's definitions, each file-named list read from its file.
    fn definitions(&self, instance: &Instance) -> Result<Definitions, String> {
        let entries = |list: &[Value], what: &str| -> Result<Vec<Value>, String> {
            let mut entries = Vec::new();
            for entry in list {
                match entry {
                    Value::String(name) => match self.files.get(name) {
                        Some(Value::Array(items)) => entries.extend(items.iter().cloned()),
                        _ => {
                            return Err(format!("{what} file {name} is not a list of definitions"))
                        }
                    },
                    Value::Object(_) => entries.push(entry.clone()),
                    other => {
                        return Err(format!(
                            "{what} entry {other} is neither a file name nor a definition"
                        ))
                    }
                }
            }
            Ok(entries)
        };
        let objects = |list: Vec<Value>, what: &str| -> Result<Vec<Map<String, Value>>, String> {
            list.into_iter()
                .map(|entry| match entry {
                    Value::Object(map) => Ok(map),
                    other => Err(format!("a {what} definition is not an object: {other}")),
                })
                .collect()
        };
        let actions = entries(&instance.action_definitions, "action_definitions")?
            .into_iter()
            .map(|entry| {
                ActionDefinition::deserialize(&entry)
                    .map_err(|e| format!("an action definition: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let events = entries(&instance.event_definitions, "event_definitions")?
            .iter()
            .map(|entry| {
                EventDefinition::deserialize(entry).map_err(|e| format!("an event definition: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let domain = match instance.domain_definitions.first() {
            Some(Value::String(name)) => self.files.get(name).cloned().unwrap_or_default(),
            Some(inline) => inline.clone(),
            None => return Err("no domain_definitions".into()),
        };
        Ok(Definitions {
            entities: objects(
                entries(&instance.entity_definitions, "entity_definitions")?,
                "entity",
            )?,
            rooms: objects(
                entries(&instance.room_definitions, "room_definitions")?,
                "room",
            )?,
            actions,
            events,
            domain: read_domain(&domain)?,
            grammar_head: self.grammar_head.clone(),
            grammar_foot: self.grammar_foot.clone(),
        })
    }
}

/// A domain file (`pddl_domain`, optional `mutable_states`), or a domain
/// given already parsed (`types`, `functions`, `predicates`).
fn read_domain(domain: &Value) -> Result<Domain, String> {
    if let Some(text) = domain.get("pddl_domain").and_then(Value::as_str) {
        let mutable_states = match domain.get("mutable_states") {
            Some(states) => {
                Vec::<String>::deserialize(states).map_err(|e| format!("mutable_states: {e}"))?
            }
            None => ["open", "closed", "at", "in", "on"]
                .map(str::to_string)
                .to_vec(),
        };
        let pddl = pddl::Domain::read(text).map_err(|e| format!("the domain: {e}"))?;
        return Ok(Domain {
            pddl,
            mutable_states,
        });
    }
    #[derive(Deserialize)]
    struct Parsed {
        types: OrderedMap<Vec<String>>,
        #[serde(default)]
        functions: Vec<ParsedFunction>,
        #[serde(default)]
        predicates: Vec<ParsedPredicate>,
    }
    #[derive(Deserialize)]
    struct ParsedFunction {
        function_def_predicate: String,
        function_def_type: String,
    }
    #[derive(Deserialize)]
    struct ParsedPredicate {
        predicate_id: String,
    }
    let parsed = Parsed::deserialize(domain).map_err(|e| {
        format!("the domain is neither {{\"pddl_domain\": ...}} nor parsed types: {e}")
    })?;
    Ok(Domain {
        pddl: pddl::Domain {
            types: parsed.types.0,
            functions: parsed
                .functions
                .into_iter()
                .map(|f| pddl::Function {
                    name: f.function_def_predicate,
                    of: f.function_def_type,
                })
                .collect(),
        },
        mutable_states: parsed
            .predicates
            .into_iter()
            .map(|p| p.predicate_id)
            .collect(),
    })
}

/// A list of strings as Python's `str()` prints it.
fn python_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| python_str(item)).collect();
    format!("[{}]", quoted.join(", "))
}

/// The game master's state between turns.
struct Referee<'a> {
    instance: &'a Instance,
    required: BTreeSet<String>,
    goals: Goals,
    invalid_format: Option<&'static str>,
    finished: bool,
    model_done: bool,
    turns_played: usize,
}

impl Referee<'_> {
    /// Whether play goes on, noting why it stops (and a finished adventure) each time it is asked.
    fn proceeds(&mut self, round: &mut Vec<Event>) -> bool {
        if let Some(kind) = self.invalid_format {
            note(round, "invalid_format", kind);
            return false;
        }
        if let Goals::Named(names) = &self.goals {
            if names.iter().cloned().collect::<BTreeSet<_>>() == self.required {
                self.finished = true;
                note_structured(round, "adventure_finished", json!(names));
            }
        }
        let max_turns = self.instance.max_turns;
        if self.turns_played >= max_turns {
            note(
                round,
                "turn_limit_reached",
                &format!("Turn limit {max_turns} reached, end episode."),
            );
            return false;
        }
        if self.model_done {
            let text = format!(
                "Model produced DONE action at turn {}, end episode.",
                self.turns_played
            );
            note(round, "model_done", &text);
            return false;
        }
        true
    }

    /// Checks the reply's form; false (and why) when the episode must end.
    fn valid(&mut self, reply: &str, planning: bool, round: &mut Vec<Event>) -> bool {
        if !reply.starts_with('>') {
            if ["complete", "finish", "done", "successfully"]
                .iter()
                .any(|word| reply.contains(word))
            {
                note(round, "hallucinated_finish", reply);
            }
            self.invalid_format = Some("command_tag_missing");
            return false;
        }
        if planning && !reply.contains("\nNext actions:") && !reply.contains("done") {
            self.invalid_format = Some("next_actions_missing");
            return false;
        }
        true
    }
}

pub fn play(
    instance: &Instance,
    library: &Library,
    model: &mut dyn Responder,
) -> Result<Episode, GameError> {
    let refuse = |e: String| GameError::Instance(format!("instance {}: {e}", instance.game_id));
    let adventure = library.adventure(instance).map_err(refuse)?;
    let mut world = World::new(instance, adventure).map_err(refuse)?;
    let planning = instance.variant == "plan";
    let adventure_info = json!({
        "variant": instance.variant,
        "max_turns": instance.max_turns,
        "optimal_turns": instance.optimal_turns,
        "goal_count": instance.goal_state.iter().collect::<BTreeSet<_>>().len(),
    });
    let mut master = Referee {
        instance,
        required: instance.goal_state.iter().cloned().collect(),
        goals: Goals::Named(Vec::new()),
        invalid_format: None,
        finished: false,
        model_done: false,
        turns_played: 0,
    };
    let mut player = Player::new(1);
    let mut context = format!("{}{}", instance.prompt, world.room_description());
    let mut plans: Vec<Vec<String>> = Vec::new();
    let mut turns: Vec<Vec<Event>> = Vec::new();
    loop {
        // Asked before each round; what it notes goes to the round before.
        let mut before_any = Vec::new();
        if !master.proceeds(turns.last_mut().unwrap_or(&mut before_any)) {
            break;
        }
        let mut round = Vec::new();
        note(&mut round, "metadata", &format!("Turn {}", turns.len()));
        if !master.proceeds(&mut round) {
            turns.push(round);
            break;
        }
        let reply = player.ask(&context, model, &mut round)?;
        if master.valid(&reply, planning, &mut round) && planning && reply != "> done" {
            if let Some((_, plan)) = reply.split_once("\nNext actions:") {
                let plan = plan.split("\nNext actions:").next().unwrap_or(plan);
                let steps: Vec<String> = plan
                    .split(',')
                    .map(|step| step.trim().to_string())
                    .collect();
                note_structured(&mut round, "turn_plan", json!(steps));
                plans.push(steps);
            }
        }
        if master.proceeds(&mut round) {
            let command = reply
                .get(1..)
                .unwrap_or_default()
                .split('\n')
                .next()
                .unwrap_or_default()
                .trim();
            let outcome = world.process(command).map_err(refuse)?;
            let kind = if outcome.failed() {
                "action_fail"
            } else {
                "action_info"
            };
            note_structured(&mut round, kind, Value::Object(outcome.info.clone()));
            if outcome.info.contains_key("done_action") {
                master.model_done = true;
            }
            let before = master.goals.count() as i64;
            master.goals = outcome.goals.clone();
            let status = json!({
                "goal_states_achieved": master.goals.to_json(),
                "turn_goal_score": master.goals.count() as i64 - before,
            });
            note_structured(&mut round, "goal_status", status);
            if planning {
                if let Some(plan) = plans.last() {
                    note(&mut round, "current_plan", &python_list(plan));
                    note_structured(&mut round, "plan_length", json!(plan.len()));
                    let results = world.try_plan(plan).map_err(refuse)?;
                    let logged: Vec<Value> = results
                        .iter()
                        .map(|r| {
                            json!([r.goals.to_json(), r.feedback, Value::Object(r.info.clone())])
                        })
                        .collect();
                    note_structured(&mut round, "plan_results", json!(logged));
                    let succeeded = results.iter().filter(|r| !r.failed()).count();
                    let share = succeeded as f64 / plan.len() as f64;
                    note_structured(&mut round, "plan_command_success_ratio", json!(share));
                    if plans.len() >= 2 {
                        let followed = plans[plans.len() - 2]
                            .first()
                            .is_some_and(|first| first == command);
                        note_structured(&mut round, "plan_followed", json!(followed as u8));
                    }
                }
            }
            context = outcome.feedback;
            master.turns_played += 1;
        }
        turns.push(round);
    }
    let result = json!({
        "goal_states_achieved": master.goals.to_json(),
        "game_successfully_finished": master.finished,
    });
    if let Some(last) = turns.last_mut() {
        note_structured(last, "game_result", result);
    }
    let (turn_scores, episode_scores) = score(&turns, &adventure_info);
    Ok(Episode {
        turns,
        turn_scores,
        episode_scores,
        keys: vec![("adventure_info".into(), adventure_info)],
        ..Episode::default()
    })
}

/// Every kind of command failure; the first two are the phases.
const FAIL_TYPES: [&str; 21] = [
    "parsing",
    "resolution",
    "lark_exception",
    "malformed_command",
    "undefined_action_verb",
    "undefined_action",
    "undefined_repr_str",
    "manipulating_room",
    "undefined_argument_type",
    "taking_from_inventory",
    "other_room_argument",
    "domain_trait_type_mismatch",
    "domain_type_discrepancy",
    "world_state_discrepancy",
    "entity_not_accessible",
    "entity_state_mismatch",
    "entity_trait_mismatch",
    "entity_already_inventory",
    "going_to_current_room",
    "no_exit_to",
    "inventory_limit_exceeded",
];

const PLAN_SCORES: [&str; 3] = [
    "plan_followed",
    "plan_command_success_ratio",
    "bad_plan_followed",
];

const EXPLORATION_SCORES: [&str; 4] = [
    "effective_epistemic_gain_amount",
    "known_entities_ratio",
    "visited_rooms_ratio",
    "known_goal_entities_ratio",
];

/// The scorer: reads the episode's events back as clembench's does.
fn score(turns: &[Vec<Event>], adventure_info: &Value) -> (Vec<(usize, Scores)>, Scores) {
    let number = |value: &Value| value.as_f64().unwrap_or(0.0);
    let mut invalid_format = String::new();
    let (mut turn_limit_loss, mut finished) = (false, false);
    let mut final_goals = 0usize;
    let (mut parsed_total, mut violated_total, mut hallucinations) = (0.0, 0.0, 0.0);
    let mut fails_total: HashMap<&str, f64> = HashMap::new();
    let mut plan_records: Vec<HashMap<&str, f64>> = Vec::new();
    let mut turn_scores = Vec::new();
    for (index, round) in turns.iter().enumerate() {
        let mut goal_score = 0.0;
        let mut fails: HashMap<&str, f64> = HashMap::new();
        let mut plan: HashMap<&str, f64> = PLAN_SCORES.iter().map(|k| (*k, 0.0)).collect();
        let mut hallucination = 0.0;
        let mut exploration: Option<Scores> = None;
        for event in round {
            let content = &event.content;
            match event.kind.as_str() {
                "invalid_format" => invalid_format = event.text().to_string(),
                "adventure_finished" => finished = true,
                "hallucinated_finish" => hallucination = 1.0,
                "turn_limit_reached" => {
                    turn_limit_loss = true;
                    finished = false;
                }
                "goal_status" => goal_score = number(&content["turn_goal_score"]),
                "game_result" => {
                    finished = content["game_successfully_finished"]
                        .as_bool()
                        .unwrap_or(false);
                    final_goals = content["goal_states_achieved"]
                        .as_array()
                        .map_or(0, Vec::len);
                }
                kind if PLAN_SCORES.contains(&kind) => {
                    plan.insert(
                        PLAN_SCORES.iter().find(|k| **k == kind).expect("listed"),
                        number(content),
                    );
                }
                _ => {}
            }
            if event.kind == "action_info" && content["action_type"] == "done" && !finished {
                hallucination = 1.0;
            }
            if event.kind == "action_fail" {
                for key in ["phase", "fail_type"] {
                    if let Some(kind) = FAIL_TYPES.iter().find(|k| content[key] == **k) {
                        fails.insert(kind, 1.0);
                    }
                }
            }
            if event.kind == "action_info" || event.kind == "action_fail" {
                let info = &content["exploration_info"];
                let flag = |key: &str| {
                    if info[key].as_bool().unwrap_or(false) {
                        1.0
                    } else {
                        0.0
                    }
                };
                let mut values = vec![
                    ("epistemic_action".to_string(), flag("action_epistemic")),
                    ("pragmatic_action".to_string(), flag("action_pragmatic")),
                ];
                values.extend(
                    EXPLORATION_SCORES
                        .iter()
                        .map(|key| (key.to_string(), number(&info[*key]))),
                );
                exploration = Some(values);
            }
        }
        let violated = if invalid_format.is_empty() { 0.0 } else { 1.0 };
        parsed_total += 1.0 - violated;
        violated_total += violated;
        hallucinations += hallucination;
        let flag = |on: bool| if on { 1.0 } else { 0.0 };
        let mut scores: Scores = vec![
            ("Request Count".into(), 1.0),
            ("Parsed Request Count".into(), 1.0 - violated),
            ("Violated Request Count".into(), violated),
            (
                "command_tag_missing".into(),
                flag(invalid_format == "command_tag_missing"),
            ),
            (
                "next_actions_missing".into(),
                flag(invalid_format == "next_actions_missing"),
            ),
            ("hallucination".into(), hallucination),
            (
                "action_parsing_fail".into(),
                fails.get("parsing").copied().unwrap_or(0.0),
            ),
            (
                "action_resolution_fail".into(),
                fails.get("resolution").copied().unwrap_or(0.0),
            ),
        ];
        for kind in FAIL_TYPES {
            let value = fails.get(kind).copied().unwrap_or(0.0);
            *fails_total.entry(kind).or_default() += value;
            if !matches!(kind, "parsing" | "resolution") {
                scores.push((kind.to_string(), value));
            }
        }
        scores.push(("goal_score".into(), goal_score));
        scores.extend(exploration.into_iter().flatten());
        scores.extend(PLAN_SCORES.iter().map(|key| (key.to_string(), plan[key])));
        if index >= 1 {
            let bad = plan_records
                .last()
                .is_some_and(|prior| prior["plan_command_success_ratio"] == 0.0)
                && plan["plan_followed"] != 0.0;
            plan.insert("bad_plan_followed", flag(bad));
        }
        plan_records.push(plan);
        turn_scores.push((index, scores));
    }
    let requests = turns.len() as f64;
    let mut episode: Scores = vec![
        ("Violated Request Count".into(), violated_total),
        ("Parsed Request Count".into(), parsed_total),
        ("Request Count".into(), requests),
        ("Request Success Ratio".into(), parsed_total / requests),
        ("hallucination_count".into(), hallucinations),
        ("action_parsing_fail".into(), fails_total["parsing"]),
        ("action_resolution_fail".into(), fails_total["resolution"]),
    ];
    episode.extend(
        FAIL_TYPES[2..]
            .iter()
            .map(|kind| (kind.to_string(), fails_total[kind])),
    );
    let successful_actions = parsed_total - fails_total["parsing"] - fails_total["resolution"];
    episode.push(("successful_actions".into(), successful_actions));
    episode.push((
        "turn_limit_loss".into(),
        if turn_limit_loss { 1.0 } else { 0.0 },
    ));
    let optimal = number(&adventure_info["optimal_turns"]);
    let over_par = requests - optimal;
    let turn_ratio = 1.0 - over_par / (number(&adventure_info["max_turns"]) - optimal);
    let if_finished = |value: f64| if finished { value } else { f64::NAN };
    episode.push(("turns_over_par".into(), if_finished(over_par)));
    episode.push(("turn_ratio".into(), if_finished(turn_ratio)));
    episode.push(("finish_speed".into(), if_finished(1.0 - turn_ratio)));
    let achieved = final_goals as f64 / number(&adventure_info["goal_count"]);
    episode.push(("achieved_goal_ratio".into(), achieved));
    episode.push(("Main Score".into(), achieved * 100.0));
    let aborted = !invalid_format.is_empty() || turn_limit_loss;
    episode.push(("Aborted".into(), if aborted { 1.0 } else { 0.0 }));
    episode.push((
        "Success".into(),
        if !aborted && finished { 1.0 } else { 0.0 },
    ));
    episode.push(("Lose".into(), if !aborted && !finished { 1.0 } else { 0.0 }));
    let sum = |key: &str, from: usize| plan_records.iter().skip(from).map(|r| r[key]).sum::<f64>();
    episode.push((
        "plan_followed_ratio".into(),
        sum("plan_followed", 1) / requests,
    ));
    episode.push((
        "plan_average_viability_ratio".into(),
        sum("plan_command_success_ratio", 0) / requests,
    ));
    let bad = sum("bad_plan_followed", 0) / requests;
    episode.push(("bad_plan_follow_ratio".into(), bad));
    episode.push(("bad_plan_dismiss_ratio".into(), 1.0 - bad));
    (turn_scores, episode)
}
