//! The genre model's extra block: genre vectors F, with item vectors drawn toward
//! p_n = |G_n|^(-1/2) Σ_{g∈G_n} f_g. With V fixed, F minimizes
//! Σ_n w_n/2 |v_n − S_n F|² + β/2 |F|², i.e. (Sᵀ W S + β I) F = Sᵀ W V, a G×G system
//! (w_n = τ, or τ·|Ω(n)| with ALS-WR).
use nalgebra::DMatrix;
use rayon::prelude::*;

use crate::data::sparse::Csr;
use crate::model::Model;

/// Every movie's prior mean p_n (movies × k), from the current genre vectors.
pub fn priors(model: &Model) -> Vec<f32> {
    let k = model.k;
    let mut out = vec![0f32; model.num_items() * k];
    out.par_chunks_mut(k)
        .enumerate()
        .for_each(|(i, p)| model.genre_prior(i, p));
    out
}

/// The weight of movie n's prior term: τ, or τ·|Ω(n)| with count-weighted regularization.
pub fn prior_weight(model: &Model, by_item: &Csr, item: usize) -> f64 {
    let tau = model.config.tau as f64;
    if model.config.weighted_regularization {
        tau * by_item.row_len(item) as f64
    } else {
        tau
    }
}

/// Exact update of the genre vectors with the movie vectors fixed.
pub fn update_genre_factors(model: &mut Model, by_item: &Csr) {
    let k = model.k;
    let genres = model.catalog.genre_names.len();
    if genres == 0 || k == 0 {
        return;
    }
    let beta = model.config.beta as f64;
    let mut sts = DMatrix::<f64>::zeros(genres, genres);
    let mut stv = DMatrix::<f64>::zeros(genres, k);
    // Sequential over movies: a fixed summation order, cheap next to the row solves.
    for n in 0..model.num_items() {
        let gs = model.item_genres(n);
        if gs.is_empty() {
            continue;
        }
        let w = prior_weight(model, by_item, n);
        if w == 0.0 {
            continue;
        }
        let s2 = w / gs.len() as f64;
        let s = w / (gs.len() as f64).sqrt();
        let v = model.item_vector(n);
        for &g in gs {
            for &h in gs {
                sts[(g as usize, h as usize)] += s2;
            }
            for (j, &vj) in v.iter().enumerate() {
                stv[(g as usize, j)] += s * vj as f64;
            }
        }
    }
    for g in 0..genres {
        sts[(g, g)] += beta;
    }
    let solution = match sts.clone().cholesky() {
        Some(ch) => ch.solve(&stv),
        // β = 0 and a genre no weighted movie carries: least-norm solution.
        None => match sts.svd(true, true).solve(&stv, 1e-12) {
            Ok(s) => s,
            Err(_) => return,
        },
    };
    model.genre_factors = vec![0f32; genres * k];
    for g in 0..genres {
        for j in 0..k {
            model.genre_factors[g * k + j] = solution[(g, j)] as f32;
        }
    }
}

/// β/2 |F|².
pub fn genre_penalty(model: &Model) -> f64 {
    let sq: f64 = model
        .genre_factors
        .iter()
        .map(|&x| x as f64 * x as f64)
        .sum();
    model.config.beta as f64 / 2.0 * sq
}
