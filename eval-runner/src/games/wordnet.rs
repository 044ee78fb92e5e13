//! WordNet's noun lemmas, as NLTK's `WordNetLemmatizer().lemmatize(word)`
//! finds them (its `morphy` for nouns): codenames refuses a clue whose lemma
//! is that of a word on the board. Read from a WordNet 3.0 dictionary folder
//! (`index.noun` and `noun.exc`), as NLTK's data or Debian's `wordnet-base` ship it.

use std::collections::{HashMap, HashSet};
use std::path::Path;

/// NLTK's detachment rules for nouns, in its order (the order decides ties).
const NOUN_RULES: [(&str, &str); 9] = [
    ("s", ""),
    ("ses", "s"),
    ("ves", "f"),
    ("xes", "x"),
    ("zes", "z"),
    ("ches", "ch"),
    ("shes", "sh"),
    ("men", "man"),
    ("ies", "y"),
];

#[derive(Debug, Default)]
pub struct NounLemmatizer {
    nouns: HashSet<String>,
    /// Irregular forms: "geese" → ["goose"].
    exceptions: HashMap<String, Vec<String>>,
}

impl NounLemmatizer {
    /// Reads `index.noun` and `noun.exc` from a WordNet dictionary folder.
    pub fn read(dict_dir: &Path) -> Result<Self, String> {
        let read = |name: &str| {
            let path = dict_dir.join(name);
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
        };
        let index = read("index.noun")?;
        // Entry lines start with the lemma; the licence header is indented.
        let nouns: HashSet<String> = index
            .lines()
            .filter(|line| !line.starts_with(' '))
            .filter_map(|line| line.split(' ').next())
            .filter(|lemma| !lemma.is_empty())
            .map(str::to_string)
            .collect();
        if nouns.is_empty() {
            return Err(format!(
                "{}: no noun in the index",
                dict_dir.join("index.noun").display()
            ));
        }
        let exceptions = read("noun.exc")?
            .lines()
            .filter_map(|line| {
                let mut terms = line.split_whitespace().map(str::to_string);
                Some((terms.next()?, terms.collect()))
            })
            .collect();
        Ok(Self { nouns, exceptions })
    }

    /// The shortest noun lemma of `word`, or `word` itself when WordNet knows none.
    pub fn lemmatize(&self, word: &str) -> String {
        self.lemmas(word)
            .into_iter()
            .min_by_key(|lemma| lemma.chars().count())
            .unwrap_or_else(|| word.to_string())
    }

    /// NLTK's `_morphy(word, 'n')`: the exception list, else the rules applied
    /// once (keeping the word itself), else again and again until a form is a noun.
    fn lemmas(&self, word: &str) -> Vec<String> {
        if let Some(bases) = self.exceptions.get(word) {
            return self.known(std::iter::once(word.to_string()).chain(bases.iter().cloned()));
        }
        let mut forms = apply_rules(&[word.to_string()]);
        let found = self.known(std::iter::once(word.to_string()).chain(forms.iter().cloned()));
        if !found.is_empty() {
            return found;
        }
        while !forms.is_empty() {
            forms = apply_rules(&forms);
            let found = self.known(forms.iter().cloned());
            if !found.is_empty() {
                return found;
            }
        }
        Vec::new()
    }

    /// The forms that are nouns, first occurrences only, in order.
    fn known(&self, forms: impl Iterator<Item = String>) -> Vec<String> {
        let mut seen = HashSet::new();
        forms
            .filter(|form| self.nouns.contains(form) && seen.insert(form.clone()))
            .collect()
    }
}

fn apply_rules(forms: &[String]) -> Vec<String> {
    forms
        .iter()
        .flat_map(|form| {
            NOUN_RULES.iter().filter_map(move |(ending, replacement)| {
                Some(format!("{}{replacement}", form.strip_suffix(ending)?))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lemmatizer() -> NounLemmatizer {
        let nouns = [
            "cat", "glass", "glas", "goose", "wolf", "box", "church", "woman", "city", "news",
            "axis", "ax",
        ];
        let exceptions = [("geese", vec!["goose"]), ("axes", vec!["ax", "axis"])];
        NounLemmatizer {
            nouns: nouns.iter().map(|n| n.to_string()).collect(),
            exceptions: exceptions
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
                .collect(),
        }
    }

    #[test]
    fn regular_plurals_lose_their_ending() {
        let nouns = lemmatizer();
        for (word, lemma) in [
            ("cats", "cat"),
            ("wolves", "wolf"),
            ("boxes", "box"),
            ("churches", "church"),
            ("women", "woman"),
            ("cities", "city"),
        ] {
            assert_eq!(nouns.lemmatize(word), lemma, "{word}");
        }
    }

    #[test]
    fn a_known_noun_is_its_own_lemma_unless_a_shorter_one_is_found_with_it() {
        let nouns = lemmatizer();
        assert_eq!(nouns.lemmatize("news"), "news");
        // "glass" and "glas" are both nouns: the shorter wins, as in NLTK.
        assert_eq!(nouns.lemmatize("glass"), "glas");
    }

    #[test]
    fn exceptions_come_first_and_the_shortest_base_wins() {
        let nouns = lemmatizer();
        assert_eq!(nouns.lemmatize("geese"), "goose");
        assert_eq!(nouns.lemmatize("axes"), "ax");
    }

    #[test]
    fn unknown_words_stay_as_they_are() {
        let nouns = lemmatizer();
        assert_eq!(nouns.lemmatize("blorfs"), "blorfs");
        assert_eq!(nouns.lemmatize(""), "");
    }

    #[test]
    fn wordnet_3_0_gives_the_lemmas_nltk_gives() {
        // Debian's wordnet-base, which scripts/test.sh installs; expected values printed by NLTK 3.9.2.
        let nouns = NounLemmatizer::read(Path::new("/usr/share/wordnet"))
            .expect("WordNet 3.0 in /usr/share/wordnet");
        for (word, lemma) in [
            ("beds", "bed"),
            ("geese", "goose"),
            ("glasses", "glass"),
            ("leaves", "leaf"),
            ("octopi", "octopus"),
            ("physics", "physic"),
            ("species", "specie"),
            ("dice", "dice"),
            ("ashes", "ash"),
            ("data", "data"),
        ] {
            assert_eq!(nouns.lemmatize(word), lemma, "{word}");
        }
    }

    #[test]
    fn a_folder_without_wordnet_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let error = NounLemmatizer::read(dir.path()).unwrap_err();
        assert!(error.contains("index.noun"), "{error}");
        std::fs::write(dir.path().join("index.noun"), "  1 licence header\n").unwrap();
        let error = NounLemmatizer::read(dir.path()).unwrap_err();
        assert!(
            error.ends_with("index.noun: no noun in the index"),
            "{error}"
        );
    }
}
