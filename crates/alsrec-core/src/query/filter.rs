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
}
