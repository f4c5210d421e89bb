//! Questions asked of a trained model: top-N recommendations (one user or all), predictions,
//! similar movies and users. Top-N is by partial selection with a bounded heap: one comparison
//! per candidate once the heap is full, never a full sort.
pub mod analysis;
pub mod series;
#[cfg(test)]
mod tests;
use crate::kernels::dot;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::model::Model;
use crate::query::series::Series;
use crate::runtime::cancel::CancelToken;

/// Which movies may be recommended. Empty / `None` fields do not restrict.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Keep movies with at least one of these genres (indices into the genre vocabulary).
    pub genres: Vec<u16>,
    /// Keep movies with at least this many training ratings; `None`: the model's floor
    /// ([`QueryIndex::floor`]), `Some(0)` keeps every movie.
    pub min_ratings: Option<u32>,
    /// Keep movies whose year lies in [from, to]; movies without a year are dropped.
    pub years: Option<(i32, i32)>,
    /// Only these movies (dense indices).
    pub candidates: Option<Vec<u32>>,
}

impl Filter {
    /// No restriction beyond the floor.
    pub fn is_empty(&self) -> bool {
        self.genres.is_empty()
            && self.min_ratings.is_none()
            && self.years.is_none()
            && self.candidates.is_none()
    }
}

#[derive(Debug, Clone)]
pub struct RecommendOptions {
    pub n: usize,
    pub exclude_seen: bool,
    pub filter: Filter,
    /// MMR weight in [0, 1] for genre diversity; 0 keeps the plain ranking.
    pub diversity: f32,
}

impl Default for RecommendOptions {
    fn default() -> Self {
        RecommendOptions {
            n: 10,
            exclude_seen: true,
            filter: Filter::default(),
            diversity: 0.0,
        }
    }
}

impl RecommendOptions {
    pub fn validate(&self) -> Result<()> {
        check_n(self.n)?;
        if !(self.diversity.is_finite() && (0.0..=1.0).contains(&self.diversity)) {
            return Err(Error::invalid_argument(format!(
                "diversity must be a number from 0 to 1 (got {})",
                self.diversity
            )));
        }
        if let Some((from, to)) = self.filter.years {
            if from > to {
                return Err(Error::invalid_argument(format!(
                    "years must be [from, to] with from ≤ to (got [{from}, {to}])"
                )));
            }
        }
        Ok(())
    }

    /// How many candidates to rank before re-ranking for diversity.
    fn pool(&self) -> usize {
        if self.diversity > 0.0 {
            self.n.saturating_mul(4).max(50)
        } else {
            self.n
        }
    }

    /// These options with n at most the number of movies: a list cannot be longer, and an n
    /// taken from a request must never size an allocation.
    pub fn clamped(&self, items: usize) -> std::borrow::Cow<'_, RecommendOptions> {
        if self.n <= items.max(1) {
            return std::borrow::Cow::Borrowed(self);
        }
        std::borrow::Cow::Owned(RecommendOptions {
            n: items.max(1),
            ..self.clone()
        })
    }
}

pub fn check_n(n: usize) -> Result<()> {
    if n == 0 {
        Err(Error::invalid_argument("n must be at least 1 (got 0)"))
    } else {
        Ok(())
    }
}

/// Top-N lists of many users, row-major (users × n), padded with `u32::MAX` / NaN.
#[derive(Debug, Clone, PartialEq)]
pub struct ManyLists {
    pub items: Vec<u32>,
    pub scores: Vec<f32>,
    /// Displayed ratings (see [`Scored::rating`]).
    pub ratings: Vec<f32>,
}

/// One recommended movie: its dense index, its ranking score and, where the model predicts
/// ratings, the predicted rating clamped to the rating scale (NaN otherwise).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub item: u32,
    pub score: f32,
    pub rating: f32,
}

impl Scored {
    #[inline(always)]
    pub fn new(item: u32, score: f32) -> Scored {
        Scored {
            item,
            score,
            rating: f32::NAN,
        }
    }
}

/// Higher score first; equal scores by lower index, so results never depend on scan order.
fn better(a: &Scored, b: &Scored) -> Ordering {
    b.score.total_cmp(&a.score).then(a.item.cmp(&b.item))
}

/// Heap entry ordered so that the heap's top is the *worst* kept candidate.
struct Worst(Scored);
impl PartialEq for Worst {
    fn eq(&self, other: &Self) -> bool {
        better(&self.0, &other.0) == Ordering::Equal
    }
}
impl Eq for Worst {}
impl PartialOrd for Worst {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Worst {
    fn cmp(&self, other: &Self) -> Ordering {
        better(&self.0, &other.0)
    }
}

/// Keeps the `n` best of a stream.
pub struct TopN {
    n: usize,
    heap: BinaryHeap<Worst>,
    /// The worst kept score once the heap is full (−∞ before): a candidate scoring strictly
    /// below it loses whatever its index, so one float comparison rejects almost every movie.
    /// NaN never compares below, so such scores take the exact path.
    threshold: f32,
}

impl TopN {
    pub fn new(n: usize) -> Self {
        TopN {
            n,
            // A hint only: n comes from callers, and a list of n is rarely filled.
            heap: BinaryHeap::with_capacity(n.min(4096) + 1),
            threshold: f32::NEG_INFINITY,
        }
    }

    #[inline]
    pub fn push(&mut self, s: Scored) {
        if s.score < self.threshold {
            return;
        }
        self.push_exact(s);
    }

    #[inline(never)]
    fn push_exact(&mut self, s: Scored) {
        if self.heap.len() < self.n {
            self.heap.push(Worst(s));
        } else if let Some(mut worst) = self.heap.peek_mut() {
            if better(&s, &worst.0) == Ordering::Less {
                *worst = Worst(s);
            }
        }
        if self.heap.len() >= self.n {
            self.threshold = self.heap.peek().map_or(f32::NEG_INFINITY, |w| w.0.score);
        }
    }

    pub fn into_sorted(self) -> Vec<Scored> {
        let mut v: Vec<Scored> = self.heap.into_iter().map(|w| w.0).collect();
        v.sort_unstable_by(better);
        v
    }
}

/// The `n` best by score (ties by index), by partial selection.
pub fn top_n(scores: impl Iterator<Item = Scored>, n: usize) -> Vec<Scored> {
    let mut top = TopN::new(n);
    scores.for_each(|s| top.push(s));
    top.into_sorted()
}

/// Facts derived from a model once and reused by every query: rating counts per movie,
/// vector norms and the rating scale. Building it is O(ratings + (users + movies)·k).
#[derive(Debug, Clone)]
pub struct QueryIndex {
    pub item_counts: Vec<u32>,
    pub item_norms: Vec<f32>,
    pub user_norms: Vec<f32>,
    /// The smallest and largest training rating: the scale new ratings must lie on.
    pub rating_range: (f32, f32),
    /// The fewest training ratings a movie needs to appear in a list by default: the smallest
    /// count n such that the movies with at least n ratings hold 90 % of all ratings (the head
    /// of the catalog: 4 on ml-latest-small, 16 on the bundled sample). A filter's `min_ratings` overrides it.
    pub floor: u32,
    /// VᵀV of the movie vectors, for implicit models' fold-ins (None for explicit ones).
    pub item_gram: Option<nalgebra::DMatrix<f64>>,
    /// How lists are ranked: see [`RankSpace`].
    pub rank: RankSpace,
    /// The ranker's YᵀY, for the ranker's fold-ins (None without a ranker).
    pub ranker_gram: Option<nalgebra::DMatrix<f64>>,
    /// Norms of the vectors similar-movie queries compare (the ranker's, where there is one).
    pub similar_norms: Vec<f32>,
    /// Title series, for the ranker's series bonus (empty without one).
    pub series: Series,
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

impl QueryIndex {
    pub fn new(model: &Model) -> QueryIndex {
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
        let series = if rank.series_bonus > 0.0 {
            Series::of_model(model)
        } else {
            Series::default()
        };
        QueryIndex {
            series,
            item_norms: pad(norms(&model.item_factors), model.num_items()),
            user_norms: pad(norms(&model.user_factors), model.num_users()),
            rank,
            floor: popularity_floor(&item_counts),
            similar_norms: pad(similar_norms, model.num_items()),
            item_counts,
            rating_range: if lo.is_finite() { (lo, hi) } else { (0.5, 5.0) },
            item_gram: model.implicit_item_gram(),
            ranker_gram: model.ranker.as_ref().and_then(|r| r.implicit_item_gram()),
        }
    }
}

/// The pool (best first, `options.pool()` long) re-ranked by score + b for the `liked` series
/// members (sorted), which are scored here whether or not they made the pool. Exact: a film
/// without the bonus that belongs in the new top list was in the old one, since every film
/// above it there still is.
pub(crate) fn add_series_bonus(
    pool: Vec<Scored>,
    liked: &[u32],
    seen: &[u32],
    mask: Option<&[bool]>,
    score: impl Fn(usize) -> f32,
    index: &QueryIndex,
    options: &RecommendOptions,
) -> Vec<Scored> {
    let bonus = index.rank.series_bonus;
    if bonus <= 0.0 || liked.is_empty() {
        return pool;
    }
    let boosted = liked.iter().filter_map(|&i| {
        let skip = seen.binary_search(&i).is_ok() || mask.is_some_and(|m| !m[i as usize]);
        (!skip).then(|| Scored::new(i, score(i as usize) + bonus))
    });
    let rest = pool
        .into_iter()
        .filter(|s| liked.binary_search(&s.item).is_err());
    top_n(rest.chain(boosted), options.pool())
}

/// The most list entries (users × n) one batch call returns: 12 bytes each, 3 GB in all.
pub const MAX_BATCH_CELLS: usize = 1 << 28;

impl Model {
    /// The smallest and largest training rating ((∞, −∞) without any).
    pub fn seen_rating_bounds(&self) -> (f32, f32) {
        self.seen
            .values
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            })
    }
}

/// See [`QueryIndex::floor`].
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

impl Model {
    /// The dense index of a raw user id, or an error that names it.
    pub fn user_index(&self, user_id: i64) -> Result<usize> {
        self.users
            .index(user_id)
            .map(|u| u as usize)
            .ok_or_else(|| Error::not_found(format!("unknown user id {user_id}")))
    }

    pub fn item_index(&self, movie_id: i64) -> Result<usize> {
        self.items
            .index(movie_id)
            .map(|i| i as usize)
            .ok_or_else(|| Error::not_found(format!("unknown movie id {movie_id}")))
    }

    /// The genre index of a name, or an error listing the vocabulary.
    pub fn genre_by_name(&self, name: &str) -> Result<u16> {
        let names = &self.catalog.genre_names;
        names
            .iter()
            .position(|g| g.eq_ignore_ascii_case(name.trim()))
            .map(|g| g as u16)
            .ok_or_else(|| {
                Error::not_found(format!(
                    "unknown genre '{name}'; the genres are {}",
                    names.join(", ")
                ))
            })
    }

    /// Which movies pass the filter, as a mask; `None` when every movie does.
    pub fn allowed_items(&self, filter: &Filter, index: &QueryIndex) -> Option<Vec<bool>> {
        let min_ratings = filter.min_ratings.unwrap_or(index.floor);
        if filter.is_empty() && min_ratings == 0 {
            return None;
        }
        let mut mask = vec![filter.candidates.is_none(); self.num_items()];
        if let Some(c) = &filter.candidates {
            for &i in c {
                mask[i as usize] = true;
            }
        }
        for (i, keep) in mask.iter_mut().enumerate() {
            if !*keep {
                continue;
            }
            if index.item_counts[i] < min_ratings {
                *keep = false;
                continue;
            }
            if filter.genres.is_empty() && filter.years.is_none() {
                continue;
            }
            let movie = self.catalog.get(self.items.raw(i as u32));
            if !filter.genres.is_empty() {
                let genres = movie.map(|m| m.genres.as_slice()).unwrap_or(&[]);
                if !genres.iter().any(|g| filter.genres.contains(g)) {
                    *keep = false;
                    continue;
                }
            }
            if let Some((from, to)) = filter.years {
                *keep = movie
                    .and_then(|m| m.year)
                    .is_some_and(|y| from <= y && y <= to);
            }
        }
        Some(mask)
    }

    /// The top movies for a known user, best first.
    pub fn recommend(
        &self,
        user: usize,
        options: &RecommendOptions,
        index: &QueryIndex,
    ) -> Result<Vec<Scored>> {
        options.validate()?;
        let options = &*options.clamped(self.num_items());
        let mask = self.allowed_items(&options.filter, index);
        let ranker = self
            .ranker
            .as_ref()
            .map_or(&[][..], |r| r.user_vector(user));
        let (q, base) = index.rank.query(
            self,
            self.user_vector(user),
            self.user_bias[user],
            self.seen.row_len(user),
            ranker,
        );
        let seen = self.seen_of(user, options);
        let score = index.rank.scorer(self, &q, base);
        let pool = self.rank_row_parallel(seen, options, mask.as_deref(), &score);
        let (rated, ratings) = self.seen.row(user);
        let liked = index.series.liked_members(rated, ratings);
        let pool = add_series_bonus(pool, &liked, seen, mask.as_deref(), &score, index, options);
        let mut top = self.diversify(pool, options);
        self.rate(
            &mut top,
            self.user_vector(user),
            self.user_bias[user],
            index,
        );
        Ok(top)
    }

    /// Fills in the displayed rating of each movie: the prediction for a user with this
    /// (vector, bias), clamped to the rating scale; NaN for implicit models, which predict none.
    pub fn rate(&self, top: &mut [Scored], vector: &[f32], bias: f32, index: &QueryIndex) {
        if !self.config.model.predicts_ratings() {
            return;
        }
        let (lo, hi) = index.rating_range;
        for s in top {
            let i = s.item as usize;
            let r = self.mu + bias + self.item_bias[i] + dot(vector, self.item_vector(i));
            s.rating = r.clamp(lo, hi);
        }
    }

    /// The movies to leave out for a user: the training ratings, unless asked to keep them.
    fn seen_of(&self, user: usize, options: &RecommendOptions) -> &[u32] {
        if options.exclude_seen && user < self.seen.nrows() {
            self.seen.row(user).0
        } else {
            &[]
        }
    }

    /// Ranks the allowed movies not in `seen` (sorted) by `score`, keeping `options.pool()`.
    pub(crate) fn rank_row(
        &self,
        seen: &[u32],
        options: &RecommendOptions,
        mask: Option<&[bool]>,
        score: impl Fn(usize) -> f32,
    ) -> Vec<Scored> {
        let mut top = TopN::new(options.pool());
        let mut next_seen = seen.iter().peekable();
        for i in 0..self.num_items() {
            // `seen` is sorted, so one forward walk skips it without a search per movie.
            if next_seen.peek().is_some_and(|&&s| s as usize == i) {
                next_seen.next();
                continue;
            }
            if mask.is_some_and(|m| !m[i]) {
                continue;
            }
            top.push(Scored::new(i as u32, score(i)));
        }
        top.into_sorted()
    }

    /// [`Self::rank_row`] over ranges of movies in parallel, merged by the same total order, so
    /// the result is identical; one user's scan of 62k movies is memory-bound, and two cores
    /// stream the movie vectors twice as fast. Ranges are small enough for a busy core's share
    /// to be stolen (one range per thread left the p99 at the mercy of the scheduler) and large
    /// enough to keep the per-range cost low; small models stay on one thread.
    pub(crate) fn rank_row_parallel(
        &self,
        seen: &[u32],
        options: &RecommendOptions,
        mask: Option<&[bool]>,
        score: impl Fn(usize) -> f32 + Sync,
    ) -> Vec<Scored> {
        const CHUNK: usize = 4096;
        let items = self.num_items();
        if items < 2 * CHUNK || rayon::current_num_threads() < 2 {
            return self.rank_row(seen, options, mask, score);
        }
        let pool = options.pool();
        let (chunk, parts) = (CHUNK, items.div_ceil(CHUNK));
        let parts: Vec<Vec<Scored>> = (0..parts)
            .into_par_iter()
            .map(|c| {
                let (start, end) = (c * chunk, ((c + 1) * chunk).min(items));
                let mut next = seen.partition_point(|&s| (s as usize) < start);
                let mut top = TopN::new(pool);
                for i in start..end {
                    if next < seen.len() && seen[next] as usize == i {
                        next += 1;
                        continue;
                    }
                    if mask.is_some_and(|m| !m[i]) {
                        continue;
                    }
                    top.push(Scored::new(i as u32, score(i)));
                }
                top.into_sorted()
            })
            .collect();
        top_n(parts.into_iter().flatten(), pool)
    }

    /// Maximal-marginal-relevance re-ranking of a pool (best first) for genre diversity:
    /// repeatedly take the movie maximizing (1 − w)·relevance − w·(max genre overlap with the
    /// movies already taken), relevance being the score scaled to [0, 1] within the pool.
    pub fn diversify(&self, pool: Vec<Scored>, options: &RecommendOptions) -> Vec<Scored> {
        let w = options.diversity;
        if w <= 0.0 || pool.len() <= 1 {
            let mut pool = pool;
            pool.truncate(options.n);
            return pool;
        }
        let genres: Vec<&[u16]> = pool
            .iter()
            .map(|s| self.item_genres(s.item as usize))
            .collect();
        let (lo, hi) = pool
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |a, s| {
                (a.0.min(s.score), a.1.max(s.score))
            });
        let span = if hi > lo { hi - lo } else { 1.0 };
        let mut taken: Vec<usize> = Vec::with_capacity(options.n);
        let mut max_overlap = vec![0f32; pool.len()];
        let mut used = vec![false; pool.len()];
        while taken.len() < options.n.min(pool.len()) {
            let mut best: Option<(usize, f32)> = None;
            for c in 0..pool.len() {
                if used[c] {
                    continue;
                }
                let relevance = (pool[c].score - lo) / span;
                let value = (1.0 - w) * relevance - w * max_overlap[c];
                if best.is_none_or(|(_, b)| value > b) {
                    best = Some((c, value));
                }
            }
            let Some((pick, _)) = best else { break };
            used[pick] = true;
            taken.push(pick);
            for c in 0..pool.len() {
                if !used[c] {
                    max_overlap[c] = max_overlap[c].max(jaccard(genres[c], genres[pick]));
                }
            }
        }
        taken.into_iter().map(|c| pool[c]).collect()
    }

    /// Top-N for many users at once: rows of `n` (item, score), padded with `u32::MAX` / NaN
    /// where a user has fewer candidates. Scores come from a blocked matrix product (users × k
    /// by k × movies, in tiles of movies that stay in cache), the only way 10¹² flops fit in
    /// seconds; each user keeps a running top list across the tiles.
    pub fn recommend_many(
        &self,
        users: &[u32],
        options: &RecommendOptions,
        index: &QueryIndex,
        cancel: &CancelToken,
    ) -> Result<ManyLists> {
        options.validate()?;
        let options = &*options.clamped(self.num_items());
        let n = options.n;
        match users.len().checked_mul(n) {
            Some(cells) if cells <= MAX_BATCH_CELLS => {}
            _ => {
                return Err(Error::invalid_argument(format!(
                    "{} users × n = {n} is more than {MAX_BATCH_CELLS} list entries; ask for fewer users or a smaller n per call",
                    users.len()
                )))
            }
        }
        let mask = self.allowed_items(&options.filter, index);
        let items = self.num_items();
        let space = &index.rank;
        let k = space.k;
        let item_rows = space.item_rows(self);
        // A tile of scores (BLOCK × TILE f32 = 512 KB) stays in L2 between the product that
        // writes it and the top-N scan that reads it.
        const BLOCK: usize = 256;
        const TILE: usize = 512;
        let mut out_items = vec![u32::MAX; users.len() * n];
        let mut out_scores = vec![f32::NAN; users.len() * n];
        let mut out_ratings = vec![f32::NAN; users.len() * n];
        out_items
            .par_chunks_mut(BLOCK * n)
            .zip(out_scores.par_chunks_mut(BLOCK * n))
            .zip(out_ratings.par_chunks_mut(BLOCK * n))
            .zip(users.par_chunks(BLOCK))
            .try_for_each_init(
                || vec![0f32; BLOCK * TILE],
                |scores, (((oi, os), or), block)| -> Result<()> {
                    cancel.check()?;
                    let rows = block.len();
                    let mut ublock = vec![0f32; rows * k];
                    let mut bases = vec![0f32; rows];
                    for (r, &u) in block.iter().enumerate() {
                        let u = u as usize;
                        let ranker = self.ranker.as_ref().map_or(&[][..], |m| m.user_vector(u));
                        let (q, base) = space.query(
                            self,
                            self.user_vector(u),
                            self.user_bias[u],
                            self.seen.row_len(u),
                            ranker,
                        );
                        ublock[r * k..(r + 1) * k].copy_from_slice(&q);
                        bases[r] = base;
                    }
                    let mut tops: Vec<TopN> =
                        (0..rows).map(|_| TopN::new(options.pool())).collect();
                    let mut cursors = vec![0usize; rows];
                    for start in (0..items).step_by(TILE) {
                        let width = TILE.min(items - start);
                        if k > 0 {
                            // SAFETY: ublock is rows × k; the tile of item_factors is width × k
                            // (row-major, read transposed); scores holds BLOCK × TILE.
                            unsafe {
                                matrixmultiply::sgemm(
                                    rows,
                                    k,
                                    width,
                                    1.0,
                                    ublock.as_ptr(),
                                    k as isize,
                                    1,
                                    item_rows.as_ptr().add(start * k),
                                    1,
                                    k as isize,
                                    0.0,
                                    scores.as_mut_ptr(),
                                    width as isize,
                                    1,
                                );
                            }
                        } else {
                            scores[..rows * width].fill(0.0);
                        }
                        for (r, &u) in block.iter().enumerate() {
                            let u = u as usize;
                            let seen = self.seen_of(u, options);
                            let row = &scores[r * width..(r + 1) * width];
                            let base = bases[r];
                            let top = &mut tops[r];
                            let cursor = &mut cursors[r];
                            // `seen` is sorted: one forward walk across all tiles skips it, a
                            // run of unseen movies at a time so the hot loop has no seen test.
                            let mut j = 0;
                            while j < width {
                                let next_seen = seen
                                    .get(*cursor)
                                    .map_or(width, |&s| (s as usize - start).min(width));
                                for (jj, &dot_uv) in row[j..next_seen].iter().enumerate() {
                                    let i = start + j + jj;
                                    if mask.as_ref().is_some_and(|m| !m[i]) {
                                        continue;
                                    }
                                    top.push(Scored::new(
                                        i as u32,
                                        base + space.offset[i] + dot_uv,
                                    ));
                                }
                                if next_seen < width {
                                    *cursor += 1;
                                }
                                j = next_seen + 1;
                            }
                        }
                    }
                    for (r, top) in tops.into_iter().enumerate() {
                        let u = block[r] as usize;
                        let mut pool = top.into_sorted();
                        if space.series_bonus > 0.0 {
                            let (rated, ratings) = self.seen.row(u);
                            let liked = index.series.liked_members(rated, ratings);
                            let q = &ublock[r * k..(r + 1) * k];
                            pool = add_series_bonus(
                                pool,
                                &liked,
                                self.seen_of(u, options),
                                mask.as_deref(),
                                space.scorer(self, q, bases[r]),
                                index,
                                options,
                            );
                        }
                        let mut list = self.diversify(pool, options);
                        self.rate(&mut list, self.user_vector(u), self.user_bias[u], index);
                        for (j, s) in list.into_iter().enumerate() {
                            oi[r * n + j] = s.item;
                            os[r * n + j] = s.score;
                            or[r * n + j] = s.rating;
                        }
                    }
                    Ok(())
                },
            )?;
        Ok(ManyLists {
            items: out_items,
            scores: out_scores,
            ratings: out_ratings,
        })
    }

    /// Predicted scores for pairs of dense indices.
    pub fn predict_many(&self, users: &[usize], items: &[usize]) -> Vec<f32> {
        users
            .iter()
            .zip(items)
            .map(|(&u, &i)| self.predict(u, i))
            .collect()
    }

    fn require_vectors(&self) -> Result<()> {
        if self.k == 0 {
            Err(Error::invalid_argument(
                "the bias-only model has no latent vectors to compare",
            ))
        } else {
            Ok(())
        }
    }

    /// Movies nearest to a movie by cosine similarity of their vectors, itself excluded.
    pub fn similar_items(
        &self,
        item: usize,
        n: usize,
        filter: &Filter,
        index: &QueryIndex,
    ) -> Result<Vec<Scored>> {
        check_n(n)?;
        self.require_vectors()?;
        let mask = self.allowed_items(filter, index);
        // The ranker's vectors where there is one: they are fitted to who watches what, and
        // place a film beside its sequels more reliably than rating residuals do.
        let vectors = self.ranker.as_deref().unwrap_or(self);
        let norms = &index.similar_norms;
        let q = vectors.item_vector(item);
        let qn = norms[item];
        if qn == 0.0 {
            return Ok(Vec::new());
        }
        let scores = (0..self.num_items())
            .filter(|&i| i != item && norms[i] > 0.0)
            .filter(|&i| mask.as_ref().is_none_or(|m| m[i]))
            .map(|i| Scored::new(i as u32, dot(q, vectors.item_vector(i)) / (qn * norms[i])));
        Ok(top_n(scores, n))
    }

    /// Users nearest to a user by cosine similarity of their vectors, itself excluded.
    pub fn similar_users(&self, user: usize, n: usize, index: &QueryIndex) -> Result<Vec<Scored>> {
        check_n(n)?;
        self.require_vectors()?;
        let q = self.user_vector(user);
        let qn = index.user_norms[user];
        if qn == 0.0 {
            return Ok(Vec::new());
        }
        let scores = (0..self.num_users())
            .filter(|&u| u != user && index.user_norms[u] > 0.0)
            .map(|u| {
                Scored::new(
                    u as u32,
                    dot(q, self.user_vector(u)) / (qn * index.user_norms[u]),
                )
            });
        Ok(top_n(scores, n))
    }
}

fn jaccard(a: &[u16], b: &[u16]) -> f32 {
    if a.is_empty() && b.is_empty() {
        return 0.0;
    }
    let common = a.iter().filter(|g| b.contains(g)).count();
    common as f32 / (a.len() + b.len() - common) as f32
}
