//! Ranking quality on a test set: do the top k hold the movies a user rated highly?
//!
//! For every test user with at least one relevant test rating (rating ≥ threshold) the model
//! ranks all movies the user did not rate in training; binary relevance. Sums run over
//! fixed-size chunks of users, added in order, so results are identical for any thread count.
use rayon::prelude::*;

use crate::data::dataset::Dataset;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::query::options::RecommendOptions;
use crate::query::stats::QueryStats;
use crate::runtime::cancel::CancelToken;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RankingMetrics {
    pub k: usize,
    pub threshold: f32,
    /// Users evaluated: known to the model, with at least one relevant test rating.
    pub users: usize,
    pub precision: f64,
    pub recall: f64,
    pub ndcg: f64,
    pub map: f64,
    pub hit_rate: f64,
    /// Distinct movies recommended to anyone, as a fraction of the model's movies.
    pub coverage: f64,
    /// Mean popularity rank of the recommended movies (1 = the most rated in training; ties by
    /// index): how far from the obvious the lists reach.
    pub novelty: f64,
}

const CHUNK: usize = 256;

pub fn ranking_metrics(
    model: &Model,
    test: &Dataset,
    k: usize,
    threshold: f32,
    index: &QueryStats,
    cancel: &CancelToken,
) -> Result<RankingMetrics> {
    ranking_metrics_of(model, test, k, threshold, index, cancel, 1)
}

/// As [`ranking_metrics`] over every `stride`-th test user (a fixed subsample, for tuning on
/// large sets).
pub fn ranking_metrics_of(
    model: &Model,
    test: &Dataset,
    k: usize,
    threshold: f32,
    index: &QueryStats,
    cancel: &CancelToken,
    stride: usize,
) -> Result<RankingMetrics> {
    if k == 0 {
        return Err(Error::invalid_argument("k must be at least 1 (got 0)"));
    }
    if !threshold.is_finite() {
        return Err(Error::invalid_argument("threshold must be a finite number"));
    }
    // Ids, not indices: the test set may come from another load than the model's training set.
    let mut users = Vec::new();
    let mut relevant: Vec<Vec<u32>> = Vec::new();
    for tu in (0..test.by_user.nrows()).step_by(stride.max(1)) {
        let Some(mu) = model.users.index(test.users.raw(tu as u32)) else {
            continue;
        };
        let (cols, vals) = test.by_user.row(tu);
        let rel: Vec<u32> = cols
            .iter()
            .zip(vals)
            .filter(|(_, r)| *r >= threshold)
            .map(|(&c, _)| model.items.index(test.items.raw(c)).unwrap_or(u32::MAX))
            .collect();
        if !rel.is_empty() {
            users.push(mu);
            relevant.push(rel);
        }
    }
    let options = RecommendOptions {
        n: k,
        ..RecommendOptions::default()
    };
    let items = model.recommend_many(&users, &options, index, cancel)?.items;
    let discount: Vec<f64> = (0..k).map(|r| 1.0 / ((r + 2) as f64).log2()).collect();
    let parts: Vec<[f64; 5]> = (0..users.len())
        .collect::<Vec<_>>()
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut acc = [0f64; 5];
            for &u in chunk {
                let rel = &relevant[u];
                let top = &items[u * k..(u + 1) * k];
                let (mut hits, mut dcg, mut ap) = (0usize, 0f64, 0f64);
                for (r, item) in top.iter().enumerate() {
                    if *item != u32::MAX && rel.contains(item) {
                        hits += 1;
                        dcg += discount[r];
                        ap += hits as f64 / (r + 1) as f64;
                    }
                }
                let ideal: f64 = discount[..rel.len().min(k)].iter().sum();
                acc[0] += hits as f64 / k as f64;
                acc[1] += hits as f64 / rel.len() as f64;
                acc[2] += dcg / ideal;
                acc[3] += ap / rel.len().min(k) as f64;
                acc[4] += (hits > 0) as u8 as f64;
            }
            acc
        })
        .collect();
    let sums = parts.iter().fold([0f64; 5], |mut a, p| {
        a.iter_mut().zip(p).for_each(|(x, y)| *x += y);
        a
    });
    let mut by_popularity: Vec<u32> = (0..model.num_items() as u32).collect();
    by_popularity.sort_unstable_by_key(|&i| (std::cmp::Reverse(index.item_counts[i as usize]), i));
    let mut popularity_rank = vec![0u64; model.num_items()];
    for (r, &i) in by_popularity.iter().enumerate() {
        popularity_rank[i as usize] = r as u64 + 1;
    }
    let mut distinct = vec![false; model.num_items()];
    let (mut rank_sum, mut listed) = (0u64, 0u64);
    for &i in &items {
        if i != u32::MAX {
            distinct[i as usize] = true;
            rank_sum += popularity_rank[i as usize];
            listed += 1;
        }
    }
    let n = users.len().max(1) as f64;
    Ok(RankingMetrics {
        k,
        threshold,
        users: users.len(),
        precision: sums[0] / n,
        recall: sums[1] / n,
        ndcg: sums[2] / n,
        map: sums[3] / n,
        hit_rate: sums[4] / n,
        coverage: distinct.iter().filter(|&&d| d).count() as f64 / model.num_items().max(1) as f64,
        novelty: rank_sum as f64 / listed.max(1) as f64,
    })
}
