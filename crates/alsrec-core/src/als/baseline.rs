//! The non-personalized baselines: most rated (optionally by recency) and damped mean rating.
use super::init::initial_model;
use super::metrics::epoch_stats;
use crate::data::dataset::Dataset;
use crate::error::{Error, Result};
use crate::model::config::{ModelKind, TrainConfig};
use crate::model::{EpochStats, Model};
use std::time::Instant;

/// The non-personalized baselines: every movie's score from its training ratings alone, so every
/// comparison shows what personalization adds. `popular`: c = ln(1 + n), μ = 0, no ratings
/// predicted. `toprated`: c = Σ(r − μ)/(n + γ/λ), the damped mean less μ, which predicts μ + c.
pub(crate) fn fit_baseline(
    train: &Dataset,
    config: &TrainConfig,
    test: Option<&Dataset>,
) -> Result<Model> {
    let start = Instant::now();
    let mut model = initial_model(train, config, None)?;
    let by_item = &train.by_item;
    let prior = (config.gamma / config.lambda) as f64;
    let mu = model.mu as f64;
    let recent = match (config.model, config.recency_half_life) {
        (ModelKind::Popular, Some(days)) => Some(recency_counts(train, days)?),
        _ => None,
    };
    for i in 0..by_item.nrows().min(model.num_items()) {
        let (_, ratings) = by_item.row(i);
        model.item_bias[i] = match config.model {
            ModelKind::Popular => recent
                .as_ref()
                .map_or(ratings.len() as f64, |counts| counts[i])
                .ln_1p() as f32,
            _ => {
                let sum: f64 = ratings.iter().map(|r| r as f64 - mu).sum();
                (sum / (ratings.len() as f64 + prior)) as f32
            }
        };
    }
    if config.model == ModelKind::Popular {
        model.mu = 0.0;
    }
    let seconds = start.elapsed().as_secs_f64();
    let stats = if config.model.predicts_ratings() {
        epoch_stats(1, &model, train, test, seconds)
    } else {
        // A popularity score is not a rating: there is no error to report.
        EpochStats {
            epoch: 1,
            train_rmse: f64::NAN,
            train_mae: f64::NAN,
            test_rmse: None,
            test_mae: None,
            loss: f64::NAN,
            seconds,
            metrics_seconds: None,
            wall_seconds: Some(seconds),
        }
    };
    model.history.push(stats);
    Ok(model)
}

/// Σ 2^(−age/h) of each movie's training ratings, ages in days from the newest rating.
pub(crate) fn recency_counts(train: &Dataset, half_life_days: f64) -> Result<Vec<f64>> {
    // File order, as the sums always ran: a movie's f64 sum depends on the order of its terms.
    let t = &train.triplets();
    if t.timestamps.len() != t.len() || t.is_empty() {
        return Err(Error::invalid_argument(
            "recencyHalfLife needs rating timestamps, and these ratings have none",
        ));
    }
    let newest = t.timestamps.iter().copied().max().unwrap_or(0);
    let mut counts = vec![0f64; train.items.len()];
    for (&i, &ts) in t.items.iter().zip(&t.timestamps) {
        let age_days = newest.saturating_sub(ts) as f64 / 86_400.0;
        counts[i as usize] += (-age_days / half_life_days).exp2();
    }
    Ok(counts)
}
