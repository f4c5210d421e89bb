//! Kernels of the implicit model's conjugate-gradient row solves, on a row's neighbour vectors
//! gathered into a block (`rows` × `kp`, row-major, `kp` a multiple of 8, zero padding).
//!
//! On x86-64 with AVX2 + FMA, 8 block rows are processed at once: their 8 dot products share one
//! horizontal reduction, and the rank-8 update of the result stays in registers. Either path
//! adds in a fixed order, so results do not depend on the thread count.
#[cfg(target_arch = "x86_64")]
use super::dense::hsum8;
use super::isa::Isa;
use crate::data::sparse::RowValues;

/// The per-row weights of [`weighted_gram_apply`]: w_r, and a_r (zero when `offsets` is None).
#[derive(Clone, Copy)]
pub struct RowWeights<'a> {
    pub w: &'a [f32],
    pub offsets: Option<&'a [f32]>,
}

/// y += Σ_r (a_r + w_r (g_r · p)) g_r over the block rows g_r, with a_r = 0 when `offsets` is
/// None: the confidence part of A·p, or with a = b's weights and w negated, b − (A − dense)·p in
/// the same single pass.
pub fn weighted_gram_apply(
    isa: Isa,
    block: &[f32],
    rows: usize,
    kp: usize,
    weights: RowWeights<'_>,
    p: &[f32],
    y: &mut [f32],
) {
    let RowWeights { w, offsets } = weights;
    assert!(kp.is_multiple_of(8) && block.len() >= rows.div_ceil(8) * 8 * kp);
    assert!(w.len() >= rows.div_ceil(8) * 8 && p.len() >= kp && y.len() >= kp);
    assert!(offsets.is_none_or(|a| a.len() >= rows.div_ceil(8) * 8));
    #[cfg(target_arch = "x86_64")]
    {
        if isa.has_avx512() {
            // SAFETY: the token proves AVX-512F, AVX2 + FMA; the asserts bound every access (the
            // block and the weights are padded to whole groups of 8 rows).
            unsafe { weighted_gram_apply_avx512(block, rows, kp, w, offsets, p, y) };
            return;
        }
        if isa.has_avx2_fma() {
            // SAFETY: the token proves AVX2 + FMA; the asserts bound every access (the block and the
            // weights are padded to whole groups of 8 rows).
            unsafe { weighted_gram_apply_avx2(block, rows, kp, w, offsets, p, y) };
            return;
        }
    }
    for (r, (g, &wr)) in block.chunks_exact(kp).take(rows).zip(w).enumerate() {
        let s = offsets.map_or(0.0, |a| a[r]) + wr * super::dense::dot(g, &p[..kp]);
        super::dense::axpy(s, g, &mut y[..kp]);
    }
}

/// y = M·p for a symmetric kp × kp matrix M (row-major, zero padding): y = Σ_j p_j M[j], so every
/// step is a broadcast and a row of FMAs into register accumulators.
pub fn symmetric_matvec(isa: Isa, m: &[f32], kp: usize, p: &[f32], y: &mut [f32]) {
    assert!(kp.is_multiple_of(8) && m.len() >= kp * kp && p.len() >= kp && y.len() >= kp);
    #[cfg(target_arch = "x86_64")]
    {
        if isa.has_avx2_fma() {
            // SAFETY: the token proves AVX2 + FMA; the assert bounds every access.
            unsafe { symmetric_matvec_avx2(m, kp, p, y) };
            return;
        }
    }
    y[..kp].fill(0.0);
    for (row, &pj) in m.chunks_exact(kp).take(kp).zip(p) {
        super::dense::axpy(pj, row, &mut y[..kp]);
    }
}

/// # Safety
/// The CPU must support AVX2 and FMA (the caller holds an [`Isa`](super::isa::Isa) token for them);
/// `block` holds `rows` rounded up to 8 rows of `kp` floats (zero padding), `w` and `offsets` as
/// many weights, `p` and `y` at least `kp` floats, `kp` a multiple of 8.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn weighted_gram_apply_avx2(
    block: &[f32],
    rows: usize,
    kp: usize,
    w: &[f32],
    offsets: Option<&[f32]>,
    p: &[f32],
    y: &mut [f32],
) {
    weighted_gram_apply_body::<false>(block, rows, kp, w, offsets, p, y)
}

/// [`weighted_gram_apply_avx2`] with the rank-8 update on 16 lanes: the same bits.
///
/// # Safety
/// As [`weighted_gram_apply_avx2`], and the CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn weighted_gram_apply_avx512(
    block: &[f32],
    rows: usize,
    kp: usize,
    w: &[f32],
    offsets: Option<&[f32]>,
    p: &[f32],
    y: &mut [f32],
) {
    weighted_gram_apply_body::<true>(block, rows, kp, w, offsets, p, y)
}

/// The body of both: `WIDE` takes the 16-lane rank-8 update (inlined only into AVX-512 code).
///
/// # Safety
/// As [`weighted_gram_apply_avx2`], compiled into code with the features the body uses.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn weighted_gram_apply_body<const WIDE: bool>(
    block: &[f32],
    rows: usize,
    kp: usize,
    w: &[f32],
    offsets: Option<&[f32]>,
    p: &[f32],
    y: &mut [f32],
) {
    use std::arch::x86_64::*;
    let b = block.as_ptr();
    let pp = p.as_ptr();
    let yp = y.as_mut_ptr();
    let chunks = kp / 8;
    let mut s = [0f32; 8];
    for g0 in (0..rows).step_by(8) {
        let rp = b.add(g0 * kp);
        // Eight dot products g_r · p, one accumulator each.
        let mut acc = [_mm256_setzero_ps(); 8];
        for c in 0..chunks {
            let pc = _mm256_loadu_ps(pp.add(c * 8));
            for (r, a) in acc.iter_mut().enumerate() {
                *a = _mm256_fmadd_ps(_mm256_loadu_ps(rp.add(r * kp + c * 8)), pc, *a);
            }
        }
        let dots = hsum8(acc);
        let mut coef = _mm256_mul_ps(dots, _mm256_loadu_ps(w.as_ptr().add(g0)));
        if let Some(a) = offsets {
            coef = _mm256_add_ps(coef, _mm256_loadu_ps(a.as_ptr().add(g0)));
        }
        _mm256_storeu_ps(s.as_mut_ptr(), coef);
        // Padding rows are zero, so a whole group of 8 is always safe to add.
        let rows: [*const f32; 8] = std::array::from_fn(|r| rp.add(r * kp));
        match WIDE {
            true => rank8_update_wide(&rows, &s, yp, kp),
            false => rank8_update(&rows, &s, yp, kp),
        }
    }
}

/// # Safety
/// The CPU must support AVX2 and FMA (the caller holds an [`Isa`](super::isa::Isa) token for them); `m`
/// holds `kp × kp` floats, `p` and `y` at least `kp`, `kp` a multiple of 8.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn symmetric_matvec_avx2(m: &[f32], kp: usize, p: &[f32], y: &mut [f32]) {
    macro_rules! dispatch {
        ($c0:expr, $($w:literal)*) => {
            match (kp / 8 - $c0).min(8) {
                $($w => matvec_columns_avx2::<$w>(m, kp, p, y, $c0),)*
                _ => unreachable!(),
            }
        };
    }
    let mut c0 = 0;
    while c0 < kp / 8 {
        let width = (kp / 8 - c0).min(8);
        dispatch!(c0, 1 2 3 4 5 6 7 8);
        c0 += width;
    }
}

/// Columns 8·c0 .. 8·(c0 + W) of y = M·p, W ≤ 8 register accumulators.
///
/// # Safety
/// The CPU must support AVX2 and FMA (the caller holds an [`Isa`](super::isa::Isa) token for them); as
/// [`symmetric_matvec_avx2`], and columns `8·c0 .. 8·(c0 + W)` lie within `kp`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn matvec_columns_avx2<const W: usize>(
    m: &[f32],
    kp: usize,
    p: &[f32],
    y: &mut [f32],
    c0: usize,
) {
    use std::arch::x86_64::*;
    let mp = m.as_ptr().add(c0 * 8);
    let mut acc = [_mm256_setzero_ps(); W];
    for (j, &pj) in p[..kp].iter().enumerate() {
        let bj = _mm256_set1_ps(pj);
        let row = mp.add(j * kp);
        for (c, a) in acc.iter_mut().enumerate() {
            *a = _mm256_fmadd_ps(bj, _mm256_loadu_ps(row.add(c * 8)), *a);
        }
    }
    for (c, a) in acc.iter().enumerate() {
        _mm256_storeu_ps(y.as_mut_ptr().add((c0 + c) * 8), *a);
    }
}

/// How a lockstep pass weighs neighbour j with rating r and d = g_j · p: w = λ α r, and
/// coef = λ (1 + α r) − w d for the residual (b − (A − dense)·p), w d for a product.
#[derive(Clone, Copy)]
pub struct PassWeights {
    pub lambda: f32,
    pub alpha: f32,
    pub residual: bool,
}

impl PassWeights {
    #[inline(always)]
    fn coef(self, r: f32, d: f32) -> f32 {
        let w = self.lambda * self.alpha * r;
        match self.residual {
            true => self.lambda + w - w * d,
            false => w * d,
        }
    }
}

/// The rows a lockstep pass reads: row j is `m[(cols[j] − first)·kl ..][..kl]` of a matrix `kl`
/// floats wide (zero padding), the tile of neighbour vectors the pass works on.
#[derive(Clone, Copy)]
pub struct IndexedRows<'a> {
    pub m: &'a [f32],
    pub kl: usize,
    pub cols: &'a [u32],
    pub first: u32,
}

/// The lockstep CG passes' kernel ([`super::lockstep`]): y += Σ_j coef_j · g_j over the rows
/// g_j = m[cols_j − first] of a kl-wide matrix (zero padding), coef_j from [`PassWeights`].
pub fn indexed_apply(
    isa: Isa,
    rows: IndexedRows<'_>,
    ratings: RowValues<'_>,
    weights: PassWeights,
    p: &[f32],
    y: &mut [f32],
) {
    let IndexedRows { m, kl, cols, first } = rows;
    assert!(kl.is_multiple_of(8) && p.len() >= kl && y.len() >= kl);
    assert_eq!(cols.len(), ratings.len());
    // Every listed row must lie inside `m` (the AVX2 path relies on it).
    assert!(cols
        .iter()
        .all(|&c| c >= first && ((c - first) as usize + 1) * kl <= m.len()));
    #[cfg(target_arch = "x86_64")]
    {
        if isa.has_avx512() {
            // SAFETY: the token proves AVX-512F, AVX2 + FMA; the asserts bound every access.
            unsafe { indexed_apply_avx512(rows, ratings, weights, p, y) };
            return;
        }
        if isa.has_avx2_fma() {
            // SAFETY: the token proves AVX2 + FMA; the asserts bound every access.
            unsafe { indexed_apply_avx2(rows, ratings, weights, p, y) };
            return;
        }
    }
    for (&c, r) in cols.iter().zip(ratings) {
        let g = &m[(c - first) as usize * kl..((c - first) as usize + 1) * kl];
        let d = super::dense::dot(g, &p[..kl]);
        super::dense::axpy(weights.coef(r, d), g, &mut y[..kl]);
    }
}

/// Groups of 8 rows: their 8 dot products share one horizontal reduction, and each lane block
/// of y takes all 8 updates in registers. A short last group repeats its first row with a zero
/// coefficient, so every group runs the same straight-line code.
///
/// # Safety
/// The CPU must support AVX2 and FMA (the caller holds an [`Isa`](super::isa::Isa) token for them);
/// every `cols[j] − first` names a whole row of `kl` floats inside `m`, `ratings` is as long as
/// `cols`, `p` and `y` hold at least `kl` floats, `kl` a multiple of 8.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn indexed_apply_avx2(
    rows: IndexedRows<'_>,
    ratings: RowValues<'_>,
    weights: PassWeights,
    p: &[f32],
    y: &mut [f32],
) {
    indexed_apply_body::<false>(rows, ratings, weights, p, y)
}

/// [`indexed_apply_avx2`] with the rank-8 update on 16 lanes: the same bits.
///
/// # Safety
/// As [`indexed_apply_avx2`], and the CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn indexed_apply_avx512(
    rows: IndexedRows<'_>,
    ratings: RowValues<'_>,
    weights: PassWeights,
    p: &[f32],
    y: &mut [f32],
) {
    indexed_apply_body::<true>(rows, ratings, weights, p, y)
}

/// The body of both (`WIDE` as in [`weighted_gram_apply_body`]).
///
/// # Safety
/// As [`indexed_apply_avx2`], compiled into code with the features the body uses.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn indexed_apply_body<const WIDE: bool>(
    IndexedRows { m, kl, cols, first }: IndexedRows<'_>,
    ratings: RowValues<'_>,
    weights: PassWeights,
    p: &[f32],
    y: &mut [f32],
) {
    use std::arch::x86_64::*;
    let base = m.as_ptr();
    let (pp, yp) = (p.as_ptr(), y.as_mut_ptr());
    let lambda = _mm256_set1_ps(weights.lambda);
    let lambda_alpha = _mm256_set1_ps(weights.lambda * weights.alpha);
    let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    let mut coef = [0f32; 8];
    for (g, gc) in cols.chunks(8).enumerate() {
        let n = gc.len();
        let mut rp = [base.add((gc[0] - first) as usize * kl); 8];
        let mut r8 = [0f32; 8];
        for j in 0..n {
            rp[j] = base.add((gc[j] - first) as usize * kl);
            r8[j] = ratings.get(g * 8 + j);
        }
        let mut acc = [_mm256_setzero_ps(); 8];
        for c in (0..kl).step_by(8) {
            let pc = _mm256_loadu_ps(pp.add(c));
            for r in 0..8 {
                acc[r] = _mm256_fmadd_ps(_mm256_loadu_ps(rp[r].add(c)), pc, acc[r]);
            }
        }
        let d = hsum8(acc);
        let w = _mm256_mul_ps(lambda_alpha, _mm256_loadu_ps(r8.as_ptr()));
        let wd = _mm256_mul_ps(w, d);
        let value = match weights.residual {
            true => _mm256_sub_ps(_mm256_add_ps(lambda, w), wd),
            false => wd,
        };
        // Lanes past the group's end get a zero coefficient.
        let valid = _mm256_cmpgt_epi32(_mm256_set1_epi32(n as i32), lanes);
        _mm256_storeu_ps(
            coef.as_mut_ptr(),
            _mm256_and_ps(value, _mm256_castsi256_ps(valid)),
        );
        match WIDE {
            true => rank8_update_wide(&rp, &coef, yp, kl),
            false => rank8_update(&rp, &coef, yp, kl),
        }
    }
}

/// Defines a rank-8 update y += Σ_r s_r · rows_r over 8 rows of `kl` floats for one vector
/// width: up to 8 vectors of y's columns stay in registers while the 8 rows stream past, so the
/// FMAs into different columns are independent, and each element still adds its rows in order
/// 0..8, as a column-at-a-time loop would: the widths give the same bits. Columns past the last
/// whole vector (`kl` a multiple of 8 but not of `$lanes`) take one 8-lane chunk.
macro_rules! rank8_update_body {
    ($(#[$doc:meta])* $update:ident, $columns:ident, $lanes:literal, $vec:ident, $load:ident,
     $store:ident, $set1:ident, $fmadd:ident) => {
        $(#[$doc])*
        #[cfg(target_arch = "x86_64")]
        #[inline(always)]
        unsafe fn $update(rows: &[*const f32; 8], s: &[f32; 8], y: *mut f32, kl: usize) {
            let chunks = kl / $lanes;
            let mut c0 = 0;
            while c0 < chunks {
                let width = (chunks - c0).min(8);
                match width {
                    8 => $columns::<8>(rows, s, y, c0),
                    7 => $columns::<7>(rows, s, y, c0),
                    6 => $columns::<6>(rows, s, y, c0),
                    5 => $columns::<5>(rows, s, y, c0),
                    4 => $columns::<4>(rows, s, y, c0),
                    3 => $columns::<3>(rows, s, y, c0),
                    2 => $columns::<2>(rows, s, y, c0),
                    _ => $columns::<1>(rows, s, y, c0),
                }
                c0 += width;
            }
            if !kl.is_multiple_of($lanes) {
                rank8_columns::<1>(rows, s, y, kl / 8 - 1);
            }
        }

        /// Columns `$lanes`·c0 .. `$lanes`·(c0 + W) of the update, W ≤ 8 register accumulators.
        ///
        /// # Safety
        /// As the update; those columns lie within each row and `y`.
        #[cfg(target_arch = "x86_64")]
        #[inline(always)]
        unsafe fn $columns<const W: usize>(
            rows: &[*const f32; 8],
            s: &[f32; 8],
            y: *mut f32,
            c0: usize,
        ) {
            use std::arch::x86_64::*;
            let y = y.add(c0 * $lanes);
            let mut acc: [$vec; W] = std::array::from_fn(|c| $load(y.add(c * $lanes)));
            for (row, &sr) in rows.iter().zip(s) {
                let sr = $set1(sr);
                let row = row.add(c0 * $lanes);
                for (c, a) in acc.iter_mut().enumerate() {
                    *a = $fmadd(sr, $load(row.add(c * $lanes)), *a);
                }
            }
            for (c, a) in acc.iter().enumerate() {
                $store(y.add(c * $lanes), *a);
            }
        }
    };
}

rank8_update_body!(
    /// The rank-8 update on 8 lanes.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA (the caller holds an [`Isa`](super::isa::Isa) token for
    /// them; it is inlined only into AVX2 code); each of the 8 row pointers and `y` point to `kl`
    /// valid floats, `kl` a multiple of 8.
    rank8_update, rank8_columns, 8, __m256, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_set1_ps,
    _mm256_fmadd_ps
);

rank8_update_body!(
    /// The rank-8 update on 16 lanes: up to 128 columns of y in 8 zmm accumulators.
    ///
    /// # Safety
    /// As [`rank8_update`], inlined only into AVX-512 code.
    rank8_update_wide, rank8_columns_wide, 16, __m512, _mm512_loadu_ps, _mm512_storeu_ps,
    _mm512_set1_ps, _mm512_fmadd_ps
);

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| {
                ((i as u32).wrapping_mul(2654435761).wrapping_add(seed) >> 20) as f32 / 4096.0 - 0.5
            })
            .collect()
    }

    #[test]
    fn cg_vector_bodies_are_bit_identical() {
        let vector: Vec<Isa> = Isa::available()
            .into_iter()
            .filter(|isa| isa.has_avx2_fma())
            .collect();
        for (rows, kl) in [
            (1usize, 8usize),
            (7, 24),
            (37, 64),
            (70, 72),
            (13, 136),
            (9, 264),
        ] {
            let padded_rows = rows.div_ceil(8) * 8;
            let mut block = data(padded_rows * kl, 1);
            block[rows * kl..].fill(0.0);
            let (w, offsets, p) = (data(padded_rows, 2), data(padded_rows, 6), data(kl, 3));
            let cols: Vec<u32> = (0..rows).map(|j| 2 + (j * 13 % rows) as u32).collect();
            let ratings: Vec<f32> = (0..rows).map(|j| 0.5 + (j % 9) as f32 * 0.5).collect();
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            let results: Vec<Vec<u32>> = vector
                .iter()
                .map(|&isa| {
                    let mut all = Vec::new();
                    for offsets in [None, Some(&offsets[..])] {
                        let mut y = data(kl, 4);
                        let weights = RowWeights { w: &w, offsets };
                        weighted_gram_apply(isa, &block, rows, kl, weights, &p, &mut y);
                        all.extend(bits(&y));
                    }
                    for residual in [false, true] {
                        let mut y = data(kl, 5);
                        let weights = PassWeights {
                            lambda: 0.7,
                            alpha: 1.9,
                            residual,
                        };
                        let m = IndexedRows {
                            m: &block,
                            kl,
                            cols: &cols,
                            first: 2,
                        };
                        indexed_apply(isa, m, RowValues::Plain(&ratings), weights, &p, &mut y);
                        all.extend(bits(&y));
                    }
                    all
                })
                .collect();
            for (isa, got) in vector.iter().zip(&results).skip(1) {
                assert!(
                    got == &results[0],
                    "{} differs, rows {rows}, kl {kl}",
                    isa.name()
                );
            }
        }
    }

    #[test]
    fn kernels_match_their_definitions() {
        for isa in Isa::available() {
            for (rows, k) in [
                (1usize, 8usize),
                (7, 24),
                (8, 16),
                (37, 64),
                (70, 72),
                (13, 136),
            ] {
                let kp = k;
                let padded_rows = rows.div_ceil(8) * 8;
                let mut block = data(padded_rows * kp, 1);
                block[rows * kp..].fill(0.0);
                let w = data(padded_rows, 2);
                let p = data(kp, 3);
                let mut y = data(kp, 4);
                let y0 = y.clone();
                weighted_gram_apply(
                    isa,
                    &block,
                    rows,
                    kp,
                    RowWeights {
                        w: &w,
                        offsets: None,
                    },
                    &p,
                    &mut y,
                );
                let offsets = data(padded_rows, 6);
                let mut with_offsets = y0.clone();
                weighted_gram_apply(
                    isa,
                    &block,
                    rows,
                    kp,
                    RowWeights {
                        w: &w,
                        offsets: Some(&offsets),
                    },
                    &p,
                    &mut with_offsets,
                );
                for c in 0..kp {
                    let mut want = y0[c] as f64;
                    let mut want_offsets = y0[c] as f64;
                    for r in 0..rows {
                        let g = &block[r * kp..(r + 1) * kp];
                        let d: f64 = g.iter().zip(&p).map(|(&a, &b)| a as f64 * b as f64).sum();
                        want += w[r] as f64 * d * g[c] as f64;
                        want_offsets += (offsets[r] as f64 + w[r] as f64 * d) * g[c] as f64;
                    }
                    let close = |got: f32, want: f64| (got as f64 - want).abs() < 1e-3;
                    assert!(close(y[c], want), "rows {rows} k {k} col {c}");
                    assert!(
                        close(with_offsets[c], want_offsets),
                        "rows {rows} k {k} col {c}"
                    );
                }
                // M = symmetric part of a random matrix.
                let a = data(kp * kp, 5);
                let mut m = vec![0f32; kp * kp];
                for i in 0..kp {
                    for j in 0..kp {
                        m[i * kp + j] = a[i * kp + j] + a[j * kp + i];
                    }
                }
                let mut out = vec![0f32; kp];
                symmetric_matvec(isa, &m, kp, &p, &mut out);
                for i in 0..kp {
                    let want: f64 = (0..kp).map(|j| m[i * kp + j] as f64 * p[j] as f64).sum();
                    assert!((out[i] as f64 - want).abs() < 1e-3, "{isa:?} k {k} row {i}");
                }
            }
        }
    }
}

#[cfg(test)]
mod indexed_tests {
    use super::*;

    #[test]
    fn indexed_apply_matches_its_definition() {
        for isa in Isa::available() {
            for (n, kl, first) in [(1usize, 8usize, 0u32), (7, 24, 5), (8, 64, 0), (21, 72, 3)] {
                let rows = 40usize;
                let m: Vec<f32> = (0..rows * kl)
                    .map(|i| ((i * 7919 % 1009) as f32 / 1009.0) - 0.5)
                    .collect();
                let cols: Vec<u32> = (0..n).map(|j| first + (j * 13 % rows) as u32).collect();
                let ratings: Vec<f32> = (0..n).map(|j| 0.5 + (j % 9) as f32 * 0.5).collect();
                let p: Vec<f32> = (0..kl).map(|i| (i as f32 * 0.37).sin()).collect();
                let (lambda, alpha) = (0.7f32, 1.9f32);
                for residual in [false, true] {
                    let mut y: Vec<f32> = (0..kl).map(|i| i as f32 * 0.01).collect();
                    let mut want: Vec<f64> = y.iter().map(|&v| v as f64).collect();
                    for (&c, &r) in cols.iter().zip(&ratings) {
                        let g = &m[(c - first) as usize * kl..((c - first) as usize + 1) * kl];
                        let d: f64 = g.iter().zip(&p).map(|(&a, &b)| a as f64 * b as f64).sum();
                        let w = (lambda * alpha * r) as f64;
                        let coef = match residual {
                            true => (lambda * (1.0 + alpha * r)) as f64 - w * d,
                            false => w * d,
                        };
                        for (o, &gi) in want.iter_mut().zip(g) {
                            *o += coef * gi as f64;
                        }
                    }
                    let weights = PassWeights {
                        lambda,
                        alpha,
                        residual,
                    };
                    let rows = IndexedRows {
                        m: &m,
                        kl,
                        cols: &cols,
                        first,
                    };
                    indexed_apply(isa, rows, RowValues::Plain(&ratings), weights, &p, &mut y);
                    for (c, (&got, &want)) in y.iter().zip(&want).enumerate() {
                        assert!(
                            (got as f64 - want).abs() < 1e-3,
                            "{isa:?} n {n} kl {kl} col {c}"
                        );
                    }
                }
            }
        }
    }

    /// Kernel timing, not a check: `cargo test -p alsrec-core --release indexed_speed --
    /// --ignored --nocapture`.
    #[test]
    #[ignore]
    fn indexed_speed() {
        let (kl, tile, per) = (64usize, 1024usize, 125usize);
        let m: Vec<f32> = (0..tile * kl).map(|i| (i % 17) as f32 * 0.01).collect();
        let mut s = 12345u64;
        let lists: Vec<(Vec<u32>, Vec<f32>)> = (0..256)
            .map(|_| {
                let mut c: Vec<u32> = (0..per)
                    .map(|_| {
                        s ^= s << 13;
                        s ^= s >> 7;
                        s ^= s << 17;
                        (s % tile as u64) as u32
                    })
                    .collect();
                c.sort_unstable();
                (c, vec![2.0; per])
            })
            .collect();
        let p: Vec<f32> = (0..256 * kl).map(|i| i as f32 * 0.0001).collect();
        let mut y = vec![0f32; 256 * kl];
        let mut best = f64::MAX;
        for _ in 0..20 {
            let t = std::time::Instant::now();
            for (i, (c, r)) in lists.iter().enumerate() {
                let (pi, yi) = (&p[i * kl..(i + 1) * kl], &mut y[i * kl..(i + 1) * kl]);
                let weights = PassWeights {
                    lambda: 0.1,
                    alpha: 1.0,
                    residual: false,
                };
                let rows = IndexedRows {
                    m: &m,
                    kl,
                    cols: c,
                    first: 0,
                };
                indexed_apply(Isa::detected(), rows, RowValues::Plain(r), weights, pi, yi);
            }
            best = best.min(t.elapsed().as_nanos() as f64 / (256 * per) as f64);
        }
        eprintln!("indexed_apply k=64: {best:.2} ns per rating ({})", y[3]);
    }
}
