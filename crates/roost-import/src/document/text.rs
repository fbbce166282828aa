//! Plain text and Markdown into blocks.

use super::{Block, normalise_lines};

/// By extension first; otherwise by Markdown headings or fenced code.
pub fn is_markdown(file_name: &str, text: &str) -> bool {
    let lower = file_name.to_lowercase();
    if [".md", ".markdown", ".mdown", ".mkd"]
        .iter()
        .any(|e| lower.ends_with(e))
    {
        return true;
    }
    if lower.ends_with(".txt") {
        return false;
    }
    text.lines()
        .take(500)
        .any(|l| atx_heading(l).is_some() || l.trim_start().starts_with("```"))
}

/// `## Off-plan` → `(2, "Off-plan")`; `#hashtag` is not a heading.
fn atx_heading(line: &str) -> Option<(u8, &str)> {
    let t = line.trim_start_matches(' ');
    if line.len() - t.len() > 3 {
        return None;
    }
    let level = t.bytes().take_while(|b| *b == b'#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = &t[level..];
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    // A closing run of `#` is decoration: `## Title ##`.
    let text = rest.trim().trim_end_matches('#').trim_end();
    Some((level as u8, text))
}

/// A setext underline: `===` makes the line above a level-1 heading, `---` level 2.
fn setext_level(line: &str) -> Option<u8> {
    let t = line.trim();
    if t.len() >= 3 && t.bytes().all(|b| b == b'=') {
        Some(1)
    } else if t.len() >= 3 && t.bytes().all(|b| b == b'-') {
        Some(2)
    } else {
        None
    }
}

/// Headings, fenced code (kept as is, so `#` inside is not a heading) and
/// paragraphs separated by blank lines. Inline markup is left in place: it
/// reads fine as text and embeds fine.
pub fn markdown_blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut para: Vec<&str> = Vec::new();
    let mut fence: Option<Vec<&str>> = None;
    let flush = |para: &mut Vec<&str>, blocks: &mut Vec<Block>| {
        if !para.is_empty() {
            blocks.push(Block {
                heading: None,
                text: join_wrapped(para),
            });
            para.clear();
        }
    };
    for line in text.lines() {
        if let Some(code) = fence.as_mut() {
            if line.trim_start().starts_with("```") {
                blocks.push(Block {
                    heading: None,
                    text: code
                        .iter()
                        .map(|l| l.trim_end())
                        .filter(|l| !l.trim().is_empty())
                        .collect::<Vec<_>>()
                        .join("\n"),
                });
                fence = None;
            } else {
                code.push(line);
            }
            continue;
        }
        if line.trim_start().starts_with("```") {
            flush(&mut para, &mut blocks);
            fence = Some(Vec::new());
        } else if let Some((level, heading)) = atx_heading(line) {
            flush(&mut para, &mut blocks);
            blocks.push(Block::heading(level, heading));
        } else if let (Some(level), [.., last]) = (setext_level(line), para.as_slice()) {
            let heading = *last;
            para.pop();
            flush(&mut para, &mut blocks);
            blocks.push(Block::heading(level, heading));
        } else if line.trim().is_empty() || is_rule(line) {
            flush(&mut para, &mut blocks);
        } else {
            para.push(line);
        }
    }
    if let Some(code) = fence {
        // An unclosed fence: keep its text as a paragraph.
        para.extend(code);
    }
    flush(&mut para, &mut blocks);
    blocks
}

/// Paragraphs separated by blank lines. Hard-wrapped lines are joined with a
/// space; list items stay on their own lines.
pub fn plain_blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut para: Vec<&str> = Vec::new();
    for line in text.lines().chain(std::iter::once("")) {
        if line.trim().is_empty() {
            if !para.is_empty() {
                blocks.push(Block {
                    heading: None,
                    text: join_wrapped(&para),
                });
                para.clear();
            }
        } else {
            para.push(line);
        }
    }
    blocks
}

/// Joins wrapped lines of one paragraph. A line ending in a hyphen is joined
/// without a space (`well-\nknown` → `well-known`); a line that starts a list
/// item keeps its line break.
pub(crate) fn join_wrapped(lines: &[&str]) -> String {
    let mut out = String::new();
    for line in lines {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            continue;
        }
        if !out.is_empty() {
            if is_list_item(&line) {
                out.push('\n');
            } else if !out.ends_with('-') {
                out.push(' ');
            }
        }
        out.push_str(&line);
    }
    normalise_lines(&out)
}

/// A thematic break: `---`, `***`, `___`.
fn is_rule(line: &str) -> bool {
    let t: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    t.len() >= 3
        && ["-", "*", "_"]
            .iter()
            .any(|m| t.chars().all(|c| c.to_string() == *m))
}

/// List items and table rows keep their own line.
fn is_list_item(line: &str) -> bool {
    let t = line.trim_start();
    if t.starts_with(['-', '*', '•', '–', '▪', '◦', '|', '>']) {
        return true;
    }
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && digits <= 3 && t[digits..].starts_with(['.', ')'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(blocks: &[Block]) -> Vec<(Option<u8>, &str)> {
        blocks
            .iter()
            .map(|b| (b.heading, b.text.as_str()))
            .collect()
    }

    #[test]
    fn markdown() {
        let md = "# Policy\n\nIntro   text\nwraps here.\n\n***\n## Off-plan ##\n- one\n- two\n\n```\n# not a heading\n```\n\nSetext\n------\nbody\n#hashtag";
        assert_eq!(
            show(&markdown_blocks(md)),
            vec![
                (Some(1), "Policy"),
                (None, "Intro text wraps here."),
                (Some(2), "Off-plan"),
                (None, "- one\n- two"),
                (None, "# not a heading"),
                (Some(2), "Setext"),
                (None, "body #hashtag"),
            ]
        );
    }

    #[test]
    fn plain() {
        let text =
            "First line\nwraps on and is well-\nknown.\n\n\n- item one\n- item two\n1. numbered\n";
        assert_eq!(
            show(&plain_blocks(text)),
            vec![
                (None, "First line wraps on and is well-known."),
                (None, "- item one\n- item two\n1. numbered"),
            ]
        );
    }

    #[test]
    fn detection() {
        assert!(is_markdown("a.md", "plain"));
        assert!(!is_markdown("a.txt", "# heading"));
        assert!(is_markdown("notes", "intro\n## Heading\n"));
        assert!(!is_markdown("notes", "#hashtag only\n"));
    }
}
