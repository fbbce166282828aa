//! Snippets for the final hits, from text already read for them: the words around the first
//! query word a listing's best column holds.
//!
//! Why not FTS5's `snippet()`: it needs `MATCH`, and a `MATCH` on a common word ("pool")
//! walks every listing holding it before the hits' rowids filter it (~4 ms on 100k
//! listings), for a page of twenty.

use crate::keywords::words;

/// Words shown around the match, like `snippet(…, 16)`.
const WINDOW: usize = 16;
/// Words kept before the first match, for context.
const BEFORE: usize = 3;

/// The window of `columns` (in order of preference) around the first word in `terms`
/// (folded as [`crate::keywords::query_terms`] folds them); `None` when no column holds one.
/// The column holding the most distinct terms wins; ties go to the earlier column.
pub fn snippet(columns: &[&str], terms: &[String]) -> Option<String> {
    let mut best: Option<(usize, &str)> = None;
    for text in columns {
        let found: Vec<String> = words(text).filter(|w| terms.contains(w)).collect();
        let distinct = terms.iter().filter(|t| found.contains(t)).count();
        if distinct > best.map_or(0, |b| b.0) {
            best = Some((distinct, text));
        }
    }
    let (_, text) = best?;
    // Word spans in the original text, so the snippet keeps its spelling and punctuation.
    let spans: Vec<(usize, usize)> = text
        .char_indices()
        .filter(|&(i, c)| {
            c.is_alphanumeric()
                && text[..i]
                    .chars()
                    .next_back()
                    .is_none_or(|p| !p.is_alphanumeric())
        })
        .map(|(start, _)| {
            let end = text[start..]
                .char_indices()
                .find(|&(_, c)| !c.is_alphanumeric())
                .map_or(text.len(), |(i, _)| start + i);
            (start, end)
        })
        .collect();
    let first = spans
        .iter()
        .position(|&(s, e)| words(&text[s..e]).any(|w| terms.contains(&w)))?;
    let from = first.saturating_sub(BEFORE);
    let to = (from + WINDOW).min(spans.len());
    let start = if from == 0 { 0 } else { spans[from].0 };
    let end = if to == spans.len() {
        text.len()
    } else {
        spans[to - 1].1
    };
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    out.push_str(text[start..end].trim());
    if to < spans.len() {
        out.push('…');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keywords::query_terms;

    #[test]
    fn the_column_with_most_words_and_the_words_around_them() {
        let terms = query_terms("private pool");
        let cols = [
            "Family villa",
            "Spacious family home with a private swimming pool and a shaded garden",
        ];
        assert_eq!(
            snippet(&cols, &terms).as_deref(),
            Some("…home with a private swimming pool and a shaded garden")
        );
        assert_eq!(snippet(&["Pools!", "x"], &terms).as_deref(), Some("Pools!"));
        assert_eq!(snippet(&["nothing here"], &terms), None);
        let long = (0..40)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ")
            + " pool";
        let s = snippet(&[&long], &terms).unwrap();
        assert!(s.starts_with('…') && s.ends_with("pool"), "{s}");
    }
}
