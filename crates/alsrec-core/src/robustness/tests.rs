//! Seeded mutations of real model files, checksums recomputed so the parser's checks (not the
//! CRC) must catch them: every mutant is refused with a coded error or answers finitely, and
//! nothing panics. The same mutants in more volume are what `fuzz/` explores without a seed.
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde_json::Value;

use crate::als::{self, epochs::TrainHooks};
use crate::data::catalog::Catalog;
use crate::data::dataset::{Dataset, Triplets};
use crate::data::ids::IdMap;
use crate::data::report::LoadReport;
use crate::io::checksum::crc32c;
use crate::model::config::{ModelKind, RankerConfig, TrainConfig};
use crate::model::file as modelfile;
use crate::robustness::{exercise_catalog, exercise_model_file, exercise_ratings, Verdict};

const PREAMBLE: usize = 24;

/// 30 users × 24 movies with titles (two series), genres and timestamps.
fn small_dataset() -> Dataset {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let mut catalog = Catalog::new();
    let genres = ["Action", "Comedy", "Drama"];
    for i in 0..24i64 {
        let title = if i < 6 {
            format!("Saga Alpha {} ({})", i + 1, 1990 + i)
        } else {
            format!("Film {} ({})", char::from(b'a' + i as u8), 1990 + i)
        };
        catalog.push(100 + i, title, &[genres[(i % 3) as usize]]);
    }
    let (mut users, mut items) = (IdMap::new(), IdMap::new());
    let mut t = Triplets::default();
    for u in 0..30i64 {
        let uu = users.intern(u + 1);
        for i in 0..24i64 {
            if rng.random::<f32>() < 0.4 {
                let r = (rng.random_range(1..=10) as f32) / 2.0;
                t.push(
                    uu,
                    items.intern(100 + i),
                    r,
                    Some(1_600_000_000 + u * 1000 + i),
                );
            }
        }
    }
    Dataset::new(
        Arc::new(users),
        Arc::new(items),
        Arc::new(catalog),
        t,
        LoadReport::default(),
    )
}

fn model_files() -> Vec<Vec<u8>> {
    let data = small_dataset();
    let small = |model: ModelKind| TrainConfig {
        factors: 3,
        epochs: 2,
        threads: Some(1),
        ..TrainConfig::defaults_for(model)
    };
    let with_ranker = TrainConfig {
        ranker: Some(RankerConfig {
            factors: 2,
            epochs: 2,
            ..RankerConfig::default()
        }),
        ..small(ModelKind::Genre)
    };
    [
        with_ranker,
        small(ModelKind::Implicit),
        small(ModelKind::Bias),
        small(ModelKind::Popular),
        TrainConfig {
            ranker: None,
            ..small(ModelKind::Biased)
        },
    ]
    .iter()
    .map(|c| {
        let model = als::train(&data, c, TrainHooks::default()).unwrap();
        modelfile::encode(&model).unwrap()
    })
    .collect()
}

/// Sets the total length and the CRC to match the bytes.
fn seal(mut b: Vec<u8>) -> Vec<u8> {
    if b.len() < PREAMBLE + 4 {
        return b;
    }
    let total = b.len() as u64;
    b[16..24].copy_from_slice(&total.to_le_bytes());
    let end = b.len() - 4;
    let crc = crc32c(&b[..end]);
    b[end..].copy_from_slice(&crc.to_le_bytes());
    b
}

fn data_start(b: &[u8]) -> usize {
    let header_len = u32::from_le_bytes(b[12..16].try_into().unwrap()) as usize;
    (PREAMBLE + header_len).next_multiple_of(8).max(PREAMBLE)
}

/// Every path into a JSON value (as pointers), objects' keys and arrays' elements.
fn paths(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                paths(
                    x,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate().take(40) {
                paths(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn interesting(rng: &mut Xoshiro256PlusPlus, old: &Value) -> Value {
    let numbers: [f64; 14] = [
        0.0,
        1.0,
        -1.0,
        2.0,
        255.0,
        65_536.0,
        4_294_967_295.0,
        4_294_967_296.0,
        2_305_843_009_213_693_952.0, // 2^61
        18_446_744_073_709_551_615.0,
        1e30,
        -0.5,
        0.5,
        1e-30,
    ];
    match rng.random_range(0..10) {
        0 => Value::Null,
        1 => Value::String("x".into()),
        2 => Value::Array(Vec::new()),
        3 => Value::Bool(true),
        4 => match old.as_f64() {
            Some(x) => serde_json::json!(x + if rng.random() { 1.0 } else { -1.0 }),
            None => Value::Object(Default::default()),
        },
        5 => match old.as_u64() {
            Some(x) => serde_json::json!(x.saturating_mul(2)),
            None => serde_json::json!(0),
        },
        _ => {
            let x = numbers[rng.random_range(0..numbers.len())];
            if x.fract() == 0.0 && x.abs() < 1.8e19 {
                if x >= 0.0 {
                    serde_json::json!(x as u64)
                } else {
                    serde_json::json!(x as i64)
                }
            } else {
                serde_json::json!(x)
            }
        }
    }
}

/// One mutant of `file`, or None when the mutation does not apply.
fn mutate(rng: &mut Xoshiro256PlusPlus, file: &[u8]) -> Option<Vec<u8>> {
    let start = data_start(file);
    let header_len = u32::from_le_bytes(file[12..16].try_into().unwrap()) as usize;
    match rng.random_range(0..10) {
        // The header: one value replaced or one key dropped, re-serialized into its space.
        0..=5 => {
            let mut h: Value =
                serde_json::from_slice(&file[PREAMBLE..PREAMBLE + header_len]).ok()?;
            let mut all = Vec::new();
            paths(&h, String::new(), &mut all);
            let path = all[rng.random_range(1..all.len())].clone();
            if rng.random_range(0..6) == 0 {
                let (parent, key) = path.rsplit_once('/')?;
                match h.pointer_mut(parent)? {
                    Value::Object(m) => {
                        m.remove(key);
                    }
                    Value::Array(a) => {
                        let i: usize = key.parse().ok()?;
                        if i < a.len() {
                            a.remove(i);
                        }
                    }
                    _ => return None,
                }
            } else {
                let slot = h.pointer_mut(&path)?;
                *slot = interesting(rng, slot);
            }
            let json = serde_json::to_vec(&h).ok()?;
            let first_section =
                h["sections"][0]["offset"].as_u64().unwrap_or(start as u64) as usize;
            let room = first_section.min(file.len()).saturating_sub(PREAMBLE);
            if json.len() > room {
                return None;
            }
            let mut b = file.to_vec();
            b[PREAMBLE..PREAMBLE + room].fill(b' ');
            b[PREAMBLE..PREAMBLE + json.len()].copy_from_slice(&json);
            b[12..16].copy_from_slice(&(json.len() as u32).to_le_bytes());
            Some(seal(b))
        }
        // The sections: a few bytes, or a special float or integer at an aligned spot.
        6..=8 => {
            let mut b = file.to_vec();
            let end = b.len() - 4;
            if end <= start + 4 {
                return None;
            }
            for _ in 0..rng.random_range(1..4) {
                let at = rng.random_range(start..end - 4) & !3;
                let word: u32 = match rng.random_range(0..8) {
                    0 => f32::NAN.to_bits(),
                    1 => f32::INFINITY.to_bits(),
                    2 => 1e38f32.to_bits(),
                    3 => u32::MAX,
                    4 => 0,
                    5 => rng.random_range(0..64),
                    _ => rng.random(),
                };
                b[at..at + 4].copy_from_slice(&word.to_le_bytes());
            }
            Some(seal(b))
        }
        // The length: cut short or padded, then sealed as if whole.
        _ => {
            let mut b = file.to_vec();
            let end = b.len() - 4;
            if rng.random() {
                b.truncate(rng.random_range(PREAMBLE + 4..=end));
                b.extend_from_slice(&[0; 4]);
            } else {
                b.splice(
                    end..end,
                    std::iter::repeat_n(0u8, 8 * rng.random_range(1..4)),
                );
            }
            Some(seal(b))
        }
    }
}

#[test]
fn mutated_model_files_are_refused_or_answer_finitely() {
    let files = model_files();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(12);
    let (mut refused, mut accepted, mut tried) = (0, 0, 0);
    let mut findings = Vec::new();
    for file in &files {
        assert_eq!(exercise_model_file(file), Ok(Verdict::Accepted));
    }
    while tried < 3000 {
        let file = &files[tried % files.len()];
        let Some(mutant) = mutate(&mut rng, file) else {
            continue;
        };
        tried += 1;
        match catch_unwind(AssertUnwindSafe(|| exercise_model_file(&mutant))) {
            Ok(Ok(Verdict::Refused)) => refused += 1,
            Ok(Ok(Verdict::Accepted)) => accepted += 1,
            Ok(Err(violation)) => findings.push(violation),
            Err(panic) => findings.push(format!(
                "panic: {}",
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            )),
        }
    }
    eprintln!(
        "{tried} mutants: {refused} refused, {accepted} accepted, {} findings",
        findings.len()
    );
    assert!(
        findings.is_empty(),
        "{} findings, e.g. {:?}",
        findings.len(),
        &findings[..findings.len().min(8)]
    );
    assert!(
        refused > 1000 && accepted > 100,
        "{refused} refused, {accepted} accepted"
    );
}

/// The file with its header edited by `f` (re-serialized into the same space) and resealed.
fn edited(file: &[u8], f: impl FnOnce(&mut Value)) -> Vec<u8> {
    let header_len = u32::from_le_bytes(file[12..16].try_into().unwrap()) as usize;
    let mut h: Value = serde_json::from_slice(&file[PREAMBLE..PREAMBLE + header_len]).unwrap();
    f(&mut h);
    let json = serde_json::to_vec(&h).unwrap();
    let room = h["sections"][0]["offset"].as_u64().unwrap() as usize - PREAMBLE;
    assert!(json.len() <= room);
    let mut b = file.to_vec();
    b[PREAMBLE..PREAMBLE + room].fill(b' ');
    b[PREAMBLE..PREAMBLE + json.len()].copy_from_slice(&json);
    b[12..16].copy_from_slice(&(json.len() as u32).to_le_bytes());
    seal(b)
}

/// Where a section starts in a file.
fn offset_of(file: &[u8], name: &str) -> usize {
    let len = u32::from_le_bytes(file[12..16].try_into().unwrap()) as usize;
    let h: Value = serde_json::from_slice(&file[PREAMBLE..PREAMBLE + len]).unwrap();
    let sections = h["sections"].as_array().unwrap();
    let s = sections.iter().find(|s| s["name"] == name).unwrap();
    s["offset"].as_u64().unwrap() as usize
}

fn refusal(bytes: &[u8]) -> String {
    let e = modelfile::decode(bytes).expect_err("refused");
    assert_eq!(
        e.kind,
        crate::error::ErrorKind::BadModelFile,
        "{}",
        e.message
    );
    e.message
}

#[test]
fn crafted_headers_are_refused_naming_the_field() {
    let files = model_files();
    let implicit = &files[1];
    // k = 2^61 or 2^32 with zero users: sections of 0 values, then vectors of k at query time.
    for k in [1u64 << 61, 1 << 32, 65_536, 1 << 20] {
        let b = edited(implicit, |h| {
            h["k"] = k.into();
            h["numUsers"] = 0.into();
        });
        assert!(refusal(&b).contains("'k'"), "k = {k}");
        let b = edited(implicit, |h| {
            h["k"] = k.into();
            h["config"]["factors"] = k.into();
        });
        assert!(refusal(&b).contains("factors"), "k = {k}");
    }
    // A user id repeated.
    let mut b = implicit.clone();
    let at = offset_of(&b, "userIds");
    let first: [u8; 8] = b[at..at + 8].try_into().unwrap();
    b[at + 8..at + 16].copy_from_slice(&first);
    assert!(refusal(&seal(b)).contains("repeated"));
    // A user's seen movies out of order.
    let mut b = implicit.clone();
    let (ptr, idx) = (offset_of(&b, "seenIndptr"), offset_of(&b, "seenIndices"));
    let row_end = u64::from_le_bytes(b[ptr + 8..ptr + 16].try_into().unwrap()) as usize;
    assert!(row_end >= 2, "user 0 rated two films");
    let (x, y) = (idx, idx + 4);
    let (first, second) = (b[x..x + 4].to_vec(), b[y..y + 4].to_vec());
    b[x..x + 4].copy_from_slice(&second);
    b[y..y + 4].copy_from_slice(&first);
    assert!(refusal(&seal(b)).contains("not sorted"));
    // A NaN in a vector.
    let mut b = files[0].clone();
    let v = offset_of(&b, "movieFactors");
    b[v..v + 4].copy_from_slice(&f32::NAN.to_bits().to_le_bytes());
    assert!(refusal(&seal(b)).contains("non-finite"));
    // A finite value so large that norms and scores would overflow to ∞ and NaN.
    let mut b = files[0].clone();
    b[v..v + 4].copy_from_slice(&1e37f32.to_bits().to_le_bytes());
    assert!(refusal(&seal(b)).contains("beyond"));
}

#[test]
fn huge_n_is_clamped_and_huge_batches_refused() {
    use crate::query::options::RecommendOptions;
    use crate::query::stats::QueryStats;
    use crate::runtime::cancel::CancelToken;
    let model = modelfile::decode(&model_files()[0]).unwrap();
    let index = QueryStats::new(&model);
    let o = RecommendOptions {
        n: u32::MAX as usize,
        ..RecommendOptions::default()
    };
    let list = model.recommend(0, &o, &index).unwrap();
    assert!(list.len() <= model.num_items());
    let diverse = RecommendOptions {
        diversity: 0.5,
        ..o.clone()
    };
    assert!(model.recommend(0, &diverse, &index).unwrap().len() <= model.num_items());
    let users: Vec<u32> = (0..model.num_users() as u32).collect();
    let many = model
        .recommend_many(&users, &o, &index, &CancelToken::new())
        .unwrap();
    assert_eq!(many.items.len(), users.len() * model.num_items());
    let lots = vec![0u32; crate::query::options::MAX_BATCH_CELLS / model.num_items() + 1];
    let e = model
        .recommend_many(&lots, &o, &index, &CancelToken::new())
        .unwrap_err();
    assert!(e.message.contains("list entries"), "{}", e.message);
    assert!(model
        .similar_items(0, usize::MAX, &Default::default(), &index)
        .is_ok());
}

#[test]
fn partial_fit_applies_the_checks_of_ingest_and_fold_in() {
    use crate::foldin::partial_fit::NewRatings;
    let model = modelfile::decode(&model_files()[0]).unwrap();
    let one = |user: i64, movie: i64, rating: f32| NewRatings {
        user_ids: vec![user],
        movie_ids: vec![movie],
        ratings: vec![rating],
    };
    for (bad, needle) in [
        (one(1, 100, 9.0), "outside the model's rating scale"),
        (one(1, 100, -3.0), "outside the model's rating scale"),
        (one(1, 100, 1e30), "outside the model's rating scale"),
        (one(1, 100, f32::NAN), "not a finite number"),
        (one(-1, 100, 4.0), "userIds[0] = -1"),
        (one(1, 1 << 60, 4.0), "movieIds[0]"),
    ] {
        let e = model.partial_fit(&bad).unwrap_err();
        assert_eq!(e.kind, crate::error::ErrorKind::InvalidArgument);
        assert!(e.message.contains(needle), "{}", e.message);
    }
    let fitted = model.partial_fit(&one(77, 100, 4.5)).unwrap();
    let index = crate::query::stats::QueryStats::new(&fitted);
    assert_eq!(
        index.rating_range,
        crate::query::stats::QueryStats::new(&model).rating_range
    );
}

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

/// Writes the model-file seeds of `fuzz/corpus/model_file` (run by hand with `--ignored` when
/// the format changes; the files are small, synthetic and committed).
#[test]
#[ignore]
fn write_model_seed_corpus() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/model_file");
    for (j, file) in model_files().iter().enumerate() {
        std::fs::write(dir.join(format!("seed-{j}.alsrec")), file).unwrap();
    }
}

#[test]
fn the_fuzz_corpus_replays_cleanly() {
    let models = corpus("model_file");
    assert!(models.len() >= 5);
    for (name, bytes) in models {
        assert_eq!(exercise_model_file(&bytes), Ok(Verdict::Accepted), "{name}");
    }
    for (name, bytes) in corpus("ratings") {
        assert!(
            exercise_ratings(&bytes).is_ok(),
            "{name}: {:?}",
            exercise_ratings(&bytes)
        );
    }
    for (name, bytes) in corpus("catalog") {
        assert_eq!(exercise_catalog(&bytes), Ok(Verdict::Accepted), "{name}");
    }
}

/// Byte-level mutations of a text seed: flips, delimiters and numbers spliced in, lines cut
/// or repeated.
fn mutate_text(rng: &mut Xoshiro256PlusPlus, seed: &[u8]) -> Vec<u8> {
    let mut b = seed.to_vec();
    const SPLICES: [&[u8]; 14] = [
        b",",
        b"::",
        b"\t",
        b"|",
        b"\n",
        b"\r\n",
        b"\"",
        b"-1",
        b"1e30",
        b"NaN",
        b"99999999999999999999",
        b"4.5",
        b"\xff\xfe",
        b"(no genres listed)",
    ];
    for _ in 0..rng.random_range(1..5) {
        let at = rng.random_range(0..=b.len());
        match rng.random_range(0..4) {
            0 if !b.is_empty() => {
                let i = rng.random_range(0..b.len());
                b[i] ^= 1 << rng.random_range(0..8);
            }
            1 => {
                let s = SPLICES[rng.random_range(0..SPLICES.len())];
                b.splice(at..at, s.iter().copied());
            }
            2 if !b.is_empty() => {
                let end = (at + rng.random_range(1..20)).min(b.len());
                b.drain(at.min(end)..end);
            }
            _ => {
                let copy = b[at..(at + 40).min(b.len())].to_vec();
                b.splice(at..at, copy);
            }
        }
    }
    b
}

#[test]
fn mutated_ratings_and_catalog_files_are_refused_or_load_consistently() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(99);
    for (target, exercise) in [
        (
            "ratings",
            exercise_ratings as fn(&[u8]) -> Result<Verdict, String>,
        ),
        ("catalog", exercise_catalog),
    ] {
        let seeds = corpus(target);
        let (mut refused, mut accepted) = (0, 0);
        for j in 0..400 {
            let mutant = mutate_text(&mut rng, &seeds[j % seeds.len()].1);
            match catch_unwind(AssertUnwindSafe(|| exercise(&mutant))) {
                Ok(Ok(Verdict::Refused)) => refused += 1,
                Ok(Ok(Verdict::Accepted)) => accepted += 1,
                Ok(Err(v)) => panic!("{target}: {v} on {:?}", String::from_utf8_lossy(&mutant)),
                Err(_) => panic!("{target}: panic on {:?}", String::from_utf8_lossy(&mutant)),
            }
        }
        eprintln!("{target}: 400 mutants, {refused} refused, {accepted} accepted");
        assert!(accepted > 20, "{target}: {accepted} accepted");
    }
}

/// The loaders open files through `io::files::open_regular`: a FIFO where a ratings file or a
/// model file should be is refused at once instead of blocking the call forever.
#[cfg(unix)]
#[test]
fn loaders_refuse_fifos_without_blocking() {
    let dir = std::env::temp_dir().join(format!("alsrec-fifo-loaders-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("ratings.csv");
    let _ = std::fs::remove_file(&fifo);
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let e = crate::ingest::movielens::load_movielens(&dir, &Default::default()).unwrap_err();
    assert!(e.message.contains("not a regular file"), "{}", e.message);
    let e = modelfile::load(&fifo).unwrap_err();
    assert!(e.message.contains("not a regular file"), "{}", e.message);
    std::fs::remove_dir_all(&dir).unwrap();
}
