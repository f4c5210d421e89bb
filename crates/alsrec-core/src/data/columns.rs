//! A dataset's ratings and catalog as flat columns in raw ids: what callers outside Rust read in
//! a few copies instead of one call per movie or rating.
use crate::data::catalog::Catalog;
use crate::data::dataset::Dataset;
use crate::error::{Error, Result};

/// The movie catalog as parallel columns, one entry per movie in catalog order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogColumns {
    pub ids: Vec<i64>,
    pub titles: Vec<String>,
    pub years: Vec<Option<i32>>,
    /// Movie i's genres are `genre_indices[genre_offsets[i]..genre_offsets[i + 1]]`.
    pub genre_offsets: Vec<u32>,
    pub genre_indices: Vec<u16>,
    pub genre_names: Vec<String>,
    /// From links.csv.
    pub imdb_ids: Vec<Option<i64>>,
    pub tmdb_ids: Vec<Option<i64>>,
    /// How many tags (tags.csv) each movie was given; a sum past u32 saturates.
    pub tag_counts: Vec<u32>,
}

impl Catalog {
    pub fn columns(&self) -> CatalogColumns {
        let mut genre_offsets = Vec::with_capacity(self.len() + 1);
        let mut genre_indices = Vec::new();
        genre_offsets.push(0u32);
        for m in &self.movies {
            genre_indices.extend_from_slice(&m.genres);
            genre_offsets.push(genre_indices.len() as u32);
        }
        let link = |pick: fn(&crate::data::catalog::Links) -> Option<i64>| {
            self.movies
                .iter()
                .map(|m| self.links.get(&m.id).and_then(pick))
                .collect()
        };
        CatalogColumns {
            ids: self.movies.iter().map(|m| m.id).collect(),
            titles: self.movies.iter().map(|m| m.title.clone()).collect(),
            years: self.movies.iter().map(|m| m.year).collect(),
            genre_offsets,
            genre_indices,
            genre_names: self.genre_names.clone(),
            imdb_ids: link(|l| l.imdb_id),
            tmdb_ids: link(|l| l.tmdb_id),
            tag_counts: self
                .movies
                .iter()
                .map(|m| {
                    self.tags
                        .get(&m.id)
                        .map_or(0, |t| t.iter().fold(0u32, |a, x| a.saturating_add(x.1)))
                })
                .collect(),
        }
    }

    /// A movie's distinct tags and how often each was given, most frequent first.
    pub fn tags_of(&self, movie_id: i64) -> &[(String, u32)] {
        self.tags.get(&movie_id).map_or(&[], |t| t.as_slice())
    }
}

/// Ratings as three parallel columns in raw ids.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RatingTriplets {
    pub user_ids: Vec<i64>,
    pub movie_ids: Vec<i64>,
    pub ratings: Vec<f32>,
}

impl Dataset {
    /// Every rating of this set once, in the set's row order.
    pub fn rating_triplets(&self) -> RatingTriplets {
        let t = &self.triplets();
        RatingTriplets {
            user_ids: t.users.iter().map(|&u| self.users.raw(u)).collect(),
            movie_ids: t.items.iter().map(|&i| self.items.raw(i)).collect(),
            ratings: t.ratings.clone(),
        }
    }

    /// The movies a user rated in this set (raw ids) with the ratings.
    pub fn user_ratings(&self, user_id: i64) -> Result<(Vec<i64>, Vec<f32>)> {
        let u = self
            .users
            .index(user_id)
            .ok_or_else(|| Error::not_found(format!("unknown user id {user_id}")))?;
        let (cols, vals) = self.by_user.row(u as usize);
        Ok((
            cols.iter().map(|&c| self.items.raw(c)).collect(),
            vals.to_vec(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::data::dataset::Triplets;
    use crate::data::ids::IdMap;
    use crate::data::report::LoadReport;

    #[test]
    fn triplets_and_rows_come_back_in_raw_ids() {
        let mut c = Catalog::new();
        c.push(10, "A (1999)".into(), &["Drama", "Comedy"]);
        c.push(20, "B".into(), &["Drama"]);
        let d = Dataset::new(
            Arc::new(IdMap::from_raw(vec![7, 9])),
            Arc::new(IdMap::from_raw(vec![20, 10])),
            Arc::new(c),
            Triplets {
                users: vec![1, 0, 1],
                items: vec![0, 1, 1],
                ratings: vec![4.0, 3.5, 2.0],
                timestamps: vec![],
            },
            LoadReport::default(),
        );
        let t = d.rating_triplets();
        assert_eq!(t.user_ids, [9, 7, 9]);
        assert_eq!(t.movie_ids, [20, 10, 10]);
        assert_eq!(t.ratings, [4.0, 3.5, 2.0]);
        let (movies, ratings) = d.user_ratings(9).unwrap();
        let mut pairs: Vec<_> = movies.into_iter().zip(ratings).collect();
        pairs.sort_by_key(|p| p.0);
        assert_eq!(pairs, [(10, 2.0), (20, 4.0)]);
        assert!(d
            .user_ratings(8)
            .unwrap_err()
            .message
            .contains("unknown user id 8"));
        let cols = d.catalog.columns();
        assert_eq!(cols.ids, [10, 20]);
        assert_eq!(cols.years, [Some(1999), None]);
        assert_eq!(cols.genre_offsets, [0, 2, 3]);
        assert_eq!(cols.genre_indices.len(), 3);
        assert_eq!(cols.imdb_ids, [None, None]);
    }
}
