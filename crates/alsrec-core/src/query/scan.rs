//! The first pass of a one-user list: every movie scored from a half-precision copy of the rank
//! space, with a proven bound on each approximate score's error, so that only the movies that
//! could still make the list are scored exactly. The list is the exact one — the same movies,
//! scores and order as scoring every movie in f32 — at a quarter of the memory traffic: one
//! user's query is a stream over all movie vectors, and half the bytes is twice the speed.
//!
//! Why it is exact. Let s̃ be a movie's approximate score and ε its bound, so that the exact f32
//! score s lies in [s̃ − ε, s̃ + ε]. Let T be the `pool`-th largest lower bound among the allowed
//! movies. Those `pool` movies all score at least T, so the `pool`-th best exact score is at
//! least T, and every movie of the exact list has s ≥ T, hence s̃ + ε ≥ T. Keeping the movies
//! with s̃ + ε ≥ T and ranking them by their exact scores therefore gives the exact list, ties
//! (broken by index) included.
//!
//! The bound. With v the f32 row, h its f16 copy and e = ‖v − h‖₂ (measured when the index is
//! built), |q·v − q·h| ≤ ‖q‖₂·e by Cauchy–Schwarz. Both scores are then rounded in f32: a
//! length-k dot product and two additions are off by at most (k + 3)·u·(|base| + |offset| +
//! ‖q‖·‖v‖) with u = 2⁻²⁴ (Higham, *Accuracy and Stability*, §3.1), for s and for s̃ alike (with
//! ‖h‖ ≤ ‖v‖ + e). [`SLACK`] doubles that again, for the few f32 operations that form the bound
//! itself.
use half::f16;

use crate::kernels::isa::Isa;
use crate::query::topn::{Scored, TopN};

/// Movies per block: one 8-lane vector of scores.
const LANES: usize = 8;

/// Scans at least this long are split between two threads: about 40 µs of work per half,
/// well above what waking a second thread costs.
const PARALLEL_POSITIONS: usize = 16_384;

/// The rounding allowance per unit of magnitude and per dimension: 2·2·(k + 3)·u with the
/// k + 3 applied at build time; see the module's comment.
const SLACK: f64 = 4.0 / (1u64 << 24) as f64;

/// A half-precision copy of the rank space's movie rows, ordered for the scan.
#[derive(Debug, Clone)]
pub struct ScanIndex {
    k: usize,
    /// Scan position → movie, by training-rating count, most first (ties by index): the movies
    /// a `min_ratings` filter keeps are then a prefix, and the default list never reads the
    /// long tail's rows at all.
    order: Vec<u32>,
    /// The rating count at each position (non-increasing).
    counts: Vec<u32>,
    /// f16 bits in blocks of [`LANES`] movies, dimension-major within a block
    /// ([block][dim][lane]), so one vector instruction scores a dimension of eight movies.
    halves: Vec<u16>,
    /// The rank space's per-movie offset, by position (padded to whole blocks with 0).
    offset: Vec<f32>,
    /// Per position: e + c·(‖v‖ + e), the part of the bound proportional to ‖q‖.
    error: Vec<f32>,
    /// c = SLACK·(k + 3): the part of the bound proportional to |base| + |offset|.
    rounding: f32,
    /// The largest ‖v‖ + e and |offset|: a query whose scores could overflow f32 takes the
    /// exact path.
    magnitude: (f64, f64),
}

impl ScanIndex {
    /// The index of `rows` (movies × k, row-major) with their offsets and training counts;
    /// `None` when a row is not finite or does not fit f16 (the queries then score every movie
    /// exactly, as without an index).
    pub fn new(rows: &[f32], k: usize, offset: &[f32], counts: &[u32]) -> Option<ScanIndex> {
        let items = offset.len();
        if k == 0 || items == 0 || rows.len() != items * k || counts.len() != items {
            return None;
        }
        let mut order: Vec<u32> = (0..items as u32).collect();
        order.sort_by(|&a, &b| counts[b as usize].cmp(&counts[a as usize]).then(a.cmp(&b)));
        let blocks = items.div_ceil(LANES);
        let mut halves = vec![0u16; blocks * k * LANES];
        let mut offsets = vec![0f32; blocks * LANES];
        let mut error = vec![0f32; blocks * LANES];
        let rounding = SLACK * (k + 3) as f64;
        let mut magnitude = (0f64, 0f64);
        for (p, &i) in order.iter().enumerate() {
            let i = i as usize;
            let row = &rows[i * k..(i + 1) * k];
            let (block, lane) = (p / LANES, p % LANES);
            let (mut e2, mut v2) = (0f64, 0f64);
            for (d, &x) in row.iter().enumerate() {
                let h = f16::from_f32(x);
                if !x.is_finite() || !h.is_finite() {
                    return None;
                }
                halves[(block * k + d) * LANES + lane] = h.to_bits();
                let diff = x as f64 - h.to_f64();
                e2 += diff * diff;
                v2 += x as f64 * x as f64;
            }
            if !offset[i].is_finite() {
                return None;
            }
            let e = e2.sqrt();
            magnitude.0 = magnitude.0.max(v2.sqrt() + e);
            magnitude.1 = magnitude.1.max(offset[i].abs() as f64);
            // Rounded up a little: the coefficient itself is stored in f32.
            error[p] = ((e + rounding * (v2.sqrt() + e)) * (1.0 + 1e-6)) as f32;
            offsets[p] = offset[i];
        }
        Some(ScanIndex {
            k,
            counts: order.iter().map(|&i| counts[i as usize]).collect(),
            order,
            halves,
            offset: offsets,
            error,
            rounding: rounding as f32,
            magnitude,
        })
    }

    /// Scan position → movie.
    pub fn order(&self) -> &[u32] {
        &self.order
    }

    /// How many scan positions hold movies with at least `min_ratings` ratings.
    pub fn prefix(&self, min_ratings: u32) -> usize {
        self.counts.partition_point(|&c| c >= min_ratings)
    }

    /// The exact best `pool` movies among the first `end` positions that pass `allowed`,
    /// ranked by `exact` (which must be the f32 score the index approximates, for the query
    /// vector `q` with `base`). `None` when `q` or `base` is not finite: then only the exact
    /// scan keeps NaN's place in the order.
    #[allow(clippy::too_many_arguments)]
    pub fn top(
        &self,
        isa: Isa,
        q: &[f32],
        base: f32,
        end: usize,
        pool: usize,
        allowed: impl Fn(u32) -> bool + Sync,
        exact: impl Fn(usize) -> f32,
    ) -> Option<Vec<Scored>> {
        if q.len() != self.k || !base.is_finite() || q.iter().any(|x| !x.is_finite()) {
            return None;
        }
        let norm = q.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt() * (1.0 + 1e-6);
        if norm * self.magnitude.0 + self.magnitude.1 + base.abs() as f64 > 1e30 {
            return None;
        }
        let norm = norm as f32;
        let constant = self.rounding * base.abs();
        let end = end.min(self.order.len());
        let scan = |start: usize, end: usize| {
            let part = Scan {
                index: self,
                q,
                base,
                norm,
                constant,
                start,
                end,
            };
            let mut bounds = LowerBounds::new(pool);
            let mut candidates: Vec<(u32, f32)> = Vec::new();
            let mut visit = |p: usize, lower: f32, upper: f32| -> f32 {
                let movie = self.order[p];
                if allowed(movie) {
                    bounds.push(lower);
                    candidates.push((movie, upper));
                }
                bounds.threshold()
            };
            #[cfg(target_arch = "x86_64")]
            if isa.has_avx2_fma() {
                // SAFETY: an AVX2 + FMA token is only made on a CPU with AVX2, FMA and F16C.
                unsafe { part.run_avx2(&mut visit) };
            } else {
                part.run_portable(&mut visit);
            }
            #[cfg(not(target_arch = "x86_64"))]
            {
                let _ = isa;
                part.run_portable(&mut visit);
            }
            (bounds, candidates)
        };
        // A long scan is split in two at a block boundary, one half per core: the halves' best
        // lower bounds together hold the best of the whole, so the threshold is the same.
        let (bounds, candidates) = if end >= PARALLEL_POSITIONS && rayon::current_num_threads() > 1
        {
            let middle = (end / 2).div_ceil(LANES) * LANES;
            let ((mut bounds, mut candidates), (other, more)) =
                rayon::join(|| scan(0, middle), || scan(middle, end));
            for b in other.heap {
                bounds.push(b.0 .0);
            }
            candidates.extend(more);
            (bounds, candidates)
        } else {
            scan(0, end)
        };
        let threshold = bounds.threshold();
        let mut top = TopN::new(pool);
        for &(movie, upper) in &candidates {
            if upper >= threshold {
                top.push(Scored::new(movie, exact(movie as usize)));
            }
        }
        Some(top.into_sorted())
    }
}

/// One query's pass over the index.
struct Scan<'a> {
    index: &'a ScanIndex,
    q: &'a [f32],
    base: f32,
    norm: f32,
    constant: f32,
    /// Positions [start, end) are scanned; start is a multiple of [`LANES`].
    start: usize,
    end: usize,
}

impl Scan<'_> {
    /// Calls `visit(position, lower, upper)` for each position whose upper bound reaches the
    /// threshold `visit` last returned (−∞ at first).
    fn run_portable(&self, visit: &mut impl FnMut(usize, f32, f32) -> f32) {
        let (ix, k) = (self.index, self.index.k);
        let mut threshold = f32::NEG_INFINITY;
        let mut acc = [0f32; LANES];
        for block in self.start / LANES..self.end.div_ceil(LANES) {
            acc.fill(0.0);
            let halves = &ix.halves[block * k * LANES..(block + 1) * k * LANES];
            for (d, &qd) in self.q.iter().enumerate() {
                for (a, &h) in acc.iter_mut().zip(&halves[d * LANES..(d + 1) * LANES]) {
                    *a += qd * f16::from_bits(h).to_f32();
                }
            }
            for (lane, &dot) in acc.iter().enumerate() {
                let p = block * LANES + lane;
                if p >= self.end {
                    break;
                }
                let offset = ix.offset[p];
                let approx = self.base + offset + dot;
                let eps = self.norm * ix.error[p] + (self.constant + ix.rounding * offset.abs());
                if approx + eps >= threshold {
                    threshold = visit(p, approx - eps, approx + eps);
                }
            }
        }
    }

    /// [`Self::run_portable`] with eight movies per instruction.
    ///
    /// # Safety
    /// The CPU must support AVX2, FMA and F16C.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn run_avx2(&self, visit: &mut impl FnMut(usize, f32, f32) -> f32) {
        use std::arch::x86_64::*;
        let (ix, k) = (self.index, self.index.k);
        let mut threshold = f32::NEG_INFINITY;
        let base = _mm256_set1_ps(self.base);
        let norm = _mm256_set1_ps(self.norm);
        let constant = _mm256_set1_ps(self.constant);
        let rounding = _mm256_set1_ps(ix.rounding);
        let abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
        let q = self.q.as_ptr();
        for block in self.start / LANES..self.end.div_ceil(LANES) {
            let halves = ix.halves.as_ptr().add(block * k * LANES);
            // Four chains: an FMA's latency is four of its issue slots.
            let mut acc = [_mm256_setzero_ps(); 4];
            let mut d = 0;
            while d + 4 <= k {
                for (j, a) in acc.iter_mut().enumerate() {
                    let h = _mm256_cvtph_ps(_mm_loadu_si128(
                        halves.add((d + j) * LANES) as *const __m128i
                    ));
                    *a = _mm256_fmadd_ps(_mm256_set1_ps(*q.add(d + j)), h, *a);
                }
                d += 4;
            }
            while d < k {
                let h = _mm256_cvtph_ps(_mm_loadu_si128(halves.add(d * LANES) as *const __m128i));
                acc[0] = _mm256_fmadd_ps(_mm256_set1_ps(*q.add(d)), h, acc[0]);
                d += 1;
            }
            let dot = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
            let p0 = block * LANES;
            let offset = _mm256_loadu_ps(ix.offset.as_ptr().add(p0));
            let error = _mm256_loadu_ps(ix.error.as_ptr().add(p0));
            let approx = _mm256_add_ps(_mm256_add_ps(base, offset), dot);
            let eps = _mm256_fmadd_ps(
                norm,
                error,
                _mm256_fmadd_ps(rounding, _mm256_and_ps(offset, abs_mask), constant),
            );
            let upper = _mm256_add_ps(approx, eps);
            let mut hits = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_GE_OQ>(
                upper,
                _mm256_set1_ps(threshold),
            )) as u32;
            if hits == 0 {
                continue;
            }
            let lower = _mm256_sub_ps(approx, eps);
            let (mut lo, mut up) = ([0f32; LANES], [0f32; LANES]);
            _mm256_storeu_ps(lo.as_mut_ptr(), lower);
            _mm256_storeu_ps(up.as_mut_ptr(), upper);
            while hits != 0 {
                let lane = hits.trailing_zeros() as usize;
                hits &= hits - 1;
                let p = p0 + lane;
                if p >= self.end {
                    break;
                }
                // The threshold rises as the scan goes: later lanes are tested against it.
                if up[lane] >= threshold {
                    threshold = visit(p, lo[lane], up[lane]);
                }
            }
        }
    }
}

/// The `n` largest lower bounds seen so far, as a min-heap: its least is the threshold.
struct LowerBounds {
    n: usize,
    heap: std::collections::BinaryHeap<std::cmp::Reverse<Bound>>,
}

#[derive(PartialEq, Clone, Copy)]
struct Bound(f32);
impl Eq for Bound {}
impl PartialOrd for Bound {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Bound {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl LowerBounds {
    fn new(n: usize) -> Self {
        LowerBounds {
            n,
            heap: std::collections::BinaryHeap::with_capacity(n.min(4096) + 1),
        }
    }

    fn push(&mut self, lower: f32) {
        if self.heap.len() < self.n {
            self.heap.push(std::cmp::Reverse(Bound(lower)));
        } else if let Some(mut least) = self.heap.peek_mut() {
            if lower > least.0 .0 {
                *least = std::cmp::Reverse(Bound(lower));
            }
        }
    }

    /// −∞ until `n` bounds are in.
    fn threshold(&self) -> f32 {
        if self.heap.len() < self.n {
            f32::NEG_INFINITY
        } else {
            self.heap.peek().map_or(f32::NEG_INFINITY, |b| b.0 .0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::dense::dot;
    use crate::query::topn::top_n;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// Movies × k rows where many are exact copies of others (ties the order must break by
    /// index) and the rest are random, some far below f16's precision apart.
    fn rows(rng: &mut Xoshiro256PlusPlus, items: usize, k: usize) -> (Vec<f32>, Vec<f32>) {
        let mut rows = vec![0f32; items * k];
        let mut offset = vec![0f32; items];
        for i in 0..items {
            if i > 3 && rng.random::<f32>() < 0.3 {
                let j = rng.random_range(0..i);
                rows.copy_within(j * k..(j + 1) * k, i * k);
                offset[i] = offset[j];
                if rng.random::<bool>() {
                    // A near tie: one ulp apart in one coordinate.
                    let c = i * k + rng.random_range(0..k);
                    rows[c] = f32::from_bits(rows[c].to_bits() + 1);
                }
                continue;
            }
            for x in &mut rows[i * k..(i + 1) * k] {
                *x = rng.random::<f32>() * 2.0 - 1.0;
            }
            offset[i] = rng.random::<f32>() * 0.5 - 0.25;
        }
        (rows, offset)
    }

    #[test]
    fn the_scan_gives_the_exact_top_list_with_ties_for_every_instruction_set() {
        // Two threads, so that the long scans take the split path.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        pool.install(scan_matches_brute_force);
    }

    fn scan_matches_brute_force() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        for &(items, k) in &[
            (1, 3),
            (7, 1),
            (8, 8),
            (203, 5),
            (1000, 16),
            (3001, 33),
            (40_001, 4),
        ] {
            let (rows, offset) = rows(&mut rng, items, k);
            let counts: Vec<u32> = (0..items).map(|_| rng.random_range(0..40)).collect();
            let index = ScanIndex::new(&rows, k, &offset, &counts).unwrap();
            for trial in 0..30 {
                let q: Vec<f32> = (0..k)
                    .map(|_| {
                        (rng.random::<f32>() * 2.0 - 1.0) * if trial % 3 == 0 { 50.0 } else { 1.0 }
                    })
                    .collect();
                let base = rng.random::<f32>() * 4.0;
                let exact = |i: usize| base + offset[i] + dot(&q, &rows[i * k..(i + 1) * k]);
                let min_ratings = [0, 1, 10, 39, 40][trial % 5];
                let banned: Vec<bool> = (0..items).map(|_| rng.random::<f32>() < 0.2).collect();
                let pool = [1, 3, 10, 50, items + 5][trial % 5];
                let want = top_n(
                    (0..items)
                        .filter(|&i| counts[i] >= min_ratings && !banned[i])
                        .map(|i| Scored::new(i as u32, exact(i))),
                    pool,
                );
                for isa in Isa::available() {
                    let end = index.prefix(min_ratings);
                    let got = index
                        .top(isa, &q, base, end, pool, |i| !banned[i as usize], exact)
                        .unwrap();
                    let bits = |v: &[Scored]| -> Vec<(u32, u32)> {
                        v.iter().map(|s| (s.item, s.score.to_bits())).collect()
                    };
                    assert_eq!(
                        bits(&got),
                        bits(&want),
                        "{} items {items} k {k} trial {trial}",
                        isa.name()
                    );
                }
            }
        }
    }

    #[test]
    fn rows_or_queries_beyond_the_bound_take_the_exact_path() {
        let (k, offset, counts) = (2, vec![0.0, 0.0], vec![1, 1]);
        assert!(ScanIndex::new(&[1.0, 2.0, 1e6, 0.0], k, &offset, &counts).is_none());
        assert!(ScanIndex::new(&[1.0, f32::NAN, 0.0, 0.0], k, &offset, &counts).is_none());
        assert!(ScanIndex::new(&[1.0, 2.0, 0.0, 0.0], k, &[0.0, f32::INFINITY], &counts).is_none());
        let index = ScanIndex::new(&[1.0, 2.0, 0.5, 0.0], k, &offset, &counts).unwrap();
        let isa = Isa::detected();
        let top = |q: &[f32], base: f32| index.top(isa, q, base, 2, 1, |_| true, |_| 0.0);
        assert!(top(&[f32::NAN, 0.0], 0.0).is_none());
        assert!(top(&[1.0, 0.0], f32::INFINITY).is_none());
        assert!(top(&[1e35, 0.0], 0.0).is_none());
        assert_eq!(top(&[1.0, 0.0], 0.0).unwrap().len(), 1);
    }
}
