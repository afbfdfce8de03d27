//! The destination lock: two downloads to the same file at once (threads or processes; resumable
//! downloads and GetObject to a file alike) must not interleave. The lock is an advisory `flock`
//! on `<dest>.temp.lock`, taken without waiting: the second download fails with `Busy` /
//! `FileLocked`.
//!
//! The lock file is created 0600 in the destination's opened directory; an existing one owned by
//! another user or writable by its group or others is refused with an `IOError` (it is never
//! written; another user's lock is never removed). The lock file is removed when the lock is
//! released, relative to the directory opened at the start and only if that name still names the
//! file locked (device and inode compared), so a directory component swapped meanwhile cannot make
//! it remove another file. To stay correct with that removal (a waiter may have opened the old
//! file just before it was unlinked), a taker checks after locking that the name still names the
//! file it locked, and starts over otherwise.

use std::ffi::{OsStr, OsString};
use std::fs::{File, TryLockError};
use std::io;
use std::path::Path;
use std::sync::Arc;

use rustix::fs::OFlags;

use super::directory::{Directory, FileStat, Locked};
use crate::error::{Error, Result};

/// Held for the whole download; released (file removed, then unlocked) on drop.
#[derive(Debug)]
pub struct DestinationLock {
    dir: Arc<Directory>,
    name: OsString,
    file: Option<File>,
}

impl DestinationLock {
    /// Takes the lock `name` in `dir` or fails at once with `FileLocked` when another download
    /// holds it.
    pub fn acquire(dir: &Arc<Directory>, name: &OsStr, dest: &Path) -> Result<DestinationLock> {
        let path = dir.join(name);
        for _ in 0..16 {
            if let Ok(Some(s)) = dir.stat(name) {
                if s.is_file() {
                    s.check_trusted("download lock file", &path)?;
                }
            }
            let file = match dir.open_file(name, OFlags::RDWR | OFlags::CREATE, 0o600) {
                Ok(f) => f,
                Err(e) => return Err(open_error(&path, dest, &e)),
            };
            let ours = FileStat::of(&file).map_err(|e| Error::io("inspecting", &path, &e))?;
            if !ours.is_file() {
                return Err(Error::io_failure(format!(
                    "the download lock path '{}' is not a regular file",
                    path.display()
                )));
            }
            ours.check_trusted("download lock file", &path)?;
            // Still the file named so once locked? (Its previous holder may have removed it.)
            match dir.lock_named(name, &file, &ours) {
                Ok(Locked::Held) => {
                    return Ok(DestinationLock {
                        dir: dir.clone(),
                        name: name.to_owned(),
                        file: Some(file),
                    });
                }
                Ok(Locked::Busy) => return Err(busy(dest)),
                Ok(Locked::Replaced) => continue,
                Err(e) => return Err(Error::io("locking the download lock file", &path, &e)),
            }
        }
        Err(busy(dest))
    }
}

/// For a batch's small object, instead of taking the lock (a lock file made and removed per
/// object costs the file system two inode operations, most of a small object's local cost):
/// fails with `FileLocked` when another download holds the lock `name` of `dest`, removes a lock
/// file left by a process that died (unlocked, ours), and creates nothing. Two runs of one batch
/// are kept apart by the batch journal's own lock; a single download starting to the same file
/// meanwhile replaces the batch's temp file, whose rename then fails its check
/// (`TempFile::commit`): one of the two fails, bytes are never mixed.
pub fn check_free(dir: &Arc<Directory>, name: &OsStr, dest: &Path) -> Result<()> {
    let path = dir.join(name);
    match dir.stat(name) {
        Ok(None) => return Ok(()),
        Ok(Some(s)) if !s.is_file() => {
            return Err(Error::io_failure(format!(
                "the download lock path '{}' is not a regular file",
                path.display()
            )))
        }
        Ok(Some(s)) => s.check_trusted("download lock file", &path)?,
        Err(e) => return Err(Error::io("inspecting", &path, &e)),
    }
    let file = match dir.open_file(name, OFlags::RDWR, 0) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(open_error(&path, dest, &e)),
    };
    match file.try_lock() {
        // Left by a process that died: removed (only if the name still names it).
        Ok(()) => {
            dir.unlink_if_same(name, &file);
            Ok(())
        }
        Err(TryLockError::WouldBlock) => Err(busy(dest)),
        Err(TryLockError::Error(e)) => Err(Error::io("locking the download lock file", &path, &e)),
    }
}

impl DestinationLock {
    /// Whether `other` is the lock file this lock holds (device and inode).
    pub fn is_file(&self, other: &FileStat) -> bool {
        self.file
            .as_ref()
            .and_then(|f| FileStat::of(f).ok())
            .is_some_and(|ours| ours.same_file(other))
    }
}

impl Drop for DestinationLock {
    fn drop(&mut self) {
        // Remove first, then unlock by closing: a waiter that opened this file notices the removal.
        if let Some(f) = &self.file {
            self.dir.unlink_if_same(&self.name, f);
        }
        drop(self.file.take());
    }
}

fn busy(dest: &Path) -> Error {
    Error::file_locked(format!(
        "another download to '{}' is in progress (its lock file is held)",
        dest.display()
    ))
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

    const LOCK: &str = "f.temp.lock";

    #[test]
    fn second_taker_is_refused_and_lock_is_released() {
        let t = tempfile::tempdir().unwrap();
        let dir = Arc::new(Directory::open(t.path()).unwrap());
        let lock_path = t.path().join(LOCK);
        let dest = t.path().join("f");
        let a = DestinationLock::acquire(&dir, OsStr::new(LOCK), &dest).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&lock_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let e = DestinationLock::acquire(&dir, OsStr::new(LOCK), &dest).unwrap_err();
        assert_eq!(e.code, "FileLocked");
        assert_eq!(e.kind, crate::error::ErrorKind::Busy);
        drop(a);
        assert!(!lock_path.exists());
        let _b = DestinationLock::acquire(&dir, OsStr::new(LOCK), &dest).unwrap();
    }

    #[test]
    fn a_free_check_refuses_a_held_lock_and_removes_a_stale_one() {
        let t = tempfile::tempdir().unwrap();
        let dir = Arc::new(Directory::open(t.path()).unwrap());
        let (lock, dest) = (OsStr::new(LOCK), t.path().join("f"));
        check_free(&dir, lock, &dest).unwrap();
        assert!(!t.path().join(LOCK).exists(), "nothing created");
        let a = DestinationLock::acquire(&dir, lock, &dest).unwrap();
        assert_eq!(
            check_free(&dir, lock, &dest).unwrap_err().code,
            "FileLocked"
        );
        drop(a);
        std::fs::write(t.path().join(LOCK), b"").unwrap();
        use std::os::unix::fs::PermissionsExt;
        let stale = std::fs::Permissions::from_mode(0o600);
        std::fs::set_permissions(t.path().join(LOCK), stale).unwrap();
        check_free(&dir, lock, &dest).unwrap();
        assert!(
            !t.path().join(LOCK).exists(),
            "a stale lock file is removed"
        );
    }

    #[test]
    fn a_symlink_is_not_followed() {
        let t = tempfile::tempdir().unwrap();
        let dir = Arc::new(Directory::open(t.path()).unwrap());
        let target = t.path().join("target");
        std::fs::write(&target, b"keep").unwrap();
        std::os::unix::fs::symlink(&target, t.path().join(LOCK)).unwrap();
        assert!(DestinationLock::acquire(&dir, OsStr::new(LOCK), &t.path().join("f")).is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"keep");
    }

    #[test]
    fn release_removes_only_the_file_locked() {
        let t = tempfile::tempdir().unwrap();
        let dir = Arc::new(Directory::open(t.path()).unwrap());
        let lock_path = t.path().join(LOCK);
        let a = DestinationLock::acquire(&dir, OsStr::new(LOCK), &t.path().join("f")).unwrap();
        // Another file takes the lock's name meanwhile: releasing must not remove it.
        std::fs::rename(&lock_path, t.path().join("moved")).unwrap();
        std::fs::write(&lock_path, b"someone else's").unwrap();
        drop(a);
        assert_eq!(std::fs::read(&lock_path).unwrap(), b"someone else's");
    }
}
