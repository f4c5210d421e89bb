//! The first pass of a one-user list: every movie scored from a compressed copy of the rank
//! space — 8-bit codes where the CPU multiplies bytes (AVX-512 VNNI), half floats elsewhere —
//! with a proven bound on each approximate score's error, so that only the movies that could
//! still make the list are scored exactly. The list is the exact one: the same movies, scores
//! and order as scoring every movie in f32. One user's query is a stream over all movie
//! vectors, so a quarter (bytes) or half (f16) of the memory traffic is what makes it fast.
//!
//! Why it is exact. Let s̃ be a movie's approximate score and ε its bound, so that the exact f32
//! score s lies in [s̃ − ε, s̃ + ε]. Let T be the `pool`-th largest lower bound among the allowed
//! movies. Those `pool` movies all score at least T, so the `pool`-th best exact score is at
//! least T, and every movie of the exact list has s ≥ T, hence s̃ + ε ≥ T. Keeping the movies
//! with s̃ + ε ≥ T and ranking them by their exact scores therefore gives the exact list, ties
//! (broken by index) included.
//!
//! The bound. With v the f32 row and h its decoded copy (f16, or σᵥ·v̂ for 8-bit codes v̂ with
//! the row's scale σᵥ), e = ‖v − h‖₂ is measured when the index is built, and
//! |q·v − q·h| ≤ ‖q‖₂·e by Cauchy–Schwarz. For 8-bit codes the query is coded too (q ≈ σ_q·q̂,
//! eq = ‖q − σ_q·q̂‖₂), adding |(q − σ_q q̂)·h| ≤ eq·‖h‖. The integer products are exact; the
//! f32 roundings of both scores — a length-k dot product and two additions — are off by at most
//! (k + 3)·u·(|base| + |offset| + ‖q‖·‖v‖) with u = 2⁻²⁴ (Higham, *Accuracy and Stability*,
//! §3.1), for s and for s̃ alike. [`SLACK`] doubles that again, for the few f32 operations that
//! form the bound itself.
use std::sync::OnceLock;

use half::f16;

use crate::kernels::isa::Isa;
use crate::query::topn::{Scored, TopN};

/// Movies per block: one 8-lane vector of scores.
const LANES: usize = 8;

/// Scans at least this long are split between two threads, by format: a split pays only when
/// each half takes well above the tens of microseconds that waking a second thread can cost.
/// Measured at k = 64 on 62k movies, a whole byte scan takes about 0.1 ms on one core and was
/// no faster split, so bytes split only for catalogs twice that size.
const PARALLEL_POSITIONS_HALF: usize = 32_768;
const PARALLEL_POSITIONS_BYTE: usize = 131_072;

/// The rounding allowance per unit of magnitude and per dimension: 2·2·(k + 3)·u with the
/// k + 3 applied at build time; see the module's comment.
const SLACK: f64 = 4.0 / (1u64 << 24) as f64;

/// How the movie rows are stored for the scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// f16, [block][dim][lane]: one F16C conversion and FMA per dimension of eight movies.
    Half,
    /// Signed 8-bit codes stored biased by 128, [block][dim / 4][lane][4]: one VNNI
    /// instruction multiplies four dimensions of eight movies.
    Byte,
}

impl Format {
    /// Bytes where the CPU has AVX-512 VNNI (with VL), f16 otherwise.
    pub fn best() -> Format {
        if byte_kernel() {
            Format::Byte
        } else {
            Format::Half
        }
    }
}

/// Whether this CPU has the byte kernel's instructions, probed once per process.
fn byte_kernel() -> bool {
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            Isa::detected().has_avx2_fma()
                && std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx512vl")
                && std::is_x86_feature_detected!("avx512vnni")
        }
        #[cfg(not(target_arch = "x86_64"))]
        false
    })
}

#[derive(Debug, Clone)]
enum Rows {
    Half(Vec<u16>),
    Byte {
        /// Dimensions rounded up to whole groups of four (the padding codes are 0).
        groups: usize,
        codes: Vec<u8>,
        /// σᵥ per position.
        scale: Vec<f32>,
        /// ‖σᵥ·v̂‖·(1 + c) per position: what eq multiplies.
        decoded_norm: Vec<f32>,
    },
}

/// A compressed copy of the rank space's movie rows, ordered for the scan.
#[derive(Debug, Clone)]
pub struct ScanIndex {
    k: usize,
    /// Scan position → movie, by training-rating count, most first (ties by index): the movies
    /// a `min_ratings` filter keeps are then a prefix, and the default list never reads the
    /// long tail's rows at all.
    order: Vec<u32>,
    /// The rating count at each position (non-increasing).
    counts: Vec<u32>,
    rows: Rows,
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
    pub fn new(
        rows: &[f32],
        k: usize,
        offset: &[f32],
        counts: &[u32],
        format: Format,
    ) -> Option<ScanIndex> {
        let items = offset.len();
        if k == 0 || items == 0 || rows.len() != items * k || counts.len() != items {
            return None;
        }
        if rows.iter().chain(offset).any(|x| !x.is_finite()) {
            return None;
        }
        let mut order: Vec<u32> = (0..items as u32).collect();
        order.sort_by(|&a, &b| counts[b as usize].cmp(&counts[a as usize]).then(a.cmp(&b)));
        // Bytes need the integer sums exact in f32 (k·127² < 2²⁴) and in i32.
        let format = if k > 1024 { Format::Half } else { format };
        let blocks = items.div_ceil(LANES);
        let groups = k.div_ceil(4);
        let mut stored = match format {
            Format::Half => Rows::Half(vec![0u16; blocks * k * LANES]),
            Format::Byte => Rows::Byte {
                groups,
                codes: vec![128u8; blocks * groups * LANES * 4],
                scale: vec![0f32; blocks * LANES],
                decoded_norm: vec![0f32; blocks * LANES],
            },
        };
        let mut offsets = vec![0f32; blocks * LANES];
        let mut error = vec![0f32; blocks * LANES];
        let rounding = SLACK * (k + 3) as f64;
        let mut magnitude = (0f64, 0f64);
        let mut decoded = vec![0f64; k];
        for (p, &i) in order.iter().enumerate() {
            let i = i as usize;
            let row = &rows[i * k..(i + 1) * k];
            let (block, lane) = (p / LANES, p % LANES);
            match &mut stored {
                Rows::Half(halves) => {
                    for (d, &x) in row.iter().enumerate() {
                        let h = f16::from_f32(x);
                        if !h.is_finite() {
                            return None;
                        }
                        halves[(block * k + d) * LANES + lane] = h.to_bits();
                        decoded[d] = h.to_f64();
                    }
                }
                Rows::Byte {
                    codes,
                    scale,
                    decoded_norm,
                    ..
                } => {
                    let (sigma, coded) = code_bytes(row);
                    for (d, &c) in coded.iter().enumerate() {
                        let at = ((block * groups + d / 4) * LANES + lane) * 4 + d % 4;
                        codes[at] = (c as i16 + 128) as u8;
                        decoded[d] = sigma as f64 * c as f64;
                    }
                    scale[p] = sigma;
                    let norm = decoded.iter().map(|x| x * x).sum::<f64>().sqrt();
                    decoded_norm[p] = (norm * (1.0 + rounding) * (1.0 + 1e-6)) as f32;
                }
            }
            let (mut e2, mut v2) = (0f64, 0f64);
            for (&x, &h) in row.iter().zip(&decoded) {
                e2 += (x as f64 - h) * (x as f64 - h);
                v2 += x as f64 * x as f64;
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
            rows: stored,
            offset: offsets,
            error,
            rounding: rounding as f32,
            magnitude,
        })
    }

    pub fn format(&self) -> Format {
        match self.rows {
            Rows::Half(_) => Format::Half,
            Rows::Byte { .. } => Format::Byte,
        }
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
    /// vector `q` with `base`). `None` when `q` or `base` is not finite or the scores could
    /// overflow: then only the exact scan keeps NaN's and ∞'s places in the order.
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
        let coded = match &self.rows {
            Rows::Half(_) => None,
            Rows::Byte { groups, .. } => Some(CodedQuery::new(q, *groups)),
        };
        let query = Query {
            index: self,
            q,
            coded: coded.as_ref(),
            base,
            norm: norm as f32,
            constant: self.rounding * base.abs(),
        };
        let vector = match self.rows {
            Rows::Half(_) => isa.has_avx2_fma(),
            Rows::Byte { .. } => isa.has_avx2_fma() && byte_kernel(),
        };
        let scan = |start: usize, end: usize| {
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
            query.run(vector, start, end, &mut visit);
            (bounds, candidates)
        };
        let end = end.min(self.order.len());
        // A long scan is split in two at a block boundary, one half per core: the halves' best
        // lower bounds together hold the best of the whole, so the threshold is the same.
        let split = match self.rows {
            Rows::Half(_) => PARALLEL_POSITIONS_HALF,
            Rows::Byte { .. } => PARALLEL_POSITIONS_BYTE,
        };
        let (bounds, candidates) = if end >= split && rayon::current_num_threads() > 1 {
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

/// One query scanned piecewise ([`ScanIndex::prepare`], [`ScanIndex::scan`],
/// [`ScanIndex::finish`]): a batch of users then shares each cache-sized tile of the index,
/// where one-user scans would each stream the whole index from memory.
pub struct Prepared {
    q: Vec<f32>,
    coded: Option<CodedQuery>,
    base: f32,
    norm: f32,
    constant: f32,
    bounds: LowerBounds,
    /// (position, upper bound) of the allowed positions that reached the threshold.
    candidates: Vec<(u32, f32)>,
}

impl ScanIndex {
    /// Whether the byte kernel runs vectorized here: only then does a batch of lists pay for
    /// the first pass over scoring every movie by a blocked f32 product.
    pub fn batch_pays(&self, isa: Isa) -> bool {
        matches!(self.rows, Rows::Byte { .. }) && isa.has_avx2_fma() && byte_kernel()
    }

    /// A query (`q`, `base`) for [`ScanIndex::scan`], keeping the `pool` best lower bounds;
    /// `None` in the cases [`ScanIndex::top`] refuses.
    pub fn prepare(&self, q: &[f32], base: f32, pool: usize) -> Option<Prepared> {
        if q.len() != self.k || !base.is_finite() || q.iter().any(|x| !x.is_finite()) {
            return None;
        }
        let norm = q.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt() * (1.0 + 1e-6);
        if norm * self.magnitude.0 + self.magnitude.1 + base.abs() as f64 > 1e30 {
            return None;
        }
        Some(Prepared {
            q: q.to_vec(),
            coded: match &self.rows {
                Rows::Half(_) => None,
                Rows::Byte { groups, .. } => Some(CodedQuery::new(q, *groups)),
            },
            base,
            norm: norm as f32,
            constant: self.rounding * base.abs(),
            bounds: LowerBounds::new(pool),
            candidates: Vec::new(),
        })
    }

    /// Scans positions [start, end) (start a multiple of 8) for a prepared query, the
    /// threshold carried over from the ranges scanned before.
    pub fn scan(
        &self,
        isa: Isa,
        p: &mut Prepared,
        start: usize,
        end: usize,
        allowed: impl Fn(u32) -> bool,
    ) {
        let query = Query {
            index: self,
            q: &p.q,
            coded: p.coded.as_ref(),
            base: p.base,
            norm: p.norm,
            constant: p.constant,
        };
        let vector = match self.rows {
            Rows::Half(_) => isa.has_avx2_fma(),
            Rows::Byte { .. } => isa.has_avx2_fma() && byte_kernel(),
        };
        let (bounds, candidates) = (&mut p.bounds, &mut p.candidates);
        let end = end.min(self.order.len());
        let mut visit = |pos: usize, lower: f32, upper: f32| -> f32 {
            // A range starts at −∞ inside the kernel; what it has already ruled out stays out.
            let threshold = bounds.threshold();
            if upper >= threshold && allowed(self.order[pos]) {
                bounds.push(lower);
                candidates.push((pos as u32, upper));
            }
            bounds.threshold()
        };
        query.run(vector, start, end, &mut visit);
    }

    /// The positions that may hold the query's `pool` best scores once every range is
    /// scanned (ascending): the exact list is the best `pool` of their exact scores.
    pub fn finish(&self, p: Prepared) -> Vec<u32> {
        let threshold = p.bounds.threshold();
        p.candidates
            .into_iter()
            .filter(|&(_, upper)| upper >= threshold)
            .map(|(pos, _)| pos)
            .collect()
    }
}

/// Signed 8-bit codes of a row and their scale: x ≈ σ·c with |c| ≤ 127 (σ = 1 for a zero row).
fn code_bytes(row: &[f32]) -> (f32, Vec<i8>) {
    let max = row.iter().fold(0f32, |m, &x| m.max(x.abs()));
    let sigma = if max > 0.0 { max / 127.0 } else { 1.0 };
    let codes = row
        .iter()
        .map(|&x| (x / sigma).round().clamp(-127.0, 127.0) as i8)
        .collect();
    (sigma, codes)
}

/// The query in 8-bit codes, for the byte kernels.
struct CodedQuery {
    /// Four codes per group, packed little-endian as the VNNI instruction reads them.
    packed: Vec<i32>,
    codes: Vec<i8>,
    sigma: f32,
    /// 128·Σ q̂: the rows' codes are stored biased by 128.
    bias: i32,
    /// ‖q − σ_q·q̂‖₂, rounded up.
    error: f32,
}

impl CodedQuery {
    fn new(q: &[f32], groups: usize) -> CodedQuery {
        let (sigma, mut codes) = code_bytes(q);
        let error = q
            .iter()
            .zip(&codes)
            .map(|(&x, &c)| (x as f64 - sigma as f64 * c as f64).powi(2))
            .sum::<f64>()
            .sqrt();
        codes.resize(groups * 4, 0);
        let packed = codes
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0] as u8, c[1] as u8, c[2] as u8, c[3] as u8]))
            .collect();
        CodedQuery {
            packed,
            bias: 128 * codes.iter().map(|&c| c as i32).sum::<i32>(),
            codes,
            sigma,
            error: (error * (1.0 + 1e-6)) as f32,
        }
    }
}

/// One query against the index.
struct Query<'a> {
    index: &'a ScanIndex,
    q: &'a [f32],
    coded: Option<&'a CodedQuery>,
    base: f32,
    norm: f32,
    constant: f32,
}

impl Query<'_> {
    /// Calls `visit(position, lower, upper)` for each position in [start, end) (start a
    /// multiple of [`LANES`]) whose upper bound reaches the threshold `visit` last returned
    /// (−∞ at first).
    fn run(
        &self,
        vector: bool,
        start: usize,
        end: usize,
        visit: &mut impl FnMut(usize, f32, f32) -> f32,
    ) {
        #[cfg(target_arch = "x86_64")]
        if vector {
            // SAFETY: `vector` is only set for a CPU with the kernel's instructions (AVX2, FMA
            // and F16C for f16; AVX-512 F, VL and VNNI as well for bytes).
            unsafe {
                match self.index.rows {
                    Rows::Half(_) => self.run_half_avx2(start, end, visit),
                    Rows::Byte { .. } => self.run_byte_vnni(start, end, visit),
                }
            }
            return;
        }
        let _ = vector;
        self.run_portable(start, end, visit);
    }

    fn run_portable(
        &self,
        start: usize,
        end: usize,
        visit: &mut impl FnMut(usize, f32, f32) -> f32,
    ) {
        let (ix, k) = (self.index, self.index.k);
        let mut threshold = f32::NEG_INFINITY;
        let mut dots = [0f32; LANES];
        let mut extra = [0f32; LANES];
        for block in start / LANES..end.div_ceil(LANES) {
            match (&ix.rows, self.coded) {
                (Rows::Half(halves), _) => {
                    dots.fill(0.0);
                    let halves = &halves[block * k * LANES..(block + 1) * k * LANES];
                    for (d, &qd) in self.q.iter().enumerate() {
                        for (a, &h) in dots.iter_mut().zip(&halves[d * LANES..(d + 1) * LANES]) {
                            *a += qd * f16::from_bits(h).to_f32();
                        }
                    }
                }
                (
                    Rows::Byte {
                        groups,
                        codes,
                        scale,
                        decoded_norm,
                    },
                    Some(cq),
                ) => {
                    for lane in 0..LANES {
                        let mut acc = 0i32;
                        for g in 0..*groups {
                            for t in 0..4 {
                                let c = codes[((block * groups + g) * LANES + lane) * 4 + t];
                                acc += c as i32 * cq.codes[g * 4 + t] as i32;
                            }
                        }
                        let p = block * LANES + lane;
                        dots[lane] = (acc - cq.bias) as f32 * (cq.sigma * scale[p]);
                        extra[lane] = cq.error * decoded_norm[p];
                    }
                }
                (Rows::Byte { .. }, None) => {
                    unreachable!("a byte index is always given a coded query")
                }
            }
            for lane in 0..LANES {
                let p = block * LANES + lane;
                if p >= end {
                    break;
                }
                let offset = ix.offset[p];
                let approx = self.base + offset + dots[lane];
                let eps = self.norm * ix.error[p]
                    + extra[lane]
                    + (self.constant + ix.rounding * offset.abs());
                if approx + eps >= threshold {
                    threshold = visit(p, approx - eps, approx + eps);
                }
            }
        }
    }

    /// The f16 kernel: eight movies per instruction.
    ///
    /// # Safety
    /// The CPU must support AVX2, FMA and F16C.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn run_half_avx2(
        &self,
        start: usize,
        end: usize,
        visit: &mut impl FnMut(usize, f32, f32) -> f32,
    ) {
        use std::arch::x86_64::*;
        let Rows::Half(halves) = &self.index.rows else {
            return;
        };
        let k = self.index.k;
        let q = self.q.as_ptr();
        let zero = _mm256_setzero_ps();
        let mut threshold = f32::NEG_INFINITY;
        for block in start / LANES..end.div_ceil(LANES) {
            let halves = halves.as_ptr().add(block * k * LANES);
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
            threshold = self.bound_block(block, end, dot, zero, threshold, visit);
        }
    }

    /// The byte kernel: four dimensions of eight movies per instruction, in exact integers.
    ///
    /// # Safety
    /// The CPU must support AVX2, FMA, AVX-512 F, VL and VNNI.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma,avx512f,avx512vl,avx512vnni")]
    unsafe fn run_byte_vnni(
        &self,
        start: usize,
        end: usize,
        visit: &mut impl FnMut(usize, f32, f32) -> f32,
    ) {
        use std::arch::x86_64::*;
        // k = 32 and k = 64, the common sizes, get kernels with the query held in registers.
        if let Rows::Byte { groups, .. } = &self.index.rows {
            match *groups {
                8 => return self.run_byte_vnni_fixed::<8>(start, end, visit),
                16 => return self.run_byte_vnni_fixed::<16>(start, end, visit),
                _ => {}
            }
        }
        let (
            Rows::Byte {
                groups,
                codes,
                scale,
                decoded_norm,
            },
            Some(cq),
        ) = (&self.index.rows, self.coded)
        else {
            return;
        };
        let groups = *groups;
        let bias = _mm256_set1_epi32(cq.bias);
        let sigma = _mm256_set1_ps(cq.sigma);
        let qerror = _mm256_set1_ps(cq.error);
        let mut threshold = f32::NEG_INFINITY;
        for block in start / LANES..end.div_ceil(LANES) {
            let rows = codes.as_ptr().add(block * groups * LANES * 4);
            let mut acc = [_mm256_setzero_si256(); 4];
            let mut g = 0;
            while g + 4 <= groups {
                for (j, a) in acc.iter_mut().enumerate() {
                    let v = _mm256_loadu_si256(rows.add((g + j) * LANES * 4) as *const __m256i);
                    *a = _mm256_dpbusd_epi32(*a, v, _mm256_set1_epi32(cq.packed[g + j]));
                }
                g += 4;
            }
            while g < groups {
                let v = _mm256_loadu_si256(rows.add(g * LANES * 4) as *const __m256i);
                acc[0] = _mm256_dpbusd_epi32(acc[0], v, _mm256_set1_epi32(cq.packed[g]));
                g += 1;
            }
            let sum = _mm256_add_epi32(
                _mm256_add_epi32(acc[0], acc[1]),
                _mm256_add_epi32(acc[2], acc[3]),
            );
            let p0 = block * LANES;
            let product = _mm256_cvtepi32_ps(_mm256_sub_epi32(sum, bias));
            let dot = _mm256_mul_ps(
                product,
                _mm256_mul_ps(sigma, _mm256_loadu_ps(scale.as_ptr().add(p0))),
            );
            let extra = _mm256_mul_ps(qerror, _mm256_loadu_ps(decoded_norm.as_ptr().add(p0)));
            threshold = self.bound_block(block, end, dot, extra, threshold, visit);
        }
    }

    /// [`Self::run_byte_vnni`] for `G` groups of four dimensions: the query's G broadcast
    /// vectors live in registers (AVX-512 VL gives 32), the per-position arrays are read
    /// through pointers taken once, and no index is bounds-checked in the loop, so a block
    /// costs its loads and VNNI instructions and little else. The arithmetic is the same, in
    /// the same order, as the general kernel's.
    ///
    /// # Safety
    /// As [`Self::run_byte_vnni`]; the index's rows must have `G` groups.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma,avx512f,avx512vl,avx512vnni")]
    unsafe fn run_byte_vnni_fixed<const G: usize>(
        &self,
        start: usize,
        end: usize,
        visit: &mut impl FnMut(usize, f32, f32) -> f32,
    ) {
        use std::arch::x86_64::*;
        let (
            Rows::Byte {
                groups,
                codes,
                scale,
                decoded_norm,
            },
            Some(cq),
        ) = (&self.index.rows, self.coded)
        else {
            return;
        };
        if *groups != G || cq.packed.len() < G || !G.is_multiple_of(4) {
            return;
        }
        let blocks = end.div_ceil(LANES);
        // The arrays cover whole blocks (ScanIndex::new pads them), so every read below is in
        // bounds for the blocks of [start, end).
        debug_assert!(codes.len() >= blocks * G * LANES * 4);
        debug_assert!(scale.len() >= blocks * LANES && decoded_norm.len() >= blocks * LANES);
        let mut qv = [_mm256_setzero_si256(); G];
        for (v, &p) in qv.iter_mut().zip(&cq.packed) {
            *v = _mm256_set1_epi32(p);
        }
        let bias = _mm256_set1_epi32(cq.bias);
        let sigma = _mm256_set1_ps(cq.sigma);
        let qerror = _mm256_set1_ps(cq.error);
        let (codes, scale, norms) = (codes.as_ptr(), scale.as_ptr(), decoded_norm.as_ptr());
        let ix = self.index;
        let (offsets, errors) = (ix.offset.as_ptr(), ix.error.as_ptr());
        debug_assert!(ix.offset.len() >= blocks * LANES && ix.error.len() >= blocks * LANES);
        let abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
        let (base, norm) = (_mm256_set1_ps(self.base), _mm256_set1_ps(self.norm));
        let (rounding, constant) = (_mm256_set1_ps(ix.rounding), _mm256_set1_ps(self.constant));
        let mut threshold = f32::NEG_INFINITY;
        let mut limit = _mm256_set1_ps(threshold);
        for block in start / LANES..blocks {
            let rows = codes.add(block * G * LANES * 4);
            let mut acc = [_mm256_setzero_si256(); 4];
            let mut g = 0;
            while g < G {
                for (j, a) in acc.iter_mut().enumerate() {
                    let v = _mm256_loadu_si256(rows.add((g + j) * LANES * 4) as *const __m256i);
                    *a = _mm256_dpbusd_epi32(*a, v, qv[g + j]);
                }
                g += 4;
            }
            let sum = _mm256_add_epi32(
                _mm256_add_epi32(acc[0], acc[1]),
                _mm256_add_epi32(acc[2], acc[3]),
            );
            let p0 = block * LANES;
            let product = _mm256_cvtepi32_ps(_mm256_sub_epi32(sum, bias));
            let dot = _mm256_mul_ps(
                product,
                _mm256_mul_ps(sigma, _mm256_loadu_ps(scale.add(p0))),
            );
            let extra = _mm256_mul_ps(qerror, _mm256_loadu_ps(norms.add(p0)));
            // bound_block's arithmetic, with its constants hoisted out of the loop.
            let offset = _mm256_loadu_ps(offsets.add(p0));
            let error = _mm256_loadu_ps(errors.add(p0));
            let approx = _mm256_add_ps(_mm256_add_ps(base, offset), dot);
            let eps = _mm256_add_ps(
                _mm256_fmadd_ps(norm, error, extra),
                _mm256_fmadd_ps(rounding, _mm256_and_ps(offset, abs_mask), constant),
            );
            let upper = _mm256_add_ps(approx, eps);
            let hits = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_GE_OQ>(upper, limit)) as u32;
            if hits != 0 {
                threshold = visit_lanes(
                    p0,
                    end,
                    hits,
                    _mm256_sub_ps(approx, eps),
                    upper,
                    threshold,
                    visit,
                );
                limit = _mm256_set1_ps(threshold);
            }
        }
    }

    /// Bounds a block's eight approximate dot products and visits the lanes that reach the
    /// threshold; returns the threshold after them.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn bound_block(
        &self,
        block: usize,
        end: usize,
        dot: std::arch::x86_64::__m256,
        extra: std::arch::x86_64::__m256,
        threshold: f32,
        visit: &mut impl FnMut(usize, f32, f32) -> f32,
    ) -> f32 {
        use std::arch::x86_64::*;
        let ix = self.index;
        let p0 = block * LANES;
        let offset = _mm256_loadu_ps(ix.offset.as_ptr().add(p0));
        let error = _mm256_loadu_ps(ix.error.as_ptr().add(p0));
        let abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
        let approx = _mm256_add_ps(_mm256_add_ps(_mm256_set1_ps(self.base), offset), dot);
        let eps = _mm256_add_ps(
            _mm256_fmadd_ps(_mm256_set1_ps(self.norm), error, extra),
            _mm256_fmadd_ps(
                _mm256_set1_ps(ix.rounding),
                _mm256_and_ps(offset, abs_mask),
                _mm256_set1_ps(self.constant),
            ),
        );
        let upper = _mm256_add_ps(approx, eps);
        let hits = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_GE_OQ>(
            upper,
            _mm256_set1_ps(threshold),
        )) as u32;
        if hits == 0 {
            return threshold;
        }
        visit_lanes(
            p0,
            end,
            hits,
            _mm256_sub_ps(approx, eps),
            upper,
            threshold,
            visit,
        )
    }
}

/// The slow path of a block: visits the lanes of `hits` whose upper bound still reaches the
/// threshold, which rises as they are visited; returns the threshold after them. Kept out of
/// line so that the scan loop around it stays small.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline(never)]
#[cold]
unsafe fn visit_lanes(
    p0: usize,
    end: usize,
    mut hits: u32,
    lower: std::arch::x86_64::__m256,
    upper: std::arch::x86_64::__m256,
    mut threshold: f32,
    visit: &mut impl FnMut(usize, f32, f32) -> f32,
) -> f32 {
    use std::arch::x86_64::*;
    let (mut lo, mut up) = ([0f32; LANES], [0f32; LANES]);
    _mm256_storeu_ps(lo.as_mut_ptr(), lower);
    _mm256_storeu_ps(up.as_mut_ptr(), upper);
    while hits != 0 {
        let lane = hits.trailing_zeros() as usize;
        hits &= hits - 1;
        let p = p0 + lane;
        if p >= end {
            break;
        }
        // The threshold rises as the scan goes: later lanes are tested against it.
        if up[lane] >= threshold {
            threshold = visit(p, lo[lane], up[lane]);
        }
    }
    threshold
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
                match rng.random_range(0..3) {
                    // A near tie: one ulp apart in one coordinate.
                    0 => {
                        let c = i * k + rng.random_range(0..k);
                        rows[c] = f32::from_bits(rows[c].to_bits() + 1);
                    }
                    // A neighbour closer than the codes can tell apart, so that the list's
                    // edge falls among approximate scores within each other's bounds.
                    1 => {
                        for x in &mut rows[i * k..(i + 1) * k] {
                            *x += (rng.random::<f32>() - 0.5) * 1e-3;
                        }
                    }
                    _ => {}
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
            (2000, 32),
            (1500, 64),
            (600, 61),
            (3001, 33),
            (140_001, 2),
        ] {
            let (rows, offset) = rows(&mut rng, items, k);
            let counts: Vec<u32> = (0..items).map(|_| rng.random_range(0..40)).collect();
            let indexes = [Format::Half, Format::Byte]
                .map(|f| ScanIndex::new(&rows, k, &offset, &counts, f).unwrap());
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
                for (index, isa) in indexes
                    .iter()
                    .flat_map(|ix| Isa::available().into_iter().map(move |isa| (ix, isa)))
                {
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
        let new =
            |rows: &[f32], offset: &[f32], format| ScanIndex::new(rows, k, offset, &counts, format);
        // f16 ends at 65504; bytes scale each row.
        assert!(new(&[1.0, 2.0, 1e6, 0.0], &offset, Format::Half).is_none());
        assert!(new(&[1.0, 2.0, 1e6, 0.0], &offset, Format::Byte).is_some());
        for format in [Format::Half, Format::Byte] {
            assert!(new(&[1.0, f32::NAN, 0.0, 0.0], &offset, format).is_none());
            assert!(new(&[1.0, 2.0, 0.0, 0.0], &[0.0, f32::INFINITY], format).is_none());
        }
        let index = new(&[1.0, 2.0, 0.5, 0.0], &offset, Format::Byte).unwrap();
        let isa = Isa::detected();
        let top = |q: &[f32], base: f32| index.top(isa, q, base, 2, 1, |_| true, |_| 0.0);
        assert!(top(&[f32::NAN, 0.0], 0.0).is_none());
        assert!(top(&[1.0, 0.0], f32::INFINITY).is_none());
        assert!(top(&[1e35, 0.0], 0.0).is_none());
        assert_eq!(top(&[1.0, 0.0], 0.0).unwrap().len(), 1);
    }
}
