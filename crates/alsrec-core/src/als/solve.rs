//! One exact block update of ALS: for every row, the regularized least-squares solution of
//! [x; b] against the fixed other side, with x ∈ R^k the latent vector and b the bias.
use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

use crate::sparse::Csr;

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
    /// The prior mean of each row's vector (genre model); zero when absent.
    pub prior: Option<&'a [f32]>,
}

/// Per-thread buffers, reused across rows to avoid an allocation per solve.
struct Scratch {
    block: Vec<f32>,
    gram: Vec<f32>,
}

impl HalfStep<'_> {
    /// Solves every row in parallel, writing vectors and biases in place. Each row depends only
    /// on the fixed side, so the result is the same for any thread count.
    pub fn run(&self, factors: &mut [f32], bias: &mut [f32]) {
        let k = self.k;
        let rows = self.ratings.nrows();
        debug_assert_eq!(bias.len(), rows);
        let init = || Scratch {
            block: Vec::new(),
            gram: vec![0.0; (k + 1) * (k + 1)],
        };
        if k == 0 {
            bias.par_iter_mut()
                .enumerate()
                .for_each_init(init, |scratch, (row, b)| {
                    self.solve_row(row, &mut [], b, scratch)
                });
        } else {
            debug_assert_eq!(factors.len(), rows * k);
            factors
                .par_chunks_mut(k)
                .zip(bias.par_iter_mut())
                .enumerate()
                .for_each_init(init, |scratch, (row, (x, b))| {
                    self.solve_row(row, x, b, scratch)
                });
        }
    }

    fn solve_row(&self, row: usize, x: &mut [f32], b: &mut f32, scratch: &mut Scratch) {
        let k = self.k;
        let k1 = k + 1;
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
        // Gather [v_n, 1] of every rated column into a dense block, one row per rating.
        let deg = cols.len();
        let block = &mut scratch.block;
        block.clear();
        block.reserve(deg * k1);
        let mut rhs = vec![0f64; k1];
        for (&c, &r) in cols.iter().zip(vals) {
            let c = c as usize;
            let v = &self.other_factors[c * k..(c + 1) * k];
            block.extend_from_slice(v);
            block.push(1.0);
            let target = (r - self.mu - self.other_bias[c]) as f64;
            for (acc, &vi) in rhs.iter_mut().zip(v) {
                *acc += target * vi as f64;
            }
            rhs[k] += target;
        }
        // gram = λ · blockᵀ · block, by a tuned matrix–matrix kernel rather than rank-1 updates.
        let gram = &mut scratch.gram;
        // SAFETY: the pointers and strides describe `block` (deg × k1, row-major) and `gram`
        // (k1 × k1), both of which hold exactly that many elements.
        unsafe {
            matrixmultiply::sgemm(
                k1,
                deg,
                k1,
                self.lambda,
                block.as_ptr(),
                1,
                k1 as isize,
                block.as_ptr(),
                k1 as isize,
                1,
                0.0,
                gram.as_mut_ptr(),
                k1 as isize,
                1,
            );
        }
        let mut a = DMatrix::<f64>::from_fn(k1, k1, |i, j| gram[i * k1 + j] as f64);
        for i in 0..k {
            a[(i, i)] += self.tau as f64;
        }
        a[(k, k)] += self.gamma as f64;
        let mut rhs = DVector::from_iterator(k1, rhs.into_iter().map(|v| v * self.lambda as f64));
        if let Some(p) = prior {
            for i in 0..k {
                rhs[i] += self.tau as f64 * p[i] as f64;
            }
        }
        let solution = match a.clone().cholesky() {
            Some(ch) => ch.solve(&rhs),
            // Singular only when a regularizer is 0 and the row has too few ratings: the
            // least-norm solution is still a minimizer of the block.
            None => match a.svd(true, true).solve(&rhs, 1e-9) {
                Ok(s) => s,
                Err(_) => return,
            },
        };
        for i in 0..k {
            x[i] = solution[i] as f32;
        }
        *b = solution[k] as f32;
    }
}
