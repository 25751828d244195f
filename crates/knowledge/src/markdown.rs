//! Markdown in, plain text out: what the index and the snippets see.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

/// The text of a Markdown document: block elements end with a newline, raw
/// HTML is dropped, link targets are dropped (their text stays).
pub fn to_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak => out.push(' '),
            Event::HardBreak | Event::Rule => out.push('\n'),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::TableRow
                | TagEnd::TableHead
                | TagEnd::BlockQuote(_),
            ) => out.push('\n'),
            Event::End(TagEnd::TableCell) => out.push(' '),
            _ => {}
        }
    }
    out.trim().to_string()
}

/// Splits a Markdown upload into its title (the text of the first `# `
/// heading) and the rest of the document. `None` if it has no such heading.
pub fn split_title(markdown: &str) -> Option<(String, String)> {
    let mut title: Option<(String, std::ops::Range<usize>)> = None;
    let mut inside = false;
    for (event, range) in Parser::new_ext(markdown, options()).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading {
                level: HeadingLevel::H1,
                ..
            }) if title.is_none() => {
                inside = true;
                title = Some((String::new(), range));
            }
            Event::End(TagEnd::Heading(HeadingLevel::H1)) if inside => break,
            Event::Text(t) | Event::Code(t) if inside => {
                if let Some((text, _)) = title.as_mut() {
                    text.push_str(&t);
                }
            }
            _ => {}
        }
    }
    let (text, range) = title?;
    let body = format!("{}{}", &markdown[..range.start], &markdown[range.end..]);
    Some((text.trim().to_string(), body.trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_plain_text_without_markup_or_html() {
        let text = to_text(
            "## Refunds\n\nRefunds take **5-10** [business days](https://x.y).\n\n- one\n- two\n\n<script>alert(1)</script>\n",
        );
        assert_eq!(text, "Refunds\nRefunds take 5-10 business days.\none\ntwo");
    }

    #[test]
    fn the_first_h1_is_the_title_and_is_removed_from_the_body() {
        let (title, body) =
            split_title("Intro line\n\n# Shipping *fast*\n\nWe ship.\n\n# Second\n").unwrap();
        assert_eq!(title, "Shipping fast");
        assert_eq!(body, "Intro line\n\n\nWe ship.\n\n# Second");
        assert!(split_title("## only h2\n\n```\n# not a heading\n```").is_none());
    }
}
