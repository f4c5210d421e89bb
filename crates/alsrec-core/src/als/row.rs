//! The normal equations of one row, built in one place. Training's half-steps, the fold-in of
//! new users and movies, `partialFit` and explanations all solve a row through [`ExplicitRow`]
//! or [`ImplicitRow`], so a folded-in row is exactly the row training would have produced
//! (docs/model.md, "The block update of one row" and "Fold-in").
//!
//! Explicit models solve the (k+1)-system for [x; b], with ṽ_j = [v_j; 1] and ω = the row's
//! number of ratings under ALS-WR (1 otherwise):
//!   (λ Σ ṽ_j ṽ_jᵀ + ω diag(τ…τ, γ)) [x; b] = λ Σ ṽ_j (r_j − μ − c_j) + ω [τ p; 0].
//! Implicit models solve for x alone, with confidence 1 + α r_j on the rated movies:
//!   (λ VᵀV + τ I + λ Σ α r_j v_j v_jᵀ) x = λ Σ (1 + α r_j) v_j.
//! The rows a system is built from come from a [`Neighbours`] source: a sparse row against the
//! other side's matrices in training ([`IndexedRow`]), gathered vectors in fold-ins
//! ([`Gathered`]). Both feed the same arithmetic in the same order.

use crate::kernels::dense::{
    axpy, cholesky_solve, cholesky_upper, copy_row, dot8_isa, dot_isa, gram_accumulate,
    gram_accumulate_ahead, padded, prefetch_value, prefetch_vector, rhs_and_column_sums, Lookahead,
};
use crate::kernels::isa::{lane_stride, Isa};

/// Ratings gathered per Gram update of the explicit system: the block stays within half of L1
/// (16 KiB), so the Gram kernel's repeated passes over it hit L1 while the gathers stream in.
pub(crate) fn chunk_rows(kp: usize) -> usize {
    // The bias-only model (kp = 0) gathers nothing.
    (16384 / (kp.max(1) * 4)).max(8)
}

/// Ratings per Gram update of the implicit system.
pub(crate) const IMPLICIT_CHUNK: usize = 64;

/// How many ratings ahead a gather prefetches: enough to cover a memory round trip.
pub(crate) const PREFETCH_AHEAD: usize = 16;

/// The fixed side's rows one row is solved against: a vector, a bias and a rating each.
pub trait Neighbours {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The k floats of neighbour `j`.
    fn vector(&self, j: usize) -> &[f32];
    fn bias(&self, j: usize) -> f32;
    fn rating(&self, j: usize) -> f32;
    /// Hints neighbour `j`'s vector into cache, if it exists and is not gathered already.
    fn prefetch(&self, j: usize);
    /// The neighbours from `from` on (and the next row's), for the Gram kernel to prefetch.
    fn lookahead(&self, from: usize) -> Lookahead<'_>;
}

/// A row of a sparse matrix against the other side's factor matrix and biases: training.
pub struct IndexedRow<'a> {
    pub cols: &'a [u32],
    pub vals: crate::data::sparse::RowValues<'a>,
    pub factors: &'a [f32],
    /// Empty for implicit models, which have no biases.
    pub bias: &'a [f32],
    pub k: usize,
    /// The next row's columns, prefetched while this row's last chunk is multiplied.
    pub next_row: &'a [u32],
}

impl<'a> IndexedRow<'a> {
    /// Row `row` of `ratings` against the other side's `factors` and `bias` (the next row's
    /// columns taken for prefetching).
    #[inline(always)]
    pub fn of(
        ratings: &'a crate::data::sparse::Csr,
        row: usize,
        factors: &'a [f32],
        bias: &'a [f32],
        k: usize,
    ) -> IndexedRow<'a> {
        let (cols, vals) = ratings.row(row);
        let next_row = match row + 1 < ratings.nrows() {
            true => ratings.row(row + 1).0,
            false => &[],
        };
        IndexedRow {
            cols,
            vals,
            factors,
            bias,
            k,
            next_row,
        }
    }
}

impl Neighbours for IndexedRow<'_> {
    #[inline(always)]
    fn len(&self) -> usize {
        self.cols.len()
    }
    #[inline(always)]
    fn vector(&self, j: usize) -> &[f32] {
        let c = self.cols[j] as usize;
        &self.factors[c * self.k..(c + 1) * self.k]
    }
    #[inline(always)]
    fn bias(&self, j: usize) -> f32 {
        self.bias[self.cols[j] as usize]
    }
    #[inline(always)]
    fn rating(&self, j: usize) -> f32 {
        self.vals.get(j)
    }
    #[inline(always)]
    fn prefetch(&self, j: usize) {
        // The other side's vectors are scattered over a large matrix: asking for one needed a
        // few ratings ahead lets its cache misses overlap the current work.
        if let Some(&ahead) = self.cols.get(j) {
            prefetch_vector(self.factors, ahead as usize, self.k);
            prefetch_value(self.bias, ahead as usize);
        }
    }
    #[inline(always)]
    fn lookahead(&self, from: usize) -> Lookahead<'_> {
        let rest = &self.cols[from.min(self.cols.len())..];
        Lookahead::new(self.factors, self.bias, self.k, rest, self.next_row)
    }
}

/// Neighbours gathered into arrays: the rows of a fold-in, which may include vectors that are
/// no row of the other side (a genre's vector standing for a liked genre).
#[derive(Debug, Default, Clone)]
pub struct Gathered {
    pub k: usize,
    /// len × k.
    pub vectors: Vec<f32>,
    pub bias: Vec<f32>,
    pub ratings: Vec<f32>,
}

impl Gathered {
    pub fn new(k: usize) -> Gathered {
        Gathered {
            k,
            ..Gathered::default()
        }
    }
    pub fn push(&mut self, vector: &[f32], bias: f32, rating: f32) {
        debug_assert_eq!(vector.len(), self.k);
        self.vectors.extend_from_slice(vector);
        self.bias.push(bias);
        self.ratings.push(rating);
    }
}

impl Neighbours for Gathered {
    fn len(&self) -> usize {
        self.ratings.len()
    }
    fn vector(&self, j: usize) -> &[f32] {
        &self.vectors[j * self.k..(j + 1) * self.k]
    }
    fn bias(&self, j: usize) -> f32 {
        self.bias[j]
    }
    fn rating(&self, j: usize) -> f32 {
        self.ratings[j]
    }
    fn prefetch(&self, _: usize) {}
    fn lookahead(&self, _: usize) -> Lookahead<'_> {
        Lookahead::none()
    }
}

/// (Σ e², Σ |e|) over a solved explicit row's ratings, e = r − (μ + b_j + b + v_j·x): with the
/// neighbours the users and the row a movie, the f32 sum `Model::predict` forms, term by term.
#[inline(always)]
pub fn explicit_errors<N: Neighbours>(isa: Isa, rows: &N, mu: f32, x: &[f32], b: f32) -> [f64; 2] {
    let mut acc = [0.0; 2];
    let mut add = |j: usize, dot: f32| {
        let s = mu + rows.bias(j) + b + dot;
        let e = (rows.rating(j) - s) as f64;
        acc[0] += e * e;
        acc[1] += e.abs();
    };
    let n = rows.len();
    let whole = n / 8 * 8;
    // Eight dot products at a time share their reductions (the same f32 each as one by one).
    for j0 in (0..whole).step_by(8) {
        for t in 0..8 {
            rows.prefetch(j0 + t + PREFETCH_AHEAD);
        }
        let dots = dot8_isa(isa, std::array::from_fn(|t| rows.vector(j0 + t)), x);
        for (t, &d) in dots.iter().enumerate() {
            add(j0 + t, d);
        }
    }
    for j in whole..n {
        add(j, dot_isa(isa, rows.vector(j), x));
    }
    acc
}

/// Per-thread buffers of a row solve, reused across rows: no allocation per row.
pub struct RowScratch {
    /// Gathered vectors of one chunk (chunk × kp); the padding columns stay zero.
    block: Vec<f32>,
    /// kp × kp Gram accumulator (upper triangle used).
    gram: Vec<f32>,
    /// The system (row stride `lane_stride(n)`), then its Cholesky factor.
    pub(crate) system: Vec<f32>,
    /// Right-hand side, then the solution.
    pub(crate) rhs: Vec<f32>,
    /// Σ v over the row's ratings: the bias column of the explicit system (kp long).
    col_sum: Vec<f32>,
    /// r − μ − c for each rating of the current chunk.
    targets: Vec<f32>,
}

impl RowScratch {
    pub fn new(k: usize) -> RowScratch {
        let kp = padded(k);
        let chunk = chunk_rows(kp).max(IMPLICIT_CHUNK);
        RowScratch {
            block: vec![0.0; chunk * kp],
            gram: vec![0.0; kp * kp],
            system: vec![0.0; (k + 1) * lane_stride(k + 1)],
            // kp long so the vector kernels need no edges; the system uses the first k (+1).
            rhs: vec![0.0; kp.max(k + 1)],
            col_sum: vec![0.0; kp],
            targets: vec![0.0; chunk],
        }
    }
}

/// One explicit row's regularized least-squares problem against fixed neighbours.
#[derive(Clone, Copy)]
pub struct ExplicitRow<'a> {
    pub k: usize,
    pub mu: f32,
    pub lambda: f32,
    pub tau: f32,
    pub gamma: f32,
    /// ALS-WR: scale τ and γ by the row's number of ratings.
    pub weighted: bool,
    /// The prior mean of the row's vector (genre model: a movie's genre prior); zero if absent.
    pub prior: Option<&'a [f32]>,
    /// A Bayesian model's prior N(m, Λ⁻¹): when present it replaces τ I and `prior` for the
    /// vector (and ω is 1).
    pub full_prior: Option<FullPrior<'a>>,
}

/// The vector prior N(m, Λ⁻¹) of a Bayesian row: Λ in the system, Λ m in the right-hand side.
#[derive(Clone, Copy)]
pub struct FullPrior<'a> {
    pub mean: &'a [f32],
    /// k × k, row-major.
    pub precision: &'a [f32],
    pub precision_times_mean: &'a [f32],
}

impl<'a> FullPrior<'a> {
    pub fn of(prior: &'a crate::model::posterior::RowPrior) -> FullPrior<'a> {
        FullPrior {
            mean: &prior.mean,
            precision: &prior.precision,
            precision_times_mean: &prior.precision_times_mean,
        }
    }
}

impl ExplicitRow<'_> {
    /// Solves for the row's vector `x` and bias `b`. Without neighbours: the regularizers'
    /// minimum (the prior, bias 0); with a singular system (a regularizer 0 and too few
    /// ratings): the least-norm solution.
    #[inline(always)]
    pub fn solve<N: Neighbours>(
        &self,
        isa: Isa,
        rows: &N,
        s: &mut RowScratch,
        x: &mut [f32],
        b: &mut f32,
    ) {
        let k = self.k;
        if rows.is_empty() {
            match (self.full_prior, self.prior) {
                (Some(f), _) => x.copy_from_slice(f.mean),
                (None, Some(p)) => x.copy_from_slice(p),
                (None, None) => x.fill(0.0),
            }
            *b = 0.0;
            return;
        }
        if self.factorize(isa, rows, s) {
            cholesky_solve(isa, &s.system, k + 1, lane_stride(k + 1), &mut s.rhs);
            x.copy_from_slice(&s.rhs[..k]);
            *b = s.rhs[k];
        } else {
            self.least_norm(rows, x, b);
        }
    }

    /// Builds the (k+1)-system of `rows` into `s` and factorizes it: `s.system` holds U with
    /// A = UᵀU (upper triangle, row stride `lane_stride(k + 1)`), `s.rhs` the right-hand side.
    /// False when A is not positive definite.
    #[inline(always)]
    pub fn factorize<N: Neighbours>(&self, isa: Isa, rows: &N, s: &mut RowScratch) -> bool {
        let k = self.k;
        let kp = padded(k);
        let deg = rows.len();
        s.gram.fill(0.0);
        s.rhs.fill(0.0);
        s.col_sum.fill(0.0);
        let mut target_sum = 0f32;
        let chunk = chunk_rows(kp);
        for start in (0..deg).step_by(chunk) {
            let len = chunk.min(deg - start);
            // Gather the chunk's vectors into the block while summing the right-hand side.
            for slot in 0..len {
                let j = start + slot;
                rows.prefetch(j + PREFETCH_AHEAD);
                copy_row(&mut s.block[slot * kp..], rows.vector(j));
                let t = rows.rating(j) - self.mu - rows.bias(j);
                s.targets[slot] = t;
                target_sum += t;
            }
            if k > 0 {
                // While this chunk's product runs, fetch the next chunk's vectors (or the next
                // row's).
                let mut ahead = rows.lookahead(start + len);
                gram_accumulate_ahead(isa, &s.block, len, kp, &mut s.gram, &mut ahead);
                rhs_and_column_sums(
                    isa,
                    &s.block,
                    len,
                    kp,
                    &s.targets,
                    &mut s.rhs,
                    &mut s.col_sum,
                );
            }
        }
        let count = if self.weighted { deg as f32 } else { 1.0 };
        let (tau, gamma, lambda) = (self.tau * count, self.gamma * count, self.lambda);
        // The (k+1)-system: λ [VᵀV  Vᵀ1; 1ᵀV  deg] + diag(τ…τ, γ), upper triangle only (Λ in
        // place of τ I under a full prior).
        let n1 = k + 1;
        let ld = lane_stride(n1);
        for i in 0..k {
            let sys = &mut s.system[i * ld..i * ld + n1];
            for (a, &g) in sys[i..k].iter_mut().zip(&s.gram[i * kp + i..i * kp + k]) {
                *a = lambda * g;
            }
            match self.full_prior {
                Some(f) => {
                    for (a, &q) in sys[i..k]
                        .iter_mut()
                        .zip(&f.precision[i * k + i..(i + 1) * k])
                    {
                        *a += q;
                    }
                }
                None => sys[i] += tau,
            }
            sys[k] = lambda * s.col_sum[i];
            s.rhs[i] *= lambda;
            match (self.full_prior, self.prior) {
                (Some(f), _) => s.rhs[i] += f.precision_times_mean[i],
                (None, Some(p)) => s.rhs[i] += tau * p[i],
                (None, None) => {}
            }
        }
        s.system[k * ld + k] = lambda * deg as f32 + gamma;
        s.rhs[k] = lambda * target_sum;
        cholesky_upper(isa, &mut s.system, n1, ld)
    }

    /// The least-norm solution of the same system, rebuilt in f64 (rare, so it may allocate).
    #[cold]
    fn least_norm<N: Neighbours>(&self, rows: &N, x: &mut [f32], b: &mut f32) {
        use nalgebra::{DMatrix, DVector};
        let k = self.k;
        let n1 = k + 1;
        let count = if self.weighted {
            rows.len() as f64
        } else {
            1.0
        };
        let lambda = self.lambda as f64;
        let mut a = DMatrix::<f64>::zeros(n1, n1);
        let mut rhs = DVector::<f64>::zeros(n1);
        let mut ext = vec![1f64; n1];
        for j in 0..rows.len() {
            for (e, &v) in ext.iter_mut().zip(rows.vector(j)) {
                *e = v as f64;
            }
            let t = (rows.rating(j) - self.mu - rows.bias(j)) as f64;
            for i in 0..n1 {
                rhs[i] += lambda * t * ext[i];
                for m in 0..n1 {
                    a[(i, m)] += lambda * ext[i] * ext[m];
                }
            }
        }
        for i in 0..k {
            match self.full_prior {
                Some(f) => {
                    for m in 0..k {
                        a[(i, m)] += f.precision[i * k + m] as f64;
                    }
                    rhs[i] += f.precision_times_mean[i] as f64;
                }
                None => {
                    a[(i, i)] += self.tau as f64 * count;
                    if let Some(p) = self.prior {
                        rhs[i] += self.tau as f64 * count * p[i] as f64;
                    }
                }
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

/// One implicit row's exact problem: the shared dense part `base` = λ VᵀV + τ I (k × k, full,
/// [`crate::kernels::dense::regularized_gram`]) plus the row's confidence terms.
#[derive(Clone, Copy)]
pub struct ImplicitRow<'a> {
    pub k: usize,
    pub lambda: f32,
    pub alpha: f32,
    pub base: &'a [f32],
}

impl ImplicitRow<'_> {
    /// Solves for the row's vector into `x`; false (x untouched) when the system is singular
    /// (τ = 0 and a degenerate fixed side).
    #[inline(always)]
    pub fn solve<N: Neighbours>(
        &self,
        isa: Isa,
        rows: &N,
        s: &mut RowScratch,
        x: &mut [f32],
    ) -> bool {
        let k = self.k;
        if !self.factorize(isa, rows, s) {
            return false;
        }
        cholesky_solve(isa, &s.system, k, lane_stride(k), &mut s.rhs[..k]);
        x.copy_from_slice(&s.rhs[..k]);
        true
    }

    /// Builds the k-system of `rows` into `s` and factorizes it (as [`ExplicitRow::factorize`]).
    #[inline(always)]
    pub fn factorize<N: Neighbours>(&self, isa: Isa, rows: &N, s: &mut RowScratch) -> bool {
        let k = self.k;
        let kp = padded(k);
        // b = λ Σ c_j v_j.
        s.rhs.fill(0.0);
        for j in 0..rows.len() {
            let conf = 1.0 + self.alpha * rows.rating(j);
            axpy(self.lambda * conf, rows.vector(j), &mut s.rhs[..k]);
        }
        s.gram.fill(0.0);
        let deg = rows.len();
        for start in (0..deg).step_by(IMPLICIT_CHUNK) {
            let len = IMPLICIT_CHUNK.min(deg - start);
            // Rows √(λ α r)·v, so the block's Gram matrix is λ Σ (c − 1) v vᵀ.
            for slot in 0..len {
                let j = start + slot;
                let w = (self.lambda * self.alpha * rows.rating(j)).max(0.0).sqrt();
                for (b, &vi) in s.block[slot * kp..slot * kp + k]
                    .iter_mut()
                    .zip(rows.vector(j))
                {
                    *b = w * vi;
                }
            }
            gram_accumulate(isa, &s.block, len, kp, &mut s.gram);
        }
        let ld = lane_stride(k);
        for i in 0..k {
            for j in i..k {
                s.system[i * ld + j] = self.base[i * k + j] + s.gram[i * kp + j];
            }
        }
        cholesky_upper(isa, &mut s.system, k, ld)
    }
}
