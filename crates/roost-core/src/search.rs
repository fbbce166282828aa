//! Search on the device: the cache's listings in a `roost_search::Index` ([`VectorIndex`])
//! rank the query (exact filters, BM25, vectors, fused); results are ids, scores and
//! snippets, and the UI fetches what it shows.
//!
//! SQL is only touched for the final page (ids, titles, text for snippets).

use std::collections::{HashMap, HashSet};

use rusqlite::params_from_iter;
use serde::{Deserialize, Serialize};

use crate::cache::{Cache, parse_uuid};
use crate::error::{CoreResult, SqlContext};
use crate::filters::Filters;
use crate::vectors::VectorIndex;
use roost_search::query::{ParseContext, ParsedQuery, parse};
use roost_search::snippet::snippet;

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
        self.ensure_index()?;
        let index = self.vectors.as_ref().expect("loaded above");

        let text = req.text.trim();
        let (query_vector, semantic_unavailable) = if text.is_empty() {
            (None, None)
        } else {
            match embed_query(index, semantic_text(text, &parsed.residual), embedder) {
                Ok(v) => (Some(v), None),
                Err(why) => (None, Some(why)),
            }
        };
        let ranked = index.rank(
            &parsed.residual,
            &filters,
            query_vector.as_deref(),
            offset,
            req.limit,
        );
        let hits = self.describe(&ranked.page, &ranked.terms, &ranked.keyword_hits)?;
        let terms = ranked.terms;
        let total = ranked.total;
        let semantic = ranked.semantic;
        Ok(SearchResults {
            hits,
            total,
            ranking: Ranking {
                keyword: !terms.is_empty(),
                semantic,
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

/// What the embedder reads: the words the parser left once it took the filters out ("with a
/// private pool" of "3 bed villa in Arabian Ranches with a private pool"), since the filters
/// already decide membership exactly and only those words can order the listings that pass;
/// the whole text when nothing meaningful is left ("villa or townhouse"). Fewer tokens also
/// make the embedding, most of a search's time, proportionally cheaper.
fn semantic_text<'a>(text: &'a str, residual: &'a str) -> &'a str {
    if roost_search::keywords::query_terms(residual).is_empty() {
        text
    } else {
        residual
    }
}

/// The query's vector in the index's space, or why there is none.
fn embed_query(
    index: &VectorIndex,
    text: &str,
    embedder: Option<&dyn QueryEmbedder>,
) -> Result<Vec<f32>, String> {
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
    match embedder.embed_query(text) {
        Ok(q) if q.len() == model.dim as usize => Ok(q),
        Ok(q) => Err(format!(
            "the model returned {} dimensions, the vectors have {}",
            q.len(),
            model.dim
        )),
        Err(e) => Err(format!("embedding the query failed: {e}")),
    }
}
