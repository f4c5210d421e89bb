//! Implicit-feedback ALS (Hu, Koren, Volinsky 2008): every (user, movie) pair counts, with
//! preference 1 and confidence c = 1 + α·r where rated, preference 0 and confidence 1 elsewhere.
//!
//! Row system: (λ YᵀY + λ Σ_{i∈Ω} (c_i − 1) y_i y_iᵀ + τ I) x = λ Σ_{i∈Ω} c_i y_i. The dense part
//! λ YᵀY + τ I is shared by all rows and formed once per half-step, so a row costs O(deg·k) per
//! conjugate-gradient step, or O(deg·k² + k³) with the exact Cholesky solver.

mod lockstep;
pub mod step;

use lockstep::Lockstep;
use step::ImplicitStep;

use super::metrics::RowSums;
use super::row::{ImplicitRow, IndexedRow, RowScratch, IMPLICIT_CHUNK, PREFETCH_AHEAD};

/// How far ahead a CG row's gather prefetches: twice the explicit gather's, since this gather
/// has no Gram product between vectors to hide a miss behind (measured on the 25M set at k = 64).
const GATHER_AHEAD: usize = 2 * PREFETCH_AHEAD;
use super::schedule::par_solve_rows;
use crate::kernels::cg::{symmetric_matvec, weighted_gram_apply, RowWeights};
use crate::kernels::dense::{
    axpy, dot, dot8_isa, dot_isa, gram_accumulate, padded, par_gramian, prefetch_vector,
    regularized,
};
use crate::kernels::isa::{lane_stride, Isa};
use rayon::prelude::*;

/// CG solves rows with at least this many ratings in lockstep.
pub const LOCKSTEP_MIN_DEGREE: usize = lockstep::MIN_DEGREE;

/// Ratings per Gram update for long rows and the Gramian.
const CHUNK: usize = IMPLICIT_CHUNK;

/// Gathered neighbours beyond this size (a share of L3; measured best of 1, 4 and 16 MiB on the
/// 25M-rating benchmark) make a row "long".
pub const DENSE_ROW_BYTES: usize = 4 << 20;

struct Scratch {
    block: Vec<f32>,
    /// The row's neighbour vectors, gathered once (rows padded to a multiple of 8, columns to
    /// `lane_stride(k)`, zeros) so every CG step reads contiguous, cached memory.
    gathered: Vec<f32>,
    /// λ α r per neighbour: the confidence above 1, weighted (zero on padding rows).
    weights: Vec<f32>,
    /// λ (1 + α r) per neighbour: the right-hand side's weights.
    rhs_weights: Vec<f32>,
    gram: Vec<f32>,
    rhs: Vec<f32>,
    /// The exact solver's buffers.
    row: RowScratch,
    /// A long row's whole system, kl × kl (CG on rows too long to keep gathered).
    dense: Vec<f32>,
    /// The CG iterate, padded to `lane_stride(k)`.
    iterate: Vec<f32>,
    residual: Vec<f32>,
    direction: Vec<f32>,
    product: Vec<f32>,
}

impl ImplicitStep<'_> {
    /// Updates every row's vector in place (the current value is the CG starting point).
    pub fn run(&self, factors: &mut [f32]) {
        self.run_with_sums(factors, &mut [], 0);
    }

    /// The fixed side's Gram matrix YᵀY (k × k), as [`crate::kernels::dense::gramian`] forms it:
    /// what [`ImplicitStep::run_with_sums`] builds the shared part of every row from.
    pub fn other_gram(&self) -> Vec<f32> {
        par_gramian(Isa::detected(), self.other_factors, self.k)
    }

    /// As [`ImplicitStep::run`], and when `sums` is not empty leaves in `sums[row]` the solved
    /// row's |x|² and, for rows of at most `errors` ratings, its observed pairs' errors under
    /// the solved row. Returns the fixed side's Gram matrix YᵀY, which the loss needs too.
    pub fn run_with_sums(
        &self,
        factors: &mut [f32],
        sums: &mut [RowSums],
        errors: usize,
    ) -> Vec<f32> {
        let k = self.k;
        let kp = padded(k);
        let kl = lane_stride(k);
        // λ YᵀY + τ I, shared by every row: k × k for the exact solver, padded to kl × kl
        // (zeros) for the CG kernels.
        let isa = Isa::detected();
        let stride = if self.cg_steps.is_some() { kl } else { k };
        let gram = self.other_gram();
        let base = regularized(&gram, k, stride, self.lambda, self.tau);
        let init = || Scratch {
            block: vec![0.0; CHUNK * kp],
            gathered: Vec::new(),
            weights: Vec::new(),
            rhs_weights: Vec::new(),
            gram: vec![0.0; kp * kp],
            row: RowScratch::new(k),
            rhs: vec![0.0; kl],
            dense: if self.cg_steps.is_some() {
                vec![0.0; kl * kl]
            } else {
                Vec::new()
            },
            iterate: vec![0.0; kl],
            residual: vec![0.0; kl],
            direction: vec![0.0; kl],
            product: vec![0.0; kl],
        };
        // With CG, the longest rows are solved together in lockstep, after the others.
        let long = match self.cg_steps {
            Some(_) => lockstep::long_rows(self.ratings, kl, self.lockstep_min_degree),
            None => Vec::new(),
        };
        let mut in_lockstep = vec![false; self.ratings.nrows()];
        for &r in &long {
            in_lockstep[r as usize] = true;
        }
        let is_long = |row: usize| in_lockstep[row];
        let solve = |s: &mut Scratch,
                     row: usize,
                     x: &mut [f32],
                     _: Option<&mut f32>,
                     sum: Option<&mut RowSums>| {
            if is_long(row) || self.cancel.is_some_and(|c| c.is_cancelled()) {
                return;
            }
            self.solve_row(isa, row, x, &base, s);
            if let Some(sum) = sum {
                *sum = self.row_sums(isa, row, x, errors);
            }
        };
        // A row's dense k × k products cost about k/4 ratings' worth of work.
        let cost = |row| match is_long(row) {
            true => 0,
            false => self.ratings.row_len(row) + k / 4 + 4,
        };
        let start: Vec<f32> = long
            .iter()
            .flat_map(|&r| &factors[r as usize * k..(r as usize + 1) * k])
            .copied()
            .collect();
        // The lockstep rows run beside the others: its passes are cache-bound while the other
        // rows' gathers are memory-bound, and it fills the threads' idle ends.
        let (_, solved) = rayon::join(
            || par_solve_rows(self.ratings, cost, k, factors, &mut [], sums, init, solve),
            || {
                self.cg_steps.and_then(|steps| {
                    Lockstep {
                        step: self,
                        kl,
                        steps,
                        isa,
                    }
                    .run(&long, &base, &start)
                })
            },
        );
        for (&r, x) in long
            .iter()
            .zip(solved.iter().flat_map(|v| v.chunks_exact(k)))
        {
            factors[r as usize * k..(r as usize + 1) * k].copy_from_slice(x);
        }
        if !sums.is_empty() && !long.is_empty() {
            let factors = &*factors;
            let long_sums: Vec<RowSums> = long
                .par_iter()
                .map(|&r| {
                    let r = r as usize;
                    self.row_sums(isa, r, &factors[r * k..(r + 1) * k], errors)
                })
                .collect();
            for (&r, sum) in long.iter().zip(long_sums) {
                sums[r as usize] = sum;
            }
        }
        gram
    }

    /// A solved row's share of the loss and errors, in the f64 arithmetic of
    /// `eval::rating::error_sums` (an implicit model's μ and biases are zero, so its prediction
    /// is the dot product alone).
    fn row_sums(&self, isa: Isa, row: usize, x: &[f32], errors: usize) -> RowSums {
        let penalty = x.iter().map(|&a| a as f64 * a as f64).sum();
        if self.ratings.row_len(row) > errors {
            return RowSums {
                penalty,
                ..RowSums::default()
            };
        }
        let k = self.k;
        let (cols, vals) = self.ratings.row(row);
        let alpha = self.alpha as f64;
        let mut acc = [0.0; 3];
        let other = |c: u32| &self.other_factors[c as usize * k..(c as usize + 1) * k];
        isa.run(
            #[inline(always)]
            || {
                let mut add = |r: f32, s: f32| {
                    let e = (1.0 - s) as f64;
                    acc[0] += e * e;
                    acc[1] += e.abs();
                    acc[2] += (1.0 + alpha * r as f64) * e * e - s as f64 * s as f64;
                };
                let whole = cols.len() / 8 * 8;
                // Eight dot products at a time, each the same f32 as one by one.
                for j0 in (0..whole).step_by(8) {
                    for &ahead in cols.iter().skip(j0 + PREFETCH_AHEAD).take(8) {
                        prefetch_vector(self.other_factors, ahead as usize, k);
                    }
                    let dots = dot8_isa(isa, std::array::from_fn(|t| other(cols[j0 + t])), x);
                    for (t, &s) in dots.iter().enumerate() {
                        add(vals.get(j0 + t), s);
                    }
                }
                for (j, &c) in cols.iter().enumerate().skip(whole) {
                    add(vals.get(j), dot_isa(isa, other(c), x));
                }
            },
        );
        RowSums {
            squared: acc[0],
            absolute: acc[1],
            implicit: acc[2],
            penalty,
        }
    }

    fn solve_row(&self, isa: Isa, row: usize, x: &mut [f32], base: &[f32], s: &mut Scratch) {
        isa.run(
            #[inline(always)]
            || match self.cg_steps {
                Some(steps) => self.conjugate_gradient(isa, row, x, base, s, steps),
                None => {
                    let (cols, vals) = self.ratings.row(row);
                    let neighbours = IndexedRow {
                        cols,
                        vals,
                        factors: self.other_factors,
                        bias: &[],
                        k: self.k,
                        next_row: &[],
                    };
                    let problem = ImplicitRow {
                        k: self.k,
                        lambda: self.lambda,
                        alpha: self.alpha,
                        base,
                    };
                    // A singular system (τ = 0 and a degenerate fixed side) keeps the current
                    // vector: the loss does not rise.
                    problem.solve(isa, &neighbours, &mut s.row, x);
                }
            },
        )
    }

    /// Copies the row's neighbour vectors into `s.gathered` (prefetching ahead, since they are
    /// scattered over the other side's matrix) with the confidence weights beside them.
    #[inline(always)]
    fn gather(&self, row: usize, s: &mut Scratch) -> usize {
        let k = self.k;
        let kl = lane_stride(k);
        let (cols, vals) = self.ratings.row(row);
        let deg = cols.len();
        let padded_rows = deg.div_ceil(8) * 8;
        // Grow only: every slot written below is overwritten, and the padding is zeroed here.
        if s.gathered.len() < padded_rows * kl {
            s.gathered.resize(padded_rows * kl, 0.0);
            s.weights.resize(padded_rows, 0.0);
            s.rhs_weights.resize(padded_rows, 0.0);
        }
        for (slot, (&c, r)) in cols.iter().zip(vals).enumerate() {
            if let Some(&ahead) = cols.get(slot + GATHER_AHEAD) {
                prefetch_vector(self.other_factors, ahead as usize, k);
            }
            let c = c as usize;
            let dst = &mut s.gathered[slot * kl..(slot + 1) * kl];
            for (d, &v) in dst.iter_mut().zip(&self.other_factors[c * k..(c + 1) * k]) {
                *d = v;
            }
            dst[k..].fill(0.0);
            s.weights[slot] = self.lambda * self.alpha * r;
            s.rhs_weights[slot] = self.lambda * (1.0 + self.alpha * r);
        }
        s.gathered[deg * kl..padded_rows * kl].fill(0.0);
        s.weights[deg..padded_rows].fill(0.0);
        s.rhs_weights[deg..padded_rows].fill(0.0);
        deg
    }

    /// The row's whole system into `s.dense` (kl × kl, full): λ YᵀY + τ I + λ Σ α r_i y_i y_iᵀ,
    /// and b = λ Σ c_i y_i into `s.rhs`.
    #[inline(always)]
    fn form_dense_system(&self, isa: Isa, row: usize, base: &[f32], s: &mut Scratch) {
        let k = self.k;
        let kp = padded(k);
        let kl = lane_stride(k);
        let (cols, vals) = self.ratings.row(row);
        s.gram.fill(0.0);
        s.rhs.fill(0.0);
        for (start, chunk_cols) in (0..).step_by(CHUNK).zip(cols.chunks(CHUNK)) {
            let chunk_vals = vals.sub(start, start + chunk_cols.len());
            // Rows √(λ α r)·y, so the block's Gram matrix is λ Σ (c − 1) y yᵀ.
            for (slot, (&c, r)) in chunk_cols.iter().zip(chunk_vals).enumerate() {
                if let Some(&ahead) = cols.get(start + slot + PREFETCH_AHEAD) {
                    prefetch_vector(self.other_factors, ahead as usize, k);
                }
                let v = &self.other_factors[c as usize * k..(c as usize + 1) * k];
                let w = (self.lambda * self.alpha * r).max(0.0).sqrt();
                let conf = self.lambda * (1.0 + self.alpha * r);
                let dst = &mut s.block[slot * kp..slot * kp + k];
                for ((d, b), &vi) in dst.iter_mut().zip(s.rhs.iter_mut()).zip(v) {
                    *d = w * vi;
                    *b += conf * vi;
                }
            }
            gram_accumulate(isa, &s.block, chunk_cols.len(), kp, &mut s.gram);
        }
        s.dense.fill(0.0);
        for i in 0..k {
            for j in i..k {
                let a = base[i * kl + j] + s.gram[i * kp + j];
                s.dense[i * kl + j] = a;
                s.dense[j * kl + i] = a;
            }
        }
    }

    /// y = A·p without forming A: the shared dense part plus the row's confidence corrections
    /// over its gathered neighbours.
    #[inline(always)]
    fn apply(isa: Isa, kl: usize, base: &[f32], s: &Scratch, deg: usize, p: &[f32], y: &mut [f32]) {
        symmetric_matvec(isa, base, kl, p, y);
        let weights = RowWeights {
            w: &s.weights,
            offsets: None,
        };
        weighted_gram_apply(isa, &s.gathered, deg, kl, weights, p, y);
    }

    #[inline(always)]
    fn conjugate_gradient(
        &self,
        isa: Isa,
        row: usize,
        x: &mut [f32],
        base: &[f32],
        s: &mut Scratch,
        steps: usize,
    ) {
        let k = self.k;
        let kl = lane_stride(k);
        s.iterate[..k].copy_from_slice(x);
        let mut product = std::mem::take(&mut s.product);
        // A row whose gathered neighbours would not stay in cache would stream them from memory
        // on every CG step; for those, A is formed once (a chunked pass, as in the exact
        // solver) and the same CG steps run on it.
        let dense = self.ratings.row_len(row) * kl * 4 > self.dense_row_bytes;
        let deg = if dense {
            self.form_dense_system(isa, row, base, s);
            // r = b − A x.
            symmetric_matvec(isa, &s.dense, kl, &s.iterate, &mut product);
            for ((r, &b), &ax) in s.residual.iter_mut().zip(&s.rhs).zip(&product) {
                *r = b - ax;
            }
            0
        } else {
            let deg = self.gather(row, s);
            // r = b − A x = Σ_i (λ c_i − λ α r_i (y_i·x)) y_i − (λ YᵀY + τ I) x, in one pass
            // over the neighbours.
            symmetric_matvec(isa, base, kl, &s.iterate, &mut product);
            for (r, &ax) in s.residual.iter_mut().zip(&product) {
                *r = -ax;
            }
            for w in &mut s.weights[..deg] {
                *w = -*w;
            }
            weighted_gram_apply(
                isa,
                &s.gathered,
                deg,
                kl,
                RowWeights {
                    w: &s.weights,
                    offsets: Some(&s.rhs_weights),
                },
                &s.iterate,
                &mut s.residual,
            );
            for w in &mut s.weights[..deg] {
                *w = -*w;
            }
            deg
        };
        s.direction.copy_from_slice(&s.residual);
        let mut rr = dot(&s.residual, &s.residual);
        for _ in 0..steps {
            if rr <= 1e-20 {
                break;
            }
            if dense {
                symmetric_matvec(isa, &s.dense, kl, &s.direction, &mut product);
            } else {
                Self::apply(isa, kl, base, s, deg, &s.direction, &mut product);
            }
            let curvature = dot(&s.direction, &product);
            // Zero or NaN curvature: the direction cannot lower the objective.
            if curvature.is_nan() || curvature <= 0.0 {
                break;
            }
            let step = rr / curvature;
            axpy(step, &s.direction, &mut s.iterate);
            axpy(-step, &product, &mut s.residual);
            let rr_next = dot(&s.residual, &s.residual);
            let beta = rr_next / rr;
            for (p, &r) in s.direction.iter_mut().zip(&s.residual) {
                *p = r + beta * *p;
            }
            rr = rr_next;
        }
        s.product = product;
        x.copy_from_slice(&s.iterate[..k]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::sparse::Csr;

    /// Five rows of 6000, 3000, 2000, 1500 and 1200 ratings; k = 20 is padded to 24 lanes, and
    /// the 6000 neighbours span three lockstep tiles.
    fn problem() -> (Csr, Vec<f32>, Vec<f32>, usize) {
        let (rows, cols, k) = (5usize, 6000usize, 20usize);
        let mut r = Vec::new();
        let mut c = Vec::new();
        let mut v = Vec::new();
        for row in 0..rows {
            for col in (row..cols).step_by(row + 1) {
                r.push(row as u32);
                c.push(col as u32);
                v.push(((row * 7 + col * 3) % 9) as f32 * 0.5 + 0.5);
            }
        }
        let ratings = Csr::from_triplets(rows, cols, &r, &c, &v);
        let other: Vec<f32> = (0..cols * k)
            .map(|i| ((i * 37 % 101) as f32 / 101.0) - 0.5)
            .collect();
        let start: Vec<f32> = (0..rows * k)
            .map(|i| ((i * 13 % 29) as f32 / 29.0) - 0.5)
            .collect();
        (ratings, other, start, k)
    }

    fn solve(dense_row_bytes: usize, lockstep_min_degree: usize, threads: usize) -> Vec<f32> {
        let (ratings, other, start, k) = problem();
        let mut x = start.clone();
        let pool = crate::runtime::pool::thread_pool(Some(threads)).unwrap();
        pool.install(|| {
            ImplicitStep {
                ratings: &ratings,
                other_factors: &other,
                k,
                lambda: 1.0,
                tau: 0.5,
                alpha: 2.0,
                cg_steps: Some(3),
                dense_row_bytes,
                lockstep_min_degree,
                cancel: None,
            }
            .run(&mut x)
        });
        assert_ne!(x, start);
        x
    }

    /// The three ways of applying A (gathered neighbours, formed system, lockstep passes over
    /// tiles of the neighbours) give the same CG iterates.
    #[test]
    fn long_row_paths_match_the_gathered_path() {
        let gathered = solve(usize::MAX, usize::MAX, 2);
        // 1300 ratings or more: rows 0–3 in lockstep, row 4 gathered.
        for other in [solve(0, usize::MAX, 2), solve(usize::MAX, 1300, 2)] {
            for (a, b) in gathered.iter().zip(&other) {
                assert!((a - b).abs() < 1e-3 * (1.0 + a.abs()), "{a} vs {b}");
            }
        }
    }

    /// Every row leaves its sums, the rows solved in lockstep too, and they are those of the
    /// solved vectors.
    #[test]
    fn every_row_leaves_the_sums_of_its_solved_vector() {
        let (ratings, other, start, k) = problem();
        let mut x = start.clone();
        let mut sums = vec![RowSums::default(); ratings.nrows()];
        let (alpha, lambda) = (2.0, 1.0);
        ImplicitStep {
            ratings: &ratings,
            other_factors: &other,
            k,
            lambda,
            tau: 0.5,
            alpha,
            cg_steps: Some(3),
            dense_row_bytes: usize::MAX,
            lockstep_min_degree: 1300,
            cancel: None,
        }
        .run_with_sums(&mut x, &mut sums, usize::MAX);
        for (row, sum) in sums.iter().enumerate() {
            let v = &x[row * k..(row + 1) * k];
            let (cols, vals) = ratings.row(row);
            let mut want = [0.0; 3];
            for (&c, r) in cols.iter().zip(vals) {
                let s = dot(&other[c as usize * k..(c as usize + 1) * k], v);
                let e = (1.0 - s) as f64;
                want[0] += e * e;
                want[1] += e.abs();
                want[2] += (1.0 + alpha as f64 * r as f64) * e * e - s as f64 * s as f64;
            }
            let norm: f64 = v.iter().map(|&a| a as f64 * a as f64).sum();
            assert_eq!(
                [sum.squared, sum.absolute, sum.implicit, sum.penalty],
                [want[0], want[1], want[2], norm],
                "row {row}"
            );
        }
    }

    #[test]
    fn lockstep_results_do_not_depend_on_the_thread_count() {
        let one = solve(usize::MAX, 1300, 1);
        for threads in [2, 3, 5] {
            assert_eq!(one, solve(usize::MAX, 1300, threads));
        }
    }
}
