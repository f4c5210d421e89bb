//! Split options: the napi types TypeScript re-exports, converted into the core's.
use alsrec_core::data::split as core;
use napi_derive::napi;

/// Which protocol a split follows.
#[napi(string_enum = "lowercase")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitKind {
    /// A random fraction of all ratings (the default).
    Random,
    /// Each user with at least `minRatings` ratings keeps a random fraction in test.
    User,
    /// Each user's latest fraction, or with `cutoff` every rating at or after that Unix time.
    Temporal,
}

impl From<SplitKind> for core::SplitKind {
    fn from(kind: SplitKind) -> Self {
        match kind {
            SplitKind::Random => core::SplitKind::Random,
            SplitKind::User => core::SplitKind::User,
            SplitKind::Temporal => core::SplitKind::Temporal,
        }
    }
}

/// Test rows whose user or movie has no rating in train: kept (the default) or dropped.
#[napi(string_enum = "lowercase")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColdStart {
    Keep,
    Drop,
}

impl From<ColdStart> for core::ColdStart {
    fn from(c: ColdStart) -> Self {
        match c {
            ColdStart::Keep => core::ColdStart::Keep,
            ColdStart::Drop => core::ColdStart::Drop,
        }
    }
}

/// How `dataset.split` divides the ratings; unknown keys and values of the wrong type are rejected.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct SplitOptions {
    /// 'random' (default): a random fraction of all ratings. 'user': each user with at least
    /// `minRatings` ratings keeps a random fraction in test. 'temporal': each user's latest
    /// fraction, or with `cutoff` every rating at or after that Unix time.
    pub kind: Option<SplitKind>,
    /// Fraction of ratings put in the test set, in (0, 1). Default 0.2.
    pub test_fraction: Option<f64>,
    /// Default 42.
    pub seed: Option<u32>,
    /// 'user' and 'temporal': users with fewer ratings stay wholly in train (default 2).
    pub min_ratings: Option<u32>,
    /// 'temporal': a global cutoff in Unix seconds instead of a per-user fraction.
    pub cutoff: Option<i64>,
    /// Test rows whose user or movie is absent from train: 'keep' (default) or 'drop'.
    pub cold_start: Option<ColdStart>,
}

impl From<SplitOptions> for core::SplitOptions {
    /// Given keys over the core's defaults.
    fn from(js: SplitOptions) -> Self {
        let SplitOptions {
            kind,
            test_fraction,
            seed,
            min_ratings,
            cutoff,
            cold_start,
        } = js;
        let d = core::SplitOptions::default();
        core::SplitOptions {
            kind: kind.map_or(d.kind, Into::into),
            test_fraction: test_fraction.unwrap_or(d.test_fraction),
            seed: seed.map_or(d.seed, u64::from),
            min_ratings: min_ratings.map_or(d.min_ratings, |m| m as usize),
            cutoff: cutoff.or(d.cutoff),
            cold_start: cold_start.map_or(d.cold_start, Into::into),
        }
    }
}
