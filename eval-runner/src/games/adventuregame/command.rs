//! The command grammar: adventuregame writes it in Lark's notation, one
//! snippet per action plus a shared head and foot, and parses each command
//! with Lark's Earley parser. This reads the part of that notation the
//! grammars use (rules and terminals with priorities, string literals,
//! groups, alternatives, `?`, `*`, `+`, and the imported WORD and WS) and
//! finds the parse of the whole command that Lark would choose: the highest
//! sum of rule and terminal priorities, then Lark's order (see [`Order`]).
//! Each rule's readings are found once per position, and only the best for
//! each span is kept, as Lark settles ambiguity per node of its parse forest.

use regex::Regex;
use std::cell::RefCell;
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq)]
enum Expr {
    Literal(String),
    Symbol(String),
    Sequence(Vec<Expr>),
    Choice(Vec<Expr>),
    Repeat {
        inner: Box<Expr>,
        min: usize,
        unbounded: bool,
    },
}

/// A token or a rule's subtree, as Lark's tree keeps them.
#[derive(Clone, Debug, PartialEq)]
enum Node {
    Token { terminal: String, text: String },
    Tree { rule: String, children: Vec<Node> },
}

/// A way to read part of the input: where it ends, what it built, its priority.
#[derive(Clone, Debug)]
struct Reading {
    end: usize,
    nodes: Vec<Node>,
    priority: i64,
    order: Order,
}

/// How Lark ranks readings of equal priority, smaller first: within a rule,
/// first its expansion (each choice's alternative in order, each optional
/// part present before absent), then where its parts end (the earlier parts
/// taking the most input). A subrule's own ambiguity is settled for its span
/// alone, as Lark settles it per node of its parse forest.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Order {
    choices: Vec<i64>,
    ends: Vec<i64>,
}

impl Order {
    /// A part ending at `end`: a token, a literal or a subrule.
    fn part(end: usize) -> Self {
        Self {
            choices: Vec::new(),
            ends: vec![-(end as i64)],
        }
    }

    fn followed_by(&self, next: Order) -> Self {
        Self {
            choices: [self.choices.as_slice(), &next.choices].concat(),
            ends: [self.ends.as_slice(), &next.ends].concat(),
        }
    }

    /// Its shape: readings of one shape keep their ranking whatever follows them.
    fn shape(&self) -> (usize, usize) {
        (self.choices.len(), self.ends.len())
    }
}

/// Readings better first: higher priority, then Lark's order.
fn better(a: &Reading, b: &Reading) -> std::cmp::Ordering {
    b.priority
        .cmp(&a.priority)
        .then_with(|| a.order.cmp(&b.order))
}

/// Of readings that end at the same place with the same shape, only the best
/// can be part of the best whole, so the others are dropped.
fn keep_best(readings: Vec<Reading>) -> Vec<Reading> {
    let mut kept: Vec<Reading> = Vec::new();
    for reading in readings {
        let rival = kept
            .iter_mut()
            .find(|kept| kept.end == reading.end && kept.order.shape() == reading.order.shape());
        match rival {
            Some(rival) if better(&reading, rival).is_lt() => *rival = reading,
            Some(_) => {}
            None => kept.push(reading),
        }
    }
    kept
}

impl Reading {
    fn empty(at: usize) -> Self {
        Self {
            end: at,
            nodes: Vec::new(),
            priority: 0,
            order: Order::default(),
        }
    }

    fn part(end: usize, nodes: Vec<Node>, priority: i64) -> Self {
        Self {
            end,
            nodes,
            priority,
            order: Order::part(end),
        }
    }

    /// This reading as alternative `index` of a choice.
    fn chosen(mut self, index: i64) -> Self {
        self.order.choices.insert(0, index);
        self
    }
}

struct Terminal {
    pattern: Regex,
    priority: i64,
}

/// A parsed command, as the interpreter's transformer reads a parse tree.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Command {
    /// The action rule it was read as ("unknown" when none).
    pub kind: String,
    pub arg1: Option<String>,
    pub arg1_adjs: Vec<String>,
    pub arg2: Option<String>,
    pub arg2_adjs: Vec<String>,
    pub prep: Option<String>,
}

pub struct Grammar {
    rules: HashMap<String, (Expr, i64)>,
    terminals: HashMap<String, Terminal>,
}

/// Lark's `common.WORD` and `common.WS`.
const IMPORTS: [(&str, &str); 2] = [("WORD", "[a-zA-Z]+"), ("WS", "[ \\t\\f\\r\\n]+")];

impl Grammar {
    pub fn read(text: &str) -> Result<Self, String> {
        let mut definitions: Vec<(String, i64, String)> = Vec::new();
        let mut imported = HashMap::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with("//") {
                continue;
            }
            if let Some(import) = line.strip_prefix("%import common.") {
                let (name, pattern) = IMPORTS
                    .iter()
                    .find(|(name, _)| *name == import.trim())
                    .ok_or_else(|| format!("cannot import common.{import}"))?;
                imported.insert(name.to_string(), pattern.to_string());
            } else if let Some(more) = line.strip_prefix('|') {
                let last = definitions
                    .last_mut()
                    .ok_or("a grammar cannot start with '|'")?;
                last.2.push_str(" | ");
                last.2.push_str(more);
            } else {
                let (head, body) = line
                    .split_once(':')
                    .ok_or_else(|| format!("expected 'name: expansion', found '{line}'"))?;
                let (name, priority) = match head.split_once('.') {
                    Some((name, priority)) => (
                        name,
                        priority
                            .parse()
                            .map_err(|_| format!("bad priority in '{head}'"))?,
                    ),
                    None => (head, 0),
                };
                definitions.push((name.trim().to_string(), priority, body.to_string()));
            }
        }
        let mut grammar = Self {
            rules: HashMap::new(),
            terminals: HashMap::new(),
        };
        let mut terminal_exprs = HashMap::new();
        for (name, priority, body) in definitions {
            let expr = Parser::new(&body).expansion_of(&name)?;
            if is_terminal(&name) {
                terminal_exprs.insert(name, (expr, priority));
            } else {
                grammar.rules.insert(name, (expr, priority));
            }
        }
        for (name, (expr, priority)) in &terminal_exprs {
            let source = terminal_regex(expr, &terminal_exprs, &imported, 0)?;
            let pattern = Regex::new(&format!("^(?:{source})"))
                .map_err(|e| format!("terminal {name}: {e}"))?;
            grammar.terminals.insert(
                name.clone(),
                Terminal {
                    pattern,
                    priority: *priority,
                },
            );
        }
        for (name, pattern) in imported {
            grammar.terminals.entry(name).or_insert_with(|| Terminal {
                pattern: Regex::new(&format!("^(?:{pattern})")).expect("the imports are valid"),
                priority: 0,
            });
        }
        for (name, (expr, _)) in &grammar.rules {
            grammar.check_symbols(name, expr)?;
        }
        if !grammar.rules.contains_key("action") {
            return Err("the grammar has no 'action' rule".into());
        }
        Ok(grammar)
    }

    fn check_symbols(&self, rule: &str, expr: &Expr) -> Result<(), String> {
        match expr {
            Expr::Literal(_) => Ok(()),
            Expr::Symbol(name)
                if self.rules.contains_key(name) || self.terminals.contains_key(name) =>
            {
                Ok(())
            }
            Expr::Symbol(name) => Err(format!("rule {rule} uses '{name}', which is not defined")),
            Expr::Sequence(items) | Expr::Choice(items) => items
                .iter()
                .try_for_each(|item| self.check_symbols(rule, item)),
            Expr::Repeat { inner, .. } => self.check_symbols(rule, inner),
        }
    }

    /// The command's best parse; `None` when no rule reads all of it.
    pub fn parse(&self, input: &str) -> Option<Command> {
        let reader = Reader {
            grammar: self,
            input,
            rules: RefCell::new(HashMap::new()),
        };
        // The rule keeps its best reading for each end.
        let best = reader
            .rule("action", 0)
            .into_iter()
            .find(|reading| reading.end == input.len())?;
        let Some(Node::Tree { children, .. }) = best.nodes.into_iter().next() else {
            return None;
        };
        children.into_iter().find_map(|node| match node {
            Node::Tree { rule, children } => Some(transform(rule, children)),
            Node::Token { .. } => None,
        })
    }
}

/// One command being read: each rule's readings from each position are found once.
struct Reader<'a> {
    grammar: &'a Grammar,
    input: &'a str,
    rules: RefCell<HashMap<(String, usize), Vec<Reading>>>,
}

impl Reader<'_> {
    /// A rule's readings from `at`: for each end, its best one.
    fn rule(&self, name: &str, at: usize) -> Vec<Reading> {
        let key = (name.to_string(), at);
        if let Some(known) = self.rules.borrow().get(&key) {
            return known.clone();
        }
        let (expr, priority) = &self.grammar.rules[name];
        let mut readings = self.expr(expr, at);
        readings.sort_by(better);
        let mut best: Vec<Reading> = Vec::new();
        for reading in readings {
            if best.iter().all(|kept| kept.end != reading.end) {
                best.push(Reading {
                    end: reading.end,
                    priority: reading.priority + priority,
                    nodes: vec![Node::Tree {
                        rule: name.to_string(),
                        children: reading.nodes,
                    }],
                    order: Order::part(reading.end),
                });
            }
        }
        self.rules.borrow_mut().insert(key, best.clone());
        best
    }

    fn expr(&self, expr: &Expr, at: usize) -> Vec<Reading> {
        match expr {
            Expr::Literal(text) => self.input[at..]
                .starts_with(text.as_str())
                .then(|| Reading::part(at + text.len(), Vec::new(), 0))
                .into_iter()
                .collect(),
            Expr::Symbol(name) => match self.grammar.terminals.get(name) {
                Some(terminal) => terminal
                    .pattern
                    .find(&self.input[at..])
                    .filter(|found| !found.is_empty())
                    .map(|found| {
                        let token = Node::Token {
                            terminal: name.clone(),
                            text: found.as_str().to_string(),
                        };
                        Reading::part(at + found.end(), vec![token], terminal.priority)
                    })
                    .into_iter()
                    .collect(),
                None => self.rule(name, at),
            },
            Expr::Choice(options) => options
                .iter()
                .enumerate()
                .flat_map(|(index, option)| {
                    self.expr(option, at)
                        .into_iter()
                        .map(move |reading| reading.chosen(index as i64))
                })
                .collect(),
            Expr::Sequence(items) => {
                let mut readings = vec![Reading::empty(at)];
                for item in items {
                    readings = keep_best(
                        readings
                            .iter()
                            .flat_map(|reading| self.extend(reading, item))
                            .collect(),
                    );
                }
                readings
            }
            Expr::Repeat {
                inner,
                min,
                unbounded,
            } => {
                // Each repetition must consume input.
                let mut levels = vec![vec![Reading::empty(at)]];
                while *unbounded || levels.len() < 2 {
                    let last = &levels[levels.len() - 1];
                    let next: Vec<Reading> = last
                        .iter()
                        .flat_map(|reading| {
                            self.extend(reading, inner)
                                .into_iter()
                                .filter(move |longer| longer.end > reading.end)
                        })
                        .collect();
                    if next.is_empty() {
                        break;
                    }
                    levels.push(keep_best(next));
                }
                // An optional part (`?`, `*`) ranks first present: Lark lists
                // the rule's expansion with it before the one without.
                levels
                    .into_iter()
                    .enumerate()
                    .filter(|(count, _)| count >= min)
                    .flat_map(|(count, readings)| {
                        readings.into_iter().map(move |reading| match min {
                            0 => reading.chosen(i64::from(count == 0)),
                            _ => reading,
                        })
                    })
                    .collect()
            }
        }
    }

    fn extend(&self, reading: &Reading, item: &Expr) -> Vec<Reading> {
        self.expr(item, reading.end)
            .into_iter()
            .map(|next| {
                let mut nodes = reading.nodes.clone();
                nodes.extend(next.nodes);
                Reading {
                    end: next.end,
                    nodes,
                    priority: reading.priority + next.priority,
                    order: reading.order.followed_by(next.order),
                }
            })
            .collect()
    }
}

fn is_terminal(name: &str) -> bool {
    name.chars()
        .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
}

/// A terminal's definition as one regular expression.
fn terminal_regex(
    expr: &Expr,
    terminals: &HashMap<String, (Expr, i64)>,
    imported: &HashMap<String, String>,
    depth: usize,
) -> Result<String, String> {
    if depth > 32 {
        return Err("a terminal refers to itself".into());
    }
    let inner = |e: &Expr| terminal_regex(e, terminals, imported, depth + 1);
    Ok(match expr {
        Expr::Literal(text) => regex::escape(text),
        Expr::Symbol(name) => match (terminals.get(name), imported.get(name)) {
            (Some((expr, _)), _) => format!("(?:{})", inner(expr)?),
            (None, Some(pattern)) => format!("(?:{pattern})"),
            (None, None) => return Err(format!("terminal {name} is not defined")),
        },
        Expr::Sequence(items) => items.iter().map(inner).collect::<Result<String, _>>()?,
        // An empty choice, `()`, matches nothing.
        Expr::Choice(options) if options.is_empty() => "[^\\s\\S]".to_string(),
        Expr::Choice(options) => format!(
            "(?:{})",
            options
                .iter()
                .map(inner)
                .collect::<Result<Vec<_>, _>>()?
                .join("|")
        ),
        Expr::Repeat {
            inner: repeated,
            min,
            unbounded,
        } => {
            let suffix = match (min, unbounded) {
                (0, false) => "?",
                (0, true) => "*",
                _ => "+",
            };
            format!("(?:{}){suffix}", inner(repeated)?)
        }
    })
}

/// Reads one expansion of Lark's notation.
struct Parser {
    tokens: Vec<String>,
    at: usize,
}

impl Parser {
    fn new(text: &str) -> Self {
        let mut tokens = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '"' => {
                    let mut literal = String::from('"');
                    while let Some(c) = chars.next() {
                        match c {
                            '\\' => literal.extend(chars.next()),
                            '"' => break,
                            c => literal.push(c),
                        }
                    }
                    tokens.push(literal);
                }
                '(' | ')' | '|' | '?' | '*' | '+' | '[' | ']' => tokens.push(c.to_string()),
                c if c.is_whitespace() => {}
                c => {
                    let mut name = c.to_string();
                    while let Some(&next) = chars.peek() {
                        if next.is_alphanumeric() || next == '_' {
                            name.push(next);
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    tokens.push(name);
                }
            }
        }
        Self { tokens, at: 0 }
    }

    fn expansion_of(mut self, name: &str) -> Result<Expr, String> {
        let expr = self.choice().map_err(|e| format!("{name}: {e}"))?;
        match self.tokens.get(self.at) {
            None => Ok(expr),
            Some(token) => Err(format!("{name}: unexpected '{token}'")),
        }
    }

    fn choice(&mut self) -> Result<Expr, String> {
        let mut options = vec![self.sequence()?];
        while self.tokens.get(self.at).map(String::as_str) == Some("|") {
            self.at += 1;
            options.push(self.sequence()?);
        }
        Ok(if options.len() == 1 {
            options.remove(0)
        } else {
            Expr::Choice(options)
        })
    }

    fn sequence(&mut self) -> Result<Expr, String> {
        let mut items = Vec::new();
        while let Some(token) = self.tokens.get(self.at).cloned() {
            let item = match token.as_str() {
                "|" | ")" | "]" => break,
                "(" | "[" => {
                    self.at += 1;
                    let close = if token == "(" { ")" } else { "]" };
                    let inner = if self.tokens.get(self.at).map(String::as_str) == Some(close) {
                        Expr::Choice(Vec::new())
                    } else {
                        self.choice()?
                    };
                    if self.tokens.get(self.at).map(String::as_str) != Some(close) {
                        return Err(format!("'{token}' is not closed"));
                    }
                    self.at += 1;
                    if token == "[" {
                        Expr::Repeat {
                            inner: Box::new(inner),
                            min: 0,
                            unbounded: false,
                        }
                    } else {
                        inner
                    }
                }
                "?" | "*" | "+" => return Err(format!("'{token}' follows nothing")),
                literal if literal.starts_with('"') => {
                    self.at += 1;
                    Expr::Literal(literal[1..].to_string())
                }
                name if name.chars().all(|c| c.is_alphanumeric() || c == '_') => {
                    self.at += 1;
                    Expr::Symbol(name.to_string())
                }
                other => return Err(format!("unsupported notation '{other}'")),
            };
            let item = match self.tokens.get(self.at).map(String::as_str) {
                Some(op @ ("?" | "*" | "+")) => {
                    let (min, unbounded) = match op {
                        "?" => (0, false),
                        "*" => (0, true),
                        _ => (1, true),
                    };
                    self.at += 1;
                    Expr::Repeat {
                        inner: Box::new(item),
                        min,
                        unbounded,
                    }
                }
                _ => item,
            };
            items.push(item);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Sequence(items)
        })
    }
}

/// The interpreter's reading of an action subtree: each `thing` is an
/// argument (its words, and its adjectives but the last child); a PREP token
/// is the preposition; an `unknown` command keeps only its first word.
fn transform(kind: String, children: Vec<Node>) -> Command {
    let mut command = Command {
        kind,
        ..Command::default()
    };
    let mut arguments = 0;
    for child in children {
        match child {
            Node::Tree { rule, children } if rule == "thing" => {
                let words: Vec<&str> = children
                    .iter()
                    .filter_map(|node| match node {
                        Node::Token { terminal, text } if terminal == "WORD" => Some(text.as_str()),
                        _ => None,
                    })
                    .collect();
                let adjectives: Vec<String> = children[..children.len().saturating_sub(1)]
                    .iter()
                    .filter_map(|node| match node {
                        Node::Token { terminal, text } if terminal == "ADJ" => {
                            Some(text.trim().to_string())
                        }
                        _ => None,
                    })
                    .collect();
                arguments += 1;
                let (argument, adjs) = match arguments {
                    1 => (&mut command.arg1, &mut command.arg1_adjs),
                    _ => (&mut command.arg2, &mut command.arg2_adjs),
                };
                *argument = Some(words.join(" "));
                *adjs = adjectives;
            }
            Node::Token { terminal, text } if terminal == "PREP" => {
                command.prep = Some(text.trim().to_string());
            }
            Node::Token { terminal, text } if terminal == "WORD" && command.kind == "unknown" => {
                command.arg1 = Some(text);
                break;
            }
            _ => {}
        }
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small grammar in the shape adventuregame assembles.
    const GRAMMAR: &str = r#"%import common.WORD
%import common.WS
action: take | examine | look | done | stir | dump | unknown
take: TAKE PREP* thing (PREP thing)*
TAKE.1: ("take" | "grab") WS
examine: EXAMINE thing
EXAMINE.1: ("examine" | "check") WS
look: LOOK ("at"* ( thing | "around" ) )
LOOK.1: ("look" | "examine") WS
done: DONE
DONE.1: ("done" | "quit") WS*
stir: STIR thing (("with" | "using") WS)* thing
STIR.1: "stir" WS
dump: DUMP thing PREP* thing
DUMP.1: "dump" WS
ADJ.1: ("red" | "old") WS
PREP.1: ("on" | "in" | "from" | "out of" | "into") WS
DET.1: ("the" | "a") WS
thing: DET? ( WORD | ADJ+ WORD | WORD WS WORD | WORD WS WORD WS WORD ) WS?
unknown.-1: (WORD WS*)+"#;

    fn parse(input: &str) -> Command {
        Grammar::read(GRAMMAR)
            .unwrap()
            .parse(input)
            .expect("parses")
    }

    #[test]
    fn commands_read_as_their_action_with_arguments_adjectives_and_preposition() {
        let take = parse("take the red apple from old shelf");
        assert_eq!(take.kind, "take");
        assert_eq!(take.arg1.as_deref(), Some("apple"));
        assert_eq!(take.arg1_adjs, vec!["red".to_string()]);
        assert_eq!(take.arg2.as_deref(), Some("shelf"));
        assert_eq!(take.prep.as_deref(), Some("from"));
        assert_eq!(parse("grab side table").arg1.as_deref(), Some("side table"));
        assert_eq!(parse("take apple into box").prep.as_deref(), Some("into"));
        assert_eq!(parse("done").kind, "done");
    }

    #[test]
    fn ambiguity_goes_to_the_higher_priority_then_the_earlier_rule() {
        // "examine X" reads as both examine and look: examine is listed first.
        assert_eq!(parse("examine book").kind, "examine");
        // A determiner outranks reading "the" as a word of the name.
        assert_eq!(parse("take the book").arg1.as_deref(), Some("book"));
        // Of the same priority: a choice's earlier alternative ("around" as a thing)...
        assert_eq!(parse("look around").arg1.as_deref(), Some("around"));
        // ...an optional part present rather than read as a word of the name...
        let stir = parse("stir slime with whisk");
        assert_eq!(
            (stir.arg1.as_deref(), stir.arg2.as_deref()),
            (Some("slime"), Some("whisk"))
        );
        // ...and the earlier part taking the most words.
        let dump = parse("dump bucket of slime cauldron");
        assert_eq!(
            (dump.arg1.as_deref(), dump.arg2.as_deref()),
            (Some("bucket of slime"), Some("cauldron"))
        );
        // Anything of words is "unknown", the last resort, which keeps its verb.
        let unknown = parse("dance with the broom");
        assert_eq!(
            (unknown.kind.as_str(), unknown.arg1.as_deref()),
            ("unknown", Some("dance"))
        );
    }

    #[test]
    fn input_outside_the_grammar_does_not_parse() {
        let grammar = Grammar::read(GRAMMAR).unwrap();
        assert_eq!(grammar.parse("take apple1"), None);
        assert_eq!(grammar.parse("go, now"), None);
        assert_eq!(grammar.parse(""), None);
    }

    #[test]
    fn a_bad_grammar_is_refused_with_its_reason() {
        let error = |text: &str| Grammar::read(text).err().expect("refused");
        assert!(error("action: go\ngo: GO thing").contains("'GO', which is not defined"));
        assert!(error("%import common.NUMBER").contains("cannot import common.NUMBER"));
        assert!(error("go: (\"go\"").contains("not closed"));
        assert!(error("go: \"go\"").contains("no 'action' rule"));
        assert!(error("TAKE.x: \"take\"").contains("bad priority"));
    }

    /// A benchmark, not a test: `cargo test --release -p eval-runner --lib
    /// command::tests::long_commands -- --ignored --nocapture` (see BENCHMARKS.md).
    #[test]
    #[ignore]
    fn long_commands() {
        let grammar = Grammar::read(GRAMMAR).unwrap();
        let objects = "take the red box on the old table in the crate from the shelf on the red \
            counter in the old cupboard out of the freezer into the bag";
        for (name, input) in [
            ("one take, 9 prepositions", objects.to_string()),
            ("six takes, 54 prepositions", [objects; 6].join(" ")),
            ("300 words, no rule", "word ".repeat(300).trim().to_string()),
        ] {
            let start = std::time::Instant::now();
            let kind = grammar.parse(&input).map(|command| command.kind);
            println!("{name}: {:?} in {:?}", kind, start.elapsed());
        }
    }
}
