//! The model before the first epoch: μ, zero biases and seeded random vectors (or a warm start).
use super::warm;
use crate::data::dataset::Dataset;
use crate::error::Result;
use crate::model::config::{ModelKind, TrainConfig};
use crate::model::factors::Factors;
use crate::model::Model;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use rand_xoshiro::Xoshiro256PlusPlus;

/// The starting point: random vectors (seeded) and zero biases, or a given model's parameters.
pub fn initial_model(
    train: &Dataset,
    config: &TrainConfig,
    initial: Option<&Model>,
) -> Result<Model> {
    config.validate()?;
    let k = config.latent_dim();
    let (m, n) = (train.users.len(), train.items.len());
    let genres = if config.has_genre_vectors() {
        train.catalog.genre_names.len()
    } else {
        0
    };
    let mut model = Model {
        config: config.clone(),
        k,
        mu: match config.model {
            ModelKind::Implicit => 0.0,
            _ => train.mean_rating() as f32,
        },
        user_factors: init_factors(m, k, config, 0),
        user_bias: vec![0.0; m],
        item_factors: init_factors(n, k, config, 1),
        item_bias: vec![0.0; n],
        genre_factors: vec![0.0; genres * k],
        users: train.users.clone(),
        items: train.items.clone(),
        catalog: train.catalog.clone(),
        seen: train.by_user.clone(),
        history: Vec::new(),
        ranker: None,
        posterior: None,
    };
    if let Some(from) = initial {
        warm::copy_parameters(from, &mut model)?;
    }
    Ok(model)
}

pub(crate) fn init_factors(rows: usize, k: usize, config: &TrainConfig, stream: u64) -> Factors {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(
        config
            .seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(stream),
    );
    if config.init_scale == 0.0 {
        return Factors::zeroed(rows * k);
    }
    let normal = Normal::new(0.0f32, config.init_scale).expect("scale validated as finite and ≥ 0");
    Factors::from_fn(rows * k, |_| normal.sample(&mut rng))
}
