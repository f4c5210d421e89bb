//! The top list of one user (known, or folded in): scoring, seen movies, the series bonus.
use crate::error::Result;
use crate::kernels::dense::dot;
use crate::kernels::isa::Isa;
use crate::model::Model;
use crate::query::filter::Admission;
use crate::query::options::RecommendOptions;
use crate::query::stats::QueryStats;
use crate::query::topn::{top_n, Scored, TopN};
use rayon::prelude::*;

impl Model {
    /// The top movies for a known user, best first.
    pub fn recommend(
        &self,
        user: usize,
        options: &RecommendOptions,
        index: &QueryStats,
    ) -> Result<Vec<Scored>> {
        options.validate()?;
        let options = &*options.clamped(self.num_items());
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
        let admission = self.admission(self.seen_of(user, options), &options.filter, index);
        let (rated, ratings) = self.seen.row(user);
        let liked = index.series.liked_members(rated, ratings);
        let rated_as = (self.user_vector(user), self.user_bias[user]);
        Ok(self.list_for(&q, base, &admission, &liked, rated_as, options, index))
    }

    /// The list of the rank-space query (q, base): the admitted movies ranked
    /// ([`Self::rank_one`]), the series bonus for the `liked` series members, diversity, and
    /// the displayed ratings of a user with the explicit (vector, bias) `rated_as`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn list_for(
        &self,
        q: &[f32],
        base: f32,
        admission: &Admission<'_>,
        liked: &[u32],
        rated_as: (&[f32], f32),
        options: &RecommendOptions,
        index: &QueryStats,
    ) -> Vec<Scored> {
        let score = index.rank.scorer(self, q, base);
        let pool = self.rank_one(q, base, admission, options, index, &score);
        let pool = add_series_bonus(pool, liked, |i| admission.admits(i), &score, index, options);
        let mut top = self.diversify(pool, options);
        self.rate(&mut top, rated_as.0, rated_as.1, index);
        top
    }

    /// Fills in the displayed rating of each movie: the prediction for a user with this
    /// (vector, bias), clamped to the rating scale; NaN for implicit models, which predict none.
    pub fn rate(&self, top: &mut [Scored], vector: &[f32], bias: f32, index: &QueryStats) {
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
    pub(crate) fn seen_of(&self, user: usize, options: &RecommendOptions) -> &[u32] {
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

    /// The best `options.pool()` admitted movies for the query (q, base) of the rank space,
    /// scored by `score` (the space's exact scorer of q and base): through the half-precision
    /// first pass where the model has one ([`crate::query::scan`]), with the same result as
    /// scoring every movie.
    pub(crate) fn rank_one(
        &self,
        q: &[f32],
        base: f32,
        admission: &Admission<'_>,
        options: &RecommendOptions,
        index: &QueryStats,
        score: &(impl Fn(usize) -> f32 + Sync),
    ) -> Vec<Scored> {
        if let Some(scan) = &index.scan {
            let end = scan.prefix(admission.min_ratings);
            let admits = |i: u32| admission.admits_unless_rare(i);
            if let Some(top) =
                scan.top(Isa::detected(), q, base, end, options.pool(), admits, score)
            {
                return top;
            }
        }
        let mask = admission.mask();
        self.rank_row_parallel(admission.seen, options, mask.as_deref(), score)
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
}

/// The pool (best first, `options.pool()` long) re-ranked by score + b for the `liked` series
/// members (sorted), which are scored here whether or not they made the pool. Exact: a film
/// without the bonus that belongs in the new top list was in the old one, since every film
/// above it there still is.
pub(crate) fn add_series_bonus(
    pool: Vec<Scored>,
    liked: &[u32],
    admits: impl Fn(u32) -> bool,
    score: impl Fn(usize) -> f32,
    index: &QueryStats,
    options: &RecommendOptions,
) -> Vec<Scored> {
    let bonus = index.rank.series_bonus;
    if bonus <= 0.0 || liked.is_empty() {
        return pool;
    }
    let boosted = liked
        .iter()
        .filter(|&&i| admits(i))
        .map(|&i| Scored::new(i, score(i as usize) + bonus));
    let rest = pool
        .into_iter()
        .filter(|s| liked.binary_search(&s.item).is_err());
    top_n(rest.chain(boosted), options.pool())
}
