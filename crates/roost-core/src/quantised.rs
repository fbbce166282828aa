//! Listing vectors for scanning: int8 codes with one scale per vector, plus the f32 rows for
//! exact re-scoring.
//!
//! Why int8: a scan of 100k × 384 is memory-bound; int8 reads a quarter of the bytes of f32
//! (~38 MB instead of ~150 MB). Quantising moves scores a little, so the scan keeps a few
//! times more candidates than asked and the exact f32 dot product orders those: recall
//! against an exact f32 scan stays ≥ 0.99 (tested).

use std::cmp::Ordering;

/// Candidates kept from the int8 scan per result wanted (and at least `k + MIN_EXTRA`).
const OVERSAMPLE: usize = 4;
const MIN_EXTRA: usize = 32;
/// Below this many rows a second thread costs more than it saves.
const PARALLEL_ROWS: usize = 20_000;

#[derive(Debug, Default, Clone)]
pub(crate) struct Quantised {
    dim: usize,
    /// Row `r` owns `codes[r * dim ..][.. dim]`; rows without a vector are zeros.
    codes: Vec<i8>,
    /// Code → value factor per row; 0 marks a row without a vector.
    scales: Vec<f32>,
    /// Unit-length f32 rows for re-scoring, same layout as `codes`.
    exact: Vec<f32>,
    count: usize,
}

impl Quantised {
    pub fn new(dim: usize) -> Quantised {
        Quantised {
            dim,
            ..Quantised::default()
        }
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Rows holding a vector.
    pub fn count(&self) -> usize {
        self.count
    }

    pub fn has(&self, row: u32) -> bool {
        self.scales.get(row as usize).is_some_and(|&s| s > 0.0)
    }

    /// Stores `vector` (normalised here) as `row`'s.
    pub fn set(&mut self, row: u32, vector: &[f32]) {
        debug_assert_eq!(vector.len(), self.dim);
        let r = row as usize;
        if self.scales.len() <= r {
            self.scales.resize(r + 1, 0.0);
            self.codes.resize((r + 1) * self.dim, 0);
            self.exact.resize((r + 1) * self.dim, 0.0);
        }
        let mut v = vector.to_vec();
        normalise(&mut v);
        let scale = quantise(&v, &mut self.codes[r * self.dim..(r + 1) * self.dim]);
        if scale == 0.0 {
            // A zero vector has no direction: treat it as missing.
            self.clear(row);
            return;
        }
        if self.scales[r] == 0.0 {
            self.count += 1;
        }
        self.scales[r] = scale;
        self.exact[r * self.dim..(r + 1) * self.dim].copy_from_slice(&v);
    }

    pub fn clear(&mut self, row: u32) {
        let r = row as usize;
        if r >= self.scales.len() {
            return;
        }
        if self.scales[r] > 0.0 {
            self.count -= 1;
        }
        self.scales[r] = 0.0;
        self.codes[r * self.dim..(r + 1) * self.dim].fill(0);
        self.exact[r * self.dim..(r + 1) * self.dim].fill(0.0);
    }

    fn exact_row(&self, row: u32) -> &[f32] {
        let start = row as usize * self.dim;
        &self.exact[start..start + self.dim]
    }

    fn code_row(&self, row: usize) -> &[i8] {
        &self.codes[row * self.dim..(row + 1) * self.dim]
    }

    /// The `k` rows most similar to `query` (any length; normalised here), best first, as
    /// (row, cosine); only rows in `among` when given. Ties go to the lower row.
    pub fn top_k(&self, query: &[f32], among: Option<&[u32]>, k: usize) -> Vec<(u32, f32)> {
        if k == 0 || self.count == 0 {
            return vec![];
        }
        let mut q = query.to_vec();
        normalise(&mut q);
        let keep = (k * OVERSAMPLE).max(k + MIN_EXTRA);
        let candidates: Vec<u32> = match among {
            // Few enough to score exactly.
            Some(rows) if rows.len() <= keep => {
                rows.iter().copied().filter(|&r| self.has(r)).collect()
            }
            Some(rows) => {
                let (codes, qscale) = quantise_query(&q);
                let mut best = Best::new(keep);
                for &r in rows {
                    if self.has(r) {
                        best.offer(self.approx(&codes, qscale, r as usize), r);
                    }
                }
                best.rows()
            }
            None => self.scan_all(&q, keep),
        };
        let mut scored: Vec<(u32, f32)> = candidates
            .into_iter()
            .map(|r| (r, dot(&q, self.exact_row(r))))
            .collect();
        let order = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        scored.sort_unstable_by(order);
        scored.truncate(k);
        scored
    }

    fn approx(&self, codes: &[i8], qscale: f32, row: usize) -> f32 {
        dot_i8(codes, self.code_row(row)) as f32 * qscale * self.scales[row]
    }

    /// Every row, in two halves on two threads when it pays.
    fn scan_all(&self, q: &[f32], keep: usize) -> Vec<u32> {
        let (codes, qscale) = quantise_query(q);
        let rows = self.scales.len();
        let scan = |from: usize, to: usize| {
            let mut best = Best::new(keep);
            for r in from..to {
                let scale = self.scales[r];
                if scale > 0.0 {
                    let score = dot_i8(&codes, self.code_row(r)) as f32 * qscale * scale;
                    best.offer(score, r as u32);
                }
            }
            best
        };
        let mut best = if rows >= PARALLEL_ROWS {
            let mid = rows / 2;
            let (mut a, b) = std::thread::scope(|s| {
                let other = s.spawn(|| scan(mid, rows));
                let a = scan(0, mid);
                (a, other.join().expect("vector scan thread"))
            });
            for (score, row) in b.items {
                a.offer(score, row);
            }
            a
        } else {
            scan(0, rows)
        };
        best.shrink();
        best.rows()
    }
}

/// The best `keep` (score, row) pairs seen, kept cheaply: items collect in a buffer twice
/// the size, which is cut back to the best `keep` when full; after that, anything not
/// better than the cut-off is ignored without touching the buffer.
struct Best {
    keep: usize,
    items: Vec<(f32, u32)>,
    floor: f32,
}

impl Best {
    fn new(keep: usize) -> Best {
        Best {
            keep,
            items: Vec::with_capacity(keep * 2),
            floor: f32::NEG_INFINITY,
        }
    }

    #[inline]
    fn offer(&mut self, score: f32, row: u32) {
        if score < self.floor {
            return;
        }
        self.items.push((score, row));
        if self.items.len() >= self.keep * 2 {
            self.shrink();
        }
    }

    fn shrink(&mut self) {
        if self.items.len() <= self.keep {
            return;
        }
        let order = |a: &(f32, u32), b: &(f32, u32)| -> Ordering {
            b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
        };
        self.items.select_nth_unstable_by(self.keep - 1, order);
        self.items.truncate(self.keep);
        self.floor = self.items[self.keep - 1].0;
    }

    fn rows(mut self) -> Vec<u32> {
        self.shrink();
        self.items.into_iter().map(|(_, r)| r).collect()
    }
}

/// Codes `v` into `out` symmetrically (max |x| → 127) and returns the scale.
fn quantise(v: &[f32], out: &mut [i8]) -> f32 {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    if max == 0.0 {
        out.fill(0);
        return 0.0;
    }
    let scale = max / 127.0;
    for (o, x) in out.iter_mut().zip(v) {
        *o = (x / scale).round().clamp(-127.0, 127.0) as i8;
    }
    scale
}

fn quantise_query(q: &[f32]) -> (Vec<i8>, f32) {
    let mut codes = vec![0i8; q.len()];
    let scale = quantise(q, &mut codes);
    (codes, scale)
}

/// Integer dot product. Sixteen lanes of i16 products summed into i32 let the compiler use
/// `pmaddwd` (SSE2, in every x86-64); products of two i8 always fit in i16.
fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let mut acc = [0i32; 16];
    let (a16, a_rest) = a.split_at(a.len() / 16 * 16);
    let (b16, b_rest) = b.split_at(a16.len());
    for (x, y) in a16.chunks_exact(16).zip(b16.chunks_exact(16)) {
        for ((sum, &x), &y) in acc.iter_mut().zip(x).zip(y) {
            *sum += i32::from(i16::from(x) * i16::from(y));
        }
    }
    let tail: i32 = a_rest
        .iter()
        .zip(b_rest)
        .map(|(&x, &y)| i32::from(x) * i32::from(y))
        .sum();
    acc.iter().sum::<i32>() + tail
}

/// Eight independent sums let the compiler use SIMD lanes; one running sum would force a
/// strict order of additions.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
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

pub(crate) fn normalise(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for x in v {
            *x /= norm;
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    #[test]
    fn dots_match_the_naive_sums() {
        let a: Vec<f32> = (0..19).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..19).map(|i| 1.0 - i as f32 * 0.1).collect();
        let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - naive).abs() < 1e-4);
        let a: Vec<i8> = (0..37).map(|i| (i * 7 - 128) as i8).collect();
        let b: Vec<i8> = (0..37).map(|i| (127 - i * 5) as i8).collect();
        let naive: i32 = a
            .iter()
            .zip(&b)
            .map(|(&x, &y)| i32::from(x) * i32::from(y))
            .sum();
        assert_eq!(dot_i8(&a, &b), naive);
        assert_eq!(dot_i8(&[-128; 32], &[-128; 32]), 32 * 16384);
    }

    /// Clustered vectors (like listings written from a few templates) are the hard case:
    /// many near-equal neighbours, where quantisation noise reorders the top.
    #[test]
    fn int8_recall_against_exact_f32_is_at_least_099() {
        let (dim, rows, centres) = (64, 20_000, 50);
        let mut rng = StdRng::seed_from_u64(11);
        let gauss = |rng: &mut StdRng| {
            (0..dim)
                .map(|_| rng.random::<f32>() - 0.5)
                .collect::<Vec<f32>>()
        };
        let bases: Vec<Vec<f32>> = (0..centres).map(|_| gauss(&mut rng)).collect();
        let mut index = Quantised::new(dim);
        let mut all = Vec::new();
        for r in 0..rows {
            let base = &bases[r % centres];
            let noise = gauss(&mut rng);
            let mut v: Vec<f32> = base.iter().zip(&noise).map(|(b, n)| b + 0.15 * n).collect();
            normalise(&mut v);
            index.set(r as u32, &v);
            all.push(v);
        }
        let (mut found, mut wanted) = (0, 0);
        for _ in 0..50 {
            let base = &bases[rng.random_range(0..centres)];
            let noise = gauss(&mut rng);
            let mut q: Vec<f32> = base.iter().zip(&noise).map(|(b, n)| b + 0.2 * n).collect();
            normalise(&mut q);
            let mut exact: Vec<(f32, usize)> = all
                .iter()
                .enumerate()
                .map(|(r, v)| (dot(&q, v), r))
                .collect();
            exact.sort_by(|a, b| b.0.total_cmp(&a.0));
            let truth: Vec<u32> = exact[..10].iter().map(|e| e.1 as u32).collect();
            let got = index.top_k(&q, None, 10);
            assert_eq!(got.len(), 10);
            found += got.iter().filter(|g| truth.contains(&g.0)).count();
            wanted += 10;
        }
        let recall = found as f64 / wanted as f64;
        assert!(recall >= 0.99, "recall {recall}");
    }

    #[test]
    fn missing_and_cleared_rows_are_never_returned() {
        let mut index = Quantised::new(2);
        index.set(3, &[1.0, 0.0]);
        index.set(5, &[0.0, 0.0]);
        index.set(7, &[0.6, 0.8]);
        assert_eq!(index.count(), 2);
        let rows = |v: Vec<(u32, f32)>| v.into_iter().map(|x| x.0).collect::<Vec<_>>();
        assert_eq!(rows(index.top_k(&[1.0, 0.0], None, 10)), vec![3, 7]);
        index.clear(3);
        assert_eq!(
            rows(index.top_k(&[1.0, 0.0], Some(&[3, 5, 7, 99]), 10)),
            vec![7]
        );
    }
}
