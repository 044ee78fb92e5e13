//! The interpreter of an adventure: its world as a set of facts, commands
//! parsed by the adventure's grammar and resolved by its actions' PDDL
//! (parameters typed by the domain, preconditions whose first failing fact
//! picks the feedback, effects that add and remove facts), the textual
//! feedback, and what the player has come to know of the world.
//!
//! The facts are kept in the order they were added. Where clembench's answer
//! depends on the order Python happens to iterate a set in (whether a closed
//! container's contents show in a room), the intended reading is taken.

use super::super::python_random::PythonRandom;
use super::command::{Command, Grammar};
use super::pddl::{self, Change, Condition, Effect, Predicate, Quantity, Term};
use super::{Definitions, Instance};
use indexmap::{IndexMap, IndexSet};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// A fact: its predicate, then its arguments (`["on", "apple1", "table1"]`).
pub type Fact = Vec<String>;

/// A fact to check; `None` for an optional argument the command left out (always true).
type Probe = Vec<Option<String>>;

type Variables = IndexMap<String, Option<String>>;

/// `at(apple1,table1)` as a fact.
pub fn parse_fact(text: &str) -> Result<Fact, String> {
    let (predicate, rest) = text
        .split_once('(')
        .ok_or_else(|| format!("fact '{text}' is not written as predicate(arguments)"))?;
    let arguments = rest
        .strip_suffix(')')
        .ok_or_else(|| format!("fact '{text}' does not end with ')'"))?;
    // As clembench splits it: at most two arguments, the second keeps any comma.
    let mut fact = vec![predicate.to_string()];
    match arguments.split_once(',') {
        Some((first, second)) => fact.extend([first.to_string(), second.to_string()]),
        None => fact.push(arguments.to_string()),
    }
    Ok(fact)
}

pub fn fact_string(fact: &[String]) -> String {
    format!("{}({})", fact[0], fact[1..].join(","))
}

fn ends_with_digit(text: &str) -> bool {
    text.ends_with(|c: char| c.is_ascii_digit())
}

fn strip_digits(text: &str) -> &str {
    text.trim_end_matches(|c: char| c.is_ascii_digit())
}

/// Python's `str.capitalize()`.
fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars.as_str().to_lowercase().chars())
            .collect(),
        None => String::new(),
    }
}

/// Fills `{{ name }}` as jinja2 does: an unknown name is empty, a missing value "None".
fn render(template: &str, values: &IndexMap<String, Option<String>>) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let Some(length) = rest[start..].find("}}") else {
            break;
        };
        out.push_str(&rest[..start]);
        let name = rest[start + 2..start + length].trim();
        match values.get(name) {
            Some(Some(value)) => out.push_str(value),
            Some(None) => out.push_str("None"),
            None => {}
        }
        rest = &rest[start + length + 2..];
    }
    out.push_str(rest);
    out
}

/// A number as Python prints the int or float it would be.
fn number_text(value: f64, float: bool) -> String {
    if float && value.fract() == 0.0 && value.is_finite() {
        format!("{value:.1}")
    } else {
        format!("{value}")
    }
}

/// Which goals are met, as the interpreter reports them: after a successful
/// action as their strings, after a failed one as the facts it last found.
#[derive(Clone, Debug, PartialEq)]
pub enum Goals {
    Named(Vec<String>),
    Facts(Vec<Fact>),
}

impl Goals {
    pub fn count(&self) -> usize {
        match self {
            Self::Named(names) => names.len(),
            Self::Facts(facts) => facts.len(),
        }
    }

    pub fn to_json(&self) -> Value {
        match self {
            Self::Named(names) => json!(names),
            Self::Facts(facts) => json!(facts),
        }
    }
}

/// What one command did.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub goals: Goals,
    pub feedback: String,
    /// The failure record (`phase`, `fail_type`, `arg`) or the action's record (`action_type`),
    /// each with its `exploration_info`.
    pub info: Map<String, Value>,
}

impl Outcome {
    pub fn failed(&self) -> bool {
        self.info.contains_key("fail_type")
    }
}

/// How a precondition was checked, for choosing the feedback of the first failing fact.
#[derive(Clone, Debug)]
enum Trace {
    Fact {
        probe: Probe,
        fulfilled: bool,
        index: i64,
    },
    Not {
        inner: Box<Trace>,
        fulfilled: bool,
    },
    And {
        items: Vec<Trace>,
        fulfilled: bool,
    },
    Or {
        items: Vec<Trace>,
        fulfilled: bool,
    },
}

impl Trace {
    fn fulfilled(&self) -> bool {
        match self {
            Self::Fact { fulfilled, .. }
            | Self::Not { fulfilled, .. }
            | Self::And { fulfilled, .. }
            | Self::Or { fulfilled, .. } => *fulfilled,
        }
    }

    /// The fact's own index, or the negated fact's.
    fn index(&self) -> Option<i64> {
        match self {
            Self::Fact { index, .. } => Some(*index),
            Self::Not { inner, .. } => match inner.as_ref() {
                Self::Fact { index, .. } => Some(*index),
                _ => None,
            },
            _ => None,
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Self::Fact {
                probe,
                fulfilled,
                index,
            } => {
                json!({"predicate_tuple": probe, "fulfilled": fulfilled, "precon_idx": index})
            }
            Self::Not { inner, fulfilled } => {
                json!({"not": inner.to_json(), "fulfilled": fulfilled})
            }
            Self::And { items, fulfilled } => {
                json!({"and": items.iter().map(Trace::to_json).collect::<Vec<_>>(), "fulfilled": fulfilled})
            }
            Self::Or { items, fulfilled } => {
                json!({"or": items.iter().map(Trace::to_json).collect::<Vec<_>>(), "fulfilled": fulfilled})
            }
        }
    }

    /// The first failing fact of the precondition's conjunction, looking one
    /// level into an `or` or `and`, as the interpreter chooses its feedback.
    fn first_failure(items: &[Trace]) -> Option<&Trace> {
        for item in items.iter().filter(|item| !item.fulfilled()) {
            let found = match item {
                Self::Or { items, .. } => items.iter().find_map(|option| match option {
                    Self::And { items, .. } => items.iter().find(|i| !i.fulfilled()),
                    Self::Fact {
                        fulfilled: false, ..
                    } => Some(option),
                    _ => None,
                }),
                Self::And { items, .. } => items.iter().find(|i| !i.fulfilled()),
                Self::Fact { .. } | Self::Not { .. } => Some(item),
            };
            if found.is_some() {
                return found;
            }
        }
        None
    }
}

/// The facts an action's effects added and removed, in order.
#[derive(Default)]
struct Changes {
    added: Vec<Fact>,
    removed: Vec<Fact>,
}

/// An action as the adventure defines it.
struct ActionType {
    pddl: pddl::Action,
    /// `?variable` → where its value comes from ("arg1", "current_player_room", …), in the file's order.
    mapping: Vec<(String, Vec<String>)>,
    parameter_feedback: Vec<(String, String)>,
    precondition_feedback: Vec<(String, String)>,
    success_feedback: String,
    epistemic: bool,
    pragmatic: bool,
}

const VALUE_SOURCES: [&str; 6] = [
    "arg1",
    "arg2",
    "current_player_room",
    "player",
    "inventory",
    "current_room_floor",
];

fn count_facts(condition: &Condition) -> usize {
    match condition {
        Condition::Fact(_) | Condition::Compare { .. } | Condition::Forall => 1,
        Condition::Not(inner) => count_facts(inner),
        Condition::And(items) | Condition::Or(items) => items.iter().map(count_facts).sum(),
    }
}

impl ActionType {
    fn read(definition: &super::ActionDefinition) -> Result<Self, String> {
        let name = &definition.type_name;
        let pddl =
            pddl::Action::read(&definition.pddl).map_err(|e| format!("action {name}: {e}"))?;
        let mapping = definition.pddl_parameter_mapping.0.clone();
        for (_, variables) in &pddl.parameters {
            for variable in variables {
                let sources = mapping
                    .iter()
                    .find(|(key, _)| *key == format!("?{variable}"))
                    .map(|(_, sources)| sources)
                    .ok_or_else(|| {
                        format!("action {name}: ?{variable} has no pddl_parameter_mapping")
                    })?;
                match sources.first() {
                    Some(source) if VALUE_SOURCES.contains(&source.as_str()) => {}
                    other => {
                        return Err(format!(
                            "action {name}: ?{variable} maps to unknown {other:?}"
                        ))
                    }
                }
            }
        }
        let facts: usize = pddl.precondition.iter().map(count_facts).sum();
        let feedback = &definition.failure_feedback;
        if feedback.precondition.len() < facts {
            return Err(format!(
                "action {name}: {facts} precondition facts but {} precondition feedbacks",
                feedback.precondition.len()
            ));
        }
        if feedback.parameters.len() < mapping.len() {
            return Err(format!(
                "action {name}: {} parameters but {} parameter feedbacks",
                mapping.len(),
                feedback.parameters.len()
            ));
        }
        Ok(Self {
            pddl,
            mapping,
            parameter_feedback: feedback.parameters.clone(),
            precondition_feedback: feedback.precondition.clone(),
            success_feedback: definition.success_feedback.clone(),
            epistemic: definition.epistemic,
            pragmatic: definition.pragmatic,
        })
    }
}

/// An event: it fires by itself after a command whenever its precondition holds.
#[derive(Clone)]
struct EventType {
    pddl: pddl::Action,
    /// Each parameter its PDDL uses, with the types whose instances it ranges over.
    parameters: Vec<(String, Vec<String>)>,
    feedback: String,
    randomize: Option<super::Randomize>,
    /// A randomized event's current target, the constant replaced when it fires.
    target: String,
}

/// How often events may fire after one command before one is taken to fire forever.
const MAX_EVENTS_PER_COMMAND: usize = 64;

/// What an adventure's definitions make of it: its types, actions, events and
/// command grammar. Built once, and shared by every episode played with the same definitions.
pub struct Adventure {
    entity_types: IndexMap<String, Map<String, Value>>,
    room_types: IndexMap<String, Map<String, Value>>,
    repr_to_type: HashMap<String, String>,
    actions: IndexMap<String, ActionType>,
    supertypes: HashMap<String, Vec<String>>,
    functions: Vec<pddl::Function>,
    events: Vec<EventType>,
    mutable_states: Vec<String>,
    grammar: Grammar,
}

/// One adventure in play.
pub struct World {
    adventure: Arc<Adventure>,
    /// The episode's own events: a randomized one's target moves as it fires.
    events: Vec<EventType>,
    /// Draws a randomized event's next target (seeded per episode).
    random: PythonRandom,
    state: IndexSet<Fact>,
    history: Vec<IndexSet<Fact>>,
    goals: IndexSet<Fact>,
    achieved: IndexSet<Fact>,
    inst_to_type: HashMap<String, String>,
    room_to_type: HashMap<String, String>,
    explored: IndexSet<Fact>,
    exploration_history: Vec<IndexSet<Fact>>,
}

/// An entity type's traits (`takeable`, `container`, …), which are types of their own.
fn traits(definition: &Map<String, Value>) -> impl Iterator<Item = String> + '_ {
    let listed = definition.get("traits").and_then(Value::as_array);
    listed
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
}

fn repr_str(definition: &Map<String, Value>) -> Option<&str> {
    definition.get("repr_str").and_then(Value::as_str)
}

impl Adventure {
    pub fn new(definitions: &Definitions) -> Result<Self, String> {
        let mut repr_to_type = HashMap::new();
        let mut typed = |list: Vec<Map<String, Value>>, what: &str| {
            let mut types = IndexMap::new();
            for mut definition in list {
                let name = match definition.remove("type_name") {
                    Some(Value::String(name)) => name,
                    _ => return Err(format!("a {what} definition has no type_name")),
                };
                let shown = repr_str(&definition)
                    .ok_or_else(|| format!("{what} {name} has no repr_str"))?;
                repr_to_type.insert(shown.to_string(), name.clone());
                types.insert(name, definition);
            }
            Ok(types)
        };
        let entity_types = typed(definitions.entities.clone(), "entity")?;
        let room_types = typed(definitions.rooms.clone(), "room")?;
        let mut actions = IndexMap::new();
        for definition in &definitions.actions {
            actions.insert(definition.type_name.clone(), ActionType::read(definition)?);
        }
        let domain = &definitions.domain;
        let mut types = domain.pddl.types.clone();
        // Each entity type's traits are types of their own.
        let entities = types
            .iter()
            .find(|(name, _)| name == "entity")
            .map(|(_, members)| members.clone())
            .unwrap_or_default();
        for entity in &entities {
            let definition = entity_types.get(entity).ok_or_else(|| {
                format!("the domain's entity type {entity} has no entity definition")
            })?;
            for trait_name in traits(definition) {
                match types.iter_mut().find(|(name, _)| *name == trait_name) {
                    Some((_, members)) => members.push(entity.clone()),
                    None => types.push((trait_name, vec![entity.clone()])),
                }
            }
        }
        let mut supertypes: HashMap<String, Vec<String>> = HashMap::new();
        for (supertype, subtypes) in &types {
            for subtype in subtypes {
                supertypes
                    .entry(subtype.clone())
                    .or_default()
                    .push(supertype.clone());
            }
        }
        let mut events = Vec::new();
        for definition in &definitions.events {
            let name = &definition.type_name;
            let pddl =
                pddl::Action::read(&definition.pddl).map_err(|e| format!("event {name}: {e}"))?;
            let used = pddl.variables();
            let mut parameters: Vec<(String, Vec<String>)> = Vec::new();
            for (kind, names) in &pddl.parameters {
                let kinds = match types.iter().find(|(name, _)| name == kind) {
                    Some((_, members)) => members.clone(),
                    None => vec![kind.clone()],
                };
                for name in names.iter().filter(|name| used.contains(*name)) {
                    match parameters.iter_mut().find(|(n, _)| n == name) {
                        Some((_, known)) => known.extend(kinds.iter().cloned()),
                        None => parameters.push((name.clone(), kinds.clone())),
                    }
                }
            }
            events.push(EventType {
                pddl,
                parameters,
                feedback: definition.event_feedback.clone(),
                target: definition
                    .randomize
                    .as_ref()
                    .map(|r| r.initial_value.clone())
                    .unwrap_or_default(),
                randomize: definition.randomize.clone(),
            });
        }
        let grammar = Grammar::read(&definitions.grammar())
            .map_err(|e| format!("the command grammar: {e}"))?;
        Ok(Self {
            entity_types,
            room_types,
            repr_to_type,
            actions,
            supertypes,
            functions: domain.pddl.functions.clone(),
            events,
            mutable_states: domain.mutable_states.clone(),
            grammar,
        })
    }
}

impl World {
    /// The adventure at the start of an episode of `instance`.
    pub fn new(instance: &Instance, adventure: Arc<Adventure>) -> Result<Self, String> {
        let mut world = Self {
            events: adventure.events.clone(),
            adventure,
            random: PythonRandom::seeded(42),
            state: IndexSet::new(),
            history: Vec::new(),
            goals: IndexSet::new(),
            achieved: IndexSet::new(),
            inst_to_type: HashMap::new(),
            room_to_type: HashMap::new(),
            explored: IndexSet::new(),
            exploration_history: Vec::new(),
        };
        world.set_up(instance)?;
        world.track_exploration(None);
        Ok(world)
    }

    /// The initial facts, with what they imply: traits by type, a floor per room,
    /// support for what needs it, what can be reached, function values.
    fn set_up(&mut self, instance: &Instance) -> Result<(), String> {
        for text in &instance.initial_state {
            self.state.insert(parse_fact(text)?);
        }
        let mut added: IndexSet<Fact> = IndexSet::new();
        for fact in &self.state {
            if fact[0] == "type" && fact.len() == 3 {
                let definition = self.adventure.entity_types.get(&fact[2]).ok_or_else(|| {
                    format!(
                        "{} has type {}, which has no entity definition",
                        fact[1], fact[2]
                    )
                })?;
                for trait_name in traits(definition) {
                    added.insert(vec![trait_name, fact[1].clone()]);
                }
            }
        }
        for fact in &self.state {
            if fact[0] == "room" && fact.len() == 3 {
                let floor = format!("{}floor1", fact[1]);
                added.insert(vec!["type".into(), floor.clone(), "floor".into()]);
                added.insert(vec!["at".into(), floor, fact[1].clone()]);
            }
        }
        self.state.extend(added.iter().cloned());
        for fact in &self.state {
            match (fact[0].as_str(), fact.len()) {
                ("type", 3) => {
                    self.inst_to_type.insert(fact[1].clone(), fact[2].clone());
                }
                ("room", 3) => {
                    self.room_to_type.insert(fact[1].clone(), fact[2].clone());
                }
                _ => {}
            }
        }
        let has = |fact: &[&str]| {
            self.state
                .contains(&fact.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        };
        for fact in &self.state {
            let thing = fact[1].as_str();
            if fact[0] == "at" && fact.len() == 3 && has(&["needs_support", thing]) {
                let supported = self
                    .state
                    .iter()
                    .any(|other| (other[0] == "on" || other[0] == "in") && other[1] == thing);
                if !supported {
                    added.insert(vec![
                        "on".into(),
                        thing.to_string(),
                        format!("{}floor", fact[2]),
                    ]);
                }
            }
            if fact.len() == 3
                && fact[0] == "in"
                && has(&["container", &fact[2]])
                && has(&["open", &fact[2]])
            {
                added.insert(vec!["accessible".into(), thing.to_string()]);
            }
            if fact.len() == 3 && fact[0] == "in" && fact[2] == "inventory" {
                added.insert(vec!["accessible".into(), thing.to_string()]);
            }
            if fact.len() == 3 && fact[0] == "on" && has(&["support", &fact[2]]) {
                added.insert(vec!["accessible".into(), thing.to_string()]);
            }
            if fact.len() == 3
                && fact[0] == "type"
                && !has(&["needs_support", thing])
                && fact[2] != "floor"
                && fact[2] != "player"
            {
                added.insert(vec!["accessible".into(), thing.to_string()]);
            }
        }
        added.insert(vec!["accessible".into(), "inventory".into()]);
        self.state.extend(added);
        let adventure = Arc::clone(&self.adventure);
        for function in &adventure.functions {
            let typed_instances: Vec<String> = self
                .state
                .iter()
                .filter(|fact| fact.len() == 3 && fact[0] == "type" && fact[2] == function.of)
                .map(|fact| fact[1].clone())
                .collect();
            let mut holders: Vec<&str> = typed_instances.iter().map(String::as_str).collect();
            if function.of == "inventory" {
                holders.push("inventory");
            }
            for holder in holders {
                let valued = self.state.iter().any(|fact| {
                    fact[0] == function.name && fact.get(1).map(String::as_str) == Some(holder)
                });
                if !valued {
                    self.state
                        .insert(vec![function.name.clone(), holder.to_string(), "0".into()]);
                }
            }
        }
        self.history.push(self.state.clone());
        for text in &instance.goal_state {
            self.goals.insert(parse_fact(text)?);
        }
        if self.player_room().is_none() {
            return Err(
                "the initial state does not place player1 in a room: at(player1,ROOM)".into(),
            );
        }
        Ok(())
    }

    fn type_of<'a>(&'a self, instance: &'a str) -> &'a str {
        self.inst_to_type
            .get(instance)
            .or_else(|| self.room_to_type.get(instance))
            .map_or_else(|| strip_digits(instance), String::as_str)
    }

    /// An instance as the text names it: its adjectives, then its type's words.
    fn shown(&self, instance: &str) -> String {
        let kind = self.type_of(instance);
        let mut words: Vec<&str> = self
            .state
            .iter()
            .filter(|fact| fact.len() == 3 && fact[0] == "adj" && fact[1] == instance)
            .map(|fact| fact[2].as_str())
            .collect();
        let name = self
            .adventure
            .entity_types
            .get(kind)
            .or_else(|| self.adventure.room_types.get(kind))
            .and_then(repr_str)
            .unwrap_or(kind);
        words.push(name);
        words.join(" ")
    }

    /// A type's words ("side table").
    fn type_shown<'a>(&'a self, kind: &'a str) -> &'a str {
        self.adventure
            .entity_types
            .get(kind)
            .and_then(repr_str)
            .unwrap_or(kind)
    }

    fn player_room(&self) -> Option<String> {
        self.state
            .iter()
            .find(|fact| fact.len() == 3 && fact[0] == "at" && fact[1] == "player1")
            .map(|fact| fact[2].clone())
    }

    fn room(&self) -> String {
        self.player_room().unwrap_or_default()
    }

    fn has(&self, fact: &[&str]) -> bool {
        self.state
            .contains(&fact.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    fn facts_about<'a>(
        &'a self,
        predicate: &'a str,
        subject: &'a str,
    ) -> impl Iterator<Item = &'a Fact> + 'a {
        self.state.iter().filter(move |fact| {
            fact[0] == predicate && fact.get(1).map(String::as_str) == Some(subject)
        })
    }

    fn room_contents(&self) -> Vec<String> {
        let room = self.room();
        self.state
            .iter()
            .filter(|fact| {
                fact.len() == 3 && fact[0] == "at" && fact[2] == room && fact[1] != "player1"
            })
            .map(|fact| fact[1].clone())
            .collect()
    }

    /// What the player sees in the room: not what its type hides, not what lies
    /// in a closed container or the inventory.
    fn visible_contents(&self) -> Vec<String> {
        self.room_contents()
            .into_iter()
            .filter(|thing| {
                let hidden = self
                    .adventure
                    .entity_types
                    .get(self.type_of(thing))
                    .is_some_and(|definition| definition.contains_key("hidden"));
                if hidden {
                    return false;
                }
                match self
                    .facts_about("in", thing)
                    .next()
                    .map(|fact| fact[2].as_str())
                {
                    None => true,
                    Some(container) if self.has(&["closed", container]) => false,
                    Some(container) if self.has(&["open", container]) => true,
                    Some(container) => container != "inventory",
                }
            })
            .collect()
    }

    fn exits(&self) -> Vec<String> {
        let room = self.room();
        self.state
            .iter()
            .filter(|fact| fact.len() == 3 && fact[0] == "exit" && fact[1] == room)
            .map(|fact| fact[2].clone())
            .collect()
    }

    /// "You are in a kitchen now. There are a … The … is closed. There is a passage to …"
    pub fn room_description(&self) -> String {
        let room = self.room();
        let room_name = self
            .room_to_type
            .get(&room)
            .and_then(|kind| self.adventure.room_types.get(kind))
            .and_then(repr_str)
            .unwrap_or(&room);
        let mut text = format!("You are in a {room_name} now.");
        let visible = self.visible_contents();
        let names: Vec<String> = visible.iter().map(|thing| self.shown(thing)).collect();
        match names.as_slice() {
            [] => {}
            [one] => text.push_str(&format!(" There is a {one}.")),
            [first, second] => text.push_str(&format!(" There are a {first} and a {second}.")),
            [rest @ .., last] => {
                text.push_str(&format!(" There are a {} and a {last}.", rest.join(", a ")))
            }
        }
        for thing in &visible {
            for fact in self.state.iter().filter(|fact| fact.get(1) == Some(thing)) {
                let sentence = match (fact[0].as_str(), fact.get(2)) {
                    ("closed", _) => format!("The {} is closed.", self.shown(thing)),
                    ("open", _) => format!("The {} is open.", self.shown(thing)),
                    ("in", Some(place)) => {
                        format!("The {} is in the {}.", self.shown(thing), self.shown(place))
                    }
                    ("on", Some(place)) => {
                        format!("The {} is on the {}.", self.shown(thing), self.shown(place))
                    }
                    _ => continue,
                };
                text.push(' ');
                text.push_str(&sentence);
            }
        }
        let exits: Vec<String> = self.exits().iter().map(|room| self.shown(room)).collect();
        match exits.as_slice() {
            [] => {}
            [one] => text.push_str(&format!(" There is a passage to a {one} here.")),
            [first, second] => text.push_str(&format!(
                " There are passages to a {first} and a {second} here."
            )),
            [rest @ .., last] => text.push_str(&format!(
                " There are passages to a {} and a {last} here.",
                rest.join(", a ")
            )),
        }
        text
    }

    fn contents_of(&self, container: &str) -> Vec<String> {
        self.state
            .iter()
            .filter(|fact| fact.len() == 3 && fact[0] == "in" && fact[2] == container)
            .map(|fact| fact[1].clone())
            .collect()
    }

    fn inventory_description(&self) -> String {
        let items: Vec<String> = self
            .contents_of("inventory")
            .iter()
            .map(|item| format!("a {}", self.shown(item)))
            .collect();
        match items.as_slice() {
            [] => "Your inventory is empty.".to_string(),
            [one] => format!("In your inventory you have {one}."),
            [rest @ .., last] => {
                format!("In your inventory you have {} and {last}.", rest.join(", "))
            }
        }
    }

    fn container_description(&self, container: &str) -> String {
        let name = self.shown(container);
        let items: Vec<String> = self
            .contents_of(container)
            .iter()
            .map(|item| format!("a {}", self.shown(item)))
            .collect();
        match items.as_slice() {
            [] => format!("The {name} is empty."),
            [one] => format!("In the {name} there is {one}."),
            [rest @ .., last] => format!("In the {name} there are {} and {last}.", rest.join(", ")),
        }
    }

    /// "There is a …", "There are a …, a … and a …" of a list of type words.
    fn listing(items: &[String]) -> String {
        match items {
            [] => String::new(),
            [one] => format!("There is {one}"),
            [first, second] => format!("There are {first} and {second}"),
            [rest @ .., last] => format!("There are {} and {last}", rest.join(", ")),
        }
    }

    /// What examining an entity type shows (the EXAMINE action's feedback).
    fn entity_description(&self, entity: &str) -> String {
        if entity == "inventory" {
            return self.inventory_description();
        }
        let id = self
            .state
            .iter()
            .find(|fact| fact.len() == 3 && fact[0] == "type" && fact[2] == entity)
            .map(|fact| fact[1].clone())
            .unwrap_or_default();
        let mut parts = vec![format!("This is a {}.", self.shown(&id))];
        let own = self.type_shown(strip_digits(&id));
        for fact in self.state.iter().filter(|fact| fact.get(1) == Some(&id)) {
            match fact[0].as_str() {
                "text" => parts.push("There is writing on it.".into()),
                "openable" => {
                    let state = self
                        .state
                        .iter()
                        .find(|f| f.get(1) == Some(&id) && (f[0] == "open" || f[0] == "closed"))
                        .map_or("", |f| f[0].as_str());
                    parts.push(format!("The {own} is openable and currently {state}."));
                }
                "takeable" => parts.push(format!("The {own} is takeable.")),
                "needs_support" => {
                    if let Some(support) = self
                        .state
                        .iter()
                        .find(|f| f.len() == 3 && f[1] == id && (f[0] == "on" || f[0] == "in"))
                    {
                        let place = if support[2] == "inventory" {
                            "inventory"
                        } else {
                            strip_digits(&support[2])
                        };
                        let place = if place.ends_with("floor") {
                            "floor"
                        } else if place.ends_with("ceiling") {
                            "ceiling"
                        } else {
                            self.type_shown(place)
                        };
                        parts.push(format!("The {own} is {} the {place}.", support[0]));
                    }
                }
                "container" => {
                    if self.has(&["closed", &id]) {
                        parts.push(format!(
                            "You can't see the {own}'s contents because it is closed."
                        ));
                    } else {
                        let items: Vec<String> = self
                            .contents_of(&id)
                            .iter()
                            .map(|item| format!("a {}", self.type_shown(strip_digits(item))))
                            .collect();
                        parts.push(match items.is_empty() {
                            true => format!("The {own} is empty."),
                            false => format!("{} in the {own}.", Self::listing(&items)),
                        });
                    }
                }
                "support" => {
                    let items: Vec<String> = self
                        .state
                        .iter()
                        .filter(|f| f.len() == 3 && f[0] == "on" && f[2] == id)
                        .map(|f| format!("a {}", self.type_shown(strip_digits(&f[1]))))
                        .collect();
                    parts.push(match items.is_empty() {
                        true => format!("There is nothing on the {own}."),
                        false => format!("{} on the {own}.", Self::listing(&items)),
                    });
                }
                _ => {}
            }
            if self.adventure.mutable_states.contains(&fact[0]) && fact[0] != "at" {
                parts.push(format!("The {own} is {}.", fact[0]));
            }
        }
        parts.join(" ")
    }

    fn entity_text(&self, entity: &str) -> Option<String> {
        let id = self
            .state
            .iter()
            .find(|fact| fact.len() == 3 && fact[0] == "type" && fact[2] == entity)?
            .get(1)?
            .clone();
        let text = self
            .facts_about("text", &id)
            .next()
            .and_then(|fact| fact.get(2).cloned());
        text
    }

    /// What the player perceives now: where they are, the state of what they
    /// see and carry, the room's exits.
    fn perceived(&self) -> IndexSet<Fact> {
        let room = self.room();
        let visible = self.visible_contents();
        let carried = self.contents_of("inventory");
        let mut perceived = IndexSet::new();
        perceived.extend(self.facts_about("at", "player1").cloned());
        for fact in &self.state {
            if visible.contains(&fact[1])
                && ["open", "closed", "at", "in", "on"].contains(&fact[0].as_str())
            {
                perceived.insert(fact.clone());
            }
        }
        for fact in &self.state {
            if (carried.contains(&fact[1]) && (fact[0] == "at" || fact[0] == "in"))
                || (fact[1] == "inventory" && fact[0] == "itemcount")
            {
                perceived.insert(fact.clone());
            }
        }
        perceived.extend(self.facts_about("exit", &room).cloned());
        perceived
    }

    fn track_exploration(&mut self, removed: Option<&[Fact]>) {
        if let Some(known_before) = self.exploration_history.last().cloned() {
            let newly: Vec<Fact> = self
                .perceived()
                .into_iter()
                .filter(|fact| !known_before.contains(fact))
                .collect();
            self.explored.extend(newly);
            for fact in removed.into_iter().flatten() {
                self.explored.shift_remove(fact);
            }
            self.exploration_history.push(self.explored.clone());
        }
        if self.explored.is_empty() {
            self.explored = self.perceived();
            self.exploration_history.push(self.explored.clone());
        }
    }

    fn fact_json(&self, fact: &Fact) -> Value {
        let is_function = self.adventure.functions.iter().any(|f| f.name == fact[0]);
        Value::Array(
            fact.iter()
                .enumerate()
                .map(
                    |(i, part)| match (is_function && i == 2, part.parse::<f64>()) {
                        (true, Ok(number)) => json!(number),
                        _ => json!(part),
                    },
                )
                .collect(),
        )
    }

    fn exploration_info(&self, action: Option<&str>) -> Value {
        let (epistemic, pragmatic) = action
            .and_then(|name| self.adventure.actions.get(name))
            .map_or((false, false), |a| (a.epistemic, a.pragmatic));
        let before = &self.exploration_history[self.exploration_history.len().saturating_sub(2)];
        let mut info = Map::new();
        info.insert("action_epistemic".into(), json!(epistemic));
        info.insert("action_pragmatic".into(), json!(pragmatic));
        if epistemic {
            let gained: Vec<Value> = self
                .explored
                .iter()
                .filter(|fact| !before.contains(*fact))
                .map(|fact| self.fact_json(fact))
                .collect();
            info.insert("effective_epistemic_gain_facts".into(), json!(gained));
            info.insert(
                "effective_epistemic_gain_amount".into(),
                json!(gained.len()),
            );
        } else {
            info.insert("effective_epistemic_gain_amount".into(), json!(0));
        }
        let entities = self.state.iter().filter(|f| f[0] == "type").count();
        let known: Vec<&Fact> = self.explored.iter().filter(|f| f[0] == "at").collect();
        info.insert("known_entities".into(), json!(known));
        info.insert(
            "known_entities_ratio".into(),
            json!(known.len() as f64 / entities as f64),
        );
        let rooms = self.state.iter().filter(|f| f[0] == "room").count();
        let mut visited: IndexSet<&String> = IndexSet::new();
        for state in &self.exploration_history {
            visited.extend(
                state
                    .iter()
                    .filter(|f| f.len() == 3 && f[0] == "at" && f[1] == "player1")
                    .map(|f| &f[2]),
            );
        }
        info.insert(
            "visited_rooms".into(),
            json!(visited.iter().collect::<Vec<_>>()),
        );
        info.insert(
            "visited_rooms_ratio".into(),
            json!(visited.len() as f64 / rooms as f64),
        );
        let mut goal_entities: IndexSet<&String> = IndexSet::new();
        for goal in &self.goals {
            goal_entities.extend(goal[1..].iter().take(2));
        }
        let mut known_goal: IndexSet<&Fact> = IndexSet::new();
        for goal in &self.goals {
            known_goal.extend(known.iter().copied().filter(|fact| goal.contains(&fact[1])));
        }
        info.insert(
            "known_goal_entities".into(),
            json!(known_goal.iter().collect::<Vec<_>>()),
        );
        info.insert(
            "known_goal_entities_ratio".into(),
            json!(known_goal.len() as f64 / goal_entities.len() as f64),
        );
        Value::Object(info)
    }

    /// Parses, resolves and answers one command, then fires the events it set off.
    pub fn process(&mut self, input: &str) -> Result<Outcome, String> {
        let mut outcome = self.act(input)?;
        let mut fired = Vec::new();
        while let Some(feedback) = self.run_events()? {
            if fired.len() == MAX_EVENTS_PER_COMMAND {
                return Err(
                    "an event keeps firing: its effect must make its precondition false".into(),
                );
            }
            fired.push(feedback);
        }
        // The command's feedback, then each event's on a line of its own.
        outcome.feedback = format!("{}\n{}", outcome.feedback, fired.join("\n"));
        Ok(outcome)
    }

    /// The command itself: parsed, resolved, answered.
    fn act(&mut self, input: &str) -> Result<Outcome, String> {
        let command = match self.parse_command(input) {
            Ok(command) => command,
            Err((feedback, fail)) => return Ok(self.failed(&feedback, fail, None)),
        };
        match self.resolve(&command)? {
            Err((feedback, fail)) => Ok(self.failed(&feedback, fail, Some(&command.kind))),
            Ok((feedback, removed)) => {
                self.achieved = self
                    .goals
                    .iter()
                    .filter(|g| self.state.contains(*g))
                    .cloned()
                    .collect();
                let goals = Goals::Named(self.achieved.iter().map(|g| fact_string(g)).collect());
                self.track_exploration(Some(&removed));
                let mut info = Map::new();
                info.insert("action_type".into(), json!(command.kind));
                info.insert(
                    "exploration_info".into(),
                    self.exploration_info(Some(&command.kind)),
                );
                if command.kind == "done" {
                    info.insert("done_action".into(), json!(true));
                }
                Ok(Outcome {
                    goals,
                    feedback: feedback.to_string(),
                    info,
                })
            }
        }
    }

    /// A command that failed: the goals as last found, and what the player knows now.
    fn failed(
        &mut self,
        feedback: &str,
        mut fail: Map<String, Value>,
        action: Option<&str>,
    ) -> Outcome {
        self.track_exploration(None);
        fail.insert("exploration_info".into(), self.exploration_info(action));
        Outcome {
            goals: Goals::Facts(self.achieved.iter().cloned().collect()),
            feedback: feedback.to_string(),
            info: fail,
        }
    }

    /// Runs a plan's commands up to its first failure, then restores the world as it was.
    pub fn try_plan(&mut self, commands: &[String]) -> Result<Vec<Outcome>, String> {
        let mut outcomes = Vec::new();
        let mut changes = 0;
        for command in commands {
            let outcome = self.process(command)?;
            let failed = outcome.failed();
            outcomes.push(outcome);
            if failed {
                break;
            }
            changes += 1;
        }
        if changes > 0 {
            self.history
                .truncate(self.history.len().saturating_sub(changes).max(1));
            self.exploration_history.truncate(
                self.exploration_history
                    .len()
                    .saturating_sub(changes)
                    .max(1),
            );
            self.state = self.history.last().cloned().unwrap_or_default();
            self.explored = self.exploration_history.last().cloned().unwrap_or_default();
        }
        Ok(outcomes)
    }

    fn failure(phase: &str, kind: &str, arg: Value) -> Map<String, Value> {
        let mut fail = Map::new();
        fail.insert("phase".into(), json!(phase));
        fail.insert("fail_type".into(), json!(kind));
        fail.insert("arg".into(), arg);
        fail
    }

    /// The parsing phase: the command read by the grammar, its words resolved to types.
    fn parse_command(&self, input: &str) -> Result<Command, (String, Map<String, Value>)> {
        let input = input
            .strip_suffix('.')
            .or_else(|| input.strip_suffix('!'))
            .unwrap_or(input)
            .to_lowercase();
        let not_understood = "I don't know what you mean.".to_string();
        let Some(mut command) = self.adventure.grammar.parse(&input) else {
            let arg = json!(format!("no rule of the command grammar reads '{input}'"));
            return Err((
                not_understood,
                Self::failure("parsing", "lark_exception", arg),
            ));
        };
        if command.kind == "unknown" {
            let verb = command.arg1.clone().unwrap_or_default();
            if self.adventure.actions.contains_key(&verb) {
                let arg = json!(format!("{{'type': 'unknown', 'arg1': '{verb}'}}"));
                return Err((
                    not_understood,
                    Self::failure("parsing", "malformed_command", arg),
                ));
            }
        }
        if !self.adventure.actions.contains_key(&command.kind) {
            return Err(match &command.arg1 {
                Some(verb) => (
                    format!("I don't know how to interpret this '{verb}' action."),
                    Self::failure("parsing", "undefined_action_verb", json!(verb)),
                ),
                None => (
                    not_understood,
                    Self::failure("parsing", "undefined_action", json!(input)),
                ),
            });
        }
        if command.kind == "done" {
            return Ok(command);
        }
        if let Some(word) = command.arg1.clone() {
            let Some(kind) = self.adventure.repr_to_type.get(&word) else {
                return Err((
                    format!("I don't know what '{word}' means."),
                    Self::failure("parsing", "undefined_repr_str", json!(word)),
                ));
            };
            command.arg1 = Some(kind.clone());
            if !self.adventure.entity_types.contains_key(kind) {
                if !self.adventure.room_types.contains_key(kind) {
                    return Err((
                        format!("I don't know what a '{kind}' is."),
                        Self::failure("parsing", "undefined_argument_type", json!(kind)),
                    ));
                }
                let verb = command.kind.as_str();
                let refusal = match verb {
                    "take" | "close" => Some(format!("You can't {verb} the '{kind}'.")),
                    "put" => Some(format!("You can't put the '{kind}' anywhere.")),
                    "open" => Some(format!("You don't need to open the '{kind}'.")),
                    _ => None,
                };
                if let Some(refusal) = refusal {
                    return Err((
                        refusal,
                        Self::failure("parsing", "manipulating_room", json!(kind)),
                    ));
                }
            }
        }
        if let Some(word) = command.arg2.clone() {
            if command.kind == "take" && word == "inventory" {
                let arg1 = command.arg1.clone().unwrap_or_default();
                let carried = self
                    .contents_of("inventory")
                    .iter()
                    .any(|item| self.inst_to_type.get(item) == Some(&arg1));
                return Err(match carried {
                    true => (
                        format!(
                            "The {} is already in your inventory.",
                            self.type_shown(&arg1)
                        ),
                        Self::failure("resolution", "taking_from_inventory", json!(arg1)),
                    ),
                    false => (
                        "You don't need to take things from your inventory.".into(),
                        Self::failure("parsing", "taking_from_inventory", json!(word)),
                    ),
                });
            }
            let Some(kind) = self.adventure.repr_to_type.get(&word) else {
                return Err((
                    format!("I don't know what '{word}' means."),
                    Self::failure("parsing", "undefined_repr_str", json!(word)),
                ));
            };
            command.arg2 = Some(kind.clone());
            if self.adventure.room_types.contains_key(kind) {
                let here = self
                    .room_to_type
                    .get(&self.room())
                    .and_then(|room| self.adventure.room_types.get(room))
                    .and_then(repr_str)
                    .unwrap_or_default();
                // As clembench compares them: the room's type with the current room's words.
                if kind != here {
                    return Err((
                        format!("You are not in a {kind}."),
                        Self::failure("parsing", "other_room_argument", json!(kind)),
                    ));
                }
            }
        }
        Ok(command)
    }

    /// A predicate as a fact to look up: variables filled, and a type word
    /// standing for the (single) instance of that type, which the variable then keeps.
    fn probe(&self, predicate: &Predicate, variables: &mut Variables) -> Probe {
        let mut probe: Probe = vec![Some(predicate.name.clone())];
        for term in &predicate.args {
            probe.push(match term {
                Term::Variable(name) => variables.get(name).cloned().flatten(),
                Term::Constant(word) => Some(word.clone()),
            });
        }
        if predicate.name == "type" || predicate.name == "room" {
            return probe;
        }
        for slot in probe.iter_mut().skip(1) {
            let Some(word) = slot.clone() else { continue };
            if ends_with_digit(&word) || word.ends_with("inventory") {
                continue;
            }
            let instance = self
                .state
                .iter()
                .find(|fact| {
                    fact.len() == 3 && (fact[0] == "room" || fact[0] == "type") && fact[2] == word
                })
                .map(|fact| fact[1].clone());
            for value in variables.values_mut() {
                if value.as_deref() == Some(word.as_str()) {
                    value.clone_from(&instance);
                }
            }
            *slot = instance;
        }
        probe
    }

    fn holds(&self, probe: &Probe) -> bool {
        match probe.iter().cloned().collect::<Option<Vec<String>>>() {
            Some(fact) => self.state.contains(&fact),
            None => true,
        }
    }

    /// A function's value for an instance, and the fact that holds it.
    fn function_value(&self, function: &str, holder: Option<&str>) -> Option<&Fact> {
        self.state
            .iter()
            .rev()
            .find(|fact| fact.len() == 3 && fact[0] == function && Some(fact[1].as_str()) == holder)
    }

    fn quantity(&self, quantity: &Quantity, variables: &Variables) -> (f64, bool, Vec<String>) {
        match quantity {
            Quantity::Number(text) => (
                text.parse().unwrap_or(f64::NAN),
                text.contains('.'),
                Vec::new(),
            ),
            Quantity::Function { name, variable } => {
                let holder = variables.get(variable).cloned().flatten();
                match self.function_value(name, holder.as_deref()) {
                    Some(fact) => (
                        fact[2].parse().unwrap_or(f64::NAN),
                        fact[2].contains('.'),
                        fact.clone(),
                    ),
                    None => (
                        f64::NAN,
                        false,
                        vec![name.clone(), holder.unwrap_or_default()],
                    ),
                }
            }
        }
    }

    fn check(&self, condition: &Condition, variables: &mut Variables, index: &mut i64) -> Trace {
        match condition {
            Condition::Fact(predicate) => {
                let probe = self.probe(predicate, variables);
                *index += 1;
                Trace::Fact {
                    fulfilled: self.holds(&probe),
                    probe,
                    index: *index,
                }
            }
            Condition::Compare {
                comparison,
                left,
                right,
            } => {
                let (left, _, left_fact) = self.quantity(left, variables);
                let (right, _, right_fact) = self.quantity(right, variables);
                let fulfilled = comparison.holds(left, right);
                *index += 1;
                let shown = if fulfilled {
                    Vec::new()
                } else if !left_fact.is_empty() {
                    left_fact
                } else {
                    right_fact
                };
                Trace::Fact {
                    probe: shown.into_iter().map(Some).collect(),
                    fulfilled,
                    index: *index,
                }
            }
            Condition::Not(inner) => {
                let inner = self.check(inner, variables, index);
                Trace::Not {
                    fulfilled: !inner.fulfilled(),
                    inner: Box::new(inner),
                }
            }
            Condition::And(items) | Condition::Or(items) => {
                let items: Vec<Trace> = items
                    .iter()
                    .map(|c| self.check(c, variables, index))
                    .collect();
                if matches!(condition, Condition::And(_)) {
                    let fulfilled = items.iter().all(Trace::fulfilled);
                    Trace::And { items, fulfilled }
                } else {
                    let fulfilled = items.iter().any(Trace::fulfilled);
                    Trace::Or { items, fulfilled }
                }
            }
            Condition::Forall => {
                *index += 1;
                Trace::Fact {
                    probe: Vec::new(),
                    fulfilled: false,
                    index: *index,
                }
            }
        }
    }

    /// The resolution phase: parameters bound and typed, the precondition
    /// checked, the effects applied; the feedback, and the facts removed.
    #[allow(clippy::type_complexity)]
    fn resolve(
        &mut self,
        command: &Command,
    ) -> Result<Result<(String, Vec<Fact>), (String, Map<String, Value>)>, String> {
        let adventure = Arc::clone(&self.adventure);
        let action = &adventure.actions[&command.kind];
        let mut variables = Variables::new();
        let mut type_failures = Vec::new();
        for (parameter_type, names) in &action.pddl.parameters {
            for name in names {
                let key = format!("?{name}");
                let position = action
                    .mapping
                    .iter()
                    .position(|(k, _)| *k == key)
                    .unwrap_or_default();
                let sources = &action.mapping[position].1;
                let value = match sources[0].as_str() {
                    "arg1" => command.arg1.clone(),
                    "arg2" => match (&command.arg2, sources.get(1).map(String::as_str)) {
                        (Some(arg2), _) => Some(arg2.clone()),
                        (None, Some("arg1_receptacle")) => {
                            let arg1_variable = action
                                .mapping
                                .iter()
                                .find(|(_, s)| s[0] == "arg1")
                                .map(|(k, _)| k[1..].to_string());
                            let arg1 =
                                arg1_variable.and_then(|v| variables.get(&v).cloned().flatten());
                            arg1.and_then(|kind| {
                                let thing = format!("{kind}1");
                                self.state
                                    .iter()
                                    .find(|f| {
                                        f.len() == 3
                                            && (f[0] == "in" || f[0] == "on")
                                            && f[1] == thing
                                    })
                                    .map(|f| f[2].clone())
                            })
                        }
                        _ => None,
                    },
                    "current_player_room" => Some(self.room()),
                    "player" => Some("player1".into()),
                    "inventory" => Some("inventory".into()),
                    _ => Some(format!("{}floor1", self.room())),
                };
                if let Some(value) = &value {
                    let value_type = if ends_with_digit(value) {
                        self.inst_to_type
                            .get(value)
                            .or_else(|| self.room_to_type.get(value))
                            .unwrap_or(value)
                    } else {
                        value
                    };
                    let matched = value_type == parameter_type
                        || self
                            .adventure
                            .supertypes
                            .get(value_type)
                            .is_some_and(|s| s.contains(parameter_type));
                    if !matched {
                        let (template, kind) = &action.parameter_feedback[position];
                        let feedback = capitalize(&render(
                            template,
                            &IndexMap::from([(name.clone(), Some(value.clone()))]),
                        ));
                        let arg =
                            json!({"failed_action_type": command.kind, "failed_parameter": value});
                        type_failures.push((feedback, Self::failure("resolution", kind, arg)));
                    }
                }
                variables.insert(name.clone(), value);
            }
        }
        let mut index = -1;
        let items: Vec<Trace> = action
            .pddl
            .precondition
            .iter()
            .map(|condition| self.check(condition, &mut variables, &mut index))
            .collect();
        if !items.iter().all(Trace::fulfilled) {
            if variables.values().any(Option::is_none) {
                let arg = json!({"failed_action_type": command.kind, "failed_precon_predicate": "?s - receptacle"});
                return Ok(Err((
                    "You can't do that.".into(),
                    Self::failure("resolution", "take_non_takeable_object", arg),
                )));
            }
            let failed = Trace::first_failure(&items).ok_or_else(|| {
                format!(
                    "action {}: no failing precondition fact to give feedback on",
                    command.kind
                )
            })?;
            let position = failed.index().unwrap_or_default().max(0) as usize;
            let (template, kind) = &action.precondition_feedback[position];
            let feedback = capitalize(&render(template, &self.shown_variables(&variables)));
            let arg = json!({"failed_action_type": command.kind, "failed_precon_predicate": failed.to_json()});
            return Ok(Err((feedback, Self::failure("resolution", kind, arg))));
        }
        if let Some(failure) = type_failures.into_iter().next() {
            return Ok(Err(failure));
        }
        let template = &action.success_feedback;
        let changes = self.apply_effects(&action.pddl.effect, &mut variables)?;
        self.history.push(self.state.clone());
        let mut values = self.feedback_values(template, &variables, &changes, command.prep.clone());
        let arg1 = command.arg1.clone().unwrap_or_default();
        let arg2 = command.arg2.clone().unwrap_or_default();
        let mut extra = |key: &str, value: Option<String>| {
            if template.contains(key) {
                values.insert(key.to_string(), value);
            }
        };
        extra("arg1_desc", Some(self.entity_description(&arg1)));
        extra("arg2_desc", Some(self.entity_description(&arg2)));
        extra("arg1_text", self.entity_text(&arg1));
        Ok(Ok((render(template, &values), changes.removed)))
    }

    /// Applies an action's or event's effect: its `forall`s, `when`s, facts and changes.
    fn apply_effects(
        &mut self,
        effect: &Effect,
        variables: &mut Variables,
    ) -> Result<Changes, String> {
        let mut changes = Changes::default();
        for part in effect.parts() {
            match part {
                Effect::Forall { .. } => self.apply_forall(part, variables, &mut changes)?,
                Effect::When { .. } => self.apply_when(part, variables, &mut changes)?,
                other => self.apply(other, variables, &mut changes)?,
            }
        }
        Ok(changes)
    }

    /// What a feedback template may name besides the variables: the room, the
    /// inventory, where something was put, what an opened container holds.
    fn feedback_values(
        &self,
        template: &str,
        variables: &Variables,
        changes: &Changes,
        preposition: Option<String>,
    ) -> IndexMap<String, Option<String>> {
        let mut values = self.shown_variables(variables);
        let mut extra = |key: &str, value: Option<String>| {
            if template.contains(key) {
                values.insert(key.to_string(), value);
            }
        };
        extra("room_desc", Some(self.room_description()));
        extra("inventory_desc", Some(self.inventory_description()));
        let placed = changes
            .added
            .iter()
            .find(|f| f[0] == "in" || f[0] == "on")
            .map(|f| f[0].clone());
        extra("prep", preposition.or(placed));
        let opened = changes.added.iter().find(|f| f[0] == "open");
        let contents = opened.map(|f| self.container_description(&f[1]));
        extra("container_content", Some(contents.unwrap_or_default()));
        values
    }

    /// Fires the first event whose precondition holds for some binding of its
    /// parameters; its feedback, or `None` when none fires.
    fn run_events(&mut self) -> Result<Option<String>, String> {
        for index in 0..self.events.len() {
            // Each parameter's candidates: the instances (and rooms) of its types.
            let parameters: Vec<(String, Vec<String>)> = self.events[index]
                .parameters
                .iter()
                .map(|(name, kinds)| {
                    let found = self.state.iter().filter(|f| {
                        f.len() == 3 && (f[0] == "type" || f[0] == "room") && kinds.contains(&f[2])
                    });
                    (name.clone(), found.map(|f| f[1].clone()).collect())
                })
                .collect();
            if parameters
                .iter()
                .any(|(_, candidates)| candidates.is_empty())
            {
                continue;
            }
            // Every combination, the last parameter varying fastest (itertools.product).
            let mut positions = vec![0; parameters.len()];
            loop {
                let mut variables: Variables = parameters
                    .iter()
                    .zip(&positions)
                    .map(|((name, candidates), &at)| (name.clone(), Some(candidates[at].clone())))
                    .collect();
                // Every fact is checked, as the interpreter does, before the verdict.
                let checks: Vec<Trace> = self.events[index]
                    .pddl
                    .precondition
                    .iter()
                    .map(|condition| self.check(condition, &mut variables, &mut -1))
                    .collect();
                let holds = checks.iter().all(Trace::fulfilled);
                if holds {
                    return self.fire(index, variables).map(Some);
                }
                let Some(last) = (0..positions.len())
                    .rev()
                    .find(|&p| positions[p] + 1 < parameters[p].1.len())
                else {
                    break;
                };
                positions[last] += 1;
                positions[last + 1..].iter_mut().for_each(|p| *p = 0);
            }
        }
        Ok(None)
    }

    fn fire(&mut self, index: usize, mut variables: Variables) -> Result<String, String> {
        let effect = self.events[index].pddl.effect.clone();
        let changes = self.apply_effects(&effect, &mut variables)?;
        self.history.push(self.state.clone());
        let template = self.events[index].feedback.clone();
        let values = self.feedback_values(&template, &variables, &changes, None);
        // A randomized event moves its target for the next time it fires.
        if let Some(randomize) = self.events[index].randomize.clone() {
            let candidates: Vec<String> = self
                .state
                .iter()
                .filter(|f| {
                    f[0] == randomize.replace_type && !randomize.not_replacer.contains(&f[1])
                })
                .map(|f| f[1].clone())
                .collect();
            if let Some(next) = self.random.sample(&candidates, 1).pop() {
                let event = &mut self.events[index];
                let previous = std::mem::replace(&mut event.target, next.clone());
                event.pddl.effect.retarget(&previous, &next);
            }
        }
        Ok(render(&template, &values))
    }

    /// The variables as feedback shows them: instances by their words.
    fn shown_variables(&self, variables: &Variables) -> IndexMap<String, Option<String>> {
        variables
            .iter()
            .map(|(name, value)| {
                let shown = value.as_ref().map(|v| {
                    if ends_with_digit(v) {
                        self.shown(v)
                    } else {
                        v.clone()
                    }
                });
                (name.clone(), shown)
            })
            .collect()
    }

    fn apply_forall(
        &mut self,
        effect: &Effect,
        variables: &Variables,
        changes: &mut Changes,
    ) -> Result<(), String> {
        let Effect::Forall {
            variable,
            over,
            body,
        } = effect
        else {
            return Ok(());
        };
        // Instances by their trait or type fact; every typed entity when untyped.
        let members: Vec<String> = match over {
            Some(kind) => self
                .state
                .iter()
                .filter(|f| f[0] == *kind)
                .map(|f| f[1].clone())
                .collect(),
            None => self
                .state
                .iter()
                .filter(|f| f[0] == "type")
                .map(|f| f[1].clone())
                .collect(),
        };
        for member in members {
            let mut bound = variables.clone();
            bound.insert(variable.clone(), Some(member));
            for item in body {
                match item {
                    Effect::When { .. } => self.apply_when(item, &mut bound, changes)?,
                    Effect::And(items) => {
                        for inner in items {
                            match inner {
                                Effect::Fact { .. } => self.apply(inner, &bound, changes)?,
                                Effect::When { .. } => {
                                    self.apply_when(inner, &mut bound, changes)?
                                }
                                _ => {}
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn apply_when(
        &mut self,
        effect: &Effect,
        variables: &mut Variables,
        changes: &mut Changes,
    ) -> Result<(), String> {
        let Effect::When { condition, effect } = effect else {
            return Ok(());
        };
        if self.check(condition, variables, &mut 0).fulfilled() {
            for inner in effect.parts() {
                self.apply(inner, variables, changes)?;
            }
        }
        Ok(())
    }

    fn apply(
        &mut self,
        effect: &Effect,
        variables: &Variables,
        changes: &mut Changes,
    ) -> Result<(), String> {
        match effect {
            Effect::Fact { predicate, negated } => {
                let mut fact = vec![Some(predicate.name.clone())];
                for term in &predicate.args {
                    fact.push(match term {
                        Term::Variable(name) => variables.get(name).cloned().flatten(),
                        Term::Constant(word) => Some(word.clone()),
                    });
                }
                let Some(fact) = fact.into_iter().collect::<Option<Fact>>() else {
                    return Ok(());
                };
                if *negated {
                    self.state.shift_remove(&fact);
                    changes.removed.push(fact);
                } else {
                    self.state.insert(fact.clone());
                    changes.added.push(fact);
                }
            }
            Effect::Change {
                change,
                function,
                variable,
                amount,
            } => {
                let holder = variables.get(variable).cloned().flatten();
                let old = self
                    .function_value(function, holder.as_deref())
                    .cloned()
                    .ok_or_else(|| {
                        format!("{function} has no value for {}", holder.unwrap_or_default())
                    })?;
                let (by, by_float, _) = self.quantity(amount, variables);
                let value: f64 = old[2].parse().unwrap_or(f64::NAN);
                let float = by_float || old[2].contains('.');
                let new = match change {
                    Change::Increase => value + by,
                    Change::Decrease => value - by,
                    Change::Assign => by,
                };
                let float = if *change == Change::Assign {
                    by_float
                } else {
                    float
                };
                self.state.shift_remove(&old);
                changes.removed.push(old.clone());
                let fact = vec![old[0].clone(), old[1].clone(), number_text(new, float)];
                self.state.insert(fact.clone());
                changes.added.push(fact);
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_read_and_print_as_clembench_writes_them() {
        assert_eq!(
            parse_fact("at(apple1,kitchen1)").unwrap(),
            vec!["at", "apple1", "kitchen1"]
        );
        assert_eq!(parse_fact("open(box1)").unwrap(), vec!["open", "box1"]);
        assert_eq!(fact_string(&parse_fact("on(a1,b1)").unwrap()), "on(a1,b1)");
        assert!(parse_fact("at apple1")
            .unwrap_err()
            .contains("predicate(arguments)"));
        assert!(parse_fact("at(apple1")
            .unwrap_err()
            .contains("does not end with ')'"));
    }

    #[test]
    fn feedback_templates_fill_as_jinja_and_capitalize_as_python() {
        let values = IndexMap::from([
            ("e".to_string(), Some("red apple".to_string())),
            ("s".to_string(), None),
        ]);
        assert_eq!(
            render("You take the {{ e }}.{{s}}{{ t }}", &values),
            "You take the red apple.None"
        );
        assert_eq!(capitalize("the Apple is here"), "The apple is here");
        assert_eq!(number_text(3.0, false), "3");
        assert_eq!(number_text(3.0, true), "3.0");
    }
}
