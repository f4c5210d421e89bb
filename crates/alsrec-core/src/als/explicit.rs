//! One exact block update of explicit ALS: every row's [x; b] solved against the fixed other
//! side by the row system of [`super::row`], in parallel (docs/model.md, "The block update of
//! one row").

use super::metrics::RowSums;
use super::row::{explicit_errors, ExplicitRow, IndexedRow, Neighbours, RowScratch};
use super::schedule::par_solve_rows;
use crate::data::sparse::Csr;
use crate::kernels::isa::Isa;
use crate::runtime::cancel::CancelToken;

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

impl HalfStep<'_> {
    /// The problem every row of this half-step solves.
    fn problem(&self, row: usize) -> ExplicitRow<'_> {
        let k = self.k;
        ExplicitRow {
            k,
            mu: self.mu,
            lambda: self.lambda,
            tau: self.tau,
            gamma: self.gamma,
            weighted: self.weighted,
            prior: self.prior.map(|p| &p[row * k..(row + 1) * k]),
            full_prior: None,
        }
    }

    /// Solves every row in parallel, writing vectors and biases in place. Each row depends only
    /// on the fixed side, so the result is the same for any thread count.
    pub fn run(&self, factors: &mut [f32], bias: &mut [f32]) {
        self.run_with_sums(factors, bias, &mut [], 0);
    }

    /// As [`HalfStep::run`], and when `sums` is not empty leaves in `sums[row]` the solved row's
    /// penalty ω (τ |x − p|² + γ b²) and, for rows of at most `errors` ratings, its ratings'
    /// errors under the solved row (those of the model after the half-step, the fixed side
    /// being final).
    pub fn run_with_sums(
        &self,
        factors: &mut [f32],
        bias: &mut [f32],
        sums: &mut [RowSums],
        errors: usize,
    ) {
        let k = self.k;
        let rows = self.ratings.nrows();
        assert_eq!(bias.len(), rows);
        assert_eq!(factors.len(), rows * k);
        let isa = Isa::detected();
        let init = || RowScratch::new(k);
        let solve = |scratch: &mut RowScratch,
                     row: usize,
                     x: &mut [f32],
                     b: Option<&mut f32>,
                     sum: Option<&mut RowSums>| {
            if self.cancel.is_some_and(|c| c.is_cancelled()) {
                return;
            }
            let b = b.expect("every row has a bias");
            let neighbours =
                IndexedRow::of(self.ratings, row, self.other_factors, self.other_bias, k);
            let problem = self.problem(row);
            isa.run(
                #[inline(always)]
                || {
                    problem.solve(isa, &neighbours, scratch, x, b);
                    if let Some(sum) = sum {
                        *sum = self.row_sums(isa, &neighbours, problem.prior, x, *b, errors);
                    }
                },
            )
        };
        // A row's Cholesky costs about k/3 ratings' worth of Gram updates.
        par_solve_rows(
            self.ratings,
            |r| self.ratings.row_len(r) + k / 3 + 4,
            k,
            factors,
            bias,
            sums,
            init,
            solve,
        );
    }

    /// A solved row's share of the loss, in the f64 arithmetic of `metrics::explicit_loss`.
    #[inline(always)]
    fn row_sums(
        &self,
        isa: Isa,
        neighbours: &IndexedRow<'_>,
        prior: Option<&[f32]>,
        x: &[f32],
        b: f32,
        errors: usize,
    ) -> RowSums {
        let weight = if self.weighted {
            neighbours.len() as f64
        } else {
            1.0
        };
        let dist: f64 = match prior {
            Some(p) => x
                .iter()
                .zip(p)
                .map(|(&a, &q)| (a as f64 - q as f64).powi(2))
                .sum(),
            None => x.iter().map(|&a| a as f64 * a as f64).sum(),
        };
        let [squared, absolute] = match neighbours.len() <= errors {
            true => explicit_errors(isa, neighbours, self.mu, x, b),
            false => [0.0; 2],
        };
        RowSums {
            squared,
            absolute,
            implicit: 0.0,
            penalty: weight * (self.tau as f64 * dist + self.gamma as f64 * (b as f64).powi(2)),
        }
    }
}
