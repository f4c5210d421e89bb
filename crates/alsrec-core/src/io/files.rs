//! Opening input files that may be hostile: only regular files are read.
use std::fs::File;
use std::path::Path;

use crate::error::{Error, Result};

/// Opens a file for reading, refusing anything but a regular file (a FIFO would block forever,
/// a device could stream without end). The open itself does not block: on Unix it is
/// non-blocking, and the type is checked on the opened handle, so the path cannot be swapped
/// between the check and the read.
pub fn open_regular(path: &Path) -> Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| Error::io(path, &e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, &e))?;
    if meta.is_dir() {
        return Err(Error::invalid_argument(format!(
            "{} is a directory, not a file",
            path.display()
        )));
    }
    if !meta.is_file() {
        return Err(Error::invalid_argument(format!(
            "{} is not a regular file (a pipe, socket or device): alsrec reads files only",
            path.display()
        )));
    }
    Ok(file)
}

/// The whole of a regular file.
pub fn read_regular(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut file = open_regular(path)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, &e))?;
    Ok(bytes)
}

/// Writes through a temporary file in the same directory, then renames it into place, so a
/// reader never sees a half-written file, a failure leaves the old one intact, and of two
/// concurrent writes the last to finish wins whole. Each write has its own temp name
/// (`.<name>.<pid>-<n>.tmp`, created exclusively); temp files left by killed processes are
/// removed by the next write of the same file.
pub fn write_atomic(
    path: &Path,
    body: impl FnOnce(&mut std::io::BufWriter<File>) -> std::io::Result<()>,
) -> Result<()> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .ok_or_else(|| Error::invalid_argument(format!("{} names no file", path.display())))?;
    if path.is_dir() {
        return Err(Error::invalid_argument(format!(
            "{} is a directory; give a file path",
            path.display()
        )));
    }
    remove_stale_temps(dir, &name);
    let pid = std::process::id();
    let tmp = dir.join(format!(
        ".{name}.{pid}-{}.tmp",
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        body(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // The rename is durable once the directory is.
        #[cfg(unix)]
        File::open(dir)?.sync_all()?;
        Ok(())
    })();
    result.map_err(|e: std::io::Error| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, &e)
    })
}

/// Removes `.<name>.<pid>-<n>.tmp` files whose process is gone (a write killed midway).
fn remove_stale_temps(dir: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{name}.");
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().to_string();
        let Some(pid) = file
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(".tmp"))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, n)| n.parse::<u64>().ok().and(pid.parse::<u32>().ok()))
        else {
            continue;
        };
        if !process_alive(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(unix)]
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists (EPERM: it does, as another user).
    unsafe { libc::kill(pid, 0) == 0 || *libc::__errno_location() == libc::EPERM }
}

#[cfg(not(unix))]
fn process_alive(_pid: u32) -> bool {
    true
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn fifos_and_directories_are_refused_without_blocking() {
        let dir = std::env::temp_dir().join(format!("alsrec-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("ratings.csv");
        let _ = std::fs::remove_file(&fifo);
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = open_regular(&fifo).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgument);
        assert!(e.message.contains("not a regular file"), "{}", e.message);
        assert!(open_regular(&dir)
            .unwrap_err()
            .message
            .contains("directory"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn concurrent_atomic_writes_never_tear_and_stale_temps_go() {
        use std::io::Write;
        let dir = std::env::temp_dir().join(format!("alsrec-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("model.alsrec");
        // A temp file of a process that no longer exists, and one of a live process (ours).
        let dead = dir.join(".model.alsrec.999999999-0.tmp");
        let live = dir.join(format!(".model.alsrec.{}-999999.tmp", std::process::id()));
        std::fs::write(&dead, b"half").unwrap();
        std::fs::write(&live, b"busy").unwrap();
        let contents: Vec<Vec<u8>> = (0..8u8).map(|i| vec![i; 200_000 + i as usize]).collect();
        std::thread::scope(|s| {
            for c in &contents {
                let path = &path;
                s.spawn(move || {
                    for _ in 0..10 {
                        write_atomic(path, |w| {
                            for chunk in c.chunks(1000) {
                                w.write_all(chunk)?;
                                w.flush()?;
                            }
                            Ok(())
                        })
                        .unwrap();
                    }
                });
            }
        });
        let last = std::fs::read(&path).unwrap();
        assert!(
            contents.contains(&last),
            "the final file is one whole write"
        );
        assert!(!dead.exists(), "a dead process's temp file is removed");
        assert!(live.exists(), "a live writer's temp file is left alone");
        let leftovers = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(leftovers, 2, "only the file and the live temp remain");
        assert!(write_atomic(&dir, |_| Ok(()))
            .unwrap_err()
            .message
            .contains("directory"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
