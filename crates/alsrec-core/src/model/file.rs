//! The model file: one binary file holding everything a [`Model`] needs, documented in
//! `docs/model-format.md`.
//!
//! ```text
//! 0   8 B  magic "ALSRECMF"
//! 8   u32  format version (1)
//! 12  u32  header length H (bytes of JSON, before padding)
//! 16  u64  total file length, checksum included
//! 24  H B  JSON header, space-padded to a multiple of 8
//! …        sections (little-endian arrays), each at the 8-aligned offset the header gives
//! end u32  CRC-32C of every byte before it
//! ```
//! Arrays are copied in bulk, never parsed element by element from text, so a 62k-movie,
//! 162k-user, k = 64 model (with its 25M seen ratings) loads in a fraction of a second.
use std::borrow::Cow;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::data::catalog::Catalog;
use crate::data::ids::IdMap;
use crate::data::sparse::{Csr, Values};
use crate::data::MAX_ABS_VALUE;
use crate::error::{Error, ErrorKind, Result};
use crate::io::checksum::{crc32c, crc32c_update};
use crate::io::files::write_atomic;
use crate::model::config::TrainConfig;
use crate::model::posterior::{Posterior, RowPrior};
use crate::model::{EpochStats, Model};

pub const MAGIC: &[u8; 8] = b"ALSRECMF";
pub const FORMAT_VERSION: u32 = 1;
const PREAMBLE: usize = 24;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Header {
    kind: String,
    k: usize,
    mu: f32,
    config: TrainConfig,
    history: Vec<EpochRecord>,
    num_users: usize,
    num_movies: usize,
    num_seen: usize,
    genre_names: Vec<String>,
    catalog: CatalogColumns,
    sections: Vec<Section>,
    /// The ranker of an explicit model (its vectors are the `ranker*` sections).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ranker: Option<RankerHeader>,
    /// A Bayesian model's learned precisions (its priors and variances are the `*Prior*` and
    /// `*Variance` sections).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    posterior: Option<PosteriorHeader>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PosteriorHeader {
    noise_precision: f32,
    user_bias_precision: f32,
    movie_bias_precision: f32,
    samples: usize,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RankerHeader {
    k: usize,
    config: TrainConfig,
    history: Vec<EpochRecord>,
}

/// Mirrors [`EpochStats`] so the file format does not depend on that type's derives.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EpochRecord {
    epoch: usize,
    #[serde(with = "nan_as_null")]
    train_rmse: f64,
    #[serde(with = "nan_as_null")]
    train_mae: f64,
    test_rmse: Option<f64>,
    test_mae: Option<f64>,
    #[serde(with = "nan_as_null")]
    loss: f64,
    seconds: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metrics_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    wall_seconds: Option<f64>,
}

/// JSON has no NaN: figures a model does not have (the `popular` baseline's RMSE) are null.
mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        if x.is_finite() {
            s.serialize_f64(*x)
        } else {
            s.serialize_none()
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

#[derive(Serialize, Deserialize)]
struct CatalogColumns {
    ids: Vec<i64>,
    titles: Vec<String>,
    years: Vec<Option<i32>>,
    genres: Vec<Vec<u16>>,
    /// links.csv, by movie id (sorted, so equal models give equal bytes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    link_ids: Vec<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    imdb_ids: Vec<Option<i64>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tmdb_ids: Vec<Option<i64>>,
    /// tags.csv, by movie id (sorted): each movie's (tag, count), most frequent first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tag_ids: Vec<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tags: Vec<Vec<(String, u32)>>,
}

#[derive(Serialize, Deserialize, Clone)]
struct Section {
    name: String,
    dtype: String,
    offset: usize,
    count: usize,
}

fn bad(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::BadModelFile, message)
}

/// A number stored little-endian in the file.
trait Le: Copy {
    const SIZE: usize;
    fn put(self, out: &mut Vec<u8>);
    fn get(b: &[u8]) -> Self;
}

macro_rules! le {
    ($($t:ty),*) => {$(
        impl Le for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn get(b: &[u8]) -> Self {
                <$t>::from_le_bytes(b.try_into().expect("sized chunk"))
            }
        }
    )*};
}
le!(f32, u32, i64, u64);

/// The bytes of a slice in little-endian order: borrowed as is on little-endian machines.
fn to_le<T: Le>(v: &[T]) -> Cow<'_, [u8]> {
    if cfg!(target_endian = "little") {
        // SAFETY: T is a plain number type (f32/u32/i64/u64) without padding; on a
        // little-endian machine its memory is exactly its little-endian encoding.
        Cow::Borrowed(unsafe {
            std::slice::from_raw_parts(v.as_ptr() as *const u8, std::mem::size_of_val(v))
        })
    } else {
        let mut out = Vec::with_capacity(v.len() * T::SIZE);
        v.iter().for_each(|x| x.put(&mut out));
        Cow::Owned(out)
    }
}

/// The inverse of [`to_le`]: one bulk copy on little-endian machines.
fn from_le<T: Le + Default>(b: &[u8]) -> Vec<T> {
    let n = b.len() / T::SIZE;
    if cfg!(target_endian = "little") {
        let mut out = vec![T::default(); n];
        // SAFETY: `out` holds n values of T = n · SIZE bytes, `b` at least that many, and every
        // bit pattern is a valid f32/u32/i64/u64.
        unsafe {
            std::ptr::copy_nonoverlapping(b.as_ptr(), out.as_mut_ptr() as *mut u8, n * T::SIZE)
        };
        out
    } else {
        b.chunks_exact(T::SIZE).map(T::get).collect()
    }
}

/// The sections in file order: name, dtype and the little-endian bytes (borrowed from the
/// model where they can be, so saving never holds a second copy of the factors).
fn sections(model: &Model) -> Vec<(&'static str, &'static str, Cow<'_, [u8]>)> {
    let s = &model.seen;
    let indptr: Vec<u64> = s.indptr.iter().map(|&x| x as u64).collect();
    let mut parts = vec![
        ("userIds", "i64", to_le(model.users.raw_ids())),
        ("movieIds", "i64", to_le(model.items.raw_ids())),
        ("userFactors", "f32", to_le(&model.user_factors)),
        ("userBias", "f32", to_le(&model.user_bias)),
        ("movieFactors", "f32", to_le(&model.item_factors)),
        ("movieBias", "f32", to_le(&model.item_bias)),
        ("genreFactors", "f32", to_le(&model.genre_factors)),
        ("seenIndptr", "u64", Cow::Owned(to_le(&indptr).into_owned())),
        ("seenIndices", "u32", to_le(&s.indices)),
        // Decoded: the file format keeps f32 ratings whatever the layout in memory.
        (
            "seenValues",
            "f32",
            Cow::Owned(s.values.iter().flat_map(f32::to_le_bytes).collect()),
        ),
    ];
    if let Some(r) = &model.ranker {
        parts.push(("rankerUserFactors", "f32", to_le(&r.user_factors)));
        parts.push(("rankerMovieFactors", "f32", to_le(&r.item_factors)));
    }
    if let Some(p) = &model.posterior {
        parts.push(("userPriorMean", "f32", to_le(&p.users.mean)));
        parts.push(("userPriorPrecision", "f32", to_le(&p.users.precision)));
        parts.push(("moviePriorMean", "f32", to_le(&p.movies.mean)));
        parts.push(("moviePriorPrecision", "f32", to_le(&p.movies.precision)));
        parts.push(("userFactorVariance", "f32", to_le(&p.user_factor_variance)));
        parts.push(("userBiasVariance", "f32", to_le(&p.user_bias_variance)));
        parts.push((
            "movieFactorVariance",
            "f32",
            to_le(&p.movie_factor_variance),
        ));
        parts.push(("movieBiasVariance", "f32", to_le(&p.movie_bias_variance)));
    }
    parts
}

fn epoch_records(history: &[EpochStats]) -> Vec<EpochRecord> {
    history
        .iter()
        .map(|h| EpochRecord {
            epoch: h.epoch,
            train_rmse: h.train_rmse,
            train_mae: h.train_mae,
            test_rmse: h.test_rmse,
            test_mae: h.test_mae,
            loss: h.loss,
            seconds: h.seconds,
            metrics_seconds: h.metrics_seconds,
            wall_seconds: h.wall_seconds,
        })
        .collect()
}

fn epoch_stats(history: Vec<EpochRecord>) -> Vec<EpochStats> {
    history
        .into_iter()
        .map(|r| EpochStats {
            epoch: r.epoch,
            train_rmse: r.train_rmse,
            train_mae: r.train_mae,
            test_rmse: r.test_rmse,
            test_mae: r.test_mae,
            loss: r.loss,
            seconds: r.seconds,
            metrics_seconds: r.metrics_seconds,
            wall_seconds: r.wall_seconds,
        })
        .collect()
}

fn dtype_size(dtype: &str) -> usize {
    match dtype {
        "i64" | "u64" => 8,
        _ => 4,
    }
}

/// Writes the whole file to `out` (checksum last). The outer error is a layout failure, the
/// inner one a failure of `out`, so `save` can report it against the path.
fn write_to(model: &Model, out: &mut impl Write) -> Result<std::io::Result<()>> {
    let c = &model.catalog;
    let mut links: Vec<_> = c.links.iter().collect();
    links.sort_unstable_by_key(|l| *l.0);
    let mut tags: Vec<_> = c.tags.iter().collect();
    tags.sort_unstable_by_key(|t| *t.0);
    let parts = sections(model);
    let mut header = Header {
        kind: model.config.model.name().to_string(),
        k: model.k,
        mu: model.mu,
        config: model.config.clone(),
        history: epoch_records(&model.history),
        num_users: model.num_users(),
        num_movies: model.num_items(),
        num_seen: model.seen.nnz(),
        genre_names: c.genre_names.clone(),
        catalog: CatalogColumns {
            ids: c.movies.iter().map(|m| m.id).collect(),
            titles: c.movies.iter().map(|m| m.title.clone()).collect(),
            years: c.movies.iter().map(|m| m.year).collect(),
            genres: c.movies.iter().map(|m| m.genres.clone()).collect(),
            link_ids: links.iter().map(|l| *l.0).collect(),
            imdb_ids: links.iter().map(|l| l.1.imdb_id).collect(),
            tmdb_ids: links.iter().map(|l| l.1.tmdb_id).collect(),
            tag_ids: tags.iter().map(|t| *t.0).collect(),
            tags: tags.iter().map(|t| t.1.clone()).collect(),
        },
        sections: Vec::new(),
        ranker: model.ranker.as_ref().map(|r| RankerHeader {
            k: r.k,
            config: r.config.clone(),
            history: epoch_records(&r.history),
        }),
        posterior: model.posterior.as_ref().map(|p| PosteriorHeader {
            noise_precision: p.noise_precision,
            user_bias_precision: p.users.bias_precision,
            movie_bias_precision: p.movies.bias_precision,
            samples: p.samples,
        }),
    };
    // The offsets depend on the header's length, which depends on the offsets: lay out with
    // placeholders, then again with the real values until the length is stable.
    let to_json = |h: &Header| {
        serde_json::to_vec(h).map_err(|e| Error::internal(format!("model header: {e}")))
    };
    let mut json = to_json(&header)?;
    for _ in 0..4 {
        let mut offset = PREAMBLE + json.len().next_multiple_of(8) + 64;
        header.sections = parts
            .iter()
            .map(|(name, dtype, bytes)| {
                let s = Section {
                    name: name.to_string(),
                    dtype: dtype.to_string(),
                    offset,
                    count: bytes.len() / dtype_size(dtype),
                };
                offset = (offset + bytes.len()).next_multiple_of(8);
                s
            })
            .collect();
        let next = to_json(&header)?;
        // Stable once the real header fits before the first section (spaces pad the rest).
        let stable = PREAMBLE + next.len() <= header.sections[0].offset;
        json = next;
        if stable {
            break;
        }
    }
    let data_start = header.sections[0].offset;
    let total = header
        .sections
        .iter()
        .zip(&parts)
        .map(|(s, p)| s.offset + p.2.len())
        .max()
        .unwrap_or(data_start)
        + 4;
    // Stream the file, checksumming every byte on its way out.
    let mut out = Checksummed { inner: out, crc: 0 };
    let mut preamble = Vec::with_capacity(data_start);
    preamble.extend_from_slice(MAGIC);
    preamble.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    preamble.extend_from_slice(&(json.len() as u32).to_le_bytes());
    preamble.extend_from_slice(&(total as u64).to_le_bytes());
    preamble.extend_from_slice(&json);
    if preamble.len() > data_start {
        return Err(Error::internal("model header outgrew its reserved space"));
    }
    preamble.resize(data_start, b' ');
    Ok((|| {
        out.write_all(&preamble)?;
        let mut at = data_start;
        for (s, (_, _, bytes)) in header.sections.iter().zip(&parts) {
            out.write_all(&[0u8; 8][..s.offset - at])?;
            out.write_all(bytes)?;
            at = s.offset + bytes.len();
        }
        debug_assert_eq!(at + 4, total);
        let crc = out.crc;
        out.inner.write_all(&crc.to_le_bytes())
    })())
}

/// A writer that keeps the CRC-32C of everything written through it.
struct Checksummed<W> {
    inner: W,
    crc: u32,
}

impl<W: Write> Write for Checksummed<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc = crc32c_update(self.crc, &buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The whole file as bytes.
pub fn encode(model: &Model) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    write_to(model, &mut out)?.map_err(|e| Error::internal(format!("model bytes: {e}")))?;
    Ok(out)
}

/// Writes the model atomically: a crash or a full disk leaves any earlier file untouched. The
/// sections stream from the model into the buffered temp file; nothing is built in memory.
pub fn save(model: &Model, path: &Path) -> Result<()> {
    let mut layout = Ok(());
    let written = write_atomic(path, |w| match write_to(model, w) {
        Ok(io) => io,
        Err(e) => {
            layout = Err(e);
            Err(std::io::Error::other("model layout failed"))
        }
    });
    layout.and(written)
}

pub fn load(path: &Path) -> Result<Model> {
    let bytes = crate::io::files::read_regular(path)?;
    decode(&bytes).map_err(|e| match e.kind {
        ErrorKind::BadModelFile => bad(format!("{}: {}", path.display(), e.message)),
        _ => e,
    })
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

pub fn decode(b: &[u8]) -> Result<Model> {
    if b.len() < 8 || &b[..8] != MAGIC {
        return Err(bad("not an alsrec model file (wrong magic bytes)"));
    }
    if b.len() < PREAMBLE + 4 {
        return Err(bad(format!(
            "truncated: {} bytes, shorter than the fixed preamble",
            b.len()
        )));
    }
    let version = u32_at(b, 8);
    if version > FORMAT_VERSION {
        return Err(bad(format!(
            "format version {version} is newer than this alsrec reads ({FORMAT_VERSION}); upgrade alsrec"
        )));
    }
    if version == 0 {
        return Err(bad("format version 0 is not valid"));
    }
    let total = u64::from_le_bytes(b[16..24].try_into().expect("8 bytes")) as usize;
    if b.len() < total {
        return Err(bad(format!(
            "truncated: the file has {} bytes, its header says {total}",
            b.len()
        )));
    }
    if b.len() > total {
        return Err(bad(format!(
            "{} unexpected bytes after the end ({total} bytes)",
            b.len() - total
        )));
    }
    let stored = u32_at(b, total - 4);
    let actual = crc32c(&b[..total - 4]);
    if stored != actual {
        return Err(bad(format!(
            "checksum mismatch (stored {stored:08x}, computed {actual:08x}): the file is damaged"
        )));
    }
    let header_len = u32_at(b, 12) as usize;
    if PREAMBLE.saturating_add(header_len) > total - 4 {
        return Err(bad("the header length runs past the end of the file"));
    }
    let header: Header = serde_json::from_slice(&b[PREAMBLE..PREAMBLE + header_len])
        .map_err(|e| bad(format!("invalid header: {e}")))?;
    build(b, header, total - 4)
}

/// `rows × width` values, or an error naming the section, before anything is allocated.
fn count_of(name: &str, rows: usize, width: usize) -> Result<usize> {
    rows.checked_mul(width)
        .ok_or_else(|| bad(format!("section '{name}' would be impossibly large")))
}

/// |v| ≤ [`MAX_ABS_VALUE`], false for NaN.
fn within_bound(v: f32) -> bool {
    v.is_finite() && v.abs() <= MAX_ABS_VALUE
}

/// Every value of a float section is finite and within ±[`MAX_ABS_VALUE`]: a NaN or an infinity
/// in a vector or a bias would make every answer that touches it NaN.
fn finite(name: &str, values: &[f32]) -> Result<()> {
    match values.iter().position(|v| !within_bound(*v)) {
        None => Ok(()),
        Some(i) if values[i].is_finite() => Err(bad(format!(
            "section '{name}' holds {} at {i}, beyond ±{MAX_ABS_VALUE}",
            values[i]
        ))),
        Some(i) => Err(bad(format!(
            "section '{name}' holds a non-finite value ({}) at {i}",
            values[i]
        ))),
    }
}

/// Checks the header's fields against each other before any section is read, so no size taken
/// from the file reaches an allocation unchecked (the sections are then checked against the
/// file's real length).
fn check_header(h: &Header) -> Result<()> {
    let (m, n, k) = (h.num_users, h.num_movies, h.k);
    if h.config.model.name() != h.kind {
        return Err(bad(format!(
            "header kind '{}' disagrees with its config ('{}')",
            h.kind,
            h.config.model.name()
        )));
    }
    h.config
        .validate()
        .map_err(|e| bad(format!("the header's config is invalid: {}", e.message)))?;
    if k != h.config.latent_dim() {
        return Err(bad(format!(
            "header field 'k' = {k} disagrees with the config ({} factors for '{}')",
            h.config.latent_dim(),
            h.kind
        )));
    }
    // Dense indices are u32 throughout the core.
    for (field, value) in [("numUsers", m), ("numMovies", n), ("numSeen", h.num_seen)] {
        if value > u32::MAX as usize {
            return Err(bad(format!(
                "header field '{field}' = {value} exceeds {}",
                u32::MAX
            )));
        }
    }
    if !within_bound(h.mu) {
        return Err(bad(format!(
            "header field 'mu' is not a number within ±{MAX_ABS_VALUE}"
        )));
    }
    if h.genre_names.len() > u16::MAX as usize {
        return Err(bad(
            "header field 'genreNames' lists more than 65535 genres",
        ));
    }
    if let Some(r) = &h.ranker {
        r.config
            .validate()
            .map_err(|e| bad(format!("the ranker's config is invalid: {}", e.message)))?;
    }
    let bayesian = h.config.model == crate::model::config::ModelKind::Bayesian;
    match &h.posterior {
        None if bayesian => return Err(bad("a 'bayesian' model needs its 'posterior' header")),
        Some(_) if !bayesian => {
            return Err(bad(format!(
                "a '{}' model has no posterior, but the header holds one",
                h.kind
            )))
        }
        Some(p) => {
            for (field, value) in [
                ("noisePrecision", p.noise_precision),
                ("userBiasPrecision", p.user_bias_precision),
                ("movieBiasPrecision", p.movie_bias_precision),
            ] {
                if !(within_bound(value) && value > 0.0) {
                    return Err(bad(format!(
                        "posterior field '{field}' must be a positive number within ±{MAX_ABS_VALUE}"
                    )));
                }
            }
            if p.samples == 0 {
                return Err(bad("posterior field 'samples' must be at least 1"));
            }
        }
        None => {}
    }
    Ok(())
}

fn build(b: &[u8], h: Header, end: usize) -> Result<Model> {
    check_header(&h)?;
    let (m, n, k, g) = (h.num_users, h.num_movies, h.k, h.genre_names.len());
    let genre_rows = if h.config.has_genre_vectors() { g } else { 0 };
    let section = |name: &str, dtype: &str, count: Option<usize>| -> Result<&[u8]> {
        let s = h
            .sections
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| bad(format!("section '{name}' is missing")))?;
        if s.dtype != dtype {
            return Err(bad(format!(
                "section '{name}' has dtype {} (expected {dtype})",
                s.dtype
            )));
        }
        if let Some(c) = count {
            if s.count != c {
                return Err(bad(format!(
                    "section '{name}' holds {} values (expected {c})",
                    s.count
                )));
            }
        }
        let len = s
            .count
            .checked_mul(dtype_size(dtype))
            .ok_or_else(|| bad(format!("section '{name}' is impossibly large")))?;
        if s.offset % 8 != 0 || s.offset < PREAMBLE || s.offset.saturating_add(len) > end {
            return Err(bad(format!("section '{name}' lies outside the file")));
        }
        Ok(&b[s.offset..s.offset + len])
    };
    let f32s = from_le::<f32>;
    let i64s = from_le::<i64>;
    let user_ids = i64s(section("userIds", "i64", Some(m))?);
    let item_ids = i64s(section("movieIds", "i64", Some(n))?);
    let genre_factors = section("genreFactors", "f32", None)?;
    let genre_count = count_of("genreFactors", genre_rows, k)?;
    if genre_factors.len() / 4 != genre_count && !genre_factors.is_empty() {
        return Err(bad(format!(
            "section 'genreFactors' holds {} values (expected {genre_count})",
            genre_factors.len() / 4,
        )));
    }
    let indptr: Vec<usize> = from_le::<u64>(section("seenIndptr", "u64", Some(m + 1))?)
        .into_iter()
        .map(|x| x as usize)
        .collect();
    let nnz = h.num_seen;
    if indptr[0] != 0 || indptr[m] != nnz || indptr.windows(2).any(|w| w[0] > w[1]) {
        return Err(bad("section 'seenIndptr' is not a valid row index"));
    }
    let indices: Vec<u32> = from_le(section("seenIndices", "u32", Some(nnz))?);
    if indices.iter().any(|&i| i as usize >= n) {
        return Err(bad("section 'seenIndices' refers to a movie past the end"));
    }
    // Queries walk each user's seen movies in order to skip them: a row must be sorted, once each.
    if let Some(u) = (0..m).find(|&u| {
        indices[indptr[u]..indptr[u + 1]]
            .windows(2)
            .any(|w| w[0] >= w[1])
    }) {
        return Err(bad(format!(
            "section 'seenIndices' is not sorted and distinct in row {u}"
        )));
    }
    let cat = &h.catalog;
    let rows = cat.ids.len();
    if cat.titles.len() != rows || cat.genres.len() != rows || cat.years.len() != rows {
        return Err(bad("catalog columns have different lengths"));
    }
    let mut catalog = Catalog::new();
    for name in &h.genre_names {
        catalog.genre_index(name);
    }
    for i in 0..rows {
        let names: Result<Vec<&str>> = cat.genres[i]
            .iter()
            .map(|&gi| {
                h.genre_names
                    .get(gi as usize)
                    .map(|s| s.as_str())
                    .ok_or_else(|| bad(format!("catalog genre index {gi} out of range")))
            })
            .collect();
        catalog.push(cat.ids[i], cat.titles[i].clone(), &names?);
    }
    if cat.imdb_ids.len() != cat.link_ids.len() || cat.tmdb_ids.len() != cat.link_ids.len() {
        return Err(bad("catalog link columns have different lengths"));
    }
    for (j, &id) in cat.link_ids.iter().enumerate() {
        let links = crate::data::catalog::Links {
            imdb_id: cat.imdb_ids[j],
            tmdb_id: cat.tmdb_ids[j],
        };
        if catalog.links.insert(id, links).is_some() {
            return Err(bad(format!("catalog links repeat movie {id}")));
        }
    }
    if cat.tags.len() != cat.tag_ids.len() {
        return Err(bad("catalog tag columns have different lengths"));
    }
    for (id, tags) in cat.tag_ids.iter().zip(&cat.tags) {
        if catalog.tags.insert(*id, tags.clone()).is_some() {
            return Err(bad(format!("catalog tags repeat movie {id}")));
        }
    }
    let users = IdMap::from_raw(user_ids);
    let items = IdMap::from_raw(item_ids);
    if users.distinct() != m {
        return Err(bad("section 'userIds' holds repeated ids"));
    }
    if items.distinct() != n {
        return Err(bad("section 'movieIds' holds repeated ids"));
    }
    let ranker = match &h.ranker {
        None => None,
        Some(r) => {
            if r.config.model != crate::model::config::ModelKind::Implicit
                || r.config.factors != r.k
                || !(1..=1024).contains(&r.k)
            {
                return Err(bad(format!(
                    "the ranker header is inconsistent (kind '{}', k = {}, factors = {})",
                    r.config.model.name(),
                    r.k,
                    r.config.factors
                )));
            }
            let users = f32s(section(
                "rankerUserFactors",
                "f32",
                Some(count_of("rankerUserFactors", m, r.k)?),
            )?);
            let movies = f32s(section(
                "rankerMovieFactors",
                "f32",
                Some(count_of("rankerMovieFactors", n, r.k)?),
            )?);
            finite("rankerUserFactors", &users)?;
            finite("rankerMovieFactors", &movies)?;
            Some((users, movies))
        }
    };
    let posterior = match &h.posterior {
        None => None,
        Some(p) => {
            let kk = count_of("userPriorPrecision", k, k)?;
            let prior = |mean_name: &str, precision_name: &str, bias: f32| -> Result<RowPrior> {
                let mean = f32s(section(mean_name, "f32", Some(k))?);
                finite(mean_name, &mean)?;
                let precision = f32s(section(precision_name, "f32", Some(kk))?);
                finite(precision_name, &precision)?;
                Ok(RowPrior::new(mean, precision, bias))
            };
            let variance = |name: &str, count: usize| -> Result<Vec<f32>> {
                let values = f32s(section(name, "f32", Some(count))?);
                if let Some(i) = values.iter().position(|v| !(within_bound(*v) && *v >= 0.0)) {
                    return Err(bad(format!(
                        "section '{name}' holds {} at {i}: a variance is a number from 0 to {MAX_ABS_VALUE}",
                        values[i]
                    )));
                }
                Ok(values)
            };
            Some(Posterior {
                noise_precision: p.noise_precision,
                users: prior("userPriorMean", "userPriorPrecision", p.user_bias_precision)?,
                movies: prior(
                    "moviePriorMean",
                    "moviePriorPrecision",
                    p.movie_bias_precision,
                )?,
                samples: p.samples,
                user_factor_variance: variance(
                    "userFactorVariance",
                    count_of("userFactorVariance", m, k)?,
                )?,
                user_bias_variance: variance("userBiasVariance", m)?,
                movie_factor_variance: variance(
                    "movieFactorVariance",
                    count_of("movieFactorVariance", n, k)?,
                )?,
                movie_bias_variance: variance("movieBiasVariance", n)?,
            })
        }
    };
    let mut config = h.config;
    if h.ranker.is_none() {
        // Files written before rankers existed have no `ranker` key; the config default has one.
        config.ranker = None;
    } else if config.ranker.is_none() {
        return Err(bad("the file has a ranker but its config has none"));
    }
    let float_section = |name: &str, count: usize| -> Result<Vec<f32>> {
        let values = f32s(section(name, "f32", Some(count))?);
        finite(name, &values)?;
        Ok(values)
    };
    let genre_factors = f32s(genre_factors);
    finite("genreFactors", &genre_factors)?;
    let seen_values = float_section("seenValues", nnz)?;
    let mut model = Model {
        config,
        k,
        mu: h.mu,
        user_factors: float_section("userFactors", count_of("userFactors", m, k)?)?.into(),
        user_bias: float_section("userBias", m)?,
        item_factors: float_section("movieFactors", count_of("movieFactors", n, k)?)?.into(),
        item_bias: float_section("movieBias", n)?,
        genre_factors,
        users: Arc::new(users),
        items: Arc::new(items),
        catalog: Arc::new(catalog),
        seen: Arc::new(Csr {
            indptr,
            indices,
            values: Values::new(seen_values),
            ncols: n,
        }),
        history: epoch_stats(h.history),
        ranker: None,
        posterior: posterior.map(Arc::new),
    };
    if let (Some(r), Some((user_factors, item_factors))) = (h.ranker, ranker) {
        model.ranker = Some(Arc::new(Model {
            config: r.config,
            k: r.k,
            mu: 0.0,
            user_factors: user_factors.into(),
            user_bias: vec![0.0; m],
            item_factors: item_factors.into(),
            item_bias: vec![0.0; n],
            genre_factors: Vec::new(),
            users: model.users.clone(),
            items: model.items.clone(),
            catalog: model.catalog.clone(),
            seen: model.seen.clone(),
            history: epoch_stats(r.history),
            ranker: None,
            posterior: None,
        }));
    }
    Ok(model)
}
