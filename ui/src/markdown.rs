//! Answers are markdown; this turns them into a small tree the chat screen renders node by
//! node. Nothing here is ever HTML: raw HTML in an answer stays text, links and images keep
//! only their words, and citation markers (`[1]`, `[1, 2]`, `[2-4]`) become [`Node::Cite`].
//!
//! The tree is split into top-level blocks, each keyed by a hash of its source, so while an
//! answer streams only the last (growing) block is drawn again.

use std::hash::{Hash, Hasher};

use pulldown_cmark::{Alignment, Event, Options, Parser, Tag, TagEnd};

/// Longest citation marker read, brackets included; longer ones are prose in brackets.
const MAX_MARKER: usize = 48;
/// Widest range `[a-b]` expanded.
const MAX_RANGE: u32 = 20;
/// Highest source number a marker may name.
const MAX_SOURCE: u32 = 9999;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    None,
    Left,
    Center,
    Right,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum El {
    Para,
    Heading(u8),
    Quote,
    /// Ordered lists carry their first number.
    List(Option<u64>),
    Item,
    CodeBlock,
    Table,
    /// The header row of a table.
    Head,
    Row,
    Cell {
        head: bool,
        align: Align,
    },
    Strong,
    Em,
    Strike,
    /// A link's words; the address is kept for a tooltip, never followed.
    Link(String),
    /// Anything else (images' alt text, footnotes): its words only.
    Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Text(String),
    Cite(u32),
    Code(String),
    Break,
    Rule,
    El(El, Vec<Node>),
}

/// One top-level block of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Hash of the block's source: unchanged source, unchanged view.
    pub key: u64,
    pub node: Node,
}

/// The blocks of a (possibly half-streamed) answer.
pub fn blocks(text: &str) -> Vec<Block> {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut b = Builder::default();
    let mut start = 0;
    let mut out = Vec::new();
    for (event, range) in Parser::new_ext(text, options).into_offset_iter() {
        if b.stack.is_empty() {
            start = range.start;
        }
        if let Some(node) = b.event(event) {
            out.push(Block {
                key: hash(&text[start..range.end.max(start)]),
                node,
            });
        }
    }
    out
}

fn hash(s: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

#[derive(Default)]
struct Builder {
    /// Open elements with their children so far; empty between top-level blocks.
    stack: Vec<(El, Vec<Node>)>,
    text: String,
    /// Alignments of the open table and the index of the next cell.
    aligns: Vec<Align>,
    cell: usize,
}

impl Builder {
    /// Feeds one event; returns a top-level block when one ends.
    fn event(&mut self, event: Event<'_>) -> Option<Node> {
        match event {
            Event::Text(t) | Event::Html(t) | Event::InlineHtml(t) => {
                self.text.push_str(&t);
                None
            }
            Event::InlineMath(t) | Event::DisplayMath(t) => {
                self.text.push_str(&t);
                None
            }
            Event::FootnoteReference(label) => {
                self.text.push_str(&format!("[^{label}]"));
                None
            }
            Event::TaskListMarker(done) => {
                self.text.push_str(if done { "☑ " } else { "☐ " });
                None
            }
            Event::SoftBreak => {
                self.text.push('\n');
                None
            }
            Event::Code(t) => self.leaf(Node::Code(t.to_string())),
            Event::HardBreak => self.leaf(Node::Break),
            Event::Rule => self.leaf(Node::Rule),
            Event::Start(tag) => {
                self.flush();
                let el = self.open(tag);
                self.stack.push((el, Vec::new()));
                None
            }
            Event::End(end) => {
                self.flush();
                if matches!(end, TagEnd::Table) {
                    self.aligns.clear();
                }
                let (el, children) = self.stack.pop()?;
                self.push(Node::El(el, children))
            }
        }
    }

    fn open(&mut self, tag: Tag<'_>) -> El {
        match tag {
            // Raw HTML blocks are shown as the text they are.
            Tag::Paragraph | Tag::HtmlBlock => El::Para,
            Tag::Heading { level, .. } => El::Heading(level as u8),
            Tag::BlockQuote(_) => El::Quote,
            Tag::CodeBlock(_) => El::CodeBlock,
            Tag::List(first) => El::List(first),
            Tag::Item => El::Item,
            Tag::Table(aligns) => {
                self.aligns = aligns
                    .into_iter()
                    .map(|a| match a {
                        Alignment::None => Align::None,
                        Alignment::Left => Align::Left,
                        Alignment::Center => Align::Center,
                        Alignment::Right => Align::Right,
                    })
                    .collect();
                El::Table
            }
            Tag::TableHead => {
                self.cell = 0;
                El::Head
            }
            Tag::TableRow => {
                self.cell = 0;
                El::Row
            }
            Tag::TableCell => {
                let head = matches!(self.stack.last(), Some((El::Head, _)));
                let align = self.aligns.get(self.cell).copied().unwrap_or(Align::None);
                self.cell += 1;
                El::Cell { head, align }
            }
            Tag::Emphasis => El::Em,
            Tag::Strong => El::Strong,
            Tag::Strikethrough => El::Strike,
            Tag::Link { dest_url, .. } => El::Link(dest_url.to_string()),
            _ => El::Span,
        }
    }

    fn leaf(&mut self, node: Node) -> Option<Node> {
        self.flush();
        self.push(node)
    }

    /// Adds a finished node to its parent, or returns it when it is a top-level block.
    fn push(&mut self, node: Node) -> Option<Node> {
        match self.stack.last_mut() {
            Some((_, children)) => {
                children.push(node);
                None
            }
            None => Some(node),
        }
    }

    /// Text gathered from consecutive events (the parser splits `[1]` into pieces) becomes
    /// text and citation nodes; code blocks keep their brackets.
    fn flush(&mut self) {
        if self.text.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.text);
        let in_code = matches!(self.stack.last(), Some((El::CodeBlock, _)));
        let nodes = if in_code {
            vec![Node::Text(text)]
        } else {
            split_citations(&text)
        };
        // CommonMark puts all text inside a block, so there is always a parent.
        if let Some((_, children)) = self.stack.last_mut() {
            children.extend(nodes);
        }
    }
}

/// Text with its citation markers as [`Node::Cite`], one per number.
pub fn split_citations(text: &str) -> Vec<Node> {
    let mut out = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('[') {
        plain.push_str(&rest[..at]);
        rest = &rest[at..];
        match marker(rest) {
            Some((len, numbers)) => {
                if !plain.is_empty() {
                    out.push(Node::Text(std::mem::take(&mut plain)));
                }
                out.extend(numbers.into_iter().map(Node::Cite));
                rest = &rest[len..];
            }
            None => {
                plain.push('[');
                rest = &rest[1..];
            }
        }
    }
    plain.push_str(rest);
    if !plain.is_empty() {
        out.push(Node::Text(plain));
    }
    out
}

/// When `s` starts with a citation marker: its length in bytes and its numbers.
fn marker(s: &str) -> Option<(usize, Vec<u32>)> {
    let inner = s.strip_prefix('[')?;
    let close = inner.find(']')?;
    if close + 2 > MAX_MARKER {
        return None;
    }
    let mut numbers = Vec::new();
    for item in inner[..close].split([',', ';']) {
        match item.split_once(['-', '–']) {
            None => numbers.push(source_number(item)?),
            Some((a, b)) => {
                let (a, b) = (source_number(a)?, source_number(b)?);
                if b < a || b - a >= MAX_RANGE {
                    return None;
                }
                numbers.extend(a..=b);
            }
        }
    }
    Some((close + 2, numbers))
}

fn source_number(s: &str) -> Option<u32> {
    let s = s.trim();
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|n| (1..=MAX_SOURCE).contains(n))
}

/// The plain words of a node (for a tooltip, or a test).
pub fn plain_text(node: &Node) -> String {
    let mut out = String::new();
    fn walk(n: &Node, out: &mut String) {
        match n {
            Node::Text(t) | Node::Code(t) => out.push_str(t),
            Node::Cite(n) => out.push_str(&format!("[{n}]")),
            Node::Break => out.push('\n'),
            Node::Rule => {}
            Node::El(_, children) => children.iter().for_each(|c| walk(c, out)),
        }
    }
    walk(node, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Node {
        Node::Text(s.into())
    }

    fn el(e: El, children: Vec<Node>) -> Node {
        Node::El(e, children)
    }

    #[test]
    fn citations_split_from_text() {
        assert_eq!(
            split_citations("Marina Gate [1] and Bay [2, 3]."),
            vec![
                t("Marina Gate "),
                Node::Cite(1),
                t(" and Bay "),
                Node::Cite(2),
                Node::Cite(3),
                t("."),
            ]
        );
        assert_eq!(
            split_citations("[1][2] range [4-6]"),
            vec![
                Node::Cite(1),
                Node::Cite(2),
                t(" range "),
                Node::Cite(4),
                Node::Cite(5),
                Node::Cite(6),
            ]
        );
        assert_eq!(
            split_citations("[ 3 ; 1 ]"),
            vec![Node::Cite(3), Node::Cite(1)]
        );
    }

    #[test]
    fn prose_in_brackets_stays_text() {
        for s in [
            "see [above]",
            "[0] and [10000]",
            "[] [ ] [1,] [,1]",
            "[4-2] [1-40]",
            "unclosed [1 then",
            "[1a]",
        ] {
            assert_eq!(split_citations(s), vec![t(s)], "{s:?}");
        }
        assert_eq!(split_citations(""), vec![]);
        assert_eq!(
            split_citations("nested [[3]] 🏠 [2]"),
            vec![t("nested ["), Node::Cite(3), t("] 🏠 "), Node::Cite(2)]
        );
    }

    #[test]
    fn paragraphs_keep_citations_across_parser_pieces() {
        let b = blocks("Lead sentence with **bold** [1].\n\nSecond *one* [2].");
        assert_eq!(b.len(), 2);
        assert_eq!(
            b[0].node,
            el(
                El::Para,
                vec![
                    t("Lead sentence with "),
                    el(El::Strong, vec![t("bold")]),
                    t(" "),
                    Node::Cite(1),
                    t("."),
                ]
            )
        );
        assert_eq!(plain_text(&b[1].node), "Second one [2].");
    }

    #[test]
    fn tables_have_a_head_aligned_cells_and_chips() {
        let md = "3 listings:\n\n| Listing | Beds | Price |\n|---|:-:|--:|\n| Marina Gate (MG-1) [1] | 3 | AED 2,400,000 |\n";
        let b = blocks(md);
        assert_eq!(b.len(), 2);
        let Node::El(El::Table, rows) = &b[1].node else {
            panic!("not a table: {:?}", b[1].node)
        };
        assert!(matches!(&rows[0], Node::El(El::Head, cells) if cells.len() == 3));
        let Node::El(El::Row, cells) = &rows[1] else {
            panic!("no row")
        };
        assert_eq!(
            cells[0],
            el(
                El::Cell {
                    head: false,
                    align: Align::None
                },
                vec![t("Marina Gate (MG-1) "), Node::Cite(1)]
            )
        );
        assert!(matches!(
            &cells[1],
            Node::El(
                El::Cell {
                    head: false,
                    align: Align::Center
                },
                _
            )
        ));
        assert!(matches!(
            &cells[2],
            Node::El(
                El::Cell {
                    head: false,
                    align: Align::Right
                },
                _
            )
        ));
    }

    #[test]
    fn lists_quotes_and_headings() {
        let md = "**Documents**\n\n- **Policy** — split 50/50 [4]\n- two\n\n> From *Policy* [4]:\n>\n> Off-plan.\n\n## Heading\n\n3. three";
        let b = blocks(md);
        assert!(matches!(&b[1].node, Node::El(El::List(None), items) if items.len() == 2));
        assert!(matches!(&b[2].node, Node::El(El::Quote, _)));
        assert!(matches!(&b[3].node, Node::El(El::Heading(2), _)));
        assert!(matches!(&b[4].node, Node::El(El::List(Some(3)), _)));
        assert_eq!(plain_text(&b[2].node), "From Policy [4]:Off-plan.");
    }

    #[test]
    fn html_stays_text_and_links_keep_only_words() {
        let b = blocks(
            "<script>alert(1)</script>\n\nHi <b>x</b> [site](javascript:alert(1)) ![img](http://x/y.png)",
        );
        assert_eq!(
            b[0].node,
            el(El::Para, vec![t("<script>alert(1)</script>\n")])
        );
        let Node::El(El::Para, inline) = &b[1].node else {
            panic!()
        };
        assert!(inline.contains(&t("Hi <b>x</b> ")));
        assert!(inline.contains(&el(El::Link("javascript:alert(1)".into()), vec![t("site")])));
        assert!(inline.contains(&el(El::Span, vec![t("img")])));
    }

    #[test]
    fn code_keeps_brackets() {
        let b = blocks("```\na[1]\n```\n\nuse `x[1]` [2]");
        assert_eq!(b[0].node, el(El::CodeBlock, vec![t("a[1]\n")]));
        assert_eq!(
            b[1].node,
            el(
                El::Para,
                vec![t("use "), Node::Code("x[1]".into()), t(" "), Node::Cite(2)]
            )
        );
    }

    #[test]
    fn finished_blocks_keep_their_key_while_the_last_grows() {
        let a = blocks("First paragraph [1].\n\nSecond is stre");
        let b = blocks("First paragraph [1].\n\nSecond is streaming");
        assert_eq!(a[0], b[0]);
        assert_ne!(a[1].key, b[1].key);
        // A half-arrived marker is text until its bracket closes.
        assert_eq!(plain_text(&blocks("Bay [1")[0].node), "Bay [1");
    }
}
