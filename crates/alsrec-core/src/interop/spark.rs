//! Spark MLlib `ALSModel` folders, written from and read into alsrec models.
//!
//! A saved `ALSModel` (Spark's `ml/recommendation/ALS.scala`, `ml/util/ReadWrite.scala`) is
//!
//! ```text
//! metadata/part-*      one JSON line: class, timestamp, sparkVersion, uid, paramMap,
//!                      defaultParamMap, rank
//! userFactors/part-*   Parquet: id int, features array<float> (length rank)
//! itemFactors/part-*   the same for items
//! ```
//!
//! Spark predicts the plain dot product of the two vectors. alsrec's explicit models predict
//! μ + b_u + c_n + u·v, which is exactly the dot product of u′ = [u, b_u, 1] and
//! v′ = [v, 1, μ + c_n]: those models are written with rank k + 2 (the *augmented* layout).
//! Implicit models (Spark implicit predicts x·y too) are written as they are (*plain*).
//! Beside Spark's folders, `alsrec.json` records the layout, μ, the config and the history,
//! so that importing the folder gives back the same model; Spark ignores the file. A folder
//! without it (a model trained in Spark) imports as plain.
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::data::catalog::Catalog;
use crate::data::ids::IdMap;
use crate::data::sparse::Csr;
use crate::error::{Error, Result};
use crate::interop::folder::write_folder_atomic;
use crate::interop::parquet::{read_factors, write_factors, Expect, FactorTable};
use crate::io::files::open_regular;
use crate::model::config::{ModelKind, TrainConfig};
use crate::model::factors::Factors;
use crate::model::{EpochStats, Model};
use crate::Dataset;

pub const ALS_MODEL_CLASS: &str = "org.apache.spark.ml.recommendation.ALSModel";
/// The Spark version written into the metadata (the format is that of Spark 2.4 to 4.x).
pub const SPARK_VERSION: &str = "4.0.0";
/// The file beside Spark's folders that lets alsrec import its own exports exactly.
pub const SIDECAR: &str = "alsrec.json";
/// The largest rank read: alsrec's largest k (1024) plus the two columns of the bias layout.
pub const MAX_RANK: usize = 1026;
/// Part files read per factor folder, at most.
const MAX_PARTS: usize = 100_000;
/// Bytes of metadata and sidecar read, at most (real ones are about a kilobyte; the sidecar
/// holds a history of at most 10,000 epochs).
const MAX_JSON: u64 = 8 << 20;
/// Spark's regParam default, the fold-in regularization of a plain model without one given.
pub const SPARK_REG_PARAM: f32 = 0.1;
/// γ of a plain model's config: it holds the bias of a folded-in row at 0, as Spark has none.
const NO_BIAS_GAMMA: f32 = 1e6;

/// How the factors of a folder map to an alsrec model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// rank = k: the vectors are the model's (Spark models; alsrec implicit models).
    Plain,
    /// rank = k + 2: u′ = [u, b_u, 1], v′ = [v, 1, μ + c_n] (alsrec explicit models, and the
    /// models the bundled Spark job trains).
    Augmented,
}

/// One epoch of the sidecar's history ([`EpochStats`], with NaN written as null).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SidecarEpoch {
    pub epoch: usize,
    pub train_rmse: Option<f64>,
    pub train_mae: Option<f64>,
    pub test_rmse: Option<f64>,
    pub test_mae: Option<f64>,
    pub loss: Option<f64>,
    pub seconds: f64,
}

/// `alsrec.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sidecar {
    /// Always "alsrec-spark".
    pub format: String,
    pub version: u32,
    pub layout: Layout,
    /// k of the model (the rank in Spark is k + 2 in the augmented layout).
    pub k: usize,
    pub mu: f32,
    /// The config of the model as it is imported (an explicit one, `weightedRegularization`
    /// for models trained in Spark); its `factors` is k.
    pub config: TrainConfig,
    #[serde(default)]
    pub history: Vec<SidecarEpoch>,
    /// What trained it: "alsrec" or "spark".
    #[serde(default)]
    pub engine: Option<String>,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SparkExport {
    pub rank: usize,
    pub layout: Layout,
    pub users: usize,
    pub movies: usize,
}

fn spark_id(kind: &str, id: i64) -> Result<i32> {
    i32::try_from(id).map_err(|_| {
        Error::invalid_data(format!(
            "{kind} id {id} does not fit Spark's 32-bit ids (-2147483648 to 2147483647): Spark's ALS casts ids to int"
        ))
    })
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::io(path, &e)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = std::fs::File::create(path).map_err(io_err(path))?;
    f.write_all(bytes).map_err(io_err(path))?;
    f.sync_all().map_err(io_err(path))
}

/// The metadata line Spark's `DefaultParamsWriter` writes for an `ALSModel`.
pub fn metadata_json(rank: usize, uid: &str, timestamp_ms: u128) -> String {
    serde_json::json!({
        "class": ALS_MODEL_CLASS,
        "timestamp": timestamp_ms as u64,
        "sparkVersion": SPARK_VERSION,
        "uid": uid,
        "paramMap": { "blockSize": 4096 },
        "defaultParamMap": {
            "coldStartStrategy": "nan",
            "predictionCol": "prediction",
            "blockSize": 4096,
            "userCol": "user",
            "itemCol": "item"
        },
        "rank": rank
    })
    .to_string()
}

/// Writes `model` as a Spark `ALSModel` folder at `dir` (atomically; an existing `dir` only
/// when `replace`). Explicit models with biases use the augmented layout, implicit models the
/// plain one; the baselines have no vectors and are refused.
pub fn export_spark(model: &Model, dir: &Path, replace: bool) -> Result<SparkExport> {
    let kind = model.config.model;
    let layout = match kind {
        ModelKind::Implicit => Layout::Plain,
        ModelKind::Bias | ModelKind::Biased | ModelKind::Genre | ModelKind::Bayesian => {
            Layout::Augmented
        }
        ModelKind::Popular | ModelKind::Toprated => {
            return Err(Error::invalid_argument(format!(
                "a '{}' model has no user and movie vectors to export to Spark",
                kind.name()
            )))
        }
    };
    let k = model.k;
    let rank = match layout {
        Layout::Plain => k,
        Layout::Augmented => k + 2,
    };
    let user_ids = model
        .users
        .raw_ids()
        .iter()
        .map(|&id| spark_id("user", id))
        .collect::<Result<Vec<_>>>()?;
    let item_ids = model
        .items
        .raw_ids()
        .iter()
        .map(|&id| spark_id("movie", id))
        .collect::<Result<Vec<_>>>()?;
    let sidecar = Sidecar {
        format: "alsrec-spark".into(),
        version: 1,
        layout,
        k,
        mu: model.mu,
        config: TrainConfig {
            // The genre vectors (and a Bayesian model's posterior) stay behind: the imported
            // model is the biased model with the same vectors and predictions.
            model: if matches!(kind, ModelKind::Genre | ModelKind::Bayesian) {
                ModelKind::Biased
            } else {
                kind
            },
            ranker: None,
            burn_in: 0,
            genre_priors: false,
            tolerance: if kind == ModelKind::Bayesian {
                TrainConfig::default().tolerance
            } else {
                model.config.tolerance
            },
            ..model.config.clone()
        },
        history: model
            .history
            .iter()
            .map(|s| {
                let some = |x: f64| x.is_finite().then_some(x);
                SidecarEpoch {
                    epoch: s.epoch,
                    train_rmse: some(s.train_rmse),
                    train_mae: some(s.train_mae),
                    test_rmse: s.test_rmse,
                    test_mae: s.test_mae,
                    loss: some(s.loss),
                    seconds: s.seconds,
                }
            })
            .collect(),
        engine: Some("alsrec".into()),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let uid = format!("ALS_alsrec{:012x}", now & 0xffff_ffff_ffff);
    write_folder_atomic(dir, replace, |tmp| {
        let meta = tmp.join("metadata");
        std::fs::create_dir(&meta).map_err(io_err(&meta))?;
        write_file(
            &meta.join("part-00000"),
            format!("{}\n", metadata_json(rank, &uid, now)).as_bytes(),
        )?;
        write_file(&meta.join("_SUCCESS"), b"")?;
        let side = |u: bool, r: usize, out: &mut Vec<f32>| {
            let (vecs, bias) = if u {
                (model.user_vector(r), model.user_bias[r])
            } else {
                (model.item_vector(r), model.item_bias[r])
            };
            out.extend_from_slice(vecs);
            if layout == Layout::Augmented {
                if u {
                    out.extend_from_slice(&[bias, 1.0]);
                } else {
                    out.extend_from_slice(&[1.0, model.mu + bias]);
                }
            }
        };
        for (folder, ids, users) in [
            ("userFactors", &user_ids, true),
            ("itemFactors", &item_ids, false),
        ] {
            let d = tmp.join(folder);
            std::fs::create_dir(&d).map_err(io_err(&d))?;
            let path = d.join("part-00000-alsrec.snappy.parquet");
            let file = std::fs::File::create(&path).map_err(io_err(&path))?;
            let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
            write_factors(&mut w, ids, rank, |r, out| side(users, r, out)).map_err(|e| {
                Error::new(crate::ErrorKind::Io, format!("{}: {e}", path.display()))
            })?;
            let file = w.into_inner().map_err(|e| Error::io(&path, e.error()))?;
            file.sync_all().map_err(io_err(&path))?;
            write_file(&d.join("_SUCCESS"), b"")?;
        }
        let json = serde_json::to_string_pretty(&sidecar)
            .map_err(|e| Error::internal(format!("sidecar: {e}")))?;
        write_file(&tmp.join(SIDECAR), json.as_bytes())
    })?;
    Ok(SparkExport {
        rank,
        layout,
        users: user_ids.len(),
        movies: item_ids.len(),
    })
}

/// Options of [`import_spark`].
#[derive(Debug, Clone, Default)]
pub struct ImportOptions<'a> {
    /// The training ratings: they mark seen movies and feed explanations and `partialFit`.
    /// Ratings of users or movies the folder has no vector for are dropped (and counted).
    pub ratings: Option<&'a Dataset>,
    /// A catalog file (movies.csv, movies.dat, u.item) for titles and genres; the ratings'
    /// catalog when absent.
    pub movies: Option<PathBuf>,
    /// A plain folder's model is implicit (Spark's `implicitPrefs`), which the metadata does
    /// not record.
    pub implicit: bool,
    /// Spark's regParam for a plain folder (fold-in regularizes by regParam · n_ratings).
    pub reg_param: Option<f32>,
    /// Spark's alpha for a plain implicit folder.
    pub alpha: Option<f32>,
}

/// What an import read.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub rank: usize,
    pub layout: Layout,
    pub users: usize,
    pub movies: usize,
    pub part_files: usize,
    /// Ratings kept as the model's seen ratings.
    pub ratings: usize,
    /// Ratings dropped: their user or movie has no vector in the folder.
    pub ratings_dropped: usize,
    /// The sidecar's engine ("alsrec", "spark") or null for a folder Spark wrote alone.
    pub engine: Option<String>,
}

/// Up to `MAX_JSON` bytes of a regular file, as UTF-8.
fn read_small(path: &Path) -> Result<String> {
    let file = open_regular(path)?;
    let mut s = String::new();
    file.take(MAX_JSON + 1)
        .read_to_string(&mut s)
        .map_err(|e| Error::invalid_data(format!("{}: {e}", path.display())))?;
    if s.len() as u64 > MAX_JSON {
        return Err(Error::invalid_data(format!(
            "{}: larger than {} MiB; not a Spark metadata file",
            path.display(),
            MAX_JSON >> 20
        )));
    }
    Ok(s)
}

/// The `part-*` files of a folder (not hidden checksums or `_SUCCESS`), sorted by name.
pub fn part_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(dir).map_err(|e| {
        Error::invalid_data(format!(
            "{}: {e}; a Spark ALSModel folder holds metadata/, userFactors/ and itemFactors/",
            dir.display()
        ))
    })?;
    if !meta.is_dir() {
        return Err(Error::invalid_data(format!(
            "{} is not a folder; a Spark ALSModel folder holds metadata/, userFactors/ and itemFactors/",
            dir.display()
        )));
    }
    let mut parts = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        if entry.file_name().to_string_lossy().starts_with("part-") {
            parts.push(entry.path());
            if parts.len() > MAX_PARTS {
                return Err(Error::invalid_data(format!(
                    "{}: more than {MAX_PARTS} part files",
                    dir.display()
                )));
            }
        }
    }
    parts.sort();
    if parts.is_empty() {
        return Err(Error::invalid_data(format!(
            "{}: no part-* file",
            dir.display()
        )));
    }
    Ok(parts)
}

/// The metadata of a folder: (rank, the JSON).
pub fn read_metadata(dir: &Path) -> Result<(usize, serde_json::Value)> {
    let meta_dir = dir.join("metadata");
    let mut line = None;
    for part in part_files(&meta_dir)? {
        let text = read_small(&part)?;
        if let Some(l) = text.lines().find(|l| !l.trim().is_empty()) {
            line = Some((part, l.to_string()));
            break;
        }
    }
    let (part, line) =
        line.ok_or_else(|| Error::invalid_data(format!("{}: empty", meta_dir.display())))?;
    let bad = |m: String| Error::invalid_data(format!("{}: {m}", part.display()));
    let json: serde_json::Value =
        serde_json::from_str(&line).map_err(|e| bad(format!("not JSON: {e}")))?;
    let class = json.get("class").and_then(|c| c.as_str()).unwrap_or("");
    if class != ALS_MODEL_CLASS {
        return Err(bad(format!(
            "class is {:?}, not {ALS_MODEL_CLASS}: not a saved ALSModel",
            json.get("class").map(|c| c.to_string()).unwrap_or_default()
        )));
    }
    let rank = json
        .get("rank")
        .and_then(|r| r.as_u64())
        .filter(|&r| (1..=MAX_RANK as u64).contains(&r))
        .ok_or_else(|| {
            bad(format!(
                "rank must be an integer from 1 to {MAX_RANK} (got {})",
                json.get("rank")
                    .map(|r| r.to_string())
                    .unwrap_or("none".into())
            ))
        })? as usize;
    Ok((rank, json))
}

/// Reads every part file of a factor folder, sorted by id, refusing duplicate ids.
fn read_side(dir: &Path, rank: usize) -> Result<(FactorTable, usize)> {
    let parts = part_files(dir)?;
    let mut table = FactorTable::default();
    let expect = Expect {
        rank,
        max_rows: 1 << 32,
    };
    for p in &parts {
        read_factors(p, expect, &mut table)?;
    }
    if table.values.iter().any(|x| !x.is_finite()) {
        return Err(Error::invalid_data(format!(
            "{}: a vector holds NaN or an infinite value",
            dir.display()
        )));
    }
    let mut order: Vec<u32> = (0..table.ids.len() as u32).collect();
    order.sort_unstable_by_key(|&r| table.ids[r as usize]);
    if let Some(w) = order
        .windows(2)
        .find(|w| table.ids[w[0] as usize] == table.ids[w[1] as usize])
    {
        return Err(Error::invalid_data(format!(
            "{}: id {} has two vectors",
            dir.display(),
            table.ids[w[0] as usize]
        )));
    }
    let mut sorted = FactorTable {
        ids: Vec::with_capacity(order.len()),
        values: Vec::with_capacity(table.values.len()),
    };
    for &r in &order {
        let r = r as usize;
        sorted.ids.push(table.ids[r]);
        sorted
            .values
            .extend_from_slice(&table.values[r * rank..(r + 1) * rank]);
    }
    Ok((sorted, parts.len()))
}

fn read_sidecar(dir: &Path) -> Result<Option<Sidecar>> {
    let path = dir.join(SIDECAR);
    if std::fs::symlink_metadata(&path).is_err() {
        return Ok(None);
    }
    let text = read_small(&path)?;
    let s: Sidecar = serde_json::from_str(&text)
        .map_err(|e| Error::invalid_data(format!("{}: {e}", path.display())))?;
    if s.format != "alsrec-spark" || s.version != 1 {
        return Err(Error::invalid_data(format!(
            "{}: not an alsrec-spark sidecar of version 1",
            path.display()
        )));
    }
    s.config
        .validate()
        .map_err(|e| Error::invalid_data(format!("{}: {}", path.display(), e.message)))?;
    if !s.mu.is_finite() || s.history.len() > 10_000 {
        return Err(Error::invalid_data(format!(
            "{}: μ is not finite or the history is too long",
            path.display()
        )));
    }
    Ok(Some(s))
}

/// Splits an augmented table into vectors and biases, checking the constant column.
fn split_augmented(
    dir: &Path,
    t: &FactorTable,
    k: usize,
    users: bool,
    mu: f32,
) -> Result<(Vec<f32>, Vec<f32>)> {
    let rank = k + 2;
    let mut vecs = Vec::with_capacity(t.ids.len() * k);
    let mut bias = Vec::with_capacity(t.ids.len());
    for (r, &id) in t.ids.iter().enumerate() {
        let row = &t.values[r * rank..(r + 1) * rank];
        let (one, b) = if users {
            (row[k + 1], row[k])
        } else {
            (row[k], row[k + 1] - mu)
        };
        if one != 1.0 {
            return Err(Error::invalid_data(format!(
                "{}: id {id} does not have the 1 of alsrec's bias layout in column {} (found {one})",
                dir.display(),
                if users { k + 1 } else { k }
            )));
        }
        vecs.extend_from_slice(&row[..k]);
        bias.push(b);
    }
    Ok((vecs, bias))
}

/// Reads a Spark `ALSModel` folder (any number of part files) into an alsrec model.
pub fn import_spark(dir: &Path, options: &ImportOptions) -> Result<(Model, ImportReport)> {
    let (rank, _meta) = read_metadata(dir)?;
    let sidecar = read_sidecar(dir)?;
    let (users_t, user_parts) = read_side(&dir.join("userFactors"), rank)?;
    let (items_t, item_parts) = read_side(&dir.join("itemFactors"), rank)?;
    let (layout, k, mu, config, history, engine) = match &sidecar {
        Some(s) => {
            let want = match s.layout {
                Layout::Plain => s.k,
                Layout::Augmented => s.k + 2,
            };
            if want != rank || s.config.factors != s.k && s.config.model != ModelKind::Bias {
                return Err(Error::invalid_data(format!(
                    "{}: rank {rank} does not match the {} layout of k = {} in {SIDECAR}",
                    dir.display(),
                    if s.layout == Layout::Plain {
                        "plain"
                    } else {
                        "augmented"
                    },
                    s.k
                )));
            }
            if s.config.model.is_baseline()
                || (s.layout == Layout::Plain) != (s.config.model == ModelKind::Implicit)
            {
                return Err(Error::invalid_data(format!(
                    "{}: a '{}' model cannot have the {:?} layout",
                    dir.display(),
                    s.config.model.name(),
                    s.layout
                )));
            }
            let history = s
                .history
                .iter()
                .map(|e| EpochStats {
                    epoch: e.epoch,
                    train_rmse: e.train_rmse.unwrap_or(f64::NAN),
                    train_mae: e.train_mae.unwrap_or(f64::NAN),
                    test_rmse: e.test_rmse,
                    test_mae: e.test_mae,
                    loss: e.loss.unwrap_or(f64::NAN),
                    seconds: e.seconds,
                    metrics_seconds: None,
                    wall_seconds: None,
                })
                .collect();
            (
                s.layout,
                s.k,
                s.mu,
                s.config.clone(),
                history,
                s.engine.clone(),
            )
        }
        None => {
            let reg = options.reg_param.unwrap_or(SPARK_REG_PARAM);
            let kind = if options.implicit {
                ModelKind::Implicit
            } else {
                ModelKind::Biased
            };
            let config = TrainConfig {
                model: kind,
                factors: rank,
                lambda: 1.0,
                tau: reg,
                gamma: NO_BIAS_GAMMA,
                alpha: options.alpha.unwrap_or(1.0),
                weighted_regularization: !options.implicit,
                ranker: None,
                ..TrainConfig::defaults_for(kind)
            };
            config.validate()?;
            (Layout::Plain, rank, 0.0, config, Vec::new(), None)
        }
    };
    let (uvec, ubias, ivec, ibias) = match layout {
        Layout::Plain => (
            users_t.values.clone(),
            vec![0.0; users_t.ids.len()],
            items_t.values.clone(),
            vec![0.0; items_t.ids.len()],
        ),
        Layout::Augmented => {
            let (u, ub) = split_augmented(&dir.join("userFactors"), &users_t, k, true, mu)?;
            let (i, ib) = split_augmented(&dir.join("itemFactors"), &items_t, k, false, mu)?;
            (u, ub, i, ib)
        }
    };
    let users = Arc::new(IdMap::from_raw(
        users_t.ids.iter().map(|&x| x as i64).collect(),
    ));
    let items = Arc::new(IdMap::from_raw(
        items_t.ids.iter().map(|&x| x as i64).collect(),
    ));
    // Seen ratings, in the model's indices.
    let (mut rows, mut cols, mut vals) = (Vec::new(), Vec::new(), Vec::new());
    let mut dropped = 0usize;
    if let Some(data) = options.ratings {
        let t = &data.triplets();
        rows.reserve(t.len());
        cols.reserve(t.len());
        vals.reserve(t.len());
        for ((&u, &i), &r) in t.users.iter().zip(&t.items).zip(&t.ratings) {
            match (
                users.index(data.users.raw(u)),
                items.index(data.items.raw(i)),
            ) {
                (Some(u), Some(i)) => {
                    rows.push(u);
                    cols.push(i);
                    vals.push(r);
                }
                _ => dropped += 1,
            }
        }
    }
    let seen = Csr::from_triplets(users.len(), items.len(), &rows, &cols, &vals);
    let catalog = match &options.movies {
        Some(path) => Arc::new(crate::ingest::read_catalog_file(path)?),
        None => options
            .ratings
            .map(|d| d.catalog.clone())
            .unwrap_or_else(|| Arc::new(Catalog::new())),
    };
    let report = ImportReport {
        rank,
        layout,
        users: users.len(),
        movies: items.len(),
        part_files: user_parts + item_parts,
        ratings: vals.len(),
        ratings_dropped: dropped,
        engine,
    };
    let model = Model {
        config,
        k,
        mu,
        user_factors: Factors::from(uvec),
        user_bias: ubias,
        item_factors: Factors::from(ivec),
        item_bias: ibias,
        genre_factors: Vec::new(),
        users,
        items,
        catalog,
        seen: Arc::new(seen),
        history,
        ranker: None,
        posterior: None,
    };
    Ok((model, report))
}

/// (RMSE, MAE) of `model` on `data` matched by raw ids, for a model whose ids differ from the
/// data's (an imported one): a user or movie the model has no vector for contributes what the
/// model knows of the pair (μ and the other side's bias), as Spark with `coldStartStrategy`
/// "nan" would not predict at all. Explicit models only.
pub fn errors_by_id(model: &Model, data: &Dataset) -> (f64, f64) {
    let t = &data.triplets();
    let (mut se, mut ae) = (0f64, 0f64);
    for ((&u, &i), &r) in t.users.iter().zip(&t.items).zip(&t.ratings) {
        let mu = model.users.index(data.users.raw(u)).map(|x| x as usize);
        let mi = model.items.index(data.items.raw(i)).map(|x| x as usize);
        let p = match (mu, mi) {
            (Some(u), Some(i)) => model.predict(u, i),
            (Some(u), None) => model.mu + model.user_bias[u],
            (None, Some(i)) => model.mu + model.item_bias[i],
            (None, None) => model.mu,
        };
        let e = (r - p) as f64;
        se += e * e;
        ae += e.abs();
    }
    let n = t.len().max(1) as f64;
    ((se / n).sqrt(), ae / n)
}

/// The Spark run of an alsrec training config (docs/spark.md, "The mapping").
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SparkPlan {
    /// The config as resolved (defaults of its kind filled in), as the job reads it.
    pub config: TrainConfig,
    /// MLlib's regParam: τ/λ with `weightedRegularization` (the same objective); otherwise
    /// τ/(λ n̄) with n̄ the mean number of ratings of a user, so a user with the typical count
    /// is regularized as alsrec regularizes every user.
    pub reg_param: f32,
    /// d in the biases' damped means Σ residual / (n + d): γ/λ.
    pub bias_damping: f32,
    pub notes: Vec<String>,
}

/// Maps a training config to MLlib ALS on `train`.
pub fn spark_plan(config: &TrainConfig, train: &Dataset) -> Result<SparkPlan> {
    config.validate()?;
    let mut notes = Vec::new();
    let mut config = config.clone();
    match config.model {
        ModelKind::Biased | ModelKind::Implicit => {}
        ModelKind::Genre => {
            notes.push(
                "genre: MLlib has no genre prior; Spark trains the biased model (the genre vectors are alsrec's own)".to_string(),
            );
            config.model = ModelKind::Biased;
        }
        other => {
            return Err(Error::invalid_argument(format!(
                "the '{}' model has no vectors for MLlib ALS to fit; train it with alsrec's engine",
                other.name()
            )))
        }
    }
    if config.ranker.take().is_some() {
        notes.push(
            "ranker: not trained on Spark; the imported model ranks by predicted rating"
                .to_string(),
        );
    }
    if config.patience.is_some() {
        notes.push("patience: MLlib ALS runs every iteration; epochs is maxIter".to_string());
        config.patience = None;
    }
    let users = train.num_active_users().max(1) as f32;
    let mean_count = train.num_ratings() as f32 / users;
    let reg_param = if config.weighted_regularization || config.model == ModelKind::Implicit {
        config.tau / config.lambda
    } else {
        config.tau / (config.lambda * mean_count.max(1.0))
    };
    Ok(SparkPlan {
        reg_param,
        bias_damping: config.gamma / config.lambda,
        config,
        notes,
    })
}
