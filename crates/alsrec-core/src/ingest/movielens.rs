//! Loading entry points: a MovieLens directory or file, any mapped delimited file, and a
//! predefined train/test pair that shares id maps.
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use super::catalog_files::read_catalog_in;
pub use super::delimited::OnBadRow;
use super::delimited::{read_ratings, Interner, ParseOptions, ParseStats};
use super::format::{ColumnMapping, RatingsFormat};
use crate::data::catalog::Catalog;
use crate::data::dataset::{Dataset, Triplets};
use crate::data::report::{LoadReport, SplitReport};
use crate::data::sparse::RowOrder;
use crate::error::{Error, Result};
use crate::schema::serde_names;
use serde::Deserialize;

/// How a loader reads and filters ratings. Deserialized with the keys the API takes; unknown keys
/// are refused.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct LoadOptions {
    /// A bad row stops the load (`error`, the default) or is skipped and counted (`skip`).
    #[serde(with = "OnBadRowName")]
    pub on_bad_row: OnBadRow,
    /// Ratings outside [min, max] are bad rows. MovieLens formats default to [0.5, 5].
    pub rating_scale: Option<(f32, f32)>,
    /// Drop users / movies with fewer ratings, repeatedly until none is left below.
    pub min_user_ratings: usize,
    pub min_movie_ratings: usize,
    /// Drop ratings of movies the catalog does not list (counted in the report).
    pub catalog_only: bool,
    /// For `load_split`: drop test rows whose user or movie has no training rating.
    pub drop_cold_start: bool,
    /// Worker threads of the parse; all cores when absent.
    pub threads: Option<usize>,
}

/// The names of [`OnBadRow`] (defined beside the parser) as options spell them.
#[derive(Deserialize)]
#[serde(remote = "OnBadRow", rename_all = "lowercase")]
#[allow(dead_code)] // only its Deserialize impl is used: it builds `OnBadRow` values
enum OnBadRowName {
    Error,
    Skip,
}

impl OnBadRow {
    /// Every policy's name, in declaration order.
    pub fn names() -> &'static [&'static str] {
        #[derive(Deserialize)]
        #[serde(transparent)]
        #[allow(dead_code)] // read for its Deserialize impl only
        struct Named(#[serde(with = "OnBadRowName")] OnBadRow);
        // A transparent wrapper deserializes as its field: the remote enum's variants.
        serde_names::<Named>()
    }
}

impl LoadOptions {
    /// Keys as the API takes them, in declaration order.
    pub fn keys() -> &'static [&'static str] {
        serde_names::<LoadOptions>()
    }

    pub fn validate(&self) -> Result<()> {
        if let Some((lo, hi)) = self.rating_scale {
            let bound = crate::data::MAX_ABS_VALUE;
            let within = |x: f32| x.is_finite() && x.abs() <= bound;
            if !(within(lo) && within(hi) && lo <= hi) {
                return Err(Error::invalid_argument(format!(
                    "ratingScale must be [min, max] with min ≤ max, both within ±{bound} (got [{lo}, {hi}])"
                )));
            }
        }
        Ok(())
    }

    /// Runs `load` on the thread pool `threads` asks for, once the options are checked.
    fn run<T>(&self, load: impl FnOnce() -> Result<T> + Send) -> Result<T>
    where
        T: Send,
    {
        self.validate()?;
        crate::runtime::pool::thread_pool(self.threads)?.install(load)
    }
}

/// The ratings files a MovieLens directory may hold, newest layout first.
const RATINGS_FILES: [&str; 3] = ["ratings.csv", "ratings.dat", "u.data"];

/// Where the ratings of a MovieLens directory (or the file itself) are.
pub fn ratings_path(path: &Path) -> Result<PathBuf> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, &e))?;
    if !meta.is_dir() {
        return Ok(path.to_path_buf());
    }
    RATINGS_FILES
        .iter()
        .map(|f| path.join(f))
        .find(|p| p.exists())
        .ok_or_else(|| {
            Error::not_found(format!(
                "{}: no ratings file found (expected one of {})",
                path.display(),
                RATINGS_FILES.join(", ")
            ))
        })
}

/// Loads a MovieLens directory (ratings.csv | ratings.dat | u.data, with movies.csv |
/// movies.dat | u.item, links.csv, tags.csv) or one MovieLens ratings file.
/// Runs on the pool `options.threads` asks for.
pub fn load_movielens(path: &Path, options: &LoadOptions) -> Result<Dataset> {
    let file = ratings_path(path)?;
    load_ratings(&file, None, options)
}

fn detect(file: &Path) -> Result<RatingsFormat> {
    let mut head = [0u8; 4096];
    let n = {
        use std::io::Read;
        let mut f = crate::io::files::open_regular(file)?;
        f.read(&mut head).map_err(|e| Error::io(file, &e))?
    };
    let first = head[..n].split(|&b| b == b'\n').next().unwrap_or(&[]);
    RatingsFormat::detect(file, first).ok_or_else(|| {
        Error::invalid_data(format!(
            "{}: not a MovieLens ratings file (a .csv, or '::' or tab separated); give a column mapping",
            file.display()
        ))
    })
}

/// Loads one ratings file: MovieLens by detection when `mapping` is None (its catalog files
/// beside it are read too), else the mapped columns.
pub fn load_ratings(
    file: &Path,
    mapping: Option<&ColumnMapping>,
    options: &LoadOptions,
) -> Result<Dataset> {
    options.run(|| read_one(file, mapping, options))
}

fn read_one(
    file: &Path,
    mapping: Option<&ColumnMapping>,
    options: &LoadOptions,
) -> Result<Dataset> {
    let start = Instant::now();
    let format = ratings_format(file, mapping)?;
    let catalog = catalog_beside(file, mapping)?;
    let mut users = Interner::new();
    let mut items = Interner::new();
    let mut triplets = Triplets::default();
    let stats = read_ratings(
        file,
        &parse_options(&format, options)?,
        &mut users,
        &mut items,
        &mut triplets,
    )?;
    let mut report = base_report(file, &format, &stats);
    report.parse_seconds = start.elapsed().as_secs_f64();
    check_not_empty(&triplets, &report)?;
    let mut order = RowOrder::new(users.len(), &triplets.users, &triplets.items);
    report.duplicates = drop_duplicates(&mut triplets, &mut order, users.len());
    let listed = listed_in_catalog(&items, &catalog);
    report.ratings_not_in_catalog = listed.as_ref().map_or(0, |l| {
        triplets.items.iter().filter(|&&i| !l[i as usize]).count()
    });
    let listed = listed.filter(|_| options.catalog_only);
    let (users, items, order) = apply_filters(
        users,
        items,
        &mut triplets,
        order,
        listed,
        options,
        &mut report,
    )?;
    Ok(finish(
        users, items, catalog, triplets, report, order, start,
    ))
}

fn parse_options<'a>(format: &'a RatingsFormat, options: &LoadOptions) -> Result<ParseOptions<'a>> {
    options.validate()?;
    Ok(ParseOptions {
        format,
        on_bad_row: options.on_bad_row,
        scale: options.rating_scale.or(format.default_scale),
    })
}

fn base_report(file: &Path, format: &RatingsFormat, stats: &ParseStats) -> LoadReport {
    LoadReport {
        ratings_file: file.display().to_string(),
        format: format.name.to_string(),
        rows_read: stats.rows_read,
        rows_skipped: stats.rows_skipped(),
        skipped_reasons: stats.skipped.clone(),
        blank_lines: stats.blank_lines,
        has_timestamps: stats.has_timestamps,
        bytes: stats.bytes,
        ..Default::default()
    }
}

fn check_not_empty(triplets: &Triplets, report: &LoadReport) -> Result<()> {
    if !triplets.is_empty() {
        return Ok(());
    }
    let why = if report.rows_skipped > 0 {
        format!(
            " ({} rows skipped: {})",
            report.rows_skipped,
            report
                .skipped_reasons
                .iter()
                .map(|(r, n)| format!("{r} × {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        " (the file has no data rows)".to_string()
    };
    Err(Error::invalid_data(format!(
        "{}: no ratings were read{why}",
        report.ratings_file
    )))
}

/// Keeps the latest rating of each (user, movie) pair (by timestamp; the later line on a tie
/// or without timestamps). Duplicates sit side by side in the user-ordered rows, so this costs
/// one pass, not a hash table of 25 million pairs. Returns how many rows were dropped.
fn drop_duplicates(triplets: &mut Triplets, order: &mut RowOrder, nusers: usize) -> usize {
    let items = &triplets.items;
    let stamps = &triplets.timestamps;
    let later = |a: u32, b: u32| -> bool {
        // Is position b the one to keep over a (a < b in file order)?
        stamps.is_empty() || stamps[b as usize] >= stamps[a as usize]
    };
    // A quick scan first: most files have no duplicates at all.
    if !order
        .order
        .windows(2)
        .any(|w| items[w[0] as usize] == items[w[1] as usize])
    {
        return 0;
    }
    let mut dropped = Vec::new();
    for r in 0..nusers {
        let row = &order.order[order.indptr[r]..order.indptr[r + 1]];
        let mut i = 0;
        while i < row.len() {
            let mut keep = row[i];
            let mut j = i + 1;
            while j < row.len() && items[row[j] as usize] == items[row[i] as usize] {
                // A run is in file order, so row[j] comes after `keep`.
                if later(keep, row[j]) {
                    dropped.push(keep);
                    keep = row[j];
                } else {
                    dropped.push(row[j]);
                }
                j += 1;
            }
            i = j;
        }
    }
    if dropped.is_empty() {
        return 0;
    }
    dropped.sort_unstable();
    let keep = complement(triplets.len(), &dropped);
    *triplets = triplets.select(&keep);
    *order = RowOrder::new(nusers, &triplets.users, &triplets.items);
    dropped.len()
}

/// The positions 0..n not in the sorted `drop`.
fn complement(n: usize, drop: &[u32]) -> Vec<usize> {
    let mut keep = Vec::with_capacity(n - drop.len());
    let mut d = drop.iter().peekable();
    for i in 0..n {
        if d.peek().is_some_and(|&&x| x as usize == i) {
            d.next();
        } else {
            keep.push(i);
        }
    }
    keep
}

/// Per movie index, whether a non-empty catalog lists it.
fn listed_in_catalog(items: &Interner, catalog: &Catalog) -> Option<Vec<bool>> {
    if catalog.is_empty() {
        return None;
    }
    let map = Interner::raw_ids(items);
    Some(map.iter().map(|&id| catalog.get(id).is_some()).collect())
}

/// `catalogOnly`, then the min-ratings filters, repeated until stable (dropping movies can push a user under the
/// minimum and back). Survivors are re-indexed in first-appearance order.
fn apply_filters(
    users: Interner,
    items: Interner,
    triplets: &mut Triplets,
    order: RowOrder,
    listed: Option<Vec<bool>>,
    options: &LoadOptions,
    report: &mut LoadReport,
) -> Result<(Interner, Interner, RowOrder)> {
    let (min_u, min_i) = (options.min_user_ratings, options.min_movie_ratings);
    if min_u <= 1 && min_i <= 1 && listed.is_none() {
        return Ok((users, items, order));
    }
    let mut alive: Vec<bool> = match &listed {
        Some(l) => triplets.items.iter().map(|&i| l[i as usize]).collect(),
        None => vec![true; triplets.len()],
    };
    loop {
        let mut user_n = vec![0usize; users.len()];
        let mut item_n = vec![0usize; items.len()];
        for (k, _) in alive.iter().enumerate().filter(|a| *a.1) {
            user_n[triplets.users[k] as usize] += 1;
            item_n[triplets.items[k] as usize] += 1;
        }
        let mut changed = false;
        for (k, a) in alive.iter_mut().enumerate().filter(|a| *a.1) {
            if user_n[triplets.users[k] as usize] < min_u
                || item_n[triplets.items[k] as usize] < min_i
            {
                *a = false;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let keep: Vec<usize> = (0..triplets.len()).filter(|&k| alive[k]).collect();
    report.filtered_ratings = triplets.len() - keep.len();
    if keep.len() == triplets.len() {
        return Ok((users, items, order));
    }
    if keep.is_empty() {
        return Err(Error::invalid_argument(format!(
            "the filters (minUserRatings {min_u}, minMovieRatings {min_i}, catalogOnly {}) leave no ratings in {}",
            listed.is_some(),
            report.ratings_file
        )));
    }
    let old = triplets.select(&keep);
    let (old_users, old_items) = (users.into_idmap(), items.into_idmap());
    let mut new_users = Interner::new();
    let mut new_items = Interner::new();
    let users_idx: Vec<u32> = old
        .users
        .iter()
        .map(|&u| new_users.intern(old_users.raw(u) as u64))
        .collect();
    let items_idx: Vec<u32> = old
        .items
        .iter()
        .map(|&i| new_items.intern(old_items.raw(i) as u64))
        .collect();
    report.filtered_users = old_users.len() - new_users.len();
    report.filtered_movies = old_items.len() - new_items.len();
    *triplets = Triplets {
        users: users_idx,
        items: items_idx,
        ..old
    };
    let order = RowOrder::new(new_users.len(), &triplets.users, &triplets.items);
    Ok((new_users, new_items, order))
}

fn finish(
    users: Interner,
    mut items: Interner,
    catalog: Catalog,
    triplets: Triplets,
    mut report: LoadReport,
    order: RowOrder,
    start: Instant,
) -> Dataset {
    report.rows_kept = triplets.len();
    report.users = users.len();
    report.movies = items.len();
    // Catalog movies nobody rated still get an index: the genre model can place them.
    for movie in &catalog.movies {
        items.intern(movie.id as u64);
    }
    report.catalog_movies = catalog.len();
    let (lo, hi) = triplets
        .ratings
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &r| {
            (lo.min(r), hi.max(r))
        });
    report.min_rating = lo;
    report.max_rating = hi;
    report.density = triplets.len() as f64 / (report.users as f64 * report.movies as f64);
    let data = Dataset::from_order(
        Arc::new(users.into_idmap()),
        Arc::new(items.into_idmap()),
        Arc::new(catalog),
        triplets,
        report,
        order,
    );
    let mut data = data;
    data.report.seconds = start.elapsed().as_secs_f64();
    data
}

/// Reads a predefined split (ml-100k `u1.base`/`u1.test`, ml-10m `r1.train`/`r1.test`, or a
/// user's own pair) so that both sets share one pair of id maps.
pub fn load_split(
    train_file: &Path,
    test_file: &Path,
    mapping: Option<&ColumnMapping>,
    options: &LoadOptions,
) -> Result<(Dataset, Dataset, SplitReport)> {
    options.run(|| read_split(train_file, test_file, mapping, options))
}

fn read_split(
    train_file: &Path,
    test_file: &Path,
    mapping: Option<&ColumnMapping>,
    options: &LoadOptions,
) -> Result<(Dataset, Dataset, SplitReport)> {
    let start = Instant::now();
    let train_format = ratings_format(train_file, mapping)?;
    let test_format = ratings_format(test_file, mapping)?;
    let catalog = catalog_beside(train_file, mapping)?;
    let mut users = Interner::new();
    let mut items = Interner::new();
    let mut train = Triplets::default();
    let mut test = Triplets::default();
    let train_stats = read_ratings(
        train_file,
        &parse_options(&train_format, options)?,
        &mut users,
        &mut items,
        &mut train,
    )?;
    let (train_users, train_items) = (users.len(), items.len());
    let test_stats = read_ratings(
        test_file,
        &parse_options(&test_format, options)?,
        &mut users,
        &mut items,
        &mut test,
    )?;
    let mut train_report = base_report(train_file, &train_format, &train_stats);
    let mut test_report = base_report(test_file, &test_format, &test_stats);
    check_not_empty(&train, &train_report)?;
    check_not_empty(&test, &test_report)?;
    let mut train_order = RowOrder::new(users.len(), &train.users, &train.items);
    train_report.duplicates = drop_duplicates(&mut train, &mut train_order, users.len());
    let mut test_order = RowOrder::new(users.len(), &test.users, &test.items);
    test_report.duplicates = drop_duplicates(&mut test, &mut test_order, users.len());
    // Ids first seen in the test file were interned after every training id.
    let cold: Vec<bool> = (0..test.len())
        .map(|k| test.users[k] as usize >= train_users || test.items[k] as usize >= train_items)
        .collect();
    let mut cold_report = SplitReport {
        train_rows: train.len(),
        cold_user_rows: test
            .users
            .iter()
            .filter(|&&u| u as usize >= train_users)
            .count(),
        cold_movie_rows: test
            .items
            .iter()
            .filter(|&&i| i as usize >= train_items)
            .count(),
        cold_rows: cold.iter().filter(|&&c| c).count(),
        test_rows: test.len(),
        dropped: if options.drop_cold_start {
            cold.iter().filter(|&&c| c).count()
        } else {
            0
        },
    };
    if options.drop_cold_start && cold_report.cold_rows > 0 {
        let keep: Vec<usize> = (0..test.len()).filter(|&k| !cold[k]).collect();
        test = test.select(&keep);
        cold_report.test_rows = test.len();
        test_order = RowOrder::new(users.len(), &test.users, &test.items);
    }
    for m in &catalog.movies {
        items.intern(m.id as u64);
    }
    let catalog = Arc::new(catalog);
    let users = Arc::new(users.into_idmap());
    let items = Arc::new(items.into_idmap());
    let make = |t: Triplets, mut report: LoadReport, order: RowOrder| {
        report.rows_kept = t.len();
        report.users = (0..order.indptr.len() - 1)
            .filter(|&u| order.indptr[u + 1] > order.indptr[u])
            .count();
        report.catalog_movies = catalog.len();
        let (lo, hi) = t
            .ratings
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &r| {
                (lo.min(r), hi.max(r))
            });
        report.min_rating = lo;
        report.max_rating = hi;
        let mut d = Dataset::from_order(
            users.clone(),
            items.clone(),
            catalog.clone(),
            t,
            report,
            order,
        );
        d.report.movies = d.num_active_items();
        d.report.density =
            d.num_ratings() as f64 / (d.report.users as f64 * d.report.movies as f64);
        d.report.seconds = start.elapsed().as_secs_f64();
        d
    };
    train_report.split = Some(cold_report.clone());
    test_report.split = Some(cold_report.clone());
    let train_set = make(train, train_report, train_order);
    let test_set = make(test, test_report, test_order);
    Ok((train_set, test_set, cold_report))
}

/// The layout of a ratings file: from the caller's column mapping, or detected from the file.
fn ratings_format(file: &Path, mapping: Option<&ColumnMapping>) -> Result<RatingsFormat> {
    match mapping {
        Some(m) => RatingsFormat::from_mapping(m),
        None => detect(file),
    }
}

/// The MovieLens catalog in the ratings file's folder; none for a mapped (generic) file.
fn catalog_beside(file: &Path, mapping: Option<&ColumnMapping>) -> Result<Catalog> {
    match (mapping, file.parent()) {
        (None, Some(dir)) => read_catalog_in(dir),
        _ => Ok(Catalog::new()),
    }
}

#[cfg(test)]
mod options_tests {
    use super::*;

    #[test]
    fn load_options_have_one_schema() {
        let o: LoadOptions =
            serde_json::from_str(r#"{"onBadRow":"skip","ratingScale":[0,10],"threads":2}"#)
                .unwrap();
        assert_eq!(o.on_bad_row, OnBadRow::Skip);
        assert_eq!(o.rating_scale, Some((0.0, 10.0)));
        assert_eq!(o.threads, Some(2));
        assert_eq!(o.min_user_ratings, 0);
        let e = serde_json::from_str::<LoadOptions>(r#"{"treads":2}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `treads`"), "{e}");
        let e = serde_json::from_str::<LoadOptions>(r#"{"onBadRow":"ignore"}"#).unwrap_err();
        assert!(e.to_string().contains("`error` or `skip`"), "{e}");
        assert_eq!(
            LoadOptions::keys(),
            [
                "onBadRow",
                "ratingScale",
                "minUserRatings",
                "minMovieRatings",
                "catalogOnly",
                "dropColdStart",
                "threads"
            ]
        );
        assert_eq!(OnBadRow::names(), ["error", "skip"]);
        let bad = LoadOptions {
            rating_scale: Some((5.0, 1.0)),
            ..LoadOptions::default()
        };
        assert!(bad.validate().unwrap_err().message.contains("min ≤ max"));
        let bad = LoadOptions {
            threads: Some(0),
            ..LoadOptions::default()
        };
        let e = bad.run(|| Ok(())).unwrap_err();
        assert!(
            e.message.contains("threads must be a whole number from 1"),
            "{}",
            e.message
        );
    }
}
