//! textmapworld, textmapworld_specificroom and textmapworld_graphreasoning: the model explores a map of
//! rooms by moves ("GO: north") that a scripted describer (Player 2) answers
//! with the room reached and its exits, until it says "DONE" (at most 20
//! rounds). textmapworld: Main Score is the harmonic mean of exploration (share
//! of rooms visited) and efficiency (share of moves on a shortest route that
//! takes in every room not yet seen). specificroom: 100 when it stops in the
//! goal room. graphreasoning: each reply is a JSON-like object with the move
//! as "action" and the map drawn so far as "graph", scored as textmapworld,
//! plus how close each drawing is to the map.
//! A reply of any other form, or never saying DONE, aborts.

use super::python_re::PythonRegex;
use super::{
    graph_edit, harmonic_mean, note, python_str, ratio, scripted_exchange, Episode, Event, GameError, Player,
    Responder, Scores,
};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

const MAX_ROUNDS: usize = 20;

/// The game master reads only the experiment's instances.
pub type Experiment = super::Instances<Instance>;

/// The fields the game master reads; the map is written as Python literals.
#[derive(Clone, Debug, Deserialize)]
pub struct Instance {
    pub game_id: u64,
    #[serde(rename = "Prompt")]
    pub prompt: String,
    #[serde(rename = "Player2_positive_answer")]
    pub positive_answer: String,
    #[serde(rename = "Player2_negative_answer")]
    pub negative_answer: String,
    #[serde(rename = "Move_Construction")]
    pub move_construction: String,
    #[serde(rename = "Stop_Construction")]
    pub stop_construction: String,
    /// graphreasoning: the pattern of the whole reply; group 1 is the action, group 2 the graph.
    #[serde(rename = "Response_Construction", default)]
    pub response_construction: Option<String>,
    #[serde(rename = "Graph_Nodes")]
    pub graph_nodes: String,
    #[serde(rename = "Graph_Edges")]
    pub graph_edges: String,
    #[serde(rename = "Current_Position")]
    pub current_position: String,
    #[serde(rename = "Moves")]
    pub moves: String,
    /// specificroom: the room to stop in.
    #[serde(rename = "Specific_Room", default)]
    pub specific_room: Option<String>,
}

/// Which of the map games is played.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Explore,
    SpecificRoom,
    GraphReasoning,
}

/// A Python literal: strings, numbers and None in lists, tuples and dicts.
#[derive(Clone, Debug, PartialEq)]
enum Literal {
    Text(String),
    Int(i64),
    Float(f64),
    None,
    List(Vec<Literal>),
    Tuple(Vec<Literal>),
    Dict(Vec<(Literal, Literal)>),
}

impl Literal {
    fn parse(text: &str) -> Result<Self, String> {
        let chars: Vec<char> = text.chars().collect();
        let mut at = 0;
        let value = Self::value(&chars, &mut at)?;
        skip_space(&chars, &mut at);
        if at != chars.len() {
            return Err(format!("unexpected text at {at}"));
        }
        Ok(value)
    }

    fn value(chars: &[char], at: &mut usize) -> Result<Self, String> {
        skip_space(chars, at);
        match chars.get(*at) {
            Some(&quote @ ('\'' | '"')) => {
                *at += 1;
                let mut text = String::new();
                loop {
                    match chars.get(*at) {
                        None => return Err("unterminated string".into()),
                        Some('\\') => {
                            text.push(*chars.get(*at + 1).ok_or("unterminated string")?);
                            *at += 2;
                        }
                        Some(&c) if c == quote => {
                            *at += 1;
                            return Ok(Self::Text(text));
                        }
                        Some(&c) => {
                            text.push(c);
                            *at += 1;
                        }
                    }
                }
            }
            Some(&open @ ('[' | '(' | '{')) => {
                let close = match open {
                    '[' => ']',
                    '(' => ')',
                    _ => '}',
                };
                *at += 1;
                let (mut items, mut pairs) = (Vec::new(), Vec::new());
                let mut trailing_comma = false;
                loop {
                    skip_space(chars, at);
                    if chars.get(*at) == Some(&close) {
                        *at += 1;
                        return Ok(match open {
                            '{' => Self::Dict(pairs),
                            '[' => Self::List(items),
                            // `(x)` is x itself; `(x,)` and `()` are tuples.
                            _ if items.len() == 1 && !trailing_comma => items.remove(0),
                            _ => Self::Tuple(items),
                        });
                    }
                    let item = Self::value(chars, at)?;
                    skip_space(chars, at);
                    if open == '{' {
                        if chars.get(*at) != Some(&':') {
                            return Err(format!("expected ':' at {at}"));
                        }
                        *at += 1;
                        pairs.push((item, Self::value(chars, at)?));
                        skip_space(chars, at);
                    } else {
                        items.push(item);
                    }
                    trailing_comma = chars.get(*at) == Some(&',');
                    match chars.get(*at) {
                        Some(',') => *at += 1,
                        Some(&c) if c == close => {}
                        _ => return Err(format!("expected ',' or '{close}' at {at}")),
                    }
                }
            }
            Some(c) if c.is_ascii_digit() || *c == '-' => {
                let start = *at;
                while chars
                    .get(*at)
                    .is_some_and(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | 'e'))
                {
                    *at += 1;
                }
                let number: String = chars[start..*at].iter().collect();
                let float = || {
                    number
                        .parse()
                        .map(Self::Float)
                        .map_err(|_| format!("bad number {number}"))
                };
                number.parse().map(Self::Int).or_else(|_| float())
            }
            _ if chars[*at..].starts_with(&['N', 'o', 'n', 'e']) => {
                *at += 4;
                Ok(Self::None)
            }
            other => Err(format!("unexpected {other:?} at {at}")),
        }
    }

    fn text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            _ => None,
        }
    }

    fn items(&self) -> &[Literal] {
        match self {
            Self::List(items) | Self::Tuple(items) => items,
            _ => &[],
        }
    }

    /// As Python's `str()` prints it.
    fn repr(&self) -> String {
        let joined = |items: &[Literal]| {
            items
                .iter()
                .map(Literal::repr)
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Self::Text(text) => python_str(text),
            Self::Int(n) => n.to_string(),
            Self::Float(x) if x.fract() == 0.0 && x.abs() < 1e16 => format!("{x:.1}"),
            Self::Float(x) => x.to_string(),
            Self::None => "None".to_string(),
            Self::List(items) => format!("[{}]", joined(items)),
            Self::Tuple(items) if items.len() == 1 => format!("({},)", items[0].repr()),
            Self::Tuple(items) => format!("({})", joined(items)),
            Self::Dict(pairs) => {
                let pairs: Vec<String> = pairs
                    .iter()
                    .map(|(k, v)| format!("{}: {}", k.repr(), v.repr()))
                    .collect();
                format!("{{{}}}", pairs.join(", "))
            }
        }
    }

    fn get(&self, key: &str) -> Option<&Literal> {
        match self {
            Self::Dict(pairs) => pairs
                .iter()
                .find(|(k, _)| k.text() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

fn skip_space(chars: &[char], at: &mut usize) {
    while chars.get(*at).is_some_and(|c| c.is_whitespace()) {
        *at += 1;
    }
}

/// The map: rooms, their neighbours and each room's exits by direction.
struct Map {
    rooms: Vec<String>,
    neighbours: HashMap<String, BTreeSet<String>>,
    /// Room → (direction, room reached), in the instance's order.
    exits: HashMap<String, Vec<(String, String)>>,
}

impl Map {
    fn read(instance: &Instance) -> Result<Self, GameError> {
        let bad = |field: &str, e: String| {
            GameError::Instance(format!(
                "instance {}: {field} is not a Python literal: {e}",
                instance.game_id
            ))
        };
        let nodes = Literal::parse(&instance.graph_nodes).map_err(|e| bad("Graph_Nodes", e))?;
        let edges = Literal::parse(&instance.graph_edges).map_err(|e| bad("Graph_Edges", e))?;
        let moves = Literal::parse(&instance.moves).map_err(|e| bad("Moves", e))?;
        let rooms: Vec<String> = nodes
            .items()
            .iter()
            .filter_map(Literal::text)
            .map(str::to_string)
            .collect();
        let mut neighbours: HashMap<String, BTreeSet<String>> = HashMap::new();
        for edge in edges.items() {
            if let [a, b] = edge.items() {
                let (Some(a), Some(b)) = (a.text(), b.text()) else {
                    continue;
                };
                neighbours
                    .entry(a.to_string())
                    .or_default()
                    .insert(b.to_string());
                neighbours
                    .entry(b.to_string())
                    .or_default()
                    .insert(a.to_string());
            }
        }
        let mut exits: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for entry in moves.items() {
            let Some(room) = entry.get("node").and_then(Literal::text) else {
                continue;
            };
            let list = exits.entry(room.to_string()).or_default();
            for step in entry.get("node_moves").map_or(&[][..], Literal::items) {
                if let [direction, to] = step.items() {
                    if let (Some(direction), Some(to)) = (direction.text(), to.text()) {
                        let exit = (direction.to_string(), to.to_string());
                        if !list.contains(&exit) {
                            list.push(exit);
                        }
                    }
                }
            }
        }
        if rooms.is_empty() || !rooms.contains(&instance.current_position) {
            return Err(GameError::Instance(format!(
                "instance {}: the start room is not on the map",
                instance.game_id
            )));
        }
        Ok(Self {
            rooms,
            neighbours,
            exits,
        })
    }

    fn directions(&self, room: &str) -> String {
        self.exits
            .get(room)
            .map(|exits| {
                exits
                    .iter()
                    .map(|(d, _)| d.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    }

    /// Steps of the shortest walk from `from` that enters every room in `targets`.
    fn walk_length(&self, from: &str, targets: &BTreeSet<String>) -> Option<usize> {
        let start = (
            from.to_string(),
            targets
                .iter()
                .filter(|t| *t != from)
                .cloned()
                .collect::<BTreeSet<_>>(),
        );
        let mut seen = BTreeSet::from([start.clone()]);
        let mut queue = VecDeque::from([(start, 0)]);
        while let Some(((room, left), steps)) = queue.pop_front() {
            if left.is_empty() {
                return Some(steps);
            }
            for next in self.neighbours.get(&room).into_iter().flatten() {
                let mut rest = left.clone();
                rest.remove(next);
                let state = (next.clone(), rest);
                if seen.insert(state.clone()) {
                    queue.push_back((state, steps + 1));
                }
            }
        }
        None
    }

    /// A move is good when it starts a shortest walk through every room next
    /// to the visited ones that is not visited yet, while rooms remain unvisited.
    fn is_good_move(&self, visited: &BTreeSet<String>, from: &str, to: &str) -> bool {
        if visited.len() >= self.rooms.len() {
            return false;
        }
        let frontier: BTreeSet<String> = visited
            .iter()
            .flat_map(|room| self.neighbours.get(room).into_iter().flatten())
            .filter(|room| !visited.contains(*room))
            .cloned()
            .collect();
        let (Some(best), Some(via)) = (
            self.walk_length(from, &frontier),
            self.walk_length(to, &frontier),
        ) else {
            return false;
        };
        via + 1 == best
    }

    /// The map's shape, names lowercased, as clembench's scorer builds it.
    fn shape(&self) -> graph_edit::Graph {
        let edges = self
            .neighbours
            .iter()
            .flat_map(|(a, bs)| bs.iter().map(move |b| (a.to_lowercase(), b.to_lowercase())));
        shape(self.rooms.iter().map(|r| r.to_lowercase()), edges)
    }
}

/// graphreasoning: how close a drawn graph is to the map's shape, as clembench
/// scores it: 100 × (1 − 2 × (sigmoid(d / 2) − ½)) for the graph edit distance
/// d; 0 for a graph it cannot read.
fn similarity(map: &graph_edit::Graph, drawn: &Literal) -> f64 {
    let Some(drawn) = drawn_shape(drawn) else {
        return 0.0;
    };
    let distance = graph_edit::edit_distance(map, &drawn) as f64;
    let normalized = 2.0 * (1.0 / (1.0 + (-0.5 * distance).exp()) - 0.5);
    100.0 * (1.0 - normalized)
}

/// Named nodes and edges as a [`graph_edit::Graph`]; an edge's ends are nodes
/// even when not listed, as networkx adds them.
fn shape(
    nodes: impl IntoIterator<Item = String>,
    edges: impl IntoIterator<Item = (String, String)>,
) -> graph_edit::Graph {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut id = |name: String| {
        let next = index.len();
        *index.entry(name).or_insert(next)
    };
    nodes.into_iter().for_each(|name| {
        id(name);
    });
    let pairs: Vec<(usize, usize)> = edges.into_iter().map(|(a, b)| (id(a), id(b))).collect();
    graph_edit::Graph::new(index.len(), &pairs)
}

/// The model's `{"nodes": [...], "edges": {direction: [(a, b), ...]}}`, read as
/// clembench reads it (an edge is the first two items, or characters, of each entry).
fn drawn_shape(graph: &Literal) -> Option<graph_edit::Graph> {
    let nodes = match graph.get("nodes")? {
        Literal::List(items) | Literal::Tuple(items) => items,
        _ => return None,
    };
    let nodes: Vec<String> = nodes
        .iter()
        .map(|n| n.text().map(str::to_lowercase))
        .collect::<Option<_>>()?;
    let Literal::Dict(by_direction) = graph.get("edges")? else {
        return None;
    };
    let mut edges = Vec::new();
    for (_, entries) in by_direction {
        let (Literal::List(entries) | Literal::Tuple(entries)) = entries else {
            return None;
        };
        for entry in entries {
            let ends = match entry {
                Literal::Text(text) => {
                    let mut chars = text.chars().map(|c| c.to_lowercase().to_string());
                    (chars.next()?, chars.next()?)
                }
                other => match other.items() {
                    [a, b, ..] => (a.text()?.to_lowercase(), b.text()?.to_lowercase()),
                    _ => return None,
                },
            };
            edges.push(ends);
        }
    }
    Some(shape(nodes, edges))
}

/// A room as the messages name it: ambiguous rooms carry a "_n" suffix.
fn shown(room: &str) -> &str {
    room.split('_').next().unwrap_or(room)
}

/// Python's `re.search(pattern, text, re.IGNORECASE)`: the first group
/// (lowercased) when there is one.
fn search(pattern: &PythonRegex, text: &str) -> Option<Option<String>> {
    let captures = pattern.captures(text)?;
    Some(captures.get(1).map(|m| m.as_str().to_lowercase()))
}

pub fn play(
    variant: Variant,
    instance: &Instance,
    model: &mut dyn Responder,
) -> Result<Episode, GameError> {
    let map = Map::read(instance)?;
    let pattern = |source: &str| {
        PythonRegex::searching(source, true)
            .map_err(|e| GameError::Instance(format!("instance {}: {e}", instance.game_id)))
    };
    let (go, done) = (
        pattern(&instance.move_construction)?,
        pattern(&instance.stop_construction)?,
    );
    let with_graph = match (variant, &instance.response_construction) {
        (Variant::GraphReasoning, Some(source)) => Some(pattern(source)?),
        (Variant::GraphReasoning, None) => {
            return Err(GameError::Instance(format!(
                "instance {}: no Response_Construction",
                instance.game_id
            )))
        }
        _ => None,
    };
    let mut explorer = Player::new(1);
    let mut room = instance.current_position.clone();
    let mut context = instance
        .prompt
        .replace("$INITIAL_ROOM$", shown(&room))
        .replace("$INITIAL_DIRECTIONS$", &map.directions(&room))
        .replace(
            "$GOAL$",
            instance.specific_room.as_deref().map_or("", shown),
        );
    let mut turns: Vec<Vec<Event>> = Vec::new();
    let mut path = vec![room.clone()];
    // graphreasoning: the graph drawn with each move.
    let mut graphs = Vec::new();
    let stopped = loop {
        let mut round = Vec::new();
        let reply = explorer.ask(&context, model, &mut round)?;
        // graphreasoning: the action and the graph inside a reply whose graph reads as a Python literal.
        let (action, graph) = match &with_graph {
            None => (Some(reply.clone()), None),
            Some(whole) => {
                let flat = reply.replace('\n', "");
                let captures = whole.captures(&flat);
                let graph = captures
                    .as_ref()
                    .and_then(|c| c.get(2))
                    .and_then(|g| Literal::parse(g.as_str()).ok());
                let action = captures
                    .as_ref()
                    .filter(|_| graph.is_some())
                    .and_then(|c| c.get(1))
                    .map(|a| a.as_str().to_string());
                (action, graph)
            }
        };
        let action = action.unwrap_or_default();
        let (stop, step) = (search(&done, &action).is_some(), search(&go, &action));
        let direction = match (stop, step) {
            (true, None) => {
                note(&mut round, "stop", "The guesser decided to stop the game");
                turns.push(round);
                break true;
            }
            (false, Some(Some(direction))) => direction,
            _ => {
                note(&mut round, "aborted", "abort game");
                turns.push(round);
                break false;
            }
        };
        note(&mut round, "Valid format", "Continue");
        let parsed = reply.replace('\n', "").trim().to_string();
        note(&mut round, "parse", &parsed);
        let reached = map
            .exits
            .get(&room)
            .and_then(|exits| exits.iter().find(|(d, _)| *d == direction))
            .map(|(_, to)| to.clone());
        let answer = match &reached {
            Some(to) => instance
                .positive_answer
                .replace("$ANOTHER_ROOM$", shown(to))
                .replace("$DIRECTIONS$", &map.directions(to)),
            None => instance
                .negative_answer
                .replace("$SAME_ROOM$", shown(&room))
                .replace("$DIRECTIONS$", &map.directions(&room)),
        };
        // The describer is scripted.
        scripted_exchange(&mut round, 2, &parsed, &answer);
        if let Some(to) = reached {
            // As Python's json.dumps({"old": …, "new": …}) writes it.
            let quoted = |room: &str| serde_json::to_string(room).expect("strings serialize");
            note(
                &mut round,
                "move",
                &format!("{{\"old\": {}, \"new\": {}}}", quoted(&room), quoted(&to)),
            );
            room = to;
            path.push(room.clone());
            if let Some(graph) = graph {
                note(&mut round, "graph", &graph.repr());
                graphs.push(graph);
            }
        }
        context = answer;
        if turns.len() + 1 >= MAX_ROUNDS {
            note(&mut round, "turns_limit", &MAX_ROUNDS.to_string());
            turns.push(round);
            break false;
        }
        turns.push(round);
    };
    let (turn_scores, episode_scores) =
        score(variant, instance, &map, &turns, &path, &graphs, stopped);
    Ok(Episode {
        turns,
        turn_scores,
        episode_scores,
        ..Default::default()
    })
}

fn score(
    variant: Variant,
    instance: &Instance,
    map: &Map,
    turns: &[Vec<Event>],
    path: &[String],
    graphs: &[Literal],
    stopped: bool,
) -> (Vec<(usize, Scores)>, Scores) {
    // Replays the moves: whether each was good, and the loops (four positions, fewer than three rooms).
    let mut visited = BTreeSet::from([path[0].clone()]);
    let mut turn_scores = Vec::new();
    let (mut good, mut loops) = (0usize, 0usize);
    let mut move_index = 0;
    // Turn scores are numbered by move, as clembench's scorer numbers them.
    for events in turns {
        if !events.iter().any(|e| e.kind == "move") {
            continue;
        }
        let (from, to) = (&path[move_index], &path[move_index + 1]);
        let efficient = map.is_good_move(&visited, from, to);
        good += usize::from(efficient);
        visited.insert(to.clone());
        let recent = &path[(move_index + 2).saturating_sub(4)..=move_index + 1];
        if recent.len() == 4 && recent.iter().collect::<BTreeSet<_>>().len() < 3 {
            loops += 1;
        }
        turn_scores.push((
            move_index,
            vec![(
                "effiencient_move".to_string(),
                f64::from(u8::from(efficient)),
            )],
        ));
        move_index += 1;
    }
    let map_shape = map.shape();
    let similarities: Vec<f64> = graphs.iter().map(|g| similarity(&map_shape, g)).collect();
    for ((_, scores), similarity) in turn_scores.iter_mut().zip(&similarities) {
        scores.push(("similarity".to_string(), *similarity));
    }
    let flag = |b: bool| f64::from(u8::from(b));
    let last_room = path.last().expect("the start room");
    let success = stopped
        && match variant {
            Variant::Explore | Variant::GraphReasoning => visited.len() == map.rooms.len(),
            Variant::SpecificRoom => instance
                .specific_room
                .as_deref()
                .is_some_and(|goal| goal.to_lowercase() == last_room.to_lowercase()),
        };
    let mut episode: Scores = vec![
        ("Aborted".into(), flag(!stopped)),
        ("Success".into(), flag(success)),
        ("Lose".into(), flag(stopped && !success)),
    ];
    let moves = path.len() - 1;
    let seen: BTreeSet<&String> = visited
        .iter()
        .chain(
            visited
                .iter()
                .flat_map(|r| map.neighbours.get(r).into_iter().flatten()),
        )
        .collect();
    let efficiency = 100.0 * ratio(good as f64, moves as f64);
    let exploration = 100.0 * visited.len() as f64 / map.rooms.len() as f64;
    let harmonic = harmonic_mean(efficiency, exploration);
    let attempts = turns
        .iter()
        .filter(|round| round.iter().any(|e| e.kind == "Valid format"))
        .count();
    let only_if_stopped = |value: f64| if stopped { value } else { f64::NAN };
    let mut metrics: BTreeMap<&str, f64> = BTreeMap::new();
    metrics.insert("moves", attempts as f64);
    metrics.insert("valid_moves", moves as f64);
    metrics.insert("invalid_moves", 0.0);
    metrics.insert("stopped", flag(stopped));
    metrics.insert("turns_limit", flag(turns.len() >= MAX_ROUNDS && !stopped));
    metrics.insert("loops", loops as f64);
    metrics.insert("number_visited", visited.len() as f64);
    metrics.insert("seen", seen.len() as f64);
    metrics.insert("efficiency", efficiency);
    metrics.insert("exploration", exploration);
    for name in [
        "moves",
        "valid_moves",
        "invalid_moves",
        "stopped",
        "turns_limit",
        "loops",
        "number_visited",
        "seen",
        "efficiency",
        "exploration",
    ] {
        episode.push((name.to_string(), only_if_stopped(metrics[name])));
    }
    if variant == Variant::GraphReasoning {
        let last = similarities.last().copied().unwrap_or(0.0);
        episode.push(("graph_similarity".into(), only_if_stopped(last)));
    }
    let main = match variant {
        Variant::Explore | Variant::GraphReasoning => harmonic,
        Variant::SpecificRoom => {
            episode.push(("old_benchscore".into(), only_if_stopped(harmonic)));
            100.0 * flag(success)
        }
    };
    episode.push(("Main Score".into(), only_if_stopped(main)));
    (turn_scores, episode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_literals_are_read() {
        let value =
            Literal::parse("[{'node': 'Bar', 'node_moves': [('west', \"Home office\")]}, None, 3]")
                .unwrap();
        let first = &value.items()[0];
        assert_eq!(first.get("node").and_then(Literal::text), Some("Bar"));
        assert_eq!(
            first.get("node_moves").unwrap().items()[0].items()[1].text(),
            Some("Home office")
        );
        assert_eq!(value.items()[1..], [Literal::None, Literal::Int(3)]);
        assert!(Literal::parse("['open")
            .unwrap_err()
            .contains("unterminated"));
        assert!(Literal::parse("['a' 'b']").is_err());
    }
}
