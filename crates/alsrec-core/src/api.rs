//! The core's entry points as callers outside Rust ask them: users and movies by raw id, genres by
//! name, results back in raw ids. The queries themselves take dense indices.
use crate::error::{Error, Result};
use crate::foldin::new_user::NewUser;
use crate::model::Model;
use crate::query::options::RecommendOptions;
use crate::query::stats::QueryStats;
use crate::runtime::cancel::CancelToken;

/// Every user's top-N as flat rows in raw ids: row r holds user `user_ids[r]`'s `n` best,
/// `None` / NaN where the user has fewer candidates.
#[derive(Debug, Clone, Default)]
pub struct AllLists {
    /// The row length: the requested n, at most the number of movies.
    pub n: usize,
    pub user_ids: Vec<i64>,
    pub movie_ids: Vec<Option<i64>>,
    pub scores: Vec<f32>,
    pub ratings: Vec<f32>,
}

impl Model {
    /// Dense user indices of raw ids; the first unknown id is `NotFound`.
    pub fn user_indices(&self, user_ids: &[i64]) -> Result<Vec<usize>> {
        user_ids.iter().map(|&u| self.user_index(u)).collect()
    }

    /// Dense movie indices of raw ids; the first unknown id is `NotFound`.
    pub fn item_indices(&self, movie_ids: &[i64]) -> Result<Vec<u32>> {
        movie_ids
            .iter()
            .map(|&i| self.item_index(i).map(|i| i as u32))
            .collect()
    }

    /// Genre indices of names (case-insensitive); an unknown name lists the vocabulary.
    pub fn genre_indices(&self, names: &[String]) -> Result<Vec<u16>> {
        names.iter().map(|g| self.genre_by_name(g)).collect()
    }

    /// The raw id of a movie index, `None` for the padding of short lists (`u32::MAX`).
    pub fn raw_item(&self, item: u32) -> Option<i64> {
        (item != u32::MAX).then(|| self.items.raw(item))
    }

    /// Predictions for the pairs (user_ids[j], movie_ids[j]).
    pub fn predict_by_id(&self, user_ids: &[i64], movie_ids: &[i64]) -> Result<Vec<f32>> {
        let (users, items) = self.pair_indices(user_ids, movie_ids)?;
        Ok(self.predict_many(&users, &items))
    }

    /// The posterior standard deviation of the predictions for the pairs (user_ids[j],
    /// movie_ids[j]) (docs/model.md, "Bayesian ALS"); only a Bayesian model has one.
    pub fn prediction_spread_by_id(&self, user_ids: &[i64], movie_ids: &[i64]) -> Result<Vec<f32>> {
        let Some(posterior) = &self.posterior else {
            return Err(Error::invalid_argument(format!(
                "a '{}' model has no posterior: prediction spreads come from the 'bayesian' model",
                self.config.model.name()
            )));
        };
        let (users, items) = self.pair_indices(user_ids, movie_ids)?;
        Ok(users
            .iter()
            .zip(&items)
            .map(|(&u, &i)| {
                posterior.prediction_spread(u, i, self.user_vector(u), self.item_vector(i))
            })
            .collect())
    }

    /// Dense (user, movie) indices of equally long raw id lists.
    fn pair_indices(
        &self,
        user_ids: &[i64],
        movie_ids: &[i64],
    ) -> Result<(Vec<usize>, Vec<usize>)> {
        if user_ids.len() != movie_ids.len() {
            return Err(Error::invalid_argument(format!(
                "userIds and movieIds must have the same length (got {} and {})",
                user_ids.len(),
                movie_ids.len()
            )));
        }
        let users = self.user_indices(user_ids)?;
        let items = self.item_indices(movie_ids)?;
        Ok((users, items.into_iter().map(|i| i as usize).collect()))
    }

    /// A visitor from ratings of movies by raw id and liked genres by name.
    pub fn new_user_by_id(
        &self,
        movie_ids: &[i64],
        ratings: &[f32],
        genres: &[String],
    ) -> Result<NewUser> {
        if movie_ids.len() != ratings.len() {
            return Err(Error::invalid_argument(
                "movieIds and ratings must have the same length",
            ));
        }
        Ok(NewUser {
            items: self.item_indices(movie_ids)?,
            ratings: ratings.to_vec(),
            genres: self.genre_indices(genres)?,
        })
    }

    /// Top-N of every user, in user index order.
    pub fn recommend_all(
        &self,
        options: &RecommendOptions,
        index: &QueryStats,
        cancel: &CancelToken,
    ) -> Result<AllLists> {
        let users: Vec<u32> = (0..self.num_users() as u32).collect();
        self.lists_of(
            &users,
            self.users.raw_ids().to_vec(),
            options,
            index,
            cancel,
        )
    }

    /// Top-N of these users (raw ids, in the order given; a repeated id gets its list again).
    /// The first unknown id is `NotFound`, before any list is computed.
    pub fn recommend_users(
        &self,
        user_ids: &[i64],
        options: &RecommendOptions,
        index: &QueryStats,
        cancel: &CancelToken,
    ) -> Result<AllLists> {
        let users: Vec<u32> = self
            .user_indices(user_ids)?
            .into_iter()
            .map(|u| u as u32)
            .collect();
        self.lists_of(&users, user_ids.to_vec(), options, index, cancel)
    }

    fn lists_of(
        &self,
        users: &[u32],
        user_ids: Vec<i64>,
        options: &RecommendOptions,
        index: &QueryStats,
        cancel: &CancelToken,
    ) -> Result<AllLists> {
        let lists = self.recommend_many(users, options, index, cancel)?;
        Ok(AllLists {
            n: options.clamped(self.num_items()).n,
            user_ids,
            movie_ids: lists.items.iter().map(|&i| self.raw_item(i)).collect(),
            scores: lists.scores,
            ratings: lists.ratings,
        })
    }
}
