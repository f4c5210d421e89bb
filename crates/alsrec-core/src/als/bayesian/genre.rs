//! Genre priors in the Gibbs chain: movie n's vector is drawn around m + p_n, with
//! p_n = |G_n|^(-1/2) Σ_{g∈G_n} f_g as in the MAP genre model, and the genre vectors F are drawn
//! too, with prior f_g ~ N(0, (β Λ)⁻¹) and β ~ Gamma (docs/model.md, "Bayesian ALS").
//!
//! Given the movie vectors, m and Λ = L Lᵀ, whitening by L makes the coordinates independent:
//! with R = V − 1 mᵀ, F̃ = F L and R̃ = R L, each column of F̃ is N(Q⁻¹ Sᵀ R̃_d, Q⁻¹) with
//! Q = SᵀS + β I, S the n × G matrix of the weights |G_n|^(-1/2). A G × G system per sweep.
use super::hyper::{precision_draw, SharedRows};
use crate::model::posterior::RowPrior;
use crate::model::Model;
use nalgebra::{DMatrix, DVector};
use rand::Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;

/// Every movie's vector minus its genre part, v_n − p_n (movies × k): what the movie prior's
/// (m, Λ) are drawn from.
pub fn residuals(model: &Model, priors: &[f32]) -> Vec<f32> {
    model
        .item_factors
        .iter()
        .zip(priors)
        .map(|(&v, &p)| v - p)
        .collect()
}

/// β Σ_g f_g f_gᵀ of the current genre vectors: their share of Λ's posterior.
pub fn shared_rows(genre_factors: &[f32], k: usize, beta: f32) -> SharedRows {
    let mut scaled_outer = vec![0f64; k * k];
    for f in genre_factors.chunks_exact(k) {
        for i in 0..k {
            for j in 0..k {
                scaled_outer[i * k + j] += beta as f64 * f[i] as f64 * f[j] as f64;
            }
        }
    }
    SharedRows {
        rows: genre_factors.len() / k.max(1),
        scaled_outer,
    }
}

/// Draws F given the movie vectors and their prior (m, Λ); returns it (G × k) and β's draw
/// given it.
pub fn draw_genre_factors(
    rng: &mut impl Rng,
    model: &Model,
    prior: &RowPrior,
    beta: f32,
) -> (Vec<f32>, f32) {
    let k = model.k;
    let genres = model.catalog.genre_names.len();
    if genres == 0 || k == 0 {
        return (Vec::new(), beta);
    }
    let lambda = DMatrix::from_row_slice(k, k, &prior.precision).map(|x| x as f64);
    let Some(l) = lambda.cholesky().map(|c| c.l()) else {
        return (model.genre_factors.clone(), beta);
    };
    // SᵀS and Sᵀ R, summed over movies in order.
    let mut sts = DMatrix::<f64>::zeros(genres, genres);
    let mut str_ = DMatrix::<f64>::zeros(genres, k);
    for n in 0..model.num_items() {
        let gs = model.item_genres(n);
        if gs.is_empty() {
            continue;
        }
        let w = 1.0 / (gs.len() as f64).sqrt();
        let v = model.item_vector(n);
        for &g in gs {
            for &h in gs {
                sts[(g as usize, h as usize)] += w * w;
            }
            for j in 0..k {
                str_[(g as usize, j)] += w * (v[j] as f64 - prior.mean[j] as f64);
            }
        }
    }
    for g in 0..genres {
        sts[(g, g)] += beta as f64;
    }
    let Some(q) = sts.cholesky() else {
        return (model.genre_factors.clone(), beta);
    };
    // Whitened: Sᵀ R̃ = (Sᵀ R) L; each column's mean Q⁻¹ Sᵀ R̃_d plus C⁻ᵀ z with Q = C Cᵀ.
    let rhs = &str_ * &l;
    let mut whitened = q.solve(&rhs);
    let c_t = q.l().transpose();
    for d in 0..k {
        let z = DVector::from_fn(genres, |_, _| rng.sample::<f64, _>(StandardNormal));
        if let Some(offset) = c_t.solve_upper_triangular(&z) {
            for g in 0..genres {
                whitened[(g, d)] += offset[g];
            }
        }
    }
    // F = F̃ L⁻¹: Lᵀ Fᵀ = F̃ᵀ.
    let Some(f_t) = l.transpose().solve_upper_triangular(&whitened.transpose()) else {
        return (model.genre_factors.clone(), beta);
    };
    let mut factors = vec![0f32; genres * k];
    for g in 0..genres {
        for j in 0..k {
            factors[g * k + j] = f_t[(j, g)].clamp(-1e3, 1e3) as f32;
        }
    }
    // β given F: Σ_g f_g Λ f_gᵀ = |F̃|² over Gk coordinates.
    let sum_sq: f64 = whitened.iter().map(|x| x * x).sum();
    let beta = precision_draw(rng, genres * k, sum_sq);
    (factors, beta)
}

/// Λ p_n for every movie (movies × k; Λ symmetric): the genre part of each movie row's
/// right-hand side, beside Λ m.
pub fn prior_terms(priors: &[f32], precision: &[f32], k: usize) -> Vec<f32> {
    let mut out = vec![0f32; priors.len()];
    out.par_chunks_mut(k)
        .zip(priors.par_chunks(k))
        .for_each(|(o, p)| {
            for (i, o) in o.iter_mut().enumerate() {
                let row = &precision[i * k..(i + 1) * k];
                *o = row.iter().zip(p).map(|(&a, &b)| a * b).sum();
            }
        });
    out
}
