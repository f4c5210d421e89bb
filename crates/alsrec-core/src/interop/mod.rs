//! Interoperation with Apache Spark: Parquet files ([`parquet`]) and Spark MLlib `ALSModel`
//! folders ([`spark`]), both ways. `docs/spark.md` documents the layouts and the mapping of
//! hyperparameters.
pub mod parquet;
pub mod spark;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Writes a folder through a temporary sibling (`.<name>.<pid>-<n>.tmp`), renamed into place
/// when `body` has filled it, so nobody sees a half-written folder and a failure leaves
/// nothing. An existing `dest` is refused unless `replace`; then it is swapped out (renamed
/// aside, the new folder renamed in, the old one removed) only once the new one is complete.
pub fn write_folder_atomic(
    dest: &Path,
    replace: bool,
    body: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .ok_or_else(|| Error::invalid_argument(format!("{} names no folder", dest.display())))?;
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let exists = std::fs::symlink_metadata(dest).is_ok();
    if exists && !replace {
        return Err(Error::invalid_argument(format!(
            "{} exists; add --force (force: true) to replace it",
            dest.display()
        )));
    }
    if exists && !dest.is_dir() {
        return Err(Error::invalid_argument(format!(
            "{} exists and is not a folder; alsrec replaces only a folder",
            dest.display()
        )));
    }
    std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, &e))?;
    let tag = format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let tmp = parent.join(format!(".{name}.{tag}.tmp"));
    std::fs::create_dir(&tmp).map_err(|e| Error::io(&tmp, &e))?;
    let result = body(&tmp).and_then(|()| {
        if exists {
            let old = parent.join(format!(".{name}.{tag}.old"));
            std::fs::rename(dest, &old).map_err(|e| Error::io(dest, &e))?;
            if let Err(e) = std::fs::rename(&tmp, dest) {
                let _ = std::fs::rename(&old, dest);
                return Err(Error::io(dest, &e));
            }
            let _ = std::fs::remove_dir_all(&old);
            Ok(())
        } else {
            std::fs::rename(&tmp, dest).map_err(|e| Error::io(dest, &e))
        }
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_appears_whole_and_is_replaced_only_when_asked() {
        let root = std::env::temp_dir().join(format!("alsrec-folder-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let dest = root.join("model");
        write_folder_atomic(&dest, false, |d| {
            std::fs::write(d.join("a"), b"1").map_err(|e| Error::io(d, &e))
        })
        .unwrap();
        assert_eq!(std::fs::read(dest.join("a")).unwrap(), b"1");
        let e = write_folder_atomic(&dest, false, |_| Ok(())).unwrap_err();
        assert!(e.message.contains("exists"), "{e}");
        // A failing body leaves the old folder and no temp folder.
        let e = write_folder_atomic(&dest, true, |_| Err(Error::invalid_data("boom"))).unwrap_err();
        assert_eq!(e.message, "boom");
        assert_eq!(std::fs::read(dest.join("a")).unwrap(), b"1");
        write_folder_atomic(&dest, true, |d| {
            std::fs::write(d.join("b"), b"2").map_err(|e| Error::io(d, &e))
        })
        .unwrap();
        assert!(!dest.join("a").exists());
        let left: Vec<_> = std::fs::read_dir(&root).unwrap().flatten().collect();
        assert_eq!(left.len(), 1, "{left:?}");
        std::fs::remove_dir_all(&root).unwrap();
    }
}

#[cfg(test)]
mod spark_tests;

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
            spark::metadata_json(3, "ALS_fuzz", 0),
        )?;
        std::fs::write(dir.join("userFactors/part-00000.parquet"), bytes)?;
        let f = std::fs::File::create(dir.join("itemFactors/part-00000.parquet"))?;
        parquet::write_factors(f, &[1, 2, 3], 3, |r, out| {
            out.extend([r as f32, 0.5, -1.0]);
        })
        .map_err(std::io::Error::other)
    };
    let result = setup()
        .map_err(|e| format!("scratch folder: {e}"))
        .and_then(
            |()| match spark::import_spark(&dir, &spark::ImportOptions::default()) {
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
            },
        );
    let _ = std::fs::remove_dir_all(&dir);
    result
}
