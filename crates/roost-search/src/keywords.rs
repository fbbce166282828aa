//! Keyword ranking in memory: BM25 over the listings' words, the formula and column weights
//! of FTS5's `bm25()`.
//!
//! Why not FTS5 itself: a word like "pool" matches a quarter of a large agency's stock, and
//! `ORDER BY bm25(...)` scores every match before it can return the first row (~60 ms for
//! ~50k matches on 100k listings). Here each word keeps its rows with their weighted
//! counts, so a query adds up a few posting lists into an array (well under a millisecond),
//! and when filters leave few rows only those rows are scored. FTS5 still finds the snippets
//! of the final hits and stays the source of truth for matching text.
//!
//! Words are split and folded more simply than FTS5's porter tokenizer (lower case, plural
//! `s` dropped); queries and listings go through the same folding, so they agree.

use std::collections::HashMap;

use crate::columns::RowSet;
use crate::quantised::Best;

/// FTS5's constants.
const K1: f32 = 1.2;
const B: f32 = 0.75;

/// What looking up one row's words costs, in postings walked. A row's terms live in a list
/// of their own (a cache miss, then a binary search per query word), while postings are
/// read in order: measured at ~8–30 ns per row against ~1–4 ns per posting. With
/// "apartment" leaving 25k of 100k listings and "close" in every one, the walk is ~1.4×
/// faster; with 3k rows left, the lookups are.
const ROW_LOOKUP_COST: usize = 8;

/// Column weights, as in the SQL ranking they replace: title, description, community,
/// property type, attributes.
pub const WEIGHTS: [f32; 5] = [3.0, 1.0, 1.0, 1.0, 0.5];

/// Words that carry no meaning for keyword ranking (they still reach the embedder).
pub const STOPWORDS: &[&str] = &[
    "a", "an", "and", "any", "are", "at", "by", "find", "for", "from", "i", "in", "is", "looking",
    "me", "my", "near", "need", "of", "on", "or", "please", "show", "some", "the", "to", "want",
    "with",
];

#[derive(Debug, Default, Clone)]
pub struct Keywords {
    terms: HashMap<String, u32>,
    /// Per term: (row, column-weighted count).
    postings: Vec<Vec<(u32, f32)>>,
    /// Per row: its terms with their weighted counts, sorted by term. Scores a small set
    /// of rows directly and finds the postings to drop when a row changes.
    row_terms: Vec<Vec<(u32, f32)>>,
    /// Per row: tokens in all columns (unweighted, as FTS5 counts a document's length).
    row_len: Vec<u32>,
    docs: u32,
    total_len: u64,
}

/// Lower-cased words of `text`, plurals folded.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| fold(&w.to_lowercase()))
}

/// "villas" → "villa", "properties" → "property"; leaves "glass" and "bus" alone.
fn fold(w: &str) -> String {
    let n = w.len();
    if n > 4 && w.ends_with("ies") {
        return format!("{}y", &w[..n - 3]);
    }
    if n > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        return w[..n - 1].to_string();
    }
    w.to_string()
}

thread_local! {
    /// [`Keywords::top`]'s per-row scores, all zero between calls.
    static ACCUMULATOR: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The distinct meaningful words of a query's residual text.
pub fn query_terms(residual: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in residual
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| !w.is_empty() && !STOPWORDS.contains(&w.as_str()))
    {
        let w = fold(&w);
        if !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

impl Keywords {
    /// Indexes (or re-indexes) a row from its five columns.
    pub fn set(&mut self, row: u32, columns: [&str; 5]) {
        self.remove(row);
        let r = row as usize;
        if self.row_terms.len() <= r {
            self.row_terms.resize(r + 1, Vec::new());
            self.row_len.resize(r + 1, 0);
        }
        let mut counts: HashMap<u32, f32> = HashMap::new();
        let mut len = 0u32;
        for (text, weight) in columns.iter().zip(WEIGHTS) {
            for w in words(text) {
                len += 1;
                let next = self.terms.len() as u32;
                let id = *self.terms.entry(w).or_insert(next);
                if id == next {
                    self.postings.push(Vec::new());
                }
                *counts.entry(id).or_default() += weight;
            }
        }
        let mut terms: Vec<(u32, f32)> = counts.into_iter().collect();
        terms.sort_unstable_by_key(|t| t.0);
        for &(id, tf) in &terms {
            self.postings[id as usize].push((row, tf));
        }
        self.row_terms[r] = terms;
        self.row_len[r] = len;
        self.docs += 1;
        self.total_len += u64::from(len);
    }

    pub fn remove(&mut self, row: u32) {
        let r = row as usize;
        let Some(terms) = self.row_terms.get_mut(r) else {
            return;
        };
        if terms.is_empty() && self.row_len[r] == 0 {
            return;
        }
        for (id, _) in std::mem::take(terms) {
            let list = &mut self.postings[id as usize];
            if let Some(i) = list.iter().position(|p| p.0 == row) {
                list.swap_remove(i);
            }
        }
        self.docs -= 1;
        self.total_len -= u64::from(self.row_len[r]);
        self.row_len[r] = 0;
    }

    /// The `depth` best rows for `terms` by BM25, best first (ties by row), only among
    /// `among` (ascending rows) when given. Rows matching no term are not returned.
    pub fn top(&self, terms: &[String], among: Option<&[u32]>, depth: usize) -> Vec<u32> {
        let ids: Vec<u32> = terms
            .iter()
            .filter_map(|t| self.terms.get(t).copied())
            .collect();
        if ids.is_empty() || depth == 0 || self.docs == 0 {
            return vec![];
        }
        let n = self.docs as f32;
        let avg_len = self.total_len as f32 / n;
        let idf: Vec<(u32, f32)> = ids
            .iter()
            .map(|&id| {
                let df = self.postings[id as usize].len() as f32;
                let idf = ((n - df + 0.5) / (df + 0.5)).ln();
                // FTS5 keeps very common words barely positive rather than negative.
                (id, if idf <= 0.0 { 1e-6 } else { idf })
            })
            .collect();
        // BM25's length normalisation, K1 · (1 − B + B · len / avg_len), as c + d · len.
        let (c, d) = (K1 * (1.0 - B), K1 * B / avg_len);
        let term_score = |idf: f32, tf: f32, row: u32| {
            let len = self.row_len[row as usize] as f32;
            idf * (tf * (K1 + 1.0)) / (tf + (c + d * len))
        };
        let postings: usize = ids.iter().map(|&id| self.postings[id as usize].len()).sum();
        let mut best = Best::new(depth);
        match among {
            // Few rows left by the filters: look their words up instead of walking postings.
            Some(rows) if rows.len() * ROW_LOOKUP_COST < postings => {
                for &row in rows {
                    let Some(terms) = self.row_terms.get(row as usize) else {
                        continue;
                    };
                    let mut score = 0.0;
                    for &(id, idf) in &idf {
                        if let Ok(i) = terms.binary_search_by_key(&id, |t| t.0) {
                            score += term_score(idf, terms[i].1, row);
                        }
                    }
                    if score > 0.0 {
                        best.offer(score, row);
                    }
                }
            }
            _ => {
                let set = among.map(|rows| RowSet::new(self.row_len.len(), rows));
                // One score per row, kept per thread between searches and left all zero: a
                // fresh one is a new mapping to fault in every time (400 KB at 100k rows).
                ACCUMULATOR.with_borrow_mut(|acc| {
                    if acc.len() < self.row_len.len() {
                        acc.resize(self.row_len.len(), 0.0);
                    }
                    let mut touched = Vec::new();
                    for &(id, idf) in &idf {
                        for &(row, tf) in &self.postings[id as usize] {
                            if set.as_ref().is_some_and(|s| !s.contains(row)) {
                                continue;
                            }
                            let slot = &mut acc[row as usize];
                            if *slot == 0.0 {
                                touched.push(row);
                            }
                            *slot += term_score(idf, tf, row);
                        }
                    }
                    // A common word touches most rows: offering them to `best` skips all but
                    // a few without storing or sorting them.
                    for row in touched {
                        let slot = &mut acc[row as usize];
                        best.offer(*slot, row);
                        *slot = 0.0;
                    }
                });
            }
        }
        best.into_sorted_rows()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_fold_and_stopwords_go() {
        assert_eq!(
            query_terms("Villas with a private POOL, pools and properties"),
            vec!["villa", "private", "pool", "property"]
        );
        assert_eq!(fold("glass"), "glass");
        assert!(query_terms("with the").is_empty());
    }

    /// Among a set of rows, looking each row's words up and walking the postings rank the
    /// same; which one runs depends on the sizes.
    #[test]
    fn both_ways_of_ranking_a_subset_agree() {
        use rand::rngs::StdRng;
        use rand::{Rng, SeedableRng};
        let mut rng = StdRng::seed_from_u64(4);
        let vocabulary = [
            "pool", "garden", "bright", "villa", "sea", "view", "quiet", "metro",
        ];
        let mut k = Keywords::default();
        let rows = 3_000u32;
        for row in 1..=rows {
            let mut text = |n: usize| -> String {
                (0..rng.random_range(0..n))
                    .map(|_| vocabulary[rng.random_range(0..vocabulary.len())])
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let columns = [text(4), text(12), text(2), text(2), text(3)];
            k.set(row, columns.each_ref().map(String::as_str));
        }
        for query in [
            "pool",
            "bright garden",
            "quiet sea view metro",
            "villa pool",
        ] {
            let terms = query_terms(query);
            let everything = k.top(&terms, None, rows as usize);
            // From a handful of rows (looked up) to most of them (postings walked).
            for step in [1, 2, 5, 40, 300] {
                let among: Vec<u32> = (1..=rows).step_by(step).collect();
                let expected: Vec<u32> = everything
                    .iter()
                    .copied()
                    .filter(|r| among.binary_search(r).is_ok())
                    .take(25)
                    .collect();
                assert_eq!(k.top(&terms, Some(&among), 25), expected, "{query} {step}");
            }
        }
    }

    #[test]
    fn title_words_weigh_more_and_updates_replace() {
        let mut k = Keywords::default();
        k.set(1, ["garden villa", "quiet", "", "", ""]);
        k.set(2, ["villa", "a garden at the back", "", "", ""]);
        k.set(3, ["flat", "metro", "", "", ""]);
        let terms = query_terms("garden");
        assert_eq!(k.top(&terms, None, 10), vec![1, 2]);
        assert_eq!(k.top(&terms, Some(&[2, 3]), 10), vec![2]);
        k.set(1, ["villa", "quiet", "", "", ""]);
        assert_eq!(k.top(&terms, None, 10), vec![2]);
        k.remove(2);
        assert!(k.top(&terms, None, 10).is_empty());
        assert_eq!(k.docs, 2);
    }
}
