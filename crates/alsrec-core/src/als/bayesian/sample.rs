//! One Gibbs half-step: every row's [x; b] drawn from its conditional posterior with the other
//! side fixed. The posterior is the row system training solves ([`ExplicitRow`]) with the learned
//! precisions: precision P = λ Σ ṽ ṽᵀ + diag(Λ, γ) = UᵀU, mean P⁻¹ (λ Σ ṽ t + [Λ m; 0]). A draw
//! is the mean plus U⁻¹ z with z ~ N(0, I): one triangular solve more than an ALS row.
use crate::als::row::{ExplicitRow, FullPrior, IndexedRow, RowScratch};
use crate::als::schedule::par_solve_rows;
use crate::data::sparse::Csr;
use crate::kernels::dense::{cholesky_solve, upper_solve};
use crate::kernels::isa::{lane_stride, Isa};
use crate::model::posterior::RowPrior;
use crate::runtime::cancel::CancelToken;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

/// Which random stream a draw takes: every row of every sweep has its own, so a chain is the
/// same for any thread count and any order the rows are solved in.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    UserRows,
    MovieRows,
    UserPrior,
    MoviePrior,
    Noise,
    Genres,
}

/// The generator of (seed, sweep, stream, row): the inputs mixed by distinct odd multipliers,
/// then expanded by SplitMix64 inside `seed_from_u64`.
pub fn stream_rng(seed: u64, sweep: usize, stream: Stream, row: usize) -> Xoshiro256PlusPlus {
    let mixed = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (sweep as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9)
        ^ (stream as u64 + 1).wrapping_mul(0x94D0_49BB_1331_11EB)
        ^ (row as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    Xoshiro256PlusPlus::seed_from_u64(mixed)
}

pub struct SampleStep<'a> {
    pub ratings: &'a Csr,
    pub other_factors: &'a [f32],
    pub other_bias: &'a [f32],
    pub mu: f32,
    pub k: usize,
    /// λ: the noise precision.
    pub noise_precision: f32,
    pub prior: &'a RowPrior,
    /// Per-row additions to the prior's Λ m (rows × k): Λ p_n of each movie's genre part.
    pub row_prior_terms: Option<&'a [f32]>,
    pub seed: u64,
    pub sweep: usize,
    pub stream: Stream,
    pub cancel: Option<&'a CancelToken>,
}

/// A row's buffers: the shared row scratch and the k + 1 normal draws.
struct Scratch {
    row: RowScratch,
    noise: Vec<f32>,
    /// Λ m + Λ p_n of the current row, when rows have their own prior means.
    prior_term: Vec<f32>,
}

impl SampleStep<'_> {
    /// Draws every row in parallel, in place. A row whose system is not positive definite in
    /// f32 (not seen in practice: Λ and γ are positive) keeps its previous draw.
    pub fn run(&self, factors: &mut [f32], bias: &mut [f32]) {
        let k = self.k;
        let rows = self.ratings.nrows();
        assert_eq!(bias.len(), rows);
        assert_eq!(factors.len(), rows * k);
        let isa = Isa::detected();
        let problem = ExplicitRow {
            k,
            mu: self.mu,
            lambda: self.noise_precision,
            tau: 0.0,
            gamma: self.prior.bias_precision,
            weighted: false,
            prior: None,
            full_prior: Some(FullPrior::of(self.prior)),
        };
        let n1 = k + 1;
        let ld = lane_stride(n1);
        let init = || Scratch {
            row: RowScratch::new(k),
            noise: vec![0.0; n1],
            prior_term: vec![0.0; k],
        };
        let draw = |s: &mut Scratch,
                    row: usize,
                    x: &mut [f32],
                    b: Option<&mut f32>,
                    _: Option<&mut ()>| {
            if self.cancel.is_some_and(|c| c.is_cancelled()) {
                return;
            }
            let b = b.expect("every row has a bias");
            let neighbours =
                IndexedRow::of(self.ratings, row, self.other_factors, self.other_bias, k);
            let Scratch {
                row: scratch,
                noise,
                prior_term,
            } = s;
            let row_problem = match self.row_prior_terms {
                None => problem,
                Some(terms) => {
                    for ((t, &a), &b) in prior_term
                        .iter_mut()
                        .zip(&self.prior.precision_times_mean)
                        .zip(&terms[row * k..(row + 1) * k])
                    {
                        *t = a + b;
                    }
                    ExplicitRow {
                        full_prior: Some(FullPrior {
                            precision_times_mean: prior_term,
                            ..FullPrior::of(self.prior)
                        }),
                        ..problem
                    }
                }
            };
            let factorized = isa.run(
                #[inline(always)]
                || row_problem.factorize(isa, &neighbours, scratch),
            );
            if !factorized {
                return;
            }
            cholesky_solve(isa, &scratch.system, n1, ld, &mut scratch.rhs);
            let mut rng = stream_rng(self.seed, self.sweep, self.stream, row);
            for z in noise.iter_mut() {
                *z = rng.sample(StandardNormal);
            }
            upper_solve(&scratch.system, n1, ld, noise);
            for ((x, &mean), &offset) in x.iter_mut().zip(&scratch.rhs[..k]).zip(noise.iter()) {
                *x = mean + offset;
            }
            *b = scratch.rhs[k] + noise[k];
        };
        par_solve_rows(
            self.ratings,
            |r| self.ratings.row_len(r) + k / 2 + 4,
            k,
            factors,
            bias,
            &mut [] as &mut [()],
            init,
            draw,
        );
    }
}
