//! Why a user (known, or a visitor folded in) gets a score: the prediction split into its
//! terms, and the rated movies that pull it up or down.
//!
//! The user's (u, b) solve the block update [u; b] = A⁻¹ Σ_j w_j ṽ_j, with
//! w_j = λ (r_j − μ − c_j) and ṽ_j = [v_j; 1] ([`crate::als::row`]). So the personal part of the score,
//! b + u·v_n = ṽ_nᵀ [u; b], is a sum over rated movies: movie j contributes w_j · ṽ_nᵀ A⁻¹ ṽ_j.
//! The contributions are computed against the final movie vectors, so they add up to the
//! personal part of a user refitted to those vectors (`refitPersonal`), which differs from the
//! stored one by the last half-step of training.
use crate::als::row::{Gathered, Neighbours};
use crate::error::Result;
use crate::foldin::new_user::NewUser;
use crate::foldin::Factorized;
use crate::kernels::dense::cholesky_solve;
use crate::kernels::dense::dot;
use crate::kernels::isa::{lane_stride, Isa};
use crate::model::config::ModelKind;
use crate::model::Model;
use crate::query::stats::QueryStats;

#[derive(Debug, Clone)]
pub struct Contribution {
    pub item: u32,
    pub rating: f32,
    /// Rating points this movie adds to the score.
    pub points: f32,
    /// |points| as a fraction of the sum of all |points|.
    pub share: f32,
}

#[derive(Debug, Clone)]
pub struct Explanation {
    pub score: f32,
    pub global_mean: f32,
    pub user_bias: f32,
    pub movie_bias: f32,
    /// u·p_n: what the movie's genres predict (0 outside the genre model).
    pub genre_part: f32,
    /// u·(v_n − p_n): the movie's own taste profile beyond its genres.
    pub latent_part: f32,
    /// b + u·v_n of the user refitted to the final movie vectors: what the contributions sum to.
    pub refit_personal: f32,
    /// The most influential rated movies, largest |points| first.
    pub contributions: Vec<Contribution>,
}

impl Model {
    /// Why known user `user` gets the score of `item`.
    pub fn explain(
        &self,
        user: usize,
        item: usize,
        top: usize,
        index: &QueryStats,
    ) -> Result<Explanation> {
        let (cols, vals) = self.seen.row(user);
        let rows = self.movie_rows(cols, vals);
        let mut explained = self.explain_row(
            self.user_vector(user),
            self.user_bias[user],
            &[item],
            &rows,
            cols,
            top,
            index,
        )?;
        Ok(explained.remove(0))
    }

    /// Why a visitor gets the score of `item`: the same decomposition for the row folded in
    /// from their ratings and liked genres ([`Model::fold_in_new_user`]). The contributions
    /// name rated movies only; the liked genres' stand-in rows ([`Model::fold_in_new_user`]'s
    /// `genre_rows`) make up the rest of `refit_personal`, which is the visitor's own
    /// b + u·v_n (for models without a learned prior mean).
    pub fn explain_new_user(
        &self,
        user: &NewUser,
        item: usize,
        top: usize,
        index: &QueryStats,
    ) -> Result<Explanation> {
        Ok(self
            .explain_new_user_many(user, &[item], top, index)?
            .remove(0))
    }

    /// [`Model::explain_new_user`] for several movies at once: the visitor is folded in and
    /// their row system factorized once, then each movie costs two triangular solves. A list
    /// of recommendations explained one by one would redo the fold-in for every line.
    pub fn explain_new_user_many(
        &self,
        user: &NewUser,
        items: &[usize],
        top: usize,
        index: &QueryStats,
    ) -> Result<Vec<Explanation>> {
        let (u, b, rows, rated) = self.new_user_row(user, index)?;
        self.explain_row(&u, b, items, &rows, &rated, top, index)
    }

    /// The explanations of the scores of `items` for the row (u, b) solved from `rows`, whose
    /// first `cols.len()` rows are the rated movies `cols`.
    #[allow(clippy::too_many_arguments)]
    fn explain_row(
        &self,
        u: &[f32],
        b: f32,
        items: &[usize],
        rows: &Gathered,
        cols: &[u32],
        top: usize,
        index: &QueryStats,
    ) -> Result<Vec<Explanation>> {
        let k = self.k;
        let implicit = self.config.model == ModelKind::Implicit;
        // Row j adds w_j ṽ_j to the right-hand side, λ being the row system's (a Bayesian
        // model's noise precision).
        let lambda = match implicit {
            true => self.config.lambda,
            false => self.explicit_row(None, None).lambda,
        } as f64;
        let weights: Vec<f64> = (0..rows.len())
            .map(|j| {
                let r = rows.rating(j);
                match implicit {
                    true => lambda * (1.0 + self.config.alpha as f64 * r as f64),
                    false => lambda * (r - self.mu - rows.bias(j)) as f64,
                }
            })
            .collect();
        let factorized = self.factorized_user_row(rows, index.item_base.as_deref())?;
        let isa = Isa::detected();
        let mut prior = vec![0f32; k];
        let mut points: Vec<f64> = vec![0.0; rows.len()];
        let mut explanations = Vec::with_capacity(items.len());
        for &item in items {
            let v = self.item_vector(item);
            self.genre_prior(item, &mut prior);
            let genre_part = dot(u, &prior);
            let latent_part = dot(u, v) - genre_part;
            points.fill(0.0);
            if let Some(Factorized { scratch, dim }) = &factorized {
                let dim = *dim;
                // z = A⁻¹ ṽ_n, then row j contributes w_j · ṽ_jᵀ z.
                let mut z = vec![0f32; scratch.rhs.len()];
                z[..k].copy_from_slice(v);
                if dim > k {
                    z[k] = 1.0;
                }
                cholesky_solve(isa, &scratch.system, dim, lane_stride(dim), &mut z);
                for (j, p) in points.iter_mut().enumerate() {
                    let vj = rows.vector(j);
                    let mut s: f64 = vj.iter().zip(&z).map(|(&a, &b)| a as f64 * b as f64).sum();
                    if dim > k {
                        s += z[k] as f64;
                    }
                    *p = weights[j] * s;
                }
            }
            let rated = &points[..cols.len()];
            let total_abs: f64 = rated.iter().map(|p| p.abs()).sum();
            let mut order: Vec<usize> = (0..cols.len()).collect();
            order.sort_by(|&a, &b| rated[b].abs().total_cmp(&rated[a].abs()).then(a.cmp(&b)));
            let contributions = order
                .into_iter()
                .take(top)
                .map(|j| Contribution {
                    item: cols[j],
                    rating: rows.rating(j),
                    points: rated[j] as f32,
                    share: if total_abs > 0.0 {
                        (rated[j].abs() / total_abs) as f32
                    } else {
                        0.0
                    },
                })
                .collect();
            explanations.push(Explanation {
                score: self.mu + b + self.item_bias[item] + dot(u, v),
                global_mean: self.mu,
                user_bias: b,
                movie_bias: self.item_bias[item],
                genre_part,
                latent_part,
                refit_personal: points.iter().sum::<f64>() as f32,
                contributions,
            });
        }
        Ok(explanations)
    }
}
