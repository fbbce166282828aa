//! The in-memory search index of one tenant's listings — filter fields ([`Columns`]), words
//! ([`Keywords`]) and vectors ([`Quantised`]) by row — and the ranking over it: exact filters
//! first, then the passing rows ranked by BM25 over the words the parser left and by cosine
//! similarity to the query's vector, fused by reciprocal rank.
//!
//! Storage-free: the device fills it from its SQLite cache, the server from its database.
//! Rows are small dense integers chosen by the caller (SQLite rids on the device).

use std::collections::{HashMap, HashSet};

use roost_api::search::Filters;

use crate::columns::{Columns, RowFields, RowSet};
use crate::keywords::{Keywords, query_terms};
use crate::quantised::Quantised;

/// Reciprocal rank fusion constant (Cormack et al.): damps the weight of the very top ranks.
const RRF_K: f64 = 60.0;
/// How deep each ranking goes before fusion.
const MIN_RANK_DEPTH: usize = 100;

/// The text of a listing that keyword search ranks by.
#[derive(Debug, Clone, Copy, Default)]
pub struct RowText<'a> {
    pub title: Option<&'a str>,
    pub description: Option<&'a str>,
}

#[derive(Debug, Clone, Default)]
pub struct Index {
    pub columns: Columns,
    pub keywords: Keywords,
    pub vectors: Quantised,
}

/// A page of ranked rows and what ranked them.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// Rows with their fused score (0 for rows listed only because they pass the filters).
    pub page: Vec<(u32, f64)>,
    /// Rows passing the filters (all live rows without filters).
    pub total: u64,
    /// The words keyword ranking used.
    pub terms: Vec<String>,
    /// Rows the keyword ranking found (their snippets show the matching words).
    pub keyword_hits: HashSet<u32>,
    /// Whether the vector ranking took part.
    pub semantic: bool,
}

impl Index {
    /// An empty index whose vectors have `dim` dimensions (0: no vectors).
    pub fn new(dim: usize) -> Index {
        Index {
            columns: Columns::default(),
            keywords: Keywords::default(),
            vectors: Quantised::new(dim),
        }
    }

    /// Adds or replaces a row. `vector` must have the index's dimension (else the row has
    /// none). Call [`Index::finish`] after a batch of changes, before searching.
    pub fn set(&mut self, row: u32, fields: &RowFields, text: RowText<'_>, vector: Option<&[f32]>) {
        self.columns.set(row, fields);
        let attribute_text = fields
            .attributes
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join("; ");
        self.keywords.set(
            row,
            [
                text.title.unwrap_or(""),
                text.description.unwrap_or(""),
                fields.community.as_deref().unwrap_or(""),
                fields.property_type.as_deref().unwrap_or(""),
                &attribute_text,
            ],
        );
        match vector {
            Some(v) if self.vectors.dim() > 0 && v.len() == self.vectors.dim() => {
                self.vectors.set(row, v)
            }
            _ => self.vectors.clear(row),
        }
    }

    pub fn remove(&mut self, row: u32) {
        self.columns.remove(row);
        self.keywords.remove(row);
        self.vectors.clear(row);
    }

    /// Rebuilds the orderings after changes.
    pub fn finish(&mut self) {
        self.columns.finish();
    }

    /// Rows passing `filters`; `None` when there are none (everything passes).
    pub fn passing(&self, filters: &Filters) -> Option<Vec<u32>> {
        (!filters.is_empty()).then(|| self.columns.passing(filters))
    }

    /// Ranks the rows for `residual` words (what the parser left of the query) and an
    /// embedded query vector, `limit` rows after skipping `offset`.
    ///
    /// Every row passes `filters`. With filters, all passing rows are listed, ranked ones
    /// first, then the rest newest first; without, only rows the words or the vector rank
    /// (up to a few times `limit`). Pages of one search must use the same `limit`; each row
    /// then shows on one page.
    ///
    /// # Panics
    /// If `query_vector` has another length than the index's dimension.
    pub fn rank(
        &self,
        residual: &str,
        filters: &Filters,
        query_vector: Option<&[f32]>,
        offset: usize,
        limit: usize,
    ) -> Ranked {
        let wanted = offset.saturating_add(limit);
        // Not deeper for later pages: deeper lists would reorder the fusion, and a row could
        // show on two pages. Pages must therefore keep the same `limit`.
        let depth = limit.saturating_mul(3).max(MIN_RANK_DEPTH);
        let passing = self.passing(filters);
        let total = match &passing {
            Some(rows) => rows.len(),
            None => self.columns.live(),
        } as u64;

        let terms = query_terms(residual);
        let keyword = self.keywords.top(&terms, passing.as_deref(), depth);
        let semantic: Option<Vec<u32>> =
            query_vector.filter(|_| self.vectors.count() > 0).map(|q| {
                self.vectors
                    .top_k(q, passing.as_deref(), depth)
                    .into_iter()
                    .map(|(row, _)| row)
                    .collect()
            });

        let mut fused = fuse(&keyword, semantic.as_deref().unwrap_or(&[]));
        // Filters decide membership and words only order the rows that pass them; with no
        // filters, the words decide (a word matching nothing must not list everything).
        let ranked = !terms.is_empty() || semantic.is_some();
        let page: Vec<(u32, f64)> = if fused.len() >= wanted || (passing.is_none() && ranked) {
            fused.drain(..).skip(offset).take(limit).collect()
        } else {
            let skip = offset.saturating_sub(fused.len());
            let set = RowSet::new(
                self.columns.rows(),
                &fused.iter().map(|f| f.0).collect::<Vec<_>>(),
            );
            let rest = self.columns.newest(
                passing.as_deref(),
                &|r| set.contains(r),
                skip,
                wanted - fused.len().max(offset),
            );
            let mut page: Vec<(u32, f64)> = fused.drain(..).skip(offset).collect();
            page.extend(rest.into_iter().map(|r| (r, 0.0)));
            page.truncate(limit);
            page
        };
        Ranked {
            page,
            total,
            terms,
            keyword_hits: keyword.into_iter().collect(),
            semantic: semantic.is_some(),
        }
    }
}

/// Reciprocal rank fusion: each list adds 1 / (k + rank) for the items it holds. Best first;
/// ties keep the keyword order, then row order, so results are stable.
pub fn fuse(keyword: &[u32], semantic: &[u32]) -> Vec<(u32, f64)> {
    let mut scores: HashMap<u32, (f64, usize)> = HashMap::new();
    for (rank, row) in keyword.iter().enumerate() {
        let entry = scores.entry(*row).or_insert((0.0, usize::MAX));
        entry.0 += 1.0 / (RRF_K + rank as f64 + 1.0);
        entry.1 = rank;
    }
    for (rank, row) in semantic.iter().enumerate() {
        let entry = scores.entry(*row).or_insert((0.0, usize::MAX));
        entry.0 += 1.0 / (RRF_K + rank as f64 + 1.0);
    }
    let mut fused: Vec<(u32, f64, usize)> = scores
        .into_iter()
        .map(|(row, (score, keyword_rank))| (row, score, keyword_rank))
        .collect();
    fused.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.cmp(&b.2)).then(a.0.cmp(&b.0)));
    fused
        .into_iter()
        .map(|(row, score, _)| (row, score))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fusion_rewards_agreement() {
        // 2 is second in both lists; 1 and 3 are first in one list each.
        let fused = fuse(&[1, 2, 4], &[3, 2]);
        assert_eq!(fused[0].0, 2);
        assert_eq!(
            fused.iter().map(|f| f.0).collect::<Vec<_>>(),
            vec![2, 1, 3, 4]
        );
        let expected = 2.0 / (RRF_K + 2.0);
        assert!((fused[0].1 - expected).abs() < 1e-12);
    }

    #[test]
    fn fusion_of_one_list_keeps_its_order() {
        let fused = fuse(&[], &[9, 3, 5]);
        assert_eq!(fused.iter().map(|f| f.0).collect::<Vec<_>>(), vec![9, 3, 5]);
    }

    fn fields(community: &str, bedrooms: i64, updated_at: i64) -> RowFields {
        RowFields {
            updated_at,
            bedrooms: Some(bedrooms),
            community: Some(community.to_string()),
            ..RowFields::default()
        }
    }

    #[test]
    fn filters_decide_membership_and_words_the_order() {
        let mut index = Index::new(0);
        let rows = [
            (1, "Dubai Marina", 3, 10, "Sea view tower flat"),
            (2, "Dubai Marina", 3, 30, "Quiet flat"),
            (3, "JVC", 3, 20, "Sea view townhouse"),
            (4, "Dubai Marina", 2, 40, "Sea view studio"),
        ];
        for (row, community, beds, at, title) in rows {
            let text = RowText {
                title: Some(title),
                description: None,
            };
            index.set(row, &fields(community, beds, at), text, None);
        }
        index.finish();
        let filters = Filters {
            communities: vec!["Dubai Marina".into()],
            bedrooms: roost_api::search::Bounds {
                min: Some(3),
                max: Some(3),
            },
            ..Filters::default()
        };
        let ranked = index.rank("sea view", &filters, None, 0, 10);
        assert_eq!(ranked.total, 2);
        // 1 matches the words; 2 passes the filters only and comes after it.
        assert_eq!(
            ranked.page.iter().map(|p| p.0).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert!(ranked.keyword_hits.contains(&1));
        assert!(!ranked.semantic);

        // Without filters only the rows the words rank are listed.
        let ranked = index.rank("townhouse", &Filters::default(), None, 0, 10);
        assert_eq!(ranked.page.iter().map(|p| p.0).collect::<Vec<_>>(), vec![3]);
        index.remove(3);
        index.finish();
        assert!(
            index
                .rank("townhouse", &Filters::default(), None, 0, 10)
                .page
                .is_empty()
        );
    }
}
