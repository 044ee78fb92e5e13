//! Chat prompts rendered with the model's own jinja template, as the
//! Hugging Face and llama.cpp runtimes render them.

use minijinja::{context, Environment, Error, ErrorKind};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn new(role: &str, content: &str) -> Self {
        Self { role: role.to_string(), content: content.to_string() }
    }
}

pub struct ChatTemplate {
    env: Environment<'static>,
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// `strftime_now(format)` for templates that print today's date (%d, %m, %Y, %y, %b, %B).
fn strftime_now(format: String) -> String {
    const MONTHS: [&str; 12] = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
        "November", "December",
    ];
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let name = MONTHS[month as usize - 1];
    format
        .replace("%d", &format!("{day:02}"))
        .replace("%m", &format!("{month:02}"))
        .replace("%Y", &year.to_string())
        .replace("%y", &format!("{:02}", year % 100))
        .replace("%B", name)
        .replace("%b", &name[..3])
}

impl ChatTemplate {
    pub fn new(source: &str) -> Result<Self, String> {
        let mut env = Environment::new();
        // Templates are written for Python's jinja2: allow its string methods and whitespace rules.
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.add_function("raise_exception", |message: String| -> Result<String, Error> {
            Err(Error::new(ErrorKind::InvalidOperation, message))
        });
        env.add_function("strftime_now", strftime_now);
        env.add_template_owned("chat", source.to_string())
            .map_err(|e| format!("the chat template does not parse: {e}"))?;
        Ok(Self { env })
    }

    pub fn render(
        &self,
        messages: &[Message],
        add_generation_prompt: bool,
        bos_token: Option<&str>,
        eos_token: Option<&str>,
    ) -> Result<String, String> {
        let template = self.env.get_template("chat").map_err(|e| e.to_string())?;
        template
            .render(context! {
                messages => messages,
                add_generation_prompt => add_generation_prompt,
                bos_token => bos_token.unwrap_or_default(),
                eos_token => eos_token.unwrap_or_default(),
            })
            .map_err(|e| format!("cannot render the chat template: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Llama 3.1 chat format, reduced to its turn structure.
    const LLAMA31_STYLE: &str = "{{- bos_token }}\n\
        {%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content']|trim %}{%- set messages = messages[1:] %}{%- else %}{%- set system_message = \"\" %}{%- endif %}\n\
        {{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}\n\
        {{- \"Cutting Knowledge Date: December 2023\\n\\n\" }}\n\
        {{- system_message }}\n\
        {{- \"<|eot_id|>\" }}\n\
        {%- for message in messages %}\n\
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}\n\
        {%- endfor %}\n\
        {%- if add_generation_prompt %}\n\
        {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n\
        {%- endif %}\n";

    #[test]
    fn renders_the_llama31_turn_format() {
        let template = ChatTemplate::new(LLAMA31_STYLE).unwrap();
        let prompt = template
            .render(
                &[Message::new("system", " Be brief. "), Message::new("user", "Hi")],
                true,
                Some("<|begin_of_text|>"),
                None,
            )
            .unwrap();
        assert_eq!(
            prompt,
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n\n\
             Be brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>\
             <|start_header_id|>assistant<|end_header_id|>\n\n"
        );
    }

    #[test]
    fn python_string_methods_work() {
        let template = ChatTemplate::new("{{ messages[0].content.strip().upper() }}").unwrap();
        assert_eq!(template.render(&[Message::new("user", " hi ")], false, None, None).unwrap(), "HI");
    }

    #[test]
    fn raise_exception_becomes_an_error() {
        let template = ChatTemplate::new("{{ raise_exception('roles must alternate') }}").unwrap();
        let error = template.render(&[], false, None, None).unwrap_err();
        assert!(error.contains("roles must alternate"), "{error}");
    }

    #[test]
    fn a_broken_template_is_reported() {
        let error = ChatTemplate::new("{% for %}").err().expect("a parse error");
        assert!(error.starts_with("the chat template does not parse"), "{error}");
    }

    #[test]
    fn dates_are_computed_from_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }
}
