//! Markdown from participants and organizers, rendered to HTML that is safe
//! to put in a page: scripts, event handlers and `javascript:` links removed.

use pulldown_cmark::{html, Options, Parser};

pub fn render(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut unsafe_html = String::new();
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options));
    ammonia::clean(&unsafe_html)
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn renders_markdown() {
        assert_eq!(render("The **base** model"), "<p>The <strong>base</strong> model</p>\n");
    }

    #[test]
    fn strips_scripts_and_dangerous_links() {
        let html = render("<script>alert(1)</script><img src=x onerror=alert(1)>\n\n[x](javascript:alert(1))");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("href=\"javascript:"), "{html}");
        assert!(html.contains("<a rel=\"noopener noreferrer\">x</a>"), "{html}");
    }
}
