//! Folding a row (a new user, a refreshed user, a new movie) into a trained model with the other
//! side fixed: the same regularized block update training uses (`../shared/GUIDE.md` §1).
//!
//! Explicit models solve the (k+1)-system for [x; b]:
//!   (λ Σ ṽ_j ṽ_jᵀ + diag(τ…τ, γ)) [x; b] = λ Σ ṽ_j (r_j − μ − c_j) + [τ p; 0],  ṽ_j = [v_j; 1].
//! Implicit models (Hu, Koren, Volinsky) solve for x alone, with preference 1 and confidence
//! c_j = 1 + α r_j on the rated movies and preference 0 on all others:
//!   (λ (VᵀV + Σ (c_j − 1) v_j v_jᵀ) + τ I) x = λ Σ c_j v_j.
pub mod explain;
pub mod new_user;
pub mod partial_fit;
use nalgebra::{Cholesky, DMatrix, DVector, Dyn};

use crate::error::{Error, Result};
use crate::model::config::ModelKind;
use crate::model::Model;

/// The fixed side's rows a fold-in uses: vectors (rows × k), biases and targets.
#[derive(Debug, Default, Clone)]
pub struct Rows {
    pub vectors: Vec<f32>,
    pub bias: Vec<f32>,
    pub ratings: Vec<f32>,
}

impl Rows {
    pub fn len(&self) -> usize {
        self.ratings.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ratings.is_empty()
    }
    pub fn push(&mut self, vector: &[f32], bias: f32, rating: f32) {
        self.vectors.extend_from_slice(vector);
        self.bias.push(bias);
        self.ratings.push(rating);
    }
}

/// One row's normal equations, kept factorized so explanations can reuse A⁻¹.
pub struct RowSystem {
    pub implicit: bool,
    pub k: usize,
    /// Size k + 1 (explicit: vector and bias) or k (implicit).
    pub chol: Option<Cholesky<f64, Dyn>>,
    pub rhs: DVector<f64>,
    /// The per-row weights of the right-hand side: row j adds weight_j · ṽ_j.
    pub weights: Vec<f64>,
}

/// VᵀV of a factor matrix (rows × k) in f64, summed in fixed row order: the implicit model's
/// shared term.
pub fn gram(factors: &[f32], k: usize) -> DMatrix<f64> {
    let mut g = DMatrix::<f64>::zeros(k, k);
    for v in factors.chunks_exact(k.max(1)) {
        for a in 0..k {
            let va = v[a] as f64;
            for b in a..k {
                g[(a, b)] += va * v[b] as f64;
            }
        }
    }
    for a in 0..k {
        for b in 0..a {
            g[(a, b)] = g[(b, a)];
        }
    }
    g
}

impl RowSystem {
    /// Builds and factorizes the system of one row against `rows`.
    /// `other_gram` (VᵀV of the whole fixed side) is needed by implicit models only.
    pub fn build(
        model: &Model,
        rows: &Rows,
        prior: Option<&[f32]>,
        other_gram: Option<&DMatrix<f64>>,
    ) -> Result<RowSystem> {
        let k = model.k;
        let c = &model.config;
        let implicit = c.model == ModelKind::Implicit;
        // ALS-WR scales a row's regularizers by its number of ratings, in training and so here.
        let count = if c.weighted_regularization && !implicit {
            rows.len() as f64
        } else {
            1.0
        };
        let (lambda, tau, gamma) = (
            c.lambda as f64,
            c.tau as f64 * count,
            c.gamma as f64 * count,
        );
        let dim = if implicit { k } else { k + 1 };
        let mut a = DMatrix::<f64>::zeros(dim, dim);
        let mut rhs = DVector::<f64>::zeros(dim);
        let mut weights = Vec::with_capacity(rows.len());
        let mut tilde = vec![0f64; dim];
        for j in 0..rows.len() {
            let v = &rows.vectors[j * k..(j + 1) * k];
            for (t, &x) in tilde.iter_mut().zip(v) {
                *t = x as f64;
            }
            let (gram_weight, w) = if implicit {
                let conf = 1.0 + c.alpha as f64 * rows.ratings[j] as f64;
                (lambda * (conf - 1.0), lambda * conf)
            } else {
                tilde[k] = 1.0;
                (
                    lambda,
                    lambda * (rows.ratings[j] - model.mu - rows.bias[j]) as f64,
                )
            };
            for p in 0..dim {
                let tp = tilde[p] * gram_weight;
                for q in p..dim {
                    a[(p, q)] += tp * tilde[q];
                }
                rhs[p] += w * tilde[p];
            }
            weights.push(w);
        }
        for p in 0..dim {
            for q in 0..p {
                a[(p, q)] = a[(q, p)];
            }
        }
        if implicit {
            let g = other_gram.ok_or_else(|| Error::internal("implicit fold-in needs VᵀV"))?;
            a += g * lambda;
        }
        for i in 0..k {
            a[(i, i)] += tau;
        }
        if !implicit {
            a[(k, k)] += gamma;
        }
        if let Some(p) = prior {
            for i in 0..k {
                rhs[i] += tau * p[i] as f64;
            }
        }
        let chol = a.cholesky();
        Ok(RowSystem {
            implicit,
            k,
            chol,
            rhs,
            weights,
        })
    }

    /// The solution: the vector and the bias (0 for implicit models).
    pub fn solve(&self) -> Result<(Vec<f32>, f32)> {
        let chol = self.chol.as_ref().ok_or_else(|| {
            Error::invalid_argument(
                "the fold-in system is singular (a regularizer is 0 and there are too few ratings)",
            )
        })?;
        let x = chol.solve(&self.rhs);
        let vector = (0..self.k).map(|i| x[i] as f32).collect();
        let bias = if self.implicit { 0.0 } else { x[self.k] as f32 };
        Ok((vector, bias))
    }
}

impl Model {
    /// The fixed movie rows for a user's ratings (dense movie indices).
    pub fn movie_rows(&self, items: &[u32], ratings: &[f32]) -> Rows {
        let mut rows = Rows::default();
        for (&i, &r) in items.iter().zip(ratings) {
            rows.push(self.item_vector(i as usize), self.item_bias[i as usize], r);
        }
        rows
    }

    /// VᵀV of the movie vectors when the model is implicit (its fold-ins need it), else None.
    pub fn implicit_item_gram(&self) -> Option<DMatrix<f64>> {
        (self.config.model == ModelKind::Implicit).then(|| gram(&self.item_factors, self.k))
    }

    /// Solves a user's (u, b) from `rows` with the movies fixed.
    pub fn fold_in_user(
        &self,
        rows: &Rows,
        item_gram: Option<&DMatrix<f64>>,
    ) -> Result<(Vec<f32>, f32)> {
        RowSystem::build(self, rows, None, item_gram)?.solve()
    }
}
