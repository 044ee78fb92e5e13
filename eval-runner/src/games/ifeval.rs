//! ifeval (static): a prompt with verifiable instructions ("no commas", "at
//! least 300 words", "wrap the title in << >>"). Strict prompt-level scoring:
//! Main Score is 100 when the response follows every instruction, else 0;
//! every response counts as played. The checks follow IFEval's
//! `instructions.py`; where it calls NLTK or langdetect, the notes at each
//! check say what is used instead.

use super::single_turn::{default_keys, default_scores};
use super::{note, Episode, GameError, OrderedMap, Player, Responder};
use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

/// The game master reads only the experiment's instances.
pub type Experiment = super::Instances<Instance>;

#[derive(Clone, Debug, Deserialize)]
pub struct Instance {
    pub input: String,
    /// Instruction id → its arguments, in the instance's order.
    pub target: OrderedMap<serde_json::Map<String, Value>>,
}

/// One instruction's arguments, with errors that name the instruction.
struct Arguments<'a> {
    id: &'a str,
    values: &'a serde_json::Map<String, Value>,
}

impl Arguments<'_> {
    fn value(&self, key: &str) -> Result<&Value, GameError> {
        match self.values.get(key) {
            Some(Value::Null) | None => Err(GameError::Instance(format!(
                "instruction {}: argument {key} is missing (IFEval would draw it at random)",
                self.id
            ))),
            Some(value) => Ok(value),
        }
    }

    fn text(&self, key: &str) -> Result<&str, GameError> {
        self.value(key)?.as_str().ok_or_else(|| {
            GameError::Instance(format!(
                "instruction {}: argument {key} is not text",
                self.id
            ))
        })
    }

    fn number(&self, key: &str) -> Result<usize, GameError> {
        self.value(key)?
            .as_u64()
            .map(|n| n as usize)
            .ok_or_else(|| {
                GameError::Instance(format!(
                    "instruction {}: argument {key} is not a count",
                    self.id
                ))
            })
    }

    /// "less than" or "at least", applied to `count`.
    fn compare(&self, relation_key: &str, count: usize, bound: usize) -> Result<bool, GameError> {
        match self.text(relation_key)? {
            "less than" => Ok(count < bound),
            "at least" => Ok(count >= bound),
            other => Err(GameError::Instance(format!(
                "instruction {}: unknown relation {other:?}",
                self.id
            ))),
        }
    }
}

fn pattern(source: &str) -> Regex {
    Regex::new(source).expect("a valid pattern")
}

/// Python's `str.isupper` / `str.islower`: some cased letter, and none of the other case.
fn is_case(text: &str, upper: bool) -> bool {
    let mut cased = false;
    for c in text.chars() {
        if c.is_lowercase() || c.is_uppercase() {
            cased = true;
            if c.is_lowercase() == upper {
                return false;
            }
        }
    }
    cased
}

/// The response's language as an ISO 639-1 code. IFEval uses langdetect;
/// this uses whatlang's trigram model, so borderline texts may differ.
fn language(text: &str) -> Option<&'static str> {
    use whatlang::Lang::*;
    let code = match whatlang::detect(text)?.lang() {
        Eng => "en",
        Spa => "es",
        Por => "pt",
        Ara => "ar",
        Hin => "hi",
        Fra => "fr",
        Rus => "ru",
        Deu => "de",
        Jpn => "ja",
        Ita => "it",
        Ben => "bn",
        Ukr => "uk",
        Tha => "th",
        Urd => "ur",
        Tam => "ta",
        Tel => "te",
        Bul => "bg",
        Kor => "ko",
        Pol => "pl",
        Heb => "he",
        Pes => "fa",
        Vie => "vi",
        Nep => "ne",
        Kan => "kn",
        Mar => "mr",
        Guj => "gu",
        Pan => "pa",
        Mal => "ml",
        Fin => "fi",
        Cmn => "zh-cn",
        _ => return None,
    };
    Some(code)
}

/// Whether a language check passes: an undetectable text passes, as langdetect's exception does in IFEval.
fn is_language(text: &str, code: &str) -> bool {
    language(text).is_none_or(|detected| detected == code)
}

/// Sentences, counted at ".", "!" or "?" followed by a space or the end
/// (IFEval uses NLTK's punkt tokenizer, which also knows abbreviations).
fn count_sentences(text: &str) -> usize {
    pattern(r"[^.!?\s][^.!?]*(?:[.!?]+|$)")
        .find_iter(text)
        .count()
}

/// Whether `response` follows the instruction `id`.
fn follows(id: &str, args: &Arguments, response: &str) -> Result<bool, GameError> {
    let lower = response.to_lowercase();
    let case_insensitive = |word: &str| {
        Regex::new(&format!("(?i){word}"))
            .map_err(|e| GameError::Instance(format!("instruction {id}: {e}")))
    };
    Ok(match id {
        "keywords:existence" => {
            let keywords = args
                .value("keywords")?
                .as_array()
                .cloned()
                .unwrap_or_default();
            let mut all = true;
            for keyword in keywords.iter().filter_map(Value::as_str) {
                all &= case_insensitive(keyword)?.is_match(response);
            }
            all
        }
        "keywords:frequency" => {
            let count = case_insensitive(args.text("keyword")?)?
                .find_iter(response)
                .count();
            args.compare("relation", count, args.number("frequency")?)?
        }
        "keywords:forbidden_words" => {
            let words = args
                .value("forbidden_words")?
                .as_array()
                .cloned()
                .unwrap_or_default();
            let mut clean = true;
            for word in words.iter().filter_map(Value::as_str) {
                clean &= !case_insensitive(&format!(r"\b{word}\b"))?.is_match(response);
            }
            clean
        }
        "keywords:letter_frequency" => {
            let letter = args.text("letter")?.to_lowercase();
            let count = lower.matches(letter.as_str()).count();
            args.compare("let_relation", count, args.number("let_frequency")?)?
        }
        "language:response_language" => is_language(response, args.text("language")?),
        "length_constraints:number_sentences" => args.compare(
            "relation",
            count_sentences(response),
            args.number("num_sentences")?,
        )?,
        "length_constraints:number_paragraphs" => {
            let paragraphs: Vec<&str> = pattern(r"\s?\*\*\*\s?").split(response).collect();
            let mut count = paragraphs.len();
            for (i, paragraph) in paragraphs.iter().enumerate() {
                if paragraph.trim().is_empty() {
                    if i == 0 || i == paragraphs.len() - 1 {
                        count -= 1;
                    } else {
                        return Ok(false);
                    }
                }
            }
            count == args.number("num_paragraphs")?
        }
        // IFEval counts words with NLTK's RegexpTokenizer(r"\w+"): the same pattern.
        "length_constraints:number_words" => args.compare(
            "relation",
            pattern(r"\w+").find_iter(response).count(),
            args.number("num_words")?,
        )?,
        "length_constraints:nth_paragraph_first_word" => {
            let paragraphs: Vec<&str> = response.split("\n\n").collect();
            let count = paragraphs.iter().filter(|p| !p.trim().is_empty()).count();
            let nth = args.number("nth_paragraph")?;
            let Some(paragraph) = nth
                .checked_sub(1)
                .and_then(|i| paragraphs.get(i))
                .map(|p| p.trim())
                .filter(|p| !p.is_empty() && nth <= count)
            else {
                return Ok(false);
            };
            let word = paragraph
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .trim_start_matches('\'')
                .trim_start_matches('"');
            let first: String = word
                .chars()
                .take_while(|c| !".,?!'\"".contains(*c))
                .flat_map(char::to_lowercase)
                .collect();
            count == args.number("num_paragraphs")? && first == args.text("first_word")?
        }
        "detectable_content:number_placeholders" => {
            pattern(r"\[.*?\]").find_iter(response).count() >= args.number("num_placeholders")?
        }
        "detectable_content:postscript" => {
            let marker = args.text("postscript_marker")?;
            let source = match marker {
                "P.P.S" => r"(?m)\s*p\.\s?p\.\s?s.*$".to_string(),
                "P.S." => r"(?m)\s*p\.\s?s\..*$".to_string(),
                other => format!(r"(?m)\s*{}.*$", regex::escape(&other.to_lowercase())),
            };
            pattern(&source).is_match(&lower)
        }
        "detectable_format:number_bullet_lists" => {
            let stars = pattern(r"(?m)^\s*\*[^\*].*$").find_iter(response).count();
            let dashes = pattern(r"(?m)^\s*-.*$").find_iter(response).count();
            stars + dashes == args.number("num_bullets")?
        }
        "detectable_format:constrained_response" => [
            "My answer is yes.",
            "My answer is no.",
            "My answer is maybe.",
        ]
        .iter()
        .any(|option| response.trim().contains(option)),
        "detectable_format:number_highlighted_sections" => {
            let single = pattern(r"\*[^\n\*]*\*")
                .find_iter(response)
                .filter(|m| !m.as_str().trim_matches('*').trim().is_empty())
                .count();
            let double = pattern(r"\*\*[^\n\*]*\*\*")
                .find_iter(response)
                .filter(|m| {
                    !m.as_str()
                        .strip_prefix("**")
                        .and_then(|s| s.strip_suffix("**"))
                        .unwrap_or_default()
                        .trim()
                        .is_empty()
                })
                .count();
            single + double >= args.number("num_highlights")?
        }
        "detectable_format:multiple_sections" => {
            let splitter = regex::escape(args.text("section_spliter")?);
            let sections = pattern(&format!(r"\s?{splitter}\s?\d+\s?"))
                .split(response)
                .count();
            sections > args.number("num_sections")?
        }
        "detectable_format:json_format" => {
            let text = response.trim();
            let text = ["```json", "```Json", "```JSON", "```"]
                .iter()
                .find_map(|fence| text.strip_prefix(fence))
                .unwrap_or(text);
            let text = text.strip_suffix("```").unwrap_or(text).trim();
            serde_json::from_str::<Value>(text).is_ok()
        }
        "detectable_format:title" => pattern(r"<<[^\n]+>>").find_iter(response).any(|title| {
            !title
                .as_str()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .trim()
                .is_empty()
        }),
        "combination:two_responses" => {
            let parts: Vec<&str> = response.split("******").collect();
            let mut answers = Vec::new();
            for (i, part) in parts.iter().enumerate() {
                if part.trim().is_empty() {
                    if i != 0 && i != parts.len() - 1 {
                        return Ok(false);
                    }
                } else {
                    answers.push(part.trim());
                }
            }
            answers.len() == 2 && answers[0] != answers[1]
        }
        "combination:repeat_prompt" => lower
            .trim()
            .starts_with(&args.text("prompt_to_repeat")?.trim().to_lowercase()),
        "startend:end_checker" => response
            .trim()
            .trim_matches('"')
            .to_lowercase()
            .ends_with(&args.text("end_phrase")?.trim().to_lowercase()),
        "startend:quotation" => {
            let text = response.trim();
            text.chars().count() > 1 && text.starts_with('"') && text.ends_with('"')
        }
        // IFEval tokenizes with nltk.word_tokenize; words here are runs of letters, digits and "_".
        "change_case:capital_word_frequency" => {
            let capitals = pattern(r"\w+")
                .find_iter(response)
                .filter(|w| is_case(w.as_str(), true))
                .count();
            args.compare(
                "capital_relation",
                capitals,
                args.number("capital_frequency")?,
            )?
        }
        "change_case:english_capital" => is_case(response, true) && is_language(response, "en"),
        "change_case:english_lowercase" => is_case(response, false) && is_language(response, "en"),
        "punctuation:no_comma" => !response.contains(','),
        other => return Err(GameError::Instance(format!("unknown instruction {other}"))),
    })
}

pub fn play(instance: &Instance, model: &mut dyn Responder) -> Result<Episode, GameError> {
    let mut round = Vec::new();
    let response = Player::new(1)
        .ask(&instance.input, model, &mut round)?
        .trim()
        .to_string();
    let target: serde_json::Map<String, Value> = instance
        .target
        .0
        .iter()
        .map(|(id, args)| (id.clone(), Value::Object(args.clone())))
        .collect();
    note(&mut round, "target", &Value::Object(target).to_string());
    let mut all = !response.is_empty();
    for (id, values) in &instance.target.0 {
        all &= follows(id, &Arguments { id, values }, &response)?;
    }
    if all {
        note(&mut round, "followed all instructions", "game_result = WIN");
    } else {
        note(
            &mut round,
            "followed not all instructions",
            "game_result = LOSE",
        );
    }
    Ok(Episode {
        turns: vec![round],
        episode_scores: default_scores(Some(all), if all { 100.0 } else { 0.0 }),
        keys: default_keys(Some(all)),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(id: &str, args: Value, response: &str) -> bool {
        let values = args.as_object().unwrap().clone();
        follows(
            id,
            &Arguments {
                id,
                values: &values,
            },
            response,
        )
        .unwrap()
    }

    #[test]
    fn each_instruction_is_checked_as_ifeval_checks_it() {
        use serde_json::json;
        assert!(check("punctuation:no_comma", json!({}), "No commas here."));
        assert!(!check("punctuation:no_comma", json!({}), "One, two."));
        let words = json!({"relation": "at least", "num_words": 3});
        assert!(check(
            "length_constraints:number_words",
            words.clone(),
            "one two-three"
        ));
        assert!(!check("length_constraints:number_words", words, "one two"));
        assert!(check(
            "detectable_format:number_highlighted_sections",
            json!({"num_highlights": 2}),
            "*a* and **b** but not **"
        ));
        assert!(check(
            "detectable_content:number_placeholders",
            json!({"num_placeholders": 2}),
            "[name] at [address]"
        ));
        assert!(check(
            "detectable_format:title",
            json!({}),
            "<<A Title>>\nbody"
        ));
        assert!(!check("detectable_format:title", json!({}), "<<>> body"));
        assert!(check(
            "detectable_format:json_format",
            json!({}),
            "```json\n{\"a\": 1}\n```"
        ));
        assert!(check(
            "combination:two_responses",
            json!({}),
            "first\n******\nsecond"
        ));
        assert!(!check(
            "combination:two_responses",
            json!({}),
            "same\n******\nsame"
        ));
        assert!(check(
            "detectable_format:number_bullet_lists",
            json!({"num_bullets": 2}),
            "* one\n- two\n**bold** is not a bullet"
        ));
        assert!(check(
            "detectable_format:multiple_sections",
            json!({"section_spliter": "SECTION", "num_sections": 2}),
            "SECTION 1\na\nSECTION 2\nb"
        ));
        assert!(check(
            "length_constraints:number_paragraphs",
            json!({"num_paragraphs": 2}),
            "one\n***\ntwo"
        ));
        assert!(!check(
            "length_constraints:number_paragraphs",
            json!({"num_paragraphs": 2}),
            "one\n***\n\n***\ntwo"
        ));
        let nth = json!({"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "then"});
        assert!(check(
            "length_constraints:nth_paragraph_first_word",
            nth,
            "First.\n\n\"Then, more."
        ));
        assert!(check(
            "startend:end_checker",
            json!({"end_phrase": "Any questions?"}),
            "Text. Any questions?\""
        ));
        assert!(check("startend:quotation", json!({}), "\"quoted\""));
        assert!(check(
            "keywords:letter_frequency",
            json!({"letter": "#", "let_frequency": 2, "let_relation": "at least"}),
            "# a #"
        ));
        assert!(check(
            "keywords:frequency",
            json!({"keyword": "cat", "frequency": 2, "relation": "less than"}),
            "Cat"
        ));
        assert!(!check(
            "keywords:forbidden_words",
            json!({"forbidden_words": ["dog"]}),
            "A Dog."
        ));
        assert!(check(
            "detectable_content:postscript",
            json!({"postscript_marker": "P.S."}),
            "Body\nP.S. later"
        ));
        assert!(check(
            "change_case:capital_word_frequency",
            json!({"capital_relation": "at least", "capital_frequency": 2}),
            "NASA and ESA"
        ));
        assert!(check(
            "change_case:english_lowercase",
            json!({}),
            "this reply is written in plain english with no capital letters at all"
        ));
        assert!(!check(
            "change_case:english_lowercase",
            json!({}),
            "This reply has a capital letter at the start of it"
        ));
        assert!(check(
            "change_case:english_capital",
            json!({}),
            "THIS REPLY IS WRITTEN IN ENGLISH AND IN CAPITAL LETTERS ONLY"
        ));
        assert!(check(
            "language:response_language",
            json!({"language": "de"}),
            "Das ist eine Antwort, die vollständig auf Deutsch geschrieben wurde."
        ));
        assert!(!check(
            "language:response_language",
            json!({"language": "de"}),
            "This answer is written entirely in the English language, not German."
        ));
        assert_eq!(count_sentences("One. Two! Three? Four"), 4);
    }

    #[test]
    fn an_instruction_without_its_arguments_is_an_instance_error() {
        let values = serde_json::json!({"relation": null, "num_words": 3});
        let error = follows(
            "length_constraints:number_words",
            &Arguments {
                id: "length_constraints:number_words",
                values: values.as_object().unwrap(),
            },
            "a b c",
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("argument relation is missing"),
            "{error}"
        );
        let error = follows(
            "keywords:rhymes",
            &Arguments {
                id: "keywords:rhymes",
                values: &serde_json::Map::new(),
            },
            "a",
        )
        .unwrap_err();
        assert_eq!(error.to_string(), "unknown instruction keywords:rhymes");
    }
}
