//! One exact block update of explicit ALS: for every row, the regularized least-squares solution
//! of [x; b] against the fixed other side, with x ∈ R^k the latent vector and b the bias, solved
//! jointly as one (k+1)-system (`../shared/GUIDE.md` §1).

use super::schedule::par_solve_rows;
use crate::data::sparse::Csr;
use crate::kernels::dense::{
    cholesky_solve, cholesky_upper, copy_row, gram_accumulate_ahead, padded, prefetch_vector,
    rhs_and_column_sums, system_stride, Lookahead,
};
use crate::runtime::cancel::CancelToken;

/// Ratings gathered per Gram update: the block stays within half of L1 (16 KiB), so the Gram
/// kernel's repeated passes over it hit L1 while the gathers stream in beside it.
pub(crate) fn chunk_rows(kp: usize) -> usize {
    // The bias-only model (kp = 0) gathers nothing.
    (16384 / (kp.max(1) * 4)).max(8)
}

/// How many ratings ahead the gather prefetches: enough to cover a memory round trip.
pub(crate) const PREFETCH_AHEAD: usize = 16;

/// The fixed side of a half-step and the regularizers of the side being solved.
pub struct HalfStep<'a> {
    /// Rows to solve: their ratings against the other side's indices.
    pub ratings: &'a Csr,
    pub other_factors: &'a [f32],
    pub other_bias: &'a [f32],
    pub mu: f32,
    pub k: usize,
    pub lambda: f32,
    pub tau: f32,
    pub gamma: f32,
    /// ALS-WR: scale τ and γ by the row's number of ratings.
    pub weighted: bool,
    /// The prior mean of each row's vector (genre model); zero when absent.
    pub prior: Option<&'a [f32]>,
    /// Polled before every row, so a huge half-step stops promptly.
    pub cancel: Option<&'a CancelToken>,
}

/// Per-thread buffers, reused across rows: no allocation per solve.
pub(crate) struct Scratch {
    /// chunk_rows × kp gathered vectors; the padding columns stay zero.
    block: Vec<f32>,
    /// kp × kp Gram accumulator (upper triangle used).
    gram: Vec<f32>,
    /// (k+1) × (k+1) system (row stride `system_stride(k+1)`), then its Cholesky factor.
    system: Vec<f32>,
    /// Right-hand side, then the solution.
    rhs: Vec<f32>,
    /// Σ v over the row's ratings: the bias column of the system (kp long).
    col_sum: Vec<f32>,
    /// r − μ − c for each rating of the current chunk.
    targets: Vec<f32>,
}

impl Scratch {
    pub(crate) fn new(k: usize) -> Scratch {
        let kp = padded(k);
        Scratch {
            block: vec![0.0; chunk_rows(kp) * kp],
            gram: vec![0.0; kp * kp],
            system: vec![0.0; (k + 1) * system_stride(k + 1)],
            // kp long so the vector kernels need no edges; the system uses the first k (+1).
            rhs: vec![0.0; kp.max(k + 1)],
            col_sum: vec![0.0; kp],
            targets: vec![0.0; chunk_rows(kp)],
        }
    }
}

impl HalfStep<'_> {
    /// Solves every row in parallel, writing vectors and biases in place. Each row depends only
    /// on the fixed side, so the result is the same for any thread count.
    pub fn run(&self, factors: &mut [f32], bias: &mut [f32]) {
        let k = self.k;
        let rows = self.ratings.nrows();
        assert_eq!(bias.len(), rows);
        assert_eq!(factors.len(), rows * k);
        let init = || Scratch::new(k);
        let solve = |scratch: &mut Scratch, row: usize, x: &mut [f32], b: Option<&mut f32>| {
            if self.cancel.is_some_and(|c| c.is_cancelled()) {
                return;
            }
            let b = b.expect("every row has a bias");
            self.solve_row(row, x, b, scratch)
        };
        // A row's Cholesky costs about k/3 ratings' worth of Gram updates.
        par_solve_rows(
            self.ratings,
            |r| self.ratings.row_len(r) + k / 3 + 4,
            k,
            factors,
            bias,
            init,
            solve,
        );
    }

    fn solve_row(&self, row: usize, x: &mut [f32], b: &mut f32, s: &mut Scratch) {
        #[cfg(target_arch = "x86_64")]
        {
            if crate::kernels::dense::has_avx2_fma() {
                // SAFETY: the CPU supports the features the wrapper is compiled for.
                unsafe { self.solve_row_avx2(row, x, b, s) };
                return;
            }
        }
        self.solve_row_body(row, x, b, s)
    }

    /// The same body compiled for AVX2 + FMA, so its axpys and dot products use 8 lanes.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn solve_row_avx2(&self, row: usize, x: &mut [f32], b: &mut f32, s: &mut Scratch) {
        self.solve_row_body(row, x, b, s)
    }

    #[inline(always)]
    fn solve_row_body(&self, row: usize, x: &mut [f32], b: &mut f32, s: &mut Scratch) {
        let k = self.k;
        let kp = padded(k);
        let (cols, vals) = self.ratings.row(row);
        let prior = self.prior.map(|p| &p[row * k..(row + 1) * k]);
        if cols.is_empty() {
            // No data: the minimum of the regularizers alone.
            match prior {
                Some(p) => x.copy_from_slice(p),
                None => x.fill(0.0),
            }
            *b = 0.0;
            return;
        }
        let deg = cols.len();
        s.gram.fill(0.0);
        s.rhs.fill(0.0);
        s.col_sum.fill(0.0);
        let mut target_sum = 0f32;
        let chunk = chunk_rows(kp);
        for (start, (chunk_cols, chunk_vals)) in (0..)
            .step_by(chunk)
            .zip(cols.chunks(chunk).zip(vals.chunks(chunk)))
        {
            // Gather the chunk's vectors into the block while summing the right-hand side.
            for (slot, (&c, &r)) in chunk_cols.iter().zip(chunk_vals).enumerate() {
                // The other side's vectors are scattered over a large matrix: ask for the one
                // needed a few ratings ahead now, so its cache misses overlap this work.
                if let Some(&ahead) = cols.get(start + slot + PREFETCH_AHEAD) {
                    prefetch_vector(self.other_factors, ahead as usize, k);
                }
                let c = c as usize;
                copy_row(
                    &mut s.block[slot * kp..],
                    &self.other_factors[c * k..(c + 1) * k],
                );
                let t = r - self.mu - self.other_bias[c];
                s.targets[slot] = t;
                target_sum += t;
            }
            if k > 0 {
                // While this chunk's product runs, fetch the next chunk's vectors (or the next
                // row's).
                let next_row = match row + 1 < self.ratings.nrows() {
                    true => self.ratings.row(row + 1).0,
                    false => &[],
                };
                let rest = &cols[(start + chunk_cols.len()).min(deg)..];
                let mut ahead = Lookahead::new(self.other_factors, k, rest, next_row);
                gram_accumulate_ahead(&s.block, chunk_cols.len(), kp, &mut s.gram, &mut ahead);
                rhs_and_column_sums(
                    &s.block,
                    chunk_cols.len(),
                    kp,
                    &s.targets,
                    &mut s.rhs,
                    &mut s.col_sum,
                );
            }
        }
        let count = if self.weighted { deg as f32 } else { 1.0 };
        let (tau, gamma, lambda) = (self.tau * count, self.gamma * count, self.lambda);
        // The (k+1)-system: λ [VᵀV  Vᵀ1; 1ᵀV  deg] + diag(τ…τ, γ), upper triangle only.
        let n1 = k + 1;
        let ld = system_stride(n1);
        for i in 0..k {
            let sys = &mut s.system[i * ld..i * ld + n1];
            for (a, &g) in sys[i..k].iter_mut().zip(&s.gram[i * kp + i..i * kp + k]) {
                *a = lambda * g;
            }
            sys[i] += tau;
            sys[k] = lambda * s.col_sum[i];
            s.rhs[i] *= lambda;
            if let Some(p) = prior {
                s.rhs[i] += tau * p[i];
            }
        }
        s.system[k * ld + k] = lambda * deg as f32 + gamma;
        s.rhs[k] = lambda * target_sum;
        if cholesky_upper(&mut s.system, n1, ld) {
            cholesky_solve(&s.system, n1, ld, &mut s.rhs);
            x.copy_from_slice(&s.rhs[..k]);
            *b = s.rhs[k];
        } else {
            self.least_norm_fallback(row, x, b, prior);
        }
    }

    /// Singular only when a regularizer is 0 and the row has too few ratings: the least-norm
    /// solution (rebuilt in f64, rare, so it may allocate) still minimizes the block.
    #[cold]
    fn least_norm_fallback(&self, row: usize, x: &mut [f32], b: &mut f32, prior: Option<&[f32]>) {
        use nalgebra::{DMatrix, DVector};
        let k = self.k;
        let n1 = k + 1;
        let (cols, vals) = self.ratings.row(row);
        let count = if self.weighted {
            cols.len() as f64
        } else {
            1.0
        };
        let lambda = self.lambda as f64;
        let mut a = DMatrix::<f64>::zeros(n1, n1);
        let mut rhs = DVector::<f64>::zeros(n1);
        let mut ext = vec![1f64; n1];
        for (&c, &r) in cols.iter().zip(vals) {
            let c = c as usize;
            for (e, &v) in ext.iter_mut().zip(&self.other_factors[c * k..(c + 1) * k]) {
                *e = v as f64;
            }
            let t = (r - self.mu - self.other_bias[c]) as f64;
            for i in 0..n1 {
                rhs[i] += lambda * t * ext[i];
                for j in 0..n1 {
                    a[(i, j)] += lambda * ext[i] * ext[j];
                }
            }
        }
        for i in 0..k {
            a[(i, i)] += self.tau as f64 * count;
            if let Some(p) = prior {
                rhs[i] += self.tau as f64 * count * p[i] as f64;
            }
        }
        a[(k, k)] += self.gamma as f64 * count;
        if let Ok(sol) = a.svd(true, true).solve(&rhs, 1e-9) {
            for i in 0..k {
                x[i] = sol[i] as f32;
            }
            *b = sol[k] as f32;
        }
    }
}
