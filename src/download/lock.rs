//! The destination lock: two downloads to the same file at once (threads or processes) must not
//! interleave. The lock is an advisory `flock` on `<dest>.temp.lock`, taken without waiting: the
//! second download fails with `Busy` / `FileLocked`.
//!
//! The lock file is removed when the lock is released. To stay correct with that removal (a
//! waiter may have opened the old file just before it was unlinked), a taker checks after locking
//! that the path still names the file it locked, and starts over otherwise.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};

/// Held for the whole download; released (file removed, then unlocked) on drop.
#[derive(Debug)]
pub struct DestinationLock {
    path: PathBuf,
    file: Option<File>,
}

impl DestinationLock {
    /// Takes the lock at `path` or fails at once with `FileLocked` when another download holds it.
    pub fn acquire(path: &Path, dest: &Path) -> Result<DestinationLock> {
        for _ in 0..16 {
            let file = match OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o644)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(path)
            {
                Ok(f) => f,
                Err(e) => return Err(open_error(path, dest, &e)),
            };
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => return Err(busy(dest)),
                Err(TryLockError::Error(e)) => {
                    return Err(Error::io("locking the download lock file", path, &e))
                }
            }
            // Still the file at `path`? (Its previous holder may have removed it meanwhile.)
            let ours = file
                .metadata()
                .map_err(|e| Error::io("inspecting", path, &e))?;
            match std::fs::symlink_metadata(path) {
                Ok(m) if m.dev() == ours.dev() && m.ino() == ours.ino() => {
                    return Ok(DestinationLock {
                        path: path.to_path_buf(),
                        file: Some(file),
                    });
                }
                _ => continue,
            }
        }
        Err(busy(dest))
    }
}

impl Drop for DestinationLock {
    fn drop(&mut self) {
        // Remove first, then unlock by closing: a waiter that opened this file notices the removal.
        let _ = std::fs::remove_file(&self.path);
        drop(self.file.take());
    }
}

fn busy(dest: &Path) -> Error {
    Error::new(
        ErrorKind::Busy,
        "FileLocked",
        format!(
            "another download to '{}' is in progress (its lock file is held)",
            dest.display()
        ),
    )
}

fn open_error(path: &Path, dest: &Path, e: &io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
            Error::validate(format!(
                "The file path '{}' is not writable: cannot create '{}': {e}",
                dest.display(),
                path.display()
            ))
        }
        _ if e.raw_os_error() == Some(libc::ELOOP) => Error::io(
            "refusing to follow a symbolic link at the download lock path",
            path,
            e,
        ),
        _ => Error::io("creating the download lock file", path, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_taker_is_refused_and_lock_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let lock_path = dir.path().join("f.temp.lock");
        let dest = dir.path().join("f");
        let a = DestinationLock::acquire(&lock_path, &dest).unwrap();
        let e = DestinationLock::acquire(&lock_path, &dest).unwrap_err();
        assert_eq!(e.code, "FileLocked");
        assert_eq!(e.kind, ErrorKind::Busy);
        drop(a);
        assert!(!lock_path.exists());
        let _b = DestinationLock::acquire(&lock_path, &dest).unwrap();
    }

    #[test]
    fn a_symlink_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, b"keep").unwrap();
        let lock_path = dir.path().join("f.temp.lock");
        std::os::unix::fs::symlink(&target, &lock_path).unwrap();
        assert!(DestinationLock::acquire(&lock_path, &dir.path().join("f")).is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"keep");
    }
}
