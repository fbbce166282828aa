//! Search on the device: exact filters in SQL first, then the filtered listings ranked by
//! FTS5 BM25 over the words the parser left and by cosine similarity to the query's vector,
//! fused by reciprocal rank. Results are ids, scores and snippets; the UI fetches what it shows.

use std::collections::{HashMap, HashSet};

use rusqlite::params_from_iter;
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::cache::{Cache, parse_uuid};
use crate::error::{CoreResult, SqlContext};
use crate::filters::Filters;
use crate::query::{ParseContext, ParsedQuery, parse};
use crate::vectors::VectorIndex;

/// Reciprocal rank fusion constant (Cormack et al.): damps the weight of the very top ranks.
const RRF_K: f64 = 60.0;
/// How deep each ranking goes before fusion.
const MIN_RANK_DEPTH: usize = 100;
/// BM25 column weights: title, description, community, property_type, attributes.
const BM25: &str = "bm25(listings_fts, 3.0, 1.0, 1.0, 1.0, 0.5)";
/// Words that carry no meaning for keyword ranking (they still reach the embedder).
const STOPWORDS: &[&str] = &[
    "a", "an", "and", "any", "are", "at", "by", "find", "for", "from", "i", "in", "is", "looking",
    "me", "my", "near", "need", "of", "on", "or", "please", "show", "some", "the", "to", "want",
    "with",
];

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub id: Uuid,
    /// Fused reciprocal-rank score; 0 for listings that only passed the filters.
    pub score: f64,
    /// Matching words in context, or the title.
    pub snippet: String,
}

/// Which signals ordered the results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranking {
    pub keyword: bool,
    pub semantic: bool,
    /// Why semantic ranking was not used although there was text, e.g. no model on the device.
    pub semantic_unavailable: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    /// Listings passing the filters.
    pub total: u64,
    pub ranking: Ranking,
    /// What the parser read from the text, for the UI to show as chips.
    pub parsed: ParsedQuery,
    /// The filters applied: the controls', completed from the text.
    pub filters: Filters,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FacetCount<T> {
    pub value: T,
    pub count: u64,
}

/// Counts over a filtered set, for the filter controls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Facets {
    pub property_types: Vec<FacetCount<String>>,
    pub communities: Vec<FacetCount<String>>,
    pub bedrooms: Vec<FacetCount<u16>>,
}

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

    /// The in-memory vectors, loaded on first use after a sync; `None` while the cache holds
    /// no vectors.
    pub fn vector_index(&mut self) -> CoreResult<Option<&VectorIndex>> {
        if self.vectors.is_none() {
            let Some(model) = self.sync_state()?.model else {
                return Ok(None);
            };
            let index = VectorIndex::load(&self.conn, &model).at(&self.path)?;
            self.vectors = Some(index);
        }
        Ok(self.vectors.as_ref().filter(|v| !v.is_empty()))
    }

    /// Searches the cache. `embedder` adds semantic ranking; without one (or when its model is
    /// not the cache's) ranking is keyword-only and [`Ranking::semantic_unavailable`] says why.
    ///
    /// Every hit passes the filters (the controls', completed from the text). With filters,
    /// all passing listings are listed, ranked ones first; without, only listings the words
    /// or the vectors rank.
    pub fn search(
        &mut self,
        req: &SearchRequest,
        embedder: Option<&dyn QueryEmbedder>,
    ) -> CoreResult<SearchResults> {
        let parsed = self.parse(&req.text)?;
        let filters = req.filters.clone().or(parsed.filters.clone());
        let depth = req.limit.saturating_mul(3).max(MIN_RANK_DEPTH);

        // One pass over the filters; keyword and vector ranking then keep only these rids.
        // `None` when there are no filters: everything passes.
        let passing = if filters.is_empty() {
            None
        } else {
            Some(self.passing_newest_first(&filters)?)
        };
        let total = match &passing {
            Some(rids) => rids.len() as u64,
            None => self.listing_count()?,
        };
        let allowed: Option<HashSet<i64>> = passing.as_ref().map(|r| r.iter().copied().collect());

        let fts_query = fts_query(&parsed.residual);
        let keyword = match &fts_query {
            Some(q) => self.keyword_ranks(q, allowed.as_ref(), depth)?,
            None => vec![],
        };

        let text = req.text.trim();
        let (semantic, semantic_unavailable) = if text.is_empty() {
            (None, None)
        } else {
            match self.semantic_ranks(text, passing.as_deref(), depth, embedder)? {
                Ok(ranks) => (Some(ranks), None),
                Err(why) => (None, Some(why)),
            }
        };

        let mut fused = fuse(&keyword, semantic.as_deref().unwrap_or(&[]));
        fused.truncate(req.limit);
        // Filters decide membership and words only order the listings that pass them; with
        // no filters, the words decide (a word matching nothing must not list everything).
        let ranked = fts_query.is_some() || semantic.is_some();
        if fused.len() < req.limit && (passing.is_some() || !ranked) {
            self.fill_unranked(&mut fused, passing.as_deref(), req.limit)?;
        }

        let keyword_hits: HashSet<i64> = keyword.iter().copied().collect();
        let hits = self.describe(&fused, fts_query.as_deref(), &keyword_hits)?;
        Ok(SearchResults {
            hits,
            total,
            ranking: Ranking {
                keyword: fts_query.is_some(),
                semantic: semantic.is_some(),
                semantic_unavailable,
            },
            parsed,
            filters,
        })
    }

    /// Counts per property type, community and bedrooms over the listings passing `filters`.
    pub fn facets(&self, filters: &Filters) -> CoreResult<Facets> {
        let (cond, params) = filters.to_sql();
        let counts = |column: &str| -> CoreResult<Vec<(Value, u64)>> {
            let sql = format!(
                "SELECT MIN({column}), COUNT(*) FROM listings l WHERE ({cond}) AND {column} IS NOT NULL \
                 GROUP BY {column} ORDER BY COUNT(*) DESC, MIN({column})"
            );
            let mut stmt = self.conn.prepare(&sql).at(&self.path)?;
            stmt.query_map(params_from_iter(&params), |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))
            })
            .at(&self.path)?
            .collect::<Result<Vec<_>, _>>()
            .at(&self.path)
        };
        let text = |rows: Vec<(Value, u64)>| {
            rows.into_iter()
                .filter_map(|(v, count)| match v {
                    Value::Text(value) => Some(FacetCount { value, count }),
                    _ => None,
                })
                .collect()
        };
        let mut bedrooms: Vec<FacetCount<u16>> = counts("l.bedrooms")?
            .into_iter()
            .filter_map(|(v, count)| match v {
                Value::Integer(n) => Some(FacetCount {
                    value: u16::try_from(n).ok()?,
                    count,
                }),
                _ => None,
            })
            .collect();
        bedrooms.sort_by_key(|f| f.value);
        Ok(Facets {
            property_types: text(counts("l.property_type")?),
            communities: text(counts("l.community")?),
            bedrooms,
        })
    }

    /// Rids of the listings passing `filters`, newest first (the order unranked ones show in).
    fn passing_newest_first(&self, filters: &Filters) -> CoreResult<Vec<i64>> {
        let (cond, params) = filters.to_sql();
        // Sorted here, not in SQL: given ORDER BY, SQLite may walk the whole table in
        // `listings_newest` order instead of using a selective filter index.
        let sql = format!("SELECT l.rid, l.updated_at FROM listings l WHERE {cond}");
        let mut stmt = self.conn.prepare(&sql).at(&self.path)?;
        let mut rows = stmt
            .query_map(params_from_iter(params), |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
            })
            .at(&self.path)?
            .collect::<Result<Vec<_>, _>>()
            .at(&self.path)?;
        rows.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(rows.into_iter().map(|(rid, _)| rid).collect())
    }

    /// Listings matching `fts`, best BM25 first, as rids; only `allowed` ones when given.
    ///
    /// The full-text match runs first and the filter is applied to its rows: joined in SQL,
    /// SQLite may drive from the filtered listings and run the match once per row, which is
    /// ~20× slower on 100k listings.
    fn keyword_ranks(
        &self,
        fts: &str,
        allowed: Option<&HashSet<i64>>,
        depth: usize,
    ) -> CoreResult<Vec<i64>> {
        let limit = if allowed.is_some() { -1 } else { depth as i64 };
        let sql = format!(
            "SELECT rowid FROM listings_fts WHERE listings_fts MATCH ?1 ORDER BY {BM25} LIMIT ?2"
        );
        let mut stmt = self.conn.prepare_cached(&sql).at(&self.path)?;
        let mut rows = stmt.query(rusqlite::params![fts, limit]).at(&self.path)?;
        let mut rids = Vec::new();
        while rids.len() < depth
            && let Some(row) = rows.next().at(&self.path)?
        {
            let rid: i64 = row.get(0).at(&self.path)?;
            if allowed.is_none_or(|a| a.contains(&rid)) {
                rids.push(rid);
            }
        }
        Ok(rids)
    }

    /// Listings by similarity to the embedded query (only `passing` ones when given), or why
    /// that is not possible.
    fn semantic_ranks(
        &mut self,
        text: &str,
        passing: Option<&[i64]>,
        depth: usize,
        embedder: Option<&dyn QueryEmbedder>,
    ) -> CoreResult<Result<Vec<i64>, String>> {
        let Some(embedder) = embedder else {
            return Ok(Err("no embedding model on this device".into()));
        };
        let Some(index) = self.vector_index()? else {
            return Ok(Err("the cache holds no vectors yet".into()));
        };
        if index.model().id != embedder.model_id() {
            return Ok(Err(format!(
                "the device's model {} is not the model of the synced vectors ({})",
                embedder.model_id(),
                index.model().id
            )));
        }
        let query = match embedder.embed_query(text) {
            Ok(q) if q.len() == index.model().dim as usize => q,
            Ok(q) => {
                return Ok(Err(format!(
                    "the model returned {} dimensions, the vectors have {}",
                    q.len(),
                    index.model().dim
                )));
            }
            Err(e) => return Ok(Err(format!("embedding the query failed: {e}"))),
        };
        let top = index.top_k(&query, passing, depth);
        Ok(Ok(top.into_iter().map(|(rid, _)| rid).collect()))
    }

    /// Appends listings no ranking placed, newest first, until `limit`: from `passing` when
    /// filtered, else from all listings.
    fn fill_unranked(
        &self,
        fused: &mut Vec<(i64, f64)>,
        passing: Option<&[i64]>,
        limit: usize,
    ) -> CoreResult<()> {
        let newest = match passing {
            Some(rids) => rids.to_vec(),
            None => {
                let mut stmt = self
                    .conn
                    .prepare_cached(
                        "SELECT rid FROM listings ORDER BY updated_at DESC, rid LIMIT ?1",
                    )
                    .at(&self.path)?;
                stmt.query_map([(limit + fused.len()) as i64], |r| r.get::<_, i64>(0))
                    .at(&self.path)?
                    .collect::<Result<Vec<_>, _>>()
                    .at(&self.path)?
            }
        };
        let seen: HashSet<i64> = fused.iter().map(|(rid, _)| *rid).collect();
        for rid in newest {
            if fused.len() >= limit {
                break;
            }
            if !seen.contains(&rid) {
                fused.push((rid, 0.0));
            }
        }
        Ok(())
    }

    /// Ids and snippets for the final hits, in order.
    fn describe(
        &self,
        ranked: &[(i64, f64)],
        fts: Option<&str>,
        keyword_hits: &HashSet<i64>,
    ) -> CoreResult<Vec<SearchHit>> {
        if ranked.is_empty() {
            return Ok(vec![]);
        }
        // Integers only, so the list can be inlined safely.
        let list = |rids: &mut dyn Iterator<Item = i64>| {
            rids.map(|r| r.to_string()).collect::<Vec<_>>().join(",")
        };
        let mut snippets: HashMap<i64, String> = HashMap::new();
        if let Some(fts) = fts {
            let with_text = list(
                &mut ranked
                    .iter()
                    .map(|r| r.0)
                    .filter(|r| keyword_hits.contains(r)),
            );
            if !with_text.is_empty() {
                let sql = format!(
                    "SELECT rowid, snippet(listings_fts, -1, '', '', '…', 16) FROM listings_fts
                     WHERE listings_fts MATCH ?1 AND rowid IN ({with_text})"
                );
                let mut stmt = self.conn.prepare(&sql).at(&self.path)?;
                let rows = stmt
                    .query_map([fts], |r| Ok((r.get(0)?, r.get(1)?)))
                    .at(&self.path)?;
                for row in rows {
                    let (rid, snippet) = row.at(&self.path)?;
                    snippets.insert(rid, snippet);
                }
            }
        }
        let sql = format!(
            "SELECT rid, id, COALESCE(title, substr(description, 1, 120), external_id)
             FROM listings WHERE rid IN ({})",
            list(&mut ranked.iter().map(|r| r.0))
        );
        let mut stmt = self.conn.prepare(&sql).at(&self.path)?;
        let mut rows: HashMap<i64, (String, String)> = HashMap::new();
        for row in stmt
            .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
            .at(&self.path)?
        {
            let (rid, v) = row.at(&self.path)?;
            rows.insert(rid, v);
        }
        ranked
            .iter()
            .filter_map(|(rid, score)| {
                let (id, title) = rows.remove(rid)?;
                let snippet = snippets.remove(rid).unwrap_or(title);
                Some(parse_uuid(&id).map(|id| SearchHit {
                    id,
                    score: *score,
                    snippet,
                }))
            })
            .collect()
    }
}

/// An FTS5 query matching any meaningful word of `residual`; `None` when none is left.
/// Words are quoted, so nothing the agent types is read as FTS syntax.
pub(crate) fn fts_query(residual: &str) -> Option<String> {
    let mut seen = HashSet::new();
    let words: Vec<String> = residual
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| !w.is_empty() && !STOPWORDS.contains(&w.as_str()))
        .filter(|w| seen.insert(w.clone()))
        .map(|w| format!("\"{w}\""))
        .collect();
    (!words.is_empty()).then(|| words.join(" OR "))
}

/// Reciprocal rank fusion: each list adds 1 / (k + rank) for the items it holds. Best first;
/// ties keep the keyword order, then rid order, so results are stable.
pub(crate) fn fuse(keyword: &[i64], semantic: &[i64]) -> Vec<(i64, f64)> {
    let mut scores: HashMap<i64, (f64, usize)> = HashMap::new();
    for list in [keyword, semantic] {
        for (rank, rid) in list.iter().enumerate() {
            let entry = scores.entry(*rid).or_insert((0.0, usize::MAX));
            entry.0 += 1.0 / (RRF_K + rank as f64 + 1.0);
            if std::ptr::eq(list, keyword) {
                entry.1 = rank;
            }
        }
    }
    let mut fused: Vec<(i64, f64, usize)> = scores
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
    fn fts_query_quotes_words_and_drops_stopwords() {
        assert_eq!(
            fts_query("family home with a swimming-pool").as_deref(),
            Some("\"family\" OR \"home\" OR \"swimming\" OR \"pool\"")
        );
        assert_eq!(fts_query("with the"), None);
        assert_eq!(
            fts_query(r#"pool" OR NEAR(x"#).as_deref(),
            Some("\"pool\" OR \"x\"")
        );
    }

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
