//! The Spark import under arbitrary bytes, shared by `fuzz/` and the mutation tests.
/// What the `spark_part` fuzz target and the mutation tests put a factor part file through:
/// `bytes` as the only user part file of an otherwise valid Spark folder (rank 3). The import
/// refuses it with an input error, or accepts it and the model answers every query finitely.
pub fn exercise_spark_part(
    bytes: &[u8],
) -> std::result::Result<crate::robustness::Verdict, String> {
    use crate::robustness::Verdict;
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "alsrec-spark-part-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let setup = || -> std::io::Result<()> {
        for side in ["metadata", "userFactors", "itemFactors"] {
            std::fs::create_dir_all(dir.join(side))?;
        }
        std::fs::write(
            dir.join("metadata/part-00000"),
            crate::interop::spark::metadata_json(3, "ALS_fuzz", 0),
        )?;
        std::fs::write(dir.join("userFactors/part-00000.parquet"), bytes)?;
        let f = std::fs::File::create(dir.join("itemFactors/part-00000.parquet"))?;
        crate::interop::parquet::write_factors(f, &[1, 2, 3], 3, |r, out| {
            out.extend([r as f32, 0.5, -1.0]);
        })
        .map_err(std::io::Error::other)
    };
    let result = setup()
        .map_err(|e| format!("scratch folder: {e}"))
        .and_then(|()| {
            match crate::interop::spark::import_spark(
                &dir,
                &crate::interop::spark::ImportOptions::default(),
            ) {
                Ok((model, _)) => {
                    crate::robustness::exercise_model(&model).map(|()| Verdict::Accepted)
                }
                Err(e)
                    if matches!(
                        e.kind,
                        crate::ErrorKind::InvalidData | crate::ErrorKind::NotFound
                    ) =>
                {
                    Ok(Verdict::Refused)
                }
                Err(e) => Err(format!("import failed with {:?}: {}", e.kind, e.message)),
            }
        });
    let _ = std::fs::remove_dir_all(&dir);
    result
}
