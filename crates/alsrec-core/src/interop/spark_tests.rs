//! Spark folders: alsrec models round-trip exactly, Spark-shaped folders import, and crafted
//! folders are refused with a coded error (never a panic).
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::als::{self, epochs::TrainHooks};
use crate::data::catalog::Catalog;
use crate::data::dataset::{Dataset, Triplets};
use crate::data::ids::IdMap;
use crate::data::report::LoadReport;
use crate::error::ErrorKind;
use crate::interop::parquet::write_factors;
use crate::interop::spark::{export_spark, import_spark, ImportOptions, Layout, SIDECAR};
use crate::model::config::{ModelKind, TrainConfig};
use crate::model::Model;

fn dataset(user_offset: i64) -> Dataset {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let mut catalog = Catalog::new();
    for i in 0..20i64 {
        catalog.push(
            100 + i,
            format!("Film {i} (2001)"),
            &[["Action", "Drama"][(i % 2) as usize]],
        );
    }
    let (mut users, mut items) = (IdMap::new(), IdMap::new());
    let mut t = Triplets::default();
    for u in 0..25i64 {
        let uu = users.intern(u + user_offset);
        for i in 0..20i64 {
            if rng.random::<f32>() < 0.5 {
                t.push(
                    uu,
                    items.intern(100 + i),
                    rng.random_range(1..=5) as f32,
                    None,
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

fn train(data: &Dataset, kind: ModelKind) -> Model {
    let config = TrainConfig {
        factors: 3,
        epochs: 3,
        threads: Some(1),
        ranker: None,
        burn_in: usize::from(kind == ModelKind::Bayesian),
        ..TrainConfig::defaults_for(kind)
    };
    als::train(data, &config, TrainHooks::default()).unwrap()
}

fn root(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("alsrec-spark-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn spark_dot(dir: &Path, model: &Model, u: usize, i: usize) -> f32 {
    // What Spark computes: the dot product of the exported rows, read back raw.
    let (rank, _) = crate::interop::spark::read_metadata(dir).unwrap();
    let read = |side: &str| {
        let mut t = crate::interop::parquet::FactorTable::default();
        for p in crate::interop::spark::part_files(&dir.join(side)).unwrap() {
            crate::interop::parquet::read_factors(
                &p,
                crate::interop::parquet::Expect {
                    rank,
                    max_rows: 1000,
                },
                &mut t,
            )
            .unwrap();
        }
        t
    };
    let (us, is) = (read("userFactors"), read("itemFactors"));
    let row = |t: &crate::interop::parquet::FactorTable, id: i64| {
        let r = t.ids.iter().position(|&x| x as i64 == id).unwrap();
        t.values[r * rank..(r + 1) * rank].to_vec()
    };
    let a = row(&us, model.users.raw(u as u32));
    let b = row(&is, model.items.raw(i as u32));
    a.iter().zip(&b).map(|(x, y)| x * y).sum()
}

#[test]
fn explicit_and_implicit_models_export_as_spark_predicts_them_and_import_back() {
    let data = dataset(1);
    for kind in [
        ModelKind::Genre,
        ModelKind::Biased,
        ModelKind::Bias,
        ModelKind::Implicit,
        ModelKind::Bayesian,
    ] {
        let model = train(&data, kind);
        let dir = root(kind.name()).join("spark");
        let out = export_spark(&model, &dir, false).unwrap();
        let augmented = kind != ModelKind::Implicit;
        assert_eq!(
            out.layout,
            if augmented {
                Layout::Augmented
            } else {
                Layout::Plain
            }
        );
        assert_eq!(out.rank, model.k + if augmented { 2 } else { 0 });
        let meta = std::fs::read_to_string(dir.join("metadata/part-00000")).unwrap();
        let json: serde_json::Value = serde_json::from_str(meta.trim()).unwrap();
        assert_eq!(json["class"], "org.apache.spark.ml.recommendation.ALSModel");
        assert_eq!(json["rank"], out.rank);
        for key in [
            "timestamp",
            "sparkVersion",
            "uid",
            "paramMap",
            "defaultParamMap",
        ] {
            assert!(json.get(key).is_some(), "{key} missing: {meta}");
        }
        for (u, i) in [(0, 0), (3, 7), (24, 19)] {
            let want = if augmented {
                model.predict(u, i)
            } else {
                crate::kernels::dense::dot(model.user_vector(u), model.item_vector(i))
            };
            assert!(
                (spark_dot(&dir, &model, u, i) - want).abs() < 1e-5,
                "{kind:?}"
            );
        }
        let (back, report) = import_spark(
            &dir,
            &ImportOptions {
                ratings: Some(&data),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(report.ratings, data.num_ratings());
        assert_eq!(report.ratings_dropped, 0);
        assert_eq!(back.k, model.k);
        assert_eq!(back.num_users(), model.num_users());
        for u in 0..model.num_users() {
            let bu = back.users.index(model.users.raw(u as u32)).unwrap() as usize;
            for i in 0..model.num_items() {
                let bi = back.items.index(model.items.raw(i as u32)).unwrap() as usize;
                let (a, b) = if augmented {
                    (model.predict(u, i), back.predict(bu, bi))
                } else {
                    (
                        crate::kernels::dense::dot(model.user_vector(u), model.item_vector(i)),
                        crate::kernels::dense::dot(back.user_vector(bu), back.item_vector(bi)),
                    )
                };
                assert!((a - b).abs() < 1e-5, "{kind:?} {u} {i}: {a} vs {b}");
            }
        }
        assert_eq!(back.seen.nnz(), data.num_ratings());
        assert_eq!(back.history.len(), model.history.len());
        // The output folder is never replaced without being asked.
        let e = export_spark(&model, &dir, false).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgument);
        export_spark(&model, &dir, true).unwrap();
    }
}

#[test]
fn ids_beyond_32_bits_and_baselines_are_refused_on_export() {
    let data = dataset(3_000_000_000);
    let model = train(&data, ModelKind::Biased);
    let dir = root("wide").join("spark");
    let e = export_spark(&model, &dir, false).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidData);
    assert!(
        e.message.contains("3000000000") && e.message.contains("32-bit"),
        "{e}"
    );
    assert!(!dir.exists());
    let popular = train(&dataset(1), ModelKind::Popular);
    let e = export_spark(&popular, &dir, false).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
}

/// A folder as Spark writes one: several part files per side, unsorted ids, no sidecar.
fn spark_folder(dir: &Path, rank: usize, users: &[i32], items: &[i32], meta: Option<String>) {
    for (side, ids) in [("userFactors", users), ("itemFactors", items)] {
        let d = dir.join(side);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("_SUCCESS"), b"").unwrap();
        std::fs::write(d.join(".part-00000.crc"), b"junk").unwrap();
        for (p, chunk) in ids.chunks(3).enumerate() {
            let f = std::fs::File::create(d.join(format!("part-{p:05}-x.snappy.parquet"))).unwrap();
            write_factors(f, chunk, rank, |r, out| {
                let id = chunk[r] as f32;
                out.extend((0..rank).map(|j| (id * 0.1 + j as f32) * 0.01));
            })
            .unwrap();
        }
    }
    let m = dir.join("metadata");
    std::fs::create_dir_all(&m).unwrap();
    let meta = meta.unwrap_or_else(|| crate::interop::spark::metadata_json(rank, "ALS_x", 1));
    std::fs::write(m.join("part-00000-abc-c000.txt"), format!("{meta}\n")).unwrap();
}

#[test]
fn a_folder_spark_wrote_imports_with_fold_in_regularization_scaled_by_counts() {
    let dir = root("plain");
    spark_folder(&dir, 4, &[9, 2, 5, 1, 7, 3, 8], &[40, 10, 30, 20], None);
    let (m, report) = import_spark(
        &dir,
        &ImportOptions {
            reg_param: Some(0.05),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(report.part_files, 3 + 2);
    assert_eq!(report.layout, Layout::Plain);
    assert_eq!(m.users.raw_ids(), &[1, 2, 3, 5, 7, 8, 9]);
    assert_eq!(m.items.raw_ids(), &[10, 20, 30, 40]);
    assert_eq!((m.mu, m.k), (0.0, 4));
    assert!(m.config.weighted_regularization && m.config.tau == 0.05);
    let u = m.users.index(5).unwrap() as usize;
    let i = m.items.index(30).unwrap() as usize;
    let want: f32 = (0..4)
        .map(|j| (0.5 + j as f32) * 0.01 * (3.0 + j as f32) * 0.01)
        .sum();
    assert!((m.predict(u, i) - want).abs() < 1e-7);
}

fn refused(dir: &Path) -> crate::Error {
    let r = std::panic::catch_unwind(|| import_spark(dir, &ImportOptions::default()));
    match r {
        Ok(Err(e)) => e,
        Ok(Ok(_)) => panic!("{} was accepted", dir.display()),
        Err(_) => panic!("{} panicked", dir.display()),
    }
}

#[test]
fn crafted_folders_are_refused_with_a_code_naming_the_problem() {
    let base = root("hostile");
    let case = |name: &str| base.join(name);
    // Not a folder at all, and a folder without metadata.
    let e = refused(&case("absent"));
    assert_eq!(e.kind, ErrorKind::InvalidData);
    std::fs::create_dir_all(case("empty")).unwrap();
    assert!(refused(&case("empty")).message.contains("metadata/"));
    // Wrong class, rank out of range, not JSON, a huge metadata file.
    let cls = r#"{"class":"org.apache.spark.ml.classification.LogisticRegressionModel","rank":4}"#;
    spark_folder(&case("class"), 4, &[1], &[2], Some(cls.into()));
    assert!(refused(&case("class"))
        .message
        .contains("not a saved ALSModel"));
    for (name, rank) in [
        ("rank0", "0"),
        ("rankbig", "100000000000"),
        ("rankstr", "\"4\""),
    ] {
        let m =
            format!(r#"{{"class":"org.apache.spark.ml.recommendation.ALSModel","rank":{rank}}}"#);
        spark_folder(&case(name), 4, &[1], &[2], Some(m));
        assert!(
            refused(&case(name)).message.contains("rank must be"),
            "{name}"
        );
    }
    spark_folder(&case("json"), 4, &[1], &[2], Some("{not json".into()));
    assert!(refused(&case("json")).message.contains("not JSON"));
    spark_folder(&case("huge"), 4, &[1], &[2], Some(" ".repeat(9 << 20)));
    assert!(refused(&case("huge")).message.contains("larger than"));
    // The metadata's rank differs from the vectors' length.
    let m = crate::interop::spark::metadata_json(3, "u", 1);
    spark_folder(&case("length"), 4, &[1, 2], &[2], Some(m));
    assert!(refused(&case("length")).message.contains("rank 3"));
    // Duplicate ids across part files.
    spark_folder(&case("dup"), 2, &[1, 2, 3, 1], &[2], None);
    assert!(refused(&case("dup")).message.contains("two vectors"));
    // A part file that is not Parquet.
    spark_folder(&case("junk"), 2, &[1], &[2], None);
    std::fs::write(case("junk").join("itemFactors/part-00009"), b"hello").unwrap();
    assert_eq!(refused(&case("junk")).kind, ErrorKind::InvalidData);
    // A part that is a folder or a FIFO.
    spark_folder(&case("dir"), 2, &[1], &[2], None);
    std::fs::create_dir_all(case("dir").join("userFactors/part-00007")).unwrap();
    let _ = refused(&case("dir"));
    // A sidecar that does not match, or lies about the layout.
    let data = dataset(1);
    let model = train(&data, ModelKind::Biased);
    let good = case("good");
    export_spark(&model, &good, false).unwrap();
    let sidecar = std::fs::read_to_string(good.join(SIDECAR)).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&sidecar).unwrap();
    v["k"] = 5.into();
    std::fs::write(good.join(SIDECAR), v.to_string()).unwrap();
    assert!(refused(&good).message.contains("does not match"));
    v["k"] = 3.into();
    v["layout"] = "plain".into();
    std::fs::write(good.join(SIDECAR), v.to_string()).unwrap();
    assert!(refused(&good).message.contains("does not match"));
    v["layout"] = "augmented".into();
    v["mu"] = serde_json::Value::Null;
    std::fs::write(good.join(SIDECAR), v.to_string()).unwrap();
    assert_eq!(refused(&good).kind, ErrorKind::InvalidData);
    // An augmented folder whose constant column is not 1 (a Spark model with a sidecar
    // copied in).
    let fake = case("fake");
    spark_folder(&fake, 5, &[1, 2], &[3], None);
    std::fs::write(fake.join(SIDECAR), &sidecar).unwrap();
    assert!(refused(&fake).message.contains("bias layout"));
    // NaN in a vector.
    let nan = case("nan");
    spark_folder(&nan, 2, &[1], &[2], None);
    let f = std::fs::File::create(nan.join("userFactors/part-00000-x.snappy.parquet")).unwrap();
    write_factors(f, &[1], 2, |_, out| out.extend([f32::NAN, 1.0])).unwrap();
    assert!(refused(&nan).message.contains("NaN"));
}

#[test]
fn mutated_part_files_are_refused_or_import_consistently() {
    let dir = root("mutate");
    spark_folder(&dir, 3, &[4, 1, 2, 8, 6], &[5, 3, 9], None);
    let part = dir.join("userFactors/part-00000-x.snappy.parquet");
    let good = std::fs::read(&part).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    for n in 0..400 {
        let mut b = good.clone();
        if n % 4 == 0 {
            b.truncate(rng.random_range(0..good.len()));
        } else {
            for _ in 0..rng.random_range(1..4) {
                let at = rng.random_range(0..b.len());
                b[at] = rng.random();
            }
        }
        std::fs::write(&part, &b).unwrap();
        match std::panic::catch_unwind(|| import_spark(&dir, &ImportOptions::default())) {
            Ok(Ok((m, _))) => {
                assert_eq!(m.user_factors.len(), m.num_users() * 3);
                assert!(m.user_factors.iter().all(|x| x.is_finite()));
            }
            Ok(Err(e)) => assert!(
                matches!(e.kind, ErrorKind::InvalidData | ErrorKind::Io),
                "{e}"
            ),
            Err(_) => panic!("mutant {n} panicked"),
        }
    }
}

#[test]
fn the_spark_part_exercise_accepts_a_valid_part_and_refuses_junk() {
    use crate::robustness::Verdict;
    let mut good = Vec::new();
    write_factors(&mut good, &[7, 8], 3, |r, out| {
        out.extend([r as f32, 1.0, 2.0])
    })
    .unwrap();
    assert_eq!(
        crate::interop::exercise_spark_part(&good),
        Ok(Verdict::Accepted)
    );
    assert_eq!(
        crate::interop::exercise_spark_part(b"PAR1"),
        Ok(Verdict::Refused)
    );
    assert_eq!(
        crate::interop::exercise_spark_part(b""),
        Ok(Verdict::Refused)
    );
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
    for _ in 0..300 {
        let mut b = good.clone();
        let at = rng.random_range(0..b.len());
        b[at] = rng.random();
        assert!(crate::interop::exercise_spark_part(&b).is_ok());
    }
}
