//! The submission form's fields, checked before any file is looked at.

use std::collections::HashMap;

pub const MAX_NAME_CHARS: usize = 80;
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;

/// A form whose every field is valid.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub name: String,
    pub description: String,
    pub repository_url: String,
    /// A Hugging Face model id, `owner/name`.
    pub model_id: String,
    pub model_revision: String,
    pub base_model: String,
    pub training_tokens: i64,
}

fn is_model_id(text: &str) -> bool {
    let parts: Vec<&str> = text.split('/').collect();
    parts.len() == 2
        && parts.iter().all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        })
}

/// Reads the named fields; every problem is reported, each naming its field.
pub fn parse(fields: &HashMap<String, String>) -> Result<Entry, Vec<String>> {
    let field = |name: &str| fields.get(name).map(|v| v.trim().to_string()).unwrap_or_default();
    let mut problems = Vec::new();
    let mut required = |name: &str, label: &str| {
        let value = field(name);
        if value.is_empty() {
            problems.push(format!("{label}: required"));
        }
        value
    };
    let name = required("name", "Submission name");
    let repository_url = required("repository_url", "Repository URL");
    let model_id = required("model_id", "Model");
    let model_revision = required("model_revision", "Model revision");
    let base_model = required("base_model", "Base model");
    let training_tokens_text = required("training_tokens", "Training tokens");
    let description = field("description");

    if name.chars().count() > MAX_NAME_CHARS {
        problems.push(format!("Submission name: at most {MAX_NAME_CHARS} characters"));
    }
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        problems.push(format!("Description: at most {MAX_DESCRIPTION_CHARS} characters"));
    }
    if !repository_url.is_empty() && !repository_url.starts_with("https://") {
        problems.push(format!("Repository URL: \"{repository_url}\" is not an https:// address"));
    }
    for (label, value) in [("Model", &model_id), ("Base model", &base_model)] {
        if !value.is_empty() && !is_model_id(value) {
            problems.push(format!("{label}: \"{value}\" is not a Hugging Face id like owner/name"));
        }
    }
    let training_tokens = match training_tokens_text.replace(['_', ','], "").parse::<i64>() {
        Ok(tokens) if tokens >= 0 => tokens,
        _ => {
            if !training_tokens_text.is_empty() {
                problems.push(format!("Training tokens: \"{training_tokens_text}\" is not a whole number ≥ 0"));
            }
            0
        }
    };
    if problems.is_empty() {
        Ok(Entry { name, description, repository_url, model_id, model_revision, base_model, training_tokens })
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    const GOOD: [(&str, &str); 7] = [
        ("name", " Playful 8B "),
        ("description", "Self-play on **all** games"),
        ("repository_url", "https://github.com/team/playful"),
        ("model_id", "team/playful-8b"),
        ("model_revision", "a1b2c3d"),
        ("base_model", "meta-llama/Llama-3.1-8B-Instruct"),
        ("training_tokens", "12,500,000"),
    ];

    #[test]
    fn a_complete_form_is_read_and_trimmed() {
        let entry = parse(&form(&GOOD)).unwrap();
        assert_eq!(entry.name, "Playful 8B");
        assert_eq!(entry.training_tokens, 12_500_000);
        assert_eq!(entry.base_model, "meta-llama/Llama-3.1-8B-Instruct");
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut fields = form(&GOOD);
        fields.insert("name".into(), " ".into());
        fields.insert("repository_url".into(), "ftp://x".into());
        fields.insert("model_id".into(), "just-a-name".into());
        fields.insert("training_tokens".into(), "-3".into());
        fields.insert("description".into(), "x".repeat(MAX_DESCRIPTION_CHARS + 1));
        assert_eq!(
            parse(&fields).unwrap_err(),
            [
                "Submission name: required",
                "Description: at most 2000 characters",
                "Repository URL: \"ftp://x\" is not an https:// address",
                "Model: \"just-a-name\" is not a Hugging Face id like owner/name",
                "Training tokens: \"-3\" is not a whole number ≥ 0",
            ]
        );
    }
}
