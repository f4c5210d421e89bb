//! Many users at once: top lists by a blocked matrix product, and predictions of many pairs.
use crate::error::{Error, Result};
use crate::model::Model;
use crate::query::options::{RecommendOptions, MAX_BATCH_CELLS};
use crate::query::recommend::add_series_bonus;
use crate::query::stats::QueryStats;
use crate::query::topn::{Scored, TopN};
use crate::runtime::cancel::CancelToken;
use rayon::prelude::*;

/// Top-N lists of many users, row-major (users × n), padded with `u32::MAX` / NaN.
#[derive(Debug, Clone, PartialEq)]
pub struct ManyLists {
    pub items: Vec<u32>,
    pub scores: Vec<f32>,
    /// Displayed ratings (see [`Scored::rating`]).
    pub ratings: Vec<f32>,
}

impl Model {
    /// Top-N for many users at once: rows of `n` (item, score), padded with `u32::MAX` / NaN
    /// where a user has fewer candidates. Scores come from a blocked matrix product (users × k
    /// by k × movies, in tiles of movies that stay in cache), the only way 10¹² flops fit in
    /// seconds; each user keeps a running top list across the tiles.
    pub fn recommend_many(
        &self,
        users: &[u32],
        options: &RecommendOptions,
        index: &QueryStats,
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
}
