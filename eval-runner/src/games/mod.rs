//! The clemgames: game masters that play an instance with one model in every
//! role and record the episode as clemcore does (its turns of events, its turn
//! and episode scores). Each game is a plain function of its instance and a
//! [`Responder`]; the model behind it may be the engine or a recording.

pub mod eqbench;
pub mod referencegame;
pub mod results;
pub mod single_turn;
pub mod taboo;
pub mod wordle;

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
    pub content: String,
}

/// Scores in the order the game logs them; NaN where clemcore writes NaN.
pub type Scores = Vec<(String, f64)>;

/// What one episode produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Episode {
    /// One list of events per round.
    pub turns: Vec<Vec<Event>>,
    /// By clemcore's turn index (most games count rounds from 0, wordle from 1).
    pub turn_scores: Vec<(usize, Scores)>,
    pub episode_scores: Scores,
}

/// A chat message as a player's history keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub role: &'static str,
    pub content: String,
}

/// The model behind the players: given a player and its whole history
/// (ending with the new context), returns the player's reply.
pub trait Responder {
    fn respond(&mut self, player: usize, history: &[Message]) -> String;
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
    pub fn ask(&mut self, context: &str, model: &mut dyn Responder, round: &mut Vec<Event>) -> String {
        let me = Party::Player(self.number);
        round.push(Event { from: Party::GameMaster, to: me, kind: "send message".into(), content: context.into() });
        self.history.push(Message { role: "user", content: context.to_string() });
        let reply = model.respond(self.number, &self.history);
        self.history.push(Message { role: "assistant", content: reply.clone() });
        round.push(Event { from: me, to: Party::GameMaster, kind: "get message".into(), content: reply.clone() });
        reply
    }
}

/// A game master's note to itself (`log_to_self`).
pub fn note(round: &mut Vec<Event>, kind: &str, content: &str) {
    round.push(Event { from: Party::GameMaster, to: Party::GameMaster, kind: kind.into(), content: content.into() });
}

/// Python's `round(x, 4)` for the ratios clemcore logs.
pub fn round4(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}
