//! What a query may ask for: the movie filter, list length, diversity, and the bounds on them.
//! [`QueryOptions`] is the form callers give (raw movie ids, genre names); it resolves against a
//! model into the [`RecommendOptions`] the queries take (dense indices).
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::model::Model;

/// Which movies may be recommended. Empty / `None` fields do not restrict.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Keep movies with at least one of these genres (indices into the genre vocabulary).
    pub genres: Vec<u16>,
    /// Keep movies with at least this many training ratings; `None`: the model's floor
    /// ([`QueryStats::floor`]), `Some(0)` keeps every movie.
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
    pub(crate) fn pool(&self) -> usize {
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

/// The options of a recommendation query as a caller gives them: movies by raw id, genres by
/// name. Unknown keys are refused. Absent keys take the defaults of [`RecommendOptions`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct QueryOptions {
    /// How many movies (default 10).
    pub n: usize,
    /// Leave out the movies the user rated in training (default true).
    pub exclude_seen: bool,
    /// Only movies with at least one of these genres (names, case-insensitive).
    pub genres: Vec<String>,
    /// Only movies with at least this many training ratings; absent: the model's floor.
    pub min_ratings: Option<u32>,
    /// Only movies from these years, inclusive.
    pub years: Option<(i32, i32)>,
    /// Only these movies (raw ids).
    pub candidates: Option<Vec<i64>>,
    /// MMR weight in [0, 1] for genre diversity.
    pub diversity: f32,
}

impl Default for QueryOptions {
    fn default() -> Self {
        let d = RecommendOptions::default();
        QueryOptions {
            n: d.n,
            exclude_seen: d.exclude_seen,
            genres: Vec::new(),
            min_ratings: None,
            years: None,
            candidates: None,
            diversity: d.diversity,
        }
    }
}

impl QueryOptions {
    /// Keys as the API takes them, in declaration order.
    pub fn keys() -> &'static [&'static str] {
        crate::schema::serde_names::<QueryOptions>()
    }

    /// The options in the model's indices: an unknown genre is `InvalidArgument` (the genre
    /// vocabulary is fixed, so the name is the caller's mistake), an unknown movie id `NotFound`; the
    /// bounds are checked ([`RecommendOptions::validate`]).
    pub fn resolve(&self, model: &Model) -> Result<RecommendOptions> {
        let genres = self
            .genres
            .iter()
            .map(|g| model.genre_by_name(g))
            .collect::<Result<_>>()?;
        let candidates = match &self.candidates {
            None => None,
            Some(ids) => Some(model.item_indices(ids)?),
        };
        let options = RecommendOptions {
            n: self.n,
            exclude_seen: self.exclude_seen,
            filter: Filter {
                genres,
                min_ratings: self.min_ratings,
                years: self.years,
                candidates,
            },
            diversity: self.diversity,
        };
        options.validate()?;
        Ok(options)
    }
}

pub fn check_n(n: usize) -> Result<()> {
    if n == 0 {
        Err(Error::invalid_argument("n must be at least 1 (got 0)"))
    } else {
        Ok(())
    }
}

/// The most list entries (users × n) one batch call returns: 12 bytes each, 3 GB in all.
pub const MAX_BATCH_CELLS: usize = 1 << 28;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_options_have_one_schema_and_the_defaults_of_recommend_options() {
        let o: QueryOptions =
            serde_json::from_str(r#"{"genres":["Drama"],"years":[1990,1999],"candidates":[7]}"#)
                .unwrap();
        assert_eq!(o.genres, ["Drama"]);
        assert_eq!(o.years, Some((1990, 1999)));
        assert_eq!(o.candidates, Some(vec![7]));
        let d = RecommendOptions::default();
        assert_eq!(
            (o.n, o.exclude_seen, o.diversity),
            (d.n, d.exclude_seen, d.diversity)
        );
        let e = serde_json::from_str::<QueryOptions>(r#"{"nn":3}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `nn`"), "{e}");
        assert_eq!(
            QueryOptions::keys(),
            [
                "n",
                "excludeSeen",
                "genres",
                "minRatings",
                "years",
                "candidates",
                "diversity"
            ]
        );
    }
}
