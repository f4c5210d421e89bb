//! Many users at once: top lists by a blocked matrix product, and predictions of many pairs.
use crate::error::{Error, Result};
use crate::kernels::isa::Isa;
use crate::model::Model;
use crate::query::options::{RecommendOptions, MAX_BATCH_CELLS};
use crate::query::recommend::add_series_bonus;
use crate::query::scan::Prepared;
use crate::query::stats::{BatchScan, QueryStats};
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
        let items = self.num_items();
        let space = &index.rank;
        let k = space.k;
        let min_ratings = options.filter.min_ratings.unwrap_or(index.floor);
        let content = self.content_mask(&options.filter);
        // Movies in the scan index's order (most rated first) where there is one: those with
        // at least `min_ratings` ratings are then a prefix, and only their rows enter the
        // product — the default floor leaves out most of a long-tailed catalog.
        let identity: Vec<u32>;
        let (order, end): (&[u32], usize) = match &index.scan {
            Some(scan) => (scan.order(), scan.prefix(min_ratings)),
            None => {
                identity = (0..items as u32).collect();
                (&identity, items)
            }
        };
        let all_rows = space.item_rows(self);
        let gathered: Vec<f32>;
        let rows: &[f32] = if index.scan.is_none() {
            all_rows
        } else {
            let mut g = Vec::with_capacity(end * k);
            for &i in &order[..end] {
                g.extend_from_slice(&all_rows[i as usize * k..(i as usize + 1) * k]);
            }
            gathered = g;
            &gathered
        };
        let offsets: Vec<f32> = order[..end]
            .iter()
            .map(|&i| space.offset[i as usize])
            .collect();
        let admits = |movie: u32, seen: &[u32]| {
            index.item_counts[movie as usize] >= min_ratings
                && content.as_ref().is_none_or(|m| m[movie as usize])
                && seen.binary_search(&movie).is_err()
        };
        // A tile of scores (BLOCK × TILE f32 = 512 KB) stays in L2 between the product that
        // writes it and the top-N scan that reads it.
        const BLOCK: usize = 256;
        const TILE: usize = 512;
        // Where the CPU multiplies bytes, the lists come from the scan index's bounded first
        // pass (exact, see query/scan.rs) over tiles of SCAN_TILE positions: 4,096 × k = 64
        // bytes of codes plus the per-position bounds, about 320 KB, stay in L2 for a block.
        const SCAN_TILE: usize = 4096;
        let isa = Isa::detected();
        let by_scan = index
            .scan
            .as_ref()
            .filter(|_| k > 0)
            .and_then(|s| match index.batch_scan {
                BatchScan::Auto => s.batch_pays(isa).then_some((s, SCAN_TILE)),
                BatchScan::Always { tile } => Some((s, tile.div_ceil(8).max(1) * 8)),
                BatchScan::Never => None,
            });
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
                    let count = block.len();
                    let mut ublock = vec![0f32; count * k];
                    let mut bases = vec![0f32; count];
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
                    let prepared: Option<Vec<Prepared>> = by_scan.and_then(|(scan, _)| {
                        (0..count)
                            .map(|r| {
                                scan.prepare(&ublock[r * k..(r + 1) * k], bases[r], options.pool())
                            })
                            .collect()
                    });
                    let tops: Vec<TopN> = match (by_scan, prepared) {
                        (Some((scan, tile)), Some(mut prepared)) => {
                            // Every user of the block against one tile of codes while it is in
                            // L2, then the next tile: the threshold of each user carries over.
                            for start in (0..end).step_by(tile) {
                                let stop = (start + tile).min(end);
                                for (r, &u) in block.iter().enumerate() {
                                    let seen = self.seen_of(u as usize, options);
                                    scan.scan(isa, &mut prepared[r], start, stop, |movie| {
                                        admits(movie, seen)
                                    });
                                }
                            }
                            let mut candidates: Vec<f32> = Vec::new();
                            let mut dots: Vec<f32> = Vec::new();
                            prepared
                                .into_iter()
                                .enumerate()
                                .map(|(r, p)| {
                                    let positions = scan.finish(p);
                                    let c = positions.len();
                                    candidates.clear();
                                    for &pos in &positions {
                                        let pos = pos as usize;
                                        candidates.extend_from_slice(&rows[pos * k..(pos + 1) * k]);
                                    }
                                    dots.clear();
                                    dots.resize(c, 0.0);
                                    if c > 0 {
                                        // The same product as the blocked path below, one row
                                        // by the candidates: each score is a function of its
                                        // own row and the user's alone, so the bits agree.
                                        // SAFETY: the user's row is 1 × k, the candidates
                                        // c × k (row-major, read transposed), dots 1 × c.
                                        unsafe {
                                            matrixmultiply::sgemm(
                                                1,
                                                k,
                                                c,
                                                1.0,
                                                ublock.as_ptr().add(r * k),
                                                k as isize,
                                                1,
                                                candidates.as_ptr(),
                                                1,
                                                k as isize,
                                                0.0,
                                                dots.as_mut_ptr(),
                                                c as isize,
                                                1,
                                            );
                                        }
                                    }
                                    let mut top = TopN::new(options.pool());
                                    for (&pos, &dot) in positions.iter().zip(&dots) {
                                        let pos = pos as usize;
                                        let x = dot + (bases[r] + offsets[pos]);
                                        top.push(Scored::new(order[pos], x));
                                    }
                                    top
                                })
                                .collect()
                        }
                        _ => {
                            let mut tops: Vec<TopN> =
                                (0..count).map(|_| TopN::new(options.pool())).collect();
                            for start in (0..end).step_by(TILE) {
                                let width = TILE.min(end - start);
                                if k > 0 {
                                    // SAFETY: ublock is count × k; the tile of rows is width × k
                                    // (row-major, read transposed); scores holds BLOCK × TILE.
                                    unsafe {
                                        matrixmultiply::sgemm(
                                            count,
                                            k,
                                            width,
                                            1.0,
                                            ublock.as_ptr(),
                                            k as isize,
                                            1,
                                            rows.as_ptr().add(start * k),
                                            1,
                                            k as isize,
                                            0.0,
                                            scores.as_mut_ptr(),
                                            width as isize,
                                            1,
                                        );
                                    }
                                } else {
                                    scores[..count * width].fill(0.0);
                                }
                                let tile_offsets = &offsets[start..start + width];
                                for (r, &u) in block.iter().enumerate() {
                                    let seen = self.seen_of(u as usize, options);
                                    let row = &mut scores[r * width..(r + 1) * width];
                                    let base = bases[r];
                                    // (base + offset) + dot, as the one-user scorer adds them (the
                                    // sum commutes exactly).
                                    for (x, &offset) in row.iter_mut().zip(tile_offsets) {
                                        *x += base + offset;
                                    }
                                    let top = &mut tops[r];
                                    // Eight scores at a time against the list's threshold, branch-free:
                                    // after the first tiles nearly every group is out at once.
                                    for (g, group) in row.chunks(8).enumerate() {
                                        let t = top.threshold();
                                        if !group.iter().fold(false, |any, &x| any | kept(x, t)) {
                                            continue;
                                        }
                                        for (j, &x) in group.iter().enumerate() {
                                            let movie = order[start + g * 8 + j];
                                            if kept(x, top.threshold()) && admits(movie, seen) {
                                                top.push(Scored::new(movie, x));
                                            }
                                        }
                                    }
                                }
                            }
                            tops
                        }
                    };
                    for (r, top) in tops.into_iter().enumerate() {
                        let u = block[r] as usize;
                        let mut pool = top.into_sorted();
                        if space.series_bonus > 0.0 {
                            let (rated, ratings) = self.seen.row(u);
                            let liked = index.series.liked_members(rated, ratings);
                            let q = &ublock[r * k..(r + 1) * k];
                            let seen = self.seen_of(u, options);
                            pool = add_series_bonus(
                                pool,
                                &liked,
                                |i| admits(i, seen),
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

/// Whether [`TopN::push`] would look at a score against this threshold: anything not below it,
/// NaN included (NaN sorts above every number in the list's order).
#[inline(always)]
#[allow(clippy::neg_cmp_op_on_partial_ord)]
fn kept(score: f32, threshold: f32) -> bool {
    !(score < threshold)
}
