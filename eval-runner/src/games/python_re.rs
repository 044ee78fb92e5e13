//! Python's `re` as the game masters use it, over Rust's regex: `re.match`
//! anchors at the start, and `$` (without MULTILINE) also matches just before
//! one final newline, which Rust's `$` does not.

use regex::{Captures, Regex};

pub struct PythonRegex(Regex);

impl PythonRegex {
    /// For `re.match`: the pattern must match at the start.
    pub fn matching(pattern: &str, ignore_case: bool) -> Result<Self, regex::Error> {
        Self::new(&format!("^(?:{pattern})"), ignore_case)
    }

    /// For `re.search`: the pattern may match anywhere.
    pub fn searching(pattern: &str, ignore_case: bool) -> Result<Self, regex::Error> {
        Self::new(pattern, ignore_case)
    }

    fn new(source: &str, ignore_case: bool) -> Result<Self, regex::Error> {
        let flags = if ignore_case { "(?i)" } else { "" };
        Regex::new(&format!("{flags}{source}")).map(Self)
    }

    pub fn captures<'t>(&self, text: &'t str) -> Option<Captures<'t>> {
        self.0
            .captures(text)
            .or_else(|| self.0.captures(text.strip_suffix('\n')?))
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.0.is_match(text)
            || text
                .strip_suffix('\n')
                .is_some_and(|shorter| self.0.is_match(shorter))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_anchors_at_the_start_and_search_does_not() {
        let matching = PythonRegex::matching("GUESS: (\\w+)", false).unwrap();
        assert!(matching.is_match("GUESS: apple"));
        assert!(!matching.is_match("My GUESS: apple"));
        assert!(PythonRegex::searching("GUESS: (\\w+)", false)
            .unwrap()
            .is_match("My GUESS: apple"));
        // An alternation stays anchored as a whole.
        assert!(!PythonRegex::matching("a|b", false).unwrap().is_match("cb"));
    }

    #[test]
    fn dollar_also_matches_before_one_final_newline() {
        let done = PythonRegex::searching("^DONE$", true).unwrap();
        assert!(done.is_match("done\n"));
        assert!(!done.is_match("DONE\n\n"));
        assert_eq!(
            done.captures("DONE\n").unwrap().get(0).unwrap().as_str(),
            "DONE"
        );
    }

    #[test]
    fn a_broken_pattern_is_an_error() {
        assert!(PythonRegex::matching("(unclosed", false).is_err());
    }
}
