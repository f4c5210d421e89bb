//! Train/test splits. Every split is a pure function of the data and the seed, so it is the
//! same for any thread count and on any machine.
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

use serde::Deserialize;

use crate::data::dataset::{Dataset, Triplets};
use crate::data::report::SplitReport;
use crate::data::sparse::RowOrder;
use crate::error::{Error, Result};
use crate::schema::serde_names;
use rayon::prelude::*;

pub struct Split {
    pub train: Dataset,
    pub test: Dataset,
}

fn check_fraction(test_fraction: f64) -> Result<()> {
    if test_fraction.is_finite() && test_fraction > 0.0 && test_fraction < 1.0 {
        Ok(())
    } else {
        Err(Error::invalid_argument(format!(
            "testFraction must be between 0 and 1, exclusive (got {test_fraction})"
        )))
    }
}

/// Puts a uniformly random `test_fraction` of all ratings in the test set.
pub fn random_split(data: &Dataset, test_fraction: f64, seed: u64) -> Result<Split> {
    check_fraction(test_fraction)?;
    let n = data.num_ratings();
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut Xoshiro256PlusPlus::seed_from_u64(seed));
    let n_test = ((n as f64) * test_fraction).round() as usize;
    let (test_rows, train_rows) = order.split_at_mut(n_test);
    test_rows.sort_unstable();
    train_rows.sort_unstable();
    let t = data.triplets();
    Ok(Split {
        train: data.with_triplets(t.select(train_rows)),
        test: data.with_triplets(t.select(test_rows)),
    })
}

/// Which protocol `split` follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SplitKind {
    /// A uniformly random fraction of all ratings.
    #[default]
    Random,
    /// Per-user holdout: each user with at least `minRatings` ratings keeps a random fraction
    /// of them in the test set.
    User,
    /// Each user's latest fraction (by timestamp), or every rating at or after `cutoff`.
    Temporal,
}

impl SplitKind {
    /// Every kind's name, in declaration order.
    pub fn names() -> &'static [&'static str] {
        serde_names::<SplitKind>()
    }
}

/// What happens to test rows whose user or movie has no rating in the training part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColdStart {
    /// They stay in the test set (and are counted in the report).
    #[default]
    Keep,
    /// They are removed from the test set (and counted as dropped).
    Drop,
}

impl ColdStart {
    pub fn names() -> &'static [&'static str] {
        serde_names::<ColdStart>()
    }

    pub fn drops(self) -> bool {
        self == ColdStart::Drop
    }
}

/// A split's options, with the keys the API takes; unknown keys are refused.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct SplitOptions {
    pub kind: SplitKind,
    /// Fraction of ratings put in the test set, in (0, 1).
    pub test_fraction: f64,
    pub seed: u64,
    /// Per-user and temporal splits: users with fewer ratings stay wholly in training.
    pub min_ratings: usize,
    /// Temporal split: a global cutoff (Unix seconds) instead of a per-user fraction.
    pub cutoff: Option<i64>,
    /// Keep (default) or drop test rows whose user or movie has no rating in train.
    pub cold_start: ColdStart,
}

impl Default for SplitOptions {
    fn default() -> Self {
        SplitOptions {
            kind: SplitKind::Random,
            test_fraction: 0.2,
            seed: 42,
            min_ratings: 2,
            cutoff: None,
            cold_start: ColdStart::Keep,
        }
    }
}

impl SplitOptions {
    /// Keys as the API takes them, in declaration order.
    pub fn keys() -> &'static [&'static str] {
        serde_names::<SplitOptions>()
    }
}

/// A per-(seed, user) random stream: the choice for a user does not depend on who ran first.
fn user_rng(seed: u64, user: usize) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed ^ (user as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Splits by `options.kind`; see [`SplitKind`].
pub fn split(data: &Dataset, options: &SplitOptions) -> Result<(Split, SplitReport)> {
    // The protocols are defined on file order: one file-order copy serves them and the subsets.
    let t = &data.triplets();
    let in_test: Vec<bool> = match options.kind {
        SplitKind::Random => {
            check_fraction(options.test_fraction)?;
            let n = data.num_ratings();
            let mut order: Vec<usize> = (0..n).collect();
            order.shuffle(&mut Xoshiro256PlusPlus::seed_from_u64(options.seed));
            let n_test = ((n as f64) * options.test_fraction).round() as usize;
            let mut mask = vec![false; n];
            order[..n_test].iter().for_each(|&p| mask[p] = true);
            mask
        }
        SplitKind::User => {
            check_fraction(options.test_fraction)?;
            per_user_mask(data, t, options, |rows, u| {
                let n_test = held_out(rows.len(), options.test_fraction);
                // partial_shuffle moves its random picks to the end of the slice and returns
                // them: the slice's first n_test are the user's first ratings, not a sample.
                let (chosen, _) = rows.partial_shuffle(&mut user_rng(options.seed, u), n_test);
                chosen.to_vec()
            })
        }
        SplitKind::Temporal => temporal_mask(data, t, options)?,
    };
    Ok(apply_mask(data, t, &in_test, options.cold_start.drops()))
}

/// How many of a user's n ratings go to test: the rounded fraction, at least one, and never all.
fn held_out(n: usize, fraction: f64) -> usize {
    ((n as f64 * fraction).round() as usize).clamp(1, n - 1)
}

/// Runs `choose(positions of user u's ratings, u)` for every user with at least `minRatings`
/// (and at least two) ratings, in parallel; marks the returned positions as test.
fn per_user_mask(
    data: &Dataset,
    t: &Triplets,
    options: &SplitOptions,
    choose: impl Fn(&mut [u32], usize) -> Vec<u32> + Sync,
) -> Vec<bool> {
    let rows = RowOrder::new(data.users.len(), &t.users, &t.items);
    let min = options.min_ratings.max(2);
    let chosen: Vec<Vec<u32>> = (0..data.users.len())
        .into_par_iter()
        .map(|u| {
            let mut row = rows.order[rows.indptr[u]..rows.indptr[u + 1]].to_vec();
            if row.len() >= min {
                choose(&mut row, u)
            } else {
                Vec::new()
            }
        })
        .collect();
    let mut mask = vec![false; t.len()];
    chosen
        .iter()
        .flatten()
        .for_each(|&p| mask[p as usize] = true);
    mask
}

fn temporal_mask(data: &Dataset, t: &Triplets, options: &SplitOptions) -> Result<Vec<bool>> {
    let stamps = &t.timestamps;
    if stamps.is_empty() {
        return Err(Error::invalid_argument(format!(
            "a temporal split needs timestamps, and {} has none",
            data.report.ratings_file
        )));
    }
    if let Some(cutoff) = options.cutoff {
        let mask: Vec<bool> = stamps.iter().map(|&s| s >= cutoff).collect();
        if mask.iter().all(|&m| m) || !mask.iter().any(|&m| m) {
            return Err(Error::invalid_argument(format!(
                "cutoff {cutoff} puts every rating on one side (timestamps run from {} to {})",
                stamps.iter().min().unwrap_or(&0),
                stamps.iter().max().unwrap_or(&0)
            )));
        }
        return Ok(mask);
    }
    check_fraction(options.test_fraction)?;
    Ok(per_user_mask(data, t, options, |rows, _| {
        // Latest last; the file order breaks ties so the result is unique.
        rows.sort_unstable_by_key(|&p| (stamps[p as usize], p));
        let n_test = held_out(rows.len(), options.test_fraction);
        rows[rows.len() - n_test..].to_vec()
    }))
}

/// `k` folds: the ratings shuffled by the seed and dealt round-robin, so fold sizes differ by
/// at most one; fold i's test set is its own ratings and its training set all the others.
pub fn folds(
    data: &Dataset,
    k: usize,
    seed: u64,
    drop_cold_start: bool,
) -> Result<Vec<(Split, SplitReport)>> {
    let n = data.num_ratings();
    if k < 2 || k > n {
        return Err(Error::invalid_argument(format!(
            "k must be from 2 to the number of ratings ({n}) (got {k})"
        )));
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut Xoshiro256PlusPlus::seed_from_u64(seed));
    let mut fold = vec![0u32; n];
    for (rank, &p) in order.iter().enumerate() {
        fold[p] = (rank % k) as u32;
    }
    let t = &data.triplets();
    Ok((0..k as u32)
        .map(|f| {
            let mask: Vec<bool> = fold.iter().map(|&x| x == f).collect();
            apply_mask(data, t, &mask, drop_cold_start)
        })
        .collect())
}

/// `t` is `data`'s file-order columns.
fn apply_mask(
    data: &Dataset,
    t: &Triplets,
    in_test: &[bool],
    drop_cold_start: bool,
) -> (Split, SplitReport) {
    let mut user_n = vec![0u32; data.users.len()];
    let mut item_n = vec![0u32; data.items.len()];
    for k in (0..t.len()).filter(|&k| !in_test[k]) {
        user_n[t.users[k] as usize] += 1;
        item_n[t.items[k] as usize] += 1;
    }
    let mut report = SplitReport::default();
    let mut train_rows = Vec::new();
    let mut test_rows = Vec::new();
    for (k, &test) in in_test.iter().enumerate() {
        if !test {
            train_rows.push(k);
            continue;
        }
        let cold_user = user_n[t.users[k] as usize] == 0;
        let cold_item = item_n[t.items[k] as usize] == 0;
        report.cold_user_rows += cold_user as usize;
        report.cold_movie_rows += cold_item as usize;
        if cold_user || cold_item {
            report.cold_rows += 1;
            if drop_cold_start {
                report.dropped += 1;
                continue;
            }
        }
        test_rows.push(k);
    }
    report.train_rows = train_rows.len();
    report.test_rows = test_rows.len();
    let mut split = Split {
        train: data.with_triplets(t.select(&train_rows)),
        test: data.with_triplets(t.select(&test_rows)),
    };
    split.train.report.split = Some(report.clone());
    split.test.report.split = Some(report.clone());
    (split, report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::catalog::Catalog;
    use crate::data::ids::IdMap;
    use crate::data::report::LoadReport;
    use std::sync::Arc;

    /// 60 users with 3 to 62 ratings each, timestamps rising with the movie index.
    fn data() -> Dataset {
        let mut t = Triplets::default();
        for u in 0..60u32 {
            for i in 0..(3 + u) {
                t.push(
                    u,
                    (i * 7 + u) % 80,
                    1.0 + (i % 5) as f32,
                    Some((i * 1000 + u) as i64),
                );
            }
        }
        Dataset::new(
            Arc::new(IdMap::from_raw((0..60).collect())),
            Arc::new(IdMap::from_raw((0..80).collect())),
            Arc::new(Catalog::new()),
            t,
            LoadReport::default(),
        )
    }

    fn run(threads: usize, options: &SplitOptions) -> (Split, SplitReport) {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| split(&data(), options).unwrap())
    }

    fn test_rows(s: &Split) -> Vec<(u32, u32)> {
        let t = &s.test.triplets();
        t.users
            .iter()
            .copied()
            .zip(t.items.iter().copied())
            .collect()
    }

    #[test]
    fn split_options_have_one_schema() {
        let o: SplitOptions =
            serde_json::from_str(r#"{"kind":"temporal","coldStart":"drop","cutoff":5}"#).unwrap();
        assert_eq!(o.kind, SplitKind::Temporal);
        assert!(o.cold_start.drops());
        assert_eq!((o.test_fraction, o.seed, o.min_ratings), (0.2, 42, 2));
        let e = serde_json::from_str::<SplitOptions>(r#"{"sed":3}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `sed`"), "{e}");
        assert_eq!(
            SplitOptions::keys(),
            [
                "kind",
                "testFraction",
                "seed",
                "minRatings",
                "cutoff",
                "coldStart"
            ]
        );
        assert_eq!(SplitKind::names(), ["random", "user", "temporal"]);
        assert_eq!(ColdStart::names(), ["keep", "drop"]);
    }

    #[test]
    fn every_kind_is_the_same_for_any_thread_count_and_partitions_the_data() {
        for kind in [SplitKind::Random, SplitKind::User, SplitKind::Temporal] {
            let o = SplitOptions {
                kind,
                test_fraction: 0.25,
                seed: 9,
                ..Default::default()
            };
            let (a, ra) = run(1, &o);
            let (b, _) = run(3, &o);
            assert_eq!(test_rows(&a), test_rows(&b), "{kind:?}");
            assert_eq!(
                a.train.num_ratings() + a.test.num_ratings(),
                data().num_ratings()
            );
            assert_eq!(ra.test_rows, a.test.num_ratings());
        }
    }

    #[test]
    fn per_user_and_temporal_holdouts_take_each_users_share() {
        let d = data();
        let o = SplitOptions {
            kind: SplitKind::User,
            test_fraction: 0.2,
            min_ratings: 10,
            ..Default::default()
        };
        let (s, r) = split(&d, &o).unwrap();
        assert_eq!(r.cold_user_rows, 0);
        for u in 0..60 {
            let n = d.by_user.row_len(u);
            let want = if n >= 10 {
                ((n as f64 * 0.2).round() as usize).max(1)
            } else {
                0
            };
            assert_eq!(s.test.by_user.row_len(u), want, "user {u}");
        }
        // The held-out ratings are a sample of each user's ratings, not the first ones in
        // movie order: their mean relative position among the user's movies is about ½.
        let (mut position, mut count) = (0.0f64, 0usize);
        for u in 0..d.by_user.nrows() {
            let all = d.by_user.row(u).0;
            for m in s.test.by_user.row(u).0 {
                let at = all.iter().position(|x| x == m).unwrap();
                position += (at as f64 + 0.5) / all.len() as f64;
                count += 1;
            }
        }
        let mean = position / count as f64;
        assert!((0.4..0.6).contains(&mean), "mean relative position {mean}");
        let o = SplitOptions {
            kind: SplitKind::Temporal,
            test_fraction: 0.3,
            ..Default::default()
        };
        let (s, _) = split(&d, &o).unwrap();
        let (train, test) = (s.train.triplets(), s.test.triplets());
        for u in 0..60usize {
            let latest_train = (0..train.len())
                .filter(|&k| train.users[k] as usize == u)
                .map(|k| train.timestamps[k])
                .max()
                .unwrap();
            let earliest_test = (0..test.len())
                .filter(|&k| test.users[k] as usize == u)
                .map(|k| test.timestamps[k])
                .min()
                .unwrap();
            assert!(latest_train < earliest_test, "user {u}");
        }
        let o = SplitOptions {
            kind: SplitKind::Temporal,
            cutoff: Some(20_000),
            ..Default::default()
        };
        let (s, _) = split(&d, &o).unwrap();
        assert!(s.test.triplets().timestamps.iter().all(|&t| t >= 20_000));
        assert!(s.train.triplets().timestamps.iter().all(|&t| t < 20_000));
    }

    #[test]
    fn folds_partition_the_ratings_and_cold_rows_are_counted_or_dropped() {
        let d = data();
        let folds = folds(&d, 5, 3, false).unwrap();
        let total: usize = folds.iter().map(|f| f.0.test.num_ratings()).sum();
        assert_eq!(total, d.num_ratings());
        for (f, _) in &folds {
            assert_eq!(
                f.train.num_ratings() + f.test.num_ratings(),
                d.num_ratings()
            );
        }
        assert!(super::folds(&d, 1, 3, false).is_err());
        // A test fraction of 0.9 leaves some movies with no training rating.
        let o = SplitOptions {
            test_fraction: 0.9,
            ..Default::default()
        };
        let (keep, r) = split(&d, &o).unwrap();
        assert!(r.cold_movie_rows > 0 && r.dropped == 0);
        let (dropped, r2) = split(
            &d,
            &SplitOptions {
                cold_start: ColdStart::Drop,
                ..o
            },
        )
        .unwrap();
        assert_eq!(r2.dropped, r.cold_rows);
        assert_eq!(
            dropped.test.num_ratings(),
            keep.test.num_ratings() - r.cold_rows
        );
    }
}
