//! The clemgames: game masters that play an instance with one model in every
//! role and record the episode as clemcore does (its turns of events, its turn
//! and episode scores). Each game is a plain function of its instance and a
//! [`Responder`]; the model behind it may be the engine or a recording.

pub mod adventuregame;
pub mod catalog;
pub mod codenames;
pub mod eqbench;
pub mod graph_edit;
pub mod guesswhat;
pub mod ifeval;
pub mod imagegame;
pub mod matchit_ascii;
pub mod privateshared;
pub mod python_re;
pub mod python_random;
pub mod referencegame;
pub mod results;
pub mod single_turn;
pub mod taboo;
pub mod textmapworld;
pub mod wordle;
pub mod wordnet;

/// An experiment of an instances file, for the games that read only its instances.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct Instances<I> {
    pub name: String,
    pub game_instances: Vec<I>,
}

/// Who sends or receives a message: the game master or a numbered player.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Party {
    GameMaster,
    /// 1-based, as clemcore names them ("Player 1").
    Player(usize),
}

impl Party {
    pub fn name(self) -> String {
        match self {
            Self::GameMaster => "GM".to_string(),
            Self::Player(n) => format!("Player {n}"),
        }
    }
}

/// One entry of an episode's `turns` in `interactions.json`.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub from: Party,
    pub to: Party,
    /// clemcore's action type, e.g. "send message", "get message", "parse".
    pub kind: String,
    /// Mostly text; some games log structured content (codenames' board).
    pub content: serde_json::Value,
    pub timestamp: String,
}

impl Event {
    pub fn now(from: Party, to: Party, kind: &str, content: &str) -> Self {
        Self::structured(from, to, kind, content.into())
    }

    pub fn structured(from: Party, to: Party, kind: &str, content: serde_json::Value) -> Self {
        Self { from, to, kind: kind.into(), content, timestamp: timestamp_now() }
    }

    /// The content when it is text, else "".
    pub fn text(&self) -> &str {
        self.content.as_str().unwrap_or_default()
    }
}

/// The local time as Python's `datetime.now().isoformat()` writes it, as clemcore stamps its records.
pub fn timestamp_now() -> String {
    chrono::Local::now().naive_local().format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// Scores in the order the game logs them; NaN where clemcore writes NaN.
pub type Scores = Vec<(String, f64)>;

/// Entries of `scores.json` that are not numbers (codenames' tallies of a
/// round, its experiment's name), in the order the game logs them.
pub type Details = Vec<(String, serde_json::Value)>;

/// What one episode produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Episode {
    /// One list of events per round.
    pub turns: Vec<Vec<Event>>,
    /// By clemcore's turn index (most games count rounds from 0, wordle from 1).
    pub turn_scores: Vec<(usize, Scores)>,
    pub episode_scores: Scores,
    /// Written ahead of the numbers of the same turn, as the one game that has them logs them first.
    pub turn_details: Vec<(usize, Details)>,
    pub episode_details: Details,
    /// What the game master logs beside its turns (clemcore's `log_key`), at the
    /// top of `interactions.json`: the values clemcore's scorers read back.
    pub keys: Details,
}

/// A chat message as a player's history keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub role: &'static str,
    pub content: String,
}

/// Why an episode could not be played to its end.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GameError {
    /// The run's time ran out before the episode ended.
    #[error("the time limit was reached")]
    TimeUp,
    /// The model gave no reply (the prompt did not fit, or inference failed).
    #[error("the model failed: {0}")]
    Model(String),
    /// The instance cannot be played as written (a bad pattern or template).
    #[error("{0}")]
    Instance(String),
}

/// The model behind the players: given a player and its whole history
/// (ending with the new context), returns the player's reply.
pub trait Responder {
    fn respond(&mut self, player: usize, history: &[Message]) -> Result<String, GameError>;
}

/// A player of the legacy DialogueGameMaster: keeps its own history, and
/// records the exchange as the game master's "send message"/"get message".
pub struct Player {
    pub number: usize,
    history: Vec<Message>,
}

impl Player {
    pub fn new(number: usize) -> Self {
        Self { number, history: Vec::new() }
    }

    /// Sends `context` to the player and returns its reply, recording both events in `round`.
    pub fn ask(&mut self, context: &str, model: &mut dyn Responder, round: &mut Vec<Event>) -> Result<String, GameError> {
        let me = Party::Player(self.number);
        round.push(Event::now(Party::GameMaster, me, "send message", context));
        self.history.push(Message { role: "user", content: context.to_string() });
        let reply = model.respond(self.number, &self.history)?;
        self.history.push(Message { role: "assistant", content: reply.clone() });
        round.push(Event::now(me, Party::GameMaster, "get message", &reply));
        Ok(reply)
    }

    /// Puts a scripted exchange into the history without asking the model.
    pub fn pretend(&mut self, context: &str, reply: &str, round: &mut Vec<Event>) {
        scripted_exchange(round, self.number, context, reply);
        self.history.push(Message { role: "user", content: context.to_string() });
        self.history.push(Message { role: "assistant", content: reply.to_string() });
    }

    /// Asks with the whole history but keeps neither question nor reply (a probe aside).
    pub fn ask_aside(&mut self, context: &str, model: &mut dyn Responder, round: &mut Vec<Event>) -> Result<String, GameError> {
        let kept = self.history.len();
        let reply = self.ask(context, model, round);
        self.history.truncate(kept);
        reply
    }
}

/// Records an exchange with a scripted player (no model is asked), as clemcore
/// logs a programmatic player's turn.
pub fn scripted_exchange(round: &mut Vec<Event>, player: usize, context: &str, reply: &str) {
    let them = Party::Player(player);
    round.push(Event::now(Party::GameMaster, them, "send message", context));
    round.push(Event::now(them, Party::GameMaster, "get message", reply));
}

/// A game master's note to itself (`log_to_self`).
pub fn note(round: &mut Vec<Event>, kind: &str, content: &str) {
    round.push(Event::now(Party::GameMaster, Party::GameMaster, kind, content));
}

/// A game master's note to itself with structured content.
pub fn note_structured(round: &mut Vec<Event>, kind: &str, content: serde_json::Value) {
    round.push(Event::structured(Party::GameMaster, Party::GameMaster, kind, content));
}

/// `part / whole`, and 0 when there is no whole (no request made, no word
/// targeted), where the scorers write 0 rather than fail.
pub fn ratio(part: f64, whole: f64) -> f64 {
    if whole == 0.0 {
        0.0
    } else {
        part / whole
    }
}

/// 2ab / (a + b), the F1 of two shares; 0 when both are 0 (NaN stays NaN).
pub fn harmonic_mean(a: f64, b: f64) -> f64 {
    if a + b == 0.0 {
        0.0
    } else {
        2.0 * a * b / (a + b)
    }
}

/// Python's `round(x, 4)` for the ratios clemcore logs.
pub fn round4(value: f64) -> f64 {
    round_to(value, 4)
}

/// Python's `round(x, places)`, to the precision the scores need.
pub fn round_to(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

/// A string as Python's `repr` quotes it: single quotes unless it holds one and no double quote.
pub fn python_str(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut quoted = String::from(quote);
    for c in text.chars() {
        match c {
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            c if c == quote => {
                quoted.push('\\');
                quoted.push(c);
            }
            c => quoted.push(c),
        }
    }
    quoted.push(quote);
    quoted
}

/// A JSON object read in its document order (serde_json's maps sort their keys).
#[derive(Clone, Debug, PartialEq)]
pub struct OrderedMap<V>(pub Vec<(String, V)>);

impl<'de, V: serde::Deserialize<'de>> serde::Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<V>(std::marker::PhantomData<V>);
        impl<'de, V: serde::Deserialize<'de>> serde::de::Visitor<'de> for Visitor<V> {
            type Value = OrderedMap<V>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<OrderedMap<V>, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, V>()? {
                    entries.push(entry);
                }
                Ok(OrderedMap(entries))
            }
        }
        deserializer.deserialize_map(Visitor(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_without_a_whole_are_zero() {
        assert_eq!(ratio(3.0, 4.0), 0.75);
        assert_eq!(ratio(0.0, 0.0), 0.0);
        assert_eq!(harmonic_mean(0.5, 1.0), 2.0 / 3.0);
        assert_eq!(harmonic_mean(0.0, 0.0), 0.0);
        assert_eq!(harmonic_mean(0.0, 0.8), 0.0);
        assert!(harmonic_mean(f64::NAN, 0.0).is_nan(), "nothing to count stays unknown");
    }
}
