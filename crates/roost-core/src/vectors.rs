//! What search keeps in memory, derived from the cache's tables: per listing its filterable
//! fields, its words and its vector in a [`roost_search::Index`], by the listing's rid.
//!
//! Loaded on first search after a sync (~1 s per 100k listings) and kept up to date by
//! [`VectorIndex::update`] with the rids a sync touched, so the next search need not reload.
//! The cache keeps it in its `vectors` slot, hence the name.

use roost_search::{Index, RowFields, RowText};
use rusqlite::{Connection, OptionalExtension};

use crate::decide::LocalModel;

pub struct VectorIndex {
    /// The vector space of the vectors; `None` while the cache has no model (no vectors).
    model: Option<LocalModel>,
    pub(crate) index: Index,
}

impl std::ops::Deref for VectorIndex {
    type Target = Index;
    fn deref(&self) -> &Index {
        &self.index
    }
}

impl std::fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorIndex")
            .field("model", &self.model)
            .field("listings", &self.index.columns.live())
            .field("vectors", &self.index.vectors.count())
            .finish_non_exhaustive()
    }
}

const ROW_SQL: &str = "SELECT l.rid, l.updated_at, l.price_minor, l.currency, l.bedrooms, \
     l.bathrooms, l.size_sqft, l.property_type, l.community, l.status, l.furnished, \
     l.attributes, l.title, l.description, e.vector \
     FROM listings l LEFT JOIN embeddings e ON e.rid = l.rid";

impl VectorIndex {
    /// Reads every listing and, when `model` is given, its vector of that model.
    pub(crate) fn load(
        conn: &Connection,
        model: Option<&LocalModel>,
    ) -> rusqlite::Result<VectorIndex> {
        let mut index = VectorIndex::empty(model);
        let mut stmt = conn.prepare(ROW_SQL)?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            index.set_row(row)?;
        }
        index.index.finish();
        Ok(index)
    }

    fn empty(model: Option<&LocalModel>) -> VectorIndex {
        VectorIndex {
            model: model.cloned(),
            index: Index::new(model.map_or(0, |m| m.dim as usize)),
        }
    }

    /// Re-reads the listings with these rids (changed, added or deleted by a sync) so the
    /// index equals a fresh [`VectorIndex::load`]. The caller must reload instead when the
    /// model changed.
    pub(crate) fn update(&mut self, conn: &Connection, rids: &[i64]) -> rusqlite::Result<()> {
        let mut stmt = conn.prepare_cached(&format!("{ROW_SQL} WHERE l.rid = ?1"))?;
        for &rid in rids {
            let Ok(row) = u32::try_from(rid) else {
                continue;
            };
            let found = stmt
                .query_row([rid], |r| self.set_row(r).map(|_| ()))
                .optional()?;
            if found.is_none() {
                self.index.remove(row);
            }
        }
        self.index.finish();
        Ok(())
    }

    fn set_row(&mut self, r: &rusqlite::Row<'_>) -> rusqlite::Result<()> {
        // Rids are positive and small; anything else was not written by this crate.
        let Ok(row) = u32::try_from(r.get::<_, i64>(0)?) else {
            return Ok(());
        };
        let attributes: String = r.get(11)?;
        let attributes: Vec<(String, String)> =
            serde_json::from_str::<std::collections::BTreeMap<String, String>>(&attributes)
                .map(|m| m.into_iter().collect())
                .unwrap_or_default();
        let fields = RowFields {
            updated_at: r.get(1)?,
            price_minor: r.get(2)?,
            currency: r.get(3)?,
            bedrooms: r.get(4)?,
            bathrooms: r.get(5)?,
            size_sqft: r.get(6)?,
            property_type: r.get(7)?,
            community: r.get(8)?,
            status: r.get(9)?,
            furnished: r.get(10)?,
            attributes,
        };
        let title: Option<String> = r.get(12)?;
        let description: Option<String> = r.get(13)?;
        let text = RowText {
            title: title.as_deref(),
            description: description.as_deref(),
        };
        let dim = self.index.vectors.dim();
        // Checked when applied; a wrong length here means the file was edited: no vector.
        let vector: Option<Vec<f32>> = match r.get_ref(14)?.as_blob_or_null()? {
            Some(blob) if dim > 0 && blob.len() == dim * 4 => Some(
                blob.chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            ),
            _ => None,
        };
        self.index.set(row, &fields, text, vector.as_deref());
        Ok(())
    }

    /// The vector space, when the cache holds one.
    pub fn model(&self) -> Option<&LocalModel> {
        self.model.as_ref()
    }

    /// Listings with a vector.
    pub fn len(&self) -> usize {
        self.index.vectors.count()
    }

    pub fn is_empty(&self) -> bool {
        self.index.vectors.count() == 0
    }

    /// The `k` listings most similar to `query`, best first, as (rid, cosine); only those in
    /// `candidates` (rids) when given. Approximate (int8 scan) then exact (f32 re-scoring):
    /// recall against an exact scan is ≥ 0.99.
    ///
    /// # Panics
    /// If `query` has another length than the index's dimension.
    pub fn top_k(&self, query: &[f32], candidates: Option<&[i64]>, k: usize) -> Vec<(i64, f32)> {
        assert_eq!(
            query.len(),
            self.index.vectors.dim(),
            "query vector of another dimension"
        );
        let rows: Option<Vec<u32>> =
            candidates.map(|c| c.iter().filter_map(|&r| u32::try_from(r).ok()).collect());
        self.index
            .vectors
            .top_k(query, rows.as_deref(), k)
            .into_iter()
            .map(|(r, s)| (i64::from(r), s))
            .collect()
    }
}
