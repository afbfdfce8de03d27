//! An opened directory: every file operation of the downloader on the destination's and the
//! checkpoint's directories goes through its file descriptor (`openat`, `renameat`, `unlinkat`,
//! `statx`), so that a directory component swapped after the request was validated (a link put in
//! place of a directory, a directory renamed) cannot redirect a create, a rename or a removal to
//! another directory.
//!
//! Trust: a file the downloader finds in such a directory and would read or write (a checkpoint, a
//! temp file, a lock file) is trusted only when this process's effective user owns it and neither
//! its group nor others may write it ([`FileStat::check_trusted`]); otherwise the call fails with
//! a clear `IOError`, the file is neither read nor written. (Another local user who can create
//! files in a shared directory such as `/tmp` could otherwise plant a checkpoint or a temp file.)
//! The files the downloader creates are created with mode 0600.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags, StatxFlags};

use crate::error::{Error, Result};

/// What [`Directory::lock_named`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Locked {
    /// Locked, and still the file of that name.
    Held,
    /// Another holder has it locked.
    Busy,
    /// Locked, but the name no longer names it (removed or replaced meanwhile).
    Replaced,
}

/// An open directory and its canonical path (for messages and checkpoint names).
#[derive(Debug)]
pub struct Directory {
    fd: OwnedFd,
    path: PathBuf,
}

/// What the downloader needs to know of a file (`statx`, never following a final link).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStat {
    pub dev: (u32, u32),
    pub ino: u64,
    /// `S_IFMT | permission bits`.
    pub mode: u32,
    pub uid: u32,
    pub size: u64,
    /// Birth time `(seconds, nanoseconds)` when the file system reports one.
    pub btime: Option<(i64, u32)>,
}

const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFLNK: u32 = 0o120_000;

impl FileStat {
    fn from_statx(s: &rustix::fs::Statx) -> FileStat {
        FileStat {
            dev: (s.stx_dev_major, s.stx_dev_minor),
            ino: s.stx_ino,
            mode: u32::from(s.stx_mode),
            uid: s.stx_uid,
            size: s.stx_size,
            btime: (s.stx_mask & StatxFlags::BTIME.bits() != 0)
                .then_some((s.stx_btime.tv_sec, s.stx_btime.tv_nsec)),
        }
    }

    /// The `statx` of an open file.
    pub fn of(file: &File) -> io::Result<FileStat> {
        let s = rustix::fs::statx(file, "", AtFlags::EMPTY_PATH, mask())?;
        Ok(FileStat::from_statx(&s))
    }

    pub fn is_file(&self) -> bool {
        self.mode & S_IFMT == S_IFREG
    }
    pub fn is_dir(&self) -> bool {
        self.mode & S_IFMT == S_IFDIR
    }
    pub fn is_symlink(&self) -> bool {
        self.mode & S_IFMT == S_IFLNK
    }
    /// The permission bits (`0o777`).
    pub fn permissions(&self) -> u32 {
        self.mode & 0o777
    }

    /// Whether two stats are of the same file (device and inode).
    pub fn same_file(&self, other: &FileStat) -> bool {
        self.dev == other.dev && self.ino == other.ino
    }

    /// Whether this process's user owns the file and neither its group nor others may write it.
    pub fn is_trusted(&self) -> bool {
        self.uid == rustix::process::geteuid().as_raw() && self.mode & 0o022 == 0
    }

    /// Refuses a file this process's user does not own, or that its group or others may write:
    /// `what` is "checkpoint", "temp file", ... for the message.
    pub fn check_trusted(&self, what: &str, path: &Path) -> Result<()> {
        if self.is_trusted() {
            return Ok(());
        }
        let me = rustix::process::geteuid().as_raw();
        let why = if self.uid != me {
            format!(
                "it is owned by uid {}, not by this process's user (uid {me})",
                self.uid
            )
        } else {
            format!(
                "its group or other users may write it (mode {:04o})",
                self.permissions()
            )
        };
        Err(Error::io_failure(format!(
            "refusing the existing {what} '{}': {why}; another user could have written it, so it \
                 was neither read nor written. Remove it (or use another directory) and try again",
            path.display()
        )))
    }
}

fn mask() -> StatxFlags {
    StatxFlags::TYPE
        | StatxFlags::MODE
        | StatxFlags::UID
        | StatxFlags::INO
        | StatxFlags::SIZE
        | StatxFlags::BTIME
}

impl Directory {
    /// Opens the directory `path` (following links in it, as the caller wrote it) and names it
    /// by its canonical path; fails if the two do not name the same directory.
    pub fn open(path: &Path) -> io::Result<Directory> {
        let fd = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let canonical = std::fs::canonicalize(path)?;
        Directory::named(fd, canonical)
    }

    /// Opens `components` (plain names) one by one from the current directory without following
    /// any symbolic link: a link or a non-directory among them fails with `ELOOP`/`ENOTDIR`.
    pub fn open_beneath_cwd(components: &[&OsStr]) -> io::Result<Directory> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
        let mut fd = rustix::fs::open(".", flags, Mode::empty())?;
        let mut canonical = std::fs::canonicalize(".")?;
        for c in components {
            fd = rustix::fs::openat(&fd, *c, flags, Mode::empty())?;
            canonical.push(c);
        }
        Directory::named(fd, canonical)
    }

    fn named(fd: OwnedFd, canonical: PathBuf) -> io::Result<Directory> {
        let held = rustix::fs::statx(&fd, "", AtFlags::EMPTY_PATH, mask())?;
        let named = rustix::fs::statx(rustix::fs::CWD, &canonical, AtFlags::empty(), mask())?;
        if !FileStat::from_statx(&held).same_file(&FileStat::from_statx(&named)) {
            return Err(io::Error::other(format!(
                "the directory '{}' was replaced while it was being opened",
                canonical.display()
            )));
        }
        Ok(Directory {
            fd,
            path: canonical,
        })
    }

    /// The directory's canonical path (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path of `name` in this directory (for messages and checkpoint names).
    pub fn join(&self, name: &OsStr) -> PathBuf {
        self.path.join(name)
    }

    /// The stat of `name` (a link is reported as a link); `None` when there is nothing there.
    pub fn stat(&self, name: &OsStr) -> io::Result<Option<FileStat>> {
        match rustix::fs::statx(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW, mask()) {
            Ok(s) => Ok(Some(FileStat::from_statx(&s))),
            Err(e) if e == rustix::io::Errno::NOENT => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Takes an exclusive `flock` on `file` (opened as `name` here, `ours` its stat) without
    /// waiting, then checks that `name` still names it: between the open and the lock another
    /// process may have removed the file or renamed a new one over it, and a lock on a file no
    /// longer named protects nothing (the caller opens the name again).
    pub fn lock_named(&self, name: &OsStr, file: &File, ours: &FileStat) -> io::Result<Locked> {
        match rustix::fs::flock(file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(e) if e == rustix::io::Errno::WOULDBLOCK => return Ok(Locked::Busy),
            Err(e) => return Err(e.into()),
        }
        Ok(match self.stat(name) {
            Ok(Some(there)) if there.same_file(ours) => Locked::Held,
            _ => Locked::Replaced,
        })
    }

    /// Opens `name` with `flags` (`O_NOFOLLOW | O_CLOEXEC` always added); created with `mode`.
    pub fn open_file(&self, name: &OsStr, flags: OFlags, mode: u32) -> io::Result<File> {
        let fd = rustix::fs::openat(
            &self.fd,
            name,
            flags | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(mode),
        )?;
        Ok(File::from(fd))
    }

    /// A new file `name` (`O_EXCL`), mode 0600, readable and writable.
    pub fn create_private(&self, name: &OsStr) -> io::Result<File> {
        self.open_file(name, OFlags::RDWR | OFlags::CREATE | OFlags::EXCL, 0o600)
    }

    /// A new file with no name in this directory (`O_TMPFILE`), mode 0600: nobody can open it,
    /// and a crash leaves nothing. `None` where the file system has no such files (FUSE, NFS,
    /// old kernels: the caller makes a named temp file instead).
    pub fn create_unnamed(&self) -> io::Result<Option<File>> {
        use rustix::io::Errno;
        let flags = OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC;
        match rustix::fs::openat(&self.fd, ".", flags, Mode::from_raw_mode(0o600)) {
            Ok(fd) => Ok(Some(File::from(fd))),
            Err(e) if [Errno::OPNOTSUPP, Errno::ISDIR, Errno::INVAL, Errno::NOSYS].contains(&e) => {
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Gives the unnamed `file` (from [`Directory::create_unnamed`]) the name `to` in this
    /// directory, never replacing anything there (`AlreadyExists` then, a link included: it is
    /// not followed). Through `/proc/self/fd` (no privilege needed); `NotFound` without `/proc`.
    pub fn link_unnamed(&self, file: &File, to: &OsStr) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let proc = format!("/proc/self/fd/{}", file.as_raw_fd());
        rustix::fs::linkat(
            rustix::fs::CWD,
            proc.as_str(),
            &self.fd,
            to,
            AtFlags::SYMLINK_FOLLOW,
        )
        .map_err(Into::into)
    }

    /// Renames `from` to `to`, both in this directory.
    pub fn rename(&self, from: &OsStr, to: &OsStr) -> io::Result<()> {
        rustix::fs::renameat(&self.fd, from, &self.fd, to).map_err(Into::into)
    }

    /// Gives the file `from` the new name `to` (both in this directory) without ever replacing
    /// anything at `to` (`AlreadyExists` then): a hard link, or on file systems without hard
    /// links a rename with `RENAME_NOREPLACE`. `from` may remain (remove it afterwards).
    pub fn link(&self, from: &OsStr, to: &OsStr) -> io::Result<()> {
        use rustix::io::Errno;
        match rustix::fs::linkat(&self.fd, from, &self.fd, to, AtFlags::empty()) {
            Err(e) if [Errno::PERM, Errno::OPNOTSUPP, Errno::NOSYS, Errno::MLINK].contains(&e) => {
                rustix::fs::renameat_with(
                    &self.fd,
                    from,
                    &self.fd,
                    to,
                    rustix::fs::RenameFlags::NOREPLACE,
                )
                .map_err(Into::into)
            }
            r => r.map_err(Into::into),
        }
    }

    /// Removes the name `name` (a link is removed, never followed).
    pub fn unlink(&self, name: &OsStr) -> io::Result<()> {
        rustix::fs::unlinkat(&self.fd, name, AtFlags::empty()).map_err(Into::into)
    }

    /// Removes `name` only if it is still the file `file` (device and inode compared first).
    /// Returns whether it was removed.
    pub fn unlink_if_same(&self, name: &OsStr, file: &File) -> bool {
        let (Ok(ours), Ok(Some(there))) = (FileStat::of(file), self.stat(name)) else {
            return false;
        };
        ours.same_file(&there) && self.unlink(name).is_ok()
    }

    /// Removes `name` if it is a regular file this process's user owns (a leftover of ours);
    /// anything else there is left alone.
    pub fn unlink_if_ours(&self, name: &OsStr) {
        if let Ok(Some(s)) = self.stat(name) {
            if s.is_file() && s.is_trusted() {
                let _ = self.unlink(name);
            }
        }
    }

    /// Opens the directory `name` in this directory without following a link
    /// (`O_DIRECTORY | O_NOFOLLOW`): a link there fails with `ELOOP`, anything else that is not
    /// a directory with `ENOTDIR`. Its path (for messages) is this directory's path joined with
    /// `name`.
    pub fn open_child(&self, name: &OsStr) -> io::Result<Directory> {
        let fd = rustix::fs::openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
            Mode::empty(),
        )?;
        Ok(Directory {
            fd,
            path: self.path.join(name),
        })
    }

    /// Creates the directory `name` in this directory (`mkdirat`, `mode` before the umask);
    /// `AlreadyExists` when anything is there (a link there is not followed).
    pub fn mkdir_child(&self, name: &OsStr, mode: u32) -> io::Result<()> {
        rustix::fs::mkdirat(&self.fd, name, Mode::from_raw_mode(mode)).map_err(Into::into)
    }

    /// A second handle on this directory (a duplicated descriptor).
    pub fn try_clone(&self) -> io::Result<Directory> {
        Ok(Directory {
            fd: self.fd.try_clone()?,
            path: self.path.clone(),
        })
    }

    /// The directory's descriptor (for `fstatfs`, `syncfs`, ...).
    pub fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.fd.as_fd()
    }

    /// fsyncs the directory (best effort: some file systems refuse it).
    pub fn sync(&self) {
        let _ = rustix::fs::fsync(&self.fd);
    }
}

/// `name` with `suffix` appended.
pub fn with_suffix(name: &OsStr, suffix: &str) -> OsString {
    let mut s = name.to_owned();
    s.push(suffix);
    s
}

/// Whether `name` is a plain file name (no `/`, not `.` or `..`, not empty).
pub fn is_plain_name(name: &OsStr) -> bool {
    let b = name.as_bytes();
    !b.is_empty() && b != b"." && b != b".." && !b.contains(&b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_act_on_the_opened_directory_even_after_it_moved() {
        let t = tempfile::tempdir().unwrap();
        let a = t.path().join("a");
        std::fs::create_dir(&a).unwrap();
        let dir = Directory::open(&a).unwrap();
        std::fs::rename(&a, t.path().join("moved")).unwrap();
        std::fs::create_dir(&a).unwrap();
        let f = dir.create_private(OsStr::new("f")).unwrap();
        assert!(t.path().join("moved/f").exists());
        assert!(!a.join("f").exists());
        let s = FileStat::of(&f).unwrap();
        assert_eq!(s.permissions(), 0o600);
        assert!(s.is_file());
        s.check_trusted("file", Path::new("f")).unwrap();
        assert!(dir.unlink_if_same(OsStr::new("f"), &f));
        assert!(!t.path().join("moved/f").exists());
    }

    #[test]
    fn an_unnamed_file_appears_whole_and_never_replaces_what_is_there() {
        use std::io::Write;
        let t = tempfile::tempdir().unwrap();
        let dir = Directory::open(t.path()).unwrap();
        let Some(mut f) = dir.create_unnamed().unwrap() else {
            eprintln!("no O_TMPFILE on this file system: the named temp file serves");
            return;
        };
        f.write_all(b"whole").unwrap();
        assert_eq!(
            std::fs::read_dir(t.path()).unwrap().count(),
            0,
            "nameless until linked"
        );
        assert_eq!(FileStat::of(&f).unwrap().permissions(), 0o600);
        std::fs::write(t.path().join("there"), b"kept").unwrap();
        std::os::unix::fs::symlink(t.path().join("target"), t.path().join("link")).unwrap();
        for taken in ["there", "link"] {
            let e = dir.link_unnamed(&f, OsStr::new(taken)).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::AlreadyExists, "{taken}");
        }
        assert_eq!(std::fs::read(t.path().join("there")).unwrap(), b"kept");
        assert!(
            !t.path().join("target").exists(),
            "the link was not followed"
        );
        dir.link_unnamed(&f, OsStr::new("new")).unwrap();
        assert_eq!(std::fs::read(t.path().join("new")).unwrap(), b"whole");
    }

    #[test]
    fn writable_by_others_is_not_trusted() {
        let t = tempfile::tempdir().unwrap();
        let dir = Directory::open(t.path()).unwrap();
        let f = dir.create_private(OsStr::new("f")).unwrap();
        rustix::fs::fchmod(&f, Mode::from_raw_mode(0o622)).unwrap();
        let e = FileStat::of(&f)
            .unwrap()
            .check_trusted("checkpoint", Path::new("f"))
            .unwrap_err();
        assert_eq!(e.kind, crate::error::ErrorKind::Io);
        assert!(e.message.contains("mode 0622"), "{e}");
    }

    #[test]
    fn links_are_not_followed_beneath_the_working_directory() {
        // Relative to the real current directory: only checks that a missing name fails.
        assert!(Directory::open_beneath_cwd(&[OsStr::new("no-such-dir-oss-ffi-test")]).is_err());
        assert!(is_plain_name(OsStr::new("a.bin")));
        for bad in ["", ".", "..", "a/b"] {
            assert!(!is_plain_name(OsStr::new(bad)), "{bad}");
        }
    }
}
