//! Small text tools: content words for matching a question, sentences, excerpts, and making
//! source text safe to put into an answer.

use std::collections::BTreeSet;

/// Words that say nothing about what is asked; dropped before matching.
const STOPWORDS: &[&str] = &[
    "a", "about", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "been", "but",
    "by", "can", "could", "did", "do", "doe", "does", "for", "from", "get", "give", "got", "had",
    "has", "have", "he", "her", "his", "how", "i", "if", "in", "into", "is", "it", "its", "let",
    "list", "me", "much", "many", "my", "need", "no", "not", "of", "on", "or", "our", "ours",
    "please", "she", "show", "so", "some", "tell", "than", "that", "the", "their", "them", "then",
    "there", "these", "they", "this", "those", "to", "u", "up", "us", "wa", "was", "we", "were",
    "what", "whats", "when", "where", "which", "who", "whom", "why", "will", "with", "would",
    "you", "your",
];

/// Lowercased content words of `text`, lightly stemmed, stopwords removed, in order.
pub(crate) fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| stem(&w.to_lowercase()))
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        // A lone letter is noise ("s" of "company's"); a lone digit is a figure (3 beds).
        .filter(|w| w.chars().count() > 1 || w.chars().all(|c| c.is_numeric()))
        .collect()
}

pub(crate) fn word_set(text: &str) -> BTreeSet<String> {
    words(text).into_iter().collect()
}

/// How many distinct words of the question occur in `text`.
pub(crate) fn overlap(question: &BTreeSet<String>, text: &str) -> usize {
    if question.is_empty() {
        return 0;
    }
    word_set(text).intersection(question).count()
}

/// Plural and third-person endings, so "villas" meets "villa" and "speaks" meets "speak".
fn stem(w: &str) -> String {
    let n = w.chars().count();
    if n > 4 && w.ends_with("ies") {
        format!("{}y", &w[..w.len() - 3])
    } else if n > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") {
        w[..w.len() - 1].to_string()
    } else {
        w.to_string()
    }
}

/// Sentences (and lines) of `text`, trimmed, none empty. A period ends a sentence only before
/// whitespace or the end, so "2.5" and "1,150,000.00" stay whole.
pub(crate) fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        let end = match c {
            '\n' => Some(i),
            '.' | '!' | '?' | '؟' | '。' | '！' | '？' => match next {
                None => Some(i + c.len_utf8()),
                Some(n) if n.is_whitespace() || matches!(c, '。' | '！' | '？') => {
                    Some(i + c.len_utf8())
                }
                _ => None,
            },
            _ => None,
        };
        if let Some(end) = end {
            push_trimmed(&mut out, &text[start..end]);
            start = i + c.len_utf8();
        }
    }
    push_trimmed(&mut out, &text[start..]);
    out
}

fn push_trimmed<'a>(out: &mut Vec<&'a str>, s: &'a str) {
    // Markdown bullets and headings are not content.
    let s = s
        .trim()
        .trim_start_matches(['#', '-', '*', '>', '•'])
        .trim();
    if s.chars().any(char::is_alphanumeric) {
        out.push(s);
    }
}

/// The sentences of `text` that share most words with the question, in text order, joined
/// (with "…" across gaps), within `max_chars` and `max_sentences`. With no shared word, the
/// opening sentences. A single sentence longer than the limit is cut at a word.
pub(crate) fn excerpt(
    text: &str,
    question: &BTreeSet<String>,
    max_chars: usize,
    max_sentences: usize,
) -> String {
    let sents: Vec<String> = sentences(text).into_iter().map(inline).collect();
    if sents.is_empty() {
        return String::new();
    }
    let mut order: Vec<(usize, usize)> = sents
        .iter()
        .enumerate()
        .map(|(i, s)| (overlap(question, s), i))
        .collect();
    // Best score first; ties keep text order.
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let best_score = order[0].0;
    let mut chosen: Vec<usize> = Vec::new();
    let mut used = 0;
    for &(score, i) in &order {
        if chosen.len() >= max_sentences || (best_score > 0 && score == 0) {
            break;
        }
        let len = sents[i].chars().count() + 3;
        if used + len <= max_chars {
            chosen.push(i);
            used += len;
        } else if best_score == 0 {
            // Opening sentences only: no jumping over one that does not fit.
            break;
        }
    }
    if chosen.is_empty() {
        return truncate_words(&sents[order[0].1], max_chars);
    }
    chosen.sort_unstable();
    let mut out = String::new();
    for (k, &i) in chosen.iter().enumerate() {
        if k > 0 {
            out.push_str(if i == chosen[k - 1] + 1 { " " } else { " … " });
        }
        out.push_str(&sents[i]);
    }
    out
}

/// `text` cut to at most `max_chars` at a word boundary, with "…" when cut. Trailing figures
/// are dropped with the cut so that no amount is left half-written ("AED 2.45" of "AED 2.45
/// million").
pub(crate) fn truncate_words(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let room = max_chars.saturating_sub(1);
    let cut = text
        .char_indices()
        .nth(room)
        .map(|(i, _)| i)
        .unwrap_or(text.len());
    let mut kept: Vec<&str> = text[..cut].split_whitespace().collect();
    // The last word may be cut in half unless a space followed it.
    if !text[cut..].starts_with(char::is_whitespace) {
        kept.pop();
    }
    while kept.last().is_some_and(|w| is_figure_part(w)) {
        kept.pop();
    }
    let mut out = kept.join(" ");
    out.push('…');
    out
}

fn is_figure_part(w: &str) -> bool {
    w.chars().any(|c| c.is_ascii_digit())
        || (w.len() == 3 && w.chars().all(|c| c.is_ascii_uppercase()))
        || matches!(w, "$" | "€" | "£")
}

/// Source text as one line, with brackets turned into parentheses so that nothing a source
/// says can read as a citation marker `[n]`.
pub(crate) fn inline(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('[', "(")
        .replace(']', ")")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_drop_stopwords_and_stem() {
        assert_eq!(
            words("Who on the team speaks Russian and covers Palm Jumeirah?"),
            ["team", "speak", "russian", "cover", "palm", "jumeirah"]
        );
        assert_eq!(
            words("3-bed villas' policies"),
            ["3", "bed", "villa", "policy"]
        );
    }

    #[test]
    fn sentences_keep_decimals_whole() {
        assert_eq!(
            sentences("Median AED 1,150,000.50 in Q3. Yield 6.5%! Up?\n- next line"),
            [
                "Median AED 1,150,000.50 in Q3.",
                "Yield 6.5%!",
                "Up?",
                "next line"
            ]
        );
    }

    #[test]
    fn excerpt_prefers_shared_words_in_text_order() {
        let q = word_set("commission split off-plan");
        let body = "Welcome to the handbook. Leave is 30 days. Off-plan commission is split 50/50 \
                    with the developer's agent. Parking is free.";
        assert_eq!(
            excerpt(body, &q, 450, 3),
            "Off-plan commission is split 50/50 with the developer's agent."
        );
        let none = word_set("zebra");
        assert_eq!(
            excerpt(body, &none, 50, 3),
            "Welcome to the handbook. Leave is 30 days."
        );
    }

    #[test]
    fn truncation_cuts_at_words_and_drops_half_amounts() {
        assert_eq!(truncate_words("short", 10), "short");
        assert_eq!(
            truncate_words("the price is AED 2.45 million today", 22),
            "the price is…"
        );
        assert_eq!(truncate_words("abcdefghij klm", 8), "…");
    }

    #[test]
    fn inline_neutralises_markers() {
        assert_eq!(inline("see [2]\n and  [x]"), "see (2) and (x)");
    }
}
