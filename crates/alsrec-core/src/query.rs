//! Questions asked of a trained model: top-N recommendations (one user or all), predictions,
//! similar movies and users. Top-N is by partial selection with a bounded heap: one comparison
//! per candidate once the heap is full, never a full sort.
use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rayon::prelude::*;

use crate::cancel::CancelToken;
use crate::error::{Error, Result};
use crate::model::Model;

/// Which movies may be recommended. Empty / `None` fields do not restrict.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Keep movies with at least one of these genres (indices into the genre vocabulary).
    pub genres: Vec<u16>,
    /// Keep movies with at least this many training ratings.
    pub min_ratings: u32,
    /// Keep movies whose year lies in [from, to]; movies without a year are dropped.
    pub years: Option<(i32, i32)>,
    /// Only these movies (dense indices).
    pub candidates: Option<Vec<u32>>,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        self.genres.is_empty()
            && self.min_ratings == 0
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
            (self.n * 4).max(50)
        } else {
            self.n
        }
    }
}

/// `model::dot` with the same eight accumulators and summation order (so the same bits, and the
/// TypeScript reader matches it), written over `chunks_exact` so the compiler drops the bounds
/// checks and vectorizes: this is the inner loop of every single-user query.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    let mut acc = [0f32; 8];
    for (x, y) in ca.zip(cb) {
        for j in 0..8 {
            acc[j] += x[j] * y[j];
        }
    }
    let mut sum: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        sum += x * y;
    }
    sum
}

pub fn check_n(n: usize) -> Result<()> {
    if n == 0 {
        Err(Error::invalid_argument("n must be at least 1 (got 0)"))
    } else {
        Ok(())
    }
}

/// One recommended movie: its dense index and predicted rating.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub item: u32,
    pub score: f32,
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
            heap: BinaryHeap::with_capacity(n + 1),
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
    /// VᵀV of the movie vectors, for implicit models' fold-ins (None for explicit ones).
    pub item_gram: Option<nalgebra::DMatrix<f64>>,
}

impl QueryIndex {
    pub fn new(model: &Model) -> QueryIndex {
        let mut item_counts = vec![0u32; model.num_items()];
        for &i in &model.seen.indices {
            item_counts[i as usize] += 1;
        }
        let (lo, hi) = model
            .seen
            .values
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
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
        QueryIndex {
            item_norms: pad(norms(&model.item_factors), model.num_items()),
            user_norms: pad(norms(&model.user_factors), model.num_users()),
            item_counts,
            rating_range: if lo.is_finite() { (lo, hi) } else { (0.5, 5.0) },
            item_gram: model.implicit_item_gram(),
        }
    }
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
        if filter.is_empty() {
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
            if index.item_counts[i] < filter.min_ratings {
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
        let mask = self.allowed_items(&options.filter, index);
        let u = self.user_vector(user);
        let base = self.mu + self.user_bias[user];
        let scores = |i: usize| base + self.item_bias[i] + dot(u, self.item_vector(i));
        let pool = self.rank_row_parallel(
            self.seen_of(user, options),
            options,
            mask.as_deref(),
            scores,
        );
        Ok(self.diversify(pool, options))
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
            top.push(Scored {
                item: i as u32,
                score: score(i),
            });
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
                    top.push(Scored {
                        item: i as u32,
                        score: score(i),
                    });
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
    ) -> Result<(Vec<u32>, Vec<f32>)> {
        options.validate()?;
        let n = options.n;
        let mask = self.allowed_items(&options.filter, index);
        let items = self.num_items();
        let k = self.k;
        // A tile of scores (BLOCK × TILE f32 = 512 KB) stays in L2 between the product that
        // writes it and the top-N scan that reads it.
        const BLOCK: usize = 256;
        const TILE: usize = 512;
        let mut out_items = vec![u32::MAX; users.len() * n];
        let mut out_scores = vec![f32::NAN; users.len() * n];
        out_items
            .par_chunks_mut(BLOCK * n)
            .zip(out_scores.par_chunks_mut(BLOCK * n))
            .zip(users.par_chunks(BLOCK))
            .try_for_each_init(
                || vec![0f32; BLOCK * TILE],
                |scores, ((oi, os), block)| -> Result<()> {
                    cancel.check()?;
                    let rows = block.len();
                    let mut ublock = vec![0f32; rows * k];
                    for (r, &u) in block.iter().enumerate() {
                        ublock[r * k..(r + 1) * k].copy_from_slice(self.user_vector(u as usize));
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
                                    self.item_factors.as_ptr().add(start * k),
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
                            let base = self.mu + self.user_bias[u];
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
                                    top.push(Scored {
                                        item: i as u32,
                                        score: base + self.item_bias[i] + dot_uv,
                                    });
                                }
                                if next_seen < width {
                                    *cursor += 1;
                                }
                                j = next_seen + 1;
                            }
                        }
                    }
                    for (r, top) in tops.into_iter().enumerate() {
                        for (j, s) in self
                            .diversify(top.into_sorted(), options)
                            .into_iter()
                            .enumerate()
                        {
                            oi[r * n + j] = s.item;
                            os[r * n + j] = s.score;
                        }
                    }
                    Ok(())
                },
            )?;
        Ok((out_items, out_scores))
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
        let q = self.item_vector(item);
        let qn = index.item_norms[item];
        if qn == 0.0 {
            return Ok(Vec::new());
        }
        let scores = (0..self.num_items())
            .filter(|&i| i != item && index.item_norms[i] > 0.0)
            .filter(|&i| mask.as_ref().is_none_or(|m| m[i]))
            .map(|i| Scored {
                item: i as u32,
                score: dot(q, self.item_vector(i)) / (qn * index.item_norms[i]),
            });
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
            .map(|u| Scored {
                item: u as u32,
                score: dot(q, self.user_vector(u)) / (qn * index.user_norms[u]),
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
