//! Search on the device, over the in-memory copy of the listings ([`VectorIndex`]): exact
//! filters over columns first, then the passing listings ranked by BM25 over the words the
//! parser left and by cosine similarity to the query's vector, fused by reciprocal rank.
//! Results are ids, scores and snippets; the UI fetches what it shows.
//!
//! SQL is only touched for the final page (ids, titles, FTS5 snippets).

use std::collections::{HashMap, HashSet};

use rusqlite::params_from_iter;
use serde::{Deserialize, Serialize};

use crate::cache::{Cache, parse_uuid};
use crate::columns::RowSet;
use crate::error::{CoreResult, SqlContext};
use crate::filters::Filters;
use crate::keywords::query_terms;
use crate::query::{ParseContext, ParsedQuery, parse};
use crate::snippet::snippet;
use crate::vectors::VectorIndex;

/// Reciprocal rank fusion constant (Cormack et al.): damps the weight of the very top ranks.
const RRF_K: f64 = 60.0;
/// How deep each ranking goes before fusion.
const MIN_RANK_DEPTH: usize = 100;
/// Rids per statement when reading the final page.
const DESCRIBE_CHUNK: usize = 100;

/// Turns a query into a vector of the cache's vector space, on the device.
pub trait QueryEmbedder {
    /// Must equal the model id the feed announced, or the vectors are not comparable.
    fn model_id(&self) -> &str;
    fn embed_query(&self, text: &str) -> Result<Vec<f32>, String>;
}

impl QueryEmbedder for roost_embed::Embedder {
    fn model_id(&self) -> &str {
        roost_embed::Embedder::model_id(self)
    }

    fn embed_query(&self, text: &str) -> Result<Vec<f32>, String> {
        roost_embed::Embedder::embed_query(self, text).map_err(|e| e.to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchRequest {
    /// What the agent typed; filters in it are applied, the rest ranks.
    pub text: String,
    /// From the filter controls; they win over filters read from the text.
    pub filters: Filters,
    pub limit: usize,
}

pub use roost_api::search::{FacetCount, Facets, Ranking, SearchHit, SearchResults};

impl Cache {
    /// Names the parser matches typed text against; cached until the next sync changes data.
    pub fn parse_context(&mut self) -> CoreResult<&ParseContext> {
        if self.parse_context.is_none() {
            let ctx = self.load_parse_context()?;
            self.parse_context = Some(ctx);
        }
        Ok(self.parse_context.get_or_insert_default())
    }

    fn load_parse_context(&self) -> CoreResult<ParseContext> {
        let distinct = |column: &str| -> CoreResult<Vec<String>> {
            // GROUP BY on a NOCASE column folds "villa" and "Villa" into one.
            let sql = format!(
                "SELECT MIN({column}) FROM listings WHERE {column} IS NOT NULL AND {column} <> '' \
                 GROUP BY {column} ORDER BY COUNT(*) DESC"
            );
            let mut stmt = self.conn.prepare(&sql).at(&self.path)?;
            stmt.query_map([], |r| r.get(0))
                .at(&self.path)?
                .collect::<Result<Vec<String>, _>>()
                .at(&self.path)
        };
        let configured = self.config()?.and_then(|c| c.config.company_info.currency);
        let currency = match configured {
            Some(c) => c,
            None => self
                .conn
                .query_row(
                    "SELECT currency FROM listings WHERE currency IS NOT NULL
                     GROUP BY currency ORDER BY COUNT(*) DESC LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .unwrap_or_else(|_| "AED".to_string()),
        };
        Ok(ParseContext {
            communities: distinct("community")?,
            property_types: distinct("property_type")?,
            statuses: distinct("status")?,
            currency,
        })
    }

    /// What the parser reads from `text` against this cache's names.
    pub fn parse(&mut self, text: &str) -> CoreResult<ParsedQuery> {
        Ok(parse(text, self.parse_context()?))
    }

    /// Loads the in-memory index when a sync dropped it (or on first use).
    fn ensure_index(&mut self) -> CoreResult<()> {
        if self.vectors.is_none() {
            let model = self.sync_state()?.model;
            let index = VectorIndex::load(&self.conn, model.as_ref()).at(&self.path)?;
            self.vectors = Some(index);
        }
        Ok(())
    }

    /// The in-memory index, loaded on first use after a sync; `None` while the cache holds
    /// no vectors.
    pub fn vector_index(&mut self) -> CoreResult<Option<&VectorIndex>> {
        self.ensure_index()?;
        Ok(self.vectors.as_ref().filter(|v| !v.is_empty()))
    }

    /// Brings a loaded index up to date with the listings `rids` (upserted or deleted) after
    /// a sync wrote them, instead of reloading everything. Does nothing when no index is
    /// loaded; reloads when the sync changed the model.
    pub fn update_search_index(&mut self, rids: &[i64]) -> CoreResult<()> {
        if self.vectors.is_none() {
            return Ok(());
        }
        let model = self.sync_state()?.model;
        if self.vectors.as_ref().and_then(VectorIndex::model) != model.as_ref() {
            self.vectors = None;
            return self.ensure_index();
        }
        let index = self.vectors.as_mut().expect("checked above");
        index.update(&self.conn, rids).at(&self.path)?;
        self.parse_context = None;
        Ok(())
    }

    /// Searches the cache: the first page of [`Cache::search_page`].
    pub fn search(
        &mut self,
        req: &SearchRequest,
        embedder: Option<&dyn QueryEmbedder>,
    ) -> CoreResult<SearchResults> {
        self.search_page(req, 0, embedder)
    }

    /// Searches the cache and returns `req.limit` hits after skipping `offset`. `embedder`
    /// adds semantic ranking; without one (or when its model is not the cache's) ranking is
    /// keyword-only and [`Ranking::semantic_unavailable`] says why.
    ///
    /// Every hit passes the filters (the controls', completed from the text). With filters,
    /// all passing listings are listed, ranked ones first, then the rest newest first;
    /// without, only listings the words or the vectors rank (up to a few times `limit`).
    /// Pages of one search must use the same `limit`; each listing then shows on one page.
    pub fn search_page(
        &mut self,
        req: &SearchRequest,
        offset: usize,
        embedder: Option<&dyn QueryEmbedder>,
    ) -> CoreResult<SearchResults> {
        let parsed = self.parse(&req.text)?;
        let filters = req.filters.clone().or(parsed.filters.clone());
        let wanted = offset.saturating_add(req.limit);
        // Not deeper for later pages: deeper lists would reorder the fusion, and a listing
        // could show on two pages. Pages must therefore keep the same `limit`.
        let depth = req.limit.saturating_mul(3).max(MIN_RANK_DEPTH);
        self.ensure_index()?;
        let index = self.vectors.as_ref().expect("loaded above");

        // `None` when there are no filters: everything passes.
        let passing = (!filters.is_empty()).then(|| index.columns.passing(&filters));
        let total = match &passing {
            Some(rows) => rows.len(),
            None => index.columns.live(),
        } as u64;

        let terms = query_terms(&parsed.residual);
        let keyword = index.keywords.top(&terms, passing.as_deref(), depth);

        let text = req.text.trim();
        let (semantic, semantic_unavailable) = if text.is_empty() {
            (None, None)
        } else {
            match semantic_ranks(index, text, passing.as_deref(), depth, embedder) {
                Ok(ranks) => (Some(ranks), None),
                Err(why) => (None, Some(why)),
            }
        };

        let mut fused = fuse(&keyword, semantic.as_deref().unwrap_or(&[]));
        // Filters decide membership and words only order the listings that pass them; with
        // no filters, the words decide (a word matching nothing must not list everything).
        let ranked = !terms.is_empty() || semantic.is_some();
        let page: Vec<(u32, f64)> = if fused.len() >= wanted || (passing.is_none() && ranked) {
            fused.drain(..).skip(offset).take(req.limit).collect()
        } else {
            let skip = offset.saturating_sub(fused.len());
            let set = RowSet::new(
                index.columns.rows(),
                &fused.iter().map(|f| f.0).collect::<Vec<_>>(),
            );
            let rest = index.columns.newest(
                passing.as_deref(),
                &|r| set.contains(r),
                skip,
                wanted - fused.len().max(offset),
            );
            let mut page: Vec<(u32, f64)> = fused.drain(..).skip(offset).collect();
            page.extend(rest.into_iter().map(|r| (r, 0.0)));
            page.truncate(req.limit);
            page
        };

        let keyword_hits: HashSet<u32> = keyword.iter().copied().collect();
        let hits = self.describe(&page, &terms, &keyword_hits)?;
        Ok(SearchResults {
            hits,
            total,
            ranking: Ranking {
                keyword: !terms.is_empty(),
                semantic: semantic.is_some(),
                semantic_unavailable,
            },
            parsed,
            filters,
        })
    }

    /// Counts per property type, community and bedrooms over the listings passing `filters`.
    pub fn facets(&mut self, filters: &Filters) -> CoreResult<Facets> {
        self.ensure_index()?;
        let columns = &self.vectors.as_ref().expect("loaded above").columns;
        let rows = if filters.is_empty() {
            columns.all_rows()
        } else {
            columns.passing(filters)
        };
        Ok(columns.facets(&rows))
    }

    /// Ids and snippets for the final hits, in order: the words around a matching query
    /// word for keyword hits, else the title.
    fn describe(
        &self,
        ranked: &[(u32, f64)],
        terms: &[String],
        keyword_hits: &HashSet<u32>,
    ) -> CoreResult<Vec<SearchHit>> {
        if ranked.is_empty() {
            return Ok(vec![]);
        }
        let mut rows: HashMap<u32, (String, String)> = HashMap::with_capacity(ranked.len());
        // One statement per page length (in practice one or two), prepared once per
        // connection; bound rids, since SQLite caps a statement's parameters.
        for chunk in ranked.chunks(DESCRIBE_CHUNK) {
            let mut sql = String::from(
                "SELECT rid, id, COALESCE(title, substr(description, 1, 120), external_id),
                     title, description, community, property_type
                 FROM listings WHERE rid IN (?",
            );
            sql.push_str(&",?".repeat(chunk.len() - 1));
            sql.push(')');
            let mut stmt = self.conn.prepare_cached(&sql).at(&self.path)?;
            let found = stmt
                .query_map(params_from_iter(chunk.iter().map(|r| r.0)), |r| {
                    let rid: u32 = r.get(0)?;
                    let mut shown: String = r.get(2)?;
                    if keyword_hits.contains(&rid) {
                        let text = |i| r.get::<_, Option<String>>(i).map(Option::unwrap_or_default);
                        let columns = [text(3)?, text(4)?, text(5)?, text(6)?];
                        let columns = columns.each_ref().map(String::as_str);
                        if let Some(s) = snippet(&columns, terms) {
                            shown = s;
                        }
                    }
                    Ok((rid, (r.get(1)?, shown)))
                })
                .at(&self.path)?;
            for row in found {
                let (rid, v) = row.at(&self.path)?;
                rows.insert(rid, v);
            }
        }
        ranked
            .iter()
            .filter_map(|(rid, score)| {
                let (id, snippet) = rows.remove(rid)?;
                Some(parse_uuid(&id).map(|id| SearchHit {
                    id,
                    score: *score,
                    snippet,
                }))
            })
            .collect()
    }
}

/// Listings by similarity to the embedded query (only `passing` rows when given), or why
/// that is not possible.
fn semantic_ranks(
    index: &VectorIndex,
    text: &str,
    passing: Option<&[u32]>,
    depth: usize,
    embedder: Option<&dyn QueryEmbedder>,
) -> Result<Vec<u32>, String> {
    let Some(embedder) = embedder else {
        return Err("no embedding model on this device".into());
    };
    let model = match index.model() {
        Some(m) if !index.is_empty() => m,
        _ => return Err("the cache holds no vectors yet".into()),
    };
    if model.id != embedder.model_id() {
        return Err(format!(
            "the device's model {} is not the model of the synced vectors ({})",
            embedder.model_id(),
            model.id
        ));
    }
    let query = match embedder.embed_query(text) {
        Ok(q) if q.len() == model.dim as usize => q,
        Ok(q) => {
            return Err(format!(
                "the model returned {} dimensions, the vectors have {}",
                q.len(),
                model.dim
            ));
        }
        Err(e) => return Err(format!("embedding the query failed: {e}")),
    };
    Ok(index
        .vectors
        .top_k(&query, passing, depth)
        .into_iter()
        .map(|(row, _)| row)
        .collect())
}

/// Reciprocal rank fusion: each list adds 1 / (k + rank) for the items it holds. Best first;
/// ties keep the keyword order, then rid order, so results are stable.
pub(crate) fn fuse(keyword: &[u32], semantic: &[u32]) -> Vec<(u32, f64)> {
    let mut scores: HashMap<u32, (f64, usize)> = HashMap::new();
    for list in [keyword, semantic] {
        for (rank, rid) in list.iter().enumerate() {
            let entry = scores.entry(*rid).or_insert((0.0, usize::MAX));
            entry.0 += 1.0 / (RRF_K + rank as f64 + 1.0);
            if std::ptr::eq(list, keyword) {
                entry.1 = rank;
            }
        }
    }
    let mut fused: Vec<(u32, f64, usize)> = scores
        .into_iter()
        .map(|(rid, (score, keyword_rank))| (rid, score, keyword_rank))
        .collect();
    fused.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.cmp(&b.2)).then(a.0.cmp(&b.0)));
    fused
        .into_iter()
        .map(|(rid, score, _)| (rid, score))
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
}
