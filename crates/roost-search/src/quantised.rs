//! Listing vectors for scanning: int8 codes with one scale per vector, plus i16 codes (again
//! with a scale per vector) for re-scoring.
//!
//! Why int8: a scan of 100k × 384 reads a quarter of the bytes of f32 (~38 MB instead of
//! ~150 MB). Quantising moves scores a little, so the scan keeps more candidates than asked
//! and the i16 rows order those: each of their values is within half a step (the row's largest
//! / 65,534) of the f32 one, so a score moves by at most that times the query's L1 norm (≤ 3e-4
//! at 384 dimensions, ~1e-5 typically), below what separates neighbours, at half of f32's
//! memory (77 MB instead of 154 at 100k × 384). Recall against an exact f32 scan stays ≥ 0.99
//! (tested here; the search bench measures it at 10 and at 100, the depth a search ranks to).
//!
//! Speed: the int8 dot product is written so the compiler vectorises it (i8 → i16 products
//! summed into i32 lanes, `pmaddwd`) and is compiled for AVX2 as well, chosen at run time
//! through `pulp` (x86-64 builds otherwise target SSE2 only). With AVX2 the scan runs at
//! about memory speed: ~1 ms for 100k rows on two cores, where SSE2 took ~2.2 ms.

use std::cmp::Ordering;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;

/// Candidates kept from the int8 scan per result wanted (and at least `k + MIN_EXTRA`).
/// Twice as many was enough for a recall of 1.0 at 100 on the bench's clustered vectors;
/// every candidate costs a random read of its f32 row (~0.3 µs), so more is not free.
const OVERSAMPLE: usize = 2;
const MIN_EXTRA: usize = 32;
/// Below this many rows a second thread costs more than it saves.
const PARALLEL_ROWS: usize = 20_000;
/// Rows a scanning thread takes at a time (~1.5 MB of codes, ~40 µs).
const SCAN_CHUNK: usize = 4096;

#[derive(Debug, Default, Clone)]
pub struct Quantised {
    dim: usize,
    /// Row `r` owns `codes[r * dim ..][.. dim]`; rows without a vector are zeros.
    codes: Vec<i8>,
    /// Code → value factor per row; 0 marks a row without a vector.
    scales: Vec<f32>,
    /// The unit-length rows again as i16 codes, for re-scoring; same layout as `codes`.
    fine: Vec<i16>,
    /// i16 code → value factor per row.
    fine_scales: Vec<f32>,
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
            self.fine.resize((r + 1) * self.dim, 0);
            self.fine_scales.resize(r + 1, 0.0);
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
        self.fine_scales[r] = quantise_fine(&v, &mut self.fine[r * self.dim..(r + 1) * self.dim]);
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
        self.fine[r * self.dim..(r + 1) * self.dim].fill(0);
        self.fine_scales[r] = 0.0;
    }

    #[inline(always)]
    fn fine_row(&self, row: u32) -> &[i16] {
        let start = row as usize * self.dim;
        &self.fine[start..start + self.dim]
    }

    /// `row`'s re-scoring score against the unit query `q`.
    #[inline(always)]
    fn fine_score(&self, q: &[f32], row: u32) -> f32 {
        dot(q, self.fine_row(row)) * self.fine_scales[row as usize]
    }

    #[inline(always)]
    fn code_row(&self, row: usize) -> &[i8] {
        &self.codes[row * self.dim..(row + 1) * self.dim]
    }

    /// The `k` rows most similar to `query` (any length; normalised here), best first, as
    /// (row, cosine); only rows in `among` when given. Ties go to the lower row.
    ///
    /// A long scan runs on two threads, which take chunks of rows in turn: when the second
    /// one gets no core at once, this one does its share. (Right after a query is embedded
    /// it often gets none for a millisecond or two: ONNX Runtime's worker thread spins on
    /// after each inference.)
    pub fn top_k(&self, query: &[f32], among: Option<&[u32]>, k: usize) -> Vec<(u32, f32)> {
        let search = self.search(query, among, k);
        if search.n < PARALLEL_ROWS {
            return search.finish(vec![search.work()]);
        }
        let (mine, theirs) = std::thread::scope(|s| {
            let other = s.spawn(|| search.work());
            (search.work(), other.join().expect("vector scan thread"))
        });
        search.finish(vec![mine, theirs])
    }

    fn search<'a>(&'a self, query: &[f32], among: Option<&'a [u32]>, k: usize) -> TopK<'a> {
        let mut q = query.to_vec();
        normalise(&mut q);
        // The query's scale multiplies every score alike: it cannot change the order.
        let (codes, _) = quantise_query(&q);
        let n = match among {
            _ if k == 0 || self.count == 0 => 0,
            // Few enough to score exactly.
            Some(rows) if rows.len() <= keep(k) => 0,
            Some(rows) => rows.len(),
            None => self.scales.len(),
        };
        TopK {
            index: self,
            q,
            codes,
            among,
            k,
            n,
            next: AtomicUsize::new(0),
        }
    }
}

/// Candidates kept from the int8 scan for `k` results.
fn keep(k: usize) -> usize {
    (k * OVERSAMPLE).max(k + MIN_EXTRA)
}

/// A search under way: the int8 scan, which threads share by taking chunks of rows in turn
/// ([`TopK::work`]), then the exact scores of the candidates it kept ([`TopK::finish`]).
struct TopK<'a> {
    index: &'a Quantised,
    /// The unit query and its int8 codes.
    q: Vec<f32>,
    codes: Vec<i8>,
    among: Option<&'a [u32]>,
    k: usize,
    /// Rows to scan (of `among` when given, else of the index); 0 when there is nothing to
    /// scan or `among` is short enough to score exactly.
    n: usize,
    /// The next chunk to take.
    next: AtomicUsize,
}

impl TopK<'_> {
    /// Scans chunks of rows until none are left, and returns the best of those it scanned.
    /// Any number of threads may call it at once; each row is scanned once.
    fn work(&self) -> Best {
        let mut best = Best::new(keep(self.k));
        let chunks = self.n.div_ceil(SCAN_CHUNK);
        loop {
            let c = self.next.fetch_add(1, Relaxed);
            if c >= chunks {
                return best;
            }
            pulp::Arch::new().dispatch(Scan {
                index: self.index,
                codes: &self.codes,
                among: self.among,
                from: c * SCAN_CHUNK,
                to: ((c + 1) * SCAN_CHUNK).min(self.n),
                best: &mut best,
            });
        }
    }

    /// The `k` best rows with their exact scores, from what every [`TopK::work`] kept.
    fn finish(&self, bests: Vec<Best>) -> Vec<(u32, f32)> {
        let index = self.index;
        if self.k == 0 || index.count == 0 {
            return vec![];
        }
        let candidates: Vec<u32> = match self.among {
            Some(rows) if self.n == 0 => rows.iter().copied().filter(|&r| index.has(r)).collect(),
            _ => {
                let mut bests = bests.into_iter();
                let mut best = bests.next().unwrap_or_else(|| Best::new(keep(self.k)));
                for other in bests {
                    for (score, row) in other.items {
                        best.offer(score, row);
                    }
                }
                best.rows()
            }
        };
        let mut scored = pulp::Arch::new().dispatch(Rescore {
            index,
            q: &self.q,
            rows: &candidates,
        });
        let order = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        scored.sort_unstable_by(order);
        scored.truncate(self.k);
        scored
    }
}

/// Some rows of a scan: `from..to` (of `among` when given, else of the index), scored by
/// their int8 dot product with `codes` times their scale and offered to `best`.
///
/// Run through `pulp`, which checks the processor once and then runs [`Scan::with_simd`]
/// compiled for the widest instructions it has (AVX2 on x86-64, whose builds otherwise
/// target SSE2 only): the dot product then works on 256-bit vectors, about twice as fast.
/// That only works for code inlined into it, hence `inline(always)` down to [`dot_i8`].
struct Scan<'a> {
    index: &'a Quantised,
    codes: &'a [i8],
    among: Option<&'a [u32]>,
    from: usize,
    to: usize,
    best: &'a mut Best,
}

impl pulp::WithSimd for Scan<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        match self.among {
            Some(rows) => {
                let rows = rows[self.from..self.to].iter().map(|&r| r as usize);
                Scan::offer(self.index, self.codes, rows, self.best);
            }
            None => Scan::offer(self.index, self.codes, self.from..self.to, self.best),
        }
    }
}

impl Scan<'_> {
    /// A method, not a closure: closures are not reliably inlined into [`Scan::with_simd`].
    #[inline(always)]
    fn offer(index: &Quantised, codes: &[i8], rows: impl Iterator<Item = usize>, best: &mut Best) {
        for r in rows {
            // Rows without a vector (or beyond the last) have scale 0.
            let scale = index.scales.get(r).copied().unwrap_or(0.0);
            if scale > 0.0 {
                best.offer(dot_i8(codes, index.code_row(r)) as f32 * scale, r as u32);
            }
        }
    }
}

/// Re-scores `rows` against the unit query `q` with their i16 codes. Each row is a cache miss
/// somewhere in ~77 MB (100k rows), so four rows go through the loop together: the processor
/// then fetches four rows at once instead of one after the other. Sums in the same order as
/// [`Quantised::fine_score`], so the scores equal it bit for bit.
struct Rescore<'a> {
    index: &'a Quantised,
    q: &'a [f32],
    rows: &'a [u32],
}

impl pulp::WithSimd for Rescore<'_> {
    type Output = Vec<(u32, f32)>;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) -> Vec<(u32, f32)> {
        let mut out = Vec::with_capacity(self.rows.len());
        let mut groups = self.rows.chunks_exact(4);
        for g in &mut groups {
            let rows = [g[0], g[1], g[2], g[3]].map(|r| self.index.fine_row(r));
            let dots = dot4_fine(self.q, rows);
            for (i, &r) in g.iter().enumerate() {
                out.push((r, dots[i] * self.index.fine_scales[r as usize]));
            }
        }
        for &r in groups.remainder() {
            out.push((r, self.index.fine_score(self.q, r)));
        }
        out
    }
}

/// The best `keep` (score, row) pairs seen, by score and then the lower row, kept cheaply:
/// items collect in a buffer twice the size, which is cut back to the best `keep` when
/// full; after that, anything not better than the cut-off is ignored without touching the
/// buffer.
pub struct Best {
    keep: usize,
    items: Vec<(f32, u32)>,
    floor: f32,
}

impl Best {
    pub fn new(keep: usize) -> Best {
        Best {
            keep,
            items: Vec::with_capacity(keep.saturating_mul(2).min(1 << 16)),
            floor: f32::NEG_INFINITY,
        }
    }

    #[inline(always)]
    pub fn offer(&mut self, score: f32, row: u32) {
        if score < self.floor {
            return;
        }
        self.items.push((score, row));
        if self.items.len() >= self.keep.saturating_mul(2) {
            self.shrink();
        }
    }

    fn shrink(&mut self) {
        if self.items.len() <= self.keep {
            return;
        }
        if self.keep == 0 {
            self.items.clear();
            self.floor = f32::INFINITY;
            return;
        }
        self.items.select_nth_unstable_by(self.keep - 1, order);
        self.items.truncate(self.keep);
        self.floor = self.items[self.keep - 1].0;
    }

    /// The rows kept, in no particular order.
    fn rows(mut self) -> Vec<u32> {
        self.shrink();
        self.items.into_iter().map(|(_, r)| r).collect()
    }

    /// The rows kept, best first.
    pub fn into_sorted_rows(mut self) -> Vec<u32> {
        self.shrink();
        self.items.sort_unstable_by(order);
        self.items.into_iter().map(|(_, r)| r).collect()
    }
}

/// Higher score first, then the lower row.
fn order(a: &(f32, u32), b: &(f32, u32)) -> Ordering {
    b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
}

/// Codes `v` into `out` symmetrically (max |x| → 127) and returns the scale.
fn quantise(v: &[f32], out: &mut [i8]) -> f32 {
    quantise_to(v, out, 127.0, |y| y as i8)
}

/// Like [`quantise`], to i16 codes for re-scoring (max |x| → 32,767).
fn quantise_fine(v: &[f32], out: &mut [i16]) -> f32 {
    quantise_to(v, out, 32767.0, |y| y as i16)
}

/// Codes `v` into `out` as `code` of each value times `levels / max |x|`, rounded half away
/// from zero, and returns the factor back (`max |x| / levels`). Rounds by hand: a division
/// and `round` per value (a libm call on baseline x86-64) made loading 100k vectors 0.7 s
/// slower. `code` is an `as` cast, which saturates; |x · levels / max| ≤ levels anyway.
#[inline(always)]
fn quantise_to<T: Copy + Default>(
    v: &[f32],
    out: &mut [T],
    levels: f32,
    code: impl Fn(f32) -> T,
) -> f32 {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    if max == 0.0 {
        out.fill(T::default());
        return 0.0;
    }
    let inverse = levels / max;
    for (o, x) in out.iter_mut().zip(v) {
        let y = x * inverse;
        *o = code(y + 0.5f32.copysign(y));
    }
    max / levels
}

fn quantise_query(q: &[f32]) -> (Vec<i8>, f32) {
    let mut codes = vec![0i8; q.len()];
    let scale = quantise(q, &mut codes);
    (codes, scale)
}

/// Lanes of the dot products: 32 × i8 is one 256-bit register. The sums run in `LANES`
/// independent accumulators, so the compiler may keep them in vector registers; one running
/// sum would force a strict order of additions.
const LANES: usize = 32;

/// Integer dot product. Products of two i8 always fit in i16 (|-128 × -128| = 2^14), and
/// i16 products summed into i32 lanes are what `pmaddwd` / `vpmaddwd` compute. No overflow:
/// each lane sums `len / 32` products of at most 2^14.
#[inline(always)]
fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let n = a.len().min(b.len());
    let whole = n / LANES * LANES;
    let mut acc = [0i32; LANES];
    for (x, y) in a[..whole]
        .chunks_exact(LANES)
        .zip(b[..whole].chunks_exact(LANES))
    {
        for ((sum, &x), &y) in acc.iter_mut().zip(x).zip(y) {
            *sum += i32::from(i16::from(x) * i16::from(y));
        }
    }
    let tail: i32 = a[whole..n]
        .iter()
        .zip(&b[whole..n])
        .map(|(&x, &y)| i32::from(x) * i32::from(y))
        .sum();
    acc.iter().sum::<i32>() + tail
}

/// Dot product of f32 `a` with `b` (f32, or i16 codes taken as f32) in eight (SSE2: two
/// registers; AVX2: one) independent sums.
#[inline(always)]
pub fn dot<T: Copy + Into<f32>>(a: &[f32], b: &[T]) -> f32 {
    let mut acc = [0f32; 8];
    let whole = a.len() / 8 * 8;
    for (x, y) in a[..whole].chunks_exact(8).zip(b[..whole].chunks_exact(8)) {
        for ((sum, x), &y) in acc.iter_mut().zip(x).zip(y) {
            *sum += x * y.into();
        }
    }
    let tail: f32 = a[whole..]
        .iter()
        .zip(&b[whole..])
        .map(|(x, &y)| x * y.into())
        .sum();
    acc.iter().sum::<f32>() + tail
}

/// [`dot`] of `q` with four i16 rows at once (each as long as `q`).
#[inline(always)]
fn dot4_fine(q: &[f32], rows: [&[i16]; 4]) -> [f32; 4] {
    let whole = q.len() / 8 * 8;
    let mut acc = [[0f32; 8]; 4];
    let [r0, r1, r2, r3] = rows.map(|r| &r[..q.len()]);
    for ((((x, a), b), c), d) in q[..whole]
        .chunks_exact(8)
        .zip(r0[..whole].chunks_exact(8))
        .zip(r1[..whole].chunks_exact(8))
        .zip(r2[..whole].chunks_exact(8))
        .zip(r3[..whole].chunks_exact(8))
    {
        for (i, &x) in x.iter().enumerate() {
            acc[0][i] += x * f32::from(a[i]);
            acc[1][i] += x * f32::from(b[i]);
            acc[2][i] += x * f32::from(c[i]);
            acc[3][i] += x * f32::from(d[i]);
        }
    }
    let tails = [r0, r1, r2, r3].map(|r| {
        q[whole..]
            .iter()
            .zip(&r[whole..])
            .map(|(x, &y)| x * f32::from(y))
            .sum::<f32>()
    });
    std::array::from_fn(|i| acc[i].iter().sum::<f32>() + tails[i])
}

pub fn normalise(v: &mut [f32]) {
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

    /// [`dot_i8`] compiled the way the scan compiles it: through pulp's dispatch, so for
    /// AVX2 on a processor that has it.
    struct DispatchedDot<'a>(&'a [i8], &'a [i8]);

    impl pulp::WithSimd for DispatchedDot<'_> {
        type Output = i32;

        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, _: S) -> i32 {
            dot_i8(self.0, self.1)
        }
    }

    fn naive_i8(a: &[i8], b: &[i8]) -> i32 {
        a.iter()
            .zip(b)
            .map(|(&x, &y)| i32::from(x) * i32::from(y))
            .sum()
    }

    #[test]
    fn vectorised_dots_match_a_scalar_reference_at_any_length() {
        let mut rng = StdRng::seed_from_u64(5);
        let lengths = (0..=70).chain([95, 96, 97, 383, 384, 385, 1000, 4099]);
        for len in lengths {
            for round in 0..4 {
                let code = |rng: &mut StdRng| -> i8 {
                    // Round 0 uses the extremes only, where an i16 product could overflow.
                    if round == 0 {
                        [-128, 127, -127][rng.random_range(0..3)]
                    } else {
                        rng.random()
                    }
                };
                let a: Vec<i8> = (0..len).map(|_| code(&mut rng)).collect();
                let b: Vec<i8> = (0..len).map(|_| code(&mut rng)).collect();
                let expected = naive_i8(&a, &b);
                assert_eq!(dot_i8(&a, &b), expected, "len {len}");
                let dispatched = pulp::Arch::new().dispatch(DispatchedDot(&a, &b));
                assert_eq!(dispatched, expected, "len {len}, dispatched");

                let x: Vec<f32> = (0..len).map(|_| rng.random::<f32>() - 0.5).collect();
                let y: Vec<f32> = (0..len).map(|_| rng.random::<f32>() - 0.5).collect();
                let naive: f64 = x.iter().zip(&y).map(|(a, b)| f64::from(a * b)).sum();
                assert!((f64::from(dot(&x, &y)) - naive).abs() < 1e-4, "len {len}");
            }
        }
    }

    /// The scan (dispatched, split over two threads for large sets) keeps exactly the best
    /// rows by int8 score, ties to the lower row, whether it scans all rows or a list.
    #[test]
    fn the_scan_keeps_the_best_rows_by_their_int8_score() {
        let mut rng = StdRng::seed_from_u64(6);
        for (dim, rows) in [(37, PARALLEL_ROWS + 1_001), (384, 3_000), (5, 500)] {
            let mut index = Quantised::new(dim);
            for r in 0..rows as u32 {
                match rng.random_range(0..20) {
                    0 => continue, // no vector
                    1 => index.set(r, &vec![0.0; dim]),
                    // A few duplicates make ties.
                    2 => index.set(r, &vec![0.5; dim]),
                    _ => {
                        let v: Vec<f32> = (0..dim).map(|_| rng.random::<f32>() - 0.5).collect();
                        index.set(r, &v);
                    }
                }
            }
            let q: Vec<f32> = (0..dim).map(|_| rng.random::<f32>() - 0.5).collect();
            let mut qn = q.clone();
            normalise(&mut qn);
            let (codes, _) = quantise_query(&qn);
            let reference = |among: &mut dyn Iterator<Item = u32>, keep: usize| {
                let mut scored: Vec<(f32, u32)> = among
                    .filter(|&r| index.has(r))
                    .map(|r| {
                        let s = naive_i8(&codes, index.code_row(r as usize));
                        (s as f32 * index.scales[r as usize], r)
                    })
                    .collect();
                scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                let mut rows: Vec<u32> = scored.into_iter().take(keep).map(|x| x.1).collect();
                rows.sort_unstable();
                rows
            };
            let sorted = |mut v: Vec<u32>| {
                v.sort_unstable();
                v
            };
            // The int8 candidates of a search for `k`, scanned by `threads` threads at once.
            let scan = |among: Option<&[u32]>, k: usize, threads: usize| {
                let search = index.search(&q, among, k);
                let bests: Vec<Best> = std::thread::scope(|s| {
                    let all: Vec<_> = (0..threads).map(|_| s.spawn(|| search.work())).collect();
                    all.into_iter().map(|h| h.join().unwrap()).collect()
                });
                let mut best = Best::new(keep(k));
                for b in bests {
                    for (score, row) in b.items {
                        best.offer(score, row);
                    }
                }
                sorted(best.rows())
            };
            for (k, threads) in [(1, 1), (10, 2), (100, 3), (200, 2)] {
                let keep = keep(k);
                let all = reference(&mut (0..rows as u32 + 10), keep);
                assert_eq!(scan(None, k, threads), all, "{dim} {k} {threads}");
                // Every row listed, plus rows the index does not hold.
                let listed: Vec<u32> = (0..rows as u32 + 10).collect();
                assert_eq!(scan(Some(&listed), k, threads), all);
                let some: Vec<u32> = listed.into_iter().filter(|r| r % 3 != 1).collect();
                let expected = reference(&mut some.iter().copied(), keep);
                // (Short lists are scored exactly, without a scan.)
                if some.len() > keep {
                    assert_eq!(scan(Some(&some), k, threads), expected);
                }

                // And what `top_k` makes of them: their exact scores, best first.
                let exact = |rows: Vec<u32>| {
                    let mut v: Vec<(u32, f32)> = rows
                        .into_iter()
                        .map(|r| (r, index.fine_score(&qn, r)))
                        .collect();
                    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                    v.truncate(k);
                    v
                };
                assert_eq!(index.top_k(&q, None, k), exact(all));
                assert_eq!(index.top_k(&q, Some(&some), k), exact(expected));
            }
        }
    }

    #[test]
    fn fine_scores_stay_within_the_rounding_bound_of_f32() {
        let mut rng = StdRng::seed_from_u64(5);
        for dim in [1, 7, 384] {
            let mut index = Quantised::new(dim);
            let mut rows = vec![];
            for r in 0..50u32 {
                let mut v: Vec<f32> = (0..dim).map(|_| rng.random::<f32>() - 0.5).collect();
                normalise(&mut v);
                index.set(r, &v);
                rows.push(v);
            }
            let mut q: Vec<f32> = (0..dim).map(|_| rng.random::<f32>() - 0.5).collect();
            normalise(&mut q);
            let q_l1: f32 = q.iter().map(|x| x.abs()).sum();
            for (r, v) in rows.iter().enumerate() {
                let (fine, exact) = (index.fine_score(&q, r as u32), dot(&q, v));
                // Each value is within half a step (the row's largest / 65,534) of the f32.
                let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
                let bound = max / 65_534.0 * q_l1 + 1e-6;
                assert!(
                    (fine - exact).abs() <= bound,
                    "dim {dim}: {fine} vs {exact}"
                );
            }
        }
    }

    #[test]
    fn rescoring_four_rows_at_a_time_equals_one_at_a_time_exactly() {
        let mut rng = StdRng::seed_from_u64(7);
        for dim in [1, 3, 8, 13, 384, 389] {
            let mut index = Quantised::new(dim);
            for r in 0..11u32 {
                let v: Vec<f32> = (0..dim).map(|_| rng.random::<f32>() - 0.5).collect();
                index.set(r, &v);
            }
            let mut q: Vec<f32> = (0..dim).map(|_| rng.random::<f32>() - 0.5).collect();
            normalise(&mut q);
            for n in 0..=11 {
                let rows: Vec<u32> = (0..n).rev().collect();
                let got = pulp::Arch::new().dispatch(Rescore {
                    index: &index,
                    q: &q,
                    rows: &rows,
                });
                let expected: Vec<(u32, f32)> =
                    rows.iter().map(|&r| (r, index.fine_score(&q, r))).collect();
                assert_eq!(got, expected, "dim {dim}, {n} rows");
            }
        }
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
