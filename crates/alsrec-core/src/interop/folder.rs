//! Folder outputs written whole or not at all.
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
