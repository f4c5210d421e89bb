//! Folding a row (a new user, a refreshed user, a new movie) into a trained model with the other
//! side fixed. The update is training's own ([`crate::als::row`]): a folded-in row is exactly
//! the row a training half-step would compute against the same fixed side (docs/model.md,
//! "Fold-in").
pub mod explain;
pub mod new_user;
pub mod partial_fit;

use crate::als::row::{ExplicitRow, FullPrior, Gathered, ImplicitRow, RowScratch};
use crate::data::sparse::RowValues;
use crate::error::{Error, Result};
use crate::kernels::isa::{lane_stride, Isa};
use crate::model::config::ModelKind;
use crate::model::Model;

/// A row's system, built and factorized, for explanations: `scratch.system` holds U with
/// A = UᵀU and `dim` is its size (k + 1 with the bias, k for implicit models).
pub struct Factorized {
    pub scratch: RowScratch,
    pub dim: usize,
}

impl Model {
    /// The fixed movie rows for a user's ratings (dense movie indices).
    pub fn movie_rows(&self, items: &[u32], ratings: RowValues<'_>) -> Gathered {
        let mut rows = Gathered::new(self.k);
        for (&i, r) in items.iter().zip(ratings) {
            rows.push(self.item_vector(i as usize), self.item_bias[i as usize], r);
        }
        rows
    }

    /// A row's problem as training poses it. `movie_prior` is present for a movie's row (its
    /// genre prior, zero without genres) and absent for a user's. A Bayesian model solves with
    /// its learned precisions: the row's posterior mean given the averaged other side; a
    /// movie's genre part adds Λ p to the prior's term, which `terms` holds
    /// ([`Model::movie_prior_terms`]).
    fn explicit_row<'a>(
        &'a self,
        movie_prior: Option<&'a [f32]>,
        terms: Option<&'a [f32]>,
    ) -> ExplicitRow<'a> {
        let c = &self.config;
        let row = ExplicitRow {
            k: self.k,
            mu: self.mu,
            lambda: c.lambda,
            tau: c.tau,
            gamma: c.gamma,
            weighted: c.weighted_regularization,
            prior: movie_prior,
            full_prior: None,
        };
        match &self.posterior {
            None => row,
            Some(p) => {
                let side = if movie_prior.is_some() {
                    &p.movies
                } else {
                    &p.users
                };
                let mut full = FullPrior::of(side);
                if let Some(t) = terms {
                    full.precision_times_mean = t;
                }
                ExplicitRow {
                    lambda: p.noise_precision,
                    gamma: side.bias_precision,
                    full_prior: Some(full),
                    ..row
                }
            }
        }
    }

    /// Λ (m + p) for a Bayesian movie row whose genre part p is not zero; None otherwise.
    pub fn movie_prior_terms(&self, movie_prior: Option<&[f32]>) -> Option<Vec<f32>> {
        let (p, posterior) = (movie_prior?, self.posterior.as_ref()?);
        if p.iter().all(|&x| x == 0.0) {
            return None;
        }
        let k = self.k;
        let prior = &posterior.movies;
        Some(
            (0..k)
                .map(|i| {
                    let row = &prior.precision[i * k..(i + 1) * k];
                    prior.precision_times_mean[i]
                        + row.iter().zip(p).map(|(&a, &b)| a * b).sum::<f32>()
                })
                .collect(),
        )
    }

    /// The posterior variances of a folded-in row's vector coordinates and bias (the diagonal
    /// of its system's inverse): what a Bayesian model's spread needs of a new row. None when
    /// the system is singular.
    pub fn fold_in_variance(
        &self,
        rows: &Gathered,
        movie_prior: Option<&[f32]>,
    ) -> Option<(Vec<f32>, f32)> {
        let isa = Isa::detected();
        let mut scratch = RowScratch::new(self.k);
        let terms = self.movie_prior_terms(movie_prior);
        let problem = self.explicit_row(movie_prior, terms.as_deref());
        if !problem.factorize(isa, rows, &mut scratch) {
            return None;
        }
        let n = self.k + 1;
        let mut diag = crate::kernels::dense::inverse_diagonal(&scratch.system, n, lane_stride(n));
        let b = diag.pop().unwrap_or(0.0);
        Some((diag, b))
    }

    fn implicit_row<'a>(&self, base: Option<&'a [f32]>) -> Result<ImplicitRow<'a>> {
        let base = base.ok_or_else(|| Error::internal("an implicit fold-in needs λ VᵀV + τ I"))?;
        Ok(ImplicitRow {
            k: self.k,
            lambda: self.config.lambda,
            alpha: self.config.alpha,
            base,
        })
    }

    /// Solves one row's (vector, bias) against `rows` with the other side fixed. `prior` is the
    /// vector's prior mean (a movie of the genre model); `implicit_base` comes from
    /// [`Model::implicit_base`] for implicit models, whose bias is 0.
    pub fn fold_in_row(
        &self,
        rows: &Gathered,
        prior: Option<&[f32]>,
        implicit_base: Option<&[f32]>,
    ) -> Result<(Vec<f32>, f32)> {
        let isa = Isa::detected();
        let mut scratch = RowScratch::new(self.k);
        let mut x = vec![0f32; self.k];
        let mut b = 0f32;
        if self.config.model == ModelKind::Implicit {
            let problem = self.implicit_row(implicit_base)?;
            let solved = isa.run(
                #[inline(always)]
                || problem.solve(isa, rows, &mut scratch, &mut x),
            );
            if !solved {
                return Err(Error::invalid_argument(
                    "the fold-in system is singular (τ is 0 and the movie vectors are degenerate)",
                ));
            }
        } else {
            let terms = self.movie_prior_terms(prior);
            let problem = self.explicit_row(prior, terms.as_deref());
            isa.run(
                #[inline(always)]
                || problem.solve(isa, rows, &mut scratch, &mut x, &mut b),
            );
        }
        Ok((x, b))
    }

    /// Solves a user's (u, b) from `rows` with the movies fixed.
    pub fn fold_in_user(
        &self,
        rows: &Gathered,
        item_base: Option<&[f32]>,
    ) -> Result<(Vec<f32>, f32)> {
        self.fold_in_row(rows, None, item_base)
    }

    /// The factorized system of a user's row (no prior), or None when it is singular.
    pub fn factorized_user_row(
        &self,
        rows: &Gathered,
        item_base: Option<&[f32]>,
    ) -> Result<Option<Factorized>> {
        let isa = Isa::detected();
        let mut scratch = RowScratch::new(self.k);
        let (ok, dim) = if self.config.model == ModelKind::Implicit {
            let problem = self.implicit_row(item_base)?;
            (problem.factorize(isa, rows, &mut scratch), self.k)
        } else {
            let problem = self.explicit_row(None, None);
            (problem.factorize(isa, rows, &mut scratch), self.k + 1)
        };
        Ok(ok.then_some(Factorized { scratch, dim }))
    }
}
