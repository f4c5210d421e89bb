//! What a model's queries derive from it once: per-movie counts, norms, the rating scale, the
//! ranker's scoring space and the title series.
use crate::kernels::dense::dot;
use crate::model::Model;
use crate::query::scan::{Format, ScanIndex};
use crate::query::series::Series;
use rayon::prelude::*;

/// Facts derived from a model once and reused by every query: rating counts per movie,
/// vector norms and the rating scale. Building it is O(ratings + (users + movies)·k).
#[derive(Debug, Clone)]
pub struct QueryStats {
    pub item_counts: Vec<u32>,
    pub item_norms: Vec<f32>,
    pub user_norms: Vec<f32>,
    /// The smallest and largest training rating: the scale new ratings must lie on.
    pub rating_range: (f32, f32),
    /// The fewest training ratings a movie needs to appear in a list by default: the smallest
    /// count n such that the movies with at least n ratings hold 90 % of all ratings (the head
    /// of the catalog: 4 on ml-latest-small, 16 on the bundled sample). A filter's `min_ratings` overrides it.
    pub floor: u32,
    /// λ VᵀV + τ I of the movie vectors, for implicit models' fold-ins (None for explicit ones).
    pub item_base: Option<Vec<f32>>,
    /// How lists are ranked: see [`RankSpace`].
    pub rank: RankSpace,
    /// The same of the ranker's movie vectors, for the ranker's fold-ins (None without one).
    pub ranker_base: Option<Vec<f32>>,
    /// Norms of the vectors similar-movie queries compare (the ranker's, where there is one).
    pub similar_norms: Vec<f32>,
    /// Title series, for the ranker's series bonus (empty without one).
    pub series: Series,
    /// The half-precision first pass of one-user lists (None where the rows do not fit f16).
    pub scan: Option<ScanIndex>,
    /// Whether lists of many users go through `scan` ([`BatchScan`]).
    pub batch_scan: BatchScan,
}

/// The space lists are ranked in: score(u, i) = base_u + q_u·w_i + offset_i, one dot product
/// per movie. Without a ranker q_u = u, w_i = v_i, offset_i = c_i and base_u = μ + b_u (the
/// predicted rating). With one, q_u = [s_u·x_u, w_u·u, w_u], w_i = [y_i, v_i, c_i],
/// offset_i = −d·ln(1 + n_i) and base_u = 0 ([`crate::model::config::RankerConfig`]).
#[derive(Debug, Clone)]
pub struct RankSpace {
    pub k: usize,
    /// The movie rows (movies × k) with a ranker; `None`: the model's own movie vectors.
    pub items: Option<Vec<f32>>,
    pub offset: Vec<f32>,
    /// The median norm of the ranker's user vectors: every user's x is scaled to it, so the
    /// blend weighs a thin profile's taste as much as a thick one's (see `query`).
    pub user_norm: f32,
    /// b, added for the films of a series the user liked (0 without a ranker).
    pub series_bonus: f32,
}

impl RankSpace {
    /// score(i) for a query vector `q` and base.
    pub fn scorer<'a>(
        &'a self,
        model: &'a Model,
        q: &'a [f32],
        base: f32,
    ) -> impl Fn(usize) -> f32 + Sync + 'a {
        let rows = self.item_rows(model);
        let k = self.k;
        move |i: usize| base + self.offset[i] + dot(q, &rows[i * k..(i + 1) * k])
    }

    fn new(model: &Model, item_counts: &[u32]) -> RankSpace {
        let (Some(ranker), Some(rc)) = (&model.ranker, &model.config.ranker) else {
            return RankSpace {
                k: model.k,
                items: None,
                offset: model.item_bias.clone(),
                user_norm: 0.0,
                series_bonus: 0.0,
            };
        };
        let (rk, k) = (ranker.k, model.k);
        let width = rk + k + 1;
        let mut items = vec![0f32; model.num_items() * width];
        items
            .par_chunks_mut(width)
            .enumerate()
            .for_each(|(i, row)| {
                row[..rk].copy_from_slice(ranker.item_vector(i));
                row[rk..rk + k].copy_from_slice(model.item_vector(i));
                row[rk + k] = model.item_bias[i];
            });
        let offset = (0..model.num_items())
            .map(|i| {
                // ln in f64, rounded once: the TypeScript reader gets the same bits.
                let popularity = (item_counts[i] as f64).ln_1p() as f32;
                -(rc.popularity_penalty * popularity)
            })
            .collect();
        let mut norms: Vec<f32> = ranker
            .user_factors
            .par_chunks(rk)
            .map(|x| dot(x, x).sqrt())
            .collect();
        norms.sort_unstable_by(f32::total_cmp);
        RankSpace {
            k: width,
            items: Some(items),
            offset,
            user_norm: norms.get(norms.len() / 2).copied().unwrap_or(1.0),
            series_bonus: rc.series_bonus,
        }
    }

    /// The movie rows of the space.
    pub fn item_rows<'a>(&'a self, model: &'a Model) -> &'a [f32] {
        self.items.as_deref().unwrap_or(&model.item_factors)
    }

    /// q_u and base_u for a user given by the explicit (vector, bias), the number of ratings
    /// behind them and, with a ranker, the ranker's vector.
    pub fn query(
        &self,
        model: &Model,
        vector: &[f32],
        bias: f32,
        ratings: usize,
        ranker: &[f32],
    ) -> (Vec<f32>, f32) {
        match &model.config.ranker {
            Some(rc) if self.items.is_some() => {
                // A user who rated three films has a short x (the regularizer dominates), so
                // the rating and popularity terms would decide the list alone; scaling x to the
                // median norm ranks by the direction of the user's taste, whatever its length.
                let norm = dot(ranker, ranker).sqrt();
                let scale = if norm > 0.0 {
                    (self.user_norm / norm).max(1.0)
                } else {
                    0.0
                };
                // The predicted rating weighs w·n/(n + n₀) for a user with n ratings: a film's
                // stars from three ratings say more about the film than about this user's taste.
                let n = ratings as f32;
                let w = rc.rating_weight * n / (n + rc.rating_support);
                let mut q = Vec::with_capacity(self.k);
                q.extend(ranker.iter().map(|&x| scale * x));
                q.extend(vector.iter().map(|&x| w * x));
                q.push(w);
                (q, 0.0)
            }
            _ => (vector.to_vec(), model.mu + bias),
        }
    }
}

impl QueryStats {
    pub fn new(model: &Model) -> QueryStats {
        let mut item_counts = vec![0u32; model.num_items()];
        for &i in &model.seen.indices {
            item_counts[i as usize] += 1;
        }
        let (lo, hi) = model.seen_rating_bounds();
        let k = model.k.max(1);
        let norms = |factors: &[f32]| -> Vec<f32> {
            factors
                .par_chunks(k)
                .map(|v| if model.k == 0 { 0.0 } else { dot(v, v).sqrt() })
                .collect()
        };
        let pad = |mut v: Vec<f32>, len: usize| {
            v.resize(len, 0.0);
            v
        };
        let similar = model.ranker.as_deref().unwrap_or(model);
        let similar_norms: Vec<f32> = similar
            .item_factors
            .par_chunks(similar.k.max(1))
            .map(|v| {
                if similar.k == 0 {
                    0.0
                } else {
                    dot(v, v).sqrt()
                }
            })
            .collect();
        let rank = RankSpace::new(model, &item_counts);
        let scan = ScanIndex::new(
            rank.item_rows(model),
            rank.k,
            &rank.offset,
            &item_counts,
            Format::best(),
        );
        let series = if rank.series_bonus > 0.0 {
            Series::of_model(model)
        } else {
            Series::default()
        };
        QueryStats {
            scan,
            batch_scan: BatchScan::Auto,
            series,
            item_norms: pad(norms(&model.item_factors), model.num_items()),
            user_norms: pad(norms(&model.user_factors), model.num_users()),
            rank,
            floor: popularity_floor(&item_counts),
            similar_norms: pad(similar_norms, model.num_items()),
            item_counts,
            rating_range: if lo.is_finite() { (lo, hi) } else { (0.5, 5.0) },
            item_base: model.implicit_base(&model.item_factors),
            ranker_base: model
                .ranker
                .as_ref()
                .and_then(|r| r.implicit_base(&r.item_factors)),
        }
    }
}

/// When `recommend_many` takes the scan index's first pass instead of the blocked f32 product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchScan {
    /// Where the byte kernel is vectorized ([`ScanIndex::batch_pays`]).
    Auto,
    /// Whenever there is an index, in tiles of `tile` positions (tests: the portable
    /// kernels, and thresholds carried across many tiles).
    Always { tile: usize },
    /// Never (tests: the product's lists to compare with).
    Never,
}

impl Model {
    /// The smallest and largest training rating ((∞, −∞) without any).
    pub fn seen_rating_bounds(&self) -> (f32, f32) {
        self.seen
            .values
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            })
    }
}

/// See [`QueryStats::floor`].
pub fn popularity_floor(item_counts: &[u32]) -> u32 {
    let mut counts: Vec<u32> = item_counts.iter().copied().filter(|&c| c > 0).collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    let total: u64 = counts.iter().map(|&c| c as u64).sum();
    let mut held = 0u64;
    for &c in &counts {
        held += c as u64;
        // held / total ≥ 0.9, in integers.
        if held * 10 >= total * 9 {
            return c;
        }
    }
    0
}
