//! Recommendations for a visitor the model has never seen, from a few ratings and/or liked
//! genres: fold the visitor in with the movies fixed, then rank as for a known user.
use crate::als::row::{Gathered, Neighbours};
use crate::data::sparse::RowValues;
use crate::error::{Error, Result};
use crate::model::config::ModelKind;
use crate::model::Model;
use crate::query::options::RecommendOptions;
use crate::query::stats::QueryStats;
use crate::query::topn::Scored;

/// How many of a liked genre's most-rated movies stand for it.
const GENRE_EXAMPLES: usize = 50;

/// What a new user tells us: ratings of known movies (dense indices) and liked genres.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub items: Vec<u32>,
    pub ratings: Vec<f32>,
    pub genres: Vec<u16>,
}

impl NewUser {
    /// The ratings in movie order, as a trained user's row holds them: the fold-in then adds in
    /// training's order, so a visitor equals the same ratings added by `partialFit`.
    fn by_movie(&self) -> (Vec<u32>, Vec<f32>) {
        let mut pairs: Vec<(u32, f32)> = self
            .items
            .iter()
            .copied()
            .zip(self.ratings.iter().copied())
            .collect();
        pairs.sort_by_key(|&(item, _)| item);
        pairs.into_iter().unzip()
    }
}

impl Model {
    /// The fixed rows standing for liked genres: their most-rated movies rated at the top of
    /// the scale, contrasted with as many most-rated movies of other genres rated neutrally
    /// (at μ + c, no personal deviation). The contrast makes the user vector point from "other"
    /// to "liked" instead of the bias absorbing the enthusiasm. The genre model also gets each
    /// genre's learned vector (the prior of a movie of that genre alone) rated at the top.
    fn genre_rows(&self, genres: &[u16], top: f32, index: &QueryStats, rows: &mut Gathered) {
        if genres.is_empty() {
            return;
        }
        let k = self.k;
        if self.config.model == ModelKind::Genre && !self.genre_factors.is_empty() {
            for &g in genres {
                rows.push(
                    &self.genre_factors[g as usize * k..(g as usize + 1) * k],
                    0.0,
                    top,
                );
            }
        }
        let mut movies: Vec<usize> = (0..self.num_items())
            .filter(|&i| index.item_counts[i] > 0)
            .collect();
        movies.sort_by_key(|&i| (std::cmp::Reverse(index.item_counts[i]), i));
        let liked = |i: usize| self.item_genres(i).iter().any(|g| genres.contains(g));
        let wanted = GENRE_EXAMPLES * genres.len();
        for &i in movies.iter().filter(|&&i| liked(i)).take(wanted) {
            rows.push(self.item_vector(i), self.item_bias[i], top);
        }
        for &i in movies.iter().filter(|&&i| !liked(i)).take(wanted) {
            rows.push(
                self.item_vector(i),
                self.item_bias[i],
                self.mu + self.item_bias[i],
            );
        }
    }

    /// Folds the new user into the ranker (implicit: the rated movies and the liked genres'
    /// most-rated movies are what the user watched); an empty vector without a ranker.
    pub fn fold_in_new_user_ranker(&self, user: &NewUser, index: &QueryStats) -> Result<Vec<f32>> {
        let Some(ranker) = &self.ranker else {
            return Ok(Vec::new());
        };
        let (items, ratings) = user.by_movie();
        let mut rows = ranker.movie_rows(&items, RowValues::Plain(&ratings));
        if !user.genres.is_empty() {
            let top = index.rating_range.1;
            let liked = |i: usize| self.item_genres(i).iter().any(|g| user.genres.contains(g));
            let mut movies: Vec<usize> = (0..self.num_items())
                .filter(|&i| index.item_counts[i] > 0 && liked(i))
                .collect();
            movies.sort_by_key(|&i| (std::cmp::Reverse(index.item_counts[i]), i));
            for &i in movies.iter().take(GENRE_EXAMPLES * user.genres.len()) {
                rows.push(ranker.item_vector(i), 0.0, top);
            }
        }
        Ok(ranker
            .fold_in_row(&rows, None, index.ranker_base.as_deref())?
            .0)
    }

    /// Folds the new user in and returns (vector, bias).
    pub fn fold_in_new_user(&self, user: &NewUser, index: &QueryStats) -> Result<(Vec<f32>, f32)> {
        let (u, b, _, _) = self.new_user_row(user, index)?;
        Ok((u, b))
    }

    /// The new user's folded-in (vector, bias), the rows they were solved from (the rated
    /// movies in movie order, then the liked genres' rows) and the rated movies in that order.
    pub(crate) fn new_user_row(
        &self,
        user: &NewUser,
        index: &QueryStats,
    ) -> Result<(Vec<f32>, f32, Gathered, Vec<u32>)> {
        if user.items.is_empty() && user.genres.is_empty() {
            return Err(Error::invalid_argument(
                "a new user needs at least one rating or one liked genre",
            ));
        }
        let (lo, hi) = index.rating_range;
        for (&i, &r) in user.items.iter().zip(&user.ratings) {
            if !(r.is_finite() && lo <= r && r <= hi) {
                return Err(Error::invalid_argument(format!(
                    "the rating {r} of movie {} is outside the scale {lo}–{hi}",
                    self.items.raw(i)
                )));
            }
        }
        let (items, ratings) = user.by_movie();
        let mut rows = self.movie_rows(&items, RowValues::Plain(&ratings));
        self.genre_rows(&user.genres, hi, index, &mut rows);
        if rows.is_empty() {
            return Err(Error::invalid_argument(
                "none of the liked genres has a rated movie",
            ));
        }
        let (u, b) = self.fold_in_user(&rows, index.item_base.as_deref())?;
        Ok((u, b, rows, items))
    }

    pub fn recommend_for_new_user(
        &self,
        user: &NewUser,
        options: &RecommendOptions,
        index: &QueryStats,
    ) -> Result<Vec<Scored>> {
        options.validate()?;
        let options = &*options.clamped(self.num_items());
        let (u, b) = self.fold_in_new_user(user, index)?;
        let x = self.fold_in_new_user_ranker(user, index)?;
        let mut seen = if options.exclude_seen {
            user.items.clone()
        } else {
            Vec::new()
        };
        seen.sort_unstable();
        seen.dedup();
        // With genres alone, the fold-in knows little beyond popularity; keep the list within
        // the liked genres (unless the caller filtered by genre) so the start is on topic.
        let mut filter = options.filter.clone();
        if user.items.is_empty() && filter.genres.is_empty() {
            filter.genres = user.genres.clone();
        }
        let admission = self.admission(&seen, &filter, index);
        let (q, base) = index.rank.query(self, &u, b, user.items.len(), &x);
        let liked = index
            .series
            .liked_members(&user.items, RowValues::Plain(&user.ratings));
        Ok(self.list_for(&q, base, &admission, &liked, (&u, b), options, index))
    }
}
