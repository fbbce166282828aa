//! What search keeps in memory, derived from the cache's tables: per listing its filterable
//! fields ([`crate::columns`]), its words ([`crate::keywords`]) and its vector
//! ([`crate::quantised`]), all indexed by the listing's rid.
//!
//! Loaded on first search after a sync (~1 s per 100k listings) and kept up to date by
//! [`VectorIndex::update`] with the rids a sync touched, so the next search need not reload.
//! The cache keeps it in its `vectors` slot, hence the name.

use rusqlite::{Connection, OptionalExtension};

use crate::columns::{Columns, RowFields};
use crate::decide::LocalModel;
use crate::keywords::Keywords;
use crate::quantised::Quantised;

pub struct VectorIndex {
    /// The vector space of `vectors`; `None` while the cache has no model (no vectors).
    model: Option<LocalModel>,
    pub(crate) columns: Columns,
    pub(crate) keywords: Keywords,
    pub(crate) vectors: Quantised,
}

impl std::fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorIndex")
            .field("model", &self.model)
            .field("listings", &self.columns.live())
            .field("vectors", &self.vectors.count())
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
        index.columns.finish();
        Ok(index)
    }

    fn empty(model: Option<&LocalModel>) -> VectorIndex {
        VectorIndex {
            model: model.cloned(),
            columns: Columns::default(),
            keywords: Keywords::default(),
            vectors: Quantised::new(model.map_or(0, |m| m.dim as usize)),
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
                self.columns.remove(row);
                self.keywords.remove(row);
                self.vectors.clear(row);
            }
        }
        self.columns.finish();
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
        self.columns.set(row, &fields);
        // The words keyword search ranks by: the listing text plus its attributes.
        let attribute_text = fields
            .attributes
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let title: Option<String> = r.get(12)?;
        let description: Option<String> = r.get(13)?;
        self.keywords.set(
            row,
            [
                title.as_deref().unwrap_or(""),
                description.as_deref().unwrap_or(""),
                fields.community.as_deref().unwrap_or(""),
                fields.property_type.as_deref().unwrap_or(""),
                &attribute_text,
            ],
        );
        let dim = self.vectors.dim();
        match r.get_ref(14)?.as_blob_or_null()? {
            // Checked when applied; a wrong length here means the file was edited: skip it.
            Some(blob) if dim > 0 && blob.len() == dim * 4 => {
                let v: Vec<f32> = blob
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect();
                self.vectors.set(row, &v);
            }
            _ => self.vectors.clear(row),
        }
        Ok(())
    }

    /// The vector space, when the cache holds one.
    pub fn model(&self) -> Option<&LocalModel> {
        self.model.as_ref()
    }

    /// Listings with a vector.
    pub fn len(&self) -> usize {
        self.vectors.count()
    }

    pub fn is_empty(&self) -> bool {
        self.vectors.count() == 0
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
            self.vectors.dim(),
            "query vector of another dimension"
        );
        let rows: Option<Vec<u32>> =
            candidates.map(|c| c.iter().filter_map(|&r| u32::try_from(r).ok()).collect());
        self.vectors
            .top_k(query, rows.as_deref(), k)
            .into_iter()
            .map(|(r, s)| (i64::from(r), s))
            .collect()
    }
}
