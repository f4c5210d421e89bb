//! The numeric kernels of a row solve: the symmetric Gram product of a gathered block, an
//! in-place Cholesky factorization and its triangular solves, all in f32 on caller-owned buffers
//! (no allocation per row).
//!
//! On x86-64 with AVX2 + FMA (detected once at run time) the Gram product uses a register-blocked
//! 4 × 16 tile kernel; elsewhere a portable loop. Either way every row is computed by one thread
//! in a fixed order, so results do not depend on the thread count.
use super::isa::{lane_stride, Isa};

/// Block widths are padded to this many lanes so the tile kernel needs no edge cases.
pub const LANES: usize = 16;

/// `k` rounded up to a whole number of tile columns.
pub fn padded(k: usize) -> usize {
    k.div_ceil(LANES) * LANES
}

/// Adds Σ_r x_r x_rᵀ over the `rows` rows of `block` (row-major, `kp` columns, `kp % 16 == 0`)
/// into `gram` (kp × kp, row-major). Only entries with i ≤ j are meant; tiles that straddle the
/// diagonal also write a few entries below it, which callers ignore.
pub fn gram_accumulate(isa: Isa, block: &[f32], rows: usize, kp: usize, gram: &mut [f32]) {
    gram_accumulate_ahead(isa, block, rows, kp, gram, &mut Lookahead::none());
}

/// [`gram_accumulate`], prefetching about `rows` of the lookahead's vectors along the way.
pub fn gram_accumulate_ahead(
    isa: Isa,
    block: &[f32],
    rows: usize,
    kp: usize,
    gram: &mut [f32],
    ahead: &mut Lookahead,
) {
    debug_assert_eq!(kp % LANES, 0);
    assert!(block.len() >= rows * kp && gram.len() >= kp * kp);
    #[cfg(target_arch = "x86_64")]
    {
        if isa.has_avx512() {
            // SAFETY: the token proves AVX-512F, AVX2 and FMA, and the asserts above bound every
            // access the kernel makes.
            unsafe { gram_avx512(block.as_ptr(), rows, kp, gram.as_mut_ptr(), ahead) };
            return;
        }
        if isa.has_avx2_fma() {
            // SAFETY: the token proves AVX2 and FMA, and the asserts above bound every access the
            // kernel makes.
            unsafe { gram_avx2(block.as_ptr(), rows, kp, gram.as_mut_ptr(), ahead) };
            return;
        }
    }
    gram_portable(block, rows, kp, gram);
}

/// Neighbour vectors that will be gathered soon (the rest of the current row, then the next
/// row), prefetched a few at a time from inside the kernels working on the current block: their
/// memory round trips then overlap arithmetic instead of stalling the gather.
pub struct Lookahead<'a> {
    factors: &'a [f32],
    /// The other side's biases (empty for implicit models): the gather reads one per vector,
    /// scattered like the vectors.
    bias: &'a [f32],
    k: usize,
    pending: &'a [u32],
    then: &'a [u32],
}

impl<'a> Lookahead<'a> {
    pub fn new(
        factors: &'a [f32],
        bias: &'a [f32],
        k: usize,
        pending: &'a [u32],
        then: &'a [u32],
    ) -> Self {
        Self {
            factors,
            bias,
            k,
            pending,
            then,
        }
    }

    pub fn none() -> Self {
        Self::new(&[], &[], 0, &[], &[])
    }

    /// Prefetches the next `n` vectors (fewer when the list runs out).
    #[inline(always)]
    pub fn advance(&mut self, n: usize) {
        for _ in 0..n {
            let c = if let Some((&c, rest)) = self.pending.split_first() {
                self.pending = rest;
                c
            } else if let Some((&c, rest)) = self.then.split_first() {
                self.then = rest;
                c
            } else {
                return;
            };
            prefetch_vector(self.factors, c as usize, self.k);
            prefetch_value(self.bias, c as usize);
        }
    }
}

/// Hints the cache line of `values[i]` into L1, if `i` is inside `values`.
#[inline(always)]
pub fn prefetch_value(values: &[f32], i: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(v) = values.get(i) {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: prefetch never faults; the address is a live reference anyway.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(v as *const f32 as *const i8) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (values, i);
}

/// Adds Σ_r t_r x_r to `rhs` and Σ_r x_r to `col_sum` over the first `rows` rows of `block`
/// (row-major, `kp` columns, a multiple of 8): the data side of a row's right-hand side and the
/// bias column of its system, from the block already in L1.
pub fn rhs_and_column_sums(
    isa: Isa,
    block: &[f32],
    rows: usize,
    kp: usize,
    t: &[f32],
    rhs: &mut [f32],
    col_sum: &mut [f32],
) {
    assert!(kp.is_multiple_of(8) && block.len() >= rows * kp && t.len() >= rows);
    assert!(rhs.len() >= kp && col_sum.len() >= kp);
    #[cfg(target_arch = "x86_64")]
    {
        if isa.has_avx512() && kp.is_multiple_of(16) {
            // SAFETY: the token proves AVX-512F, AVX2 + FMA; the asserts bound every access.
            unsafe { rhs_and_column_sums_avx512(block, rows, kp, t, rhs, col_sum) };
            return;
        }
        if isa.has_avx2_fma() {
            // SAFETY: the token proves AVX2 + FMA; the asserts bound every access.
            unsafe { rhs_and_column_sums_avx2(block, rows, kp, t, rhs, col_sum) };
            return;
        }
    }
    for (x, &tr) in block.chunks_exact(kp).take(rows).zip(t) {
        for ((r, s), &v) in rhs.iter_mut().zip(col_sum.iter_mut()).zip(x) {
            *r += tr * v;
            *s += v;
        }
    }
}

/// Defines one body of [`rhs_and_column_sums`] for a vector width: `$lanes` columns at a time,
/// 4 rows per step into independent accumulators (so the adds pipeline instead of waiting on
/// each other), then their sum as a pair of pairs. Every column goes through the same adds in
/// the same order whatever the width, so the bodies agree in every bit.
macro_rules! rhs_and_column_sums_body {
    ($(#[$doc:meta])* $name:ident, $features:literal, $lanes:literal, $setzero:ident,
     $load:ident, $store:ident, $set1:ident, $fmadd:ident, $add:ident) => {
        $(#[$doc])*
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $features)]
        unsafe fn $name(
            block: &[f32],
            rows: usize,
            kp: usize,
            t: &[f32],
            rhs: &mut [f32],
            col_sum: &mut [f32],
        ) {
            use std::arch::x86_64::*;
            let b = block.as_ptr();
            for c in (0..kp).step_by($lanes) {
                let mut r = [$setzero(); 4];
                let mut s = [$setzero(); 4];
                let mut row = 0;
                while row + 4 <= rows {
                    for u in 0..4 {
                        let x = $load(b.add((row + u) * kp + c));
                        r[u] = $fmadd($set1(t[row + u]), x, r[u]);
                        s[u] = $add(s[u], x);
                    }
                    row += 4;
                }
                while row < rows {
                    let x = $load(b.add(row * kp + c));
                    r[0] = $fmadd($set1(t[row]), x, r[0]);
                    s[0] = $add(s[0], x);
                    row += 1;
                }
                let rsum = $add($add(r[0], r[1]), $add(r[2], r[3]));
                let ssum = $add($add(s[0], s[1]), $add(s[2], s[3]));
                let rp = rhs.as_mut_ptr().add(c);
                let sp = col_sum.as_mut_ptr().add(c);
                $store(rp, $add($load(rp), rsum));
                $store(sp, $add($load(sp), ssum));
            }
        }
    };
}

rhs_and_column_sums_body!(
    /// # Safety
    /// The CPU must support AVX2 and FMA (the caller holds an [`Isa`](super::isa::Isa) token for
    /// them); `block` holds `rows × kp` floats, `t` at least `rows`, `rhs` and `col_sum` at least
    /// `kp`, and `kp` is a multiple of 8.
    rhs_and_column_sums_avx2, "avx2,fma", 8, _mm256_setzero_ps, _mm256_loadu_ps,
    _mm256_storeu_ps, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps
);

rhs_and_column_sums_body!(
    /// # Safety
    /// As [`rhs_and_column_sums_avx2`], with `kp` a multiple of 16 and a CPU with AVX-512F.
    rhs_and_column_sums_avx512, "avx512f,avx2,fma", 16, _mm512_setzero_ps, _mm512_loadu_ps,
    _mm512_storeu_ps, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps
);

/// Copies `src` into the front of `dst` 8 floats at a time (a fixed-size copy compiles to
/// vector moves, where a slice copy of run-time length is a `memcpy` call per row).
#[inline(always)]
pub fn copy_row(dst: &mut [f32], src: &[f32]) {
    let n = src.len();
    let whole = n / 8 * 8;
    for (d, s) in dst[..whole].chunks_exact_mut(8).zip(src.chunks_exact(8)) {
        let s: &[f32; 8] = s.try_into().expect("chunks of 8");
        d.copy_from_slice(s);
    }
    for (d, &s) in dst[whole..n].iter_mut().zip(&src[whole..]) {
        *d = s;
    }
}

fn gram_portable(block: &[f32], rows: usize, kp: usize, gram: &mut [f32]) {
    for x in block[..rows * kp].chunks_exact(kp) {
        for (i, &xi) in x.iter().enumerate() {
            let g = &mut gram[i * kp + i..(i + 1) * kp];
            for (gj, &xj) in g.iter_mut().zip(&x[i..]) {
                *gj += xi * xj;
            }
        }
    }
}

/// 4 rows × 16 columns of the Gram matrix per tile: 8 accumulators stay in registers while the
/// block streams past; per block row, 2 loads and 4 broadcasts feed 8 FMAs. Each band of 4 rows
/// starts at its diagonal's 8-column chunk, with one 4 × 8 tile where 16 would overshoot into
/// the lower triangle: 17 % fewer products than whole 16-column tiles at k = 32.
///
/// # Safety
/// The CPU must support AVX2 and FMA (the caller holds an [`Isa`](super::isa::Isa) token for them);
/// `block` points to `rows × kp` readable floats and `gram` to `kp × kp` writable ones, `kp` a
/// multiple of 16.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn gram_avx2(
    block: *const f32,
    rows: usize,
    kp: usize,
    gram: *mut f32,
    ahead: &mut Lookahead,
) {
    use std::arch::x86_64::*;
    // About one lookahead vector per block row over the whole product.
    let per_band = rows.div_ceil((kp / 4).max(1));
    for i0 in (0..kp).step_by(4) {
        ahead.advance(per_band);
        let mut j0 = i0 / 8 * 8;
        if j0 % LANES != 0 {
            gram_tile_4x8(block, rows, kp, gram, i0, j0);
            j0 += 8;
        }
        while j0 < kp {
            let (mut a00, mut a01, mut a10, mut a11) = (
                _mm256_setzero_ps(),
                _mm256_setzero_ps(),
                _mm256_setzero_ps(),
                _mm256_setzero_ps(),
            );
            let (mut a20, mut a21, mut a30, mut a31) = (
                _mm256_setzero_ps(),
                _mm256_setzero_ps(),
                _mm256_setzero_ps(),
                _mm256_setzero_ps(),
            );
            let mut row = block;
            for _ in 0..rows {
                let b0 = _mm256_loadu_ps(row.add(j0));
                let b1 = _mm256_loadu_ps(row.add(j0 + 8));
                let s0 = _mm256_broadcast_ss(&*row.add(i0));
                a00 = _mm256_fmadd_ps(s0, b0, a00);
                a01 = _mm256_fmadd_ps(s0, b1, a01);
                let s1 = _mm256_broadcast_ss(&*row.add(i0 + 1));
                a10 = _mm256_fmadd_ps(s1, b0, a10);
                a11 = _mm256_fmadd_ps(s1, b1, a11);
                let s2 = _mm256_broadcast_ss(&*row.add(i0 + 2));
                a20 = _mm256_fmadd_ps(s2, b0, a20);
                a21 = _mm256_fmadd_ps(s2, b1, a21);
                let s3 = _mm256_broadcast_ss(&*row.add(i0 + 3));
                a30 = _mm256_fmadd_ps(s3, b0, a30);
                a31 = _mm256_fmadd_ps(s3, b1, a31);
                row = row.add(kp);
            }
            for (a, (lo, hi)) in [(a00, a01), (a10, a11), (a20, a21), (a30, a31)]
                .into_iter()
                .enumerate()
            {
                let g = gram.add((i0 + a) * kp + j0);
                _mm256_storeu_ps(g, _mm256_add_ps(_mm256_loadu_ps(g), lo));
                _mm256_storeu_ps(g.add(8), _mm256_add_ps(_mm256_loadu_ps(g.add(8)), hi));
            }
            j0 += LANES;
        }
    }
}

/// The AVX-512 body of [`gram_avx2`], bit for bit: 8 rows × 32 columns per tile (16 zmm
/// accumulators; per block row 2 loads and 8 broadcasts feed 16 FMAs), half the instructions of
/// the 4 × 16 ymm tiles. Every entry it writes is the same FMA chain over the block's rows,
/// started from zero and then added to `gram`, as in [`gram_avx2`], and the diagonal 4 × 8 tiles
/// (even and odd rows in separate chains) are [`gram_tile_4x8`] itself, so the two bodies agree
/// in every bit and training does not depend on which one the CPU runs.
///
/// # Safety
/// The CPU must support AVX-512F, AVX2 and FMA (the caller holds an [`Isa`](super::isa::Isa)
/// token for them); otherwise as [`gram_avx2`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn gram_avx512(
    block: *const f32,
    rows: usize,
    kp: usize,
    gram: *mut f32,
    ahead: &mut Lookahead,
) {
    // About one lookahead vector per block row over the whole product, handed out in step with
    // the work (in 4 × 8 tiles' worth): prefetched in one burst per band, they overflowed the
    // core's outstanding-miss slots and stalled it.
    let work: usize = (0..kp)
        .step_by(8)
        .map(|i0| match i0 % LANES {
            0 => (kp - i0) / 4,
            _ => 2 + (kp - i0 - 8) / 4,
        })
        .sum();
    let mut prefetch = SpreadPrefetch {
        ahead,
        rows,
        work: work.max(1),
        done_work: 0,
        issued: 0,
    };
    for i0 in (0..kp).step_by(8) {
        // `gram_avx2` starts each band of 4 rows at its diagonal's 8-column chunk: where that
        // chunk is the second half of a 16-column tile, with the even/odd 4 × 8 tile.
        let mut j0 = i0;
        if i0 % LANES != 0 {
            prefetch.before(1);
            gram_tile_4x8(block, rows, kp, gram, i0, i0);
            prefetch.before(1);
            gram_tile_4x8(block, rows, kp, gram, i0 + 4, i0);
            j0 += 8;
        }
        while j0 + 2 * LANES <= kp {
            prefetch.before(8);
            gram_tile_8xw::<2>(block, rows, kp, gram, i0, j0);
            j0 += 2 * LANES;
        }
        if j0 < kp {
            prefetch.before(4);
            gram_tile_8xw::<1>(block, rows, kp, gram, i0, j0);
        }
    }
}

/// Hands out a [`Lookahead`]'s `rows` prefetches in proportion to the Gram work done.
struct SpreadPrefetch<'l, 'a> {
    ahead: &'l mut Lookahead<'a>,
    rows: usize,
    /// The whole product's work, in 4 × 8 tiles.
    work: usize,
    done_work: usize,
    issued: usize,
}

impl SpreadPrefetch<'_, '_> {
    /// Before a tile of `work` 4 × 8 tiles' worth: the prefetches due by its end.
    #[inline(always)]
    fn before(&mut self, work: usize) {
        self.done_work += work;
        let due = self.done_work * self.rows / self.work;
        if due > self.issued {
            self.ahead.advance(due - self.issued);
            self.issued = due;
        }
    }
}

/// Rows `i0..i0 + 8` × columns `j0..j0 + 16 W` of the Gram matrix, one FMA chain per entry.
///
/// # Safety
/// As [`gram_avx512`]; the tile lies inside the `kp × kp` Gram matrix.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
#[inline]
unsafe fn gram_tile_8xw<const W: usize>(
    block: *const f32,
    rows: usize,
    kp: usize,
    gram: *mut f32,
    i0: usize,
    j0: usize,
) {
    use std::arch::x86_64::*;
    let mut acc = [[_mm512_setzero_ps(); W]; 8];
    let mut row = block;
    for _ in 0..rows {
        let mut b = [_mm512_setzero_ps(); W];
        for (w, bw) in b.iter_mut().enumerate() {
            *bw = _mm512_loadu_ps(row.add(j0 + w * LANES));
        }
        for (t, acc_t) in acc.iter_mut().enumerate() {
            let s = _mm512_set1_ps(*row.add(i0 + t));
            for w in 0..W {
                acc_t[w] = _mm512_fmadd_ps(s, b[w], acc_t[w]);
            }
        }
        row = row.add(kp);
    }
    for (t, acc_t) in acc.iter().enumerate() {
        for (w, &a) in acc_t.iter().enumerate() {
            let g = gram.add((i0 + t) * kp + j0 + w * LANES);
            _mm512_storeu_ps(g, _mm512_add_ps(_mm512_loadu_ps(g), a));
        }
    }
}

/// The 4 × 8 tile at the diagonal: even and odd rows into separate accumulators, so 8 FMA
/// chains are in flight as in the 4 × 16 tile.
///
/// # Safety
/// The CPU must support AVX2 and FMA (the caller holds an [`Isa`](super::isa::Isa) token for them); as
/// [`gram_avx2`], and rows `i0..i0 + 4` and columns `j0..j0 + 8` lie inside the `kp × kp` Gram
/// matrix.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn gram_tile_4x8(
    block: *const f32,
    rows: usize,
    kp: usize,
    gram: *mut f32,
    i0: usize,
    j0: usize,
) {
    use std::arch::x86_64::*;
    let mut even = [_mm256_setzero_ps(); 4];
    let mut odd = [_mm256_setzero_ps(); 4];
    let mut row = block;
    for _ in 0..rows / 2 {
        let b0 = _mm256_loadu_ps(row.add(j0));
        let b1 = _mm256_loadu_ps(row.add(kp + j0));
        for t in 0..4 {
            even[t] = _mm256_fmadd_ps(_mm256_broadcast_ss(&*row.add(i0 + t)), b0, even[t]);
            odd[t] = _mm256_fmadd_ps(_mm256_broadcast_ss(&*row.add(kp + i0 + t)), b1, odd[t]);
        }
        row = row.add(2 * kp);
    }
    if rows % 2 == 1 {
        let b0 = _mm256_loadu_ps(row.add(j0));
        for (t, e) in even.iter_mut().enumerate() {
            *e = _mm256_fmadd_ps(_mm256_broadcast_ss(&*row.add(i0 + t)), b0, *e);
        }
    }
    for t in 0..4 {
        let g = gram.add((i0 + t) * kp + j0);
        let sum = _mm256_add_ps(even[t], odd[t]);
        _mm256_storeu_ps(g, _mm256_add_ps(_mm256_loadu_ps(g), sum));
    }
}

/// Rows per panel of the blocked factorization.
const PANEL: usize = 8;

/// Hints the cache lines of row `row` (k floats) of `factors` into L1.
#[inline(always)]
pub fn prefetch_vector(factors: &[f32], row: usize, k: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let start = row * k;
        if k > 0 && start + k <= factors.len() {
            let p = factors.as_ptr();
            let mut off = 0;
            while off < k {
                // SAFETY: prefetch never faults; the address is inside `factors` anyway.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(p.add(start + off) as *const i8) };
                off += 16;
            }
            // An unaligned vector may straddle one more line than the loop touched.
            if !(start + k).is_multiple_of(16) || !(p as usize).is_multiple_of(64) {
                unsafe { _mm_prefetch::<_MM_HINT_T0>(p.add(start + k - 1) as *const i8) };
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (factors, row, k);
}

/// Factorizes the symmetric positive-definite matrix whose upper triangle is in `a` (n × n,
/// row stride `ld ≥ lane_stride(n)`) as UᵀU, writing U over that triangle; entries below the
/// diagonal and past column n are scratch. Returns false when a pivot is not positive (the
/// matrix is singular or indefinite to working precision).
///
/// Blocked right-looking: a panel of 8 rows is factored with long row axpys, then the trailing
/// matrix takes all 8 rank-1 updates in one pass (8 FMAs per load/store of the trailing row), so
/// memory traffic on `a` is 8× lower than updating row by row.
pub fn cholesky_upper(isa: Isa, a: &mut [f32], n: usize, ld: usize) -> bool {
    assert!(ld >= lane_stride(n) && a.len() >= n * ld);
    #[cfg(target_arch = "x86_64")]
    {
        if isa.has_avx512() {
            // SAFETY: the token proves AVX-512F, AVX2 and FMA; the assert above bounds every
            // access.
            return unsafe { cholesky_upper_avx512(a, n, ld) };
        }
        if isa.has_avx2_fma() {
            // SAFETY: the token proves AVX2 and FMA; the assert above bounds every access.
            return unsafe { cholesky_upper_avx2(a, n, ld) };
        }
    }
    cholesky_blocked(a, n, ld, |a, p0, pb, q0| {
        trailing_update_portable(a, n, ld, p0, pb, q0)
    })
}

/// # Safety
/// The CPU must support AVX2 and FMA (the caller holds an [`Isa`](super::isa::Isa) token for them).
/// `a` holds `n` rows of stride `ld ≥ lane_stride(n)`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn cholesky_upper_avx2(a: &mut [f32], n: usize, ld: usize) -> bool {
    cholesky_upper_vector::<false>(a, n, ld)
}

/// [`cholesky_upper_avx2`] on 16 lanes where a row has them: every entry goes through the same
/// multiplications and the same FMA chain over the panel rows, in the same order, so the factor
/// is the AVX2 one bit for bit.
///
/// # Safety
/// As [`cholesky_upper_avx2`], and the CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn cholesky_upper_avx512(a: &mut [f32], n: usize, ld: usize) -> bool {
    cholesky_upper_vector::<true>(a, n, ld)
}

/// The blocked algorithm of `cholesky_blocked`, with the panel's own work on whole vector
/// chunks too: entries left of the diagonal and past n are scratch, so no scalar edges. `WIDE`
/// takes 16-lane chunks where a row has them (inlined only into AVX-512 code), 8-lane ones for
/// the rest.
///
/// # Safety
/// As [`cholesky_upper_avx2`], compiled into code with the features the body uses.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn cholesky_upper_vector<const WIDE: bool>(a: &mut [f32], n: usize, ld: usize) -> bool {
    use std::arch::x86_64::*;
    assert!(ld >= lane_stride(n) && a.len() >= n * ld);
    let end = lane_stride(n);
    for p0 in (0..n).step_by(PANEL) {
        let pb = PANEL.min(n - p0);
        for i in p0..p0 + pb {
            let row_i = a.as_mut_ptr().add(i * ld);
            let pivot = *row_i.add(i);
            if !(pivot > 0.0 && pivot.is_finite()) {
                return false;
            }
            let d = pivot.sqrt();
            let inv = 1.0 / d;
            let mut j = i / 8 * 8;
            while WIDE && j + 16 <= end {
                let p = row_i.add(j);
                _mm512_storeu_ps(p, _mm512_mul_ps(_mm512_loadu_ps(p), _mm512_set1_ps(inv)));
                j += 16;
            }
            while j < end {
                let p = row_i.add(j);
                _mm256_storeu_ps(p, _mm256_mul_ps(_mm256_loadu_ps(p), _mm256_set1_ps(inv)));
                j += 8;
            }
            *row_i.add(i) = d;
            // Rank-1 update of the panel rows below.
            trailing_rows_vector::<1, WIDE>(a, n, ld, i, i + 1..p0 + pb);
        }
        if p0 + pb < n {
            macro_rules! dispatch {
                ($($w:literal)*) => {
                    match pb {
                        $($w => trailing_rows_vector::<$w, WIDE>(a, n, ld, p0, p0 + pb..n),)*
                        _ => unreachable!("panels have 1 to {PANEL} rows"),
                    }
                };
            }
            dispatch!(1 2 3 4 5 6 7 8)
        }
    }
    true
}

/// The panel's rank-PB update of the rows `rows`: for j from q's 8-column chunk to n rounded up
/// to 8 (the columns below the diagonal and past n are scratch, so no edge cases),
/// a[q][j] −= Σ_t a[p0+t][q]·a[p0+t][j], one FMA chain over t in order per entry. `WIDE` as in
/// [`cholesky_upper_vector`].
///
/// # Safety
/// `a` holds `n` rows of stride `ld ≥ lane_stride(n)`, the panel rows `p0..p0 + PB` and `rows`
/// lie below `n`; compiled into code with the features the body uses.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn trailing_rows_vector<const PB: usize, const WIDE: bool>(
    a: &mut [f32],
    n: usize,
    ld: usize,
    p0: usize,
    rows: std::ops::Range<usize>,
) {
    use std::arch::x86_64::*;
    let end = lane_stride(n);
    let base = a.as_mut_ptr();
    let panel = base.add(p0 * ld);
    for q in rows {
        let s: [f32; PB] = std::array::from_fn(|t| *panel.add(t * ld + q));
        let row_q = base.add(q * ld);
        let mut j = q / 8 * 8;
        while WIDE && j + 16 <= end {
            let mut acc = _mm512_loadu_ps(row_q.add(j));
            for (t, &st) in s.iter().enumerate() {
                let p = _mm512_loadu_ps(panel.add(t * ld + j));
                acc = _mm512_fnmadd_ps(_mm512_set1_ps(st), p, acc);
            }
            _mm512_storeu_ps(row_q.add(j), acc);
            j += 16;
        }
        while j < end {
            let mut acc = _mm256_loadu_ps(row_q.add(j));
            for (t, &st) in s.iter().enumerate() {
                let p = _mm256_loadu_ps(panel.add(t * ld + j));
                acc = _mm256_fnmadd_ps(_mm256_set1_ps(st), p, acc);
            }
            _mm256_storeu_ps(row_q.add(j), acc);
            j += 8;
        }
    }
}

#[inline(always)]
fn cholesky_blocked(
    a: &mut [f32],
    n: usize,
    ld: usize,
    trailing: impl Fn(&mut [f32], usize, usize, usize),
) -> bool {
    for p0 in (0..n).step_by(PANEL) {
        let pb = PANEL.min(n - p0);
        // Factor the panel rows over all remaining columns.
        for i in p0..p0 + pb {
            let (head, tail) = a.split_at_mut((i + 1) * ld);
            let row_i = &mut head[i * ld..i * ld + n];
            let pivot = row_i[i];
            if !(pivot > 0.0 && pivot.is_finite()) {
                return false;
            }
            let d = pivot.sqrt();
            let inv = 1.0 / d;
            row_i[i] = d;
            for x in &mut row_i[i + 1..] {
                *x *= inv;
            }
            let row_i = &head[i * ld..i * ld + n];
            for r in i + 1..p0 + pb {
                let f = row_i[r];
                let row_r = &mut tail[(r - i - 1) * ld..(r - i - 1) * ld + n];
                axpy(-f, &row_i[r..], &mut row_r[r..]);
            }
        }
        let q0 = p0 + pb;
        if q0 < n {
            trailing(a, p0, pb, q0);
        }
    }
    true
}

/// The panel's rank-pb update of the trailing rows: for q ∈ q0..n and j ≥ q,
/// a[q][j] −= Σ_i a[i][q]·a[i][j] over the panel rows i ∈ p0..p0+pb.
fn trailing_update_portable(a: &mut [f32], n: usize, ld: usize, p0: usize, pb: usize, q0: usize) {
    let (panel, rest) = a.split_at_mut(q0 * ld);
    for q in q0..n {
        let row_q = &mut rest[(q - q0) * ld..(q - q0) * ld + n];
        for i in p0..p0 + pb {
            let row_i = &panel[i * ld..i * ld + n];
            axpy(-row_i[q], &row_i[q..], &mut row_q[q..]);
        }
    }
}

/// Solves UᵀU x = b in place (`b` becomes x), U from [`cholesky_upper`].
pub fn cholesky_solve(isa: Isa, u: &[f32], n: usize, ld: usize, b: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if isa.has_avx2_fma() {
            // SAFETY: the token proves the features the kernel is compiled for.
            return unsafe { cholesky_solve_avx2(u, n, ld, b) };
        }
    }
    cholesky_solve_body(u, n, ld, b)
}

/// The largest system the AVX2 solve handles on the stack (k ≤ 1024 plus the bias row).
const SOLVE_MAX: usize = 1040;

/// Both triangular solves in blocks of 8 rows: a block's scalar 8 × 8 triangle, then one
/// vectorized rank-8 update (forward) or 8 dot products sharing one reduction (backward). The
/// row-at-a-time version is one long dependency chain of divisions and reductions.
///
/// # Safety
/// The CPU must support AVX2 and FMA (the caller holds an [`Isa`](super::isa::Isa) token for them).
/// Slice accesses are checked (an assert bounds `u` and `b`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
// Indices into x, U and the pivots follow the triangular-solve formulas.
#[allow(clippy::needless_range_loop)]
unsafe fn cholesky_solve_avx2(u: &[f32], n: usize, ld: usize, b: &mut [f32]) {
    use std::arch::x86_64::*;
    if lane_stride(n) > SOLVE_MAX || n == 0 {
        return cholesky_solve_body(u, n, ld, b);
    }
    assert!(u.len() >= n * ld && ld >= n && b.len() >= n);
    // Only the lanes the solve touches are zeroed: clearing both whole stack buffers cost more
    // than the solve itself at k = 32.
    let m = lane_stride(n);
    let mut x_buf = std::mem::MaybeUninit::<[f32; SOLVE_MAX]>::uninit();
    let mut inv_buf = std::mem::MaybeUninit::<[f32; SOLVE_MAX]>::uninit();
    // SAFETY: m ≤ SOLVE_MAX (checked above); the first m floats of each buffer are written
    // before the slices over them are made, and the buffers outlive the slices.
    let (x, inv) = unsafe {
        let (xs, is) = (
            x_buf.as_mut_ptr() as *mut f32,
            inv_buf.as_mut_ptr() as *mut f32,
        );
        std::ptr::write_bytes(xs, 0, m);
        std::ptr::write_bytes(is, 0, m);
        (
            std::slice::from_raw_parts_mut(xs, m),
            std::slice::from_raw_parts_mut(is, m),
        )
    };
    x[..n].copy_from_slice(&b[..n]);
    let up = u.as_ptr();
    let xp = x.as_mut_ptr();
    // Columns past n are scratch in U: the last chunk of a row is loaded masked (zeros).
    let tail = n % 8;
    let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    let tail_mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(tail as i32), lanes);
    let row_chunk = |i: usize, j: usize| {
        if j + 8 <= n {
            _mm256_loadu_ps(up.add(i * ld + j))
        } else {
            _mm256_maskload_ps(up.add(i * ld + j), tail_mask)
        }
    };
    let at = |i: usize, j: usize| *up.add(i * ld + j);
    // Reciprocal pivots up front, 8 per division: keeps divisions off the dependency chain.
    for (i, v) in inv.iter_mut().enumerate().take(n) {
        *v = at(i, i);
    }
    for c in (0..n).step_by(8) {
        let p = inv.as_mut_ptr().add(c);
        _mm256_storeu_ps(p, _mm256_div_ps(_mm256_set1_ps(1.0), _mm256_loadu_ps(p)));
    }
    // Uᵀ y = b.
    for i0 in (0..n).step_by(8) {
        let i1 = (i0 + 8).min(n);
        for i in i0..i1 {
            let yi = x[i] * inv[i];
            x[i] = yi;
            for t in i + 1..i1 {
                x[t] -= at(i, t) * yi;
            }
        }
        let mut j = i1;
        while j < n {
            let mut acc = _mm256_loadu_ps(xp.add(j));
            for i in i0..i1 {
                acc = _mm256_fnmadd_ps(_mm256_set1_ps(x[i]), row_chunk(i, j), acc);
            }
            _mm256_storeu_ps(xp.add(j), acc);
            j += 8;
        }
    }
    // U x = y, bottom block first.
    let mut i0 = (n - 1) / 8 * 8;
    loop {
        let i1 = (i0 + 8).min(n);
        let mut sums = [0f32; 8];
        if i1 < n {
            let mut acc = [_mm256_setzero_ps(); 8];
            let mut j = i1;
            while j < n {
                let xj = _mm256_loadu_ps(xp.add(j));
                for (r, a) in acc.iter_mut().enumerate().take(i1 - i0) {
                    *a = _mm256_fmadd_ps(row_chunk(i0 + r, j), xj, *a);
                }
                j += 8;
            }
            _mm256_storeu_ps(sums.as_mut_ptr(), hsum8(acc));
        }
        for i in (i0..i1).rev() {
            let mut v = x[i] - sums[i - i0];
            for j in i + 1..i1 {
                v -= at(i, j) * x[j];
            }
            x[i] = v * inv[i];
        }
        if i0 == 0 {
            break;
        }
        i0 -= 8;
    }
    b[..n].copy_from_slice(&x[..n]);
}

/// Lane r of the result is the sum of the 8 lanes of `v[r]`.
///
/// # Safety
/// The CPU must support AVX2 and FMA (the caller holds an [`Isa`](super::isa::Isa) token for them). No
/// memory is accessed.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn hsum8(v: [std::arch::x86_64::__m256; 8]) -> std::arch::x86_64::__m256 {
    use std::arch::x86_64::*;
    let t0 = _mm256_hadd_ps(v[0], v[1]);
    let t1 = _mm256_hadd_ps(v[2], v[3]);
    let t2 = _mm256_hadd_ps(v[4], v[5]);
    let t3 = _mm256_hadd_ps(v[6], v[7]);
    // Per 128-bit half: the partial sums of rows 0–3 (t01) and 4–7 (t23).
    let t01 = _mm256_hadd_ps(t0, t1);
    let t23 = _mm256_hadd_ps(t2, t3);
    let lo = _mm256_permute2f128_ps(t01, t23, 0x20);
    let hi = _mm256_permute2f128_ps(t01, t23, 0x31);
    _mm256_add_ps(lo, hi)
}

#[inline(always)]
fn cholesky_solve_body(u: &[f32], n: usize, ld: usize, b: &mut [f32]) {
    // Uᵀ y = b, column by column of U (rows of Uᵀ): contiguous axpys.
    for i in 0..n {
        let row = &u[i * ld..i * ld + n];
        b[i] /= row[i];
        let yi = b[i];
        axpy(-yi, &row[i + 1..], &mut b[i + 1..n]);
    }
    // U x = y, bottom up: contiguous dot products.
    for i in (0..n).rev() {
        let row = &u[i * ld..i * ld + n];
        let s = dot(&row[i + 1..], &b[i + 1..n]);
        b[i] = (b[i] - s) / row[i];
    }
}

/// Solves U w = z in place (`z` becomes w), U upper triangular from [`cholesky_upper`]. With
/// z ~ N(0, I), w ~ N(0, (UᵀU)⁻¹): how a Gibbs sweep draws a row around its posterior mean.
pub fn upper_solve(u: &[f32], n: usize, ld: usize, z: &mut [f32]) {
    for i in (0..n).rev() {
        let row = &u[i * ld..i * ld + n];
        let s = dot(&row[i + 1..], &z[i + 1..n]);
        z[i] = (z[i] - s) / row[i];
    }
}

/// The diagonal of (UᵀU)⁻¹ = U⁻¹U⁻ᵀ: the squared row norms of U⁻¹, column j of U⁻¹ solved by
/// back substitution (n³/6 multiply-adds; for single rows, not a half-step).
pub fn inverse_diagonal(u: &[f32], n: usize, ld: usize) -> Vec<f32> {
    let mut diag = vec![0f64; n];
    let mut col = vec![0f64; n];
    for j in 0..n {
        // U⁻¹ is upper triangular: column j has entries 0..=j.
        col[..=j].fill(0.0);
        col[j] = 1.0 / u[j * ld + j] as f64;
        for i in (0..j).rev() {
            let row = &u[i * ld..i * ld + n];
            let s: f64 = (i + 1..=j).map(|m| row[m] as f64 * col[m]).sum();
            col[i] = -s / row[i] as f64;
        }
        for i in 0..=j {
            diag[i] += col[i] * col[i];
        }
    }
    diag.into_iter().map(|d| d as f32).collect()
}

/// Rows per Gram update of [`gramian`].
const GRAMIAN_CHUNK: usize = 64;

/// YᵀY of a row-major rows × k matrix, full and symmetric, accumulated in one fixed order.
pub fn gramian(isa: Isa, factors: &[f32], k: usize) -> Vec<f32> {
    let kp = padded(k);
    let mut block = vec![0f32; GRAMIAN_CHUNK * kp];
    let mut gram = vec![0f32; kp * kp];
    let mut total = vec![0f64; k * k];
    for chunk in factors.chunks(GRAMIAN_CHUNK * k) {
        chunk_gram(isa, chunk, k, &mut block, &mut gram);
        add_chunk_gram(&gram, k, &mut total);
    }
    symmetric_from(&total, k)
}

/// Chunks per parallel batch of [`par_gramian`] (their products are kept until added in order).
const GRAMIAN_BATCH: usize = 32;

/// [`gramian`] with the chunks' f32 products spread over the rayon pool, then added into the
/// f64 total in chunk order: the same additions in the same order, so bit-identical.
pub fn par_gramian(isa: Isa, factors: &[f32], k: usize) -> Vec<f32> {
    use rayon::prelude::*;
    if k == 0 {
        return gramian(isa, factors, k);
    }
    let kp = padded(k);
    let chunks: Vec<&[f32]> = factors.chunks(GRAMIAN_CHUNK * k).collect();
    let mut grams = vec![0f32; GRAMIAN_BATCH * kp * kp];
    let mut total = vec![0f64; k * k];
    for batch in chunks.chunks(GRAMIAN_BATCH) {
        grams
            .par_chunks_mut(kp * kp)
            .zip(batch.par_iter())
            .for_each_init(
                || vec![0f32; GRAMIAN_CHUNK * kp],
                |block, (gram, chunk)| chunk_gram(isa, chunk, k, block, gram),
            );
        for gram in grams.chunks(kp * kp).take(batch.len()) {
            add_chunk_gram(gram, k, &mut total);
        }
    }
    symmetric_from(&total, k)
}

/// The Gram product of one chunk of rows into `gram` (kp × kp, upper triangle), through
/// `block` (the chunk's rows padded to kp; the padding columns stay zero).
#[inline]
fn chunk_gram(isa: Isa, chunk: &[f32], k: usize, block: &mut [f32], gram: &mut [f32]) {
    let kp = padded(k);
    let rows = chunk.len() / k;
    for (r, v) in chunk.chunks_exact(k).enumerate() {
        block[r * kp..r * kp + k].copy_from_slice(v);
    }
    gram.fill(0.0);
    gram_accumulate(isa, block, rows, kp, gram);
}

/// Adds a chunk's product into the f64 total, so that long factor matrices keep their
/// precision.
#[inline]
fn add_chunk_gram(gram: &[f32], k: usize, total: &mut [f64]) {
    let kp = padded(k);
    for i in 0..k {
        for j in i..k {
            total[i * k + j] += gram[i * kp + j] as f64;
        }
    }
}

fn symmetric_from(total: &[f64], k: usize) -> Vec<f32> {
    let mut full = vec![0f32; k * k];
    for i in 0..k {
        for j in i..k {
            full[i * k + j] = total[i * k + j] as f32;
            full[j * k + i] = total[i * k + j] as f32;
        }
    }
    full
}

/// λ FᵀF + τ I of a factor matrix (rows × k), with row stride `stride` ≥ k (zero padding): the
/// part of an implicit model's row systems that every row shares.
pub fn regularized_gram(
    isa: Isa,
    factors: &[f32],
    k: usize,
    stride: usize,
    lambda: f32,
    tau: f32,
) -> Vec<f32> {
    regularized(&gramian(isa, factors, k), k, stride, lambda, tau)
}

/// λ G + τ I of a k × k Gram matrix `gram`, with row stride `stride` ≥ k (zero padding).
pub fn regularized(gram: &[f32], k: usize, stride: usize, lambda: f32, tau: f32) -> Vec<f32> {
    let mut base = vec![0f32; stride * stride];
    for i in 0..k {
        for j in 0..k {
            base[i * stride + j] = lambda * gram[i * k + j];
        }
        base[i * stride + i] += tau;
    }
    base
}

/// y += a·x.
#[inline(always)]
pub fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

/// x·y with eight independent accumulators (vectorizes without reassociation flags).
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; 8];
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for j in 0..8 {
            acc[j] += x[j] * y[j];
        }
    }
    let mut sum = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        sum += x * y;
    }
    sum
}

/// `dot(v[r], x)` for 8 vectors at once, each the same f32 as [`dot`] gives (every product
/// rounded, the same lanes summed in the same tree), with the 8 horizontal sums sharing their
/// shuffles and `x` loaded once: what a row's prediction errors need, 8 ratings at a time.
/// Every `v[r]` must be as long as `x`.
#[inline(always)]
pub fn dot8_isa(isa: Isa, v: [&[f32]; 8], x: &[f32]) -> [f32; 8] {
    assert!(v.iter().all(|r| r.len() == x.len()));
    #[cfg(target_arch = "x86_64")]
    if isa.has_avx2_fma() {
        // SAFETY: the AVX2 token is only made on a CPU that has AVX2; the assert bounds the loads.
        return unsafe { dot8_avx2(v, x) };
    }
    let _ = isa;
    std::array::from_fn(|r| dot(v[r], x))
}

/// # Safety
/// The CPU must support AVX2 (the caller holds an [`Isa`](super::isa::Isa) token for it); every
/// `v[r]` is as long as `x`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot8_avx2(v: [&[f32]; 8], x: &[f32]) -> [f32; 8] {
    use std::arch::x86_64::*;
    let n = x.len();
    let whole = n / 8 * 8;
    let mut acc = [_mm256_setzero_ps(); 8];
    let mut i = 0;
    while i < whole {
        let xc = _mm256_loadu_ps(x.as_ptr().add(i));
        for (a, vr) in acc.iter_mut().zip(&v) {
            // Multiply, then add (no FMA), as `dot`.
            *a = _mm256_add_ps(*a, _mm256_mul_ps(_mm256_loadu_ps(vr.as_ptr().add(i)), xc));
        }
        i += 8;
    }
    // `dot`'s tree for each: s_l = a_l + a_{l+4} (halves of two accumulators side by side),
    // then (s0 + s1) and (s2 + s3) by one horizontal add, then their sum by another.
    let halves = |p: __m256, q: __m256| {
        _mm256_add_ps(
            _mm256_permute2f128_ps::<0x20>(p, q),
            _mm256_permute2f128_ps::<0x31>(p, q),
        )
    };
    let s01 = halves(acc[0], acc[1]);
    let s23 = halves(acc[2], acc[3]);
    let s45 = halves(acc[4], acc[5]);
    let s67 = halves(acc[6], acc[7]);
    let t = _mm256_hadd_ps(_mm256_hadd_ps(s01, s23), _mm256_hadd_ps(s45, s67));
    // Lanes hold vectors 0, 2, 4, 6, 1, 3, 5, 7.
    let mut lanes = [0f32; 8];
    _mm256_storeu_ps(lanes.as_mut_ptr(), t);
    let mut out: [f32; 8] = std::array::from_fn(|r| lanes[(r % 2) * 4 + r / 2]);
    for (o, vr) in out.iter_mut().zip(&v) {
        for j in whole..n {
            *o += vr[j] * x[j];
        }
    }
    out
}

/// [`dot`] in 8-lane instructions when `isa` has them: the same products and the same additions
/// in the same order (the eight lane sums, then ((0+4)+(1+5))+((2+6)+(3+7)), then the tail), so
/// the result is bit-identical. For loops that take a dot product per rating; call it inside
/// [`Isa::run`] so it inlines.
#[inline(always)]
pub fn dot_isa(isa: Isa, a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if isa.has_avx2_fma() {
        // SAFETY: the AVX2 token is only made on a CPU that has AVX2.
        return unsafe { dot_avx2(a, b) };
    }
    let _ = isa;
    dot(a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
    use std::arch::x86_64::*;
    let n = a.len().min(b.len());
    let whole = n / 8 * 8;
    let mut acc = _mm256_setzero_ps();
    let mut i = 0;
    while i < whole {
        // Multiply, then add (no FMA): `dot` rounds every product.
        let p = _mm256_mul_ps(
            _mm256_loadu_ps(a.as_ptr().add(i)),
            _mm256_loadu_ps(b.as_ptr().add(i)),
        );
        acc = _mm256_add_ps(acc, p);
        i += 8;
    }
    // [a0+a4, a1+a5, a2+a6, a3+a7], then (s0+s1) and (s2+s3), then their sum.
    let s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps::<1>(acc));
    let t = _mm_add_ps(s, _mm_movehdup_ps(s));
    let mut sum = _mm_cvtss_f32(_mm_add_ss(t, _mm_movehl_ps(t, t)));
    for j in whole..n {
        sum += a[j] * b[j];
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_isa_is_bit_identical_to_dot() {
        let mut seed = 11;
        for n in [0, 1, 7, 8, 9, 16, 31, 32, 33, 64, 100] {
            for _ in 0..50 {
                let a: Vec<f32> = (0..n).map(|_| lcg(&mut seed) * 3.0).collect();
                let b: Vec<f32> = (0..n).map(|_| lcg(&mut seed) * 1e3).collect();
                for isa in Isa::available() {
                    let got = isa.run(|| dot_isa(isa, &a, &b));
                    assert_eq!(
                        got.to_bits(),
                        dot(&a, &b).to_bits(),
                        "n = {n}, {}",
                        isa.name()
                    );
                }
            }
        }
    }

    #[test]
    fn dot8_is_bit_identical_to_dot() {
        let mut seed = 23;
        for n in [0, 1, 7, 8, 9, 16, 31, 32, 33, 64, 100] {
            for _ in 0..20 {
                let vs: Vec<Vec<f32>> = (0..8)
                    .map(|_| (0..n).map(|_| lcg(&mut seed) * 3.0).collect())
                    .collect();
                let x: Vec<f32> = (0..n).map(|_| lcg(&mut seed) * 1e3).collect();
                let v: [&[f32]; 8] = std::array::from_fn(|r| &vs[r][..]);
                for isa in Isa::available() {
                    let got = isa.run(|| dot8_isa(isa, v, &x));
                    for r in 0..8 {
                        assert_eq!(
                            got[r].to_bits(),
                            dot(v[r], &x).to_bits(),
                            "n = {n}, vector {r}, {}",
                            isa.name()
                        );
                    }
                }
            }
        }
    }

    fn lcg(seed: &mut u64) -> f32 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*seed >> 40) as f32 / (1u64 << 24) as f32) - 0.5
    }

    fn block(rows: usize, k: usize, kp: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        let mut block = vec![0f32; rows * kp];
        for r in 0..rows {
            for c in 0..k {
                block[r * kp + c] = lcg(&mut s);
            }
        }
        block
    }

    /// Every instruction set this CPU has, each against an f64 reference.
    #[test]
    fn gram_kernels_match_the_definition() {
        for isa in Isa::available() {
            for (rows, k) in [(37, 40), (1, 1), (8, 16), (300, 64)] {
                let kp = padded(k);
                let block = block(rows, k, kp, 7);
                let mut got = vec![0f32; kp * kp];
                gram_accumulate(isa, &block, rows, kp, &mut got);
                for i in 0..k {
                    for j in i..k {
                        let want: f64 = (0..rows)
                            .map(|r| block[r * kp + i] as f64 * block[r * kp + j] as f64)
                            .sum();
                        let got = got[i * kp + j] as f64;
                        assert!(
                            (got - want).abs() < 1e-4 * (1.0 + want.abs()),
                            "{isa:?} {i},{j}"
                        );
                    }
                }
            }
        }
    }

    /// The vector bodies add every Gram entry in the same order, so they agree in every bit:
    /// training gives the same factors on AVX2 and AVX-512 CPUs.
    #[test]
    fn gram_vector_bodies_are_bit_identical() {
        let vector: Vec<Isa> = Isa::available()
            .into_iter()
            .filter(|isa| isa.has_avx2_fma())
            .collect();
        for (rows, k) in [
            (0, 32),
            (1, 1),
            (7, 16),
            (37, 40),
            (128, 32),
            (129, 33),
            (64, 64),
        ] {
            let kp = padded(k);
            let block = block(rows, k, kp, 3);
            // Earlier chunks' sums in the accumulator, as in a row with many ratings.
            let start: Vec<f32> = (0..kp * kp).map(|i| (i % 13) as f32 * 0.37).collect();
            let results: Vec<Vec<u32>> = vector
                .iter()
                .map(|&isa| {
                    let mut got = start.clone();
                    gram_accumulate(isa, &block, rows, kp, &mut got);
                    got.iter().map(|x| x.to_bits()).collect()
                })
                .collect();
            for (isa, got) in vector.iter().zip(&results).skip(1) {
                assert!(
                    got == &results[0],
                    "{} differs, rows {rows}, k {k}",
                    isa.name()
                );
            }
        }
    }

    #[test]
    fn rhs_and_column_sums_match_the_definition() {
        for isa in Isa::available() {
            for (rows, k) in [(37, 40), (1, 3), (256, 64)] {
                let kp = padded(k);
                let block = block(rows, k, kp, 9);
                let mut s = 5;
                let t: Vec<f32> = (0..rows).map(|_| lcg(&mut s)).collect();
                let (mut rhs, mut sums) = (vec![0.5f32; kp], vec![0.25f32; kp]);
                rhs_and_column_sums(isa, &block, rows, kp, &t, &mut rhs, &mut sums);
                for c in 0..kp {
                    let want_rhs: f64 = 0.5
                        + (0..rows)
                            .map(|r| t[r] as f64 * block[r * kp + c] as f64)
                            .sum::<f64>();
                    let want_sum: f64 =
                        0.25 + (0..rows).map(|r| block[r * kp + c] as f64).sum::<f64>();
                    assert!((rhs[c] as f64 - want_rhs).abs() < 1e-4 * (1.0 + want_rhs.abs()));
                    assert!((sums[c] as f64 - want_sum).abs() < 1e-4 * (1.0 + want_sum.abs()));
                }
            }
        }
    }

    /// The AVX2 and AVX-512 bodies agree in every bit.
    #[test]
    fn rhs_and_column_sums_vector_bodies_are_bit_identical() {
        let vector: Vec<Isa> = Isa::available()
            .into_iter()
            .filter(|isa| isa.has_avx2_fma())
            .collect();
        for (rows, k) in [(0, 16), (1, 3), (7, 32), (37, 40), (128, 32), (65, 64)] {
            let kp = padded(k);
            let block = block(rows, k, kp, 13);
            let mut s = 17;
            let t: Vec<f32> = (0..rows).map(|_| lcg(&mut s) * 4.0).collect();
            let results: Vec<(Vec<u32>, Vec<u32>)> = vector
                .iter()
                .map(|&isa| {
                    let (mut rhs, mut sums) = (vec![0.5f32; kp], vec![0.25f32; kp]);
                    rhs_and_column_sums(isa, &block, rows, kp, &t, &mut rhs, &mut sums);
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    (bits(&rhs), bits(&sums))
                })
                .collect();
            for (isa, got) in vector.iter().zip(&results).skip(1) {
                assert!(
                    got == &results[0],
                    "{} differs, rows {rows}, k {k}",
                    isa.name()
                );
            }
        }
    }

    #[test]
    fn dot_and_axpy_match_the_definition() {
        let mut s = 13;
        for n in 0..40 {
            let a: Vec<f32> = (0..n).map(|_| lcg(&mut s)).collect();
            let b: Vec<f32> = (0..n).map(|_| lcg(&mut s)).collect();
            let want: f64 = a.iter().zip(&b).map(|(&x, &y)| x as f64 * y as f64).sum();
            for isa in Isa::available() {
                // The same bits whichever instruction set the caller is compiled for.
                let got = isa.run(|| dot(&a, &b));
                assert_eq!(got.to_bits(), dot(&a, &b).to_bits(), "{isa:?} n={n}");
                assert!((got as f64 - want).abs() < 1e-5, "n={n}");
            }
            let mut y = b.clone();
            axpy(0.5, &a, &mut y);
            for i in 0..n {
                assert!(((y[i] - b[i] - 0.5 * a[i]) as f64).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn cholesky_solves_a_spd_system_and_refuses_a_singular_one() {
        for isa in Isa::available() {
            let n = 21;
            let ld = 24;
            let mut s = 3;
            let m: Vec<f32> = (0..n * n).map(|_| lcg(&mut s)).collect();
            // A = MᵀM + I is symmetric positive definite.
            let mut a = vec![0f32; n * ld];
            let mut full = vec![0f64; n * n];
            for i in 0..n {
                for j in 0..n {
                    let v: f64 = (0..n)
                        .map(|r| m[r * n + i] as f64 * m[r * n + j] as f64)
                        .sum::<f64>()
                        + if i == j { 1.0 } else { 0.0 };
                    full[i * n + j] = v;
                    if j >= i {
                        a[i * ld + j] = v as f32;
                    }
                }
            }
            let x_true: Vec<f32> = (0..n).map(|_| lcg(&mut s)).collect();
            let mut b: Vec<f32> = (0..n)
                .map(|i| {
                    (0..n)
                        .map(|j| full[i * n + j] * x_true[j] as f64)
                        .sum::<f64>() as f32
                })
                .collect();
            assert!(cholesky_upper(isa, &mut a, n, ld));
            cholesky_solve(isa, &a, n, ld, &mut b);
            for (x, t) in b.iter().zip(&x_true) {
                assert!((x - t).abs() < 1e-3, "{isa:?}: {x} vs {t}");
            }
            let mut singular = vec![0f32; 16];
            assert!(!cholesky_upper(isa, &mut singular, 2, 8));
        }
    }

    /// Every size around the panel and lane widths, every instruction set, against an f64
    /// reference.
    #[test]
    fn blocked_cholesky_matches_the_reference_for_every_size() {
        let mut s = 11;
        for n in 1..=70 {
            let ld = lane_stride(n);
            let m: Vec<f64> = (0..n * n).map(|_| lcg(&mut s) as f64).collect();
            let mut full = vec![0f64; n * n];
            for i in 0..n {
                for j in 0..n {
                    full[i * n + j] = (0..n).map(|r| m[r * n + i] * m[r * n + j]).sum::<f64>()
                        + if i == j { 0.5 } else { 0.0 };
                }
            }
            // Reference: unblocked Cholesky in f64 (upper, UᵀU = A).
            let mut u = full.clone();
            for i in 0..n {
                let d = u[i * n + i].sqrt();
                for j in i..n {
                    u[i * n + j] /= d;
                }
                for p in i + 1..n {
                    for j in p..n {
                        u[p * n + j] -= u[i * n + p] * u[i * n + j];
                    }
                }
            }
            let x_true: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n)
                .map(|i| (0..n).map(|j| full[i * n + j] * x_true[j]).sum::<f64>() as f32)
                .collect();
            // The vector bodies' factors and solutions, bit for bit (upper triangle, then x).
            let mut vector_bits: Vec<(Isa, Vec<u32>)> = Vec::new();
            for isa in Isa::available() {
                // Garbage below the diagonal and in the padding must not matter.
                let mut a = vec![f32::NAN; n * ld];
                for i in 0..n {
                    for j in i..n {
                        a[i * ld + j] = full[i * n + j] as f32;
                    }
                }
                assert!(cholesky_upper(isa, &mut a, n, ld), "{isa:?} n={n}");
                for i in 0..n {
                    for j in i..n {
                        let want = u[i * n + j];
                        let tol = 2e-3 * (1.0 + want.abs());
                        let got = a[i * ld + j] as f64;
                        assert!((got - want).abs() < tol, "{isa:?} n={n} ({i},{j})");
                    }
                }
                let mut x = b.clone();
                cholesky_solve(isa, &a, n, ld, &mut x);
                for i in 0..n {
                    let tol = 2e-2 * (1.0 + x_true[i].abs());
                    assert!(
                        (x[i] as f64 - x_true[i]).abs() < tol,
                        "{isa:?} n={n} x[{i}]"
                    );
                }
                if isa.has_avx2_fma() {
                    let upper = (0..n).flat_map(|i| (i..n).map(move |j| (i, j)));
                    let bits = upper
                        .map(|(i, j)| a[i * ld + j].to_bits())
                        .chain(x.iter().map(|v| v.to_bits()))
                        .collect();
                    vector_bits.push((isa, bits));
                }
            }
            for (isa, bits) in vector_bits.iter().skip(1) {
                assert!(
                    bits == &vector_bits[0].1,
                    "{} differs from {} at n={n}",
                    isa.name(),
                    vector_bits[0].0.name()
                );
            }
        }
    }

    #[test]
    fn the_parallel_gramian_is_bit_identical() {
        let mut s = 5;
        for (rows, k) in [(1, 3), (63, 8), (64, 16), (5000, 20), (2100 * 64 + 7, 9)] {
            let f: Vec<f32> = (0..rows * k).map(|_| lcg(&mut s)).collect();
            for isa in Isa::available() {
                let want = gramian(isa, &f, k);
                for threads in [1, 2, 3] {
                    let pool = crate::runtime::pool::thread_pool(Some(threads)).unwrap();
                    let got = pool.install(|| par_gramian(isa, &f, k));
                    assert_eq!(got, want, "{rows} × {k}, {threads} threads");
                }
            }
        }
    }

    #[test]
    fn gramian_and_its_regularized_form_match_the_definition() {
        let (rows, k) = (130, 12);
        let mut s = 21;
        let f: Vec<f32> = (0..rows * k).map(|_| lcg(&mut s)).collect();
        for isa in Isa::available() {
            let g = gramian(isa, &f, k);
            let base = regularized_gram(isa, &f, k, 16, 2.0, 0.5);
            for i in 0..k {
                for j in 0..k {
                    let want: f64 = (0..rows)
                        .map(|r| f[r * k + i] as f64 * f[r * k + j] as f64)
                        .sum();
                    assert!((g[i * k + j] as f64 - want).abs() < 1e-4 * (1.0 + want.abs()));
                    let want_base = 2.0 * g[i * k + j] + if i == j { 0.5 } else { 0.0 };
                    assert_eq!(base[i * 16 + j], want_base);
                }
                assert!(base[i * 16 + k..(i + 1) * 16].iter().all(|&v| v == 0.0));
            }
        }
    }
}

#[cfg(test)]
mod timing {
    use super::*;

    /// `cargo test -p alsrec-core --release kernel_speed -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn kernel_speed() {
        for k in [32usize, 64] {
            let kp = padded(k);
            let rows = 256;
            let block: Vec<f32> = (0..rows * kp).map(|i| (i % 7) as f32 * 0.1).collect();
            let mut gram = vec![0f32; kp * kp];
            let reps = 2000;
            let t = std::time::Instant::now();
            for _ in 0..reps {
                gram_accumulate(Isa::detected(), &block, rows, kp, &mut gram);
            }
            let s = t.elapsed().as_secs_f64();
            let flops = 2.0 * (rows * k * k) as f64 * reps as f64;
            eprintln!("k={k} gram: {:.1} GFLOP/s (k² convention)", flops / s / 1e9);
            let n = k + 1;
            let ld = lane_stride(n);
            let mut spd = vec![0f32; n * ld];
            for i in 0..n {
                for j in i..n {
                    spd[i * ld + j] = if i == j { n as f32 } else { 0.5 };
                }
            }
            let mut a = spd.clone();
            let mut x = vec![1f32; n];
            let reps = 20000;
            let t = std::time::Instant::now();
            for _ in 0..reps {
                a.copy_from_slice(&spd);
                assert!(cholesky_upper(Isa::detected(), &mut a, n, ld));
            }
            let solve_start = std::time::Instant::now();
            for _ in 0..reps {
                // Fresh right-hand side: solving in place repeatedly would decay into denormals.
                x.fill(1.0);
                cholesky_solve(Isa::detected(), &a, n, ld, &mut x);
            }
            let solve = solve_start.elapsed().as_secs_f64() / reps as f64;
            eprintln!("k={k} cholesky_solve: {:.2} µs each", solve * 1e6);
            let t = {
                let e = solve_start.duration_since(t);
                std::time::Instant::now() - e
            };
            let s = t.elapsed().as_secs_f64();
            let flops = (n * n * n) as f64 / 3.0 * reps as f64;
            eprintln!(
                "k={k} cholesky: {:.1} GFLOP/s, {:.2} µs each",
                flops / s / 1e9,
                s / reps as f64 * 1e6
            );
        }
    }
}
