//! The PDDL that adventuregame's definitions are written in: actions with
//! typed parameters, a precondition and an effect, and a domain's types and
//! functions. Read as s-expressions into the shapes the interpreter walks.

/// A parsed s-expression: a word or a parenthesised list.
#[derive(Clone, Debug, PartialEq)]
enum Sexp {
    Atom(String),
    List(Vec<Sexp>),
}

impl Sexp {
    fn read(text: &str) -> Result<Self, String> {
        let mut tokens = Vec::new();
        for line in text.lines() {
            let line = line.split(';').next().unwrap_or_default();
            let spaced = line.replace('(', " ( ").replace(')', " ) ");
            tokens.extend(spaced.split_whitespace().map(str::to_string));
        }
        let mut at = 0;
        let expression = Self::expression(&tokens, &mut at)?;
        if at != tokens.len() {
            return Err(format!("unexpected '{}' after the expression", tokens[at]));
        }
        Ok(expression)
    }

    fn expression(tokens: &[String], at: &mut usize) -> Result<Self, String> {
        let token = tokens.get(*at).ok_or("unexpected end: a ')' is missing")?;
        *at += 1;
        match token.as_str() {
            ")" => Err("unexpected ')'".into()),
            "(" => {
                let mut items = Vec::new();
                while tokens.get(*at).map(String::as_str) != Some(")") {
                    items.push(Self::expression(tokens, at)?);
                }
                *at += 1;
                Ok(Self::List(items))
            }
            word => Ok(Self::Atom(word.to_string())),
        }
    }

    fn atom(&self) -> Option<&str> {
        match self {
            Self::Atom(word) => Some(word),
            Self::List(_) => None,
        }
    }

    fn list(&self) -> Result<&[Sexp], String> {
        match self {
            Self::List(items) => Ok(items),
            Self::Atom(word) => Err(format!("expected a parenthesised list, found '{word}'")),
        }
    }

    /// The list's head word and the rest.
    fn form(&self) -> Result<(&str, &[Sexp]), String> {
        let items = self.list()?;
        let head = items
            .first()
            .and_then(Sexp::atom)
            .ok_or("expected a list that starts with a word")?;
        Ok((head, &items[1..]))
    }
}

/// A predicate's argument: a `?variable` or a constant (an instance or a type word).
#[derive(Clone, Debug, PartialEq)]
pub enum Term {
    Variable(String),
    Constant(String),
}

impl Term {
    fn read(sexp: &Sexp) -> Result<Self, String> {
        let word = sexp
            .atom()
            .ok_or_else(|| format!("expected an argument, found {sexp:?}"))?;
        Ok(match word.strip_prefix('?') {
            Some(variable) => Self::Variable(variable.to_string()),
            None => Self::Constant(word.to_string()),
        })
    }
}

/// A fact to check or change: `(on ?e ?s)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Predicate {
    pub name: String,
    pub args: Vec<Term>,
}

impl Predicate {
    fn read(name: &str, args: &[Sexp]) -> Result<Self, String> {
        if args.is_empty() || args.len() > 3 {
            return Err(format!("predicate '{name}' takes one to three arguments"));
        }
        Ok(Self {
            name: name.to_string(),
            args: args.iter().map(Term::read).collect::<Result<_, _>>()?,
        })
    }
}

/// A number in a comparison or change: a literal or a function's value, `(itemcount ?i)`.
#[derive(Clone, Debug, PartialEq)]
pub enum Quantity {
    Number(String),
    Function { name: String, variable: String },
}

impl Quantity {
    fn read(sexp: &Sexp) -> Result<Self, String> {
        match sexp {
            Sexp::Atom(number) if number.parse::<f64>().is_ok() => Ok(Self::Number(number.clone())),
            Sexp::List(items) => match items.as_slice() {
                [Sexp::Atom(name), Sexp::Atom(variable)] if variable.starts_with('?') => {
                    Ok(Self::Function {
                        name: name.clone(),
                        variable: variable[1..].to_string(),
                    })
                }
                _ => Err(format!(
                    "expected a number or (function ?variable), found {sexp:?}"
                )),
            },
            Sexp::Atom(word) => Err(format!("expected a number, found '{word}'")),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Comparison {
    Equal,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl Comparison {
    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            Self::Equal => left == right,
            Self::Less => left < right,
            Self::LessOrEqual => left <= right,
            Self::Greater => left > right,
            Self::GreaterOrEqual => left >= right,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    Fact(Predicate),
    Not(Box<Condition>),
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Compare {
        comparison: Comparison,
        left: Quantity,
        right: Quantity,
    },
    /// Read but never true: the interpreter does not evaluate quantified conditions.
    Forall,
}

impl Predicate {
    fn variables(&self, found: &mut Vec<String>) {
        for term in &self.args {
            if let Term::Variable(name) = term {
                found.push(name.clone());
            }
        }
    }

    fn replace_constant(&mut self, from: &str, to: &str) {
        for term in &mut self.args {
            if *term == Term::Constant(from.to_string()) {
                *term = Term::Constant(to.to_string());
            }
        }
    }
}

impl Quantity {
    fn variables(&self, found: &mut Vec<String>) {
        if let Self::Function { variable, .. } = self {
            found.push(variable.clone());
        }
    }
}

impl Condition {
    fn variables(&self, found: &mut Vec<String>) {
        match self {
            Self::Fact(predicate) => predicate.variables(found),
            Self::Not(inner) => inner.variables(found),
            Self::And(items) | Self::Or(items) => items.iter().for_each(|c| c.variables(found)),
            Self::Compare { left, right, .. } => {
                left.variables(found);
                right.variables(found);
            }
            Self::Forall => {}
        }
    }

    fn read(sexp: &Sexp) -> Result<Self, String> {
        let (head, rest) = sexp.form()?;
        let comparison = match head {
            "=" => Some(Comparison::Equal),
            "<" => Some(Comparison::Less),
            "<=" => Some(Comparison::LessOrEqual),
            ">" => Some(Comparison::Greater),
            ">=" => Some(Comparison::GreaterOrEqual),
            _ => None,
        };
        if let Some(comparison) = comparison {
            let [left, right] = rest else {
                return Err(format!("'{head}' compares two quantities"));
            };
            return Ok(Self::Compare {
                comparison,
                left: Quantity::read(left)?,
                right: Quantity::read(right)?,
            });
        }
        let all = |items: &[Sexp]| items.iter().map(Self::read).collect::<Result<Vec<_>, _>>();
        Ok(match head {
            "and" => Self::And(all(rest)?),
            "or" => Self::Or(all(rest)?),
            "not" => match rest {
                [inner] => Self::Not(Box::new(Self::read(inner)?)),
                _ => return Err("'not' takes one condition".into()),
            },
            "forall" => Self::Forall,
            name => Self::Fact(Predicate::read(name, rest)?),
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Change {
    Increase,
    Decrease,
    Assign,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Adds the fact, or removes it when negated.
    Fact {
        predicate: Predicate,
        negated: bool,
    },
    Change {
        change: Change,
        function: String,
        variable: String,
        amount: Quantity,
    },
    /// Its effect is one fact or change, or an (and ...) of them.
    When {
        condition: Condition,
        effect: Box<Effect>,
    },
    /// Over every instance that has the trait or type `over` (every entity when untyped).
    Forall {
        variable: String,
        over: Option<String>,
        body: Vec<Effect>,
    },
    And(Vec<Effect>),
}

impl Effect {
    /// The effects an (and ...) holds, or this one.
    pub fn parts(&self) -> &[Effect] {
        match self {
            Self::And(parts) => parts,
            single => std::slice::from_ref(single),
        }
    }

    fn variables(&self, found: &mut Vec<String>) {
        match self {
            Self::Fact { predicate, .. } => predicate.variables(found),
            Self::Change {
                variable, amount, ..
            } => {
                found.push(variable.clone());
                amount.variables(found);
            }
            Self::When { condition, effect } => {
                condition.variables(found);
                effect.variables(found);
            }
            Self::Forall { body, .. } => body.iter().for_each(|e| e.variables(found)),
            Self::And(parts) => parts.iter().for_each(|e| e.variables(found)),
        }
    }

    /// Replaces a constant, where a randomized event's target is replaced:
    /// in its added facts, and in the single facts of the `when`s inside a `forall`.
    pub fn retarget(&mut self, from: &str, to: &str) {
        let parts = match self {
            Self::And(parts) => parts.as_mut_slice(),
            single => std::slice::from_mut(single),
        };
        for part in parts {
            match part {
                Self::Fact {
                    predicate,
                    negated: false,
                } => predicate.replace_constant(from, to),
                Self::Forall { body, .. } => {
                    for item in body {
                        let Self::When { condition, effect } = item else {
                            continue;
                        };
                        if let Condition::Fact(predicate) = condition {
                            predicate.replace_constant(from, to);
                        }
                        if let Self::Fact {
                            predicate,
                            negated: false,
                        } = effect.as_mut()
                        {
                            predicate.replace_constant(from, to);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn read(sexp: &Sexp) -> Result<Self, String> {
        let (head, rest) = sexp.form()?;
        let all = |items: &[Sexp]| items.iter().map(Self::read).collect::<Result<Vec<_>, _>>();
        let change = match head {
            "increase" => Some(Change::Increase),
            "decrease" => Some(Change::Decrease),
            "assign" => Some(Change::Assign),
            _ => None,
        };
        if let Some(change) = change {
            let [target, amount] = rest else {
                return Err(format!("'{head}' takes a function and an amount"));
            };
            let Quantity::Function { name, variable } = Quantity::read(target)? else {
                return Err(format!("'{head}' changes a (function ?variable)"));
            };
            return Ok(Self::Change {
                change,
                function: name,
                variable,
                amount: Quantity::read(amount)?,
            });
        }
        Ok(match head {
            "and" => Self::And(all(rest)?),
            "not" => match rest {
                [inner] => {
                    let (name, args) = inner.form()?;
                    Self::Fact {
                        predicate: Predicate::read(name, args)?,
                        negated: true,
                    }
                }
                _ => return Err("'not' takes one fact".into()),
            },
            "when" => match rest {
                [condition, effect] => Self::When {
                    condition: Condition::read(condition)?,
                    effect: Box::new(Self::read(effect)?),
                },
                _ => return Err("'when' takes a condition and an effect".into()),
            },
            "forall" => {
                let (parameters, body) = rest.split_first().ok_or("'forall' needs its variable")?;
                let typed = read_parameters(parameters.list()?)?;
                let [(over, variables)] = typed.as_slice() else {
                    return Err("'forall' iterates over one variable".into());
                };
                let [variable] = variables.as_slice() else {
                    return Err("'forall' iterates over one variable".into());
                };
                Self::Forall {
                    variable: variable.clone(),
                    over: (!over.is_empty()).then(|| over.clone()),
                    body: all(body)?,
                }
            }
            name => Self::Fact {
                predicate: Predicate::read(name, rest)?,
                negated: false,
            },
        })
    }
}

/// `?a ?b - room ?p - player` as (type, variables) groups in order; variables
/// without a type come last with an empty type.
fn read_parameters(items: &[Sexp]) -> Result<Vec<(String, Vec<String>)>, String> {
    let mut groups = Vec::new();
    let mut variables = Vec::new();
    let mut words = items.iter();
    while let Some(item) = words.next() {
        let word = item
            .atom()
            .ok_or_else(|| format!("expected a ?variable, found {item:?}"))?;
        if word == "-" {
            let kind = words
                .next()
                .and_then(Sexp::atom)
                .ok_or("a '-' must be followed by a type")?;
            if variables.is_empty() {
                return Err(format!("type '{kind}' has no variables"));
            }
            groups.push((kind.to_string(), std::mem::take(&mut variables)));
        } else if let Some(variable) = word.strip_prefix('?') {
            variables.push(variable.to_string());
        } else {
            return Err(format!("expected a ?variable, found '{word}'"));
        }
    }
    if !variables.is_empty() {
        groups.push((String::new(), variables));
    }
    Ok(groups)
}

/// An action's or an event's PDDL:
/// `(:action NAME :parameters (...) :precondition (and ...) :effect ...)`, or `(:event ...)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Action {
    pub name: String,
    /// (type, variables) in the order written.
    pub parameters: Vec<(String, Vec<String>)>,
    /// The conjunction whose first failing fact chooses the feedback.
    pub precondition: Vec<Condition>,
    pub effect: Effect,
}

impl Action {
    /// The variables its precondition and effect mention.
    pub fn variables(&self) -> Vec<String> {
        let mut found = Vec::new();
        for condition in &self.precondition {
            condition.variables(&mut found);
        }
        self.effect.variables(&mut found);
        found
    }

    pub fn read(text: &str) -> Result<Self, String> {
        let sexp = Sexp::read(text)?;
        let (head, rest) = sexp.form()?;
        if head != ":action" && head != ":event" {
            return Err(format!(
                "expected (:action ...) or (:event ...), found ({head} ...)"
            ));
        }
        let name = rest
            .first()
            .and_then(Sexp::atom)
            .ok_or("the action needs a name")?
            .to_lowercase();
        let (mut parameters, mut precondition, mut effect) = (None, None, None);
        let mut fields = rest[1..].iter();
        while let Some(key) = fields.next() {
            let value = fields
                .next()
                .ok_or_else(|| format!("{key:?} has no value"))?;
            match key.atom() {
                Some(":parameters") => parameters = Some(read_parameters(value.list()?)?),
                Some(":precondition") => match Condition::read(value)? {
                    Condition::And(all) => precondition = Some(all),
                    _ => return Err("the precondition must be an (and ...)".into()),
                },
                Some(":effect") => effect = Some(Effect::read(value)?),
                _ => return Err(format!("unknown action field {key:?}")),
            }
        }
        let missing = |field: &str| format!("action {name} has no {field}");
        Ok(Self {
            parameters: parameters.ok_or_else(|| missing(":parameters"))?,
            precondition: precondition.ok_or_else(|| missing(":precondition"))?,
            effect: effect.ok_or_else(|| missing(":effect"))?,
            name,
        })
    }
}

/// A numeric function the domain declares, `(itemcount ?i - inventory)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    pub name: String,
    /// The type whose instances carry a value.
    pub of: String,
}

/// A domain's types (each supertype with its subtypes) and functions.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Domain {
    pub types: Vec<(String, Vec<String>)>,
    pub functions: Vec<Function>,
}

impl Domain {
    pub fn read(text: &str) -> Result<Self, String> {
        let sexp = Sexp::read(text)?;
        let (head, rest) = sexp.form()?;
        if head != "define" {
            return Err(format!("expected (define ...), found ({head} ...)"));
        }
        let mut domain = Self::default();
        for section in rest {
            let (key, items) = section.form()?;
            match key {
                "domain" => {}
                ":types" => {
                    for (supertype, subtypes) in read_parameters_of_types(items)? {
                        // A supertype written twice keeps its place and its last list.
                        match domain.types.iter_mut().find(|(name, _)| *name == supertype) {
                            Some(entry) => entry.1 = subtypes,
                            None => domain.types.push((supertype, subtypes)),
                        }
                    }
                }
                ":functions" => {
                    let mut items = items.iter();
                    while let Some(declaration) = items.next() {
                        let (name, parameters) = declaration.form()?;
                        let typed = read_parameters(parameters)?;
                        let [(of, _)] = typed.as_slice() else {
                            return Err(format!("function {name} takes one typed variable"));
                        };
                        // A declaration may be followed by its value type, "- number".
                        if items.clone().next().and_then(Sexp::atom) == Some("-") {
                            items.next();
                            if items.next().and_then(Sexp::atom).is_none() {
                                return Err(format!(
                                    "function {name}: a '-' must be followed by a type"
                                ));
                            }
                        }
                        domain.functions.push(Function {
                            name: name.to_string(),
                            of: of.clone(),
                        });
                    }
                }
                ":predicates" | ":requirements" => {}
                other => return Err(format!("unknown domain section {other}")),
            }
        }
        Ok(domain)
    }
}

/// `a b - room c - entity`: like parameters, but of type words.
fn read_parameters_of_types(items: &[Sexp]) -> Result<Vec<(String, Vec<String>)>, String> {
    // Members read as variables; the word after each '-' stays the supertype.
    let mut after_dash = false;
    let mut as_variables = Vec::new();
    for item in items {
        let word = item
            .atom()
            .ok_or_else(|| format!("expected a type name, found {item:?}"))?;
        as_variables.push(match (word, after_dash) {
            ("-", _) | (_, true) => item.clone(),
            _ => Sexp::Atom(format!("?{word}")),
        });
        after_dash = word == "-";
    }
    let groups = read_parameters(&as_variables)?;
    if groups.iter().any(|(supertype, _)| supertype.is_empty()) {
        return Err("every type needs its supertype: a - b".into());
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAKE: &str = "(:action TAKE
        :parameters (?e - takeable ?s - receptacle ?p - player)
        :precondition (and
            (at ?p ?r)
            (not (in ?e inventory))
            (< (itemcount ?i) 2)
            (or (and (on ?e ?s) (support ?s)) (in ?e ?s)))
        :effect (and
            (in ?e ?i)
            (increase (itemcount ?i) 1)
            (when (on ?e ?s) (not (on ?e ?s)))
            (forall (?c - takeable) (when (in ?c ?e) (and (accessible ?c))))))";

    #[test]
    fn an_action_reads_into_its_parameters_precondition_and_effect() {
        let action = Action::read(TAKE).unwrap();
        assert_eq!(action.name, "take");
        assert_eq!(
            action.parameters,
            vec![
                ("takeable".to_string(), vec!["e".to_string()]),
                ("receptacle".to_string(), vec!["s".to_string()]),
                ("player".to_string(), vec!["p".to_string()]),
            ]
        );
        assert_eq!(action.precondition.len(), 4);
        assert!(matches!(&action.precondition[1], Condition::Not(inner)
            if matches!(inner.as_ref(), Condition::Fact(p) if p.args[1] == Term::Constant("inventory".into()))));
        assert!(matches!(
            &action.precondition[2],
            Condition::Compare { comparison: Comparison::Less, right: Quantity::Number(n), .. } if n == "2"
        ));
        let Effect::And(effects) = &action.effect else {
            panic!("an (and ...) effect")
        };
        assert!(
            matches!(&effects[1], Effect::Change { change: Change::Increase, function, .. } if function == "itemcount")
        );
        assert!(matches!(&effects[2], Effect::When { effect, .. }
            if matches!(effect.as_ref(), Effect::Fact { negated: true, .. })));
        assert!(matches!(&effects[3], Effect::Forall { over: Some(t), .. } if t == "takeable"));
    }

    #[test]
    fn a_domain_reads_its_types_and_functions() {
        let domain = Domain::read(
            "(define (domain test)
                (:types kitchen hall - room table apple - entity table - receptacle)
                (:functions (itemcount ?i - inventory) - number (charge ?w - wand)))",
        )
        .unwrap();
        assert_eq!(
            domain.types[0],
            (
                "room".to_string(),
                vec!["kitchen".to_string(), "hall".to_string()]
            )
        );
        assert_eq!(domain.types[2].0, "receptacle");
        // The value type may be left out.
        let function = |name: &str, of: &str| Function {
            name: name.into(),
            of: of.into(),
        };
        assert_eq!(
            domain.functions,
            vec![
                function("itemcount", "inventory"),
                function("charge", "wand")
            ]
        );
    }

    #[test]
    fn a_randomized_events_target_is_replaced_where_the_interpreter_replaces_it() {
        let mut event = Action::read(
            "(:event TELEPORT :parameters (?p - player ?r - room)
                :precondition (and (at ?p ?r))
                :effect (and
                    (at ?p kitchen1)
                    (not (at ?p kitchen1))
                    (forall (?e - takeable)
                        (when (in ?e kitchen1) (at ?e kitchen1)))
                    (forall (?e - takeable)
                        (when (in ?e inventory) (and (at ?e kitchen1))))))",
        )
        .unwrap();
        event.effect.retarget("kitchen1", "cellar1");
        let Effect::And(parts) = &event.effect else {
            panic!("an (and ...) effect")
        };
        let constant = |effect: &Effect| match effect {
            Effect::Fact { predicate, .. } => predicate.args[1].clone(),
            other => panic!("{other:?}"),
        };
        let cellar = Term::Constant("cellar1".into());
        let kitchen = Term::Constant("kitchen1".into());
        assert_eq!(constant(&parts[0]), cellar);
        // Not in a removed fact, nor in a `when`'s (and ...).
        assert_eq!(constant(&parts[1]), kitchen);
        let Effect::Forall { body, .. } = &parts[2] else {
            panic!("a forall")
        };
        let Effect::When {
            condition: Condition::Fact(condition),
            effect,
        } = &body[0]
        else {
            panic!("a when")
        };
        assert_eq!(
            (condition.args[1].clone(), constant(effect)),
            (cellar.clone(), cellar)
        );
        let Effect::Forall { body, .. } = &parts[3] else {
            panic!("a forall")
        };
        let Effect::When { effect, .. } = &body[0] else {
            panic!("a when")
        };
        assert_eq!(constant(&effect.parts()[0]), kitchen);
        assert_eq!(event.variables(), ["p", "r", "p", "p", "e", "e", "e", "e"]);
    }

    #[test]
    fn malformed_pddl_says_what_is_wrong() {
        let error = |text: &str| Action::read(text).unwrap_err();
        assert!(error("(:action GO :parameters (?r - room)").contains("')' is missing"));
        assert!(error(
            "(:action GO :parameters (?r - room) :precondition (at ?p ?r) :effect (at ?p ?r))"
        )
        .contains("must be an (and ...)"));
        assert!(
            error("(:action GO :parameters (?r -) :precondition (and) :effect (and))")
                .contains("followed by a type")
        );
        assert!(
            error("(:action GO :parameters (?r - room) :precondition (and))")
                .contains("has no :effect")
        );
        assert!(error(
            "(:action GO :parameters (?r - room) :precondition (and (< (count ?r))) :effect (and))"
        )
        .contains("compares two quantities"));
        assert!(Domain::read("(define (domain d) (:types a b))")
            .unwrap_err()
            .contains("supertype"));
    }
}
