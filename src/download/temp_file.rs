//! The temp file (`<dest>.temp`): created preallocated to its final size, written at each part's
//! offsets (by `part_writer`, through `direct`), synced, and renamed over the destination.
//!
//! Every operation is relative to the destination's opened directory (`directory::Directory`).
//! A pre-existing temp path that is a symbolic link, a directory or anything but a regular file is
//! never followed nor clobbered: the download fails with a clear `IOError` instead; so does one
//! owned by another user or writable by its group or others (never written into, never trusted).
//! Files are opened with `O_NOFOLLOW` so that a link swapped in meanwhile is refused too.
//!
//! Modes: the temp file is created 0600 and stays so while it holds a partial download. Just
//! before the final rename it gets the destination's mode: the existing destination's permission
//! bits when it is a regular file (re-downloading over a 0600 file leaves it 0600), otherwise
//! `0666 & !umask` like any newly created file. The rename checks first that the temp name still
//! names the file written (device and inode), so that a file swapped in is never put in place.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustix::fs::{Mode, OFlags};

use super::checkpoint::TempIdentity;
use super::direct::FileWriter;
use super::directory::{Directory, FileStat};
use crate::crc64;
use crate::error::{Error, Result};
use crate::log::{self, Level};

/// The temp file of one download.
#[derive(Debug)]
pub struct TempFile {
    dir: Arc<Directory>,
    name: OsString,
    pub path: PathBuf,
    pub file: Arc<File>,
    /// The write path (direct I/O where the file system allows it; see `direct`).
    pub writer: Arc<FileWriter>,
}

/// Why an existing temp file cannot be resumed (for the log).
pub enum NotResumable {
    Missing,
    WrongSize,
    NotDescribed,
}

/// Gives the file its final size with its blocks reserved (fallocate), so that a full disk is
/// reported before any byte is downloaded and writes need no block allocation; falls back to a
/// sparse `set_len` on file systems without fallocate.
fn preallocate(file: &File, size: u64) -> io::Result<()> {
    if size > 0 {
        match rustix::fs::fallocate(file, rustix::fs::FallocateFlags::empty(), 0, size) {
            Ok(()) => return Ok(()),
            Err(e) if e == rustix::io::Errno::NOSPC || e == rustix::io::Errno::FBIG => {
                return Err(e.into())
            }
            Err(_) => {} // EOPNOTSUPP and friends: not supported here
        }
    }
    file.set_len(size)
}

impl TempFile {
    /// A fresh temp file `name` in `dir` of `size` bytes, mode 0600 (an old regular file of ours
    /// there is replaced; anything else is refused).
    pub fn create(
        dir: &Arc<Directory>,
        name: &OsStr,
        size: u64,
        direct_io: bool,
    ) -> Result<TempFile> {
        let path = dir.join(name);
        // Made with O_EXCL first (nothing is there in the common case: one syscall); only when
        // something is there is it inspected (a link or another user's file refused) and an old
        // temp file of ours removed.
        let file = match dir.create_private(name) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                if check_existing(dir, name, &path)?.is_some() {
                    match dir.unlink(name) {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        Err(e) => return Err(Error::io("removing the old temp file", &path, &e)),
                    }
                }
                dir.create_private(name)
                    .map_err(|e| Error::io("creating the temp file", &path, &e))?
            }
            Err(e) => return Err(Error::io("creating the temp file", &path, &e)),
        };
        // A fresh file is empty: nothing to reserve or cut for size 0.
        if size == 0 {
            return Ok(TempFile::with_writer(dir, name, path, file, direct_io));
        }
        if let Err(e) = preallocate(&file, size) {
            dir.unlink_if_same(name, &file);
            return Err(Error::io(
                &format!("reserving {size} bytes of disk space for the temp file"),
                &path,
                &e,
            ));
        }
        Ok(TempFile::with_writer(dir, name, path, file, direct_io))
    }

    fn with_writer(
        dir: &Arc<Directory>,
        name: &OsStr,
        path: PathBuf,
        file: File,
        direct_io: bool,
    ) -> TempFile {
        let file = Arc::new(file);
        let writer = FileWriter::open(dir, name, file.clone(), direct_io);
        if direct_io {
            log::log(Level::Debug, || {
                format!(
                    "temp file '{}': {}",
                    path.display(),
                    if writer.is_direct() {
                        "direct I/O"
                    } else {
                        "the file system refuses direct I/O; writing through the page cache"
                    }
                )
            });
        }
        TempFile {
            writer: Arc::new(writer),
            dir: dir.clone(),
            name: name.to_owned(),
            path,
            file,
        }
    }

    /// The existing temp file when it is a regular file of exactly `size` bytes and is the file
    /// `identity` describes. Refused with an error when it is not ours to trust.
    pub fn open_existing(
        dir: &Arc<Directory>,
        name: &OsStr,
        size: u64,
        identity: &TempIdentity,
        direct_io: bool,
    ) -> Result<std::result::Result<TempFile, NotResumable>> {
        let path = dir.join(name);
        if check_existing(dir, name, &path)?.is_none() {
            return Ok(Err(NotResumable::Missing));
        }
        let file = match dir.open_file(name, OFlags::RDWR, 0) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Err(NotResumable::Missing)),
            Err(e) => return Err(Error::io("opening the temp file", &path, &e)),
        };
        let meta =
            FileStat::of(&file).map_err(|e| Error::io("inspecting the temp file", &path, &e))?;
        if !meta.is_file() {
            return Ok(Err(NotResumable::Missing));
        }
        meta.check_trusted("temp file", &path)?;
        if meta.size != size {
            return Ok(Err(NotResumable::WrongSize));
        }
        if TempIdentity::of(&meta) != *identity {
            return Ok(Err(NotResumable::NotDescribed));
        }
        Ok(Ok(TempFile::with_writer(dir, name, path, file, direct_io)))
    }

    /// The identity a checkpoint records for this file.
    pub fn identity(&self) -> Result<TempIdentity> {
        FileStat::of(&self.file)
            .map(|s| TempIdentity::of(&s))
            .map_err(|e| Error::io("inspecting the temp file", &self.path, &e))
    }

    /// fsyncs the directory holding the temp file, so that its name is durable (best effort).
    pub fn sync_dir(&self) {
        self.dir.sync();
    }

    /// Syncs the file, gives it the destination's mode, checks the temp name still names it,
    /// renames it over `dest_name` (same directory) atomically and syncs the directory. On
    /// failure the file is left in place, mode 0600 again (the caller removes or keeps it).
    /// (The mode is changed after the sync, so that a crash leaves a 0600 temp file but for the
    /// instant between the `fchmod` and the rename.)
    pub fn commit(&self, dest_name: &OsStr) -> Result<()> {
        self.commit_with(dest_name, true, None)
    }

    /// `commit`, with the fsyncs of the file and of the directory only when `sync` (a batch
    /// syncs the file system once for many files, then records them: `Paths::defer_sync`).
    /// `mode`: the mode the file gets when the caller knows it (a batch, which has just looked
    /// at the destination and read the umask once); `None`: the existing destination's, else
    /// 0666 less the umask, both read now.
    pub fn commit_with(&self, dest_name: &OsStr, sync: bool, mode: Option<u32>) -> Result<()> {
        let dest = self.dir.join(dest_name);
        if sync {
            self.file
                .sync_all()
                .map_err(|e| Error::io("syncing the temp file", &self.path, &e))?;
        }
        super::pause_at::at("rename");
        let mode = mode.unwrap_or_else(|| destination_mode(&self.dir, dest_name, None));
        rustix::fs::fchmod(&*self.file, Mode::from_raw_mode(mode))
            .map_err(|e| Error::io("setting the mode of the temp file", &self.path, &e.into()))?;
        let renamed = self.check_still_named().and_then(|()| {
            self.dir.rename(&self.name, dest_name).map_err(|e| {
                Error::rename(format!(
                    "renaming '{}' to '{}' failed: {e}",
                    self.path.display(),
                    dest.display()
                ))
            })
        });
        if renamed.is_err() {
            let _ = rustix::fs::fchmod(&*self.file, Mode::from_raw_mode(0o600));
            return renamed;
        }
        if sync {
            self.dir.sync();
        }
        Ok(())
    }

    /// Fails unless the temp name still names this file (nothing was swapped in).
    fn check_still_named(&self) -> Result<()> {
        let ours = FileStat::of(&self.file)
            .map_err(|e| Error::io("inspecting the temp file", &self.path, &e))?;
        match self.dir.stat(&self.name) {
            Ok(Some(there)) if there.same_file(&ours) => Ok(()),
            _ => Err(Error::rename(format!(
                "the temp file '{}' was removed or replaced by another file during the download; \
                     refusing to put that file in place",
                self.path.display()
            ))),
        }
    }

    /// Removes the temp file if its name still names this file.
    pub fn remove(&self) {
        self.dir.unlink_if_same(&self.name, &self.file);
    }

    /// CRC64 of `len` bytes at `offset`, read back from the file.
    pub fn read_crc(file: &File, offset: u64, len: u64) -> io::Result<u64> {
        let mut buf = vec![0u8; (len.min(1 << 20)) as usize];
        let mut crc = 0;
        let mut done = 0u64;
        while done < len {
            let n = ((len - done) as usize).min(buf.len());
            file.read_exact_at(&mut buf[..n], offset + done)?;
            crc = crc64::update(crc, &buf[..n]);
            done += n as u64;
        }
        Ok(crc)
    }
}

/// Removes the temp file `name` when it is a regular file of ours (never a link target, a
/// directory or another user's file).
pub fn remove_temp(dir: &Directory, name: &OsStr) {
    dir.unlink_if_ours(name);
}

/// Refuses a temp path that is a symbolic link, a directory, another non-regular file, or a file
/// that is not ours to trust; returns its stat when a regular file is there.
pub fn check_existing(dir: &Directory, name: &OsStr, path: &Path) -> Result<Option<FileStat>> {
    let refuse = |what: &str| {
        Err(Error::io_failure(format!(
            "the temp file path '{}' {what}",
            path.display()
        )))
    };
    match dir.stat(name) {
        Ok(None) => Ok(None),
        Ok(Some(m)) if m.is_symlink() => {
            refuse("is a symbolic link; refusing to follow or replace it")
        }
        Ok(Some(m)) if m.is_dir() => refuse("is a directory; refusing to use it"),
        Ok(Some(m)) if !m.is_file() => refuse("exists and is not a regular file"),
        Ok(Some(m)) => {
            m.check_trusted("temp file", path)?;
            Ok(Some(m))
        }
        Err(e) => Err(Error::io("inspecting the temp file", path, &e)),
    }
}

/// The mode of the file put in place at `dest_name`: an existing regular file's permission bits,
/// otherwise `0666 & !umask`.
fn destination_mode(dir: &Directory, dest_name: &OsStr, umask: Option<u32>) -> u32 {
    match dir.stat(dest_name) {
        Ok(Some(s)) if s.is_file() => s.permissions(),
        _ => 0o666 & !umask.unwrap_or_else(self::umask),
    }
}

/// The process's umask, read from `/proc/self/status` (setting it to read it back would race
/// with other threads creating files); 077 when it cannot be read (no `/proc` in a container
/// or a chroot): the files made are then private to their owner rather than, with a guess of
/// 022, more open than a strict umask allows.
pub fn umask() -> u32 {
    umask_from(Path::new("/proc/self/status"))
}

/// The umask that the status file `status` (`/proc/self/status`) gives.
fn umask_from(status: &Path) -> u32 {
    std::fs::read_to_string(status)
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o077)
        & 0o777
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_umask_is_taken_as_the_strictest_for_others() {
        let t = tempfile::tempdir().unwrap();
        let status = t.path().join("status");
        std::fs::write(&status, "Name:\tx\nUmask:\t0027\nState:\tR\n").unwrap();
        assert_eq!(umask_from(&status), 0o027);
        // No /proc (a container or chroot without it): files must not come out more open than
        // the real umask would make them, so group and others get nothing.
        assert_eq!(umask_from(&t.path().join("missing")), 0o077);
        std::fs::write(&status, "Name:\tx\n").unwrap();
        assert_eq!(umask_from(&status), 0o077);
    }
}
