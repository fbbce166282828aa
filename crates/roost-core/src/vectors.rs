//! Listing vectors in memory for scoring: one contiguous `Vec<f32>`, loaded once after a sync.
//! A plain scan over 100k × 384 is memory-bound at a few milliseconds, and filters shrink it
//! further, so no approximate index is needed at this size.

use rusqlite::Connection;

use crate::decide::LocalModel;

/// Marks a rid without a vector in [`VectorIndex::row_of_rid`].
const NO_ROW: u32 = u32::MAX;

pub struct VectorIndex {
    model: LocalModel,
    dim: usize,
    /// `rids[i]` owns `data[i * dim .. (i + 1) * dim]`.
    rids: Vec<i64>,
    data: Vec<f32>,
    /// Listing rid → row; rids are small dense integers, so a vector beats a hash map.
    row_of_rid: Vec<u32>,
}

impl std::fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorIndex")
            .field("model", &self.model)
            .field("rows", &self.rids.len())
            .finish_non_exhaustive()
    }
}

impl VectorIndex {
    /// Reads every stored vector of `model`. Rows are normalised on load so that scoring is a
    /// dot product even if a vector arrived slightly off unit length.
    pub(crate) fn load(conn: &Connection, model: &LocalModel) -> rusqlite::Result<VectorIndex> {
        let dim = model.dim as usize;
        let count: i64 = conn.query_row("SELECT COUNT(*) FROM embeddings", [], |r| r.get(0))?;
        let count = count as usize;
        let mut rids = Vec::with_capacity(count);
        let mut data = Vec::with_capacity(count * dim);
        let mut stmt = conn.prepare("SELECT rid, vector FROM embeddings ORDER BY rid")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let blob = row.get_ref(1)?.as_blob()?;
            // Checked when applied; a wrong length here means the file was edited: skip it.
            if blob.len() != dim * 4 {
                continue;
            }
            let start = data.len();
            data.extend(
                blob.chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            );
            normalise(&mut data[start..]);
            rids.push(row.get(0)?);
        }
        let max_rid = rids.iter().copied().max().unwrap_or(0).max(0) as usize;
        let mut row_of_rid = vec![NO_ROW; max_rid + 1];
        for (row, &rid) in rids.iter().enumerate() {
            row_of_rid[rid as usize] = row as u32;
        }
        Ok(VectorIndex {
            model: model.clone(),
            dim,
            rids,
            data,
            row_of_rid,
        })
    }

    pub fn model(&self) -> &LocalModel {
        &self.model
    }

    pub fn len(&self) -> usize {
        self.rids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rids.is_empty()
    }

    /// The `k` best rows by cosine similarity to `query`, best first, as (rid, similarity).
    /// `candidates` limits the scan to those rids (the filtered set); `None` scans all.
    ///
    /// # Panics
    /// If `query` has another length than the index's dimension.
    pub fn top_k(&self, query: &[f32], candidates: Option<&[i64]>, k: usize) -> Vec<(i64, f32)> {
        assert_eq!(query.len(), self.dim, "query vector of another dimension");
        let mut q = query.to_vec();
        normalise(&mut q);
        let mut scored: Vec<(f32, u32)> = match candidates {
            None => self
                .data
                .chunks_exact(self.dim)
                .enumerate()
                .map(|(row, v)| (dot(&q, v), row as u32))
                .collect(),
            Some(rids) => rids
                .iter()
                .filter_map(|&rid| {
                    let row = *self.row_of_rid.get(usize::try_from(rid).ok()?)?;
                    (row != NO_ROW).then(|| (dot(&q, self.row(row)), row))
                })
                .collect(),
        };
        let by_score = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        if scored.len() > k && k > 0 {
            scored.select_nth_unstable_by(k - 1, by_score);
            scored.truncate(k);
        }
        scored.truncate(k);
        scored.sort_unstable_by(by_score);
        scored
            .into_iter()
            .map(|(score, row)| (self.rids[row as usize], score))
            .collect()
    }

    fn row(&self, row: u32) -> &[f32] {
        let start = row as usize * self.dim;
        &self.data[start..start + self.dim]
    }
}

/// Eight independent sums let the compiler use SIMD lanes; one running sum would force a
/// strict order of additions.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (a8, a_rest) = a.split_at(a.len() / 8 * 8);
    let (b8, b_rest) = b.split_at(a8.len());
    for (x, y) in a8.chunks_exact(8).zip(b8.chunks_exact(8)) {
        for ((sum, x), y) in acc.iter_mut().zip(x).zip(y) {
            *sum += x * y;
        }
    }
    let tail: f32 = a_rest.iter().zip(b_rest).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

fn normalise(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for x in v {
            *x /= norm;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_the_naive_sum() {
        let a: Vec<f32> = (0..19).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..19).map(|i| 1.0 - i as f32 * 0.1).collect();
        let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - naive).abs() < 1e-4);
    }

    fn index(rows: &[(i64, [f32; 2])]) -> VectorIndex {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE embeddings (rid INTEGER PRIMARY KEY, vector BLOB)")
            .unwrap();
        for (rid, v) in rows {
            conn.execute(
                "INSERT INTO embeddings VALUES (?1, ?2)",
                rusqlite::params![rid, roost_embed::encode_f32_le(v)],
            )
            .unwrap();
        }
        VectorIndex::load(
            &conn,
            &LocalModel {
                id: "m".into(),
                dim: 2,
            },
        )
        .unwrap()
    }

    #[test]
    fn top_k_ranks_and_filters() {
        let idx = index(&[
            (1, [1.0, 0.0]),
            (2, [0.0, 1.0]),
            (5, [0.7, 0.7]),
            (9, [-1.0, 0.0]),
        ]);
        let ids = |v: Vec<(i64, f32)>| v.into_iter().map(|(r, _)| r).collect::<Vec<_>>();
        assert_eq!(ids(idx.top_k(&[2.0, 0.0], None, 3)), vec![1, 5, 2]);
        assert_eq!(
            ids(idx.top_k(&[1.0, 0.0], Some(&[9, 2, 77, -3]), 10)),
            vec![2, 9]
        );
        assert_eq!(idx.top_k(&[1.0, 0.0], None, 0), vec![]);
        let best = idx.top_k(&[1.0, 1.0], None, 1);
        assert_eq!(best[0].0, 5);
        assert!((best[0].1 - 1.0).abs() < 1e-5, "cosine of normalised rows");
    }
}
