//! MovieLens `ratings.csv` + `movies.csv` (ml-latest-small, ml-20m, ml-25m, ml-32m).
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::catalog::Catalog;
use crate::dataset::{Dataset, LoadReport, Triplets};
use crate::error::{Error, Result};
use crate::ids::IdMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnBadRow {
    #[default]
    Error,
    Skip,
}

#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub on_bad_row: OnBadRow,
}

/// Loads a MovieLens directory holding `ratings.csv` and, optionally, `movies.csv`.
pub fn load_movielens(dir: &Path, options: &LoadOptions) -> Result<Dataset> {
    let meta = std::fs::metadata(dir).map_err(|e| Error::io(dir, &e))?;
    if !meta.is_dir() {
        return Err(Error::invalid_argument(format!(
            "{} is not a directory",
            dir.display()
        )));
    }
    let ratings_path = dir.join("ratings.csv");
    if !ratings_path.is_file() {
        return Err(Error::not_found(format!(
            "{}: no ratings file found (expected ratings.csv)",
            dir.display()
        )));
    }
    let movies_path = dir.join("movies.csv");
    let catalog = if movies_path.is_file() {
        read_movies_csv(&movies_path)?
    } else {
        Catalog::new()
    };
    read_ratings_csv(&ratings_path, catalog, options)
}

fn open_csv(path: &Path) -> Result<csv::Reader<std::fs::File>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, &e))?;
    Ok(csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(file))
}

/// The header must start with these names, so that a file with other columns is refused
/// instead of being read as the wrong numbers.
fn check_header(
    path: &Path,
    reader: &mut csv::Reader<std::fs::File>,
    expected: &[&str],
) -> Result<usize> {
    let header = reader
        .byte_headers()
        .map_err(|e| csv_error(path, e))?
        .clone();
    let found: Vec<String> = header
        .iter()
        .map(|f| String::from_utf8_lossy(f).trim().to_string())
        .collect();
    let ok = found.len() >= expected.len()
        && expected
            .iter()
            .zip(&found)
            .all(|(e, f)| f.eq_ignore_ascii_case(e));
    if ok {
        Ok(found.len())
    } else if found.is_empty() {
        Err(Error::invalid_data(format!(
            "{}: the file is empty (expected a header {})",
            path.display(),
            expected.join(",")
        )))
    } else {
        Err(Error::invalid_data(format!(
            "{} line 1: expected the header {}, found {:?}",
            path.display(),
            expected.join(","),
            found.join(",")
        )))
    }
}

fn csv_error(path: &Path, err: csv::Error) -> Error {
    let line = err.position().map(|p| p.line()).unwrap_or(0);
    match err.kind() {
        csv::ErrorKind::Io(e) => Error::io(path, e),
        csv::ErrorKind::Utf8 { .. } => Error::invalid_data(format!(
            "{} line {line}: text is not valid UTF-8",
            path.display()
        )),
        _ => Error::invalid_data(format!("{} line {line}: {err}", path.display())),
    }
}

fn read_movies_csv(path: &Path) -> Result<Catalog> {
    let mut reader = open_csv(path)?;
    check_header(path, &mut reader, &["movieId", "title", "genres"])?;
    let mut catalog = Catalog::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, e))?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.len() != 3 {
            return Err(bad_row(
                path,
                line,
                &format!(
                    "expected 3 fields (movieId,title,genres), found {}",
                    record.len()
                ),
                &record.iter().collect::<Vec<_>>().join(","),
            ));
        }
        let id = parse_id(&record[0]).map_err(|why| bad_row(path, line, &why, &record[0]))?;
        let genres: Vec<&str> = record[2].split('|').collect();
        catalog.push(id, record[1].to_string(), &genres);
    }
    Ok(catalog)
}

fn bad_row(path: &Path, line: u64, why: &str, text: &str) -> Error {
    let text: String = text.chars().take(120).collect();
    Error::invalid_data(format!("{} line {line}: {why}: {text:?}", path.display()))
}

fn parse_id(field: &str) -> std::result::Result<i64, String> {
    match field.trim().parse::<i64>() {
        Ok(v) if v >= 0 => Ok(v),
        Ok(_) => Err("negative id".into()),
        Err(_) => Err("id is not a whole number".into()),
    }
}

fn parse_rating(field: &str) -> std::result::Result<f32, String> {
    match field.trim().parse::<f32>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err("rating is not a finite number".into()),
    }
}

fn read_ratings_csv(path: &Path, catalog: Catalog, options: &LoadOptions) -> Result<Dataset> {
    let mut reader = open_csv(path)?;
    let ncols = check_header(path, &mut reader, &["userId", "movieId", "rating"])?;
    let mut users = IdMap::new();
    let mut items = IdMap::new();
    let mut triplets = Triplets::default();
    let mut report = LoadReport {
        ratings_file: path.display().to_string(),
        ..Default::default()
    };
    let mut skipped: HashMap<String, usize> = HashMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let err = csv_error(path, e);
                if options.on_bad_row == OnBadRow::Skip
                    && err.kind == crate::error::ErrorKind::InvalidData
                {
                    report.rows_read += 1;
                    *skipped.entry("unreadable row".into()).or_default() += 1;
                    continue;
                }
                return Err(err);
            }
        }
        report.rows_read += 1;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        match parse_rating_row(&record, ncols) {
            Ok((u, i, r, t)) => {
                triplets.push(users.intern(u), items.intern(i), r, t);
            }
            Err(why) => {
                if options.on_bad_row == OnBadRow::Skip {
                    *skipped.entry(why).or_default() += 1;
                } else {
                    return Err(bad_row(
                        path,
                        line,
                        &why,
                        &record.iter().collect::<Vec<_>>().join(","),
                    ));
                }
            }
        }
    }
    let triplets = drop_duplicates(triplets, &mut report);
    finish(users, items, catalog, triplets, report, skipped)
}

type RatingRow = (i64, i64, f32, Option<i64>);

fn parse_rating_row(
    record: &csv::StringRecord,
    ncols: usize,
) -> std::result::Result<RatingRow, String> {
    if record.len() != ncols {
        return Err(format!(
            "expected {ncols} fields like the header, found {}",
            record.len()
        ));
    }
    let user = parse_id(&record[0]).map_err(|e| format!("userId: {e}"))?;
    let item = parse_id(&record[1]).map_err(|e| format!("movieId: {e}"))?;
    let rating = parse_rating(&record[2])?;
    let timestamp = match record.get(3).filter(|_| ncols >= 4) {
        Some(t) => Some(
            t.trim()
                .parse::<i64>()
                .map_err(|_| "timestamp is not a whole number".to_string())?,
        ),
        None => None,
    };
    Ok((user, item, rating, timestamp))
}

/// Keeps the latest rating of each (user, movie) pair (the last in the file when there are no
/// timestamps) and counts the others.
fn drop_duplicates(triplets: Triplets, report: &mut LoadReport) -> Triplets {
    let mut latest: HashMap<(u32, u32), usize> = HashMap::with_capacity(triplets.len());
    let mut duplicate = false;
    for i in 0..triplets.len() {
        let key = (triplets.users[i], triplets.items[i]);
        if let Some(prev) = latest.insert(key, i) {
            duplicate = true;
            let keep_prev = !triplets.timestamps.is_empty()
                && triplets.timestamps[prev] > triplets.timestamps[i];
            if keep_prev {
                latest.insert(key, prev);
            }
        }
    }
    if !duplicate {
        return triplets;
    }
    let mut keep: Vec<usize> = latest.into_values().collect();
    keep.sort_unstable();
    report.duplicates = triplets.len() - keep.len();
    triplets.select(&keep)
}

fn finish(
    users: IdMap,
    mut items: IdMap,
    catalog: Catalog,
    triplets: Triplets,
    mut report: LoadReport,
    skipped: HashMap<String, usize>,
) -> Result<Dataset> {
    if triplets.is_empty() {
        return Err(Error::invalid_data(format!(
            "{}: no ratings were read",
            report.ratings_file
        )));
    }
    report.rows_kept = triplets.len();
    report.rows_skipped = skipped.values().sum();
    let mut reasons: Vec<(String, usize)> = skipped.into_iter().collect();
    reasons.sort();
    report.skipped_reasons = reasons;
    report.users = users.len();
    report.movies = items.len();
    // Catalog movies nobody rated still get an index: the genre model can place them.
    for movie in &catalog.movies {
        items.intern(movie.id);
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
    Ok(Dataset::new(
        Arc::new(users),
        Arc::new(items),
        Arc::new(catalog),
        triplets,
        report,
    ))
}

/// Where the ratings of a MovieLens directory live, for messages.
pub fn ratings_path(dir: &Path) -> PathBuf {
    dir.join("ratings.csv")
}
