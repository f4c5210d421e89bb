//! Updating a model with new ratings without retraining: new users and movies get rows, and
//! the users with new ratings are refitted, each by the fold-in update of [`crate::foldin`] with the
//! other side fixed. Order: users against the old movies, then the new movies against those
//! users, then the users again so they see the new movies' vectors.
//!
//! New movies may come with their catalog entries ([`NewMovie`]: title and genres), so a new movie
//! of the genre model starts from, and is drawn toward, its genre prior p_n like a trained one;
//! without an entry a new movie has no genres (p_n = 0) and no title.
use std::sync::Arc;

use rayon::prelude::*;

use crate::als::row::Gathered;
use crate::data::sparse::{Csr, RowValues, Values};
use crate::error::{Error, Result};
use crate::ingest::numbers::MAX_ID;
use crate::model::Model;

/// New ratings by raw ids, in parallel arrays; a later rating of the same pair wins.
#[derive(Debug, Clone, Default)]
pub struct NewRatings {
    pub user_ids: Vec<i64>,
    pub movie_ids: Vec<i64>,
    pub ratings: Vec<f32>,
}

/// A movie's catalog entry for [`Model::partial_fit_with`]: genres by name (case-insensitive,
/// from the model's genre vocabulary; "(no genres listed)" and blanks are no genre).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewMovie {
    pub id: i64,
    pub title: String,
    pub genres: Vec<String>,
}

impl Model {
    /// [`Model::partial_fit_with`] without catalog entries.
    pub fn partial_fit(&self, new: &NewRatings) -> Result<Model> {
        self.partial_fit_with(new, &[])
    }

    /// The model with `new` folded in. `movies` are catalog entries: those of movies the model's
    /// catalog does not list are added to it (a movie it lists keeps its entry), and every movie
    /// they name joins the model, rated or not — an unrated one as training places a
    /// catalog-only movie, v = p_n with no bias. Genres must come from the model's vocabulary
    /// (the genre factors f_g exist for those only); an unknown one is `InvalidArgument`.
    pub fn partial_fit_with(&self, new: &NewRatings, movies: &[NewMovie]) -> Result<Model> {
        let len = new.ratings.len();
        if new.user_ids.len() != len || new.movie_ids.len() != len {
            return Err(Error::invalid_argument(format!(
                "userIds, movieIds and ratings must have the same length (got {}, {}, {len})",
                new.user_ids.len(),
                new.movie_ids.len()
            )));
        }
        if self.config.model.is_baseline() {
            return Err(Error::invalid_argument(format!(
                "the '{}' baseline has nothing to fold in; train it again on the new ratings",
                self.config.model.name()
            )));
        }
        if len == 0 {
            return Err(Error::invalid_argument(
                "partialFit needs at least one rating",
            ));
        }
        // The checks of ingest: ids whole, non-negative and exact as JavaScript numbers.
        for (what, ids) in [("userIds", &new.user_ids), ("movieIds", &new.movie_ids)] {
            if let Some((j, id)) = ids
                .iter()
                .enumerate()
                .find(|(_, &id)| id < 0 || id as u64 > MAX_ID)
            {
                return Err(Error::invalid_argument(format!(
                    "{what}[{j}] = {id} is not an id (a whole number from 0 to 2^53 − 1)"
                )));
            }
        }
        // The checks of recommendForNewUser: on the scale the model was trained on, which
        // partialFit must not widen (every later fold-in and displayed rating depends on it).
        let (lo, hi) = self.seen_rating_bounds();
        if let Some((j, r)) = new
            .ratings
            .iter()
            .enumerate()
            .find(|(_, r)| !r.is_finite() || (lo <= hi && !(lo..=hi).contains(*r)))
        {
            return Err(Error::invalid_argument(if r.is_finite() {
                format!("ratings[{j}] = {r} is outside the model's rating scale {lo}–{hi}")
            } else {
                format!("ratings[{j}] = {r} is not a finite number")
            }));
        }
        let catalog = self.catalog_with(movies)?;
        let k = self.k;
        let (old_m, old_n) = (self.num_users(), self.num_items());
        let mut users = (*self.users).clone();
        let mut items = (*self.items).clone();
        let mut entries: Vec<(u32, u32, f32, usize)> = (0..len)
            .map(|j| {
                let u = users.intern(new.user_ids[j]);
                let i = items.intern(new.movie_ids[j]);
                (u, i, new.ratings[j], j)
            })
            .collect();
        // Then the listed movies without ratings, in the order given (the ranker interns the
        // same ids in the same order, so the two share one id map).
        for m in movies {
            items.intern(m.id);
        }
        // Sort by (user, movie, arrival) and keep the last rating of each pair.
        entries.sort_unstable_by_key(|e| (e.0, e.1, e.3));
        let mut dedup: Vec<(u32, u32, f32)> = Vec::with_capacity(entries.len());
        for e in entries {
            match dedup.last_mut() {
                Some(last) if last.0 == e.0 && last.1 == e.1 => last.2 = e.2,
                _ => dedup.push((e.0, e.1, e.2)),
            }
        }
        let (m, n) = (users.len(), items.len());
        let mut model = self.clone();
        model.users = Arc::new(users);
        model.items = Arc::new(items);
        if let Some(catalog) = catalog {
            model.catalog = Arc::new(catalog);
        }
        model.user_factors.resize(m * k, 0.0);
        model.user_bias.resize(m, 0.0);
        model.item_factors.resize(n * k, 0.0);
        model.item_bias.resize(n, 0.0);
        let mut prior = vec![0f32; k];
        for i in old_n..n {
            model.genre_prior(i, &mut prior);
            model.item_factors[i * k..(i + 1) * k].copy_from_slice(&prior);
        }
        model.seen = Arc::new(merge_rows(&self.seen, m, n, &dedup));
        let mut touched: Vec<u32> = dedup.iter().map(|e| e.0).collect();
        touched.dedup();
        let new_items: Vec<u32> = (old_n as u32..n as u32).collect();
        let mut item_ratings: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n - old_n];
        for &(u, i, r) in &dedup {
            if i as usize >= old_n {
                item_ratings[i as usize - old_n].push((u, r));
            }
        }
        refit_users(&mut model, &touched)?;
        if !new_items.is_empty() {
            let user_base = model.implicit_base(&model.user_factors);
            let solved: Vec<(Vec<f32>, f32)> = new_items
                .par_iter()
                .zip(&item_ratings)
                .map(|(&i, ratings)| {
                    let mut rows = Gathered::new(k);
                    for &(u, r) in ratings {
                        rows.push(
                            model.user_vector(u as usize),
                            model.user_bias[u as usize],
                            r,
                        );
                    }
                    let mut p = vec![0f32; k];
                    model.genre_prior(i as usize, &mut p);
                    model.fold_in_row(&rows, Some(&p), user_base.as_deref())
                })
                .collect::<Result<_>>()?;
            for (&i, (v, b)) in new_items.iter().zip(solved) {
                model.item_factors[i as usize * k..(i as usize + 1) * k].copy_from_slice(&v);
                model.item_bias[i as usize] = b;
            }
            refit_users(&mut model, &touched)?;
        }
        if model.posterior.is_some() {
            refresh_variances(&mut model, &touched, old_n..n);
        }
        debug_assert!(model.num_users() == m && old_m <= m);
        if let Some(ranker) = &self.ranker {
            // The ranker interns the same ids in the same order; share the model's maps.
            let mut fitted = ranker.partial_fit_with(new, movies)?;
            debug_assert_eq!(fitted.items.raw_ids(), model.items.raw_ids());
            fitted.users = model.users.clone();
            fitted.items = model.items.clone();
            fitted.seen = model.seen.clone();
            fitted.catalog = model.catalog.clone();
            model.ranker = Some(Arc::new(fitted));
        }
        Ok(model)
    }
}

impl Model {
    /// The catalog with the entries of `movies` it lacks, or None when it lacks none. The checks
    /// come first, so a bad entry changes nothing.
    fn catalog_with(&self, movies: &[NewMovie]) -> Result<Option<crate::data::catalog::Catalog>> {
        let mut added = Vec::new();
        for (j, m) in movies.iter().enumerate() {
            if m.id < 0 || m.id as u64 > MAX_ID {
                return Err(Error::invalid_argument(format!(
                    "movies[{j}].movieId = {} is not an id (a whole number from 0 to 2^53 − 1)",
                    m.id
                )));
            }
            if m.title.trim().is_empty() {
                return Err(Error::invalid_argument(format!(
                    "movies[{j}] (movie {}) has an empty title",
                    m.id
                )));
            }
            let mut genres = Vec::with_capacity(m.genres.len());
            for g in &m.genres {
                let g = g.trim();
                if g.is_empty() || g == crate::data::catalog::NO_GENRES {
                    continue;
                }
                let index = self.genre_by_name(g).map_err(|e| {
                    Error::invalid_argument(format!("movies[{j}] (movie {}): {}", m.id, e.message))
                })?;
                genres.push(self.catalog.genre_names[index as usize].clone());
            }
            if self.catalog.get(m.id).is_none() {
                added.push((m.id, m.title.clone(), genres));
            }
        }
        if added.is_empty() {
            return Ok(None);
        }
        let mut catalog = (*self.catalog).clone();
        for (id, title, genres) in added {
            let names: Vec<&str> = genres.iter().map(String::as_str).collect();
            catalog.push(id, title, &names);
        }
        Ok(Some(catalog))
    }
}

/// A Bayesian model's posterior variances for the refitted users and the new movies: the
/// diagonal of each folded-in row's inverse system (the rows' draws are not resampled).
fn refresh_variances(model: &mut Model, users: &[u32], new_items: std::ops::Range<usize>) {
    let k = model.k;
    let (m, n) = (model.num_users(), model.num_items());
    let Some(mut posterior) = model.posterior.as_deref().cloned() else {
        return;
    };
    posterior.user_factor_variance.resize(m * k, 0.0);
    posterior.user_bias_variance.resize(m, 0.0);
    posterior.movie_factor_variance.resize(n * k, 0.0);
    posterior.movie_bias_variance.resize(n, 0.0);
    let user_rows: Vec<Option<(Vec<f32>, f32)>> = users
        .par_iter()
        .map(|&u| {
            let (cols, vals) = model.seen.row(u as usize);
            model.fold_in_variance(&model.movie_rows(cols, vals), None)
        })
        .collect();
    for (&u, v) in users.iter().zip(user_rows) {
        if let Some((x, b)) = v {
            posterior.user_factor_variance[u as usize * k..(u as usize + 1) * k]
                .copy_from_slice(&x);
            posterior.user_bias_variance[u as usize] = b;
        }
    }
    let by_item = match new_items.is_empty() {
        true => Csr::default(),
        false => model.seen.transpose(),
    };
    let zero = vec![0f32; k];
    for i in new_items {
        let (cols, vals) = by_item.row(i);
        let mut rows = Gathered::new(k);
        for (&u, r) in cols.iter().zip(vals) {
            rows.push(
                model.user_vector(u as usize),
                model.user_bias[u as usize],
                r,
            );
        }
        if let Some((x, b)) = model.fold_in_variance(&rows, Some(&zero)) {
            posterior.movie_factor_variance[i * k..(i + 1) * k].copy_from_slice(&x);
            posterior.movie_bias_variance[i] = b;
        }
    }
    model.posterior = Some(Arc::new(posterior));
}

fn refit_users(model: &mut Model, users: &[u32]) -> Result<()> {
    let k = model.k;
    let item_base = model.implicit_base(&model.item_factors);
    let solved: Vec<(Vec<f32>, f32)> = users
        .par_iter()
        .map(|&u| {
            let (cols, vals) = model.seen.row(u as usize);
            model.fold_in_user(&model.movie_rows(cols, vals), item_base.as_deref())
        })
        .collect::<Result<_>>()?;
    for (&u, (v, b)) in users.iter().zip(solved) {
        model.user_factors[u as usize * k..(u as usize + 1) * k].copy_from_slice(&v);
        model.user_bias[u as usize] = b;
    }
    Ok(())
}

/// The old rows with the new (user, movie, rating) entries merged in; `add` is sorted by
/// (user, movie) without repeats, and a new rating replaces an old one of the same pair.
fn merge_rows(old: &Csr, rows: usize, ncols: usize, add: &[(u32, u32, f32)]) -> Csr {
    let mut indptr = Vec::with_capacity(rows + 1);
    let mut indices = Vec::with_capacity(old.nnz() + add.len());
    let mut values = Vec::with_capacity(old.nnz() + add.len());
    indptr.push(0);
    let mut a = 0;
    for r in 0..rows {
        let (cols, vals) = if r < old.nrows() {
            old.row(r)
        } else {
            (&[][..], RowValues::Plain(&[]))
        };
        let start = a;
        while a < add.len() && add[a].0 as usize == r {
            a += 1;
        }
        let extra = &add[start..a];
        let (mut p, mut q) = (0, 0);
        while p < cols.len() || q < extra.len() {
            let take_new = q < extra.len() && (p == cols.len() || extra[q].1 <= cols[p]);
            if take_new {
                if p < cols.len() && extra[q].1 == cols[p] {
                    p += 1;
                }
                indices.push(extra[q].1);
                values.push(extra[q].2);
                q += 1;
            } else {
                indices.push(cols[p]);
                values.push(vals.get(p));
                p += 1;
            }
        }
        indptr.push(indices.len());
    }
    Csr {
        indptr,
        indices,
        values: Values::new(values),
        ncols,
    }
}
