//! Ids, genre names and the movie filter of a query, resolved against the model.
use crate::error::{Error, Result};
use crate::model::Model;
use crate::query::options::Filter;
use crate::query::stats::QueryStats;

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
                Error::invalid_argument(format!(
                    "unknown genre '{name}'; the genres are {}",
                    names.join(", ")
                ))
            })
    }

    /// Which movies pass the filter, as a mask; `None` when every movie does.
    pub fn allowed_items(&self, filter: &Filter, index: &QueryStats) -> Option<Vec<bool>> {
        self.admission(&[], filter, index).mask()
    }

    /// The movies that pass the filter's genre, year and candidate conditions (its rating
    /// count aside), as a mask; `None` when it has none of them.
    pub fn content_mask(&self, filter: &Filter) -> Option<Vec<bool>> {
        if filter.genres.is_empty() && filter.years.is_none() && filter.candidates.is_none() {
            return None;
        }
        let mut mask = vec![filter.candidates.is_none(); self.num_items()];
        if let Some(c) = &filter.candidates {
            for &i in c {
                mask[i as usize] = true;
            }
        }
        if filter.genres.is_empty() && filter.years.is_none() {
            return Some(mask);
        }
        for (i, keep) in mask.iter_mut().enumerate() {
            if !*keep {
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

    /// Which movies a one-user list may hold: see [`Admission`].
    pub(crate) fn admission<'a>(
        &self,
        seen: &'a [u32],
        filter: &Filter,
        index: &'a QueryStats,
    ) -> Admission<'a> {
        Admission {
            seen,
            min_ratings: filter.min_ratings.unwrap_or(index.floor),
            counts: &index.item_counts,
            content: self.content_mask(filter),
        }
    }
}

/// The movies a one-user list may hold: not among `seen` (sorted), with at least `min_ratings`
/// training ratings, and through the filter's other conditions.
pub(crate) struct Admission<'a> {
    pub seen: &'a [u32],
    pub min_ratings: u32,
    counts: &'a [u32],
    content: Option<Vec<bool>>,
}

impl Admission<'_> {
    pub fn admits(&self, i: u32) -> bool {
        self.counts[i as usize] >= self.min_ratings && self.admits_unless_rare(i)
    }

    /// [`Self::admits`] but for the rating count, which the scan's prefix already applies.
    pub fn admits_unless_rare(&self, i: u32) -> bool {
        self.content.as_ref().is_none_or(|m| m[i as usize]) && self.seen.binary_search(&i).is_err()
    }

    /// The whole condition but `seen`, as a mask (`None`: every movie passes).
    pub fn mask(&self) -> Option<Vec<bool>> {
        if self.content.is_none() && self.min_ratings == 0 {
            return None;
        }
        let mut mask = self
            .content
            .clone()
            .unwrap_or_else(|| vec![true; self.counts.len()]);
        for (keep, &count) in mask.iter_mut().zip(self.counts) {
            *keep &= count >= self.min_ratings;
        }
        Some(mask)
    }
}
