//! Loader options and column mappings: the napi types TypeScript re-exports, converted into the
//! core's `LoadOptions` and `ColumnMapping`.
use alsrec_core::ingest::{self as core, Column};
use napi::bindgen_prelude::Either;
use napi_derive::napi;

use crate::split::ColdStart;

/// What a loader does with a row it cannot read.
#[napi(string_enum = "lowercase")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnBadRow {
    /// Stop at the first bad row (the default).
    Error,
    /// Skip it and count it in the report.
    Skip,
}

impl From<OnBadRow> for core::OnBadRow {
    fn from(o: OnBadRow) -> Self {
        match o {
            OnBadRow::Error => core::OnBadRow::Error,
            OnBadRow::Skip => core::OnBadRow::Skip,
        }
    }
}

/// Options of the loaders; unknown keys and values of the wrong type are rejected.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// 'error' (default) stops at the first bad row; 'skip' skips and counts it in the report.
    pub on_bad_row: Option<OnBadRow>,
    /// Ratings outside [min, max] are bad rows. MovieLens files default to [0.5, 5].
    pub rating_scale: Option<(f64, f64)>,
    /// Drop users / movies with fewer ratings, repeatedly until none is left below.
    pub min_user_ratings: Option<u32>,
    pub min_movie_ratings: Option<u32>,
    /// Drop ratings of movies the catalog does not list (counted in report.ratingsNotInCatalog).
    pub catalog_only: Option<bool>,
    /// Worker threads for parsing; default all cores.
    pub threads: Option<u32>,
}

/// Options of `loadSplit`: those of the loaders that apply to a predefined split, and what to do
/// with its cold-start test rows. `minUserRatings`, `minMovieRatings` and `catalogOnly` are
/// rejected: the split is kept as given, and filtering the two files would change it (which
/// ratings count, and on which side). Filter the files first, or load one file and `split` it.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct LoadSplitOptions {
    /// 'error' (default) stops at the first bad row; 'skip' skips and counts it in the report.
    pub on_bad_row: Option<OnBadRow>,
    /// Ratings outside [min, max] are bad rows. MovieLens files default to [0.5, 5].
    pub rating_scale: Option<(f64, f64)>,
    /// Worker threads for parsing; default all cores.
    pub threads: Option<u32>,
    /// Test rows whose user or movie has no training rating: 'keep' (default) or 'drop'.
    pub cold_start: Option<ColdStart>,
}

fn scale((lo, hi): (f64, f64)) -> (f32, f32) {
    (lo as f32, hi as f32)
}

impl From<LoadOptions> for core::LoadOptions {
    fn from(js: LoadOptions) -> Self {
        let LoadOptions {
            on_bad_row,
            rating_scale,
            min_user_ratings,
            min_movie_ratings,
            catalog_only,
            threads,
        } = js;
        core::LoadOptions {
            on_bad_row: on_bad_row.map(Into::into).unwrap_or_default(),
            rating_scale: rating_scale.map(scale),
            min_user_ratings: min_user_ratings.unwrap_or(0) as usize,
            min_movie_ratings: min_movie_ratings.unwrap_or(0) as usize,
            catalog_only: catalog_only.unwrap_or(false),
            drop_cold_start: false,
            threads: threads.map(|t| t as usize),
        }
    }
}

impl From<LoadSplitOptions> for core::LoadOptions {
    fn from(js: LoadSplitOptions) -> Self {
        let LoadSplitOptions {
            on_bad_row,
            rating_scale,
            threads,
            cold_start,
        } = js;
        core::LoadOptions {
            on_bad_row: on_bad_row.map(Into::into).unwrap_or_default(),
            rating_scale: rating_scale.map(scale),
            drop_cold_start: cold_start.is_some_and(|c| c == ColdStart::Drop),
            threads: threads.map(|t| t as usize),
            ..core::LoadOptions::default()
        }
    }
}

/// How to read a delimited ratings file that is not a MovieLens one.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct ColumnMapping {
    /// Field separator, any non-empty string: ',' (default), '\t', '::', ';', '|'.
    pub delimiter: Option<String>,
    /// Whether the first line names the columns (default true).
    pub header: Option<bool>,
    /// The user column: a 0-based position, or a header name.
    pub user: Either<u32, String>,
    /// The movie column (formerly `item`, still read as a deprecated alias by the TypeScript layer).
    pub movie: Either<u32, String>,
    /// The rating column.
    pub rating: Either<u32, String>,
    /// The timestamp column, if the file has one.
    pub timestamp: Option<Either<u32, String>>,
}

fn column(c: Either<u32, String>) -> Column {
    match c {
        Either::A(i) => Column::Index(i as usize),
        Either::B(name) => Column::Name(name),
    }
}

impl From<ColumnMapping> for core::ColumnMapping {
    fn from(js: ColumnMapping) -> Self {
        let ColumnMapping {
            delimiter,
            header,
            user,
            movie,
            rating,
            timestamp,
        } = js;
        core::ColumnMapping {
            delimiter,
            header,
            user: column(user),
            item: column(movie),
            rating: column(rating),
            timestamp: timestamp.map(column),
        }
    }
}
